/*
 * SNMP notifications to the bureau's managers (NETPROBE-MIB), from the
 * libevent loop.  Each manager has one net-snmp session (the single-
 * session API): its socket is a libevent read event and its retransmit
 * timeouts a libevent timer, so nothing ever blocks the loop (v3 informs
 * need the manager's engine ID: discovery would block).
 *
 * Traps are sent at once and counted.  Informs go through a bounded
 * queue per manager, one in flight at a time so they arrive in order: an
 * acknowledged inform leaves the queue; an unacknowledged one is retried
 * with backoff (1 s doubling to retry_max) for as long as it takes; when
 * the queue is full the oldest is dropped and counted, and once the
 * manager answers again it first gets a netprobeNotificationsDropped
 * saying how many.  Every notification carries npSequence, numbered per
 * manager when first sent: a gap is a notification lost on the way (a
 * trap), a repeat an inform whose acknowledgement was lost.
 *
 * Alert storms are damped before the managers: per alert a minimum
 * spacing (a transition inside it is held, and only the latest state is
 * sent when the spacing ends, so the manager ends in the right state),
 * and a global token bucket.  Both are counted.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/large_fd_set.h>

#include "daemon/daemon.h"
#include "daemon/msg_agentx.h"
#include "daemon/snmp.h"
#include "daemon/state.h"
#include "daemon/yamldoc.h"
#include "rules/alert.h"
#include "rules/labels.h"

/* notifications under base.0 */
enum { N_ALERT_FIRING = 1, N_ALERT_RESOLVED, N_ISOLATION, N_RELOAD_FAILED,
    N_STARTED, N_STOPPING, N_DROPPED };

/* objects under base.1.1 */
enum { O_SITE = 1, O_SITE_DISPLAY, O_ALERT_NAME, O_SEVERITY, O_STATE,
    O_VALUE, O_SUMMARY, O_DESCRIPTION, O_LABELS, O_ACTIVE_SINCE,
    O_EVENT_TIME, O_SEQUENCE, O_WATCHER, O_SOURCE, O_DESTINATION,
    O_PROTOCOL, O_PORT, O_FIRST_SEEN, O_REASON, O_DROPPED, O_KIND };

/* npAlertState */
enum { ST_PENDING = 2, ST_FIRING = 3, ST_RESOLVED = 4 };

/* One event, shared (refcounted) by the queues of several managers. */
struct event_msg {
	int			 refs;
	int			 kind;		/* N_* */
	int64_t			 time_ms;
	/* alerts */
	char			*alertname, *severity, *value, *summary,
				*description, *labels;
	int			 state;
	int64_t			 active_ms;
	/* isolation violations (the watcher) */
	char			*watcher, *src, *dst, *proto;
	int			 vkind;		/* npViolationKind */
	uint32_t		 port;
	int64_t			 first_ms;
	/* others */
	char			*reason;
	uint64_t		 dropped;
};

struct qent {
	struct event_msg	*ev;
	uint32_t		 seq;
};

enum { R_SENT, R_ACKED, R_TIMEOUT, R_DROPPED, R_ERROR, R_MAX };
static const char *const result_name[R_MAX] = { "sent", "acked", "timeout",
    "dropped", "error" };

struct mgr {
	struct snmp		*s;
	struct snmp_manager_cfg	*cfg;		/* a copy we own */
	void			*sess;
	struct event		*rd, *tmo, *retry, *kick;
	struct qent		*q;		/* ring */
	size_t			 qhead, qlen;
	int			 inflight;
	uint32_t		 inflight_seq;
	int			 closing;
	uint32_t		 seq;
	uint64_t		 dropped_unreported;
	uint64_t		 dropped_total;	/* npDroppedCount: a counter */
	uint64_t		 backoff_ms;
	int			 silent;	/* the last inform timed out */
	struct series		*m_res[R_MAX], *m_qlen, *m_up;
};

/* Per alert: what was last sent, and a held transition. */
struct spacing {
	char			*key;		/* the alert's labels */
	int64_t			 sent_ms;
	int			 sent_state;
	struct event_msg	*held;
	struct np_labels	 labels;	/* of the held one, for filters */
};

struct snmp {
	struct np_daemon	*d;
	struct snmp_cfg		*cfg;		/* a copy of the running one */
	struct mgr		**mgrs;
	size_t			 nmgrs;
	oid			 base[SNMP_MAX_OID];
	size_t			 base_len;
	uint32_t		 boots;
	double			 tokens;
	uint64_t		 tokens_ms;
	struct spacing		*sp;
	size_t			 nsp;
	struct event		*sweep;
	char			*site, *site_display;
	struct family		*f_res, *f_qlen, *f_up;
	struct series		*m_limited[2];	/* spacing, global */
};

static void	mgr_kick(struct mgr *);

/* ---- events ---------------------------------------------------------- */

static struct event_msg *
ev_new(int kind)
{
	struct event_msg	*e = xcalloc(1, sizeof(*e));

	e->refs = 1;
	e->kind = kind;
	e->time_ms = (int64_t)(now_wall_ns() / 1000000);
	return (e);
}

static void
ev_unref(struct event_msg *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	free(e->alertname);
	free(e->severity);
	free(e->value);
	free(e->summary);
	free(e->description);
	free(e->labels);
	free(e->watcher);
	free(e->src);
	free(e->dst);
	free(e->proto);
	free(e->reason);
	free(e);
}

/* ---- PDUs -------------------------------------------------------------- */

static void
add_obj(struct snmp *s, netsnmp_pdu *p, int obj, u_char type,
    const void *val, size_t len)
{
	oid	name[SNMP_MAX_OID + 4];
	size_t	n = s->base_len;

	memcpy(name, s->base, n * sizeof(oid));
	name[n++] = 1;
	name[n++] = 1;
	name[n++] = (oid)obj;
	name[n++] = 0;
	snmp_pdu_add_variable(p, name, n, type, val, len);
}

