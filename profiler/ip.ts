// IPv4/IPv6 addresses and CIDRs, the one parser behind both the policy validator
// (profiler/validate) and the BPF compiler (profiler/bpf), so that what validation accepts is
// exactly what compilation can place in the vt_net LPM table. Pure (no node:net), so profiler/
// stays free of I/O modules.
//
// The text forms: dotted-quad IPv4 without leading zeros; RFC 4291 IPv6 (at most one `::`, groups
// of 1..4 hex digits, an embedded IPv4 only as the last 32 bits); no zone ids; a prefix length in
// decimal without leading zeros. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is stored as IPv4,
// as the kernel hook sees such connections; a mapped CIDR needs a prefix of at least 96 bits (the
// mapped part) and becomes the IPv4 CIDR of prefix - 96, since a shorter one spans IPv6 space the
// IPv4 table cannot express.

export const AF_INET = 2;
export const AF_INET6 = 10;

export interface ParsedIp {
  family: typeof AF_INET | typeof AF_INET6;
  /** 16 bytes, network order; IPv4 in the first 4. */
  bytes: Uint8Array;
}

export interface ParsedCidr extends ParsedIp {
  /** Prefix length in the family's address (0..32 for IPv4, 0..128 for IPv6). */
  bits: number;
}

/** An address as written: its text family, and its bytes (IPv4 in the first 4). */
interface IpText {
  version: 4 | 6;
  bytes: Uint8Array;
}

const DECIMAL = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!DECIMAL.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** The 16-bit groups of one side of `::`; an IPv4 tail (two groups) only where `v4Tail` allows it. */
function groups(part: string, v4Tail: boolean): number[] | null {
  if (part === '') return [];
  const out: number[] = [];
  const items = part.split(':');
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (v4Tail && i === items.length - 1 && it.includes('.')) {
      const v4 = parseV4(it);
      if (!v4) return null;
      out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      if (!HEX_GROUP.test(it)) return null;
      out.push(parseInt(it, 16));
    }
  }
  return out;
}

function parseV6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const dbl = s.split('::');
  if (dbl.length > 2) return null;
  let all: number[];
  if (dbl.length === 2) {
    // The IPv4 part is the last 32 bits: after `::`, never before it (`1.2.3.4::` is not an address).
    const head = groups(dbl[0], false);
    const tail = groups(dbl[1], true);
    if (!head || !tail) return null;
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null; // `::` stands for at least one group
    all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    const g = groups(dbl[0], true);
    if (!g || g.length !== 8) return null;
    all = g;
  }
  const b = new Uint8Array(16);
  all.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

function parseText(s: string): IpText | null {
  const v4 = parseV4(s);
  if (v4) {
    const bytes = new Uint8Array(16);
    bytes.set(v4);
    return { version: 4, bytes };
  }
  const v6 = parseV6(s);
  return v6 ? { version: 6, bytes: v6 } : null;
}

const isMapped = (b: Uint8Array): boolean => b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** The address as the table holds it: an IPv4-mapped IPv6 address becomes IPv4. */
function stored(t: IpText): ParsedIp {
  if (t.version === 4) return { family: AF_INET, bytes: t.bytes };
  if (isMapped(t.bytes)) {
    const bytes = new Uint8Array(16);
    bytes.set(t.bytes.subarray(12, 16));
    return { family: AF_INET, bytes };
  }
  return { family: AF_INET6, bytes: t.bytes };
}

/** Parse an IP; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4, as the kernel hook does. */
export function parseIp(s: string): ParsedIp | null {
  const t = parseText(s);
  return t ? stored(t) : null;
}

function maskHostBits(bytes: Uint8Array, bits: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] &= keep === 8 ? 0xff : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

function parseCidrText(s: string): { version: 4 | 6; net: ParsedCidr } | null {
  const parts = s.split('/');
  if (parts.length !== 2 || !DECIMAL.test(parts[1])) return null;
  const t = parseText(parts[0]);
  if (!t) return null;
  let bits = Number(parts[1]);
  if (bits > (t.version === 4 ? 32 : 128)) return null;
  const ip = stored(t);
  if (t.version === 6 && ip.family === AF_INET) {
    if (bits < 96) return null;
    bits -= 96;
  }
  return { version: t.version, net: { family: ip.family, bytes: maskHostBits(ip.bytes, bits), bits } };
}

/** Parse "a.b.c.d/n" or "x::/n"; host bits are cleared. */
export function parseCidr(s: string): ParsedCidr | null {
  return parseCidrText(s)?.net ?? null;
}

/** A bare address as its full-length prefix (a host route). */
export function parseHost(s: string): ParsedCidr | null {
  const ip = parseIp(s);
  return ip ? { ...ip, bits: ip.family === AF_INET ? 32 : 128 } : null;
}

/** An address (its full-length prefix) or a CIDR: what a resolved destination may be. */
export function parseIpOrCidr(s: string): ParsedCidr | null {
  return s.includes('/') ? parseCidr(s) : parseHost(s);
}

/** The family an address is written in (::ffff:a.b.c.d is 6), or 0 when malformed. */
export function ipVersion(s: string): 4 | 6 | 0 {
  return parseText(s)?.version ?? 0;
}

/** `10.0.0.0/8`, `fd00::/8`: the family the CIDR is written in, or 0 when malformed. */
export function cidrVersion(s: string): 4 | 6 | 0 {
  return parseCidrText(s)?.version ?? 0;
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

/** A destination port as the API accepts it (1..65535; 0 is "any port" in the kernel, not a port to name). */
export function isPort(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
}

/**
 * vArmor's named addresses for a toDestinations `ip`: `pod-self` (the pod's own addresses, known only
 * on the node: compiled to a VT_NET_SELF entry), `localhost` and `unspecified`. localhost covers all
 * of 127.0.0.0/8 (vArmor: 127.0.0.1 only, which 127.0.0.2 walks around) and ::1.
 */
export const IP_ENTITIES: Readonly<Record<string, readonly string[] | 'pod'>> = {
  'pod-self': 'pod',
  localhost: ['127.0.0.0/8', '::1/128'],
  unspecified: ['0.0.0.0/32', '::/128'],
};

export function isIpEntity(s: string): boolean {
  return Object.prototype.hasOwnProperty.call(IP_ENTITIES, s);
}
