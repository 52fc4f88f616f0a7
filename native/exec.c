/*
 * berth-exec: starts a process inside a running container, the work of
 * `runc exec` without a runtime start-up per call.
 *
 *   berth-exec run --pid PID [options] -- ARGV...
 *     Joins the namespaces of PID (the container's init), forks, and in the child joins the container's cgroups, sets
 *     rlimits, the bounding set, user and groups, capabilities, the working
 *     directory, no_new_privs and the seccomp filter in runc's order, then
 *     execs ARGV with the helper's own environment (the caller passes the
 *     process's environment as ours). The parent reports on fd 3, one line:
 *       "pid N"        the process runs (N as the host sees it)
 *       "err MESSAGE"  it could not start (the exit status says 126 or 127)
 *     then waits and exits with the process's status (128+signal when
 *     killed). With --tty the child gets a terminal made in the container's
 *     devpts and the parent relays it to its own stdin and stdout; lines
 *     "ROWS COLS" on fd 4 resize it.
 *
 *   berth-exec serve
 *     The same, for a request read from fd 3 (see serve()): helpers started
 *     ahead of time save a session the start of a process.
 *
 *   berth-exec seccomp
 *     Compiles a filter described on stdin into classic BPF on stdout, with
 *     libseccomp (as runc does). Lines:
 *       default ACTION          arch NAME
 *       rule ACTION NAME [INDEX OP VALUE VALUE2]...
 *     ACTION: allow, errno:N, kill, kill_process, kill_thread, trap, trace:N, log.
 *     OP: ne, lt, le, eq, ge, gt, masked_eq. Conditions on distinct arguments
 *     all apply (AND); when an argument repeats, each condition is a rule of
 *     its own (OR), as runc reads an OCI profile.
 *
 * Options of run:
 *   --cgroup DIR       join DIR (its cgroup.procs); repeated per hierarchy
 *   --uid N --gid N    user and group; --groups N,N,... supplementary groups
 *   --caps B,E,P,I,A   capability sets as hex masks (bounding, effective,
 *                      permitted, inheritable, ambient)
 *   --rlimit R:S:H     resource R (number) with soft and hard limits
 *   --seccomp FILE     a BPF filter made by `berth-exec seccomp`
 *   --nnp              set no_new_privs
 *   --cwd DIR          working directory inside the container
 *   --oom-score-adj N
 *   --tty
 *   --size ROWS,COLS   the terminal's initial size
 *   --null-stdin       the process reads /dev/null (no stdin attached)
 *   --detach           no one reads the output: the helper's own stdio is
 *                      /dev/null, so the session does not depend on the
 *                      daemon's pipes (it outlives a daemon restart)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAX_LIST 64
#define STATUS_FD 3
#define CTL_FD 4

struct rlim {
  int resource;
  unsigned long long soft, hard;
};

struct opts {
  pid_t pid;
  const char *cgroups[MAX_LIST];
  int ncgroups;
  uid_t uid;
  gid_t gid;
  gid_t groups[MAX_LIST];
  int ngroups;
  int have_caps;
  uint64_t caps[5]; /* bounding, effective, permitted, inheritable, ambient */
  struct rlim rlimits[MAX_LIST];
  int nrlimits;
  const char *seccomp;
  int nnp;
  const char *cwd;
  const char *oom;
  int tty;
  unsigned short rows, cols;
  int null_stdin;
  int detach;
  char **argv;
};

static void write_all(int fd, const char *buf, size_t len);

/* Ends the helper before the process started: the reason goes on the status line (and stderr). */
static void die(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char line[2100];
  int len = snprintf(line, sizeof line, "err berth-exec: %s\n", msg);
  write_all(STATUS_FD, line, (size_t)len);
  fprintf(stderr, "berth-exec: %s\n", msg);
  exit(125);
}

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= (size_t)n;
  }
}

static unsigned long long parse_u64(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || end == s || *end) die("invalid %s: %s", what, s);
  return v;
}

static void parse_list(const char *s, gid_t *out, int *n) {
  char *copy = strdup(s), *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (*n >= MAX_LIST) die("too many groups");
    out[(*n)++] = (gid_t)parse_u64(tok, "group");
  }
  free(copy);
}

