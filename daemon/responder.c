/*
 * `netprobed --responder ADDR:PORT`: the far end of the udp and media
 * probes, run beside the MCU.  One UDP socket on its own event loop:
 *
 * - a media request (msg_rtp.h) is answered with an echo of the same
 *   size that carries this side's reception report for the stream
 *   (packets received, highest sequence, RFC 3550 jitter, late packets)
 *   and its own RTP sequence and timestamp, so the probe can measure
 *   both directions;
 * - any other datagram is echoed unchanged, for udp probes.
 *
 * It must not become an amplifier or a reflector: an answer is never
 * larger than its request, each source address may send at most
 * RSP_RATE packets/s (RSP_BURST at once) and all sources together
 * RSP_GLOBAL_RATE, sources on ports below 1024 or on our own port (other
 * echo services) and media echoes (another responder) are never
 * answered, nor packets to a broadcast or multicast address.  Sources
 * are hashed into RSP_SOURCES buckets (colliding sources share a limit,
 * and an IPv6 host rotating addresses still meets the global one).
 * Stream state is a fixed table (RSP_MAX_STREAMS, least recently used
 * evicted).
 *
 * The answer leaves from the address the request was sent to
 * (IP_PKTINFO / IPV6_PKTINFO), so a responder bound to 0.0.0.0 on a
 * multi-homed host still answers a connect()ed probe socket, and with
 * the request's DSCP, so both directions get the same treatment.  (IPv4
 * peers of a socket bound to [::] get the kernel's choice of source:
 * bind a specific address on a multi-homed host.)
 *
 * Every media stream is logged when it ends (idle RSP_IDLE_NS): when a
 * probe sees no echo at all, this log says whether its packets arrived.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/daemon.h"
#include "probes/msg_rtp.h"

#define RSP_MAX_STREAMS		1024
#define RSP_HASH		2048
#define RSP_IDLE_NS		5000000000ULL	/* a stream ends when idle */
#define RSP_RATE		2000		/* packets/s per source */
#define RSP_BURST		2000
#define RSP_GLOBAL_RATE		50000
#define RSP_SOURCES		1024		/* rate-limit buckets */
#define RSP_BUDGET		512		/* datagrams per read event */
#define RSP_WARN_NS		10000000000ULL	/* between drop warnings */

struct rsp_stream {
	int			 used;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	uint32_t		 ssrc, cookie;
	struct rtp_seqstat	 up;
	struct rtp_jitter	 jit;
	uint64_t		 first_rx, last_rx;	/* monotonic ns */
	uint16_t		 down_seq;
	uint32_t		 down_ts0;
	uint32_t		 down_sent;
	struct rsp_stream	*next;			/* hash chain */
};

struct rsp_bucket {
	double		tokens;
	uint64_t	last;		/* monotonic ns */
};

struct responder {
	struct event_base	*base;
	int			 fd;
	int			 family;
	uint16_t		 port;		/* ours, host order */
	char			 name[NP_ADDRSTRLEN];
	struct event		*rx, *sweep, *sigs[3];
	struct rsp_stream	*streams;	/* RSP_MAX_STREAMS */
	struct rsp_stream	*hash[RSP_HASH];
	unsigned		 nstreams;
	struct rsp_bucket	 src[RSP_SOURCES];
	struct rsp_bucket	 global;
	uint64_t		 echoed, media;
	uint64_t		 drop_rate, drop_loop, drop_send;
	uint64_t		 warned_drops, warned_at;
	int			 stopping;
};

/* The receiving side of one datagram. */
struct rsp_rx {
	uint64_t	 arrival;	/* monotonic ns */
	int		 has_pktinfo;
	struct in_pktinfo pi4;
	struct in6_pktinfo pi6;
	int		 has_tos;
	int		 tos;
};

static int
is_mapped(const struct sockaddr_storage *ss)
{
	return (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
	    &((const struct sockaddr_in6 *)ss)->sin6_addr));
}

static uint16_t
peer_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
}

/* The address bytes (IPv4 or IPv6) of a peer, for hashing and logs. */
static const uint8_t *
peer_bytes(const struct sockaddr_storage *ss, size_t *len)
{
	if (ss->ss_family == AF_INET) {
		*len = 4;
		return ((const uint8_t *)&((const struct sockaddr_in *)ss)->
		    sin_addr);
	}
	*len = 16;
	return ((const uint8_t *)&((const struct sockaddr_in6 *)ss)->
	    sin6_addr);
}

