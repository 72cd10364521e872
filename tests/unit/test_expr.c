/*
 * Rule expressions: parser precedence and canonical text, every error
 * class with its offset, each function, aggregation and operator over a
 * fake series source with hand-computed values, and a fuzz loop.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/expr.h"

/* -DFUZZ_ROUNDS=... -DFUZZ_SEED=... for a longer campaign */
#ifndef FUZZ_ROUNDS
#define FUZZ_ROUNDS	4000
#endif
#ifndef FUZZ_SEED
#define FUZZ_SEED	20261128
#endif

#define S	1000LL
#define T	(10000 * S)		/* evaluation time */
#define NAN_	(0.0 / 0.0)

struct fseries {
	const char	*lab[12];	/* name, value pairs */
	struct rl_point	 pts[8];
	size_t		 n;
};

/* points every 60s ending at T */
#define P5(a, b, c, d, e) { { T - 240 * S, a }, { T - 180 * S, b }, \
	{ T - 120 * S, c }, { T - 60 * S, d }, { T, e } }, 5

static const struct fseries data[] = {
	{ { "__name__", "http_requests_total", "instance", "a", "job", "api" },
	    P5(0, 60, 120, 180, 240) },
	{ { "__name__", "http_requests_total", "instance", "b", "job", "api" },
	    P5(100, 160, 220, 280, 340) },
	{ { "__name__", "http_requests_total", "instance", "c", "job", "web" },
	    P5(10, 20, 5, 15, 25) },
	{ { "__name__", "temp", "room", "x" }, P5(10, 12, 11, 15, 14) },
	{ { "__name__", "nanny", "k", "1" }, { { T - 180 * S, 1 },
	    { T - 120 * S, NAN_ }, { T - 60 * S, NAN_ }, { T, 2 } }, 4 },
	{ { "__name__", "old", "job", "x" }, { { T - 600 * S, 6 },
	    { T - 301 * S, 7 } }, 2 },
	{ { "__name__", "req_duration_bucket", "job", "api", "le", "0.1" },
	    { { T, 10 } }, 1 },
	{ { "__name__", "req_duration_bucket", "job", "api", "le", "0.5" },
	    { { T, 50 } }, 1 },
	{ { "__name__", "req_duration_bucket", "job", "api", "le", "1" },
	    { { T, 90 } }, 1 },
	{ { "__name__", "req_duration_bucket", "job", "api", "le", "+Inf" },
	    { { T, 100 } }, 1 },
	{ { "__name__", "req_duration_bucket", "job", "bad", "le", "1" },
	    { { T, 5 } }, 1 },
	{ { "__name__", "req_duration_bucket", "job", "bad", "le", "2" },
	    { { T, 4 } }, 1 },
	{ { "__name__", "req_duration_bucket", "job", "bad", "le", "+Inf" },
	    { { T, 10 } }, 1 },
	{ { "__name__", "req_duration_bucket", "job", "noinf", "le", "1" },
	    { { T, 5 } }, 1 },
	{ { "__name__", "up", "instance", "a", "job", "api" },
	    { { T - 10 * S, 1 } }, 1 },
	{ { "__name__", "up", "instance", "b", "job", "api" },
	    { { T - 10 * S, 0 } }, 1 },
	{ { "__name__", "up", "instance", "c", "job", "web" },
	    { { T - 10 * S, 1 } }, 1 },
	{ { "__name__", "machine_info", "instance", "a", "os", "linux" },
	    { { T - 10 * S, 1 } }, 1 },
	{ { "__name__", "machine_info", "instance", "b", "os", "bsd" },
	    { { T - 10 * S, 1 } }, 1 },
	{ { "__name__", "dup", "instance", "a", "x", "1" },
	    { { T - 10 * S, 1 } }, 1 },
	{ { "__name__", "dup", "instance", "a", "x", "2" },
	    { { T - 10 * S, 2 } }, 1 },
	{ { "__name__", "ctr_reset", "k", "1" }, { { T - 60 * S, 50 },
	    { T, 20 } }, 2 },
	{ { "__name__", "gap", "k", "1" }, { { T - 240 * S, 0 },
	    { T - 180 * S, 10 }, { T - 120 * S, 20 } }, 3 },
};

static int	select_calls;

/* The fake source: labels unsorted on purpose, points filtered. */
static void
fake_select(void *arg, const struct rl_matcher *m, size_t nm, int64_t from,
    int64_t to, rl_series_fn fn, void *cbarg)
{
	struct np_label		 lv[6];
	struct np_labels	 l;
	struct rl_point		 pts[8];
	size_t			 i, j, n;

	select_calls++;
	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		for (l.n = 0; data[i].lab[2 * l.n] != NULL; l.n++) {
			/* reversed order: the evaluator must sort */
			lv[5 - l.n].name = (char *)data[i].lab[2 * l.n];
			lv[5 - l.n].value = (char *)data[i].lab[2 * l.n + 1];
		}
		l.v = &lv[6 - l.n];
		for (j = 0; j < nm; j++)
			if (!rl_matcher_match(&m[j], &l))
				break;
		if (j < nm)
			continue;
		for (n = 0, j = 0; j < data[i].n; j++)
			if (data[i].pts[j].t_ms >= from &&
			    data[i].pts[j].t_ms <= to)
				pts[n++] = data[i].pts[j];
		fn(cbarg, &l, pts, n);
	}
}

static const struct rl_source src = { NULL, fake_select };

static void
fmtnum(char *b, size_t len, double v)
{
	if (isnan(v))
		snprintf(b, len, "NaN");
	else if (isinf(v))
		snprintf(b, len, "%sInf", v > 0 ? "+" : "-");
	else
		snprintf(b, len, "%.10g", v);
}

/* Evaluate text at t: "scalar V", "{a=\"b\"} V; ...", or "error: MSG". */
static char *
run_at(const char *text, int64_t t)
{
	static char		 out[4096];
	struct rl_expr		*e;
	struct rl_value		 v;
	char			 err[256], num[64];
	size_t			 off, i, j, o = 0;

	e = rl_expr_parse(text, &off, err, sizeof(err));
	if (e == NULL) {
		snprintf(out, sizeof(out), "parse error at %zu: %s", off, err);
		return (out);
	}
	if (rl_expr_eval(e, &src, t, &v, err, sizeof(err)) == -1) {
		snprintf(out, sizeof(out), "error: %s", err);
		rl_expr_free(e);
		return (out);
	}
	rl_expr_free(e);
	out[0] = '\0';
	if (v.type == RL_SCALAR) {
		fmtnum(num, sizeof(num), v.scalar);
		snprintf(out, sizeof(out), "scalar %s", num);
		return (out);
	}
	for (i = 0; i < v.n; i++) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s{",
		    i ? "; " : "");
		for (j = 0; j < v.samples[i].labels.n; j++) {
			/* the contract: sorted by name */
			if (j > 0)
				assert_true(strcmp(v.samples[i].labels.v[j -
				    1].name, v.samples[i].labels.v[j].name) < 0);
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "%s%s=\"%s\"", j ? "," : "",
			    v.samples[i].labels.v[j].name,
			    v.samples[i].labels.v[j].value);
		}
		fmtnum(num, sizeof(num), v.samples[i].v);
		o += (size_t)snprintf(out + o, sizeof(out) - o, "} %s", num);
		assert_true(o < sizeof(out));
	}
	rl_value_free(&v);
	return (out);
}