static void parse_opts(int argc, char **argv, struct opts *o) {
  memset(o, 0, sizeof *o);
  o->pid = -1;
  int i = 2;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--tty")) o->tty = 1;
    else if (!strcmp(a, "--null-stdin")) o->null_stdin = 1;
    else if (!strcmp(a, "--detach")) o->detach = 1;
    else if (!strcmp(a, "--nnp")) o->nnp = 1;
    else if (!v) die("%s needs a value", a);
    else if (!strcmp(a, "--pid")) o->pid = (pid_t)parse_u64(v, "pid"), i++;
    else if (!strcmp(a, "--cgroup")) {
      if (o->ncgroups >= MAX_LIST) die("too many cgroups");
      o->cgroups[o->ncgroups++] = v, i++;
    } else if (!strcmp(a, "--uid")) o->uid = (uid_t)parse_u64(v, "uid"), i++;
    else if (!strcmp(a, "--gid")) o->gid = (gid_t)parse_u64(v, "gid"), i++;
    else if (!strcmp(a, "--groups")) parse_list(v, o->groups, &o->ngroups), i++;
    else if (!strcmp(a, "--caps")) {
      if (sscanf(v, "%lx,%lx,%lx,%lx,%lx", &o->caps[0], &o->caps[1], &o->caps[2], &o->caps[3], &o->caps[4]) != 5) die("invalid --caps: %s", v);
      o->have_caps = 1, i++;
    } else if (!strcmp(a, "--rlimit")) {
      if (o->nrlimits >= MAX_LIST) die("too many rlimits");
      struct rlim *r = &o->rlimits[o->nrlimits++];
      if (sscanf(v, "%d:%llu:%llu", &r->resource, &r->soft, &r->hard) != 3) die("invalid --rlimit: %s", v);
      i++;
    } else if (!strcmp(a, "--seccomp")) o->seccomp = v, i++;
    else if (!strcmp(a, "--cwd")) o->cwd = v, i++;
    else if (!strcmp(a, "--oom-score-adj")) o->oom = v, i++;
    else if (!strcmp(a, "--size")) {
      if (sscanf(v, "%hu,%hu", &o->rows, &o->cols) != 2) die("invalid --size: %s", v);
      i++;
    }
    else die("unknown option %s", a);
  }
  if (o->pid <= 0) die("--pid is required");
  if (i >= argc) die("no command");
  o->argv = &argv[i];
}

/* ── seccomp ── */

static int parse_action(const char *s, uint32_t *out) {
  if (!strcmp(s, "allow")) *out = SCMP_ACT_ALLOW;
  else if (!strcmp(s, "kill") || !strcmp(s, "kill_thread")) *out = SCMP_ACT_KILL_THREAD;
  else if (!strcmp(s, "kill_process")) *out = SCMP_ACT_KILL_PROCESS;
  else if (!strcmp(s, "trap")) *out = SCMP_ACT_TRAP;
  else if (!strcmp(s, "log")) *out = SCMP_ACT_LOG;
  else if (!strncmp(s, "errno:", 6)) *out = SCMP_ACT_ERRNO((uint16_t)atoi(s + 6));
  else if (!strncmp(s, "trace:", 6)) *out = SCMP_ACT_TRACE((uint16_t)atoi(s + 6));
  else return -1;
  return 0;
}

