/*
 * HTTP endpoints on libevent's evhttp: /metrics (Prometheus text format
 * 0.0.4), /healthz, /status (JSON), /probe and the status page at /.
 * GET and HEAD only.
 *
 * The listener runs for years on a gateway that the extranet can reach,
 * so a client gets a bounded share of it (fixed, no config keys):
 *
 *   HTTP_MAX_HEADERS  8 KiB   request line and headers; more: libevent
 *                             answers 400 and closes (header_too_large)
 *   HTTP_MAX_URI      2 KiB   the request target; more: 414 (uri_too_long)
 *   HTTP_MAX_BODY     1 KiB   GET and HEAD have none; a POST's small body
 *                             is read to answer 405 cleanly, a larger
 *                             one gets libevent's 413
 *   methods           GET, HEAD; others 405 with Allow (method)
 *   HTTP_IDLE_TIMEOUT 10 s    no progress on a read or write: libevent
 *                             closes the connection (idle keep-alive too)
 *   HTTP_REQ_TIMEOUT  10 s    a whole request must arrive within this of
 *                             the connection being ready for it, however
 *                             slowly it trickles in (slowloris; timeout)
 *   HTTP_MAX_CONNS    256     connections at once; more are closed at
 *                             once with a best-effort 503
 *                             (too_many_connections)
 *   METRICS_CHUNK     128 KiB /metrics is rendered a piece at a time, the
 *                             next when the last is written: the loop
 *                             probes on between pieces, and a slow
 *                             scraper holds one piece (a stalled one is
 *                             dropped by HTTP_IDLE_TIMEOUT)
 *   METRICS_GZIP_MAX  4       /metrics answers gzip-compressed at once
 *                             (zlib level 1: ~20x smaller for ~4 ms of
 *                             CPU per MB) to scrapers that accept it, as
 *                             Prometheus does; more get identity
 *
 * With a web configuration file (webconfig.h) the listener speaks TLS
 * and every path asks for basic authentication: 401 (unauthorized) with
 * no or wrong credentials, 503 (auth_busy) while AUTH_MAX_PENDING
 * password checks run; a failed TLS handshake is counted (tls).
 *
 * Every refusal is counted in netprobe_http_rejected_total{reason}.
 * libevent 2.1 has no connection cap nor a hook per connection, so each
 * accepted connection is adopted right after evhttp made it (its
 * bufferevent comes from us: bev_cb, then adopt_cb in the same loop
 * pass) and left through its close callback.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/keyvalq_struct.h>

#include "daemon/daemon.h"
#include "daemon/statuspage.h"
#include "daemon/watcher.h"
#include "daemon/audit.h"
#include "probes/isolation.h"
#include "daemon/sweep.h"
#include "daemon/webconfig.h"

#include <openssl/ssl.h>

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_URI		2048
#define HTTP_MAX_BODY		1024
#define HTTP_IDLE_TIMEOUT	10
#define HTTP_REQ_TIMEOUT	10
#define HTTP_MAX_CONNS		256
#define METRICS_CHUNK		(128 * 1024)	/* a piece of /metrics */
#define METRICS_GZIP_MAX	4	/* gzip answers at once (~300 KiB each) */

enum { REJ_HEADER, REJ_URI, REJ_METHOD, REJ_CONNS, REJ_TIMEOUT,
    REJ_UNAUTHORIZED, REJ_AUTH_BUSY, REJ_TLS, REJ_ACCEPT, REJ_N };

typedef void (*handler_fn)(struct evhttp_request *, void *);

/*
 * A /metrics reply going out in pieces of METRICS_CHUNK bytes: the next
 * is rendered when the last has been written, so the loop keeps probing
 * between pieces and a slow scraper holds one piece, not the whole text.
 */
struct mstream {
	struct evhttp_request	*req;
	struct store_cursor	*cur;
	struct hconn		*hc;
	struct np_daemon	*d;
	z_stream		*z;	/* gzip, when the scraper takes it */
};
static unsigned	ngzip;		/* mstreams with z */

/* One client connection while it is open. */
struct hconn {
	struct evhttp_connection	*evcon;
	struct event			*deadline;	/* HTTP_REQ_TIMEOUT */
	struct probe_req		*probe;		/* its /probe, if any */
	struct mstream			*ms;		/* its /metrics, if any */
	/* a request waiting for its password check, and its handler */
	struct auth_job			*auth;
	struct evhttp_request		*auth_req, *authed;
	handler_fn			 auth_handler;
	struct np_daemon		*d;
	int				 nreq;	/* requests seen */
	struct evbuffer_cb_entry	*rxcb;
	size_t				 rx;	/* bytes since the last request */
	unsigned long long		 seq;	/* order of arrival */
};

/* A bufferevent handed to evhttp, not yet adopted. */
struct fresh {
	struct bufferevent	*bev;
	struct fresh		*next;
};

