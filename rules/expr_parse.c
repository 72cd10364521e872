/*
 * Lexer and recursive-descent parser for the rule expression language,
 * a subset of PromQL (Prometheus 2.x grammar, promql/parser), plus the
 * canonical printer.
 *
 * The subset: number literals (decimal, 1e3, .5, 0x1f, 010 octal, Inf,
 * NaN), strings in "...", '...' (Go escapes) or `...` (raw) as matcher
 * values, instant selectors name{l="v",l!="v",l=~"re",l!~"re"} and
 * {__name__="x"}, range selectors [1h30m] (units ms s m h d w y, largest
 * first), offset (also negative), parentheses, unary + and -, the binary
 * operators with PromQL precedence (^ right-associative, then unary,
 * then * / % atan2, + -, comparisons with optional bool, and/unless, or),
 * on/ignoring with group_left/group_right, the aggregations sum avg min
 * max count topk bottomk with by/without before or after the arguments,
 * and the functions in funcs[] below.  Not supported: subqueries, @,
 * other functions and aggregations (label_replace, stddev, quantile,
 * count_values, ...), native histograms, string results.  Comments (#)
 * run to the end of the line.
 *
 * Regular expressions in =~ and !~ matchers are POSIX extended regular
 * expressions (regcomp(3) REG_EXTENDED), NOT Go's RE2: they are anchored
 * like Prometheus', as ^(re)$, but RE2-only syntax such as (?i), \d or
 * non-greedy *? is rejected or means something else.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/expr_int.h"

/*
 * Bounds on nesting and on the height of the tree (a long chain like
 * a or b or c ... is deep without nesting): everything downstream
 * (free, print, eval) recurses over the tree, so its stack stays small.
 */
#define MAX_DEPTH	200
#define MAX_HEIGHT	256

enum tok_kind { K_EOF, K_ERR, K_NUM, K_STR, K_IDENT, K_LPAREN, K_RPAREN,
    K_LBRACE, K_RBRACE, K_LBRACK, K_RBRACK, K_COMMA, K_COLON,
    K_EQL, K_NEQ, K_RE, K_NRE, K_ASSIGN, K_ADD, K_SUB, K_MUL, K_DIV, K_MOD,
    K_POW, K_LTE, K_LT, K_GTE, K_GT };

struct tok {
	enum tok_kind	 kind;
	size_t		 pos;
	size_t		 len;
	double		 num;
};

struct parser {
	const char	*s;
	size_t		 slen;
	size_t		 p;		/* lexer position */
	struct tok	 t;		/* current token */
	int		 failed;
	size_t		 err_off;
	char		*err;
	size_t		 errlen;
	int		 depth;
};

static const struct rl_func funcs[] = {
	{ "abs", F_ABS, 1, { T_VECTOR }, T_VECTOR },
	{ "absent", F_ABSENT, 1, { T_VECTOR }, T_VECTOR },
	{ "absent_over_time", F_ABSENT_OT, 1, { T_MATRIX }, T_VECTOR },
	{ "avg_over_time", F_AVG_OT, 1, { T_MATRIX }, T_VECTOR },
	{ "ceil", F_CEIL, 1, { T_VECTOR }, T_VECTOR },
	{ "changes", F_CHANGES, 1, { T_MATRIX }, T_VECTOR },
	{ "clamp_max", F_CLAMP_MAX, 2, { T_VECTOR, T_SCALAR }, T_VECTOR },
	{ "clamp_min", F_CLAMP_MIN, 2, { T_VECTOR, T_SCALAR }, T_VECTOR },
	{ "count_over_time", F_COUNT_OT, 1, { T_MATRIX }, T_VECTOR },
	{ "delta", F_DELTA, 1, { T_MATRIX }, T_VECTOR },
	{ "exp", F_EXP, 1, { T_VECTOR }, T_VECTOR },
	{ "floor", F_FLOOR, 1, { T_VECTOR }, T_VECTOR },
	{ "histogram_quantile", F_HQUANTILE, 2, { T_SCALAR, T_VECTOR },
	    T_VECTOR },
	{ "increase", F_INCREASE, 1, { T_MATRIX }, T_VECTOR },
	{ "irate", F_IRATE, 1, { T_MATRIX }, T_VECTOR },
	{ "last_over_time", F_LAST_OT, 1, { T_MATRIX }, T_VECTOR },
	{ "ln", F_LN, 1, { T_VECTOR }, T_VECTOR },
	{ "log10", F_LOG10, 1, { T_VECTOR }, T_VECTOR },
	{ "log2", F_LOG2, 1, { T_VECTOR }, T_VECTOR },
	{ "max_over_time", F_MAX_OT, 1, { T_MATRIX }, T_VECTOR },
	{ "min_over_time", F_MIN_OT, 1, { T_MATRIX }, T_VECTOR },
	{ "quantile_over_time", F_QUANTILE_OT, 2, { T_SCALAR, T_MATRIX },
	    T_VECTOR },
	{ "rate", F_RATE, 1, { T_MATRIX }, T_VECTOR },
	{ "resets", F_RESETS, 1, { T_MATRIX }, T_VECTOR },
	{ "scalar", F_SCALAR, 1, { T_VECTOR }, T_SCALAR },
	{ "sqrt", F_SQRT, 1, { T_VECTOR }, T_VECTOR },
	{ "sum_over_time", F_SUM_OT, 1, { T_MATRIX }, T_VECTOR },
	{ "time", F_TIME, 0, { T_SCALAR }, T_SCALAR },
	{ "vector", F_VECTOR, 1, { T_SCALAR }, T_VECTOR },
};

static const char *const aggnames[] = { "sum", "avg", "min", "max", "count",
    "topk", "bottomk" };

/* Words that are tokens of their own in PromQL, never metric names. */
static const char *const keywords[] = { "by", "without", "on", "ignoring",
    "group_left", "group_right", "bool", "offset", "and", "or", "unless",
    "atan2" };

static const char *const opnames[] = { "+", "-", "*", "/", "%", "atan2", "^",
    "==", "!=", "<=", "<", ">=", ">", "and", "or", "unless" };

/* Precedence, higher binds tighter (Prometheus' generated_parser.y). */
static const int opprec[] = { 4, 4, 5, 5, 5, 5, 6, 3, 3, 3, 3, 3, 3, 2, 1,
    2 };
#define PREC_POW	6

static const char *const typenames[] = { "scalar", "instant vector",
    "range vector", "string" };

static struct rl_expr	*parse_expr(struct parser *, int);

int
rl_binop_is_cmp(enum rl_binop op)
{
	return (op >= OP_EQ && op <= OP_GT);
}

int
rl_binop_is_set(enum rl_binop op)
{
	return (op == OP_AND || op == OP_OR || op == OP_UNLESS);
}

static void __attribute__((format(printf, 3, 4)))
perr(struct parser *ps, size_t off, const char *fmt, ...)
{
	va_list	ap;

	if (ps->failed)
		return;		/* keep the first error */
	ps->failed = 1;
	ps->err_off = off;
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->errlen, fmt, ap);
	va_end(ap);
}

/* ---- lexer ---- */

