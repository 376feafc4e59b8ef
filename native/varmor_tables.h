/* SPDX-License-Identifier: Apache-2.0 */
/*
 * varmor_tables.h: the one binary layout of a varmor-ts BPF policy.
 *
 * Three parties read this file and must agree byte for byte:
 *   - profiler/bpf/encode.ts writes a policy's "tables blob" (the ArmorProfile's bpfContent);
 *   - native/bpf_lsm.c (the N-API addon) parses the blob and inserts its records into BPF maps;
 *   - native/bpf/varmor.bpf.c looks the records up from LSM / tracing hooks.
 * native/layout.test.ts compiles a C program against this header and compares every
 * sizeof/offsetof with the constants in profiler/bpf/layout.ts, so they cannot drift.
 *
 * Design (why it looks like this):
 *   - No hook loops over a policy's rules. Every table is a hash map or an LPM trie keyed by
 *     (policy_id, gen, ...). The only loops are bounded by the path depth, by a 64-bit candidate
 *     bitmap or by a fixed number of wildcard combinations, never by the rule count.
 *   - Every key starts with {policy_id, gen}. A cgroup is bound to a policy id (vt_bindings);
 *     the policy's current generation lives in vt_policies. A policy update inserts all entries of
 *     generation g+1, then replaces the vt_policies value (one atomic map update flips every hook
 *     to the new rules), then deletes generation g. There is no moment without rules.
 *   - The blob carries records in exactly the map key/value layout; the loader only stamps
 *     `gen` (and checks policy_id) before inserting. Blob integers are little-endian.
 *
 * Path patterns (files and processes share one engine; exec is a permission bit):
 *   - exact ("/etc/passwd"): vt_path_exact, key = the zero-padded path. Matches that path only
 *     (/etc/passwd- is another key).
 *   - a pattern is split around its single glob into a literal prefix P and literal suffix S:
 *       "P**"    -> vt_path_prefix entry P, direct deny/audit masks;
 *       "**S"    -> vt_path_suffix entry reverse(S), direct masks ("*.pem" is "**.pem":
 *                   a file name cannot contain '/'; a bare name "passwd" is suffix "/passwd");
 *       others   -> a vt_path_glob record with index i < 64; bit i is set in the prefix entry
 *                   of P and in the suffix entry of reverse(S). The hook ANDs the two bitmaps
 *                   and checks only the candidates' residual constraints (one component,
 *                   no overlap, file-name prefix).
 *     An LPM lookup returns only the longest match, so the encoder ORs the masks and bits of every
 *     shorter entry of the same policy into each entry (an entry with P="" covers every path).
 *   - ancestors: vt_path_ancestor, keyed like the exact table, holds every directory above (or
 *     equal to) the literal part of an exact, prefix or glob pattern ("/data/secret/STARSTAR"
 *     gives "/", "/data", "/data/secret") with the union of the masks of the rules below it.
 *     Renaming, moving or bind-mounting such a directory (or mounting over it) would carry the
 *     protected files to a path no rule names, so the rename and mount hooks look the directory
 *     up here. Suffix-only patterns have none: a move keeps a suffix.
 *   - Paths are what the task sees from its root (container-absolute), built by a dentry walk of
 *     at most VT_MAX_DEPTH components; exec uses bprm->file, i.e. the resolved file.
 */
#ifndef VARMOR_TABLES_H
#define VARMOR_TABLES_H

#ifdef __BPF__
/* vmlinux.h provides __u8.. __u64 */
#else
#include <linux/types.h>
#endif

/* ---- blob framing --------------------------------------------------------------------- */

#define VT_MAGIC 0x4c425456u /* bytes "VTBL" */
#define VT_VERSION 1

/* The blob: a header, `section_count` section descriptors, then the records of each section. */
struct vt_blob_header {
	__u32 magic;         /* VT_MAGIC */
	__u16 version;       /* VT_VERSION */
	__u16 header_size;   /* sizeof(struct vt_blob_header); lets a reader skip unknown additions */
	__u32 policy_id;     /* bpfPolicyId of the profile; 0 = not bound to an id (tests) */
	__u32 section_count; /* number of struct vt_section following the header */
	__u32 total_size;    /* size of the whole blob in bytes */
	__u32 reserved;      /* 0 */
};

/* One section: `count` records of `record_size` bytes at byte `offset` from the blob start. */
struct vt_section {
	__u32 type;        /* VT_SEC_* */
	__u32 record_size; /* must equal the size of that section's record struct */
	__u32 count;
	__u32 offset;      /* 8-byte aligned */
};

