// Well-formedness of `enhanceProtect.bpfRawRules`: the same words and shapes vArmor accepts
// (permissions, qualifiers, globs, addresses, ports, mount flags, ptrace permissions), with
// size limits taken from the BPF table layout (profiler/bpf/layout.ts) instead of vArmor's
// smaller fixed ones. Words and pattern shapes are judged by the BPF compiler's own parsers
// (profiler/bpf/rules.ts), so validation and compilation can never disagree.

import type { BpfRawRules, FileRule, LabelSelector, PortRange } from '../api/types.js';
import { at, type Issues } from './issues.js';
import { cidrVersion, ipVersion, isIpEntity, isPort } from '../ip.js';
import { requirementProblem } from '../selector.js';
import { BpfCompileError, DOMAINS, PROTOCOLS, SOCK_TYPES, filePerms, mountFlags, planPattern, ptracePerms, socketValues } from '../bpf/rules.js';

export const QUALIFIERS = ['deny', 'audit'] as const;
/** Longest path a rule can name: exact-path keys are VT_PATH_MAX (256) bytes, NUL-padded. */
export const MAX_PATTERN_BYTES = 255;
/** Mount source patterns keep a prefix and a suffix of VT_MNT_PAT_MAX (64) bytes each. */
export const MAX_MOUNT_PATTERN_PART_BYTES = 64;
/** vt_fstype_key.fstype is 16 bytes with a terminating NUL. */
export const MAX_FSTYPE_BYTES = 15;
/** Prefix/suffix of a glob pattern are LPM keys of VT_LPM_PATH_MAX (240) bytes. */
export const MAX_GLOB_PART_BYTES = 240;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
/** The array, or nothing when the field has another type (the schema reports that). */
const list = <T>(x: T[] | undefined): T[] => (Array.isArray(x) ? x : []);

function checkWords(issues: Issues, path: string, words: unknown, allowed: readonly string[], what: string, code: string, nonEmpty = true): void {
  if (!Array.isArray(words)) return; // the schema reports the type
  if (nonEmpty && words.length === 0) issues.add(path, code, `at least one ${what} is required (${allowed.join(', ')})`);
  words.forEach((w, i) => {
    if (typeof w === 'string' && !allowed.includes(w)) {
      issues.add(at(path, i), code, `unknown ${what} "${w}"; expected one of ${allowed.join(', ')}`);
    }
  });
}

/** Each word through the BPF compiler's own parser, so every bad word is reported, not just the first. */
function checkParsed(
  issues: Issues,
  path: string,
  words: unknown,
  parse: (words: string[], field: string) => unknown,
  what: string,
  code: string,
  nonEmpty = true,
): void {
  if (!Array.isArray(words)) return;
  if (nonEmpty && words.length === 0) issues.add(path, code, `at least one ${what} is required`);
  words.forEach((w, i) => {
    if (typeof w !== 'string') return;
    try {
      parse([w], at(path, i));
    } catch (e) {
      if (!(e instanceof BpfCompileError)) throw e;
      issues.add(at(path, i), code, `unknown ${what} "${w}"`);
    }
  });
}

const socketWords = (table: Record<string, number>) => (words: string[], field: string) => socketValues(words, table, field);
export const SOCKET_DOMAINS = ['all', ...Object.keys(DOMAINS)];
export const SOCKET_TYPES = ['all', ...Object.keys(SOCK_TYPES)];
export const SOCKET_PROTOCOLS = ['all', ...Object.keys(PROTOCOLS)];

function checkQualifiers(issues: Issues, path: string, q: unknown): void {
  checkWords(issues, path, q, QUALIFIERS, 'qualifier', 'invalid-qualifier');
}

/**
 * A path pattern: absolute (`/etc/shadow`), a file name (`*.pem`, no `/`), or starting with a glob
 * (`**\/nc`). At most one glob: one `*` (within a component) or one `**` (across directories).
 */
