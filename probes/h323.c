/*
 * h323: is the H.323 gatekeeper or MCU alive, and does it speak H.225.0?
 *
 * mode ras: an H.225.0 RAS Gatekeeper Request (or Location Request) on
 * UDP 1719, resent every `retransmit` up to `attempts` times.  GCF/LCF
 * is success, GRJ/LRJ (with its reject reason) or XRS is bad_response,
 * ICMP port unreachable is refused, silence is timeout.
 *
 * mode call: TCP 1720, a Q.931 SETUP carrying a Setup-UUIE.  CALL
 * PROCEEDING, ALERTING or CONNECT prove a live H.323 stack (success);
 * RELEASE COMPLETE does too, with its cause, unless
 * accept_release_complete is false.  The probe then sends RELEASE
 * COMPLETE (cause 16, normal call clearing) unless the peer already
 * released, and waits briefly for the peer to close first, so the call
 * ends cleanly and TIME_WAIT stays on the peer.
 *
 * Every run draws a fresh requestSeqNum, call reference, conferenceID
 * and callIdentifier.  An answer counts only with this run's sequence
 * number (RAS, on a socket connected to the target) or call reference
 * with the "from the called side" flag (on our own TCP connection);
 * anything else is logged and ignored, so a stale or spoofed answer
 * never counts.  Layouts: shared/PROTOCOLS.md sections 1 and 2.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/msg_h225.h"
#include "probes/probe.h"

enum { MODE_RAS, MODE_CALL };
enum { RAS_GRQ, RAS_LRQ };

/* call steps */
enum { CS_CONNECT, CS_SETUP, CS_CLOSING };

/*
 * What a call-signalling handler left behind.  After probe_done() the
 * run (and this state) may already be reused, so callers stop at once
 * on CALL_ENDED.
 */
enum { CALL_MORE, CALL_ENDED, CALL_CLOSING };

#define H323_RAS_PORT		1719
#define H323_CALL_PORT		1720
#define H323_MAX_MESSAGES	32	/* answers skipped before giving up */
#define H323_CLOSE_GRACE_MS	500	/* wait for the peer to close first */

struct h323_opts {
	int		 mode;
	int		 ras_message;
	char		*alias;
	char		*endpoint_alias;
	char		*called_number;
	uint64_t	 retransmit;		/* ms */
	uint64_t	 attempts;
	int		 accept_release_complete;
};

struct h323_run {
	struct probe_run	*run;
	const struct h323_opts	*o;
	int			 fd;
	struct event		*rev;		/* readable, persistent */
	struct event		*wev;		/* call: connect, send */
	struct event		*timer;		/* ras: resend; call: grace */
	uint64_t		 t_sent;	/* first request, monotonic */
	/* ras */
	uint16_t		 seq;
	unsigned		 sent;
	uint8_t			 req[640];
	size_t			 reqlen;
	/* call */
	int			 step;
	uint16_t		 crv;
	uint8_t			 conf_id[H225_GUID_LEN];
	uint8_t			 call_id[H225_GUID_LEN];
	uint8_t			 out[1280];
	size_t			 outlen, outoff;
	uint8_t			 in[H225_TPKT_MAX];
	size_t			 inlen;
	unsigned		 nmsg;
	int			 setup_sent;	/* Setup written in full */
	int			 released;	/* by us or by the peer */
	enum probe_result	 verdict;	/* decided before closing */
	/* what came back: read by record() */
	unsigned		 nignored;
	char			 ignored[40];	/* why the last one was */
	int			 answered;
	double			 answer_s;
	const char		*msg;		/* "GCF", "Connect", ... */
	const char		*reason;	/* reject/release reason */
	int			 has_cause;
	unsigned		 cause;
};

static const char *const mode_choices[] = { "ras", "call", NULL };
static const char *const ras_choices[] = { "grq", "lrq", NULL };

static const struct opt_def h323_opt_defs[] = {
	OPT_CHOICE("mode", struct h323_opts, mode, mode_choices),
	OPT_CHOICE("ras_message", struct h323_opts, ras_message, ras_choices),
	OPT("alias", OPT_STRING, struct h323_opts, alias, 0, 1024),
	OPT("endpoint_alias", OPT_STRING, struct h323_opts, endpoint_alias,
	    0, 1024),
	OPT("called_number", OPT_STRING, struct h323_opts, called_number, 0,
	    H225_NUMBER_MAX),
	OPT("retransmit", OPT_DURATION, struct h323_opts, retransmit, 100,
	    60000),
	OPT("attempts", OPT_UINT, struct h323_opts, attempts, 1, 10),
	OPT("accept_release_complete", OPT_BOOL, struct h323_opts,
	    accept_release_complete, 0, 1),
};

