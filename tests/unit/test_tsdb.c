/*
 * The rules' history and group evaluation: windows, snapshots and
 * staleness markers, retention, selection by name and by regex, and
 * groups writing recording-rule and ALERTS series back with staleness,
 * failures, limits and state carried across a reload.  Real parser and
 * evaluator throughout: what is asserted is what a rule would see.
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

#include "daemon/netprobed.h"
#include "rules/group.h"
#include "rules/labels.h"
#include "rules/tsdb.h"

#define S	1000LL
#define MIN	(60 * S)
#define T0	1700000000000LL

/* name{a="x",...}: a label set from alternating name/value strings. */
static struct np_labels
mk(const char *name, ...)
{
	struct np_labels	 l = { NULL, 0 };
	const char		*k, *v;
	va_list			 ap;

	rl_labels_set(&l, "__name__", name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		rl_labels_set(&l, k, v);
	}
	va_end(ap);
	return (l);
}

static void
put(struct tsdb *db, struct np_labels l, int64_t t, double v)
{
	tsdb_append(db, tsdb_series_get(db, &l, NULL), t, v);
	rl_labels_free(&l);
}

/*
 * Evaluate expr at t and print the result as "{labels} v;..." sorted,
 * or "scalar v", or "error: ...".
 */
static char *
q(struct tsdb *db, const char *expr, int64_t t)
{
	static char		 out[4096];
	struct rl_source	 src;
	struct rl_expr		*e;
	struct rl_value		 v;
	char			 err[256], lab[512];
	size_t			 off, i, o = 0;

	e = rl_expr_parse(expr, &off, err, sizeof(err));
	if (e == NULL)
		fail_msg("parse %s: %s", expr, err);
	tsdb_source(db, &src);
	if (rl_expr_eval(e, &src, t, &v, err, sizeof(err)) != 0) {
		snprintf(out, sizeof(out), "error: %s", err);
		rl_expr_free(e);
		return (out);
	}
	out[0] = '\0';
	if (v.type == RL_SCALAR)
		snprintf(out, sizeof(out), "scalar %g", v.scalar);
	for (i = 0; v.type == RL_VECTOR && i < v.n; i++) {
		rl_labels_string(&v.samples[i].labels, lab, sizeof(lab));
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s %g",
		    i ? ";" : "", lab, v.samples[i].v);
	}
	rl_value_free(&v);
	rl_expr_free(e);
	return (out);
}

static void
test_windows(void **state)
{
	struct tsdb	*db = tsdb_new();

	(void)state;
	put(db, mk("m", "a", "1", NULL), T0, 1);
	put(db, mk("m", "a", "1", NULL), T0 + 10 * S, 2);
	put(db, mk("m", "a", "1", NULL), T0 + 20 * S, 3);
	/* same time replaces, older is ignored */
	put(db, mk("m", "a", "1", NULL), T0 + 20 * S, 4);
	put(db, mk("m", "a", "1", NULL), T0 + 5 * S, 99);
	assert_int_equal(tsdb_nseries(db), 1);
	assert_int_equal(tsdb_npoints(db), 3);
	assert_string_equal(q(db, "m", T0 + 20 * S), "{__name__=\"m\", a=\"1\"} 4");
	/* windows are [t - range, t], as in Prometheus 2.x */
	assert_string_equal(q(db, "count_over_time(m[9999ms])", T0 + 20 * S),
	    "{a=\"1\"} 1");
	assert_string_equal(q(db, "count_over_time(m[10s])", T0 + 20 * S),
	    "{a=\"1\"} 2");
	assert_string_equal(q(db, "m offset 10s", T0 + 20 * S),
	    "{__name__=\"m\", a=\"1\"} 2");
	/* instant selectors look back 5 minutes */
	assert_string_equal(q(db, "m", T0 + 20 * S + 5 * MIN),
	    "{__name__=\"m\", a=\"1\"} 4");
	assert_string_equal(q(db, "m", T0 + 20 * S + 5 * MIN + 1), "");
	tsdb_free(db);
}

