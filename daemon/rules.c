/*
 * The rule engine in the daemon: one libevent timer per rule group.  At
 * each tick the store is snapshotted into the history (only the series
 * some selector of a rule reads), the group is evaluated over it
 * (rules/group.c,
 * the same code `--test-rules` runs), and what it produced is exported:
 * recording rules as gauges, ALERTS and ALERTS_FOR_STATE, and the engine's
 * own metrics.  Alert transitions are logged (and handed to notifiers).
 *
 * Timestamps are wall-clock milliseconds, as in Prometheus (time(),
 * ALERTS_FOR_STATE and `for` durations are in its terms).  Groups tick at
 * multiples of their interval since the epoch (Prometheus spreads them by
 * a hash instead): groups that tick together evaluate at the same time
 * over one snapshot, so the history holds one point per series per tick
 * of the fastest group, not one per group.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/daemon.h"
#include "daemon/snmp.h"
#include "daemon/state.h"
#include "daemon/yamldoc.h"
#include "rules/group.h"
#include "rules/labels.h"
#include "rules/tsdb.h"

struct rgroup {
	struct rules		*r;
	struct rl_group		*g;
	char			*key;		/* "file;group" as Prometheus */
	struct event		*ev;
	uint64_t		 interval_ms;
	int64_t			 last_t;	/* of its last evaluation */
	/* the engine's metrics of this group */
	struct series		*m_evals, *m_fails, *m_last_dur, *m_last_ts,
				*m_interval, *m_rules;
	/* what the group exports into the store (sorted pointers) */
	struct series		**out;
	size_t			 nout;
};

/* One selector of a metric name: its matchers, borrowed from a rule. */
struct sel {
	const struct rl_matcher	*m;
	size_t			 nm;
};

/*
 * What the rules read of one metric name (see tsdb_set_need()), and which
 * of its series: those some selector matches, or all of them.
 */
struct need {
	char			*name;
	int64_t			 range_ms;
	int			 keep_last;
	int			 all;	/* a selector with no other matcher */
	int			 by_le;	/* a matcher of the le label */
	struct sel		*sels;
	size_t			 nsels;
};

struct rules {
	struct np_daemon	*d;
	struct need		*needs;
	size_t			 nneeds;
	struct tsdb		*db;
	struct rgroup		*groups;
	size_t			 ngroups;
	/* metric names the rules read (sorted), or all of them */
	char			**reads;
	size_t			 nreads;
	int			 reads_all;
	/* names the rules write: snapshots skip them (sorted) */
	char			**writes;
	size_t			 nwrites;
	int64_t			 last_snap_ms;
	struct family		*f_evals, *f_fails, *f_last_dur, *f_last_ts,
				*f_interval, *f_rules, *f_dur, *f_alerts,
				*f_for_state;
	struct series		*m_series, *m_points, *m_dur, *m_snap;
};

/* ---- name sets ------------------------------------------------------ */

static int
strp_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static int
names_has(char **v, size_t n, const char *s)
{
	return (n > 0 && bsearch(&s, v, n, sizeof(*v), strp_cmp) != NULL);
}

static void
names_add(char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static void
names_sort(char **v, size_t *n)
{
	size_t	i, o = 0;

	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), strp_cmp);
	for (i = 1; i < *n; i++) {
		if (strcmp(v[o], v[i]) == 0)
			free(v[i]);
		else
			v[++o] = v[i];
	}
	*n = o + 1;
}

static void
names_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A selector of one metric: the snapshot must copy the series it matches,
 * and the history keep what it reads (see tsdb_set_need()).
 */
static void
read_name(void *arg, const char *name, int64_t range_ms, int64_t offset_ms,
    const struct rl_matcher *m, size_t nm)
{
	struct rules	*r = arg;
	struct need	*nd;
	size_t		 i, other = 0;
	int64_t		 back = offset_ms > 0 ? offset_ms : 0;

	names_add(&r->reads, &r->nreads, name);
	for (i = 0; i < r->nneeds; i++)
		if (strcmp(r->needs[i].name, name) == 0)
			break;
	if (i == r->nneeds) {
		r->needs = xreallocarray(r->needs, r->nneeds + 1,
		    sizeof(*r->needs));
		nd = &r->needs[r->nneeds++];
		memset(nd, 0, sizeof(*nd));
		nd->name = xstrdup(name);
	}
	nd = &r->needs[i];
	for (i = 0; i < nm; i++) {
		if (strcmp(m[i].name, "__name__") != 0)
			other++;
		if (strcmp(m[i].name, "le") == 0)
			nd->by_le = 1;
	}
	if (other == 0)
		nd->all = 1;
	else {
		nd->sels = xreallocarray(nd->sels, nd->nsels + 1,
		    sizeof(*nd->sels));
		nd->sels[nd->nsels].m = m;
		nd->sels[nd->nsels++].nm = nm;
	}
	if (range_ms > 0 && range_ms + back > nd->range_ms)
		nd->range_ms = range_ms + back;
	if (range_ms == 0 && offset_ms <= 0)
		nd->keep_last = 1;
	/* an instant selector with an offset: the lookback, that far back */
	if (range_ms == 0 && offset_ms > 0 && back + 5 * 60000 > nd->range_ms)
		nd->range_ms = back + 5 * 60000;
}