static char *
run(const char *text)
{
	return (run_at(text, T));
}

struct pair {
	const char	*in;
	const char	*out;
};

static void
check_pairs(const struct pair *p, size_t n)
{
	size_t	i, bad = 0;

	/* every row is checked and each mismatch shown, then fail once */
	for (i = 0; i < n; i++) {
		char	*got = run(p[i].in);

		if (strcmp(got, p[i].out) != 0) {
			print_error("%s\n  got:  %s\n  want: %s\n", p[i].in,
			    got, p[i].out);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

#define CHECK(...) do {							\
	static const struct pair	p_[] = { __VA_ARGS__ };		\
	check_pairs(p_, sizeof(p_) / sizeof(p_[0]));			\
} while (0)

static char *
parsed(const char *text, int dump)
{
	static char	 out[1024];
	struct rl_expr	*e;
	char		 err[256], *s;
	size_t		 off;

	if ((e = rl_expr_parse(text, &off, err, sizeof(err))) == NULL) {
		snprintf(out, sizeof(out), "error at %zu: %s", off, err);
		return (out);
	}
	s = dump ? rl_expr_dump(e) : rl_expr_string(e);
	snprintf(out, sizeof(out), "%s", s);
	free(s);
	rl_expr_free(e);
	return (out);
}

static void
test_precedence(void **state)
{
	static const struct pair	p[] = {
		{ "1 + 2 * 3", "(1 + (2 * 3))" },
		{ "1 * 2 + 3", "((1 * 2) + 3)" },
		{ "1 - 2 - 3", "((1 - 2) - 3)" },
		{ "a / b % c", "((a / b) % c)" },
		{ "2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))" },
		{ "-2 ^ 2", "-((2 ^ 2))" },
		{ "1 + -2 ^ 2", "(1 + -((2 ^ 2)))" },
		{ "2 * -3", "(2 * -3)" },
		{ "-foo * bar", "(-(foo) * bar)" },
		{ "-foo + bar", "(-(foo) + bar)" },
		{ "a atan2 b * c", "((a atan2 b) * c)" },
		{ "a + b atan2 c", "(a + (b atan2 c))" },
		{ "a == b + c", "(a == (b + c))" },
		{ "a > bool 1 or b", "((a > bool 1) or b)" },
		{ "a or b and c", "(a or (b and c))" },
		{ "a and b unless c", "((a and b) unless c)" },
		{ "a unless b or c", "((a unless b) or c)" },
		{ "a < b > c", "((a < b) > c)" },
		{ "a + on(x) group_left(y) b * c",
		    "(a + on(x) group_left(y) (b * c))" },
		{ "(1 + 2) * 3", "((1 + 2) * 3)" },
		{ "sum(a + b) * 2", "(sum((a + b)) * 2)" },
		{ "2 ^ -1 ^ 2", "(2 ^ -((1 ^ 2)))" },
	};
	size_t	i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		assert_string_equal(parsed(p[i].in, 1), p[i].out);
}

static void
test_canonical(void **state)
{
	static const struct pair	p[] = {
		{ "sum(rate(foo{a=\"b\"}[5m])) by (job)",
		    "sum by (job) (rate(foo{a=\"b\"}[5m]))" },
		{ "SUM without(a,b,)(foo)", "sum without (a, b) (foo)" },
		{ "topk by(a)(3, foo)", "topk by (a) (3, foo)" },
		{ "foo offset 90s", "foo offset 1m30s" },
		{ "foo offset -5m", "foo offset -5m" },
		{ "rate(foo[90m] offset 1d)", "rate(foo[1h30m] offset 1d)" },
		{ "rate(foo[1y2w3d4h5m6s7ms])",
		    "rate(foo[1y2w3d4h5m6s7ms])" },
		{ "rate(foo[500ms])", "rate(foo[500ms])" },
		{ "{__name__=\"x\", a!=\"b\", c=~'d.*', e!~`f\\.`}",
		    "{__name__=\"x\", a!=\"b\", c=~\"d.*\", e!~\"f\\\\.\"}" },
		{ "foo{a=\"\\u00e9\\x41\\101\\n\\t\\\"\"}",
		    "foo{a=\"\xc3\xa9" "AA\\n\\t\\\"\"}" },
		{ "foo{a='it\\'s'}", "foo{a=\"it's\"}" },
		{ "1e3", "1000" },
		{ "0x1F", "31" },
		{ "010", "8" },
		{ "09", "9" },
		{ "0.10", "0.1" },
		{ "foo offset 0", "foo" },
		{ "Inf", "Inf" },
		{ "+Inf", "Inf" },
		{ "Inf ^ 2", "Inf ^ 2" },
		{ "+Inf ^ 2", "+Inf ^ 2" },
		{ "-Inf ^ 2", "-Inf ^ 2" },
		{ "-inf", "-Inf" },
		{ "nan", "NaN" },
		{ ".5", "0.5" },
		{ "1e-7", "1e-07" },
		{ "1.5e21", "1.5e+21" },
		{ "-1", "-1" },
		{ "+foo", "+foo" },
		{ "x > bool on (a) y", "x > bool on(a) y" },
		{ "x * ignoring(a) group_right y",
		    "x * ignoring(a) group_right() y" },
		{ "(1 + 2)", "(1 + 2)" },
		{ "a # comment\n + b", "a + b" },
		{ "a:b:c{d=\"e\"}", "a:b:c{d=\"e\"}" },
		{ "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
		    "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))" },
		{ "time ()", "time()" },
		{ "sum by () (foo)", "sum by () (foo)" },
		{ "foo{by=\"x\", on=\"y\"}", "foo{by=\"x\", on=\"y\"}" },
		{ "sum by (inf, nan) (foo{Inf=\"1\"}) + on(NaN) bar",
		    "sum by (inf, nan) (foo{Inf=\"1\"}) + on(NaN) bar" },
	};
	char	again[1024];
	size_t	i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		assert_string_equal(parsed(p[i].in, 0), p[i].out);
		/* the canonical text parses back to itself */
		snprintf(again, sizeof(again), "%s", p[i].out);
		assert_string_equal(parsed(again, 0), p[i].out);
	}
}

struct perr {
	const char	*in;
	size_t		 off;
	const char	*msg;
};

static void
test_errors(void **state)
{
	static const struct perr	p[] = {
		{ "", 0, "no expression found in input" },
		{ "   # only a comment", 0, "no expression found in input" },
		{ "foo[]", 4, "unexpected \"]\", expected a duration" },
		{ "foo[5x]", 4, "bad duration \"5x\"" },
		{ "foo[5m5m]", 4, "bad duration \"5m5m\"" },
		{ "foo[1m1h]", 4, "bad duration \"1m1h\"" },
		{ "foo[0s]", 4, "range must be greater than zero" },
		{ "foo[0]", 4, "range must be greater than zero" },
		{ "foo[00]", 4, "bad duration \"00\"" },
		{ "foo[1.5m]", 4, "bad duration \"1.5m\"" },
		{ "foo[m]", 4, "bad duration \"m\"" },
		{ "foo[99999999999999999999y]", 4, "bad duration "
		    "\"99999999999999999999y\"" },
		{ "foo[5m", 6, "unexpected end of input, expected \"]\" "
		    "closing the range" },
		{ "foo[5m:1m]", 6, "subqueries are not supported" },
		{ "(foo)[5m]", 5, "ranges only allowed for vector selectors" },
		{ "sum(foo) offset 5m", 9, "offset modifier must be preceded "
		    "by an instant vector selector or range vector selector" },
		{ "foo offset", 10, "unexpected end of input, expected a "
		    "duration" },
		{ "foo offset 5m[1m]", 13, "range must come before offset" },
		{ "foo{a=\"b\"", 9, "unexpected end of input, expected \",\" "
		    "or \"}\" in label matchers" },
		{ "foo{a=\"b", 6, "unterminated quoted string" },
		{ "foo{a=\"b\nc\"}", 6, "unterminated quoted string" },
		{ "foo{a b}", 6, "unexpected \"b\", expected a label matching "
		    "operator (=, !=, =~ or !~)" },
		{ "foo{a=b}", 6, "unexpected \"b\", expected a quoted label "
		    "value" },
		{ "foo{a:b=\"c\"}", 4, "unexpected \"a:b\", expected a label "
		    "name in matcher" },
		{ "foo{a=\"\\q\"}", 7, "invalid escape sequence in string" },
		{ "foo{a=\"\\'\"}", 7, "invalid escape sequence in string" },
		{ "foo{a=\"\\x4\"}", 7, "invalid escape sequence in string" },
		{ "foo{a=\"\\ud800\"}", 7, "invalid escape sequence in string" },
		{ "foo{a=\"\\400\"}", 7, "invalid escape sequence in string" },
		{ "foo{a=\"\\x00\"}", 6, "NUL byte not allowed in string" },
		/* the regerror() text after the colon is libc's */
		{ "foo{a=~\"(\"}", 7, "invalid regular expression (POSIX "
		    "ERE): *" },
		/* a raw backslash before ")" breaks the anchored ERE */
		{ "x{e!~`f\\`}", 5, "invalid regular expression (POSIX "
		    "ERE): *" },
		{ "x{e=~\"(?i)a\"}", 5, "invalid regular expression (POSIX "
		    "ERE): *" },
		/* what would make regcomp() take gigabytes or regexec()
		 * backtrack, refused first as RE2 does (found by fuzz_expr:
		 * tests/fuzz/regress/expr/oom-nested-repetition) */
		{ "{__name__=~\"temperat+++++++++++++++++++++u\"}", 11,
		    "invalid regular expression: invalid nested repetition "
		    "operator" },
		{ "x{e=~\"a*+\"}", 5, "invalid regular expression: invalid "
		    "nested repetition operator" },
		{ "x{e=~\"a{2}{3}\"}", 5, "invalid regular expression: "
		    "invalid nested repetition operator" },
		{ "x{e=~\"(a{1001})\"}", 5, "invalid regular expression: "
		    "invalid repeat count" },
		{ "x{e=~\"((a{101}){100})\"}", 5, "invalid regular "
		    "expression: expression too large" },
		{ "x{e=~\"((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)\"}", 5,
		    "invalid regular expression: expression too large" },
		{ "x{e!~\"(a)\\\\1\"}", 5, "invalid regular expression: "
		    "back-references are not supported" },
		{ "foo{__name__=\"bar\"}", 4, "metric name must not be set "
		    "twice: \"foo\"" },
		{ "{}", 0, "vector selector must contain at least one "
		    "non-empty matcher" },
		{ "{a=\"\", b=~\".*\"}", 0, "vector selector must contain at "
		    "least one non-empty matcher" },
		{ "1 +", 3, "unexpected end of input, expected an expression" },
		{ "1 + )", 4, "unexpected \")\", expected an expression" },
		{ "(1 + 2", 6, "unexpected end of input, expected \")\"" },
		{ "foo bar", 4, "unexpected \"bar\", expected an operator or "
		    "end of input" },
		{ "5m", 0, "bad number or duration syntax: \"5m\"" },
		{ "1.2.3", 0, "bad number or duration syntax: \"1.2.\"" },
		{ "foo @ 1", 4, "unexpected character: '@'" },
		{ "foo !x", 4, "unexpected character after '!': expected = "
		    "or ~" },
		{ "foo\x01", 3, "unexpected byte 0x01" },
		{ "by", 0, "unexpected keyword \"by\"" },
		{ "nofunc(foo)", 0, "unknown function with name \"nofunc\"" },
		{ "rate(foo)", 5, "expected type range vector in call to "
		    "function \"rate\", got instant vector" },
		{ "abs(foo[5m])", 4, "expected type instant vector in call to "
		    "function \"abs\", got range vector" },
		{ "histogram_quantile(0.5)", 22, "expected 2 argument(s) in "
		    "call to function \"histogram_quantile\", got 1" },
		{ "time(1)", 5, "expected 0 argument(s) in call to function "
		    "\"time\", got more" },
		{ "rate(foo[5m]", 12, "unexpected end of input, expected "
		    "\",\" or \")\" in argument list" },
		{ "sum(foo", 7, "unexpected end of input, expected \")\" "
		    "closing the aggregation" },
		{ "sum foo", 4, "unexpected \"foo\", expected \"(\" after "
		    "aggregation" },
		{ "sum by (a) (foo) by (b)", 17, "aggregation must only "
		    "contain one grouping clause" },
		{ "sum by (a (foo)", 10, "unexpected \"(\", expected \",\" or "
		    "\")\" in label list" },
		{ "topk(foo)", 5, "expected type scalar in aggregation "
		    "\"topk\", got instant vector" },
		{ "sum(1)", 4, "expected type instant vector in aggregation "
		    "\"sum\", got scalar" },
		{ "1 > 2", 2, "comparisons between scalars must use BOOL "
		    "modifier" },
		{ "1 and foo", 2, "set operator \"and\" not allowed in binary "
		    "scalar expression" },
		{ "foo + bool foo", 6, "bool modifier can only be used on "
		    "comparison operators" },
		{ "foo and on(a) group_left foo", 14, "no grouping allowed "
		    "for \"and\" operation" },
		{ "foo + on(a) group_left(a) bar", 4, "label \"a\" must not "
		    "occur in ON and GROUP clause at once" },
		{ "foo + on(a) 1", 4, "vector matching only allowed between "
		    "instant vectors" },
		{ "foo[5m] + 1", 0, "binary expression must contain only "
		    "scalar and instant vector types" },
		{ "-foo[5m]", 1, "unary expression only allowed on expressions "
		    "of type scalar or instant vector, got range vector" },
		{ "foo[5m]", 0, "expression must be of type instant vector or "
		    "scalar, got range vector" },
		{ "\"str\"", 0, "expression must be of type instant vector or "
		    "scalar, got string" },
	};
	struct rl_expr	*e;
	char		 err[256], deep[1300];
	size_t		 i, off, len;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		off = 9999;
		e = rl_expr_parse(p[i].in, &off, err, sizeof(err));
		/* a message ending in "*" is checked up to there */
		len = strlen(p[i].msg);
		if (len > 0 && p[i].msg[len - 1] == '*')
			len--;
		else
			len++;
		if (e != NULL || off != p[i].off ||
		    strncmp(err, p[i].msg, len) != 0)
			print_error("%s: got %zu \"%s\"\n", p[i].in, off,
			    e == NULL ? err : "success");
		assert_null(e);
		assert_int_equal(off, p[i].off);
		assert_int_equal(strncmp(err, p[i].msg, len), 0);
	}
	/* nesting is bounded, not a stack overflow */
	memset(deep, '(', 600);
	deep[600] = '1';
	memset(deep + 601, ')', 600);
	deep[1201] = '\0';
	assert_null(rl_expr_parse(deep, &off, err, sizeof(err)));
	assert_string_equal(err, "expression nested too deeply");
	memset(deep, '-', 1000);
	deep[1000] = '1';
	deep[1001] = '\0';
	assert_null(rl_expr_parse(deep, &off, err, sizeof(err)));
	/* a long flat chain is as deep a tree for the evaluator */
	for (i = 0; i < 300; i++)
		memcpy(deep + i * 4, "1 + ", 4);
	deep[1200] = '1';
	deep[1201] = '\0';
	assert_null(rl_expr_parse(deep, &off, err, sizeof(err)));
	assert_string_equal(err, "expression nested too deeply");
	deep[200 * 4 + 1] = '\0';	/* 200 terms are fine */
	assert_string_equal(run(deep), "scalar 201");
	/* a tiny or absent error buffer is fine */
	assert_null(rl_expr_parse("foo[", NULL, err, 4));
	assert_string_equal(err, "une");
	assert_null(rl_expr_parse("foo[", NULL, NULL, 0));
}

