/*
 * agentx: the AgentX sub-agent (RFC 2741) that lets an SNMP master agent
 * (snmpd) answer polls of NETPROBE-MIB's npAlertTable and npProbeTable.
 *
 * One session at a time, on the daemon's loop: a non-blocking connect to
 * the master, Open, Register of B.1.2 and B.1.3, then Get/GetNext/GetBulk
 * answered from the daemon's current state, and a Ping every 10 s.  Every
 * step has a deadline; any failure closes the connection and retries
 * with a bounded backoff.  Rows are rebuilt from the daemon on every
 * request, so a reload never leaves a dangling pointer here.  The
 * protocol itself (encoding, decoding, object order, answering) is the
 * pure part in msg_agentx.c.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "daemon/agentx.h"
#include "daemon/daemon.h"
#include "daemon/msg_agentx.h"
#include "rules/alert.h"
#include "rules/labels.h"

/* ==== the session ==================================================== */

#define CONNECT_TIMEOUT_MS	5000
#define ANSWER_TIMEOUT_MS	5000	/* Open, Register, Ping */
#define PING_INTERVAL_MS	10000
#define RETRY_FIRST_MS		500
#define RETRY_MAX_MS		5000
#define OPEN_TIMEOUT_S		5	/* o.timeout: how long the master
					   waits for our answers */
#define REGISTER_PRIORITY	127	/* RFC 2741 6.2.3 default */
#define OUTPUT_MAX		(1024 * 1024)
#define TEXT_MAX		1024	/* NetprobeUTF8String SIZE */

enum sub_state {
	S_OFF,		/* not started */
	S_WAIT,		/* retry timer armed */
	S_CONNECTING,	/* non-blocking connect in progress */
	S_OPENING,	/* Open sent */
	S_REGISTERING,	/* Registers sent */
	S_UP		/* registered; pinging */
};

enum { REQ_GET, REQ_GETNEXT, REQ_GETBULK, REQ_SET, REQ_MAX };
static const char *const req_names[REQ_MAX] = {
	"get", "getnext", "getbulk", "set"
};

static struct subagent {
	struct np_daemon	*d;
	enum sub_state		 state;
	char			*master;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	uint32_t		 base[AX_OID_MAX];
	size_t			 base_len;
	int			 fd;		/* while connecting */
	struct event		*conn_ev;
	struct bufferevent	*bev;
	struct event		*timer;
	uint32_t		 sessid;
	uint32_t		 next_packetid;
	uint32_t		 open_id;
	uint32_t		 reg_id[AX_NTABLES];
	int			 reg_left;
	uint32_t		 ping_id;
	int			 ping_out;
	uint64_t		 retry_ms;
	char			 down_why[256];	/* as logged */
	struct series		*registered;
	struct series		*requests[REQ_MAX];
} sub = { .fd = -1 };

static void	sub_connect(void);
static void	sub_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
arm(uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	evtimer_add(sub.timer, &tv);
}

static uint32_t
packet_id(void)
{
	return (++sub.next_packetid);
}

static void
send_out(void)
{
	/* a master that stops reading must not make us buffer forever */
	if (evbuffer_get_length(bufferevent_get_output(sub.bev)) >
	    OUTPUT_MAX)
		sub_fail("the master agent is not reading (%d bytes queued)",
		    OUTPUT_MAX);
}

/* Drop the connection; nothing is logged here. */
static void
sub_close(int polite)
{
	struct evbuffer	*out;

	if (sub.bev != NULL) {
		if (polite && sub.state >= S_REGISTERING) {
			/* best effort: one non-blocking write */
			out = bufferevent_get_output(sub.bev);
			ax_enc_close(out, sub.sessid, packet_id(),
			    AX_R_SHUTDOWN);
			(void)evbuffer_write(out, bufferevent_getfd(sub.bev));
		}
		bufferevent_free(sub.bev);
		sub.bev = NULL;
	}
	if (sub.conn_ev != NULL) {
		event_free(sub.conn_ev);
		sub.conn_ev = NULL;
	}
	if (sub.fd != -1) {
		close(sub.fd);
		sub.fd = -1;
	}
	if (sub.timer != NULL)
		evtimer_del(sub.timer);
	sub.sessid = 0;
	sub.ping_out = 0;
	sub.reg_left = 0;
	if (sub.registered != NULL)
		series_set(sub.registered, 0);
}

