/*
 * vprobe: one guarded action per run, for the BPF LSM guest tests.
 *
 * Node cannot issue most of the syscalls the LSM hooks guard (raw sockets, SO_ATTACH_FILTER,
 * ptrace, mount, bpf, unshare, execveat), so the guest scenarios run this static helper.
 * It prints one line: `OK [detail]` or the errno name (e.g. `EPERM`), and exits 0 whatever the
 * action's outcome; exit 2 means bad usage, exit 3 that a global option below failed.
 *
 * Global options, before the action, in any order:
 *   -c DIR        move the process into cgroup DIR first, so the action runs inside (or outside)
 *                 a protected cgroup.
 *   -p PROFILE    AppArmor change-on-exec as runc does it: write `exec PROFILE` to
 *                 /proc/self/attr/apparmor/exec (/proc/self/attr/exec on kernels without the
 *                 per-LSM directory), then re-exec /proc/self/exe without `-p PROFILE`, so the
 *                 cgroup join, -x and the action run in a new image under PROFILE.
 *   -x CAP[,CAP]  drop these capabilities (names as `cap` takes them, e.g. sys_admin) from the
 *                 EFFECTIVE set just before the action: a stand-in for "an LSM denied it", and the
 *                 way to test CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE (and on older kernels
 *                 CAP_SYSLOG) alone, whose kernel checks also accept CAP_SYS_ADMIN (run them with
 *                 -x sys_admin). Unknown name: usage error.
 *   -m            a mount namespace of its own (unshare), as a container has.
 * Order: -p (exec) first, then -c, then -m, then -x, then the action.
 *
 * `cap NAME [ARG]` runs one action per capability whose kernel check is that capability (see
 * cap_actions[]); `setuid-sleep UID SECONDS` leaves a process of another uid behind as the target
 * of `cap kill PID` and `cap sys_ptrace PID`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif

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

/* Loads "r0 = 0; exit" as a socket filter: the fd, or -1 with errno. */
static int bpf_load_fd(void) {
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
  return syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

static int do_bpf_load(void) {
  int fd = bpf_load_fd();
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

/*
 * `cap NAME [ARG]`: one action per capability, each making the kernel check exactly that
 * capability (capable()/ns_capable(), so through security_capable() and every LSM's capable hook;
 * mac_admin is the exception, see there) for a root process in the initial namespaces. Each is
 * harmless and undoes what it changes where it can. Prints `OK` when the kernel let it through, else the errno name, with these exceptions:
 *  - fsetid and block_suspend: the kernel does not fail the call without the capability, it
 *    silently drops the privileged effect (the setgid bit; EPOLLWAKEUP). The action looks for the
 *    effect and prints `EPERM dropped` when it is gone.
 *  - sys_module: ENOENT (no module vprobe_none) means allowed, EPERM denied.
 *  - mac_admin: ENOENT (no profile vprobe-no-such-profile) means allowed, EACCES denied; an
 *    `ERRNO open` answer means the AppArmor file could not be opened (no AppArmor).
 *  - net_broadcast and mac_override: usage error (exit 2): no kernel path checks
 *    CAP_NET_BROADCAST at all, and CAP_MAC_OVERRIDE is checked only by Smack.
 * ARG: fowner, fsetid and lease take a FILE the caller prepares (owned by another uid; for fsetid
 * owned by root with another group); kill and sys_ptrace take the PID of a process of another uid
 * (setuid-sleep). perfmon, bpf, checkpoint_restore and (on older kernels) syslog are also granted
 * by CAP_SYS_ADMIN: test them with `-x sys_admin`. Two also depend on a sysctl, and say so in the
 * detail: perfmon at kernel.perf_event_paranoid > 2 (Debian's level 3 wants CAP_SYS_ADMIN itself,
 * CAP_PERFMON is not enough: lower it to 2 first) and bpf at kernel.unprivileged_bpf_disabled = 0
 * (no check at all).
 */

/* An errno name, for the lines report() does not print. */
static const char *errname(int err) {
  return strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN";
}

/* A fixture the action needs could not be made: `ERRNO setup`, not the action's answer. */
static int setup_failed(void) {
  printf("%s setup\n", errname(errno));
  return 0;
}

/* Creates path (mode) unless it exists. */
static int make_file(const char *path, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd >= 0) return close(fd);
  return errno == EEXIST ? 0 : -1;
}

/* The first integer in a small file such as a sysctl, or dflt. */
static long read_long(const char *path, long dflt) {
  char buf[64];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return dflt;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return dflt;
  buf[n] = 0;
  return strtol(buf, NULL, 10);
}

/* A check against the caller's own mistake: ARG must not already belong to the caller. */
static int owned_by_caller(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && st.st_uid == geteuid();
}

static int in_my_groups(gid_t gid) {
  gid_t groups[256];
  int n = getgroups(256, groups);
  if (gid == getegid()) return 1;
  for (int i = 0; i < n; i++)
    if (groups[i] == gid) return 1;
  return 0;
}

static int target_pid(const char *arg) {
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/%d", atoi(arg));
  /* /proc/PID belongs to the process's euid (it is dumpable) */
  return owned_by_caller(proc) ? -1 : atoi(arg);
}

static int cap_chown(const char *arg) {
  (void)arg;
  if (make_file("/tmp/vprobe-cap", 0644) < 0) return setup_failed();
  return report(chown("/tmp/vprobe-cap", 1234, 1234));
}

static int cap_dac_override(const char *arg) {
  (void)arg;
  /* writing a mode 0000 file: CAP_DAC_READ_SEARCH only covers reads, so this is DAC_OVERRIDE */
  if (make_file("/tmp/vprobe-dac", 0) < 0 || chmod("/tmp/vprobe-dac", 0) < 0) return setup_failed();
  int fd = open("/tmp/vprobe-dac", O_WRONLY | O_CLOEXEC);
  report(fd);
  if (fd >= 0) close(fd);
  return 0;
}

static int cap_dac_read_search(const char *arg) {
  (void)arg;
  /* open_by_handle_at checks capable(CAP_DAC_READ_SEARCH); without O_DIRECTORY there is no
   * relaxed CAP_SYS_ADMIN path (and that path wants CAP_DAC_READ_SEARCH too) */
  struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
  int mount_id;
  if (!fh) return setup_failed();
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mfd < 0 || name_to_handle_at(AT_FDCWD, "/tmp", fh, &mount_id, 0) < 0) return setup_failed();
  int fd = open_by_handle_at(mfd, fh, O_RDONLY | O_CLOEXEC);
  report(fd);
  if (fd >= 0) close(fd);
  close(mfd);
  free(fh);
  return 0;
}

