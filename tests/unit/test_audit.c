/*
 * The audit trail: records written and read back byte for byte, the
 * chain across close and open, recovery of a torn tail (after a crash
 * and after a short write), refusing files that are not trails, and
 * --verify-audit on intact, tampered and hostile files, each with the
 * exact line an auditor reads.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "daemon/netprobed.h"
#include "daemon/audit.h"

#define CFG_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CFG_B	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ZEROS	"00000000000000000000000000000000" \
		"00000000000000000000000000000000"

static char	tmpdir[256];
static int	nfile;

/* ---- helpers -------------------------------------------------------- */

static int
setup(void **state)
{
	const char	*t = getenv("TMPDIR");

	(void)state;
	umask(022);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_audit.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	return (0);
}

static int
teardown(void **state)
{
	char	cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return (system(cmd) == 0 ? 0 : -1);
}

/* A new path in the test's directory (caller frees). */
static char *
newpath(const char *what)
{
	char	*p;

	if (asprintf(&p, "%s/%02d-%s", tmpdir, ++nfile, what) == -1)
		abort();
	return (p);
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	long	 len;

	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)len;
	return (buf);
}

static void
spit(const char *path, const char *data, size_t len)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
append(const char *path, const char *data, size_t len)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "ab"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The lines of text (split at '\n'; a last line without one counts). */
struct lines {
	char	**v;
	size_t	  n;
};

static void
split(const char *text, size_t len, struct lines *l)
{
	const char	*p = text, *e = text + len, *nl;

	l->v = NULL;
	l->n = 0;
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (nl == NULL)
			nl = e;
		l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		assert_non_null(l->v);
		l->v[l->n] = strndup(p, (size_t)(nl - p));
		l->n++;
		p = nl + 1;
	}
}

static void
lines_free(struct lines *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void
file_lines(const char *path, struct lines *l)
{
	size_t	 len;
	char	*t = slurp(path, &len);

	split(t, len, l);
	free(t);
}

/* Write lines, each ending in '\n'. */
static void
write_lines(const char *path, char *const *v, size_t n)
{
	FILE	*f;
	size_t	 i;

	assert_non_null(f = fopen(path, "wb"));
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n", v[i]);
	assert_int_equal(fclose(f), 0);
}

static void
sha_hex(const char *p, size_t len, char out[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n, i;

	assert_int_equal(EVP_Digest(p, len, md, &n, EVP_sha256(), NULL), 1);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The value of a key in a record line (a copy, caller frees). */
static char *
field(const char *line, const char *key)
{
	char		 pat[128];
	const char	*p, *q;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(line, pat)) == NULL)
		return (NULL);
	p += strlen(pat);
	if (*p == '"') {
		for (q = ++p; *q != '"'; q++)
			if (*q == '\\')
				q++;
	} else
		for (q = p; *q >= '0' && *q <= '9'; q++)
			;
	return (strndup(p, (size_t)(q - p)));
}

static void
assert_field(const char *line, const char *key, const char *want)
{
	char	*v = field(line, key);

	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

/* What --verify-audit prints for path, and its exit status. */
static char *
verify(const char *path, int *rc)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*f;

	assert_non_null(f = open_memstream(&buf, &len));
	*rc = audit_verify(path, f);
	fclose(f);
	return (buf);
}

static void	assert_verify(const char *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	open_fails(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
assert_verify(const char *path, int want_rc, const char *want_fmt, ...)
{
	char	 want[2048], *got;
	va_list	 ap;
	int	 rc;

	va_start(ap, want_fmt);
	vsnprintf(want, sizeof(want), want_fmt, ap);
	va_end(ap);
	got = verify(path, &rc);
	if (strcmp(got, want) != 0 || rc != want_rc)
		print_error("verify %s: rc %d, output\n  %s  expected rc %d, "
		    "output\n  %s", path, rc, got, want_rc, want);
	assert_string_equal(got, want);
	assert_int_equal(rc, want_rc);
	free(got);
}

/* A record line as the daemon writes it, with a fixed time. */
static char *
mkrec(uint64_t seq, const char *kind, const char *cfg, const char *fields,
    const char *prev)
{
	char	*s;

	if (asprintf(&s, "{\"seq\":%" PRIu64 ",\"time\":\"2024-05-01T08:00:"
	    "%02u.%03uZ\",\"kind\":\"%s\",\"config_sha256\":\"%s\"%s,"
	    "\"prev_sha256\":\"%s\"}", seq, (unsigned)(seq / 1000 % 60),
	    (unsigned)(seq % 1000), kind, cfg, fields, prev) == -1)
		abort();
	return (s);
}

/* n chained records: start, verdicts, a close. */
static void
mkchain(struct lines *l, size_t n)
{
	char	prev[65] = ZEROS, f[64];
	size_t	i;

	l->v = calloc(n, sizeof(*l->v));
	l->n = n;
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), ",\"probe\":\"p%zu\"", i + 1);
		l->v[i] = mkrec(i + 1, i == 0 ? "start" : i + 1 == n ?
		    "close" : "verdict", CFG_A, i == 0 || i + 1 == n ? "" : f,
		    prev);
		sha_hex(l->v[i], strlen(l->v[i]), prev);
	}
}

