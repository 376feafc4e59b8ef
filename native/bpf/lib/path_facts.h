/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pre-filter facts of a file's path (length, second byte, last byte) computed without
 * building the path, so most opens outside the protected paths skip d_path entirely.
 */
#ifndef VT_PATH_FACTS_H
#define VT_PATH_FACTS_H

#include "path.h"
#include "path_cache.h"

/* The facts match_path's pre-filters look at, computed without building the path. */
struct path_facts {
	__u32 len;  /* bytes of the path as d_path gives it */
	__u8 c1;    /* path[1]: first byte of the top component (0 for "/") */
	__u8 last;  /* last byte */
};

/* struct dentry's inline name: d_iname up to 6.13, d_shortname.string since 6.14 (CO-RE picks). */
struct dentry___iname {
	unsigned char d_iname[32];
} __attribute__((preserve_access_index));

#define FACTS_DIRECT_DEPTH 32 /* components walked with direct loads before giving up */
#define FACTS_MOUNT_DEPTH 8   /* components walked above the file's own mount */

/* Offset of struct dentry's inline name buffer (a name shorter than 32 bytes lives there). */
static __always_inline __u64 iname_off(void)
{
	return CORE_OFFSET_EITHER(struct dentry___iname, d_iname, struct dentry, d_shortname);
}

static __always_inline __u64 iname_addr(struct dentry *d)
{
	return (__u64)d + iname_off();
}

/* Whether d's name is stored inline (names shorter than 32 bytes are), where direct loads reach it. */
static __always_inline int name_inline(struct dentry *d)
{
	return (__u64)d->d_name.name == iname_addr(d);
}

/* Word k (0..3) of d's inline name, by a direct load. */
static __always_inline __u64 iname_word(struct dentry *d, __u32 k)
{
	void *base = (void *)d + iname_off();
	switch (k) {
	case 0: return *(__u64 *)base;
	case 1: return *(__u64 *)(base + 8);
	case 2: return *(__u64 *)(base + 16);
	default: return *(__u64 *)(base + 24);
	}
}

/* The part of struct dentry one probe read fetches above the file's mount: d_parent, d_name
 * (hash, len, name) and the first bytes of the inline name, which follow each other in 6.1 and
 * later (checked at load time through CO-RE; another layout falls back to d_path). */
struct dentry_head {
	__u64 parent;
	__u32 hash;
	__u32 len;
	__u64 name;
	__u64 inode;
	__u8 iname[8];
};

static __always_inline int dentry_head_layout_ok(void)
{
	__u32 base = bpf_core_field_offset(struct dentry, d_parent);
	__u32 in = iname_off();
	return bpf_core_field_offset(struct dentry, d_name) == base + 8 && in == base + 32;
}

/* A typed kernel pointer as a plain number, for the global function below (whose arguments the
 * verifier accepts as numbers only): written to the task's cache entry (task storage) and read back, which
 * only the privileged loaders of LSM programs may do (the agent is one). */
static __always_inline __u64 as_number(struct vt_task_cache *s, const void *ptr)
{
	/* the task's own cache entry: another task preempting this one cannot overwrite it */
	*(const void *volatile *)&s->number = ptr;
	return *(volatile __u64 *)&s->number;
}

/* Set by the loader when the kernel has the bpf_rdonly_cast kfunc (6.2 and later): the walk
 * above a file's own mount then reads struct mount and struct dentry by direct loads through a
 * cast pointer. Without it (6.1) the kfunc stays unresolved (weak), and this constant makes its
 * calls dead code, which the verifier drops. */
const volatile __u32 have_rdonly_cast = 0;
extern void *bpf_rdonly_cast(void *obj, __u32 btf_id) __ksym __weak;

/* mount_up; `cast` (have_rdonly_cast only): by direct loads through a cast pointer, else by
 * mount_up's probe reads. */
