/*
 * The AgentX protocol (daemon/msg_agentx.c): every PDU we send,
 * byte for byte against RFC 2741's layout; every PDU a master sends us,
 * in both byte orders, with prefix-compressed OIDs and contexts; hostile
 * and truncated input; GetNext order over the two tables; value helpers.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "daemon/msg_agentx.h"
#include "probes/probe.h"
#include "rules/alert.h"

/* NETPROBE-MIB's default base: netSnmpPlaypen.7457 */
static const uint32_t	base[] = {
	1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7457
};
#define BASE_N		(sizeof(base) / sizeof(base[0]))

/* ---- a little PDU writer for the master's side ------------------------ */

struct w {
	uint8_t		 b[65536];
	size_t		 n;
	int		 nbo;
};

static void
w8(struct w *w, uint8_t v)
{
	w->b[w->n++] = v;
}

static void
w16(struct w *w, uint16_t v)
{
	if (w->nbo) {
		w8(w, (uint8_t)(v >> 8));
		w8(w, (uint8_t)v);
	} else {
		w8(w, (uint8_t)v);
		w8(w, (uint8_t)(v >> 8));
	}
}

static void
w32(struct w *w, uint32_t v)
{
	if (w->nbo) {
		w16(w, (uint16_t)(v >> 16));
		w16(w, (uint16_t)v);
	} else {
		w16(w, (uint16_t)v);
		w16(w, (uint16_t)(v >> 16));
	}
}

/* An OID, optionally with the 1.3.6.1.<prefix> compression of 5.1. */
static void
woid(struct w *w, const uint32_t *sub, size_t n, int include, int compress)
{
	size_t	 i = 0;

	if (compress && n >= 5 && sub[0] == 1 && sub[1] == 3 && sub[2] == 6 &&
	    sub[3] == 1 && sub[4] > 0 && sub[4] < 256) {
		w8(w, (uint8_t)(n - 5));
		w8(w, (uint8_t)sub[4]);
		i = 5;
	} else {
		w8(w, (uint8_t)n);
		w8(w, 0);
	}
	w8(w, (uint8_t)include);
	w8(w, 0);
	for (; i < n; i++)
		w32(w, sub[i]);
}

static void
woctets(struct w *w, const char *s, size_t len)
{
	w32(w, (uint32_t)len);
	memcpy(w->b + w->n, s, len);
	w->n += len;
	while (w->n % 4)
		w8(w, 0);
}

/* Header; the payload length is patched by wdone(). */
static void
whdr(struct w *w, int nbo, uint8_t type, uint8_t flags, uint32_t sess,
    uint32_t trans, uint32_t packet)
{
	memset(w, 0, sizeof(*w));
	w->nbo = nbo;
	w8(w, 1);
	w8(w, type);
	w8(w, (uint8_t)(flags | (nbo ? AX_F_NETWORK_BYTE_ORDER : 0)));
	w8(w, 0);
	w32(w, sess);
	w32(w, trans);
	w32(w, packet);
	w32(w, 0);
}

static void
wdone(struct w *w)
{
	size_t	 n = w->n;

	w->n = 16;
	w32(w, (uint32_t)(n - AX_HDR_LEN));
	w->n = n;
}

