// AppArmor's audit records, parsed from lines a Debian 6.1 guest kernel printed (testing/guest,
// AppArmor stacked beside the BPF LSM), shaped as violations and as behaviour; and the pump's
// routing: a modelled profile's complain-mode records go to its AppArmor recorder, the rest of
// our profiles' records are violations, other profiles' are ignored.

import { describe, expect, it } from '@jest/globals';
import { BehaviorRecorder } from '../modeling/record.js';
import { ProfileStore } from '../profiles/store.js';
import { ContainerRegistry } from '../binding/registry.js';
import { appArmorBehavior, appArmorViolation, maskPermissions, parseAppArmorAudit, profileOfLabel } from './apparmor-audit.js';
import { EventPump, type EventPumpDeps } from './pump.js';

// as the reader hands them over: the kmsg text after `<pri>[seconds] `
const LINES = {
  openDenied: 'audit: type=1400 audit(1796316768.427:4): apparmor="DENIED" operation="open" profile="dbg-e" name="/tmp/sec" pid=109 comm="exe" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
  capDenied: 'audit: type=1400 audit(1796316768.643:6): apparmor="DENIED" operation="capable" profile="dbg-e" pid=113 comm="exe" capability=0  capname="chown"',
  socketDenied: 'audit: type=1400 audit(1796316768.699:7): apparmor="DENIED" operation="create" profile="dbg-e" pid=114 comm="exe" family="inet" sock_type="stream" protocol=6 requested_mask="create" denied_mask="create"',
  mountDenied: 'audit: type=1400 audit(1796316768.759:8): apparmor="DENIED" operation="mount" info="failed perms check" error=-13 profile="dbg-e" name="/mnt/" pid=115 comm="exe" fstype="tmpfs" srcname="none"',
  openAudit: 'audit: type=1400 audit(1796316768.827:9): apparmor="AUDIT" operation="open" profile="dbg-e" name="/etc/passwd" pid=116 comm="exe" requested_mask="r" fsuid=0 ouid=0',
  execAllowed: 'audit: type=1400 audit(1796316769.079:17): apparmor="ALLOWED" operation="exec" profile="dbg-c" name="/bin/busybox" pid=121 comm="exe" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="dbg-c//null-/bin/busybox"',
  mmapInLearning: 'audit: type=1400 audit(1796316769.079:19): apparmor="ALLOWED" operation="file_mmap" profile="dbg-c//null-/bin/busybox" name="/bin/busybox" pid=121 comm="true" requested_mask="r" denied_mask="r" fsuid=0 ouid=0',
  writeAllowed: 'audit: type=1400 audit(1796316769.015:13): apparmor="ALLOWED" operation="open" profile="dbg-c" name="/tmp/sec" pid=119 comm="exe" requested_mask="w" denied_mask="w" fsuid=0 ouid=0',
  capAllowed: 'audit: type=1400 audit(1796316769.243:29): apparmor="ALLOWED" operation="capable" profile="dbg-c" pid=124 comm="exe" capability=21  capname="sys_admin"',
};

