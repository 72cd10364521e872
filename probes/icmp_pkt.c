/*
 * ICMP echo build and parse (RFC 792, RFC 4443).  No I/O.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "probes/icmp_pkt.h"

#define ICMP4_ECHO_REPLY	0
#define ICMP4_UNREACH		3
#define ICMP4_ECHO		8
#define ICMP4_TIME_EXCEEDED	11
#define ICMP4_FRAG_NEEDED	4	/* code of ICMP4_UNREACH */
#define ICMP6_UNREACH		1
#define ICMP6_TOO_BIG		2
#define ICMP6_TIME_EXCEEDED	3
#define ICMP6_ECHO		128
#define ICMP6_ECHO_REPLY	129
#define IP6_HDR_LEN		40

static const uint8_t cookie_magic[4] = { 'n', 'p', 'b', '1' };

uint16_t
icmp_checksum(const void *data, size_t len)
{
	const uint8_t	*p = data;
	uint32_t	 sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len == 1)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

size_t
icmp_echo_build(uint8_t *buf, size_t buflen, int v6, uint16_t id,
    uint16_t seq, uint32_t cookie, size_t payload)
{
	size_t	len = ICMP_HDR_LEN + payload, i;

	if (payload < ICMP_MIN_PAYLOAD || len > buflen)
		return (0);
	buf[0] = v6 ? ICMP6_ECHO : ICMP4_ECHO;
	buf[1] = 0;
	put16(buf + 2, 0);
	put16(buf + 4, id);
	put16(buf + 6, seq);
	memcpy(buf + 8, cookie_magic, 4);
	buf[12] = (uint8_t)(cookie >> 24);
	buf[13] = (uint8_t)(cookie >> 16);
	buf[14] = (uint8_t)(cookie >> 8);
	buf[15] = (uint8_t)cookie;
	for (i = ICMP_HDR_LEN + ICMP_COOKIE_LEN; i < len; i++)
		buf[i] = (uint8_t)i;
	if (!v6)	/* the kernel fills the ICMPv6 checksum itself */
		put16(buf + 2, icmp_checksum(buf, len));
	return (len);
}

/* Length of the IPv4 header at p, or 0 if it is not a sane one. */
static size_t
ip4_hdr_len(const uint8_t *p, size_t len)
{
	size_t	hl;

	if (len < 20 || (p[0] >> 4) != 4)
		return (0);
	hl = (size_t)(p[0] & 0x0f) * 4;
	if (hl < 20 || hl > len)
		return (0);
	return (hl);
}

/* The echo header quoted inside an ICMP error. */
static int
parse_inner(const uint8_t *p, size_t len, int v6, struct icmp_info *out)
{
	size_t	hl;

	if (v6) {
		if (len < IP6_HDR_LEN + ICMP_HDR_LEN || (p[0] >> 4) != 6 ||
		    p[6] != 58 /* ICMPv6 */)
			return (-1);
		hl = IP6_HDR_LEN;
		if (p[hl] != ICMP6_ECHO)
			return (-1);
	} else {
		if ((hl = ip4_hdr_len(p, len)) == 0 ||
		    len < hl + ICMP_HDR_LEN || p[9] != 1 /* ICMP */)
			return (-1);
		if (p[hl] != ICMP4_ECHO)
			return (-1);
	}
	out->id = get16(p + hl + 4);
	out->seq = get16(p + hl + 6);
	return (0);
}

int
icmp_parse(const uint8_t *pkt, size_t len, int v6, int with_iphdr,
    struct icmp_info *out)
{
	size_t		hl = 0;
	const uint8_t	*p;

	memset(out, 0, sizeof(*out));
	if (with_iphdr && (hl = ip4_hdr_len(pkt, len)) == 0)
		return (-1);
	p = pkt + hl;
	len -= hl;
	if (len < ICMP_HDR_LEN)
		return (-1);
	out->type = p[0];
	out->code = p[1];

	if (p[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY)) {
		out->kind = ICMPK_ECHO_REPLY;
		out->id = get16(p + 4);
		out->seq = get16(p + 6);
		if (len >= ICMP_HDR_LEN + ICMP_COOKIE_LEN &&
		    memcmp(p + 8, cookie_magic, 4) == 0) {
			out->has_cookie = 1;
			out->cookie = (uint32_t)p[12] << 24 |
			    (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
		}
		return (0);
	}
	if (v6) {
		if (p[0] == ICMP6_UNREACH)
			out->kind = ICMPK_UNREACH;
		else if (p[0] == ICMP6_TOO_BIG)
			out->kind = ICMPK_TOO_BIG;
		else if (p[0] == ICMP6_TIME_EXCEEDED)
			out->kind = ICMPK_TIME_EXCEEDED;
	} else {
		if (p[0] == ICMP4_UNREACH)
			out->kind = p[1] == ICMP4_FRAG_NEEDED ? ICMPK_TOO_BIG :
			    ICMPK_UNREACH;
		else if (p[0] == ICMP4_TIME_EXCEEDED)
			out->kind = ICMPK_TIME_EXCEEDED;
	}
	if (out->kind == ICMPK_OTHER)
		return (0);
	/* errors quote the offending packet after an 8-byte header */
	if (parse_inner(p + ICMP_HDR_LEN, len - ICMP_HDR_LEN, v6, out) == -1) {
		out->kind = ICMPK_OTHER;
		return (-1);
	}
	return (0);
}

/* min, mean, max and mean absolute difference of consecutive samples */
void
icmp_rtt_stats(const double *v, unsigned n, double *min, double *avg,
    double *max, double *jitter)
{
	double		sum = 0, jsum = 0;
	unsigned	i;

	*min = *max = n ? v[0] : 0;
	for (i = 0; i < n; i++) {
		sum += v[i];
		if (v[i] < *min)
			*min = v[i];
		if (v[i] > *max)
			*max = v[i];
		if (i > 0)
			jsum += fabs(v[i] - v[i - 1]);
	}
	*avg = n ? sum / n : 0;
	*jitter = n > 1 ? jsum / (n - 1) : 0;
}