enum vt_section_type {
	VT_SEC_POLICY = 1,       /* exactly 1 x struct vt_policy */
	VT_SEC_PATH_EXACT = 2,   /* struct vt_path_exact_rec  -> map vt_path_exact */
	VT_SEC_PATH_PREFIX = 3,  /* struct vt_path_lpm_rec    -> map vt_path_prefix */
	VT_SEC_PATH_SUFFIX = 4,  /* struct vt_path_lpm_rec    -> map vt_path_suffix (reversed bytes) */
	VT_SEC_PATH_GLOB = 5,    /* struct vt_path_glob_rec   -> map vt_path_glob */
	VT_SEC_SOCKET = 6,       /* struct vt_socket_rec      -> map vt_socket */
	VT_SEC_NET = 7,          /* struct vt_net_rec         -> map vt_net (LPM) */
	VT_SEC_NET_PORTS = 8,    /* struct vt_net_ports_rec   -> map vt_net_ports */
	VT_SEC_MOUNT_FSTYPE = 9, /* struct vt_mount_fstype_rec -> map vt_mount_fstype */
	VT_SEC_MOUNT_RULE = 10,  /* struct vt_mount_rule_rec  -> map vt_mount_rule */
	VT_SEC_PATH_ANCESTOR = 11, /* struct vt_path_exact_rec -> map vt_path_ancestor */
	VT_SEC_MAX = 11,
};

/* ---- constants ------------------------------------------------------------------------ */

#define VT_PATH_MAX 256      /* exact path key bytes (NUL-padded); longer paths never match exactly */
#define VT_LPM_PATH_MAX 240  /* LPM key bytes: 12 key header bytes + 240 <= the kernel's 256 */
#define VT_GLOB_BASE_MAX 64  /* file-name prefix of "A*B" file-name globs */
#define VT_MAX_GLOBS 64      /* glob records per policy (one candidate bit each) */
#define VT_MAX_PORT_RULES 64 /* port-restricted egress records per policy (one bit each) */
#define VT_PORT_RANGES 8     /* ranges per port record; the encoder splits longer lists */
#define VT_FSTYPE_MAX 16
#define VT_MNT_PAT_MAX 64
#define VT_MAX_MOUNT_RULES 64
#define VT_MAX_DEPTH 40          /* path components walked from a dentry up to the task's root */
#define VT_MAX_CGROUP_LEVELS 16  /* cgroup ancestors checked against vt_bindings */
#define VT_ANY 0xffffffffu       /* wildcard family/type/protocol in socket keys */

/* Policy modes (struct vt_policy.mode). */
#define VT_MODE_ENFORCE 1 /* deny/audit as the rules say */
#define VT_MODE_RECORD 2  /* BehaviorModeling: report every hooked event as allowed, deny nothing */

/* File permission bits (vt_action masks, vt_path_glob.deny/audit). Values follow vArmor/AppArmor. */
#define VT_PERM_EXEC 0x1
#define VT_PERM_WRITE 0x2
#define VT_PERM_READ 0x4
#define VT_PERM_APPEND 0x8

/* vt_policy.flags_deny / flags_audit: the hooks vArmor lacks. */
#define VT_F_USERNS_CREATE 0x1     /* userns_create (unshare/clone CLONE_NEWUSER) */
#define VT_F_BPF_PROG_LOAD 0x2     /* bpf(BPF_PROG_LOAD) */
#define VT_F_SOCK_FILTER_ATTACH 0x4 /* setsockopt SO_ATTACH_FILTER / _BPF / REUSEPORT_CBPF / _EBPF */
#define VT_F_EXEC_FILELESS 0x8  /* exec of a file without a name: link count 0 (memfd, unlinked, O_TMPFILE) */
#define VT_F_EXEC_UNKNOWN 0x10  /* exec of a fileless file or of one a protected task opened for write */

/* vt_policy.ptrace_deny / ptrace_audit (vArmor's values). */
#define VT_PT_TRACE 0x2
#define VT_PT_READ 0x4
#define VT_PT_TRACEBY 0x8
#define VT_PT_READBY 0x10
/* vt_policy.ptrace_flags */
#define VT_PT_STRICT 0x1 /* also deny peers inside the same container (vArmor GREEDY) */

/* vt_policy.table_mask: which tables hold entries, so hooks skip lookups that cannot hit. */
#define VT_T_PATH_EXACT 0x1
#define VT_T_PATH_PREFIX 0x2
#define VT_T_PATH_SUFFIX 0x4
#define VT_T_SOCKET 0x8
#define VT_T_NET 0x10
#define VT_T_MOUNT 0x20
#define VT_T_PATH_ANCESTOR 0x40
#define VT_T_NET_SELF 0x80 /* a rule on the pod's own addresses (vt_net entry of family VT_NET_SELF) */

