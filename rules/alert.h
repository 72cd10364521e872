/*
 * The alert state machine of one alerting rule, with Prometheus'
 * semantics (rules/alerting.go): per label set inactive -> pending ->
 * firing -> resolved, "for" hysteresis, keep_firing_for, resolved alerts
 * remembered for 15 minutes.  Pure: the evaluator's result and the time
 * are passed in, nothing is read from a clock or the store.
 */
#ifndef RULES_ALERT_H
#define RULES_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"
#include "rules/expr.h"
#include "rules/rule_file.h"

/* How long a resolved alert is kept (Prometheus' resolvedRetention). */
#define ALERT_RESOLVED_RETENTION_MS	(15 * 60 * 1000)

/* ALERT_INACTIVE on a kept alert means resolved. */
enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };

/* "inactive", "pending", "firing" */
const char	*alert_state_name(enum alert_state);

struct alert {
	enum alert_state	 state;
	/* the sample's labels (no __name__), rule labels over them, alertname */
	struct np_labels	 labels;	/* sorted */
	struct np_labels	 annotations;	/* sorted, expanded */
	double			 value;		/* of the last active sample */
	int64_t			 active_at_ms;	/* became pending */
	int64_t			 fired_at_ms;	/* 0: never fired */
	int64_t			 resolved_at_ms; /* 0: not resolved */
	int64_t			 keep_firing_since_ms; /* 0: condition holds */
};

/*
 * A state change made by the last evaluation: to pending (from inactive),
 * to firing (from pending), or to inactive (from firing: resolved; from
 * pending: the condition went away before "for" elapsed, which Prometheus
 * never notifies).  alert is a copy taken after the change, owned by the
 * transition list.
 */
struct alert_transition {
	enum alert_state	 from;
	enum alert_state	 to;
	struct alert		 alert;
};

/*
 * The state of one alerting rule.  rule is borrowed: it must outlive this.
 * alerts (sorted by labels) and transitions are read-only for callers and
 * valid until the next alert_rule_eval() or alert_rule_free().
 */
struct alert_rule {
	const struct rule	*rule;
	struct alert		*alerts;
	size_t			 nalerts;
	struct alert_transition	*trans;
	size_t			 ntrans;
};

struct alert_rule *alert_rule_new(const struct rule *);
void		 alert_rule_free(struct alert_rule *);

/*
 * One evaluation at t_ms of the rule's expression result v (a scalar
 * counts as one sample with no labels, as in Prometheus).  limit > 0 is
 * the group's limit on pending+firing alerts.
 *
 * Returns 0, or -1 with a message in err when two samples give the same
 * alert labels (the state is then unchanged) or the limit is exceeded
 * (every alert is then dropped, without transitions, as Prometheus does).
 * Transitions always hold only this evaluation's changes.
 */
int		 alert_rule_eval(struct alert_rule *, const struct rl_value *v,
		    int64_t t_ms, uint64_t limit, char *err, size_t errlen);

/*
 * After a reload: dst (a new rule's state) takes copies of src's alerts,
 * as Prometheus' copyState does, so a reload neither re-fires nor forgets.
 */
void		 alert_rule_carry(struct alert_rule *dst,
		    const struct alert_rule *src);

/*
 * After a restart: add a copy of a (pending or firing) alert read back
 * from the state file, unless one with its labels is there.  Prometheus
 * restores only the "for" state; here the firing state comes back too,
 * so an alert that still fires is not notified again and one that ended
 * meanwhile resolves at the first evaluation.  labels must be sorted.
 */
void		 alert_rule_restore(struct alert_rule *, const struct alert *);
/*
 * The series Prometheus exports for the rule's pending and firing alerts:
 *	ALERTS{<alert labels>, alertstate="pending|firing"} 1
 *	ALERTS_FOR_STATE{<alert labels>} <active_at in seconds>
 * fn is called once per series; labels are sorted and only valid during
 * the call.
 */
typedef void (*alert_series_fn)(void *arg, const char *name,
    const struct np_labels *labels, double value);
void		 alert_rule_series(const struct alert_rule *,
		    alert_series_fn fn, void *arg);

#endif /* RULES_ALERT_H */
