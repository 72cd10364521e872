/*
 * The watchers' packet classifier on hand-built frames: every link type,
 * VLAN tags, IPv4 options and fragments, IPv6 extension headers and
 * fragments, TCP, UDP, ICMP, the RTP check, and every malformed or
 * truncated case by its reason.  Each frame is copied into a buffer of
 * exactly its captured length, so an overread shows under ASan and
 * valgrind.
 */
#include "config.h"

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "daemon/pkt.h"

#define NP_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- building frames ------------------------------------------------ */

struct frame {
	uint8_t	b[2048];
	size_t	len;
};

static void
put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
put8(struct frame *f, unsigned v)
{
	uint8_t	b = (uint8_t)v;

	put(f, &b, 1);
}

static void
put16(struct frame *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void
zeros(struct frame *f, size_t n)
{
	while (n-- > 0)
		put8(f, 0);
}

static void
eth(struct frame *f, unsigned type)
{
	static const uint8_t	macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0,
				    0, 1 };

	put(f, macs, sizeof(macs));
	put16(f, type);
}

static void
tag(struct frame *f, unsigned vid, unsigned next)
{
	put16(f, vid);
	put16(f, next);
}

/* IPv4 10.30.1.5 -> 10.40.0.9, total length 20 + opt + l4len */
static void
ip4(struct frame *f, unsigned proto, size_t l4len, unsigned fragword,
    size_t optlen)
{
	put8(f, 0x40 | (unsigned)(5 + optlen / 4));
	put8(f, 0);
	put16(f, (unsigned)(20 + optlen + l4len));
	put16(f, 0x1234);
	put16(f, fragword);
	put8(f, 61);
	put8(f, proto);
	put16(f, 0);
	put32(f, 0x0a1e0105);
	put32(f, 0x0a280009);
	/* options: NOPs, then an end */
	if (optlen > 0) {
		memset(f->b + f->len, 1, optlen - 1);
		f->len += optlen - 1;
		put8(f, 0);
	}
}

static const uint8_t	v6src[16] = { 0xfd, 0, 0, 0x30, [15] = 5 };
static const uint8_t	v6dst[16] = { 0xfd, 0, 0, 0x40, [15] = 9 };

static void
ip6(struct frame *f, unsigned nh, size_t plen)
{
	put32(f, 0x60000000);
	put16(f, (unsigned)plen);
	put8(f, nh);
	put8(f, 63);
	put(f, v6src, 16);
	put(f, v6dst, 16);
}

static void
tcp(struct frame *f, unsigned sport, unsigned dport, unsigned flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1);
	put32(f, 0);
	put8(f, 5 << 4);
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
}

static void
udp(struct frame *f, unsigned sport, unsigned dport, size_t paylen)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (unsigned)(8 + paylen));
	put16(f, 0);
}

/* Parse f as captured (wirelen = caplen) from an exact-size copy. */
static int
parse_w(int dlt, const struct frame *f, size_t caplen, size_t wirelen,
    struct pkt_info *pi)
{
	uint8_t	*copy = malloc(caplen ? caplen : 1);
	int	 r;

	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	r = pkt_parse(dlt, copy, caplen, wirelen, pi);
	if (pi->payload != NULL) {
		/* the payload lies inside what was captured */
		assert_true(pi->payload >= copy);
		assert_true(pi->payload + pi->payload_len <= copy + caplen);
		pi->payload = f->b + (pi->payload - copy);
	}
	free(copy);
	return (r);
}

static int
parse(int dlt, const struct frame *f, struct pkt_info *pi)
{
	return (parse_w(dlt, f, f->len, f->len, pi));
}

/* ---- link types ------------------------------------------------------ */

