/*
 * msg_h225: H.225.0 RAS and call-signalling messages for the h323 probe,
 * built and parsed without I/O.  ASN.1 uses the ALIGNED variant of PER
 * (ITU-T X.691); the rules used here are listed in shared/PROTOCOLS.md
 * section 0, and every layout below matches a vector there that tshark
 * decoded cleanly.  Decoders trust nothing: every read is bounded by the
 * given length, so a truncated or hostile message is an error, never an
 * overread.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "probes/msg_h225.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* protocolIdentifier 0.0.8.2250.0.4 (H.225.0 version 4), BER contents */
static const uint8_t	h225_oid[] = { 0x00, 0x08, 0x91, 0x4a, 0x00, 0x04 };

/* dialledDigits alphabet, sorted by code (X.691 30.5.4: index coding) */
static const char	digit_alphabet[] = "#*,0123456789";

/* ---- aligned PER writer -------------------------------------------- */

struct per_w {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 bit;		/* next bit to write */
	int		 err;		/* ran out of room */
};

static void
pw_init(struct per_w *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->bit = 0;
	w->err = 0;
}

static void
pw_bit(struct per_w *w, unsigned v)
{
	size_t	o = w->bit >> 3;

	if (w->err || o >= w->cap) {
		w->err = 1;
		return;
	}
	if ((w->bit & 7) == 0)
		w->buf[o] = 0;
	if (v)
		w->buf[o] |= (uint8_t)(0x80 >> (w->bit & 7));
	w->bit++;
}

/* n bits of v, most significant first (PER fills bits from bit 7). */
static void
pw_bits(struct per_w *w, uint32_t v, unsigned n)
{
	while (n-- > 0)
		pw_bit(w, (v >> n) & 1);
}

static void
pw_align(struct per_w *w)
{
	while (!w->err && (w->bit & 7) != 0)
		pw_bit(w, 0);
}

static void
pw_octets(struct per_w *w, const uint8_t *p, size_t n)
{
	size_t	i;

	pw_align(w);
	for (i = 0; i < n; i++)
		pw_bits(w, p[i], 8);
}

/* Pad to whole octets; the length, or 0 on overflow. */
static size_t
pw_end(struct per_w *w)
{
	pw_align(w);
	return (w->err ? 0 : w->bit >> 3);
}

/* RequestSeqNum ::= INTEGER(1..65535): seq - 1 in two aligned octets. */
static void
pw_seq(struct per_w *w, uint16_t seq)
{
	pw_align(w);
	pw_bits(w, (uint32_t)seq - 1, 16);
}

/* OBJECT IDENTIFIER: aligned length octet, then the BER contents. */
static void
pw_oid(struct per_w *w)
{
	pw_align(w);
	pw_bits(w, sizeof(h225_oid), 8);
	pw_octets(w, h225_oid, sizeof(h225_oid));
}

/* TransportAddress: ipAddress (index 0) or ip6Address (index 3). */
static void
pw_taddr(struct per_w *w, const struct h225_taddr *a)
{
	pw_bit(w, 0);			/* root alternative */
	pw_bits(w, a->v6 ? 3 : 0, 3);	/* 7 root alternatives */
	if (a->v6)
		pw_bit(w, 0);		/* ip6Address extension bit */
	pw_octets(w, a->ip, a->v6 ? 16 : 4);
	pw_bits(w, a->port, 16);
}

/* EndpointType with only terminal present; mc, undefinedNode FALSE. */
static void
pw_terminal(struct per_w *w)
{
	pw_bit(w, 0);			/* EndpointType extension bit */
	pw_bits(w, 0x01, 6);		/* nsd vendor gk gw mcu terminal */
	pw_bit(w, 0);			/* TerminalInfo extension bit */
	pw_bit(w, 0);			/* TerminalInfo nonStandardData */
	pw_bit(w, 0);			/* mc */
	pw_bit(w, 0);			/* undefinedNode */
}

/* Open type (X.691 10.2): aligned length octet, then the octets. */
static void
pw_open(struct per_w *w, const uint8_t *p, size_t n)
{
	pw_align(w);
	pw_bits(w, (uint32_t)n, 8);	/* our open types are < 128 octets */
	pw_octets(w, p, n);
}

/* ---- aliases ------------------------------------------------------- */

/*
 * The next code point of NUL-terminated UTF-8 at *i, or -1 when the
 * sequence is invalid, overlong, a surrogate, outside the BMP (a
 * BMPString cannot hold it) or a control character.
 */
