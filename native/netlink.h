/*
 * Links, addresses and routes through rtnetlink (netlink.c). Every function
 * blocks (the kernel may sleep on RTNL), so callers run it on a worker
 * thread; each returns 0 or a positive errno, and on failure fills *err with
 * the errno and a sentence naming the step that failed.
 */
#ifndef BERTH_NETLINK_H
#define BERTH_NETLINK_H

#include <net/if.h>
#include <netinet/in.h>

struct nl_err {
  int code;
  char msg[512];
};

/* A veth pair: host_if on the host, a port of bridge; peer in the network namespace of pid. */
struct nl_veth {
  char host_if[IFNAMSIZ];
  char peer[IFNAMSIZ];
  char bridge[IFNAMSIZ];
  unsigned char mac[6];
  int pid;
};

/* An interface inside the network namespace of pid, to address and bring up. */
struct nl_iface {
  int pid;
  char name[IFNAMSIZ];
  struct in_addr addr;
  int prefix;
  int has_gateway;
  struct in_addr gateway;
};

/* Creates the pair (the peer with its MAC, straight in pid's namespace), puts host_if on the bridge with hairpin
 * mode on, and sets it up. On a failure after the pair exists, host_if is deleted (taking the peer with it). */
int nl_attach_veth(const struct nl_veth *v, struct nl_err *err);

/* Adds the address (with its broadcast below /31), sets the interface up and, when given, adds the default route. */
int nl_configure(const struct nl_iface *c, struct nl_err *err);

/* Deletes a link by name: on the host when pid is 0, else in the network namespace of pid. */
int nl_delete_link(int pid, const char *name, struct nl_err *err);

/* A bridge named name, up, holding addr/prefix; what already exists is kept. */
int nl_ensure_bridge(const char *name, struct in_addr addr, int prefix, struct nl_err *err);

#endif
