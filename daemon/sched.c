/*
 * The scheduler: every probe x target runs at its interval on the
 * monotonic clock, at a fixed phase so load is spread evenly and the
 * rhythm survives reloads.  A run never overlaps the previous run of the
 * same probe x target (timeout < interval is enforced by the config; a
 * tick that still finds a run going is skipped and logged).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon/daemon.h"
#include "daemon/audit.h"
#include "daemon/sweep.h"
#include "probes/isolation.h"
#include "rules/labels.h"

uint64_t
sched_phase(size_t i, size_t n, uint64_t interval_ms)
{
	/* i < n <= a few million, interval <= 24h: the product fits */
	if (n == 0 || interval_ms == 0)
		return (0);
	return ((uint64_t)(i % n) * interval_ms / n);
}

uint64_t
sched_next(uint64_t now, uint64_t last, uint64_t phase, uint64_t interval)
{
	uint64_t	next;

	if (last != 0 && last + interval > now)
		return (last + interval);
	/* first slot strictly after now with next % interval == phase */
	next = now - now % interval + phase;
	while (next <= now)
		next += interval;
	return (next);
}

static uint64_t
now_ms(void)
{
	return (now_mono_ns() / 1000000);
}

static void	run_log(struct target_state *, const struct probe_obs *, int);

/*
 * Batching: a timer wakeup costs more than an ICMP probe (about 20 us
 * against 2-10 us on a small gateway; docs/performance.md), so starts are
 * rounded up to a multiple of a quantum and every target due in the same
 * quantum starts in one wakeup.  The quantum is a hundredth of the
 * interval, at most SCHED_BATCH_MS: a run starts at most that late (the
 * lag gauge shows it), always by the same amount for a given target, so
 * its rhythm and the no-overlap rule (timeout < interval) hold.
 */
#define SCHED_BATCH_MS	10

static uint64_t
batch_ms(uint64_t at, uint64_t interval)
{
	uint64_t	q = interval / 100;

	if (q > SCHED_BATCH_MS)
		q = SCHED_BATCH_MS;
	if (q <= 1)
		return (at);
	return ((at + q - 1) / q * q);
}

/*
 * The targets that start at one time share one timer: a batch, found by
 * its start in a small hash (there are at most interval/quantum starts
 * pending per interval).  Arming a target is an append, not a timer
 * insert into libevent's heap of 10,000 (a cache miss per level), and a
 * wakeup walks one array.
 */
struct sched_batch {
	uint64_t		 start_ms;
	struct event		*ev;
	struct target_state	**v;
	size_t			 n, cap;
	struct sched_batch	*next;		/* hash chain, or free list */
};

#define BATCH_HASH	256
static struct sched_batch	*batches[BATCH_HASH], *batch_free;
static struct event_base	*batch_base;

static void	batch_fire(evutil_socket_t, short, void *);

static void
unbatch(struct target_state *ts)
{
	struct sched_batch	*b = ts->batch;

	if (b == NULL)
		return;
	b->v[ts->batch_idx] = b->v[--b->n];
	b->v[ts->batch_idx]->batch_idx = ts->batch_idx;
	ts->batch = NULL;
}

static void
arm(struct target_state *ts, uint64_t at)
{
	uint64_t		 start = batch_ms(at, ts->cfg->interval_ms),
				 now = now_mono_ns() / 1000, d;
	struct sched_batch	**pp = &batches[start % BATCH_HASH], *b;
	struct timeval		 tv;

	ts->next_ms = at;
	unbatch(ts);
	for (b = *pp; b != NULL && b->start_ms != start; b = b->next)
		;
	if (b == NULL) {
		if ((b = batch_free) != NULL)
			batch_free = b->next;
		else {
			b = xcalloc(1, sizeof(*b));
			if ((b->ev = evtimer_new(batch_base, batch_fire,
			    b)) == NULL)
				fatalx("evtimer_new failed");
		}
		b->start_ms = start;
		b->next = *pp;
		*pp = b;
		/* in microseconds: a start already past fires at once */
		d = start * 1000 > now ? start * 1000 - now : 0;
		tv.tv_sec = (time_t)(d / 1000000);
		tv.tv_usec = (suseconds_t)(d % 1000000);
		evtimer_add(b->ev, &tv);
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
	}
	ts->batch = b;
	ts->batch_idx = b->n;
	b->v[b->n++] = ts;
}

static void	tick(struct target_state *);

