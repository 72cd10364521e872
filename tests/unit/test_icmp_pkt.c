/*
 * ICMP echo build and parse: checksums, id/seq/cookie matching, IPv6,
 * errors quoting our echo, and hostile input.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "probes/icmp_pkt.h"

/* An IPv4 header (no options) for protocol 1 in front of len bytes. */
static size_t
ip4_wrap(uint8_t *out, const uint8_t *payload, size_t len)
{
	memset(out, 0, 20);
	out[0] = 0x45;
	out[2] = (uint8_t)((20 + len) >> 8);
	out[3] = (uint8_t)(20 + len);
	out[8] = 64;
	out[9] = 1;
	memcpy(out + 20, payload, len);
	return (20 + len);
}

static void
test_checksum(void **state)
{
	/* RFC 1071 section 3 example bytes */
	static const uint8_t	d[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
				    0xf6, 0xf7 };
	uint8_t			odd[] = { 0x01 };

	assert_int_equal(icmp_checksum(d, sizeof(d)), (uint16_t)~0xddf2);
	assert_int_equal(icmp_checksum(odd, 1), (uint16_t)~0x0100);
}

static void
test_build_v4(void **state)
{
	uint8_t	pkt[128];
	size_t	len;

	len = icmp_echo_build(pkt, sizeof(pkt), 0, 0x1234, 7, 0xdeadbeef, 56);
	assert_int_equal(len, 64);
	assert_int_equal(pkt[0], 8);		/* echo request */
	assert_int_equal(pkt[1], 0);
	assert_int_equal(pkt[4] << 8 | pkt[5], 0x1234);
	assert_int_equal(pkt[6] << 8 | pkt[7], 7);
	assert_memory_equal(pkt + 8, "npb1", 4);
	/* a correct checksum sums to zero over the whole packet */
	assert_int_equal(icmp_checksum(pkt, len), 0);
	/* too small a buffer or payload */
	assert_int_equal(icmp_echo_build(pkt, 20, 0, 1, 1, 1, 56), 0);
	assert_int_equal(icmp_echo_build(pkt, sizeof(pkt), 0, 1, 1, 1, 4), 0);
}

static void
test_build_v6(void **state)
{
	uint8_t	pkt[128];
	size_t	len;

	len = icmp_echo_build(pkt, sizeof(pkt), 1, 0xabcd, 65535, 1, 8);
	assert_int_equal(len, 16);
	assert_int_equal(pkt[0], 128);
	/* the kernel computes ICMPv6 checksums over the pseudo-header */
	assert_int_equal(pkt[2] | pkt[3], 0);
	assert_int_equal(pkt[6] << 8 | pkt[7], 65535);
}

/* Turn our request into the reply a peer would send. */
static size_t
make_reply(uint8_t *pkt, int v6, uint16_t id, uint16_t seq, uint32_t cookie)
{
	size_t	len = icmp_echo_build(pkt, 128, v6, id, seq, cookie, 56);

	pkt[0] = v6 ? 129 : 0;
	return (len);
}

static void
test_parse_reply_v4(void **state)
{
	uint8_t			icmp[128], ip[160];
	struct icmp_info	info;
	size_t			len;

	len = ip4_wrap(ip, icmp, make_reply(icmp, 0, 0x1234, 9, 0xcafe0001));
	assert_int_equal(icmp_parse(ip, len, 0, 1, &info), 0);
	assert_int_equal(info.kind, ICMPK_ECHO_REPLY);
	assert_int_equal(info.id, 0x1234);
	assert_int_equal(info.seq, 9);
	assert_true(info.has_cookie);
	assert_int_equal(info.cookie, 0xcafe0001);
	/* datagram sockets hand over the ICMP message alone */
	len = make_reply(icmp, 0, 1, 2, 3);
	assert_int_equal(icmp_parse(icmp, len, 0, 0, &info), 0);
	assert_int_equal(info.kind, ICMPK_ECHO_REPLY);
	/* our own request seen on loopback is not a reply */
	len = icmp_echo_build(icmp, sizeof(icmp), 0, 1, 2, 3, 56);
	assert_int_equal(icmp_parse(icmp, len, 0, 0, &info), 0);
	assert_int_equal(info.kind, ICMPK_OTHER);
	/* someone else's payload: no cookie */
	len = make_reply(icmp, 0, 1, 2, 3);
	icmp[8] = 'X';
	assert_int_equal(icmp_parse(icmp, len, 0, 0, &info), 0);
	assert_false(info.has_cookie);
}

static void
test_parse_reply_v6(void **state)
{
	uint8_t			pkt[128];
	struct icmp_info	info;
	size_t			len = make_reply(pkt, 1, 0xabcd, 3, 42);

	assert_int_equal(icmp_parse(pkt, len, 1, 0, &info), 0);
	assert_int_equal(info.kind, ICMPK_ECHO_REPLY);
	assert_int_equal(info.id, 0xabcd);
	assert_int_equal(info.seq, 3);
	assert_int_equal(info.cookie, 42);
	/* an IPv4 echo reply type means nothing on an ICMPv6 socket */
	pkt[0] = 0;
	assert_int_equal(icmp_parse(pkt, len, 1, 0, &info), 0);
	assert_int_equal(info.kind, ICMPK_OTHER);
}

