/*
 * link and route: the kernel's own view of the gateway's attachment,
 * read over rtnetlink (rtnetlink(7), RFC 3549).
 *
 * link: an interface exists, is up and running, has an address inside
 * the expected prefixes, and a large enough MTU.  route: the kernel's
 * route for a destination (the FIB entry `ip route get fibmatch` shows)
 * exists, or must not, and leaves through the expected interface or
 * gateway.
 *
 * One NETLINK_ROUTE socket serves both types and every run.  It is
 * opened on first use, subscribed to link, address and route events,
 * and keeps a cache of links and addresses current from those events
 * (a dump loads it; a receive-queue overflow, which loses events, loads
 * it again).  A link run answers from the cache, or waits for the first
 * load within its deadline; a route run asks the kernel one RTM_GETROUTE
 * question, matched to it by sequence number.  Events also count, per
 * watched interface and destination, the changes that happened between
 * two runs, so a flap shorter than the interval still shows.
 *
 * The first half of the file is the pure message codec (netlink.h).
 */
#include "config.h"

#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/netlink.h"
#include "probes/probe.h"

/* not in glibc's <net/if.h>; <linux/if.h> would clash with it */
#define NL_IFF_LOWER_UP		0x10000
/* RFC 2863 operational states, as the kernel numbers them (IF_OPER_*) */
enum {
	NL_OPER_UNKNOWN, NL_OPER_NOTPRESENT, NL_OPER_DOWN,
	NL_OPER_LOWERLAYERDOWN, NL_OPER_TESTING, NL_OPER_DORMANT, NL_OPER_UP
};

/* ==== codec ========================================================= */

struct nl_attr {
	uint16_t	 type;
	const uint8_t	*data;
	size_t		 len;
};

static size_t
family_alen(int family)
{
	return (family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0);
}

int
netlink_next(const uint8_t **p, size_t *left, struct nl_msg *m)
{
	struct nlmsghdr	h;
	size_t		adv;

	if (*left == 0)
		return (0);
	if (*left < sizeof(h))
		return (-1);
	memcpy(&h, *p, sizeof(h));
	if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > *left)
		return (-1);
	m->type = h.nlmsg_type;
	m->flags = h.nlmsg_flags;
	m->seq = h.nlmsg_seq;
	m->pid = h.nlmsg_pid;
	m->data = *p + sizeof(h);
	m->len = h.nlmsg_len - sizeof(h);
	adv = NLMSG_ALIGN((size_t)h.nlmsg_len);
	if (adv > *left)
		adv = *left;
	*p += adv;
	*left -= adv;
	return (1);
}

/* rtnetlink attributes (struct rtattr): 1 next, 0 end, -1 malformed. */
static int
attr_next(const uint8_t **p, size_t *left, struct nl_attr *a)
{
	struct rtattr	rta;
	size_t		adv;

	/* less than a header left: the end's alignment padding */
	if (*left < sizeof(rta))
		return (0);
	memcpy(&rta, *p, sizeof(rta));
	if (rta.rta_len < sizeof(rta) || rta.rta_len > *left)
		return (-1);
	a->type = rta.rta_type & NLA_TYPE_MASK;
	a->data = *p + RTA_LENGTH(0);
	a->len = rta.rta_len - RTA_LENGTH(0);
	adv = RTA_ALIGN((size_t)rta.rta_len);
	if (adv > *left)
		adv = *left;
	*p += adv;
	*left -= adv;
	return (1);
}

static int
attr_u32(const struct nl_attr *a, uint32_t *v)
{
	if (a->len != sizeof(*v))
		return (-1);
	memcpy(v, a->data, sizeof(*v));
	return (0);
}

static int
attr_u8(const struct nl_attr *a, uint8_t *v)
{
	if (a->len != 1)
		return (-1);
	*v = a->data[0];
	return (0);
}

/* An address attribute of the message's family: exactly its length. */
static int
attr_addr(const struct nl_attr *a, int family, uint8_t *out)
{
	size_t	alen = family_alen(family);

	if (alen == 0 || a->len != alen)
		return (-1);
	memcpy(out, a->data, alen);
	return (0);
}

int
netlink_parse_link(const struct nl_msg *m, struct nl_link *out)
{
	struct ifinfomsg	 ifi;
	struct nl_attr		 a;
	const uint8_t		*p, *nul;
	size_t			 left, hl = NLMSG_ALIGN(sizeof(ifi));
	int			 r;

	memset(out, 0, sizeof(*out));
	if (m->len < hl)
		return (-1);
	memcpy(&ifi, m->data, sizeof(ifi));
	if (ifi.ifi_index <= 0)
		return (-1);
	out->index = ifi.ifi_index;
	out->flags = ifi.ifi_flags;
	p = m->data + hl;
	left = m->len - hl;
	while ((r = attr_next(&p, &left, &a)) == 1) {
		switch (a.type) {
		case IFLA_IFNAME:
			/* NUL-terminated, 1 to 15 characters */
			if (a.len == 0 ||
			    (nul = memchr(a.data, '\0', a.len)) == NULL ||
			    nul == a.data || nul - a.data >= NL_IFNAMSIZ)
				return (-1);
			memcpy(out->name, a.data, (size_t)(nul - a.data) + 1);
			break;
		case IFLA_MTU:
			if (attr_u32(&a, &out->mtu) == -1)
				return (-1);
			out->has_mtu = 1;
			break;
		case IFLA_OPERSTATE:
			if (attr_u8(&a, &out->operstate) == -1)
				return (-1);
			out->has_operstate = 1;
			break;
		case IFLA_CARRIER_CHANGES:
			if (attr_u32(&a, &out->carrier_changes) == -1)
				return (-1);
			out->has_carrier_changes = 1;
			break;
		default:
			break;
		}
	}
	return (r == -1 ? -1 : 0);
}

int
netlink_parse_addr(const struct nl_msg *m, struct nl_ifaddr *out)
{
	struct ifaddrmsg	 ifa;
	struct nl_attr		 a;
	const uint8_t		*p;
	uint8_t			 address[16], local[16];
	size_t			 left, hl = NLMSG_ALIGN(sizeof(ifa));
	int			 r, has_address = 0, has_local = 0;
	uint32_t		 flags;

	memset(out, 0, sizeof(*out));
	if (m->len < hl)
		return (-1);
	memcpy(&ifa, m->data, sizeof(ifa));
	if (family_alen(ifa.ifa_family) == 0 || ifa.ifa_index == 0 ||
	    ifa.ifa_index > INT32_MAX ||
	    ifa.ifa_prefixlen > family_alen(ifa.ifa_family) * 8)
		return (-1);
	out->index = (int)ifa.ifa_index;
	out->flags = ifa.ifa_flags;
	out->pfx.family = ifa.ifa_family;
	out->pfx.len = ifa.ifa_prefixlen;
	p = m->data + hl;
	left = m->len - hl;
	while ((r = attr_next(&p, &left, &a)) == 1) {
		switch (a.type) {
		case IFA_ADDRESS:
			if (attr_addr(&a, ifa.ifa_family, address) == -1)
				return (-1);
			has_address = 1;
			break;
		case IFA_LOCAL:
			if (attr_addr(&a, ifa.ifa_family, local) == -1)
				return (-1);
			has_local = 1;
			break;
		case IFA_FLAGS:
			/* a u32 that extends the u8 ifa_flags */
			if (attr_u32(&a, &flags) == -1)
				return (-1);
			out->flags = flags;
			break;
		default:
			break;
		}
	}
	if (r == -1 || (!has_local && !has_address))
		return (-1);
	/* on point-to-point links IFA_ADDRESS is the peer's: ours is LOCAL */
	memcpy(out->pfx.addr, has_local ? local : address,
	    family_alen(ifa.ifa_family));
	return (0);
}

/* A gateway: RTA_GATEWAY of the route's family, or RTA_VIA any family. */
static int
nexthop_attr(const struct nl_attr *a, int family, struct nl_nexthop *nh)
{
	uint16_t	vf;

	if (a->type == RTA_GATEWAY) {
		if (attr_addr(a, family, nh->gw) == -1)
			return (-1);
		nh->gw_family = family;
	} else if (a->type == RTA_VIA) {
		/* struct rtvia: a family, then an address of that family */
		if (a->len < sizeof(vf))
			return (-1);
		memcpy(&vf, a->data, sizeof(vf));
		if (family_alen(vf) == 0 || a->len != sizeof(vf) +
		    family_alen(vf))
			return (-1);
		memcpy(nh->gw, a->data + sizeof(vf), family_alen(vf));
		nh->gw_family = vf;
	}
	return (0);
}

