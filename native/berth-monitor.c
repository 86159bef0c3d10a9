/*
 * berth-monitor: the per-container monitor (berth's conmon). See docs/monitor.md.
 *
 * One process per container, parent of the container's init after the CLI exits:
 *   - daemonizes (fork, setsid, fork) and becomes a child subreaper (prctl(2)
 *     PR_SET_CHILD_SUBREAPER) so the init that `<runtime> create` leaves behind is reparented
 *     to it and its exit status can be reaped with waitpid(2);
 *   - runs `<runtime> create` with pipes (or a console socket receiving the pty master over
 *     SCM_RIGHTS, unix(7)), reports the result as one JSON line on the caller's sync fd;
 *   - runs `<runtime> start` when asked (START frame on the attach socket, or --start);
 *   - writes output to a docker json-file log (rotated by --log-max-size/--log-max-files) and
 *     to clients of the attach socket; relays their stdin and pty resizes;
 *   - reaps the init, restarts it per --restart, writes the `exit` file atomically, exits.
 *
 * Only libc. No JSON parsing here (DESIGN.md): the monitor writes JSON, the caller reads it.
 * Every descriptor is O_CLOEXEC so nothing leaks into the runtime or the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ---- attach socket framing (docs/monitor.md): docker's 8-byte stream header ---------------
 * byte 0: type, bytes 1-3: zero, bytes 4-7: payload length, big-endian. */
enum frame_type {
  F_STDIN = 0,        /* client -> monitor: bytes for the container's stdin */
  F_STDOUT = 1,       /* monitor -> client */
  F_STDERR = 2,       /* monitor -> client */
  F_RESIZE = 16,      /* client -> monitor: u16 rows, u16 cols (big-endian) */
  F_CLOSE_STDIN = 17, /* client -> monitor: close the container's stdin (EOF) */
  F_START = 18,       /* client -> monitor: run `<runtime> start` */
  F_START_RESULT = 19,/* monitor -> client: JSON {"ok":true,...} or {"error":...} */
  F_NO_RESTART = 20,  /* client -> monitor: the next exit is final (docker stop) */
  F_EXIT = 21,        /* monitor -> client: JSON, the content of the exit file */
  F_PING = 22,        /* client -> monitor: answered with PONG once the client is registered */
  F_PONG = 23,        /* monitor -> client: no payload */
};
#define HDR 8
#define MAX_IN_PAYLOAD 32768
#define MAX_CLIENTS 32
#define CLIENT_OUT_CAP (4u << 20) /* a client this far behind is disconnected */
#define STDIN_CAP (1u << 20)
#define LINE_CAP 16384 /* docker's json-file splits lines at 16 KiB too */

enum restart_kind { R_NO, R_ON_FAILURE, R_ALWAYS, R_UNLESS_STOPPED };
enum phase { P_CREATED, P_RUNNING, P_DRAINING, P_BACKOFF, P_DONE };

static struct {
  const char *id, *runtime, *root, *bundle, *state_dir, *log_path;
  const char *exec_process; /* exec mode: an OCI process JSON for `<runtime> exec` */
  const char *exit_argv[66]; /* --exit-command and its --exit-command-arg's */
  int exit_argc;
  long long log_max_size;
  int log_max_files;
  int terminal, open_stdin, auto_start;
  enum restart_kind restart;
  int restart_max;
  int sync_fd;
  int start_timeout;
  const char *health_process; /* --health-process: an OCI process JSON for the check */
  long long health_interval_ms, health_timeout_ms, health_start_period_ms;
  int health_retries;
} o = {.log_max_files = 1, .sync_fd = -1, .health_interval_ms = 30000, .health_timeout_ms = 30000, .health_retries = 3};

/* ---- small helpers --------------------------------------------------------------------- */

struct sbuf {
  char *p;
  size_t len, cap;
};

static void sb_reserve(struct sbuf *b, size_t n) {
  if (b->len + n + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + n + 1) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) _exit(70);
  b->p = p;
  b->cap = cap;
}
static void sb_put(struct sbuf *b, const void *s, size_t n) {
  sb_reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}