static struct audit *
open_ok(const char *path, const char *cfg)
{
	struct audit	*a;
	char		 err[512] = "";

	a = audit_open(path, cfg, err, sizeof(err));
	if (a == NULL)
		print_error("audit_open %s: %s\n", path, err);
	assert_non_null(a);
	return (a);
}

static void
open_fails(const char *path, const char *want_fmt, ...)
{
	char	err[512] = "", want[512];
	va_list	ap;

	va_start(ap, want_fmt);
	vsnprintf(want, sizeof(want), want_fmt, ap);
	va_end(ap);
	assert_null(audit_open(path, CFG_A, err, sizeof(err)));
	assert_string_equal(err, want);
}

static void
record1(struct audit *a, const char *kind, const char *k, const char *v)
{
	struct np_label		l = { (char *)(uintptr_t)k,
				    (char *)(uintptr_t)v };
	struct np_labels	f = { &l, 1 };

	audit_record(a, kind, &f);
}

static void
assert_time(const char *line)
{
	regex_t	 re;
	char	*t = field(line, "time");

	assert_int_equal(regcomp(&re, "^[0-9]{4}-[01][0-9]-[0-3][0-9]T"
	    "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z$", REG_EXTENDED |
	    REG_NOSUB), 0);
	assert_non_null(t);
	assert_int_equal(regexec(&re, t, 0, NULL, 0), 0);
	regfree(&re);
	free(t);
}

/* ---- writing -------------------------------------------------------- */

static void
test_write_read(void **state)
{
	char			*path = newpath("trail.log"), h[65], want[4096],
				*t1, *t3, big[1500], bigcut[1100];
	struct audit		*a;
	struct lines		 l;
	struct stat		 st;
	/* in the order given, not sorted; a fixed key's name as a field */
	struct np_label		 fv[] = {
		{ (char *)"zeta", (char *)"last\"but\\first\n" },
		{ (char *)"alpha",
		    (char *)"\xe5\xae\x89\xe5\x85\xa8 ok \xff!" },
		{ (char *)"kind", (char *)"shadow" },
		{ (char *)"bad key!", (char *)"" },
	};
	struct np_labels	 f = { fv, NP_NELEM(fv) };
	struct np_label		 sv[] = {
		{ (char *)"config", (char *)"/etc/netprobed.yaml" },
		{ (char *)"site", (char *)"district-7" },
	};
	struct np_labels	 s = { sv, NP_NELEM(sv) };

	(void)state;
	a = open_ok(path, CFG_A);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_size, 0);

	audit_record(a, "start", &s);
	audit_set_config(a, CFG_B);
	audit_record(a, "verdict", &f);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* 1022 x's then a 3-byte character across the 1024-byte cut */
	memcpy(big + 1022, "\xe2\x82\xac", 3);
	record1(a, "violation", "detail", big);
	audit_close(a);

	file_lines(path, &l);
	assert_int_equal(l.n, 4);
	t1 = field(l.v[0], "time");
	snprintf(want, sizeof(want), "{\"seq\":1,\"time\":\"%s\",\"kind\":"
	    "\"start\",\"config_sha256\":\"" CFG_A "\",\"config\":"
	    "\"/etc/netprobed.yaml\",\"site\":\"district-7\",\"prev_sha256\":"
	    "\"" ZEROS "\"}", t1);
	assert_string_equal(l.v[0], want);
	assert_time(l.v[0]);

	/* escaped, UTF-8 kept, the bad byte is U+FFFD, keys cleaned */
	sha_hex(l.v[0], strlen(l.v[0]), h);
	t3 = field(l.v[1], "time");
	snprintf(want, sizeof(want), "{\"seq\":2,\"time\":\"%s\",\"kind\":"
	    "\"verdict\",\"config_sha256\":\"" CFG_B "\",\"zeta\":"
	    "\"last\\\"but\\\\first\\u000a\",\"alpha\":\"\xe5\xae\x89\xe5\x85"
	    "\xa8 ok \\ufffd!\",\"field_kind\":\"shadow\",\"bad_key_\":\"\","
	    "\"prev_sha256\":\"%s\"}", t3, h);
	assert_string_equal(l.v[1], want);
	free(t1);
	free(t3);

	/* a long value is cut at 1024 bytes, before the character */
	memset(bigcut, 'x', 1022);
	memcpy(bigcut + 1022, "...", 4);
	assert_field(l.v[2], "detail", bigcut);
	sha_hex(l.v[2], strlen(l.v[2]), h);
	assert_field(l.v[3], "kind", "close");
	assert_field(l.v[3], "seq", "4");
	assert_field(l.v[3], "config_sha256", CFG_B);
	assert_field(l.v[3], "prev_sha256", h);

	t1 = field(l.v[0], "time");
	t3 = field(l.v[3], "time");
	assert_verify(path, 0, "%s: intact: 4 records, seq 1..4, first %s, "
	    "last %s, 2 configurations\n", path, t1, t3);
	free(t1);
	free(t3);
	assert_int_equal(audit_write_errors(), 0);
	lines_free(&l);
	free(path);
}