static void	ras_tx(evutil_socket_t, short, void *);
static void	ras_read(evutil_socket_t, short, void *);
static void	call_writable(evutil_socket_t, short, void *);
static void	call_read(evutil_socket_t, short, void *);
static void	call_grace(evutil_socket_t, short, void *);

static void
h323_opts_default(void *p)
{
	struct h323_opts	*o = p;

	o->mode = MODE_RAS;
	o->ras_message = RAS_GRQ;
	o->retransmit = 1000;
	o->attempts = 3;
	o->accept_release_complete = 1;
}

static int
h323_default_port(const void *p)
{
	const struct h323_opts	*o = p;

	return (o->mode == MODE_CALL ? H323_CALL_PORT : H323_RAS_PORT);
}

static const char *
h323_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct h323_opts	*o = cfg->opts;
	const char		*why;

	if (o->alias != NULL && (why = h225_alias_check(o->alias)) != NULL) {
		*key = "alias";
		snprintf(buf, len, "'alias': %s", why);
		return (buf);
	}
	if (o->endpoint_alias != NULL &&
	    (why = h225_alias_check(o->endpoint_alias)) != NULL) {
		*key = "endpoint_alias";
		snprintf(buf, len, "'endpoint_alias': %s", why);
		return (buf);
	}
	if (o->called_number != NULL &&
	    (why = h225_number_check(o->called_number)) != NULL) {
		*key = "called_number";
		snprintf(buf, len, "'called_number': %s", why);
		return (buf);
	}
	if (o->mode == MODE_CALL && o->ras_message == RAS_LRQ) {
		*key = "ras_message";
		return ("'ras_message' applies only to mode: ras");
	}
	if (o->mode == MODE_RAS && o->called_number != NULL) {
		*key = "called_number";
		return ("'called_number' applies only to mode: call");
	}
	if (o->endpoint_alias != NULL && (o->mode != MODE_RAS ||
	    o->ras_message != RAS_LRQ)) {
		*key = "endpoint_alias";
		return ("'endpoint_alias' applies only to ras_message: lrq");
	}
	if (o->mode == MODE_RAS && o->ras_message == RAS_LRQ &&
	    o->endpoint_alias == NULL) {
		*key = "ras_message";
		return ("ras_message lrq needs 'endpoint_alias', the alias "
		    "to locate");
	}
	return (NULL);
}

/* A socket error as a result class, with words for the table. */
static enum probe_result
h323_errno(struct h323_run *h, int err, const char *what)
{
	struct probe_obs	*obs = &h->run->obs;

	/* on a connected UDP socket, ECONNREFUSED is the ICMP error */
	snprintf(obs->detail, sizeof(obs->detail), "%s%s%s", what,
	    *what ? ": " : "", err == ECONNREFUSED && h->o->mode == MODE_RAS ?
	    "ICMP port unreachable" : strerror(err));
	return (probe_errno_result(err));
}

static void
h323_ignore(struct h323_run *h, const char *why)
{
	h->nignored++;
	snprintf(h->ignored, sizeof(h->ignored), "%s", why);
}

/* The first matching answer: what record() exports. */
static void
h323_answered(struct h323_run *h, const char *msg, const char *reason)
{
	struct probe_obs	*obs = &h->run->obs;

	h->answered = 1;
	h->answer_s = (double)(now_mono_ns() - h->t_sent) / 1e9;
	h->msg = msg;
	h->reason = reason;
	obs->rtt[0] = h->answer_s;
	obs->nrtt = 1;
	obs->received = 1;
}

/* ---- RAS ------------------------------------------------------------- */

static const char *
ras_req_name(const struct h323_run *h)
{
	return (h->o->ras_message == RAS_LRQ ? "LRQ" : "GRQ");
}

