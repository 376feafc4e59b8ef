// Encoder and decoder of a policy's BPF tables blob (native/varmor_tables.h). Pure: takes and
// returns plain objects and Uint8Arrays. The records are the kernel's map keys and values,
// so the addon can insert them as they are after stamping the generation.

import {
  LAYOUT,
  VT_FSTYPE_MAX,
  VT_GLOB_BASE_MAX,
  VT_LPM_PATH_MAX,
  VT_MAGIC,
  VT_MNT_PAT_MAX,
  VT_PATH_MAX,
  VT_PORT_RANGES,
  VT_SEC,
  VT_VERSION,
  VT_NET_SELF,
  VT_T_NET_SELF,
  POD_SELF,
  type StructName,
} from './layout.js';
import { formatIp, parseIp } from '../ip.js';

export class BpfTablesError extends Error {
  readonly code = 'VARMOR_ERR_BPF_TABLES';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'BpfTablesError';
  }
}

export interface PolicyRecord {
  mode: number; // VT_MODE_*
  capDeny: bigint;
  capAudit: bigint;
  flagsDeny: number;
  flagsAudit: number;
  ptraceDeny: number;
  ptraceAudit: number;
  ptraceFlags: number;
  /** VT_T_*; computed by encodeTables from the sections when omitted. */
  tableMask?: number;
  /** Lookup pre-filters (256-bit sets, 4 x u64); computed by encodeTables, returned by decodeTables. */
  filters?: { exactLen: bigint[]; prefixC1: bigint[]; suffixLast: bigint[] };
}

export interface Action {
  deny: number;
  audit: number;
}

export interface PathExactEntry extends Action {
  path: string;
}
/** `literal` is the prefix, or for suffix entries the suffix in normal order (the encoder reverses it). */
export interface PathLpmEntry extends Action {
  literal: string;
  globBits: bigint;
}
export interface PathGlobEntry extends Action {
  index: number;
  flags: number;
  prefixLen: number;
  suffixLen: number;
  basePrefix: string;
}
export interface SocketEntry extends Action {
  family: number;
  type: number;
  protocol: number;
}
export interface NetEntry extends Action {
  /** IPv4 or IPv6 network address, text form. */
  addr: string;
  prefixBits: number;
  portBits: bigint;
}
export interface NetPortsEntry extends Action {
  index: number;
  ranges: { lo: number; hi: number }[];
}
export interface MountFstypeEntry {
  fstype: string;
  bits: bigint;
}
export interface MountRuleEntry extends Action {
  index: number;
  flags: number;
  reverseFlags: number;
  patternFlags: number;
  prefix: string;
  suffix: string;
}

export interface Tables {
  policyId: number;
  policy: PolicyRecord;
  pathExact: PathExactEntry[];
  pathPrefix: PathLpmEntry[];
  pathSuffix: PathLpmEntry[];
  pathGlob: PathGlobEntry[];
  sockets: SocketEntry[];
  net: NetEntry[];
  netPorts: NetPortsEntry[];
  mountFstype: MountFstypeEntry[];
  mountRules: MountRuleEntry[];
  /** Directories above protected paths (vt_path_ancestor): judged by the rename and mount hooks. */
  pathAncestor: PathExactEntry[];
}

export function emptyTables(policyId: number, mode: number): Tables {
  return {
    policyId,
    policy: { mode, capDeny: 0n, capAudit: 0n, flagsDeny: 0, flagsAudit: 0, ptraceDeny: 0, ptraceAudit: 0, ptraceFlags: 0 },
    pathExact: [],
    pathPrefix: [],
    pathSuffix: [],
    pathGlob: [],
    sockets: [],
    net: [],
    netPorts: [],
    mountFstype: [],
    mountRules: [],
    pathAncestor: [],
  };
}

const te = new TextEncoder();
const td = new TextDecoder();

function off(s: StructName, f: string): number {
  const o = (LAYOUT[s].o as Record<string, number>)[f];
  if (o === undefined) throw new Error(`layout: ${s}.${f} unknown`);
  return o;
}

