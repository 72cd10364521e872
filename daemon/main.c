/*
 * netprobed: command line, the main loop, signals and reload.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <yaml.h>

#include "daemon/daemon.h"
#include "daemon/snmp.h"
#include "daemon/agentx.h"
#include "daemon/audit.h"
#include "daemon/state.h"
#include "daemon/webconfig.h"
#include "daemon/sweep.h"
#include "daemon/watcher.h"
#include "probes/icmp_pkt.h"
#include "probes/isolation.h"
#include "rules/labels.h"
#include "rules/rule_test.h"

const char	*np_version = PACKAGE_VERSION;

#define DEFAULT_CONFIG	NP_SYSCONFDIR "/netprobed/netprobed.yaml"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: netprobed [-c FILE] [--check-config | --once] [--allow-root]\n"
	    "                 [-v | -q]\n"
	    "       netprobed --responder ADDR:PORT\n"
	    "       netprobed --test-rules FILE...\n"
	    "       netprobed [-c FILE] --replay CAPTURE.pcap\n"
	    "       netprobed --verify-audit FILE\n"
	    "\n"
	    "  -c, --config FILE   configuration (default %s)\n"
	    "  -n, --check-config  validate the configuration and exit\n"
	    "                      (0: valid, 2: errors as FILE:LINE:COL)\n"
	    "  -1, --once          run every probe once, print a table and\n"
	    "                      exit (0: all succeeded, 1: some failed)\n"
	    "  -R, --responder ADDR:PORT\n"
	    "                      answer udp and media probes on ADDR:PORT\n"
	    "                      (run one beside the MCU); no config\n"
	    "      --test-rules FILE...\n"
	    "                      run rule unit tests (promtool test rules\n"
	    "                      format) and exit (0: all passed, 1: some\n"
	    "                      failed, 2: a file has errors); no config\n"
	    "      --replay CAPTURE.pcap\n"
	    "                      run the config's watchers over a capture\n"
	    "                      and print the violations (0: none, 1: some,\n"
	    "                      2: errors)\n"
	    "      --verify-audit FILE\n"
	    "                      check an audit trail's hash chain (0: intact,\n"
	    "                      1: broken, 2: unreadable); no config\n"
	    "      --allow-root    keep running as root when the config has\n"
	    "                      no user: (otherwise netprobed refuses)\n"
	    "  -v, --verbose       more logging (repeat for debug)\n"
	    "  -q, --quiet         only warnings and errors\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this help\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration (a bad one is\n"
	    "rejected and the running one kept); SIGTERM and SIGINT stop.\n",
	    DEFAULT_CONFIG);
}

/* ---- systemd readiness (sd_notify without libsystemd) -------------- */

static void
sd_notify_msg(const char *msg)
{
	const char		*path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == -1)
		log_warn("sd_notify");
	close(fd);
}

/*
 * The systemd watchdog (WatchdogSec=): the loop itself says WATCHDOG=1
 * at half the period, so a loop that stops turning is restarted.
 */
static void
on_watchdog(evutil_socket_t fd, short ev, void *arg)
{
	sd_notify_msg("WATCHDOG=1");
}

static struct event *
watchdog_start(struct event_base *base)
{
	const char		*usec = getenv("WATCHDOG_USEC");
	const char		*pid = getenv("WATCHDOG_PID");
	struct event		*e;
	struct timeval		 tv;
	unsigned long long	 u;
	char			*end;

	if (usec == NULL || (pid != NULL && strtol(pid, NULL, 10) != getpid()))
		return (NULL);
	u = strtoull(usec, &end, 10);
	if (*usec == '\0' || *end != '\0' || u == 0) {
		log_warnx("WATCHDOG_USEC=\"%s\" is not a number of "
		    "microseconds; no watchdog", usec);
		return (NULL);
	}
	u /= 2;
	tv.tv_sec = (time_t)(u / 1000000);
	tv.tv_usec = (suseconds_t)(u % 1000000);
	if ((e = event_new(base, -1, EV_PERSIST, on_watchdog, NULL)) == NULL ||
	    event_add(e, &tv) == -1)
		fatalx("cannot arm the watchdog timer");
	log_debug("systemd watchdog: WATCHDOG=1 every %llu us", u);
	return (e);
}

/* ---- config loading ------------------------------------------------ */

/*
 * Load a config; errors go to stderr as bare FILE:LINE:COL lines (for
 * editors and --check-config) or, in the running daemon, to the log.
 */