static long
utf8_bmp(const char *s, size_t *i)
{
	const uint8_t	*p = (const uint8_t *)s + *i;
	long		 c;

	if (p[0] < 0x80) {
		c = p[0];
		*i += 1;
	} else if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
		c = (long)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
		if (c < 0x80)
			return (-1);
		*i += 2;
	} else if ((p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 &&
	    (p[2] & 0xc0) == 0x80) {
		c = (long)(p[0] & 0x0f) << 12 | (long)(p[1] & 0x3f) << 6 |
		    (p[2] & 0x3f);
		if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))
			return (-1);
		*i += 3;
	} else
		return (-1);
	if (c < 0x20 || (c >= 0x7f && c < 0xa0))
		return (-1);
	return (c);
}

static int
is_digits(const char *s)
{
	size_t	n = strlen(s);

	return (n > 0 && n <= H225_DIGITS_MAX &&
	    strspn(s, digit_alphabet) == n);
}

const char *
h225_alias_check(const char *s)
{
	size_t	i = 0, n = 0;

	if (s == NULL || *s == '\0')
		return ("an alias must not be empty");
	if (strspn(s, digit_alphabet) == strlen(s))
		return (is_digits(s) ? NULL :
		    "dialled digits take at most 128 characters");
	while (s[i] != '\0') {
		if (utf8_bmp(s, &i) == -1)
			return ("an h323-ID must be printable UTF-8 of the "
			    "Basic Multilingual Plane");
		if (++n > H225_ALIAS_MAX)
			return ("an h323-ID takes at most 256 characters");
	}
	return (NULL);
}

const char *
h225_number_check(const char *s)
{
	size_t	n;

	if (s == NULL || (n = strlen(s)) == 0 || n > H225_NUMBER_MAX ||
	    strspn(s, "0123456789*#") != n)
		return ("a called number is 1 to 32 of 0-9, '*' and '#'");
	return (NULL);
}

/*
 * AliasAddress (H.225.0 7.6): dialledDigits (index 0, 7-bit length - 1,
 * aligned 4-bit alphabet indexes) or h323-ID (index 1, aligned
 * length - 1 octet, UTF-16BE).  The caller checked the text.
 */
static void
pw_alias(struct per_w *w, const char *s)
{
	size_t	i, n;

	pw_bit(w, 0);			/* root alternative */
	if (is_digits(s)) {
		n = strlen(s);
		pw_bit(w, 0);		/* dialledDigits */
		pw_bits(w, (uint32_t)(n - 1), 7);
		pw_align(w);
		for (i = 0; i < n; i++)
			pw_bits(w, (uint32_t)(strchr(digit_alphabet, s[i]) -
			    digit_alphabet), 4);
		return;
	}
	pw_bit(w, 1);			/* h323-ID */
	for (i = 0, n = 0; s[i] != '\0'; n++)
		if (utf8_bmp(s, &i) == -1) {
			w->err = 1;
			return;
		}
	pw_align(w);
	pw_bits(w, (uint32_t)(n - 1), 8);
	for (i = 0; s[i] != '\0';)
		pw_bits(w, (uint32_t)utf8_bmp(s, &i), 16);
}

/* SEQUENCE OF AliasAddress with one element. */
static void
pw_alias_list(struct per_w *w, const char *s)
{
	pw_align(w);
	pw_bits(w, 1, 8);		/* count */
	pw_alias(w, s);
}

/* ---- RAS requests -------------------------------------------------- */

size_t
h225_grq_build(uint8_t *buf, size_t len, uint16_t seq,
    const struct h225_taddr *ras, const char *alias)
{
	struct per_w	w;

	if (seq == 0 || (alias != NULL && h225_alias_check(alias) != NULL))
		return (0);
	pw_init(&w, buf, len);
	pw_bit(&w, 0);			/* RasMessage root alternative */
	pw_bits(&w, H225_RAS_GRQ, 5);
	pw_bit(&w, 0);			/* GRQ: no extension additions */
	pw_bit(&w, 0);			/* nonStandardData */
	pw_bit(&w, 0);			/* gatekeeperIdentifier */
	pw_bit(&w, 0);			/* callServices */
	pw_bit(&w, alias != NULL);	/* endpointAlias */
	pw_seq(&w, seq);
	pw_oid(&w);
	pw_taddr(&w, ras);		/* rasAddress: where to answer */
	pw_terminal(&w);		/* endpointType */
	if (alias != NULL)
		pw_alias_list(&w, alias);
	return (pw_end(&w));
}