static void
needs_free(struct rules *r)
{
	size_t	i;

	for (i = 0; i < r->nneeds; i++) {
		free(r->needs[i].name);
		free(r->needs[i].sels);
	}
	free(r->needs);
	r->needs = NULL;
	r->nneeds = 0;
}

/* ---- snapshots of the store ----------------------------------------- */

struct snap {
	struct rules	*r;
	int64_t		 t;
	char		*key;
	size_t		 keycap;
	char		*val;		/* a label value, unescaped */
	size_t		 valcap;
	/* the name and series of the last sample, and what was decided */
	const char	*c_name, *c_suffix, *c_labels;
	char		 c_full[256];
	struct need	*c_need;
	int		 c_want;
};

/* Does any rule read this family (or its _bucket/_sum/_count)? */
static int
want_family(void *arg, const char *fam)
{
	struct rules	*r = ((struct snap *)arg)->r;
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	char		 buf[256];
	size_t		 i;

	if (names_has(r->writes, r->nwrites, fam))
		return (0);
	if (r->reads_all || names_has(r->reads, r->nreads, fam))
		return (1);
	for (i = 0; i < NP_NELEM(sfx); i++) {
		snprintf(buf, sizeof(buf), "%s%s", fam, sfx[i]);
		if (names_has(r->reads, r->nreads, buf))
			return (1);
	}
	return (0);
}

/*
 * One label of the store's label text (a="b",c="d" with \\, \" and \n
 * escaped, as store.c writes it), from *pp on: its name in [*name,
 * *name + *namelen) and its value unescaped into val, which has room for
 * strlen(*pp) + 1 bytes.  *pp moves past it.  0, or -1 if malformed.
 */
static int
label_next(const char **pp, const char **name, size_t *namelen, char *val)
{
	const char	*p = *pp, *q;
	size_t		 n = 0;

	for (q = p; *q != '=' && *q != '\0'; q++)
		;
	if (q[0] != '=' || q[1] != '"')
		return (-1);
	*name = p;
	*namelen = (size_t)(q - p);
	for (p = q + 2; *p != '"'; p++) {
		if (*p == '\0')
			return (-1);
		if (*p == '\\' && p[1] != '\0') {
			p++;
			val[n++] = *p == 'n' ? '\n' : *p;
		} else
			val[n++] = *p;
	}
	val[n] = '\0';
	p++;
	if (*p == ',')
		p++;
	*pp = p;
	return (0);
}

/* The label text back into a label set.  0, or -1 if malformed. */
static int
labels_from_text(const char *p, struct np_labels *l)
{
	const char	*name;
	char		*val, *nm;
	size_t		 len;
	int		 rc = 0;

	val = xmalloc(strlen(p) + 1);
	while (*p != '\0' && (rc = label_next(&p, &name, &len, val)) == 0) {
		nm = xmalloc(len + 1);
		memcpy(nm, name, len);
		nm[len] = '\0';
		rl_labels_set(l, nm, val);
		free(nm);
	}
	free(val);
	return (rc);
}

/*
 * Does some selector of this name match the series with this label text
 * (and le, for a bucket)?  Read the way rl_matcher_match() reads a label
 * set, without building one: this runs for every series at every tick.
 */
static int
need_wants(struct snap *sn, const struct need *nd, const char *labels,
    const char *le)
{
	const struct rl_matcher	*m;
	const char		*p, *name, *v;
	size_t			 i, j, len, need = strlen(labels) + 1;

	if (need > sn->valcap) {
		sn->valcap = need * 2;
		sn->val = xreallocarray(sn->val, sn->valcap, 1);
	}
	for (i = 0; i < nd->nsels; i++) {
		for (j = 0; j < nd->sels[i].nm; j++) {
			m = &nd->sels[i].m[j];
			if (strcmp(m->name, "__name__") == 0)
				v = sn->c_full;
			else if (le != NULL && strcmp(m->name, "le") == 0)
				v = le;
			else {
				v = "";
				for (p = labels; *p != '\0';) {
					if (label_next(&p, &name, &len,
					    sn->val) == -1)
						return (1);	/* keep it */
					if (strlen(m->name) == len &&
					    memcmp(m->name, name, len) == 0) {
						v = sn->val;
						break;
					}
				}
			}
			if (!rl_matcher_match_value(m, v))
				break;
		}
		if (j == nd->sels[i].nm)
			return (1);
	}
	return (0);
}

