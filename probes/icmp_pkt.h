/*
 * ICMP / ICMPv6 echo packets: build and parse.  Pure functions: no I/O,
 * no clock, safe on any input.
 */
#ifndef ICMP_PKT_H
#define ICMP_PKT_H

#include <stddef.h>
#include <stdint.h>

#define ICMP_HDR_LEN		8
#define ICMP_COOKIE_LEN		8	/* "npb1" + 32-bit run cookie */
#define ICMP_MIN_PAYLOAD	ICMP_COOKIE_LEN

enum icmp_kind {
	ICMPK_OTHER = 0,	/* not for us: requests, other types */
	ICMPK_ECHO_REPLY,
	ICMPK_UNREACH,		/* destination unreachable (inner echo) */
	ICMPK_TIME_EXCEEDED,	/* TTL/hop limit exceeded (inner echo) */
	ICMPK_TOO_BIG,		/* frag needed / packet too big (inner echo) */
};

struct icmp_info {
	enum icmp_kind	kind;
	uint8_t		type, code;
	uint16_t	id, seq;	/* of the echo (inner one for errors) */
	uint32_t	cookie;		/* echo replies carrying our payload */
	int		has_cookie;
};

/* RFC 1071 Internet checksum. */
uint16_t	icmp_checksum(const void *, size_t);

/*
 * Build an echo request (v6: ICMPv6 type 128, checksum left 0 for the
 * kernel) with `payload` bytes after the header, starting with our
 * cookie.  Returns the packet length, or 0 if buf is too small or the
 * payload shorter than ICMP_MIN_PAYLOAD.
 */
size_t		icmp_echo_build(uint8_t *buf, size_t buflen, int v6,
		    uint16_t id, uint16_t seq, uint32_t cookie,
		    size_t payload);

/*
 * Parse a received packet.  v4 raw sockets deliver the IP header first
 * (with_iphdr); v6 and datagram sockets do not.  Returns 0 with *out
 * filled, or -1 when the packet is malformed or truncated.
 */
int		icmp_parse(const uint8_t *pkt, size_t len, int v6,
		    int with_iphdr, struct icmp_info *out);

/* min, mean, max and jitter (mean |difference| of consecutive samples). */
void		icmp_rtt_stats(const double *, unsigned, double *min,
		    double *avg, double *max, double *jitter);

#endif
