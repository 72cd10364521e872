/*
 * http: one GET, HEAD or POST to an http:// or https:// URL whose host is
 * an IP literal, with blackbox_exporter's per-phase timings (resolve,
 * connect, tls, processing, transfer), expectations on the status code,
 * header fields and body, the certificate chain's expiry, redirects to
 * other IP literals, and numbers read from a JSON body into gauges.
 *
 * The client is our own HTTP/1.1 over bufferevents (bufferevent_openssl
 * for TLS), not evhttp's: the socket must come from probe_socket() (so
 * source, interface and fwmark apply), every phase boundary must be
 * seen (connect done, handshake done, first byte, last byte), and a
 * run must be torn down at any point, mid-handshake included, when the
 * core's deadline fires.  Every request goes out on a connection of its
 * own ("Connection: close"), so an answer can only be the answer to the
 * request this run sent; the certificate is checked before the request
 * is sent, so nothing goes to a peer that failed verification.
 *
 * The pure parts (URLs, the request, response heads, chunked coding,
 * JSON) come first and are declared in probes/http.h for the tests.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "probes/http.h"
#include "probes/probe.h"

/* ==== URLs (RFC 3986) ================================================ */

static const char url_err_name[] = "the host is not an IP address (names "
    "are never resolved; write IPv6 as [addr])";

/* Path and query bytes we send as they are: visible ASCII, %XX valid. */
static const char *
url_chars_check(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return ("spaces, controls and non-ASCII characters "
			    "must be percent-encoded");
		if (c == '%' && (i + 2 >= len ||
		    !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2])))
			return ("'%' not followed by two hex digits");
	}
	return (NULL);
}

int
http_url_parse(const char *in, struct http_url *u, const char **why)
{
	const char	*p, *auth_end, *host, *hend, *rest, *q, *frag;
	char		 hbuf[INET6_ADDRSTRLEN + 1];
	size_t		 hlen, plen;
	unsigned long	 port = 0;
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(in, "http://", 7) == 0)
		p = in + 7;
	else if (strncasecmp(in, "https://", 8) == 0) {
		u->tls = 1;
		p = in + 8;
	} else {
		*why = "expected a URL starting with http:// or https://";
		return (-1);
	}
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p)) != NULL) {
		*why = "user info in the URL is not supported (give "
		    "credentials in 'headers')";
		return (-1);
	}
	if (*p == '[') {
		/* RFC 3986 §3.2.2: IP-literal = "[" IPv6address "]" */
		host = p + 1;
		if ((hend = memchr(host, ']', (size_t)(auth_end - host))) ==
		    NULL) {
			*why = "'[' without ']' around the IPv6 address";
			return (-1);
		}
		rest = hend + 1;
		if (rest < auth_end && *rest != ':') {
			*why = "unexpected text after the IPv6 address";
			return (-1);
		}
	} else {
		host = p;
		hend = memchr(p, ':', (size_t)(auth_end - p));
		if (hend == NULL)
			hend = auth_end;
		rest = hend;
	}
	hlen = (size_t)(hend - host);
	if (hlen == 0) {
		*why = *p == ':' ? url_err_name : "the URL has no host";
		return (-1);
	}
	if (hlen >= sizeof(hbuf)) {
		*why = url_err_name;
		return (-1);
	}
	memcpy(hbuf, host, hlen);
	hbuf[hlen] = '\0';
	if (*p == '[') {
		if (strchr(hbuf, '%') != NULL) {
			*why = "zone ids in IPv6 addresses are not supported";
			return (-1);
		}
		sin6 = (struct sockaddr_in6 *)&u->addr.ss;
		if (inet_pton(AF_INET6, hbuf, &sin6->sin6_addr) != 1) {
			*why = "invalid IPv6 address in brackets";
			return (-1);
		}
		sin6->sin6_family = AF_INET6;
		u->addr.len = sizeof(*sin6);
	} else {
		sin = (struct sockaddr_in *)&u->addr.ss;
		if (inet_pton(AF_INET, hbuf, &sin->sin_addr) != 1) {
			*why = url_err_name;
			return (-1);
		}
		sin->sin_family = AF_INET;
		u->addr.len = sizeof(*sin);
	}
	if (rest < auth_end) {		/* ":" port */
		if (rest + 1 == auth_end) {
			*why = "empty port after ':'";
			return (-1);
		}
		for (q = rest + 1; q < auth_end; q++) {
			if (!isdigit((unsigned char)*q) || port > 65535) {
				*why = "the port must be a number from 1 to "
				    "65535";
				return (-1);
			}
			port = port * 10 + (unsigned long)(*q - '0');
		}
		if (port == 0 || port > 65535) {
			*why = "the port must be a number from 1 to 65535";
			return (-1);
		}
	} else
		port = u->tls ? 443 : 80;
	u->port = (int)port;
	if (u->addr.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&u->addr.ss)->sin_port =
		    htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&u->addr.ss)->sin6_port =
		    htons((uint16_t)port);
	format_addr(&u->addr, 0, hbuf, sizeof(hbuf));
	snprintf(u->host, sizeof(u->host), u->addr.ss.ss_family == AF_INET6 ?
	    "[%s]" : "%s", hbuf);

	/* path and query; the fragment stays with the client (§3.5) */
	q = auth_end;
	frag = strchr(q, '#');
	plen = frag != NULL ? (size_t)(frag - q) : strlen(q);
	if ((*why = url_chars_check(q, plen)) != NULL)
		return (-1);
	if (plen + 2 > sizeof(u->path)) {
		*why = "the path is too long";
		return (-1);
	}
	if (plen == 0 || *q == '?')
		u->path[0] = '/';
	memcpy(u->path + strlen(u->path), q, plen);
	return (0);
}

void
http_url_authority(const struct http_url *u, char *buf, size_t len)
{
	if (u->port == (u->tls ? 443 : 80))
		snprintf(buf, len, "%s", u->host);
	else
		snprintf(buf, len, "%s:%d", u->host, u->port);
}

int
http_url_format(const struct http_url *u, char *buf, size_t len)
{
	char	auth[NP_ADDRSTRLEN + 8];
	int	n;

	http_url_authority(u, auth, sizeof(auth));
	n = snprintf(buf, len, "%s://%s%s", u->tls ? "https" : "http", auth,
	    u->path);
	return (n < 0 || (size_t)n >= len ? -1 : n);
}

/*
 * RFC 3986 §5.2.4 remove_dot_segments, from in (modified) to out (at
 * least as large as in).
 */
static void
url_remove_dots(char *in, char *out)
{
	char	*p = in, *o = out, *slash;
	size_t	 n;

	*o = '\0';
	while (*p != '\0') {
		if (strncmp(p, "../", 3) == 0)
			p += 3;
		else if (strncmp(p, "./", 2) == 0)
			p += 2;
		else if (strncmp(p, "/./", 3) == 0)
			p += 2;
		else if (strcmp(p, "/.") == 0) {
			p += 1;
			*p = '/';
		} else if (strncmp(p, "/../", 4) == 0 ||
		    strcmp(p, "/..") == 0) {
			/* "/../x" goes on as "/x", "/.." as "/" */
			if (p[3] == '/')
				p += 3;
			else {
				p += 2;
				*p = '/';
			}
			if ((slash = strrchr(out, '/')) != NULL)
				*slash = '\0';
			else
				*out = '\0';
			o = out + strlen(out);
		} else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
			p += strlen(p);
		else {
			n = 1 + strcspn(p + 1, "/");
			if (*p != '/')
				n = strcspn(p, "/");
			memcpy(o, p, n);
			o += n;
			*o = '\0';
			p += n;
		}
	}
}

int
http_url_resolve(const struct http_url *base, const char *ref,
    struct http_url *out, const char **why)
{
	char		*buf, *merged, *clean, *bq;
	const char	*s, *rq, *rf;
	size_t		 rlen, plen, blen, n;
	int		 rc = -1;

	/* a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	for (s = ref; isalnum((unsigned char)*s) || *s == '+' || *s == '-' ||
	    *s == '.'; s++)
		;
	if (*s == ':' && s > ref && isalpha((unsigned char)*ref)) {
		if (strncasecmp(ref, "http:", 5) != 0 &&
		    strncasecmp(ref, "https:", 6) != 0) {
			*why = "a scheme other than http or https";
			return (-1);
		}
		return (http_url_parse(ref, out, why));
	}
	n = strlen(ref);
	if (strncmp(ref, "//", 2) == 0) {	/* network-path reference */
		xasprintf(&buf, "%s:%s", base->tls ? "https" : "http", ref);
		rc = http_url_parse(buf, out, why);
		free(buf);
		return (rc);
	}
	rf = strchr(ref, '#');
	rlen = rf != NULL ? (size_t)(rf - ref) : n;
	if ((*why = url_chars_check(ref, rlen)) != NULL)
		return (-1);
	rq = memchr(ref, '?', rlen);
	plen = rq != NULL ? (size_t)(rq - ref) : rlen;
	*out = *base;
	bq = strchr(base->path, '?');
	blen = bq != NULL ? (size_t)(bq - base->path) : strlen(base->path);

	/* room for the base path and query, the reference, "/" and NUL */
	n = strlen(base->path) + rlen + 4;
	merged = xcalloc(1, n);
	clean = xcalloc(1, n);
	if (plen == 0) {
		/* same path; the reference's query if it has one (§5.2.2) */
		memcpy(merged, base->path, blen);
		if (rq != NULL)
			memcpy(merged + blen, rq, rlen - plen);
		else if (bq != NULL)
			memcpy(merged + blen, bq, strlen(bq));
		snprintf(clean, n, "%s", merged);
	} else {
		if (*ref == '/')
			memcpy(merged, ref, plen);
		else {
			/* §5.2.3: the base path up to its last '/' */
			s = memrchr(base->path, '/', blen);
			n = s != NULL ? (size_t)(s - base->path) + 1 : 0;
			memcpy(merged, base->path, n);
			memcpy(merged + n, ref, plen);
		}
		url_remove_dots(merged, clean);
		if (clean[0] != '/') {
			memmove(clean + 1, clean, strlen(clean) + 1);
			clean[0] = '/';
		}
		if (rq != NULL)
			memcpy(clean + strlen(clean), rq, rlen - plen);
	}
	if (strlen(clean) + 1 > sizeof(out->path))
		*why = "the path is too long";
	else {
		snprintf(out->path, sizeof(out->path), "%s", clean);
		rc = 0;
	}
	free(merged);
	free(clean);
	return (rc);
}