/* There is one listener per process (http_start replaces it). */
static struct {
	struct hconn	*conns[HTTP_MAX_CONNS];
	size_t		 nconns;
	struct fresh	*fresh;
	struct event	*adopt;
	struct series	*rejected[REJ_N];
	struct series	*auth_inflight;
	unsigned long long seq;
	/* accept() failing (no descriptor left): paused, not spinning */
	struct evconnlistener *listener;
	struct event	*accept_retry;
	uint64_t	 accept_errors, accept_logged_ms;
} lim;

static void	probe_cb(struct evhttp_request *, void *);
static void	probe_req_closed(struct probe_req *);
static void	mstream_closed(struct mstream *);

static void
reject_count(int reason)
{
	if (lim.rejected[reason] != NULL)
		series_add(lim.rejected[reason], 1);
}

static struct hconn *
hconn_find(struct evhttp_connection *evcon)
{
	size_t	i;

	for (i = 0; evcon != NULL && i < lim.nconns; i++)
		if (lim.conns[i]->evcon == evcon)
			return (lim.conns[i]);
	return (NULL);
}

/* evhttp frees the connection: forget it (and its /probe's client). */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct hconn	*hc = arg;
	size_t		 i;

	for (i = 0; i < lim.nconns; i++)
		if (lim.conns[i] == hc)
			break;
	if (i == lim.nconns || hc->evcon != evcon)
		return;
	lim.conns[i] = lim.conns[--lim.nconns];
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	/*
	 * More than the header cap received and no request made of it:
	 * libevent refused it (its 400/413), or the client gave up on it.
	 */
	if (hc->rx > HTTP_MAX_HEADERS)
		reject_count(REJ_HEADER);
	/* a TLS connection that ended in a TLS error (a handshake, mostly) */
	if (hc->nreq == 0 && bufferevent_openssl_get_ssl(
	    evhttp_connection_get_bufferevent(evcon)) != NULL &&
	    bufferevent_get_openssl_error(
	    evhttp_connection_get_bufferevent(evcon)) != 0)
		reject_count(REJ_TLS);
	auth_cancel(hc->auth);
	evbuffer_remove_cb_entry(bufferevent_get_input(
	    evhttp_connection_get_bufferevent(evcon)), hc->rxcb);
	if (hc->probe != NULL)
		probe_req_closed(hc->probe);
	if (hc->ms != NULL)
		mstream_closed(hc->ms);
	event_free(hc->deadline);
	free(hc);
}

/* The request did not arrive whole in time: drop the connection. */
static void
deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct hconn	*hc = arg;

	reject_count(REJ_TIMEOUT);
	evhttp_connection_free(hc->evcon);	/* conn_closed frees hc */
}

static void
deadline_arm(struct hconn *hc)
{
	struct timeval	tv = { HTTP_REQ_TIMEOUT, 0 };

	evtimer_add(hc->deadline, &tv);
}

/* A reply went out: the next request on the connection has its time. */
static void
reply_done_cb(struct evhttp_request *req, void *arg)
{
	struct hconn	*hc = arg;

	if (hconn_find(hc->evcon) == hc) {
		hc->rx = 0;
		deadline_arm(hc);
	}
}

/* Bytes read on the connection (drains are not counted). */
static void
rx_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct hconn	*hc = arg;

	hc->rx += info->n_added;
}

/*
 * At the cap, the connection that has waited longest without a request
 * in progress gives way (so idle clients cannot lock out the scraper);
 * NULL if every one is busy with a request.
 */
static struct hconn *
hconn_victim(void)
{
	struct hconn	*hc, *v = NULL;
	size_t		 i;

	for (i = 0; i < lim.nconns; i++) {
		hc = lim.conns[i];
		if (hc->probe == NULL && evtimer_pending(hc->deadline, NULL) &&
		    (v == NULL || hc->seq < v->seq))
			v = hc;
	}
	return (v);
}