static void
test_lookback(void **state)
{
	struct rl_expr	*e;
	size_t		 off;
	char		 err[128];

	e = rl_expr_parse("foo", &off, err, sizeof(err));
	assert_int_equal(rl_expr_lookback_ms(e), 5 * 60 * S);
	rl_expr_free(e);
	e = rl_expr_parse("rate(x[10m] offset 5m) + max_over_time(y[1h])",
	    &off, err, sizeof(err));
	assert_int_equal(rl_expr_lookback_ms(e), 3600 * S);
	rl_expr_free(e);
	e = rl_expr_parse("rate(x[10m] offset 1h) > bool 2", &off, err,
	    sizeof(err));
	assert_int_equal(rl_expr_lookback_ms(e), 70 * 60 * S);
	rl_expr_free(e);
	e = rl_expr_parse("1 + time()", &off, err, sizeof(err));
	assert_int_equal(rl_expr_lookback_ms(e), 0);
	rl_expr_free(e);
}

static void
test_matcher_match(void **state)
{
	struct np_label		lv[] = { { (char *)"a", (char *)"xyz" } };
	struct np_labels	l = { lv, 1 };
	struct rl_expr		*e;
	struct rl_matcher	 m = { "a", "xyz", RL_EQ, NULL };
	size_t			 off;
	char			 err[64];

	assert_true(rl_matcher_match(&m, &l));
	m.op = RL_NEQ;
	assert_false(rl_matcher_match(&m, &l));
	m.name = "b";		/* absent label: the empty string */
	assert_true(rl_matcher_match(&m, &l));
	m.value = "";
	assert_false(rl_matcher_match(&m, &l));
	m.op = RL_EQ;
	assert_true(rl_matcher_match(&m, &l));
	m.op = RL_RE;		/* no compiled regex: never matches */
	assert_false(rl_matcher_match(&m, &l));
	/* the regex is anchored at both ends */
	CHECK({ "up{instance=~\"a|b\"}", "{__name__=\"up\",instance=\"a\","
	    "job=\"api\"} 1; {__name__=\"up\",instance=\"b\",job=\"api\"} 0" },
	    { "up{job=~\"ap\"}", "" },
	    { "up{job=~\"a.*\"}", "{__name__=\"up\",instance=\"a\","
	    "job=\"api\"} 1; {__name__=\"up\",instance=\"b\",job=\"api\"} 0" },
	    { "up{job!~\"a.*\"}", "{__name__=\"up\",instance=\"c\","
	    "job=\"web\"} 1" },
	    { "up{instance!=\"a\",job=\"api\"}", "{__name__=\"up\","
	    "instance=\"b\",job=\"api\"} 0" },
	    { "{__name__=~\"machine_.*\",os=\"bsd\"}",
	    "{__name__=\"machine_info\",instance=\"b\",os=\"bsd\"} 1" },
	    { "up{nolabel=\"\",instance=\"c\"}", "{__name__=\"up\","
	    "instance=\"c\",job=\"web\"} 1" },
	    { "up{nolabel!=\"\"}", "" });
	e = rl_expr_parse("x{a=~\"x(y|z)z\"}", &off, err, sizeof(err));
	assert_non_null(e);
	rl_expr_free(e);
}

