/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The audit programs' view of a system call, per target architecture (-D__TARGET_ARCH_x86 or
 * -D__TARGET_ARCH_arm64, as libbpf's bpf_tracing.h expects): the numbers of the calls they
 * judge, and CO-RE reads of the syscall number and arguments from the tracepoint's pt_regs.
 * Arguments come from libbpf's PT_REGS_PARMn_CORE_SYSCALL (x86_64 passes the 4th in r10, arm64
 * the 1st in orig_x0); the number has no libbpf macro: orig_ax on x86_64, syscallno on arm64.
 */
#ifndef VT_SYSCALL_H
#define VT_SYSCALL_H

#if defined(__TARGET_ARCH_x86)

/* x86_64 syscall numbers */
#define NR_open 2
#define NR_creat 85
#define NR_openat 257
#define NR_openat2 437
#define NR_socket 41
#define NR_connect 42
#define NR_setsockopt 54
#define NR_clone 56
#define NR_mount 165
#define NR_unshare 272
#define NR_bpf 321
#define NR_clone3 435
#define NR_sendto 44
#define NR_sendmsg 46

#define VT_SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#define VT_SYSCALL_PARM6(regs) BPF_CORE_READ(regs, r9) /* libbpf has no PARM6 */

#elif defined(__TARGET_ARCH_arm64)

/* arm64 (asm-generic) syscall numbers; it has no open(2) or creat(2), and no id is -1 */
#define NR_open -1
#define NR_creat -1
#define NR_openat 56
#define NR_openat2 437
#define NR_socket 198
#define NR_connect 203
#define NR_setsockopt 208
#define NR_clone 220
#define NR_mount 40
#define NR_unshare 97
#define NR_bpf 280
#define NR_clone3 435
#define NR_sendto 206
#define NR_sendmsg 211

/* A vmlinux.h of another architecture (the cross-build check uses the host's x86_64 one) has no
 * arm64 register structs: declare what the reads below use, relocated by CO-RE at load time as
 * libbpf's own pt_regs___arm64 is. An arm64 vmlinux.h has them already. */
#ifdef VT_FOREIGN_VMLINUX
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
} __attribute__((preserve_access_index));
#endif

struct pt_regs___vt_arm64 {
	int syscallno;
} __attribute__((preserve_access_index));

#define VT_SYSCALL_NR(regs) BPF_CORE_READ((const struct pt_regs___vt_arm64 *)(regs), syscallno)
#define VT_SYSCALL_PARM6(regs) BPF_CORE_READ((const struct user_pt_regs *)(regs), regs[5])

#else
#error "varmor.bpf.c: define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

#endif /* VT_SYSCALL_H */
