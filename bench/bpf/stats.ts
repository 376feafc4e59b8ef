// Medians and the results table of bench/bpf. Pure, so it has a unit test.

export interface Samples {
  protected: number[];
  unprotected: number[];
}

export interface Row {
  kind: string;
  rules: number;
  protectedNs: number;
  unprotectedNs: number;
  /** median of protected[i] / unprotected[i] over the interleaved pairs */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

export function median(xs: number[]): number {
  if (!xs.length) throw new Error('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(bench: { kind: string; samples: Record<string, Samples> }): Row[] {
  return Object.entries(bench.samples).map(([rules, s]) => {
    if (s.protected.length !== s.unprotected.length) throw new Error(`${bench.kind}/${rules}: unpaired samples`);
    const ratios = s.protected.map((p, i) => p / s.unprotected[i]);
    return {
      kind: bench.kind,
      rules: Number(rules),
      protectedNs: median(s.protected),
      unprotectedNs: median(s.unprotected),
      ratio: median(ratios),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
    };
  });
}

function pct(r: number): string {
  const v = (r - 1) * 100;
  return `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
}

export function table(rows: Row[]): string {
  const lines = [
    '| operation | rules/type | protected ns/op | unprotected ns/op | ratio | overhead | pair ratios min..max |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.kind} | ${r.rules} | ${Math.round(r.protectedNs)} | ${Math.round(r.unprotectedNs)} | ${r.ratio.toFixed(3)} | ${pct(r.ratio)} | ${r.ratioMin.toFixed(3)}..${r.ratioMax.toFixed(3)} |`,
    );
  }
  return lines.join('\n');
}

export interface BaselineRow {
  kind: string;
  attachedNs: number;
  noneNs: number;
  /** attached / none: what an unprotected process pays for the enforcer being there */
  ratio: number;
  /** median A/A pair ratio with the enforcer attached: the noise floor of the pairing */
  aaRatio: number;
}

export function summarizeBaseline(b: {
  attached: Record<string, { a: number[]; b: number[] }>;
  none: Record<string, { a: number[]; b: number[] }>;
}): BaselineRow[] {
  return Object.keys(b.attached).map((kind) => {
    const att = b.attached[kind];
    const none = b.none[kind];
    const attachedNs = median([...att.a, ...att.b]);
    const noneNs = median([...none.a, ...none.b]);
    return { kind, attachedNs, noneNs, ratio: attachedNs / noneNs, aaRatio: median(att.a.map((x, i) => x / att.b[i])) };
  });
}

export function baselineTable(rows: BaselineRow[]): string {
  const lines = [
    '| operation | unprotected, enforcer attached ns/op | no enforcer ns/op | ratio | overhead | A/A pair ratio (noise floor) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.kind} | ${Math.round(r.attachedNs)} | ${Math.round(r.noneNs)} | ${r.ratio.toFixed(3)} | ${pct(r.ratio)} | ${r.aaRatio.toFixed(3)} |`);
  }
  return lines.join('\n');
}

/** Per-program cost rows (kind, side, program): calls per operation and ns (instructions) per call. */
export function costTable(rows: { kind: string; side: string; program: string; callsPerOp: number; nsPerCall: number }[]): string {
  const lines = ['| operation | cgroup | program | calls/op | ns/call |', '|---|---|---|---:|---:|'];
  // calls from other processes (the guest's node, timers) show up as fractions: left out
  for (const r of rows.filter((x) => x.callsPerOp >= 0.5)) {
    const side = r.side === 'unprotected' ? r.side : `protected, ${r.side} rules`;
    lines.push(`| ${r.kind} | ${side} | ${r.program} | ${r.callsPerOp.toFixed(2)} | ${Math.round(r.nsPerCall)} |`);
  }
  return lines.join('\n');
}