static __always_inline int mount_up_by(__u64 mm, __u64 *parent, __u64 *mountpoint, const int cast)
{
	struct mount *m;
	__u64 up;
	if (!cast)
		return mount_up(mm, parent, mountpoint);
	m = bpf_rdonly_cast((void *)mm, bpf_core_type_id_kernel(struct mount));
	up = (__u64)m->mnt_parent;
	if (!up || up == mm)
		return 1;
	*parent = up;
	*mountpoint = (__u64)m->mnt_mountpoint;
	return 0;
}

/* The root dentry of the mount at address mm; `cast`: by a direct load (6.2+), else a probe read. */
static __always_inline int mount_root(__u64 mm, __u64 *root, const int cast)
{
	if (cast) {
		struct mount *m = bpf_rdonly_cast((void *)mm, bpf_core_type_id_kernel(struct mount));
		*root = (__u64)m->mnt.mnt_root;
		return 0;
	}
	return bpf_probe_read_kernel(root, sizeof(*root),
				     (void *)(mm + bpf_core_field_offset(struct mount, mnt) +
					      bpf_core_field_offset(struct vfsmount, mnt_root)))
		       ? -1
		       : 0;
}

/* One component above the file's mount: dentry md's parent, name length and first byte. */
static __always_inline int dentry_step(__u64 md, __u64 *parent, __u32 *len, __u8 *first, const int cast)
{
	if (cast) {
		struct dentry *d = bpf_rdonly_cast((void *)md, bpf_core_type_id_kernel(struct dentry));
		*parent = (__u64)d->d_parent;
		*len = d->d_name.len;
		if (name_inline(d)) {
			*first = iname_word(d, 0);
			return 0;
		}
		return bpf_probe_read_kernel(first, 1, (void *)d->d_name.name) ? -1 : 0;
	} else {
		struct dentry_head h;
		if (bpf_probe_read_kernel(&h, sizeof(h), (void *)(md + bpf_core_field_offset(struct dentry, d_parent))))
			return -1;
		*parent = h.parent;
		*len = h.len;
		if (h.name == md + bpf_core_field_offset(struct dentry, d_parent) + 32) {
			*first = h.iname[0];
			return 0;
		}
		return bpf_probe_read_kernel(first, 1, (void *)h.name) ? -1 : 0;
	}
}

/*
 * path_facts above the file's own mount: from dentry md, the mount point in mount mm, up to the
 * task's root (root_d in the vfsmount root_m, whose root dentry is root_mroot). struct mount is
 * found from a vfsmount by a negative offset, which plain typed loads do not allow, so this walks
 * through cast pointers (6.2+) or by probe reads; a separate (global) function, verified once
 * instead of once per way into it, so it takes plain numbers. Returns the bytes added, the first
 * byte of the top component and the number of components as len | first << 32 | n << 40, with
 * bit 48 set when the walk ended at the task's root (not at the top of another tree), or bit 63
 * set when the answer might differ from d_path's.
 */
static __always_inline __u64 facts_above_mount(__u64 md, __u64 mm, __u64 root_d, __u64 root_m, __u64 root_mroot,
						const int cast)
{
	const __u64 FAIL = 1ULL << 63;
	const __u64 vfs = bpf_core_field_offset(struct mount, mnt);
	__u64 mmroot = 0, parent;
	__u32 len = 0, n = 0, l;
	__u8 first = 0;
	__u64 at_root = 0;
	int entered = 1; /* mm is a mount just entered: its root dentry is still to learn */

	for (int i = 0; i < FACTS_MOUNT_DEPTH; i++) {
		if (entered) {
			/* the task's root mount is the usual one (a container's volumes are mounted on
			 * its root file system), and the caller knows its root dentry */
			if (mm + vfs == root_m)
				mmroot = root_mroot;
			else if (mount_root(mm, &mmroot, cast))
				return FAIL;
			entered = 0;
		}
		if (md == root_d && mm + vfs == root_m) {
			at_root = 1ULL << 48;
			goto done;
		}
		if (md == mmroot) {
			int top = mount_up_by(mm, &mm, &md, cast);
			if (top < 0)
				return FAIL;
			if (top)
				goto done;
			entered = 1;
			continue;
		}
		if (dentry_step(md, &parent, &l, &first, cast))
			return FAIL;
		if (parent == md || l == 0 || l > 31)
			return FAIL;
		len += l + 1;
		n++;
		md = parent;
	}
	return FAIL;
done:
	return (__u64)len | (__u64)first << 32 | (__u64)n << 40 | at_root;
}

