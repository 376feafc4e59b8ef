// Test support (not used by the product): finds a policy name whose profile name has a given
// 32-bit FNV-1a BPF policy id (profiler/names.ts bpfPolicyId), the attack of issue 16 item 1: a
// tenant picks a name whose id equals another tenant's policy id. Meet in the middle: each FNV-1a
// step h' = (h ^ byte) * prime is invertible (the prime is odd, so it has an inverse modulo 2^32),
// so we hash 3 characters forward from the prefix, undo 4 characters backward from the target and
// look for a state both reach: 36^3 stored states times 36^4 tried gives about 18 hits on average.

const PRIME = 0x01000193;
const OFFSET = 0x811c9dc5;
/** PRIME^-1 mod 2^32 (Newton's iteration: each step doubles the correct low bits). */
const PRIME_INV = (() => {
  let x = PRIME; // correct to 3 bits for an odd number
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(PRIME, x)) >>> 0;
  return x >>> 0;
})();

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function fnvFrom(h: number, s: string): number {
  for (const byte of Buffer.from(s, 'utf8')) h = Math.imul((h ^ byte) >>> 0, PRIME) >>> 0;
  return h;
}

/** FNV-1a-32 of `s` (without bpfPolicyId's 0 -> 1 mapping). */
export function fnv1a32(s: string): number {
  return fnvFrom(OFFSET, s);
}

/**
 * A name `stem + 7 characters of [a-z0-9]` such that fnv1a32(prefix + name) === target, e.g.
 * prefix `varmor-attacker-` and target bpfPolicyId('varmor-victim-web'). Undefined if none (rare:
 * try another stem).
 */
export function findCollidingName(prefix: string, target: number, stem = 'x'): string | undefined {
  const start = fnvFrom(OFFSET, prefix + stem);
  const forward = new Map<number, string>();
  for (const a of ALNUM) for (const b of ALNUM) for (const c of ALNUM) forward.set(fnvFrom(start, a + b + c), a + b + c);
  const t = target >>> 0;
  const chars = [...ALNUM].map((ch) => ch.charCodeAt(0));
  // undo the last four bytes: h_prev = (h * PRIME^-1) ^ byte
  const back = (h: number, byte: number): number => (Math.imul(h, PRIME_INV) >>> 0) ^ byte;
  for (const d of chars) {
    const h3 = back(t, d) >>> 0;
    for (const c of chars) {
      const h2 = back(h3, c) >>> 0;
      for (const b of chars) {
        const h1 = back(h2, b) >>> 0;
        for (const a of chars) {
          const h0 = back(h1, a) >>> 0;
          const head = forward.get(h0);
          if (head !== undefined) return stem + head + String.fromCharCode(a, b, c, d);
        }
      }
    }
  }
  return undefined;
}

/**
 * Like findCollidingName, but always answers: tries stems `x`, `y`, `xa`, ... until one gives a
 * name, and throws if none fits in `maxLength` characters (a policy name; the profile name
 * `prefix + name` must stay within 63 bytes, so callers pass 63 - prefix.length).
 */
export function collidingPolicyName(prefix: string, target: number, maxLength = 63 - prefix.length): string {
  for (const stem of ['x', 'y', 'z', 'xa', 'xb', 'xc', 'xd', 'xe']) {
    if (stem.length + 7 > maxLength) break;
    const name = findCollidingName(prefix, target, stem);
    if (name !== undefined) return name;
  }
  throw new Error(`no policy name of at most ${maxLength} characters after ${prefix} has FNV-1a id ${target}`);
}
