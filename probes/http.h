/*
 * The pure parts of the http probe: URLs with IP-literal hosts, the
 * request text, response heads, the chunked transfer coding and a
 * strict JSON reader for one number.  No I/O, no clock, no libevent:
 * everything here is unit-tested and can be fuzzed.
 *
 * Every parser takes a length and never reads past it; a malformed,
 * truncated or hostile input gives -1 and a static reason in *why.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"

#define HTTP_PATH_MAX		2048	/* origin-form path and query */
#define HTTP_HEAD_MAX		16384	/* status line and header fields */
#define HTTP_MAX_FIELDS		100	/* header fields in one response */
#define HTTP_LINE_MAX		4096	/* chunk-size and trailer lines */
#define HTTP_JSON_DEPTH		64	/* nesting of arrays and objects */
#define HTTP_JSON_SEGS		16	/* segments of a JSON path */

/* An http or https URL whose host is an IP literal. */
struct http_url {
	int		 tls;			/* https */
	struct np_addr	 addr;			/* address and port */
	char		 host[NP_ADDRSTRLEN];	/* "127.0.0.1", "[::1]" */
	int		 port;			/* always set */
	char		 path[HTTP_PATH_MAX];	/* "/" path ["?" query] */
};

/*
 * Parse an absolute URL: scheme http or https (any case), a host that is
 * an IPv4 literal or a bracketed IPv6 literal (RFC 3986 §3.2.2; names
 * are never resolved), an optional port (default 80 or 443), a path
 * (default "/") and query.  A fragment is dropped (never sent); user
 * info, zone ids, spaces, controls and non-ASCII bytes are refused.
 * Returns 0, or -1 with a static reason in *why.
 */
int		 http_url_parse(const char *in, struct http_url *,
		    const char **why);

/*
 * The canonical text of a URL: lower-case scheme, the address as
 * inet_ntop() writes it, the port only when it is not the scheme's
 * default.  Returns the length, or -1 if it does not fit in len bytes
 * (the buffer then holds a truncated, NUL-terminated string).
 */
int		 http_url_format(const struct http_url *, char *, size_t len);

/*
 * "127.0.0.1:8080", "[::1]:8443", or the bare host for the scheme's
 * default port: the Host header (RFC 9110 §7.2).
 */
void		 http_url_authority(const struct http_url *, char *,
		    size_t);

/*
 * Resolve a Location value against the URL it came from (RFC 3986 §5.2,
 * with dot-segment removal).  The result must again be an http(s) URL
 * with an IP-literal host.  Returns 0, or -1 with a static reason.
 */
int		 http_url_resolve(const struct http_url *base, const char *ref,
		    struct http_url *out, const char **why);

/*
 * Build an HTTP/1.1 request (RFC 9112 §3): request line in origin-form,
 * Host (the URL's authority unless `headers` has one and use_host is
 * set), User-Agent, Accept and Connection: close unless `headers`
 * overrides them, then the configured headers, and Content-Length plus
 * the body when body is not NULL.  Returns a buffer the caller frees,
 * with its length in *lenp.  Never fails (aborts on OOM).
 */
char		*http_request_build(const char *method,
		    const struct http_url *, const struct np_labels *headers,
		    int use_host, const char *body, size_t *lenp);

/* One response header field; both strings point into http_head.raw. */
struct http_field {
	const char	*name;
	const char	*value;		/* without leading/trailing OWS */
};

struct http_head {
	int		 minor;			/* HTTP/1.<minor> */
	int		 status;		/* 100 to 599 */
	char		*raw;			/* owned copy of the head */
	struct http_field f[HTTP_MAX_FIELDS];
	size_t		 nf;
	int64_t		 content_length;	/* -1: none */
	int		 chunked;		/* chunked is the last coding */
	int		 other_coding;		/* another coding is last */
};

/*
 * Length of the response head at the start of buf (status line through
 * the empty line, CRLF or bare LF line ends, RFC 9112 §2.2), or 0 while
 * the empty line has not arrived.
 */
size_t		 http_head_end(const char *buf, size_t len);

/*
 * Parse a complete head of len bytes (as http_head_end() measured it):
 * the status line (RFC 9112 §4), header fields (§5, obs-fold replaced by
 * a space), Content-Length (identical duplicates allowed, §6.3) and
 * Transfer-Encoding.  Returns 0 and fills *h, which the caller releases
 * with http_head_free(), or -1 with a static reason (and *h empty).
 */
int		 http_head_parse(const char *buf, size_t len,
		    struct http_head *h, const char **why);
void		 http_head_free(struct http_head *);

/*
 * The next field named `name` (case-insensitive) at or after index *pos;
 * *pos is moved past it.  NULL when there is none.
 */
const char	*http_head_get(const struct http_head *, const char *name,
		    size_t *pos);

/* Decoder state for the chunked transfer coding; zero it to start. */
struct http_chunked {
	int		 state;
	uint64_t	 left;			/* chunk data still to come */
};

/*
 * One step of chunked decoding (RFC 9112 §7.1) over in[0..len): a
 * chunk-size line, chunk data, the CRLF after it, or a trailer line.
 * Sets *used to the bytes consumed (0: more input needed) and *data to
 * how many of them, from in[0], are body data.  Chunk extensions and
 * trailer fields are checked and dropped.  Returns 1 after the last
 * chunk and trailers, 0 to go on, -1 with a static reason.
 */
int		 http_chunked_step(struct http_chunked *, const char *in,
		    size_t len, size_t *used, size_t *data, const char **why);

/* Is name a token (RFC 9110 §5.6.2), usable as a field name? */
int		 http_token_valid(const char *name);

/*
 * Is a JSON path usable: 1 to HTTP_JSON_SEGS non-empty segments joined
 * by '.', at most 255 bytes, no controls?
 */
int		 http_json_path_valid(const char *path);

/*
 * The number at a dotted path in a JSON text (RFC 8259): "count",
 * "data.online_count", "items.0.value" (a segment of digits indexes an
 * array).  The whole text must be valid JSON (nesting at most
 * HTTP_JSON_DEPTH); for duplicate names the last one wins.  true and
 * false read as 1 and 0.  Returns 0 and *out, or -1 with a static
 * reason: invalid JSON, not found, or not a number.
 */
int		 http_json_number(const char *text, size_t len,
		    const char *path, double *out, const char **why);

#endif /* HTTP_H */