static void
test_chain_continues(void **state)
{
	char		*path = newpath("trail.log"), h[65], *t1, *t2;
	struct audit	*a;
	struct lines	 l;

	(void)state;
	a = open_ok(path, CFG_A);
	record1(a, "start", "site", "x");
	record1(a, "verdict", "probe", "p1");
	audit_close(a);
	a = open_ok(path, CFG_B);
	record1(a, "start", "site", "x");
	audit_close(a);
	a = open_ok(path, CFG_A);
	audit_close(a);

	file_lines(path, &l);
	assert_int_equal(l.n, 6);
	assert_field(l.v[3], "seq", "4");
	assert_field(l.v[3], "kind", "start");
	assert_field(l.v[3], "config_sha256", CFG_B);
	sha_hex(l.v[2], strlen(l.v[2]), h);
	assert_field(l.v[3], "prev_sha256", h);
	assert_field(l.v[5], "seq", "6");
	t1 = field(l.v[0], "time");
	t2 = field(l.v[5], "time");
	assert_verify(path, 0, "%s: intact: 6 records, seq 1..6, first %s, "
	    "last %s, 2 configurations\n", path, t1, t2);
	free(t1);
	free(t2);
	lines_free(&l);
	free(path);
}

/* A crash mid-write left half a line: a newline and "recovered". */
static void
test_torn_tail(void **state)
{
	static const char	 torn[] = "{\"seq\":4,\"time\":\"2024-05-";
	char			*path = newpath("trail.log"), *before, *after,
				 h[65];
	size_t			 blen, alen;
	struct audit		*a;
	struct lines		 l;

	(void)state;
	mkchain(&l, 3);
	write_lines(path, l.v, l.n);
	lines_free(&l);
	append(path, torn, strlen(torn));
	before = slurp(path, &blen);
	assert_verify(path, 1, "%s:4: broken: the last line is torn (25 "
	    "bytes, no newline): a write was cut short; netprobed adds a "
	    "\"recovered\" record when it next opens the trail\n", path);

	a = open_ok(path, CFG_A);
	record1(a, "start", "site", "x");
	audit_close(a);

	/* nothing removed: the old bytes, then a newline */
	after = slurp(path, &alen);
	assert_true(alen > blen);
	assert_memory_equal(after, before, blen);
	assert_int_equal(after[blen], '\n');
	file_lines(path, &l);
	assert_int_equal(l.n, 7);
	assert_string_equal(l.v[3], torn);
	assert_field(l.v[4], "kind", "recovered");
	assert_field(l.v[4], "seq", "4");
	assert_field(l.v[4], "torn_bytes", "25");
	sha_hex(torn, strlen(torn), h);
	assert_field(l.v[4], "prev_sha256", h);
	assert_field(l.v[5], "seq", "5");
	assert_verify(path, 0, "%s: intact: 6 records, seq 1..6, first "
	    "2024-05-01T08:00:00.001Z, last %.24s, 1 configuration, 1 torn "
	    "write recovered\n", path, strstr(l.v[6], "\"time\":\"") + 8);

	/* the recovered record must account for exactly those bytes */
	free(l.v[4]);
	l.v[4] = mkrec(4, "recovered", CFG_A, ",\"torn_bytes\":\"24\"", h);
	write_lines(path, l.v, 5);
	assert_verify(path, 1, "%s:5: broken: torn_bytes is 24, but the torn "
	    "line 4 has 25 bytes\n", path);
	free(l.v[4]);
	l.v[4] = mkrec(4, "recovered", CFG_A, ",\"torn_bytes\":\"25\"", ZEROS);
	write_lines(path, l.v, 5);
	assert_verify(path, 1, "%s:5: broken: prev_sha256 does not match the "
	    "torn line 4\n", path);
	lines_free(&l);
	free(before);
	free(after);
	free(path);
}

/* Whole lines that are not records after the last one, and a torn first
 * record: both accounted for, nothing removed. */