static void
test_selectors(void **state)
{
	CHECK({ "temp", "{__name__=\"temp\",room=\"x\"} 14" },
	    { "temp offset 1m", "{__name__=\"temp\",room=\"x\"} 15" },
	    { "temp offset -1m", "{__name__=\"temp\",room=\"x\"} 14" },
	    { "nothing", "" },
	    /* last sample 301s ago: stale under the 5m lookback */
	    { "old", "" },
	    { "count_over_time(temp[4m])", "{room=\"x\"} 5" },
	    { "count_over_time(temp[4m1ms])", "{room=\"x\"} 5" },
	    { "sum_over_time(temp[2m] offset 1m)", "{room=\"x\"} 38" },
	    { "count_over_time(temp[1m] offset 1m)", "{room=\"x\"} 2" });
	/* the lookback window is closed: exactly 5m old is still seen */
	assert_string_equal(run_at("old", T - 1 * S),
	    "{__name__=\"old\",job=\"x\"} 7");
	assert_string_equal(run_at("old", T - 1 * S + 1), "");
	/* before the first sample: nothing */
	assert_string_equal(run_at("temp", T - 1000 * S), "");
}

static void
test_rate_family(void **state)
{
	CHECK(
	    /* a: from zero, so no extrapolation below zero at the start */
	    { "rate(http_requests_total{instance=\"a\"}[5m])",
	    "{instance=\"a\",job=\"api\"} 0.8" },
	    { "increase(http_requests_total{instance=\"a\"}[5m])",
	    "{instance=\"a\",job=\"api\"} 240" },
	    /* b: extrapolated by the 60s to the window start */
	    { "increase(http_requests_total{instance=\"b\"}[5m])",
	    "{instance=\"b\",job=\"api\"} 300" },
	    { "rate(http_requests_total{instance=\"b\"}[5m])",
	    "{instance=\"b\",job=\"api\"} 1" },
	    /* c: one reset (20 -> 5): 25 - 10 + 20 = 35, then * 300/240 */
	    { "increase(http_requests_total{instance=\"c\"}[5m])",
	    "{instance=\"c\",job=\"web\"} 43.75" },
	    { "rate(http_requests_total{instance=\"c\"}[5m])",
	    "{instance=\"c\",job=\"web\"} 0.1458333333" },
	    /*
	     * starts at 0 (no extrapolation before it), ends 120s before
	     * the window end: only avg/2 = 30s added: 20 * 150 / 120
	     */
	    { "increase(gap[5m])", "{k=\"1\"} 25" },
	    { "delta(temp[5m])", "{room=\"x\"} 5" },
	    /* 2 over 180s sampled, extended by 60s to the start */
	    { "delta(temp[4m])", "{room=\"x\"} 4" },
	    { "irate(http_requests_total[5m])", "{instance=\"a\",job=\"api\"} "
	    "1; {instance=\"b\",job=\"api\"} 1; {instance=\"c\",job=\"web\"} "
	    "0.1666666667" },
	    /* irate over a reset takes the new value */
	    { "irate(ctr_reset[5m])", "{k=\"1\"} 0.3333333333" },
	    { "rate(up[5m])", "" },
	    { "irate(up[5m])", "" },
	    { "changes(http_requests_total{instance=\"c\"}[5m])",
	    "{instance=\"c\",job=\"web\"} 4" },
	    { "resets(http_requests_total{instance=\"c\"}[5m])",
	    "{instance=\"c\",job=\"web\"} 1" },
	    { "resets(up[5m])", "{instance=\"a\",job=\"api\"} 0; "
	    "{instance=\"b\",job=\"api\"} 0; {instance=\"c\",job=\"web\"} 0" },
	    /* NaN to NaN is no change */
	    { "changes(nanny[5m])", "{k=\"1\"} 2" });
}

