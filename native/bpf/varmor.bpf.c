// SPDX-License-Identifier: GPL-2.0
/*
 * varmor-ts BPF enforcer: LSM programs (enforce) and tp_btf programs (audit: record "would
 * deny" where the kernel refuses LSM programs, as this project's host does). Both families share
 * the maps and the matching code below; the table layout is ../varmor_tables.h.
 *
 * Every program first resolves the current task's cgroup (or an ancestor, up to
 * VT_MAX_CGROUP_LEVELS) to a binding and returns at once when there is none: nothing outside a
 * protected container is ever affected. The resolution is cached per task (vt_task_cache) and
 * checked against vt_state's generations, which the loader bumps after every change.
 *
 * Known limits: paths longer than VT_PATH_MAX-1 bytes are matched by their first bytes only
 * (prefix rules); deeper than VT_MAX_DEPTH components they are not matched. The per-CPU scratch
 * buffer assumes a hook is not preempted by another hook on the same CPU (as vArmor does).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "../varmor_tables.h"

char LICENSE[] SEC("license") = "GPL";

#define EPERM 1
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_TYPE_MASK 0xf
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOL_SOCKET 1
#define SO_ATTACH_FILTER 26
#define SO_ATTACH_BPF 50
#define SO_ATTACH_REUSEPORT_CBPF 51
#define SO_ATTACH_REUSEPORT_EBPF 52
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define FMODE_NOACCOUNT 0x20000000
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define CAP_OPT_NOAUDIT 0x2
#define PTRACE_MODE_READ 0x01
#define PTRACE_MODE_ATTACH 0x02
#define MS_RDONLY 1
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_UNBINDABLE (1 << 17)
#define MS_PRIVATE (1 << 18)
#define MS_SLAVE (1 << 19)
#define MS_SHARED (1 << 20)
#define CLONE_NEWUSER 0x10000000
#define BPF_PROG_LOAD_CMD 5
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

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
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vt_task_cache);
} vt_task_cache SEC(".maps");

/*
 * Generation of the dentry tree and the mount tree, for the path facts cached per task: bumped
 * by the tracing programs at the end of this file after every dentry move (rename, exchange, a
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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} vt_events SEC(".maps");

/* Mask a value in a way clang cannot fold away, so the verifier sees the bound. */
#define BOUND(x, m) ({ __u64 __v = (x); asm volatile("%0 &= " #m : "+r"(__v)); __v; })

/* membership in a 256-bit set of 4 x u64 (vt_policy pre-filters) */
#define IN_SET(set, v) ((set)[BOUND((v) >> 6, 3)] & (1ULL << ((v) & 63)))

#define PBUF 512 /* path buffer: offsets < 256 plus a 256-byte string read */
struct scratch {
	char path[PBUF];
	char src[PBUF];                  /* second string: mount fstype, rename target */
	const unsigned char *names[64]; /* >= VT_MAX_DEPTH, power of two for masking */
	__u32 len;
	__u32 base;      /* offset of the file name (after the last '/') */
	__u32 truncated; /* path longer than VT_PATH_MAX-1: only prefix rules apply */
	__u32 pad;
	__u64 number; /* as_number's round trip */
	struct vt_path_key exact;
	struct vt_path_lpm_key lpm;
	struct vt_fstype_key fs;
	struct vt_net_key net;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} vt_scratch SEC(".maps");

/* Who is acting: the bound cgroup and its policy. */
struct prot {
	__u64 cgid;
	__u32 policy_id;
	__u32 audit_only; /* program family: 1 = tp_btf (cannot deny) */
	struct vt_policy *pol;
	struct task_struct *task; /* current, kept so later steps need not ask the helper again */
	struct vt_task_cache *cache; /* the task's cache entry, when it has one */
};

static __always_inline struct scratch *scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vt_scratch, &zero);
}

/* Resolve the current task's cgroup to its binding, without the cache. Deepest bound cgroup wins.
 * Returns the binding (and its cgroup in *bound) or 0. */
static __always_inline struct vt_binding *find_binding(__u64 cg, __u64 *bound)
{
	struct vt_binding *b = bpf_map_lookup_elem(&vt_bindings, &cg);
	if (b) {
		*bound = cg;
		return b;
	}
	for (int lvl = 1; lvl <= VT_MAX_CGROUP_LEVELS; lvl++) {
		__u64 a = bpf_get_current_ancestor_cgroup_id(lvl);
		struct vt_binding *x;
		if (!a || a == cg)
			break;
		x = bpf_map_lookup_elem(&vt_bindings, &a);
		if (x) {
			b = x;
			*bound = a;
		}
	}
	return b;
}

/*
 * Resolve the current task to its policy. Every hook of every task on the node starts here, so
 * the answer is cached per task (vt_task_cache, with a copy of the policy) and reused while the
 * task stays in the same cgroup and neither vt_bindings nor vt_policies changed (vt_state's
 * generations, bumped by the loader after each change): then it costs no hash lookup at all.
 */
static __always_inline int protected_cg(struct prot *p, int is_exec, int audit_only)
{
	struct vt_task_cache *c;
	struct vt_binding *b;
	struct vt_policy *pol;
	struct vt_state *st;
	__u64 cg = bpf_get_current_cgroup_id(), bound = 0, bind_gen, policy_gen;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&vt_state, &zero);
	if (!st)
		return 0;
	/* read before the lookups below: a change after this point also bumps past these values */
	bind_gen = READ_ONCE(st->bind_gen);
	policy_gen = READ_ONCE(st->policy_gen);
	p->task = bpf_get_current_task_btf();
	c = bpf_task_storage_get(&vt_task_cache, p->task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	p->cache = c;
	p->audit_only = audit_only;
	if (c && c->valid && c->cgid == cg && c->bind_gen == bind_gen && c->policy_gen == policy_gen) {
		if (!c->policy_id)
			return 0;
		p->cgid = c->bound_cgid;
		p->policy_id = c->policy_id;
		p->pol = &c->pol;
		return 1;
	}
	b = find_binding(cg, &bound);
	if (b && (b->flags & VT_BIND_ARM_ON_EXEC)) {
		/* runc binds us before its own setup is done; the first execve starts enforcement.
		 * Not cached: the binding changes under us. */
		if (!is_exec)
			return 0;
		b->flags = b->flags & ~VT_BIND_ARM_ON_EXEC;
	}
	p->policy_id = b ? b->policy_id : 0;
	pol = b ? bpf_map_lookup_elem(&vt_policies, &p->policy_id) : 0;
	if (!c) {
		p->cgid = bound;
		p->pol = pol;
		return pol != 0;
	}
	c->cgid = cg;
	c->bind_gen = bind_gen;
	c->policy_gen = policy_gen;
	c->bound_cgid = bound;
	c->policy_id = pol ? p->policy_id : 0;
	if (pol)
		__builtin_memcpy(&c->pol, pol, sizeof(c->pol));
	c->valid = 1;
	if (!pol)
		return 0;
	p->cgid = bound;
	p->pol = &c->pol;
	return 1;
}

