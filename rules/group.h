/*
 * Evaluating rule groups: the part of Prometheus' rules manager that
 * turns a loaded group (rule_file.h) and a history (tsdb.h) into results.
 * Rules of a group run in order at one timestamp; a recording rule's
 * samples and an alerting rule's ALERTS / ALERTS_FOR_STATE series are
 * appended to the history at that timestamp, so later rules of the group
 * (and later evaluations) see them, and series a rule produced last time
 * but not this time get a staleness marker - as Prometheus writes them to
 * its TSDB.  Shared by the daemon and `netprobed --test-rules`, so a rule
 * test exercises exactly what runs on the gateway.  Pure: evaluation time
 * is passed in (the monotonic clock only measures durations); no I/O.
 */
#ifndef RULES_GROUP_H
#define RULES_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"
#include "rules/alert.h"
#include "rules/expr.h"
#include "rules/rule_file.h"
#include "rules/tsdb.h"

struct rl_rule_state {
	const struct rule	*rule;		/* borrowed from the file */
	struct alert_rule	*alert;		/* alerting rules only */
	/* recording rules: the last result, names and labels applied */
	struct rl_value		 last;
	char			 error[1024];	/* last error, "" when healthy */
	int64_t			 last_eval_ms;	/* 0: never evaluated */
	double			 last_duration_s;
	uint64_t		 evaluations;
	uint64_t		 failures;
	/* series written at the last evaluation (sorted), for staleness */
	struct np_labels	*written;
	size_t			 nwritten;
};

struct rl_group {
	const struct rule_group	*group;		/* borrowed from the file */
	const char		*file;		/* borrowed: the file's path */
	struct rl_rule_state	*rules;
	size_t			 nrules;
	int64_t			 last_eval_ms;
	double			 last_duration_s;
	uint64_t		 evaluations;
};

/* State for one group; g and file must outlive it. */
struct rl_group	*rl_group_new(const struct rule_group *g, const char *file);
void		 rl_group_free(struct rl_group *);

/*
 * After a reload: take over the alert states and the written-series
 * memory of rules in old with the same kind, name and labels, matched in
 * order when several share them (Prometheus' copyState: a reload neither
 * re-fires nor forgets an alert of a rule that is still there).
 */
void		 rl_group_carry(struct rl_group *nw, const struct rl_group *old);

/*
 * Evaluate every rule in order at t_ms over db, appending results to db.
 * Returns the number of rules that failed this time (their error[] says
 * why; a failed alerting rule keeps its states, as Prometheus does).
 */
size_t		 rl_group_eval(struct rl_group *, struct tsdb *db,
		    int64_t t_ms);

/* The group's own interval, or dflt when the file gives none. */
uint64_t	 rl_group_interval_ms(const struct rl_group *, uint64_t dflt);

#endif /* RULES_GROUP_H */