static void
test_junk_tail_and_torn_head(void **state)
{
	char		*path = newpath("trail.log"), h[65];
	struct audit	*a;
	struct lines	 l;

	(void)state;
	mkchain(&l, 2);
	write_lines(path, l.v, l.n);
	lines_free(&l);
	append(path, "garbage\n\nmore\n", 14);
	assert_verify(path, 1, "%s:3: broken: not a JSON record (expected "
	    "'{' at byte 1)\n", path);
	a = open_ok(path, CFG_A);
	audit_close(a);
	file_lines(path, &l);
	assert_int_equal(l.n, 7);
	assert_field(l.v[5], "kind", "recovered");
	assert_field(l.v[5], "torn_bytes", "13");
	sha_hex("garbage\n\nmore", 13, h);
	assert_field(l.v[5], "prev_sha256", h);
	assert_verify(path, 0, "%s: intact: 4 records, seq 1..4, first "
	    "2024-05-01T08:00:00.001Z, last %.24s, 1 configuration, 1 torn "
	    "write recovered\n", path, strstr(l.v[6], "\"time\":\"") + 8);
	lines_free(&l);
	free(path);
}

static void
test_torn_head(void **state)
{
	char		*path = newpath("trail.log"), h[65];
	struct audit	*a;
	struct lines	 l;

	(void)state;
	spit(path, "{\"seq\":1,\"ti", 12);
	a = open_ok(path, CFG_A);
	audit_close(a);
	file_lines(path, &l);
	assert_int_equal(l.n, 3);
	assert_field(l.v[1], "seq", "1");
	assert_field(l.v[1], "kind", "recovered");
	assert_field(l.v[1], "torn_bytes", "12");
	sha_hex("{\"seq\":1,\"ti", 12, h);
	assert_field(l.v[1], "prev_sha256", h);
	assert_field(l.v[2], "seq", "2");
	lines_free(&l);
	free(path);
}

static void
test_refuse(void **state)
{
	char		*path = newpath("notes.txt"), *link = newpath("link"),
			*fifo = newpath("fifo"), *t, err[512], want[512];
	struct audit	*a;
	size_t		 len;

	(void)state;
	/* someone else's file: never appended to */
	spit(path, "hello world\n", 12);
	open_fails(path, "%s: not an audit trail (line 1: not a JSON record "
	    "(expected '{' at byte 1)); refusing to append to it", path);
	t = slurp(path, &len);
	assert_int_equal(len, 12);
	free(t);
	spit(path, "{\"seq\":1}\n", 10);
	open_fails(path, "%s: not an audit trail (line 1: last key is \"seq\", "
	    "expected \"prev_sha256\"); refusing to append to it", path);

	/* a symbolic link, even to a real trail, and a dangling one */
	free(path);
	path = newpath("trail.log");
	audit_close(open_ok(path, CFG_A));
	assert_int_equal(symlink(path, link), 0);
	open_fails(link, "%s: a symbolic link; give the path of the file "
	    "itself", link);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("/nonexistent/x", link), 0);
	open_fails(link, "%s: a symbolic link; give the path of the file "
	    "itself", link);

	/* not a regular file */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	open_fails(fifo, "%s: not a regular file", fifo);
	open_fails(tmpdir, "%s: not a regular file", tmpdir);

	/* one writer per trail */
	a = open_ok(path, CFG_A);
	open_fails(path, "%s: in use by another process (it holds the lock)",
	    path);
	audit_close(a);

	/* a digest that is not one */
	assert_null(audit_open(path, "abc", err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: the configuration digest is not 64 "
	    "hex digits", path);
	assert_string_equal(err, want);
	free(path);
	free(link);
	free(fifo);
}

/* Short writes (RLIMIT_FSIZE cuts them): counted, then accounted for. */
static void
test_short_write(void **state)
{
	char		*path = newpath("trail.log"), h[65];
	struct audit	*a;
	struct lines	 l;
	struct rlimit	 old, lim;
	struct stat	 st;
	uint64_t	 errs = audit_write_errors();
	size_t		 reclen;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	a = open_ok(path, CFG_A);
	record1(a, "start", "site", "x");
	record1(a, "verdict", "probe", "p2");
	assert_int_equal(stat(path, &st), 0);
	file_lines(path, &l);
	reclen = strlen(l.v[1]) + 1;
	lines_free(&l);

	/* record 3, the same size as record 2, less its newline */
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + reclen - 1;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	record1(a, "verdict", "probe", "p3");
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(audit_write_errors(), errs + 1);
	/* record 4 adds the newline first: no gap */
	record1(a, "verdict", "probe", "p4");

	/* record 5 cut after 10 bytes; record 6 not written at all */
	assert_int_equal(stat(path, &st), 0);
	lim.rlim_cur = (rlim_t)st.st_size + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	record1(a, "verdict", "probe", "p5");
	record1(a, "verdict", "probe", "p6");
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(audit_write_errors(), errs + 3);
	/* then a "recovered" record and record 7 */
	record1(a, "verdict", "probe", "p7");
	audit_close(a);
	assert_int_equal(audit_write_errors(), errs + 3);

	file_lines(path, &l);
	assert_int_equal(l.n, 8);
	assert_field(l.v[2], "probe", "p3");
	assert_field(l.v[3], "probe", "p4");
	assert_int_equal(strlen(l.v[4]), 10);
	assert_memory_equal(l.v[4], "{\"seq\":5,\"", 10);
	assert_field(l.v[5], "kind", "recovered");
	assert_field(l.v[5], "seq", "5");
	assert_field(l.v[5], "torn_bytes", "10");
	sha_hex(l.v[4], 10, h);
	assert_field(l.v[5], "prev_sha256", h);
	assert_field(l.v[6], "seq", "6");
	assert_field(l.v[6], "probe", "p7");
	assert_verify(path, 0, "%s: intact: 7 records, seq 1..7, first %.24s, "
	    "last %.24s, 1 configuration, 1 torn write recovered\n", path,
	    strstr(l.v[0], "\"time\":\"") + 8, strstr(l.v[7], "\"time\":\"") +
	    8);
	lines_free(&l);
	signal(SIGXFSZ, SIG_DFL);
	free(path);
}