/* evhttp wants a bufferevent for a new connection (fd set later). */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct np_daemon	*d = arg;
	struct bufferevent	*bev;
	struct fresh		*f;
	SSL			*ssl;

	if (d->conf->web != NULL && d->conf->web->tls != NULL) {
		/* the context of the config in force when it connected */
		if ((ssl = SSL_new(d->conf->web->tls)) == NULL)
			return (NULL);
		if ((bev = bufferevent_openssl_socket_new(base, -1, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) ==
		    NULL) {
			SSL_free(ssl);
			return (NULL);
		}
		/* a scraper that just closes is not an error */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else if ((bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return (NULL);
	/* our reference keeps it readable until adopt_cb */
	bufferevent_incref(bev);
	f = xcalloc(1, sizeof(*f));
	f->bev = bev;
	f->next = lim.fresh;
	lim.fresh = f;
	event_active(lim.adopt, EV_TIMEOUT, 0);
	return (bev);
}

/*
 * After evhttp made the connections just accepted (same loop pass, before
 * any of them is read): count them, refuse those over the cap, start
 * their request deadline.  A bufferevent whose evhttp connection is
 * already gone has had its callbacks cleared.
 */
static void
adopt_cb(evutil_socket_t fd, short ev, void *arg)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n";
	struct np_daemon		*d = arg;
	struct fresh			*f;
	struct evhttp_connection	*evcon;
	struct hconn			*hc, *victim;
	void				*cbarg;

	while ((f = lim.fresh) != NULL) {
		lim.fresh = f->next;
		cbarg = NULL;
		bufferevent_getcb(f->bev, NULL, NULL, NULL, &cbarg);
		evcon = cbarg;
		if (evcon != NULL && lim.nconns >= HTTP_MAX_CONNS &&
		    (victim = hconn_victim()) != NULL) {
			reject_count(REJ_CONNS);
			evhttp_connection_free(victim->evcon);
		}
		if (evcon != NULL && lim.nconns >= HTTP_MAX_CONNS) {
			reject_count(REJ_CONNS);
			/* (in clear text only: no handshake for a refusal) */
			if (bufferevent_openssl_get_ssl(f->bev) == NULL)
				(void)send(bufferevent_getfd(f->bev), busy,
				    sizeof(busy) - 1, MSG_DONTWAIT |
				    MSG_NOSIGNAL);
			evhttp_connection_free(evcon);
		} else if (evcon != NULL) {
			hc = xcalloc(1, sizeof(*hc));
			hc->evcon = evcon;
			hc->d = d;
			hc->seq = ++lim.seq;
			hc->rxcb = evbuffer_add_cb(bufferevent_get_input(
			    f->bev), rx_cb, hc);
			hc->deadline = evtimer_new(d->base, deadline_cb, hc);
			if (hc->deadline == NULL)
				fatalx("out of memory (event)");
			lim.conns[lim.nconns++] = hc;
			evhttp_connection_set_closecb(evcon, conn_closed, hc);
			deadline_arm(hc);
		}
		bufferevent_decref(f->bev);
		free(f);
	}
}

/* A short text answer to a refused request. */
static void
refuse(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, code, reason);
		return;
	}
	evbuffer_add_printf(b, "%d %s\n", code, reason);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* RFC 7235 3.1, RFC 7617 2.1 */
static void
unauthorized(struct evhttp_request *req)
{
	reject_count(REJ_UNAUTHORIZED);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "WWW-Authenticate", "Basic realm=\"netprobed\", charset=\"UTF-8\"");
	refuse(req, 401, "Unauthorized");
}

/* The worker has compared the password of hc's waiting request. */
static void
auth_done(void *arg, int ok)
{
	struct hconn		*hc = arg;
	struct evhttp_request	*req = hc->auth_req;

	hc->auth = NULL;
	hc->auth_req = NULL;
	if (!ok) {
		unauthorized(req);
		return;
	}
	hc->authed = req;
	hc->auth_handler(req, hc->d);
}

/*
 * Basic authentication, when the web configuration has users.  1: go
 * on; 0: answered, or waiting for the worker (handler runs again then).
 */
static int
authenticate(struct np_daemon *d, struct hconn *hc,
    struct evhttp_request *req, handler_fn handler)
{
	const struct web_config	*wc = d->conf->web;
	struct auth_job		*job;

	if (wc == NULL || wc->nusers == 0)
		return (1);
	if (hc != NULL && hc->authed == req) {
		hc->authed = NULL;
		return (1);
	}
	switch (auth_check(d->base, wc, evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization"),
	    auth_done, hc, &job)) {
	case AUTH_OK:
		return (1);
	case AUTH_PENDING:
		if (hc != NULL) {
			hc->auth = job;
			hc->auth_req = req;
			hc->auth_handler = handler;
			return (0);
		}
		auth_cancel(job);	/* not ours: cannot wait for it */
		/* FALLTHROUGH */
	case AUTH_BUSY:
		reject_count(REJ_AUTH_BUSY);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Retry-After", "1");
		refuse(req, HTTP_SERVUNAVAIL, "Service Unavailable");
		return (0);
	default:
		unauthorized(req);
		return (0);
	}
}

/*
 * Every request passes here first: its connection's deadline stops (the
 * request is whole) until the reply is sent; wrong methods and long URIs
 * are refused, then credentials checked.  0: answered already (or soon,
 * by handler once the password is checked).
 */
static int
admit(struct np_daemon *d, struct evhttp_request *req, handler_fn handler)
{
	struct hconn	*hc;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	hc = hconn_find(evhttp_request_get_connection(req));
	if (hc != NULL && hc->authed != req) {
		evtimer_del(hc->deadline);
		hc->rx = 0;
		hc->nreq++;
		evhttp_request_set_on_complete_cb(req, reply_done_cb, hc);
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		reject_count(REJ_METHOD);
		/* RFC 9110 15.5.6: a 405 lists the allowed methods */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		refuse(req, HTTP_BADMETHOD, "Method Not Allowed");
		return (0);
	}
	/* RFC 9110 15.5.15 */
	if (strlen(evhttp_request_get_uri(req)) > HTTP_MAX_URI) {
		reject_count(REJ_URI);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		refuse(req, 414, "URI Too Long");
		return (0);
	}
	return (authenticate(d, hc, req, handler));
}

