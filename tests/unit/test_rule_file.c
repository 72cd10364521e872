/*
 * Rule files: good files (alerting and recording rules, groups with
 * intervals and limits), every load error with its exact
 * "t.yaml:LINE:COL: message", expression and template errors located
 * inside their scalars, Prometheus durations, and template expansion.
 *
 * The expression parser is faked below so this module is tested on its
 * own: any text parses, except one containing "@@", which fails at the
 * offset of the "@@"; "[DURATION]" sets the lookback.
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
#include <unistd.h>

#include <cmocka.h>

#include "daemon/netprobed.h"
#include "rules/expr.h"
#include "rules/rule_file.h"

/* ---- the fake expression parser ------------------------------------ */

struct rl_expr {
	int64_t	lookback_ms;
};

struct rl_expr *
rl_expr_parse(const char *text, size_t *err_offset, char *err, size_t errlen)
{
	struct rl_expr	*e;
	const char	*p, *q, *why;
	char		 buf[32];
	uint64_t	 ms;

	if ((p = strstr(text, "@@")) != NULL) {
		*err_offset = (size_t)(p - text);
		snprintf(err, errlen, "unexpected character '@'");
		return (NULL);
	}
	e = calloc(1, sizeof(*e));
	assert_non_null(e);
	if ((p = strchr(text, '[')) != NULL && (q = strchr(p, ']')) != NULL &&
	    (size_t)(q - p) < sizeof(buf)) {
		memcpy(buf, p + 1, (size_t)(q - p - 1));
		buf[q - p - 1] = '\0';
		if (rule_parse_duration(buf, &ms, &why) == 0)
			e->lookback_ms = (int64_t)ms;
	}
	return (e);
}

void
rl_expr_free(struct rl_expr *e)
{
	free(e);
}

int64_t
rl_expr_lookback_ms(const struct rl_expr *e)
{
	return (e->lookback_ms);
}

/* ---- helpers ------------------------------------------------------- */

#define NAME	"t.yaml"

static struct rule_file *
load(const char *text, struct cfg_errors *errs)
{
	return (rule_file_load_string(NAME, text, strlen(text), errs));
}

/* Loading text fails with exactly this one error. */
static void
expect_error(const char *text, const char *want)
{
	struct cfg_errors	 errs;
	struct rule_file	*rf;
	size_t			 i;

	rf = load(text, &errs);
	if (rf != NULL || errs.n != 1 || strcmp(errs.msg[0], want) != 0) {
		fprintf(stderr, "text:\n%s\nwant: %s\n", text, want);
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "got:  %s\n", errs.msg[i]);
	}
	assert_null(rf);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], want);
	cfg_errors_free(&errs);
}

static struct rule_file *
load_ok(const char *text)
{
	struct cfg_errors	 errs;
	struct rule_file	*rf;
	size_t			 i;

	rf = load(text, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "unexpected: %s\n", errs.msg[i]);
	assert_int_equal(errs.n, 0);
	assert_non_null(rf);
	return (rf);
}

/* Expand a one-template string with these labels and value. */
static char *
expand(const char *tmpl, const struct np_labels *l, double v)
{
	struct rule_template	*t;
	char			 err[256], *out;
	size_t			 off;

	t = rule_template_compile(tmpl, &off, err, sizeof(err));
	if (t == NULL)
		fprintf(stderr, "%s: %s at %zu\n", tmpl, err, off);
	assert_non_null(t);
	assert_string_equal(rule_template_text(t), tmpl);
	out = rule_template_expand(t, l, v);
	rule_template_free(t);
	return (out);
}

static void
expect_expand(const char *tmpl, const struct np_labels *l, double v,
    const char *want)
{
	char	*got = expand(tmpl, l, v);

	assert_string_equal(got, want);
	free(got);
}

/* ---- good files ---------------------------------------------------- */

