/*
 * libFuzzer target: the PromQL-subset parser and evaluator (rules/expr.h)
 * over the rules' own history (rules/tsdb.h).  The input is an
 * expression; if it parses, its canonical text must parse again to the
 * same text, and it is evaluated against a small fixed history (built
 * once, never written after that).
 */
#include "config.h"

#include "daemon/netprobed.h"
#include "rules/expr.h"
#include "rules/labels.h"
#include "rules/tsdb.h"
#include "tests/fuzz/fuzz.h"

#define S	1000LL
#define T	(10000 * S)		/* evaluation time */

static struct tsdb	*db;
static struct rl_source	 src;

static void
put(const char *const *lab, const double *v, size_t n)
{
	struct np_labels	 l = { NULL, 0 };
	struct tsdb_series	*s;
	size_t			 i;

	for (i = 0; lab[i] != NULL; i += 2)
		rl_labels_set(&l, lab[i], lab[i + 1]);
	s = tsdb_series_get(db, &l, NULL);
	/* one point a minute, the last at T */
	for (i = 0; i < n; i++)
		tsdb_append(db, s, T - (int64_t)(n - 1 - i) * 60 * S, v[i]);
	rl_labels_free(&l);
}

static void
history(void)
{
	static const char *const l1[] = { "__name__", "probe_success",
	    "instance", "10.1.0.1", "job", "extranet", NULL };
	static const char *const l2[] = { "__name__", "probe_success",
	    "instance", "10.1.0.2", "job", "city", NULL };
	static const char *const l3[] = { "__name__",
	    "probe_duration_seconds", "instance", "10.1.0.1", "job",
	    "extranet", NULL };
	static const char *const l4[] = { "__name__",
	    "netprobe_runs_total", "instance", "10.1.0.1", "job", "extranet",
	    NULL };
	static const char *const l5[] = { "__name__", "req_bucket", "le",
	    "0.1", NULL };
	static const char *const l6[] = { "__name__", "req_bucket", "le",
	    "+Inf", NULL };
	static const double v1[] = { 1, 1, 0, 1, 1, 0 };
	static const double v2[] = { 0, 0, 0, 1 };
	static const double v3[] = { 0.012, 0.3, 0.0021, 1.5, 0.04, 0.05 };
	static const double v4[] = { 10, 20, 30, 5, 15, 25 };
	static const double v5[] = { 3, 6 };
	static const double v6[] = { 10, 20 };

	db = tsdb_new();
	put(l1, v1, 6);
	put(l2, v2, 4);
	put(l3, v3, 6);
	put(l4, v4, 6);
	put(l5, v5, 2);
	put(l6, v6, 2);
	tsdb_source(db, &src);
}

static void
name_cb(void *arg, const char *name, int64_t range_ms, int64_t offset_ms,
    const struct rl_matcher *m, size_t nm)
{
	size_t	i;

	(void)arg;
	(void)offset_ms;
	/* the name given is the selector's own __name__="..." matcher */
	for (i = 0; i < nm; i++)
		if (m[i].op == RL_EQ && strcmp(m[i].name, "__name__") == 0 &&
		    m[i].value == name)
			break;
	if (i == nm || range_ms < 0) {
		fprintf(stderr, "metric name %s: not a matcher of its "
		    "selector\n", name);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_expr	*e, *e2;
	struct rl_value	 v;
	char		*text, *canon, *canon2, err[256];
	size_t		 off;

	if (db == NULL)
		history();
	text = fuzz_strdup(data, size);
	if ((e = rl_expr_parse(text, &off, err, sizeof(err))) == NULL) {
		if (off > size)
			abort();	/* the error points into the text */
		free(text);
		return (0);
	}
	canon = rl_expr_string(e);
	if ((e2 = rl_expr_parse(canon, &off, err, sizeof(err))) == NULL) {
		fprintf(stderr, "canonical text does not parse: %s\n"
		    "  input %s\n  canon %s\n", err, text, canon);
		abort();
	}
	canon2 = rl_expr_string(e2);
	if (strcmp(canon, canon2) != 0) {
		fprintf(stderr, "canonical text is not stable:\n"
		    "  %s\n  %s\n", canon, canon2);
		abort();
	}
	free(canon2);
	rl_expr_free(e2);
	free(canon);
	free(rl_expr_dump(e));
	(void)rl_expr_lookback_ms(e);
	(void)rl_expr_metric_names(e, name_cb, NULL);
	if (rl_expr_eval(e, &src, T, &v, err, sizeof(err)) == 0)
		rl_value_free(&v);
	if (rl_expr_eval(e, &src, T + 90 * S, &v, err, sizeof(err)) == 0)
		rl_value_free(&v);
	rl_expr_free(e);
	free(text);
	return (0);
}