/* Paths without a handler: libevent's 404, after the checks. */
static void
notfound_cb(struct evhttp_request *req, void *arg)
{
	if (admit(arg, req, notfound_cb))
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* Bring the series set at scrape time up to date. */
static void
metrics_update(struct np_daemon *d)
{
	if (d->probe_inflight == NULL)
		d->probe_inflight = store_series(d->store, store_family(
		    d->store, "netprobe_probe_requests_in_flight",
		    "/probe requests running now (at most 32).", METRIC_GAUGE,
		    NULL, 0), NULL, NULL);
	series_set(d->probe_inflight, (double)d->nprobe_reqs);
	if (d->conf->web != NULL && d->conf->web->nusers > 0) {
		if (lim.auth_inflight == NULL)
			lim.auth_inflight = store_series(d->store, store_family(
			    d->store, "netprobe_http_auth_checks_in_flight",
			    "Password checks (bcrypt, on the worker thread) "
			    "queued or running now.", METRIC_GAUGE, NULL, 0),
			    NULL, NULL);
		series_set(lim.auth_inflight, (double)auth_in_flight());
	}
	if (d->conf->audit_path != NULL) {
		if (d->audit_errors == NULL)
			d->audit_errors = store_series(d->store, store_family(
			    d->store, "netprobe_audit_write_errors_total",
			    "Audit trail records that could not be written "
			    "whole (see the log).", METRIC_COUNTER, NULL, 0),
			    NULL, NULL);
		series_set(d->audit_errors, (double)audit_write_errors());
	}
}

void
http_render_metrics(struct np_daemon *d, struct evbuffer *b)
{
	metrics_update(d);
	store_render(d->store, b);
	procstat_render(b, d->start_time);
}

static void
reply_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
}

static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	reply_headers(req, type);
	evhttp_send_reply(req, code, reason, body);
}

static void
mstream_free(struct mstream *ms)
{
	ms->hc->ms = NULL;
	store_render_end(ms->cur);
	if (ms->z != NULL) {
		deflateEnd(ms->z);
		free(ms->z);
		ngzip--;
	}
	free(ms);
}

/*
 * Does Accept-Encoding take gzip (RFC 9110 12.5.3)?  "gzip" or "x-gzip",
 * case-insensitive, with no q or a q above 0.
 */
static int
accepts_gzip(struct evhttp_request *req)
{
	const char	*p, *t, *q;
	size_t		 n;
	int		 zero;

	p = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Accept-Encoding");
	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		t = p;
		n = strcspn(p, " \t;,");
		p += strcspn(p, ",");
		if (!((n == 4 && strncasecmp(t, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(t, "x-gzip", 6) == 0)))
			continue;
		/* its q, if any, before the next item */
		zero = 0;
		for (q = t + n; q < p; q++)
			if ((*q == 'q' || *q == 'Q') && q[1] == '=') {
				q += 2;
				zero = q[0] == '0' && strspn(q + 1, ".0") ==
				    strcspn(q + 1, " \t;,");
				break;
			}
		if (!zero)
			return (1);
	}
	return (0);
}

/* All of in, compressed onto out; flush is Z_SYNC_FLUSH or Z_FINISH. */
static void
gzip_piece(z_stream *z, struct evbuffer *in, struct evbuffer *out, int flush)
{
	struct evbuffer_iovec	v;
	size_t			len = evbuffer_get_length(in);
	int			rc;

	z->next_in = len > 0 ? evbuffer_pullup(in, -1) : NULL;
	z->avail_in = (uInt)len;
	do {
		if (evbuffer_reserve_space(out, 64 * 1024, &v, 1) < 1)
			fatalx("out of memory (evbuffer)");
		z->next_out = v.iov_base;
		z->avail_out = (uInt)v.iov_len;
		rc = deflate(z, flush);
		v.iov_len -= z->avail_out;
		evbuffer_commit_space(out, &v, 1);
	} while (rc == Z_OK && (flush == Z_FINISH || z->avail_out == 0));
	evbuffer_drain(in, len);
}

static void	metrics_written(struct evhttp_connection *, void *);