static struct np_config *
load(const char *path, int to_log, char **first)
{
	struct cfg_errors	 errs;
	struct np_config	*conf;
	size_t			 i;

	if ((conf = config_load_file(path, &errs)) == NULL) {
		if (first != NULL)
			*first = xstrdup(errs.n > 0 ? errs.msg[0] :
			    "cannot load the configuration");
		for (i = 0; i < errs.n; i++)
			if (to_log)
				log_err("%s", errs.msg[i]);
			else
				fprintf(stderr, "%s\n", errs.msg[i]);
		if (!to_log)
			fprintf(stderr, "%s: %zu error%s\n", path, errs.n,
			    errs.n == 1 ? "" : "s");
		cfg_errors_free(&errs);
	}
	return (conf);
}

static size_t
count_targets(const struct np_config *conf)
{
	size_t	i, n = 0;

	for (i = 0; i < conf->nprobes; i++)
		n += conf->probes[i].ntargets;
	return (n);
}

/* ---- the daemon's own series --------------------------------------- */

static void
self_metrics_init(struct np_daemon *d)
{
	struct store	*st = d->store;
	struct family	*f;
	char		 lev[32];

	snprintf(lev, sizeof(lev), "%s", event_get_version());
	f = store_family(st, "netprobe_build_info", "Version of netprobed "
	    "and of the libraries it runs on.", METRIC_GAUGE, NULL, 0);
	series_set(store_series(st, f, NULL, "version", np_version,
	    "libevent", lev, "libyaml", yaml_get_version_string(), NULL), 1);
	f = store_family(st, "netprobe_config_last_reload_successful",
	    "Whether the last configuration (re)load succeeded.",
	    METRIC_GAUGE, NULL, 0);
	d->reload_ok = store_series(st, f, NULL, NULL);
	f = store_family(st,
	    "netprobe_config_last_reload_success_timestamp_seconds",
	    "Time of the last successful configuration (re)load.",
	    METRIC_GAUGE, NULL, 0);
	d->reload_time = store_series(st, f, NULL, NULL);
	f = store_family(st, "netprobe_config_reloads_total",
	    "Configuration reloads attempted, by result.", METRIC_COUNTER,
	    NULL, 0);
	d->reloads[0] = store_series(st, f, NULL, "result", "failure", NULL);
	d->reloads[1] = store_series(st, f, NULL, "result", "success", NULL);
	f = store_family(st, "netprobe_probe_targets",
	    "Probe x target pairs configured.", METRIC_GAUGE, NULL, 0);
	d->targets = store_series(st, f, NULL, NULL);
	store_family(st, "netprobe_site_info", "The site this gateway "
	    "probes from, with its configured labels.", METRIC_GAUGE, NULL, 0);
	probe_families_register(st);
}

static void
site_info_update(struct np_daemon *d)
{
	const struct np_config	*c = d->conf;
	const char		*extra[5] = { "site", c->site_name, NULL, NULL,
				    NULL };
	struct family		*f;

	if (c->site_display_name != NULL) {
		extra[2] = "display_name";
		extra[3] = c->site_display_name;
	}
	store_release(d->store, d->site_info);
	f = store_family(d->store, "netprobe_site_info", "", METRIC_GAUGE,
	    NULL, 0);
	d->site_info = store_series_v(d->store, f, &c->site_labels, extra);
	series_set(d->site_info, 1);
}

static void
config_applied(struct np_daemon *d, int ok)
{
	series_set(d->reload_ok, ok);
	series_add(d->reloads[ok], 1);
	if (ok) {
		series_set(d->reload_time, (double)now_wall_ns() / 1e9);
		series_set(d->targets, (double)d->nts);
		site_info_update(d);
	}
}

static int
same_addr(const struct np_addr *a, const struct np_addr *b)
{
	return (a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0);
}

/* The AgentX sub-agent follows snmp.agentx (absent: off). */
static void
agentx_apply(struct np_daemon *d, const struct np_config *conf)
{
	const struct snmp_cfg	*c = conf->snmp;

	if (c == NULL || c->agentx_master == NULL)
		agentx_stop(d);
	else
		(void)agentx_start(d, c->agentx_master, c->base, c->base_len);
}

/*
 * The audit trail follows `audit_log:`: opened, moved to another file,
 * or closed; a record says which configuration is in force from now on.
 */
