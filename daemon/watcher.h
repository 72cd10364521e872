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
 */
#ifndef DAEMON_WATCHER_H
#define DAEMON_WATCHER_H

#include <stddef.h>
#include <stdio.h>

struct yamldoc;
struct yaml_node_s;
struct evbuffer;
struct np_config;
struct np_daemon;

struct watcher_cfg;		/* one `watchers:` entry */

/*
 * Parse the `watchers:` sequence: errors go to yd as FILE:LINE:COL.
 * Returns the entries (*n of them; NULL with *n 0 when there are none or
 * on error).  Free with watcher_cfgs_free().
 */
struct watcher_cfg **watchers_config_parse(struct yamldoc *,
		    struct yaml_node_s *, size_t *n);
void		 watcher_cfgs_free(struct watcher_cfg **, size_t n);

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
 * --replay: run conf's watchers over a capture file (packet times from
 * the file) and print every violation to out.  Returns the exit status:
 * 0 none, 1 violations found, 2 the file cannot be read.
 */
int		 watchers_replay(const struct np_config *, const char *path,
		    FILE *out, FILE *err);

#endif
