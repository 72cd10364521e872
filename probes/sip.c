/*
 * sip: one SIP OPTIONS transaction against an MCU or SIP server, over
 * UDP or TCP (RFC 3261 §11, non-INVITE client transaction of §17.1.2).
 * The result is the final status code (success when it is one of
 * valid_status_codes) and the time from the first send to that answer.
 *
 * Every run uses a fresh socket and fresh random identifiers (Via branch
 * with the magic cookie, From tag, Call-ID).  An answer counts only when
 * it comes from the target's address and port and carries our branch,
 * Via sent-by, CSeq, Call-ID and From tag; anything else is discarded and
 * counted, so a spoofed or stale answer never passes.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/msg_sip.h"
#include "probes/probe.h"

/* RFC 3261 §17.1.2.2 timers, in milliseconds. */
#define SIP_T1_MS	500
#define SIP_T2_MS	4000

#define SIP_DEFAULT_PORT	5060
#define SIP_URI_MAX		128	/* request_uri, from, to */
#define SIP_UA_MAX		128
#define SIP_REASON_SHOWN	48	/* bytes of reason phrase in details */

enum { SIP_UDP, SIP_TCP };

struct sip_opts {
	uint64_t		 port;
	int			 transport;
	char			*request_uri;
	char			*from;
	char			*to;
	struct np_uintlist	 valid_status_codes;
	char			*user_agent;
};

struct sip_run {
	struct probe_run	*run;
	int			 fd;
	int			 tcp;
	int			 connected;	/* TCP: connect finished */
	int			 proceeding;	/* a 1xx came (§17.1.2.2) */
	struct event		*ev;
	struct event		*timer;		/* Timer E (UDP) */
	uint64_t		 e_ms;
	char			*req;
	size_t			 reqlen, reqoff;
	char			*rbuf;		/* TCP: bytes not yet parsed */
	size_t			 rlen;
	uint64_t		 first_tx_ns;
	/* what the answer must match */
	struct sip_request	 q;
	char			 via_host[NP_ADDRSTRLEN + 2];
	char			 branch[SIP_BRANCH_LEN];
	char			 tag[SIP_TAG_LEN];
	char			 call_id[SIP_CALLID_RAND_LEN +
				    NP_ADDRSTRLEN + 3];
	/* what the run saw; record() reads these after finish() */
	unsigned		 sent;
	unsigned		 retransmissions;
	unsigned		 ignored;
	unsigned		 provisional;
	unsigned		 status;	/* final status, 0: none */
	double			 rtt;
	char			 server[SIP_INFO_MAX + 1];
	char			 user_agent[SIP_INFO_MAX + 1];
	char			 ignored_why[48];
};

static const char *const sip_transports[] = { "udp", "tcp", NULL };

static const struct opt_def sip_opt_defs[] = {
	OPT("port", OPT_UINT, struct sip_opts, port, 1, 65535),
	OPT_CHOICE("transport", struct sip_opts, transport, sip_transports),
	OPT("request_uri", OPT_STRING, struct sip_opts, request_uri, 0,
	    SIP_URI_MAX),
	OPT("from", OPT_STRING, struct sip_opts, from, 0, SIP_URI_MAX),
	OPT("to", OPT_STRING, struct sip_opts, to, 0, SIP_URI_MAX),
	/* only final responses end a transaction (§17.1.2.2) */
	OPT("valid_status_codes", OPT_UINTLIST, struct sip_opts,
	    valid_status_codes, 200, 699),
	OPT("user_agent", OPT_STRING, struct sip_opts, user_agent, 0,
	    SIP_UA_MAX),
};

static void	sip_udp_read(evutil_socket_t, short, void *);
static void	sip_tcp_io(evutil_socket_t, short, void *);
static void	sip_utf8_cut(char *, size_t);

static void
sip_opts_default(void *p)
{
	struct sip_opts	*o = p;

	o->port = SIP_DEFAULT_PORT;
	o->transport = SIP_UDP;
	o->valid_status_codes.v = xcalloc(1, sizeof(uint64_t));
	o->valid_status_codes.v[0] = 200;
	o->valid_status_codes.n = 1;
}

static int
sip_default_port(const void *p)
{
	const struct sip_opts	*o = p;

	return ((int)o->port);
}