/* B.1.<t>.1.<col>.<row> (col/row 0: shorter) into out; its length. */
static size_t
obj(uint32_t *out, uint32_t t, uint32_t col, uint32_t row)
{
	size_t	 n = BASE_N;

	memcpy(out, base, sizeof(base));
	out[n++] = 1;
	out[n++] = t;
	out[n++] = 1;
	if (col)
		out[n++] = col;
	if (row)
		out[n++] = row;
	return (n);
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static const uint8_t *
bytes(struct evbuffer *b, size_t *len)
{
	*len = evbuffer_get_length(b);
	return (evbuffer_pullup(b, -1));
}

/* ---- what we send ------------------------------------------------------ */

static void
test_enc_open(void **state)
{
	static const uint32_t	 id[] = { 1, 3, 6, 1, 4, 1, 8072 };
	static const uint8_t	 want[] = {
		1, AX_OPEN, 0x10, 0,		/* v1, Open, network */
		0, 0, 0, 0,			/* session: none yet */
		0, 0, 0, 0,			/* transaction */
		0x12, 0x34, 0x56, 0x78,		/* packet */
		0, 0, 0, 44,			/* payload length */
		5, 0, 0, 0,			/* o.timeout 5 s */
		7, 0, 0, 0,			/* o.id: 7 sub-ids */
		0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0, 1,
		0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0x1f, 0x88,
		0, 0, 0, 2, 'n', 'p', 0, 0,	/* o.descr, padded */
	};
	struct evbuffer		*b = evbuffer_new();
	const uint8_t		*p;
	size_t			 len;

	ax_enc_open(b, 0x12345678, 5, id, 7, "np");
	p = bytes(b, &len);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(p, want, sizeof(want));
	assert_int_equal(ax_frame_len(p, len), (ssize_t)len);
	evbuffer_free(b);
}

static void
test_enc_register_close_ping(void **state)
{
	struct evbuffer	*b = evbuffer_new();
	const uint8_t	*p;
	uint32_t	 sub[AX_OID_MAX];
	size_t		 len, n = obj(sub, 3, 0, 0) - 1;

	ax_enc_register(b, 42, 7, 127, sub, n);
	p = bytes(b, &len);
	assert_int_equal(len, AX_HDR_LEN + 4 + 4 + 4 * n);
	assert_int_equal(p[1], AX_REGISTER);
	assert_int_equal(p[2], AX_F_NETWORK_BYTE_ORDER);
	assert_int_equal(p[7], 42);		/* session id */
	assert_int_equal(p[15], 7);		/* packet id */
	assert_int_equal(p[20], 0);		/* r.timeout: session's */
	assert_int_equal(p[21], 127);		/* r.priority */
	assert_int_equal(p[22], 0);		/* r.range_subid: no range */
	assert_int_equal(p[24], n);		/* r.subtree */
	assert_int_equal(p[25], 0);
	assert_int_equal(p[len - 1], 3);	/* ...1.3 */
	assert_int_equal(p[len - 5], 1);
	evbuffer_drain(b, len);

	ax_enc_close(b, 42, 8, AX_R_SHUTDOWN);
	p = bytes(b, &len);
	assert_int_equal(len, AX_HDR_LEN + 4);
	assert_int_equal(p[1], AX_CLOSE);
	assert_int_equal(p[19], 4);
	assert_int_equal(p[20], AX_R_SHUTDOWN);
	evbuffer_drain(b, len);

	ax_enc_ping(b, 42, 9);
	p = bytes(b, &len);
	assert_int_equal(len, AX_HDR_LEN);
	assert_int_equal(p[1], AX_PING);
	assert_int_equal(p[19], 0);
	evbuffer_free(b);
}

/* A response to a little-endian request: ids echoed, values decodable. */
static void
test_enc_response(void **state)
{
	static const uint8_t	 dt[11] = { 7, 0xea, 11, 28, 21, 48, 44, 0,
				    '+', 0, 0 };
	struct evbuffer		*b = evbuffer_new();
	struct evbuffer		*list = evbuffer_new();
	struct ax_hdr		 req = { 1, AX_GET, 0, 0x01020304,
				    0x0a0b0c0d, 0xdeadbeef, 0 };
	struct ax_value		 v;
	struct ax_pdu		 pdu;
	uint32_t		 name[AX_OID_MAX];
	const uint8_t		*p;
	const char		*why;
	size_t			 len, n = obj(name, 3, 2, 1), off;

	memset(&v, 0, sizeof(v));
	v.type = AX_V_OCTETS;
	v.s = "金水区";			/* 9 bytes: 3 of padding */
	v.slen = strlen("金水区");
	ax_enc_varbind(list, name, n, &v);
	v.type = AX_V_INTEGER;
	v.i = -3;
	ax_enc_varbind(list, name, n, &v);
	v.type = AX_V_GAUGE32;
	v.u = 4000000000U;
	ax_enc_varbind(list, name, n, &v);
	v.type = AX_V_COUNTER64;
	v.u64 = 0x0102030405060708ULL;
	ax_enc_varbind(list, name, n, &v);
	v.type = AX_V_OCTETS;
	v.s = dt;
	v.slen = sizeof(dt);
	ax_enc_varbind(list, name, n, &v);
	v.type = AX_V_ENDOFMIBVIEW;
	ax_enc_varbind(list, name, n, &v);
	ax_enc_response(b, &req, AX_E_NOERROR, 0, list);
	assert_int_equal(evbuffer_get_length(list), 0);

	p = bytes(b, &len);
	assert_int_equal(ax_frame_len(p, len), (ssize_t)len);
	assert_int_equal(ax_decode(p, len, &pdu, &why), 0);
	assert_int_equal(pdu.h.type, AX_RESPONSE);
	assert_int_equal(pdu.h.sessid, 0x01020304);
	assert_int_equal(pdu.h.transid, 0x0a0b0c0d);
	assert_int_equal(pdu.h.packetid, 0xdeadbeef);
	assert_int_equal(pdu.error, 0);
	assert_int_equal(pdu.nitems, 6);
	/* first varbind: type, reserved, name, then the string */
	off = pdu.list_off;
	assert_int_equal(p[off] << 8 | p[off + 1], AX_V_OCTETS);
	off += 4 + 4 + 4 * n;
	assert_int_equal(p[off + 3], 9);
	assert_memory_equal(p + off + 4, "金水区", 9);
	assert_memory_equal(p + off + 13, "\0\0\0", 3);
	off += 16;
	/* INTEGER -3, two's complement */
	off += 4 + 4 + 4 * n;
	assert_int_equal((int32_t)be32(p + off), -3);
	off += 4;
	off += 4 + 4 + 4 * n;
	assert_int_equal(be32(p + off), 4000000000U);
	off += 4;
	off += 4 + 4 + 4 * n;
	assert_int_equal(p[off], 1);
	assert_int_equal(p[off + 7], 8);
	evbuffer_free(b);
	evbuffer_free(list);
}

/* ---- what a master sends ------------------------------------------------- */

static void
check_get(int nbo, int compress)
{
	struct w	 w;
	struct ax_pdu	 pdu;
	struct ax_range	 r;
	uint32_t	 a[AX_OID_MAX], e[AX_OID_MAX];
	size_t		 an = obj(a, 3, 2, 1), en = obj(e, 3, 3, 0);
	size_t		 off = 0;
	const char	*why;

	whdr(&w, nbo, AX_GETNEXT, 0, 5, 6, 7);
	woid(&w, a, an, 1, compress);
	woid(&w, e, en, 0, compress);
	woid(&w, a, an - 1, 0, compress);
	woid(&w, NULL, 0, 0, 0);		/* the null OID: no end */
	wdone(&w);
	assert_int_equal(ax_frame_len(w.b, w.n), (ssize_t)w.n);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), 0);
	assert_int_equal(pdu.h.type, AX_GETNEXT);
	assert_int_equal(pdu.h.sessid, 5);
	assert_int_equal(pdu.h.transid, 6);
	assert_int_equal(pdu.h.packetid, 7);
	assert_int_equal(pdu.nitems, 2);
	assert_int_equal(ax_range_next(&pdu, &off, &r), 1);
	assert_int_equal(ax_oid_cmp(r.start.sub, r.start.n, a, an), 0);
	assert_int_equal(r.start.include, 1);
	assert_int_equal(ax_oid_cmp(r.end.sub, r.end.n, e, en), 0);
	assert_int_equal(ax_range_next(&pdu, &off, &r), 1);
	assert_int_equal(ax_oid_cmp(r.start.sub, r.start.n, a, an - 1), 0);
	assert_int_equal(r.start.include, 0);
	assert_int_equal(r.end.n, 0);
	assert_int_equal(ax_range_next(&pdu, &off, &r), 0);
}

