// The condition algebra: allowExcept(allow, deny) must accept exactly the argument values that
// allow accepts and deny does not. Checked by brute force over the interesting values.

import { describe, expect, it } from '@jest/globals';
import type { SyscallArg } from '../api/types.js';
import { allowExcept, ruleDnf, satisfies, type Dnf } from './conditions.js';

const holds = (d: Dnf, args: bigint[]): boolean => d.some((conj) => conj.every((c) => satisfies(args[c.index], c)));

function check(allow: Dnf, deny: Dnf, samples: bigint[][]): void {
  const { allow: out, dropped } = allowExcept(allow, deny);
  expect(dropped).toBe(false);
  for (const conj of out) expect(new Set(conj.map((c) => c.index)).size).toBe(conj.length); // runc would OR repeated indexes
  for (const s of samples) expect({ s: s.map(String), got: holds(out, s) }).toEqual({ s: s.map(String), got: holds(allow, s) && !holds(deny, s) });
}

const eq = (index: number, value: number): SyscallArg => ({ index, value, op: 'SCMP_CMP_EQ' });
const ne = (index: number, value: number): SyscallArg => ({ index, value, op: 'SCMP_CMP_NE' });
const masked = (index: number, mask: number, v: number): SyscallArg => ({ index, value: mask, valueTwo: v, op: 'SCMP_CMP_MASKED_EQ' });

const range = (n: number): bigint[] => Array.from({ length: n }, (_, i) => BigInt(i));

describe('allowExcept', () => {
  it('chmod x bits: allow only modes with no execute bit', () => {
    const deny = ruleDnf([masked(1, 0o100, 0o100), masked(1, 0o10, 0o10), masked(1, 0o1, 0o1)]);
    expect(deny).toHaveLength(3); // same index: ORed
    check([[]], deny, range(0o1000).map((m) => [0n, m]));
  });

  it('socket families on a base that already excludes vsock', () => {
    check([[ne(0, 40)]], [[eq(0, 10)], [eq(0, 1)], [eq(0, 38)]], [...range(64), 0xffffffffn, 0x100000026n].map((f) => [f]));
  });

  it('setsockopt level and option: two indexes, two denied options', () => {
    const samples = [0n, 1n, 6n].flatMap((level) => range(70).map((opt) => [0n, level, opt]));
    check([[]], [[eq(1, 1), eq(2, 26)], [eq(1, 1), eq(2, 51)]], samples);
  });

  it('personality: a raw NE rule narrows the base EQ allows to one value', () => {
    const allow: Dnf = [[eq(0, 0)], [eq(0, 8)], [eq(0, 0x20000)], [eq(0, 0xffffffff)]];
    check(allow, [[ne(0, 0xffffffff)]], [0n, 8n, 0x20000n, 0xffffffffn, 5n].map((v) => [v]));
  });

  it('clone namespace flags: the deny is inside what the base already refuses', () => {
    check([[masked(0, 0x7e020000, 0)]], [[masked(0, 0x10000000, 0x10000000)]], [0n, 0x10000000n, 0x11n, 0x20000n, 0x10000011n].map((v) => [v]));
  });

  it('an unconditional deny leaves nothing allowed', () => {
    expect(allowExcept([[]], [[]]).allow).toEqual([]);
  });
});