static int
need_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct need *)a)->name,
	    ((const struct need *)b)->name));
}

/* Does the snapshot copy this sample?  (Decided once per series.) */
static int
snap_wants(struct snap *sn, const char *name, const char *suffix,
    const char *labels, const char *le)
{
	struct rules	*r = sn->r;
	struct need	 key;

	if (name != sn->c_name || suffix != sn->c_suffix) {
		sn->c_name = name;
		sn->c_suffix = suffix;
		sn->c_labels = NULL;
		snprintf(sn->c_full, sizeof(sn->c_full), "%s%s", name, suffix);
		key.name = sn->c_full;
		sn->c_need = r->nneeds == 0 ? NULL : bsearch(&key, r->needs,
		    r->nneeds, sizeof(*r->needs), need_cmp);
	}
	if (r->reads_all)
		return (1);
	/* the _sum of a histogram whose buckets are read, say */
	if (sn->c_need == NULL)
		return (0);
	if (sn->c_need->all)
		return (1);
	if (labels != sn->c_labels || sn->c_need->by_le) {
		sn->c_labels = labels;
		sn->c_want = need_wants(sn, sn->c_need, labels, le);
	}
	return (sn->c_want);
}

static void
snap_sample(void *arg, const char *name, const char *suffix,
    const char *labels, const char *le, double v)
{
	struct snap		*sn = arg;
	struct tsdb_series	*s;
	struct np_labels	 l = { NULL, 0 };
	size_t			 need;

	if (!snap_wants(sn, name, suffix, labels, le))
		return;
	need = strlen(name) + strlen(suffix) + strlen(labels) +
	    (le ? strlen(le) : 0) + 8;
	if (need > sn->keycap) {
		sn->keycap = need * 2;
		sn->key = xreallocarray(sn->key, sn->keycap, 1);
	}
	snprintf(sn->key, sn->keycap, "%s%s{%s}%s", name, suffix, labels,
	    le ? le : "");
	if ((s = tsdb_alias(sn->r->db, sn->key)) == NULL) {
		if (labels_from_text(labels, &l) == -1) {
			rl_labels_free(&l);
			return;
		}
		rl_labels_set(&l, "__name__", sn->c_full);
		if (le != NULL)
			rl_labels_set(&l, "le", le);
		s = tsdb_series_get(sn->r->db, &l, sn->key);
		rl_labels_free(&l);
	}
	tsdb_append(sn->r->db, s, sn->t, v);
}

static void
snapshot(struct rules *r, int64_t t)
{
	struct snap	sn;
	uint64_t	t0;

	if (t == r->last_snap_ms)
		return;
	t0 = now_mono_ns();
	memset(&sn, 0, sizeof(sn));
	sn.r = r;
	sn.t = t;
	r->last_snap_ms = t;
	tsdb_begin(r->db, t);
	store_visit(r->d->store, want_family, snap_sample, &sn);
	tsdb_commit(r->db);
	free(sn.key);
	free(sn.val);
	series_set(r->m_snap, (double)(now_mono_ns() - t0) / 1e9);
}

/* ---- exporting results ---------------------------------------------- */

static int
ptr_cmp(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t)*(void *const *)a;
	uintptr_t	y = (uintptr_t)*(void *const *)b;

	return (x < y ? -1 : x > y);
}

struct export {
	struct rules	*r;
	struct series	**v;
	size_t		 n;
};

static void
export_one(struct export *e, struct family *f, const struct np_labels *l,
    double v)
{
	struct np_labels	copy;
	struct series		*s;

	rl_labels_copy(&copy, l);
	rl_labels_del(&copy, "__name__");
	s = store_series_v(e->r->d->store, f, &copy, NULL);
	rl_labels_free(&copy);
	series_set(s, v);
	e->v = xreallocarray(e->v, e->n + 1, sizeof(*e->v));
	e->v[e->n++] = s;
}

static void
export_alert(void *arg, const char *name, const struct np_labels *l,
    double v)
{
	struct export	*e = arg;

	export_one(e, strcmp(name, "ALERTS") == 0 ? e->r->f_alerts :
	    e->r->f_for_state, l, v);
}

