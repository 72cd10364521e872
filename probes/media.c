/*
 * media: the path conference audio takes.  One run sends an RTP stream
 * sized like a voice call (default 50 packets/s of 160 octets, G.711 at
 * 20 ms, DSCP EF) to a `netprobed --responder`, which echoes every
 * packet with its own reception report (msg_rtp.h has the format).  From
 * the echoes the probe measures, per direction where it can:
 *
 *   upstream (probe -> responder): loss, RFC 3550 jitter and late
 *	packets as the responder counted them, from its latest report;
 *   downstream (responder -> probe): the same, from the echoes' own RTP
 *	sequence numbers, timestamps and the responder's echo counter;
 *   round trip: loss, RTT (minus the responder's hold time) and the
 *	jitter of echo arrivals against the requests' timestamps.
 *
 * A peer that reflects the packets unchanged (any UDP echo service) gives
 * the round-trip figures only.  Per-direction loss covers the stream up
 * to the last report that came back; packets after it count in the
 * round-trip loss only.  When nothing comes back at all the probe cannot
 * tell which way the stream was cut: the round-trip loss is 1 and the
 * per-direction series are absent (the responder logs every stream it
 * received, which tells the other half).
 *
 * MOS: the simplified E-model of PROTOCOLS.md 5.1 for each direction,
 * with latency = mean RTT / 2 (no synchronised clocks, so no one-way
 * delay), that direction's jitter and loss; the exported R and MOS are
 * those of the worse direction (round-trip figures for a plain echo).
 *
 * Echoes must come from the target's address and port (connected
 * socket), carry this run's SSRC and random cookie, and name a request
 * that was sent: a stale or forged echo never counts.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/msg_rtp.h"
#include "probes/probe.h"

#define MEDIA_MAX_PACKETS	10000	/* per run */
#define MEDIA_BURST		64	/* packets sent per timer callback */

struct media_opts {
	uint64_t	pps;		/* packets_per_second */
	uint64_t	duration;	/* ms; 0: 2s or half the timeout */
	uint64_t	payload_size;
	uint64_t	dscp;
};

/* What the last run measured, for record(). */
struct media_stats {
	int		 echoed;	/* at least one echo came back */
	int		 dirs;		/* per-direction figures known */
	int		 has_jit_rt, has_jit_down;
	double		 loss_rt, loss_up, loss_down;
	double		 jit_rt, jit_up, jit_down;	/* seconds */
	uint32_t	 late_up, late_down;
	double		 rtt_min, rtt_avg, rtt_max;	/* seconds */
	double		 r, mos;
};

struct media_run {
	struct probe_run	*run;
	int			 fd;
	struct event		*rx;
	struct event		*tx;		/* pacing */
	struct event		*end;		/* lingering after the last */
	uint32_t		 ssrc, cookie, ts0;
	uint16_t		 seq0;
	unsigned		 pps, count, nsent;
	size_t			 psize;
	uint64_t		 t0;		/* monotonic ns, slot 0 */
	uint64_t		*tx_ns;		/* per packet, monotonic */
	uint8_t			*echoed;	/* per packet */
	unsigned		 rt_received, plain, bad;
	char			 bad_why[64];
	double			 rtt_sum, rtt_min, rtt_max;
	unsigned		 nrtt;
	struct rtp_seqstat	 down;
	struct rtp_jitter	 down_jit, rt_jit;
	uint32_t		 down_sent;	/* highest reported */
	int			 have_report;
	struct media_block	 report;	/* the latest one */
	struct media_stats	 st;
};

static const struct opt_def media_opt_defs[] = {
	OPT("packets_per_second", OPT_UINT, struct media_opts, pps, 1, 1000),
	OPT("duration", OPT_DURATION, struct media_opts, duration, 100,
	    600000),
	OPT("payload_size", OPT_UINT, struct media_opts, payload_size,
	    MEDIA_MIN_PAYLOAD, MEDIA_MAX_PAYLOAD),
	OPT("dscp", OPT_UINT, struct media_opts, dscp, 0, 63),
};

static void
media_opts_default(void *p)
{
	struct media_opts	*o = p;

	o->pps = 50;
	o->payload_size = 160;	/* G.711, 20 ms at 8000 Hz */
	o->dscp = 46;		/* EF, RFC 3246 */
}