/* A `from`/`to` value: a whole sip: URI, or a user part. */
static const char *
sip_check_party(const char *v)
{
	if (strncasecmp(v, "sip:", 4) == 0 || strncasecmp(v, "sips:", 5) == 0)
		return (sip_uri_check(v));
	return (sip_user_check(v));
}

static const char *
sip_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct sip_opts	*o = cfg->opts;
	const char		*why;

	if (o->request_uri != NULL &&
	    (why = sip_uri_check(o->request_uri)) != NULL) {
		snprintf(buf, len, "invalid request_uri \"%s\": %s",
		    o->request_uri, why);
		*key = "request_uri";
		return (buf);
	}
	if (o->from != NULL && (why = sip_check_party(o->from)) != NULL) {
		snprintf(buf, len, "invalid from \"%s\": %s", o->from, why);
		*key = "from";
		return (buf);
	}
	if (o->to != NULL && (why = sip_check_party(o->to)) != NULL) {
		snprintf(buf, len, "invalid to \"%s\": %s", o->to, why);
		*key = "to";
		return (buf);
	}
	if (o->user_agent != NULL &&
	    (why = sip_text_check(o->user_agent)) != NULL) {
		snprintf(buf, len, "invalid user_agent: %s", why);
		*key = "user_agent";
		return (buf);
	}
	/* labels "server" and "user_agent" (the info metric's) are
	 * reserved by the config loader for every type */
	return (NULL);
}

static void
sip_random_hex(char *out, size_t nhex)
{
	static const char	hex[] = "0123456789abcdef";
	uint8_t			b[32];
	size_t			i;

	arc4random_buf(b, (nhex + 1) / 2);
	for (i = 0; i < nhex; i++)
		out[i] = hex[(b[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[nhex] = '\0';
}

static int
sip_valid_code(const struct sip_opts *o, unsigned code)
{
	size_t	i;

	for (i = 0; i < o->valid_status_codes.n; i++)
		if (o->valid_status_codes.v[i] == code)
			return (1);
	return (0);
}

/* End the run on a socket error. */
static void
sip_fail_errno(struct sip_run *r, const char *what, int err)
{
	struct probe_run	*run = r->run;

	snprintf(run->obs.detail, sizeof(run->obs.detail), "%s: %s%s", what,
	    strerror(err), err == ECONNREFUSED && !r->tcp ?
	    " (ICMP port unreachable)" : "");
	probe_log(run, "%s", run->obs.detail);
	probe_done(run, probe_errno_result(err));
}

/*
 * Our address and port as the peer sees them (getsockname after
 * connect), then the request built for them.  0, or -1 with the run
 * ended.
 */
static int
sip_prepare(struct sip_run *r)
{
	struct probe_run	*run = r->run;
	const struct sip_opts	*o = run->cfg->opts;
	const char		*target = run->cfg->targets[run->target];
	struct np_addr		 local;
	char			 host[NP_ADDRSTRLEN], ruri[SIP_URI_MAX + 8];
	char			 from[2 * SIP_URI_MAX], to[2 * SIP_URI_MAX];
	char			 contact[2 * SIP_URI_MAX], ua[SIP_UA_MAX + 1];
	char			 buf[2048];
	const char		*user = "netprobed", *p, *nl;
	size_t			 len;

	memset(&local, 0, sizeof(local));
	local.len = sizeof(local.ss);
	if (getsockname(r->fd, (struct sockaddr *)&local.ss, &local.len) ==
	    -1) {
		sip_fail_errno(r, "getsockname", errno);
		return (-1);
	}
	format_addr(&local, 0, host, sizeof(host));
	snprintf(r->via_host, sizeof(r->via_host),
	    local.ss.ss_family == AF_INET6 ? "[%s]" : "%s", host);
	r->q.via_host = r->via_host;
	r->q.via_port = (unsigned)addr_port(&local);
	snprintf(r->call_id + strlen(r->call_id), sizeof(r->call_id) -
	    strlen(r->call_id), "@%s", r->via_host);

	/* §19.1.1: sip:[user@]host[:port]; defaults name the target */
	if (o->request_uri != NULL)
		snprintf(ruri, sizeof(ruri), "%s", o->request_uri);
	else
		snprintf(ruri, sizeof(ruri), "sip:%s", target);
	if (o->from == NULL)
		snprintf(from, sizeof(from), "sip:%s@%s", user, r->via_host);
	else if (strncasecmp(o->from, "sip:", 4) == 0)
		snprintf(from, sizeof(from), "%s", o->from);
	else {
		user = o->from;
		snprintf(from, sizeof(from), "sip:%s@%s", user, r->via_host);
	}
	if (o->to == NULL)
		snprintf(to, sizeof(to), "%s", ruri);
	else if (strncasecmp(o->to, "sip:", 4) == 0)
		snprintf(to, sizeof(to), "%s", o->to);
	else
		snprintf(to, sizeof(to), "sip:%s@%s", o->to, target);
	snprintf(contact, sizeof(contact), "sip:%s@%s:%u;transport=%s", user,
	    r->via_host, r->q.via_port, r->tcp ? "tcp" : "udp");
	snprintf(ua, sizeof(ua), "%s", o->user_agent != NULL ?
	    o->user_agent : "netprobed/" PACKAGE_VERSION);

	r->q.request_uri = ruri;
	r->q.from_uri = from;
	r->q.to_uri = to;
	r->q.contact_uri = contact;
	r->q.user_agent = ua;
	len = sip_options_build(buf, sizeof(buf), &r->q);
	/* only the matching fields stay: the rest lives on this stack */
	r->q.request_uri = r->q.from_uri = r->q.to_uri = NULL;
	r->q.contact_uri = r->q.user_agent = NULL;
	if (len == 0) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "cannot build the OPTIONS request");
		probe_done(run, PR_ERROR);
		return (-1);
	}
	/* §18.1.1: larger requests belong on TCP */
	if (!r->tcp && len > SIP_UDP_MAX_REQUEST) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "request of %zu bytes is too large for UDP", len);
		probe_done(run, PR_ERROR);
		return (-1);
	}
	r->req = xmalloc(len);
	memcpy(r->req, buf, len);
	r->reqlen = len;
	for (p = buf; run->debug != NULL && p < buf + len; p = nl + 2) {
		if ((nl = strstr(p, "\r\n")) == NULL || nl == p)
			break;
		probe_log(run, "> %.*s", (int)(nl - p), p);
	}
	return (0);
}

