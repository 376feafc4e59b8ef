import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyPolicy } from '../api/types.js';
import { parseDocuments } from '../yaml.js';
import { ENFORCER_STRINGS, parseEnforcers, validateObject, validatePolicy, validatePolicyUpdate } from './index.js';

const ROOT = join(import.meta.dirname ?? __dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples', 'policies');
const INVALID = join(ROOT, 'profiler', 'testdata', 'invalid');

function examples(): AnyPolicy[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseDocuments(readFileSync(join(EXAMPLES, f), 'utf8')) as AnyPolicy[]);
}

function base(): AnyPolicy {
  return {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'p', namespace: 'ns' },
    spec: { target: { kind: 'Deployment', name: 'web' }, policy: { enforcer: 'AppArmor', mode: 'RuntimeDefault' } },
  };
}

const codes = (r: ReturnType<typeof validatePolicy>): string[] => (r.ok ? [] : r.errors.map((e) => `${e.path} ${e.code}`).sort());

describe('the reference examples', () => {
  it('all six validate, with their enforcers and modes', () => {
    const got = examples().map((p) => {
      const r = validatePolicy(p);
      if (!r.ok) throw new Error(`${p.metadata.name}: ${JSON.stringify(r.errors)}`);
      return `${p.metadata.name} ${r.enforcers.join('+')} ${r.mode}`;
    });
    expect(got).toEqual([
      'web-hardening AppArmor+BPF+Seccomp EnhanceProtect',
      'api-bpf BPF EnhanceProtect',
      'worker-seccomp Seccomp EnhanceProtect',
      'agents-default AppArmor RuntimeDefault',
      'web-model AppArmor+Seccomp BehaviorModeling',
      'web-did AppArmor+Seccomp DefenseInDepth',
    ]);
  });
});

describe('malformed policies in profiler/testdata/invalid', () => {
  const files = readdirSync(INVALID).filter((f) => f.endsWith('.yaml')).sort();
  it('has at least ten', () => expect(files.length).toBeGreaterThanOrEqual(10));
  it.each(files)('%s is refused with exactly the expected field paths', (file) => {
    const text = readFileSync(join(INVALID, file), 'utf8');
    const expected = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1].trim()).sort();
    expect(expected.length).toBeGreaterThan(0);
    const [doc] = parseDocuments(text);
    const r = validatePolicy(doc);
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(expected);
    if (!r.ok) for (const e of r.errors) expect(e.message.length).toBeGreaterThan(10);
  });
});

describe('enforcers', () => {
  it('accepts the seven canonical spellings and nothing else', () => {
    expect([...ENFORCER_STRINGS].sort()).toEqual(
      ['AppArmor', 'AppArmorBPF', 'AppArmorBPFSeccomp', 'AppArmorSeccomp', 'BPF', 'BPFSeccomp', 'Seccomp'].sort(),
    );
    expect(parseEnforcers('AppArmorBPFSeccomp')).toEqual(['AppArmor', 'BPF', 'Seccomp']);
    expect(parseEnforcers('BPFSeccomp')).toEqual(['BPF', 'Seccomp']);
    for (const bad of ['', 'apparmor', 'SeccompBPF', 'AppArmorAppArmor', 'NetworkProxy', 'BPFNetworkProxy', 'AppArmor BPF']) {
      expect(parseEnforcers(bad)).toBeNull();
    }
  });

  it('explains the canonical order and NetworkProxy', () => {
    const p = base();
    p.spec.policy.enforcer = 'SeccompBPF';
    const r = validatePolicy(p);
    expect(!r.ok && r.errors[0].message).toContain('write "BPFSeccomp"');
    p.spec.policy.enforcer = 'NetworkProxy';
    const r2 = validatePolicy(p);
    expect(!r2.ok && r2.errors[0].message).toContain('sidecar-free');
  });

  it('every mode works with every enforcer set, except DefenseInDepth with BPF', () => {
    const modes = ['AlwaysAllow', 'RuntimeDefault', 'EnhanceProtect', 'BehaviorModeling', 'DefenseInDepth'];
    const outcome: string[] = [];
    for (const enforcer of ENFORCER_STRINGS) {
      for (const mode of modes) {
        const p = base();
        p.spec.policy = { enforcer, mode, enhanceProtect: {}, modelingOptions: { duration: 5 } };
        if (mode === 'DefenseInDepth') {
          p.spec.policy.defenseInDepth = { appArmor: { profileType: 'BehaviorModel' }, seccomp: { profileType: 'BehaviorModel' } };
        }
        const r = validatePolicy(p);
        if (!r.ok) outcome.push(`${enforcer}/${mode}: ${codes(r).join(',')}`);
      }
    }
    expect(outcome.sort()).toEqual(
      ['AppArmorBPF', 'AppArmorBPFSeccomp', 'BPF', 'BPFSeccomp'].map((e) => `${e}/DefenseInDepth: spec.policy.mode mode-not-supported`).sort(),
    );
  });
});

