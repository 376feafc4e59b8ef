// Runs one guest suite by hand and prints its records: `node --import
// ./testing/ts-loader.mjs testing/guest/run-suite.ts [SUITE]` (default: smoke).
import { runGuest } from './harness.js';

const suite = process.argv[2] ?? 'smoke';
const run = await runGuest(suite, { echo: process.env.GUEST_ECHO === '1' });
for (const r of run.cases.values()) console.log(JSON.stringify(r));
console.log(`suite ${suite}: ${run.cases.size} cases, boot+run ${run.ms} ms, initrd ${run.initrd}`);