static int cap_fowner(const char *file) {
  struct stat st;
  if (stat(file, &st) < 0 || st.st_uid == geteuid()) return usage("cap fowner FILE: FILE must exist and belong to another uid");
  /* chmod of another uid's file: inode_owner_or_capable() */
  int rc = chmod(file, 0644);
  int err = errno;
  if (rc == 0) chmod(file, st.st_mode & 07777);
  errno = err;
  return report(rc);
}

static int cap_fsetid(const char *file) {
  struct stat st;
  if (stat(file, &st) < 0 || st.st_uid != geteuid() || in_my_groups(st.st_gid))
    return usage("cap fsetid FILE: FILE must be the caller's, with a group the caller is not in");
  /* setattr_prepare keeps S_ISGID only if in_group_or_capable(CAP_FSETID); else drops it, no error */
  mode_t mode = st.st_mode & 07777;
  if (chmod(file, 02755) < 0) return report(-1);
  int kept = stat(file, &st) == 0 && (st.st_mode & S_ISGID);
  chmod(file, mode);
  if (!kept) {
    printf("EPERM dropped\n");
    return 0;
  }
  return report(0);
}

static int cap_kill(const char *arg) {
  int pid = target_pid(arg);
  if (pid <= 0) return usage("cap kill PID: PID must be a process of another uid");
  return report(kill(pid, 0)); /* signal 0: the permission check alone */
}

static int cap_setgid(const char *arg) {
  (void)arg;
  return report(setresgid(1234, 1234, 1234));
}

