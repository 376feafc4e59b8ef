/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Is the current task protected? Its cgroup (or an ancestor) resolved to a binding and a
 * policy, cached per task in vt_task_cache.
 */
#ifndef VT_POLICY_H
#define VT_POLICY_H

#include "maps.h"

/* Who is acting: the bound cgroup and its policy. */
struct prot {
	__u64 cgid;
	__u32 policy_id;
	__u32 audit_only; /* program family: 1 = tp_btf (cannot deny) */
	struct vt_policy *pol;
	struct task_struct *task; /* current, kept so later steps need not ask the helper again */
	struct vt_task_cache *cache; /* the task's cache entry, when it has one */
};

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

#endif /* VT_POLICY_H */
