/*
 * The few Linux system calls Node does not expose: mount(2), umount2(2),
 * mknod(2), the l*xattr(2) family, flock(2), a SOCK_SEQPACKET connect, and
 * handing unused memory back to the kernel. Each call is synchronous and thin: it
 * converts arguments, makes the call, and throws an Error carrying `code`
 * (the errno name) and `syscall` on failure, the way Node's fs errors do.
 *
 * The network calls (links, addresses, routes through rtnetlink, netlink.c)
 * are the exception: the kernel may sleep on its locks, so each runs on the
 * thread pool and returns a Promise, rejected with an Error carrying `code`
 * and `errno` and saying which step failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
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
#include <arpa/inet.h>

#include "netlink.h"

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
    case ESRCH: return "ESRCH";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EBADMSG: return "EBADMSG";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETUNREACH: return "ENETUNREACH";
    case ECANCELED: return "ECANCELED";
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

/*
 * The network calls. Arguments are checked on the JS thread (a value of the
 * wrong type throws a TypeError, a malformed one rejects with EINVAL); the
 * requests run on the thread pool.
 */
enum net_op { NET_ATTACH_VETH, NET_CONFIGURE, NET_DELETE_LINK, NET_ENSURE_BRIDGE };

struct net_job {
  enum net_op op;
  struct nl_veth veth;
  struct nl_iface iface;
  struct nl_err err;
  napi_deferred deferred;
  napi_async_work work;
};

static void net_execute(napi_env env, void *data) {
  (void)env;
  struct net_job *job = data;
  switch (job->op) {
    case NET_ATTACH_VETH: nl_attach_veth(&job->veth, &job->err); break;
    case NET_CONFIGURE: nl_configure(&job->iface, &job->err); break;
    case NET_DELETE_LINK: nl_delete_link(job->iface.pid, job->iface.name, &job->err); break;
    case NET_ENSURE_BRIDGE: nl_ensure_bridge(job->iface.name, job->iface.addr, job->iface.prefix, &job->err); break;
  }
}

static napi_value net_error(napi_env env, const struct nl_err *err) {
  napi_value message, error, code, num;
  napi_create_string_utf8(env, err->msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_create_string_utf8(env, errno_name(err->code), NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, -err->code, &num);
  napi_set_named_property(env, error, "code", code);
  napi_set_named_property(env, error, "errno", num);
  return error;
}

static void net_settle(napi_env env, struct net_job *job) {
  if (job->err.code) {
    napi_reject_deferred(env, job->deferred, net_error(env, &job->err));
  } else {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  }
}

static void net_complete(napi_env env, napi_status status, void *data) {
  struct net_job *job = data;
  if (status != napi_ok && !job->err.code) {
    job->err.code = ECANCELED;
    snprintf(job->err.msg, sizeof job->err.msg, "network request cancelled");
  }
  net_settle(env, job);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* The job's promise; a job that failed its argument checks is rejected at once. Takes ownership of job. */
static napi_value net_start(napi_env env, struct net_job *job, int failed) {
  if (failed) {
    free(job);
    return NULL;
  }
  napi_value promise, name;
  napi_create_promise(env, &job->deferred, &promise);
  if (job->err.code) {
    net_settle(env, job);
    free(job);
    return promise;
  }
  napi_create_string_utf8(env, "berth:netlink", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, net_execute, net_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    job->err.code = ENOMEM;
    snprintf(job->err.msg, sizeof job->err.msg, "cannot queue a network request");
    net_settle(env, job);
    free(job);
  }
  return promise;
}

static void bad_arg(struct nl_err *err, const char *fmt, const char *value) {
  if (err->code) return;
  err->code = EINVAL;
  snprintf(err->msg, sizeof err->msg, fmt, value ? value : "");
}

/* An interface name (1 to 15 bytes) into dst. */
static void arg_ifname(napi_env env, napi_value v, char *dst, struct nl_err *err, int *failed) {
  char *s = arg_string(env, v, failed);
  if (*failed) return;
  if (!s || !*s || strlen(s) >= IFNAMSIZ || strchr(s, '/')) bad_arg(err, "invalid interface name '%s'", s);
  else strcpy(dst, s);
  free(s);
}

static void arg_ipv4(napi_env env, napi_value v, struct in_addr *dst, struct nl_err *err, int *failed) {
  char *s = arg_string(env, v, failed);
  if (*failed) return;
  if (!s || inet_pton(AF_INET, s, dst) != 1) bad_arg(err, "invalid IPv4 address '%s'", s);
  free(s);
}

static void arg_prefix(napi_env env, napi_value v, int *dst, struct nl_err *err) {
  double d = arg_number(env, v);
  if (!(d >= 0 && d <= 32) || d != (int)d) bad_arg(err, "invalid prefix length%s", NULL);
  else *dst = (int)d;
}

static void arg_pid(napi_env env, napi_value v, int *dst, int allow_zero, struct nl_err *err) {
  double d = arg_number(env, v);
  if (!(d >= (allow_zero ? 0 : 1) && d <= INT_MAX) || d != (int)d) bad_arg(err, "invalid process ID%s", NULL);
  else *dst = (int)d;
}

/*
 * The start of every network call: its arguments into argv (a TypeError
 * when fewer than n), and a zeroed job for op. NULL after throwing.
 */
static struct net_job *net_job_new(napi_env env, napi_callback_info info, napi_value *argv, size_t n, const char *fn, enum net_op op) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < n) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s needs %zu arguments", fn, n);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  struct net_job *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, "ENOMEM", "cannot allocate a network request");
    return NULL;
  }
  job->op = op;
  return job;
}

