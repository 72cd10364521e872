/*
 * The probe registry, the run lifecycle (deadline owned here, one result
 * funnel) and the per-target series a run's result lands in.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "probes/probe.h"
#include "probes/isolation.h"

const struct probe_type *const probe_types[] = {
	&probe_type_icmp,
	&probe_type_tcp,
	&probe_type_udp,
	&probe_type_dns,
	&probe_type_http,
	&probe_type_sip,
	&probe_type_h323,
	&probe_type_media,
	&probe_type_link,
	&probe_type_route,
	&probe_type_pmtu,
	NULL
};

static const char *const result_names[PR_MAX] = {
	[PR_SUCCESS] = "success",
	[PR_TIMEOUT] = "timeout",
	[PR_REFUSED] = "refused",
	[PR_UNREACHABLE] = "unreachable",
	[PR_ERROR] = "error",
	[PR_BAD_RESPONSE] = "bad_response",
};

const char *
probe_result_name(enum probe_result r)
{
	return ((unsigned)r < PR_MAX ? result_names[r] : "error");
}

const struct probe_type *
probe_type_find(const char *name)
{
	size_t	i;

	/* a type without start() is not built yet: not offered */
	for (i = 0; probe_types[i] != NULL; i++)
		if (probe_types[i]->start != NULL &&
		    strcmp(probe_types[i]->name, name) == 0)
			return (probe_types[i]);
	return (NULL);
}

void
probe_type_list(char *buf, size_t len)
{
	size_t	i, off = 0;
	int	n;

	buf[0] = '\0';
	for (i = 0; probe_types[i] != NULL && off < len; i++) {
		if (probe_types[i]->start == NULL)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    probe_types[i]->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

const char *
probe_target_parse(const struct probe_type *t, const void *opts,
    const char *in, struct np_addr *addr, char *canon, size_t len)
{
	const char	*why;
	int		 want = t->target_port;

	if (t->target_parse != NULL)
		return (t->target_parse(in, opts, addr, canon, len));
	if (want == NP_PORT_REQUIRED && t->default_port != NULL &&
	    t->default_port(opts) > 0)
		want = t->default_port(opts);
	if (parse_addr(in, want, addr, &why) == -1)
		return (why);
	format_addr(addr, t->target_port != NP_PORT_NONE, canon, len);
	return (NULL);
}

int
probe_net_apply(int fd, const struct probe_net *net, int family)
{
	int		 mark = (int)net->fwmark;

	/* a VRF is its master device: binding to it selects its table */
	const char	*dev = net->ifname[0] != '\0' ? net->ifname : net->vrf;

	if (dev[0] != '\0' && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
	    (socklen_t)strlen(dev)) == -1)
		return (-1);
	if (net->fwmark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark,
	    sizeof(mark)) == -1)
		return (-1);
	if (net->source.ss.ss_family == family && bind(fd,
	    (const struct sockaddr *)&net->source.ss, net->source.len) == -1)
		return (-1);
	return (0);
}

ssize_t
probe_recv(int fd, void *buf, size_t len, struct sockaddr_storage *from,
    uint64_t *rx_wall, int *truncated)
{
	union {
		char		b[256];
		struct cmsghdr	align;
	} cm;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*c;
	struct timespec		 ts;
	ssize_t			 n;

	memset(&msg, 0, sizeof(msg));
	memset(from, 0, sizeof(*from));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_name = from;
	msg.msg_namelen = sizeof(*from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.b;
	msg.msg_controllen = sizeof(cm.b);
	*rx_wall = 0;
	if ((n = recvmsg(fd, &msg, 0)) == -1)
		return (-1);
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*rx_wall = (uint64_t)ts.tv_sec * 1000000000u +
			    (uint64_t)ts.tv_nsec;
		}
	if (truncated != NULL)
		*truncated = (msg.msg_flags & MSG_TRUNC) != 0;
	return (n);
}

/*
 * netns: the socket is made inside the namespace and stays there (a
 * socket belongs to the namespace it was created in), then the thread
 * returns to ours.  setns(2) needs CAP_SYS_ADMIN.
 */