/* The two instances, each its own global function: clang drops the other variant's code from
 * each, and the loader's have_rdonly_cast picks the one path_facts calls. */
__noinline __u64 facts_above_mount_probe(__u64 md, __u64 mm, __u64 root_d, __u64 root_m, __u64 root_mroot)
{
	return facts_above_mount(md, mm, root_d, root_m, root_mroot, 0);
}

__noinline __u64 facts_above_mount_cast(__u64 md, __u64 mm, __u64 root_d, __u64 root_m, __u64 root_mroot)
{
	/* a global function is verified even where no call reaches it: without the kfunc this
	 * constant test leaves the verifier nothing but the return */
	if (!have_rdonly_cast)
		return 1ULL << 63;
	return facts_above_mount(md, mm, root_d, root_m, root_mroot, 1);
}

/*
 * Length, second byte and last byte of the path d_path would give for `file`, for the pre-filters
 * in match_path. Inside the file's own mount the walk uses direct loads: two per component (its
 * parent and its name's length; only the file's own name and the top component's are read), where
 * bpf_d_path costs hundreds of instructions; above it, one probe read per component and per
 * mount. The last byte is read only when the policy has suffix rules (no other pre-filter looks
 * at it). Returns -1 whenever the answer might differ from d_path's string (a deleted file, a
 * pseudo file named by its filesystem, a name not stored inline where a byte of it is needed, a
 * long or deep path, an unknown layout): the caller then builds the path as before.
 *
 * The walk's answer for the file's directory is kept in the task's cache entry, so the next file
 * opened in the same directory (through the same mount, with the same root) costs no walk: the
 * entry holds while vt_path_gen is unchanged. That generation is read before the walk and is
 * bumped after any dentry moves, before any dentry is freed and after any mount tree changes, so
 * an entry that could be stale no longer matches: the directory and every dentry above it are
 * pinned while the file is open (each dentry holds its parent, each mount its mount point), so
 * the path can change only by a move, and an address can name another directory only after a
 * free. Only walks that ended at the task's root are kept (a walk that stopped at the top of
 * another mount tree depends on mounts that are not the task's).
 */
