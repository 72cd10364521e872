/*
 * Rule unit tests (`netprobed --test-rules`): promtool's test file format
 * read with libyaml's document API, input series expanded into a fresh
 * history per test group, the rule groups evaluated over it with
 * rules/group.c exactly as on the gateway, and the results compared.
 *
 * Reference for the semantics: Prometheus 2.42 cmd/promtool/unittest.go
 * and promql/parser's series notation (generated_parser.y, lex.go).  What
 * deliberately differs is listed in rule_test.h and in the comments here.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "daemon/netprobed.h"
#include "daemon/yamldoc.h"
#include "rules/alert.h"
#include "rules/expr.h"
#include "rules/group.h"
#include "rules/labels.h"
#include "rules/rule_file.h"
#include "rules/rule_test.h"
#include "rules/tsdb.h"

/*
 * Bounds on what one test may ask for: values in one series (after
 * expansion) and evaluation steps.  promtool has none and simply runs out
 * of memory on '1x99999999999'; a week at 1m is 10,080 steps.
 */
#define RT_MAX_VALUES	1000000
#define RT_MAX_STEPS	1000000
#define RT_DEFAULT_EVAL_MS	60000

/* Results whose relative difference is below this are equal. */
#define RT_REL_EPSILON	1e-12

/* A value of an input series: its slot (time = slot * interval). */
struct rt_val {
	uint64_t	 slot;
	double		 v;
};

struct rt_series {
	struct np_labels	 labels;
	struct rt_val		*vals;
	size_t			 nvals;
};

/* An alert as compared: labels with alertname, annotations (empty kept). */
struct rt_alert {
	struct np_labels	 labels;
	struct np_labels	 annotations;
};

struct rt_alert_test {
	uint64_t		 eval_ms;
	char			*alertname;
	struct rt_alert		*exp;
	size_t			 nexp;
	size_t			 pos;		/* in the file */
};

struct rt_expr_test {
	char			*text;
	struct rl_expr		*expr;
	uint64_t		 eval_ms;
	struct rl_sample	*exp;
	size_t			 nexp;
};

struct rt_test {
	char			*name;		/* `name`, or "#N" */
	uint64_t		 interval_ms;	/* 0: evaluation_interval */
	struct rt_series	*series;
	size_t			 nseries;
	struct rt_alert_test	*alerts;
	size_t			 nalerts;
	struct rt_expr_test	*exprs;
	size_t			 nexprs;
	uint64_t		 maxt_ms;	/* the largest eval_time */
	size_t			 maxt_line, maxt_col;
};

struct rt_file {
	const char		*path;
	uint64_t		 eval_ms;
	char			**order;	/* group_eval_order */
	size_t			 norder;
	struct rule_file	**rules;
	size_t			 nrules;
	struct rt_test		*tests;
	size_t			 ntests;
};

/* The loader's context; starts with its yamldoc (see yamldoc.h). */
struct rt_ctx {
	struct yamldoc		 yd;
	char			*dir;		/* of the test file, "" for . */
	struct rt_file		*tf;
	FILE			*warn;
	char			**seen;		/* rule files, real paths */
	size_t			 nseen;
};

/* ---- errors and YAML ---------------------------------------------- */

static void	rt_error_in(struct rt_ctx *, const yaml_node_t *, size_t,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

/* Characters (not bytes) in the first len bytes of UTF-8 text. */
static size_t
nchars(const unsigned char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			n++;
	return (n);
}

/*
 * An error at byte off of scalar n's value.  When the scalar sits on one
 * line and its source is exactly its value (plus the quotes: no escapes,
 * no folding), the column is exact; otherwise the scalar's position and
 * the offset are given.
 */
static void
rt_error_in(struct rt_ctx *c, const yaml_node_t *n, size_t off,
    const char *fmt, ...)
{
	const unsigned char	*v = n->data.scalar.value;
	size_t			 len = n->data.scalar.length, q;
	char			*msg;
	va_list			 ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	switch (n->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE:
		q = 0;
		break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		q = 1;
		break;
	default:
		q = SIZE_MAX;
		break;
	}
	if (q != SIZE_MAX && off <= len &&
	    n->start_mark.line == n->end_mark.line &&
	    n->end_mark.column - n->start_mark.column == nchars(v, len) + 2 * q)
		cfg_error_raw(c->yd.errs, c->yd.file, n->start_mark.line,
		    n->start_mark.column + q + nchars(v, off), "%s", msg);
	else
		yd_error(&c->yd, n, "%s (at character %zu of the value)", msg,
		    nchars(v, off) + 1);
	free(msg);
}

static yaml_node_t *
node(struct rt_ctx *c, int id)
{
	return (yd_node(&c->yd, id));
}

/* Any scalar as text (null is "", as in Go), or NULL after an error. */
static const char *
str(struct rt_ctx *c, yaml_node_t *n, const char *key)
{
	if (yd_is_null(n))
		return ("");
	return (yd_scalar(&c->yd, n, key, "a string"));
}

/* A Prometheus duration (null is 0).  Returns -1 after an error. */
static int
duration(struct rt_ctx *c, yaml_node_t *n, const char *key, uint64_t *out)
{
	const char	*s, *why;

	*out = 0;
	if ((s = str(c, n, key)) == NULL)
		return (-1);
	if (*s == '\0')
		return (0);
	if (rule_parse_duration(s, out, &why) == -1) {
		yd_error(&c->yd, n, "'%s' expects a duration like 5m or 1h30m, "
		    "got \"%s\" (%s)", key, s, why);
		return (-1);
	}
	return (0);
}

/* The items of a sequence (null: none).  Returns -1 after an error. */
static int
items(struct rt_ctx *c, yaml_node_t *n, const char *key,
    yaml_node_item_t **b, size_t *count)
{
	*b = NULL;
	*count = 0;
	if (yd_is_null(n))
		return (0);
	if (n->type != YAML_SEQUENCE_NODE) {
		yd_error(&c->yd, n, "'%s' must be a sequence, got %s", key,
		    yd_kind(n));
		return (-1);
	}
	*b = n->data.sequence.items.start;
	*count = (size_t)(n->data.sequence.items.top -
	    n->data.sequence.items.start);
	return (0);
}

/*
 * The keys of a mapping, as Go's yaml.UnmarshalStrict takes them: known,
 * each at most once; fn is called for each.  A null mapping has no keys.
 * Returns -1 when map is not a mapping.
 */
static int
walk(struct rt_ctx *c, yaml_node_t *map, const char *where,
    const char *const *known, size_t nknown, yd_key_fn fn, void *arg)
{
	if (yd_is_null(map))
		return (0);
	if (yd_mapping_expect(&c->yd, map, where) == -1)
		return (-1);
	yd_mapping_walk(&c->yd, map, known, nknown, NULL, fn, arg, where,
	    NULL);
	return (0);
}

/* ---- series notation ----------------------------------------------- */

static int
is_name_start(int ch, int colon)
{
	return (isalpha(ch) || ch == '_' || (colon && ch == ':'));
}

static int
is_name_char(int ch, int colon)
{
	return (isalnum(ch) || ch == '_' || (colon && ch == ':'));
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);
	return (-1);
}

/* Append code point cp as UTF-8. */
static size_t
utf8_put(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return (1);
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return (2);
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return (3);
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return (4);
}