static void
test_ethernet_tcp(void **state)
{
	struct frame	f = { .len = 0 };
	struct pkt_info	pi;

	(void)state;
	eth(&f, 0x0800);
	ip4(&f, 6, 20, 0x4000, 0);	/* DF: not a fragment */
	tcp(&f, 41000, 443, 0x02);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, AF_INET);
	assert_int_equal(pi.ethertype, 0x0800);
	assert_int_equal(pi.nvlan, 0);
	assert_memory_equal(pi.src, "\x0a\x1e\x01\x05", 4);
	assert_memory_equal(pi.dst, "\x0a\x28\x00\x09", 4);
	assert_int_equal(pi.proto, 6);
	assert_int_equal(pi.hop_limit, 61);
	assert_int_equal(pi.frag, PKT_FRAG_NONE);
	assert_true(pi.has_ports);
	assert_int_equal(pi.sport, 41000);
	assert_int_equal(pi.dport, 443);
	assert_true(pi.has_tcp_flags);
	assert_int_equal(pi.tcp_flags, 0x02);
	assert_null(pi.payload);
	assert_false(pi.has_icmp);
}

static void
test_ethernet_udp_padding(void **state)
{
	struct frame	f = { .len = 0 };
	struct pkt_info	pi;

	(void)state;
	/* a 4-byte UDP payload, then Ethernet padding to 60 bytes */
	eth(&f, 0x0800);
	ip4(&f, 17, 12, 0, 0);
	udp(&f, 5060, 5060, 4);
	put(&f, "abcd", 4);
	zeros(&f, 60 - f.len);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_true(pi.has_ports);
	assert_int_equal(pi.sport, 5060);
	assert_non_null(pi.payload);
	/* the padding is not payload */
	assert_int_equal(pi.payload_len, 4);
	assert_int_equal(pi.payload_wire_len, 4);
	assert_memory_equal(pi.payload, "abcd", 4);
}

static void
test_vlan(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* 802.1Q */
	f.len = 0;
	eth(&f, 0x8100);
	tag(&f, 0x2000 | 30, 0x0800);	/* priority 1, VID 30 */
	ip4(&f, 6, 20, 0, 0);
	tcp(&f, 1, 2, 0x10);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.nvlan, 1);
	assert_int_equal(pi.vlan[0], 30);
	assert_int_equal(pi.ethertype, 0x0800);
	assert_int_equal(pi.dport, 2);

	/* QinQ: 802.1ad outside, 802.1Q inside, IPv6 */
	f.len = 0;
	eth(&f, 0x88a8);
	tag(&f, 100, 0x8100);
	tag(&f, 31, 0x86dd);
	ip6(&f, 6, 20);
	tcp(&f, 42003, 8082, 0x02);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.nvlan, 2);
	assert_int_equal(pi.vlan[0], 100);
	assert_int_equal(pi.vlan[1], 31);
	assert_int_equal(pi.family, AF_INET6);
	assert_int_equal(pi.dport, 8082);

	/* the pre-standard 0x9100 S-tag, four deep: the most we take */
	f.len = 0;
	eth(&f, 0x9100);
	tag(&f, 1, 0x8100);
	tag(&f, 2, 0x8100);
	tag(&f, 3, 0x8100);
	tag(&f, 4, 0x0800);
	ip4(&f, 17, 8, 0, 0);
	udp(&f, 1, 2, 0);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.nvlan, 4);
	assert_int_equal(pi.vlan[3], 4);

	/* five: too deep */
	f.len = 0;
	eth(&f, 0x8100);
	tag(&f, 1, 0x8100);
	tag(&f, 2, 0x8100);
	tag(&f, 3, 0x8100);
	tag(&f, 4, 0x8100);
	tag(&f, 5, 0x0800);
	ip4(&f, 17, 8, 0, 0);
	udp(&f, 1, 2, 0);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_VLAN_TOO_DEEP);

	/* a tag cut short */
	f.len = 0;
	eth(&f, 0x8100);
	put16(&f, 30);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_LINK_TRUNCATED);
}

static void
test_not_ip(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* ARP: fine, and not ours to judge */
	f.len = 0;
	eth(&f, 0x0806);
	zeros(&f, 28);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, 0);
	assert_int_equal(pi.ethertype, 0x0806);
	/* 802.3 with a length field and LLC (spanning tree) */
	f.len = 0;
	eth(&f, 38);
	put(&f, "\x42\x42\x03", 3);
	zeros(&f, 35);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, 0);
	/* a VLAN-tagged ARP */
	f.len = 0;
	eth(&f, 0x8100);
	tag(&f, 7, 0x0806);
	zeros(&f, 28);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, 0);
	assert_int_equal(pi.nvlan, 1);
}

