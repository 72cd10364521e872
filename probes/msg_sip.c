/*
 * msg_sip: build the SIP OPTIONS request of the sip probe and parse the
 * response without trusting the peer (RFC 3261).  Every scan is bounded
 * by the end of its header value or of the buffer; nothing is copied
 * except into caller-sized buffers.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probes/msg_sip.h"

/* ---- character classes (RFC 3261 §25.1) ---------------------------- */

static int
is_alnum(int c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'));
}

static int
is_digit(int c)
{
	return (c >= '0' && c <= '9');
}

static int
is_hex(int c)
{
	return (is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
 * "'" / "~") */
static int
is_token(int c)
{
	return (is_alnum(c) || (c != '\0' && strchr("-.!%*_+`'~", c) !=
	    NULL));
}

/* word: token plus the separators a Call-ID may carry (§25.1) */
static int
is_word(int c)
{
	return (is_token(c) || (c != '\0' && strchr("()<>:\\\"/[]?{}", c) !=
	    NULL));
}

/* SP / HTAB, and CR LF inside a value (only a fold leaves them there) */
static int
is_lws(int c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/* ---- the request --------------------------------------------------- */

/* Printable ASCII without space: what URIs, tags and ids may use. */
static int
graph_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return (0);
	return (1);
}

static int
token_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!is_token((unsigned char)*s))
			return (0);
	return (1);
}

const char *
sip_uri_check(const char *s)
{
	size_t	i;

	if (strncasecmp(s, "sips:", 5) == 0)
		return ("sips: (SIP over TLS) is not supported");
	if (strncasecmp(s, "sip:", 4) != 0)
		return ("a SIP URI must start with \"sip:\"");
	if (s[4] == '\0')
		return ("the SIP URI has nothing after \"sip:\"");
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return ("a SIP URI is printable ASCII without spaces");
		else if (strchr("<>\"", s[i]) != NULL)
			return ("a SIP URI may not contain '<', '>' or '\"'");
	return (NULL);
}

const char *
sip_user_check(const char *s)
{
	size_t	i;

	if (*s == '\0')
		return ("empty user part");
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '%') {
			if (!is_hex((unsigned char)s[i + 1]) ||
			    !is_hex((unsigned char)s[i + 2]))
				return ("'%' must be followed by two hex "
				    "digits");
			i += 2;
			continue;
		}
		/* unreserved and user-unreserved (§25.1) */
		if (!is_alnum((unsigned char)s[i]) &&
		    strchr("-_.!~*'()&=+$,;?/", s[i]) == NULL)
			return ("a user part may hold letters, digits and "
			    "-_.!~*'()&=+$,;?/ only");
	}
	return (NULL);
}

const char *
sip_text_check(const char *s)
{
	if (*s == '\0')
		return ("empty text");
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return ("control characters are not allowed");
	return (NULL);
}

