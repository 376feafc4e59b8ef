/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Capabilities: the capable hook against the policy's capability masks.
 */
#ifndef VT_CAPS_H
#define VT_CAPS_H

#include "events.h"

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

#endif /* VT_CAPS_H */
