/*
 * The alert state machine, in injected time: for 0 and for 5m with
 * flapping, keep_firing_for, resolution and the 15-minute memory, label
 * sets coming and going, many label sets, the group limit, and the
 * ALERTS / ALERTS_FOR_STATE series.
 *
 * Rules come from rule_file_load_string() so templates are the real ones;
 * the expression parser is faked (the state machine never evaluates).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/netprobed.h"
#include "rules/alert.h"
#include "rules/expr.h"
#include "rules/rule_file.h"

/* ---- the fake expression parser ------------------------------------ */

struct rl_expr {
	int	unused;
};

struct rl_expr *
rl_expr_parse(const char *text, size_t *err_offset, char *err, size_t errlen)
{
	struct rl_expr	*e = calloc(1, sizeof(*e));

	assert_non_null(e);
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
	return (0);
}

/* ---- helpers ------------------------------------------------------- */

#define MIN	60000LL
/* a wall-clock-like start: the state machine keeps 0 for "never" */
#define T0	1700000000000LL

struct fixture {
	struct rule_file	*rf;
	struct alert_rule	*ar;
};

/* Load one alerting rule from its YAML body and start its state. */
static struct fixture *
fixture(const char *body)
{
	struct fixture		*f;
	struct cfg_errors	 errs;
	char			*text;
	size_t			 i;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_true(asprintf(&text, "groups:\n  - name: g\n    rules:\n"
	    "      - alert: ProbeDown\n        expr: probe_success == 0\n"
	    "%s", body) > 0);
	f->rf = rule_file_load_string("t.yaml", text, strlen(text), &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	assert_non_null(f->rf);
	free(text);
	f->ar = alert_rule_new(&f->rf->groups[0].rules[0]);
	return (f);
}

static void
fixture_free(struct fixture *f)
{
	alert_rule_free(f->ar);
	rule_file_free(f->rf);
	free(f);
}

/*
 * An instant vector from "name=value,name=value;..." (one sample per ';',
 * value after '|'), e.g. "probe=egov,__name__=probe_success|0".
 */
static void
vec(struct rl_value *v, const char *spec)
{
	char	*dup, *s, *next, *lbl, *val, *pair, *eq;

	memset(v, 0, sizeof(*v));
	v->type = RL_VECTOR;
	if (*spec == '\0')
		return;
	dup = strdup(spec);
	assert_non_null(dup);
	for (s = dup; s != NULL; s = next) {
		struct rl_sample	*smp;

		if ((next = strchr(s, ';')) != NULL)
			*next++ = '\0';
		v->samples = realloc(v->samples, (v->n + 1) *
		    sizeof(*v->samples));
		assert_non_null(v->samples);
		smp = &v->samples[v->n++];
		memset(smp, 0, sizeof(*smp));
		lbl = s;
		val = strchr(s, '|');
		assert_non_null(val);
		*val++ = '\0';
		smp->v = strtod(val, NULL);
		for (pair = strtok(lbl, ","); pair != NULL;
		    pair = strtok(NULL, ",")) {
			size_t	i;

			eq = strchr(pair, '=');
			assert_non_null(eq);
			*eq = '\0';
			/* keep sorted, as the evaluator does */
			smp->labels.v = realloc(smp->labels.v,
			    (smp->labels.n + 1) * sizeof(*smp->labels.v));
			assert_non_null(smp->labels.v);
			for (i = smp->labels.n; i > 0 &&
			    strcmp(smp->labels.v[i - 1].name, pair) > 0; i--)
				smp->labels.v[i] = smp->labels.v[i - 1];
			smp->labels.v[i].name = strdup(pair);
			smp->labels.v[i].value = strdup(eq + 1);
			smp->labels.n++;
		}
	}
	free(dup);
}

static void
vec_free(struct rl_value *v)
{
	size_t	i, j;

	for (i = 0; i < v->n; i++) {
		for (j = 0; j < v->samples[i].labels.n; j++) {
			free(v->samples[i].labels.v[j].name);
			free(v->samples[i].labels.v[j].value);
		}
		free(v->samples[i].labels.v);
	}
	free(v->samples);
}

/* Evaluate spec at t; expect success. */
static void
eval(struct fixture *f, int64_t t, const char *spec)
{
	struct rl_value	v;
	char		err[256] = "";

	vec(&v, spec);
	if (alert_rule_eval(f->ar, &v, t, 0, err, sizeof(err)) != 0)
		fprintf(stderr, "eval: %s\n", err);
	assert_string_equal(err, "");
	vec_free(&v);
}

/* "a=1,b=2" */
static char *
labels_str(const struct np_labels *l)
{
	char	*s = strdup(""), *t;
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		assert_true(asprintf(&t, "%s%s%s=%s", s, i ? "," : "",
		    l->v[i].name, l->v[i].value) > 0);
		free(s);
		s = t;
	}
	return (s);
}

