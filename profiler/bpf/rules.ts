// The BPF compiler's vocabulary: permission, socket, capability and mount-flag words to the
// kernel numbers the tables hold, and path patterns to the table entry kinds they become.

import { CAPABILITIES } from '../api/well-known.js';
import {
  VT_ANY,
  VT_GLOB_BASENAME,
  VT_GLOB_ONE_COMPONENT,
  VT_GLOB_SLASH_OVERLAP,
  VT_MNT_UMOUNT,
  VT_PERM_APPEND,
  VT_PERM_EXEC,
  VT_PERM_READ,
  VT_PERM_WRITE,
  VT_PT_READ,
  VT_PT_READBY,
  VT_PT_TRACE,
  VT_PT_TRACEBY,
} from './layout.js';

export class BpfCompileError extends Error {
  readonly code = 'VARMOR_ERR_BPF_COMPILE';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'BpfCompileError';
  }
}

const PERMS: Record<string, number> = {
  read: VT_PERM_READ,
  r: VT_PERM_READ,
  // vArmor: write also covers append (and rename, links, chmod via the path hooks)
  write: VT_PERM_WRITE | VT_PERM_APPEND,
  w: VT_PERM_WRITE | VT_PERM_APPEND,
  append: VT_PERM_APPEND,
  a: VT_PERM_APPEND,
  exec: VT_PERM_EXEC,
  e: VT_PERM_EXEC,
  x: VT_PERM_EXEC,
  all: VT_PERM_READ | VT_PERM_WRITE | VT_PERM_APPEND | VT_PERM_EXEC,
  '*': VT_PERM_READ | VT_PERM_WRITE | VT_PERM_APPEND | VT_PERM_EXEC,
};

export function filePerms(words: string[], field: string): number {
  let m = 0;
  words.forEach((w, i) => {
    const v = PERMS[w.toLowerCase()];
    if (v === undefined) throw new BpfCompileError(`${field}[${i}]`, `unknown permission "${w}"`);
    m |= v;
  });
  return m;
}

export const DOMAINS: Record<string, number> = {
  unix: 1, local: 1, inet: 2, ax25: 3, ipx: 4, appletalk: 5, netrom: 6, bridge: 7, atmpvc: 8, x25: 9, inet6: 10,
  rose: 11, netbeui: 13, security: 14, key: 15, netlink: 16, route: 16, packet: 17, ash: 18, econet: 19, atmsvc: 20,
  rds: 21, sna: 22, irda: 23, pppox: 24, wanpipe: 25, llc: 26, ib: 27, mpls: 28, can: 29, tipc: 30, bluetooth: 31,
  iucv: 32, rxrpc: 33, isdn: 34, phonet: 35, ieee802154: 36, caif: 37, alg: 38, nfc: 39, vsock: 40, kcm: 41,
  qipcrtr: 42, smc: 43, xdp: 44, mctp: 45,
};
export const SOCK_TYPES: Record<string, number> = { stream: 1, dgram: 2, raw: 3, rdm: 4, seqpacket: 5, dccp: 6, packet: 10 };
export const PROTOCOLS: Record<string, number> = {
  ip: 0, icmp: 1, igmp: 2, tcp: 6, udp: 17, ipv6: 41, gre: 47, icmpv6: 58, sctp: 132, udplite: 136, raw: 255, mptcp: 262,
};

/** Socket words to numbers; 'all' (or an absent list) is VT_ANY. Numbers are accepted as well. */
export function socketValues(words: string[] | undefined, table: Record<string, number>, field: string): number[] {
  if (!words || words.length === 0) return [VT_ANY];
  const out = new Set<number>();
  words.forEach((w, i) => {
    const k = w.toLowerCase();
    if (k === 'all' || k === '*') out.add(VT_ANY);
    else if (/^[0-9]+$/.test(k)) out.add(Number(k));
    else if (table[k] !== undefined) out.add(table[k]);
    else throw new BpfCompileError(`${field}[${i}]`, `unknown value "${w}"`);
  });
  return out.has(VT_ANY) ? [VT_ANY] : [...out];
}

export function capabilityMask(names: string[], field: string): bigint {
  let m = 0n;
  names.forEach((n, i) => {
    const k = n.toLowerCase().replace(/^cap_/, '').replace(/-/g, '_');
    if (k === 'all') {
      m |= (1n << BigInt(CAPABILITIES.length)) - 1n;
      return;
    }
    const idx = CAPABILITIES.indexOf(k);
    if (idx < 0) throw new BpfCompileError(`${field}[${i}]`, `unknown capability "${n}"`);
    m |= 1n << BigInt(idx);
  });
  return m;
}

export function ptracePerms(words: string[], field: string): number {
  let m = 0;
  words.forEach((w, i) => {
    const v = { trace: VT_PT_TRACE, read: VT_PT_READ, traceby: VT_PT_TRACEBY, readby: VT_PT_READBY, all: 0x1e }[w.toLowerCase()];
    if (v === undefined) throw new BpfCompileError(`${field}[${i}]`, `unknown ptrace permission "${w}"`);
    m |= v;
  });
  return m;
}

const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128, NOSYMFOLLOW: 256,
  NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384, SILENT: 32768, POSIXACL: 1 << 16,
  UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, IVERSION: 1 << 23,
  STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
};