/* RTA_MULTIPATH: struct rtnexthop entries, each with its own attributes. */
static int
parse_multipath(const struct nl_attr *mp, int family, struct nl_route *out)
{
	struct rtnexthop	 rtnh;
	struct nl_nexthop	 nh;
	struct nl_attr		 a;
	const uint8_t		*p = mp->data, *ap;
	size_t			 left = mp->len, aleft, adv;
	int			 r;

	while (left > 0) {
		if (left < sizeof(rtnh))
			return (-1);
		memcpy(&rtnh, p, sizeof(rtnh));
		if (rtnh.rtnh_len < sizeof(rtnh) || rtnh.rtnh_len > left ||
		    rtnh.rtnh_ifindex < 0)
			return (-1);
		memset(&nh, 0, sizeof(nh));
		nh.oif = rtnh.rtnh_ifindex;
		ap = p + RTNH_LENGTH(0);
		aleft = rtnh.rtnh_len - RTNH_LENGTH(0);
		while ((r = attr_next(&ap, &aleft, &a)) == 1)
			if (nexthop_attr(&a, family, &nh) == -1)
				return (-1);
		if (r == -1)
			return (-1);
		if (out->nnh < NL_MAX_NEXTHOPS)
			out->nh[out->nnh++] = nh;
		out->nnh_total++;
		adv = RTNH_ALIGN((size_t)rtnh.rtnh_len);
		if (adv > left)
			adv = left;
		p += adv;
		left -= adv;
	}
	return (0);
}

int
netlink_parse_route(const struct nl_msg *m, struct nl_route *out)
{
	struct rtmsg		 rtm;
	struct nl_attr		 a, mp;
	struct nl_nexthop	 nh;
	const uint8_t		*p;
	size_t			 left, hl = NLMSG_ALIGN(sizeof(rtm));
	uint32_t		 v;
	int			 r, has_mp = 0, has_nh = 0;

	memset(out, 0, sizeof(*out));
	memset(&nh, 0, sizeof(nh));
	if (m->len < hl)
		return (-1);
	memcpy(&rtm, m->data, sizeof(rtm));
	if (family_alen(rtm.rtm_family) == 0 ||
	    rtm.rtm_dst_len > family_alen(rtm.rtm_family) * 8)
		return (-1);
	out->dst.family = rtm.rtm_family;
	out->dst.len = rtm.rtm_dst_len;
	out->type = rtm.rtm_type;
	out->table = rtm.rtm_table;
	out->flags = rtm.rtm_flags;
	p = m->data + hl;
	left = m->len - hl;
	while ((r = attr_next(&p, &left, &a)) == 1) {
		switch (a.type) {
		case RTA_DST:
			if (attr_addr(&a, rtm.rtm_family, out->dst.addr) == -1)
				return (-1);
			break;
		case RTA_OIF:
			if (attr_u32(&a, &v) == -1 || v > INT32_MAX)
				return (-1);
			nh.oif = (int)v;
			has_nh = 1;
			break;
		case RTA_GATEWAY:
		case RTA_VIA:
			if (nexthop_attr(&a, rtm.rtm_family, &nh) == -1)
				return (-1);
			has_nh = 1;
			break;
		case RTA_PREFSRC:
			if (attr_addr(&a, rtm.rtm_family, out->prefsrc) == -1)
				return (-1);
			out->has_prefsrc = 1;
			break;
		case RTA_TABLE:
			if (attr_u32(&a, &out->table) == -1)
				return (-1);
			break;
		case RTA_MULTIPATH:
			mp = a;
			has_mp = 1;
			break;
		default:
			break;
		}
	}
	if (r == -1)
		return (-1);
	if (has_mp) {
		if (parse_multipath(&mp, rtm.rtm_family, out) == -1)
			return (-1);
	} else if (has_nh) {
		out->nh[0] = nh;
		out->nnh = out->nnh_total = 1;
	}
	return (0);
}

static int
parse_errno(const struct nl_msg *m, int *err)
{
	int32_t	e;

	if (m->len < sizeof(e))
		return (-1);
	memcpy(&e, m->data, sizeof(e));
	/* the kernel sends -errno; anything else is not from it */
	if (e > 0 || e < -4095)
		return (-1);
	*err = -e;
	return (0);
}

int
netlink_parse_error(const struct nl_msg *m, int *err)
{
	return (parse_errno(m, err));
}

int
netlink_parse_done(const struct nl_msg *m, int *err)
{
	*err = 0;
	if (m->len == 0)
		return (0);
	return (parse_errno(m, err));
}

static void
put_attr(uint8_t *p, uint16_t type, const void *data, size_t len)
{
	struct rtattr	rta;

	rta.rta_len = (unsigned short)RTA_LENGTH(len);
	rta.rta_type = type;
	memcpy(p, &rta, sizeof(rta));
	memcpy(p + RTA_LENGTH(0), data, len);
}

static void
put_hdr(uint8_t *buf, size_t len, uint16_t type, uint16_t flags,
    uint32_t seq)
{
	struct nlmsghdr	h;

	memset(&h, 0, sizeof(h));
	h.nlmsg_len = (uint32_t)len;
	h.nlmsg_type = type;
	h.nlmsg_flags = flags;
	h.nlmsg_seq = seq;
	memcpy(buf, &h, sizeof(h));
}

size_t
netlink_build_dump(uint8_t *buf, size_t len, uint16_t type, uint32_t seq)
{
	size_t		need;
	uint32_t	mask = RTEXT_FILTER_SKIP_STATS;

	if (type == RTM_GETLINK)
		/* the counters are not ours to read: leave them out */
		need = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg)) +
		    RTA_SPACE(sizeof(mask));
	else if (type == RTM_GETADDR)
		need = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifaddrmsg));
	else
		return (0);
	if (len < need)
		return (0);
	memset(buf, 0, need);	/* family AF_UNSPEC: all of them */
	put_hdr(buf, need, type, NLM_F_REQUEST | NLM_F_DUMP, seq);
	if (type == RTM_GETLINK)
		put_attr(buf + NLMSG_HDRLEN +
		    NLMSG_ALIGN(sizeof(struct ifinfomsg)), IFLA_EXT_MASK,
		    &mask, sizeof(mask));
	return (need);
}

size_t
netlink_build_getroute(uint8_t *buf, size_t len, uint32_t seq,
    const struct nl_route_query *q)
{
	struct rtmsg	rtm;
	size_t		alen = family_alen(q->family), need, off;

	if (alen == 0)
		return (0);
	need = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(rtm)) + RTA_SPACE(alen) +
	    (q->has_src ? RTA_SPACE(alen) : 0) +
	    (q->oif ? RTA_SPACE(sizeof(uint32_t)) : 0) +
	    (q->mark ? RTA_SPACE(sizeof(uint32_t)) : 0);
	if (len < need)
		return (0);
	memset(buf, 0, need);
	put_hdr(buf, need, RTM_GETROUTE, NLM_F_REQUEST, seq);
	memset(&rtm, 0, sizeof(rtm));
	rtm.rtm_family = (unsigned char)q->family;
	rtm.rtm_dst_len = (unsigned char)(alen * 8);
	rtm.rtm_src_len = q->has_src ? (unsigned char)(alen * 8) : 0;
	/* the FIB entry itself (prefix, table, every path), not a clone */
	rtm.rtm_flags = RTM_F_FIB_MATCH;
	memcpy(buf + NLMSG_HDRLEN, &rtm, sizeof(rtm));
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(rtm));
	put_attr(buf + off, RTA_DST, q->dst, alen);
	off += RTA_SPACE(alen);
	if (q->has_src) {
		put_attr(buf + off, RTA_SRC, q->src, alen);
		off += RTA_SPACE(alen);
	}
	if (q->oif) {
		put_attr(buf + off, RTA_OIF, &q->oif, sizeof(q->oif));
		off += RTA_SPACE(sizeof(q->oif));
	}
	if (q->mark)
		put_attr(buf + off, RTA_MARK, &q->mark, sizeof(q->mark));
	return (need);
}

int
netlink_prefix_parse(const char *s, struct nl_prefix *p, const char **why)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*slash = strchr(s, '/'), *d;
	size_t		 alen;
	unsigned	 max, n = 0;

	memset(p, 0, sizeof(*p));
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	*why = "not an IP address or prefix like 10.20.0.0/16 or "
	    "2001:db8::/32";
	if (alen == 0 || alen >= sizeof(buf))
		return (-1);
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->family = AF_INET6;
	else
		return (-1);
	max = (unsigned)family_alen(p->family) * 8;
	p->len = max;
	if (slash == NULL)
		return (0);
	*why = p->family == AF_INET ? "the prefix length must be 0 to 32" :
	    "the prefix length must be 0 to 128";
	d = slash + 1;
	if (*d == '\0' || strlen(d) > 3)
		return (-1);
	for (; *d != '\0'; d++) {
		if (!isdigit((unsigned char)*d))
			return (-1);
		n = n * 10 + (unsigned)(*d - '0');
	}
	if (n > max)
		return (-1);
	p->len = n;
	return (0);
}

