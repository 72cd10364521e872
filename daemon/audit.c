/*
 * The audit trail (see audit.h): an append-only JSON-lines file, one
 * record per line, each chained to the one before by SHA-256.
 *
 * A record, keys always in this order and without any whitespace:
 *
 *   {"seq":42,"time":"2024-05-01T08:00:00.123Z","kind":"reload",
 *    "config_sha256":"<64 hex>", <the caller's fields, strings, in the
 *    order given>, "prev_sha256":"<64 hex>"}
 *
 * seq counts 1, 2, ... and goes on across restarts; time is the wall
 * clock in RFC 3339 UTC with milliseconds; config_sha256 is the SHA-256
 * of the configuration file in force; prev_sha256 is the SHA-256 of the
 * previous line's bytes (without its newline), 64 zeros on the first
 * line.  Text is JSON-escaped by json_str(): UTF-8 kept, bytes that are
 * not UTF-8 become U+FFFD.  Caller keys are reduced to [A-Za-z0-9_.-]
 * (at most 64 bytes; a name of a fixed key gets a "field_" prefix) and
 * values to 1024 bytes (then "..."), so a line stays far below
 * AUDIT_LINE_MAX, the longest line --verify-audit accepts.
 *
 * Kinds written here: "recovered" (see below) and "close" (the daemon
 * stops or moves the trail elsewhere: a trail of a stopped daemon that
 * does not end in "close" was cut short or the daemon crashed).  The
 * daemon writes "start", "reload", "verdict" and "violation".
 *
 * Writing: each record is built in memory and written with one write(2) on
 * an O_APPEND descriptor, so records never interleave.  There is no fsync
 * per record: it would block the event loop (milliseconds, up to seconds on
 * a busy or failing disk).  The price is that a crash of the machine (not
 * of the daemon) can lose the last records still in the page cache, or
 * leave a torn last line.  A torn or foreign tail is never removed: on the
 * next open (or the next record, after a short write) the trail gets a
 * newline and a "recovered" record whose "torn_bytes" field counts the
 * bytes that are not records (the lines after the last record, joined by
 * '\n') and whose prev_sha256 is the SHA-256 of those bytes.  The chain goes
 * on through the gap, and the auditor sees it.  A short write or a write
 * error is logged and counted (audit_write_errors()), never fatal.  The
 * file is locked (flock) so that two daemons never append to one trail.  An
 * existing file whose first line is not a record (nor the start of a torn
 * first one) is someone else's and is refused, as are symbolic links
 * (O_NOFOLLOW) and anything but a regular file.
 *
 * What a hash chain cannot show: it has no secret, so anyone who can
 * write the file can rewrite it whole, or cut it after any record and
 * the rest still verifies: the removal of the LAST records is invisible.
 * It shows that no record was changed, removed, inserted or reordered in
 * the middle, relative to the last hash you trust.  So an operator
 * anchors it: the daemon logs "record N (KIND), sha256 H" at each start,
 * reload, recovery and close (the log goes to the journal or a remote
 * syslog, out of the trail's reach), and a copy of the trail or of its
 * last line taken off the box (backup, SIEM) pins every record before
 * it.  --verify-audit then says the file is intact and prints the last
 * seq; the auditor checks that the anchored hash is still in it.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "daemon/netprobed.h"
#include "daemon/audit.h"

/* The longest line --verify-audit parses; records stay far below it. */
#define AUDIT_LINE_MAX		(256 * 1024)
/* What the writer keeps of the caller's fields. */
#define AUDIT_FIELDS_MAX	32
#define AUDIT_KEY_MAX		64
#define AUDIT_VALUE_MAX		1024
/* The parser: keys per record, bytes per key. */
#define PARSE_KEYS_MAX		64
#define PARSE_KEY_MAX		255
/* Distinct configurations --verify-audit keeps track of. */
#define CFGSET_MAX		65536
#define READ_CHUNK		65536
/* At open, the end of a trail read first: four of the longest lines. */
#define TAIL_WINDOW		(4 * AUDIT_LINE_MAX)

#define HASH_HEX	65	/* 64 hex digits and a NUL */
static const char	zero_hash[HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";
/* How the first record of a trail starts: a torn first line may be this. */
static const char	trail_head[] = "{\"seq\":1,\"time\":\"";
/* The fixed keys, in order; prev_sha256 is last, after the fields. */
static const char	*const fixed_keys[] = { "seq", "time", "kind",
			    "config_sha256", "prev_sha256" };

struct audit {
	int		 fd;
	char		*path;
	char		 config[HASH_HEX];
	uint64_t	 seq;		/* of the last record, 0: none yet */
	char		 prev[HASH_HEX];	/* SHA-256 of its line */
	int		 need_nl;	/* it lacks its newline */
	/*
	 * Bytes after the last record that are not records (a torn write):
	 * their SHA-256 so far (NULL: none), their length, and whether the
	 * file ends in a newline after them (not counted: it ends the line).
	 */
	EVP_MD_CTX	*junk;
	uint64_t	 junk_len;
	int		 junk_nl;
};

/* Process-wide, so a reopened trail does not reset the counter. */
static uint64_t	audit_nerrors;

/* ---- SHA-256 -------------------------------------------------------- */

static void
hex32(const unsigned char *md, char out[HASH_HEX])
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[64] = '\0';
}

static EVP_MD_CTX *
sha_new(void)
{
	EVP_MD_CTX	*c;

	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		fatalx("SHA-256: cannot initialise a digest");
	return (c);
}

static void
sha_reset(EVP_MD_CTX *c)
{
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		fatalx("SHA-256: cannot initialise a digest");
}

static void
sha_feed(EVP_MD_CTX *c, const void *p, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(c, p, len) != 1)
		fatalx("SHA-256: digest update failed");
}