/*
 * The stream's length: as set, else 2s or half the timeout.  A /probe
 * request may shorten the timeout below a set duration (a scrape
 * timeout): then half the timeout too, so the echoes still fit.
 */
static uint64_t
media_duration(const struct probe_cfg *cfg)
{
	const struct media_opts	*o = cfg->opts;

	if (o->duration != 0 && o->duration < cfg->timeout_ms)
		return (o->duration);
	return (cfg->timeout_ms / 2 < 2000 ? cfg->timeout_ms / 2 : 2000);
}

static uint64_t
media_count(const struct probe_cfg *cfg)
{
	const struct media_opts	*o = cfg->opts;

	return (o->pps * media_duration(cfg) / 1000);
}

static const char *
media_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct media_opts	*o = cfg->opts;
	char			 d[32], t[32];
	uint64_t		 n = media_count(cfg);

	if (o->duration != 0 && o->duration >= cfg->timeout_ms) {
		format_duration_ms(o->duration, d, sizeof(d));
		format_duration_ms(cfg->timeout_ms, t, sizeof(t));
		snprintf(buf, len, "duration (%s) must be shorter than the "
		    "timeout (%s), so the last echoes can come back", d, t);
		*key = "duration";
		return (buf);
	}
	format_duration_ms(media_duration(cfg), d, sizeof(d));
	if (n == 0 || n > MEDIA_MAX_PACKETS) {
		snprintf(buf, len, "%llu packets/s for %s is %llu packets; a "
		    "run sends 1 to %d", (unsigned long long)o->pps, d,
		    (unsigned long long)n, MEDIA_MAX_PACKETS);
		*key = "packets_per_second";
		return (buf);
	}
	return (NULL);
}

static uint64_t
slot_ns(const struct media_run *m, unsigned i)
{
	return (m->t0 + (uint64_t)i * 1000000000 / m->pps);
}

/*
 * RTP timestamp of a packet sent at mono: the 8 kHz clock at the moment
 * it left, not at its nominal slot, so the loop's own timer lateness
 * does not show up as network jitter.
 */
static uint32_t
send_ts(const struct media_run *m, uint64_t mono)
{
	return (m->ts0 + (uint32_t)((mono - m->t0) * RTP_CLOCK_HZ /
	    1000000000));
}

/* Arrival time in RTP timestamp units since slot 0. */
static double
arrival_ticks(const struct media_run *m, uint64_t mono)
{
	return ((double)(int64_t)(mono - m->t0) * RTP_CLOCK_HZ / 1e9);
}

/*
 * An error from the socket (an ICMP error for our stream, or a local
 * one).  Before any echo it ends the run; after one, the responder did
 * answer, so later errors only mean loss.  Returns -1 if the run ended.
 */
static int
media_sock_error(struct media_run *m, int err, const char *step)
{
	probe_log(m->run, "%s: %s", step, strerror(err));
	if (m->rt_received > 0 && probe_errno_result(err) != PR_ERROR)
		return (0);
	snprintf(m->run->obs.detail, sizeof(m->run->obs.detail), "%s%s",
	    strerror(err), err == ECONNREFUSED ?
	    " (ICMP port unreachable: no responder)" : "");
	probe_done(m->run, probe_errno_result(err));
	return (-1);
}

static enum probe_result
media_result(const struct media_run *m)
{
	if (m->rt_received > 0)
		return (PR_SUCCESS);
	if (m->bad > 0)
		return (PR_BAD_RESPONSE);
	return (PR_TIMEOUT);
}

static void	media_linger(struct media_run *);