/* The "recovered" record itself cut short: its bytes join the gap. */
static void
test_short_recovery(void **state)
{
	char		*path = newpath("trail.log"), h[65];
	struct audit	*a;
	struct lines	 l;
	struct rlimit	 old, lim;
	struct stat	 st;
	uint64_t	 errs = audit_write_errors();

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	mkchain(&l, 2);
	write_lines(path, l.v, l.n);
	lines_free(&l);
	append(path, "garbage\n", 8);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 6;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	a = open_ok(path, CFG_A);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(audit_write_errors(), errs + 1);
	record1(a, "verdict", "probe", "p3");
	audit_close(a);

	file_lines(path, &l);
	assert_int_equal(l.n, 7);
	assert_string_equal(l.v[2], "garbage");
	assert_string_equal(l.v[3], "{\"seq\"");
	assert_field(l.v[4], "kind", "recovered");
	assert_field(l.v[4], "seq", "3");
	assert_field(l.v[4], "torn_bytes", "14");
	sha_hex("garbage\n{\"seq\"", 14, h);
	assert_field(l.v[4], "prev_sha256", h);
	assert_field(l.v[5], "probe", "p3");
	assert_verify(path, 0, "%s: intact: 5 records, seq 1..5, first "
	    "2024-05-01T08:00:00.001Z, last %.24s, 1 configuration, 1 torn "
	    "write recovered\n", path, strstr(l.v[6], "\"time\":\"") + 8);
	lines_free(&l);
	signal(SIGXFSZ, SIG_DFL);
	free(path);
}

/* A trail larger than the window read at open: the chain goes on from
 * its end; a window without a record falls back to the whole file. */
static void
test_big_trail(void **state)
{
	char		*path = newpath("big.log"), h[65], *junk;
	struct audit	*a;
	struct lines	 l;
	struct stat	 st;
	size_t		 i;

	(void)state;
	mkchain(&l, 6000);
	write_lines(path, l.v, l.n);
	sha_hex(l.v[5999], strlen(l.v[5999]), h);
	lines_free(&l);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 1024 * 1024);
	a = open_ok(path, CFG_A);
	record1(a, "start", "site", "x");
	audit_close(a);
	file_lines(path, &l);
	assert_int_equal(l.n, 6002);
	assert_field(l.v[6000], "seq", "6001");
	assert_field(l.v[6000], "prev_sha256", h);
	assert_verify(path, 0, "%s: intact: 6002 records, seq 1..6002, first "
	    "2024-05-01T08:00:00.001Z, last %.24s, 1 configuration\n", path,
	    strstr(l.v[6001], "\"time\":\"") + 8);
	lines_free(&l);

	/* 1.1 MB of lines that are not records: none in the window */
	junk = malloc(1001);
	memset(junk, 'x', 1000);
	junk[1000] = '\n';
	for (i = 0; i < 1100; i++)
		append(path, junk, 1001);
	free(junk);
	a = open_ok(path, CFG_A);
	audit_close(a);
	file_lines(path, &l);
	assert_int_equal(l.n, 6002 + 1100 + 2);
	assert_field(l.v[7102], "kind", "recovered");
	assert_field(l.v[7102], "seq", "6003");
	assert_field(l.v[7102], "torn_bytes", "1101099");
	assert_verify(path, 0, "%s: intact: 6004 records, seq 1..6004, first "
	    "2024-05-01T08:00:00.001Z, last %.24s, 1 configuration, 1 torn "
	    "write recovered\n", path, strstr(l.v[7103], "\"time\":\"") +
	    8);
	lines_free(&l);
	free(path);

	/* a first line longer than any record */
	path = newpath("long.txt");
	junk = malloc(300 * 1024);
	memset(junk, '{', 300 * 1024);
	spit(path, junk, 300 * 1024);
	open_fails(path, "%s: not an audit trail (line 1: a line longer than "
	    "262144 bytes); refusing to append to it", path);
	free(junk);
	free(path);
}