static void
sub_fail(const char *fmt, ...)
{
	char		 why[256];
	va_list		 ap;
	enum sub_state	 was = sub.state;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	sub_close(0);
	/* one line per change: lost, or unavailable for a new reason;
	 * the same failure again on every retry only at debug level */
	if (was == S_UP) {
		log_warnx("agentx: lost the master agent at %s: %s; "
		    "reconnecting", sub.master, why);
		sub.retry_ms = RETRY_FIRST_MS;
	} else if (strcmp(why, sub.down_why) != 0)
		log_warnx("agentx: master agent at %s unavailable: %s; "
		    "retrying every %d s at most", sub.master, why,
		    RETRY_MAX_MS / 1000);
	else
		log_debug("agentx: master agent at %s: %s; retry in %llu ms",
		    sub.master, why, (unsigned long long)sub.retry_ms);
	snprintf(sub.down_why, sizeof(sub.down_why), "%s", why);
	sub.state = S_WAIT;
	arm(sub.retry_ms);
	sub.retry_ms = sub.retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
	    sub.retry_ms * 2;
}

/* ---- answering requests --------------------------------------------- */

struct alert_row {
	char		*name;
	char		*severity;
	char		*value;
	char		*summary;
	char		*labels;
	int		 state;
	int64_t		 active_at_ms;
};

/*
 * The state one request is answered from.  Alerts are counted when the
 * request arrives; a row's text is copied only when a varbind asks for
 * it (a walk of the probe table costs no string work per alert).  All
 * within one callback: the rules cannot change in between.
 */
struct snap {
	struct np_daemon	*d;
	size_t			 nalerts;
	size_t			 want, seen;	/* fetching */
	struct alert_row	 row;		/* alert row `cached` */
	size_t			 cached;	/* 1-based; 0: none */
	struct ax_view		 view;
	uint8_t			 dt[11];
};

static char *
text_dup(const char *s)
{
	size_t	 n = ax_utf8_prefix(s != NULL ? s : "", TEXT_MAX);
	char	*t = xmalloc(n + 1);

	memcpy(t, s != NULL ? s : "", n);
	t[n] = '\0';
	return (t);
}

static void
alert_count(void *arg, const char *group, size_t rule,
    const struct alert *a)
{
	struct snap	*sn = arg;

	sn->nalerts++;
}

static void
row_free(struct alert_row *r)
{
	free(r->name);
	free(r->severity);
	free(r->value);
	free(r->summary);
	free(r->labels);
	memset(r, 0, sizeof(*r));
}

static void
alert_fetch(void *arg, const char *group, size_t rule,
    const struct alert *a)
{
	struct snap		*sn = arg;
	struct alert_row	*r = &sn->row;
	char			 buf[TEXT_MAX + 1], num[64];

	if (++sn->seen != sn->want)
		return;
	r->name = text_dup(rl_labels_get(&a->labels, "alertname"));
	r->severity = text_dup(rl_labels_get(&a->labels, "severity"));
	format_double(a->value, num, sizeof(num));
	r->value = text_dup(num);
	r->summary = text_dup(rl_labels_get(&a->annotations, "summary"));
	rl_labels_string(&a->labels, buf, sizeof(buf));
	r->labels = text_dup(buf);
	r->state = ax_alert_state(a->state);
	r->active_at_ms = a->active_at_ms;
}

/* Alert row n (1-based, /status order), copied into sn->row. */
static const struct alert_row *
snap_alert(struct snap *sn, size_t n)
{
	if (sn->cached != n) {
		row_free(&sn->row);
		sn->want = n;
		sn->seen = 0;
		rules_foreach_alert(sn->d, alert_fetch, sn);
		sn->cached = n;
	}
	return (&sn->row);
}

static void
snap_build(struct snap *sn, struct np_daemon *d)
{
	memset(sn, 0, sizeof(*sn));
	sn->d = d;
	/* /status order: the row index is the position there */
	rules_foreach_alert(d, alert_count, sn);
	sn->view.base = sub.base;
	sn->view.base_len = sub.base_len;
	sn->view.nrows[AX_T_ALERTS] = sn->nalerts > UINT32_MAX ?
	    UINT32_MAX : (uint32_t)sn->nalerts;
	sn->view.nrows[AX_T_PROBES] = d->nts > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)d->nts;
}