/* Send (or resend: same bytes, same requestSeqNum) the request. */
static int
ras_send(struct h323_run *h)
{
	struct probe_run	*run = h->run;
	struct timeval		 tv;

	if (send(h->fd, h->req, h->reqlen, 0) == -1) {
		probe_done(run, h323_errno(h, errno, "send"));
		return (1);
	}
	if (h->sent++ == 0)
		h->t_sent = now_mono_ns();
	run->obs.sent = h->sent;
	probe_log(run, "%s requestSeqNum %u, %zu bytes (%u of %llu)",
	    ras_req_name(h), h->seq, h->reqlen, h->sent,
	    (unsigned long long)h->o->attempts);
	if (h->sent < h->o->attempts) {
		tv.tv_sec = (time_t)(h->o->retransmit / 1000);
		tv.tv_usec = (suseconds_t)(h->o->retransmit % 1000) * 1000;
		evtimer_add(h->timer, &tv);
	}
	return (0);
}

static void
ras_tx(evutil_socket_t fd, short ev, void *arg)
{
	ras_send(arg);
}

/* Our transport address as the gatekeeper should answer it. */
static int
ras_local(struct h323_run *h, struct h225_taddr *t)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct np_addr		 a;
	char			 text[NP_ADDRSTRLEN];

	if (getsockname(h->fd, (struct sockaddr *)&ss, &len) == -1)
		return (-1);
	memset(t, 0, sizeof(*t));
	if (ss.ss_family == AF_INET6) {
		t->v6 = 1;
		memcpy(t->ip, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
		t->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		memcpy(t->ip, &((struct sockaddr_in *)&ss)->sin_addr, 4);
		t->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	memset(&a, 0, sizeof(a));
	memcpy(&a.ss, &ss, sizeof(a.ss));
	a.len = len;
	format_addr(&a, 1, text, sizeof(text));
	probe_log(h->run, "RAS socket %s, connected to %s", text,
	    h->run->cfg->targets[h->run->target]);
	return (0);
}

static void
ras_start(struct h323_run *h)
{
	struct probe_run	*run = h->run;
	const struct np_addr	*a = run->addr;
	struct h225_taddr	 me;

	if ((h->fd = probe_socket(run, a->ss.ss_family, SOCK_DGRAM, 0)) ==
	    -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	/* connected: the kernel keeps datagrams from anyone else out and
	 * reports ICMP port unreachable as ECONNREFUSED */
	if (connect(h->fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		probe_done(run, h323_errno(h, errno, "connect"));
		return;
	}
	if (ras_local(h, &me) == -1) {
		probe_done(run, h323_errno(h, errno, "getsockname"));
		return;
	}
	h->seq = (uint16_t)(1 + arc4random_uniform(65535));
	if (h->o->ras_message == RAS_LRQ)
		h->reqlen = h225_lrq_build(h->req, sizeof(h->req), h->seq,
		    h->o->endpoint_alias, &me);
	else
		h->reqlen = h225_grq_build(h->req, sizeof(h->req), h->seq,
		    &me, h->o->alias);
	if (h->reqlen == 0) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "cannot encode the %s", ras_req_name(h));
		probe_done(run, PR_ERROR);
		return;
	}
	h->rev = event_new(run->base, h->fd, EV_READ | EV_PERSIST, ras_read,
	    h);
	h->timer = evtimer_new(run->base, ras_tx, h);
	if (h->rev == NULL || h->timer == NULL || event_add(h->rev, NULL) ==
	    -1)
		fatalx("h323: cannot add events");
	ras_send(h);
}

/* Does this reply type answer our request? */
static int
ras_fits(const struct h323_run *h, int type)
{
	if (type == H225_RAS_XRS || type == H225_RAS_RIP)
		return (1);
	if (h->o->ras_message == RAS_LRQ)
		return (type == H225_RAS_LCF || type == H225_RAS_LRJ);
	return (type == H225_RAS_GCF || type == H225_RAS_GRJ);
}

/* RequestInProgress: the gatekeeper asks for patience. */
static void
ras_wait(struct h323_run *h, const struct h225_ras *m)
{
	uint64_t	ms = m->delay_ms ? m->delay_ms : h->o->retransmit;
	struct timeval	tv, left;

	probe_log(h->run, "RIP: request in progress, delay %ums",
	    m->delay_ms);
	if (h->sent >= h->o->attempts)
		return;
	/* no resend before the delay the gatekeeper asked for, nor past
	 * our own deadline */
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	probe_remaining(h->run, &left);
	if (timercmp(&left, &tv, <))
		tv = left;
	evtimer_add(h->timer, &tv);
}

/* One datagram from the target.  1: the run ended. */
static int
ras_got(struct h323_run *h, const uint8_t *buf, size_t len)
{
	struct probe_run	*run = h->run;
	struct probe_obs	*obs = &run->obs;
	struct h225_ras		 m;
	const char		*why = NULL, *name;
	char			 tmp[40];
	int			 rc;

	rc = h225_ras_parse(buf, len, &m, &why);
	name = h225_ras_name(m.type);
	if (!m.has_seq || m.seq != h->seq || !ras_fits(h, m.type)) {
		if (rc == -1)
			snprintf(tmp, sizeof(tmp), "malformed: %s", why);
		else if (!ras_fits(h, m.type))
			snprintf(tmp, sizeof(tmp), "unexpected %s", name);
		else
			snprintf(tmp, sizeof(tmp), "wrong requestSeqNum");
		probe_log(run, "ignored %zu-byte %s (requestSeqNum %u, ours "
		    "%u): %s", len, name, m.has_seq ? m.seq : 0, h->seq, tmp);
		h323_ignore(h, tmp);
		return (0);
	}
	if (rc == -1) {
		h323_answered(h, name, NULL);
		snprintf(obs->detail, sizeof(obs->detail), "malformed %s: %s",
		    name, why);
		probe_log(run, "%s", obs->detail);
		probe_done(run, PR_BAD_RESPONSE);
		return (1);
	}
	if (m.type == H225_RAS_RIP) {
		ras_wait(h, &m);
		return (0);
	}
	h323_answered(h, name, m.reason);
	probe_log(run, "%s requestSeqNum %u after %.3fms%s%s", name, m.seq,
	    h->answer_s * 1e3, m.reason ? ", reason " : "",
	    m.reason ? m.reason : "");
	switch (m.type) {
	case H225_RAS_GCF:
		if (m.gk_id[0] != '\0')
			snprintf(obs->detail, sizeof(obs->detail),
			    "GCF from gatekeeper \"%.40s\"", m.gk_id);
		else
			snprintf(obs->detail, sizeof(obs->detail), "GCF");
		probe_done(run, PR_SUCCESS);
		return (1);
	case H225_RAS_LCF:
		snprintf(obs->detail, sizeof(obs->detail), "LCF for %.60s",
		    h->o->endpoint_alias);
		probe_done(run, PR_SUCCESS);
		return (1);
	case H225_RAS_XRS:
		snprintf(obs->detail, sizeof(obs->detail), "XRS: the "
		    "gatekeeper did not understand the %s", ras_req_name(h));
		probe_done(run, PR_BAD_RESPONSE);
		return (1);
	default:		/* GRJ, LRJ */
		snprintf(obs->detail, sizeof(obs->detail), "%s: %s", name,
		    m.reason);
		probe_done(run, PR_BAD_RESPONSE);
		return (1);
	}
}

static void
ras_read(evutil_socket_t fd, short ev, void *arg)
{
	struct h323_run		*h = arg;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	uint8_t			 buf[2048];
	ssize_t			 n;
	int			 budget;

	/* bounded, so a flood cannot hold the loop */
	for (budget = 0; budget < 32; budget++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			probe_log(h->run, "receive: %s", strerror(errno));
			probe_done(h->run, h323_errno(h, errno, ""));
			return;
		}
		if (!addr_match(h->run->addr, &from, 1)) {
			probe_log(h->run, "ignored a datagram from elsewhere");
			h323_ignore(h, "wrong source");
			continue;
		}
		if ((size_t)n > sizeof(buf)) {
			probe_log(h->run, "ignored a %zd-byte datagram", n);
			h323_ignore(h, "oversized datagram");
			continue;
		}
		if (ras_got(h, buf, (size_t)n))
			return;
	}
}

