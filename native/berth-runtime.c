/*
 * berth-runtime: the runtime's front end (docs/runtime-server.md). Only libc.
 *
 * Node's own start-up costs more than runc's whole `run`, so the runc-style command does not
 * start Node per call: it hands its argv, cwd and umask to a long-lived runtime server (Node,
 * the runtime library loaded and warm) over a unix socket, and then either
 *   - prints the output lines the server sends and exits with its status (state, kill, ...), or
 *   - for create/run/exec, on "EXEC n", execs berth-init itself with the connection as its
 *     control fd (3+n, after the --preserve-fds), so the container's init is born in the
 *     caller's process tree exactly as with runc (a shim or conmon subreaper inherits it, fds
 *     0-2 and the preserved fds pass as they are). The server then drives berth-init's usual
 *     protocol over that connection and ends it with "DONE <status>".
 * Without a server (or with a stale one) it starts one in the background and execs the Node
 * command for this call, so every call is correct and only later calls are fast.
 * BERTH_RUNTIME_NO_SERVER=1 always takes the Node command.
 *
 * Protocol (lines; arguments percent-encoded as in the launch plan, "~" is the empty string):
 *   client: BERTH-RUNTIME 1 <build-id>, CWD <dir>, UMASK <octal>, ARG <a> (each), END
 *   server: OK (or STALE / DENIED / FOREIGN, then it closes), then OUT <1|2> <bytes> ..., and
 *           EXIT <status>, or EXEC <preserve-fds> (client answers EXECING and execs berth-init)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BERTH_BUILD_ID
#define BERTH_BUILD_ID "dev"
#endif

#define SERVER_DIR "/run/berth-runtime/.server"

static char g_dir[PATH_MAX]; /* the checkout: dist/bin/ and native/build/ are below it */
static char **g_argv;
static int g_argc;

__attribute__((noreturn)) static void die(const char *msg) {
  fprintf(stderr, "berth-runtime: %s\n", msg);
  exit(1);
}

static void path_in(char *out, size_t cap, const char *rel) { snprintf(out, cap, "%s/%s", g_dir, rel); }

/* The Node command, for this one call: the first call, no server, or BERTH_RUNTIME_NO_SERVER. */
__attribute__((noreturn)) static void exec_node(void) {
  char cli[PATH_MAX];
  path_in(cli, sizeof cli, "dist/bin/berth-runtime.mjs");
  /* the runtime never speaks TLS: skip Node's extra-CA loading (tens of ms per start) */
  unsetenv("NODE_EXTRA_CA_CERTS");
  char **av = calloc(g_argc + 2, sizeof *av);
  if (!av) die("out of memory");
  av[0] = "node";
  av[1] = cli;
  for (int i = 1; i < g_argc; i++) av[i + 1] = g_argv[i];
  execvp("node", av);
  die("exec node: not found in PATH");
}

/* ---------- encoding ---------- */

struct buf {
  char *p;
  size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) die("out of memory");
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

static void put_enc(struct buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  if (!*s) put(b, "~", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._/:,=@+-", c)) {
      put(b, (char *)&c, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      put(b, e, 3);
    }
  }
}

static void put_line(struct buf *b, const char *op, const char *arg) {
  put(b, op, strlen(op));
  if (arg) {
    put(b, " ", 1);
    put_enc(b, arg);
  }
  put(b, "\n", 1);
}

static int hexv(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode in place, returning the length (the bytes may hold NULs). */
static size_t dec(char *s) {
  if (!strcmp(s, "~")) return 0;
  char *o = s, *i = s;
  while (*i) {
    if (*i == '%' && hexv(i[1]) >= 0 && hexv(i[2]) >= 0) {
      *o++ = (char)(hexv(i[1]) * 16 + hexv(i[2]));
      i += 3;
    } else
      *o++ = *i++;
  }
  return o - s;
}

static int write_all(int fd, const char *p, size_t n, int sock) {
  while (n) {
    ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w, n -= w;
  }
  return 0;
}

/* ---------- lines from the server ---------- */

static struct buf g_in;
static size_t g_off;

/* One line (without its newline), or NULL at end of stream. */
static char *read_line(int fd) {
  for (;;) {
    char *nl = g_in.n > g_off ? memchr(g_in.p + g_off, '\n', g_in.n - g_off) : NULL;
    if (nl) {
      char *l = g_in.p + g_off;
      *nl = 0;
      g_off = nl + 1 - g_in.p;
      return l;
    }
    if (g_off) {
      memmove(g_in.p, g_in.p + g_off, g_in.n - g_off);
      g_in.n -= g_off;
      g_off = 0;
    }
    char chunk[65536];
    ssize_t r = read(fd, chunk, sizeof chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return NULL;
    put(&g_in, chunk, r);
  }
}

/* ---------- the server ---------- */

/* One server per checkout (FNV-1a of this binary's dir): checkouts of other builds on the
 * same machine never keep replacing each other's server. */
static const char *socket_path(void) {
  static char p[PATH_MAX];
  const char *s = getenv("BERTH_RUNTIME_SERVER_SOCKET");
  if (s && *s) return s;
  unsigned long long h = 1469598103934665603ULL;
  for (const char *c = g_dir; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
  snprintf(p, sizeof p, SERVER_DIR "/%016llx.sock", h);
  return p;
}

/* The build id: the one compiled in, and the identity of the server bundle on disk, so that
 * neither a rebuilt front end nor a rebuilt server bundle ever talks to an older server. */
static int build_id(char *out, size_t cap) {
  char p[PATH_MAX];
  struct stat st;
  path_in(p, sizeof p, "dist/bin/berth-runtime-server.mjs");
  if (stat(p, &st) < 0) return -1;
  snprintf(out, cap, "%s:%lld.%09ld:%llu", BERTH_BUILD_ID, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
           (unsigned long long)st.st_ino);
  return 0;
}

static int connect_server(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof a.sun_path) return -1;
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Start a server in the background: double fork, setsid, stdio on /dev/null. A lock beside
 * the socket, held by the new server until it listens, makes concurrent callers start one. */
static void start_server(const char *sock, const char *id) {
  char dir[PATH_MAX], lock[PATH_MAX + 8], server[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", sock);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return;
  *slash = 0;
  if (!strncmp(sock, SERVER_DIR "/", sizeof SERVER_DIR)) mkdir("/run/berth-runtime", 0711);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) return;
  snprintf(lock, sizeof lock, "%s.lock", sock);
  int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lfd < 0) return;
  if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
    close(lfd); /* another caller is starting one */
    return;
  }
  path_in(server, sizeof server, "dist/bin/berth-runtime-server.mjs");
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    int nul = open("/dev/null", O_RDWR);
    dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
    /* nothing of the caller's (preserved fds, a pty) goes along; the lock does */
    if (lfd != 3) {
      dup2(lfd, 3);
      lfd = 3;
    } else
      fcntl(3, F_SETFD, 0);
    if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
      for (int fd = 4; fd < 1024; fd++) close(fd);
    unsetenv("NODE_EXTRA_CA_CERTS");
    umask(022);
    if (chdir("/") < 0) _exit(1);
    char *av[] = {"node", server, "--socket", (char *)sock, "--build-id", (char *)id, "--lock-fd", "3", NULL};
    execvp("node", av);
    _exit(127);
  }
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  close(lfd);
}