static void
snap_free(struct snap *sn)
{
	row_free(&sn->row);
}

static void
val_text(struct ax_value *v, const char *s)
{
	v->type = AX_V_OCTETS;
	v->s = s;
	v->slen = ax_utf8_prefix(s, TEXT_MAX);
}

static uint64_t
count_of(const struct series *s)
{
	double	 x = s != NULL ? series_value(s) : 0;

	return (x > 0 && x < 1.8e19 ? (uint64_t)llround(x) : 0);
}

/* The value of one object; strings point into sn or the daemon. */
static void
object_value(struct snap *sn, const struct ax_pos *p, struct ax_value *v)
{
	const struct alert_row		*a;
	const struct target_state	*ts;
	uint64_t			 all = 0;
	double				 us;
	size_t				 i;

	memset(v, 0, sizeof(*v));
	if (p->table == AX_T_ALERTS) {
		a = snap_alert(sn, p->row);
		switch (p->col) {
		case 2:		/* npAlertEntryName */
			val_text(v, a->name);
			break;
		case 3:		/* npAlertEntryState */
			v->type = AX_V_INTEGER;
			v->i = a->state;
			break;
		case 4:		/* npAlertEntrySeverity */
			val_text(v, a->severity);
			break;
		case 5:		/* npAlertEntryValue */
			val_text(v, a->value);
			break;
		case 6:		/* npAlertEntryActiveSince */
			ax_date_and_time(a->active_at_ms, sn->dt);
			v->type = AX_V_OCTETS;
			v->s = sn->dt;
			v->slen = sizeof(sn->dt);
			break;
		case 7:		/* npAlertEntrySummary */
			val_text(v, a->summary);
			break;
		default:	/* 8: npAlertEntryLabels */
			val_text(v, a->labels);
			break;
		}
		return;
	}
	ts = sn->d->ts[p->row - 1];
	switch (p->col) {
	case 2:			/* npProbeName */
		val_text(v, ts->cfg->name);
		break;
	case 3:			/* npProbeType */
		val_text(v, ts->cfg->type->name);
		break;
	case 4:			/* npProbeTarget */
		val_text(v, ts->cfg->targets[ts->target]);
		break;
	case 5:			/* npProbeLastResult */
		v->type = AX_V_INTEGER;
		v->i = ax_result_code(ts->last_result);
		break;
	case 6:			/* npProbeLastDuration, microseconds */
		v->type = AX_V_GAUGE32;
		us = ts->last_result < 0 ? 0 : ts->last_duration * 1e6;
		v->u = us > 0 ? (us < UINT32_MAX ? (uint32_t)llround(us) :
		    UINT32_MAX) : 0;
		break;
	case 7:			/* npProbeSuccessRatio, per mille */
		for (i = 0; i < PR_MAX; i++)
			all += count_of(ts->runs[i]);
		v->type = AX_V_GAUGE32;
		v->u = ax_per_mille(count_of(ts->runs[PR_SUCCESS]), all);
		break;
	default:		/* 8: npProbeRuns */
		for (i = 0; i < PR_MAX; i++)
			all += count_of(ts->runs[i]);
		v->type = AX_V_COUNTER64;
		v->u64 = all;
		break;
	}
}

static void
count_request(int kind)
{
	if (sub.requests[kind] != NULL)
		series_add(sub.requests[kind], 1);
}

static void
snap_value(void *arg, const struct ax_pos *p, struct ax_value *v)
{
	object_value(arg, p, v);
}

static void
serve(const struct ax_pdu *req)
{
	struct snap	 sn;

	count_request(req->h.type == AX_GET ? REQ_GET :
	    req->h.type == AX_GETNEXT ? REQ_GETNEXT : REQ_GETBULK);
	snap_build(&sn, sub.d);
	ax_answer(req, &sn.view, snap_value, &sn,
	    bufferevent_get_output(sub.bev));
	snap_free(&sn);
	send_out();
}

/* ---- the protocol ---------------------------------------------------- */

