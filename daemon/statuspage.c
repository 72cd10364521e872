/*
 * The / page: what a field engineer standing at the gateway needs at a
 * glance, without Grafana: the site (its Chinese display name), every
 * probe x target with its last result and, for negative probes, the
 * isolation verdict and its evidence; the alerts (firing, pending,
 * recently resolved); the passive watchers with their violations and
 * latest violating flows.
 *
 * One static HTML document, rebuilt on every request from the same
 * state /status and /metrics show.  No script and no external resource
 * (no CDN, no web font): the gateway may have no way out and the
 * engineer's phone may only reach the gateway.  The CSS font stack
 * names CJK fonts so the display name renders where they are installed;
 * the page refreshes itself every 10 s.
 *
 * Everything that comes from the config or the network (names, targets,
 * labels, annotations, capture errors, addresses) goes through
 * html_escape(); the fixed words (result classes, verdicts, kinds) are
 * ours.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "daemon/daemon.h"
#include "daemon/statuspage.h"
#include "daemon/watcher.h"
#include "probes/isolation.h"
#include "rules/alert.h"
#include "rules/labels.h"

#define PAGE_REFRESH_S	10	/* s, <meta http-equiv="refresh"> */
#define PAGE_FLOWS	10	/* latest violating flows per watcher */

/* The three colours: green, red, grey (not decided yet, or no data). */
enum pg_status { PG_OK, PG_BAD, PG_UNKNOWN };
static const char *const pg_class[] = { "ok", "bad", "unknown" };

static const char page_css[] =
    "body{margin:0;padding:12px 16px;background:#f6f8fa;color:#1f2328;"
    "font:16px/1.45 \"Noto Sans CJK SC\",\"Source Han Sans SC\","
    "\"WenQuanYi Micro Hei\",\"WenQuanYi Zen Hei\",\"Microsoft YaHei\","
    "\"PingFang SC\",sans-serif}\n"
    "h1{font-size:1.7em;margin:0}\n"
    "h2{font-size:1.2em;margin:1.3em 0 .4em}\n"
    ".sub{color:#57606a;margin:.2em 0}\n"
    ".sum{margin:.6em 0;display:flex;flex-wrap:wrap;gap:6px}\n"
    ".sum span{padding:.2em .7em;border-radius:6px}\n"
    ".wrap{overflow-x:auto}\n"
    "table{border-collapse:collapse;width:100%;background:#fff;"
    "border:1px solid #d0d7de}\n"
    "th,td{padding:.35em .55em;border-bottom:1px solid #d0d7de;"
    "text-align:left;vertical-align:top}\n"
    "th{background:#eaeef2;font-weight:600;white-space:nowrap}\n"
    ".tgt,.flows{font-family:ui-monospace,\"DejaVu Sans Mono\","
    "monospace;font-size:.92em}\n"
    ".num{text-align:right;white-space:nowrap}\n"
    ".lb{color:#57606a;font-size:.85em}\n"
    ".none{color:#57606a;font-style:italic}\n"
    ".st{font-weight:600;white-space:nowrap}\n"
    ".st.ok{background:#dafbe1;color:#116329}\n"
    ".st.bad{background:#ffebe9;color:#a40e26}\n"
    ".st.unknown{background:#eaeef2;color:#57606a}\n"
    "tr.ok>td:first-child{border-left:6px solid #2da44e}\n"
    "tr.bad>td:first-child{border-left:6px solid #cf222e}\n"
    "tr.unknown>td:first-child{border-left:6px solid #8c959f}\n"
    "ul.flows{margin:0;padding-left:1.2em}\n"
    "footer{margin:1.5em 0 .5em;color:#57606a;font-size:.9em}\n"
    "@media (max-width:600px){body{padding:8px;font-size:15px}"
    "th,td{padding:.3em .35em}}\n";

/*
 * Text into HTML, for element content and double-quoted attribute
 * values: the five special characters become references; bytes that
 * are not UTF-8 and control characters (but tab and newline) become
 * U+FFFD, so a peer's odd bytes can neither break the document nor
 * hide in it.
 */