static __always_inline int path_facts(struct prot *p, struct file *file, struct path_facts *f)
{
	struct fs_struct *fs = p->task->fs;
	struct dentry *d = file->f_path.dentry, *root_d, *mroot, *parent, *top, *stop, *dir, *leaf;
	struct vfsmount *vm = file->f_path.mnt, *root_m;
	struct vt_task_cache *c = p->cache;
	/* 64-bit on purpose: no zero-extension in the loop, and no overflow before the final
	 * length check (at most FACTS_DIRECT_DEPTH names of at most 2^32 bytes each) */
	__u64 len, l, r, gen;
	int keep = 0; /* the walk ended at the task's root: its answer may be cached */

	if (!d || !vm || !fs)
		return -1;
	root_d = fs->root.dentry;
	root_m = fs->root.mnt;
	mroot = vm->mnt_root;
	/* inside the file's mount the walk ends at the task's root when that is in this mount (the
	 * usual case: a container's own files), else at the mount's root, where it crosses */
	stop = vm == root_m ? root_d : 0;
	if (d == stop) {
		f->len = 1;
		f->c1 = 0;
		f->last = '/';
		return 0;
	}
	parent = d->d_parent;
	/* A mount's root itself, or a pseudo file (pipes, sockets, anonymous inodes: the dentries
	 * that d_path asks their filesystem to name, d_op->d_dname, are all their own parent):
	 * left to d_path. Had a connected dentry a d_dname, d_path's name would not start with '/'
	 * and check_file would build the path from the names, whose facts these are. */
	if (d == mroot || d == parent)
		return -1;
	if (!d->d_hash.pprev)
		return -1; /* unlinked: d_path appends " (deleted)" */
	l = d->d_name.len;
	if (l == 0)
		return -1;
	f->last = 0;
	if (p->pol->table_mask & VT_T_PATH_SUFFIX) {
		/* the file's own name gives the last byte (an inline name is shorter than 32 bytes) */
		if (!name_inline(d))
			return -1;
		f->last = iname_word(d, (l - 1) >> 3) >> (((l - 1) & 7) * 8);
	}
	len = l + 1;
	top = leaf = d;
	dir = d = parent;

	gen = c ? path_gen_now() : 0;
	if (gen && c && c->pf_valid && c->pf_gen == gen && c->pf_dir == (__u64)dir && c->pf_mnt == (__u64)vm &&
	    c->pf_root_d == (__u64)root_d && c->pf_root_m == (__u64)root_m) {
		len += c->pf_len;
		if (c->pf_top_is_file)
			goto top_here; /* top is the file */
		f->c1 = c->pf_c1;
		goto out;
	}

	for (__u64 i = 1; i < FACTS_DIRECT_DEPTH; i++) {
		if (d == stop) {
			keep = 1;
			goto top_here;
		}
		if (d == mroot)
			goto cross;
		/* a disconnected dentry, its own parent, would loop here until the depth runs out */
		parent = d->d_parent;
		len += (__u64)d->d_name.len + 1;
		top = d;
		d = parent;
	}
	return -1;

cross: {
	struct vt_task_cache *s = c;
	__u64 mp, mpt, rd, rm, rmr;
	int at_top;
	if (!s || (!have_rdonly_cast && !dentry_head_layout_ok()))
		return -1; /* the probe-read walk reads struct dentry as a dentry_head */
	at_top = mount_up_by((__u64)vm - bpf_core_field_offset(struct mount, mnt), &mp, &mpt, have_rdonly_cast);
	if (at_top < 0)
		return -1;
	if (at_top)
		goto top_here; /* a mount outside the tree: d_path stops at its root too */
	rd = as_number(s, root_d);
	rm = as_number(s, root_m);
	rmr = as_number(s, root_m->mnt_root);
	if (have_rdonly_cast) /* as numbers: the cast walk gives mp and mpt as (untrusted) pointers */
		r = facts_above_mount_cast(as_number(s, (void *)mpt), as_number(s, (void *)mp), rd, rm, rmr);
	else
		r = facts_above_mount_probe(mpt, mp, rd, rm, rmr);
	if (r >> 63)
		return -1;
	keep = (r >> 48) & 1;
	len += r & 0xffffffff;
	if ((r >> 40) & 0xff) {
		f->c1 = r >> 32; /* components above the mount: the top one is there */
		top = 0;
		goto out;
	}
	goto top_here;
}

top_here:
	/* the top component is in the file's mount: its first byte */
	if (!name_inline(top))
		return -1;
	f->c1 = iname_word(top, 0);
out:
	if (len >= VT_PATH_MAX)
		return -1;
	f->len = len;
	if (keep && gen && c) { /* only this task reads its entry: no half-written state to hide */
		c->pf_dir = (__u64)dir;
		c->pf_mnt = (__u64)vm;
		c->pf_root_d = (__u64)root_d;
		c->pf_root_m = (__u64)root_m;
		c->pf_gen = gen;
		c->pf_len = len - (l + 1);
		c->pf_c1 = f->c1;
		c->pf_top_is_file = top == leaf;
		c->pf_valid = 1;
	}
	return 0;
}

/* Whether any of the policy's path tables could hold an entry for a path with these facts. */
static __always_inline int facts_may_match(struct vt_policy *pol, struct path_facts *f)
{
	return exact_may_hold(pol, f->len) || prefix_may_hold(pol, f->c1) || suffix_may_hold(pol, f->last);
}

#endif /* VT_PATH_FACTS_H */