static void
add_str(struct snmp *s, netsnmp_pdu *p, int obj, const char *v)
{
	size_t	len;

	if (v == NULL)
		v = "";
	/* NetprobeUTF8String's size, not cutting a UTF-8 sequence */
	len = ax_utf8_prefix(v, 1024);
	add_obj(s, p, obj, ASN_OCTET_STR, v, len);
}

static void
add_time(struct snmp *s, netsnmp_pdu *p, int obj, int64_t ms)
{
	uint8_t	b[11];

	/* SNMPv2-TC DateAndTime, UTC (8 zero octets: no time) */
	add_obj(s, p, obj, ASN_OCTET_STR, b, ax_date_and_time(ms, b));
}

static netsnmp_pdu *
build_pdu(struct snmp *s, const struct qent *qe, int inform)
{
	static oid		 uptime_oid[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 };
	static oid		 trapoid_oid[] = { 1, 3, 6, 1, 6, 3, 1, 1, 4, 1,
				    0 };
	const struct event_msg	*e = qe->ev;
	netsnmp_pdu		*p;
	oid			 trap[SNMP_MAX_OID + 2];
	u_long			 ticks, u;
	long			 l;
	size_t			 n = s->base_len;

	p = snmp_pdu_create(inform ? SNMP_MSG_INFORM : SNMP_MSG_TRAP2);
	ticks = (u_long)((double)now_wall_ns() / 1e7 -
	    s->d->start_time * 100);
	snmp_pdu_add_variable(p, uptime_oid, NP_NELEM(uptime_oid),
	    ASN_TIMETICKS, &ticks, sizeof(ticks));
	memcpy(trap, s->base, n * sizeof(oid));
	trap[n++] = 0;
	trap[n++] = (oid)e->kind;
	snmp_pdu_add_variable(p, trapoid_oid, NP_NELEM(trapoid_oid),
	    ASN_OBJECT_ID, trap, n * sizeof(oid));
	add_str(s, p, O_SITE, s->site);
	add_str(s, p, O_SITE_DISPLAY, s->site_display);
	switch (e->kind) {
	case N_ALERT_FIRING:
	case N_ALERT_RESOLVED:
		add_str(s, p, O_ALERT_NAME, e->alertname);
		add_str(s, p, O_SEVERITY, e->severity);
		l = e->state;
		add_obj(s, p, O_STATE, ASN_INTEGER, &l, sizeof(l));
		add_str(s, p, O_VALUE, e->value);
		add_str(s, p, O_SUMMARY, e->summary);
		add_str(s, p, O_DESCRIPTION, e->description);
		add_str(s, p, O_LABELS, e->labels);
		add_time(s, p, O_ACTIVE_SINCE, e->active_ms);
		break;
	case N_ISOLATION:
		add_str(s, p, O_WATCHER, e->watcher);
		add_str(s, p, O_SOURCE, e->src);
		add_str(s, p, O_DESTINATION, e->dst);
		add_str(s, p, O_PROTOCOL, e->proto);
		u = e->port;
		add_obj(s, p, O_PORT, ASN_UNSIGNED, &u, sizeof(u));
		add_time(s, p, O_FIRST_SEEN, e->first_ms);
		l = e->vkind;
		add_obj(s, p, O_KIND, ASN_INTEGER, &l, sizeof(l));
		break;
	case N_RELOAD_FAILED:
		add_str(s, p, O_REASON, e->reason);
		break;
	case N_DROPPED:
		u = (u_long)e->dropped;
		add_obj(s, p, O_DROPPED, ASN_COUNTER, &u, sizeof(u));
		break;
	default:
		break;
	}
	add_time(s, p, O_EVENT_TIME, e->time_ms);
	u = qe->seq;
	add_obj(s, p, O_SEQUENCE, ASN_COUNTER, &u, sizeof(u));
	return (p);
}

/* ---- sessions on the loop ------------------------------------------- */

static void
mgr_arm(struct mgr *m)
{
	netsnmp_large_fd_set	fds;
	struct timeval		tv;
	int			nfds = 0, block = 1;

	if (m->sess == NULL)
		return;
	netsnmp_large_fd_set_init(&fds, FD_SETSIZE);
	timerclear(&tv);
	snmp_sess_select_info2(m->sess, &nfds, &fds, &tv, &block);
	netsnmp_large_fd_set_cleanup(&fds);
	if (block)
		evtimer_del(m->tmo);
	else
		evtimer_add(m->tmo, &tv);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct mgr		*m = arg;
	netsnmp_large_fd_set	 fds;

	(void)what;
	netsnmp_large_fd_set_init(&fds, fd + 1);
	NETSNMP_LARGE_FD_SET(fd, &fds);
	snmp_sess_read2(m->sess, &fds);
	netsnmp_large_fd_set_cleanup(&fds);
	mgr_arm(m);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct mgr	*m = arg;

	(void)fd;
	(void)what;
	snmp_sess_timeout(m->sess);
	mgr_arm(m);
}

static void
count(struct mgr *m, int r)
{
	series_add(m->m_res[r], 1);
}

static struct qent *
q_at(struct mgr *m, size_t i)
{
	return (&m->q[(m->qhead + i) % m->cfg->queue_size]);
}

static void
q_pop(struct mgr *m)
{
	state_dirty(m->s->d);
	ev_unref(q_at(m, 0)->ev);
	m->qhead = (m->qhead + 1) % m->cfg->queue_size;
	m->qlen--;
	series_set(m->m_qlen, (double)m->qlen);
}

