// A runc container protected before its first instruction: its cgroup is created and bound
// before `runc run` starts it (the same order the agent's createRuntime hook gives), and the
// container's very first program is denied what the policy forbids.

import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import type { EnhanceProtect } from '../../../profiler/api/types.js';
import { Fixture, tablesFor } from '../guest/bpf.js';
import { makeCgroup, sh, sleep } from '../guest/lib.js';
import type { GuestCase } from '../guest/types.js';

export interface BundleOptions {
  dir: string;
  args: string[];
  /** cgroup path relative to the cgroup v2 root, as in config.json's linux.cgroupsPath. */
  cgroupsPath: string;
  files?: Record<string, string>;
  /** Capabilities of the container process (runc gives none when the spec lists none). */
  capabilities?: string[];
  /** The AppArmor profile runc puts the container's first process in (config.json process.apparmorProfile). */
  appArmorProfile?: string;
  /** Extra busybox applet names linked in /bin. */
  applets?: string[];
}

/** A busybox bundle: rootfs with the static busybox and its applets, and a minimal OCI config. */
export function makeBundle(opts: BundleOptions): void {
  const rootfs = `${opts.dir}/rootfs`;
  for (const d of ['bin', 'etc', 'proc', 'dev', 'tmp']) mkdirSync(`${rootfs}/${d}`, { recursive: true });
  copyFileSync('/bin/busybox', `${rootfs}/bin/busybox`);
  chmodSync(`${rootfs}/bin/busybox`, 0o755);
  for (const applet of ['sh', 'cat', 'echo', 'id', 'true', 'ls', ...(opts.applets ?? [])]) symlinkSync('busybox', `${rootfs}/bin/${applet}`);
  for (const [path, text] of Object.entries(opts.files ?? {})) writeFileSync(`${rootfs}${path}`, text);
  const config = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: opts.args,
      env: ['PATH=/bin'],
      cwd: '/',
      ...(opts.capabilities
        ? { capabilities: { bounding: opts.capabilities, effective: opts.capabilities, permitted: opts.capabilities } }
        : {}),
      ...(opts.appArmorProfile ? { apparmorProfile: opts.appArmorProfile } : {}),
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'ctr',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    ],
    linux: {
      cgroupsPath: opts.cgroupsPath,
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
  writeFileSync(`${opts.dir}/config.json`, JSON.stringify(config, null, 2));
}

export async function runc(args: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return sh(`runc --root /run/runc ${args}`, 60_000);
}

/**
 * `runc create`, then `beforeStart` (a bind, as the createRuntime hook does), then `runc start`;
 * the container's output goes to `log` (it keeps runc's stdio open). Returns its first pid.
 */
export async function createAndStart(dir: string, id: string, log: string, beforeStart?: () => void): Promise<number> {
  const created = await runc(`create --no-pivot -b ${dir} ${id} > ${log} 2>&1`);
  if (created.code !== 0) throw new Error(`runc create ${id}: ${readFileSync(log, 'utf8')}`);
  beforeStart?.();
  const started = await runc(`start ${id}`);
  if (started.code !== 0) throw new Error(`runc start ${id}: ${started.stderr}`);
  return (JSON.parse((await runc(`state ${id}`)).stdout) as { pid: number }).pid;
}

/** Waits up to `waitMs` for the container to stop (after killing it, when asked), then deletes it. */
export async function stopAndDelete(id: string, opts: { kill?: boolean; waitMs?: number } = {}): Promise<void> {
  if (opts.kill) await runc(`kill ${id} KILL`);
  for (let waited = 0; waited < (opts.waitMs ?? 10_000); waited += 100) {
    const st = await runc(`state ${id}`);
    if (st.code !== 0 || /"status": "stopped"/.test(st.stdout)) break;
    await sleep(100);
  }
  await runc(`delete -f ${id}`);
}

let fx: Fixture;

export async function setup(): Promise<void> {
  fx = new Fixture('enforce');
}

export async function teardown(): Promise<void> {
  fx?.detach();
}

/** Bound before start, then `runc run`; returns both runs (protected, then the same container unbound). */
async function protectedAndNot(name: string, enhanceProtect: EnhanceProtect, args: string[]) {
  const dir = `/tmp/bundle-${name}`;
  makeBundle({ dir, args, cgroupsPath: `/varmor-ctr/${name}`, files: { '/etc/secret': 'top-secret\n' } });
  const { policyId, tables } = tablesFor(`varmor-guest-runc-${name}`, enhanceProtect);
  fx.enforcer.loadPolicy(policyId, tables);
  const cg = makeCgroup(`varmor-ctr/${name}`);
  fx.enforcer.bindCgroup(cg.id, policyId);
  const protectedRun = await runc(`run --no-pivot -b ${dir} ${name}`);
  // runc removed the cgroup on exit; the rerun gets a new, unbound one: same container, no policy.
  const unprotectedRun = await runc(`run --no-pivot -b ${dir} ${name}-again`);
  return { protectedRun, unprotectedRun, cgroupId: cg.id };
}

/**
 * `runc create`, then (optionally) bind the container's cgroup with armOnExec, then `runc start`:
 * runc's own setup (its mounts) is done before the bind, and enforcement starts at the
 * entrypoint's execve. Output goes to a file, since the container keeps runc's stdio open.
 */
async function createBindStart(dir: string, id: string, cgroupsPath: string, bind?: { policyId: number }) {
  const log = `${dir}/${id}.log`;
  let cgroupId = 0n;
  await createAndStart(dir, id, log, () => {
    // the cgroup runc created for the container
    cgroupId = makeCgroup(cgroupsPath.replace(/^\//, '')).id;
    if (bind) fx.enforcer.bindCgroup(cgroupId, bind.policyId, { armOnExec: true });
  });
  await stopAndDelete(id, { waitMs: 30_000 });
  return { output: readFileSync(log, 'utf8'), cgroupId };
}

export const cases: GuestCase[] = [
  {
    name: 'runc: a container bound before start is denied from its first instruction',
    async run() {
      return protectedAndNot(
        'first',
        { privileged: true, bpfRawRules: { files: [{ pattern: '/etc/secret', permissions: ['read'], qualifiers: ['deny'] }] } },
        ['/bin/cat', '/etc/secret'],
      );
    },
  },
  {
    name: 'runc: create, bind armed on exec, start: the baseline confines a fully capable entrypoint',
    async run() {
      const dir = '/tmp/bundle-armed';
      makeBundle({
        dir,
        args: ['/bin/sh', '-c', 'cat /etc/secret; mount -t tmpfs x /tmp && echo mounted'],
        cgroupsPath: '/varmor-ctr/armed',
        files: { '/etc/secret': 'top-secret\n' },
        capabilities: ALL_CAPS,
      });
      // Not privileged: containerd's baseline (no mounts, ...) plus the file rule.
      const { policyId, tables } = tablesFor('varmor-guest-runc-armed', {
        bpfRawRules: { files: [{ pattern: '/etc/secret', permissions: ['read'], qualifiers: ['deny'] }] },
      });
      fx.enforcer.loadPolicy(policyId, tables);
      const protectedRun = await createBindStart(dir, 'armed', '/varmor-ctr/armed', { policyId });
      const unprotectedRun = await createBindStart(dir, 'armed-again', '/varmor-ctr/armed');
      return { protectedRun, unprotectedRun };
    },
  },
];

export const ALL_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
];