/* Send packet nsent; -1 if that ended the run. */
static int
media_send_one(struct media_run *m)
{
	static uint8_t		 pkt[RTP_HDR_LEN + MEDIA_MAX_PAYLOAD];
	struct rtp_hdr		 h;
	struct media_block	 b;
	unsigned		 i = m->nsent;
	size_t			 len;

	memset(&h, 0, sizeof(h));
	memset(&b, 0, sizeof(b));
	h.marker = i == 0;
	h.pt = RTP_PT_PCMU;
	h.seq = (uint16_t)(m->seq0 + i);
	m->tx_ns[i] = now_mono_ns();
	h.ts = send_ts(m, m->tx_ns[i]);
	h.ssrc = m->ssrc;
	b.kind = MEDIA_REQUEST;
	b.req_seq = h.seq;
	b.cookie = m->cookie;
	len = media_packet_build(pkt, sizeof(pkt), m->psize, &h, &b);
	m->nsent++;
	m->run->obs.sent++;
	if (send(m->fd, pkt, len, 0) == -1) {
		/* a full queue loses the packet, like a congested link */
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
			probe_log(m->run, "seq %u not sent: %s", h.seq,
			    strerror(errno));
			return (0);
		}
		return (media_sock_error(m, errno, "send"));
	}
	if (i == 0 || m->nsent == m->count)
		probe_log(m->run, "sent RTP seq %u ts %u ssrc 0x%08x, %zu "
		    "bytes (%u/%u)", h.seq, h.ts, h.ssrc, len, m->nsent,
		    m->count);
	return (0);
}

static void
media_tx(evutil_socket_t fd, short ev, void *arg)
{
	struct media_run	*m = arg;
	struct timeval		 tv;
	uint64_t		 now = now_mono_ns(), next;
	unsigned		 k;

	/* catch up on missed slots, but in bounded bursts */
	for (k = 0; k < MEDIA_BURST && m->nsent < m->count &&
	    slot_ns(m, m->nsent) <= now + 100000; k++)
		if (media_send_one(m) == -1)
			return;
	if (m->nsent == m->count) {
		media_linger(m);
		return;
	}
	next = slot_ns(m, m->nsent);
	next = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(next / 1000000000);
	tv.tv_usec = (suseconds_t)(next % 1000000000 / 1000);
	evtimer_add(m->tx, &tv);
}

static void
media_end(evutil_socket_t fd, short ev, void *arg)
{
	struct media_run	*m = arg;

	probe_done(m->run, media_result(m));
}

/*
 * All sent: wait for the last echoes, twice the worst RTT seen (at least
 * 200 ms), within the run's deadline.  Without any echo yet, the
 * deadline decides.
 */
static void
media_linger(struct media_run *m)
{
	struct timeval	tv, left;
	uint64_t	wait, now = now_mono_ns();
	uint64_t	last = m->tx_ns[m->count - 1];

	if (m->nrtt == 0)
		return;
	wait = (uint64_t)(2 * m->rtt_max * 1e9) + 50000000;
	if (wait < 200000000)
		wait = 200000000;
	wait = last + wait > now ? last + wait - now : 0;
	probe_remaining(m->run, &left);
	if ((uint64_t)left.tv_sec * 1000000000 + (uint64_t)left.tv_usec *
	    1000 <= wait)
		return;
	tv.tv_sec = (time_t)(wait / 1000000000);
	tv.tv_usec = (suseconds_t)(wait % 1000000000 / 1000);
	evtimer_add(m->end, &tv);
}

static void
media_bad(struct media_run *m, const char *why, size_t len)
{
	m->bad++;
	if (m->bad_why[0] == '\0')
		snprintf(m->bad_why, sizeof(m->bad_why), "%s (%zu bytes)", why,
		    len);
	probe_log(m->run, "ignored %zu bytes: %s", len, why);
}

