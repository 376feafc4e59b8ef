// How each built-in rule is attacked: for every rule of the catalogue an enforcer implements, the
// action the rule must stop, written as a vprobe command line (testing/guest/guest/probe.c), with
// what the action needs in place. The guest's `rules` suite runs each attack twice per enforcer
// (AppArmor and BPF): under a policy with only that rule (privileged, so no baseline mixes in) and
// under the same policy without it. A rule counts as proven for an enforcer only where its attack
// is denied inside and not outside (`npm run rules:coverage` prints which are). Pure data: the
// guest imports it, and so do the host's completeness test and the coverage script.

import type { EnhanceProtect } from '../../profiler/api/types.js';
import type { EnforcerName } from '../../profiler/rules/coverage.js';
import type { BuiltinRule } from '../../profiler/rules/types.js';
import { staticEgressView, type EgressView, type EndpointSliceView, type PodView, type ServiceView } from '../../profiler/egress.js';

/** Made (as root, unconfined) before an attack runs. Paths are the guest's. */
export type Need =
  | { file: string; text?: string; owner?: [number, number]; mode?: number }
  /** A copy of a guest program under another name (exec rules match the file's own path, not a symlink's). */
  | { copy: string; of: string }
  /** A character device node with /dev/null's numbers under a disk's name. */
  | { device: string }
  /** A tmpfs mounted at the path (for umount). */
  | { mount: string }
  /** A named cgroup v1 hierarchy mounted at the path (it has a release_agent file). */
  | { cgroupV1: string }
  /** A directory (a mount point). */
  | { dir: string }
  /** A process of this uid, alive while the attack runs; `{peer}` in the action is its pid. */
  | { peer: number };

export interface Attack {
  /** vprobe arguments (after its -p/-c/-x options). */
  action: string[];
  /** Capabilities taken out of effect first: kernel checks that fall back to CAP_SYS_ADMIN. */
  drop?: string[];
  /** Run in a mount namespace of its own, as a container (the BPF ptrace rules tell containers apart by it). */
  ownMountNs?: boolean;
  needs?: Need[];
  /** The outcome expected without the rule, when it is not OK (e.g. ENOENT: no such module); `|` separates alternatives. */
  outside?: string;
  /** Only for this enforcer (default: each that implements the rule). */
  only?: EnforcerName;
}

export interface Proof {
  attacks: Attack[];
  /** Enforcers the attack cannot judge, and why (the rule is then not counted as proven for them). */
  notFor?: Partial<Record<EnforcerName, string>>;
  /** Actions the rule must leave alone (the same outcome inside as outside): the rule is no wider than it says. */
  allowed?: Attack[];
}

/** Why a rule an enforcer implements has no attack here: what stops an attack, or where it is proven instead. */
export interface NoAttack {
  noAttack: string;
}

export type RuleEvidence = Proof | NoAttack;

const cap = (name: string, extra: Partial<Attack> = {}): Attack => ({ action: ['cap', name], ...extra });
const open = (path: string, mode: string, needs?: Need[]): Attack => ({ action: ['open', path, mode], needs });
const exec = (name: string): Attack => ({ action: ['exec', `/tmp/ra/bin/${name}`], needs: [{ copy: `/tmp/ra/bin/${name}`, of: '/bin/busybox' }] });

/** Who the owner-checking capability attacks act on (a file or a process of another user). */
const OTHER = 1234;
const FALLS_BACK_TO_SYS_ADMIN = ['perfmon', 'bpf', 'checkpoint_restore', 'syslog'];

