// Builds varmor-hook (a static C binary: runc runs it on the host for every container, where no
// node runtime can be assumed). Used by the tests, the agent benchmark and the local cluster
// (e2e/cluster/hook.ts, e2e/kind.sh); `npm run build:hook` calls it after `npm run build`.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function hookSourcePath(): string {
  // From agent/hook/build.ts (tests) or dist/agent/hook/build.js (built): the C file stays in the tree.
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const cand of [path.join(here, 'varmor-hook.c'), path.join(here, '../../../agent/hook/varmor-hook.c')]) {
    if (fs.existsSync(cand)) return cand;
  }
  throw new Error('varmor-hook.c not found beside agent/hook/build');
}

export function buildHook(outPath: string): string {
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-Werror', '-static', '-o', outPath, hookSourcePath()], { stdio: 'pipe' });
  return outPath;
}