static __always_inline struct vt_log_event *ev_new(struct prot *p, __u16 hook, __u8 decision, __u32 detail)
{
	struct vt_log_event *e = bpf_ringbuf_reserve(&vt_events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->time_ns = bpf_ktime_get_ns();
	e->cgroup_id = p->cgid;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->policy_id = p->policy_id;
	e->hook = hook;
	e->decision = decision;
	e->family = 0;
	e->detail = detail;
	e->port = 0;
	e->reserved = 0;
	e->extra = 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	e->path[0] = 0;
	return e;
}

/*
 * Decide on one event: returns -EPERM to deny (LSM programs), 0 otherwise, and reserves an
 * event when one must be written (*out). Table (vArmor's): deny -> blocked, +audit -> DENIED
 * event; audit only -> AUDIT event. Audit programs report every would-be denial. RECORD mode
 * reports everything as allowed.
 */
static __always_inline int decide(struct prot *p, __u32 deny, __u32 audit, __u16 hook, __u32 detail,
				  struct vt_log_event **out)
{
	*out = 0;
	if (p->pol->mode == VT_MODE_RECORD) {
		*out = ev_new(p, hook, VT_DECISION_ALLOWED, detail);
		return 0;
	}
	if (deny) {
		if (audit || p->audit_only)
			*out = ev_new(p, hook, VT_DECISION_DENIED, detail);
		return p->audit_only ? 0 : -EPERM;
	}
	if (audit)
		*out = ev_new(p, hook, VT_DECISION_AUDIT, detail);
	return 0;
}

/* ---- paths ----------------------------------------------------------------------------- */

/* Parent mount and mount point of the mount at address mm, by probe reads (struct mount sits at a
 * negative offset from the vfsmount that typed pointers give, where direct loads cannot go).
 * Returns 0, or 1 at the top of the mount tree (where d_path stops too), or -1 if a read fails. */
static __always_inline int mount_up(__u64 mm, __u64 *parent, __u64 *mountpoint)
{
	__u64 up[2] = {}; /* mnt_parent, mnt_mountpoint */
	__u64 at = mm + bpf_core_field_offset(struct mount, mnt_parent);
	if (bpf_core_field_offset(struct mount, mnt_mountpoint) == bpf_core_field_offset(struct mount, mnt_parent) + 8) {
		if (bpf_probe_read_kernel(up, sizeof(up), (void *)at)) /* adjacent (6.1 and later): one read */
			return -1;
	} else if (bpf_probe_read_kernel(&up[0], 8, (void *)at) ||
		   bpf_probe_read_kernel(&up[1], 8, (void *)(mm + bpf_core_field_offset(struct mount, mnt_mountpoint)))) {
		return -1;
	}
	if (!up[0] || up[0] == mm)
		return 1;
	*parent = up[0];
	*mountpoint = up[1];
	return 0;
}

struct walk_ctx {
	struct scratch *s;
	struct dentry *d;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_d;
	struct vfsmount *root_m;
	__u32 n;
	__u32 off;
	int err;
};

/* One step of the walk from a dentry up to the task's root, crossing mounts. */
static long walk_cb(__u32 i, struct walk_ctx *c)
{
	struct dentry *mroot, *parent, *d = c->d;
	struct vfsmount *vm = c->vfsmnt;
	struct mount *m = c->mnt;
	if (d == c->root_d && vm == c->root_m)
		return 1;
	mroot = BPF_CORE_READ(vm, mnt_root);
	parent = BPF_CORE_READ(d, d_parent);
	if (d == mroot || d == parent) {
		__u64 mp, mpt;
		if (mount_up((__u64)m, &mp, &mpt))
			return 1;
		c->d = (struct dentry *)mpt;
		c->mnt = (struct mount *)mp;
		c->vfsmnt = &c->mnt->mnt;
		return 0;
	}
	if (c->n >= VT_MAX_DEPTH) {
		c->err = 1;
		return 1;
	}
	c->s->names[BOUND(c->n, 63)] = BPF_CORE_READ(d, d_name.name);
	c->n++;
	c->d = parent;
	return 0;
}

/* Append component n-1-j: "/" + name. */
static long join_cb(__u32 j, struct walk_ctx *c)
{
	struct scratch *s = c->s;
	__u32 k, off = c->off;
	long r;
	if (j >= c->n)
		return 1;
	k = c->n - 1 - j;
	if (k >= VT_MAX_DEPTH)
		return 1;
	if (off >= VT_PATH_MAX - 1) {
		s->truncated = 1;
		return 1;
	}
	s->path[BOUND(off, 511)] = '/';
	off++;
	s->base = off;
	r = bpf_probe_read_kernel_str(&s->path[BOUND(off, 255)], 256, s->names[BOUND(k, 63)]);
	if (r <= 0) {
		c->err = 1;
		return 1;
	}
	c->off = off + r - 1;
	return 0;
}

/* Build the path of (vfsmnt, dentry) as the current task sees it from its root, into s->path. */
static __always_inline int build_path(struct scratch *s, struct vfsmount *vfsmnt, struct dentry *dentry)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct walk_ctx c = {
		.s = s,
		.d = dentry,
		.vfsmnt = vfsmnt,
		.mnt = container_of(vfsmnt, struct mount, mnt),
		.root_d = BPF_CORE_READ(task, fs, root.dentry),
		.root_m = BPF_CORE_READ(task, fs, root.mnt),
	};
	__u32 off;

	s->truncated = 0;
	bpf_loop(VT_MAX_DEPTH + 16, walk_cb, &c, 0);
	if (c.err)
		return -1;
	if (c.n == 0) {
		s->path[0] = '/';
		s->path[1] = 0;
		s->len = 1;
		s->base = 1;
		return 1;
	}
	bpf_loop(VT_MAX_DEPTH, join_cb, &c, 0);
	if (c.err)
		return -1;
	off = c.off;
	if (off >= VT_PATH_MAX) {
		off = VT_PATH_MAX - 1;
		s->truncated = 1;
	}
	s->path[BOUND(off, 511)] = 0;
	s->len = off;
	return off;
}

struct glob_ctx {
	struct scratch *s;
	struct prot *p;
	__u64 bits;
	__u32 deny;
	__u32 audit;
};

static long glob_cb(__u32 i, struct glob_ctx *c)
{
	struct vt_index_key k = {};
	struct vt_path_glob *g;
	struct scratch *s = c->s;
	__u32 len, plen, slen, end;

	if (!(c->bits & (1ULL << (i & 63))))
		return 0;
	k.policy_id = c->p->policy_id;
	k.gen = c->p->pol->gen;
	k.index = i;
	g = bpf_map_lookup_elem(&vt_path_glob, &k);
	if (!g)
		return 0;
	len = s->len;
	plen = g->prefix_len;
	slen = g->suffix_len;
	if (g->flags & VT_GLOB_SLASH_OVERLAP) {
		if (plen + slen > len + 1)
			return 0;
	} else if (plen + slen > len) {
		return 0;
	}
	end = len - slen;
	if (g->flags & VT_GLOB_ONE_COMPONENT) {
		/* no '/' in [plen, end): scanned here, inside the callback the verifier checks once */
		for (int j = 0; j < VT_PATH_MAX; j++) {
			__u32 at = plen + j;
			if (at >= end)
				break;
			if (s->path[at & (PBUF - 1)] == '/')
				return 0;
		}
	}
	if (g->flags & VT_GLOB_BASENAME) {
		__u32 base = 0, blen = g->base_len;
		/* the file name starts after the last '/' */
		for (int j = 0; j < VT_PATH_MAX; j++) {
			__u32 at = len - 1 - j;
			if (j >= len)
				break;
			if (s->path[at & (PBUF - 1)] == '/') {
				base = at + 1;
				break;
			}
		}
		if (base + blen + slen > len)
			return 0;
		for (int j = 0; j < VT_GLOB_BASE_MAX; j++) {
			if (j >= blen)
				break;
			if (s->path[(base + j) & (PBUF - 1)] != g->base_prefix[j])
				return 0;
		}
	}
	c->deny |= g->deny;
	c->audit |= g->audit;
	return 0;
}

struct rev_ctx {
	struct scratch *s;
};

static long rev_cb(__u32 i, struct rev_ctx *c)
{
	struct scratch *s = c->s;
	__u32 k = BOUND(i, 255);
	if (k >= VT_LPM_PATH_MAX || k >= s->len)
		return 1;
	s->lpm.path[k] = s->path[BOUND(s->len - 1 - k, 511)];
	return 0;
}

/* The pre-filters: whether a table can hold an entry for a path of this length, second byte or
 * last byte (match_path asks before each lookup, facts_may_match before building the path). */
static __always_inline int exact_may_hold(struct vt_policy *pol, __u32 len)
{
	return (pol->table_mask & VT_T_PATH_EXACT) && IN_SET(pol->exact_len, len);
}