static void
test_over_time(void **state)
{
	CHECK({ "avg_over_time(temp[5m])", "{room=\"x\"} 12.4" },
	    { "min_over_time(temp[5m])", "{room=\"x\"} 10" },
	    { "max_over_time(temp[5m])", "{room=\"x\"} 15" },
	    { "sum_over_time(temp[5m])", "{room=\"x\"} 62" },
	    { "count_over_time(temp[5m])", "{room=\"x\"} 5" },
	    /* last_over_time keeps the name (engine.go) */
	    { "last_over_time(temp[5m])", "{__name__=\"temp\",room=\"x\"} 14" },
	    { "last_over_time(old[10m])", "{__name__=\"old\",job=\"x\"} 7" },
	    { "quantile_over_time(0.5, temp[5m])", "{room=\"x\"} 12" },
	    { "quantile_over_time(0.25, temp[5m])", "{room=\"x\"} 11" },
	    { "quantile_over_time(0.1, temp[5m])", "{room=\"x\"} 10.4" },
	    { "quantile_over_time(2, temp[5m])", "{room=\"x\"} +Inf" },
	    { "quantile_over_time(-1, temp[5m])", "{room=\"x\"} -Inf" },
	    { "quantile_over_time(NaN, temp[5m])", "{room=\"x\"} NaN" },
	    /* NaN never wins min/max */
	    { "max_over_time(nanny[5m])", "{k=\"1\"} 2" },
	    { "min_over_time(nanny[5m])", "{k=\"1\"} 1" },
	    { "avg_over_time(nanny[5m])", "{k=\"1\"} NaN" },
	    { "max_over_time(nothing[5m])", "" },
	    /* dropping the name makes two series collide */
	    { "max_over_time({instance=\"a\",job=\"api\"}[5m])",
	    "error: vector cannot contain metrics with the same labelset" },
	    { "last_over_time({instance=\"a\",job=\"api\"}[5m])",
	    "{__name__=\"http_requests_total\",instance=\"a\",job=\"api\"} "
	    "240; {__name__=\"up\",instance=\"a\",job=\"api\"} 1" });
}