static void
peer_name(const struct sockaddr_storage *ss, socklen_t len, char *buf,
    size_t buflen)
{
	struct np_addr	a;

	memset(&a, 0, sizeof(a));
	memcpy(&a.ss, ss, len <= sizeof(a.ss) ? len : sizeof(a.ss));
	a.len = len;
	format_addr(&a, 1, buf, buflen);
}

/* FNV-1a over bytes, continued from h. */
static uint32_t
fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t	*b = p;
	size_t		 i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619U;
	}
	return (h);
}

/* ---- abuse limits --------------------------------------------------- */

/*
 * A token from the bucket, refilled at rate per second up to burst.
 * Arrival times derived from kernel stamps can step back by a little:
 * that refills nothing.
 */
static int
bucket_take(struct rsp_bucket *b, uint64_t now, double rate, double burst)
{
	if (b->last == 0) {
		b->tokens = burst;
		b->last = now;
	} else if (now > b->last) {
		b->tokens += (double)(now - b->last) * rate / 1e9;
		b->last = now;
	}
	if (b->tokens > burst)
		b->tokens = burst;
	if (b->tokens < 1)
		return (0);
	b->tokens -= 1;
	return (1);
}

/* Sources we never answer: other services' ports, bogus addresses. */
static int
bad_source(const struct responder *r, const struct sockaddr_storage *ss)
{
	uint16_t	port = peer_port(ss);
	in_addr_t	a4;

	if (port < 1024 || port == r->port)
		return (1);
	if (ss->ss_family == AF_INET6 && !is_mapped(ss)) {
		const struct in6_addr	*a6 =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return (IN6_IS_ADDR_UNSPECIFIED(a6) ||
		    IN6_IS_ADDR_MULTICAST(a6));
	}
	if (ss->ss_family == AF_INET)
		memcpy(&a4, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else	/* v4-mapped: the last four octets */
		memcpy(&a4, &((const struct sockaddr_in6 *)ss)->sin6_addr.
		    s6_addr[12], 4);
	a4 = ntohl(a4);
	return (a4 == 0 || a4 == 0xffffffffU || IN_MULTICAST(a4));
}

/* Was the request sent to a broadcast or multicast address? */
static int
not_unicast(const struct rsp_rx *x, int family)
{
	if (!x->has_pktinfo)
		return (0);
	if (family == AF_INET)
		/* the kernel sets spec_dst to the destination only for
		 * unicast to a local address */
		return (IN_MULTICAST(ntohl(x->pi4.ipi_addr.s_addr)) ||
		    x->pi4.ipi_addr.s_addr != x->pi4.ipi_spec_dst.s_addr);
	return (IN6_IS_ADDR_MULTICAST(&x->pi6.ipi6_addr));
}

/* ---- media streams -------------------------------------------------- */

static uint32_t
stream_hash(const struct sockaddr_storage *peer, uint32_t ssrc,
    uint32_t cookie)
{
	const uint8_t	*b;
	size_t		 n;
	uint16_t	 port = peer_port(peer);
	uint32_t	 h = 2166136261U;

	b = peer_bytes(peer, &n);
	h = fnv(h, b, n);
	h = fnv(h, &port, sizeof(port));
	h = fnv(h, &ssrc, sizeof(ssrc));
	h = fnv(h, &cookie, sizeof(cookie));
	return (h % RSP_HASH);
}

static int
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const uint8_t	*x, *y;
	size_t		 nx, ny;

	if (a->ss_family != b->ss_family || peer_port(a) != peer_port(b))
		return (0);
	x = peer_bytes(a, &nx);
	y = peer_bytes(b, &ny);
	return (nx == ny && memcmp(x, y, nx) == 0);
}

static void
stream_log(const struct rsp_stream *s)
{
	char	name[NP_ADDRSTRLEN];

	peer_name(&s->peer, s->peerlen, name, sizeof(name));
	log_info("media stream from %s ssrc 0x%08x: %u received, %u lost, "
	    "%u late, jitter %.3f ms, %u echoed", name, s->ssrc,
	    s->up.received, rtp_seq_lost(&s->up), s->up.late,
	    rtp_jitter_seconds(&s->jit, RTP_CLOCK_HZ) * 1e3, s->down_sent);
}

