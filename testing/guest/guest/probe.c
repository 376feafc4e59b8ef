/*
 * vprobe: one guarded action per run, for the BPF LSM guest tests.
 *
 * Node cannot issue most of the syscalls the LSM hooks guard (raw sockets, SO_ATTACH_FILTER,
 * ptrace, mount, bpf, unshare, execveat), so the guest scenarios run this static helper.
 * `-c DIR` moves the process into cgroup DIR first, so the action runs inside (or outside)
 * a protected cgroup. It prints one line: `OK [detail]` or the errno name (e.g. `EPERM`),
 * and exits 0 whatever the action's outcome; exit 2 means bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int report(int rc) {
  if (rc < 0) printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "EUNKNOWN");
  else printf("OK\n");
  return 0;
}

static int usage(const char *why) {
  fprintf(stderr, "vprobe: %s\n", why);
  return 2;
}

static int open_procs(const char *dir) {
  char path[512];
  snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
  return open(path, O_WRONLY);
}

/* Move this process into the cgroup whose cgroup.procs is open as fd. */
static int join_procs(int fd) {
  char pid[32];
  int n = snprintf(pid, sizeof(pid), "%d\n", getpid());
  return write(fd, pid, n) == n ? 0 : -1;
}

static int join_cgroup(const char *dir) {
  int fd = open_procs(dir);
  if (fd < 0) return -1;
  int rc = join_procs(fd);
  close(fd);
  return rc;
}

static int open_flags(const char *mode) {
  if (!strcmp(mode, "r")) return O_RDONLY;
  if (!strcmp(mode, "w")) return O_WRONLY;
  if (!strcmp(mode, "rw")) return O_RDWR;
  if (!strcmp(mode, "a")) return O_WRONLY | O_APPEND;
  return -1;
}

/* A memfd holding a copy of path (for the fileless exec), or -1. */
static int copy_to_memfd(const char *path) {
  int in = open(path, O_RDONLY);
  if (in < 0) return -1;
  int fd = memfd_create("vprobe", MFD_CLOEXEC);
  char buf[65536];
  ssize_t n;
  while (fd >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
    if (write(fd, buf, n) != n) { close(fd); fd = -1; }
  close(in);
  return fd;
}

/*
 * Runs the exec variant in a child and reports how the exec itself went: a CLOEXEC pipe
 * carries errno back when exec fails, and closes silently when it succeeds.
 */
static int run_exec(const char *how, const char *path, const char *name) {
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) return report(-1);
  pid_t pid = fork();
  if (pid < 0) return report(-1);
  if (pid == 0) {
    close(pfd[0]);
    /* stdin too: a shell run by a case reads end of file and exits instead of waiting */
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
    char *argv[] = {(char *)(name ? name : path), NULL};
    char *envp[] = {"PATH=/bin:/usr/bin:/sbin:/usr/sbin", NULL};
    if (!strcmp(how, "exec")) {
      execve(path, argv, envp);
    } else if (!strcmp(how, "execveat")) {
      /* path is a directory, name the entry inside it */
      int dfd = open(path, O_PATH | O_DIRECTORY);
      if (dfd >= 0) syscall(SYS_execveat, dfd, name, argv, envp, 0);
    } else if (!strcmp(how, "fexec")) {
      /* exec through an O_PATH fd with AT_EMPTY_PATH: no path reaches the kernel */
      int fd = open(path, O_PATH);
      if (fd >= 0) syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    } else if (!strcmp(how, "memfd")) {
      /* fileless: a copy of path in an anonymous memory file, run through its fd */
      int fd = copy_to_memfd(path);
      if (fd >= 0) syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    } else if (!strcmp(how, "unlinked")) {
      /* a file run after its last name is gone: open it, unlink it, run the fd */
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0 && unlink(path) == 0) syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    } else if (!strcmp(how, "procfd")) {
      /* the magic link /proc/self/fd/N of an open file as the program's path */
      char link[64];
      int fd = open(path, O_RDONLY);
      snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
      if (fd >= 0) execve(link, argv, envp);
    }
    int err = errno;
    if (write(pfd[1], &err, sizeof(err)) < 0) _exit(127);
    _exit(127);
  }
  close(pfd[1]);
  int err = 0;
  ssize_t n = read(pfd[0], &err, sizeof(err));
  close(pfd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n == sizeof(err)) {
    errno = err;
    return report(-1);
  }
  printf("OK exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

static int parse_domain(const char *s) {
  if (!strcmp(s, "inet")) return AF_INET;
  if (!strcmp(s, "inet6")) return AF_INET6;
  if (!strcmp(s, "unix")) return AF_UNIX;
  if (!strcmp(s, "packet")) return AF_PACKET;
  if (!strcmp(s, "netlink")) return AF_NETLINK;
  return atoi(s);
}

static int parse_type(const char *s) {
  if (!strcmp(s, "stream")) return SOCK_STREAM;
  if (!strcmp(s, "dgram")) return SOCK_DGRAM;
  if (!strcmp(s, "raw")) return SOCK_RAW;
  return atoi(s);
}

static int parse_proto(const char *s) {
  if (!strcmp(s, "tcp")) return IPPROTO_TCP;
  if (!strcmp(s, "udp")) return IPPROTO_UDP;
  if (!strcmp(s, "icmp")) return IPPROTO_ICMP;
  if (!strcmp(s, "icmpv6")) return IPPROTO_ICMPV6;
  return atoi(s);
}

static int do_connect(const char *host, int port, const char *proto) {
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof(ss));
  int family;
  if (strchr(host, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return usage("bad IPv6 address");
    len = sizeof(*a);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return usage("bad IPv4 address");
    len = sizeof(*a);
  }
  int udp = proto && !strcmp(proto, "udp");
  int fd = socket(family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (fd < 0) return report(-1);
  int rc = connect(fd, (struct sockaddr *)&ss, len);
  report(rc);
  close(fd);
  return 0;
}

static int do_attach_filter(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return report(-1);
  struct sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, 0xffffffff}};
  struct sock_fprog prog = {.len = 1, .filter = code};
  int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
  report(rc);
  close(fd);
  return 0;
}

