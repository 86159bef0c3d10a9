/*
 * The attack probe: a static binary put into the security suite's test image. Each verb tries
 * one thing from inside the container and prints one line, "<verb> ok" when the attempt
 * succeeded (an escape) or "<verb> errno=<n> <strerror>" when the kernel refused it, so the
 * test asserts on what happened, not on a shell's exit status.
 *
 *   probe syscalls NR...        which of these syscall numbers the container's seccomp filter
 *                               lets through (called with zero arguments, never executed): "<nr> A" (allowed) or "<nr> E<errno>" (denied)
 *   probe modload               init_module(2) and finit_module(2)
 *   probe mount                 mount(2) of a tmpfs and of a cgroup v1 hierarchy
 *   probe unshare-user          unshare(CLONE_NEWUSER), and clone(2) with CLONE_NEWUSER
 *   probe write PATH            open(O_WRONLY) and write one byte
 *   probe read PATH             open and read: prints the byte count
 *   probe devopen MAJ MIN       mknod a block device, then open it for reading
 *   probe ptrace PID            PTRACE_ATTACH to PID
 *   probe connect PATH          connect(2) to a unix socket
 *   probe fds                   the fds this process has, with their targets
 *   probe exe-race SECONDS      for up to SECONDS (1 s after the first catch), opens
 *                               /proc/PID/exe of every process it sees running a file from
 *                               outside the container and tries to write it (directly and
 *                               through a reopen of the kept O_PATH fd, CVE-2019-5736)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void report(const char *what, long r) {
  if (r < 0) printf("%s errno=%d %s\n", what, errno, strerror(errno));
  else printf("%s ok\n", what);
  fflush(stdout);
}

/* ---- syscalls: a user-notification filter on one thread tells allowed from denied ----
 * The probing thread installs its own filter returning SECCOMP_RET_USER_NOTIF for every
 * syscall. seccomp(2): with several filters the action of highest precedence wins, and
 * ERRNO/KILL/TRAP rank above USER_NOTIF, so a syscall the container's filter denies comes back
 * with its errno without a notification, while one it allows reaches our supervisor, which
 * answers with an error: nothing is ever executed. Once probing is done the supervisor lets
 * everything continue so the thread can exit. */
static int g_listener = -1;
static atomic_int g_done, g_ready;
static long g_max;
static char *g_seen;
static int g_err[1024];
static char g_want[1024];

static void *probe_thread(void *arg) {
  (void)arg;
  struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF)};
  struct sock_fprog prog = {.len = 1, .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    perror("no_new_privs");
    exit(2);
  }
  int fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) {
    fprintf(stderr, "seccomp listener: %s\n", strerror(errno));
    exit(2);
  }
  g_listener = fd;
  atomic_store(&g_ready, 1);
  for (long nr = 0; nr < g_max; nr++) {
    if (!g_want[nr]) continue;
    long r = syscall(nr, 0, 0, 0, 0, 0, 0);
    g_err[nr] = r < 0 ? errno : 0;
  }
  atomic_store(&g_done, 1);
  return NULL;
}