static int
is_ident_start(int c)
{
	return (isalpha(c) || c == '_' || c == ':');
}

static int
is_ident(int c)
{
	return (isalnum(c) || c == '_' || c == ':');
}

static int
tok_is(const struct parser *ps, const char *word)
{
	size_t	l = strlen(word);

	return (ps->t.kind == K_IDENT && ps->t.len == l &&
	    strncasecmp(ps->s + ps->t.pos, word, l) == 0);
}

/* Scan a number at p: decimal, hex (0x..) or float with exponent. */
static size_t
scan_number(const char *s, size_t p, double *v)
{
	char	*end;
	size_t	 q = p;

	if (s[q] == '0' && (s[q + 1] == 'x' || s[q + 1] == 'X') &&
	    isxdigit((unsigned char)s[q + 2])) {
		q += 2;
		while (isxdigit((unsigned char)s[q]))
			q++;
		/* strtod would accept hex floats (0x1p3); PromQL does not */
		errno = 0;
		*v = (double)strtoull(s + p, NULL, 16);
		if (errno == ERANGE)
			*v = INFINITY;
		return (q - p);
	}
	while (isdigit((unsigned char)s[q]))
		q++;
	if (s[q] == '.') {
		q++;
		while (isdigit((unsigned char)s[q]))
			q++;
	}
	if (q == p || (q == p + 1 && s[p] == '.'))
		return (0);
	if ((s[q] == 'e' || s[q] == 'E') && (isdigit((unsigned char)s[q + 1])
	    || ((s[q + 1] == '+' || s[q + 1] == '-') &&
	    isdigit((unsigned char)s[q + 2])))) {
		q += 2;
		while (isdigit((unsigned char)s[q]))
			q++;
	}
	/* the source is NUL-terminated, strtod stops at q at the latest */
	*v = strtod(s + p, &end);
	/* Go's ParseInt(s, 0, 64) comes first upstream: 010 is octal */
	if (s[p] == '0' && q - p > 1 && strspn(s + p, "01234567") == q - p)
		*v = (double)strtoull(s + p, NULL, 8);
	return (q - p);
}

static void
next(struct parser *ps)
{
	const char	*s = ps->s;
	size_t		 p = ps->p, n;
	struct tok	*t = &ps->t;
	char		 q;

	for (;;) {
		while (isspace((unsigned char)s[p]))
			p++;
		if (s[p] != '#')
			break;
		while (s[p] != '\0' && s[p] != '\n')	/* comment */
			p++;
	}
	t->pos = p;
	t->len = 1;
	switch (s[p]) {
	case '\0':
		t->kind = p < ps->slen ? K_ERR : K_EOF;
		t->len = 0;
		if (t->kind == K_ERR)
			perr(ps, p, "unexpected NUL byte");
		break;
	case '(': t->kind = K_LPAREN; break;
	case ')': t->kind = K_RPAREN; break;
	case '{': t->kind = K_LBRACE; break;
	case '}': t->kind = K_RBRACE; break;
	case '[': t->kind = K_LBRACK; break;
	case ']': t->kind = K_RBRACK; break;
	case ',': t->kind = K_COMMA; break;
	case ':': t->kind = K_COLON; break;
	case '+': t->kind = K_ADD; break;
	case '-': t->kind = K_SUB; break;
	case '*': t->kind = K_MUL; break;
	case '/': t->kind = K_DIV; break;
	case '%': t->kind = K_MOD; break;
	case '^': t->kind = K_POW; break;
	case '=':
		if (s[p + 1] == '=') {
			t->kind = K_EQL;
			t->len = 2;
		} else if (s[p + 1] == '~') {
			t->kind = K_RE;
			t->len = 2;
		} else
			t->kind = K_ASSIGN;
		break;
	case '!':
		if (s[p + 1] == '=') {
			t->kind = K_NEQ;
			t->len = 2;
		} else if (s[p + 1] == '~') {
			t->kind = K_NRE;
			t->len = 2;
		} else {
			t->kind = K_ERR;
			perr(ps, p, "unexpected character after '!': %s",
			    s[p + 1] == '\0' ? "end of input" : "expected = or ~");
		}
		break;
	case '<':
	case '>':
		if (s[p + 1] == '=') {
			t->kind = s[p] == '<' ? K_LTE : K_GTE;
			t->len = 2;
		} else
			t->kind = s[p] == '<' ? K_LT : K_GT;
		break;
	case '"':
	case '\'':
	case '`':
		q = s[p];
		for (n = p + 1; s[n] != q; n++) {
			if (s[n] == '\0' || (q != '`' && s[n] == '\n')) {
				t->kind = K_ERR;
				perr(ps, p, "unterminated quoted string");
				goto out;
			}
			if (q != '`' && s[n] == '\\' && s[n + 1] != '\0')
				n++;
		}
		t->kind = K_STR;
		t->len = n + 1 - p;
		break;
	default:
		if (isdigit((unsigned char)s[p]) || (s[p] == '.' &&
		    isdigit((unsigned char)s[p + 1]))) {
			n = scan_number(s, p, &t->num);
			if (n == 0 || is_ident(s[p + n]) || s[p + n] == '.') {
				t->kind = K_ERR;
				perr(ps, p, "bad number or duration syntax: "
				    "\"%.*s\"", (int)(n + 1), s + p);
				break;
			}
			t->kind = K_NUM;
			t->len = n;
		} else if (is_ident_start((unsigned char)s[p])) {
			for (n = p; is_ident((unsigned char)s[n]); n++)
				;
			t->kind = K_IDENT;
			t->len = n - p;
			if (tok_is(ps, "inf") || tok_is(ps, "nan")) {
				t->kind = K_NUM;
				t->num = tolower((unsigned char)s[p]) == 'i' ?
				    INFINITY : NAN;
			}
		} else {
			t->kind = K_ERR;
			if (isprint((unsigned char)s[p]))
				perr(ps, p, "unexpected character: '%c'", s[p]);
			else
				perr(ps, p, "unexpected byte 0x%02x",
				    (unsigned char)s[p]);
		}
	}
out:
	ps->p = p + t->len;
}

/* A short description of the current token for error messages. */
static void
tokdesc(const struct parser *ps, char *buf, size_t len)
{
	if (ps->t.kind == K_EOF)
		snprintf(buf, len, "end of input");
	else
		snprintf(buf, len, "\"%.*s\"", (int)(ps->t.len > 40 ? 40 :
		    ps->t.len), ps->s + ps->t.pos);
}

static void
unexpected(struct parser *ps, const char *expected)
{
	char	d[64];

	if (ps->t.kind == K_ERR)
		return;		/* the lexer said why */
	tokdesc(ps, d, sizeof(d));
	perr(ps, ps->t.pos, "unexpected %s, expected %s", d, expected);
}

static int
expect(struct parser *ps, enum tok_kind k, const char *what)
{
	if (ps->t.kind != k) {
		unexpected(ps, what);
		return (-1);
	}
	next(ps);
	return (0);
}

/*
 * A duration directly at the lexer position (Prometheus
 * model.ParseDuration): units y w d h m s ms, each at most once, largest
 * first, e.g. 1h30m.  Returns -1 on error.
 */
