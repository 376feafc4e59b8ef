/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptrace: the tracer side and the tracee side, judged by the other task's binding.
 */
#ifndef VT_PTRACE_H
#define VT_PTRACE_H

#include "events.h"

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

#endif /* VT_PTRACE_H */
