// The BPF compiler: a validated policy -> the tables blob of native/varmor_tables.h.
//
//   AlwaysAllow       no rules (the cgroup is bound, nothing is denied)
//   RuntimeDefault    containerd's baseline, emulated (vArmor 3.8 plus /proc/sys and /sys writes)
//   EnhanceProtect    baseline unless privileged + built-in rules + bpfRawRules; qualifiers from
//                     auditViolations/allowViolations (vArmor's table); toServices/toPods are
//                     returned as selectors for the controller to resolve, then compiled in again
//   BehaviorModeling  record mode: every hooked event is reported as allowed, nothing denied
//   DefenseInDepth    refused for BPF (as vArmor and our validation do)

import type { CompileInput } from '../compiled.js';
import type { BpfRawRules, EnhanceProtect, LabelSelector, PortRange } from '../api/types.js';
import { findBuiltinRule } from '../rules/catalogue.js';
import { isUnsupported, type BpfImpl } from '../rules/types.js';
import { encodeTables, emptyTables, type Tables } from './encode.js';
import { formatIp, IP_ENTITIES, isPort, parseCidr, parseHost, parseIpOrCidr, type ParsedCidr } from '../ip.js';
import {
  VT_F_BPF_PROG_LOAD,
  VT_F_SOCK_FILTER_ATTACH,
  VT_F_EXEC_FILELESS,
  VT_F_EXEC_UNKNOWN,
  VT_F_USERNS_CREATE,
  VT_MAX_GLOBS,
  VT_MAX_MOUNT_RULES,
  VT_MAX_PORT_RULES,
  VT_MODE_ENFORCE,
  VT_MODE_RECORD,
  VT_MP_ANY,
  VT_MP_EXACT,
  VT_MP_GLOB,
  VT_PERM_APPEND,
  VT_PERM_EXEC,
  VT_PERM_READ,
  VT_PERM_WRITE,
  VT_PORT_RANGES,
  VT_PT_READ,
  VT_PT_STRICT,
  VT_PT_TRACE,
  VT_NET_SELF,
  POD_SELF,
} from './layout.js';
import {
  BpfCompileError,
  DOMAINS,
  PROTOCOLS,
  SOCK_TYPES,
  capabilityMask,
  filePerms,
  mountFlags,
  planPattern,
  ptracePerms,
  socketValues,
} from './rules.js';

export { BpfCompileError } from './rules.js';

/** deny: block; audit: report. Both false means the rule has no effect and is dropped. */
export interface Disposition {
  deny: boolean;
  audit: boolean;
}

/** Egress selectors the controller resolves to addresses (Service ClusterIPs/endpoints, Pod IPs). */
export interface BpfSelectors {
  services: { namespace?: string; name?: string; serviceSelector?: LabelSelector; disposition: Disposition; field: string }[];
  pods: { namespace?: string; podSelector: LabelSelector; ports?: PortRange[]; disposition: Disposition; field: string }[];
}

/** Addresses the controller resolved from selectors; compiled in like toDestinations. */
export interface ResolvedDestination {
  cidr: string; // address or CIDR
  ports?: PortRange[];
  disposition: Disposition;
}

export interface BpfCompileOptions {
  resolvedDestinations?: ResolvedDestination[];
}

export interface BpfCompiled {
  tables: Uint8Array;
  /** Present when the policy names services or pods. */
  selectors?: BpfSelectors;
}

/** vArmor's qualifier table for built-in rules (varmor-internals 2.6). */
export function policyDisposition(ep: { auditViolations?: boolean; allowViolations?: boolean }): Disposition {
  return { deny: ep.allowViolations !== true, audit: ep.auditViolations === true };
}

/** A raw rule's own qualifiers, then the policy's allow/audit switches on top. */
function rawDisposition(qualifiers: string[] | undefined, ep: EnhanceProtect): Disposition {
  const q = (qualifiers ?? []).map((x) => x.toLowerCase());
  let deny = q.includes('deny') || q.length === 0;
  let audit = q.includes('audit');
  if (ep.allowViolations === true) {
    audit = audit || deny;
    deny = false;
  }
  if (ep.auditViolations === true) audit = true;
  return { deny, audit };
}

