/*
 * DNS codec and dns probe options: names, the query encoder, the
 * response decoder and its rendering of every supported type, reply
 * matching, TCP framing, malformed and hostile messages (each a
 * classified error), seeded fuzzing of the decoder, and the dns
 * options through config_load_string() with exact errors.
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

#include "daemon/netprobed.h"
#include "probes/msg_dns.h"
#include "probes/probe.h"

#define NAME	"t.yaml"

/* ---- a tiny message builder ---------------------------------------- */

struct mb {
	uint8_t	b[8192];
	size_t	n;
};

static void
mb_u8(struct mb *m, unsigned v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = (uint8_t)v;
}

static void
mb_u16(struct mb *m, unsigned v)
{
	mb_u8(m, v >> 8);
	mb_u8(m, v & 0xff);
}

static void
mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, v >> 16);
	mb_u16(m, v & 0xffff);
}

static void
mb_mem(struct mb *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* An uncompressed name from text. */
static void
mb_name(struct mb *m, const char *text)
{
	uint8_t		 w[DNS_NAME_MAX];
	size_t		 wl;
	const char	*why;

	assert_int_equal(dns_name_from_text(text, w, &wl, &why), 0);
	mb_mem(m, w, wl);
}

static void
mb_ptr(struct mb *m, unsigned off)
{
	mb_u16(m, 0xc000 | off);
}

static void
mb_hdr(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
    unsigned ns, unsigned ar)
{
	m->n = 0;
	mb_u16(m, id);
	mb_u16(m, flags);
	mb_u16(m, qd);
	mb_u16(m, an);
	mb_u16(m, ns);
	mb_u16(m, ar);
}

/* TYPE CLASS TTL and a placeholder RDLENGTH; returns where it is. */
static size_t
mb_rr(struct mb *m, unsigned type, unsigned rclass, uint32_t ttl)
{
	size_t	at;

	mb_u16(m, type);
	mb_u16(m, rclass);
	mb_u32(m, ttl);
	at = m->n;
	mb_u16(m, 0);
	return (at);
}

static void
mb_rdlen(struct mb *m, size_t at)
{
	size_t	len = m->n - at - 2;

	m->b[at] = (uint8_t)(len >> 8);
	m->b[at + 1] = (uint8_t)len;
}

static void
mb_opt(struct mb *m, unsigned udp, uint32_t ttl)
{
	mb_u8(m, 0);
	mb_u16(m, DNS_T_OPT);
	mb_u16(m, udp);
	mb_u32(m, ttl);
	mb_u16(m, 0);
}

/* The question www.test IN A at offset 12, for pointers to it. */
static void
mb_question(struct mb *m, const char *name, unsigned type)
{
	mb_name(m, name);
	mb_u16(m, type);
	mb_u16(m, DNS_C_IN);
}

static struct dns_question
question(const char *name, uint16_t type)
{
	struct dns_question	 q;
	const char		*why;

	memset(&q, 0, sizeof(q));
	assert_int_equal(dns_name_from_text(name, q.name, &q.namelen, &why),
	    0);
	q.type = type;
	q.qclass = DNS_C_IN;
	return (q);
}

/* Every RR the decoder reports, as text, for comparisons. */
struct seen {
	char		 text[16][512];
	enum dns_section sec[16];
	size_t		 rdata_at[16];
	unsigned	 n;
};

static void
collect(void *arg, const struct dns_rr *rr)
{
	struct seen	*s = arg;

	assert_true(strlen(rr->text) < sizeof(rr->text));
	assert_true(rr->rdata_at <= strlen(rr->text));
	if (s->n < 16) {
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s", rr->text);
		s->sec[s->n] = rr->section;
		s->rdata_at[s->n] = rr->rdata_at;
	}
	s->n++;
}

/* ---- names --------------------------------------------------------- */

static void
test_name_from_text(void **state)
{
	static const uint8_t	 www[] = "\003www\004test";
	uint8_t			 w[DNS_NAME_MAX];
	char			 txt[DNS_NAME_TEXT], big[300];
	size_t			 wl, i;
	const char		*why;

	assert_int_equal(dns_name_from_text("www.test", w, &wl, &why), 0);
	assert_int_equal(wl, 10);
	assert_memory_equal(w, www, 10);	/* with the final 0 */
	assert_int_equal(dns_name_from_text("www.test.", w, &wl, &why), 0);
	assert_int_equal(wl, 10);
	assert_int_equal(dns_name_from_text(".", w, &wl, &why), 0);
	assert_int_equal(wl, 1);
	assert_int_equal(w[0], 0);
	assert_int_equal(dns_name_from_text("_sip._udp.Test-1", w, &wl,
	    &why), 0);
	assert_int_equal(dns_name_to_text(w, wl, txt, sizeof(txt)), 0);
	assert_string_equal(txt, "_sip._udp.Test-1.");
	assert_int_equal(dns_name_from_text("x", NULL, NULL, &why), 0);

	/* 63-byte labels are fine, 64 are not */
	memset(big, 'a', 63);
	strcpy(big + 63, ".test");
	assert_int_equal(dns_name_from_text(big, w, &wl, &why), 0);
	assert_int_equal(wl, 1 + 63 + 1 + 4 + 1);
	memset(big, 'a', 64);
	strcpy(big + 64, ".test");
	assert_int_equal(dns_name_from_text(big, w, &wl, &why), -1);
	assert_string_equal(why, "a label is longer than 63 characters");

	/* 253 characters (255 wire bytes) fit, 254 do not */
	for (i = 0; i < 253; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = '\0';
	assert_int_equal(dns_name_from_text(big, w, &wl, &why), 0);
	assert_int_equal(wl, 255);
	strcat(big, ".");		/* a final dot is free */
	assert_int_equal(dns_name_from_text(big, w, &wl, &why), 0);
	big[253] = 'a';
	big[254] = 'a';
	big[255] = '\0';
	assert_int_equal(dns_name_from_text(big, w, &wl, &why), -1);
	assert_string_equal(why, "longer than 253 characters");

	assert_int_equal(dns_name_from_text("", w, &wl, &why), -1);
	assert_string_equal(why, "the name is empty");
	assert_int_equal(dns_name_from_text("a..b", w, &wl, &why), -1);
	assert_string_equal(why, "empty label (two dots in a row, or a "
	    "leading dot)");
	assert_int_equal(dns_name_from_text(".a", w, &wl, &why), -1);
	assert_int_equal(dns_name_from_text("a b.test", w, &wl, &why), -1);
	assert_string_equal(why, "only letters, digits, '-', '_' and dots "
	    "between labels are allowed");
	assert_int_equal(dns_name_from_text("测试.test", w, &wl, &why), -1);
	assert_string_equal(why, "not ASCII: write an internationalized "
	    "name in its xn-- (A-label) form");
}

static void
test_name_text_escapes(void **state)
{
	static const uint8_t	odd[] = { 5, 'a', '.', '\\', ' ', 0xe4, 1,
				    '"', 0 };
	static const uint8_t	bad1[] = { 5, 'a', 0 };	/* label past end */
	static const uint8_t	bad2[] = { 1, 'a', 0, 0 };	/* extra byte */
	char			txt[64], tiny[4];

	assert_int_equal(dns_name_to_text(odd, sizeof(odd), txt, sizeof(txt)),
	    0);
	assert_string_equal(txt, "a\\.\\\\\\032\\228.\\\".");
	assert_int_equal(dns_name_to_text(bad1, sizeof(bad1), txt,
	    sizeof(txt)), -1);
	assert_int_equal(dns_name_to_text(bad2, sizeof(bad2), txt,
	    sizeof(txt)), -1);
	/* cut, but still a C string */
	assert_int_equal(dns_name_to_text(odd, sizeof(odd), tiny,
	    sizeof(tiny)), -1);
	assert_true(strlen(tiny) < sizeof(tiny));
}

static void
test_name_equal(void **state)
{
	struct dns_question	a = question("WwW.TeSt", DNS_T_A),
				b = question("www.test", DNS_T_A),
				c = question("www.tesu", DNS_T_A),
				d = question("www.test.x", DNS_T_A);

	assert_true(dns_name_equal(a.name, a.namelen, b.name, b.namelen));
	assert_false(dns_name_equal(b.name, b.namelen, c.name, c.namelen));
	assert_false(dns_name_equal(b.name, b.namelen, d.name, d.namelen));
	/* '@' (0x40) and '`' (0x60) are not letters: no folding */
	{
		static const uint8_t	x[] = { 1, '@', 0 }, y[] = { 1, '`',
					    0 };

		assert_false(dns_name_equal(x, 3, y, 3));
	}
}

static void
test_reverse_name(void **state)
{
	char	out[96];

	assert_int_equal(dns_reverse_name("192.0.2.99", out, sizeof(out)), 0);
	assert_string_equal(out, "99.2.0.192.in-addr.arpa");
	assert_int_equal(dns_reverse_name("2001:db8::10", out, sizeof(out)),
	    0);
	assert_string_equal(out, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(strlen(out), 72);
	assert_int_equal(dns_reverse_name("www.test", out, sizeof(out)), -1);
	assert_int_equal(dns_reverse_name("192.0.2.1", out, 10), -1);
}

/* ---- query --------------------------------------------------------- */

static void
test_query_build(void **state)
{
	static const uint8_t	 want[] = {
		0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x01,
		3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0,
		0x00, 0x01, 0x00, 0x01,
		/* OPT: root, type 41, class 1232, ttl 0, rdlen 0 */
		0x00, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0x00, 0x00,
	};
	struct dns_question	 q = question("www.test", DNS_T_A);
	struct dns_msg		 m;
	uint8_t			 buf[DNS_QUERY_MAX];
	char			 why[128];
	size_t			 n;

	n = dns_query_build(buf, sizeof(buf), 0xbeef, &q, 1, 1232);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	/* no RD, no EDNS (0 and anything below 512) */
	n = dns_query_build(buf, sizeof(buf), 0x0102, &q, 0, 0);
	assert_int_equal(n, 12 + 10 + 4);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[11], 0);
	assert_int_equal(dns_query_build(buf, sizeof(buf), 1, &q, 0, 511),
	    26);

	/* our own decoder reads it back: a query, not a response */
	n = dns_query_build(buf, sizeof(buf), 0xbeef, &q, 1, 4096);
	assert_int_equal(dns_parse(buf, n, &m, NULL, NULL, why, sizeof(why)),
	    0);
	assert_int_equal(m.id, 0xbeef);
	assert_true(m.rd);
	assert_false(m.qr);
	assert_true(m.edns);
	assert_int_equal(m.edns_udp, 4096);
	assert_int_equal(dns_reply_matches(&m, 0xbeef, &q, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "not a response (QR clear)");

	/* too small a buffer, or no name */
	assert_int_equal(dns_query_build(buf, 36, 1, &q, 1, 1232), 0);
	assert_int_equal(dns_query_build(buf, 37, 1, &q, 1, 1232), 37);
	q.namelen = 0;
	assert_int_equal(dns_query_build(buf, sizeof(buf), 1, &q, 1, 1232),
	    0);
}

/* ---- responses ----------------------------------------------------- */

/* www.test A: answer compressed against the question, and an OPT. */
static void
build_a_reply(struct mb *m, unsigned id)
{
	size_t	at;

	mb_hdr(m, id, 0x8580, 1, 1, 0, 1);	/* QR AA RD RA, NOERROR */
	mb_question(m, "www.test", DNS_T_A);
	mb_ptr(m, 12);
	at = mb_rr(m, DNS_T_A, DNS_C_IN, 300);
	mb_u32(m, 0xc000020a);
	mb_rdlen(m, at);
	mb_opt(m, 1232, 0);
}

static void
test_parse_a(void **state)
{
	struct dns_question	 q = question("www.test", DNS_T_A);
	struct mb		 mb;
	struct dns_msg		 m;
	struct seen		 s;
	char			 why[128];

	build_a_reply(&mb, 0xbeef);
	memset(&s, 0, sizeof(s));
	assert_int_equal(dns_parse(mb.b, mb.n, &m, collect, &s, why,
	    sizeof(why)), 0);
	assert_int_equal(m.id, 0xbeef);
	assert_true(m.qr && m.aa && m.rd && m.ra);
	assert_false(m.tc || m.ad || m.cd);
	assert_int_equal(m.opcode, 0);
	assert_int_equal(m.rcode, DNS_R_NOERROR);
	assert_int_equal(m.ancount, 1);
	assert_int_equal(m.nscount, 0);
	assert_int_equal(m.arcount, 1);
	assert_true(m.edns);
	assert_int_equal(m.edns_udp, 1232);
	assert_int_equal(m.trailing, 0);
	assert_false(m.has_serial);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.text[0], "www.test. 300 IN A 192.0.2.10");
	assert_int_equal(s.sec[0], DNS_S_ANSWER);
	assert_string_equal(s.text[0] + s.rdata_at[0], "192.0.2.10");
	assert_string_equal(s.text[1], ". OPT udp=1232 version=0 do=0 "
	    "options=0");
	assert_int_equal(s.sec[1], DNS_S_ADDITIONAL);
	assert_int_equal(dns_reply_matches(&m, 0xbeef, &q, why, sizeof(why)),
	    0);

	/* the head alone gives the same header and question */
	memset(&m, 0xff, sizeof(m));
	assert_int_equal(dns_parse_head(mb.b, mb.n, &m, why, sizeof(why)), 0);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(m.q.type, DNS_T_A);
	assert_int_equal(m.q.namelen, 10);
	assert_false(m.edns);

	/* bytes after the last RR are counted, not an error */
	mb_u16(&mb, 0);
	mb_u8(&mb, 7);
	assert_int_equal(dns_parse(mb.b, mb.n, &m, NULL, NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(m.trailing, 3);
}

/* Every rendered type, in one reply to "test" ANY-like content. */
static void
test_render_types(void **state)
{
	static const uint8_t	 v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
				    0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
	static const uint8_t	 zh[] = "\xe4\xbd\xa0\xe5\xa5\xbd";
	static const char *const want[] = {
		"test. 3600 IN MX 10 mail.test.",
		"_sip._udp.test. 60 IN SRV 0 5 5060 www.test.",
		"test. 600 IN SOA ns.test. hostmaster.test. 2024010101 1200 "
		    "120 604800 600",
		"test. 0 IN TXT \"v=spf1 -all\" \"a\\\"b\\\\c\" "
		    "\"\xe4\xbd\xa0\xe5\xa5\xbd\\001\\255\\127\"",
		"alias.test. 1 IN CNAME www.test.",
		"test. 2 IN NS ns.test.",
		"99.2.0.192.in-addr.arpa. 3 IN PTR printer.test.",
		"www.test. 4 IN AAAA 2001:db8::10",
		"test. 5 IN TYPE99 \\# 3 0a0bff",
		"test. 6 CH A \\# 4 c000020a",
		"test. 7 IN CAA \\# 0",
		"test. 8 CLASS9 TXT \"x\"",
	};
	struct mb		 mb;
	struct dns_msg		 m;
	struct seen		 s;
	char			 why[128];
	size_t			 at, i;

	mb_hdr(&mb, 1, 0x8400, 1, NP_NELEM(want), 0, 0);
	mb_question(&mb, "test", DNS_T_MX);		/* "test" at 12 */
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_MX, DNS_C_IN, 3600);
	mb_u16(&mb, 10);
	mb_name(&mb, "mail");				/* mail.test: label */
	mb.n--;						/* then a pointer */
	mb_ptr(&mb, 12);
	mb_rdlen(&mb, at);
	mb_name(&mb, "_sip._udp.test");
	at = mb_rr(&mb, DNS_T_SRV, DNS_C_IN, 60);
	mb_u16(&mb, 0);
	mb_u16(&mb, 5);
	mb_u16(&mb, 5060);
	mb_name(&mb, "www.test");
	mb_rdlen(&mb, at);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_SOA, DNS_C_IN, 600);
	mb_name(&mb, "ns.test");
	mb_name(&mb, "hostmaster.test");
	mb_u32(&mb, 2024010101);
	mb_u32(&mb, 1200);
	mb_u32(&mb, 120);
	mb_u32(&mb, 604800);
	mb_u32(&mb, 600);
	mb_rdlen(&mb, at);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_TXT, DNS_C_IN, 0);
	mb_u8(&mb, 11);
	mb_mem(&mb, "v=spf1 -all", 11);
	mb_u8(&mb, 5);
	mb_mem(&mb, "a\"b\\c", 5);
	mb_u8(&mb, 9);
	mb_mem(&mb, zh, 6);
	mb_u8(&mb, 1);		/* control */
	mb_u8(&mb, 0xff);	/* not UTF-8 */
	mb_u8(&mb, 0x7f);	/* DEL */
	mb_rdlen(&mb, at);
	mb_name(&mb, "alias.test");
	at = mb_rr(&mb, DNS_T_CNAME, DNS_C_IN, 1);
	mb_name(&mb, "www.test");
	mb_rdlen(&mb, at);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_NS, DNS_C_IN, 2);
	mb_name(&mb, "ns.test");
	mb_rdlen(&mb, at);
	mb_name(&mb, "99.2.0.192.in-addr.arpa");
	at = mb_rr(&mb, DNS_T_PTR, DNS_C_IN, 3);
	mb_name(&mb, "printer.test");
	mb_rdlen(&mb, at);
	mb_name(&mb, "www.test");
	at = mb_rr(&mb, DNS_T_AAAA, DNS_C_IN, 4);
	mb_mem(&mb, v6, 16);
	mb_rdlen(&mb, at);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, 99, DNS_C_IN, 5);
	mb_u8(&mb, 0x0a);
	mb_u8(&mb, 0x0b);
	mb_u8(&mb, 0xff);
	mb_rdlen(&mb, at);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_A, 3, 6);		/* CH A: not an address */
	mb_u32(&mb, 0xc000020a);
	mb_rdlen(&mb, at);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, 257, DNS_C_IN, 7);
	mb_rdlen(&mb, at);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_TXT, 9, 8);
	mb_u8(&mb, 1);
	mb_u8(&mb, 'x');
	mb_rdlen(&mb, at);

	memset(&s, 0, sizeof(s));
	if (dns_parse(mb.b, mb.n, &m, collect, &s, why, sizeof(why)) != 0)
		fail_msg("parse: %s", why);
	assert_int_equal(s.n, NP_NELEM(want));
	for (i = 0; i < NP_NELEM(want); i++)
		assert_string_equal(s.text[i], want[i]);
	assert_true(m.aa);
	assert_true(m.has_serial);
	assert_int_equal(m.serial, 2024010101);
	(void)zh;
}