size_t
sip_options_build(char *buf, size_t len, const struct sip_request *q)
{
	int	n;

	if (q->request_uri == NULL || sip_uri_check(q->request_uri) ||
	    q->from_uri == NULL || sip_uri_check(q->from_uri) ||
	    q->to_uri == NULL || sip_uri_check(q->to_uri) ||
	    (q->contact_uri != NULL && sip_uri_check(q->contact_uri)) ||
	    (q->user_agent != NULL && sip_text_check(q->user_agent)) ||
	    !graph_ok(q->via_host) || q->via_port == 0 ||
	    q->via_port > 65535 || !token_ok(q->branch) ||
	    strncmp(q->branch, SIP_MAGIC_COOKIE,
	    sizeof(SIP_MAGIC_COOKIE) - 1) != 0 ||
	    strlen(q->branch) == sizeof(SIP_MAGIC_COOKIE) - 1 ||
	    !token_ok(q->from_tag) || !graph_ok(q->call_id) ||
	    q->cseq == 0 || q->cseq >= 0x80000000U)
		return (0);
	/*
	 * RFC 3261 §8.1.1: Via, Max-Forwards (70, §8.1.1.6), From with a
	 * tag, To without one, Call-ID, CSeq; §11.1: Accept; RFC 3581:
	 * rport asks for the answer to come back to our source port.
	 */
	n = snprintf(buf, len,
	    "OPTIONS %s SIP/2.0\r\n"
	    "Via: SIP/2.0/%s %s:%u;branch=%s;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <%s>;tag=%s\r\n"
	    "To: <%s>\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %u OPTIONS\r\n"
	    "%s%s%s"
	    "Accept: application/sdp\r\n"
	    "%s%s%s"
	    "Content-Length: 0\r\n"
	    "\r\n",
	    q->request_uri,
	    q->tcp ? "TCP" : "UDP", q->via_host, q->via_port, q->branch,
	    q->from_uri, q->from_tag,
	    q->to_uri,
	    q->call_id,
	    (unsigned)q->cseq,
	    q->contact_uri ? "Contact: <" : "",
	    q->contact_uri ? q->contact_uri : "",
	    q->contact_uri ? ">\r\n" : "",
	    q->user_agent ? "User-Agent: " : "",
	    q->user_agent ? q->user_agent : "",
	    q->user_agent ? "\r\n" : "");
	if (n < 0 || (size_t)n >= len)
		return (0);
	return ((size_t)n);
}

/* ---- the response -------------------------------------------------- */

static const char *const err_words[SIP_E_MAX] = {
	[SIP_OK] = "ok",
	[SIP_E_INCOMPLETE] = "truncated message",
	[SIP_E_TOO_BIG] = "message too large",
	[SIP_E_NOT_RESPONSE] = "a request, not a response",
	[SIP_E_STATUS_LINE] = "bad status line",
	[SIP_E_BAD_LINE] = "malformed header line",
	[SIP_E_DUPLICATE] = "repeated single-valued header",
	[SIP_E_MISSING] = "mandatory header missing",
	[SIP_E_VIA] = "bad Via header",
	[SIP_E_FROM] = "bad From or To header",
	[SIP_E_CALL_ID] = "bad Call-ID header",
	[SIP_E_CSEQ] = "bad CSeq header",
	[SIP_E_CONTENT_LENGTH] = "bad or missing Content-Length",
};

const char *
sip_strerror(enum sip_err e)
{
	return ((unsigned)e < SIP_E_MAX ? err_words[e] : "unknown error");
}

static const char *const mismatch_words[SIP_M_MAX] = {
	[SIP_M_OK] = "matches",
	[SIP_M_BRANCH] = "Via branch differs",
	[SIP_M_SENT_BY] = "Via sent-by differs",
	[SIP_M_CSEQ] = "CSeq differs",
	[SIP_M_CALL_ID] = "Call-ID differs",
	[SIP_M_FROM_TAG] = "From tag differs",
};

const char *
sip_mismatch_str(enum sip_mismatch m)
{
	return ((unsigned)m < SIP_M_MAX ? mismatch_words[m] : "mismatch");
}

/* A cursor over one header value: [p, end). */
struct cur {
	const char	*p;
	const char	*end;
};

static void
skip_lws(struct cur *c)
{
	while (c->p < c->end && is_lws((unsigned char)*c->p))
		c->p++;
}

/* Skip LWS, then take the character ch if it is next. */
static int
take(struct cur *c, char ch)
{
	skip_lws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return (1);
	}
	return (0);
}

static int
take_token(struct cur *c, struct sip_str *out)
{
	const char	*s = c->p;

	while (c->p < c->end && is_token((unsigned char)*c->p))
		c->p++;
	out->p = s;
	out->len = (size_t)(c->p - s);
	return (out->len > 0);
}