static int do_bpf_load(void) {
  struct bpf_insn insns[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (unsigned long)insns;
  attr.insn_cnt = 2;
  attr.license = (unsigned long)"GPL";
  int fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
  report(fd);
  if (fd >= 0) close(fd);
  return 0;
}

/* Lists loaded BPF programs as `OK id:type ...`, to check that detach left nothing behind. */
static int do_progs(void) {
  union bpf_attr attr;
  unsigned int id = 0;
  printf("OK");
  for (;;) {
    memset(&attr, 0, sizeof(attr));
    attr.start_id = id;
    if (syscall(SYS_bpf, BPF_PROG_GET_NEXT_ID, &attr, sizeof(attr)) < 0) break;
    id = attr.next_id;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    int fd = syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
    if (fd < 0) continue;
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    memset(&attr, 0, sizeof(attr));
    attr.info.bpf_fd = fd;
    attr.info.info_len = sizeof(info);
    attr.info.info = (unsigned long)&info;
    if (syscall(SYS_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) == 0) printf(" %u:%u", id, info.type);
    close(fd);
  }
  printf("\n");
  return 0;
}

/* The new mount API: clone the mount at SRC (open_tree) and attach the clone at DST (move_mount). */
static int do_move_mount(const char *src, const char *dst) {
  int fd = syscall(SYS_open_tree, AT_FDCWD, src, 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);
  if (fd < 0) return report(-1);
  int rc = syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, 0x4 /* MOVE_MOUNT_F_EMPTY_PATH */);
  report(rc);
  close(fd);
  return 0;
}

static int do_ptrace(pid_t target) {
  if (ptrace(PTRACE_ATTACH, target, 0, 0) < 0) return report(-1);
  waitpid(target, NULL, 0);
  ptrace(PTRACE_DETACH, target, 0, 0);
  return report(0);
}

