/*
 * SNMP notifications (issue 5): the `snmp:` block of the config, and the
 * notifier that sends traps and informs to the bureau's managers from
 * the libevent loop.  The MIB is daemon/NETPROBE-MIB.txt; OIDs below are
 * relative to snmp.base_oid.
 */
#ifndef DAEMON_SNMP_H
#define DAEMON_SNMP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/netprobed.h"

struct yamldoc;
struct yaml_node_s;
struct np_daemon;
struct alert;

#define SNMP_MAX_OID		64
#define SNMP_MAX_ENGINE_ID	32
/* net-snmp's playpen (NET-SNMP-MIB::netSnmpPlaypen) .7457 */
#define SNMP_DEFAULT_BASE	"1.3.6.1.4.1.8072.9999.9999.7457"

enum snmp_auth { SNMP_AUTH_NONE, SNMP_AUTH_SHA, SNMP_AUTH_SHA256 };
enum snmp_priv { SNMP_PRIV_NONE, SNMP_PRIV_AES };

struct snmp_manager_cfg {
	char			*name;		/* the `manager` label */
	struct np_addr		 addr;
	int			 version;	/* 2 (2c) or 3 */
	int			 inform;	/* 0: trap */
	char			*community;	/* v2c */
	char			*user;		/* v3 */
	enum snmp_auth		 auth;
	char			*auth_pass;
	enum snmp_priv		 priv;
	char			*priv_pass;
	/* v3 informs: the manager's engine ID (no blocking discovery) */
	uint8_t			 engine_id[SNMP_MAX_ENGINE_ID];
	size_t			 engine_id_len;
	uint64_t		 timeout_ms;	/* one inform attempt */
	uint64_t		 retry_max_ms;	/* backoff cap between attempts */
	size_t			 queue_size;	/* informs held for it */
	char			**severities;	/* NULL: every severity */
	size_t			 nseverities;
	struct np_labels	 match;		/* alert labels that must equal */
};

struct snmp_cfg {
	uint32_t		 base[SNMP_MAX_OID];
	size_t			 base_len;
	/* ours, the authoritative engine of v3 traps */
	uint8_t			 engine_id[SNMP_MAX_ENGINE_ID];
	size_t			 engine_id_len;
	char			*state_dir;	/* engineBoots; NULL: clock */
	uint64_t		 alert_spacing_ms; /* per alert; 0: none */
	double			 rate;		/* notifications/s, 0: no bucket */
	double			 burst;
	struct snmp_manager_cfg	*managers;
	size_t			 nmanagers;
	char			*agentx_master;	/* NULL: no AgentX */
};

/* config (snmp_config.c): parse the `snmp:` mapping; errors into yd. */
struct snmp_cfg	*snmp_config_parse(struct yamldoc *, struct yaml_node_s *);
void		 snmp_cfg_free(struct snmp_cfg *);
/* A deep copy of a manager's settings (secrets included), and its free. */
void		 snmp_manager_cfg_copy(struct snmp_manager_cfg *dst,
		    const struct snmp_manager_cfg *);
void		 snmp_manager_cfg_clear(struct snmp_manager_cfg *);
/* "1.3.6.1..." into an OID; 0, or -1 with a reason. */
int		 np_oid_parse(const char *, uint32_t *, size_t *len,
		    const char **why);

/*
 * net-snmp, once per process (snmp_lib.c), for the notifier: state_dir
 * (NULL: a private temporary one) is where the library insists on
 * writing.  Later calls do nothing.  (AgentX is daemon/agentx.c, which
 * does not use net-snmp.)
 */
void		 snmp_lib_init(const char *state_dir);
void		 snmp_lib_shutdown(void);

/* the notifier (snmp.c) */
void		 snmp_apply(struct np_daemon *, const struct np_config *);
void		 snmp_free(struct np_daemon *);
/* An alert transition from the rules (to firing, or resolved). */
void		 snmp_notify_alert(struct np_daemon *, const struct alert *,
		    int resolved);
/*
 * A flow the passive watcher saw outside the allow-list, at its first
 * sighting (kind: egress, ingress, foreign_mcu, listen_only): never
 * filtered by severity or labels, but under the global
 * token bucket (counted as reason="global" when over it).
 */
void		 snmp_notify_isolation(struct np_daemon *, const char *watcher,
		    const char *kind, const char *src, const char *dst,
		    const char *proto, uint32_t port, int64_t first_seen_ms);
void		 snmp_notify_reload_failed(struct np_daemon *,
		    const char *reason);
void		 snmp_notify_started(struct np_daemon *);
void		 snmp_notify_stopping(struct np_daemon *);
/* Informs queued or in flight (a stop waits a moment for their answers). */
size_t		 snmp_informs_waiting(struct np_daemon *);

#endif /* DAEMON_SNMP_H */
