/*
 * icmp: IPv4 and IPv6 echo.  All targets share one socket per address
 * family (and per network context and DF setting); replies are matched
 * by a per-run random identifier, sequence, source address and a random
 * cookie per echo in the payload, so a stale or spoofed answer never
 * counts (not even one made from another echo of the same run).  RTTs
 * use the kernel's receive timestamp (SO_TIMESTAMPNS) where it gives one.
 *
 * Raw sockets need CAP_NET_RAW; without it we fall back to unprivileged
 * datagram ICMP sockets (net.ipv4.ping_group_range), where the kernel
 * owns the identifier.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <linux/icmp.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/icmp_pkt.h"
#include "probes/probe.h"

struct icmp_opts {
	uint64_t	count;
	uint64_t	packet_interval;	/* ms */
	uint64_t	size;			/* payload bytes */
	int		dont_fragment;
	uint64_t	ttl;			/* 0: system default */
};

struct icmp_sock {
	int			 family;
	int			 dgram;		/* kernel owns the id */
	int			 df;
	struct probe_net	 net;
	int			 fd;
	struct event		*ev;
	struct icmp_sock	*next;
};

struct icmp_run {
	struct probe_run	*run;
	struct icmp_sock	*sock;
	struct event		*tx;
	uint16_t		 id;
	unsigned		 count, nsent, nanswered, nerrors;
	enum icmp_kind		 error_kind;
	uint16_t		 seq[PROBE_MAX_SAMPLES];
	/* one per echo: a reply forged from one echo (same cookie, the
	 * next sequence number) cannot answer another */
	uint32_t		 cookie[PROBE_MAX_SAMPLES];
	uint64_t		 tx_wall[PROBE_MAX_SAMPLES];
	uint64_t		 tx_mono[PROBE_MAX_SAMPLES];
	uint8_t			 answered[PROBE_MAX_SAMPLES];
};

/* Outstanding echoes by sequence number: one table for all runs. */
static struct {
	struct icmp_run	*r;
	uint8_t		 idx;
} slots[65536];
static uint16_t		 next_seq;
static struct icmp_sock	*socks;

static void	icmp_read(evutil_socket_t, short, void *);

/*
 * Per-run identifiers come from arc4random, drawn a page at a time: glibc
 * 2.36's arc4random() is one getrandom(2) system call per call, which at
 * two per run was a tenth of the daemon's CPU per ICMP probe (perf, 10,000
 * targets at 1 s; docs/performance.md).  The bytes are as unpredictable;
 * each is used once.
 */
static uint8_t		 rnd_pool[4096];
static size_t		 rnd_left;

static void
icmp_random(void *p, size_t len)
{
	if (rnd_left < len) {
		arc4random_buf(rnd_pool, sizeof(rnd_pool));
		rnd_left = sizeof(rnd_pool);
	}
	rnd_left -= len;
	memcpy(p, rnd_pool + rnd_left, len);
	explicit_bzero(rnd_pool + rnd_left, len);
}

static const struct opt_def icmp_opt_defs[] = {
	OPT("count", OPT_UINT, struct icmp_opts, count, 1, PROBE_MAX_SAMPLES),
	OPT("packet_interval", OPT_DURATION, struct icmp_opts,
	    packet_interval, 1, 60000),
	OPT("size", OPT_UINT, struct icmp_opts, size, ICMP_MIN_PAYLOAD,
	    65000),
	OPT("dont_fragment", OPT_BOOL, struct icmp_opts, dont_fragment, 0, 1),
	OPT("ttl", OPT_UINT, struct icmp_opts, ttl, 1, 255),
};

static void
icmp_opts_default(void *p)
{
	struct icmp_opts	*o = p;

	o->count = 3;
	o->packet_interval = 100;
	o->size = 56;
}

static const char *
icmp_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct icmp_opts	*o = cfg->opts;
	char			 pi[32], to[32];

	if ((o->count - 1) * o->packet_interval >= cfg->timeout_ms) {
		format_duration_ms(o->packet_interval, pi, sizeof(pi));
		format_duration_ms(cfg->timeout_ms, to, sizeof(to));
		snprintf(buf, len, "%llu packets %s apart do not fit in the "
		    "%s timeout", (unsigned long long)o->count, pi, to);
		*key = "packet_interval";
		return (buf);
	}
	return (NULL);
}