static void
test_select(void **state)
{
	struct tsdb	*db = tsdb_new();

	(void)state;
	put(db, mk("up", "job", "a", NULL), T0, 1);
	put(db, mk("up", "job", "b", NULL), T0, 0);
	put(db, mk("down", "job", "a", NULL), T0, 7);
	assert_string_equal(q(db, "up{job!=\"a\"}", T0),
	    "{__name__=\"up\", job=\"b\"} 0");
	assert_string_equal(q(db, "sum({__name__=~\"up|down\", job=\"a\"})",
	    T0), "{} 8");
	assert_string_equal(q(db, "{__name__=~\"d.*\"}", T0),
	    "{__name__=\"down\", job=\"a\"} 7");
	assert_string_equal(q(db, "nothing", T0), "");
	assert_string_equal(q(db, "absent(nothing{job=\"x\"})", T0),
	    "{job=\"x\"} 1");
	tsdb_free(db);
}

static void
test_snapshot_staleness(void **state)
{
	struct tsdb		*db = tsdb_new();
	struct np_labels	 a = mk("g", "t", "a", NULL);
	struct np_labels	 b = mk("g", "t", "b", NULL);

	(void)state;
	tsdb_begin(db, T0);
	tsdb_append(db, tsdb_series_get(db, &a, "g{t=\"a\"}"), T0, 1);
	tsdb_append(db, tsdb_series_get(db, &b, "g{t=\"b\"}"), T0, 2);
	tsdb_commit(db);
	/* b went away from the store: stale at once, not 5 minutes later */
	tsdb_begin(db, T0 + 10 * S);
	tsdb_append(db, tsdb_alias(db, "g{t=\"a\"}"), T0 + 10 * S, 1);
	tsdb_commit(db);
	assert_string_equal(q(db, "g", T0 + 10 * S),
	    "{__name__=\"g\", t=\"a\"} 1");
	assert_string_equal(q(db, "g offset 10s", T0 + 10 * S),
	    "{__name__=\"g\", t=\"a\"} 1;{__name__=\"g\", t=\"b\"} 2");
	/* ranges skip the marker; absent_over_time still sees b's point */
	assert_string_equal(q(db, "count_over_time(g{t=\"b\"}[1m])",
	    T0 + 10 * S), "{t=\"b\"} 1");
	assert_string_equal(q(db, "absent_over_time(g{t=\"b\"}[1m])",
	    T0 + 10 * S), "");
	/* one marker only, and it comes back when the series does */
	tsdb_begin(db, T0 + 20 * S);
	tsdb_append(db, tsdb_alias(db, "g{t=\"a\"}"), T0 + 20 * S, 1);
	tsdb_commit(db);
	assert_int_equal(tsdb_npoints(db), 5);
	tsdb_begin(db, T0 + 30 * S);
	tsdb_append(db, tsdb_alias(db, "g{t=\"a\"}"), T0 + 30 * S, 1);
	tsdb_append(db, tsdb_alias(db, "g{t=\"b\"}"), T0 + 30 * S, 5);
	tsdb_commit(db);
	assert_string_equal(q(db, "g", T0 + 30 * S),
	    "{__name__=\"g\", t=\"a\"} 1;{__name__=\"g\", t=\"b\"} 5");
	/* a plain NaN value is a value, not a marker */
	tsdb_begin(db, T0 + 40 * S);
	tsdb_append(db, tsdb_alias(db, "g{t=\"a\"}"), T0 + 40 * S, NAN);
	tsdb_append(db, tsdb_alias(db, "g{t=\"b\"}"), T0 + 40 * S, 5);
	tsdb_commit(db);
	assert_string_equal(q(db, "g{t=\"a\"}", T0 + 40 * S),
	    "{__name__=\"g\", t=\"a\"} nan");
	rl_labels_free(&a);
	rl_labels_free(&b);
	tsdb_free(db);
}

