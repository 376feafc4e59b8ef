// Seccomp violations from the kernel's audit records (type=1326, "SECCOMP"), which the kernel
// writes to /dev/kmsg when no audit daemon takes them (and the audit daemon's log otherwise,
// where vArmor reads them). A filter action other than ALLOW is logged when the profile asks for
// it: SCMP_ACT_LOG always, the others with SECCOMP_FILTER_FLAG_LOG. Pure: parse and shape.

import { auditFields } from './audit-fields.js';
import { violationWhere, type ContainerRef, type ViolationWhere } from './violation.js';

export interface SeccompAuditRecord {
  pid: number;
  comm: string;
  exe?: string;
  /** The audit architecture (AUDIT_ARCH_*), hex as the kernel prints it: c000003e is x86_64, c00000b7 aarch64. */
  arch: string;
  syscall: number;
  /** The filter's return value (SECCOMP_RET_*), e.g. 0x7ffc0000 for LOG. */
  code: number;
}

const AUDIT_SECCOMP = 1326;

/** A kmsg record's text (after the `pri,seq,ts,flags;` prefix) as a Seccomp audit record, or undefined. */
export function parseSeccompAudit(text: string): SeccompAuditRecord | undefined {
  const f = auditFields(text, AUDIT_SECCOMP);
  if (!f) return undefined;
  const pid = Number(f.get('pid'));
  const syscall = Number(f.get('syscall'));
  const code = Number.parseInt(f.get('code') ?? '', 16);
  if (!Number.isInteger(pid) || !Number.isInteger(syscall) || !Number.isInteger(code)) return undefined;
  return { pid, comm: f.get('comm') ?? '', exe: f.get('exe'), arch: f.get('arch') ?? '', syscall, code };
}

/** What the filter did, in the violation log's words. */
export function seccompAction(code: number): { action: 'DENIED' | 'AUDIT'; ret: string } {
  switch ((code >>> 16) & 0xffff) {
    case 0x7ffc:
      return { action: 'AUDIT', ret: 'SCMP_ACT_LOG' };
    case 0x0005:
      return { action: 'DENIED', ret: 'SCMP_ACT_ERRNO' };
    case 0x0003:
      return { action: 'DENIED', ret: 'SCMP_ACT_TRAP' };
    case 0x7ff0:
      return { action: 'DENIED', ret: 'SCMP_ACT_TRACE' };
    case 0x8000:
      return { action: 'DENIED', ret: 'SCMP_ACT_KILL_PROCESS' };
    case 0x0000:
      return { action: 'DENIED', ret: 'SCMP_ACT_KILL_THREAD' };
    default:
      return { action: 'DENIED', ret: `0x${code.toString(16)}` };
  }
}

export interface SeccompViolation extends ViolationWhere {
  enforcer: 'Seccomp';
  action: 'DENIED' | 'AUDIT';
  enforced: boolean;
  profileName: string;
  pid: number;
  rule: { operation: 'syscall'; syscall: string; number: number; filterAction: string; comm: string; exe?: string };
}

export function seccompViolation(r: SeccompAuditRecord, ref: ContainerRef | undefined, profileName: string | undefined, syscallName: string | undefined): SeccompViolation {
  const { action, ret } = seccompAction(r.code);
  return {
    enforcer: 'Seccomp',
    action,
    enforced: action === 'DENIED',
    profileName: profileName ?? '',
    ...violationWhere(ref),
    pid: r.pid,
    rule: { operation: 'syscall', syscall: syscallName ?? `#${r.syscall}`, number: r.syscall, filterAction: ret, comm: r.comm, ...(r.exe ? { exe: r.exe } : {}) },
  };
}