static int parse_op(const char *s, enum scmp_compare *out) {
  static const struct { const char *name; enum scmp_compare op; } ops[] = {
    {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE}, {"eq", SCMP_CMP_EQ},
    {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT}, {"masked_eq", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    if (!strcmp(s, ops[i].name)) {
      *out = ops[i].op;
      return 0;
    }
  }
  return -1;
}

static int compile_seccomp(void) {
  char line[4096];
  scmp_filter_ctx ctx = NULL;
  uint32_t def = 0;
  int lineno = 0;
  while (fgets(line, sizeof line, stdin)) {
    lineno++;
    line[strcspn(line, "\n")] = 0;
    char *words[3 + 4 * 6];
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " ", &save); tok && n < (int)(sizeof words / sizeof words[0]); tok = strtok_r(NULL, " ", &save)) words[n++] = tok;
    if (n == 0) continue;
    if (!strcmp(words[0], "default") && n == 2) {
      if (ctx) die("line %d: default given twice", lineno);
      if (parse_action(words[1], &def)) die("line %d: unknown action %s", lineno, words[1]);
      ctx = seccomp_init(def);
      if (!ctx) die("seccomp_init failed");
      continue;
    }
    if (!ctx) die("line %d: the default action comes first", lineno);
    if (!strcmp(words[0], "arch") && n == 2) {
      uint32_t arch = seccomp_arch_resolve_name(words[1]);
      if (!arch) continue; /* an architecture libseccomp does not know is skipped, as runc skips it */
      int rc = seccomp_arch_add(ctx, arch);
      if (rc && rc != -EEXIST) die("line %d: cannot add architecture %s: %s", lineno, words[1], strerror(-rc));
      continue;
    }
    if (!strcmp(words[0], "rule") && n >= 3 && (n - 3) % 4 == 0) {
      uint32_t action;
      if (parse_action(words[1], &action)) die("line %d: unknown action %s", lineno, words[1]);
      if (action == def) continue;
      int nr = seccomp_syscall_resolve_name(words[2]);
      if (nr == __NR_SCMP_ERROR) continue; /* not a system call of this architecture */
      int nconds = (n - 3) / 4;
      struct scmp_arg_cmp conds[6];
      int repeated = 0;
      for (int c = 0; c < nconds; c++) {
        char **w = &words[3 + 4 * c];
        enum scmp_compare op;
        if (parse_op(w[1], &op)) die("line %d: unknown operator %s", lineno, w[1]);
        conds[c].arg = (unsigned)parse_u64(w[0], "argument index");
        conds[c].op = op;
        conds[c].datum_a = parse_u64(w[2], "value");
        conds[c].datum_b = parse_u64(w[3], "value");
        for (int d = 0; d < c; d++) if (conds[d].arg == conds[c].arg) repeated = 1;
      }
      int rc = 0;
      if (!repeated) rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)nconds, conds);
      else for (int c = 0; c < nconds && rc == 0; c++) rc = seccomp_rule_add_array(ctx, action, nr, 1, &conds[c]);
      if (rc) die("line %d: cannot add rule for %s: %s", lineno, words[2], strerror(-rc));
      continue;
    }
    die("line %d: cannot read", lineno);
  }
  if (!ctx) die("no default action");
  int rc = seccomp_export_bpf(ctx, STDOUT_FILENO);
  seccomp_release(ctx);
  if (rc) die("cannot export the filter: %s", strerror(-rc));
  return 0;
}

/* ── run ── */

/* Reports a start failure to the parent on the error pipe and ends the child. */
static void fail(int errfd, int code, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg + 1, sizeof msg - 1, fmt, ap);
  va_end(ap);
  msg[0] = (char)code;
  if (n < 0) n = 0;
  if (n > (int)sizeof msg - 2) n = sizeof msg - 2;
  write_all(errfd, msg, (size_t)n + 1);
  _exit(code);
}

/* An errno's text as Go spells it (runc's messages): glibc's, lower-cased at the start. */
static const char *gostr(int e) {
  static char buf[128];
  snprintf(buf, sizeof buf, "%s", strerror(e));
  if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
  return buf;
}

/* Finds argv[0] as Go's exec.LookPath does (runc's lookup): a name with a slash is used as is, others are searched in PATH. */
static const char *look_path(const char *name, int errfd) {
  static char found[4096];
  struct stat st;
  if (strchr(name, '/')) {
    if (stat(name, &st) < 0) fail(errfd, 127, "unable to start container process: exec: \"%s\": stat %s: %s", name, name, gostr(errno));
    if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111)) fail(errfd, 126, "unable to start container process: exec: \"%s\": permission denied", name);
    return name;
  }
  const char *path = getenv("PATH");
  if (path) {
    const char *p = path;
    for (;;) {
      const char *colon = strchr(p, ':');
      size_t len = colon ? (size_t)(colon - p) : strlen(p);
      if (len == 0) snprintf(found, sizeof found, "./%s", name);
      else snprintf(found, sizeof found, "%.*s/%s", (int)len, p, name);
      if (stat(found, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) return found;
      if (!colon) break;
      p = colon + 1;
    }
  }
  fail(errfd, 127, "unable to start container process: exec: \"%s\": executable file not found in $PATH", name);
  return NULL;
}

static int load_filter(const char *path, struct sock_fprog *prog) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter)) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  struct sock_filter *f = malloc((size_t)st.st_size);
  ssize_t n = f ? read(fd, f, (size_t)st.st_size) : -1;
  close(fd);
  if (n != st.st_size) {
    free(f);
    errno = EIO;
    return -1;
  }
  prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
  prog->filter = f;
  return 0;
}