static void
html_escape(struct evbuffer *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (*p != '\0') {
		switch (*p) {
		case '<':
			evbuffer_add(b, "&lt;", 4);
			break;
		case '>':
			evbuffer_add(b, "&gt;", 4);
			break;
		case '&':
			evbuffer_add(b, "&amp;", 5);
			break;
		case '"':
			evbuffer_add(b, "&quot;", 6);
			break;
		case '\'':
			evbuffer_add(b, "&#39;", 5);
			break;
		case '\t':
		case '\n':
			evbuffer_add(b, p, 1);
			break;
		default:
			/* NUL-terminated: a NUL is never a continuation */
			if (*p < 0x20 || *p == 0x7f ||
			    (n = utf8_seq_len(p, SIZE_MAX)) == 0) {
				evbuffer_add(b, "\xef\xbf\xbd", 3);
				break;
			}
			evbuffer_add(b, p, n);
			p += n;
			continue;
		}
		p++;
	}
}

/*
 * "2024-05-01 16:00:05" in the gateway's local time, or only
 * "16:00:05" when it is the same day as now_ms (0: always the date).
 */
static void
local_time(int64_t ms, int64_t now_ms, char *buf, size_t len)
{
	struct tm	tm, now;
	time_t		t = (time_t)(ms / 1000);
	time_t		tn = (time_t)(now_ms / 1000);
	size_t		n;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	if (now_ms > 0 && localtime_r(&tn, &now) != NULL &&
	    now.tm_year == tm.tm_year && now.tm_yday == tm.tm_yday)
		n = strftime(buf, len, "%H:%M:%S", &tm);
	else
		n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0)
		snprintf(buf, len, "-");
}

/*
 * A moment: <time> with the RFC 3339 UTC instant for machines, local
 * time and how long ago for people ("16:00:05, 3m5s ago").  now_ms 0:
 * the moment is now (the full date, no age).
 */
static void
page_when(struct evbuffer *b, int64_t ms, int64_t now_ms)
{
	char	iso[40], loc[40], ago[40];

	if (ms <= 0) {
		evbuffer_add_printf(b, "-");
		return;
	}
	watcher_time_text(ms, iso, sizeof(iso));
	local_time(ms, now_ms, loc, sizeof(loc));
	evbuffer_add_printf(b, "<time datetime=\"%s\">%s</time>", iso, loc);
	if (now_ms > 0 && now_ms >= ms) {
		/* whole seconds: "3m5s", not "3m5s120ms" */
		format_duration_ms((uint64_t)(now_ms - ms) / 1000 * 1000, ago,
		    sizeof(ago));
		evbuffer_add_printf(b, ", %s ago", ago);
	}
}

/* "k=v, k=v" of a label set, but the names skip1 and skip2 (or NULL). */
static void
page_labels(struct evbuffer *b, const struct np_labels *l, const char *skip1,
    const char *skip2)
{
	size_t	i, n = 0;

	for (i = 0; i < l->n; i++) {
		if ((skip1 != NULL && strcmp(l->v[i].name, skip1) == 0) ||
		    (skip2 != NULL && strcmp(l->v[i].name, skip2) == 0))
			continue;
		if (n++ > 0)
			evbuffer_add(b, ", ", 2);
		html_escape(b, l->v[i].name);
		evbuffer_add(b, "=", 1);
		html_escape(b, l->v[i].value);
	}
}

/* ---- probes ---------------------------------------------------------- */

/* How a probe x target stands: by its verdict if negative, else its run. */
static enum pg_status
probe_status(const struct target_state *ts)
{
	if (ts->iso != NULL) {
		if (ts->iso->verdict < 0)
			return (PG_UNKNOWN);
		return (ts->iso->verdict == IV_BLOCKED ? PG_OK :
		    ts->iso->verdict == IV_LEAK ? PG_BAD : PG_UNKNOWN);
	}
	if (ts->last_result < 0)
		return (PG_UNKNOWN);
	return (ts->last_result == PR_SUCCESS ? PG_OK : PG_BAD);
}

