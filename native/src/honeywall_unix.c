/*
 * honeywall_unix: datagrams to a local (AF_UNIX) socket, N-API in C, no library beyond libc.
 *
 * Node has no AF_UNIX datagram sockets, and Debian's /dev/log is one (rsyslog's imuxsock and journald's
 * /run/systemd/journal/dev-log bind SOCK_DGRAM), which is where glibc's syslog(3) sends: socket(AF_UNIX,
 * SOCK_DGRAM) and send() of one message a datagram (misc/syslog.c openlog_internal, __vsyslog_internal).
 *
 *   dgramOpen()                 a socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC): its descriptor
 *   dgramSend(fd, path, bytes)  one sendto() of `bytes` to `path`, MSG_DONTWAIT: never waits. Returns null when sent,
 *                               else the errno's name ('EAGAIN' when the receiver's queue is full, 'EPROTOTYPE'
 *                               when `path` is a stream socket, 'ECONNREFUSED' or 'ENOENT' when nobody listens there,
 *                               'EMSGSIZE', ...); the caller decides (queue and retry, fall back to a stream, drop).
 *   dgramClose(fd)              close(); safe to call twice (a closed or bad descriptor is ignored).
 *
 * A path longer than sun_path (108 bytes) is refused with 'ENAMETOOLONG', as connect(2) would.
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_error(env, NULL, "honeywall_unix: " #call " failed");                                                 \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

/* The errno names the TypeScript side tells apart; others as "errno N". */
static const char *errno_name(int e, char *buf, size_t len) {
  switch (e) {
  case EAGAIN: return "EAGAIN";
  case ENOBUFS: return "ENOBUFS";
  case EPROTOTYPE: return "EPROTOTYPE";
  case ECONNREFUSED: return "ECONNREFUSED";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  case EMSGSIZE: return "EMSGSIZE";
  case ENOTSOCK: return "ENOTSOCK";
  case EBADF: return "EBADF";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case ENOTDIR: return "ENOTDIR";
  case EINTR: return "EINTR";
  default: snprintf(buf, len, "errno %d", e); return buf;
  }
}

static napi_value js_string(napi_env env, const char *s) {
  napi_value v;
  if (napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) != napi_ok) return NULL;
  return v;
}

static napi_value dgram_open(napi_env env, napi_callback_info info) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "socket(AF_UNIX, SOCK_DGRAM): %s", strerror(errno));
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

static napi_value dgram_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "dgramSend(fd, path, bytes)");
    return NULL;
  }
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t plen = 0;
  /* the path with its NUL: napi copies at most bufsize - 1 bytes and says how many it would have needed */
  CHECK(napi_get_value_string_utf8(env, argv[1], NULL, 0, &plen));
  if (plen == 0 || plen >= sizeof addr.sun_path) return js_string(env, plen == 0 ? "ENOENT" : "ENAMETOOLONG");
  CHECK(napi_get_value_string_utf8(env, argv[1], addr.sun_path, sizeof addr.sun_path, &plen));
  bool typed;
  void *data = NULL;
  size_t len = 0;
  CHECK(napi_is_typedarray(env, argv[2], &typed));
  if (typed) {
    napi_typedarray_type type;
    size_t count;
    napi_value ab;
    size_t off;
    CHECK(napi_get_typedarray_info(env, argv[2], &type, &count, &data, &ab, &off));
    if (type != napi_uint8_array) {
      napi_throw_type_error(env, NULL, "dgramSend: bytes must be a Uint8Array");
      return NULL;
    }
    len = count;
  } else {
    napi_throw_type_error(env, NULL, "dgramSend: bytes must be a Uint8Array");
    return NULL;
  }
  ssize_t n;
  do {
    n = sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1));
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    napi_value nul;
    CHECK(napi_get_null(env, &nul));
    return nul;
  }
  char buf[32];
  return js_string(env, errno_name(errno, buf, sizeof buf));
}

static napi_value dgram_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc >= 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok && fd > 2) close(fd);
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"dgramOpen", NULL, dgram_open, NULL, NULL, NULL, napi_default, NULL},
      {"dgramSend", NULL, dgram_send, NULL, NULL, NULL, napi_default, NULL},
      {"dgramClose", NULL, dgram_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