static void
test_cooked_and_raw(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* Linux cooked v1: 16 bytes, protocol at 14 */
	f.len = 0;
	put16(&f, 4);		/* sent by us */
	put16(&f, 1);		/* ARPHRD_ETHER */
	put16(&f, 6);
	zeros(&f, 8);
	put16(&f, 0x0800);
	ip4(&f, 6, 20, 0, 0);
	tcp(&f, 45000, 3389, 0x02);
	assert_int_equal(parse(DLT_LINUX_SLL, &f, &pi), PKT_OK);
	assert_int_equal(pi.dport, 3389);
	/* ... with a VLAN tag after the header */
	f.len = 0;
	put16(&f, 0);
	put16(&f, 1);
	put16(&f, 6);
	zeros(&f, 8);
	put16(&f, 0x8100);
	tag(&f, 30, 0x86dd);
	ip6(&f, 17, 8);
	udp(&f, 1, 53, 0);
	assert_int_equal(parse(DLT_LINUX_SLL, &f, &pi), PKT_OK);
	assert_int_equal(pi.nvlan, 1);
	assert_int_equal(pi.family, AF_INET6);
	assert_int_equal(pi.dport, 53);
	/* cooked v2: 20 bytes, protocol first */
	f.len = 0;
	put16(&f, 0x86dd);
	put16(&f, 0);
	put32(&f, 3);		/* ifindex */
	put16(&f, 1);
	put8(&f, 0);
	put8(&f, 6);
	zeros(&f, 8);
	ip6(&f, 6, 20);
	tcp(&f, 1, 25, 0x02);
	assert_int_equal(parse(DLT_LINUX_SLL2, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, AF_INET6);
	assert_memory_equal(pi.dst, v6dst, 16);
	assert_int_equal(pi.dport, 25);
	/* short cooked headers */
	f.len = 15;
	assert_int_equal(parse(DLT_LINUX_SLL, &f, &pi), PKT_LINK_TRUNCATED);
	f.len = 19;
	assert_int_equal(parse(DLT_LINUX_SLL2, &f, &pi), PKT_LINK_TRUNCATED);

	/* raw IP: the version nibble says which */
	f.len = 0;
	ip4(&f, 17, 8, 0, 0);
	udp(&f, 45001, 5353, 0);
	assert_int_equal(parse(DLT_RAW, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, AF_INET);
	assert_int_equal(pi.dport, 5353);
	assert_int_equal(parse(101, &f, &pi), PKT_OK);	/* LINKTYPE_RAW */
	assert_int_equal(parse(DLT_IPV4, &f, &pi), PKT_OK);
	assert_int_equal(parse(DLT_IPV6, &f, &pi), PKT_IP_VERSION);
	f.len = 0;
	ip6(&f, 17, 8);
	udp(&f, 1, 2, 0);
	assert_int_equal(parse(DLT_RAW, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, AF_INET6);
	assert_int_equal(parse(DLT_IPV6, &f, &pi), PKT_OK);
	assert_int_equal(parse(DLT_IPV4, &f, &pi), PKT_IP_VERSION);
	/* neither 4 nor 6 */
	f.b[0] = 0x50;
	assert_int_equal(parse(DLT_RAW, &f, &pi), PKT_IP_VERSION);
	f.len = 0;
	assert_int_equal(parse(DLT_RAW, &f, &pi), PKT_IPV4_TRUNCATED);
	/* a link type we do not decode */
	f.len = 40;
	assert_int_equal(parse(DLT_IEEE802_11, &f, &pi),
	    PKT_LINK_UNSUPPORTED);
}

/* ---- IPv4 ------------------------------------------------------------ */

static void
test_ipv4_options_icmp(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* IHL 7: 8 bytes of options before the TCP header */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 6, 20, 0, 8);
	tcp(&f, 7, 8, 0x12);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.sport, 7);
	assert_int_equal(pi.tcp_flags, 0x12);
	/* ICMP echo */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 1, 8, 0, 0);
	put(&f, "\x08\x00\x00\x00\x00\x07\x00\x01", 8);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_true(pi.has_icmp);
	assert_int_equal(pi.icmp_type, 8);
	assert_false(pi.has_ports);
	/* ICMP in 4 bytes: RFC 792 messages have 8 */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 1, 4, 0, 0);
	put(&f, "\x08\x00\x00\x00", 4);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_ICMP_TRUNCATED);
	/* another protocol: addresses, no ports */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 47, 4, 0, 0);
	zeros(&f, 4);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.proto, 47);
	assert_false(pi.has_ports);
}