static int set_caps(const uint64_t *caps) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(caps[1] >> (32 * i));
    data[i].permitted = (uint32_t)(caps[2] >> (32 * i));
    data[i].inheritable = (uint32_t)(caps[3] >> (32 * i));
  }
  return (int)syscall(SYS_capset, &hdr, data);
}

static int last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16] = {0};
  if (fd >= 0) {
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) return atoi(buf);
  }
  return 40;
}

/* The child: everything after the namespaces, then exec. Never returns. */
static void child(struct opts *o, int *cgfds, int errfd, int slave, const int *outputs, struct sock_fprog *filter) {
  for (int i = 0; i < o->ncgroups; i++) {
    if (write(cgfds[i], "0", 1) < 0) fail(errfd, 126, "unable to join cgroup %s: %s", o->cgroups[i], strerror(errno));
    close(cgfds[i]);
  }
  if (o->tty) {
    if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) fail(errfd, 126, "unable to set up the terminal: %s", strerror(errno));
    for (int fd = 0; fd < 3; fd++) dup2(slave, fd);
    if (slave > 2) close(slave);
  } else {
    dup2(outputs[1], STDOUT_FILENO);
    dup2(outputs[3], STDERR_FILENO);
    for (int i = 0; i < 4; i++) close(outputs[i]);
  }
  close(STATUS_FD);
  close(CTL_FD);
  for (int i = 0; i < o->nrlimits; i++) {
    struct rlimit rl = {o->rlimits[i].soft, o->rlimits[i].hard};
    if (setrlimit(o->rlimits[i].resource, &rl) < 0) fail(errfd, 126, "error setting rlimit type %d: %s", o->rlimits[i].resource, strerror(errno));
  }
  if (o->oom) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      write_all(fd, o->oom, strlen(o->oom));
      close(fd);
    }
  }
  umask(022);
  if (filter && !o->nnp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter) < 0) fail(errfd, 126, "unable to load seccomp filter: %s", strerror(errno));
  if (o->have_caps) {
    int last = last_cap();
    for (int c = 0; c <= last; c++) {
      if (!(o->caps[0] & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) fail(errfd, 126, "unable to drop capability %d: %s", c, strerror(errno));
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(errfd, 126, "keepcaps: %s", strerror(errno));
  }
  if (setgroups((size_t)o->ngroups, o->groups) < 0) fail(errfd, 126, "unable to set groups: %s", strerror(errno));
  if (setresgid(o->gid, o->gid, o->gid) < 0) fail(errfd, 126, "unable to set gid %u: %s", o->gid, strerror(errno));
  if (setresuid(o->uid, o->uid, o->uid) < 0) fail(errfd, 126, "unable to set uid %u: %s", o->uid, strerror(errno));
  if (o->have_caps) {
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (set_caps(o->caps) < 0) fail(errfd, 126, "unable to apply capabilities: %s", strerror(errno));
    for (int c = 0; c < 64; c++) {
      if ((o->caps[4] & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) fail(errfd, 126, "unable to raise ambient capability %d: %s", c, strerror(errno));
    }
  }
  const char *cwd = o->cwd ? o->cwd : "/";
  if (chdir(cwd) < 0) fail(errfd, 126, "unable to start container process: chdir to cwd (\"%s\") set in config.json failed: %s", cwd, gostr(errno));
  if (o->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(errfd, 126, "unable to set no_new_privs: %s", strerror(errno));
  const char *path = look_path(o->argv[0], errfd);
  if (filter && o->nnp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, filter) < 0) fail(errfd, 126, "unable to load seccomp filter: %s", strerror(errno));
  execv(path, o->argv);
  fail(errfd, errno == ENOENT ? 127 : 126, "unable to start container process: exec: \"%s\": %s", o->argv[0], gostr(errno));
}

static int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

static volatile sig_atomic_t child_done;
static void on_chld(int sig) {
  (void)sig;
  child_done = 1;
}

/* Copies what is readable from `from` to `to`; returns 0 at the end of the input. */
static int pump(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (n == 0) return 0;
  write_all(to, buf, (size_t)n);
  return 1;
}

static void drain(int from, int to) {
  if (from < 0) return;
  fcntl(from, F_SETFL, fcntl(from, F_GETFL) | O_NONBLOCK);
  char buf[16384];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n > 0) write_all(to, buf, (size_t)n);
    else if (!(n < 0 && errno == EINTR)) break;
  }
}