size_t
h225_lrq_build(uint8_t *buf, size_t len, uint16_t seq, const char *dest,
    const struct h225_taddr *reply)
{
	struct per_w	w;

	if (seq == 0 || h225_alias_check(dest) != NULL)
		return (0);
	pw_init(&w, buf, len);
	pw_bit(&w, 0);
	pw_bits(&w, H225_RAS_LRQ, 5);
	pw_bit(&w, 0);			/* LRQ: no extension additions */
	pw_bit(&w, 0);			/* endpointIdentifier */
	pw_bit(&w, 0);			/* nonStandardData */
	pw_seq(&w, seq);
	pw_alias_list(&w, dest);	/* destinationInfo */
	pw_taddr(&w, reply);		/* replyAddress */
	return (pw_end(&w));
}

/* ---- aligned PER reader -------------------------------------------- */

struct per_r {
	const uint8_t	*p;
	size_t		 len;
	size_t		 bit;
	const char	*err;		/* first failure, NULL while fine */
};

static void
pr_init(struct per_r *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->bit = 0;
	r->err = NULL;
}

/* Up to 32 bits; past the end it fails and returns 0. */
static uint32_t
pr_bits(struct per_r *r, unsigned n, const char *what)
{
	uint32_t	v = 0;

	if (r->err != NULL)
		return (0);
	if (n > r->len * 8 - r->bit) {
		r->err = what;
		return (0);
	}
	while (n-- > 0) {
		v = v << 1 | ((r->p[r->bit >> 3] >> (7 - (r->bit & 7))) & 1);
		r->bit++;
	}
	return (v);
}

/* Never past the end: the bit count stays <= len * 8 throughout. */
static void
pr_align(struct per_r *r)
{
	r->bit = (r->bit + 7) & ~(size_t)7;
}

/* Skip n aligned octets. */
static void
pr_skip(struct per_r *r, size_t n, const char *what)
{
	pr_align(r);
	if (r->err == NULL && n > r->len - (r->bit >> 3))
		r->err = what;
	else if (r->err == NULL)
		r->bit += n * 8;
}

/*
 * A general length determinant (X.691 11.9.3.6): aligned, one octet
 * below 128, two octets below 16384; fragments are not accepted.
 */
static size_t
pr_length(struct per_r *r, const char *what)
{
	uint32_t	v;

	pr_align(r);
	v = pr_bits(r, 8, what);
	if ((v & 0x80) == 0)
		return (v);
	if ((v & 0xc0) == 0x80)
		return ((v & 0x3f) << 8 | pr_bits(r, 8, what));
	if (r->err == NULL)
		r->err = what;
	return (0);
}

static uint16_t
pr_seq(struct per_r *r)
{
	pr_align(r);
	return ((uint16_t)(pr_bits(r, 16, "truncated requestSeqNum") + 1));
}

static void
pr_skip_oid(struct per_r *r)
{
	pr_skip(r, pr_length(r, "truncated protocolIdentifier"),
	    "truncated protocolIdentifier");
}

/* An extension alternative or addition: its 6-bit index, then skip it. */
static uint32_t
pr_ext_index(struct per_r *r, const char *what)
{
	if (pr_bits(r, 1, what) != 0) {
		/* index >= 64: no H.225.0 CHOICE has that many */
		if (r->err == NULL)
			r->err = "extension index over 63";
		return (0);
	}
	return (pr_bits(r, 6, what));
}

/*
 * The extension additions of a SEQUENCE whose extension bit was 1
 * (X.691 19.7): a bitmap, then each present addition as an open type,
 * skipped by its length.
 */
static void
pr_skip_additions(struct per_r *r, const char *what)
{
	size_t	n, i, present = 0;

	if (pr_bits(r, 1, what) != 0) {
		if (r->err == NULL)
			r->err = "extension bitmap over 64 bits";
		return;
	}
	n = pr_bits(r, 6, what) + 1;
	for (i = 0; i < n; i++)
		present += pr_bits(r, 1, what);
	for (i = 0; i < present && r->err == NULL; i++)
		pr_skip(r, pr_length(r, what), what);
}

