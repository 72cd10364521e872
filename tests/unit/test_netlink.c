/*
 * rtnetlink codec of the link and route probes (probes/netlink.h):
 * messages the kernel sends (one captured from Linux 6.18, the rest
 * built here), every truncation and corruption of them, the requests we
 * build, prefixes and interface names; then the link, route and pmtu
 * options through the config loader, with their exact error messages.
 *
 * Every parse runs on a heap copy of exactly the message's length, so
 * an overread shows under ASan and valgrind.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>

#include "daemon/netprobed.h"
#include "probes/netlink.h"
#include "probes/probe.h"

#define NAME	"t.yaml"

/* ---- building messages ------------------------------------------------ */

struct mb {
	uint8_t	buf[4096];
	size_t	len;
};

static void
mb_put(struct mb *b, const void *p, size_t len)
{
	assert_true(b->len + NLMSG_ALIGN(len) <= sizeof(b->buf));
	memcpy(b->buf + b->len, p, len);
	memset(b->buf + b->len + len, 0, NLMSG_ALIGN(len) - len);
	b->len += NLMSG_ALIGN(len);
}

static void
mb_hdr(struct mb *b, uint16_t type, uint32_t seq, uint32_t pid)
{
	struct nlmsghdr	h;

	memset(b, 0, sizeof(*b));
	memset(&h, 0, sizeof(h));
	h.nlmsg_type = type;
	h.nlmsg_seq = seq;
	h.nlmsg_pid = pid;
	mb_put(b, &h, sizeof(h));
}

static void
mb_attr(struct mb *b, uint16_t type, const void *p, size_t len)
{
	struct rtattr	a;

	a.rta_len = (unsigned short)RTA_LENGTH(len);
	a.rta_type = type;
	memcpy(b->buf + b->len, &a, sizeof(a));
	b->len += sizeof(a);
	mb_put(b, p, len);
}

static void
mb_u32(struct mb *b, uint16_t type, uint32_t v)
{
	mb_attr(b, type, &v, sizeof(v));
}

/* Set nlmsg_len to what was written. */
static void
mb_end(struct mb *b)
{
	uint32_t	len = (uint32_t)b->len;

	memcpy(b->buf, &len, sizeof(len));
}

/* A message of `len` bytes on the heap, exactly: overreads show. */
struct heapmsg {
	uint8_t		*copy;
	struct nl_msg	 m;
	int		 r;
};

static void
heap_next(struct heapmsg *h, const uint8_t *p, size_t len)
{
	const uint8_t	*q;
	size_t		 left = len;

	h->copy = malloc(len ? len : 1);
	assert_non_null(h->copy);
	memcpy(h->copy, p, len);
	q = h->copy;
	h->r = netlink_next(&q, &left, &h->m);
}

static void
link_msg(struct mb *b, int index, unsigned flags, const char *name,
    uint32_t mtu, uint8_t oper)
{
	struct ifinfomsg	ifi;

	mb_hdr(b, RTM_NEWLINK, 0, 0);
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_index = index;
	ifi.ifi_flags = flags;
	mb_put(b, &ifi, sizeof(ifi));
	if (name != NULL)
		mb_attr(b, IFLA_IFNAME, name, strlen(name) + 1);
	mb_u32(b, IFLA_MTU, mtu);
	mb_attr(b, IFLA_OPERSTATE, &oper, 1);
	mb_u32(b, IFLA_CARRIER_CHANGES, 7);
	mb_end(b);
}

static void
addr_msg(struct mb *b, int family, unsigned plen, int index,
    const char *addr, const char *local, int flags32)
{
	struct ifaddrmsg	ifa;
	uint8_t			a[16];
	size_t			alen = family == AF_INET ? 4 : 16;

	mb_hdr(b, RTM_NEWADDR, 0, 0);
	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = (unsigned char)family;
	ifa.ifa_prefixlen = (unsigned char)plen;
	ifa.ifa_flags = IFA_F_PERMANENT;
	ifa.ifa_index = (uint32_t)index;
	mb_put(b, &ifa, sizeof(ifa));
	if (addr != NULL) {
		assert_int_equal(inet_pton(family, addr, a), 1);
		mb_attr(b, IFA_ADDRESS, a, alen);
	}
	if (local != NULL) {
		assert_int_equal(inet_pton(family, local, a), 1);
		mb_attr(b, IFA_LOCAL, a, alen);
	}
	if (flags32 >= 0)
		mb_u32(b, IFA_FLAGS, (uint32_t)flags32);
	mb_end(b);
}

static void
route_hdr(struct mb *b, int family, unsigned dst_len, uint8_t type)
{
	struct rtmsg	rtm;

	mb_hdr(b, RTM_NEWROUTE, 9, 4242);
	memset(&rtm, 0, sizeof(rtm));
	rtm.rtm_family = (unsigned char)family;
	rtm.rtm_dst_len = (unsigned char)dst_len;
	rtm.rtm_table = RT_TABLE_MAIN;
	rtm.rtm_type = type;
	mb_put(b, &rtm, sizeof(rtm));
}

static void
mb_addr(struct mb *b, uint16_t type, int family, const char *text)
{
	uint8_t	a[16];

	assert_int_equal(inet_pton(family, text, a), 1);
	mb_attr(b, type, a, family == AF_INET ? 4 : 16);
}

/* ---- iteration -------------------------------------------------------- */