/* ==== requests (RFC 9112 §3) ========================================= */

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xreallocarray(b->p, 1, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_field(struct sbuf *b, const char *name, const char *value)
{
	sb_add(b, name, strlen(name));
	sb_add(b, ": ", 2);
	sb_add(b, value, strlen(value));
	sb_add(b, "\r\n", 2);
}

static const char *
labels_get(const struct np_labels *l, const char *name)
{
	size_t	i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (strcasecmp(l->v[i].name, name) == 0)
			return (l->v[i].value);
	return (NULL);
}

char *
http_request_build(const char *method, const struct http_url *u,
    const struct np_labels *headers, int use_host, const char *body,
    size_t *lenp)
{
	static const char *const defaults[][2] = {
		{ "User-Agent", "netprobed/" PACKAGE_VERSION },
		{ "Accept", "*/*" },
		{ "Connection", "close" },
	};
	struct sbuf	 b = { NULL, 0, 0 };
	char		 auth[NP_ADDRSTRLEN + 8], num[32];
	const char	*v;
	size_t		 i;

	sb_add(&b, method, strlen(method));
	sb_add(&b, " ", 1);
	sb_add(&b, u->path, strlen(u->path));
	sb_add(&b, " HTTP/1.1\r\n", 11);
	/* RFC 9112 §3.2: Host first, as a client SHOULD */
	if (use_host && (v = labels_get(headers, "Host")) != NULL)
		sb_field(&b, "Host", v);
	else {
		http_url_authority(u, auth, sizeof(auth));
		sb_field(&b, "Host", auth);
	}
	for (i = 0; i < NP_NELEM(defaults); i++)
		if (labels_get(headers, defaults[i][0]) == NULL)
			sb_field(&b, defaults[i][0], defaults[i][1]);
	for (i = 0; headers != NULL && i < headers->n; i++)
		if (strcasecmp(headers->v[i].name, "Host") != 0)
			sb_field(&b, headers->v[i].name, headers->v[i].value);
	if (body != NULL) {
		snprintf(num, sizeof(num), "%zu", strlen(body));
		sb_field(&b, "Content-Length", num);
	}
	sb_add(&b, "\r\n", 2);
	if (body != NULL)
		sb_add(&b, body, strlen(body));
	*lenp = b.len;
	return (b.p);
}

/* ==== response heads (RFC 9112 §2-6) ================================= */

int
http_token_valid(const char *s)
{
	/* RFC 9110 §5.6.2: tchar */
	static const char	extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80)
			if (strchr(extra, *s) == NULL)
				return (0);
	return (1);
}

size_t
http_head_end(const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '\n')
			return ((size_t)(p + 1 - buf));
		if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
			return ((size_t)(p + 2 - buf));
	}
	return (0);
}

static int
is_ows(char c)
{
	return (c == ' ' || c == '\t');
}

/* Strip OWS around s in place. */
static char *
trim_ows(char *s)
{
	size_t	n;

	while (is_ows(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_ows(s[n - 1]))
		s[--n] = '\0';
	return (s);
}

/* Any control other than HTAB (RFC 9110 §5.5: field-vchar, obs-text)? */
static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return (1);
	return (0);
}

