// The guest's entry point: /init runs `node runner.js SUITE`. It imports the suite's scenario
// modules (listed in /app/suites.json by the host harness), runs every case in order and prints
// one record per case on the console, as the case finishes, so a timeout still leaves the
// earlier results readable.

import { readFileSync } from 'node:fs';
import { encodeRecord, type GuestRecord } from '../protocol.js';
import type { GuestSuiteModule } from './types.js';

function emit(record: GuestRecord): void {
  process.stdout.write(encodeRecord(record) + '\n');
}

function errorInfo(e: unknown): { message: string; code?: string; stack?: string } {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { message: e.message, code: typeof code === 'string' ? code : undefined, stack: e.stack };
  }
  return { message: String(e) };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

async function main(suite: string): Promise<number> {
  const suites = JSON.parse(readFileSync('/app/suites.json', 'utf8')) as Record<string, string[]>;
  const modules = suites[suite];
  if (!modules) {
    emit({ type: 'done', code: 2, message: `unknown suite '${suite}' (have: ${Object.keys(suites).join(', ')})` });
    return 2;
  }
  emit({ type: 'info', key: 'kernel', value: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() });
  emit({ type: 'info', key: 'lsm', value: readFileSync('/sys/kernel/security/lsm', 'utf8').trim() });
  const seen = new Set<string>();
  for (const file of modules) {
    const mod = (await import(file)) as GuestSuiteModule;
    try {
      if (mod.setup) {
        const t0 = Date.now();
        await withTimeout(mod.setup(), mod.setupTimeoutMs ?? 120_000, `${file} setup`);
        emit({ type: 'info', key: `setup ms ${file}`, value: String(Date.now() - t0) });
      }
    } catch (e) {
      // Without its setup no case of the module can say anything: report each as failed.
      for (const c of mod.cases) emit({ type: 'case', suite, name: c.name, ok: false, ms: 0, error: errorInfo(e) });
      continue;
    }
    for (const c of mod.cases) {
      if (seen.has(c.name)) throw new Error(`duplicate guest case name '${c.name}' in ${file}`);
      seen.add(c.name);
      const t0 = Date.now();
      try {
        const data = await withTimeout(c.run(), c.timeoutMs ?? 60_000, c.name);
        emit({ type: 'case', suite, name: c.name, ok: true, ms: Date.now() - t0, data });
      } catch (e) {
        emit({ type: 'case', suite, name: c.name, ok: false, ms: Date.now() - t0, error: errorInfo(e) });
      }
    }
    try {
      if (mod.teardown) await withTimeout(mod.teardown(), 60_000, `${file} teardown`);
    } catch (e) {
      emit({ type: 'info', key: `teardown-error:${file}`, value: errorInfo(e) });
    }
  }
  emit({ type: 'done', code: 0 });
  return 0;
}

main(process.argv[2] ?? '').then(
  (code) => process.exit(code),
  (e: unknown) => {
    emit({ type: 'done', code: 1, message: errorInfo(e).message });
    process.exit(1);
  },
);
