// Golden Seccomp profiles for the reference's example policies (those with Seccomp).
// UPDATE_GOLDEN=1 rewrites them; review the diff by reading it.

import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLES, exampleInput, selects } from '../rules/testdata/examples.js';
import { compileSeccomp } from './compile.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata/golden');

describe('Seccomp goldens', () => {
  const cases = EXAMPLES.filter((p) => selects(p, 'Seccomp')).map((p) => {
    const input = exampleInput(p);
    return { name: input.profileName, text: `${JSON.stringify(compileSeccomp(input), null, 2)}\n` };
  });

  it('covers the examples with Seccomp', () => {
    expect(cases.map((c) => c.name)).toEqual(['varmor-shop-web-hardening', 'varmor-jobs-worker-seccomp', 'varmor-shop-web-model', 'varmor-shop-web-did']);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s matches its golden', (_n, c) => {
    const file = join(DIR, `${c.name}.json`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, c.text);
    expect(c.text).toBe(readFileSync(file, 'utf8'));
  });
});
