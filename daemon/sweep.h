/*
 * Sweep mode of a negative probe: a forbidden range (prefixes x ports)
 * probed a few destinations per interval, round after round, so the
 * whole range is covered over time without a burst.  See sweep.c.
 */
#ifndef DAEMON_SWEEP_H
#define DAEMON_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"
#include "probes/netlink.h"

#define SWEEP_MAX_DESTINATIONS	65536	/* addresses x ports */
#define SWEEP_MAX_PER_INTERVAL	64
#define SWEEP_MAX_NAMED_LEAKS	32	/* destinations named in labels */

struct np_sweep {
	struct nl_prefix	*prefixes;	/* host bits cleared */
	size_t			 nprefixes;
	uint64_t		*naddrs;	/* addresses in each prefix */
	uint16_t		*ports;		/* none for icmp/pmtu */
	size_t			 nports;
	unsigned		 per_interval;
	uint64_t		 total;		/* destinations */
};

struct yamldoc;
struct yaml_node_s;
struct np_daemon;
struct target_state;

/*
 * Parse a probe's `sweep:` mapping (prefixes, ports, per_interval) for a
 * type that takes ports (want_ports) or not.  NULL after errors.  The
 * target text (the `target` label) is written to canon.
 */
struct np_sweep	*sweep_parse(struct yamldoc *, struct yaml_node_s *,
		    int want_ports, char *canon, size_t len);
void		 sweep_cfg_free(struct np_sweep *);
/* Destination i (0 <= i < total): its address (with port) and text. */
void		 sweep_destination(const struct np_sweep *, uint64_t i,
		    struct np_addr *, char *text, size_t len);

/* One destination as a probe of its own: the sweep probe, one target. */
struct sweep_dest {
	struct probe_cfg	 cfg;
	struct np_addr		 addr;
	char			 text[NP_ADDRSTRLEN];
	char			*targets[1];
};
/* Make d the sweep probe p aimed at destination i (d must not move). */
void		 sweep_dest_init(struct sweep_dest *, const struct probe_cfg *p,
		    uint64_t i);

/* The scheduler's side: one tick starts the next per_interval runs. */
void		 sweep_tick(struct np_daemon *, struct target_state *);
/* Abort the runs in flight (reload); free everything. */
void		 sweep_abort(struct target_state *);
void		 sweep_free(struct target_state *);
/* The "sweep" member of a /status isolation entry, or nothing. */
struct evbuffer;
void		 sweep_status(const struct target_state *, struct evbuffer *);

#endif
