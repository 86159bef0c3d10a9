/*
 * berth-fsops.node: the file-system calls that Node's fs module lacks, for layer unpacking
 * and snapshot comparison: mknod(2) (device nodes, fifos, overlayfs whiteouts) and the
 * l*xattr(2) family (security.capability, trusted.overlay.opaque); and mount(2)/umount2(2) for
 * the snapshot mounts (src/sys/mount.ts), instead of a mount(8) process each; and the two calls
 * behind idmapped layers (src/sys/idmap.ts): a user namespace fd with given maps, and an
 * overlay mount made of idmapped clones of its layers; and for networking (src/network) a
 * persistent network namespace without a process, and flock(2). Synchronous on purpose:
 * the unpacker batches many tiny calls and a promise per call costs more than the call.
 * Errors are thrown as Node-style system errors (code = errno name, syscall, path).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/time.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sched.h>
#include <linux/types.h>

/* The new mount API (open_tree(2), mount_setattr(2), fsopen(2), fsconfig(2), fsmount(2),
 * move_mount(2)): raw syscalls, since an
 * older glibc has no wrappers; numbers and constants from <linux/mount.h> where it lacks them. */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 0x00000001
#endif
#ifndef FSCONFIG_SET_FLAG
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_FD 5
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
struct berth_mount_attr {
  __u64 attr_set;
  __u64 attr_clr;
  __u64 propagation;
  __u64 userns_fd;
};
#include <sys/file.h>
#include <pthread.h>

#define PATH_BUF 4096
#define NAME_BUF 256

static const char *errno_name(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EEXIST: return "EEXIST";
  case EACCES: return "EACCES";
  case EINVAL: return "EINVAL";
  case ENOTDIR: return "ENOTDIR";
  case EISDIR: return "EISDIR";
  case ENOSPC: return "ENOSPC";
  case EROFS: return "EROFS";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case ELOOP: return "ELOOP";
  case ERANGE: return "ERANGE";
  case E2BIG: return "E2BIG";
  case ENODATA: return "ENODATA";
  case EBUSY: return "EBUSY";
  case ENODEV: return "ENODEV";
  case ENOTBLK: return "ENOTBLK";
  case ENOMEM: return "ENOMEM";
  case EFAULT: return "EFAULT";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case EDQUOT: return "EDQUOT";
  case ENOSYS: return "ENOSYS";
  case EBADF: return "EBADF";
  case ESRCH: return "ESRCH";
  case EMFILE: return "EMFILE";
  case EOVERFLOW: return "EOVERFLOW";
  case EAGAIN: return "EAGAIN";
  case EXDEV: return "EXDEV";
  case EINTR: return "EINTR";
  default: return "EIO";
  }
}

static napi_value throw_sys(napi_env env, const char *syscall, const char *path, int e) {
  char msg[PATH_BUF + 128];
  snprintf(msg, sizeof msg, "%s, %s '%s'", errno_name(e), syscall, path);
  napi_value m, err, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &err);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "code", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "syscall", v);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "path", v);
  napi_create_int32(env, -e, &v);
  napi_set_named_property(env, err, "errno", v);
  napi_throw(env, err);
  return NULL;
}

static int get_str(napi_env env, napi_value v, char *buf, size_t len) {
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok || n >= len - 1) {
    napi_throw_type_error(env, NULL, "expected a string argument of sane length");
    return -1;
  }
  return 0;
}

/* mknod(path, mode, major, minor): mode includes the file type bits (S_IFCHR, S_IFIFO, ...). */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF];
  uint32_t mode, maj, min;
  if (argc < 4 || get_str(env, argv[0], path, sizeof path)) return NULL;
  napi_get_value_uint32(env, argv[1], &mode);
  napi_get_value_uint32(env, argv[2], &maj);
  napi_get_value_uint32(env, argv[3], &min);
  if (mknod(path, mode, makedev(maj, min)) != 0) return throw_sys(env, "mknod", path, errno);
  return NULL;
}