static int
parse_duration(struct parser *ps, int64_t *out, int allow_neg)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "y", 365LL * 86400000 }, { "w", 7LL * 86400000 },
		{ "d", 86400000 }, { "h", 3600000 }, { "ms", 1 },
		{ "m", 60000 }, { "s", 1000 } };
	static const int order[] = { 0, 1, 2, 3, 6, 4, 5 };
	const char	*s = ps->s;
	size_t		 p = ps->p, start, i, ul, ds;
	int64_t		 total = 0, n;
	int		 last = -1, neg = 0, rank, any = 0;

	while (isspace((unsigned char)s[p]))
		p++;
	start = p;
	if (allow_neg && s[p] == '-') {
		neg = 1;
		p++;
	}
	while (isdigit((unsigned char)s[p])) {
		ds = p;
		for (n = 0; isdigit((unsigned char)s[p]); p++) {
			if (n > (INT64_MAX / 10 - 9))
				goto bad;
			n = n * 10 + (s[p] - '0');
		}
		if (p - ds == 1 && n == 0 && !any &&
		    !isalnum((unsigned char)s[p]) &&
		    s[p] != '_') {
			any = 1;	/* a bare "0" (model.ParseDuration) */
			break;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			ul = strlen(units[i].u);
			/* "ms" sits before "m" in units[] */
			if (strncmp(s + p, units[i].u, ul) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			goto bad;
		rank = order[i];
		if (rank <= last)
			goto bad;
		last = rank;
		if (n > INT64_MAX / 4 / units[i].ms)
			goto bad;
		total += n * units[i].ms;
		if (total > INT64_MAX / 4)
			goto bad;
		p += strlen(units[i].u);
		any = 1;
	}
	if (!any || isalnum((unsigned char)s[p]) || s[p] == '_')
		goto bad;
	*out = neg ? -total : total;
	ps->p = p;
	next(ps);
	return (0);
bad:
	while (s[p] != '\0' && !isspace((unsigned char)s[p]) && s[p] != ']' &&
	    s[p] != ')' && s[p] != ':')
		p++;
	/* report before relexing: the lexer may have its own complaint */
	if (p > start)
		perr(ps, start, "bad duration \"%.*s\"", (int)(p - start > 40 ?
		    40 : p - start), s + start);
	ps->p = start;
	next(ps);
	unexpected(ps, "a duration");
	return (-1);
}

/* Append the UTF-8 encoding of r. */
static size_t
utf8(char *o, unsigned long r)
{
	if (r < 0x80) {
		o[0] = (char)r;
		return (1);
	}
	if (r < 0x800) {
		o[0] = (char)(0xc0 | (r >> 6));
		o[1] = (char)(0x80 | (r & 0x3f));
		return (2);
	}
	if (r < 0x10000) {
		o[0] = (char)(0xe0 | (r >> 12));
		o[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		o[2] = (char)(0x80 | (r & 0x3f));
		return (3);
	}
	o[0] = (char)(0xf0 | (r >> 18));
	o[1] = (char)(0x80 | ((r >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((r >> 6) & 0x3f));
	o[3] = (char)(0x80 | (r & 0x3f));
	return (4);
}

static int
hexval(int c)
{
	if (isdigit(c))
		return (c - '0');
	return (tolower(c) - 'a' + 10);
}

/*
 * Unquote the current K_STR token with Go's rules (strconv.UnquoteChar):
 * \a \b \f \n \r \t \v \\ \xHH \ooo \uHHHH \UHHHHHHHH, and the quote's
 * own escape (\" in "..." only, \' in '...' only).  Backquotes: raw.
 */
static char *
unquote(struct parser *ps)
{
	const char	*s = ps->s + ps->t.pos;
	size_t		 len = ps->t.len, i, o = 0, nd, k, esc = 0;
	char		 q = s[0], *out;
	unsigned long	 r;
	int		 c;

	out = xmalloc(len * 2 + 4);	/* \U escapes only shrink */
	for (i = 1; i < len - 1; i++) {
		if (s[i] != '\\' || q == '`') {
			if (s[i] == '\0')
				goto nul;
			out[o++] = s[i];
			continue;
		}
		esc = i;
		c = (unsigned char)s[++i];
		switch (c) {
		case 'a': out[o++] = '\a'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'v': out[o++] = '\v'; break;
		case '\\': out[o++] = '\\'; break;
		case '"':
		case '\'':
			if (c != q)
				goto bad;
			out[o++] = (char)c;
			break;
		case 'x':
		case 'u':
		case 'U':
			nd = c == 'x' ? 2 : c == 'u' ? 4 : 8;
			for (r = 0, k = 1; k <= nd; k++) {
				if (i + k >= len - 1 ||
				    !isxdigit((unsigned char)s[i + k]))
					goto bad;
				r = r << 4 | (unsigned long)hexval(
				    (unsigned char)s[i + k]);
			}
			i += nd;
			if (r == 0)
				goto nul;
			if (c == 'x')
				out[o++] = (char)r;
			else if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
				goto bad;
			else
				o += utf8(out + o, r);
			break;
		default:
			if (c < '0' || c > '7')
				goto bad;
			for (r = 0, k = 0; k < 3; k++) {
				if (i + k >= len - 1 || s[i + k] < '0' ||
				    s[i + k] > '7')
					goto bad;
				r = r << 3 | (unsigned long)(s[i + k] - '0');
			}
			i += 2;
			if (r > 255)
				goto bad;
			if (r == 0)
				goto nul;
			out[o++] = (char)r;
		}
	}
	out[o] = '\0';
	return (out);
bad:
	free(out);
	perr(ps, ps->t.pos + esc, "invalid escape sequence in string");
	return (NULL);
nul:
	free(out);
	perr(ps, ps->t.pos, "NUL byte not allowed in string");
	return (NULL);
}

/* ---- tree helpers ---- */

static struct rl_expr *
node(enum rl_kind kind, enum rl_type type, size_t pos)
{
	struct rl_expr	*e;

	e = xcalloc(1, sizeof(*e));
	e->height = 1;
	e->kind = kind;
	e->type = type;
	e->pos = pos;
	return (e);
}

/* Set e's height from its children; -1 if the tree is too tall. */
static int
grown(struct parser *ps, struct rl_expr *e)
{
	const struct rl_expr	*kids[] = { e->args[0], e->args[1], e->param,
				    e->lhs, e->rhs };
	size_t			 i;

	e->height = 1;
	for (i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
		if (kids[i] != NULL && kids[i]->height >= e->height)
			e->height = kids[i]->height + 1;
	if (e->height > MAX_HEIGHT) {
		perr(ps, e->pos, "expression nested too deeply");
		return (-1);
	}
	return (0);
}

static void
strlist_free(struct rl_strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
strlist_add(struct rl_strlist *l, const char *s, size_t len)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n] = xmalloc(len + 1);
	memcpy(l->v[l->n], s, len);
	l->v[l->n][len] = '\0';
	l->n++;
}

int
rl_strlist_has(const struct rl_strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return (1);
	return (0);
}

void
rl_expr_free(struct rl_expr *e)
{
	size_t	i;

	if (e == NULL)
		return;
	free(e->str);
	free(e->name);
	for (i = 0; i < e->nm; i++) {
		free((char *)e->m[i].name);
		free((char *)e->m[i].value);
		if (e->m[i].re != NULL) {
			regfree((regex_t *)e->m[i].re);
			free((void *)e->m[i].re);
		}
	}
	free(e->m);
	for (i = 0; i < e->nargs; i++)
		rl_expr_free(e->args[i]);
	strlist_free(&e->grp);
	strlist_free(&e->mlabels);
	strlist_free(&e->include);
	rl_expr_free(e->param);
	rl_expr_free(e->lhs);
	rl_expr_free(e->rhs);
	free(e);
}

/* ---- parser ---- */

static int
is_keyword(const struct parser *ps)
{
	size_t	i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (tok_is(ps, keywords[i]))
			return (1);
	return (0);
}

/* A label name: identifier without ':' (keywords are fine here). */
static int
label_name(struct parser *ps, const char *what)
{
	/* inf and nan are numbers elsewhere, but fine label names */
	if (ps->t.kind == K_NUM && isalpha((unsigned char)ps->s[ps->t.pos]))
		ps->t.kind = K_IDENT;
	if (ps->t.kind != K_IDENT ||
	    memchr(ps->s + ps->t.pos, ':', ps->t.len) != NULL) {
		unexpected(ps, what);
		return (-1);
	}
	return (0);
}

/* "(" [label {"," label}] [","] ")" */
static int
parse_label_list(struct parser *ps, struct rl_strlist *l)
{
	if (expect(ps, K_LPAREN, "\"(\" to start a label list") == -1)
		return (-1);
	while (ps->t.kind != K_RPAREN) {
		if (label_name(ps, "a label name") == -1)
			return (-1);
		strlist_add(l, ps->s + ps->t.pos, ps->t.len);
		next(ps);
		if (ps->t.kind == K_COMMA)
			next(ps);
		else if (ps->t.kind != K_RPAREN) {
			unexpected(ps, "\",\" or \")\" in label list");
			return (-1);
		}
	}
	next(ps);
	return (0);
}

static void
add_matcher(struct rl_expr *e, char *name, char *value, enum rl_match_op op)
{
	e->m = xreallocarray(e->m, e->nm + 1, sizeof(*e->m));
	e->m[e->nm].name = name;
	e->m[e->nm].value = value;
	e->m[e->nm].op = op;
	e->m[e->nm].re = NULL;
	e->nm++;
}

/*
 * glibc's regcomp() copies the tree of a repeated subexpression for each
 * repetition ("a+" is "aa*", "a{3,5}" five copies), nested repetitions
 * multiply, and it backtracks on back-references: "a++++++++++++++++++++"
 * takes gigabytes to compile.  So refuse, before regcomp(), what RE2 (and
 * so Prometheus) refuses too: a repetition operator right after another
 * one (only one "?" may follow, RE2's non-greedy mark), counts above
 * 1000, back-references; and an expansion beyond RE_EXPAND_MAX atoms.
 * NULL if usable, else why.
 */
#define RE_REPEAT_MAX	1000
#define RE_EXPAND_MAX	10000

/* An interval {n}, {n,} or {n,m} at *pp: 1 and its largest count (or n
 * + 1 for {n,}), 0 if it is not one (then regcomp() judges it). */
static int
re_interval(const char **pp, unsigned long *max)
{
	const char	*p = *pp + 1;
	unsigned long	 n = 0, m;
	int		 digits = 0;

	for (; isdigit((unsigned char)*p) && n <= RE_REPEAT_MAX; p++, digits++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (!digits)
		return (0);
	m = n;
	if (*p == ',') {
		p++;
		for (m = 0, digits = 0; isdigit((unsigned char)*p) &&
		    m <= RE_REPEAT_MAX; p++, digits++)
			m = m * 10 + (unsigned long)(*p - '0');
		if (!digits)
			m = n + 1;
	}
	if (*p != '}')
		return (0);
	*pp = p + 1;
	*max = n > m ? n : m;
	return (1);
}

/* The expansion of the alternation at *pp, up to ')' or the end. */
static const char *
re_cost(const char **pp, int depth, unsigned long *cost)
{
	const char	*p = *pp, *why;
	unsigned long	 branch = 0, atom, max;
	int		 reps;

	*cost = 0;
	if (depth > 100)
		return ("nesting too deep");
	while (*p != '\0' && *p != ')') {
		if (*p == '|') {
			*cost += branch;
			branch = 0;
			p++;
			continue;
		}
		atom = 1;
		if (*p == '(') {
			p++;
			if ((why = re_cost(&p, depth + 1, &atom)) != NULL)
				return (why);
			if (*p == ')')
				p++;
		} else if (*p == '[') {
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' ||
				    p[1] == '=')) {
					char	 close = p[1];

					for (p += 2; *p != '\0' &&
					    !(p[0] == close && p[1] == ']'); p++)
						;
					if (*p != '\0')
						p += 2;
				} else
					p++;
			}
			if (*p == ']')
				p++;
		} else if (*p == '\\') {
			if (p[1] >= '1' && p[1] <= '9')
				return ("back-references are not supported");
			p += p[1] != '\0' ? 2 : 1;
		} else
			p++;
		for (reps = 0;; reps++) {
			if (*p == '*' || *p == '+' || *p == '?') {
				/* one ? after a repetition: RE2's non-greedy */
				if (reps > 0 && (*p != '?' || reps > 1))
					return ("invalid nested repetition "
					    "operator");
				if (*p == '+')
					atom *= 2;
				p++;
			} else if (*p == '{' && re_interval(&p, &max)) {
				if (reps > 0)
					return ("invalid nested repetition "
					    "operator");
				if (max > RE_REPEAT_MAX)
					return ("invalid repeat count");
				atom *= max > 1 ? max : 1;
			} else
				break;
			if (atom > RE_EXPAND_MAX)
				return ("expression too large");
		}
		branch += atom;
		if (branch > RE_EXPAND_MAX)
			return ("expression too large");
	}
	*cost += branch;
	if (*cost > RE_EXPAND_MAX)
		return ("expression too large");
	*pp = p;
	return (NULL);
}

static const char *
re_check(const char *re)
{
	const char	*p = re, *why;
	unsigned long	 cost;

	/* a stray ')' ends a group early: what follows is checked too */
	for (;;) {
		if ((why = re_cost(&p, 0, &cost)) != NULL)
			return (why);
		if (*p == '\0')
			return (NULL);
		p++;
	}
}

static int
parse_matchers(struct parser *ps, struct rl_expr *e)
{
	enum rl_match_op	 op;
	char			*name, *value, *anch, ebuf[128];
	const char		*why;
	regex_t			*re;
	size_t			 npos, vpos;
	int			 rc;

	next(ps);	/* { */
	while (ps->t.kind != K_RBRACE) {
		if (label_name(ps, "a label name in matcher") == -1)
			return (-1);
		npos = ps->t.pos;
		name = xmalloc(ps->t.len + 1);
		memcpy(name, ps->s + ps->t.pos, ps->t.len);
		name[ps->t.len] = '\0';
		next(ps);
		switch (ps->t.kind) {
		case K_ASSIGN: op = RL_EQ; break;
		case K_NEQ: op = RL_NEQ; break;
		case K_RE: op = RL_RE; break;
		case K_NRE: op = RL_NRE; break;
		default:
			free(name);
			unexpected(ps, "a label matching operator "
			    "(=, !=, =~ or !~)");
			return (-1);
		}
		next(ps);
		if (ps->t.kind != K_STR) {
			free(name);
			unexpected(ps, "a quoted label value");
			return (-1);
		}
		vpos = ps->t.pos;
		if ((value = unquote(ps)) == NULL) {
			free(name);
			return (-1);
		}
		next(ps);
		if (strcmp(name, "__name__") == 0 && e->name != NULL) {
			free(name);
			free(value);
			perr(ps, npos, "metric name must not be set twice: "
			    "\"%s\"", e->name);
			return (-1);
		}
		if ((op == RL_RE || op == RL_NRE) &&
		    (why = re_check(value)) != NULL) {
			free(name);
			free(value);
			perr(ps, vpos, "invalid regular expression: %s", why);
			return (-1);
		}
		add_matcher(e, name, value, op);
		if (op == RL_RE || op == RL_NRE) {
			/* anchored like Prometheus: ^(?:re)$, in ERE */
			xasprintf(&anch, "^(%s)$", value);
			re = xmalloc(sizeof(*re));
			rc = regcomp(re, anch, REG_EXTENDED | REG_NOSUB);
			free(anch);
			if (rc != 0) {
				regerror(rc, re, ebuf, sizeof(ebuf));
				free(re);
				perr(ps, vpos, "invalid regular expression "
				    "(POSIX ERE): %s", ebuf);
				return (-1);
			}
			e->m[e->nm - 1].re = re;
		}
		if (ps->t.kind == K_COMMA)
			next(ps);
		else if (ps->t.kind != K_RBRACE) {
			unexpected(ps, "\",\" or \"}\" in label matchers");
			return (-1);
		}
	}
	next(ps);
	return (0);
}

static int
matches_empty(const struct rl_matcher *m)
{
	struct np_labels	empty = { NULL, 0 };

	return (rl_matcher_match(m, &empty));
}

static struct rl_expr *
parse_selector(struct parser *ps)
{
	struct rl_expr	*e;
	size_t		 i, pos = ps->t.pos;
	int		 nonempty = 0;

	e = node(N_VSEL, T_VECTOR, pos);
	if (ps->t.kind == K_IDENT) {
		e->name = xmalloc(ps->t.len + 1);
		memcpy(e->name, ps->s + ps->t.pos, ps->t.len);
		e->name[ps->t.len] = '\0';
		add_matcher(e, xstrdup("__name__"), xstrdup(e->name), RL_EQ);
		next(ps);
	}
	if (ps->t.kind == K_LBRACE && parse_matchers(ps, e) == -1)
		goto fail;
	for (i = 0; i < e->nm; i++)
		if (!matches_empty(&e->m[i]))
			nonempty = 1;
	if (!nonempty) {
		perr(ps, pos, "vector selector must contain at least one "
		    "non-empty matcher");
		goto fail;
	}
	return (e);
fail:
	rl_expr_free(e);
	return (NULL);
}

static const struct rl_func *
find_func(const struct parser *ps)
{
	size_t	i;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strlen(funcs[i].name) == ps->t.len &&
		    strncmp(funcs[i].name, ps->s + ps->t.pos, ps->t.len) == 0)
			return (&funcs[i]);
	return (NULL);
}

static int
check_type(struct parser *ps, const struct rl_expr *arg, enum rl_type want,
    const char *ctx)
{
	if (arg->type == want)
		return (0);
	perr(ps, arg->pos, "expected type %s in %s, got %s", typenames[want],
	    ctx, typenames[arg->type]);
	return (-1);
}

static struct rl_expr *
parse_call(struct parser *ps, const struct rl_func *fn)
{
	struct rl_expr	*e;
	char		 ctx[80];
	size_t		 pos = ps->t.pos;

	e = node(N_CALL, fn->ret, pos);
	e->fn = fn;
	next(ps);	/* name */
	next(ps);	/* ( */
	snprintf(ctx, sizeof(ctx), "call to function \"%s\"", fn->name);
	while (ps->t.kind != K_RPAREN) {
		if (e->nargs == fn->nargs) {
			perr(ps, ps->t.pos, "expected %zu argument(s) in %s, "
			    "got more", fn->nargs, ctx);
			goto fail;
		}
		if ((e->args[e->nargs] = parse_expr(ps, 0)) == NULL)
			goto fail;
		e->nargs++;
		if (check_type(ps, e->args[e->nargs - 1],
		    fn->argt[e->nargs - 1], ctx) == -1)
			goto fail;
		if (ps->t.kind == K_COMMA)
			next(ps);
		else if (ps->t.kind != K_RPAREN) {
			unexpected(ps, "\",\" or \")\" in argument list");
			goto fail;
		}
	}
	if (e->nargs != fn->nargs) {
		perr(ps, ps->t.pos, "expected %zu argument(s) in %s, got %zu",
		    fn->nargs, ctx, e->nargs);
		goto fail;
	}
	next(ps);
	if (grown(ps, e) == -1)
		goto fail;
	return (e);
fail:
	rl_expr_free(e);
	return (NULL);
}

static struct rl_expr *
parse_agg(struct parser *ps, enum rl_aggop op)
{
	struct rl_expr	*e;
	char		 ctx[64];

	e = node(N_AGG, T_VECTOR, ps->t.pos);
	e->agg = op;
	snprintf(ctx, sizeof(ctx), "aggregation \"%s\"", aggnames[op]);
	next(ps);
	if (tok_is(ps, "by") || tok_is(ps, "without")) {
		e->grouped = 1;
		e->without = tok_is(ps, "without");
		next(ps);
		if (parse_label_list(ps, &e->grp) == -1)
			goto fail;
	}
	if (expect(ps, K_LPAREN, "\"(\" after aggregation") == -1)
		goto fail;
	if (op == AGG_TOPK || op == AGG_BOTTOMK) {
		if ((e->param = parse_expr(ps, 0)) == NULL)
			goto fail;
		if (check_type(ps, e->param, T_SCALAR, ctx) == -1)
			goto fail;
		if (expect(ps, K_COMMA, "\",\" after the parameter") == -1)
			goto fail;
	}
	if ((e->lhs = parse_expr(ps, 0)) == NULL)
		goto fail;
	if (check_type(ps, e->lhs, T_VECTOR, ctx) == -1)
		goto fail;
	if (expect(ps, K_RPAREN, "\")\" closing the aggregation") == -1)
		goto fail;
	if (tok_is(ps, "by") || tok_is(ps, "without")) {
		if (e->grouped) {
			perr(ps, ps->t.pos, "aggregation must only contain "
			    "one grouping clause");
			goto fail;
		}
		e->grouped = 1;
		e->without = tok_is(ps, "without");
		next(ps);
		if (parse_label_list(ps, &e->grp) == -1)
			goto fail;
	}
	if (grown(ps, e) == -1)
		goto fail;
	return (e);
fail:
	rl_expr_free(e);
	return (NULL);
}

static struct rl_expr *
parse_primary(struct parser *ps)
{
	struct rl_expr		*e;
	const struct rl_func	*fn;
	size_t			 i, pos = ps->t.pos;
	char			 d[64];

	switch (ps->t.kind) {
	case K_NUM:
		e = node(N_NUM, T_SCALAR, pos);
		e->num = ps->t.num;
		next(ps);
		return (e);
	case K_STR:
		e = node(N_STR, T_STRING, pos);
		if ((e->str = unquote(ps)) == NULL) {
			rl_expr_free(e);
			return (NULL);
		}
		next(ps);
		return (e);
	case K_LPAREN:
		next(ps);
		e = node(N_PAREN, T_SCALAR, pos);
		if ((e->lhs = parse_expr(ps, 0)) == NULL) {
			rl_expr_free(e);
			return (NULL);
		}
		e->type = e->lhs->type;
		if (grown(ps, e) == -1 ||
		    expect(ps, K_RPAREN, "\")\"") == -1) {
			rl_expr_free(e);
			return (NULL);
		}
		return (e);
	case K_LBRACE:
		return (parse_selector(ps));
	case K_IDENT:
		for (i = 0; i < sizeof(aggnames) / sizeof(aggnames[0]); i++)
			if (tok_is(ps, aggnames[i]))
				return (parse_agg(ps, (enum rl_aggop)i));
		if (is_keyword(ps)) {
			tokdesc(ps, d, sizeof(d));
			perr(ps, pos, "unexpected keyword %s", d);
			return (NULL);
		}
		if (ps->s[ps->p] == '(' || (ps->s[ps->p] != '\0' &&
		    isspace((unsigned char)ps->s[ps->p]))) {
			/* look past blanks for "(": a function call */
			for (i = ps->p; isspace((unsigned char)ps->s[i]); i++)
				;
			if (ps->s[i] == '(') {
				if ((fn = find_func(ps)) == NULL) {
					perr(ps, pos, "unknown function with "
					    "name \"%.*s\"", (int)ps->t.len,
					    ps->s + pos);
					return (NULL);
				}
				ps->p = i;
				return (parse_call(ps, fn));
			}
		}
		return (parse_selector(ps));
	default:
		unexpected(ps, "an expression");
		return (NULL);
	}
}

/* Primary with its [range] and offset suffixes. */
static struct rl_expr *
parse_postfix(struct parser *ps)
{
	struct rl_expr	*e;
	int64_t		 d;
	size_t		 dpos;

	if ((e = parse_primary(ps)) == NULL)
		return (NULL);
	if (ps->t.kind == K_LBRACK) {
		if (e->kind != N_VSEL) {
			perr(ps, ps->t.pos, "ranges only allowed for vector "
			    "selectors");
			goto fail;
		}
		for (dpos = ps->p; isspace((unsigned char)ps->s[dpos]);
		    dpos++)
			;
		if (parse_duration(ps, &d, 0) == -1)
			goto fail;
		if (ps->t.kind == K_COLON) {
			perr(ps, ps->t.pos, "subqueries are not supported");
			goto fail;
		}
		if (d == 0) {
			perr(ps, dpos, "range must be greater than zero");
			goto fail;
		}
		if (expect(ps, K_RBRACK, "\"]\" closing the range") == -1)
			goto fail;
		e->kind = N_MSEL;
		e->type = T_MATRIX;
		e->range_ms = d;
	}
	if (tok_is(ps, "offset")) {
		if (e->kind != N_VSEL && e->kind != N_MSEL) {
			perr(ps, ps->t.pos, "offset modifier must be preceded "
			    "by an instant vector selector or range vector "
			    "selector");
			goto fail;
		}
		if (parse_duration(ps, &d, 1) == -1)
			goto fail;
		e->offset_ms = d;
		if (ps->t.kind == K_LBRACK) {
			perr(ps, ps->t.pos, "range must come before offset");
			goto fail;
		}
	}
	return (e);
fail:
	rl_expr_free(e);
	return (NULL);
}

static struct rl_expr *
parse_unary(struct parser *ps)
{
	struct rl_expr	*e, *arg;
	size_t		 pos = ps->t.pos;
	int		 neg;

	if (ps->t.kind != K_ADD && ps->t.kind != K_SUB)
		return (parse_postfix(ps));
	neg = ps->t.kind == K_SUB;
	next(ps);
	/* unary binds like "*": -a^b is -(a^b), -a*b is (-a)*b */
	if ((arg = parse_expr(ps, PREC_POW)) == NULL)
		return (NULL);
	if (arg->type != T_SCALAR && arg->type != T_VECTOR) {
		perr(ps, arg->pos, "unary expression only allowed on "
		    "expressions of type scalar or instant vector, got %s",
		    typenames[arg->type]);
		rl_expr_free(arg);
		return (NULL);
	}
	if (arg->kind == N_NUM) {
		/* fold like Prometheus: "-1" is a literal */
		if (neg)
			arg->num = -arg->num;
		arg->pos = pos;
		return (arg);
	}
	e = node(N_UNARY, arg->type, pos);
	e->op = neg ? OP_SUB : OP_ADD;
	e->lhs = arg;
	if (grown(ps, e) == -1) {
		rl_expr_free(e);
		return (NULL);
	}
	return (e);
}

static int
binop_of(struct parser *ps, enum rl_binop *op)
{
	switch (ps->t.kind) {
	case K_ADD: *op = OP_ADD; return (1);
	case K_SUB: *op = OP_SUB; return (1);
	case K_MUL: *op = OP_MUL; return (1);
	case K_DIV: *op = OP_DIV; return (1);
	case K_MOD: *op = OP_MOD; return (1);
	case K_POW: *op = OP_POW; return (1);
	case K_EQL: *op = OP_EQ; return (1);
	case K_NEQ: *op = OP_NE; return (1);
	case K_LTE: *op = OP_LE; return (1);
	case K_LT: *op = OP_LT; return (1);
	case K_GTE: *op = OP_GE; return (1);
	case K_GT: *op = OP_GT; return (1);
	case K_IDENT:
		if (tok_is(ps, "and"))
			*op = OP_AND;
		else if (tok_is(ps, "or"))
			*op = OP_OR;
		else if (tok_is(ps, "unless"))
			*op = OP_UNLESS;
		else if (tok_is(ps, "atan2"))
			*op = OP_ATAN2;
		else
			return (0);
		return (1);
	default:
		return (0);
	}
}

/* bool, on/ignoring (...), group_left/group_right [(...)] */
static int
parse_modifiers(struct parser *ps, struct rl_expr *e)
{
	if (tok_is(ps, "bool")) {
		if (!rl_binop_is_cmp(e->op)) {
			perr(ps, ps->t.pos, "bool modifier can only be used "
			    "on comparison operators");
			return (-1);
		}
		e->ret_bool = 1;
		next(ps);
	}
	if (tok_is(ps, "on") || tok_is(ps, "ignoring")) {
		e->matching = tok_is(ps, "on") ? MATCH_ON : MATCH_IGNORING;
		next(ps);
		if (parse_label_list(ps, &e->mlabels) == -1)
			return (-1);
		if (tok_is(ps, "group_left") || tok_is(ps, "group_right")) {
			if (rl_binop_is_set(e->op)) {
				perr(ps, ps->t.pos, "no grouping allowed for "
				    "\"%s\" operation", opnames[e->op]);
				return (-1);
			}
			e->card = tok_is(ps, "group_left") ?
			    CARD_MANY_TO_ONE : CARD_ONE_TO_MANY;
			next(ps);
			if (ps->t.kind == K_LPAREN &&
			    parse_label_list(ps, &e->include) == -1)
				return (-1);
		}
	}
	return (0);
}

static int
check_binary(struct parser *ps, struct rl_expr *e, size_t oppos)
{
	const struct rl_expr	*l = e->lhs, *r = e->rhs;
	size_t			 i;

	if ((l->type != T_SCALAR && l->type != T_VECTOR) ||
	    (r->type != T_SCALAR && r->type != T_VECTOR)) {
		perr(ps, l->type != T_SCALAR && l->type != T_VECTOR ? l->pos :
		    r->pos, "binary expression must contain only scalar and "
		    "instant vector types");
		return (-1);
	}
	if (l->type == T_SCALAR && r->type == T_SCALAR &&
	    rl_binop_is_cmp(e->op) && !e->ret_bool) {
		perr(ps, oppos, "comparisons between scalars must use BOOL "
		    "modifier");
		return (-1);
	}
	if (rl_binop_is_set(e->op) && (l->type == T_SCALAR ||
	    r->type == T_SCALAR)) {
		perr(ps, oppos, "set operator \"%s\" not allowed in binary "
		    "scalar expression", opnames[e->op]);
		return (-1);
	}
	if ((l->type == T_SCALAR || r->type == T_SCALAR) &&
	    e->matching != MATCH_NONE) {
		perr(ps, oppos, "vector matching only allowed between "
		    "instant vectors");
		return (-1);
	}
	if (e->matching == MATCH_ON)
		for (i = 0; i < e->include.n; i++)
			if (rl_strlist_has(&e->mlabels, e->include.v[i])) {
				perr(ps, oppos, "label \"%s\" must not occur "
				    "in ON and GROUP clause at once",
				    e->include.v[i]);
				return (-1);
			}
	e->type = l->type == T_SCALAR && r->type == T_SCALAR ? T_SCALAR :
	    T_VECTOR;
	return (0);
}

/* Precedence climbing over binary operators of precedence >= minprec. */
static struct rl_expr *
parse_expr(struct parser *ps, int minprec)
{
	struct rl_expr	*lhs, *e;
	enum rl_binop	 op;
	size_t		 oppos;
	int		 prec;

	if (++ps->depth > MAX_DEPTH) {
		perr(ps, ps->t.pos, "expression nested too deeply");
		ps->depth--;
		return (NULL);
	}
	if ((lhs = parse_unary(ps)) == NULL) {
		ps->depth--;
		return (NULL);
	}
	while (binop_of(ps, &op) && (prec = opprec[op]) >= minprec) {
		oppos = ps->t.pos;
		e = node(N_BIN, T_VECTOR, lhs->pos);
		e->op = op;
		e->lhs = lhs;
		lhs = e;
		next(ps);
		if (parse_modifiers(ps, e) == -1)
			goto fail;
		/* ^ is right-associative, all others left */
		if ((e->rhs = parse_expr(ps, op == OP_POW ? prec : prec + 1))
		    == NULL)
			goto fail;
		if (check_binary(ps, e, oppos) == -1 || grown(ps, e) == -1)
			goto fail;
	}
	ps->depth--;
	return (lhs);
fail:
	ps->depth--;
	rl_expr_free(lhs);
	return (NULL);
}

struct rl_expr *
rl_expr_parse(const char *text, size_t *err_offset, char *err, size_t errlen)
{
	struct parser	 ps;
	struct rl_expr	*e;
	char		 dummy[1];

	memset(&ps, 0, sizeof(ps));
	ps.s = text;
	ps.slen = strlen(text);
	ps.err = errlen > 0 ? err : dummy;
	ps.errlen = errlen > 0 ? errlen : sizeof(dummy);
	next(&ps);
	if (ps.t.kind == K_EOF)
		perr(&ps, 0, "no expression found in input");
	e = ps.failed ? NULL : parse_expr(&ps, 0);
	if (e != NULL && ps.t.kind != K_EOF)
		unexpected(&ps, "an operator or end of input");
	if (e != NULL && !ps.failed && e->type != T_SCALAR &&
	    e->type != T_VECTOR)
		perr(&ps, 0, "expression must be of type instant vector or "
		    "scalar, got %s", typenames[e->type]);
	if (ps.failed) {
		rl_expr_free(e);
		if (err_offset != NULL)
			*err_offset = ps.err_off;
		return (NULL);
	}
	return (e);
}

/* ---- printing ---- */

struct sbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			fatalx("%s: vsnprintf", __func__);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = (b->cap + (size_t)n) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	b->len += (size_t)n;
}

