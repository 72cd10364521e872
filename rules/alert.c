/*
 * The alert state machine of one alerting rule.
 *
 * Semantics are Prometheus' (rules/alerting.go, AlertingRule.Eval), read
 * and re-implemented, so alerts behave here as they would on the city
 * Prometheus running the same rule file:
 * - an alert is identified by its labels: the sample's labels without
 *   __name__, the rule's (expanded) labels over them, alertname;
 * - a new label set starts pending at t; it fires at the first evaluation
 *   where it has been active for at least "for" (for 0: the same one);
 * - a pending alert whose condition goes away is dropped (never notified);
 * - a firing one goes inactive (resolved) unless keep_firing_for holds it:
 *   that clock starts at the first evaluation the condition was missing;
 * - resolved alerts are kept for 15 minutes, so a notifier can repeat the
 *   resolution; the same label set coming back starts a new pending alert.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/netprobed.h"
#include "rules/alert.h"
#include "rules/labels.h"

const char *
alert_state_name(enum alert_state s)
{
	switch (s) {
	case ALERT_PENDING:
		return ("pending");
	case ALERT_FIRING:
		return ("firing");
	default:
		return ("inactive");
	}
}

/* ---- alerts -------------------------------------------------------- */

static void
alert_clear(struct alert *a)
{
	rl_labels_free(&a->labels);
	rl_labels_free(&a->annotations);
}

static void
alert_copy(struct alert *dst, const struct alert *src)
{
	*dst = *src;
	rl_labels_copy(&dst->labels, &src->labels);
	rl_labels_copy(&dst->annotations, &src->annotations);
}

static int
alert_cmp(const void *a, const void *b)
{
	return (rl_labels_cmp(&((const struct alert *)a)->labels,
	    &((const struct alert *)b)->labels));
}

static void
transitions_clear(struct alert_rule *ar)
{
	size_t	i;

	for (i = 0; i < ar->ntrans; i++)
		alert_clear(&ar->trans[i].alert);
	free(ar->trans);
	ar->trans = NULL;
	ar->ntrans = 0;
}

static void
transition(struct alert_rule *ar, enum alert_state from,
    const struct alert *a)
{
	struct alert_transition	*t;

	ar->trans = xreallocarray(ar->trans, ar->ntrans + 1,
	    sizeof(*ar->trans));
	t = &ar->trans[ar->ntrans++];
	t->from = from;
	t->to = a->state;
	alert_copy(&t->alert, a);
}

struct alert_rule *
alert_rule_new(const struct rule *r)
{
	struct alert_rule	*ar;

	ar = xcalloc(1, sizeof(*ar));
	ar->rule = r;
	return (ar);
}

static void
alerts_clear(struct alert_rule *ar)
{
	size_t	i;

	for (i = 0; i < ar->nalerts; i++)
		alert_clear(&ar->alerts[i]);
	free(ar->alerts);
	ar->alerts = NULL;
	ar->nalerts = 0;
}

void
alert_rule_free(struct alert_rule *ar)
{
	if (ar == NULL)
		return;
	alerts_clear(ar);
	transitions_clear(ar);
	free(ar);
}

/*
 * The alert one sample makes: labels and annotations expanded with the
 * sample's own labels and value (as Prometheus' $labels and $value).
 */