static void
test_rcodes_and_types(void **state)
{
	char	buf[16];

	assert_string_equal(dns_rcode_name(0, buf, sizeof(buf)), "NOERROR");
	assert_string_equal(dns_rcode_name(3, buf, sizeof(buf)), "NXDOMAIN");
	assert_string_equal(dns_rcode_name(5, buf, sizeof(buf)), "REFUSED");
	assert_string_equal(dns_rcode_name(16, buf, sizeof(buf)), "BADVERS");
	assert_string_equal(dns_rcode_name(23, buf, sizeof(buf)), "RCODE23");
	assert_int_equal(dns_rcode_from_name("SERVFAIL"), 2);
	assert_int_equal(dns_rcode_from_name("nxdomain"), 3);
	assert_int_equal(dns_rcode_from_name("BADVERS"), 16);
	assert_int_equal(dns_rcode_from_name("NOPE"), -1);
	assert_int_equal(dns_rcode_from_name(""), -1);
	assert_string_equal(dns_type_name(DNS_T_AAAA, buf, sizeof(buf)),
	    "AAAA");
	assert_string_equal(dns_type_name(46, buf, sizeof(buf)), "RRSIG");
	assert_string_equal(dns_type_name(4242, buf, sizeof(buf)),
	    "TYPE4242");
}

