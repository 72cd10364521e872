/*
 * netprobed --test-rules (rules/rule_test.c): the report it prints for
 * the fixture files in tests/rules/rt_*.test.yml (passing and failing
 * alert tests, pending vs firing, for and keep_firing_for, templated
 * annotations, recordings feeding later rules, promql_expr_test,
 * staleness, group_eval_order, globs, a rule that fails to evaluate, a
 * missing rule file, bad expressions), the exit status, promtool's
 * expanding notation read back through PromQL, and every load error with
 * its exact "t.yml:LINE:COL: message".
 *
 * Everything is real here (parser, evaluator, history, groups, alerts):
 * the point is the whole chain an operator's rule test goes through.
 * tests/integration/rule_test.sh runs the same fixtures through promtool.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/netprobed.h"
#include "rules/rule_test.h"

const char	*np_version = "test";

static char	 fixdir[PATH_MAX];	/* tests/rules, absolute */
static char	 tmpdir[PATH_MAX];	/* for the inline files */
static char	*made[64];		/* files written in tmpdir */
static size_t	 nmade;

struct result {
	int	 rc;
	char	*out;
	char	*err;
};

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* rule_test_run() on files, relative to dir, with out and err captured. */
static void
run_in(const char *dir, const char *const *files, size_t n,
    struct result *r)
{
	FILE	*o, *e;
	size_t	 ol, el;

	assert_int_equal(chdir(dir), 0);
	assert_non_null(o = open_memstream(&r->out, &ol));
	assert_non_null(e = open_memstream(&r->err, &el));
	r->rc = rule_test_run((char *const *)(uintptr_t)files, n, o, e);
	fclose(o);
	fclose(e);
}

static void
run_fixture(const char *name, struct result *r)
{
	const char	*files[1] = { name };

	run_in(fixdir, files, 1, r);
}

/* Write name in tmpdir (remembered for teardown). */
static void
write_file(const char *name, const char *text)
{
	char	 path[PATH_MAX + 64];
	FILE	*f;
	size_t	 i;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	for (i = 0; i < nmade; i++)
		if (strcmp(made[i], name) == 0)
			return;
	assert_true(nmade < NP_NELEM(made));
	made[nmade++] = strdup(name);
}

/* Write t.yml and run it alone. */
static void
run_text(const char *text, struct result *r)
{
	const char	*files[1] = { "t.yml" };

	write_file("t.yml", text);
	run_in(tmpdir, files, 1, r);
}

/* A file that must not load: err is exactly want, exit status 2. */
static void
load_error(const char *text, const char *want)
{
	struct result	r;

	run_text(text, &r);
	assert_string_equal(r.err, want);
	assert_string_equal(r.out, "0 tests, 0 passed, 0 failed; 1 file with "
	    "errors\n");
	assert_int_equal(r.rc, 2);
	result_free(&r);
}

static int
setup(void **state)
{
	const char	*top = getenv("top_srcdir");
	char		 path[PATH_MAX + 32];
	const char	*t = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/tests/rules", top != NULL ? top :
	    "../..");
	if (realpath(path, fixdir) == NULL)
		return (-1);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_rule_test.XXXXXX",
	    t != NULL ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	return (0);
}

static int
teardown(void **state)
{
	char	path[PATH_MAX + 64];
	size_t	i;

	for (i = 0; i < nmade; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, made[i]);
		unlink(path);
		free(made[i]);
	}
	nmade = 0;
	return (rmdir(tmpdir));
}

/* ---- the fixtures: what an operator reads --------------------------- */

static void
test_fixture_pass(void **state)
{
	struct result	r;

	run_fixture("rt_pass.test.yml", &r);
	assert_string_equal(r.out,
	    "rt_pass.test.yml: expanding notation: PASS\n"
	    "rt_pass.test.yml: probe down after 2m: PASS\n"
	    "rt_pass.test.yml: recordings feed an alert: PASS\n"
	    "rt_pass.test.yml: flapping keeps firing for 3m: PASS\n"
	    "rt_pass.test.yml: staleness: PASS\n"
	    "rt_pass.test.yml: slow probe: PASS\n"
	    "rt_pass.test.yml: nothing after the last eval_time: PASS\n"
	    "rt_pass.test.yml: #8: PASS\n"
	    "8 tests, 8 passed, 0 failed\n");
	assert_string_equal(r.err, "");
	assert_int_equal(r.rc, 0);
	result_free(&r);
}