static void
test_gc(void **state)
{
	struct tsdb		*db = tsdb_new();
	struct np_labels	 a = mk("g", "t", "a", NULL);
	int64_t			 t;

	(void)state;
	tsdb_set_retention(db, 5 * MIN);
	assert_int_equal(tsdb_retention(db), 5 * MIN);
	for (t = 0; t < 600; t++) {
		tsdb_begin(db, T0 + t * S);
		if (t < 100)
			tsdb_append(db, tsdb_series_get(db, &a, "A"),
			    T0 + t * S, (double)t);
		put(db, mk("h", NULL), T0 + t * S, (double)t);
		tsdb_commit(db);
		tsdb_gc(db, T0 + t * S);
	}
	/* h keeps 5 minutes of 1 s points; g went stale and was dropped */
	assert_int_equal(tsdb_nseries(db), 1);
	assert_int_equal(tsdb_npoints(db), 301);	/* [t - 5m, t] */
	assert_null(tsdb_alias(db, "A"));
	assert_string_equal(q(db, "count_over_time(h[10m])", T0 + 599 * S),
	    "{} 301");
	assert_string_equal(q(db, "min_over_time(h[10m])", T0 + 599 * S),
	    "{} 299");
	rl_labels_free(&a);
	tsdb_free(db);
}

/* Per-name needs: a range keeps its window, an instant its newest point. */
static void
test_needs(void **state)
{
	struct tsdb	*db = tsdb_new();
	int64_t		 t;

	(void)state;
	tsdb_set_retention(db, 0);
	tsdb_set_need(db, "ranged", 10 * S, 1);
	tsdb_set_need(db, "instant", 0, 1);
	tsdb_set_need(db, "rangeonly", 10 * S, 0);
	for (t = 0; t < 100; t++) {
		put(db, mk("ranged", NULL), T0 + t * S, (double)t);
		put(db, mk("instant", NULL), T0 + t * S, (double)t);
		put(db, mk("rangeonly", NULL), T0 + t * S, (double)t);
		put(db, mk("other", NULL), T0 + t * S, (double)t);
		tsdb_gc(db, T0 + t * S);
	}
	/* [t-10s, t]: 11 points; the others their newest only */
	assert_int_equal(tsdb_npoints(db), 11 + 1 + 11 + 1);
	assert_string_equal(q(db, "count_over_time(ranged[1h])", T0 + 99 * S),
	    "{} 11");
	assert_string_equal(q(db, "instant", T0 + 99 * S),
	    "{__name__=\"instant\"} 99");
	assert_string_equal(q(db, "count_over_time(instant[1h])", T0 + 99 * S),
	    "{} 1");
	/* the newest point goes once the lookback has passed it */
	tsdb_gc(db, T0 + 99 * S + 5 * MIN - 1);
	assert_int_equal(tsdb_nseries(db), 3);	/* rangeonly went */
	assert_string_equal(q(db, "rangeonly", T0 + 99 * S), "");
	tsdb_gc(db, T0 + 99 * S + 5 * MIN + 1);
	assert_int_equal(tsdb_nseries(db), 0);
	assert_int_equal(tsdb_npoints(db), 0);
	/* forgetting the needs falls back to the default */
	tsdb_clear_needs(db);
	tsdb_set_retention(db, 30 * S);
	for (t = 0; t < 100; t++) {
		put(db, mk("ranged", NULL), T0 + t * S, (double)t);
		tsdb_gc(db, T0 + t * S);
	}
	assert_int_equal(tsdb_npoints(db), 31);
	tsdb_free(db);
}

/* ---- groups -------------------------------------------------------- */

struct gfix {
	struct rule_file	*rf;
	struct rl_group		*g;
	struct tsdb		*db;
};

static struct rule_file *
load(const char *text)
{
	struct cfg_errors	 errs;
	struct rule_file	*rf;

	rf = rule_file_load_string("r.yml", text, strlen(text), &errs);
	if (rf == NULL)
		fail_msg("%s", errs.n ? errs.msg[0] : "?");
	cfg_errors_free(&errs);
	return (rf);
}

static const char *rules_text =
    "groups:\n"
    "- name: g\n"
    "  rules:\n"
    "  - record: job:up:sum\n"
    "    expr: sum by (job) (up)\n"
    "    labels: {src: rec}\n"
    "  - alert: JobDown\n"
    "    expr: job:up:sum == 0\n"
    "    for: 1m\n"
    "    labels: {severity: critical}\n"
    "    annotations: {summary: 'job {{ $labels.job }} is down'}\n";