static void
test_null(void **state)
{
	uint64_t	errs = audit_write_errors();

	(void)state;
	audit_record(NULL, "verdict", NULL);
	record1(NULL, "violation", "src", "10.0.0.1");
	audit_set_config(NULL, CFG_A);
	audit_close(NULL);
	assert_int_equal(audit_write_errors(), errs);
}

/* ---- verifying ------------------------------------------------------ */

/* Verify the lines of l (after edit) written to a new file. */
static char *
chain_file(const char *what, struct lines *l)
{
	char	*path = newpath(what);

	write_lines(path, l->v, l->n);
	return (path);
}

static void
test_verify_tampered(void **state)
{
	struct lines	 l;
	char		*path, *t, *s;

	(void)state;
	mkchain(&l, 6);
	path = chain_file("intact", &l);
	assert_verify(path, 0, "%s: intact: 6 records, seq 1..6, first "
	    "2024-05-01T08:00:00.001Z, last 2024-05-01T08:00:00.006Z, 1 "
	    "configuration\n", path);
	free(path);

	/* one byte changed in a value of record 3 */
	s = strstr(l.v[2], "\"p3\"");
	s[2] = '9';
	path = chain_file("byte", &l);
	assert_verify(path, 1, "%s:4: broken: prev_sha256 does not match line "
	    "3\n", path);
	free(path);
	s[2] = '3';
	/* ... or in the syntax */
	s[0] = '\'';
	path = chain_file("syntax", &l);
	assert_verify(path, 1, "%s:3: broken: not a JSON record (the value "
	    "at byte 152 is not a string or a number)\n", path);
	free(path);
	s[0] = '"';

	/* record 3 removed */
	t = l.v[2];
	memmove(l.v + 2, l.v + 3, 3 * sizeof(*l.v));
	l.n = 5;
	path = chain_file("removed", &l);
	assert_verify(path, 1, "%s:3: broken: seq 4 after 2: a record is "
	    "missing\n", path);
	free(path);
	memmove(l.v + 3, l.v + 2, 3 * sizeof(*l.v));
	l.v[2] = t;
	l.n = 6;

	/* records 3 and 4 swapped */
	l.v[2] = l.v[3];
	l.v[3] = t;
	path = chain_file("swapped", &l);
	assert_verify(path, 1, "%s:3: broken: seq 4 after 2: a record is "
	    "missing\n", path);
	free(path);
	l.v[3] = l.v[2];
	l.v[2] = t;

	/* record 3 twice */
	t = l.v[3];
	l.v[3] = l.v[2];
	path = chain_file("duplicated", &l);
	assert_verify(path, 1, "%s:4: broken: seq 3 after 3: a record is "
	    "repeated\n", path);
	free(path);
	l.v[3] = t;

	/* the first record removed, then two more */
	path = newpath("head");
	write_lines(path, l.v + 1, 5);
	assert_verify(path, 1, "%s:1: broken: seq 2 in the first record, "
	    "expected 1\n", path);
	free(path);
	path = newpath("gap");
	write_lines(path, l.v, 2);
	append(path, l.v[5], strlen(l.v[5]));
	append(path, "\n", 1);
	assert_verify(path, 1, "%s:3: broken: seq 6 after 2: 3 records are "
	    "missing\n", path);
	free(path);

	/* the limit of a chain: the last record removed is not seen */
	l.n = 5;
	path = chain_file("tail", &l);
	assert_verify(path, 0, "%s: intact: 5 records, seq 1..5, first "
	    "2024-05-01T08:00:00.001Z, last 2024-05-01T08:00:00.005Z, 1 "
	    "configuration\n", path);
	free(path);
	l.n = 6;

	/* a first record that does not start the chain */
	free(l.v[0]);
	l.v[0] = mkrec(1, "start", CFG_A, "", CFG_B);
	path = chain_file("prev0", &l);
	assert_verify(path, 1, "%s:1: broken: prev_sha256 of the first record "
	    "is not 64 zeros\n", path);
	free(path);

	/* an empty file, a missing one, a directory */
	path = newpath("empty");
	spit(path, "", 0);
	assert_verify(path, 1, "%s:1: broken: empty file, no records\n",
	    path);
	free(path);
	path = newpath("missing");
	assert_verify(path, 2, "%s: unreadable: No such file or directory\n",
	    path);
	free(path);
	assert_verify(tmpdir, 2, "%s: unreadable: Is a directory\n", tmpdir);
	lines_free(&l);
}

/* Line 2 of a file whose line 1 is a good record: what verify says. */
static void
line2(const char *line, size_t len, const char *why)
{
	char	*path = newpath("hostile"), *first, *buf;

	first = mkrec(1, "start", CFG_A, "", ZEROS);
	buf = malloc(strlen(first) + len + 2);
	memcpy(buf, first, strlen(first));
	buf[strlen(first)] = '\n';
	memcpy(buf + strlen(first) + 1, line, len);
	buf[strlen(first) + 1 + len] = '\n';
	spit(path, buf, strlen(first) + len + 2);
	assert_verify(path, 1, "%s:2: broken: %s\n", path, why);
	free(buf);
	free(first);
	free(path);
}

