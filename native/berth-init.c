/*
 * berth-init: executes a launch plan compiled by src/runtime/plan.ts between clone() and
 * execve(). The plan format, the message protocol and the process layout are documented in
 * docs/runtime-native.md. No JSON here: one op per line, arguments percent-encoded.
 *
 *   Node --ctl socket--> P (this program, outer) --clone--> C (container init)
 *                        P <--sync seqpacket--> C
 *
 * Only libc. Every failure is reported as "ERROR <step> <ERRNO> <text>" and the process exits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define MAXV 256

/* ---------- the plan ---------- */

struct mnt {
  char *src, *dst, *type, *data;
  unsigned long flags, prop;
  int srcfd; /* bind source, opened before we become the user namespace's root */
};
struct dev {
  char *path;
  char type;
  unsigned major, minor, mode, uid, gid;
};
struct kv {
  char *k, *v;
};
struct rl {
  int res;
  unsigned long long soft, hard;
  char *name;
};
/* MOUNT, MKDEV, SYMLINK and REMOUNT run in plan order (a tmpfs, then what goes on it). */
struct fsop {
  char kind; /* 'M' mount, 'D' device, 'L' symlink, 'R' remount */
  int idx;
};
struct nsjoin {
  int type;
  char *path;
  int fd;
};

static struct {
  int exec_mode;
  char *cgroups[MAXV];
  int ncg;
  char *cgleave[MAXV];
  int ncgleave;
  struct nsjoin join[16];
  int njoin;
  int newflags;
  char uidmap[4096], gidmap[4096];
  int setgroups_deny;
  char timeoffs[256];
  char *rootfs;
  unsigned long rootprop;
  int nopivot, rootro;
  struct mnt mounts[MAXV];
  int nmounts;
  struct dev devs[MAXV];
  int ndevs;
  struct kv links[MAXV];
  int nlinks;
  struct kv remounts[MAXV];
  int nremounts;
  struct fsop fsops[4 * MAXV];
  int nfsops;
  char *hostname, *domainname;
  struct kv sysctls[MAXV];
  int nsysctls;
  char *masked[MAXV];
  int nmasked;
  char *ropaths[MAXV];
  int nropaths;
  struct rl rlimits[32];
  int nrlimits;
  int has_oom, oom;
  unsigned uid, gid;
  gid_t groups[MAXV];
  int ngroups, has_groups;
  int has_umask;
  mode_t umask;
  char *cwd;
  char *env[8192];
  int nenv;
  char *args[8192];
  int nargs;
  int has_caps;
  uint64_t caps[5]; /* bounding effective permitted inheritable ambient */
  int nnp;
  int has_personality, personality;
  int has_ioprio, ioprio;
  int terminal;
  unsigned rows, cols;
  char *console_socket;
  char *fifo;
  int preserve;
  unsigned char *bpf;
  size_t bpf_len;
  unsigned seccomp_flags;
  char *listener_path;      /* linux.seccomp.listenerPath */
  char *listener_parts[16]; /* the state JSON, split where the host pid goes */
  int nlistener_parts;
  int foreground, detach, hooks;
  char *rootdir; /* exec: /proc/PID/root */
} P;

/* ---------- error reporting ---------- */

static int g_errfd = -1;   /* where ERROR lines go: ctl (outer) or sync (init) */
static int g_err_seq = 0;  /* sync is SOCK_SEQPACKET: one message, no newline */