static void
test_ipv4_fragments(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* the first fragment: MF, offset 0, the ports */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 17, 1000, 0x2000, 0);
	udp(&f, 43001, 9999, 2992);
	zeros(&f, 992);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.frag, PKT_FRAG_FIRST);
	assert_true(pi.has_ports);
	assert_int_equal(pi.dport, 9999);
	/* the UDP length covers the datagram, not this fragment */
	assert_int_equal(pi.payload_wire_len, 992);
	/* a later fragment: no transport header to read */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 17, 1000, 0x2000 | 125, 0);
	zeros(&f, 1000);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.frag, PKT_FRAG_LATER);
	assert_false(pi.has_ports);
	assert_int_equal(pi.proto, 17);
	/* the last fragment (no MF, offset > 0) is a later one too */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 6, 16, 250, 0);
	zeros(&f, 16);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.frag, PKT_FRAG_LATER);
	/* a first TCP fragment with 8 bytes: ports, but no flags */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 6, 8, 0x2000, 0);
	put16(&f, 1234);
	put16(&f, 22);
	zeros(&f, 4);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_true(pi.has_ports);
	assert_int_equal(pi.dport, 22);
	assert_false(pi.has_tcp_flags);
	/* the datagram would pass 65535 bytes (ping of death) */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 1, 100, 8189, 0);
	zeros(&f, 100);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_FRAGMENT_OVERSIZE);
	/* the largest legal last fragment */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 1, 3, 8189, 0);
	zeros(&f, 3);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
}

static void
test_ipv4_malformed(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* IHL 4 */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 17, 8, 0, 0);
	udp(&f, 1, 2, 0);
	f.b[14] = 0x44;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV4_HEADER_LENGTH);
	/* IHL 15 (60 bytes) but a total length of 28 */
	f.b[14] = 0x4f;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV4_TOTAL_LENGTH);
	/* a total length beyond the frame */
	f.b[14] = 0x45;
	f.b[16] = 0x03;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV4_TOTAL_LENGTH);
	/* version 6 behind ethertype 0x0800 */
	f.b[16] = 0;
	f.b[14] = 0x65;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IP_VERSION);
	/* options cut off by the frame's end */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 17, 0, 0, 0);
	f.b[14] = 0x46;
	f.b[17] = 20;		/* total 20, IHL 24 */
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV4_TOTAL_LENGTH);
	/* a short header */
	f.len = 14 + 19;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV4_TRUNCATED);
}

static void
test_transport_malformed(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* TCP: 10 bytes */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 6, 10, 0, 0);
	zeros(&f, 10);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_TCP_TRUNCATED);
	/* TCP data offset 3, and 15 (60 bytes) in a 20-byte segment */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 6, 20, 0, 0);
	tcp(&f, 1, 2, 0);
	f.b[14 + 20 + 12] = 3 << 4;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_TCP_HEADER_LENGTH);
	f.b[14 + 20 + 12] = 15 << 4;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_TCP_HEADER_LENGTH);
	/* UDP: 4 bytes; a length of 4; a length past the packet */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 17, 4, 0, 0);
	zeros(&f, 4);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_UDP_TRUNCATED);
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 17, 8, 0, 0);
	udp(&f, 1, 2, 0);
	f.b[14 + 20 + 5] = 4;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_UDP_LENGTH);
	f.b[14 + 20 + 5] = 9;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_UDP_LENGTH);
}

/* ---- IPv6 ------------------------------------------------------------ */