/* lsetxattr(path, name, value: Buffer) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF], name[NAME_BUF];
  void *data;
  size_t len;
  if (argc < 3 || get_str(env, argv[0], path, sizeof path) || get_str(env, argv[1], name, sizeof name)) return NULL;
  if (napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "lsetxattr: value must be a Buffer");
    return NULL;
  }
  if (lsetxattr(path, name, data, len, 0) != 0) return throw_sys(env, "lsetxattr", path, errno);
  return NULL;
}

/* lgetxattr(path, name) -> Buffer | null (null when the attribute is absent) */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF], name[NAME_BUF];
  if (argc < 2 || get_str(env, argv[0], path, sizeof path) || get_str(env, argv[1], name, sizeof name)) return NULL;
  for (;;) {
    ssize_t n = lgetxattr(path, name, NULL, 0);
    if (n < 0) {
      if (errno == ENODATA) { napi_get_null(env, &out); return out; }
      return throw_sys(env, "lgetxattr", path, errno);
    }
    void *data;
    napi_create_buffer(env, n > 0 ? (size_t)n : 1, &data, &out);
    ssize_t m = lgetxattr(path, name, data, n > 0 ? (size_t)n : 1);
    if (m < 0 && errno == ERANGE) continue; /* grew between the two calls */
    if (m < 0) return throw_sys(env, "lgetxattr", path, errno);
    napi_value sliced;
    void *d2;
    napi_create_buffer_copy(env, (size_t)m, data, &d2, &sliced);
    return sliced;
  }
}

/* llistxattr(path) -> string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF];
  if (argc < 1 || get_str(env, argv[0], path, sizeof path)) return NULL;
  for (;;) {
    ssize_t n = llistxattr(path, NULL, 0);
    if (n < 0) return throw_sys(env, "llistxattr", path, errno);
    char *buf = malloc(n + 1);
    if (!buf) return throw_sys(env, "llistxattr", path, ENOMEM);
    ssize_t m = n ? llistxattr(path, buf, n) : 0;
    if (m < 0) {
      int e = errno;
      free(buf);
      if (e == ERANGE) continue;
      return throw_sys(env, "llistxattr", path, e);
    }
    napi_create_array(env, &out);
    uint32_t i = 0;
    for (ssize_t p = 0; p < m; p += strlen(buf + p) + 1) {
      napi_value s;
      napi_create_string_utf8(env, buf + p, NAPI_AUTO_LENGTH, &s);
      napi_set_element(env, out, i++, s);
    }
    free(buf);
    return out;
  }
}

/*
 * writeFile(path, mode, uid, gid, chown, chmod, mtimeSec, mtimeNsec, data: Buffer[], cb(err|null))
 * Create a new regular file (O_EXCL|O_NOFOLLOW), write data, chown/chmod as asked, set mtime,
 * close: all on a libuv pool thread in one go, so that many small files are created in
 * parallel (file creation is kernel-bound on some file systems) at one round trip per file.
 */
typedef struct {
  napi_async_work work;
  napi_ref cb;
  napi_ref data_ref;
  char path[PATH_BUF];
  uint32_t mode, uid, gid;
  int do_chown, do_chmod;
  int64_t sec, nsec;
  uint32_t nbufs;
  struct { const char *p; size_t n; } *bufs;
  int err;
  const char *syscall;
} write_job;

static void write_execute(napi_env env, void *arg) {
  (void)env;
  write_job *j = arg;
  int fd = open(j->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, j->mode & 0777);
  if (fd < 0) { j->err = errno; j->syscall = "open"; return; }
  for (uint32_t i = 0; i < j->nbufs && !j->err; i++) {
    const char *p = j->bufs[i].p;
    size_t left = j->bufs[i].n;
    while (left > 0) {
      ssize_t w = write(fd, p, left);
      if (w < 0) { if (errno == EINTR) continue; j->err = errno; j->syscall = "write"; break; }
      p += w; left -= (size_t)w;
    }
  }
  if (!j->err && j->do_chown && fchown(fd, j->uid, j->gid) != 0) { j->err = errno; j->syscall = "fchown"; }
  if (!j->err && j->do_chmod && fchmod(fd, j->mode & 07777) != 0) { j->err = errno; j->syscall = "fchmod"; }
  if (!j->err) {
    struct timespec ts[2] = {{j->sec, j->nsec}, {j->sec, j->nsec}};
    if (futimens(fd, ts) != 0) { j->err = errno; j->syscall = "futimens"; }
  }
  if (close(fd) != 0 && !j->err) { j->err = errno; j->syscall = "close"; }
}