static void
test_fixture_fail(void **state)
{
	struct result	r;

	run_fixture("rt_fail.test.yml", &r);
	assert_string_equal(r.out,
	    "rt_fail.test.yml: pending is not firing: FAIL\n"
	    "    alert ProbeDown at 3m: expected [{alertname=\"ProbeDown\", "
	    "instance=\"ns1\", job=\"dns\", severity=\"page\"} {summary=\"ns1 "
	    "of dns is down\", value=\"0\"}], got []\n"
	    "rt_fail.test.yml: wrong annotation: FAIL\n"
	    "    alert ProbeDown at 4m: expected [{alertname=\"ProbeDown\", "
	    "instance=\"ns1\", job=\"dns\", severity=\"page\"} {summary=\"ns1 "
	    "is down\", value=\"0\"}], got [{alertname=\"ProbeDown\", "
	    "instance=\"ns1\", job=\"dns\", severity=\"page\"} {summary=\"ns1 "
	    "of dns is down\", value=\"0\"}]\n"
	    "rt_fail.test.yml: unexpected alerts: FAIL\n"
	    "    alert SlowProbe at 5m: expected [], got [{alertname="
	    "\"SlowProbe\", instance=\"mcu\", severity=\"ticket\"} {summary="
	    "\"mcu took 2s\"}]\n"
	    "    alert SlowProbe at 5m: expected [{alertname=\"SlowProbe\", "
	    "instance=\"mcu\"} {summary=\"mcu took 2s\"}], got [{alertname="
	    "\"SlowProbe\", instance=\"mcu\", severity=\"ticket\"} {summary="
	    "\"mcu took 2s\"}]\n"
	    "rt_fail.test.yml: wrong samples: FAIL\n"
	    "    expr \"x{a=\\\"1\\\"}\" at 2m: expected [{__name__=\"x\", "
	    "a=\"1\"} 4], got [{__name__=\"x\", a=\"1\"} 3]\n"
	    "    expr \"x\" at 1m: expected [{__name__=\"x\", a=\"1\"} 2], got "
	    "[{__name__=\"x\", a=\"1\"} 2, {__name__=\"x\", a=\"2\"} 20]\n"
	    "    expr \"sum(x)\" at 0s: expected [], got [{} 11]\n"
	    "4 tests, 0 passed, 4 failed\n");
	assert_string_equal(r.err, "");
	assert_int_equal(r.rc, 1);
	result_free(&r);
}

static void
test_fixture_eval_error(void **state)
{
	struct result	r;

	run_fixture("rt_eval_error.test.yml", &r);
	/* the check at 0s still ran; the error at 1m ends the group */
	assert_string_equal(r.out,
	    "rt_eval_error.test.yml: rule error: FAIL\n"
	    "    alert Duplicated at 0s: expected [], got [{alertname="
	    "\"Duplicated\", i=\"1\"} {}]\n"
	    "    rule Duplicated at 1m: error: vector contains metrics with "
	    "the same labelset after applying alert labels\n"
	    "1 tests, 0 passed, 1 failed\n");
	assert_int_equal(r.rc, 1);
	result_free(&r);
}

static void
test_fixture_order_and_globs(void **state)
{
	struct result	r;

	run_fixture("rt_order.test.yml", &r);
	assert_string_equal(r.out,
	    "rt_order.test.yml: evaluation order: PASS\n"
	    "1 tests, 1 passed, 0 failed\n");
	assert_string_equal(r.err, "rt_order.test.yml:5:5: warning: no file "
	    "matches 'rt_no_such_*.rules.yml'\n");
	assert_int_equal(r.rc, 0);
	result_free(&r);

	/* the other order: "second" sees the previous minute's recording */
	write_file("rt_order.rules.yml",
	    "groups:\n"
	    "  - name: second\n"
	    "    rules:\n"
	    "      - record: order:plus_one\n"
	    "        expr: order:copy + 1\n"
	    "  - name: first\n"
	    "    rules:\n"
	    "      - record: order:copy\n"
	    "        expr: order_input\n");
	run_text(
	    "rule_files: [rt_order.rules.yml]\n"
	    "group_eval_order: [second, first]\n"
	    "tests:\n"
	    "  - interval: 1m\n"
	    "    input_series:\n"
	    "      - series: order_input\n"
	    "        values: '1+1x5'\n"
	    "    promql_expr_test:\n"
	    "      - expr: order:plus_one\n"
	    "        eval_time: 2m\n"
	    "        exp_samples:\n"
	    "          - labels: order:plus_one\n"
	    "            value: 4\n", &r);
	assert_string_equal(r.out,
	    "t.yml: #1: FAIL\n"
	    "    expr \"order:plus_one\" at 2m: expected [{__name__="
	    "\"order:plus_one\"} 4], got [{__name__=\"order:plus_one\"} 3]\n"
	    "1 tests, 0 passed, 1 failed\n");
	assert_int_equal(r.rc, 1);
	result_free(&r);

	/* unnamed groups follow the named ones, in file order */
	run_text(
	    "rule_files: [rt_order.rules.yml]\n"
	    "group_eval_order: [first, nonexistent]\n"
	    "tests:\n"
	    "  - interval: 1m\n"
	    "    input_series:\n"
	    "      - series: order_input\n"
	    "        values: '1+1x5'\n"
	    "    promql_expr_test:\n"
	    "      - expr: order:plus_one\n"
	    "        eval_time: 2m\n"
	    "        exp_samples:\n"
	    "          - labels: order:plus_one\n"
	    "            value: 4\n", &r);
	assert_string_equal(r.out, "t.yml: #1: PASS\n"
	    "1 tests, 1 passed, 0 failed\n");
	result_free(&r);

	/* one file named three ways is loaded once: one alert, not three */
	write_file("a.rules.yml", "groups:\n- name: g\n  rules:\n"
	    "  - {alert: A, expr: vector(1)}\n");
	run_text(
	    "rule_files: [a.rules.yml, ./a.rules.yml, 'a.rule?.yml']\n"
	    "tests:\n"
	    "  - alert_rule_test:\n"
	    "      - {alertname: A, exp_alerts: [{}]}\n", &r);
	assert_string_equal(r.out, "t.yml: #1: PASS\n"
	    "1 tests, 1 passed, 0 failed\n");
	assert_string_equal(r.err, "");
	result_free(&r);
}