static const char good[] =
    "groups:\n"
    "  - name: reachability\n"
    "    interval: 15s\n"
    "    limit: 10\n"
    "    rules:\n"
    "      - record: probe:success:avg5m\n"
    "        expr: avg_over_time(probe_success[5m])\n"
    "        labels:\n"
    "          tier: gateway\n"
    "      - alert: ExtranetDown\n"
    "        expr: probe:success:avg5m{probe=\"egov\"} < 0.5\n"
    "        for: 2m\n"
    "        keep_firing_for: 10m\n"
    "        labels:\n"
    "          severity: critical\n"
    "          target: '{{ $labels.target }}'\n"
    "        annotations:\n"
    "          summary: \"{{ $labels.probe }} down\"\n"
    "          description: >\n"
    "            Success ratio {{ humanizePercentage $value }}\n"
    "  - name: slow\n"
    "    interval: 1d\n"
    "    rules:\n"
    "      - alert: MCUUnreachable\n"
    "        expr: |\n"
    "          max_over_time(probe_success{probe=\"mcu\"}[1h]) == 0\n"
    "  - name: weekly\n"
    "    interval: 1y2w\n"
    "  - name: empty\n"
    "    rules:\n";

static void
test_good_file(void **state)
{
	struct rule_file	*rf = load_ok(good);
	const struct rule_group	*g;
	const struct rule	*r;
	struct np_label		 lv[] = { { (char *)"probe", (char *)"egov" },
				    { (char *)"target", (char *)"10.1.1.1" } };
	struct np_labels	 l = { lv, 2 };
	char			*s;

	assert_string_equal(rf->path, NAME);
	assert_int_equal(rf->ngroups, 4);
	assert_int_equal(rf->max_lookback_ms, 3600000);

	g = &rf->groups[0];
	assert_string_equal(g->name, "reachability");
	assert_int_equal(g->interval_ms, 15000);
	assert_int_equal(g->limit, 10);
	assert_int_equal(g->line, 2);
	assert_int_equal(g->nrules, 2);

	r = &g->rules[0];
	assert_int_equal(r->kind, RULE_RECORDING);
	assert_string_equal(r->name, "probe:success:avg5m");
	assert_string_equal(r->expr_text, "avg_over_time(probe_success[5m])");
	assert_non_null(r->expr);
	assert_int_equal(r->line, 6);
	assert_int_equal(r->for_ms, 0);
	assert_int_equal(r->labels.n, 1);
	assert_string_equal(r->labels.v[0].name, "tier");
	assert_string_equal(rule_template_text(r->labels.v[0].tmpl),
	    "gateway");
	assert_int_equal(r->annotations.n, 0);

	r = &g->rules[1];
	assert_int_equal(r->kind, RULE_ALERTING);
	assert_string_equal(r->name, "ExtranetDown");
	assert_int_equal(r->for_ms, 120000);
	assert_int_equal(r->keep_firing_for_ms, 600000);
	assert_int_equal(r->line, 10);
	/* sorted by name */
	assert_int_equal(r->labels.n, 2);
	assert_string_equal(r->labels.v[0].name, "severity");
	assert_string_equal(r->labels.v[1].name, "target");
	s = rule_template_expand(r->labels.v[1].tmpl, &l, 0);
	assert_string_equal(s, "10.1.1.1");
	free(s);
	assert_int_equal(r->annotations.n, 2);
	assert_string_equal(r->annotations.v[0].name, "description");
	s = rule_template_expand(r->annotations.v[0].tmpl, &l, 0.25);
	assert_string_equal(s, "Success ratio 25%\n");
	free(s);
	assert_string_equal(r->annotations.v[1].name, "summary");
	s = rule_template_expand(r->annotations.v[1].tmpl, &l, 0.25);
	assert_string_equal(s, "egov down");
	free(s);

	g = &rf->groups[1];
	assert_string_equal(g->name, "slow");
	assert_int_equal(g->interval_ms, 86400000);
	assert_int_equal(g->limit, 0);
	assert_int_equal(g->nrules, 1);
	r = &g->rules[0];
	assert_string_equal(r->expr_text,
	    "max_over_time(probe_success{probe=\"mcu\"}[1h]) == 0\n");
	assert_int_equal(r->for_ms, 0);
	assert_int_equal(r->keep_firing_for_ms, 0);
	assert_int_equal(r->labels.n, 0);

	assert_string_equal(rf->groups[2].name, "weekly");
	assert_int_equal(rf->groups[2].interval_ms,
	    (365 + 14) * 86400000ULL);
	assert_int_equal(rf->groups[2].nrules, 0);
	assert_string_equal(rf->groups[3].name, "empty");
	assert_int_equal(rf->groups[3].interval_ms, 0);
	assert_int_equal(rf->groups[3].nrules, 0);
	rule_file_free(rf);
}

