// Test helpers for the addon on a real kernel: a throw-away cgroup v2 directory, processes run
// inside it, and the BPF program ids bpftool sees. Used by native/*.test.ts and the guest suite.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The cgroup2 mount point from /proc/self/mountinfo (/sys/fs/cgroup/unified on hybrid hosts). */
export function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre.split(' ')[4];
  }
  throw new Error('no cgroup2 mount in /proc/self/mountinfo');
}

export interface TestCgroup {
  path: string;
  id: bigint;
  /** Run `sh -c script` with the shell moved into the cgroup first; returns the shell's pid. */
  run(script: string): { pid: number; status: number | null; stdout: string };
  remove(): void;
}

let seq = 0;
export function makeCgroup(tag = 'varmor-test'): TestCgroup {
  const path = join(cgroup2Mount(), `${tag}-${process.pid}-${seq++}`);
  mkdirSync(path);
  const id = statSync(path, { bigint: true }).ino;
  return {
    path,
    id,
    run(script: string) {
      const r = spawnSync('sh', ['-c', `echo $$ > ${path}/cgroup.procs && echo PID=$$ && ${script}`], { encoding: 'utf8' });
      const m = /PID=(\d+)/.exec(r.stdout ?? '');
      return { pid: m ? Number(m[1]) : -1, status: r.status, stdout: r.stdout ?? '' };
    },
    remove() {
      // processes have exited by now; move stragglers out so rmdir succeeds
      try {
        for (const p of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          writeFileSync(join(cgroup2Mount(), 'cgroup.procs'), p);
        }
        rmdirSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

/** Ids of loaded BPF programs whose name starts with `prefix` (bpftool truncates names to 15). */
export function bpfProgIds(prefix = 'vt_'): Set<number> {
  const out = execFileSync('bpftool', ['-j', 'prog', 'list'], { encoding: 'utf8' });
  const progs = JSON.parse(out) as { id: number; name?: string }[];
  return new Set(progs.filter((p) => p.name?.startsWith(prefix)).map((p) => p.id));
}

/** Poll until none of `ids` is loaded (release is asynchronous, ~200 ms). Returns those left. */
export async function waitProgsGone(ids: Set<number>, timeoutMs = 10000): Promise<number[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const now = bpfProgIds('');
    const left = [...ids].filter((id) => now.has(id));
    if (left.length === 0 || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}
