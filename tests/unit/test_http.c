/*
 * Unit tests for the http probe's pure parts (probes/http.h): URLs and
 * redirect resolution, the request text, response heads, the chunked
 * coding and the JSON reader, each with malformed, truncated and hostile
 * input; then the http options through config_load_string(), with the
 * exact FILE:LINE:COL message of every bad value.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/netprobed.h"
#include "probes/http.h"
#include "probes/probe.h"

#define NAME	"t.yaml"

/* ---- URLs ------------------------------------------------------------ */

struct url_case {
	const char	*in;
	const char	*canon;		/* NULL: invalid */
	const char	*why;		/* exact reason when invalid */
	int		 port;
	const char	*path;
};

static const char name_why[] = "the host is not an IP address (names are "
    "never resolved; write IPv6 as [addr])";

static const struct url_case url_cases[] = {
	{ "http://127.0.0.1:18080/health", "http://127.0.0.1:18080/health",
	    NULL, 18080, "/health" },
	{ "http://127.0.0.1", "http://127.0.0.1/", NULL, 80, "/" },
	{ "http://127.0.0.1:80/", "http://127.0.0.1/", NULL, 80, "/" },
	{ "HTTPS://127.0.0.1:443/a?b=1", "https://127.0.0.1/a?b=1", NULL, 443,
	    "/a?b=1" },
	{ "https://[::1]:18443/", "https://[::1]:18443/", NULL, 18443, "/" },
	{ "https://[0:0::1]", "https://[::1]/", NULL, 443, "/" },
	{ "http://[::ffff:127.0.0.1]:8080/x",
	    "http://[::ffff:127.0.0.1]:8080/x", NULL, 8080, "/x" },
	{ "http://127.0.0.1?q=1", "http://127.0.0.1/?q=1", NULL, 80, "/?q=1" },
	{ "http://127.0.0.1/p#frag", "http://127.0.0.1/p", NULL, 80, "/p" },
	{ "http://127.0.0.1#frag", "http://127.0.0.1/", NULL, 80, "/" },
	{ "http://127.0.0.1/%E5%8C%97", "http://127.0.0.1/%E5%8C%97", NULL, 80,
	    "/%E5%8C%97" },
	{ "http://127.0.0.1:08080/", "http://127.0.0.1:8080/", NULL, 8080,
	    "/" },
	{ "ftp://127.0.0.1/", NULL,
	    "expected a URL starting with http:// or https://", 0, NULL },
	{ "127.0.0.1:80", NULL,
	    "expected a URL starting with http:// or https://", 0, NULL },
	{ "http://localhost/", NULL, name_why, 0, NULL },
	{ "http://example.com:80/", NULL, name_why, 0, NULL },
	{ "http://127.1/", NULL, name_why, 0, NULL },
	{ "http://::1/", NULL, name_why, 0, NULL },
	{ "http://user:pw@127.0.0.1/", NULL, "user info in the URL is not "
	    "supported (give credentials in 'headers')", 0, NULL },
	{ "http:///x", NULL, "the URL has no host", 0, NULL },
	{ "http://", NULL, "the URL has no host", 0, NULL },
	{ "http://[::1/", NULL, "'[' without ']' around the IPv6 address", 0,
	    NULL },
	{ "http://[::1]x/", NULL, "unexpected text after the IPv6 address", 0,
	    NULL },
	{ "http://[fe80::1%25eth0]/", NULL,
	    "zone ids in IPv6 addresses are not supported", 0, NULL },
	{ "http://[127.0.0.1]/", NULL, "invalid IPv6 address in brackets", 0,
	    NULL },
	{ "http://[]/", NULL, "the URL has no host", 0, NULL },
	{ "http://127.0.0.1:/", NULL, "empty port after ':'", 0, NULL },
	{ "http://127.0.0.1:0/", NULL,
	    "the port must be a number from 1 to 65535", 0, NULL },
	{ "http://127.0.0.1:65536/", NULL,
	    "the port must be a number from 1 to 65535", 0, NULL },
	{ "http://127.0.0.1:99999999999999999999/", NULL,
	    "the port must be a number from 1 to 65535", 0, NULL },
	{ "http://127.0.0.1:8o/", NULL,
	    "the port must be a number from 1 to 65535", 0, NULL },
	{ "http://127.0.0.1/a b", NULL, "spaces, controls and non-ASCII "
	    "characters must be percent-encoded", 0, NULL },
	{ "http://127.0.0.1/\x01", NULL, "spaces, controls and non-ASCII "
	    "characters must be percent-encoded", 0, NULL },
	{ "http://127.0.0.1/北京", NULL, "spaces, controls and non-ASCII "
	    "characters must be percent-encoded", 0, NULL },
	{ "http://127.0.0.1/%zz", NULL, "'%' not followed by two hex digits", 0,
	    NULL },
	{ "http://127.0.0.1/%4", NULL, "'%' not followed by two hex digits", 0,
	    NULL },
};