/* The container's init is made by berth-init in this process: the server drives it. */
__attribute__((noreturn)) static void become_helper(int fd, int preserve) {
  int ctl = 3 + preserve;
  if (fd != ctl) {
    if (dup2(fd, ctl) < 0) die("move the server connection");
    close(fd);
  } else if (fcntl(fd, F_SETFD, 0) < 0)
    die("keep the server connection");
  char helper[PATH_MAX], num[16];
  const char *env = getenv("BERTH_INIT");
  if (env && *env)
    snprintf(helper, sizeof helper, "%s", env);
  else
    path_in(helper, sizeof helper, "native/build/berth-init");
  snprintf(num, sizeof num, "%d", ctl);
  char *av[] = {"berth-init", num, "--wait-done", NULL};
  char *envp[] = {NULL};
  execve(helper, av, envp);
  fprintf(stderr, "berth-runtime: exec %s: %s\n", helper, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  g_argc = argc, g_argv = argv;
  ssize_t n = readlink("/proc/self/exe", g_dir, sizeof g_dir - 1);
  if (n <= 0) die("readlink /proc/self/exe");
  g_dir[n] = 0;
  *strrchr(g_dir, '/') = 0;
  /* built as native/build/berth-runtime; a copy of the build may also hold it in bin/ */
  char probe[PATH_MAX];
  snprintf(probe, sizeof probe, "%s/../../dist/bin/berth-runtime.mjs", g_dir);
  if (access(probe, F_OK) == 0)
    strcat(g_dir, "/../..");
  else
    strcat(g_dir, "/..");

  /* a closed 0-2 would be taken by the server connection, and output meant for the caller
   * would go to the server: keep them taken (by /dev/null) */
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) die("open /dev/null for a closed stdio fd");

  const char *no = getenv("BERTH_RUNTIME_NO_SERVER");
  if ((no && *no && strcmp(no, "0")) || geteuid() != 0) exec_node();
  /* the server has its own helper and addons: a call that points elsewhere runs alone */
  if (getenv("BERTH_NATIVE_DIR")) exec_node();
  /* `exec --process -` reads this process's stdin: only the Node command has it */
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "-")) exec_node();

  char id[512];
  if (build_id(id, sizeof id) < 0) exec_node();
  const char *sock = socket_path();
  int fd = connect_server(sock);
  if (fd < 0) {
    start_server(sock, id);
    exec_node();
  }

  struct buf req = {0};
  char cwd[PATH_MAX], um[16];
  if (!getcwd(cwd, sizeof cwd)) die("getcwd");
  mode_t m = umask(0);
  umask(m);
  snprintf(um, sizeof um, "%o", m);
  put_line(&req, "BERTH-RUNTIME 1", id);
  put_line(&req, "CWD", cwd);
  put_line(&req, "UMASK", um);
  for (int i = 1; i < argc; i++) put_line(&req, "ARG", argv[i]);
  put_line(&req, "END", NULL);
  if (write_all(fd, req.p, req.n, 1) < 0) {
    close(fd);
    exec_node();
  }
  char *l = read_line(fd);
  if (!l || strcmp(l, "OK")) {
    /* nothing was done: a server that is exiting (idle), stale (it exits now) or refusing */
    int stale = l && !strcmp(l, "STALE");
    close(fd);
    if (stale) start_server(sock, id);
    exec_node();
  }
  while ((l = read_line(fd))) {
    if (!strncmp(l, "OUT ", 4) && (l[4] == '1' || l[4] == '2') && l[5] == ' ') {
      size_t len = dec(l + 6);
      (void)write_all(l[4] - '0', l + 6, len, 0);
    } else if (!strncmp(l, "EXIT ", 5)) {
      exit(atoi(l + 5));
    } else if (!strncmp(l, "EXEC ", 5)) {
      int preserve = atoi(l + 5);
      if (g_off != g_in.n) die("runtime server: data after EXEC");
      if (write_all(fd, "EXECING\n", 8, 1) < 0) die("runtime server: connection lost");
      become_helper(fd, preserve);
    }
  }
  die("runtime server: connection lost before the call finished");
}