/*
 * Passes the process's output on (its terminal, or its stdout and stderr
 * pipes) until it ends, then what it left buffered: processes it started in
 * the background may hold the pipes, but the session ends with the process,
 * as conmon ends it. With a terminal, stdin goes to it and fd 4 resizes it.
 * SIGCHLD is blocked but during ppoll.
 */
static void relay(int out, int err, int term, pid_t pid, int *status) {
  sigset_t open_mask;
  sigemptyset(&open_mask);
  int in_open = term >= 0, ctl_open = term >= 0 && fcntl(CTL_FD, F_GETFD) >= 0;
  int out_open = out >= 0, err_open = err >= 0;
  for (;;) {
    if (child_done && waitpid(pid, status, WNOHANG) == pid) break;
    if (!out_open && !err_open) {
      while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
      return;
    }
    /* poll reports hang-ups even for descriptors asked for no events: the ones not watched are left out (-1). */
    struct pollfd fds[4] = {
      {out_open ? out : -1, POLLIN, 0},
      {err_open ? err : -1, POLLIN, 0},
      {in_open ? STDIN_FILENO : -1, POLLIN, 0},
      {ctl_open ? CTL_FD : -1, POLLIN, 0},
    };
    int n = ppoll(fds, 4, NULL, &open_mask);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) out_open = pump(out, STDOUT_FILENO);
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) err_open = pump(err, STDERR_FILENO);
    if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) in_open = pump(STDIN_FILENO, term);
    if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) {
      char line[64];
      ssize_t r = read(CTL_FD, line, sizeof line - 1);
      unsigned rows, cols;
      if (r <= 0) ctl_open = 0;
      else {
        line[r] = 0;
        if (sscanf(line, "%u %u", &rows, &cols) == 2) {
          struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
          ioctl(term, TIOCSWINSZ, &ws);
        }
      }
    }
  }
  if (out_open) drain(out, STDOUT_FILENO);
  if (err_open) drain(err, STDERR_FILENO);
}