static void
test_next(void **state)
{
	struct mb	 b, two;
	struct nl_msg	 m;
	const uint8_t	*p;
	uint8_t		 odd[sizeof(b.buf) + 1];
	size_t		 left;
	uint32_t	 bad;

	link_msg(&b, 3, IFF_UP, "eth0", 1500, 6);
	/* two messages in one datagram */
	memcpy(two.buf, b.buf, b.len);
	memcpy(two.buf + b.len, b.buf, b.len);
	p = two.buf;
	left = 2 * b.len;
	assert_int_equal(netlink_next(&p, &left, &m), 1);
	assert_int_equal(m.type, RTM_NEWLINK);
	assert_int_equal(m.len, b.len - 16);
	assert_int_equal(netlink_next(&p, &left, &m), 1);
	assert_int_equal(netlink_next(&p, &left, &m), 0);

	/* at an odd address: the codec copies, it does not cast */
	memcpy(odd + 1, b.buf, b.len);
	p = odd + 1;
	left = b.len;
	assert_int_equal(netlink_next(&p, &left, &m), 1);
	assert_int_equal(m.seq, 0);

	/* a header cut short, a length below the header, one too long */
	p = b.buf;
	left = 15;
	assert_int_equal(netlink_next(&p, &left, &m), -1);
	bad = 15;
	memcpy(b.buf, &bad, 4);
	p = b.buf;
	left = b.len;
	assert_int_equal(netlink_next(&p, &left, &m), -1);
	bad = (uint32_t)b.len + 1;
	memcpy(b.buf, &bad, 4);
	p = b.buf;
	left = b.len;
	assert_int_equal(netlink_next(&p, &left, &m), -1);
	/* a last message without its alignment padding still ends cleanly */
	link_msg(&b, 3, IFF_UP, "eth", 1500, 6);
	bad = (uint32_t)b.len - 3;
	memcpy(b.buf, &bad, 4);
	p = b.buf;
	left = b.len - 3;
	assert_int_equal(netlink_next(&p, &left, &m), 1);
	assert_int_equal(left, 0);
}

/* ---- links ------------------------------------------------------------ */

static void
test_link(void **state)
{
	struct mb	b;
	struct heapmsg	h;
	struct nl_link	l;

	link_msg(&b, 7, IFF_UP | IFF_RUNNING | 0x10000, "vA", 1400, 6);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(h.r, 1);
	assert_int_equal(netlink_parse_link(&h.m, &l), 0);
	assert_int_equal(l.index, 7);
	assert_string_equal(l.name, "vA");
	assert_true(l.flags & IFF_RUNNING);
	assert_true(l.has_mtu);
	assert_int_equal(l.mtu, 1400);
	assert_true(l.has_operstate);
	assert_int_equal(l.operstate, 6);
	assert_true(l.has_carrier_changes);
	assert_int_equal(l.carrier_changes, 7);
	free(h.copy);

	/* a 15-character name is the longest */
	link_msg(&b, 7, 0, "abcdefghijklmno", 1500, 2);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), 0);
	assert_string_equal(l.name, "abcdefghijklmno");
	free(h.copy);
	/* no name at all (a partial message) is fine */
	link_msg(&b, 7, 0, NULL, 1500, 2);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), 0);
	assert_string_equal(l.name, "");
	free(h.copy);
}

static void
test_link_hostile(void **state)
{
	struct mb		b;
	struct heapmsg		h;
	struct nl_link		l;
	struct ifinfomsg	ifi;
	uint16_t		mtu16 = 1500;

	/* 16 characters, empty, or no NUL: not a name */
	link_msg(&b, 7, 0, "abcdefghijklmnop", 1500, 2);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);
	link_msg(&b, 7, 0, "", 1500, 2);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);
	mb_hdr(&b, RTM_NEWLINK, 0, 0);
	memset(&ifi, 0, sizeof(ifi));
	ifi.ifi_index = 1;
	mb_put(&b, &ifi, sizeof(ifi));
	mb_attr(&b, IFLA_IFNAME, "eth0", 4);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);

	/* an MTU of the wrong size */
	mb_hdr(&b, RTM_NEWLINK, 0, 0);
	mb_put(&b, &ifi, sizeof(ifi));
	mb_attr(&b, IFLA_MTU, &mtu16, sizeof(mtu16));
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);

	/* index 0 or negative */
	link_msg(&b, 0, 0, "x", 1500, 2);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);
	link_msg(&b, -5, 0, "x", 1500, 2);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);

	/* the last attribute claims more than the message holds */
	link_msg(&b, 3, 0, "eth0", 1500, 2);
	b.buf[b.len - 8] = 0x40;	/* IFLA_CARRIER_CHANGES rta_len */
	heap_next(&h, b.buf, b.len);
	assert_int_equal(h.r, 1);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);
	/* an attribute length below its own header */
	link_msg(&b, 3, 0, "eth0", 1500, 2);
	b.buf[b.len - 8] = 2;
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_link(&h.m, &l), -1);
	free(h.copy);
}

/* Every prefix of a good message, and every byte flipped: no crash. */
static void
truncate_and_flip(const uint8_t *msg, size_t len)
{
	struct heapmsg		h;
	struct nl_link		l;
	struct nl_ifaddr	a;
	struct nl_route		r;
	uint8_t			buf[4096];
	size_t			n, i;
	int			bit, err;

	assert_true(len <= sizeof(buf));
	for (n = 0; n <= len; n++) {
		/* the header's length still says the full size */
		heap_next(&h, msg, n);
		assert_int_equal(h.r, n == 0 ? 0 : n < len ? -1 : 1);
		free(h.copy);
		/* and with the header saying the cut size: attributes cut */
		if (n < 16)
			continue;
		memcpy(buf, msg, n);
		memcpy(buf, &(uint32_t){ (uint32_t)n }, 4);
		heap_next(&h, buf, n);
		assert_int_equal(h.r, 1);
		(void)netlink_parse_link(&h.m, &l);
		(void)netlink_parse_addr(&h.m, &a);
		(void)netlink_parse_route(&h.m, &r);
		(void)netlink_parse_error(&h.m, &err);
		(void)netlink_parse_done(&h.m, &err);
		free(h.copy);
	}
	for (i = 16; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(buf, msg, len);
			buf[i] ^= (uint8_t)(1 << bit);
			heap_next(&h, buf, len);
			(void)netlink_parse_link(&h.m, &l);
			(void)netlink_parse_addr(&h.m, &a);
			(void)netlink_parse_route(&h.m, &r);
			assert_true(r.nnh <= NL_MAX_NEXTHOPS);
			free(h.copy);
		}
}