/* The result word, as --once prints it: "open", "reply", "refused"... */
static const char *
probe_word(const struct target_state *ts)
{
	if (ts->last_result < 0)
		return (ts->sweep != NULL ? "sweep" : "pending");
	if (ts->last_result == PR_SUCCESS && ts->cfg->type->success_word)
		return (ts->cfg->type->success_word);
	return (probe_result_name((enum probe_result)ts->last_result));
}

static void
probe_row(struct evbuffer *b, const struct target_state *ts, int64_t now_ms)
{
	const struct iso_state	*iso = ts->iso;
	const char		*cls = pg_class[probe_status(ts)];
	double			 last;

	evbuffer_add_printf(b, "<tr class=\"probe %s\"><td>", cls);
	html_escape(b, ts->cfg->name);
	evbuffer_add_printf(b, "</td><td>");
	html_escape(b, ts->cfg->type->name);
	evbuffer_add_printf(b, "</td><td class=\"tgt\">");
	html_escape(b, ts->cfg->targets[ts->target]);
	evbuffer_add_printf(b, "</td><td class=\"st %s\">%s</td>", cls,
	    probe_word(ts));
	if (ts->last_result >= 0)
		evbuffer_add_printf(b, "<td class=\"num\">%.3f ms</td><td>",
		    ts->last_duration * 1e3);
	else
		evbuffer_add_printf(b, "<td class=\"num\">-</td><td>");
	last = ts->last_result >= 0 ? series_value(ts->last_run) : 0;
	page_when(b, last > 0 ? (int64_t)(last * 1e3) : 0, now_ms);
	evbuffer_add_printf(b, "</td>");
	if (iso == NULL)
		evbuffer_add_printf(b, "<td class=\"iso\"></td>");
	else if (iso->verdict < 0)
		evbuffer_add_printf(b, "<td class=\"iso st unknown\">"
		    "not judged yet</td>");
	else {
		evbuffer_add_printf(b, "<td class=\"iso st %s\">%s "
		    "<span class=\"lb\">(", cls,
		    iso_verdict_name((enum iso_verdict)iso->verdict));
		html_escape(b, iso->reason != NULL ? iso->reason : "");
		if (iso->from[0] != '\0') {
			evbuffer_add_printf(b, " from ");
			html_escape(b, iso->from);
		}
		evbuffer_add_printf(b, ")</span></td>");
	}
	evbuffer_add_printf(b, "<td class=\"lb\">");
	page_labels(b, &ts->cfg->labels, NULL, NULL);
	if (ts->cfg->iso.control != NULL) {
		evbuffer_add_printf(b, "%scontrol: ",
		    ts->cfg->labels.n > 0 ? "; " : "");
		html_escape(b, ts->cfg->iso.control);
	}
	evbuffer_add_printf(b, "</td></tr>\n");
}