/* Go's %v for a float64: shortest round-trip digits (but see Inf). */
static void
sb_num(struct sbuf *b, double v)
{
	char	buf[64], *e;
	int	prec, ex;

	if (isnan(v)) {
		sb_printf(b, "NaN");
		return;
	}
	if (isinf(v)) {
		/*
		 * Not Go's "+Inf": "+Inf ^ 2" would read back as +(Inf ^ 2),
		 * a different tree; "Inf" always reads back as the literal.
		 */
		sb_printf(b, "%sInf", v > 0 ? "" : "-");
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	e = strchr(buf, 'e');
	ex = atoi(e + 1);
	if (ex < -4 || ex >= 21) {
		*e = '\0';
		sb_printf(b, "%se%c%02d", buf, ex < 0 ? '-' : '+', abs(ex));
	} else
		sb_printf(b, "%.*f", prec - ex > 0 ? prec - ex : 0, v);
}

static void
sb_quote(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"': sb_printf(b, "\\\""); break;
		case '\\': sb_printf(b, "\\\\"); break;
		case '\n': sb_printf(b, "\\n"); break;
		case '\t': sb_printf(b, "\\t"); break;
		case '\r': sb_printf(b, "\\r"); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				sb_printf(b, "\\x%02x", (unsigned char)*s);
			else
				sb_printf(b, "%c", *s);
		}
	}
	sb_printf(b, "\"");
}

