/*
 * The probe interface.  One file per probe type, each ending in one
 * `const struct probe_type probe_type_<name>`, listed in probe_types[].
 *
 * A run is one measurement of one probe against one target.  The core
 * (probe.c) owns its deadline: start() must not block, and a run ends
 * either with the type calling probe_done() or with the deadline; either
 * way the core calls type->finish() once and then the run's done hook.
 */
#ifndef PROBE_H
#define PROBE_H

#include "daemon/netprobed.h"

struct event;

/* Result classes, shared by every type; the `result` label. */
enum probe_result {
	PR_SUCCESS = 0,
	PR_TIMEOUT,		/* no answer before the deadline */
	PR_REFUSED,		/* actively refused (TCP RST, ICMP port unreach) */
	PR_UNREACHABLE,		/* ICMP host/net unreachable, no route */
	PR_ERROR,		/* local error: socket, send, bad config at run */
	PR_MAX
};
const char	*probe_result_name(enum probe_result);

#define PROBE_MAX_SAMPLES	100	/* RTT samples kept from one run */

/* What one run observed.  Types fill what applies to them. */
struct probe_obs {
	enum probe_result	 result;
	double			 duration;	/* seconds, start to end */
	char			 detail[96];	/* human words, for --once/logs */
	/* echo-style probes */
	unsigned		 sent;
	unsigned		 received;
	double			 rtt[PROBE_MAX_SAMPLES];	/* seconds */
	unsigned		 nrtt;
};

/* Option kinds a type can declare in its table. */
enum opt_kind {
	OPT_UINT,		/* unsigned integer within [min, max] */
	OPT_DURATION,		/* "500ms", stored as uint64_t ms */
	OPT_BOOL,		/* true/false */
	OPT_ADDR,		/* IP literal without port, struct np_addr */
};

struct opt_def {
	const char	*name;
	enum opt_kind	 kind;
	size_t		 off;		/* into the type's option struct */
	uint64_t	 min, max;	/* OPT_UINT, OPT_DURATION */
};

struct probe_run {
	/* cfg is valid only while the run is active (a reload frees it) */
	const struct probe_cfg	*cfg;
	const struct probe_type	*type;
	size_t			 target;	/* index into cfg->targets */
	const struct np_addr	*addr;
	struct event_base	*base;
	uint64_t		 start_ns;	/* monotonic */
	struct probe_obs	 obs;
	void			*state;		/* type->state_size bytes */
	struct event		*deadline;
	int			 active;
	/* Called once when the run ends; may free or restart the run. */
	void			(*done)(struct probe_run *, void *);
	void			*done_arg;
};

struct target_state;

struct probe_type {
	const char		*name;
	/* Targets: NP_PORT_NONE (bare address) or NP_PORT_REQUIRED. */
	int			 target_port;
	/* With NP_PORT_REQUIRED: a port from the options, or -1. */
	int			(*default_port)(const void *opts);
	const struct opt_def	*opts;
	size_t			 nopts;
	size_t			 opts_size;
	void			(*opts_default)(void *);
	/*
	 * Cross-field validation after parsing.  Returns NULL, or a message
	 * (static or in buf), reported at the value of *key if the type sets
	 * it and the entry has that key, else at the probe entry.
	 */
	const char		*(*check)(const struct probe_cfg *, char *buf,
				    size_t len, const char **key);
	/* Per-run state. */
	size_t			 state_size;
	/* Begin one run; must not block; ends in probe_done(). */
	void			(*start)(struct probe_run *);
	/*
	 * Release the run's sockets and events.  The core calls it exactly
	 * once per run: from probe_done(), when the deadline fires
	 * (timed_out: result is PR_TIMEOUT, which the type may change from
	 * what it saw so far), or on abort.  Never calls probe_done().
	 */
	void			(*finish)(struct probe_run *, int timed_out);
	/* Register type-specific series for a target; update them. */
	void			(*attach)(struct target_state *);
	void			(*record)(struct target_state *,
				    const struct probe_obs *);
	/* Words for a successful result in tables ("open" for tcp). */
	const char		*success_word;
	/* At exit: release what the type shares across runs.  May be NULL. */
	void			(*shutdown)(void);
};

extern const struct probe_type	*const probe_types[];
extern const struct probe_type	 probe_type_icmp;
extern const struct probe_type	 probe_type_tcp;

const struct probe_type *probe_type_find(const char *);
/* "icmp, tcp": for error messages. */
void		 probe_type_list(char *, size_t);

/* For check(): every target has the family of the `source` option. */
const char	*probe_check_source(const struct probe_cfg *,
		    const struct np_addr *, char *, size_t, const char **);

/* Start a run: arms the deadline at cfg->timeout_ms, calls type->start. */
void		 probe_run_start(struct probe_run *, struct event_base *,
		    const struct probe_cfg *, size_t target,
		    void (*done)(struct probe_run *, void *), void *);
/* Called by a type exactly once to end a run. */
void		 probe_done(struct probe_run *, enum probe_result);
/* Stop a run without a result (reload, shutdown). */
void		 probe_run_abort(struct probe_run *);
void		 probe_run_free(struct probe_run *);

/*
 * One probe x target as the store sees it: its series and schedule.
 * Kept across reloads while its identity (probe, type, target, labels)
 * is the same, so counters continue.
 */
#define TS_MAX_EXTRA	8
struct target_state {
	char			*key;		/* identity, for reload */
	const struct probe_cfg	*cfg;
	size_t			 target;
	struct store		*store;
	struct np_labels	 labels;	/* probe, type, target, user */
	struct series		*success;
	struct series		*duration;
	struct series		*hist;
	struct series		*runs[PR_MAX];	/* created on first use */
	struct series		*extra[TS_MAX_EXTRA];
	/* scheduling (daemon/sched.c) */
	void			*owner;
	struct event		*tick;
	uint64_t		 phase_ms;
	uint64_t		 next_ms;	/* nominal start of next run */
	struct probe_run	*run;
	int			 running;
	int			 last_ok;	/* -1: no result yet */
	uint64_t		 skipped;
};

struct target_state *target_state_new(struct store *, const struct probe_cfg *,
		    size_t target);
void		 target_state_free(struct target_state *);
/* Identity key for reload matching; caller frees. */
char		*target_state_key(const struct probe_cfg *, size_t target);
/* Put a finished run's observation into the store. */
void		 target_state_record(struct target_state *,
		    const struct probe_obs *);
/* Create a series in this target's label set plus extra pairs. */
struct series	*target_series(struct target_state *, struct family *,
		    ...);

/* Registered families shared by all types (store.c registration). */
void		 probe_families_register(struct store *);

#endif /* PROBE_H */