static void
test_link_truncated(void **state)
{
	struct mb	b;

	link_msg(&b, 3, IFF_UP, "eth0", 1500, 6);
	truncate_and_flip(b.buf, b.len);
}

/* ---- addresses -------------------------------------------------------- */

static void
test_addr(void **state)
{
	struct mb		b;
	struct heapmsg		h;
	struct nl_ifaddr	a;
	char			txt[64];

	addr_msg(&b, AF_INET, 16, 4, "10.30.0.1", "10.30.0.1", -1);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), 0);
	assert_int_equal(a.index, 4);
	assert_int_equal(a.pfx.family, AF_INET);
	assert_int_equal(a.pfx.len, 16);
	netlink_prefix_format(&a.pfx, txt, sizeof(txt));
	assert_string_equal(txt, "10.30.0.1/16");
	assert_int_equal(a.flags, IFA_F_PERMANENT);
	free(h.copy);

	/* point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL is ours */
	addr_msg(&b, AF_INET, 32, 4, "10.30.0.2", "10.30.0.1", -1);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), 0);
	netlink_prefix_format(&a.pfx, txt, sizeof(txt));
	assert_string_equal(txt, "10.30.0.1");
	free(h.copy);

	/* IPv6, IFA_FLAGS replaces the u8 flags (tentative is bit 6) */
	addr_msg(&b, AF_INET6, 64, 2, "2001:db8::1", NULL,
	    IFA_F_TENTATIVE | IFA_F_NOPREFIXROUTE);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), 0);
	assert_int_equal(a.flags, IFA_F_TENTATIVE | IFA_F_NOPREFIXROUTE);
	netlink_prefix_format(&a.pfx, txt, sizeof(txt));
	assert_string_equal(txt, "2001:db8::1/64");
	free(h.copy);

	truncate_and_flip(b.buf, b.len);
}

static void
test_addr_hostile(void **state)
{
	struct mb		b;
	struct heapmsg		h;
	struct nl_ifaddr	a;
	struct ifaddrmsg	ifa;
	uint8_t			v4[4] = { 10, 0, 0, 1 };

	/* no address attribute */
	addr_msg(&b, AF_INET, 24, 2, NULL, NULL, -1);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), -1);
	free(h.copy);
	/* a prefix length longer than the family allows */
	addr_msg(&b, AF_INET, 33, 2, "10.0.0.1", NULL, -1);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), -1);
	free(h.copy);
	/* a 4-byte address in an IPv6 message */
	mb_hdr(&b, RTM_NEWADDR, 0, 0);
	memset(&ifa, 0, sizeof(ifa));
	ifa.ifa_family = AF_INET6;
	ifa.ifa_prefixlen = 64;
	ifa.ifa_index = 2;
	mb_put(&b, &ifa, sizeof(ifa));
	mb_attr(&b, IFA_ADDRESS, v4, sizeof(v4));
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), -1);
	free(h.copy);
	/* a family we do not know, an index of 0 */
	ifa.ifa_family = AF_PACKET;
	mb_hdr(&b, RTM_NEWADDR, 0, 0);
	mb_put(&b, &ifa, sizeof(ifa));
	mb_attr(&b, IFA_ADDRESS, v4, sizeof(v4));
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), -1);
	free(h.copy);
	addr_msg(&b, AF_INET, 24, 0, "10.0.0.1", NULL, -1);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), -1);
	free(h.copy);
	/* shorter than struct ifaddrmsg */
	mb_hdr(&b, RTM_NEWADDR, 0, 0);
	mb_put(&b, &ifa, 4);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_addr(&h.m, &a), -1);
	free(h.copy);
}

/* ---- routes ----------------------------------------------------------- */

/*
 * `ip route add 10.30.0.0/16 nexthop via 10.9.0.2 dev v0 nexthop via
 * 10.8.0.2 dev v2`, then RTM_GETROUTE fibmatch for 10.30.0.1: the reply
 * of Linux 6.18 as received (v0 is index 3, v2 index 5).
 */
static const uint8_t multipath_reply[] = {
	0x50, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
	0x9c, 0x3a, 0x00, 0x00, 0x02, 0x10, 0x00, 0x00, 0xfe, 0x03, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0f, 0x00, 0xfe, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x01, 0x00, 0x0a, 0x1e, 0x00, 0x00, 0x24, 0x00, 0x09, 0x00,
	0x10, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x05, 0x00,
	0x0a, 0x09, 0x00, 0x02, 0x10, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x05, 0x00, 0x0a, 0x08, 0x00, 0x02,
};

/* `ip route add 10.33.0.0/16 via inet6 2001:db8:9::2 dev v0`: RTA_VIA. */
static const uint8_t via_reply[] = {
	0x4c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
	0x9c, 0x3a, 0x00, 0x00, 0x02, 0x10, 0x00, 0x00, 0xfe, 0x03, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0f, 0x00, 0xfe, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x01, 0x00, 0x0a, 0x21, 0x00, 0x00, 0x16, 0x00, 0x12, 0x00,
	0x0a, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x08, 0x00, 0x04, 0x00,
	0x03, 0x00, 0x00, 0x00,
};

