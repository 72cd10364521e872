/*
 * The rule expression language: a documented subset of PromQL, parsed
 * into a tree and evaluated over a data source (the series store, or the
 * input series of a rule test).  Pure: no I/O, no clock (time is passed).
 */
#ifndef RULES_EXPR_H
#define RULES_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"

struct rl_expr;

/* One sample of a series. */
struct rl_point {
	int64_t		t_ms;
	double		v;
};

/*
 * Prometheus' staleness marker (value.StaleNaN), the point a source keeps
 * when a series stops existing: an instant selector sees no sample when
 * the newest point in its lookback window is one, and range functions
 * skip them.  Every other NaN is an ordinary value.
 */
double		 rl_stale_nan(void);
int		 rl_is_stale(double);

/*
 * Where series come from.  select() calls fn once per series whose
 * labels (including __name__) satisfy every matcher, with that series'
 * points in [from_ms, to_ms], oldest first (windows are closed, as in
 * Prometheus 2.x; 3.x made them left-open).
 */
enum rl_match_op { RL_EQ, RL_NEQ, RL_RE, RL_NRE };

struct rl_matcher {
	const char		*name;
	const char		*value;
	enum rl_match_op	 op;
	const void		*re;	/* compiled regex for RL_RE/RL_NRE:
					 * a regex_t, POSIX ERE (not RE2),
					 * anchored as ^(value)$ */
};

/* Does one label set satisfy a matcher?  (Shared by every source.) */
int		 rl_matcher_match(const struct rl_matcher *,
		    const struct np_labels *);
/* Does this value of the matcher's label ("" when absent) satisfy it? */
int		 rl_matcher_match_value(const struct rl_matcher *,
		    const char *value);

typedef void (*rl_series_fn)(void *cbarg, const struct np_labels *labels,
    const struct rl_point *pts, size_t npts);

struct rl_source {
	void	 *arg;
	void	(*select)(void *arg, const struct rl_matcher *, size_t nm,
		    int64_t from_ms, int64_t to_ms, rl_series_fn fn,
		    void *cbarg);
};

/* A result: a scalar, or an instant vector of labelled samples. */
enum rl_value_type { RL_SCALAR, RL_VECTOR };

struct rl_sample {
	struct np_labels	 labels;	/* sorted by name, owned */
	double			 v;
};

struct rl_value {
	enum rl_value_type	 type;
	double			 scalar;
	struct rl_sample	*samples;
	size_t			 n;
};

/*
 * Parse an expression.  Returns the tree, or NULL with a message in err
 * and the 0-based byte offset of the problem in *err_offset.
 */
struct rl_expr	*rl_expr_parse(const char *text, size_t *err_offset,
		    char *err, size_t errlen);
void		 rl_expr_free(struct rl_expr *);
/* The expression as canonical text (caller frees). */
char		*rl_expr_string(const struct rl_expr *);
/*
 * The same with every binary and unary operation in parentheses, to show
 * how precedence grouped it (caller frees); for tests and debugging.
 */
char		*rl_expr_dump(const struct rl_expr *);
/* The longest range (plus offset) it looks back, in ms: history needed. */
int64_t		 rl_expr_lookback_ms(const struct rl_expr *);

/*
 * Call fn for every selector that names one metric, with the name, its
 * range (0 for an instant selector), its offset and all its matchers
 * (the __name__ one included; valid while the expression lives).
 * Returns 0, or -1 when some selector names no single metric (a regex
 * on __name__, or none): then it may read any series.
 */
typedef void	(*rl_selector_fn)(void *arg, const char *name,
		    int64_t range_ms, int64_t offset_ms,
		    const struct rl_matcher *m, size_t nm);
int		 rl_expr_metric_names(const struct rl_expr *, rl_selector_fn,
		    void *arg);

/*
 * Evaluate at time t_ms.  0 and *out filled (free with rl_value_free),
 * or -1 with a message in err (e.g. "many-to-many matching not allowed").
 */
int		 rl_expr_eval(const struct rl_expr *, const struct rl_source *,
		    int64_t t_ms, struct rl_value *out, char *err,
		    size_t errlen);
void		 rl_value_free(struct rl_value *);

#endif