static __always_inline int prefix_may_hold(struct vt_policy *pol, __u8 c1)
{
	return (pol->table_mask & VT_T_PATH_PREFIX) && IN_SET(pol->prefix_c1, c1);
}

static __always_inline int suffix_may_hold(struct vt_policy *pol, __u8 last)
{
	return (pol->table_mask & VT_T_PATH_SUFFIX) && IN_SET(pol->suffix_last, last);
}

/* Match s->path against the policy's file tables. */
static __always_inline void match_path(struct scratch *s, struct prot *p, struct vt_action *out)
{
	struct vt_policy *pol = p->pol;
	struct vt_path_lpm_val *v;
	__u64 pbits = 0, sbits = 0;
	__u32 len = s->len;
	__u32 llen = len < VT_LPM_PATH_MAX ? len : VT_LPM_PATH_MAX;

	__u8 c1 = s->path[1], last = s->path[BOUND(len - 1, 511)];

	out->deny = 0;
	out->audit = 0;
	if (!s->truncated && exact_may_hold(pol, len)) {
		struct vt_action *a;
		__builtin_memset(&s->exact, 0, sizeof(s->exact));
		s->exact.policy_id = p->policy_id;
		s->exact.gen = pol->gen;
		bpf_probe_read_kernel_str(s->exact.path, VT_PATH_MAX, s->path);
		a = bpf_map_lookup_elem(&vt_path_exact, &s->exact);
		if (a) {
			out->deny |= a->deny;
			out->audit |= a->audit;
		}
	}
	if (prefix_may_hold(pol, c1)) {
		s->lpm.prefixlen = 64 + 8 * llen;
		s->lpm.policy_id = p->policy_id;
		s->lpm.gen = pol->gen;
		bpf_probe_read_kernel(s->lpm.path, VT_LPM_PATH_MAX, s->path);
		v = bpf_map_lookup_elem(&vt_path_prefix, &s->lpm);
		if (v) {
			out->deny |= v->deny;
			out->audit |= v->audit;
			pbits = v->glob_bits;
		}
	}
	if (!s->truncated && suffix_may_hold(pol, last)) {
		s->lpm.prefixlen = 64 + 8 * llen;
		s->lpm.policy_id = p->policy_id;
		s->lpm.gen = pol->gen;
		struct rev_ctx rc = { .s = s };
		bpf_loop(llen, rev_cb, &rc, 0);
		v = bpf_map_lookup_elem(&vt_path_suffix, &s->lpm);
		if (v) {
			out->deny |= v->deny;
			out->audit |= v->audit;
			sbits = v->glob_bits;
		}
	}
	if (pbits & sbits) {
		struct glob_ctx c = { .s = s, .p = p, .bits = pbits & sbits };
		bpf_loop(VT_MAX_GLOBS, glob_cb, &c, 0);
		out->deny |= c.deny;
		out->audit |= c.audit;
	}
}

