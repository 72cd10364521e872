/*
 * Sweep mode: a negative probe over a forbidden range.  The range is
 * prefixes x ports (at most SWEEP_MAX_DESTINATIONS destinations), walked
 * in order, per_interval destinations at each tick of the probe, so a
 * /24 x 3 ports at 4 per 5 s is covered every 16 minutes and the gateway
 * never sends a burst.  Each destination is judged like any negative
 * run (same evidence, same control); the probe's own verdict is the
 * worst of every destination's latest: leak if any leaks, inconclusive
 * if any is, blocked only when every destination probed so far is.
 *
 * Series (labels of the probe, target = the range as written):
 *   netprobe_isolation_verdict, netprobe_isolation_reason_info  as any
 *       negative probe, for the whole range
 *   netprobe_isolation_sweep_destinations{verdict}  how many destinations
 *       have each latest verdict (verdict="unprobed": not yet)
 *   netprobe_isolation_sweep_passes_total  completed passes
 *   netprobe_isolation_sweep_leak_info{destination,reason}  one per
 *       leaking destination, at most SWEEP_MAX_NAMED_LEAKS of them
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon/daemon.h"
#include "daemon/sweep.h"
#include "daemon/yamldoc.h"
#include "probes/isolation.h"

/* ---- config -------------------------------------------------------- */

struct sweep_parse {
	struct np_sweep	*sw;
	int		 want_ports;
	int		 errors;
	yaml_node_t	*prefixes, *ports;
};

static void
sweep_key(struct yamldoc *yd, const char *key, yaml_node_t *v, yaml_node_t *k,
    void *arg)
{
	struct sweep_parse	*sp = arg;
	uint64_t		 u;
	size_t			 before = yd->errs->n;

	(void)k;
	if (strcmp(key, "prefixes") == 0)
		sp->prefixes = v;
	else if (strcmp(key, "ports") == 0)
		sp->ports = v;
	else if (strcmp(key, "per_interval") == 0 &&
	    yd_uint(yd, v, key, 1, SWEEP_MAX_PER_INTERVAL, &u) == 0)
		sp->sw->per_interval = (unsigned)u;
	sp->errors += (int)(yd->errs->n - before);
}

/* A scalar or a sequence: its items, one at a time. */
static yaml_node_t *
item(struct yamldoc *yd, yaml_node_t *n, size_t i)
{
	if (n->type == YAML_SCALAR_NODE)
		return (i == 0 ? n : NULL);
	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start + i >= n->data.sequence.items.top)
		return (NULL);
	return (yd_node(yd, n->data.sequence.items.start[i]));
}

static void
parse_prefixes(struct yamldoc *yd, struct sweep_parse *sp)
{
	struct np_sweep	*sw = sp->sw;
	struct nl_prefix p;
	yaml_node_t	*it;
	const char	*s, *why;
	unsigned	 bits;
	size_t		 i;

	if (sp->prefixes->type == YAML_MAPPING_NODE) {
		yd_error(yd, sp->prefixes, "'prefixes' expects a prefix or a "
		    "list of prefixes, got %s", yd_kind(sp->prefixes));
		sp->errors++;
		return;
	}
	for (i = 0; (it = item(yd, sp->prefixes, i)) != NULL; i++) {
		if ((s = yd_scalar(yd, it, "prefixes", "a prefix")) == NULL) {
			sp->errors++;
			continue;
		}
		if (netlink_prefix_parse(s, &p, &why) == -1) {
			yd_error(yd, it, "'prefixes': invalid prefix \"%s\": %s",
			    s, why);
			sp->errors++;
			continue;
		}
		netlink_prefix_mask(&p);
		bits = (p.family == AF_INET ? 32 : 128) - p.len;
		if (bits > 16) {
			yd_error(yd, it, "'prefixes': %s has 2^%u addresses; a "
			    "sweep covers at most %d destinations (split the "
			    "range or use a longer prefix)", s, bits,
			    SWEEP_MAX_DESTINATIONS);
			sp->errors++;
			continue;
		}
		sw->prefixes = xreallocarray(sw->prefixes, sw->nprefixes + 1,
		    sizeof(*sw->prefixes));
		sw->naddrs = xreallocarray(sw->naddrs, sw->nprefixes + 1,
		    sizeof(*sw->naddrs));
		sw->prefixes[sw->nprefixes] = p;
		sw->naddrs[sw->nprefixes++] = (uint64_t)1 << bits;
	}
	if (i == 0 && sp->errors == 0) {
		yd_error(yd, sp->prefixes, "'prefixes' is empty");
		sp->errors++;
	}
}

