/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel constants the programs compare against (uapi values vmlinux.h does not carry), and
 * the bound-keeping macros the verifier needs.
 */
#ifndef VT_COMMON_H
#define VT_COMMON_H

#define EPERM 1
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_TYPE_MASK 0xf
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOL_SOCKET 1
#define SO_ATTACH_FILTER 26
#define SO_ATTACH_BPF 50
#define SO_ATTACH_REUSEPORT_CBPF 51
#define SO_ATTACH_REUSEPORT_EBPF 52
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define FMODE_NOACCOUNT 0x20000000
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_APPEND 02000
#define CAP_OPT_NOAUDIT 0x2
#define PTRACE_MODE_READ 0x01
#define PTRACE_MODE_ATTACH 0x02
#define MS_RDONLY 1
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_UNBINDABLE (1 << 17)
#define MS_PRIVATE (1 << 18)
#define MS_SLAVE (1 << 19)
#define MS_SHARED (1 << 20)
#define CLONE_NEWUSER 0x10000000
#define BPF_PROG_LOAD_CMD 5
#define AF_UNSPEC 0
#define MSG_FASTOPEN 0x20000000
#define S_IFMT 00170000
#define S_IFREG 0100000
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))

/* Mask a value in a way clang cannot fold away, so the verifier sees the bound. */
/* Offset of the field this kernel has: (t1, f1) if it exists, else (t2, f2), two layouts of one
 * field across kernel versions. The barriers keep clang from computing both relocations up front:
 * the one for the field this kernel lacks is poisoned by libbpf and must stay unreachable. */
#define CORE_OFFSET_EITHER(t1, f1, t2, f2)                                                            \
	({                                                                                             \
		__u64 __off;                                                                           \
		if (bpf_core_field_exists(t1, f1)) {                                                   \
			__off = bpf_core_field_offset(t1, f1);                                         \
			barrier_var(__off);                                                            \
		} else {                                                                               \
			__off = bpf_core_field_offset(t2, f2);                                         \
			barrier_var(__off);                                                            \
		}                                                                                      \
		__off;                                                                                 \
	})

#define BOUND(x, m) ({ __u64 __v = (x); asm volatile("%0 &= " #m : "+r"(__v)); __v; })

/* membership in a 256-bit set of 4 x u64 (vt_policy pre-filters) */
#define IN_SET(set, v) ((set)[BOUND((v) >> 6, 3)] & (1ULL << ((v) & 63)))

#endif /* VT_COMMON_H */