static int
icmp_sock_setup(struct icmp_sock *s)
{
	int	on = 1, rcvbuf = 4 << 20, pmtu;

	setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	/* replies from many targets arrive together: a deep queue keeps
	 * them; FORCE needs CAP_NET_ADMIN, else rmem_max caps it */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	if (s->family == AF_INET) {
		if (!s->dgram) {
			struct icmp_filter	f;

			f.data = ~((1U << ICMP_ECHOREPLY) |
			    (1U << ICMP_DEST_UNREACH) |
			    (1U << ICMP_TIME_EXCEEDED));
			setsockopt(s->fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
		}
		pmtu = s->df ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
		if (setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu)) == -1)
			return (-1);
	} else {
		struct icmp6_filter	f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
		pmtu = s->df ? IPV6_PMTUDISC_DO : IPV6_PMTUDISC_DONT;
		if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu,
		    sizeof(pmtu)) == -1)
			return (-1);
	}
	return (probe_net_apply(s->fd, &s->net, s->family));
}

/* The shared socket for this family/context/DF, opened on first use. */
static struct icmp_sock *
icmp_sock_get(struct event_base *base, int family, const struct icmp_opts *o,
    const struct probe_net *net, char *why, size_t whylen)
{
	struct icmp_sock	*s;

	for (s = socks; s != NULL; s = s->next)
		if (s->family == family && s->df == o->dont_fragment &&
		    memcmp(&s->net, net, sizeof(s->net)) == 0)
			return (s);
	s = xcalloc(1, sizeof(*s));
	s->family = family;
	s->df = o->dont_fragment;
	s->net = *net;
	s->fd = probe_icmp_socket(&s->net, family, &s->dgram);
	if (s->fd == -1 || icmp_sock_setup(s) == -1) {
		snprintf(why, whylen, "cannot open ICMP%s socket: %s",
		    family == AF_INET6 ? "v6" : "", strerror(errno));
		if (s->fd != -1)
			close(s->fd);
		free(s);
		return (NULL);
	}
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, icmp_read, s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1)
		fatalx("icmp: cannot add socket event");
	s->next = socks;
	socks = s;
	log_debug("icmp: opened %s %s socket", family == AF_INET ? "IPv4" :
	    "IPv6", s->dgram ? "datagram" : "raw");
	return (s);
}

static void
icmp_shutdown(void)
{
	struct icmp_sock	*s, *n;

	for (s = socks; s != NULL; s = n) {
		n = s->next;
		event_free(s->ev);
		close(s->fd);
		free(s);
	}
	socks = NULL;
}

/* A request that could not be sent counts as answered: no reply comes. */
static void
icmp_send_failed(struct icmp_run *r, unsigned i, int err)
{
	r->answered[i] = 1;
	r->nanswered++;
	r->nerrors++;
	r->error_kind = err == EMSGSIZE ? ICMPK_TOO_BIG :
	    (err == ENETUNREACH || err == EHOSTUNREACH) ? ICMPK_UNREACH :
	    ICMPK_OTHER;
	snprintf(r->run->obs.detail, sizeof(r->run->obs.detail), "send: %s",
	    strerror(err));
}

static void
icmp_send_one(struct icmp_run *r)
{
	static uint8_t		 pkt[65536];
	const struct icmp_opts	*o = r->run->cfg->opts;
	const struct np_addr	*a = r->run->addr;
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	} cm;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*c;
	unsigned		 i = r->nsent;
	size_t			 len;
	unsigned		 n;
	int			 ttl = (int)o->ttl;

	/* a free sequence number: 65536 echoes may be in flight at once */
	for (n = 0; slots[next_seq].r != NULL && n < 65536; n++)
		next_seq++;
	r->nsent++;
	r->run->obs.sent++;
	if (n == 65536) {
		icmp_send_failed(r, i, ENOBUFS);
		return;
	}
	r->seq[i] = next_seq++;
	slots[r->seq[i]].r = r;
	slots[r->seq[i]].idx = (uint8_t)i;
	icmp_random(&r->cookie[i], sizeof(r->cookie[i]));
	len = icmp_echo_build(pkt, sizeof(pkt), a->ss.ss_family == AF_INET6,
	    r->id, r->seq[i], r->cookie[i], (size_t)o->size);

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = pkt;
	iov.iov_len = len;
	msg.msg_name = (void *)&a->ss;
	msg.msg_namelen = a->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (ttl != 0) {
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = a->ss.ss_family == AF_INET ? IPPROTO_IP :
		    IPPROTO_IPV6;
		c->cmsg_type = a->ss.ss_family == AF_INET ? IP_TTL :
		    IPV6_HOPLIMIT;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &ttl, sizeof(int));
	}
	r->tx_wall[i] = now_wall_ns();
	r->tx_mono[i] = now_mono_ns();
	if (sendmsg(r->sock->fd, &msg, 0) == -1)
		icmp_send_failed(r, i, errno);
	else
		probe_log(r->run, "echo request id %u seq %u, %zu bytes",
		    r->id, r->seq[i], len);
}