/* The next piece, or the last with the process metrics and the end. */
static void
metrics_next(struct mstream *ms)
{
	struct evhttp_request	*req = ms->req;
	struct evbuffer		*b, *raw;
	int			 more;

	if ((b = evbuffer_new()) == NULL || (raw = ms->z != NULL ?
	    evbuffer_new() : b) == NULL)
		fatalx("out of memory (evbuffer)");
	if (!(more = store_render_some(ms->cur, raw, METRICS_CHUNK)))
		procstat_render(raw, ms->d->start_time);
	if (ms->z != NULL) {
		/* a sync flush ends each piece: never empty */
		gzip_piece(ms->z, raw, b, more ? Z_SYNC_FLUSH : Z_FINISH);
		evbuffer_free(raw);
	}
	if (more) {
		/* (never empty: a piece holds one series at least) */
		evhttp_send_reply_chunk_with_cb(req, b, metrics_written, ms);
		evbuffer_free(b);
		return;
	}
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
	mstream_free(ms);
	evhttp_send_reply_end(req);
}

static void
metrics_written(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	metrics_next(arg);
}

/*
 * The connection closes mid-reply (conn_closed).  When the client went
 * away, evhttp has let go of the unfinished request (evhttp.h: a request
 * being sent is the user's until evhttp_send_reply_end), so it is freed
 * here; when evhttp itself is being freed, the request goes with it.
 */
static void
mstream_closed(struct mstream *ms)
{
	struct evhttp_request	*req = ms->req;

	mstream_free(ms);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_send_reply_end(req);
}

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct np_daemon	*d = arg;
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct evbuffer		*b;
	struct mstream		*ms;
	struct hconn		*hc;

	if (!admit(d, req, metrics_cb))
		return;
	hc = hconn_find(evhttp_request_get_connection(req));
	if (hc != NULL && hc->ms == NULL &&
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		metrics_update(d);
		ms = xcalloc(1, sizeof(*ms));
		ms->req = req;
		ms->hc = hc;
		ms->d = d;
		ms->cur = store_render_begin(d->store);
		hc->ms = ms;
		reply_headers(req, PROM_CONTENT_TYPE);
		evhttp_add_header(h, "Vary", "Accept-Encoding");
		if (ngzip < METRICS_GZIP_MAX && accepts_gzip(req)) {
			ms->z = xcalloc(1, sizeof(*ms->z));
			/* level 1, with the gzip header (15 + 16) */
			if (deflateInit2(ms->z, 1, Z_DEFLATED, 15 + 16, 8,
			    Z_DEFAULT_STRATEGY) != Z_OK)
				fatalx("deflateInit2 failed");
			ngzip++;
			evhttp_add_header(h, "Content-Encoding", "gzip");
		}
		evhttp_send_reply_start(req, HTTP_OK, "OK");
		metrics_next(ms);
		return;
	}
	/* HEAD (its length is that of the body it does not get) */
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	http_render_metrics(d, b);
	reply(req, HTTP_OK, "OK", PROM_CONTENT_TYPE, b);
	evbuffer_free(b);
}

/* "isolation": every negative probe's verdict and its evidence. */
static void
isolation_status(struct np_daemon *d, struct evbuffer *b)
{
	size_t	i, n = 0;

	evbuffer_add_printf(b, "\"isolation\":[");
	for (i = 0; i < d->nts; i++) {
		const struct target_state	*ts = d->ts[i];

		if (ts->iso == NULL || ts->iso->verdict < 0)
			continue;
		evbuffer_add_printf(b, "%s{\"probe\":", n++ ? "," : "");
		json_str(b, ts->cfg->name);
		evbuffer_add_printf(b, ",\"type\":");
		json_str(b, ts->cfg->type->name);
		evbuffer_add_printf(b, ",\"target\":");
		json_str(b, ts->cfg->targets[ts->target]);
		evbuffer_add_printf(b, ",\"verdict\":");
		json_str(b, iso_verdict_name((enum iso_verdict)ts->iso->verdict));
		evbuffer_add_printf(b, ",\"reason\":");
		json_str(b, ts->iso->reason);
		evbuffer_add_printf(b, ",\"from\":");
		if (ts->iso->from[0] != '\0')
			json_str(b, ts->iso->from);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add_printf(b, ",\"control\":");
		if (ts->cfg->iso.control != NULL)
			json_str(b, ts->cfg->iso.control);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add_printf(b, ",\"since\":");
		json_time(b, ts->iso->since_ms);
		sweep_status(ts, b);
		evbuffer_add(b, "}", 1);
	}
	evbuffer_add(b, "]", 1);
}

/*
 * /status: the state a field engineer or a script wants at once, as
 * JSON: the site, every alert (pending, firing, recently resolved) and
 * every rule group with each rule's health.
 */
static void
status_cb(struct evhttp_request *req, void *arg)
{
	struct np_daemon	*d = arg;
	struct evbuffer		*b;

	if (!admit(d, req, status_cb))
		return;
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(b, "{\"site\":");
	json_str(b, d->conf->site_name);
	evbuffer_add_printf(b, ",\"display_name\":");
	if (d->conf->site_display_name != NULL)
		json_str(b, d->conf->site_display_name);
	else
		evbuffer_add(b, "null", 4);
	evbuffer_add_printf(b, ",\"version\":");
	json_str(b, np_version);
	evbuffer_add(b, ",", 1);
	rules_status(d, b);
	evbuffer_add(b, ",", 1);
	isolation_status(d, b);
	evbuffer_add(b, ",", 1);
	watchers_status(d, b);
	evbuffer_add(b, "}\n", 2);
	reply(req, HTTP_OK, "OK", "application/json; charset=utf-8", b);
	evbuffer_free(b);
}