// ---- the table builder ------------------------------------------------------------------------

/** A vt_net entry's network: an address family's CIDR, or the pod's own addresses (VT_NET_SELF). */
type NetKey = Omit<ParsedCidr, 'family'> & { family: ParsedCidr['family'] | typeof VT_NET_SELF };

/** `ip: pod-self` (vArmor's PodSelfIPMatch): whatever addresses the bound container's pod has. */
function podSelf(s: string): NetKey | null {
  return s === POD_SELF ? { family: VT_NET_SELF, bytes: new Uint8Array(16), bits: 0 } : null;
}

interface GlobAcc {
  prefix: string;
  suffix: string;
  flags: number;
  base: string;
  deny: number;
  audit: number;
}

interface PortAcc {
  ranges: { lo: number; hi: number }[];
  deny: number;
  audit: number;
}

interface MountAcc {
  fstype: string;
  flags: number;
  reverse: number;
  patternFlags: number;
  prefix: string;
  suffix: string;
  deny: number;
  audit: number;
}

const utf8Len = (s: string): number => new TextEncoder().encode(s).length;

export class TableBuilder {
  private exact = new Map<string, { deny: number; audit: number }>();
  private prefixes = new Map<string, { deny: number; audit: number; bits: bigint }>();
  private suffixes = new Map<string, { deny: number; audit: number; bits: bigint }>();
  private globs: GlobAcc[] = [];
  private sockets = new Map<string, { family: number; type: number; protocol: number; deny: number; audit: number }>();
  private nets = new Map<string, { family: number; bytes: Uint8Array; bits: number; deny: number; audit: number; portBits: bigint }>();
  private ports: PortAcc[] = [];
  private mounts: MountAcc[] = [];
  private ancestors = new Map<string, { deny: number; audit: number }>();
  readonly t: Tables;

  constructor(policyId: number, mode: number) {
    this.t = emptyTables(policyId, mode);
  }

  private lpm(map: Map<string, { deny: number; audit: number; bits: bigint }>, lit: string, field: string) {
    if (utf8Len(lit) > 240) throw new BpfCompileError(field, `"${lit}" is longer than the 240 bytes a pattern part may have`);
    let e = map.get(lit);
    if (!e) {
      e = { deny: 0, audit: 0, bits: 0n };
      map.set(lit, e);
    }
    return e;
  }

  /** A file or process rule: `perms` are VT_PERM_* bits. */
  path(pattern: string, perms: number, d: Disposition, field: string): void {
    if (!d.deny && !d.audit) return;
    const deny = d.deny ? perms : 0;
    const audit = d.audit ? perms : 0;
    const plan = planPattern(pattern, field);
    if (plan.kind === 'exact') this.ancestor(plan.path, deny, audit);
    else if (plan.kind !== 'suffix') this.ancestor(plan.prefix, deny, audit);
    switch (plan.kind) {
      case 'exact': {
        if (utf8Len(plan.path) > 255) throw new BpfCompileError(field, `"${plan.path}" is longer than 255 bytes`);
        const e = this.exact.get(plan.path) ?? { deny: 0, audit: 0 };
        e.deny |= deny;
        e.audit |= audit;
        this.exact.set(plan.path, e);
        return;
      }
      case 'prefix': {
        const e = this.lpm(this.prefixes, plan.prefix, field);
        e.deny |= deny;
        e.audit |= audit;
        return;
      }
      case 'suffix': {
        const e = this.lpm(this.suffixes, plan.suffix, field);
        e.deny |= deny;
        e.audit |= audit;
        return;
      }
      case 'glob': {
        if (utf8Len(plan.base) > 64) throw new BpfCompileError(field, `file-name prefix "${plan.base}" is longer than 64 bytes`);
        let idx = this.globs.findIndex((g) => g.prefix === plan.prefix && g.suffix === plan.suffix && g.flags === plan.flags && g.base === plan.base);
        if (idx < 0) {
          if (this.globs.length >= VT_MAX_GLOBS) throw new BpfCompileError(field, `more than ${VT_MAX_GLOBS} patterns with a glob in the middle`);
          idx = this.globs.length;
          this.globs.push({ ...plan, deny: 0, audit: 0 });
        }
        this.globs[idx].deny |= deny;
        this.globs[idx].audit |= audit;
        this.lpm(this.prefixes, plan.prefix, field).bits |= 1n << BigInt(idx);
        this.lpm(this.suffixes, plan.suffix, field).bits |= 1n << BigInt(idx);
        return;
      }
    }
  }