static void
test_group_record_and_alert(void **state)
{
	struct rule_file	*rf = load(rules_text);
	struct rl_group		*g = rl_group_new(&rf->groups[0], rf->path);
	struct tsdb		*db = tsdb_new();
	int64_t			 t;

	(void)state;
	assert_int_equal(rl_group_interval_ms(g, 15 * S), 15 * S);
	for (t = 0; t <= 2 * MIN; t += 30 * S) {
		put(db, mk("up", "job", "a", "i", "1", NULL), T0 + t, 1);
		put(db, mk("up", "job", "b", "i", "1", NULL), T0 + t,
		    t >= 30 * S ? 0 : 1);
		assert_int_equal(rl_group_eval(g, db, T0 + t), 0);
	}
	/* the recording rule's output is in the history, name and labels set */
	assert_string_equal(q(db, "job:up:sum", T0 + 2 * MIN),
	    "{__name__=\"job:up:sum\", job=\"a\", src=\"rec\"} 1;"
	    "{__name__=\"job:up:sum\", job=\"b\", src=\"rec\"} 0");
	assert_int_equal(g->rules[0].last.n, 2);
	/* b at 0 from 30s: pending at 30s, firing at 90s (for: 1m) */
	assert_string_equal(q(db, "ALERTS", T0 + 30 * S),
	    "{__name__=\"ALERTS\", alertname=\"JobDown\", alertstate=\"pending\", "
	    "job=\"b\", severity=\"critical\", src=\"rec\"} 1");
	assert_string_equal(q(db, "ALERTS{alertstate=\"firing\"}",
	    T0 + 2 * MIN), "{__name__=\"ALERTS\", alertname=\"JobDown\", "
	    "alertstate=\"firing\", job=\"b\", severity=\"critical\", "
	    "src=\"rec\"} 1");
	/* the pending series went stale the moment it turned firing */
	assert_string_equal(q(db, "ALERTS{alertstate=\"pending\"}",
	    T0 + 90 * S), "");
	assert_string_equal(q(db, "ALERTS_FOR_STATE", T0 + 2 * MIN),
	    "{__name__=\"ALERTS_FOR_STATE\", alertname=\"JobDown\", "
	    "job=\"b\", severity=\"critical\", src=\"rec\"} 1.7e+09");
	assert_int_equal(g->rules[1].alert->nalerts, 1);
	assert_string_equal(g->rules[1].alert->alerts[0].annotations.v[0].value,
	    "job b is down");
	/* b comes back: resolved; ALERTS stale */
	put(db, mk("up", "job", "b", "i", "1", NULL), T0 + 150 * S, 1);
	put(db, mk("up", "job", "a", "i", "1", NULL), T0 + 150 * S, 1);
	assert_int_equal(rl_group_eval(g, db, T0 + 150 * S), 0);
	assert_string_equal(q(db, "ALERTS", T0 + 150 * S), "");
	assert_int_equal(g->evaluations, 6);
	assert_int_equal(g->last_eval_ms, T0 + 150 * S);
	rl_group_free(g);
	rule_file_free(rf);
	tsdb_free(db);
}

static void
test_group_failures(void **state)
{
	struct rule_file	*rf = load(
	    "groups:\n"
	    "- name: g\n"
	    "  limit: 2\n"
	    "  rules:\n"
	    "  - record: r\n"
	    "    expr: m\n"
	    "    labels: {a: same}\n"
	    "  - record: s\n"
	    "    expr: m * on() group_left n\n"
	    "  - record: lim\n"
	    "    expr: m or n\n"
	    "  - record: sc\n"
	    "    expr: time()\n");
	struct rl_group		*g = rl_group_new(&rf->groups[0], rf->path);
	struct tsdb		*db = tsdb_new();

	(void)state;
	put(db, mk("m", "a", "1", NULL), T0, 1);
	put(db, mk("m", "a", "2", NULL), T0, 2);
	put(db, mk("n", "b", "1", NULL), T0, 3);
	put(db, mk("n", "b", "2", NULL), T0, 3);
	assert_int_equal(rl_group_eval(g, db, T0), 3);
	assert_string_equal(g->rules[0].error, "vector contains metrics with "
	    "the same labelset after applying rule labels");
	assert_non_null(strstr(g->rules[1].error, "many"));
	assert_string_equal(g->rules[2].error,
	    "exceeded limit 2 with 4 series");
	assert_string_equal(g->rules[3].error, "");
	assert_int_equal(g->rules[0].failures, 1);
	/* nothing written for the failed ones; the scalar is one sample */
	assert_string_equal(q(db, "r or s or lim", T0), "");
	assert_string_equal(q(db, "sc", T0), "{__name__=\"sc\"} 1.7e+09");
	rl_group_free(g);
	rule_file_free(rf);
	tsdb_free(db);
}