/* NonStandardParameter (H.225.0 7.6): skipped, bounded. */
static void
pr_skip_nsp(struct per_r *r)
{
	const char	*what = "truncated nonStandardData";
	uint32_t	 ext;

	if (pr_bits(r, 1, what) != 0) {
		/* an extension alternative of NonStandardIdentifier */
		pr_ext_index(r, what);
		pr_skip(r, pr_length(r, what), what);
	} else if (pr_bits(r, 1, what) == 0) {
		pr_skip(r, pr_length(r, what), what);	/* object */
	} else {
		/* H221NonStandard */
		ext = pr_bits(r, 1, what);
		pr_skip(r, 4, what);	/* country, extension, manufacturer */
		if (ext)
			pr_skip_additions(r, what);
	}
	pr_skip(r, pr_length(r, what), what);		/* data */
}

/* GatekeeperIdentifier ::= BMPString (SIZE (1..128)), as printable text. */
static void
pr_gk_id(struct per_r *r, char *out, size_t outlen)
{
	const char	*what = "truncated gatekeeperIdentifier";
	size_t		 n, i, o = 0;
	uint32_t	 c;

	n = pr_bits(r, 7, what) + 1;
	pr_align(r);
	for (i = 0; i < n && r->err == NULL; i++) {
		c = pr_bits(r, 16, what);
		if (o + 1 < outlen)
			out[o++] = c >= 0x20 && c < 0x7f && c != '"' &&
			    c != '\\' ? (char)c : '?';
	}
	if (outlen > 0)
		out[o] = '\0';
}

static const char *const grj_reasons[] = {
	"resourceUnavailable", "terminalExcluded", "invalidRevision",
	"undefinedReason",
};
static const char *const grj_ext_reasons[] = {
	"securityDenial", "genericDataReason", "neededFeatureNotSupported",
	"securityError",
};
static const char *const lrj_reasons[] = {
	"notRegistered", "invalidPermission", "requestDenied",
	"undefinedReason",
};
static const char *const lrj_ext_reasons[] = {
	"securityDenial", "aliasesInconsistent", "routeCalltoSCN",
	"resourceUnavailable", "genericDataReason",
	"neededFeatureNotSupported", "hopCountExceeded", "incompleteAddress",
	"securityError", "securityDHmismatch", "noRouteToDestination",
	"unallocatedNumber",
};

/*
 * A reject reason CHOICE with 4 root alternatives: the root index in 2
 * bits, or an extension index (whose value, an open type, we need not
 * read: the name is enough).  "unknown" for an index we have no name
 * for.
 */
static const char *
pr_reason(struct per_r *r, const char *const *root, const char *const *ext,
    size_t next)
{
	const char	*what = "truncated rejectReason";
	uint32_t	 i;

	if (pr_bits(r, 1, what) == 0) {
		i = pr_bits(r, 2, what);
		return (r->err ? NULL : root[i]);
	}
	i = pr_ext_index(r, what);
	if (r->err != NULL)
		return (NULL);
	return (i < next ? ext[i] : "unknown");
}

