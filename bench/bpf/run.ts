// bench/bpf, host side: boots the guest once with the `bench` suite and prints ns/op of the
// open, exec and connect loops in a protected cgroup against the same loops unprotected, at 0, 8
// and 1,000 rules per type. `--write` also rewrites bench/bpf/RESULTS.md with the table.
// Run: npm run bench:bpf [-- --write]

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runGuest } from '../../native/guest/harness.js';
import { summarize, table, type Row } from './stats.js';
import type { BenchSamples } from './scenario.js';

const t0 = Date.now();
const run = await runGuest('bench', { timeoutMs: 1_800_000, echo: process.env.GUEST_ECHO === '1' });
const rows: Row[] = [];
for (const kind of ['open', 'exec', 'connect']) rows.push(...summarize(run.result<BenchSamples>(`bench: ${kind}`)));
const text = table(rows);
console.log(text);
console.log(`(guest boot + bench: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);

if (process.argv.includes('--write')) {
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const md = `# bench/bpf results

Measured by \`npm run bench:bpf\` on ${when} UTC: qemu TCG guest (1 vCPU, Debian 6.1 kernel, BPF LSM
on), each loop written in C (native/guest/guest/probe.c \`bench\`), run from a cgroup bound to a
policy with N rules per type (file, exec, egress) and from an unbound cgroup, interleaved, 7 times
each; medians. "overhead" is the median of the per-pair ratios protected/unprotected, minus 1.
The operations are allowed ones (no rule matches), which walk every table a hook looks at.
TCG emulates the CPU, so absolute ns/op are far above native figures; the ratios are what counts,
and a few percent of noise remains (see min/max of the pair ratios).

${text}
`;
  writeFileSync(join(REPO_ROOT, 'bench', 'bpf', 'RESULTS.md'), md);
}