/* An inform's fate, from net-snmp (inside snmp_sess_read/timeout). */
static int
inform_cb(int op, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu,
    void *magic)
{
	struct mgr	*m = magic;

	(void)sess;
	(void)reqid;
	if (op == NETSNMP_CALLBACK_OP_RESEND || m->closing)
		return (1);
	m->inflight = 0;
	if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE && pdu != NULL &&
	    pdu->command == SNMP_MSG_RESPONSE) {
		count(m, R_ACKED);
		series_set(m->m_up, 1);
		if (m->silent)
			log_info("snmp manager %s: answering again, %zu "
			    "informs to deliver", m->cfg->name, m->qlen);
		m->silent = 0;
		m->backoff_ms = 0;
		/* the head, unless the queue overflowed it meanwhile */
		if (m->qlen > 0 && q_at(m, 0)->seq == m->inflight_seq)
			q_pop(m);
		if (m->dropped_unreported > 0) {
			/* the manager is back: tell it what it missed, first */
			struct event_msg	*e = ev_new(N_DROPPED);
			struct qent		*qe;

			m->dropped_unreported = 0;
			if (m->qlen == m->cfg->queue_size) {
				/* full: the summary replaces the oldest */
				q_pop(m);
				count(m, R_DROPPED);
				m->dropped_total++;
			}
			/* a running total: a lost summary loses nothing */
			e->dropped = m->dropped_total;
			m->qhead = (m->qhead + m->cfg->queue_size - 1) %
			    m->cfg->queue_size;
			m->qlen++;
			qe = q_at(m, 0);
			qe->ev = e;
			qe->seq = 0;
			series_set(m->m_qlen, (double)m->qlen);
		}
		mgr_kick(m);
		return (1);
	}
	/* timed out (or an error answer): keep it, try again later */
	count(m, R_TIMEOUT);
	series_set(m->m_up, 0);
	/* once per outage: the metrics count every attempt */
	if (!m->silent)
		log_info("snmp manager %s: an inform was not acknowledged; "
		    "holding informs (%zu queued) and retrying", m->cfg->name,
		    m->qlen);
	m->silent = 1;
	m->backoff_ms = m->backoff_ms == 0 ? 1000 : m->backoff_ms * 2;
	if (m->backoff_ms > m->cfg->retry_max_ms)
		m->backoff_ms = m->cfg->retry_max_ms;
	{
		struct timeval	tv;

		tv.tv_sec = (time_t)(m->backoff_ms / 1000);
		tv.tv_usec = (suseconds_t)(m->backoff_ms % 1000) * 1000;
		evtimer_add(m->retry, &tv);
	}
	return (1);
}

/* Send the head of the queue if nothing is in flight. */
static void
mgr_send(struct mgr *m)
{
	netsnmp_pdu	*p;

	if (m->sess == NULL || m->inflight || m->qlen == 0 ||
	    evtimer_pending(m->retry, NULL))
		return;
	/* numbered when first sent: informs dropped unsent leave no gap
	 * (netprobeNotificationsDropped reports them) */
	if (q_at(m, 0)->seq == 0)
		q_at(m, 0)->seq = ++m->seq;
	p = build_pdu(m->s, q_at(m, 0), 1);
	m->inflight = 1;
	m->inflight_seq = q_at(m, 0)->seq;
	if (snmp_sess_async_send(m->sess, p, inform_cb, m) == 0) {
		snmp_free_pdu(p);
		m->inflight = 0;
		count(m, R_ERROR);
		m->backoff_ms = m->cfg->retry_max_ms;
		{
			struct timeval	tv = { 5, 0 };

			evtimer_add(m->retry, &tv);
		}
	}
	mgr_arm(m);
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mgr_send(arg);
}

/* Send soon, from the loop (never from inside a net-snmp callback). */
static void
mgr_kick(struct mgr *m)
{
	event_active(m->kick, EV_TIMEOUT, 0);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mgr_send(arg);
}

static void
mgr_enqueue(struct mgr *m, struct event_msg *e)
{
	struct qent	*qe;
	netsnmp_pdu	*p;

	if (!m->cfg->inform) {
		struct qent	one = { e, ++m->seq };

		p = build_pdu(m->s, &one, 0);
		if (m->sess != NULL && snmp_sess_send(m->sess, p) != 0)
			count(m, R_SENT);
		else {
			snmp_free_pdu(p);
			count(m, R_ERROR);
		}
		return;
	}
	if (m->qlen == m->cfg->queue_size) {
		/* full: the oldest goes, counted and reported later (if it
		 * is in flight, its answer will pop nothing) */
		q_pop(m);
		count(m, R_DROPPED);
		m->dropped_unreported++;
		m->dropped_total++;
	}
	qe = q_at(m, m->qlen);
	qe->ev = e;
	e->refs++;
	qe->seq = 0;
	m->qlen++;
	series_set(m->m_qlen, (double)m->qlen);
	state_dirty(m->s->d);
	mgr_kick(m);
}

/* ---- sessions ---------------------------------------------------------- */