/* An extension header of type `next`, 8 * (units + 1) bytes. */
static void
ext(struct frame *f, unsigned next, unsigned units)
{
	put8(f, next);
	put8(f, units);
	zeros(f, 6 + 8 * (size_t)units);
}

static void
test_ipv6_ext(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* hop-by-hop, routing (24 bytes), destination options, TCP */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 0, 8 + 24 + 8 + 20);
	ext(&f, 43, 0);
	ext(&f, 60, 2);
	ext(&f, 6, 0);
	tcp(&f, 1234, 443, 0x02);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.family, AF_INET6);
	assert_memory_equal(pi.src, v6src, 16);
	assert_int_equal(pi.hop_limit, 63);
	assert_int_equal(pi.proto, 6);
	assert_int_equal(pi.dport, 443);
	/* AH (RFC 4302: length in 4-byte words minus 2), then UDP */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 51, 24 + 8);
	put8(&f, 17);
	put8(&f, 4);		/* (4 + 2) * 4 = 24 bytes */
	zeros(&f, 22);
	udp(&f, 500, 4500, 0);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.proto, 17);
	assert_int_equal(pi.dport, 4500);
	/* No Next Header: fine, nothing more */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 59, 0);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.proto, 59);
	assert_false(pi.has_ports);
	/* eight extension headers are fine, nine are not */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 60, 8 * 8 + 8);
	{
		int	i;

		for (i = 0; i < 7; i++)
			ext(&f, 60, 0);
		ext(&f, 17, 0);
	}
	udp(&f, 1, 2, 0);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.dport, 2);
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 60, 9 * 8 + 8);
	{
		int	i;

		for (i = 0; i < 8; i++)
			ext(&f, 60, 0);
		ext(&f, 17, 0);
	}
	udp(&f, 1, 2, 0);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV6_EXT_CHAIN);
	/* a header longer than the payload */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 0, 8);
	put8(&f, 17);
	put8(&f, 10);
	zeros(&f, 6);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV6_EXT_TRUNCATED);
	/* and one with fewer than its first 8 bytes */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 60, 4);
	zeros(&f, 4);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV6_EXT_TRUNCATED);
	/* ICMPv6 (4 bytes suffice, RFC 4443 2.1); ICMP (1) is not it */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 58, 4);
	put(&f, "\x80\x00\x00\x00", 4);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_true(pi.has_icmp);
	assert_int_equal(pi.icmp_type, 128);
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 58, 2);
	put(&f, "\x80\x00", 2);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_ICMP_TRUNCATED);
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 1, 2);
	put(&f, "\x08\x00", 2);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_false(pi.has_icmp);
}

static void
test_ipv6_fragments(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	/* first: offset 0, M set, the UDP header follows */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 44, 8 + 1232);
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, 0x0001);	/* offset 0, M */
	put32(&f, 8);
	udp(&f, 43002, 9999, 3000);
	zeros(&f, 1224);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.frag, PKT_FRAG_FIRST);
	assert_int_equal(pi.proto, 17);
	assert_int_equal(pi.dport, 9999);
	/* later: no ports, the protocol from the fragment header */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 44, 8 + 1232);
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, (1232 / 8) << 3 | 1);
	put32(&f, 8);
	zeros(&f, 1232);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.frag, PKT_FRAG_LATER);
	assert_int_equal(pi.proto, 17);
	assert_false(pi.has_ports);
	/* an atomic fragment (RFC 6946): a whole packet */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 44, 8 + 20);
	put8(&f, 6);
	put8(&f, 0);
	put16(&f, 0);
	put32(&f, 9);
	tcp(&f, 1, 80, 0x02);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	assert_int_equal(pi.frag, PKT_FRAG_NONE);
	assert_int_equal(pi.dport, 80);
	/* past 65535 bytes */
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 44, 8 + 16);
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, 8190 << 3);
	put32(&f, 9);
	zeros(&f, 16);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_FRAGMENT_OVERSIZE);
}