/* One (re)transmission over UDP; 0, or -1 with the run ended. */
static int
sip_udp_send(struct sip_run *r)
{
	/* the clock before the send: an answer can be read before a busy
	 * machine returns from send() */
	uint64_t	t = now_mono_ns();

	if (send(r->fd, r->req, r->reqlen, 0) == -1) {
		sip_fail_errno(r, "send", errno);
		return (-1);
	}
	if (r->sent++ == 0)
		r->first_tx_ns = t;
	r->run->obs.sent = r->sent;
	probe_log(r->run, "sent OPTIONS over UDP (%zu bytes), request %u, "
	    "branch %s", r->reqlen, r->sent, r->branch);
	return (0);
}

static void
sip_timer_arm(struct sip_run *r)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(r->e_ms / 1000);
	tv.tv_usec = (suseconds_t)(r->e_ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

/* Timer E (§17.1.2.2): resend, then double up to T2; T2 once a 1xx came. */
static void
sip_timer_e(evutil_socket_t fd, short ev, void *arg)
{
	struct sip_run	*r = arg;

	r->retransmissions++;
	probe_log(r->run, "no final response after %llums: retransmission %u",
	    (unsigned long long)r->e_ms, r->retransmissions);
	if (sip_udp_send(r) == -1)
		return;
	r->e_ms = r->proceeding ? SIP_T2_MS : r->e_ms * 2 < SIP_T2_MS ?
	    r->e_ms * 2 : SIP_T2_MS;
	sip_timer_arm(r);
}

static void
sip_ignore(struct sip_run *r, const char *why)
{
	r->ignored++;
	snprintf(r->ignored_why, sizeof(r->ignored_why), "%s", why);
	probe_log(r->run, "ignored an answer: %s", why);
}

/*
 * A whole, well-formed response.  Returns 1 when it ended the run (a
 * final answer to our request), 0 otherwise.
 */
static int
sip_response(struct sip_run *r, const struct sip_response *resp)
{
	struct probe_run	*run = r->run;
	const struct sip_opts	*o = run->cfg->opts;
	struct sip_str		 s;
	enum sip_mismatch	 m;
	char			 reason[SIP_INFO_MAX + 1];

	if ((m = sip_response_match(resp, &r->q)) != SIP_M_OK) {
		sip_ignore(r, sip_mismatch_str(m));
		return (0);
	}
	sip_info_sanitize(reason, &resp->reason);
	sip_utf8_cut(reason, SIP_REASON_SHOWN);
	if (resp->code < 200) {
		/* §17.1.2.2: Proceeding; only a final response ends it */
		r->provisional++;
		r->proceeding = 1;
		probe_log(run, "got %u %s: provisional, waiting for the final "
		    "response", resp->code, reason);
		return (0);
	}
	r->status = resp->code;
	r->rtt = (double)(now_mono_ns() - r->first_tx_ns) / 1e9;
	sip_info_sanitize(r->server, &resp->server);
	sip_info_sanitize(r->user_agent, &resp->user_agent);
	run->obs.received = 1;
	run->obs.rtt[0] = r->rtt;
	run->obs.nrtt = 1;
	s = resp->server.len ? resp->server : resp->user_agent;
	probe_log(run, "got %u %s after %.3fms%s%s", resp->code, reason,
	    r->rtt * 1e3, s.len ? " from " : "", resp->server.len ?
	    r->server : r->user_agent);
	if (sip_valid_code(o, resp->code)) {
		snprintf(run->obs.detail, sizeof(run->obs.detail), "%u %.48s",
		    resp->code, reason);
		probe_done(run, PR_SUCCESS);
	} else {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "%u %.48s (not a valid status code)", resp->code, reason);
		probe_done(run, PR_BAD_RESPONSE);
	}
	return (1);
}