static int
session_open(struct snmp *s, struct mgr *m)
{
	const struct snmp_manager_cfg	*c = m->cfg;
	netsnmp_session			 in;
	char				 peer[80], addr[64];
	int				 fd;

	format_addr(&c->addr, 1, addr, sizeof(addr));
	snprintf(peer, sizeof(peer), "%s:%s", c->addr.ss.ss_family ==
	    AF_INET6 ? "udp6" : "udp", addr);
	snmp_sess_init(&in);
	in.peername = peer;
	in.timeout = (long)(c->timeout_ms * 1000);
	in.retries = 0;		/* we retry, with backoff, ourselves */
	if (c->version == 2) {
		in.version = SNMP_VERSION_2c;
		in.community = (u_char *)c->community;
		in.community_len = strlen(c->community);
	} else {
		in.version = SNMP_VERSION_3;
		in.securityName = c->user;
		in.securityNameLen = strlen(c->user);
		in.securityLevel = c->priv != SNMP_PRIV_NONE ?
		    SNMP_SEC_LEVEL_AUTHPRIV : c->auth != SNMP_AUTH_NONE ?
		    SNMP_SEC_LEVEL_AUTHNOPRIV : SNMP_SEC_LEVEL_NOAUTH;
		if (c->auth != SNMP_AUTH_NONE) {
			in.securityAuthProto = c->auth == SNMP_AUTH_SHA256 ?
			    usmHMAC192SHA256AuthProtocol :
			    usmHMACSHA1AuthProtocol;
			in.securityAuthProtoLen = USM_AUTH_PROTO_SHA_LEN;
			in.securityAuthKeyLen = USM_AUTH_KU_LEN;
			if (generate_Ku(in.securityAuthProto,
			    (u_int)in.securityAuthProtoLen,
			    (const u_char *)c->auth_pass, strlen(c->auth_pass),
			    in.securityAuthKey, &in.securityAuthKeyLen) !=
			    SNMPERR_SUCCESS) {
				log_warnx("snmp manager %s: cannot derive the "
				    "auth key", c->name);
				return (-1);
			}
		}
		if (c->priv != SNMP_PRIV_NONE) {
			in.securityPrivProto = usmAESPrivProtocol;
			in.securityPrivProtoLen = USM_PRIV_PROTO_AES_LEN;
			in.securityPrivKeyLen = USM_PRIV_KU_LEN;
			/* the privacy Ku uses the authentication hash */
			if (generate_Ku(in.securityAuthProto,
			    (u_int)in.securityAuthProtoLen,
			    (const u_char *)c->priv_pass, strlen(c->priv_pass),
			    in.securityPrivKey, &in.securityPrivKeyLen) !=
			    SNMPERR_SUCCESS) {
				log_warnx("snmp manager %s: cannot derive the "
				    "privacy key", c->name);
				return (-1);
			}
		}
		if (c->inform) {
			/* the manager is authoritative: its ID, no probe */
			in.securityEngineID = (u_char *)c->engine_id;
			in.securityEngineIDLen = c->engine_id_len;
			in.contextEngineID = (u_char *)c->engine_id;
			in.contextEngineIDLen = c->engine_id_len;
			in.flags |= SNMP_FLAGS_DONT_PROBE;
		} else {
			in.securityEngineID = s->cfg->engine_id;
			in.securityEngineIDLen = s->cfg->engine_id_len;
			in.contextEngineID = s->cfg->engine_id;
			in.contextEngineIDLen = s->cfg->engine_id_len;
		}
	}
	if ((m->sess = snmp_sess_open(&in)) == NULL) {
		log_warnx("snmp manager %s: cannot open a session to %s",
		    c->name, peer);
		explicit_bzero(in.securityAuthKey, sizeof(in.securityAuthKey));
		explicit_bzero(in.securityPrivKey, sizeof(in.securityPrivKey));
		return (-1);
	}
	explicit_bzero(in.securityAuthKey, sizeof(in.securityAuthKey));
	explicit_bzero(in.securityPrivKey, sizeof(in.securityPrivKey));
	if (c->version == 3 && !c->inform)
		/* else traps go out with boots 0 and are refused later */
		set_enginetime(s->cfg->engine_id, (u_int)s->cfg->engine_id_len,
		    s->boots, 0, TRUE);
	fd = snmp_sess_transport(m->sess)->sock;
	m->rd = event_new(s->d->base, fd, EV_READ | EV_PERSIST, on_read, m);
	if (m->rd == NULL || event_add(m->rd, NULL) == -1)
		fatalx("snmp: cannot watch the session socket");
	return (0);
}

static void
session_close(struct mgr *m)
{
	if (m->rd != NULL)
		event_free(m->rd);
	m->rd = NULL;
	if (m->sess != NULL) {
		m->closing = 1;
		snmp_sess_close(m->sess);
		m->closing = 0;
	}
	m->sess = NULL;
	m->inflight = 0;
	if (m->tmo != NULL)
		evtimer_del(m->tmo);
}

/* ---- managers ---------------------------------------------------------- */

static void
mcfg_free(struct snmp_manager_cfg *c)
{
	snmp_manager_cfg_clear(c);
	free(c);
}

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0);
}

/* Would a session to c be the same as one to o? */
static int
same_session(const struct snmp_manager_cfg *o,
    const struct snmp_manager_cfg *c)
{
	return (o->addr.len == c->addr.len &&
	    memcmp(&o->addr.ss, &c->addr.ss, c->addr.len) == 0 &&
	    o->version == c->version && o->inform == c->inform &&
	    str_eq(o->community, c->community) && str_eq(o->user, c->user) &&
	    o->auth == c->auth && str_eq(o->auth_pass, c->auth_pass) &&
	    o->priv == c->priv && str_eq(o->priv_pass, c->priv_pass) &&
	    o->engine_id_len == c->engine_id_len &&
	    memcmp(o->engine_id, c->engine_id, c->engine_id_len) == 0 &&
	    o->timeout_ms == c->timeout_ms);
}

static void
mgr_metrics(struct snmp *s, struct mgr *m)
{
	struct store	*st = s->d->store;
	size_t		 i;

	for (i = 0; i < R_MAX; i++)
		if (m->m_res[i] == NULL)
			m->m_res[i] = store_series(st, s->f_res, NULL,
			    "manager", m->cfg->name, "result", result_name[i],
			    NULL);
	if (m->m_qlen == NULL)
		m->m_qlen = store_series(st, s->f_qlen, NULL, "manager",
		    m->cfg->name, NULL);
	series_set(m->m_qlen, (double)m->qlen);
	if (m->m_up == NULL && m->cfg->inform)
		m->m_up = store_series(st, s->f_up, NULL, "manager",
		    m->cfg->name, NULL);
}

static void
mgr_free(struct snmp *s, struct mgr *m)
{
	size_t	i;

	session_close(m);
	event_free(m->tmo);
	event_free(m->retry);
	event_free(m->kick);
	while (m->qlen > 0)
		q_pop(m);
	free(m->q);
	for (i = 0; i < R_MAX; i++)
		store_release(s->d->store, m->m_res[i]);
	store_release(s->d->store, m->m_qlen);
	store_release(s->d->store, m->m_up);
	mcfg_free(m->cfg);
	free(m);
}