static void
test_route_captured(void **state)
{
	struct heapmsg	h;
	struct nl_route	r;
	char		txt[64];
	uint8_t		gw[16];

	heap_next(&h, multipath_reply, sizeof(multipath_reply));
	assert_int_equal(h.r, 1);
	assert_int_equal(h.m.type, RTM_NEWROUTE);
	assert_int_equal(h.m.seq, 7);
	assert_int_equal(netlink_parse_route(&h.m, &r), 0);
	netlink_prefix_format(&r.dst, txt, sizeof(txt));
	assert_string_equal(txt, "10.30.0.0/16");
	assert_int_equal(r.type, RTN_UNICAST);
	assert_int_equal(r.table, RT_TABLE_MAIN);
	assert_int_equal(r.nnh, 2);
	assert_int_equal(r.nnh_total, 2);
	assert_int_equal(r.nh[0].oif, 3);
	assert_int_equal(r.nh[0].gw_family, AF_INET);
	inet_pton(AF_INET, "10.9.0.2", gw);
	assert_memory_equal(r.nh[0].gw, gw, 4);
	assert_int_equal(r.nh[1].oif, 5);
	inet_pton(AF_INET, "10.8.0.2", gw);
	assert_memory_equal(r.nh[1].gw, gw, 4);
	free(h.copy);
	truncate_and_flip(multipath_reply, sizeof(multipath_reply));

	heap_next(&h, via_reply, sizeof(via_reply));
	assert_int_equal(netlink_parse_route(&h.m, &r), 0);
	assert_int_equal(r.nnh, 1);
	assert_int_equal(r.nh[0].oif, 3);
	assert_int_equal(r.nh[0].gw_family, AF_INET6);
	inet_pton(AF_INET6, "2001:db8:9::2", gw);
	assert_memory_equal(r.nh[0].gw, gw, 16);
	free(h.copy);
	truncate_and_flip(via_reply, sizeof(via_reply));
}

static void
test_route_built(void **state)
{
	struct mb		b;
	struct heapmsg		h;
	struct nl_route		r;
	struct rtnexthop	nh;
	uint8_t			mp[2048], gw[4];
	size_t			mplen = 0;
	unsigned		i;
	char			txt[64];

	/* the default route of IPv6: no RTA_DST, a gateway */
	route_hdr(&b, AF_INET6, 0, RTN_UNICAST);
	mb_u32(&b, RTA_TABLE, 254);
	mb_addr(&b, RTA_GATEWAY, AF_INET6, "fe80::1");
	mb_u32(&b, RTA_OIF, 2);
	mb_addr(&b, RTA_PREFSRC, AF_INET6, "2001:db8::5");
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), 0);
	netlink_prefix_format(&r.dst, txt, sizeof(txt));
	assert_string_equal(txt, "::/0");
	assert_int_equal(r.nnh, 1);
	assert_int_equal(r.nh[0].oif, 2);
	assert_int_equal(r.nh[0].gw_family, AF_INET6);
	assert_true(r.has_prefsrc);
	free(h.copy);

	/* a blackhole route: present in the FIB, no path */
	route_hdr(&b, AF_INET, 16, RTN_BLACKHOLE);
	mb_addr(&b, RTA_DST, AF_INET, "10.21.0.0");
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), 0);
	assert_int_equal(r.type, RTN_BLACKHOLE);
	assert_int_equal(r.nnh, 0);
	free(h.copy);

	/* 20 paths: the first 16 kept, all 20 counted */
	for (i = 0; i < 20; i++) {
		memset(&nh, 0, sizeof(nh));
		nh.rtnh_len = (unsigned short)RTNH_LENGTH(RTA_SPACE(4));
		nh.rtnh_ifindex = (int)i + 1;
		memcpy(mp + mplen, &nh, sizeof(nh));
		mplen += sizeof(nh);
		gw[0] = 10;
		gw[1] = 0;
		gw[2] = 0;
		gw[3] = (uint8_t)i;
		memcpy(mp + mplen, &(struct rtattr){ RTA_LENGTH(4),
		    RTA_GATEWAY }, sizeof(struct rtattr));
		memcpy(mp + mplen + 4, gw, 4);
		mplen += RTA_SPACE(4);
	}
	route_hdr(&b, AF_INET, 8, RTN_UNICAST);
	mb_addr(&b, RTA_DST, AF_INET, "10.0.0.0");
	mb_attr(&b, RTA_MULTIPATH, mp, mplen);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), 0);
	assert_int_equal(r.nnh, NL_MAX_NEXTHOPS);
	assert_int_equal(r.nnh_total, 20);
	assert_int_equal(r.nh[15].oif, 16);
	assert_int_equal(r.nh[15].gw[3], 15);
	free(h.copy);

	/* a path whose length runs past RTA_MULTIPATH */
	nh.rtnh_len = 200;
	memcpy(mp, &nh, sizeof(nh));
	route_hdr(&b, AF_INET, 8, RTN_UNICAST);
	mb_attr(&b, RTA_MULTIPATH, mp, 16);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
	/* a path shorter than struct rtnexthop */
	nh.rtnh_len = 4;
	memcpy(mp, &nh, sizeof(nh));
	route_hdr(&b, AF_INET, 8, RTN_UNICAST);
	mb_attr(&b, RTA_MULTIPATH, mp, 8);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
	/* trailing bytes that cannot be a path */
	nh.rtnh_len = 8;
	memcpy(mp, &nh, sizeof(nh));
	route_hdr(&b, AF_INET, 8, RTN_UNICAST);
	mb_attr(&b, RTA_MULTIPATH, mp, 12);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
}

