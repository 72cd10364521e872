/*
 * Evaluating rule groups (see group.h), after Prometheus' Group.Eval in
 * rules/manager.go: each rule in order at one timestamp; what it yields
 * goes back into the history at that timestamp; what it yielded last time
 * and not now is marked stale.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/group.h"
#include "rules/labels.h"

struct rl_group *
rl_group_new(const struct rule_group *g, const char *file)
{
	struct rl_group	*rg = xcalloc(1, sizeof(*rg));
	size_t		 i;

	rg->group = g;
	rg->file = file;
	rg->nrules = g->nrules;
	rg->rules = xcalloc(g->nrules ? g->nrules : 1, sizeof(*rg->rules));
	for (i = 0; i < g->nrules; i++) {
		rg->rules[i].rule = &g->rules[i];
		if (g->rules[i].kind == RULE_ALERTING)
			rg->rules[i].alert = alert_rule_new(&g->rules[i]);
	}
	return (rg);
}

static void
written_free(struct rl_rule_state *rs)
{
	size_t	i;

	for (i = 0; i < rs->nwritten; i++)
		rl_labels_free(&rs->written[i]);
	free(rs->written);
	rs->written = NULL;
	rs->nwritten = 0;
}

void
rl_group_free(struct rl_group *rg)
{
	size_t	i;

	if (rg == NULL)
		return;
	for (i = 0; i < rg->nrules; i++) {
		alert_rule_free(rg->rules[i].alert);
		rl_value_free(&rg->rules[i].last);
		written_free(&rg->rules[i]);
	}
	free(rg->rules);
	free(rg);
}

uint64_t
rl_group_interval_ms(const struct rl_group *rg, uint64_t dflt)
{
	return (rg->group->interval_ms ? rg->group->interval_ms : dflt);
}

static int
kvs_equal(const struct rule_kvs *a, const struct rule_kvs *b)
{
	size_t	i;

	if (a->n != b->n)
		return (0);
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) != 0 ||
		    strcmp(rule_template_text(a->v[i].tmpl),
		    rule_template_text(b->v[i].tmpl)) != 0)
			return (0);
	return (1);
}

static int
same_rule(const struct rule *a, const struct rule *b)
{
	return (a->kind == b->kind && strcmp(a->name, b->name) == 0 &&
	    kvs_equal(&a->labels, &b->labels));
}

void
rl_group_carry(struct rl_group *nw, const struct rl_group *old)
{
	struct rl_rule_state		*d;
	const struct rl_rule_state	*s;
	char				*taken;
	size_t				 i, j, k;

	taken = xcalloc(old->nrules ? old->nrules : 1, 1);
	for (i = 0; i < nw->nrules; i++) {
		d = &nw->rules[i];
		for (j = 0; j < old->nrules; j++)
			if (!taken[j] && same_rule(d->rule, old->rules[j].rule))
				break;
		if (j == old->nrules)
			continue;
		taken[j] = 1;
		s = &old->rules[j];
		if (d->alert != NULL)
			alert_rule_carry(d->alert, s->alert);
		written_free(d);
		if (s->nwritten > 0) {
			d->written = xcalloc(s->nwritten, sizeof(*d->written));
			for (k = 0; k < s->nwritten; k++)
				rl_labels_copy(&d->written[k], &s->written[k]);
			d->nwritten = s->nwritten;
		}
	}
	free(taken);
	nw->last_eval_ms = old->last_eval_ms;
}

static int
labels_qcmp(const void *a, const void *b)
{
	return (rl_labels_cmp(a, b));
}

/* What one evaluation writes: label sets (with __name__) and values. */
struct output {
	struct np_labels	*l;
	double			*v;
	size_t			 n;
};

static void
output_add(struct output *o, const struct np_labels *l, double v)
{
	o->l = xreallocarray(o->l, o->n + 1, sizeof(*o->l));
	o->v = xreallocarray(o->v, o->n + 1, sizeof(*o->v));
	rl_labels_copy(&o->l[o->n], l);
	o->v[o->n++] = v;
}

static void
alert_out(void *arg, const char *name, const struct np_labels *labels,
    double value)
{
	struct np_labels	l;

	rl_labels_copy(&l, labels);
	rl_labels_set(&l, "__name__", name);
	output_add(arg, &l, value);
	rl_labels_free(&l);
}

/*
 * A recording rule's result: the rule's name and labels applied to each
 * sample (a scalar is one sample without labels), checked for label sets
 * made equal by that.
 */
static int
record(struct rl_rule_state *rs, struct rl_value *v, uint64_t limit,
    struct output *o)
{
	const struct rule	*r = rs->rule;
	struct rl_value		 res = { RL_VECTOR, 0, NULL, 0 };
	size_t			 i, j, n;