static void
parse_ports(struct yamldoc *yd, struct sweep_parse *sp)
{
	struct np_sweep	*sw = sp->sw;
	yaml_node_t	*it;
	uint64_t	 u;
	size_t		 i;

	if (!sp->want_ports) {
		yd_error(yd, sp->ports, "'ports': this probe type's targets "
		    "have no port");
		sp->errors++;
		return;
	}
	for (i = 0; (it = item(yd, sp->ports, i)) != NULL; i++) {
		if (yd_uint(yd, it, "ports", 1, 65535, &u) == -1) {
			sp->errors++;
			continue;
		}
		sw->ports = xreallocarray(sw->ports, sw->nports + 1,
		    sizeof(*sw->ports));
		sw->ports[sw->nports++] = (uint16_t)u;
	}
}

struct np_sweep *
sweep_parse(struct yamldoc *yd, yaml_node_t *n, int want_ports, char *canon,
    size_t len)
{
	static const char *const known[] = { "prefixes", "ports",
	    "per_interval" };
	struct sweep_parse	 sp;
	struct np_sweep		*sw;
	char			 buf[INET6_ADDRSTRLEN + 8];
	size_t			 i, off = 0;

	if (yd_mapping_expect(yd, n, "'sweep'") == -1)
		return (NULL);
	memset(&sp, 0, sizeof(sp));
	sp.sw = sw = xcalloc(1, sizeof(*sw));
	sp.want_ports = want_ports;
	sw->per_interval = 4;
	yd_mapping_walk(yd, n, known, NP_NELEM(known), NULL, sweep_key, &sp,
	    "'sweep'", NULL);
	if (sp.prefixes == NULL) {
		yd_error(yd, n, "'sweep' needs 'prefixes'");
		sp.errors++;
	} else
		parse_prefixes(yd, &sp);
	if (sp.ports != NULL)
		parse_ports(yd, &sp);
	else if (want_ports) {
		yd_error(yd, n, "'sweep' needs 'ports' for this probe type");
		sp.errors++;
	}
	if (sp.errors == 0) {
		for (i = 0; i < sw->nprefixes; i++)
			sw->total += sw->naddrs[i];
		sw->total *= sw->nports ? sw->nports : 1;
		if (sw->total > SWEEP_MAX_DESTINATIONS) {
			yd_error(yd, n, "'sweep' covers %llu destinations "
			    "(prefixes x ports); at most %d",
			    (unsigned long long)sw->total,
			    SWEEP_MAX_DESTINATIONS);
			sp.errors++;
		}
	}
	if (sp.errors > 0) {
		sweep_cfg_free(sw);
		return (NULL);
	}
	/* the target label: "10.99.0.0/24 fd00:99::/120 ports 22,80" */
	canon[0] = '\0';
	for (i = 0; i < sw->nprefixes && off < len; i++) {
		netlink_prefix_format(&sw->prefixes[i], buf, sizeof(buf));
		off += (size_t)snprintf(canon + off, len - off, "%s%s",
		    i ? " " : "", buf);
	}
	for (i = 0; i < sw->nports && off < len; i++)
		off += (size_t)snprintf(canon + off, len - off, "%s%u",
		    i ? "," : " ports ", sw->ports[i]);
	return (sw);
}

