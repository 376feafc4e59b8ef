// The shape of the built-in rule catalogue: each rule says, per enforcer, how it is implemented
// in that enforcer's own vocabulary, or why that enforcer cannot implement it. Compilers read
// only this; validation uses it to reject names no chosen enforcer supports.

import type { SyscallRawRule } from '../api/types.js';

export type RuleCategory = 'hardening' | 'attackProtection' | 'vulMitigation';

export interface Unsupported {
  unsupported: string; // why this enforcer cannot implement the rule
}

/**
 * AppArmor: profile lines given the qualifier prefix ('' | 'deny ' | 'audit deny ' | 'audit ')
 * and whether violations are allowed (exec rules need an exec mode when allowing).
 */
export interface AppArmorImpl {
  lines: (qualifier: string, allowViolations: boolean) => string[];
}

/** BPF: rules in the raw-rule vocabulary, plus the hooks vArmor lacks. Qualifiers come from the policy. */
export interface BpfImpl {
  files?: { pattern: string; permissions: string[] }[];
  processes?: { pattern: string; permissions: string[] }[];
  sockets?: { domains?: string[]; types?: string[]; protocols?: string[] }[];
  destinations?: { cidr: string; ports?: { port: number; endPort?: number }[] }[];
  services?: { namespace: string; name: string }[]; // resolved to addresses on the node
  ptrace?: { permissions: string[]; strictMode: boolean };
  mounts?: { sourcePattern: string; fstype: string; flags: string[] }[];
  capabilities?: string[]; // lower-case names without CAP_, e.g. 'sys_admin'
  usernsCreate?: boolean;
  bpfProgLoad?: boolean;
  socketFilterAttach?: boolean; // setsockopt SO_ATTACH_FILTER / SO_ATTACH_REUSEPORT_CBPF
}

/** Seccomp: syscall rules; action and errnoRet are set by the compiler from the policy. */
export interface SeccompImpl {
  syscalls: Omit<SyscallRawRule, 'action'>[];
}

export interface BuiltinRule {
  name: string;
  aliases?: string[];
  category: RuleCategory;
  /** What the rule prevents, in one sentence. */
  description: string;
  appArmor: AppArmorImpl | Unsupported;
  bpf: BpfImpl | Unsupported;
  seccomp: SeccompImpl | Unsupported;
  /** Which enforcers vArmor itself implements the rule with (for the coverage table). */
  varmor: ('AppArmor' | 'BPF' | 'Seccomp')[];
}

export function isUnsupported(x: unknown): x is Unsupported {
  return typeof x === 'object' && x !== null && 'unsupported' in x;
}
