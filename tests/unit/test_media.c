/*
 * Unit tests for msg_rtp (RTP headers, the media echo block, RFC 3550
 * sequence and jitter accounting, the simplified E-model), against the
 * vectors of PROTOCOLS.md sections 4 and 5, plus truncated, malformed
 * and random input, and the config options of the udp and media probes
 * with their exact FILE:LINE:COL errors.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/netprobed.h"
#include "probes/msg_rtp.h"
#include "probes/probe.h"

#define NAME	"t.yaml"

static void
assert_close(double got, double want, double eps)
{
	if (got < want - eps || got > want + eps)
		fail_msg("got %.6f, want %.6f (+/- %g)", got, want, eps);
}

/* ---- RTP header ------------------------------------------------------ */

/* PROTOCOLS.md 4.1: the verified first packet of the test stream. */
static void
test_rtp_hdr_vector(void **state)
{
	static const uint8_t	want[] = { 0x80, 0x80, 0xff, 0xfa, 0xff, 0xff,
				    0xe3, 0x80, 0x4e, 0x50, 0x52, 0x4f };
	struct rtp_hdr		h = { 1, RTP_PT_PCMU, 65530, 4294960000U,
				    0x4e50524f }, p;
	uint8_t			buf[64];
	size_t			off, plen;

	assert_int_equal(rtp_hdr_build(buf, sizeof(buf), &h), 12);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(rtp_hdr_build(buf, 11, &h), 0);
	h.pt = 128;
	assert_int_equal(rtp_hdr_build(buf, sizeof(buf), &h), 0);

	assert_int_equal(rtp_hdr_parse(want, sizeof(want), &p, &off, &plen),
	    0);
	assert_int_equal(p.marker, 1);
	assert_int_equal(p.pt, 0);
	assert_int_equal(p.seq, 65530);
	assert_true(p.ts == 4294960000U);
	assert_true(p.ssrc == 0x4e50524f);
	assert_int_equal(off, 12);
	assert_int_equal(plen, 0);
}

static void
test_rtp_hdr_malformed(void **state)
{
	uint8_t		b[64];
	struct rtp_hdr	h;
	size_t		off, plen, n;

	memset(b, 0, sizeof(b));
	b[0] = 0x80;
	/* truncated: every length below the fixed header */
	for (n = 0; n < 12; n++)
		assert_int_equal(rtp_hdr_parse(b, n, &h, &off, &plen), -1);
	assert_int_equal(rtp_hdr_parse(b, 12, &h, &off, &plen), 0);
	/* versions 0, 1, 3 */
	b[0] = 0x00;
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), -1);
	b[0] = 0x40;
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), -1);
	b[0] = 0xc0;
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), -1);
	/* CSRC list: 2 CSRCs need 20 octets */
	b[0] = 0x82;
	assert_int_equal(rtp_hdr_parse(b, 19, &h, &off, &plen), -1);
	assert_int_equal(rtp_hdr_parse(b, 24, &h, &off, &plen), 0);
	assert_int_equal(off, 20);
	assert_int_equal(plen, 4);
	/* extension: 4-octet header, then 1 word */
	b[0] = 0x90;
	b[14] = 0;
	b[15] = 1;
	assert_int_equal(rtp_hdr_parse(b, 15, &h, &off, &plen), -1);
	assert_int_equal(rtp_hdr_parse(b, 19, &h, &off, &plen), -1);
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), 0);
	assert_int_equal(off, 20);
	b[15] = 0xff;		/* 255 words: far past the datagram */
	assert_int_equal(rtp_hdr_parse(b, 64, &h, &off, &plen), -1);
	/* padding: 0 is invalid, more than the payload is invalid */
	b[0] = 0xa0;
	b[19] = 0;
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), -1);
	b[19] = 9;
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), -1);
	b[19] = 8;
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), 0);
	assert_int_equal(plen, 0);
	b[19] = 3;
	assert_int_equal(rtp_hdr_parse(b, 20, &h, &off, &plen), 0);
	assert_int_equal(plen, 5);
}

/* ---- the echo block ---------------------------------------------------- */