static void
test_route_hostile(void **state)
{
	struct mb	b;
	struct heapmsg	h;
	struct nl_route	r;
	uint8_t		via[6] = { AF_INET6, 0, 1, 2, 3, 4 };
	uint32_t	big = 0x80000000u;

	/* /33 for IPv4; an unknown family */
	route_hdr(&b, AF_INET, 33, RTN_UNICAST);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
	route_hdr(&b, AF_UNSPEC, 0, RTN_UNICAST);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
	/* an IPv6 gateway in RTA_GATEWAY of an IPv4 route */
	route_hdr(&b, AF_INET, 0, RTN_UNICAST);
	mb_addr(&b, RTA_GATEWAY, AF_INET6, "2001:db8::1");
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
	/* RTA_VIA saying IPv6 but carrying 4 bytes */
	route_hdr(&b, AF_INET, 0, RTN_UNICAST);
	mb_attr(&b, RTA_VIA, via, sizeof(via));
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
	/* an interface index that does not fit an int */
	route_hdr(&b, AF_INET, 0, RTN_UNICAST);
	mb_u32(&b, RTA_OIF, big);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
	/* shorter than struct rtmsg */
	mb_hdr(&b, RTM_NEWROUTE, 1, 1);
	mb_put(&b, via, 4);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_route(&h.m, &r), -1);
	free(h.copy);
}

/* ---- errors and ends of dumps ----------------------------------------- */

static void
test_error_done(void **state)
{
	struct mb	b;
	struct heapmsg	h;
	int32_t		e;
	int		err;

	mb_hdr(&b, NLMSG_ERROR, 5, 99);
	e = -101;			/* -ENETUNREACH */
	mb_put(&b, &e, 4);
	mb_put(&b, b.buf, 16);		/* the request's header follows */
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_error(&h.m, &err), 0);
	assert_int_equal(err, 101);
	free(h.copy);
	/* an acknowledgement */
	e = 0;
	memcpy(b.buf + 16, &e, 4);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_error(&h.m, &err), 0);
	assert_int_equal(err, 0);
	free(h.copy);
	/* not an errno: positive, or beyond -4095 */
	e = 5;
	memcpy(b.buf + 16, &e, 4);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_error(&h.m, &err), -1);
	free(h.copy);
	e = -5000;
	memcpy(b.buf + 16, &e, 4);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_error(&h.m, &err), -1);
	free(h.copy);
	/* no room for the error code */
	mb_hdr(&b, NLMSG_ERROR, 5, 99);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_error(&h.m, &err), -1);
	/* NLMSG_DONE may be empty: a clean end */
	assert_int_equal(netlink_parse_done(&h.m, &err), 0);
	assert_int_equal(err, 0);
	free(h.copy);
	mb_hdr(&b, NLMSG_DONE, 5, 99);
	e = -16;		/* -EBUSY */
	mb_put(&b, &e, 4);
	mb_end(&b);
	heap_next(&h, b.buf, b.len);
	assert_int_equal(netlink_parse_done(&h.m, &err), 0);
	assert_int_equal(err, 16);
	free(h.copy);
}

/* ---- requests --------------------------------------------------------- */