/* Check a built path for permission `want`; fills the event path. */
static __always_inline int check_built(struct scratch *s, struct prot *p, __u32 want, __u16 hook)
{
	struct vt_action a;
	struct vt_log_event *e;
	int ret;

	match_path(s, p, &a);
	ret = decide(p, a.deny & want, a.audit & want, hook, want, &e);
	if (e) {
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->path);
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

static __always_inline int check_path(struct prot *p, struct vfsmount *mnt, struct dentry *d, __u32 want, __u16 hook)
{
	struct scratch *s = scratch();
	if (!s || !mnt || !d)
		return 0;
	if (p->pol->mode != VT_MODE_RECORD && !(p->pol->table_mask & (VT_T_PATH_EXACT | VT_T_PATH_PREFIX | VT_T_PATH_SUFFIX)))
		return 0;
	if (build_path(s, mnt, d) < 0)
		return 0;
	return check_built(s, p, want, hook);
}

/* ---- path pre-filter facts: skip d_path when no path rule can match ----------------------- */

/* The facts match_path's pre-filters look at, computed without building the path. */
struct path_facts {
	__u32 len;  /* bytes of the path as d_path gives it */
	__u8 c1;    /* path[1]: first byte of the top component (0 for "/") */
	__u8 last;  /* last byte */
};

/* struct dentry's inline name: d_iname up to 6.13, d_shortname.string since 6.14 (CO-RE picks). */
struct dentry___iname {
	unsigned char d_iname[32];
} __attribute__((preserve_access_index));

#define FACTS_DIRECT_DEPTH 32 /* components walked with direct loads before giving up */
#define FACTS_MOUNT_DEPTH 8   /* components walked above the file's own mount */

/* Offset of struct dentry's inline name buffer (a name shorter than 32 bytes lives there). The
 * barriers keep clang from computing both relocations up front: the one for the field this
 * kernel lacks is poisoned by libbpf and must stay unreachable. */
static __always_inline __u64 iname_off(void)
{
	__u64 off;
	if (bpf_core_field_exists(struct dentry___iname, d_iname)) {
		off = bpf_core_field_offset(struct dentry___iname, d_iname);
		barrier_var(off);
	} else {
		off = bpf_core_field_offset(struct dentry, d_shortname);
		barrier_var(off);
	}
	return off;
}

static __always_inline __u64 iname_addr(struct dentry *d)
{
	return (__u64)d + iname_off();
}

/* Whether d's name is stored inline (names shorter than 32 bytes are), where direct loads reach it. */
static __always_inline int name_inline(struct dentry *d)
{
	return (__u64)d->d_name.name == iname_addr(d);
}

/* Word k (0..3) of d's inline name, by a direct load. */
static __always_inline __u64 iname_word(struct dentry *d, __u32 k)
{
	void *base = (void *)d + iname_off();
	switch (k) {
	case 0: return *(__u64 *)base;
	case 1: return *(__u64 *)(base + 8);
	case 2: return *(__u64 *)(base + 16);
	default: return *(__u64 *)(base + 24);
	}
}

/* The part of struct dentry one probe read fetches above the file's mount: d_parent, d_name
 * (hash, len, name) and the first bytes of the inline name, which follow each other in 6.1 and
 * later (checked at load time through CO-RE; another layout falls back to d_path). */
struct dentry_head {
	__u64 parent;
	__u32 hash;
	__u32 len;
	__u64 name;
	__u64 inode;
	__u8 iname[8];
};

static __always_inline int dentry_head_layout_ok(void)
{
	__u32 base = bpf_core_field_offset(struct dentry, d_parent);
	__u32 in = iname_off();
	return bpf_core_field_offset(struct dentry, d_name) == base + 8 && in == base + 32;
}

/* A typed kernel pointer as a plain number, for the global function below (whose arguments the
 * verifier accepts as numbers only): written to the per-CPU scratch map and read back, which
 * only the privileged loaders of LSM programs may do (the agent is one). */
static __always_inline __u64 as_number(struct scratch *s, const void *ptr)
{
	*(const void *volatile *)&s->number = ptr;
	return *(volatile __u64 *)&s->number;
}

/* Set by the loader when the kernel has the bpf_rdonly_cast kfunc (6.2 and later): the walk
 * above a file's own mount then reads struct mount and struct dentry by direct loads through a
 * cast pointer. Without it (6.1) the kfunc stays unresolved (weak), and this constant makes its
 * calls dead code, which the verifier drops. */
const volatile __u32 have_rdonly_cast = 0;
extern void *bpf_rdonly_cast(void *obj, __u32 btf_id) __ksym __weak;

/* mount_up; `cast` (have_rdonly_cast only): by direct loads through a cast pointer, else by
 * mount_up's probe reads. */
static __always_inline int mount_up_by(__u64 mm, __u64 *parent, __u64 *mountpoint, const int cast)
{
	struct mount *m;
	__u64 up;
	if (!cast)
		return mount_up(mm, parent, mountpoint);
	m = bpf_rdonly_cast((void *)mm, bpf_core_type_id_kernel(struct mount));
	up = (__u64)m->mnt_parent;
	if (!up || up == mm)
		return 1;
	*parent = up;
	*mountpoint = (__u64)m->mnt_mountpoint;
	return 0;
}

/* The root dentry of the mount at address mm; `cast`: by a direct load (6.2+), else a probe read. */
static __always_inline int mount_root(__u64 mm, __u64 *root, const int cast)
{
	if (cast) {
		struct mount *m = bpf_rdonly_cast((void *)mm, bpf_core_type_id_kernel(struct mount));
		*root = (__u64)m->mnt.mnt_root;
		return 0;
	}
	return bpf_probe_read_kernel(root, sizeof(*root),
				     (void *)(mm + bpf_core_field_offset(struct mount, mnt) +
					      bpf_core_field_offset(struct vfsmount, mnt_root)))
		       ? -1
		       : 0;
}

/* One component above the file's mount: dentry md's parent, name length and first byte. */
static __always_inline int dentry_step(__u64 md, __u64 *parent, __u32 *len, __u8 *first, const int cast)
{
	if (cast) {
		struct dentry *d = bpf_rdonly_cast((void *)md, bpf_core_type_id_kernel(struct dentry));
		*parent = (__u64)d->d_parent;
		*len = d->d_name.len;
		if (name_inline(d)) {
			*first = iname_word(d, 0);
			return 0;
		}
		return bpf_probe_read_kernel(first, 1, (void *)d->d_name.name) ? -1 : 0;
	} else {
		struct dentry_head h;
		if (bpf_probe_read_kernel(&h, sizeof(h), (void *)(md + bpf_core_field_offset(struct dentry, d_parent))))
			return -1;
		*parent = h.parent;
		*len = h.len;
		if (h.name == md + bpf_core_field_offset(struct dentry, d_parent) + 32) {
			*first = h.iname[0];
			return 0;
		}
		return bpf_probe_read_kernel(first, 1, (void *)h.name) ? -1 : 0;
	}
}

/*
 * path_facts above the file's own mount: from dentry md, the mount point in mount mm, up to the
 * task's root (root_d in the vfsmount root_m, whose root dentry is root_mroot). struct mount is
 * found from a vfsmount by a negative offset, which plain typed loads do not allow, so this walks
 * through cast pointers (6.2+) or by probe reads; a separate (global) function, verified once
 * instead of once per way into it, so it takes plain numbers. Returns the bytes added, the first
 * byte of the top component and the number of components as len | first << 32 | n << 40, with
 * bit 48 set when the walk ended at the task's root (not at the top of another tree), or bit 63
 * set when the answer might differ from d_path's.
 */
static __always_inline __u64 facts_above_mount(__u64 md, __u64 mm, __u64 root_d, __u64 root_m, __u64 root_mroot,
						const int cast)
{
	const __u64 FAIL = 1ULL << 63;
	const __u64 vfs = bpf_core_field_offset(struct mount, mnt);
	__u64 mmroot = 0, parent;
	__u32 len = 0, n = 0, l;
	__u8 first = 0;
	__u64 at_root = 0;
	int entered = 1; /* mm is a mount just entered: its root dentry is still to learn */

	for (int i = 0; i < FACTS_MOUNT_DEPTH; i++) {
		if (entered) {
			/* the task's root mount is the usual one (a container's volumes are mounted on
			 * its root file system), and the caller knows its root dentry */
			if (mm + vfs == root_m)
				mmroot = root_mroot;
			else if (mount_root(mm, &mmroot, cast))
				return FAIL;
			entered = 0;
		}
		if (md == root_d && mm + vfs == root_m) {
			at_root = 1ULL << 48;
			goto done;
		}
		if (md == mmroot) {
			int top = mount_up_by(mm, &mm, &md, cast);
			if (top < 0)
				return FAIL;
			if (top)
				goto done;
			entered = 1;
			continue;
		}
		if (dentry_step(md, &parent, &l, &first, cast))
			return FAIL;
		if (parent == md || l == 0 || l > 31)
			return FAIL;
		len += l + 1;
		n++;
		md = parent;
	}
	return FAIL;
done:
	return (__u64)len | (__u64)first << 32 | (__u64)n << 40 | at_root;
}

/* The two instances, each its own global function: clang drops the other variant's code from
 * each, and the loader's have_rdonly_cast picks the one path_facts calls. */
__noinline __u64 facts_above_mount_probe(__u64 md, __u64 mm, __u64 root_d, __u64 root_m, __u64 root_mroot)
{
	return facts_above_mount(md, mm, root_d, root_m, root_mroot, 0);
}

__noinline __u64 facts_above_mount_cast(__u64 md, __u64 mm, __u64 root_d, __u64 root_m, __u64 root_mroot)
{
	/* a global function is verified even where no call reaches it: without the kfunc this
	 * constant test leaves the verifier nothing but the return */
	if (!have_rdonly_cast)
		return 1ULL << 63;
	return facts_above_mount(md, mm, root_d, root_m, root_mroot, 1);
}

/* The dentry/mount generation (vt_path_gen) now, or 0 when path facts are not cached (the
 * kernel lacks a function the invalidating programs attach to). */
static __always_inline __u64 path_gen_now(void)
{
	__u32 zero = 0;
	struct vt_path_gen_val *g = bpf_map_lookup_elem(&vt_path_gen, &zero);
	if (!g || !READ_ONCE(g->enabled))
		return 0;
	return READ_ONCE(g->gen) | 1ULL << 63; /* bit 63: never 0 */
}

/*
 * Length, second byte and last byte of the path d_path would give for `file`, for the pre-filters
 * in match_path. Inside the file's own mount the walk uses direct loads: two per component (its
 * parent and its name's length; only the file's own name and the top component's are read), where
 * bpf_d_path costs hundreds of instructions; above it, one probe read per component and per
 * mount. The last byte is read only when the policy has suffix rules (no other pre-filter looks
 * at it). Returns -1 whenever the answer might differ from d_path's string (a deleted file, a
 * pseudo file named by its filesystem, a name not stored inline where a byte of it is needed, a
 * long or deep path, an unknown layout): the caller then builds the path as before.
 *
 * The walk's answer for the file's directory is kept in the task's cache entry, so the next file
 * opened in the same directory (through the same mount, with the same root) costs no walk: the
 * entry holds while vt_path_gen is unchanged. That generation is read before the walk and is
 * bumped after any dentry moves, before any dentry is freed and after any mount tree changes, so
 * an entry that could be stale no longer matches: the directory and every dentry above it are
 * pinned while the file is open (each dentry holds its parent, each mount its mount point), so
 * the path can change only by a move, and an address can name another directory only after a
 * free. Only walks that ended at the task's root are kept (a walk that stopped at the top of
 * another mount tree depends on mounts that are not the task's).
 */
static __always_inline int path_facts(struct prot *p, struct file *file, struct path_facts *f)
{
	struct fs_struct *fs = p->task->fs;
	struct dentry *d = file->f_path.dentry, *root_d, *mroot, *parent, *top, *stop, *dir, *leaf;
	struct vfsmount *vm = file->f_path.mnt, *root_m;
	struct vt_task_cache *c = p->cache;
	/* 64-bit on purpose: no zero-extension in the loop, and no overflow before the final
	 * length check (at most FACTS_DIRECT_DEPTH names of at most 2^32 bytes each) */
	__u64 len, l, r, gen;
	int keep = 0; /* the walk ended at the task's root: its answer may be cached */

	if (!d || !vm || !fs)
		return -1;
	root_d = fs->root.dentry;
	root_m = fs->root.mnt;
	mroot = vm->mnt_root;
	/* inside the file's mount the walk ends at the task's root when that is in this mount (the
	 * usual case: a container's own files), else at the mount's root, where it crosses */
	stop = vm == root_m ? root_d : 0;
	if (d == stop) {
		f->len = 1;
		f->c1 = 0;
		f->last = '/';
		return 0;
	}
	parent = d->d_parent;
	/* A mount's root itself, or a pseudo file (pipes, sockets, anonymous inodes: the dentries
	 * that d_path asks their filesystem to name, d_op->d_dname, are all their own parent):
	 * left to d_path. Had a connected dentry a d_dname, d_path's name would not start with '/'
	 * and check_file would build the path from the names, whose facts these are. */
	if (d == mroot || d == parent)
		return -1;
	if (!d->d_hash.pprev)
		return -1; /* unlinked: d_path appends " (deleted)" */
	l = d->d_name.len;
	if (l == 0)
		return -1;
	f->last = 0;
	if (p->pol->table_mask & VT_T_PATH_SUFFIX) {
		/* the file's own name gives the last byte (an inline name is shorter than 32 bytes) */
		if (!name_inline(d))
			return -1;
		f->last = iname_word(d, (l - 1) >> 3) >> (((l - 1) & 7) * 8);
	}
	len = l + 1;
	top = leaf = d;
	dir = d = parent;

	gen = c ? path_gen_now() : 0;
	if (gen && c && c->pf_valid && c->pf_gen == gen && c->pf_dir == (__u64)dir && c->pf_mnt == (__u64)vm &&
	    c->pf_root_d == (__u64)root_d && c->pf_root_m == (__u64)root_m) {
		len += c->pf_len;
		if (c->pf_top_is_file)
			goto top_here; /* top is the file */
		f->c1 = c->pf_c1;
		goto out;
	}

	for (__u64 i = 1; i < FACTS_DIRECT_DEPTH; i++) {
		if (d == stop) {
			keep = 1;
			goto top_here;
		}
		if (d == mroot)
			goto cross;
		/* a disconnected dentry, its own parent, would loop here until the depth runs out */
		parent = d->d_parent;
		len += (__u64)d->d_name.len + 1;
		top = d;
		d = parent;
	}
	return -1;

cross: {
	struct scratch *s = scratch();
	__u64 mp, mpt, rd, rm, rmr;
	int at_top;
	if (!s || (!have_rdonly_cast && !dentry_head_layout_ok()))
		return -1; /* the probe-read walk reads struct dentry as a dentry_head */
	at_top = mount_up_by((__u64)vm - bpf_core_field_offset(struct mount, mnt), &mp, &mpt, have_rdonly_cast);
	if (at_top < 0)
		return -1;
	if (at_top)
		goto top_here; /* a mount outside the tree: d_path stops at its root too */
	rd = as_number(s, root_d);
	rm = as_number(s, root_m);
	rmr = as_number(s, root_m->mnt_root);
	if (have_rdonly_cast) /* as numbers: the cast walk gives mp and mpt as (untrusted) pointers */
		r = facts_above_mount_cast(as_number(s, (void *)mpt), as_number(s, (void *)mp), rd, rm, rmr);
	else
		r = facts_above_mount_probe(mpt, mp, rd, rm, rmr);
	if (r >> 63)
		return -1;
	keep = (r >> 48) & 1;
	len += r & 0xffffffff;
	if ((r >> 40) & 0xff) {
		f->c1 = r >> 32; /* components above the mount: the top one is there */
		top = 0;
		goto out;
	}
	goto top_here;
}

top_here:
	/* the top component is in the file's mount: its first byte */
	if (!name_inline(top))
		return -1;
	f->c1 = iname_word(top, 0);
out:
	if (len >= VT_PATH_MAX)
		return -1;
	f->len = len;
	if (keep && gen && c) { /* only this task reads its entry: no half-written state to hide */
		c->pf_dir = (__u64)dir;
		c->pf_mnt = (__u64)vm;
		c->pf_root_d = (__u64)root_d;
		c->pf_root_m = (__u64)root_m;
		c->pf_gen = gen;
		c->pf_len = len - (l + 1);
		c->pf_c1 = f->c1;
		c->pf_top_is_file = top == leaf;
		c->pf_valid = 1;
	}
	return 0;
}

/* Whether any of the policy's path tables could hold an entry for a path with these facts. */
static __always_inline int facts_may_match(struct vt_policy *pol, struct path_facts *f)
{
	return exact_may_hold(pol, f->len) || prefix_may_hold(pol, f->c1) || suffix_may_hold(pol, f->last);
}

/* LSM programs: the kernel's own d_path (one helper call instead of a walk), and only when the
 * path's facts pass a pre-filter; the walk remains for tracing programs, where bpf_d_path is not
 * allowed, and for paths d_path cannot give. */
static __always_inline int check_file(struct prot *p, struct file *file, __u32 want, __u16 hook, int lsm)
{
	struct scratch *s;
	if (!lsm)
		return check_path(p, BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry), want, hook);
	if (p->pol->mode != VT_MODE_RECORD) {
		struct path_facts f;
		if (!(p->pol->table_mask & (VT_T_PATH_EXACT | VT_T_PATH_PREFIX | VT_T_PATH_SUFFIX)))
			return 0;
		if (path_facts(p, file, &f) == 0 && !facts_may_match(p->pol, &f))
			return 0;
	}
	/* the scratch buffer only now: most opens end at the pre-filter above */
	s = scratch();
	if (!s)
		return 0;
	{
		long n = bpf_d_path(&file->f_path, s->path, VT_PATH_MAX);
		if (n > 1 && n <= VT_PATH_MAX && s->path[0] == '/') {
			s->len = n - 1;
			s->truncated = 0;
			return check_built(s, p, want, hook);
		}
	}
	return check_path(p, BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry), want, hook);
}