/* The first `bits` bits of a and b are equal. */
static int
bits_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned	full = bits / 8, rest = bits % 8;
	uint8_t		mask;

	if (memcmp(a, b, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] & mask) == (b[full] & mask));
}

int
netlink_prefix_has_host_bits(const struct nl_prefix *p)
{
	struct nl_prefix	m = *p;

	netlink_prefix_mask(&m);
	return (memcmp(m.addr, p->addr, sizeof(m.addr)) != 0);
}

void
netlink_prefix_mask(struct nl_prefix *p)
{
	unsigned	i, alen = (unsigned)family_alen(p->family);

	for (i = 0; i < 16; i++) {
		if (i >= alen || i * 8 >= p->len)
			p->addr[i] = 0;
		else if (p->len < (i + 1) * 8)
			p->addr[i] &= (uint8_t)(0xff << (8 - (p->len - i * 8)));
	}
}

void
netlink_prefix_format(const struct nl_prefix *p, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (inet_ntop(p->family, p->addr, a, sizeof(a)) == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	if (p->len == family_alen(p->family) * 8)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, p->len);
}

int
netlink_prefix_contains(const struct nl_prefix *p, int family,
    const uint8_t *addr)
{
	return (p->family == family && bits_equal(p->addr, addr, p->len));
}

int
netlink_prefix_overlap(const struct nl_prefix *a, const struct nl_prefix *b)
{
	return (a->family == b->family && bits_equal(a->addr, b->addr,
	    a->len < b->len ? a->len : b->len));
}

