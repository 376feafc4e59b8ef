// Well-formedness of syscall rules (OCI LinuxSyscall, as runc and containerd read them) and of
// DefenseInDepth custom Seccomp profiles: names libseccomp knows, SCMP_ACT_* and SCMP_CMP_*
// values, argument indexes 0..5, and errnoRet only where runc accepts it.

import type { SyscallRawRule } from '../api/types.js';
import { at, type Issues } from './issues.js';
import { KNOWN_SYSCALLS } from './syscalls.gen.js';

export const SCMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
] as const;

export const SCMP_OPS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;

const UINT64_MAX = 2n ** 64n - 1n;

function checkAction(issues: Issues, path: string, action: unknown): void {
  if (typeof action !== 'string') return;
  if (action === 'SCMP_ACT_NOTIFY') {
    issues.add(path, 'invalid-action', 'SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which a Localhost profile cannot name');
  } else if (!(SCMP_ACTIONS as readonly string[]).includes(action)) {
    issues.add(path, 'invalid-action', `unknown action "${action}"; expected one of ${SCMP_ACTIONS.join(', ')}`);
  }
}

export function checkSyscallRules(issues: Issues, path: string, rules: SyscallRawRule[] | undefined): void {
  if (!Array.isArray(rules)) return;
  rules.forEach((r, i) => {
    const p = at(path, i);
    if (!r || typeof r !== 'object') return;
    if (Array.isArray(r.names)) {
      if (r.names.length === 0) issues.add(at(p, 'names'), 'required', 'at least one syscall name is required');
      r.names.forEach((n, j) => {
        if (typeof n === 'string' && !KNOWN_SYSCALLS.has(n)) {
          // Refused, where vArmor passes the name on and runc then ignores it: a misspelt name in a
          // deny rule would deny nothing without a word (README, "Differences from vArmor").
          const hint = KNOWN_SYSCALLS.has(`_${n}`) ? `; libseccomp names it "_${n}"` : '';
          issues.add(at(at(p, 'names'), j), 'unknown-syscall', `unknown syscall "${n}" (not an x86_64 or aarch64 syscall known to libseccomp; runc would ignore it, so the rule would do nothing)${hint}`);
        }
      });
    }
    checkAction(issues, at(p, 'action'), r.action);
    if (r.errnoRet !== undefined && typeof r.errnoRet === 'number') {
      if (r.action !== 'SCMP_ACT_ERRNO' && r.action !== 'SCMP_ACT_TRACE') {
        issues.add(at(p, 'errnoRet'), 'invalid-errno', 'errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE');
      } else if (!Number.isInteger(r.errnoRet) || r.errnoRet < 0 || r.errnoRet > 4095) {
        issues.add(at(p, 'errnoRet'), 'invalid-errno', `errnoRet ${r.errnoRet} is outside 0..4095`);
      }
    }
    if (Array.isArray(r.args)) {
      r.args.forEach((a, j) => {
        const ap = at(at(p, 'args'), j);
        if (!a || typeof a !== 'object') return;
        if (typeof a.index === 'number' && !(Number.isInteger(a.index) && a.index >= 0 && a.index <= 5)) {
          issues.add(at(ap, 'index'), 'invalid-arg-index', `argument index ${a.index} is outside 0..5`);
        }
        if (typeof a.op === 'string' && !(SCMP_OPS as readonly string[]).includes(a.op)) {
          issues.add(at(ap, 'op'), 'invalid-op', `unknown comparison "${a.op}"; expected one of ${SCMP_OPS.join(', ')}`);
        }
        for (const k of ['value', 'valueTwo'] as const) {
          const v = a[k];
          if (typeof v === 'number' && (!Number.isInteger(v) || v < 0 || BigInt(v) > UINT64_MAX)) {
            issues.add(at(ap, k), 'invalid-arg-value', `${k} ${v} must be an unsigned 64-bit integer`);
          }
        }
      });
    }
  });
}

/** A DefenseInDepth `seccomp.customProfile`: Docker/OCI seccomp JSON. */
export function checkCustomSeccompProfile(issues: Issues, path: string, text: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    issues.add(path, 'invalid-json', `customProfile is not valid JSON: ${(e as Error).message}`);
    return;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    issues.add(path, 'invalid-json', 'customProfile must be a JSON object (a seccomp profile)');
    return;
  }
  const prof = parsed as { defaultAction?: unknown; syscalls?: unknown };
  if (prof.defaultAction !== undefined) checkAction(issues, `${path}(defaultAction)`, prof.defaultAction);
  if (prof.syscalls !== undefined && !Array.isArray(prof.syscalls)) {
    issues.add(`${path}(syscalls)`, 'invalid-json', 'syscalls must be an array');
  } else if (Array.isArray(prof.syscalls)) {
    checkSyscallRules(issues, `${path}(syscalls)`, prof.syscalls as SyscallRawRule[]);
  }
}