/* Content-Length: 1*DIGIT, or a list of identical ones (§6.3 rule 5). */
static int
head_content_length(const char *v, int64_t *cl, const char **why)
{
	const char	*p = v;
	int64_t		 n;
	int		 digits;

	while (*p != '\0') {
		while (is_ows(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (n = 0, digits = 0; isdigit((unsigned char)*p); p++) {
			if (++digits > 18) {
				*why = "Content-Length too large";
				return (-1);
			}
			n = n * 10 + (*p - '0');
		}
		while (is_ows(*p))
			p++;
		if (digits == 0 || (*p != ',' && *p != '\0')) {
			*why = "invalid Content-Length";
			return (-1);
		}
		if (*cl != -1 && *cl != n) {
			*why = "conflicting Content-Length values";
			return (-1);
		}
		*cl = n;
	}
	if (*cl == -1) {
		*why = "empty Content-Length";
		return (-1);
	}
	return (0);
}

/* Transfer-Encoding: is chunked the final coding (§6.1)? */
static void
head_transfer_coding(struct http_head *h, const char *v)
{
	const char	*p = v, *start;
	size_t		 n;

	while (*p != '\0') {
		while (is_ows(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		start = p;
		p += strcspn(p, ",");
		n = strcspn(start, ";, \t");
		if (n == 7 && strncasecmp(start, "chunked", 7) == 0) {
			h->chunked = 1;
			h->other_coding = 0;
		} else {
			h->chunked = 0;
			h->other_coding = 1;
		}
	}
}

void
http_head_free(struct http_head *h)
{
	free(h->raw);
	memset(h, 0, sizeof(*h));
	h->content_length = -1;
}

int
http_head_parse(const char *buf, size_t len, struct http_head *h,
    const char **why)
{
	char		*raw, *line, *next, *colon, *name, *value, *p;
	size_t		 i;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		*why = len ? "NUL byte in the response head" :
		    "empty response head";
		return (-1);
	}
	raw = h->raw = xmalloc(len + 1);
	memcpy(raw, buf, len);
	raw[len] = '\0';

	/* §2.2: no whitespace between the status line and the fields */
	line = raw;
	next = strchr(line, '\n');
	if (next != NULL && is_ows(next[1])) {
		*why = "whitespace before the first header field";
		goto bad;
	}
	/* §5.2: each obs-fold becomes a space */
	for (p = next; p != NULL && *p != '\0'; p = strchr(p + 1, '\n'))
		if (is_ows(p[1])) {
			*p = ' ';
			if (p > raw && p[-1] == '\r')
				p[-1] = ' ';
		}

	for (i = 0; line != NULL && *line != '\0'; line = next, i++) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((p = strchr(line, '\0')) > line && p[-1] == '\r')
			p[-1] = '\0';
		/* §2.2: a bare CR is replaced by SP */
		for (p = line; (p = strchr(p, '\r')) != NULL; p++)
			*p = ' ';
		if (i == 0) {
			/* §4: HTTP-version SP 3DIGIT SP reason-phrase */
			if (strncmp(line, "HTTP/", 5) != 0 ||
			    !isdigit((unsigned char)line[5]) ||
			    line[6] != '.' ||
			    !isdigit((unsigned char)line[7]) ||
			    line[8] != ' ') {
				*why = "not an HTTP/1.x status line";
				goto bad;
			}
			if (line[5] != '1' || line[7] > '1') {
				*why = "unsupported HTTP version";
				goto bad;
			}
			h->minor = line[7] - '0';
			p = line + 9;
			if (!isdigit((unsigned char)p[0]) ||
			    !isdigit((unsigned char)p[1]) ||
			    !isdigit((unsigned char)p[2]) ||
			    (p[3] != ' ' && p[3] != '\0')) {
				*why = "the status code is not 3 digits";
				goto bad;
			}
			h->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 +
			    (p[2] - '0');
			/* RFC 9110 §15: outside 100..599 is invalid */
			if (h->status < 100 || h->status > 599) {
				*why = "status code outside 100..599";
				goto bad;
			}
			if (has_ctl(p + 3)) {
				*why = "control character in the reason "
				    "phrase";
				goto bad;
			}
			continue;
		}
		if (*line == '\0')
			break;		/* the empty line ending the head */
		if ((colon = strchr(line, ':')) == NULL) {
			*why = "header line without a colon";
			goto bad;
		}
		*colon = '\0';
		name = line;
		value = trim_ows(colon + 1);
		if (!http_token_valid(name)) {
			*why = "invalid header field name";
			goto bad;
		}
		if (has_ctl(value)) {
			*why = "control character in a header field";
			goto bad;
		}
		if (h->nf == HTTP_MAX_FIELDS) {
			*why = "more than 100 header fields";
			goto bad;
		}
		h->f[h->nf].name = name;
		h->f[h->nf].value = value;
		h->nf++;
		if (strcasecmp(name, "Content-Length") == 0 &&
		    head_content_length(value, &h->content_length, why) == -1)
			goto bad;
		if (strcasecmp(name, "Transfer-Encoding") == 0)
			head_transfer_coding(h, value);
	}
	if (i == 0) {
		*why = "empty response head";
		goto bad;
	}
	return (0);
bad:
	http_head_free(h);
	return (-1);
}

const char *
http_head_get(const struct http_head *h, const char *name, size_t *pos)
{
	size_t	i;

	for (i = *pos; i < h->nf; i++)
		if (strcasecmp(h->f[i].name, name) == 0) {
			*pos = i + 1;
			return (h->f[i].value);
		}
	*pos = h->nf;
	return (NULL);
}

/* ==== chunked transfer coding (RFC 9112 §7.1) ======================== */

enum { CS_SIZE, CS_DATA, CS_DATA_END, CS_TRAILER, CS_DONE };

/* A complete line at in: its length without the line end, and *used. */
static int
chunk_line(const char *in, size_t len, size_t *linelen, size_t *used,
    const char **why)
{
	const char	*nl;
	size_t		 n = len < HTTP_LINE_MAX ? len : HTTP_LINE_MAX;

	if ((nl = memchr(in, '\n', n)) == NULL) {
		if (len >= HTTP_LINE_MAX) {
			*why = "chunk-size or trailer line too long";
			return (-1);
		}
		*used = 0;
		return (0);
	}
	*used = (size_t)(nl - in) + 1;
	*linelen = (size_t)(nl - in);
	if (*linelen > 0 && in[*linelen - 1] == '\r')
		(*linelen)--;
	return (1);
}

int
http_chunked_step(struct http_chunked *c, const char *in, size_t len,
    size_t *used, size_t *data, const char **why)
{
	size_t		 linelen, i;
	uint64_t	 size;
	int		 rc, digits;

	*used = *data = 0;
	switch (c->state) {
	case CS_SIZE:
		if ((rc = chunk_line(in, len, &linelen, used, why)) <= 0)
			return (rc);
		/* chunk-size [ chunk-ext ] CRLF; chunk-size = 1*HEXDIG */
		for (i = 0, size = 0, digits = 0; i < linelen &&
		    isxdigit((unsigned char)in[i]); i++, digits++) {
			if (size >> 58 != 0) {
				*why = "chunk size too large";
				return (-1);
			}
			size = size * 16 + (uint64_t)(isdigit((unsigned char)
			    in[i]) ? in[i] - '0' :
			    tolower((unsigned char)in[i]) - 'a' + 10);
		}
		while (i < linelen && is_ows(in[i]))
			i++;
		if (digits == 0 || (i < linelen && in[i] != ';')) {
			*why = "invalid chunk-size line";
			return (-1);
		}
		for (; i < linelen; i++)
			if (((unsigned char)in[i] < 0x20 && in[i] != '\t') ||
			    in[i] == 0x7f) {
				*why = "control character in a chunk "
				    "extension";
				return (-1);
			}
		c->left = size;
		c->state = size == 0 ? CS_TRAILER : CS_DATA;
		return (0);
	case CS_DATA:
		*used = *data = len < c->left ? len : (size_t)c->left;
		c->left -= *used;
		if (c->left == 0)
			c->state = CS_DATA_END;
		return (0);
	case CS_DATA_END:
		if (len == 0)
			return (0);
		if (in[0] == '\n')
			*used = 1;
		else if (in[0] == '\r' && len == 1)
			return (0);
		else if (in[0] == '\r' && in[1] == '\n')
			*used = 2;
		else {
			*why = "chunk data longer than its size";
			return (-1);
		}
		c->state = CS_SIZE;
		return (0);
	case CS_TRAILER:
		if ((rc = chunk_line(in, len, &linelen, used, why)) <= 0)
			return (rc);
		if (linelen == 0) {
			c->state = CS_DONE;
			return (1);
		}
		for (i = 0; i < linelen; i++)
			if (((unsigned char)in[i] < 0x20 && in[i] != '\t') ||
			    in[i] == 0x7f) {
				*why = "control character in a trailer field";
				return (-1);
			}
		if (memchr(in, ':', linelen) == NULL) {
			*why = "trailer line without a colon";
			return (-1);
		}
		return (0);
	default:
		return (1);
	}
}

/* ==== JSON (RFC 8259), just enough to read one number ================ */

enum { JT_NONE, JT_NUMBER, JT_TRUE, JT_FALSE, JT_NULL, JT_STRING,
    JT_CONTAINER };

struct json {
	const char	*p, *end;
	const char	*seg[HTTP_JSON_SEGS];
	size_t		 seglen[HTTP_JSON_SEGS];
	int		 nseg;
	int		 type;			/* of the last value found */
	const char	*num;			/* its text, if a number */
	size_t		 numlen;
	const char	*why;
};

static void
json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
json_fail(struct json *j, const char *why)
{
	if (j->why == NULL)
		j->why = why;
	return (-1);
}

static int
json_hex4(const char *p, unsigned *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return (-1);
		*v = *v * 16 + (unsigned)(isdigit((unsigned char)p[i]) ?
		    p[i] - '0' : tolower((unsigned char)p[i]) - 'a' + 10);
	}
	return (0);
}

static void
json_put(char *dec, size_t cap, size_t *n, int *over, unsigned cp)
{
	char	u[4];
	size_t	k;

	if (cp < 0x80) {
		u[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*n + k > cap)
		*over = 1;
	else
		memcpy(dec + *n, u, k);
	*n += k;
}

/*
 * A string at j->p (the opening quote), decoded into dec (cap bytes; *over
 * set when it does not fit) when dec is not NULL.
 */
static int
json_string(struct json *j, char *dec, size_t cap, size_t *declen, int *over)
{
	unsigned	cp, lo;
	size_t		n = 0;

	*over = 0;
	j->p++;
	for (;;) {
		if (j->p >= j->end)
			return (json_fail(j, "unterminated string in JSON"));
		if (*j->p == '"')
			break;
		if ((unsigned char)*j->p < 0x20)
			return (json_fail(j, "control character in a JSON "
			    "string"));
		if (*j->p != '\\') {
			if (dec != NULL && n < cap)
				dec[n] = *j->p;
			else if (dec != NULL)
				*over = 1;
			n++;
			j->p++;
			continue;
		}
		if (j->end - j->p < 2)
			return (json_fail(j, "unterminated string in JSON"));
		switch (j->p[1]) {
		case '"':
		case '\\':
		case '/':
			cp = (unsigned char)j->p[1];
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (j->end - j->p < 6 || json_hex4(j->p + 2, &cp) == -1)
				return (json_fail(j, "bad \\u escape in "
				    "JSON"));
			j->p += 4;
			/* a surrogate pair is one code point (§7) */
			if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 8 &&
			    j->p[2] == '\\' && j->p[3] == 'u' &&
			    json_hex4(j->p + 4, &lo) == 0 && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				j->p += 6;
			} else if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			break;
		default:
			return (json_fail(j, "bad escape in a JSON string"));
		}
		j->p += 2;
		if (dec != NULL)
			json_put(dec, cap, &n, over, cp);
		else
			n++;
	}
	j->p++;
	*declen = n;
	return (0);
}

static int
json_number(struct json *j)
{
	const char	*p = j->p;

	if (p < j->end && *p == '-')
		p++;
	if (p < j->end && *p == '0')
		p++;
	else if (p < j->end && *p >= '1' && *p <= '9')
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	else
		return (json_fail(j, "invalid number in JSON"));
	if (p < j->end && *p == '.') {
		if (++p >= j->end || !isdigit((unsigned char)*p))
			return (json_fail(j, "invalid number in JSON"));
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || !isdigit((unsigned char)*p))
			return (json_fail(j, "invalid number in JSON"));
		while (p < j->end && isdigit((unsigned char)*p))
			p++;
	}
	j->p = p;
	return (0);
}

static int
json_literal(struct json *j, const char *word)
{
	size_t	n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return (json_fail(j, "invalid JSON"));
	j->p += n;
	return (0);
}

/* Does array index idx match a path segment of digits? */
static int
json_index_is(const char *seg, size_t len, size_t idx)
{
	size_t	v = 0, i;

	if (len == 0 || len > 9 || (len > 1 && seg[0] == '0'))
		return (0);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)seg[i]))
			return (0);
		v = v * 10 + (size_t)(seg[i] - '0');
	}
	return (v == idx);
}

/*
 * One value at j->p.  level: how many path segments the way here matched
 * (-1: off the path); a value at level nseg is the one wanted.
 */