static int run(struct opts *o) {
  /* Nothing in the container may open this process through /proc while it holds host resources. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  static const struct { const char *name; int type; } kinds[] = {
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
  };
  /* Joining a namespace the helper is already in (the host's network, say) changes nothing, so every one is joined. */
  int nsfds[6];
  for (int i = 0; i < 6; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", o->pid, kinds[i].name);
    nsfds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfds[i] < 0 && errno == ENOENT && i == 0) continue; /* a kernel without cgroup namespaces */
    if (nsfds[i] < 0) die(errno == ENOENT ? "container process %d is gone" : "cannot open the namespaces of %d: %s", o->pid, strerror(errno));
  }
  int cgfds[MAX_LIST];
  for (int i = 0; i < o->ncgroups; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cgroup.procs", o->cgroups[i]);
    cgfds[i] = open(path, O_WRONLY | O_CLOEXEC);
    if (cgfds[i] < 0) die("cannot open %s: %s", path, strerror(errno));
  }
  if (o->null_stdin || o->detach) {
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0) die("cannot open /dev/null: %s", strerror(errno));
    /* A detached session's output goes nowhere: the helper no longer needs the daemon's pipes. */
    if (o->detach && (dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)) die("cannot open /dev/null: %s", strerror(errno));
    if (null > STDERR_FILENO) close(null);
  }
  struct sock_fprog prog, *filter = NULL;
  if (o->seccomp) {
    if (load_filter(o->seccomp, &prog) < 0) die("cannot read seccomp filter %s: %s", o->seccomp, strerror(errno));
    filter = &prog;
  }
  for (int i = 0; i < 6; i++) {
    if (nsfds[i] >= 0 && setns(nsfds[i], kinds[i].type) < 0) die("cannot join the %s namespace: %s", kinds[i].name, strerror(errno));
    if (nsfds[i] >= 0) close(nsfds[i]);
  }
  int master = -1, slave = -1;
  if (o->tty) {
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) die("cannot open a terminal: %s", strerror(errno));
    char *name = ptsname(master);
    slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
    if (slave < 0) die("cannot open %s: %s", name ? name : "the terminal", strerror(errno));
    if (o->rows && o->cols) {
      struct winsize ws = {.ws_row = o->rows, .ws_col = o->cols};
      ioctl(master, TIOCSWINSZ, &ws);
    }
    /* The user owns its terminal, as after a login; a failure leaves it usable through the descriptors. */
    (void)!fchown(slave, o->uid, (gid_t)-1);
  }
  int errpipe[2], outputs[4] = {-1, -1, -1, -1};
  if (pipe2(errpipe, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  if (!o->tty && (pipe2(outputs, O_CLOEXEC) < 0 || pipe2(outputs + 2, O_CLOEXEC) < 0)) die("pipe: %s", strerror(errno));
  struct sigaction sa = {0};
  sa.sa_handler = on_chld;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t chld, saved;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &saved);
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    close(errpipe[0]);
    if (master >= 0) close(master);
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    child(o, cgfds, errpipe[1], slave, outputs, filter);
  }
  close(errpipe[1]);
  if (!o->tty) {
    close(outputs[1]);
    close(outputs[3]);
  }
  for (int i = 0; i < o->ncgroups; i++) close(cgfds[i]);
  if (slave >= 0) close(slave);
  char msg[2048];
  ssize_t n, got = 0;
  while ((n = read(errpipe[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) got += n;
  }
  close(errpipe[0]);
  int status = 0;
  if (got > 0) {
    msg[got] = 0;
    char line[2100];
    int len = snprintf(line, sizeof line, "err %s\n", msg + 1);
    write_all(STATUS_FD, line, (size_t)len);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return (unsigned char)msg[0];
  }
  char line[32];
  int len = snprintf(line, sizeof line, "pid %d\n", pid);
  write_all(STATUS_FD, line, (size_t)len);
  close(STATUS_FD);
  if (o->tty) relay(master, -1, master, pid, &status);
  else relay(outputs[0], outputs[2], -1, pid, &status);
  return exit_status(status);
}

/*
 * `serve`: a helper started ahead of time waits on fd 3 for one request and
 * then runs it as `run` would, so a session does not wait for a process to
 * start. The request: a 32-bit length, then that many bytes of
 * NUL-terminated strings: run's arguments (options, "--", the command), an
 * empty string, and the environment. End of input before a request ends the
 * helper quietly.
 */
static int serve(void) {
  uint32_t len;
  size_t got = 0;
  while (got < sizeof len) {
    ssize_t n = read(STATUS_FD, (char *)&len + got, sizeof len - got);
    if (n == 0) return 0;
    if (n < 0 && errno != EINTR) return 0;
    if (n > 0) got += (size_t)n;
  }
  if (len == 0 || len > (16u << 20)) die("invalid request");
  char *buf = malloc(len + 1);
  if (!buf) die("out of memory");
  for (got = 0; got < len;) {
    ssize_t n = read(STATUS_FD, buf + got, len - got);
    if (n == 0) return 0;
    if (n < 0 && errno != EINTR) die("cannot read the request: %s", strerror(errno));
    if (n > 0) got += (size_t)n;
  }
  buf[len] = 0;
  size_t count = 0;
  for (size_t i = 0; i < len; i++) if (buf[i] == 0) count++;
  char **words = calloc(count + 4, sizeof *words);
  if (!words) die("out of memory");
  int argc = 0;
  words[argc++] = "berth-exec";
  words[argc++] = "run";
  char **env = NULL;
  for (size_t i = 0; i < len;) {
    char *w = buf + i;
    i += strlen(w) + 1;
    if (!env && *w == 0) {
      words[argc++] = NULL;
      env = &words[argc];
      continue;
    }
    words[argc++] = w;
  }
  if (!env) die("invalid request");
  words[argc] = NULL;
  environ = env;
  int run_argc = 0;
  while (words[run_argc]) run_argc++;
  struct opts o;
  parse_opts(run_argc, words, &o);
  return run(&o);
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "seccomp")) return compile_seccomp();
  if (argc >= 2 && !strcmp(argv[1], "serve")) return serve();
  if (argc >= 2 && !strcmp(argv[1], "run")) {
    struct opts o;
    parse_opts(argc, argv, &o);
    return run(&o);
  }
  fprintf(stderr, "usage: berth-exec run --pid PID [options] -- ARGV... | berth-exec serve | berth-exec seccomp\n");
  return 125;
}
