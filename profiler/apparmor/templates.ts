// The AppArmor baselines every generated profile builds on: allow-all (AlwaysAllow and the
// privileged EnhanceProtect), and containerd's default profile (RuntimeDefault), written here
// from its rules with the deny qualifier left open so EnhanceProtect can turn the denies into
// audited or allowed rules, as vArmor does.

/** `deny ` | `audit deny ` | `audit ` | '' from the policy's violation switches (varmor-api.md). */
export function qualifier(auditViolations: boolean, allowViolations: boolean): string {
  if (allowViolations) return auditViolations ? 'audit ' : '';
  return auditViolations ? 'audit deny ' : 'deny ';
}

export const ALWAYS_ALLOW_RULES: readonly string[] = [
  'file,',
  'capability,',
  'network,',
  'mount,',
  'remount,',
  'umount,',
  'pivot_root,',
  'ptrace,',
  'signal,',
  'dbus,',
  'unix,',
];

/**
 * Signals and ptrace a container needs: from the host (unconfined), from the runtimes, and
 * among its own processes (`self`, plus the other profiles of the same container: parent and
 * children of attack-protection targets).
 */
export function peerRules(self: string, siblings: readonly string[] = []): string[] {
  const lines = [
    'signal (receive) peer=unconfined,',
    'signal (receive) peer=runc,',
    'signal (receive) peer=crun,',
    `signal (send,receive) peer=${self},`,
    `ptrace (trace,tracedby,read,readby) peer=${self},`,
  ];
  for (const s of siblings) lines.push(`signal (send,receive) peer=${s},`, `ptrace (trace,tracedby,read,readby) peer=${s},`);
  return lines;
}

/**
 * containerd's default profile. `q` replaces its `deny ` (EnhanceProtect follows the policy's
 * audit/allow switches); an allowing rule needs an exec mode, so `x` becomes `ix` then.
 */
export function runtimeDefaultRules(q = 'deny ', allow = false): string[] {
  const x = allow ? 'ix' : 'x';
  return [
    'network,',
    'capability,',
    'file,',
    'umount,',
    // Writes to /proc: nothing directly in /proc, nothing outside /proc/<pid> and /proc/sys,
    // in /proc/sys only kernel/, and there only kernel/shm*.
    `${q}@{PROC}/* w,`,
    `${q}@{PROC}/{[^1-9/],[^1-9/][^0-9/],[^1-9s/][^0-9y/][^0-9s/],[^1-9/][^0-9/][^0-9/][^0-9/]*}/** w,`,
    `${q}@{PROC}/sys/[^k]** w,`,
    `${q}@{PROC}/sys/kernel/{?,??,[^s][^h][^m]**} w,`,
    `${q}@{PROC}/sysrq-trigger rwkl${x},`,
    `${q}@{PROC}/mem rwkl${x},`,
    `${q}@{PROC}/kmem rwkl${x},`,
    `${q}@{PROC}/kcore rwkl${x},`,
    `${q}mount,`,
    // Writes to /sys only under /sys/fs/cgroup; firmware, powercap and LSM interfaces not at all.
    `${q}/sys/[^f]*/** wkl${x},`,
    `${q}/sys/f[^s]*/** wkl${x},`,
    `${q}/sys/fs/[^c]*/** wkl${x},`,
    `${q}/sys/fs/c[^g]*/** wkl${x},`,
    `${q}/sys/fs/cg[^r]*/** wkl${x},`,
    `${q}/sys/firmware/** rwkl${x},`,
    `${q}/sys/devices/virtual/powercap/** rwkl${x},`,
    `${q}/sys/kernel/security/** rwkl${x},`,
  ];
}

/** Characters that end or change a path in AppArmor's policy language. */
const AA_SPECIAL = /[\s"#,{}[\]*?^\\]/;

/**
 * A literal path (a model observation, an attack-protection target) as AppArmor text: glob and
 * quote characters escaped, quoted when it holds whitespace.
 */
export function literalPath(p: string): string {
  if (!AA_SPECIAL.test(p)) return p;
  const escaped = p.replace(/[\\"{}[\]*?^]/g, (c) => `\\${c}`);
  return /[\s#,]/.test(p) ? `"${escaped}"` : escaped;
}

export function header(name: string, flags: string[]): string[] {
  return ['abi <abi/3.0>,', '', '#include <tunables/global>', '', `profile ${name} flags=(${flags.join(',')}) {`];
}