static int
json_value(struct json *j, int depth, int level)
{
	char		 key[256];
	size_t		 klen, idx;
	const char	*start;
	int		 over, child, type;

	json_ws(j);
	if (j->p >= j->end)
		return (json_fail(j, "unexpected end of JSON"));
	start = j->p;
	switch (*j->p) {
	case '{':
	case '[':
		if (depth >= HTTP_JSON_DEPTH)
			return (json_fail(j, "JSON nested too deeply"));
		type = *j->p++;
		json_ws(j);
		if (j->p < j->end && *j->p == (type == '{' ? '}' : ']')) {
			j->p++;
			break;
		}
		for (idx = 0;; idx++) {
			child = -1;
			if (type == '{') {
				json_ws(j);
				if (j->p >= j->end || *j->p != '"')
					return (json_fail(j, "expected a "
					    "name in a JSON object"));
				if (json_string(j, key, sizeof(key), &klen,
				    &over) == -1)
					return (-1);
				json_ws(j);
				if (j->p >= j->end || *j->p != ':')
					return (json_fail(j, "expected ':' "
					    "in a JSON object"));
				j->p++;
				if (level >= 0 && level < j->nseg && !over &&
				    klen == j->seglen[level] &&
				    memcmp(key, j->seg[level], klen) == 0)
					child = level + 1;
			} else if (level >= 0 && level < j->nseg &&
			    json_index_is(j->seg[level], j->seglen[level], idx))
				child = level + 1;
			if (json_value(j, depth + 1, child) == -1)
				return (-1);
			json_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == (type == '{' ? '}' :
			    ']')) {
				j->p++;
				break;
			}
			return (json_fail(j, type == '{' ? "expected ',' or "
			    "'}' in a JSON object" : "expected ',' or ']' in "
			    "a JSON array"));
		}
		type = JT_CONTAINER;
		break;
	case '"':
		if (json_string(j, NULL, 0, &klen, &over) == -1)
			return (-1);
		type = JT_STRING;
		break;
	case 't':
		if (json_literal(j, "true") == -1)
			return (-1);
		type = JT_TRUE;
		break;
	case 'f':
		if (json_literal(j, "false") == -1)
			return (-1);
		type = JT_FALSE;
		break;
	case 'n':
		if (json_literal(j, "null") == -1)
			return (-1);
		type = JT_NULL;
		break;
	default:
		if (*j->p != '-' && !isdigit((unsigned char)*j->p))
			return (json_fail(j, "unexpected character in JSON"));
		if (json_number(j) == -1)
			return (-1);
		type = JT_NUMBER;
		break;
	}
	if (level == j->nseg) {
		j->type = type;
		j->num = start;
		j->numlen = (size_t)(j->p - start);
	}
	return (0);
}

/* Split a path into j->seg; -1 if it is not valid. */
static int
json_path_split(struct json *j, const char *path)
{
	const char	*p = path, *dot;
	size_t		 len = strlen(path);

	if (len == 0 || len > 255)
		return (-1);
	for (; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return (-1);
	for (p = path, j->nseg = 0;; p = dot + 1) {
		if (j->nseg == HTTP_JSON_SEGS)
			return (-1);
		dot = strchr(p, '.');
		j->seg[j->nseg] = p;
		j->seglen[j->nseg] = dot != NULL ? (size_t)(dot - p) :
		    strlen(p);
		if (j->seglen[j->nseg++] == 0)
			return (-1);
		if (dot == NULL)
			return (0);
	}
}

int
http_json_path_valid(const char *path)
{
	struct json	j;

	return (json_path_split(&j, path) == 0);
}

int
http_json_number(const char *text, size_t len, const char *path,
    double *out, const char **why)
{
	struct json	 j;
	char		 num[512], *end;

	memset(&j, 0, sizeof(j));
	if (json_path_split(&j, path) == -1) {
		*why = "invalid JSON path";
		return (-1);
	}
	j.p = text;
	j.end = text + len;
	/* RFC 8259 §8.1: a parser MAY ignore a byte order mark */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		j.p += 3;
	json_ws(&j);
	if (j.p == j.end) {
		*why = "the body is empty, not JSON";
		return (-1);
	}
	if (json_value(&j, 0, 0) == -1) {
		*why = j.why;
		return (-1);
	}
	json_ws(&j);
	if (j.p != j.end) {
		*why = "data after the JSON value";
		return (-1);
	}
	switch (j.type) {
	case JT_NONE:
		*why = "not found in the JSON body";
		return (-1);
	case JT_TRUE:
	case JT_FALSE:
		*out = j.type == JT_TRUE;
		return (0);
	case JT_NULL:
		*why = "is null, not a number";
		return (-1);
	case JT_STRING:
		*why = "is a string, not a number";
		return (-1);
	case JT_CONTAINER:
		*why = "is an object or array, not a number";
		return (-1);
	}
	if (j.numlen >= sizeof(num)) {
		*why = "number too long";
		return (-1);
	}
	memcpy(num, j.num, j.numlen);
	num[j.numlen] = '\0';
	errno = 0;
	*out = strtod(num, &end);
	if (*end != '\0' || !isfinite(*out)) {
		*why = "number out of range";
		return (-1);
	}
	return (0);
}

/* ==== options ======================================================== */

enum { M_GET, M_HEAD, M_POST };
static const char *const http_methods[] = { "GET", "HEAD", "POST", NULL };

#define HTTP_MAX_JSON		8	/* json_gauges entries */
#define HTTP_DEFAULT_MAX_BODY	(1024 * 1024)

struct http_opts {
	int			 method;
	char			*body;
	struct np_labels	 headers;
	struct np_uintlist	 valid_status;	/* empty: any 2xx */
	struct np_regex		*body_match;	/* fail if it matches */
	struct np_regex		*body_nomatch;	/* fail unless it matches */
	struct np_labels	 hdr_match;	/* name: regex; fail if any
						   value matches */
	struct np_labels	 hdr_nomatch;	/* fail unless one matches */
	int			 follow;
	uint64_t		 max_redirects;
	int			 tls_verify;
	char			*tls_ca_file;
	char			*tls_server_name;
	uint64_t		 cert_min_ms;	/* 0: no expiry check */
	struct np_labels	 json;		/* key: path */
	uint64_t		 max_body;
};

static const struct opt_def http_opt_defs[] = {
	OPT_CHOICE("method", struct http_opts, method, http_methods),
	OPT("body", OPT_STRING, struct http_opts, body, 0, 65536),
	OPT("headers", OPT_MAP, struct http_opts, headers, 0, 0),
	OPT("valid_status_codes", OPT_UINTLIST, struct http_opts,
	    valid_status, 100, 599),
	OPT("fail_if_body_matches_regexp", OPT_REGEX, struct http_opts,
	    body_match, 0, 0),
	OPT("fail_if_body_not_matches_regexp", OPT_REGEX, struct http_opts,
	    body_nomatch, 0, 0),
	OPT("fail_if_header_matches", OPT_MAP, struct http_opts, hdr_match,
	    0, 0),
	OPT("fail_if_header_not_matches", OPT_MAP, struct http_opts,
	    hdr_nomatch, 0, 0),
	OPT("follow_redirects", OPT_BOOL, struct http_opts, follow, 0, 1),
	OPT("max_redirects", OPT_UINT, struct http_opts, max_redirects, 0,
	    20),
	OPT("tls_verify", OPT_BOOL, struct http_opts, tls_verify, 0, 1),
	OPT("tls_ca_file", OPT_STRING, struct http_opts, tls_ca_file, 0,
	    4096),
	OPT("tls_server_name", OPT_STRING, struct http_opts, tls_server_name,
	    0, 253),
	/* 0 to 10 years */
	OPT("fail_if_cert_expires_within", OPT_DURATION, struct http_opts,
	    cert_min_ms, 1, 3650ULL * 86400 * 1000),
	OPT("json_gauges", OPT_MAP, struct http_opts, json, 0, 0),
	OPT("max_body_bytes", OPT_UINT, struct http_opts, max_body, 1,
	    64 * 1024 * 1024),
};

static void
http_opts_default(void *p)
{
	struct http_opts	*o = p;

	o->method = M_GET;
	o->follow = 1;
	o->max_redirects = 10;
	o->tls_verify = 1;
	o->max_body = HTTP_DEFAULT_MAX_BODY;
}

static const char *
http_target_parse(const char *in, const void *opts, struct np_addr *addr,
    char *canon, size_t len)
{
	struct http_url	 u;
	const char	*why;

	if (http_url_parse(in, &u, &why) == -1)
		return (why);
	if (http_url_format(&u, canon, len) == -1)
		return ("the URL is too long for a target");
	*addr = u.addr;
	return (NULL);
}

/* A host name for SNI and verification: LDH labels (RFC 1123 §2.1). */
static int
dns_name_valid(const char *s)
{
	size_t	label = 0;
	int	alpha = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return (0);
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return (0);
		if (isalpha((unsigned char)*s))
			alpha = 1;
		if (++label > 63)
			return (0);
	}
	return (label > 0 && alpha);
}

static const char *
check_regex_map(const struct np_labels *m, char *buf, size_t len)
{
	regex_t	re;
	char	err[96];
	size_t	i;
	int	rc;

	for (i = 0; i < m->n; i++) {
		if (!http_token_valid(m->v[i].name)) {
			snprintf(buf, len, "\"%s\" is not a header field name",
			    m->v[i].name);
			return (buf);
		}
		if ((rc = regcomp(&re, m->v[i].value, REG_EXTENDED |
		    REG_NOSUB)) != 0) {
			regerror(rc, &re, err, sizeof(err));
			snprintf(buf, len, "invalid regular expression \"%s\" "
			    "for header %s: %s", m->v[i].value, m->v[i].name,
			    err);
			return (buf);
		}
		regfree(&re);
	}
	return (NULL);
}