/* The digest so far, leaving c usable. */
static void
sha_peek(const EVP_MD_CTX *c, char out[HASH_HEX])
{
	EVP_MD_CTX	*t;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n;

	if ((t = EVP_MD_CTX_new()) == NULL || EVP_MD_CTX_copy_ex(t, c) != 1 ||
	    EVP_DigestFinal_ex(t, md, &n) != 1 || n != 32)
		fatalx("SHA-256: cannot finish a digest");
	EVP_MD_CTX_free(t);
	hex32(md, out);
}

static void
sha_hex(const void *p, size_t len, char out[HASH_HEX])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n;

	if (EVP_Digest(p, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		fatalx("SHA-256: digest failed");
	hex32(md, out);
}

static int
is_hash_hex(const char *s, size_t len)
{
	size_t	i;

	if (len != 64)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (1);
}

/* ---- reading a trail: lines, streamed ------------------------------- */

/*
 * Lines of any length, read in chunks: the first AUDIT_LINE_MAX bytes of
 * each are kept, all are hashed.  The "region" is every line since the
 * last lr_region_reset() joined by '\n': what a "recovered" record hashes.
 */
struct lreader {
	int		 fd;
	char		*chunk;
	size_t		 cpos, clen;
	int		 eof;
	char		*line;
	uint64_t	 lineno;
	EVP_MD_CTX	*lctx;
	EVP_MD_CTX	*rctx;
	uint64_t	 rlen;		/* bytes in the region */
	uint64_t	 rlines;	/* lines in the region */
	uint64_t	 rfirst;	/* number of its first line */
	int		 rnl;		/* its last line ended in '\n' */
};

struct lline {
	const char	*s;		/* the first len bytes of the line */
	size_t		 len;
	uint64_t	 total;		/* its length (> len: too long) */
	uint64_t	 no;		/* 1-based */
	int		 nl;		/* it ended in '\n' */
	char		 sha[HASH_HEX];
};

static void
lr_init(struct lreader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->chunk = xmalloc(READ_CHUNK);
	r->line = xmalloc(AUDIT_LINE_MAX);
	r->lctx = sha_new();
	r->rctx = sha_new();
}

static void
lr_free(struct lreader *r)
{
	free(r->chunk);
	free(r->line);
	EVP_MD_CTX_free(r->lctx);
	EVP_MD_CTX_free(r->rctx);
}

static void
lr_region_reset(struct lreader *r)
{
	sha_reset(r->rctx);
	r->rlen = 0;
	r->rlines = 0;
	r->rfirst = 0;
}

/* The next line: 1, 0 at the end, -1 on a read error (errno set). */
static int
lr_next(struct lreader *r, struct lline *l)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	const char	*p, *nl;
	size_t		 n, keep;
	ssize_t		 got;
	int		 started = 0;

	sha_reset(r->lctx);
	memset(l, 0, sizeof(*l));
	for (;;) {
		if (r->cpos == r->clen) {
			if (r->eof)
				break;
			got = read(r->fd, r->chunk, READ_CHUNK);
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1)
				return (-1);
			if (got == 0) {
				r->eof = 1;
				break;
			}
			r->cpos = 0;
			r->clen = (size_t)got;
		}
		if (!started) {
			started = 1;
			if (r->rlines > 0) {
				/* the region's lines are joined by '\n' */
				sha_feed(r->rctx, "\n", 1);
				r->rlen++;
			}
		}
		p = r->chunk + r->cpos;
		n = r->clen - r->cpos;
		if ((nl = memchr(p, '\n', n)) != NULL)
			n = (size_t)(nl - p);
		sha_feed(r->lctx, p, n);
		sha_feed(r->rctx, p, n);
		keep = AUDIT_LINE_MAX - l->len;
		if (keep > n)
			keep = n;
		memcpy(r->line + l->len, p, keep);
		l->len += keep;
		l->total += n;
		r->rlen += n;
		r->cpos += n;
		if (nl != NULL) {
			r->cpos++;
			l->nl = 1;
			break;
		}
	}
	if (!started)
		return (0);
	l->s = r->line;
	l->no = ++r->lineno;
	if (r->rlines++ == 0)
		r->rfirst = l->no;
	r->rnl = l->nl;
	if (EVP_DigestFinal_ex(r->lctx, md, &mdlen) != 1 || mdlen != 32)
		fatalx("SHA-256: cannot finish a digest");
	hex32(md, l->sha);
	return (1);
}

/* ---- parsing one record --------------------------------------------- */

/*
 * A strict parser for exactly the records above: a flat object, no
 * whitespace, string keys, string values (seq: a number).  Everything is
 * bounded by the line's length; nothing recurses.
 */
struct span {
	const char	*s;
	size_t		 len;
};

struct rec {
	uint64_t	seq;
	struct span	time;
	struct span	kind;
	struct span	config;
	struct span	prev;
	int		recovered;
	uint64_t	torn_bytes;
};

struct parser {
	const char	*base, *p, *e;
	char		 keys[PARSE_KEYS_MAX][PARSE_KEY_MAX + 1];
	size_t		 keylen[PARSE_KEYS_MAX];
	struct span	 val[PARSE_KEYS_MAX];
	int		 isnum[PARSE_KEYS_MAX];
	size_t		 nkeys;
};

static int
hex4(const char *p, uint32_t *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		*v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			*v |= (uint32_t)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			*v |= (uint32_t)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			*v |= (uint32_t)(p[i] - 'A' + 10);
		else
			return (-1);
	}
	return (0);
}