/* attachVeth(hostIf, peer, mac, pid, bridge) -> Promise<void> */
static napi_value js_attach_veth(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  struct net_job *job = net_job_new(env, info, argv, 5, "attachVeth", NET_ATTACH_VETH);
  if (!job) return NULL;
  int failed = 0;
  arg_ifname(env, argv[0], job->veth.host_if, &job->err, &failed);
  if (!failed) arg_ifname(env, argv[1], job->veth.peer, &job->err, &failed);
  if (!failed) {
    char *mac = arg_string(env, argv[2], &failed);
    unsigned char *m = job->veth.mac;
    int end = 0;
    if (!failed && (!mac || sscanf(mac, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6 ||
                    end != 17 || mac[end] != 0)) {
      bad_arg(&job->err, "invalid MAC address '%s'", mac);
    }
    free(mac);
  }
  if (!failed) arg_pid(env, argv[3], &job->veth.pid, 0, &job->err);
  if (!failed) arg_ifname(env, argv[4], job->veth.bridge, &job->err, &failed);
  return net_start(env, job, failed);
}

/* configureInterface(pid, ifname, address, prefixLen, gateway | null) -> Promise<void> */
static napi_value js_configure_interface(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  struct net_job *job = net_job_new(env, info, argv, 5, "configureInterface", NET_CONFIGURE);
  if (!job) return NULL;
  int failed = 0;
  arg_pid(env, argv[0], &job->iface.pid, 0, &job->err);
  arg_ifname(env, argv[1], job->iface.name, &job->err, &failed);
  if (!failed) arg_ipv4(env, argv[2], &job->iface.addr, &job->err, &failed);
  if (!failed) arg_prefix(env, argv[3], &job->iface.prefix, &job->err);
  if (!failed) {
    napi_valuetype t;
    napi_typeof(env, argv[4], &t);
    if (t != napi_null && t != napi_undefined) {
      job->iface.has_gateway = 1;
      arg_ipv4(env, argv[4], &job->iface.gateway, &job->err, &failed);
    }
  }
  return net_start(env, job, failed);
}

/* deleteLink(name, pid) -> Promise<void>; pid 0 is the host's namespace */
static napi_value js_delete_link(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct net_job *job = net_job_new(env, info, argv, 2, "deleteLink", NET_DELETE_LINK);
  if (!job) return NULL;
  int failed = 0;
  arg_ifname(env, argv[0], job->iface.name, &job->err, &failed);
  if (!failed) arg_pid(env, argv[1], &job->iface.pid, 1, &job->err);
  return net_start(env, job, failed);
}

/* ensureBridge(name, address, prefixLen) -> Promise<void> */
static napi_value js_ensure_bridge(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct net_job *job = net_job_new(env, info, argv, 3, "ensureBridge", NET_ENSURE_BRIDGE);
  if (!job) return NULL;
  int failed = 0;
  arg_ifname(env, argv[0], job->iface.name, &job->err, &failed);
  if (!failed) arg_ipv4(env, argv[1], &job->iface.addr, &job->err, &failed);
  if (!failed) arg_prefix(env, argv[2], &job->iface.prefix, &job->err);
  return net_start(env, job, failed);
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
    {"attachVeth", NULL, js_attach_veth, NULL, NULL, NULL, napi_default, NULL},
    {"configureInterface", NULL, js_configure_interface, NULL, NULL, NULL, napi_default, NULL},
    {"deleteLink", NULL, js_delete_link, NULL, NULL, NULL, napi_default, NULL},
    {"ensureBridge", NULL, js_ensure_bridge, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