/* Take the batch out of the hash first: its targets re-arm as they run. */
static void
batch_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct sched_batch	*b = arg, **pp;
	struct target_state	*ts;

	(void)fd;
	(void)ev;
	for (pp = &batches[b->start_ms % BATCH_HASH]; *pp != b;
	    pp = &(*pp)->next)
		;
	*pp = b->next;
	while (b->n > 0) {
		ts = b->v[b->n - 1];
		unbatch(ts);
		tick(ts);
	}
	/* a batch that held thousands keeps its array for the next */
	b->next = batch_free;
	batch_free = b;
}

static void
batches_free(void)
{
	struct sched_batch	*b;
	size_t			 i;

	for (i = 0; i < BATCH_HASH; i++)
		while ((b = batches[i]) != NULL) {
			batches[i] = b->next;
			b->next = batch_free;
			batch_free = b;
		}
	while ((b = batch_free) != NULL) {
		batch_free = b->next;
		event_free(b->ev);
		free(b->v);
		free(b);
	}
}

/*
 * The positive control of a negative probe: all its targets' latest
 * runs succeeded, and recently enough to speak for this cycle (within
 * its interval and timeout, plus a second of slack for the loop).
 */
enum iso_control
sched_control_state(struct np_daemon *d, const struct probe_cfg *cfg)
{
	const struct probe_cfg	*ctl;
	double			 now = (double)now_wall_ns() / 1e9, age;
	size_t			 i, n = 0;

	if (cfg->iso.control == NULL)
		return (IC_NONE);
	if ((ctl = config_find_probe(d->conf, cfg->iso.control)) == NULL)
		return (IC_UNKNOWN);
	age = (double)(ctl->interval_ms + ctl->timeout_ms) / 1e3 + 1;
	for (i = 0; i < d->nts; i++) {
		struct target_state	*c = d->ts[i];

		if (c->cfg != ctl)
			continue;
		if (c->last_ok == -1 ||
		    now - series_value(c->last_run) > age)
			return (IC_UNKNOWN);
		if (!c->last_ok)
			return (IC_FAILED);
		n++;
	}
	return (n > 0 ? IC_OK : IC_UNKNOWN);
}

void
sched_verdict(struct np_daemon *d, struct target_state *ts, const char *target,
    const struct iso_judgement *j, int was)
{
	struct np_labels	 f = { NULL, 0 };
	const char		*prev = was < 0 ? "none" :
				    iso_verdict_name((enum iso_verdict)was);

	log_msg(j->verdict == IV_LEAK ? LOG_LVL_WARN : LOG_LVL_INFO,
	    "probe %s target %s: isolation %s (%s%s%s; was %s)", ts->cfg->name,
	    target, iso_verdict_name(j->verdict), j->reason,
	    j->from[0] ? " from " : "", j->from, prev);
	rl_labels_set(&f, "probe", ts->cfg->name);
	rl_labels_set(&f, "type", ts->cfg->type->name);
	rl_labels_set(&f, "target", target);
	rl_labels_set(&f, "verdict", iso_verdict_name(j->verdict));
	rl_labels_set(&f, "reason", j->reason);
	rl_labels_set(&f, "from", j->from);
	rl_labels_set(&f, "previous", prev);
	audit_record(d->audit, "verdict", &f);
	rl_labels_free(&f);
}

/* A negative probe's run: its verdict, logged and audited on change. */
static void
judge(struct np_daemon *d, struct target_state *ts, struct probe_run *run)
{
	struct iso_judgement	 j;
	int			 was = ts->iso->verdict;

	isolation_judge(run, sched_control_state(d, ts->cfg), &j);
	if (isolation_record(ts, &j))
		sched_verdict(d, ts, ts->cfg->targets[ts->target], &j, was);
}

/*
 * A run (with its type's state, 3 KiB for icmp) is only needed while it
 * is in flight: finished runs go back to a pool and the next due target
 * takes one, so memory follows the runs in flight, not the targets
 * (10,000 targets at 1 s have a handful in flight), and the runs in use
 * stay in the cache.
 */
static struct probe_run	**pool;
static size_t		  npool, pool_cap;
/*
 * The pool grows to the most runs ever in flight at once, which is a
 * burst (at start, 10,000 targets at 1 s had 2,400 in flight while the
 * loop caught up: 7.5 MB).  Runs that stayed in the pool through a whole
 * POOL_TRIM_MS period (the fewest it held, pool_low) are freed.
 */
#define POOL_TRIM_MS	10000
#define POOL_KEEP	16
static size_t		  pool_low, nput;
static uint64_t		  pool_trim_ms;

static struct probe_run *
run_get(void)
{
	if (npool > 0) {
		if (--npool < pool_low)
			pool_low = npool;
		return (pool[npool]);
	}
	pool_low = 0;
	return (xcalloc(1, sizeof(struct probe_run)));
}

