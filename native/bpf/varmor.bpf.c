// SPDX-License-Identifier: GPL-2.0
/*
 * varmor-ts BPF enforcer: LSM programs (enforce) and tp_btf programs (audit: record "would
 * deny" where the kernel refuses LSM programs, as this project's host does). This file holds
 * only the SEC() programs; the maps and the matching code they share are in lib/ (one header
 * per concern, as Tetragon's bpf/lib), the table layout is ../varmor_tables.h.
 *
 * Every program first resolves the current task's cgroup (or an ancestor, up to
 * VT_MAX_CGROUP_LEVELS) to a binding and returns at once when there is none: nothing outside a
 * protected container is ever affected. The resolution is cached per task (vt_task_cache) and
 * checked against vt_state's generations, which the loader bumps after every change.
 *
 * Paths are judged from the container's root (its mount namespace's), whatever root the task
 * took with chroot (lib/root.h). A path the rules cannot be checked against (longer than
 * VT_PATH_MAX-1 bytes where a suffix rule might match, deeper than VT_MAX_DEPTH components in
 * the walk, no scratch buffer free) fails closed and is reported with its reason.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "../varmor_tables.h"

char LICENSE[] SEC("license") = "GPL";

#include "lib/common.h"
#include "lib/maps.h"
#include "lib/policy.h"
#include "lib/events.h"
#include "lib/path.h"
#include "lib/path_cache.h"
#include "lib/path_facts.h"
#include "lib/file.h"
#include "lib/net.h"
#include "lib/mount.h"
#include "lib/ptrace.h"
#include "lib/caps.h"
#include "lib/syscall.h"
#include "lib/ancestor.h"

/* ==== LSM programs (enforce) ============================================================= */

SEC("lsm/file_open")
int BPF_PROG(vt_lsm_file_open, struct file *file)
{
	return do_file_open(file, file->f_mode, file->f_flags, 0);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(vt_lsm_bprm_check, struct linux_binprm *bprm)
{
	return do_exec(bprm->file, 0);
}

SEC("lsm/path_unlink")
int BPF_PROG(vt_lsm_path_unlink, const struct path *dir, struct dentry *dentry)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(dir, mnt), dentry, VT_PERM_WRITE, 0, VT_HOOK_PATH_UNLINK);
}

SEC("lsm/path_rename")
int BPF_PROG(vt_lsm_path_rename, const struct path *old_dir, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, unsigned int flags)
{
	struct prot p = {};
	__u32 want, below;
	int ret;
	if (!protected_cg(&p, 0, 0))
		return 0;
	/* moving a file away lets it be read elsewhere and removes it here; moving a directory
	 * carries every file below it away (lib/ancestor.h) */
	ret = check_path(&p, BPF_CORE_READ(old_dir, mnt), old_dentry, VT_PERM_READ | VT_PERM_WRITE, VT_PERM_ALL,
			 VT_HOOK_PATH_RENAME);
	if (ret)
		return ret;
	/* the target is replaced (write rules on it and below it); an exchange (called once since
	 * 5.19, flags given) moves it away too. One inlined check: the verifier's budget on 6.12. */
	want = VT_PERM_WRITE;
	below = VT_PERM_WRITE | VT_PERM_APPEND;
	if (flags & VT_RENAME_EXCHANGE) {
		want = VT_PERM_READ | VT_PERM_WRITE;
		below = VT_PERM_ALL;
	}
	return check_path(&p, BPF_CORE_READ(new_dir, mnt), new_dentry, want, below, VT_HOOK_PATH_RENAME);
}

SEC("lsm/path_link")
int BPF_PROG(vt_lsm_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	struct prot p = {};
	struct vfsmount *mnt;
	int ret;
	if (!protected_cg(&p, 0, 0))
		return 0;
	mnt = BPF_CORE_READ(new_dir, mnt); /* hard links never cross mounts */
	ret = check_path(&p, mnt, old_dentry, VT_PERM_READ | VT_PERM_WRITE, 0, VT_HOOK_PATH_LINK);
	if (ret)
		return ret;
	return check_path(&p, mnt, new_dentry, VT_PERM_WRITE, 0, VT_HOOK_PATH_LINK);
}

SEC("lsm/path_symlink")
int BPF_PROG(vt_lsm_path_symlink, const struct path *dir, struct dentry *dentry, const char *old_name)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(dir, mnt), dentry, VT_PERM_WRITE, 0, VT_HOOK_PATH_SYMLINK);
}

SEC("lsm/path_truncate")
int BPF_PROG(vt_lsm_path_truncate, const struct path *path)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(path, mnt), BPF_CORE_READ(path, dentry), VT_PERM_WRITE, 0, VT_HOOK_PATH_TRUNCATE);
}

SEC("lsm/path_chmod")
int BPF_PROG(vt_lsm_path_chmod, const struct path *path, umode_t mode)
{
	struct prot p = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	return check_path(&p, BPF_CORE_READ(path, mnt), BPF_CORE_READ(path, dentry), VT_PERM_WRITE, 0, VT_HOOK_PATH_CHMOD);
}