/* One action that needs the named capability, even for root. */
static int do_cap(const char *cap) {
  if (!strcmp(cap, "chown")) return report(chown("/tmp/vprobe-cap", 1234, 1234));
  if (!strcmp(cap, "net_raw")) {
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd >= 0) close(fd);
    return report(fd);
  }
  if (!strcmp(cap, "sys_admin")) return report(sethostname("vprobe", 6));
  if (!strcmp(cap, "net_bind_service")) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return report(-1);
    /* Root binding below 1024 is the classic CAP_NET_BIND_SERVICE check. */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(81), .sin_addr = {htonl(INADDR_LOOPBACK)}};
    int rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
    report(rc);
    close(fd);
    return 0;
  }
  if (!strcmp(cap, "setuid")) return report(setresuid(1234, 1234, 1234));
  if (!strcmp(cap, "sys_time")) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return report(clock_settime(CLOCK_REALTIME, &ts));
  }
  return usage("unknown capability action");
}

/*
 * Tries the same open again and again while the policy is swapped underneath: N times, or with
 * N = 0 until STOPFILE exists (checked every 64 opens).
 */
static int do_loop_open(const char *path, int n, const char *stopfile) {
  long ok = 0, eperm = 0, other = 0;
  for (long i = 0; n == 0 || i < n; i++) {
    if (n == 0 && (i & 63) == 0 && access(stopfile, F_OK) == 0) break;
    int fd = open(path, O_RDONLY);
    if (fd >= 0) { ok++; close(fd); }
    else if (errno == EPERM) eperm++;
    else other++;
  }
  printf("OK ok=%ld eperm=%ld other=%ld\n", ok, eperm, other);
  return 0;
}

/* The result token of an open for read, as report() prints it. */
static const char *open_token(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd >= 0) {
    close(fd);
    return "OK";
  }
  return strerrorname_np(errno) ? strerrorname_np(errno) : "EUNKNOWN";
}

/* Opens `first`, says so by creating the directory `ready` (mkdir: no open in between, which
 * would replace the task's cached path facts), waits for `go` to exist, then opens `second`:
 * the same task sees a change the test makes between the two opens. */
static int do_open_pause(const char *first, const char *ready, const char *go, const char *second) {
  const char *r1 = open_token(first);
  if (mkdir(ready, 0755) < 0) return usage("cannot create the ready directory");
  for (int i = 0; i < 6000 && access(go, F_OK) != 0; i++) usleep(10000);
  if (access(go, F_OK) != 0) return usage("timed out waiting for the go file");
  printf("OK first=%s second=%s\n", r1, open_token(second));
  return 0;
}

/* Opens `first`, then chroots into `root` and opens `second` there: one task, two roots. */
static int do_open_chroot(const char *first, const char *root, const char *second) {
  const char *r1 = open_token(first);
  if (chroot(root) < 0 || chdir("/") < 0) return usage("cannot chroot");
  printf("OK first=%s second=%s\n", r1, open_token(second));
  return 0;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Runs n operations of one kind; returns the elapsed ns (fails counts operations that failed). */
static long long bench_ops(const char *kind, long n, char **args, int nargs, long *fails) {
  long long t0 = now_ns();
  if (!strcmp(kind, "open") && nargs == 1) {
    for (long i = 0; i < n; i++) {
      int fd = open(args[0], O_RDONLY);
      if (fd < 0) (*fails)++; else close(fd);
    }
  } else if (!strcmp(kind, "open") && nargs > 1) {
    /* the files in turn: each open in another directory than the one before */
    for (long i = 0; i < n; i++) {
      int fd = open(args[i % nargs], O_RDONLY);
      if (fd < 0) (*fails)++; else close(fd);
    }
  } else if (!strcmp(kind, "exec") && nargs >= 1) {
    for (long i = 0; i < n; i++) {
      pid_t pid = fork();
      if (pid == 0) {
        char *a[] = {args[0], NULL};
        char *e[] = {NULL};
        execve(args[0], a, e);
        _exit(127);
      }
      int st = 0;
      waitpid(pid, &st, 0);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) (*fails)++;
    }
  } else if (!strcmp(kind, "connect") && nargs >= 2) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(args[1]))};
    inet_pton(AF_INET, args[0], &a.sin_addr);
    for (long i = 0; i < n; i++) {
      /* UDP connect: the whole connect hook, without a peer's handshake in the loop */
      int fd = socket(AF_INET, SOCK_DGRAM, 0);
      if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) (*fails)++;
      if (fd >= 0) close(fd);
    }
  } else {
    return -1;
  }
  return now_ns() - t0;
}