const char *
netlink_ifname_check(const char *s)
{
	const char	*c;

	/* what the kernel's dev_valid_name() accepts */
	if (*s == '\0' || strlen(s) >= NL_IFNAMSIZ || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		goto bad;
	for (c = s; *c != '\0'; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			goto bad;
	return (NULL);
bad:
	return ("not an interface name (1 to 15 characters, no '/', ':' or "
	    "spaces)");
}

int
netlink_ifmib_oper_status(uint8_t op)
{
	/* IF-MIB ifOperStatus: up(1) down(2) testing(3) unknown(4)
	 * dormant(5) notPresent(6) lowerLayerDown(7) */
	static const int map[] = {
		[NL_OPER_UNKNOWN] = 4, [NL_OPER_NOTPRESENT] = 6,
		[NL_OPER_DOWN] = 2, [NL_OPER_LOWERLAYERDOWN] = 7,
		[NL_OPER_TESTING] = 3, [NL_OPER_DORMANT] = 5,
		[NL_OPER_UP] = 1,
	};

	return (op < NP_NELEM(map) ? map[op] : 4);
}

const char *
netlink_oper_name(uint8_t op)
{
	static const char *const names[] = {
		"unknown", "notpresent", "down", "lowerlayerdown", "testing",
		"dormant", "up",
	};

	return (op < NP_NELEM(names) ? names[op] : "unknown");
}

/* ==== the shared socket and the cache =============================== */

#define NL_RCVBUF	(4 << 20)
#define NL_MAX_LINKS	65536
#define NL_MAX_ADDRS	65536
#define NL_MAX_WATCH	1024	/* interfaces/destinations whose changes
				   we count; least recently asked go first */
#define NL_READ_BUDGET	64	/* datagrams per wakeup */

/*
 * A run waiting on the socket: for the cache to be loaded (seq 0) or
 * for the answer to its route query (seq != 0).  First member of the
 * link and route run states.
 */
struct nl_waiter {
	struct nl_waiter	 *next, **prevp;
	struct probe_run	 *run;
	uint32_t		  seq;
	void			(*ready)(struct nl_waiter *);
	void			(*reply)(struct nl_waiter *,
				    const struct nl_msg *);
	void			(*fail)(struct nl_waiter *, const char *);
};

enum { W_LINK, W_ROUTE };

struct nl_watch {
	int			 kind;
	char			 name[NL_IFNAMSIZ];	/* W_LINK */
	struct nl_prefix	 pfx;			/* W_ROUTE */
	uint64_t		 changes;
	uint64_t		 last_change;	/* wall ns; 0: none seen */
	uint64_t		 used;		/* mono ns, last run */
};

struct nl_link_entry {
	struct nl_link		 l;
	unsigned		 gen;
};

struct nl_addr_entry {
	struct nl_ifaddr	 a;
	unsigned		 gen;
};

enum nl_phase { NL_IDLE, NL_DUMP_LINKS, NL_DUMP_ADDRS };

static struct {
	int			 fd;
	struct event		*ev;
	uint32_t		 portid;
	uint32_t		 seq;
	enum nl_phase		 phase;
	uint32_t		 dump_seq;
	int			 loaded;	/* the cache is current */
	int			 loaded_once;	/* a dump completed */
	int			 intr;		/* NLM_F_DUMP_INTR */
	int			 redo;		/* dump again after */
	int			 capped;	/* warned: table full */
	unsigned		 gen;		/* dump generation */
	struct nl_link_entry	*links;
	size_t			 nlinks;
	struct nl_addr_entry	*addrs;
	size_t			 naddrs;
	struct nl_watch		*watch;
	size_t			 nwatch;
	struct nl_waiter	*waiters;
} nl = { .fd = -1 };

static void	nl_read(evutil_socket_t, short, void *);

static void
waiter_link(struct nl_waiter *w)
{
	if (w->prevp != NULL)
		return;
	w->next = nl.waiters;
	if (w->next != NULL)
		w->next->prevp = &w->next;
	w->prevp = &nl.waiters;
	nl.waiters = w;
}

static void
waiter_unlink(struct nl_waiter *w)
{
	if (w->prevp == NULL)
		return;
	if (w->next != NULL)
		w->next->prevp = w->prevp;
	*w->prevp = w->next;
	w->next = NULL;
	w->prevp = NULL;
}

/*
 * Call fn for every waiter that wants it, once each, even when a call
 * ends other runs: the list is moved aside and walked from its head.
 */
static void
waiters_each(int (*want)(struct nl_waiter *),
    void (*fn)(struct nl_waiter *, const char *), const char *arg)
{
	struct nl_waiter	*todo = nl.waiters, *w;

	nl.waiters = NULL;
	if (todo != NULL)
		todo->prevp = &todo;
	while ((w = todo) != NULL) {
		waiter_unlink(w);
		if (want == NULL || want(w))
			fn(w, arg);
		else
			waiter_link(w);
	}
}

static int
waiter_wants_cache(struct nl_waiter *w)
{
	return (w->seq == 0);
}

static void
waiter_ready(struct nl_waiter *w, const char *unused)
{
	w->ready(w);
}

static void
waiter_fail(struct nl_waiter *w, const char *why)
{
	w->fail(w, why);
}

/* ---- watched interfaces and destinations --------------------------- */

static struct nl_watch *
watch_find(int kind, const char *name, const struct nl_prefix *pfx)
{
	size_t	i;

	for (i = 0; i < nl.nwatch; i++)
		if (nl.watch[i].kind == kind && (kind == W_LINK ?
		    strcmp(nl.watch[i].name, name) == 0 :
		    memcmp(&nl.watch[i].pfx, pfx, sizeof(*pfx)) == 0))
			return (&nl.watch[i]);
	return (NULL);
}

/* The watch for a run's target, created (or recycled) if needed. */
static struct nl_watch *
watch_use(int kind, const char *name, const struct nl_prefix *pfx)
{
	struct nl_watch	*w;
	size_t		 i, old = 0;

	if ((w = watch_find(kind, name, pfx)) == NULL) {
		if (nl.nwatch < NL_MAX_WATCH) {
			nl.watch = xreallocarray(nl.watch, nl.nwatch + 1,
			    sizeof(*nl.watch));
			w = &nl.watch[nl.nwatch++];
		} else {
			for (i = 1; i < nl.nwatch; i++)
				if (nl.watch[i].used < nl.watch[old].used)
					old = i;
			w = &nl.watch[old];
		}
		memset(w, 0, sizeof(*w));
		w->kind = kind;
		if (kind == W_LINK)
			snprintf(w->name, sizeof(w->name), "%s", name);
		else
			w->pfx = *pfx;
	}
	w->used = now_mono_ns();
	return (w);
}

static void
watch_bump(struct nl_watch *w, uint64_t n)
{
	w->changes += n;
	w->last_change = now_wall_ns();
}

static void
watch_bump_link_n(const char *name, uint64_t n)
{
	struct nl_watch	*w;

	if (name[0] != '\0' && (w = watch_find(W_LINK, name, NULL)) != NULL)
		watch_bump(w, n);
}

static void
watch_bump_link(const char *name)
{
	watch_bump_link_n(name, 1);
}

/* ---- the cache ------------------------------------------------------ */

static struct nl_link_entry *
link_by_index(int index)
{
	size_t	i;

	for (i = 0; i < nl.nlinks; i++)
		if (nl.links[i].l.index == index)
			return (&nl.links[i]);
	return (NULL);
}

static struct nl_link_entry *
link_by_name(const char *name)
{
	size_t	i;

	for (i = 0; i < nl.nlinks; i++)
		if (strcmp(nl.links[i].l.name, name) == 0)
			return (&nl.links[i]);
	return (NULL);
}

static const char *
link_name(int index, char *buf, size_t len)
{
	struct nl_link_entry	*e = link_by_index(index);

	if (e != NULL)
		return (e->l.name);
	snprintf(buf, len, "if%d", index);
	return (buf);
}

static void
cache_full(const char *what)
{
	if (!nl.capped)
		log_warnx("netlink: more than %d %s; the rest are not "
		    "tracked", what[0] == 'l' ? NL_MAX_LINKS : NL_MAX_ADDRS,
		    what);
	nl.capped = 1;
}

#define LINK_STATE_FLAGS	(IFF_UP | IFF_RUNNING | NL_IFF_LOWER_UP)

/* A link from a dump or an event; `count`: a difference is a change. */
static void
link_apply(const struct nl_link *l, int count)
{
	struct nl_link_entry	*e = link_by_index(l->index);
	struct nl_link		 n;
	uint32_t		 flaps;

	if (e == NULL) {
		if (l->name[0] == '\0')
			return;
		if (nl.nlinks >= NL_MAX_LINKS) {
			cache_full("links");
			return;
		}
		nl.links = xreallocarray(nl.links, nl.nlinks + 1,
		    sizeof(*nl.links));
		e = &nl.links[nl.nlinks++];
		e->l = *l;
		e->gen = nl.gen;
		if (count)
			watch_bump_link(l->name);
		return;
	}
	/* keep what a partial message did not say */
	n = *l;
	if (n.name[0] == '\0')
		memcpy(n.name, e->l.name, sizeof(n.name));
	if (!n.has_mtu) {
		n.has_mtu = e->l.has_mtu;
		n.mtu = e->l.mtu;
	}
	if (!n.has_operstate) {
		n.has_operstate = e->l.has_operstate;
		n.operstate = e->l.operstate;
	}
	if (!n.has_carrier_changes) {
		n.has_carrier_changes = e->l.has_carrier_changes;
		n.carrier_changes = e->l.carrier_changes;
	}
	/* a quick flap can reach us as one event: the kernel's carrier
	 * count then says how many changes it stands for */
	flaps = n.carrier_changes > e->l.carrier_changes ?
	    n.carrier_changes - e->l.carrier_changes : 0;
	if (count && (strcmp(n.name, e->l.name) != 0 ||
	    (n.flags & LINK_STATE_FLAGS) != (e->l.flags & LINK_STATE_FLAGS) ||
	    n.operstate != e->l.operstate || n.mtu != e->l.mtu ||
	    flaps > 0)) {
		watch_bump_link_n(e->l.name, flaps > 1 ? flaps : 1);
		if (strcmp(n.name, e->l.name) != 0)
			watch_bump_link(n.name);
	}
	e->l = n;
	e->gen = nl.gen;
}

static void
addr_remove_at(size_t i, int count)
{
	char	buf[NL_IFNAMSIZ];

	if (count)
		watch_bump_link(link_name(nl.addrs[i].a.index, buf,
		    sizeof(buf)));
	nl.addrs[i] = nl.addrs[--nl.naddrs];
}

static void
link_remove_at(size_t i, int count)
{
	size_t	j;

	if (count)
		watch_bump_link(nl.links[i].l.name);
	for (j = nl.naddrs; j > 0; j--)
		if (nl.addrs[j - 1].a.index == nl.links[i].l.index)
			addr_remove_at(j - 1, 0);
	nl.links[i] = nl.links[--nl.nlinks];
}

static void
link_delete(int index)
{
	size_t	i;

	for (i = 0; i < nl.nlinks; i++)
		if (nl.links[i].l.index == index) {
			link_remove_at(i, 1);
			return;
		}
}

#define ADDR_STATE_FLAGS	(IFA_F_TENTATIVE | IFA_F_DADFAILED)

static ssize_t
addr_find(const struct nl_ifaddr *a)
{
	size_t	i;

	for (i = 0; i < nl.naddrs; i++)
		if (nl.addrs[i].a.index == a->index &&
		    memcmp(&nl.addrs[i].a.pfx, &a->pfx, sizeof(a->pfx)) == 0)
			return ((ssize_t)i);
	return (-1);
}

static void
addr_apply(const struct nl_ifaddr *a, int count)
{
	ssize_t	i = addr_find(a);
	char	buf[NL_IFNAMSIZ];
	int	changed = 1;

	if (i < 0) {
		if (nl.naddrs >= NL_MAX_ADDRS) {
			cache_full("addresses");
			return;
		}
		nl.addrs = xreallocarray(nl.addrs, nl.naddrs + 1,
		    sizeof(*nl.addrs));
		i = (ssize_t)nl.naddrs++;
	} else
		changed = (nl.addrs[i].a.flags & ADDR_STATE_FLAGS) !=
		    (a->flags & ADDR_STATE_FLAGS);
	nl.addrs[i].a = *a;
	nl.addrs[i].gen = nl.gen;
	if (count && changed)
		watch_bump_link(link_name(a->index, buf, sizeof(buf)));
}

static void
addr_delete(const struct nl_ifaddr *a)
{
	ssize_t	i = addr_find(a);

	if (i >= 0)
		addr_remove_at((size_t)i, 1);
}

static void
route_event(const struct nl_route *r)
{
	size_t	i;

	/* PMTU and redirect exceptions are not routes anyone configured */
	if (r->flags & RTM_F_CLONED)
		return;
	for (i = 0; i < nl.nwatch; i++)
		if (nl.watch[i].kind == W_ROUTE &&
		    netlink_prefix_overlap(&nl.watch[i].pfx, &r->dst))
			watch_bump(&nl.watch[i], 1);
}

/* ---- requests and dumps ---------------------------------------------- */

static uint32_t
nl_next_seq(void)
{
	if (++nl.seq == 0)
		nl.seq = 1;
	return (nl.seq);
}

static int
nl_send(const uint8_t *buf, size_t len)
{
	struct sockaddr_nl	sa;

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;	/* nl_pid 0: the kernel */
	if (sendto(nl.fd, buf, len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1)
		return (-1);
	return (0);
}

static void
nl_dump_failed(const char *why)
{
	char	msg[96];

	log_warnx("netlink: cannot load links and addresses: %s", why);
	nl.phase = NL_IDLE;
	nl.loaded = 0;
	nl.redo = 0;
	snprintf(msg, sizeof(msg), "netlink dump failed: %s", why);
	waiters_each(waiter_wants_cache, waiter_fail, msg);
}

static void
nl_dump(uint16_t type)
{
	uint8_t	buf[64];
	size_t	len;

	nl.dump_seq = nl_next_seq();
	nl.phase = type == RTM_GETLINK ? NL_DUMP_LINKS : NL_DUMP_ADDRS;
	if (type == RTM_GETLINK) {
		nl.gen++;
		nl.intr = 0;
	}
	len = netlink_build_dump(buf, sizeof(buf), type, nl.dump_seq);
	if (len == 0 || nl_send(buf, len) == -1)
		nl_dump_failed(strerror(errno));
}

/* Load the cache unless it is current or loading. */
static void
nl_need_cache(void)
{
	if (!nl.loaded && nl.phase == NL_IDLE)
		nl_dump(RTM_GETLINK);
}

static int
waiter_wants_answer(struct nl_waiter *w)
{
	return (w->seq != 0);
}

static void
waiter_ask_again(struct nl_waiter *w, const char *unused)
{
	w->seq = 0;
	w->reply(w, NULL);
}

/* Events were lost: what we hold may be stale. */
static void
nl_overrun(void)
{
	log_warnx("netlink: receive queue overflowed and events were lost; "
	    "loading links and addresses again");
	nl.loaded = 0;
	if (nl.phase == NL_IDLE)
		nl_dump(RTM_GETLINK);
	else
		nl.redo = 1;
	/* route answers may have been lost too */
	waiters_each(waiter_wants_answer, waiter_ask_again, NULL);
}

/* Remove what the dump that just ended did not mention. */
static void
nl_sweep(int links)
{
	size_t	i;
	int	count = nl.loaded_once;

	if (links) {
		for (i = nl.nlinks; i > 0; i--)
			if (nl.links[i - 1].gen != nl.gen)
				link_remove_at(i - 1, count);
	} else {
		for (i = nl.naddrs; i > 0; i--)
			if (nl.addrs[i - 1].gen != nl.gen)
				addr_remove_at(i - 1, count);
	}
}

static void
nl_dump_msg(const struct nl_msg *m)
{
	struct nl_link		l;
	struct nl_ifaddr	a;
	int			err;

	if (m->flags & NLM_F_DUMP_INTR)
		nl.intr = 1;	/* the tables changed under the dump */
	switch (m->type) {
	case NLMSG_ERROR:
		if (netlink_parse_error(m, &err) == -1)
			nl_dump_failed("malformed error message");
		else if (err != 0)
			nl_dump_failed(strerror(err));
		return;
	case NLMSG_DONE:
		if (netlink_parse_done(m, &err) == -1 || err != 0) {
			nl_dump_failed(err ? strerror(err) :
			    "malformed end of dump");
			return;
		}
		break;
	case RTM_NEWLINK:
		if (nl.phase == NL_DUMP_LINKS &&
		    netlink_parse_link(m, &l) == 0)
			link_apply(&l, nl.loaded_once);
		return;
	case RTM_NEWADDR:
		if (nl.phase == NL_DUMP_ADDRS &&
		    netlink_parse_addr(m, &a) == 0)
			addr_apply(&a, nl.loaded_once);
		return;
	default:
		return;
	}

	/* the end of a dump */
	if (nl.phase == NL_DUMP_LINKS) {
		nl_sweep(1);
		nl_dump(RTM_GETADDR);
		return;
	}
	nl_sweep(0);
	if (nl.intr || nl.redo) {
		nl.redo = 0;
		nl_dump(RTM_GETLINK);
		return;
	}
	nl.phase = NL_IDLE;
	nl.loaded = nl.loaded_once = 1;
	log_debug("netlink: %zu links, %zu addresses", nl.nlinks, nl.naddrs);
	waiters_each(waiter_wants_cache, waiter_ready, NULL);
}

/* A notification: the kernel telling everyone what changed. */
static void
nl_event(const struct nl_msg *m)
{
	struct nl_link		l;
	struct nl_ifaddr	a;
	struct nl_route		r;

	switch (m->type) {
	case RTM_NEWLINK:
		if (netlink_parse_link(m, &l) == 0)
			link_apply(&l, 1);
		break;
	case RTM_DELLINK:
		if (netlink_parse_link(m, &l) == 0)
			link_delete(l.index);
		break;
	case RTM_NEWADDR:
		if (netlink_parse_addr(m, &a) == 0)
			addr_apply(&a, 1);
		break;
	case RTM_DELADDR:
		if (netlink_parse_addr(m, &a) == 0)
			addr_delete(&a);
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (netlink_parse_route(m, &r) == 0)
			route_event(&r);
		break;
	default:
		break;
	}
}

static void
nl_dispatch(const struct nl_msg *m)
{
	struct nl_waiter	*w;

	if (m->pid != nl.portid || m->seq == 0) {
		nl_event(m);
		return;
	}
	if (nl.phase != NL_IDLE && m->seq == nl.dump_seq) {
		nl_dump_msg(m);
		return;
	}
	for (w = nl.waiters; w != NULL; w = w->next)
		if (w->seq == m->seq) {
			w->seq = 0;
			waiter_unlink(w);
			w->reply(w, m);
			return;
		}
	/* an answer for a run that has ended */
}

static void
nl_read(evutil_socket_t fd, short ev, void *arg)
{
	static uint8_t		 buf[65536];
	struct sockaddr_nl	 from;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct nl_msg		 m;
	const uint8_t		*p;
	size_t			 left;
	ssize_t			 n;
	int			 budget, r;

	for (budget = 0; budget < NL_READ_BUDGET && nl.fd != -1; budget++) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if ((n = recvmsg(fd, &msg, 0)) == -1) {
			if (errno == ENOBUFS) {
				nl_overrun();
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				log_warn("netlink: recvmsg");
			return;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			nl_overrun();
			continue;
		}
		/* only the kernel speaks here, not another process */
		if (msg.msg_namelen < sizeof(from) || from.nl_pid != 0)
			continue;
		p = buf;
		left = (size_t)n;
		while ((r = netlink_next(&p, &left, &m)) == 1 && nl.fd != -1)
			nl_dispatch(&m);
		if (r == -1)
			log_debug("netlink: malformed message dropped");
	}
}

static int
nl_open(struct event_base *base, char *why, size_t whylen)
{
	static const int	groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
				    RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
				    RTNLGRP_IPV6_ROUTE };
	struct sockaddr_nl	sa;
	socklen_t		sl = sizeof(sa);
	int			fd, rcv = NL_RCVBUF;
	size_t			i;

	if (nl.fd != -1)
		return (0);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (fd == -1)
		goto fail;
	/* a burst of events must not overflow it: FORCE needs
	 * CAP_NET_ADMIN, else rmem_max caps the plain one */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
	    sizeof(rcv)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	for (i = 0; i < NP_NELEM(groups); i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		    &groups[i], sizeof(groups[i])) == -1)
			goto fail;
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) == -1)
		goto fail;
	nl.fd = fd;
	nl.portid = sa.nl_pid;
	nl.ev = event_new(base, fd, EV_READ | EV_PERSIST, nl_read, NULL);
	if (nl.ev == NULL || event_add(nl.ev, NULL) == -1)
		fatalx("netlink: cannot add socket event");
	log_debug("netlink: socket open, port id %u", nl.portid);
	return (0);