/*
 * A PromQL string at *pp: "..." or '...' with Go's escapes, or `raw`.
 * Returns the value (caller frees) and moves *pp past it, or NULL with
 * *pp at the problem and err set.
 */
static char *
parse_string(const char **pp, char *err, size_t errlen)
{
	/* escape letter, then the character it stands for */
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''";
	const char	*p = *pp, *start;
	char		 quote = *p++, *out, *o;
	unsigned long	 cp;
	int		 i, n, d;

	out = o = xmalloc(strlen(p) + 1);
	for (;;) {
		start = p;
		if (*p == '\0' || (*p == '\n' && quote != '`')) {
			snprintf(err, errlen, "unterminated string");
			goto fail;
		}
		if (*p == quote) {
			p++;
			break;
		}
		if (*p != '\\' || quote == '`') {
			*o++ = *p++;
			continue;
		}
		p++;
		for (i = 0; simple[i] != '\0' && simple[i] != *p; i += 2)
			;
		if (*p != '\0' && simple[i] != '\0') {
			*o++ = simple[i + 1];
			p++;
			continue;
		}
		switch (*p) {
		case 'x':
			n = 2;
			p++;
			break;
		case 'u':
			n = 4;
			p++;
			break;
		case 'U':
			n = 8;
			p++;
			break;
		default:
			if (*p >= '0' && *p <= '7') {
				for (i = 0, cp = 0; i < 3; i++, p++) {
					if (*p < '0' || *p > '7') {
						snprintf(err, errlen, "bad "
						    "octal escape (\\ and 3 "
						    "digits)");
						p = start;
						goto fail;
					}
					cp = cp * 8 + (unsigned long)(*p - '0');
				}
				if (cp > 255) {
					snprintf(err, errlen, "octal escape "
					    "above \\377");
					p = start;
					goto fail;
				}
				if (cp == 0)
					goto nul;
				*o++ = (char)cp;
				continue;
			}
			snprintf(err, errlen, "unknown escape sequence '\\%c'",
			    *p != '\0' ? *p : ' ');
			p = start;
			goto fail;
		}
		for (i = 0, cp = 0; i < n; i++, p++) {
			if ((d = hexval((unsigned char)*p)) == -1) {
				snprintf(err, errlen, "bad escape: \\%c "
				    "needs %d hex digits", start[1], n);
				p = start;
				goto fail;
			}
			cp = cp * 16 + (unsigned long)d;
		}
		if (cp == 0)
			goto nul;
		if (n == 2)
			*o++ = (char)cp;
		else if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			snprintf(err, errlen, "escape is not a valid Unicode "
			    "code point");
			p = start;
			goto fail;
		} else
			o += utf8_put(o, cp);
	}
	*o = '\0';
	*pp = p;
	return (out);
nul:
	snprintf(err, errlen, "a label value cannot hold a NUL character");
	p = start;
fail:
	free(out);
	*pp = p;
	return (NULL);
}

/* Blanks as PromQL's lexer has them. */
static int
is_blank(int ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r');
}

static const char *
skip_ws(const char *p)
{
	while (is_blank((unsigned char)*p))
		p++;
	return (p);
}

/*
 * promtool's series notation: NAME, NAME{l="v", ...} or {l="v", ...}
 * (parser.ParseSeriesDesc and ParseMetric): label pairs with '=' only, a
 * trailing comma allowed, an empty value meaning no label.  need_name:
 * an input series, which the history keys by __name__.  Returns 0 with
 * *out set (sorted), or -1 with the byte offset of the problem.
 */
static int
parse_metric(const char *s, int need_name, struct np_labels *out,
    size_t *off, char *err, size_t errlen)
{
	struct np_labels	 seen = { NULL, 0 };
	const char		*p = s, *b;
	char			*name = NULL, *lname = NULL, *val;

	memset(out, 0, sizeof(*out));
	p = skip_ws(p);
	if (is_name_start((unsigned char)*p, 1)) {
		for (b = p; is_name_char((unsigned char)*p, 1); p++)
			;
		name = xmalloc((size_t)(p - b) + 1);
		memcpy(name, b, (size_t)(p - b));
		name[p - b] = '\0';
		/* the lexer takes these for numbers */
		if (strcasecmp(name, "inf") == 0 ||
		    strcasecmp(name, "nan") == 0) {
			snprintf(err, errlen, "unexpected number \"%s\", "
			    "expected a metric name", name);
			p = b;
			goto fail;
		}
		if (!need_name)
			p = skip_ws(p);
	}
	if (*p == '{') {
		p++;
		for (;;) {
			p = skip_ws(p);
			if (*p == '}') {
				p++;
				break;
			}
			if (!is_name_start((unsigned char)*p, 0)) {
				snprintf(err, errlen, "expected a label name "
				    "or '}'");
				goto fail;
			}
			for (b = p; is_name_char((unsigned char)*p, 0); p++)
				;
			free(lname);
			lname = xmalloc((size_t)(p - b) + 1);
			memcpy(lname, b, (size_t)(p - b));
			lname[p - b] = '\0';
			if (rl_labels_get(&seen, lname) != NULL) {
				snprintf(err, errlen, "label '%s' is repeated",
				    lname);
				p = b;
				goto fail;
			}
			rl_labels_set(&seen, lname, "1");
			p = skip_ws(p);
			if (*p != '=' || p[1] == '=' || p[1] == '~') {
				snprintf(err, errlen, "expected '=' after "
				    "label '%s' (a series has only "
				    "name=\"value\" pairs)", lname);
				goto fail;
			}
			p = skip_ws(p + 1);
			if (*p != '"' && *p != '\'' && *p != '`') {
				snprintf(err, errlen, "expected a quoted label "
				    "value");
				goto fail;
			}
			if ((val = parse_string(&p, err, errlen)) == NULL)
				goto fail;
			rl_labels_set(out, lname, val);
			free(val);
			p = skip_ws(p);
			if (*p == ',')
				p++;
			else if (*p != '}') {
				snprintf(err, errlen, "expected ',' or '}' "
				    "after a label");
				goto fail;
			}
		}
	}
	p = skip_ws(p);
	if (*p != '\0') {
		snprintf(err, errlen, "unexpected '%c'%s", *p, name == NULL &&
		    p == skip_ws(s) ? ", expected a metric name or '{'" : "");
		goto fail;
	}
	/* the name before the braces wins over a __name__ inside them */
	if (name != NULL)
		rl_labels_set(out, "__name__", name);
	if (need_name && rl_labels_get(out, "__name__") == NULL) {
		snprintf(err, errlen, "an input series needs a metric name");
		p = s;
		goto fail;
	}
	free(name);
	free(lname);
	rl_labels_free(&seen);
	return (0);
fail:
	*off = (size_t)(p - s);
	free(name);
	free(lname);
	rl_labels_free(&seen);
	rl_labels_free(out);
	return (-1);
}

/*
 * One number of the series notation at *p, unsigned (the caller takes
 * the sign): digits as Prometheus' lexer scans them ([0-9]*, '.', [0-9]*,
 * exponent), converted as its parser does (an integer first, so "010" is
 * octal 8, then a float; no hex: in a series 'x' is the repetition), or
 * Inf / NaN in any case.  Returns 0, or -1 with err set.
 */