/* An OPT record's high rcode bits make a 12-bit rcode (RFC 6891). */
static void
test_extended_rcode(void **state)
{
	struct mb	mb;
	struct dns_msg	m;
	char		why[128], b[16];

	mb_hdr(&mb, 7, 0x8000, 1, 0, 0, 1);
	mb_question(&mb, "www.test", DNS_T_A);
	mb_opt(&mb, 512, 1U << 24 | 0x8000);	/* ext. rcode 1, DO */
	assert_int_equal(dns_parse(mb.b, mb.n, &m, NULL, NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(m.rcode, DNS_R_BADVERS);
	assert_string_equal(dns_rcode_name(m.rcode, b, sizeof(b)), "BADVERS");
	assert_int_equal(m.edns_version, 0);
}

static void
test_reply_matches(void **state)
{
	struct dns_question	 q = question("www.test", DNS_T_A), q2;
	struct mb		 mb;
	struct dns_msg		 m;
	char			 why[128];

	/* resolvers may answer with the case changed (0x20): fine */
	build_a_reply(&mb, 0x1234);
	mb.b[13] = 'W';
	mb.b[17] = 'T';
	assert_int_equal(dns_parse_head(mb.b, mb.n, &m, why, sizeof(why)), 0);
	assert_int_equal(dns_reply_matches(&m, 0x1234, &q, why, sizeof(why)),
	    0);

	assert_int_equal(dns_reply_matches(&m, 0x1235, &q, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "id 0x1234, expected 0x1235");

	q2 = question("www.test", DNS_T_AAAA);
	assert_int_equal(dns_reply_matches(&m, 0x1234, &q2, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "question type A class 1, expected AAAA "
	    "class 1");
	q2 = question("www.tesT.", DNS_T_A);
	q2.qclass = 3;
	assert_int_equal(dns_reply_matches(&m, 0x1234, &q2, why, sizeof(why)),
	    -1);
	q2 = question("ww.test", DNS_T_A);
	assert_int_equal(dns_reply_matches(&m, 0x1234, &q2, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "question for Www.Test., not ours");

	/* opcode STATUS (2) */
	build_a_reply(&mb, 0x1234);
	mb.b[2] |= 2 << 3;
	assert_int_equal(dns_parse_head(mb.b, mb.n, &m, why, sizeof(why)), 0);
	assert_int_equal(dns_reply_matches(&m, 0x1234, &q, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "opcode 2, not QUERY");

	/* no question echoed (some servers do that on FORMERR): no */
	mb_hdr(&mb, 0x1234, 0x8001, 0, 0, 0, 0);
	assert_int_equal(dns_parse_head(mb.b, mb.n, &m, why, sizeof(why)), 0);
	assert_int_equal(dns_reply_matches(&m, 0x1234, &q, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "0 questions, expected ours alone");

	/* two questions */
	mb_hdr(&mb, 0x1234, 0x8000, 2, 0, 0, 0);
	mb_question(&mb, "www.test", DNS_T_A);
	mb_question(&mb, "www.test", DNS_T_A);
	assert_int_equal(dns_parse(mb.b, mb.n, &m, NULL, NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(dns_reply_matches(&m, 0x1234, &q, why, sizeof(why)),
	    -1);
	assert_string_equal(why, "2 questions, expected ours alone");
}

/* ---- malformed and hostile ----------------------------------------- */

struct bad_msg {
	const char	*what;
	const char	*why;		/* exact decoder message */
};

static void
expect_bad(const struct mb *mb, const char *want)
{
	struct dns_msg	m;
	char		why[128];

	memset(why, 0, sizeof(why));
	if (dns_parse(mb->b, mb->n, &m, NULL, NULL, why, sizeof(why)) == 0)
		fail_msg("accepted, expected \"%s\"", want);
	assert_string_equal(why, want);
}

/* Start of a reply to www.test A with one answer RR to follow. */
static void
start_reply(struct mb *mb, unsigned an, unsigned ns, unsigned ar)
{
	mb_hdr(mb, 9, 0x8180, 1, an, ns, ar);
	mb_question(mb, "www.test", DNS_T_A);
}

static void
test_malformed(void **state)
{
	struct mb	mb;
	struct dns_msg	m;
	char		why[128];
	size_t		at, i, base;

	/* header and question */
	memset(&mb, 0, sizeof(mb));
	assert_int_equal(dns_parse(mb.b, 11, &m, NULL, NULL, why,
	    sizeof(why)), -1);
	assert_string_equal(why, "11 bytes, shorter than a DNS header");
	assert_int_equal(dns_parse_head(NULL, 0, &m, why, sizeof(why)), -1);
	assert_string_equal(why, "0 bytes, shorter than a DNS header");
	start_reply(&mb, 0, 0, 0);
	mb.n -= 4;
	expect_bad(&mb, "question cut short");
	mb.n -= 1;
	expect_bad(&mb, "question: name runs past the end of its data");
	start_reply(&mb, 0, 0, 0);
	mb.b[12] = 0x40;
	expect_bad(&mb, "question: unknown label type");
	start_reply(&mb, 0, 0, 0);
	mb.b[12] = 20;		/* label longer than what follows */
	mb.n = 20;
	expect_bad(&mb, "question: label runs past the end of its data");
	mb_hdr(&mb, 9, 0x8180, 2, 0, 0, 0);
	mb_question(&mb, "www.test", DNS_T_A);
	expect_bad(&mb, "question 2: name runs past the end of its data");

	/* compression pointers */
	mb_hdr(&mb, 9, 0x8180, 1, 0, 0, 0);
	mb_ptr(&mb, 12);	/* points at itself */
	mb_u32(&mb, 0x00010001);
	expect_bad(&mb, "question: compression pointer does not point "
	    "backwards");
	mb_hdr(&mb, 9, 0x8180, 1, 0, 0, 0);
	mb_ptr(&mb, 0);
	mb_u32(&mb, 0x00010001);
	expect_bad(&mb, "question: compression pointer into the header");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, mb.n);	/* the answer's owner points at itself */
	expect_bad(&mb, "answer record 1 of 1: compression pointer does not "
	    "point backwards");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, mb.n + 4);	/* forwards */
	mb_u32(&mb, 0);
	expect_bad(&mb, "answer record 1 of 1: compression pointer does not "
	    "point backwards");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 5);
	expect_bad(&mb, "answer record 1 of 1: compression pointer into the "
	    "header");
	start_reply(&mb, 1, 0, 0);
	mb_u8(&mb, 0xc0);	/* pointer cut in half */
	expect_bad(&mb, "answer record 1 of 1: compression pointer cut "
	    "short");
	/*
	 * A loop: "b" then a pointer back to that same "b".  The pointer
	 * points before itself, but not before the previous target.
	 */
	start_reply(&mb, 2, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, 99, DNS_C_IN, 0);
	base = mb.n;
	mb_u8(&mb, 1);
	mb_u8(&mb, 'b');
	mb_ptr(&mb, base);
	mb_rdlen(&mb, at);
	mb_ptr(&mb, base);
	expect_bad(&mb, "answer record 2 of 2: compression pointer does not "
	    "point backwards");
	/* a long chain of backward pointers: bounded */
	start_reply(&mb, 2, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, 99, DNS_C_IN, 0);
	base = mb.n;
	mb_u8(&mb, 0);			/* root, at base */
	for (i = 1; i <= 70; i++)
		mb_ptr(&mb, base + (i == 1 ? 0 : 1 + 2 * (i - 2)));
	mb_rdlen(&mb, at);
	mb_ptr(&mb, base + 1 + 2 * 69);	/* 70 pointers deep */
	expect_bad(&mb, "answer record 2 of 2: too many compression "
	    "pointers");
	/* names that grow past 255 bytes through pointers */
	start_reply(&mb, 2, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, 99, DNS_C_IN, 0);
	base = mb.n;
	mb_u8(&mb, 0);
	for (i = 0; i < 5; i++) {
		size_t	here = mb.n;

		mb_u8(&mb, 63);
		while (mb.n < here + 64)
			mb_u8(&mb, 'x');
		mb_ptr(&mb, i == 0 ? base : here - 66);
	}
	mb_rdlen(&mb, at);
	mb_ptr(&mb, mb.n - 66);
	expect_bad(&mb, "answer record 2 of 2: name longer than 255 bytes");

	/* record header and RDATA lengths */
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	mb_u32(&mb, 0x00010001);
	expect_bad(&mb, "answer record 1 of 1: record header cut short");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	mb_rr(&mb, DNS_T_A, DNS_C_IN, 1);
	mb.b[mb.n - 1] = 4;
	mb_u16(&mb, 0);
	expect_bad(&mb, "answer record 1 of 1: RDATA runs past the end of "
	    "the message");
	start_reply(&mb, 3, 0, 0);
	expect_bad(&mb, "answer record 1 of 3: name runs past the end of its "
	    "data");

	/* RDATA that contradicts its type */
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_A, DNS_C_IN, 1);
	mb_u32(&mb, 1);
	mb_u8(&mb, 1);
	mb_rdlen(&mb, at);
	expect_bad(&mb, "answer record 1 of 1: A RDATA is not 4 bytes");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_AAAA, DNS_C_IN, 1);
	mb_u32(&mb, 1);
	mb_rdlen(&mb, at);
	expect_bad(&mb, "answer record 1 of 1: AAAA RDATA is not 16 bytes");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_CNAME, DNS_C_IN, 1);
	mb_ptr(&mb, 12);
	mb_u8(&mb, 0);
	mb_rdlen(&mb, at);
	expect_bad(&mb, "answer record 1 of 1: RDATA longer than its "
	    "content");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_CNAME, DNS_C_IN, 1);
	mb_u8(&mb, 3);
	mb_mem(&mb, "www", 3);
	mb_rdlen(&mb, at);
	mb_u8(&mb, 0);		/* the name's end lies past its RDATA */
	expect_bad(&mb, "answer record 1 of 1: name runs past the end of its "
	    "data");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_MX, DNS_C_IN, 1);
	mb_u16(&mb, 10);
	mb_rdlen(&mb, at);
	expect_bad(&mb, "answer record 1 of 1: MX RDATA too short");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_SRV, DNS_C_IN, 1);
	mb_u32(&mb, 0);
	mb_u16(&mb, 0);
	mb_rdlen(&mb, at);
	expect_bad(&mb, "answer record 1 of 1: SRV RDATA too short");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_SOA, DNS_C_IN, 1);
	mb_ptr(&mb, 12);
	mb_ptr(&mb, 12);
	mb_u32(&mb, 1);
	mb_rdlen(&mb, at);
	expect_bad(&mb, "answer record 1 of 1: SOA RDATA is not two names "
	    "and 20 bytes");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_TXT, DNS_C_IN, 1);
	mb_rdlen(&mb, at);
	expect_bad(&mb, "answer record 1 of 1: TXT RDATA is empty");
	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_TXT, DNS_C_IN, 1);
	mb_u8(&mb, 5);
	mb_mem(&mb, "abc", 3);
	mb_rdlen(&mb, at);
	mb_u16(&mb, 0);		/* bytes exist, but past the RDATA */
	expect_bad(&mb, "answer record 1 of 1: TXT string runs past its "
	    "RDATA");

	/* OPT rules, RFC 6891 section 6.1.1 */
	start_reply(&mb, 1, 0, 0);
	mb_opt(&mb, 1232, 0);
	expect_bad(&mb, "answer record 1 of 1: OPT record outside the "
	    "additional section");
	start_reply(&mb, 0, 0, 1);
	mb_ptr(&mb, 12);
	mb_u16(&mb, DNS_T_OPT);
	mb_u16(&mb, 1232);
	mb_u32(&mb, 0);
	mb_u16(&mb, 0);
	expect_bad(&mb, "additional record 1 of 1: OPT record with an owner "
	    "other than the root");
	start_reply(&mb, 0, 0, 2);
	mb_opt(&mb, 1232, 0);
	mb_opt(&mb, 1232, 0);
	expect_bad(&mb, "additional record 2 of 2: more than one OPT record");
	start_reply(&mb, 0, 0, 1);
	mb_opt(&mb, 1232, 0);
	mb.b[mb.n - 1] = 5;	/* rdlen 5: one option, cut */
	mb_u16(&mb, 10);
	mb_u16(&mb, 8);
	mb_u8(&mb, 0);
	expect_bad(&mb, "additional record 1 of 1: OPT option runs past its "
	    "RDATA");
	/* a well-formed option is fine */
	start_reply(&mb, 0, 0, 1);
	mb_opt(&mb, 1232, 0);
	mb.b[mb.n - 1] = 6;
	mb_u16(&mb, 15);	/* EDE */
	mb_u16(&mb, 2);
	mb_u16(&mb, 17);
	assert_int_equal(dns_parse(mb.b, mb.n, &m, NULL, NULL, why,
	    sizeof(why)), 0);

	/* authority section numbering */
	start_reply(&mb, 0, 1, 0);
	mb_u8(&mb, 0x80);
	expect_bad(&mb, "authority record 1 of 1: unknown label type");
}

