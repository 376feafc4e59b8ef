// BPF LSM enforcement in a real kernel: one qemu guest boot runs every scenario of the
// `enforcement` suite (testing/guest/scenarios/), and each `it` below asserts one case's
// observations: the real compiler's tables, loaded by the real addon, deny the action inside a
// bound cgroup and leave the same action alone outside. Without qemu or the guest kernel the
// suite fails and says what is missing.

import { beforeAll, describe, expect, it } from '@jest/globals';
import { runGuest, type GuestRun } from './harness.js';
import { GUEST_KERNEL_PKGS } from './kernel.js';

type Pair = { inside: string; outside: string };
const DENIED: Pair = { inside: 'EPERM', outside: 'OK' };
const ALLOWED: Pair = { inside: 'OK', outside: 'OK' };

interface Event {
  cgroupId: string;
  pid: number;
  policyId: number;
  hook: string;
  decision: string;
  path?: string;
  address?: string;
  port?: number;
}

// Every case runs on each kernel of GUEST_KERNEL_PKGS (Debian 12's 6.1 and 6.12): one boot each.
describe.each(GUEST_KERNEL_PKGS)('%s', (kernelPkg) => {
  let run: GuestRun;

  beforeAll(async () => {
    // TCG is slow, and slower still on 6.12: give a boot up to 20 minutes
    run = await runGuest('enforcement', { kernelPkg, timeoutMs: 1_200_000 });
  }, 1_300_000);

  describe('guest harness', () => {
    it('boots the chosen Debian kernel with the BPF LSM active, under TCG', () => {
      const r = run.result<{ kernel: string; lsm: string[]; node: string }>('smoke: kernel and lsm');
      expect(r.kernel).toBe(run.kernelRelease);
      expect(r.lsm).toContain('bpf');
      expect(r.node).toBe(process.version);
    });

    it('runs vprobe inside a cgroup whose id is its inode number', () => {
      const r = run.result<{ cgroupId: string; openPasswd: string; openMissing: string }>('smoke: vprobe in a cgroup');
      expect(BigInt(r.cgroupId)).toBeGreaterThan(1n);
      expect(r.openPasswd).toBe('OK');
      expect(r.openMissing).toBe('ENOENT');
    });

    it('the addon reports the guest kernel able to enforce', () => {
      const r = run.result<{ lsm: boolean; tracing: boolean; directMountWalk: boolean; pathCache: boolean }>('probe: the guest kernel can enforce');
      expect(r.lsm).toBe(true);
      expect(r.tracing).toBe(true);
      // bpf_rdonly_cast came with 6.2: the pre-filter's direct walk above a mount on 6.12, probe reads on 6.1
      const [major, minor] = run.kernelRelease.split('.').map(Number);
      expect(r.directMountWalk).toBe(major > 6 || (major === 6 && minor >= 2));
      // both Debian kernels have every function the path cache's programs attach to
      expect(r.pathCache).toBe(true);
    });
  });

  describe('file hooks', () => {
    it('open for read is denied inside, write of the same file is not', () => {
      const r = run.result<Record<string, Pair>>('file open: read denied, write of the same file allowed');
      expect(r.read).toEqual(DENIED);
      expect(r.write).toEqual(ALLOWED);
    });

    it('open for write (and read-write) is denied inside, read is not', () => {
      const r = run.result<Record<string, Pair>>('file open: write denied, read allowed');
      expect(r.write).toEqual(DENIED);
      expect(r.readWrite).toEqual(DENIED);
      expect(r.read).toEqual(ALLOWED);
    });

    it('open for append is denied inside', () => {
      const r = run.result<Record<string, Pair>>('file open: append denied');
      expect(r.append).toEqual(DENIED);
      expect(r.read).toEqual(ALLOWED);
    });

    it('an exact path rule matches that path only: /etc/passwd, not /etc/passwd-', () => {
      const r = run.result<Record<string, Pair>>('exact path rule: /etc/passwd does not match /etc/passwd-');
      expect(r.passwd).toEqual(DENIED);
      expect(r.passwdDash).toEqual(ALLOWED);
    });

    it('prefix (/dir/**) and suffix (*.pem) patterns match, other files do not', () => {
      const r = run.result<Record<string, Pair>>('glob rule: /tmp/g/keys/** and *.pem');
      expect(r.deep).toEqual(DENIED);
      expect(r.pem).toEqual(DENIED);
      expect(r.other).toEqual(ALLOWED);
    });

    it('rename of a write-protected file, away or onto it, is denied inside', () => {
      const r = run.result<{ inside: string; replace: string; outside: string }>('path rename: a protected file cannot be renamed away or replaced');
      expect(r).toEqual({ inside: 'EPERM', replace: 'EPERM', outside: 'OK' });
    });

    it('unlink of a write-protected file is denied inside', () => {
      expect(run.result('path unlink: a protected file cannot be removed')).toEqual(DENIED);
    });

    it('a hard link to a read-protected file is denied inside', () => {
      expect(run.result('path link: no hard link to a protected file')).toEqual(DENIED);
    });

    it('chmod of a write-protected file is denied inside', () => {
      expect(run.result('path chmod: a protected file keeps its mode')).toEqual(DENIED);
    });

    it('a child cgroup of a bound cgroup is covered', () => {
      expect(run.result('nested cgroup: a child of a protected cgroup is protected too')).toEqual({ grandchild: 'EPERM' });
    });
  });

  describe('exec', () => {
    it('matches the executed file: a symlink, execveat, an O_PATH fd or a #! line do not bypass it', () => {
      const r = run.result<Record<string, Pair>>('exec: denied by path, through a symlink, execveat, an O_PATH fd and as a script interpreter');
      expect(r.direct).toEqual(DENIED);
      expect(r.symlink).toEqual(DENIED);
      expect(r.execveat).toEqual(DENIED);
      expect(r.fdExec).toEqual(DENIED);
      expect(r.interpreter).toEqual(DENIED);
      expect(r.otherBinary).toEqual(ALLOWED);
    });
  });

  describe('capabilities', () => {
    it('are denied to a fully privileged root process inside, not outside', () => {
      const r = run.result<Record<string, Pair> & { uid: number; capEff: string }>('capabilities: denied to a fully privileged root process');
      expect(r.uid).toBe(0);
      expect(r.capEff).toBe('000001ffffffffff');
      expect(r.chown).toEqual(DENIED);
      expect(r.netRaw).toEqual(DENIED);
      expect(r.sysTime).toEqual(DENIED);
      expect(r.sysAdminNotInPolicy).toEqual(ALLOWED);
    });
  });

  describe('network', () => {
    it('socket creation is denied by domain, by domain+type, and by protocol (0 read as the default)', () => {
      const r = run.result<Record<string, Pair>>('socket create: by domain, type and protocol');
      expect(r.packet).toEqual(DENIED);
      expect(r.inet6Raw).toEqual(DENIED);
      expect(r.udp).toEqual(DENIED);
      expect(r.udpDefaultProto).toEqual(DENIED);
      expect(r.tcp).toEqual(ALLOWED);
      expect(r.inet6Tcp).toEqual(ALLOWED);
    });

    it('connect is denied by IP, CIDR and port range, IPv4, IPv6 and IPv4-mapped IPv6', () => {
      const r = run.result<Record<string, Pair>>('connect: by IP, CIDR and port, IPv4 and IPv6');
      expect(r.ip).toEqual(DENIED);
      expect(r.ipMapped).toEqual(DENIED);
      expect(r.cidr).toEqual(DENIED);
      expect(r.portInRange).toEqual(DENIED);
      expect(r.ip6Port).toEqual(DENIED);
      expect(r.cidr6).toEqual(DENIED);
      expect(r.portOutsideRange).toEqual(ALLOWED);
      expect(r.otherAddress).toEqual(ALLOWED);
      expect(r.ip6OtherPort).toEqual(ALLOWED);
    });

    it("connect to the pod's own addresses (pod-self) is denied on the rule's port only, and only to its own", () => {
      const r = run.result<Record<string, Pair>>("connect: pod-self, the bound cgroup's own addresses on the rule's port");
      expect(r.own).toEqual(DENIED);
      expect(r.own6).toEqual(DENIED);
      expect(r.otherOwn).toEqual(DENIED);
      expect(r.ownOtherPort).toEqual(ALLOWED);
      expect(r.anotherPods).toEqual(ALLOWED);
      // a policy update that adds the rule covers a container bound before it
      expect(r.beforeUpdate).toEqual(ALLOWED);
      expect(r.afterUpdate).toEqual(DENIED);
    });

    it('setsockopt SO_ATTACH_FILTER is denied inside', () => {
      expect(run.result('setsockopt: SO_ATTACH_FILTER denied')).toEqual(DENIED);
    });
  });

  describe('process and kernel interfaces', () => {
    it('ptrace attach is denied inside', () => {
      expect(run.result('ptrace: attaching to another process denied')).toEqual(DENIED);
    });

    it('mount is denied by source and fstype; another source is allowed', () => {
      expect(run.result('mount: denied by source and fstype')).toEqual({ inside: 'EPERM', otherSource: 'OK', outside: 'OK' });
    });

    it('move_mount (new mount API) is denied inside', () => {
      expect(run.result('move_mount: attaching a cloned mount tree denied')).toEqual({ mounted: 'OK', inside: 'EPERM', outside: 'OK' });
    });

    it('umount is denied inside', () => {
      expect(run.result('umount: denied')).toEqual({ mounted: 'OK', inside: 'EPERM', outside: 'OK' });
    });

    it('bpf(BPF_PROG_LOAD) is denied inside', () => {
      expect(run.result('bpf: program load denied')).toEqual(DENIED);
    });

    it('user namespace creation is denied inside', () => {
      expect(run.result('userns: creation denied')).toEqual(DENIED);
    });
  });

  describe('policy lifecycle', () => {
    it('a running task is confined as soon as its cgroup is bound, and released when unbound (per-task cache)', () => {
      const r = run.result<Record<'bound' | 'unbound', { ok: number; eperm: number; other: number }>>(
        'rebinding: a running task is confined when its cgroup is bound and released when unbound',
      );
      // opened before the bind, denied after it; denied before the unbind, opened after it
      expect(r.bound.ok).toBeGreaterThan(0);
      expect(r.bound.eperm).toBeGreaterThan(0);
      expect(r.unbound.eperm).toBeGreaterThan(0);
      expect(r.unbound.ok).toBeGreaterThan(0);
      expect(r.bound.other + r.unbound.other).toBe(0);
    });

    it('a live update swaps the tables atomically: the rule in both versions never lapses', () => {
      const r = run.result<{ swaps: number; loop: { ok: number; eperm: number; other: number }; afterOld: string; afterNew: string }>(
        'live update: tables swapped while a loop keeps checking',
      );
      expect(r.swaps).toBeGreaterThanOrEqual(400);
      expect(r.loop.eperm).toBeGreaterThan(0);
      expect(r.loop.ok).toBe(0);
      expect(r.loop.other).toBe(0);
      expect(r.afterOld).toBe('OK');
      expect(r.afterNew).toBe('EPERM');
    });

    it('overlayfs: a file is denied by its overlay path, and each open is checked (and reported) once', () => {
      const r = run.result<{ fsType: string; secret: Pair; auditedOpens: string[]; events: Event[] }>(
        'overlayfs: an open through an overlay mount is checked once, and denied by its overlay path',
      );
      expect(r.fsType).toBe('overlay');
      expect(r.secret).toEqual(DENIED);
      expect(r.auditedOpens).toEqual(['OK', 'OK', 'OK']);
      // three opens, three reports: the kernel's second open of the real file behind each is not
      // checked again (it would report the same access twice)
      expect(r.events.map((e) => [e.hook, e.decision, e.path])).toEqual(Array(3).fill(['file_open', 'audit', '/tmp/g/ovl/merged/audited']));
    });

    it('path pre-filter: exact, prefix and suffix rules match behind stacked mounts, a bind mount and a long name', () => {
      const r = run.result<Record<string, Pair>>(
        'path pre-filter: files behind stacked mounts, a bind mount and a long top-level name are still matched',
      );
      expect(r).toEqual({
        exact: DENIED,
        prefix: DENIED,
        suffix: DENIED,
        other: ALLOWED,
        bind: DENIED, // by the path it is opened through
        bindSource: ALLOWED, // the same file by its own path: no rule names it
        long: DENIED,
      });
    });

    it('path cache: a task sees a rename, an exchange and a mount move at its next open, a bind mount as another path, and a chroot as the same file', () => {
      const r = run.result<Record<string, unknown>>('path cache: a rename, an exchange and a mount move under a task are seen at its next open');
      // the second open is by the new path, which the rule denies (a stale cache allows it: shown
      // with the invalidating programs made no-ops), and the program for that change ran
      expect(r).toEqual({
        renamed: { opens: 'first=OK second=EPERM', vt_gen_d_move: true },
        exchanged: { opens: 'first=OK second=EPERM', vt_gen_d_move: true },
        moved: { opens: 'first=OK second=EPERM', vt_gen_ns_unlock: true },
        bind: 'first=OK second=EPERM',
        // The chroot part is road 1 of issue 17, still open: asserted in bypass 1's skipped case.
        chroot: expect.any(String),
        freed: true,
        recursionMisses: 0,
      });
    });

    it('allowViolations + auditViolations: allowed, and reported as a typed audit event', () => {
      const r = run.result<{ inside: string; outside: string; connectInside: string; cgroupId: string; events: Event[] }>(
        'audit: allowViolations allows and reports typed events',
      );
      expect(r.inside).toBe('OK');
      expect(r.outside).toBe('OK');
      expect(r.connectInside).toBe('OK');
      expect(r.events).toContainEqual(
        expect.objectContaining({ hook: 'file_open', decision: 'audit', path: '/tmp/g/audited', cgroupId: r.cgroupId }),
      );
      expect(r.events).toContainEqual(
        expect.objectContaining({ hook: 'socket_connect', decision: 'audit', address: '127.0.0.2', port: 8080, cgroupId: r.cgroupId }),
      );
      // Only the inside open is reported: the outside one is not ours to see.
      expect(r.events.filter((e) => e.path === '/tmp/g/audited')).toHaveLength(1);
      expect(r.events[0].pid).toBeGreaterThan(1);
    });

    it('auditViolations on an enforced rule: denied, and reported as a denied event', () => {
      const r = run.result<{ inside: string; cgroupId: string; events: Event[] }>('audit: auditViolations on an enforced rule denies and reports');
      expect(r.inside).toBe('EPERM');
      expect(r.events).toContainEqual(
        expect.objectContaining({ hook: 'file_open', decision: 'denied', path: '/tmp/g/audited-denied', cgroupId: r.cgroupId }),
      );
    });

    it('the tp_btf audit mode reports a would-be denial and denies nothing', () => {
      const r = run.result<{ inside: string; cgroupId: string; events: Event[] }>('audit mode (tp_btf): reports would-deny, denies nothing');
      expect(r.inside).toBe('OK');
      expect(r.events).toContainEqual(expect.objectContaining({ hook: 'exec', decision: 'denied', path: '/bin/busybox', cgroupId: r.cgroupId }));
    });

    it('pinned: enforcement outlives the agent process; the next one adopts the pins, unpin removes all', () => {
      const r = run.result<{
        firstAgent: { code: number; stderr: string };
        programsBefore: number;
        programsAfterExit: number;
        afterExit: string;
        programsAdopted: number;
        adoptedBinding?: number;
        policyId: number;
        afterAdopt: string;
        afterUnpin: string;
        programsLeft: number;
        pinDir: string[];
      }>('pinning: enforcement outlives the agent process, a new one adopts the pins');
      expect(r.firstAgent).toEqual({ code: 0, stderr: '' });
      expect(r.programsAfterExit).toBeGreaterThan(r.programsBefore);
      expect(r.afterExit).toBe('EPERM');
      // adopting loads none of the pinned programs again; its one new program is the syscall
      // recorder (vt_rec_sys_enter), which is never pinned and attached only during modelling
      expect(r.programsAdopted).toBe(r.programsAfterExit + 1);
      expect(r.adoptedBinding).toBe(r.policyId);
      expect(r.afterAdopt).toBe('EPERM');
      expect(r.afterUnpin).toBe('OK');
      expect(r.programsLeft).toBe(r.programsBefore);
      expect(r.pinDir).toEqual([]);
    });

    it('detach leaves no program attached and nothing enforced', () => {
      const r = run.result<{ before: string; after: string; programsAttached: number; programsLeft: string[]; bpffs: string[] }>(
        'detach: nothing left attached or enforced',
      );
      expect(r.before).toBe('EPERM');
      expect(r.programsAttached).toBeGreaterThan(0);
      expect(r.after).toBe('OK');
      expect(r.programsLeft).toEqual([]);
      expect(r.bpffs).toEqual([]);
    });
  });

  // Issue 17, lifecycle of the programs (scenarios/upgrade.ts): a new build replaces the pinned
  // programs with no instant unprotected, and uninstall leaves nothing behind.
  describe('programs across agents', () => {
    it('upgrade: a new build swaps every pinned link to its own programs; the denied open is refused throughout', () => {
      const r = run.result<{
        oldIds: number[];
        oldVersion?: string;
        newIds: number[];
        info?: { version: string; upgradedFrom?: string; swapped: number; linkUpdate: number; overlap: number; retired: number; previous: boolean };
        beforeSwap: string;
        loop: { ok: number; eperm: number; other: number };
        binding?: number;
        policyId: number;
        policies: number[];
        afterSwap: string;
        outside: string;
        oldStillLoaded: number[];
        pins: string[];
      }>('upgrade: a new build swaps the pinned links to its programs, the denied open refused throughout');
      expect(r.beforeSwap).toBe('EPERM');
      expect(r.oldVersion).toBe('old-build');
      // every open of the loop, before, during and after the swap: refused
      expect(r.loop.eperm).toBeGreaterThan(0);
      expect(r.loop.ok).toBe(0);
      expect(r.loop.other).toBe(0);
      // the new build's programs run on every hook, none of the old ones stays loaded
      expect(r.newIds.length).toBe(r.oldIds.length);
      expect(r.newIds.filter((id) => r.oldIds.includes(id))).toEqual([]);
      expect(r.oldStillLoaded).toEqual([]);
      expect(r.info).toMatchObject({ upgradedFrom: 'old-build', swapped: r.oldIds.length, previous: false });
      expect(r.info!.version).not.toBe('old-build');
      expect(r.info!.linkUpdate + r.info!.overlap).toBe(r.oldIds.length);
      // tables and bindings kept: the maps were reused
      expect(r.binding).toBe(r.policyId);
      expect(r.policies).toContain(r.policyId);
      expect(r.afterSwap).toBe('EPERM');
      expect(r.outside).toBe('OK');
      expect(r.pins).toContain('vt_version');
    });

    it('uninstall: no pin left, no program attached, the denied open allowed', () => {
      const r = run.result<{ before: string; pinsBefore: number; error?: string; after: string; programsLeft: number[]; pinDir: boolean; bpffs: string[] }>(
        'uninstall: every pin removed, nothing attached, the denied open allowed',
      );
      expect(r.before).toBe('EPERM');
      expect(r.pinsBefore).toBeGreaterThan(0);
      expect(r.error).toBeUndefined();
      expect(r.after).toBe('OK');
      expect(r.programsLeft).toEqual([]);
      expect(r.pinDir).toBe(false);
      expect(r.bpffs).toEqual([]);
    });
  });

  // Issue 17: a hostile process inside a protected cgroup tries each road around the hooks
  // (scenarios/bypass.ts). Denied inside, the same action allowed outside; road 7's first part is
  // the limit a path rule cannot pass, asserted as such.
  describe('bypass', () => {
    /** A part the guest kernel could not run: said in the output, and only for the reasons named. */
    // Both guest kernels (Debian 12's 6.1 and 6.12) have io_uring and the preemption switch: a case that
    // reports one missing fails here with the reason, never passes by returning early.
    const prerequisite = (what: string, r: unknown): void => {
      const skip = (r as { skip?: string }).skip;
      if (skip !== undefined) throw new Error(`${what}: prerequisite missing on ${run.kernelRelease}: ${skip}`);
    };

    // Headroom, so a change that nears the verifier's budget fails here with the program named,
    // not at load on some kernel.
    it('every program leaves a fifth of the verifier budget (1,000,000 instructions) unused', () => {
      const r = run.result<{ walked: Record<string, number> }>('bypass verifier budget: instructions the verifier walked per program');
      expect(Object.keys(r.walked).length).toBeGreaterThan(10);
      const over = Object.entries(r.walked).filter(([, n]) => n > 800_000);
      expect(over).toEqual([]);
    });

    // Road 1: paths are judged from the container's root (the top of its mount namespace), not from
    // the root the task took with chroot(), a default capability. Before the fix (programs of
    // 2026-12-03) the three opens after chroot() were allowed inside.
    it('1 chroot: a file denied by path stays denied under a new root, and the path cache sees a chroot as the same file', () => {
      const r = run.result<Record<string, Pair>>('bypass 1 chroot: a file denied by path is opened by its path under a new root');
      expect(r).toEqual({ control: DENIED, shadow: DENIED, writeEtc: DENIED, rawRule: DENIED });
      const cache = run.result<Record<string, unknown>>('path cache: a rename, an exchange and a mount move under a task are seen at its next open');
      expect(cache.chroot).toBe('first=OK second=EPERM');
    });

    // Road 2: moving, exchanging or bind-mounting a directory above a protected path (or mounting over
    // one) is judged against the ancestor table. Before the fix (programs of 2026-12-03) every road
    // was allowed inside and the secret then read through its new name.
    it('2 ancestors: renaming, exchanging, moving a mount over or bind-mounting an ancestor of a protected prefix is denied', () => {
      const r = run.result<Record<string, Pair>>(
        'bypass 2 ancestors: renaming, moving a mount over or bind-mounting an ancestor of a protected prefix',
      );
      expect(r).toEqual({
        control: DENIED,
        renameParent: DENIED,
        renameGrandparent: DENIED,
        moveMount: DENIED,
        bindAncestor: DENIED,
        mountOver: DENIED,
        exchangeAway: DENIED,
        openTreeMove: DENIED,
        bindDotDot: DENIED,
        mountOverFile: DENIED,
        unrelated: { inside: 'OK', outside: 'OK' },
      });
    });

    it('3 deep paths: a shell exec and exact and suffix opens past 40 components are denied (bpf_d_path)', () => {
      const r = run.result<Record<string, Pair> & { depth: number; length: number }>(
        'bypass 3 long and deep paths: a shell and a denied file below 40 components or past the path buffer',
      );
      expect(r.depth).toBeGreaterThan(40);
      expect(r.length).toBeGreaterThan(255);
      expect(r.shortShell).toEqual(DENIED);
      expect(r.deepShell).toEqual(DENIED);
      expect(r.deepExact).toEqual(DENIED);
      expect(r.deepSuffix).toEqual(DENIED);
    });

    // Road 3: a path the rules cannot be checked against fails closed and says why. Before the fix
    // (programs of 2026-12-03) the shell past the 255-byte buffer, the suffix open there and the
    // three chmods were allowed inside.
    it('3 past the path buffer, and in the path_* hooks past 40 components, a rule of that kind denies (fails closed, reported)', () => {
      const r = run.result<Record<string, Pair> & { reasons: string[] }>(
        'bypass 3 long and deep paths: a shell and a denied file below 40 components or past the path buffer',
      );
      expect(r.longShell).toEqual(DENIED);
      expect(r.longSuffix).toEqual(DENIED);
      expect(r.deepChmodExact).toEqual(DENIED);
      expect(r.deepChmodSuffix).toEqual(DENIED);
      expect(r.longChmodSuffix).toEqual(DENIED);
      // no suffix rule ends with its last byte: judged by the prefix rules alone, allowed
      expect(r.longOther).toEqual(ALLOWED);
      // the long shell is refused already where it is opened for reading (a suffix rule's last byte,
      // whatever the permission: the documented cost of failing closed), the chmods in the walk
      expect(r.reasons).toEqual(expect.arrayContaining(['file_open:path-too-long', 'path_chmod:path-too-deep', 'path_chmod:path-too-long']));
    });

    it('4 fileless: memfd + execveat, an unlinked file and /proc/self/fd/N are judged (disallow-exec-fileless)', () => {
      const r = run.result<Record<string, Pair> & { rule: string }>('bypass 4 fileless: memfd_create + execveat, an unlinked file, /proc/self/fd/N');
      expect(r.rule).toBe('compiled');
      expect(r.control).toEqual(DENIED);
      expect(r.memfd).toEqual(DENIED);
      expect(r.memfdOfDenied).toEqual(DENIED);
      expect(r.unlinked).toEqual(DENIED);
      expect(r.procFd).toEqual(DENIED);
    });

    it('5 send without connect: UDP sendto/sendmsg and TCP Fast Open to a denied CIDR and the metadata service', () => {
      const r = run.result<Record<string, Pair>>('bypass 5 send without connect: UDP sendto/sendmsg and TCP MSG_FASTOPEN to denied addresses');
      for (const who of ['cidr', 'metadata']) {
        for (const how of ['Connect', 'Sendto', 'Sendmsg', 'FastOpen']) expect({ [who + how]: r[who + how] }).toEqual({ [who + how]: DENIED });
      }
    });

    // Road 6: each hook takes its own scratch buffer (per-CPU slots, taken by compare-and-swap), so a
    // task preempted mid-hook keeps its path. Before the fix (one per-CPU buffer), denied opens leaked.
    it('6 scratch buffer: two tasks on one CPU under full preemption; no denied open succeeds, no allowed one is refused', () => {
      const r = run.result<{ preempt: string; counts: { leaked: number; refused: number; other: number } }>(
        'bypass 6 scratch buffer: two tasks on one CPU, denied and allowed long paths',
      );
      prerequisite('scratch buffer', r);
      expect(r.preempt).toBe('full');
      expect(r.counts).toEqual({ leaked: 0, refused: 0, other: 0 });
    });

    it('7 copy under another name: disable-shell does not stop a renamed copy at a short path (the limit); disallow-exec-unknown does', () => {
      const r = run.result<Record<string, Pair> & { rule: string }>('bypass 7 copy under another name: a copy of sh at an ordinary short path');
      // the documented limit of a path-based rule (native/README): the copy runs
      expect(r.disableShell).toEqual(ALLOWED);
      expect(r.rule).toBe('compiled');
      expect(r.unknownExec).toEqual(DENIED);
      expect(r.imageProgram).toEqual(ALLOWED);
    });

    it('8 other syscalls: io_uring, openat2 with RESOLVE_*, an O_PATH reopen and a hard link are judged', () => {
      const r = run.result<Record<string, Pair> & { ioUring: Record<string, Pair> | { skip: string } }>(
        'bypass 8 other syscalls: io_uring, openat2 RESOLVE_*, O_PATH reopen, hard link',
      );
      prerequisite('io_uring', r.ioUring);
      expect(r.ioUring).toEqual({ open: DENIED, connect: DENIED, rename: DENIED });
      expect(r.openat2Beneath).toEqual(DENIED);
      expect(r.openat2InRoot).toEqual(DENIED);
      expect(r.openat2NoLinks).toEqual(DENIED);
      expect(r.opathReopen).toEqual(DENIED);
      expect(r.hardLink).toEqual(DENIED);
    });

    it("vArmor's rules: /proc/self/mem and /proc/1/mem denied under RuntimeDefault, another cgroup's cgroup.procs under the lxcfs mitigation", () => {
      const r = run.result<Record<string, Pair>>(
        'bypass vArmor rules: /proc/**/mem under RuntimeDefault, any cgroup.procs under the lxcfs mitigation',
      );
      expect(r).toEqual({ selfMem: DENIED, pid1Mem: DENIED, cgroupProcs: DENIED });
    });
  });

  describe('containers', () => {
    type Runs = { protectedRun: { stdout: string; stderr: string; code: number }; unprotectedRun: { stdout: string; stderr: string; code: number } };

    it('a runc container bound before start is denied from its first instruction', () => {
      const r = run.result<Runs>('runc: a container bound before start is denied from its first instruction');
      expect(r.protectedRun.stderr).toMatch(/can't open '\/etc\/secret': Operation not permitted/);
      expect(r.protectedRun.code).not.toBe(0);
      expect(r.protectedRun.stdout).not.toContain('top-secret');
      expect(r.unprotectedRun.stdout).toContain('top-secret');
      expect(r.unprotectedRun.code).toBe(0);
    });

    it('create, bind armed on exec, start: runc sets up, then the baseline and the rule confine the entrypoint', () => {
      const r = run.result<{ protectedRun: { output: string }; unprotectedRun: { output: string } }>(
        'runc: create, bind armed on exec, start: the baseline confines a fully capable entrypoint',
      );
      expect(r.protectedRun.output).toMatch(/can't open '\/etc\/secret': Operation not permitted/);
      expect(r.protectedRun.output).toMatch(/mount.*(Operation not permitted|permission denied)/);
      expect(r.protectedRun.output).not.toContain('mounted');
      expect(r.unprotectedRun.output).toContain('top-secret');
      expect(r.unprotectedRun.output).toContain('mounted');
    });
  });
});