static void
test_fixture_load_errors(void **state)
{
	struct result	r;

	run_fixture("rt_missing_rules.test.yml", &r);
	assert_string_equal(r.err, "rt_missing_rules.test.yml:5:5: rule file "
	    "'rt_does_not_exist.rules.yml' does not exist\n");
	assert_string_equal(r.out, "0 tests, 0 passed, 0 failed; 1 file with "
	    "errors\n");
	assert_int_equal(r.rc, 2);
	result_free(&r);

	run_fixture("rt_bad_expr.test.yml", &r);
	assert_string_equal(r.err, "rt_bad_expr.test.yml:13:30: invalid "
	    "expression: unexpected end of input, expected \",\" or \")\" in "
	    "label list\n");
	assert_int_equal(r.rc, 2);
	result_free(&r);

	run_fixture("rt_bad_values.test.yml", &r);
	assert_string_equal(r.err,
	    "rt_bad_values.test.yml:10:22: values: unexpected \"x3\", expected "
	    "a number, '_' or 'stale'\n"
	    "rt_bad_values.test.yml:11:24: series: expected '=' after label "
	    "'job' (a series has only name=\"value\" pairs)\n");
	assert_int_equal(r.rc, 2);
	result_free(&r);

	/* a rule file's own errors, as rule_file_load() gives them */
	run_fixture("rt_bad_rules.test.yml", &r);
	assert_string_equal(r.err, "rt_bad.rules.yml:7:21: invalid expression: "
	    "unexpected end of input, expected \")\" closing the "
	    "aggregation\n");
	assert_int_equal(r.rc, 2);
	result_free(&r);
}

/* Several files: each reported; a load error wins the exit status. */
static void
test_many_files(void **state)
{
	const char	*files[] = { "rt_order.test.yml", "rt_fail.test.yml",
	    "rt_bad_expr.test.yml", "rt_pass.test.yml" };
	const char	*two[] = { "rt_order.test.yml", "rt_fail.test.yml" };
	struct result	 r;

	run_in(fixdir, files, NP_NELEM(files), &r);
	assert_non_null(strstr(r.out, "rt_fail.test.yml: wrong samples: "
	    "FAIL\n"));
	assert_non_null(strstr(r.out, "rt_pass.test.yml: #8: PASS\n"));
	assert_non_null(strstr(r.out, "\n13 tests, 9 passed, 4 failed; 1 file "
	    "with errors\n"));
	assert_non_null(strstr(r.err, "rt_bad_expr.test.yml:13:30: "));
	assert_int_equal(r.rc, 2);
	result_free(&r);

	run_in(fixdir, two, NP_NELEM(two), &r);
	assert_non_null(strstr(r.out, "\n5 tests, 1 passed, 4 failed\n"));
	assert_int_equal(r.rc, 1);
	result_free(&r);

	/* no file: nothing to fail */
	run_in(fixdir, files, 0, &r);
	assert_string_equal(r.out, "0 tests, 0 passed, 0 failed\n");
	assert_int_equal(r.rc, 0);
	result_free(&r);
}

/* ---- expanding notation --------------------------------------------- */

#define MISSING	(-12345.0)	/* a slot without a sample */
#define STALE	(-54321.0)	/* a slot with a staleness marker */

struct notation {
	const char	*values;
	double		 want[12];
	size_t		 n;
};

/*
 * The series x with these values at 1m spacing, read back one slot at a
 * time: sum_over_time(x[30s]) at the slot sees exactly the sample there
 * (or nothing), x itself is gone at a stale slot, and the count over the
 * whole series says nothing else was loaded.
 */