/* vt_net_key.family of a rule on the bound cgroup's own addresses (vArmor's `ip: pod-self`): the
 * key's address is zero and its prefix stops at the family, so it matches whatever the pod's
 * address is; the addresses themselves are per cgroup, in vt_self_addrs. */
#define VT_NET_SELF 0xff
#define VT_SELF_ADDRS 4 /* addresses per cgroup in vt_self_addrs (a dual-stack pod has two) */

/* vt_path_glob.flags */
#define VT_GLOB_ONE_COMPONENT 0x1 /* "*": the text between P and S contains no '/' */
#define VT_GLOB_SLASH_OVERLAP 0x2 /* P ends and S starts with '/': a pattern "a/STARSTAR/b" also matches "a/b" */
#define VT_GLOB_BASENAME 0x4      /* the file name must start with base_prefix ("A*B" name globs) */

/* Mount flag bit that Linux never uses, standing for umount (vArmor's AaMayUmount). */
#define VT_MNT_UMOUNT 0x200
/* vt_mount_rule.pattern_flags */
#define VT_MP_ANY 0x1    /* any source ("**") */
#define VT_MP_EXACT 0x2  /* source == prefix */
#define VT_MP_GLOB 0x4   /* source starts with prefix and ends with suffix (one "**" between) */

/* cgroup binding flags (struct vt_binding.flags) */
#define VT_BIND_ARM_ON_EXEC 0x1 /* not enforced until the next execve in the cgroup (lets runc
                                   finish its own setup after a createRuntime-hook bind) */

/* Event hooks (struct vt_log_event.hook) */
enum vt_hook {
	VT_HOOK_FILE_OPEN = 1,
	VT_HOOK_EXEC = 2,
	VT_HOOK_PATH_UNLINK = 3,
	VT_HOOK_PATH_RENAME = 4,
	VT_HOOK_PATH_LINK = 5,
	VT_HOOK_PATH_CHMOD = 6,
	VT_HOOK_CAPABLE = 7,
	VT_HOOK_SOCKET_CREATE = 8,
	VT_HOOK_SOCKET_CONNECT = 9,
	VT_HOOK_SETSOCKOPT = 10,
	VT_HOOK_PTRACE = 11,
	VT_HOOK_MOUNT = 12,
	VT_HOOK_UMOUNT = 13,
	VT_HOOK_MOVE_MOUNT = 14,
	VT_HOOK_BPF = 15,
	VT_HOOK_USERNS_CREATE = 16,
	VT_HOOK_PATH_SYMLINK = 17,
	VT_HOOK_PATH_TRUNCATE = 18,
	VT_HOOK_MAX = 18,
};

/* Event decisions (struct vt_log_event.decision) */
#define VT_DECISION_DENIED 1  /* blocked (enforce) / would be blocked (audit-mode programs) */
#define VT_DECISION_AUDIT 2   /* allowed and reported (allowViolations + auditViolations) */
#define VT_DECISION_ALLOWED 3 /* VT_MODE_RECORD: behaviour record */

/* struct vt_log_event.extra of a file event denied because its path could not be checked
 * (fails closed, issue 17): longer than the buffer where a suffix rule might match, or deeper
 * than VT_MAX_DEPTH components */
#define VT_REASON_PATH_LONG 1
#define VT_REASON_PATH_DEEP 2
/* ... or because every scratch buffer of the CPU was held by hooks preempted there */
#define VT_REASON_BUSY 3

/* ---- map values and keys -------------------------------------------------------------- */

/* vt_bindings: key __u64 cgroup id (inode of the cgroup v2 directory) -> this. */
struct vt_binding {
	__u32 policy_id;
	__u32 flags; /* VT_BIND_* */
};

/* vt_self_addrs: key __u64 bound cgroup id -> the pod's own addresses, for VT_NET_SELF rules.
 * Written before the binding, removed with it. */
struct vt_self_addrs {
	__u32 count; /* entries of family/addr in use */
	__u8 family[VT_SELF_ADDRS]; /* AF_INET or AF_INET6 */
	__u8 addr[VT_SELF_ADDRS][16]; /* network order; IPv4 in the first 4 bytes */
};

/* vt_state: one entry (key 0). The loader bumps bind_gen after every change of vt_bindings and
 * policy_gen after every change of vt_policies; a task's cached resolution of its cgroup to a
 * policy (vt_task_cache, in the BPF object) is used only while both still match. */
struct vt_state {
	__u64 bind_gen;
	__u64 policy_gen;
};