/* Store series for everything the group produced; release the rest. */
static void
export_group(struct rgroup *rg)
{
	struct rules		*r = rg->r;
	struct export		 e = { r, NULL, 0 };
	struct family		*f;
	struct rl_rule_state	*rs;
	char			 help[512];
	size_t			 i, j;

	for (i = 0; i < rg->g->nrules; i++) {
		rs = &rg->g->rules[i];
		if (rs->alert != NULL) {
			alert_rule_series(rs->alert, export_alert, &e);
			continue;
		}
		if (store_family_type(r->d->store, rs->rule->name) !=
		    METRIC_GAUGE && store_family_type(r->d->store,
		    rs->rule->name) != -1)
			continue;	/* a built-in counter's name: not ours */
		snprintf(help, sizeof(help), "Recording rule %s (group %s).",
		    rs->rule->name, rg->key);
		f = store_family(r->d->store, rs->rule->name, help,
		    METRIC_GAUGE, NULL, 0);
		for (j = 0; j < rs->last.n; j++)
			export_one(&e, f, &rs->last.samples[j].labels,
			    rs->last.samples[j].v);
	}
	if (e.n > 1)
		qsort(e.v, e.n, sizeof(*e.v), ptr_cmp);
	for (i = 0; i < rg->nout; i++)
		if (e.n == 0 || bsearch(&rg->out[i], e.v, e.n, sizeof(*e.v),
		    ptr_cmp) == NULL)
			store_release(r->d->store, rg->out[i]);
	free(rg->out);
	rg->out = e.v;
	rg->nout = e.n;
}

static void
log_transitions(struct rgroup *rg)
{
	const struct alert_transition	*tr;
	char				 lab[512];
	size_t				 i, j;

	for (i = 0; i < rg->g->nrules; i++) {
		if (rg->g->rules[i].alert == NULL)
			continue;
		if (rg->g->rules[i].alert->ntrans > 0)
			state_dirty(rg->r->d);
		for (j = 0; j < rg->g->rules[i].alert->ntrans; j++) {
			tr = &rg->g->rules[i].alert->trans[j];
			if (tr->from == ALERT_PENDING && tr->to ==
			    ALERT_INACTIVE)
				continue;	/* never notified */
			rl_labels_string(&tr->alert.labels, lab, sizeof(lab));
			log_info("alert %s %s (value %g)", lab,
			    tr->to == ALERT_INACTIVE ? "resolved" :
			    alert_state_name(tr->to), tr->alert.value);
			/* managers hear of firing and resolved, as an
			 * Alertmanager would; pending is for /status */
			if (tr->to == ALERT_FIRING)
				snmp_notify_alert(rg->r->d, &tr->alert, 0);
			else if (tr->to == ALERT_INACTIVE)
				snmp_notify_alert(rg->r->d, &tr->alert, 1);
		}
	}
}

/* ---- evaluation ------------------------------------------------------ */

static int64_t
now_ms(void)
{
	return ((int64_t)(now_wall_ns() / 1000000));
}

/*
 * Arm the group's timer for its next multiple of the interval after
 * `after` (the tick just evaluated), or with after 0, for the first one:
 * the first multiple at least one interval away, so that the probes have
 * run once before the rules judge them (a restored firing alert would
 * otherwise resolve on an empty store).  Late ticks are not made up for.
 */
static void
group_schedule(struct rgroup *rg, int64_t now, int64_t after)
{
	int64_t		iv = (int64_t)rg->interval_ms, next;
	struct timeval	tv;

	if (iv <= 0)
		iv = 1000;
	if (after > 0)
		next = after / iv * iv + iv;
	else
		next = (now + 2 * iv - 1) / iv * iv;
	if (next <= now)
		next = now / iv * iv + iv;
	tv.tv_sec = (time_t)((next - now) / 1000);
	tv.tv_usec = (suseconds_t)((next - now) % 1000) * 1000;
	event_add(rg->ev, &tv);
}

static void
group_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct rgroup	*rg = arg;
	struct rules	*r = rg->r;
	int64_t		 now = now_ms(), iv = (int64_t)rg->interval_ms, t;
	size_t		 i, failed;

	(void)fd;
	(void)ev;
	/* the multiple of the interval it was due at (the timer never
	 * fires early; the wall clock may have moved a little) */
	if (iv <= 0)
		iv = 1000;
	t = (now + iv / 2) / iv * iv;
	group_schedule(rg, now, t);
	if (t == rg->last_t)
		return;
	rg->last_t = t;
	snapshot(r, t);
	failed = rl_group_eval(rg->g, r->db, t);
	for (i = 0; i < rg->g->nrules; i++)
		if (rg->g->rules[i].error[0] != '\0' &&
		    rg->g->rules[i].last_eval_ms == t)
			log_warnx("rule %s in %s: %s",
			    rg->g->rules[i].rule->name, rg->key,
			    rg->g->rules[i].error);
	series_add(rg->m_evals, 1);
	series_add(rg->m_fails, (double)failed);
	series_set(rg->m_last_dur, rg->g->last_duration_s);
	series_set(rg->m_last_ts, (double)t / 1000);
	series_observe(r->m_dur, rg->g->last_duration_s);
	export_group(rg);
	log_transitions(rg);
	tsdb_gc(r->db, t);
	series_set(r->m_series, (double)tsdb_nseries(r->db));
	series_set(r->m_points, (double)tsdb_npoints(r->db));
}

