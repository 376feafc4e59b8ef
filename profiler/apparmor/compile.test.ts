// Every AppArmor profile these tests generate goes through the real apparmor_parser (-Q -K:
// syntax and semantics, no kernel needed): each mode, each audit/allow combination, each
// built-in rule, targets, raw rules and models. Content checks say what each profile must hold.

import { describe, expect, it } from '@jest/globals';
import type { ArmorProfileModel, EnhanceProtect, Policy } from '../api/types.js';
import type { CompileInput } from '../compiled.js';
import { BUILTIN_RULES } from '../rules/catalogue.js';
import { ProfileCompileError } from '../rules/errors.js';
import { isUnsupported } from '../rules/types.js';
import { compileAppArmor } from './compile.js';
import { checkProfiles, parserUnavailable } from './testdata/parser.js';

const NAME = 'varmor-shop-web';

function input(policy: Policy, model?: ArmorProfileModel): CompileInput {
  return { profileName: NAME, bpfPolicyId: 1, mode: policy.mode as CompileInput['mode'], enforcers: ['AppArmor'], policy, model };
}

const ep = (enhanceProtect: EnhanceProtect): string =>
  compileAppArmor(input({ enforcer: 'AppArmor', mode: 'EnhanceProtect', enhanceProtect })).profile;

const SWITCHES = [
  { auditViolations: false, allowViolations: false, q: 'deny ' },
  { auditViolations: true, allowViolations: false, q: 'audit deny ' },
  { auditViolations: true, allowViolations: true, q: 'audit ' },
  { auditViolations: false, allowViolations: true, q: '' },
];

const MODEL: ArmorProfileModel = {
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'ArmorProfileModel',
  metadata: { name: NAME, namespace: 'shop' },
  data: {
    dynamicResult: {
      appArmor: {
        executions: ['/usr/sbin/nginx', '/bin/busybox'],
        files: [
          { path: '/etc/nginx/nginx.conf', permissions: ['r'] },
          { path: '/var/log/nginx/access.log', permissions: ['w', 'a'] },
          { path: '/var/cache/nginx/{tmp}*', permissions: ['read', 'write', 'lock'] },
          { path: '/srv/my files/index.html', permissions: ['read'] },
          { path: '/usr/lib/x86_64-linux-gnu/libc.so.6', permissions: ['r', 'm'] },
        ],
        capabilities: ['CAP_NET_BIND_SERVICE', 'setuid', 'setgid'],
        network: [{ domain: 'inet', type: 'stream', protocol: 'tcp' }],
        ptrace: [{ permissions: ['read'], peer: NAME }],
      },
    },
  },
};

