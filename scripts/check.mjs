// Static checks counted as tests: the TypeScript compiler in strict mode and ESLint.
// Writes a jest-shaped report so scripts/summarize.mjs can add it up.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const checks = [
  ['typecheck (tsc --noEmit, strict)', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['lint (eslint)', ['node_modules/eslint/bin/eslint.js', '.']],
];
let passed = 0, failed = 0;
for (const [name, args] of checks) {
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (run.status === 0) { passed += 1; console.log(`check ok: ${name}`); }
  else { failed += 1; console.log(`check FAILED: ${name}\n${run.stdout}${run.stderr}`); }
}
writeFileSync(process.argv[2], JSON.stringify({ numPassedTests: passed, numFailedTests: failed }));
