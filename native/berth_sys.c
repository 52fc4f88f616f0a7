/*
 * The few Linux system calls Node does not expose: mount(2), umount2(2),
 * mknod(2), the l*xattr(2) family, flock(2), a SOCK_SEQPACKET connect, and
 * handing unused memory back to the kernel. Each call is synchronous and thin: it
 * converts arguments, makes the call, and throws an Error carrying `code`
 * (the errno name) and `syscall` on failure, the way Node's fs errors do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_STR 65536

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EWOULDBLOCK: return "EWOULDBLOCK";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTSUP: return "ENOTSUP";
    case ENODATA: return "ENODATA";
    case ELOOP: return "ELOOP";
    case E2BIG: return "E2BIG";
    case ENODEV: return "ENODEV";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, const char *path) {
  int e = errno;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(e), strerror(e), syscall, path ? path : "");
  napi_value message, error, code, sc, num;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_create_int32(env, -e, &num);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "syscall", sc);
  napi_set_named_property(env, error, "errno", num);
  if (path) {
    napi_value p;
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &p);
    napi_set_named_property(env, error, "path", p);
  }
  napi_throw(env, error);
  return NULL;
}

/* Reads argument i as a UTF-8 string into a malloc'd buffer; NULL for null/undefined. */
static char *arg_string(napi_env env, napi_value v, int *failed) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) return NULL;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len > MAX_STR) {
    napi_throw_type_error(env, NULL, "expected a string argument");
    *failed = 1;
    return NULL;
  }
  char *buf = malloc(len + 1);
  napi_get_value_string_utf8(env, v, buf, len + 1, &len);
  return buf;
}

static double arg_number(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

/* mount(source, target, fstype, flags, data) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) { napi_throw_type_error(env, NULL, "mount needs 5 arguments"); return NULL; }
  int failed = 0;
  char *source = arg_string(env, argv[0], &failed);
  char *target = arg_string(env, argv[1], &failed);
  char *fstype = arg_string(env, argv[2], &failed);
  unsigned long flags = (unsigned long)arg_number(env, argv[3]);
  char *data = arg_string(env, argv[4], &failed);
  napi_value ret = NULL;
  if (!failed) {
    if (mount(source, target, fstype, flags, data) != 0) throw_errno(env, "mount", target);
  }
  free(source); free(target); free(fstype); free(data);
  return ret;
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int failed = 0;
  char *target = arg_string(env, argv[0], &failed);
  int flags = argc > 1 ? (int)arg_number(env, argv[1]) : 0;
  if (!failed && target && umount2(target, flags) != 0) throw_errno(env, "umount2", target);
  free(target);
  return NULL;
}

/* mknod(path, mode, major, minor) */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int failed = 0;
  char *path = arg_string(env, argv[0], &failed);
  mode_t mode = (mode_t)arg_number(env, argv[1]);
  unsigned int maj = (unsigned int)arg_number(env, argv[2]);
  unsigned int min = (unsigned int)arg_number(env, argv[3]);
  if (!failed && path && mknod(path, mode, makedev(maj, min)) != 0) throw_errno(env, "mknod", path);
  free(path);
  return NULL;
}

/* lsetxattr(path, name, value: Buffer, flags) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int failed = 0;
  char *path = arg_string(env, argv[0], &failed);
  char *name = arg_string(env, argv[1], &failed);
  void *value = NULL;
  size_t len = 0;
  if (!failed && napi_get_buffer_info(env, argv[2], &value, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "xattr value must be a Buffer");
    failed = 1;
  }
  int flags = argc > 3 ? (int)arg_number(env, argv[3]) : 0;
  if (!failed && lsetxattr(path, name, value, len, flags) != 0) throw_errno(env, "lsetxattr", path);
  free(path); free(name);
  return NULL;
}

/* lgetxattr(path, name) -> Buffer | null when the attribute is absent */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int failed = 0;
  char *path = arg_string(env, argv[0], &failed);
  char *name = arg_string(env, argv[1], &failed);
  napi_value result = NULL;
  if (!failed) {
    ssize_t n = lgetxattr(path, name, NULL, 0);
    if (n < 0) {
      if (errno == ENODATA || errno == ENOTSUP) napi_get_null(env, &result);
      else throw_errno(env, "lgetxattr", path);
    } else {
      void *data;
      napi_create_buffer(env, (size_t)n, &data, &result);
      if (n > 0 && lgetxattr(path, name, data, (size_t)n) < 0) { result = NULL; throw_errno(env, "lgetxattr", path); }
    }
  }
  free(path); free(name);
  return result;
}