static void
test_media_block(void **state)
{
	struct media_block	b, p;
	struct rtp_hdr		h = { 1, 0, 100, 1000, 0xabcdef01 }, ph;
	uint8_t			buf[12 + 160];
	size_t			i;

	memset(&b, 0, sizeof(b));
	b.kind = MEDIA_ECHO;
	b.req_seq = 0xfffe;
	b.cookie = 0x01020304;
	b.up_received = 7;
	b.up_ext_max = 0x10005;
	b.up_jitter16 = 80;
	b.up_late = 2;
	b.down_sent = 9;
	b.hold_us = 123456;
	assert_int_equal(media_packet_build(buf, sizeof(buf), 160, &h, &b),
	    172);
	/* "NPM1", kind 2, reserved 0, req_seq fffe, cookie */
	assert_memory_equal(buf + 12, "NPM1\x02\x00\xff\xfe\x01\x02\x03\x04",
	    12);
	assert_memory_equal(buf + 12 + 12,
	    "\x00\x00\x00\x07\x00\x01\x00\x05\x00\x00\x00\x50"
	    "\x00\x00\x00\x02\x00\x00\x00\x09\x00\x01\xe2\x40", 24);
	for (i = 12 + MEDIA_BLOCK_LEN; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xff);
	memset(&p, 0, sizeof(p));
	assert_int_equal(media_packet_parse(buf, sizeof(buf), &ph, &p), 0);
	assert_memory_equal(&p, &b, sizeof(p));
	assert_int_equal(ph.seq, 100);
	assert_true(ph.ssrc == 0xabcdef01);
	assert_int_equal(ph.marker, 1);

	/* smallest payload; one octet too small */
	assert_int_equal(media_packet_build(buf, sizeof(buf), MEDIA_BLOCK_LEN,
	    &h, &b), 12 + MEDIA_BLOCK_LEN);
	assert_int_equal(media_packet_build(buf, sizeof(buf),
	    MEDIA_BLOCK_LEN - 1, &h, &b), 0);
	assert_int_equal(media_packet_build(buf, 12 + 100, 160, &h, &b), 0);
	assert_int_equal(media_packet_build(buf, 11, 36, &h, &b), 0);
	b.kind = 3;
	assert_int_equal(media_packet_build(buf, sizeof(buf), 160, &h, &b),
	    0);
}

static void
test_media_block_malformed(void **state)
{
	struct media_block	b, p;
	struct rtp_hdr		h = { 0, 0, 1, 2, 3 }, ph;
	uint8_t			buf[12 + 64], bad[sizeof(buf)];
	size_t			n;

	memset(&b, 0, sizeof(b));
	b.kind = MEDIA_REQUEST;
	assert_int_equal(media_packet_build(buf, sizeof(buf), 64, &h, &b),
	    sizeof(buf));
	/* every truncation below header + block */
	for (n = 0; n < 12 + MEDIA_BLOCK_LEN; n++)
		assert_int_equal(media_packet_parse(buf, n, &ph, &p), -1);
	assert_int_equal(media_packet_parse(buf, 12 + MEDIA_BLOCK_LEN, &ph,
	    &p), 0);
	assert_int_equal(p.kind, MEDIA_REQUEST);
	/* one wrong byte at a time: magic, kind, reserved, RTP version,
	 * CSRC count, padding and extension bits */
	memcpy(bad, buf, sizeof(buf));
	bad[12 + 3] = '2';
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	memcpy(bad, buf, sizeof(buf));
	bad[12 + 4] = 0;
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	bad[12 + 4] = 3;
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	memcpy(bad, buf, sizeof(buf));
	bad[12 + 5] = 1;
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	memcpy(bad, buf, sizeof(buf));
	bad[0] = 0x40;
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	bad[0] = 0x81;
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	bad[0] = 0xa0;
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	bad[0] = 0x90;
	assert_int_equal(media_packet_parse(bad, sizeof(bad), &ph, &p), -1);
	/* the block alone */
	assert_int_equal(media_block_parse(buf + 12, MEDIA_BLOCK_LEN - 1, &p),
	    -1);
	assert_int_equal(media_block_build(bad, MEDIA_BLOCK_LEN - 1, &b), 0);
}

