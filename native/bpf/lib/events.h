/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decision table (vArmor's) and the ring-buffer records it writes; do_flag, the decision
 * on a policy flag (userns, bpf, socket filters).
 */
#ifndef VT_EVENTS_H
#define VT_EVENTS_H

#include "policy.h"

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

#endif /* VT_EVENTS_H */