/* Cut text to at most max bytes, not inside a UTF-8 sequence. */
static void
sip_utf8_cut(char *s, size_t max)
{
	if (strlen(s) <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	s[max] = '\0';
}

static void
sip_udp_read(evutil_socket_t fd, short ev, void *arg)
{
	/* one datagram at a time, parsed before the next read */
	static char		 buf[SIP_MAX_MSG];
	struct sip_run		*r = arg;
	struct sip_response	 resp;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	enum sip_err		 e;
	ssize_t			 n;
	int			 budget;

	/* bounded, so a flood cannot hold the loop */
	for (budget = 0; budget < 64; budget++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			sip_fail_errno(r, "receive", errno);
			return;
		}
		if (!addr_match(r->run->addr, &from, 1)) {
			sip_ignore(r, "answer from another address");
			continue;
		}
		if ((size_t)n > sizeof(buf)) {
			sip_ignore(r, sip_strerror(SIP_E_TOO_BIG));
			continue;
		}
		if ((e = sip_response_parse(buf, (size_t)n, 0, &resp)) !=
		    SIP_OK) {
			sip_ignore(r, sip_strerror(e));
			continue;
		}
		if (sip_response(r, &resp))
			return;
	}
}

static void
sip_tcp_sent(struct sip_run *r)
{
	r->sent = 1;
	r->run->obs.sent = 1;
	r->first_tx_ns = now_mono_ns();
	probe_log(r->run, "sent OPTIONS over TCP (%zu bytes), branch %s",
	    r->reqlen, r->branch);
	/* from now on we only read */
	event_free(r->ev);
	r->ev = event_new(r->run->base, r->fd, EV_READ | EV_PERSIST,
	    sip_tcp_io, r);
	if (r->ev == NULL || event_add(r->ev, NULL) == -1)
		fatalx("sip: cannot add event");
	r->rbuf = xmalloc(SIP_MAX_MSG);
}

/* Parse what the TCP stream has so far; returns 1 when the run ended. */
static int
sip_tcp_parse(struct sip_run *r)
{
	struct probe_run	*run = r->run;
	struct sip_response	 resp;
	enum sip_err		 e;

	while (r->rlen > 0) {
		e = sip_response_parse(r->rbuf, r->rlen, 1, &resp);
		if (e == SIP_E_INCOMPLETE && r->rlen < SIP_MAX_MSG)
			return (0);
		if (e == SIP_E_INCOMPLETE)
			e = SIP_E_TOO_BIG;
		if (e != SIP_OK) {
			/* the stream cannot be framed past this point */
			snprintf(run->obs.detail, sizeof(run->obs.detail),
			    "malformed response: %s", sip_strerror(e));
			probe_log(run, "%s", run->obs.detail);
			probe_done(run, PR_BAD_RESPONSE);
			return (1);
		}
		if (sip_response(r, &resp))
			return (1);
		memmove(r->rbuf, r->rbuf + resp.msg_len, r->rlen -
		    resp.msg_len);
		r->rlen -= resp.msg_len;
	}
	return (0);
}