class Writer {
  readonly buf: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
  u8(at: number, v: number): void {
    this.dv.setUint8(at, v);
  }
  u16(at: number, v: number): void {
    this.dv.setUint16(at, v, true);
  }
  u32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, true);
  }
  u64(at: number, v: bigint): void {
    this.dv.setBigUint64(at, BigInt.asUintN(64, v), true);
  }
  bytes(at: number, b: Uint8Array, max: number, field: string): void {
    if (b.length > max) throw new BpfTablesError(`${b.length} bytes exceed the ${max}-byte field`, field);
    this.buf.set(b, at);
  }
}

function strBytes(s: string, max: number, field: string, needNul: boolean): Uint8Array {
  const b = te.encode(s);
  if (b.includes(0)) throw new BpfTablesError('contains a NUL byte', field);
  if (b.length > (needNul ? max - 1 : max)) throw new BpfTablesError(`"${s}" is ${b.length} bytes; at most ${needNul ? max - 1 : max} fit`, field);
  return b;
}

function checkU32(v: number, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new BpfTablesError(`${v} is not a u32`, field);
}

const ALL = [~0n, ~0n, ~0n, ~0n].map((x) => BigInt.asUintN(64, x));

function byteSet(values: number[] | 'all'): bigint[] {
  if (values === 'all') return [...ALL];
  const s = [0n, 0n, 0n, 0n];
  for (const v of values) s[v >> 6] |= 1n << BigInt(v & 63);
  return s;
}

/** The pre-filters of varmor_tables.h's vt_policy, from the path tables. */
export function computeFilters(t: Tables): NonNullable<PolicyRecord['filters']> {
  const lens = t.pathExact.map((e) => te.encode(e.path).length).filter((l) => l < 256);
  const pre = t.pathPrefix.map((e) => te.encode(e.literal));
  const suf = t.pathSuffix.map((e) => te.encode(e.literal));
  return {
    exactLen: byteSet(lens),
    prefixC1: byteSet(pre.some((b) => b.length < 2) ? 'all' : pre.map((b) => b[1])),
    suffixLast: byteSet(suf.some((b) => b.length < 1) ? 'all' : suf.map((b) => b[b.length - 1])),
  };
}

function computeMask(t: Tables): number {
  let m = 0;
  if (t.pathExact.length) m |= 0x1;
  if (t.pathPrefix.length) m |= 0x2;
  if (t.pathSuffix.length) m |= 0x4;
  if (t.sockets.length) m |= 0x8;
  if (t.net.length) m |= 0x10;
  if (t.mountFstype.length) m |= 0x20;
  if (t.pathAncestor.length) m |= 0x40;
  if (t.net.some((e) => e.addr === POD_SELF)) m |= VT_T_NET_SELF;
  return m;
}

interface SectionPlan {
  type: number;
  struct: StructName;
  count: number;
  write: (w: Writer, base: number, i: number) => void;
}

