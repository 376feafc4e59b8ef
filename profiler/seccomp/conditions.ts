// Argument-condition algebra for putting deny rules on top of an allow-list. libseccomp does not
// give a conditional deny precedence over an allow of the same syscall (measured with runc 1.1.5 /
// libseccomp 2.5.4: the allow wins), so an allowed syscall that a rule denies only for some
// arguments must be re-allowed for exactly the other arguments: allow ∧ ¬deny, written as
// allow entries whose conditions never repeat an argument index (runc would OR those).

import type { SyscallArg } from '../api/types.js';

export type Conj = SyscallArg[]; // all must hold
export type Dnf = Conj[]; // any may hold

const M32 = 0xffffffffn;

function big(n: number | undefined): bigint {
  return BigInt(n ?? 0);
}

/** Whether value x satisfies c (x is the argument's value, 64-bit). */
export function satisfies(x: bigint, c: SyscallArg): boolean {
  const v = big(c.value);
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return x === v;
    case 'SCMP_CMP_NE':
      return x !== v;
    case 'SCMP_CMP_LT':
      return x < v;
    case 'SCMP_CMP_LE':
      return x <= v;
    case 'SCMP_CMP_GT':
      return x > v;
    case 'SCMP_CMP_GE':
      return x >= v;
    case 'SCMP_CMP_MASKED_EQ':
      return (x & v) === big(c.valueTwo);
    default:
      return false;
  }
}

const cond = (index: number, op: string, value: bigint, valueTwo?: bigint): SyscallArg =>
  valueTwo === undefined ? { index, value: Number(value), op } : { index, value: Number(value), valueTwo: Number(valueTwo), op };

/** ¬c as alternatives (each a single condition). */
export function negate(c: SyscallArg): SyscallArg[] {
  const v = big(c.value);
  const i = c.index;
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return [cond(i, 'SCMP_CMP_NE', v)];
    case 'SCMP_CMP_NE':
      return [cond(i, 'SCMP_CMP_EQ', v)];
    case 'SCMP_CMP_LT':
      return [cond(i, 'SCMP_CMP_GE', v)];
    case 'SCMP_CMP_LE':
      return [cond(i, 'SCMP_CMP_GT', v)];
    case 'SCMP_CMP_GT':
      return [cond(i, 'SCMP_CMP_LE', v)];
    case 'SCMP_CMP_GE':
      return [cond(i, 'SCMP_CMP_LT', v)];
    case 'SCMP_CMP_MASKED_EQ': {
      // (x & m) != d  <=>  some bit of m differs from d
      const d = big(c.valueTwo);
      const out: SyscallArg[] = [];
      for (let b = 1n; b <= v && b !== 0n; b <<= 1n) if (v & b) out.push(cond(i, 'SCMP_CMP_MASKED_EQ', b, (d & b) ^ b));
      return out;
    }
    default:
      return [];
  }
}

/**
 * Values strictly between lo and hi as single conditions: aligned blocks `(x & ~(2^k-1)) == base`
 * on the low 32 bits (ints are 32-bit in the kernel; the upper bits are ignored there too).
 */
function blocksBetween(index: number, lo: bigint, hi: bigint): SyscallArg[] {
  const out: SyscallArg[] = [];
  let x = lo + 1n;
  while (x < hi) {
    let size = 1n;
    while ((x & (size * 2n - 1n)) === 0n && x + size * 2n - 1n < hi && size * 2n <= M32) size *= 2n;
    out.push(size === 1n ? cond(index, 'SCMP_CMP_EQ', x) : cond(index, 'SCMP_CMP_MASKED_EQ', M32 & ~(size - 1n), x));
    x += size;
  }
  return out;
}

