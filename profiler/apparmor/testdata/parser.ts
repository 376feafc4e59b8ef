// Test-only: checks AppArmor profile texts with the real parser, without a kernel
// (`apparmor_parser -Q -K -M <features>`: syntax and semantics, no load). Profiles are written
// to a temporary folder and checked in batches; a failing batch is re-checked file by file so
// the error names the profile.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FEATURES = '/usr/share/apparmor-features/features';

export function parserUnavailable(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v apparmor_parser']).status !== 0) return 'apparmor_parser not installed (apt-get install apparmor; scripts/setup.sh does)';
  if (!existsSync(FEATURES)) return `${FEATURES} missing (package apparmor)`;
  return undefined;
}

export interface ParseFailure {
  label: string;
  error: string;
}

function run(files: string[]): { ok: boolean; out: string } {
  const r = spawnSync('apparmor_parser', ['-Q', '-K', '-q', '-M', FEATURES, ...files], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

/** Returns the profiles the parser rejects (empty when all pass). */
export function checkProfiles(profiles: { label: string; text: string }[], batch = 64): ParseFailure[] {
  const dir = mkdtempSync(join(tmpdir(), 'varmor-aa-'));
  try {
    const files = profiles.map((p, i) => {
      const f = join(dir, `p${i}`);
      writeFileSync(f, p.text);
      return f;
    });
    const failures: ParseFailure[] = [];
    for (let i = 0; i < files.length; i += batch) {
      const chunk = files.slice(i, i + batch);
      if (run(chunk).ok) continue;
      chunk.forEach((f, j) => {
        const r = run([f]);
        if (!r.ok) failures.push({ label: profiles[i + j].label, error: r.out });
      });
    }
    return failures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