static void sb_puts(struct sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_printf(struct sbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
static void sb_free(struct sbuf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* Length of a valid UTF-8 sequence at p (RFC 3629), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F; /* no surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else return 0;
  if (n < len) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return len;
}

/* A JSON string (RFC 8259 section 7); invalid UTF-8 becomes U+FFFD, as docker does. */
static void sb_json_str(struct sbuf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  sb_reserve(b, n + 2);
  b->p[b->len++] = '"';
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    if (c < 0x80) {
      char esc[8];
      switch (c) {
      case '"': sb_put(b, "\\\"", 2); break;
      case '\\': sb_put(b, "\\\\", 2); break;
      case '\n': sb_put(b, "\\n", 2); break;
      case '\r': sb_put(b, "\\r", 2); break;
      case '\t': sb_put(b, "\\t", 2); break;
      case '\b': sb_put(b, "\\b", 2); break;
      case '\f': sb_put(b, "\\f", 2); break;
      default:
        if (c < 0x20 || c == 0x7f) {
          snprintf(esc, sizeof esc, "\\u%04x", c);
          sb_put(b, esc, 6);
        } else sb_put(b, &c, 1);
      }
      i++;
      continue;
    }
    size_t l = utf8_len(p + i, n - i);
    if (l) {
      sb_put(b, p + i, l);
      i += l;
    } else {
      sb_put(b, "\\ufffd", 6);
      i++;
    }
  }
  sb_put(b, "\"", 1);
}

static void rfc3339nano(char *out, size_t n, const struct timespec *ts) {
  struct tm tm;
  gmtime_r(&ts->tv_sec, &tm);
  size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + k, n - k, ".%09ldZ", ts->tv_nsec);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
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

/* Write a file atomically: temp file, fsync, rename(2). */
static int write_file_atomic(const char *path, const char *data, size_t n) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (write_all(fd, data, n) < 0 || fsync(fd) < 0) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* ---- state ----------------------------------------------------------------------------- */

static int sigfd = -1;
static int attach_fd = -1;
static char attach_path[PATH_MAX], console_path[PATH_MAX], runtime_log[PATH_MAX],
    cpid_path[PATH_MAX], mpid_path[PATH_MAX], exit_path[PATH_MAX];

struct stream {
  const char *name;
  int fd;          /* read end of the pipe, or the pty master for stdout */
  char *line;      /* partial line, LINE_CAP bytes, allocated on first use */
  size_t len;
};
static struct stream streams[2] = {{"stdout", -1, NULL, 0}, {"stderr", -1, NULL, 0}};
static int stdin_fd = -1; /* write end of the stdin pipe, or the pty master (dup) */
static struct sbuf stdin_pending;
static int stdin_close_requested;

struct client {
  int fd;
  struct sbuf out;
  unsigned char *in;
  size_t inlen;
};
static struct client clients[MAX_CLIENTS];
static int nclients;

static enum phase phase;
static pid_t container_pid;
static int restart_count;
static int no_restart;
static const char *stop_reason;  /* why the monitor stopped the container itself */
static int stop_pending;         /* a stop signal came while the runtime was running */
static long long start_deadline = -1, drain_deadline = -1, backoff_deadline = -1, kill_deadline = -1;
static long long backoff_ms = 100;
static long long started_ms;
static int container_status = -1; /* wait status of the init */
static char started_at[64];
static struct timespec finished_ts; /* when the init was reaped */
static int have_started;
static int started_this_run; /* the current create was started: only then may it restart */
static char oom_file[PATH_MAX];
static long long oom_base = -1;

/* Children reaped while waiting for someone else; looked up by pid later. */
static struct {
  pid_t pid;
  int status;
} reaped[64];

static void remember(pid_t pid, int status) {
  for (size_t i = 0; i < sizeof reaped / sizeof reaped[0]; i++)
    if (reaped[i].pid == 0) {
      reaped[i].pid = pid;
      reaped[i].status = status;
      return;
    }
  /* full: forget the oldest; only unknown orphans (no pid namespace) land here */
  memmove(&reaped[0], &reaped[1], sizeof reaped - sizeof reaped[0]);
  reaped[63].pid = pid;
  reaped[63].status = status;
}
static int take_reaped(pid_t pid, int *status) {
  for (size_t i = 0; i < sizeof reaped / sizeof reaped[0]; i++)
    if (reaped[i].pid == pid && pid > 0) {
      *status = reaped[i].status;
      reaped[i].pid = 0;
      return 1;
    }
  return 0;
}
static void reap_all(void) {
  int st;
  pid_t p;
  while ((p = waitpid(-1, &st, WNOHANG)) > 0) remember(p, st);
}

/* ---- log file (docker json-file) -------------------------------------------------------- */

static int log_fd = -1;
static long long log_size;

static int log_open(int trunc) {
  if (!o.log_path) return 0;
  log_fd = open(o.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (trunc ? O_TRUNC : 0), 0640);
  if (log_fd < 0) return -1;
  struct stat st;
  log_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

/* Rotate like docker's json-file: log -> log.1 -> ... -> log.(max-file - 1); with max-file 1
 * the file is truncated instead. */
static void log_rotate(void) {
  close_fd(&log_fd);
  if (o.log_max_files > 1) {
    char from[PATH_MAX], to[PATH_MAX];
    for (int i = o.log_max_files - 1; i >= 1; i--) {
      if (i == 1) snprintf(from, sizeof from, "%s", o.log_path);
      else snprintf(from, sizeof from, "%s.%d", o.log_path, i - 1);
      snprintf(to, sizeof to, "%s.%d", o.log_path, i);
      rename(from, to); /* ENOENT for files not yet there */
    }
    log_open(0);
  } else log_open(1);
}

static void log_entry(const char *stream, const char *buf, size_t n) {
  static struct sbuf b;
  struct timespec ts;
  char t[64];
  clock_gettime(CLOCK_REALTIME, &ts);
  rfc3339nano(t, sizeof t, &ts);
  b.len = 0;
  sb_puts(&b, "{\"log\":");
  sb_json_str(&b, buf, n);
  sb_printf(&b, ",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, t);
  if (o.log_max_size > 0 && log_size > 0 && log_size + (long long)b.len > o.log_max_size) log_rotate();
  if (log_fd >= 0 && write_all(log_fd, b.p, b.len) == 0) log_size += (long long)b.len;
  if (b.cap > 65536) sb_free(&b); /* give back what a long line took */
}

static void stream_feed(struct stream *s, const char *p, size_t n) {
  if (!o.log_path) return;
  if (!s->line && !(s->line = malloc(LINE_CAP))) _exit(70);
  while (n) {
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    if (take > LINE_CAP - s->len) take = LINE_CAP - s->len;
    memcpy(s->line + s->len, p, take);
    s->len += take;
    p += take;
    n -= take;
    if (s->line[s->len - 1] == '\n' || s->len == LINE_CAP) {
      log_entry(s->name, s->line, s->len);
      s->len = 0;
    }
  }
}

static void stream_flush(struct stream *s) {
  if (s->len) log_entry(s->name, s->line, s->len);
  s->len = 0;
}

/* ---- attach clients --------------------------------------------------------------------- */

static void client_drop(int i) {
  close(clients[i].fd);
  sb_free(&clients[i].out);
  free(clients[i].in);
  clients[i] = clients[--nclients];
  memset(&clients[nclients], 0, sizeof clients[nclients]);
}

static void client_flush(int i) {
  struct client *c = &clients[i];
  while (c->out.len) {
    ssize_t w = write(c->fd, c->out.p, c->out.len);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      c->out.len = 0;
      return; /* EPIPE and friends: the read side sees the hangup */
    }
    memmove(c->out.p, c->out.p + w, c->out.len - (size_t)w);
    c->out.len -= (size_t)w;
  }
  if (c->out.cap > 65536) sb_free(&c->out);
}

static void client_send(int i, int type, const void *p, size_t n) {
  struct client *c = &clients[i];
  unsigned char h[HDR] = {(unsigned char)type, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
  if (c->out.len + HDR + n > CLIENT_OUT_CAP) {
    shutdown(c->fd, SHUT_RDWR); /* too slow: hung up, dropped on its next poll */
    return;
  }
  sb_put(&c->out, h, HDR);
  sb_put(&c->out, p, n);
  client_flush(i);
}

static void broadcast(int type, const void *p, size_t n) {
  for (int i = 0; i < nclients; i++) client_send(i, type, p, n);
}

/* ---- running the OCI runtime ------------------------------------------------------------ */

#ifndef RUNTIME_TIMEOUT_MS
#define RUNTIME_TIMEOUT_MS 60000
#endif

struct run_result {
  int status;          /* wait status, or -1 when it could not be run */
  int timed_out;       /* killed after RUNTIME_TIMEOUT_MS */
  struct sbuf out;     /* its stdout+stderr when captured */
};

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : 0;
}

/* Text of the runtime's log from `from` on (its own JSON lines; the caller parses them). */
static void read_runtime_log(struct sbuf *b, long long from) {
  int fd = open(runtime_log, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  long long size = file_size(runtime_log);
  if (size - from > 16384) from = size - 16384;
  if (from > 0) lseek(fd, from, SEEK_SET);
  char buf[4096];
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) sb_put(b, buf, (size_t)r);
  close(fd);
}

static void recv_console(int listen_fd, int *master) {
  int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0) return;
  char name[256];
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } u;
  struct iovec iov = {name, sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (recvmsg(c, &msg, MSG_CMSG_CLOEXEC) >= 0) {
    struct cmsghdr *h = CMSG_FIRSTHDR(&msg);
    if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
      close_fd(master);
      memcpy(master, CMSG_DATA(h), sizeof(int));
    }
  }
  close(c);
}

/*
 * Run `<runtime> --root R --log F --log-format json ARGS...` and wait for it, reaping other
 * children meanwhile. stdio: in/out/err fds for the child (-1: /dev/null, -2: capture).
 * With console_listen >= 0 the pty master sent over that socket lands in *master.
 */
static void run_runtime(const char *const *args, int in, int out, int err, int console_listen, int *master,
                        struct run_result *res) {
  const char *argv[32];
  int k = 0;
  argv[k++] = o.runtime;
  argv[k++] = "--root";
  argv[k++] = o.root;
  argv[k++] = "--log";
  argv[k++] = runtime_log;
  argv[k++] = "--log-format";
  argv[k++] = "json";
  for (int i = 0; args[i] && k < 31; i++) argv[k++] = args[i];
  argv[k] = NULL;

  res->status = -1;
  int cap[2] = {-1, -1};
  if ((out == -2 || err == -2) && pipe2(cap, O_CLOEXEC) < 0) return;
  pid_t pid = fork();
  if (pid < 0) {
    close_fd(&cap[0]);
    close_fd(&cap[1]);
    return;
  }
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = {in, out, err};
    for (int i = 0; i < 3; i++) {
      int src = fds[i] == -2 ? cap[1] : fds[i] == -1 ? null : fds[i];
      /* dup2 onto itself would keep O_CLOEXEC: clear it explicitly */
      if (src == i) fcntl(i, F_SETFD, 0);
      else dup2(src, i);
    }
    execvp(o.runtime, (char *const *)argv); /* a bare name is looked up in PATH */
    dprintf(2, "exec %s: %s\n", o.runtime, strerror(errno));
    _exit(127);
  }
  close_fd(&cap[1]);
  if (cap[0] >= 0) set_nonblock(cap[0]);
  /* a runtime that hangs must not hang the monitor: kill it after RUNTIME_TIMEOUT_MS */
  long long deadline = now_ms() + RUNTIME_TIMEOUT_MS;
  res->timed_out = 0;
  for (;;) {
    struct pollfd p[3] = {{sigfd, POLLIN, 0}, {console_listen, POLLIN, 0}, {cap[0], POLLIN, 0}};
    long long left = deadline - now_ms();
    if (left <= 0 && !res->timed_out) {
      kill(pid, SIGKILL);
      res->timed_out = 1;
    }
    if (poll(p, 3, res->timed_out ? 100 : (int)left) < 0 && errno != EINTR) break;
    if (p[1].revents & POLLIN) recv_console(console_listen, master);
    if (p[2].revents) {
      char buf[4096];
      ssize_t r = read(cap[0], buf, sizeof buf);
      if (r > 0 && res->out.len < 65536) sb_put(&res->out, buf, (size_t)r);
      else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_fd(&cap[0]);
    }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo != SIGCHLD) {
          /* a stop request while the runtime runs: handled once it is done */
          stop_pending = 1;
        }
      }
      reap_all();
    }
    int st;
    if (take_reaped(pid, &st)) {
      res->status = st;
      break;
    }
  }
  /* the master is sent before create exits; pick it up if poll saw both at once */
  if (console_listen >= 0 && master && *master < 0) {
    struct pollfd p = {console_listen, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) recv_console(console_listen, master);
  }
  if (cap[0] >= 0) {
    char buf[4096];
    ssize_t r;
    while ((r = read(cap[0], buf, sizeof buf)) > 0)
      if (res->out.len < 65536) sb_put(&res->out, buf, (size_t)r);
    close(cap[0]);
  }
}