static int cap_setuid(const char *arg) {
  (void)arg;
  return report(setresuid(1234, 1234, 1234));
}

static int cap_setpcap(const char *arg) {
  (void)arg;
  /* drops from this process's own bounding set only */
  return report(prctl(PR_CAPBSET_DROP, CAP_WAKE_ALARM, 0, 0, 0));
}

static int cap_linux_immutable(const char *arg) {
  (void)arg;
  /* toggling FS_APPEND_FL (fileattr_set_prepare); ext4, and tmpfs since 6.0, support it */
  const char *path = "/tmp/vprobe-imm";
  int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  int flags;
  if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) return setup_failed();
  int want = flags ^ FS_APPEND_FL;
  int rc = ioctl(fd, FS_IOC_SETFLAGS, &want);
  int err = errno;
  if (rc == 0 && (want & FS_APPEND_FL)) {
    int off = flags & ~FS_APPEND_FL;
    ioctl(fd, FS_IOC_SETFLAGS, &off);
  }
  close(fd);
  unlink(path);
  errno = err;
  return report(rc);
}

static int cap_net_bind_service(const char *arg) {
  (void)arg;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return setup_failed();
  /* Root binding below 1024 is the classic CAP_NET_BIND_SERVICE check. */
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(81), .sin_addr = {htonl(INADDR_LOOPBACK)}};
  report(bind(fd, (struct sockaddr *)&a, sizeof(a)));
  close(fd);
  return 0;
}

static int cap_net_admin(const char *arg) {
  (void)arg;
  /* SO_RCVBUFFORCE wants CAP_NET_ADMIN alone (SO_MARK also accepts CAP_NET_RAW) */
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int size = 65536;
  if (fd < 0) return setup_failed();
  report(setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)));
  close(fd);
  return 0;
}

static int cap_net_raw(const char *arg) {
  (void)arg;
  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd >= 0) close(fd);
  return report(fd);
}

static int cap_ipc_lock(const char *arg) {
  (void)arg;
  /* with RLIMIT_MEMLOCK 0, can_do_mlock() is capable(CAP_IPC_LOCK) */
  struct rlimit zero = {0, 0};
  long page = sysconf(_SC_PAGESIZE);
  void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED || setrlimit(RLIMIT_MEMLOCK, &zero) < 0) return setup_failed();
  int rc = mlock(p, page);
  report(rc);
  if (rc == 0) munlock(p, page);
  return 0;
}

static int cap_ipc_owner(const char *arg) {
  (void)arg;
  /* a queue of mode 0000: ipcperms() grants the owner nothing, unless CAP_IPC_OWNER */
  int id = msgget(IPC_PRIVATE, IPC_CREAT | 0000);
  struct msqid_ds ds;
  if (id < 0) return setup_failed();
  report(msgctl(id, IPC_STAT, &ds));
  msgctl(id, IPC_RMID, NULL); /* the creator may always remove it */
  return 0;
}

static int cap_sys_module(const char *arg) {
  (void)arg;
  /* the capability check comes before the module lookup: ENOENT = allowed */
  return report(syscall(SYS_delete_module, "vprobe_none", O_NONBLOCK));
}

static int cap_sys_rawio(const char *arg) {
  (void)arg;
#if defined(__x86_64__) || defined(__i386__)
  /* access to the POST port, given back at once */
  int rc = ioperm(0x80, 1, 1);
  if (rc == 0) ioperm(0x80, 1, 0);
  if (rc == 0 || errno != ENOSYS) return report(rc);
#endif
  /* kernels without ioperm: opening /dev/mem checks capable(CAP_SYS_RAWIO) (open_port) */
  int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) close(fd);
  return report(fd);
}

static int cap_sys_chroot(const char *arg) {
  (void)arg;
  return report(chroot("/"));
}

static int cap_sys_ptrace(const char *arg) {
  int pid = target_pid(arg);
  if (pid <= 0) return usage("cap sys_ptrace PID: PID must be a process of another uid");
  return do_ptrace(pid);
}

static int cap_sys_pacct(const char *arg) {
  (void)arg;
  return report(acct(NULL)); /* switches accounting off (it is off anyway in the guest) */
}

