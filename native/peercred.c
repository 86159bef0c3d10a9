/*
 * berth-peercred.node: SO_PEERCRED for the runtime server (docs/runtime-server.md). Node's
 * net module cannot tell who is on the other end of a unix socket; the server accepts only
 * uid 0 and needs the caller's pid (unix(7), "SO_PEERCRED"). One call: peerCred(fd) ->
 * [pid, uid, gid], or throws with the errno name.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "peerCred(fd): fd must be a number");
    return NULL;
  }
  struct ucred c;
  socklen_t len = sizeof c;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0) {
    napi_throw_error(env, strerrorname_np(errno), strerror(errno));
    return NULL;
  }
  napi_create_array_with_length(env, 3, &out);
  napi_create_int32(env, c.pid, &v);
  napi_set_element(env, out, 0, v);
  napi_create_uint32(env, c.uid, &v);
  napi_set_element(env, out, 1, v);
  napi_create_uint32(env, c.gid, &v);
  napi_set_element(env, out, 2, v);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor p = {"peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_default, NULL};
  napi_define_properties(env, exports, 1, &p);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