export function patternProblem(pattern: string, maxBytes = MAX_PATTERN_BYTES): string | null {
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.includes('\0')) return 'must not contain NUL';
  if (bytes(pattern) > maxBytes) return `is ${bytes(pattern)} bytes; at most ${maxBytes}`;
  if (pattern.includes('/') && !pattern.startsWith('/') && !pattern.startsWith('*')) {
    return 'must be an absolute path, a file name without "/", or start with a glob';
  }
  let plan;
  try {
    plan = planPattern(pattern, '');
  } catch (e) {
    if (!(e instanceof BpfCompileError)) throw e;
    return 'has more than one glob: at most one "*" (within a component) or one "**" (across directories)';
  }
  const parts = plan.kind === 'glob' ? [plan.prefix, plan.suffix] : plan.kind === 'prefix' ? [plan.prefix] : plan.kind === 'suffix' ? [plan.suffix] : [];
  const long = parts.find((x) => bytes(x) > MAX_GLOB_PART_BYTES);
  if (long !== undefined) return `has ${bytes(long)} bytes on one side of its glob; at most ${MAX_GLOB_PART_BYTES}`;
  return null;
}

/** A mount source: a device or file system name, or a path; one `*` or `**`; 64 bytes either side of it. */
export function mountPatternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'must not be empty; use "**" for any source';
  if (pattern.includes('\0')) return 'must not contain NUL';
  const i = pattern.indexOf('*');
  const j = pattern.lastIndexOf('*');
  if (i >= 0 && (j - i > 1 || (j === i + 1 && pattern[i + 1] !== '*'))) return 'has more than one glob: at most one "*" or "**"';
  const parts = i < 0 ? [pattern] : [pattern.slice(0, i), pattern.slice(j + 1)];
  const long = parts.find((x) => bytes(x) > MAX_MOUNT_PATTERN_PART_BYTES);
  if (long !== undefined) return `has ${bytes(long)} bytes on one side of its glob; at most ${MAX_MOUNT_PATTERN_PART_BYTES}`;
  return null;
}

function checkFileRules(issues: Issues, path: string, rules: FileRule[] | undefined, processes: boolean): void {
  if (!Array.isArray(rules)) return;
  rules.forEach((r, i) => {
    const p = at(path, i);
    if (typeof r?.pattern === 'string') {
      const problem = patternProblem(r.pattern);
      if (problem) issues.add(at(p, 'pattern'), 'invalid-pattern', `pattern "${r.pattern}" ${problem}`);
    }
    checkParsed(issues, at(p, 'permissions'), r?.permissions, filePerms, 'permission', 'invalid-permission');
    if (processes && Array.isArray(r?.permissions) && r.permissions.length > 0 && !r.permissions.some((x) => ['exec', 'e', 'x', 'all', '*'].includes(x))) {
      issues.add(at(p, 'permissions'), 'invalid-permission', 'process rules act on exec: include exec (e)');
    }
    checkQualifiers(issues, at(p, 'qualifiers'), r?.qualifiers);
  });
}

function checkPorts(issues: Issues, path: string, ports: PortRange[] | undefined): void {
  if (!Array.isArray(ports)) return;
  ports.forEach((pr, i) => {
    const p = at(path, i);
    const valid = isPort;
    if (typeof pr?.port === 'number' && !valid(pr.port)) issues.add(at(p, 'port'), 'invalid-port', `port ${pr.port} is outside 1..65535`);
    if (pr?.endPort !== undefined && typeof pr.endPort === 'number') {
      if (!valid(pr.endPort)) issues.add(at(p, 'endPort'), 'invalid-port', `endPort ${pr.endPort} is outside 1..65535`);
      else if (typeof pr.port === 'number' && pr.endPort < pr.port) {
        issues.add(at(p, 'endPort'), 'invalid-port', `endPort ${pr.endPort} is below port ${pr.port}`);
      }
    }
  });
}

function checkSelector(issues: Issues, path: string, sel: LabelSelector | undefined): void {
  if (!sel || typeof sel !== 'object') return;
  list(sel.matchExpressions).forEach((e, i) => {
    const problem = requirementProblem(e);
    if (problem) issues.add(at(at(at(path, 'matchExpressions'), i), problem.field), 'invalid-selector', problem.message);
  });
}

export function checkLabelSelector(issues: Issues, path: string, sel: LabelSelector | undefined): void {
  checkSelector(issues, path, sel);
}