/* RRs longer than DNS_RR_TEXT are cut, flagged, and still strings. */
static int	cut_seen;

static void
check_cut(void *arg, const struct dns_rr *rr)
{
	assert_true(strlen(rr->text) < sizeof(rr->text));
	if (rr->cut)
		cut_seen++;
}

static void
test_long_rdata_cut(void **state)
{
	struct mb	mb;
	struct dns_msg	m;
	char		why[128];
	size_t		at, i;

	start_reply(&mb, 1, 0, 0);
	mb_ptr(&mb, 12);
	at = mb_rr(&mb, DNS_T_TXT, DNS_C_IN, 1);
	for (i = 0; i < 20; i++) {
		mb_u8(&mb, 255);
		while (mb.n < at + 2 + (i + 1) * 256)
			mb_u8(&mb, 1);	/* each is \001: 4 chars */
	}
	mb_rdlen(&mb, at);
	cut_seen = 0;
	assert_int_equal(dns_parse(mb.b, mb.n, &m, check_cut, NULL, why,
	    sizeof(why)), 0);
	assert_int_equal(cut_seen, 1);
}

/* ---- TCP framing --------------------------------------------------- */

static void
test_tcp_framing(void **state)
{
	struct mb		 mb;
	struct dns_tcp_in	 in;
	uint8_t			 framed[DNS_MSG_MAX + 2], *big;
	const char		*why = NULL;
	size_t			 n, i;
	long			 k;

	build_a_reply(&mb, 0x4242);
	n = dns_tcp_frame(framed, sizeof(framed), mb.b, mb.n);
	assert_int_equal(n, mb.n + 2);
	assert_int_equal(framed[0] << 8 | framed[1], mb.n);
	assert_memory_equal(framed + 2, mb.b, mb.n);
	assert_int_equal(dns_tcp_frame(framed, mb.n + 1, mb.b, mb.n), 0);
	assert_int_equal(dns_tcp_frame(framed, sizeof(framed), mb.b, 0), 0);

	/* one byte at a time */
	memset(&in, 0, sizeof(in));
	for (i = 0; i < n; i++) {
		assert_false(in.done);
		assert_int_equal(dns_tcp_in_take(&in, framed + i, 1, &why), 1);
	}
	assert_true(in.done);
	assert_int_equal(in.want, mb.n);
	assert_memory_equal(in.msg, mb.b, mb.n);
	/* done: takes nothing more */
	assert_int_equal(dns_tcp_in_take(&in, framed, 5, &why), 0);
	dns_tcp_in_free(&in);
	assert_null(in.msg);

	/* all at once with more bytes behind: only the message is used */
	memset(framed + n, 0xaa, 10);
	assert_int_equal(dns_tcp_in_take(&in, framed, n + 10, &why),
	    (long)n);
	assert_true(in.done);
	dns_tcp_in_free(&in);

	/* a prefix in two pieces, then chunks */
	assert_int_equal(dns_tcp_in_take(&in, framed, 1, &why), 1);
	assert_null(in.msg);
	assert_int_equal(dns_tcp_in_take(&in, framed + 1, 4, &why), 4);
	assert_int_equal(in.have, 3);
	assert_int_equal(dns_tcp_in_take(&in, framed + 5, n - 5, &why),
	    (long)(n - 5));
	assert_true(in.done);
	dns_tcp_in_free(&in);

	/* a length shorter than a header */
	framed[0] = 0;
	framed[1] = 11;
	assert_int_equal(dns_tcp_in_take(&in, framed, 20, &why), -1);
	assert_string_equal(why, "the length prefix announces less than a "
	    "DNS header");
	dns_tcp_in_free(&in);

	/* the largest message: 65535 bytes */
	big = calloc(1, DNS_MSG_MAX + 2);
	assert_non_null(big);
	assert_int_equal(dns_tcp_frame(big, DNS_MSG_MAX + 2, big + 2,
	    DNS_MSG_MAX), DNS_MSG_MAX + 2);
	assert_int_equal(dns_tcp_frame(big, DNS_MSG_MAX + 2, big + 2,
	    DNS_MSG_MAX + 1), 0);
	for (i = 0; i < DNS_MSG_MAX + 2; i += (size_t)k) {
		k = dns_tcp_in_take(&in, big + i, 4096 < DNS_MSG_MAX + 2 - i ?
		    4096 : DNS_MSG_MAX + 2 - i, &why);
		assert_true(k > 0);
	}
	assert_true(in.done);
	assert_int_equal(in.want, DNS_MSG_MAX);
	dns_tcp_in_free(&in);
	free(big);
}

