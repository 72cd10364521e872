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

#include <regex.h>

#include "daemon/netprobed.h"

struct event;

/* Result classes, shared by every type; the `result` label. */
enum probe_result {
	PR_SUCCESS = 0,
	PR_TIMEOUT,		/* no answer before the deadline */
	PR_REFUSED,		/* actively refused (TCP RST, ICMP port unreach) */
	PR_UNREACHABLE,		/* ICMP host/net unreachable, no route */
	PR_ERROR,		/* local error: socket, send, bad config at run */
	PR_BAD_RESPONSE,	/* answered, but not as expected (wrong rcode,
				   status, body, a reject, a malformed reply) */
	PR_MAX
};
const char	*probe_result_name(enum probe_result);

#define PROBE_MAX_SAMPLES	100	/* RTT samples kept from one run */

/*
 * What the isolation observer (probes/isolation.c) saw for a negative
 * probe's run: an ICMP error quoting a packet to the target, a TCP RST
 * from it.  The core fills it; types never do.
 */
struct probe_evidence {
	int			 observed;	/* the raw sockets were open */
	int			 icmp;		/* an ICMP error came back */
	int			 icmp_v6;
	uint8_t			 icmp_type, icmp_code;
	char			 icmp_from[NP_ADDRSTRLEN];
	int			 rst;		/* a TCP RST from the target */
	int			 rst_hops;	/* its distance, from its TTL */
};

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
	int			 connected;	/* a TCP handshake completed */
	struct probe_evidence	 ev;	/* negative probes only */
};

/*
 * Option kinds a type can declare in its table, and what each stores at
 * `off` in the type's option struct.  The core parses, validates (with
 * FILE:LINE:COL errors) and frees them; types only read.
 */
enum opt_kind {
	OPT_UINT,	/* uint64_t within [min, max] */
	OPT_DURATION,	/* uint64_t ms within [min, max] ms */
	OPT_BOOL,	/* int, from true/false */
	OPT_ADDR,	/* struct np_addr, an IP literal without port */
	OPT_STRING,	/* char *, non-empty, at most max bytes if max != 0 */
	OPT_STRLIST,	/* char **, NULL-terminated; a scalar or a list of at
			   most max (if != 0) strings of at least min items */
	OPT_REGEX,	/* struct np_regex *, POSIX extended */
	OPT_REGEXLIST,	/* struct np_regexlist: a scalar or a list of at most
			   max (if != 0) regexes */
	OPT_ENUM,	/* int: index of the value in `choices` */
	OPT_UINTLIST,	/* struct np_uintlist, each within [min, max] */
	OPT_MAP,	/* struct np_labels: a mapping of strings, in order */
};

struct opt_def {
	const char		*name;
	enum opt_kind		 kind;
	size_t			 off;	/* into the type's option struct */
	uint64_t		 min, max;
	const char *const	*choices;	/* OPT_ENUM, NULL-terminated */
};

/* Table rows: OPT(name, kind, struct, field, min, max). */
#define OPT(n, k, st, f, lo, hi) \
	{ (n), (k), offsetof(st, f), (lo), (hi), NULL }
#define OPT_CHOICE(n, st, f, ch) \
	{ (n), OPT_ENUM, offsetof(st, f), 0, 0, (ch) }

struct np_regex {
	char		*src;
	regex_t		 re;
};

struct np_regexlist {
	struct np_regex	*v;
	size_t		 n;
};

struct np_uintlist {
	uint64_t	*v;
	size_t		 n;
};

/* Does the regex match this NUL-terminated text? */
int		 np_regex_match(const struct np_regex *, const char *);
/* Free what the core allocated for options of this type. */
void		 probe_opts_free(const struct probe_type *, void *);

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
	/* /probe?debug=true: the run's steps, if non-NULL (probe_log) */
	struct evbuffer		*debug;
	int			 watched;	/* by the isolation observer */
	double			 lag;		/* seconds late vs. its slot */
};

struct target_state;

struct probe_type {
	const char		*name;
	/* Targets: NP_PORT_NONE (bare address) or NP_PORT_REQUIRED. */
	int			 target_port;
	/* With NP_PORT_REQUIRED: a port from the options, or -1. */
	int			(*default_port)(const void *opts);
	/*
	 * Targets that are not plain addresses (URLs, interface names,
	 * prefixes): parse one as written into its canonical text (the
	 * `target` label) and, where it has one, its address (addr->len 0
	 * otherwise).  Returns NULL, or why it is invalid.  NULL hook: an
	 * IP literal with a port as target_port says.
	 */
	const char		*(*target_parse)(const char *in,
				    const void *opts, struct np_addr *addr,
				    char *canon, size_t len);
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
	/* Series of a target's own (target_state.extra), <= TS_MAX_EXTRA. */
	size_t			 nextra;
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
				    const struct probe_run *);
	/* Words for a successful result in tables ("open" for tcp). */
	const char		*success_word;
	/* At exit: release what the type shares across runs.  May be NULL. */
	void			(*shutdown)(void);
};