static void
assert_labels(const struct np_labels *l, const char *want)
{
	char	*s = labels_str(l);

	assert_string_equal(s, want);
	free(s);
}

/* The transitions, as "from>to:labels" joined by ' '. */
static void
assert_trans(const struct alert_rule *ar, const char *want)
{
	char	*s = strdup(""), *t, *l;
	size_t	 i;

	for (i = 0; i < ar->ntrans; i++) {
		l = labels_str(&ar->trans[i].alert.labels);
		assert_true(asprintf(&t, "%s%s%s>%s:%s", s, i ? " " : "",
		    alert_state_name(ar->trans[i].from),
		    alert_state_name(ar->trans[i].to), l) > 0);
		free(l);
		free(s);
		s = t;
	}
	assert_string_equal(s, want);
	free(s);
}

/* ---- tests --------------------------------------------------------- */

static void
test_for_zero(void **state)
{
	struct fixture		*f = fixture("");
	const struct alert	*a;

	eval(f, T0, "");
	assert_int_equal(f->ar->nalerts, 0);
	assert_trans(f->ar, "");

	/* for 0: pending and firing in the same evaluation */
	eval(f, T0 + MIN, "__name__=probe_success,probe=egov|0");
	assert_int_equal(f->ar->nalerts, 1);
	a = &f->ar->alerts[0];
	assert_int_equal(a->state, ALERT_FIRING);
	assert_labels(&a->labels, "alertname=ProbeDown,probe=egov");
	assert_int_equal(a->active_at_ms, T0 + MIN);
	assert_int_equal(a->fired_at_ms, T0 + MIN);
	assert_int_equal(a->resolved_at_ms, 0);
	assert_trans(f->ar, "inactive>pending:alertname=ProbeDown,probe=egov "
	    "pending>firing:alertname=ProbeDown,probe=egov");
	assert_int_equal(f->ar->trans[0].alert.state, ALERT_PENDING);
	assert_int_equal(f->ar->trans[1].alert.fired_at_ms, T0 + MIN);

	/* still active: no transitions, times kept */
	eval(f, T0 + 2 * MIN, "__name__=probe_success,probe=egov|0");
	assert_trans(f->ar, "");
	a = &f->ar->alerts[0];
	assert_int_equal(a->state, ALERT_FIRING);
	assert_int_equal(a->active_at_ms, T0 + MIN);
	assert_int_equal(a->fired_at_ms, T0 + MIN);

	/* gone: resolved, remembered */
	eval(f, T0 + 3 * MIN, "");
	assert_trans(f->ar, "firing>inactive:alertname=ProbeDown,probe=egov");
	assert_int_equal(f->ar->nalerts, 1);
	a = &f->ar->alerts[0];
	assert_int_equal(a->state, ALERT_INACTIVE);
	assert_int_equal(a->resolved_at_ms, T0 + 3 * MIN);
	assert_int_equal(a->fired_at_ms, T0 + MIN);
	assert_int_equal(f->ar->trans[0].alert.resolved_at_ms, T0 + 3 * MIN);

	/* for 15 minutes exactly, then forgotten without a transition */
	eval(f, T0 + 18 * MIN, "");
	assert_int_equal(f->ar->nalerts, 1);
	assert_trans(f->ar, "");
	eval(f, T0 + 18 * MIN + 1, "");
	assert_int_equal(f->ar->nalerts, 0);
	assert_trans(f->ar, "");
	fixture_free(f);
}