static void
test_absent_and_misc(void **state)
{
	CHECK({ "absent(up)", "" },
	    { "absent(nothing{job=\"x\",a=~\"y\"})", "{job=\"x\"} 1" },
	    { "absent(nothing{job=\"x\",job=\"y\"})", "{} 1" },
	    { "absent(nothing{job=\"x\",job!=\"y\",z=\"1\"})", "{z=\"1\"} 1" },
	    { "absent(sum(nothing{job=\"x\"}))", "{} 1" },
	    { "absent_over_time(old[5m])", "{} 1" },
	    { "absent_over_time(old{job=\"x\"}[5m])", "{job=\"x\"} 1" },
	    { "absent_over_time(old[10m])", "" },
	    { "abs(-temp)", "{room=\"x\"} 14" },
	    { "-temp", "{room=\"x\"} -14" },
	    { "+temp", "{__name__=\"temp\",room=\"x\"} 14" },
	    { "clamp_max(temp, 12)", "{room=\"x\"} 12" },
	    { "clamp_max(temp, 20)", "{room=\"x\"} 14" },
	    { "clamp_min(temp, 20)", "{room=\"x\"} 20" },
	    { "clamp_min(temp, NaN)", "{room=\"x\"} NaN" },
	    { "time()", "scalar 10000" },
	    { "time() - 1", "scalar 9999" },
	    { "vector(1)", "{} 1" },
	    { "vector(time())", "{} 10000" },
	    { "scalar(temp)", "scalar 14" },
	    { "scalar(up)", "scalar NaN" },
	    { "scalar(nothing)", "scalar NaN" },
	    { "sqrt(vector(16))", "{} 4" },
	    { "ceil(vector(1.2))", "{} 2" },
	    { "floor(vector(-1.2))", "{} -2" },
	    { "ln(vector(0))", "{} -Inf" },
	    { "log2(vector(8))", "{} 3" },
	    { "log10(vector(1000))", "{} 3" },
	    { "exp(vector(0))", "{} 1" },
	    { "sqrt(vector(-1))", "{} NaN" });
}

static void
test_histogram_quantile(void **state)
{
	CHECK({ "histogram_quantile(0.5, req_duration_bucket{job=\"api\"})",
	    "{job=\"api\"} 0.5" },
	    { "histogram_quantile(0.9, req_duration_bucket{job=\"api\"})",
	    "{job=\"api\"} 1" },
	    { "histogram_quantile(0.7, req_duration_bucket{job=\"api\"})",
	    "{job=\"api\"} 0.75" },
	    { "histogram_quantile(0.05, req_duration_bucket{job=\"api\"})",
	    "{job=\"api\"} 0.05" },
	    /* in the +Inf bucket: the highest finite bound */
	    { "histogram_quantile(0.95, req_duration_bucket{job=\"api\"})",
	    "{job=\"api\"} 1" },
	    { "histogram_quantile(2, req_duration_bucket{job=\"api\"})",
	    "{job=\"api\"} +Inf" },
	    { "histogram_quantile(-1, req_duration_bucket{job=\"api\"})",
	    "{job=\"api\"} -Inf" },
	    /* le="2" has 4 < 5: made monotonic, then rank 5 is in (0, 1] */
	    { "histogram_quantile(0.5, req_duration_bucket{job=\"bad\"})",
	    "{job=\"bad\"} 1" },
	    { "histogram_quantile(0.75, req_duration_bucket{job=\"bad\"})",
	    "{job=\"bad\"} 2" },
	    /* no +Inf bucket */
	    { "histogram_quantile(0.5, req_duration_bucket{job=\"noinf\"})",
	    "{job=\"noinf\"} NaN" },
	    /* not buckets at all: ignored */
	    { "histogram_quantile(0.5, up)", "" },
	    { "histogram_quantile(0.5, req_duration_bucket)",
	    "{job=\"api\"} 0.5; {job=\"bad\"} 1; {job=\"noinf\"} NaN" },
	    { "histogram_quantile(0.5, sum by (le) (req_duration_bucket"
	    "{job=~\"api|bad\"}))", "{} 0.5555555556" });
}

static void
test_aggregations(void **state)
{
	CHECK({ "sum(http_requests_total)", "{} 605" },
	    { "sum by (job) (http_requests_total)",
	    "{job=\"api\"} 580; {job=\"web\"} 25" },
	    { "sum(http_requests_total) by (job)",
	    "{job=\"api\"} 580; {job=\"web\"} 25" },
	    { "sum without (instance) (http_requests_total)",
	    "{job=\"api\"} 580; {job=\"web\"} 25" },
	    { "sum by (__name__) (http_requests_total)",
	    "{__name__=\"http_requests_total\"} 605" },
	    { "sum by (nolabel) (http_requests_total)", "{} 605" },
	    { "avg by (job) (http_requests_total)",
	    "{job=\"api\"} 290; {job=\"web\"} 25" },
	    { "min(http_requests_total)", "{} 25" },
	    { "max(http_requests_total)", "{} 340" },
	    { "count(http_requests_total)", "{} 3" },
	    { "count by (job) (http_requests_total)",
	    "{job=\"api\"} 2; {job=\"web\"} 1" },
	    { "sum(nothing)", "" },
	    { "count(nothing)", "" },
	    { "topk(2, http_requests_total)",
	    "{__name__=\"http_requests_total\",instance=\"a\",job=\"api\"} "
	    "240; {__name__=\"http_requests_total\",instance=\"b\","
	    "job=\"api\"} 340" },
	    { "bottomk by (job) (1, http_requests_total)",
	    "{__name__=\"http_requests_total\",instance=\"a\",job=\"api\"} "
	    "240; {__name__=\"http_requests_total\",instance=\"c\","
	    "job=\"web\"} 25" },
	    { "topk(100, up)", "{__name__=\"up\",instance=\"a\",job=\"api\"} "
	    "1; {__name__=\"up\",instance=\"b\",job=\"api\"} 0; "
	    "{__name__=\"up\",instance=\"c\",job=\"web\"} 1" },
	    { "topk(0, up)", "" },
	    { "topk(NaN, up)", "" },
	    { "topk(1, nanny)", "{__name__=\"nanny\",k=\"1\"} 2" },
	    { "max(nanny offset 1m)", "{} NaN" },
	    { "sum(nanny offset 1m) + 1", "{} NaN" },
	    { "sum by (os) (machine_info)", "{os=\"bsd\"} 1; {os=\"linux\"} 1" });
}