/* A new queue size: keep the newest that fit. */
static void
mgr_resize(struct mgr *m, size_t size)
{
	struct qent	*nq;
	size_t		 i, keep;

	if (size == m->cfg->queue_size && m->q != NULL)
		return;
	while (m->qlen > size) {
		q_pop(m);
		count(m, R_DROPPED);
		m->dropped_unreported++;
		m->dropped_total++;
	}
	keep = m->qlen;
	nq = xcalloc(size, sizeof(*nq));
	for (i = 0; i < keep; i++)
		nq[i] = *q_at(m, i);
	free(m->q);
	m->q = nq;
	m->qhead = 0;
}

/* ---- engine boots ------------------------------------------------------ */

/*
 * snmpEngineBoots must grow at every start, or v3 managers refuse our
 * traps: kept in state_dir, else taken from the clock (seconds since
 * 1970 grow too, until 2038; RFC 3414 allows up to 2147483647).
 */
static uint32_t
engine_boots(const char *dir)
{
	char		 path[512], tmp[520], buf[32];
	unsigned long	 b = 0;
	FILE		*f;
	int		 fd;

	if (dir == NULL)
		return ((uint32_t)(time(NULL) & 0x7fffffff));
	snprintf(path, sizeof(path), "%s/snmp-engine-boots", dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			b = strtoul(buf, NULL, 10);
		fclose(f);
	}
	if (b >= 2147483646UL)
		b = 0;
	b++;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 ||
	    dprintf(fd, "%lu\n", b) < 0 || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1)
		log_warnx("snmp: cannot keep engineBoots in %s: %s", path,
		    strerror(errno));
	return ((uint32_t)b);
}

/* ---- apply, free --------------------------------------------------------- */

static void
families(struct snmp *s)
{
	struct store	*st = s->d->store;

	s->f_res = store_family(st, "netprobe_snmp_notifications_total",
	    "SNMP notifications per manager: sent (traps), acked (informs), "
	    "timeout (an inform attempt not acknowledged; it is retried), "
	    "dropped (queue full), error.", METRIC_COUNTER, NULL, 0);
	s->f_qlen = store_family(st, "netprobe_snmp_queue_length",
	    "Informs waiting for a manager's acknowledgement.", METRIC_GAUGE,
	    NULL, 0);
	s->f_up = store_family(st, "netprobe_snmp_manager_up",
	    "1 if the manager acknowledged the last inform, 0 if it timed out.",
	    METRIC_GAUGE, NULL, 0);
	s->m_limited[0] = store_series(st, store_family(st,
	    "netprobe_snmp_rate_limited_total", "Alert notifications held or "
	    "dropped against storms: spacing (held, only the latest state "
	    "sent), global (token bucket, dropped).", METRIC_COUNTER, NULL,
	    0), NULL, "reason", "spacing", NULL);
	s->m_limited[1] = store_series(st, store_family(st,
	    "netprobe_snmp_rate_limited_total", "", METRIC_COUNTER, NULL, 0),
	    NULL, "reason", "global", NULL);
}

static void on_sweep(evutil_socket_t, short, void *);

static void
default_engine_id(struct snmp_cfg *c, const char *site)
{
	size_t	n;

	if (c->engine_id_len > 0)
		return;
	/* RFC 3411: 0x80, enterprise 8072 (net-snmp), format 4: text */
	c->engine_id[0] = 0x80;
	c->engine_id[1] = 0x00;
	c->engine_id[2] = 0x1f;
	c->engine_id[3] = 0x88;
	c->engine_id[4] = 0x04;
	n = strlen(site);
	if (n > SNMP_MAX_ENGINE_ID - 5)
		n = SNMP_MAX_ENGINE_ID - 5;
	memcpy(c->engine_id + 5, site, n);
	c->engine_id_len = 5 + n;
}

void
snmp_apply(struct np_daemon *d, const struct np_config *conf)
{
	struct snmp		*s = d->snmp;
	struct mgr		**nm, *m;
	const struct snmp_cfg	*c = conf->snmp;
	size_t			 i, j;
	struct timeval		 tv = { 1, 0 };

	if (c == NULL && s == NULL)
		return;
	if (s == NULL) {
		snmp_lib_init(c->state_dir);
		s = d->snmp = xcalloc(1, sizeof(*s));
		s->d = d;
		families(s);
		s->boots = engine_boots(c->state_dir);
		s->sweep = event_new(d->base, -1, EV_PERSIST, on_sweep, s);
		event_add(s->sweep, &tv);
	}
	free(s->site);
	free(s->site_display);
	s->site = xstrdup(conf->site_name);
	s->site_display = xstrdup(conf->site_display_name ?
	    conf->site_display_name : "");
	if (s->cfg != NULL) {
		/* only what the notifier reads of the block */
		free(s->cfg);
	}
	s->cfg = xcalloc(1, sizeof(*s->cfg));
	if (c != NULL) {
		memcpy(s->cfg->base, c->base, sizeof(c->base));
		s->cfg->base_len = c->base_len;
		memcpy(s->cfg->engine_id, c->engine_id, c->engine_id_len);
		s->cfg->engine_id_len = c->engine_id_len;
		s->cfg->alert_spacing_ms = c->alert_spacing_ms;
		s->cfg->rate = c->rate;
		s->cfg->burst = c->burst;
	}
	default_engine_id(s->cfg, conf->site_name);
	for (i = 0; i < s->cfg->base_len; i++)
		s->base[i] = s->cfg->base[i];
	s->base_len = s->cfg->base_len;
	if (s->tokens_ms == 0)
		s->tokens = s->cfg->burst;

	/* managers: kept by name (queue, sequence, counters), else new */
	nm = xcalloc(c ? c->nmanagers + 1 : 1, sizeof(*nm));
	for (i = 0; c != NULL && i < c->nmanagers; i++) {
		const struct snmp_manager_cfg	*mc = &c->managers[i];

		m = NULL;
		for (j = 0; j < s->nmgrs; j++)
			if (s->mgrs[j] != NULL &&
			    strcmp(s->mgrs[j]->cfg->name, mc->name) == 0) {
				m = s->mgrs[j];
				s->mgrs[j] = NULL;
				break;
			}
		if (m == NULL) {
			m = xcalloc(1, sizeof(*m));
			m->s = s;
			m->cfg = xcalloc(1, sizeof(*m->cfg));
			snmp_manager_cfg_copy(m->cfg, mc);
			m->tmo = evtimer_new(d->base, on_timeout, m);
			m->retry = evtimer_new(d->base, on_retry, m);
			m->kick = event_new(d->base, -1, 0, on_kick, m);
			mgr_resize(m, mc->queue_size);
			m->cfg->queue_size = mc->queue_size;
		} else {
			struct snmp_manager_cfg	*old = m->cfg;

			if (!same_session(old, mc))
				session_close(m);
			m->cfg = xcalloc(1, sizeof(*m->cfg));
			snmp_manager_cfg_copy(m->cfg, mc);
			m->cfg->queue_size = old->queue_size;
			mgr_resize(m, mc->queue_size);
			m->cfg->queue_size = mc->queue_size;
			mcfg_free(old);
		}
		mgr_metrics(s, m);
		if (m->sess == NULL)
			(void)session_open(s, m);
		nm[i] = m;
		mgr_kick(m);
	}
	for (j = 0; j < s->nmgrs; j++)
		if (s->mgrs[j] != NULL)
			mgr_free(s, s->mgrs[j]);
	free(s->mgrs);
	s->mgrs = nm;
	s->nmgrs = c ? c->nmanagers : 0;
}