describe('AppArmor audit records', () => {
  it('parses file, capability, socket and mount records with their fields', () => {
    expect(parseAppArmorAudit(LINES.openDenied)).toEqual({ verdict: 'DENIED', operation: 'open', label: 'dbg-e', pid: 109, comm: 'exe', name: '/tmp/sec', requested: 'r' });
    expect(parseAppArmorAudit(LINES.capDenied)).toMatchObject({ verdict: 'DENIED', operation: 'capable', capability: 'chown', pid: 113 });
    expect(parseAppArmorAudit(LINES.socketDenied)).toMatchObject({ operation: 'create', family: 'inet', sockType: 'stream', protocol: 6 });
    expect(parseAppArmorAudit(LINES.mountDenied)).toMatchObject({ operation: 'mount', name: '/mnt/', fstype: 'tmpfs', source: 'none' });
    expect(parseAppArmorAudit(LINES.execAllowed)).toMatchObject({ verdict: 'ALLOWED', operation: 'exec', target: 'dbg-c//null-/bin/busybox' });
  });

  it('ignores other records and malformed ones', () => {
    expect(parseAppArmorAudit('audit: type=1326 audit(1.2:3): pid=1 syscall=83 code=0x7ffc0000')).toBeUndefined();
    expect(parseAppArmorAudit('audit: type=1400 audit(1.2:3): apparmor="STATUS" operation="profile_load" profile="unconfined" name="x" pid=1')).toBeUndefined();
    expect(parseAppArmorAudit('audit: type=1400 audit(1.2:3): apparmor="DENIED" operation="open" name="/x" pid=1')).toBeUndefined();
    expect(parseAppArmorAudit('random kernel text')).toBeUndefined();
  });

  it("a child's or learning profile's records belong to the policy's profile", () => {
    expect(profileOfLabel('varmor-demo-web//child_0')).toBe('varmor-demo-web');
    expect(profileOfLabel('dbg-c//null-/bin/busybox')).toBe('dbg-c');
    expect(maskPermissions('wrc')).toEqual(['read', 'write']);
  });

  it('shapes violations as the violation log has them', () => {
    const v = appArmorViolation(parseAppArmorAudit(LINES.openDenied)!, { containerId: 'c1', containerName: 'web', podName: 'p', podNamespace: 'ns', podUid: 'u' });
    expect(v).toEqual({
      enforcer: 'AppArmor', action: 'DENIED', enforced: true, profileName: 'dbg-e', namespace: 'ns', pod: 'p', podUid: 'u', container: 'web', containerId: 'c1', pid: 109,
      rule: { operation: 'open', label: 'dbg-e', comm: 'exe', path: '/tmp/sec', permissions: ['read'] },
    });
    expect(appArmorViolation(parseAppArmorAudit(LINES.openAudit)!, undefined)).toMatchObject({ action: 'AUDIT', enforced: false });
    expect(appArmorViolation(parseAppArmorAudit(LINES.socketDenied)!, undefined).rule.network).toEqual({ family: 'inet', type: 'stream', protocol: 6 });
  });

  it('folds complain-mode records into a behaviour model', () => {
    const rec = new BehaviorRecorder();
    for (const l of [LINES.execAllowed, LINES.mmapInLearning, LINES.writeAllowed, LINES.capAllowed, LINES.socketDenied, LINES.mountDenied]) {
      rec.merge(appArmorBehavior(parseAppArmorAudit(l)!));
    }
    expect(rec.data()).toEqual({
      files: [
        { path: '/bin/busybox', permissions: ['exec', 'read'] },
        { path: '/tmp/sec', permissions: ['write'] },
      ],
      executions: ['/bin/busybox'],
      capabilities: ['sys_admin'],
      network: [{ domain: 'inet', type: 'stream', protocol: '6' }],
      ptrace: [],
      mounts: [{ source: 'none', fstype: 'tmpfs' }],
    });
  });
});

describe('the event pump and AppArmor records', () => {
  function pump(modelling: boolean) {
    const profiles = new ProfileStore();
    const st = profiles.ensure({ namespace: 'ns', name: 'dbg-c' });
    st.profile = { profileName: 'dbg-c', bpfPolicyId: 7 } as NonNullable<typeof st.profile>;
    profiles.hold(st);
    if (modelling) st.appArmorRecorder = new BehaviorRecorder();
    const logged: unknown[] = [];
    const counted: Record<string, string>[] = [];
    const deps = {
      bpf: { mode: 'enforce' },
      log: { warn: (_m: string, v: unknown) => logged.push(v), info: () => undefined, error: () => undefined, debug: () => undefined },
      metrics: { violations: { inc: (labels: Record<string, string>) => counted.push(labels) } },
      profiles,
      containers: new ContainerRegistry(),
      cgroupOf: () => undefined,
    } as unknown as EventPumpDeps;
    const p = new EventPump(deps);
    const feed = (...lines: string[]) => p.pumpKernelLog({ poll: (fn) => (lines.forEach(fn), lines.length) });
    return { st, logged, counted, feed };
  }

  it("records a modelled profile's complain-mode records instead of reporting them", () => {
    const { st, logged, feed } = pump(true);
    feed(LINES.execAllowed, LINES.mmapInLearning, LINES.writeAllowed);
    expect(logged).toEqual([]);
    expect(st.appArmorRecorder?.data().executions).toEqual(['/bin/busybox']);
  });

  it("reports our profile's records as violations (a shadow run's ALLOWED too), and ignores other profiles'", () => {
    const { logged, counted, feed } = pump(false);
    feed(LINES.writeAllowed, LINES.openDenied);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ enforcer: 'AppArmor', action: 'ALLOWED', profileName: 'dbg-c', rule: { path: '/tmp/sec', permissions: ['write'] } });
    expect(counted).toEqual([{ enforcer: 'AppArmor', action: 'ALLOWED', namespace: '', profile: 'dbg-c' }]);
  });
});
