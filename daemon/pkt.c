/*
 * The watchers' packet classifier (see pkt.h).
 *
 * Every step asks need() for the bytes it is about to read.  need()
 * knows two ends: where the packet really ends (the frame on the wire,
 * then the IP length fields, so a lying length is caught) and where the
 * capture ends (snaplen).  Bytes missing before the packet's end are the
 * capture's fault (PKT_SNAPLEN); bytes the packet itself lacks are a
 * malformed packet with the reason of the header being read.
 */
#include "config.h"

#include <sys/socket.h>

#include <string.h>

#include <pcap/dlt.h>

#include "daemon/pkt.h"

/* LINKTYPE_RAW as written in files, should a reader not map it. */
#define LINKTYPE_RAW		101

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_8021Q		0x8100	/* IEEE 802.1Q C-tag */
#define ETHERTYPE_8021AD	0x88a8	/* IEEE 802.1ad S-tag */
#define ETHERTYPE_QINQ_OLD	0x9100	/* pre-standard S-tag, still seen */

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_AH_		51
#define IPPROTO_ICMPV6_		58
#define IPPROTO_DSTOPTS_	60

static const char *const reason_names[PKT_REASON_MAX] = {
	[PKT_OK] = "ok",
	[PKT_LINK_TRUNCATED] = "link_truncated",
	[PKT_LINK_UNSUPPORTED] = "link_unsupported",
	[PKT_VLAN_TOO_DEEP] = "vlan_too_deep",
	[PKT_IP_VERSION] = "ip_version",
	[PKT_IPV4_TRUNCATED] = "ipv4_truncated",
	[PKT_IPV4_HEADER_LENGTH] = "ipv4_header_length",
	[PKT_IPV4_TOTAL_LENGTH] = "ipv4_total_length",
	[PKT_IPV6_TRUNCATED] = "ipv6_truncated",
	[PKT_IPV6_PAYLOAD_LENGTH] = "ipv6_payload_length",
	[PKT_IPV6_EXT_TRUNCATED] = "ipv6_ext_truncated",
	[PKT_IPV6_EXT_CHAIN] = "ipv6_ext_chain",
	[PKT_FRAGMENT_OVERSIZE] = "fragment_oversize",
	[PKT_TCP_TRUNCATED] = "tcp_truncated",
	[PKT_TCP_HEADER_LENGTH] = "tcp_header_length",
	[PKT_UDP_TRUNCATED] = "udp_truncated",
	[PKT_UDP_LENGTH] = "udp_length",
	[PKT_ICMP_TRUNCATED] = "icmp_truncated",
	[PKT_SNAPLEN] = "snaplen",
};

/* The frame being read: its bytes and its two ends. */
struct cur {
	const uint8_t	*p;
	size_t		 cap;	/* captured bytes (<= end once narrowed) */
	size_t		 end;	/* where the packet ends on the wire */
};

const char *
pkt_reason_name(int r)
{
	if (r < 0 || r >= PKT_REASON_MAX)
		return ("unknown");
	return (reason_names[r]);
}

static uint16_t
be16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/*
 * May n bytes at off be read?  0 yes; else `why` when the packet itself
 * ends first, PKT_SNAPLEN when only the capture does.  off <= c->end
 * always holds for the callers, so nothing here can wrap.
 */
static int
need(const struct cur *c, size_t off, size_t n, int why)
{
	if (off > c->end || n > c->end - off)
		return (why);
	if (off > c->cap || n > c->cap - off)
		return (PKT_SNAPLEN);
	return (PKT_OK);
}

/* The packet ends at off + len (an IP length field), no later. */
static void
narrow(struct cur *c, size_t off, size_t len)
{
	c->end = off + len;
	if (c->cap > c->end)
		c->cap = c->end;
}