static const char *
http_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct http_opts	*o = cfg->opts;
	const char		*n, *v;
	size_t			 i;

	if (o->body != NULL && o->method != M_POST) {
		*key = "body";
		return ("'body' needs method POST");
	}
	for (i = 0; i < o->headers.n; i++) {
		n = o->headers.v[i].name;
		v = o->headers.v[i].value;
		*key = "headers";
		if (!http_token_valid(n)) {
			snprintf(buf, len, "\"%s\" is not a header field name",
			    n);
			return (buf);
		}
		if (has_ctl(v)) {
			snprintf(buf, len, "the value of header %s has a "
			    "control character", n);
			return (buf);
		}
		if (strcasecmp(n, "Content-Length") == 0 ||
		    strcasecmp(n, "Transfer-Encoding") == 0) {
			snprintf(buf, len, "header %s is set by the probe", n);
			return (buf);
		}
	}
	*key = "fail_if_header_matches";
	if (check_regex_map(&o->hdr_match, buf, len) != NULL)
		return (buf);
	*key = "fail_if_header_not_matches";
	if (check_regex_map(&o->hdr_nomatch, buf, len) != NULL)
		return (buf);
	*key = "json_gauges";
	if (o->json.n > HTTP_MAX_JSON) {
		snprintf(buf, len, "at most %d json_gauges", HTTP_MAX_JSON);
		return (buf);
	}
	for (i = 0; i < o->json.n; i++) {
		if (!valid_label_name(o->json.v[i].name)) {
			snprintf(buf, len, "json_gauges key \"%s\" must be "
			    "letters, digits and '_', not starting with a "
			    "digit", o->json.v[i].name);
			return (buf);
		}
		if (!http_json_path_valid(o->json.v[i].value)) {
			snprintf(buf, len, "json_gauges path \"%s\" must be "
			    "1 to %d non-empty names or indexes joined by '.'",
			    o->json.v[i].value, HTTP_JSON_SEGS);
			return (buf);
		}
	}
	if (o->tls_server_name != NULL && !dns_name_valid(o->tls_server_name)) {
		*key = "tls_server_name";
		snprintf(buf, len, "tls_server_name \"%s\" is not a host name "
		    "(an IP target is verified by its address without it)",
		    o->tls_server_name);
		return (buf);
	}
	if (o->tls_ca_file != NULL && access(o->tls_ca_file, R_OK) == -1) {
		*key = "tls_ca_file";
		snprintf(buf, len, "cannot read tls_ca_file %s: %s",
		    o->tls_ca_file, strerror(errno));
		return (buf);
	}
	*key = NULL;
	return (NULL);
}

/* ==== TLS contexts: one per CA file, reloaded when the file changes == */

struct tls_ctx {
	char		*ca_file;	/* NULL: the system's trust store */
	struct stat	 st;
	SSL_CTX		*ctx;
	struct tls_ctx	*next;
};
static struct tls_ctx	*tls_ctxs;

static const char *
ssl_err_text(unsigned long e)
{
	const char	*r;

	if (e == 0)
		return ("unknown error");
	if ((r = ERR_reason_error_string(e)) != NULL)
		return (r);
	return ("unknown error");
}

static SSL_CTX *
tls_ctx_get(const char *ca_file, char *why, size_t whylen)
{
	struct tls_ctx	*t;
	struct stat	 st;
	SSL_CTX		*ctx;
	const char	*dir = NULL;

	memset(&st, 0, sizeof(st));
	if (ca_file != NULL && stat(ca_file, &st) == -1) {
		snprintf(why, whylen, "tls_ca_file %s: %s", ca_file,
		    strerror(errno));
		return (NULL);
	}
	for (t = tls_ctxs; t != NULL; t = t->next)
		if ((t->ca_file == NULL) == (ca_file == NULL) &&
		    (ca_file == NULL || strcmp(t->ca_file, ca_file) == 0))
			break;
	if (t != NULL && t->st.st_ino == st.st_ino && t->st.st_dev ==
	    st.st_dev && t->st.st_size == st.st_size &&
	    t->st.st_mtim.tv_sec == st.st_mtim.tv_sec &&
	    t->st.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
		return (t->ctx);

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(why, whylen, "SSL_CTX_new: %s",
		    ssl_err_text(ERR_get_error()));
		return (NULL);
	}
	/*
	 * The system store as the hashed directory, looked up per issuer
	 * during verification: loading the whole bundle file up front
	 * would hold the loop for tens of milliseconds.
	 */
	if (ca_file == NULL &&
	    (dir = getenv(X509_get_default_cert_dir_env())) == NULL)
		dir = X509_get_default_cert_dir();
	if ((ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file,
	    NULL) : SSL_CTX_load_verify_dir(ctx, dir)) != 1) {
		snprintf(why, whylen, "cannot load %s: %s", ca_file != NULL ?
		    ca_file : dir, ssl_err_text(ERR_get_error()));
		SSL_CTX_free(ctx);
		return (NULL);
	}
	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->ca_file = ca_file != NULL ? xstrdup(ca_file) : NULL;
		t->next = tls_ctxs;
		tls_ctxs = t;
	} else
		SSL_CTX_free(t->ctx);	/* runs using it hold a reference */
	t->ctx = ctx;
	t->st = st;
	log_debug("http: loaded %s", ca_file != NULL ? ca_file :
	    "the system CA store");
	return (ctx);
}

static void
http_shutdown(void)
{
	struct tls_ctx	*t, *n;

	for (t = tls_ctxs; t != NULL; t = n) {
		n = t->next;
		SSL_CTX_free(t->ctx);
		free(t->ca_file);
		free(t);
	}
	tls_ctxs = NULL;
}

/* ASN1_TIME as Unix time. */
static int
asn1_unix(const ASN1_TIME *a, double *out)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (a == NULL || ASN1_TIME_to_tm(a, &tm) != 1)
		return (-1);
	*out = (double)timegm(&tm);
	return (0);
}

/* The earliest notAfter in a chain; 0 if there is none. */
static int
chain_earliest(STACK_OF(X509) *chain, double *out)
{
	double	t;
	int	i, n = 0;

	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (asn1_unix(X509_get0_notAfter(sk_X509_value(chain, i)),
		    &t) == 0 && (n++ == 0 || t < *out))
			*out = t;
	return (n);
}

/* ==== runs =========================================================== */

enum { HP_RESOLVE, HP_CONNECT, HP_TLS, HP_PROCESSING, HP_TRANSFER,
    HP_MAX };
static const char *const phase_names[HP_MAX] = {
	"resolve", "connect", "tls", "processing", "transfer",
};

enum http_step { HS_CONNECT, HS_TLS, HS_WAIT, HS_HEAD, HS_BODY, HS_DONE };
enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

#define HTTP_MAX_INTERIM	8	/* 1xx responses before the final */

struct http_run {
	struct probe_run	*run;
	const struct http_opts	*o;
	struct http_url		 first;		/* the target */
	struct http_url		 url;		/* this hop */
	int			 method;	/* this hop's */
	int			 same_host;	/* this hop: the target's
						   host and port */
	enum http_step		 step;
	int			 fd;
	struct event		*cev;		/* connect */
	struct bufferevent	*bev;
	SSL			*ssl;		/* owned by bev */
	uint64_t		 t_hop, t_conn, t_tls, t_ready, t_first, t_end;
	uint64_t		 received;	/* non-zero: bytes came */
	struct http_head	 head;
	unsigned		 interim;
	int			 body_mode;
	uint64_t		 body_left;
	struct http_chunked	 chunk;
	char			*body;		/* kept when checked */
	size_t			 body_cap;
	int			 keep_body;

	/* what record() exports, from the last hop */
	double			 phase[HP_MAX];	/* summed over hops */
	unsigned		 redirects;
	int			 status;
	int			 minor;
	int64_t			 content_length;
	uint64_t		 body_len;
	int			 got_response;
	int			 tls;
	int			 regex_failed;
	int			 have_expiry, have_chain;
	double			 expiry, chain_expiry;
	const char		*tls_version;
	int			 have_json[HTTP_MAX_JSON];
	double			 json[HTTP_MAX_JSON];
};

static void	http_hop_start(struct http_run *);

static double
secs(uint64_t from, uint64_t to)
{
	return (to > from ? (double)(to - from) / 1e9 : 0);
}