/* ---- call signalling ------------------------------------------------ */

/* Write what is left of out[]; 0, or -1 with errno. */
static int
call_flush(struct h323_run *h)
{
	ssize_t	n;

	while (h->outoff < h->outlen) {
		n = send(h->fd, h->out + h->outoff, h->outlen - h->outoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				event_add(h->wev, NULL);
				return (0);
			}
			return (-1);
		}
		h->outoff += (size_t)n;
	}
	if (h->step == CS_SETUP && !h->setup_sent) {
		h->setup_sent = 1;
		probe_log(h->run, "Setup sent in full");
	}
	return (0);
}

/* The run ends with the verdict taken at the first answer. */
static void
call_end(struct h323_run *h)
{
	probe_done(h->run, h->verdict);
}

/*
 * Release the call (H.225.0 8.5: Release Complete, cause 16) unless the
 * peer did, then give the peer a moment to close first.
 */
static int
call_release(struct h323_run *h)
{
	struct probe_run	*run = h->run;
	struct timeval		 tv, left;

	h->step = CS_CLOSING;
	h->inlen = 0;
	if (!h->released) {
		h->released = 1;
		h->outlen = h225_release_build(h->out, sizeof(h->out), h->crv,
		    Q931_CAUSE_NORMAL, h->call_id);
		h->outoff = 0;
		probe_log(run, "Release Complete, call reference 0x%04x, "
		    "cause 16 (normal call clearing), %zu bytes", h->crv,
		    h->outlen);
		if (call_flush(h) == -1) {
			probe_log(run, "send: %s", strerror(errno));
			call_end(h);
			return (CALL_ENDED);
		}
	}
	tv.tv_sec = 0;
	tv.tv_usec = H323_CLOSE_GRACE_MS * 1000;
	probe_remaining(run, &left);
	if (timercmp(&left, &tv, <))
		tv = left;
	evtimer_add(h->timer, &tv);
	return (CALL_CLOSING);
}