static void write_complete(napi_env env, napi_status status, void *arg) {
  write_job *j = arg;
  napi_value cb, undef, argv[1];
  napi_get_reference_value(env, j->cb, &cb);
  napi_get_undefined(env, &undef);
  if (j->err || status != napi_ok) {
    int e = j->err ? j->err : EIO;
    char msg[PATH_BUF + 128];
    snprintf(msg, sizeof msg, "%s, %s '%s'", errno_name(e), j->syscall ? j->syscall : "writeFile", j->path);
    napi_value m, v;
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
    napi_create_error(env, NULL, m, &argv[0]);
    napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, argv[0], "code", v);
    napi_create_string_utf8(env, j->syscall ? j->syscall : "writeFile", NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, argv[0], "syscall", v);
    napi_create_string_utf8(env, j->path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, argv[0], "path", v);
  } else {
    napi_get_null(env, &argv[0]);
  }
  napi_call_function(env, undef, cb, 1, argv, NULL);
  napi_delete_reference(env, j->cb);
  napi_delete_reference(env, j->data_ref);
  napi_delete_async_work(env, j->work);
  free(j->bufs);
  free(j);
}

static napi_value js_write_file(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 10) { napi_throw_type_error(env, NULL, "writeFile: 10 arguments"); return NULL; }
  write_job *j = calloc(1, sizeof *j);
  if (!j) return throw_sys(env, "writeFile", "", ENOMEM);
  if (get_str(env, argv[0], j->path, sizeof j->path)) { free(j); return NULL; }
  bool b;
  double d;
  napi_get_value_uint32(env, argv[1], &j->mode);
  napi_get_value_uint32(env, argv[2], &j->uid);
  napi_get_value_uint32(env, argv[3], &j->gid);
  napi_get_value_bool(env, argv[4], &b); j->do_chown = b;
  napi_get_value_bool(env, argv[5], &b); j->do_chmod = b;
  napi_get_value_double(env, argv[6], &d); j->sec = (int64_t)d;
  napi_get_value_double(env, argv[7], &d); j->nsec = (int64_t)d;
  uint32_t n = 0;
  napi_get_array_length(env, argv[8], &n);
  j->nbufs = n;
  j->bufs = calloc(n ? n : 1, sizeof *j->bufs);
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    void *p;
    size_t len;
    napi_get_element(env, argv[8], i, &el);
    if (napi_get_buffer_info(env, el, &p, &len) != napi_ok) {
      free(j->bufs); free(j);
      napi_throw_type_error(env, NULL, "writeFile: data must be Buffers");
      return NULL;
    }
    j->bufs[i].p = p;
    j->bufs[i].n = len;
  }
  napi_create_reference(env, argv[8], 1, &j->data_ref); /* keeps the buffers alive */
  napi_create_reference(env, argv[9], 1, &j->cb);
  napi_value name;
  napi_create_string_utf8(env, "berth.writeFile", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, write_execute, write_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return NULL;
}

/* mount(source, target, fstype, flags, data): mount(2), flags as MS_* bits (a double: they
 * exceed int32 in theory, not in the ones we pass). */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char source[PATH_BUF], target[PATH_BUF], fstype[NAME_BUF], data[PATH_BUF];
  double flags;
  if (argc < 5 || get_str(env, argv[0], source, sizeof source) || get_str(env, argv[1], target, sizeof target) ||
      get_str(env, argv[2], fstype, sizeof fstype) || get_str(env, argv[4], data, sizeof data)) return NULL;
  if (napi_get_value_double(env, argv[3], &flags) != napi_ok) {
    napi_throw_type_error(env, NULL, "mount: flags must be a number");
    return NULL;
  }
  if (mount(source, target, fstype, (unsigned long)flags, data[0] ? data : NULL) != 0) return throw_sys(env, "mount", target, errno);
  return NULL;
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char target[PATH_BUF];
  int32_t flags = 0;
  if (argc < 2 || get_str(env, argv[0], target, sizeof target)) return NULL;
  napi_get_value_int32(env, argv[1], &flags);
  if (umount2(target, flags) != 0) return throw_sys(env, "umount2", target, errno);
  return NULL;
}