/* Random bytes: never a crash, never an answer past the datagram. */
static void
test_hostile(void **state)
{
	uint8_t			buf[256];
	struct rtp_hdr		h;
	struct media_block	b;
	size_t			len, off, plen, j;
	unsigned		i;

	srandom(7);
	for (i = 0; i < 50000; i++) {
		len = (size_t)random() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)random();
		if (i % 2 == 0 && len > 0)
			buf[0] = (uint8_t)(0x80 | (buf[0] & 0x3f));
		if (i % 4 == 0 && len >= 16)
			memcpy(buf + 12, "NPM1", 4);
		if (rtp_hdr_parse(buf, len, &h, &off, &plen) == 0)
			assert_true(off >= 12 && off + plen <= len);
		if (media_packet_parse(buf, len, &h, &b) == 0) {
			assert_true(len >= 12 + MEDIA_BLOCK_LEN);
			assert_true(b.kind == MEDIA_REQUEST ||
			    b.kind == MEDIA_ECHO);
		}
	}
}

/* ---- RFC 3550 statistics ------------------------------------------------ */

/* PROTOCOLS.md 4.3: seq 100-105, ts 1000 + 160 i, at 0 20 45 60 80 98 ms. */
static void
run_fixture(uint32_t ts0)
{
	static const double	at_ms[] = { 0, 20, 45, 60, 80, 98 };
	static const double	want_j[] = { 0, 0, 2.5, 4.84375, 4.5410,
				    5.2572 };
	struct rtp_jitter	jt;
	struct rtp_seqstat	s;
	double			sum_ms = 0;
	unsigned		i;

	memset(&jt, 0, sizeof(jt));
	memset(&s, 0, sizeof(s));
	for (i = 0; i < 6; i++) {
		assert_int_equal(rtp_seq_update(&s, (uint16_t)(100 + i)),
		    i == 0 ? RTP_SEQ_FIRST : RTP_SEQ_NEW);
		rtp_jitter_update(&jt, at_ms[i] * 8, ts0 + 160 * i);
		assert_close(jt.j, want_j[i], 0.0001);
		if (i > 0)
			sum_ms += rtp_jitter_seconds(&jt, 8000) * 1e3;
	}
	/* tshark: max jitter 0.657 ms, mean over packets 1-5 0.429 ms */
	assert_close(rtp_jitter_seconds(&jt, 8000) * 1e3, 0.6572, 0.0001);
	assert_close(sum_ms / 5, 0.429, 0.0005);
	assert_int_equal(jt.samples, 5);
	assert_int_equal(rtp_seq_expected(&s), 6);
	assert_int_equal(rtp_seq_lost(&s), 0);
}

static void
test_jitter_fixture(void **state)
{
	run_fixture(1000);
	/* the same stream with the timestamp wrapping mid-way */
	run_fixture(4294967296U - 400);
	assert_true(rtp_jitter_seconds(&(struct rtp_jitter){ 0 }, 0) == 0);
}

static void
test_seq_wrap(void **state)
{
	struct rtp_seqstat	s;
	uint16_t		seq;

	memset(&s, 0, sizeof(s));
	assert_int_equal(rtp_seq_expected(&s), 0);
	assert_int_equal(rtp_seq_ext_max(&s), 0);
	/* 65530 .. 65535, 0 .. 3: one wrap, ten packets */
	for (seq = 65530; seq != 4; seq++)
		(void)rtp_seq_update(&s, seq);
	assert_int_equal(rtp_seq_ext_max(&s), 65536 + 3);
	assert_int_equal(rtp_seq_expected(&s), 10);
	assert_int_equal(s.received, 10);
	assert_int_equal(rtp_seq_lost(&s), 0);
	/* late (before the wrap), duplicate, a gap of two */
	assert_int_equal(rtp_seq_update(&s, 65534), RTP_SEQ_LATE);
	assert_int_equal(rtp_seq_update(&s, 3), RTP_SEQ_DUPLICATE);
	assert_int_equal(rtp_seq_update(&s, 6), RTP_SEQ_NEW);
	assert_int_equal(s.late, 1);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(rtp_seq_expected(&s), 13);
	/* 13 received (two extra), 2 missing: lost clamps at 0 */
	assert_int_equal(s.received, 13);
	assert_int_equal(rtp_seq_lost(&s), 0);
	(void)rtp_seq_update(&s, 20);
	assert_int_equal(rtp_seq_expected(&s), 27);
	assert_int_equal(rtp_seq_lost(&s), 13);
	/* numerically below by less than 32768: late */
	assert_int_equal(rtp_seq_update(&s, (uint16_t)(20 - 1000)),
	    RTP_SEQ_LATE);
	assert_int_equal(rtp_seq_ext_max(&s), 65536 + 20);
	/* 32767 ahead is the new highest */
	assert_int_equal(rtp_seq_update(&s, 20 + 32767), RTP_SEQ_NEW);
	assert_int_equal(rtp_seq_ext_max(&s), 65536 + 32787);
	assert_int_equal(rtp_seq_update(&s, 100), RTP_SEQ_LATE);
	/* numerically 32769 below: a wrap forward by 32767 */
	assert_int_equal(rtp_seq_update(&s, 18), RTP_SEQ_NEW);
	assert_int_equal(rtp_seq_ext_max(&s), 2 * 65536 + 18);
	assert_int_equal(s.late, 3);
}