static void
sip_tcp_io(evutil_socket_t fd, short ev, void *arg)
{
	struct sip_run		*r = arg;
	struct probe_run	*run = r->run;
	int			 err = 0;
	socklen_t		 elen = sizeof(err);
	ssize_t			 n;

	if (!r->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err != 0) {
			sip_fail_errno(r, "connect", err);
			return;
		}
		r->connected = 1;
		run->obs.connected = 1;
		probe_log(run, "connected");
		if (sip_prepare(r) == -1)
			return;
	}
	if (r->reqoff < r->reqlen) {
		n = send(fd, r->req + r->reqoff, r->reqlen - r->reqoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				sip_fail_errno(r, "send", errno);
			return;
		}
		r->reqoff += (size_t)n;
		if (r->reqoff == r->reqlen)
			sip_tcp_sent(r);
		return;
	}
	n = recv(fd, r->rbuf + r->rlen, SIP_MAX_MSG - r->rlen, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "receive: %s", strerror(errno));
		probe_log(run, "%s", run->obs.detail);
		probe_done(run, PR_BAD_RESPONSE);
		return;
	}
	if (n == 0) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    r->rlen ? "connection closed inside a response" :
		    "connection closed without a final response");
		probe_log(run, "%s", run->obs.detail);
		probe_done(run, PR_BAD_RESPONSE);
		return;
	}
	probe_log(run, "received %zd bytes", n);
	r->rlen += (size_t)n;
	sip_tcp_parse(r);
}

static void
sip_start(struct probe_run *run)
{
	struct sip_run		*r = run->state;
	const struct sip_opts	*o = run->cfg->opts;
	const struct np_addr	*a = run->addr;

	r->fd = -1;
	r->run = run;
	r->tcp = o->transport == SIP_TCP;
	/* §8.1.1.7: the magic cookie, then 96 random bits */
	memcpy(r->branch, SIP_MAGIC_COOKIE, sizeof(SIP_MAGIC_COOKIE) - 1);
	sip_random_hex(r->branch + sizeof(SIP_MAGIC_COOKIE) - 1,
	    SIP_BRANCH_LEN - sizeof(SIP_MAGIC_COOKIE));
	sip_random_hex(r->tag, SIP_TAG_LEN - 1);
	sip_random_hex(r->call_id, SIP_CALLID_RAND_LEN - 1);
	r->q.tcp = r->tcp;
	r->q.branch = r->branch;
	r->q.from_tag = r->tag;
	r->q.call_id = r->call_id;
	r->q.cseq = 1;

	if ((r->fd = probe_socket(run, a->ss.ss_family, r->tcp ? SOCK_STREAM :
	    SOCK_DGRAM, 0)) == -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	probe_log(run, "%s to %s", r->tcp ? "TCP connect" : "UDP",
	    run->cfg->targets[run->target]);
	if (connect(r->fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		if (!r->tcp || errno != EINPROGRESS) {
			sip_fail_errno(r, "connect", errno);
			return;
		}
	} else if (r->tcp)
		r->connected = run->obs.connected = 1;

	if (r->tcp) {
		r->ev = event_new(run->base, r->fd, EV_WRITE | EV_PERSIST,
		    sip_tcp_io, r);
		if (r->ev == NULL || event_add(r->ev, NULL) == -1)
			fatalx("sip: cannot add event");
		if (r->connected && sip_prepare(r) == -1)
			return;
		return;
	}
	if (sip_prepare(r) == -1)
		return;
	r->ev = event_new(run->base, r->fd, EV_READ | EV_PERSIST,
	    sip_udp_read, r);
	r->timer = evtimer_new(run->base, sip_timer_e, r);
	if (r->ev == NULL || r->timer == NULL || event_add(r->ev, NULL) == -1)
		fatalx("sip: cannot add event");
	if (sip_udp_send(r) == -1)
		return;
	r->e_ms = SIP_T1_MS;
	sip_timer_arm(r);
}

static void
sip_finish(struct probe_run *run, int timed_out)
{
	struct sip_run	*r = run->state;
	char		 to[32];

	if (r->ev != NULL) {
		event_free(r->ev);
		r->ev = NULL;
	}
	if (r->timer != NULL) {
		event_free(r->timer);
		r->timer = NULL;
	}
	if (r->fd >= 0) {
		/*
		 * A plain close (FIN), unlike tcp.c's reset: a SIP server
		 * logs every reset as an error (kamailio does), and the MCU's
		 * operators should not see one per probe run.  The price is
		 * one TIME_WAIT socket per TCP run on our side.
		 */
		close(r->fd);
		r->fd = -1;
	}
	free(r->req);
	r->req = NULL;
	free(r->rbuf);
	r->rbuf = NULL;
	if (!timed_out)
		return;
	format_duration_ms(run->cfg->timeout_ms, to, sizeof(to));
	if (r->ignored > 0) {
		/* answers came, but none of them was ours */
		run->obs.result = PR_BAD_RESPONSE;
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "no matching answer: %s (%u ignored)", r->ignored_why,
		    r->ignored);
	} else if (r->tcp && !r->connected)
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "connect: no answer within %s", to);
	else if (r->provisional > 0)
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "no final response within %s (%u provisional)", to,
		    r->provisional);
	else if (r->tcp)
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "no response within %s", to);
	else
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "no response within %s (%u request%s sent)", to, r->sent,
		    r->sent == 1 ? "" : "s");
}