/* ---- fuzz ---------------------------------------------------------- */

struct fz {
	unsigned	n;
};

static void
fuzz_rr(void *arg, const struct dns_rr *rr)
{
	struct fz	*f = arg;

	/* a rendered RR is always a bounded C string */
	assert_true(strlen(rr->text) < sizeof(rr->text));
	assert_true(rr->rdata_at <= strlen(rr->text));
	assert_true(rr->section <= DNS_S_ADDITIONAL);
	f->n++;
}

static void
fuzz_one(const uint8_t *buf, size_t len)
{
	struct dns_question	 q = question("www.test", DNS_T_A);
	struct dns_msg		 m;
	struct fz		 f = { 0 };
	char			 why[128];
	uint8_t			*copy;

	/* an exact-size heap copy: ASan sees any overread */
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, buf, len);
	if (dns_parse_head(copy, len, &m, why, sizeof(why)) == 0)
		(void)dns_reply_matches(&m, 9, &q, why, sizeof(why));
	else
		assert_true(strlen(why) > 0);
	if (dns_parse(copy, len, &m, fuzz_rr, &f, why, sizeof(why)) == 0) {
		/* every counted RR was seen, no more */
		assert_int_equal(f.n, (unsigned)m.ancount + m.nscount +
		    m.arcount);
		assert_true(m.trailing <= len);
	} else
		assert_true(strlen(why) > 0 && strlen(why) < sizeof(why));
	free(copy);
}