/*
 * usernsFd(uidMap, gidMap) -> fd: a user namespace with these maps (user_namespaces(7) map
 * lines, "0 165536 65536\n"), for MOUNT_ATTR_IDMAP. A namespace needs a process to be made
 * in: a child is cloned into a new user namespace and only pause()s (no Node, no locks: it
 * came from a multi-threaded parent), its maps are written from here, /proc/PID/ns/user is
 * opened, and the child is killed and reaped. PR_SET_PDEATHSIG: it dies with us if we die
 * in between. The fd is O_CLOEXEC; the caller closes it.
 */
static int write_map(pid_t pid, const char *file, const char *map, char *where, size_t wlen) {
  snprintf(where, wlen, "/proc/%d/%s", (int)pid, file);
  int fd = open(where, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(map);
  ssize_t w = write(fd, map, len);
  int e = errno;
  close(fd);
  if (w != (ssize_t)len) { errno = w < 0 ? e : EIO; return -1; }
  return 0;
}

static napi_value js_userns_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char uid_map[NAME_BUF], gid_map[NAME_BUF], where[64];
  if (argc < 2 || get_str(env, argv[0], uid_map, sizeof uid_map) || get_str(env, argv[1], gid_map, sizeof gid_map)) return NULL;
  pid_t parent = getpid();
  /* clone(2) with no stack: fork-like, the child starts in the new user namespace */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) return throw_sys(env, "clone(CLONE_NEWUSER)", "", errno);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    for (;;) pause();
  }
  int fd = -1, e = 0;
  const char *step = "open";
  if (write_map(pid, "uid_map", uid_map, where, sizeof where) != 0 || write_map(pid, "gid_map", gid_map, where, sizeof where) != 0) {
    e = errno;
    step = "write";
  } else {
    snprintf(where, sizeof where, "/proc/%d/ns/user", (int)pid);
    fd = open(where, O_RDONLY | O_CLOEXEC);
    if (fd < 0) e = errno;
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  if (fd < 0) return throw_sys(env, step, where, e);
  napi_create_int32(env, fd, &out);
  return out;
}

/* An idmapped, detached clone of the directory `path` (mount_setattr(2) "Idmapped mounts"):
 * open_tree(OPEN_TREE_CLONE) makes a detached bind mount of it (not recursive: a layer dir has
 * no submounts), mount_setattr gives it the namespace's idmapping. -1 with *step set on error. */
static int idmapped_clone(const char *path, int userns, const char **step) {
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0) { *step = "open_tree"; return -1; }
  struct berth_mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (__u64)userns};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    *step = "mount_setattr(MOUNT_ATTR_IDMAP)";
    return -1;
  }
  return fd;
}

static int fsconfig_fd(int fs, const char *key, int fd) {
  return (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, key, NULL, fd);
}

/*
 * idmapOverlay(target, lowers: string[], upperParent, upperName, workName, data: string[],
 * usernsFd): mount on `target` an overlay whose layers are idmapped clones (overlayfs.rst
 * "Idmapped layers"): each lower dir, and upperParent (upper and work dir must share a mount)
 * with upperName and workName in it. The layers are handed to overlayfs as file descriptors of
 * the detached clones (fsconfig(2) FSCONFIG_SET_FD "lowerdir+", "upperdir", "workdir": Linux
 * 6.13; detached mounts as layers: 6.15), so no temporary mount point ever exists: nothing to
 * unmount afterwards, nothing left if the process dies half-way. The fds stay open until the
 * superblock is made: a detached tree is dissolved with its last fd, and overlayfs clones each
 * layer's mount only then ("failed to clone lowerpath" otherwise). `data` are "key=value"
 * overlay options (index=off). Older kernels answer EINVAL (or ENOSYS) at the step they lack;
 * the error's syscall names the step, its path the layer.
 */