/*
 * TCP, UDP, ICMP at off.  A first fragment needs only the ports (RFC
 * 791 fragments carry multiples of 8 bytes, so a first fragment with a
 * payload always has them); its UDP length covers the whole datagram,
 * so it is not checked against this fragment.
 */
static int
parse_l4(struct cur *c, size_t off, struct pkt_info *out)
{
	const uint8_t	*h = c->p + off;
	size_t		 doff, ulen, room = c->end - off;
	int		 r, first = out->frag == PKT_FRAG_FIRST;

	switch (out->proto) {
	case IPPROTO_TCP_:
		if ((r = need(c, off, first ? 4 : 20,
		    PKT_TCP_TRUNCATED)) != PKT_OK)
			return (r);
		out->sport = be16(h);
		out->dport = be16(h + 2);
		out->has_ports = 1;
		if (need(c, off, 20, PKT_TCP_TRUNCATED) != PKT_OK)
			return (PKT_OK);	/* a first fragment */
		doff = (size_t)(h[12] >> 4) * 4;
		if (!first && (doff < 20 || doff > room))
			return (PKT_TCP_HEADER_LENGTH);
		out->tcp_flags = h[13];
		out->has_tcp_flags = 1;
		return (PKT_OK);
	case IPPROTO_UDP_:
		if ((r = need(c, off, 8, PKT_UDP_TRUNCATED)) != PKT_OK)
			return (r);
		out->sport = be16(h);
		out->dport = be16(h + 2);
		out->has_ports = 1;
		ulen = be16(h + 4);
		if (first)
			ulen = room;
		else if (ulen < 8 || ulen > room)
			return (PKT_UDP_LENGTH);
		out->payload = h + 8;
		out->payload_wire_len = ulen - 8;
		out->payload_len = c->cap - off - 8;
		if (out->payload_len > out->payload_wire_len)
			out->payload_len = out->payload_wire_len;
		return (PKT_OK);
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		/* only where it belongs: ICMP in v4, ICMPv6 in v6 */
		if ((out->proto == IPPROTO_ICMP_) != (out->family == AF_INET))
			return (PKT_OK);
		/* RFC 792: 8 bytes in every message; RFC 4443 2.1: 4 */
		if ((r = need(c, off, out->family == AF_INET ? 8 : 4,
		    PKT_ICMP_TRUNCATED)) != PKT_OK)
			return (r);
		out->icmp_type = h[0];
		out->icmp_code = h[1];
		out->has_icmp = 1;
		return (PKT_OK);
	default:
		return (PKT_OK);
	}
}

/* RFC 791 section 3.1 */
static int
parse_ipv4(struct cur *c, size_t off, struct pkt_info *out)
{
	const uint8_t	*h = c->p + off;
	size_t		 ihl, total;
	unsigned	 fl, foff;
	int		 r;

	/* the version first: a wrong one is the better reason */
	if ((r = need(c, off, 1, PKT_IPV4_TRUNCATED)) != PKT_OK)
		return (r);
	if (h[0] >> 4 != 4)
		return (PKT_IP_VERSION);
	if ((r = need(c, off, 20, PKT_IPV4_TRUNCATED)) != PKT_OK)
		return (r);
	out->family = AF_INET;
	ihl = (size_t)(h[0] & 0x0f) * 4;
	if (ihl < 20)
		return (PKT_IPV4_HEADER_LENGTH);
	total = be16(h + 2);
	/* a shorter frame than the header says; Ethernet padding is fine */
	if (total < ihl || total > c->end - off)
		return (PKT_IPV4_TOTAL_LENGTH);
	narrow(c, off, total);
	if ((r = need(c, off, ihl, PKT_IPV4_TRUNCATED)) != PKT_OK)
		return (r);
	out->hop_limit = h[8];
	out->proto = h[9];
	memcpy(out->src, h + 12, 4);
	memcpy(out->dst, h + 16, 4);
	fl = be16(h + 6);
	foff = (fl & 0x1fff) * 8;
	if (foff != 0)
		out->frag = PKT_FRAG_LATER;
	else if (fl & 0x2000)
		out->frag = PKT_FRAG_FIRST;
	/* the reassembled datagram would pass 65535 bytes (ping of death) */
	if (foff + total > 65535)
		return (PKT_FRAGMENT_OVERSIZE);
	if (out->frag == PKT_FRAG_LATER)
		return (PKT_OK);
	return (parse_l4(c, off + ihl, out));
}

