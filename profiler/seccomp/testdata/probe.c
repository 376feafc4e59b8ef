/* Test helper run inside runc containers: makes one raw syscall per argument and prints
 * `<name>=<errno>` (0 on success), so a test can tell which the seccomp profile refused and
 * with which errno. Raw syscalls, not libc wrappers, so libc fallbacks cannot hide a result. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/filter.h>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

static int report(const char *name, long rc) {
  printf("%s=%d\n", name, rc < 0 ? errno : 0);
  return 0;
}

static long clone_flags(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, 0, 0);
  return pid;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long rc = 0;
    if (!strcmp(a, "unshare-user")) rc = syscall(SYS_unshare, CLONE_NEWUSER);
    else if (!strcmp(a, "unshare-uts")) rc = syscall(SYS_unshare, CLONE_NEWUTS);
    else if (!strcmp(a, "clone-user")) rc = clone_flags(CLONE_NEWUSER);
    else if (!strcmp(a, "clone-plain")) rc = clone_flags(0);
    else if (!strcmp(a, "clone3")) {
      struct { unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls; } args;
      memset(&args, 0, sizeof(args));
      args.exit_signal = SIGCHLD;
      rc = syscall(SYS_clone3, &args, sizeof(args));
      if (rc == 0) _exit(0);
      if (rc > 0) waitpid((pid_t)rc, 0, 0);
    } else if (!strcmp(a, "splice")) {
      int p[2];
      int fd = open("/bin/busybox", O_RDONLY);
      if (pipe(p) || fd < 0) { printf("splice=setup-failed\n"); continue; }
      rc = syscall(SYS_splice, fd, 0, p[1], 0, 16, 0);
    } else if (!strcmp(a, "userfaultfd")) rc = syscall(SYS_userfaultfd, O_CLOEXEC);
    else if (!strcmp(a, "bpf-prog-load")) {
      struct bpf_insn insns[] = {{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0}, {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
      union bpf_attr attr;
      memset(&attr, 0, sizeof(attr));
      attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
      attr.insns = (unsigned long)insns;
      attr.insn_cnt = 2;
      attr.license = (unsigned long)"GPL";
      rc = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
    } else if (!strcmp(a, "so-attach-filter")) {
      struct sock_filter code[] = {{0x06, 0, 0, 0xffff}};
      struct sock_fprog prog = {1, code};
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      rc = syscall(SYS_setsockopt, s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
    } else if (!strcmp(a, "so-keepalive")) {
      int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
      rc = syscall(SYS_setsockopt, s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    } else if (!strcmp(a, "socket-inet")) rc = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    else if (!strcmp(a, "socket-inet6")) rc = syscall(SYS_socket, AF_INET6, SOCK_STREAM, 0);
    else if (!strcmp(a, "socket-unix")) rc = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    else if (!strcmp(a, "socket-alg")) rc = syscall(SYS_socket, 38, SOCK_SEQPACKET, 0);
    else if (!strcmp(a, "chmod-x")) { close(open("/tmp/f", O_CREAT | O_WRONLY, 0600)); rc = syscall(SYS_chmod, "/tmp/f", 0700); }
    else if (!strcmp(a, "chmod-rw")) { close(open("/tmp/f", O_CREAT | O_WRONLY, 0600)); rc = syscall(SYS_chmod, "/tmp/f", 0640); }
    else if (!strcmp(a, "fchmodat-x")) { close(open("/tmp/f", O_CREAT | O_WRONLY, 0600)); rc = syscall(SYS_fchmodat, AT_FDCWD, "/tmp/f", 0755, 0); }
    else if (!strcmp(a, "chmod-suid")) { close(open("/tmp/f", O_CREAT | O_WRONLY, 0600)); rc = syscall(SYS_chmod, "/tmp/f", 04600); }
    else if (!strcmp(a, "keyctl")) rc = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
    else if (!strcmp(a, "personality-query")) rc = syscall(SYS_personality, 0xffffffff);
    else if (!strcmp(a, "personality-set")) rc = syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
    else if (!strcmp(a, "mkdir")) rc = syscall(SYS_mkdir, "/tmp/d", 0755);
    else if (!strcmp(a, "getpid")) rc = syscall(SYS_getpid);
    else { printf("%s=unknown\n", a); continue; }
    report(a, rc);
  }
  fflush(stdout);
  return 0;
}