static napi_value js_idmap_overlay(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char target[PATH_BUF], upper_parent[PATH_BUF], upper_name[NAME_BUF], work_name[NAME_BUF], path[PATH_BUF];
  char joined[PATH_BUF + NAME_BUF + 2];
  int32_t userns = -1;
  uint32_t nlower = 0, ndata = 0;
  if (argc < 7 || get_str(env, argv[0], target, sizeof target) || get_str(env, argv[2], upper_parent, sizeof upper_parent) ||
      get_str(env, argv[3], upper_name, sizeof upper_name) || get_str(env, argv[4], work_name, sizeof work_name)) return NULL;
  if (napi_get_array_length(env, argv[1], &nlower) != napi_ok || napi_get_array_length(env, argv[5], &ndata) != napi_ok ||
      napi_get_value_int32(env, argv[6], &userns) != napi_ok || userns < 0 || nlower == 0 || nlower > 500) {
    napi_throw_type_error(env, NULL, "idmapOverlay: (target, lowers[1..500], upperParent, upperName, workName, data[], usernsFd)");
    return NULL;
  }
  /* fds[0..nlower-1] the lower clones, then the upper clone, the upper dir, the work dir */
  uint32_t nfds = nlower + 3;
  int *fds = malloc(nfds * sizeof *fds);
  if (!fds) return throw_sys(env, "idmapOverlay", target, ENOMEM);
  for (uint32_t i = 0; i < nfds; i++) fds[i] = -1;
  const char *step = NULL, *where = target;
  int e = 0, fs = -1, mnt = -1;
  fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0) { e = errno; step = "fsopen(overlay)"; goto out; }
  for (uint32_t i = 0; i < nlower; i++) {
    napi_value v;
    napi_get_element(env, argv[1], i, &v);
    if (get_str(env, v, path, sizeof path)) { e = EINVAL; step = "idmapOverlay(lowers)"; goto out; }
    where = path;
    fds[i] = idmapped_clone(path, userns, &step);
    if (fds[i] < 0) { e = errno; goto out; }
    if (fsconfig_fd(fs, "lowerdir+", fds[i]) != 0) { e = errno; step = "fsconfig(lowerdir+)"; goto out; }
  }
  where = upper_parent;
  int up = fds[nlower] = idmapped_clone(upper_parent, userns, &step);
  if (up < 0) { e = errno; goto out; }
  const char *names[2] = {upper_name, work_name}, *keys[2] = {"upperdir", "workdir"};
  for (int i = 0; i < 2; i++) {
    snprintf(joined, sizeof joined, "%s/%s", upper_parent, names[i]);
    where = joined;
    fds[nlower + 1 + i] = openat(up, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fds[nlower + 1 + i] < 0) { e = errno; step = "openat"; goto out; }
    if (fsconfig_fd(fs, keys[i], fds[nlower + 1 + i]) != 0) { e = errno; step = i ? "fsconfig(workdir)" : "fsconfig(upperdir)"; goto out; }
  }
  for (uint32_t i = 0; i < ndata; i++) {
    napi_value v;
    napi_get_element(env, argv[5], i, &v);
    if (get_str(env, v, path, sizeof path)) { e = EINVAL; step = "idmapOverlay(data)"; where = target; goto out; }
    where = path;
    char *eq = strchr(path, '=');
    int r;
    if (eq) { *eq = 0; r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, path, eq + 1, 0); }
    else r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, path, NULL, 0);
    if (r != 0) { e = errno; step = "fsconfig"; goto out; }
  }
  where = target;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) != 0) { e = errno; step = "fsconfig(FSCONFIG_CMD_CREATE)"; goto out; }
  mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) { e = errno; step = "fsmount"; goto out; }
  if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) { e = errno; step = "move_mount"; goto out; }
