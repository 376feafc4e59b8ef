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

/**
 * BPF: rules in the raw-rule vocabulary, plus the hooks vArmor lacks. Qualifiers come from the policy.
 * Vocabulary (the same words bpfRawRules accept):
 * - files/processes `permissions`: read, write, append, exec (or r, w, a, e, all). Globs as in the raw rules:
 *   one `*` (within a component) or one `**` (across directories) per pattern; no `/` = a file name.
 * - sockets: a socket(2) call matches an entry when every listed dimension contains the call's value
 *   (a missing dimension matches anything). domains: all, unix, inet, inet6, packet, alg, netlink, ...;
 *   types: stream, dgram, raw, seqpacket, ...; protocols: ip (0, "the family's default"), icmp, tcp, udp, icmpv6.
 * - mounts `flags`: vArmor's mount-flag words (bind, rbind, remount, move, ro, ...). `all` = every mount
 *   operation (new mounts, bind, remount, move, propagation changes) but NOT umount; `umount` = umount(2).
 *   `fstype` `*` matches any filesystem type.
 * - ptrace: permissions trace, traceby, read, readby; strictMode false = only peers outside the container.
 */
export interface BpfImpl {
  files?: { pattern: string; permissions: string[] }[];
  processes?: { pattern: string; permissions: string[] }[];
  sockets?: { domains?: string[]; types?: string[]; protocols?: string[] }[];
  destinations?: { cidr: string; ports?: { port: number; endPort?: number }[] }[];
  services?: { namespace: string; name: string }[]; // resolved to addresses by the controller (controller/egress.ts)
  ptrace?: { permissions: string[]; strictMode: boolean };
  mounts?: { sourcePattern: string; fstype: string; flags: string[] }[];
  capabilities?: string[]; // lower-case names without CAP_, e.g. 'sys_admin'
  usernsCreate?: boolean;
  bpfProgLoad?: boolean;
  socketFilterAttach?: boolean; // setsockopt SO_ATTACH_FILTER / SO_ATTACH_REUSEPORT_CBPF
  execFileless?: boolean; // exec of a file with no name (link count 0: memfd, unlinked, O_TMPFILE)
  execUnknown?: boolean; // execFileless, plus exec of a file a task of the container opened for write
}

/**
 * Seccomp: syscall rules; the action is set by the compiler from the policy (ERRNO, or LOG when
 * audit+allow). errnoRet, when given, is kept (clone3 answers ENOSYS so libc falls back to clone);
 * otherwise EPERM. Several args on one index are ORed (runc and containerd add one rule per arg then).
 */
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
  /** Where our implementation differs from vArmor's, and why. */
  notes?: string;
}

export function isUnsupported(x: unknown): x is Unsupported {
  return typeof x === 'object' && x !== null && 'unsupported' in x;
}