static int
scan_number(const char **pp, double *v, char *err, size_t errlen)
{
	const char	*p = *pp, *b = p;
	char		 tok[128], *end;
	long long	 ll;
	size_t		 len;

	if (isalpha((unsigned char)*p) || *p == '_') {
		while (is_name_char((unsigned char)*p, 0))
			p++;
		len = (size_t)(p - b);
		if (len == 3 && strncasecmp(b, "inf", 3) == 0)
			*v = INFINITY;
		else if (len == 3 && strncasecmp(b, "nan", 3) == 0)
			*v = NAN;
		else {
			snprintf(err, errlen, "unexpected \"%.*s\", expected a "
			    "number, '_' or 'stale'", (int)(len > 40 ? 40 :
			    len), b);
			return (-1);
		}
		*pp = p;
		return (0);
	}
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	len = (size_t)(p - b);
	if (len == 0 || (len == 1 && *b == '.')) {
		if (*b == '\0')
			snprintf(err, errlen, "unexpected end, expected a "
			    "number");
		else
			snprintf(err, errlen, "unexpected '%c', expected a "
			    "number, '_' or 'stale'", *b);
		return (-1);
	}
	if (len >= sizeof(tok)) {
		snprintf(err, errlen, "number too long");
		return (-1);
	}
	memcpy(tok, b, len);
	tok[len] = '\0';
	errno = 0;
	ll = strtoll(tok, &end, 0);
	if (*end == '\0' && errno == 0)
		*v = (double)ll;
	else {
		errno = 0;
		*v = strtod(tok, &end);
		if (*end != '\0') {
			snprintf(err, errlen, "bad number \"%s\"", tok);
			return (-1);
		}
		if (errno == ERANGE && isinf(*v)) {
			snprintf(err, errlen, "number \"%s\" out of range",
			    tok);
			return (-1);
		}
	}
	*pp = p;
	return (0);
}

/* The count after 'x': decimal digits only. */
static int
scan_count(const char **pp, uint64_t *n, char *err, size_t errlen)
{
	const char	*p = *pp;

	if (!isdigit((unsigned char)*p)) {
		snprintf(err, errlen, "expected a repetition count after "
		    "'x'");
		return (-1);
	}
	for (*n = 0; isdigit((unsigned char)*p); p++) {
		if (*n > RT_MAX_VALUES) {
			snprintf(err, errlen, "more than %d values in one "
			    "series", RT_MAX_VALUES);
			return (-1);
		}
		*n = *n * 10 + (uint64_t)(*p - '0');
	}
	if (*p != '\0' && !is_blank((unsigned char)*p)) {
		snprintf(err, errlen, "invalid repetition count (a whole "
		    "number, then a blank)");
		*pp = p;
		return (-1);
	}
	*pp = p;
	return (0);
}

static void
val_add(struct rt_series *s, size_t *cap, uint64_t slot, double v)
{
	if (s->nvals == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		s->vals = xreallocarray(s->vals, *cap, sizeof(*s->vals));
	}
	s->vals[s->nvals].slot = slot;
	s->vals[s->nvals].v = v;
	s->nvals++;
}

/*
 * promtool's expanding notation, blank separated: a number (with sign;
 * Inf, NaN), 'stale', '_' (no sample), '_xN' (N slots without samples),
 * 'axN' (N+1 times a), 'a+bxN' / 'a-bxN' (a, then N more each adding b,
 * summed step by step as Prometheus does).  Returns 0, or -1 with the
 * byte offset of the problem.
 */
static int
parse_values(const char *s, struct rt_series *out, size_t *off, char *err,
    size_t errlen)
{
	const char	*p = s, *item;
	uint64_t	 slot = 0, n, i;
	size_t		 cap = 0;
	double		 a, b;
	int		 neg;

	for (p = skip_ws(p); *p != '\0'; p = skip_ws(p)) {
		item = p;
		if (*p == '_') {
			p++;
			n = 1;
			if (*p == 'x') {
				p++;
				if (scan_count(&p, &n, err, errlen) == -1)
					goto fail;
			} else if (*p != '\0' && !is_blank((unsigned char)*p)) {
				snprintf(err, errlen, "unexpected '%c' after "
				    "'_' (a missing value is '_' or '_xN')",
				    *p);
				goto fail;
			}
			slot += n;
		} else if (strncmp(p, "stale", 5) == 0 && (p[5] == '\0' ||
		    is_blank((unsigned char)p[5]))) {
			p += 5;
			val_add(out, &cap, slot++, rl_stale_nan());
		} else {
			neg = *p == '-';
			if (*p == '+' || *p == '-')
				p++;
			if (scan_number(&p, &a, err, errlen) == -1)
				goto fail;
			if (neg)
				a = -a;
			n = 0;
			b = 0;
			if (*p == '+' || *p == '-') {
				neg = *p++ == '-';
				if (scan_number(&p, &b, err, errlen) == -1)
					goto fail;
				if (neg)
					b = -b;
				if (*p != 'x') {
					snprintf(err, errlen, "expected 'x' "
					    "and a count after \"%.*s\" "
					    "(a+bxN)", (int)(p - item), item);
					goto fail;
				}
			}
			if (*p == 'x') {
				p++;
				if (scan_count(&p, &n, err, errlen) == -1)
					goto fail;
			} else if (*p != '\0' && !is_blank((unsigned char)*p)) {
				snprintf(err, errlen, "unexpected '%c' after a "
				    "value", *p);
				goto fail;
			}
			if (slot + n >= RT_MAX_VALUES) {
				p = item;
				snprintf(err, errlen, "more than %d values in "
				    "one series", RT_MAX_VALUES);
				goto fail;
			}
			for (i = 0; i <= n; i++) {
				val_add(out, &cap, slot++, a);
				a += b;
			}
		}
		if (slot > RT_MAX_VALUES) {
			p = item;
			snprintf(err, errlen, "more than %d values in one "
			    "series", RT_MAX_VALUES);
			goto fail;
		}
	}
	return (0);
fail:
	*off = (size_t)(p - s);
	return (-1);
}

/* ---- the test file ------------------------------------------------- */

/*
 * A number as Go's yaml.v2 reads one into a float64: a plain scalar,
 * '_' ignored, an integer (0x, 0o, 0b, leading-0 octal) or a YAML float,
 * or .inf / -.inf / .nan.
 */
