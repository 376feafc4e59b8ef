// The coverage table `varmor rules` prints: each built-in rule against each enforcer, what we
// implement beside what vArmor implements, with totals. Pure: returns text, the CLI prints it.

import { BUILTIN_RULES } from './catalogue.js';
import { isUnsupported, type BuiltinRule } from './types.js';

export type EnforcerName = 'AppArmor' | 'BPF' | 'Seccomp';
export const ENFORCERS: readonly EnforcerName[] = ['AppArmor', 'BPF', 'Seccomp'];

export interface CoverageCell {
  ours: boolean;
  varmor: boolean;
  /** Why we do not implement it (when ours is false). */
  reason?: string;
}

export interface CoverageRow {
  name: string;
  aliases: string[];
  category: BuiltinRule['category'];
  cells: Record<EnforcerName, CoverageCell>;
  notes?: string;
}

function implOf(rule: BuiltinRule, e: EnforcerName): unknown {
  return e === 'AppArmor' ? rule.appArmor : e === 'BPF' ? rule.bpf : rule.seccomp;
}

export function coverageRows(): CoverageRow[] {
  return BUILTIN_RULES.map((rule) => {
    const cells = {} as Record<EnforcerName, CoverageCell>;
    for (const e of ENFORCERS) {
      const impl = implOf(rule, e);
      cells[e] = {
        ours: !isUnsupported(impl),
        varmor: rule.varmor.includes(e),
        reason: isUnsupported(impl) ? impl.unsupported : undefined,
      };
    }
    return { name: rule.name, aliases: rule.aliases ?? [], category: rule.category, cells, notes: rule.notes };
  });
}

/** yes/-  for us, then vArmor's in brackets: `yes (vArmor -)` reads "we do, vArmor does not". */
function mark(c: CoverageCell): string {
  return `${c.ours ? 'yes' : '-'} (${c.varmor ? 'yes' : '-'})`;
}

export function coverageTable(): string {
  const rows = coverageRows();
  const head = ['rule', 'category', ...ENFORCERS.map((e) => `${e} ours (vArmor)`)];
  const body = rows.map((r) => [
    r.name + (r.aliases.length ? ` [${r.aliases.join(', ')}]` : ''),
    r.category,
    ...ENFORCERS.map((e) => mark(r.cells[e])),
  ]);
  const totals = ENFORCERS.map((e) => {
    const ours = rows.filter((r) => r.cells[e].ours).length;
    const theirs = rows.filter((r) => r.cells[e].varmor).length;
    return `${ours} (${theirs})`;
  });
  const anyOurs = rows.filter((r) => ENFORCERS.some((e) => r.cells[e].ours)).length;
  const foot = ['TOTAL implemented', `${rows.length} rules`, ...totals];
  const all = [head, ...body, foot];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const fmt = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  const gaps = rows.flatMap((r) =>
    ENFORCERS.filter((e) => r.cells[e].varmor && !r.cells[e].ours).map((e) => `  ${r.name} / ${e}: ${r.cells[e].reason}`),
  );
  const notes = rows.filter((r) => r.notes).map((r) => `  ${r.name}: ${r.notes}`);
  return [
    fmt(head),
    sep,
    ...body.map(fmt),
    sep,
    fmt(foot),
    '',
    `${anyOurs} of ${rows.length} rules implemented by at least one enforcer.`,
    gaps.length ? `Rules vArmor implements and we do not:\n${gaps.join('\n')}` : 'Every rule vArmor implements for an enforcer is implemented by us for it.',
    '',
    'Where we go beyond vArmor:',
    ...notes,
    '',
  ].join('\n');
}