/** One attack per capability: an action the kernel lets through only with that capability. */
export const CAPABILITY_ATTACKS: Record<string, Attack | NoAttack> = {
  chown: cap('chown'),
  dac_override: cap('dac_override'),
  dac_read_search: cap('dac_read_search'),
  fowner: { action: ['cap', 'fowner', '/tmp/ra/other-owned'], needs: [{ file: '/tmp/ra/other-owned', owner: [OTHER, OTHER] }] },
  fsetid: { action: ['cap', 'fsetid', '/tmp/ra/other-group'], needs: [{ file: '/tmp/ra/other-group', owner: [0, OTHER] }] },
  kill: { action: ['cap', 'kill', '{peer}'], needs: [{ peer: OTHER }] },
  setgid: cap('setgid'),
  setuid: cap('setuid'),
  setpcap: cap('setpcap'),
  linux_immutable: cap('linux_immutable'),
  net_bind_service: cap('net_bind_service'),
  net_broadcast: { noAttack: 'no kernel path checks CAP_NET_BROADCAST: denying it changes nothing' },
  net_admin: cap('net_admin'),
  net_raw: cap('net_raw'),
  ipc_lock: cap('ipc_lock'),
  ipc_owner: cap('ipc_owner'),
  // without the capability check in the way: ENOENT (no such module), or ENOSYS on a kernel without modules
  sys_module: cap('sys_module', { outside: 'ENOENT|ENOSYS' }),
  sys_rawio: cap('sys_rawio'),
  sys_chroot: cap('sys_chroot'),
  sys_ptrace: { action: ['cap', 'sys_ptrace', '{peer}'], needs: [{ peer: OTHER }] },
  sys_pacct: cap('sys_pacct'),
  sys_admin: cap('sys_admin'),
  sys_boot: cap('sys_boot'),
  sys_nice: cap('sys_nice'),
  sys_resource: cap('sys_resource'),
  sys_time: cap('sys_time'),
  sys_tty_config: cap('sys_tty_config'),
  mknod: cap('mknod'),
  lease: { action: ['cap', 'lease', '/tmp/ra/other-lease'], needs: [{ file: '/tmp/ra/other-lease', owner: [OTHER, OTHER], mode: 0o644 }] },
  audit_write: cap('audit_write'),
  audit_control: cap('audit_control'),
  setfcap: cap('setfcap'),
  mac_override: { noAttack: 'only Smack checks CAP_MAC_OVERRIDE; Debian kernels do not run it' },
  // AppArmor's policy admin check (a write to .remove of a profile that does not exist)
  mac_admin: cap('mac_admin', { outside: 'ENOENT' }),
  syslog: cap('syslog'),
  wake_alarm: cap('wake_alarm'),
  block_suspend: cap('block_suspend'),
  audit_read: cap('audit_read'),
  perfmon: cap('perfmon'),
  bpf: cap('bpf'),
  checkpoint_restore: cap('checkpoint_restore'),
};

for (const c of FALLS_BACK_TO_SYS_ADMIN) (CAPABILITY_ATTACKS[c] as Attack).drop = ['sys_admin'];

/**
 * AppArmor checks CAP_MAC_ADMIN for its own policy with cap_capable() and aa_capable() only,
 * never asking the other LSMs in the stack, and no other code of a Debian kernel checks it.
 */
const MAC_ADMIN_NOT_BPF = 'AppArmor checks CAP_MAC_ADMIN without asking other LSMs and nothing else checks it: a BPF capability rule cannot see it';

function capRule(name: string): RuleEvidence {
  const a = CAPABILITY_ATTACKS[name];
  if ('noAttack' in a) return a;
  return name === 'mac_admin' ? { attacks: [a], notFor: { BPF: MAC_ADMIN_NOT_BPF } } : { attacks: [a] };
}

const SA_TOKEN = '/run/secrets/kubernetes.io/serviceaccount/token';

