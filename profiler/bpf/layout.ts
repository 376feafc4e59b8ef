// Byte layout of native/varmor_tables.h, as TypeScript constants. The encoder writes every
// field through these offsets, and native/layout.test.ts compiles the C header and compares
// each sizeof/offsetof with this table, so the two cannot drift apart.

export const VT_MAGIC = 0x4c425456;
export const VT_VERSION = 1;

export const VT_PATH_MAX = 256;
export const VT_LPM_PATH_MAX = 240;
export const VT_GLOB_BASE_MAX = 64;
export const VT_MAX_GLOBS = 64;
export const VT_MAX_PORT_RULES = 64;
export const VT_PORT_RANGES = 8;
export const VT_FSTYPE_MAX = 16;
export const VT_MNT_PAT_MAX = 64;
export const VT_MAX_MOUNT_RULES = 64;
export const VT_ANY = 0xffffffff;

export const VT_MODE_ENFORCE = 1;
export const VT_MODE_RECORD = 2;

export const VT_PERM_EXEC = 0x1;
export const VT_PERM_WRITE = 0x2;
export const VT_PERM_READ = 0x4;
export const VT_PERM_APPEND = 0x8;

export const VT_F_USERNS_CREATE = 0x1;
export const VT_F_BPF_PROG_LOAD = 0x2;
export const VT_F_SOCK_FILTER_ATTACH = 0x4;
export const VT_F_EXEC_FILELESS = 0x8;
export const VT_F_EXEC_UNKNOWN = 0x10;

export const VT_PT_TRACE = 0x2;
export const VT_PT_READ = 0x4;
export const VT_PT_TRACEBY = 0x8;
export const VT_PT_READBY = 0x10;
export const VT_PT_STRICT = 0x1;

export const VT_T_PATH_EXACT = 0x1;
export const VT_T_PATH_PREFIX = 0x2;
export const VT_T_PATH_SUFFIX = 0x4;
export const VT_T_SOCKET = 0x8;
export const VT_T_NET = 0x10;
export const VT_T_MOUNT = 0x20;
export const VT_T_PATH_ANCESTOR = 0x40;
export const VT_T_NET_SELF = 0x80;

export const VT_NET_SELF = 0xff;
export const VT_SELF_ADDRS = 4;
/** The text form of a net entry on the pod's own addresses (vArmor's `ip: pod-self`). */
export const POD_SELF = 'pod-self';

export const VT_GLOB_ONE_COMPONENT = 0x1;
export const VT_GLOB_SLASH_OVERLAP = 0x2;
export const VT_GLOB_BASENAME = 0x4;

export const VT_MNT_UMOUNT = 0x200;
export const VT_MP_ANY = 0x1;
export const VT_MP_EXACT = 0x2;
export const VT_MP_GLOB = 0x4;

export const VT_BIND_ARM_ON_EXEC = 0x1;

export const VT_SEC = {
  POLICY: 1,
  PATH_EXACT: 2,
  PATH_PREFIX: 3,
  PATH_SUFFIX: 4,
  PATH_GLOB: 5,
  SOCKET: 6,
  NET: 7,
  NET_PORTS: 8,
  MOUNT_FSTYPE: 9,
  MOUNT_RULE: 10,
  PATH_ANCESTOR: 11,
} as const;

export const VT_HOOKS = [
  '',
  'file_open',
  'exec',
  'path_unlink',
  'path_rename',
  'path_link',
  'path_chmod',
  'capable',
  'socket_create',
  'socket_connect',
  'setsockopt',
  'ptrace',
  'mount',
  'umount',
  'move_mount',
  'bpf',
  'userns_create',
  'path_symlink',
  'path_truncate',
] as const;

export const VT_DECISION_DENIED = 1;
export const VT_DECISION_AUDIT = 2;
export const VT_DECISION_ALLOWED = 3;

/** sizeof and offsetof of every struct in varmor_tables.h (nested fields as `a.b`). */
export const LAYOUT = {
  vt_blob_header: { size: 24, o: { magic: 0, version: 4, header_size: 6, policy_id: 8, section_count: 12, total_size: 16, reserved: 20 } },
  vt_section: { size: 16, o: { type: 0, record_size: 4, count: 8, offset: 12 } },
  vt_binding: { size: 8, o: { policy_id: 0, flags: 4 } },
  vt_self_addrs: { size: 72, o: { count: 0, family: 4, addr: 8 } },
  vt_policy: {
    size: 144,
    o: {
      gen: 0, mode: 4, cap_deny: 8, cap_audit: 16, flags_deny: 24, flags_audit: 28, ptrace_deny: 32, ptrace_audit: 36, ptrace_flags: 40,
      table_mask: 44, exact_len: 48, prefix_c1: 80, suffix_last: 112,
    },
  },
  vt_action: { size: 8, o: { deny: 0, audit: 4 } },
  vt_path_key: { size: 264, o: { policy_id: 0, gen: 4, path: 8 } },
  vt_path_lpm_key: { size: 252, o: { prefixlen: 0, policy_id: 4, gen: 8, path: 12 } },
  vt_path_lpm_val: { size: 16, o: { glob_bits: 0, deny: 8, audit: 12 } },
  vt_index_key: { size: 12, o: { policy_id: 0, gen: 4, index: 8 } },
  vt_path_glob: { size: 84, o: { flags: 0, deny: 4, audit: 8, prefix_len: 12, suffix_len: 14, base_len: 16, reserved: 18, base_prefix: 20 } },
  vt_socket_key: { size: 20, o: { policy_id: 0, gen: 4, family: 8, type: 12, protocol: 16 } },
  vt_net_key: { size: 32, o: { prefixlen: 0, policy_id: 4, gen: 8, family: 12, reserved: 13, addr: 16 } },
  vt_net_val: { size: 16, o: { port_bits: 0, deny: 8, audit: 12 } },
  vt_port_range: { size: 4, o: { lo: 0, hi: 2 } },
  vt_net_ports: { size: 44, o: { deny: 0, audit: 4, count: 8, ranges: 12 } },
  vt_fstype_key: { size: 24, o: { policy_id: 0, gen: 4, fstype: 8 } },
  vt_bits: { size: 8, o: { bits: 0 } },
  vt_mount_rule: {
    size: 152,
    o: { deny: 0, audit: 4, flags: 8, reverse_flags: 12, pattern_flags: 16, prefix_len: 20, suffix_len: 22, prefix: 24, suffix: 88 },
  },
  vt_path_exact_rec: { size: 272, o: { key: 0, val: 264 } },
  vt_path_lpm_rec: { size: 272, o: { key: 0, reserved: 252, val: 256 } },
  vt_path_glob_rec: { size: 96, o: { key: 0, val: 12 } },
  vt_socket_rec: { size: 28, o: { key: 0, val: 20 } },
  vt_net_rec: { size: 48, o: { key: 0, val: 32 } },
  vt_net_ports_rec: { size: 56, o: { key: 0, val: 12 } },
  vt_mount_fstype_rec: { size: 32, o: { key: 0, val: 24 } },
  vt_mount_rule_rec: { size: 164, o: { key: 0, val: 12 } },
  vt_log_event: {
    size: 312,
    o: { time_ns: 0, cgroup_id: 8, pid: 16, policy_id: 20, hook: 24, decision: 26, family: 27, detail: 28, port: 32, reserved: 34, extra: 36, addr: 40, path: 56 },
  },
} as const;

export type StructName = keyof typeof LAYOUT;