static __always_inline __u32 open_want(__u32 mode, __u32 flags)
{
	__u32 want = 0;
	if (mode & FMODE_READ)
		want |= VT_PERM_READ;
	if (mode & FMODE_WRITE)
		want |= (flags & O_APPEND) ? VT_PERM_APPEND : VT_PERM_WRITE;
	if (flags & (O_TRUNC | O_CREAT))
		want |= VT_PERM_WRITE;
	return want;
}

/* mode and flags: file->f_mode and f_flags, read by the caller (a direct load in LSM programs,
 * a probe read in tracing ones, whose file pointer is not typed) */
static __always_inline int do_file_open(struct file *file, __u32 mode, __u32 flags, int audit_only)
{
	struct prot p = {};
	__u32 want;
	/* The kernel's own second open behind an overlayfs file (open_with_fake_path, 6.1; a backing
	 * file since 6.6, still marked so): same path, flags and task as the open just checked, so
	 * the answer would be the same and an audited access would be reported twice. A container's
	 * root file system is an overlay mount, so this halves the cost of opening its own files. */
	if (mode & FMODE_NOACCOUNT)
		return 0;
	if (!protected_cg(&p, 0, audit_only))
		return 0;
	if (mode & FMODE_EXEC)
		return 0; /* the exec itself is checked by bprm rules */
	want = open_want(mode, flags);
	if (!want)
		return 0;
	return check_file(&p, file, want, VT_HOOK_FILE_OPEN, !audit_only);
}

static __always_inline int do_exec(struct file *file, int audit_only)
{
	struct prot p = {};
	if (!protected_cg(&p, 1, audit_only))
		return 0;
	if (!file)
		return 0;
	return check_file(&p, file, VT_PERM_EXEC, VT_HOOK_EXEC, !audit_only);
}

/* ---- network --------------------------------------------------------------------------- */