/* Prometheus model.Duration.String(): 1h30m, 5m, 500ms, 0s. */
static void
sb_dur(struct sbuf *b, int64_t ms)
{
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "y", 365LL * 86400000 }, { "w", 7LL * 86400000 },
		{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
		{ "s", 1000 }, { "ms", 1 } };
	size_t	i;

	if (ms == 0) {
		sb_printf(b, "0s");
		return;
	}
	if (ms < 0) {
		sb_printf(b, "-");
		ms = -ms;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms >= units[i].ms) {
			sb_printf(b, "%lld%s", (long long)(ms / units[i].ms),
			    units[i].u);
			ms %= units[i].ms;
		}
}

static void
sb_list(struct sbuf *b, const struct rl_strlist *l)
{
	size_t	i;

	sb_printf(b, "(");
	for (i = 0; i < l->n; i++)
		sb_printf(b, "%s%s", i ? ", " : "", l->v[i]);
	sb_printf(b, ")");
}

static void
print(struct sbuf *b, const struct rl_expr *e, int full)
{
	static const char *const mops[] = { "=", "!=", "=~", "!~" };
	size_t			 i, k;

	switch (e->kind) {
	case N_NUM:
		sb_num(b, e->num);
		break;
	case N_STR:
		sb_quote(b, e->str);
		break;
	case N_VSEL:
	case N_MSEL:
		if (e->name != NULL)
			sb_printf(b, "%s", e->name);
		for (i = 0, k = 0; i < e->nm; i++) {
			if (e->name != NULL && strcmp(e->m[i].name,
			    "__name__") == 0 && e->m[i].op == RL_EQ &&
			    strcmp(e->m[i].value, e->name) == 0)
				continue;	/* the name itself */
			sb_printf(b, "%s%s%s", k++ ? ", " : "{", e->m[i].name,
			    mops[e->m[i].op]);
			sb_quote(b, e->m[i].value);
		}
		if (k > 0)
			sb_printf(b, "}");
		if (e->kind == N_MSEL) {
			sb_printf(b, "[");
			sb_dur(b, e->range_ms);
			sb_printf(b, "]");
		}
		if (e->offset_ms != 0) {
			sb_printf(b, " offset ");
			sb_dur(b, e->offset_ms);
		}
		break;
	case N_CALL:
		sb_printf(b, "%s(", e->fn->name);
		for (i = 0; i < e->nargs; i++) {
			if (i > 0)
				sb_printf(b, ", ");
			print(b, e->args[i], full);
		}
		sb_printf(b, ")");
		break;
	case N_AGG:
		sb_printf(b, "%s", aggnames[e->agg]);
		if (e->grouped) {
			sb_printf(b, " %s ", e->without ? "without" : "by");
			sb_list(b, &e->grp);
			sb_printf(b, " ");
		}
		sb_printf(b, "(");
		if (e->param != NULL) {
			print(b, e->param, full);
			sb_printf(b, ", ");
		}
		print(b, e->lhs, full);
		sb_printf(b, ")");
		break;
	case N_BIN:
		if (full)
			sb_printf(b, "(");
		print(b, e->lhs, full);
		sb_printf(b, " %s ", opnames[e->op]);
		if (e->ret_bool)
			sb_printf(b, "bool ");
		if (e->matching != MATCH_NONE) {
			sb_printf(b, "%s", e->matching == MATCH_ON ? "on" :
			    "ignoring");
			sb_list(b, &e->mlabels);
			sb_printf(b, " ");
			if (e->card != CARD_ONE_TO_ONE) {
				sb_printf(b, "%s", e->card ==
				    CARD_MANY_TO_ONE ? "group_left" :
				    "group_right");
				sb_list(b, &e->include);
				sb_printf(b, " ");
			}
		}
		print(b, e->rhs, full);
		if (full)
			sb_printf(b, ")");
		break;
	case N_UNARY:
		sb_printf(b, "%s", e->op == OP_SUB ? "-" : "+");
		if (full)
			sb_printf(b, "(");
		print(b, e->lhs, full);
		if (full)
			sb_printf(b, ")");
		break;
	case N_PAREN:
		/* the dump brackets every operation already */
		if (!full)
			sb_printf(b, "(");
		print(b, e->lhs, full);
		if (!full)
			sb_printf(b, ")");
		break;
	}
}