  /**
   * Every directory above (or, for a literal ending in '/', equal to) the absolute literal `lit`:
   * "/data/secret/" gives "/", "/data", "/data/secret"; "/etc/shadow" gives "/", "/etc". Moving
   * one of them (rename, mount --move, a bind mount of it) would carry the protected files to a
   * path no rule names; mounting over one replaces them. A glob's literal prefix stands for
   * everything below it ("/proc/STARSTAR/mem" gives "/", "/proc"), which keeps the table small.
   */
  private ancestor(lit: string, deny: number, audit: number): void {
    if (!lit.startsWith('/')) return;
    for (let i = lit.indexOf('/'); i >= 0; i = lit.indexOf('/', i + 1)) {
      const dir = i === 0 ? '/' : lit.slice(0, i);
      if (utf8Len(dir) > 255) return;
      const e = this.ancestors.get(dir) ?? { deny: 0, audit: 0 };
      e.deny |= deny;
      e.audit |= audit;
      this.ancestors.set(dir, e);
    }
  }

  socket(domains: string[] | undefined, types: string[] | undefined, protocols: string[] | undefined, d: Disposition, field: string): void {
    if (!d.deny && !d.audit) return;
    const fams = socketValues(domains, DOMAINS, `${field}.domains`);
    const tys = socketValues(types, SOCK_TYPES, `${field}.types`);
    const protos = socketValues(protocols, PROTOCOLS, `${field}.protocols`);
    for (const family of fams)
      for (const type of tys)
        for (const protocol of protos) {
          const k = `${family}/${type}/${protocol}`;
          const e = this.sockets.get(k) ?? { family, type, protocol, deny: 0, audit: 0 };
          e.deny |= d.deny ? 1 : 0;
          e.audit |= d.audit ? 1 : 0;
          this.sockets.set(k, e);
        }
  }

  /** `parse` is the text form the field allows (a toDestinations ip is no CIDR, its cidr no bare address). */
  destination(
    cidr: string,
    ports: PortRange[] | undefined,
    d: Disposition,
    field: string,
    parse: (s: string) => NetKey | null = parseIpOrCidr,
  ): void {
    if (!d.deny && !d.audit) return;
    const c = parse(cidr);
    if (!c) throw new BpfCompileError(field, `"${cidr}" is not an IP address or CIDR`);
    const k = `${c.family}/${Array.from(c.bytes).join('.')}/${c.bits}`;
    const e = this.nets.get(k) ?? { family: c.family, bytes: c.bytes, bits: c.bits, deny: 0, audit: 0, portBits: 0n };
    this.nets.set(k, e);
    if (!ports || ports.length === 0) {
      e.deny |= d.deny ? 1 : 0;
      e.audit |= d.audit ? 1 : 0;
      return;
    }
    const ranges = ports.map((p, i) => {
      const hi = p.endPort ?? p.port;
      if (!(isPort(p.port) && isPort(hi) && hi >= p.port))
        throw new BpfCompileError(`${field}.ports[${i}]`, `${p.port}-${hi} is not a port range`);
      return { lo: p.port, hi };
    });
    for (let i = 0; i < ranges.length; i += VT_PORT_RANGES) {
      const record: PortAcc = { ranges: ranges.slice(i, i + VT_PORT_RANGES), deny: d.deny ? 1 : 0, audit: d.audit ? 1 : 0 };
      // Addresses with the same ports share one record (a Service's endpoints all have its ports):
      // the 64 records then bound the distinct port sets, not the addresses.
      const same = this.ports.findIndex((r) => JSON.stringify(r) === JSON.stringify(record));
      if (same >= 0) {
        e.portBits |= 1n << BigInt(same);
        continue;
      }
      if (this.ports.length >= VT_MAX_PORT_RULES)
        throw new BpfCompileError(field, `more than ${VT_MAX_PORT_RULES} distinct port-restricted destination rules (of ${VT_PORT_RANGES} ranges each)`);
      this.ports.push(record);
      e.portBits |= 1n << BigInt(this.ports.length - 1);
    }
  }

