// One case per hook of the addon: the action is denied inside a cgroup bound to a policy that
// forbids it, and the very same action succeeds from an unbound cgroup. Policies go through the
// real compiler; the actions are real syscalls made by vprobe.

import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { Fixture, tablesFor, type Pair } from '../guest/bpf.js';
import { attempt, file, makeCgroup, mountOverlay, probe, sh, sleep, withBpfStats } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';

const G = '/tmp/g';
const PORTS = [8080, 8081, 8082, 8083, 8084];
let fx: Fixture;
const servers: Server[] = [];

export async function setup(): Promise<void> {
  mkdirSync(`${G}/bin`, { recursive: true });
  mkdirSync(`${G}/links`, { recursive: true });
  for (const p of PORTS) {
    const srv = createServer((s) => s.destroy());
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: '::', port: p, ipv6Only: false }, () => resolve());
    });
    servers.push(srv);
  }
  // Guest-only addresses on the loopback device for the CIDR cases (no NIC exists in the guest).
  const ip = await sh('ip addr add 10.99.1.1/32 dev lo && ip -6 addr add fd00:99::1/128 dev lo');
  if (ip.code !== 0) throw new Error(`ip addr add: ${ip.stderr}`);
  fx = new Fixture('enforce');
}

export async function teardown(): Promise<void> {
  for (const s of servers) s.close();
  fx?.detach();
}

/** Runs the same vprobe action inside the policy's cgroup and outside. */
const both = (insideCg: string, args: string[]): Promise<Pair> => fx.both(insideCg, args);