static void
test_dec_getnext(void **state)
{
	check_get(1, 0);
	check_get(1, 1);
	check_get(0, 0);
	check_get(0, 1);
}

static void
test_dec_getbulk_context(void **state)
{
	struct w	 w;
	struct ax_pdu	 pdu;
	struct ax_range	 r;
	uint32_t	 a[AX_OID_MAX];
	size_t		 an = obj(a, 2, 0, 0), off = 0;
	const char	*why;
	int		 nbo;

	for (nbo = 0; nbo < 2; nbo++) {
		whdr(&w, nbo, AX_GETBULK, AX_F_NON_DEFAULT_CONTEXT, 1, 2, 3);
		woctets(&w, "ctx", 3);
		w16(&w, 1);		/* non_repeaters */
		w16(&w, 10);		/* max_repetitions */
		woid(&w, a, an, 0, 1);
		woid(&w, NULL, 0, 0, 0);
		woid(&w, a, an, 0, 0);
		woid(&w, NULL, 0, 0, 0);
		wdone(&w);
		assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), 0);
		assert_int_equal(pdu.non_repeaters, 1);
		assert_int_equal(pdu.max_repetitions, 10);
		assert_int_equal(pdu.nitems, 2);
		off = 0;
		assert_int_equal(ax_range_next(&pdu, &off, &r), 1);
		assert_int_equal(ax_oid_cmp(r.start.sub, r.start.n, a, an), 0);
	}
}

static void
test_dec_response_close_set(void **state)
{
	struct w	 w;
	struct ax_pdu	 pdu;
	uint32_t	 a[AX_OID_MAX];
	size_t		 an = obj(a, 3, 2, 1);
	const char	*why;

	whdr(&w, 0, AX_RESPONSE, 0, 9, 0, 77);
	w32(&w, 12345);			/* sysUpTime */
	w16(&w, AX_E_DUPLICATE);
	w16(&w, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), 0);
	assert_int_equal(pdu.h.packetid, 77);
	assert_int_equal(pdu.sysuptime, 12345);
	assert_int_equal(pdu.error, AX_E_DUPLICATE);

	whdr(&w, 1, AX_CLOSE, 0, 9, 0, 78);
	w8(&w, AX_R_SHUTDOWN);
	w8(&w, 0);
	w8(&w, 0);
	w8(&w, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), 0);
	assert_int_equal(pdu.reason, AX_R_SHUTDOWN);

	/* TestSet: every value type a master may carry */
	whdr(&w, 1, AX_TESTSET, 0, 9, 1, 79);
	w16(&w, AX_V_INTEGER);
	w16(&w, 0);
	woid(&w, a, an, 0, 1);
	w32(&w, 5);
	w16(&w, AX_V_OCTETS);
	w16(&w, 0);
	woid(&w, a, an, 0, 0);
	woctets(&w, "abcde", 5);
	w16(&w, AX_V_COUNTER64);
	w16(&w, 0);
	woid(&w, a, an, 0, 0);
	w32(&w, 1);
	w32(&w, 2);
	w16(&w, AX_V_OID);
	w16(&w, 0);
	woid(&w, a, an, 0, 0);
	woid(&w, a, an, 0, 1);
	w16(&w, AX_V_NULL);
	w16(&w, 0);
	woid(&w, a, an, 0, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), 0);
	assert_int_equal(pdu.nitems, 5);
}

