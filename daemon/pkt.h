/*
 * The watchers' packet classifier: one captured frame, of any link type
 * libpcap hands us on Linux, to its addresses, protocol and ports, and
 * the RTP header check of the conference checks.
 *
 * Pure: no I/O, no allocation, no clock.  Hostile input is the normal
 * case here (anything on the wire reaches it), so every read is bounded
 * by the captured length, every length field is checked against the
 * bytes that were on the wire, and every way a frame can be unusable
 * has a named reason the watcher counts.  Unit-tested and fuzzed.
 */
#ifndef DAEMON_PKT_H
#define DAEMON_PKT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Why a frame could not be classified: the `reason` label of
 * netprobe_watcher_malformed_packets_total (pkt_reason_name()).
 */
enum pkt_reason {
	PKT_OK = 0,
	PKT_LINK_TRUNCATED,	/* shorter than its link header or a tag */
	PKT_LINK_UNSUPPORTED,	/* a link type we do not decode */
	PKT_VLAN_TOO_DEEP,	/* more than PKT_MAX_VLAN stacked tags */
	PKT_IP_VERSION,		/* the IP version is not the link's */
	PKT_IPV4_TRUNCATED,	/* the IPv4 header is cut short */
	PKT_IPV4_HEADER_LENGTH,	/* IHL below 5 words */
	PKT_IPV4_TOTAL_LENGTH,	/* total length beyond the frame or < IHL */
	PKT_IPV6_TRUNCATED,	/* the fixed IPv6 header is cut short */
	PKT_IPV6_PAYLOAD_LENGTH, /* payload length beyond the frame */
	PKT_IPV6_EXT_TRUNCATED,	/* an extension header runs past the end */
	PKT_IPV6_EXT_CHAIN,	/* more than PKT_MAX_EXT extension headers */
	PKT_FRAGMENT_OVERSIZE,	/* offset + length past 65535 bytes */
	PKT_TCP_TRUNCATED,	/* the TCP header is cut short */
	PKT_TCP_HEADER_LENGTH,	/* data offset below 5 or past the end */
	PKT_UDP_TRUNCATED,	/* the UDP header is cut short */
	PKT_UDP_LENGTH,		/* UDP length below 8 or past the end */
	PKT_ICMP_TRUNCATED,	/* the ICMP header is cut short */
	PKT_SNAPLEN,		/* fine on the wire, but the capture's
				   snaplen cut the headers we need */
	PKT_REASON_MAX
};

#define PKT_MAX_VLAN	4	/* 802.1Q/802.1ad tags in one frame */
#define PKT_MAX_EXT	8	/* IPv6 extension headers in one packet */

enum pkt_frag {
	PKT_FRAG_NONE = 0,	/* not a fragment (or an atomic one) */
	PKT_FRAG_FIRST,		/* offset 0, more follow: has the ports */
	PKT_FRAG_LATER		/* offset > 0: no transport header */
};

struct pkt_info {
	int		 family;	/* AF_INET, AF_INET6; 0: not IP */
	uint16_t	 ethertype;	/* inside the VLAN tags; 0 for raw IP */
	unsigned	 nvlan;
	uint16_t	 vlan[PKT_MAX_VLAN];	/* VIDs, outermost first */
	uint8_t		 src[16];	/* IPv4: the first 4 bytes */
	uint8_t		 dst[16];
	uint8_t		 proto;		/* upper layer, after IPv6 ext hdrs */
	uint8_t		 hop_limit;	/* TTL */
	int		 frag;		/* enum pkt_frag */
	int		 has_ports;	/* TCP or UDP with its ports */
	uint16_t	 sport, dport;
	int		 has_tcp_flags;
	uint8_t		 tcp_flags;
	int		 has_icmp;	/* ICMP (v4) or ICMPv6 type and code */
	uint8_t		 icmp_type, icmp_code;
	/* UDP only: the captured part of the payload (NULL: none) */
	const uint8_t	*payload;
	size_t		 payload_len;	/* captured bytes at payload */
	size_t		 payload_wire_len; /* its length by the UDP header */
};

/*
 * Classify one frame of link type dlt (a DLT_* value: EN10MB with
 * 802.1Q/802.1ad tags, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6): caplen
 * bytes were captured of wirelen on the wire (wirelen < caplen is taken
 * as caplen).  Returns PKT_OK with *out filled (family 0 for a frame
 * that is not IP: ARP, LLDP...; it is not malformed), or the reason it
 * is unusable, with *out partly filled.  Never reads past p + caplen;
 * out->payload points into p.
 */
int		 pkt_parse(int dlt, const uint8_t *p, size_t caplen,
		    size_t wirelen, struct pkt_info *out);
/* "tcp_truncated" etc.; "ok" for PKT_OK; "unknown" out of range. */
const char	*pkt_reason_name(int reason);

/* The fixed RTP header (RFC 3550 section 5.1). */
struct pkt_rtp {
	uint8_t		 pt;		/* payload type */
	int		 marker;
	uint16_t	 seq;
	uint32_t	 timestamp;
	uint32_t	 ssrc;
};

/*
 * Is this UDP payload an RTP packet?  caplen bytes captured of wirelen:
 * version 2, a whole fixed header and CSRC list, and not RTCP (RFC 5761
 * section 4: second byte 192..223).  0 with *out filled, or -1.
 */
int		 pkt_rtp_parse(const uint8_t *p, size_t caplen, size_t wirelen,
		    struct pkt_rtp *out);

#endif /* DAEMON_PKT_H */