static void enc(char *out, size_t cap, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  if (!*s && cap > 1) {
    out[o++] = '~';
  }
  for (; *s && o + 4 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._/:,=@+-", c))
      out[o++] = c;
    else {
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  out[o] = 0;
}

static void send_line(int fd, int seq, const char *line) {
  size_t n = strlen(line);
  if (seq) {
    (void)!send(fd, line, n, MSG_NOSIGNAL);
    return;
  }
  struct iovec v[2] = {{(void *)line, n}, {"\n", 1}};
  (void)!writev(fd, v, 2);
}

static void report(int err, const char *step) {
  char s[3072], m[512], line[4096];
  const char *name = err ? strerrorname_np(err) : "EUNKNOWN";
  enc(s, sizeof s, step);
  enc(m, sizeof m, err ? strerror(err) : "failed");
  snprintf(line, sizeof line, "ERROR %s %s %s", s, name ? name : "EUNKNOWN", m);
  if (g_errfd >= 0)
    send_line(g_errfd, g_err_seq, line);
  else
    fprintf(stderr, "berth-init: %s: %s\n", step, m);
}

__attribute__((noreturn)) static void outer_exit(int status);

__attribute__((format(printf, 2, 3), noreturn)) static void fail_errno(int err, const char *fmt, ...) {
  char step[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(step, sizeof step, fmt, ap);
  va_end(ap);
  report(err, step);
  outer_exit(1);
}
#define fail(...) fail_errno(errno, __VA_ARGS__)

/* ---------- plan parsing ---------- */

static int hexv(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode in place; "~" alone is the empty string. */
static char *dec(char *s) {
  if (s[0] == '~' && s[1] == 0) {
    s[0] = 0;
    return s;
  }
  char *o = s, *i = s;
  while (*i) {
    if (*i == '%' && hexv(i[1]) >= 0 && hexv(i[2]) >= 0) {
      *o++ = (char)(hexv(i[1]) * 16 + hexv(i[2]));
      i += 3;
    } else
      *o++ = *i++;
  }
  *o = 0;
  return s;
}

static unsigned long long num(const char *s) { return strtoull(s, NULL, 0); }

static int ns_flag(const char *t) {
  static const struct {
    const char *n;
    int f;
  } T[] = {{"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID},       {"mount", CLONE_NEWNS},
           {"uts", CLONE_NEWUTS},   {"ipc", CLONE_NEWIPC},       {"network", CLONE_NEWNET},
           {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME}};
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
    if (!strcmp(T[i].n, t)) return T[i].f;
  errno = EINVAL;
  fail("plan: unknown namespace %s", t);
}

static void parse_line(char **a, int n) {
  const char *op = a[0];
#define NEED(k)                                          \
  do {                                                   \
    if (n < (k) + 1) fail_errno(EINVAL, "plan: %s: missing arguments", op); \
  } while (0)
#define ROOM(cnt, arr)                                                     \
  do {                                                                     \
    if ((size_t)(cnt) >= sizeof(arr) / sizeof((arr)[0])) fail_errno(E2BIG, "plan: too many %s", op); \
  } while (0)
  if (!strcmp(op, "MODE")) {
    NEED(1);
    P.exec_mode = !strcmp(a[1], "exec");
  } else if (!strcmp(op, "CGROUP")) {
    NEED(1);
    ROOM(P.ncg, P.cgroups);
    P.cgroups[P.ncg++] = a[1];
  } else if (!strcmp(op, "CGROUPLEAVE")) {
    NEED(1);
    ROOM(P.ncgleave, P.cgleave);
    P.cgleave[P.ncgleave++] = a[1];
  } else if (!strcmp(op, "NSJOIN")) {
    NEED(2);
    ROOM(P.njoin, P.join);
    P.join[P.njoin].type = ns_flag(a[1]);
    P.join[P.njoin].fd = -1;
    P.join[P.njoin++].path = a[2];
  } else if (!strcmp(op, "NSNEW")) {
    NEED(1);
    P.newflags |= ns_flag(a[1]);
  } else if (!strcmp(op, "UIDMAP") || !strcmp(op, "GIDMAP")) {
    NEED(3);
    char *m = op[0] == 'U' ? P.uidmap : P.gidmap;
    size_t l = strlen(m);
    snprintf(m + l, 4096 - l, "%s %s %s\n", a[1], a[2], a[3]);
  } else if (!strcmp(op, "SETGROUPS")) {
    NEED(1);
    P.setgroups_deny = !strcmp(a[1], "deny");
  } else if (!strcmp(op, "TIMEOFF")) {
    NEED(3);
    size_t l = strlen(P.timeoffs);
    snprintf(P.timeoffs + l, sizeof P.timeoffs - l, "%s %s %s\n", a[1], a[2], a[3]);
  } else if (!strcmp(op, "ROOTFS")) {
    NEED(1);
    P.rootfs = a[1];
  } else if (!strcmp(op, "ROOTPROP")) {
    NEED(1);
    P.rootprop = num(a[1]);
  } else if (!strcmp(op, "NOPIVOT")) {
    P.nopivot = 1;
  } else if (!strcmp(op, "ROOTRO")) {
    P.rootro = 1;
  } else if (!strcmp(op, "MOUNT")) {
    NEED(6);
    ROOM(P.nmounts, P.mounts);
    P.fsops[P.nfsops++] = (struct fsop){'M', P.nmounts};
    struct mnt *m = &P.mounts[P.nmounts++];
    m->src = a[1], m->dst = a[2], m->type = a[3], m->flags = num(a[4]), m->prop = num(a[5]), m->data = a[6];
    m->srcfd = -1;
  } else if (!strcmp(op, "MKDEV")) {
    NEED(7);
    ROOM(P.ndevs, P.devs);
    P.fsops[P.nfsops++] = (struct fsop){'D', P.ndevs};
    struct dev *d = &P.devs[P.ndevs++];
    d->path = a[1], d->type = a[2][0], d->major = num(a[3]), d->minor = num(a[4]), d->mode = num(a[5]);
    d->uid = num(a[6]), d->gid = num(a[7]);
  } else if (!strcmp(op, "SYMLINK")) {
    NEED(2);
    ROOM(P.nlinks, P.links);
    P.fsops[P.nfsops++] = (struct fsop){'L', P.nlinks};
    P.links[P.nlinks].k = a[1], P.links[P.nlinks++].v = a[2];
  } else if (!strcmp(op, "REMOUNT")) {
    NEED(2);
    ROOM(P.nremounts, P.remounts);
    P.fsops[P.nfsops++] = (struct fsop){'R', P.nremounts};
    P.remounts[P.nremounts].k = a[1], P.remounts[P.nremounts++].v = a[2];
  } else if (!strcmp(op, "HOSTNAME")) {
    NEED(1);
    P.hostname = a[1];
  } else if (!strcmp(op, "DOMAINNAME")) {
    NEED(1);
    P.domainname = a[1];
  } else if (!strcmp(op, "SYSCTL")) {
    NEED(2);
    ROOM(P.nsysctls, P.sysctls);
    P.sysctls[P.nsysctls].k = a[1], P.sysctls[P.nsysctls++].v = a[2];
  } else if (!strcmp(op, "MASK")) {
    NEED(1);
    ROOM(P.nmasked, P.masked);
    P.masked[P.nmasked++] = a[1];
  } else if (!strcmp(op, "ROPATH")) {
    NEED(1);
    ROOM(P.nropaths, P.ropaths);
    P.ropaths[P.nropaths++] = a[1];
  } else if (!strcmp(op, "RLIMIT")) {
    NEED(4);
    ROOM(P.nrlimits, P.rlimits);
    struct rl *r = &P.rlimits[P.nrlimits++];
    r->res = num(a[1]), r->soft = num(a[2]), r->hard = num(a[3]), r->name = a[4];
  } else if (!strcmp(op, "OOMSCOREADJ")) {
    NEED(1);
    P.has_oom = 1, P.oom = atoi(a[1]);
  } else if (!strcmp(op, "USER")) {
    NEED(2);
    P.uid = num(a[1]), P.gid = num(a[2]);
  } else if (!strcmp(op, "GROUPS")) {
    P.has_groups = 1;
    for (int i = 1; i < n; i++) {
      ROOM(P.ngroups, P.groups);
      P.groups[P.ngroups++] = num(a[i]);
    }
  } else if (!strcmp(op, "UMASK")) {
    NEED(1);
    P.has_umask = 1, P.umask = num(a[1]);
  } else if (!strcmp(op, "CWD")) {
    NEED(1);
    P.cwd = a[1];
  } else if (!strcmp(op, "ENV")) {
    NEED(1);
    ROOM(P.nenv + 1, P.env);
    P.env[P.nenv++] = a[1];
  } else if (!strcmp(op, "ARG")) {
    NEED(1);
    ROOM(P.nargs + 1, P.args);
    P.args[P.nargs++] = a[1];
  } else if (!strcmp(op, "CAPS")) {
    NEED(5);
    P.has_caps = 1;
    for (int i = 0; i < 5; i++) P.caps[i] = num(a[i + 1]);
  } else if (!strcmp(op, "PERSONALITY")) {
    NEED(1);
    P.has_personality = 1, P.personality = (int)num(a[1]);
  } else if (!strcmp(op, "IOPRIO")) {
    NEED(1);
    P.has_ioprio = 1, P.ioprio = (int)num(a[1]);
  } else if (!strcmp(op, "NONEWPRIVS")) {
    P.nnp = 1;
  } else if (!strcmp(op, "TERMINAL")) {
    NEED(2);
    P.terminal = 1, P.rows = num(a[1]), P.cols = num(a[2]);
  } else if (!strcmp(op, "CONSOLESOCKET")) {
    NEED(1);
    P.console_socket = a[1];
  } else if (!strcmp(op, "FIFO")) {
    NEED(1);
    P.fifo = a[1];
  } else if (!strcmp(op, "PRESERVEFDS")) {
    NEED(1);
    P.preserve = num(a[1]);
  } else if (!strcmp(op, "SECCOMP")) {
    NEED(2);
    P.seccomp_flags = num(a[1]);
    size_t l = strlen(a[2]) / 2;
    P.bpf = malloc(l ? l : 1);
    for (size_t i = 0; i < l; i++) P.bpf[i] = (unsigned char)(hexv(a[2][2 * i]) * 16 + hexv(a[2][2 * i + 1]));
    P.bpf_len = l;
  } else if (!strcmp(op, "SECCOMPLISTENER")) {
    NEED(2);
    P.listener_path = a[1];
    for (int i = 2; i < n; i++) {
      ROOM(P.nlistener_parts, P.listener_parts);
      P.listener_parts[P.nlistener_parts++] = a[i];
    }
  } else if (!strcmp(op, "FOREGROUND")) {
    P.foreground = 1;
  } else if (!strcmp(op, "DETACH")) {
    P.detach = 1;
  } else if (!strcmp(op, "HOOKS")) {
    P.hooks = 1;
  } else if (!strcmp(op, "ROOTDIR")) {
    NEED(1);
    P.rootdir = a[1];
  } else {
    fail_errno(EINVAL, "plan: unknown op %s", op);
  }
}

/* Read lines from ctl until END. Bytes after END stay buffered for later reads. */
static char g_rbuf[1 << 20]; /* one plan line (an env var, an arg) may be long */
static size_t g_rlen;
static char *g_plan;

static char *read_line(int fd) {
  static char line[1 << 20];
  for (;;) {
    char *nl = memchr(g_rbuf, '\n', g_rlen);
    if (nl) {
      size_t l = nl - g_rbuf;
      memcpy(line, g_rbuf, l);
      line[l] = 0;
      memmove(g_rbuf, nl + 1, g_rlen - l - 1);
      g_rlen -= l + 1;
      return line;
    }
    if (g_rlen == sizeof g_rbuf) return NULL;
    ssize_t r = read(fd, g_rbuf + g_rlen, sizeof g_rbuf - g_rlen);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return NULL;
    g_rlen += r;
  }
}

static void read_plan(int fd) {
  size_t cap = 1 << 16, len = 0;
  g_plan = malloc(cap);
  for (;;) {
    char *l = read_line(fd);
    if (!l) fail_errno(EPIPE, "read plan");
    size_t n = strlen(l);
    if (!strcmp(l, "END")) break;
    if (len + n + 1 > cap) {
      /* earlier pointers into g_plan would dangle: keep lines in separate blocks */
      cap = 1 << 16;
      g_plan = malloc(cap > n + 1 ? cap : n + 1);
      cap = cap > n + 1 ? cap : n + 1;
      len = 0;
    }
    char *s = g_plan + len;
    memcpy(s, l, n + 1);
    len += n + 1;
    if (!strncmp(s, "BERTH-PLAN", 10)) continue;
    char *argv[MAXV];
    int argc = 0;
    for (char *tok = strtok(s, " "); tok && argc < MAXV; tok = strtok(NULL, " ")) argv[argc++] = dec(tok);
    if (argc) parse_line(argv, argc);
  }
}

/* ---------- small helpers ---------- */

static void write_file(const char *path, const char *data, const char *step) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("%s: open %s", step, path);
  size_t n = strlen(data);
  if (write(fd, data, n) != (ssize_t)n) fail("%s: write %s", step, path);
  close(fd);
}

static const char *fdpath(int fd) {
  static char b[4][64];
  static int i;
  i = (i + 1) % 4;
  snprintf(b[i], sizeof b[i], "/proc/self/fd/%d", fd);
  return b[i];
}

static int openat2_in(int root, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/') path++;
  if (!*path) path = ".";
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

/*
 * Open `path` inside `root` (symlinks resolved as if root were /: they cannot escape), creating
 * missing directories and, if `file`, the last component as an empty file (like mkdir -p in a
 * chroot). A dangling symlink on the way is followed inside the root, as the kernel would.
 * Returns an O_PATH fd.
 */
static int mkpath_in(int root, const char *path, int file) {
  char cur[PATH_MAX];
  snprintf(cur, sizeof cur, "%s", path);
  for (int iter = 0; iter < 40; iter++) {
    int fd = openat2_in(root, cur, O_PATH);
    if (fd >= 0 || errno != ENOENT) return fd;
    char pre[PATH_MAX] = "";
    char *save = NULL, work[PATH_MAX];
    snprintf(work, sizeof work, "%s", cur);
    int restart = 0;
    for (char *c = strtok_r(work, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
      char next[PATH_MAX];
      snprintf(next, sizeof next, "%s/%s", pre, c);
      int f = openat2_in(root, next, O_PATH);
      if (f >= 0) {
        close(f);
        memcpy(pre, next, sizeof pre);
        continue;
      }
      if (errno != ENOENT) return -1;
      int parent = openat2_in(root, pre[0] ? pre : "/", O_PATH | O_DIRECTORY);
      if (parent < 0) return -1;
      char lnk[PATH_MAX];
      ssize_t n = readlinkat(parent, c, lnk, sizeof lnk - 1);
      const char *rest = save && *save ? save : NULL;
      if (n >= 0) {
        /* a dangling symlink: continue from its target, resolved inside the root */
        lnk[n] = 0;
        char np[PATH_MAX];
        snprintf(np, sizeof np, "%s%s%s%s%s", lnk[0] == '/' ? "" : pre, lnk[0] == '/' ? "" : "/", lnk, rest ? "/" : "", rest ? rest : "");
        memcpy(cur, np, sizeof cur);
        close(parent);
        restart = 1;
        break;
      }
      int r;
      if (!rest && file) {
        /* O_EXCL|O_NOFOLLOW: never create through a symlink */
        r = openat(parent, c, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
        if (r >= 0) close(r);
      } else
        r = mkdirat(parent, c, 0755);
      int e = errno;
      close(parent);
      if (r < 0 && e != EEXIST) {
        errno = e;
        return -1;
      }
      memcpy(pre, next, sizeof pre);
    }
    if (!restart) return openat2_in(root, cur, O_PATH);
  }
  errno = ELOOP;
  return -1;
}

static unsigned long locked_flags(const char *path) {
  struct statvfs s;
  unsigned long f = 0;
  if (statvfs(path, &s) < 0) return 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

/* Bind remount with `flags`; in a user namespace locked flags of the source must be kept. */
static int bind_remount(const char *target, unsigned long flags) {
  unsigned long f = MS_BIND | MS_REMOUNT | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT));
  if (mount(NULL, target, NULL, f, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  unsigned long lk = locked_flags(target) & ~MS_RDONLY;
  return mount(NULL, target, NULL, f | lk, NULL);
}

/* ---------- the init's steps ---------- */

static int g_sync = -1;
static int g_in_userns;

static void sync_send(const char *msg) {
  if (send(g_sync, msg, strlen(msg), MSG_NOSIGNAL) < 0) fail("sync: send %s", msg);
}
static void sync_expect(const char *want) {
  char b[64];
  ssize_t n;
  do n = recv(g_sync, b, sizeof b - 1, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) _exit(1); /* the outer process is gone: nobody to report to */
  b[n] = 0;
  if (strcmp(b, want)) _exit(1);
}

static void do_mount(int root, struct mnt *m) {
  {
    int bind = (m->flags & MS_BIND) != 0;
    if (!bind && (!strcmp(m->type, "proc") || !strcmp(m->type, "sysfs"))) {
      /* CVE-2019-19921: an image's /proc or /sys that is a symlink would move the mount (and
       * with it the masked and read-only paths) elsewhere; refuse any symlink on the way */
      struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
      const char *d = m->dst;
      while (*d == '/') d++;
      int t = (int)syscall(SYS_openat2, root, *d ? d : ".", &how, sizeof how);
      if (t < 0 && errno == ELOOP) fail("mount %s at %s: the destination is a symlink in the rootfs (refused)", m->type, m->dst);
      if (t >= 0) {
        struct stat st;
        if (fstat(t, &st) == 0 && S_ISLNK(st.st_mode))
          fail_errno(ELOOP, "mount %s at %s: the destination is a symlink in the rootfs (refused)", m->type, m->dst);
        if (fstat(t, &st) == 0 && !S_ISDIR(st.st_mode)) fail_errno(ENOTDIR, "mount %s at %s: the destination is not a directory", m->type, m->dst);
        close(t);
      }
    }
    int file = 0;
    if (bind) {
      struct stat st;
      if (fstat(m->srcfd, &st) < 0) fail("mount %s at %s: stat source", m->src, m->dst);
      file = !S_ISDIR(st.st_mode);
    }
    int fd = mkpath_in(root, m->dst, file);
    if (fd < 0) fail("mount %s at %s: create mount point", m->type[0] ? m->type : m->src, m->dst);
    unsigned long base = bind ? (m->flags & (MS_BIND | MS_REC)) : m->flags;
    const char *src = bind ? fdpath(m->srcfd) : m->src;
    if (mount(src, fdpath(fd), bind ? NULL : m->type, base, bind ? NULL : m->data) < 0) {
      int e = errno;
      /* sysfs cannot be mounted in a user namespace without its own network namespace: bind it */
      if (!strcmp(m->type, "sysfs") && (e == EPERM || e == EACCES) &&
          mount("/sys", fdpath(fd), NULL, MS_BIND | MS_REC, NULL) == 0) {
        bind = 1;
      } else
        fail_errno(e, "mount %s at %s", m->type[0] ? m->type : m->src, m->dst);
    }
    close(fd);
    if (m->srcfd >= 0) close(m->srcfd);
    m->srcfd = -1;
    if ((bind && (m->flags & ~(MS_BIND | MS_REC))) || m->prop) {
      /* reopen: the new fd sees the new mount, the old one the mount point beneath it */
      fd = openat2_in(root, m->dst, O_PATH);
      if (fd < 0) fail("mount %s at %s: reopen", m->src, m->dst);
      if (bind && (m->flags & ~(MS_BIND | MS_REC)) && bind_remount(fdpath(fd), m->flags) < 0)
        fail("remount %s at %s with its options", m->src, m->dst);
      if (m->prop && mount(NULL, fdpath(fd), NULL, m->prop, NULL) < 0)
        fail("set propagation of %s", m->dst);
      close(fd);
    }
  }
}

static void split_parent(int root, const char *path, int *parent, const char **name) {
  static char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  char *slash = strrchr(buf, '/');
  *name = slash ? slash + 1 : buf;
  if (slash) *slash = 0;
  *parent = mkpath_in(root, slash && slash != buf ? buf : "/", 0);
}

static void do_device(int root, struct dev *d) {
  {
    int parent;
    const char *name;
    split_parent(root, d->path, &parent, &name);
    if (parent < 0) fail("create device %s: parent directory", d->path);
    unlinkat(parent, name, 0);
    if (g_in_userns) {
      /* mknod is not allowed in a user namespace: bind the host's node instead */
      int f = openat(parent, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
      if (f < 0) fail("create device %s", d->path);
      close(f);
      int t = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (t < 0 || mount(d->path, fdpath(t), NULL, MS_BIND, NULL) < 0) fail("bind device %s from the host", d->path);
      close(t);
    } else {
      mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
      if (mknodat(parent, name, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
        fail("mknod %s", d->path);
      if (fchmodat(parent, name, d->mode & 07777, 0) < 0) fail("chmod %s", d->path);
      if (fchownat(parent, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0) fail("chown %s", d->path);
    }
    close(parent);
  }
}

static void do_symlink(int root, struct kv *l) {
  int parent;
  const char *name;
  split_parent(root, l->k, &parent, &name);
  if (parent < 0) fail("symlink %s: parent directory", l->k);
  if (symlinkat(l->v, parent, name) < 0 && errno != EEXIST) fail("symlink %s -> %s", l->k, l->v);
  close(parent);
}

static void do_remount(int root, struct kv *r) {
  int fd = openat2_in(root, r->k, O_PATH);
  if (fd < 0 || bind_remount(fdpath(fd), num(r->v)) < 0) fail("remount %s", r->k);
  close(fd);
}

static void do_fsops(int root) {
  for (int i = 0; i < P.nfsops; i++) {
    struct fsop *o = &P.fsops[i];
    if (o->kind == 'M') do_mount(root, &P.mounts[o->idx]);
    else if (o->kind == 'D') do_device(root, &P.devs[o->idx]);
    else if (o->kind == 'L') do_symlink(root, &P.links[o->idx]);
    else do_remount(root, &P.remounts[o->idx]);
  }
}

static void do_pivot(int root) {
  if (fchdir(root) < 0) fail("chdir to rootfs");
  if (P.nopivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) fail("move rootfs to / (--no-pivot)");
    if (chroot(".") < 0) fail("chroot into rootfs");
  } else {
    /* pivot_root(".", "."): stacks the old root under the new one; detach it (pivot_root(2)) */
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root to %s", P.rootfs);
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("make old root rslave");
    if (umount2(".", MNT_DETACH) < 0) fail("detach old root");
  }
  if (chdir("/") < 0) fail("chdir /");
}

static void do_paths(void) {
  for (int i = 0; i < P.nsysctls; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/sys/%s", P.sysctls[i].k);
    for (char *c = path + 10; *c; c++)
      if (*c == '.') *c = '/';
    char step[PATH_MAX + 64];
    snprintf(step, sizeof step, "sysctl %s", P.sysctls[i].k);
    write_file(path, P.sysctls[i].v, step);
  }
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail("open /");
  for (int i = 0; i < P.nropaths; i++) {
    int fd = openat2_in(root, P.ropaths[i], O_PATH);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      fail("readonly path %s", P.ropaths[i]);
    }
    if (mount(fdpath(fd), fdpath(fd), NULL, MS_BIND | MS_REC, NULL) < 0) fail("readonly path %s: bind", P.ropaths[i]);
    close(fd);
    fd = openat2_in(root, P.ropaths[i], O_PATH);
    if (fd < 0 || bind_remount(fdpath(fd), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
      fail("readonly path %s: remount read-only", P.ropaths[i]);
    close(fd);
  }
  /* CVE-2025-31133: mask only with the real null device, never through whatever the rootfs or
   * a mount put at /dev/null (a symlink would bind its target over the masked path) */
  int devnull = -1;
  if (P.nmasked) {
    struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
    struct stat st;
    devnull = (int)syscall(SYS_openat2, root, "dev/null", &how, sizeof how);
    if (devnull < 0) fail("masked paths: open /dev/null");
    if (fstat(devnull, &st) < 0) fail("masked paths: stat /dev/null");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
      fail_errno(EPERM, "masked paths: /dev/null is not the null device (char 1:3)");
  }
  for (int i = 0; i < P.nmasked; i++) {
    int fd = openat2_in(root, P.masked[i], O_PATH);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      fail("masked path %s", P.masked[i]);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) fail("masked path %s: stat", P.masked[i]);
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", fdpath(fd), "tmpfs", MS_RDONLY, "size=0k")
                                : mount(fdpath(devnull), fdpath(fd), NULL, MS_BIND, NULL);
    if (r < 0) fail("masked path %s", P.masked[i]);
    close(fd);
  }
  if (devnull >= 0) close(devnull);
  close(root);
  if (P.rootro && bind_remount("/", MS_RDONLY) < 0) fail("remount root read-only");
  if (P.rootprop && mount(NULL, "/", NULL, P.rootprop, NULL) < 0) fail("set rootfsPropagation");
}

static void send_fd(int sock, int fd, const char *name) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) fail("send the pty master over the console socket");
}

static int recv_fd(int sock, char *buf, size_t cap, ssize_t *n) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = buf, .iov_len = cap - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  do *n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (*n < 0 && errno == EINTR);
  if (*n >= 0) buf[*n] = 0;
  struct cmsghdr *c = *n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
  int fd = -1;
  if (c && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

static int g_console = -1;

/* Create the pty inside the container (its own devpts), hand the master out, make the slave
 * the controlling terminal and stdio (like runc: the master goes to --console-socket). */
static void do_terminal(int console) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("open /dev/ptmx in the container");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("unlock pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("open pty slave");
  if (P.rows || P.cols) {
    struct winsize ws = {.ws_row = (unsigned short)P.rows, .ws_col = (unsigned short)P.cols};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) fail("set console size");
  }
  int ptn = 0;
  char name[64] = "/dev/ptmx";
  if (ioctl(master, TIOCGPTN, &ptn) == 0) snprintf(name, sizeof name, "/dev/pts/%d", ptn);
  if (fchown(slave, P.uid, (gid_t)-1) < 0 && errno != EINVAL) fail("chown pty slave");
  if (console) {
    /* config.md "terminal": the slave also appears as /dev/console (runc binds it there) */
    int c = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (c < 0 && errno != EEXIST) fail("create /dev/console");
    if (c >= 0) close(c);
    if (mount(fdpath(slave), "/dev/console", NULL, MS_BIND, NULL) < 0) fail("bind the pty to /dev/console");
  }
  if (g_console >= 0) {
    send_fd(g_console, master, name);
    close(g_console);
    g_console = -1;
  } else
    send_fd(g_sync, master, "PTY");
  close(master);
  if (setsid() < 0 && errno != EPERM) fail("setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail("set controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0) fail("dup pty slave to fd %d", i);
  if (slave > 2) close(slave);
}

static int cap_last(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char b[16] = {0};
  if (fd >= 0) {
    (void)!read(fd, b, sizeof b - 1);
    close(fd);
  }
  int v = atoi(b);
  return v > 0 ? v : 40;
}

static int g_listener = -1;  /* connected to linux.seccomp.listenerPath (by P, before clone) */
static char g_hostpid[24];   /* our pid as the runtime's /proc sees it, read before pivot_root */

/* Our host pid: /proc/self of the runtime's procfs, still mounted at /proc before pivot_root
 * (create) or chroot (exec); getpid() would give our pid in the container's pid namespace. */
static void read_host_pid(void) {
  if (!P.listener_path) return;
  ssize_t n = readlink("/proc/self", g_hostpid, sizeof g_hostpid - 1);
  if (n <= 0) fail("read the host pid for the seccomp listener (/proc/self)");
  g_hostpid[n] = 0;
}

/* runtime-spec config-linux.md "Seccomp": one message on listenerPath whose data is the
 * container process state and whose SCM_RIGHTS carries the listener fd; then both are closed.
 * The text is TypeScript's, joined by our host pid: no JSON is built here. */
static void send_listener(int fd) {
  size_t len = 0, pl = strlen(g_hostpid);
  for (int i = 0; i < P.nlistener_parts; i++) len += strlen(P.listener_parts[i]) + pl;
  char *msg = malloc(len + 1), *o = msg;
  if (!msg) fail("send the seccomp listener fd to %s", P.listener_path);
  for (int i = 0; i < P.nlistener_parts; i++) {
    if (i) o = stpcpy(o, g_hostpid);
    o = stpcpy(o, P.listener_parts[i]);
  }
  len = (size_t)(o - msg);
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = msg, .iov_len = len};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t w;
  do w = sendmsg(g_listener, &m, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  if (w < 0) fail("send the seccomp listener fd to %s", P.listener_path);
  /* a stream socket may take a long state in pieces; the fd went with the first */
  for (size_t off = (size_t)w; off < len; off += (size_t)w) {
    do w = send(g_listener, msg + off, len - off, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0) fail("send the seccomp state to %s", P.listener_path);
  }
  free(msg);
  close(fd);
  close(g_listener);
  g_listener = -1;
}

static void do_seccomp(void) {
  struct sock_fprog prog = {.len = (unsigned short)(P.bpf_len / sizeof(struct sock_filter)),
                            .filter = (struct sock_filter *)P.bpf};
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, P.seccomp_flags, &prog);
  if (r < 0) fail("install seccomp filter");
  P.bpf_len = 0;
  /* with NEW_LISTENER the return value is the listener fd; hand it over at once, so that a
   * NOTIFY rule on a call we still make before execve reaches an agent that can answer */
  if (P.seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    if (g_listener < 0) fail_errno(EINVAL, "seccomp listener: no listenerPath connection");
    send_listener((int)r);
  }
}

/* The process part, shared by the container init and exec: limits, identity, capabilities. */
static void do_process(int last_cap_known) {
  for (int i = 0; i < P.nrlimits; i++) {
    struct rl *r = &P.rlimits[i];
    struct rlimit v = {.rlim_cur = r->soft, .rlim_max = r->hard};
    if (setrlimit(r->res, &v) < 0) {
      struct rlimit cur;
      getrlimit(r->res, &cur);
      if (errno == EPERM || r->hard > cur.rlim_max)
        fail_errno(EPERM, "set rlimit %s (soft %llu, hard %llu; the hard limit cannot be raised above %llu without CAP_SYS_RESOURCE)",
                   r->name, r->soft, r->hard, (unsigned long long)cur.rlim_max);
      fail("set rlimit %s (soft %llu, hard %llu)", r->name, r->soft, r->hard);
    }
  }
  /* ioprio_set(2) with IOPRIO_WHO_PROCESS (1) and ourselves; personality(2) */
  if (P.has_ioprio && syscall(SYS_ioprio_set, 1, 0, P.ioprio) < 0) fail("set ioPriority");
  if (P.has_personality && personality((unsigned long)P.personality) < 0) fail("set personality");
  if (P.nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("set no_new_privs");
  const char *cwd = P.cwd ? P.cwd : "/";
  char got[PATH_MAX];
  struct stat early;
  int early_ok = 0;
  if (P.bpf_len && !P.nnp) {
    /* the filter goes in before the cwd check below, and a profile may deny getcwd(2) (the
     * runtime-tools linux_seccomp test does): check the cwd now, as root, and later only that
     * the process's chdir lands in that same directory */
    if (chdir(cwd) == 0) {
      if (!getcwd(got, sizeof got) || got[0] != '/') fail_errno(EPERM, "cwd %s is outside the container", cwd);
      early_ok = stat(".", &early) == 0;
    }
  }
  /* without no_new_privs the filter needs CAP_SYS_ADMIN: install it while we still have it */
  if (P.bpf_len && !P.nnp) do_seccomp();
  if (P.has_caps) {
    int last = last_cap_known ? last_cap_known : cap_last();
    for (int c = 0; c <= last; c++)
      if (!(P.caps[0] & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        fail("drop capability %d from the bounding set", c);
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("keep capabilities across setuid");
  }
  if (P.has_groups || !g_in_userns || !P.setgroups_deny) {
    if (setgroups(P.ngroups, P.groups) < 0 && !(errno == EPERM && P.ngroups == 0))
      fail("setgroups (additionalGids)");
  }
  if (setresgid(P.gid, P.gid, P.gid) < 0) fail("setgid %u", P.gid);
  if (setresuid(P.uid, P.uid, P.uid) < 0) fail("setuid %u", P.uid);
  if (P.has_caps) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    for (int i = 0; i < 2; i++) {
      d[i].effective = (uint32_t)(P.caps[1] >> (32 * i));
      d[i].permitted = (uint32_t)(P.caps[2] >> (32 * i));
      d[i].inheritable = (uint32_t)(P.caps[3] >> (32 * i));
    }
    if (syscall(SYS_capset, &h, d) < 0) fail("set capabilities");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail("clear ambient capabilities");
    /* capabilities(7): an ambient cap must be permitted and inheritable; like runc, the
     * others are skipped rather than failing the container */
    uint64_t amb = P.caps[4] & P.caps[2] & P.caps[3];
    for (int c = 0; c < 64; c++)
      if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
        fail("raise ambient capability %d", c);
  }
  if (P.has_umask) umask(P.umask);
  if (chdir(cwd) < 0) fail("chdir to cwd %s", cwd);
  /* CVE-2024-21626: a cwd reached through a leaked fd lies outside the root; getcwd(3) then
   * fails or returns "(unreachable)...". Refuse it. */
  struct stat now;
  if (early_ok && stat(".", &now) == 0 && now.st_dev == early.st_dev && now.st_ino == early.st_ino) {
    /* checked before the seccomp filter went in */
  } else if (!getcwd(got, sizeof got) || got[0] != '/')
    fail_errno(EPERM, "cwd %s is outside the container", cwd);
}

static const char *getenv_plan(const char *k) {
  size_t l = strlen(k);
  for (int i = 0; i < P.nenv; i++)
    if (!strncmp(P.env[i], k, l) && P.env[i][l] == '=') return P.env[i] + l + 1;
  return NULL;
}

/* Like runc: without HOME in the env, take the user's home from the container's /etc/passwd. */
static void default_home(void) {
  if (getenv_plan("HOME") || P.nenv + 2 >= (int)(sizeof P.env / sizeof P.env[0])) return;
  const char *home = "/";
  static char line[1024], val[1100];
  FILE *f = fopen("/etc/passwd", "re");
  while (f && fgets(line, sizeof line, f)) {
    char *fld[7];
    int n = 0;
    for (char *p = line; n < 7 && p; n++) {
      fld[n] = p;
      p = strchr(p, ':');
      if (p) *p++ = 0;
    }
    if (n == 7 && strtoul(fld[2], NULL, 10) == P.uid && fld[5][0]) {
      home = fld[5];
      break;
    }
  }
  if (f) fclose(f);
  snprintf(val, sizeof val, "HOME=%s", home);
  P.env[P.nenv++] = val;
}

/* Resolve args[0] like execvp, with the container's PATH, before reporting success. */
static char *lookup_exe(void) {
  static char buf[PATH_MAX];
  if (!P.nargs) fail_errno(EINVAL, "process.args is empty");
  const char *a0 = P.args[0];
  struct stat st;
  if (strchr(a0, '/')) {
    if (stat(a0, &st) < 0) fail("exec \"%s\"", a0);
    if (S_ISDIR(st.st_mode)) fail_errno(EACCES, "exec \"%s\": is a directory", a0);
    return (char *)a0;
  }
  const char *path = getenv_plan("PATH");
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const char *p = path;
  while (*p) {
    const char *e = strchr(p, ':');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s/%s", (int)l, l ? p : ".", a0);
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return buf;
    p += l + (e ? 1 : 0);
    if (!e) break;
  }
  fail_errno(ENOENT, "exec \"%s\": executable file not found in $PATH", a0);
}

static void final_exec(const char *exe) {
  /* ignored signals survive execve (signal(7)): give the process the defaults and no mask */
  sigset_t none;
  sigemptyset(&none);
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Node may have left the shared stdio non-blocking; the process expects blocking fds. */
  for (int i = 0; i < 3; i++) {
    int fl = fcntl(i, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(i, F_SETFL, fl & ~O_NONBLOCK);
  }
  /* Nothing but 0-2 and the preserved fds crosses into the container's process. */
  if (syscall(SYS_close_range, 3 + P.preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3 + P.preserve; fd < 1024; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (P.bpf_len) do_seccomp();
  P.args[P.nargs] = NULL;
  P.env[P.nenv] = NULL;
  execve(exe, P.args, P.env);
}

/* ---------- the container init (child of clone) ---------- */

static int g_fifo = -1;

__attribute__((noreturn)) static void init_main(void) {
  g_errfd = g_sync, g_err_seq = 1;
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* nothing inside may read /proc/<init>/exe or ptrace us before execve (CVE-2019-5736) */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  sync_expect("GO");
  read_host_pid();
  if (P.newflags & CLONE_NEWUSER) g_in_userns = 1;
  for (int i = 0; i < P.njoin; i++)
    if (P.join[i].type == CLONE_NEWUSER) g_in_userns = 1;

  /* Keep host mount events out and ours from leaking: rslave first (runc's default), the
   * spec's rootfsPropagation is applied once the root is in place. */
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("make / rslave");
  /* Everything reached by a host path is opened now, while our fs uid is still the caller's:
   * in a user namespace the mapped root may not search the bundle's or state dir's parents
   * (a 0700 temp dir). Later steps use these fds through /proc/self/fd. */
  if (mount(P.rootfs, P.rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind rootfs %s", P.rootfs);
  int root = open(P.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail("open rootfs %s", P.rootfs);
  for (int i = 0; i < P.nmounts; i++) {
    struct mnt *m = &P.mounts[i];
    if (!(m->flags & MS_BIND)) continue;
    m->srcfd = open(m->src, O_PATH | O_CLOEXEC);
    if (m->srcfd < 0) fail("mount %s at %s: stat source", m->src, m->dst);
  }
  if (P.fifo) {
    g_fifo = open(P.fifo, O_PATH | O_CLOEXEC);
    if (g_fifo < 0) fail("open exec fifo %s", P.fifo);
  }
  /* new or joined: our host uid is unmapped there; act as the namespace's root */
  if (g_in_userns) {
    if (setresgid(0, 0, 0) < 0) fail("become root in the user namespace (gid 0 unmapped?)");
    if (setresuid(0, 0, 0) < 0) fail("become root in the user namespace (uid 0 unmapped?)");
  }
  if (P.has_oom) {
    char b[32];
    snprintf(b, sizeof b, "%d", P.oom);
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, b, strlen(b)) < 0)
      fail("set oomScoreAdj %d (lowering it needs CAP_SYS_RESOURCE)", P.oom);
    close(fd);
  }
  if (P.hostname && sethostname(P.hostname, strlen(P.hostname)) < 0) fail("set hostname %s", P.hostname);
  if (P.domainname && setdomainname(P.domainname, strlen(P.domainname)) < 0) fail("set domainname %s", P.domainname);
  do_fsops(root);
  /* like runc, create a missing cwd (before the root turns read-only); a cwd that resolves
   * outside the root is refused later by do_process() */
  if (P.cwd) {
    int c = mkpath_in(root, P.cwd, 0);
    if (c >= 0) close(c);
  }
  if (P.hooks) {
    sync_send("HOOK");
    sync_expect("CONT");
  }
  do_pivot(root);
  close(root);
  /* before the root may turn read-only: /dev/console is created and bound here */
  if (P.terminal) do_terminal(1);
  do_paths();
  do_process(0);
  default_home();
  char *exe = lookup_exe();
  /* The outer process exits after CREATED: do not die with it. */
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  sync_send("CREATED");
  close(g_sync);
  g_errfd = -1;
  /* Block until `start` opens the fifo for reading (runc's exec.fifo handshake). */
  if (g_fifo >= 0) {
    int w = open(fdpath(g_fifo), O_WRONLY | O_CLOEXEC);
    if (w < 0) fail("open exec fifo for writing (is /proc mounted?)");
    if (write(w, "0", 1) != 1) fail("write exec fifo");
    close(w);
    close(g_fifo);
  }
  final_exec(exe);
  fprintf(stderr, "berth-init: exec %s: %s\n", exe, strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

/* ---------- the outer process ---------- */

static pid_t g_child = -1;
static int g_ctl = -1;
static pid_t g_outer = -1; /* the outer process; set with --wait-done */
static int g_leavefd[MAXV];
static int g_leave_open; /* how many of g_leavefd are open (not yet used) */

static int put_all(int fd, const char *b, size_t n) {
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    b += w, n -= w;
  }
  return 0;
}

/* Every exit of the outer process goes through here. With --wait-done (the runtime server
 * drives us over a connection our caller made, docs/runtime-server.md) we report
 * "FINISH <status>" instead of exiting, relay "OUT <fd> <bytes>" lines to our own stdout or
 * stderr, and exit with the status of "DONE <status>": the caller must not see us exit before
 * the server has saved the state and written the pid file. Other processes just _exit. */
__attribute__((noreturn)) static void outer_exit(int status) {
  if (g_outer <= 0 || getpid() != g_outer) _exit(status);
  g_outer = -1; /* a failure below must not come back here */
  /* never wait inside the container's cgroups: a failed create destroys them, killing us */
  char pid[32];
  snprintf(pid, sizeof pid, "%d", getpid());
  for (int i = 0; i < g_leave_open; i++) (void)!write(g_leavefd[i], pid, strlen(pid));
  char b[64];
  snprintf(b, sizeof b, "FINISH %d", status);
  send_line(g_ctl, 0, b);
  for (;;) {
    char *l = read_line(g_ctl);
    if (!l) _exit(status ? status : 1); /* the server is gone before its last word */
    if (!strncmp(l, "DONE ", 5)) _exit(atoi(l + 5));
    if (!strncmp(l, "OUT ", 4) && (l[4] == '1' || l[4] == '2') && l[5] == ' ') {
      char *o = l + 6, *i = l + 6;
      if (!strcmp(i, "~")) continue;
      while (*i) {
        if (*i == '%' && hexv(i[1]) >= 0 && hexv(i[2]) >= 0) {
          *o++ = (char)(hexv(i[1]) * 16 + hexv(i[2]));
          i += 3;
        } else
          *o++ = *i++;
      }
      (void)put_all(l[4] - '0', l + 6, o - (l + 6));
    }
  }
}

static void kill_child(void) {
  if (g_child > 0) {
    kill(g_child, SIGKILL);
    while (waitpid(g_child, NULL, 0) < 0 && errno == EINTR) {}
    g_child = -1;
  }
}

static void ctl_line(const char *fmt, ...) {
  char b[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  send_line(g_ctl, 0, b);
}

static void fwd_signal(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

static int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

/* Foreground: stay the parent, forward signals, relay the pty if we hold it, report EXIT. */
__attribute__((noreturn)) static void foreground(int master) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
  struct sigaction sa = {.sa_handler = fwd_signal, .sa_flags = SA_RESTART};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  struct termios saved;
  int raw = 0;
  if (master >= 0) {
    if (isatty(0) && tcgetattr(0, &saved) == 0) {
      struct termios t = saved;
      cfmakeraw(&t);
      raw = tcsetattr(0, TCSANOW, &t) == 0;
    }
    char buf[16384];
    int in_open = 1;
    for (;;) {
      struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (p[0].revents) {
        ssize_t n = read(master, buf, sizeof buf);
        if (n <= 0) break; /* EIO: every slave fd closed, the container exited */
        (void)!write(1, buf, n);
      }
      if (p[1].revents) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n <= 0)
          in_open = 0;
        else
          (void)!write(master, buf, n);
      }
    }
    if (raw) tcsetattr(0, TCSANOW, &saved);
  }
  int st = 0;
  while (waitpid(g_child, &st, 0) < 0) {
    if (errno != EINTR) {
      st = 255 << 8;
      break;
    }
  }
  g_child = -1;
  ctl_line("EXIT %d", status_code(st));
  outer_exit(0);
}


static void join_cgroups(void) {
  char pid[32];
  snprintf(pid, sizeof pid, "%d", getpid());
  for (int i = 0; i < P.ncg; i++) write_file(P.cgroups[i], pid, "join cgroup");
  /* opened now: after setns(mount) the host's cgroupfs may be out of reach */
  for (int i = 0; i < P.ncgleave; i++) {
    g_leavefd[i] = open(P.cgleave[i], O_WRONLY | O_CLOEXEC);
    if (g_leavefd[i] < 0) fail("open %s", P.cgleave[i]);
    g_leave_open = i + 1;
  }
}

/* After clone/fork, when we stay as the parent: back to our own cgroups, so that we do not
 * count in the container's (a pids limit would lose a slot to us). */
static void leave_cgroups(void) {
  char pid[32];
  snprintf(pid, sizeof pid, "%d", getpid());
  for (int i = 0; i < P.ncgleave; i++) {
    if (write(g_leavefd[i], pid, strlen(pid)) < 0) {
      int e = errno;
      kill_child();
      fail_errno(e, "leave the container's cgroup for %s", P.cgleave[i]);
    }
    close(g_leavefd[i]);
  }
  g_leave_open = 0;
}

/* Open every namespace first (paths resolve in the host mount ns), then join: user first, so
 * that the others are joined with the capabilities it grants (setns(2)). */
static void join_namespaces(void) {
  for (int i = 0; i < P.njoin; i++) {
    P.join[i].fd = open(P.join[i].path, O_RDONLY | O_CLOEXEC);
    if (P.join[i].fd < 0) fail("open namespace %s", P.join[i].path);
  }
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < P.njoin; i++) {
      int isuser = P.join[i].type == CLONE_NEWUSER;
      if (pass == 0 ? !isuser : isuser) continue;
      if (setns(P.join[i].fd, P.join[i].type) < 0) fail("join namespace %s", P.join[i].path);
      close(P.join[i].fd);
    }
}

static int connect_listener(void) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(P.listener_path) >= sizeof a.sun_path) fail_errno(ENAMETOOLONG, "connect seccomp listener socket %s", P.listener_path);
  strcpy(a.sun_path, P.listener_path);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) fail("connect seccomp listener socket %s", P.listener_path);
  return s;
}

static int connect_console(void) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(P.console_socket) >= sizeof a.sun_path) fail_errno(ENAMETOOLONG, "connect console socket %s", P.console_socket);
  strcpy(a.sun_path, P.console_socket);
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) fail("connect console socket %s", P.console_socket);
  return s;
}

/* Relay messages from the init until CREATED (or an error), answering HOOK with Node's word. */
__attribute__((noreturn)) static void outer_create(void) {
  int sp[2];
  join_cgroups();
  if (P.console_socket) g_console = connect_console();
  if (P.listener_path) g_listener = connect_listener();
  if (P.fifo) {
    unlink(P.fifo);
    if (mkfifo(P.fifo, 0622) < 0 || chmod(P.fifo, 0622) < 0) fail("create exec fifo %s", P.fifo);
  }
  join_namespaces();
  if (P.newflags & CLONE_NEWTIME) {
    /* a new time ns takes its offsets before its first process (time_namespaces(7)) */
    if (unshare(CLONE_NEWTIME) < 0) fail("unshare time namespace");
    if (P.timeoffs[0]) write_file("/proc/self/timens_offsets", P.timeoffs, "write timeOffsets");
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) fail("socketpair");
  fflush(NULL);
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(P.newflags & ~CLONE_NEWTIME) | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) fail("clone the container init");
  if (pid == 0) {
    close(sp[0]);
    close(g_ctl);
    g_sync = sp[1];
    init_main();
  }
  g_child = pid;
  close(sp[1]);
  if (g_console >= 0) close(g_console);
  if (g_listener >= 0) close(g_listener);
  int sync = sp[0];
  leave_cgroups();
  ctl_line("PID %d", pid);
  if (P.newflags & CLONE_NEWUSER) {
    pid_t c = pid;
    /* the outer process writes the maps (user_namespaces(7)); on failure take the child down */
    if (P.uidmap[0] || P.gidmap[0]) {
      int ok = 1;
      char p[64];
      int fd;
      const char *what = "";
      if (P.uidmap[0]) {
        snprintf(p, sizeof p, "/proc/%d/uid_map", c);
        fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, P.uidmap, strlen(P.uidmap)) < 0) ok = 0, what = "write uid_map";
        if (fd >= 0) close(fd);
      }
      if (ok && P.setgroups_deny) {
        snprintf(p, sizeof p, "/proc/%d/setgroups", c);
        fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "deny", 4) < 0) ok = 0, what = "write setgroups";
        if (fd >= 0) close(fd);
      }
      if (ok && P.gidmap[0]) {
        snprintf(p, sizeof p, "/proc/%d/gid_map", c);
        fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, P.gidmap, strlen(P.gidmap)) < 0) ok = 0, what = "write gid_map";
        if (fd >= 0) close(fd);
      }
      if (!ok) {
        int e = errno;
        kill_child();
        fail_errno(e, "%s", what);
      }
    }
  }
  if (send(sync, "GO", 2, MSG_NOSIGNAL) < 0) {
    int e = errno;
    kill_child();
    fail_errno(e, "start the container init");
  }
  int master = -1;
  for (;;) {
    char buf[8192];
    ssize_t n;
    int fd = recv_fd(sync, buf, sizeof buf, &n);
    if (n <= 0) {
      int st = 0;
      waitpid(g_child, &st, 0);
      g_child = -1;
      fail_errno(ECHILD, "container init exited before create finished (status %d)", status_code(st));
    }
    if (fd >= 0) {
      master = fd;
      continue;
    }
    if (!strcmp(buf, "HOOK")) {
      ctl_line("HOOK");
      char *l = read_line(g_ctl);
      if (!l || strcmp(l, "CONT")) {
        kill_child();
        outer_exit(1);
      }
      if (send(sync, "CONT", 4, MSG_NOSIGNAL) < 0) {
        int e = errno;
        kill_child();
        fail_errno(e, "resume the container init after hooks");
      }
    } else if (!strcmp(buf, "CREATED")) {
      ctl_line("CREATED");
      break;
    } else {
      /* ERROR from the init: take it down first, then report, so nothing is left behind */
      kill_child();
      send_line(g_ctl, 0, buf);
      outer_exit(1);
    }
  }
  close(sync);
  if (!P.foreground) outer_exit(0);
  foreground(master);
}

