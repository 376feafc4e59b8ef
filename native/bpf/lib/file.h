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

#endif /* VT_FILE_H */