/* One datagram from the target.  Returns -1 if the run ended. */
static int
media_got(struct media_run *m, const uint8_t *buf, size_t len,
    uint64_t arrival)
{
	struct probe_obs	*obs = &m->run->obs;
	struct rtp_hdr		 h;
	struct media_block	 b;
	unsigned		 idx, k;
	double			 rtt, hold;

	if (media_packet_parse(buf, len, &h, &b) == -1) {
		media_bad(m, "not a media echo", len);
		return (0);
	}
	if (h.ssrc != m->ssrc || b.cookie != m->cookie) {
		media_bad(m, "echo of another stream", len);
		return (0);
	}
	idx = (uint16_t)(b.req_seq - m->seq0);
	if (idx >= m->nsent || len != RTP_HDR_LEN + m->psize ||
	    (b.kind == MEDIA_REQUEST && h.seq != b.req_seq)) {
		media_bad(m, "echo of a packet never sent", len);
		return (0);
	}
	if (b.kind == MEDIA_ECHO) {
		/* the downstream leg, as an RTP receiver sees it */
		(void)rtp_seq_update(&m->down, h.seq);
		rtp_jitter_update(&m->down_jit, arrival_ticks(m, arrival),
		    h.ts);
		if (!m->have_report || b.down_sent > m->report.down_sent) {
			m->report = b;
			m->have_report = 1;
		}
		if (b.down_sent > m->down_sent)
			m->down_sent = b.down_sent;
	} else
		m->plain++;
	if (m->echoed[idx])
		return (0);		/* a duplicate: counted once */
	m->echoed[idx] = 1;
	m->rt_received++;
	obs->received++;
	rtt = (double)(int64_t)(arrival - m->tx_ns[idx]) / 1e9;
	hold = b.kind == MEDIA_ECHO ? b.hold_us / 1e6 : 0;
	if (hold < rtt)
		rtt -= hold;
	if (rtt < 0)
		rtt = 0;
	if (m->nrtt == 0 || rtt < m->rtt_min)
		m->rtt_min = rtt;
	if (m->nrtt == 0 || rtt > m->rtt_max)
		m->rtt_max = rtt;
	m->rtt_sum += rtt;
	m->nrtt++;
	/* keep up to PROBE_MAX_SAMPLES spread over the whole run */
	k = (m->count + PROBE_MAX_SAMPLES - 1) / PROBE_MAX_SAMPLES;
	if ((m->rt_received - 1) % k == 0 && obs->nrtt < PROBE_MAX_SAMPLES)
		obs->rtt[obs->nrtt++] = rtt;
	rtp_jitter_update(&m->rt_jit, arrival_ticks(m, arrival),
	    send_ts(m, m->tx_ns[idx]));
	if (m->rt_received == 1)
		probe_log(m->run, "first echo: seq %u, rtt %.3fms%s", b.req_seq,
		    rtt * 1e3, b.kind == MEDIA_REQUEST ?
		    " (a plain echo, not a responder)" : "");
	if (m->rt_received == m->count) {
		probe_log(m->run, "every packet echoed");
		probe_done(m->run, PR_SUCCESS);
		return (-1);
	}
	if (m->nsent == m->count)
		media_linger(m);
	return (0);
}

static void
media_read(evutil_socket_t fd, short ev, void *arg)
{
	static uint8_t		 buf[65536];
	struct media_run	*m = arg;
	struct sockaddr_storage	 from;
	uint64_t		 rx_wall;
	ssize_t			 n;
	int			 budget;

	for (budget = 0; budget < 256; budget++) {
		if ((n = probe_recv(fd, buf, sizeof(buf), &from, &rx_wall,
		    NULL)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (media_sock_error(m, errno, "receive") == -1)
				return;
			continue;
		}
		if (!addr_match(m->run->addr, &from, 1))
			continue;	/* not from the target */
		if (media_got(m, buf, (size_t)n, rx_mono_ns(rx_wall)) == -1)
			return;
	}
}

static int
media_socket(struct media_run *m)
{
	struct probe_run	*run = m->run;
	const struct media_opts	*o = run->cfg->opts;
	const struct np_addr	*a = run->addr;
	int			 on = 1, tos = (int)o->dscp << 2;

	if ((m->fd = probe_socket(run, a->ss.ss_family, SOCK_DGRAM, 0)) ==
	    -1)
		return (-1);
	/* RFC 2474: DSCP in the upper six bits, ECN bits left at 0 */
	if ((a->ss.ss_family == AF_INET ? setsockopt(m->fd, IPPROTO_IP,
	    IP_TOS, &tos, sizeof(tos)) : setsockopt(m->fd, IPPROTO_IPV6,
	    IPV6_TCLASS, &tos, sizeof(tos))) == -1) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "cannot set DSCP %llu: %s", (unsigned long long)o->dscp,
		    strerror(errno));
		return (-1);
	}
	setsockopt(m->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	return (0);
}