extern const struct probe_type	*const probe_types[];
extern const struct probe_type	 probe_type_icmp, probe_type_tcp,
				 probe_type_udp, probe_type_dns,
				 probe_type_http, probe_type_sip,
				 probe_type_h323, probe_type_media,
				 probe_type_link, probe_type_route,
				 probe_type_pmtu;

const struct probe_type *probe_type_find(const char *);
/* "icmp, tcp": for error messages. */
void		 probe_type_list(char *, size_t);

/*
 * The result class of a socket error: refused (RST, ICMP port
 * unreachable), unreachable (no route, ICMP host/net unreachable),
 * timeout, bad_response (reset or broken pipe mid-exchange), else error.
 */
enum probe_result probe_errno_result(int err);

/* Parse one target of a probe as its type does (see target_parse). */
const char	*probe_target_parse(const struct probe_type *, const void *opts,
		    const char *in, struct np_addr *, char *canon, size_t);

/*
 * A non-blocking socket for a run, placed per the probe's network
 * context (bind to source, SO_BINDTODEVICE, SO_MARK).  Returns the fd,
 * or -1 with run->obs.detail saying why.
 */
int		 probe_socket(struct probe_run *, int family, int type,
		    int proto);
/*
 * Read one datagram: its length, the sender in *from and, where the
 * socket has SO_TIMESTAMPNS, the kernel's receive time in *rx_wall (wall
 * clock ns, 0 if none).  *truncated (may be NULL) says the datagram was
 * longer than len.  -1 with errno on error (EAGAIN: nothing left).
 */
ssize_t		 probe_recv(int fd, void *buf, size_t len,
		    struct sockaddr_storage *from, uint64_t *rx_wall,
		    int *truncated);
/*
 * An ICMP socket for echo probes (icmp, pmtu): raw with CAP_NET_RAW,
 * else an unprivileged datagram one (*dgram set: the kernel owns the
 * identifier and there is no IP header on receive).  -1 with errno.
 */
int		 probe_icmp_socket(const struct probe_net *, int family,
		    int *dgram);
/*
 * socket(2) inside the context's network namespace (netns:), else in
 * ours; non-blocking and close-on-exec are the caller's flags.  -1 with
 * errno.
 */
int		 probe_net_socket(const struct probe_net *, int family,
		    int type, int proto);
/* Apply a network context to any socket; -1 with errno on failure. */
int		 probe_net_apply(int fd, const struct probe_net *, int family);
/* Remaining time before the run's deadline (0 if passed). */
void		 probe_remaining(const struct probe_run *, struct timeval *);
/* A step of the run, kept for /probe?debug=true. */
void		 probe_log(struct probe_run *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

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
#define TS_MAX_EXTRA	24
struct target_state {
	const struct probe_cfg	*cfg;
	size_t			 target;
	struct store		*store;
	struct series		*success;
	struct series		*duration;
	struct series		*hist;
	struct series		*runs[PR_MAX];	/* created on first use */
	struct series		*last_run;	/* wall time of last result */
	struct series		*lag;
	/* scheduling (daemon/sched.c) */
	void			*owner;
	struct sched_batch	*batch;		/* the start it waits for */
	size_t			 batch_idx;	/* its place in it */
	uint64_t		 phase_ms;
	uint64_t		 next_ms;	/* nominal start of next run */
	struct probe_run	*run;
	int			 running;
	int			 last_ok;	/* -1: no result yet */
	int			 last_result;	/* enum probe_result, -1: none */
	double			 last_duration;	/* seconds, of the last run */
	uint64_t		 skipped;
	/* negative probes (probes/isolation.c), sweeps (daemon/sweep.c) */
	struct iso_state	*iso;
	struct sweep_run	*sweep;
	/* the type's own series, allocated with the struct (nextra is the
	 * type's, kept here so that freeing needs no configuration) */
	size_t			 nextra;
	struct series		*extra[];
};

/* The run-duration histogram as the config wants it (histograms:). */
void		 target_state_histograms(struct target_state *);
struct target_state *target_state_new(struct store *, const struct probe_cfg *,
		    size_t target);
void		 target_state_free(struct target_state *);
/* Identity key for reload matching; caller frees. */
char		*target_state_key(const struct probe_cfg *, size_t target);
/* Put a finished run's observation into the store. */
void		 target_state_record(struct target_state *,
		    const struct probe_run *);
/* Create a series in this target's label set plus extra pairs. */
struct series	*target_series(struct target_state *, struct family *,
		    ...);

/* Registered families shared by all types (store.c registration). */
void		 probe_families_register(struct store *);

#endif /* PROBE_H */