/*
 * Makes the mount DIR the root as runc does without pivot_root (the guest's root is an initramfs,
 * which pivot_root refuses): a new mount namespace, DIR moved onto "/", chroot("."). The root is
 * then the root of a mount stacked on the namespace's root, as a container's is, not a chroot.
 */
static int enter_container_root(const char *dir) {
  if (unshare(CLONE_NEWNS) < 0) return -1;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return -1;
  if (chdir(dir) < 0) return -1;
  if (mount(dir, "/", NULL, MS_MOVE, NULL) < 0) return -1;
  if (chroot(".") < 0 || chdir("/") < 0) return -1;
  return 0;
}

/*
 * A/B benchmark: `abbench KIND CHUNK PAIRS CG_A CG_B [--root DIR] ARG...`. The process moves
 * itself between cgroup A (protected) and B (unprotected) and times CHUNK operations on each side,
 * PAIRS times, alternating which side goes first. Interleaving at this grain makes the host's load
 * (TCG shares two cores with everything else) hit both sides alike. With --root it first makes
 * DIR its root as a container's (enter_container_root, e.g. an overlay mount), keeping the two
 * cgroup.procs files open to move by. Prints every chunk's ns: `OK fails=F a=t1,t2,... b=t1,t2,...`.
 */
static int do_abbench(int argc, char **argv) {
  if (argc < 6) return usage("abbench KIND CHUNK PAIRS CG_A CG_B [--root DIR] ARG...");
  const char *kind = argv[0];
  long chunk = atol(argv[1]);
  int pairs = atoi(argv[2]);
  const char *cg[2] = {argv[3], argv[4]};
  char **args = argv + 5;
  int nargs = argc - 5;
  long long *t[2] = {calloc(pairs, sizeof(long long)), calloc(pairs, sizeof(long long))};
  long fails = 0;
  if (!t[0] || !t[1]) return usage("out of memory");
  int procs[2];
  for (int side = 0; side < 2; side++) {
    procs[side] = open_procs(cg[side]);
    if (procs[side] < 0) {
      fprintf(stderr, "vprobe: cannot open cgroup %s: %s\n", cg[side], strerror(errno));
      return 3;
    }
  }
  if (nargs >= 2 && !strcmp(args[0], "--root")) {
    if (enter_container_root(args[1]) < 0) {
      fprintf(stderr, "vprobe: cannot make %s the root: %s\n", args[1], strerror(errno));
      return 3;
    }
    args += 2;
    nargs -= 2;
  }
  for (int i = 0; i < pairs; i++) {
    for (int k = 0; k < 2; k++) {
      int side = (i & 1) ? 1 - k : k;
      if (join_procs(procs[side]) < 0) {
        fprintf(stderr, "vprobe: cannot join cgroup %s: %s\n", cg[side], strerror(errno));
        return 3;
      }
      long warm = 0;
      bench_ops(kind, 1, args, nargs, &warm); /* first op after a move pays for the move */
      t[side][i] = bench_ops(kind, chunk, args, nargs, &fails);
      if (t[side][i] < 0) return usage("unknown bench kind or missing arguments");
    }
  }
  printf("OK fails=%ld a=", fails);
  for (int i = 0; i < pairs; i++) printf("%s%lld", i ? "," : "", t[0][i]);
  printf(" b=");
  for (int i = 0; i < pairs; i++) printf("%s%lld", i ? "," : "", t[1][i]);
  printf("\n");
  return 0;
}

/* Opens path (relative to the new root) after chroot(root): the road around paths judged from the task's root. */
static int do_chroot_open(const char *root, const char *path, const char *mode) {
  int fl = open_flags(mode);
  if (fl < 0) return usage("open mode is r, w, rw or a");
  if (chroot(root) < 0 || chdir("/") < 0) return report(-1);
  int fd = open(path, fl);
  report(fd);
  if (fd >= 0) close(fd);
  return 0;
}

