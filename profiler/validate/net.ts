// IPv4/IPv6 address and CIDR parsing without node:net, so profiler/ stays free of I/O modules.
// Strict: dotted-quad IPv4 without leading zeros, RFC 4291 IPv6 text forms (with an optional
// embedded IPv4 tail), no zone ids.

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return (
    parts.length === 4 &&
    parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)
  );
}

export function isIPv6(s: string): boolean {
  if (s.length === 0 || s.length > 45) return false;
  let groups = 8;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    if (!isIPv4(text.slice(lastColon + 1))) return false;
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const hex = /^[0-9a-fA-F]{1,4}$/;
  const split = (h: string): string[] | null => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => hex.test(x)) ? g : null;
  };
  if (halves.length === 1) {
    const g = split(halves[0]);
    return g !== null && g.length === groups;
  }
  const left = split(halves[0]);
  const right = split(halves[1]);
  if (left === null || right === null) return false;
  groups -= 1; // `::` stands for at least one group
  return left.length + right.length <= groups;
}

export function ipVersion(s: string): 4 | 6 | 0 {
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return 0;
}

/** `10.0.0.0/8`, `fd00::/8`: the address family, or 0 when malformed. */
export function cidrVersion(s: string): 4 | 6 | 0 {
  const slash = s.indexOf('/');
  if (slash < 0) return 0;
  const v = ipVersion(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (v === 0 || !/^(0|[1-9]\d{0,2})$/.test(bits)) return 0;
  return Number(bits) <= (v === 4 ? 32 : 128) ? v : 0;
}