export const RULE_EVIDENCE: Record<string, RuleEvidence> = {
  // ---- hardening
  'disallow-write-core-pattern': { attacks: [open('/proc/sys/kernel/core_pattern', 'w')], allowed: [{ action: ['open', '/proc/sys/kernel/core_pattern', 'r'] }] },
  'disallow-mount-securityfs': {
    attacks: [{ action: ['mount', 'none', '/tmp/ra/m-securityfs', 'securityfs'], needs: [{ dir: '/tmp/ra/m-securityfs' }] }],
    allowed: [{ action: ['mount', 'none', '/tmp/ra/m-securityfs-tmpfs', 'tmpfs'], needs: [{ dir: '/tmp/ra/m-securityfs-tmpfs' }] }],
  },
  'disallow-mount-procfs': {
    attacks: [{ action: ['mount', 'proc', '/tmp/ra/m-proc', 'proc'], needs: [{ dir: '/tmp/ra/m-proc' }] }],
  },
  'disallow-write-release-agent': {
    attacks: [open('/sys/fs/cgroup/ra-v1/release_agent', 'w', [{ cgroupV1: '/sys/fs/cgroup/ra-v1' }])],
  },
  'disallow-mount-cgroupfs': {
    attacks: [{ action: ['mount', 'cgroup2', '/tmp/ra/m-cgroup2', 'cgroup2'], needs: [{ dir: '/tmp/ra/m-cgroup2' }] }],
  },
  'disallow-debug-disk-device': { attacks: [open('/dev/sdvarmor', 'r', [{ device: '/dev/sdvarmor' }])], allowed: [{ action: ['open', '/dev/null', 'rw'] }] },
  'disallow-mount-disk-device': {
    // A bind mount of the disk's node: a file system mount would need a block file system the
    // guest kernel has built in (its ext4 is a module, and AppArmor asks for the type first).
    attacks: [{ action: ['bind-mount', '/dev/sdvarmor', '/tmp/ra/m-disk'], needs: [{ device: '/dev/sdvarmor' }, { file: '/tmp/ra/m-disk' }] }],
  },
  'disallow-mount': { attacks: [{ action: ['mount', 'none', '/tmp/ra/m-any', 'tmpfs'], needs: [{ dir: '/tmp/ra/m-any' }] }] },
  'disallow-umount': { attacks: [{ action: ['umount', '/tmp/ra/u-mounted'], needs: [{ mount: '/tmp/ra/u-mounted' }] }] },
  'disallow-insmod': { attacks: [cap('sys_module', { outside: 'ENOENT|ENOSYS' })] },
  'disallow-load-bpf-prog': { attacks: [{ action: ['bpf-load'] }] },
  'disallow-access-procfs-root': {
    // another process's /proc entries need ptrace read access to it
    attacks: [{ action: ['open', '/proc/{peer}/environ', 'r'], needs: [{ peer: 0 }], ownMountNs: true }],
    allowed: [{ action: ['open', '/proc/self/environ', 'r'] }],
  },
  'disallow-access-kallsyms': { attacks: [open('/proc/kallsyms', 'r')] },
  'disable-cap-all': { attacks: [cap('chown'), cap('sys_admin'), cap('net_bind_service')] },
  'disable-cap-all-except-net-bind-service': { attacks: [cap('chown'), cap('sys_admin')], allowed: [{ action: ['cap', 'net_bind_service'] }] },
  'disable-cap-privileged': { attacks: [cap('sys_admin'), cap('sys_module', { outside: 'ENOENT|ENOSYS' })], allowed: [{ action: ['cap', 'chown'] }, { action: ['cap', 'net_raw'] }] },
  'disallow-abuse-user-ns': { attacks: [cap('sys_admin')] },
  'disallow-create-user-ns': { attacks: [{ action: ['userns'] }] },
  'disallow-load-all-bpf-prog': { attacks: [{ action: ['bpf-load'] }] },
  'disallow-load-bpf-via-setsockopt': { attacks: [{ action: ['attach-filter'] }] },
  'disallow-userfaultfd-creation': { attacks: [{ action: ['userfaultfd'] }] },
  'disallow-exec-fileless': { attacks: [{ action: ['memfd-exec', '/bin/busybox', 'true'] }], allowed: [{ action: ['exec', '/bin/true'] }] },
  'disallow-exec-unknown': {
    noAttack: 'needs a write then an exec inside the container: proven by the enforcement suite case "bypass 7 copy under another name"',
  },
  // ---- attack protection
  'mitigate-sa-leak': { attacks: [open(SA_TOKEN, 'r', [{ file: SA_TOKEN }])] },
  'mitigate-disk-device-number-leak': { attacks: [open('/proc/partitions', 'r'), open('/proc/self/mountinfo', 'r')] },
  'mitigate-overlayfs-leak': { attacks: [open('/proc/self/mounts', 'r'), open('/proc/self/mountinfo', 'r')], allowed: [{ action: ['open', '/proc/self/status', 'r'] }] },
  'mitigate-host-ip-leak': { attacks: [open('/proc/self/net/arp', 'r')], allowed: [{ action: ['open', '/proc/self/net/dev', 'r'] }] },
  'block-access-to-metadata-service': { attacks: [{ action: ['connect', '169.254.169.254', '80', 'udp'] }] },
  'block-access-to-aws-metadata-service': { attacks: [{ action: ['connect', '169.254.169.254', '80', 'udp'] }] },
  'block-access-to-volc-metadata-service': { attacks: [{ action: ['connect', '100.96.0.96', '80', 'udp'] }] },
  'block-access-to-alibaba-metadata-service': { attacks: [{ action: ['connect', '100.100.100.200', '80', 'udp'] }] },
  'block-access-to-oci-metadata-service': { attacks: [{ action: ['connect', '192.0.0.192', '80', 'udp'] }] },
  'disable-write-etc': {
    attacks: [open('/etc/ra-file', 'w', [{ file: '/etc/ra-file' }])],
    allowed: [{ action: ['open', '/etc/hostname', 'r'] }],
  },
  'disable-access-passwd': { attacks: [open('/etc/passwd', 'r')], allowed: [{ action: ['open', '/etc/group', 'r'] }] },
  'disable-access-shadow': { attacks: [open('/etc/shadow', 'r', [{ file: '/etc/shadow', mode: 0o640 }])], allowed: [{ action: ['open', '/etc/passwd', 'r'] }] },
  'disable-access-ssh-dir': { attacks: [open('/root/.ssh/id_rsa', 'r', [{ file: '/root/.ssh/id_rsa', mode: 0o600 }])] },
  'disable-write-skills': { attacks: [open('/tmp/ra/skills/run.md', 'w', [{ file: '/tmp/ra/skills/run.md' }])], allowed: [{ action: ['open', '/tmp/ra/skills/run.md', 'r'] }] },
  'disable-busybox': { attacks: [exec('busybox')] },
  'disable-shell': { attacks: [exec('sh'), exec('bash'), exec('dash')], allowed: [{ action: ['exec', '/bin/true'] }] },
  'disable-wget': { attacks: [exec('wget')] },
  'disable-curl': { attacks: [exec('curl')] },
  'disable-chmod': { attacks: [exec('chmod')] },
  'disable-su-sudo': { attacks: [exec('su'), exec('sudo')] },
  'disable-chmod-x-bit': {
    attacks: [{ action: ['chmod', '/tmp/ra/chmod-x', '755'], needs: [{ file: '/tmp/ra/chmod-x' }] }],
    allowed: [{ action: ['chmod', '/tmp/ra/chmod-x', '644'] }],
  },
  'disable-chmod-s-bit': {
    attacks: [{ action: ['chmod', '/tmp/ra/chmod-s', '4644'], needs: [{ file: '/tmp/ra/chmod-s' }] }],
    allowed: [{ action: ['chmod', '/tmp/ra/chmod-s', '755'] }],
  },
  'disable-network': { attacks: [{ action: ['socket', 'inet', 'dgram', '0'] }, { action: ['socket', 'unix', 'stream', '0'] }] },
  'disable-inet': { attacks: [{ action: ['socket', 'inet', 'stream', 'tcp'] }], allowed: [{ action: ['socket', 'unix', 'stream', '0'] }, { action: ['socket', 'inet6', 'dgram', 'udp'] }] },
  'disable-inet6': { attacks: [{ action: ['socket', 'inet6', 'dgram', 'udp'] }], allowed: [{ action: ['socket', 'inet', 'dgram', 'udp'] }] },
  'disable-unix-domain-socket': { attacks: [{ action: ['socket', 'unix', 'stream', '0'] }], allowed: [{ action: ['socket', 'inet', 'dgram', 'udp'] }] },
  'disable-icmp': { attacks: [{ action: ['socket', 'inet', 'raw', 'icmp'] }], allowed: [{ action: ['socket', 'inet', 'dgram', 'udp'] }] },
  'disable-tcp': { attacks: [{ action: ['socket', 'inet', 'stream', 'tcp'] }], allowed: [{ action: ['socket', 'inet', 'dgram', 'udp'] }] },
  'disable-udp': { attacks: [{ action: ['socket', 'inet', 'dgram', 'udp'] }], allowed: [{ action: ['socket', 'inet', 'stream', 'tcp'] }] },
  // Service rules resolve against GUEST_CLUSTER below: the ClusterIP on every port, the endpoint on its own port only
  'block-access-to-kube-apiserver': {
    attacks: [{ action: ['connect', '10.96.0.1', '443', 'udp'] }, { action: ['connect', '192.168.49.2', '6443', 'udp'] }],
    allowed: [{ action: ['connect', '192.168.49.2', '80', 'udp'] }],
  },
  'block-access-to-container-runtime': {
    attacks: [open('/run/containerd/containerd.sock', 'rw', [{ file: '/run/containerd/containerd.sock' }])],
  },
  // ---- vulnerability mitigation
  'cgroups-lxcfs-escape-mitigation': {
    attacks: [open('/tmp/ra/lxcfs/devices/cgroup.procs', 'w', [{ file: '/tmp/ra/lxcfs/devices/cgroup.procs' }])],
  },
  'runc-override-mitigation': { attacks: [open('/tmp/ra/bin/runc', 'w', [{ file: '/tmp/ra/bin/runc' }])], allowed: [{ action: ['open', '/tmp/ra/bin/runc', 'r'] }] },
  'dirty-pipe-mitigation': { attacks: [{ action: ['splice', '/tmp/ra/splice'], needs: [{ file: '/tmp/ra/splice' }] }] },
  'ingress-nightmare-mitigation': {
    attacks: [
      { action: ['connect', '10.96.8.8', '443', 'udp'] },
      { action: ['connect', '10.244.0.30', '8443', 'udp'] },
      { action: ['connect', '10.96.9.9', '443', 'udp'] },
    ],
    allowed: [{ action: ['connect', '10.244.0.30', '80', 'udp'] }],
  },
  'copy-fail-mitigation': {
    // AF_ALG (38), SOCK_SEQPACKET (5): the LSM is asked before the family is looked up, so a kernel
    // whose af_alg is a module not loaded still shows the denial (and EAFNOSUPPORT without the rule)
    attacks: [{ action: ['socket', '38', '5', '0'], outside: 'OK|EAFNOSUPPORT' }],
    allowed: [{ action: ['socket', 'inet', 'dgram', 'udp'] }],
  },
};

