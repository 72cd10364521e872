/*
 * The running daemon: one config, its target states on timers, the
 * store, the HTTP endpoint.  Shared by main.c, sched.c and http.c.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include "daemon/netprobed.h"
#include "probes/probe.h"
#include "probes/isolation.h"

struct evhttp;
struct evhttp_bound_socket;
struct probe_req;

/* /probe requests in flight at once; more get 503. */
#define PROBE_REQ_MAX	32

struct np_daemon {
	struct event_base		*base;
	struct store			*store;
	struct np_config		*conf;
	struct target_state		**ts;
	size_t				 nts;
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	double				 start_time;	/* unix seconds */
	/* the daemon's own series */
	struct series			*reload_ok;
	struct series			*reload_time;
	struct series			*reloads[2];	/* failure, success */
	struct series			*targets;
	struct series			*site_info;
	/* /probe requests in flight (they borrow the config's probes) */
	struct probe_req		*probe_reqs;
	size_t				 nprobe_reqs;
	struct series			*probe_http[4];	/* by outcome */
	struct series			*probe_inflight;
	/* the rule engine (rules.c) */
	struct rules			*rules;
	/* SNMP notifications (snmp.c) */
	struct snmp			*snmp;
	/* the passive watchers (watcher.c) */
	struct watchers			*watchers;
	/* the audit trail (audit.c), NULL without `audit_log:` */
	struct audit			*audit;
	struct series			*audit_errors;
	/* bumped by what the state file keeps (state.c) */
	uint64_t			 state_gen;
};

/* sched.c */
/*
 * Phase of the i-th of n targets sharing one interval: spread evenly, so
 * 10,000 targets on a 10s interval start 1ms apart (sched.c then starts
 * them in batches of up to 10 ms: one wakeup for all that are due).
 */
uint64_t	 sched_phase(size_t i, size_t n, uint64_t interval_ms);
/*
 * Next start time (ms, monotonic) for a phase: the nominal slot after
 * `last` (0: none yet), or if that is not after `now` (the loop stalled),
 * the first slot after now.  Pure.
 */
uint64_t	 sched_next(uint64_t now_ms, uint64_t last_ms, uint64_t phase_ms,
		    uint64_t interval_ms);
/*
 * Make `conf` the running config: target states whose identity is
 * unchanged keep their series (counters continue); the others are made
 * or released.  Runs in flight are aborted.  Never fails.
 */
void		 sched_apply(struct np_daemon *, struct np_config *);
void		 sched_stop(struct np_daemon *);
/*
 * A negative probe's positive control, as it stands now: its targets'
 * latest runs, if recent enough to speak for this cycle.
 */
enum iso_control sched_control_state(struct np_daemon *,
		    const struct probe_cfg *);
/* A verdict changed (was: the previous one, -1 none): log and audit it. */
struct iso_judgement;
void		 sched_verdict(struct np_daemon *, struct target_state *,
		    const char *target, const struct iso_judgement *, int was);

/* responder.c: `netprobed --responder ADDR:PORT`, the far end of the
 * udp and media probes.  Runs until SIGTERM; returns the exit status. */
int		 responder_run(const char *spec);

/* rules.c */
/*
 * Make conf's rule files the running rules: groups with the same file
 * and name keep their alert states and metrics; each group's timer
 * (re)starts.  conf must stay alive until the next call or rules_free().
 */
void		 rules_apply(struct np_daemon *, const struct np_config *);
void		 rules_free(struct np_daemon *);
/*
 * Every alert the rules hold (pending, firing, resolved in the last 15
 * minutes), with its group's "FILE;GROUP" key and its rule's index in
 * that group (rules may share an alert name).  Read-only, valid only
 * during the call.
 */
struct alert;
typedef void (*rules_alert_fn)(void *arg, const char *group, size_t rule,
    const struct alert *);
void		 rules_foreach_alert(struct np_daemon *, rules_alert_fn,
		    void *arg);
/* The "alerts" and "rule_groups" members of /status (JSON). */
void		 rules_status(struct np_daemon *, struct evbuffer *);

/* privdrop.c */
/* The capabilities conf needs (a CAP_* bit mask): CAP_NET_RAW, and
 * CAP_NET_ADMIN for fwmark:, CAP_SYS_ADMIN for netns:. */
uint64_t	 priv_needed(const struct np_config *);
/* Become user, keeping only caps (logged); -1 with why in err. */
int		 priv_drop(const char *user, uint64_t caps, char *err,
		    size_t len);

/* http.c */
/* Bind the listener for conf->listen; 0, or -1 with a logged error. */
int		 http_start(struct np_daemon *, const struct np_addr *,
		    const struct web_config *);
void		 http_stop(struct np_daemon *);
/*
 * End every /probe request in flight with 503 (before the config they
 * borrow is freed: reload, shutdown).
 */
void		 http_abort_probes(struct np_daemon *, const char *why);
/* The /metrics body (store + process metrics). */
void		 http_render_metrics(struct np_daemon *, struct evbuffer *);

#endif