int
h225_ras_parse(const uint8_t *p, size_t len, struct h225_ras *out,
    const char **why)
{
	static const char	*pre = "truncated preamble";
	struct per_r		 r, in;
	uint32_t		 idx, nsd, gkid, opt;
	size_t			 n;

	memset(out, 0, sizeof(*out));
	out->type = H225_RAS_OTHER;
	pr_init(&r, p, len);
	if (len == 0) {
		*why = "empty datagram";
		return (-1);
	}
	if (pr_bits(&r, 1, pre) != 0) {
		/* extension alternative: only requestInProgress (0) */
		if (pr_bits(&r, 1, pre) != 0 || pr_bits(&r, 6, pre) != 0)
			return (0);
		n = pr_length(&r, "truncated RIP");
		if (r.err == NULL && n > len - (r.bit >> 3))
			r.err = "truncated RIP";
		if (r.err != NULL) {
			*why = r.err;
			return (-1);
		}
		/* the open type's contents, decoded on their own */
		pr_init(&in, p + (r.bit >> 3), n);
		pr_bits(&in, 1, "truncated RIP");	/* extension bit */
		opt = pr_bits(&in, 4, "truncated RIP");
		out->type = H225_RAS_RIP;
		out->seq = pr_seq(&in);
		out->has_seq = in.err == NULL;
		/* delay follows the optional fields; without them it is
		 * at hand, with them the caller uses its own wait */
		if (opt == 0 && in.err == NULL)
			out->delay_ms = pr_bits(&in, 16, "truncated RIP") + 1;
		if (in.err != NULL) {
			out->delay_ms = 0;
			*why = in.err;
			return (-1);
		}
		return (0);
	}
	idx = pr_bits(&r, 5, pre);
	switch (idx) {
	case H225_RAS_GRQ:
		/* ext, nonStandardData, gatekeeperIdentifier, callServices,
		 * endpointAlias */
		pr_bits(&r, 5, pre);
		break;
	case H225_RAS_GCF:
	case H225_RAS_GRJ:
		pr_bits(&r, 1, pre);	/* extension bit */
		nsd = pr_bits(&r, 1, pre);
		gkid = pr_bits(&r, 1, pre);
		out->type = (int)idx;
		out->seq = pr_seq(&r);
		out->has_seq = r.err == NULL;
		pr_skip_oid(&r);
		if (nsd)
			pr_skip_nsp(&r);
		if (gkid)
			pr_gk_id(&r, out->gk_id, sizeof(out->gk_id));
		if (idx == H225_RAS_GRJ)
			out->reason = pr_reason(&r, grj_reasons,
			    grj_ext_reasons, NELEM(grj_ext_reasons));
		else if (r.err == NULL && r.bit >= len * 8)
			r.err = "GCF without rasAddress";
		if (r.err != NULL) {
			*why = r.err;
			return (-1);
		}
		return (0);
	case H225_RAS_LRQ:
		/* ext, endpointIdentifier, nonStandardData */
		pr_bits(&r, 3, pre);
		break;
	case H225_RAS_LCF:
		pr_bits(&r, 2, pre);	/* ext, nonStandardData */
		break;
	case H225_RAS_LRJ:
		pr_bits(&r, 2, pre);
		out->type = (int)idx;
		out->seq = pr_seq(&r);
		out->has_seq = r.err == NULL;
		out->reason = pr_reason(&r, lrj_reasons, lrj_ext_reasons,
		    NELEM(lrj_ext_reasons));
		if (r.err != NULL) {
			*why = r.err;
			return (-1);
		}
		return (0);
	case H225_RAS_XRS:
		pr_bits(&r, 1, pre);	/* ext */
		break;
	default:
		return (0);
	}
	out->type = (int)idx;
	out->seq = pr_seq(&r);
	out->has_seq = r.err == NULL;
	if (r.err != NULL) {
		*why = r.err;
		return (-1);
	}
	return (0);
}

const char *
h225_ras_name(int type)
{
	switch (type) {
	case H225_RAS_GRQ:
		return ("GRQ");
	case H225_RAS_GCF:
		return ("GCF");
	case H225_RAS_GRJ:
		return ("GRJ");
	case H225_RAS_LRQ:
		return ("LRQ");
	case H225_RAS_LCF:
		return ("LCF");
	case H225_RAS_LRJ:
		return ("LRJ");
	case H225_RAS_XRS:
		return ("XRS");
	case H225_RAS_RIP:
		return ("RIP");
	default:
		return ("RAS");
	}
}

/* ---- call signalling ----------------------------------------------- */

/* H323-UserInformation / H323-UU-PDU preamble and the body choice. */
static void
pw_uu_head(struct per_w *w, unsigned body)
{
	pw_bit(w, 0);			/* H323-UserInformation ext */
	pw_bit(w, 0);			/* user-data absent */
	pw_bit(w, 0);			/* H323-UU-PDU ext: no h245Tunnelling */
	pw_bit(w, 0);			/* H323-UU-PDU nonStandardData */
	pw_bit(w, 0);			/* h323-message-body: root */
	pw_bits(w, body, 3);
}

/*
 * The extension additions the probe sends: one bitmap of nbits with
 * only the last bit set, then that addition, a CallIdentifier, as an
 * open type (X.691 19.7-19.9).
 */
static void
pw_call_id_addition(struct per_w *w, unsigned nbits,
    const uint8_t id[H225_GUID_LEN])
{
	uint8_t		inner[1 + H225_GUID_LEN];

	pw_bit(w, 0);			/* bitmap length: normally small */
	pw_bits(w, nbits - 1, 6);
	pw_bits(w, 1, nbits);		/* ..., callIdentifier present */
	inner[0] = 0;			/* CallIdentifier ext bit + padding */
	memcpy(inner + 1, id, H225_GUID_LEN);
	pw_open(w, inner, sizeof(inner));
}