static void
test_empty_files(void **state)
{
	struct rule_file	*rf;

	rf = load_ok("");
	assert_int_equal(rf->ngroups, 0);
	assert_int_equal(rf->max_lookback_ms, 0);
	rule_file_free(rf);
	rf = load_ok("# only a comment\n");
	assert_int_equal(rf->ngroups, 0);
	rule_file_free(rf);
	rf = load_ok("groups:\n");
	assert_int_equal(rf->ngroups, 0);
	rule_file_free(rf);
	rf = load_ok("groups: []\n");
	assert_int_equal(rf->ngroups, 0);
	rule_file_free(rf);
	rule_file_free(NULL);
}

static void
test_file_io(void **state)
{
	char			 path[] = "/tmp/test_rule_file.XXXXXX";
	struct cfg_errors	 errs;
	struct rule_file	*rf;
	FILE			*f;
	int			 fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(good, f);
	fclose(f);
	rf = rule_file_load(path, &errs);
	assert_non_null(rf);
	assert_int_equal(errs.n, 0);
	assert_string_equal(rf->path, path);
	assert_int_equal(rf->ngroups, 4);
	rule_file_free(rf);

	/* the same file broken: errors carry its path */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("groups:\n  - name: a\n    rules:\n      - alert: x\n", f);
	fclose(f);
	rf = rule_file_load(path, &errs);
	assert_null(rf);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msg[0], ":4:9: rule 'x' has no 'expr'"));
	assert_int_equal(strncmp(errs.msg[0], path, strlen(path)), 0);
	cfg_errors_free(&errs);
	unlink(path);

	rf = rule_file_load("/nonexistent/rules.yml", &errs);
	assert_null(rf);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "/nonexistent/rules.yml:1:1: "
	    "cannot open: No such file or directory");
	cfg_errors_free(&errs);
}

/* ---- structural errors --------------------------------------------- */