static void
test_group_series_go_stale(void **state)
{
	struct rule_file	*rf = load("groups:\n- name: g\n  rules:\n"
	    "  - record: x\n    expr: m > 0\n");
	struct rl_group		*g = rl_group_new(&rf->groups[0], rf->path);
	struct tsdb		*db = tsdb_new();

	(void)state;
	put(db, mk("m", "a", "1", NULL), T0, 1);
	put(db, mk("m", "a", "2", NULL), T0, 1);
	rl_group_eval(g, db, T0);
	assert_string_equal(q(db, "count(x)", T0), "{} 2");
	put(db, mk("m", "a", "1", NULL), T0 + 15 * S, 1);
	put(db, mk("m", "a", "2", NULL), T0 + 15 * S, 0);
	rl_group_eval(g, db, T0 + 15 * S);
	/* Prometheus would show only a=1 now, not a=2 for 5 more minutes */
	assert_string_equal(q(db, "x", T0 + 15 * S),
	    "{__name__=\"x\", a=\"1\"} 1");
	rl_group_free(g);
	rule_file_free(rf);
	tsdb_free(db);
}

static void
test_group_carry(void **state)
{
	struct rule_file	*rf = load(rules_text), *rf2, *rf3;
	struct rl_group		*g = rl_group_new(&rf->groups[0], rf->path);
	struct rl_group		*g2, *g3;
	struct tsdb		*db = tsdb_new();
	int64_t			 t;

	(void)state;
	for (t = 0; t <= 2 * MIN; t += 30 * S) {
		put(db, mk("up", "job", "b", NULL), T0 + t, 0);
		rl_group_eval(g, db, T0 + t);
	}
	assert_int_equal(g->rules[1].alert->alerts[0].state, ALERT_FIRING);
	/* a reload with the same rule: still firing, same active-since */
	rf2 = load(rules_text);
	g2 = rl_group_new(&rf2->groups[0], rf2->path);
	rl_group_carry(g2, g);
	assert_int_equal(g2->rules[1].alert->nalerts, 1);
	assert_int_equal(g2->rules[1].alert->alerts[0].state, ALERT_FIRING);
	assert_int_equal(g2->rules[1].alert->alerts[0].active_at_ms, T0);
	put(db, mk("up", "job", "b", NULL), T0 + 150 * S, 0);
	rl_group_eval(g2, db, T0 + 150 * S);
	assert_int_equal(g2->rules[1].alert->ntrans, 0);
	/* changed labels make it another rule: starts over */
	rf3 = load("groups:\n- name: g\n  rules:\n"
	    "  - alert: JobDown\n    expr: job:up:sum == 0\n    for: 1m\n"
	    "    labels: {severity: warning}\n");
	g3 = rl_group_new(&rf3->groups[0], rf3->path);
	rl_group_carry(g3, g2);
	assert_int_equal(g3->rules[0].alert->nalerts, 0);
	rl_group_free(g);
	rl_group_free(g2);
	rl_group_free(g3);
	rule_file_free(rf);
	rule_file_free(rf2);
	rule_file_free(rf3);
	tsdb_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_snapshot_staleness),
		cmocka_unit_test(test_gc),
		cmocka_unit_test(test_needs),
		cmocka_unit_test(test_group_record_and_alert),
		cmocka_unit_test(test_group_failures),
		cmocka_unit_test(test_group_series_go_stale),
		cmocka_unit_test(test_group_carry),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