/** Encode `t` into the blob layout of varmor_tables.h. Throws BpfTablesError naming the field. */
export function encodeTables(t: Tables): Uint8Array {
  checkU32(t.policyId, 'policyId');
  const pid = t.policyId >>> 0;
  const keyHdr = (w: Writer, at: number) => {
    w.u32(at, pid); // policy_id; gen stays 0, stamped by the loader
  };
  // Indexed records (globs, port lists, mount rules) are selected by a bit of a 64-bit candidate mask.
  const indexKey = (w: Writer, at: number, index: number, field: string) => {
    if (!Number.isInteger(index) || index < 0 || index >= 64) throw new BpfTablesError(`${index} is not in 0..63`, field);
    keyHdr(w, at);
    w.u32(at + off('vt_index_key', 'index'), index);
  };
  const plans: SectionPlan[] = [
    {
      type: VT_SEC.POLICY,
      struct: 'vt_policy',
      count: 1,
      write: (w, b) => {
        const p = t.policy;
        const o = (f: string) => b + off('vt_policy', f);
        w.u32(o('mode'), p.mode);
        w.u64(o('cap_deny'), p.capDeny);
        w.u64(o('cap_audit'), p.capAudit);
        w.u32(o('flags_deny'), p.flagsDeny);
        w.u32(o('flags_audit'), p.flagsAudit);
        w.u32(o('ptrace_deny'), p.ptraceDeny);
        w.u32(o('ptrace_audit'), p.ptraceAudit);
        w.u32(o('ptrace_flags'), p.ptraceFlags);
        w.u32(o('table_mask'), p.tableMask ?? computeMask(t));
        const f = p.filters ?? computeFilters(t);
        for (let i = 0; i < 4; i++) {
          w.u64(o('exact_len') + 8 * i, f.exactLen[i]);
          w.u64(o('prefix_c1') + 8 * i, f.prefixC1[i]);
          w.u64(o('suffix_last') + 8 * i, f.suffixLast[i]);
        }
      },
    },
    {
      type: VT_SEC.PATH_EXACT,
      struct: 'vt_path_exact_rec',
      count: t.pathExact.length,
      write: (w, b, i) => {
        const e = t.pathExact[i];
        keyHdr(w, b);
        w.bytes(b + off('vt_path_key', 'path'), strBytes(e.path, VT_PATH_MAX, `pathExact[${i}].path`, true), VT_PATH_MAX, `pathExact[${i}].path`);
        const v = b + off('vt_path_exact_rec', 'val');
        w.u32(v, e.deny);
        w.u32(v + 4, e.audit);
      },
    },
    ...(['pathPrefix', 'pathSuffix'] as const).map(
      (name): SectionPlan => ({
        type: name === 'pathPrefix' ? VT_SEC.PATH_PREFIX : VT_SEC.PATH_SUFFIX,
        struct: 'vt_path_lpm_rec',
        count: t[name].length,
        write: (w, b, i) => {
          const e = t[name][i];
          const field = `${name}[${i}].literal`;
          let lit = te.encode(e.literal);
          if (lit.includes(0)) throw new BpfTablesError('contains a NUL byte', field);
          if (lit.length > VT_LPM_PATH_MAX) throw new BpfTablesError(`${lit.length} bytes; at most ${VT_LPM_PATH_MAX} fit`, field);
          if (name === 'pathSuffix') lit = lit.slice().reverse();
          w.u32(b + off('vt_path_lpm_key', 'prefixlen'), 64 + 8 * lit.length);
          w.u32(b + off('vt_path_lpm_key', 'policy_id'), pid);
          w.bytes(b + off('vt_path_lpm_key', 'path'), lit, VT_LPM_PATH_MAX, field);
          const v = b + off('vt_path_lpm_rec', 'val');
          w.u64(v + off('vt_path_lpm_val', 'glob_bits'), e.globBits);
          w.u32(v + off('vt_path_lpm_val', 'deny'), e.deny);
          w.u32(v + off('vt_path_lpm_val', 'audit'), e.audit);
        },
      }),
    ),
    {
      type: VT_SEC.PATH_GLOB,
      struct: 'vt_path_glob_rec',
      count: t.pathGlob.length,
      write: (w, b, i) => {
        const e = t.pathGlob[i];
        indexKey(w, b, e.index, `pathGlob[${i}].index`);
        const v = b + off('vt_path_glob_rec', 'val');
        const o = (f: string) => v + off('vt_path_glob', f);
        const base = strBytes(e.basePrefix, VT_GLOB_BASE_MAX, `pathGlob[${i}].basePrefix`, false);
        w.u32(o('flags'), e.flags);
        w.u32(o('deny'), e.deny);
        w.u32(o('audit'), e.audit);
        w.u16(o('prefix_len'), e.prefixLen);
        w.u16(o('suffix_len'), e.suffixLen);
        w.u16(o('base_len'), base.length);
        w.bytes(o('base_prefix'), base, VT_GLOB_BASE_MAX, `pathGlob[${i}].basePrefix`);
      },
    },
    {
      type: VT_SEC.SOCKET,
      struct: 'vt_socket_rec',
      count: t.sockets.length,
      write: (w, b, i) => {
        const e = t.sockets[i];
        keyHdr(w, b);
        for (const f of ['family', 'type', 'protocol'] as const) checkU32(e[f], `sockets[${i}].${f}`);
        w.u32(b + off('vt_socket_key', 'family'), e.family);
        w.u32(b + off('vt_socket_key', 'type'), e.type);
        w.u32(b + off('vt_socket_key', 'protocol'), e.protocol);
        const v = b + off('vt_socket_rec', 'val');
        w.u32(v, e.deny);
        w.u32(v + 4, e.audit);
      },
    },
    {
      type: VT_SEC.NET,
      struct: 'vt_net_rec',
      count: t.net.length,
      write: (w, b, i) => {
        const e = t.net[i];
        // pod-self: the cgroup's own addresses (vt_self_addrs), matched whatever they are
        const ip = e.addr === POD_SELF ? { family: VT_NET_SELF, bytes: new Uint8Array(16) } : parseIp(e.addr);
        if (!ip) throw new BpfTablesError(`"${e.addr}" is not an IP address`, `net[${i}].addr`);
        const max = ip.family === 2 ? 32 : ip.family === VT_NET_SELF ? 0 : 128;
        if (!Number.isInteger(e.prefixBits) || e.prefixBits < 0 || e.prefixBits > max)
          throw new BpfTablesError(`${e.prefixBits} is not in 0..${max}`, `net[${i}].prefixBits`);
        w.u32(b + off('vt_net_key', 'prefixlen'), 96 + e.prefixBits);
        w.u32(b + off('vt_net_key', 'policy_id'), pid);
        w.u8(b + off('vt_net_key', 'family'), ip.family);
        w.bytes(b + off('vt_net_key', 'addr'), ip.bytes, 16, `net[${i}].addr`);
        const v = b + off('vt_net_rec', 'val');
        w.u64(v + off('vt_net_val', 'port_bits'), e.portBits);
        w.u32(v + off('vt_net_val', 'deny'), e.deny);
        w.u32(v + off('vt_net_val', 'audit'), e.audit);
      },
    },
    {
      type: VT_SEC.NET_PORTS,
      struct: 'vt_net_ports_rec',
      count: t.netPorts.length,
      write: (w, b, i) => {
        const e = t.netPorts[i];
        indexKey(w, b, e.index, `netPorts[${i}].index`);
        if (e.ranges.length < 1 || e.ranges.length > VT_PORT_RANGES)
          throw new BpfTablesError(`${e.ranges.length} ranges; 1..${VT_PORT_RANGES} fit`, `netPorts[${i}].ranges`);
        const v = b + off('vt_net_ports_rec', 'val');
        w.u32(v + off('vt_net_ports', 'deny'), e.deny);
        w.u32(v + off('vt_net_ports', 'audit'), e.audit);
        w.u32(v + off('vt_net_ports', 'count'), e.ranges.length);
        e.ranges.forEach((r, j) => {
          if (!(r.lo >= 0 && r.lo <= r.hi && r.hi <= 65535)) throw new BpfTablesError(`${r.lo}-${r.hi} is not a port range`, `netPorts[${i}].ranges[${j}]`);
          const at = v + off('vt_net_ports', 'ranges') + j * LAYOUT.vt_port_range.size;
          w.u16(at, r.lo);
          w.u16(at + 2, r.hi);
        });
      },
    },
    {
      type: VT_SEC.MOUNT_FSTYPE,
      struct: 'vt_mount_fstype_rec',
      count: t.mountFstype.length,
      write: (w, b, i) => {
        const e = t.mountFstype[i];
        keyHdr(w, b);
        const f = `mountFstype[${i}].fstype`;
        w.bytes(b + off('vt_fstype_key', 'fstype'), strBytes(e.fstype, VT_FSTYPE_MAX, f, true), VT_FSTYPE_MAX, f);
        w.u64(b + off('vt_mount_fstype_rec', 'val'), e.bits);
      },
    },
    {
      type: VT_SEC.MOUNT_RULE,
      struct: 'vt_mount_rule_rec',
      count: t.mountRules.length,
      write: (w, b, i) => {
        const e = t.mountRules[i];
        indexKey(w, b, e.index, `mountRules[${i}].index`);
        const v = b + off('vt_mount_rule_rec', 'val');
        const o = (f: string) => v + off('vt_mount_rule', f);
        const pre = strBytes(e.prefix, VT_MNT_PAT_MAX, `mountRules[${i}].prefix`, false);
        const suf = strBytes(e.suffix, VT_MNT_PAT_MAX, `mountRules[${i}].suffix`, false);
        w.u32(o('deny'), e.deny);
        w.u32(o('audit'), e.audit);
        w.u32(o('flags'), e.flags);
        w.u32(o('reverse_flags'), e.reverseFlags);
        w.u32(o('pattern_flags'), e.patternFlags);
        w.u16(o('prefix_len'), pre.length);
        w.u16(o('suffix_len'), suf.length);
        w.bytes(o('prefix'), pre, VT_MNT_PAT_MAX, `mountRules[${i}].prefix`);
        w.bytes(o('suffix'), suf, VT_MNT_PAT_MAX, `mountRules[${i}].suffix`);
      },
    },
    {
      type: VT_SEC.PATH_ANCESTOR,
      struct: 'vt_path_exact_rec',
      count: t.pathAncestor.length,
      write: (w, b, i) => {
        const e = t.pathAncestor[i];
        const field = `pathAncestor[${i}].path`;
        keyHdr(w, b);
        w.bytes(b + off('vt_path_key', 'path'), strBytes(e.path, VT_PATH_MAX, field, true), VT_PATH_MAX, field);
        const v = b + off('vt_path_exact_rec', 'val');
        w.u32(v, e.deny);
        w.u32(v + 4, e.audit);
      },
    },
  ];

  const hdr = LAYOUT.vt_blob_header;
  let pos = hdr.size + plans.length * LAYOUT.vt_section.size;
  const offsets: number[] = [];
  for (const p of plans) {
    pos = (pos + 7) & ~7;
    offsets.push(pos);
    pos += p.count * LAYOUT[p.struct].size;
  }
  const total = (pos + 7) & ~7;
  const w = new Writer(total);
  w.u32(hdr.o.magic, VT_MAGIC);
  w.u16(hdr.o.version, VT_VERSION);
  w.u16(hdr.o.header_size, hdr.size);
  w.u32(hdr.o.policy_id, pid);
  w.u32(hdr.o.section_count, plans.length);
  w.u32(hdr.o.total_size, total);
  plans.forEach((p, k) => {
    const s = hdr.size + k * LAYOUT.vt_section.size;
    const size = LAYOUT[p.struct].size;
    w.u32(s + LAYOUT.vt_section.o.type, p.type);
    w.u32(s + LAYOUT.vt_section.o.record_size, size);
    w.u32(s + LAYOUT.vt_section.o.count, p.count);
    w.u32(s + LAYOUT.vt_section.o.offset, offsets[k]);
    for (let i = 0; i < p.count; i++) p.write(w, offsets[k] + i * size, i);
  });
  return w.buf;
}

