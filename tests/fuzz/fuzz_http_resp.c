/*
 * libFuzzer target: HTTP responses as the http probe reads them
 * (probes/http.h, the pure parsers under http_consume() in
 * probes/http.c): heads (interim ones skipped), the body framing, the
 * chunked coding fed both at once and as it might trickle in, a
 * Location resolved against the request URL, and the JSON number a
 * json_path check reads from the body.
 */
#include "config.h"

#include "probes/http.h"
#include "tests/fuzz/fuzz.h"

#define MAX_BODY	65536
#define MAX_INTERIM	8

/* Decode a chunked body; window > 0: at most that many bytes are
 * visible at first, 7 more each time the decoder asks for more. */
static void
chunked(const char *p, size_t len, size_t window, char *body,
    size_t *blen)
{
	struct http_chunked	 c;
	const char		*why;
	size_t			 off = 0, used, data, n;
	int			 rc;

	memset(&c, 0, sizeof(c));
	*blen = 0;
	while (off < len) {
		n = len - off;
		if (window > 0 && n > window)
			n = window;
		rc = http_chunked_step(&c, p + off, n, &used, &data, &why);
		if (rc == -1 || used > n || data > used)
			break;
		if (data > 0 && *blen + data <= MAX_BODY) {
			memcpy(body + *blen, p + off, data);
			*blen += data;
		}
		off += used;
		if (rc == 1)
			break;
		if (used == 0) {
			if (window == 0 || n == len - off)
				break;	/* needs bytes that never come */
			window += 7;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*paths[] = { "count", "data.online_count",
	    "items.0.value", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p" };
	struct http_url		 base, next;
	struct http_head	 h;
	const char		*p = (const char *)data, *why, *loc;
	char			*body, text[4096];
	size_t			 off = 0, n, pos, blen, i;
	double			 num;
	int			 interim = 0;

	if (http_url_parse("http://127.0.0.1:8080/a/b/c?q=1", &base,
	    &why) == -1)
		abort();
	/* heads: interim ones (1xx) are skipped, as the probe does */
	for (;;) {
		n = size - off < HTTP_HEAD_MAX ? size - off : HTTP_HEAD_MAX;
		if ((n = http_head_end(p + off, n)) == 0)
			return (0);
		if (http_head_parse(p + off, n, &h, &why) == -1)
			return (0);
		off += n;
		if (h.status >= 200 || ++interim > MAX_INTERIM)
			break;
		http_head_free(&h);
	}
	pos = 0;
	while (http_head_get(&h, "Server", &pos) != NULL)
		;
	pos = 0;
	if ((loc = http_head_get(&h, "Location", &pos)) != NULL &&
	    http_url_resolve(&base, loc, &next, &why) == 0) {
		http_url_format(&next, text, sizeof(text));
		http_url_authority(&next, text, sizeof(text));
	}
	if ((body = malloc(MAX_BODY)) == NULL)
		abort();
	blen = 0;
	if (h.chunked) {
		chunked(p + off, size - off, 0, body, &blen);
		chunked(p + off, size - off, 1, body, &blen);
	} else {
		blen = size - off;
		if (h.content_length >= 0 && (uint64_t)h.content_length < blen)
			blen = (size_t)h.content_length;
		if (blen > MAX_BODY)
			blen = MAX_BODY;
		memcpy(body, p + off, blen);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		(void)http_json_number(body, blen, paths[i], &num, &why);
	free(body);
	http_head_free(&h);
	return (0);
}