static void
test_ipv6_malformed(void **state)
{
	struct frame	f;
	struct pkt_info	pi;

	(void)state;
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 17, 500);
	udp(&f, 1, 2, 0);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV6_PAYLOAD_LENGTH);
	f.len = 14 + 39;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IPV6_TRUNCATED);
	f.len = 0;
	eth(&f, 0x86dd);
	ip6(&f, 17, 8);
	udp(&f, 1, 2, 0);
	f.b[14] = 0x40;
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_IP_VERSION);
}

/* ---- capture limits and hostile input -------------------------------- */

static void
test_snaplen(void **state)
{
	struct frame	f = { .len = 0 };
	struct pkt_info	pi;

	(void)state;
	eth(&f, 0x86dd);
	ip6(&f, 0, 64 + 20);
	ext(&f, 6, 7);		/* a 64-byte hop-by-hop header */
	tcp(&f, 1, 443, 0x02);
	assert_int_equal(parse(DLT_EN10MB, &f, &pi), PKT_OK);
	/* the capture stopped inside the TCP header: not malformed */
	assert_int_equal(parse_w(DLT_EN10MB, &f, 14 + 40 + 64 + 2, f.len,
	    &pi), PKT_SNAPLEN);
	assert_int_equal(parse_w(DLT_EN10MB, &f, 14 + 40 + 10, f.len, &pi),
	    PKT_SNAPLEN);
	/* the same bytes as the whole packet: truncated */
	assert_int_equal(parse_w(DLT_EN10MB, &f, 14 + 40 + 10, 14 + 40 + 10,
	    &pi), PKT_IPV6_PAYLOAD_LENGTH);
	/* a wire length below the captured one counts as the captured */
	assert_int_equal(parse_w(DLT_EN10MB, &f, f.len, 3, &pi), PKT_OK);
	/* a UDP payload cut by the capture: what we have, and its length */
	f.len = 0;
	eth(&f, 0x0800);
	ip4(&f, 17, 8 + 100, 0, 0);
	udp(&f, 1, 5004, 100);
	zeros(&f, 100);
	assert_int_equal(parse_w(DLT_EN10MB, &f, 14 + 20 + 8 + 12, f.len,
	    &pi), PKT_OK);
	assert_int_equal(pi.payload_len, 12);
	assert_int_equal(pi.payload_wire_len, 100);
}

/* Every prefix of these frames, as the whole packet and as a capture
 * cut short: a reason or a result, never a read past the end. */
static void
test_truncation_sweep(void **state)
{
	struct frame	 v[5];
	struct pkt_info	 pi;
	size_t		 i, len;
	int		 r, dlts[] = { DLT_EN10MB, DLT_LINUX_SLL,
			    DLT_LINUX_SLL2, DLT_RAW };
	size_t		 d;

	(void)state;
	memset(v, 0, sizeof(v));
	eth(&v[0], 0x8100);
	tag(&v[0], 30, 0x0800);
	ip4(&v[0], 6, 20, 0, 8);
	tcp(&v[0], 1, 2, 0x02);
	eth(&v[1], 0x86dd);
	ip6(&v[1], 0, 8 + 8 + 8 + 12);
	ext(&v[1], 44, 0);
	put(&v[1], "\x11\x00\x00\x01\x00\x00\x00\x01", 8);
	udp(&v[1], 1, 5004, 4);
	put(&v[1], "\x80\x00\x00\x01", 4);
	eth(&v[2], 0x0800);
	ip4(&v[2], 1, 8, 0x2000, 0);
	put(&v[2], "\x08\x00\x00\x00\x00\x01\x00\x01", 8);
	eth(&v[3], 0x88a8);
	tag(&v[3], 1, 0x8100);
	tag(&v[3], 2, 0x86dd);
	ip6(&v[3], 51, 12 + 8);
	put8(&v[3], 17);
	put8(&v[3], 1);
	zeros(&v[3], 10);
	udp(&v[3], 1, 2, 0);
	zeros(&v[4], 8);	/* garbage */
	memset(v[4].b, 0xff, sizeof(v[4].b));
	v[4].len = 200;
	for (i = 0; i < NP_NELEM(v); i++)
		for (len = 0; len <= v[i].len; len++)
			for (d = 0; d < NP_NELEM(dlts); d++) {
				r = parse_w(dlts[d], &v[i], len, len, &pi);
				assert_true(r >= 0 && r < PKT_REASON_MAX);
				r = parse_w(dlts[d], &v[i], len, v[i].len,
				    &pi);
				assert_true(r >= 0 && r < PKT_REASON_MAX);
				if (r == PKT_OK && pi.has_ports)
					assert_true(pi.family != 0);
			}
	/* every bit pattern of the first byte after Ethernet */
	for (i = 0; i < 256; i++) {
		struct frame	g = { .len = 0 };

		eth(&g, 0x0800);
		put8(&g, (unsigned)i);
		zeros(&g, 60);
		r = parse(DLT_EN10MB, &g, &pi);
		assert_true(r >= 0 && r < PKT_REASON_MAX);
	}
}