/* vt_path_gen: key 0 -> this. The generation the path-fact cache is checked against (bumped by
 * the BPF object's fentry/fexit programs); the loader sets `enabled` once they are attached. */
struct vt_path_gen_val {
	__u64 gen;
	__u32 enabled;
	__u32 pad;
};

/* vt_policies: key __u32 policy_id -> this. Replacing it flips a policy to a new generation. */
struct vt_policy {
	__u32 gen;          /* generation of the policy's current entries (stamped by the loader) */
	__u32 mode;         /* VT_MODE_* */
	__u64 cap_deny;     /* capability bits (1 << CAP_X) denied; applies to privileged tasks too */
	__u64 cap_audit;    /* capability bits reported */
	__u32 flags_deny;   /* VT_F_* */
	__u32 flags_audit;  /* VT_F_* */
	__u32 ptrace_deny;  /* VT_PT_TRACE.. READBY */
	__u32 ptrace_audit;
	__u32 ptrace_flags; /* VT_PT_STRICT */
	__u32 table_mask;   /* VT_T_* */
	/* Pre-filters, 256-bit sets over a byte value, that let a hook skip a lookup that cannot hit
	 * (computed by the encoder from the path tables): */
	__u64 exact_len[4];   /* bit L: some exact path is L bytes long */
	__u64 prefix_c1[4];   /* bit c: some prefix literal has byte c at index 1 (all bits if one is shorter) */
	__u64 suffix_last[4]; /* bit c: some suffix literal ends with byte c (all bits if one is empty) */
};

/* deny/audit permission masks, the value of exact-path and socket entries. */
struct vt_action {
	__u32 deny;
	__u32 audit;
};

/* vt_path_exact key */
struct vt_path_key {
	__u32 policy_id;
	__u32 gen;
	char path[VT_PATH_MAX]; /* NUL-padded */
};

/* vt_path_prefix / vt_path_suffix key. prefixlen = 64 + 8 * (bytes of the literal). */
struct vt_path_lpm_key {
	__u32 prefixlen;
	__u32 policy_id;
	__u32 gen;
	__u8 path[VT_LPM_PATH_MAX]; /* prefix bytes, or the suffix reversed (last byte first) */
};

struct vt_path_lpm_val {
	__u64 glob_bits; /* candidate vt_path_glob indexes whose P (or S) matches */
	__u32 deny;      /* direct masks of "P**" (or "**S") rules, ORed with shorter entries' */
	__u32 audit;
};

/* vt_path_glob / vt_net_ports / vt_mount_rule key */
struct vt_index_key {
	__u32 policy_id;
	__u32 gen;
	__u32 index; /* < 64 */
};

/* A pattern needing more than one lookup: P (prefix_len bytes) + glob + S (suffix_len bytes). */
struct vt_path_glob {
	__u32 flags; /* VT_GLOB_* */
	__u32 deny;  /* VT_PERM_* */
	__u32 audit;
	__u16 prefix_len;
	__u16 suffix_len;
	__u16 base_len; /* bytes of base_prefix (VT_GLOB_BASENAME) */
	__u16 reserved;
	char base_prefix[VT_GLOB_BASE_MAX];
};

/* vt_socket key. Wildcards (VT_ANY) are expanded by lookups: at most 8 per socket(2). */
struct vt_socket_key {
	__u32 policy_id;
	__u32 gen;
	__u32 family;   /* AF_* or VT_ANY */
	__u32 type;     /* SOCK_* (without NONBLOCK/CLOEXEC) or VT_ANY */
	__u32 protocol; /* IPPROTO_* (0 of inet stream/dgram is read as TCP/UDP) or VT_ANY */
};

/* vt_net (LPM) key. prefixlen = 96 + CIDR bits. IPv4 lives in addr[0..3] with family AF_INET;
 * IPv4-mapped IPv6 destinations are looked up as IPv4. */
struct vt_net_key {
	__u32 prefixlen;
	__u32 policy_id;
	__u32 gen;
	__u8 family; /* AF_INET (2) or AF_INET6 (10) */
	__u8 reserved[3];
	__u8 addr[16];
};

struct vt_net_val {
	__u64 port_bits; /* vt_net_ports indexes of port-restricted rules covering this network */
	__u32 deny;      /* 1 when an all-ports rule covers it (ORed with shorter entries') */
	__u32 audit;
};

struct vt_port_range {
	__u16 lo;
	__u16 hi; /* inclusive */
};

struct vt_net_ports {
	__u32 deny;  /* 1 = deny */
	__u32 audit; /* 1 = report */
	__u32 count; /* used entries of ranges */
	struct vt_port_range ranges[VT_PORT_RANGES];
};

