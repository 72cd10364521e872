/*
 * HTTP endpoints on libevent's evhttp: /metrics (Prometheus text format
 * 0.0.4), /healthz and a small human page at /.  GET and HEAD only.
 */
#include "config.h"

#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon/daemon.h"

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

void
http_render_metrics(struct np_daemon *d, struct evbuffer *b)
{
	store_render(d->store, b);
	procstat_render(b, d->start_time);
}

static void
reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, body);
}

static void
metrics_cb(struct evhttp_request *req, void *arg)
{
	struct np_daemon	*d = arg;
	struct evbuffer		*b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	http_render_metrics(d, b);
	reply(req, HTTP_OK, "OK", PROM_CONTENT_TYPE, b);
	evbuffer_free(b);
}

static void
healthz_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(b, "ok\n");
	reply(req, HTTP_OK, "OK", "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

static void
html_escape(struct evbuffer *b, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '<':
			evbuffer_add_printf(b, "&lt;");
			break;
		case '>':
			evbuffer_add_printf(b, "&gt;");
			break;
		case '&':
			evbuffer_add_printf(b, "&amp;");
			break;
		case '"':
			evbuffer_add_printf(b, "&quot;");
			break;
		default:
			evbuffer_add(b, s, 1);
		}
}

static void
index_cb(struct evhttp_request *req, void *arg)
{
	struct np_daemon	*d = arg;
	struct evbuffer		*b;
	const char		*title;
	size_t			 i;

	if (strcmp(evhttp_request_get_uri(req), "/") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	title = d->conf->site_display_name ? d->conf->site_display_name :
	    d->conf->site_name;
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html><head><meta charset="
	    "\"utf-8\"><title>netprobed ");
	html_escape(b, title);
	evbuffer_add_printf(b, "</title></head><body>\n<h1>netprobed: ");
	html_escape(b, title);
	evbuffer_add_printf(b, "</h1>\n<p>Version %s. <a href=\"/metrics\">"
	    "Metrics</a> &middot; <a href=\"/healthz\">Health</a></p>\n"
	    "<table border=\"1\" cellpadding=\"4\"><tr><th>probe</th>"
	    "<th>type</th><th>target</th><th>last result</th></tr>\n",
	    np_version);
	for (i = 0; i < d->nts; i++) {
		const struct target_state *ts = d->ts[i];

		evbuffer_add_printf(b, "<tr><td>");
		html_escape(b, ts->cfg->name);
		evbuffer_add_printf(b, "</td><td>%s</td><td>",
		    ts->cfg->type->name);
		html_escape(b, ts->cfg->targets[ts->target]);
		evbuffer_add_printf(b, "</td><td>%s</td></tr>\n",
		    ts->last_ok == -1 ? "pending" : ts->last_ok ? "up" :
		    "DOWN");
	}
	evbuffer_add_printf(b, "</table>\n</body></html>\n");
	reply(req, HTTP_OK, "OK", "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

int
http_start(struct np_daemon *d, const struct np_addr *listen)
{
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	char				 host[NP_ADDRSTRLEN];

	if ((http = evhttp_new(d->base)) == NULL)
		fatalx("evhttp_new failed");
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(http, 10);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_max_body_size(http, 4096);
	evhttp_set_cb(http, "/metrics", metrics_cb, d);
	evhttp_set_cb(http, "/healthz", healthz_cb, d);
	evhttp_set_gencb(http, index_cb, d);
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
	log_info("listening on http://%s%s%s:%d/metrics",
	    listen->ss.ss_family == AF_INET6 ? "[" : "", host,
	    listen->ss.ss_family == AF_INET6 ? "]" : "", addr_port(listen));
	return (0);
}

void
http_stop(struct np_daemon *d)
{
	if (d->http != NULL)
		evhttp_free(d->http);
	d->http = NULL;
	d->bound = NULL;
}