void
sweep_cfg_free(struct np_sweep *sw)
{
	if (sw == NULL)
		return;
	free(sw->prefixes);
	free(sw->naddrs);
	free(sw->ports);
	free(sw);
}

void
sweep_destination(const struct np_sweep *sw, uint64_t i, struct np_addr *a,
    char *text, size_t len)
{
	uint64_t	 nports = sw->nports ? sw->nports : 1, ai = i / nports;
	const struct nl_prefix *p = NULL;
	uint8_t		 addr[16];
	size_t		 k;
	int		 b;

	for (k = 0; k < sw->nprefixes; k++) {
		if (ai < sw->naddrs[k]) {
			p = &sw->prefixes[k];
			break;
		}
		ai -= sw->naddrs[k];
	}
	if (p == NULL)
		fatalx("sweep_destination: %llu out of range",
		    (unsigned long long)i);
	/* the offset fits the host bits (at most 16): add from the end */
	memcpy(addr, p->addr, sizeof(addr));
	for (b = (p->family == AF_INET ? 4 : 16) - 1; b >= 0 && ai > 0; b--) {
		ai += addr[b];
		addr[b] = (uint8_t)ai;
		ai >>= 8;
	}
	memset(a, 0, sizeof(*a));
	if (p->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
		sin->sin_port = htons(sw->nports ? sw->ports[i % nports] : 0);
		a->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
		sin6->sin6_port = htons(sw->nports ? sw->ports[i % nports] : 0);
		a->len = sizeof(*sin6);
	}
	format_addr(a, sw->nports > 0, text, len);
}

void
sweep_dest_init(struct sweep_dest *d, const struct probe_cfg *p, uint64_t i)
{
	sweep_destination(p->iso.sweep, i, &d->addr, d->text, sizeof(d->text));
	d->cfg = *p;
	d->cfg.iso.sweep = NULL;
	d->targets[0] = d->text;
	d->cfg.targets = d->targets;
	d->cfg.addrs = &d->addr;
	d->cfg.ntargets = 1;
}

/* ---- running ------------------------------------------------------- */

/* One destination in flight: its own one-target copy of the probe. */
struct sweep_slot {
	struct sweep_run	*sr;
	struct sweep_dest	 d;
	uint64_t		 dest;
	struct probe_run	*run;
};

struct sweep_leak {
	uint64_t		 dest;
	const char		*reason;	/* static */
	struct series		*info;
};

struct sweep_run {
	struct np_daemon	*d;
	struct target_state	*ts;
	const struct np_sweep	*sw;
	uint8_t			*last;		/* per destination: verdict+1 */
	uint64_t		 cursor, probed;
	struct sweep_slot	 slot[SWEEP_MAX_PER_INTERVAL];
	unsigned		 nslots, pending;
	uint64_t		 count[IV_MAX + 1];	/* + unprobed */
	struct series		*dest[IV_MAX + 1], *passes;
	struct sweep_leak	 leaks[SWEEP_MAX_NAMED_LEAKS];
	size_t			 nleaks;
	struct iso_judgement	 worst;		/* of this tick */
	int			 have_worst;
};

static const char *const dest_verdicts[IV_MAX + 1] = {
	"blocked", "leak", "inconclusive", "unprobed"
};

static struct sweep_run *
sweep_get(struct np_daemon *d, struct target_state *ts)
{
	struct sweep_run	*sr = ts->sweep;
	struct family		*f;
	size_t			 i;

	/* a kept target is the same range (its text is the identity) */
	if (sr != NULL && sr->sw->total == ts->cfg->iso.sweep->total) {
		sr->sw = ts->cfg->iso.sweep;
		return (sr);
	}
	sweep_free(ts);		/* a new range: start over */
	sr = ts->sweep = xcalloc(1, sizeof(*sr));
	sr->d = d;
	sr->ts = ts;
	sr->sw = ts->cfg->iso.sweep;
	sr->last = xcalloc(sr->sw->total, 1);
	sr->count[IV_MAX] = sr->sw->total;
	f = store_family(ts->store, "netprobe_isolation_sweep_destinations",
	    "Destinations of a sweep by their latest verdict (unprobed: "
	    "not yet).", METRIC_GAUGE, NULL, 0);
	for (i = 0; i <= IV_MAX; i++) {
		sr->dest[i] = target_series(ts, f, "verdict", dest_verdicts[i],
		    NULL);
		series_set(sr->dest[i], (double)sr->count[i]);
	}
	f = store_family(ts->store, "netprobe_isolation_sweep_passes_total",
	    "Completed passes of a sweep over its whole range.",
	    METRIC_COUNTER, NULL, 0);
	sr->passes = target_series(ts, f, NULL);
	return (sr);
}

