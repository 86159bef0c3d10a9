/*
 * berth-fsops.node: the file-system calls that Node's fs module lacks, for layer unpacking
 * and snapshot comparison: mknod(2) (device nodes, fifos, overlayfs whiteouts) and the
 * l*xattr(2) family (security.capability, trusted.overlay.opaque); and mount(2)/umount2(2) for
 * the snapshot mounts (src/sys/mount.ts), instead of a mount(8) process each. Synchronous on purpose:
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
    {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_default, NULL},
    {"writeFile", NULL, js_write_file, NULL, NULL, NULL, napi_default, NULL},
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
    {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