static void
stream_drop(struct responder *r, struct rsp_stream *s)
{
	struct rsp_stream	**pp;

	stream_log(s);
	for (pp = &r->hash[stream_hash(&s->peer, s->ssrc, s->cookie)];
	    *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	memset(s, 0, sizeof(*s));
	r->nstreams--;
}

static struct rsp_stream *
stream_get(struct responder *r, const struct sockaddr_storage *peer,
    socklen_t peerlen, uint32_t ssrc, uint32_t cookie, uint64_t now)
{
	struct rsp_stream	*s, *victim = NULL;
	uint32_t		 h = stream_hash(peer, ssrc, cookie);
	size_t			 i;

	for (s = r->hash[h]; s != NULL; s = s->next)
		if (s->ssrc == ssrc && s->cookie == cookie &&
		    same_peer(&s->peer, peer))
			return (s);
	/* a free slot, or the least recently used one */
	for (i = 0; i < RSP_MAX_STREAMS; i++) {
		s = &r->streams[i];
		if (!s->used) {
			victim = s;
			break;
		}
		if (victim == NULL || s->last_rx < victim->last_rx)
			victim = s;
	}
	if (victim->used)
		stream_drop(r, victim);
	s = victim;
	s->used = 1;
	memcpy(&s->peer, peer, peerlen);
	s->peerlen = peerlen;
	s->ssrc = ssrc;
	s->cookie = cookie;
	s->first_rx = now;
	/* RFC 3550 5.1: random initial sequence number and timestamp */
	s->down_seq = (uint16_t)arc4random();
	s->down_ts0 = arc4random();
	s->next = r->hash[h];
	r->hash[h] = s;
	r->nstreams++;
	return (s);
}

/* Turn a media request in buf into its echo, in place. */
static void
media_echo(struct responder *r, struct rsp_stream *s, uint8_t *buf,
    size_t len, const struct rtp_hdr *req, const struct media_block *rb,
    uint64_t arrival)
{
	struct rtp_hdr		 h;
	struct media_block	 b;
	uint64_t		 now;

	(void)rtp_seq_update(&s->up, req->seq);
	rtp_jitter_update(&s->jit, (double)(int64_t)(arrival - s->first_rx) *
	    RTP_CLOCK_HZ / 1e9, req->ts);
	if (arrival > s->last_rx)
		s->last_rx = arrival;
	s->down_sent++;
	now = now_mono_ns();
	if (now < arrival)
		now = arrival;
	memset(&h, 0, sizeof(h));
	h.marker = s->down_sent == 1;
	h.pt = req->pt;
	h.seq = s->down_seq++;
	h.ts = s->down_ts0 + (uint32_t)(int64_t)((double)(int64_t)(now -
	    s->first_rx) * RTP_CLOCK_HZ / 1e9);
	h.ssrc = req->ssrc;
	memset(&b, 0, sizeof(b));
	b.kind = MEDIA_ECHO;
	b.req_seq = rb->req_seq;
	b.cookie = rb->cookie;
	b.up_received = s->up.received;
	b.up_ext_max = rtp_seq_ext_max(&s->up);
	b.up_jitter16 = (uint32_t)(s->jit.j * 16 + 0.5);
	b.up_late = s->up.late;
	b.down_sent = s->down_sent;
	b.hold_us = (uint32_t)((now - arrival) / 1000);
	/* same length: the request's filler is overwritten with ours */
	(void)media_packet_build(buf, len, len - RTP_HDR_LEN, &h, &b);
	r->media++;
}

static void
sweep(evutil_socket_t fd, short ev, void *arg)
{
	struct responder	*r = arg;
	uint64_t		 now = now_mono_ns(), drops;
	size_t			 i;

	for (i = 0; i < RSP_MAX_STREAMS; i++)
		if (r->streams[i].used && now > r->streams[i].last_rx &&
		    now - r->streams[i].last_rx > RSP_IDLE_NS)
			stream_drop(r, &r->streams[i]);
	drops = r->drop_rate + r->drop_loop + r->drop_send;
	if (drops != r->warned_drops && now - r->warned_at > RSP_WARN_NS) {
		log_warnx("responder: %llu datagrams not answered so far "
		    "(%llu over the rate limit, %llu from service ports, "
		    "broadcasts or other responders, %llu not sent)",
		    (unsigned long long)drops,
		    (unsigned long long)r->drop_rate,
		    (unsigned long long)r->drop_loop,
		    (unsigned long long)r->drop_send);
		r->warned_drops = drops;
		r->warned_at = now;
	}
}

/* ---- socket I/O ----------------------------------------------------- */

static void
answer(struct responder *r, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *to, socklen_t tolen,
    const struct rsp_rx *x)
{
	union {
		char		b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				    CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	} cm;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*c;
	size_t			 clen = 0;
	int			 v4 = r->family == AF_INET;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	msg.msg_name = (void *)(uintptr_t)to;
	msg.msg_namelen = tolen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	/* v4-mapped peers of a v6 socket: the kernel picks the source */
	if (!is_mapped(to)) {
		msg.msg_control = cm.b;
		msg.msg_controllen = sizeof(cm.b);
		c = CMSG_FIRSTHDR(&msg);
		if (x->has_pktinfo) {
			c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
			c->cmsg_type = v4 ? IP_PKTINFO : IPV6_PKTINFO;
			if (v4) {
				struct in_pktinfo	pi;

				memset(&pi, 0, sizeof(pi));
				pi.ipi_spec_dst = x->pi4.ipi_addr;
				c->cmsg_len = CMSG_LEN(sizeof(pi));
				memcpy(CMSG_DATA(c), &pi, sizeof(pi));
				clen += CMSG_SPACE(sizeof(pi));
			} else {
				c->cmsg_len = CMSG_LEN(sizeof(x->pi6));
				memcpy(CMSG_DATA(c), &x->pi6, sizeof(x->pi6));
				clen += CMSG_SPACE(sizeof(x->pi6));
			}
			c = CMSG_NXTHDR(&msg, c);
		}
		if (x->has_tos && c != NULL) {
			int	tos = x->tos & 0xfc;	/* DSCP, not ECN */

			c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
			c->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &tos, sizeof(int));
			clen += CMSG_SPACE(sizeof(int));
		}
		msg.msg_controllen = clen;
		if (clen == 0)
			msg.msg_control = NULL;
	}
	if (sendmsg(r->fd, &msg, 0) == -1) {
		r->drop_send++;
		log_debug("responder: send: %s", strerror(errno));
		return;
	}
	r->echoed++;
}