static void
put_utf8(char *out, size_t outsz, size_t *o, uint32_t cp)
{
	unsigned char	b[4];
	size_t		n, i;

	if (cp < 0x80)
		b[0] = (unsigned char)cp, n = 1;
	else if (cp < 0x800)
		b[0] = (unsigned char)(0xc0 | cp >> 6),
		b[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		b[0] = (unsigned char)(0xe0 | cp >> 12),
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		b[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
	else
		b[0] = (unsigned char)(0xf0 | cp >> 18),
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
		b[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
	for (i = 0; i < n; i++, (*o)++)
		if (out != NULL && *o < outsz)
			out[*o] = (char)b[i];
}

/*
 * A JSON string at ps->p (RFC 8259 section 7), decoded into out (NULL:
 * only checked) up to outsz bytes; *outlen is the full decoded length.
 * The span of its raw contents (without the quotes) goes to raw.
 */
static int
parse_string(struct parser *ps, char *out, size_t outsz, size_t *outlen,
    struct span *raw, char *why, size_t whylen)
{
	const char	*p = ps->p, *e = ps->e;
	uint32_t	 cp, lo;
	size_t		 o = 0, n;

	if (p == e || *p != '"') {
		snprintf(why, whylen, "expected '\"' at byte %zu",
		    (size_t)(p - ps->base) + 1);
		return (-1);
	}
	p++;
	raw->s = p;
	for (;;) {
		if (p == e) {
			snprintf(why, whylen, "unterminated string at byte %zu",
			    (size_t)(p - ps->base) + 1);
			return (-1);
		}
		if (*p == '"')
			break;
		if ((unsigned char)*p < 0x20) {
			snprintf(why, whylen, "control byte 0x%02x in a string "
			    "at byte %zu", (unsigned char)*p,
			    (size_t)(p - ps->base) + 1);
			return (-1);
		}
		if (*p != '\\') {
			if ((n = utf8_seq_len((const unsigned char *)p,
			    (size_t)(e - p))) == 0) {
				snprintf(why, whylen, "invalid UTF-8 at byte "
				    "%zu", (size_t)(p - ps->base) + 1);
				return (-1);
			}
			for (; n > 0; n--, p++, o++)
				if (out != NULL && o < outsz)
					out[o] = *p;
			continue;
		}
		if (e - p < 2)
			goto bad;
		switch (p[1]) {
		case '"': case '\\': case '/':
			cp = (unsigned char)p[1];
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
			if (e - p < 6 || hex4(p + 2, &cp) == -1)
				goto bad;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad;	/* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* a pair: \uD8xx\uDCxx (section 7) */
				if (e - p < 12 || p[6] != '\\' ||
				    p[7] != 'u' || hex4(p + 8, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			}
			p += 4;
			break;
		default:
			goto bad;
		}
		p += 2;
		put_utf8(out, outsz, &o, cp);
	}
	raw->len = (size_t)(p - raw->s);
	ps->p = p + 1;
	if (outlen != NULL)
		*outlen = o;
	return (0);
bad:
	snprintf(why, whylen, "bad escape at byte %zu",
	    (size_t)(p - ps->base) + 1);
	return (-1);
}

/* A decoded key for a message: at most 64 bytes, controls as '?'. */
static const char *
key_text(const struct parser *ps, size_t k, char buf[65])
{
	size_t	i, n = ps->keylen[k] < 64 ? ps->keylen[k] : 64;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)ps->keys[k][i] < 0x20 ||
		    ps->keys[k][i] == 0x7f ? '?' : ps->keys[k][i];
	buf[n] = '\0';
	return (buf);
}

static int
key_is(const struct parser *ps, size_t k, const char *name)
{
	return (ps->keylen[k] == strlen(name) &&
	    memcmp(ps->keys[k], name, ps->keylen[k]) == 0);
}

static int
span_is(const struct span *s, const char *text)
{
	return (s->len == strlen(text) && memcmp(s->s, text, s->len) == 0);
}

/* A decimal without sign or leading zeros, fitting 64 bits. */
static int
span_u64(const struct span *s, uint64_t *v)
{
	size_t	i;

	if (s->len == 0 || s->len > 20 || (s->s[0] == '0' && s->len > 1))
		return (-1);
	for (*v = 0, i = 0; i < s->len; i++) {
		if (s->s[i] < '0' || s->s[i] > '9' ||
		    *v > (UINT64_MAX - (uint64_t)(s->s[i] - '0')) / 10)
			return (-1);
		*v = *v * 10 + (uint64_t)(s->s[i] - '0');
	}
	return (0);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" as json_time() writes (RFC 3339 5.6). */
static int
span_time(const struct span *s)
{
	static const char	pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	const char		*t = s->s;
	size_t			i;

	if (s->len != sizeof(pat) - 1)
		return (0);
	for (i = 0; i < s->len; i++)
		if (pat[i] == 'd' ? (t[i] < '0' || t[i] > '9') :
		    t[i] != pat[i])
			return (0);
#define D2(k)	((t[k] - '0') * 10 + (t[k + 1] - '0'))
	return (D2(5) >= 1 && D2(5) <= 12 && D2(8) >= 1 && D2(8) <= 31 &&
	    D2(11) <= 23 && D2(14) <= 59 && D2(17) <= 60);
#undef D2
}

/*
 * Parse one line as a record.  0, or -1 with why: "not a JSON record
 * (...)" when it is not this flat object at all, else what is wrong.
 */
static int
rec_parse(struct parser *ps, const char *line, size_t len, struct rec *r,
    char *why, size_t whylen)
{
	char		 detail[160], kt[65];
	size_t		 i, j, k, n;
	struct span	 raw;

	memset(r, 0, sizeof(*r));
	ps->base = ps->p = line;
	ps->e = line + len;
	ps->nkeys = 0;
	if (len == 0 || *ps->p != '{') {
		snprintf(detail, sizeof(detail), len == 0 ? "empty line" :
		    "expected '{' at byte 1");
		goto notjson;
	}
	ps->p++;
	for (;;) {
		if (ps->nkeys == PARSE_KEYS_MAX) {
			snprintf(detail, sizeof(detail), "more than %d keys",
			    PARSE_KEYS_MAX);
			goto notjson;
		}
		k = ps->nkeys;
		if (parse_string(ps, ps->keys[k], PARSE_KEY_MAX, &n, &raw,
		    detail, sizeof(detail)) == -1)
			goto notjson;
		if (n > PARSE_KEY_MAX) {
			snprintf(detail, sizeof(detail), "key longer than %d "
			    "bytes at byte %zu", PARSE_KEY_MAX,
			    (size_t)(raw.s - line));
			goto notjson;
		}
		ps->keylen[k] = n;
		ps->keys[k][n] = '\0';
		if (ps->p == ps->e || *ps->p != ':') {
			snprintf(detail, sizeof(detail), "expected ':' at "
			    "byte %zu", (size_t)(ps->p - line) + 1);
			goto notjson;
		}
		ps->p++;
		if (ps->p != ps->e && *ps->p == '"') {
			if (parse_string(ps, NULL, 0, NULL, &ps->val[k],
			    detail, sizeof(detail)) == -1)
				goto notjson;
			ps->isnum[k] = 0;
		} else if (ps->p != ps->e && *ps->p >= '0' && *ps->p <= '9') {
			ps->val[k].s = ps->p;
			while (ps->p != ps->e && *ps->p >= '0' && *ps->p <= '9')
				ps->p++;
			ps->val[k].len = (size_t)(ps->p - ps->val[k].s);
			ps->isnum[k] = 1;
		} else {
			snprintf(detail, sizeof(detail), "the value at byte "
			    "%zu is not a string or a number",
			    (size_t)(ps->p - line) + 1);
			goto notjson;
		}
		ps->nkeys++;
		if (ps->p != ps->e && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p != ps->e && *ps->p == '}')
			break;
		snprintf(detail, sizeof(detail), "expected ',' or '}' at byte "
		    "%zu", (size_t)(ps->p - line) + 1);
		goto notjson;
	}
	if (++ps->p != ps->e) {
		snprintf(detail, sizeof(detail), "bytes after the closing '}' "
		    "at byte %zu", (size_t)(ps->p - line) + 1);
		goto notjson;
	}

	/* The keys: seq, time, kind, config_sha256, fields, prev_sha256. */
	for (i = 0; i < 4 && i < ps->nkeys; i++)
		if (!key_is(ps, i, fixed_keys[i])) {
			snprintf(why, whylen, "key %zu is \"%s\", expected "
			    "\"%s\"", i + 1, key_text(ps, i, kt),
			    fixed_keys[i]);
			return (-1);
		}
	n = ps->nkeys - 1;
	if (ps->nkeys < 5 || !key_is(ps, n, "prev_sha256")) {
		snprintf(why, whylen, "last key is \"%s\", expected "
		    "\"prev_sha256\"", key_text(ps, n, kt));
		return (-1);
	}
	for (i = 4; i < n; i++) {
		for (j = 0; j < NP_NELEM(fixed_keys); j++)
			if (key_is(ps, i, fixed_keys[j]))
				break;
		for (k = 4; j == NP_NELEM(fixed_keys) && k < i; k++)
			if (ps->keylen[k] == ps->keylen[i] &&
			    memcmp(ps->keys[k], ps->keys[i], ps->keylen[i]) ==
			    0)
				break;
		if (j < NP_NELEM(fixed_keys) || k < i) {
			snprintf(why, whylen, "key \"%s\" appears twice",
			    key_text(ps, i, kt));
			return (-1);
		}
		if (ps->isnum[i]) {
			snprintf(why, whylen, "the value of \"%s\" is not a "
			    "string", key_text(ps, i, kt));
			return (-1);
		}
	}

	/* The values. */
	if (!ps->isnum[0] || span_u64(&ps->val[0], &r->seq) == -1 ||
	    r->seq == 0) {
		snprintf(why, whylen, "seq is not a positive integer");
		return (-1);
	}
	r->time = ps->val[1];
	if (ps->isnum[1] || !span_time(&r->time)) {
		snprintf(why, whylen, "time is not an RFC 3339 UTC time with "
		    "milliseconds");
		return (-1);
	}
	r->kind = ps->val[2];
	if (ps->isnum[2] || r->kind.len == 0) {
		snprintf(why, whylen, "kind is not a non-empty string");
		return (-1);
	}
	r->config = ps->val[3];
	if (ps->isnum[3] || !is_hash_hex(r->config.s, r->config.len)) {
		snprintf(why, whylen, "config_sha256 is not 64 lowercase hex "
		    "digits");
		return (-1);
	}
	r->prev = ps->val[n];
	if (ps->isnum[n] || !is_hash_hex(r->prev.s, r->prev.len)) {
		snprintf(why, whylen, "prev_sha256 is not 64 lowercase hex "
		    "digits");
		return (-1);
	}
	if (span_is(&r->kind, "recovered")) {
		r->recovered = 1;
		if (n < 5 || !key_is(ps, 4, "torn_bytes") ||
		    span_u64(&ps->val[4], &r->torn_bytes) == -1) {
			snprintf(why, whylen, "a \"recovered\" record without "
			    "a torn_bytes count");
			return (-1);
		}
	}
	return (0);
notjson:
	snprintf(why, whylen, "not a JSON record (%s)", detail);
	return (-1);
}

/* ---- writing -------------------------------------------------------- */

/* A caller's key: [A-Za-z0-9_.-], at most AUDIT_KEY_MAX bytes. */
static void
clean_key(const char *name, char *out, size_t outsz)
{
	size_t	i, o = 0;
	char	c;

	for (i = 0; name[i] != '\0' && o < AUDIT_KEY_MAX && o + 1 < outsz;
	    i++) {
		c = name[i];
		out[o++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-') ? c : '_';
	}
	if (o == 0)
		out[o++] = '_';
	out[o] = '\0';
	for (i = 0; i < NP_NELEM(fixed_keys); i++)
		if (strcmp(out, fixed_keys[i]) == 0) {
			/* a field "kind" would be a second "kind" key */
			memmove(out + 6, out, o + 1);
			memcpy(out, "field_", 6);
			break;
		}
}

/* The record's line, after a newline if prefix_nl, ending in one. */
static struct evbuffer *
record_build(const struct audit *a, int prefix_nl, uint64_t seq,
    const char *kind, const struct np_labels *f, const char *prev)
{
	struct evbuffer	*b;
	char		 keys[AUDIT_FIELDS_MAX][AUDIT_KEY_MAX + 8];
	char		*v;
	size_t		 i, j, n = 0, cut;

	if ((b = evbuffer_new()) == NULL)
		fatalx("out of memory (evbuffer)");
	if (prefix_nl)
		evbuffer_add(b, "\n", 1);
	evbuffer_add_printf(b, "{\"seq\":%" PRIu64 ",\"time\":", seq);
	json_time(b, (int64_t)(now_wall_ns() / 1000000));
	evbuffer_add(b, ",\"kind\":", 8);
	json_str(b, kind);
	evbuffer_add_printf(b, ",\"config_sha256\":\"%s\"", a->config);
	for (i = 0; f != NULL && i < f->n; i++) {
		if (n == AUDIT_FIELDS_MAX) {
			log_warnx("audit trail %s: a %s record with %zu "
			    "fields: the last %zu are left out", a->path, kind,
			    f->n, f->n - i);
			break;
		}
		clean_key(f->v[i].name, keys[n], sizeof(keys[n]));
		for (j = 0; j < n; j++)
			if (strcmp(keys[j], keys[n]) == 0)
				break;
		if (j < n) {
			log_warnx("audit trail %s: field \"%s\" of a %s record "
			    "is there twice: the second is left out", a->path,
			    keys[n], kind);
			continue;
		}
		evbuffer_add_printf(b, ",\"%s\":", keys[n++]);
		if (f->v[i].value == NULL) {
			json_str(b, "");
			continue;
		}
		if (strlen(f->v[i].value) <= AUDIT_VALUE_MAX) {
			json_str(b, f->v[i].value);
			continue;
		}
		/* cut on a character boundary, and say it was cut */
		for (cut = AUDIT_VALUE_MAX; cut > 0 &&
		    ((unsigned char)f->v[i].value[cut] & 0xc0) == 0x80; cut--)
			;
		v = xmalloc(cut + 4);
		memcpy(v, f->v[i].value, cut);
		memcpy(v + cut, "...", 4);
		json_str(b, v);
		free(v);
	}
	evbuffer_add_printf(b, ",\"prev_sha256\":\"%s\"}\n", prev);
	return (b);
}

/* Bytes that are not a record went to the end of the file. */
static void
junk_add(struct audit *a, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (a->junk == NULL) {
		a->junk = sha_new();
		a->junk_len = 0;
		a->junk_nl = 0;
	}
	if (a->junk_nl) {
		/* that newline is not the last byte any more: it counts */
		sha_feed(a->junk, "\n", 1);
		a->junk_len++;
		a->junk_nl = 0;
	}
	if (p[n - 1] == '\n') {
		a->junk_nl = 1;
		n--;
	}
	sha_feed(a->junk, p, n);
	a->junk_len += n;
}

/* Records whose digest goes to the log: anchors (see the top). */
static int
is_anchor(const char *kind)
{
	return (strcmp(kind, "start") == 0 || strcmp(kind, "reload") == 0 ||
	    strcmp(kind, "recovered") == 0 || strcmp(kind, "close") == 0);
}

/*
 * Write one record with one write(2).  A record is in the file once its
 * line is complete; a part of one is junk that a "recovered" record will
 * account for.  While there is junk, only a "recovered" record may be
 * written (it chains to the junk).  Returns 0 when the record is there.
 */
static int
record_write(struct audit *a, const char *kind, const struct np_labels *f)
{
	struct evbuffer	*b;
	const char	*w;
	char		 prev[HASH_HEX];
	size_t		 len, prefix;
	ssize_t		 n;

	if (a->junk != NULL) {
		prefix = !a->junk_nl;
		sha_peek(a->junk, prev);
	} else {
		prefix = a->need_nl ? 1 : 0;
		memcpy(prev, a->prev, HASH_HEX);
	}
	b = record_build(a, (int)prefix, a->seq + 1, kind, f, prev);
	len = evbuffer_get_length(b);
	if ((w = (const char *)evbuffer_pullup(b, -1)) == NULL)
		fatalx("out of memory (evbuffer_pullup)");
	do
		n = write(a->fd, w, len);
	while (n == -1 && errno == EINTR);

	if (n == (ssize_t)len || n == (ssize_t)len - 1) {
		/* the line is whole, perhaps without its newline */
		sha_hex(w + prefix, len - prefix - 1, a->prev);
		a->seq++;
		a->need_nl = n != (ssize_t)len;
		EVP_MD_CTX_free(a->junk);
		a->junk = NULL;
		if (a->need_nl) {
			audit_nerrors++;
			log_warnx("audit trail %s: short write of record %"
			    PRIu64 ": its newline is missing; the next "
			    "record adds it", a->path, a->seq);
		}
		if (is_anchor(kind))
			log_info("audit trail %s: record %" PRIu64 " (%s), "
			    "sha256 %s", a->path, a->seq, kind, a->prev);
		evbuffer_free(b);
		return (0);
	}
	audit_nerrors++;
	if (n == -1)
		log_warn("audit trail %s: cannot write record %" PRIu64
		    " (%s)", a->path, a->seq + 1, kind);
	else if (n == 0)
		log_warnx("audit trail %s: cannot write record %" PRIu64
		    " (%s): nothing written", a->path, a->seq + 1, kind);
	else {
		log_warnx("audit trail %s: short write of record %" PRIu64
		    " (%s): %zd of %zu bytes; a \"recovered\" record will "
		    "account for them", a->path, a->seq + 1, kind, n, len);
		if (a->junk == NULL && prefix) {
			/* the first byte ended the last record's line */
			a->need_nl = 0;
			junk_add(a, w + 1, (size_t)n - 1);
		} else
			junk_add(a, w, (size_t)n);
	}
	evbuffer_free(b);
	return (-1);
}

/* Account for the junk after the last record: 0 when done. */
static int
recover(struct audit *a)
{
	struct np_label		l;
	struct np_labels	f = { &l, 1 };
	char			name[] = "torn_bytes", value[24];

	if (a->junk == NULL)
		return (0);
	snprintf(value, sizeof(value), "%" PRIu64, a->junk_len);
	l.name = name;
	l.value = value;
	return (record_write(a, "recovered", &f));
}

void
audit_record(struct audit *a, const char *kind, const struct np_labels *f)
{
	if (a == NULL)
		return;
	if (kind == NULL || *kind == '\0') {
		log_warnx("audit trail %s: a record without a kind is left out",
		    a->path);
		return;
	}
	if (recover(a) == -1) {
		log_warnx("audit trail %s: the %s record is lost: the torn "
		    "tail cannot be accounted for now", a->path, kind);
		return;
	}
	(void)record_write(a, kind, f);
}

uint64_t
audit_write_errors(void)
{
	return (audit_nerrors);
}

/* ---- opening -------------------------------------------------------- */

static void
audit_free(struct audit *a)
{
	if (a->fd != -1)
		close(a->fd);	/* also drops the lock */
	EVP_MD_CTX_free(a->junk);
	free(a->path);
	free(a);
}

/* Could a first line that is not a record be a torn first record? */
static int
torn_head(const struct lline *l)
{
	size_t	hl = strlen(trail_head);

	if (l->len == 0)
		return (0);
	if (l->len < hl)
		return (memcmp(l->s, trail_head, l->len) == 0);
	return (memcmp(l->s, trail_head, hl) == 0);
}

/*
 * Is the first line of the file a record, or the start of a torn first
 * one?  Reads at most AUDIT_LINE_MAX + 1 bytes.  -1 with err if not.
 */
static int
first_line(struct audit *a, int rfd, struct parser *ps, char *err,
    size_t errlen)
{
	struct lline	 l;
	struct rec	 rec;
	char		*buf, why[320];
	const char	*nl;
	size_t		 got = 0;
	ssize_t		 n;
	int		 rc = 0;

	buf = xmalloc(AUDIT_LINE_MAX + 1);
	while (got < AUDIT_LINE_MAX + 1) {
		n = pread(rfd, buf + got, AUDIT_LINE_MAX + 1 - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", a->path,
			    strerror(errno));
			free(buf);
			return (-1);
		}
		if (n == 0 || memchr(buf + got, '\n', (size_t)n) != NULL) {
			got += (size_t)n;
			break;
		}
		got += (size_t)n;
	}
	memset(&l, 0, sizeof(l));
	l.s = buf;
	l.len = (nl = memchr(buf, '\n', got)) != NULL ? (size_t)(nl - buf) :
	    got;
	if (got == 0 || torn_head(&l))
		goto out;
	if (l.len > AUDIT_LINE_MAX)
		snprintf(why, sizeof(why), "a line longer than %d bytes",
		    AUDIT_LINE_MAX);
	else if (rec_parse(ps, l.s, l.len, &rec, why, sizeof(why)) == 0)
		goto out;
	snprintf(err, errlen, "%s: not an audit trail (line 1: %s); refusing "
	    "to append to it", a->path, why);
	rc = -1;
out:
	free(buf);
	return (rc);
}

/*
 * Scan from offset off (after the line it falls into, unless 0) for the
 * last record and what follows it.  1 when it knows where the trail
 * stands (a record seen, or the whole file read), 0 when a window at
 * the end held no record, -1 on a read error.
 */
static int
scan_from(struct audit *a, int rfd, off_t off, struct parser *ps)
{
	struct lreader	 r;
	struct lline	 l;
	struct rec	 rec;
	char		 why[320];
	int		 rc, seen = 0;

	if (lseek(rfd, off, SEEK_SET) == -1)
		return (-1);
	lr_init(&r, rfd);
	if (off > 0 && (rc = lr_next(&r, &l)) != 1)
		goto out;	/* the tail of a line before the window */
	lr_region_reset(&r);
	while ((rc = lr_next(&r, &l)) == 1)
		if (l.total <= AUDIT_LINE_MAX &&
		    rec_parse(ps, l.s, l.len, &rec, why, sizeof(why)) == 0) {
			a->seq = rec.seq;
			memcpy(a->prev, l.sha, HASH_HEX);
			a->need_nl = !l.nl;
			lr_region_reset(&r);
			seen = 1;
		}
	if (rc == -1)
		goto out;
	rc = seen || off == 0;
	if (rc == 1 && r.rlines > 0) {
		a->junk = r.rctx;
		r.rctx = NULL;
		a->junk_len = r.rlen;
		a->junk_nl = r.rnl;
		if (a->seq > 0)
			snprintf(why, sizeof(why), "after record %" PRIu64,
			    a->seq);
		else
			snprintf(why, sizeof(why), "before any record");
		log_warnx("audit trail %s: %" PRIu64 " line%s (%" PRIu64
		    " bytes) %s %s (a torn write?); a \"recovered\" record "
		    "accounts for %s", a->path, r.rlines, r.rlines > 1 ? "s" :
		    "", r.rlen, why, r.rlines > 1 ? "are not records" :
		    "is not a record", r.rlines > 1 ? "them" : "it");
	}
out:
	lr_free(&r);
	return (rc);
}

/*
 * Where the trail stands: its last record (seq, digest) and what follows
 * it that is not a record.  Only the last TAIL_WINDOW bytes are read
 * when they hold a record (a trail grows for years; the daemon must not
 * hash all of it at each start); else the whole file, streamed.  -1
 * with err when the file is not a trail or cannot be read.
 */
static int
trail_scan(struct audit *a, int rfd, char *err, size_t errlen)
{
	struct parser	*ps = xmalloc(sizeof(*ps));
	struct stat	 st;
	int		 rc = -1;

	if (first_line(a, rfd, ps, err, errlen) == -1)
		goto out;
	if (fstat(rfd, &st) == -1)
		goto fail;
	if (st.st_size > TAIL_WINDOW &&
	    (rc = scan_from(a, rfd, st.st_size - TAIL_WINDOW, ps)) != 0)
		goto done;
	rc = scan_from(a, rfd, 0, ps);
done:
	if (rc != -1) {
		rc = 0;
		goto out;
	}
fail:
	snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
	rc = -1;
out:
	free(ps);
	return (rc);
}

struct audit *
audit_open(const char *path, const char *config_sha256, char *err,
    size_t errlen)
{
	struct audit	*a;
	struct stat	 st, rst;
	int		 fd, rfd, fl;

	if (config_sha256 == NULL ||
	    !is_hash_hex(config_sha256, strlen(config_sha256))) {
		snprintf(err, errlen, "%s: the configuration digest is not 64 "
		    "hex digits", path);
		return (NULL);
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISLNK(st.st_mode))
			snprintf(err, errlen, "%s: a symbolic link; give the "
			    "path of the file itself", path);
		else
			snprintf(err, errlen, "%s: not a regular file", path);
		return (NULL);
	}
	/*
	 * O_NOFOLLOW: a link made after that check is refused too;
	 * O_NONBLOCK: a FIFO there must not hang the open.
	 */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, "%s: a symbolic link; give the "
			    "path of the file itself", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return (NULL);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "%s: in use by another process "
			    "(it holds the lock)", path);
		else
			snprintf(err, errlen, "%s: lock: %s", path,
			    strerror(errno));
		close(fd);
		return (NULL);
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	if ((st.st_mode & 022) != 0)
		log_warnx("audit trail %s: mode %04o lets others change it",
		    path, (unsigned)(st.st_mode & 07777));

	a = xcalloc(1, sizeof(*a));
	a->fd = fd;
	a->path = xstrdup(path);
	memcpy(a->config, config_sha256, HASH_HEX);
	memcpy(a->prev, zero_hash, HASH_HEX);

	/* read the same file (not whatever the name points to now) */
	rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (rfd == -1 || fstat(rfd, &rst) == -1 ||
	    rst.st_dev != st.st_dev || rst.st_ino != st.st_ino) {
		snprintf(err, errlen, "%s: changed while it was opened", path);
		if (rfd != -1)
			close(rfd);
		audit_free(a);
		return (NULL);
	}
	if (trail_scan(a, rfd, err, errlen) == -1) {
		close(rfd);
		audit_free(a);
		return (NULL);
	}
	close(rfd);
	if (a->seq == 0 && a->junk == NULL)
		log_info("audit trail %s: a new trail", path);
	else if (a->seq > 0)
		log_info("audit trail %s: continuing after record %" PRIu64
		    ", sha256 %s", path, a->seq, a->prev);
	/* a failure here is counted; the next record tries again */
	(void)recover(a);
	return (a);
}

void
audit_set_config(struct audit *a, const char *config_sha256)
{
	if (a == NULL)
		return;
	if (config_sha256 == NULL ||
	    !is_hash_hex(config_sha256, strlen(config_sha256))) {
		log_warnx("audit trail %s: a configuration digest that is not "
		    "64 hex digits; keeping the previous one", a->path);
		return;
	}
	memcpy(a->config, config_sha256, HASH_HEX);
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	audit_record(a, "close", NULL);
	audit_free(a);
}

/* ---- verifying ------------------------------------------------------ */

/* Distinct configurations, bounded: sorted and made unique when full. */
struct cfgset {
	unsigned char	(*v)[32];
	size_t		  n, cap;
	int		  overflow;
};

static int
md_cmp(const void *x, const void *y)
{
	return (memcmp(x, y, 32));
}

static void
cfgset_unique(struct cfgset *s)
{
	size_t	i, o;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), md_cmp);
	for (i = 1, o = 1; i < s->n; i++)
		if (memcmp(s->v[i], s->v[o - 1], 32) != 0)
			memcpy(s->v[o++], s->v[i], 32);
	s->n = o;
}