static void
send_registers(void)
{
	struct evbuffer	*out = bufferevent_get_output(sub.bev);
	uint32_t	 subtree[AX_OID_MAX];
	unsigned	 t;

	memcpy(subtree, sub.base, sub.base_len * sizeof(*subtree));
	subtree[sub.base_len] = 1;
	for (t = 0; t < AX_NTABLES; t++) {
		/* B.1.2 npAlertTable, B.1.3 npProbeTable */
		subtree[sub.base_len + 1] = AX_TABLE_ARC(t);
		sub.reg_id[t] = packet_id();
		ax_enc_register(out, sub.sessid, sub.reg_id[t],
		    REGISTER_PRIORITY, subtree, sub.base_len + 2);
	}
	sub.reg_left = AX_NTABLES;
	sub.state = S_REGISTERING;
	arm(ANSWER_TIMEOUT_MS);
	send_out();
}

static const char *
error_name(uint16_t e)
{
	switch (e) {
	case AX_E_OPENFAILED:
		return ("openFailed");
	case AX_E_NOTOPEN:
		return ("notOpen");
	case AX_E_DUPLICATE:
		return ("duplicateRegistration (another sub-agent holds the "
		    "subtree)");
	case AX_E_PARSE:
		return ("parseError");
	case AX_E_PROCESSING:
		return ("processingError");
	case 267:
		return ("requestDenied");
	}
	return ("error");
}