static void
test_fuzz(void **state)
{
	struct mb	 seed, mb;
	uint8_t		 buf[1024];
	size_t		 i, len, j, at;
	unsigned	 ok = 0;
	struct dns_msg	 m;
	char		 why[128];

	srandom(20240101);
	/* random bytes, with a plausible header now and then */
	for (i = 0; i < 20000; i++) {
		len = (size_t)random() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)random();
		if (i % 2 && len >= 12) {
			buf[4] = 0;
			buf[5] = 1;
			buf[6] = buf[8] = buf[10] = 0;
		}
		fuzz_one(buf, len);
	}
	/* mutations of a rich valid reply */
	build_a_reply(&seed, 9);
	seed.b[7] = 3;			/* 3 answers */
	at = seed.n - 11;		/* insert before the OPT */
	mb = seed;
	mb.n = at;
	mb_ptr(&mb, 12);
	j = mb_rr(&mb, DNS_T_MX, DNS_C_IN, 5);
	mb_u16(&mb, 10);
	mb_ptr(&mb, 16);
	mb_rdlen(&mb, j);
	mb_ptr(&mb, 16);
	j = mb_rr(&mb, DNS_T_TXT, DNS_C_IN, 5);
	mb_u8(&mb, 3);
	mb_mem(&mb, "a\xe4z", 3);
	mb_rdlen(&mb, j);
	mb_opt(&mb, 1232, 0);
	seed = mb;
	assert_int_equal(dns_parse(seed.b, seed.n, &m, NULL, NULL, why,
	    sizeof(why)), 0);
	for (i = 0; i < 30000; i++) {
		unsigned	flips = 1 + (unsigned)random() % 4, k;

		memcpy(buf, seed.b, seed.n);
		len = seed.n;
		for (k = 0; k < flips; k++) {
			j = (size_t)random() % len;
			switch (random() % 4) {
			case 0:
				buf[j] ^= (uint8_t)(1 << (random() % 8));
				break;
			case 1:
				buf[j] = (uint8_t)random();
				break;
			case 2:
				buf[j] = (uint8_t)(0xc0 | (random() & 1));
				break;
			default:
				len = j;	/* truncate */
				break;
			}
			if (len == 0)
				break;
		}
		if (len > 0 && dns_parse(buf, len, &m, NULL, NULL, why,
		    sizeof(why)) == 0)
			ok++;
		fuzz_one(buf, len);
	}
	/* some mutants still decode: the fuzzer reached deep code */
	assert_true(ok > 100);
}

