/*
 * rtnetlink by hand: the link, address and route changes that put a
 * container on a bridge, each one request on a NETLINK_ROUTE socket that the
 * kernel acknowledges (NLM_F_ACK) with an error code, so no process is
 * spawned. Requests are built in a fixed buffer; the replies read are the
 * ACKs and, for a lookup by name, the link's own message.
 *
 * Network namespaces belong to threads: to work inside a container, the
 * calling thread enters its namespace only long enough to open the socket
 * (a socket stays in the namespace it was made in) and comes back at once.
 */
#define _GNU_SOURCE
#include "netlink.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#define RECV_SIZE 32768
#define REQ_SIZE 1024

struct nl {
  int fd;
  uint32_t seq;
  char *buf;
};

struct req {
  union {
    struct nlmsghdr h;
    char bytes[REQ_SIZE];
  } u;
  int overflow;
};

/* --- errors ------------------------------------------------------------- */

/* Fills err: "<step>: <strerror, lower case>", with the kernel's own explanation after it when it gave one. */
static int fail(struct nl_err *err, int code, const char *why, const char *fmt, ...) {
  char step[256], buf[128];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(step, sizeof step, fmt, ap);
  va_end(ap);
  const char *s = strerror_r(code, buf, sizeof buf);
  char reason[128];
  snprintf(reason, sizeof reason, "%s", s);
  reason[0] = (char)tolower((unsigned char)reason[0]);
  if (why && *why) snprintf(err->msg, sizeof err->msg, "%s: %s (%s)", step, reason, why);
  else snprintf(err->msg, sizeof err->msg, "%s: %s", step, reason);
  err->code = code;
  return code;
}

/* --- requests ------------------------------------------------------------ */

/* Starts a request of the given type; returns its family header (hdrlen bytes, zeroed). */
static void *req_init(struct req *r, uint16_t type, uint16_t flags, size_t hdrlen) {
  memset(r, 0, sizeof *r);
  r->u.h.nlmsg_len = NLMSG_LENGTH(hdrlen);
  r->u.h.nlmsg_type = type;
  r->u.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  return NLMSG_DATA(&r->u.h);
}

/* Appends len bytes (zeroed), aligned; NULL when the buffer is full. */
static void *req_put(struct req *r, size_t len) {
  size_t at = NLMSG_ALIGN(r->u.h.nlmsg_len);
  if (r->overflow || at + NLMSG_ALIGN(len) > REQ_SIZE) {
    r->overflow = 1;
    return NULL;
  }
  r->u.h.nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(len));
  return r->u.bytes + at;
}

static struct rtattr *attr(struct req *r, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = req_put(r, RTA_LENGTH(len));
  if (!a) return NULL;
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  return a;
}

static void attr_str(struct req *r, unsigned short type, const char *s) {
  attr(r, type, s, strlen(s) + 1);
}

static void attr_u32(struct req *r, unsigned short type, uint32_t v) {
  attr(r, type, &v, sizeof v);
}

/* A nested attribute: attributes appended until nest_end are its payload. */
static struct rtattr *nest(struct req *r, unsigned short type) {
  return attr(r, type, NULL, 0);
}

static void nest_end(struct req *r, struct rtattr *a) {
  if (a && !r->overflow) a->rta_len = (unsigned short)(r->u.bytes + r->u.h.nlmsg_len - (char *)a);
}

/* --- the socket ---------------------------------------------------------- */

static int nl_open(struct nl *nl) {
  nl->seq = 0;
  nl->buf = NULL;
  nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl->fd < 0) return errno;
  int one = 1;
  /* Error ACKs without a copy of the request, and with the kernel's message when it has one. */
  setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  nl->buf = malloc(RECV_SIZE);
  if (!nl->buf) {
    close(nl->fd);
    nl->fd = -1;
    return ENOMEM;
  }
  return 0;
}