static __always_inline int do_socket_create(int family, int type, int protocol, int audit_only)
{
	struct prot p = {};
	struct vt_socket_key k = {};
	struct vt_log_event *e;
	__u32 deny = 0, audit = 0;
	int ret;

	if (!protected_cg(&p, 0, audit_only))
		return 0;
	type &= SOCK_TYPE_MASK;
	/* socket(AF_INET, SOCK_STREAM, 0) is TCP: rules name the protocol */
	if (protocol == 0 && (family == AF_INET || family == AF_INET6)) {
		if (type == SOCK_STREAM)
			protocol = IPPROTO_TCP;
		else if (type == SOCK_DGRAM)
			protocol = IPPROTO_UDP;
	}
	if (p.pol->table_mask & VT_T_SOCKET) {
		k.policy_id = p.policy_id;
		k.gen = p.pol->gen;
		for (int m = 0; m < 8; m++) {
			struct vt_action *a;
			k.family = (m & 1) ? VT_ANY : (__u32)family;
			k.type = (m & 2) ? VT_ANY : (__u32)type;
			k.protocol = (m & 4) ? VT_ANY : (__u32)protocol;
			a = bpf_map_lookup_elem(&vt_socket, &k);
			if (a) {
				deny |= a->deny;
				audit |= a->audit;
			}
		}
	}
	ret = decide(&p, deny, audit, VT_HOOK_SOCKET_CREATE, type, &e);
	if (e) {
		e->family = family;
		e->extra = protocol;
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

struct port_ctx {
	struct prot *p;
	__u64 bits;
	__u16 port;
	__u32 deny;
	__u32 audit;
};

static long port_cb(__u32 i, struct port_ctx *c)
{
	struct vt_index_key k = {};
	struct vt_net_ports *r;
	if (!(c->bits & (1ULL << (i & 63))))
		return 0;
	k.policy_id = c->p->policy_id;
	k.gen = c->p->pol->gen;
	k.index = i;
	r = bpf_map_lookup_elem(&vt_net_ports, &k);
	if (!r)
		return 0;
	for (int j = 0; j < VT_PORT_RANGES; j++) {
		if (j >= r->count)
			break;
		if (c->port >= r->ranges[j].lo && c->port <= r->ranges[j].hi) {
			c->deny |= r->deny;
			c->audit |= r->audit;
			break;
		}
	}
	return 0;
}

/* addr: 16 bytes in network order (IPv4 in the first 4); port in host order. */
static __always_inline int check_connect(struct prot *p, __u8 family, const __u8 *addr, __u16 port)
{
	struct scratch *s = scratch();
	struct vt_net_val *v;
	struct vt_log_event *e;
	__u32 deny = 0, audit = 0;
	int ret;

	if (!s)
		return 0;
	if (p->pol->table_mask & VT_T_NET) {
		__builtin_memset(&s->net, 0, sizeof(s->net));
		s->net.prefixlen = 96 + (family == AF_INET ? 32 : 128);
		s->net.policy_id = p->policy_id;
		s->net.gen = p->pol->gen;
		s->net.family = family;
		__builtin_memcpy(s->net.addr, addr, 16);
		v = bpf_map_lookup_elem(&vt_net, &s->net);
		if (v) {
			deny = v->deny;
			audit = v->audit;
			if (v->port_bits) {
				struct port_ctx c = { .p = p, .bits = v->port_bits, .port = port };
				bpf_loop(VT_MAX_PORT_RULES, port_cb, &c, 0);
				deny |= c.deny;
				audit |= c.audit;
			}
		}
	}
	ret = decide(p, deny, audit, VT_HOOK_SOCKET_CONNECT, 0, &e);
	if (e) {
		e->family = family;
		e->port = port;
		__builtin_memcpy(e->addr, addr, 16);
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

/* Normalise a kernel-side copy of a sockaddr and check it. */
static __always_inline int do_connect_sa(struct prot *p, __u16 fam, __u16 nport, const __u8 *a6)
{
	__u8 addr[16] = {};
	__u16 port = bpf_ntohs(nport);
	if (fam == AF_INET) {
		__builtin_memcpy(addr, a6, 4);
		return check_connect(p, AF_INET, addr, port);
	}
	__builtin_memcpy(addr, a6, 16);
	/* ::ffff:a.b.c.d reaches an IPv4 host: check it as IPv4 */
	if (!addr[0] && !addr[1] && !addr[2] && !addr[3] && !addr[4] && !addr[5] && !addr[6] && !addr[7] && !addr[8] &&
	    !addr[9] && addr[10] == 0xff && addr[11] == 0xff) {
		__u8 v4[16] = {};
		__builtin_memcpy(v4, &addr[12], 4);
		return check_connect(p, AF_INET, v4, port);
	}
	return check_connect(p, AF_INET6, addr, port);
}

static __always_inline int do_flag(__u32 flag, __u16 hook, __u32 detail, int audit_only)
{
	struct prot p = {};
	struct vt_log_event *e;
	int ret;
	if (!protected_cg(&p, 0, audit_only))
		return 0;
	ret = decide(&p, p.pol->flags_deny & flag, p.pol->flags_audit & flag, hook, detail, &e);
	if (e)
		bpf_ringbuf_submit(e, 0);
	return ret;
}

static __always_inline int do_setsockopt(int level, int optname, int audit_only)
{
	if (level != SOL_SOCKET)
		return 0;
	if (optname != SO_ATTACH_FILTER && optname != SO_ATTACH_BPF && optname != SO_ATTACH_REUSEPORT_CBPF &&
	    optname != SO_ATTACH_REUSEPORT_EBPF)
		return 0;
	return do_flag(VT_F_SOCK_FILTER_ATTACH, VT_HOOK_SETSOCKOPT, optname, audit_only);
}

/* ---- mounts ---------------------------------------------------------------------------- */

struct mount_ctx {
	struct scratch *s;
	struct prot *p;
	__u64 bits;
	__u32 flags;
	__u32 srclen;
	__u32 deny;
	__u32 audit;
};

static long mount_cb(__u32 i, struct mount_ctx *c)
{
	struct vt_index_key k = {};
	struct vt_mount_rule *r;
	struct scratch *s = c->s;
	__u32 len = c->srclen;

	if (!(c->bits & (1ULL << (i & 63))))
		return 0;
	k.policy_id = c->p->policy_id;
	k.gen = c->p->pol->gen;
	k.index = i;
	r = bpf_map_lookup_elem(&vt_mount_rule, &k);
	if (!r)
		return 0;
	if (c->flags == VT_MNT_UMOUNT) {
		if (!(r->flags & VT_MNT_UMOUNT))
			return 0; /* only rules naming umount confine it */
	} else if (!((c->flags & r->flags) || (~c->flags & r->reverse_flags))) {
		return 0;
	}
	if (!(r->pattern_flags & VT_MP_ANY)) {
		__u32 pl = r->prefix_len, sl = r->suffix_len;
		if (r->pattern_flags & VT_MP_EXACT) {
			if (len != pl)
				return 0;
		} else if (pl + sl > len) {
			return 0;
		}
		for (int j = 0; j < VT_MNT_PAT_MAX; j++) {
			if (j >= pl)
				break;
			if (s->path[j] != r->prefix[j])
				return 0;
		}
		if (r->pattern_flags & VT_MP_GLOB) {
			for (int j = 0; j < VT_MNT_PAT_MAX; j++) {
				if (j >= sl)
					break;
				if (s->path[(len - sl + j) & (PBUF - 1)] != r->suffix[j])
					return 0;
			}
		}
	}
	c->deny |= r->deny;
	c->audit |= r->audit;
	return 0;
}

/* s->path holds the source (length len), s->src the fstype. */
static __always_inline int check_mount(struct scratch *s, struct prot *p, __u32 len, __u32 flags, __u16 hook)
{
	struct vt_bits *b = 0;
	struct vt_log_event *e;
	__u32 deny = 0, audit = 0;
	int ret;

	if (p->pol->table_mask & VT_T_MOUNT) {
		__builtin_memset(&s->fs, 0, sizeof(s->fs));
		s->fs.policy_id = p->policy_id;
		s->fs.gen = p->pol->gen;
		bpf_probe_read_kernel_str(s->fs.fstype, VT_FSTYPE_MAX, s->src);
		b = bpf_map_lookup_elem(&vt_mount_fstype, &s->fs);
		if (!b) {
			__builtin_memset(s->fs.fstype, 0, VT_FSTYPE_MAX);
			s->fs.fstype[0] = '*';
			b = bpf_map_lookup_elem(&vt_mount_fstype, &s->fs);
		}
		if (b && b->bits) {
			struct mount_ctx c = { .s = s, .p = p, .bits = b->bits, .flags = flags, .srclen = len };
			bpf_loop(VT_MAX_MOUNT_RULES, mount_cb, &c, 0);
			deny = c.deny;
			audit = c.audit;
		}
	}
	ret = decide(p, deny, audit, hook, flags, &e);
	if (e) {
		/* "source\0fstype" */
		__u32 l = len & 127;
		bpf_probe_read_kernel_str(e->path, 128, s->path);
		bpf_probe_read_kernel_str(&e->path[(l + 1) & 255], VT_FSTYPE_MAX, s->src);
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

static __always_inline void set_none(struct scratch *s)
{
	s->src[0] = 'n';
	s->src[1] = 'o';
	s->src[2] = 'n';
	s->src[3] = 'e';
	s->src[4] = 0;
}

/* mount(2): strings already in kernel memory (LSM) or user memory (audit) */
static __always_inline int do_mount(const char *dev, const char *type, __u32 flags, int user, int audit_only)
{
	struct prot p = {};
	struct scratch *s;
	long n = 0;

	if (!protected_cg(&p, 0, audit_only))
		return 0;
	s = scratch();
	if (!s)
		return 0;
	s->path[0] = 0;
	if (dev)
		n = user ? bpf_probe_read_user_str(s->path, VT_PATH_MAX, dev) : bpf_probe_read_kernel_str(s->path, VT_PATH_MAX, dev);
	if (n < 1)
		n = 1;
	if (flags & (MS_REMOUNT | MS_BIND | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) {
		set_none(s);
	} else {
		s->src[0] = 0;
		if (type)
			user ? bpf_probe_read_user_str(s->src, VT_FSTYPE_MAX, type) : bpf_probe_read_kernel_str(s->src, VT_FSTYPE_MAX, type);
	}
	return check_mount(s, &p, (__u32)(n - 1) & 255, flags, VT_HOOK_MOUNT);
}

static __always_inline int do_mount_path(struct vfsmount *mnt, struct dentry *d, __u32 flags, __u16 hook)
{
	struct prot p = {};
	struct scratch *s;
	int n;
	if (!protected_cg(&p, 0, 0))
		return 0;
	s = scratch();
	if (!s)
		return 0;
	n = build_path(s, mnt, d);
	if (n < 0)
		return 0;
	set_none(s);
	return check_mount(s, &p, (__u32)n & 255, flags, hook);
}

/* ---- ptrace / capabilities -------------------------------------------------------------- */

static __always_inline __u32 task_mnt_ns(struct task_struct *t)
{
	return BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
}

/* Binding of another task: its default-hierarchy cgroup or an ancestor. */
static __always_inline struct vt_binding *task_binding(struct task_struct *t, __u64 *cgid)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	for (int i = 0; i < VT_MAX_CGROUP_LEVELS; i++) {
		__u64 id;
		struct vt_binding *b;
		if (!cg)
			break;
		id = BPF_CORE_READ(cg, kn, id);
		b = bpf_map_lookup_elem(&vt_bindings, &id);
		if (b) {
			*cgid = id;
			return b;
		}
		cg = (struct cgroup *)BPF_CORE_READ(cg, self.parent);
	}
	return 0;
}

static __always_inline int do_ptrace(struct task_struct *child, __u32 mode)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	__u32 want = 0, cur_ns = task_mnt_ns(cur), child_ns = task_mnt_ns(child);
	struct prot p = {};
	struct vt_log_event *e;
	int ret;

	if (mode & PTRACE_MODE_ATTACH)
		want |= VT_PT_TRACE;
	if (mode & PTRACE_MODE_READ)
		want |= VT_PT_READ;
	/* tracer side */
	if (protected_cg(&p, 0, 0)) {
		__u32 deny = p.pol->ptrace_deny & want, audit = p.pol->ptrace_audit & want;
		if (!(p.pol->ptrace_flags & VT_PT_STRICT) && cur_ns == child_ns)
			deny = audit = 0; /* same container: allowed unless strict */
		ret = decide(&p, deny, audit, VT_HOOK_PTRACE, want, &e);
		if (e) {
			e->extra = BPF_CORE_READ(child, tgid);
			bpf_ringbuf_submit(e, 0);
		}
		if (ret)
			return ret;
	}
	/* tracee side: traceby / readby */
	{
		struct prot q = {};
		struct vt_binding *b = task_binding(child, &q.cgid);
		__u32 by = 0, deny, audit;
		if (!b || (b->flags & VT_BIND_ARM_ON_EXEC))
			return 0;
		q.policy_id = b->policy_id;
		q.pol = bpf_map_lookup_elem(&vt_policies, &q.policy_id);
		if (!q.pol)
			return 0;
		if (init_mnt_ns && cur_ns == init_mnt_ns)
			return 0; /* host tools */
		if (want & VT_PT_TRACE)
			by |= VT_PT_TRACEBY;
		if (want & VT_PT_READ)
			by |= VT_PT_READBY;
		deny = q.pol->ptrace_deny & by;
		audit = q.pol->ptrace_audit & by;
		if (!(q.pol->ptrace_flags & VT_PT_STRICT) && cur_ns == child_ns)
			deny = audit = 0;
		ret = decide(&q, deny, audit, VT_HOOK_PTRACE, by, &e);
		if (e) {
			e->extra = BPF_CORE_READ(child, tgid);
			bpf_ringbuf_submit(e, 0);
		}
		return ret;
	}
}

static __always_inline int do_capable(int cap, __u32 opts)
{
	struct prot p = {};
	struct vt_log_event *e;
	__u64 bit;
	int ret;
	if (cap < 0 || cap > 63)
		return 0;
	if (!protected_cg(&p, 0, 0))
		return 0;
	bit = 1ULL << cap;
	if (p.pol->mode == VT_MODE_RECORD && (opts & CAP_OPT_NOAUDIT))
		return 0;
	ret = decide(&p, (p.pol->cap_deny & bit) ? 1 : 0, (p.pol->cap_audit & bit) ? 1 : 0, VT_HOOK_CAPABLE, cap, &e);
	if (e) {
		if (opts & CAP_OPT_NOAUDIT)
			bpf_ringbuf_discard(e, 0); /* a probe, not an attempt: deny quietly */
		else
			bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

/* ==== LSM programs (enforce) ============================================================= */

SEC("lsm/file_open")
int BPF_PROG(vt_lsm_file_open, struct file *file)
{
	return do_file_open(file, file->f_mode, file->f_flags, 0);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(vt_lsm_bprm_check, struct linux_binprm *bprm)
{
	return do_exec(bprm->file, 0);
}

SEC("lsm/path_unlink")
int BPF_PROG(vt_lsm_path_unlink, const struct path *dir, struct dentry *dentry)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(dir, mnt), dentry, VT_PERM_WRITE, VT_HOOK_PATH_UNLINK);
}

SEC("lsm/path_rename")
int BPF_PROG(vt_lsm_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry)
{
	struct prot p = {};
	int ret;
	if (!protected_cg(&p, 0, 0))
		return 0;
	/* moving a file away lets it be read elsewhere and removes it here */
	ret = check_path(&p, BPF_CORE_READ(old_dir, mnt), old_dentry, VT_PERM_READ | VT_PERM_WRITE, VT_HOOK_PATH_RENAME);
	if (ret)
		return ret;
	return check_path(&p, BPF_CORE_READ(new_dir, mnt), new_dentry, VT_PERM_WRITE, VT_HOOK_PATH_RENAME);
}

SEC("lsm/path_link")
int BPF_PROG(vt_lsm_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	struct prot p = {};
	struct vfsmount *mnt;
	int ret;
	if (!protected_cg(&p, 0, 0))
		return 0;
	mnt = BPF_CORE_READ(new_dir, mnt); /* hard links never cross mounts */
	ret = check_path(&p, mnt, old_dentry, VT_PERM_READ | VT_PERM_WRITE, VT_HOOK_PATH_LINK);
	if (ret)
		return ret;
	return check_path(&p, mnt, new_dentry, VT_PERM_WRITE, VT_HOOK_PATH_LINK);
}

SEC("lsm/path_symlink")
int BPF_PROG(vt_lsm_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(dir, mnt), dentry, VT_PERM_WRITE, VT_HOOK_PATH_SYMLINK);
}

SEC("lsm/path_truncate")
int BPF_PROG(vt_lsm_path_truncate, const struct path *path)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(path, mnt), BPF_CORE_READ(path, dentry), VT_PERM_WRITE, VT_HOOK_PATH_TRUNCATE);
}

SEC("lsm/path_chmod")
int BPF_PROG(vt_lsm_path_chmod, const struct path *path, umode_t mode)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(path, mnt), BPF_CORE_READ(path, dentry), VT_PERM_WRITE, VT_HOOK_PATH_CHMOD);
}

SEC("lsm/capable")
int BPF_PROG(vt_lsm_capable, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts)
{
	return do_capable(cap, opts);
}

SEC("lsm/socket_create")
int BPF_PROG(vt_lsm_socket_create, int family, int type, int protocol, int kern)
{
	if (kern)
		return 0;
	return do_socket_create(family, type, protocol, 0);
}

SEC("lsm/socket_connect")
int BPF_PROG(vt_lsm_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	struct prot p = {};
	__u16 fam = 0, port = 0;
	__u8 a[16] = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	/* direct loads: address is typed (struct sockaddr, 16 bytes, which covers sockaddr_in) */
	fam = address->sa_family;
	if (fam == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)address;
		port = in->sin_port;
		*(__u32 *)a = in->sin_addr.s_addr;
	} else if (fam == AF_INET6 && addrlen >= (int)sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)address;
		bpf_probe_read_kernel(&port, 2, &in6->sin6_port);
		bpf_probe_read_kernel(a, 16, &in6->sin6_addr);
	} else {
		return 0;
	}
	return do_connect_sa(&p, fam, port, a);
}