int
probe_net_socket(const struct probe_net *net, int family, int type, int proto)
{
	static int	 self = -1;
	char		 path[96];
	int		 ns, fd, saved;

	if (net == NULL || net->netns[0] == '\0')
		return (socket(family, type, proto));
	if (self == -1 && (self = open("/proc/self/ns/net",
	    O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	snprintf(path, sizeof(path), "/run/netns/%s", net->netns);
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	if (setns(ns, CLONE_NEWNET) == -1) {
		saved = errno;
		close(ns);
		errno = saved;
		return (-1);
	}
	fd = socket(family, type, proto);
	saved = errno;
	close(ns);
	if (setns(self, CLONE_NEWNET) == -1)
		fatalx("cannot return from network namespace %s: %s",
		    net->netns, strerror(errno));
	errno = saved;
	return (fd);
}

int
probe_icmp_socket(const struct probe_net *net, int family, int *dgram)
{
	int	proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6, fd;

	*dgram = 0;
	fd = probe_net_socket(net, family, SOCK_RAW | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, proto);
	if (fd == -1 && (errno == EPERM || errno == EACCES)) {
		fd = probe_net_socket(net, family, SOCK_DGRAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, proto);
		*dgram = 1;
	}
	return (fd);
}

int
probe_socket(struct probe_run *run, int family, int type, int proto)
{
	int	fd;

	fd = probe_net_socket(&run->cfg->net, family, type | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, proto);
	if (fd == -1) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "%s%s%ssocket: %s", run->cfg->net.netns[0] ? "netns " : "",
		    run->cfg->net.netns, run->cfg->net.netns[0] ? ": " : "",
		    strerror(errno));
		return (-1);
	}
	if (probe_net_apply(fd, &run->cfg->net, family) == -1) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "source/interface/fwmark: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

void
probe_remaining(const struct probe_run *run, struct timeval *tv)
{
	uint64_t	end = run->start_ns + run->cfg->timeout_ms * 1000000,
			now = now_mono_ns(), left = end > now ? end - now : 0;

	tv->tv_sec = (time_t)(left / 1000000000);
	tv->tv_usec = (suseconds_t)(left % 1000000000 / 1000);
}

void
probe_log(struct probe_run *run, const char *fmt, ...)
{
	va_list	ap;

	if (run->debug == NULL)
		return;
	evbuffer_add_printf(run->debug, "%9.3fms  ",
	    (double)(now_mono_ns() - run->start_ns) / 1e6);
	va_start(ap, fmt);
	evbuffer_add_vprintf(run->debug, fmt, ap);
	va_end(ap);
	evbuffer_add(run->debug, "\n", 1);
}

int
np_regex_match(const struct np_regex *r, const char *text)
{
	return (regexec(&r->re, text, 0, NULL, 0) == 0);
}

void
probe_opts_free(const struct probe_type *t, void *opts)
{
	const struct opt_def	*o;
	char			*base = opts, **l;
	struct np_regex		*re;
	struct np_labels	*m;
	size_t			 i, j;

	if (opts == NULL)
		return;
	for (i = 0; i < t->nopts; i++) {
		o = &t->opts[i];
		switch (o->kind) {
		case OPT_STRING:
			free(*(char **)(base + o->off));
			break;
		case OPT_STRLIST:
			l = *(char ***)(base + o->off);
			for (j = 0; l != NULL && l[j] != NULL; j++)
				free(l[j]);
			free(l);
			break;
		case OPT_REGEX:
			if ((re = *(struct np_regex **)(base + o->off)) !=
			    NULL) {
				regfree(&re->re);
				free(re->src);
				free(re);
			}
			break;
		case OPT_UINTLIST:
			free(((struct np_uintlist *)(base + o->off))->v);
			break;
		case OPT_REGEXLIST: {
			struct np_regexlist	*rl = (struct np_regexlist *)
						    (base + o->off);

			for (j = 0; j < rl->n; j++) {
				regfree(&rl->v[j].re);
				free(rl->v[j].src);
			}
			free(rl->v);
			break;
		}
		case OPT_MAP:
			m = (struct np_labels *)(base + o->off);
			for (j = 0; j < m->n; j++) {
				free(m->v[j].name);
				free(m->v[j].value);
			}
			free(m->v);
			break;
		default:
			break;
		}
	}
	free(opts);
}

enum probe_result
probe_errno_result(int err)
{
	switch (err) {
	case 0:
		return (PR_SUCCESS);
	case ECONNREFUSED:
		return (PR_REFUSED);
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ENONET:
		return (PR_UNREACHABLE);
	case ETIMEDOUT:
		return (PR_TIMEOUT);
	case ECONNRESET:
	case EPIPE:
		return (PR_BAD_RESPONSE);	/* the peer broke off */
	default:
		return (PR_ERROR);
	}
}

/* ---- runs ---------------------------------------------------------- */

static void
run_end(struct probe_run *run, int timed_out)
{
	run->active = 0;
	if (run->deadline != NULL)
		event_del(run->deadline);
	if (run->watched)
		isolation_unwatch(run);	/* reads what is queued first */
	run->type->finish(run, timed_out);
	run->obs.duration = (double)(now_mono_ns() - run->start_ns) / 1e9;
}

static void
run_deadline(evutil_socket_t fd, short ev, void *arg)
{
	struct probe_run	*run = arg;

	if (!run->active)
		return;
	run->obs.result = PR_TIMEOUT;
	run_end(run, 1);
	if (run->obs.result == PR_TIMEOUT && run->obs.detail[0] == '\0')
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "no answer within %llums",
		    (unsigned long long)run->cfg->timeout_ms);
	run->done(run, run->done_arg);
}

void
probe_run_start(struct probe_run *run, struct event_base *base,
    const struct probe_cfg *cfg, size_t target,
    void (*done)(struct probe_run *, void *), void *arg)
{
	struct timeval		 tv;
	const struct timeval	*ctv;

	if (run->active)
		fatalx("probe_run_start: run of %s already active", cfg->name);
	if (run->state == NULL || run->type != cfg->type) {
		free(run->state);
		run->state = xcalloc(1, cfg->type->state_size);
	} else
		memset(run->state, 0, cfg->type->state_size);
	if (run->deadline == NULL || run->base != base) {
		if (run->deadline != NULL)
			event_free(run->deadline);
		run->deadline = evtimer_new(base, run_deadline, run);
		if (run->deadline == NULL)
			fatalx("evtimer_new failed");
	}
	memset(&run->obs, 0, sizeof(run->obs));
	run->cfg = cfg;
	run->type = cfg->type;
	run->target = target;
	run->addr = &cfg->addrs[target];
	run->base = base;
	run->done = done;
	run->done_arg = arg;
	run->start_ns = now_mono_ns();
	run->active = 1;
	tv.tv_sec = (time_t)(cfg->timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(cfg->timeout_ms % 1000) * 1000;
	/*
	 * Every run of a probe has the same timeout: a libevent common
	 * timeout keeps such deadlines in a FIFO queue, O(1) to add and to
	 * delete, where the heap cost O(log n) cache misses per run with
	 * thousands of targets (docs/performance.md).  The lookup is by
	 * duration in this base, so it is never stale; past libevent's
	 * limit of distinct durations it says NULL and the heap serves.
	 */
	if ((ctv = event_base_init_common_timeout(base, &tv)) == NULL)
		ctv = &tv;
	evtimer_add(run->deadline, ctv);
	if (cfg->iso.blocked)
		isolation_watch(run);	/* before the first packet leaves */
	cfg->type->start(run);
}

void
probe_done(struct probe_run *run, enum probe_result r)
{
	if (!run->active)
		fatalx("probe_done: %s run not active", run->cfg->name);
	run->obs.result = r;
	run_end(run, 0);
	run->done(run, run->done_arg);
}

void
probe_run_abort(struct probe_run *run)
{
	if (run->active)
		run_end(run, 0);
}

void
probe_run_free(struct probe_run *run)
{
	if (run == NULL)
		return;
	probe_run_abort(run);
	if (run->deadline != NULL)
		event_free(run->deadline);
	free(run->state);
	free(run);
}

/* ---- per-target series --------------------------------------------- */

/* Buckets for run durations and RTTs: 100us to 10s. */
static const double duration_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

#define FAM(st, name, help, type) \
	store_family((st), (name), (help), (type), NULL, 0)

void
probe_families_register(struct store *st)
{
	FAM(st, "probe_success",
	    "Whether the last run of the probe succeeded (1) or not (0).",
	    METRIC_GAUGE);
	FAM(st, "probe_duration_seconds",
	    "How long the last run of the probe took, in seconds.",
	    METRIC_GAUGE);
	FAM(st, "netprobe_probe_runs_total",
	    "Probe runs completed, by result class.", METRIC_COUNTER);
	store_family(st, "netprobe_probe_duration_seconds",
	    "Duration of probe runs, in seconds.", METRIC_HISTOGRAM,
	    duration_buckets, NP_NELEM(duration_buckets));
	FAM(st, "netprobe_probe_last_run_timestamp_seconds",
	    "When the last run of the probe ended.", METRIC_GAUGE);
	FAM(st, "netprobe_probe_schedule_lag_seconds",
	    "How late the last run started after its scheduled time.",
	    METRIC_GAUGE);
}

char *
target_state_key(const struct probe_cfg *cfg, size_t target)
{
	char	*key, *tmp;
	size_t	 i;

	xasprintf(&key, "%s\x1f%s\x1f%s", cfg->name, cfg->type->name,
	    cfg->targets[target]);
	for (i = 0; i < cfg->labels.n; i++) {
		xasprintf(&tmp, "%s\x1f%s=%s", key, cfg->labels.v[i].name,
		    cfg->labels.v[i].value);
		free(key);
		key = tmp;
	}
	return (key);
}

/*
 * A target's labels (probe, type, target, then the probe's own) are not
 * kept with it: they are its configuration's, put together here for the
 * store, which keeps one copy of each distinct label text.
 */
struct series *
target_series(struct target_state *ts, struct family *f, ...)
{
	const struct probe_cfg	*cfg = ts->cfg;
	struct np_label		 some[16], *v = some;
	struct np_labels	 l = { NULL, 3 + cfg->labels.n };
	struct series		*s;
	va_list			 ap;
	size_t			 i;

	if (cfg->no_histograms && family_type(f) == METRIC_HISTOGRAM)
		return (NULL);		/* histograms: false */
	if (l.n > sizeof(some) / sizeof(some[0]))
		v = xreallocarray(NULL, l.n, sizeof(*v));
	v[0].name = (char *)"probe";
	v[0].value = cfg->name;
	v[1].name = (char *)"type";
	v[1].value = (char *)cfg->type->name;
	v[2].name = (char *)"target";
	v[2].value = cfg->targets[ts->target];
	for (i = 0; i < cfg->labels.n; i++)
		v[3 + i] = cfg->labels.v[i];
	l.v = v;
	va_start(ap, f);
	s = store_series_va(ts->store, f, &l, ap);
	va_end(ap);
	if (v != some)
		free(v);
	return (s);
}

void
target_state_histograms(struct target_state *ts)
{
	if (ts->cfg->no_histograms) {
		store_release(ts->store, ts->hist);
		ts->hist = NULL;
	} else if (ts->hist == NULL)
		ts->hist = target_series(ts, store_family(ts->store,
		    "netprobe_probe_duration_seconds", "", METRIC_HISTOGRAM,
		    NULL, 0), NULL);
}

struct target_state *
target_state_new(struct store *st, const struct probe_cfg *cfg, size_t target)
{
	struct target_state	*ts;
	size_t			 nextra = cfg->type->nextra;

	if (nextra > TS_MAX_EXTRA)
		fatalx("probe type %s: %zu series of its own", cfg->type->name,
		    nextra);
	ts = xcalloc(1, sizeof(*ts) + nextra * sizeof(ts->extra[0]));
	ts->nextra = nextra;

	ts->last_ok = -1;
	ts->last_result = -1;
	ts->cfg = cfg;
	ts->target = target;
	ts->store = st;

	probe_families_register(st);
	ts->success = target_series(ts, FAM(st, "probe_success", "",
	    METRIC_GAUGE), NULL);
	ts->duration = target_series(ts, FAM(st, "probe_duration_seconds", "",
	    METRIC_GAUGE), NULL);
	target_state_histograms(ts);
	ts->last_run = target_series(ts, FAM(st,
	    "netprobe_probe_last_run_timestamp_seconds", "", METRIC_GAUGE),
	    NULL);
	ts->lag = target_series(ts, FAM(st,
	    "netprobe_probe_schedule_lag_seconds", "", METRIC_GAUGE), NULL);
	if (cfg->type->attach != NULL)
		cfg->type->attach(ts);
	if (cfg->iso.blocked)
		isolation_attach(ts);
	return (ts);
}

void
target_state_record(struct target_state *ts, const struct probe_run *run)
{
	const struct probe_obs	*obs = &run->obs;
	enum probe_result	 r = obs->result < PR_MAX ? obs->result :
				    PR_ERROR;

	ts->last_result = (int)r;
	ts->last_duration = obs->duration;
	series_set(ts->success, r == PR_SUCCESS);
	series_set(ts->duration, obs->duration);
	series_observe(ts->hist, obs->duration);
	if (ts->runs[r] == NULL)
		ts->runs[r] = target_series(ts, FAM(ts->store,
		    "netprobe_probe_runs_total", "", METRIC_COUNTER), "result",
		    probe_result_name(r), NULL);
	series_add(ts->runs[r], 1);
	/* to the microsecond: a double of this size holds no finer, and
	 * /metrics writes a value on that grid without printf (store.c) */
	series_set(ts->last_run, (double)(now_wall_ns() / 1000) / 1e6);
	series_set(ts->lag, run->lag);
	if (ts->cfg->type->record != NULL)
		ts->cfg->type->record(ts, run);
}

void
target_state_free(struct target_state *ts)
{
	size_t	i;

	if (ts == NULL)
		return;
	/* (the scheduler took it out of its batch: sched.c) */
	probe_run_free(ts->run);
	store_release(ts->store, ts->success);
	store_release(ts->store, ts->duration);
	store_release(ts->store, ts->hist);
	store_release(ts->store, ts->last_run);
	store_release(ts->store, ts->lag);
	for (i = 0; i < PR_MAX; i++)
		store_release(ts->store, ts->runs[i]);
	for (i = 0; i < ts->nextra; i++)
		store_release(ts->store, ts->extra[i]);
	isolation_detach(ts);
	free(ts);
}