static int
yaml_number(const yaml_node_t *n, double *v)
{
	static const char *const inf[] = { ".inf", ".Inf", ".INF" };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN" };
	const char	*s = (const char *)n->data.scalar.value, *p;
	char		 buf[128], *o, *end;
	int		 neg = 0, base = 10;
	size_t		 i;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || yd_is_null(n))
		return (-1);
	for (i = 0; i < NP_NELEM(nan); i++)
		if (strcmp(s, nan[i]) == 0) {
			*v = NAN;
			return (0);
		}
	p = s;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (i = 0; i < NP_NELEM(inf); i++)
		if (strcmp(p, inf[i]) == 0) {
			*v = neg ? -INFINITY : INFINITY;
			return (0);
		}
	for (o = buf; *p != '\0' && o < buf + sizeof(buf) - 1; p++)
		if (*p != '_')
			*o++ = *p;
	if (*p != '\0' || o == buf)
		return (-1);
	*o = '\0';
	p = buf;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2;
	if (base != 10 && p[2] != '\0' && p[2] != '-' && p[2] != '+') {
		errno = 0;
		*v = (double)strtoull(p + 2, &end, base);
		if (*end == '\0' && errno == 0) {
			if (neg)
				*v = -*v;
			return (0);
		}
		return (-1);
	}
	/* [0-9]+ (leading 0: octal), else [0-9]*.?[0-9]*([eE][-+]?[0-9]+)? */
	for (o = buf; isdigit((unsigned char)*o); o++)
		;
	if (*o == '\0') {
		errno = 0;
		*v = (double)strtoull(buf, &end, buf[0] == '0' ? 8 : 10);
		if (*end != '\0' || errno != 0)
			*v = strtod(buf, NULL);	/* "09", or too big */
	} else {
		p = o;
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		if (p == buf || (p == buf + 1 && buf[0] == '.'))
			return (-1);
		if (*p == 'e' || *p == 'E') {
			p++;
			if (*p == '+' || *p == '-')
				p++;
			if (!isdigit((unsigned char)*p))
				return (-1);
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p != '\0')
			return (-1);
		errno = 0;
		*v = strtod(buf, NULL);
		if (errno == ERANGE && isinf(*v))
			return (-1);
	}
	if (neg)
		*v = -*v;
	return (0);
}

/*
 * A string-to-string mapping (exp_labels, exp_annotations) into a sorted
 * set that keeps empty values, as Go's labels.FromMap does.
 */
static void
kv_map(struct rt_ctx *c, yaml_node_t *map, const char *key,
    struct np_labels *out)
{
	struct np_labels	 tmp = { NULL, 0 };
	yaml_node_pair_t	*p;
	yaml_node_t		*k, *v;
	const char		*name, *val;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	if (yd_is_null(map))
		return;
	if (map->type != YAML_MAPPING_NODE) {
		yd_error(&c->yd, map, "'%s' must be a mapping, got %s", key,
		    yd_kind(map));
		return;
	}
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = node(c, p->key);
		v = node(c, p->value);
		if ((name = str(c, k, key)) == NULL ||
		    (val = str(c, v, name)) == NULL)
			continue;
		for (i = 0; i < tmp.n; i++)
			if (strcmp(tmp.v[i].name, name) == 0)
				break;
		if (i < tmp.n) {
			yd_error(&c->yd, k, "duplicate key '%s' in '%s'", name,
			    key);
			continue;
		}
		/* borrowed from the document; copied below */
		tmp.v = xreallocarray(tmp.v, tmp.n + 1, sizeof(*tmp.v));
		tmp.v[tmp.n].name = (char *)(uintptr_t)name;
		tmp.v[tmp.n].value = (char *)(uintptr_t)val;
		tmp.n++;
	}
	rl_labels_copy(out, &tmp);
	free(tmp.v);
}

static void
note_eval_time(struct rt_test *t, const yaml_node_t *n, uint64_t ms)
{
	if (ms >= t->maxt_ms) {
		t->maxt_ms = ms;
		t->maxt_line = n->start_mark.line;
		t->maxt_col = n->start_mark.column;
	}
}

/* ---- input_series ---- */

struct series_keys {
	yaml_node_t	*series, *values;
};

static void
series_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct series_keys	*sk = arg;

	if (strcmp(key, "series") == 0)
		sk->series = v;
	else
		sk->values = v;
}

static void
parse_series(struct rt_ctx *c, yaml_node_t *n, struct rt_series *s)
{
	static const char *const known[] = { "series", "values" };
	struct series_keys	 sk = { NULL, NULL };
	const char		*text;
	char			 err[256];
	size_t			 off = 0;

	if (walk(c, n, "an input series", known, NP_NELEM(known), series_key,
	    &sk) == -1)
		return;
	if (sk.series == NULL || yd_is_null(sk.series)) {
		yd_error(&c->yd, sk.series != NULL ? sk.series : n, "an input "
		    "series needs 'series' (like 'up{job=\"a\"}')");
	} else if ((text = str(c, sk.series, "series")) != NULL &&
	    parse_metric(text, 1, &s->labels, &off, err, sizeof(err)) == -1)
		rt_error_in(c, sk.series, off, "series: %s", err);
	if (sk.values != NULL &&
	    (text = str(c, sk.values, "values")) != NULL &&
	    parse_values(text, s, &off, err, sizeof(err)) == -1)
		rt_error_in(c, sk.values, off, "values: %s", err);
}

/* ---- alert_rule_test ---- */

struct alert_keys {
	yaml_node_t	*eval_time, *alertname, *exp_alerts;
};

static void
alert_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct alert_keys	*ak = arg;

	if (strcmp(key, "eval_time") == 0)
		ak->eval_time = v;
	else if (strcmp(key, "alertname") == 0)
		ak->alertname = v;
	else
		ak->exp_alerts = v;
}

struct exp_alert_keys {
	yaml_node_t	*labels, *annotations;
};

static void
exp_alert_key(struct yamldoc *yd, const char *key, yaml_node_t *v,
    yaml_node_t *k, void *arg)
{
	struct exp_alert_keys	*ek = arg;

	if (strcmp(key, "exp_labels") == 0)
		ek->labels = v;
	else
		ek->annotations = v;
}

static int
alert_cmp(const void *a, const void *b)
{
	const struct rt_alert	*x = a, *y = b;
	int			 r;

	if ((r = rl_labels_cmp(&x->labels, &y->labels)) != 0)
		return (r);
	return (rl_labels_cmp(&x->annotations, &y->annotations));
}

static void
parse_alert_test(struct rt_ctx *c, yaml_node_t *n, struct rt_test *t,
    struct rt_alert_test *at)
{
	static const char *const known[] = { "eval_time", "alertname",
	    "exp_alerts" };
	static const char *const eknown[] = { "exp_labels", "exp_annotations" };
	struct alert_keys	 ak = { NULL, NULL, NULL };
	struct exp_alert_keys	 ek;
	yaml_node_item_t	*it;
	struct rt_alert		*a;
	const char		*s = NULL;
	size_t			 i, count;

	if (walk(c, n, "an alert_rule_test entry", known, NP_NELEM(known),
	    alert_key, &ak) == -1)
		return;
	if (ak.eval_time != NULL &&
	    duration(c, ak.eval_time, "eval_time", &at->eval_ms) == 0)
		note_eval_time(t, ak.eval_time, at->eval_ms);
	if (ak.alertname == NULL ||
	    ((s = str(c, ak.alertname, "alertname")) != NULL && *s == '\0'))
		yd_error(&c->yd, ak.alertname != NULL ? ak.alertname : n,
		    "an alert_rule_test entry needs 'alertname'");
	else if (s != NULL)
		at->alertname = xstrdup(s);
	if (ak.exp_alerts == NULL ||
	    items(c, ak.exp_alerts, "exp_alerts", &it, &count) == -1)
		return;
	at->exp = xcalloc(count ? count : 1, sizeof(*at->exp));
	for (i = 0; i < count; i++) {
		a = &at->exp[at->nexp++];
		memset(&ek, 0, sizeof(ek));
		if (walk(c, node(c, it[i]), "an exp_alerts entry", eknown,
		    NP_NELEM(eknown), exp_alert_key, &ek) == -1)
			continue;
		if (ek.labels != NULL)
			kv_map(c, ek.labels, "exp_labels", &a->labels);
		if (ek.annotations != NULL)
			kv_map(c, ek.annotations, "exp_annotations",
			    &a->annotations);
		/* promtool adds it, over any given */
		if (at->alertname != NULL)
			rl_labels_set(&a->labels, "alertname", at->alertname);
	}
	if (at->nexp > 1)
		qsort(at->exp, at->nexp, sizeof(*at->exp), alert_cmp);
}

