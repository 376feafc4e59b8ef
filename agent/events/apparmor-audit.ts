// AppArmor's audit records (type=1400, `apparmor="DENIED|ALLOWED|AUDIT"`), which the kernel writes
// to its log when no audit daemon takes them, as it does Seccomp's. DENIED: an enforcing profile
// refused (logged when the rule says `audit deny`, or for DefenseInDepth's implicit deny);
// AUDIT: an `audit` allow rule (allowViolations + auditViolations); ALLOWED: a complain-mode
// profile let it through (BehaviorModeling's recording, DefenseInDepth's shadow run). Pure:
// parse and shape; the pump attributes and routes.

import type { BehaviorData } from '../../profiler/node.js';
import { auditFields } from './audit-fields.js';
import { violationWhere, type ContainerRef, type ViolationWhere } from './violation.js';

export interface AppArmorAuditRecord {
  verdict: 'DENIED' | 'ALLOWED' | 'AUDIT';
  /** AppArmor's operation: open, exec, file_mmap, capable, create, connect, mount, ptrace, ... */
  operation: string;
  /** The label as logged: a child profile is `NAME//child_N`, complain mode's learning profile `NAME//null-PATH`. */
  label: string;
  pid: number;
  comm: string;
  /** The path (files, exec, the mount point). */
  name?: string;
  /** requested_mask letters: r w a x m l k c d ... */
  requested?: string;
  capability?: string;
  family?: string;
  sockType?: string;
  protocol?: number;
  fstype?: string;
  /** A mount's source. */
  source?: string;
  /** An exec's new label. */
  target?: string;
  peer?: string;
}

const AUDIT_AVC = 1400;

/** A kmsg record's text as an AppArmor audit record, or undefined (another record, or not AppArmor's). */
export function parseAppArmorAudit(text: string): AppArmorAuditRecord | undefined {
  const f = auditFields(text, AUDIT_AVC);
  if (!f) return undefined;
  const verdict = f.get('apparmor');
  const pid = Number(f.get('pid'));
  const label = f.get('profile');
  if ((verdict !== 'DENIED' && verdict !== 'ALLOWED' && verdict !== 'AUDIT') || !Number.isInteger(pid) || !label) return undefined;
  const protocol = f.has('protocol') ? Number(f.get('protocol')) : undefined;
  const r: AppArmorAuditRecord = { verdict, operation: f.get('operation') ?? '', label, pid, comm: f.get('comm') ?? '' };
  const optional: [keyof AppArmorAuditRecord, string][] = [
    ['name', 'name'], ['requested', 'requested_mask'], ['capability', 'capname'], ['family', 'family'], ['sockType', 'sock_type'],
    ['fstype', 'fstype'], ['source', 'srcname'], ['target', 'target'], ['peer', 'peer'],
  ];
  for (const [key, field] of optional) if (f.has(field)) (r as unknown as Record<string, unknown>)[key] = f.get(field);
  if (protocol !== undefined && Number.isInteger(protocol)) r.protocol = protocol;
  return r;
}

/** The profile a label belongs to: the policy's own profile for its children and learning profiles. */
export function profileOfLabel(label: string): string {
  return label.split('//')[0];
}

const PERMISSION_WORDS: Record<string, string> = { r: 'read', w: 'write', a: 'append', x: 'exec', m: 'mmap', l: 'link', k: 'lock', c: 'write', d: 'write' };

/** AppArmor mask letters as the API's permission words (create and delete are writes, as AppArmor's `w` covers them). */
export function maskPermissions(mask: string | undefined): string[] {
  return [...new Set([...(mask ?? '')].map((c) => PERMISSION_WORDS[c]).filter((w): w is string => !!w))].sort();
}

export type AppArmorKind = 'file' | 'exec' | 'capability' | 'network' | 'mount' | 'ptrace' | 'signal' | 'other';

export function appArmorKind(r: AppArmorAuditRecord): AppArmorKind {
  const op = r.operation;
  if (op === 'exec') return 'exec';
  if (op === 'capable') return 'capability';
  if (r.family !== undefined) return 'network';
  if (op === 'mount' || op === 'remount' || op === 'umount' || op === 'pivotroot') return 'mount';
  if (op === 'ptrace') return 'ptrace';
  if (op === 'signal') return 'signal';
  return r.name !== undefined ? 'file' : 'other';
}

export interface AppArmorViolation extends ViolationWhere {
  enforcer: 'AppArmor';
  action: 'DENIED' | 'AUDIT' | 'ALLOWED';
  enforced: boolean;
  profileName: string;
  pid: number;
  rule: { operation: string; label: string; comm: string; path?: string; permissions?: string[]; capability?: string; network?: { family?: string; type?: string; protocol?: number }; mount?: { source?: string; fstype?: string } };
}

export function appArmorViolation(r: AppArmorAuditRecord, ref: ContainerRef | undefined): AppArmorViolation {
  const kind = appArmorKind(r);
  const rule: AppArmorViolation['rule'] = { operation: r.operation, label: r.label, comm: r.comm };
  if (r.name !== undefined) rule.path = r.name;
  if (kind === 'file' || kind === 'exec') rule.permissions = maskPermissions(r.requested);
  if (r.capability) rule.capability = r.capability;
  if (kind === 'network') rule.network = { family: r.family, type: r.sockType, protocol: r.protocol };
  if (kind === 'mount') rule.mount = { source: r.source, fstype: r.fstype };
  return {
    enforcer: 'AppArmor',
    action: r.verdict,
    enforced: r.verdict === 'DENIED',
    profileName: profileOfLabel(r.label),
    ...violationWhere(ref),
    pid: r.pid,
    rule,
  };
}

/**
 * What a complain-mode record adds to a behaviour model (vArmor's AuditRecorder): files with
 * their permissions, executions, capabilities, sockets, mounts and ptrace. Returns the
 * BehaviorData fragment; the recorder folds fragments together.
 */
export function appArmorBehavior(r: AppArmorAuditRecord): BehaviorData {
  switch (appArmorKind(r)) {
    case 'exec':
      return r.name ? { executions: [r.name], files: [{ path: r.name, permissions: ['read', 'exec'] }] } : {};
    case 'file':
      return r.name ? { files: [{ path: r.name, permissions: maskPermissions(r.requested).filter((p) => p !== 'exec') }] } : {};
    case 'capability':
      return r.capability ? { capabilities: [r.capability] } : {};
    case 'network':
      return { network: [{ domain: r.family, type: r.sockType, protocol: r.protocol === undefined ? undefined : String(r.protocol) }] };
    case 'mount':
      return { mounts: [{ source: r.source, fstype: r.fstype }] };
    case 'ptrace':
      return { ptrace: [{ permissions: [r.requested?.includes('trace') ? 'trace' : 'read'], peer: r.peer }] };
    default:
      return {};
  }
}
