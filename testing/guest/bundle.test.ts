import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle } from './bundle.js';
import { SUITES } from './suites.js';
import { REPO_ROOT } from './harness.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'guest-bundle-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

describe('guest bundle', () => {
  it('follows relative imports, transpiles TypeScript and drops type-only imports', () => {
    const root = tree({
      'a/entry.ts': "import { b } from '../b/lib.js';\nimport type { T } from './types.js';\nexport const x: T = b + 1;\n",
      'a/types.ts': 'export type T = number;\n',
      'b/lib.ts': "import { readFileSync } from 'node:fs';\nexport const b: number = typeof readFileSync === 'function' ? 1 : 0;\n",
    });
    try {
      const files = bundle(root, ['a/entry.ts']);
      expect(files.map((f) => f.rel).sort()).toEqual(['a/entry.js', 'b/lib.js']);
      const entry = files.find((f) => f.rel === 'a/entry.js')?.text ?? '';
      expect(entry).toContain("from '../b/lib.js'");
      expect(entry).not.toContain(': T');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a package import with a message naming the file and the package', () => {
    const root = tree({ 'x.ts': "import YAML from 'yaml';\nexport const y = YAML.parse('a: 1');\n" });
    try {
      expect(() => bundle(root, ['x.ts'])).toThrow(/x\.js imports the package 'yaml'/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('bundles every registered suite of this repository (guest code imports no packages)', () => {
    for (const files of Object.values(SUITES)) {
      const rels = bundle(REPO_ROOT, files).map((f) => f.rel);
      expect(rels).toEqual(expect.arrayContaining(files.map((f) => f.replace(/\.ts$/, '.js'))));
    }
  });
});