static void
leak_named(struct sweep_run *sr, uint64_t dest, const char *text,
    const char *reason, int leaking)
{
	struct family	*f;
	size_t		 i;

	for (i = 0; i < sr->nleaks; i++)
		if (sr->leaks[i].dest == dest)
			break;
	if (i < sr->nleaks) {
		store_release(sr->ts->store, sr->leaks[i].info);
		sr->leaks[i] = sr->leaks[--sr->nleaks];
	}
	if (!leaking || sr->nleaks == SWEEP_MAX_NAMED_LEAKS)
		return;
	f = store_family(sr->ts->store, "netprobe_isolation_sweep_leak_info",
	    "A destination of a sweep that leaks, and why (at most 32 "
	    "named).", METRIC_GAUGE, NULL, 0);
	sr->leaks[sr->nleaks].dest = dest;
	sr->leaks[sr->nleaks].reason = reason;
	sr->leaks[sr->nleaks].info = target_series(sr->ts, f, "destination",
	    text, "reason", reason, NULL);
	series_set(sr->leaks[sr->nleaks++].info, 1);
}

static int
rank(enum iso_verdict v)
{
	return (v == IV_LEAK ? 2 : v == IV_INCONCLUSIVE ? 1 : 0);
}

/* Every slot is done: the range's verdict from every destination's. */
static void
sweep_settle(struct sweep_run *sr)
{
	struct target_state	*ts = sr->ts;
	struct iso_judgement	 j;
	size_t			 i;
	int			 was;

	for (i = 0; i <= IV_MAX; i++)
		series_set(sr->dest[i], (double)sr->count[i]);
	memset(&j, 0, sizeof(j));
	if (sr->count[IV_LEAK] > 0)
		j.verdict = IV_LEAK;
	else if (sr->count[IV_INCONCLUSIVE] > 0)
		j.verdict = IV_INCONCLUSIVE;
	else if (sr->count[IV_BLOCKED] > 0)
		j.verdict = IV_BLOCKED;
	else
		return;		/* nothing judged yet */
	if (ts->iso->verdict == (int)j.verdict) {
		/* unchanged: keep its evidence, or every tick is news */
		j.reason = ts->iso->reason;
		snprintf(j.from, sizeof(j.from), "%s", ts->iso->from);
	} else if (sr->have_worst && sr->worst.verdict == j.verdict)
		j = sr->worst;		/* this tick's evidence */
	else if (j.verdict == IV_LEAK && sr->nleaks > 0)
		j.reason = sr->leaks[0].reason;	/* an earlier tick's */
	else
		j.reason = "earlier";
	was = ts->iso->verdict;
	if (isolation_record(ts, &j))
		sched_verdict(sr->d, ts, ts->cfg->targets[0], &j, was);
}