static void
test_for_flapping(void **state)
{
	struct fixture		*f = fixture("        for: 5m\n");
	const struct alert	*a;
	const char		*on = "probe=egov|0";
	int			 i;

	eval(f, T0, on);
	assert_trans(f->ar, "inactive>pending:alertname=ProbeDown,probe=egov");
	eval(f, T0 + MIN, on);
	eval(f, T0 + 2 * MIN, on);
	assert_int_equal(f->ar->alerts[0].state, ALERT_PENDING);
	assert_trans(f->ar, "");
	/* a blip clears the for clock: the pending alert is dropped */
	eval(f, T0 + 3 * MIN, "");
	assert_trans(f->ar, "pending>inactive:alertname=ProbeDown,probe=egov");
	assert_int_equal(f->ar->nalerts, 0);
	/* back: pending from scratch */
	eval(f, T0 + 4 * MIN, on);
	assert_trans(f->ar, "inactive>pending:alertname=ProbeDown,probe=egov");
	assert_int_equal(f->ar->alerts[0].active_at_ms, T0 + 4 * MIN);
	for (i = 5; i < 9; i++) {
		eval(f, T0 + i * MIN, on);
		assert_int_equal(f->ar->alerts[0].state, ALERT_PENDING);
		assert_trans(f->ar, "");
	}
	/* 4m59.999s is not 5m */
	eval(f, T0 + 9 * MIN - 1, on);
	assert_int_equal(f->ar->alerts[0].state, ALERT_PENDING);
	eval(f, T0 + 9 * MIN, on);
	assert_trans(f->ar, "pending>firing:alertname=ProbeDown,probe=egov");
	a = &f->ar->alerts[0];
	assert_int_equal(a->state, ALERT_FIRING);
	assert_int_equal(a->active_at_ms, T0 + 4 * MIN);
	assert_int_equal(a->fired_at_ms, T0 + 9 * MIN);
	/* a firing alert that blips is resolved (no keep_firing_for) */
	eval(f, T0 + 10 * MIN, "");
	assert_trans(f->ar, "firing>inactive:alertname=ProbeDown,probe=egov");
	/* and coming back within 15 minutes starts a new pending alert */
	eval(f, T0 + 11 * MIN, on);
	assert_trans(f->ar, "inactive>pending:alertname=ProbeDown,probe=egov");
	assert_int_equal(f->ar->nalerts, 1);
	a = &f->ar->alerts[0];
	assert_int_equal(a->state, ALERT_PENDING);
	assert_int_equal(a->active_at_ms, T0 + 11 * MIN);
	assert_int_equal(a->fired_at_ms, 0);
	assert_int_equal(a->resolved_at_ms, 0);
	fixture_free(f);
}

static void
test_keep_firing_for(void **state)
{
	struct fixture		*f = fixture("        for: 1m\n"
				    "        keep_firing_for: 3m\n");
	const char		*on = "probe=egov|0";
	int			 i;

	eval(f, T0, on);
	eval(f, T0 + MIN, on);
	assert_int_equal(f->ar->alerts[0].state, ALERT_FIRING);
	/* missing: the grace starts at this evaluation */
	eval(f, T0 + 2 * MIN, "");
	assert_trans(f->ar, "");
	assert_int_equal(f->ar->alerts[0].state, ALERT_FIRING);
	assert_int_equal(f->ar->alerts[0].keep_firing_since_ms, T0 + 2 * MIN);
	/* back: grace reset */
	eval(f, T0 + 3 * MIN, on);
	assert_int_equal(f->ar->alerts[0].keep_firing_since_ms, 0);
	/* missing from 4m: firing until 7m, resolved at 7m */
	for (i = 4; i < 7; i++) {
		eval(f, T0 + i * MIN, "");
		assert_trans(f->ar, "");
		assert_int_equal(f->ar->alerts[0].state, ALERT_FIRING);
		assert_int_equal(f->ar->alerts[0].keep_firing_since_ms,
		    T0 + 4 * MIN);
	}
	eval(f, T0 + 7 * MIN - 1, "");
	assert_int_equal(f->ar->alerts[0].state, ALERT_FIRING);
	eval(f, T0 + 7 * MIN, "");
	assert_trans(f->ar, "firing>inactive:alertname=ProbeDown,probe=egov");
	assert_int_equal(f->ar->alerts[0].resolved_at_ms, T0 + 7 * MIN);
	assert_int_equal(f->ar->alerts[0].fired_at_ms, T0 + MIN);

	/* a pending alert gets no grace */
	eval(f, T0 + 8 * MIN, "probe=mcu|0");
	assert_trans(f->ar, "inactive>pending:alertname=ProbeDown,probe=mcu");
	eval(f, T0 + 8 * MIN + 30000, "");
	assert_trans(f->ar, "pending>inactive:alertname=ProbeDown,probe=mcu");
	assert_int_equal(f->ar->nalerts, 1);		/* the resolved egov */
	assert_labels(&f->ar->alerts[0].labels,
	    "alertname=ProbeDown,probe=egov");
	fixture_free(f);
}

