/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map and loader-set constant of the object: the bindings and policies, the rule tables
 * (keyed by {policy_id, gen}, layouts in ../../varmor_tables.h), the per-task cache, the
 * path-fact generation, the event ring buffer and the per-CPU scratch buffer.
 */
#ifndef VT_MAPS_H
#define VT_MAPS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vt_state);
} vt_state SEC(".maps");

/* One task's resolution of its cgroup to a policy (see protected_cg). */
struct vt_task_cache {
	__u64 cgid;       /* the task's cgroup when resolved */
	__u64 bind_gen;   /* vt_state generations when resolved */
	__u64 policy_gen;
	__u64 bound_cgid; /* the bound cgroup: the task's own or an ancestor */
	__u32 policy_id;  /* 0: not protected */
	__u32 valid;
	struct vt_policy pol; /* copy of the policy (its gen selects the table entries) */
	/* path_facts' facts of the directory it last walked up from (see path_facts): kernel
	 * addresses as numbers, compared only, never followed */
	__u64 pf_dir;  /* the directory's dentry */
	__u64 pf_mnt;  /* the vfsmount the file was reached through */
	__u64 pf_root_d, pf_root_m; /* the task's root then */
	__u64 pf_gen;  /* vt_path_gen when the walk began */
	__u32 pf_len;  /* bytes of the directory's path as d_path gives it, without a trailing '/' */
	__u8 pf_c1;    /* first byte of its top component */
	__u8 pf_top_is_file; /* the directory is the root: the file's own name is the top component */
	__u8 pf_valid;
	/* root.h: whether the task's root is its container's, for its fs_struct rt_fs at fs->seq rt_seq */
	__u8 rt_ok;
	__u8 rt_valid;
	__u32 rt_seq;
	__u64 rt_fs;
	__u64 number; /* as_number's round trip: task-local, no other task can overwrite it */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vt_task_cache);
} vt_task_cache SEC(".maps");

/*
 * Generation of the dentry tree and the mount tree, for the path facts cached per task: bumped
 * by the fentry/fexit programs in varmor.bpf.c after every dentry move (rename, exchange, a
 * directory found elsewhere by lookup), before every dentry is freed (so a cached address
 * cannot come back as another directory) and after every change of a mount namespace. Alone
 * in its map: every protected open reads it, and renames on any CPU write it. Value: struct
 * vt_path_gen_val (../varmor_tables.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vt_path_gen_val);
} vt_path_gen SEC(".maps");

/* Set by the loader from /proc/1/ns/mnt: tracers in the host's mount namespace may always
 * ptrace (as vArmor allows), so node agents and debuggers keep working. */
const volatile __u32 init_mnt_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct vt_binding);
} vt_bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct vt_self_addrs);
} vt_self_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct vt_policy);
} vt_policies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_path_key);
	__type(value, struct vt_action);
} vt_path_exact SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_path_lpm_key);
	__type(value, struct vt_path_lpm_val);
} vt_path_prefix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_path_lpm_key);
	__type(value, struct vt_path_lpm_val);
} vt_path_suffix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_index_key);
	__type(value, struct vt_path_glob);
} vt_path_glob SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_socket_key);
	__type(value, struct vt_action);
} vt_socket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_net_key);
	__type(value, struct vt_net_val);
} vt_net SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_index_key);
	__type(value, struct vt_net_ports);
} vt_net_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_fstype_key);
	__type(value, struct vt_bits);
} vt_mount_fstype SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_index_key);
	__type(value, struct vt_mount_rule);
} vt_mount_rule SEC(".maps");