/* llistxattr(path) -> string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int failed = 0;
  char *path = arg_string(env, argv[0], &failed);
  napi_value arr = NULL;
  if (!failed) {
    ssize_t n = llistxattr(path, NULL, 0);
    if (n < 0) {
      if (errno == ENOTSUP) napi_create_array(env, &arr);
      else throw_errno(env, "llistxattr", path);
    } else {
      char *buf = malloc((size_t)n + 1);
      n = n > 0 ? llistxattr(path, buf, (size_t)n) : 0;
      if (n < 0) {
        throw_errno(env, "llistxattr", path);
      } else {
        napi_create_array(env, &arr);
        uint32_t idx = 0;
        for (ssize_t off = 0; off < n;) {
          size_t l = strlen(buf + off);
          napi_value s;
          napi_create_string_utf8(env, buf + off, l, &s);
          napi_set_element(env, arr, idx++, s);
          off += (ssize_t)l + 1;
        }
      }
      free(buf);
    }
  }
  free(path);
  return arr;
}

/* lremovexattr(path, name) */
static napi_value js_lremovexattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int failed = 0;
  char *path = arg_string(env, argv[0], &failed);
  char *name = arg_string(env, argv[1], &failed);
  if (!failed && lremovexattr(path, name) != 0 && errno != ENODATA) throw_errno(env, "lremovexattr", path);
  free(path); free(name);
  return NULL;
}

/* flock(fd, operation): advisory lock held until the descriptor closes or the process dies. */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd = (int)arg_number(env, argv[0]);
  int op = (int)arg_number(env, argv[1]);
  if (flock(fd, op) != 0) throw_errno(env, "flock", NULL);
  return NULL;
}

/*
 * seqpacketConnect(path) -> fd: a connected AF_UNIX SOCK_SEQPACKET socket,
 * the kind conmon's attach socket is; Node's net module only dials streams.
 */
static napi_value js_seqpacket_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int failed = 0;
  char *path = arg_string(env, argv[0], &failed);
  napi_value result = NULL;
  if (!failed && path) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
      errno = ENAMETOOLONG;
      throw_errno(env, "connect", path);
    } else {
      strcpy(addr.sun_path, path);
      int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        throw_errno(env, "socket", path);
      } else if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        throw_errno(env, "connect", path);
      } else {
        napi_create_int32(env, fd, &result);
      }
    }
  }
  free(path);
  return result;
}

/*
 * releaseMemory(): gives the kernel back what the process holds but does not
 * use: the allocator's free pages (malloc_trim), and the pages of the
 * executable's file that start-up read and nothing reads again (V8's
 * start-up snapshot, one-time initialisation code). Only read-only private
 * mappings of the executable that hold no private (copied-on-write) page are
 * dropped, so what the kernel maps back on the next touch is exactly what
 * was there: the file's page, from the page cache.
 */
static void drop_clean(unsigned long start, unsigned long end, int eligible, long anon_kb) {
  if (eligible && anon_kb == 0 && end > start) madvise((void *)start, end - start, MADV_DONTNEED);
}

static napi_value js_release_memory(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  malloc_trim(0);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  FILE *smaps = n > 0 ? fopen("/proc/self/smaps", "re") : NULL;
  if (!smaps) return NULL;
  exe[n] = 0;
  char line[4096 + 128];
  unsigned long start = 0, end = 0;
  int eligible = 0;
  long anon_kb = -1;
  while (fgets(line, sizeof line, smaps)) {
    unsigned long s, e;
    char perms[8];
    int path_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &path_at) >= 3 && strchr(line, '-') < strchr(line, ' ')) {
      drop_clean(start, end, eligible, anon_kb);
      char *path = path_at ? line + path_at : line + strlen(line);
      path[strcspn(path, "\n")] = 0;
      start = s;
      end = e;
      eligible = strcmp(path, exe) == 0 && perms[1] != 'w' && perms[3] == 'p';
      anon_kb = -1;
      continue;
    }
    long kb;
    if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) anon_kb = kb;
  }
  drop_clean(start, end, eligible, anon_kb);
  fclose(smaps);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
    {"umount2", NULL, js_umount2, NULL, NULL, NULL, napi_default, NULL},
    {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
    {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_default, NULL},
    {"lremovexattr", NULL, js_lremovexattr, NULL, NULL, NULL, napi_default, NULL},
    {"flock", NULL, js_flock, NULL, NULL, NULL, napi_default, NULL},
    {"seqpacketConnect", NULL, js_seqpacket_connect, NULL, NULL, NULL, napi_default, NULL},
    {"releaseMemory", NULL, js_release_memory, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