static void
families(struct rules *r, struct store *st)
{
	static const double	bounds[] = { 0.0001, 0.0003, 0.001, 0.003,
				    0.01, 0.03, 0.1, 0.3, 1, 3 };

	r->f_evals = store_family(st, "netprobe_rule_group_evaluations_total",
	    "Evaluations of each rule group.", METRIC_COUNTER, NULL, 0);
	r->f_fails = store_family(st,
	    "netprobe_rule_evaluation_failures_total",
	    "Rule evaluations that failed, by group.", METRIC_COUNTER, NULL,
	    0);
	r->f_last_dur = store_family(st,
	    "netprobe_rule_group_last_duration_seconds",
	    "How long the last evaluation of the group took.", METRIC_GAUGE,
	    NULL, 0);
	r->f_last_ts = store_family(st,
	    "netprobe_rule_group_last_evaluation_timestamp_seconds",
	    "When the group was last evaluated.", METRIC_GAUGE, NULL, 0);
	r->f_interval = store_family(st, "netprobe_rule_group_interval_seconds",
	    "The group's evaluation interval.", METRIC_GAUGE, NULL, 0);
	r->f_rules = store_family(st, "netprobe_rule_group_rules",
	    "Rules in the group.", METRIC_GAUGE, NULL, 0);
	r->f_dur = store_family(st, "netprobe_rule_evaluation_duration_seconds",
	    "Time to evaluate a rule group (snapshot excluded).",
	    METRIC_HISTOGRAM, bounds, NP_NELEM(bounds));
	r->m_dur = store_series(st, r->f_dur, NULL, NULL);
	r->m_snap = store_series(st, store_family(st,
	    "netprobe_rule_history_last_snapshot_duration_seconds",
	    "How long the last copy of the store into the rules' history "
	    "took.", METRIC_GAUGE, NULL, 0), NULL, NULL);
	r->m_series = store_series(st, store_family(st,
	    "netprobe_rule_history_series", "Series kept in the rules' "
	    "history.", METRIC_GAUGE, NULL, 0), NULL, NULL);
	r->m_points = store_series(st, store_family(st,
	    "netprobe_rule_history_points", "Points kept in the rules' "
	    "history.", METRIC_GAUGE, NULL, 0), NULL, NULL);
	r->f_alerts = store_family(st, "ALERTS", "Pending and firing alerts "
	    "(as in Prometheus).", METRIC_GAUGE, NULL, 0);
	r->f_for_state = store_family(st, "ALERTS_FOR_STATE", "When each "
	    "pending or firing alert became active, in seconds since the "
	    "epoch.", METRIC_GAUGE, NULL, 0);
}

static void
rgroup_metrics(struct rgroup *rg)
{
	struct rules	*r = rg->r;
	struct store	*st = r->d->store;

	rg->m_evals = store_series(st, r->f_evals, NULL, "rule_group",
	    rg->key, NULL);
	rg->m_fails = store_series(st, r->f_fails, NULL, "rule_group",
	    rg->key, NULL);
	rg->m_last_dur = store_series(st, r->f_last_dur, NULL, "rule_group",
	    rg->key, NULL);
	rg->m_last_ts = store_series(st, r->f_last_ts, NULL, "rule_group",
	    rg->key, NULL);
	rg->m_interval = store_series(st, r->f_interval, NULL, "rule_group",
	    rg->key, NULL);
	rg->m_rules = store_series(st, r->f_rules, NULL, "rule_group",
	    rg->key, NULL);
	series_set(rg->m_interval, (double)rg->interval_ms / 1000);
	series_set(rg->m_rules, (double)rg->g->nrules);
}

static void
rgroup_release(struct rules *r, struct rgroup *rg)
{
	struct store	*st = r->d->store;
	size_t		 i;

	if (rg->ev != NULL)
		event_free(rg->ev);
	for (i = 0; i < rg->nout; i++)
		store_release(st, rg->out[i]);
	free(rg->out);
	store_release(st, rg->m_evals);
	store_release(st, rg->m_fails);
	store_release(st, rg->m_last_dur);
	store_release(st, rg->m_last_ts);
	store_release(st, rg->m_interval);
	store_release(st, rg->m_rules);
	rl_group_free(rg->g);
	free(rg->key);
}