static void
check_notation(const struct notation *nt)
{
	struct result	 r;
	FILE		*f;
	char		*text, num[64];
	size_t		 len, i, count = 0;

	assert_non_null(f = open_memstream(&text, &len));
	fprintf(f, "tests:\n- interval: 1m\n  input_series:\n"
	    "  - series: x\n    values: '%s'\n  promql_expr_test:\n",
	    nt->values);
	for (i = 0; i < nt->n; i++) {
		if (nt->want[i] == MISSING || nt->want[i] == STALE) {
			fprintf(f, "  - expr: count_over_time(x[30s])\n"
			    "    eval_time: %zum\n", i);
			if (nt->want[i] == STALE)
				fprintf(f, "  - expr: x\n    eval_time: %zum\n",
				    i);
			continue;
		}
		count++;
		if (isnan(nt->want[i]))
			snprintf(num, sizeof(num), ".nan");
		else if (isinf(nt->want[i]))
			snprintf(num, sizeof(num), "%s.inf",
			    nt->want[i] < 0 ? "-" : "");
		else
			snprintf(num, sizeof(num), "%.17g", nt->want[i]);
		fprintf(f, "  - expr: sum_over_time(x[30s])\n"
		    "    eval_time: %zum\n"
		    "    exp_samples: [{labels: '{}', value: %s}]\n", i, num);
	}
	fprintf(f, "  - expr: count_over_time(x[1d])\n"
	    "    eval_time: %zum\n", nt->n + 1);
	if (count > 0)
		fprintf(f, "    exp_samples: [{labels: '{}', value: %zu}]\n",
		    count);
	fclose(f);
	run_text(text, &r);
	if (r.rc != 0)
		print_error("values '%s':\n%s%s", nt->values, r.out, r.err);
	assert_int_equal(r.rc, 0);
	result_free(&r);
	free(text);
}

static void
test_notation(void **state)
{
	static const struct notation cases[] = {
		{ "1 2 3", { 1, 2, 3 }, 3 },
		{ "-2+4x3", { -2, 2, 6, 10 }, 4 },
		{ "1-2x4", { 1, -1, -3, -5, -7 }, 5 },
		{ "7x2", { 7, 7, 7 }, 3 },
		{ "1x0 2", { 1, 2 }, 2 },
		{ "1+1x0", { 1 }, 1 },
		{ "_ 1 _x2 2", { MISSING, 1, MISSING, MISSING, 2 }, 5 },
		{ "_x0 5", { 5 }, 1 },
		{ "_ _", { MISSING, MISSING }, 2 },
		{ "1 stale 3", { 1, STALE, 3 }, 3 },
		{ "stale stale", { STALE, STALE }, 2 },
		{ "Inf -Inf +inf nan NaN", { INFINITY, -INFINITY, INFINITY,
		    NAN, NAN }, 5 },
		{ "-Inf+1x1", { -INFINITY, -INFINITY }, 2 },
		{ ".5 1e3 1.5E-1 +3 -0", { 0.5, 1000, 0.15, 3, 0 }, 5 },
		/* an integer first, as Go's parser: leading 0 is octal */
		{ "010 08 0", { 8, 8, 0 }, 3 },
		/* in a series, x is always the repetition, never hex */
		{ "0x3", { 0, 0, 0, 0 }, 4 },
		/* added up step by step */
		{ "0.1+0.1x2", { 0.1, 0.2, 0.30000000000000004 }, 3 },
		{ "1.5-0.5x3", { 1.5, 1, 0.5, 0 }, 4 },
		{ "  1   2  ", { 1, 2 }, 2 },
		{ "", { 0 }, 0 },
	};
	size_t	i;

	for (i = 0; i < NP_NELEM(cases); i++)
		check_notation(&cases[i]);
}

static void
test_notation_errors(void **state)
{
	/* the value starts at column 14 of line 5 */
	static const struct { const char *values, *err; } cases[] = {
		{ "1 2+x3", "5:18: values: unexpected \"x3\", expected a "
		    "number, '_' or 'stale'" },
		{ "1x", "5:16: values: expected a repetition count after "
		    "'x'" },
		{ "x3", "5:14: values: unexpected \"x3\", expected a number, "
		    "'_' or 'stale'" },
		{ "1+2", "5:17: values: expected 'x' and a count after "
		    "\"1+2\" (a+bxN)" },
		{ "1+2 3", "5:17: values: expected 'x' and a count after "
		    "\"1+2\" (a+bxN)" },
		{ "stalex3", "5:14: values: unexpected \"stalex3\", expected a "
		    "number, '_' or 'stale'" },
		{ "Infx3", "5:14: values: unexpected \"Infx3\", expected a "
		    "number, '_' or 'stale'" },
		{ "_+1x3", "5:15: values: unexpected '+' after '_' (a missing "
		    "value is '_' or '_xN')" },
		{ "_x", "5:16: values: expected a repetition count after "
		    "'x'" },
		{ "1x-3", "5:16: values: expected a repetition count after "
		    "'x'" },
		{ "1x3.5", "5:17: values: invalid repetition count (a whole "
		    "number, then a blank)" },
		{ "1+1x1e2", "5:19: values: invalid repetition count (a whole "
		    "number, then a blank)" },
		{ "1--1x2", "5:16: values: unexpected '-', expected a number, "
		    "'_' or 'stale'" },
		{ "1+-1x2", "5:16: values: unexpected '-', expected a number, "
		    "'_' or 'stale'" },
		{ "1,2", "5:15: values: unexpected ',' after a value" },
		{ "1 + 1x3", "5:17: values: unexpected ' ', expected a number, "
		    "'_' or 'stale'" },
		{ "1 abc", "5:16: values: unexpected \"abc\", expected a "
		    "number, '_' or 'stale'" },
		{ "1e400", "5:14: values: number \"1e400\" out of range" },
		{ "1e", "5:14: values: bad number \"1e\"" },
		{ "1 .", "5:16: values: unexpected '.', expected a number, "
		    "'_' or 'stale'" },
		{ "1 -", "5:17: values: unexpected end, expected a number" },
		{ "1x99999999999", "5:16: values: more than 1000000 values in "
		    "one series" },
		{ "1x1000000", "5:14: values: more than 1000000 values in one "
		    "series" },
		{ "_x999999 1 2", "5:25: values: more than 1000000 values in "
		    "one series" },
	};
	char	text[256], want[256];
	size_t	i;

	for (i = 0; i < NP_NELEM(cases); i++) {
		snprintf(text, sizeof(text), "tests:\n- interval: 1m\n"
		    "  input_series:\n  - series: x\n    values: '%s'\n",
		    cases[i].values);
		snprintf(want, sizeof(want), "t.yml:%s\n", cases[i].err);
		load_error(text, want);
	}
	/* not in one line of source: the offset in the value instead */
	load_error("tests:\n- input_series:\n  - series: x\n    values: >\n"
	    "      1 2\n      3 4x\n",
	    "t.yml:4:13: values: expected a repetition count after 'x' (at "
	    "character 9 of the value)\n");
	load_error("tests:\n- input_series:\n  - series: x\n"
	    "    values: \"1 \\x32 y\"\n",
	    "t.yml:4:13: values: unexpected \"y\", expected a number, '_' or "
	    "'stale' (at character 5 of the value)\n");
}

