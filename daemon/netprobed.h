/*
 * netprobed: core types shared by the daemon, the probes and the tests.
 *
 * Data flow: config (YAML) -> scheduler -> probes -> series store ->
 * exporters.  Everything runs on one libevent loop; nothing blocks it.
 */
#ifndef NETPROBED_H
#define NETPROBED_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct event_base;
struct evbuffer;
struct probe_type;
struct probe_run;
struct store;
struct web_config;
struct series;
struct family;

/* ---- util.c -------------------------------------------------------- */

/*
 * JSON output: a string (escaped; bytes that are not UTF-8 become
 * U+FFFD, so a peer's odd header cannot break the document), a number
 * (null for NaN and infinities), an RFC 3339 UTC time (null for <= 0).
 */
void		 json_str(struct evbuffer *, const char *);
/*
 * Length (1-4) of the valid UTF-8 sequence at p within avail bytes, or 0
 * (RFC 3629: overlong forms, surrogates, values past U+10FFFF are not).
 */
size_t		 utf8_seq_len(const unsigned char *p, size_t avail);
void		 json_num(struct evbuffer *, double);
void		 json_time(struct evbuffer *, int64_t unix_ms);

#define NP_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Allocation that cannot fail: these abort the daemon on OOM. */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
int		 xasprintf(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Read a file that holds secrets (SNMP passphrases, the web config's
 * password hashes, a TLS key): a regular file, not a symlink, not
 * readable or writable by others nor writable by its group (root:netprobed
 * mode 0640 is the usual way), at most max bytes.  The text (NUL-added,
 * *len without it) or NULL with the reason in err.  The caller wipes
 * and frees it (secret_free).
 */
char		*secret_read(const char *path, size_t max, size_t *len,
		    char *err, size_t errlen);
void		 secret_free(char *, size_t len);

/*
 * A set of strings (borrowed: they must outlive it) with an index each,
 * for duplicate checks over thousands of names in O(1) each.
 * strindex_add: the index of an equal string already there, or -1 after
 * adding s with idx.
 */
struct strindex {
	const char	**key;
	size_t		 *idx;
	size_t		  cap, n;
};
long		 strindex_add(struct strindex *, const char *s, size_t idx);
void		 strindex_free(struct strindex *);
/* FNV-1a of a string: the hash tables' and the rules' keys. */
uint64_t	 str_hash(const char *);

/*
 * Return free heap pages to the system (glibc's malloc_trim: pages freed
 * amid the heap, which free() alone keeps); after a reload or a burst.
 */
void		 heap_trim(void);

/* Monotonic and wall clocks, in nanoseconds. */
uint64_t	 now_mono_ns(void);
uint64_t	 now_wall_ns(void);
/* Monotonic time of a kernel receive timestamp (wall ns; 0: none, now). */
uint64_t	 rx_mono_ns(uint64_t rx_wall);

/*
 * Parse a duration: a decimal integer and a unit (ms, s, m, h),
 * possibly several ("1m30s").  Returns 0 and stores milliseconds, or -1
 * with a static reason in *why.
 */
int		 parse_duration_ms(const char *, uint64_t *, const char **why);
/* Format milliseconds as the shortest duration string ("1m30s"). */
void		 format_duration_ms(uint64_t, char *, size_t);

/*
 * An IPv4 or IPv6 socket address: what a sockaddr_storage is for the two
 * families netprobed probes, in 28 bytes instead of 128 (a configuration
 * holds one per target).  ss.ss_family reads the family of either.
 */
union np_sockaddr {
	sa_family_t		 ss_family;
	struct sockaddr		 sa;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
};

/* A network address with an optional port (0 = none given). */
struct np_addr {
	union np_sockaddr	 ss;
	socklen_t		 len;
};
#define NP_PORT_NONE	(-1)
#define NP_PORT_REQUIRED (-2)

/*
 * Parse an IP literal, "HOST", "HOST:PORT" or "[V6]:PORT".  With
 * want_port NP_PORT_NONE a port is an error; NP_PORT_REQUIRED demands one;
 * any value >= 0 is the default port when none is given.  Returns 0, or -1
 * with a static reason in *why.  Never resolves names.
 */
int		 parse_addr(const char *, int want_port, struct np_addr *,
		    const char **why);
/* "127.0.0.1", "::1", "127.0.0.1:80" or "[::1]:80" (with_port). */
void		 format_addr(const struct np_addr *, int with_port, char *,
		    size_t);
int		 addr_port(const struct np_addr *);
/* Is b the address of a (and its port, with_port)?  For "from the target". */
int		 addr_match(const struct np_addr *a,
		    const struct sockaddr_storage *b, int with_port);
#define NP_ADDRSTRLEN	64

/* Prometheus label name rules: [a-zA-Z_][a-zA-Z0-9_]*, not "__..." */
int		 valid_label_name(const char *);

/* ---- log.c --------------------------------------------------------- */

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void		 log_init(int verbosity);
void		 log_setlevel(int verbosity);
void		 log_msg(enum log_level, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
void		 log_warn(const char *, ...)	/* appends strerror(errno) */
		    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* ---- config.c ------------------------------------------------------ */

struct np_label {
	char	*name;
	char	*value;
};

/* A small label set, kept sorted by name. */
struct np_labels {
	struct np_label	*v;
	size_t		 n;
};

/*
 * Where a probe's packets leave from: common keys of every probe.  Kept
 * zeroed past the strings, so two contexts compare with memcmp().
 */
struct probe_net {
	struct np_addr		 source;	/* family 0: kernel's choice */
	char			 ifname[16];	/* "": any (SO_BINDTODEVICE) */
	char			 vrf[16];	/* "": none (bound to the VRF) */
	uint32_t		 fwmark;	/* 0: none (SO_MARK) */
	char			 netns[64];	/* "": ours (/run/netns/NAME) */
};

/* A negative probe (`expect: blocked`; probes/isolation.c). */
struct probe_iso {
	int			 blocked;	/* expect: blocked */
	char			*control;	/* positive control's name */
	unsigned		 filter_hops;	/* RSTs from this near are
						   the filter's forgeries */
	struct np_sweep		*sweep;		/* sweep mode, or NULL */
};

struct probe_cfg {
	char			*name;
	const struct probe_type	*type;
	char			**targets;	/* canonical text, the label */
	struct np_addr		*addrs;
	size_t			 ntargets;
	uint64_t		 interval_ms;
	uint64_t		 timeout_ms;
	struct np_labels	 labels;
	struct probe_net	 net;
	struct probe_iso	 iso;
	void			*opts;		/* type->opts_size bytes */
	int			 line;		/* of the entry, 1-based */
	/* `histograms: false`: no per-target histogram series (their
	 * buckets are most of /metrics with thousands of targets) */
	int			 no_histograms;
};

struct rule_file;
struct snmp_cfg;
struct watcher_cfg;
struct np_sweep;

struct np_config {
	char			*path;
	char			*site_name;
	char			*site_display_name;
	struct np_labels	 site_labels;
	struct np_addr		 listen;
	uint64_t		 default_interval_ms;
	uint64_t		 default_timeout_ms;
	int			 default_no_histograms;
	struct probe_cfg	*probes;
	size_t			 nprobes;
	/* rule_files: every file the globs matched, loaded and checked */
	struct rule_file	**rule_files;
	size_t			 nrule_files;
	uint64_t		 evaluation_interval_ms;
	struct snmp_cfg		*snmp;		/* NULL: no `snmp:` block */
	struct watcher_cfg	**watchers;	/* `watchers:` (watcher.h) */
	size_t			 nwatchers;
	char			*audit_path;	/* `audit_log:`, NULL: none */
	char			*user;		/* `user:`, NULL: none */
	struct web_config	*web;		/* `web_config_file:` */
	char			*state_path;	/* `state_file:`, NULL: none */
	char			 sha256[65];	/* of the file, hex */
};

#define NP_DEFAULT_LISTEN	"127.0.0.1:9560"
#define NP_DEFAULT_INTERVAL_MS	10000
#define NP_DEFAULT_TIMEOUT_MS	2000
#define NP_DEFAULT_EVAL_MS	15000
#define NP_MAX_RULE_FILES	256

/*
 * Error collector: every message is "FILE:LINE:COL: message", lines and
 * columns 1-based.  Loading goes on after an error to report them all.
 */
struct cfg_errors {
	char	**msg;
	size_t	  n;
};

/*
 * Load and validate a config from a file (or, for tests, from memory with
 * a name used in messages).  Returns the config, or NULL with every error
 * in *errs (which the caller frees with cfg_errors_free()).  A config with
 * any error is never returned.
 */
struct np_config *config_load_file(const char *path, struct cfg_errors *);
struct np_config *config_load_string(const char *name, const char *text,
		    size_t len, struct cfg_errors *);
void		 config_free(struct np_config *);
void		 cfg_errors_free(struct cfg_errors *);

/*
 * For every YAML loader (config, rule files): add "FILE:LINE:COL: msg"
 * (line and col 0-based, printed 1-based); report libyaml's syntax error;
 * read a whole file (at most 8 MiB; caller frees; NULL after adding the
 * error).
 */
struct yaml_parser_s;
void		 cfg_error_at(struct cfg_errors *, const char *file, size_t line,
		    size_t col, const char *, va_list)
		    __attribute__((format(printf, 5, 0)));
void		 cfg_error_raw(struct cfg_errors *, const char *file,
		    size_t line, size_t col, const char *, ...)
		    __attribute__((format(printf, 5, 6)));
void		 cfg_yaml_syntax_error(struct cfg_errors *, const char *file,
		    const struct yaml_parser_s *);
char		*cfg_read_file(const char *path, size_t *len,
		    struct cfg_errors *);
/* A path as written in config_file, made relative to its directory. */
char		*cfg_relative_path(const char *config_file, const char *path);
const struct probe_cfg *config_find_probe(const struct np_config *,
		    const char *);

/* ---- store.c: the one place results land --------------------------- */

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/*
 * Families are registered once with static strings.  Series are created
 * with a label set and belong to whoever created them until released.
 * A gauge that was never set is not exported (no value yet).
 */
struct store	*store_new(void);
void		 store_free(struct store *);
struct family	*store_family(struct store *, const char *name,
		    const char *help, enum metric_type,
		    const double *buckets, size_t nbuckets);
/* The type of a registered family (enum metric_type), or -1. */
int		 store_family_type(const struct store *, const char *name);
/*
 * Get the series with exactly these labels (name=value pairs, any order,
 * NULL-terminated), creating it if needed.  The returned pointer stays
 * valid until store_release() or store_free().
 */
struct series	*store_series(struct store *, struct family *,
		    const struct np_labels *base, ...);
struct series	*store_series_v(struct store *, struct family *,
		    const struct np_labels *base, const char *const *extra);
struct series	*store_series_va(struct store *, struct family *,
		    const struct np_labels *base, va_list);
void		 store_release(struct store *, struct series *);
void		 series_set(struct series *, double);
void		 series_add(struct series *, double);
/* (NULL: nothing; a histogram a probe turned off with histograms: false) */
void		 series_observe(struct series *, double);
enum metric_type family_type(const struct family *);
/* A gauge with no current value: not exported until set again. */
void		 series_unset(struct series *);
double		 series_value(const struct series *);
uint64_t	 series_count(const struct series *);
size_t		 store_nseries(const struct store *);

/* Prometheus text format 0.0.4 of everything in the store. */
void		 store_render(const struct store *, struct evbuffer *);
/*
 * The same in pieces, for a reply that goes out while the loop runs on:
 * store_render_some() appends about budget bytes (whole series) and
 * returns 1 while more remains.  Series released meanwhile are not
 * shown and are freed at store_render_end(); values are those at the
 * time each piece is written.
 */
struct store_cursor;
struct store_cursor *store_render_begin(struct store *);
int		 store_render_some(struct store_cursor *, struct evbuffer *,
		    size_t budget);
void		 store_render_end(struct store_cursor *);
/* Only the gauges: what /probe answers, like blackbox_exporter. */
void		 store_render_gauges(const struct store *, struct evbuffer *);
/*
 * Every sample /metrics would show, in order: name and suffix ("",
 * "_bucket", "_sum", "_count"), the labels as text (a="b",c="d", escaped),
 * le for buckets (else NULL), value.  want (may be NULL) is asked once
 * per family and skips it on 0.  For the rules' history snapshots.
 */
typedef void (*store_sample_fn)(void *arg, const char *name,
    const char *suffix, const char *labels, const char *le, double v);
void		 store_visit(const struct store *,
		    int (*want)(void *arg, const char *family), store_sample_fn,
		    void *arg);
/* Number formatting as Prometheus expects ("+Inf", shortest round trip). */
void		 format_double(double, char *, size_t);
/* Finite and not an integer: the shortest of %.15g, %.16g, %.17g that
 * reads back exactly (format_double's way off its decimal grids). */
void		 format_double_exact(double, char *, size_t);
/* NaN, +Inf or -Inf spelt as Prometheus and Go do, returning 1; 0 (and
 * nothing written) for a finite value. */
int		 format_nonfinite(double, char *, size_t);
/* Append a label value with \\, \" and \n escaped. */
void		 escape_label_value(struct evbuffer *, const char *);

/* ---- procstat.c ---------------------------------------------------- */

/* Append process_* metrics (Linux /proc) in text format. */
void		 procstat_render(struct evbuffer *, double start_time);
/* Open what it reads, early (before a privilege drop or fd shortage). */
void		 procstat_open(void);

/* ---- version ------------------------------------------------------- */

extern const char	*np_version;

#endif /* NETPROBED_H */