static void
base_text(char *buf, size_t len)
{
	size_t	 i, o = 0;
	int	 n;

	buf[0] = '\0';
	for (i = 0; i < sub.base_len && o < len; i++) {
		n = snprintf(buf + o, len - o, "%s%u", i ? "." : "",
		    (unsigned)sub.base[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void
on_response(const struct ax_pdu *p)
{
	char		 base[AX_OID_MAX * 11];
	unsigned	 t;

	if (sub.state == S_OPENING && p->h.packetid == sub.open_id) {
		if (p->error != AX_E_NOERROR) {
			sub_fail("the master refused the session: %s (%u)",
			    error_name(p->error), p->error);
			return;
		}
		/* 7.1.1: the master assigns the session id */
		sub.sessid = p->h.sessid;
		send_registers();
		return;
	}
	if (p->h.sessid != sub.sessid) {
		log_debug("agentx: response for session %u ignored",
		    (unsigned)p->h.sessid);
		return;
	}
	for (t = 0; t < AX_NTABLES; t++)
		if (sub.state == S_REGISTERING && sub.reg_left > 0 &&
		    p->h.packetid == sub.reg_id[t]) {
			if (p->error != AX_E_NOERROR) {
				sub_fail("the master refused to register "
				    "B.1.%u: %s (%u)", AX_TABLE_ARC(t),
				    error_name(p->error), p->error);
				return;
			}
			sub.reg_id[t] = 0;
			if (--sub.reg_left > 0)
				return;
			sub.state = S_UP;
			sub.down_why[0] = '\0';
			sub.retry_ms = RETRY_FIRST_MS;
			series_set(sub.registered, 1);
			base_text(base, sizeof(base));
			log_info("agentx: registered with the master agent "
			    "at %s (session %u): npAlertTable %s.1.2, "
			    "npProbeTable %s.1.3", sub.master,
			    (unsigned)sub.sessid, base, base);
			arm(PING_INTERVAL_MS);
			return;
		}
	if (sub.ping_out && p->h.packetid == sub.ping_id) {
		if (p->error != AX_E_NOERROR) {
			sub_fail("the master answered a ping with %s",
			    error_name(p->error));
			return;
		}
		sub.ping_out = 0;
		arm(PING_INTERVAL_MS);
		return;
	}
	log_debug("agentx: stale response (packet %u) ignored",
	    (unsigned)p->h.packetid);
}

static void
answer_error(const struct ax_pdu *p, uint16_t error, uint16_t index)
{
	ax_enc_response(bufferevent_get_output(sub.bev), &p->h, error, index,
	    NULL);
	send_out();
}

/* One whole PDU from the master. */
static void
dispatch(const uint8_t *buf, size_t len)
{
	struct ax_pdu	 p;
	const char	*why;

	if (ax_decode(buf, len, &p, &why) == -1) {
		log_warnx("agentx: malformed %s from the master: %s",
		    p.h.type == AX_RESPONSE ? "Response" : "PDU", why);
		/* 7.2.2: answer a request we could not parse with
		 * parseError; the framing is intact, the session goes on */
		if (p.h.version == 1 && p.h.type != AX_RESPONSE &&
		    p.h.type != AX_CLEANUPSET)
			answer_error(&p, AX_E_PARSE, 0);
		return;
	}
	switch (p.h.type) {
	case AX_RESPONSE:
		on_response(&p);
		return;
	case AX_CLOSE:
		sub_fail("the master closed the session (reason %u)",
		    p.reason);
		return;
	case AX_GET:
	case AX_GETNEXT:
	case AX_GETBULK:
		if (sub.state < S_REGISTERING || p.h.sessid != sub.sessid) {
			answer_error(&p, AX_E_NOTOPEN, 0);
			return;
		}
		serve(&p);
		return;
	case AX_TESTSET:
		/* every object here is read-only */
		count_request(REQ_SET);
		answer_error(&p, p.nitems ? AX_E_NOTWRITABLE : AX_E_NOERROR,
		    p.nitems ? 1 : 0);
		return;
	case AX_COMMITSET:
	case AX_UNDOSET:
		answer_error(&p, AX_E_NOERROR, 0);
		return;
	case AX_CLEANUPSET:
		return;		/* 7.2.4.4: no response */
	}
	log_debug("agentx: unexpected PDU type %u from the master",
	    (unsigned)p.h.type);
	answer_error(&p, AX_E_PROCESSING, 0);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	uint8_t		 hdr[AX_HDR_LEN];
	const uint8_t	*pdu;
	ssize_t		 n;

	while (sub.bev == bev && evbuffer_get_length(in) >= AX_HDR_LEN) {
		evbuffer_copyout(in, hdr, sizeof(hdr));
		if ((n = ax_frame_len(hdr, sizeof(hdr))) == -1) {
			/* no way to find the next PDU: start over */
			sub_fail("unusable PDU header from the master");
			return;
		}
		if (evbuffer_get_length(in) < (size_t)n)
			return;
		if ((pdu = evbuffer_pullup(in, n)) == NULL)
			fatalx("agentx: out of memory");
		dispatch(pdu, (size_t)n);
		if (sub.bev == bev)
			evbuffer_drain(in, (size_t)n);
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	int	 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_EOF)
		sub_fail("the master closed the connection");
	else
		sub_fail("%s", err ? strerror(err) : "connection error");
}

static void
connected(void)
{
	struct evbuffer	*out;

	sub.bev = bufferevent_socket_new(sub.d->base, sub.fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (sub.bev == NULL)
		fatalx("agentx: bufferevent_socket_new failed");
	sub.fd = -1;	/* the bufferevent owns it */
	bufferevent_setcb(sub.bev, on_read, NULL, on_event, NULL);
	if (bufferevent_enable(sub.bev, EV_READ) == -1)
		fatalx("agentx: cannot watch the master's socket");
	out = bufferevent_get_output(sub.bev);
	sub.open_id = packet_id();
	/* o.id: our MIB's base, as the sysORTable-like identity */
	ax_enc_open(out, sub.open_id, OPEN_TIMEOUT_S, sub.base, sub.base_len,
	    "netprobed");
	sub.state = S_OPENING;
	arm(ANSWER_TIMEOUT_MS);
	send_out();
}

static void
on_connect(evutil_socket_t fd, short ev, void *arg)
{
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	event_free(sub.conn_ev);
	sub.conn_ev = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		sub_fail("connect: %s", strerror(err));
		return;
	}
	connected();
}

/* Start a non-blocking connect; the result arrives on the loop. */
static void
sub_connect(void)
{
	int	 fd;

	fd = socket(sub.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		sub_fail("socket: %s", strerror(errno));
		return;
	}
	sub.fd = fd;
	if (connect(fd, (struct sockaddr *)&sub.ss, sub.sslen) == 0) {
		connected();
		return;
	}
	if (errno != EINPROGRESS) {
		/* a closed loopback port or a missing unix socket fails
		 * here, at once; a full unix backlog (EAGAIN) as well */
		sub_fail("connect: %s", strerror(errno));
		return;
	}
	sub.conn_ev = event_new(sub.d->base, fd, EV_WRITE, on_connect, NULL);
	if (sub.conn_ev == NULL || event_add(sub.conn_ev, NULL) == -1)
		fatalx("agentx: cannot watch the connect");
	sub.state = S_CONNECTING;
	arm(CONNECT_TIMEOUT_MS);
}

static void
on_timer(evutil_socket_t fd, short ev, void *arg)
{
	switch (sub.state) {
	case S_WAIT:
		sub_connect();
		break;
	case S_CONNECTING:
		sub_fail("connect timed out after %d s",
		    CONNECT_TIMEOUT_MS / 1000);
		break;
	case S_OPENING:
	case S_REGISTERING:
		sub_fail("no answer to %s within %d s",
		    sub.state == S_OPENING ? "Open" : "Register",
		    ANSWER_TIMEOUT_MS / 1000);
		break;
	case S_UP:
		if (sub.ping_out) {
			sub_fail("no answer to a ping within %d s",
			    ANSWER_TIMEOUT_MS / 1000);
			break;
		}
		/* 7.1.6: is the master still there? */
		sub.ping_id = packet_id();
		sub.ping_out = 1;
		ax_enc_ping(bufferevent_get_output(sub.bev), sub.sessid,
		    sub.ping_id);
		arm(ANSWER_TIMEOUT_MS);
		send_out();
		break;
	case S_OFF:
		break;
	}
}

static void
metrics_init(struct np_daemon *d)
{
	struct family	*f;
	size_t		 i;

	if (sub.registered != NULL)
		return;
	f = store_family(d->store, "netprobe_snmp_agentx_registered",
	    "Whether the AgentX sub-agent is registered with the SNMP "
	    "master agent.", METRIC_GAUGE, NULL, 0);
	sub.registered = store_series(d->store, f, NULL, NULL);
	series_set(sub.registered, 0);
	f = store_family(d->store, "netprobe_snmp_agentx_requests_total",
	    "AgentX requests answered, by PDU type.", METRIC_COUNTER, NULL,
	    0);
	for (i = 0; i < REQ_MAX; i++)
		sub.requests[i] = store_series(d->store, f, NULL, "pdu",
		    req_names[i], NULL);
}

int
agentx_start(struct np_daemon *d, const char *master, const uint32_t *base,
    size_t base_len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*why;

	if (agentx_parse_master(master, &ss, &sslen, &why) == -1) {
		log_err("agentx: master agent \"%s\": %s", master, why);
		return (-1);
	}
	if (base_len == 0 || base_len > AGENTX_BASE_MAX) {
		log_err("agentx: the base OID must have 1 to %d "
		    "sub-identifiers", AGENTX_BASE_MAX);
		return (-1);
	}
	if (sub.state != S_OFF && sub.d == d &&
	    strcmp(sub.master, master) == 0 && sub.base_len == base_len &&
	    memcmp(sub.base, base, base_len * sizeof(*base)) == 0)
		return (0);	/* a reload with the same settings */
	agentx_stop(d);

	sub.d = d;
	sub.master = xstrdup(master);
	sub.ss = ss;
	sub.sslen = sslen;
	memcpy(sub.base, base, base_len * sizeof(*base));
	sub.base_len = base_len;
	sub.next_packetid = arc4random();
	sub.retry_ms = RETRY_FIRST_MS;
	sub.down_why[0] = '\0';
	if ((sub.timer = evtimer_new(d->base, on_timer, NULL)) == NULL)
		fatalx("agentx: evtimer_new failed");
	metrics_init(d);
	log_info("agentx: connecting to the master agent at %s", master);
	sub.state = S_WAIT;
	sub_connect();
	return (0);
}

void
agentx_stop(struct np_daemon *d)
{
	size_t	 i;

	if (sub.state == S_OFF)
		return;
	sub_close(1);
	event_free(sub.timer);
	sub.timer = NULL;
	log_info("agentx: stopped (master agent at %s)", sub.master);
	free(sub.master);
	sub.master = NULL;
	store_release(d->store, sub.registered);
	sub.registered = NULL;
	for (i = 0; i < REQ_MAX; i++) {
		store_release(d->store, sub.requests[i]);
		sub.requests[i] = NULL;
	}
	sub.d = NULL;
	sub.state = S_OFF;
}