/* ---- promql_expr_test ---- */

struct expr_keys {
	yaml_node_t	*expr, *eval_time, *exp_samples;
};

static void
expr_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct expr_keys	*ek = arg;

	if (strcmp(key, "expr") == 0)
		ek->expr = v;
	else if (strcmp(key, "eval_time") == 0)
		ek->eval_time = v;
	else
		ek->exp_samples = v;
}

struct sample_keys {
	yaml_node_t	*labels, *value;
};

static void
sample_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct sample_keys	*sk = arg;

	if (strcmp(key, "labels") == 0)
		sk->labels = v;
	else
		sk->value = v;
}

static int
sample_cmp(const void *a, const void *b)
{
	return (rl_labels_cmp(&((const struct rl_sample *)a)->labels,
	    &((const struct rl_sample *)b)->labels));
}

static void
parse_sample(struct rt_ctx *c, yaml_node_t *n, struct rl_sample *smp)
{
	static const char *const known[] = { "labels", "value" };
	struct sample_keys	 sk = { NULL, NULL };
	const char		*s;
	char			 err[256];
	size_t			 off = 0;

	if (walk(c, n, "an exp_samples entry", known, NP_NELEM(known),
	    sample_key, &sk) == -1)
		return;
	if (sk.labels != NULL && (s = str(c, sk.labels, "labels")) != NULL &&
	    parse_metric(s, 0, &smp->labels, &off, err, sizeof(err)) == -1)
		rt_error_in(c, sk.labels, off, "labels: %s", err);
	/* a missing value is 0, as in promtool */
	if (sk.value != NULL && !yd_is_null(sk.value) &&
	    yaml_number(sk.value, &smp->v) == -1)
		yd_error(&c->yd, sk.value, "'value' expects a number (.inf, "
		    "-.inf and .nan for the special values), got %s%s%s",
		    sk.value->type == YAML_SCALAR_NODE ? "\"" : "",
		    sk.value->type == YAML_SCALAR_NODE ?
		    (const char *)sk.value->data.scalar.value :
		    yd_kind(sk.value),
		    sk.value->type == YAML_SCALAR_NODE ? "\"" : "");
}

static void
parse_expr_test(struct rt_ctx *c, yaml_node_t *n, struct rt_test *t,
    struct rt_expr_test *et)
{
	static const char *const known[] = { "expr", "eval_time",
	    "exp_samples" };
	struct expr_keys	 ek = { NULL, NULL, NULL };
	yaml_node_item_t	*it;
	const char		*s = NULL;
	char			 err[256];
	size_t			 i, count, off = 0;

	if (walk(c, n, "a promql_expr_test entry", known, NP_NELEM(known),
	    expr_key, &ek) == -1)
		return;
	if (ek.eval_time != NULL &&
	    duration(c, ek.eval_time, "eval_time", &et->eval_ms) == 0)
		note_eval_time(t, ek.eval_time, et->eval_ms);
	if (ek.expr == NULL ||
	    ((s = str(c, ek.expr, "expr")) != NULL && *s == '\0'))
		yd_error(&c->yd, ek.expr != NULL ? ek.expr : n, "a "
		    "promql_expr_test entry needs 'expr'");
	else if (s != NULL) {
		et->text = xstrdup(s);
		err[0] = '\0';
		if ((et->expr = rl_expr_parse(s, &off, err, sizeof(err))) ==
		    NULL)
			rt_error_in(c, ek.expr, off, "invalid expression: %s",
			    err);
	}
	if (ek.exp_samples == NULL ||
	    items(c, ek.exp_samples, "exp_samples", &it, &count) == -1)
		return;
	et->exp = xcalloc(count ? count : 1, sizeof(*et->exp));
	for (i = 0; i < count; i++)
		parse_sample(c, node(c, it[i]), &et->exp[et->nexp++]);
	if (et->nexp > 1)
		qsort(et->exp, et->nexp, sizeof(*et->exp), sample_cmp);
}

/* ---- a test group ---- */

struct test_keys {
	yaml_node_t	*interval, *series, *alerts, *exprs, *name;
};

static void
test_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct rt_ctx		*c = (struct rt_ctx *)yd;
	struct test_keys	*tk = arg;

	if (strcmp(key, "interval") == 0)
		tk->interval = v;
	else if (strcmp(key, "input_series") == 0)
		tk->series = v;
	else if (strcmp(key, "alert_rule_test") == 0)
		tk->alerts = v;
	else if (strcmp(key, "promql_expr_test") == 0)
		tk->exprs = v;
	else if (strcmp(key, "name") == 0)
		tk->name = v;
	else if (strcmp(key, "external_labels") == 0) {
		/* only templates read them, and ours have no $externalLabels */
		if (!yd_is_null(v) && v->type != YAML_MAPPING_NODE)
			yd_error(&c->yd, v, "'external_labels' must be a "
			    "mapping, got %s", yd_kind(v));
	} else
		(void)str(c, v, key);		/* external_url: unused */
}

static void
parse_test(struct rt_ctx *c, yaml_node_t *n, struct rt_test *t, size_t idx)
{
	static const char *const known[] = { "interval", "input_series",
	    "alert_rule_test", "promql_expr_test", "external_labels",
	    "external_url", "name" };
	struct test_keys	 tk;
	yaml_node_item_t	*it;
	const char		*s;
	size_t			 i, count;

	memset(&tk, 0, sizeof(tk));
	(void)walk(c, n, "a test group", known, NP_NELEM(known), test_key,
	    &tk);
	if (tk.name != NULL && (s = str(c, tk.name, "name")) != NULL &&
	    *s != '\0')
		t->name = xstrdup(s);
	else
		xasprintf(&t->name, "#%zu", idx + 1);
	if (tk.interval != NULL)
		(void)duration(c, tk.interval, "interval", &t->interval_ms);
	if (tk.series != NULL &&
	    items(c, tk.series, "input_series", &it, &count) == 0) {
		t->series = xcalloc(count ? count : 1, sizeof(*t->series));
		for (i = 0; i < count; i++)
			parse_series(c, node(c, it[i]),
			    &t->series[t->nseries++]);
	}
	if (tk.alerts != NULL &&
	    items(c, tk.alerts, "alert_rule_test", &it, &count) == 0) {
		t->alerts = xcalloc(count ? count : 1, sizeof(*t->alerts));
		for (i = 0; i < count; i++) {
			t->alerts[i].pos = i;
			parse_alert_test(c, node(c, it[i]), t,
			    &t->alerts[t->nalerts++]);
		}
	}
	if (tk.exprs != NULL &&
	    items(c, tk.exprs, "promql_expr_test", &it, &count) == 0) {
		t->exprs = xcalloc(count ? count : 1, sizeof(*t->exprs));
		for (i = 0; i < count; i++)
			parse_expr_test(c, node(c, it[i]), t,
			    &t->exprs[t->nexprs++]);
	}
}