static void
test_parse_errors_v4(void **state)
{
	uint8_t			req[128], inner_ip[160], err[200], ip[240];
	struct icmp_info	info;
	size_t			n, len;

	n = ip4_wrap(inner_ip, req, icmp_echo_build(req, sizeof(req), 0,
	    0x4242, 77, 5, 56));
	/* type 3 code 1 (host unreachable) quoting IP header + 8 bytes */
	memset(err, 0, 8);
	err[0] = 3;
	err[1] = 1;
	memcpy(err + 8, inner_ip, 28);
	len = ip4_wrap(ip, err, 36);
	assert_int_equal(icmp_parse(ip, len, 0, 1, &info), 0);
	assert_int_equal(info.kind, ICMPK_UNREACH);
	assert_int_equal(info.id, 0x4242);
	assert_int_equal(info.seq, 77);
	/* code 4: fragmentation needed */
	ip[21] = 4;
	assert_int_equal(icmp_parse(ip, len, 0, 1, &info), 0);
	assert_int_equal(info.kind, ICMPK_TOO_BIG);
	/* type 11: time exceeded */
	err[0] = 11;
	err[1] = 0;
	len = ip4_wrap(ip, err, 8 + n);
	memcpy(ip + 28, inner_ip, n);
	assert_int_equal(icmp_parse(ip, len, 0, 1, &info), 0);
	assert_int_equal(info.kind, ICMPK_TIME_EXCEEDED);
	/* quoting something that is not our echo: malformed for us */
	ip[28 + 20] = 13;	/* timestamp request */
	assert_int_equal(icmp_parse(ip, len, 0, 1, &info), -1);
	assert_int_equal(info.kind, ICMPK_OTHER);
	/* quote cut short */
	len = ip4_wrap(ip, err, 8 + 20 + 4);
	assert_int_equal(icmp_parse(ip, len, 0, 1, &info), -1);
}

static void
test_parse_errors_v6(void **state)
{
	uint8_t			pkt[128];
	struct icmp_info	info;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 1;		/* destination unreachable */
	pkt[1] = 3;
	pkt[8] = 0x60;		/* quoted IPv6 header */
	pkt[8 + 6] = 58;	/* next header ICMPv6 */
	icmp_echo_build(pkt + 48, 64, 1, 0x0102, 0x0304, 9, 8);
	assert_int_equal(icmp_parse(pkt, 48 + 16, 1, 0, &info), 0);
	assert_int_equal(info.kind, ICMPK_UNREACH);
	assert_int_equal(info.id, 0x0102);
	assert_int_equal(info.seq, 0x0304);
	pkt[0] = 2;		/* packet too big */
	assert_int_equal(icmp_parse(pkt, 48 + 16, 1, 0, &info), 0);
	assert_int_equal(info.kind, ICMPK_TOO_BIG);
	pkt[8 + 6] = 17;	/* quoted UDP: not ours */
	assert_int_equal(icmp_parse(pkt, 48 + 16, 1, 0, &info), -1);
}

static void
test_hostile(void **state)
{
	uint8_t			buf[96];
	struct icmp_info	info;
	unsigned		i, len;

	/* short packets and bad IP headers */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(icmp_parse(buf, 0, 0, 0, &info), -1);
	assert_int_equal(icmp_parse(buf, 7, 1, 0, &info), -1);
	buf[0] = 0x4f;	/* IHL 60 bytes, only 40 present */
	assert_int_equal(icmp_parse(buf, 40, 0, 1, &info), -1);
	buf[0] = 0x44;	/* IHL 16 < 20 */
	assert_int_equal(icmp_parse(buf, 40, 0, 1, &info), -1);
	buf[0] = 0x65;	/* version 6 on a v4 socket */
	assert_int_equal(icmp_parse(buf, 40, 0, 1, &info), -1);
	/* random bytes of every length: never a crash, never a reply
	 * without a complete header */
	srandom(1);
	for (i = 0; i < 20000; i++) {
		unsigned j;

		len = (unsigned)random() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)random();
		if (i % 3 == 0 && len > 0)
			buf[0] = 0x45;
		if (icmp_parse(buf, len, (int)(i & 1), (int)(i % 3 == 0),
		    &info) == 0 && info.kind == ICMPK_ECHO_REPLY)
			assert_true(len >= 8);
	}
}

static void
test_rtt_stats(void **state)
{
	const double	v[] = { 0.010, 0.030, 0.020, 0.020 };
	double		mn, avg, mx, jit;

	icmp_rtt_stats(v, 4, &mn, &avg, &mx, &jit);
	assert_true(mn == 0.010);
	assert_true(mx == 0.030);
	assert_true(avg > 0.01999 && avg < 0.02001);
	/* |20| + |10| + |0| over 3 differences = 10 ms */
	assert_true(jit > 0.00999 && jit < 0.01001);
	icmp_rtt_stats(v, 1, &mn, &avg, &mx, &jit);
	assert_true(mn == 0.010 && avg == 0.010 && mx == 0.010 && jit == 0);
	icmp_rtt_stats(v, 0, &mn, &avg, &mx, &jit);
	assert_true(avg == 0 && jit == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_build_v4),
		cmocka_unit_test(test_build_v6),
		cmocka_unit_test(test_parse_reply_v4),
		cmocka_unit_test(test_parse_reply_v6),
		cmocka_unit_test(test_parse_errors_v4),
		cmocka_unit_test(test_parse_errors_v6),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_rtt_stats),
	};

	return (cmocka_run_group_tests_name("icmp_pkt", tests, NULL, NULL));
}