static int cap_sys_admin(const char *arg) {
  (void)arg;
  /* sets the hostname it already has */
  struct utsname u;
  if (uname(&u) < 0) return setup_failed();
  return report(sethostname(u.nodename, strlen(u.nodename)));
}

static int cap_sys_boot(const char *arg) {
  (void)arg;
  /* Only ever CAD_ON or CAD_OFF, whichever ctrl-alt-del already says: no change, no reboot. */
  unsigned int cmd = read_long("/proc/sys/kernel/ctrl-alt-del", 0) ? LINUX_REBOOT_CMD_CAD_ON : LINUX_REBOOT_CMD_CAD_OFF;
  return report(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd, NULL));
}

static int cap_sys_nice(const char *arg) {
  (void)arg;
  /* with RLIMIT_NICE 0, lowering the nice value needs CAP_SYS_NICE (can_nice); EACCES */
  struct rlimit zero = {0, 0};
  if (setrlimit(RLIMIT_NICE, &zero) < 0) return setup_failed();
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  if (errno) return setup_failed();
  return report(setpriority(PRIO_PROCESS, 0, nice - 1));
}

static int cap_sys_resource(const char *arg) {
  (void)arg;
  /* lower the hard RLIMIT_NOFILE by one (free), then raise it back (CAP_SYS_RESOURCE) */
  struct rlimit r, lower;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_max == 0) return setup_failed();
  lower.rlim_max = r.rlim_max - 1;
  lower.rlim_cur = r.rlim_cur < lower.rlim_max ? r.rlim_cur : lower.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lower) < 0) return setup_failed();
  return report(setrlimit(RLIMIT_NOFILE, &r));
}

static int cap_sys_time(const char *arg) {
  (void)arg;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return report(clock_settime(CLOCK_REALTIME, &ts));
}

static int cap_sys_tty_config(const char *arg) {
  (void)arg;
  /* vhangup() hangs up the controlling terminal: run it in a child that has none (setsid) */
  pid_t pid = fork();
  if (pid < 0) return setup_failed();
  if (pid == 0) {
    if (setsid() < 0) _exit(255);
    _exit(vhangup() < 0 ? errno : 0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 255) return setup_failed();
  errno = WEXITSTATUS(status);
  return report(errno ? -1 : 0);
}

static int cap_mknod(const char *arg) {
  (void)arg;
  const char *path = "/tmp/vprobe-null";
  unlink(path);
  int rc = mknod(path, S_IFCHR | 0600, makedev(1, 3));
  report(rc);
  if (rc == 0) unlink(path);
  return 0;
}

static int cap_lease(const char *file) {
  if (owned_by_caller(file)) return usage("cap lease FILE: FILE must belong to another uid");
  /* a lease on a file the caller does not own needs CAP_LEASE (generic_setlease); EACCES */
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return setup_failed();
  int rc = fcntl(fd, F_SETLEASE, F_RDLCK);
  report(rc);
  if (rc == 0) fcntl(fd, F_SETLEASE, F_UNLCK);
  close(fd);
  return 0;
}

/*
 * Sends one audit netlink request with NLM_F_ACK and returns the kernel's answer: 0, or -1 with
 * errno from the ack (audit_netlink_ok() runs in the sender's context, on the socket's creds).
 */
static int audit_request(int type, const char *text) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return -1;
  struct {
    struct nlmsghdr h;
    char data[256];
  } req;
  memset(&req, 0, sizeof(req));
  int len = text ? strlen(text) + 1 : 0;
  req.h.nlmsg_len = NLMSG_LENGTH(len);
  req.h.nlmsg_type = type;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.h.nlmsg_seq = 1;
  if (text) memcpy(NLMSG_DATA(&req.h), text, len);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
  int rc = -1;
  errno = EPROTO;
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  if (n > 0) {
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (NLMSG_OK(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        rc = e < 0 ? -1 : 0;
        if (e < 0) errno = -e;
      } else {
        rc = 0; /* the AUDIT_GET reply itself */
      }
    }
  }
  int err = errno;
  close(fd);
  errno = err;
  return rc;
}