static void
handle(struct responder *r, uint8_t *buf, size_t len,
    const struct sockaddr_storage *from, socklen_t fromlen,
    const struct rsp_rx *x)
{
	struct rtp_hdr		 h;
	struct media_block	 b;
	struct rsp_stream	*s;
	const uint8_t		*ab;
	size_t			 an;
	char			 name[NP_ADDRSTRLEN];

	if (bad_source(r, from) || not_unicast(x, r->family)) {
		r->drop_loop++;
		return;
	}
	ab = peer_bytes(from, &an);
	if (!bucket_take(&r->global, x->arrival, RSP_GLOBAL_RATE,
	    RSP_GLOBAL_RATE) || !bucket_take(&r->src[fnv(2166136261U, ab,
	    an) % RSP_SOURCES], x->arrival, RSP_RATE, RSP_BURST)) {
		r->drop_rate++;
		return;
	}
	if (media_packet_parse(buf, len, &h, &b) == 0) {
		if (b.kind != MEDIA_REQUEST) {
			/* an echo: another responder; never bounce it */
			r->drop_loop++;
			return;
		}
		s = stream_get(r, from, fromlen, h.ssrc, b.cookie, x->arrival);
		if (s->up.received == 0) {
			peer_name(from, fromlen, name, sizeof(name));
			log_debug("media stream from %s ssrc 0x%08x starts",
			    name, h.ssrc);
		}
		media_echo(r, s, buf, len, &h, &b, x->arrival);
	}
	answer(r, buf, len, from, fromlen, x);
}

static void
readable(evutil_socket_t fd, short ev, void *arg)
{
	static uint8_t		 buf[65536];
	struct responder	*r = arg;
	struct sockaddr_storage	 from;
	union {
		char		b[512];
		struct cmsghdr	align;
	} cm;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*c;
	struct timespec		 ts;
	struct rsp_rx		 x;
	uint64_t		 rx_wall;
	ssize_t			 n;
	int			 budget;

	for (budget = 0; budget < RSP_BUDGET; budget++) {
		memset(&msg, 0, sizeof(msg));
		memset(&from, 0, sizeof(from));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.b;
		msg.msg_controllen = sizeof(cm.b);
		if ((n = recvmsg(fd, &msg, 0)) == -1) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNREFUSED)
				log_warn("responder: recvmsg");
			return;
		}
		if ((msg.msg_flags & MSG_TRUNC) ||
		    msg.msg_namelen > sizeof(from) ||
		    (from.ss_family != AF_INET && from.ss_family != AF_INET6))
			continue;
		memset(&x, 0, sizeof(x));
		rx_wall = 0;
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		    c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPNS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(ts))) {
				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				rx_wall = (uint64_t)ts.tv_sec * 1000000000u +
				    (uint64_t)ts.tv_nsec;
			} else if (c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_PKTINFO && r->family ==
			    AF_INET && c->cmsg_len >= CMSG_LEN(sizeof(x.pi4))) {
				memcpy(&x.pi4, CMSG_DATA(c), sizeof(x.pi4));
				x.has_pktinfo = 1;
			} else if (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_PKTINFO && r->family ==
			    AF_INET6 &&
			    c->cmsg_len >= CMSG_LEN(sizeof(x.pi6))) {
				memcpy(&x.pi6, CMSG_DATA(c), sizeof(x.pi6));
				x.has_pktinfo = 1;
			} else if (c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_TOS && c->cmsg_len >=
			    CMSG_LEN(1)) {
				x.tos = *(const uint8_t *)CMSG_DATA(c);
				x.has_tos = 1;
			} else if (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_TCLASS && c->cmsg_len >=
			    CMSG_LEN(sizeof(int))) {
				memcpy(&x.tos, CMSG_DATA(c), sizeof(int));
				x.has_tos = 1;
			}
		}
		x.arrival = rx_mono_ns(rx_wall);
		handle(r, buf, (size_t)n, &from, msg.msg_namelen, &x);
	}
}

