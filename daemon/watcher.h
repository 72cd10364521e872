/*
 * The passive isolation watchers (`watchers:` in the config): libpcap
 * handles on the libevent loop that flag every packet crossing the
 * gateway outside a segment's allow-list, and the two conference faults
 * of the city notice (signalling to a foreign MCU, listen-only calls).
 *
 * config.c hands the `watchers:` value to watchers_config_parse(); the
 * daemon makes a config's watchers the running ones with watchers_apply()
 * (start and every reload); /status shows watchers_status();
 * `netprobed --replay FILE.pcap` runs watchers_replay().
 *
 * Live capture and --replay judge packets with the same code, the
 * "judge" below (also what the unit tests drive): all its times are the
 * packets' own timestamps, so a replay is deterministic.
 */
#ifndef DAEMON_WATCHER_H
#define DAEMON_WATCHER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probes/netlink.h"

struct yamldoc;
struct yaml_node_s;
struct evbuffer;
struct np_config;
struct np_daemon;

/* ---- configuration (watcher_config.c) ------------------------------ */

/* Bounds of the lists and numbers of a `watchers:` entry. */
#define WATCHER_MAX			64	/* entries in `watchers:` */
#define WATCHER_MAX_SEGMENT		256	/* segment prefixes */
#define WATCHER_MAX_ALLOW		4096	/* per direction */
#define WATCHER_MAX_MCUS		256
#define WATCHER_MAX_PORTS		64	/* per conference port list */
#define WATCHER_MAX_FILTER		4096	/* bytes of BPF filter text */

/* One allow entry: "10.20.0.53/32 udp/53", "10.20.0.1/32 icmp". */
struct watcher_allow {
	struct nl_prefix pfx;
	int		 proto;		/* IP protocol; -1: any */
	int		 has_ports;	/* tcp/udp with a port or range */
	uint16_t	 port_lo, port_hi;
};

enum watcher_direction {
	WATCHER_DIR_EGRESS = 1,		/* leaving the segment */
	WATCHER_DIR_INGRESS = 2,	/* entering it */
	WATCHER_DIR_BOTH = 3
};

struct watcher_conference {
	struct nl_prefix *mcus;
	size_t		 nmcus;
	uint16_t	*sip_ports;	/* udp and tcp */
	size_t		 nsip;
	uint16_t	*h323_ports;	/* tcp */
	size_t		 nh323;
	uint16_t	*ras_ports;	/* udp */
	size_t		 nras;
	uint64_t	 listen_only_after_ms;
	uint8_t		 audio_pt[128];	/* 1: this RTP payload type is audio */
};

/* one `watchers:` entry */
struct watcher_cfg {
	char		*name;
	char		 ifname[16];
	char		*filter;		/* NULL: none */
	struct nl_prefix *segment;
	size_t		 nsegment;
	int		 direction;		/* enum watcher_direction */
	/* [0] egress, [1] ingress: the remote ends allowed */
	struct watcher_allow *allow[2];
	size_t		 nallow[2];
	uint64_t	 buffer_size;		/* bytes */
	uint64_t	 snaplen;		/* bytes */
	int		 promiscuous;
	size_t		 top_n;
	size_t		 table_size;
	struct watcher_conference *conference;	/* NULL: no checks */
	int		 line;			/* of the entry, 1-based */
};

#define WATCHER_DEFAULT_BUFFER		(2 * 1024 * 1024)
#define WATCHER_DEFAULT_SNAPLEN		256
#define WATCHER_DEFAULT_TOP_N		10
#define WATCHER_DEFAULT_TABLE		1024
#define WATCHER_DEFAULT_LISTEN_ONLY_MS	30000
/* a call ends after this long without media (either way) */
#define WATCHER_CALL_IDLE_MS		10000

/*
 * Parse the `watchers:` sequence: errors go to yd as FILE:LINE:COL.
 * Returns the entries (*n of them; NULL with *n 0 when there are none or
 * on error).  Free with watcher_cfgs_free().
 */
struct watcher_cfg **watchers_config_parse(struct yamldoc *,
		    struct yaml_node_s *, size_t *n);
void		 watcher_cfgs_free(struct watcher_cfg **, size_t n);

/*
 * netlink_prefix_parse() for the watchers' lists: 0, -1 with a static
 * reason in *why, or -2 when host bits are set (*p then holds the
 * network, which the caller suggests).
 */
int		 np_prefix_parse(const char *, struct nl_prefix *,
		    const char **why);

/* ---- the running watchers (watcher.c) ------------------------------ */

/*
 * Make conf's watchers the running ones.  A watcher whose name and
 * capture settings are unchanged keeps its handle, counters and table;
 * the others are opened or closed.  A handle that cannot be opened (no
 * interface yet, no privilege) is retried on a timer and logged; it
 * never fails the daemon.  conf must stay alive until the next call or
 * watchers_free().
 */
void		 watchers_apply(struct np_daemon *, const struct np_config *);
void		 watchers_free(struct np_daemon *);
/* The "watchers" member of /status (JSON: `"watchers":[...]`). */
void		 watchers_status(struct np_daemon *, struct evbuffer *);

/*
 * One running watcher as it stands now, for the / page: read-only, and
 * valid (with everything it points to) only during the call.
 */
