// IPv4/IPv6 text <-> 16-byte network-order addresses, as the vt_net LPM key stores them.
// Pure (no node:net), so profiler/ stays free of I/O modules.

export const AF_INET = 2;
export const AF_INET6 = 10;

export interface ParsedIp {
  family: typeof AF_INET | typeof AF_INET6;
  /** 16 bytes; IPv4 in the first 4. */
  bytes: Uint8Array;
}

function parseV4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseV6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const dbl = s.split('::');
  if (dbl.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseV4(it);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = groups(dbl[0]);
  const tail = dbl.length === 2 ? groups(dbl[1]) : [];
  if (!head || !tail) return null;
  let all: number[];
  if (dbl.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    if (head.length !== 8) return null;
    all = head;
  }
  const b = new Uint8Array(16);
  all.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

/** Parse an IP; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4, as the kernel hook does. */
export function parseIp(s: string): ParsedIp | null {
  const v4 = parseV4(s);
  if (v4) {
    const bytes = new Uint8Array(16);
    bytes.set(v4);
    return { family: AF_INET, bytes };
  }
  const v6 = parseV6(s);
  if (!v6) return null;
  const mapped = v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
  if (mapped) {
    const bytes = new Uint8Array(16);
    bytes.set(v6.subarray(12, 16));
    return { family: AF_INET, bytes };
  }
  return { family: AF_INET6, bytes: v6 };
}

/** Parse "a.b.c.d/n", "x::/n" or a bare address (full length); host bits are cleared. */
export function parseCidr(s: string): { family: number; bytes: Uint8Array; bits: number } | null {
  const [addr, len, ...rest] = s.split('/');
  if (rest.length) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const max = ip.family === AF_INET ? 32 : 128;
  let bits = max;
  if (len !== undefined) {
    if (!/^[0-9]{1,3}$/.test(len)) return null;
    bits = Number(len);
    if (bits > max) return null;
  }
  const bytes = ip.bytes.slice();
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    bytes[i] &= keep === 8 ? 0xff : (0xff << (8 - keep)) & 0xff;
  }
  return { family: ip.family, bytes, bits };
}

export function formatIp(family: number, b: Uint8Array): string {
  if (family === AF_INET) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
  // longest run of zero groups -> "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}