/* ---- series selectors ----------------------------------------------- */

static void
test_series_selectors(void **state)
{
	static const struct { const char *series, *labels; } good[] = {
		{ "x", "x" },
		{ "x{}", "x" },
		{ " x{a=\"b\"} ", "x{a=\"b\"}" },
		{ "{__name__=\"x\", a=\"b\"}", "x{a=\"b\"}" },
		{ "x{a=''b'',}", "x{a=\"b\"}" },
		{ "x{ a = \"b\" , c=\"d\" }", "x{c=\"d\",a=\"b\"}" },
		{ "x{a=\"\"}", "x" },			/* empty: no label */
		{ "x{__name__=\"y\"}", "x" },		/* the name wins */
		{ "x:y_z{by=\"on\"}", "x:y_z{by=''on''}" },
		{ "sum", "sum" },
		{ "x{a=\"\\u00e9\\x41\\101\\n\\\"\\\\\\t\"}",
		    "x{a=\"\xc3\xa9" "AA\\n\\\"\\\\\\t\"}" },
		{ "x{a=`raw\\n`}", "x{a=\"raw\\\\n\"}" },
		{ "x{a=\"\xe5\x8d\x97\"}", "x{a=`\xe5\x8d\x97`}" },
	};
	char		 text[512];
	struct result	 r;
	size_t		 i;

	for (i = 0; i < NP_NELEM(good); i++) {
		snprintf(text, sizeof(text), "tests:\n- interval: 1m\n"
		    "  input_series:\n  - series: '%s'\n    values: '5'\n"
		    "  promql_expr_test:\n  - expr: '{__name__!=\"\"}'\n"
		    "    exp_samples: [{labels: '%s', value: 5}]\n",
		    good[i].series, good[i].labels);
		run_text(text, &r);
		if (r.rc != 0)
			print_error("series %s:\n%s%s", good[i].series, r.out,
			    r.err);
		assert_int_equal(r.rc, 0);
		result_free(&r);
	}
}

static void
test_series_selector_errors(void **state)
{
	/* the selector starts at column 14 of line 4 */
	static const struct { const char *series, *err; } cases[] = {
		{ "x{a!=\"b\"}", "4:17: series: expected '=' after label 'a' "
		    "(a series has only name=\"value\" pairs)" },
		{ "x{a=~\"b\"}", "4:17: series: expected '=' after label 'a' "
		    "(a series has only name=\"value\" pairs)" },
		{ "x{a=\"1\",a=\"2\"}", "4:22: series: label 'a' is repeated" },
		{ "x{a=\"b\"", "4:21: series: expected ',' or '}' after a "
		    "label" },
		{ "x{1a=\"b\"}", "4:16: series: expected a label name or '}'" },
		{ "x{a=b}", "4:18: series: expected a quoted label value" },
		{ "x{a=\"b\" c=\"d\"}", "4:22: series: expected ',' or '}' "
		    "after a label" },
		{ "x {a=\"b\"}", "4:16: series: unexpected '{'" },
		{ "x y", "4:16: series: unexpected 'y'" },
		{ "x{a=\"b\"}{c=\"d\"}", "4:22: series: unexpected '{'" },
		{ "x{a=\"\\q\"}", "4:19: series: unknown escape sequence "
		    "'\\q'" },
		{ "x{a=\"\\x4\"}", "4:19: series: bad escape: \\x needs 2 hex "
		    "digits" },
		{ "x{a=\"\\ud800\"}", "4:19: series: escape is not a valid "
		    "Unicode code point" },
		{ "x{a=\"\\000\"}", "4:19: series: a label value cannot hold a "
		    "NUL character" },
		{ "x{a=\"\\400\"}", "4:19: series: octal escape above \\377" },
		{ "x{a=\"b}", "4:21: series: unterminated string" },
		{ "{a=\"b\"}", "4:14: series: an input series needs a metric "
		    "name" },
		{ "inf", "4:14: series: unexpected number \"inf\", expected a "
		    "metric name" },
		{ "NaN{a=\"b\"}", "4:14: series: unexpected number \"NaN\", "
		    "expected a metric name" },
		{ "9x", "4:14: series: unexpected '9', expected a metric name "
		    "or '{'" },
	};
	char	text[256], want[256];
	size_t	i;

	for (i = 0; i < NP_NELEM(cases); i++) {
		snprintf(text, sizeof(text), "tests:\n- interval: 1m\n"
		    "  input_series:\n  - series: '%s'\n    values: '1'\n",
		    cases[i].series);
		snprintf(want, sizeof(want), "t.yml:%s\n", cases[i].err);
		load_error(text, want);
	}
	load_error("tests:\n- input_series:\n  - values: '1'\n",
	    "t.yml:3:5: an input series needs 'series' (like "
	    "'up{job=\"a\"}')\n");
	load_error("tests:\n- promql_expr_test:\n  - expr: x\n"
	    "    exp_samples: [{labels: 'x{a=\"1\",a=\"2\"}', value: 1}]\n",
	    "t.yml:4:37: labels: label 'a' is repeated\n");
}

