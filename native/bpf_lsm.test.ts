// Host tests of the varmor_bpf addon against this machine's real kernel. The host refuses BPF
// LSM programs (EPERM, see machine.md), so enforcement is proven in the qemu guest suite; here
// the audit (tp_btf) programs run the same maps and matching code and report "would deny".

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { compileBpf } from '../profiler/bpf/compile.js';
import { encodeTables, emptyTables } from '../profiler/bpf/encode.js';
import type { CompileInput } from '../profiler/compiled.js';
import { SYSCALL_NAME_BY_NR_X86_64 } from '../profiler/validate/syscalls.gen.js';
import type { BpfRawRules, EnhanceProtect } from '../profiler/api/types.js';
import { BpfEnforcer, BpfError, addonPath, probe, type BpfEvent } from './index.js';
import { bpfProgIds, makeCgroup, waitProgsGone, type TestCgroup } from '../testing/native.js';

const POLICY = 0x5eed0001;

function input(ep: EnhanceProtect, mode: CompileInput['mode'] = 'EnhanceProtect'): CompileInput {
  return { profileName: 'varmor-test-p', bpfPolicyId: POLICY, mode, enforcers: ['BPF'], policy: { enforcer: 'BPF', mode, enhanceProtect: ep } };
}

function raw(r: BpfRawRules, extra: Partial<EnhanceProtect> = {}): Uint8Array {
  return compileBpf(input({ privileged: true, bpfRawRules: r, ...extra })).tables;
}

const deny = ['deny'];

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BpfError);
  expect((err as BpfError).code).toBe(code);
  if (message) expect((err as BpfError).message).toMatch(message);
}

describe('build', () => {
  it('npm run build:native produced build/Release/varmor_bpf.node', () => {
    expect(existsSync(addonPath())).toBe(true);
  });
});

describe('probe', () => {
  it('reports BPF LSM refused with EPERM on this host, tracing available', () => {
    const p = probe();
    expect(p.tracing).toBe(true);
    if (p.lsm) {
      console.log('probe: this kernel loads BPF LSM programs; the EPERM path is not exercised here');
      expect(p.lsmReason).toBeUndefined();
    } else {
      expect(p.lsmReason).toBe('EPERM');
    }
  });

  // bpftool reads the same BTF independently of libbpf's lookup in the addon (dumped once: it is large)
  let btfDump: string | undefined;
  const kernelHasFunc = (fn: string): boolean => {
    if (btfDump === undefined) {
      const dump = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      expect(dump.status).toBe(0);
      btfDump = dump.stdout;
    }
    return new RegExp(`^\\[\\d+\\] FUNC '${fn}'`, 'm').test(btfDump);
  };

  it('reports the direct walk above a mount exactly when the kernel BTF has bpf_rdonly_cast', () => {
    expect(probe().directMountWalk).toBe(kernelHasFunc('bpf_rdonly_cast'));
  });

  it('probe() reports pathCache when the kernel has every function the cache programs attach to', () => {
    expect(probe().pathCache).toBe(['__d_move', '__d_free', '__d_free_external', 'namespace_unlock'].every(kernelHasFunc));
  });

  it('enforce mode attach throws BpfError EPERM when LSM is refused', () => {
    const p = probe();
    const e = new BpfEnforcer({ mode: 'enforce' });
    if (p.lsm) {
      console.log('probe: LSM available; attaching enforce mode instead of expecting EPERM');
      e.attach();
      e.detach();
      return;
    }
    expectCode(() => e.attach(), 'EPERM', /LSM programs failed/);
    // a failed attach leaves the object usable for another try, and detach is harmless
    expectCode(() => e.attach(), 'EPERM');
    e.detach();
  });
});

describe('constructor errors', () => {
  it('rejects a bad mode and a relative pinPath with EINVAL', () => {
    expectCode(() => new BpfEnforcer({ mode: 'x' as 'audit' }), 'EINVAL', /mode/);
    expectCode(() => new BpfEnforcer({ mode: 'audit', pinPath: 'relative/dir' }), 'EINVAL', /pinPath/);
  });
});