static void
alert_from_sample(const struct rule *r, const struct rl_sample *s,
    int64_t t_ms, struct alert *a)
{
	char	*v;
	size_t	 i;

	memset(a, 0, sizeof(*a));
	a->state = ALERT_PENDING;
	a->value = s->v;
	a->active_at_ms = t_ms;
	for (i = 0; i < s->labels.n; i++)
		if (strcmp(s->labels.v[i].name, "__name__") != 0)
			rl_labels_set(&a->labels, s->labels.v[i].name,
			    s->labels.v[i].value);
	for (i = 0; i < r->labels.n; i++) {
		v = rule_template_expand(r->labels.v[i].tmpl, &s->labels, s->v);
		rl_labels_set(&a->labels, r->labels.v[i].name, v);
		free(v);
	}
	rl_labels_set(&a->labels, "alertname", r->name);
	for (i = 0; i < r->annotations.n; i++) {
		v = rule_template_expand(r->annotations.v[i].tmpl, &s->labels,
		    s->v);
		/* annotations keep empty values: set directly, not deleted */
		a->annotations.v = xreallocarray(a->annotations.v,
		    a->annotations.n + 1, sizeof(*a->annotations.v));
		a->annotations.v[a->annotations.n].name =
		    xstrdup(r->annotations.v[i].name);
		a->annotations.v[a->annotations.n].value = v;
		a->annotations.n++;
	}
}

int
alert_rule_eval(struct alert_rule *ar, const struct rl_value *v, int64_t t_ms,
    uint64_t limit, char *err, size_t errlen)
{
	const struct rule	*r = ar->rule;
	struct rl_sample	 scalar;
	const struct rl_sample	*samples;
	struct alert		*fresh, *a, tmp;
	unsigned char		*seen;
	size_t			 n, i, j, k, nactive, nold;
	int			 keep, c;

	transitions_clear(ar);
	if (v->type == RL_SCALAR) {
		memset(&scalar, 0, sizeof(scalar));
		scalar.v = v->scalar;
		samples = &scalar;
		n = 1;
	} else {
		samples = v->samples;
		n = v->n;
	}

	fresh = xcalloc(n ? n : 1, sizeof(*fresh));
	for (i = 0; i < n; i++)
		alert_from_sample(r, &samples[i], t_ms, &fresh[i]);
	if (n > 1)
		qsort(fresh, n, sizeof(*fresh), alert_cmp);
	for (i = 1; i < n; i++)
		if (rl_labels_cmp(&fresh[i - 1].labels, &fresh[i].labels) == 0)
			break;
	if (n > 1 && i < n) {
		snprintf(err, errlen, "vector contains metrics with the same "
		    "labelset after applying alert labels");
		for (i = 0; i < n; i++)
			alert_clear(&fresh[i]);
		free(fresh);
		return (-1);
	}

	/*
	 * Merge this evaluation's samples into the known alerts: both are
	 * sorted by labels, so one walk finds every match (new alerts go
	 * at the end; the array is sorted again below).
	 */
	seen = xcalloc(ar->nalerts + n + 1, 1);
	nold = ar->nalerts;
	for (i = 0, k = 0; i < n; i++) {
		c = 1;
		while (k < nold && (c = rl_labels_cmp(&ar->alerts[k].labels,
		    &fresh[i].labels)) < 0)
			k++;
		j = c == 0 ? k : ar->nalerts;
		if (j < ar->nalerts && ar->alerts[j].state != ALERT_INACTIVE) {
			/* still active: only the value and annotations move */
			a = &ar->alerts[j];
			a->value = fresh[i].value;
			rl_labels_free(&a->annotations);
			a->annotations = fresh[i].annotations;
			fresh[i].annotations.v = NULL;
			fresh[i].annotations.n = 0;
			alert_clear(&fresh[i]);
		} else {
			/* new, or a resolved one back: starts again pending */
			if (j == ar->nalerts) {
				ar->alerts = xreallocarray(ar->alerts,
				    ar->nalerts + 1, sizeof(*ar->alerts));
				ar->nalerts++;
			} else
				alert_clear(&ar->alerts[j]);
			ar->alerts[j] = fresh[i];
			transition(ar, ALERT_INACTIVE, &ar->alerts[j]);
		}
		seen[j] = 1;
	}
	free(fresh);

	for (j = 0; j < ar->nalerts; j++) {
		a = &ar->alerts[j];
		if (seen[j]) {
			a->keep_firing_since_ms = 0;
			if (a->state == ALERT_PENDING &&
			    t_ms - a->active_at_ms >= (int64_t)r->for_ms) {
				a->state = ALERT_FIRING;
				a->fired_at_ms = t_ms;
				transition(ar, ALERT_PENDING, a);
			}
			continue;
		}
		keep = 0;
		if (a->state == ALERT_FIRING && r->keep_firing_for_ms > 0) {
			if (a->keep_firing_since_ms == 0)
				a->keep_firing_since_ms = t_ms;
			if (t_ms - a->keep_firing_since_ms <
			    (int64_t)r->keep_firing_for_ms)
				keep = 1;
		}
		if (keep)
			continue;
		if (a->state == ALERT_PENDING) {
			a->state = ALERT_INACTIVE;
			transition(ar, ALERT_PENDING, a);
			a->resolved_at_ms = -1;		/* drop below */
		} else if (a->state == ALERT_FIRING) {
			a->state = ALERT_INACTIVE;
			a->resolved_at_ms = t_ms;
			transition(ar, ALERT_FIRING, a);
		} else if (t_ms - a->resolved_at_ms >
		    ALERT_RESOLVED_RETENTION_MS)
			a->resolved_at_ms = -1;
	}
	free(seen);

	/* drop what was marked, count what is active */
	for (i = 0, j = 0, nactive = 0; i < ar->nalerts; i++) {
		if (ar->alerts[i].resolved_at_ms == -1) {
			alert_clear(&ar->alerts[i]);
			continue;
		}
		if (ar->alerts[i].state != ALERT_INACTIVE)
			nactive++;
		if (i != j) {
			tmp = ar->alerts[i];
			ar->alerts[j] = tmp;
		}
		j++;
	}
	ar->nalerts = j;
	if (limit > 0 && nactive > limit) {
		snprintf(err, errlen, "exceeded limit of %llu with %zu alerts",
		    (unsigned long long)limit, nactive);
		alerts_clear(ar);
		transitions_clear(ar);
		return (-1);
	}
	if (ar->nalerts > 1)
		qsort(ar->alerts, ar->nalerts, sizeof(*ar->alerts), alert_cmp);
	return (0);
}