/* Directories above protected paths (see varmor_tables.h): the rename and mount hooks only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vt_path_key);
	__type(value, struct vt_action);
} vt_path_ancestor SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} vt_events SEC(".maps");

#define PBUF 512 /* path buffer: offsets < 256 plus a 256-byte string read */
struct scratch {
	char path[PBUF];
	char src[PBUF];                  /* second string: mount fstype, rename target */
	const unsigned char *names[64]; /* >= VT_MAX_DEPTH, power of two for masking */
	__u32 len;
	__u32 base;      /* offset of the file name (after the last '/') */
	__u32 truncated; /* path longer than VT_PATH_MAX-1: only prefix rules apply */
	__u32 pad;
	struct vt_path_key exact;
	struct vt_path_lpm_key lpm;
	struct vt_fstype_key fs;
	__u8 leaf_last; /* last byte of the file's own name (build_path, for a truncated path) */
	__u32 walk_done; /* build_path's walk reached the root or the top of the tree */
	__u32 zero;      /* unknown_zero's round trip */
	__u64 busy;      /* taken by a hook (scratch_get); 64-bit: the compare-and-swap of BPF ISA v2 */
};

/*
 * Scratch buffers: VT_SCRATCH_SLOTS per CPU, each taken by an atomic compare-and-swap of its
 * `busy` word and given back by the hook that took it. A hook runs with migration disabled but
 * preemptible (PREEMPT / PREEMPT_DYNAMIC full): a single per-CPU buffer could be rewritten by
 * another task on the same CPU between building a path and looking it up (issue 17, road 6).
 * With slots, a preempted hook keeps its own; only VT_SCRATCH_SLOTS hooks preempted at once on
 * one CPU would leave none, and then the hook fails closed (scratch_get gives NULL).
 */
#define VT_SCRATCH_SLOTS 4

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VT_SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct scratch);
} vt_scratch SEC(".maps");

static __always_inline struct scratch *scratch_get(void)
{
	for (__u32 i = 0; i < VT_SCRATCH_SLOTS; i++) {
		__u32 k = i;
		struct scratch *s = bpf_map_lookup_elem(&vt_scratch, &k);
		if (s && __sync_val_compare_and_swap(&s->busy, 0, 1) == 0)
			return s;
	}
	return 0;
}

static __always_inline void scratch_put(struct scratch *s)
{
	*(volatile __u64 *)&s->busy = 0;
}

/*
 * 0, as a value the verifier cannot know. 6.1's verifier models bpf_loop as one call of its
 * callback: a counter or flag in the loop's context that starts from a constant on the stack
 * lets it take the tests on it (a depth limit, a buffer's end, "found") as decided and drop the
 * other branch from the program (6.8 and later verify callbacks as loops). Started from this
 * instead, every test stays.
 */
static __always_inline __u32 unknown_zero(struct scratch *s)
{
	s->zero = 0;
	return *(volatile __u32 *)&s->zero;
}

/*
 * disallow-exec-unknown: a mark on each regular file a protected task opened for write (the
 * container wrote or created it), checked at exec. Inode storage lives and dies with the
 * in-memory inode, so nothing is ever left to purge. LSM programs only (tracing programs have no
 * inode storage helper).
 */
struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} vt_exec_written SEC(".maps");

/*
 * BehaviorModeling's syscall record (Seccomp): one bit per syscall number each policy in record
 * mode has made, set by vt_rec_sys_enter, which the loader attaches only while a run records
 * (a sys_enter program runs on every syscall of every task on the node). Read and cleared by the
 * agent per policy id (vt_syscalls_read, vt_syscalls_clear).
 */
#define VT_SYSCALL_WORDS 8 /* 512 syscall numbers: x86_64 and arm64 have fewer */

struct vt_syscall_bits {
	__u64 bits[VT_SYSCALL_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct vt_syscall_bits);
} vt_syscalls SEC(".maps");

/*
 * Seccomp violations name a pid only, and the process that made the syscall has often exited
 * by the time the agent reads the kernel log (a shell's mkdir): the cgroup each task had at its
 * last fork or exec, kept here (LRU: the oldest entries of exited tasks go first) so the agent
 * can still attribute it to a container (vt_cgroup_of_pid).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);   /* tgid (the pid the kernel log prints) */
	__type(value, __u64); /* cgroup v2 id */
} vt_pid_cgroup SEC(".maps");

#endif /* VT_MAPS_H */
