// Validation must survive any input shape: every field of every example replaced, one at a time,
// by a value of each JSON type. It returns a result (never throws), and the result is either
// valid or names at least one field.

import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocuments } from '../yaml.js';
import { validatePolicy, validatePolicyUpdate } from './index.js';
import type { AnyPolicy } from '../api/types.js';

const ROOT = join(import.meta.dirname ?? __dirname, '..', '..');
const docs = readdirSync(join(ROOT, 'examples/policies'))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseDocuments(readFileSync(join(ROOT, 'examples/policies', f), 'utf8')));

function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

function replaced(doc: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path[path.length - 1]] = value;
  return copy;
}

const VALUES: unknown[] = [null, -1, 'x', true, [null], { a: 1 }];

describe('validation on mangled input', () => {
  it('never throws, and every refusal names a field or the object', () => {
    let checked = 0;
    for (const doc of docs) {
      for (const path of paths(doc)) {
        for (const value of VALUES) {
          const input = replaced(doc, path, value);
          const r = validatePolicy(input);
          if (!r.ok) {
            expect(r.errors.length).toBeGreaterThan(0);
            for (const e of r.errors) expect(typeof e.path === 'string' && typeof e.message === 'string' && e.code.length > 0).toBe(true);
          }
          validatePolicyUpdate(doc as AnyPolicy, input);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });
});