export const cases: GuestCase[] = [
  {
    name: 'file open: read denied, write of the same file allowed',
    async run() {
      const f = file(`${G}/read-secret`);
      const p = fx.protect('open-read', { bpfRawRules: { files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }] } });
      return { read: await both(p.cg.path, ['open', f, 'r']), write: await both(p.cg.path, ['open', f, 'w']) };
    },
  },
  {
    name: 'file open: write denied, read allowed',
    async run() {
      const f = file(`${G}/write-secret`);
      const p = fx.protect('open-write', { bpfRawRules: { files: [{ pattern: f, permissions: ['write'], qualifiers: ['deny'] }] } });
      return {
        write: await both(p.cg.path, ['open', f, 'w']),
        readWrite: await both(p.cg.path, ['open', f, 'rw']),
        read: await both(p.cg.path, ['open', f, 'r']),
      };
    },
  },
  {
    name: 'file open: append denied',
    async run() {
      const f = file(`${G}/append-log`);
      const p = fx.protect('open-append', { bpfRawRules: { files: [{ pattern: f, permissions: ['append'], qualifiers: ['deny'] }] } });
      return { append: await both(p.cg.path, ['open', f, 'a']), read: await both(p.cg.path, ['open', f, 'r']) };
    },
  },
  {
    name: 'exact path rule: /etc/passwd does not match /etc/passwd-',
    async run() {
      const p = fx.protect('exact', { bpfRawRules: { files: [{ pattern: '/etc/passwd', permissions: ['read'], qualifiers: ['deny'] }] } });
      return { passwd: await both(p.cg.path, ['open', '/etc/passwd', 'r']), passwdDash: await both(p.cg.path, ['open', '/etc/passwd-', 'r']) };
    },
  },
  {
    name: 'glob rule: /tmp/g/keys/** and *.pem',
    async run() {
      mkdirSync(`${G}/keys/sub`, { recursive: true });
      const deep = file(`${G}/keys/sub/id`);
      const pem = file(`${G}/server.pem`);
      const other = file(`${G}/server.txt`);
      const p = fx.protect('glob', {
        bpfRawRules: {
          files: [
            { pattern: `${G}/keys/**`, permissions: ['read'], qualifiers: ['deny'] },
            { pattern: '*.pem', permissions: ['read'], qualifiers: ['deny'] },
          ],
        },
      });
      return {
        deep: await both(p.cg.path, ['open', deep, 'r']),
        pem: await both(p.cg.path, ['open', pem, 'r']),
        other: await both(p.cg.path, ['open', other, 'r']),
      };
    },
  },
  {
    name: 'path rename: a protected file cannot be renamed away or replaced',
    async run() {
      const f = file(`${G}/ren-protected`);
      const p = fx.protect('rename', { bpfRawRules: { files: [{ pattern: f, permissions: ['write'], qualifiers: ['deny'] }] } });
      const inside = await attempt(['rename', f, `${G}/ren-moved`], p.cg.path);
      const replace = await attempt(['rename', file(`${G}/ren-other`), f], p.cg.path);
      const outside = await attempt(['rename', f, `${G}/ren-moved`], fx.outside.path);
      return { inside, replace, outside };
    },
  },
  {
    name: 'path unlink: a protected file cannot be removed',
    async run() {
      const f = file(`${G}/unlink-protected`);
      const p = fx.protect('unlink', { bpfRawRules: { files: [{ pattern: f, permissions: ['write'], qualifiers: ['deny'] }] } });
      return { inside: await attempt(['unlink', f], p.cg.path), outside: await attempt(['unlink', f], fx.outside.path) };
    },
  },
  {
    name: 'path link: no hard link to a protected file',
    async run() {
      const f = file(`${G}/link-protected`);
      const p = fx.protect('link', { bpfRawRules: { files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }] } });
      return {
        inside: await attempt(['link', f, `${G}/link-in`], p.cg.path),
        outside: await attempt(['link', f, `${G}/link-out`], fx.outside.path),
      };
    },
  },
  {
    name: 'path chmod: a protected file keeps its mode',
    async run() {
      const f = file(`${G}/chmod-protected`);
      const p = fx.protect('chmod', { bpfRawRules: { files: [{ pattern: f, permissions: ['write'], qualifiers: ['deny'] }] } });
      return { inside: await attempt(['chmod', f, '4755'], p.cg.path), outside: await attempt(['chmod', f, '0755'], fx.outside.path) };
    },
  },
  {
    name: 'exec: denied by path, through a symlink, execveat, an O_PATH fd and as a script interpreter',
    async run() {
      const bin = `${G}/bin/forbidden`;
      copyFileSync('/usr/local/bin/vprobe', bin);
      chmodSync(bin, 0o755);
      symlinkSync(bin, `${G}/links/alias`);
      writeFileSync(`${G}/script.sh`, `#!${bin}\n`);
      chmodSync(`${G}/script.sh`, 0o755);
      const p = fx.protect('exec', {
        bpfRawRules: {
          // (a copy under another name is not this rule's to stop: scenarios/bypass.ts, road 7)
          processes: [{ pattern: bin, permissions: ['exec'], qualifiers: ['deny'] }],
        },
      });
      return {
        direct: await both(p.cg.path, ['exec', bin]),
        symlink: await both(p.cg.path, ['exec', `${G}/links/alias`]),
        execveat: await both(p.cg.path, ['execveat', `${G}/bin`, 'forbidden']),
        fdExec: await both(p.cg.path, ['fexec', bin]),
        interpreter: await both(p.cg.path, ['exec', `${G}/script.sh`]),
        otherBinary: await both(p.cg.path, ['exec', '/bin/true']),
      };
    },
  },
  {
    name: 'capabilities: denied to a fully privileged root process',
    async run() {
      file('/tmp/vprobe-cap');
      const p = fx.protect('caps', { hardeningRules: ['disable-cap-chown', 'disable-cap-net-raw', 'disable-cap-sys-time'] });
      const status = readFileSync('/proc/self/status', 'utf8');
      return {
        uid: process.getuid?.(),
        capEff: /CapEff:\s*(\S+)/.exec(status)?.[1],
        chown: await both(p.cg.path, ['cap', 'chown']),
        netRaw: await both(p.cg.path, ['cap', 'net_raw']),
        sysTime: await both(p.cg.path, ['cap', 'sys_time']),
        sysAdminNotInPolicy: await both(p.cg.path, ['cap', 'sys_admin']),
      };
    },
  },
  {
    name: 'socket create: by domain, type and protocol',
    async run() {
      const p = fx.protect('socket', {
        bpfRawRules: {
          network: {
            sockets: [
              { domains: ['packet'], qualifiers: ['deny'] },
              { domains: ['inet6'], types: ['raw'], qualifiers: ['deny'] },
              { protocols: ['udp'], qualifiers: ['deny'] },
            ],
          },
        },
      });
      return {
        packet: await both(p.cg.path, ['socket', 'packet', 'raw', '0']),
        inet6Raw: await both(p.cg.path, ['socket', 'inet6', 'raw', 'icmpv6']),
        udp: await both(p.cg.path, ['socket', 'inet', 'dgram', 'udp']),
        udpDefaultProto: await both(p.cg.path, ['socket', 'inet', 'dgram', '0']),
        tcp: await both(p.cg.path, ['socket', 'inet', 'stream', 'tcp']),
        inet6Tcp: await both(p.cg.path, ['socket', 'inet6', 'stream', '0']),
      };
    },
  },
  {
    name: 'connect: by IP, CIDR and port, IPv4 and IPv6',
    async run() {
      const p = fx.protect('connect', {
        bpfRawRules: {
          network: {
            egress: {
              toDestinations: [
                { ip: '127.0.0.2', qualifiers: ['deny'] },
                { cidr: '10.99.0.0/16', qualifiers: ['deny'] },
                { ip: '127.0.0.1', ports: [{ port: 8082, endPort: 8083 }], qualifiers: ['deny'] },
                { ip: '::1', ports: [{ port: 8081 }], qualifiers: ['deny'] },
                { cidr: 'fd00:99::/64', qualifiers: ['deny'] },
              ],
            },
          },
        },
      });
      const c = (host: string, port: number) => both(p.cg.path, ['connect', host, String(port)]);
      return {
        ip: await c('127.0.0.2', 8080),
        ipMapped: await c('::ffff:127.0.0.2', 8080),
        cidr: await c('10.99.1.1', 8080),
        portInRange: await c('127.0.0.1', 8083),
        portOutsideRange: await c('127.0.0.1', 8084),
        otherAddress: await c('127.0.0.1', 8080),
        ip6Port: await c('::1', 8081),
        ip6OtherPort: await c('::1', 8080),
        cidr6: await c('fd00:99::1', 8080),
      };
    },
  },
  {
    name: "connect: pod-self, the bound cgroup's own addresses on the rule's port",
    async run() {
      // the node reads the pod's addresses at bind (agent/binding/pod-addresses.ts); here they are given
      const p = fx.protect('pod-self', { bpfRawRules: { network: { egress: { toDestinations: [{ ip: 'pod-self', ports: [{ port: 8080 }], qualifiers: ['deny'] }] } } } }, {
        selfAddresses: ['127.0.0.7', '::1'],
      });
      const other = fx.protect('pod-self-other', { bpfRawRules: { network: { egress: { toDestinations: [{ ip: 'pod-self', ports: [{ port: 8080 }], qualifiers: ['deny'] }] } } } }, {
        selfAddresses: ['127.0.0.8'],
      });
      // bound while its policy had no pod-self rule (the agent gives the addresses at every bind); the update adds one
      const later = fx.protect('pod-self-later', {}, { selfAddresses: ['127.0.0.9'] });
      const c = (cg: string, host: string, port: number) => both(cg, ['connect', host, String(port)]);
      const beforeUpdate = await c(later.cg.path, '127.0.0.9', 8080);
      const updated = tablesFor('varmor-guest-pod-self-later', { privileged: true, bpfRawRules: { network: { egress: { toDestinations: [{ ip: 'pod-self', ports: [{ port: 8080 }], qualifiers: ['deny'] }] } } } });
      fx.enforcer.loadPolicy(updated.policyId, updated.tables);
      const r = {
        beforeUpdate,
        afterUpdate: await c(later.cg.path, '127.0.0.9', 8080),
        own: await c(p.cg.path, '127.0.0.7', 8080),
        own6: await c(p.cg.path, '::1', 8080),
        ownOtherPort: await c(p.cg.path, '127.0.0.7', 8081),
        anotherPods: await c(p.cg.path, '127.0.0.8', 8080),
        otherOwn: await c(other.cg.path, '127.0.0.8', 8080),
      };
      for (const x of [p, other, later]) fx.enforcer.unbindCgroup(x.cg.id);
      return r;
    },
  },
  {
    name: 'setsockopt: SO_ATTACH_FILTER denied',
    async run() {
      const p = fx.protect('setsockopt', { hardeningRules: ['disallow-load-bpf-via-setsockopt'] });
      return both(p.cg.path, ['attach-filter']);
    },
  },
  {
    name: 'bpf: program load denied',
    async run() {
      const p = fx.protect('bpf', { hardeningRules: ['disallow-load-all-bpf-prog'] });
      return both(p.cg.path, ['bpf-load']);
    },
  },
  {
    name: 'userns: creation denied',
    async run() {
      const p = fx.protect('userns', { hardeningRules: ['disallow-create-user-ns'] });
      return both(p.cg.path, ['userns']);
    },
  },
  {
    name: 'ptrace: attaching to another process denied',
    async run() {
      const p = fx.protect('ptrace', { bpfRawRules: { ptrace: { permissions: ['trace'], qualifiers: ['deny'], strictMode: true } } });
      // Yama (on in this kernel) would refuse a non-ancestor tracer everywhere; take it out of the way.
      writeFileSync('/proc/sys/kernel/yama/ptrace_scope', '0');
      const { spawn } = await import('node:child_process');
      const target = spawn('/usr/local/bin/vprobe', ['sleep', '60'], { stdio: 'ignore' });
      try {
        if (!target.pid) throw new Error('could not start the ptrace target');
        return await both(p.cg.path, ['ptrace', String(target.pid)]);
      } finally {
        target.kill('SIGKILL');
      }
    },
  },
  {
    name: 'mount: denied by source and fstype',
    async run() {
      mkdirSync('/mnt/m-in', { recursive: true });
      mkdirSync('/mnt/m-out', { recursive: true });
      const p = fx.protect('mount', {
        bpfRawRules: { mounts: [{ sourcePattern: 'vt-src', fstype: 'tmpfs', flags: ['all'], qualifiers: ['deny'] }] },
      });
      const inside = await attempt(['mount', 'vt-src', '/mnt/m-in', 'tmpfs'], p.cg.path);
      const otherSource = await attempt(['mount', 'other-src', '/mnt/m-in', 'tmpfs'], p.cg.path);
      const outside = await attempt(['mount', 'vt-src', '/mnt/m-out', 'tmpfs'], fx.outside.path);
      await sh('umount /mnt/m-in; umount /mnt/m-out');
      return { inside, otherSource, outside };
    },
  },
  {
    name: 'move_mount: attaching a cloned mount tree denied',
    async run() {
      for (const d of ['/mnt/mm-src', '/mnt/mm-in', '/mnt/mm-out']) mkdirSync(d, { recursive: true });
      const mounted = await attempt(['mount', 'mm-src', '/mnt/mm-src', 'tmpfs']);
      const p = fx.protect('move-mount', { hardeningRules: ['disallow-mount'] });
      const inside = await attempt(['move-mount', '/mnt/mm-src', '/mnt/mm-in'], p.cg.path);
      const outside = await attempt(['move-mount', '/mnt/mm-src', '/mnt/mm-out'], fx.outside.path);
      await sh('umount /mnt/mm-out; umount /mnt/mm-in; umount /mnt/mm-src');
      return { mounted, inside, outside };
    },
  },
  {
    name: 'umount: denied',
    async run() {
      mkdirSync('/mnt/u', { recursive: true });
      const mounted = await attempt(['mount', 'u-src', '/mnt/u', 'tmpfs']);
      const p = fx.protect('umount', { hardeningRules: ['disallow-umount'] });
      const inside = await attempt(['umount', '/mnt/u'], p.cg.path);
      const outside = await attempt(['umount', '/mnt/u'], fx.outside.path);
      return { mounted, inside, outside };
    },
  },
  {
    name: 'nested cgroup: a child of a protected cgroup is protected too',
    async run() {
      const f = file(`${G}/nested-secret`);
      const p = fx.protect('nested', { bpfRawRules: { files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }] } });
      mkdirSync(`${p.cg.path}/child/grandchild`, { recursive: true });
      return { grandchild: await attempt(['open', f, 'r'], `${p.cg.path}/child/grandchild`) };
    },
  },
  {
    // Each task caches its cgroup's policy (vt_task_cache); a bind or unbind must reach a task
    // that is already running and has been through the hooks, with no exec in between.
    name: 'rebinding: a running task is confined when its cgroup is bound and released when unbound',
    timeoutMs: 120_000,
    async run() {
      const f = file(`${G}/rebind-secret`);
      const { policyId, tables } = tablesFor('varmor-guest-rebind', {
        privileged: true,
        bpfRawRules: { files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }] },
      });
      fx.enforcer.loadPolicy(policyId, tables);
      const cg = makeCgroup('p-rebind');
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const counts = async (loop: Promise<{ detail: string }>) =>
        Object.fromEntries((await loop).detail.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
      // 1. a loop starts unbound (its opens succeed and its task caches "not protected"), then the cgroup is bound
      const stop1 = `${G}/rebind-stop-1`;
      const loop1 = probe(['loop-open', f, '0', stop1], { cgroup: cg.path });
      await pause(1500);
      fx.enforcer.bindCgroup(cg.id, policyId);
      await pause(1500);
      writeFileSync(stop1, '');
      const bound = await counts(loop1);
      // 2. a loop starts bound (denied, cached "protected"), then the cgroup is unbound
      const stop2 = `${G}/rebind-stop-2`;
      const loop2 = probe(['loop-open', f, '0', stop2], { cgroup: cg.path });
      await pause(1500);
      fx.enforcer.unbindCgroup(cg.id);
      await pause(1500);
      writeFileSync(stop2, '');
      const unbound = await counts(loop2);
      return { bound, unbound };
    },
  },
  {
    name: 'live update: tables swapped while a loop keeps checking',
    timeoutMs: 180_000,
    async run() {
      const shared = file(`${G}/live-both`);
      const oldOnly = file(`${G}/live-old`);
      const newOnly = file(`${G}/live-new`);
      const deny = (paths: string[]) => ({ bpfRawRules: { files: paths.map((f) => ({ pattern: f, permissions: ['read'], qualifiers: ['deny'] })) } });
      const p = fx.protect('live', deny([shared, oldOnly]));
      const v1 = tablesFor('varmor-guest-live', { privileged: true, ...deny([shared, oldOnly]) }).tables;
      const v2 = tablesFor('varmor-guest-live', { privileged: true, ...deny([shared, newOnly]) }).tables;
      const stop = `${G}/live-stop`;
      const loop = probe(['loop-open', shared, '0', stop], { cgroup: p.cg.path });
      let swaps = 0;
      const t0 = Date.now();
      while (swaps < 400 || Date.now() - t0 < 3000) {
        fx.enforcer.loadPolicy(p.policyId, swaps % 2 === 0 ? v2 : v1);
        swaps += 1;
        await new Promise((r) => setImmediate(r));
      }
      fx.enforcer.loadPolicy(p.policyId, v2);
      writeFileSync(stop, '');
      const counts = Object.fromEntries((await loop).detail.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
      return {
        swaps: swaps + 1,
        loop: counts,
        afterOld: await attempt(['open', oldOnly, 'r'], p.cg.path),
        afterNew: await attempt(['open', newOnly, 'r'], p.cg.path),
      };
    },
  },
  {
    // A container's root file system is an overlay mount: behind each open of one of its files
    // the kernel opens the real file too (same path, flags and task), which the enforcer skips.
    name: 'overlayfs: an open through an overlay mount is checked once, and denied by its overlay path',
    async run() {
      const o = `${G}/ovl`;
      mkdirSync(`${o}/lower`, { recursive: true });
      file(`${o}/lower/secret`);
      file(`${o}/lower/audited`);
      await mountOverlay(`${o}/lower`, `${o}/upper`, `${o}/work`, `${o}/merged`);
      const fsType = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === `${o}/merged`)?.split(' ')[2];
      const denied = fx.protect('ovl-deny', { bpfRawRules: { files: [{ pattern: `${o}/merged/secret`, permissions: ['read'], qualifiers: ['deny'] }] } });
      fx.events();
      const audited = fx.protect('ovl-audit', {
        auditViolations: true,
        allowViolations: true,
        bpfRawRules: { files: [{ pattern: `${o}/merged/audited`, permissions: ['read'], qualifiers: ['deny'] }] },
      });
      const auditedOpens = [];
      for (let i = 0; i < 3; i++) auditedOpens.push(await attempt(['open', `${o}/merged/audited`, 'r'], audited.cg.path));
      const events = fx.events().filter((e) => e.policyId === audited.policyId);
      return { fsType, secret: await both(denied.cg.path, ['open', `${o}/merged/secret`, 'r']), auditedOpens, events };
    },
  },
  {
    // The pre-filter computes a path's length and first and last bytes from the dentries, without
    // building it, to skip the lookups when no rule can match. Every shape of path it walks has a
    // rule here that must still match: mounts stacked on mounts, a bind mount of a subdirectory,
    // and a top-level name too long to be stored inline (which it leaves to d_path), with exact,
    // prefix and suffix rules. (A walk that miscounts the names above a mount fails this case.)
    name: 'path pre-filter: files behind stacked mounts, a bind mount and a long top-level name are still matched',
    async run() {
      const base = `${G}/pf`;
      const long = '/vt-prefilter-a-directory-name-longer-than-32-bytes';
      mkdirSync(`${base}/m1`, { recursive: true });
      mkdirSync(`${base}/src`, { recursive: true });
      mkdirSync(`${long}/m`, { recursive: true });
      const mounted = await sh(
        [
          `mount -t tmpfs vt-pf1 ${base}/m1`,
          `mkdir -p ${base}/m1/m2 ${base}/m1/bind`,
          `mount -t tmpfs vt-pf2 ${base}/m1/m2`,
          `mkdir -p ${base}/m1/m2/keys`,
          `mount --bind ${base}/src ${base}/m1/bind`,
          `mount -t tmpfs vt-pf3 ${long}/m`,
        ].join(' && '),
      );
      if (mounted.code !== 0) throw new Error(`mount: ${mounted.stderr}`);
      const deep = `${base}/m1/m2`;
      const paths = {
        exact: file(`${deep}/secret`),
        prefix: file(`${deep}/keys/a`),
        suffix: file(`${deep}/x.key`),
        other: file(`${deep}/other`),
        bind: file(`${base}/src/bsecret`).replace(`${base}/src`, `${base}/m1/bind`),
        bindSource: `${base}/src/bsecret`,
        long: file(`${long}/m/secret`),
      };
      // One policy per kind of rule: with a single kind, only that kind's fact (length, first
      // byte, last byte) lets the path through to the lookup, so a wrong fact shows as "allowed".
      const policy = (name: string, patterns: string[]) =>
        fx.protect(name, { bpfRawRules: { files: patterns.map((pattern) => ({ pattern, permissions: ['read'], qualifiers: ['deny'] })) } });
      const exact = policy('pf-exact', [paths.exact, paths.bind, paths.long]);
      const prefix = policy('pf-prefix', [`${deep}/keys/**`]);
      const suffix = policy('pf-suffix', ['*.key']);
      const where: Record<keyof typeof paths, string> = {
        exact: exact.cg.path,
        prefix: prefix.cg.path,
        suffix: suffix.cg.path,
        other: exact.cg.path,
        bind: exact.cg.path,
        bindSource: exact.cg.path,
        long: exact.cg.path,
      };
      const out: Record<string, { inside: string; outside: string }> = {};
      for (const [k, path] of Object.entries(paths)) out[k] = await both(where[k as keyof typeof paths], ['open', path, 'r']);
      return out;
    },
  },
  {
    // Each task keeps the path facts of the directory it last opened a file in (see path_facts in
    // varmor.bpf.c). A task opens a file, the directory is then renamed, exchanged with another,
    // or the mount it is on moved, and the same task opens the file by its new path, which an
    // exact rule denies: a cache that missed the change would still give the old path's length,
    // which no rule has, and allow it. Each part also shows the invalidating program for that
    // change running, and the last one the program that runs before each dentry is freed. A
    // directory opened through a bind mount has the same dentries under another path: a cache not
    // keyed by the mount would give the first path's length. After a chroot the file is still
    // judged by its path from the container's root, whatever root the task has taken (issue 17):
    // the rule names the real path, the task opens it as /in/secret.
    name: 'path cache: a rename, an exchange and a mount move under a task are seen at its next open',
    async run() {
      const base = `${G}/pc`;
      mkdirSync(`${base}/a`, { recursive: true });
      mkdirSync(`${base}/x`, { recursive: true });
      mkdirSync(`${base}/yyyy`, { recursive: true });
      mkdirSync(`${base}/m1`, { recursive: true });
      mkdirSync(`${base}/moved-far`, { recursive: true });
      mkdirSync(`${base}/s`, { recursive: true });
      mkdirSync(`${base}/bindmnt`, { recursive: true });
      mkdirSync(`${base}/rt/in`, { recursive: true });
      file(`${base}/a/secret`);
      file(`${base}/x/secret`);
      file(`${base}/s/secret`);
      file(`${base}/rt/in/secret`);
      file(`${base}/rt/in/other`);
      const mounted = await sh(`mount -t tmpfs vt-pc ${base}/m1 && echo data > ${base}/m1/f && mount --bind ${base}/s ${base}/bindmnt`);
      if (mounted.code !== 0) throw new Error(`mount: ${mounted.stderr}`);
      // the new paths are 12 and 15 bytes after the base, the old ones 9, 5 and 13 after it: no rule
      // has their length
      const p = fx.protect('pc', {
        bpfRawRules: {
          files: [`${base}/bbbb/secret`, `${base}/yyyy/secret`, `${base}/moved-far/f`, `${base}/bindmnt/secret`, `${base}/rt/in/secret`].map((pattern) => ({
            pattern,
            permissions: ['read'],
            qualifiers: ['deny'],
          })),
        },
      });
      // each change also shows the program that invalidates on it running (kernel run counts)
      const runs = (prog: string) => fx.enforcer.programStats().find((st) => st.name === prog)?.runCount ?? -1n;
      const around = async (name: string, first: string, second: string, hook: string, change: () => Promise<void>) => {
        const ready = `${base}/${name}.ready`;
        const go = `${base}/${name}.go`;
        const task = probe(['open-pause', first, ready, go, second], { cgroup: p.cg.path });
        for (let i = 0; i < 600 && !existsSync(ready); i++) await sleep(50);
        const before = runs(hook);
        await change();
        const ran = before >= 0n && runs(hook) > before;
        mkdirSync(go);
        return { opens: (await task).detail, [hook]: ran };
      };
      return withBpfStats(async () => {
        const renamed = await around('rename', `${base}/a/secret`, `${base}/bbbb/secret`, 'vt_gen_d_move', async () =>
          renameSync(`${base}/a`, `${base}/bbbb`),
        );
        const exchanged = await around('exchange', `${base}/x/secret`, `${base}/yyyy/secret`, 'vt_gen_d_move', async () => {
          const r = await attempt(['exchange', `${base}/x`, `${base}/yyyy`]);
          if (r !== 'OK') throw new Error(`exchange: ${r}`);
        });
        const moved = await around('move', `${base}/m1/f`, `${base}/moved-far/f`, 'vt_gen_ns_unlock', async () => {
          const r = await attempt(['mount-move', `${base}/m1`, `${base}/moved-far`]);
          if (r !== 'OK') throw new Error(`mount-move: ${r}`);
        });
        // the same directory through a bind mount: the same dentries, another mount, another path
        // (the cache is keyed by the mount too; nothing changes in between)
        const bind = await probe(['open-pause', `${base}/s/secret`, `${base}/bind.ready`, `${base}/bind.ready`, `${base}/bindmnt/secret`], {
          cgroup: p.cg.path,
        });
        // the same directory after a chroot: a sibling opened first (allowed, fills the cache), then the
        // denied file as /in/secret under the new root, still judged as ${base}/rt/in/secret
        const chroot = await probe(['open-chroot', `${base}/rt/in/other`, `${base}/rt`, '/in/secret'], { cgroup: p.cg.path });
        const before = runs('vt_gen_d_free');
        // dentries of removed files are freed after an RCU grace period
        const churn = await sh(`for i in $(seq 50); do echo x > ${base}/tmp.$i; rm ${base}/tmp.$i; done; sync; echo 2 > /proc/sys/vm/drop_caches; sleep 1`);
        if (churn.code !== 0) throw new Error(`churn: ${churn.stderr}`);
        const freed = before >= 0n && runs('vt_gen_d_free') > before;
        // a skipped run (the kernel's recursion guard) would turn the cache off: none here
        const recursionMisses = fx.enforcer
          .programStats()
          .filter((st) => st.name.startsWith('vt_gen_'))
          .reduce((sum, st) => sum + Number(st.recursionMisses), 0);
        return { renamed, exchanged, moved, bind: bind.detail, chroot: chroot.detail, freed, recursionMisses };
      });
    },
  },
  {
    name: 'audit: allowViolations allows and reports typed events',
    async run() {
      const f = file(`${G}/audited`);
      fx.events(); // drop what earlier cases reported
      const p = fx.protect('audit', {
        auditViolations: true,
        allowViolations: true,
        bpfRawRules: {
          files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }],
          network: { egress: { toDestinations: [{ ip: '127.0.0.2', ports: [{ port: 8080 }], qualifiers: ['deny'] }] } },
        },
      });
      const inside = await attempt(['open', f, 'r'], p.cg.path);
      const outside = await attempt(['open', f, 'r'], fx.outside.path);
      const connectInside = await attempt(['connect', '127.0.0.2', '8080'], p.cg.path);
      const events = fx.events().filter((e) => e.policyId === p.policyId);
      return { inside, outside, connectInside, cgroupId: p.cg.id, events };
    },
  },
  {
    name: 'audit: auditViolations on an enforced rule denies and reports',
    async run() {
      const f = file(`${G}/audited-denied`);
      fx.events();
      const p = fx.protect('audit-deny', {
        auditViolations: true,
        bpfRawRules: { files: [{ pattern: f, permissions: ['read'], qualifiers: ['deny'] }] },
      });
      const inside = await attempt(['open', f, 'r'], p.cg.path);
      const events = fx.events().filter((e) => e.policyId === p.policyId);
      return { inside, cgroupId: p.cg.id, events };
    },
  },
];
