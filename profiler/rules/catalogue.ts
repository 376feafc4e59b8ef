// The built-in rule catalogue: every hardening, attack-protection and vulnerability-mitigation
// rule vArmor defines, each with its AppArmor, BPF and Seccomp implementation or the reason an
// enforcer cannot express it. The compilers read only this table; validation uses it to reject
// names that no chosen enforcer supports. Where vArmor is weak (see varmor-internals.md 3.x and
// 9.2) we go further, and say so in the rule's `notes`.

import type { SyscallArg } from '../api/types.js';
import type { AppArmorImpl, BpfImpl, BuiltinRule, RuleCategory, SeccompImpl, Unsupported } from './types.js';

import { CAPABILITIES } from '../api/well-known.js';

/**
 * disable-cap-privileged: every capability outside containerd's default set (so a privileged
 * container keeps what an ordinary one has). NET_RAW stays, as in vArmor.
 */
export const PRIVILEGED_CAPABILITIES: readonly string[] = [
  'dac_read_search', 'linux_immutable', 'net_broadcast', 'net_admin', 'ipc_lock', 'ipc_owner', 'sys_module',
  'sys_rawio', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time',
  'sys_tty_config', 'lease', 'audit_control', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm',
  'block_suspend', 'audit_read', 'perfmon', 'bpf', 'checkpoint_restore',
];

// Kernel constants the Seccomp rules compare against (x86_64 and arm64 share them).
const CLONE_NEWUSER = 0x10000000;
const BPF_PROG_LOAD = 5;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SO_ATTACH_REUSEPORT_CBPF = 51;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_ALG = 38;
const ENOSYS = 38;
const S_IXUSR = 0o100;
const S_IXGRP = 0o010;
const S_IXOTH = 0o001;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

/** Block device name prefixes of disks (used instead of vArmor's agent-side /proc/partitions template). */
const DISK_DEVICE_PREFIXES = ['sd', 'hd', 'vd', 'xvd', 'nvme', 'mmcblk', 'dm-', 'md', 'loop', 'nbd', 'rbd', 'zd'];

const AA_DISK_DEVICES = `/dev/{${DISK_DEVICE_PREFIXES.join(',')}}*`;

// ---- small builders -------------------------------------------------------------------------

const un = (why: string): Unsupported => ({ unsupported: why });

/** Plain AppArmor rule bodies, each prefixed with the qualifier. */
function aa(...bodies: string[]): AppArmorImpl {
  return { lines: (q) => bodies.map((b) => `${q}${b}`) };
}

/**
 * Exec rules: denying `r` too stops the binary being read or copied elsewhere; an allowing rule
 * (allowViolations) needs an exec mode, and `ix` keeps the caller's profile.
 */
function aaExec(...bins: string[]): AppArmorImpl {
  return { lines: (q, allow) => bins.map((b) => `${q}/**/${b} ${allow ? 'rix' : 'rx'},`) };
}

function aaCaps(caps: readonly string[]): AppArmorImpl {
  return aa(...caps.map((c) => `capability ${c},`));
}

const masked = (index: number, bits: number): SyscallArg => ({ index, value: bits, valueTwo: bits, op: 'SCMP_CMP_MASKED_EQ' });
const eq = (index: number, value: number): SyscallArg => ({ index, value, op: 'SCMP_CMP_EQ' });

function sc(...syscalls: SeccompImpl['syscalls']): SeccompImpl {
  return { syscalls };
}

/** chmod-family mode bits: chmod/fchmod take the mode as arg 1, fchmodat/fchmodat2 as arg 2. */
function chmodBits(bits: number[]): SeccompImpl {
  return sc(
    { names: ['chmod', 'fchmod'], args: bits.map((b) => masked(1, b)) },
    { names: ['fchmodat', 'fchmodat2'], args: bits.map((b) => masked(2, b)) },
  );
}

function bpfFiles(permissions: string[], ...patterns: string[]): BpfImpl {
  return { files: patterns.map((pattern) => ({ pattern, permissions })) };
}

function bpfExec(...bins: string[]): BpfImpl {
  return { processes: bins.map((b) => ({ pattern: `/**/${b}`, permissions: ['exec'] })) };
}