static int cmd_syscalls(int n, char **nrs) {
  long max = 0;
  for (int i = 0; i < n; i++) {
    long nr = atol(nrs[i]);
    if (nr >= 0 && nr < 1024) g_want[nr] = 1, max = nr + 1 > max ? nr + 1 : max;
  }
  g_max = max;
  g_seen = calloc((size_t)max, 1);
  pthread_t t;
  pthread_create(&t, NULL, probe_thread, NULL);
  while (!atomic_load(&g_ready)) sched_yield();
  struct seccomp_notif *req = calloc(1, 4096);
  struct seccomp_notif_resp *resp = calloc(1, 4096);
  for (;;) {
    /* RECV blocks while nothing is pending, even after the thread is gone: poll first */
    struct pollfd p = {.fd = g_listener, .events = POLLIN};
    if (poll(&p, 1, 10) > 0 && (p.revents & POLLIN)) {
      memset(req, 0, 4096);
      if (ioctl(g_listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) continue;
      memset(resp, 0, sizeof *resp);
      resp->id = req->id;
      if (atomic_load(&g_done)) {
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      } else {
        if (req->data.nr >= 0 && req->data.nr < max) g_seen[req->data.nr] = 1;
        resp->error = -ENOTRECOVERABLE;
      }
      ioctl(g_listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
      continue;
    }
    if (atomic_load(&g_done) && pthread_tryjoin_np(t, NULL) == 0) break;
  }
  for (long nr = 0; nr < max; nr++) {
    if (!g_want[nr]) continue;
    if (g_seen[nr]) printf("%ld A\n", nr);
    else printf("%ld E%d\n", nr, g_err[nr]);
  }
  fflush(stdout);
  _exit(0);
}

static int cmd_modload(void) {
  report("init_module", syscall(SYS_init_module, "\0asm", 4L, ""));
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  report("finit_module", syscall(SYS_finit_module, fd, "", 0));
  return 0;
}

static int cmd_mount(void) {
  mkdir("/tmp/m1", 0755);
  report("mount-tmpfs", mount("none", "/tmp/m1", "tmpfs", 0, NULL));
  mkdir("/tmp/m2", 0755);
  /* CVE-2022-0492: a fresh v1 hierarchy would expose a writable release_agent */
  report("mount-cgroup1", mount("cgroup", "/tmp/m2", "cgroup", 0, "memory"));
  report("mount-cgroup1-rdma", mount("cgroup", "/tmp/m2", "cgroup", 0, "rdma"));
  report("mount-proc", mount("proc", "/tmp/m2", "proc", 0, NULL));
  return 0;
}

static char stack[64 * 1024];
static int child_fn(void *a) {
  (void)a;
  return 0;
}

static int cmd_unshare_user(void) {
  report("unshare-user", unshare(CLONE_NEWUSER));
  report("unshare-user-mount", unshare(CLONE_NEWUSER | CLONE_NEWNS));
  int pid = clone(child_fn, stack + sizeof stack, CLONE_NEWUSER | SIGCHLD, NULL);
  if (pid > 0) waitpid(pid, NULL, 0);
  report("clone-newuser", pid);
  return 0;
}

static int cmd_write(const char *path) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return report("write-open", -1), 0;
  report("write", write(fd, "h", 1));
  return 0;
}

static int cmd_read(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return report("read-open", -1), 0;
  char b[4096];
  ssize_t n = read(fd, b, sizeof b);
  if (n < 0) return report("read", -1), 0;
  printf("read bytes=%zd\n", n);
  return 0;
}

static int cmd_devopen(unsigned maj, unsigned min) {
  unlink("/tmp/disk");
  long r = mknod("/tmp/disk", S_IFBLK | 0600, makedev(maj, min));
  report("mknod", r);
  if (r < 0) return 0;
  int fd = open("/tmp/disk", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return report("devopen", -1), 0;
  char b[512];
  report("devread", read(fd, b, sizeof b));
  return 0;
}

static int cmd_ptrace(int pid) {
  long r = ptrace(PTRACE_ATTACH, pid, 0, 0);
  report("ptrace", r);
  if (r == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
  return 0;
}

static int cmd_connect(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  report("connect", connect(s, (struct sockaddr *)&a, sizeof a));
  return 0;
}

static int cmd_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return report("opendir", -1), 0;
  int self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    char p[300], t[4096];
    snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(p, t, sizeof t - 1);
    t[n < 0 ? 0 : n] = 0;
    printf("fd %s %s\n", e->d_name, t);
  }
  return 0;
}

/* CVE-2019-5736: catch the runtime's helper while it runs inside the container (an exec),
 * keep an O_PATH fd to its exe and try to write it, now and after it has exec'd or exited
 * (when ETXTBSY no longer protects the file). */
/* open for writing succeeds on a sealed memfd; only a write tells: rewrite the first byte with
 * itself (harmless even where it succeeds, and proof enough) */
static const char *try_write(int w) {
  unsigned char c;
  if (pread(w, &c, 1, 0) != 1) return "read-failed";
  return pwrite(w, &c, 1, 0) == 1 ? "ok" : strerror(errno);
}

static int cmd_exe_race(int seconds) {
  time_t end = time(NULL) + seconds;
  int held[256], nheld = 0, seen = 0, writable = 0;
  char reported[256] = {0};
  time_t first = 0;
  pid_t me = getpid();
  char tried[65536] = {0};
  while (time(NULL) < end) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 1 || pid == me || pid >= (int)sizeof tried || tried[pid]) continue;
      tried[pid] = 1;
      char p[64];
      snprintf(p, sizeof p, "/proc/%d/exe", pid);
      int o = open(p, O_PATH | O_CLOEXEC);
      if (o < 0) continue;
      seen++;
      char t[256];
      ssize_t n = readlink(p, t, sizeof t - 1);
      t[n < 0 ? 0 : n] = 0;
      /* the container's own programs are the container's to rewrite: only other files count */
      struct stat a, b;
      if (fstat(o, &a) == 0 && stat(t, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        close(o);
        continue;
      }
      int w = open(p, O_RDWR | O_CLOEXEC);
      const char *res = w >= 0 ? try_write(w) : strerror(errno);
      printf("exe pid=%d target=%s write=%s\n", pid, t, res);
      if (!strcmp(res, "ok")) writable++;
      if (w >= 0) close(w);
      if (nheld < 256) held[nheld++] = o;
      else close(o);
    }
    if (d) closedir(d);
    /* retry the held fds: the helper may have exited and released ETXTBSY */
    for (int i = 0; i < nheld; i++) {
      char p[64];
      snprintf(p, sizeof p, "/proc/self/fd/%d", held[i]);
      int w = open(p, O_RDWR | O_CLOEXEC);
      if (w >= 0) {
        const char *res = try_write(w);
        if (!strcmp(res, "ok")) writable++, printf("reopen fd=%d write=ok\n", held[i]);
        else if (!reported[i]) reported[i] = 1, printf("reopen fd=%d open=ok write=%s\n", held[i], res);
        close(w);
      }
    }
    /* stop a second after the first catch: the attack had its chance */
    if (seen && !first) first = time(NULL);
    if (first && time(NULL) > first + 1) break;
    usleep(100);
  }
  printf("exe-race seen=%d writable=%d\n", seen, writable);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  const char *v = argv[1];
  if (!strcmp(v, "syscalls") && argc > 2) return cmd_syscalls(argc - 2, argv + 2);
  if (!strcmp(v, "modload")) return cmd_modload();
  if (!strcmp(v, "mount")) return cmd_mount();
  if (!strcmp(v, "unshare-user")) return cmd_unshare_user();
  if (!strcmp(v, "write") && argc > 2) return cmd_write(argv[2]);
  if (!strcmp(v, "read") && argc > 2) return cmd_read(argv[2]);
  if (!strcmp(v, "devopen") && argc > 3) return cmd_devopen((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]));
  if (!strcmp(v, "ptrace") && argc > 2) return cmd_ptrace(atoi(argv[2]));
  if (!strcmp(v, "connect") && argc > 2) return cmd_connect(argv[2]);
  if (!strcmp(v, "fds")) return cmd_fds();
  if (!strcmp(v, "exe-race") && argc > 2) return cmd_exe_race(atoi(argv[2]));
  fprintf(stderr, "probe: unknown verb %s\n", v);
  return 2;
}