/* ---- rule_files ---- */

static void
add_rule_file(struct rt_ctx *c, yaml_node_t *n, const char *path)
{
	struct rt_file		*tf = c->tf;
	struct rule_file	*rf;
	struct cfg_errors	 rerrs;
	char			*real;
	size_t			 i;

	/* once per file however named: promtool keys groups by file */
	if ((real = realpath(path, NULL)) == NULL)
		real = xstrdup(path);
	for (i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], real) == 0) {
			free(real);
			return;
		}
	c->seen = xreallocarray(c->seen, c->nseen + 1, sizeof(*c->seen));
	c->seen[c->nseen++] = real;
	if ((rf = rule_file_load(path, &rerrs)) == NULL) {
		if (rerrs.n == 0)
			yd_error(&c->yd, n, "rule file '%s' could not be "
			    "loaded", path);
		/* "FILE:LINE:COL: message" already: take them over */
		for (i = 0; i < rerrs.n; i++) {
			c->yd.errs->msg = xreallocarray(c->yd.errs->msg,
			    c->yd.errs->n + 1, sizeof(*c->yd.errs->msg));
			c->yd.errs->msg[c->yd.errs->n++] = rerrs.msg[i];
		}
		free(rerrs.msg);
		return;
	}
	tf->rules = xreallocarray(tf->rules, tf->nrules + 1,
	    sizeof(*tf->rules));
	tf->rules[tf->nrules++] = rf;
}

/*
 * An entry of rule_files: relative to the test file's directory, a glob
 * (filepath.Glob's metacharacters).  A glob matching nothing is only a
 * warning, as in promtool; a plain path that does not exist is an error
 * here (promtool warns and tests against no rules at all, which hides a
 * typo behind tests that expect nothing).
 */
static void
rule_files_entry(struct rt_ctx *c, yaml_node_t *n)
{
	const char	*s;
	char		*pat;
	glob_t		 g;
	size_t		 i;
	int		 rc;

	if ((s = str(c, n, "rule_files")) == NULL)
		return;
	if (*s == '\0') {
		yd_error(&c->yd, n, "empty rule file name");
		return;
	}
	if (*s == '/' || *c->dir == '\0')
		pat = xstrdup(s);
	else
		xasprintf(&pat, "%s%s%s", c->dir, strcmp(c->dir, "/") == 0 ?
		    "" : "/", s);
	memset(&g, 0, sizeof(g));
	rc = glob(pat, 0, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		if (strpbrk(s, "*?[\\") == NULL)
			yd_error(&c->yd, n, "rule file '%s' does not exist",
			    pat);
		else if (c->warn != NULL)
			fprintf(c->warn, "%s:%zu:%zu: warning: no file matches "
			    "'%s'\n", c->yd.file, n->start_mark.line + 1,
			    n->start_mark.column + 1, pat);
	} else if (rc != 0)
		yd_error(&c->yd, n, "rule files '%s': %s", pat,
		    rc == GLOB_NOSPACE ? "out of memory" : "read error");
	else
		for (i = 0; i < g.gl_pathc; i++)
			add_rule_file(c, n, g.gl_pathv[i]);
	globfree(&g);
	free(pat);
}

/* ---- the file ---- */

struct file_keys {
	yaml_node_t	*rule_files, *eval, *order, *tests;
};

static void
file_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct file_keys	*fk = arg;

	if (strcmp(key, "rule_files") == 0)
		fk->rule_files = v;
	else if (strcmp(key, "evaluation_interval") == 0)
		fk->eval = v;
	else if (strcmp(key, "group_eval_order") == 0)
		fk->order = v;
	else
		fk->tests = v;
}

static void
parse_file(struct rt_ctx *c, yaml_node_t *root)
{
	static const char *const known[] = { "rule_files",
	    "evaluation_interval", "group_eval_order", "tests" };
	struct rt_file		*tf = c->tf;
	struct file_keys	 fk;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	struct rt_test		*t;
	const char		*s;
	char			 d1[32], d2[32];
	size_t			 i, j, count;

	memset(&fk, 0, sizeof(fk));
	if (walk(c, root, "a rule test file", known, NP_NELEM(known),
	    file_key, &fk) == -1)
		return;
	if (fk.eval != NULL)
		(void)duration(c, fk.eval, "evaluation_interval", &tf->eval_ms);
	if (tf->eval_ms == 0)
		tf->eval_ms = RT_DEFAULT_EVAL_MS;
	if (fk.order != NULL &&
	    items(c, fk.order, "group_eval_order", &it, &count) == 0) {
		tf->order = xcalloc(count ? count : 1, sizeof(*tf->order));
		for (i = 0; i < count; i++) {
			n = node(c, it[i]);
			if ((s = str(c, n, "group_eval_order")) == NULL)
				continue;
			for (j = 0; j < tf->norder; j++)
				if (strcmp(tf->order[j], s) == 0)
					break;
			if (j < tf->norder) {
				yd_error(&c->yd, n, "group '%s' is repeated in "
				    "group_eval_order", s);
				continue;
			}
			tf->order[tf->norder++] = xstrdup(s);
		}
	}
	if (fk.rule_files != NULL &&
	    items(c, fk.rule_files, "rule_files", &it, &count) == 0)
		for (i = 0; i < count; i++)
			rule_files_entry(c, node(c, it[i]));
	if (fk.tests != NULL &&
	    items(c, fk.tests, "tests", &it, &count) == 0) {
		tf->tests = xcalloc(count ? count : 1, sizeof(*tf->tests));
		for (i = 0; i < count; i++)
			parse_test(c, node(c, it[i]), &tf->tests[tf->ntests++],
			    i);
	}
	/* bound the work: the evaluation steps up to the last eval_time */
	for (i = 0; i < tf->ntests; i++) {
		t = &tf->tests[i];
		if (t->maxt_ms / tf->eval_ms < RT_MAX_STEPS)
			continue;
		format_duration_ms(t->maxt_ms, d1, sizeof(d1));
		format_duration_ms(tf->eval_ms, d2, sizeof(d2));
		cfg_error_raw(c->yd.errs, c->yd.file, t->maxt_line, t->maxt_col,
		    "eval_time %s needs more than %d evaluations at an "
		    "evaluation_interval of %s", d1, RT_MAX_STEPS, d2);
	}
}

static void
test_file_root(struct yamldoc *yd, yaml_node_t *root)
{
	parse_file((struct rt_ctx *)yd, root);
}

static void
test_free(struct rt_test *t)
{
	size_t	i, j;

	free(t->name);
	for (i = 0; i < t->nseries; i++) {
		rl_labels_free(&t->series[i].labels);
		free(t->series[i].vals);
	}
	free(t->series);
	for (i = 0; i < t->nalerts; i++) {
		free(t->alerts[i].alertname);
		for (j = 0; j < t->alerts[i].nexp; j++) {
			rl_labels_free(&t->alerts[i].exp[j].labels);
			rl_labels_free(&t->alerts[i].exp[j].annotations);
		}
		free(t->alerts[i].exp);
	}
	free(t->alerts);
	for (i = 0; i < t->nexprs; i++) {
		free(t->exprs[i].text);
		if (t->exprs[i].expr != NULL)
			rl_expr_free(t->exprs[i].expr);
		for (j = 0; j < t->exprs[i].nexp; j++)
			rl_labels_free(&t->exprs[i].exp[j].labels);
		free(t->exprs[i].exp);
	}
	free(t->exprs);
}

