// The attacker's cases (issue 17): a process inside a protected cgroup tries to reach a file,
// program or address its policy denies by another road than the one the hook cases take. Each
// case returns what happened inside the protected cgroup and, for the very same action, outside;
// enforcement.guest.test.ts (describe 'bypass') asserts denied inside, allowed outside. A road
// that needs something the guest kernel lacks (io_uring) returns `skip` with the reason.
//
// The guest runs as root with every capability; a container has fewer (no CAP_SYS_ADMIN for the
// mount roads), but each road below is one the policy, not the capability set, must close.

import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { Fixture, type Pair, type Protected } from '../guest/bpf.js';
import { VPROBE, attempt, file, makeCgroup, probe, sh } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';
import type { EnhanceProtect } from '../../../profiler/api/types.js';

const B = '/tmp/gb';
/** Guest-only addresses on lo: one in a denied CIDR, and the metadata service's. */
const CIDR_HOST = '10.98.1.1';
const METADATA = '169.254.169.254';
let fx: Fixture;

/** A copy of `src` at `dest`, executable (the parent directories made). */
function program(src: string, dest: string): string {
  mkdirSync(dest.slice(0, dest.lastIndexOf('/')), { recursive: true });
  copyFileSync(src, dest);
  chmodSync(dest, 0o755);
  return dest;
}

function deny(perms: string[], ...patterns: string[]): EnhanceProtect {
  return {
    bpfRawRules: {
      files: patterns.map((pattern) => ({ pattern, permissions: perms, qualifiers: ['deny'] })),
    },
  };
}

const both = (p: Protected, args: string[]): Promise<Pair> => fx.both(p.cg.path, args);

/**
 * A policy that uses a built-in rule the catalogue may not have yet (issue 17 proposes it): the
 * compiler's refusal is the observation `rule`, and the attack then runs under `fallback` (the
 * rest of the policy), so the result still shows whether the road is open.
 */
function protectWithProposed(
  name: string,
  proposed: string,
  fallback: EnhanceProtect,
): { p: Protected; rule: string } {
  try {
    const hardeningRules = [...(fallback.hardeningRules ?? []), proposed];
    return { p: fx.protect(name, { ...fallback, hardeningRules }), rule: 'compiled' };
  } catch (e) {
    return { p: fx.protect(name, fallback), rule: (e as Error).message };
  }
}

export async function setup(): Promise<void> {
  mkdirSync(B, { recursive: true });
  // `replace`, not `add`: the hooks module may have run first in the same boot
  const ip = await sh(`ip addr replace ${CIDR_HOST}/32 dev lo && ip addr replace ${METADATA}/32 dev lo`);
  if (ip.code !== 0) throw new Error(`ip addr replace: ${ip.stderr}`);
  // TCP Fast Open as a client (the kernel's default, said here so the case does not depend on it)
  writeFileSync('/proc/sys/net/ipv4/tcp_fastopen', '1');
  if (!existsSync('/etc/shadow')) file('/etc/shadow', 'root:*:19000:0:99999:7:::\n');
  fx = new Fixture('enforce');
}

export async function teardown(): Promise<void> {
  fx?.detach();
}