static int cap_audit_write(const char *arg) {
  (void)arg;
  return report(audit_request(AUDIT_USER, "vprobe cap audit_write"));
}

static int cap_audit_control(const char *arg) {
  (void)arg;
  return report(audit_request(AUDIT_GET, NULL)); /* reads the audit status */
}

static int cap_audit_read(const char *arg) {
  (void)arg;
  /* joining the read-only log multicast group (audit_multicast_bind) */
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return report(-1);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1)};
  report(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
  close(fd);
  return 0;
}

static int cap_setfcap(const char *arg) {
  (void)arg;
  /* a v2 file capability (CAP_NET_RAW permitted): cap_convert_nscap() checks CAP_SETFCAP */
  const char *path = "/tmp/vprobe-fcap";
  unlink(path);
  if (make_file(path, 0755) < 0) return setup_failed();
  struct vfs_cap_data cap;
  memset(&cap, 0, sizeof(cap));
  cap.magic_etc = VFS_CAP_REVISION_2;
  cap.data[0].permitted = 1u << CAP_NET_RAW;
  int rc = setxattr(path, "security.capability", &cap, XATTR_CAPS_SZ_2, 0);
  report(rc);
  unlink(path);
  return 0;
}

static int cap_mac_admin(const char *arg) {
  (void)arg;
  /*
   * Removing a profile that does not exist: aa_may_manage_policy() wants CAP_MAC_ADMIN (EACCES
   * without), then ENOENT. Caveat: AppArmor checks it with cap_capable() + its own aa_capable(),
   * not security_capable(), so other LSMs' capable hooks (the BPF LSM's) never see this check;
   * -x and AppArmor profiles do. No check through security_capable() is reachable without
   * SafeSetID, IPE or Smack.
   */
  int fd = open("/sys/kernel/security/apparmor/.remove", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    printf("%s open\n", errname(errno));
    return 0;
  }
  const char *name = "vprobe-no-such-profile";
  ssize_t n = write(fd, name, strlen(name));
  report(n < 0 ? -1 : 0);
  close(fd);
  return 0;
}

static int cap_syslog(const char *arg) {
  (void)arg;
  /* SYSLOG_ACTION_SIZE_UNREAD is always restricted (check_syslog_permissions); older kernels
   * accept CAP_SYS_ADMIN too (with a "deprecated" warning; 6.18 does not): use -x sys_admin */
  return report(syscall(SYS_syslog, 9, NULL, 0));
}

static int cap_wake_alarm(const char *arg) {
  (void)arg;
  int fd = timerfd_create(CLOCK_BOOTTIME_ALARM, TFD_CLOEXEC);
  if (fd >= 0) close(fd);
  return report(fd);
}

static int cap_block_suspend(const char *arg) {
  (void)arg;
  /* ep_take_care_of_epollwakeup() clears EPOLLWAKEUP without CAP_BLOCK_SUSPEND: read it back */
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int efd = eventfd(0, EFD_CLOEXEC);
  if (ep < 0 || efd < 0) return setup_failed();
  struct epoll_event ev = {.events = EPOLLIN | EPOLLWAKEUP};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) return report(-1);
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ep);
  FILE *f = fopen(path, "r");
  unsigned int events = 0;
  int found = 0;
  while (f && !found && fgets(line, sizeof(line), f)) {
    char *e = strstr(line, "events:");
    if (!strncmp(line, "tfd:", 4) && e && sscanf(e + 7, "%x", &events) == 1) found = 1;
  }
  if (f) fclose(f);
  close(efd);
  close(ep);
  if (!found) {
    errno = ENODATA;
    return setup_failed();
  }
  if (!(events & EPOLLWAKEUP)) {
    printf("EPERM dropped\n");
    return 0;
  }
  return report(0);
}

