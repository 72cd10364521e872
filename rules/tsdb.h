/*
 * The bounded history the rules read: an in-memory set of series (label
 * sets including __name__), each a list of points oldest first, kept for
 * a retention window.  The daemon fills it with snapshots of the series
 * store at each evaluation tick; the rule engine appends what recording
 * rules and alerts produce; `netprobed --test-rules` fills it from a test
 * file's input_series.  Pure: time is always passed in.
 */
#ifndef RULES_TSDB_H
#define RULES_TSDB_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"
#include "rules/expr.h"

struct tsdb;
struct tsdb_series;

struct tsdb	*tsdb_new(void);
void		 tsdb_free(struct tsdb *);

/*
 * How long points are kept, by tsdb_gc(): what the rules need of each
 * metric name.  range_ms: every point no older than that is kept (the
 * longest range plus offset any selector of the name uses).  keep_last:
 * the newest point is also kept while within the 5-minute lookback
 * of instant selectors, whatever its age against range_ms (an instant
 * selector without offset never reads anything older).  Names without a
 * setting of their own use the default (tsdb_set_retention(): range_ms
 * with keep_last).  tsdb_clear_needs() forgets the per-name settings.
 */
void		 tsdb_set_retention(struct tsdb *, int64_t range_ms);
int64_t		 tsdb_retention(const struct tsdb *);
void		 tsdb_set_need(struct tsdb *, const char *name,
		    int64_t range_ms, int keep_last);
void		 tsdb_clear_needs(struct tsdb *);

/*
 * The series with these labels (any order; must hold __name__), created
 * empty if new.  alias, if not NULL, is another key the caller can find
 * it by later with tsdb_alias() (the daemon uses the store's own text
 * form, so a snapshot needs no label parsing).  The pointer stays valid
 * until tsdb_gc() drops the series or tsdb_free().
 */
struct tsdb_series *tsdb_series_get(struct tsdb *, const struct np_labels *,
		    const char *alias);
struct tsdb_series *tsdb_alias(struct tsdb *, const char *alias);
const struct np_labels *tsdb_series_labels(const struct tsdb_series *);

/*
 * Add a point.  A point not after the series' newest one replaces it
 * when at the same time and is ignored when older: history only grows
 * forward.
 */
void		 tsdb_append(struct tsdb *, struct tsdb_series *, int64_t t_ms,
		    double v);

/*
 * A snapshot at t_ms: every series appended to between begin and commit
 * is "snapshotted"; at commit, each snapshotted series that got no point
 * in this snapshot (its source series went away) gets a staleness marker
 * at t_ms, once.  Series only ever fed outside snapshots are left alone.
 */
void		 tsdb_begin(struct tsdb *, int64_t t_ms);
void		 tsdb_commit(struct tsdb *);

/* Drop old points, and series left without any. */
void		 tsdb_gc(struct tsdb *, int64_t now_ms);

/* The rl_source the evaluator reads; valid while the tsdb lives. */
void		 tsdb_source(struct tsdb *, struct rl_source *);

size_t		 tsdb_nseries(const struct tsdb *);
size_t		 tsdb_npoints(const struct tsdb *);

#endif /* RULES_TSDB_H */
