/*
 * The state file (`state_file:`): what a restart must not lose or
 * repeat -- the pending and firing alerts (so one that still fires is not
 * notified again, and one that ended meanwhile is resolved) and each
 * manager's unacknowledged informs with their sequence numbers (so they
 * are sent after the restart, once each).  JSON, rewritten atomically
 * (a temporary file, fsync, rename) at most once a second when something
 * changed, off the loop, and once more at a clean stop.
 */
#ifndef DAEMON_STATE_H
#define DAEMON_STATE_H

#include <stdint.h>

#include <yaml.h>

struct np_daemon;
struct np_config;
struct np_labels;
struct evbuffer;
struct yamldoc;

/* Start (or stop, without state_file:) saving; read the file at start. */
void	state_apply(struct np_daemon *, const struct np_config *, int start);
/* Something worth saving changed (an alert, an inform queue). */
void	state_dirty(struct np_daemon *);
/* Save now, waiting for it (a clean stop), and release everything. */
void	state_stop(struct np_daemon *);

/*
 * Reading a saved document back, for rules.c and snmp.c: the value of key
 * in map (NULL: absent or not a mapping), as a string (NULL: absent or
 * not a scalar), as a number (def: absent or not a number), as labels.
 */
yaml_node_t	*state_get(struct yamldoc *, yaml_node_t *map, const char *key);
const char	*state_str(struct yamldoc *, yaml_node_t *map, const char *key);
int64_t		 state_int(struct yamldoc *, yaml_node_t *map, const char *key,
		    int64_t def);
double		 state_num(struct yamldoc *, yaml_node_t *map, const char *key);
void		 state_labels(struct yamldoc *, yaml_node_t *map,
		    const char *key, struct np_labels *);

/* The parts, written as JSON members and restored (rules.c, snmp.c). */
void	rules_state_write(struct np_daemon *, struct evbuffer *);
void	rules_state_restore(struct np_daemon *, struct yamldoc *,
	    yaml_node_t *alerts);
void	snmp_state_write(struct np_daemon *, struct evbuffer *);
void	snmp_state_restore(struct np_daemon *, struct yamldoc *,
	    yaml_node_t *managers);

#endif /* DAEMON_STATE_H */