/** a ∧ b on the same index, as alternatives; null when it cannot be written without repeating the index. */
function mergeSame(a: SyscallArg, b: SyscallArg): SyscallArg[][] | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return [[a]];
  if (a.op === 'SCMP_CMP_EQ') return satisfies(big(a.value), b) ? [[a]] : [];
  if (b.op === 'SCMP_CMP_EQ') return satisfies(big(b.value), a) ? [[b]] : [];
  if (a.op === 'SCMP_CMP_MASKED_EQ' && b.op === 'SCMP_CMP_MASKED_EQ') {
    const [m1, d1, m2, d2] = [big(a.value), big(a.valueTwo), big(b.value), big(b.valueTwo)];
    if ((d1 ^ d2) & m1 & m2) return [];
    return [[cond(a.index, 'SCMP_CMP_MASKED_EQ', m1 | m2, (d1 & m1) | (d2 & m2))]];
  }
  const [ne, other] = a.op === 'SCMP_CMP_NE' ? [a, b] : b.op === 'SCMP_CMP_NE' ? [b, a] : [undefined, undefined];
  if (ne && other) {
    const x = big(ne.value);
    const i = a.index;
    if (!satisfies(x, other)) return [[other]]; // x is outside `other` already
    const single = (cs: SyscallArg[]): SyscallArg[][] => cs.map((c) => [c]);
    if (other.op === 'SCMP_CMP_LT') return single([cond(i, 'SCMP_CMP_LT', x), ...blocksBetween(i, x, big(other.value))]);
    if (other.op === 'SCMP_CMP_LE') return single([cond(i, 'SCMP_CMP_LT', x), ...blocksBetween(i, x, big(other.value) + 1n)]);
    if (other.op === 'SCMP_CMP_GT') return single([cond(i, 'SCMP_CMP_GT', x), ...blocksBetween(i, big(other.value), x)]);
    if (other.op === 'SCMP_CMP_GE') return single([cond(i, 'SCMP_CMP_GT', x), ...blocksBetween(i, big(other.value) - 1n, x)]);
    if (other.op === 'SCMP_CMP_MASKED_EQ') {
      // An aligned block (what blocksBetween writes): split it around x.
      const m = big(other.value);
      const size = (M32 & ~m) + 1n;
      if ((m & M32) === (M32 & ~(size - 1n)) && (size & (size - 1n)) === 0n) {
        const lo = big(other.valueTwo);
        return single([...blocksBetween(i, lo - 1n, x), ...blocksBetween(i, x, lo + size)]);
      }
    }
    if (other.op === 'SCMP_CMP_NE') {
      const [lo, hi] = x < big(other.value) ? [x, big(other.value)] : [big(other.value), x];
      return [
        [cond(a.index, 'SCMP_CMP_LT', lo)],
        [cond(a.index, 'SCMP_CMP_GT', hi)],
        ...blocksBetween(a.index, lo, hi).map((c) => [c]),
      ];
    }
  }
  return null;
}

/** conj ∧ c as alternatives; null when not expressible. */
function andCond(conj: Conj, c: SyscallArg): Dnf | null {
  const same = conj.find((x) => x.index === c.index);
  if (!same) return [[...conj, c]];
  const rest = conj.filter((x) => x !== same);
  const merged = mergeSame(same, c);
  if (merged === null) return null;
  return merged.map((m) => [...rest, ...m]);
}

function dedupe(d: Dnf): Dnf {
  const seen = new Map<string, Conj>();
  for (const c of d) {
    const sorted = [...c].sort((a, b) => a.index - b.index);
    seen.set(JSON.stringify(sorted), sorted);
  }
  return [...seen.values()];
}

/**
 * allow ∧ ¬(deny_1 ∨ ... ∨ deny_n). Alternatives that cannot be written (two conditions on one
 * index that do not merge) are dropped: the syscall then fails closed for those arguments.
 * Returns the allow alternatives and whether any were dropped.
 */
/**
 * The conditions of one rule as alternatives: runc ANDs a rule's args, except when two share an
 * index, in which case it adds each arg as its own rule (OR).
 */
export function ruleDnf(args: SyscallArg[] | undefined): Dnf {
  const a = args ?? [];
  const repeated = new Set(a.map((c) => c.index)).size !== a.length;
  return repeated ? a.map((c) => [c]) : [a];
}

export function allowExcept(allow: Dnf, deny: Dnf): { allow: Dnf; dropped: boolean } {
  let result = allow;
  let dropped = false;
  for (const d of deny) {
    const alternatives = d.flatMap(negate); // ¬(c1 ∧ c2 ...) = ¬c1 ∨ ¬c2 ...
    const next: Dnf = [];
    for (const conj of result) {
      for (const alt of alternatives) {
        const r = andCond(conj, alt);
        if (r === null) dropped = true;
        else next.push(...r);
      }
    }
    result = dedupe(next);
  }
  return { allow: result, dropped };
}