__attribute__((noreturn)) static void outer_exec(void) {
  int sp[2];
  join_cgroups();
  if (P.console_socket) g_console = connect_console();
  if (P.listener_path) g_listener = connect_listener();
  int rootfd = open(P.rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail("open container root %s", P.rootdir);
  join_namespaces();
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) fail("socketpair");
  fflush(NULL);
  pid_t pid = fork(); /* after setns(pid): the child is inside the container's pid ns */
  if (pid < 0) fail("fork into the container");
  if (pid == 0) {
    close(sp[0]);
    close(g_ctl);
    g_sync = sp[1];
    g_errfd = g_sync, g_err_seq = 1;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* the parent leaves the cgroup first, so it never takes a pids slot from our children */
    if (P.ncgleave) sync_expect("GO");
    for (int i = 0; i < P.njoin; i++)
      if (P.join[i].type == CLONE_NEWUSER) g_in_userns = 1;
    read_host_pid();
    if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) fail("enter the container root");
    close(rootfd);
    if (P.has_oom) {
      char b[32];
      snprintf(b, sizeof b, "%d", P.oom);
      int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, b, strlen(b)) < 0) fail("set oomScoreAdj %d (lowering it needs CAP_SYS_RESOURCE)", P.oom);
      close(fd);
    }
    if (P.terminal) do_terminal(0);
    do_process(0);
    default_home();
    char *exe = lookup_exe();
    if (P.detach) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    final_exec(exe);
    fail("exec \"%s\"", exe);
  }
  g_child = pid;
  close(sp[1]);
  close(rootfd);
  leave_cgroups();
  if (P.ncgleave && send(sp[0], "GO", 2, MSG_NOSIGNAL) < 0) {
    int e = errno;
    kill_child();
    fail_errno(e, "start the process");
  }
  if (g_console >= 0) close(g_console);
  if (g_listener >= 0) close(g_listener);
  ctl_line("PID %d", pid);
  int master = -1;
  for (;;) {
    char buf[8192];
    ssize_t n;
    int fd = recv_fd(sp[0], buf, sizeof buf, &n);
    if (fd >= 0) {
      master = fd;
      continue;
    }
    if (n <= 0) break; /* the sync fd closed on execve: the process runs */
    kill_child();
    send_line(g_ctl, 0, buf);
    outer_exit(1);
  }
  close(sp[0]);
  ctl_line("STARTED");
  if (P.detach) outer_exit(0);
  foreground(master);
}