static void
call_grace(evutil_socket_t fd, short ev, void *arg)
{
	struct h323_run	*h = arg;

	probe_log(h->run, "the peer kept the connection open; closing it");
	call_end(h);
}

/* A bad answer: detail is a then b. */
static void
call_bad(struct h323_run *h, const char *a, const char *b)
{
	struct probe_obs	*obs = &h->run->obs;

	snprintf(obs->detail, sizeof(obs->detail), "%s%s", a, b);
	probe_log(h->run, "%s", obs->detail);
	probe_done(h->run, PR_BAD_RESPONSE);
}

/* Our answer: classify it, then release. */
static int
call_answer(struct h323_run *h, const struct h225_q931 *q)
{
	struct probe_run	*run = h->run;
	struct probe_obs	*obs = &run->obs;
	const char		*name = h225_q931_name(q->type);

	if (!q->has_uuie) {
		call_bad(h, name, " without H.323 user information");
		return (CALL_ENDED);
	}
	if (q->uu_body != h225_uu_body_for(q->type))
		probe_log(run, "warning: the UUIE body (%d) does not match "
		    "the Q.931 %s", q->uu_body, name);
	h323_answered(h, name, q->type == Q931_RELEASE_COMPLETE ?
	    q->rc_reason : NULL);
	probe_log(run, "%s, call reference 0x%04x, after %.3fms", name,
	    q->crv, h->answer_s * 1e3);
	if (q->type != Q931_RELEASE_COMPLETE) {
		h->verdict = PR_SUCCESS;
		snprintf(obs->detail, sizeof(obs->detail), "%s", name);
		return (call_release(h));
	}
	h->released = 1;	/* the peer cleared the call */
	h->verdict = h->o->accept_release_complete ? PR_SUCCESS :
	    PR_BAD_RESPONSE;
	h->has_cause = q->has_cause;
	h->cause = q->cause;
	if (q->has_cause)
		snprintf(obs->detail, sizeof(obs->detail), "%s, cause %u "
		    "(%s)%s%s", name, q->cause, h225_cause_name(q->cause),
		    q->rc_reason ? ", " : "", q->rc_reason ? q->rc_reason : "");
	else
		snprintf(obs->detail, sizeof(obs->detail), "%s without "
		    "cause%s%s", name, q->rc_reason ? ", " : "",
		    q->rc_reason ? q->rc_reason : "");
	probe_log(run, "%s", obs->detail);
	return (call_release(h));
}