/* ---- alert tests ---------------------------------------------------- */

/*
 * What promtool compares: only firing alerts, labels with alertname
 * (added over any given) and annotations, as a set over every rule of
 * that name; an empty label expected is never matched, an empty
 * annotation is.  for and keep_firing_for, checked after the evaluation
 * at or before each eval_time.
 */
static void
test_fixture_alerts(void **state)
{
	struct result	r;

	run_fixture("rt_alerts.test.yml", &r);
	assert_string_equal(r.out,
	    "rt_alerts.test.yml: union of two rules: FAIL\n"
	    "    alert Up at 2m: expected [{alertname=\"Up\", i=\"1\", "
	    "sev=\"page\"} {a=\"v=2 i=1\"}, {alertname=\"Up\", i=\"1\", "
	    "sev=\"ticket\", x=\"\"} {}], got [{alertname=\"Up\", i=\"1\", "
	    "sev=\"page\"} {a=\"v=2 i=1\", empty=\"\"}, {alertname=\"Up\", "
	    "i=\"1\", sev=\"ticket\"} {}]\n"
	    "rt_alerts.test.yml: for and keep_firing_for: FAIL\n"
	    "    alert Held at 7m: expected [{alertname=\"Held\"} {}], got []\n"
	    "2 tests, 0 passed, 2 failed\n");
	assert_string_equal(r.err, "");
	assert_int_equal(r.rc, 1);
	result_free(&r);
}

/* ---- promql_expr_test ----------------------------------------------- */

static void
test_expr_compare(void **state)
{
	struct result	r;

	run_text(
	    "tests:\n"
	    "  - interval: 1m\n"
	    "    input_series:\n"
	    "      - series: 'm{a=\"1\"}'\n"
	    "        values: '0.3 NaN'\n"
	    "      - series: 'n{b=\"1\"}'\n"
	    "        values: '1'\n"
	    "      - series: 'n{b=\"2\"}'\n"
	    "        values: '1'\n"
	    "    promql_expr_test:\n"
	    /* scalars are one sample without labels */
	    "      - expr: 1 + 2\n"
	    "        exp_samples: [{labels: '', value: 3}]\n"
	    "      - expr: time()\n"
	    "        eval_time: 90s\n"
	    "        exp_samples: [{labels: '{}', value: 90}]\n"
	    /* within a relative 1e-12 (promtool: exact, so 0.3 * 3 is
	     * 0.8999999999999999 there); NaN equals NaN (never in promtool) */
	    "      - expr: m * 3\n"
	    "        exp_samples: [{labels: '{a=\"1\"}', value: 0.9}]\n"
	    "      - expr: m\n"
	    "        eval_time: 1m\n"
	    "        exp_samples: [{labels: 'm{a=\"1\"}', value: .NaN}]\n"
	    /* a missing value is 0 */
	    "      - expr: m - m\n"
	    "        exp_samples: [{labels: '{a=\"1\"}'}]\n"
	    /* order does not matter */
	    "      - expr: m or vector(2)\n"
	    "        exp_samples:\n"
	    "          - {labels: '{}', value: 2}\n"
	    "          - {labels: 'm{a=\"1\"}', value: 0x_0}\n"
	    "      - expr: m\n"
	    "        exp_samples: [{labels: 'm{a=\"1\"}', value: 0.3000001}]\n"
	    "      - expr: m\n"
	    "        eval_time: 1m\n"
	    "        exp_samples: [{labels: 'm{a=\"1\"}', value: 1}]\n"
	    "      - expr: vector(1)\n"
	    "        exp_samples: [{labels: 'vector', value: 1}]\n"
	    "      - expr: m * on() n\n", &r);
	assert_string_equal(r.out,
	    "t.yml: #1: FAIL\n"
	    "    expr \"m or vector(2)\" at 0s: expected [{} 2, {__name__="
	    "\"m\", a=\"1\"} 0], got [{} 2, {__name__=\"m\", a=\"1\"} 0.3]\n"
	    "    expr \"m\" at 0s: expected [{__name__=\"m\", a=\"1\"} "
	    "0.3000001], got [{__name__=\"m\", a=\"1\"} 0.3]\n"
	    "    expr \"m\" at 1m: expected [{__name__=\"m\", a=\"1\"} 1], got "
	    "[{__name__=\"m\", a=\"1\"} NaN]\n"
	    "    expr \"vector(1)\" at 0s: expected [{__name__=\"vector\"} 1], "
	    "got [{} 1]\n"
	    "    expr \"m * on() n\" at 0s: error: found duplicate series for "
	    "the match group {} on the right hand-side of the operation: "
	    "[{__name__=\"n\", b=\"2\"}, {__name__=\"n\", b=\"1\"}];"
	    "many-to-many matching not allowed: matching labels must be "
	    "unique on one side\n"
	    "1 tests, 0 passed, 1 failed\n");
	result_free(&r);
}