/* quoted-string (§25.1), opening quote at c->p; out excludes quotes. */
static int
take_quoted(struct cur *c, struct sip_str *out)
{
	const char	*s;

	if (c->p >= c->end || *c->p != '"')
		return (0);
	s = ++c->p;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\') {
			if (c->p + 1 >= c->end)
				return (0);
			c->p++;
		}
		c->p++;
	}
	if (c->p >= c->end)
		return (0);
	out->p = s;
	out->len = (size_t)(c->p - s);
	c->p++;
	return (1);
}

static int
str_ieq(const struct sip_str *s, const char *lit)
{
	size_t	n = strlen(lit);

	/* an empty piece may have no pointer at all */
	return (s->len == n && (n == 0 || strncasecmp(s->p, lit, n) == 0));
}

/*
 * generic-param = token [ EQUAL gen-value ] (§25.1); gen-value is a
 * token, a host (IPv6 too, so ':' '[' ']') or a quoted-string.  The
 * cursor sits after the ';'.
 */
static int
take_param(struct cur *c, struct sip_str *name, struct sip_str *value)
{
	const char	*s;

	skip_lws(c);
	if (!take_token(c, name))
		return (0);
	value->p = NULL;
	value->len = 0;
	if (!take(c, '='))
		return (1);
	skip_lws(c);
	if (c->p < c->end && *c->p == '"')
		return (take_quoted(c, value));
	s = c->p;
	while (c->p < c->end && (is_token((unsigned char)*c->p) ||
	    *c->p == ':' || *c->p == '[' || *c->p == ']'))
		c->p++;
	value->p = s;
	value->len = (size_t)(c->p - s);
	return (value->len > 0);
}

/* 1*DIGIT up to max, at most 10 digits; -1 if none or too large. */
static int
take_uint(struct cur *c, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	int		n = 0;

	while (c->p < c->end && is_digit((unsigned char)*c->p)) {
		if (++n > 10)
			return (-1);
		v = v * 10 + (uint64_t)(*c->p - '0');
		c->p++;
	}
	if (n == 0 || v > max)
		return (-1);
	*out = v;
	return (0);
}

/*
 * The first via-parm of a Via value (§20.42, §25.1):
 * SIP / 2.0 / transport LWS host[:port] *(; param), then ',' or the end.
 */
static enum sip_err
parse_via(struct cur *c, struct sip_response *r)
{
	struct sip_str	name, proto, ver, value;
	const char	*s;
	uint64_t	port;
	int		have_branch = 0;

	skip_lws(c);
	if (!take_token(c, &proto) || !str_ieq(&proto, "SIP") ||
	    !take(c, '/'))
		return (SIP_E_VIA);
	skip_lws(c);
	if (!take_token(c, &ver) || !str_ieq(&ver, "2.0") || !take(c, '/'))
		return (SIP_E_VIA);
	skip_lws(c);
	if (!take_token(c, &r->via_transport))
		return (SIP_E_VIA);
	/* LWS between sent-protocol and sent-by is mandatory */
	if (c->p >= c->end || !is_lws((unsigned char)*c->p))
		return (SIP_E_VIA);
	skip_lws(c);
	s = c->p;
	if (c->p < c->end && *c->p == '[') {
		while (c->p < c->end && *c->p != ']')
			c->p++;
		if (c->p >= c->end)
			return (SIP_E_VIA);
		c->p++;
	} else
		while (c->p < c->end && (is_alnum((unsigned char)*c->p) ||
		    *c->p == '.' || *c->p == '-'))
			c->p++;
	r->via_host.p = s;
	r->via_host.len = (size_t)(c->p - s);
	if (r->via_host.len == 0)
		return (SIP_E_VIA);
	if (take(c, ':')) {
		skip_lws(c);
		if (take_uint(c, 65535, &port) == -1 || port == 0)
			return (SIP_E_VIA);
		r->via_port = (int)port;
	}
	while (take(c, ';')) {
		if (!take_param(c, &name, &value))
			return (SIP_E_VIA);
		if (str_ieq(&name, "branch")) {
			if (have_branch || value.len == 0)
				return (SIP_E_VIA);
			r->via_branch = value;
			have_branch = 1;
		}
	}
	skip_lws(c);
	if (c->p < c->end && *c->p != ',')
		return (SIP_E_VIA);
	return (have_branch ? SIP_OK : SIP_E_VIA);
}