/* Each broken PDU is refused with a reason, never read past its end. */
static void
test_dec_hostile(void **state)
{
	struct w	 w;
	struct ax_pdu	 pdu;
	uint32_t	 a[AX_OID_MAX];
	size_t		 an = obj(a, 3, 2, 1), i;
	const char	*why;
	uint8_t		*copy;

	/* header-level: unusable framing */
	whdr(&w, 1, AX_GET, 0, 0, 0, 0);
	wdone(&w);
	assert_int_equal(ax_frame_len(w.b, 19), 0);
	w.b[0] = 2;
	assert_int_equal(ax_frame_len(w.b, w.n), -1);
	why = NULL;
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "not AgentX version 1");
	w.b[0] = 1;
	w.b[19] = 3;			/* payload not a multiple of 4 */
	assert_int_equal(ax_frame_len(w.b, w.n), -1);
	w.b[19] = 0;
	w.b[17] = 0x10;			/* 1 MiB: over AX_PDU_MAX */
	assert_int_equal(ax_frame_len(w.b, w.n), -1);
	w.b[17] = 0;
	assert_int_equal(ax_decode(w.b, 10, &pdu, &why), -1);
	assert_string_equal(why, "truncated header");

	/* length in the header differs from the bytes given */
	whdr(&w, 1, AX_GET, 0, 0, 0, 0);
	woid(&w, a, an, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n - 4, &pdu, &why), -1);
	assert_string_equal(why, "payload length does not match the PDU");

	/* an OID of 129 sub-ids, plain and through the prefix */
	whdr(&w, 1, AX_GET, 0, 0, 0, 0);
	w8(&w, 129);
	w8(&w, 0);
	w8(&w, 0);
	w8(&w, 0);
	for (i = 0; i < 129; i++)
		w32(&w, 1);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "OID longer than 128 sub-identifiers");
	whdr(&w, 1, AX_GET, 0, 0, 0, 0);
	w8(&w, 124);
	w8(&w, 4);
	w8(&w, 0);
	w8(&w, 0);
	for (i = 0; i < 124; i++)
		w32(&w, 1);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "OID longer than 128 sub-identifiers");

	/* an OID claiming more sub-ids than the payload holds */
	whdr(&w, 1, AX_GETNEXT, 0, 0, 0, 0);
	w8(&w, 10);
	w8(&w, 0);
	w8(&w, 0);
	w8(&w, 0);
	w32(&w, 1);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "truncated OID");

	/* a range without its end OID */
	whdr(&w, 1, AX_GETNEXT, 0, 0, 0, 0);
	woid(&w, a, an, 0, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "truncated OID header");

	/* GetBulk without its counts */
	whdr(&w, 1, AX_GETBULK, 0, 0, 0, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "truncated GetBulk");

	/* a context longer than the payload; one of 4 GiB */
	whdr(&w, 1, AX_GET, AX_F_NON_DEFAULT_CONTEXT, 0, 0, 0);
	w32(&w, 8);
	w32(&w, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "truncated octet string");
	whdr(&w, 1, AX_GET, AX_F_NON_DEFAULT_CONTEXT, 0, 0, 0);
	w32(&w, 0xfffffffd);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "truncated octet string");

	/* TestSet: an unknown value type, a value cut short */
	whdr(&w, 1, AX_TESTSET, 0, 0, 0, 0);
	w16(&w, 99);
	w16(&w, 0);
	woid(&w, a, an, 0, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "unknown varbind type");
	whdr(&w, 1, AX_TESTSET, 0, 0, 0, 0);
	w16(&w, AX_V_COUNTER64);
	w16(&w, 0);
	woid(&w, a, an, 0, 0);
	w32(&w, 1);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "truncated varbind value");

	/* Close with trailing bytes, Response cut short */
	whdr(&w, 1, AX_CLOSE, 0, 0, 0, 0);
	w32(&w, 0x01000000);
	w32(&w, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "trailing bytes after the PDU's fields");
	whdr(&w, 1, AX_RESPONSE, 0, 0, 0, 0);
	w32(&w, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &pdu, &why), -1);
	assert_string_equal(why, "truncated Response");

	/* every prefix of a good PDU, in a buffer of exactly that size */
	whdr(&w, 0, AX_GETBULK, AX_F_NON_DEFAULT_CONTEXT, 1, 2, 3);
	woctets(&w, "c", 1);
	w16(&w, 0);
	w16(&w, 3);
	woid(&w, a, an, 1, 1);
	woid(&w, a, an, 0, 0);
	wdone(&w);
	for (i = 0; i < w.n; i++) {
		copy = malloc(i ? i : 1);
		memcpy(copy, w.b, i);
		assert_int_equal(ax_decode(copy, i, &pdu, &why), -1);
		free(copy);
	}
}

/* Random corruption of a valid PDU: classified or accepted, no overread
 * (run under ASan or valgrind). */