void
rules_apply(struct np_daemon *d, const struct np_config *conf)
{
	struct rules		*r = d->rules;
	struct rgroup		*ng = NULL, *old;
	const struct rule_file	*rf;
	size_t			 i, j, k, n = 0;
	int64_t			 retention = 0;

	if (r == NULL) {
		r = d->rules = xcalloc(1, sizeof(*r));
		r->d = d;
		r->db = tsdb_new();
		families(r, d->store);
	}
	names_free(r->reads, r->nreads);
	names_free(r->writes, r->nwrites);
	needs_free(r);
	r->reads = r->writes = NULL;
	r->nreads = r->nwrites = 0;
	r->reads_all = 0;
	names_add(&r->writes, &r->nwrites, "ALERTS");
	names_add(&r->writes, &r->nwrites, "ALERTS_FOR_STATE");

	for (i = 0; i < conf->nrule_files; i++)
		n += conf->rule_files[i]->ngroups;
	ng = xcalloc(n ? n : 1, sizeof(*ng));
	for (n = 0, i = 0; i < conf->nrule_files; i++) {
		rf = conf->rule_files[i];
		if (rf->max_lookback_ms > retention)
			retention = rf->max_lookback_ms;
		for (j = 0; j < rf->ngroups; j++, n++) {
			struct rgroup	*rg = &ng[n];

			rg->r = r;
			rg->g = rl_group_new(&rf->groups[j], rf->path);
			xasprintf(&rg->key, "%s;%s", rf->path,
			    rf->groups[j].name);
			rg->interval_ms = rl_group_interval_ms(rg->g,
			    conf->evaluation_interval_ms);
			for (k = 0; k < rf->groups[j].nrules; k++) {
				const struct rule *ru = &rf->groups[j].rules[k];

				if (rl_expr_metric_names(ru->expr, read_name,
				    r) != 0)
					r->reads_all = 1;
				if (ru->kind == RULE_RECORDING)
					names_add(&r->writes, &r->nwrites,
					    ru->name);
			}
			/* the same group before the reload: carry it on */
			for (k = 0; k < r->ngroups; k++) {
				old = &r->groups[k];
				if (old->key == NULL ||
				    strcmp(old->key, rg->key) != 0)
					continue;
				rl_group_carry(rg->g, old->g);
				rg->m_evals = old->m_evals;
				rg->m_fails = old->m_fails;
				rg->m_last_dur = old->m_last_dur;
				rg->m_last_ts = old->m_last_ts;
				rg->m_interval = old->m_interval;
				rg->m_rules = old->m_rules;
				rg->out = old->out;
				rg->nout = old->nout;
				old->m_evals = old->m_fails = NULL;
				old->m_last_dur = old->m_last_ts = NULL;
				old->m_interval = old->m_rules = NULL;
				old->out = NULL;
				old->nout = 0;
				break;
			}
			rgroup_metrics(rg);
		}
	}
	names_sort(r->reads, &r->nreads);
	if (r->nneeds > 1)
		qsort(r->needs, r->nneeds, sizeof(*r->needs), need_cmp);
	names_sort(r->writes, &r->nwrites);
	for (k = 0; k < r->ngroups; k++)
		rgroup_release(r, &r->groups[k]);
	free(r->groups);
	r->groups = ng;
	r->ngroups = n;
	/*
	 * Keep what each selector reads, no more: with a selector of no
	 * fixed name (a regex on __name__), everything for the longest
	 * lookback; else other names (rule outputs nobody reads) only
	 * their newest point.
	 */
	tsdb_clear_needs(r->db);
	for (i = 0; i < r->nneeds; i++)
		tsdb_set_need(r->db, r->needs[i].name, r->needs[i].range_ms,
		    r->needs[i].keep_last);
	tsdb_set_retention(r->db, r->reads_all ? retention : 0);
	for (i = 0; i < n; i++) {
		ng[i].ev = evtimer_new(d->base, group_tick, &ng[i]);
		if (ng[i].ev == NULL)
			fatalx("event_new failed");
		group_schedule(&ng[i], now_ms(), 0);
	}
}

