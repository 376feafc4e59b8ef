/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Moving a tree: a rename (or exchange) of a directory, mount --move, a bind mount, or a mount
 * over a directory. path_rename and the mount hooks judge the entry itself with the file tables,
 * but the files below it would reach a path no rule names (`mv /data /d2` escapes
 * "/data/secret/STARSTAR"), so the entry is also looked up in vt_path_ancestor: the directories
 * above (or equal to) a protected literal, with the masks of the rules below them (built by the
 * compiler, see varmor_tables.h). Moved away or bound elsewhere: any rule below is defeated.
 * Mounted over (or renamed over): only write rules are (the content is replaced, not revealed).
 */
#ifndef VT_ANCESTOR_H
#define VT_ANCESTOR_H

#include "path.h"

#define VT_RENAME_EXCHANGE (1 << 1) /* include/uapi/linux/fs.h */
#define VT_PERM_ALL (VT_PERM_EXEC | VT_PERM_WRITE | VT_PERM_READ | VT_PERM_APPEND)
#define VT_T_PATHS (VT_T_PATH_EXACT | VT_T_PATH_PREFIX | VT_T_PATH_SUFFIX | VT_T_PATH_ANCESTOR)

struct canon_ctx {
	struct scratch *s;
	__u32 len;
	int bad;
};

/* A "//", "/./" or "/../" (or a trailing "/." or "/..") at byte i. */
static long canon_cb(__u32 i, struct canon_ctx *c)
{
	char *p = c->s->path;
	char n1, n2, n3;
	if (i >= c->len)
		return 1;
	if (p[i & (PBUF - 1)] != '/')
		return 0;
	n1 = p[(i + 1) & (PBUF - 1)];
	if (n1 == '/') {
		c->bad = 1;
		return 1;
	}
	if (n1 != '.')
		return 0;
	n2 = p[(i + 2) & (PBUF - 1)];
	n3 = n2 == '.' ? p[(i + 3) & (PBUF - 1)] : 0;
	if (n2 == '/' || n2 == 0 || (n2 == '.' && (n3 == '/' || n3 == 0))) {
		c->bad = 1;
		return 1;
	}
	return 0;
}

/*
 * The source of mount(2) --bind / --move is a string the kernel resolves after the hook, from
 * the task's root (ours are from the container's: a chrooted task's source is denied). A plain absolute path is judged as a moved tree; any other
 * form (relative, ".", "..", "//", longer than the buffer) cannot be looked up, and is denied
 * when the policy has ancestors. A symlink in the string is not seen (documented limit: the mount
 * rules, or no CAP_SYS_ADMIN, close that road).
 */
static __always_inline int check_mount_source(struct scratch *s, struct prot *p, const char *dev)
{
	struct canon_ctx c = { .s = s };
	struct fs_struct *fs = p->task->fs;
	struct vt_log_event *e;
	__u32 anc = p->pol->table_mask & VT_T_PATH_ANCESTOR;
	long n;
	int ret;

	n = bpf_probe_read_kernel_str(s->path, VT_PATH_MAX, dev);
	if (n < 1)
		return 0;
	c.bad = unknown_zero(s);
	c.len = (__u32)(n - 1) & 511;
	s->truncated = n >= VT_PATH_MAX;
	/* the kernel resolves the string from the task's root: as the container's paths only when
	 * that root is the container's (a chrooted task's "/data" is another directory) */
	if (c.len == 0 || s->path[0] != '/' || s->truncated || !fs || !root_is_container_root(p, fs, fs_seq(fs)))
		c.bad = 1;
	else
		bpf_loop(VT_PATH_MAX, canon_cb, &c, 0);
	if (c.bad) {
		if (!anc)
			return 0;
		ret = decide(p, VT_PERM_ALL, VT_PERM_ALL, VT_HOOK_MOUNT, VT_PERM_ALL, &e);
		if (e) {
			bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->path);
			bpf_ringbuf_submit(e, 0);
		}
		return ret;
	}
	if (c.len > 1 && s->path[(c.len - 1) & (PBUF - 1)] == '/') { /* "/data/" is "/data" */
		c.len--;
		s->path[c.len & (PBUF - 1)] = 0;
	}
	s->len = c.len;
	return check_built(s, p, VT_PERM_READ | VT_PERM_WRITE, VT_PERM_ALL, VT_HOOK_MOUNT);
}

/*
 * mount(2) (after do_mount's fstype/flags rules): the source of a bind or a move is a tree moved
 * elsewhere, the mount point (of a bind, a move or a new mount) a tree replaced. Remounts and
 * propagation changes move nothing (the kernel takes MS_REMOUNT first, then MS_BIND, then the
 * propagation flags, then MS_MOVE).
 */
static __always_inline int do_mount_tree(const char *dev, const struct path *to, __u32 flags)
{
	struct prot p = {};
	struct scratch *s;
	int ret;

	if (flags & MS_REMOUNT)
		return 0;
	if (!(flags & MS_BIND) && (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)))
		return 0;
	if (!protected_cg(&p, 0, 0))
		return 0;
	/* record mode: do_mount has reported the event already */
	if (p.pol->mode == VT_MODE_RECORD || !(p.pol->table_mask & VT_T_PATHS))
		return 0;
	if ((flags & (MS_BIND | MS_MOVE)) && dev) {
		s = scratch_get();
		if (!s)
			return unresolved(0, &p, VT_PERM_ALL, VT_HOOK_MOUNT, VT_REASON_BUSY);
		ret = check_mount_source(s, &p, dev);
		scratch_put(s);
		if (ret)
			return ret;
	}
	return check_path(&p, BPF_CORE_READ(to, mnt), BPF_CORE_READ(to, dentry), VT_PERM_WRITE, VT_PERM_WRITE | VT_PERM_APPEND,
			  VT_HOOK_MOUNT);
}

/*
 * move_mount(2): the source is a resolved path. A detached tree (open_tree's clone, fsmount's new
 * mount) has no path from the namespace's root: the walk stops at its top and gives "/", which is an
 * ancestor of every protected path, so in a policy with ancestors it is denied (a clone of a
 * protected tree and a brand-new filesystem cannot be told apart here).
 */
static __always_inline int do_move_mount_tree(const struct path *from, const struct path *to)
{
	struct prot p = {};
	int ret;

	if (!protected_cg(&p, 0, 0))
		return 0;
	if (p.pol->mode == VT_MODE_RECORD || !(p.pol->table_mask & VT_T_PATHS))
		return 0;
	ret = check_path(&p, BPF_CORE_READ(from, mnt), BPF_CORE_READ(from, dentry), VT_PERM_READ | VT_PERM_WRITE, VT_PERM_ALL,
			 VT_HOOK_MOVE_MOUNT);
	if (ret)
		return ret;
	return check_path(&p, BPF_CORE_READ(to, mnt), BPF_CORE_READ(to, dentry), VT_PERM_WRITE, VT_PERM_WRITE | VT_PERM_APPEND,
			  VT_HOOK_MOVE_MOUNT);
}

#endif /* VT_ANCESTOR_H */
