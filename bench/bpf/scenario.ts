// bench/bpf, guest side: open, exec and connect loops (in C, inside vprobe) from a cgroup bound
// to a policy with 0, 8 or 1,000 rules per type, against the same loops from an unbound cgroup,
// all in one boot. Runs are interleaved (protected, unprotected, protected, ...) and repeated,
// because TCG timing drifts; the host takes medians.

import { writeFileSync } from 'node:fs';
import { Fixture, type Protected } from '../../native/guest/guest/bpf.js';
import { probe } from '../../native/guest/guest/lib.js';
import type { GuestCase } from '../../native/guest/guest/types.js';
import type { EnhanceProtect } from '../../profiler/api/types.js';

export const RULE_COUNTS = [0, 8, 1000];
const REPS = 7;

/** Loop sizes per run, chosen so one run takes a few hundred ms under TCG. */
const KINDS: Record<string, { n: number; args: string[] }> = {
  open: { n: 20000, args: ['/tmp/bench/target'] },
  exec: { n: 150, args: ['/tmp/bench/true'] },
  connect: { n: 5000, args: ['127.0.0.1', '9'] },
};

/**
 * N rules of every type that the benchmarked operations do not match (an allowed operation is
 * the common case, and it walks every table): exact and prefix file rules, exec rules, and
 * egress IPs and CIDRs.
 */
export function policyWith(n: number): EnhanceProtect {
  const files = [];
  const processes = [];
  const dests = [];
  for (let i = 0; i < n; i++) {
    files.push({ pattern: i % 2 ? `/data/f${i}/**` : `/data/f${i}.conf`, permissions: ['read', 'write'], qualifiers: ['deny'] });
    processes.push({ pattern: `/opt/bin/tool${i}`, permissions: ['exec'], qualifiers: ['deny'] });
    const a = 10 + (i >> 16);
    dests.push(i % 2 ? { ip: `${a}.${(i >> 8) & 255}.${i & 255}.1`, qualifiers: ['deny'] } : { cidr: `${a}.${(i >> 8) & 255}.${i & 255}.0/28`, qualifiers: ['deny'] });
  }
  return { bpfRawRules: { files, processes, network: { egress: { toDestinations: dests } } } };
}

let fx: Fixture;
const bound = new Map<number, Protected>();

export async function setup(): Promise<void> {
  const { mkdirSync, copyFileSync, chmodSync } = await import('node:fs');
  mkdirSync('/tmp/bench', { recursive: true });
  writeFileSync('/tmp/bench/target', 'x');
  // A small static program to exec: busybox run as `true` exits 0 at once.
  copyFileSync('/bin/busybox', '/tmp/bench/true');
  chmodSync('/tmp/bench/true', 0o755);
  fx = new Fixture('enforce');
  for (const n of RULE_COUNTS) bound.set(n, fx.protect(`bench-${n}`, policyWith(n)));
}

export async function teardown(): Promise<void> {
  fx?.detach();
}

async function timed(kind: string, cgroup: string): Promise<number> {
  const k = KINDS[kind];
  const r = await probe(['bench', kind, String(k.n), ...k.args], { cgroup });
  const m = /ns=(\d+) n=(\d+) fails=(\d+)/.exec(r.detail);
  if (r.result !== 'OK' || !m) throw new Error(`bench ${kind}: ${r.result} ${r.detail}`);
  if (Number(m[3]) !== 0 && kind !== 'exec') throw new Error(`bench ${kind}: ${m[3]} of ${m[2]} operations failed`);
  return Number(m[1]) / Number(m[2]);
}

export interface BenchSamples {
  kind: string;
  n: number;
  /** rules per type -> ns/op of each protected run, and of the unprotected run next to it */
  samples: Record<string, { protected: number[]; unprotected: number[] }>;
}

function benchCase(kind: string): GuestCase {
  return {
    name: `bench: ${kind}`,
    timeoutMs: 900_000,
    async run(): Promise<BenchSamples> {
      const samples: BenchSamples['samples'] = {};
      for (const n of RULE_COUNTS) samples[n] = { protected: [], unprotected: [] };
      await timed(kind, fx.outside.path); // warm caches (page cache, dentries) once
      for (let rep = 0; rep < REPS; rep++) {
        for (const n of RULE_COUNTS) {
          const p = bound.get(n) as Protected;
          // Alternate which side goes first, so a drift within the pair cancels out over reps.
          if (rep % 2 === 0) {
            samples[n].protected.push(await timed(kind, p.cg.path));
            samples[n].unprotected.push(await timed(kind, fx.outside.path));
          } else {
            samples[n].unprotected.push(await timed(kind, fx.outside.path));
            samples[n].protected.push(await timed(kind, p.cg.path));
          }
        }
      }
      return { kind, n: KINDS[kind].n, samples };
    },
  };
}

export const cases: GuestCase[] = Object.keys(KINDS).map(benchCase);