/* Setup-UUIE in H323-UserInformation (H.225.0 7.4.1; PROTOCOLS 2.4). */
static size_t
uuie_setup(uint8_t *buf, size_t len, const struct h225_setup *s)
{
	struct per_w	w;

	pw_init(&w, buf, len);
	pw_uu_head(&w, 0);		/* setup */
	pw_bit(&w, 1);			/* Setup-UUIE: additions follow */
	pw_bit(&w, 0);			/* h245Address */
	pw_bit(&w, s->alias != NULL);	/* sourceAddress */
	pw_bit(&w, s->called != NULL);	/* destinationAddress */
	pw_bits(&w, 0, 4);		/* destCallSignalAddress,
					   destExtraCallInfo, destExtraCRV,
					   callServices */
	pw_oid(&w);
	if (s->alias != NULL)
		pw_alias_list(&w, s->alias);
	pw_terminal(&w);		/* sourceInfo */
	if (s->called != NULL)
		pw_alias_list(&w, s->called);
	pw_bit(&w, 0);			/* activeMC */
	pw_octets(&w, s->conf_id, H225_GUID_LEN);
	pw_bit(&w, 0);			/* conferenceGoal: root */
	pw_bits(&w, 0, 2);		/* create */
	pw_bit(&w, 0);			/* callType: root */
	pw_bits(&w, 0, 2);		/* pointToPoint */
	/* sourceCallSignalAddress, remoteExtensionAddress, callIdentifier */
	pw_call_id_addition(&w, 3, s->call_id);
	return (pw_end(&w));
}

/* ReleaseComplete-UUIE without a reason (H.225.0 7.4.4; PROTOCOLS 2.6). */
static size_t
uuie_release(uint8_t *buf, size_t len, const uint8_t call_id[H225_GUID_LEN])
{
	struct per_w	w;

	pw_init(&w, buf, len);
	pw_uu_head(&w, 5);		/* releaseComplete */
	pw_bit(&w, 1);			/* additions follow */
	pw_bit(&w, 0);			/* reason */
	pw_oid(&w);
	pw_call_id_addition(&w, 1, call_id);
	return (pw_end(&w));
}

/*
 * TPKT + Q.931 header + the given IEs + User-user around a UUIE.  The
 * User-user length has 2 octets in H.225.0 (7.2.2.31) and counts the
 * protocol discriminator (5, X.208/X.209 coded user information).
 */
static size_t
q931_wrap(uint8_t *buf, size_t len, uint16_t crv, int from_dest,
    uint8_t type, const uint8_t *ies, size_t nies, const uint8_t *uuie,
    size_t nuuie)
{
	size_t	total = H225_TPKT_HDR + 5 + nies + 4 + nuuie, o;

	if (nuuie == 0 || total > len || total > H225_TPKT_MAX)
		return (0);
	buf[0] = 3;				/* TPKT version */
	buf[1] = 0;
	buf[2] = (uint8_t)(total >> 8);
	buf[3] = (uint8_t)total;
	buf[4] = 0x08;				/* Q.931 discriminator */
	buf[5] = 2;				/* call reference length */
	buf[6] = (uint8_t)((from_dest ? 0x80 : 0) | ((crv >> 8) & 0x7f));
	buf[7] = (uint8_t)crv;
	buf[8] = type;
	o = 9;
	memcpy(buf + o, ies, nies);
	o += nies;
	buf[o++] = 0x7e;			/* User-user */
	buf[o++] = (uint8_t)((nuuie + 1) >> 8);
	buf[o++] = (uint8_t)(nuuie + 1);
	buf[o++] = 0x05;
	memcpy(buf + o, uuie, nuuie);
	return (total);
}

size_t
h225_setup_build(uint8_t *buf, size_t len, const struct h225_setup *s)
{
	/* Bearer capability: ITU-T speech, 64 kbit/s circuit mode,
	 * layer 1 H.221/H.242, as H.323 stacks send it (Q.931 4.5.5) */
	static const uint8_t	bearer[] = { 0x04, 0x03, 0x80, 0x90, 0xa5 };
	uint8_t			ies[sizeof(bearer) + 3 + H225_NUMBER_MAX];
	uint8_t			uuie[1024];
	size_t			nies = sizeof(bearer), n, nuuie;

	if (s->crv == 0 || s->crv > 0x7fff ||
	    (s->alias != NULL && h225_alias_check(s->alias) != NULL) ||
	    (s->called != NULL && h225_number_check(s->called) != NULL))
		return (0);
	memcpy(ies, bearer, sizeof(bearer));
	if (s->called != NULL) {
		/* Called party number (Q.931 4.5.8): unknown type, E.164
		 * plan (0x81), then the IA5 digits */
		n = strlen(s->called);
		ies[nies++] = 0x70;
		ies[nies++] = (uint8_t)(n + 1);
		ies[nies++] = 0x81;
		memcpy(ies + nies, s->called, n);
		nies += n;
	}
	if ((nuuie = uuie_setup(uuie, sizeof(uuie), s)) == 0)
		return (0);
	return (q931_wrap(buf, len, s->crv, 0, Q931_SETUP, ies, nies, uuie,
	    nuuie));
}