static void
http_detail(struct http_run *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
http_detail(struct http_run *h, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(h->run->obs.detail, sizeof(h->run->obs.detail), fmt, ap);
	va_end(ap);
}

/* End the run; nothing of h may be touched after this. */
static void
http_end(struct http_run *h, enum probe_result r)
{
	probe_log(h->run, "result %s: %s", probe_result_name(r),
	    h->run->obs.detail);
	probe_done(h->run, r);
}

/* Tear down this hop's connection; `abort` resets it (no TIME_WAIT). */
static void
http_close(struct http_run *h, int abort)
{
	struct linger	l = { 1, 0 };
	int		fd;

	if (h->cev != NULL) {
		event_free(h->cev);
		h->cev = NULL;
	}
	if (h->bev != NULL) {
		fd = (int)bufferevent_getfd(h->bev);
		if (abort && fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		else if (h->ssl != NULL && h->step == HS_DONE)
			SSL_shutdown(h->ssl);	/* close_notify, once */
		bufferevent_free(h->bev);	/* closes fd, frees ssl */
		h->bev = NULL;
		h->ssl = NULL;
	}
	if (h->fd >= 0) {
		if (abort)
			setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &l,
			    sizeof(l));
		close(h->fd);
		h->fd = -1;
	}
	http_head_free(&h->head);
}

static void
http_finish(struct probe_run *run, int timed_out)
{
	struct http_run	*h = run->state;

	if (h->run == NULL)
		return;		/* start() never got going */
	if (timed_out) {
		switch (h->step) {
		case HS_CONNECT:
			http_detail(h, "timeout while connecting to %s",
			    h->url.host);
			break;
		case HS_TLS:
			http_detail(h, "timeout in the TLS handshake");
			break;
		case HS_WAIT:
		case HS_HEAD:
			http_detail(h, "timeout waiting for the response%s",
			    h->received ? " header" : "");
			break;
		case HS_BODY:
			http_detail(h, "timeout reading the body (%llu bytes "
			    "so far)", (unsigned long long)h->body_len);
			break;
		case HS_DONE:
			break;
		}
		probe_log(run, "deadline: %s", run->obs.detail);
	}
	http_close(h, h->step != HS_DONE);
	free(h->body);
	h->body = NULL;
}

/* Keep body bytes (bounded); -1 when over max_body_bytes. */
static int
body_add(struct http_run *h, const char *p, size_t n)
{
	if (h->body_len + n > h->o->max_body) {
		http_detail(h, "body larger than max_body_bytes (%llu)",
		    (unsigned long long)h->o->max_body);
		return (-1);
	}
	if (h->keep_body) {
		if (h->body_len + n + 1 > h->body_cap) {
			h->body_cap = (h->body_len + n + 1) * 2;
			if (h->body_cap > h->o->max_body + 1)
				h->body_cap = h->o->max_body + 1;
			h->body = xreallocarray(h->body, 1, h->body_cap);
		}
		memcpy(h->body + h->body_len, p, n);
		h->body[h->body_len + n] = '\0';
	}
	h->body_len += n;
	return (0);
}

static int
status_valid(const struct http_opts *o, int status)
{
	size_t	i;

	if (o->valid_status.n == 0)
		return (status >= 200 && status <= 299);
	for (i = 0; i < o->valid_status.n; i++)
		if (o->valid_status.v[i] == (uint64_t)status)
			return (1);
	return (0);
}

/* Header expectations; 0, or -1 with the detail set. */
static int
check_headers(struct http_run *h)
{
	const struct np_labels	*m;
	const char		*v;
	regex_t			 re;
	size_t			 i, pos;
	int			 k, hit, seen;

	for (k = 0; k < 2; k++) {
		m = k == 0 ? &h->o->hdr_match : &h->o->hdr_nomatch;
		for (i = 0; i < m->n; i++) {
			if (regcomp(&re, m->v[i].value, REG_EXTENDED |
			    REG_NOSUB) != 0)
				continue;	/* check() compiled it */
			hit = seen = 0;
			for (pos = 0; (v = http_head_get(&h->head,
			    m->v[i].name, &pos)) != NULL; seen++)
				if (regexec(&re, v, 0, NULL, 0) == 0)
					hit = 1;
			regfree(&re);
			if (k == 0 && hit) {
				http_detail(h, "header %s matches /%s/",
				    m->v[i].name, m->v[i].value);
				return (-1);
			}
			if (k == 1 && !seen) {
				http_detail(h, "no header %s", m->v[i].name);
				return (-1);
			}
			if (k == 1 && !hit) {
				http_detail(h, "header %s does not match /%s/",
				    m->v[i].name, m->v[i].value);
				return (-1);
			}
		}
	}
	return (0);
}

/* The final response is in: judge it and end the run. */
static void
http_judge(struct http_run *h)
{
	const struct http_opts	*o = h->o;
	const char		*why, *body = h->body != NULL ? h->body : "";
	enum probe_result	 r = PR_BAD_RESPONSE;
	double			 left;
	size_t			 i;

	if (!status_valid(o, h->status)) {
		http_detail(h, "status %d not in %s", h->status,
		    o->valid_status.n ? "valid_status_codes" : "2xx");
		goto out;
	}
	if (check_headers(h) == -1) {
		h->regex_failed = 1;
		goto out;
	}
	if (o->body_match != NULL && np_regex_match(o->body_match, body)) {
		h->regex_failed = 1;
		http_detail(h, "body matches /%s/", o->body_match->src);
		goto out;
	}
	if (o->body_nomatch != NULL && !np_regex_match(o->body_nomatch,
	    body)) {
		h->regex_failed = 1;
		http_detail(h, "body does not match /%s/",
		    o->body_nomatch->src);
		goto out;
	}
	for (i = 0; i < o->json.n; i++) {
		if (http_json_number(h->body != NULL ? h->body : "",
		    (size_t)h->body_len, o->json.v[i].value, &h->json[i],
		    &why) == -1) {
			http_detail(h, "json %s (%s): %s", o->json.v[i].name,
			    o->json.v[i].value, why);
			/* the keys before it keep their values */
			goto out;
		}
		h->have_json[i] = 1;
		probe_log(h->run, "json %s (%s) = %.17g", o->json.v[i].name,
		    o->json.v[i].value, h->json[i]);
	}
	if (o->cert_min_ms != 0 && h->tls && h->have_expiry) {
		left = h->expiry - (double)now_wall_ns() / 1e9;
		if (left * 1000 < (double)o->cert_min_ms) {
			if (left <= 0)
				http_detail(h, "a certificate expired %.1f "
				    "days ago", -left / 86400);
			else
				http_detail(h, "a certificate expires in "
				    "%.1f days", left / 86400);
			goto out;
		}
	}
	r = PR_SUCCESS;
	if (h->redirects)
		http_detail(h, "status %d, %llu bytes, %u redirect%s",
		    h->status, (unsigned long long)h->body_len, h->redirects,
		    h->redirects == 1 ? "" : "s");
	else
		http_detail(h, "status %d, %llu bytes", h->status,
		    (unsigned long long)h->body_len);
out:
	http_end(h, r);
}

static int
is_redirect(int status)
{
	return (status == 301 || status == 302 || status == 303 ||
	    status == 307 || status == 308);
}

/* A complete response on this hop: follow it or judge it. */
static void
http_response_done(struct http_run *h)
{
	struct http_url	 next;
	const char	*loc, *why;
	char		 text[HTTP_PATH_MAX + 64];
	size_t		 pos = 0;

	h->step = HS_DONE;
	h->t_end = now_mono_ns();
	h->phase[HP_TRANSFER] += secs(h->t_first, h->t_end);
	probe_log(h->run, "response complete: %llu body bytes",
	    (unsigned long long)h->body_len);
	if (!h->o->follow || !is_redirect(h->status) ||
	    (loc = http_head_get(&h->head, "Location", &pos)) == NULL) {
		http_judge(h);
		return;
	}
	if (h->redirects >= h->o->max_redirects) {
		http_detail(h, "more than %u redirects",
		    (unsigned)h->o->max_redirects);
		http_end(h, PR_BAD_RESPONSE);
		return;
	}
	if (http_url_resolve(&h->url, loc, &next, &why) == -1) {
		if (why == url_err_name)
			http_detail(h, "redirect to a host name not followed "
			    "(names are never resolved): %s", loc);
		else
			http_detail(h, "redirect to %.40s not followed: %s",
			    loc, why);
		http_end(h, PR_BAD_RESPONSE);
		return;
	}
	h->redirects++;
	http_url_format(&next, text, sizeof(text));
	probe_log(h->run, "redirect %d to %s", h->status, text);
	/* RFC 9110 §15.4: 303 asks for GET; so do 301/302 after POST */
	if (h->method != M_HEAD && (h->status == 303 || ((h->status == 301 ||
	    h->status == 302) && h->method == M_POST)))
		h->method = M_GET;
	http_close(h, 0);
	h->url = next;
	http_hop_start(h);
}

/* Framing of the body after a final head (RFC 9112 §6.3); -1: too big. */
static int
http_body_begin(struct http_run *h)
{
	h->body_len = 0;
	h->chunk.state = 0;
	if (h->method == M_HEAD || h->status == 204 || h->status == 304)
		h->body_mode = BODY_NONE;
	else if (h->head.chunked)
		h->body_mode = BODY_CHUNKED;
	else if (h->head.other_coding)
		h->body_mode = BODY_CLOSE;
	else if (h->head.content_length >= 0) {
		h->body_mode = h->head.content_length ? BODY_LENGTH :
		    BODY_NONE;
		h->body_left = (uint64_t)h->head.content_length;
		if (h->body_left > h->o->max_body) {
			http_detail(h, "Content-Length %llu is larger than "
			    "max_body_bytes (%llu)", (unsigned long long)
			    h->body_left, (unsigned long long)h->o->max_body);
			return (-1);
		}
	} else
		h->body_mode = BODY_CLOSE;
	h->step = HS_BODY;
	return (0);
}

/* Parse what has arrived; 1 when the run ended (h is gone). */
static int
http_consume(struct http_run *h, struct evbuffer *in)
{
	const char	*why, *p;
	size_t		 avail, n, used, data;
	int		 rc;

	while ((avail = evbuffer_get_length(in)) > 0 && h->step == HS_HEAD) {
		n = avail < HTTP_HEAD_MAX ? avail : HTTP_HEAD_MAX;
		p = (const char *)evbuffer_pullup(in, (ssize_t)n);
		if (strncmp(p, "HTTP/", n < 5 ? n : 5) != 0) {
			http_detail(h, "not an HTTP response");
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
		if ((n = http_head_end(p, n)) == 0) {
			if (avail < HTTP_HEAD_MAX)
				return (0);
			http_detail(h, "response header longer than %d bytes",
			    HTTP_HEAD_MAX);
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
		http_head_free(&h->head);
		if (http_head_parse(p, n, &h->head, &why) == -1) {
			http_detail(h, "malformed response: %s", why);
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
		evbuffer_drain(in, n);
		probe_log(h->run, "HTTP/1.%d %d, %zu header fields%s%s",
		    h->head.minor, h->head.status, h->head.nf,
		    h->head.chunked ? ", chunked" : "",
		    h->head.content_length >= 0 ? ", Content-Length" : "");
		if (h->head.status == 101) {
			http_detail(h, "unexpected 101 Switching Protocols");
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
		if (h->head.status < 200) {	/* interim (RFC 9110 §15.2) */
			if (++h->interim > HTTP_MAX_INTERIM) {
				http_detail(h, "more than %d interim "
				    "responses", HTTP_MAX_INTERIM);
				http_end(h, PR_BAD_RESPONSE);
				return (1);
			}
			continue;
		}
		h->got_response = 1;
		h->status = h->head.status;
		h->minor = h->head.minor;
		h->content_length = h->head.content_length;
		if (http_body_begin(h) == -1) {
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
	}
	if (h->step != HS_BODY)
		return (0);
	while (h->body_mode == BODY_CHUNKED &&
	    (avail = evbuffer_get_length(in)) > 0) {
		n = avail < 16384 ? avail : 16384;
		p = (const char *)evbuffer_pullup(in, (ssize_t)n);
		rc = http_chunked_step(&h->chunk, p, n, &used, &data, &why);
		if (rc == -1) {
			http_detail(h, "malformed chunked body: %s", why);
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
		if (data > 0 && body_add(h, p, data) == -1) {
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
		evbuffer_drain(in, used);
		if (rc == 1) {
			h->body_mode = BODY_NONE;
			break;
		}
		if (used == 0)
			return (0);
	}
	while ((h->body_mode == BODY_LENGTH || h->body_mode == BODY_CLOSE) &&
	    (avail = evbuffer_get_length(in)) > 0) {
		n = avail < 16384 ? avail : 16384;
		if (h->body_mode == BODY_LENGTH && n > h->body_left)
			n = (size_t)h->body_left;
		p = (const char *)evbuffer_pullup(in, (ssize_t)n);
		if (body_add(h, p, n) == -1) {
			http_end(h, PR_BAD_RESPONSE);
			return (1);
		}
		evbuffer_drain(in, n);
		if (h->body_mode == BODY_LENGTH && (h->body_left -= n) == 0)
			h->body_mode = BODY_NONE;
	}
	if (h->body_mode == BODY_NONE) {
		if (evbuffer_get_length(in) > 0)
			probe_log(h->run, "%zu bytes after the response "
			    "ignored", evbuffer_get_length(in));
		http_response_done(h);
		return (1);
	}
	return (0);
}

static void
http_read(struct bufferevent *bev, void *arg)
{
	struct http_run	*h = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (h->step == HS_DONE)
		return;
	if (h->step == HS_WAIT) {
		h->t_first = now_mono_ns();
		h->phase[HP_PROCESSING] += secs(h->t_ready, h->t_first);
		h->step = HS_HEAD;
		probe_log(h->run, "first response byte");
	}
	h->received += evbuffer_get_length(in);
	http_consume(h, in);
}

static void
http_send(struct http_run *h)
{
	const char	*body = NULL;
	char		*req;
	size_t		 len;

	/* RFC 9110 §8.6: a POST says Content-Length, 0 without a body */
	if (h->method == M_POST)
		body = h->o->body != NULL ? h->o->body : "";
	req = http_request_build(http_methods[h->method], &h->url,
	    &h->o->headers, h->same_host, body, &len);
	h->t_ready = now_mono_ns();
	h->step = HS_WAIT;
	probe_log(h->run, "send %s %s HTTP/1.1 to %s:%d, %zu bytes",
	    http_methods[h->method], h->url.path, h->url.host, h->url.port,
	    len);
	if (bufferevent_write(h->bev, req, len) == -1)
		fatalx("http: bufferevent_write failed");
	free(req);
}

static void
http_tls_done(struct http_run *h)
{
	STACK_OF(X509)	*chain;
	long		 vr;
	int		 v;

	h->t_ready = now_mono_ns();
	h->phase[HP_TLS] += secs(h->t_tls, h->t_ready);
	h->tls = 1;
	v = SSL_version(h->ssl);
	h->tls_version = v == TLS1_3_VERSION ? "TLS 1.3" :
	    v == TLS1_2_VERSION ? "TLS 1.2" : v == TLS1_1_VERSION ?
	    "TLS 1.1" : v == TLS1_VERSION ? "TLS 1.0" : "unknown";
	chain = SSL_get_peer_cert_chain(h->ssl);
	h->have_expiry = chain_earliest(chain, &h->expiry);
	vr = SSL_get_verify_result(h->ssl);
	h->have_chain = vr == X509_V_OK && chain_earliest(
	    SSL_get0_verified_chain(h->ssl), &h->chain_expiry);
	probe_log(h->run, "TLS handshake done: %s %s, chain of %d, "
	    "earliest notAfter %.0f, verify: %s", h->tls_version,
	    SSL_get_cipher_name(h->ssl), chain ? sk_X509_num(chain) : 0,
	    h->have_expiry ? h->expiry : 0, X509_verify_cert_error_string(vr));
	if (h->o->tls_verify && vr != X509_V_OK) {
		/* nothing is sent to a peer that failed verification */
		http_detail(h, "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
		http_end(h, PR_BAD_RESPONSE);
		return;
	}
	http_send(h);
}

static void
http_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_run	*h = arg;
	unsigned long	 e;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		http_tls_done(h);
		return;
	}
	if (h->step == HS_DONE)
		return;
	if (what & BEV_EVENT_EOF) {
		if (h->step == HS_BODY && h->body_mode == BODY_CLOSE) {
			http_response_done(h);
			return;
		}
		if (h->step == HS_TLS)
			http_detail(h, "connection closed in the TLS "
			    "handshake");
		else if (h->step == HS_BODY && h->body_mode == BODY_LENGTH)
			http_detail(h, "connection closed after %llu of %lld "
			    "body bytes", (unsigned long long)h->body_len,
			    (long long)h->content_length);
		else if (h->step == HS_BODY)
			http_detail(h, "connection closed inside the chunked "
			    "body");
		else if (h->received == 0)
			http_detail(h, "connection closed without a response");
		else
			http_detail(h, "connection closed inside the response "
			    "header");
		http_end(h, PR_BAD_RESPONSE);
		return;
	}
	if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		http_detail(h, "TLS %s: %s", h->step == HS_TLS ?
		    "handshake failed" : "error", ssl_err_text(e));
		while (bufferevent_get_openssl_error(bev) != 0)
			;
		http_end(h, PR_BAD_RESPONSE);
		return;
	}
	if (h->step == HS_TLS && err == 0) {
		http_detail(h, "TLS handshake failed");
		http_end(h, PR_BAD_RESPONSE);
		return;
	}
	http_detail(h, "%s", strerror(err ? err : EIO));
	/* a reset after the connection was up is the peer's answer */
	http_end(h, err == ECONNRESET || err == EPIPE ? PR_BAD_RESPONSE :
	    probe_errno_result(err));
}

/* TCP is up: start TLS, or send the request. */
static void
http_connected(struct http_run *h)
{
	SSL_CTX		*ctx;
	const char	*sni;
	char		 why[96];

	h->t_conn = now_mono_ns();
	h->run->obs.connected = 1;
	h->phase[HP_CONNECT] += secs(h->t_hop, h->t_conn);
	probe_log(h->run, "connected to %s:%d", h->url.host, h->url.port);
	if (!h->url.tls) {
		h->bev = bufferevent_socket_new(h->run->base, h->fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (h->bev == NULL)
			fatalx("http: bufferevent_socket_new failed");
		h->fd = -1;
		bufferevent_setcb(h->bev, http_read, NULL, http_event, h);
		bufferevent_enable(h->bev, EV_READ | EV_WRITE);
		h->t_ready = h->t_conn;
		http_send(h);
		return;
	}
	if ((ctx = tls_ctx_get(h->o->tls_ca_file, why, sizeof(why))) == NULL) {
		http_detail(h, "%s", why);
		http_end(h, PR_ERROR);
		return;
	}
	if ((h->ssl = SSL_new(ctx)) == NULL)
		fatalx("http: SSL_new failed");
	/*
	 * The configured name (SNI, RFC 6066 §3, and the name to verify)
	 * applies while we talk to the target's own host; elsewhere, and
	 * without one, the certificate must name the IP address.
	 */
	sni = h->same_host ? h->o->tls_server_name : NULL;
	if (sni != NULL) {
		SSL_set_tlsext_host_name(h->ssl, sni);
		X509_VERIFY_PARAM_set1_host(SSL_get0_param(h->ssl), sni, 0);
	} else
		X509_VERIFY_PARAM_set1_ip(SSL_get0_param(h->ssl),
		    h->url.addr.ss.ss_family == AF_INET ?
		    (const unsigned char *)&((struct sockaddr_in *)
		    &h->url.addr.ss)->sin_addr :
		    (const unsigned char *)&((struct sockaddr_in6 *)
		    &h->url.addr.ss)->sin6_addr,
		    h->url.addr.ss.ss_family == AF_INET ? 4 : 16);
	/* verify, but decide ourselves after the handshake (see above) */
	SSL_set_verify(h->ssl, SSL_VERIFY_NONE, NULL);
	h->step = HS_TLS;
	/* the phase is the handshake, not our setup (CA file loading) */
	h->t_tls = now_mono_ns();
	h->bev = bufferevent_openssl_socket_new(h->run->base, h->fd, h->ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (h->bev == NULL)
		fatalx("http: bufferevent_openssl_socket_new failed");
	h->fd = -1;
	bufferevent_openssl_set_allow_dirty_shutdown(h->bev, 1);
	/*
	 * No write callback: with one, libevent 2.1.12's openssl
	 * bufferevent leaks itself when freed from its read callback
	 * (valgrind shows it; libevent issue #228 is the same kind).
	 */
	bufferevent_setcb(h->bev, http_read, NULL, http_event, h);
	bufferevent_enable(h->bev, EV_READ | EV_WRITE);
	probe_log(h->run, "TLS handshake%s%s", sni ? ", SNI " : "",
	    sni ? sni : "");
}

static void
http_connect_done(evutil_socket_t fd, short ev, void *arg)
{
	struct http_run	*h = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	event_free(h->cev);
	h->cev = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		http_detail(h, "%s", strerror(err));
		http_end(h, probe_errno_result(err));
		return;
	}
	http_connected(h);
}

static void
http_hop_start(struct http_run *h)
{
	const struct probe_net	*net = &h->run->cfg->net;
	const struct sockaddr	*sa = (const struct sockaddr *)&h->url.addr.ss;

	h->step = HS_CONNECT;
	h->t_hop = now_mono_ns();
	h->t_conn = h->t_tls = h->t_ready = h->t_first = h->t_end = 0;
	h->received = h->body_len = 0;
	h->interim = 0;
	h->got_response = 0;
	h->tls = 0;
	h->have_expiry = h->have_chain = 0;
	h->tls_version = NULL;
	h->same_host = h->url.port == h->first.port &&
	    strcmp(h->url.host, h->first.host) == 0;
	if (net->source.ss.ss_family != 0 &&
	    net->source.ss.ss_family != sa->sa_family) {
		http_detail(h, "redirect to %s, not of the source address's "
		    "family", h->url.host);
		http_end(h, PR_ERROR);
		return;
	}
	if ((h->fd = probe_socket(h->run, sa->sa_family, SOCK_STREAM, 0)) ==
	    -1) {
		http_end(h, PR_ERROR);
		return;
	}
	probe_log(h->run, "connect to %s:%d", h->url.host, h->url.port);
	if (connect(h->fd, sa, h->url.addr.len) == 0) {
		http_connected(h);
		return;
	}
	if (errno != EINPROGRESS) {
		http_detail(h, "%s", strerror(errno));
		http_end(h, probe_errno_result(errno));
		return;
	}
	h->cev = event_new(h->run->base, h->fd, EV_WRITE, http_connect_done,
	    h);
	if (h->cev == NULL || event_add(h->cev, NULL) == -1)
		fatalx("http: cannot add connect event");
}

static void
http_start(struct probe_run *run)
{
	struct http_run	*h = run->state;
	const char	*why;

	h->run = run;
	h->o = run->cfg->opts;
	h->fd = -1;
	h->content_length = -1;
	h->head.content_length = -1;
	h->method = h->o->method;
	h->keep_body = h->o->body_match != NULL || h->o->body_nomatch !=
	    NULL || h->o->json.n > 0;
	if (http_url_parse(run->cfg->targets[run->target], &h->first,
	    &why) == -1) {
		http_detail(h, "%s", why);
		http_end(h, PR_ERROR);
		return;
	}
	h->url = h->first;
	http_hop_start(h);
}

/* ==== series ========================================================= */

enum { X_PHASE, X_STATUS = X_PHASE + HP_MAX, X_CLEN, X_BODYLEN,
    X_REDIRECTS, X_SSL, X_VERSION, X_REGEX, X_EXPIRY, X_CHAIN, X_TLSVER,
    X_JSON, X_NUM = X_JSON + HTTP_MAX_JSON };
_Static_assert(X_NUM <= TS_MAX_EXTRA, "too many series");

#define GAUGE(st, name, help) \
	store_family((st), (name), (help), METRIC_GAUGE, NULL, 0)

/*
 * The json_gauges series, in the order of the options.  A reload keeps
 * a target's series when its identity is unchanged, but json_gauges may
 * have changed: series of keys that went away are released, new ones
 * made (and one whose key moved is kept, not released).
 */
static void
http_json_series(struct target_state *ts, const struct http_opts *o)
{
	struct series	*now[HTTP_MAX_JSON] = { NULL };
	struct family	*f;
	size_t		 i, k;

	f = GAUGE(ts->store, "netprobe_http_json_value", "Number read from "
	    "the JSON body of the last response (json_gauges).");
	for (i = 0; i < o->json.n && i < HTTP_MAX_JSON; i++)
		now[i] = target_series(ts, f, "key", o->json.v[i].name, NULL);
	for (i = 0; i < HTTP_MAX_JSON; i++) {
		for (k = 0; k < HTTP_MAX_JSON; k++)
			if (now[k] == ts->extra[X_JSON + i])
				break;
		if (k == HTTP_MAX_JSON)
			store_release(ts->store, ts->extra[X_JSON + i]);
	}
	for (i = 0; i < HTTP_MAX_JSON; i++)
		ts->extra[X_JSON + i] = now[i];
}

static void
http_attach(struct target_state *ts)
{
	const struct http_opts	*o = ts->cfg->opts;
	struct store		*st = ts->store;
	struct family		*f;
	size_t			 i;

	f = GAUGE(st, "probe_http_duration_seconds", "Duration of the last "
	    "http run by phase, summed over redirects, in seconds.");
	for (i = 0; i < HP_MAX; i++)
		ts->extra[X_PHASE + i] = target_series(ts, f, "phase",
		    phase_names[i], NULL);
	ts->extra[X_STATUS] = target_series(ts, GAUGE(st,
	    "probe_http_status_code", "Status code of the last response "
	    "(0: none)."), NULL);
	ts->extra[X_CLEN] = target_series(ts, GAUGE(st,
	    "probe_http_content_length", "Content-Length of the last "
	    "response (-1: none given)."), NULL);
	ts->extra[X_BODYLEN] = target_series(ts, GAUGE(st,
	    "probe_http_uncompressed_body_length", "Body bytes of the last "
	    "response, after transfer decoding."), NULL);
	ts->extra[X_REDIRECTS] = target_series(ts, GAUGE(st,
	    "probe_http_redirects", "Redirects followed in the last run."),
	    NULL);
	ts->extra[X_SSL] = target_series(ts, GAUGE(st, "probe_http_ssl",
	    "Whether the last response came over TLS (1) or not (0)."), NULL);
	ts->extra[X_VERSION] = target_series(ts, GAUGE(st,
	    "probe_http_version", "HTTP version of the last response (0: "
	    "none)."), NULL);
	ts->extra[X_REGEX] = target_series(ts, GAUGE(st,
	    "probe_failed_due_to_regex", "Whether the last run failed "
	    "because of a body or header regular expression."), NULL);
	ts->extra[X_EXPIRY] = target_series(ts, GAUGE(st,
	    "probe_ssl_earliest_cert_expiry", "Earliest notAfter in the "
	    "certificate chain the server sent, in Unix time."), NULL);
	ts->extra[X_CHAIN] = target_series(ts, GAUGE(st,
	    "probe_ssl_last_chain_expiry_timestamp_seconds", "Earliest "
	    "notAfter in the verified chain, in Unix time."), NULL);
	http_json_series(ts, o);
}

static void
http_record(struct target_state *ts, const struct probe_run *run)
{
	const struct http_run	*h = run->state;
	const struct http_opts	*o = ts->cfg->opts;
	struct series		*s;
	size_t			 i;

	if (h->run == NULL)
		return;
	for (i = 0; i < HP_MAX; i++)
		series_set(ts->extra[X_PHASE + i], h->phase[i]);
	series_set(ts->extra[X_STATUS], h->got_response ? h->status : 0);
	series_set(ts->extra[X_CLEN], h->got_response ?
	    (double)h->content_length : 0);
	series_set(ts->extra[X_BODYLEN], (double)h->body_len);
	series_set(ts->extra[X_REDIRECTS], h->redirects);
	series_set(ts->extra[X_SSL], h->tls && h->got_response);
	series_set(ts->extra[X_VERSION], h->got_response ? 1 + h->minor /
	    10.0 : 0);
	series_set(ts->extra[X_REGEX], h->regex_failed);
	if (h->have_expiry)
		series_set(ts->extra[X_EXPIRY], h->expiry);
	else
		series_unset(ts->extra[X_EXPIRY]);
	if (h->have_chain)
		series_set(ts->extra[X_CHAIN], h->chain_expiry);
	else
		series_unset(ts->extra[X_CHAIN]);
	if (h->tls_version != NULL) {
		s = target_series(ts, GAUGE(ts->store, "probe_tls_version_info",
		    "TLS version of the last connection, as the label."),
		    "version", h->tls_version, NULL);
		if (s != ts->extra[X_TLSVER])
			store_release(ts->store, ts->extra[X_TLSVER]);
		ts->extra[X_TLSVER] = s;
		series_set(s, 1);
	} else if (ts->extra[X_TLSVER] != NULL) {
		store_release(ts->store, ts->extra[X_TLSVER]);
		ts->extra[X_TLSVER] = NULL;
	}
	http_json_series(ts, o);
	for (i = 0; i < o->json.n && i < HTTP_MAX_JSON; i++)
		if (h->have_json[i])
			series_set(ts->extra[X_JSON + i], h->json[i]);
		else
			series_unset(ts->extra[X_JSON + i]);
}

const struct probe_type probe_type_http = {
	.name = "http",
	.target_parse = http_target_parse,
	.opts = http_opt_defs,
	.nopts = NP_NELEM(http_opt_defs),
	.opts_size = sizeof(struct http_opts),
	.opts_default = http_opts_default,
	.check = http_check,
	.state_size = sizeof(struct http_run),
	.nextra = X_NUM,
	.start = http_start,
	.finish = http_finish,
	.attach = http_attach,
	.record = http_record,
	.success_word = "success",
	.shutdown = http_shutdown,
};