void
snmp_free(struct np_daemon *d)
{
	struct snmp	*s = d->snmp;
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nmgrs; i++)
		mgr_free(s, s->mgrs[i]);
	free(s->mgrs);
	for (i = 0; i < s->nsp; i++) {
		free(s->sp[i].key);
		ev_unref(s->sp[i].held);
		rl_labels_free(&s->sp[i].labels);
	}
	free(s->sp);
	event_free(s->sweep);
	free(s->cfg);
	free(s->site);
	free(s->site_display);
	free(s);
	d->snmp = NULL;
}

/* ---- fan-out, filters, rate limits ------------------------------------- */

static int
wants(const struct snmp_manager_cfg *c, const struct np_labels *l)
{
	const char	*sev, *v;
	size_t		 i;

	if (l == NULL)
		return (1);	/* not an alert: every manager */
	if (c->nseverities > 0) {
		sev = rl_labels_get(l, "severity");
		for (i = 0; i < c->nseverities; i++)
			if (sev != NULL && strcmp(sev, c->severities[i]) == 0)
				break;
		if (i == c->nseverities)
			return (0);
	}
	for (i = 0; i < c->match.n; i++)
		if ((v = rl_labels_get(l, c->match.v[i].name)) == NULL ||
		    strcmp(v, c->match.v[i].value) != 0)
			return (0);
	return (1);
}

static void
fan_out(struct snmp *s, struct event_msg *e, const struct np_labels *l)
{
	size_t	i;

	for (i = 0; i < s->nmgrs; i++)
		if (wants(s->mgrs[i]->cfg, l))
			mgr_enqueue(s->mgrs[i], e);
}

/* The global token bucket: 1 if an alert notification may go now. */
static int
take_token(struct snmp *s)
{
	uint64_t	now = now_mono_ns() / 1000000;

	if (s->cfg->rate <= 0)
		return (1);
	if (s->tokens_ms != 0)
		s->tokens += (double)(now - s->tokens_ms) / 1000 * s->cfg->rate;
	s->tokens_ms = now;
	if (s->tokens > s->cfg->burst)
		s->tokens = s->cfg->burst;
	if (s->tokens < 1)
		return (0);
	s->tokens -= 1;
	return (1);
}

static void
send_alert(struct snmp *s, struct spacing *sp, struct event_msg *e,
    const struct np_labels *l)
{
	if (!take_token(s)) {
		series_add(s->m_limited[1], 1);
		return;
	}
	if (sp != NULL) {
		sp->sent_ms = (int64_t)(now_mono_ns() / 1000000);
		sp->sent_state = e->state;
		log_debug("snmp: alert %s: state %d sent", sp->key, e->state);
	}
	fan_out(s, e, l);
}

/* Every second: send held transitions whose spacing has passed. */
static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct snmp	*s = arg;
	int64_t		 now = (int64_t)(now_mono_ns() / 1000000);
	size_t		 i, o;

	(void)fd;
	(void)what;
	for (i = 0, o = 0; i < s->nsp; i++) {
		struct spacing	*sp = &s->sp[i];

		if (sp->held != NULL &&
		    now - sp->sent_ms >= (int64_t)s->cfg->alert_spacing_ms) {
			/* only the latest state, if the manager lacks it */
			log_debug("snmp: alert %s: spacing over, held state %d, "
			    "sent %d", sp->key, sp->held->state, sp->sent_state);
			if (sp->held->state != sp->sent_state)
				send_alert(s, sp, sp->held, &sp->labels);
			ev_unref(sp->held);
			sp->held = NULL;
			rl_labels_free(&sp->labels);
		}
		if (sp->held == NULL && now - sp->sent_ms >=
		    (int64_t)s->cfg->alert_spacing_ms) {
			free(sp->key);
			continue;	/* forgotten: nothing to space */
		}
		s->sp[o++] = *sp;
	}
	s->nsp = o;
}