  mount(sourcePattern: string, fstype: string, flags: string[], d: Disposition, field: string): void {
    if (!d.deny && !d.audit) return;
    const { flags: f, reverse } = mountFlags(flags, `${field}.flags`);
    if (utf8Len(fstype) > 15 || fstype === '') throw new BpfCompileError(`${field}.fstype`, `"${fstype}" must be 1..15 bytes (or "*")`);
    let patternFlags: number;
    let prefix = '';
    let suffix = '';
    const stars = (sourcePattern.match(/\*/g) ?? []).length;
    if (sourcePattern === '**' || sourcePattern === '*' || sourcePattern === '') patternFlags = VT_MP_ANY;
    else if (stars === 0) {
      patternFlags = VT_MP_EXACT;
      prefix = sourcePattern;
    } else {
      const i = sourcePattern.indexOf('*');
      const j = sourcePattern.lastIndexOf('*');
      if (j - i > 1 || (j === i + 1 && sourcePattern[i + 1] !== '*')) throw new BpfCompileError(`${field}.sourcePattern`, 'at most one glob');
      patternFlags = VT_MP_GLOB;
      prefix = sourcePattern.slice(0, i);
      suffix = sourcePattern.slice(j + 1);
    }
    if (utf8Len(prefix) > 64 || utf8Len(suffix) > 64)
      throw new BpfCompileError(`${field}.sourcePattern`, 'the text before and after the glob may have 64 bytes each');
    if (this.mounts.length >= VT_MAX_MOUNT_RULES) throw new BpfCompileError(field, `more than ${VT_MAX_MOUNT_RULES} mount rules`);
    this.mounts.push({ fstype, flags: f, reverse, patternFlags, prefix, suffix, deny: d.deny ? 1 : 0, audit: d.audit ? 1 : 0 });
  }

  capabilities(names: string[], d: Disposition, field: string): void {
    const m = capabilityMask(names, field);
    if (d.deny) this.t.policy.capDeny |= m;
    if (d.audit) this.t.policy.capAudit |= m;
  }

  flag(flag: number, d: Disposition): void {
    if (d.deny) this.t.policy.flagsDeny |= flag;
    if (d.audit) this.t.policy.flagsAudit |= flag;
  }

  ptrace(perms: number, strict: boolean, d: Disposition): void {
    if (!d.deny && !d.audit) return;
    if (d.deny) this.t.policy.ptraceDeny |= perms;
    if (d.audit) this.t.policy.ptraceAudit |= perms;
    if (strict) this.t.policy.ptraceFlags |= VT_PT_STRICT;
  }