char *
rl_expr_string(const struct rl_expr *e)
{
	struct sbuf	b = { xmalloc(64), 0, 64 };

	b.s[0] = '\0';
	print(&b, e, 0);
	return (b.s);
}

char *
rl_expr_dump(const struct rl_expr *e)
{
	struct sbuf	b = { xmalloc(64), 0, 64 };

	b.s[0] = '\0';
	print(&b, e, 1);
	return (b.s);
}

int64_t
rl_expr_lookback_ms(const struct rl_expr *e)
{
	int64_t	m = 0, x;
	size_t	i;

	if (e == NULL)
		return (0);
	switch (e->kind) {
	case N_VSEL:
		/* the instant lookback window, 5m (engine.go default) */
		m = 5 * 60000 + (e->offset_ms > 0 ? e->offset_ms : 0);
		break;
	case N_MSEL:
		m = e->range_ms + (e->offset_ms > 0 ? e->offset_ms : 0);
		break;
	default:
		break;
	}
	for (i = 0; i < e->nargs; i++)
		if ((x = rl_expr_lookback_ms(e->args[i])) > m)
			m = x;
	if ((x = rl_expr_lookback_ms(e->param)) > m)
		m = x;
	if ((x = rl_expr_lookback_ms(e->lhs)) > m)
		m = x;
	if ((x = rl_expr_lookback_ms(e->rhs)) > m)
		m = x;
	return (m);
}