static int status_ok(int st) { return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0; }

/* {"error":TEXT,"output":...,"runtimeLog":...} for the caller; it picks the runtime's message. */
static void error_json(struct sbuf *b, const char *what, const struct run_result *r, long long log_from) {
  char text[256];
  if (r && r->timed_out) snprintf(text, sizeof text, "%s: %s did not finish in %d s", what, o.runtime, RUNTIME_TIMEOUT_MS / 1000);
  else if (r && r->status == -1) snprintf(text, sizeof text, "%s: could not run %s: %s", what, o.runtime, strerror(errno));
  else if (r && WIFEXITED(r->status)) snprintf(text, sizeof text, "%s: exit status %d", what, WEXITSTATUS(r->status));
  else if (r) snprintf(text, sizeof text, "%s: killed by signal %d", what, WTERMSIG(r->status));
  else snprintf(text, sizeof text, "%s", what);
  struct sbuf lg = {0};
  read_runtime_log(&lg, log_from);
  sb_puts(b, "{\"error\":");
  sb_json_str(b, text, strlen(text));
  sb_puts(b, ",\"output\":");
  sb_json_str(b, r && r->out.p ? r->out.p : "", r ? r->out.len : 0);
  sb_puts(b, ",\"runtimeLog\":");
  sb_json_str(b, lg.p ? lg.p : "", lg.len);
  sb_puts(b, "}");
  sb_free(&lg);
}

static void runtime_simple(const char *a0, const char *a1, const char *a2, const char *a3) {
  const char *args[] = {a0, a1, a2, a3, NULL};
  struct run_result r = {0};
  run_runtime(args, -1, -1, -1, -1, NULL, &r);
  sb_free(&r.out);
}

/* ---- OOM: the memory cgroup's oom_kill counter (cgroup v1 memory.oom_control, v2
 * memory.events; kernel Documentation/admin-guide/cgroup-v{1,2}) ----------------------- */

static long long read_oom_count(void) {
  if (!oom_file[0]) return -1;
  int fd = open(oom_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return -1;
  buf[r] = 0;
  char *p = strstr(buf, "oom_kill ");
  return p ? atoll(p + 9) : -1;
}

static void find_oom_file(pid_t pid) {
  char path[64], buf[4096];
  oom_file[0] = 0;
  snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return;
  buf[r] = 0;
  char v2[PATH_MAX] = "";
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = 0;
    const char *ctrls = c1 + 1, *cg = c2 + 1;
    if (!*ctrls) {
      snprintf(v2, sizeof v2, "%s", cg);
      continue;
    }
    char list[256];
    snprintf(list, sizeof list, ",%s,", ctrls);
    if (strstr(list, ",memory,")) {
      snprintf(oom_file, sizeof oom_file, "/sys/fs/cgroup/memory%s/memory.oom_control", cg);
      return;
    }
  }
  if (v2[0]) {
    snprintf(oom_file, sizeof oom_file, "/sys/fs/cgroup%s/memory.events", v2);
    if (access(oom_file, R_OK) != 0)
      snprintf(oom_file, sizeof oom_file, "/sys/fs/cgroup/unified%s/memory.events", v2);
  }
}

/* ---- container lifecycle ---------------------------------------------------------------- */

static void set_stdin_fd(int fd) {
  close_fd(&stdin_fd);
  stdin_fd = fd;
  stdin_pending.len = 0;
  stdin_close_requested = 0;
  if (fd >= 0) set_nonblock(fd);
}