  /** LPM entries return only the longest match: fold every shorter match into each entry. */
  build(): Tables {
    const t = this.t;
    t.pathExact = [...this.exact].map(([path, a]) => ({ path, ...a }));
    t.pathAncestor = [...this.ancestors].map(([path, a]) => ({ path, ...a }));
    // each literal folds in the entries that are its own prefixes (suffixes): O(entries x length)
    const fold = (m: Map<string, { deny: number; audit: number; bits: bigint }>, part: (lit: string, n: number) => string) =>
      [...m.keys()].map((lit) => {
        let deny = 0;
        let audit = 0;
        let bits = 0n;
        for (let n = 0; n <= lit.length; n++) {
          const e2 = m.get(part(lit, n));
          if (e2) {
            deny |= e2.deny;
            audit |= e2.audit;
            bits |= e2.bits;
          }
        }
        return { literal: lit, deny, audit, globBits: bits };
      });
    t.pathPrefix = fold(this.prefixes, (l, n) => l.slice(0, n));
    t.pathSuffix = fold(this.suffixes, (l, n) => l.slice(l.length - n));
    t.pathGlob = this.globs.map((g, index) => ({
      index,
      flags: g.flags,
      deny: g.deny,
      audit: g.audit,
      prefixLen: utf8Len(g.prefix),
      suffixLen: utf8Len(g.suffix),
      basePrefix: g.base,
    }));
    t.sockets = [...this.sockets.values()];
    const nets = [...this.nets.values()];
    const within = (outer: (typeof nets)[number], inner: (typeof nets)[number]) => {
      if (outer.family !== inner.family || outer.bits > inner.bits) return false;
      for (let b = 0; b < outer.bits; b++) {
        const mask = 0x80 >> (b % 8);
        if ((outer.bytes[b >> 3] & mask) !== (inner.bytes[b >> 3] & mask)) return false;
      }
      return true;
    };
    t.net = nets.map((n) => {
      let deny = 0;
      let audit = 0;
      let portBits = 0n;
      for (const o of nets)
        if (within(o, n)) {
          deny |= o.deny;
          audit |= o.audit;
          portBits |= o.portBits;
        }
      const addr = n.family === VT_NET_SELF ? POD_SELF : formatIp(n.family, n.bytes);
      return { addr, prefixBits: n.bits, deny, audit, portBits };
    });
    t.netPorts = this.ports.map((p, index) => ({ index, ...p }));
    t.mountRules = this.mounts.map((m, index) => ({
      index,
      deny: m.deny,
      audit: m.audit,
      flags: m.flags,
      reverseFlags: m.reverse,
      patternFlags: m.patternFlags,
      prefix: m.prefix,
      suffix: m.suffix,
    }));
    const anyBits = this.mounts.reduce((acc, m, i) => (m.fstype === '*' ? acc | (1n << BigInt(i)) : acc), 0n);
    const fstypes = new Set(this.mounts.map((m) => m.fstype));
    if (this.mounts.length) fstypes.add('*');
    t.mountFstype = [...fstypes].map((fstype) => ({
      fstype,
      bits: this.mounts.reduce((acc, m, i) => (m.fstype === fstype ? acc | (1n << BigInt(i)) : acc), anyBits),
    }));
    return t;
  }
}

// ---- baselines and rule sources ---------------------------------------------------------------

const RW = VT_PERM_READ | VT_PERM_WRITE | VT_PERM_APPEND;
const W = VT_PERM_WRITE | VT_PERM_APPEND;

/**
 * containerd's AppArmor baseline in BPF terms. vArmor emulates only its first part; we add the
 * /proc/sys and /sys write denies. Known gap: AppArmor also denies writes under
 * /proc/sys/kernel except shm*, which an allow-less table cannot express; we keep kernel/
 * writable but deny the escape-relevant files in it.
 */
export const RUNTIME_DEFAULT_FILES: { pattern: string; perms: number }[] = [
  { pattern: '/proc/sysrq-trigger', perms: RW },
  // vArmor's /proc/**/mem: every process's memory (/proc/self/mem, /proc/1/mem), not only /dev/mem's /proc twin
  { pattern: '/proc/**/mem', perms: RW },
  { pattern: '/proc/kmem', perms: RW },
  { pattern: '/proc/kcore', perms: RW },
  { pattern: '/sys/firmware/**', perms: RW },
  { pattern: '/sys/devices/virtual/powercap/**', perms: RW },
  { pattern: '/sys/kernel/security/**', perms: RW },
  ...['abi', 'debug', 'dev', 'fs', 'net', 'user', 'vm', 'crypto', 'sunrpc'].map((d) => ({ pattern: `/proc/sys/${d}/**`, perms: W })),
  ...['core_pattern', 'modprobe', 'sysrq', 'panic', 'hotplug', 'kexec_load_disabled', 'unprivileged_bpf_disabled', 'randomize_va_space'].map(
    (f) => ({ pattern: `/proc/sys/kernel/${f}`, perms: W }),
  ),
  ...['kernel', 'module', 'power', 'devices', 'class', 'bus', 'block', 'dev', 'hypervisor'].map((d) => ({ pattern: `/sys/${d}/**`, perms: W })),
];

function runtimeDefault(b: TableBuilder, d: Disposition): void {
  RUNTIME_DEFAULT_FILES.forEach((f, i) => b.path(f.pattern, f.perms, d, `baseline.files[${i}]`));
  b.mount('**', '*', ['all'], d, 'baseline.mounts[0]'); // no new mounts (umount stays allowed)
  b.ptrace(VT_PT_TRACE | VT_PT_READ, false, d); // no tracing of processes outside the container
}