int
rl_expr_metric_names(const struct rl_expr *e, rl_selector_fn fn, void *arg)
{
	int	rc = 0;
	size_t	i;

	if (e == NULL)
		return (0);
	if (e->kind == N_VSEL || e->kind == N_MSEL) {
		for (i = 0; i < e->nm; i++)
			if (e->m[i].op == RL_EQ &&
			    strcmp(e->m[i].name, "__name__") == 0)
				break;
		if (i < e->nm)
			fn(arg, e->m[i].value, e->kind == N_MSEL ?
			    e->range_ms : 0, e->offset_ms, e->m, e->nm);
		else
			rc = -1;
	}
	for (i = 0; i < e->nargs; i++)
		rc |= rl_expr_metric_names(e->args[i], fn, arg);
	rc |= rl_expr_metric_names(e->param, fn, arg);
	rc |= rl_expr_metric_names(e->lhs, fn, arg);
	rc |= rl_expr_metric_names(e->rhs, fn, arg);
	return (rc);
}

int
rl_matcher_match(const struct rl_matcher *m, const struct np_labels *l)
{
	const char	*v = "";
	size_t		 i;

	/* an absent label matches as the empty string, as in Prometheus */
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, m->name) == 0) {
			v = l->v[i].value;
			break;
		}
	return (rl_matcher_match_value(m, v));
}

int
rl_matcher_match_value(const struct rl_matcher *m, const char *v)
{
	int	r;

	switch (m->op) {
	case RL_EQ:
		return (strcmp(v, m->value) == 0);
	case RL_NEQ:
		return (strcmp(v, m->value) != 0);
	case RL_RE:
	case RL_NRE:
		if (m->re == NULL)
			return (0);
		r = regexec((const regex_t *)m->re, v, 0, NULL, 0) == 0;
		return (m->op == RL_RE ? r : !r);
	}
	return (0);
}