static void
pool_trim(void)
{
	size_t	n = pool_low > POOL_KEEP ? pool_low - POOL_KEEP : 0, i;

	/* the bottom of the stack is what went unused longest */
	for (i = 0; i < n; i++)
		probe_run_free(pool[i]);
	memmove(pool, pool + n, (npool - n) * sizeof(*pool));
	npool -= n;
	pool_low = npool;
	/* 3 KiB runs freed amid the heap: give their pages back */
	if (n >= 64)
		heap_trim();
}

static void
run_put(struct probe_run *run)
{
	uint64_t	now;

	if (npool == pool_cap) {
		pool_cap = pool_cap ? pool_cap * 2 : 64;
		pool = xreallocarray(pool, pool_cap, sizeof(*pool));
	}
	pool[npool++] = run;
	if ((++nput & 255) == 0 && (now = now_ms()) >= pool_trim_ms +
	    POOL_TRIM_MS) {
		if (pool_trim_ms != 0)
			pool_trim();
		pool_low = npool;
		pool_trim_ms = now;
	}
}

static void
run_done(struct probe_run *run, void *arg)
{
	struct target_state	*ts = arg;
	const struct probe_obs	*obs = &run->obs;
	int			 ok = obs->result == PR_SUCCESS;

	ts->running = 0;
	target_state_record(ts, run);
	if (ts->iso != NULL) {
		judge(ts->owner, ts, run);
		ts->last_ok = ok;
	} else
		run_log(ts, obs, ok);
	/* the type's code that called probe_done() may still read its
	 * state on the way out: the run is only reused at a later tick */
	ts->run = NULL;
	run_put(run);
}

static void
run_log(struct target_state *ts, const struct probe_obs *obs, int ok)
{
	if (ts->last_ok != ok)
		log_msg(ts->last_ok == -1 ? LOG_LVL_DEBUG : LOG_LVL_INFO,
		    "probe %s target %s: %s (%s%s%s)", ts->cfg->name,
		    ts->cfg->targets[ts->target], ok ? "up" : "down",
		    ok && ts->cfg->type->success_word ?
		    ts->cfg->type->success_word : probe_result_name(obs->result),
		    obs->detail[0] ? ": " : "", obs->detail);
	ts->last_ok = ok;
}

static void
tick(struct target_state *ts)
{
	struct np_daemon	*d = ts->owner;

	if (ts->running) {
		ts->skipped++;
		log_debug("probe %s target %s: previous run still going, "
		    "skipped", ts->cfg->name, ts->cfg->targets[ts->target]);
	} else if (ts->cfg->iso.sweep != NULL) {
		sweep_tick(d, ts);
	} else {
		if (ts->run == NULL)
			ts->run = run_get();
		ts->running = 1;
		ts->run->lag = ts->next_ms != 0 && now_ms() > ts->next_ms ?
		    (double)(now_ms() - ts->next_ms) / 1e3 : 0;
		probe_run_start(ts->run, d->base, ts->cfg, ts->target,
		    run_done, ts);
	}
	arm(ts, sched_next(now_ms(), ts->next_ms, ts->phase_ms,
	    ts->cfg->interval_ms));
}

/*
 * A kept target may have new options (a JSON key, a changed expectation):
 * let the type attach again.  Series with the same labels come back as
 * the same objects, so counters continue; those it no longer makes go.
 */
static void
reattach(struct target_state *ts)
{
	struct series	*old[TS_MAX_EXTRA];
	size_t		 i, j;

	if (ts->cfg->iso.blocked)
		isolation_attach(ts);
	else
		isolation_detach(ts);
	target_state_histograms(ts);	/* histograms: may have changed */
	if (ts->cfg->type->attach == NULL)
		return;
	/* (the type is part of the key: a kept target keeps its nextra) */
	memcpy(old, ts->extra, ts->nextra * sizeof(old[0]));
	memset(ts->extra, 0, ts->nextra * sizeof(old[0]));
	ts->cfg->type->attach(ts);
	for (i = 0; i < ts->nextra; i++) {
		for (j = 0; old[i] != NULL && j < ts->nextra; j++)
			if (ts->extra[j] == old[i])
				break;
		if (old[i] != NULL && j == ts->nextra)
			store_release(ts->store, old[i]);
	}
}

/* A running target by its identity (target_state_key), for reload. */
struct keyed {
	char			*key;
	struct target_state	*ts;
	int			 taken;		/* by the new configuration */
};

static int
keyed_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct keyed *)a)->key,
	    ((const struct keyed *)b)->key));
}

static int
key_cmp(const void *key, const void *b)
{
	return (strcmp(key, ((const struct keyed *)b)->key));
}