static void
test_errors_structure(void **state)
{
	expect_error("- a\n", "t.yaml:1:1: a rule file must be a mapping "
	    "with 'groups', got a sequence");
	expect_error("grups: []\n", "t.yaml:1:1: unknown key 'grups' in the "
	    "rule file (known: groups)");
	expect_error("groups: 3\n", "t.yaml:1:9: 'groups' must be a sequence "
	    "of rule groups, got a scalar");
	expect_error("groups:\n  - x\n", "t.yaml:2:5: a group must be a "
	    "mapping, got a scalar");
	expect_error("groups:\n  - rules: []\n", "t.yaml:2:5: a group needs "
	    "a 'name'");
	expect_error("groups:\n  - name:\n", "t.yaml:2:10: 'name' expects a "
	    "group name, got no value");
	expect_error("groups:\n  - name: a\n  - name: b\n  - name: a\n",
	    "t.yaml:4:11: duplicate group name 'a' (first at line 2)");
	expect_error("groups:\n  - name: a\n    intervall: 1m\n",
	    "t.yaml:3:5: unknown key 'intervall' in a group (known: name, "
	    "interval, limit, rules)");
	expect_error("groups:\n  - name: a\n    name: b\n",
	    "t.yaml:3:5: duplicate key 'name' (first at line 2)");
	expect_error("groups:\n  - name: a\n    interval: 1.5m\n",
	    "t.yaml:3:15: 'interval' expects a duration like 5m or 1h30m, "
	    "got \"1.5m\" (unknown unit; use ms, s, m, h, d, w or y)");
	expect_error("groups:\n  - name: a\n    interval: 30\n",
	    "t.yaml:3:15: 'interval' expects a duration like 5m or 1h30m, "
	    "got \"30\" (no unit; use ms, s, m, h, d, w or y)");
	expect_error("groups:\n  - name: a\n    limit: -1\n",
	    "t.yaml:3:12: 'limit' expects a whole number, got \"-1\"");
	expect_error("groups:\n  - name: a\n    rules: {}\n",
	    "t.yaml:3:12: 'rules' must be a sequence of rules, got a "
	    "mapping");
	expect_error("groups:\n  - name: a\n    rules:\n      - up\n",
	    "t.yaml:4:9: a rule must be a mapping, got a scalar");
	expect_error("groups: [{name: a, rules: [{}]}]\n",
	    "t.yaml:1:28: a rule needs 'alert' (an alerting rule) or "
	    "'record' (a recording rule)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        record: b\n        expr: up\n",
	    "t.yaml:4:9: a rule has either 'alert' or 'record', not both");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        fore: 5m\n",
	    "t.yaml:6:9: unknown key 'fore' in a rule (known: record, alert, "
	    "expr, for, keep_firing_for, labels, annotations)");
	expect_error("groups:\n  - name: a\n    rules:\n      - alert: A\n",
	    "t.yaml:4:9: rule 'A' has no 'expr'");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr:\n",
	    "t.yaml:5:14: 'expr' expects a PromQL expression, got no value");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: [up]\n",
	    "t.yaml:5:15: 'expr' expects a PromQL expression, got a "
	    "sequence");
	/* a syntax error, and a second document */
	expect_error("groups:\n  - name: [a\n",
	    "t.yaml:3:1: YAML syntax error: did not find expected ',' or ']' "
	    "while parsing a flow sequence (started at line 2, column 11)");
	expect_error("groups: []\n---\ngroups: []\n",
	    "t.yaml:2:1: only one YAML document is allowed");
}

static void
test_errors_rules(void **state)
{
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: Extranet-Down\n        expr: up\n",
	    "t.yaml:4:16: invalid alert name 'Extranet-Down' (letters, digits "
	    "and '_', not starting with a digit)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: a:b\n        expr: up\n",
	    "t.yaml:4:16: invalid alert name 'a:b' (letters, digits and '_', "
	    "not starting with a digit)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - record: 1job:up\n        expr: up\n",
	    "t.yaml:4:17: invalid metric name '1job:up' for 'record' "
	    "(letters, digits, '_' and ':', not starting with a digit)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - record: r\n        expr: up\n        for: 5m\n",
	    "t.yaml:6:9: 'for' is only valid in an alerting rule");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - record: r\n        expr: up\n        keep_firing_for: 5m\n",
	    "t.yaml:6:9: 'keep_firing_for' is only valid in an alerting rule");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - record: r\n        expr: up\n        annotations: {}\n",
	    "t.yaml:6:9: 'annotations' is only valid in an alerting rule");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        for: 5mins\n",
	    "t.yaml:6:14: 'for' expects a duration like 5m or 1h30m, got "
	    "\"5mins\" (unknown unit; use ms, s, m, h, d, w or y)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        keep_firing_for: 1s1m\n",
	    "t.yaml:6:26: 'keep_firing_for' expects a duration like 5m or "
	    "1h30m, got \"1s1m\" (units out of order or repeated)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        labels: [a]\n",
	    "t.yaml:6:17: 'labels' must be a mapping, got a sequence");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        labels:\n"
	    "          9lives: x\n",
	    "t.yaml:7:11: invalid label name '9lives' (letters, digits and "
	    "'_', not starting with a digit or '__')");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        labels:\n"
	    "          __name__: x\n",
	    "t.yaml:7:11: invalid label name '__name__' (letters, digits and "
	    "'_', not starting with a digit or '__')");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        labels:\n"
	    "          alertname: x\n",
	    "t.yaml:7:11: label 'alertname' is set by the alerting rule "
	    "itself");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        labels:\n"
	    "          a: x\n          a: y\n",
	    "t.yaml:8:11: duplicate key 'a' in 'labels'");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        annotations:\n"
	    "          summary: {a: b}\n",
	    "t.yaml:7:20: 'summary' expects a string value, got a mapping");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        annotations:\n"
	    "          sum-mary: x\n",
	    "t.yaml:7:11: invalid annotation name 'sum-mary' (letters, digits "
	    "and '_', not starting with a digit or '__')");
}