describe('validation', () => {
  it('collects every error instead of stopping at the first', () => {
    const p = base() as unknown as Record<string, unknown>;
    p.spec = {
      target: { kind: 'CronJob', name: 'x', selector: { matchLabels: { a: 'b' } } },
      policy: { enforcer: 'Firewall', mode: 'EnhanceProtect', enhanceProtect: { hardeningRules: ['nope'], syscallRawRules: [{ names: ['bogus'], action: 'SCMP_ACT_ERRNO' }] } },
    };
    expect(codes(validatePolicy(p))).toEqual(
      [
        'spec.target.kind enum',
        'spec.target conflict',
        'spec.policy.enforcer invalid-enforcer',
        'spec.policy.enhanceProtect.hardeningRules[0] unknown-rule',
        'spec.policy.enhanceProtect.syscallRawRules[0].names[0] unknown-syscall',
      ].sort(),
    );
  });

  it('a syscall name libseccomp does not know is refused (vArmor passes it on; runc would ignore it), with the known spelling when there is one', () => {
    const p = base();
    p.spec.policy = { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { syscallRawRules: [{ names: ['sysctl', 'ptrce'], action: 'SCMP_ACT_ERRNO' }] } };
    const r = validatePolicy(p);
    expect(r.ok).toBe(false);
    const errs = r.ok ? [] : r.errors;
    expect(errs.map((e) => e.path)).toEqual(['spec.policy.enhanceProtect.syscallRawRules[0].names[0]', 'spec.policy.enhanceProtect.syscallRawRules[0].names[1]']);
    expect(errs[0].message).toContain('libseccomp names it "_sysctl"');
    expect(errs[1].message).not.toContain('names it');
    p.spec.policy.enhanceProtect!.syscallRawRules![0].names = ['_sysctl'];
    expect(validatePolicy(p).ok).toBe(true);
  });

  it('refuses non-policies with the field that is wrong', () => {
    expect(codes(validatePolicy(null))).toEqual([' type']);
    expect(codes(validatePolicy({ ...base(), apiVersion: 'crd.varmor.org/v1alpha1' }))).toEqual(['apiVersion invalid-api-version']);
    expect(codes(validatePolicy({ ...base(), kind: 'Deployment' }))).toEqual(['kind invalid-kind']);
  });

  it('rule names follow vArmor spelling rules and aliases; disable-cap-<cap> covers every capability', () => {
    const p = base();
    p.spec.policy = {
      enforcer: 'AppArmorBPF',
      mode: 'EnhanceProtect',
      enhanceProtect: {
        hardeningRules: ['DISALLOW_MOUNT', 'disable-cap-net-raw', 'disable_cap_sys_admin', 'disallow-load-ebpf'],
        attackProtectionRules: [{ rules: ['disable-ipv4', 'disallow-metadata-service'] }],
      },
    };
    expect(codes(validatePolicy(p))).toEqual([]);
    p.spec.policy.enhanceProtect!.hardeningRules = ['disable-cap-flying'];
    expect(codes(validatePolicy(p))).toEqual(['spec.policy.enhanceProtect.hardeningRules[0] unknown-rule']);
  });

  it('a rule the chosen enforcer does not support is accepted (as vArmor does) with a warning naming rule, enforcers and who implements it', () => {
    const p = base();
    p.spec.policy = { enforcer: 'AppArmor', mode: 'EnhanceProtect', enhanceProtect: { vulMitigationRules: ['dirty-pipe-mitigation'] } };
    const r = validatePolicy(p);
    expect(r.ok).toBe(true);
    const w = r.ok ? r.warnings : [];
    expect(w.map((x) => `${x.path} ${x.code}`)).toEqual(['spec.policy.enhanceProtect.vulMitigationRules[0] rule-not-supported']);
    expect(w[0].message).toContain('dirty-pipe-mitigation');
    expect(w[0].message).toContain('AppArmor');
    expect(w[0].message).toContain('implemented by Seccomp');
    expect(w[0].message).toContain('accepted and ignored');
    // the Seccomp case of vArmor's docs: one rule supported, one not
    p.spec.policy = { enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect: { attackProtectionRules: [{ rules: ['disable-chmod-x-bit', 'disable-shell'] }] } };
    const s = validatePolicy(p);
    expect(s.ok && s.warnings.map((x) => x.path)).toEqual(['spec.policy.enhanceProtect.attackProtectionRules[0].rules[1]']);
    // With Seccomp among the enforcers the same rule is enforced: no warning.
    p.spec.policy = { enforcer: 'AppArmorSeccomp', mode: 'EnhanceProtect', enhanceProtect: { vulMitigationRules: ['dirty-pipe-mitigation'] } };
    expect(validatePolicy(p)).toMatchObject({ ok: true, warnings: [] });
    // a name that is no rule at all is still refused
    p.spec.policy.enhanceProtect!.vulMitigationRules = ['no-such-rule'];
    expect(validatePolicy(p).ok).toBe(false);
  });

  it('profile name length: names the allowed policy-name length, for namespaced and cluster policies', () => {
    const p = base();
    p.metadata = { name: 'x'.repeat(55), namespace: 'ns' }; // varmor-ns- is 10 bytes: 53 allowed
    const r = validatePolicy(p);
    expect(!r.ok && r.errors[0].message).toContain('at most 53 characters');
    p.metadata.name = 'x'.repeat(53);
    expect(validatePolicy(p).ok).toBe(true);
    const c = { ...base(), kind: 'VarmorClusterPolicy' as const, metadata: { name: 'y'.repeat(49) } }; // varmor-cluster-varmor- is 22
    expect(validatePolicy(c).ok).toBe(false);
    expect(validatePolicy({ ...c, metadata: { name: 'y'.repeat(41) } }).ok).toBe(true);
    expect(validatePolicy({ ...c, metadata: { name: 'y'.repeat(41) } }, { productNamespace: 'security-system' }).ok).toBe(false);
  });

  it('unknown fields: refused by default, ignored on request', () => {
    const p = base() as unknown as { spec: { policy: Record<string, unknown> } };
    p.spec.policy.mod = 'x';
    expect(codes(validatePolicy(p))).toEqual(['spec.policy.mod unknown-field']);
    expect(validatePolicy(p, { unknownFields: 'ignore' }).ok).toBe(true);
  });

  it('free-form NetworkProxy objects are kept, not judged', () => {
    const p = base();
    p.spec.policy.networkProxyConfig = { anything: { goes: [1, 2] } };
    expect(validatePolicy(p).ok).toBe(true);
  });

  it('accepts IPv6 forms and 64-bit syscall argument values', () => {
    const p = base();
    p.spec.policy = {
      enforcer: 'BPFSeccomp',
      mode: 'EnhanceProtect',
      enhanceProtect: {
        bpfRawRules: {
          network: {
            egress: {
              toDestinations: ['::1', 'fd00:ec2::254', '::ffff:10.0.0.1', '2001:db8::/32', '0.0.0.0/0'].map((a) =>
                a.includes('/') ? { cidr: a, qualifiers: ['deny'] } : { ip: a, qualifiers: ['deny'] },
              ),
            },
          },
        },
        syscallRawRules: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_MASKED_EQ', valueTwo: 8 }] }],
      },
    };
    expect(codes(validatePolicy(p))).toEqual([]);
  });

  it('DefenseInDepth custom Seccomp profiles must be seccomp JSON', () => {
    const p = base();
    p.spec.policy = { enforcer: 'Seccomp', mode: 'DefenseInDepth', defenseInDepth: { seccomp: { profileType: 'Custom', customProfile: '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}' } } };
    expect(validatePolicy(p).ok).toBe(true);
    p.spec.policy.defenseInDepth!.seccomp!.customProfile = '{"syscalls": [{"names": ["reed"], "action": "SCMP_ACT_ALLOW"}]';
    expect(codes(validatePolicy(p))).toEqual(['spec.policy.defenseInDepth.seccomp.customProfile invalid-json']);
  });

  it('ArmorProfile and ArmorProfileModel objects are checked against their schema', () => {
    expect(validateObject({ apiVersion: 'crd.varmor.org/v1beta1', kind: 'ArmorProfile', metadata: { name: 'x' }, spec: { target: { kind: 'Pod' } } })).toEqual([
      { path: 'spec.profile', code: 'required', message: 'required field is missing' },
    ]);
    const model = parseDocuments(readFileSync(join(ROOT, 'profiler', 'testdata', 'models', 'varmor-shop-web-did.yaml'), 'utf8'))[0];
    expect(validateObject(model)).toEqual([]);
  });
});