size_t
h225_release_build(uint8_t *buf, size_t len, uint16_t crv, unsigned cause,
    const uint8_t call_id[H225_GUID_LEN])
{
	uint8_t	ies[4], uuie[64];
	size_t	nuuie;

	if (crv == 0 || crv > 0x7fff || cause > 127)
		return (0);
	/* Cause (Q.931 4.5.12, Q.850 2.2.5): ITU-T coding, location user */
	ies[0] = 0x08;
	ies[1] = 2;
	ies[2] = 0x80;
	ies[3] = (uint8_t)(0x80 | cause);
	if ((nuuie = uuie_release(uuie, sizeof(uuie), call_id)) == 0)
		return (0);
	return (q931_wrap(buf, len, crv, 0, Q931_RELEASE_COMPLETE, ies,
	    sizeof(ies), uuie, nuuie));
}

int
h225_tpkt_check(const uint8_t hdr[H225_TPKT_HDR], size_t *payload,
    const char **why)
{
	size_t	n = (size_t)hdr[2] << 8 | hdr[3];

	if (hdr[0] != 3) {
		*why = "not TPKT (version is not 3)";
		return (-1);
	}
	if (n < H225_TPKT_HDR + 5) {
		*why = "TPKT length too short for Q.931";
		return (-1);
	}
	if (n > H225_TPKT_MAX) {
		*why = "TPKT length over 8 KiB";
		return (-1);
	}
	*payload = n - H225_TPKT_HDR;
	return (0);
}

static const char *const rc_reasons[] = {
	"noBandwidth", "gatekeeperResources", "unreachableDestination",
	"destinationRejection", "invalidRevision", "noPermission",
	"unreachableGatekeeper", "gatewayResources", "badFormatAddress",
	"adaptiveBusy", "inConf", "undefinedReason",
};
static const char *const rc_ext_reasons[] = {
	"facilityCallDeflection", "securityDenied",
	"calledPartyNotRegistered", "callerNotRegistered",
	"newConnectionNeeded", "nonStandardReason",
	"replaceWithConferenceInvite", "genericDataReason",
	"neededFeatureNotSupported", "tunnelledSignallingRejected",
	"invalidCID", "securityError", "hopCountExceeded",
};

/*
 * The UUIE after the discriminator: body choice, and for a
 * releaseComplete body its reason (PROTOCOLS 2.7 step 5).
 */
static int
uuie_parse(const uint8_t *p, size_t len, struct h225_q931 *q,
    const char **why)
{
	static const char	*what = "truncated ReleaseComplete-UUIE";
	struct per_r		 r;
	uint32_t		 i, has_reason;

	/* the caller saw at least one octet: the body choice is in it */
	pr_init(&r, p, len);
	/* UserInformation ext, user-data, UU-PDU ext, UU-PDU nsd: the two
	 * optional fields sit after the body, so the body comes next */
	pr_bits(&r, 4, what);
	if (pr_bits(&r, 1, what) != 0) {
		q->uu_body = -1;	/* progress, status, notify, ... */
		return (0);
	}
	q->uu_body = (int)pr_bits(&r, 3, what);
	if (q->uu_body != 5)
		return (0);
	pr_bits(&r, 1, what);		/* extension bit */
	has_reason = pr_bits(&r, 1, what);
	pr_skip_oid(&r);
	if (has_reason && r.err == NULL) {
		if (pr_bits(&r, 1, "truncated release reason") == 0) {
			i = pr_bits(&r, 4, "truncated release reason");
			q->rc_reason = i < NELEM(rc_reasons) ?
			    rc_reasons[i] : "unknown";
		} else {
			i = pr_ext_index(&r, "truncated release reason");
			q->rc_reason = i < NELEM(rc_ext_reasons) ?
			    rc_ext_reasons[i] : "unknown";
		}
	}
	if (r.err != NULL) {
		q->rc_reason = NULL;
		*why = r.err;
		return (-1);
	}
	return (0);
}

