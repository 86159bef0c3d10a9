/*
 * Test helper for berth's seccomp compiler: installs a compiled BPF filter the way the runtime's
 * init helper does (PR_SET_NO_NEW_PRIVS, then seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)),
 * then tries syscalls and prints one line per try: "<op>=ok:<ret>", "<op>=<ERRNO NAME>" or
 * "<op>=SIGSYS:<nr>:<data>" (SECCOMP_RET_TRAP). SECCOMP_RET_KILL_* ends the process with SIGSYS.
 *
 *   seccomp-try FILTER.bpf FLAGS OP...
 * OPs: getpid, mkdir:PATH, unshare:FLAGS, clone:FLAGS, clone3, socket:DOMAIN, personality:VAL,
 *      sys:NR[:ARG0[:ARG1...]] (raw syscall; only harmless ones), int80:NR (i386 ABI call),
 *      notify:OP (filter made with NEW_LISTENER: a child runs OP, this process answers the
 *      notification with 4242 and prints "notified:<nr>").
 * Numbers take C syntax (0x...). Build: gcc -O2 -o seccomp-try seccomp-try.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t trapped;
static volatile int trap_nr, trap_data;

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  trapped = 1;
  trap_nr = si->si_syscall;
  trap_data = si->si_errno; /* SECCOMP_RET_DATA */
}

static unsigned long num(const char *s) { return strtoul(s, NULL, 0); }

static long raw_int80(long nr) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
#else
  (void)nr;
  errno = ENOSYS;
  return -1;
#endif
}

/* Runs a syscall that may create a child: the child leaves at once. */
static long forked(long ret) {
  if (ret == 0) _exit(0);
  if (ret > 0) waitpid((pid_t)ret, NULL, __WALL);
  return ret;
}

static long try_op(const char *op) {
  const char *arg = strchr(op, ':');
  arg = arg ? arg + 1 : "";
  if (!strcmp(op, "getpid")) return syscall(SYS_getpid);
  if (!strncmp(op, "mkdir:", 6)) return mkdir(arg, 0700);
  if (!strncmp(op, "unshare:", 8)) return unshare((int)num(arg));
  if (!strncmp(op, "clone:", 6)) return forked(syscall(SYS_clone, num(arg) | SIGCHLD, 0, 0, 0, 0));
  if (!strcmp(op, "clone3")) {
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    return forked(syscall(SYS_clone3, &ca, sizeof ca));
  }
  if (!strncmp(op, "socket:", 7)) {
    long fd = socket((int)num(arg), SOCK_STREAM, 0);
    if (fd >= 0) close((int)fd);
    return fd >= 0 ? 0 : -1;
  }
  if (!strncmp(op, "personality:", 12)) return syscall(SYS_personality, num(arg));
  if (!strncmp(op, "int80:", 6)) return raw_int80((long)num(arg));
  if (!strncmp(op, "sys:", 4)) {
    unsigned long v[7] = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", arg);
    int n = 0;
    for (char *tok = strtok(buf, ":"); tok && n < 7; tok = strtok(NULL, ":")) v[n++] = num(tok);
    return syscall((long)v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
  }
  fprintf(stderr, "seccomp-try: unknown op %s\n", op);
  exit(2);
}

static void report(const char *op, long ret, int err) {
  if (trapped) {
    printf("%s=SIGSYS:%d:%d\n", op, trap_nr, trap_data);
    trapped = 0;
  } else if (ret < 0) {
    const char *name = strerrorname_np(err);
    if (name) printf("%s=%s\n", op, name);
    else printf("%s=errno:%d\n", op, err);
  } else {
    printf("%s=ok:%ld\n", op, ret);
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: seccomp-try FILTER.bpf FLAGS OP...\n");
    return 2;
  }
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("open filter");
    return 2;
  }
  static struct sock_filter insns[4096];
  ssize_t n = read(fd, insns, sizeof insns);
  close(fd);
  if (n <= 0 || n % 8) {
    fprintf(stderr, "seccomp-try: bad filter size %zd\n", n);
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &sa, NULL);

  struct sock_fprog prog = {.len = (unsigned short)(n / 8), .filter = insns};
  unsigned long flags = num(argv[2]);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
    perror("prctl(PR_SET_NO_NEW_PRIVS)");
    return 3;
  }
  long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (listener < 0) {
    printf("install=%s\n", strerrorname_np(errno));
    return 3;
  }
  printf("install=ok:%d\n", (int)n / 8);
  fflush(stdout);

  for (int i = 3; i < argc; i++) {
    if (!strncmp(argv[i], "notify:", 7)) {
      const char *op = argv[i] + 7;
      pid_t pid = fork();
      if (pid == 0) {
        errno = 0;
        long r = try_op(op);
        report(op, r, errno);
        _exit(0);
      }
      struct seccomp_notif req;
      struct seccomp_notif_resp resp;
      memset(&req, 0, sizeof req);
      if (ioctl((int)listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
        printf("notified=%s\n", strerrorname_np(errno));
      } else {
        printf("notified:%d\n", req.data.nr);
        fflush(stdout);
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.val = 4242;
        ioctl((int)listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
      }
      waitpid(pid, NULL, 0);
      continue;
    }
    errno = 0;
    long r = try_op(argv[i]);
    report(argv[i], r, errno);
  }
  return 0;
}
