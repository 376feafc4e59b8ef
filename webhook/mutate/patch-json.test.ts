import { describe, expect, it } from '@jest/globals';
import { MEMO_LIMIT } from './memo.js';
import { serializePatch } from './patch-json.js';
import { preparePolicy } from './policies.js';
import type { JsonPatchOp } from './types.js';

const awkward = [
  '',
  'plain',
  'quote " and backslash \\',
  'control \u0000\u0001\u001f\n\t\r\b\f',
  'unicode é 日本 😀',
  'lone surrogates \ud800 and \udfff',
  '/metadata/annotations/a~0b~1c',
  '</script>\u2028\u2029',
];

describe('serializePatch', () => {
  it('gives JSON.stringify(ops) byte for byte, on first use and from its caches', () => {
    const frozen = Object.freeze({ type: 'Localhost', localhostProfile: 'p "q"' });
    const ops: JsonPatchOp[] = [];
    for (const s of awkward) {
      ops.push({ op: 'add', path: s, value: s });
      ops.push({ op: 'replace', path: `/x/${s}`, value: { nested: [s, 1, true, null], [s]: s } });
      ops.push({ op: 'add', path: '/frozen', value: frozen });
    }
    ops.push({ op: 'add', path: '/n', value: 42 }, { op: 'add', path: '/b', value: false }, { op: 'add', path: '/z', value: null });
    ops.push({ op: 'add', path: '/u', value: undefined });
    for (let round = 0; round < 3; round++) expect(serializePatch(ops)).toBe(JSON.stringify(ops));
    expect(serializePatch([])).toBe('[]');
  });

  it('stays right when more distinct strings arrive than it remembers', () => {
    const ops: JsonPatchOp[] = Array.from({ length: MEMO_LIMIT * 2 + 7 }, (_, i) => ({ op: 'add', path: `/p/${i}`, value: `v"${i}` }));
    expect(serializePatch(ops)).toBe(JSON.stringify(ops));
    expect(serializePatch(ops.slice(0, 10))).toBe(JSON.stringify(ops.slice(0, 10)));
  });

  it('can cache a policy value because the value is deep-frozen', () => {
    const p = preparePolicy(
      { apiVersion: 'crd.varmor.org/v1beta1', kind: 'VarmorClusterPolicy', metadata: { name: 'w' }, spec: { target: { kind: 'Pod' }, policy: { enforcer: 'AppArmorSeccomp', mode: 'AlwaysAllow' } } },
      ['AppArmor', 'Seccomp'],
    );
    const deepFrozen = (v: unknown): boolean => typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(deepFrozen));
    expect(deepFrozen(p.securityContext)).toBe(true);
    expect(() => {
      (p.securityContext.both.appArmorProfile as { type: string }).type = 'Unconfined';
    }).toThrow(TypeError);
  });
});