static enum probe_result
icmp_result(const struct icmp_run *r)
{
	if (r->run->obs.received > 0)
		return (PR_SUCCESS);
	if (r->nerrors > 0)
		return (r->error_kind == ICMPK_OTHER ? PR_ERROR :
		    PR_UNREACHABLE);
	return (PR_TIMEOUT);
}

static void
icmp_maybe_done(struct icmp_run *r)
{
	if (r->nsent == r->count && r->nanswered == r->count)
		probe_done(r->run, icmp_result(r));
}

static void
icmp_tx(evutil_socket_t fd, short ev, void *arg)
{
	struct icmp_run	*r = arg;

	icmp_send_one(r);
	if (r->nsent == r->count)
		event_del(r->tx);
	icmp_maybe_done(r);
}

static void
icmp_start(struct probe_run *run)
{
	struct icmp_run		*r = run->state;
	const struct icmp_opts	*o = run->cfg->opts;
	struct timeval		 tv;

	r->run = run;
	r->count = (unsigned)o->count;
	icmp_random(&r->id, sizeof(r->id));
	r->sock = icmp_sock_get(run->base, run->addr->ss.ss_family, o,
	    &run->cfg->net, run->obs.detail, sizeof(run->obs.detail));
	if (r->sock == NULL) {
		probe_done(run, PR_ERROR);
		return;
	}
	if (r->count > 1) {
		r->tx = event_new(run->base, -1, EV_PERSIST, icmp_tx, r);
		tv.tv_sec = (time_t)(o->packet_interval / 1000);
		tv.tv_usec = (suseconds_t)(o->packet_interval % 1000) * 1000;
		if (r->tx == NULL || event_add(r->tx, &tv) == -1)
			fatalx("icmp: cannot add timer");
	}
	icmp_send_one(r);
	icmp_maybe_done(r);
}

static void
icmp_finish(struct probe_run *run, int timed_out)
{
	struct icmp_run	*r = run->state;
	unsigned	 i;

	if (r->tx != NULL) {
		event_free(r->tx);
		r->tx = NULL;
	}
	for (i = 0; i < r->nsent; i++)
		if (slots[r->seq[i]].r == r)
			slots[r->seq[i]].r = NULL;
	if (timed_out && r->sock != NULL)
		run->obs.result = icmp_result(r);
	if (run->obs.result == PR_SUCCESS || run->obs.detail[0] == '\0')
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "%u/%u replies", run->obs.received, run->obs.sent);
}

static void
icmp_got(struct icmp_sock *s, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *from, uint64_t rx_wall)
{
	struct icmp_info	 info;
	struct icmp_run		*r;
	struct probe_obs	*obs;
	unsigned		 i;
	double			 rtt;
	uint64_t		 now = now_mono_ns();

	if (icmp_parse(buf, len, s->family == AF_INET6,
	    s->family == AF_INET && !s->dgram, &info) == -1 ||
	    info.kind == ICMPK_OTHER)
		return;
	if ((r = slots[info.seq].r) == NULL || r->sock != s ||
	    (!s->dgram && info.id != r->id))
		return;
	i = slots[info.seq].idx;
	if (r->answered[i])
		return;		/* duplicate */
	obs = &r->run->obs;
	if (info.kind == ICMPK_ECHO_REPLY) {
		if (!addr_match(r->run->addr, from, 0) || !info.has_cookie ||
		    info.cookie != r->cookie[i])
			return;
		rtt = (double)(int64_t)(rx_wall - r->tx_wall[i]) / 1e9;
		if (rx_wall == 0 || rtt < 0 || rtt > 600)
			rtt = (double)(now - r->tx_mono[i]) / 1e9;
		if (obs->nrtt < PROBE_MAX_SAMPLES)
			obs->rtt[obs->nrtt++] = rtt;
		obs->received++;
		probe_log(r->run, "echo reply seq %u, rtt %.3fms", info.seq,
		    rtt * 1e3);
	} else {
		char	 host[NP_ADDRSTRLEN];
		struct np_addr	 a;

		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, from, sizeof(a.ss));
		format_addr(&a, 0, host, sizeof(host));
		r->nerrors++;
		r->error_kind = info.kind;
		snprintf(obs->detail, sizeof(obs->detail), "%s from %s",
		    info.kind == ICMPK_TOO_BIG ? "packet too big" :
		    info.kind == ICMPK_TIME_EXCEEDED ? "time exceeded" :
		    "destination unreachable", host);
	}
	r->answered[i] = 1;
	r->nanswered++;
	icmp_maybe_done(r);
}

