/* A process that installs a Seccomp filter logging mkdir(2) (SECCOMP_RET_LOG) and calls it once:
 * the kernel then writes a type=1326 audit record (agent/events/seccomp-audit.test.ts). */
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <linux/audit.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
int main(int argc, char **argv){
 struct sock_filter f[] = {
  BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, nr)),
  BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_mkdir, 0, 1),
  BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_LOG),
  BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW),
 };
 struct sock_fprog p = { .len = 4, .filter = f };
 prctl(PR_SET_NO_NEW_PRIVS,1,0,0,0);
 if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p)) { perror("seccomp"); return 1; }
 mkdir(argc > 1 ? argv[1] : "/tmp/varmor-seccomp-log", 0755);
 return 0;
}
