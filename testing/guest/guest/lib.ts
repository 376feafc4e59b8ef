// What guest scenarios run on: the vprobe helper (one guarded syscall per run, optionally from
// inside a cgroup), cgroup creation and a few shell conveniences. Runs inside the qemu guest only.

import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';

export const VPROBE = '/usr/local/bin/vprobe';
export const CGROUP_ROOT = '/sys/fs/cgroup';

export interface ProbeResult {
  /** `OK` or the errno name the action failed with (`EPERM`, `EACCES`, ...). */
  result: string;
  /** What followed the result on the line (e.g. `exit=0`, `ok=10 eperm=0`). */
  detail: string;
  stderr: string;
}

export class ProbeError extends Error {
  readonly code = 'EPROBE';
  constructor(message: string) {
    super(message);
    this.name = 'ProbeError';
  }
}

function run(file: string, args: string[], timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      // killed at the deadline: say so (code 124, as timeout(1) does) instead of a bare failure
      if (err?.killed) return resolve({ stdout: String(stdout), stderr: `${String(stderr)}timed out after ${timeoutMs} ms`, code: 124 });
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
  });
}

/**
 * Runs one vprobe action; `cgroup` is a cgroup directory the probe joins before acting.
 * `outputFile`: vprobe writes there instead of to node's stdio, which libuv makes a unix socket
 * pair: a probe under an AppArmor network rule may rightly not write to it (a container's stdio
 * is a pipe).
 */
export async function probe(args: string[], opts: { cgroup?: string; timeoutMs?: number; outputFile?: string } = {}): Promise<ProbeResult> {
  const argv = opts.cgroup ? ['-c', opts.cgroup, ...args] : args;
  const { stdout: out, stderr, code } = opts.outputFile
    ? await run('/bin/sh', ['-c', `exec "$0" "$@" > ${opts.outputFile} 2>&1`, VPROBE, ...argv], opts.timeoutMs)
    : await run(VPROBE, argv, opts.timeoutMs);
  const stdout = opts.outputFile ? readFileSync(opts.outputFile, 'utf8') : out;
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || line === '') throw new ProbeError(`vprobe ${argv.join(' ')}: exit ${code}: ${stderr.trim()}`);
  const [result, ...rest] = line.split(' ');
  return { result, detail: rest.join(' '), stderr };
}

/** Shorthand: just the result token. */
export async function attempt(args: string[], cgroup?: string): Promise<string> {
  return (await probe(args, { cgroup })).result;
}

export interface Cgroup {
  path: string;
  /** The id BPF sees: the inode number of the cgroup v2 directory. */
  id: bigint;
}

export function makeCgroup(relPath: string): Cgroup {
  const path = `${CGROUP_ROOT}/${relPath}`;
  mkdirSync(path, { recursive: true });
  return { path, id: statSync(path, { bigint: true }).ino };
}

/** Removes an empty cgroup (its processes must have exited). */
export function removeCgroup(cg: Cgroup): void {
  try {
    rmdirSync(cg.path);
  } catch {
    // still busy or already gone: the guest is thrown away at poweroff anyway
  }
}

export async function sh(script: string, timeoutMs = 60_000): Promise<{ stdout: string; stderr: string; code: number }> {
  return run('/bin/sh', ['-c', script], timeoutMs);
}

/** Mounts an overlay of `lower` at `merged`, making the folders it needs (`upper` and `work` must share a file system). */
export async function mountOverlay(lower: string, upper: string, work: string, merged: string): Promise<void> {
  for (const d of [lower, upper, work, merged]) mkdirSync(d, { recursive: true });
  const m = await sh(`mount -t overlay overlay -o lowerdir=${lower},upperdir=${upper},workdir=${work} ${merged}`);
  if (m.code !== 0) throw new Error(`mount -t overlay at ${merged}: ${m.stderr}`);
}

/** Runs `fn` with the kernel's per-program counters on (kernel.bpf_stats_enabled), off again after. */
export async function withBpfStats<T>(fn: () => Promise<T>): Promise<T> {
  const STATS = '/proc/sys/kernel/bpf_stats_enabled';
  writeFileSync(STATS, '1');
  try {
    return await fn();
  } finally {
    writeFileSync(STATS, '0');
  }
}

/**
 * The kernel log lines AppArmor wrote for `profile` since the last call (each call clears the
 * log): its own label's, and with `withChildren` those of its child and learning profiles
 * (`profile//child_0`, `profile//null-/bin/sh`) too.
 */
export async function takeAppArmorLog(profile: string, opts: { withChildren?: boolean } = {}): Promise<string[]> {
  const { stdout } = await sh('dmesg -c');
  return stdout
    .split('\n')
    .filter((l) => l.includes('apparmor=') && (l.includes(`profile="${profile}"`) || (opts.withChildren === true && l.includes(`profile="${profile}//`))));
}

/** Writes `text` to `path` and gives the path back (a case's files, named where they are made). */
export function file(path: string, text = 'data\n'): string {
  writeFileSync(path, text);
  return path;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
