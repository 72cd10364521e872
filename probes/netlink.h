/*
 * rtnetlink messages for the link and route probes: read a datagram
 * message by message, parse links, addresses, routes and errors, build
 * the two requests we send (a dump, a route lookup), and the IP prefix
 * and interface name rules the configuration uses.
 *
 * Pure functions: no I/O, no clock, no allocation, safe on any input.
 * Buffers need no alignment: every header and attribute is copied out
 * with memcpy after its length was checked, so a truncated or hostile
 * message is refused (-1), never overread.
 */
#ifndef NETLINK_H
#define NETLINK_H

#include <stddef.h>
#include <stdint.h>

#define NL_IFNAMSIZ		16	/* IFNAMSIZ, with the NUL */
#define NL_MAX_NEXTHOPS		16	/* paths of a route we keep */

/* One message of a datagram: its header fields and its payload. */
struct nl_msg {
	uint16_t	 type;
	uint16_t	 flags;
	uint32_t	 seq;
	uint32_t	 pid;
	const uint8_t	*data;	/* after the 16-byte header */
	size_t		 len;
};

/* An IP prefix; an address alone is a prefix of full length. */
struct nl_prefix {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned	 len;		/* 0..32 or 0..128 */
	uint8_t		 addr[16];	/* 4 or 16 bytes used */
};

/* RTM_NEWLINK / RTM_DELLINK (rtnetlink(7): ifinfomsg + IFLA_*). */
struct nl_link {
	int		 index;
	unsigned	 flags;		/* IFF_UP, IFF_RUNNING, ... */
	char		 name[NL_IFNAMSIZ];	/* "": none given */
	int		 has_operstate, has_mtu, has_carrier_changes;
	uint8_t		 operstate;	/* IF_OPER_* (RFC 2863) */
	uint32_t	 mtu;
	uint32_t	 carrier_changes;
};

/* RTM_NEWADDR / RTM_DELADDR (ifaddrmsg + IFA_*). */
struct nl_ifaddr {
	int		 index;
	uint32_t	 flags;		/* IFA_F_* (IFA_FLAGS) */
	struct nl_prefix pfx;		/* local address, length */
};

struct nl_nexthop {
	int		 oif;		/* 0: none given */
	int		 gw_family;	/* 0: directly connected */
	uint8_t		 gw[16];
};

/* RTM_NEWROUTE / RTM_DELROUTE (rtmsg + RTA_*). */
struct nl_route {
	struct nl_prefix dst;		/* 0.0.0.0/0 if no RTA_DST */
	uint8_t		 type;		/* RTN_* */
	uint32_t	 table;		/* RTA_TABLE, else rtm_table */
	uint32_t	 flags;		/* RTM_F_* */
	int		 has_prefsrc;
	uint8_t		 prefsrc[16];
	unsigned	 nnh;		/* kept in nh[] */
	unsigned	 nnh_total;	/* in the message; > nnh if cut */
	struct nl_nexthop nh[NL_MAX_NEXTHOPS];
};

/* What a route lookup asks (like `ip route get fibmatch`). */
struct nl_route_query {
	int		 family;
	uint8_t		 dst[16];
	int		 has_src;	/* a source address of ours */
	uint8_t		 src[16];
	uint32_t	 oif;		/* 0: any interface */
	uint32_t	 mark;		/* 0: none */
};

/*
 * The next message of a datagram at *p (*left bytes).  Returns 1 with
 * *m filled and *p, *left advanced past it; 0 at the end; -1 when the
 * rest cannot be a message (a length shorter than the header or longer
 * than what is left): drop the rest of the datagram.
 */
int		 netlink_next(const uint8_t **p, size_t *left,
		    struct nl_msg *m);

/*
 * Parse a link, address or route message into *out.  0, or -1 when it
 * is truncated, has an attribute running past its end or of the wrong
 * size, or lacks what makes it usable (an index; an address of the
 * message's family; an IPv4 or IPv6 route).
 */
int		 netlink_parse_link(const struct nl_msg *, struct nl_link *);
int		 netlink_parse_addr(const struct nl_msg *,
		    struct nl_ifaddr *);
int		 netlink_parse_route(const struct nl_msg *,
		    struct nl_route *);

/*
 * NLMSG_ERROR and NLMSG_DONE: 0 with *err the positive errno (0 for an
 * acknowledgement or a clean end), or -1 if malformed.
 */
int		 netlink_parse_error(const struct nl_msg *, int *err);
int		 netlink_parse_done(const struct nl_msg *, int *err);

/*
 * Requests, written to buf.  A dump of every link (RTM_GETLINK) or
 * every address (RTM_GETADDR) of every family; a route lookup that
 * returns the matching FIB entry (RTM_F_FIB_MATCH).  Return the length,
 * or 0 if buf is too small or the type/family unknown.
 */
size_t		 netlink_build_dump(uint8_t *buf, size_t len,
		    uint16_t type, uint32_t seq);
size_t		 netlink_build_getroute(uint8_t *buf, size_t len,
		    uint32_t seq, const struct nl_route_query *);

/*
 * "10.20.0.0/16", "2001:db8::/32", or an address alone (full length).
 * 0, or -1 with a static reason in *why.  Host bits after the length
 * are kept: see netlink_prefix_has_host_bits().
 */
int		 netlink_prefix_parse(const char *, struct nl_prefix *,
		    const char **why);
int		 netlink_prefix_has_host_bits(const struct nl_prefix *);
/* The prefix with its host bits cleared. */
void		 netlink_prefix_mask(struct nl_prefix *);
/* "10.20.0.0/16"; a full-length prefix as the address alone. */
void		 netlink_prefix_format(const struct nl_prefix *, char *,
		    size_t);
/* The address (4 or 16 bytes of that family) lies inside the prefix. */
int		 netlink_prefix_contains(const struct nl_prefix *,
		    int family, const uint8_t *addr);
/* One of the two contains the other. */
int		 netlink_prefix_overlap(const struct nl_prefix *,
		    const struct nl_prefix *);

/* NULL if the kernel would accept it as an interface name, else why. */
const char	*netlink_ifname_check(const char *);

/* IF-MIB ifOperStatus (RFC 2863) of a kernel IF_OPER_* value. */
int		 netlink_ifmib_oper_status(uint8_t);
/* "up", "down", "lowerlayerdown", ... as `ip link` shows them. */
const char	*netlink_oper_name(uint8_t);

#endif /* NETLINK_H */