static void
test_binary_scalar(void **state)
{
	CHECK({ "1 + 2 * 3", "scalar 7" },
	    { "2 ^ 3 ^ 2", "scalar 512" },
	    { "-2 ^ 2", "scalar -4" },
	    { "10 % 3", "scalar 1" },
	    { "-7 % 3", "scalar -1" },
	    { "1 atan2 1", "scalar 0.7853981634" },
	    { "1 > bool 2", "scalar 0" },
	    { "2 >= bool 2", "scalar 1" },
	    { "1 / 0", "scalar +Inf" },
	    { "-1 / 0", "scalar -Inf" },
	    { "0 / 0", "scalar NaN" },
	    { "Inf - Inf", "scalar NaN" },
	    { "NaN == bool NaN", "scalar 0" },
	    { "NaN != bool NaN", "scalar 1" },
	    { "5 % 0", "scalar NaN" },
	    { "5 % Inf", "scalar 5" },
	    { "1 ^ NaN", "scalar 1" },
	    { "NaN ^ 0", "scalar 1" },
	    { "http_requests_total / 10", "{instance=\"a\",job=\"api\"} 24; "
	    "{instance=\"b\",job=\"api\"} 34; {instance=\"c\",job=\"web\"} "
	    "2.5" },
	    { "10 - up", "{instance=\"a\",job=\"api\"} 9; {instance=\"b\","
	    "job=\"api\"} 10; {instance=\"c\",job=\"web\"} 9" },
	    /* filters keep the vector's value and name */
	    { "http_requests_total > 100",
	    "{__name__=\"http_requests_total\",instance=\"a\",job=\"api\"} "
	    "240; {__name__=\"http_requests_total\",instance=\"b\","
	    "job=\"api\"} 340" },
	    { "100 < http_requests_total",
	    "{__name__=\"http_requests_total\",instance=\"a\",job=\"api\"} "
	    "240; {__name__=\"http_requests_total\",instance=\"b\","
	    "job=\"api\"} 340" },
	    { "http_requests_total > bool 100", "{instance=\"a\",job=\"api\"} "
	    "1; {instance=\"b\",job=\"api\"} 1; {instance=\"c\",job=\"web\"} "
	    "0" },
	    { "up == 5", "" },
	    /* atan2 keeps the name like upstream */
	    { "temp atan2 0", "{__name__=\"temp\",room=\"x\"} 1.570796327" },
	    { "{instance=\"a\",job=\"api\"} * 2", "error: vector cannot "
	    "contain metrics with the same labelset" },
	    { "{instance=\"a\",job=\"api\"} > 0", "{__name__="
	    "\"http_requests_total\",instance=\"a\",job=\"api\"} 240; "
	    "{__name__=\"up\",instance=\"a\",job=\"api\"} 1" });
}

static void
test_binary_vector(void **state)
{
	CHECK({ "http_requests_total - up", "{instance=\"a\",job=\"api\"} "
	    "239; {instance=\"b\",job=\"api\"} 340; {instance=\"c\","
	    "job=\"web\"} 24" },
	    { "http_requests_total > up", "{__name__=\"http_requests_total\","
	    "instance=\"a\",job=\"api\"} 240; {__name__="
	    "\"http_requests_total\",instance=\"b\",job=\"api\"} 340; "
	    "{__name__=\"http_requests_total\",instance=\"c\",job=\"web\"} "
	    "25" },
	    { "up < bool http_requests_total", "{instance=\"a\",job=\"api\"} "
	    "1; {instance=\"b\",job=\"api\"} 1; {instance=\"c\",job=\"web\"} "
	    "1" },
	    { "up == http_requests_total", "" },
	    { "sum by (job, instance) (http_requests_total) / on(instance) up",
	    "{instance=\"a\"} 240; {instance=\"b\"} +Inf; {instance=\"c\"} "
	    "25" },
	    { "http_requests_total - ignoring(job) up", "{instance=\"a\"} "
	    "239; {instance=\"b\"} 340; {instance=\"c\"} 24" },
	    { "temp + up", "" },
	    { "up * on(instance) group_left(os) machine_info",
	    "{instance=\"a\",job=\"api\",os=\"linux\"} 1; {instance=\"b\","
	    "job=\"api\",os=\"bsd\"} 0" },
	    { "machine_info * on(instance) group_right(os) up",
	    "{instance=\"a\",job=\"api\",os=\"linux\"} 1; {instance=\"b\","
	    "job=\"api\",os=\"bsd\"} 0" },
	    { "up * on(instance) group_left machine_info",
	    "{instance=\"a\",job=\"api\"} 1; {instance=\"b\",job=\"api\"} 0" },
	    /* value of the real left operand, labels of the many side */
	    { "machine_info >= on(instance) group_right up",
	    "{__name__=\"up\",instance=\"a\",job=\"api\"} 1; "
	    "{__name__=\"up\",instance=\"b\",job=\"api\"} 1" },
	    { "dup * on(instance) group_left up",
	    "{instance=\"a\",x=\"1\"} 1; {instance=\"a\",x=\"2\"} 2" },
	    { "up and http_requests_total > 200",
	    "{__name__=\"up\",instance=\"a\",job=\"api\"} 1; "
	    "{__name__=\"up\",instance=\"b\",job=\"api\"} 0" },
	    { "up unless http_requests_total > 200",
	    "{__name__=\"up\",instance=\"c\",job=\"web\"} 1" },
	    { "up and on(job) http_requests_total{instance=\"c\"}",
	    "{__name__=\"up\",instance=\"c\",job=\"web\"} 1" },
	    { "up{instance=\"c\"} or on(instance) machine_info",
	    "{__name__=\"machine_info\",instance=\"a\",os=\"linux\"} 1; "
	    "{__name__=\"machine_info\",instance=\"b\",os=\"bsd\"} 1; "
	    "{__name__=\"up\",instance=\"c\",job=\"web\"} 1" },
	    { "up or on(instance) machine_info",
	    "{__name__=\"up\",instance=\"a\",job=\"api\"} 1; "
	    "{__name__=\"up\",instance=\"b\",job=\"api\"} 0; "
	    "{__name__=\"up\",instance=\"c\",job=\"web\"} 1" },
	    { "temp or up{instance=\"a\"}", "{__name__=\"temp\",room=\"x\"} "
	    "14; {__name__=\"up\",instance=\"a\",job=\"api\"} 1" },
	    { "nothing or vector(0)", "{} 0" },
	    { "up and nothing", "" },
	    { "nothing unless up", "" },
	    /* the empty side short-cuts, even with bad cardinality */
	    { "nothing * on(instance) dup", "" });
}

static void
test_matching_errors(void **state)
{
	CHECK({ "up * on(instance) dup", "error: found duplicate series for "
	    "the match group {instance=\"a\"} on the right hand-side of the "
	    "operation: [{__name__=\"dup\", instance=\"a\", x=\"1\"}, "
	    "{__name__=\"dup\", instance=\"a\", x=\"2\"}];many-to-many "
	    "matching not allowed: matching labels must be unique on one "
	    "side" },
	    { "dup * on(instance) group_right up", "error: found duplicate "
	    "series for the match group {instance=\"a\"} on the left "
	    "hand-side of the operation: [{__name__=\"dup\", instance=\"a\", "
	    "x=\"1\"}, {__name__=\"dup\", instance=\"a\", x=\"2\"}];"
	    "many-to-many matching not allowed: matching labels must be "
	    "unique on one side" },
	    { "dup * on(instance) up", "error: multiple matches for labels: "
	    "many-to-one matching must be explicit (group_left/group_right)" },
	    { "dup * ignoring(x) group_left(x) sum by (instance) "
	    "(up{instance=\"a\"})", "error: multiple matches for labels: "
	    "grouping labels must ensure unique results" },
	    /* filtered out before the check, as in engine.go */
	    { "dup > on(instance) up", "{instance=\"a\"} 2" });
}

