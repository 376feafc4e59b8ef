// Golden AppArmor profiles for the reference's example policies (those with AppArmor).
// UPDATE_GOLDEN=1 rewrites them; review the diff by reading it.

import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLES, exampleInput, selects } from '../rules/testdata/examples.js';
import { compileAppArmor } from './compile.js';
import { checkProfiles, parserUnavailable } from './testdata/parser.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata/golden');

describe('AppArmor goldens', () => {
  const cases = EXAMPLES.filter((p) => selects(p, 'AppArmor')).map((p) => {
    const input = exampleInput(p);
    return { name: input.profileName, out: compileAppArmor(input) };
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s matches its golden', (_n, c) => {
    const file = join(DIR, `${c.name}.apparmor`);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, c.out.profile);
    expect(c.out.profile).toBe(readFileSync(file, 'utf8'));
  });

  it('the goldens parse', () => {
    const why = parserUnavailable();
    if (why) throw new Error(`apparmor_parser is required: ${why}`);
    expect(checkProfiles(cases.map((c) => ({ label: c.name, text: c.out.profile })))).toEqual([]);
    expect(cases.map((c) => [c.name, c.out.complain])).toEqual([
      ['varmor-shop-web-hardening', false],
      ['varmor-cluster-varmor-agents-default', false],
      ['varmor-shop-web-model', true],
      ['varmor-shop-web-did', true],
    ]);
  });
});
