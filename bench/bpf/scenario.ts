// bench/bpf, guest side: open, exec and connect loops (in C, vprobe abbench) from a cgroup bound
// to a policy with 0, 8 or 1,000 rules per type, against the same loops from an unbound cgroup,
// all in one boot. One process moves itself between the two cgroups and times short chunks on
// each side in turn, because TCG timing drifts with the host's load; the host takes medians.

import { readFileSync, writeFileSync } from 'node:fs';
import { Fixture, type Protected } from '../../testing/guest/guest/bpf.js';
import { makeCgroup, mountOverlay, probe, withBpfStats } from '../../testing/guest/guest/lib.js';
import type { GuestCase } from '../../testing/guest/guest/types.js';
import type { EnhanceProtect } from '../../profiler/api/types.js';

/** A word `varmor.<name>=a,b` of the guest's kernel command line (quick runs while tuning), or undefined. */
function cmdlineList(name: string): string[] | undefined {
  const m = new RegExp(`(?:^| )varmor\\.${name}=([^ ]+)`).exec(readFileSync('/proc/cmdline', 'utf8').trim());
  return m ? m[1].split(',') : undefined;
}

export const RULE_COUNTS = [0, 8, 1000];
/** Rounds over the rule counts; each round runs one interleaved A/B series per count. */
const ROUNDS = Number(cmdlineList('bench_rounds')?.[0] ?? 2);

/** An overlay mount (lower on the initramfs, upper on tmpfs) that open-overlay makes its root (moved onto "/" in a new mount namespace, as runc does). */
const OVERLAY_ROOT = '/run/bench-ovl/merged';

/** Operations per timed chunk and chunk pairs per series: a chunk takes some 10-30 ms under TCG. */
/** op: the vprobe abbench operation (default: the kind's name). */
const KINDS: Record<string, { chunk: number; pairs: number; args: string[]; op?: string }> = {
  // a file on another mount than the task's root (the guest's /tmp is a tmpfs): the path walk crosses it
  open: { chunk: 200, pairs: 120, args: ['/tmp/bench/target'] },
  // a file on the task's root mount (the guest's initramfs)
  'open-rootfs': { chunk: 200, pairs: 120, args: ['/var/lib/bench/target'], op: 'open' },
  // the same path with an overlay mount as the task's root, as a container's own files are
  'open-overlay': { chunk: 200, pairs: 120, args: ['--root', OVERLAY_ROOT, '/var/lib/bench/target'], op: 'open' },
  // the two files above in turn: each open is in another directory than the one before, so the
  // per-task path-fact cache never helps (its worst case)
  'open-alternating': { chunk: 200, pairs: 120, args: ['/tmp/bench/target', '/var/lib/bench/target'], op: 'open' },
  exec: { chunk: 2, pairs: 60, args: ['/tmp/bench/true'] },
  connect: { chunk: 50, pairs: 120, args: ['127.0.0.1', '9'] },
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
let detached = false;
const bound = new Map<number, Protected>();

export async function setup(): Promise<void> {
  const { mkdirSync, copyFileSync, chmodSync } = await import('node:fs');
  mkdirSync('/tmp/bench', { recursive: true });
  writeFileSync('/tmp/bench/target', 'x');
  mkdirSync('/var/lib/bench', { recursive: true });
  writeFileSync('/var/lib/bench/target', 'x');
  mkdirSync('/var/lib/bench-ovl/var/lib/bench', { recursive: true });
  writeFileSync('/var/lib/bench-ovl/var/lib/bench/target', 'x');
  await mountOverlay('/var/lib/bench-ovl', '/run/bench-ovl/upper', '/run/bench-ovl/work', OVERLAY_ROOT);
  // A small static program to exec: busybox run as `true` exits 0 at once.
  copyFileSync('/bin/busybox', '/tmp/bench/true');
  chmodSync('/tmp/bench/true', 0o755);
  fx = new Fixture('enforce');
  for (const n of RULE_COUNTS) bound.set(n, fx.protect(`bench-${n}`, policyWith(n)));
}

export async function teardown(): Promise<void> {
  if (!detached) fx?.detach();
}

/** One interleaved series: ns/op of every chunk in cgroup A and of the chunk beside it in B (default: unbound). */
async function series(kind: string, cgA: string, cgB = fx.outside.path, pairs = KINDS[kind].pairs): Promise<{ a: number[]; b: number[] }> {
  const k = KINDS[kind];
  const r = await probe(['abbench', k.op ?? kind, String(k.chunk), String(pairs), cgA, cgB, ...k.args]);
  const m = /fails=(\d+) a=([\d,]+) b=([\d,]+)/.exec(r.detail);
  if (r.result !== 'OK' || !m) throw new Error(`abbench ${kind}: ${r.result} ${r.detail} ${r.stderr}`);
  if (Number(m[1]) !== 0) throw new Error(`abbench ${kind}: ${m[1]} operations failed`);
  const perOp = (list: string) => list.split(',').map((t) => Number(t) / k.chunk);
  return { a: perOp(m[2]), b: perOp(m[3]) };
}

export interface BenchSamples {
  kind: string;
  chunk: number;
  /** rules per type -> ns/op of each protected chunk, and of the unprotected chunk paired with it */
  samples: Record<string, { protected: number[]; unprotected: number[] }>;
}

function benchCase(kind: string): GuestCase {
  return {
    name: `bench: ${kind}`,
    timeoutMs: 900_000,
    async run(): Promise<BenchSamples> {
      const samples: BenchSamples['samples'] = {};
      for (const n of RULE_COUNTS) samples[n] = { protected: [], unprotected: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const n of RULE_COUNTS) {
          const { a, b } = await series(kind, (bound.get(n) as Protected).cg.path);
          samples[n].protected.push(...a);
          samples[n].unprotected.push(...b);
        }
      }
      return { kind, chunk: KINDS[kind].chunk, samples };
    },
  };
}