static void
audit_apply(struct np_daemon *d, const struct np_config *old,
    const struct np_config *conf)
{
	struct np_labels	 f = { NULL, 0 };
	char			 err[512];

	if (old != NULL && (old->audit_path == NULL ||
	    conf->audit_path == NULL ||
	    strcmp(old->audit_path, conf->audit_path) != 0)) {
		audit_close(d->audit);
		d->audit = NULL;
	}
	if (conf->audit_path == NULL)
		return;
	if (d->audit == NULL) {
		if ((d->audit = audit_open(conf->audit_path, conf->sha256, err,
		    sizeof(err))) == NULL) {
			log_warnx("audit trail: %s", err);
			return;
		}
	} else
		audit_set_config(d->audit, conf->sha256);
	rl_labels_set(&f, "config", conf->path);
	rl_labels_set(&f, "site", conf->site_name);
	audit_record(d->audit, old == NULL ? "start" : "reload", &f);
	rl_labels_free(&f);
}

/* SIGHUP: validate the new file completely, then swap. */
static void
reload(struct np_daemon *d)
{
	struct np_config	*conf;
	char			*why = NULL;

	sd_notify_msg("RELOADING=1");
	log_info("reloading %s", d->conf->path);
	if ((conf = load(d->conf->path, 1, &why)) == NULL) {
		log_err("reload of %s failed; keeping the running "
		    "configuration", d->conf->path);
		snmp_notify_reload_failed(d, why);
		free(why);
		config_applied(d, 0);
		sd_notify_msg("READY=1");
		return;
	}
	if (!same_addr(&conf->listen, &d->conf->listen) &&
	    http_start(d, &conf->listen, conf->web) == -1) {
		log_err("reload of %s failed: cannot listen on the new "
		    "address; keeping the running configuration", conf->path);
		snmp_notify_reload_failed(d, "cannot listen on the new "
		    "address");
		config_free(conf);
		config_applied(d, 0);
		sd_notify_msg("READY=1");
		return;
	}
	http_abort_probes(d, "configuration reloaded; try again");
	audit_apply(d, d->conf, conf);
	sched_apply(d, conf);
	rules_apply(d, conf);
	snmp_apply(d, conf);
	agentx_apply(d, conf);
	watchers_apply(d, conf);
	state_apply(d, conf, 0);
	config_free(d->conf);
	d->conf = conf;
	config_applied(d, 1);
	log_info("configuration reloaded: %zu probes, %zu targets",
	    conf->nprobes, d->nts);
	sd_notify_msg("READY=1");
}

#define STOP_DRAIN_MS	1000

static struct {
	struct event	*ev;
	uint64_t	 until_ms;
} stopping;

static void
stop_drain(evutil_socket_t fd, short ev, void *arg)
{
	struct np_daemon	*d = arg;
	struct timeval		 tv = { 0, 20000 };

	if (snmp_informs_waiting(d) == 0 ||
	    now_mono_ns() / 1000000 >= stopping.until_ms) {
		event_base_loopbreak(d->base);
		return;
	}
	if (!evtimer_pending(stopping.ev, NULL))
		evtimer_add(stopping.ev, &tv);
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct np_daemon	*d = arg;

	if (sig == SIGHUP) {
		reload(d);
		/* the old configuration and what a failed load parsed
		 * were freed amid the heap: give the pages back */
		heap_trim();
		return;
	}
	if (stopping.ev != NULL) {
		event_base_loopbreak(d->base);	/* a second signal: now */
		return;
	}
	log_info("%s received, stopping", sig == SIGTERM ? "SIGTERM" :
	    "SIGINT");
	sd_notify_msg("STOPPING=1");
	snmp_notify_stopping(d);
	/*
	 * Give the managers a moment (STOP_DRAIN_MS at most) to acknowledge
	 * what is queued -- "stopping" at least -- so that it is neither
	 * lost nor, with a state file, sent again after the restart.
	 */
	stopping.until_ms = now_mono_ns() / 1000000 + STOP_DRAIN_MS;
	if ((stopping.ev = event_new(d->base, -1, EV_PERSIST, stop_drain,
	    d)) == NULL)
		event_base_loopbreak(d->base);
	else
		stop_drain(-1, 0, d);
}

