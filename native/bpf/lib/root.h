/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The root paths are judged from: the container's, i.e. the root of the task's mount namespace,
 * whatever root the task has taken since (chroot is a default capability, issue 17 road 1).
 * bpf_d_path and the pre-filter facts give the path from the task's own root, so the LSM file
 * hooks take them only when that root is the container's (the usual case, answered from the
 * task's cache entry); otherwise the walk builds the path up to the namespace's root.
 */
#ifndef VT_ROOT_H
#define VT_ROOT_H

#include "policy.h"

#define ROOT_MOUNT_DEPTH 4 /* mounts stacked on the namespace's root mount (rootfs, then the image) */

/* The root of the task's mount namespace: the top of its mount tree. A walk that stops there
 * gives the container-absolute path (mounts stacked on "/" add no component). */
static __always_inline void ns_root(struct task_struct *task, struct dentry **d, struct vfsmount **m)
{
	struct mount *r = BPF_CORE_READ(task, nsproxy, mnt_ns, root);
	*m = r ? &r->mnt : 0;
	*d = r ? BPF_CORE_READ(r, mnt.mnt_root) : 0;
}

/* struct fs_struct's seq: a seqcount_spinlock_t with its own lock beside it in older kernels, a
 * seqlock_t in newer ones (CO-RE picks; the sequence comes first in either). */
struct fs_struct___seqcount {
	seqcount_spinlock_t seq;
} __attribute__((preserve_access_index));

struct fs_struct___seqlock {
	seqlock_t seq;
} __attribute__((preserve_access_index));

/* fs->seq, bumped around every change of the task's root (set_fs_root): odd while one is made. */
static __always_inline __u32 fs_seq(struct fs_struct *fs)
{
	__u64 off = CORE_OFFSET_EITHER(struct fs_struct___seqcount, seq, struct fs_struct___seqlock, seq);
	return *(volatile __u32 *)((void *)fs + off);
}

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

/* Whether (root_d, root_m) names the same directory as the namespace's root: the root of its
 * mount, and that mount stacked on the root of its parent, up to the namespace's root mount. */
static __always_inline int root_is_ns_root(struct dentry *root_d, struct vfsmount *root_m, __u64 nsroot)
{
	__u64 mm, parent, mp, proot;
	if (!root_m || root_d != root_m->mnt_root)
		return 0;
	mm = (__u64)root_m - bpf_core_field_offset(struct mount, mnt);
	for (int i = 0; i < ROOT_MOUNT_DEPTH; i++) {
		if (mm == nsroot)
			return 1;
		if (mount_up(mm, &parent, &mp))
			return 0; /* a read failed, or the top of another tree (a detached mount) */
		if (bpf_probe_read_kernel(&proot, sizeof(proot),
					  (void *)(parent + bpf_core_field_offset(struct mount, mnt) +
						   bpf_core_field_offset(struct vfsmount, mnt_root))))
			return 0;
		if (mp != proot)
			return 0; /* mounted on a directory below its parent's root */
		mm = parent;
	}
	return 0;
}

/*
 * root_is_ns_root for the task's fs_struct as it is at sequence `seq`, kept in the task's cache
 * entry. Every change of the root (chroot, pivot_root, setns, set_fs_root in general) bumps
 * fs->seq, and unshare(CLONE_FS) gives a copy (same root) at another address, so the answer
 * holds while both are the same. A mount change alone cannot make a root that was the
 * namespace's stop being one, except by detaching it, after which d_path from the task's root
 * and the walk to the top of its tree give the same path anyway.
 */
static __always_inline int root_is_container_root(struct prot *p, struct fs_struct *fs, __u32 seq)
{
	struct vt_task_cache *c = p->cache;
	struct mnt_namespace *ns;
	int ok;

	if (c && c->rt_valid && c->rt_fs == (__u64)fs && c->rt_seq == seq)
		return c->rt_ok;
	ns = p->task->nsproxy->mnt_ns;
	if (!ns)
		return 0;
	ok = root_is_ns_root(fs->root.dentry, fs->root.mnt, (__u64)ns->root);
	if (c) {
		c->rt_fs = (__u64)fs;
		c->rt_seq = seq;
		c->rt_ok = ok;
		c->rt_valid = 1;
	}
	return ok;
}

#endif /* VT_ROOT_H */