/* One Q.931 message on our connection. */
static int
call_message(struct h323_run *h, const struct h225_q931 *q)
{
	struct probe_run	*run = h->run;

	if (++h->nmsg > H323_MAX_MESSAGES) {
		call_bad(h, "too many messages without an answer", "");
		return (CALL_ENDED);
	}
	/* Q.931 5.x / H.225.0 7.3: ours is our call reference with the
	 * flag set (sent by the called side) */
	if (!q->from_dest || q->crv != h->crv) {
		probe_log(run, "ignored %s with call reference 0x%04x flag "
		    "%d (ours 0x%04x flag 1)", h225_q931_name(q->type),
		    q->crv, q->from_dest, h->crv);
		h323_ignore(h, "wrong call reference");
		return (CALL_MORE);
	}
	switch (q->type) {
	case Q931_CALL_PROCEEDING:
	case Q931_ALERTING:
	case Q931_CONNECT:
	case Q931_RELEASE_COMPLETE:
		return (call_answer(h, q));
	default:
		/* Facility, Progress, Notify, Status...: keep waiting */
		probe_log(run, "skipped %s", h225_q931_name(q->type));
		return (CALL_MORE);
	}
}

/* Complete TPKT frames in in[], one message at a time. */
static int
call_frames(struct h323_run *h)
{
	struct h225_q931	 q;
	const char		*why;
	size_t			 plen, flen;
	int			 rc;

	while (h->inlen >= H225_TPKT_HDR) {
		if (h225_tpkt_check(h->in, &plen, &why) == -1) {
			call_bad(h, "malformed answer: ", why);
			return (CALL_ENDED);
		}
		flen = H225_TPKT_HDR + plen;
		if (h->inlen < flen)
			break;
		if (h225_q931_parse(h->in + H225_TPKT_HDR, plen, &q, &why) ==
		    -1) {
			call_bad(h, "malformed Q.931: ", why);
			return (CALL_ENDED);
		}
		memmove(h->in, h->in + flen, h->inlen - flen);
		h->inlen -= flen;
		if ((rc = call_message(h, &q)) != CALL_MORE)
			return (rc);
	}
	return (CALL_MORE);
}

/* EOF or a read error before any answer. */
static void
call_closed(struct h323_run *h, int err)
{
	struct probe_obs	*obs = &h->run->obs;

	h->released = 1;	/* no connection, no call left to release */
	if (err == 0)
		snprintf(obs->detail, sizeof(obs->detail), "connection "
		    "closed by the peer %s", h->inlen > 0 ? "inside a TPKT "
		    "message" : "before any answer");
	else
		snprintf(obs->detail, sizeof(obs->detail), "%s before any "
		    "answer", strerror(err));
	probe_log(h->run, "%s", obs->detail);
	probe_done(h->run, PR_BAD_RESPONSE);
}

static void
call_read(evutil_socket_t fd, short ev, void *arg)
{
	struct h323_run	*h = arg;
	uint8_t		 junk[2048];
	ssize_t		 n;
	int		 budget;

	for (budget = 0; budget < 16; budget++) {
		if (h->step == CS_CLOSING) {
			/* after the answer: discard until the peer closes */
			n = recv(fd, junk, sizeof(junk), 0);
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n <= 0) {
				probe_log(h->run, "the peer closed the "
				    "connection");
				call_end(h);
				return;
			}
			continue;
		}
		/* room is never 0: a frame is at most sizeof(in) */
		n = recv(fd, h->in + h->inlen, sizeof(h->in) - h->inlen, 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			call_closed(h, errno);
			return;
		}
		if (n == 0) {
			call_closed(h, 0);
			return;
		}
		h->inlen += (size_t)n;
		if (call_frames(h) == CALL_ENDED)
			return;
	}
}

static void
call_connected(struct h323_run *h)
{
	struct probe_run	*run = h->run;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct np_addr		 a;
	char			 text[NP_ADDRSTRLEN] = "?";

	run->obs.connected = 1;
	if (getsockname(h->fd, (struct sockaddr *)&ss, &len) == 0) {
		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, &ss, sizeof(a.ss));
		a.len = len;
		format_addr(&a, 1, text, sizeof(text));
	}
	probe_log(run, "connected from %s", text);
	h->step = CS_SETUP;
	h->rev = event_new(run->base, h->fd, EV_READ | EV_PERSIST, call_read,
	    h);
	if (h->rev == NULL || event_add(h->rev, NULL) == -1)
		fatalx("h323: cannot add events");
	h->t_sent = now_mono_ns();
	run->obs.sent = 1;
	probe_log(run, "Setup, call reference 0x%04x, conferenceID "
	    "%08x..., callIdentifier %08x..., %zu bytes", h->crv,
	    (unsigned)h->conf_id[0] << 24 | (unsigned)h->conf_id[1] << 16 |
	    (unsigned)h->conf_id[2] << 8 | h->conf_id[3],
	    (unsigned)h->call_id[0] << 24 | (unsigned)h->call_id[1] << 16 |
	    (unsigned)h->call_id[2] << 8 | h->call_id[3], h->outlen);
	if (call_flush(h) == -1) {
		probe_log(run, "send: %s", strerror(errno));
		call_closed(h, errno);
	}
}