SEC("lsm/capable")
int BPF_PROG(vt_lsm_capable, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts)
{
	return do_capable(cap, opts);
}

SEC("lsm/socket_create")
int BPF_PROG(vt_lsm_socket_create, int family, int type, int protocol, int kern)
{
	if (kern)
		return 0;
	return do_socket_create(family, type, protocol, 0);
}

SEC("lsm/socket_connect")
int BPF_PROG(vt_lsm_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	struct prot p = {};
	__u16 fam = 0, port = 0;
	__u8 a[16] = {};
	if (!protected_cg(&p, 0, 0))
		return 0;
	/* direct loads: address is typed (struct sockaddr, 16 bytes, which covers sockaddr_in) */
	fam = address->sa_family;
	if (fam == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (struct sockaddr_in *)address;
		port = in->sin_port;
		*(__u32 *)a = in->sin_addr.s_addr;
	} else if (fam == AF_INET6 && addrlen >= 24) { /* SIN6_LEN_RFC2133: the kernel takes it */
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)address;
		bpf_probe_read_kernel(&port, 2, &in6->sin6_port);
		bpf_probe_read_kernel(a, 16, &in6->sin6_addr);
	} else {
		return 0;
	}
	return do_connect_sa(&p, fam, port, a);
}

/* UDP/raw sendto/sendmsg with a destination and TCP Fast Open never pass socket_connect */
SEC("lsm/socket_sendmsg")
int BPF_PROG(vt_lsm_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size)
{
	return do_sendmsg(sock, msg);
}

SEC("lsm/socket_setsockopt")
int BPF_PROG(vt_lsm_setsockopt, struct socket *sock, int level, int optname)
{
	return do_setsockopt(level, optname, 0);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(vt_lsm_ptrace, struct task_struct *child, unsigned int mode)
{
	return do_ptrace(child, mode);
}

SEC("lsm/sb_mount")
int BPF_PROG(vt_lsm_sb_mount, const char *dev_name, const struct path *path, const char *type, unsigned long flags)
{
	int ret = do_mount(dev_name, type, (__u32)flags, 0, 0);
	if (ret)
		return ret;
	return do_mount_tree(dev_name, path, (__u32)flags);
}

SEC("lsm/sb_umount")
int BPF_PROG(vt_lsm_sb_umount, struct vfsmount *mnt, int flags)
{
	return do_mount_path(mnt, BPF_CORE_READ(mnt, mnt_root), VT_MNT_UMOUNT, VT_HOOK_UMOUNT);
}

SEC("lsm/move_mount")
int BPF_PROG(vt_lsm_move_mount, const struct path *from_path, const struct path *to_path)
{
	int ret = do_mount_path(BPF_CORE_READ(from_path, mnt), BPF_CORE_READ(from_path, dentry), MS_MOVE, VT_HOOK_MOVE_MOUNT);
	if (ret)
		return ret;
	return do_move_mount_tree(from_path, to_path);
}

SEC("lsm/bpf")
int BPF_PROG(vt_lsm_bpf, int cmd)
{
	if (cmd != BPF_PROG_LOAD_CMD)
		return 0;
	return do_flag(VT_F_BPF_PROG_LOAD, VT_HOOK_BPF, cmd, 0);
}

SEC("lsm/userns_create")
int BPF_PROG(vt_lsm_userns_create, const struct cred *cred)
{
	return do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 0);
}

/* ==== audit programs (tp_btf): same maps and matching, report only ======================== */
/* syscall numbers and argument registers of the target architecture: lib/syscall.h */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vt_audit_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	do_exec(BPF_CORE_READ(bprm, file), 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(vt_audit_sys_enter, struct pt_regs *regs, long id)
{
	unsigned long a0 = PT_REGS_PARM1_CORE_SYSCALL(regs), a1 = PT_REGS_PARM2_CORE_SYSCALL(regs),
		      a2 = PT_REGS_PARM3_CORE_SYSCALL(regs);

	switch (id) {
	case NR_socket:
		do_socket_create((int)a0, (int)a1, (int)a2, 1);
		break;
	case NR_connect: {
		struct prot p = {};
		struct sockaddr_in6 sa = {};
		if (!protected_cg(&p, 0, 1))
			break;
		if (a2 >= sizeof(struct sockaddr_in6)) {
			if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in6), (void *)a1))
				break;
		} else if (a2 >= sizeof(struct sockaddr_in)) {
			if (bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), (void *)a1))
				break;
		} else {
			break;
		}
		if (sa.sin6_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&sa;
			do_connect_sa(&p, AF_INET, in->sin_port, (const __u8 *)&in->sin_addr);
		} else if (sa.sin6_family == AF_INET6) {
			do_connect_sa(&p, AF_INET6, sa.sin6_port, (const __u8 *)&sa.sin6_addr);
		}
		break;
	}
	case NR_sendto: /* sendto(fd, buf, len, flags, addr, addrlen) */
		audit_user_sa((const void *)PT_REGS_PARM5_CORE_SYSCALL(regs), VT_SYSCALL_PARM6(regs), 1);
		break;
	case NR_sendmsg: { /* sendmsg(fd, msg, flags): the destination is msg->msg_name */
		struct user_msghdr m = {};
		if (!bpf_probe_read_user(&m, sizeof(m), (void *)a1))
			audit_user_sa(m.msg_name, m.msg_namelen, 1);
		break;
	}
	case NR_setsockopt:
		do_setsockopt((int)a1, (int)a2, 1);
		break;
	case NR_mount:
		do_mount((const char *)a0, (const char *)a2, (__u32)PT_REGS_PARM4_CORE_SYSCALL(regs), 1, 1);
		break;
	case NR_unshare:
		if (a0 & CLONE_NEWUSER)
			do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 1);
		break;
	case NR_clone:
		if (a0 & CLONE_NEWUSER)
			do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 1);
		break;
	case NR_clone3: {
		__u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (void *)a0);
		if (flags & CLONE_NEWUSER)
			do_flag(VT_F_USERNS_CREATE, VT_HOOK_USERNS_CREATE, 0, 1);
		break;
	}
	case NR_bpf:
		if (a0 == BPF_PROG_LOAD_CMD)
			do_flag(VT_F_BPF_PROG_LOAD, VT_HOOK_BPF, (__u32)a0, 1);
		break;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vt_audit_sys_exit, struct pt_regs *regs, long ret)
{
	long id = VT_SYSCALL_NR(regs);
	struct task_struct *task;
	struct file **fds;
	struct file *f = 0;
	unsigned int max;

	if (ret < 0 || (id != NR_open && id != NR_openat && id != NR_openat2 && id != NR_creat))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if ((unsigned long)ret >= max)
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[ret]);
	if (f)
		do_file_open(f, BPF_CORE_READ(f, f_mode), BPF_CORE_READ(f, f_flags), 1);
	return 0;
}