static void
test_labels_and_annotations(void **state)
{
	struct fixture		*f = fixture(
	    "        labels:\n"
	    "          severity: critical\n"
	    "          site: '{{ $labels.probe }}-site'\n"
	    "          job: ''\n"
	    "          instance: gw1\n"
	    "        annotations:\n"
	    "          summary: '{{ $labels.probe }} down ({{ $value }})'\n"
	    "          empty: ''\n"
	    "          name: '{{ $labels.__name__ }}'\n");
	const struct alert	*a;

	eval(f, T0, "__name__=probe_success,probe=egov,job=np,"
	    "instance=10.0.0.1|0.5");
	a = &f->ar->alerts[0];
	/*
	 * __name__ dropped, rule labels over the sample's, an empty one
	 * deletes, templates see the sample's labels
	 */
	assert_labels(&a->labels, "alertname=ProbeDown,instance=gw1,"
	    "probe=egov,severity=critical,site=egov-site");
	assert_labels(&a->annotations, "empty=,name=probe_success,"
	    "summary=egov down (0.5)");
	assert_true(a->value == 0.5);

	/* still active: value and annotations follow the sample */
	eval(f, T0 + MIN, "__name__=probe_success,probe=egov,job=np,"
	    "instance=10.0.0.1|0.25");
	a = &f->ar->alerts[0];
	assert_true(a->value == 0.25);
	assert_labels(&a->annotations, "empty=,name=probe_success,"
	    "summary=egov down (0.25)");
	assert_trans(f->ar, "");
	fixture_free(f);
}