function cstr(buf: Uint8Array, at: number, max: number): string {
  let end = at;
  while (end < at + max && buf[end] !== 0) end++;
  return td.decode(buf.subarray(at, end));
}

/** Decode a blob back into Tables (tests, the agent's diagnostics). Throws BpfTablesError. */
export function decodeTables(input: Uint8Array): Tables {
  const buf = input;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hdr = LAYOUT.vt_blob_header;
  if (buf.length < hdr.size) throw new BpfTablesError(`blob is ${buf.length} bytes, shorter than its ${hdr.size}-byte header`);
  if (dv.getUint32(hdr.o.magic, true) !== VT_MAGIC) throw new BpfTablesError('bad magic (not a varmor tables blob)', 'magic');
  if (dv.getUint16(hdr.o.version, true) !== VT_VERSION) throw new BpfTablesError(`version ${dv.getUint16(hdr.o.version, true)} is not ${VT_VERSION}`, 'version');
  const headerSize = dv.getUint16(hdr.o.header_size, true);
  const count = dv.getUint32(hdr.o.section_count, true);
  if (dv.getUint32(hdr.o.total_size, true) !== buf.length) throw new BpfTablesError(`total_size ${dv.getUint32(hdr.o.total_size, true)} != ${buf.length}`, 'total_size');
  const t = emptyTables(dv.getUint32(hdr.o.policy_id, true), 0);
  const u32 = (a: number) => dv.getUint32(a, true);
  const u16 = (a: number) => dv.getUint16(a, true);
  const u64 = (a: number) => dv.getBigUint64(a, true);
  const structOf: Record<number, StructName> = {
    [VT_SEC.POLICY]: 'vt_policy',
    [VT_SEC.PATH_EXACT]: 'vt_path_exact_rec',
    [VT_SEC.PATH_PREFIX]: 'vt_path_lpm_rec',
    [VT_SEC.PATH_SUFFIX]: 'vt_path_lpm_rec',
    [VT_SEC.PATH_GLOB]: 'vt_path_glob_rec',
    [VT_SEC.SOCKET]: 'vt_socket_rec',
    [VT_SEC.NET]: 'vt_net_rec',
    [VT_SEC.NET_PORTS]: 'vt_net_ports_rec',
    [VT_SEC.MOUNT_FSTYPE]: 'vt_mount_fstype_rec',
    [VT_SEC.MOUNT_RULE]: 'vt_mount_rule_rec',
    [VT_SEC.PATH_ANCESTOR]: 'vt_path_exact_rec',
  };
  let sawPolicy = false;
  for (let k = 0; k < count; k++) {
    const s = headerSize + k * LAYOUT.vt_section.size;
    if (s + LAYOUT.vt_section.size > buf.length) throw new BpfTablesError('section table runs past the end', `sections[${k}]`);
    const type = u32(s);
    const recSize = u32(s + 4);
    const n = u32(s + 8);
    const base = u32(s + 12);
    const st = structOf[type];
    if (!st) throw new BpfTablesError(`unknown section type ${type}`, `sections[${k}].type`);
    if (recSize !== LAYOUT[st].size) throw new BpfTablesError(`record_size ${recSize} != ${LAYOUT[st].size}`, `sections[${k}].record_size`);
    if (base + n * recSize > buf.length) throw new BpfTablesError('records run past the end', `sections[${k}]`);
    for (let i = 0; i < n; i++) {
      const b = base + i * recSize;
      switch (type) {
        case VT_SEC.POLICY: {
          const o = LAYOUT.vt_policy.o;
          sawPolicy = true;
          t.policy = {
            mode: u32(b + o.mode),
            capDeny: u64(b + o.cap_deny),
            capAudit: u64(b + o.cap_audit),
            flagsDeny: u32(b + o.flags_deny),
            flagsAudit: u32(b + o.flags_audit),
            ptraceDeny: u32(b + o.ptrace_deny),
            ptraceAudit: u32(b + o.ptrace_audit),
            ptraceFlags: u32(b + o.ptrace_flags),
            tableMask: u32(b + o.table_mask),
            filters: {
              exactLen: [0, 1, 2, 3].map((i) => u64(b + o.exact_len + 8 * i)),
              prefixC1: [0, 1, 2, 3].map((i) => u64(b + o.prefix_c1 + 8 * i)),
              suffixLast: [0, 1, 2, 3].map((i) => u64(b + o.suffix_last + 8 * i)),
            },
          };
          break;
        }
        case VT_SEC.PATH_EXACT:
        case VT_SEC.PATH_ANCESTOR: {
          const v = b + LAYOUT.vt_path_exact_rec.o.val;
          (type === VT_SEC.PATH_EXACT ? t.pathExact : t.pathAncestor).push({ path: cstr(buf, b + LAYOUT.vt_path_key.o.path, VT_PATH_MAX), deny: u32(v), audit: u32(v + 4) });
          break;
        }
        case VT_SEC.PATH_PREFIX:
        case VT_SEC.PATH_SUFFIX: {
          const bits = u32(b) - 64;
          const len = bits / 8;
          let lit = buf.slice(b + LAYOUT.vt_path_lpm_key.o.path, b + LAYOUT.vt_path_lpm_key.o.path + len);
          if (type === VT_SEC.PATH_SUFFIX) lit = lit.reverse();
          const v = b + LAYOUT.vt_path_lpm_rec.o.val;
          (type === VT_SEC.PATH_PREFIX ? t.pathPrefix : t.pathSuffix).push({
            literal: td.decode(lit),
            globBits: u64(v),
            deny: u32(v + 8),
            audit: u32(v + 12),
          });
          break;
        }
        case VT_SEC.PATH_GLOB: {
          const v = b + LAYOUT.vt_path_glob_rec.o.val;
          const o = LAYOUT.vt_path_glob.o;
          const baseLen = u16(v + o.base_len);
          t.pathGlob.push({
            index: u32(b + 8),
            flags: u32(v + o.flags),
            deny: u32(v + o.deny),
            audit: u32(v + o.audit),
            prefixLen: u16(v + o.prefix_len),
            suffixLen: u16(v + o.suffix_len),
            basePrefix: td.decode(buf.subarray(v + o.base_prefix, v + o.base_prefix + baseLen)),
          });
          break;
        }
        case VT_SEC.SOCKET: {
          const v = b + LAYOUT.vt_socket_rec.o.val;
          t.sockets.push({ family: u32(b + 8), type: u32(b + 12), protocol: u32(b + 16), deny: u32(v), audit: u32(v + 4) });
          break;
        }
        case VT_SEC.NET: {
          const o = LAYOUT.vt_net_key.o;
          const v = b + LAYOUT.vt_net_rec.o.val;
          const family = buf[b + o.family];
          t.net.push({
            addr: family === VT_NET_SELF ? POD_SELF : formatIp(family, buf.subarray(b + o.addr, b + o.addr + 16)),
            prefixBits: u32(b) - 96,
            portBits: u64(v),
            deny: u32(v + 8),
            audit: u32(v + 12),
          });
          break;
        }
        case VT_SEC.NET_PORTS: {
          const v = b + LAYOUT.vt_net_ports_rec.o.val;
          const n2 = Math.min(u32(v + 8), VT_PORT_RANGES);
          const ranges = [];
          for (let j = 0; j < n2; j++) ranges.push({ lo: u16(v + 12 + 4 * j), hi: u16(v + 14 + 4 * j) });
          t.netPorts.push({ index: u32(b + 8), deny: u32(v), audit: u32(v + 4), ranges });
          break;
        }
        case VT_SEC.MOUNT_FSTYPE:
          t.mountFstype.push({ fstype: cstr(buf, b + LAYOUT.vt_fstype_key.o.fstype, VT_FSTYPE_MAX), bits: u64(b + LAYOUT.vt_mount_fstype_rec.o.val) });
          break;
        case VT_SEC.MOUNT_RULE: {
          const v = b + LAYOUT.vt_mount_rule_rec.o.val;
          const o = LAYOUT.vt_mount_rule.o;
          t.mountRules.push({
            index: u32(b + 8),
            deny: u32(v + o.deny),
            audit: u32(v + o.audit),
            flags: u32(v + o.flags),
            reverseFlags: u32(v + o.reverse_flags),
            patternFlags: u32(v + o.pattern_flags),
            prefix: td.decode(buf.subarray(v + o.prefix, v + o.prefix + u16(v + o.prefix_len))),
            suffix: td.decode(buf.subarray(v + o.suffix, v + o.suffix + u16(v + o.suffix_len))),
          });
          break;
        }
      }
    }
  }
  if (!sawPolicy) throw new BpfTablesError('no policy section', 'sections');
  return t;
}