out:
  /* the clones go with their last fd (overlayfs holds its own private clones of them); an
   * overlay not attached by move_mount goes with its fd */
  for (uint32_t i = 0; i < nfds; i++) if (fds[i] >= 0) close(fds[i]);
  free(fds);
  if (mnt >= 0) close(mnt);
  if (fs >= 0) close(fs);
  if (e) return throw_sys(env, step, where, e);
  return NULL;
}

/*
 * netnsCreate(path): a new network namespace kept alive by a bind mount of its nsfs file on
 * `path` (an existing empty file), as `ip netns add` and unshare(1) --net=FILE do, without a
 * process. unshare(CLONE_NEWNET) changes the namespace of the calling thread only
 * (namespaces(7)), so it runs on a fresh thread that exits right after: the Node threads never
 * change namespace. /proc/thread-self/ns/net names that thread's new namespace (proc(5)).
 */
typedef struct { const char *path; int err; const char *step; } netns_job;

static void *netns_thread(void *arg) {
  netns_job *j = arg;
  if (unshare(CLONE_NEWNET) != 0) { j->err = errno; j->step = "unshare"; return NULL; }
  if (mount("/proc/thread-self/ns/net", j->path, "none", MS_BIND, NULL) != 0) { j->err = errno; j->step = "mount"; }
  return NULL;
}

static napi_value js_netns_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF];
  if (argc < 1 || get_str(env, argv[0], path, sizeof path)) return NULL;
  netns_job j = {path, 0, NULL};
  pthread_t t;
  int e = pthread_create(&t, NULL, netns_thread, &j);
  if (e != 0) return throw_sys(env, "pthread_create", path, e);
  pthread_join(t, NULL);
  if (j.err) return throw_sys(env, j.step, path, j.err);
  return NULL;
}

/*
 * flock(fd, exclusive) -> bool: flock(2) LOCK_EX or LOCK_SH with LOCK_NB: true when held,
 * false when another open file description holds it (EWOULDBLOCK); the caller polls. Never
 * blocking a thread: a blocked libuv pool thread per waiter starves the holder of the pool
 * (a daemon with many waiters deadlocked that way). The lock belongs to the open file
 * description: it goes when the fd is closed or the process dies (kill -9 too).
 */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) { napi_throw_type_error(env, NULL, "flock: 2 arguments"); return NULL; }
  int32_t fd;
  bool ex;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_bool(env, argv[1], &ex);
  int r;
  do r = flock(fd, (ex ? LOCK_EX : LOCK_SH) | LOCK_NB); while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EWOULDBLOCK) return throw_sys(env, "flock", "", errno);
  napi_get_boolean(env, r == 0, &out);
  return out;
}

/*
 * idmapOverlayAttached(target, lowers, upperParent, upperName, workName, data, usernsFd,
 * scratch): the overlay of idmapOverlay for kernels 5.19-6.14, which take idmapped layers only as
 * attached mounts by path: each idmapped clone is attached at scratch/N (scratch/u for the
 * upper parent; `scratch` must exist, empty, and be short: the paths go into one page of
 * mount options), the overlay is mounted from those paths with mount(2), and the clones are
 * detached again (MNT_DETACH; overlayfs holds private clones of its layers) and their dirs
 * removed, on success and on failure alike. Only a process killed inside this call leaves
 * mounts under scratch (the caller unmounts what is under it before removing it).
 */