static void
icmp_read(evutil_socket_t fd, short ev, void *arg)
{
	struct icmp_sock	*s = arg;
	uint8_t			 buf[2048];
	struct sockaddr_storage	 from;
	uint64_t		 rx_wall;
	ssize_t			 n;
	int			 budget;

	/* bounded, so a flood cannot starve the rest of the loop */
	for (budget = 0; budget < 256; budget++) {
		/* a long reply is cut: its headers and cookie are enough */
		if ((n = probe_recv(fd, buf, sizeof(buf), &from, &rx_wall,
		    NULL)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("icmp: recvmsg");
			return;
		}
		icmp_got(s, buf, (size_t)n, &from, rx_wall);
	}
}

/* ---- series -------------------------------------------------------- */

enum { X_SENT, X_RECV, X_RTT, X_MIN, X_AVG, X_MAX, X_JITTER, X_LOSS, X_NUM };

static const double rtt_buckets[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5,
};

static void
icmp_attach(struct target_state *ts)
{
	struct store	*st = ts->store;

	ts->extra[X_SENT] = target_series(ts, store_family(st,
	    "netprobe_icmp_packets_sent_total",
	    "ICMP echo requests sent.", METRIC_COUNTER, NULL, 0), NULL);
	ts->extra[X_RECV] = target_series(ts, store_family(st,
	    "netprobe_icmp_packets_received_total",
	    "ICMP echo replies received and matched.", METRIC_COUNTER,
	    NULL, 0), NULL);
	ts->extra[X_RTT] = target_series(ts, store_family(st,
	    "netprobe_icmp_rtt_seconds", "Round-trip time of every echo "
	    "reply, in seconds.", METRIC_HISTOGRAM, rtt_buckets,
	    NP_NELEM(rtt_buckets)), NULL);
	ts->extra[X_MIN] = target_series(ts, store_family(st,
	    "netprobe_icmp_rtt_min_seconds", "Smallest round-trip time in "
	    "the last run, in seconds.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_AVG] = target_series(ts, store_family(st,
	    "netprobe_icmp_rtt_avg_seconds", "Mean round-trip time in the "
	    "last run, in seconds.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_MAX] = target_series(ts, store_family(st,
	    "netprobe_icmp_rtt_max_seconds", "Largest round-trip time in "
	    "the last run, in seconds.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_JITTER] = target_series(ts, store_family(st,
	    "netprobe_icmp_jitter_seconds", "Mean difference between "
	    "consecutive round-trip times in the last run, in seconds.",
	    METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_LOSS] = target_series(ts, store_family(st,
	    "netprobe_icmp_packet_loss_ratio", "Share of echo requests "
	    "without a reply in the last run (0 to 1).", METRIC_GAUGE, NULL,
	    0), NULL);
}

static void
icmp_record(struct target_state *ts, const struct probe_run *run)
{
	const struct probe_obs	*obs = &run->obs;
	double		min, avg, max, jitter;
	unsigned	i;

	series_add(ts->extra[X_SENT], obs->sent);
	series_add(ts->extra[X_RECV], obs->received);
	for (i = 0; i < obs->nrtt; i++)
		series_observe(ts->extra[X_RTT], obs->rtt[i]);
	if (obs->sent > 0)
		series_set(ts->extra[X_LOSS], 1.0 -
		    (double)obs->received / obs->sent);
	if (obs->nrtt == 0) {
		series_unset(ts->extra[X_MIN]);
		series_unset(ts->extra[X_AVG]);
		series_unset(ts->extra[X_MAX]);
		series_unset(ts->extra[X_JITTER]);
		return;
	}
	icmp_rtt_stats(obs->rtt, obs->nrtt, &min, &avg, &max, &jitter);
	series_set(ts->extra[X_MIN], min);
	series_set(ts->extra[X_AVG], avg);
	series_set(ts->extra[X_MAX], max);
	if (obs->nrtt > 1)
		series_set(ts->extra[X_JITTER], jitter);
	else
		series_unset(ts->extra[X_JITTER]);
}

const struct probe_type probe_type_icmp = {
	.name = "icmp",
	.target_port = NP_PORT_NONE,
	.opts = icmp_opt_defs,
	.nopts = NP_NELEM(icmp_opt_defs),
	.opts_size = sizeof(struct icmp_opts),
	.opts_default = icmp_opts_default,
	.check = icmp_check,
	.state_size = sizeof(struct icmp_run),
	.nextra = X_NUM,
	.start = icmp_start,
	.finish = icmp_finish,
	.attach = icmp_attach,
	.record = icmp_record,
	.success_word = "reply",
	.shutdown = icmp_shutdown,
};
