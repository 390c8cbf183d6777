/*
 * mapFile(path) -> ArrayBuffer: a regular file's bytes, mapped (MAP_PRIVATE, copy on write) rather than read.
 *
 * Why: an artifact is 25 MiB, of which a replay touches a few MiB (most of it is the rules' stored bodies, unpacked
 * only for the rules a run meets). Reading it costs a fresh buffer's page faults for every byte: 69 ms on the bench
 * machine (about 10 us a 4 KiB page in its VM), and each replay thread reads it again. A mapping shares the page
 * cache the file is already in and faults in only what is touched, 64 KiB at a time (9 ms when all of it is).
 * Writes land in private copies, so no caller can change the file.
 *
 * The cost of a mapping: a file truncated while mapped raises SIGBUS when a page past its new end is touched.
 * honeywall's own writers never truncate a matcher in place (artifact.ts writes a new file and renames it over the
 * old one, so a running gateway keeps the inode it mapped).
 *
 * Errors are thrown with Node's errno names in `code` (ENOENT, EACCES, EISDIR, ...: libuv's); a file that is no regular file
 * (a pipe, a device), tells no size (empty, /proc) or cannot be mapped throws code 'ENOTREG': the caller reads those
 * instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "honeywall_map.h"

/* A file larger than this is refused, as Node's readFileSync refuses one over 2 GiB. */
#define MAP_FILE_MAX ((off_t)2 << 30)

/* An errno's name as Node gives it (libuv's table: ENOENT, EACCES, ...). */
static const char *errno_code(int e) { return uv_err_name(uv_translate_sys_error(e)); }

static napi_value throw_code(napi_env env, const char *code, const char *what) {
  napi_value msg, c, err;
  char text[96];
  snprintf(text, sizeof text, "%s: %s", code, what);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, msg, &err);
  napi_throw(env, err);
  return NULL;
}

static void unmap_finalize(napi_env env, void *data, void *hint) { munmap(data, (size_t)(uintptr_t)hint); }

napi_value honeywall_map_file_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return throw_code(env, "EINVAL", "mapFile(path)");
  char path[4097];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return throw_code(env, "EINVAL", "path is no string");
  if (len >= sizeof path - 1) return throw_code(env, "ENAMETOOLONG", "path too long");
  /* (a NUL inside would open another file: Node's fs refuses such a path too) */
  if (strlen(path) != len) return throw_code(env, "EINVAL", "path holds a NUL byte");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_code(env, errno_code(errno), "open");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return throw_code(env, errno_code(e), "fstat");
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return throw_code(env, "EISDIR", "a directory");
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return throw_code(env, "ENOTREG", "not a regular file");
  }
  if (st.st_size > MAP_FILE_MAX) {
    close(fd);
    return throw_code(env, "EFBIG", "larger than 2 GiB");
  }
  if (st.st_size == 0) {
    /* empty, or a file that tells no size (/proc, sysfs): nothing to map */
    close(fd);
    return throw_code(env, "ENOTREG", "no size to map");
  }
  napi_value ab;
  size_t size = (size_t)st.st_size;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int e = errno;
  close(fd); /* the mapping keeps the file */
  /* (a file system that cannot map files, or no address space: reading it tells the real error, if any) */
  if (p == MAP_FAILED) return throw_code(env, "ENOTREG", e == ENODEV ? "cannot be mapped" : "mmap failed");
  if (napi_create_external_arraybuffer(env, p, size, unmap_finalize, (void *)(uintptr_t)size, &ab) != napi_ok) {
    munmap(p, size);
    return NULL;
  }
  return ab;
}