/* Two samples giving the same alert labels: an error, state kept. */
static void
test_duplicate_labelset(void **state)
{
	struct fixture	*f = fixture("        labels:\n"
			    "          instance: gw1\n");
	struct rl_value	 v;
	char		 err[256];

	eval(f, T0, "probe=egov,instance=a|0");
	assert_int_equal(f->ar->nalerts, 1);
	vec(&v, "probe=egov,instance=a|0;probe=egov,instance=b|0");
	assert_int_equal(alert_rule_eval(f->ar, &v, T0 + MIN, 0, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "vector contains metrics with the same "
	    "labelset after applying alert labels");
	vec_free(&v);
	assert_int_equal(f->ar->nalerts, 1);
	assert_int_equal(f->ar->alerts[0].state, ALERT_FIRING);
	assert_int_equal(f->ar->ntrans, 0);
	fixture_free(f);
}

static void
test_scalar(void **state)
{
	struct fixture		*f = fixture("        labels:\n"
				    "          severity: page\n");
	struct rl_value		 v;
	char			 err[64] = "";

	memset(&v, 0, sizeof(v));
	v.type = RL_SCALAR;
	v.scalar = 42;
	assert_int_equal(alert_rule_eval(f->ar, &v, T0, 0, err, sizeof(err)),
	    0);
	assert_int_equal(f->ar->nalerts, 1);
	assert_labels(&f->ar->alerts[0].labels,
	    "alertname=ProbeDown,severity=page");
	assert_true(f->ar->alerts[0].value == 42);
	fixture_free(f);
}

/* Label sets come and go independently; alerts stay sorted by labels. */
static void
test_many_label_sets(void **state)
{
	struct fixture	*f = fixture("        for: 2m\n");
	char		*spec, *t, want[64];
	size_t		 i, firing, pending, inactive;
	int		 k;

	/* 200 probes */
	spec = strdup("");
	for (k = 199; k >= 0; k--) {
		assert_true(asprintf(&t, "%s%sprobe=p%03d|%d", spec,
		    k == 199 ? "" : ";", k, k) > 0);
		free(spec);
		spec = t;
	}
	eval(f, T0, spec);
	assert_int_equal(f->ar->nalerts, 200);
	assert_int_equal(f->ar->ntrans, 200);
	for (i = 0; i < 200; i++) {
		snprintf(want, sizeof(want), "alertname=ProbeDown,probe=p%03zu",
		    i);
		assert_labels(&f->ar->alerts[i].labels, want);
		assert_true(f->ar->alerts[i].value == (double)i);
	}
	free(spec);

	/* only the even ones stay */
	spec = strdup("");
	for (k = 0; k < 200; k += 2) {
		assert_true(asprintf(&t, "%s%sprobe=p%03d|1", spec,
		    k == 0 ? "" : ";", k) > 0);
		free(spec);
		spec = t;
	}
	eval(f, T0 + MIN, spec);
	assert_int_equal(f->ar->nalerts, 100);
	assert_int_equal(f->ar->ntrans, 100);		/* 100 dropped */
	eval(f, T0 + 2 * MIN, spec);
	assert_int_equal(f->ar->ntrans, 100);		/* 100 fire */
	/* one new, one gone */
	assert_true(asprintf(&t, "%s;probe=zzz|1", spec + strlen("probe=p000|1;"))
	    > 0);
	eval(f, T0 + 3 * MIN, t);
	free(t);
	free(spec);
	/* the samples' changes first, then what went missing */
	assert_trans(f->ar, "inactive>pending:alertname=ProbeDown,probe=zzz "
	    "firing>inactive:alertname=ProbeDown,probe=p000");
	firing = pending = inactive = 0;
	for (i = 0; i < f->ar->nalerts; i++) {
		if (f->ar->alerts[i].state == ALERT_FIRING)
			firing++;
		else if (f->ar->alerts[i].state == ALERT_PENDING)
			pending++;
		else
			inactive++;
	}
	assert_int_equal(firing, 99);
	assert_int_equal(pending, 1);
	assert_int_equal(inactive, 1);
	assert_labels(&f->ar->alerts[0].labels,
	    "alertname=ProbeDown,probe=p000");
	assert_labels(&f->ar->alerts[100].labels,
	    "alertname=ProbeDown,probe=zzz");
	fixture_free(f);
}

static void
test_limit(void **state)
{
	struct fixture	*f = fixture("");
	struct rl_value	 v;
	char		 err[256] = "";

	vec(&v, "probe=a|0;probe=b|0");
	assert_int_equal(alert_rule_eval(f->ar, &v, T0, 2, err, sizeof(err)),
	    0);
	assert_int_equal(f->ar->nalerts, 2);
	vec_free(&v);
	vec(&v, "probe=a|0;probe=b|0;probe=c|0");
	assert_int_equal(alert_rule_eval(f->ar, &v, T0 + MIN, 2, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "exceeded limit of 2 with 3 alerts");
	assert_int_equal(f->ar->nalerts, 0);
	assert_int_equal(f->ar->ntrans, 0);
	vec_free(&v);
	fixture_free(f);
}

struct series_log {
	char	*s;
};

static void
series_cb(void *arg, const char *name, const struct np_labels *l, double v)
{
	struct series_log	*sl = arg;
	char			*ls = labels_str(l), *t;

	assert_true(asprintf(&t, "%s%s{%s} %.0f\n", sl->s, name, ls, v) > 0);
	free(ls);
	free(sl->s);
	sl->s = t;
}

static void
test_alerts_series(void **state)
{
	struct fixture		*f = fixture("        for: 2m\n"
				    "        labels:\n"
				    "          severity: page\n");
	struct series_log	 sl;

	eval(f, T0 + 500, "probe=egov|0;probe=mcu|0");
	eval(f, T0 + MIN, "probe=egov|0;probe=mcu|0");
	eval(f, T0 + 2 * MIN + 500, "probe=egov|0;probe=city|0");
	/* egov firing, mcu dropped while pending, city pending */
	sl.s = strdup("");
	alert_rule_series(f->ar, series_cb, &sl);
	assert_string_equal(sl.s,
	    "ALERTS{alertname=ProbeDown,alertstate=pending,probe=city,"
	    "severity=page} 1\n"
	    "ALERTS_FOR_STATE{alertname=ProbeDown,probe=city,severity=page} "
	    "1700000120\n"
	    "ALERTS{alertname=ProbeDown,alertstate=firing,probe=egov,"
	    "severity=page} 1\n"
	    "ALERTS_FOR_STATE{alertname=ProbeDown,probe=egov,severity=page} "
	    "1700000000\n");
	free(sl.s);

	/* resolved alerts are not exported */
	eval(f, T0 + 3 * MIN, "");
	assert_int_equal(f->ar->nalerts, 1);
	sl.s = strdup("");
	alert_rule_series(f->ar, series_cb, &sl);
	assert_string_equal(sl.s, "");
	free(sl.s);
	fixture_free(f);
}

static void
test_state_names(void **state)
{
	assert_string_equal(alert_state_name(ALERT_INACTIVE), "inactive");
	assert_string_equal(alert_state_name(ALERT_PENDING), "pending");
	assert_string_equal(alert_state_name(ALERT_FIRING), "firing");
	alert_rule_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_for_zero),
		cmocka_unit_test(test_for_flapping),
		cmocka_unit_test(test_keep_firing_for),
		cmocka_unit_test(test_labels_and_annotations),
		cmocka_unit_test(test_duplicate_labelset),
		cmocka_unit_test(test_scalar),
		cmocka_unit_test(test_many_label_sets),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_alerts_series),
		cmocka_unit_test(test_state_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