static void
file_free(struct rt_file *tf)
{
	size_t	i;

	if (tf == NULL)
		return;
	for (i = 0; i < tf->norder; i++)
		free(tf->order[i]);
	free(tf->order);
	for (i = 0; i < tf->nrules; i++)
		rule_file_free(tf->rules[i]);
	free(tf->rules);
	for (i = 0; i < tf->ntests; i++)
		test_free(&tf->tests[i]);
	free(tf->tests);
	free(tf);
}

/*
 * Load a test file and the rule files it names.  Returns it, or NULL with
 * every error in *errs.
 */
static struct rt_file *
file_load(const char *path, struct cfg_errors *errs, FILE *warn)
{
	struct rt_ctx		 c;
	struct rt_file		*tf;
	const char		*slash;
	char			*buf;
	size_t			 len, i;

	memset(errs, 0, sizeof(*errs));
	if ((buf = cfg_read_file(path, &len, errs)) == NULL)
		return (NULL);
	tf = xcalloc(1, sizeof(*tf));
	tf->path = path;
	tf->eval_ms = RT_DEFAULT_EVAL_MS;
	memset(&c, 0, sizeof(c));
	c.yd.file = path;
	c.yd.errs = errs;
	c.tf = tf;
	c.warn = warn;
	/* rule files are relative to the test file (filepath.Dir) */
	if ((slash = strrchr(path, '/')) == NULL)
		c.dir = xstrdup("");
	else if (slash == path)
		c.dir = xstrdup("/");
	else {
		c.dir = xstrdup(path);
		c.dir[slash - path] = '\0';
	}

	(void)yd_load(&c.yd, buf, len, test_file_root);	/* empty: no tests */
	free(buf);
	free(c.dir);
	for (i = 0; i < c.nseen; i++)
		free(c.seen[i]);
	free(c.seen);
	if (errs->n > 0) {
		file_free(tf);
		return (NULL);
	}
	return (tf);
}

/* ---- running ------------------------------------------------------- */

/*
 * rl_labels_string() with a buffer always large enough (a value byte is
 * at most 4 when quoted: \x01); caller frees.
 */
static char *
labels_text(const struct np_labels *l)
{
	size_t	i, len = 3;
	char	*buf;

	for (i = 0; i < l->n; i++)
		len += strlen(l->v[i].name) + 4 * strlen(l->v[i].value) + 6;
	buf = xmalloc(len);
	rl_labels_string(l, buf, len);
	return (buf);
}

static void
print_labels(FILE *f, const struct np_labels *l)
{
	char	*s = labels_text(l);

	fputs(s, f);
	free(s);
}

/* Text as Go's %q writes it, for the expression in messages. */
static void
print_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				fprintf(f, "\\x%02x", (unsigned char)*s);
			else
				fputc(*s, f);
		}
	}
	fputc('"', f);
}

static void
print_samples(FILE *f, const struct rl_sample *s, size_t n)
{
	char	num[64];
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", f);
		print_labels(f, &s[i].labels);
		format_double(s[i].v, num, sizeof(num));
		fprintf(f, " %s", num);
	}
	fputc(']', f);
}

static void
print_alerts(FILE *f, const struct rt_alert *a, size_t n)
{
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", f);
		print_labels(f, &a[i].labels);
		fputc(' ', f);
		print_labels(f, &a[i].annotations);
	}
	fputc(']', f);
}

/*
 * Sample values: equal, both NaN, or within a relative epsilon (our
 * arithmetic may differ from Prometheus' in the last bits).  promtool
 * compares exactly and never matches an expected NaN.
 */
static int
value_eq(double a, double b)
{
	if (a == b || (isnan(a) && isnan(b)))
		return (1);
	if (isnan(a) || isnan(b) || isinf(a) || isinf(b))
		return (0);
	return (fabs(a - b) <= RT_REL_EPSILON * fmax(fabs(a), fabs(b)));
}

static int
samples_eq(const struct rl_sample *a, size_t na, const struct rl_sample *b,
    size_t nb)
{
	size_t	i;

	if (na != nb)
		return (0);
	for (i = 0; i < na; i++)
		if (rl_labels_cmp(&a[i].labels, &b[i].labels) != 0 ||
		    !value_eq(a[i].v, b[i].v))
			return (0);
	return (1);
}

/* The state of one test group while it runs. */
struct rt_run {
	struct rt_file		*tf;
	struct rt_test		*t;
	struct tsdb		*db;
	struct rl_group		**groups;
	size_t			 ngroups;
	FILE			*d;		/* the difference lines */
	int			 failed;
};

/*
 * Every group of every rule file: those named in group_eval_order first,
 * in that order, then the rest in file order (promtool guarantees only
 * the order of the named ones).
 */
static void
run_groups_new(struct rt_run *r)
{
	struct rt_file		*tf = r->tf;
	const struct rule_group	*g;
	size_t			 total = 0, i, j, k, o;
	char			*used;

	for (i = 0; i < tf->nrules; i++)
		total += tf->rules[i]->ngroups;
	r->groups = xcalloc(total ? total : 1, sizeof(*r->groups));
	used = xcalloc(total ? total : 1, 1);
	for (o = 0; o <= tf->norder; o++)
		for (i = 0, k = 0; i < tf->nrules; i++)
			for (j = 0; j < tf->rules[i]->ngroups; j++, k++) {
				g = &tf->rules[i]->groups[j];
				if (used[k] || (o < tf->norder &&
				    strcmp(g->name, tf->order[o]) != 0))
					continue;
				used[k] = 1;
				r->groups[r->ngroups++] = rl_group_new(g,
				    tf->rules[i]->path);
			}
	free(used);
}

static void
load_series(struct rt_run *r, uint64_t interval_ms)
{
	struct rt_series	*s;
	struct tsdb_series	*ts;
	size_t			 i, j;

	for (i = 0; i < r->t->nseries; i++) {
		s = &r->t->series[i];
		if (s->labels.n == 0)
			continue;
		ts = tsdb_series_get(r->db, &s->labels, NULL);
		/*
		 * promtool loads samples only up to the last eval_time: a
		 * later one must not be seen (a negative offset would).
		 */
		for (j = 0; j < s->nvals; j++) {
			if (s->vals[j].slot > r->t->maxt_ms / interval_ms)
				break;
			tsdb_append(r->db, ts,
			    (int64_t)(s->vals[j].slot * interval_ms),
			    s->vals[j].v);
		}
	}
}

static int
alert_test_order(const void *a, const void *b)
{
	const struct rt_alert_test	*x = *(const struct rt_alert_test *
					    const *)a;
	const struct rt_alert_test	*y = *(const struct rt_alert_test *
					    const *)b;

	if (x->eval_ms != y->eval_ms)
		return (x->eval_ms < y->eval_ms ? -1 : 1);
	return (x->pos < y->pos ? -1 : x->pos > y->pos);
}