void
snmp_notify_alert(struct np_daemon *d, const struct alert *a, int resolved)
{
	struct snmp		*s = d->snmp;
	struct event_msg	*e;
	struct spacing		*sp = NULL;
	const char		*v;
	char			 lab[1024], num[64];
	int64_t			 now;
	size_t			 i;

	if (s == NULL || s->nmgrs == 0)
		return;
	e = ev_new(resolved ? N_ALERT_RESOLVED : N_ALERT_FIRING);
	e->state = resolved ? ST_RESOLVED : ST_FIRING;
	v = rl_labels_get(&a->labels, "alertname");
	e->alertname = xstrdup(v ? v : "");
	v = rl_labels_get(&a->labels, "severity");
	e->severity = xstrdup(v ? v : "");
	v = rl_labels_get(&a->annotations, "summary");
	e->summary = xstrdup(v ? v : "");
	v = rl_labels_get(&a->annotations, "description");
	e->description = xstrdup(v ? v : "");
	format_double(a->value, num, sizeof(num));
	e->value = xstrdup(num);
	rl_labels_string(&a->labels, lab, sizeof(lab));
	e->labels = xstrdup(lab);
	e->active_ms = a->active_at_ms;

	if (s->cfg->alert_spacing_ms > 0) {
		now = (int64_t)(now_mono_ns() / 1000000);
		for (i = 0; i < s->nsp; i++)
			if (strcmp(s->sp[i].key, lab) == 0)
				break;
		if (i == s->nsp) {
			s->sp = xreallocarray(s->sp, s->nsp + 1,
			    sizeof(*s->sp));
			memset(&s->sp[s->nsp], 0, sizeof(*s->sp));
			s->sp[s->nsp].key = xstrdup(lab);
			s->sp[s->nsp].sent_ms = INT64_MIN / 2;
			s->nsp++;
		}
		sp = &s->sp[i];
		if (now - sp->sent_ms < (int64_t)s->cfg->alert_spacing_ms) {
			log_debug("snmp: alert %s: state %d held (sent %lldms "
			    "ago)", lab, e->state,
			    (long long)(now - sp->sent_ms));
			/* too soon: hold it, replacing what was held */
			ev_unref(sp->held);
			rl_labels_free(&sp->labels);
			sp->held = e;
			rl_labels_copy(&sp->labels, &a->labels);
			series_add(s->m_limited[0], 1);
			return;
		}
		/*
		 * The spacing is over before the sweep sent what was held:
		 * this transition is newer, and what was held must never
		 * follow it to the manager.  If the alert is back in the
		 * state the manager last heard, the flap in between is
		 * coalesced: the manager already has the latest state.
		 */
		if (sp->held != NULL) {
			ev_unref(sp->held);
			sp->held = NULL;
			rl_labels_free(&sp->labels);
			if (e->state == sp->sent_state) {
				series_add(s->m_limited[0], 1);
				ev_unref(e);
				return;
			}
		}
	}
	send_alert(s, sp, e, &a->labels);
	ev_unref(e);
}

static void
notify_plain(struct np_daemon *d, int kind, const char *reason)
{
	struct snmp		*s = d->snmp;
	struct event_msg	*e;

	if (s == NULL || s->nmgrs == 0)
		return;
	e = ev_new(kind);
	if (reason != NULL)
		e->reason = xstrdup(reason);
	fan_out(s, e, NULL);
	ev_unref(e);
}