void
rules_foreach_alert(struct np_daemon *d, rules_alert_fn fn, void *arg)
{
	struct rules			*r = d->rules;
	const struct rl_rule_state	*rs;
	size_t				 i, j, k;

	for (i = 0; r != NULL && i < r->ngroups; i++)
		for (j = 0; j < r->groups[i].g->nrules; j++) {
			rs = &r->groups[i].g->rules[j];
			for (k = 0; rs->alert != NULL &&
			    k < rs->alert->nalerts; k++)
				fn(arg, r->groups[i].key, j,
				    &rs->alert->alerts[k]);
		}
}

/* ---- /status -------------------------------------------------------- */

static void
json_labels(struct evbuffer *b, const struct np_labels *l)
{
	size_t	i;

	evbuffer_add(b, "{", 1);
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		json_str(b, l->v[i].name);
		evbuffer_add(b, ":", 1);
		json_str(b, l->v[i].value);
	}
	evbuffer_add(b, "}", 1);
}

static void
json_alert(struct evbuffer *b, const struct rgroup *rg,
    const struct alert *a)
{
	const char	*name = rl_labels_get(&a->labels, "alertname");

	evbuffer_add_printf(b, "{\"name\":");
	json_str(b, name != NULL ? name : "");
	evbuffer_add_printf(b, ",\"state\":\"%s\",\"labels\":",
	    a->state == ALERT_INACTIVE ? "resolved" :
	    alert_state_name(a->state));
	json_labels(b, &a->labels);
	evbuffer_add_printf(b, ",\"annotations\":");
	json_labels(b, &a->annotations);
	evbuffer_add_printf(b, ",\"value\":");
	json_num(b, a->value);
	evbuffer_add_printf(b, ",\"active_since\":");
	json_time(b, a->active_at_ms);
	evbuffer_add_printf(b, ",\"fired_at\":");
	json_time(b, a->fired_at_ms);
	evbuffer_add_printf(b, ",\"resolved_at\":");
	json_time(b, a->resolved_at_ms);
	evbuffer_add_printf(b, ",\"group\":");
	json_str(b, rg->key);
	evbuffer_add(b, "}", 1);
}

/* ---- the state file ------------------------------------------------- */

struct state_out {
	struct evbuffer	*b;
	size_t		 n;
};

static void
state_alert(void *arg, const char *group, size_t index,
    const struct alert *a)
{
	struct state_out	*o = arg;
	struct evbuffer		*b = o->b;
	const char		*rule = rl_labels_get(&a->labels, "alertname");

	if (a->state == ALERT_INACTIVE || rule == NULL)
		return;
	evbuffer_add_printf(b, "%s\n{\"group\":", o->n++ ? "," : "");
	json_str(b, group);
	evbuffer_add_printf(b, ",\"rule\":");
	json_str(b, rule);
	evbuffer_add_printf(b, ",\"index\":%zu,\"state\":\"%s\",\"labels\":",
	    index, alert_state_name(a->state));
	json_labels(b, &a->labels);
	evbuffer_add_printf(b, ",\"annotations\":");
	json_labels(b, &a->annotations);
	evbuffer_add_printf(b, ",\"value\":");
	json_num(b, a->value);
	evbuffer_add_printf(b, ",\"active_at_ms\":%lld,\"fired_at_ms\":%lld,"
	    "\"keep_firing_since_ms\":%lld}", (long long)a->active_at_ms,
	    (long long)a->fired_at_ms, (long long)a->keep_firing_since_ms);
}

/* "alerts":[...]: every pending and firing alert, with its rule. */
void
rules_state_write(struct np_daemon *d, struct evbuffer *b)
{
	struct state_out	o = { b, 0 };

	/*
	 * The rule's index in its group is saved too, so rules sharing an
	 * alert name (the shipped ExtranetDetached, one per layer) each get
	 * their own alerts back.
	 */
	evbuffer_add_printf(b, "\"alerts\":[");
	rules_foreach_alert(d, state_alert, &o);
	evbuffer_add(b, "]", 1);
}