/* ---- load errors ---------------------------------------------------- */

static void
test_load_errors(void **state)
{
	/* YAML and the file's shape */
	load_error("tests: [\n", "t.yml:2:1: YAML syntax error: did not find "
	    "expected node content while parsing a flow node\n");
	load_error("tests: []\n---\ntests: []\n", "t.yml:2:1: only one YAML "
	    "document is allowed\n");
	load_error("- a\n", "t.yml:1:1: a rule test file must be a mapping, "
	    "got a sequence\n");
	load_error("rule_files: []\nrule_files: []\nfuzzy_compare: true\n",
	    "t.yml:2:1: duplicate key 'rule_files' (first at line 1)\n"
	    "t.yml:3:1: unknown key 'fuzzy_compare' in a rule test file "
	    "(known: rule_files, evaluation_interval, group_eval_order, "
	    "tests)\n");
	load_error("tests: {a: 1}\nrule_files: x\n",
	    "t.yml:2:13: 'rule_files' must be a sequence, got a scalar\n"
	    "t.yml:1:8: 'tests' must be a sequence, got a mapping\n");
	load_error("tests:\n  - interval: 1m\n    bogus: 1\n    name: [a]\n",
	    "t.yml:3:5: unknown key 'bogus' in a test group (known: interval, "
	    "input_series, alert_rule_test, promql_expr_test, "
	    "external_labels, external_url, name)\n"
	    "t.yml:4:11: 'name' expects a string, got a sequence\n");
	load_error("tests:\n  - external_labels: [a]\n    external_url: {}\n",
	    "t.yml:2:22: 'external_labels' must be a mapping, got a "
	    "sequence\n"
	    "t.yml:3:19: 'external_url' expects a string, got a mapping\n");
	load_error("tests:\n  - 5\n", "t.yml:2:5: a test group must be a "
	    "mapping, got a scalar\n");

	/* durations */
	load_error("evaluation_interval: 1minute\ntests:\n  - interval: 10\n"
	    "    promql_expr_test:\n      - {expr: '1', eval_time: -1m}\n",
	    "t.yml:1:22: 'evaluation_interval' expects a duration like 5m or "
	    "1h30m, got \"1minute\" (unknown unit; use ms, s, m, h, d, w or "
	    "y)\n"
	    "t.yml:3:15: 'interval' expects a duration like 5m or 1h30m, got "
	    "\"10\" (no unit; use ms, s, m, h, d, w or y)\n"
	    "t.yml:5:32: 'eval_time' expects a duration like 5m or 1h30m, got "
	    "\"-1m\" (expected a number)\n");
	load_error("evaluation_interval: 1ms\ntests:\n  - promql_expr_test:\n"
	    "      - {expr: '1', eval_time: 1h}\n"
	    "      - {expr: '1', eval_time: 1y}\n"
	    "      - {expr: '1', eval_time: 2m}\n",
	    "t.yml:5:32: eval_time 8760h needs more than 1000000 evaluations "
	    "at an evaluation_interval of 1ms\n");

	/* group_eval_order and rule_files */
	load_error("group_eval_order: [a, b, a, [c]]\n"
	    "rule_files: ['', 'n/x']\n",
	    "t.yml:1:26: group 'a' is repeated in group_eval_order\n"
	    "t.yml:1:29: 'group_eval_order' expects a string, got a "
	    "sequence\n"
	    "t.yml:2:14: empty rule file name\n"
	    "t.yml:2:18: rule file 'n/x' does not exist\n");

	/* alert_rule_test */
	load_error("tests:\n  - alert_rule_test:\n      - eval_time: 1m\n"
	    "      - alertname: ''\n      - {alertname: A, exp_alerts: {}}\n"
	    "      - {alertname: A, exp_alerts: [[]], bogus: 1}\n"
	    "      - {alertname: A, exp_alerts: [{exp_labels: [a], "
	    "exp_annotations: {a: 1, a: 2}}]}\n",
	    "t.yml:3:9: an alert_rule_test entry needs 'alertname'\n"
	    "t.yml:4:20: an alert_rule_test entry needs 'alertname'\n"
	    "t.yml:5:36: 'exp_alerts' must be a sequence, got a mapping\n"
	    "t.yml:6:42: unknown key 'bogus' in an alert_rule_test entry "
	    "(known: eval_time, alertname, exp_alerts)\n"
	    "t.yml:6:37: an exp_alerts entry must be a mapping, got a "
	    "sequence\n"
	    "t.yml:7:50: 'exp_labels' must be a mapping, got a sequence\n"
	    "t.yml:7:79: duplicate key 'a' in 'exp_annotations'\n");

	/* promql_expr_test */
	load_error("tests:\n  - promql_expr_test:\n      - eval_time: 1m\n"
	    "      - expr: ''\n"
	    "      - expr: 'rate(x[5m]'\n"
	    "      - expr: '1'\n"
	    "        exp_samples:\n"
	    "          - {value: NaN}\n"
	    "          - {value: '1'}\n"
	    "          - {value: 1.2.3}\n"
	    "          - {value: [1]}\n"
	    "          - {labels: 'x{', value: 1, other: 2}\n",
	    "t.yml:3:9: a promql_expr_test entry needs 'expr'\n"
	    "t.yml:4:15: a promql_expr_test entry needs 'expr'\n"
	    "t.yml:5:26: invalid expression: unexpected end of input, "
	    "expected \",\" or \")\" in argument list\n"
	    "t.yml:8:21: 'value' expects a number (.inf, -.inf and .nan for "
	    "the special values), got \"NaN\"\n"
	    "t.yml:9:21: 'value' expects a number (.inf, -.inf and .nan for "
	    "the special values), got \"1\"\n"
	    "t.yml:10:21: 'value' expects a number (.inf, -.inf and .nan for "
	    "the special values), got \"1.2.3\"\n"
	    "t.yml:11:21: 'value' expects a number (.inf, -.inf and .nan for "
	    "the special values), got a sequence\n"
	    "t.yml:12:38: unknown key 'other' in an exp_samples entry (known: "
	    "labels, value)\n"
	    "t.yml:12:25: labels: expected a label name or '}'\n");
}