static int cap_perfmon(const char *arg) {
  (void)arg;
  /* a CPU-wide counter including the kernel: perf_allow_kernel/perf_allow_cpu ->
   * perfmon_capable() (CAP_PERFMON or CAP_SYS_ADMIN) */
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof(attr);
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.disabled = 1;
  int fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
  int err = errno;
  if (fd >= 0) close(fd);
  long paranoid = read_long("/proc/sys/kernel/perf_event_paranoid", 2);
  /* Debian's level 3 adds a capable(CAP_SYS_ADMIN) check of its own: CAP_PERFMON is not enough */
  if (paranoid > 2) {
    printf("%s paranoid=%ld\n", fd >= 0 ? "OK" : errname(err), paranoid);
    return 0;
  }
  errno = err;
  return report(fd);
}

static int cap_bpf(const char *arg) {
  (void)arg;
  /* with kernel.unprivileged_bpf_disabled set, any BPF_PROG_LOAD needs bpf_capable()
   * (CAP_BPF or CAP_SYS_ADMIN); at 0 a socket filter needs nothing, and the line says so */
  int fd = bpf_load_fd();
  int err = errno;
  if (fd >= 0) close(fd);
  if (read_long("/proc/sys/kernel/unprivileged_bpf_disabled", 1) == 0) {
    printf("%s unprivileged_bpf_disabled=0\n", fd >= 0 ? "OK" : errname(err));
    return 0;
  }
  errno = err;
  return report(fd);
}

static int cap_checkpoint_restore(const char *arg) {
  (void)arg;
  /* writing ns_last_pid (its own value back) needs checkpoint_restore_ns_capable() */
  char buf[32];
  int fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf), 0);
  if (n <= 0) return setup_failed();
  report(pwrite(fd, buf, n, 0) < 0 ? -1 : 0);
  close(fd);
  return 0;
}

/*
 * name -> capability number and action. arg: the action needs ARG. none: no kernel path checks
 * the capability (Debian kernel, the guest's LSMs), so `cap NAME` is a usage error; the name
 * still counts for -x.
 */
struct cap_action {
  const char *name;
  int cap;
  int arg;
  int (*run)(const char *arg);
  const char *none;
};

static const struct cap_action cap_actions[] = {
    {"chown", CAP_CHOWN, 0, cap_chown, NULL},
    {"dac_override", CAP_DAC_OVERRIDE, 0, cap_dac_override, NULL},
    {"dac_read_search", CAP_DAC_READ_SEARCH, 0, cap_dac_read_search, NULL},
    {"fowner", CAP_FOWNER, 1, cap_fowner, NULL},
    {"fsetid", CAP_FSETID, 1, cap_fsetid, NULL},
    {"kill", CAP_KILL, 1, cap_kill, NULL},
    {"setgid", CAP_SETGID, 0, cap_setgid, NULL},
    {"setuid", CAP_SETUID, 0, cap_setuid, NULL},
    {"setpcap", CAP_SETPCAP, 0, cap_setpcap, NULL},
    {"linux_immutable", CAP_LINUX_IMMUTABLE, 0, cap_linux_immutable, NULL},
    {"net_bind_service", CAP_NET_BIND_SERVICE, 0, cap_net_bind_service, NULL},
    {"net_broadcast", CAP_NET_BROADCAST, 0, NULL, "no kernel path checks CAP_NET_BROADCAST"},
    {"net_admin", CAP_NET_ADMIN, 0, cap_net_admin, NULL},
    {"net_raw", CAP_NET_RAW, 0, cap_net_raw, NULL},
    {"ipc_lock", CAP_IPC_LOCK, 0, cap_ipc_lock, NULL},
    {"ipc_owner", CAP_IPC_OWNER, 0, cap_ipc_owner, NULL},
    {"sys_module", CAP_SYS_MODULE, 0, cap_sys_module, NULL},
    {"sys_rawio", CAP_SYS_RAWIO, 0, cap_sys_rawio, NULL},
    {"sys_chroot", CAP_SYS_CHROOT, 0, cap_sys_chroot, NULL},
    {"sys_ptrace", CAP_SYS_PTRACE, 1, cap_sys_ptrace, NULL},
    {"sys_pacct", CAP_SYS_PACCT, 0, cap_sys_pacct, NULL},
    {"sys_admin", CAP_SYS_ADMIN, 0, cap_sys_admin, NULL},
    {"sys_boot", CAP_SYS_BOOT, 0, cap_sys_boot, NULL},
    {"sys_nice", CAP_SYS_NICE, 0, cap_sys_nice, NULL},
    {"sys_resource", CAP_SYS_RESOURCE, 0, cap_sys_resource, NULL},
    {"sys_time", CAP_SYS_TIME, 0, cap_sys_time, NULL},
    {"sys_tty_config", CAP_SYS_TTY_CONFIG, 0, cap_sys_tty_config, NULL},
    {"mknod", CAP_MKNOD, 0, cap_mknod, NULL},
    {"lease", CAP_LEASE, 1, cap_lease, NULL},
    {"audit_write", CAP_AUDIT_WRITE, 0, cap_audit_write, NULL},
    {"audit_control", CAP_AUDIT_CONTROL, 0, cap_audit_control, NULL},
    {"setfcap", CAP_SETFCAP, 0, cap_setfcap, NULL},
    {"mac_override", CAP_MAC_OVERRIDE, 0, NULL, "no kernel path checks CAP_MAC_OVERRIDE without Smack"},
    {"mac_admin", CAP_MAC_ADMIN, 0, cap_mac_admin, NULL},
    {"syslog", CAP_SYSLOG, 0, cap_syslog, NULL},
    {"wake_alarm", CAP_WAKE_ALARM, 0, cap_wake_alarm, NULL},
    {"block_suspend", CAP_BLOCK_SUSPEND, 0, cap_block_suspend, NULL},
    {"audit_read", CAP_AUDIT_READ, 0, cap_audit_read, NULL},
    {"perfmon", CAP_PERFMON, 0, cap_perfmon, NULL},
    {"bpf", CAP_BPF, 0, cap_bpf, NULL},
    {"checkpoint_restore", CAP_CHECKPOINT_RESTORE, 0, cap_checkpoint_restore, NULL},
};

