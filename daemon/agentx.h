/*
 * The AgentX sub-agent (RFC 2741): serves NETPROBE-MIB's npAlertTable
 * (B.1.2) and npProbeTable (B.1.3) to an SNMP master agent (snmpd with
 * `master agentx`), so managers can poll the current state with snmpwalk.
 *
 * The protocol is implemented here (agentx.c, msg_agentx.c) on the
 * daemon's libevent loop rather than with net-snmp's agent library:
 * net-snmp's sub-agent sends Open, Register and Ping synchronously, and a
 * master that accepts the connection but does not answer (stopped,
 * wedged) blocked its caller for 6 s per exchange in a measurement with
 * snmpd 5.9.3.  Here every step is a non-blocking socket operation with a
 * deadline.  Validate a configured master address with
 * agentx_master_check() (msg_agentx.h).
 */
#ifndef DAEMON_AGENTX_H
#define DAEMON_AGENTX_H

#include <stddef.h>
#include <stdint.h>

struct np_daemon;

/*
 * Start the sub-agent, or after a reload make it follow the new settings.
 * master: "unix:PATH", "/PATH", "tcp:IP:PORT" or "IP:PORT" (an IP literal;
 * port 705 if none); base: NETPROBE-MIB's base OID (default
 * 1.3.6.1.4.1.8072.9999.9999.7457), at most AGENTX_BASE_MAX (123,
 * msg_agentx.h) sub-ids.
 *
 * Never blocks and never fails for an absent master: the connection is
 * retried on a timer (0.5 s doubling to 5 s), and re-established when the
 * master restarts.  Each change is logged once (registered; lost;
 * unavailable, and again only when the reason changes).  Called again
 * with the same master and base, it keeps the session (a reload does not
 * re-register).  The tables are read from d on every request (d->ts,
 * rules_foreach_alert), so nothing is kept across loop iterations.
 *
 * Returns 0, or -1 (logged) if master or base is invalid; the config
 * loader should have refused those already (agentx_master_check() in
 * msg_agentx.h; the base length is within SNMP_MAX_OID).
 */
int		 agentx_start(struct np_daemon *, const char *master,
		    const uint32_t *base, size_t base_len);
/* Close the session (a Close-PDU, best effort) and free everything.  A
 * no-op when not started.  Call before the event base is freed. */
void		 agentx_stop(struct np_daemon *);

#endif /* DAEMON_AGENTX_H */