/* vt_mount_fstype key: fstype NUL-padded, "*" = rules for any fstype. Value: struct vt_bits. */
struct vt_fstype_key {
	__u32 policy_id;
	__u32 gen;
	char fstype[VT_FSTYPE_MAX];
};

struct vt_bits {
	__u64 bits;
};

/* A mount rule. It matches when the fstype matched (key), the source matches the pattern and
 * ((flags & mount flags) || (~flags & reverse_flags)). Remount/bind/move/propagation changes
 * and umount are checked with fstype "none". Source: dev_name of mount(2); for umount and
 * move_mount the path of the mount. */
struct vt_mount_rule {
	__u32 deny;  /* 1 = deny */
	__u32 audit; /* 1 = report */
	__u32 flags;
	__u32 reverse_flags;
	__u32 pattern_flags; /* VT_MP_* */
	__u16 prefix_len;
	__u16 suffix_len;
	char prefix[VT_MNT_PAT_MAX];
	char suffix[VT_MNT_PAT_MAX]; /* in source order (not reversed) */
};

/* ---- blob records: key + value exactly as inserted ------------------------------------ */

struct vt_path_exact_rec {
	struct vt_path_key key;
	struct vt_action val;
};

struct vt_path_lpm_rec {
	struct vt_path_lpm_key key;
	__u32 reserved; /* keeps val 8-byte aligned */
	struct vt_path_lpm_val val;
};

struct vt_path_glob_rec {
	struct vt_index_key key;
	struct vt_path_glob val;
};

struct vt_socket_rec {
	struct vt_socket_key key;
	struct vt_action val;
};

struct vt_net_rec {
	struct vt_net_key key;
	struct vt_net_val val;
};

struct vt_net_ports_rec {
	struct vt_index_key key;
	struct vt_net_ports val;
};

struct vt_mount_fstype_rec {
	struct vt_fstype_key key;
	struct vt_bits val;
};

struct vt_mount_rule_rec {
	struct vt_index_key key;
	struct vt_mount_rule val;
};

/* ---- events (ring buffer vt_events) ---------------------------------------------------- */

struct vt_log_event {
	__u64 time_ns;   /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 cgroup_id; /* the bound cgroup (may be an ancestor of the task's) */
	__u32 pid;       /* tgid */
	__u32 policy_id;
	__u16 hook;      /* enum vt_hook */
	__u8 decision;   /* VT_DECISION_* */
	__u8 family;     /* AF_* for network events, 0 otherwise */
	__u32 detail;    /* permission mask, capability number, socket type/proto, mount flags, bpf cmd */
	__u16 port;      /* host byte order */
	__u16 reserved;
	__u32 extra;     /* socket protocol, ptrace mode, ... */
	__u8 addr[16];
	char path[VT_PATH_MAX]; /* path, exec file, mount source/fstype ("src\0fstype"), NUL-terminated */
};

/*
 * BPF maps (native/bpf/varmor.bpf.c), pinned under <pinPath>/ by name when asked:
 *   vt_bindings      HASH      __u64 cgroup id        -> struct vt_binding
 *   vt_self_addrs    HASH      __u64 cgroup id        -> struct vt_self_addrs
 *   vt_policies      HASH      __u32 policy id        -> struct vt_policy
 *   vt_path_exact    HASH      struct vt_path_key     -> struct vt_action
 *   vt_path_prefix   LPM_TRIE  struct vt_path_lpm_key -> struct vt_path_lpm_val
 *   vt_path_suffix   LPM_TRIE  struct vt_path_lpm_key -> struct vt_path_lpm_val
 *   vt_path_glob     HASH      struct vt_index_key    -> struct vt_path_glob
 *   vt_socket        HASH      struct vt_socket_key   -> struct vt_action
 *   vt_net           LPM_TRIE  struct vt_net_key      -> struct vt_net_val
 *   vt_net_ports     HASH      struct vt_index_key    -> struct vt_net_ports
 *   vt_mount_fstype  HASH      struct vt_fstype_key   -> struct vt_bits
 *   vt_mount_rule    HASH      struct vt_index_key    -> struct vt_mount_rule
 *   vt_path_ancestor HASH      struct vt_path_key     -> struct vt_action
 *   vt_events        RINGBUF   struct vt_log_event records
 *   vt_scratch       PERCPU_ARRAY  per-CPU path buffers (not part of the contract)
 *   vt_exec_written  INODE_STORAGE __u32 mark: a protected task opened the file for write
 *                    (VT_F_EXEC_UNKNOWN; LSM programs only)
 */

#endif /* VARMOR_TABLES_H */