static const struct cap_action *find_cap(const char *name) {
  for (size_t i = 0; i < sizeof(cap_actions) / sizeof(cap_actions[0]); i++)
    if (!strcmp(cap_actions[i].name, name)) return &cap_actions[i];
  return NULL;
}

/* One action that needs the named capability, even for root. */
static int do_cap(const char *name, const char *arg) {
  const struct cap_action *c = find_cap(name);
  if (!c) return usage("unknown capability action");
  if (c->none) return usage(c->none);
  if (c->arg != (arg != NULL)) return usage(c->arg ? "this cap action takes an argument" : "this cap action takes no argument");
  return c->run(arg);
}

/* -x: the capability mask of a comma-separated list of names, or 0 with an unknown name. */
static unsigned long long cap_mask(const char *list) {
  unsigned long long mask = 0;
  char buf[512];
  snprintf(buf, sizeof(buf), "%s", list);
  for (char *w = strtok(buf, ","); w; w = strtok(NULL, ",")) {
    const struct cap_action *c = find_cap(w);
    if (!c) return 0;
    mask |= 1ULL << c->cap;
  }
  return mask;
}

/* Clears mask from the effective set (always allowed: the permitted set stays as it was). */
static int drop_effective(unsigned long long mask) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) < 0) return -1;
  data[0].effective &= ~(unsigned int)mask;
  data[1].effective &= ~(unsigned int)(mask >> 32);
  return syscall(SYS_capset, &hdr, data);
}