/* create mode: force-delete the container; exec mode: the container is not ours to touch */
static void delete_container(void) {
  if (!o.exec_process) runtime_simple("delete", "--force", o.id, NULL);
}

/*
 * `<runtime> create` (or in exec mode `<runtime> exec --detach`) with the container's stdio:
 * returns 0, or -1 with an error JSON in *err.
 */
static int launch(struct sbuf *err) {
  const char *verb = o.exec_process ? "exec" : "create";
  const char *args[16];
  int k = 0;
  args[k++] = verb;
  if (o.exec_process) args[k++] = "--detach";
  else args[k++] = "--bundle", args[k++] = o.bundle;
  args[k++] = "--pid-file";
  args[k++] = cpid_path;
  if (o.terminal) args[k++] = "--console-socket", args[k++] = console_path;
  if (o.exec_process) args[k++] = "--process", args[k++] = o.exec_process;
  args[k++] = o.id;
  args[k] = NULL;
  int out[2] = {-1, -1}, errp[2] = {-1, -1}, in[2] = {-1, -1}, listen_fd = -1, master = -1;
  struct run_result r = {0};
  long long log_from = file_size(runtime_log);
  unlink(cpid_path);
  if (o.terminal) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    unlink(console_path);
    memcpy(sa.sun_path, console_path, strlen(console_path) + 1); /* length checked in main */
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listen_fd, 1) < 0) {
      char m[PATH_MAX + 64];
      snprintf(m, sizeof m, "%s: console socket %s: %s", verb, console_path, strerror(errno));
      error_json(err, m, NULL, log_from);
      close_fd(&listen_fd);
      return -1;
    }
    run_runtime(args, -1, -2, -2, listen_fd, &master, &r); /* its messages, for errors */
    close(listen_fd);
    unlink(console_path);
  } else {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || (o.open_stdin && pipe2(in, O_CLOEXEC) < 0)) {
      error_json(err, "pipes", NULL, log_from);
      close_fd(&out[0]), close_fd(&out[1]), close_fd(&errp[0]), close_fd(&errp[1]);
      return -1;
    }
    run_runtime(args, in[0], out[1], errp[1], -1, NULL, &r);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&errp[1]);
  }
  if (!status_ok(r.status) || (o.terminal && master < 0)) {
    /* in pipe mode the runtime's own stderr went to the container's stderr pipe */
    if (errp[0] >= 0) {
      char buf[4096];
      ssize_t n;
      set_nonblock(errp[0]);
      set_nonblock(out[0]);
      while ((n = read(errp[0], buf, sizeof buf)) > 0) sb_put(&r.out, buf, (size_t)n);
      while ((n = read(out[0], buf, sizeof buf)) > 0) sb_put(&r.out, buf, (size_t)n);
    }
    error_json(err, status_ok(r.status) ? "no pty master received on the console socket" : verb, &r, log_from);
    close_fd(&out[0]), close_fd(&errp[0]), close_fd(&in[1]), close_fd(&master);
    sb_free(&r.out);
    delete_container();
    return -1;
  }
  sb_free(&r.out);

  char buf[32] = "";
  int fd = open(cpid_path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  container_pid = n > 0 ? atoi(buf) : 0;
  if (container_pid <= 0) {
    error_json(err, "no pid in the runtime's pid file", NULL, log_from);
    close_fd(&out[0]), close_fd(&errp[0]), close_fd(&in[1]), close_fd(&master);
    delete_container();
    return -1;
  }
  for (int i = 0; i < 2; i++) close_fd(&streams[i].fd);
  if (o.terminal) {
    streams[0].fd = master;
    set_stdin_fd(o.open_stdin ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -1);
    set_nonblock(master);
  } else {
    streams[0].fd = out[0];
    streams[1].fd = errp[0];
    set_nonblock(out[0]);
    set_nonblock(errp[0]);
    set_stdin_fd(in[1]);
  }
  find_oom_file(container_pid);
  oom_base = read_oom_count();
  container_status = -1;
  started_this_run = 0;
  phase = P_CREATED;
  return 0;
}

/* Exec mode has nothing to create: the process starts with START. */
static int do_create(struct sbuf *err) {
  if (o.exec_process) {
    phase = P_CREATED;
    return 0;
  }
  return launch(err);
}

