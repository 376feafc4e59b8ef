// Generated Seccomp profiles in real runc containers on this host: denied syscalls fail with
// the errno the profile promises, the rest of the container keeps working.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Policy } from '../api/types.js';
import type { CompileInput, SeccompProfile } from '../compiled.js';
import { compileSeccomp } from './compile.js';
import { RuncHarness, runcUnavailable } from './testdata/runc-harness.js';

const EPERM = '1';
const ENOSYS = '38';

function compile(policy: Policy): SeccompProfile {
  const input: CompileInput = { profileName: 'varmor-test-p', bpfPolicyId: 1, mode: policy.mode as CompileInput['mode'], enforcers: ['Seccomp'], policy };
  return compileSeccomp(input);
}

const ep = (enhanceProtect: Policy['enhanceProtect']): SeccompProfile =>
  compile({ enforcer: 'Seccomp', mode: 'EnhanceProtect', enhanceProtect });

const why = runcUnavailable();

describe('seccomp profiles in runc containers', () => {
  if (why) {
    it('cannot run here', () => {
      throw new Error(`real containers are required for this suite: ${why}`);
    });
    return;
  }
  let h: RuncHarness;
  beforeAll(() => {
    h = new RuncHarness();
  }, 60_000);
  afterAll(() => h?.close());

  it('AlwaysAllow: everything works, including user namespaces', () => {
    const r = h.probe(compile({ enforcer: 'Seccomp', mode: 'AlwaysAllow' }), ['clone-user', 'unshare-user', 'splice', 'chmod-x', 'keyctl', 'getpid']);
    expect(r).toEqual({ 'clone-user': '0', 'unshare-user': '0', splice: '0', 'chmod-x': '0', keyctl: '0', getpid: '0' });
  });

  it('RuntimeDefault runs a normal shell and denies what containerd denies', () => {
    const profile = compile({ enforcer: 'Seccomp', mode: 'RuntimeDefault' });
    const sh = h.run(profile, ['/bin/sh', '-c', 'echo hi > /tmp/x && cat /tmp/x && ls / >/dev/null && mkdir /tmp/d && echo ok']);
    expect(sh.stderr).toBe('');
    expect(sh.stdout).toBe('hi\nok\n');
    const r = h.probe(profile, ['unshare-user', 'unshare-uts', 'clone-plain', 'clone-user', 'clone3', 'keyctl', 'personality-query', 'personality-set', 'splice', 'socket-inet']);
    expect(r).toEqual({
      'unshare-user': EPERM,
      'unshare-uts': EPERM,
      'clone-plain': '0',
      'clone-user': EPERM,
      clone3: ENOSYS,
      keyctl: EPERM,
      'personality-query': '0',
      'personality-set': EPERM,
      splice: '0',
      'socket-inet': '0',
    });
  });

  it('disallow-create-user-ns on a privileged (allow-all) base: unshare and clone with CLONE_NEWUSER get EPERM, clone3 ENOSYS', () => {
    const r = h.probe(ep({ privileged: true, hardeningRules: ['disallow-create-user-ns'] }), ['clone-user', 'unshare-user', 'unshare-uts', 'clone-plain', 'clone3']);
    // unshare-uts fails without CAP_SYS_ADMIN, not because of the profile: runc's default spec drops it.
    expect(r).toEqual({ 'unshare-user': EPERM, 'unshare-uts': EPERM, 'clone-user': EPERM, 'clone-plain': '0', clone3: ENOSYS });
    // clone first: after unshare the probe sits in an unmapped user namespace and cannot nest one.
    const control = h.probe(ep({ privileged: true }), ['clone-user', 'unshare-user']);
    expect(control).toEqual({ 'unshare-user': '0', 'clone-user': '0' });
    const onDefault = h.probe(ep({ hardeningRules: ['disallow-create-user-ns'] }), ['clone-user', 'unshare-user', 'clone-plain', 'clone3']);
    expect(onDefault).toEqual({ 'clone-user': EPERM, 'unshare-user': EPERM, 'clone-plain': '0', clone3: ENOSYS });
  });

  it('dirty-pipe-mitigation denies splice on the RuntimeDefault base, which allows it otherwise', () => {
    const r = h.probe(ep({ vulMitigationRules: ['dirty-pipe-mitigation'] }), ['splice', 'getpid']);
    expect(r).toEqual({ splice: EPERM, getpid: '0' });
  });

  it('disable-chmod-x-bit and disable-chmod-s-bit deny only the mode bits they name', () => {
    const x = h.probe(ep({ attackProtectionRules: [{ rules: ['disable-chmod-x-bit'] }] }), ['chmod-x', 'fchmodat-x', 'chmod-rw', 'chmod-suid']);
    expect(x).toEqual({ 'chmod-x': EPERM, 'fchmodat-x': EPERM, 'chmod-rw': '0', 'chmod-suid': '0' });
    const s = h.probe(ep({ attackProtectionRules: [{ rules: ['disable-chmod-s-bit'] }] }), ['chmod-x', 'chmod-suid']);
    expect(s).toEqual({ 'chmod-x': '0', 'chmod-suid': EPERM });
    const sh = h.run(ep({ attackProtectionRules: [{ rules: ['disable-chmod-x-bit'] }] }), ['/bin/sh', '-c', 'touch /tmp/f; chmod +x /tmp/f; echo rc=$?']);
    expect(sh.stdout).toBe('rc=1\n');
    expect(sh.stderr).toMatch(/Operation not permitted/);
  });

  it('BPF loading rules: BPF_PROG_LOAD and SO_ATTACH_FILTER denied, other setsockopt calls work', () => {
    const profile = ep({ privileged: true, hardeningRules: ['disallow-load-all-bpf-prog', 'disallow-load-bpf-via-setsockopt', 'disallow-userfaultfd-creation'] });
    const r = h.probe(profile, ['bpf-prog-load', 'so-attach-filter', 'so-keepalive', 'userfaultfd']);
    expect(r).toEqual({ 'bpf-prog-load': EPERM, 'so-attach-filter': EPERM, 'so-keepalive': '0', userfaultfd: EPERM });
    // On the RuntimeDefault base setsockopt is allowed: the deny must still win for SO_ATTACH_FILTER only.
    const onDefault = h.probe(ep({ hardeningRules: ['disallow-load-bpf-via-setsockopt'] }), ['so-attach-filter', 'so-keepalive']);
    expect(onDefault).toEqual({ 'so-attach-filter': EPERM, 'so-keepalive': '0' });
    const control = h.probe(ep({ privileged: true }), ['so-attach-filter']);
    expect(control).toEqual({ 'so-attach-filter': '0' });
  });

  it('socket family rules: copy-fail-mitigation and disable-inet6 deny their family only', () => {
    const r = h.probe(ep({ privileged: true, vulMitigationRules: ['copy-fail-mitigation'], attackProtectionRules: [{ rules: ['disable-ipv6'] }] }), [
      'socket-alg',
      'socket-inet6',
      'socket-inet',
      'socket-unix',
    ]);
    expect(r['socket-alg']).toBe(EPERM);
    expect(r['socket-inet6']).toBe(EPERM);
    expect(r['socket-inet']).toBe('0');
    expect(r['socket-unix']).toBe('0');
  });

  it('socket family rules on the RuntimeDefault base (socket allowed there except vsock)', () => {
    const r = h.probe(ep({ attackProtectionRules: [{ rules: ['disable-inet6', 'disable-unix-domain-socket'] }] }), ['socket-inet6', 'socket-unix', 'socket-inet']);
    expect(r).toEqual({ 'socket-inet6': EPERM, 'socket-unix': EPERM, 'socket-inet': '0' });
  });

  it('syscallRawRules on the RuntimeDefault base: personality NE rule narrows the base allow', () => {
    const profile = ep({ syscallRawRules: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_NE' }] }] });
    expect(h.probe(profile, ['personality-query', 'personality-set', 'getpid'])).toEqual({ 'personality-query': '0', 'personality-set': EPERM, getpid: '0' });
  });

  it('syscallRawRules (example 3): keyctl gets the errno asked for, personality is limited', () => {
    const profile = compile({
      enforcer: 'Seccomp',
      mode: 'EnhanceProtect',
      enhanceProtect: {
        privileged: true,
        syscallRawRules: [
          { names: ['keyctl', 'add_key', 'request_key'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
          { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_NE' }] },
        ],
      },
    });
    expect(h.probe(profile, ['keyctl', 'personality-query', 'personality-set'])).toEqual({
      keyctl: '13',
      'personality-query': '0',
      'personality-set': EPERM,
    });
  });

  it('allowViolations without auditViolations does not block (the API table)', () => {
    const r = h.probe(ep({ allowViolations: true, vulMitigationRules: ['dirty-pipe-mitigation'], hardeningRules: ['disallow-create-user-ns'] }), ['splice', 'unshare-user']);
    expect(r).toEqual({ splice: '0', 'unshare-user': '0' });
    // audit + allow: logged, not blocked
    const logged = h.probe(ep({ allowViolations: true, auditViolations: true, vulMitigationRules: ['dirty-pipe-mitigation'] }), ['splice', 'keyctl']);
    expect(logged).toEqual({ splice: '0', keyctl: '0' });
  });

  it('auditViolations with blocking still blocks (ERRNO)', () => {
    expect(h.probe(ep({ auditViolations: true, vulMitigationRules: ['dirty-pipe-mitigation'] }), ['splice', 'getpid'])).toEqual({ splice: EPERM, getpid: '0' });
  });

  it('BehaviorModeling logs and allows everything', () => {
    const r = h.probe(compile({ enforcer: 'Seccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 1 } }), ['clone-user', 'keyctl', 'splice']);
    expect(r).toEqual({ 'clone-user': '0', keyctl: '0', splice: '0' });
  });

  it('DefenseInDepth from a model: recorded syscalls work, others fail with EPERM', () => {
    const model = {
      apiVersion: 'crd.varmor.org/v1beta1' as const,
      kind: 'ArmorProfileModel' as const,
      metadata: { name: 'varmor-test-p' },
      data: { dynamicResult: { seccomp: { syscalls: ['getpid', 'mkdir', 'pipe', 'pipe2', 'wait4', 'clone', 'socket', 'setsockopt'] } } },
    };
    const policy: Policy = { enforcer: 'Seccomp', mode: 'DefenseInDepth', defenseInDepth: { seccomp: { profileType: 'BehaviorModel' } } };
    const profile = compileSeccomp({ profileName: 'varmor-test-p', bpfPolicyId: 1, mode: 'DefenseInDepth', enforcers: ['Seccomp'], policy, model });
    const r = h.probe(profile, ['getpid', 'mkdir', 'keyctl', 'splice']);
    expect(r).toEqual({ getpid: '0', mkdir: '0', keyctl: EPERM, splice: EPERM });
  });
});