/* ---- options through the config loader ------------------------------ */

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

static void
test_config_defaults(void **state)
{
	struct np_config	*conf;
	const struct probe_cfg	*p;

	conf = load_ok("probes:\n"
	    "  - name: d\n"
	    "    type: dns\n"
	    "    targets: [127.0.0.53, \"127.0.0.54:5353\", \"::1\", "
	    "\"[::1]:15353\"]\n"
	    "    query_name: www.test\n");
	p = &conf->probes[0];
	assert_int_equal(p->ntargets, 4);
	/* the target label is always IP:PORT, 53 by default */
	assert_string_equal(p->targets[0], "127.0.0.53:53");
	assert_string_equal(p->targets[1], "127.0.0.54:5353");
	assert_string_equal(p->targets[2], "[::1]:53");
	assert_string_equal(p->targets[3], "[::1]:15353");
	assert_string_equal(*(char *const *)opt_ptr(p, "query_name"),
	    "www.test");
	assert_int_equal(*(const int *)opt_ptr(p, "query_type"), 0);
	assert_int_equal(*(const int *)opt_ptr(p, "transport"), 0);
	assert_int_equal(*(const int *)opt_ptr(p, "recursion_desired"), 1);
	assert_int_equal(*(const int *)opt_ptr(p, "authoritative"), 0);
	assert_null(*(char **const *)opt_ptr(p, "valid_rcodes"));
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "answer_count_min"),
	    0);
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "answer_count_max"),
	    65535);
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "edns_udp_size"),
	    1232);
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "port"), 53);
	config_free(conf);
}

static void
test_config_all(void **state)
{
	struct np_config	*conf;
	const struct probe_cfg	*p;
	char *const		*l;
	const struct np_regexlist *rl;

	conf = load_ok("probes:\n"
	    "  - name: d\n"
	    "    type: dns\n"
	    "    target: 127.0.0.53\n"
	    "    port: 15353\n"
	    "    query_name: 192.0.2.99\n"
	    "    query_type: PTR\n"
	    "    transport: tcp\n"
	    "    recursion_desired: false\n"
	    "    valid_rcodes: [NOERROR, nxdomain]\n"
	    "    answer_count_min: 1\n"
	    "    answer_count_max: 3\n"
	    "    answer_regex: ['IN PTR printer\\.test\\.$']\n"
	    "    answer_regex_not: 'IN PTR evil'\n"
	    "    authoritative: true\n"
	    "    edns_udp_size: 0\n");
	p = &conf->probes[0];
	assert_string_equal(p->targets[0], "127.0.0.53:15353");
	assert_int_equal(*(const int *)opt_ptr(p, "query_type"), 6);
	assert_int_equal(*(const int *)opt_ptr(p, "transport"), 1);
	assert_int_equal(*(const int *)opt_ptr(p, "recursion_desired"), 0);
	assert_int_equal(*(const int *)opt_ptr(p, "authoritative"), 1);
	l = *(char **const *)opt_ptr(p, "valid_rcodes");
	assert_string_equal(l[0], "NOERROR");
	assert_string_equal(l[1], "nxdomain");
	assert_null(l[2]);
	rl = opt_ptr(p, "answer_regex_not");
	assert_int_equal(rl->n, 1);
	assert_string_equal(rl->v[0].src, "IN PTR evil");
	assert_true(np_regex_match(&rl->v[0], "x.in-addr.arpa. 60 IN PTR evil."));
	assert_int_equal(*(const uint64_t *)opt_ptr(p, "edns_udp_size"), 0);
	config_free(conf);
}

struct bad_cfg {
	const char	*what;
	const char	*yaml;		/* appended to the probe entry */
	const char	*err;		/* the one exact error */
};

#define ENTRY	"probes:\n  - name: d\n    type: dns\n" \
		"    target: 127.0.0.53\n"