export const cases: GuestCase[] = [
  {
    // What the verifier walked to accept each program: every fix of this family adds to it, and
    // a program past 1,000,000 is refused at load (roads 2 and 6 were once reverted for that).
    name: 'bypass verifier budget: instructions the verifier walked per program',
    async run() {
      const walked: Record<string, number> = {};
      for (const st of fx.enforcer.programStats()) walked[st.name] = st.verifiedInstructions;
      return { walked };
    },
  },
  {
    // Road 1: the path is built up to the task's root, and CAP_SYS_CHROOT is a default capability.
    name: 'bypass 1 chroot: a file denied by path is opened by its path under a new root',
    async run() {
      const root = `${B}/rt`;
      mkdirSync(`${root}/in`, { recursive: true });
      const secret = file(`${root}/in/secret`);
      file('/etc/bx-target');
      const p = fx.protect('bx-chroot', {
        attackProtectionRules: [{ rules: ['disable-access-shadow', 'disable-write-etc'] }],
        bpfRawRules: { files: [{ pattern: secret, permissions: ['read'], qualifiers: ['deny'] }] },
      });
      return {
        // the rules hold without the chroot (the roads below are the only difference)
        control: await both(p, ['open', '/etc/shadow', 'r']),
        shadow: await both(p, ['chroot-open', '/etc', '/shadow', 'r']),
        writeEtc: await both(p, ['chroot-open', '/etc', '/bx-target', 'w']),
        rawRule: await both(p, ['chroot-open', root, '/in/secret', 'r']),
      };
    },
  },
  {
    // Road 2: path_rename judges the entry renamed; the prefix rule names a directory above it.
    // Each attempt that succeeds is undone (and the file read through the new name, the leak
    // itself) before the next.
    name: 'bypass 2 ancestors: renaming, moving a mount over or bind-mounting an ancestor of a protected prefix',
    async run() {
      mkdirSync(`${B}/data/secret`, { recursive: true });
      file(`${B}/data/secret/f`);
      mkdirSync(`${B}/mnt`, { recursive: true });
      mkdirSync(`${B}/moved`, { recursive: true });
      mkdirSync(`${B}/alias`, { recursive: true });
      mkdirSync(`${B}/cfg`, { recursive: true });
      mkdirSync(`${B}/evil`, { recursive: true });
      file(`${B}/cfg/app.conf`, 'trusted\n');
      file(`${B}/evil/app.conf`, 'attacker\n');
      const m = await sh(
        `mount -t tmpfs bx-mnt ${B}/mnt && mkdir ${B}/mnt/secret && echo x > ${B}/mnt/secret/f`,
      );
      if (m.code !== 0) throw new Error(`mount: ${m.stderr}`);
      const p = fx.protect('bx-ancestor', {
        bpfRawRules: {
          files: [
            { pattern: `${B}/data/secret/**`, permissions: ['read'], qualifiers: ['deny'] },
            { pattern: `${B}/mnt/secret/**`, permissions: ['read'], qualifiers: ['deny'] },
            { pattern: `${B}/cfg/**`, permissions: ['write'], qualifiers: ['deny'] },
          ],
        },
      });
      // inside, a road that is open is also walked to its end (the read through the new name)
      const renameAway = async (from: string, to: string, leak: string, cg: string) => {
        const r = await attempt(['rename', from, to], cg);
        const read =
          r === 'OK' && cg === p.cg.path ? await attempt(['open', leak, 'r'], p.cg.path) : undefined;
        if (r === 'OK') renameSync(to, from);
        return read ? `${r} (then read: ${read})` : r;
      };
      const mountOp = async (args: string[], undo: string, leak: string | undefined, cg: string) => {
        const r = await attempt(args, cg);
        const read =
          r === 'OK' && leak && cg === p.cg.path ? await attempt(['open', leak, 'r'], p.cg.path) : undefined;
        if (r === 'OK') await sh(undo);
        return read ? `${r} (then read: ${read})` : r;
      };
      const pair = async (f: (cg: string) => Promise<string>) => ({
        inside: await f(p.cg.path),
        outside: await f(fx.outside.path),
      });
      return {
        control: await both(p, ['open', `${B}/data/secret/f`, 'r']),
        renameParent: await pair((cg) => renameAway(`${B}/data/secret`, `${B}/data/x`, `${B}/data/x/f`, cg)),
        renameGrandparent: await pair((cg) =>
          renameAway(`${B}/data`, `${B}/data2`, `${B}/data2/secret/f`, cg),
        ),
        moveMount: await pair((cg) =>
          mountOp(
            ['mount-move', `${B}/mnt`, `${B}/moved`],
            `mount --move ${B}/moved ${B}/mnt`,
            `${B}/moved/secret/f`,
            cg,
          ),
        ),
        bindAncestor: await pair((cg) =>
          mountOp(['bind-mount', `${B}/data`, `${B}/alias`], `umount ${B}/alias`, `${B}/alias/secret/f`, cg),
        ),
        // a write-protected directory replaced whole: its files are the attacker's from then on
        mountOver: await pair((cg) =>
          mountOp(['bind-mount', `${B}/evil`, `${B}/cfg`], `umount ${B}/cfg`, undefined, cg),
        ),
        // the same roads by other doors: an exchange moves its target away too; open_tree +
        // move_mount; a source the kernel resolves with ".."; a bind over a write-protected file
        exchangeAway: await pair(async (cg) => {
          const r = await attempt(['exchange', `${B}/evil`, `${B}/data`], cg);
          const read =
            r === 'OK' && cg === p.cg.path ? await attempt(['open', `${B}/evil/secret/f`, 'r'], p.cg.path) : undefined;
          if (r === 'OK') await attempt(['exchange', `${B}/evil`, `${B}/data`]);
          return read ? `${r} (then read: ${read})` : r;
        }),
        openTreeMove: await pair((cg) =>
          mountOp(['move-mount', `${B}/data`, `${B}/alias`], `umount ${B}/alias`, `${B}/alias/secret/f`, cg),
        ),
        bindDotDot: await pair((cg) =>
          mountOp(['bind-mount', `${B}/cfg/../data`, `${B}/alias`], `umount ${B}/alias`, `${B}/alias/secret/f`, cg),
        ),
        mountOverFile: await pair((cg) =>
          mountOp(['bind-mount', `${B}/evil/app.conf`, `${B}/cfg/app.conf`], `umount ${B}/cfg/app.conf`, undefined, cg),
        ),
        // a directory no rule lies below moves freely inside (the table is not "deny every rename")
        unrelated: await pair(async (cg) => {
          const r = await attempt(['rename', `${B}/evil`, `${B}/evil2`], cg);
          if (r === 'OK') renameSync(`${B}/evil2`, `${B}/evil`);
          return r;
        }),
      };
    },
  },
  {
    // Road 3: the walk stops at VT_MAX_DEPTH (40) components, and exact and suffix lookups are
    // skipped on a path cut at the buffer (255 bytes): both must deny, not allow. The file hooks
    // (open, exec) take bpf_d_path first, the path hooks (chmod here) only the walk.
    name: 'bypass 3 long and deep paths: a shell and a denied file below 40 components or past the path buffer',
    async run() {
      const deepDir = `${B}/deep/${Array(42).fill('d').join('/')}`;
      const longDir = `${B}/long/${'L'.repeat(200)}/${'M'.repeat(100)}`;
      const shortSh = program('/bin/sh', `${B}/short/sh`);
      const deepSh = program('/bin/sh', `${deepDir}/sh`);
      const longSh = program('/bin/sh', `${longDir}/sh`);
      const deepSecret = file(`${deepDir}/secret`);
      const deepKey = file(`${deepDir}/x.key`);
      const longKey = file(`${longDir}/x.key`);
      const deepLocked = file(`${deepDir}/locked`);
      const deepLock = file(`${deepDir}/x.lock`);
      const longLock = file(`${longDir}/x.lock`);
      const shell = fx.protect('bx-shell', { attackProtectionRules: [{ rules: ['disable-shell'] }] });
      const files = fx.protect('bx-deep', {
        bpfRawRules: {
          files: [
            { pattern: deepSecret, permissions: ['read'], qualifiers: ['deny'] },
            { pattern: '*.key', permissions: ['read'], qualifiers: ['deny'] },
            { pattern: deepLocked, permissions: ['write'], qualifiers: ['deny'] },
            { pattern: '*.lock', permissions: ['write'], qualifiers: ['deny'] },
          ],
        },
      });
      const longOther = file(`${longDir}/x.txt`);
      fx.events(); // what came before is not this case's
      const observed = {
        depth: deepSecret.split('/').length - 1,
        length: Buffer.byteLength(longKey),
        shortShell: await both(shell, ['exec', shortSh]),
        deepShell: await both(shell, ['exec', deepSh]),
        longShell: await both(shell, ['exec', longSh]),
        deepExact: await both(files, ['open', deepSecret, 'r']),
        deepSuffix: await both(files, ['open', deepKey, 'r']),
        longSuffix: await both(files, ['open', longKey, 'r']),
        // past the buffer, a name no suffix rule could end with: nothing to fail closed on
        longOther: await both(files, ['open', longOther, 'r']),
        deepChmodExact: await both(files, ['chmod', deepLocked, '0600']),
        deepChmodSuffix: await both(files, ['chmod', deepLock, '0600']),
        longChmodSuffix: await both(files, ['chmod', longLock, '0600']),
      };
      // each denial that could not check the rules says why (the agent's violation log carries it)
      const ids = new Set([shell.policyId, files.policyId]);
      const reasons = [
        ...new Set(
          fx
            .events()
            .filter((e) => ids.has(e.policyId) && e.reason)
            .map((e) => `${e.hook}:${e.reason}`),
        ),
      ].sort();
      return { ...observed, reasons };
    },
  },
  {
    // Road 4: programs without a name (a memfd, a deleted file) under the proposed built-in
    // `disallow-exec-fileless`, and a denied program run through its /proc/self/fd magic link.
    name: 'bypass 4 fileless: memfd_create + execveat, an unlinked file, /proc/self/fd/N',
    async run() {
      const forbidden = program(VPROBE, `${B}/bin/forbidden`);
      const { p, rule } = protectWithProposed('bx-fileless', 'disallow-exec-fileless', {
        bpfRawRules: { processes: [{ pattern: forbidden, permissions: ['exec'], qualifiers: ['deny'] }] },
      });
      // each unlinked-exec consumes its copy
      const unlinked = async (cg: string) =>
        attempt(['unlinked-exec', program('/bin/true', `${B}/bin/gone`)], cg);
      return {
        rule,
        control: await both(p, ['exec', forbidden]),
        memfd: await both(p, ['memfd-exec', '/bin/true', 'true']),
        memfdOfDenied: await both(p, ['memfd-exec', forbidden, 'forbidden']),
        unlinked: { inside: await unlinked(p.cg.path), outside: await unlinked(fx.outside.path) },
        procFd: await both(p, ['procfd-exec', forbidden]),
      };
    },
  },
  {
    // Road 5: socket_connect sees connect(2) only; a datagram with a destination and TCP Fast
    // Open's SYN leave without it.
    name: 'bypass 5 send without connect: UDP sendto/sendmsg and TCP MSG_FASTOPEN to denied addresses',
    async run() {
      const p = fx.protect('bx-send', {
        attackProtectionRules: [{ rules: ['block-access-to-metadata-service'] }],
        bpfRawRules: {
          network: { egress: { toDestinations: [{ cidr: '10.98.0.0/16', qualifiers: ['deny'] }] } },
        },
      });
      const out: Record<string, Pair> = {};
      for (const [who, host] of [
        ['cidr', CIDR_HOST],
        ['metadata', METADATA],
      ] as const) {
        out[`${who}Connect`] = await both(p, ['connect', host, '9999', 'udp']); // the rule holds for connect(2)
        out[`${who}Sendto`] = await both(p, ['sendto', host, '9999']);
        out[`${who}Sendmsg`] = await both(p, ['sendmsg', host, '9999']);
        out[`${who}FastOpen`] = await both(p, ['fastopen', host, '9999']);
      }
      return out;
    },
  },
  {
    // Road 6: the per-CPU scratch buffer holds a path between building it and looking it up; on a
    // preemptible kernel another task on the same CPU (the guest has one) can overwrite it. The
    // case switches the kernel to full preemption (PREEMPT_DYNAMIC) for the run.
    name: 'bypass 6 scratch buffer: two tasks on one CPU, denied and allowed long paths',
    timeoutMs: 300_000,
    async run() {
      const dir = `${B}/race/${'r'.repeat(150)}`;
      mkdirSync(dir, { recursive: true });
      // the allowed path has the denied one's length, top component and last byte, so the
      // pre-filter lets both through to the lookup (both use the buffer)
      const denied = file(`${dir}/secret`);
      const allowed = file(`${dir}/sxcret`);
      const p = fx.protect('bx-race', deny(['read'], denied));
      await sh('mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug');
      const knob = '/sys/kernel/debug/sched/preempt';
      if (!existsSync(knob))
        return { skip: `${knob} is missing: the kernel's preemption cannot be switched to full` };
      const before = /\((\w+)\)/.exec(readFileSync(knob, 'utf8'))?.[1] ?? '?';
      writeFileSync(knob, 'full');
      try {
        const preempt = /\((\w+)\)/.exec(readFileSync(knob, 'utf8'))?.[1] ?? '?';
        const r = await probe(['scratch-race', denied, allowed, '300000'], { cgroup: p.cg.path }); // about 20 s under TCG (probe's limit: 60)
        const counts = Object.fromEntries(
          r.detail
            .split(' ')
            .map((kv) => kv.split('='))
            .map(([k, v]) => [k, Number(v)]),
        );
        return { preempt, counts };
      } finally {
        writeFileSync(knob, before);
      }
    },
  },
  {
    // Road 7: a path rule cannot stop a renamed copy at an ordinary short path (the documented
    // limit: disable-shell lets it run); the proposed `disallow-exec-unknown` (a program the
    // container wrote, or one without a name) does.
    name: 'bypass 7 copy under another name: a copy of sh at an ordinary short path',
    async run() {
      const copy = program('/bin/sh', `${B}/usr/ls`);
      const shellOnly = fx.protect('bx-copy', { attackProtectionRules: [{ rules: ['disable-shell'] }] });
      const { p, rule } = protectWithProposed('bx-unknown', 'disallow-exec-unknown', {
        attackProtectionRules: [{ rules: ['disable-shell'] }],
      });
      const disableShell = await both(shellOnly, ['exec', copy]);
      // the container itself writes the copy (the harness's copy above was made outside it):
      // a shell that moves into the protected cgroup, then cp
      const own = await sh(`echo $$ > ${p.cg.path}/cgroup.procs && exec cp /bin/sh ${copy}`);
      if (own.code !== 0) throw new Error(`cp inside the cgroup: ${own.stderr}`);
      return {
        disableShell,
        rule,
        unknownExec: await both(p, ['exec', copy]),
        // the image's own programs still run under it
        imageProgram: await both(p, ['exec', '/bin/true']),
      };
    },
  },
  {
    // Road 8: other system call paths to the same objects, each judged by the LSM hooks.
    name: 'bypass 8 other syscalls: io_uring, openat2 RESOLVE_*, O_PATH reopen, hard link',
    async run() {
      mkdirSync(`${B}/o`, { recursive: true });
      const secret = file(`${B}/o/secret`);
      const locked = file(`${B}/o/locked`);
      const p = fx.protect('bx-syscalls', {
        bpfRawRules: {
          files: [
            { pattern: secret, permissions: ['read'], qualifiers: ['deny'] },
            { pattern: locked, permissions: ['write'], qualifiers: ['deny'] },
          ],
          network: { egress: { toDestinations: [{ cidr: '10.98.0.0/16', qualifiers: ['deny'] }] } },
        },
      });
      const probeRing = await probe(['uring', 'open', '/etc/passwd', 'r']);
      const disabled = existsSync('/proc/sys/kernel/io_uring_disabled')
        ? readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim()
        : 'absent';
      const ioUring =
        probeRing.result === 'OK'
          ? {
              open: await both(p, ['uring', 'open', secret, 'r']),
              connect: await both(p, ['uring', 'connect', CIDR_HOST, '9999']),
              rename: {
                inside: await attempt(['uring', 'rename', locked, `${B}/o/moved`], p.cg.path),
                outside: await attempt(['uring', 'rename', locked, `${B}/o/moved`], fx.outside.path),
              },
            }
          : {
              skip: `io_uring unavailable: io_uring_setup ${probeRing.result} (kernel.io_uring_disabled=${disabled})`,
            };
      if (existsSync(`${B}/o/moved`)) renameSync(`${B}/o/moved`, locked);
      const link = async (cg: string, name: string) => attempt(['link', secret, `${B}/o/${name}`], cg);
      return {
        ioUring,
        openat2Beneath: await both(p, ['openat2', `${B}/o`, 'secret', 'beneath']),
        openat2InRoot: await both(p, ['openat2', `${B}/o`, '/secret', 'in-root']),
        openat2NoLinks: await both(p, ['openat2', `${B}/o`, 'secret', 'no-symlinks,no-magiclinks,no-xdev']),
        opathReopen: await both(p, ['opath-reopen', secret, 'r']),
        hardLink: { inside: await link(p.cg.path, 'l-in'), outside: await link(fx.outside.path, 'l-out') },
      };
    },
  },
  {
    // From vArmor's own generator: RuntimeDefault denies /proc/**/mem (every process's memory),
    // and cgroups-lxcfs-escape-mitigation any cgroup.procs (moving a task to another cgroup).
    name: 'bypass vArmor rules: /proc/**/mem under RuntimeDefault, any cgroup.procs under the lxcfs mitigation',
    async run() {
      const rt = fx.protect('bx-runtime-default', { privileged: false });
      const lxcfs = fx.protect('bx-lxcfs', { vulMitigationRules: ['cgroups-lxcfs-escape-mitigation'] });
      const other = makeCgroup('bx-other');
      return {
        selfMem: await both(rt, ['open', '/proc/self/mem', 'r']),
        pid1Mem: await both(rt, ['open', '/proc/1/mem', 'r']),
        cgroupProcs: await both(lxcfs, ['open', `${other.path}/cgroup.procs`, 'w']),
      };
    },
  },
];