static void
test_upstream_loss(void **state)
{
	uint32_t	exp, lost;

	/* sent 65530 .. 3; the responder's highest is 3 (index 9) */
	assert_int_equal(media_upstream_loss(65530, 10, 65536 + 3, 8, &exp,
	    &lost), 0);
	assert_int_equal(exp, 10);
	assert_int_equal(lost, 2);
	/* only the low 16 bits matter (the responder's own cycle count) */
	assert_int_equal(media_upstream_loss(65530, 10, 3, 10, &exp, &lost),
	    0);
	assert_int_equal(lost, 0);
	/* duplicates: more received than expected */
	assert_int_equal(media_upstream_loss(65530, 10, 65535, 9, &exp,
	    &lost), 0);
	assert_int_equal(exp, 6);
	assert_int_equal(lost, 0);
	/* a sequence never sent, or nothing sent */
	assert_int_equal(media_upstream_loss(65530, 10, 4, 1, &exp, &lost),
	    -1);
	assert_int_equal(media_upstream_loss(65530, 10, 65529, 1, &exp,
	    &lost), -1);
	assert_int_equal(media_upstream_loss(0, 0, 0, 0, &exp, &lost), -1);
	assert_int_equal(media_upstream_loss(0, 70000, 0, 0, &exp, &lost),
	    -1);
}

/* ---- E-model: PROTOCOLS.md 5.1 vectors (baresip test/mos.c) ------------ */

static void
test_emodel_vectors(void **state)
{
	static const struct {
		double	lat, jit, loss, r, mos;
	} v[] = {
		{ 0, 0, 0, 92.95, 4.404 },
		{ 500, 0, 0, 54.20, 2.796 },
		{ 1000, 0, 0, 4.20, 1.000 },	/* raw 0.990, clamped */
		{ 0, 100, 0, 84.20, 4.172 },
		{ 0, 200, 0, 64.20, 3.315 },
		{ 0, 0, 1, 90.45, 4.350 },
		{ 0, 0, 10, 67.95, 3.499 },
		{ 10, 10, 10, 67.20, 3.463 },
	};
	size_t	i;
	double	r;

	for (i = 0; i < NP_NELEM(v); i++) {
		r = emodel_r(v[i].lat, v[i].jit, v[i].loss);
		assert_close(r, v[i].r, 0.005);
		assert_close(emodel_mos(r), v[i].mos, 0.0005);
	}
	/* the bend at 160 ms of effective latency */
	assert_close(emodel_r(149, 0, 0), 93.2 - 159.0 / 40, 1e-9);
	assert_close(emodel_r(150, 0, 0), 93.2 - 40.0 / 10, 1e-9);
	/* clamps: R to [0, 100], MOS to [1, 4.5]; nonsense inputs */
	assert_true(emodel_r(0, 0, 100) == 0);
	assert_true(emodel_r(-5, -1, -3) == emodel_r(0, 0, 0));
	assert_true(emodel_r(0.0 / 0.0, 0, 0) == emodel_r(0, 0, 0));
	assert_true(emodel_r(1.0 / 0.0, 0, 0) == 0);
	assert_true(emodel_mos(0) == 1);
	assert_true(emodel_mos(-3) == 1);
	assert_true(emodel_mos(100) == 4.5);
	assert_true(emodel_mos(150) == 4.5);
	assert_true(emodel_mos(0.0 / 0.0) == 1);
	assert_close(emodel_mos(99.9), 4.499, 0.001);
}