static void
slot_done(struct probe_run *run, void *arg)
{
	struct sweep_slot	*s = arg;
	struct sweep_run	*sr = s->sr;
	struct iso_judgement	 j;
	int			 was = sr->last[s->dest] - 1;

	isolation_judge(run, sched_control_state(sr->d, sr->ts->cfg), &j);
	if (was < 0)
		sr->probed++;
	sr->count[was < 0 ? IV_MAX : (size_t)was]--;
	sr->count[j.verdict]++;
	sr->last[s->dest] = (uint8_t)(j.verdict + 1);
	if (was != (int)j.verdict) {
		/* a first "blocked" is what is expected: not news */
		if (was >= 0 || j.verdict != IV_BLOCKED)
			sched_verdict(sr->d, sr->ts, s->d.text, &j, was);
		leak_named(sr, s->dest, s->d.text, j.reason,
		    j.verdict == IV_LEAK);
	}
	if (!sr->have_worst || rank(j.verdict) > rank(sr->worst.verdict)) {
		sr->worst = j;
		sr->have_worst = 1;
	}
	if (--sr->pending == 0) {
		sr->ts->running = 0;
		sweep_settle(sr);
	}
}

void
sweep_tick(struct np_daemon *d, struct target_state *ts)
{
	struct sweep_run	*sr = sweep_get(d, ts);
	const struct np_sweep	*sw = sr->sw;
	unsigned		 k, n;

	n = sw->per_interval < sw->total ? sw->per_interval :
	    (unsigned)sw->total;
	sr->nslots = sr->pending = n;
	sr->have_worst = 0;
	ts->running = 1;
	for (k = 0; k < n; k++) {
		struct sweep_slot	*s = &sr->slot[k];

		s->sr = sr;
		s->dest = sr->cursor;
		if (++sr->cursor == sw->total) {
			sr->cursor = 0;
			series_add(sr->passes, 1);
		}
		sweep_dest_init(&s->d, ts->cfg, s->dest);
		if (s->run == NULL)
			s->run = xcalloc(1, sizeof(*s->run));
		probe_run_start(s->run, d->base, &s->d.cfg, 0, slot_done, s);
	}
}

void
sweep_abort(struct target_state *ts)
{
	struct sweep_run	*sr = ts->sweep;
	unsigned		 k;

	if (sr == NULL)
		return;
	for (k = 0; k < SWEEP_MAX_PER_INTERVAL; k++)
		if (sr->slot[k].run != NULL)
			probe_run_abort(sr->slot[k].run);
	sr->pending = 0;
	ts->running = 0;
}

void
sweep_free(struct target_state *ts)
{
	struct sweep_run	*sr = ts->sweep;
	size_t			 k;

	if (sr == NULL)
		return;
	for (k = 0; k < SWEEP_MAX_PER_INTERVAL; k++)
		probe_run_free(sr->slot[k].run);
	for (k = 0; k <= IV_MAX; k++)
		store_release(ts->store, sr->dest[k]);
	store_release(ts->store, sr->passes);
	for (k = 0; k < sr->nleaks; k++)
		store_release(ts->store, sr->leaks[k].info);
	free(sr->last);
	free(sr);
	ts->sweep = NULL;
}

void
sweep_status(const struct target_state *ts, struct evbuffer *b)
{
	const struct sweep_run	*sr = ts->sweep;
	char			 text[NP_ADDRSTRLEN];
	struct np_addr		 a;
	size_t			 i;

	if (sr == NULL)
		return;
	evbuffer_add_printf(b, ",\"sweep\":{\"destinations\":%llu,"
	    "\"probed\":%llu,\"blocked\":%llu,\"leak\":%llu,"
	    "\"inconclusive\":%llu,\"passes\":%.0f,\"leaks\":[",
	    (unsigned long long)sr->sw->total,
	    (unsigned long long)sr->probed,
	    (unsigned long long)sr->count[IV_BLOCKED],
	    (unsigned long long)sr->count[IV_LEAK],
	    (unsigned long long)sr->count[IV_INCONCLUSIVE],
	    series_value(sr->passes));
	for (i = 0; i < sr->nleaks; i++) {
		sweep_destination(sr->sw, sr->leaks[i].dest, &a, text,
		    sizeof(text));
		if (i > 0)
			evbuffer_add(b, ",", 1);
		json_str(b, text);
	}
	evbuffer_add(b, "]}", 2);
}
