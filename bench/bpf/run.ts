// bench/bpf, host side: boots the guest once with the `bench` suite and prints ns/op of the
// open, exec and connect loops in a protected cgroup against the same loops unprotected, at 0, 8
// and 1,000 rules per type. `--write` also rewrites bench/bpf/RESULTS.md with the table.
// Run: npm run bench:bpf [-- --write]

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runGuest } from '../../testing/guest/harness.js';
import { baselineTable, costTable, summarize, summarizeBaseline, table, type Row } from './stats.js';
import type { BaselineSamples, BenchSamples, ProgramCost } from './scenario.js';

// Wall-clock time under TCG swings with the host's load (two cores shared by many jobs), so by
// default the guest runs with -icount: its clock advances by executed instructions (1 ns each),
// which makes the figures repeatable. VARMOR_BENCH_CLOCK=wall measures host time instead.
const icount = process.env.VARMOR_BENCH_CLOCK !== 'wall';
// Quick runs while tuning: VARMOR_BENCH_KINDS=open,connect and VARMOR_BENCH_ROUNDS=1 (not for --write).
const kinds = (process.env.VARMOR_BENCH_KINDS ?? 'open,open-rootfs,open-overlay,open-alternating,exec,connect').split(',');
const quick = process.env.VARMOR_BENCH_KINDS !== undefined || process.env.VARMOR_BENCH_ROUNDS !== undefined;
if (quick && process.argv.includes('--write')) throw new Error('--write needs the full bench: unset VARMOR_BENCH_KINDS and VARMOR_BENCH_ROUNDS');
const t0 = Date.now();
// VARMOR_BENCH_KERNEL: another Debian kernel package from GUEST_KERNEL_PKGS (default: the 6.1 one).
const kernelPkg = process.env.VARMOR_BENCH_KERNEL;
const run = await runGuest('bench', {
  kernelPkg,
  timeoutMs: 3_600_000,
  echo: process.env.GUEST_ECHO === '1',
  qemuArgs: icount ? ['-icount', 'shift=0,sleep=off'] : [],
  append: [`varmor.bench_kinds=${kinds.join(',')}`, ...(process.env.VARMOR_BENCH_ROUNDS ? [`varmor.bench_rounds=${process.env.VARMOR_BENCH_ROUNDS}`] : [])],
});
const rows: Row[] = [];
for (const kind of kinds) rows.push(...summarize(run.result<BenchSamples>(`bench: ${kind}`)));
const text = table(rows);
const base = baselineTable(summarizeBaseline(run.result<BaselineSamples>('bench: unprotected processes')));
const cost = costTable(run.result<ProgramCost[]>('bench: program cost'));
console.log(`${text}\n\n${base}\n\n${cost}`);
console.log(`(kernel ${run.kernelRelease}; guest boot + bench: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);

if (process.argv.includes('--write')) {
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const clock = icount
    ? 'qemu `-icount shift=0`: the guest clock advances 1 ns per executed instruction, so the figures count instructions (kernel, BPF JIT code and all) and do not move with the host\'s load; cache and memory effects are not modelled'
    : 'wall-clock guest time under TCG, which swings with the host\'s load';
  const md = `# bench/bpf results

Measured by \`npm run bench:bpf -- --write\`${kernelPkg ? ` with VARMOR_BENCH_KERNEL=${kernelPkg}` : ''} on ${when} UTC in the qemu
guest (TCG, 1 vCPU, Debian's ${run.kernelRelease} kernel, BPF LSM on). Clock: ${clock}.

Method: a C loop (vprobe \`abbench\`, testing/guest/guest/probe.c) moves itself between a cgroup bound to
a policy with N rules per type (file paths exact and prefix, exec paths, egress IPs and CIDRs) and an
unbound cgroup, and times a chunk of operations on each side in turn, alternating which side goes
first; two series of 120 chunk pairs (exec: 60) per rule count. The operations are
allowed ones (no rule matches them), the common case, which walks every table a hook consults:
open+close of a file on another mount than the task's root (\`open\`, /tmp is a tmpfs), on the root
mount itself (\`open-rootfs\`, the guest's initramfs) and on an overlay mount the loop has made its
root as runc does, in a new mount namespace with the mount moved onto "/" (\`open-overlay\`,
/var/lib/bench/target as in open-rootfs: a container's own files, whose root is an overlay mount), the files of \`open\` and \`open-rootfs\` in turn (\`open-alternating\`: each open
in another directory than the one before, so the per-task path-fact cache never hits: its worst
case), fork+execve of busybox \`true\`, UDP socket+connect+close to 127.0.0.1.
ns/op are medians over chunks; "ratio" is the median of the per-pair ratios protected/unprotected.

## Protected cgroup against unprotected, by rules per type

${text}

## Processes outside every protected cgroup

Same loops in two unbound cgroups with the enforcer attached (A/A: the ratio shows the noise floor
of the pairing), then with the enforcer detached.

${base}

## Where it goes: the programs' own cost

The kernel's per-program counters (\`kernel.bpf_stats_enabled\`, read through the addon's
\`programStats()\`) over a shorter run of each loop entirely inside one cgroup: calls per operation
and ns per call spent in the program itself, helpers included and the trampoline not (some 75 ns
of each figure are the counting itself), i.e. instructions under \`-icount\`.

${cost}
`;
  // Hand-written notes below the generated part survive a rerun.
  // The default kernel's figures are RESULTS.md; another kernel's go beside them (RESULTS-6.12.md).
  const file = join(REPO_ROOT, 'bench', 'bpf', kernelPkg ? `RESULTS-${run.kernelRelease.split('.').slice(0, 2).join('.')}.md` : 'RESULTS.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const notes = old.indexOf('\n## Notes\n');
  writeFileSync(file, notes >= 0 ? md + old.slice(notes) : md);
}
