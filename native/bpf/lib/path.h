/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Paths: the dentry walk that builds a path from the task's root (crossing mounts), and the
 * matching of a built path against the exact, prefix, suffix and glob tables.
 */
#ifndef VT_PATH_H
#define VT_PATH_H

#include "events.h"
#include "root.h"

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
	if (d == c->root_d && vm == c->root_m) {
		c->s->walk_done = 1;
		return 1;
	}
	mroot = BPF_CORE_READ(vm, mnt_root);
	parent = BPF_CORE_READ(d, d_parent);
	if (d == mroot || d == parent) {
		__u64 mp, mpt;
		int top = mount_up((__u64)m, &mp, &mpt);
		if (top) {
			c->s->walk_done = top > 0;
			c->err = top < 0;
			return 1;
		}
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

#define VT_PATH_UNRESOLVED -2 /* build_path: deeper than VT_MAX_DEPTH, or a name unreadable */

/* Build the path of (vfsmnt, dentry) from the container's root (its mount namespace's root, not
 * the task's own, which chroot moves), into s->path. */
static __always_inline int build_path(struct scratch *s, struct vfsmount *vfsmnt, struct dentry *dentry)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct walk_ctx c = {
		.s = s,
		.d = dentry,
		.vfsmnt = vfsmnt,
		.mnt = container_of(vfsmnt, struct mount, mnt),
	};
	__u32 off, l;

	ns_root(task, &c.root_d, &c.root_m);
	s->truncated = 0;
	/* the file's own name's last byte: a suffix rule's first test when the path is cut short */
	l = BPF_CORE_READ(dentry, d_name.len);
	s->leaf_last = 0;
	if (l)
		bpf_probe_read_kernel(&s->leaf_last, 1, BPF_CORE_READ(dentry, d_name.name) + ((l - 1) & 255));
	/* the flag in the map, the counters from unknown_zero: see there */
	s->walk_done = 0;
	c.n = unknown_zero(s);
	c.off = c.n;
	c.err = c.n;
	bpf_loop(VT_MAX_DEPTH + 16, walk_cb, &c, 0);
	if (c.err || !s->walk_done)
		return VT_PATH_UNRESOLVED;
	if (c.n == 0) {
		s->path[0] = '/';
		s->path[1] = 0;
		s->len = 1;
		s->base = 1;
		return 1;
	}
	bpf_loop(VT_MAX_DEPTH, join_cb, &c, 0);
	if (c.err)
		return VT_PATH_UNRESOLVED;
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

/* The scans of one glob, each a bpf_loop callback of its own: inline loops with data-dependent
 * exits multiply the verifier's states across them (a 6.18 verifier gave up on vt_audit_exec). */
struct scan_ctx {
	struct scratch *s;
	const char *base_prefix; /* the glob's (compare) */
	__u32 from;  /* first index (slash scan, compare) */
	__u32 end;   /* one past the last index / the path length (last-slash scan) / base_len */
	__u32 found; /* slash scan: a '/' seen; last-slash: index after it; compare: a mismatch */
};

/* A '/' in [from, end)? */
static long slash_in_cb(__u32 i, struct scan_ctx *c)
{
	__u32 at = c->from + i;
	if (at >= c->end)
		return 1;
	if (c->s->path[BOUND(at, 511)] == '/') {
		c->found = 1;
		return 1;
	}
	return 0;
}

/* Where the file name starts: after the last '/' of the first `end` bytes (0 when none). */
static long last_slash_cb(__u32 i, struct scan_ctx *c)
{
	__u32 at = c->end - 1 - i;
	if (i >= c->end)
		return 1;
	if (c->s->path[BOUND(at, 511)] == '/') {
		c->found = at + 1;
		return 1;
	}
	return 0;
}

/* Does the path at `from` start with the end bytes of base_prefix? */
static long prefix_cmp_cb(__u32 i, struct scan_ctx *c)
{
	if (i >= c->end || i >= VT_GLOB_BASE_MAX)
		return 1;
	if (c->s->path[BOUND(c->from + i, 511)] != c->base_prefix[BOUND(i, 63)]) {
		c->found = 1;
		return 1;
	}
	return 0;
}

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
		/* no '/' in [plen, end) */
		struct scan_ctx sc = { .s = s, .from = plen, .end = end };
		bpf_loop(VT_PATH_MAX, slash_in_cb, &sc, 0);
		if (sc.found)
			return 0;
	}
	if (g->flags & VT_GLOB_BASENAME) {
		struct scan_ctx last = { .s = s, .end = len };
		struct scan_ctx cmp = { .s = s, .base_prefix = g->base_prefix };
		__u32 base, blen = g->base_len;
		bpf_loop(VT_PATH_MAX, last_slash_cb, &last, 0);
		base = last.found;
		if (base + blen + slen > len)
			return 0;
		cmp.from = base;
		cmp.end = blen;
		bpf_loop(VT_GLOB_BASE_MAX, prefix_cmp_cb, &cmp, 0);
		if (cmp.found)
			return 0;
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

/*
 * A path the policy's rules cannot be checked against fails closed (issue 17, road 3): denied
 * and reported with the reason in the event's `extra`, with what was built of the path (its
 * first bytes when too long, nothing when too deep). Record mode only reports.
 */
static __always_inline int unresolved(struct scratch *s, struct prot *p, __u32 want, __u16 hook, __u32 reason)
{
	struct vt_log_event *e;
	int ret = decide(p, want, want, hook, want, &e);
	if (e) {
		e->extra = reason;
		if (s && reason == VT_REASON_PATH_LONG)
			bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->path);
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

/* s->path (built or read, s->len bytes, s->truncated) against the ancestor table. No entry is
 * longer than VT_PATH_MAX-1 bytes, so a truncated path is no ancestor. */
static __always_inline void match_ancestor(struct scratch *s, struct prot *p, struct vt_action *out)
{
	struct vt_action *a;
	out->deny = 0;
	out->audit = 0;
	if (!(p->pol->table_mask & VT_T_PATH_ANCESTOR) || s->truncated)
		return;
	__builtin_memset(&s->exact, 0, sizeof(s->exact));
	s->exact.policy_id = p->policy_id;
	s->exact.gen = p->pol->gen;
	bpf_probe_read_kernel_str(s->exact.path, VT_PATH_MAX, s->path);
	a = bpf_map_lookup_elem(&vt_path_ancestor, &s->exact);
	if (a) {
		out->deny = a->deny;
		out->audit = a->audit;
	}
}

/*
 * Check a built path for permission `want` of the rules matching it and, for an entry that moves
 * or is replaced (lib/ancestor.h), `below` of the rules below it (0: none; the constant drops the
 * ancestor lookup from the inlined code). One decision, at most one event, with the path.
 */
static __always_inline int check_built(struct scratch *s, struct prot *p, __u32 want, __u32 below, __u16 hook)
{
	struct vt_action a, b = {};
	struct vt_log_event *e;
	int ret;

	/* cut at the buffer: exact rules cannot match it (they are shorter), prefix rules are
	 * checked on its first bytes, a suffix rule (or a glob, which has a suffix entry too)
	 * cannot be: if one might end with the file's last byte, the open fails closed (no
	 * ancestor is that long) */
	if (s->truncated && p->pol->mode != VT_MODE_RECORD && suffix_may_hold(p->pol, s->leaf_last))
		return unresolved(s, p, want, hook, VT_REASON_PATH_LONG);
	match_path(s, p, &a);
	if (below)
		match_ancestor(s, p, &b);
	ret = decide(p, (a.deny & want) | (b.deny & below), (a.audit & want) | (b.audit & below), hook, want, &e);
	if (e) {
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->path);
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
}

/* Build the path of (mnt, d) and check_built it. */
static __always_inline int check_path(struct prot *p, struct vfsmount *mnt, struct dentry *d, __u32 want, __u32 below,
				      __u16 hook)
{
	__u32 tables = VT_T_PATH_EXACT | VT_T_PATH_PREFIX | VT_T_PATH_SUFFIX | (below ? VT_T_PATH_ANCESTOR : 0);
	struct scratch *s;
	int ret;
	if (!mnt || !d)
		return 0;
	if (p->pol->mode != VT_MODE_RECORD && !(p->pol->table_mask & tables))
		return 0;
	s = scratch_get();
	if (!s)
		return unresolved(0, p, want | below, hook, VT_REASON_BUSY);
	if (build_path(s, mnt, d) < 0)
		/* deeper than the walk goes: no rule of any kind can be checked */
		ret = p->pol->mode == VT_MODE_RECORD ? 0 : unresolved(s, p, want | below, hook, VT_REASON_PATH_DEEP);
	else
		ret = check_built(s, p, want, below, hook);
	scratch_put(s);
	return ret;
}

#endif /* VT_PATH_H */