/*
 * RFC 8200 sections 3 and 4: the fixed header, then a bounded chain of
 * extension headers (hop-by-hop, routing, destination options,
 * fragment, and AH, whose length is in 4-byte words, RFC 4302 2.2) up
 * to the upper-layer header.  Anything else ends the chain.
 */
static int
parse_ipv6(struct cur *c, size_t off, struct pkt_info *out)
{
	const uint8_t	*h = c->p + off;
	size_t		 plen, len, start;
	unsigned	 n, foff;
	uint8_t		 nh;
	int		 r;

	if ((r = need(c, off, 1, PKT_IPV6_TRUNCATED)) != PKT_OK)
		return (r);
	if (h[0] >> 4 != 6)
		return (PKT_IP_VERSION);
	if ((r = need(c, off, 40, PKT_IPV6_TRUNCATED)) != PKT_OK)
		return (r);
	out->family = AF_INET6;
	plen = be16(h + 4);
	if (plen > c->end - off - 40)
		return (PKT_IPV6_PAYLOAD_LENGTH);
	narrow(c, off, 40 + plen);
	nh = h[6];
	out->hop_limit = h[7];
	memcpy(out->src, h + 8, 16);
	memcpy(out->dst, h + 24, 16);
	start = off + 40;
	off = start;
	for (n = 0;; n++) {
		if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ &&
		    nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_FRAGMENT_ &&
		    nh != IPPROTO_AH_)
			break;
		if (n == PKT_MAX_EXT)
			return (PKT_IPV6_EXT_CHAIN);
		if ((r = need(c, off, 8, PKT_IPV6_EXT_TRUNCATED)) != PKT_OK)
			return (r);
		h = c->p + off;
		if (nh == IPPROTO_FRAGMENT_) {
			/* RFC 8200 4.5: offset in 8-byte units, M flag */
			foff = (unsigned)(be16(h + 2) >> 3) * 8;
			len = 8;
			if (foff + (c->end - off - len) > 65535)
				return (PKT_FRAGMENT_OVERSIZE);
			if (foff != 0)
				out->frag = PKT_FRAG_LATER;
			else if (h[3] & 1)
				out->frag = PKT_FRAG_FIRST;
			/* else an atomic fragment (RFC 6946): a whole packet */
		} else if (nh == IPPROTO_AH_)
			len = ((size_t)h[1] + 2) * 4;
		else
			len = ((size_t)h[1] + 1) * 8;
		if ((r = need(c, off, len, PKT_IPV6_EXT_TRUNCATED)) != PKT_OK)
			return (r);
		nh = h[0];
		off += len;
		if (out->frag == PKT_FRAG_LATER)
			break;
	}
	out->proto = nh;
	if (out->frag == PKT_FRAG_LATER)
		return (PKT_OK);
	return (parse_l4(c, off, out));
}

static int
parse_ip(struct cur *c, size_t off, uint16_t ethertype, struct pkt_info *out)
{
	int	r;

	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return (parse_ipv4(c, off, out));
	case ETHERTYPE_IPV6:
		return (parse_ipv6(c, off, out));
	case 0:
		/* raw IP: the version nibble says which */
		if ((r = need(c, off, 1, PKT_IPV4_TRUNCATED)) != PKT_OK)
			return (r);
		if (c->p[off] >> 4 == 4)
			return (parse_ipv4(c, off, out));
		if (c->p[off] >> 4 == 6)
			return (parse_ipv6(c, off, out));
		return (PKT_IP_VERSION);
	default:
		return (PKT_OK);	/* ARP, LLDP...: not ours to judge */
	}
}