SEC("lsm/socket_setsockopt")
int BPF_PROG(vt_lsm_setsockopt, struct socket *sock, int level, int optname)
{
	return do_setsockopt(level, optname, 0);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(vt_lsm_ptrace, struct task_struct *child, unsigned int mode)
{
	return do_ptrace(child, mode);
}

SEC("lsm/sb_mount")
int BPF_PROG(vt_lsm_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags)
{
	return do_mount(dev_name, type, (__u32)flags, 0, 0);
}

SEC("lsm/sb_umount")
int BPF_PROG(vt_lsm_sb_umount, struct vfsmount *mnt, int flags)
{
	return do_mount_path(mnt, BPF_CORE_READ(mnt, mnt_root), VT_MNT_UMOUNT, VT_HOOK_UMOUNT);
}

SEC("lsm/move_mount")
int BPF_PROG(vt_lsm_move_mount, const struct path *from_path, const struct path *to_path)
{
	return do_mount_path(BPF_CORE_READ(from_path, mnt), BPF_CORE_READ(from_path, dentry), MS_MOVE, VT_HOOK_MOVE_MOUNT);
}

SEC("lsm/bpf")
int BPF_PROG(vt_lsm_bpf, int cmd)
{
	if (cmd != BPF_PROG_LOAD_CMD)
		return 0;
	return do_flag(VT_F_BPF_PROG_LOAD, VT_HOOK_BPF, cmd, 0);
}

SEC("lsm/userns_create")
int BPF_PROG(vt_lsm_userns_create, const struct cred *cred)
{
	return do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 0);
}