#define LINE2(s, why)	line2((s), sizeof(s) - 1, (why))

static void
test_verify_records(void **state)
{
	char	prev[65], *r1, *l2, *big;
	size_t	i;

	(void)state;
	r1 = mkrec(1, "start", CFG_A, "", ZEROS);
	sha_hex(r1, strlen(r1), prev);

	/* not JSON at all */
	LINE2("", "not a JSON record (empty line)");
	LINE2("{\0}", "not a JSON record (expected '\"' at byte 2)");
	LINE2("{\"seq\":2,\"time\":\"\0\"}", "not a JSON record (control "
	    "byte 0x00 in a string at byte 18)");
	LINE2("{\"seq\":2,\"time\":\"\\x\"}", "not a JSON record (bad escape "
	    "at byte 18)");
	LINE2("{\"seq\":2,\"time\":\"\\u12\"}", "not a JSON record (bad "
	    "escape at byte 18)");
	LINE2("{\"seq\":2,\"time\":\"\\udc00\"}", "not a JSON record (bad "
	    "escape at byte 18)");
	LINE2("{\"seq\":2,\"time\":\"\\ud800\\u0041\"}", "not a JSON record "
	    "(bad escape at byte 18)");
	LINE2("{\"seq\":2,\"time\":\"\xc3\x28\"}", "not a JSON record "
	    "(invalid UTF-8 at byte 18)");
	LINE2("{\"seq\":2,\"time\":\"\xed\xa0\x80\"}", "not a JSON record "
	    "(invalid UTF-8 at byte 18)");
	LINE2("{\"seq\":2,\"time\":\"abc", "not a JSON record (unterminated "
	    "string at byte 21)");
	LINE2("{\"seq\" :2}", "not a JSON record (expected ':' at byte 7)");
	LINE2("{\"seq\":2 }", "not a JSON record (expected ',' or '}' at "
	    "byte 9)");
	LINE2("{\"seq\":-2}", "not a JSON record (the value at byte 8 is not "
	    "a string or a number)");
	LINE2("{\"seq\":2}}", "not a JSON record (bytes after the closing "
	    "'}' at byte 10)");
	LINE2("[1,2]", "not a JSON record (expected '{' at byte 1)");

	/* JSON, but not a record */
	LINE2("{\"time\":2}", "key 1 is \"time\", expected \"seq\"");
	LINE2("{\"seq\":2,\"kind\":\"x\"}", "key 2 is \"kind\", expected "
	    "\"time\"");
	LINE2("{\"s\\u0000q\":2}", "key 1 is \"s?q\", expected \"seq\"");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\"}", "last key is "
	    "\"config_sha256\", expected \"prev_sha256\"");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\"" ZEROS
	    "\",\"a\":\"b\"}", "last key is \"a\", expected \"prev_sha256\"");
	LINE2("{\"seq\":02,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\"" ZEROS
	    "\"}", "seq is not a positive integer");
	LINE2("{\"seq\":0,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\"" ZEROS
	    "\"}", "seq is not a positive integer");
	LINE2("{\"seq\":18446744073709551616,\"time\":\"2024-05-01T08:00:00."
	    "002Z\",\"kind\":\"x\",\"config_sha256\":\"" CFG_A "\","
	    "\"prev_sha256\":\"" ZEROS "\"}", "seq is not a positive "
	    "integer");
	LINE2("{\"seq\":\"2\",\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\"" ZEROS
	    "\"}", "seq is not a positive integer");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01 08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\"" ZEROS
	    "\"}", "time is not an RFC 3339 UTC time with milliseconds");
	LINE2("{\"seq\":2,\"time\":\"2024-13-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\"" ZEROS
	    "\"}", "time is not an RFC 3339 UTC time with milliseconds");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\"" ZEROS
	    "\"}", "kind is not a non-empty string");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "A\",\"prev_sha256\":\"" ZEROS
	    "\"}", "config_sha256 is not 64 lowercase hex digits");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\""
	    "ABCDEF0000000000000000000000000000000000000000000000000000000000"
	    "\"}", "prev_sha256 is not 64 lowercase hex digits");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"site\":\"a\",\"site\":"
	    "\"b\",\"prev_sha256\":\"" ZEROS "\"}", "key \"site\" appears "
	    "twice");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"s\\u0065q\":\"a\","
	    "\"prev_sha256\":\"" ZEROS "\"}", "key \"seq\" appears twice");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"x\",\"config_sha256\":\"" CFG_A "\",\"n\":5,"
	    "\"prev_sha256\":\"" ZEROS "\"}", "the value of \"n\" is not a "
	    "string");
	LINE2("{\"seq\":2,\"time\":\"2024-05-01T08:00:00.002Z\",\"kind\":"
	    "\"recovered\",\"config_sha256\":\"" CFG_A "\",\"prev_sha256\":\""
	    ZEROS "\"}", "a \"recovered\" record without a torn_bytes count");

	/* records, but not the next one */
	l2 = mkrec(2, "recovered", CFG_A, ",\"torn_bytes\":\"0\"", prev);
	line2(l2, strlen(l2), "a \"recovered\" record with no torn line "
	    "before it");
	free(l2);
	l2 = mkrec(1, "verdict", CFG_A, "", prev);
	line2(l2, strlen(l2), "seq 1 after 1: a record is repeated");
	free(l2);
	l2 = mkrec(2, "verdict", CFG_A, "", ZEROS);
	line2(l2, strlen(l2), "prev_sha256 does not match line 1");
	free(l2);

	/* deep junk, many keys, a long key: bounded, never recursed */
	big = malloc(1024 * 1024 + 1);
	memcpy(big, "{\"seq\":", 7);
	memset(big + 7, '[', 100000);
	line2(big, 100007, "not a JSON record (the value at byte 8 is not a "
	    "string or a number)");
	for (i = 0, big[0] = '{', big[1] = '\0'; i < 70; i++)
		sprintf(big + strlen(big), "\"k%zu\":\"v\",", i);
	line2(big, strlen(big), "not a JSON record (more than 64 keys)");
	big[0] = '{';
	big[1] = '"';
	memset(big + 2, 'k', 300);
	memcpy(big + 302, "\":\"v\"}", 6);
	line2(big, 308, "not a JSON record (key longer than 255 bytes at "
	    "byte 2)");
	/* a 1 MiB line */
	memset(big, 'A', 1024 * 1024);
	line2(big, 1024 * 1024, "a line of 1048576 bytes is too long for a "
	    "record (at most 262144)");
	free(big);
	free(r1);
}