fail:
	snprintf(why, whylen, "netlink socket: %s", strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

static void
netlink_shutdown(void)
{
	/* both types name this hook: the second call finds nothing */
	if (nl.ev != NULL)
		event_free(nl.ev);
	if (nl.fd != -1)
		close(nl.fd);
	free(nl.links);
	free(nl.addrs);
	free(nl.watch);
	memset(&nl, 0, sizeof(nl));
	nl.fd = -1;
}

/* ==== link ============================================================ */

/* The run's detail line; cut to fit like every other detail. */
static void	detail(struct probe_run *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
detail(struct probe_run *run, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(run->obs.detail, sizeof(run->obs.detail), fmt, ap);
	va_end(ap);
}

struct link_opts {
	char		**address_in;	/* prefixes; NULL: none */
	int		  require_running;
	uint64_t	  mtu_min;		/* 0: no check */
};

struct link_run {
	struct nl_waiter	 w;
	int			 answered;	/* the cache was read */
	int			 found;
	struct nl_link		 link;
	uint64_t		 changes, last_change;
};

static const struct opt_def link_opt_defs[] = {
	OPT("expect_address_in", OPT_STRLIST, struct link_opts, address_in,
	    1, 16),
	OPT("require_running", OPT_BOOL, struct link_opts, require_running,
	    0, 1),
	OPT("expect_mtu_min", OPT_UINT, struct link_opts, mtu_min, 68,
	    65535),
};

static void
link_opts_default(void *p)
{
	struct link_opts	*o = p;

	o->require_running = 1;
}

static const char *
link_target_parse(const char *in, const void *opts, struct np_addr *addr,
    char *canon, size_t len)
{
	const char	*why;

	if ((why = netlink_ifname_check(in)) != NULL)
		return (why);
	memset(addr, 0, sizeof(*addr));
	snprintf(canon, len, "%s", in);
	return (NULL);
}

/* The probe's network context means nothing to a link: say so. */
static const char *
net_unused(const struct probe_cfg *cfg, const char *type, char *buf,
    size_t len, const char **key)
{
	if (cfg->net.source.ss.ss_family != 0)
		*key = "source";
	else if (cfg->net.ifname[0] != '\0')
		*key = "interface";
	else if (cfg->net.fwmark != 0)
		*key = "fwmark";
	else
		return (NULL);
	snprintf(buf, len, "'%s' does not apply to %s probes (the target "
	    "is the interface)", *key, type);
	return (buf);
}

static const char *
link_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct link_opts	*o = cfg->opts;
	struct nl_prefix	 p;
	const char		*why;
	char			 fixed[64];
	size_t			 i;

	if (net_unused(cfg, "link", buf, len, key) != NULL)
		return (buf);
	for (i = 0; o->address_in != NULL && o->address_in[i] != NULL; i++) {
		*key = "expect_address_in";
		if (netlink_prefix_parse(o->address_in[i], &p, &why) == -1) {
			snprintf(buf, len, "'expect_address_in': \"%s\" is %s",
			    o->address_in[i], why);
			return (buf);
		}
		if (netlink_prefix_has_host_bits(&p)) {
			netlink_prefix_mask(&p);
			netlink_prefix_format(&p, fixed, sizeof(fixed));
			snprintf(buf, len, "'expect_address_in': \"%s\" has "
			    "host bits set (did you mean %s?)",
			    o->address_in[i], fixed);
			return (buf);
		}
	}
	return (NULL);
}

/*
 * Up and running: set up, with carrier, operationally up (RFC 2863).
 * The carrier bit is read as well because the kernel updates
 * IFF_RUNNING only when its link watcher runs, up to a second later.
 */
static int
link_is_up(const struct nl_link *l)
{
	return ((l->flags & IFF_UP) && (l->flags & IFF_RUNNING) &&
	    (l->flags & NL_IFF_LOWER_UP));
}

/* Why a link is not up, in the operator's words. */
static void
link_down_reason(const struct nl_link *l, char *buf, size_t len)
{
	if (!(l->flags & IFF_UP))
		snprintf(buf, len, "administratively down");
	else if (!(l->flags & NL_IFF_LOWER_UP) ||
	    l->operstate == NL_OPER_LOWERLAYERDOWN)
		snprintf(buf, len, "up, but no carrier");
	else
		snprintf(buf, len, "not running (oper state %s)",
		    netlink_oper_name(l->operstate));
}

static int
addr_usable(const struct nl_ifaddr *a)
{
	/* an address still in or failed duplicate address detection
	 * (RFC 4862 section 5.4) cannot be used yet */
	return (!(a->flags & ADDR_STATE_FLAGS));
}

/* Does the link have a usable address inside p?  Lists what it has. */
static int
link_has_addr_in(int index, const struct nl_prefix *p, char *have,
    size_t len)
{
	size_t	i, off = 0;
	char	a[64];
	int	n;

	have[0] = '\0';
	for (i = 0; i < nl.naddrs; i++) {
		if (nl.addrs[i].a.index != index)
			continue;
		if (addr_usable(&nl.addrs[i].a) &&
		    netlink_prefix_contains(p, nl.addrs[i].a.pfx.family,
		    nl.addrs[i].a.pfx.addr))
			return (1);
		if (nl.addrs[i].a.pfx.family != p->family || off >= len)
			continue;
		netlink_prefix_format(&nl.addrs[i].a.pfx, a, sizeof(a));
		n = snprintf(have + off, len - off, "%s%s%s", off ? ", " : "",
		    a, addr_usable(&nl.addrs[i].a) ? "" : " tentative");
		if (n > 0)
			off += (size_t)n;
	}
	return (0);
}

static void
link_eval(struct link_run *r)
{
	struct probe_run	*run = r->w.run;
	const struct link_opts	*o = run->cfg->opts;
	struct nl_link_entry	*e;
	struct nl_prefix	 p;
	char			 have[64], first[64];
	const char		*name = run->cfg->targets[run->target], *why;
	size_t			 i;

	r->answered = 1;
	if ((e = link_by_name(name)) == NULL) {
		probe_log(run, "no interface %s in %zu links", name,
		    nl.nlinks);
		detail(run, "no such interface");
		probe_done(run, PR_BAD_RESPONSE);
		return;
	}
	r->found = 1;
	r->link = e->l;
	probe_log(run, "%s: index %d, flags 0x%x, oper state %s, mtu %u",
	    name, e->l.index, e->l.flags, netlink_oper_name(e->l.operstate),
	    e->l.mtu);
	if (o->require_running && !link_is_up(&e->l)) {
		link_down_reason(&e->l, have, sizeof(have));
		detail(run, "%s", have);
		probe_done(run, PR_BAD_RESPONSE);
		return;
	}
	if (o->mtu_min != 0 && e->l.mtu < o->mtu_min) {
		detail(run, "mtu %u < %llu", e->l.mtu,
		    (unsigned long long)o->mtu_min);
		probe_done(run, PR_BAD_RESPONSE);
		return;
	}
	first[0] = '\0';
	for (i = 0; o->address_in != NULL && o->address_in[i] != NULL; i++) {
		/* validated by link_check() */
		if (netlink_prefix_parse(o->address_in[i], &p, &why) == -1)
			continue;
		if (!link_has_addr_in(e->l.index, &p, have, sizeof(have))) {
			detail(run, "no address in %s (has %s)",
			    o->address_in[i], have[0] ? have : "none");
			probe_done(run, PR_BAD_RESPONSE);
			return;
		}
		if (i == 0)
			snprintf(first, sizeof(first), ", address in %s",
			    o->address_in[i]);
	}
	if (link_is_up(&e->l))
		snprintf(have, sizeof(have), "up");
	else
		link_down_reason(&e->l, have, sizeof(have));
	detail(run, "%s, mtu %u%s", have, e->l.mtu, first);
	probe_done(run, PR_SUCCESS);
}

static void
link_ready(struct nl_waiter *w)
{
	link_eval((struct link_run *)w);
}

static void
link_fail(struct nl_waiter *w, const char *why)
{
	snprintf(w->run->obs.detail, sizeof(w->run->obs.detail), "%s", why);
	probe_done(w->run, PR_ERROR);
}

static void
link_start(struct probe_run *run)
{
	struct link_run	*r = run->state;

	r->w.run = run;
	r->w.ready = link_ready;
	r->w.fail = link_fail;
	watch_use(W_LINK, run->cfg->targets[run->target], NULL);
	if (nl_open(run->base, run->obs.detail,
	    sizeof(run->obs.detail)) == -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	if (nl.loaded) {
		link_eval(r);
		return;
	}
	probe_log(run, "waiting for the kernel's list of links");
	waiter_link(&r->w);
	nl_need_cache();
}

static void
link_finish(struct probe_run *run, int timed_out)
{
	struct link_run	*r = run->state;
	struct nl_watch	*w;

	waiter_unlink(&r->w);
	if ((w = watch_find(W_LINK, run->cfg->targets[run->target],
	    NULL)) != NULL) {
		r->changes = w->changes;
		r->last_change = w->last_change;
	}
	if (timed_out && !r->answered)
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "the kernel's list of links did not arrive in time");
}

enum { L_UP, L_OPER, L_MTU, L_CHANGES, L_LAST, L_CARRIER, L_NUM };

static void
link_attach(struct target_state *ts)
{
	struct store	*st = ts->store;

	ts->extra[L_UP] = target_series(ts, store_family(st,
	    "netprobe_link_up", "Whether the interface is up and running "
	    "(1) or not (0), as the kernel reports it.", METRIC_GAUGE, NULL,
	    0), NULL);
	ts->extra[L_OPER] = target_series(ts, store_family(st,
	    "netprobe_link_oper_state", "Operational state of the "
	    "interface as IF-MIB ifOperStatus: 1 up, 2 down, 3 testing, "
	    "4 unknown, 5 dormant, 6 notPresent, 7 lowerLayerDown.",
	    METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[L_MTU] = target_series(ts, store_family(st,
	    "netprobe_link_mtu_bytes", "MTU of the interface, in bytes.",
	    METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[L_CHANGES] = target_series(ts, store_family(st,
	    "netprobe_link_changes_total", "Changes of the interface "
	    "(state, carrier, MTU, name, addresses) seen in netlink events.",
	    METRIC_COUNTER, NULL, 0), NULL);
	ts->extra[L_LAST] = target_series(ts, store_family(st,
	    "netprobe_link_last_change_timestamp_seconds", "When the last "
	    "change of the interface was seen in a netlink event.",
	    METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[L_CARRIER] = target_series(ts, store_family(st,
	    "netprobe_link_carrier_changes_total", "Carrier changes of the "
	    "interface, as the kernel counts them (IFLA_CARRIER_CHANGES).",
	    METRIC_COUNTER, NULL, 0), NULL);
}

/* Counters from a process-wide count: add what is new since last time. */
static void
counter_catch_up(struct series *s, uint64_t total)
{
	double	have = series_value(s);

	if ((double)total > have)
		series_add(s, (double)total - have);
}

static void
link_record(struct target_state *ts, const struct probe_run *run)
{
	const struct link_run	*r = run->state;

	counter_catch_up(ts->extra[L_CHANGES], r->changes);
	if (r->last_change != 0)
		series_set(ts->extra[L_LAST], (double)r->last_change / 1e9);
	if (!r->answered) {
		series_unset(ts->extra[L_UP]);
		series_unset(ts->extra[L_OPER]);
		series_unset(ts->extra[L_MTU]);
		return;
	}
	if (!r->found) {
		series_set(ts->extra[L_UP], 0);
		series_set(ts->extra[L_OPER], 6);	/* notPresent */
		series_unset(ts->extra[L_MTU]);
		return;
	}
	series_set(ts->extra[L_UP], link_is_up(&r->link));
	series_set(ts->extra[L_OPER],
	    netlink_ifmib_oper_status(r->link.operstate));
	if (r->link.has_mtu)
		series_set(ts->extra[L_MTU], r->link.mtu);
	if (r->link.has_carrier_changes)
		series_set(ts->extra[L_CARRIER], r->link.carrier_changes);
}

const struct probe_type probe_type_link = {
	.name = "link",
	.target_port = NP_PORT_NONE,
	.target_parse = link_target_parse,
	.opts = link_opt_defs,
	.nopts = NP_NELEM(link_opt_defs),
	.opts_size = sizeof(struct link_opts),
	.opts_default = link_opts_default,
	.check = link_check,
	.state_size = sizeof(struct link_run),
	.nextra = L_NUM,
	.start = link_start,
	.finish = link_finish,
	.attach = link_attach,
	.record = link_record,
	.success_word = "up",
	.shutdown = netlink_shutdown,
};

/* ==== route =========================================================== */

static const char *const route_expect_choices[] = { "present", "absent",
    NULL };
enum { EXPECT_PRESENT, EXPECT_ABSENT };

struct route_opts {
	char		*via_interface;
	struct np_addr	 via_gateway;		/* family 0: any */
	int		 expect;
};

struct route_run {
	struct nl_waiter	 w;
	struct nl_prefix	 target;
	int			 got_reply;
	int			 err;		/* lookup errno */
	int			 malformed;
	struct nl_route		 route;
	int			 answered, present;
	char			 ifs[64], gws[128], pfx[64];
	uint64_t		 changes, last_change;
};

static const struct opt_def route_opt_defs[] = {
	OPT("via_interface", OPT_STRING, struct route_opts, via_interface,
	    0, NL_IFNAMSIZ - 1),
	OPT("via_gateway", OPT_ADDR, struct route_opts, via_gateway, 0, 0),
	OPT_CHOICE("expect", struct route_opts, expect,
	    route_expect_choices),
};

static const char *
route_target_parse(const char *in, const void *opts, struct np_addr *addr,
    char *canon, size_t len)
{
	static char		 why[128];
	struct nl_prefix	 p;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&addr->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&addr->ss;
	const char		*reason;
	char			 fixed[64];

	if (netlink_prefix_parse(in, &p, &reason) == -1)
		return (reason);
	if (netlink_prefix_has_host_bits(&p)) {
		netlink_prefix_mask(&p);
		netlink_prefix_format(&p, fixed, sizeof(fixed));
		snprintf(why, sizeof(why), "host bits set (did you mean "
		    "%s?)", fixed);
		return (why);
	}
	memset(addr, 0, sizeof(*addr));
	if (p.family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, p.addr, 4);
		addr->len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, p.addr, 16);
		addr->len = sizeof(*sin6);
	}
	netlink_prefix_format(&p, canon, len);
	return (NULL);
}

static const char *
route_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct route_opts	*o = cfg->opts;
	const char		*why;

	if (o->via_interface != NULL &&
	    (why = netlink_ifname_check(o->via_interface)) != NULL) {
		*key = "via_interface";
		snprintf(buf, len, "'via_interface': \"%s\" is %s",
		    o->via_interface, why);
		return (buf);
	}
	return (NULL);
}

static int
nh_gw_is(const struct nl_nexthop *nh, const struct np_addr *gw)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (nh->gw_family != gw->ss.ss_family)
		return (0);
	if (gw->ss.ss_family == AF_INET) {
		sin = (const struct sockaddr_in *)&gw->ss;
		return (memcmp(nh->gw, &sin->sin_addr, 4) == 0);
	}
	sin6 = (const struct sockaddr_in6 *)&gw->ss;
	return (memcmp(nh->gw, &sin6->sin6_addr, 16) == 0);
}

/* Does this path go where the options say? */
static int
nh_matches(const struct nl_nexthop *nh, const struct route_opts *o,
    int via_index)
{
	if (o->via_interface != NULL && (via_index == 0 ||
	    nh->oif != via_index))
		return (0);
	if (o->via_gateway.ss.ss_family != 0 && !nh_gw_is(nh, &o->via_gateway))
		return (0);
	return (1);
}

/* The route as `ip route` would show it: "10.20.0.0/16 via X dev Y". */
static void
route_describe(struct route_run *r, char *out, size_t len)
{
	const struct nl_route	*rt = &r->route;
	char			 gw[INET6_ADDRSTRLEN], ifb[NL_IFNAMSIZ];
	const char		*ifn;
	size_t			 i, off, ioff = 0, goff = 0;
	int			 n;

	snprintf(r->pfx, sizeof(r->pfx), "%s", "?");
	if (inet_ntop(rt->dst.family, rt->dst.addr, gw, sizeof(gw)) != NULL)
		snprintf(r->pfx, sizeof(r->pfx), "%s/%u", gw, rt->dst.len);
	n = snprintf(out, len, "%s%s", rt->type == RTN_LOCAL ? "local " : "",
	    r->pfx);
	off = n > 0 ? (size_t)n : 0;
	r->ifs[0] = r->gws[0] = '\0';
	for (i = 0; i < rt->nnh; i++) {
		ifn = rt->nh[i].oif ? link_name(rt->nh[i].oif, ifb,
		    sizeof(ifb)) : "";
		gw[0] = '\0';
		if (rt->nh[i].gw_family != 0)
			inet_ntop(rt->nh[i].gw_family, rt->nh[i].gw, gw,
			    sizeof(gw));
		if (off < len) {
			n = snprintf(out + off, len - off, "%s%s%s%s%s",
			    i ? "," : "", gw[0] ? " via " : "", gw,
			    ifn[0] ? " dev " : "", ifn);
			off += n > 0 ? (size_t)n : 0;
		}
		if (ioff < sizeof(r->ifs)) {
			n = snprintf(r->ifs + ioff, sizeof(r->ifs) - ioff,
			    "%s%s", i ? "," : "", ifn);
			ioff += n > 0 ? (size_t)n : 0;
		}
		if (goff < sizeof(r->gws)) {
			n = snprintf(r->gws + goff, sizeof(r->gws) - goff,
			    "%s%s", i ? "," : "", gw);
			goff += n > 0 ? (size_t)n : 0;
		}
	}
}

/* A lookup that failed: which kind of "no route" it was, or -1. */
static const char *
route_absent_reason(int err, uint8_t type)
{
	if (err == 0) {
		switch (type) {
		case RTN_BLACKHOLE:
			return ("blackhole route");
		case RTN_UNREACHABLE:
			return ("unreachable route");
		case RTN_PROHIBIT:
			return ("prohibit route");
		case RTN_THROW:
			return ("throw route");
		default:
			return (NULL);
		}
	}
	/* fib_props[]: the error each route type gives a lookup */
	switch (err) {
	case ENETUNREACH:
		return ("no route (Network is unreachable)");
	case EHOSTUNREACH:
		return ("unreachable route (No route to host)");
	case EACCES:
		return ("prohibit route (Permission denied)");
	case EINVAL:
		return ("blackhole route (Invalid argument)");
	default:
		return (NULL);
	}
}

static void
route_eval(struct route_run *r)
{
	struct probe_run	*run = r->w.run;
	const struct route_opts	*o = run->cfg->opts;
	struct nl_link_entry	*e;
	char			 desc[96], want[96];
	char			 gw[NP_ADDRSTRLEN];
	const char		*absent = NULL;
	size_t			 i, nmatch = 0;
	int			 via_index = 0, match;
	enum probe_result	 res;

	if (r->malformed) {
		detail(run, "malformed netlink answer");
		probe_done(run, PR_ERROR);
		return;
	}
	if (r->err != 0 && (absent = route_absent_reason(r->err, 0)) ==
	    NULL) {
		detail(run, "route lookup: %s", strerror(r->err));
		probe_done(run, PR_ERROR);
		return;
	}
	r->answered = 1;
	desc[0] = '\0';
	if (r->err == 0) {
		route_describe(r, desc, sizeof(desc));
		absent = route_absent_reason(0, r->route.type);
	}
	r->present = absent == NULL;
	probe_log(run, "lookup: %s", absent ? absent : desc);

	if (o->via_interface != NULL && (e = link_by_name(o->via_interface)) !=
	    NULL)
		via_index = e->l.index;
	for (i = 0; r->present && i < r->route.nnh; i++)
		nmatch += nh_matches(&r->route.nh[i], o, via_index) != 0;
	gw[0] = '\0';
	if (o->via_gateway.ss.ss_family != 0)
		format_addr(&o->via_gateway, 0, gw, sizeof(gw));
	snprintf(want, sizeof(want), "%s%s%s%s%s", gw[0] ? "via " : "", gw,
	    gw[0] && o->via_interface ? " " : "",
	    o->via_interface ? "dev " : "",
	    o->via_interface ? o->via_interface : "");

	if (o->expect == EXPECT_PRESENT) {
		/* every path must go the expected way */
		match = r->present && (want[0] == '\0' || (r->route.nnh > 0 &&
		    nmatch == r->route.nnh &&
		    r->route.nnh == r->route.nnh_total));
		if (match)
			detail(run, "%s", desc);
		else if (!r->present)
			detail(run, "%s%s%s", absent, desc[0] ? ": " : "",
			    desc);
		else
			detail(run, "%s, expected %s", desc, want);
		res = match ? PR_SUCCESS : PR_BAD_RESPONSE;
	} else {
		/* not a single path may go that way */
		match = r->present && (want[0] == '\0' || nmatch > 0 ||
		    r->route.nnh < r->route.nnh_total);
		if (!match && !r->present)
			detail(run, "%s%s%s", absent, desc[0] ? ": " : "",
			    desc);
		else if (!match)
			detail(run, "%s, not %s", desc, want);
		else
			detail(run, "route exists: %s", desc);
		res = match ? PR_BAD_RESPONSE : PR_SUCCESS;
	}
	probe_done(run, res);
}

static void
route_ready(struct nl_waiter *w)
{
	route_eval((struct route_run *)w);
}

static void
route_fail(struct nl_waiter *w, const char *why)
{
	snprintf(w->run->obs.detail, sizeof(w->run->obs.detail), "%s", why);
	probe_done(w->run, PR_ERROR);
}

static int	route_ask(struct route_run *);

/* The kernel's answer to our lookup; NULL: it was lost, ask again. */
static void
route_reply(struct nl_waiter *w, const struct nl_msg *m)
{
	struct route_run	*r = (struct route_run *)w;

	if (m == NULL) {
		if (route_ask(r) == -1)
			probe_done(w->run, PR_ERROR);
		return;
	}
	if (m->type == NLMSG_ERROR) {
		/* an acknowledgement (0) is not an answer to a lookup */
		if (netlink_parse_error(m, &r->err) == -1 || r->err == 0)
			r->malformed = 1;
	} else if (m->type == RTM_NEWROUTE) {
		if (netlink_parse_route(m, &r->route) == -1)
			r->malformed = 1;
	} else
		r->malformed = 1;
	r->got_reply = 1;
	if (nl.loaded || r->malformed) {
		route_eval(r);
		return;
	}
	/* interface names come from the cache */
	waiter_link(w);
	nl_need_cache();
}

static int
route_ask(struct route_run *r)
{
	struct probe_run	*run = r->w.run;
	const struct probe_net	*net = &run->cfg->net;
	struct nl_route_query	 q;
	uint8_t			 buf[128];
	size_t			 len;

	memset(&q, 0, sizeof(q));
	q.family = r->target.family;
	memcpy(q.dst, r->target.addr, sizeof(q.dst));
	/* the lookup a packet of this probe's network context would get */
	if (net->source.ss.ss_family == AF_INET && q.family == AF_INET) {
		q.has_src = 1;
		memcpy(q.src, &((const struct sockaddr_in *)
		    &net->source.ss)->sin_addr, 4);
	} else if (net->source.ss.ss_family == AF_INET6 &&
	    q.family == AF_INET6) {
		q.has_src = 1;
		memcpy(q.src, &((const struct sockaddr_in6 *)
		    &net->source.ss)->sin6_addr, 16);
	}
	if (net->ifname[0] != '\0' &&
	    (q.oif = if_nametoindex(net->ifname)) == 0) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "interface %s: %s", net->ifname, strerror(errno));
		return (-1);
	}
	q.mark = net->fwmark;
	r->w.seq = nl_next_seq();
	len = netlink_build_getroute(buf, sizeof(buf), r->w.seq, &q);
	if (len == 0 || nl_send(buf, len) == -1) {
		r->w.seq = 0;
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "netlink: %s", strerror(errno));
		return (-1);
	}
	probe_log(run, "RTM_GETROUTE %s, seq %u",
	    run->cfg->targets[run->target], r->w.seq);
	waiter_link(&r->w);
	return (0);
}