static void
daemon_free(struct np_daemon *d)
{
	size_t	i;

	state_stop(d);
	http_abort_probes(d, "netprobed is stopping");
	agentx_stop(d);
	watchers_free(d);
	sched_stop(d);
	rules_free(d);
	snmp_free(d);
	audit_close(d->audit);
	d->audit = NULL;
	http_stop(d);
	auth_shutdown();
	isolation_shutdown();
	for (i = 0; probe_types[i] != NULL; i++)
		if (probe_types[i]->shutdown != NULL)
			probe_types[i]->shutdown();
	store_free(d->store);
	config_free(d->conf);
}

/*
 * A daemon left running as root is one bug away from the whole gateway.
 * Started as root, it drops to user: once the privileged sockets are
 * open; without user: it refuses to run unless told to (--allow-root,
 * or NETPROBED_ALLOW_ROOT=1 in the environment for test harnesses and
 * containers that confine it otherwise).
 */
static int
root_refused(const struct np_config *conf, int allow_root)
{
	const char	*env;

	if (geteuid() != 0 || conf->user != NULL)
		return (0);
	env = getenv("NETPROBED_ALLOW_ROOT");
	if (allow_root || (env != NULL && strcmp(env, "1") == 0)) {
		log_info("running as root (allowed): set user: in the "
		    "configuration to drop to an unprivileged user");
		return (0);
	}
	log_err("refusing to run as root: set user: in the configuration "
	    "(netprobed drops to it after opening its sockets), or start "
	    "with --allow-root");
	return (1);
}

static int
run_daemon(struct np_config *conf, int allow_root)
{
	struct np_daemon	 d;
	struct event		*sigs[3], *watchdog;
	static const int	 signo[3] = { SIGHUP, SIGTERM, SIGINT };
	size_t			 i;

	if (root_refused(conf, allow_root)) {
		config_free(conf);
		return (1);
	}
	memset(&d, 0, sizeof(d));
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	d.store = store_new();
	d.conf = conf;
	d.start_time = (double)now_wall_ns() / 1e9;
	self_metrics_init(&d);
	procstat_open();
	if (http_start(&d, &conf->listen, conf->web) == -1) {
		daemon_free(&d);
		event_base_free(d.base);
		return (1);
	}
	for (i = 0; i < NP_NELEM(sigs); i++) {
		sigs[i] = evsignal_new(d.base, signo[i], on_signal, &d);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			fatalx("cannot watch signal %d", signo[i]);
	}
	/* what needs root is open now: the listener, the captures */
	watchers_apply(&d, conf);
	if (geteuid() == 0 && conf->user != NULL) {
		char	err[256];

		if (priv_drop(conf->user, priv_needed(conf), err,
		    sizeof(err)) == -1) {
			log_err("cannot drop privileges: %s", err);
			for (i = 0; i < NP_NELEM(sigs); i++)
				event_free(sigs[i]);
			daemon_free(&d);
			event_base_free(d.base);
			return (1);
		}
	}
	audit_apply(&d, NULL, conf);
	sched_apply(&d, conf);
	rules_apply(&d, conf);
	snmp_apply(&d, conf);
	agentx_apply(&d, conf);
	/* informs unacknowledged at the last stop go out before "started" */
	state_apply(&d, conf, 1);
	snmp_notify_started(&d);
	config_applied(&d, 1);
	log_info("netprobed %s started: site %s, %zu probes, %zu targets",
	    np_version, conf->site_name, conf->nprobes, d.nts);
	/* the YAML document of the configuration was freed amid the heap */
	heap_trim();
	sd_notify_msg("READY=1");
	watchdog = watchdog_start(d.base);

	event_base_dispatch(d.base);

	if (stopping.ev != NULL)
		event_free(stopping.ev);
	stopping.ev = NULL;
	if (watchdog != NULL)
		event_free(watchdog);
	for (i = 0; i < NP_NELEM(sigs); i++)
		event_free(sigs[i]);
	daemon_free(&d);
	event_base_free(d.base);
	snmp_lib_shutdown();
	log_info("stopped");
	return (0);
}

/* ---- --once -------------------------------------------------------- */

/*
 * --once starts every run, but paced (ONCE_BATCH per millisecond) so a
 * config with thousands of targets does not overflow the receive queues
 * with replies that all arrive in the same instant.
 */
#define ONCE_BATCH	50

struct once {
	struct event_base	*base;
	struct np_config	*conf;
	struct probe_run	**runs;
	/* --once runs a sweep's every destination, each its own probe */
	struct sweep_dest	**dests;	/* per run, for sweeps */
	size_t			 n, started, pending;
	size_t			 probe, target;	/* next to start */
	struct event		*pacer;
};

