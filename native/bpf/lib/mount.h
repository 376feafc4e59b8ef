/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mounts: mount(2), umount and move_mount judged by fstype, source pattern and flags.
 */
#ifndef VT_MOUNT_H
#define VT_MOUNT_H

#include "path.h"

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

/* A mount whose rules cannot be checked (no scratch buffer free, a path too deep) fails closed
 * where the policy has mount rules; recorded, not denied, in record mode. */
static __always_inline int mount_unresolved(struct scratch *s, struct prot *p, __u16 hook, __u32 reason)
{
	if (p->pol->mode == VT_MODE_RECORD || !(p->pol->table_mask & VT_T_MOUNT))
		return 0;
	return unresolved(s, p, 0, hook, reason);
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
	int ret;

	if (!protected_cg(&p, 0, audit_only))
		return 0;
	s = scratch_get();
	if (!s)
		return mount_unresolved(0, &p, VT_HOOK_MOUNT, VT_REASON_BUSY);
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
	ret = check_mount(s, &p, (__u32)(n - 1) & 255, flags, VT_HOOK_MOUNT);
	scratch_put(s);
	return ret;
}

static __always_inline int do_mount_path(struct vfsmount *mnt, struct dentry *d, __u32 flags, __u16 hook)
{
	struct prot p = {};
	struct scratch *s;
	int n, ret;
	if (!protected_cg(&p, 0, 0))
		return 0;
	s = scratch_get();
	if (!s)
		return mount_unresolved(0, &p, hook, VT_REASON_BUSY);
	n = build_path(s, mnt, d);
	if (n < 0) {
		/* deeper than the walk goes: the mount rules cannot be checked */
		ret = mount_unresolved(s, &p, hook, VT_REASON_PATH_DEEP);
	} else {
		set_none(s);
		ret = check_mount(s, &p, (__u32)n & 255, flags, hook);
	}
	scratch_put(s);
	return ret;
}

#endif /* VT_MOUNT_H */