static void
on_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct responder	*r = arg;

	if (sig == SIGHUP) {
		log_info("SIGHUP ignored: the responder has no configuration");
		return;
	}
	log_info("%s received, stopping", sig == SIGTERM ? "SIGTERM" :
	    "SIGINT");
	r->stopping = 1;
	event_base_loopbreak(r->base);
}

static int
rsp_socket(struct responder *r, const struct np_addr *a)
{
	int	on = 1;

	r->fd = socket(r->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (r->fd == -1) {
		log_warn("responder: socket");
		return (-1);
	}
	setsockopt(r->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (r->family == AF_INET) {
		setsockopt(r->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		setsockopt(r->fd, IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
	} else {
		setsockopt(r->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
		    sizeof(on));
		setsockopt(r->fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on,
		    sizeof(on));
	}
	if (bind(r->fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		log_warn("responder: cannot listen on %s", r->name);
		close(r->fd);
		r->fd = -1;
		return (-1);
	}
	return (0);
}

int
responder_run(const char *spec)
{
	static const int	 signo[3] = { SIGHUP, SIGTERM, SIGINT };
	struct responder	*r;
	struct np_addr		 a;
	struct timeval		 tv = { 1, 0 };
	const char		*why;
	size_t			 i;
	int			 rc = 0;

	if (parse_addr(spec, NP_PORT_REQUIRED, &a, &why) == -1) {
		log_err("--responder \"%s\": %s", spec, why);
		return (2);
	}
	r = xcalloc(1, sizeof(*r));
	r->streams = xcalloc(RSP_MAX_STREAMS, sizeof(*r->streams));
	r->family = a.ss.ss_family;
	r->port = (uint16_t)addr_port(&a);
	format_addr(&a, 1, r->name, sizeof(r->name));
	if ((r->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (rsp_socket(r, &a) == -1) {
		rc = 1;
		goto out;
	}
	r->rx = event_new(r->base, r->fd, EV_READ | EV_PERSIST, readable, r);
	r->sweep = event_new(r->base, -1, EV_PERSIST, sweep, r);
	if (r->rx == NULL || r->sweep == NULL || event_add(r->rx, NULL) ==
	    -1 || event_add(r->sweep, &tv) == -1)
		fatalx("responder: cannot add events");
	for (i = 0; i < NP_NELEM(signo); i++) {
		r->sigs[i] = evsignal_new(r->base, signo[i], on_signal, r);
		if (r->sigs[i] == NULL || event_add(r->sigs[i], NULL) == -1)
			fatalx("cannot watch signal %d", signo[i]);
	}
	log_info("netprobed %s responder listening on udp %s (udp echo and "
	    "media)", np_version, r->name);

	event_base_dispatch(r->base);

	for (i = 0; i < RSP_MAX_STREAMS; i++)
		if (r->streams[i].used)
			stream_drop(r, &r->streams[i]);
	log_info("responder: %llu answered (%llu media), %llu not answered",
	    (unsigned long long)r->echoed, (unsigned long long)r->media,
	    (unsigned long long)(r->drop_rate + r->drop_loop +
	    r->drop_send));
	if (!r->stopping)
		rc = 1;
out:
	for (i = 0; i < NP_NELEM(r->sigs); i++)
		if (r->sigs[i] != NULL)
			event_free(r->sigs[i]);
	if (r->rx != NULL)
		event_free(r->rx);
	if (r->sweep != NULL)
		event_free(r->sweep);
	if (r->fd != -1)
		close(r->fd);
	event_base_free(r->base);
	free(r->streams);
	free(r);
	if (rc == 0)
		log_info("stopped");
	return (rc);
}