static void
call_writable(evutil_socket_t fd, short ev, void *arg)
{
	struct h323_run	*h = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (h->step != CS_CONNECT) {
		if (call_flush(h) == -1) {
			probe_log(h->run, "send: %s", strerror(errno));
			if (h->step == CS_CLOSING)
				call_end(h);
			else
				call_closed(h, errno);
		}
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		probe_log(h->run, "connect: %s", strerror(err));
		probe_done(h->run, h323_errno(h, err, "connect"));
		return;
	}
	call_connected(h);
}

static void
call_start(struct h323_run *h)
{
	struct probe_run	*run = h->run;
	const struct np_addr	*a = run->addr;
	struct h225_setup	 s;

	if ((h->fd = probe_socket(run, a->ss.ss_family, SOCK_STREAM, 0)) ==
	    -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	/* Q.931 call reference: 15 random bits, never 0 (the global one) */
	h->crv = (uint16_t)(1 + arc4random_uniform(0x7fff));
	arc4random_buf(h->conf_id, sizeof(h->conf_id));
	arc4random_buf(h->call_id, sizeof(h->call_id));
	memset(&s, 0, sizeof(s));
	s.crv = h->crv;
	memcpy(s.conf_id, h->conf_id, sizeof(s.conf_id));
	memcpy(s.call_id, h->call_id, sizeof(s.call_id));
	s.alias = h->o->alias;
	s.called = h->o->called_number;
	if ((h->outlen = h225_setup_build(h->out, sizeof(h->out), &s)) == 0) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "cannot encode the Setup");
		probe_done(run, PR_ERROR);
		return;
	}
	h->wev = event_new(run->base, h->fd, EV_WRITE, call_writable, h);
	h->timer = evtimer_new(run->base, call_grace, h);
	if (h->wev == NULL || h->timer == NULL)
		fatalx("h323: cannot add events");
	h->step = CS_CONNECT;
	probe_log(run, "connect to %s", run->cfg->targets[run->target]);
	if (connect(h->fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
		call_connected(h);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_log(run, "connect: %s", strerror(errno));
		probe_done(run, h323_errno(h, errno, "connect"));
		return;
	}
	event_add(h->wev, NULL);
}

/*
 * Close the connection: release the call first if nobody did (at the
 * deadline), and read what is queued so close() sends FIN, not RST.
 */