/* ---- config: options of udp and media ------------------------------------ */

static struct np_config *
load(const char *text, struct cfg_errors *errs)
{
	return (config_load_string(NAME, text, strlen(text), errs));
}

/* The config must fail with exactly one error, this one. */
static void
expect_error(const char *text, const char *want)
{
	struct cfg_errors	 errs;
	struct np_config	*conf;
	size_t			 i;

	conf = load(text, &errs);
	if (conf != NULL) {
		config_free(conf);
		cfg_errors_free(&errs);
		fail_msg("accepted, expected: %s", want);
	}
	if (errs.n != 1 || strcmp(errs.msg[0], want) != 0) {
		for (i = 0; i < errs.n; i++)
			print_error("got: %s\n", errs.msg[i]);
		cfg_errors_free(&errs);
		fail_msg("expected exactly: %s", want);
	}
	cfg_errors_free(&errs);
}

static struct np_config *
load_ok(const char *text)
{
	struct cfg_errors	 errs;
	struct np_config	*conf;
	size_t			 i;

	conf = load(text, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	assert_non_null(conf);
	return (conf);
}

/* Offsets into the option structs, mirrored from udp.c and media.c. */
struct udp_opts_view {
	char		*payload;
	char		*payload_hex;
	int		 expect;
	struct np_regex	*reply_regex;
	uint64_t	 retries;
};

struct media_opts_view {
	uint64_t	pps, duration, payload_size, dscp;
};

static void
test_config_udp_ok(void **state)
{
	struct np_config		*c;
	const struct udp_opts_view	*o;

	c = load_ok("probes:\n"
	    "  - name: u\n"
	    "    type: udp\n"
	    "    targets: [\"127.0.0.1:16000\", \"[::1]:16001\"]\n"
	    "    payload: \"ping\\r\\n\"\n"
	    "    reply_regex: \"^pong\"\n"
	    "    retries: 2\n"
	    "  - name: s\n"
	    "    type: udp\n"
	    "    target: 127.0.0.1:514\n"
	    "    payload_hex: 3c31333e0A\n"
	    "    expect: silence\n");
	assert_int_equal(c->nprobes, 2);
	assert_string_equal(c->probes[0].targets[1], "[::1]:16001");
	o = c->probes[0].opts;
	assert_string_equal(o->payload, "ping\r\n");
	assert_null(o->payload_hex);
	assert_int_equal(o->expect, 0);
	assert_string_equal(o->reply_regex->src, "^pong");
	assert_int_equal(o->retries, 2);
	o = c->probes[1].opts;
	assert_string_equal(o->payload_hex, "3c31333e0A");
	assert_int_equal(o->expect, 1);
	config_free(c);
}

#define UDP_HEAD	"probes:\n  - name: u\n    type: udp\n"

static void
test_config_udp_errors(void **state)
{
	expect_error(UDP_HEAD "    target: 127.0.0.1\n    payload: x\n",
	    NAME ":4:13: invalid udp target \"127.0.0.1\": expected "
	    "HOST:PORT (a port is required)");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n",
	    NAME ":2:5: probe 'u': a udp probe needs 'payload' (text) or "
	    "'payload_hex'");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n    payload: x\n"
	    "    payload_hex: \"00\"\n",
	    NAME ":6:18: probe 'u': give either 'payload' (text) or "
	    "'payload_hex', not both");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n"
	    "    payload_hex: abc\n",
	    NAME ":5:18: probe 'u': 'payload_hex' must have an even number "
	    "of hex digits (two per byte), got 3");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n"
	    "    payload_hex: 00zz\n",
	    NAME ":5:18: probe 'u': 'payload_hex' has 'z' at offset 2: only "
	    "hex digits 0-9 a-f are allowed");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n"
	    "    payload_hex: \"00 11\"\n",
	    NAME ":5:18: probe 'u': 'payload_hex' has ' ' at offset 2: only "
	    "hex digits 0-9 a-f are allowed");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n    payload: \"\"\n",
	    NAME ":5:14: 'payload' must not be empty");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n    payload: x\n"
	    "    expect: maybe\n",
	    NAME ":6:13: 'expect' must be one of reply, silence, got "
	    "\"maybe\"");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n    payload: x\n"
	    "    expect: silence\n    reply_regex: ok\n",
	    NAME ":7:18: probe 'u': 'reply_regex' needs 'expect: reply' "
	    "(with 'expect: silence' any reply is a failure)");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n    payload: x\n"
	    "    reply_regex: \"(\"\n",
	    NAME ":6:18: 'reply_regex': invalid regular expression \"(\": "
	    "Unmatched ( or \\(");
	expect_error(UDP_HEAD "    target: 127.0.0.1:7\n    payload: x\n"
	    "    retries: 11\n",
	    NAME ":6:14: 'retries' must be between 0 and 10, got 11");
}