export function checkBpfRawRules(issues: Issues, path: string, rules: BpfRawRules | undefined): void {
  if (!rules || typeof rules !== 'object') return;
  checkFileRules(issues, at(path, 'files'), rules.files, false);
  checkFileRules(issues, at(path, 'processes'), rules.processes, true);

  const net = rules.network;
  if (net && typeof net === 'object') {
    const np = at(path, 'network');
    list(net.sockets).forEach((s, i) => {
      const p = at(at(np, 'sockets'), i);
      checkParsed(issues, at(p, 'domains'), s?.domains, socketWords(DOMAINS), 'socket domain', 'invalid-socket', false);
      checkParsed(issues, at(p, 'types'), s?.types, socketWords(SOCK_TYPES), 'socket type', 'invalid-socket', false);
      checkParsed(issues, at(p, 'protocols'), s?.protocols, socketWords(PROTOCOLS), 'socket protocol', 'invalid-socket', false);
      if (!s?.domains?.length && !s?.types?.length && !s?.protocols?.length) {
        issues.add(p, 'invalid-socket', 'a socket rule needs at least one of domains, types, protocols');
      }
      checkQualifiers(issues, at(p, 'qualifiers'), s?.qualifiers);
    });
    const eg = net.egress;
    if (eg && typeof eg === 'object') {
      const ep = at(np, 'egress');
      list(eg.toDestinations).forEach((d, i) => {
        const p = at(at(ep, 'toDestinations'), i);
        const hasIp = d?.ip !== undefined && d.ip !== '';
        const hasCidr = d?.cidr !== undefined && d.cidr !== '';
        if (hasIp === hasCidr) issues.add(p, hasIp ? 'conflict' : 'required', 'exactly one of ip and cidr is required');
        if (hasIp && typeof d.ip === 'string' && ipVersion(d.ip) === 0 && !isIpEntity(d.ip)) {
          issues.add(at(p, 'ip'), 'invalid-address', `"${d.ip}" is not an IPv4 or IPv6 address, nor pod-self, localhost or unspecified`);
        }
        if (hasCidr && typeof d.cidr === 'string' && cidrVersion(d.cidr) === 0) {
          issues.add(at(p, 'cidr'), 'invalid-address', `"${d.cidr}" is not an IPv4 or IPv6 CIDR (address/bits)`);
        }
        checkPorts(issues, at(p, 'ports'), d?.ports);
        checkQualifiers(issues, at(p, 'qualifiers'), d?.qualifiers);
      });
      list(eg.toServices).forEach((s, i) => {
        const p = at(at(ep, 'toServices'), i);
        const hasName = typeof s?.name === 'string' && s.name !== '';
        if (hasName === (s?.serviceSelector !== undefined)) {
          issues.add(p, hasName ? 'conflict' : 'required', 'exactly one of name and serviceSelector is required');
        }
        checkSelector(issues, at(p, 'serviceSelector'), s?.serviceSelector);
        checkQualifiers(issues, at(p, 'qualifiers'), s?.qualifiers);
      });
      list(eg.toPods).forEach((s, i) => {
        const p = at(at(ep, 'toPods'), i);
        checkSelector(issues, at(p, 'podSelector'), s?.podSelector);
        checkPorts(issues, at(p, 'ports'), s?.ports);
        checkQualifiers(issues, at(p, 'qualifiers'), s?.qualifiers);
      });
    }
  }

  if (rules.ptrace && typeof rules.ptrace === 'object') {
    const p = at(path, 'ptrace');
    checkParsed(issues, at(p, 'permissions'), rules.ptrace.permissions, ptracePerms, 'ptrace permission', 'invalid-permission');
    checkQualifiers(issues, at(p, 'qualifiers'), rules.ptrace.qualifiers);
  }

  list(rules.mounts).forEach((m, i) => {
    const p = at(at(path, 'mounts'), i);
    if (typeof m?.sourcePattern === 'string') {
      const problem = mountPatternProblem(m.sourcePattern);
      if (problem) issues.add(at(p, 'sourcePattern'), 'invalid-pattern', `sourcePattern "${m.sourcePattern}" ${problem}`);
    }
    if (typeof m?.fstype === 'string') {
      if (m.fstype === '') issues.add(at(p, 'fstype'), 'invalid-fstype', 'fstype must not be empty; use "*" for any');
      else if (bytes(m.fstype) > MAX_FSTYPE_BYTES) {
        issues.add(at(p, 'fstype'), 'invalid-fstype', `fstype "${m.fstype}" is ${bytes(m.fstype)} bytes; at most ${MAX_FSTYPE_BYTES}`);
      }
    }
    checkParsed(issues, at(p, 'flags'), m?.flags, mountFlags, 'mount flag', 'invalid-mount-flag');
    checkQualifiers(issues, at(p, 'qualifiers'), m?.qualifiers);
  });
}
