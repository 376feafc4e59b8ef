/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opens and execs: the file hooks' entry points, d_path in LSM programs after the pre-filter,
 * the dentry walk in tracing programs.
 */
#ifndef VT_FILE_H
#define VT_FILE_H

#include "path_facts.h"

/* LSM programs: the kernel's own d_path (one helper call instead of a walk), and only when the
 * path's facts pass a pre-filter; the walk remains for tracing programs, where bpf_d_path is not
 * allowed, and for paths d_path cannot give. */
static __always_inline int check_file(struct prot *p, struct file *file, __u32 want, __u16 hook, int lsm)
{
	struct fs_struct *fs;
	struct scratch *s;
	__u32 seq;
	long n;
	int ret;
	if (!lsm)
		goto walk;
	if (p->pol->mode != VT_MODE_RECORD && !(p->pol->table_mask & (VT_T_PATH_EXACT | VT_T_PATH_PREFIX | VT_T_PATH_SUFFIX)))
		return 0;
	/* d_path and the facts give the path from the task's root: taken only when that root is
	 * the container's (not chrooted), and only if no thread sharing the task's fs_struct moved
	 * the root meanwhile (fs->seq unchanged); else the walk from the namespace's root decides */
	fs = p->task->fs;
	if (!fs)
		goto walk;
	seq = fs_seq(fs);
	if ((seq & 1) || !root_is_container_root(p, fs, seq))
		goto walk;
	if (p->pol->mode != VT_MODE_RECORD) {
		struct path_facts f;
		if (path_facts(p, file, &f) == 0 && !facts_may_match(p->pol, &f) && fs_seq(fs) == seq)
			return 0;
	}
	/* the scratch buffer only now: most opens end at the pre-filter above */
	s = scratch_get();
	if (!s)
		return unresolved(0, p, want, hook, VT_REASON_BUSY);
	n = bpf_d_path(&file->f_path, s->path, VT_PATH_MAX);
	if (n > 1 && n <= VT_PATH_MAX && s->path[0] == '/' && fs_seq(fs) == seq) {
		s->len = n - 1;
		s->truncated = 0;
		ret = check_built(s, p, want, 0, hook);
		scratch_put(s);
		return ret;
	}
	scratch_put(s);
walk:
	return check_path(p, BPF_CORE_READ(file, f_path.mnt), BPF_CORE_READ(file, f_path.dentry), want, 0, hook);
}

/* disallow-exec-unknown: mark a regular file a protected task opened for write (LSM only). */
static __always_inline void mark_written(struct file *file)
{
	struct inode *inode = file->f_inode;
	__u32 *m;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFREG)
		return;
	m = bpf_inode_storage_get(&vt_exec_written, inode, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (m)
		*m = 1;
}

/*
 * disallow-exec-fileless / disallow-exec-unknown: a program without a name in the file system
 * (link count 0: memfd_create, a file unlinked while open, O_TMPFILE) has no path a rule could
 * name; one the container wrote itself (vt_exec_written) is not the image's. Judged on the
 * executed file itself, so execveat(AT_EMPTY_PATH) and /proc/self/fd/N reach the same answer.
 */
static __always_inline int check_exec_origin(struct prot *p, struct file *file, int lsm)
{
	struct vt_log_event *e;
	__u32 hit = 0, deny, audit;
	int ret;

	if (BPF_CORE_READ(file, f_inode, i_nlink) == 0)
		hit = VT_F_EXEC_FILELESS | VT_F_EXEC_UNKNOWN;
	else if (lsm && file->f_inode && bpf_inode_storage_get(&vt_exec_written, file->f_inode, 0, 0))
		hit = VT_F_EXEC_UNKNOWN;
	deny = p->pol->flags_deny & hit;
	audit = p->pol->flags_audit & hit;
	if (!deny && !audit)
		return 0;
	ret = decide(p, deny, audit, VT_HOOK_EXEC, VT_PERM_EXEC, &e);
	if (e) {
		e->extra = deny | audit; /* the VT_F_EXEC_* rule that judged it */
		/* the dentry's own name ("memfd:NAME", or the file's last name): no path to build */
		bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(file, f_path.dentry, d_name.name));
		bpf_ringbuf_submit(e, 0);
	}
	return ret;
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
	/* only policies with disallow-exec-unknown pay for the mark; LSM programs only (audit_only
	 * is a constant, so the tracing programs never hold the inode storage call) */
	if (!audit_only && (mode & FMODE_WRITE) && ((p.pol->flags_deny | p.pol->flags_audit) & VT_F_EXEC_UNKNOWN))
		mark_written(file);
	return check_file(&p, file, want, VT_HOOK_FILE_OPEN, !audit_only);
}

static __always_inline int do_exec(struct file *file, int audit_only)
{
	struct prot p = {};
	if (!protected_cg(&p, 1, audit_only))
		return 0;
	if (!file)
		return 0;
	if ((p.pol->flags_deny | p.pol->flags_audit) & (VT_F_EXEC_FILELESS | VT_F_EXEC_UNKNOWN)) {
		int ret = check_exec_origin(&p, file, !audit_only);
		if (ret)
			return ret;
	}
	return check_file(&p, file, VT_PERM_EXEC, VT_HOOK_EXEC, !audit_only);
}

#endif /* VT_FILE_H */