describe('audit mode on the host kernel', () => {
  let e: BpfEnforcer;
  let ours: Set<number>;
  const cgroups: TestCgroup[] = [];
  const cg = (): TestCgroup => {
    const c = makeCgroup();
    cgroups.push(c);
    return c;
  };
  /** Events of one test cgroup (each test has its own), or of one pid outside any. */
  const eventsOf = (who: TestCgroup | number): BpfEvent[] =>
    drained.filter((x) => (typeof who === 'number' ? x.pid === who : x.cgroupId === who.id));
  let drained: BpfEvent[] = [];
  const drain = (): void => {
    drained = e.readEvents(100000);
  };

  beforeAll(() => {
    e = new BpfEnforcer({ mode: 'audit' });
    e.attach();
    ours = new Set(e.programIds());
  });

  afterAll(async () => {
    try {
      e.detach();
    } catch {
      /* detached by a test */
    }
    cgroups.forEach((c) => c.remove());
    await waitProgsGone(ours);
  });

  it('attached its tp_btf programs (visible in bpftool prog list)', () => {
    expect(ours.size).toBeGreaterThanOrEqual(3);
    const listed = bpfProgIds('');
    expect([...ours].every((id) => listed.has(id))).toBe(true);
  });

  it('programStats names every attached program and counts its calls while kernel.bpf_stats_enabled is 1', () => {
    const stats = e.programStats();
    expect(new Set(stats.map((p) => p.id))).toEqual(ours);
    expect(stats.map((p) => p.name)).toEqual(expect.arrayContaining(['vt_audit_sys_enter', 'vt_audit_sys_exit']));
    // audit mode loads only the tp_btf family (and the pid trackers both modes have): the
    // path-fact cache's fentry/fexit programs serve the LSM programs alone
    expect(stats.map((p) => p.name).filter((n) => !n.startsWith('vt_audit_'))).toEqual(['vt_track_exec', 'vt_track_fork']);
    const count = (): bigint => e.programStats().find((p) => p.name === 'vt_audit_sys_enter')?.runCount ?? -1n;
    const STATS = '/proc/sys/kernel/bpf_stats_enabled';
    const before = readFileSync(STATS, 'utf8').trim();
    const c0 = count();
    writeFileSync(STATS, '1');
    try {
      for (let i = 0; i < 50; i++) readFileSync('/proc/self/stat');
    } finally {
      writeFileSync(STATS, before);
    }
    // every syscall enters sys_enter: 50 reads are at least 50 calls
    expect(count() - c0).toBeGreaterThanOrEqual(50n);
  });

  it('double attach throws EALREADY', () => {
    expectCode(() => e.attach(), 'EALREADY');
  });

  it('file rules: exact path is exact, prefix, file-name glob and one-component glob; outside the cgroup nothing', () => {
    const c = cg();
    e.loadPolicy(
      POLICY,
      raw({
        files: [
          { pattern: '/etc/passwd', permissions: ['read'], qualifiers: deny },
          { pattern: '/usr/share/common-licenses/**', permissions: ['read'], qualifiers: ['audit'] },
          { pattern: '*.conf', permissions: ['read'], qualifiers: deny },
          { pattern: '/etc/host*', permissions: ['read'], qualifiers: deny },
          { pattern: 'grou*', permissions: ['read'], qualifiers: ['audit'] },
        ],
      }),
    );
    e.bindCgroup(c.id, POLICY);
    drain();
    c.run('cat /etc/passwd /etc/passwd- /usr/share/common-licenses/GPL-3 /etc/adduser.conf /etc/hostname /etc/group- /etc/ssl/openssl.cnf > /dev/null 2>&1; true');
    const outside = spawnOutside('cat /etc/passwd > /dev/null');
    drain();
    const ev = eventsOf(c).filter((x) => x.hook === 'file_open');
    const byPath = new Map(ev.map((x) => [x.path, x.decision]));
    expect(byPath.get('/etc/passwd')).toBe('denied'); // "would deny" in audit mode
    expect(byPath.has('/etc/passwd-')).toBe(false); // exact is exact (vArmor would match it)
    expect(byPath.get('/usr/share/common-licenses/GPL-3')).toBe('audit');
    if (existsSync('/etc/adduser.conf')) expect(byPath.get('/etc/adduser.conf')).toBe('denied');
    expect(byPath.get('/etc/hostname')).toBe('denied'); // "/etc/host*"
    expect(byPath.get('/etc/group-')).toBe('audit'); // file-name glob "grou*"
    expect(byPath.has('/etc/ssl/openssl.cnf')).toBe(false);
    for (const x of ev) {
      expect(x.cgroupId).toBe(c.id);
      expect(x.policyId).toBe(POLICY);
      expect(typeof x.timeNs).toBe('bigint');
    }
    expect(eventsOf(outside)).toEqual([]);
    e.unbindCgroup(c.id);
  });

  it('exec rules match the resolved file, so a symlink does not bypass them', () => {
    const c = cg();
    e.loadPolicy(POLICY, raw({ processes: [{ pattern: '**/true', permissions: ['exec'], qualifiers: deny }] }));
    e.bindCgroup(c.id, POLICY);
    drain();
    const dir = `/tmp/varmor-exec-${process.pid}`;
    c.run(`mkdir -p ${dir} && ln -sf /bin/true ${dir}/innocent && exec ${dir}/innocent`);
    drain();
    const ev = eventsOf(c).filter((x) => x.hook === 'exec');
    expect(ev.map((x) => [x.path?.endsWith('/true'), x.decision])).toEqual([[true, 'denied']]);
    spawnOutside(`rm -rf ${dir}`);
    e.unbindCgroup(c.id);
  });

  it('paths are judged from the namespace root after chroot; a path too deep or too long for a rule reports its reason', () => {
    const c = cg();
    const base = `/tmp/varmor-road-${process.pid}`;
    const deep = `${base}/deep/${Array(44).fill('d').join('/')}`;
    const long = `${base}/long/${'L'.repeat(200)}/${'M'.repeat(100)}`;
    // the jail's own file, not /etc/passwd: python and the shell read /etc/passwd themselves
    // before the chroot when HOME is unset (as under CI), which would add denials of their own
    const jail = `${base}/jail`;
    spawnOutside(`mkdir -p ${deep} ${long} ${jail} && touch ${jail}/secret ${deep}/secret ${long}/x.key ${long}/x.txt`);
    e.loadPolicy(
      POLICY,
      raw({
        files: [
          { pattern: `${jail}/secret`, permissions: ['read'], qualifiers: deny },
          { pattern: '/tmp/nothing-here/**', permissions: ['read'], qualifiers: deny },
          { pattern: '*.key', permissions: ['read'], qualifiers: deny },
        ],
      }),
    );
    e.bindCgroup(c.id, POLICY);
    drain();
    // chroot is a default container capability: the file is still judged by its full path
    c.run(`python3 -c "import os; os.chroot('${jail}'); open('/secret').read()"`);
    c.run(`cat ${deep}/secret ${long}/x.key ${long}/x.txt > /dev/null 2>&1; true`);
    drain();
    const ev = eventsOf(c).filter((x) => x.hook === 'file_open');
    expect(ev.filter((x) => x.path === `${jail}/secret`).map((x) => x.decision)).toEqual(['denied']);
    expect(ev.some((x) => x.path === '/secret')).toBe(false);
    const reasons = ev.filter((x) => x.reason).map((x) => [x.reason, x.decision, (x.path ?? '').slice(0, base.length)]);
    // too deep: no rule can be checked; too long with a suffix rule ending in its last byte: the
    // suffix cannot be checked (x.txt ends in no suffix rule's last byte: no event)
    expect(reasons).toEqual(
      expect.arrayContaining([
        ['path-too-deep', 'denied', ''],
        ['path-too-long', 'denied', base],
      ]),
    );
    expect(reasons).toHaveLength(2);
    spawnOutside(`rm -rf ${base}`);
    e.unbindCgroup(c.id);
  });

  it('network: socket families, CIDR with port ranges, IPv4-mapped IPv6; userns creation', () => {
    const c = cg();
    e.loadPolicy(
      POLICY,
      compileBpf(
        input({
          privileged: true,
          hardeningRules: ['disallow-create-user-ns'],
          bpfRawRules: {
            network: {
              sockets: [{ domains: ['inet6'], qualifiers: deny }],
              egress: {
                toDestinations: [
                  { cidr: '127.0.0.0/8', ports: [{ port: 1, endPort: 3 }], qualifiers: ['deny', 'audit'] },
                  { ip: '127.0.0.9', qualifiers: ['audit'] },
                ],
              },
            },
          },
        }),
      ).tables,
    );
    e.bindCgroup(c.id, POLICY);
    drain();
    const js = [
      "const net=require('net');",
      "const a=(h,p)=>new Promise(r=>{const s=net.connect(p,h);s.on('error',r);s.on('connect',()=>{s.destroy();r()})});",
      "(async()=>{await a('127.0.0.1',2);await a('127.0.0.1',4);await a('127.0.0.9',80);",
      "try{const s=require('dgram').createSocket('udp6');s.bind(0,()=>s.close())}catch{}})()",
    ].join('');
    c.run(`exec node -e "${js}"`);
    c.run('exec unshare -U true 2>/dev/null; true');
    drain();
    const ev = eventsOf(c);
    const connects = ev.filter((x) => x.hook === 'socket_connect').map((x) => `${x.address}:${x.port} ${x.decision}`);
    expect(connects).toContain('127.0.0.1:2 denied');
    expect(connects).not.toContain('127.0.0.1:4 denied');
    expect(connects).toContain('127.0.0.9:80 audit');
    const sockets = ev.filter((x) => x.hook === 'socket_create' && x.family === 10);
    expect(sockets.length).toBeGreaterThan(0);
    expect(sockets.every((x) => x.decision === 'denied')).toBe(true);
    const userns = eventsOf(c).filter((x) => x.hook === 'userns_create');
    expect(userns.map((x) => x.decision)).toContain('denied');
    e.unbindCgroup(c.id);
  });

  it("pod-self: a rule on the cgroup's own addresses, given at bind, matches them only; unbinding forgets them", () => {
    const c = cg();
    const other = cg();
    const tables = compileBpf(
      input({ privileged: true, bpfRawRules: { network: { egress: { toDestinations: [{ ip: 'pod-self', ports: [{ port: 7 }], qualifiers: ['deny'] }] } } } }),
    ).tables;
    e.loadPolicy(POLICY, tables);
    e.bindCgroup(c.id, POLICY, { selfAddresses: ['127.0.0.5', '::1'] });
    e.bindCgroup(other.id, POLICY, { selfAddresses: ['127.0.0.6'] });
    expect(() => e.bindCgroup(other.id, POLICY, { selfAddresses: ['no-address'] })).toThrow(/EINVAL|not an IPv4/);
    drain();
    const js = [
      "const net=require('net');",
      "const a=(h,p)=>new Promise(r=>{const s=net.connect(p,h);s.on('error',r);s.on('connect',()=>{s.destroy();r()})});",
      "(async()=>{await a('127.0.0.5',7);await a('127.0.0.5',8);await a('127.0.0.6',7);await a('::1',7)})()",
    ].join('');
    c.run(`exec node -e "${js}"`);
    other.run(`exec node -e "${js}"`);
    drain();
    const judged = (who: TestCgroup) => eventsOf(who).filter((x) => x.hook === 'socket_connect').map((x) => `${x.address}:${x.port} ${x.decision}`);
    // its own addresses on the rule's port; not another port, not another pod's address
    expect(judged(c).sort()).toEqual(['127.0.0.5:7 denied', '::1:7 denied']);
    expect(judged(other)).toEqual(['127.0.0.6:7 denied']);
    // rebinding without addresses after an unbind: the old ones are gone
    e.unbindCgroup(c.id);
    e.bindCgroup(c.id, POLICY);
    drain();
    c.run(`exec node -e "${js}"`);
    drain();
    expect(judged(c)).toEqual([]);
    e.unbindCgroup(c.id);
    e.unbindCgroup(other.id);
  });

  it('BehaviorModeling records the syscalls of record-mode policies only, and only while recording is on', () => {
    const names = (ids: number[]): string[] => ids.map((n) => SYSCALL_NAME_BY_NR_X86_64[n] ?? `#${n}`);
    const modelled = cg();
    const enforced = cg();
    const ENFORCED = POLICY + 7;
    e.loadPolicy(POLICY, compileBpf(input({}, 'BehaviorModeling')).tables);
    e.loadPolicy(ENFORCED, compileBpf({ ...input({ privileged: true }), bpfPolicyId: ENFORCED }).tables);
    e.bindCgroup(modelled.id, POLICY);
    e.bindCgroup(enforced.id, ENFORCED);
    e.syscalls(POLICY, true);
    // off: nothing recorded
    modelled.run('exec mkdir -p /tmp/varmor-rec-off');
    expect(e.syscalls(POLICY)).toEqual([]);
    e.recordSyscalls(true);
    e.recordSyscalls(true); // idempotent
    const dir = `/tmp/varmor-rec-${process.pid}`;
    modelled.run(`exec mkdir -p ${dir}`);
    enforced.run('exec uname -a > /dev/null');
    spawnSync('sh', ['-c', 'sync']); // this process's own cgroup: not bound
    const seen = names(e.syscalls(POLICY));
    expect(seen).toEqual(expect.arrayContaining(['execve', 'mkdir']));
    expect(seen).not.toContain('uname');
    expect(seen).not.toContain('sync');
    expect(e.syscalls(ENFORCED)).toEqual([]); // not in record mode
    // cleared on read; off again: a later syscall is not recorded
    expect(e.syscalls(POLICY, true).length).toBe(seen.length);
    e.recordSyscalls(false);
    modelled.run('exec sync');
    expect(names(e.syscalls(POLICY))).not.toContain('sync');
    spawnSync('rm', ['-rf', dir, '/tmp/varmor-rec-off']);
    e.unbindCgroup(modelled.id);
    e.unbindCgroup(enforced.id);
    e.removePolicy(ENFORCED);
  });

  it('remembers the cgroup of processes that have exited (fork and exec), for Seccomp violations read later', () => {
    const c = cg();
    // the shell moves itself into the cgroup, then forks and execs a short-lived child there
    const r = c.run('(/bin/true & echo CHILD=$!; wait)');
    const child = Number(/CHILD=(\d+)/.exec(r.stdout)?.[1]);
    expect(child).toBeGreaterThan(0);
    expect(existsSync(`/proc/${child}`)).toBe(false); // gone: /proc can no longer say
    expect(e.cgroupOfPid(child)).toBe(c.id);
    // the shell itself was forked before it moved into the cgroup, and never exec'd since: the
    // tracker says where it was forked (the answer /proc gives for a live process wins in the agent)
    expect(e.cgroupOfPid(r.pid)).not.toBe(c.id);
    expect(e.cgroupOfPid(2 ** 22 + 7)).toBeUndefined();
  });

  it('armOnExec: nothing is checked in the cgroup until its next execve', () => {
    const c = cg();
    e.loadPolicy(POLICY, raw({ files: [{ pattern: '/etc/passwd', permissions: ['read'], qualifiers: deny }] }));
    e.bindCgroup(c.id, POLICY, { armOnExec: true });
    drain();
    // the shell's own open (a builtin redirect, no exec) comes before the arm; cat's after it
    c.run('read x < /etc/passwd; exec cat /etc/passwd > /dev/null');
    drain();
    expect(eventsOf(c).filter((x) => x.hook === 'file_open' && x.path === '/etc/passwd')).toHaveLength(1);
    e.unbindCgroup(c.id);
  });

  it('a policy update swaps the rules: the old rule stops, the new one applies, generation moves on', () => {
    const c = cg();
    e.loadPolicy(POLICY, raw({ files: [{ pattern: '/etc/passwd', permissions: ['read'], qualifiers: deny }] }));
    const g1 = e.policies().get(POLICY) ?? 0;
    e.bindCgroup(c.id, POLICY);
    e.loadPolicy(POLICY, raw({ files: [{ pattern: '/etc/group', permissions: ['read'], qualifiers: deny }] }));
    expect(e.policies().get(POLICY)).toBe(g1 + 1);
    drain();
    c.run('cat /etc/passwd /etc/group > /dev/null');
    drain();
    const paths = eventsOf(c)
      .filter((x) => x.hook === 'file_open')
      .map((x) => x.path);
    expect(paths).toContain('/etc/group');
    expect(paths).not.toContain('/etc/passwd');
    e.unbindCgroup(c.id);
  });

  it('BehaviorModeling records every hooked event as allowed', () => {
    const c = cg();
    e.loadPolicy(POLICY, compileBpf(input({}, 'BehaviorModeling')).tables);
    e.bindCgroup(c.id, POLICY);
    drain();
    c.run('exec cat /etc/hostname');
    drain();
    const ev = eventsOf(c);
    expect(ev.some((x) => x.hook === 'exec' && x.decision === 'allowed')).toBe(true);
    expect(ev.some((x) => x.hook === 'file_open' && x.path === '/etc/hostname' && x.decision === 'allowed')).toBe(true);
    e.unbindCgroup(c.id);
  });

  it('map management and every error path', () => {
    const other = POLICY + 7;
    const t = encodeTables(emptyTables(other, 1));
    e.loadPolicy(other, t);
    e.bindCgroup(123456789n, other);
    e.bindCgroup(123456790n, other);
    expect(e.bindings().get(123456789n)).toBe(other);
    e.bindCgroup(123456789n, POLICY); // rebind
    expect(e.bindings().get(123456789n)).toBe(POLICY);
    e.unbindCgroup(123456789n);
    e.unbindCgroup(123456790n);
    expect(e.bindings().has(123456789n)).toBe(false);
    expectCode(() => e.unbindCgroup(123456789n), 'ENOENT', /not bound/);
    expectCode(() => e.bindCgroup(5n, 0xdead), 'ENOENT', /unknown policy 57005/);
    expectCode(() => e.bindCgroup(0n, other), 'EINVAL', /cgroupId 0/);
    expectCode(() => e.bindCgroup(-1n, other), 'EINVAL', /cgroupId/);
    expectCode(() => e.loadPolicy(other, new Uint8Array(4)), 'EINVAL', /shorter than/);
    const bad = t.slice();
    bad[0] ^= 0xff;
    expectCode(() => e.loadPolicy(other, bad), 'EINVAL', /bad magic/);
    expectCode(() => e.loadPolicy(other + 1, t), 'EINVAL', /compiled for policy/);
    expectCode(() => e.loadPolicy(other, t.subarray(0, t.length - 8)), 'EINVAL', /total_size/);
    const badRec = t.slice();
    new DataView(badRec.buffer).setUint32(24 + 16 + 4, 999, true); // section 1 record_size
    expectCode(() => e.loadPolicy(other, badRec), 'EINVAL', /record_size/);
    expectCode(() => e.loadPolicy(0, t), 'EINVAL', /reserved/);
    expectCode(() => e.loadPolicy(other, [1, 2] as unknown as Uint8Array), 'EINVAL', /Uint8Array/);
    expectCode(() => e.readEvents(0), 'EINVAL', /max/);
    e.removePolicy(other);
    expect(e.policies().has(other)).toBe(false);
    expectCode(() => e.removePolicy(other), 'ENOENT', /unknown policy/);
  });

  it('detach leaves nothing loaded; use after detach throws EBADF', async () => {
    e.detach();
    expect(await waitProgsGone(ours)).toEqual([]);
    expectCode(() => e.bindings(), 'EBADF', /detached/);
    expectCode(() => e.attach(), 'EBADF');
  });
});

describe('not attached', () => {
  it('map calls before attach throw ENOTCONN', () => {
    const e = new BpfEnforcer({ mode: 'audit' });
    expectCode(() => e.bindings(), 'ENOTCONN', /attach/);
    expectCode(() => e.loadPolicy(1, new Uint8Array(0)), 'ENOTCONN');
    e.detach();
  });
});

function spawnOutside(script: string): number {
  const r = spawnSyncSh(`echo PID=$$; ${script}`);
  return Number(/PID=(\d+)/.exec(r)?.[1] ?? -1);
}

function spawnSyncSh(script: string): string {
  return spawnSync('sh', ['-c', script], { encoding: 'utf8' }).stdout ?? '';
}