/** Expand one catalogue entry's BPF implementation with the policy's disposition. */
export function applyBuiltin(b: TableBuilder, impl: BpfImpl, d: Disposition, field: string, selectors: BpfSelectors): void {
  impl.files?.forEach((f, i) => b.path(f.pattern, filePerms(f.permissions, `${field}.files[${i}].permissions`), d, `${field}.files[${i}]`));
  impl.processes?.forEach((p, i) => b.path(p.pattern, VT_PERM_EXEC, d, `${field}.processes[${i}]`));
  impl.sockets?.forEach((s, i) => b.socket(s.domains, s.types, s.protocols, d, `${field}.sockets[${i}]`));
  impl.destinations?.forEach((x, i) => b.destination(x.cidr, x.ports, d, `${field}.destinations[${i}]`));
  impl.services?.forEach((s, i) => {
    if (d.deny || d.audit) selectors.services.push({ namespace: s.namespace, name: s.name, disposition: d, field: `${field}.services[${i}]` });
  });
  if (impl.ptrace) b.ptrace(ptracePerms(impl.ptrace.permissions, `${field}.ptrace.permissions`), impl.ptrace.strictMode, d);
  impl.mounts?.forEach((m, i) => b.mount(m.sourcePattern, m.fstype, m.flags, d, `${field}.mounts[${i}]`));
  if (impl.capabilities) b.capabilities(impl.capabilities, d, `${field}.capabilities`);
  if (impl.usernsCreate) b.flag(VT_F_USERNS_CREATE, d);
  if (impl.bpfProgLoad) b.flag(VT_F_BPF_PROG_LOAD, d);
  if (impl.socketFilterAttach) b.flag(VT_F_SOCK_FILTER_ATTACH, d);
  if (impl.execFileless) b.flag(VT_F_EXEC_FILELESS, d);
  if (impl.execUnknown) b.flag(VT_F_EXEC_UNKNOWN, d);
}

function applyRaw(b: TableBuilder, raw: BpfRawRules, ep: EnhanceProtect, selectors: BpfSelectors): void {
  const base = 'spec.policy.enhanceProtect.bpfRawRules';
  raw.files?.forEach((f, i) =>
    b.path(f.pattern, filePerms(f.permissions, `${base}.files[${i}].permissions`), rawDisposition(f.qualifiers, ep), `${base}.files[${i}].pattern`),
  );
  // process rules act on exec whatever else they list
  raw.processes?.forEach((p, i) => b.path(p.pattern, VT_PERM_EXEC, rawDisposition(p.qualifiers, ep), `${base}.processes[${i}].pattern`));
  raw.network?.sockets?.forEach((s, i) => b.socket(s.domains, s.types, s.protocols, rawDisposition(s.qualifiers, ep), `${base}.network.sockets[${i}]`));
  const eg = raw.network?.egress;
  eg?.toDestinations?.forEach((x, i) => {
    const f = `${base}.network.egress.toDestinations[${i}]`;
    const cidr = x.cidr ?? x.ip;
    if (!cidr) throw new BpfCompileError(f, 'needs ip or cidr');
    const entity = x.ip ? IP_ENTITIES[x.ip] : undefined;
    if (entity === 'pod') b.destination(POD_SELF, x.ports, rawDisposition(x.qualifiers, ep), f, podSelf);
    else if (entity) for (const c of entity) b.destination(c, x.ports, rawDisposition(x.qualifiers, ep), f, parseCidr);
    else b.destination(cidr, x.ports, rawDisposition(x.qualifiers, ep), f, x.cidr !== undefined && x.cidr !== null ? parseCidr : parseHost);
  });
  eg?.toServices?.forEach((s, i) =>
    selectors.services.push({
      namespace: s.namespace,
      name: s.name,
      serviceSelector: s.serviceSelector,
      disposition: rawDisposition(s.qualifiers, ep),
      field: `${base}.network.egress.toServices[${i}]`,
    }),
  );
  eg?.toPods?.forEach((p, i) =>
    selectors.pods.push({
      namespace: p.namespace,
      podSelector: p.podSelector,
      ports: p.ports,
      disposition: rawDisposition(p.qualifiers, ep),
      field: `${base}.network.egress.toPods[${i}]`,
    }),
  );
  if (raw.ptrace) {
    b.ptrace(ptracePerms(raw.ptrace.permissions, `${base}.ptrace.permissions`), raw.ptrace.strictMode === true, rawDisposition(raw.ptrace.qualifiers, ep));
  }
  raw.mounts?.forEach((m, i) => b.mount(m.sourcePattern, m.fstype, m.flags, rawDisposition(m.qualifiers, ep), `${base}.mounts[${i}]`));
}

