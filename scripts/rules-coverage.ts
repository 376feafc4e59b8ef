// `npm run rules:coverage`: the built-in rule table `varmor rules` prints, then which of the
// implemented rules are proven by attack in a real kernel: testing/guest/rules.guest.test.ts runs
// each rule's attack (testing/guest/rule-attacks.ts) on both guest kernels and fails when one is
// not denied, so a rule listed as proven here is one CI has seen enforced. The rest are listed
// with the reason they have no attack yet.

import { coverageRows, coverageTable, type EnforcerName } from '../profiler/rules/coverage.js';
import { attacksFor } from '../testing/guest/rule-attacks.js';

const ATTACKED: EnforcerName[] = ['AppArmor', 'BPF'];

export function evidenceReport(): string {
  const rows = coverageRows();
  const lines = ['', 'Proven by attack in a real kernel (testing/guest/rules.guest.test.ts, guest kernels 6.1 and 6.12):'];
  for (const e of ATTACKED) {
    const implemented = rows.filter((r) => r.cells[e].ours);
    const missing = implemented
      .map((r) => ({ name: r.name, evidence: attacksFor(r.name, e) }))
      .filter((x): x is { name: string; evidence: { noAttack: string } } => 'noAttack' in x.evidence);
    lines.push(`  ${e}: ${implemented.length - missing.length} of ${implemented.length} implemented rules, each by the case "rules > ${e} > <rule>"`);
    for (const m of missing) lines.push(`    not attacked: ${m.name}: ${m.evidence.noAttack}`);
  }
  lines.push('  Seccomp: enforced on the host by runc (profiler/seccomp/runc.test.ts), not yet per rule.');
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${coverageTable()}\n${evidenceReport()}\n`);
}