/* Spread each group of targets sharing an interval over that interval. */
static void
assign_phases(struct target_state **ts, size_t n)
{
	size_t		 i, j, k, group;
	uint64_t	 iv;
	char		*done = xcalloc(n, 1);

	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		iv = ts[i]->cfg->interval_ms;
		for (group = 0, j = i; j < n; j++)
			group += ts[j]->cfg->interval_ms == iv;
		for (k = 0, j = i; j < n; j++)
			if (ts[j]->cfg->interval_ms == iv) {
				ts[j]->phase_ms = sched_phase(k++, group, iv);
				done[j] = 1;
			}
	}
	free(done);
}

void
sched_apply(struct np_daemon *d, struct np_config *conf)
{
	struct target_state	**nts;
	struct keyed		*old, *hit;
	size_t			 nold = d->nts, n = 0, i, t, kept = 0;
	char			*key;
	struct {
		uint64_t	 next, phase, interval;
	}			*was;	/* kept targets' old slot */

	for (i = 0; i < conf->nprobes; i++)
		n += conf->probes[i].ntargets;
	nts = xcalloc(n, sizeof(*nts));
	was = xcalloc(n, sizeof(*was));
	batch_base = d->base;
	/* the running targets' keys (their configuration is still there) */
	old = xcalloc(nold, sizeof(*old));
	for (i = 0; i < nold; i++) {
		old[i].ts = d->ts[i];
		old[i].key = target_state_key(d->ts[i]->cfg, d->ts[i]->target);
	}
	if (nold > 1)
		qsort(old, nold, sizeof(*old), keyed_cmp);

	n = 0;
	for (i = 0; i < conf->nprobes; i++)
		for (t = 0; t < conf->probes[i].ntargets; t++) {
			key = target_state_key(&conf->probes[i], t);
			hit = nold ? bsearch(key, old, nold, sizeof(*old),
			    key_cmp) : NULL;
			free(key);
			if (hit != NULL && !hit->taken) {
				nts[n] = hit->ts;
				hit->taken = 1;
				was[n].next = nts[n]->next_ms;
				was[n].phase = nts[n]->phase_ms;
				was[n].interval = nts[n]->cfg->interval_ms;
				if (nts[n]->run != NULL) {
					probe_run_abort(nts[n]->run);
					nts[n]->run->cfg = NULL;
				}
				sweep_abort(nts[n]);
				nts[n]->running = 0;
				nts[n]->cfg = &conf->probes[i];
				nts[n]->target = t;
				reattach(nts[n]);
				kept++;
			} else {
				nts[n] = target_state_new(d->store,
				    &conf->probes[i], t);
				nts[n]->last_ok = -1;
				nts[n]->owner = d;
			}
			n++;
		}
	for (i = 0; i < nold; i++) {
		if (!old[i].taken) {
			unbatch(old[i].ts);
			sweep_free(old[i].ts);
			target_state_free(old[i].ts);
		}
		free(old[i].key);
	}
	free(old);
	free(d->ts);

	/*
	 * A kept target whose slot passed while the loop was busy loading
	 * the new configuration (hundreds of ms with 10,000 probes) runs
	 * now, late, instead of waiting for its next slot: a reload must not
	 * cost it an interval.  Only when its phase and interval are
	 * unchanged, so its rhythm goes on from that slot.
	 */
	assign_phases(nts, n);
	for (i = 0; i < n; i++) {
		uint64_t	now = now_ms();

		if (was[i].next != 0 && was[i].next <= now &&
		    was[i].phase == nts[i]->phase_ms &&
		    was[i].interval == nts[i]->cfg->interval_ms &&
		    now - was[i].next < was[i].interval) {
			arm(nts[i], was[i].next);
			continue;
		}
		nts[i]->next_ms = 0;
		arm(nts[i], sched_next(now, 0, nts[i]->phase_ms,
		    nts[i]->cfg->interval_ms));
	}
	free(was);
	d->ts = nts;
	d->nts = n;
	log_debug("scheduler: %zu targets (%zu kept)", n, kept);
}

void
sched_stop(struct np_daemon *d)
{
	size_t	i;

	for (i = 0; i < d->nts; i++) {
		unbatch(d->ts[i]);
		sweep_free(d->ts[i]);
		target_state_free(d->ts[i]);
	}
	batches_free();
	free(d->ts);
	d->ts = NULL;
	d->nts = 0;
	while (npool > 0)
		probe_run_free(pool[--npool]);
	free(pool);
	pool = NULL;
	pool_cap = pool_low = 0;
	pool_trim_ms = 0;
}