/* AppArmor change-on-exec, as runc does it: the next exec runs under profile. */
static int set_exec_profile(const char *profile) {
  char buf[4096];
  int n = snprintf(buf, sizeof(buf), "exec %s", profile);
  if (n >= (int)sizeof(buf)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open("/proc/self/attr/apparmor/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) fd = open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t w = write(fd, buf, n);
  int err = w < 0 ? errno : EIO;
  close(fd);
  if (w == n) return 0;
  errno = err;
  return -1;
}

/*
 * `setuid-sleep UID SECONDS`: leaves a child of uid and gid UID sleeping, the target of
 * `cap kill PID` and `cap sys_ptrace PID`, and prints `OK PID` once it has changed uid (a pipe
 * says when) without waiting for it. It stays dumpable (changing uid makes it follow
 * fs.suid_dumpable), so only the uid difference, i.e. the capability, stands in ptrace's way.
 */
static int do_setuid_sleep(uid_t uid, int seconds) {
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) return report(-1);
  pid_t pid = fork();
  if (pid < 0) return report(-1);
  if (pid == 0) {
    close(pfd[0]);
    /* no stdout: the caller reads ours until it closes */
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
    setsid();
    int err = 0;
    if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0 ||
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
      err = errno;
    if (write(pfd[1], &err, sizeof(err)) < 0 || err) _exit(1);
    close(pfd[1]);
    sleep(seconds);
    _exit(0);
  }
  close(pfd[1]);
  int err = EIO;
  if (read(pfd[0], &err, sizeof(err)) != sizeof(err)) err = EIO;
  close(pfd[0]);
  if (err) {
    waitpid(pid, NULL, 0);
    errno = err;
    return report(-1);
  }
  printf("OK %d\n", pid);
  return 0;
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
  const char *cgroup = NULL, *profile = NULL;
  unsigned long long drop = 0;
  int profile_at = 0;
  int new_mntns = 0;
  for (;;) {
    if (i < argc && !strcmp(argv[i], "-m")) {
      new_mntns = 1;
      i++;
      continue;
    }
    if (!(i + 1 < argc && (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-p") || !strcmp(argv[i], "-x")))) break;
    if (argv[i][1] == 'c') cgroup = argv[i + 1];
    if (argv[i][1] == 'p') { profile = argv[i + 1]; profile_at = i; }
    if (argv[i][1] == 'x' && !(drop = cap_mask(argv[i + 1]))) return usage("-x: unknown capability name");
    i += 2;
  }
  if (i >= argc) return usage("missing action");
  if (profile) {
    if (set_exec_profile(profile) < 0) {
      fprintf(stderr, "vprobe: cannot set AppArmor exec profile %s: %s\n", profile, strerror(errno));
      return 3;
    }
    /* the same command line without `-p PROFILE`, in the image the profile applies to */
    char **args = calloc(argc, sizeof(char *));
    if (!args) return usage("out of memory");
    int k = 0;
    for (int j = 0; j < argc; j++)
      if (j != profile_at && j != profile_at + 1) args[k++] = argv[j];
    args[k] = NULL;
    execv("/proc/self/exe", args);
    fprintf(stderr, "vprobe: cannot exec /proc/self/exe: %s\n", strerror(errno));
    return 3;
  }
  if (cgroup && join_cgroup(cgroup) < 0) {
    fprintf(stderr, "vprobe: cannot join cgroup %s: %s\n", cgroup, strerror(errno));
    return 3;
  }
  /* a mount namespace of its own, as a container has: the BPF ptrace rules tell peers apart by it */
  if (new_mntns && unshare(CLONE_NEWNS) < 0) {
    fprintf(stderr, "vprobe: cannot unshare the mount namespace: %s\n", strerror(errno));
    return 3;
  }
  if (drop && drop_effective(drop) < 0) {
    fprintf(stderr, "vprobe: cannot drop capabilities %#llx: %s\n", drop, strerror(errno));
    return 3;
  }
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
  if (!strcmp(op, "cap") && (n == 1 || n == 2)) return do_cap(a[0], n == 2 ? a[1] : NULL);
  if (!strcmp(op, "setuid-sleep") && n == 2) return do_setuid_sleep(strtoul(a[0], NULL, 10), atoi(a[1]));
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
  if (!strcmp(op, "userfaultfd") && n == 0) {
    int fd = syscall(SYS_userfaultfd, 0);
    report(fd);
    if (fd >= 0) close(fd);
    return 0;
  }
  if (!strcmp(op, "splice") && n == 1) {
    /* a file's first byte into a pipe: Dirty Pipe's entry point */
    int fd = open(a[0], O_RDONLY), p[2];
    if (fd < 0 || pipe(p) < 0) return report(-1);
    return report(splice(fd, NULL, p[1], NULL, 1, 0) < 0 ? -1 : 0);
  }
  if (!strcmp(op, "scratch-race") && n == 3) return do_scratch_race(a[0], a[1], atol(a[2]));
  return usage("unknown action or wrong number of arguments");
}