void
alert_rule_series(const struct alert_rule *ar, alert_series_fn fn, void *arg)
{
	const struct alert	*a;
	struct np_labels	 l;
	size_t			 i;

	for (i = 0; i < ar->nalerts; i++) {
		a = &ar->alerts[i];
		if (a->state == ALERT_INACTIVE)
			continue;
		rl_labels_copy(&l, &a->labels);
		rl_labels_set(&l, "alertstate", alert_state_name(a->state));
		fn(arg, "ALERTS", &l, 1);
		rl_labels_free(&l);
		/* Prometheus exports whole seconds (time.Unix()) */
		fn(arg, "ALERTS_FOR_STATE", &a->labels,
		    (double)(a->active_at_ms / 1000));
	}
}

void
alert_rule_carry(struct alert_rule *dst, const struct alert_rule *src)
{
	size_t	i;

	alerts_clear(dst);
	if (src->nalerts == 0)
		return;
	dst->alerts = xcalloc(src->nalerts, sizeof(*dst->alerts));
	for (i = 0; i < src->nalerts; i++)
		alert_copy(&dst->alerts[i], &src->alerts[i]);
	dst->nalerts = src->nalerts;
}

void
alert_rule_restore(struct alert_rule *ar, const struct alert *a)
{
	if (ar->nalerts > 0 && bsearch(a, ar->alerts, ar->nalerts,
	    sizeof(*ar->alerts), alert_cmp) != NULL)
		return;
	ar->alerts = xreallocarray(ar->alerts, ar->nalerts + 1,
	    sizeof(*ar->alerts));
	alert_copy(&ar->alerts[ar->nalerts++], a);
	qsort(ar->alerts, ar->nalerts, sizeof(*ar->alerts), alert_cmp);
}
