/*
 * berth-cgbpf.node: attach a cgroup v2 device program. cgroup v2 has no devices.allow files;
 * access to device nodes is decided by a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the
 * cgroup (Documentation/admin-guide/cgroup-v2.rst, "Device controller"). The program itself
 * is built in TypeScript (src/sys/cgroup/devices-bpf.ts); this addon only makes the bpf(2)
 * calls Node cannot: load, attach, and detach the programs the new one replaces.
 * Errors are thrown as Node-style system errors (code = errno name, syscall, path).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_OLD 64
#define LOG_SIZE (64 * 1024)

static const char *errno_name(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case EINVAL: return "EINVAL";
  case ENOTDIR: return "ENOTDIR";
  case ENOSPC: return "ENOSPC";
  case E2BIG: return "E2BIG";
  case ENOMEM: return "ENOMEM";
  case EBADF: return "EBADF";
  case ENOSYS: return "ENOSYS";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  default: return "EIO";
  }
}

static napi_value throw_sys(napi_env env, const char *syscall, const char *path, int e, const char *detail) {
  char m[1024];
  snprintf(m, sizeof m, "%s %s: %s%s%s", syscall, path, strerror(e), detail && *detail ? ": " : "", detail ? detail : "");
  napi_value msg, err, v;
  napi_create_string_utf8(env, m, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "code", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "syscall", v);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "path", v);
  napi_throw(env, err);
  return NULL;
}

static int bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int load(const void *insns, size_t len, char *log, size_t log_size) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (unsigned long)insns;
  a.insn_cnt = (unsigned)(len / sizeof(struct bpf_insn));
  a.license = (unsigned long)"Apache-2.0";
  int fd = bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0 || !log) return fd;
  // Load again with the verifier's log, to say why.
  int saved = errno;
  a.log_buf = (unsigned long)log;
  a.log_size = (unsigned)log_size;
  a.log_level = 1;
  log[0] = 0;
  fd = bpf(BPF_PROG_LOAD, &a);
  if (fd < 0) errno = saved;
  return fd;
}

/* attachDeviceProgram(cgroupDir: string, insns: Buffer): void */
static napi_value attach_device_program(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4096];
  size_t plen = 0;
  bool is_buf = false;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen) != napi_ok || plen >= sizeof path - 1 ||
      napi_is_buffer(env, argv[1], &is_buf) != napi_ok || !is_buf) {
    napi_throw_type_error(env, NULL, "attachDeviceProgram(cgroupDir: string, insns: Buffer)");
    return NULL;
  }
  void *insns = NULL;
  size_t len = 0;
  napi_get_buffer_info(env, argv[1], &insns, &len);
  if (len == 0 || len % sizeof(struct bpf_insn) != 0) {
    napi_throw_type_error(env, NULL, "attachDeviceProgram: insns must be whole 8-byte instructions");
    return NULL;
  }

  int cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) return throw_sys(env, "open", path, errno, NULL);

  char *log = malloc(LOG_SIZE);
  int prog = load(insns, len, log, LOG_SIZE);
  if (prog < 0) {
    int e = errno;
    close(cg);
    napi_value r = throw_sys(env, "bpf(BPF_PROG_LOAD)", path, e, log);
    free(log);
    return r;
  }
  free(log);

  // What is attached now: replaced by the new program once it is in place.
  __u32 old[MAX_OLD];
  union bpf_attr q;
  memset(&q, 0, sizeof q);
  q.query.target_fd = (unsigned)cg;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (unsigned long)old;
  q.query.prog_cnt = MAX_OLD;
  if (bpf(BPF_PROG_QUERY, &q) != 0) q.query.prog_cnt = 0;
  __u32 nold = q.query.prog_cnt;
  __u32 flags = q.query.attach_flags;

  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.target_fd = (unsigned)cg;
  a.attach_bpf_fd = (unsigned)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &a) != 0) {
    int e = errno;
    // A program attached without BPF_F_ALLOW_MULTI: attaching in its mode replaces it.
    if (!(e == EPERM && nold > 0 && !(flags & BPF_F_ALLOW_MULTI))) {
      close(prog);
      close(cg);
      return throw_sys(env, "bpf(BPF_PROG_ATTACH)", path, e, NULL);
    }
    a.attach_flags = flags;
    if (bpf(BPF_PROG_ATTACH, &a) != 0) {
      e = errno;
      close(prog);
      close(cg);
      return throw_sys(env, "bpf(BPF_PROG_ATTACH)", path, e, NULL);
    }
    nold = 0;
  }
  close(prog);

  for (__u32 i = 0; i < nold; i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof g);
    g.prog_id = old[i];
    int ofd = bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (ofd < 0) continue; // gone meanwhile
    union bpf_attr d;
    memset(&d, 0, sizeof d);
    d.target_fd = (unsigned)cg;
    d.attach_bpf_fd = (unsigned)ofd;
    d.attach_type = BPF_CGROUP_DEVICE;
    int rc = bpf(BPF_PROG_DETACH, &d);
    int e = errno;
    close(ofd);
    if (rc != 0 && e != ENOENT) {
      close(cg);
      return throw_sys(env, "bpf(BPF_PROG_DETACH)", path, e, NULL);
    }
  }
  close(cg);
  return NULL;
}

/* attachedDevicePrograms(cgroupDir: string): number  (how many are attached, for tests) */
static napi_value attached_device_programs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4096];
  size_t plen = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen) != napi_ok) {
    napi_throw_type_error(env, NULL, "attachedDevicePrograms(cgroupDir: string)");
    return NULL;
  }
  int cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) return throw_sys(env, "open", path, errno, NULL);
  __u32 ids[MAX_OLD];
  union bpf_attr q;
  memset(&q, 0, sizeof q);
  q.query.target_fd = (unsigned)cg;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (unsigned long)ids;
  q.query.prog_cnt = MAX_OLD;
  int rc = bpf(BPF_PROG_QUERY, &q);
  int e = errno;
  close(cg);
  if (rc != 0) return throw_sys(env, "bpf(BPF_PROG_QUERY)", path, e, NULL);
  napi_value n;
  napi_create_uint32(env, q.query.prog_cnt, &n);
  return n;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "attachDeviceProgram", NAPI_AUTO_LENGTH, attach_device_program, NULL, &f);
  napi_set_named_property(env, exports, "attachDeviceProgram", f);
  napi_create_function(env, "attachedDevicePrograms", NAPI_AUTO_LENGTH, attached_device_programs, NULL, &f);
  napi_set_named_property(env, exports, "attachedDevicePrograms", f);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