struct watcher_counts;
struct watcher_judge;
struct watcher_view {
	const struct watcher_cfg	*cfg;
	int				 up;	/* capturing now */
	const char			*err;	/* why not, or "" */
	const struct watcher_counts	*counts;
	const struct watcher_judge	*judge;	/* for watcher_judge_flows() */
};
typedef void	(*watcher_view_fn)(void *arg, const struct watcher_view *);
/* Call fn for every running watcher, in config order. */
void		 watchers_foreach(struct np_daemon *, watcher_view_fn,
		    void *arg);

/*
 * --replay: run conf's watchers over a capture file (packet times from
 * the file) and print every violation to out.  Returns the exit status:
 * 0 none, 1 violations found, 2 the file cannot be read.
 */
int		 watchers_replay(const struct np_config *, const char *path,
		    FILE *out, FILE *err);

/* ---- the judge: one packet at a time, live and replayed alike ------ */

/* The `kind` label of a violation. */
enum watcher_kind {
	WATCHER_EGRESS,		/* left the segment outside the allow-list */
	WATCHER_INGRESS,	/* entered it outside the allow-list */
	WATCHER_FOREIGN_MCU,	/* conference signalling to a non-MCU */
	WATCHER_LISTEN_ONLY,	/* a call with media in, no audio out */
	WATCHER_KIND_MAX
};

/* How a packet stands to the segment: the `direction` label. */
enum watcher_pdir {
	WATCHER_PD_EGRESS,	/* source inside, destination outside */
	WATCHER_PD_INGRESS,
	WATCHER_PD_INTERNAL,	/* both inside: not judged */
	WATCHER_PD_TRANSIT,	/* both outside: not judged */
	WATCHER_PD_NON_IP,	/* ARP, LLDP...: not judged */
	WATCHER_PD_MAX
};

/*
 * One violation flow: a (kind, source, destination, protocol, port) the
 * judge has seen.  port is the remote end's port (the destination's when
 * leaving, the source's when entering; for a listen-only call the MCU's
 * media port); 0 when the protocol has none or a fragment did not carry
 * it.  port_at_src says it is the source's.
 */
struct watcher_flow {
	int		 kind;		/* enum watcher_kind */
	int		 family;
	uint8_t		 src[16], dst[16];
	uint8_t		 proto;
	int		 port_at_src;
	uint16_t	 port;
	int64_t		 first_ms, last_ms;	/* packet times */
	uint64_t	 packets;
};

struct watcher_counts {
	uint64_t	 packets;
	uint64_t	 malformed[32];		/* by enum pkt_reason */
	uint64_t	 direction[WATCHER_PD_MAX];
	uint64_t	 violations[WATCHER_KIND_MAX];	/* packets */
	uint64_t	 new_flows[WATCHER_KIND_MAX];
	uint64_t	 evictions;
	size_t		 flows;		/* in the table now */
	size_t		 calls;		/* conference calls now */
	size_t		 listen_only;	/* of which listen-only now */
};

struct watcher_judge;
/* A new flow (first sighting since it entered the table); the flow is
 * valid only during the call. */
typedef void	(*watcher_flow_fn)(void *arg, const struct watcher_flow *);

/*
 * A judge for cfg (which must outlive it, or be replaced by
 * watcher_judge_set_cfg()): on_new (may be NULL) hears of every new
 * flow.  Never fails.
 */
struct watcher_judge *watcher_judge_new(const struct watcher_cfg *,
		    watcher_flow_fn on_new, void *arg);
void		 watcher_judge_free(struct watcher_judge *);
/* A reload: new allow lists, table size (the oldest flows go), etc. */
void		 watcher_judge_set_cfg(struct watcher_judge *,
		    const struct watcher_cfg *);
/*
 * Judge one captured frame of link type dlt, taken at ts_ms (unix ms),
 * caplen bytes captured of wirelen.
 */
void		 watcher_judge_packet(struct watcher_judge *, int dlt,
		    int64_t ts_ms, const uint8_t *, size_t caplen,
		    size_t wirelen);
/* End the calls idle at now_ms (the live loop's clock; the judge also
 * does it on packet times). */
void		 watcher_judge_expire(struct watcher_judge *, int64_t now_ms);
const struct watcher_counts *watcher_judge_counts(const struct watcher_judge *);
/* Every flow in the table, most recently seen first, at most max. */
void		 watcher_judge_flows(const struct watcher_judge *, size_t max,
		    watcher_flow_fn, void *arg);

const char	*watcher_kind_name(int kind);
const char	*watcher_pdir_name(int pdir);
/* "tcp", "udp", "icmp", "icmpv6", ... or the number. */
void		 watcher_proto_name(int proto, char *, size_t);
/* A flow's addresses as text, and "udp 10.30.1.5 -> 10.20.0.99:5060"
 * (the port written at the remote end; none for port 0). */
void		 watcher_flow_addrs(const struct watcher_flow *, char *src,
		    char *dst, size_t len);
void		 watcher_flow_text(const struct watcher_flow *, char *, size_t);
/* RFC 3339 UTC with milliseconds: "2024-05-01T08:00:00.000Z". */
void		 watcher_time_text(int64_t unix_ms, char *, size_t);

#endif