static int fill_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof(*ss));
  if (strchr(host, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    *len = sizeof(*a);
    return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? AF_INET6 : -1;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  *len = sizeof(*a);
  return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? AF_INET : -1;
}

/*
 * Sends to host:port without connect(): `sendto` and `sendmsg` on a UDP socket with the
 * destination in the call, `fastopen` as TCP Fast Open's sendto(MSG_FASTOPEN), which connects
 * inside sendmsg. Non-blocking: EINPROGRESS (the SYN is out) counts as sent.
 */
static int do_send(const char *how, const char *host, int port) {
  struct sockaddr_storage ss;
  socklen_t len;
  int family = fill_addr(host, port, &ss, &len);
  if (family < 0) return usage("bad address");
  int tcp = !strcmp(how, "fastopen");
  int fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
  if (fd < 0) return report(-1);
  char data[] = "vprobe";
  ssize_t rc;
  if (!strcmp(how, "sendmsg")) {
    struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
    struct msghdr msg = {.msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
    rc = sendmsg(fd, &msg, 0);
  } else {
    rc = sendto(fd, data, sizeof(data), tcp ? MSG_FASTOPEN : 0, (struct sockaddr *)&ss, len);
  }
  if (rc < 0 && errno == EINPROGRESS) rc = 0;
  report(rc < 0 ? -1 : 0);
  close(fd);
  return 0;
}

/* openat2(2) of path under dir with RESOLVE_* words (comma separated, or "none"). */
static int do_openat2(const char *dir, const char *path, const char *words) {
  struct open_how how = {.flags = O_RDONLY};
  char buf[128];
  snprintf(buf, sizeof(buf), "%s", words);
  for (char *w = strtok(buf, ","); w; w = strtok(NULL, ",")) {
    if (!strcmp(w, "beneath")) how.resolve |= RESOLVE_BENEATH;
    else if (!strcmp(w, "in-root")) how.resolve |= RESOLVE_IN_ROOT;
    else if (!strcmp(w, "no-symlinks")) how.resolve |= RESOLVE_NO_SYMLINKS;
    else if (!strcmp(w, "no-magiclinks")) how.resolve |= RESOLVE_NO_MAGICLINKS;
    else if (!strcmp(w, "no-xdev")) how.resolve |= RESOLVE_NO_XDEV;
    else if (!strcmp(w, "cached")) how.resolve |= RESOLVE_CACHED;
    else if (strcmp(w, "none")) return usage("unknown RESOLVE_ word");
  }
  int dfd = open(dir, O_PATH | O_DIRECTORY);
  if (dfd < 0) return report(-1);
  int fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
  report(fd);
  if (fd >= 0) close(fd);
  return 0;
}

/* An O_PATH fd (no open check for reading), then a real open through /proc/self/fd/N. */
static int do_opath_reopen(const char *path, const char *mode) {
  int fl = open_flags(mode);
  if (fl < 0) return usage("open mode is r, w, rw or a");
  int pfd = open(path, O_PATH);
  if (pfd < 0) return report(-1);
  char link[64];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", pfd);
  int fd = open(link, fl);
  report(fd);
  if (fd >= 0) close(fd);
  return 0;
}

/*
 * io_uring without liburing: one SQE, one CQE. Prints the errno name of the setup call with a
 * `setup` detail when io_uring is unavailable (ENOSYS: not built; EPERM: kernel.io_uring_disabled),
 * so the case can say why it skipped; otherwise the result of the operation itself.
 */
static int do_uring(const char *op, char **a, int n) {
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  int ring = syscall(SYS_io_uring_setup, 4, &p);
  if (ring < 0) {
    printf("%s setup\n", strerrorname_np(errno) ? strerrorname_np(errno) : "EUNKNOWN");
    return 0;
  }
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(__u32);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
  char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
  struct io_uring_sqe *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) return report(-1);
  struct io_uring_sqe *e = &sqes[0];
  memset(e, 0, sizeof(*e));
  struct sockaddr_storage ss;
  socklen_t len = 0;
  int sock = -1;
  if (!strcmp(op, "open") && n == 2) {
    e->opcode = IORING_OP_OPENAT;
    e->fd = AT_FDCWD;
    e->addr = (unsigned long)a[0];
    e->open_flags = open_flags(a[1]);
  } else if (!strcmp(op, "connect") && n == 2) {
    int family = fill_addr(a[0], atoi(a[1]), &ss, &len);
    if (family < 0) return usage("bad address");
    sock = socket(family, SOCK_DGRAM, 0);
    if (sock < 0) return report(-1);
    e->opcode = IORING_OP_CONNECT;
    e->fd = sock;
    e->addr = (unsigned long)&ss;
    e->off = len;
  } else if (!strcmp(op, "rename") && n == 2) {
    e->opcode = IORING_OP_RENAMEAT;
    e->fd = AT_FDCWD;
    e->addr = (unsigned long)a[0];
    e->len = AT_FDCWD;
    e->addr2 = (unsigned long)a[1];
  } else {
    return usage("uring open PATH MODE | connect HOST PORT | rename FROM TO");
  }
  __u32 *tail = (__u32 *)(sq + p.sq_off.tail);
  __u32 *array = (__u32 *)(sq + p.sq_off.array);
  array[*tail & *(__u32 *)(sq + p.sq_off.ring_mask)] = 0;
  __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
  if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) return report(-1);
  __u32 head = __atomic_load_n((__u32 *)(cq + p.cq_off.head), __ATOMIC_ACQUIRE);
  struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes) + (head & *(__u32 *)(cq + p.cq_off.ring_mask));
  int res = cqe->res;
  if (res >= 0 && !strcmp(op, "open")) close(res);
  if (sock >= 0) close(sock);
  close(ring);
  if (res < 0) errno = -res;
  return report(res < 0 ? -1 : 0);
}