static void
call_close(struct h323_run *h)
{
	struct linger	l = { 1, 0 };
	uint8_t		junk[2048];
	size_t		len;
	int		i;

	if (h->step == CS_CONNECT) {
		/* never connected: nothing to release, no TIME_WAIT */
		setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else if (h->setup_sent && !h->released && h->outoff == h->outlen) {
		len = h225_release_build(h->out, sizeof(h->out), h->crv,
		    Q931_CAUSE_NORMAL, h->call_id);
		h->released = 1;
		if (send(h->fd, h->out, len, MSG_NOSIGNAL | MSG_DONTWAIT) ==
		    (ssize_t)len)
			probe_log(h->run, "Release Complete, call reference "
			    "0x%04x, cause 16, at the deadline", h->crv);
	}
	for (i = 0; i < 16 && recv(h->fd, junk, sizeof(junk),
	    MSG_DONTWAIT) > 0; i++)
		;
	close(h->fd);
	h->fd = -1;
}

/* ---- the type ------------------------------------------------------- */

static void
h323_start(struct probe_run *run)
{
	struct h323_run	*h = run->state;

	h->fd = -1;
	h->run = run;
	h->o = run->cfg->opts;
	if (h->o->mode == MODE_CALL)
		call_start(h);
	else
		ras_start(h);
}

static void
h323_finish(struct probe_run *run, int timed_out)
{
	struct h323_run	*h = run->state;
	struct probe_obs *obs = &run->obs;
	char		 more[64] = "";

	if (h->rev != NULL)
		event_free(h->rev);
	if (h->wev != NULL)
		event_free(h->wev);
	if (h->timer != NULL)
		event_free(h->timer);
	h->rev = h->wev = h->timer = NULL;
	if (h->fd >= 0 && h->o->mode == MODE_CALL)
		call_close(h);
	else if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (!timed_out)
		return;
	if (h->answered) {
		/* the deadline came while the peer was closing */
		obs->result = h->verdict;
		return;
	}
	if (h->nignored > 0)
		snprintf(more, sizeof(more), "; ignored %u (%s)", h->nignored,
		    h->ignored);
	if (h->o->mode == MODE_RAS)
		snprintf(obs->detail, sizeof(obs->detail), "no answer to %u "
		    "%s%s within %llums%s", h->sent, ras_req_name(h),
		    h->sent == 1 ? "" : "s",
		    (unsigned long long)run->cfg->timeout_ms, more);
	else if (h->step == CS_CONNECT)
		snprintf(obs->detail, sizeof(obs->detail), "TCP connect: no "
		    "answer within %llums",
		    (unsigned long long)run->cfg->timeout_ms);
	else
		snprintf(obs->detail, sizeof(obs->detail), "no answer to "
		    "Setup within %llums%s",
		    (unsigned long long)run->cfg->timeout_ms, more);
}

/* ---- series --------------------------------------------------------- */

enum { X_INFO, X_CAUSE, X_ANSWER, X_NUM };

#define FAM_INFO	"netprobe_h323_answer_info"
#define HELP_INFO	"The first matching answer of the last run: its " \
			"message (GCF, GRJ, LCF, LRJ, XRS, CallProceeding, " \
			"Alerting, Connect, ReleaseComplete) and reason; " \
			"absent when nothing answered."
#define FAM_CAUSE	"netprobe_h323_release_cause"
#define HELP_CAUSE	"Q.850 cause value of the peer's Release Complete " \
			"in the last run (absent if it sent none)."
#define FAM_ANSWER	"netprobe_h323_answer_time_seconds"
#define HELP_ANSWER	"Time from the first request (GRQ, LRQ or Setup) " \
			"to the first matching answer in the last run."

static void
h323_attach(struct target_state *ts)
{
	struct store	*st = ts->store;

	store_family(st, FAM_INFO, HELP_INFO, METRIC_GAUGE, NULL, 0);
	ts->extra[X_CAUSE] = target_series(ts, store_family(st, FAM_CAUSE,
	    HELP_CAUSE, METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_ANSWER] = target_series(ts, store_family(st, FAM_ANSWER,
	    HELP_ANSWER, METRIC_GAUGE, NULL, 0), NULL);
}

static void
h323_record(struct target_state *ts, const struct probe_run *run)
{
	const struct h323_run	*h = run->state;
	struct family		*f;
	struct series		*s;

	if (h->msg == NULL) {
		if (ts->extra[X_INFO] != NULL)
			series_unset(ts->extra[X_INFO]);
	} else {
		/* one series: a new message or reason replaces the old */
		f = store_family(ts->store, FAM_INFO, HELP_INFO, METRIC_GAUGE,
		    NULL, 0);
		s = h->reason != NULL ? target_series(ts, f, "message",
		    h->msg, "reason", h->reason, NULL) : target_series(ts, f,
		    "message", h->msg, NULL);
		if (s != ts->extra[X_INFO]) {
			store_release(ts->store, ts->extra[X_INFO]);
			ts->extra[X_INFO] = s;
		}
		series_set(s, 1);
	}
	if (h->has_cause)
		series_set(ts->extra[X_CAUSE], h->cause);
	else
		series_unset(ts->extra[X_CAUSE]);
	if (h->answered)
		series_set(ts->extra[X_ANSWER], h->answer_s);
	else
		series_unset(ts->extra[X_ANSWER]);
}

const struct probe_type probe_type_h323 = {
	.name = "h323",
	.target_port = NP_PORT_REQUIRED,
	.default_port = h323_default_port,
	.opts = h323_opt_defs,
	.nopts = NP_NELEM(h323_opt_defs),
	.opts_size = sizeof(struct h323_opts),
	.opts_default = h323_opts_default,
	.check = h323_check,
	.state_size = sizeof(struct h323_run),
	.nextra = X_NUM,
	.start = h323_start,
	.finish = h323_finish,
	.attach = h323_attach,
	.record = h323_record,
	.success_word = "answered",
};
