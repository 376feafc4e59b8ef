// `npm run rules:coverage`: the built-in rule table `varmor rules` prints, then which of the
// implemented rules are proven by attack in a real kernel: each rule's attack
// (testing/guest/rule-attacks.ts) runs on AppArmor and BPF in the guest
// (testing/guest/rules.guest.test.ts, both kernels) and on Seccomp in runc containers on the host
// (testing/seccomp/rules.runc.test.ts), failing when one is not refused, so a rule listed as
// proven here is one CI has seen enforced. The rest are listed with the reason they have no attack.

import { coverageRows, coverageTable, type EnforcerName } from '../profiler/rules/coverage.js';
import { attacksFor } from '../testing/guest/rule-attacks.js';

/** Where each enforcer's attacks run. */
const PROOF: Record<EnforcerName, string> = {
  AppArmor: 'the qemu guest, 6.1 and 6.12: testing/guest/rules.guest.test.ts',
  BPF: 'the qemu guest, 6.1 and 6.12: testing/guest/rules.guest.test.ts',
  Seccomp: 'runc containers on the host: testing/seccomp/rules.runc.test.ts',
};

export function evidenceReport(): string {
  const rows = coverageRows();
  const lines = ['', 'Proven by attack in a real kernel (the attacks: testing/guest/rule-attacks.ts):'];
  for (const e of Object.keys(PROOF) as EnforcerName[]) {
    const implemented = rows.filter((r) => r.cells[e].ours);
    const missing = implemented
      .map((r) => ({ name: r.name, evidence: attacksFor(r.name, e) }))
      .filter((x): x is { name: string; evidence: { noAttack: string } } => 'noAttack' in x.evidence);
    lines.push(`  ${e}: ${implemented.length - missing.length} of ${implemented.length} implemented rules, one case per rule (${PROOF[e]})`);
    for (const m of missing) lines.push(`    not attacked: ${m.name}: ${m.evidence.noAttack}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${coverageTable()}\n${evidenceReport()}\n`);
}