static void nl_close(struct nl *nl) {
  if (nl->fd >= 0) close(nl->fd);
  free(nl->buf);
  nl->fd = -1;
  nl->buf = NULL;
}

/* The NLMSGERR_ATTR_MSG of an error ACK sent with NLM_F_ACK_TLVS, copied into why. */
static void ext_ack(const struct nlmsghdr *h, const struct nlmsgerr *e, char *why, size_t whylen) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  size_t off = sizeof *e;
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  const char *p = (const char *)e + NLMSG_ALIGN(off);
  const char *end = (const char *)h + h->nlmsg_len;
  while (p + NLA_HDRLEN <= end) {
    const struct nlattr *a = (const struct nlattr *)p;
    if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end) return;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      int n = (int)(a->nla_len - NLA_HDRLEN);
      snprintf(why, whylen, "%.*s", n, p + NLA_HDRLEN);
      return;
    }
    p += NLA_ALIGN(a->nla_len);
  }
}

/*
 * Sends the request and reads until its ACK: 0, or the positive errno the
 * kernel answered. A link message in reply (a lookup) leaves its index in
 * *index when index is not NULL.
 */
static int talk(struct nl *nl, struct req *r, int *index, char *why, size_t whylen) {
  if (why && whylen) why[0] = 0;
  if (r->overflow) return EMSGSIZE;
  struct nlmsghdr *h = &r->u.h;
  h->nlmsg_seq = ++nl->seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do n = sendto(nl->fd, h, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fromlen = sizeof from;
    n = recvfrom(nl->fd, nl->buf, RECV_SIZE, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (from.nl_pid != 0) continue;
    int left = (int)n;
    for (struct nlmsghdr *m = (struct nlmsghdr *)nl->buf; NLMSG_OK(m, left); m = NLMSG_NEXT(m, left)) {
      if (m->nlmsg_seq != h->nlmsg_seq) continue;
      if (m->nlmsg_type == NLMSG_ERROR) {
        if (m->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return EBADMSG;
        const struct nlmsgerr *e = NLMSG_DATA(m);
        if (e->error && why) ext_ack(m, e, why, whylen);
        return -e->error;
      }
      if (m->nlmsg_type == RTM_NEWLINK && index && m->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
        *index = ((const struct ifinfomsg *)NLMSG_DATA(m))->ifi_index;
      }
    }
  }
}

/* --- namespaces ---------------------------------------------------------- */

static int same_ns(int fd) {
  struct stat want, now;
  return fstat(fd, &want) == 0 && stat("/proc/thread-self/ns/net", &now) == 0 && want.st_dev == now.st_dev &&
         want.st_ino == now.st_ino;
}

/*
 * Puts the thread back in the namespace it came from. A pool thread left in
 * a container's namespace would do the host's later network work inside the
 * container, so when that cannot be undone the process stops here.
 */
static void come_back(int home) {
  for (int attempt = 0; attempt < 2; attempt++) {
    if (setns(home, CLONE_NEWNET) == 0 && same_ns(home)) return;
  }
  fprintf(stderr, "berth: cannot return a worker thread to its network namespace: %s\n", strerror(errno));
  abort();
}

/* A NETLINK_ROUTE socket on the host (pid 0) or in the network namespace of pid. */
static int nl_open_in(struct nl *nl, int pid, struct nl_err *err) {
  nl->fd = -1;
  nl->buf = NULL;
  if (pid == 0) {
    int e = nl_open(nl);
    return e ? fail(err, e, NULL, "cannot open a netlink socket") : 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) return fail(err, errno, NULL, "cannot open the network namespace of process %d", pid);
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    int e = errno;
    close(target);
    return fail(err, e, NULL, "cannot open the worker thread's network namespace");
  }
  int e = 0;
  if (setns(target, CLONE_NEWNET) != 0) {
    e = fail(err, errno, NULL, "cannot enter the network namespace of process %d", pid);
  } else {
    int opened = nl_open(nl);
    come_back(home);
    if (opened) e = fail(err, opened, NULL, "cannot open a netlink socket in the network namespace of process %d", pid);
  }
  close(home);
  close(target);
  return e;
}

/* --- operations ---------------------------------------------------------- */

static int link_index(struct nl *nl, const char *name, int *index, char *why, size_t whylen) {
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_GETLINK, 0, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  attr_str(&r, IFLA_IFNAME, name);
  attr_u32(&r, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
  *index = 0;
  int e = talk(nl, &r, index, why, whylen);
  if (!e && *index <= 0) e = ENODEV;
  return e;
}

static int set_up(struct nl *nl, int index, char *why, size_t whylen) {
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return talk(nl, &r, NULL, why, whylen);
}

static int delete_link(struct nl *nl, const char *name, char *why, size_t whylen) {
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_DELLINK, 0, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  attr_str(&r, IFLA_IFNAME, name);
  return talk(nl, &r, NULL, why, whylen);
}

/* IPv4 address add, as `ip addr add A/P brd + dev` does. */
static int add_address(struct nl *nl, int index, struct in_addr a, int prefix, char *why, size_t whylen) {
  struct req r;
  struct ifaddrmsg *ifa = req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)index;
  attr(&r, IFA_LOCAL, &a, sizeof a);
  attr(&r, IFA_ADDRESS, &a, sizeof a);
  if (prefix < 31) {
    uint32_t host = 0xffffffffu >> prefix;
    struct in_addr brd = {.s_addr = a.s_addr | htonl(host)};
    attr(&r, IFA_BROADCAST, &brd, sizeof brd);
  }
  return talk(nl, &r, NULL, why, whylen);
}

static const char *ntoa(struct in_addr a, char *buf) {
  return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int nl_attach_veth(const struct nl_veth *v, struct nl_err *err) {
  struct nl nl;
  struct req r;
  struct ifinfomsg *ifi;
  struct rtattr *info, *data, *peer, *port;
  char why[256];
  int e, master = 0, index = 0;
  uint8_t on = 1;
  memset(err, 0, sizeof *err);
  if (nl_open_in(&nl, 0, err)) return err->code;
  if ((e = link_index(&nl, v->bridge, &master, why, sizeof why))) {
    fail(err, e, why, "cannot find bridge %s", v->bridge);
    goto out;
  }

  ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  attr_str(&r, IFLA_IFNAME, v->host_if);
  info = nest(&r, IFLA_LINKINFO);
  attr_str(&r, IFLA_INFO_KIND, "veth");
  data = nest(&r, IFLA_INFO_DATA);
  peer = nest(&r, VETH_INFO_PEER);
  /* The peer's payload is a link message of its own: a header, then its attributes. */
  req_put(&r, sizeof(struct ifinfomsg));
  attr_str(&r, IFLA_IFNAME, v->peer);
  attr(&r, IFLA_ADDRESS, v->mac, sizeof v->mac);
  attr_u32(&r, IFLA_NET_NS_PID, (uint32_t)v->pid);
  nest_end(&r, peer);
  nest_end(&r, data);
  nest_end(&r, info);
  if ((e = talk(&nl, &r, NULL, why, sizeof why))) {
    fail(err, e, why, "cannot create veth %s", v->host_if);
    goto out;
  }

  if ((e = link_index(&nl, v->host_if, &index, why, sizeof why))) {
    fail(err, e, why, "cannot find veth %s", v->host_if);
    goto undo;
  }

  ifi = req_init(&r, RTM_NEWLINK, 0, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  attr_u32(&r, IFLA_MASTER, (uint32_t)master);
  if ((e = talk(&nl, &r, NULL, why, sizeof why))) {
    fail(err, e, why, "cannot set the master of %s to %s", v->host_if, v->bridge);
    goto undo;
  }

  /* A container reaches its own published ports through the bridge and back: the port sends frames back where
   * they came from (hairpin), as `bridge link set dev X hairpin on` asks. */
  ifi = req_init(&r, RTM_SETLINK, 0, sizeof *ifi);
  ifi->ifi_family = AF_BRIDGE;
  ifi->ifi_index = index;
  port = nest(&r, IFLA_PROTINFO | NLA_F_NESTED);
  attr(&r, IFLA_BRPORT_MODE, &on, sizeof on);
  nest_end(&r, port);
  if ((e = talk(&nl, &r, NULL, why, sizeof why))) {
    fail(err, e, why, "cannot set hairpin mode on %s", v->host_if);
    goto undo;
  }

  if ((e = set_up(&nl, index, why, sizeof why))) {
    fail(err, e, why, "cannot set %s up", v->host_if);
    goto undo;
  }
  goto out;

undo:
  delete_link(&nl, v->host_if, NULL, 0);
out:
  nl_close(&nl);
  return err->code;
}

int nl_configure(const struct nl_iface *c, struct nl_err *err) {
  struct nl nl;
  char why[256], a[INET_ADDRSTRLEN];
  int e, index = 0;
  memset(err, 0, sizeof *err);
  if (nl_open_in(&nl, c->pid, err)) return err->code;
  if ((e = link_index(&nl, c->name, &index, why, sizeof why))) {
    fail(err, e, why, "cannot find %s in the network namespace of process %d", c->name, c->pid);
  } else if ((e = add_address(&nl, index, c->addr, c->prefix, why, sizeof why))) {
    fail(err, e, why, "cannot add address %s/%d to %s", ntoa(c->addr, a), c->prefix, c->name);
  } else if ((e = set_up(&nl, index, why, sizeof why))) {
    fail(err, e, why, "cannot set %s up", c->name);
  } else if (c->has_gateway) {
    struct req r;
    struct rtmsg *rt = req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    attr(&r, RTA_GATEWAY, &c->gateway, sizeof c->gateway);
    attr_u32(&r, RTA_OIF, (uint32_t)index);
    if ((e = talk(&nl, &r, NULL, why, sizeof why))) {
      fail(err, e, why, "cannot add the default route via %s dev %s", ntoa(c->gateway, a), c->name);
    }
  }
  nl_close(&nl);
  return err->code;
}

int nl_delete_link(int pid, const char *name, struct nl_err *err) {
  struct nl nl;
  char why[256];
  memset(err, 0, sizeof *err);
  if (nl_open_in(&nl, pid, err)) return err->code;
  int e = delete_link(&nl, name, why, sizeof why);
  if (e && pid) fail(err, e, why, "cannot delete %s in the network namespace of process %d", name, pid);
  else if (e) fail(err, e, why, "cannot delete %s", name);
  nl_close(&nl);
  return err->code;
}

int nl_ensure_bridge(const char *name, struct in_addr addr, int prefix, struct nl_err *err) {
  struct nl nl;
  char why[256], a[INET_ADDRSTRLEN];
  int e, index = 0;
  memset(err, 0, sizeof *err);
  if (nl_open_in(&nl, 0, err)) return err->code;
  struct req r;
  struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  attr_str(&r, IFLA_IFNAME, name);
  struct rtattr *info = nest(&r, IFLA_LINKINFO);
  attr_str(&r, IFLA_INFO_KIND, "bridge");
  nest_end(&r, info);
  if ((e = talk(&nl, &r, NULL, why, sizeof why)) && e != EEXIST) {
    fail(err, e, why, "cannot create bridge %s", name);
  } else if ((e = link_index(&nl, name, &index, why, sizeof why))) {
    fail(err, e, why, "cannot find bridge %s", name);
  } else if ((e = add_address(&nl, index, addr, prefix, why, sizeof why)) && e != EEXIST) {
    fail(err, e, why, "cannot add address %s/%d to %s", ntoa(addr, a), prefix, name);
  } else if ((e = set_up(&nl, index, why, sizeof why))) {
    fail(err, e, why, "cannot set %s up", name);
  }
  nl_close(&nl);
  return err->code;
}