/*
 * After the ethertype et (read just before off): any stacked
 * 802.1Q/802.1ad tags (IEEE 802.1Q-2018 9.5: TPID, then a TCI with the
 * VID in its low 12 bits, then the next type), then the payload.
 */
static int
parse_tags(struct cur *c, size_t off, uint16_t et, struct pkt_info *out)
{
	int	r;

	while (et == ETHERTYPE_8021Q || et == ETHERTYPE_8021AD ||
	    et == ETHERTYPE_QINQ_OLD) {
		if (out->nvlan == PKT_MAX_VLAN)
			return (PKT_VLAN_TOO_DEEP);
		if ((r = need(c, off, 4, PKT_LINK_TRUNCATED)) != PKT_OK)
			return (r);
		out->vlan[out->nvlan++] = be16(c->p + off) & 0x0fff;
		et = be16(c->p + off + 2);
		off += 4;
	}
	out->ethertype = et;
	/* an 802.3 length field (< 0x0600): LLC, not IP */
	if (et < 0x0600)
		return (PKT_OK);
	return (parse_ip(c, off, et, out));
}

int
pkt_parse(int dlt, const uint8_t *p, size_t caplen, size_t wirelen,
    struct pkt_info *out)
{
	struct cur	c;
	int		r;

	memset(out, 0, sizeof(*out));
	c.p = p;
	c.cap = caplen;
	c.end = wirelen < caplen ? caplen : wirelen;
	switch (dlt) {
	case DLT_EN10MB:
		/* destination, source, then the ethertype at 12 */
		if ((r = need(&c, 0, 14, PKT_LINK_TRUNCATED)) != PKT_OK)
			return (r);
		return (parse_tags(&c, 14, be16(p + 12), out));
	case DLT_LINUX_SLL:
		/* packet type, ARPHRD, address length, 8 address bytes,
		 * then the protocol at 14 */
		if ((r = need(&c, 0, 16, PKT_LINK_TRUNCATED)) != PKT_OK)
			return (r);
		return (parse_tags(&c, 16, be16(p + 14), out));
	case DLT_LINUX_SLL2:
		/* the protocol first, then 18 bytes of interface and address */
		if ((r = need(&c, 0, 20, PKT_LINK_TRUNCATED)) != PKT_OK)
			return (r);
		return (parse_tags(&c, 20, be16(p), out));
	case DLT_RAW:
#if DLT_RAW != LINKTYPE_RAW
	case LINKTYPE_RAW:
#endif
		return (parse_ip(&c, 0, 0, out));
	case DLT_IPV4:
		return (parse_ip(&c, 0, ETHERTYPE_IPV4, out));
	case DLT_IPV6:
		return (parse_ip(&c, 0, ETHERTYPE_IPV6, out));
	default:
		return (PKT_LINK_UNSUPPORTED);
	}
}

int
pkt_rtp_parse(const uint8_t *p, size_t caplen, size_t wirelen,
    struct pkt_rtp *out)
{
	size_t	hlen;

	if (wirelen < caplen)
		wirelen = caplen;
	/* RFC 3550 5.1: V=2, then CC 4-byte CSRCs after the fixed 12 */
	if (caplen < 12 || p[0] >> 6 != 2)
		return (-1);
	hlen = 12 + (size_t)(p[0] & 0x0f) * 4;
	if (hlen > wirelen)
		return (-1);
	/* RFC 5761 4: RTCP packet types 192..223 sit where M+PT are */
	if (p[1] >= 192 && p[1] <= 223)
		return (-1);
	out->marker = p[1] >> 7;
	out->pt = p[1] & 0x7f;
	out->seq = be16(p + 2);
	out->timestamp = be32(p + 4);
	out->ssrc = be32(p + 8);
	return (0);
}