export interface BaselineSamples {
  /** kind -> ns/op per chunk: two unbound cgroups with the enforcer attached (A/A), then with no enforcer at all */
  attached: Record<string, { a: number[]; b: number[] }>;
  none: Record<string, { a: number[]; b: number[] }>;
}

/**
 * What processes outside every protected cgroup pay: the same loops with the programs attached
 * and with nothing attached. The attached series runs A/A (two unbound cgroups), which also
 * shows the noise floor of the pairing.
 */
const baseline: GuestCase = {
  name: 'bench: unprotected processes',
  timeoutMs: 900_000,
  async run(): Promise<BaselineSamples> {
    const other = makeCgroup('outside-2').path;
    const attached: BaselineSamples['attached'] = {};
    const none: BaselineSamples['none'] = {};
    for (const kind of Object.keys(KINDS)) attached[kind] = await series(kind, fx.outside.path, other);
    fx.detach();
    detached = true;
    for (const kind of Object.keys(KINDS)) none[kind] = await series(kind, fx.outside.path, other);
    return { attached, none };
  },
};

export interface ProgramCost {
  kind: string;
  /** 'unprotected' or the rules per type of the protected cgroup */
  side: string;
  program: string;
  callsPerOp: number;
  /** ns per call spent in the program itself (helpers included, trampoline not); instructions under -icount */
  nsPerCall: number;
}

/**
 * Where the overhead goes: the kernel's per-program counters (kernel.bpf_stats_enabled) over one
 * run of each loop entirely inside one cgroup, unprotected and at each rule count.
 */
const programCost: GuestCase = {
  name: 'bench: program cost',
  timeoutMs: 900_000,
  async run(): Promise<ProgramCost[]> {
    const out: ProgramCost[] = [];
    const sides: [string, string][] = [['unprotected', fx.outside.path], ...RULE_COUNTS.map((n): [string, string] => [String(n), (bound.get(n) as Protected).cg.path])];
    await withBpfStats(async () => {
      for (const kind of Object.keys(KINDS)) {
        const k = KINDS[kind];
        const pairs = Math.max(1, Math.round(k.pairs / 6));
        for (const [side, cg] of sides) {
          const before = new Map(fx.enforcer.programStats().map((p) => [p.id, p]));
          await series(kind, cg, cg, pairs);
          // abbench runs one warm-up operation before each timed chunk
          const ops = 2 * pairs * (k.chunk + 1);
          for (const p of fx.enforcer.programStats()) {
            const b = before.get(p.id);
            const calls = Number(p.runCount - (b?.runCount ?? 0n));
            if (calls === 0) continue;
            out.push({ kind, side, program: p.name, callsPerOp: calls / ops, nsPerCall: Number(p.runTimeNs - (b?.runTimeNs ?? 0n)) / calls });
          }
        }
      }
    });
    return out;
  },
};

/** All kinds unless the host asked for some (VARMOR_BENCH_KINDS, quick runs while tuning). */
const chosen = cmdlineList('bench_kinds') ?? Object.keys(KINDS);
for (const kind of Object.keys(KINDS)) if (!chosen.includes(kind)) delete KINDS[kind];

export const cases: GuestCase[] = [...Object.keys(KINDS).map(benchCase), programCost, baseline];