static void
cfgset_add(struct cfgset *s, const struct span *hex)
{
	unsigned char	md[32];
	uint32_t	v;
	size_t		i;
	char		h[5] = "00";

	for (i = 0; i < 32; i++) {
		h[2] = hex->s[2 * i];
		h[3] = hex->s[2 * i + 1];
		(void)hex4(h, &v);
		md[i] = (unsigned char)v;
	}
	if (s->overflow || (s->n > 0 && memcmp(s->v[s->n - 1], md, 32) == 0))
		return;
	if (s->n == s->cap) {
		if (s->cap == CFGSET_MAX) {
			cfgset_unique(s);
			if (s->n > CFGSET_MAX / 2) {
				s->overflow = 1;
				return;
			}
		} else {
			s->cap = s->cap == 0 ? 16 : s->cap * 2;
			s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
		}
	}
	memcpy(s->v[s->n++], md, 32);
}

/* seq after the last one: 0, or -1 with why. */
static int
seq_check(uint64_t seq, uint64_t last, char *why, size_t len)
{
	if (last != UINT64_MAX && seq == last + 1)
		return (0);
	if (last != UINT64_MAX && seq > last + 1) {
		if (seq - last - 1 == 1)
			snprintf(why, len, "seq %" PRIu64 " after %" PRIu64
			    ": a record is missing", seq, last);
		else
			snprintf(why, len, "seq %" PRIu64 " after %" PRIu64
			    ": %" PRIu64 " records are missing", seq, last,
			    seq - last - 1);
	} else if (seq == last)
		snprintf(why, len, "seq %" PRIu64 " after %" PRIu64 ": a "
		    "record is repeated", seq, last);
	else
		snprintf(why, len, "seq %" PRIu64 " after %" PRIu64 ": out of "
		    "order", seq, last);
	return (-1);
}