const NO_CAP_SECCOMP = un('capabilities are checked inside the kernel, not at a syscall boundary Seccomp can see');
const NO_PATH_SECCOMP = un('Seccomp cannot inspect path arguments (they are pointers)');
const NO_NET_APPARMOR = un('AppArmor cannot match destination addresses or Kubernetes services');
const NO_NET_SECCOMP = un('connect(2) takes the address by pointer; Seccomp cannot inspect it');
const MOUNT_BPF_FLAGS_REBIND = ['bind', 'rbind', 'remount', 'move'];

type RuleDef = Omit<BuiltinRule, 'category'>;

// ---- hardening ------------------------------------------------------------------------------

const HARDENING: RuleDef[] = [
  {
    name: 'disallow-write-core-pattern',
    description: 'Stops writes to /proc/sys/kernel/core_pattern, a classic escape from privileged containers.',
    appArmor: aa('/proc/sys/kernel/core_pattern w,'),
    bpf: bpfFiles(['write', 'append'], '/proc/sys/kernel/core_pattern'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disallow-mount-securityfs',
    description: 'Stops mounting securityfs (which exposes LSM policy interfaces) read-write.',
    appArmor: aa('mount fstype=securityfs,'),
    bpf: { mounts: [{ sourcePattern: '**', fstype: 'securityfs', flags: ['all'] }] },
    seccomp: un('mount(2) takes the filesystem type by pointer'),
    varmor: ['AppArmor', 'BPF'],
    notes: 'BPF rule applies to unprivileged-mode policies too (vArmor: only with privileged: true).',
  },
  {
    name: 'disallow-mount-procfs',
    description: 'Stops mounting procfs, and bind/move/remount of /proc, which would expose the host /proc.',
    appArmor: aa(
      'mount fstype=proc,',
      'mount options in (bind,rbind,move) /proc** -> /**,',
      'mount options in (remount,bind,rbind) -> /proc**,',
    ),
    bpf: {
      mounts: [
        { sourcePattern: '**', fstype: 'proc', flags: ['all'] },
        { sourcePattern: '/proc**', fstype: '*', flags: [...MOUNT_BPF_FLAGS_REBIND, 'umount'] },
      ],
    },
    seccomp: un('mount(2) takes source and filesystem type by pointer'),
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disallow-write-release-agent',
    description: 'Stops writes to cgroup v1 release_agent files (CVE-2022-0492 style escapes).',
    appArmor: aa('/sys/fs/cgroup/**/release_agent w,'),
    bpf: bpfFiles(['write', 'append'], '/sys/fs/cgroup/**/release_agent'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disallow-mount-cgroupfs',
    description: 'Stops mounting cgroup filesystems and re-binding /sys/fs/cgroup, the first step of release_agent escapes.',
    appArmor: aa(
      'mount fstype=cgroup,',
      'mount fstype=cgroup2,',
      'mount options in (bind,rbind,move) /sys/fs/cgroup** -> /**,',
      'mount options in (rbind) /sys** -> /**,',
      'mount options in (remount,bind,rbind) -> /sys/fs/cgroup**,',
    ),
    bpf: {
      mounts: [
        { sourcePattern: '**', fstype: 'cgroup', flags: ['all'] },
        { sourcePattern: '**', fstype: 'cgroup2', flags: ['all'] },
        { sourcePattern: '/sys**', fstype: '*', flags: [...MOUNT_BPF_FLAGS_REBIND, 'umount'] },
      ],
    },
    seccomp: un('mount(2) takes source and filesystem type by pointer'),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Also covers cgroup2 (vArmor: cgroup v1 only).',
  },
  {
    name: 'disallow-debug-disk-device',
    description: 'Stops reading and writing host disk block devices (debugfs-style access to the host filesystem).',
    appArmor: aa(`${AA_DISK_DEVICES} rw,`),
    bpf: bpfFiles(['read', 'write', 'append'], ...DISK_DEVICE_PREFIXES.map((p) => `/dev/${p}*`)),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
    notes: 'Disk devices by name prefix, fixed at compile time (vArmor expands /proc/partitions on each node).',
  },
  {
    name: 'disallow-mount-disk-device',
    description: 'Stops mounting host disk block devices.',
    appArmor: aa(`mount ${AA_DISK_DEVICES},`),
    bpf: { mounts: DISK_DEVICE_PREFIXES.map((p) => ({ sourcePattern: `/dev/${p}*`, fstype: '*', flags: ['all'] })) },
    seccomp: un('mount(2) takes the source by pointer'),
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disallow-mount',
    description: 'Stops every mount operation (new mounts, bind, remount, move, pivot_root).',
    appArmor: aa('mount,', 'remount,', 'pivot_root,'),
    bpf: { mounts: [{ sourcePattern: '**', fstype: '*', flags: ['all'] }] },
    seccomp: sc({ names: ['mount', 'move_mount', 'open_tree', 'fsopen', 'fsmount', 'fsconfig', 'fspick', 'mount_setattr', 'pivot_root'] }),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Seccomp added: the classic and the new mount API syscalls.',
  },
  {
    name: 'disallow-umount',
    description: 'Stops unmounting (e.g. revealing what a mount hides).',
    appArmor: aa('umount,'),
    bpf: { mounts: [{ sourcePattern: '**', fstype: '*', flags: ['umount'] }] },
    seccomp: sc({ names: ['umount', 'umount2'] }),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Seccomp added.',
  },
  {
    name: 'disallow-insmod',
    description: 'Stops loading kernel modules.',
    appArmor: aa('capability sys_module,'),
    bpf: { capabilities: ['sys_module'] },
    seccomp: sc({ names: ['init_module', 'finit_module', 'delete_module'] }),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Seccomp added: the module syscalls themselves.',
  },
  {
    name: 'disallow-load-bpf-prog',
    aliases: ['disallow-load-ebpf'],
    description: 'Stops loading privileged eBPF programs by withholding CAP_SYS_ADMIN and CAP_BPF.',
    appArmor: aa('capability sys_admin,', 'capability bpf,'),
    bpf: { capabilities: ['sys_admin', 'bpf'] },
    seccomp: NO_CAP_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disallow-access-procfs-root',
    description: 'Stops reading other processes through /proc/<pid>/root and similar (ptrace read of peers outside the container).',
    appArmor: aa('ptrace read,'),
    bpf: { ptrace: { permissions: ['read'], strictMode: false } },
    seccomp: un('ptrace read access checks happen inside procfs, not at a syscall Seccomp can filter'),
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disallow-access-kallsyms',
    description: 'Stops reading /proc/kallsyms (kernel symbol addresses help exploits defeat KASLR).',
    appArmor: aa('/proc/kallsyms r,'),
    bpf: bpfFiles(['read'], '/proc/kallsyms'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-cap-all',
    description: 'Withholds every capability.',
    appArmor: aa('capability,'),
    bpf: { capabilities: [...CAPABILITIES] },
    seccomp: NO_CAP_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-cap-all-except-net-bind-service',
    description: 'Withholds every capability except NET_BIND_SERVICE.',
    appArmor: aaCaps(CAPABILITIES.filter((c) => c !== 'net_bind_service')),
    bpf: { capabilities: CAPABILITIES.filter((c) => c !== 'net_bind_service') },
    seccomp: NO_CAP_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-cap-privileged',
    description: "Withholds the capabilities a privileged container has beyond containerd's default set.",
    appArmor: aaCaps(PRIVILEGED_CAPABILITIES),
    bpf: { capabilities: [...PRIVILEGED_CAPABILITIES] },
    seccomp: NO_CAP_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  ...CAPABILITIES.map(
    (cap): RuleDef => ({
      name: `disable-cap-${cap.replace(/_/g, '-')}`,
      description: `Withholds CAP_${cap.toUpperCase()}.`,
      appArmor: aa(`capability ${cap},`),
      bpf: { capabilities: [cap] },
      seccomp: NO_CAP_SECCOMP,
      varmor: ['AppArmor', 'BPF'],
    }),
  ),
  {
    name: 'disallow-abuse-user-ns',
    description: 'Stops using the capabilities gained in a new user namespace (CAP_SYS_ADMIN) to reach kernel attack surface.',
    appArmor: aa('capability sys_admin,'),
    bpf: { capabilities: ['sys_admin'] },
    seccomp: NO_CAP_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disallow-create-user-ns',
    description: 'Stops creating user namespaces (unshare, clone and clone3 with CLONE_NEWUSER).',
    appArmor: un('needs AppArmor 4 `userns create` mediation (Linux 6.7); the abi 3.0 policy language has no such rule'),
    bpf: { usernsCreate: true },
    seccomp: sc(
      { names: ['unshare'], args: [masked(0, CLONE_NEWUSER)] },
      { names: ['clone'], args: [masked(0, CLONE_NEWUSER)] },
      // clone3 passes its flags in a struct Seccomp cannot read: answer ENOSYS, as Docker does,
      // so libc falls back to clone(2), whose flags the rule above sees.
      { names: ['clone3'], errnoRet: ENOSYS },
    ),
    varmor: ['Seccomp'],
    notes: 'BPF via the userns_create LSM hook (vArmor: TODO). Seccomp also covers clone (arg0) and clone3 (ENOSYS); vArmor only unshare.',
  },
  {
    name: 'disallow-load-all-bpf-prog',
    description: 'Stops loading any eBPF program, including unprivileged socket filters.',
    appArmor: un('AppArmor does not mediate bpf(2) commands'),
    bpf: { bpfProgLoad: true },
    seccomp: sc({ names: ['bpf'], args: [eq(0, BPF_PROG_LOAD)] }),
    varmor: ['Seccomp'],
    notes: 'BPF via the bpf LSM hook (vArmor: TODO).',
  },
  {
    name: 'disallow-load-bpf-via-setsockopt',
    description: 'Stops attaching classic BPF filters to sockets with setsockopt (SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF).',
    appArmor: un('AppArmor 3 cannot match socket options'),
    bpf: { socketFilterAttach: true },
    seccomp: sc(
      { names: ['setsockopt'], args: [eq(1, SOL_SOCKET), eq(2, SO_ATTACH_FILTER)] },
      { names: ['setsockopt'], args: [eq(1, SOL_SOCKET), eq(2, SO_ATTACH_REUSEPORT_CBPF)] },
    ),
    varmor: ['Seccomp'],
    notes: 'BPF via the socket_setsockopt LSM hook (vArmor: TODO).',
  },
  {
    name: 'disallow-userfaultfd-creation',
    description: 'Stops creating userfaultfd objects, a common primitive for kernel race exploits.',
    appArmor: un('userfaultfd(2) has no LSM hook AppArmor mediates'),
    bpf: un('userfaultfd(2) has no LSM hook'),
    seccomp: sc({ names: ['userfaultfd'] }),
    varmor: ['Seccomp'],
  },
  // Our extensions beyond vArmor's catalogue (issue 17, roads 4 and 7): vArmor has no such rule.
  {
    name: 'disallow-exec-fileless',
    description: 'Stops executing a program that has no name in the file system: memfd_create + execveat, an unlinked file, an O_TMPFILE file.',
    appArmor: un('AppArmor judges an exec by its path; a file without a name has none to judge'),
    bpf: { execFileless: true },
    seccomp: un('execveat with AT_EMPTY_PATH cannot tell a memory file from a named one'),
    varmor: [],
    notes: 'Not in vArmor (our extension). BPF: bprm_check_security denies a file whose link count is 0.',
  },
  {
    name: 'disallow-exec-unknown',
    description: 'Stops executing a program the container wrote or created itself, or one without a name; the image\'s own programs still run.',
    appArmor: un('AppArmor cannot tell a file the container wrote from one of the image'),
    bpf: { execUnknown: true },
    seccomp: un('Seccomp does not see files'),
    varmor: [],
    notes:
      'Not in vArmor (our extension). BPF: a regular file a task of the container opens for write is marked (inode storage, LSM programs) and bprm_check_security denies its exec, and every fileless exec. The mark lives with the in-memory inode and only while the policy has the rule; audit mode reports the fileless part only.',
  },
];

// ---- attack protection ----------------------------------------------------------------------

const SA_DIRS = ['/run/secrets/kubernetes.io/serviceaccount/**', '/var/run/secrets/kubernetes.io/serviceaccount/**'];

function metadataRule(name: string, cloud: string, cidrs: string[], aliases?: string[]): RuleDef {
  return {
    name,
    aliases,
    description: `Stops connections to the ${cloud} instance metadata service (${cidrs.join(', ')}).`,
    appArmor: NO_NET_APPARMOR,
    bpf: { destinations: cidrs.map((cidr) => ({ cidr })) },
    seccomp: NO_NET_SECCOMP,
    varmor: ['BPF'],
  };
}

const ATTACK_PROTECTION: RuleDef[] = [
  {
    name: 'mitigate-sa-leak',
    description: 'Stops reading the mounted service account token.',
    appArmor: aa(...SA_DIRS.map((d) => `${d} r,`)),
    bpf: bpfFiles(['read'], ...SA_DIRS),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'mitigate-disk-device-number-leak',
    description: 'Stops reading the host disk device numbers (/proc/partitions, mountinfo).',
    appArmor: aa('/proc/partitions r,', '/proc/**/mountinfo r,'),
    bpf: bpfFiles(['read'], '/proc/partitions', '/proc/**/mountinfo'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'mitigate-overlayfs-leak',
    description: "Stops reading mount tables that reveal the host's overlayfs paths.",
    appArmor: aa('/proc/**/mounts r,', '/proc/**/mountinfo r,'),
    bpf: bpfFiles(['read'], '/proc/**/mounts', '/proc/**/mountinfo'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'mitigate-host-ip-leak',
    description: 'Stops reading the ARP table (neighbour addresses of the host network).',
    appArmor: aa('/proc/**/net/arp r,'),
    bpf: bpfFiles(['read'], '/proc/**/net/arp'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  metadataRule(
    'block-access-to-metadata-service',
    'cloud',
    ['169.254.169.254/32', 'fd00:ec2::254/128', '100.96.0.96/32'],
    ['disallow-metadata-service'],
  ),
  metadataRule('block-access-to-aws-metadata-service', 'AWS', ['169.254.169.254/32', 'fd00:ec2::254/128']),
  metadataRule('block-access-to-volc-metadata-service', 'Volcengine', ['100.96.0.96/32']),
  metadataRule('block-access-to-alibaba-metadata-service', 'Alibaba Cloud', ['100.100.100.200/32']),
  metadataRule('block-access-to-oci-metadata-service', 'Oracle Cloud', ['192.0.0.192/32']),
  {
    name: 'disable-write-etc',
    description: 'Stops writing, linking or renaming anything under /etc.',
    appArmor: aa('/etc/** wl,'),
    bpf: bpfFiles(['write', 'append'], '/etc/**'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-access-passwd',
    description: 'Stops reading or writing /etc/passwd.',
    appArmor: aa('/etc/passwd rw,'),
    bpf: bpfFiles(['read', 'write', 'append'], '/etc/passwd'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-access-shadow',
    description: 'Stops reading or writing /etc/shadow.',
    appArmor: aa('/etc/shadow rw,'),
    bpf: bpfFiles(['read', 'write', 'append'], '/etc/shadow'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-access-ssh-dir',
    description: 'Stops reading or writing SSH directories and keys.',
    appArmor: aa('/**/.ssh/** rw,'),
    bpf: bpfFiles(
      ['read', 'write', 'append'],
      '/**/.ssh',
      '/root/.ssh/**',
      'authorized_keys',
      'id_rsa',
      'id_ecdsa',
      'id_ed25519',
      'id_dsa',
    ),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
    notes: 'BPF also matches key files by name anywhere (one glob per pattern limits the directory form).',
  },
  {
    name: 'disable-write-skills',
    description: 'Stops writing agent skill files (any path with a skills/ directory).',
    appArmor: aa('/**/skills/** w,'),
    bpf: un('needs two ** in one pattern (/**/skills/**); write a bpfRawRules.files rule for the known directory'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor'],
  },
  {
    name: 'disable-busybox',
    description: 'Stops executing busybox.',
    appArmor: aaExec('busybox'),
    bpf: bpfExec('busybox'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-shell',
    description: 'Stops executing shells.',
    appArmor: aaExec('sh', 'bash', 'dash', 'ash', 'zsh', 'ksh'),
    bpf: bpfExec('sh', 'bash', 'dash', 'ash', 'zsh', 'ksh'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
    notes: 'Also ash, zsh and ksh (vArmor: sh, bash, dash).',
  },
  {
    name: 'disable-wget',
    description: 'Stops executing wget.',
    appArmor: aaExec('wget'),
    bpf: bpfExec('wget'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-curl',
    description: 'Stops executing curl.',
    appArmor: aaExec('curl'),
    bpf: bpfExec('curl'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-chmod',
    description: 'Stops executing the chmod program.',
    appArmor: aaExec('chmod'),
    bpf: bpfExec('chmod'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-su-sudo',
    description: 'Stops executing su and sudo.',
    appArmor: aaExec('su', 'sudo'),
    bpf: bpfExec('su', 'sudo'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-chmod-x-bit',
    description: 'Stops setting any execute bit with chmod(2) and its variants.',
    appArmor: un('AppArmor cannot inspect the mode argument of chmod'),
    bpf: un('no mode-aware chmod rule in the BPF raw-rule vocabulary'),
    seccomp: chmodBits([S_IXUSR, S_IXGRP, S_IXOTH]),
    varmor: ['Seccomp'],
  },
  {
    name: 'disable-chmod-s-bit',
    description: 'Stops setting the setuid or setgid bit with chmod(2) and its variants.',
    appArmor: un('AppArmor cannot inspect the mode argument of chmod'),
    bpf: un('no mode-aware chmod rule in the BPF raw-rule vocabulary'),
    seccomp: chmodBits([S_ISUID, S_ISGID]),
    varmor: ['Seccomp'],
  },
  {
    name: 'disable-network',
    description: 'Stops creating sockets of any family.',
    appArmor: aa('network,'),
    bpf: { sockets: [{ domains: ['all'] }] },
    seccomp: sc({ names: ['socket', 'socketpair', 'socketcall'] }),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Seccomp added (socket, socketpair and the 32-bit socketcall multiplexer).',
  },
  {
    name: 'disable-inet',
    aliases: ['disable-ipv4'],
    description: 'Stops creating IPv4 sockets.',
    appArmor: aa('network inet,'),
    bpf: { sockets: [{ domains: ['inet'] }] },
    seccomp: sc({ names: ['socket'], args: [eq(0, AF_INET)] }),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Seccomp added (64-bit socket(2); 32-bit socketcall passes args by pointer).',
  },
  {
    name: 'disable-inet6',
    aliases: ['disable-ipv6'],
    description: 'Stops creating IPv6 sockets.',
    appArmor: aa('network inet6,'),
    bpf: { sockets: [{ domains: ['inet6'] }] },
    seccomp: sc({ names: ['socket'], args: [eq(0, AF_INET6)] }),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Seccomp added (64-bit socket(2)).',
  },
  {
    name: 'disable-unix-domain-socket',
    description: 'Stops creating unix domain sockets.',
    appArmor: aa('network unix,'),
    bpf: { sockets: [{ domains: ['unix'] }] },
    seccomp: sc({ names: ['socket', 'socketpair'], args: [eq(0, AF_UNIX)] }),
    varmor: ['AppArmor', 'BPF'],
    notes: 'Seccomp added (socket and socketpair with AF_UNIX).',
  },
  {
    name: 'disable-icmp',
    description: 'Stops creating ICMP and ICMPv6 sockets.',
    // AppArmor 3 knows no icmpv6 protocol; ICMPv6 goes through inet6 raw sockets.
    appArmor: aa('network icmp,', 'network inet6 raw,'),
    bpf: { sockets: [{ protocols: ['icmp', 'icmpv6'] }] },
    seccomp: un('the protocol may be 0 (the default) or given explicitly; Seccomp cannot tell ping sockets apart reliably'),
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'disable-tcp',
    description: 'Stops creating TCP sockets.',
    appArmor: aa('network tcp,'),
    bpf: { sockets: [{ protocols: ['tcp'] }, { domains: ['inet', 'inet6'], types: ['stream'], protocols: ['ip'] }] },
    seccomp: un('socket type flags (SOCK_NONBLOCK, ...) and protocol 0 make a reliable Seccomp match impractical'),
    varmor: ['AppArmor', 'BPF'],
    notes: 'BPF also matches inet stream sockets created with protocol 0 (vArmor matches only protocol 6).',
  },
  {
    name: 'disable-udp',
    description: 'Stops creating UDP sockets.',
    appArmor: aa('network udp,'),
    bpf: { sockets: [{ protocols: ['udp'] }, { domains: ['inet', 'inet6'], types: ['dgram'], protocols: ['ip'] }] },
    seccomp: un('socket type flags (SOCK_NONBLOCK, ...) and protocol 0 make a reliable Seccomp match impractical'),
    varmor: ['AppArmor', 'BPF'],
    notes: 'BPF also matches inet datagram sockets created with protocol 0 (vArmor matches only protocol 17).',
  },
  {
    name: 'block-access-to-kube-apiserver',
    description: 'Stops connections to the Kubernetes API server (service default/kubernetes and its endpoints).',
    appArmor: NO_NET_APPARMOR,
    bpf: { services: [{ namespace: 'default', name: 'kubernetes' }] },
    seccomp: NO_NET_SECCOMP,
    varmor: ['BPF'],
  },
  {
    name: 'block-access-to-container-runtime',
    description: 'Stops talking to container runtime sockets (containerd, Docker, CRI-O).',
    appArmor: aa('/**/containerd.sock rw,', '/**/containerd.sock.ttrpc rw,', '/**/docker.sock rw,', '/**/crio.sock rw,'),
    bpf: bpfFiles(['read', 'write', 'append'], 'containerd.sock', 'containerd.sock.ttrpc', 'docker.sock', 'crio.sock'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
    notes: 'Also containerd.sock.ttrpc; BPF matches by file name wherever the socket is mounted.',
  },
];

// ---- vulnerability mitigation ---------------------------------------------------------------

const VUL_MITIGATION: RuleDef[] = [
  {
    name: 'cgroups-lxcfs-escape-mitigation',
    description: 'Stops writes to cgroup files that lxcfs-mounted containers can abuse to escape (release_agent, devices.allow, cgroup.procs, tasks).',
    appArmor: aa(
      '/**/release_agent w,',
      '/**/devices/devices.allow w,',
      '/**/devices/**/devices.allow w,',
      '/**/devices/cgroup.procs w,',
      '/**/devices/**/cgroup.procs w,',
      '/**/devices/tasks w,',
      '/**/devices/**/tasks w,',
    ),
    bpf: bpfFiles(['write', 'append'], 'release_agent', 'devices.allow', '/**/cgroup.procs', '/**/devices/tasks'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
    notes: 'As vArmor: BPF denies writes to any cgroup.procs (moving a task into another cgroup), AppArmor only in the devices hierarchy; tasks only in the devices hierarchy on both.',
  },
  {
    name: 'runc-override-mitigation',
    description: 'Stops overwriting the runc binary (CVE-2019-5736).',
    appArmor: aa('/**/runc w,'),
    bpf: bpfFiles(['write', 'append'], '/**/runc'),
    seccomp: NO_PATH_SECCOMP,
    varmor: ['AppArmor', 'BPF'],
  },
  {
    name: 'dirty-pipe-mitigation',
    description: 'Stops splice(2), the entry point of Dirty Pipe (CVE-2022-0847).',
    appArmor: un('splice(2) has no LSM hook AppArmor mediates'),
    bpf: un('splice(2) has no LSM hook'),
    seccomp: sc({ names: ['splice'] }),
    varmor: ['Seccomp'],
  },
  {
    name: 'ingress-nightmare-mitigation',
    description: 'Stops connections to the ingress-nginx admission webhook (CVE-2025-1974).',
    appArmor: NO_NET_APPARMOR,
    bpf: {
      services: [
        { namespace: 'ingress-nginx', name: 'ingress-nginx-controller-admission' },
        { namespace: 'kube-system', name: 'ingress-nginx-controller-admission' },
      ],
    },
    seccomp: NO_NET_SECCOMP,
    varmor: ['BPF'],
  },
  {
    name: 'copy-fail-mitigation',
    description: 'Stops creating AF_ALG (kernel crypto API) sockets (CVE-2026-31431).',
    appArmor: aa('network alg,'),
    bpf: { sockets: [{ domains: ['alg'] }] },
    seccomp: sc({ names: ['socket'], args: [eq(0, AF_ALG)] }),
    varmor: ['AppArmor', 'BPF', 'Seccomp'],
  },
];

function withCategory(category: RuleCategory, defs: RuleDef[]): BuiltinRule[] {
  return defs.map((d) => ({ ...d, category }));
}

/** Every built-in rule, hardening first, in the reference's order. */
export const BUILTIN_RULES: readonly BuiltinRule[] = [
  ...withCategory('hardening', HARDENING),
  ...withCategory('attackProtection', ATTACK_PROTECTION),
  ...withCategory('vulMitigation', VUL_MITIGATION),
];

/** vArmor's spelling rules: case-insensitive, `_` and `-` interchangeable. */
export function normalizeRuleName(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, '-');
}

const BY_NAME: ReadonlyMap<string, BuiltinRule> = (() => {
  const m = new Map<string, BuiltinRule>();
  for (const r of BUILTIN_RULES) {
    for (const n of [r.name, ...(r.aliases ?? [])]) {
      if (m.has(n)) throw new Error(`built-in rule name ${n} defined twice`);
      m.set(n, r);
    }
  }
  return m;
})();

/** The rule a policy names (any spelling or alias), or undefined when there is none. */
export function findBuiltinRule(name: string): BuiltinRule | undefined {
  return BY_NAME.get(normalizeRuleName(name));
}