describe('validatePolicyUpdate', () => {
  const withStatus = (p: AnyPolicy, phase: string): AnyPolicy => ({ ...p, status: { profileName: 'varmor-ns-p', ready: true, phase } });

  it('target is immutable', () => {
    const old = base();
    const next = base();
    next.spec.target = { kind: 'Deployment', name: 'api' };
    expect(codes(validatePolicyUpdate(old, next))).toEqual(['spec.target immutable']);
    expect(validatePolicyUpdate(old, base()).ok).toBe(true);
  });

  it('AppArmor and Seccomp cannot be removed; BPF can; enforcers can be added', () => {
    const make = (enforcer: string): AnyPolicy => ({ ...base(), spec: { ...base().spec, policy: { enforcer, mode: 'RuntimeDefault' } } });
    expect(codes(validatePolicyUpdate(make('AppArmorSeccomp'), make('AppArmor')))).toEqual(['spec.policy.enforcer immutable']);
    expect(validatePolicyUpdate(make('AppArmorBPF'), make('AppArmor')).ok).toBe(true);
    expect(validatePolicyUpdate(make('AppArmor'), make('AppArmorBPFSeccomp')).ok).toBe(true);
  });

  it('while modelling: no leaving BehaviorModeling, no enforcer change', () => {
    const old = base();
    old.spec.policy = { enforcer: 'AppArmor', mode: 'BehaviorModeling', modelingOptions: { duration: 10 } };
    const next = base();
    next.spec.policy = { enforcer: 'AppArmorBPF', mode: 'RuntimeDefault' };
    expect(codes(validatePolicyUpdate(withStatus(old, 'Modeling'), next))).toEqual(['spec.policy.enforcer immutable', 'spec.policy.mode immutable']);
    expect(validatePolicyUpdate(withStatus(old, 'Completed'), next).ok).toBe(true);
  });

  it('reports the new object’s own errors too', () => {
    const next = base();
    next.spec.target = { kind: 'Pod', name: 'x' };
    next.spec.policy.mode = 'Nope';
    expect(codes(validatePolicyUpdate(base(), next))).toEqual(['spec.policy.mode enum', 'spec.target immutable']);
  });
});