static void
once_done(struct probe_run *run, void *arg)
{
	struct once	*o = arg;

	if (--o->pending == 0)
		event_base_loopbreak(o->base);
}

static size_t
once_ntargets(const struct probe_cfg *p)
{
	return (p->iso.sweep != NULL ? (size_t)p->iso.sweep->total :
	    p->ntargets);
}

static void
once_pace(evutil_socket_t fd, short ev, void *arg)
{
	struct once	*o = arg;
	struct timeval	 tv = { 0, 1000 };
	size_t		 k;

	for (k = 0; k < ONCE_BATCH && o->started < o->n; k++) {
		const struct probe_cfg	*p;
		struct sweep_dest	*od;

		while (o->target >= once_ntargets(&o->conf->probes[o->probe])) {
			o->probe++;
			o->target = 0;
		}
		p = &o->conf->probes[o->probe];
		o->runs[o->started] = xcalloc(1, sizeof(struct probe_run));
		if (p->iso.sweep == NULL) {
			probe_run_start(o->runs[o->started++], o->base, p,
			    o->target++, once_done, o);
			continue;
		}
		od = o->dests[o->started] = xcalloc(1, sizeof(*od));
		sweep_dest_init(od, p, o->target++);
		probe_run_start(o->runs[o->started++], o->base, &od->cfg, 0,
		    once_done, o);
	}
	if (o->started < o->n)
		evtimer_add(o->pacer, &tv);
}

/* --once: a control's runs are the same cycle as the negative ones. */
static enum iso_control
once_control(const struct once *o, const struct probe_cfg *cfg)
{
	size_t	i, n = 0;

	if (cfg->iso.control == NULL)
		return (IC_NONE);
	for (i = 0; i < o->n; i++)
		if (strcmp(o->runs[i]->cfg->name, cfg->iso.control) == 0) {
			if (o->runs[i]->obs.result != PR_SUCCESS)
				return (IC_FAILED);
			n++;
		}
	return (n > 0 ? IC_OK : IC_UNKNOWN);
}

/* Returns whether the run is as expected (a negative one: blocked). */
static int
print_once(const struct once *o, const struct probe_run *run, FILE *f)
{
	const struct probe_obs	*obs = &run->obs;
	const char		*word = probe_result_name(obs->result);
	double			 lat = obs->duration, mn, avg, mx, jit;
	char			 latency[32];
	struct iso_judgement	 j;

	if (run->cfg->iso.blocked) {
		isolation_judge(run, once_control(o, run->cfg), &j);
		fprintf(f, "%-20s %-5s %-24s %-12s %12s  %s%s%s (%s)\n",
		    run->cfg->name, run->cfg->type->name,
		    run->cfg->targets[run->target], iso_verdict_name(j.verdict),
		    "-", j.reason, j.from[0] ? " from " : "", j.from,
		    obs->detail);
		return (j.verdict == IV_BLOCKED);
	}
	if (obs->result == PR_SUCCESS && run->cfg->type->success_word)
		word = run->cfg->type->success_word;
	if (obs->nrtt > 0) {
		icmp_rtt_stats(obs->rtt, obs->nrtt, &mn, &avg, &mx, &jit);
		lat = avg;
	}
	if (obs->result == PR_SUCCESS)
		snprintf(latency, sizeof(latency), "%.3f ms", lat * 1e3);
	else
		snprintf(latency, sizeof(latency), "-");
	fprintf(f, "%-20s %-5s %-24s %-12s %12s  %s\n", run->cfg->name,
	    run->cfg->type->name, run->cfg->targets[run->target], word,
	    latency, obs->detail);
	return (obs->result == PR_SUCCESS);
}