int
h225_q931_parse(const uint8_t *p, size_t len, struct h225_q931 *q,
    const char **why)
{
	size_t		i, l;
	const uint8_t	*b;

	memset(q, 0, sizeof(*q));
	q->uu_body = -1;
	if (len < 5) {
		*why = "Q.931 message shorter than its header";
		return (-1);
	}
	if (p[0] != 0x08) {
		*why = "not Q.931 (protocol discriminator is not 8)";
		return (-1);
	}
	if (p[1] != 2) {
		*why = "Q.931 call reference is not 2 octets";
		return (-1);
	}
	q->from_dest = (p[2] & 0x80) != 0;
	q->crv = (uint16_t)((p[2] & 0x7f) << 8 | p[3]);
	q->type = p[4];
	for (i = 5; i < len;) {
		if (p[i] & 0x80) {		/* single-octet IE */
			i++;
			continue;
		}
		if (p[i] == 0x7e) {		/* User-user: 2-octet length */
			if (len - i < 3) {
				*why = "truncated User-user IE";
				return (-1);
			}
			l = (size_t)p[i + 1] << 8 | p[i + 2];
			b = p + i + 3;
			if (l < 1 || l > len - i - 3) {
				*why = "User-user IE runs past the message";
				return (-1);
			}
			if (!q->has_uuie && b[0] == 0x05) {
				if (l < 2) {
					*why = "empty H.323 user information";
					return (-1);
				}
				q->has_uuie = 1;
				if (uuie_parse(b + 1, l - 1, q, why) == -1)
					return (-1);
			}
			i += 3 + l;
			continue;
		}
		if (len - i < 2) {
			*why = "truncated information element";
			return (-1);
		}
		l = p[i + 1];
		b = p + i + 2;
		if (l > len - i - 2) {
			*why = "information element runs past the message";
			return (-1);
		}
		if (p[i] == 0x08 && !q->has_cause) {
			/* Cause (Q.931 4.5.12): octet 3a is there when
			 * the extension bit of octet 3 is 0 */
			if (l < 2 || (!(b[0] & 0x80) && l < 3)) {
				*why = "truncated Cause IE";
				return (-1);
			}
			q->has_cause = 1;
			q->location = b[0] & 0x0f;
			q->cause = b[(b[0] & 0x80) ? 1 : 2] & 0x7f;
		}
		i += 2 + l;
	}
	return (0);
}

int
h225_uu_body_for(uint8_t type)
{
	switch (type) {
	case Q931_SETUP:
		return (0);
	case Q931_CALL_PROCEEDING:
		return (1);
	case Q931_CONNECT:
		return (2);
	case Q931_ALERTING:
		return (3);
	case Q931_INFORMATION:
		return (4);
	case Q931_RELEASE_COMPLETE:
		return (5);
	case Q931_FACILITY:
		return (6);
	default:
		return (-1);
	}
}

const char *
h225_q931_name(uint8_t type)
{
	switch (type) {
	case Q931_ALERTING:
		return ("Alerting");
	case Q931_CALL_PROCEEDING:
		return ("CallProceeding");
	case Q931_PROGRESS:
		return ("Progress");
	case Q931_SETUP:
		return ("Setup");
	case Q931_CONNECT:
		return ("Connect");
	case Q931_SETUP_ACK:
		return ("SetupAcknowledge");
	case Q931_RELEASE_COMPLETE:
		return ("ReleaseComplete");
	case Q931_FACILITY:
		return ("Facility");
	case Q931_NOTIFY:
		return ("Notify");
	case Q931_STATUS_ENQUIRY:
		return ("StatusEnquiry");
	case Q931_INFORMATION:
		return ("Information");
	case Q931_STATUS:
		return ("Status");
	default:
		return ("Unknown");
	}
}

const char *
h225_cause_name(unsigned cause)
{
	/* Q.850 table 1, the values worth naming (names as h323plus) */
	static const struct {
		unsigned	 v;
		const char	*name;
	} names[] = {
		{ 1, "unallocated number" },
		{ 3, "no route to destination" },
		{ 16, "normal call clearing" },
		{ 17, "user busy" },
		{ 18, "no user responding" },
		{ 19, "no answer" },
		{ 21, "call rejected" },
		{ 27, "destination out of order" },
		{ 28, "invalid number format" },
		{ 31, "normal, unspecified" },
		{ 34, "no circuit available" },
		{ 38, "network out of order" },
		{ 41, "temporary failure" },
		{ 42, "congestion" },
		{ 47, "resource unavailable" },
		{ 58, "bearer capability not available" },
		{ 63, "service not available" },
		{ 65, "bearer capability not implemented" },
		{ 88, "incompatible destination" },
		{ 102, "timer expiry" },
		{ 111, "protocol error" },
		{ 127, "interworking" },
	};
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].v == cause)
			return (names[i].name);
	return ("unknown cause");
}