static const struct bad_cfg bad_cfgs[] = {
	{ "query_name is required", "",
	    NAME ":2:5: probe 'd': 'query_name' is required: the name to "
	    "look up" },
	{ "query_name with an empty label",
	    "    query_name: www..test\n",
	    NAME ":5:17: probe 'd': 'query_name' \"www..test\" is not a "
	    "valid domain name: empty label (two dots in a row, or a "
	    "leading dot)" },
	{ "query_name with a 64-byte label",
	    "    query_name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaa.test\n",
	    NAME ":5:17: probe 'd': 'query_name' \"aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test\" is not a valid domain "
	    "name: a label is longer than 63 characters" },
	{ "query_name not ASCII",
	    "    query_name: 测试.test\n",
	    NAME ":5:17: probe 'd': 'query_name' \"测试.test\" is not a valid "
	    "domain name: not ASCII: write an internationalized name in its "
	    "xn-- (A-label) form" },
	{ "query_name an IPv6 literal without PTR",
	    "    query_name: \"2001:db8::1\"\n",
	    NAME ":5:17: probe 'd': 'query_name' \"2001:db8::1\" is not a "
	    "valid domain name: only letters, digits, '-', '_' and dots "
	    "between labels are allowed" },
	{ "query_type unknown",
	    "    query_name: www.test\n    query_type: ANY\n",
	    NAME ":6:17: 'query_type' must be one of A, AAAA, CNAME, MX, TXT, "
	    "SOA, PTR, NS, SRV, got \"ANY\"" },
	{ "transport unknown",
	    "    query_name: www.test\n    transport: tls\n",
	    NAME ":6:16: 'transport' must be one of udp, tcp, got \"tls\"" },
	{ "valid_rcodes unknown",
	    "    query_name: www.test\n    valid_rcodes: [NOERROR, NOPE]\n",
	    NAME ":6:19: probe 'd': 'valid_rcodes': unknown rcode \"NOPE\" "
	    "(known: NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, "
	    "YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, NOTZONE, BADVERS)" },
	{ "valid_rcodes empty",
	    "    query_name: www.test\n    valid_rcodes: []\n",
	    NAME ":6:19: 'valid_rcodes' must not be empty" },
	{ "answer_count_min above answer_count_max",
	    "    query_name: www.test\n    answer_count_min: 4\n"
	    "    answer_count_max: 2\n",
	    NAME ":6:23: probe 'd': 'answer_count_min' (4) is larger than "
	    "'answer_count_max' (2)" },
	{ "answer_count_max out of range",
	    "    query_name: www.test\n    answer_count_max: 70000\n",
	    NAME ":6:23: 'answer_count_max' must be between 0 and 65535, got "
	    "70000" },
	{ "answer_regex invalid",
	    "    query_name: www.test\n    answer_regex: ['IN A (']\n",
	    NAME ":6:20: 'answer_regex': invalid regular expression "
	    "\"IN A (\": Unmatched ( or \\(" },
	{ "answer_regex_not invalid",
	    "    query_name: www.test\n    answer_regex_not: '[z-a]'\n",
	    NAME ":6:23: 'answer_regex_not': invalid regular "
	    "expression \"[z-a]\": Invalid range end" },
	{ "edns_udp_size below 512",
	    "    query_name: www.test\n    edns_udp_size: 100\n",
	    NAME ":6:20: probe 'd': 'edns_udp_size' must be 0 (no EDNS) or 512 "
	    "to 65535, got 100" },
	{ "port zero",
	    "    query_name: www.test\n    port: 0\n",
	    NAME ":6:11: 'port' must be between 1 and 65535, got 0" },
	{ "recursion_desired not a boolean",
	    "    query_name: www.test\n    recursion_desired: maybe\n",
	    NAME ":6:24: 'recursion_desired' expects true or false, got "
	    "\"maybe\"" },
	{ "both target and targets",
	    "    query_name: www.test\n    targets: ns.test\n",
	    NAME ":6:5: give either 'target' or 'targets', not both" },
};

static void
test_bad_cfg(void **state)
{
	const struct bad_cfg	*bc = *state;
	struct cfg_errors	 errs;
	struct np_config	*conf;
	char			 text[1024];
	size_t			 i;

	snprintf(text, sizeof(text), "%s%s", ENTRY, bc->yaml);
	conf = load(text, &errs);
	if (conf != NULL) {
		config_free(conf);
		cfg_errors_free(&errs);
		fail_msg("%s: config was accepted", bc->what);
	}
	if (errs.n != 1) {
		for (i = 0; i < errs.n; i++)
			print_error("got: %s\n", errs.msg[i]);
		cfg_errors_free(&errs);
		fail_msg("%s: expected exactly one error", bc->what);
	}
	assert_string_equal(errs.msg[0], bc->err);
	cfg_errors_free(&errs);
}

static void
test_bad_target(void **state)
{
	struct cfg_errors	 errs;

	assert_null(load("probes:\n  - name: d\n    type: dns\n"
	    "    target: ns.test\n    query_name: www.test\n", &errs));
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], NAME ":4:13: invalid dns target "
	    "\"ns.test\": expected an IPv4 or IPv6 address literal (names "
	    "are not resolved)");
	cfg_errors_free(&errs);
}

int
main(void)
{
	static const struct CMUnitTest other[] = {
		cmocka_unit_test(test_name_from_text),
		cmocka_unit_test(test_name_text_escapes),
		cmocka_unit_test(test_name_equal),
		cmocka_unit_test(test_reverse_name),
		cmocka_unit_test(test_query_build),
		cmocka_unit_test(test_parse_a),
		cmocka_unit_test(test_render_types),
		cmocka_unit_test(test_rcodes_and_types),
		cmocka_unit_test(test_extended_rcode),
		cmocka_unit_test(test_reply_matches),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_long_rdata_cut),
		cmocka_unit_test(test_tcp_framing),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_all),
		cmocka_unit_test(test_bad_target),
	};
	struct CMUnitTest	tests[NP_NELEM(other) + NP_NELEM(bad_cfgs)];
	size_t			i;

	for (i = 0; i < NP_NELEM(other); i++)
		tests[i] = other[i];
	for (i = 0; i < NP_NELEM(bad_cfgs); i++) {
		memset(&tests[NP_NELEM(other) + i], 0, sizeof(tests[0]));
		tests[NP_NELEM(other) + i].name = bad_cfgs[i].what;
		tests[NP_NELEM(other) + i].test_func = test_bad_cfg;
		tests[NP_NELEM(other) + i].initial_state =
		    (void *)&bad_cfgs[i];
	}
	return (cmocka_run_group_tests_name("dns", tests, NULL, NULL));
}