static void
test_reason_names(void **state)
{
	int	i, k;

	(void)state;
	assert_string_equal(pkt_reason_name(PKT_OK), "ok");
	assert_string_equal(pkt_reason_name(PKT_SNAPLEN), "snaplen");
	assert_string_equal(pkt_reason_name(PKT_TCP_TRUNCATED),
	    "tcp_truncated");
	assert_string_equal(pkt_reason_name(-1), "unknown");
	assert_string_equal(pkt_reason_name(PKT_REASON_MAX), "unknown");
	for (i = 0; i < PKT_REASON_MAX; i++) {
		const char	*n = pkt_reason_name(i);

		assert_non_null(n);
		assert_string_not_equal(n, "unknown");
		/* label values: lower case and underscores */
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz"
		    "0123456789_"), strlen(n));
		for (k = 0; k < i; k++)
			assert_string_not_equal(n, pkt_reason_name(k));
	}
}

/* ---- RTP ------------------------------------------------------------- */

static void
test_rtp(void **state)
{
	uint8_t		 p[40] = { 0x80, 0x08, 0x01, 0x02, 0, 0, 0, 160,
			    0xde, 0xad, 0xbe, 0xef };
	struct pkt_rtp	 r;

	(void)state;
	assert_int_equal(pkt_rtp_parse(p, 12, 12, &r), 0);
	assert_int_equal(r.pt, 8);
	assert_int_equal(r.marker, 0);
	assert_int_equal(r.seq, 0x0102);
	assert_int_equal(r.timestamp, 160);
	assert_int_equal(r.ssrc, 0xdeadbeef);
	/* marker and a dynamic payload type */
	p[1] = 0x80 | 96;
	assert_int_equal(pkt_rtp_parse(p, 40, 40, &r), 0);
	assert_int_equal(r.marker, 1);
	assert_int_equal(r.pt, 96);
	/* RTCP sender and receiver reports (RFC 5761 section 4) */
	p[1] = 200;
	assert_int_equal(pkt_rtp_parse(p, 40, 40, &r), -1);
	p[1] = 201;
	assert_int_equal(pkt_rtp_parse(p, 40, 40, &r), -1);
	/* version 1 (SIP text starts so), version 0 (STUN, DTLS) */
	p[1] = 0;
	p[0] = 'O';
	assert_int_equal(pkt_rtp_parse(p, 40, 40, &r), -1);
	p[0] = 0x00;
	assert_int_equal(pkt_rtp_parse(p, 40, 40, &r), -1);
	/* short; CSRCs beyond the packet; CSRCs captured only in part */
	p[0] = 0x80;
	assert_int_equal(pkt_rtp_parse(p, 11, 11, &r), -1);
	p[0] = 0x8f;		/* 15 CSRCs: 72 bytes */
	assert_int_equal(pkt_rtp_parse(p, 40, 40, &r), -1);
	assert_int_equal(pkt_rtp_parse(p, 40, 72, &r), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_tcp),
		cmocka_unit_test(test_ethernet_udp_padding),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_cooked_and_raw),
		cmocka_unit_test(test_ipv4_options_icmp),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_transport_malformed),
		cmocka_unit_test(test_ipv6_ext),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_ipv6_malformed),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_rtp),
	};

	return (cmocka_run_group_tests_name("pkt", tests, NULL, NULL));
}
