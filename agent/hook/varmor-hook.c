/*
 * varmor-hook: the OCI hook runc runs for every container (createRuntime and poststop, from
 * containerd's base_runtime_spec). It forwards the OCI state (JSON on stdin: id, pid, bundle,
 * annotations) to the varmor agent over a unix socket and waits for the answer, so the agent
 * binds the container's cgroup to its BPF policy before the container's first instruction.
 *
 * Deliberately dumb: no JSON parsing here. The agent parses; the hook only decides whether
 * the container concerns varmor at all (a substring of our annotation keys) and what to do
 * when the agent cannot be reached:
 *   - fail closed for a workload container carrying a BPF annotation at createRuntime: starting
 *     it would run it unconfined, so runc fails the create and the kubelet retries later;
 *   - fail open otherwise (no varmor annotation, sandboxes, poststop, AppArmor/Seccomp only:
 *     runc itself applies those before exec, so nothing is lost).
 *
 * Usage: varmor-hook <createRuntime|poststop> <agent socket>
 * Protocol: "<stage>[ <cgroup path>]\n<state json>", half-close; the agent answers "ok\n" or
 * "deny <reason>\n". The cgroup path is the `0::` line of /proc/<pid>/cgroup read here, in the host's
 * cgroup namespace (runc runs hooks there): an agent in a private cgroup namespace would see it
 * relative to its own.
 * Static, no allocation beyond one buffer: runc waits on it for every container start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_STATE (1 << 20)
#define AGENT_TIMEOUT_SEC 8

static char state[MAX_STATE + 1];

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The unified (v2) cgroup path of the container's init, from "pid":N in the state; "" if none. */
static void cgroup_of_state(char *out, size_t outlen) {
  out[0] = 0;
  const char *p = strstr(state, "\"pid\":");
  if (!p) return;
  long pid = strtol(p + 6, NULL, 10);
  if (pid <= 0) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/cgroup", pid);
  FILE *f = fopen(path, "re");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "0::", 3) != 0) continue;
    size_t n = strcspn(line + 3, "\n");
    if (n > 0 && n < outlen && line[3] == '/') {
      memcpy(out, line + 3, n);
      out[n] = 0;
    }
    break;
  }
  fclose(f);
}

/* Returns 0 on "ok", 1 on "deny" (reason printed), -1 when the agent could not be asked. */
static int ask_agent(const char *socket_path, const char *stage, size_t state_len) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct timeval tv = {.tv_sec = AGENT_TIMEOUT_SEC, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) {
    close(fd);
    return -1;
  }
  strcpy(addr.sun_path, socket_path);
  char cgroup[4096];
  cgroup_of_state(cgroup, sizeof cgroup);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || write_all(fd, stage, strlen(stage)) < 0 ||
      (cgroup[0] && (write_all(fd, " ", 1) < 0 || write_all(fd, cgroup, strlen(cgroup)) < 0)) ||
      write_all(fd, "\n", 1) < 0 || write_all(fd, state, state_len) < 0) {
    close(fd);
    return -1;
  }
  shutdown(fd, SHUT_WR);
  char reply[4096];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (got == sizeof reply - 1) break;
  }
  close(fd);
  reply[got] = 0;
  if (strncmp(reply, "ok", 2) == 0) return 0;
  if (strncmp(reply, "deny", 4) == 0) {
    const char *why = reply + 4;
    while (*why == ' ') why++;
    fprintf(stderr, "varmor-hook: agent refused: %s", why);
    return 1;
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: varmor-hook <createRuntime|poststop> <agent socket>\n");
    return 2;
  }
  const char *stage = argv[1];
  size_t len = 0;
  for (;;) {
    ssize_t r = read(0, state + len, MAX_STATE - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
    if (len == MAX_STATE) break;
  }
  state[len] = 0;

  if (!strstr(state, ".security.beta.varmor.org/")) return 0;
  int is_create = strcmp(stage, "createRuntime") == 0;
  int is_sandbox = strstr(state, "\"io.kubernetes.cri.container-type\":\"sandbox\"") != NULL;
  int must_bind = is_create && !is_sandbox && strstr(state, "container.bpf.security.beta.varmor.org/") != NULL;

  int rc = ask_agent(argv[2], stage, len);
  if (rc == 0) return 0;
  if (rc == 1) return must_bind ? 1 : 0;
  if (must_bind) {
    fprintf(stderr, "varmor-hook: agent at %s unreachable; refusing to start a BPF-confined container unprotected\n",
            argv[2]);
    return 1;
  }
  return 0;
}