/* ---- pid -> cgroup, for Seccomp violations of short-lived processes (both modes) ------- */

/* The child is in its parent's cgroup when it is forked; its own tgid is the key. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(vt_track_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 tgid = BPF_CORE_READ(child, tgid);
	__u64 cg = bpf_get_current_cgroup_id();
	bpf_map_update_elem(&vt_pid_cgroup, &tgid, &cg, BPF_ANY);
	return 0;
}

/* An exec (runc's into the container, after moving the task to its cgroup) refreshes it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(vt_track_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 cg = bpf_get_current_cgroup_id();
	bpf_map_update_elem(&vt_pid_cgroup, &tgid, &cg, BPF_ANY);
	return 0;
}

/* ---- BehaviorModeling: the syscalls a recorded policy's containers make (attached on demand) */

/* Loaded in both modes, never attached with the others: the loader attaches it only while some
 * policy records (vt_record_syscalls), since it runs on every syscall of every task. */
SEC("tp_btf/sys_enter")
int BPF_PROG(vt_rec_sys_enter, struct pt_regs *regs, long id)
{
	struct prot p = {};
	struct vt_syscall_bits *b;
	__u64 bit;
	__u32 w;

	if (id < 0 || id >= VT_SYSCALL_WORDS * 64)
		return 0;
	if (!protected_cg(&p, 0, 1) || p.pol->mode != VT_MODE_RECORD)
		return 0;
	b = bpf_map_lookup_elem(&vt_syscalls, &p.policy_id);
	if (!b) {
		struct vt_syscall_bits none = {};
		bpf_map_update_elem(&vt_syscalls, &p.policy_id, &none, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&vt_syscalls, &p.policy_id);
		if (!b)
			return 0; /* full: the agent reports the record as incomplete */
	}
	w = ((__u32)id >> 6) & (VT_SYSCALL_WORDS - 1);
	bit = 1ULL << (id & 63);
	/* a plain read first: after its first call a syscall costs no atomic (and no shared write) */
	if (!(READ_ONCE(b->bits[w]) & bit))
		__sync_fetch_and_or(&b->bits[w], bit);
	return 0;
}

/* ---- path-fact cache invalidation (loaded in enforce mode when the kernel has the functions) */

/* Every dentry move (d_move, d_exchange, and a directory alias moved by d_splice_alias) goes
 * through __d_move; after it returns the new name and parent are in place. */
SEC("fexit/__d_move")
int BPF_PROG(vt_gen_d_move, struct dentry *dentry, struct dentry *target, bool exchange)
{
	path_gen_bump();
	return 0;
}

/* A dentry's memory is freed by these RCU callbacks (the direct call for never-shared dentries
 * frees pseudo files, which path_facts never caches); this runs before the free. */
SEC("fentry/__d_free")
int BPF_PROG(vt_gen_d_free, struct callback_head *head)
{
	path_gen_bump();
	return 0;
}

SEC("fentry/__d_free_external")
int BPF_PROG(vt_gen_d_free_external, struct callback_head *head)
{
	path_gen_bump();
	return 0;
}

/* Every change of a mount tree (mount, bind, move, umount, pivot_root, propagation, expiry,
 * namespace teardown) is made under namespace_sem, which namespace_unlock releases. */
SEC("fentry/namespace_unlock")
int BPF_PROG(vt_gen_ns_unlock)
{
	path_gen_bump();
	return 0;
}
