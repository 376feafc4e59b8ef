#!/usr/bin/env node
// The `varmor` executable: a thin shim over the compiled CLI in dist/ (npm run build).
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('varmor: dist/cli/main.js is missing; run `npm run build` first\n');
  process.exit(1);
}
const { run } = await import(entry.href);
try {
  process.exitCode = await run(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`varmor: ${e && e.stack ? e.stack : String(e)}\n`);
  process.exitCode = 1;
}