function enhanceProtect(b: TableBuilder, ep: EnhanceProtect, selectors: BpfSelectors): void {
  const d = policyDisposition(ep);
  if (!ep.privileged) runtimeDefault(b, d);
  const names: { name: string; field: string }[] = [
    ...(ep.hardeningRules ?? []).map((name, i) => ({ name, field: `spec.policy.enhanceProtect.hardeningRules[${i}]` })),
    ...(ep.attackProtectionRules ?? []).flatMap((r, i) =>
      // targets name executables for AppArmor child profiles; BPF has no per-executable scope
      r.targets?.length ? [] : r.rules.map((name, j) => ({ name, field: `spec.policy.enhanceProtect.attackProtectionRules[${i}].rules[${j}]` })),
    ),
    ...(ep.vulMitigationRules ?? []).map((name, i) => ({ name, field: `spec.policy.enhanceProtect.vulMitigationRules[${i}]` })),
  ];
  for (const { name, field } of names) {
    const rule = findBuiltinRule(name);
    if (!rule) throw new BpfCompileError(field, `unknown built-in rule "${name}"`);
    if (isUnsupported(rule.bpf)) continue; // another chosen enforcer implements it (validation checked)
    applyBuiltin(b, rule.bpf, d, field, selectors);
  }
  if (ep.bpfRawRules) applyRaw(b, ep.bpfRawRules, ep, selectors);
}

/** Compile the BPF tables of one policy (see the mode table at the top of this file). */
export function compileBpf(input: CompileInput, opts: BpfCompileOptions = {}): BpfCompiled {
  const mode = input.mode;
  const selectors: BpfSelectors = { services: [], pods: [] };
  let b: TableBuilder;
  switch (mode) {
    case 'AlwaysAllow':
      b = new TableBuilder(input.bpfPolicyId, VT_MODE_ENFORCE);
      break;
    case 'RuntimeDefault':
      b = new TableBuilder(input.bpfPolicyId, VT_MODE_ENFORCE);
      runtimeDefault(b, { deny: true, audit: false });
      break;
    case 'EnhanceProtect': {
      const ep = input.policy.enhanceProtect;
      if (!ep) throw new BpfCompileError('spec.policy.enhanceProtect', 'required in EnhanceProtect mode');
      b = new TableBuilder(input.bpfPolicyId, VT_MODE_ENFORCE);
      enhanceProtect(b, ep, selectors);
      break;
    }
    case 'BehaviorModeling':
      b = new TableBuilder(input.bpfPolicyId, VT_MODE_RECORD);
      break;
    case 'DefenseInDepth':
      throw new BpfCompileError('spec.policy.mode', 'DefenseInDepth is not supported by the BPF enforcer (as in vArmor)');
    default:
      throw new BpfCompileError('spec.policy.mode', `unknown mode "${String(mode)}"`);
  }
  (opts.resolvedDestinations ?? []).forEach((r, i) => b.destination(r.cidr, r.ports, r.disposition, `resolvedDestinations[${i}]`));
  const tables = encodeTables(b.build());
  const hasSelectors = selectors.services.length > 0 || selectors.pods.length > 0;
  return hasSelectors ? { tables, selectors } : { tables };
}

/** Permission bits as words (for decodeTables users and event rendering). */
export function permWords(mask: number): string[] {
  const w: string[] = [];
  if (mask & VT_PERM_READ) w.push('read');
  if (mask & VT_PERM_WRITE) w.push('write');
  if (mask & VT_PERM_APPEND) w.push('append');
  if (mask & VT_PERM_EXEC) w.push('exec');
  return w;
}