static int do_start(struct sbuf *err) {
  if (o.exec_process) {
    if (launch(err) < 0) return -1;
  } else {
    long long log_from = file_size(runtime_log);
    const char *args[] = {"start", o.id, NULL};
    struct run_result r = {0};
    run_runtime(args, -1, -2, -2, -1, NULL, &r);
    if (!status_ok(r.status)) {
      error_json(err, "start", &r, log_from);
      sb_free(&r.out);
      return -1;
    }
    sb_free(&r.out);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rfc3339nano(started_at, sizeof started_at, &ts);
  have_started = 1;
  started_this_run = 1;
  started_ms = now_ms();
  phase = P_RUNNING;
  start_deadline = -1;
  return 0;
}

static int exit_code_of(int st) {
  if (st == -1) return -1;
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

static void exit_json(struct sbuf *b, const char *error) {
  struct timespec ts = finished_ts;
  char fin[64];
  if (container_status == -1 || !ts.tv_sec) clock_gettime(CLOCK_REALTIME, &ts);
  rfc3339nano(fin, sizeof fin, &ts);
  long long oom = read_oom_count();
  int st = container_status;
  sb_printf(b, "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,", exit_code_of(st),
            st != -1 && WIFSIGNALED(st) ? WTERMSIG(st) : 0, oom_base >= 0 && oom > oom_base ? "true" : "false");
  if (have_started) sb_printf(b, "\"startedAt\":\"%s\",", started_at);
  else sb_puts(b, "\"startedAt\":null,");
  sb_printf(b, "\"finishedAt\":\"%s\",\"restartCount\":%d,\"error\":", fin, restart_count);
  if (error) sb_json_str(b, error, strlen(error));
  else sb_puts(b, "null");
  sb_puts(b, "}");
}

static void release_all(void) {
  for (int i = 0; i < nclients; i++) {
    int fl = fcntl(clients[i].fd, F_GETFL);
    fcntl(clients[i].fd, F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {2, 0};
    setsockopt(clients[i].fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    client_flush(i);
    fcntl(clients[i].fd, F_SETFL, fl | O_NONBLOCK);
    shutdown(clients[i].fd, SHUT_WR);
  }
  /* lingering close: a client may still be writing (stdin, a resize) when we are done; closing
   * now would fail those writes (EPIPE) and could lose the EXIT frame on its side. Wait up to
   * 1 s for each client to close after it read our EOF, discarding what it sends. */
  long long until = now_ms() + 1000;
  while (nclients) {
    struct pollfd p[MAX_CLIENTS];
    for (int i = 0; i < nclients; i++) p[i] = (struct pollfd){clients[i].fd, POLLIN, 0};
    long long left = until - now_ms();
    if (left <= 0 || poll(p, (nfds_t)nclients, (int)left) <= 0) break;
    for (int i = nclients - 1; i >= 0; i--) {
      if (!p[i].revents) continue;
      char buf[4096];
      ssize_t r = read(clients[i].fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) client_drop(i);
    }
  }
  while (nclients) client_drop(0);
  if (attach_fd >= 0) {
    close_fd(&attach_fd);
    unlink(attach_path);
  }
  unlink(console_path);
  unlink(mpid_path);
}

/* ---- health checks ---------------------------------------------------------------------
 * docker's HEALTHCHECK, run by the monitor itself (no helper process per container): every
 * interval, `<runtime> exec --process <health process> ID` with stdout and stderr on one pipe
 * (at most 4 KiB kept), killed after the timeout (result -1, as docker's "Health check
 * exceeded timeout"); docker's rules (retries, start period, the last 5 results) applied here
 * and State.Health written atomically to <state>/health.json with docker's field names. */
#define HEALTH_LOG 5
#define HEALTH_OUT_CAP 4096
struct hresult {
  char start[64], end[64];
  int code;
  struct sbuf out;
};
static struct hresult hlog[HEALTH_LOG];
static int hlog_n;
static const char *hstatus = "starting";
static int hstreak;
static long long health_deadline = -1;      /* the next check */
static long long health_kill_deadline = -1; /* the running check's timeout */
static long long health_drain_deadline = -1;/* output after the runtime exited: at most 1 s */
static long long health_first_ms;           /* checks began: the start period counts from here */
static pid_t health_pid;                    /* the runtime's exec of the running check */
static int health_fd = -1;
static int health_status = -1, health_reaped, health_timed_out;
static struct sbuf health_out;
static struct timespec health_start_ts;
static char health_path[PATH_MAX], health_pid_path[PATH_MAX];

static void health_write(void) {
  struct sbuf b = {0};
  sb_printf(&b, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", hstatus, hstreak);
  for (int i = 0; i < hlog_n; i++) {
    sb_printf(&b, "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":", i ? "," : "", hlog[i].start,
              hlog[i].end, hlog[i].code);
    sb_json_str(&b, hlog[i].out.p ? hlog[i].out.p : "", hlog[i].out.len);
    sb_puts(&b, "}");
  }
  sb_puts(&b, "]}\n");
  write_file_atomic(health_path, b.p, b.len);
  sb_free(&b);
}

/* (Re)start the checks: status starting, first check one interval from now. */
static void health_begin(void) {
  if (!o.health_process) return;
  hstatus = "starting";
  hstreak = 0;
  health_first_ms = now_ms();
  health_deadline = health_first_ms + o.health_interval_ms;
  health_write();
}

static pid_t health_exec_pid(void) {
  char buf[32] = {0};
  int fd = open(health_pid_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  return r > 0 ? (pid_t)atoi(buf) : 0;
}

static void health_launch(void) {
  int cap[2];
  health_deadline = -1;
  if (pipe2(cap, O_CLOEXEC) < 0) {
    health_deadline = now_ms() + o.health_interval_ms;
    return;
  }
  unlink(health_pid_path);
  clock_gettime(CLOCK_REALTIME, &health_start_ts);
  pid_t pid = fork();
  if (pid < 0) {
    close(cap[0]), close(cap[1]);
    health_deadline = now_ms() + o.health_interval_ms;
    return;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0), dup2(cap[1], 1), dup2(cap[1], 2);
    const char *argv[] = {o.runtime, "--root", o.root, "--log", runtime_log, "--log-format", "json", "exec",
                          "--pid-file", health_pid_path, "--process", o.health_process, o.id, NULL};
    execvp(o.runtime, (char *const *)argv);
    dprintf(2, "exec %s: %s\n", o.runtime, strerror(errno));
    _exit(127);
  }
  close(cap[1]);
  set_nonblock(cap[0]);
  health_fd = cap[0];
  health_pid = pid;
  health_status = -1;
  health_reaped = health_timed_out = 0;
  health_out.len = 0;
  health_kill_deadline = now_ms() + o.health_timeout_ms;
  health_drain_deadline = -1;
}

/* The check is done (runtime reaped, output read): docker's rules (daemon/health.go). */
static void health_finish(void) {
  close_fd(&health_fd);
  health_pid = 0;
  health_kill_deadline = health_drain_deadline = -1;
  unlink(health_pid_path);
  if (hlog_n == HEALTH_LOG) {
    sb_free(&hlog[0].out);
    memmove(&hlog[0], &hlog[1], sizeof hlog[0] * (HEALTH_LOG - 1));
    memset(&hlog[HEALTH_LOG - 1], 0, sizeof hlog[0]);
    hlog_n--;
  }
  struct hresult *r = &hlog[hlog_n++];
  rfc3339nano(r->start, sizeof r->start, &health_start_ts);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rfc3339nano(r->end, sizeof r->end, &ts);
  r->out.len = 0;
  if (health_timed_out) {
    r->code = -1;
    char m[96];
    long long t = o.health_timeout_ms;
    if (t % 1000) snprintf(m, sizeof m, "Health check exceeded timeout (%lldms)", t);
    else snprintf(m, sizeof m, "Health check exceeded timeout (%llds)", t / 1000);
    sb_puts(&r->out, m);
  } else {
    r->code = health_status == -1 ? -1 : exit_code_of(health_status);
    if (health_out.len) sb_put(&r->out, health_out.p, health_out.len);
  }
  if (r->code == 0) {
    hstreak = 0;
    hstatus = "healthy";
  } else if (!strcmp(hstatus, "starting") && now_ms() - health_first_ms < o.health_start_period_ms) {
    /* failures in the start period do not count (a success ends it, above) */
  } else if (++hstreak >= o.health_retries) {
    hstatus = "unhealthy";
  }
  health_write();
  health_deadline = now_ms() + o.health_interval_ms;
}

/* The container is gone: no more checks; a running one is killed. */
static void health_stop(void) {
  health_deadline = -1;
  if (!health_pid) return;
  pid_t x = health_exec_pid();
  if (x > 0) kill(x, SIGKILL);
  kill(health_pid, SIGKILL);
  close_fd(&health_fd);
  health_pid = 0;
  health_kill_deadline = health_drain_deadline = -1;
  unlink(health_pid_path);
}

/* Called every round of the main loop. */
static void health_tick(int readable) {
  if (!o.health_process) return;
  long long now = now_ms();
  if (health_pid && health_fd >= 0 && readable) {
    char buf[4096];
    ssize_t r;
    while ((r = read(health_fd, buf, sizeof buf)) > 0)
      if (health_out.len < HEALTH_OUT_CAP)
        sb_put(&health_out, buf, (size_t)r < HEALTH_OUT_CAP - health_out.len ? (size_t)r : HEALTH_OUT_CAP - health_out.len);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) close_fd(&health_fd);
  }
  int st;
  if (health_pid && !health_reaped && take_reaped(health_pid, &st)) {
    health_status = st;
    health_reaped = 1;
    health_kill_deadline = -1;
    /* a process the check left behind may hold the pipe: wait for EOF at most 1 s */
    health_drain_deadline = now + 1000;
  }
  if (health_pid && !health_reaped && health_kill_deadline >= 0 && now >= health_kill_deadline) {
    /* the timeout: kill the check's process, then (1 s later, if it is still there) the runtime */
    if (!health_timed_out) {
      health_timed_out = 1;
      pid_t x = health_exec_pid();
      if (x > 0) kill(x, SIGKILL);
      health_kill_deadline = now + 1000;
    } else {
      kill(health_pid, SIGKILL);
      health_kill_deadline = -1;
    }
  }
  if (health_pid && health_reaped && (health_fd < 0 || now >= health_drain_deadline)) health_finish();
  if (!health_pid && health_deadline >= 0 && now >= health_deadline) {
    if (phase == P_CREATED || phase == P_RUNNING) health_launch();
    else health_deadline = -1; /* exited: a restart begins again (health_begin) */
  }
}

static void finalize(const char *error) {
  health_stop();
  for (int i = 0; i < 2; i++) stream_flush(&streams[i]);
  struct sbuf b = {0};
  exit_json(&b, error ? error : stop_reason);
  write_file_atomic(exit_path, b.p, b.len);
  broadcast(F_EXIT, b.p, b.len);
  sb_free(&b);
  phase = P_DONE;
  release_all();
  if (o.exit_argc) {
    /* --exit-command (conmon's): the engine's cleanup for a daemonless --rm or network
     * teardown runs once the exit file is there; the monitor becomes that command */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execvp(o.exit_argv[0], (char *const *)o.exit_argv);
  }
  _exit(0);
}

/* Docker's policies: on-failure restarts on a non-zero exit up to N times (0: no limit);
 * always and unless-stopped restart on any exit (they differ only when a daemon restarts,
 * which is the engine's business). A stop (NO_RESTART frame or a signal) ends it. */
static int wants_restart(void) {
  if (no_restart || !started_this_run) return 0;
  int code = exit_code_of(container_status);
  switch (o.restart) {
  case R_NO: return 0;
  case R_ON_FAILURE: return code != 0 && (o.restart_max == 0 || restart_count < o.restart_max);
  case R_ALWAYS:
  case R_UNLESS_STOPPED: return 1;
  }
  return 0;
}

static void on_container_exit(void) {
  for (int i = 0; i < 2; i++) {
    stream_flush(&streams[i]);
    close_fd(&streams[i].fd);
  }
  set_stdin_fd(-1);
  if (!wants_restart()) finalize(NULL);
  delete_container();
  /* docker's back-off: 100 ms doubling, reset after 10 s of running */
  if (now_ms() - started_ms > 10000) backoff_ms = 100;
  backoff_deadline = now_ms() + backoff_ms;
  if (backoff_ms < 60000) backoff_ms *= 2;
  phase = P_BACKOFF;
}

static void do_restart(void) {
  struct sbuf err = {0};
  backoff_deadline = -1;
  restart_count++;
  if (do_create(&err) < 0 || do_start(&err) < 0) {
    if (phase == P_CREATED) delete_container();
    finalize(err.p ? err.p : "restart failed");
  }
  sb_free(&err);
  health_begin(); /* docker: a restarted container starts over at "starting" */
}

/* Stop the container ourselves: the caller's signal, or start never came. */
static void request_stop(const char *why) {
  no_restart = 1;
  if (!stop_reason) stop_reason = why;
  if (phase == P_BACKOFF) finalize(NULL);
  if (o.exec_process) {
    /* an exec process is ours alone; before START there is none */
    if (phase == P_CREATED) finalize(NULL);
    if (phase == P_RUNNING) kill(container_pid, SIGKILL);
    return;
  }
  if ((phase == P_CREATED || phase == P_RUNNING) && kill_deadline < 0) {
    runtime_simple("kill", o.id, "KILL", NULL);
    kill_deadline = now_ms() + 5000;
  }
}

/* ---- client requests -------------------------------------------------------------------- */

static void handle_frame(int ci, int type, const unsigned char *p, size_t n) {
  switch (type) {
  case F_STDIN:
    if (stdin_fd >= 0 && !stdin_close_requested && stdin_pending.len + n <= STDIN_CAP) {
      sb_put(&stdin_pending, p, n);
    }
    break;
  case F_CLOSE_STDIN: stdin_close_requested = 1; break;
  case F_RESIZE:
    if (o.terminal && streams[0].fd >= 0 && n >= 4) {
      struct winsize ws = {.ws_row = (unsigned short)(p[0] << 8 | p[1]), .ws_col = (unsigned short)(p[2] << 8 | p[3])};
      ioctl(streams[0].fd, TIOCSWINSZ, &ws);
    }
    break;
  case F_NO_RESTART: no_restart = 1; break;
  /* a client that starts the container itself first makes sure it gets all the output */
  case F_PING: client_send(ci, F_PONG, NULL, 0); break;
  case F_START: {
    struct sbuf res = {0};
    if (phase != P_CREATED) {
      const char *m = "{\"error\":\"start: the container is not in the created state\"}";
      client_send(ci, F_START_RESULT, m, strlen(m));
    } else if (do_start(&res) == 0) {
      sb_printf(&res, "{\"ok\":true,\"containerPid\":%d}", container_pid);
      client_send(ci, F_START_RESULT, res.p, res.len);
    } else client_send(ci, F_START_RESULT, res.p, res.len);
    sb_free(&res);
    break;
  }
  default: break;
  }
}

static int client_read(int ci) {
  struct client *c = &clients[ci];
  if (!c->in && !(c->in = malloc(HDR + MAX_IN_PAYLOAD))) return -1;
  ssize_t r = read(c->fd, c->in + c->inlen, HDR + MAX_IN_PAYLOAD - c->inlen);
  if (r == 0) return -1;
  if (r < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
  c->inlen += (size_t)r;
  for (;;) {
    if (c->inlen < HDR) break;
    size_t n = (size_t)c->in[4] << 24 | (size_t)c->in[5] << 16 | (size_t)c->in[6] << 8 | c->in[7];
    if (n > MAX_IN_PAYLOAD) return -1;
    if (c->inlen < HDR + n) break;
    handle_frame(ci, c->in[0], c->in + HDR, n);
    if (ci >= nclients || &clients[ci] != c) return 0;
    memmove(c->in, c->in + HDR + n, c->inlen - HDR - n);
    c->inlen -= HDR + n;
  }
  return 0;
}

/* ---- main loop -------------------------------------------------------------------------- */

static void flush_stdin(void) {
  while (stdin_fd >= 0 && stdin_pending.len) {
    ssize_t w = write(stdin_fd, stdin_pending.p, stdin_pending.len);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) stdin_pending.len = 0;
      break;
    }
    memmove(stdin_pending.p, stdin_pending.p + w, stdin_pending.len - (size_t)w);
    stdin_pending.len -= (size_t)w;
  }
  if (stdin_close_requested && !stdin_pending.len && stdin_fd >= 0) {
    if (o.terminal) {
      /* a pty has no half-close: send the EOF character, as a terminal user would (^D) */
      const char eot = 4;
      if (write(stdin_fd, &eot, 1) < 0) { /* nothing to do */ }
    }
    close_fd(&stdin_fd);
  }
}

static void main_loop(void) {
  for (;;) {
    struct pollfd p[6 + MAX_CLIENTS];
    int n = 0;
    p[n++] = (struct pollfd){sigfd, POLLIN, 0};
    p[n++] = (struct pollfd){nclients < MAX_CLIENTS ? attach_fd : -1, POLLIN, 0};
    p[n++] = (struct pollfd){streams[0].fd, POLLIN, 0};
    p[n++] = (struct pollfd){streams[1].fd, POLLIN, 0};
    p[n++] = (struct pollfd){stdin_fd, stdin_pending.len ? POLLOUT : 0, 0};
    p[n++] = (struct pollfd){health_fd, POLLIN, 0};
    int base = n;
    for (int i = 0; i < nclients; i++) p[n++] = (struct pollfd){clients[i].fd, (short)(POLLIN | (clients[i].out.len ? POLLOUT : 0)), 0};

    long long now = now_ms(), next = -1;
    long long dl[] = {start_deadline, drain_deadline, backoff_deadline, kill_deadline,
                      health_deadline, health_kill_deadline, health_drain_deadline};
    for (size_t i = 0; i < sizeof dl / sizeof dl[0]; i++)
      if (dl[i] >= 0 && (next < 0 || dl[i] < next)) next = dl[i];
    int timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
    if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) continue;

    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == sizeof si)
        if (si.ssi_signo != SIGCHLD) request_stop("stopped by a signal to the monitor");
      reap_all();
    }
    /* checked every round: the init may have been reaped while the runtime ran */
    int st;
    if ((phase == P_CREATED || phase == P_RUNNING) && take_reaped(container_pid, &st)) {
      container_status = st;
      clock_gettime(CLOCK_REALTIME, &finished_ts);
      kill_deadline = -1;
      phase = P_DRAINING;
      drain_deadline = now_ms() + 2000;
    }
    for (int s = 0; s < 2; s++) {
      if (!p[2 + s].revents || streams[s].fd < 0) continue;
      char buf[8192];
      ssize_t r = read(streams[s].fd, buf, sizeof buf);
      if (r > 0) {
        stream_feed(&streams[s], buf, (size_t)r);
        broadcast(s == 0 ? F_STDOUT : F_STDERR, buf, (size_t)r);
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        /* EOF, or EIO from a pty master once every slave is closed (pty(7)) */
        stream_flush(&streams[s]);
        if (s == 0 && stdin_fd >= 0 && o.terminal) close_fd(&stdin_fd);
        close_fd(&streams[s].fd);
      }
    }
    if (p[4].revents) flush_stdin();
    if (p[1].revents & POLLIN) {
      int c = accept4(attach_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c >= 0) {
        memset(&clients[nclients], 0, sizeof clients[nclients]);
        clients[nclients++].fd = c;
      }
    }
    for (int i = nclients - 1, k = base + nclients - 1; i >= 0; i--, k--) {
      if (k >= n) continue; /* accepted in this round */
      if (p[k].revents & POLLOUT) client_flush(i);
      if (p[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (client_read(i) < 0) client_drop(i);
      }
    }
    flush_stdin();

    now = now_ms();
    if (phase == P_DRAINING && ((streams[0].fd < 0 && streams[1].fd < 0) || now >= drain_deadline)) {
      drain_deadline = -1;
      on_container_exit();
    }
    if (phase == P_CREATED && start_deadline >= 0 && now >= start_deadline) {
      start_deadline = -1;
      request_stop("not started before the start timeout");
    }
    if (kill_deadline >= 0 && now >= kill_deadline) {
      /* the runtime's kill did not take: the init is our child, kill it directly */
      kill(container_pid, SIGKILL);
      kill_deadline = -1;
    }
    if (phase == P_BACKOFF && backoff_deadline >= 0 && now >= backoff_deadline) do_restart();
    if (stop_pending) {
      stop_pending = 0;
      request_stop("stopped by a signal to the monitor");
    }
    health_tick(p[5].revents != 0);
  }
}

/* ---- setup ------------------------------------------------------------------------------ */

static void usage(void) {
  dprintf(2, "usage: berth-monitor --id ID --runtime PATH --root DIR (--bundle DIR | --exec PROCESS.json) --state-dir DIR\n"
             "       [--log-path FILE [--log-max-size BYTES] [--log-max-files N]] [--terminal] [--stdin] [--start]\n"
             "       [--restart no|on-failure[:N]|always|unless-stopped] [--start-timeout SECONDS] [--sync-fd FD]\n"
             "       [--exit-command PATH [--exit-command-arg ARG]...]\n");
  exit(2);
}

static void sync_report(const char *json, size_t n) {
  if (o.sync_fd < 0) return;
  if (write_all(o.sync_fd, json, n) == 0) write_all(o.sync_fd, "\n", 1);
}

static void fail_early(const char *what) {
  char msg[PATH_MAX + 128];
  if (errno) snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  else snprintf(msg, sizeof msg, "%s", what);
  struct sbuf b = {0};
  error_json(&b, msg, NULL, 1LL << 62);
  sync_report(b.p, b.len);
  dprintf(2, "berth-monitor: %s\n", msg);
  exit(1);
}

static void parse_args(int argc, char **argv) {
  static const struct option lo[] = {
      {"id", 1, 0, 'i'},        {"runtime", 1, 0, 'r'},       {"root", 1, 0, 'R'},        {"bundle", 1, 0, 'b'},
      {"state-dir", 1, 0, 's'}, {"log-path", 1, 0, 'l'},      {"log-max-size", 1, 0, 'm'}, {"log-max-files", 1, 0, 'f'},
      {"terminal", 0, 0, 't'},  {"stdin", 0, 0, 'I'},         {"start", 0, 0, 'S'},       {"restart", 1, 0, 'p'},
      {"sync-fd", 1, 0, 'y'},   {"start-timeout", 1, 0, 'T'}, {"exec", 1, 0, 'x'},
      {"exit-command", 1, 0, 'e'}, {"exit-command-arg", 1, 0, 'a'},
      {"health-process", 1, 0, 'H'}, {"health-interval-ms", 1, 0, 'N'}, {"health-timeout-ms", 1, 0, 'O'},
      {"health-start-period-ms", 1, 0, 'P'}, {"health-retries", 1, 0, 'Y'}, {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'i': o.id = optarg; break;
    case 'r': o.runtime = optarg; break;
    case 'R': o.root = optarg; break;
    case 'b': o.bundle = optarg; break;
    case 's': o.state_dir = optarg; break;
    case 'l': o.log_path = optarg; break;
    case 'm': o.log_max_size = atoll(optarg); break;
    case 'f': o.log_max_files = atoi(optarg); break;
    case 't': o.terminal = 1; break;
    case 'I': o.open_stdin = 1; break;
    case 'S': o.auto_start = 1; break;
    case 'y': o.sync_fd = atoi(optarg); break;
    case 'T': o.start_timeout = atoi(optarg); break;
    case 'x': o.exec_process = optarg; break;
    case 'H': o.health_process = optarg; break;
    case 'N': o.health_interval_ms = atoll(optarg); break;
    case 'O': o.health_timeout_ms = atoll(optarg); break;
    case 'P': o.health_start_period_ms = atoll(optarg); break;
    case 'Y': o.health_retries = atoi(optarg); break;
    case 'e': o.exit_argv[0] = optarg; o.exit_argc = o.exit_argc ? o.exit_argc : 1; break;
    case 'a':
      if (o.exit_argc == 0) o.exit_argc = 1; /* the command may come after its args */
      if (o.exit_argc < 64) o.exit_argv[o.exit_argc++] = optarg;
      break;
    case 'p':
      if (!strcmp(optarg, "no")) o.restart = R_NO;
      else if (!strcmp(optarg, "always")) o.restart = R_ALWAYS;
      else if (!strcmp(optarg, "unless-stopped")) o.restart = R_UNLESS_STOPPED;
      else if (!strncmp(optarg, "on-failure", 10) && (optarg[10] == 0 || optarg[10] == ':')) {
        o.restart = R_ON_FAILURE;
        o.restart_max = optarg[10] ? atoi(optarg + 11) : 0;
      } else {
        errno = 0;
        fail_early("invalid --restart policy");
      }
      break;
    default: usage();
    }
  }
  if (o.sync_fd >= 0 && fcntl(o.sync_fd, F_SETFD, FD_CLOEXEC) < 0) o.sync_fd = -1;
  if (o.sync_fd >= 0 && o.sync_fd < 3) o.sync_fd = fcntl(o.sync_fd, F_DUPFD_CLOEXEC, 3); /* stdio becomes /dev/null */
  if (!o.id || !o.runtime || !o.root || !o.state_dir || (!o.bundle && !o.exec_process)) usage();
  if (o.exec_process) o.restart = R_NO; /* an exec is never restarted */
  if (o.exit_argc && !o.exit_argv[0]) usage(); /* --exit-command-arg without --exit-command */
  if (o.log_max_files < 1) o.log_max_files = 1;
  if (o.exec_process) o.health_process = NULL;
  if (o.health_interval_ms <= 0) o.health_interval_ms = 30000; /* docker's defaults */
  if (o.health_timeout_ms <= 0) o.health_timeout_ms = 30000;
  if (o.health_retries <= 0) o.health_retries = 3;
  if (o.health_start_period_ms < 0) o.health_start_period_ms = 0;
}

static void path_in_state(char *out, const char *name) {
  if ((size_t)snprintf(out, PATH_MAX, "%s/%s", o.state_dir, name) >= PATH_MAX) {
    errno = ENAMETOOLONG;
    fail_early("state dir path");
  }
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  path_in_state(attach_path, "attach.sock");
  path_in_state(console_path, "console.sock");
  path_in_state(runtime_log, "runtime.log");
  path_in_state(cpid_path, "container.pid");
  path_in_state(mpid_path, "monitor.pid");
  path_in_state(exit_path, "exit");
  path_in_state(health_path, "health.json");
  path_in_state(health_pid_path, "health-exec.pid");
  if (strlen(attach_path) >= sizeof((struct sockaddr_un *)0)->sun_path)
    fail_early("state dir path too long for a unix socket (108 bytes, unix(7))");
  unlink(exit_path);

  /* daemonize: the first child leaves the caller's process group, the second can never
   * reacquire a controlling terminal (setsid(2), credentials(7)) */
  pid_t p = fork();
  if (p < 0) fail_early("fork");
  if (p > 0) {
    int st;
    waitpid(p, &st, 0);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
  }
  setsid();
  p = fork();
  if (p < 0) fail_early("fork");
  if (p > 0) _exit(0);

  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    if (null > 2) close(null);
  }
  /* descriptors inherited from the caller besides the sync fd: not ours to hold (the caller
   * may wait for EOF on them) and never the container's */
  if (o.sync_fd > 3) close_range(3, (unsigned)o.sync_fd - 1, 0);
  close_range(o.sync_fd >= 3 ? (unsigned)o.sync_fd + 1 : 3, ~0U, 0);
  /* paths are used as given after this: relative ones are the caller's mistake (TS resolves) */
  if (chdir("/") < 0) { /* unreachable */ }
  umask(022);
  signal(SIGPIPE, SIG_IGN);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) fail_early("signalfd");

  char pidbuf[32];
  int pn = snprintf(pidbuf, sizeof pidbuf, "%d\n", getpid());
  if (write_file_atomic(mpid_path, pidbuf, (size_t)pn) < 0) fail_early(mpid_path);

  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  memcpy(sa.sun_path, attach_path, strlen(attach_path) + 1); /* length checked above */
  unlink(attach_path);
  attach_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (attach_fd < 0 || bind(attach_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(attach_fd, 16) < 0) {
    int e = errno;
    unlink(mpid_path);
    errno = e;
    fail_early(attach_path);
  }
  chmod(attach_path, 0600);

  /* the log is opened once the container exists: a failed create leaves no log file behind */
  struct sbuf err = {0};
  int fine = do_create(&err) == 0;
  struct stat lst;
  int log_existed = o.log_path && stat(o.log_path, &lst) == 0;
  if (fine && log_open(0) < 0) {
    char m[PATH_MAX + 64];
    snprintf(m, sizeof m, "open log %s: %s", o.log_path, strerror(errno));
    error_json(&err, m, NULL, 1LL << 62);
    fine = 0;
  }
  if (fine && o.auto_start && do_start(&err) < 0) fine = 0;
  if (!fine) {
    if (phase == P_CREATED) delete_container();
    if (o.log_path && !log_existed) unlink(o.log_path);
    sync_report(err.p, err.len);
    close_fd(&attach_fd);
    unlink(attach_path);
    unlink(mpid_path);
    unlink(cpid_path);
    _exit(1);
  }
  sb_free(&err);
  health_begin(); /* health.json says "starting" before the caller hears of the container */
  struct sbuf ok = {0};
  sb_printf(&ok, "{\"ok\":true,\"monitorPid\":%d,\"containerPid\":%d,\"started\":%s}", getpid(), container_pid,
            have_started ? "true" : "false");
  sync_report(ok.p, ok.len);
  sb_free(&ok);
  close_fd(&o.sync_fd);
  if (phase == P_CREATED && o.start_timeout > 0) start_deadline = now_ms() + (long long)o.start_timeout * 1000;
  if (stop_pending) {
    stop_pending = 0;
    request_stop("stopped by a signal to the monitor");
  }
  main_loop();
  return 0;
}