/*
 * A test without interval has its samples evaluation_interval apart (the
 * documented default; promtool 2.42 puts them all at 0s), which is 1m
 * when not given.
 */
static void
test_defaults(void **state)
{
	struct result	r;

	run_text(
	    "evaluation_interval: 30s\n"
	    "tests:\n"
	    "  - input_series:\n"
	    "      - {series: x, values: '1 2 3'}\n"
	    "    promql_expr_test:\n"
	    "      - {expr: x, eval_time: 1m, exp_samples: [{labels: x, "
	    "value: 3}]}\n", &r);
	assert_string_equal(r.out, "t.yml: #1: PASS\n"
	    "1 tests, 1 passed, 0 failed\n");
	result_free(&r);
	run_text(
	    "tests:\n"
	    "  - input_series:\n"
	    "      - {series: x, values: '1 2 3'}\n"
	    "    promql_expr_test:\n"
	    "      - {expr: x, eval_time: 1m, exp_samples: [{labels: x, "
	    "value: 2}]}\n"
	    "      - {expr: x, eval_time: 1m59s, exp_samples: [{labels: x, "
	    "value: 2}]}\n", &r);
	assert_string_equal(r.out, "t.yml: #1: PASS\n"
	    "1 tests, 1 passed, 0 failed\n");
	result_free(&r);
}

static void
test_empty_and_missing(void **state)
{
	const char	*files[1] = { "no-such.test.yml" };
	struct result	 r;

	run_text("", &r);
	assert_string_equal(r.out, "0 tests, 0 passed, 0 failed\n");
	assert_int_equal(r.rc, 0);
	result_free(&r);
	run_text("tests:\n  - {}\n  - name: ''\n", &r);
	assert_string_equal(r.out, "t.yml: #1: PASS\nt.yml: #2: PASS\n"
	    "2 tests, 2 passed, 0 failed\n");
	result_free(&r);

	run_in(tmpdir, files, 1, &r);
	assert_string_equal(r.err, "no-such.test.yml:1:1: cannot open: No "
	    "such file or directory\n");
	assert_int_equal(r.rc, 2);
	result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_pass),
		cmocka_unit_test(test_fixture_fail),
		cmocka_unit_test(test_fixture_eval_error),
		cmocka_unit_test(test_fixture_order_and_globs),
		cmocka_unit_test(test_fixture_load_errors),
		cmocka_unit_test(test_many_files),
		cmocka_unit_test(test_notation),
		cmocka_unit_test(test_notation_errors),
		cmocka_unit_test(test_series_selectors),
		cmocka_unit_test(test_series_selector_errors),
		cmocka_unit_test(test_fixture_alerts),
		cmocka_unit_test(test_expr_compare),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_and_missing),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