/*
 * From / To (§20.20, §20.39): ( name-addr / addr-spec ) *( ; param ).
 * An addr-spec without <> cannot hold ';', so a ';' after it starts the
 * header's parameters.
 */
static enum sip_err
parse_addr_hdr(struct cur *c, struct sip_str *tag)
{
	struct sip_str	 name, value, dn;
	const char	*q;
	int		 have_tag = 0;

	tag->p = NULL;
	tag->len = 0;
	skip_lws(c);
	if (c->p < c->end && *c->p == '"') {
		if (!take_quoted(c, &dn) || !take(c, '<'))
			return (SIP_E_FROM);
	} else {
		/* a display name of tokens before '<', or an addr-spec */
		for (q = c->p; q < c->end && (is_token((unsigned char)*q) ||
		    is_lws((unsigned char)*q)); q++)
			;
		if (q < c->end && *q == '<')
			c->p = q + 1;
		else {
			q = c->p;
			while (c->p < c->end && *c->p != ';' &&
			    !is_lws((unsigned char)*c->p) && *c->p != ',' &&
			    *c->p != '<' && *c->p != '>' && *c->p != '"')
				c->p++;
			if (c->p == q)
				return (SIP_E_FROM);
			goto params;
		}
	}
	/* inside <...>: the URI, which may hold ';' but not '>' */
	q = c->p;
	while (c->p < c->end && *c->p != '>' && *c->p != '<' &&
	    !is_lws((unsigned char)*c->p))
		c->p++;
	if (c->p == q || c->p >= c->end || *c->p != '>')
		return (SIP_E_FROM);
	c->p++;
params:
	while (take(c, ';')) {
		if (!take_param(c, &name, &value))
			return (SIP_E_FROM);
		if (str_ieq(&name, "tag")) {
			if (have_tag || value.len == 0)
				return (SIP_E_FROM);
			*tag = value;
			have_tag = 1;
		}
	}
	skip_lws(c);
	return (c->p == c->end ? SIP_OK : SIP_E_FROM);
}

/* Call-ID = word [ "@" word ] (§20.8) */
static enum sip_err
parse_call_id(struct cur *c, struct sip_str *out)
{
	const char	*s;
	int		 at = 0;

	skip_lws(c);
	s = c->p;
	for (; c->p < c->end && !is_lws((unsigned char)*c->p); c->p++) {
		if (*c->p == '@') {
			if (at++ || c->p == s)
				return (SIP_E_CALL_ID);
		} else if (!is_word((unsigned char)*c->p))
			return (SIP_E_CALL_ID);
	}
	out->p = s;
	out->len = (size_t)(c->p - s);
	if (out->len == 0 || s[out->len - 1] == '@')
		return (SIP_E_CALL_ID);
	skip_lws(c);
	return (c->p == c->end ? SIP_OK : SIP_E_CALL_ID);
}

/* CSeq = 1*DIGIT LWS Method (§20.16); the number is below 2^31. */
static enum sip_err
parse_cseq(struct cur *c, struct sip_response *r)
{
	uint64_t	n;

	skip_lws(c);
	if (take_uint(c, 0x7fffffffU, &n) == -1)
		return (SIP_E_CSEQ);
	r->cseq = (uint32_t)n;
	if (c->p >= c->end || !is_lws((unsigned char)*c->p))
		return (SIP_E_CSEQ);
	skip_lws(c);
	if (!take_token(c, &r->cseq_method))
		return (SIP_E_CSEQ);
	skip_lws(c);
	return (c->p == c->end ? SIP_OK : SIP_E_CSEQ);
}