/* Expression errors point inside the expression. */
static void
test_errors_expr(void **state)
{
	/* plain, one line: the exact column */
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up == @@ 1\n",
	    "t.yaml:5:21: invalid expression: unexpected character '@'");
	/* columns count characters, not bytes */
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up{x=\"\xc3\xa9\xc3\xa9\"} @@\n",
	    "t.yaml:5:26: invalid expression: unexpected character '@'");
	/* quoted: the scalar, and the offset */
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: \"up == @@ 1\"\n",
	    "t.yaml:5:15: invalid expression: unexpected character '@' (at "
	    "offset 6 in the expression)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: 'up @@'\n",
	    "t.yaml:5:15: invalid expression: unexpected character '@' (at "
	    "offset 3 in the expression)");
	/* literal block */
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: |\n          up\n"
	    "            == @@\n",
	    "t.yaml:5:15: invalid expression: unexpected character '@' (at "
	    "offset 8 in the expression)");
	/* plain over two lines is folded: not exact either */
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n          == @@\n",
	    "t.yaml:5:15: invalid expression: unexpected character '@' (at "
	    "offset 6 in the expression)");
	/* a recording rule too */
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - record: r\n        expr: \"@@\"\n",
	    "t.yaml:5:15: invalid expression: unexpected character '@' (at "
	    "offset 0 in the expression)");
}

static void
test_errors_template(void **state)
{
	struct rule_file	*rf;
	char			*s;

	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        annotations:\n"
	    "          summary: down {{ .Foo }}\n",
	    "t.yaml:7:25: 'summary': unsupported template action '{{ .Foo }}' "
	    "(supported: $value, $labels.NAME, humanize, humanizeDuration, "
	    "humanizePercentage)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        annotations:\n"
	    "          summary: \"down {{ $labels.probe\"\n",
	    "t.yaml:7:20: 'summary': unclosed action (no '}}') (at offset 5 "
	    "in the template)");
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        labels:\n"
	    "          sev: '{{ if $value }}page{{ end }}'\n",
	    "t.yaml:7:16: 'sev': unsupported template action "
	    "'{{ if $value }}' (supported: $value, $labels.NAME, humanize, "
	    "humanizeDuration, humanizePercentage) (at offset 0 in the "
	    "template)");
	/* a recording rule's labels are literal text, not templates */
	rf = load_ok("groups:\n  - name: a\n    rules:\n"
	    "      - record: r\n        expr: up\n        labels:\n"
	    "          sev: x {{ $labels.a-b }}\n");
	s = rule_template_expand(rf->groups[0].rules[0].labels.v[0].tmpl,
	    NULL, 1);
	assert_string_equal(s, "x {{ $labels.a-b }}");
	free(s);
	rule_file_free(rf);
	expect_error("groups:\n  - name: a\n    rules:\n"
	    "      - alert: A\n        expr: up\n        labels:\n"
	    "          sev: x {{ $labels.a-b }}\n",
	    "t.yaml:7:18: 'sev': unsupported template action "
	    "'{{ $labels.a-b }}' (supported: $value, $labels.NAME, humanize, "
	    "humanizeDuration, humanizePercentage)");
}

/* Every error of a file is reported in one go, and nothing is returned. */
static void
test_errors_collected(void **state)
{
	static const char text[] =
	    "groups:\n"
	    "  - name: a\n"
	    "    interval: soon\n"
	    "    rules:\n"
	    "      - alert: A\n"
	    "        expr: up @@\n"
	    "      - record: ok:rule\n"
	    "        expr: up\n"
	    "      - record: r\n"
	    "  - name: a\n";
	struct cfg_errors	 errs;
	struct rule_file	*rf;

	rf = load(text, &errs);
	assert_null(rf);
	assert_int_equal(errs.n, 4);
	assert_string_equal(errs.msg[0], "t.yaml:3:15: 'interval' expects a "
	    "duration like 5m or 1h30m, got \"soon\" (expected a number)");
	assert_string_equal(errs.msg[1], "t.yaml:6:18: invalid expression: "
	    "unexpected character '@'");
	assert_string_equal(errs.msg[2], "t.yaml:9:9: rule 'r' has no "
	    "'expr'");
	assert_string_equal(errs.msg[3], "t.yaml:10:11: duplicate group name "
	    "'a' (first at line 2)");
	cfg_errors_free(&errs);
}