static void
probes_section(struct np_daemon *d, struct evbuffer *b, int64_t now_ms)
{
	size_t	i;

	evbuffer_add_printf(b, "<section id=\"probes\">\n<h2>探测 Probes</h2>\n"
	    "<div class=\"wrap\"><table id=\"probe-table\">\n<thead><tr>"
	    "<th>probe</th><th>type</th><th>target</th><th>result</th>"
	    "<th>duration</th><th>last run</th><th>isolation</th>"
	    "<th>labels</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < d->nts; i++)
		probe_row(b, d->ts[i], now_ms);
	if (d->nts == 0)
		evbuffer_add_printf(b, "<tr><td colspan=\"8\" class=\"none\">"
		    "no probes configured</td></tr>\n");
	evbuffer_add_printf(b, "</tbody></table></div>\n</section>\n");
}

/* ---- alerts ----------------------------------------------------------- */

struct alert_ctx {
	struct evbuffer		*b;
	int64_t			 now_ms;
	/* one walk per state, worst first: firing, pending, resolved */
	enum alert_state	 want;
	int			 resolved;
	size_t			 n[3];	/* rows: firing, pending, resolved */
};

static void
alert_row(void *arg, const char *group, size_t rule,
    const struct alert *a)
{
	struct alert_ctx	*ac = arg;
	struct evbuffer		*b = ac->b;
	const char		*name, *sev, *zh, *en, *state, *cls;
	int			 resolved = a->state == ALERT_INACTIVE;

	(void)group;
	if (resolved != ac->resolved || (!resolved && a->state != ac->want))
		return;
	name = rl_labels_get(&a->labels, "alertname");
	sev = rl_labels_get(&a->labels, "severity");
	zh = rl_labels_get(&a->annotations, "summary_zh");
	en = rl_labels_get(&a->annotations, "summary");
	if (resolved) {
		state = "resolved";
		cls = pg_class[PG_OK];
		ac->n[2]++;
	} else if (a->state == ALERT_FIRING) {
		state = "firing";
		cls = pg_class[PG_BAD];
		ac->n[0]++;
	} else {
		state = "pending";
		cls = pg_class[PG_UNKNOWN];
		ac->n[1]++;
	}
	evbuffer_add_printf(b, "<tr class=\"alert %s\"><td>", cls);
	html_escape(b, name != NULL ? name : "");
	evbuffer_add_printf(b, "<div class=\"lb\">");
	page_labels(b, &a->labels, "alertname", "severity");
	evbuffer_add_printf(b, "</div></td><td class=\"st %s\">%s</td><td>",
	    cls, state);
	html_escape(b, sev != NULL ? sev : "");
	evbuffer_add_printf(b, "</td><td>");
	if (zh != NULL)
		html_escape(b, zh);
	if (zh != NULL && en != NULL)
		evbuffer_add_printf(b, "<div class=\"lb\">");
	if (en != NULL)
		html_escape(b, en);
	if (zh != NULL && en != NULL)
		evbuffer_add_printf(b, "</div>");
	evbuffer_add_printf(b, "</td><td>");
	if (resolved) {
		evbuffer_add_printf(b, "resolved ");
		page_when(b, a->resolved_at_ms, ac->now_ms);
	} else
		page_when(b, a->active_at_ms, ac->now_ms);
	evbuffer_add_printf(b, "</td></tr>\n");
}

static void
alerts_section(struct np_daemon *d, struct evbuffer *b, int64_t now_ms,
    size_t counts[3])
{
	struct alert_ctx	ac;

	memset(&ac, 0, sizeof(ac));
	ac.b = b;
	ac.now_ms = now_ms;
	evbuffer_add_printf(b, "<section id=\"alerts\">\n<h2>告警 Alerts</h2>\n"
	    "<div class=\"wrap\"><table id=\"alert-table\">\n<thead><tr>"
	    "<th>alert</th><th>state</th><th>severity</th><th>summary</th>"
	    "<th>since</th></tr></thead>\n<tbody>\n");
	/* the alerts are valid only during the walk: one walk per state */
	ac.want = ALERT_FIRING;
	rules_foreach_alert(d, alert_row, &ac);
	ac.want = ALERT_PENDING;
	rules_foreach_alert(d, alert_row, &ac);
	ac.resolved = 1;
	rules_foreach_alert(d, alert_row, &ac);
	if (ac.n[0] + ac.n[1] + ac.n[2] == 0)
		evbuffer_add_printf(b, "<tr><td colspan=\"5\" class=\"none\">"
		    "%s</td></tr>\n", d->conf->nrule_files == 0 ?
		    "no rule files configured" : "no alerts");
	evbuffer_add_printf(b, "</tbody></table></div>\n</section>\n");
	memcpy(counts, ac.n, sizeof(ac.n));
}

/* ---- watchers --------------------------------------------------------- */

struct watcher_ctx {
	struct evbuffer	*b;
	int64_t		 now_ms;
	size_t		 n;
	uint64_t	 violations;	/* all watchers, all kinds */
	size_t		 down;
};

static void
flow_item(void *arg, const struct watcher_flow *f)
{
	struct watcher_ctx	*wc = arg;
	char			 text[256];

	watcher_flow_text(f, text, sizeof(text));
	evbuffer_add_printf(wc->b, "<li class=\"flow\"><span class=\"kind\">"
	    "%s</span> <span class=\"ft\">", watcher_kind_name(f->kind));
	html_escape(wc->b, text);
	evbuffer_add_printf(wc->b, "</span>, %" PRIu64 " packet%s, last ",
	    f->packets, f->packets == 1 ? "" : "s");
	page_when(wc->b, f->last_ms, wc->now_ms);
	evbuffer_add_printf(wc->b, "</li>\n");
}

static void
watcher_row(void *arg, const struct watcher_view *v)
{
	struct watcher_ctx		*wc = arg;
	struct evbuffer			*b = wc->b;
	const struct watcher_counts	*c = v->counts;
	uint64_t			 total = 0;
	int				 k;

	for (k = 0; k < WATCHER_KIND_MAX; k++)
		total += c->violations[k];
	wc->n++;
	wc->violations += total;
	if (!v->up)
		wc->down++;
	evbuffer_add_printf(b, "<tr class=\"watcher %s\"><td>",
	    pg_class[!v->up || total > 0 ? PG_BAD : PG_OK]);
	html_escape(b, v->cfg->name);
	evbuffer_add_printf(b, "</td><td class=\"tgt\">");
	html_escape(b, v->cfg->ifname);
	if (v->up)
		evbuffer_add_printf(b, "</td><td class=\"st ok\">up</td>");
	else {
		evbuffer_add_printf(b, "</td><td class=\"st bad\">down"
		    "<div class=\"lb\">");
		html_escape(b, v->err != NULL ? v->err : "");
		evbuffer_add_printf(b, "</div></td>");
	}
	evbuffer_add_printf(b, "<td class=\"num\">%" PRIu64 "</td>",
	    c->packets);
	for (k = 0; k < WATCHER_KIND_MAX; k++)
		evbuffer_add_printf(b, "<td class=\"num st %s\">%" PRIu64
		    "</td>", pg_class[c->violations[k] > 0 ? PG_BAD : PG_OK],
		    c->violations[k]);
	evbuffer_add_printf(b, "</tr>\n");
	if (c->flows == 0 && v->cfg->conference == NULL)
		return;
	evbuffer_add_printf(b, "<tr class=\"watcher-flows\">"
	    "<td colspan=\"%d\">", 4 + WATCHER_KIND_MAX);
	if (v->cfg->conference != NULL)
		evbuffer_add_printf(b, "<div class=\"lb\">conference calls: "
		    "%zu, listen-only: %zu</div>", c->calls, c->listen_only);
	if (c->flows > 0) {
		evbuffer_add_printf(b, "latest violating flows (%zu in the "
		    "table):<ul class=\"flows\">\n", c->flows);
		watcher_judge_flows(v->judge, PAGE_FLOWS, flow_item, wc);
		evbuffer_add_printf(b, "</ul>");
	}
	evbuffer_add_printf(b, "</td></tr>\n");
}

static void
watchers_section(struct np_daemon *d, struct evbuffer *b, int64_t now_ms,
    struct watcher_ctx *wc)
{
	int	k;

	memset(wc, 0, sizeof(*wc));
	wc->b = b;
	wc->now_ms = now_ms;
	evbuffer_add_printf(b, "<section id=\"watchers\">\n<h2>"
	    "被动监视 Watchers</h2>\n<div class=\"wrap\">"
	    "<table id=\"watcher-table\">\n<thead><tr><th>watcher</th>"
	    "<th>interface</th><th>capture</th><th>packets</th>");
	for (k = 0; k < WATCHER_KIND_MAX; k++)
		evbuffer_add_printf(b, "<th>%s</th>", watcher_kind_name(k));
	evbuffer_add_printf(b, "</tr></thead>\n<tbody>\n");
	watchers_foreach(d, watcher_row, wc);
	if (wc->n == 0)
		evbuffer_add_printf(b, "<tr><td colspan=\"%d\" class=\"none\">"
		    "no watchers configured</td></tr>\n",
		    4 + WATCHER_KIND_MAX);
	evbuffer_add_printf(b, "</tbody></table></div>\n</section>\n");
}

/* ---- the page ---------------------------------------------------------- */

/* The counts at the top, in the probes' and alerts' colours. */
static void
summary(struct evbuffer *b, struct np_daemon *d, const size_t alerts[3],
    const struct watcher_ctx *wc)
{
	size_t	i, n[3] = { 0, 0, 0 };

	for (i = 0; i < d->nts; i++)
		n[probe_status(d->ts[i])]++;
	evbuffer_add_printf(b, "<p class=\"sum\" id=\"summary\">"
	    "<span class=\"st ok\">%zu ok</span> "
	    "<span class=\"st %s\">%zu failing</span> "
	    "<span class=\"st unknown\">%zu unknown</span> "
	    "<span class=\"st %s\">%zu firing</span> "
	    "<span class=\"st %s\">%zu pending alerts</span>",
	    n[PG_OK], pg_class[n[PG_BAD] ? PG_BAD : PG_OK], n[PG_BAD],
	    n[PG_UNKNOWN], pg_class[alerts[0] ? PG_BAD : PG_OK], alerts[0],
	    pg_class[alerts[1] ? PG_UNKNOWN : PG_OK], alerts[1]);
	if (wc->n > 0)
		evbuffer_add_printf(b, " <span class=\"st %s\">%" PRIu64
		    " watcher violations</span>",
		    pg_class[wc->violations || wc->down ? PG_BAD : PG_OK],
		    wc->violations);
	evbuffer_add_printf(b, "</p>\n");
}

void
status_page_render(struct np_daemon *d, struct evbuffer *b)
{
	const struct np_config	*conf = d->conf;
	const char		*title = conf->site_display_name != NULL ?
				    conf->site_display_name : conf->site_name;
	struct evbuffer		*body;
	struct watcher_ctx	 wc;
	size_t			 alerts[3];
	int64_t			 now_ms;

	now_ms = (int64_t)(now_wall_ns() / 1000000);
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n"
	    "<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<meta http-equiv=\"refresh\" content=\"%d\">\n<title>",
	    PAGE_REFRESH_S);
	html_escape(b, title);
	evbuffer_add_printf(b, " · netprobed</title>\n<style>\n%s</style>\n"
	    "</head>\n<body>\n<header>\n<h1 id=\"site\">", page_css);
	html_escape(b, title);
	evbuffer_add_printf(b, "</h1>\n<p class=\"sub\">site <b>");
	html_escape(b, conf->site_name);
	evbuffer_add_printf(b, "</b>");
	if (conf->site_labels.n > 0) {
		evbuffer_add_printf(b, " (");
		page_labels(b, &conf->site_labels, NULL, NULL);
		evbuffer_add_printf(b, ")");
	}
	evbuffer_add_printf(b, " · netprobed %s · rendered <span "
	    "id=\"rendered\">", np_version);
	page_when(b, now_ms, 0);
	evbuffer_add_printf(b, "</span> · refreshes every %d s</p>\n",
	    PAGE_REFRESH_S);

	/* the summary counts what the sections find: render them first */
	if ((body = evbuffer_new()) == NULL)
		fatalx("out of memory (evbuffer)");
	probes_section(d, body, now_ms);
	alerts_section(d, body, now_ms, alerts);
	watchers_section(d, body, now_ms, &wc);
	summary(b, d, alerts, &wc);
	evbuffer_add_printf(b, "</header>\n<main>\n");
	evbuffer_add_buffer(b, body);
	evbuffer_free(body);
	evbuffer_add_printf(b, "</main>\n<footer><a href=\"/status\">/status"
	    "</a> (JSON) · <a href=\"/metrics\">/metrics</a> · "
	    "<a href=\"/healthz\">/healthz</a></footer>\n</body>\n</html>\n");
}