static void
test_build(void **state)
{
	uint8_t			buf[256], dst[4], src[4];
	struct nlmsghdr		hdr;
	struct rtmsg		rtm;
	struct rtattr		a;
	struct nl_route_query	q;
	size_t			len, off;
	uint32_t		v;

	len = netlink_build_dump(buf, sizeof(buf), RTM_GETLINK, 77);
	assert_int_equal(len, 16 + 16 + 8);
	memcpy(&hdr, buf, sizeof(hdr));
	assert_int_equal(hdr.nlmsg_len, len);
	assert_int_equal(hdr.nlmsg_type, RTM_GETLINK);
	assert_int_equal(hdr.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(hdr.nlmsg_seq, 77);
	assert_int_equal(buf[16], AF_UNSPEC);
	memcpy(&a, buf + 32, sizeof(a));
	assert_int_equal(a.rta_type, IFLA_EXT_MASK);
	assert_int_equal(a.rta_len, 8);
	memcpy(&v, buf + 36, 4);
	assert_int_equal(v, RTEXT_FILTER_SKIP_STATS);

	len = netlink_build_dump(buf, sizeof(buf), RTM_GETADDR, 78);
	assert_int_equal(len, 16 + 8);
	memcpy(&hdr, buf, sizeof(hdr));
	assert_int_equal(hdr.nlmsg_type, RTM_GETADDR);
	assert_int_equal(netlink_build_dump(buf, sizeof(buf), RTM_GETROUTE,
	    1), 0);
	assert_int_equal(netlink_build_dump(buf, 39, RTM_GETLINK, 1), 0);

	/* a lookup with a source, an interface and a mark */
	memset(&q, 0, sizeof(q));
	q.family = AF_INET;
	inet_pton(AF_INET, "10.20.0.10", dst);
	inet_pton(AF_INET, "10.213.0.1", src);
	memcpy(q.dst, dst, 4);
	q.has_src = 1;
	memcpy(q.src, src, 4);
	q.oif = 3;
	q.mark = 0x10;
	len = netlink_build_getroute(buf, sizeof(buf), 9, &q);
	assert_int_equal(len, 16 + 12 + 8 + 8 + 8 + 8);
	memcpy(&hdr, buf, sizeof(hdr));
	assert_int_equal(hdr.nlmsg_type, RTM_GETROUTE);
	assert_int_equal(hdr.nlmsg_flags, NLM_F_REQUEST);
	memcpy(&rtm, buf + 16, sizeof(rtm));
	assert_int_equal(rtm.rtm_family, AF_INET);
	assert_int_equal(rtm.rtm_dst_len, 32);
	assert_int_equal(rtm.rtm_src_len, 32);
	assert_int_equal(rtm.rtm_flags, RTM_F_FIB_MATCH);
	off = 28;
	memcpy(&a, buf + off, sizeof(a));
	assert_int_equal(a.rta_type, RTA_DST);
	assert_memory_equal(buf + off + 4, dst, 4);
	off += 8;
	memcpy(&a, buf + off, sizeof(a));
	assert_int_equal(a.rta_type, RTA_SRC);
	assert_memory_equal(buf + off + 4, src, 4);
	off += 8;
	memcpy(&a, buf + off, sizeof(a));
	assert_int_equal(a.rta_type, RTA_OIF);
	off += 8;
	memcpy(&a, buf + off, sizeof(a));
	assert_int_equal(a.rta_type, RTA_MARK);
	memcpy(&v, buf + off + 4, 4);
	assert_int_equal(v, 0x10);

	/* IPv6, nothing else: header, rtmsg and RTA_DST only */
	memset(&q, 0, sizeof(q));
	q.family = AF_INET6;
	len = netlink_build_getroute(buf, sizeof(buf), 10, &q);
	assert_int_equal(len, 16 + 12 + 20);
	memcpy(&rtm, buf + 16, sizeof(rtm));
	assert_int_equal(rtm.rtm_dst_len, 128);
	assert_int_equal(rtm.rtm_src_len, 0);
	assert_int_equal(netlink_build_getroute(buf, 47, 10, &q), 0);
	q.family = AF_UNSPEC;
	assert_int_equal(netlink_build_getroute(buf, sizeof(buf), 10, &q), 0);
}

/* ---- prefixes and names ----------------------------------------------- */

static void
test_prefix(void **state)
{
	struct nl_prefix	p, q;
	const char		*why;
	char			txt[64];
	uint8_t			a[16];
	static const char *const bad[] = { "", "/8", "10.0.0.0/", "10.0.0.0/33",
	    "10.0.0.0/1a", "10.0.0.0/-1", "10.0.0.0/ 8", "::/129",
	    "10.0.0.0/0008", "fe80::1%eth0", "[::1]", "10.1", "host",
	    "10.0.0.0/8/8", "10.0.0.256" };
	size_t			i;

	for (i = 0; i < NP_NELEM(bad); i++) {
		why = NULL;
		if (netlink_prefix_parse(bad[i], &p, &why) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(why);
	}
	assert_int_equal(netlink_prefix_parse("10.0.0.0/33", &p, &why), -1);
	assert_string_equal(why, "the prefix length must be 0 to 32");
	assert_int_equal(netlink_prefix_parse("::/129", &p, &why), -1);
	assert_string_equal(why, "the prefix length must be 0 to 128");

	assert_int_equal(netlink_prefix_parse("10.20.0.0/16", &p, &why), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 16);
	assert_false(netlink_prefix_has_host_bits(&p));
	netlink_prefix_format(&p, txt, sizeof(txt));
	assert_string_equal(txt, "10.20.0.0/16");
	inet_pton(AF_INET, "10.20.255.1", a);
	assert_true(netlink_prefix_contains(&p, AF_INET, a));
	inet_pton(AF_INET, "10.21.0.1", a);
	assert_false(netlink_prefix_contains(&p, AF_INET, a));
	assert_false(netlink_prefix_contains(&p, AF_INET6, a));

	/* an address alone is a full-length prefix, shown bare */
	assert_int_equal(netlink_prefix_parse("10.20.0.10", &p, &why), 0);
	assert_int_equal(p.len, 32);
	netlink_prefix_format(&p, txt, sizeof(txt));
	assert_string_equal(txt, "10.20.0.10");
	assert_int_equal(netlink_prefix_parse("10.20.0.10/32", &q, &why), 0);
	assert_memory_equal(&p, &q, sizeof(p));

	/* host bits, and masking them (odd lengths too) */
	assert_int_equal(netlink_prefix_parse("10.20.7.1/20", &p, &why), 0);
	assert_true(netlink_prefix_has_host_bits(&p));
	netlink_prefix_mask(&p);
	netlink_prefix_format(&p, txt, sizeof(txt));
	assert_string_equal(txt, "10.20.0.0/20");
	assert_int_equal(netlink_prefix_parse("2001:DB8:ffff::1/35", &p,
	    &why), 0);
	netlink_prefix_mask(&p);
	netlink_prefix_format(&p, txt, sizeof(txt));
	assert_string_equal(txt, "2001:db8:e000::/35");
	assert_int_equal(netlink_prefix_parse("0.0.0.0/0", &p, &why), 0);
	inet_pton(AF_INET, "203.0.113.9", a);
	assert_true(netlink_prefix_contains(&p, AF_INET, a));

	/* overlap: either contains the other */
	netlink_prefix_parse("10.20.0.0/16", &p, &why);
	netlink_prefix_parse("10.20.5.0/24", &q, &why);
	assert_true(netlink_prefix_overlap(&p, &q));
	assert_true(netlink_prefix_overlap(&q, &p));
	netlink_prefix_parse("0.0.0.0/0", &q, &why);
	assert_true(netlink_prefix_overlap(&p, &q));
	netlink_prefix_parse("10.21.0.0/16", &q, &why);
	assert_false(netlink_prefix_overlap(&p, &q));
	netlink_prefix_parse("::/0", &q, &why);
	assert_false(netlink_prefix_overlap(&p, &q));
}

static void
test_names(void **state)
{
	static const char *const good[] = { "eth0", "vA", "wg-extranet",
	    "abcdefghijklmno", "br0.100", "a" };
	static const char *const bad[] = { "", "abcdefghijklmnop", "eth0:1",
	    "a/b", "a b", "tab\there", ".", ".." };
	size_t	i;

	for (i = 0; i < NP_NELEM(good); i++)
		if (netlink_ifname_check(good[i]) != NULL)
			fail_msg("\"%s\" was refused", good[i]);
	for (i = 0; i < NP_NELEM(bad); i++)
		if (netlink_ifname_check(bad[i]) == NULL)
			fail_msg("\"%s\" was accepted", bad[i]);
	/* IF-MIB ifOperStatus from the kernel's RFC 2863 states */
	assert_int_equal(netlink_ifmib_oper_status(6), 1);	/* up */
	assert_int_equal(netlink_ifmib_oper_status(2), 2);	/* down */
	assert_int_equal(netlink_ifmib_oper_status(0), 4);	/* unknown */
	assert_int_equal(netlink_ifmib_oper_status(3), 7);
	assert_int_equal(netlink_ifmib_oper_status(1), 6);
	assert_int_equal(netlink_ifmib_oper_status(200), 4);
	assert_string_equal(netlink_oper_name(3), "lowerlayerdown");
	assert_string_equal(netlink_oper_name(99), "unknown");
}

/* ---- options through the config loader -------------------------------- */

static struct np_config *
load(const char *text, struct cfg_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return (config_load_string(NAME, text, strlen(text), errs));
}

struct bad_case {
	const char	*yaml;
	const char	*first;		/* the one error, exactly */
};

static const struct bad_case bad_cases[] = {
	{ "probes:\n"
	  "  - name: l\n"
	  "    type: link\n"
	  "    target: \"eth0:1\"\n",
	  NAME ":4:13: invalid link target \"eth0:1\": not an interface "
	  "name (1 to 15 characters, no '/', ':' or spaces)" },
	{ "probes:\n"
	  "  - name: l\n"
	  "    type: link\n"
	  "    target: an-interface-name-too-long\n",
	  NAME ":4:13: invalid link target \"an-interface-name-too-long\": "
	  "not an interface name (1 to 15 characters, no '/', ':' or "
	  "spaces)" },
	{ "probes:\n"
	  "  - name: l\n"
	  "    type: link\n"
	  "    target: eth0\n"
	  "    expect_address_in: [10.30.0.0/16, 10.30.0.1/16]\n",
	  NAME ":5:24: probe 'l': 'expect_address_in': \"10.30.0.1/16\" has "
	  "host bits set (did you mean 10.30.0.0/16?)" },
	{ "probes:\n"
	  "  - name: l\n"
	  "    type: link\n"
	  "    target: eth0\n"
	  "    expect_address_in: extranet\n",
	  NAME ":5:24: probe 'l': 'expect_address_in': \"extranet\" is not "
	  "an IP address or prefix like 10.20.0.0/16 or 2001:db8::/32" },
	{ "probes:\n"
	  "  - name: l\n"
	  "    type: link\n"
	  "    target: eth0\n"
	  "    fwmark: 16\n",
	  NAME ":5:13: probe 'l': 'fwmark' does not apply to link probes "
	  "(the target is the interface)" },
	{ "probes:\n"
	  "  - name: l\n"
	  "    type: link\n"
	  "    target: eth0\n"
	  "    interface: eth1\n",
	  NAME ":5:16: probe 'l': 'interface' does not apply to link probes "
	  "(the target is the interface)" },
	{ "probes:\n"
	  "  - name: l\n"
	  "    type: link\n"
	  "    target: eth0\n"
	  "    expect_mtu_min: 9999999\n",
	  NAME ":5:21: 'expect_mtu_min' must be between 68 and 65535, got "
	  "9999999" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    target: 10.20.0.1/16\n",
	  NAME ":4:13: invalid route target \"10.20.0.1/16\": host bits set "
	  "(did you mean 10.20.0.0/16?)" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    target: \"2001:db8::/129\"\n",
	  NAME ":4:13: invalid route target \"2001:db8::/129\": the prefix "
	  "length must be 0 to 128" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    target: 10.20.0.0:80\n",
	  NAME ":4:13: invalid route target \"10.20.0.0:80\": not an IP "
	  "address or prefix like 10.20.0.0/16 or 2001:db8::/32" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    targets: [10.20.0.10, 10.20.0.10/32]\n",
	  NAME ":4:27: duplicate target \"10.20.0.10/32\" in probe 'r'" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    target: 10.20.0.0/16\n"
	  "    expect: maybe\n",
	  NAME ":5:13: 'expect' must be one of present, absent, got "
	  "\"maybe\"" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    target: 10.20.0.0/16\n"
	  "    via_interface: a/b\n",
	  NAME ":5:20: probe 'r': 'via_interface': \"a/b\" is not an "
	  "interface name (1 to 15 characters, no '/', ':' or spaces)" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    target: 10.20.0.0/16\n"
	  "    via_gateway: gw.example\n",
	  NAME ":5:18: 'via_gateway': invalid address \"gw.example\": "
	  "expected an IPv4 or IPv6 address literal (names are not "
	  "resolved)" },
	{ "probes:\n"
	  "  - name: r\n"
	  "    type: route\n"
	  "    target: \"2001:db8::/32\"\n"
	  "    source: 10.0.0.1\n",
	  NAME ":5:13: probe 'r': target 2001:db8::/32 is not of the source "
	  "address's family" },
	{ "probes:\n"
	  "  - name: p\n"
	  "    type: pmtu\n"
	  "    target: 10.20.0.10\n"
	  "    sizes: [1500, 1400, 1500]\n",
	  NAME ":5:12: probe 'p': 'sizes' lists 1500 twice" },
	{ "probes:\n"
	  "  - name: p\n"
	  "    type: pmtu\n"
	  "    targets: [10.20.0.10, \"2001:db8::10\"]\n"
	  "    sizes: [1500, 1200]\n",
	  NAME ":5:12: probe 'p': size 1200 is below the IPv6 minimum MTU of "
	  "1280 (target 2001:db8::10)" },
	{ "probes:\n"
	  "  - name: p\n"
	  "    type: pmtu\n"
	  "    target: 10.20.0.10\n"
	  "    sizes: [1500, 60]\n",
	  NAME ":5:19: 'sizes' must be between 68 and 65535, got 60" },
	{ "probes:\n"
	  "  - name: p\n"
	  "    type: pmtu\n"
	  "    target: 10.20.0.10\n"
	  "    sizes: [1500, 1400]\n"
	  "    expect_min_mtu: 1600\n",
	  NAME ":6:21: probe 'p': expect_min_mtu 1600 is larger than every "
	  "size in 'sizes' (largest 1500): it could never pass" },
	{ "probes:\n"
	  "  - name: p\n"
	  "    type: pmtu\n"
	  "    target: 10.20.0.10\n"
	  "    timeout: 1s\n"
	  "    count: 6\n"
	  "    packet_interval: 200ms\n",
	  NAME ":7:22: probe 'p': 6 tries 200ms apart do not fit in the 1s "
	  "timeout" },
	{ "probes:\n"
	  "  - name: p\n"
	  "    type: pmtu\n"
	  "    target: 10.20.0.10\n"
	  "    sizes: [1500, 1490, 1480, 1470, 1460, 1450, 1440, 1430, 1420,"
	  " 1410, 1400, 1390, 1380, 1370, 1360, 1350, 1340]\n",
	  NAME ":5:12: probe 'p': 'sizes' lists 17 sizes; at most 16" },
	{ "probes:\n"
	  "  - name: p\n"
	  "    type: pmtu\n"
	  "    target: 10.20.0.0/16\n",
	  NAME ":4:13: invalid pmtu target \"10.20.0.0/16\": expected an "
	  "IPv4 or IPv6 address literal (names are not resolved)" },
};

static void
test_bad_options(void **state)
{
	struct cfg_errors	 errs;
	struct np_config	*conf;
	size_t			 i, j;

	for (i = 0; i < NP_NELEM(bad_cases); i++) {
		conf = load(bad_cases[i].yaml, &errs);
		if (conf != NULL) {
			config_free(conf);
			fail_msg("case %zu was accepted", i);
		}
		if (errs.n != 1)
			for (j = 0; j < errs.n; j++)
				print_error("case %zu: %s\n", i, errs.msg[j]);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.msg[0], bad_cases[i].first);
		cfg_errors_free(&errs);
	}
}

static void
test_good_options(void **state)
{
	static const char	 text[] =
	    "probes:\n"
	    "  - name: l\n"
	    "    type: link\n"
	    "    targets: [eth0, wg-extranet]\n"
	    "    expect_address_in: [10.30.0.0/16, \"2001:db8::/32\"]\n"
	    "  - name: l2\n"
	    "    type: link\n"
	    "    target: eth1\n"
	    "    require_running: false\n"
	    "    expect_mtu_min: 1400\n"
	    "  - name: r\n"
	    "    type: route\n"
	    "    targets: [10.20.0.0/16, 10.20.0.10/32, \"2001:DB8:0::/32\","
	    " 0.0.0.0/0]\n"
	    "    via_interface: eth0\n"
	    "    via_gateway: 10.213.0.2\n"
	    "    fwmark: 16\n"
	    "  - name: r2\n"
	    "    type: route\n"
	    "    target: 203.0.113.0/24\n"
	    "    expect: absent\n"
	    "  - name: p\n"
	    "    type: pmtu\n"
	    "    targets: [10.20.0.10, \"2001:db8::10\"]\n"
	    "  - name: p2\n"
	    "    type: pmtu\n"
	    "    target: 10.20.0.10\n"
	    "    sizes: 9000\n"
	    "    count: 1\n"
	    "    expect_min_mtu: 1500\n";
	struct cfg_errors	 errs;
	struct np_config	*conf;
	const struct probe_cfg	*p;
	size_t			 i;

	conf = load(text, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	assert_non_null(conf);

	p = config_find_probe(conf, "l");
	assert_int_equal(p->ntargets, 2);
	assert_string_equal(p->targets[1], "wg-extranet");
	assert_int_equal(p->addrs[1].len, 0);	/* a name, no address */
	p = config_find_probe(conf, "r");
	assert_string_equal(p->targets[0], "10.20.0.0/16");
	assert_string_equal(p->targets[1], "10.20.0.10");
	assert_string_equal(p->targets[2], "2001:db8::/32");
	assert_string_equal(p->targets[3], "0.0.0.0/0");
	assert_int_equal(p->addrs[2].ss.ss_family, AF_INET6);
	assert_int_equal(p->net.fwmark, 16);
	p = config_find_probe(conf, "p");
	assert_int_equal(p->ntargets, 2);
	config_free(conf);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_link_hostile),
		cmocka_unit_test(test_link_truncated),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_hostile),
		cmocka_unit_test(test_route_captured),
		cmocka_unit_test(test_route_built),
		cmocka_unit_test(test_route_hostile),
		cmocka_unit_test(test_error_done),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_good_options),
	};

	log_init(-1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