describe('AppArmor profiles', () => {
  const missing = parserUnavailable();

  /** All generated profiles go here and are checked by the parser in the last test. */
  const generated: { label: string; text: string }[] = [];
  const keep = (label: string, text: string): string => {
    generated.push({ label, text });
    return text;
  };

  it('every profile starts with the abi, the tunables and a named profile with our flags', () => {
    for (const mode of ['AlwaysAllow', 'RuntimeDefault', 'BehaviorModeling'] as const) {
      const out = compileAppArmor(input({ enforcer: 'AppArmor', mode }));
      keep(mode, out.profile);
      expect(out.profile.startsWith('abi <abi/3.0>,\n\n#include <tunables/global>\n\n')).toBe(true);
      expect(out.profile).toMatch(new RegExp(`^profile ${NAME} flags=\\(attach_disconnected,mediate_deleted(,complain)?\\) \\{$`, 'm'));
      expect(out.complain).toBe(mode === 'BehaviorModeling');
    }
  });

  it('RuntimeDefault is containerd\'s profile: denies /proc and /sys writes, mounts, kcore', () => {
    const p = compileAppArmor(input({ enforcer: 'AppArmor', mode: 'RuntimeDefault' })).profile;
    for (const line of ['deny mount,', 'deny @{PROC}/kcore rwklx,', 'deny /sys/firmware/** rwklx,', 'deny @{PROC}/sys/[^k]** w,', 'file,', 'umount,', `ptrace (trace,tracedby,read,readby) peer=${NAME},`]) {
      expect(p).toContain(`  ${line}\n`);
    }
  });

  it('EnhanceProtect: the baseline denies and every built-in rule follow the audit/allow qualifier', () => {
    for (const s of SWITCHES) {
      const p = keep(`switches ${s.q || 'none'}`, ep({ ...s, hardeningRules: ['disallow-mount', 'disable-cap-net-raw'], attackProtectionRules: [{ rules: ['disable-shell'] }] }));
      expect(p).toContain(`  ${s.q}mount,\n`);
      expect(p).toContain(`  ${s.q}capability net_raw,\n`);
      expect(p).toContain(`  ${s.q}@{PROC}/kcore rwkl${s.allowViolations ? 'ix' : 'x'},\n`);
      expect(p).toContain(`  ${s.q}/**/bash ${s.allowViolations ? 'rix' : 'rx'},\n`);
    }
  });

  it('each built-in rule with an AppArmor implementation, in each audit/allow combination', () => {
    // One profile per rule and combination on the allow-all base (cheap to parse), and per
    // combination one profile with every rule on the RuntimeDefault base (the expensive DFA).
    const rules = BUILTIN_RULES.filter((r) => !isUnsupported(r.appArmor));
    for (const s of SWITCHES) {
      const { q: _q, ...sw } = s;
      for (const rule of rules) {
        const p = keep(`${rule.name} ${JSON.stringify(sw)}`, ep({ ...sw, privileged: true, hardeningRules: [rule.name] }));
        if (isUnsupported(rule.appArmor)) throw new Error('unreachable');
        for (const l of rule.appArmor.lines(s.q, s.allowViolations)) expect(p).toContain(`  ${l}\n`);
      }
      const all = keep(`all rules ${JSON.stringify(sw)}`, ep({ ...sw, hardeningRules: rules.map((r) => r.name) }));
      for (const rule of rules) {
        if (isUnsupported(rule.appArmor)) continue;
        for (const l of rule.appArmor.lines(s.q, s.allowViolations)) expect(all).toContain(`  ${l}\n`);
      }
    }
    expect(generated.filter((g) => g.label.startsWith('all rules'))).toHaveLength(4);
  });

  it('privileged builds on allow-all rules instead of the RuntimeDefault baseline', () => {
    const p = ep({ privileged: true, hardeningRules: ['disallow-mount'] });
    expect(p).toContain('  mount,\n');
    expect(p).toContain('  deny mount,\n');
    expect(p).not.toContain('@{PROC}/kcore');
  });

  it('targets become child profiles entered with cx, carrying the baseline, the global rules and their own', () => {
    const p = keep(
      'targets',
      ep({
        auditViolations: true,
        hardeningRules: ['disallow-write-core-pattern'],
        attackProtectionRules: [
          { rules: ['disable-write-etc'], targets: ['/usr/bin/python3', '/opt/my app/run'] },
          { rules: ['mitigate-sa-leak'], targets: ['/usr/bin/python3'] },
          { rules: ['disable-wget'] },
        ],
        appArmorRawRules: [{ rules: 'deny /tmp/** x,', targets: ['/usr/bin/node'] }, { rules: 'deny /data/** w,\n  audit /data/log r,' }],
      }),
    );
    expect(p).toContain('  "/opt/my app/run" cx -> child_0,\n');
    expect(p).toContain('  /usr/bin/python3 cx -> child_0,\n');
    expect(p).toContain('  /usr/bin/python3 cx -> child_0,\n');
    expect(p).toContain('  /usr/bin/node cx -> child_2,\n');
    const child0 = p.slice(p.indexOf('profile child_0'), p.indexOf('profile child_1'));
    expect(child0).toContain('audit deny /etc/** wl,');
    expect(child0).toContain('audit deny /run/secrets/kubernetes.io/serviceaccount/** r,'); // python3's second group merged in
    expect(child0).toContain('audit deny /proc/sys/kernel/core_pattern w,'); // global rule kept in the child
    expect(child0).toContain('audit deny @{PROC}/kcore rwklx,'); // baseline
    expect(child0).toContain(`signal (send,receive) peer=${NAME},`);
    // python3 is in two groups: one transition only, the second group has no own target left
    expect(p.match(/python3 cx/g)).toHaveLength(1);
    expect(p).not.toContain('profile child_1 ');
    // the parent keeps only untargeted rules
    const parent = p.slice(0, p.indexOf('profile child_0'));
    expect(parent).not.toContain('/etc/** wl');
    expect(parent).toContain('audit deny /**/wget rx,');
    expect(parent).toContain('deny /data/** w,');
    expect(parent).toContain('audit /data/log r,');
    expect(parent).toContain(`signal (send,receive) peer=${NAME}//child_0,`);
  });

  it('targets with allowViolations (ix exec modes beside cx transitions) parse', () => {
    for (const s of SWITCHES) {
      const { q: _q, ...sw } = s;
      keep(`targets ${JSON.stringify(sw)}`, ep({ ...sw, attackProtectionRules: [{ rules: ['disable-shell', 'disable-write-etc'], targets: ['/bin/sh', '/usr/local/bin/app'] }, { rules: ['disable-curl'] }] }));
    }
  });

  it('BehaviorModeling is an empty profile in complain mode', () => {
    const out = compileAppArmor(input({ enforcer: 'AppArmor', mode: 'BehaviorModeling', modelingOptions: { duration: 30 } }));
    expect(out.complain).toBe(true);
    expect(out.profile).toContain('flags=(attach_disconnected,mediate_deleted,complain) {\n}\n');
  });

  it('DefenseInDepth from the model: only what was recorded, paths escaped and quoted, raw rules on top', () => {
    const policy: Policy = {
      enforcer: 'AppArmor',
      mode: 'DefenseInDepth',
      defenseInDepth: { appArmor: { profileType: 'BehaviorModel', appArmorRawRules: [{ rules: 'deny /proc/kcore r,' }, { rules: '/bin/busybox rix,', targets: ['/usr/sbin/nginx'] }] } },
    };
    const out = compileAppArmor(input(policy, MODEL));
    keep('did-model', out.profile);
    expect(out.complain).toBe(false);
    expect(out.profile).toContain('  #include <abstractions/base>\n');
    expect(out.profile).toContain('  /usr/sbin/nginx cx -> child_0,\n');
    expect(out.profile).toContain('  /bin/busybox rix,\n');
    expect(out.profile).toContain('  /var/log/nginx/access.log w,\n');
    expect(out.profile).toContain('  /var/cache/nginx/\\{tmp\\}\\* rwk,\n');
    expect(out.profile).toContain('  "/srv/my files/index.html" r,\n');
    expect(out.profile).toContain('  /usr/lib/x86_64-linux-gnu/libc.so.6 mr,\n');
    expect(out.profile).toContain('  capability net_bind_service,\n');
    expect(out.profile).toContain('  network,\n');
    expect(out.profile).toContain('  deny /proc/kcore r,\n');
    expect(out.profile).not.toContain('  file,\n');
    const withAllow = compileAppArmor(input({ ...policy, defenseInDepth: { ...policy.defenseInDepth, allowViolations: true } }, MODEL));
    keep('did-model-allow', withAllow.profile);
    expect(withAllow.complain).toBe(true);
    expect(withAllow.profile).toContain('mediate_deleted,complain)');
  });

  it('DefenseInDepth with a custom profile: rules or a whole profile, under our name', () => {
    const rules = compileAppArmor(input({ enforcer: 'AppArmor', mode: 'DefenseInDepth', defenseInDepth: { appArmor: { profileType: 'Custom', customProfile: 'file,\nnetwork inet tcp,\ndeny /etc/shadow r,' } } }));
    keep('did-custom-rules', rules.profile);
    expect(rules.profile).toContain('  network inet tcp,\n');
    const whole = compileAppArmor(
      input({
        enforcer: 'AppArmor',
        mode: 'DefenseInDepth',
        defenseInDepth: { appArmor: { profileType: 'Custom', customProfile: '#include <tunables/global>\nprofile mine flags=(attach_disconnected) {\n  file,\n  capability chown,\n}\n' } },
      }),
    );
    keep('did-custom-whole', whole.profile);
    expect(whole.profile).toContain(`profile ${NAME} flags=`);
    expect(whole.profile).not.toContain('profile mine');
    expect(whole.profile).toContain('  capability chown,\n');
  });

  it('DefenseInDepth from a model that does not exist yet is an error naming the field', () => {
    const policy: Policy = { enforcer: 'AppArmor', mode: 'DefenseInDepth', defenseInDepth: { appArmor: { profileType: 'BehaviorModel' } } };
    expect(() => compileAppArmor(input(policy))).toThrow(ProfileCompileError);
    try {
      compileAppArmor(input(policy));
    } catch (e) {
      expect((e as ProfileCompileError).code).toBe('VARMOR_ERR_COMPILE_MODEL_REQUIRED');
      expect((e as ProfileCompileError).path).toBe('spec.policy.defenseInDepth.appArmor.profileType');
    }
  });

  it('output is deterministic', () => {
    const a = ep({ hardeningRules: ['disable-cap-all', 'disallow-mount'], attackProtectionRules: [{ rules: ['disable-shell'], targets: ['/b', '/a'] }] });
    const b = ep({ hardeningRules: ['disable-cap-all', 'disallow-mount'], attackProtectionRules: [{ rules: ['disable-shell'], targets: ['/a', '/b'] }] });
    expect(a).toBe(b);
  });

  it('the parser accepts every profile generated above', () => {
    if (missing) throw new Error(`apparmor_parser is required: ${missing}`);
    expect(generated.length).toBeGreaterThan(300);
    expect(checkProfiles(generated)).toEqual([]);
  });

  it('the parser check can fail (a broken profile is reported)', () => {
    if (missing) throw new Error(`apparmor_parser is required: ${missing}`);
    const bad = ep({ appArmorRawRules: [{ rules: 'capability not_a_cap,' }] });
    const failures = checkProfiles([{ label: 'bad', text: bad }]);
    expect(failures).toHaveLength(1);
    expect(failures[0].error).toMatch(/Invalid capability not_a_cap/);
  });
});