/* Each saved alert back into its rule (same group and rule name). */
void
rules_state_restore(struct np_daemon *d, struct yamldoc *yd,
    yaml_node_t *alerts)
{
	struct rules		*r = d->rules;
	struct rl_rule_state	*rs;
	struct alert		 a;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	const char		*group, *rule, *state;
	size_t			 i, j, restored = 0;
	int64_t			 index;

	if (r == NULL || alerts == NULL || alerts->type != YAML_SEQUENCE_NODE)
		return;
	for (it = alerts->data.sequence.items.start;
	    it < alerts->data.sequence.items.top; it++) {
		n = yd_node(yd, *it);
		group = state_str(yd, n, "group");
		rule = state_str(yd, n, "rule");
		state = state_str(yd, n, "state");
		if (group == NULL || rule == NULL || state == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		a.state = strcmp(state, "firing") == 0 ? ALERT_FIRING :
		    strcmp(state, "pending") == 0 ? ALERT_PENDING :
		    ALERT_INACTIVE;
		if (a.state == ALERT_INACTIVE)
			continue;
		state_labels(yd, n, "labels", &a.labels);
		state_labels(yd, n, "annotations", &a.annotations);
		a.value = state_num(yd, n, "value");
		a.active_at_ms = state_int(yd, n, "active_at_ms", 0);
		a.fired_at_ms = state_int(yd, n, "fired_at_ms", 0);
		a.keep_firing_since_ms = state_int(yd, n,
		    "keep_firing_since_ms", 0);
		index = state_int(yd, n, "index", -1);
		/* the rule must still be there, under the same group */
		for (i = 0; i < r->ngroups; i++) {
			if (strcmp(r->groups[i].key, group) != 0)
				continue;
			/* the saved index while that rule still has the
			 * name (several may share it); else the first */
			j = 0;
			if (index >= 0 && (uint64_t)index <
			    r->groups[i].g->nrules &&
			    strcmp(r->groups[i].g->rules[index].rule->name,
			    rule) == 0)
				j = (size_t)index;
			for (; j < r->groups[i].g->nrules; j++) {
				rs = &r->groups[i].g->rules[j];
				if (rs->alert == NULL ||
				    strcmp(rs->rule->name, rule) != 0)
					continue;
				alert_rule_restore(rs->alert, &a);
				restored++;
				break;
			}
			break;
		}
		rl_labels_free(&a.labels);
		rl_labels_free(&a.annotations);
	}
	if (restored > 0)
		log_info("restored %zu pending or firing alerts", restored);
}

void
rules_status(struct np_daemon *d, struct evbuffer *b)
{
	struct rules			*r = d->rules;
	const struct rgroup		*rg;
	const struct rl_rule_state	*rs;
	size_t				 i, j, k, n = 0;

	evbuffer_add_printf(b, "\"alerts\":[");
	for (i = 0; r != NULL && i < r->ngroups; i++) {
		rg = &r->groups[i];
		for (j = 0; j < rg->g->nrules; j++) {
			rs = &rg->g->rules[j];
			for (k = 0; rs->alert != NULL &&
			    k < rs->alert->nalerts; k++) {
				if (n++ > 0)
					evbuffer_add(b, ",", 1);
				json_alert(b, rg, &rs->alert->alerts[k]);
			}
		}
	}
	evbuffer_add_printf(b, "],\"rule_groups\":[");
	for (i = 0; r != NULL && i < r->ngroups; i++) {
		rg = &r->groups[i];
		evbuffer_add_printf(b, "%s{\"name\":", i ? "," : "");
		json_str(b, rg->g->group->name);
		evbuffer_add_printf(b, ",\"file\":");
		json_str(b, rg->g->file);
		evbuffer_add_printf(b, ",\"interval_seconds\":");
		json_num(b, (double)rg->interval_ms / 1000);
		evbuffer_add_printf(b, ",\"last_evaluation\":");
		json_time(b, rg->g->last_eval_ms);
		evbuffer_add_printf(b, ",\"last_duration_seconds\":");
		json_num(b, rg->g->last_duration_s);
		evbuffer_add_printf(b, ",\"rules\":[");
		for (j = 0; j < rg->g->nrules; j++) {
			rs = &rg->g->rules[j];
			evbuffer_add_printf(b, "%s{\"name\":", j ? "," : "");
			json_str(b, rs->rule->name);
			evbuffer_add_printf(b, ",\"type\":\"%s\",\"query\":",
			    rs->alert != NULL ? "alerting" : "recording");
			json_str(b, rs->rule->expr_text);
			evbuffer_add_printf(b, ",\"health\":\"%s\","
			    "\"last_error\":", rs->last_eval_ms == 0 ?
			    "unknown" : rs->error[0] ? "err" : "ok");
			json_str(b, rs->error);
			evbuffer_add_printf(b, ",\"evaluations\":%llu,"
			    "\"failures\":%llu}",
			    (unsigned long long)rs->evaluations,
			    (unsigned long long)rs->failures);
		}
		evbuffer_add(b, "]}", 2);
	}
	evbuffer_add(b, "]", 1);
}

void
rules_free(struct np_daemon *d)
{
	struct rules	*r = d->rules;
	size_t		 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ngroups; i++)
		rgroup_release(r, &r->groups[i]);
	free(r->groups);
	names_free(r->reads, r->nreads);
	names_free(r->writes, r->nwrites);
	needs_free(r);
	tsdb_free(r->db);
	free(r);
	d->rules = NULL;
}