static void
test_config_media(void **state)
{
	struct np_config		*c;
	const struct media_opts_view	*o;

	c = load_ok("probes:\n"
	    "  - name: m\n"
	    "    type: media\n"
	    "    target: 127.0.0.1:16000\n"
	    "    timeout: 4s\n"
	    "    packets_per_second: 100\n"
	    "    duration: 3s\n"
	    "    payload_size: 36\n"
	    "    dscp: 0\n"
	    "  - name: d\n"
	    "    type: media\n"
	    "    target: \"[::1]:16000\"\n");
	o = c->probes[0].opts;
	assert_int_equal(o->pps, 100);
	assert_int_equal(o->duration, 3000);
	assert_int_equal(o->payload_size, 36);
	assert_int_equal(o->dscp, 0);
	o = c->probes[1].opts;
	assert_int_equal(o->pps, 50);
	assert_int_equal(o->duration, 0);	/* auto: half the timeout */
	assert_int_equal(o->payload_size, 160);
	assert_int_equal(o->dscp, 46);
	config_free(c);
}

#define MEDIA_HEAD	"probes:\n  - name: m\n    type: media\n" \
			"    target: 127.0.0.1:16000\n"

static void
test_config_media_errors(void **state)
{
	expect_error(MEDIA_HEAD "    timeout: 2s\n    duration: 2s\n",
	    NAME ":6:15: probe 'm': duration (2s) must be shorter than the "
	    "timeout (2s), so the last echoes can come back");
	expect_error(MEDIA_HEAD "    packets_per_second: 0\n",
	    NAME ":5:25: 'packets_per_second' must be between 1 and 1000, "
	    "got 0");
	expect_error(MEDIA_HEAD "    payload_size: 35\n",
	    NAME ":5:19: 'payload_size' must be between 36 and 1400, got 35");
	expect_error(MEDIA_HEAD "    dscp: 64\n",
	    NAME ":5:11: 'dscp' must be between 0 and 63, got 64");
	expect_error(MEDIA_HEAD "    duration: 50ms\n",
	    NAME ":5:15: 'duration' must be between 100ms and 10m, got 50ms");
	expect_error(MEDIA_HEAD "    interval: 1m\n    timeout: 50s\n"
	    "    packets_per_second: 1000\n    duration: 20s\n",
	    NAME ":7:25: probe 'm': 1000 packets/s for 20s is 20000 "
	    "packets; a run sends 1 to 10000");
	expect_error(MEDIA_HEAD "    timeout: 1s\n    packets_per_second: 1\n",
	    NAME ":6:25: probe 'm': 1 packets/s for 500ms is 0 packets; a "
	    "run sends 1 to 10000");
	expect_error("probes:\n  - name: m\n    type: media\n"
	    "    target: 127.0.0.1\n",
	    NAME ":4:13: invalid media target \"127.0.0.1\": expected "
	    "HOST:PORT (a port is required)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_hdr_vector),
		cmocka_unit_test(test_rtp_hdr_malformed),
		cmocka_unit_test(test_media_block),
		cmocka_unit_test(test_media_block_malformed),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_jitter_fixture),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_upstream_loss),
		cmocka_unit_test(test_emodel_vectors),
		cmocka_unit_test(test_config_udp_ok),
		cmocka_unit_test(test_config_udp_errors),
		cmocka_unit_test(test_config_media),
		cmocka_unit_test(test_config_media_errors),
	};

	return (cmocka_run_group_tests_name("media", tests, NULL, NULL));
}