static enum sip_err
parse_content_length(struct cur *c, struct sip_response *r)
{
	uint64_t	n;

	skip_lws(c);
	if (c->p >= c->end || !is_digit((unsigned char)*c->p))
		return (SIP_E_CONTENT_LENGTH);
	/* digits, but more than we would ever read */
	if (take_uint(c, SIP_MAX_MSG, &n) == -1)
		return (SIP_E_TOO_BIG);
	skip_lws(c);
	if (c->p != c->end)
		return (SIP_E_CONTENT_LENGTH);
	r->content_length = (size_t)n;
	r->has_content_length = 1;
	return (SIP_OK);
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2) */
static enum sip_err
parse_status_line(const char *s, size_t n, struct sip_response *r)
{
	static const char	ver[] = "SIP/2.0";
	size_t			vl = sizeof(ver) - 1;

	if (n < vl + 5 || strncasecmp(s, ver, vl) != 0) {
		/* Request-Line = Method SP Request-URI SP SIP-Version */
		if (n > vl + 1 && s[n - vl - 1] == ' ' &&
		    strncasecmp(s + n - vl, ver, vl) == 0)
			return (SIP_E_NOT_RESPONSE);
		return (SIP_E_STATUS_LINE);
	}
	if (s[vl] != ' ' || !is_digit((unsigned char)s[vl + 1]) ||
	    !is_digit((unsigned char)s[vl + 2]) ||
	    !is_digit((unsigned char)s[vl + 3]) || s[vl + 4] != ' ')
		return (SIP_E_STATUS_LINE);
	r->code = (unsigned)((s[vl + 1] - '0') * 100 + (s[vl + 2] - '0') * 10 +
	    (s[vl + 3] - '0'));
	if (r->code < 100 || r->code > 699)
		return (SIP_E_STATUS_LINE);
	r->reason.p = s + vl + 5;
	r->reason.len = n - vl - 5;
	return (SIP_OK);
}

/* Which header a name is, long or compact form (§7.3.3, §20). */
enum hdr {
	H_OTHER, H_VIA, H_CALL_ID, H_CSEQ, H_FROM, H_TO, H_CLEN, H_SERVER,
	H_UA
};

static enum hdr
header_kind(const struct sip_str *n)
{
	static const struct {
		const char	*name;
		const char	*compact;
		enum hdr	 h;
	} names[] = {
		{ "via", "v", H_VIA },
		{ "call-id", "i", H_CALL_ID },
		{ "cseq", NULL, H_CSEQ },
		{ "from", "f", H_FROM },
		{ "to", "t", H_TO },
		{ "content-length", "l", H_CLEN },
		{ "server", NULL, H_SERVER },
		{ "user-agent", NULL, H_UA },
	};
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (str_ieq(n, names[i].name) || (names[i].compact != NULL &&
		    str_ieq(n, names[i].compact)))
			return (names[i].h);
	return (H_OTHER);
}

static void
trim(struct cur *c)
{
	skip_lws(c);
	while (c->end > c->p && is_lws((unsigned char)c->end[-1]))
		c->end--;
}

/* Every CR is followed by LF, every LF follows a CR; no NUL or CTL. */
static int
lines_clean(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		unsigned char	ch = (unsigned char)s[i];

		if (ch == '\r') {
			if (i + 1 >= n || s[i + 1] != '\n')
				return (0);
			i++;
		} else if (ch == '\n' || ch == 0x7f ||
		    (ch < 0x20 && ch != '\t'))
			return (0);
	}
	return (1);
}

enum sip_err
sip_response_parse(const char *buf, size_t len, int stream,
    struct sip_response *r)
{
	const char	*hend, *p, *eol, *end, *lim;
	struct sip_str	 name;
	struct cur	 c;
	enum sip_err	 e;
	unsigned	 seen = 0;
	size_t		 i, n;
	enum hdr	 h;

	memset(r, 0, sizeof(*r));
	r->via_port = -1;