/*
 * Two tasks on one CPU (the guest has one) through the same per-CPU scratch buffer: a child
 * opens `allowed` while the parent opens `denied`, N times each, both in the caller's cgroup.
 * Prints how many denied opens got through and how many allowed ones were refused.
 */
static int do_scratch_race(const char *denied, const char *allowed, long n) {
  int pfd[2];
  if (pipe(pfd) < 0) return report(-1);
  pid_t pid = fork();
  if (pid < 0) return report(-1);
  if (pid == 0) {
    long refused = 0;
    for (long i = 0; i < n; i++) {
      int fd = open(allowed, O_RDONLY);
      if (fd >= 0) close(fd); else refused++;
    }
    if (write(pfd[1], &refused, sizeof(refused)) < 0) _exit(1);
    _exit(0);
  }
  long leaked = 0, other = 0, refused = -1;
  for (long i = 0; i < n; i++) {
    int fd = open(denied, O_RDONLY);
    if (fd >= 0) { leaked++; close(fd); }
    else if (errno != EPERM) other++;
  }
  if (read(pfd[0], &refused, sizeof(refused)) != sizeof(refused)) refused = -1;
  waitpid(pid, NULL, 0);
  printf("OK leaked=%ld refused=%ld other=%ld\n", leaked, refused, other);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int i = 1;
  if (i + 1 < argc && !strcmp(argv[i], "-c")) {
    if (join_cgroup(argv[i + 1]) < 0) {
      fprintf(stderr, "vprobe: cannot join cgroup %s: %s\n", argv[i + 1], strerror(errno));
      return 3;
    }
    i += 2;
  }
  if (i >= argc) return usage("missing action");
  const char *op = argv[i++];
  int n = argc - i;
  char **a = argv + i;

  if (!strcmp(op, "open") && n == 2) {
    int fl = open_flags(a[1]);
    if (fl < 0) return usage("open mode is r, w, rw or a");
    int fd = open(a[0], fl);
    report(fd);
    if (fd >= 0) close(fd);
    return 0;
  }
  if (!strcmp(op, "rename") && n == 2) return report(rename(a[0], a[1]));
  if (!strcmp(op, "unlink") && n == 1) return report(unlink(a[0]));
  if (!strcmp(op, "link") && n == 2) return report(link(a[0], a[1]));
  if (!strcmp(op, "symlink") && n == 2) return report(symlink(a[0], a[1]));
  if (!strcmp(op, "chmod") && n == 2) return report(chmod(a[0], strtol(a[1], NULL, 8)));
  if (!strcmp(op, "exec") && n == 1) return run_exec("exec", a[0], NULL);
  if (!strcmp(op, "execveat") && n == 2) return run_exec("execveat", a[0], a[1]);
  if (!strcmp(op, "fexec") && n == 1) return run_exec("fexec", a[0], NULL);
  if (!strcmp(op, "socket") && n == 3) {
    int fd = socket(parse_domain(a[0]), parse_type(a[1]), parse_proto(a[2]));
    report(fd);
    if (fd >= 0) close(fd);
    return 0;
  }
  if (!strcmp(op, "connect") && (n == 2 || n == 3)) return do_connect(a[0], atoi(a[1]), n == 3 ? a[2] : NULL);
  if (!strcmp(op, "attach-filter") && n == 0) return do_attach_filter();
  if (!strcmp(op, "bpf-load") && n == 0) return do_bpf_load();
  if (!strcmp(op, "progs") && n == 0) return do_progs();
  if (!strcmp(op, "ptrace") && n == 1) return do_ptrace(atoi(a[0]));
  if (!strcmp(op, "mount") && n == 3) return report(mount(a[0], a[1], a[2], 0, NULL));
  if (!strcmp(op, "move-mount") && n == 2) return do_move_mount(a[0], a[1]);
  if (!strcmp(op, "umount") && n == 1) return report(umount2(a[0], 0));
  if (!strcmp(op, "userns") && n == 0) return report(unshare(CLONE_NEWUSER));
  if (!strcmp(op, "cap") && n == 1) return do_cap(a[0]);
  if (!strcmp(op, "loop-open") && (n == 2 || n == 3)) return do_loop_open(a[0], atoi(a[1]), n == 3 ? a[2] : "");
  if (!strcmp(op, "open-pause") && n == 4) return do_open_pause(a[0], a[1], a[2], a[3]);
  if (!strcmp(op, "open-chroot") && n == 3) return do_open_chroot(a[0], a[1], a[2]);
  if (!strcmp(op, "exchange") && n == 2) return report(syscall(SYS_renameat2, AT_FDCWD, a[0], AT_FDCWD, a[1], 2 /* RENAME_EXCHANGE */));
  if (!strcmp(op, "mount-move") && n == 2) return report(mount(a[0], a[1], NULL, MS_MOVE, NULL));
  if (!strcmp(op, "sleep") && n == 1) {
    /* a ptrace target: stays alive until killed */
    printf("OK %d\n", getpid());
    sleep(atoi(a[0]));
    return 0;
  }
  if (!strcmp(op, "abbench")) return do_abbench(n, a);
  if (!strcmp(op, "memfd-exec") && n == 2) return run_exec("memfd", a[0], a[1]);
  if (!strcmp(op, "unlinked-exec") && n == 1) return run_exec("unlinked", a[0], NULL);
  if (!strcmp(op, "procfd-exec") && n == 1) return run_exec("procfd", a[0], NULL);
  if (!strcmp(op, "chroot-open") && n == 3) return do_chroot_open(a[0], a[1], a[2]);
  if ((!strcmp(op, "sendto") || !strcmp(op, "sendmsg") || !strcmp(op, "fastopen")) && n == 2) return do_send(op, a[0], atoi(a[1]));
  if (!strcmp(op, "openat2") && n == 3) return do_openat2(a[0], a[1], a[2]);
  if (!strcmp(op, "opath-reopen") && n == 2) return do_opath_reopen(a[0], a[1]);
  if (!strcmp(op, "uring") && n >= 1) return do_uring(a[0], a + 1, n - 1);
  if (!strcmp(op, "bind-mount") && n == 2) return report(mount(a[0], a[1], NULL, MS_BIND, NULL));
  if (!strcmp(op, "scratch-race") && n == 3) return do_scratch_race(a[0], a[1], atol(a[2]));
  return usage("unknown action or wrong number of arguments");
}