/** [flags, reverse flags]: a mount matches when it sets any of `flags` or leaves out any of `reverse`. */
const MOUNT_FLAG_WORDS: Record<string, [number, number]> = {
  ro: [MS.RDONLY, 0], r: [MS.RDONLY, 0], 'read-only': [MS.RDONLY, 0], rw: [0, MS.RDONLY], w: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID], nodev: [MS.NODEV, 0], dev: [0, MS.NODEV], noexec: [MS.NOEXEC, 0],
  exec: [0, MS.NOEXEC], sync: [MS.SYNCHRONOUS, 0], async: [0, MS.SYNCHRONOUS], remount: [MS.REMOUNT, 0],
  mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK], dirsync: [MS.DIRSYNC, 0], nosymfollow: [MS.NOSYMFOLLOW, 0],
  symfollow: [0, MS.NOSYMFOLLOW], noatime: [MS.NOATIME, 0], atime: [0, MS.NOATIME], nodiratime: [MS.NODIRATIME, 0],
  diratime: [0, MS.NODIRATIME], bind: [MS.BIND, 0], b: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0], R: [MS.BIND | MS.REC, 0],
  move: [MS.MOVE, 0], m: [MS.MOVE, 0], silent: [MS.SILENT, 0], loud: [0, MS.SILENT], acl: [MS.POSIXACL, 0],
  noacl: [0, MS.POSIXACL], unbindable: [MS.UNBINDABLE, 0], 'make-unbindable': [MS.UNBINDABLE, 0],
  runbindable: [MS.UNBINDABLE | MS.REC, 0], 'make-runbindable': [MS.UNBINDABLE | MS.REC, 0], private: [MS.PRIVATE, 0],
  'make-private': [MS.PRIVATE, 0], rprivate: [MS.PRIVATE | MS.REC, 0], 'make-rprivate': [MS.PRIVATE | MS.REC, 0],
  slave: [MS.SLAVE, 0], 'make-slave': [MS.SLAVE, 0], rslave: [MS.SLAVE | MS.REC, 0], 'make-rslave': [MS.SLAVE | MS.REC, 0],
  shared: [MS.SHARED, 0], 'make-shared': [MS.SHARED, 0], rshared: [MS.SHARED | MS.REC, 0], 'make-rshared': [MS.SHARED | MS.REC, 0],
  relatime: [MS.RELATIME, 0], norelatime: [0, MS.RELATIME], iversion: [MS.IVERSION, 0], noiversion: [0, MS.IVERSION],
  strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME], lazytime: [MS.LAZYTIME, 0], nolazytime: [0, MS.LAZYTIME],
  umount: [VT_MNT_UMOUNT, 0],
  // every mount operation (not umount): any flag set, or any flag left out (a plain new mount)
  all: [0xffffffff & ~VT_MNT_UMOUNT, 0xffffffff],
};

export function mountFlags(words: string[], field: string): { flags: number; reverse: number } {
  let flags = 0;
  let reverse = 0;
  words.forEach((w, i) => {
    const v = MOUNT_FLAG_WORDS[w] ?? MOUNT_FLAG_WORDS[w.toLowerCase()];
    if (!v) throw new BpfCompileError(`${field}[${i}]`, `unknown mount flag "${w}"`);
    flags |= v[0];
    reverse |= v[1];
  });
  return { flags: flags >>> 0, reverse: reverse >>> 0 };
}

/** What a path pattern becomes in the tables. */
export type PathPlan =
  | { kind: 'exact'; path: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'suffix'; suffix: string }
  | { kind: 'glob'; prefix: string; suffix: string; flags: number; base: string };

/**
 * Split a vArmor pattern (one `*` within a component, or one `**` across directories; a pattern
 * without `/` names a file) into the kind of table entry that matches it.
 */
export function planPattern(pattern: string, field: string): PathPlan {
  if (!pattern) throw new BpfCompileError(field, 'pattern must not be empty');
  const dbl = pattern.indexOf('**');
  const stars = (pattern.match(/\*/g) ?? []).length;
  if (dbl >= 0) {
    if (stars !== 2) throw new BpfCompileError(field, `"${pattern}": at most one glob ("*" or "**") per pattern`);
    let p = pattern.slice(0, dbl);
    const s = pattern.slice(dbl + 2);
    // every path is absolute: "/**X" is "**X" when X starts with "/" or is empty
    if (p === '/' && (s === '' || s.startsWith('/'))) p = s === '' ? '/' : '';
    if (s === '') return { kind: 'prefix', prefix: p };
    if (p === '') return { kind: 'suffix', suffix: s };
    const flags = p.endsWith('/') && s.startsWith('/') ? VT_GLOB_SLASH_OVERLAP : 0;
    return { kind: 'glob', prefix: p, suffix: s, flags, base: '' };
  }
  if (stars > 1) throw new BpfCompileError(field, `"${pattern}": at most one glob ("*" or "**") per pattern`);
  if (stars === 0) {
    if (!pattern.includes('/')) return { kind: 'suffix', suffix: `/${pattern}` }; // a file name
    if (!pattern.startsWith('/')) throw new BpfCompileError(field, `"${pattern}" must be absolute or a file name`);
    return { kind: 'exact', path: pattern };
  }
  const i = pattern.indexOf('*');
  const p = pattern.slice(0, i);
  const s = pattern.slice(i + 1);
  if (!pattern.includes('/')) {
    // file-name glob "A*B": the path ends with B and the file name starts with A
    if (p === '') return { kind: 'suffix', suffix: s };
    return { kind: 'glob', prefix: '', suffix: s, flags: VT_GLOB_BASENAME, base: p };
  }
  return { kind: 'glob', prefix: p, suffix: s, flags: VT_GLOB_ONE_COMPONENT, base: '' };
}