static void
healthz_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b;

	if (!admit(arg, req, healthz_cb))
		return;
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(b, "ok\n");
	reply(req, HTTP_OK, "OK", "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* /: the status page for the field engineer (statuspage.c). */
static void
page_cb(struct evhttp_request *req, void *arg)
{
	struct np_daemon	*d = arg;
	struct evbuffer		*b;

	if (!admit(d, req, page_cb))
		return;
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	status_page_render(d, b);
	reply(req, HTTP_OK, "OK", "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

static void
accept_resume(evutil_socket_t fd, short ev, void *arg)
{
	if (lim.listener != NULL)
		evconnlistener_enable(lim.listener);
}

/*
 * accept() failed for a reason that will not go away by itself at once
 * (EMFILE, ENFILE, ENOBUFS): the listening socket stays readable, so
 * libevent would call again at once, forever.  Pause the listener for
 * ACCEPT_PAUSE_MS, count it, and log at most once a minute.
 */
#define ACCEPT_PAUSE_MS	250

static void
accept_error(struct evconnlistener *l, void *arg)
{
	int		 err = EVUTIL_SOCKET_ERROR();
	struct timeval	 tv = { 0, ACCEPT_PAUSE_MS * 1000 };
	uint64_t	 now = now_mono_ns() / 1000000;

	reject_count(REJ_ACCEPT);
	lim.accept_errors++;
	if (lim.accept_logged_ms == 0 || now - lim.accept_logged_ms >= 60000) {
		log_warnx("cannot accept HTTP connections: %s (%llu times; "
		    "paused %d ms each time)", evutil_socket_error_to_string(err),
		    (unsigned long long)lim.accept_errors, ACCEPT_PAUSE_MS);
		lim.accept_logged_ms = now;
	}
	evconnlistener_disable(l);
	if (lim.accept_retry != NULL)
		evtimer_add(lim.accept_retry, &tv);
}

int
http_start(struct np_daemon *d, const struct np_addr *listen,
    const struct web_config *web)
{
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	char				 host[NP_ADDRSTRLEN];
	static const char *const reasons[REJ_N] = { "header_too_large",
	    "uri_too_long", "method", "too_many_connections", "timeout",
	    "unauthorized", "auth_busy", "tls", "accept_error" };
	struct family			*f;
	int				 i;

	f = store_family(d->store, "netprobe_http_rejected_total",
	    "Requests and connections the HTTP listener refused or dropped, "
	    "by reason.", METRIC_COUNTER, NULL, 0);
	lim.auth_inflight = NULL;	/* registered at the first render */
	for (i = 0; i < REJ_N; i++)
		lim.rejected[i] = store_series(d->store, f, NULL, "reason",
		    reasons[i], NULL);
	if ((http = evhttp_new(d->base)) == NULL)
		fatalx("evhttp_new failed");
	/* all reach admit(), which answers 405 and counts them */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_timeout(http, HTTP_IDLE_TIMEOUT);
	evhttp_set_max_headers_size(http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(http, HTTP_MAX_BODY);
	if (lim.adopt == NULL &&
	    (lim.adopt = event_new(d->base, -1, 0, adopt_cb, d)) == NULL)
		fatalx("out of memory (event)");
	evhttp_set_bevcb(http, bev_cb, d);
	evhttp_set_gencb(http, notfound_cb, d);
	evhttp_set_cb(http, "/metrics", metrics_cb, d);
	evhttp_set_cb(http, "/healthz", healthz_cb, d);
	evhttp_set_cb(http, "/status", status_cb, d);
	evhttp_set_cb(http, "/probe", probe_cb, d);
	evhttp_set_cb(http, "/", page_cb, d);
	format_addr(listen, 0, host, sizeof(host));
	bound = evhttp_bind_socket_with_handle(http, host,
	    (uint16_t)addr_port(listen));
	if (bound == NULL) {
		log_warn("cannot listen on %s port %d", host,
		    addr_port(listen));
		evhttp_free(http);
		return (-1);
	}
	http_stop(d);
	d->http = http;
	d->bound = bound;
	if (lim.accept_retry == NULL && (lim.accept_retry = evtimer_new(d->base,
	    accept_resume, NULL)) == NULL)
		fatalx("out of memory (event)");
	lim.listener = evhttp_bound_socket_get_listener(bound);
	evconnlistener_set_error_cb(lim.listener, accept_error);
	log_info("listening on %s://%s%s%s:%d/metrics%s",
	    web != NULL && web->tls != NULL ? "https" :
	    "http", listen->ss.ss_family == AF_INET6 ? "[" : "", host,
	    listen->ss.ss_family == AF_INET6 ? "]" : "", addr_port(listen),
	    web != NULL && web->nusers > 0 ?
	    " (basic authentication)" : "");
	return (0);
}

void
http_stop(struct np_daemon *d)
{
	if (d->http != NULL)
		evhttp_free(d->http);
	d->http = NULL;
	d->bound = NULL;
	lim.listener = NULL;
	if (lim.accept_retry != NULL)
		evtimer_del(lim.accept_retry);
}

/*
 * /probe?module=NAME&target=ADDR[&debug=true]: one run of a configured
 * probe (the module, used as a template) against any target, answered
 * with that run's metrics: blackbox_exporter's multi-target pattern, so
 * existing scrape configs keep working.
 */
enum { PQ_OK, PQ_BAD_REQUEST, PQ_BUSY, PQ_ABORTED };

struct probe_req {
	struct np_daemon	*d;
	struct evhttp_request	*req;		/* NULL once the client left */
	struct probe_cfg	 cfg;		/* template with one target */
	char			*target;
	struct np_addr		 addr;
	struct store		*store;
	struct target_state	*ts;
	struct probe_run	*run;
	struct evbuffer		*debug;
	struct probe_req	*next;
};

/* Take the request from pr, no longer watching its connection. */
static struct evhttp_request *
probe_req_detach(struct probe_req *pr)
{
	struct evhttp_request	*req = pr->req;
	struct hconn		*hc;

	if (req != NULL && (hc = hconn_find(
	    evhttp_request_get_connection(req))) != NULL && hc->probe == pr)
		hc->probe = NULL;
	pr->req = NULL;
	return (req);
}

static void
probe_req_free(struct probe_req *pr)
{
	struct probe_req	**pp;

	for (pp = &pr->d->probe_reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			pr->d->nprobe_reqs--;
			break;
		}
	probe_req_detach(pr);
	probe_run_free(pr->run);
	target_state_free(pr->ts);
	store_free(pr->store);
	if (pr->debug != NULL)
		evbuffer_free(pr->debug);
	free(pr->target);
	free(pr);
}

static void
probe_count(struct np_daemon *d, int outcome)
{
	static const char *const names[] = { "ok", "bad_request", "busy",
	    "aborted" };
	struct family	*f;

	if (d->probe_http[outcome] == NULL) {
		f = store_family(d->store, "netprobe_probe_requests_total",
		    "Requests to /probe, by outcome.", METRIC_COUNTER, NULL, 0);
		d->probe_http[outcome] = store_series(d->store, f, NULL,
		    "outcome", names[outcome], NULL);
	}
	series_add(d->probe_http[outcome], 1);
}

static void
probe_reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *text)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	reply(req, code, reason, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

static void
probe_req_done(struct probe_run *run, void *arg)
{
	struct probe_req	*pr = arg;
	struct evhttp_request	*req;
	struct evbuffer		*b;
	struct iso_judgement	 j;

	target_state_record(pr->ts, run);
	if (pr->ts->iso != NULL) {
		/* one run, no cycle: its control is not consulted */
		isolation_judge(run, IC_NONE, &j);
		(void)isolation_record(pr->ts, &j);
	}
	/* the reply may close the connection: stop watching it first */
	if ((req = probe_req_detach(pr)) != NULL) {
		if ((b = evbuffer_new()) == NULL)
			fatalx("out of memory (evbuffer)");
		if (pr->debug != NULL) {
			evbuffer_add_printf(b, "Logs for the probe:\n");
			evbuffer_add_buffer(b, pr->debug);
			evbuffer_add_printf(b, "Result: %s%s%s\n\nMetrics that "
			    "would have been returned:\n",
			    probe_result_name(run->obs.result),
			    run->obs.detail[0] ? ": " : "", run->obs.detail);
			store_render_gauges(pr->store, b);
			reply(req, HTTP_OK, "OK", "text/plain; charset=utf-8",
			    b);
		} else {
			store_render_gauges(pr->store, b);
			reply(req, HTTP_OK, "OK", PROM_CONTENT_TYPE, b);
		}
		evbuffer_free(b);
	}
	probe_count(pr->d, PQ_OK);
	probe_req_free(pr);
}

/* The client went away (conn_closed): finish the run without a reply. */
static void
probe_req_closed(struct probe_req *pr)
{
	pr->req = NULL;
	probe_count(pr->d, PQ_ABORTED);
	probe_req_free(pr);
}

void
http_abort_probes(struct np_daemon *d, const char *why)
{
	while (d->probe_reqs != NULL) {
		struct probe_req	*pr = d->probe_reqs;
		struct evhttp_request	*req = probe_req_detach(pr);

		if (req != NULL)
			probe_reply_text(req, 503, "Service Unavailable", why);
		probe_count(d, PQ_ABORTED);
		probe_req_free(pr);
	}
}

/*
 * The run's timeout: the module's, or less if Prometheus says its scrape
 * times out sooner (minus half a second to answer in time, as
 * blackbox_exporter does).
 */
static uint64_t
probe_timeout_ms(struct evhttp_request *req, uint64_t module_ms)
{
	const char	*h;
	char		*end;
	double		 s;
	uint64_t	 ms;

	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Prometheus-Scrape-Timeout-Seconds");
	if (h == NULL)
		return (module_ms);
	s = strtod(h, &end);
	if (end == h || *end != '\0' || !(s > 0) || s > 3600)
		return (module_ms);
	ms = s > 1 ? (uint64_t)((s - 0.5) * 1000) : (uint64_t)(s * 500);
	if (ms < 10)
		ms = 10;
	return (ms < module_ms ? ms : module_ms);
}

static void
probe_cb(struct evhttp_request *req, void *arg)
{
	struct np_daemon	*d = arg;
	struct evkeyvalq	 q;
	const struct probe_cfg	*tmpl;
	struct probe_req	*pr;
	const char		*module, *target, *debug, *why;
	char			 canon[256], msg[512];
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct hconn		*hc;

	if (!admit(d, req, probe_cb))
		return;
	/* its connection is watched: the run must know if the client left */
	if ((hc = hconn_find(evhttp_request_get_connection(req))) == NULL ||
	    hc->probe != NULL) {
		probe_count(d, PQ_BUSY);
		probe_reply_text(req, 503, "Service Unavailable",
		    "connection not tracked");
		return;
	}
	memset(&q, 0, sizeof(q));
	if (evhttp_parse_query_str(evhttp_uri_get_query(uri) ?
	    evhttp_uri_get_query(uri) : "", &q) == -1) {
		probe_count(d, PQ_BAD_REQUEST);
		probe_reply_text(req, HTTP_BADREQUEST, "Bad Request",
		    "malformed query string");
		return;
	}
	module = evhttp_find_header(&q, "module");
	target = evhttp_find_header(&q, "target");
	debug = evhttp_find_header(&q, "debug");
	if (module == NULL || target == NULL) {
		snprintf(msg, sizeof(msg), "usage: /probe?module=NAME&target="
		    "ADDR[&debug=true]; NAME is a configured probe");
		goto bad;
	}
	if ((tmpl = config_find_probe(d->conf, module)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown module \"%.64s\": modules "
		    "are the probes configured in %s", module, d->conf->path);
		goto bad;
	}
	if (strlen(target) > 200 || (why = probe_target_parse(tmpl->type,
	    tmpl->opts, target, &(struct np_addr){ 0 }, canon,
	    sizeof(canon))) != NULL) {
		snprintf(msg, sizeof(msg), "invalid %s target \"%.200s\": %s",
		    tmpl->type->name, target, strlen(target) > 200 ?
		    "too long" : why);
		goto bad;
	}
	if (d->nprobe_reqs >= PROBE_REQ_MAX) {
		probe_count(d, PQ_BUSY);
		evhttp_clear_headers(&q);
		probe_reply_text(req, 503, "Service Unavailable",
		    "too many /probe requests in flight");
		return;
	}

	pr = xcalloc(1, sizeof(*pr));
	pr->d = d;
	pr->req = req;
	pr->cfg = *tmpl;		/* borrows opts, labels, net */
	pr->cfg.iso.sweep = NULL;	/* the given target, not the range */
	pr->target = xstrdup(canon);
	probe_target_parse(tmpl->type, tmpl->opts, target, &pr->addr, canon,
	    sizeof(canon));
	pr->cfg.targets = &pr->target;
	pr->cfg.addrs = &pr->addr;
	pr->cfg.ntargets = 1;
	pr->cfg.timeout_ms = probe_timeout_ms(req, tmpl->timeout_ms);
	pr->store = store_new();
	pr->ts = target_state_new(pr->store, &pr->cfg, 0);
	pr->run = xcalloc(1, sizeof(*pr->run));
	if (debug != NULL && strcmp(debug, "true") == 0) {
		if ((pr->debug = evbuffer_new()) == NULL)
			fatalx("out of memory (evbuffer)");
		pr->run->debug = pr->debug;
	}
	pr->next = d->probe_reqs;
	d->probe_reqs = pr;
	d->nprobe_reqs++;
	evhttp_clear_headers(&q);
	hc->probe = pr;
	if (pr->debug != NULL)
		evbuffer_add_printf(pr->debug, "module %s (%s), target %s, "
		    "timeout %llums\n", tmpl->name, tmpl->type->name,
		    pr->target, (unsigned long long)pr->cfg.timeout_ms);
	probe_run_start(pr->run, d->base, &pr->cfg, 0, probe_req_done, pr);
	return;
bad:
	evhttp_clear_headers(&q);
	probe_count(d, PQ_BAD_REQUEST);
	probe_reply_text(req, HTTP_BADREQUEST, "Bad Request", msg);
}