/* Compare the firing alerts of at's alertname, across every group. */
static void
check_alerts(struct rt_run *r, const struct rt_alert_test *at)
{
	const struct rl_rule_state	*rs;
	const struct alert		*a;
	struct rt_alert			*got = NULL;
	size_t				 ngot = 0, i, j, k;
	char				 when[32];
	int				 same;

	for (i = 0; i < r->ngroups; i++)
		for (j = 0; j < r->groups[i]->nrules; j++) {
			rs = &r->groups[i]->rules[j];
			if (rs->alert == NULL ||
			    strcmp(rs->rule->name, at->alertname) != 0)
				continue;
			for (k = 0; k < rs->alert->nalerts; k++) {
				a = &rs->alert->alerts[k];
				if (a->state != ALERT_FIRING)
					continue;
				got = xreallocarray(got, ngot + 1,
				    sizeof(*got));
				rl_labels_copy(&got[ngot].labels, &a->labels);
				rl_labels_copy(&got[ngot].annotations,
				    &a->annotations);
				ngot++;
			}
		}
	if (ngot > 1)
		qsort(got, ngot, sizeof(*got), alert_cmp);
	same = ngot == at->nexp;
	for (i = 0; same && i < ngot; i++)
		same = alert_cmp(&got[i], &at->exp[i]) == 0;
	if (!same) {
		format_duration_ms(at->eval_ms, when, sizeof(when));
		fprintf(r->d, "    alert %s at %s: expected ", at->alertname,
		    when);
		print_alerts(r->d, at->exp, at->nexp);
		fputs(", got ", r->d);
		print_alerts(r->d, got, ngot);
		fputc('\n', r->d);
		r->failed = 1;
	}
	for (i = 0; i < ngot; i++) {
		rl_labels_free(&got[i].labels);
		rl_labels_free(&got[i].annotations);
	}
	free(got);
}

static void
check_expr(struct rt_run *r, const struct rt_expr_test *et)
{
	struct rl_source	 src;
	struct rl_value		 v;
	struct rl_sample	 scalar, *got;
	size_t			 ngot;
	char			 err[256], when[32];

	format_duration_ms(et->eval_ms, when, sizeof(when));
	tsdb_source(r->db, &src);
	memset(&v, 0, sizeof(v));
	err[0] = '\0';
	if (rl_expr_eval(et->expr, &src, (int64_t)et->eval_ms, &v, err,
	    sizeof(err)) == -1) {
		fputs("    expr ", r->d);
		print_quoted(r->d, et->text);
		fprintf(r->d, " at %s: error: %s\n", when, err);
		r->failed = 1;
		return;
	}
	if (v.type == RL_SCALAR) {
		/* promtool: a scalar is one sample without labels */
		memset(&scalar, 0, sizeof(scalar));
		scalar.v = v.scalar;
		got = &scalar;
		ngot = 1;
	} else {
		got = v.samples;
		ngot = v.n;
		if (ngot > 1)
			qsort(got, ngot, sizeof(*got), sample_cmp);
	}
	if (!samples_eq(et->exp, et->nexp, got, ngot)) {
		fputs("    expr ", r->d);
		print_quoted(r->d, et->text);
		fprintf(r->d, " at %s: expected ", when);
		print_samples(r->d, et->exp, et->nexp);
		fputs(", got ", r->d);
		print_samples(r->d, got, ngot);
		fputc('\n', r->d);
		r->failed = 1;
	}
	rl_value_free(&v);
}

/*
 * Run one test group; prints its verdict and differences.  Returns 0 when
 * it passed.
 */
static int
run_test(struct rt_file *tf, struct rt_test *t, FILE *out)
{
	struct rt_run		  r;
	struct rt_alert_test	**order;
	const struct rl_rule_state *rs;
	uint64_t		  ei = tf->eval_ms, ts;
	size_t			  i, j, cur = 0, dlen = 0;
	char			 *dbuf = NULL, when[32];
	int			  stop = 0;

	memset(&r, 0, sizeof(r));
	r.tf = tf;
	r.t = t;
	if ((r.d = open_memstream(&dbuf, &dlen)) == NULL)
		fatalx("open_memstream failed");
	r.db = tsdb_new();
	load_series(&r, t->interval_ms ? t->interval_ms : ei);
	run_groups_new(&r);
	order = xcalloc(t->nalerts ? t->nalerts : 1, sizeof(*order));
	for (i = 0; i < t->nalerts; i++)
		order[i] = &t->alerts[i];
	if (t->nalerts > 1)
		qsort(order, t->nalerts, sizeof(*order), alert_test_order);

	for (ts = 0; ts <= t->maxt_ms; ts += ei) {
		for (i = 0; i < r.ngroups; i++) {
			(void)rl_group_eval(r.groups[i], r.db, (int64_t)ts);
			/* promtool ends the test group on any rule error */
			for (j = 0; j < r.groups[i]->nrules; j++) {
				rs = &r.groups[i]->rules[j];
				if (rs->error[0] == '\0')
					continue;
				format_duration_ms(ts, when, sizeof(when));
				fprintf(r.d, "    rule %s at %s: error: %s\n",
				    rs->rule->name, when, rs->error);
				stop = 1;
			}
		}
		if (stop)
			break;
		/* alert tests at ts <= eval_time < ts + interval */
		while (cur < t->nalerts && order[cur]->eval_ms - ts < ei)
			check_alerts(&r, order[cur++]);
		if (t->maxt_ms - ts < ei)
			break;
	}
	if (stop)
		r.failed = 1;
	else
		for (i = 0; i < t->nexprs; i++)
			check_expr(&r, &t->exprs[i]);

	fclose(r.d);
	fprintf(out, "%s: %s: %s\n", tf->path, t->name, r.failed ? "FAIL" :
	    "PASS");
	fwrite(dbuf, 1, dlen, out);
	free(dbuf);
	free(order);
	for (i = 0; i < r.ngroups; i++)
		rl_group_free(r.groups[i]);
	free(r.groups);
	tsdb_free(r.db);
	return (r.failed);
}

int
rule_test_run(char *const *files, size_t nfiles, FILE *out, FILE *err)
{
	struct cfg_errors	 errs;
	struct rt_file		*tf;
	size_t			 i, j, ntests = 0, nfailed = 0, nbad = 0;

	for (i = 0; i < nfiles; i++) {
		if ((tf = file_load(files[i], &errs, err)) == NULL) {
			for (j = 0; j < errs.n; j++)
				fprintf(err, "%s\n", errs.msg[j]);
			cfg_errors_free(&errs);
			nbad++;
			continue;
		}
		for (j = 0; j < tf->ntests; j++) {
			ntests++;
			if (run_test(tf, &tf->tests[j], out) != 0)
				nfailed++;
		}
		file_free(tf);
	}
	fprintf(out, "%zu tests, %zu passed, %zu failed", ntests,
	    ntests - nfailed, nfailed);
	if (nbad > 0)
		fprintf(out, "; %zu file%s with errors", nbad,
		    nbad == 1 ? "" : "s");
	fputc('\n', out);
	fflush(out);
	if (nbad > 0)
		return (2);
	return (nfailed > 0 ? 1 : 0);
}