/* CVE-2019-5736: never run from a file the container could reach and rewrite. Re-exec from a
 * sealed memfd copy of ourselves; /proc/self/exe then names an immutable anonymous file. */
static void ensure_sealed(char **argv, char **envp) {
  const int want = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) fail("open /proc/self/exe");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & want) == want) {
    close(self);
    return;
  }
  int m = memfd_create("berth-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (m < 0 && errno == EINVAL) m = memfd_create("berth-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (m < 0) fail("memfd_create for the sealed helper copy");
  struct stat st;
  if (fstat(self, &st) < 0) fail("stat /proc/self/exe");
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(m, self, &off, st.st_size - off);
    if (n <= 0) fail("copy the helper into a memfd");
  }
  close(self);
  if (fcntl(m, F_ADD_SEALS, want) < 0) fail("seal the helper memfd");
  fexecve(m, argv, envp);
  fail("re-exec the sealed helper");
}

int main(int argc, char **argv, char **envp) {
  if (argc < 2) {
    fprintf(stderr, "usage: berth-init CTL_FD [--wait-done]  (driven by berth; see docs/runtime-native.md)\n");
    return 2;
  }
  g_ctl = atoi(argv[1]);
  g_errfd = g_ctl;
  if (argc > 2 && !strcmp(argv[2], "--wait-done")) g_outer = getpid();
  if (g_ctl < 3 || fcntl(g_ctl, F_GETFD) < 0) {
    fprintf(stderr, "berth-init: bad control fd %s\n", argv[1]);
    return 2;
  }
  ensure_sealed(argv, envp);
  /* CVE-2024-21626: no fd we did not ask for survives into the container. */
  if (syscall(SYS_close_range, g_ctl + 1, ~0U, 0) < 0) {
    for (int fd = g_ctl + 1; fd < 1024; fd++) close(fd);
  }
  fcntl(g_ctl, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  read_plan(g_ctl);
  if (P.exec_mode) outer_exec();
  if (!P.rootfs) fail_errno(EINVAL, "plan: no ROOTFS");
  outer_create();
}