static void
media_start(struct probe_run *run)
{
	struct media_run	*m = run->state;
	const struct media_opts	*o = run->cfg->opts;
	const struct np_addr	*a = run->addr;

	m->run = run;
	m->fd = -1;
	m->pps = (unsigned)o->pps;
	m->psize = (size_t)o->payload_size;
	m->count = (unsigned)media_count(run->cfg);
	if (m->count == 0)
		m->count = 1;	/* a /probe scrape timeout cut it short */
	if (m->count > MEDIA_MAX_PACKETS) {
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "%u packets per run is out of range", m->count);
		probe_done(run, PR_ERROR);
		return;
	}
	/* RFC 3550 5.1: random SSRC, initial sequence and timestamp */
	m->ssrc = arc4random();
	m->cookie = arc4random();
	m->ts0 = arc4random();
	m->seq0 = (uint16_t)arc4random();
	m->tx_ns = xcalloc(m->count, sizeof(*m->tx_ns));
	m->echoed = xcalloc(m->count, 1);
	if (media_socket(m) == -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	if (connect(m->fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		(void)media_sock_error(m, errno, "connect");
		return;
	}
	m->rx = event_new(run->base, m->fd, EV_READ | EV_PERSIST, media_read,
	    m);
	m->tx = evtimer_new(run->base, media_tx, m);
	m->end = evtimer_new(run->base, media_end, m);
	if (m->rx == NULL || m->tx == NULL || m->end == NULL ||
	    event_add(m->rx, NULL) == -1)
		fatalx("media: cannot add events");
	probe_log(run, "stream to %s: %u packets, %u/s, %zu-byte payload, "
	    "DSCP %llu, ssrc 0x%08x, first seq %u", run->cfg->targets[
	    run->target], m->count, m->pps, m->psize,
	    (unsigned long long)o->dscp, m->ssrc, m->seq0);
	m->t0 = now_mono_ns();
	media_tx(-1, 0, m);
}

/* Per-direction figures and the MOS, from what the run saw. */
static void
media_summarise(struct media_run *m)
{
	struct media_stats	*st = &m->st;
	uint32_t		 exp, lost;
	double			 lat, rup, rdown;

	memset(st, 0, sizeof(*st));
	if (m->nsent > 0)
		st->loss_rt = 1 - (double)m->rt_received / m->nsent;
	if (m->rt_received == 0)
		return;
	st->echoed = 1;
	st->rtt_min = m->rtt_min;
	st->rtt_max = m->rtt_max;
	st->rtt_avg = m->rtt_sum / m->nrtt;
	st->has_jit_rt = m->rt_jit.samples > 0;
	st->jit_rt = rtp_jitter_seconds(&m->rt_jit, RTP_CLOCK_HZ);
	if (m->have_report && media_upstream_loss(m->seq0, m->nsent,
	    m->report.up_ext_max, m->report.up_received, &exp, &lost) == 0 &&
	    m->down_sent > 0) {
		st->dirs = 1;
		st->loss_up = (double)lost / exp;
		st->jit_up = m->report.up_jitter16 / 16.0 / RTP_CLOCK_HZ;
		st->late_up = m->report.up_late;
		/* duplicates count as received (RFC 3550 A.3): clamp */
		st->loss_down = m->down.received >= m->down_sent ? 0 :
		    (double)(m->down_sent - m->down.received) / m->down_sent;
		st->has_jit_down = m->down_jit.samples > 0;
		st->jit_down = rtp_jitter_seconds(&m->down_jit, RTP_CLOCK_HZ);
		st->late_down = m->down.late;
	} else if (m->have_report)
		probe_log(m->run, "ignored a report naming seq %u, not sent",
		    (unsigned)(uint16_t)m->report.up_ext_max);
	/* one-way latency estimated as RTT / 2, PROTOCOLS.md 5.1 */
	lat = st->rtt_avg / 2 * 1e3;
	if (st->dirs) {
		rup = emodel_r(lat, st->jit_up * 1e3, st->loss_up * 100);
		rdown = emodel_r(lat, st->jit_down * 1e3, st->loss_down * 100);
		st->r = rup < rdown ? rup : rdown;
	} else
		st->r = emodel_r(lat, st->jit_rt * 1e3, st->loss_rt * 100);
	st->mos = emodel_mos(st->r);
}

static void
media_finish(struct probe_run *run, int timed_out)
{
	struct media_run	*m = run->state;
	struct media_stats	*st = &m->st;
	char			 t[32];

	if (m->tx != NULL) {
		event_free(m->tx);
		m->tx = NULL;
	}
	if (m->end != NULL) {
		event_free(m->end);
		m->end = NULL;
	}
	if (m->rx != NULL) {
		event_free(m->rx);
		m->rx = NULL;
	}
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	if (m->tx_ns != NULL) {
		media_summarise(m);
		probe_log(run, "%u sent, %u echoed (%u plain), %u bad; "
		    "responder's last report: %u received, highest seq %u, "
		    "%u echoes sent; %u echoes here", m->nsent,
		    m->rt_received, m->plain, m->bad, m->report.up_received,
		    (unsigned)(uint16_t)m->report.up_ext_max,
		    m->report.down_sent, m->down.received);
	}
	free(m->tx_ns);
	free(m->echoed);
	m->tx_ns = NULL;
	m->echoed = NULL;
	if (timed_out)
		run->obs.result = media_result(m);
	if (run->obs.result == PR_SUCCESS && st->dirs)
		snprintf(run->obs.detail, sizeof(run->obs.detail), "%u/%u "
		    "echoed, loss up %.1f%% down %.1f%%, jitter %.2f/%.2f ms, "
		    "MOS %.2f", m->rt_received, m->nsent, st->loss_up * 100,
		    st->loss_down * 100, st->jit_up * 1e3, st->jit_down * 1e3,
		    st->mos);
	else if (run->obs.result == PR_SUCCESS)
		snprintf(run->obs.detail, sizeof(run->obs.detail), "%u/%u "
		    "echoed (plain echo), loss %.1f%%, jitter %.2f ms, MOS "
		    "%.2f", m->rt_received, m->nsent, st->loss_rt * 100,
		    st->jit_rt * 1e3, st->mos);
	else if (run->obs.result == PR_BAD_RESPONSE)
		snprintf(run->obs.detail, sizeof(run->obs.detail), "no valid "
		    "echo; %u bad, e.g. %s", m->bad, m->bad_why);
	else if (run->obs.result == PR_TIMEOUT) {
		format_duration_ms(run->cfg->timeout_ms, t, sizeof(t));
		snprintf(run->obs.detail, sizeof(run->obs.detail), "no echo "
		    "of %u packets within %s", m->nsent, t);
	}
}

/* ---- series -------------------------------------------------------- */

enum {
	X_SENT, X_RECV,
	X_LOSS_UP, X_LOSS_DOWN, X_LOSS_RT,
	X_JIT_UP, X_JIT_DOWN, X_JIT_RT,
	X_LATE_UP, X_LATE_DOWN,
	X_RTT_MIN, X_RTT_AVG, X_RTT_MAX,
	X_MOS, X_R,
	X_NUM
};

static void
media_attach(struct target_state *ts)
{
	struct store	*st = ts->store;
	struct family	*loss, *jit, *late;

	ts->extra[X_SENT] = target_series(ts, store_family(st,
	    "netprobe_media_packets_sent_total", "RTP test packets sent to "
	    "the responder.", METRIC_COUNTER, NULL, 0), NULL);
	ts->extra[X_RECV] = target_series(ts, store_family(st,
	    "netprobe_media_packets_received_total", "RTP test packets "
	    "whose echo came back (each counted once).", METRIC_COUNTER,
	    NULL, 0), NULL);
	loss = store_family(st, "netprobe_media_loss_ratio", "Share of the "
	    "last run's packets lost (0 to 1): upstream (to the responder) "
	    "and downstream (back) as the responder's reports and the echo "
	    "sequence show, round_trip for the whole echo.", METRIC_GAUGE,
	    NULL, 0);
	ts->extra[X_LOSS_UP] = target_series(ts, loss, "direction",
	    "upstream", NULL);
	ts->extra[X_LOSS_DOWN] = target_series(ts, loss, "direction",
	    "downstream", NULL);
	ts->extra[X_LOSS_RT] = target_series(ts, loss, "direction",
	    "round_trip", NULL);
	jit = store_family(st, "netprobe_media_jitter_seconds", "RFC 3550 "
	    "interarrival jitter at the end of the last run, in seconds, by "
	    "direction.", METRIC_GAUGE, NULL, 0);
	ts->extra[X_JIT_UP] = target_series(ts, jit, "direction", "upstream",
	    NULL);
	ts->extra[X_JIT_DOWN] = target_series(ts, jit, "direction",
	    "downstream", NULL);
	ts->extra[X_JIT_RT] = target_series(ts, jit, "direction",
	    "round_trip", NULL);
	late = store_family(st, "netprobe_media_reordered_packets", "Packets "
	    "of the last run that arrived after a higher-numbered one, by "
	    "direction.", METRIC_GAUGE, NULL, 0);
	ts->extra[X_LATE_UP] = target_series(ts, late, "direction",
	    "upstream", NULL);
	ts->extra[X_LATE_DOWN] = target_series(ts, late, "direction",
	    "downstream", NULL);
	ts->extra[X_RTT_MIN] = target_series(ts, store_family(st,
	    "netprobe_media_rtt_min_seconds", "Smallest round-trip time in "
	    "the last run, in seconds.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_RTT_AVG] = target_series(ts, store_family(st,
	    "netprobe_media_rtt_avg_seconds", "Mean round-trip time in the "
	    "last run (the responder's hold time removed), in seconds.",
	    METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_RTT_MAX] = target_series(ts, store_family(st,
	    "netprobe_media_rtt_max_seconds", "Largest round-trip time in "
	    "the last run, in seconds.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_MOS] = target_series(ts, store_family(st,
	    "netprobe_media_mos", "Estimated MOS (1 to 4.5) of the worse "
	    "direction in the last run: simplified E-model with latency = "
	    "RTT/2 (not a measured one-way delay), 2 x jitter and 10 ms "
	    "codec delay, and loss.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_R] = target_series(ts, store_family(st,
	    "netprobe_media_r_factor", "E-model R factor (0 to 100) behind "
	    "netprobe_media_mos.", METRIC_GAUGE, NULL, 0), NULL);
}

static void
set_or_unset(struct series *s, int have, double v)
{
	if (have)
		series_set(s, v);
	else
		series_unset(s);
}

static void
media_record(struct target_state *ts, const struct probe_run *run)
{
	const struct media_run		*m = run->state;
	const struct media_stats	*st = &m->st;
	int				 e = st->echoed, d = st->dirs;

	series_add(ts->extra[X_SENT], run->obs.sent);
	series_add(ts->extra[X_RECV], run->obs.received);
	set_or_unset(ts->extra[X_LOSS_RT], run->obs.sent > 0, st->loss_rt);
	set_or_unset(ts->extra[X_LOSS_UP], d, st->loss_up);
	set_or_unset(ts->extra[X_LOSS_DOWN], d, st->loss_down);
	set_or_unset(ts->extra[X_JIT_RT], e && st->has_jit_rt, st->jit_rt);
	set_or_unset(ts->extra[X_JIT_UP], d, st->jit_up);
	set_or_unset(ts->extra[X_JIT_DOWN], d && st->has_jit_down,
	    st->jit_down);
	set_or_unset(ts->extra[X_LATE_UP], d, st->late_up);
	set_or_unset(ts->extra[X_LATE_DOWN], d, st->late_down);
	set_or_unset(ts->extra[X_RTT_MIN], e, st->rtt_min);
	set_or_unset(ts->extra[X_RTT_AVG], e, st->rtt_avg);
	set_or_unset(ts->extra[X_RTT_MAX], e, st->rtt_max);
	set_or_unset(ts->extra[X_MOS], e, st->mos);
	set_or_unset(ts->extra[X_R], e, st->r);
}

const struct probe_type probe_type_media = {
	.name = "media",
	.target_port = NP_PORT_REQUIRED,
	.opts = media_opt_defs,
	.nopts = NP_NELEM(media_opt_defs),
	.opts_size = sizeof(struct media_opts),
	.opts_default = media_opts_default,
	.check = media_check,
	.state_size = sizeof(struct media_run),
	.nextra = X_NUM,
	.start = media_start,
	.finish = media_finish,
	.attach = media_attach,
	.record = media_record,
};