	/* the header block ends at the first CRLFCRLF, within the cap */
	n = len < SIP_MAX_HEADER ? len : SIP_MAX_HEADER;
	hend = NULL;
	for (i = 0; i + 4 <= n; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			hend = buf + i + 4;
			break;
		}
	if (hend == NULL)
		return (len >= SIP_MAX_HEADER ? SIP_E_TOO_BIG :
		    SIP_E_INCOMPLETE);
	r->header_len = (size_t)(hend - buf);
	lim = hend - 2;		/* the empty line's CRLF */
	if (!lines_clean(buf, r->header_len))
		return (SIP_E_BAD_LINE);

	if ((eol = memchr(buf, '\r', (size_t)(lim - buf))) == NULL)
		return (SIP_E_STATUS_LINE);
	if ((e = parse_status_line(buf, (size_t)(eol - buf), r)) != SIP_OK)
		return (e);

	for (p = eol + 2; p < lim; p = end + 2) {
		/* a logical line: physical lines joined while the next one
		 * starts with SP or HTAB (§7.3.1) */
		if (*p == ' ' || *p == '\t')
			return (SIP_E_BAD_LINE);	/* fold of nothing */
		end = p;
		for (;;) {
			/* lim[-2] is a CR: always found */
			if ((end = memchr(end, '\r', (size_t)(lim - end))) ==
			    NULL)
				return (SIP_E_BAD_LINE);
			if (end + 2 < lim && (end[2] == ' ' || end[2] == '\t'))
				end += 2;
			else
				break;
		}
		c.p = p;
		c.end = end;
		if (!take_token(&c, &name))
			return (SIP_E_BAD_LINE);
		/* HCOLON = *( SP / HTAB ) ":" SWS */
		while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
			c.p++;
		if (c.p >= c.end || *c.p != ':')
			return (SIP_E_BAD_LINE);
		c.p++;
		trim(&c);
		h = header_kind(&name);
		if (h == H_CALL_ID || h == H_CSEQ || h == H_FROM ||
		    h == H_TO || h == H_CLEN) {
			if (seen & (1U << h))
				return (SIP_E_DUPLICATE);
		} else if (seen & (1U << h))
			continue;	/* only the first Via, Server, UA */
		seen |= 1U << h;
		switch (h) {
		case H_VIA:
			e = parse_via(&c, r);
			break;
		case H_CALL_ID:
			e = parse_call_id(&c, &r->call_id);
			break;
		case H_CSEQ:
			e = parse_cseq(&c, r);
			break;
		case H_FROM:
			e = parse_addr_hdr(&c, &r->from_tag);
			break;
		case H_TO:
			e = parse_addr_hdr(&c, &r->to_tag);
			break;
		case H_CLEN:
			e = parse_content_length(&c, r);
			break;
		case H_SERVER:
			r->server.p = c.p;
			r->server.len = (size_t)(c.end - c.p);
			e = SIP_OK;
			break;
		case H_UA:
			r->user_agent.p = c.p;
			r->user_agent.len = (size_t)(c.end - c.p);
			e = SIP_OK;
			break;
		default:
			e = SIP_OK;
			break;
		}
		if (e != SIP_OK)
			return (e);
	}
	/* §8.2.6.2: a response carries these copied from the request */
	if ((seen & ((1U << H_VIA) | (1U << H_CALL_ID) | (1U << H_CSEQ) |
	    (1U << H_FROM) | (1U << H_TO))) != ((1U << H_VIA) |
	    (1U << H_CALL_ID) | (1U << H_CSEQ) | (1U << H_FROM) |
	    (1U << H_TO)))
		return (SIP_E_MISSING);

	/* §18.3 framing: Content-Length is mandatory on a stream */
	if (!r->has_content_length) {
		if (stream)
			return (SIP_E_CONTENT_LENGTH);
		r->content_length = len - r->header_len;
	}
	/* §18.3: a datagram shorter than its Content-Length is discarded */
	if (!stream && r->content_length > len - r->header_len)
		return (SIP_E_CONTENT_LENGTH);
	if (r->content_length > SIP_MAX_MSG - r->header_len)
		return (SIP_E_TOO_BIG);
	r->msg_len = r->header_len + r->content_length;
	if (r->msg_len > len)
		return (SIP_E_INCOMPLETE);
	return (SIP_OK);
}