/* Random bytes with NULs and newlines, and a 1 MiB torn line: one line of
 * output, exit 1, never a crash (ASan and valgrind watch). */
static void
test_verify_hostile(void **state)
{
	char		*path, *out, *buf, *p;
	uint32_t	 x = 2463534242u;
	size_t		 i, n, len;
	int		 rc, round;
	struct audit	*a;
	char		 err[512];

	(void)state;
	buf = malloc(1024 * 1024 + 64);
	for (round = 0; round < 64; round++) {
		path = newpath("random");
		len = 1 + (size_t)round * 997;
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (char)(x & 0xff);
			/* some rounds look like records for a while */
			if (round % 4 == 1 && i < 17)
				buf[i] = "{\"seq\":1,\"time\":\""[i];
		}
		spit(path, buf, len);
		out = verify(path, &rc);
		assert_int_equal(rc, 1);
		assert_memory_equal(out, path, strlen(path));
		p = strchr(out, '\n');
		assert_non_null(p);
		assert_int_equal(p[1], '\0');
		n = strlen(path);
		assert_memory_equal(out + n, ":", 1);
		free(out);
		/* the writer never takes it for a trail, or recovers it */
		a = audit_open(path, CFG_A, err, sizeof(err));
		if (a != NULL) {
			assert_true(round % 4 == 1);
			audit_close(a);
			out = verify(path, &rc);
			if (rc != 0)
				print_error("%s", out);
			assert_int_equal(rc, 0);
			free(out);
		}
		free(path);
	}

	/* exact lines for two of them */
	path = newpath("nuls");
	memset(buf, 0, 4096);
	spit(path, buf, 4096);
	assert_verify(path, 1, "%s:1: broken: the last line is torn (4096 "
	    "bytes, no newline): a write was cut short; netprobed adds a "
	    "\"recovered\" record when it next opens the trail\n", path);
	buf[4095] = '\n';
	spit(path, buf, 4096);
	assert_verify(path, 1, "%s:1: broken: not a JSON record (expected "
	    "'{' at byte 1)\n", path);
	free(path);
	path = newpath("mib");
	memset(buf, '{', 1024 * 1024);
	spit(path, buf, 1024 * 1024);
	assert_verify(path, 1, "%s:1: broken: the last line is torn (1048576 "
	    "bytes, no newline): a write was cut short; netprobed adds a "
	    "\"recovered\" record when it next opens the trail\n", path);
	free(path);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_chain_continues),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_junk_tail_and_torn_head),
		cmocka_unit_test(test_torn_head),
		cmocka_unit_test(test_refuse),
		cmocka_unit_test(test_short_write),
		cmocka_unit_test(test_short_recovery),
		cmocka_unit_test(test_big_trail),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_verify_tampered),
		cmocka_unit_test(test_verify_records),
		cmocka_unit_test(test_verify_hostile),
	};

	log_init(LOG_LVL_WARN);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