/* ---- durations ----------------------------------------------------- */

static void
test_durations(void **state)
{
	static const struct { const char *s; uint64_t ms; } ok[] = {
		{ "0", 0 }, { "0s", 0 }, { "500ms", 500 }, { "15s", 15000 },
		{ "1m30s", 90000 }, { "2h", 7200000 }, { "1d", 86400000 },
		{ "1w", 604800000 }, { "1y", 31536000000ULL },
		{ "1y2w3d4h5m6s7ms", 31536000000ULL + 2 * 604800000ULL +
		    3 * 86400000ULL + 4 * 3600000ULL + 5 * 60000ULL + 6007 },
		{ "90m", 5400000 },
	};
	static const struct { const char *s, *why; } bad[] = {
		{ "", "empty duration" },
		{ "5", "no unit; use ms, s, m, h, d, w or y" },
		{ "m", "expected a number" },
		{ "-5m", "expected a number" },
		{ "1.5h", "unknown unit; use ms, s, m, h, d, w or y" },
		{ "5M", "unknown unit; use ms, s, m, h, d, w or y" },
		{ "1s1m", "units out of order or repeated" },
		{ "1m1m", "units out of order or repeated" },
		{ "1ms1s", "units out of order or repeated" },
		{ "5m ", "unknown unit; use ms, s, m, h, d, w or y" },
		{ "300y", "duration too long" },
		{ "99999999999999999999999s", "duration too long" },
	};
	const char	*why;
	uint64_t	 ms;
	size_t		 i;

	for (i = 0; i < NP_NELEM(ok); i++) {
		ms = 1;
		assert_int_equal(rule_parse_duration(ok[i].s, &ms, &why), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (i = 0; i < NP_NELEM(bad); i++) {
		why = NULL;
		assert_int_equal(rule_parse_duration(bad[i].s, &ms, &why), -1);
		assert_string_equal(why, bad[i].why);
	}
	/* the largest Prometheus accepts (int64 ns, ~292 years) */
	assert_int_equal(rule_parse_duration("292y", &ms, &why), 0);
}

/* ---- templates ----------------------------------------------------- */

static void
test_template_expand(void **state)
{
	struct np_label		 lv[] = {
		{ (char *)"__name__", (char *)"probe_success" },
		{ (char *)"probe", (char *)"egov" },
		{ (char *)"target", (char *)"10.0.0.1:443" },
	};
	struct np_labels	 l = { lv, NP_NELEM(lv) };

	expect_expand("", &l, 1, "");
	expect_expand("plain text } { }} no action", &l, 1,
	    "plain text } { }} no action");
	expect_expand("{{ $value }}", &l, 1, "1");
	expect_expand("{{$value}}", &l, 0.5, "0.5");
	expect_expand("{{ .Value }}", &l, -3, "-3");
	/* format_double: shortest round trip, like the /metrics output */
	expect_expand("{{ $value }}", &l, 0.1, "0.1");
	expect_expand("{{ $value }}", &l, 1e20, "1e+20");
	expect_expand("{{ $value }}", &l, NAN, "NaN");
	expect_expand("{{ $value }}", &l, INFINITY, "+Inf");
	expect_expand("{{ $labels.probe }} via {{ .Labels.target }}", &l, 0,
	    "egov via 10.0.0.1:443");
	expect_expand("{{ $labels.__name__ }}", &l, 0, "probe_success");
	/* Prometheus' $labels is a map[string]string: missing is "" */
	expect_expand("[{{ $labels.nothere }}]", &l, 0, "[]");
	expect_expand("[{{ $labels.probe }}]", NULL, 0, "[]");
	/* trim markers */
	expect_expand("a  {{- $value -}}  \n b", &l, 7, "a7b");
	expect_expand("a {{- $value }} b", &l, 7, "a7 b");
}

static void
test_template_humanize(void **state)
{
	expect_expand("{{ humanize $value }}", NULL, 1234567, "1.235M");
	expect_expand("{{ $value | humanize }}", NULL, 1234, "1.234k");
	expect_expand("{{ humanize $value }}", NULL, 999, "999");
	expect_expand("{{ humanize $value }}", NULL, 0, "0");
	expect_expand("{{ humanize $value }}", NULL, 0.00123, "1.23m");
	expect_expand("{{ humanize .Value }}", NULL, -2500000000.0, "-2.5G");
	expect_expand("{{ humanize $value }}", NULL, INFINITY, "+Inf");
	expect_expand("{{ humanizeDuration $value }}", NULL, NAN, "NaN");
	expect_expand("{{ humanizeDuration $value }}", NULL, 90061,
	    "1d 1h 1m 1s");
	expect_expand("{{ humanizeDuration $value }}", NULL, 3725,
	    "1h 2m 5s");
	expect_expand("{{ humanizeDuration $value }}", NULL, 125, "2m 5s");
	expect_expand("{{ humanizeDuration $value }}", NULL, 59.5, "59.5s");
	expect_expand("{{ humanizeDuration $value }}", NULL, 0, "0s");
	expect_expand("{{ humanizeDuration $value }}", NULL, 0.5, "500ms");
	expect_expand("{{ $value | humanizeDuration }}", NULL, 0.0000015,
	    "1.5us");
	expect_expand("{{ humanizeDuration $value }}", NULL, -90, "-1m 30s");
	expect_expand("{{ humanizePercentage $value }}", NULL, 0.1234,
	    "12.34%");
	expect_expand("{{ $value | humanizePercentage }}", NULL, 1, "100%");
}

static void
test_template_errors(void **state)
{
	static const struct { const char *t; size_t off; const char *msg; }
	    bad[] = {
		{ "{{", 0, "unclosed action (no '}}')" },
		{ "ab {{ $value }} {{ $value", 16,
		    "unclosed action (no '}}')" },
		{ "{{ }}", 0, "unsupported template action '{{  }}' "
		    "(supported: $value, $labels.NAME, humanize, "
		    "humanizeDuration, humanizePercentage)" },
		{ "x{{ $labels }}", 1, NULL },
		{ "x{{ $labels. }}", 1, NULL },
		{ "{{ $labels.a.b }}", 0, NULL },
		{ "{{ printf \"%s\" $value }}", 0, NULL },
		{ "{{ humanize }}", 0, NULL },
		{ "{{ humanize 3 }}", 0, NULL },
		{ "{{ $value | printf }}", 0, NULL },
		{ "{{ template \"x\" }}", 0, NULL },
		{ "{{ $value }}{{ $v }}", 12, NULL },
		/* Go wants a space after "{{-": "{{-3}}" is the number -3 */
		{ "a {{-$value}} b", 2, NULL },
	};
	struct rule_template	*t;
	char			 err[256];
	size_t			 i, off;

	for (i = 0; i < NP_NELEM(bad); i++) {
		off = 999;
		err[0] = '\0';
		t = rule_template_compile(bad[i].t, &off, err, sizeof(err));
		if (t != NULL)
			fprintf(stderr, "accepted: %s\n", bad[i].t);
		assert_null(t);
		assert_int_equal(off, bad[i].off);
		if (bad[i].msg != NULL)
			assert_string_equal(err, bad[i].msg);
		else
			assert_non_null(strstr(err, "unsupported template "
			    "action"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_empty_files),
		cmocka_unit_test(test_file_io),
		cmocka_unit_test(test_errors_structure),
		cmocka_unit_test(test_errors_rules),
		cmocka_unit_test(test_errors_expr),
		cmocka_unit_test(test_errors_template),
		cmocka_unit_test(test_errors_collected),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_template_expand),
		cmocka_unit_test(test_template_humanize),
		cmocka_unit_test(test_template_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