static void
test_url_parse(void **state)
{
	struct http_url	 u;
	const char	*why;
	char		 buf[256];
	size_t		 i;

	for (i = 0; i < NP_NELEM(url_cases); i++) {
		const struct url_case	*c = &url_cases[i];
		int			 rc;

		why = NULL;
		rc = http_url_parse(c->in, &u, &why);
		if (c->canon == NULL) {
			if (rc != -1 || why == NULL || strcmp(why, c->why) != 0)
				fail_msg("%s: got rc %d why \"%s\", want "
				    "\"%s\"", c->in, rc, why ? why : "(null)",
				    c->why);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", c->in, why);
		assert_int_equal(http_url_format(&u, buf, sizeof(buf)),
		    (int)strlen(c->canon));
		assert_string_equal(buf, c->canon);
		assert_int_equal(u.port, c->port);
		assert_int_equal(addr_port(&u.addr), c->port);
		assert_string_equal(u.path, c->path);
		assert_int_equal(u.tls, strncmp(c->canon, "https", 5) == 0);
	}
}

static void
test_url_details(void **state)
{
	struct http_url	 u;
	const char	*why;
	char		 buf[64], big[HTTP_PATH_MAX + 64];

	assert_int_equal(http_url_parse("https://[::1]:8443/x", &u, &why), 0);
	assert_string_equal(u.host, "[::1]");
	assert_int_equal(u.addr.ss.ss_family, AF_INET6);
	assert_int_equal(u.addr.len, sizeof(struct sockaddr_in6));
	http_url_authority(&u, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:8443");
	assert_int_equal(http_url_parse("http://10.1.2.3/", &u, &why), 0);
	assert_string_equal(u.host, "10.1.2.3");
	http_url_authority(&u, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.3");
	/* a target label that does not fit is refused, not cut */
	assert_int_equal(http_url_format(&u, buf, 10), -1);
	assert_int_equal(strlen(buf), 9);
	/* a path longer than HTTP_PATH_MAX */
	memset(big, 'a', sizeof(big));
	memcpy(big, "http://1.2.3.4/", 15);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http_url_parse(big, &u, &why), -1);
	assert_string_equal(why, "the path is too long");
}

struct resolve_case {
	const char	*ref;
	const char	*want;		/* canonical URL, or the reason */
	int		 ok;
};

/* RFC 3986 §5.4 with the base http://a/b/c/d;p?q, a = 127.0.0.1 */
static const struct resolve_case resolve_cases[] = {
	{ "g", "http://127.0.0.1/b/c/g", 1 },
	{ "./g", "http://127.0.0.1/b/c/g", 1 },
	{ "g/", "http://127.0.0.1/b/c/g/", 1 },
	{ "/g", "http://127.0.0.1/g", 1 },
	{ "?y", "http://127.0.0.1/b/c/d;p?y", 1 },
	{ "g?y", "http://127.0.0.1/b/c/g?y", 1 },
	{ "#s", "http://127.0.0.1/b/c/d;p?q", 1 },
	{ "g#s", "http://127.0.0.1/b/c/g", 1 },
	{ "g?y#s", "http://127.0.0.1/b/c/g?y", 1 },
	{ ";x", "http://127.0.0.1/b/c/;x", 1 },
	{ "g;x", "http://127.0.0.1/b/c/g;x", 1 },
	{ "", "http://127.0.0.1/b/c/d;p?q", 1 },
	{ ".", "http://127.0.0.1/b/c/", 1 },
	{ "./", "http://127.0.0.1/b/c/", 1 },
	{ "..", "http://127.0.0.1/b/", 1 },
	{ "../", "http://127.0.0.1/b/", 1 },
	{ "../g", "http://127.0.0.1/b/g", 1 },
	{ "../..", "http://127.0.0.1/", 1 },
	{ "../../", "http://127.0.0.1/", 1 },
	{ "../../g", "http://127.0.0.1/g", 1 },
	{ "../../../g", "http://127.0.0.1/g", 1 },
	{ "../../../../g", "http://127.0.0.1/g", 1 },
	{ "/./g", "http://127.0.0.1/g", 1 },
	{ "/../g", "http://127.0.0.1/g", 1 },
	{ "g.", "http://127.0.0.1/b/c/g.", 1 },
	{ ".g", "http://127.0.0.1/b/c/.g", 1 },
	{ "g..", "http://127.0.0.1/b/c/g..", 1 },
	{ "..g", "http://127.0.0.1/b/c/..g", 1 },
	{ "./../g", "http://127.0.0.1/b/g", 1 },
	{ "./g/.", "http://127.0.0.1/b/c/g/", 1 },
	{ "g/./h", "http://127.0.0.1/b/c/g/h", 1 },
	{ "g/../h", "http://127.0.0.1/b/c/h", 1 },
	{ "g;x=1/./y", "http://127.0.0.1/b/c/g;x=1/y", 1 },
	{ "g;x=1/../y", "http://127.0.0.1/b/c/y", 1 },
	{ "g?y/./x", "http://127.0.0.1/b/c/g?y/./x", 1 },
	{ "g#s/./x", "http://127.0.0.1/b/c/g", 1 },
	{ "//127.0.0.2:81/p", "http://127.0.0.2:81/p", 1 },
	{ "HTTPS://[::1]:8443/x", "https://[::1]:8443/x", 1 },
	{ "http://127.0.0.1/b/c/d;p?q", "http://127.0.0.1/b/c/d;p?q", 1 },
	/* redirects that are never followed */
	{ "g:h", "a scheme other than http or https", 0 },
	{ "ftp://127.0.0.1/", "a scheme other than http or https", 0 },
	{ "//g", name_why, 0 },
	{ "http://localhost/", name_why, 0 },
	{ "https://example.com/", name_why, 0 },
	{ "/a b", "spaces, controls and non-ASCII characters must be "
	    "percent-encoded", 0 },
	{ "\r\nSet-Cookie: x", "spaces, controls and non-ASCII characters "
	    "must be percent-encoded", 0 },
};

static void
test_url_resolve(void **state)
{
	struct http_url	 base, out;
	const char	*why;
	char		 buf[HTTP_PATH_MAX + 64], ref[HTTP_PATH_MAX];
	size_t		 i;
	int		 rc;

	assert_int_equal(http_url_parse("http://127.0.0.1/b/c/d;p?q", &base,
	    &why), 0);
	for (i = 0; i < NP_NELEM(resolve_cases); i++) {
		const struct resolve_case	*c = &resolve_cases[i];

		why = NULL;
		rc = http_url_resolve(&base, c->ref, &out, &why);
		if (!c->ok) {
			if (rc != -1 || why == NULL ||
			    strcmp(why, c->want) != 0)
				fail_msg("\"%s\": rc %d why \"%s\", want "
				    "\"%s\"", c->ref, rc, why ? why : "",
				    c->want);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\": %s", c->ref, why);
		http_url_format(&out, buf, sizeof(buf));
		if (strcmp(buf, c->want) != 0)
			fail_msg("\"%s\": got %s, want %s", c->ref, buf,
			    c->want);
	}

	/* a base with a long query and an empty reference: no overflow */
	memset(ref, 'q', 1500);
	memcpy(ref, "http://127.0.0.1/p?", 19);
	ref[1500] = '\0';
	assert_int_equal(http_url_parse(ref, &base, &why), 0);
	assert_int_equal(http_url_resolve(&base, "", &out, &why), 0);
	assert_string_equal(out.path, base.path);
	assert_int_equal(http_url_resolve(&base, "#x", &out, &why), 0);
	assert_string_equal(out.path, base.path);
	/* a relative reference that makes the path too long */
	memset(ref, 'r', sizeof(ref) - 1);
	ref[sizeof(ref) - 1] = '\0';
	assert_int_equal(http_url_resolve(&base, ref, &out, &why), -1);
	assert_string_equal(why, "the path is too long");
}

/* ---- requests --------------------------------------------------------- */

static void
test_request(void **state)
{
	struct http_url		 u;
	struct np_label		 hv[] = {
		{ (char *)"X-Token", (char *)"abc" },
		{ (char *)"user-agent", (char *)"probe/1" },
		{ (char *)"Host", (char *)"platform.example" },
	};
	struct np_labels	 h = { hv, NP_NELEM(hv) };
	const char		*why;
	char			*r;
	size_t			 len;

	assert_int_equal(http_url_parse("http://127.0.0.1:18080/healthz?a=1",
	    &u, &why), 0);
	r = http_request_build("GET", &u, NULL, 1, NULL, &len);
	assert_string_equal(r, "GET /healthz?a=1 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:18080\r\n"
	    "User-Agent: netprobed/" PACKAGE_VERSION "\r\n"
	    "Accept: */*\r\n"
	    "Connection: close\r\n"
	    "\r\n");
	assert_int_equal(len, strlen(r));
	free(r);

	/* configured headers replace the defaults; Host while use_host */
	r = http_request_build("POST", &u, &h, 1, "a=1&b=2", &len);
	assert_string_equal(r, "POST /healthz?a=1 HTTP/1.1\r\n"
	    "Host: platform.example\r\n"
	    "Accept: */*\r\n"
	    "Connection: close\r\n"
	    "X-Token: abc\r\n"
	    "user-agent: probe/1\r\n"
	    "Content-Length: 7\r\n"
	    "\r\n"
	    "a=1&b=2");
	free(r);

	/* after a redirect to another host the URL's own authority */
	assert_int_equal(http_url_parse("https://[::1]/", &u, &why), 0);
	r = http_request_build("HEAD", &u, &h, 0, NULL, &len);
	assert_string_equal(r, "HEAD / HTTP/1.1\r\n"
	    "Host: [::1]\r\n"
	    "Accept: */*\r\n"
	    "Connection: close\r\n"
	    "X-Token: abc\r\n"
	    "user-agent: probe/1\r\n"
	    "\r\n");
	free(r);

	/* an empty POST body still says Content-Length: 0 */
	r = http_request_build("POST", &u, NULL, 1, "", &len);
	assert_non_null(strstr(r, "\r\nContent-Length: 0\r\n\r\n"));
	free(r);
}

/* ---- response heads ------------------------------------------------- */

static void
test_head_end(void **state)
{
	static const char	crlf[] = "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody";
	static const char	lf[] = "HTTP/1.1 200 OK\nA: b\n\nbody";
	size_t			 i;

	assert_int_equal(http_head_end(crlf, strlen(crlf)), strlen(crlf) - 4);
	assert_int_equal(http_head_end(lf, strlen(lf)), strlen(lf) - 4);
	/* every truncation of the head is incomplete, never over-read */
	for (i = 0; i < strlen(crlf) - 4; i++)
		assert_int_equal(http_head_end(crlf, i), 0);
	for (i = 0; i < strlen(lf) - 4; i++)
		assert_int_equal(http_head_end(lf, i), 0);
	assert_int_equal(http_head_end("", 0), 0);
	assert_int_equal(http_head_end("\n\n", 2), 2);
}

static void
test_head_good(void **state)
{
	static const char	r1[] = "HTTP/1.1 200 OK\r\n"
				    "Server: nginx\r\n"
				    "Content-Type:text/html; charset=utf-8 \r\n"
				    "Set-Cookie: a=1\r\n"
				    "set-cookie: b=2\r\n"
				    "X-Folded: one\r\n two\r\n\tthree\r\n"
				    "Content-Length: 42, 42\r\n"
				    "Empty:\r\n"
				    "\r\n";
	struct http_head	 h;
	const char		*why, *v;
	size_t			 pos = 0;

	assert_int_equal(http_head_parse(r1, strlen(r1), &h, &why), 0);
	assert_int_equal(h.minor, 1);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.nf, 7);
	assert_int_equal(h.content_length, 42);
	assert_int_equal(h.chunked, 0);
	v = http_head_get(&h, "content-type", &pos);
	assert_string_equal(v, "text/html; charset=utf-8");
	pos = 0;
	assert_string_equal(http_head_get(&h, "Set-Cookie", &pos), "a=1");
	assert_string_equal(http_head_get(&h, "Set-Cookie", &pos), "b=2");
	assert_null(http_head_get(&h, "Set-Cookie", &pos));
	pos = 0;
	/* RFC 9112 §5.2: obs-fold becomes spaces */
	v = http_head_get(&h, "X-Folded", &pos);
	assert_non_null(v);
	assert_non_null(strstr(v, "one"));
	assert_non_null(strstr(v, "two"));
	assert_non_null(strstr(v, "three"));
	assert_null(strchr(v, '\n'));
	pos = 0;
	assert_string_equal(http_head_get(&h, "Empty", &pos), "");
	pos = 0;
	assert_null(http_head_get(&h, "Absent", &pos));
	http_head_free(&h);

	/* HTTP/1.0, bare LF, no reason phrase, chunked */
	assert_int_equal(http_head_parse("HTTP/1.0 204\nTransfer-Encoding: "
	    "gzip, chunked\n\n", 45, &h, &why), 0);
	assert_int_equal(h.minor, 0);
	assert_int_equal(h.status, 204);
	assert_int_equal(h.chunked, 1);
	assert_int_equal(h.content_length, -1);
	http_head_free(&h);

	/* chunked not last: the body ends at the close (§6.3) */
	assert_int_equal(http_head_parse("HTTP/1.1 200 OK\r\nTransfer-Encoding"
	    ": chunked, gzip\r\n\r\n", 50, &h, &why), 0);
	assert_int_equal(h.chunked, 0);
	assert_int_equal(h.other_coding, 1);
	http_head_free(&h);

	/* the reason phrase may hold obs-text and tabs */
	assert_int_equal(http_head_parse("HTTP/1.1 599 \xe5\x8c\x97\t x"
	    "\r\n\r\n", 22, &h, &why), 0);
	assert_int_equal(h.status, 599);
	http_head_free(&h);
}

struct head_bad {
	const char	*in;
	const char	*why;
};

static const struct head_bad head_bad[] = {
	{ "", "empty response head" },
	{ "SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1.x status line" },
	{ "HTTP/1.1\r\n\r\n", "not an HTTP/1.x status line" },
	{ "HTTP/11 200 OK\r\n\r\n", "not an HTTP/1.x status line" },
	{ "HTTP/1.1  200 OK\r\n\r\n", "the status code is not 3 digits" },
	{ "http/1.1 200 OK\r\n\r\n", "not an HTTP/1.x status line" },
	{ "HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version" },
	{ "HTTP/1.2 200 OK\r\n\r\n", "unsupported HTTP version" },
	{ "HTTP/1.1 20 OK\r\n\r\n", "the status code is not 3 digits" },
	{ "HTTP/1.1 2000 OK\r\n\r\n", "the status code is not 3 digits" },
	{ "HTTP/1.1 -20 OK\r\n\r\n", "the status code is not 3 digits" },
	{ "HTTP/1.1 099 OK\r\n\r\n", "status code outside 100..599" },
	{ "HTTP/1.1 600 OK\r\n\r\n", "status code outside 100..599" },
	{ "HTTP/1.1 200 O\x01K\r\n\r\n", "control character in the reason "
	    "phrase" },
	{ "HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
	    "whitespace before the first header field" },
	{ "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "header line without a colon" },
	{ "HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "invalid header field name" },
	{ "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
	    "invalid header field name" },
	{ "HTTP/1.1 200 OK\r\nName : x\r\n\r\n", "invalid header field name" },
	{ "HTTP/1.1 200 OK\r\nN\xc3\xa4me: x\r\n\r\n",
	    "invalid header field name" },
	{ "HTTP/1.1 200 OK\r\nA: x\x01y\r\n\r\n",
	    "control character in a header field" },
	{ "HTTP/1.1 200 OK\r\nA: x\x7fy\r\n\r\n",
	    "control character in a header field" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n",
	    "invalid Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	    "invalid Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
	    "invalid Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
	    "empty Content-Length" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456789\r\n\r\n",
	    "Content-Length too large" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
	    "conflicting Content-Length values" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    "conflicting Content-Length values" },
};

static void
test_head_bad(void **state)
{
	struct http_head	 h;
	const char		*why;
	char			 many[8192];
	char			 nul[] = "HTTP/1.1 200 OK\r\nA: \0\r\n\r\n";
	size_t			 i, off;

	for (i = 0; i < NP_NELEM(head_bad); i++) {
		why = NULL;
		if (http_head_parse(head_bad[i].in, strlen(head_bad[i].in), &h,
		    &why) != -1)
			fail_msg("accepted: %s", head_bad[i].in);
		if (why == NULL || strcmp(why, head_bad[i].why) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    head_bad[i].in, why ? why : "", head_bad[i].why);
		assert_null(h.raw);
	}
	assert_int_equal(http_head_parse(nul, sizeof(nul) - 1, &h, &why), -1);
	assert_string_equal(why, "NUL byte in the response head");

	/* 100 fields are fine, 101 are not */
	off = (size_t)snprintf(many, sizeof(many), "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < HTTP_MAX_FIELDS; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    "X-%zu: %zu\r\n", i, i);
	memcpy(many + off, "\r\n", 3);
	assert_int_equal(http_head_parse(many, off + 2, &h, &why), 0);
	assert_int_equal(h.nf, HTTP_MAX_FIELDS);
	http_head_free(&h);
	memcpy(many + off, "Y: 1\r\n\r\n", 9);
	assert_int_equal(http_head_parse(many, off + 8, &h, &why), -1);
	assert_string_equal(why, "more than 100 header fields");
}

/* ---- chunked -------------------------------------------------------- */

/* Decode in, fed `step` bytes at a time as a socket would; -1 on error. */
static int
dechunk(const char *in, size_t len, size_t step, char *out, size_t *outlen,
    const char **why)
{
	struct http_chunked	 c;
	char			 win[8192];
	size_t			 have = 0, off = 0, used, data;
	int			 rc = 0;

	memset(&c, 0, sizeof(c));
	*outlen = 0;
	for (;;) {
		/* refill the window from the input */
		while (have < sizeof(win) && off < len) {
			size_t	n = len - off < step ? len - off : step;

			if (n > sizeof(win) - have)
				n = sizeof(win) - have;
			memcpy(win + have, in + off, n);
			have += n;
			off += n;
			break;
		}
		rc = http_chunked_step(&c, win, have, &used, &data, why);
		if (rc == -1)
			return (-1);
		memcpy(out + *outlen, win, data);
		*outlen += data;
		memmove(win, win + used, have - used);
		have -= used;
		if (rc == 1)
			return (0);
		if (used == 0 && off == len) {
			*why = "truncated";
			return (-1);
		}
	}
}

static void
test_chunked(void **state)
{
	static const char	body[] = "5\r\nhello\r\n"
				    "7;ext=\"a b\"\r\n, world\r\n"
				    "A \r\n0123456789\r\n"
				    "0\r\n"
				    "Trailer: x\r\n"
				    "\r\n";
	static const char	lf[] = "3\nabc\n0\n\n";
	char			 out[256];
	const char		*why;
	size_t			 outlen, step;

	for (step = 1; step <= sizeof(body); step++) {
		assert_int_equal(dechunk(body, strlen(body), step, out, &outlen,
		    &why), 0);
		assert_int_equal(outlen, 22);
		assert_memory_equal(out, "hello, world0123456789", 22);
	}
	assert_int_equal(dechunk(lf, strlen(lf), 1, out, &outlen, &why), 0);
	assert_int_equal(outlen, 3);
	/* upper-case hex, leading zeros */
	assert_int_equal(dechunk("0000B\r\nhello world\r\n0\r\n\r\n", 26, 5,
	    out, &outlen, &why), 0);
	assert_int_equal(outlen, 11);
	/* every truncation is "more input", never a false end */
	for (step = 0; step < strlen(body); step++) {
		assert_int_equal(dechunk(body, step, 3, out, &outlen, &why),
		    -1);
		assert_string_equal(why, "truncated");
	}
}

static const struct head_bad chunk_bad[] = {
	{ "x\r\n", "invalid chunk-size line" },
	{ "\r\n", "invalid chunk-size line" },
	{ "-1\r\n", "invalid chunk-size line" },
	{ "5 x\r\nhello\r\n", "invalid chunk-size line" },
	{ "5;a\x01\r\nhello\r\n", "control character in a chunk extension" },
	{ "fffffffffffffffff\r\n", "chunk size too large" },
	{ "400000000000000000\r\n", "chunk size too large" },
	{ "3\r\nhello\r\n", "chunk data longer than its size" },
	{ "3\r\nabcX\r\n", "chunk data longer than its size" },
	{ "0\r\nNoColon\r\n\r\n", "trailer line without a colon" },
	{ "0\r\nA: \x01\r\n\r\n", "control character in a trailer field" },
};

static void
test_chunked_bad(void **state)
{
	char		 out[256], *line;
	const char	*why;
	size_t		 i, outlen;
	struct http_chunked	 c;
	size_t		 used, data;

	for (i = 0; i < NP_NELEM(chunk_bad); i++) {
		why = NULL;
		if (dechunk(chunk_bad[i].in, strlen(chunk_bad[i].in), 64, out,
		    &outlen, &why) != -1 || why == NULL ||
		    strcmp(why, chunk_bad[i].why) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    chunk_bad[i].in, why ? why : "(accepted)",
			    chunk_bad[i].why);
	}
	/* a chunk-size line that never ends is refused at HTTP_LINE_MAX */
	line = malloc(HTTP_LINE_MAX + 10);
	assert_non_null(line);
	memset(line, '1', HTTP_LINE_MAX + 10);
	memset(&c, 0, sizeof(c));
	assert_int_equal(http_chunked_step(&c, line, HTTP_LINE_MAX - 1, &used,
	    &data, &why), 0);
	assert_int_equal(used, 0);
	assert_int_equal(http_chunked_step(&c, line, HTTP_LINE_MAX + 10,
	    &used, &data, &why), -1);
	assert_string_equal(why, "chunk-size or trailer line too long");
	free(line);
}

/* ---- JSON ------------------------------------------------------------ */

struct json_case {
	const char	*text;
	const char	*path;
	double		 want;
	const char	*why;		/* NULL: want is the value */
};

static const char status_json[] =
    "{\"status\":\"ok\",\"probes\":3,\"city\":\"\xe5\x8c\x97\xe4\xba\xac\","
    "\"data\":{\"online_count\":42,\"items\":[{\"value\":1.5},"
    "{\"value\":-2e3}],\"up\":true,\"down\":false,\"none\":null}}\n";

static const struct json_case json_cases[] = {
	{ status_json, "probes", 3, NULL },
	{ status_json, "data.online_count", 42, NULL },
	{ status_json, "data.items.0.value", 1.5, NULL },
	{ status_json, "data.items.1.value", -2000, NULL },
	{ status_json, "data.up", 1, NULL },
	{ status_json, "data.down", 0, NULL },
	{ status_json, "data.none", 0, "is null, not a number" },
	{ status_json, "status", 0, "is a string, not a number" },
	{ status_json, "data", 0, "is an object or array, not a number" },
	{ status_json, "data.items", 0, "is an object or array, not a number" },
	{ status_json, "data.items.2.value", 0, "not found in the JSON body" },
	{ status_json, "data.items.01.value", 0, "not found in the JSON body" },
	{ status_json, "data.items.x", 0, "not found in the JSON body" },
	{ status_json, "probes.x", 0, "not found in the JSON body" },
	{ status_json, "Probes", 0, "not found in the JSON body" },
	{ status_json, "data..x", 0, "invalid JSON path" },
	{ status_json, "", 0, "invalid JSON path" },
	{ "\xef\xbb\xbf {\"a\" : 1e2 }", "a", 100, NULL },
	{ "[10, [20, 30]]", "1.1", 30, NULL },
	{ "{\"a\":1,\"a\":2}", "a", 2, NULL },		/* last one wins */
	{ "{\"a.b\":1}", "a.b", 0, "not found in the JSON body" },
	{ "{\"\\u00e9t\\u00e9\":7}", "\xc3\xa9t\xc3\xa9", 7, NULL },
	{ "{\"\\ud83d\\ude00\":8}", "\xf0\x9f\x98\x80", 8, NULL },
	{ "{\"\\ud83d\":9}", "\xef\xbf\xbd", 9, NULL },	/* lone surrogate */
	{ "{\"k\\\"q\\\\\\/\\b\\f\\n\\r\\t\":4}", "k\"q\\/\b\f\n\r\t", 0,
	    "invalid JSON path" },
	{ "{\"a\":-0.0e-0}", "a", 0, NULL },
	{ "{\"a\":0.5E+1}", "a", 5, NULL },
	{ "{\"a\":1e999}", "a", 0, "number out of range" },
	{ "", "a", 0, "the body is empty, not JSON" },
	{ "  \n", "a", 0, "the body is empty, not JSON" },
	{ "{", "a", 0, "expected a name in a JSON object" },
	{ "{\"a\":1", "a", 0, "expected ',' or '}' in a JSON object" },
	{ "{\"a\":1,}", "a", 0, "expected a name in a JSON object" },
	{ "[1,]", "0", 0, "unexpected character in JSON" },
	{ "[1,", "0", 0, "unexpected end of JSON" },
	{ "[1 2]", "0", 0, "expected ',' or ']' in a JSON array" },
	{ "{\"a\" 1}", "a", 0, "expected ':' in a JSON object" },
	{ "{a:1}", "a", 0, "expected a name in a JSON object" },
	{ "{\"a\":01}", "a", 0, "expected ',' or '}' in a JSON object" },
	{ "{\"a\":+1}", "a", 0, "unexpected character in JSON" },
	{ "{\"a\":.5}", "a", 0, "unexpected character in JSON" },
	{ "{\"a\":1.}", "a", 0, "invalid number in JSON" },
	{ "{\"a\":1e}", "a", 0, "invalid number in JSON" },
	{ "{\"a\":-}", "a", 0, "invalid number in JSON" },
	{ "{\"a\":NaN}", "a", 0, "unexpected character in JSON" },
	{ "{\"a\":-Infinity}", "a", 0, "invalid number in JSON" },
	{ "{\"a\":tru}", "a", 0, "invalid JSON" },
	{ "{\"a\":\"x}", "a", 0, "unterminated string in JSON" },
	{ "{\"a\":\"\\", "a", 0, "unterminated string in JSON" },
	{ "{\"a\":\"\\x\"}", "a", 0, "bad escape in a JSON string" },
	{ "{\"a\":\"\\u12\"}", "a", 0, "bad \\u escape in JSON" },
	{ "{\"a\":\"tab\there\"}", "a", 0, "control character in a JSON "
	    "string" },
	{ "{\"a\":1} x", "a", 0, "data after the JSON value" },
	{ "{\"a\":1}{\"a\":2}", "a", 0, "data after the JSON value" },
	{ "<html>error</html>", "a", 0, "unexpected character in JSON" },
};

static void
test_json(void **state)
{
	const char	*why;
	double		 v;
	size_t		 i;
	int		 rc;

	for (i = 0; i < NP_NELEM(json_cases); i++) {
		const struct json_case	*c = &json_cases[i];

		why = NULL;
		v = -12345;
		rc = http_json_number(c->text, strlen(c->text), c->path, &v,
		    &why);
		if (c->why == NULL) {
			if (rc != 0)
				fail_msg("%s @ %s: %s", c->text, c->path, why);
			if (v != c->want)
				fail_msg("%s @ %s: got %g, want %g", c->text,
				    c->path, v, c->want);
		} else if (rc != -1 || why == NULL ||
		    strcmp(why, c->why) != 0)
			fail_msg("%s @ %s: rc %d, why \"%s\", want \"%s\"",
			    c->text, c->path, rc, why ? why : "", c->why);
	}
	/* the length bounds the text: no reading past it */
	assert_int_equal(http_json_number("{\"a\":12}", 6, "a", &v, &why), -1);
	assert_string_equal(why, "expected ',' or '}' in a JSON object");
	assert_int_equal(http_json_number("{\"a\":12}xyz", 8, "a", &v, &why),
	    0);
	assert_true(v == 12);
	/* a NUL inside a string is a control character */
	assert_int_equal(http_json_number("{\"a\":\"\0\"}", 8, "a", &v, &why),
	    -1);
	assert_string_equal(why, "control character in a JSON string");
}

static void
test_json_hostile(void **state)
{
	char		*deep;
	const char	*why;
	double		 v;
	size_t		 n = 200000, i;

	/* deep nesting is refused, without deep recursion */
	deep = malloc(2 * n + 1);
	assert_non_null(deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_int_equal(http_json_number(deep, 2 * n, "0", &v, &why), -1);
	assert_string_equal(why, "JSON nested too deeply");
	/* 64 levels are fine, 65 are not */
	memset(deep, '[', 64);
	deep[64] = '7';
	memset(deep + 65, ']', 64);
	assert_int_equal(http_json_number(deep, 129,
	    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", &v, &why), -1);
	assert_string_equal(why, "invalid JSON path");	/* 17 segments */
	assert_int_equal(http_json_number(deep, 129, "0", &v, &why), -1);
	assert_string_equal(why, "is an object or array, not a number");
	assert_int_equal(http_json_number(deep + 48, 33,
	    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", &v, &why), 0);
	assert_true(v == 7);
	memset(deep, '[', 65);
	deep[65] = '7';
	memset(deep + 66, ']', 65);
	assert_int_equal(http_json_number(deep, 131, "0", &v, &why), -1);
	assert_string_equal(why, "JSON nested too deeply");
	free(deep);

	/* a very long number is refused, not cut */
	deep = malloc(1002);
	assert_non_null(deep);
	deep[0] = '1';
	memset(deep + 1, '0', 1000);
	deep[1001] = '\0';
	assert_int_equal(http_json_number(deep, 1001, "x", &v, &why), -1);
	assert_string_equal(why, "not found in the JSON body");
	free(deep);
	/* 511 digits fit, 512 do not */
	deep = malloc(600);
	assert_non_null(deep);
	memcpy(deep, "{\"x\":", 5);
	memset(deep + 5, '1', 511);
	memcpy(deep + 516, "}", 2);
	memcpy(deep + 5, "0.", 2);
	assert_int_equal(http_json_number(deep, strlen(deep), "x", &v, &why),
	    0);
	memset(deep + 5, '1', 512);
	memcpy(deep + 517, "}", 2);
	memcpy(deep + 5, "0.", 2);
	assert_int_equal(http_json_number(deep, strlen(deep), "x", &v, &why),
	    -1);
	assert_string_equal(why, "number too long");
	free(deep);
	/* a long key never matches and never overflows */
	deep = malloc(5000);
	assert_non_null(deep);
	deep[0] = '{';
	deep[1] = '"';
	memset(deep + 2, 'k', 4000);
	memcpy(deep + 4002, "\":1}", 5);
	assert_int_equal(http_json_number(deep, strlen(deep), "k", &v, &why),
	    -1);
	assert_string_equal(why, "not found in the JSON body");
	free(deep);

	for (i = 0; i < 4; i++)
		assert_true(http_json_path_valid((const char *[]){ "a", "a.b",
		    "items.0.value", "x_y-z" }[i]));
	for (i = 0; i < 5; i++)
		assert_false(http_json_path_valid((const char *[]){ "", ".a",
		    "a.", "a..b", "a\nb" }[i]));
}

/* ---- hostile input: mutations of good messages, never a crash ------- */

static uint32_t	rng = 2463534242u;

static uint32_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return (rng);
}

static void
mutate(char *buf, size_t len)
{
	static const char	bytes[] = "\r\n:;, \t\"{}[]0\\x-.9aA\xff";
	unsigned		n = 1 + xorshift() % 4;

	while (n-- > 0 && len > 0)
		buf[xorshift() % len] = xorshift() % 2 ?
		    bytes[xorshift() % (sizeof(bytes) - 1)] :
		    (char)(xorshift() & 0xff);
}

static void
test_hostile(void **state)
{
	static const char	head[] = "HTTP/1.1 200 OK\r\nContent-Length: 5"
				    "\r\nTransfer-Encoding: chunked\r\nA: b\r\n"
				    "\r\n";
	static const char	chunked[] = "5;x=y\r\nhello\r\n0\r\nT: 1\r\n"
				    "\r\n";
	static const char	url[] = "http://[::1]:8080/a/../b?c=%41#f";
	struct http_head	 h;
	struct http_url		 u, out;
	const char		*why;
	char			*buf, out2[256];
	size_t			 i, len, outlen;
	double			 v;
	int			 k;

	assert_int_equal(http_url_parse("http://127.0.0.1/a/b", &u, &why), 0);
	for (i = 0; i < 20000; i++) {
		const char	*src = (const char *[]){ head, chunked, url,
				    status_json }[i % 4];

		len = strlen(src);
		/* a fresh heap copy of the exact size: ASan sees over-reads */
		buf = malloc(len + 1);
		assert_non_null(buf);
		memcpy(buf, src, len + 1);
		mutate(buf, len);
		len = xorshift() % 8 == 0 ? xorshift() % (len + 1) : len;
		switch (i % 4) {
		case 0:
			if (http_head_parse(buf, len, &h, &why) == 0) {
				for (k = 0; (size_t)k < h.nf; k++)
					assert_true(http_token_valid(
					    h.f[k].name));
				http_head_free(&h);
			}
			(void)http_head_end(buf, len);
			break;
		case 1:
			if (dechunk(buf, len, 1 + xorshift() % 7, out2,
			    &outlen, &why) == 0)
				assert_true(outlen <= len);
			break;
		case 2:
			buf[len] = '\0';
			if (http_url_parse(buf, &out, &why) == 0)
				assert_int_equal(out.path[0], '/');
			if (http_url_resolve(&u, buf, &out, &why) == 0)
				assert_int_equal(out.path[0], '/');
			break;
		case 3:
			(void)http_json_number(buf, len, "data.items.1.value",
			    &v, &why);
			break;
		}
		free(buf);
	}
}

/* ---- configuration ---------------------------------------------------- */

static struct np_config *
load(const char *text, struct cfg_errors *errs)
{
	return (config_load_string(NAME, text, strlen(text), errs));
}

static void
test_config_good(void **state)
{
	static const char	yaml[] =
	    "probes:\n"
	    "  - name: platform\n"
	    "    type: http\n"
	    "    targets:\n"
	    "      - http://127.0.0.1:18080/healthz\n"
	    "      - https://[0::1]:443/api/status?x=1\n"
	    "      - HTTP://10.0.0.1:80\n"
	    "    method: POST\n"
	    "    body: '{\"q\": 1}'\n"
	    "    headers: {Content-Type: application/json, Host: "
	    "platform.example, X-Token: abc}\n"
	    "    valid_status_codes: [200, 204, 301]\n"
	    "    fail_if_body_matches_regexp: 'error|failed'\n"
	    "    fail_if_body_not_matches_regexp: '\"status\": *\"ok\"'\n"
	    "    fail_if_header_matches: {Server: 'IIS'}\n"
	    "    fail_if_header_not_matches: {Content-Type: '^application/"
	    "json'}\n"
	    "    follow_redirects: false\n"
	    "    max_redirects: 0\n"
	    "    tls_verify: false\n"
	    "    tls_server_name: platform.example\n"
	    "    fail_if_cert_expires_within: 720h\n"
	    "    json_gauges: {online: data.online_count, first: "
	    "items.0.value}\n"
	    "    max_body_bytes: 65536\n"
	    "  - name: bare\n"
	    "    type: http\n"
	    "    target: http://127.0.0.1/\n";
	struct cfg_errors	 errs;
	struct np_config	*conf;
	const struct probe_cfg	*p;
	size_t			 i;

	conf = load(yaml, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("unexpected: %s\n", errs.msg[i]);
	cfg_errors_free(&errs);
	assert_non_null(conf);
	p = config_find_probe(conf, "platform");
	assert_non_null(p);
	assert_int_equal(p->ntargets, 3);
	assert_string_equal(p->targets[0], "http://127.0.0.1:18080/healthz");
	assert_string_equal(p->targets[1], "https://[::1]/api/status?x=1");
	assert_string_equal(p->targets[2], "http://10.0.0.1/");
	assert_int_equal(addr_port(&p->addrs[0]), 18080);
	assert_int_equal(addr_port(&p->addrs[1]), 443);
	assert_int_equal(p->addrs[1].ss.ss_family, AF_INET6);
	assert_int_equal(addr_port(&p->addrs[2]), 80);
	config_free(conf);

	/* with a real CA file */
	{
		char	path[] = "/tmp/test_http_ca.XXXXXX", *text;
		int	fd = mkstemp(path);

		assert_true(fd >= 0);
		close(fd);
		xasprintf(&text, "probes:\n  - name: t\n    type: http\n"
		    "    target: https://127.0.0.1/\n    tls_ca_file: %s\n",
		    path);
		conf = load(text, &errs);
		for (i = 0; i < errs.n; i++)
			print_error("unexpected: %s\n", errs.msg[i]);
		cfg_errors_free(&errs);
		assert_non_null(conf);
		config_free(conf);
		free(text);
		unlink(path);
	}
}

struct bad_case {
	const char	*what;
	const char	*yaml;		/* after the probe's name and type */
	const char	*msg;		/* exact first message */
	int		 prefix;	/* msg is only its start */
};

#define HDR	"probes:\n  - name: p\n    type: http\n"
#define A60	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TGT	"    target: http://127.0.0.1/\n"

static const struct bad_case bad_cases[] = {
	{ "a name as host", "    target: http://platform.local/\n",
	    "t.yaml:4:13: invalid http target \"http://platform.local/\": the "
	    "host is not an IP address (names are never resolved; write IPv6 "
	    "as [addr])", 0 },
	{ "a bare address", "    targets: [127.0.0.1]\n",
	    "t.yaml:4:15: invalid http target \"127.0.0.1\": expected a URL "
	    "starting with http:// or https://", 0 },
	{ "a bad port", "    target: 'http://127.0.0.1:70000/'\n",
	    "t.yaml:4:13: invalid http target \"http://127.0.0.1:70000/\": "
	    "the port must be a number from 1 to 65535", 0 },
	{ "too long for a label", "    target: http://127.0.0.1/" A60 A60
	    A60 A60 "\n",
	    "t.yaml:4:13: invalid http target \"http://127.0.0.1/" A60 A60 A60
	    A60 "\": the URL is too long for a target", 0 },
	{ "duplicate after canonical form", "    targets: "
	    "[http://127.0.0.1/, 'http://127.0.0.1:80']\n",
	    "t.yaml:4:34: duplicate target \"http://127.0.0.1:80\" in probe "
	    "'p'", 0 },
	{ "unknown method", TGT "    method: PUT\n",
	    "t.yaml:5:13: 'method' must be one of GET, HEAD, POST, got "
	    "\"PUT\"", 0 },
	{ "status code out of range", TGT
	    "    valid_status_codes: [200, 600]\n",
	    "t.yaml:5:31: 'valid_status_codes' must be between 100 and 599, "
	    "got 600", 0 },
	{ "body without POST", TGT "    body: x=1\n",
	    "t.yaml:5:11: probe 'p': 'body' needs method POST", 0 },
	{ "bad header name", TGT "    headers: {'X Token': abc}\n",
	    "t.yaml:5:14: probe 'p': \"X Token\" is not a header field "
	    "name", 0 },
	{ "header value with a newline", TGT
	    "    headers: {X-Token: \"a\\r\\nInjected: 1\"}\n",
	    "t.yaml:5:14: probe 'p': the value of header X-Token has a control "
	    "character", 0 },
	{ "header the probe sets", TGT "    headers: {content-length: '5'}\n",
	    "t.yaml:5:14: probe 'p': header content-length is set by the "
	    "probe", 0 },
	{ "bad body regex", TGT "    fail_if_body_matches_regexp: 'a('\n",
	    "t.yaml:5:34: 'fail_if_body_matches_regexp': invalid regular "
	    "expression \"a(\": Unmatched ( or \\(", 0 },
	{ "bad header regex", TGT
	    "    fail_if_header_not_matches: {Content-Type: '[a'}\n",
	    "t.yaml:5:33: probe 'p': invalid regular expression \"[a\" for "
	    "header Content-Type: Unmatched [, [^, [:, [., or [=", 0 },
	{ "bad header name in a check", TGT
	    "    fail_if_header_matches: {'a b': x}\n",
	    "t.yaml:5:29: probe 'p': \"a b\" is not a header field name", 0 },
	{ "max_redirects too big", TGT "    max_redirects: 21\n",
	    "t.yaml:5:20: 'max_redirects' must be between 0 and 20, got 21",
	    0 },
	{ "max_body_bytes 0", TGT "    max_body_bytes: 0\n",
	    "t.yaml:5:21: 'max_body_bytes' must be between 1 and 67108864, "
	    "got 0", 0 },
	{ "tls_verify not a bool", TGT "    tls_verify: maybe\n",
	    "t.yaml:5:17: 'tls_verify' expects true or false, got "
	    "\"maybe\"", 0 },
	{ "tls_server_name an IP", TGT "    tls_server_name: 127.0.0.1\n",
	    "t.yaml:5:22: probe 'p': tls_server_name \"127.0.0.1\" is not a "
	    "host name (an IP target is verified by its address without "
	    "it)", 0 },
	{ "tls_ca_file missing", TGT
	    "    tls_ca_file: /nonexistent/ca.pem\n",
	    "t.yaml:5:18: probe 'p': cannot read tls_ca_file "
	    "/nonexistent/ca.pem: No such file or directory", 0 },
	{ "expiry not a duration", TGT
	    "    fail_if_cert_expires_within: 30x\n",
	    "t.yaml:5:34: 'fail_if_cert_expires_within' expects a duration "
	    "like 10s or 500ms, got \"30x\" (unknown unit; use ms, s, m, h, "
	    "d or w)", 0 },
	{ "json key not a name", TGT "    json_gauges: {'9lives': a.b}\n",
	    "t.yaml:5:18: probe 'p': json_gauges key \"9lives\" must be "
	    "letters, "
	    "digits and '_', not starting with a digit", 0 },
	{ "json path empty segment", TGT "    json_gauges: {x: a..b}\n",
	    "t.yaml:5:18: probe 'p': json_gauges path \"a..b\" must be 1 to 16 "
	    "non-empty names or indexes joined by '.'", 0 },
	{ "too many json gauges", TGT "    json_gauges: {a: a, b: b, c: c, "
	    "d: d, e: e, f: f, g: g, h: h, i: i}\n",
	    "t.yaml:5:18: probe 'p': at most 8 json_gauges", 0 },
	{ "headers not a mapping", TGT "    headers: [a, b]\n",
	    "t.yaml:5:14: headers must be a mapping, got a sequence", 0 },
	/*
	 * Only the start: config.c cuts the list of type options at 128
	 * bytes (reported; the whole list should be shown).
	 */
	{ "unknown key", TGT "    follow_redirect: true\n",
	    "t.yaml:5:5: unknown key 'follow_redirect' in probe 'p' (known: "
	    "name, type, targets, target, interval, timeout, labels, source, "
	    "interface, fwmark, vrf, netns, expect, control, filter_hops, sweep, histograms; "
	    "http options: method, body, headers, "
	    "valid_status_codes, fail_if_body_matches_regexp, ", 1 },
	{ "source of the other family", "    source: 127.0.0.1\n"
	    "    target: 'http://[::1]/'\n",
	    "t.yaml:4:13: probe 'p': target http://[::1]/ is not of the source "
	    "address's family", 0 },
};

static void
test_config_bad(void **state)
{
	struct cfg_errors	 errs;
	struct np_config	*conf;
	char			*text;
	size_t			 i, failed = 0;

	for (i = 0; i < NP_NELEM(bad_cases); i++) {
		const struct bad_case	*bc = &bad_cases[i];

		xasprintf(&text, HDR "%s", bc->yaml);
		conf = load(text, &errs);
		free(text);
		if (conf != NULL) {
			config_free(conf);
			print_error("%s: accepted\n", bc->what);
			failed++;
		} else if (errs.n == 0 || (bc->prefix ? strncmp(errs.msg[0],
		    bc->msg, strlen(bc->msg)) : strcmp(errs.msg[0], bc->msg)) !=
		    0) {
			print_error("%s:\n  got:  %s\n  want: %s\n", bc->what,
			    errs.n ? errs.msg[0] : "(none)", bc->msg);
			failed++;
		}
		cfg_errors_free(&errs);
	}
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_url_details),
		cmocka_unit_test(test_url_resolve),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_head_end),
		cmocka_unit_test(test_head_good),
		cmocka_unit_test(test_head_bad),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunked_bad),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_hostile),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_bad),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