/* ---- series -------------------------------------------------------- */

enum { X_STATUS, X_RTT, X_RETRANS, X_IGNORED, X_INFO, X_NUM };

static struct family *
sip_info_family(struct store *st)
{
	return (store_family(st, "netprobe_sip_server_info", "The Server "
	    "and User-Agent headers of the last final SIP response (empty "
	    "when absent); always 1.", METRIC_GAUGE, NULL, 0));
}

static void
sip_attach(struct target_state *ts)
{
	struct store	*st = ts->store;

	ts->extra[X_STATUS] = target_series(ts, store_family(st,
	    "netprobe_sip_status_code", "Status code of the last final SIP "
	    "response to OPTIONS.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_RTT] = target_series(ts, store_family(st,
	    "netprobe_sip_rtt_seconds", "Time from the first send of the "
	    "OPTIONS request to its final response in the last run, in "
	    "seconds.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_RETRANS] = target_series(ts, store_family(st,
	    "netprobe_sip_retransmissions_total", "OPTIONS requests sent "
	    "again over UDP on timer E (RFC 3261 17.1.2.2).", METRIC_COUNTER,
	    NULL, 0), NULL);
	ts->extra[X_IGNORED] = target_series(ts, store_family(st,
	    "netprobe_sip_ignored_responses_total", "Answers discarded: "
	    "malformed, from another address, or not matching our request.",
	    METRIC_COUNTER, NULL, 0), NULL);
	sip_info_family(st);
}

static void
sip_record(struct target_state *ts, const struct probe_run *run)
{
	const struct sip_run	*r = run->state;
	struct series		*s;

	series_add(ts->extra[X_RETRANS], r->retransmissions);
	series_add(ts->extra[X_IGNORED], r->ignored);
	if (r->status == 0) {
		series_unset(ts->extra[X_STATUS]);
		series_unset(ts->extra[X_RTT]);
		if (ts->extra[X_INFO] != NULL)
			series_unset(ts->extra[X_INFO]);
		return;
	}
	series_set(ts->extra[X_STATUS], r->status);
	series_set(ts->extra[X_RTT], r->rtt);
	/* a new value is a new series: the old one goes */
	s = target_series(ts, sip_info_family(ts->store), "server", r->server,
	    "user_agent", r->user_agent, NULL);
	if (s != ts->extra[X_INFO]) {
		store_release(ts->store, ts->extra[X_INFO]);
		ts->extra[X_INFO] = s;
	}
	series_set(s, 1);
}

const struct probe_type probe_type_sip = {
	.name = "sip",
	.target_port = NP_PORT_REQUIRED,
	.default_port = sip_default_port,
	.opts = sip_opt_defs,
	.nopts = NP_NELEM(sip_opt_defs),
	.opts_size = sizeof(struct sip_opts),
	.opts_default = sip_opts_default,
	.check = sip_check,
	.state_size = sizeof(struct sip_run),
	.nextra = X_NUM,
	.start = sip_start,
	.finish = sip_finish,
	.attach = sip_attach,
	.record = sip_record,
	.success_word = "answered",
};