static void
test_dec_fuzz(void **state)
{
	struct w	 w, m;
	struct ax_pdu	 pdu;
	struct ax_range	 r;
	uint32_t	 a[AX_OID_MAX];
	size_t		 an = obj(a, 2, 3, 4), off, k, j;
	const char	*why;
	uint8_t		*copy;
	ssize_t		 fl;

	whdr(&w, 1, AX_GETNEXT, AX_F_NON_DEFAULT_CONTEXT, 1, 2, 3);
	woctets(&w, "context", 7);
	woid(&w, a, an, 1, 1);
	woid(&w, a, an, 0, 0);
	woid(&w, a, an - 2, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	srandom(7457);
	for (k = 0; k < 20000; k++) {
		m = w;
		for (j = 0; j < 1 + (size_t)random() % 4; j++)
			m.b[(size_t)random() % m.n] = (uint8_t)random();
		if ((fl = ax_frame_len(m.b, m.n)) <= 0 || (size_t)fl > m.n)
			continue;
		copy = malloc((size_t)fl);
		memcpy(copy, m.b, (size_t)fl);
		if (ax_decode(copy, (size_t)fl, &pdu, &why) == 0) {
			off = 0;
			while (ax_range_next(&pdu, &off, &r))
				assert_true(r.start.n <= AX_OID_MAX);
		}
		free(copy);
	}
}

/* ---- the table view ------------------------------------------------------ */

/* Walk the whole view with GetNext from start; every step in order, and
 * each object is also found by Get. */
static size_t
walk(const struct ax_view *v, const uint32_t *start, size_t n,
    const uint32_t *end, size_t en, struct ax_pos *seen, size_t max)
{
	uint32_t	 cur[AX_OID_MAX], prev[AX_OID_MAX];
	size_t		 cn = n, pn = 0, k = 0;
	struct ax_pos	 p, g;

	memcpy(cur, start, n * sizeof(*cur));
	while (ax_view_next(v, cur, cn, 0, end, en, &p)) {
		assert_true(k < max);
		seen[k++] = p;
		cn = ax_view_oid(v, &p, cur);
		if (pn)
			assert_true(ax_oid_cmp(prev, pn, cur, cn) < 0);
		memcpy(prev, cur, cn * sizeof(*cur));
		pn = cn;
		assert_int_equal(ax_view_get(v, cur, cn, &g), 0);
		assert_int_equal(g.table, p.table);
		assert_int_equal(g.col, p.col);
		assert_int_equal(g.row, p.row);
	}
	return (k);
}

static void
test_view_walk(void **state)
{
	struct ax_view	 v = { base, BASE_N, { 2, 3 } };
	struct ax_pos	 seen[64];
	uint32_t	 end[AX_OID_MAX];
	size_t		 k, en;

	/* from the base, as snmpwalk B does */
	k = walk(&v, base, BASE_N, NULL, 0, seen, 64);
	assert_int_equal(k, 7 * 2 + 7 * 3);
	/* column-major: all rows of column 2, then column 3 ... */
	assert_int_equal(seen[0].table, AX_T_ALERTS);
	assert_int_equal(seen[0].col, 2);
	assert_int_equal(seen[0].row, 1);
	assert_int_equal(seen[1].row, 2);
	assert_int_equal(seen[2].col, 3);
	assert_int_equal(seen[2].row, 1);
	assert_int_equal(seen[13].col, 8);
	assert_int_equal(seen[14].table, AX_T_PROBES);
	assert_int_equal(seen[14].col, 2);
	assert_int_equal(seen[34].col, 8);
	assert_int_equal(seen[34].row, 3);

	/* bounded by the end of the alert table's registration */
	en = obj(end, 3, 0, 0) - 1;
	assert_int_equal(walk(&v, base, BASE_N, end, en, seen, 64), 14);

	/* an empty alert table: straight to the probes, or nothing */
	v.nrows[AX_T_ALERTS] = 0;
	k = walk(&v, base, BASE_N, NULL, 0, seen, 64);
	assert_int_equal(k, 21);
	assert_int_equal(seen[0].table, AX_T_PROBES);
	assert_int_equal(walk(&v, base, BASE_N, end, en, seen, 64), 0);
	v.nrows[AX_T_PROBES] = 0;
	assert_int_equal(walk(&v, base, BASE_N, NULL, 0, seen, 64), 0);
}

static void
next_is(const struct ax_view *v, const uint32_t *x, size_t n, int include,
    int found, unsigned t, uint32_t col, uint32_t row)
{
	struct ax_pos	 p;

	assert_int_equal(ax_view_next(v, x, n, include, NULL, 0, &p), found);
	if (!found)
		return;
	assert_int_equal(p.table, t);
	assert_int_equal(p.col, col);
	assert_int_equal(p.row, row);
}

static void
test_view_next(void **state)
{
	struct ax_view	 v = { base, BASE_N, { 2, 3 } };
	uint32_t	 x[AX_OID_MAX];
	size_t		 n;

	/* a column without a row, row 0: its first row */
	next_is(&v, x, obj(x, 2, 4, 0), 0, 1, AX_T_ALERTS, 4, 1);
	next_is(&v, x, obj(x, 2, 4, 0), 1, 1, AX_T_ALERTS, 4, 1);
	n = obj(x, 2, 4, 0);
	x[n++] = 0;
	next_is(&v, x, n, 0, 1, AX_T_ALERTS, 4, 1);
	/* an exact object: itself with include, else the next row */
	next_is(&v, x, obj(x, 2, 4, 1), 1, 1, AX_T_ALERTS, 4, 1);
	next_is(&v, x, obj(x, 2, 4, 1), 0, 1, AX_T_ALERTS, 4, 2);
	/* below an object: the next row */
	n = obj(x, 2, 4, 1);
	x[n++] = 9;
	next_is(&v, x, n, 1, 1, AX_T_ALERTS, 4, 2);
	/* the last row (and rows past it, up to 2^32-1): next column */
	next_is(&v, x, obj(x, 2, 4, 2), 0, 1, AX_T_ALERTS, 5, 1);
	next_is(&v, x, obj(x, 2, 4, 3), 1, 1, AX_T_ALERTS, 5, 1);
	next_is(&v, x, obj(x, 2, 4, 0xffffffff), 1, 1, AX_T_ALERTS, 5, 1);
	/* the last column: the next table */
	next_is(&v, x, obj(x, 2, 8, 2), 0, 1, AX_T_PROBES, 2, 1);
	next_is(&v, x, obj(x, 2, 9, 0), 0, 1, AX_T_PROBES, 2, 1);
	next_is(&v, x, obj(x, 2, 0xffffffff, 0), 0, 1, AX_T_PROBES, 2, 1);
	/* the index column (not-accessible) is skipped */
	next_is(&v, x, obj(x, 3, 1, 2), 1, 1, AX_T_PROBES, 2, 1);
	/* before everything, after everything */
	next_is(&v, base, 4, 0, 1, AX_T_ALERTS, 2, 1);
	next_is(&v, x, obj(x, 1, 0, 0) - 1, 0, 1, AX_T_ALERTS, 2, 1);
	next_is(&v, x, obj(x, 3, 8, 3), 0, 0, 0, 0, 0);
	next_is(&v, x, obj(x, 4, 0, 0), 0, 0, 0, 0, 0);
	memcpy(x, base, sizeof(base));
	x[BASE_N - 1]++;
	next_is(&v, x, BASE_N, 0, 0, 0, 0, 0);
	/* the null OID (an empty start) */
	next_is(&v, x, 0, 0, 1, AX_T_ALERTS, 2, 1);
}

static void
test_view_get(void **state)
{
	struct ax_view	 v = { base, BASE_N, { 2, 3 } };
	struct ax_pos	 p;
	uint32_t	 x[AX_OID_MAX];
	size_t		 n;

	assert_int_equal(ax_view_get(&v, x, obj(x, 3, 8, 3), &p), 0);
	assert_int_equal(p.table, AX_T_PROBES);
	assert_int_equal(p.col, 8);
	assert_int_equal(p.row, 3);
	assert_int_equal(ax_view_get(&v, x, obj(x, 3, 2, 4), &p),
	    AX_V_NOSUCHINSTANCE);
	assert_int_equal(ax_view_get(&v, x, obj(x, 2, 2, 3), &p),
	    AX_V_NOSUCHINSTANCE);
	n = obj(x, 3, 2, 1);
	x[n++] = 1;
	assert_int_equal(ax_view_get(&v, x, n, &p), AX_V_NOSUCHINSTANCE);
	assert_int_equal(ax_view_get(&v, x, obj(x, 3, 2, 0), &p),
	    AX_V_NOSUCHINSTANCE);
	n = obj(x, 3, 2, 0);
	x[n++] = 0;
	assert_int_equal(ax_view_get(&v, x, n, &p), AX_V_NOSUCHINSTANCE);
	assert_int_equal(ax_view_get(&v, x, obj(x, 3, 1, 1), &p),
	    AX_V_NOSUCHOBJECT);
	assert_int_equal(ax_view_get(&v, x, obj(x, 3, 9, 1), &p),
	    AX_V_NOSUCHOBJECT);
	assert_int_equal(ax_view_get(&v, x, obj(x, 3, 0, 0), &p),
	    AX_V_NOSUCHOBJECT);
	assert_int_equal(ax_view_get(&v, x, obj(x, 4, 2, 1), &p),
	    AX_V_NOSUCHOBJECT);
	assert_int_equal(ax_view_get(&v, base, BASE_N, &p),
	    AX_V_NOSUCHOBJECT);
}

/* ---- answering: Get, GetNext, GetBulk ------------------------------------ */

static char	 big[1000];

/* Values a test can predict: INTEGER table*10000 + col*100 + row, or
 * (arg non-NULL) a 1000-byte string. */
static void
fake_value(void *arg, const struct ax_pos *p, struct ax_value *v)
{
	if (arg != NULL) {
		v->type = AX_V_OCTETS;
		v->s = big;
		v->slen = sizeof(big);
		return;
	}
	v->type = AX_V_INTEGER;
	v->i = (int32_t)(p->table * 10000 + p->col * 100 + p->row);
}

struct vb {
	uint16_t	 type;
	uint32_t	 name[AX_OID_MAX];
	size_t		 n;
	int32_t		 i;
};

/* Answer the PDU in w; the Response's error and varbinds (INTEGER or
 * exceptions only, as fake_value gives without arg). */
static size_t
answer(struct w *w, const struct ax_view *v, void *arg, uint16_t *error,
    struct vb *out, size_t max)
{
	struct evbuffer	*b = evbuffer_new();
	struct ax_pdu	 req, res;
	const uint8_t	*p;
	const char	*why;
	size_t		 len, off, k, i;

	assert_int_equal(ax_decode(w->b, w->n, &req, &why), 0);
	ax_answer(&req, v, fake_value, arg, b);
	p = bytes(b, &len);
	assert_int_equal(ax_decode(p, len, &res, &why), 0);
	assert_int_equal(res.h.type, AX_RESPONSE);
	assert_int_equal(res.h.packetid, req.h.packetid);
	*error = res.error;
	assert_true(res.nitems <= max);
	for (k = 0, off = res.list_off; k < res.nitems; k++) {
		out[k].type = (uint16_t)(p[off] << 8 | p[off + 1]);
		out[k].n = p[off + 4];
		assert_int_equal(p[off + 5], 0);	/* no prefix */
		off += 8;
		for (i = 0; i < out[k].n; i++, off += 4)
			out[k].name[i] = be32(p + off);
		if (out[k].type == AX_V_INTEGER) {
			out[k].i = (int32_t)be32(p + off);
			off += 4;
		}
	}
	evbuffer_free(b);
	return (res.nitems);
}

static void
vb_is(const struct vb *vb, uint16_t type, const uint32_t *name, size_t n,
    int32_t i)
{
	assert_int_equal(vb->type, type);
	assert_int_equal(ax_oid_cmp(vb->name, vb->n, name, n), 0);
	if (type == AX_V_INTEGER)
		assert_int_equal(vb->i, i);
}

static void
test_answer_get_getnext(void **state)
{
	struct ax_view	 v = { base, BASE_N, { 2, 3 } };
	struct w	 w;
	struct vb	 vb[8];
	uint32_t	 a[AX_OID_MAX], b[AX_OID_MAX], c[AX_OID_MAX],
			 e[AX_OID_MAX];
	size_t		 an, bn, cn, en;
	uint16_t	 error;

	an = obj(a, 3, 2, 1);
	bn = obj(b, 3, 2, 9);
	cn = obj(c, 3, 1, 1);
	whdr(&w, 0, AX_GET, 0, 1, 2, 3);
	woid(&w, a, an, 0, 1);
	woid(&w, NULL, 0, 0, 0);
	woid(&w, b, bn, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	woid(&w, c, cn, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	assert_int_equal(answer(&w, &v, NULL, &error, vb, 8), 3);
	assert_int_equal(error, AX_E_NOERROR);
	vb_is(&vb[0], AX_V_INTEGER, a, an, 10201);
	vb_is(&vb[1], AX_V_NOSUCHINSTANCE, b, bn, 0);
	vb_is(&vb[2], AX_V_NOSUCHOBJECT, c, cn, 0);

	/* GetNext: from the base; the last alert cell bounded by B.1.3
	 * (the end of the alert table's registration); the last cell */
	an = obj(a, 2, 8, 2);
	en = obj(e, 3, 0, 0) - 1;
	cn = obj(c, 3, 8, 3);
	whdr(&w, 1, AX_GETNEXT, 0, 1, 2, 4);
	woid(&w, base, BASE_N, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	woid(&w, a, an, 0, 0);
	woid(&w, e, en, 0, 0);
	woid(&w, a, an, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	woid(&w, c, cn, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	assert_int_equal(answer(&w, &v, NULL, &error, vb, 8), 4);
	bn = obj(b, 2, 2, 1);
	vb_is(&vb[0], AX_V_INTEGER, b, bn, 201);
	vb_is(&vb[1], AX_V_ENDOFMIBVIEW, a, an, 0);
	bn = obj(b, 3, 2, 1);
	vb_is(&vb[2], AX_V_INTEGER, b, bn, 10201);
	vb_is(&vb[3], AX_V_ENDOFMIBVIEW, c, cn, 0);
}

static void
test_answer_getbulk(void **state)
{
	struct ax_view	 v = { base, BASE_N, { 2, 3 } };
	struct w	 w;
	struct vb	 vb[16];
	uint32_t	 a[AX_OID_MAX], b[AX_OID_MAX], x[AX_OID_MAX];
	size_t		 an = obj(a, 2, 8, 1), bn = obj(b, 3, 8, 2);
	size_t		 xn, n;
	uint16_t	 error;

	/* one non-repeater, two repeaters, three repetitions */
	whdr(&w, 1, AX_GETBULK, 0, 1, 2, 3);
	w16(&w, 1);
	w16(&w, 3);
	woid(&w, base, BASE_N, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	woid(&w, a, an, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	woid(&w, b, bn, 0, 1);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	assert_int_equal(answer(&w, &v, NULL, &error, vb, 16), 1 + 2 * 3);
	assert_int_equal(error, AX_E_NOERROR);
	xn = obj(x, 2, 2, 1);
	vb_is(&vb[0], AX_V_INTEGER, x, xn, 201);
	/* round 1 */
	xn = obj(x, 2, 8, 2);
	vb_is(&vb[1], AX_V_INTEGER, x, xn, 802);
	xn = obj(x, 3, 8, 3);
	vb_is(&vb[2], AX_V_INTEGER, x, xn, 10803);
	/* round 2: the first crosses into the probe table, the second
	 * is at the end, named by where it started (the last object) */
	xn = obj(x, 3, 2, 1);
	vb_is(&vb[3], AX_V_INTEGER, x, xn, 10201);
	xn = obj(x, 3, 8, 3);
	vb_is(&vb[4], AX_V_ENDOFMIBVIEW, x, xn, 0);
	/* round 3 */
	xn = obj(x, 3, 2, 2);
	vb_is(&vb[5], AX_V_INTEGER, x, xn, 10202);
	xn = obj(x, 3, 8, 3);
	vb_is(&vb[6], AX_V_ENDOFMIBVIEW, x, xn, 0);

	/* a lone repeater walks the view, stops one round past its end */
	v.nrows[AX_T_ALERTS] = 0;
	v.nrows[AX_T_PROBES] = 1;
	whdr(&w, 0, AX_GETBULK, 0, 1, 2, 3);
	w16(&w, 0);
	w16(&w, 100);
	woid(&w, base, BASE_N, 0, 1);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	assert_int_equal((n = answer(&w, &v, NULL, &error, vb, 16)), 8);
	xn = obj(x, 3, 8, 1);
	vb_is(&vb[6], AX_V_INTEGER, x, xn, 10801);
	vb_is(&vb[7], AX_V_ENDOFMIBVIEW, x, xn, 0);

	/* no repetitions asked, or more non-repeaters than ranges */
	whdr(&w, 1, AX_GETBULK, 0, 1, 2, 3);
	w16(&w, 5);
	w16(&w, 0);
	woid(&w, base, BASE_N, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	assert_int_equal(answer(&w, &v, NULL, &error, vb, 16), 1);
}

/* Responses stay bounded: GetNext answers tooBig past AX_RESPONSE_MAX,
 * GetBulk stops repeating. */
static void
test_answer_bounds(void **state)
{
	struct ax_view	 v = { base, BASE_N, { 100, 100 } };
	struct w	 w;
	struct vb	 vb[1];
	struct ax_pdu	 req, res;
	struct evbuffer	*b = evbuffer_new();
	const uint8_t	*p;
	const char	*why;
	size_t		 i, len;
	uint16_t	 error;

	whdr(&w, 1, AX_GETNEXT, 0, 1, 2, 3);
	for (i = 0; i < 600; i++) {
		woid(&w, base, BASE_N, 0, 0);
		woid(&w, NULL, 0, 0, 0);
	}
	wdone(&w);
	assert_int_equal(answer(&w, &v, big, &error, vb, 1), 0);
	assert_int_equal(error, AX_E_TOOBIG);

	whdr(&w, 1, AX_GETBULK, 0, 1, 2, 3);
	w16(&w, 0);
	w16(&w, 65535);
	woid(&w, base, BASE_N, 0, 0);
	woid(&w, NULL, 0, 0, 0);
	wdone(&w);
	assert_int_equal(ax_decode(w.b, w.n, &req, &why), 0);
	ax_answer(&req, &v, fake_value, big, b);
	p = bytes(b, &len);
	assert_int_equal(ax_decode(p, len, &res, &why), 0);
	assert_int_equal(res.error, AX_E_NOERROR);
	assert_true(len < AX_RESPONSE_MAX + 2048);
	assert_true(res.nitems > 400 && res.nitems < 1400);
	evbuffer_free(b);
}

/* ---- values ------------------------------------------------------------- */

static void
test_values(void **state)
{
	uint8_t		 dt[11];
	static const uint8_t want[11] = { 0x07, 0xe7, 11, 14, 22, 13, 20, 1,
				    '+', 0, 0 };

	/* npProbeLastResult, by name */
	assert_int_equal(ax_result_code(-1), 0);
	assert_int_equal(ax_result_code(PR_SUCCESS), 1);
	assert_int_equal(ax_result_code(PR_TIMEOUT), 2);
	assert_int_equal(ax_result_code(PR_REFUSED), 3);
	assert_int_equal(ax_result_code(PR_UNREACHABLE), 4);
	assert_int_equal(ax_result_code(PR_ERROR), 5);
	assert_int_equal(ax_result_code(PR_BAD_RESPONSE), 6);
	assert_int_equal(ax_result_code(PR_MAX + 3), 5);
	/* npAlertState */
	assert_int_equal(ax_alert_state(ALERT_PENDING), 2);
	assert_int_equal(ax_alert_state(ALERT_FIRING), 3);
	assert_int_equal(ax_alert_state(ALERT_INACTIVE), 4);
	/* 2023-11-14 22:13:20.123 UTC */
	ax_date_and_time(1700000000123LL, dt);
	assert_memory_equal(dt, want, sizeof(want));
	assert_int_equal(ax_date_and_time(-1, dt), 8);
	assert_int_equal(dt[0] | dt[1] | dt[7], 0);
	assert_int_equal(ax_date_and_time(0, dt), 8);
	/* UTF-8 cut on a character boundary */
	assert_int_equal(ax_utf8_prefix("金水区", 100), 9);
	assert_int_equal(ax_utf8_prefix("金水区", 9), 9);
	assert_int_equal(ax_utf8_prefix("金水区", 8), 6);
	assert_int_equal(ax_utf8_prefix("金水区", 6), 6);
	assert_int_equal(ax_utf8_prefix("金水区", 2), 0);
	assert_int_equal(ax_utf8_prefix("abc", 2), 2);
	assert_int_equal(ax_utf8_prefix("", 0), 0);
	/* per mille, rounded half up */
	assert_int_equal(ax_per_mille(0, 0), 0);
	assert_int_equal(ax_per_mille(2, 3), 667);
	assert_int_equal(ax_per_mille(1, 3), 333);
	assert_int_equal(ax_per_mille(1, 2000), 1);
	assert_int_equal(ax_per_mille(5, 5), 1000);
	assert_int_equal(ax_per_mille(9, 5), 1000);
}

static void
test_master(void **state)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	const char		*why;
	char			 longpath[200];

	assert_int_equal(agentx_parse_master("unix:/var/agentx/master", &ss,
	    &len, &why), 0);
	assert_int_equal(ss.ss_family, AF_UNIX);
	assert_string_equal(((struct sockaddr_un *)&ss)->sun_path,
	    "/var/agentx/master");
	assert_int_equal(agentx_parse_master("/tmp/x.sock", &ss, &len, &why),
	    0);
	assert_int_equal(ss.ss_family, AF_UNIX);
	assert_int_equal(agentx_parse_master("tcp:127.0.0.1:16220", &ss, &len,
	    &why), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 16220);
	assert_int_equal(agentx_parse_master("127.0.0.1", &ss, &len, &why), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 705);
	assert_int_equal(agentx_parse_master("tcp:[::1]:705", &ss, &len,
	    &why), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(agentx_parse_master("tcp6:[::1]", &ss, &len, &why),
	    0);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 705);

	assert_null(agentx_master_check("unix:/run/agentx"));
	assert_string_equal(agentx_master_check("tcp:localhost:705"),
	    "expected unix:PATH, /PATH or tcp:IP:PORT (an IP literal; names "
	    "are never resolved)");
	assert_string_equal(agentx_master_check("udp:127.0.0.1:705"),
	    "AgentX runs over TCP or a unix socket, not UDP");
	assert_string_equal(agentx_master_check("unix:agentx"),
	    "a unix socket path must be absolute");
	assert_non_null(agentx_master_check(""));
	assert_non_null(agentx_master_check("tcp:127.0.0.1:0"));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_string_equal(agentx_master_check(longpath),
	    "unix socket path too long");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enc_open),
		cmocka_unit_test(test_enc_register_close_ping),
		cmocka_unit_test(test_enc_response),
		cmocka_unit_test(test_dec_getnext),
		cmocka_unit_test(test_dec_getbulk_context),
		cmocka_unit_test(test_dec_response_close_set),
		cmocka_unit_test(test_dec_hostile),
		cmocka_unit_test(test_dec_fuzz),
		cmocka_unit_test(test_view_walk),
		cmocka_unit_test(test_view_next),
		cmocka_unit_test(test_view_get),
		cmocka_unit_test(test_answer_get_getnext),
		cmocka_unit_test(test_answer_getbulk),
		cmocka_unit_test(test_answer_bounds),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_master),
	};

	return (cmocka_run_group_tests_name("agentx", tests, NULL, NULL));
}