static int
run_once(struct np_config *conf)
{
	struct once	o;
	size_t		i, failed = 0;

	memset(&o, 0, sizeof(o));
	if ((o.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	o.conf = conf;
	for (i = 0; i < conf->nprobes; i++)
		o.n += once_ntargets(&conf->probes[i]);
	o.pending = o.n;
	o.runs = xcalloc(o.n, sizeof(*o.runs));
	o.dests = xcalloc(o.n, sizeof(*o.dests));
	if ((o.pacer = evtimer_new(o.base, once_pace, &o)) == NULL)
		fatalx("evtimer_new failed");
	if (o.n > 0) {
		once_pace(-1, 0, &o);
		if (o.pending > 0)
			event_base_dispatch(o.base);
	}

	printf("%-20s %-5s %-24s %-12s %12s  %s\n", "PROBE", "TYPE", "TARGET",
	    "RESULT", "LATENCY", "DETAIL");
	for (i = 0; i < o.n; i++)
		failed += !print_once(&o, o.runs[i], stdout);
	for (i = 0; i < o.n; i++) {
		probe_run_free(o.runs[i]);
		free(o.dests[i]);
	}
	free(o.dests);
	printf("%zu of %zu succeeded\n", o.n - failed, o.n);
	free(o.runs);
	event_free(o.pacer);
	isolation_shutdown();
	for (i = 0; probe_types[i] != NULL; i++)
		if (probe_types[i]->shutdown != NULL)
			probe_types[i]->shutdown();
	event_base_free(o.base);
	return (failed ? 1 : 0);
}

/* libevent's own messages, in our log (they went to stderr raw). */
static void
libevent_log(int severity, const char *msg)
{
	if (severity == EVENT_LOG_DEBUG)
		log_debug("libevent: %s", msg);
	else if (severity == EVENT_LOG_MSG)
		log_info("libevent: %s", msg);
	else
		log_warnx("libevent: %s", msg);
}

/* Long-only options: values no short option uses. */
enum { OPT_TEST_RULES = 0x100, OPT_REPLAY, OPT_VERIFY_AUDIT, OPT_ALLOW_ROOT };

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "once", no_argument, NULL, '1' },
		{ "responder", required_argument, NULL, 'R' },
		{ "test-rules", no_argument, NULL, OPT_TEST_RULES },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "verify-audit", required_argument, NULL, OPT_VERIFY_AUDIT },
		{ "allow-root", no_argument, NULL, OPT_ALLOW_ROOT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*path = DEFAULT_CONFIG, *responder = NULL,
				*replay = NULL, *verify = NULL;
	struct np_config	*conf;
	int			 ch, check = 0, once = 0, test_rules = 0,
				    allow_root = 0,
				    verbosity = LOG_LVL_INFO, rc;

	while ((ch = getopt_long(argc, argv, "c:n1R:vqVh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case '1':
			once = 1;
			break;
		case 'R':
			responder = optarg;
			break;
		case OPT_TEST_RULES:
			test_rules = 1;
			break;
		case OPT_REPLAY:
			replay = optarg;
			break;
		case OPT_VERIFY_AUDIT:
			verify = optarg;
			break;
		case OPT_ALLOW_ROOT:
			allow_root = 1;
			break;
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity = LOG_LVL_WARN;
			break;
		case 'V':
			printf("netprobed %s (libevent %s, libyaml %s)\n",
			    np_version, event_get_version(),
			    yaml_get_version_string());
			return (0);
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (test_rules) {
		/* the remaining arguments are the test files */
		if (optind == argc || check || once || responder != NULL) {
			usage(stderr);
			return (2);
		}
		return (rule_test_run(argv + optind, (size_t)(argc - optind),
		    stdout, stderr));
	}
	if (optind != argc || (check && once) ||
	    (verify != NULL && (check || once || replay != NULL)) ||
	    (replay != NULL && (check || once))) {
		usage(stderr);
		return (2);
	}
	if (verify != NULL)
		return (audit_verify(verify, stdout));
	log_init(verbosity);
	event_set_log_callback(libevent_log);
	signal(SIGPIPE, SIG_IGN);
	if (responder != NULL) {
		if (check || once) {
			usage(stderr);
			return (2);
		}
		rc = responder_run(responder);
		libevent_global_shutdown();
		return (rc);
	}

	if ((conf = load(path, 0, NULL)) == NULL)
		return (2);
	if (replay != NULL) {
		rc = watchers_replay(conf, replay, stdout, stderr);
		config_free(conf);
		return (rc);
	}
	if (check) {
		printf("%s: OK (%zu probes, %zu targets)\n", path,
		    conf->nprobes, count_targets(conf));
		config_free(conf);
		return (0);
	}
	if (once) {
		rc = run_once(conf);
		config_free(conf);
		libevent_global_shutdown();
		return (rc);
	}
	rc = run_daemon(conf, allow_root);
	libevent_global_shutdown();
	return (rc);
}