/* "line 4" or "lines 4..6" */
static void
lines_text(uint64_t first, uint64_t n, char *buf, size_t len)
{
	if (n == 1)
		snprintf(buf, len, "line %" PRIu64, first);
	else
		snprintf(buf, len, "lines %" PRIu64 "..%" PRIu64, first,
		    first + n - 1);
}

int
audit_verify(const char *path, FILE *out)
{
	struct lreader	 r;
	struct lline	 l;
	struct parser	*ps;
	struct rec	 rec;
	struct stat	 st;
	struct cfgset	 cs = { NULL, 0, 0, 0 };
	char		 why[400], junk_why[400], jsha[HASH_HEX],
			 prev[HASH_HEX], lines[64];
	char		 first_time[32] = "", last_time[32] = "";
	uint64_t	 nrec = 0, first_seq = 0, last_seq = 0, nrecovered = 0,
			 prev_line = 0, jlen = 0, njunk, bad_line = 0;
	int		 fd, rc, have = 0, status;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		fprintf(out, "%s: unreadable: %s\n", path, strerror(errno));
		return (2);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		fprintf(out, "%s: unreadable: %s\n", path,
		    S_ISDIR(st.st_mode) ? strerror(EISDIR) :
		    "not a regular file");
		close(fd);
		return (2);
	}
	ps = xmalloc(sizeof(*ps));
	lr_init(&r, fd);
	for (;;) {
		if (r.rlines > 0) {
			/* what a "recovered" record on this line must say */
			sha_peek(r.rctx, jsha);
			jlen = r.rlen;
		}
		if ((rc = lr_next(&r, &l)) != 1)
			break;
		if (l.total > AUDIT_LINE_MAX)
			snprintf(why, sizeof(why), "a line of %" PRIu64
			    " bytes is too long for a record (at most %d)",
			    l.total, AUDIT_LINE_MAX);
		else if (rec_parse(ps, l.s, l.len, &rec, why, sizeof(why)) ==
		    0)
			goto record;
		if (r.rlines == 1)
			memcpy(junk_why, why, sizeof(junk_why));
		continue;
record:
		njunk = r.rlines - 1;
		if (njunk > 0 && !rec.recovered) {
			/* junk that no "recovered" record accounts for */
			bad_line = r.rfirst;
			memcpy(why, junk_why, sizeof(why));
			goto broken;
		}
		bad_line = l.no;
		if (njunk == 0 && rec.recovered) {
			snprintf(why, sizeof(why), "a \"recovered\" record "
			    "with no torn line before it");
			goto broken;
		}
		if (have && seq_check(rec.seq, last_seq, why, sizeof(why)) ==
		    -1)
			goto broken;
		if (!have && rec.seq != 1) {
			snprintf(why, sizeof(why), "seq %" PRIu64 " in the "
			    "first record, expected 1", rec.seq);
			goto broken;
		}
		if (njunk > 0) {
			lines_text(r.rfirst, njunk, lines, sizeof(lines));
			if (rec.torn_bytes != jlen) {
				snprintf(why, sizeof(why), "torn_bytes is %"
				    PRIu64 ", but the torn %s ha%s %" PRIu64
				    " bytes", rec.torn_bytes, lines,
				    njunk > 1 ? "ve" : "s", jlen);
				goto broken;
			}
			if (!span_is(&rec.prev, jsha)) {
				snprintf(why, sizeof(why), "prev_sha256 does "
				    "not match the torn %s", lines);
				goto broken;
			}
		} else if (!have && !span_is(&rec.prev, zero_hash)) {
			snprintf(why, sizeof(why), "prev_sha256 of the first "
			    "record is not 64 zeros");
			goto broken;
		} else if (have && !span_is(&rec.prev, prev)) {
			snprintf(why, sizeof(why), "prev_sha256 does not match "
			    "line %" PRIu64, prev_line);
			goto broken;
		}
		if (!have) {
			first_seq = rec.seq;
			memcpy(first_time, rec.time.s, rec.time.len);
			first_time[rec.time.len] = '\0';
		}
		have = 1;
		last_seq = rec.seq;
		memcpy(last_time, rec.time.s, rec.time.len);
		last_time[rec.time.len] = '\0';
		memcpy(prev, l.sha, HASH_HEX);
		prev_line = l.no;
		nrec++;
		nrecovered += rec.recovered;
		cfgset_add(&cs, &rec.config);
		lr_region_reset(&r);
	}
	if (rc == -1) {
		fprintf(out, "%s: unreadable: %s\n", path, strerror(errno));
		status = 2;
		goto done;
	}
	if (r.rlines > 0) {
		bad_line = r.rfirst;
		if (r.rlines == 1 && !r.rnl)
			snprintf(why, sizeof(why), "the last line is torn (%"
			    PRIu64 " bytes, no newline): a write was cut "
			    "short; netprobed adds a \"recovered\" record when "
			    "it next opens the trail", r.rlen);
		else
			memcpy(why, junk_why, sizeof(why));
		goto broken;
	}
	if (nrec == 0) {
		bad_line = 1;
		snprintf(why, sizeof(why), "empty file, no records");
		goto broken;
	}
	cfgset_unique(&cs);
	fprintf(out, "%s: intact: %" PRIu64 " record%s, seq %" PRIu64 "..%"
	    PRIu64 ", first %s, last %s, %s%zu configuration%s", path, nrec,
	    nrec == 1 ? "" : "s", first_seq, last_seq, first_time, last_time,
	    cs.overflow ? "more than " : "", cs.n, cs.n == 1 &&
	    !cs.overflow ? "" : "s");
	if (nrecovered > 0)
		fprintf(out, ", %" PRIu64 " torn write%s recovered", nrecovered,
		    nrecovered == 1 ? "" : "s");
	fprintf(out, "\n");
	status = 0;
	goto done;
broken:
	fprintf(out, "%s:%" PRIu64 ": broken: %s\n", path, bad_line, why);
	status = 1;
done:
	free(cs.v);
	free(ps);
	lr_free(&r);
	close(fd);
	return (status);
}
