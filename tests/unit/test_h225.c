/*
 * msg_h225 and the h323 probe's options: every message built matches
 * the tshark-checked vectors of shared/PROTOCOLS.md byte for byte; every
 * reply vector parses to the values the notes give; truncated, oversized,
 * inconsistent and random input is an error, never a crash; bad option
 * values are reported at their line and column.
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
#include "probes/msg_h225.h"
#include "probes/probe.h"

#define NAME	"t.yaml"

/* PROTOCOLS.md example identifiers */
static const char conf_hex[] = "7a1b2c3d4e5f40718293a4b5c6d7e8f9";
static const char call_hex[] = "0f1e2d3c4b5a49687786958493a2b1c0";

/* Hex text to bytes; returns the length. */
static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t		n = strlen(hex) / 2, i;
	unsigned	v;

	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return (n);
}

static void
assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t	buf[512];
	size_t	n = unhex(want, buf, sizeof(buf));

	assert_int_equal(len, n);
	assert_memory_equal(got, buf, n);
}

static void
lo4(struct h225_taddr *t, uint16_t port)
{
	memset(t, 0, sizeof(*t));
	t->ip[0] = 127;
	t->ip[3] = 1;
	t->port = port;
}

/* ---- RAS requests -------------------------------------------------- */

static void
test_grq(void **state)
{
	struct h225_taddr	t;
	struct h225_ras		r;
	const char		*why;
	uint8_t			buf[128];
	size_t			n;

	(void)state;
	lo4(&t, 50000);
	n = h225_grq_build(buf, sizeof(buf), 4660, &t, NULL);
	assert_hex(buf, n, "00001233060008914a0004007f000001c3500200");
	/* with an h323-ID alias, as check_h323 sends it */
	n = h225_grq_build(buf, sizeof(buf), 4661, &t, "netprobed");
	assert_hex(buf, n, "00201234060008914a0004007f000001c350020001400800"
	    "6e0065007400700072006f006200650064");
	/* what we send parses back as a GRQ with its number */
	assert_int_equal(h225_ras_parse(buf, n, &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_GRQ);
	assert_int_equal(r.seq, 4661);
	/* seq 65535 goes out as 65534 */
	n = h225_grq_build(buf, sizeof(buf), 65535, &t, NULL);
	assert_int_equal(buf[2] << 8 | buf[3], 65534);
}

static void
test_grq_v6(void **state)
{
	struct h225_taddr	t;
	uint8_t			buf[128];
	size_t			n;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.v6 = 1;
	t.ip[15] = 1;
	t.port = 50000;
	n = h225_grq_build(buf, sizeof(buf), 4660, &t, NULL);
	assert_int_equal(n, 32);
	/* ip6Address: b6-4 011, its own extension bit 0, then padding */
	assert_int_equal(buf[11], 0x30);
	assert_int_equal(buf[27], 1);
	assert_int_equal(buf[28] << 8 | buf[29], 50000);
	assert_int_equal(buf[30], 0x02);	/* terminal */
	assert_int_equal(buf[31], 0x00);
}

static void
test_lrq(void **state)
{
	struct h225_taddr	t;
	struct h225_ras		r;
	const char		*why;
	uint8_t			buf[600];
	char			big[300];
	size_t			n;

	(void)state;
	lo4(&t, 50000);
	n = h225_lrq_build(buf, sizeof(buf), 4662, "1001", &t);
	assert_hex(buf, n, "480012350101804334007f000001c350");
	assert_int_equal(h225_ras_parse(buf, n, &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_LRQ);
	assert_int_equal(r.seq, 4662);
	/* a name is an h323-ID: same layout as the GRQ alias */
	n = h225_lrq_build(buf, sizeof(buf), 4662, "mcu", &t);
	assert_hex(buf, n, "4800123501400200" "6d00630075" "007f000001c350");
	/* non-ASCII goes out as UTF-16BE: 金 is U+91D1 */
	n = h225_lrq_build(buf, sizeof(buf), 1, "金a", &t);
	assert_hex(buf, n, "48000000014001" "91d10061" "007f000001c350");
	/* the longest h323-ID: 256 characters, length octet 255 */
	memset(big, 'x', 256);
	big[256] = '\0';
	n = h225_lrq_build(buf, sizeof(buf), 1, big, &t);
	assert_int_equal(n, 4 + 1 + 1 + 1 + 512 + 7);
	assert_int_equal(buf[6], 255);
	big[257] = '\0';
	big[256] = 'x';
	assert_int_equal(h225_lrq_build(buf, sizeof(buf), 1, big, &t), 0);
}

/* Builders refuse what they cannot encode and never overrun. */
static void
test_ras_build_limits(void **state)
{
	struct h225_taddr	t;
	uint8_t			buf[64];
	size_t			n, i;

	(void)state;
	lo4(&t, 1719);
	assert_int_equal(h225_grq_build(buf, sizeof(buf), 0, &t, NULL), 0);
	assert_int_equal(h225_lrq_build(buf, sizeof(buf), 0, "1", &t), 0);
	assert_int_equal(h225_lrq_build(buf, sizeof(buf), 1, "", &t), 0);
	assert_int_equal(h225_grq_build(buf, sizeof(buf), 1, &t, "a\x01"),
	    0);
	n = h225_grq_build(buf, sizeof(buf), 7, &t, "gw");
	assert_int_not_equal(n, 0);
	for (i = 0; i < n; i++)
		assert_int_equal(h225_grq_build(buf, i, 7, &t, "gw"), 0);
	n = h225_lrq_build(buf, sizeof(buf), 7, "1234", &t);
	for (i = 0; i < n; i++)
		assert_int_equal(h225_lrq_build(buf, i, 7, "1234", &t), 0);
}

static void
test_alias_check(void **state)
{
	char	s[300];

	(void)state;
	assert_null(h225_alias_check("1001"));
	assert_null(h225_alias_check("#*,0"));
	assert_null(h225_alias_check("MCU 金水区"));
	assert_null(h225_alias_check("é"));
	assert_non_null(h225_alias_check(""));
	assert_non_null(h225_alias_check(NULL));
	assert_non_null(h225_alias_check("bad\tchar"));
	assert_non_null(h225_alias_check("\xff"));
	assert_non_null(h225_alias_check("\xc3"));		/* cut short */
	assert_non_null(h225_alias_check("\xc0\xaf"));		/* overlong */
	assert_non_null(h225_alias_check("\xed\xa0\x80"));	/* surrogate */
	assert_non_null(h225_alias_check("\xf0\x9f\x98\x80"));	/* not BMP */
	memset(s, '1', 128);
	s[128] = '\0';
	assert_null(h225_alias_check(s));
	s[128] = '1';
	s[129] = '\0';
	assert_string_equal(h225_alias_check(s),
	    "dialled digits take at most 128 characters");
	memset(s, 'a', 257);
	s[257] = '\0';
	assert_string_equal(h225_alias_check(s),
	    "an h323-ID takes at most 256 characters");
	s[256] = '\0';
	assert_null(h225_alias_check(s));

	assert_null(h225_number_check("1001"));
	assert_null(h225_number_check("*99#"));
	assert_non_null(h225_number_check(""));
	assert_non_null(h225_number_check(NULL));
	assert_non_null(h225_number_check("10,01"));
	assert_non_null(h225_number_check("12a"));
	memset(s, '9', 33);
	s[33] = '\0';
	assert_non_null(h225_number_check(s));
	s[32] = '\0';
	assert_null(h225_number_check(s));
}

/* ---- RAS replies --------------------------------------------------- */

static int
parse_hex(const char *hex, struct h225_ras *r, const char **why)
{
	uint8_t	buf[256];
	size_t	n = unhex(hex, buf, sizeof(buf));

	*why = NULL;
	return (h225_ras_parse(buf, n, r, why));
}

static void
test_ras_replies(void **state)
{
	struct h225_ras	r;
	const char	*why;

	(void)state;
	assert_int_equal(parse_hex("04801233060008914a0004020047004b007f000002"
	    "06b7", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_GCF);
	assert_true(r.has_seq);
	assert_int_equal(r.seq, 4660);
	assert_string_equal(r.gk_id, "GK");
	assert_null(r.reason);

	/* GCF without gatekeeperIdentifier */
	assert_int_equal(parse_hex("04001233060008914a0004007f00000206b7", &r,
	    &why), 0);
	assert_int_equal(r.type, H225_RAS_GCF);
	assert_string_equal(r.gk_id, "");

	assert_int_equal(parse_hex("08001234060008914a000420", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_GRJ);
	assert_int_equal(r.seq, 4661);
	assert_string_equal(r.reason, "terminalExcluded");

	assert_int_equal(parse_hex("4c1235007f00000206b8007f00000206b7", &r,
	    &why), 0);
	assert_int_equal(r.type, H225_RAS_LCF);
	assert_int_equal(r.seq, 4662);

	assert_int_equal(parse_hex("50123600", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_LRJ);
	assert_int_equal(r.seq, 4663);
	assert_string_equal(r.reason, "notRegistered");
	/* an extension reason: index 10 noRouteToDestination */
	assert_int_equal(parse_hex("5012368a0100", &r, &why), 0);
	assert_string_equal(r.reason, "noRouteToDestination");

	assert_int_equal(parse_hex("80050012350bb7", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_RIP);
	assert_int_equal(r.seq, 4662);
	assert_int_equal(r.delay_ms, 3000);
	/* RIP with nonStandardData: the delay is not at hand */
	assert_int_equal(parse_hex("800440123500", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_RIP);
	assert_int_equal(r.seq, 4662);
	assert_int_equal(r.delay_ms, 0);

	assert_int_equal(parse_hex("601233", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_XRS);
	assert_int_equal(r.seq, 4660);
	/* XRS with its extension bit set (messageNotUnderstood follows) */
	assert_int_equal(parse_hex("621233", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_XRS);
	assert_int_equal(r.seq, 4660);

	/* alternatives the probe does not use (an RRQ, and RAI as an
	 * extension alternative): not errors, not answers */
	assert_int_equal(parse_hex("0c0012330000", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_OTHER);
	assert_false(r.has_seq);
	assert_int_equal(parse_hex("8105001235", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_OTHER);
}

/* GRJ with nonStandardData and gatekeeperIdentifier before the reason. */
static void
test_grj_optional_fields(void **state)
{
	struct h225_ras	r;
	const char	*why;

	(void)state;
	/* h221NonStandard (country 0x26, manufacturer 1, 2 data octets),
	 * gatekeeperIdentifier "GK", reason undefinedReason */
	assert_int_equal(parse_hex("09801234060008914a0004" "40" "26000001"
	    "02abcd" "020047004b" "60", &r, &why), 0);
	assert_int_equal(r.type, H225_RAS_GRJ);
	assert_int_equal(r.seq, 4661);
	assert_string_equal(r.gk_id, "GK");
	assert_string_equal(r.reason, "undefinedReason");
	/* the object form of NonStandardIdentifier */
	assert_int_equal(parse_hex("09001234060008914a0004" "00" "032a0304"
	    "0100" "00", &r, &why), 0);
	assert_string_equal(r.reason, "resourceUnavailable");
	/* H221NonStandard with an extension addition (skipped by length) */
	assert_int_equal(parse_hex("09001234060008914a0004" "60" "26000001"
	    "01" "01ff" "0100" "20", &r, &why), 0);
	assert_string_equal(r.reason, "terminalExcluded");
	/* extension reasons: securityDenial, and one we have no name for */
	assert_int_equal(parse_hex("08001234060008914a0004800100", &r, &why),
	    0);
	assert_string_equal(r.reason, "securityDenial");
	assert_int_equal(parse_hex("08001234060008914a0004890100", &r, &why),
	    0);
	assert_string_equal(r.reason, "unknown");
	/* a gatekeeperIdentifier with quotes and non-ASCII is made safe */
	assert_int_equal(parse_hex("04801233060008914a0004" "08" "0022004791d1"
	    "005c004b" "007f00000206b7", &r, &why), 0);
	assert_string_equal(r.gk_id, "?G??K");
}

/* Truncated and hostile RAS: an error with the reason, never a crash. */
static void
test_ras_malformed(void **state)
{
	static const char *const vectors[] = {
		"04801233060008914a0004020047004b007f00000206b7",
		"08001234060008914a000420",
		"09801234060008914a00044026000001" "02abcd020047004b60",
		"4c1235007f00000206b8007f00000206b7",
		"50123600",
		"80050012350bb7",
		"601233",
		"00201234060008914a0004007f000001c35002000140080"
		    "06e0065007400700072006f006200650064",
	};
	struct h225_ras	r, full;
	const char	*why;
	uint8_t		buf[256];
	size_t		i, n, len;

	(void)state;
	for (i = 0; i < NP_NELEM(vectors); i++) {
		n = unhex(vectors[i], buf, sizeof(buf));
		assert_int_equal(h225_ras_parse(buf, n, &full, &why), 0);
		for (len = 0; len < n; len++) {
			why = NULL;
			if (h225_ras_parse(buf, len, &r, &why) == -1) {
				assert_non_null(why);
				/* a number is only trusted when read in full */
				if (r.has_seq)
					assert_int_equal(r.seq, full.seq);
			} else
				/* fields after the ones read are not needed */
				assert_int_equal(r.seq, full.seq);
		}
	}
	assert_int_equal(parse_hex("", &r, &why), -1);
	assert_string_equal(why, "empty datagram");
	assert_int_equal(parse_hex("0480", &r, &why), -1);
	assert_string_equal(why, "truncated requestSeqNum");
	assert_int_equal(parse_hex("04801233", &r, &why), -1);
	assert_string_equal(why, "truncated protocolIdentifier");
	/* the OID claims more than there is */
	assert_int_equal(parse_hex("080012340f0008", &r, &why), -1);
	assert_true(r.has_seq);
	assert_int_equal(r.seq, 4661);
	/* a GCF cut after the identifier has no rasAddress */
	assert_int_equal(parse_hex("04801233060008914a0004020047004b", &r,
	    &why), -1);
	assert_string_equal(why, "GCF without rasAddress");
	/* RIP whose open type runs past the datagram, or is fragmented */
	assert_int_equal(parse_hex("807f0012350bb7", &r, &why), -1);
	assert_string_equal(why, "truncated RIP");
	assert_int_equal(parse_hex("80c00012350bb7", &r, &why), -1);
	/* nonStandardData whose data length (two-octet form) is huge */
	assert_int_equal(parse_hex("09001234060008914a00044026000001" "bfff00",
	    &r, &why), -1);
	assert_string_equal(why, "truncated nonStandardData");
	/* an addition bitmap in the long form */
	assert_int_equal(parse_hex("09001234060008914a0004" "60" "26000001"
	    "80", &r, &why), -1);
	assert_string_equal(why, "extension bitmap over 64 bits");
	/* an extension reason index beyond a normally-small 6-bit one */
	assert_int_equal(parse_hex("08001234060008914a0004c0", &r, &why), -1);
	assert_string_equal(why, "extension index over 63");
}

/* Random and mutated input: bounded, classified, no crash (ASan). */
static void
test_ras_fuzz(void **state)
{
	static const char seed[] = "09801234060008914a0004402600000102abcd"
	    "020047004b60";
	struct h225_ras	r;
	const char	*why;
	uint8_t		base[64], buf[64];
	size_t		n, len, i, k;
	int		rc;

	(void)state;
	srandom(1234);
	n = unhex(seed, base, sizeof(base));
	for (i = 0; i < 40000; i++) {
		if (i % 2) {
			len = (size_t)random() % sizeof(buf);
			for (k = 0; k < len; k++)
				buf[k] = (uint8_t)random();
		} else {
			len = n;
			memcpy(buf, base, n);
			for (k = 0; k < 3; k++)
				buf[(size_t)random() % n] ^=
				    (uint8_t)(1 << (random() % 8));
		}
		why = NULL;
		rc = h225_ras_parse(buf, len, &r, &why);
		assert_true(rc == 0 || (rc == -1 && why != NULL));
		assert_true(strlen(r.gk_id) < sizeof(r.gk_id));
	}
}

static void
test_ras_names(void **state)
{
	(void)state;
	assert_string_equal(h225_ras_name(H225_RAS_GCF), "GCF");
	assert_string_equal(h225_ras_name(H225_RAS_GRJ), "GRJ");
	assert_string_equal(h225_ras_name(H225_RAS_LCF), "LCF");
	assert_string_equal(h225_ras_name(H225_RAS_LRJ), "LRJ");
	assert_string_equal(h225_ras_name(H225_RAS_XRS), "XRS");
	assert_string_equal(h225_ras_name(H225_RAS_RIP), "RIP");
	assert_string_equal(h225_ras_name(H225_RAS_OTHER), "RAS");
}

/* ---- call signalling ----------------------------------------------- */

static void
setup_ids(struct h225_setup *s, uint16_t crv)
{
	memset(s, 0, sizeof(*s));
	s->crv = crv;
	unhex(conf_hex, s->conf_id, sizeof(s->conf_id));
	unhex(call_hex, s->call_id, sizeof(s->call_id));
}

static void
test_setup(void **state)
{
	struct h225_setup	s;
	struct h225_q931	q;
	const char		*why;
	uint8_t			buf[1400];
	size_t			n, plen;

	(void)state;
	setup_ids(&s, 0x1234);
	s.alias = "probe";
	s.called = "1001";
	n = h225_setup_build(buf, sizeof(buf), &s);
	assert_hex(buf, n, "0300005b080212340504038090a5700581313030317e0043"
	    "0500b0060008914a000401400400700072006f0062006502000101804334007a"
	    "1b2c3d4e5f40718293a4b5c6d7e8f9001111000f1e2d3c4b5a49687786958493"
	    "a2b1c0");
	/* it parses back: TPKT, Setup from the originating side */
	assert_int_equal(h225_tpkt_check(buf, &plen, &why), 0);
	assert_int_equal(plen, n - 4);
	assert_int_equal(h225_q931_parse(buf + 4, plen, &q, &why), 0);
	assert_int_equal(q.type, Q931_SETUP);
	assert_false(q.from_dest);
	assert_int_equal(q.crv, 0x1234);
	assert_true(q.has_uuie);
	assert_int_equal(q.uu_body, 0);

	/* without aliases (PROTOCOLS 2.4 variant) */
	setup_ids(&s, 0x1235);
	n = h225_setup_build(buf, sizeof(buf), &s);
	assert_hex(buf, n, "03000041080212350504038090a57e003005008006000891"
	    "4a000402007a1b2c3d4e5f40718293a4b5c6d7e8f9001111000f1e2d3c4b5a49"
	    "687786958493a2b1c0");

	/* only one of the two: presence bits and layout follow */
	s.called = "1001";
	n = h225_setup_build(buf, sizeof(buf), &s);
	/* + Called party number IE, + destinationAddress (activeMC
	 * moves to its own octet) */
	assert_int_equal(n, 65 + 7 + 6);
	assert_int_equal(buf[26], 0x90);	/* UUIE o1: ext, dest */
}

static void
test_setup_limits(void **state)
{
	struct h225_setup	s;
	uint8_t			buf[1400];
	char			big[300];
	size_t			n, i;

	(void)state;
	setup_ids(&s, 0);
	assert_int_equal(h225_setup_build(buf, sizeof(buf), &s), 0);
	s.crv = 0x8000;
	assert_int_equal(h225_setup_build(buf, sizeof(buf), &s), 0);
	s.crv = 0x7fff;
	s.called = "12a";
	assert_int_equal(h225_setup_build(buf, sizeof(buf), &s), 0);
	s.called = NULL;
	s.alias = "\x01";
	assert_int_equal(h225_setup_build(buf, sizeof(buf), &s), 0);
	/* the longest alias and number fit the probe's buffer */
	memset(big, 'x', 256);
	big[256] = '\0';
	s.alias = big;
	s.called = "12345678901234567890123456789012";
	n = h225_setup_build(buf, sizeof(buf), &s);
	assert_int_not_equal(n, 0);
	assert_true(n <= 1280);
	assert_int_equal(buf[2] << 8 | buf[3], n);
	for (i = 0; i < n; i++)
		assert_int_equal(h225_setup_build(buf, i, &s), 0);
}

static void
test_release(void **state)
{
	struct h225_q931	q;
	uint8_t			id[16], buf[128];
	const char		*why;
	size_t			n, i;

	(void)state;
	unhex(call_hex, id, sizeof(id));
	n = h225_release_build(buf, sizeof(buf), 0x1234, Q931_CAUSE_NORMAL,
	    id);
	assert_hex(buf, n, "0300002d080212345a080280907e001d050580060008914a"
	    "00040111000f1e2d3c4b5a49687786958493a2b1c0");
	assert_int_equal(h225_q931_parse(buf + 4, n - 4, &q, &why), 0);
	assert_int_equal(q.type, Q931_RELEASE_COMPLETE);
	assert_false(q.from_dest);
	assert_true(q.has_cause);
	assert_int_equal(q.cause, 16);
	assert_int_equal(q.location, 0);
	assert_int_equal(q.uu_body, 5);
	assert_null(q.rc_reason);
	assert_int_equal(h225_release_build(buf, sizeof(buf), 0, 16, id), 0);
	assert_int_equal(h225_release_build(buf, sizeof(buf), 1, 128, id), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(h225_release_build(buf, i, 0x1234, 16, id),
		    0);
}

static void
test_tpkt(void **state)
{
	const uint8_t	ok[] = { 3, 0, 0, 9 }, big[] = { 3, 0, 0x20, 0 },
			over[] = { 3, 0, 0x20, 1 }, small[] = { 3, 0, 0, 8 },
			http[] = { 'H', 'T', 'T', 'P' };
	const char	*why;
	size_t		n;

	(void)state;
	assert_int_equal(h225_tpkt_check(ok, &n, &why), 0);
	assert_int_equal(n, 5);
	assert_int_equal(h225_tpkt_check(big, &n, &why), 0);
	assert_int_equal(n, 8188);
	assert_int_equal(h225_tpkt_check(over, &n, &why), -1);
	assert_string_equal(why, "TPKT length over 8 KiB");
	assert_int_equal(h225_tpkt_check(small, &n, &why), -1);
	assert_string_equal(why, "TPKT length too short for Q.931");
	assert_int_equal(h225_tpkt_check(http, &n, &why), -1);
	assert_string_equal(why, "not TPKT (version is not 3)");
}

/* Parse one TPKT-framed message given in hex. */
static int
q931_hex(const char *hex, struct h225_q931 *q, const char **why)
{
	uint8_t	buf[512];
	size_t	n = unhex(hex, buf, sizeof(buf)), plen;

	*why = NULL;
	assert_int_equal(h225_tpkt_check(buf, &plen, why), 0);
	assert_int_equal(plen, n - 4);
	return (h225_q931_parse(buf + 4, plen, q, why));
}

static void
test_q931_replies(void **state)
{
	struct h225_q931	q;
	const char		*why;

	(void)state;
	assert_int_equal(q931_hex("0300002b08029234027e001f050180060008914a00"
	    "0404402011000f1e2d3c4b5a49687786958493a2b1c0", &q, &why), 0);
	assert_int_equal(q.type, Q931_CALL_PROCEEDING);
	assert_true(q.from_dest);
	assert_int_equal(q.crv, 0x1234);
	assert_true(q.has_uuie);
	assert_int_equal(q.uu_body, 1);
	assert_false(q.has_cause);

	assert_int_equal(q931_hex("0300002b08029234017e001f050380060008914a00"
	    "0404402011000f1e2d3c4b5a49687786958493a2b1c0", &q, &why), 0);
	assert_int_equal(q.type, Q931_ALERTING);
	assert_int_equal(q.uu_body, 3);

	assert_int_equal(q931_hex("0300003b08029234077e002f050280060008914a00"
	    "0404407a1b2c3d4e5f40718293a4b5c6d7e8f90111000f1e2d3c4b5a49687786"
	    "958493a2b1c0", &q, &why), 0);
	assert_int_equal(q.type, Q931_CONNECT);
	assert_int_equal(q.uu_body, 2);

	assert_int_equal(q931_hex("0300002e080292355a080281957e001e0505c00600"
	    "08914a0004180811000f1e2d3c4b5a49687786958493a2b1c0", &q, &why),
	    0);
	assert_int_equal(q.type, Q931_RELEASE_COMPLETE);
	assert_true(q.from_dest);
	assert_int_equal(q.crv, 0x1235);
	assert_true(q.has_cause);
	assert_int_equal(q.cause, 21);
	assert_int_equal(q.location, 1);
	assert_int_equal(q.uu_body, 5);
	assert_string_equal(q.rc_reason, "destinationRejection");
}

static void
test_q931_variants(void **state)
{
	struct h225_q931	q;
	const char		*why;

	(void)state;
	/* Cause with octet 3a (extension bit 0 in octet 3): value in the
	 * third octet; a single-octet IE (Sending complete) and an unknown
	 * IE (Display) are skipped */
	assert_int_equal(q931_hex("0300001c080292345aa108030182912803616263"
	    "7e00050505800100", &q, &why), 0);
	assert_true(q.has_cause);
	assert_int_equal(q.cause, 17);
	assert_int_equal(q.location, 1);
	/* an OID of length 1 here; reason absent */
	assert_int_equal(q.uu_body, 5);
	assert_null(q.rc_reason);
	/* an extension reason: 2 calledPartyNotRegistered */
	assert_int_equal(q931_hex("03000014080292345a7e00080505c00100820100",
	    &q, &why), 0);
	assert_string_equal(q.rc_reason, "calledPartyNotRegistered");
	/* a root index with no name (13 of 12) */
	assert_int_equal(q931_hex("03000012080292345a7e00060505c0010068", &q,
	    &why), 0);
	assert_string_equal(q.rc_reason, "unknown");
	/* an extension body (b3 = 1: progress ...): not decoded */
	assert_int_equal(q931_hex("0300000f08029234037e0003050800", &q,
	    &why), 0);
	assert_int_equal(q.uu_body, -1);
	assert_true(q.has_uuie);
	/* user-user of another protocol: no H.323 information */
	assert_int_equal(q931_hex("0300000f08029234077e0003040102", &q, &why),
	    0);
	assert_false(q.has_uuie);
	/* no IEs at all */
	assert_int_equal(q931_hex("030000090802923407", &q, &why), 0);
	assert_false(q.has_uuie);
	assert_false(q.has_cause);
	/* the global call reference, flag 0 */
	assert_int_equal(q931_hex("03000009080200007d", &q, &why), 0);
	assert_int_equal(q.crv, 0);
	assert_false(q.from_dest);
	assert_int_equal(q.type, Q931_STATUS);
}

static void
test_q931_malformed(void **state)
{
	static const struct {
		const char	*hex;	/* the Q.931 message, no TPKT */
		const char	*why;
	} bad[] = {
		{ "08029234", "Q.931 message shorter than its header" },
		{ "09029234", "Q.931 message shorter than its header" },
		{ "0902923407", "not Q.931 (protocol discriminator is not 8)" },
		{ "080192345a", "Q.931 call reference is not 2 octets" },
		{ "080292345a08", "truncated information element" },
		{ "080292345a08038090", "information element runs past the "
		    "message" },
		{ "080292345a080180", "truncated Cause IE" },
		{ "080292345a08020190", "truncated Cause IE" },
		{ "080292345a7e00", "truncated User-user IE" },
		{ "080292345a7e0000", "User-user IE runs past the message" },
		{ "080292345a7e000005", "User-user IE runs past the message" },
		{ "080292345a7e000305", "User-user IE runs past the message" },
		{ "080292345a7e000105", "empty H.323 user information" },
		{ "080292345a7e0002050580", NULL },
		{ "080292345a7e00030505c0", "truncated protocolIdentifier" },
		{ "080292345a7e00050505c00100", "truncated release reason" },
		{ "080292345a7e00060505c00100c0", "extension index over 63" },
	};
	struct h225_q931	q;
	const char		*why;
	uint8_t			buf[64];
	size_t			i, n;

	(void)state;
	for (i = 0; i < NP_NELEM(bad); i++) {
		n = unhex(bad[i].hex, buf, sizeof(buf));
		why = NULL;
		if (h225_q931_parse(buf, n, &q, &why) != -1)
			fail_msg("case %zu (%s) parsed", i, bad[i].hex);
		if (bad[i].why != NULL)
			assert_string_equal(why, bad[i].why);
		else
			assert_non_null(why);
	}
}

/* Every truncation of every message, and random bytes: no overread. */
static void
test_q931_fuzz(void **state)
{
	static const char *const vectors[] = {
		"0300002e080292355a080281957e001e0505c0060008914a000418081100"
		    "0f1e2d3c4b5a49687786958493a2b1c0",
		"0300003b08029234077e002f050280060008914a0004"
		    "04407a1b2c3d4e5f40718293a4b5c6d7e8f90111000f1e2d3c4b5a49"
		    "687786958493a2b1c0",
	};
	struct h225_q931	q;
	const char		*why;
	uint8_t			buf[128];
	size_t			i, n, len, k;
	int			rc;

	(void)state;
	for (i = 0; i < NP_NELEM(vectors); i++) {
		n = unhex(vectors[i], buf, sizeof(buf));
		assert_int_equal(h225_q931_parse(buf + 4, n - 4, &q, &why), 0);
		/* cut anywhere: inside an IE it runs past the end; the
		 * User-user IE is last, so every cut after the Cause is */
		for (len = 0; len < n - 4; len++) {
			why = NULL;
			rc = h225_q931_parse(buf + 4, len, &q, &why);
			assert_true(rc == 0 || why != NULL);
			if (len < 5 || len > 9)
				assert_int_equal(rc, -1);
		}
	}
	srandom(4321);
	for (i = 0; i < 40000; i++) {
		len = (size_t)random() % 64;
		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)random();
		if (len > 2 && i % 2) {
			buf[0] = 8;
			buf[1] = 2;
		}
		why = NULL;
		rc = h225_q931_parse(buf, len, &q, &why);
		assert_true(rc == 0 || (rc == -1 && why != NULL));
	}
}

static void
test_q931_names(void **state)
{
	(void)state;
	assert_string_equal(h225_q931_name(Q931_CONNECT), "Connect");
	assert_string_equal(h225_q931_name(Q931_ALERTING), "Alerting");
	assert_string_equal(h225_q931_name(Q931_CALL_PROCEEDING),
	    "CallProceeding");
	assert_string_equal(h225_q931_name(Q931_RELEASE_COMPLETE),
	    "ReleaseComplete");
	assert_string_equal(h225_q931_name(Q931_FACILITY), "Facility");
	assert_string_equal(h225_q931_name(0x99), "Unknown");
	assert_string_equal(h225_cause_name(16), "normal call clearing");
	assert_string_equal(h225_cause_name(21), "call rejected");
	assert_string_equal(h225_cause_name(127), "interworking");
	assert_string_equal(h225_cause_name(0), "unknown cause");
	assert_int_equal(h225_uu_body_for(Q931_SETUP), 0);
	assert_int_equal(h225_uu_body_for(Q931_CALL_PROCEEDING), 1);
	assert_int_equal(h225_uu_body_for(Q931_CONNECT), 2);
	assert_int_equal(h225_uu_body_for(Q931_ALERTING), 3);
	assert_int_equal(h225_uu_body_for(Q931_RELEASE_COMPLETE), 5);
	assert_int_equal(h225_uu_body_for(Q931_STATUS), -1);
}

/* ---- the probe's options ------------------------------------------- */

static struct np_config *
load(const char *text, struct cfg_errors *errs)
{
	return (config_load_string(NAME, text, strlen(text), errs));
}

static const void *
opt_ptr(const struct probe_cfg *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->type->nopts; i++)
		if (strcmp(p->type->opts[i].name, name) == 0)
			return ((const char *)p->opts + p->type->opts[i].off);
	fail_msg("type %s has no option %s", p->type->name, name);
	return (NULL);
}

static void
test_config_good(void **state)
{
	static const char text[] =
	    "probes:\n"
	    "  - name: gk\n"
	    "    type: h323\n"
	    "    targets: [127.0.0.1, \"127.0.0.2:11719\", \"::1\"]\n"
	    "  - name: mcu\n"
	    "    type: h323\n"
	    "    mode: call\n"
	    "    targets: [127.0.0.1]\n"
	    "    alias: 金水区\n"
	    "    called_number: \"1001\"\n"
	    "    accept_release_complete: false\n"
	    "  - name: locate\n"
	    "    type: h323\n"
	    "    ras_message: lrq\n"
	    "    endpoint_alias: mcu-city\n"
	    "    retransmit: 300ms\n"
	    "    attempts: 5\n"
	    "    targets: [127.0.0.1]\n";
	struct cfg_errors	 errs;
	struct np_config	*conf;
	const struct probe_cfg	*p;
	size_t			 i;

	(void)state;
	conf = load(text, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	assert_non_null(conf);

	/* the default port follows the mode: 1719 RAS, 1720 call */
	p = &conf->probes[0];
	assert_ptr_equal(p->type, &probe_type_h323);
	assert_string_equal(p->targets[0], "127.0.0.1:1719");
	assert_string_equal(p->targets[1], "127.0.0.2:11719");
	assert_string_equal(p->targets[2], "[::1]:1719");
	assert_int_equal(*(const int *)opt_ptr(p, "mode"), 0);
	assert_int_equal(*(const int *)opt_ptr(p, "ras_message"), 0);
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "retransmit"), 1000);
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "attempts"), 3);
	assert_int_equal(*(const int *)opt_ptr(p,
	    "accept_release_complete"), 1);
	assert_null(*(char *const *)opt_ptr(p, "alias"));

	p = &conf->probes[1];
	assert_string_equal(p->targets[0], "127.0.0.1:1720");
	assert_int_equal(*(const int *)opt_ptr(p, "mode"), 1);
	assert_string_equal(*(char *const *)opt_ptr(p, "alias"), "金水区");
	assert_string_equal(*(char *const *)opt_ptr(p, "called_number"),
	    "1001");
	assert_int_equal(*(const int *)opt_ptr(p,
	    "accept_release_complete"), 0);

	p = &conf->probes[2];
	assert_int_equal(*(const int *)opt_ptr(p, "ras_message"), 1);
	assert_string_equal(*(char *const *)opt_ptr(p, "endpoint_alias"),
	    "mcu-city");
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "retransmit"), 300);
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "attempts"), 5);
	config_free(conf);
}

struct bad_case {
	const char	*what;
	const char	*extra;		/* lines after "    type: h323\n" */
	const char	*error;
};

#define HEAD	"probes:\n  - name: x\n    type: h323\n" \
		"    target: 127.0.0.1\n"

static const struct bad_case bad_cases[] = {
	{ "unknown mode", "    mode: rass\n",
	    NAME ":5:11: 'mode' must be one of ras, call, got \"rass\"" },
	{ "unknown ras_message", "    ras_message: rrq\n",
	    NAME ":5:18: 'ras_message' must be one of grq, lrq, got \"rrq\"" },
	{ "called_number in ras mode", "    called_number: \"1001\"\n",
	    NAME ":5:20: probe 'x': 'called_number' applies only to mode: "
	    "call" },
	{ "called_number with a letter",
	    "    mode: call\n    called_number: 12a\n",
	    NAME ":6:20: probe 'x': 'called_number': a called number is 1 to "
	    "32 of 0-9, '*' and '#'" },
	{ "called_number too long",
	    "    mode: call\n    called_number: "
	    "\"123456789012345678901234567890123\"\n",
	    NAME ":6:20: 'called_number' is longer than 32 bytes" },
	{ "lrq without endpoint_alias", "    ras_message: lrq\n",
	    NAME ":5:18: probe 'x': ras_message lrq needs 'endpoint_alias', "
	    "the alias to locate" },
	{ "endpoint_alias with grq", "    endpoint_alias: mcu\n",
	    NAME ":5:21: probe 'x': 'endpoint_alias' applies only to "
	    "ras_message: lrq" },
	{ "endpoint_alias in call mode",
	    "    mode: call\n    endpoint_alias: mcu\n",
	    NAME ":6:21: probe 'x': 'endpoint_alias' applies only to "
	    "ras_message: lrq" },
	{ "lrq in call mode", "    mode: call\n    ras_message: lrq\n",
	    NAME ":6:18: probe 'x': 'ras_message' applies only to mode: "
	    "ras" },
	{ "alias with a control character", "    alias: \"a\\tb\"\n",
	    NAME ":5:12: probe 'x': 'alias': an h323-ID must be printable "
	    "UTF-8 of the Basic Multilingual Plane" },
	{ "endpoint_alias outside the BMP",
	    "    ras_message: lrq\n    endpoint_alias: \"\xf0\x9f\x98\x80\"\n",
	    NAME ":6:21: probe 'x': 'endpoint_alias': an h323-ID must be "
	    "printable UTF-8 of the Basic Multilingual Plane" },
	{ "empty alias", "    alias: \"\"\n",
	    NAME ":5:12: 'alias' must not be empty" },
	{ "attempts 0", "    attempts: 0\n",
	    NAME ":5:15: 'attempts' must be between 1 and 10, got 0" },
	{ "retransmit too short", "    retransmit: 10ms\n",
	    NAME ":5:17: 'retransmit' must be between 100ms and 1m, got "
	    "10ms" },
	{ "accept_release_complete not a bool",
	    "    accept_release_complete: maybe\n",
	    NAME ":5:30: 'accept_release_complete' expects true or false, "
	    "got \"maybe\"" },
	{ "a port option does not exist", "    port: 1720\n",
	    NAME ":5:5: unknown key 'port' in probe 'x' (known: name, type, "
	    "targets, target, interval, timeout, labels, source, interface, "
	    "fwmark, vrf, netns, expect, control, filter_hops, sweep, histograms; "
	    "h323 "
	    "options: mode, ras_message, alias, endpoint_alias, "
	    "called_number, retransmit, attempts, accept_release_complete)" },
};

static void
test_config_bad(void **state)
{
	const struct bad_case	*bc = *state;
	struct cfg_errors	 errs;
	struct np_config	*conf;
	char			 text[512];
	size_t			 i;

	snprintf(text, sizeof(text), "%s%s", HEAD, bc->extra);
	conf = load(text, &errs);
	if (conf != NULL) {
		config_free(conf);
		cfg_errors_free(&errs);
		fail_msg("%s: config was accepted", bc->what);
	}
	if (errs.n != 1 || strcmp(errs.msg[0], bc->error) != 0) {
		for (i = 0; i < errs.n; i++)
			print_error("got: %s\n", errs.msg[i]);
		cfg_errors_free(&errs);
		fail_msg("%s: expected exactly: %s", bc->what, bc->error);
	}
	cfg_errors_free(&errs);
}

static const struct CMUnitTest other_tests[] = {
	cmocka_unit_test(test_grq),
	cmocka_unit_test(test_grq_v6),
	cmocka_unit_test(test_lrq),
	cmocka_unit_test(test_ras_build_limits),
	cmocka_unit_test(test_alias_check),
	cmocka_unit_test(test_ras_replies),
	cmocka_unit_test(test_grj_optional_fields),
	cmocka_unit_test(test_ras_malformed),
	cmocka_unit_test(test_ras_fuzz),
	cmocka_unit_test(test_ras_names),
	cmocka_unit_test(test_setup),
	cmocka_unit_test(test_setup_limits),
	cmocka_unit_test(test_release),
	cmocka_unit_test(test_tpkt),
	cmocka_unit_test(test_q931_replies),
	cmocka_unit_test(test_q931_variants),
	cmocka_unit_test(test_q931_malformed),
	cmocka_unit_test(test_q931_fuzz),
	cmocka_unit_test(test_q931_names),
	cmocka_unit_test(test_config_good),
};

int
main(void)
{
	/* one named case per bad config, so TAP counts each */
	struct CMUnitTest	tests[NP_NELEM(other_tests) +
				    NP_NELEM(bad_cases)];
	size_t			i;

	for (i = 0; i < NP_NELEM(other_tests); i++)
		tests[i] = other_tests[i];
	for (i = 0; i < NP_NELEM(bad_cases); i++) {
		memset(&tests[NP_NELEM(other_tests) + i], 0, sizeof(tests[0]));
		tests[NP_NELEM(other_tests) + i].name = bad_cases[i].what;
		tests[NP_NELEM(other_tests) + i].test_func = test_config_bad;
		tests[NP_NELEM(other_tests) + i].initial_state =
		    (void *)&bad_cases[i];
	}
	return (cmocka_run_group_tests_name("h225", tests, NULL, NULL));
}