/* Valid expressions to mutate, and tokens to build random ones from. */
static const char *const seeds[] = {
	"sum by (job) (rate(http_requests_total{job=~\"a.*\"}[5m]))",
	"histogram_quantile(0.9, sum by (le) (rate(req_duration_bucket[5m])))",
	"up * on(instance) group_left(os) machine_info > bool 0.5",
	"topk(2, http_requests_total offset 1m) or absent(nothing{a=\"b\"})",
	"-2 ^ -3 % 4 atan2 temp unless dup and up",
	"quantile_over_time(0.5, temp[1h30m]) - ignoring(x) group_right dup",
	"clamp_min(abs(-temp), scalar(up)) / time() + vector(1e3)",
	"{__name__=\"x\",a!='b',c!~`d`} == on() count without(a)(up)",
};

static const char *const frags[] = {
	"foo", "up", "temp", "dup", "{", "}", "(", ")", "[", "]", "5m", "1h30m",
	"=", "!=", "=~", "!~", "\"a\"", "'b'", "`c`", "\"(\"", "+", "-", "*",
	"/", "%", "^", "==", ">", "<=", " bool ", " on", " ignoring", "(a)",
	" group_left", " group_right", "sum", "avg", "topk", " by", " without",
	"rate", "irate", "absent", "histogram_quantile", "time", "vector",
	" offset ", "1", "0x1f", "NaN", "Inf", ",", " and ", " or ",
	" unless ", "le", "instance", ":", "#", "\\", "\"\\x41\"", "1e9",
	".5", "-5m", "changes", "clamp_max", "scalar", "last_over_time",
	"quantile_over_time", "count", " ", "\n", "\xc3\xa9", "\xff", "@",
};

static void
fuzz_one(const char *text, int *ok)
{
	struct rl_expr	*e, *e2;
	struct rl_value	 v;
	char		 err[128], *s, *s2;
	size_t		 off = (size_t)-1;

	e = rl_expr_parse(text, &off, err, sizeof(err));
	if (e == NULL) {
		assert_true(off <= strlen(text));
		assert_true(err[0] != '\0');
		return;
	}
	(*ok)++;
	/* the canonical form parses back to the same canonical form */
	s = rl_expr_string(e);
	e2 = rl_expr_parse(s, &off, err, sizeof(err));
	if (e2 == NULL)
		print_error("%s -> %s: %s\n", text, s, err);
	assert_non_null(e2);
	s2 = rl_expr_string(e2);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
	rl_expr_free(e2);
	(void)rl_expr_lookback_ms(e);
	if (rl_expr_eval(e, &src, T, &v, err, sizeof(err)) == 0)
		rl_value_free(&v);
	rl_expr_free(e);
}

static void
test_fuzz(void **state)
{
	char	buf[512];
	size_t	i, j, n, len, nf = sizeof(frags) / sizeof(frags[0]);
	int	ok = 0;

	srandom(FUZZ_SEED);
	/* token soup */
	for (i = 0; i < FUZZ_ROUNDS; i++) {
		n = 1 + (size_t)random() % 14;
		for (len = 0, j = 0; j < n; j++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "%s", frags[(size_t)random() % nf]);
		fuzz_one(buf, &ok);
	}
	/* byte mutations of valid expressions */
	for (i = 0; i < FUZZ_ROUNDS; i++) {
		snprintf(buf, sizeof(buf), "%s",
		    seeds[i % (sizeof(seeds) / sizeof(seeds[0]))]);
		len = strlen(buf);
		n = 1 + (size_t)random() % 3;
		for (j = 0; j < n && len > 0; j++) {
			size_t	at = (size_t)random() % len;

			switch (random() % 4) {
			case 0:	/* replace */
				buf[at] = (char)(1 + random() % 255);
				break;
			case 1:	/* delete */
				memmove(buf + at, buf + at + 1, len - at);
				len--;
				break;
			case 2:	/* truncate */
				buf[at] = '\0';
				len = at;
				break;
			default: /* duplicate a span */
				if (len * 2 < sizeof(buf)) {
					memmove(buf + at * 2, buf + at,
					    len - at + 1);
					len += at;
				}
			}
		}
		fuzz_one(buf, &ok);
	}
	/* random bytes */
	for (i = 0; i < FUZZ_ROUNDS / 4; i++) {
		n = (size_t)random() % 40;
		for (j = 0; j < n; j++)
			buf[j] = (char)(1 + random() % 255);
		buf[n] = '\0';
		fuzz_one(buf, &ok);
	}
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		fuzz_one(seeds[i], &ok);
	/* some of each kind got through to the evaluator */
	assert_true(ok > 200);
}

/* The regex guard lets through what RE2 accepts: one "?" after a
 * repetition, counts up to 1000, operators that are literals in a
 * bracket expression or escaped. */
static void
test_regex_guard_accepts(void **state)
{
	static const char *const ok[] = {
		"x{e=~\"a{1000}\"}",
		"x{e=~\"a+?b*?c??d{2}?\"}",
		"x{e=~\"(a|b)+c?d*\"}",
		"x{e=~\"[]+*]+\"}",
		"x{e=~\"[^]?]*[[:alpha:]]+\"}",
		"x{e=~\"\\\\++\"}",
		"x{e=~\"((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)\"}",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncmp(parsed(ok[i], 0), "error", 5) == 0)
			fail_msg("%s: %s", ok[i], parsed(ok[i], 0));
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_regex_guard_accepts),
		cmocka_unit_test(test_lookback),
		cmocka_unit_test(test_matcher_match),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_rate_family),
		cmocka_unit_test(test_over_time),
		cmocka_unit_test(test_absent_and_misc),
		cmocka_unit_test(test_histogram_quantile),
		cmocka_unit_test(test_aggregations),
		cmocka_unit_test(test_binary_scalar),
		cmocka_unit_test(test_binary_vector),
		cmocka_unit_test(test_matching_errors),
		cmocka_unit_test(test_fuzz),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