/* Two sent-by hosts: as addresses when both are IP literals. */
static int
host_eq(const struct sip_str *a, const char *b)
{
	char		 x[64], y[64];
	unsigned char	 ax[16], bx[16];
	size_t		 bl = strlen(b);
	int		 fam;

	if (a->len == 0 || bl == 0)
		return (a->len == bl);
	if (a->len == bl && strncasecmp(a->p, b, bl) == 0)
		return (1);
	if (a->len >= sizeof(x) || bl >= sizeof(y))
		return (0);
	memcpy(x, a->p, a->len);
	x[a->len] = '\0';
	memcpy(y, b, bl + 1);
	fam = AF_INET;
	if (x[0] == '[' && y[0] == '[' && x[a->len - 1] == ']' &&
	    y[bl - 1] == ']') {
		x[a->len - 1] = y[bl - 1] = '\0';
		fam = AF_INET6;
		return (inet_pton(fam, x + 1, ax) == 1 &&
		    inet_pton(fam, y + 1, bx) == 1 && memcmp(ax, bx, 16) == 0);
	}
	return (inet_pton(fam, x, ax) == 1 && inet_pton(fam, y, bx) == 1 &&
	    memcmp(ax, bx, 4) == 0);
}

static int
str_eq(const struct sip_str *s, const char *lit)
{
	size_t	n = strlen(lit);

	return (s->len == n && (n == 0 || memcmp(s->p, lit, n) == 0));
}

enum sip_mismatch
sip_response_match(const struct sip_response *r, const struct sip_request *q)
{
	/* §17.1.3: the branch and the CSeq method pick the transaction */
	if (!str_eq(&r->via_branch, q->branch))
		return (SIP_M_BRANCH);
	if (!str_eq(&r->cseq_method, "OPTIONS") || r->cseq != q->cseq)
		return (SIP_M_CSEQ);
	/* §18.1.2: a top Via that is not ours is discarded */
	if (!str_ieq(&r->via_transport, q->tcp ? "TCP" : "UDP") ||
	    !host_eq(&r->via_host, q->via_host) ||
	    (r->via_port == -1 ? 5060U : (unsigned)r->via_port) !=
	    q->via_port)
		return (SIP_M_SENT_BY);
	/* §20.8: Call-IDs compare byte by byte */
	if (!str_eq(&r->call_id, q->call_id))
		return (SIP_M_CALL_ID);
	if (!str_eq(&r->from_tag, q->from_tag))
		return (SIP_M_FROM_TAG);
	return (SIP_M_OK);
}

/* Length of the valid UTF-8 sequence at s (max n bytes), 0 if none. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t		need, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (n < need)
		return (0);
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* no overlong forms, surrogates or code points past U+10FFFF */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (need);
}

void
sip_info_sanitize(char *out, const struct sip_str *in)
{
	const unsigned char	*s = (const unsigned char *)in->p;
	size_t			 i = 0, o = 0, k;
	int			 space = 0;

	while (in->p != NULL && i < in->len) {
		if (is_lws(s[i])) {
			space = 1;
			i++;
			continue;
		}
		k = utf8_len(s + i, in->len - i);
		if (space && o > 0) {
			if (o + 1 > SIP_INFO_MAX)
				break;
			out[o++] = ' ';
		}
		space = 0;
		if (k == 0 || (k == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
			k = 1;
			if (o + 1 > SIP_INFO_MAX)
				break;
			out[o++] = '?';
		} else {
			if (o + k > SIP_INFO_MAX)
				break;
			memcpy(out + o, s + i, k);
			o += k;
		}
		i += k;
	}
	out[o] = '\0';
}