/**
 * The cluster the guest's BPF policies resolve their Service and Pod rules against (the guest has no
 * API server; the controller resolves the same way from its informers, e2e/controller/egress.test.ts).
 */
export const GUEST_CLUSTER: { services: ServiceView[]; endpointSlices: EndpointSliceView[]; pods: PodView[] } = {
  services: [
    { namespace: 'default', name: 'kubernetes', labels: {}, clusterIPs: ['10.96.0.1'] },
    { namespace: 'ingress-nginx', name: 'ingress-nginx-controller-admission', labels: {}, clusterIPs: ['10.96.8.8'] },
    { namespace: 'kube-system', name: 'ingress-nginx-controller-admission', labels: {}, clusterIPs: ['10.96.9.9'] },
  ],
  endpointSlices: [
    { namespace: 'default', service: 'kubernetes', addresses: ['192.168.49.2'], ports: [6443] },
    { namespace: 'ingress-nginx', service: 'ingress-nginx-controller-admission', addresses: ['10.244.0.30'], ports: [8443] },
  ],
  pods: [],
};

export const GUEST_CLUSTER_VIEW: EgressView = staticEgressView(GUEST_CLUSTER);

for (const c of Object.keys(CAPABILITY_ATTACKS)) RULE_EVIDENCE[`disable-cap-${c.replace(/_/g, '-')}`] = capRule(c);