	n = v->type == RL_SCALAR ? 1 : v->n;
	if (limit > 0 && n > limit) {
		snprintf(rs->error, sizeof(rs->error),
		    "exceeded limit %llu with %zu series",
		    (unsigned long long)limit, n);
		return (-1);
	}
	res.samples = xcalloc(n ? n : 1, sizeof(*res.samples));
	res.n = n;
	for (i = 0; i < n; i++) {
		struct rl_sample	*s = &res.samples[i];

		if (v->type == RL_SCALAR)
			s->v = v->scalar;
		else {
			rl_labels_copy(&s->labels, &v->samples[i].labels);
			s->v = v->samples[i].v;
		}
		rl_labels_set(&s->labels, "__name__", r->name);
		for (j = 0; j < r->labels.n; j++)
			rl_labels_set(&s->labels, r->labels.v[j].name,
			    rule_template_text(r->labels.v[j].tmpl));
	}
	qsort(res.samples, res.n, sizeof(*res.samples), labels_qcmp);
	for (i = 1; i < res.n; i++)
		if (rl_labels_cmp(&res.samples[i - 1].labels,
		    &res.samples[i].labels) == 0) {
			snprintf(rs->error, sizeof(rs->error), "vector "
			    "contains metrics with the same labelset after "
			    "applying rule labels");
			rl_value_free(&res);
			return (-1);
		}
	for (i = 0; i < res.n; i++)
		output_add(o, &res.samples[i].labels, res.samples[i].v);
	rl_value_free(&rs->last);
	rs->last = res;
	return (0);
}

/* Append the output; mark stale what was written last time but not now. */
static void
write_out(struct rl_rule_state *rs, struct tsdb *db, int64_t t,
    struct output *o)
{
	struct tsdb_series	*s;
	size_t			 i, j;
	int			 c;

	for (i = 0; i < o->n; i++) {
		s = tsdb_series_get(db, &o->l[i], NULL);
		tsdb_append(db, s, t, o->v[i]);
	}
	if (o->n > 1)
		qsort(o->l, o->n, sizeof(*o->l), labels_qcmp);
	/* both sorted: walk them together */
	for (i = j = 0; i < rs->nwritten; i++) {
		c = 1;
		while (j < o->n &&
		    (c = rl_labels_cmp(&o->l[j], &rs->written[i])) < 0)
			j++;
		if (c == 0)
			continue;
		s = tsdb_series_get(db, &rs->written[i], NULL);
		tsdb_append(db, s, t, rl_stale_nan());
	}
	written_free(rs);
	rs->written = o->l;
	rs->nwritten = o->n;
	free(o->v);
	o->l = NULL;
	o->v = NULL;
	o->n = 0;
}

static double
elapsed_s(const struct timespec *a)
{
	struct timespec	b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a->tv_sec) +
	    (double)(b.tv_nsec - a->tv_nsec) / 1e9);
}

size_t
rl_group_eval(struct rl_group *rg, struct tsdb *db, int64_t t_ms)
{
	struct rl_source	 src;
	struct rl_value		 v;
	struct output		 o = { NULL, NULL, 0 };
	struct timespec		 g0, r0;
	size_t			 i, failed = 0;
	int			 rc;

	tsdb_source(db, &src);
	clock_gettime(CLOCK_MONOTONIC, &g0);
	for (i = 0; i < rg->nrules; i++) {
		struct rl_rule_state	*rs = &rg->rules[i];

		clock_gettime(CLOCK_MONOTONIC, &r0);
		rs->evaluations++;
		rs->last_eval_ms = t_ms;
		rs->error[0] = '\0';
		rc = rl_expr_eval(rs->rule->expr, &src, t_ms, &v, rs->error,
		    sizeof(rs->error));
		if (rc == 0) {
			if (rs->alert != NULL) {
				rc = alert_rule_eval(rs->alert, &v, t_ms,
				    rg->group->limit, rs->error,
				    sizeof(rs->error));
				/* a limit error drops every alert: write that */
				alert_rule_series(rs->alert, alert_out, &o);
			} else
				rc = record(rs, &v, rg->group->limit, &o);
			rl_value_free(&v);
		}
		if (rc == 0 || rs->alert != NULL)
			write_out(rs, db, t_ms, &o);
		if (rc != 0) {
			rs->failures++;
			failed++;
		}
		rs->last_duration_s = elapsed_s(&r0);
	}
	rg->evaluations++;
	rg->last_eval_ms = t_ms;
	rg->last_duration_s = elapsed_s(&g0);
	return (failed);
}