void
snmp_notify_isolation(struct np_daemon *d, const char *watcher,
    const char *kind, const char *src, const char *dst, const char *proto,
    uint32_t port, int64_t first_seen_ms)
{
	/* npViolationKind's enumeration, in order from 1 */
	static const char *const kinds[] = { "egress", "ingress",
	    "foreign_mcu", "listen_only" };
	size_t			 i;
	struct snmp		*s = d->snmp;
	struct event_msg	*e;

	if (s == NULL || s->nmgrs == 0)
		return;
	/* a scan of the segment must not become a storm of notifications */
	if (!take_token(s)) {
		series_add(s->m_limited[1], 1);
		return;
	}
	e = ev_new(N_ISOLATION);
	e->watcher = xstrdup(watcher);
	e->src = xstrdup(src);
	e->dst = xstrdup(dst);
	e->proto = xstrdup(proto);
	e->port = port;
	e->first_ms = first_seen_ms;
	for (i = 0; i < NP_NELEM(kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			e->vkind = (int)i + 1;
	fan_out(s, e, NULL);
	ev_unref(e);
}

void
snmp_notify_reload_failed(struct np_daemon *d, const char *reason)
{
	notify_plain(d, N_RELOAD_FAILED, reason);
}

void
snmp_notify_started(struct np_daemon *d)
{
	notify_plain(d, N_STARTED, NULL);
}

size_t
snmp_informs_waiting(struct np_daemon *d)
{
	struct snmp	*s = d->snmp;
	size_t		 i, n = 0;

	for (i = 0; s != NULL && i < s->nmgrs; i++)
		if (s->mgrs[i]->cfg->inform && s->mgrs[i]->sess != NULL)
			n += s->mgrs[i]->qlen;
	return (n);
}

void
snmp_notify_stopping(struct np_daemon *d)
{
	struct snmp	*s = d->snmp;
	size_t		 i;

	notify_plain(d, N_STOPPING, NULL);
	/* informs: one attempt now, nobody waits for the answer */
	for (i = 0; s != NULL && i < s->nmgrs; i++)
		mgr_send(s->mgrs[i]);
}

/* ---- the state file ---------------------------------------------------- */

static void
json_opt(struct evbuffer *b, const char *key, const char *v)
{
	if (v == NULL)
		return;
	evbuffer_add_printf(b, ",\"%s\":", key);
	json_str(b, v);
}

/* "managers":[...]: each one's numbering and unacknowledged informs. */
void
snmp_state_write(struct np_daemon *d, struct evbuffer *b)
{
	struct snmp		*s = d->snmp;
	struct mgr		*m;
	const struct qent	*qe;
	const struct event_msg	*e;
	size_t			 i, k;

	evbuffer_add_printf(b, "\"managers\":[");
	for (i = 0; s != NULL && i < s->nmgrs; i++) {
		m = s->mgrs[i];
		evbuffer_add_printf(b, "%s\n{\"name\":", i ? "," : "");
		json_str(b, m->cfg->name);
		evbuffer_add_printf(b, ",\"seq\":%lu,\"dropped_unreported\":"
		    "%llu,\"dropped_total\":%llu,\"queue\":[",
		    (unsigned long)m->seq,
		    (unsigned long long)m->dropped_unreported,
		    (unsigned long long)m->dropped_total);
		for (k = 0; k < m->qlen; k++) {
			qe = q_at(m, k);
			e = qe->ev;
			evbuffer_add_printf(b, "%s{\"seq\":%lu,\"kind\":%d,"
			    "\"time_ms\":%lld,\"state\":%d,\"active_ms\":%lld,"
			    "\"vkind\":%d,\"port\":%lu,\"first_ms\":%lld,"
			    "\"dropped\":%llu", k ? "," : "",
			    (unsigned long)qe->seq, e->kind,
			    (long long)e->time_ms, e->state,
			    (long long)e->active_ms, e->vkind,
			    (unsigned long)e->port, (long long)e->first_ms,
			    (unsigned long long)e->dropped);
			json_opt(b, "alertname", e->alertname);
			json_opt(b, "severity", e->severity);
			json_opt(b, "value", e->value);
			json_opt(b, "summary", e->summary);
			json_opt(b, "description", e->description);
			json_opt(b, "labels", e->labels);
			json_opt(b, "watcher", e->watcher);
			json_opt(b, "src", e->src);
			json_opt(b, "dst", e->dst);
			json_opt(b, "proto", e->proto);
			json_opt(b, "reason", e->reason);
			evbuffer_add(b, "}", 1);
		}
		evbuffer_add(b, "]}", 2);
	}
	evbuffer_add(b, "]", 1);
}

static char *
opt_dup(struct yamldoc *yd, yaml_node_t *n, const char *key)
{
	const char	*v = state_str(yd, n, key);

	return (v != NULL ? xstrdup(v) : NULL);
}

/*
 * A saved queue goes back in front of whatever is queued already (the
 * manager must hear the older first), with its numbers: an inform sent
 * before the restart keeps its npSequence, so a manager that had it (its
 * answer lost) sees a repeat, not a new event.
 */
static void
restore_queue(struct mgr *m, struct yamldoc *yd, yaml_node_t *q)
{
	struct event_msg	*e;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	struct qent		*qe;
	size_t			 nq, i;
	int			 kind;

	if (q == NULL || q->type != YAML_SEQUENCE_NODE)
		return;
	nq = (size_t)(q->data.sequence.items.top - q->data.sequence.items.start);
	/* walked from the newest: each goes to the front */
	for (i = nq; i > 0; i--) {
		it = q->data.sequence.items.start + i - 1;
		n = yd_node(yd, *it);
		kind = (int)state_int(yd, n, "kind", 0);
		if (kind < N_ALERT_FIRING || kind > N_DROPPED)
			continue;
		if (m->qlen == m->cfg->queue_size) {
			/* no room for the older ones: counted as dropped */
			count(m, R_DROPPED);
			m->dropped_unreported++;
			m->dropped_total++;
			continue;
		}
		e = ev_new(kind);
		e->time_ms = state_int(yd, n, "time_ms", e->time_ms);
		e->state = (int)state_int(yd, n, "state", 0);
		e->active_ms = state_int(yd, n, "active_ms", 0);
		e->vkind = (int)state_int(yd, n, "vkind", 0);
		e->port = (uint32_t)state_int(yd, n, "port", 0);
		e->first_ms = state_int(yd, n, "first_ms", 0);
		e->dropped = (uint64_t)state_int(yd, n, "dropped", 0);
		e->alertname = opt_dup(yd, n, "alertname");
		e->severity = opt_dup(yd, n, "severity");
		e->value = opt_dup(yd, n, "value");
		e->summary = opt_dup(yd, n, "summary");
		e->description = opt_dup(yd, n, "description");
		e->labels = opt_dup(yd, n, "labels");
		e->watcher = opt_dup(yd, n, "watcher");
		e->src = opt_dup(yd, n, "src");
		e->dst = opt_dup(yd, n, "dst");
		e->proto = opt_dup(yd, n, "proto");
		e->reason = opt_dup(yd, n, "reason");
		m->qhead = (m->qhead + m->cfg->queue_size - 1) %
		    m->cfg->queue_size;
		m->qlen++;
		qe = q_at(m, 0);
		qe->ev = e;
		qe->seq = (uint32_t)state_int(yd, n, "seq", 0);
	}
	series_set(m->m_qlen, (double)m->qlen);
	mgr_kick(m);
}

void
snmp_state_restore(struct np_daemon *d, struct yamldoc *yd,
    yaml_node_t *managers)
{
	struct snmp		*s = d->snmp;
	struct mgr		*m;
	yaml_node_item_t	*it;
	yaml_node_t		*n;
	const char		*name;
	size_t			 i, before;
	int64_t			 seq;

	if (s == NULL || managers == NULL ||
	    managers->type != YAML_SEQUENCE_NODE)
		return;
	for (it = managers->data.sequence.items.start;
	    it < managers->data.sequence.items.top; it++) {
		n = yd_node(yd, *it);
		if ((name = state_str(yd, n, "name")) == NULL)
			continue;
		for (i = 0; i < s->nmgrs; i++)
			if (strcmp(s->mgrs[i]->cfg->name, name) == 0)
				break;
		if (i == s->nmgrs)
			continue;	/* no longer configured */
		m = s->mgrs[i];
		seq = state_int(yd, n, "seq", 0);
		if (seq > (int64_t)m->seq && seq <= (int64_t)UINT32_MAX)
			m->seq = (uint32_t)seq;
		m->dropped_unreported += (uint64_t)state_int(yd, n,
		    "dropped_unreported", 0);
		m->dropped_total += (uint64_t)state_int(yd, n,
		    "dropped_total", 0);
		if (!m->cfg->inform)
			continue;
		before = m->qlen;
		restore_queue(m, yd, state_get(yd, n, "queue"));
		if (m->qlen > before)
			log_info("snmp: manager %s: %zu unacknowledged "
			    "notifications restored", name, m->qlen - before);
	}
}