/** The attacks of one rule for one enforcer (none when the rule has no attack for it). */
export function attacksFor(rule: string, enforcer: EnforcerName): { attacks: Attack[]; allowed: Attack[] } | NoAttack {
  const e = RULE_EVIDENCE[rule];
  if (!e) return { noAttack: 'no entry in testing/guest/rule-attacks.ts' };
  if ('noAttack' in e) return e;
  const not = e.notFor?.[enforcer];
  if (not) return { noAttack: not };
  const attacks = e.attacks.filter((a) => !a.only || a.only === enforcer);
  return { attacks, allowed: (e.allowed ?? []).filter((a) => !a.only || a.only === enforcer) };
}

export type Violations = 'enforce' | 'audit' | 'allow';

const VIOLATIONS: Record<Violations, Pick<EnhanceProtect, 'auditViolations' | 'allowViolations'>> = {
  enforce: {},
  audit: { auditViolations: true },
  allow: { auditViolations: true, allowViolations: true },
};

/** A privileged EnhanceProtect policy holding only `rule` (none: the same policy without it), so no baseline mixes in. */
export function policyHolding(rule: BuiltinRule | undefined, violations: Violations = 'enforce'): EnhanceProtect {
  const base: EnhanceProtect = { privileged: true, ...VIOLATIONS[violations] };
  if (!rule) return base;
  if (rule.category === 'hardening') return { ...base, hardeningRules: [rule.name] };
  if (rule.category === 'attackProtection') return { ...base, attackProtectionRules: [{ rules: [rule.name] }] };
  return { ...base, vulMitigationRules: [rule.name] };
}