static void
route_start(struct probe_run *run)
{
	struct route_run	*r = run->state;
	const char		*why;

	r->w.run = run;
	r->w.ready = route_ready;
	r->w.reply = route_reply;
	r->w.fail = route_fail;
	if (netlink_prefix_parse(run->cfg->targets[run->target], &r->target,
	    &why) == -1) {
		snprintf(run->obs.detail, sizeof(run->obs.detail), "%s", why);
		probe_done(run, PR_ERROR);
		return;
	}
	watch_use(W_ROUTE, NULL, &r->target);
	if (nl_open(run->base, run->obs.detail,
	    sizeof(run->obs.detail)) == -1 || route_ask(r) == -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	nl_need_cache();
}

static void
route_finish(struct probe_run *run, int timed_out)
{
	struct route_run	*r = run->state;
	struct nl_watch		*w;

	waiter_unlink(&r->w);
	r->w.seq = 0;
	if (r->target.family != 0 &&
	    (w = watch_find(W_ROUTE, NULL, &r->target)) != NULL) {
		r->changes = w->changes;
		r->last_change = w->last_change;
	}
	if (timed_out && !r->answered)
		snprintf(run->obs.detail, sizeof(run->obs.detail), "%s",
		    r->got_reply ? "the kernel's list of links did not "
		    "arrive in time" : "no answer to the route lookup");
}

enum { R_PRESENT, R_INFO, R_CHANGES, R_LAST, R_NUM };

static void
route_attach(struct target_state *ts)
{
	struct store	*st = ts->store;

	ts->extra[R_PRESENT] = target_series(ts, store_family(st,
	    "netprobe_route_present", "Whether the kernel has a usable "
	    "route to the target (1) or none, or a blackhole, unreachable "
	    "or prohibit route (0).", METRIC_GAUGE, NULL, 0), NULL);
	store_family(st, "netprobe_route_info", "The kernel's route to the "
	    "target: the matching prefix, its interfaces and gateways "
	    "(comma-separated for several paths); always 1.", METRIC_GAUGE,
	    NULL, 0);
	ts->extra[R_CHANGES] = target_series(ts, store_family(st,
	    "netprobe_route_changes_total", "Route additions and removals "
	    "for prefixes overlapping the target, seen in netlink events.",
	    METRIC_COUNTER, NULL, 0), NULL);
	ts->extra[R_LAST] = target_series(ts, store_family(st,
	    "netprobe_route_last_change_timestamp_seconds", "When the last "
	    "route change overlapping the target was seen.", METRIC_GAUGE,
	    NULL, 0), NULL);
}

static void
route_record(struct target_state *ts, const struct probe_run *run)
{
	const struct route_run	*r = run->state;
	struct series		*info = NULL;

	counter_catch_up(ts->extra[R_CHANGES], r->changes);
	if (r->last_change != 0)
		series_set(ts->extra[R_LAST], (double)r->last_change / 1e9);
	if (!r->answered)
		series_unset(ts->extra[R_PRESENT]);
	else
		series_set(ts->extra[R_PRESENT], r->present);
	if (r->answered && r->present) {
		/* one series, replaced when the route changes */
		info = target_series(ts, store_family(ts->store,
		    "netprobe_route_info", "", METRIC_GAUGE, NULL, 0),
		    "prefix", r->pfx, "interface", r->ifs, "gateway", r->gws,
		    NULL);
		series_set(info, 1);
	}
	if (ts->extra[R_INFO] != info)
		store_release(ts->store, ts->extra[R_INFO]);
	ts->extra[R_INFO] = info;
}

const struct probe_type probe_type_route = {
	.name = "route",
	.target_port = NP_PORT_NONE,
	.target_parse = route_target_parse,
	.opts = route_opt_defs,
	.nopts = NP_NELEM(route_opt_defs),
	.opts_size = sizeof(struct route_opts),
	.check = route_check,
	.state_size = sizeof(struct route_run),
	.nextra = R_NUM,
	.start = route_start,
	.finish = route_finish,
	.attach = route_attach,
	.record = route_record,
	.success_word = "ok",
	.shutdown = netlink_shutdown,
};