static napi_value js_idmap_overlay_attached(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char target[PATH_BUF], upper_parent[PATH_BUF], upper_name[NAME_BUF], work_name[NAME_BUF], path[PATH_BUF], scratch[NAME_BUF];
  int32_t userns = -1;
  uint32_t nlower = 0, ndata = 0;
  if (argc < 8 || get_str(env, argv[0], target, sizeof target) || get_str(env, argv[2], upper_parent, sizeof upper_parent) ||
      get_str(env, argv[3], upper_name, sizeof upper_name) || get_str(env, argv[4], work_name, sizeof work_name) ||
      get_str(env, argv[7], scratch, sizeof scratch)) return NULL;
  if (napi_get_array_length(env, argv[1], &nlower) != napi_ok || napi_get_array_length(env, argv[5], &ndata) != napi_ok ||
      napi_get_value_int32(env, argv[6], &userns) != napi_ok || userns < 0 || nlower == 0 || nlower > 500) {
    napi_throw_type_error(env, NULL, "idmapOverlayAttached: (target, lowers[1..500], upperParent, upperName, workName, data[], usernsFd, scratch)");
    return NULL;
  }
  /* one page of options (mount(2) copies at most PAGE_SIZE of data) */
  char opts[4096], point[NAME_BUF + 16];
  size_t len = 0;
  uint32_t attached = 0; /* scratch/0..nlower-1, then scratch/u as nlower */
  const char *step = NULL, *where = target;
  int e = 0, mounted = 0;
#define OPT(...) do { int n_ = snprintf(opts + len, sizeof opts - len, __VA_ARGS__); \
    if (n_ < 0 || (size_t)n_ >= sizeof opts - len) { e = EINVAL; step = "mount(overlay) options longer than a page"; goto out; } len += (size_t)n_; } while (0)
  OPT("lowerdir=");
  for (uint32_t i = 0; i <= nlower; i++) {
    const char *src = upper_parent;
    if (i < nlower) {
      napi_value v;
      napi_get_element(env, argv[1], i, &v);
      if (get_str(env, v, path, sizeof path)) { e = EINVAL; step = "idmapOverlayAttached(lowers)"; goto out; }
      src = path;
    }
    if (i < nlower) snprintf(point, sizeof point, "%s/%u", scratch, i);
    else snprintf(point, sizeof point, "%s/u", scratch);
    where = src;
    int fd = idmapped_clone(src, userns, &step);
    if (fd < 0) { e = errno; goto out; }
    if (mkdir(point, 0700) != 0) { e = errno; step = "mkdir"; where = point; close(fd); goto out; }
    if (syscall(SYS_move_mount, fd, "", AT_FDCWD, point, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
      e = errno; step = "move_mount"; where = point; close(fd); rmdir(point); goto out;
    }
    close(fd);
    attached = i + 1;
    if (i < nlower) OPT("%s%s", i ? ":" : "", point);
  }
  OPT(",upperdir=%s/u/%s,workdir=%s/u/%s", scratch, upper_name, scratch, work_name);
  for (uint32_t i = 0; i < ndata; i++) {
    napi_value v;
    napi_get_element(env, argv[5], i, &v);
    if (get_str(env, v, path, sizeof path)) { e = EINVAL; step = "idmapOverlayAttached(data)"; goto out; }
    OPT(",%s", path);
  }
  where = target;
  if (mount("overlay", target, "overlay", 0, opts) != 0) { e = errno; step = "mount(overlay)"; goto out; }
  mounted = 1;
#undef OPT
out:
  for (uint32_t i = 0; i < attached; i++) {
    if (i < nlower) snprintf(point, sizeof point, "%s/%u", scratch, i);
    else snprintf(point, sizeof point, "%s/u", scratch);
    if (umount2(point, MNT_DETACH) != 0 || rmdir(point) != 0) {
      if (!e) { e = errno; step = "umount2(MNT_DETACH)"; where = point; }
    }
  }
  /* all or nothing: an overlay whose clones could not be cleaned up goes too */
  if (e && mounted) umount2(target, MNT_DETACH);
  if (e) return throw_sys(env, step, where, e);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
    {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_default, NULL},
    {"writeFile", NULL, js_write_file, NULL, NULL, NULL, napi_default, NULL},
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
    {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_default, NULL},
    {"usernsFd", NULL, js_userns_fd, NULL, NULL, NULL, napi_default, NULL},
    {"idmapOverlay", NULL, js_idmap_overlay, NULL, NULL, NULL, napi_default, NULL},
    {"netnsCreate", NULL, js_netns_create, NULL, NULL, NULL, napi_default, NULL},
    {"flock", NULL, js_flock, NULL, NULL, NULL, napi_default, NULL},
    {"idmapOverlayAttached", NULL, js_idmap_overlay_attached, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