/* ==== audit programs (tp_btf): same maps and matching, report only ======================== */
/* x86_64 syscall numbers */
#define NR_open 2
#define NR_creat 85
#define NR_openat 257
#define NR_openat2 437
#define NR_socket 41
#define NR_connect 42
#define NR_setsockopt 54
#define NR_clone 56
#define NR_mount 165
#define NR_unshare 272
#define NR_bpf 321
#define NR_clone3 435

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vt_audit_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	do_exec(BPF_CORE_READ(bprm, file), 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(vt_audit_sys_enter, struct pt_regs *regs, long id)
{
	unsigned long a0 = BPF_CORE_READ(regs, di), a1 = BPF_CORE_READ(regs, si), a2 = BPF_CORE_READ(regs, dx);

	switch (id) {
	case NR_socket:
		do_socket_create((int)a0, (int)a1, (int)a2, 1);
		break;
	case NR_connect: {
		struct prot p = {};
		struct sockaddr_in6 sa = {};
		if (!protected_cg(&p, 0, 1))
			break;
		if (a2 >= sizeof(struct sockaddr_in6)) {
			if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in6), (void *)a1))
				break;
		} else if (a2 >= sizeof(struct sockaddr_in)) {
			if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), (void *)a1))
				break;
		} else {
			break;
		}
		if (sa.sin6_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&sa;
			do_connect_sa(&p, AF_INET, in->sin_port, (const __u8 *)&in->sin_addr);
		} else if (sa.sin6_family == AF_INET6) {
			do_connect_sa(&p, AF_INET6, sa.sin6_port, (const __u8 *)&sa.sin6_addr);
		}
		break;
	}
	case NR_setsockopt:
		do_setsockopt((int)a1, (int)a2, 1);
		break;
	case NR_mount:
		do_mount((const char *)a0, (const char *)a2, (__u32)BPF_CORE_READ(regs, r10), 1, 1);
		break;
	case NR_unshare:
		if (a0 & CLONE_NEWUSER)
			do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 1);
		break;
	case NR_clone:
		if (a0 & CLONE_NEWUSER)
			do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 1);
		break;
	case NR_clone3: {
		__u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (void *)a0);
		if (flags & CLONE_NEWUSER)
			do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 1);
		break;
	}
	case NR_bpf:
		if (a0 == BPF_PROG_LOAD_CMD)
			do_flag(VT_F_BPF_PROG_LOAD, VT_HOOK_BPF, (__u32)a0, 1);
		break;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vt_audit_sys_exit, struct pt_regs *regs, long ret)
{
	long id = BPF_CORE_READ(regs, orig_ax);
	struct task_struct *task;
	struct file **fds;
	struct file *f = 0;
	unsigned int max;

	if (ret < 0 || (id != NR_open && id != NR_openat && id != NR_openat2 && id != NR_creat))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if ((unsigned long)ret >= max)
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[ret]);
	if (f)
		do_file_open(f, BPF_CORE_READ(f, f_mode), BPF_CORE_READ(f, f_flags), 1);
	return 0;
}

/* ---- path-fact cache invalidation (loaded in enforce mode when the kernel has the functions) */

static __always_inline void path_gen_bump(void)
{
	__u32 zero = 0;
	struct vt_path_gen_val *g = bpf_map_lookup_elem(&vt_path_gen, &zero);
	if (g)
		__sync_fetch_and_add(&g->gen, 1);
}

/* Every dentry move (d_move, d_exchange, and a directory alias moved by d_splice_alias) goes
 * through __d_move; after it returns the new name and parent are in place. */
SEC("fexit/__d_move")
int BPF_PROG(vt_gen_d_move, struct dentry *dentry, struct dentry *target, bool exchange)
{
	path_gen_bump();
	return 0;
}

/* A dentry's memory is freed by these RCU callbacks (the direct call for never-shared dentries
 * frees pseudo files, which path_facts never caches); this runs before the free. */
SEC("fentry/__d_free")
int BPF_PROG(vt_gen_d_free, struct callback_head *head)
{
	path_gen_bump();
	return 0;
}

SEC("fentry/__d_free_external")
int BPF_PROG(vt_gen_d_free_external, struct callback_head *head)
{
	path_gen_bump();
	return 0;
}

/* Every change of a mount tree (mount, bind, move, umount, pivot_root, propagation, expiry,
 * namespace teardown) is made under namespace_sem, which namespace_unlock releases. */
SEC("fentry/namespace_unlock")
int BPF_PROG(vt_gen_ns_unlock)
{
	path_gen_bump();
	return 0;
}
