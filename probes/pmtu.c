/*
 * pmtu: which packet sizes get through the path to a target.  Echo
 * requests of each configured IP packet size leave with DF set (IPv4)
 * or unfragmentable (IPv6); the largest size that comes back is the
 * usable path MTU.  A size is refused when a router answers
 * "fragmentation needed" / "packet too big" (RFC 1191, RFC 8201; the MTU
 * it reports is kept) or the local interface is smaller (EMSGSIZE), and
 * lost when nothing at all comes back while smaller sizes are answered:
 * the PMTU black hole behind tunnels that breaks video while ping works.
 *
 * The sockets ignore the kernel's cached path MTU (IP_PMTUDISC_PROBE,
 * IPV6_PMTUDISC_PROBE): an earlier "too big" must not stop us from
 * trying the size again.  One raw socket per family and network context
 * serves every run; without CAP_NET_RAW, unprivileged ICMP datagram
 * sockets, whose ICMP errors arrive on the error queue (IP_RECVERR).
 * Replies are matched by identifier, sequence, source address, a per-run
 * cookie and their exact length, so a stale or foreign one never counts.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/icmp_pkt.h"
#include "probes/probe.h"

#define PMTU_MAX_SIZES		16
#define PMTU_MAX_COUNT		10
#define IP4_HDR			20
#define IP6_HDR			40
#define IP6_MIN_MTU		1280	/* RFC 8200 section 5 */
#define IP4_MIN_MTU		68	/* RFC 791 */

struct pmtu_opts {
	struct np_uintlist	sizes;		/* IP packet sizes */
	uint64_t		count;		/* tries per size */
	uint64_t		packet_interval;	/* ms between tries */
	uint64_t		expect_min_mtu;	/* 0: the largest size */
};

enum pmtu_state {
	SZ_PENDING = 0,		/* no answer (yet) */
	SZ_PASSED,		/* echo reply of the full size */
	SZ_TOO_BIG,		/* a router says the path is smaller */
	SZ_LOCAL,		/* larger than our own interface */
	SZ_UNREACH,		/* destination unreachable, time exceeded */
	SZ_ERROR,		/* could not send */
};

struct pmtu_size {
	unsigned	 size;
	enum pmtu_state	 st;
	unsigned	 nsent;
	uint16_t	 seq[PMTU_MAX_COUNT];
	uint64_t	 tx[PMTU_MAX_COUNT];	/* mono ns */
	uint32_t	 mtu;		/* reported by a router; 0: none */
	int		 err;		/* SZ_ERROR: errno */
	char		 from[NP_ADDRSTRLEN];	/* who refused it */
};

struct pmtu_sock {
	int			 family;
	int			 dgram;	/* kernel owns the id */
	struct probe_net	 net;
	int			 fd;
	struct event		*ev;
	struct pmtu_sock	*next;
};

struct pmtu_run {
	struct probe_run	*run;
	struct pmtu_sock	*sock;
	struct pmtu_run		*next, **prevp;	/* in `active` */
	struct event		*tx;
	uint32_t		 cookie;
	uint16_t		 id;
	unsigned		 nsizes, count, rounds;
	struct pmtu_size	 s[PMTU_MAX_SIZES];	/* largest first */
	/* the outcome, for record() */
	unsigned		 best;		/* 0: none passed */
	uint32_t		 reported;	/* smallest MTU reported */
	int			 black_hole;	/* larger got nothing */
};

static struct pmtu_run	*active;
static struct pmtu_sock	*socks;
static uint16_t		 next_seq;

static void	pmtu_read(evutil_socket_t, short, void *);

static const struct opt_def pmtu_opt_defs[] = {
	OPT("sizes", OPT_UINTLIST, struct pmtu_opts, sizes, IP4_MIN_MTU,
	    65535),
	OPT("count", OPT_UINT, struct pmtu_opts, count, 1, PMTU_MAX_COUNT),
	OPT("packet_interval", OPT_DURATION, struct pmtu_opts,
	    packet_interval, 1, 60000),
	OPT("expect_min_mtu", OPT_UINT, struct pmtu_opts, expect_min_mtu,
	    IP4_MIN_MTU, 65535),
};

static void
pmtu_opts_default(void *p)
{
	static const uint64_t	 def[] = { 1500, 1400, 1300, 1280 };
	struct pmtu_opts	*o = p;

	o->sizes.v = xreallocarray(NULL, NP_NELEM(def), sizeof(*o->sizes.v));
	memcpy(o->sizes.v, def, sizeof(def));
	o->sizes.n = NP_NELEM(def);
	o->count = 2;
	o->packet_interval = 200;
}

static const char *
pmtu_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct pmtu_opts	*o = cfg->opts;
	uint64_t		 max = 0;
	char			 pi[32], to[32], t[NP_ADDRSTRLEN];
	size_t			 i, j;

	*key = "sizes";
	if (o->sizes.n > PMTU_MAX_SIZES) {
		snprintf(buf, len, "'sizes' lists %zu sizes; at most %d",
		    o->sizes.n, PMTU_MAX_SIZES);
		return (buf);
	}
	for (i = 0; i < o->sizes.n; i++) {
		for (j = 0; j < i; j++)
			if (o->sizes.v[j] == o->sizes.v[i]) {
				snprintf(buf, len, "'sizes' lists %llu twice",
				    (unsigned long long)o->sizes.v[i]);
				return (buf);
			}
		if (o->sizes.v[i] > max)
			max = o->sizes.v[i];
		for (j = 0; j < cfg->ntargets; j++)
			if (cfg->addrs[j].ss.ss_family == AF_INET6 &&
			    o->sizes.v[i] < IP6_MIN_MTU) {
				format_addr(&cfg->addrs[j], 0, t, sizeof(t));
				snprintf(buf, len, "size %llu is below the "
				    "IPv6 minimum MTU of %d (target %s)",
				    (unsigned long long)o->sizes.v[i],
				    IP6_MIN_MTU, t);
				return (buf);
			}
	}
	if (o->expect_min_mtu > max) {
		*key = "expect_min_mtu";
		snprintf(buf, len, "expect_min_mtu %llu is larger than every "
		    "size in 'sizes' (largest %llu): it could never pass",
		    (unsigned long long)o->expect_min_mtu,
		    (unsigned long long)max);
		return (buf);
	}
	if ((o->count - 1) * o->packet_interval >= cfg->timeout_ms) {
		*key = "packet_interval";
		format_duration_ms(o->packet_interval, pi, sizeof(pi));
		format_duration_ms(cfg->timeout_ms, to, sizeof(to));
		snprintf(buf, len, "%llu tries %s apart do not fit in the %s "
		    "timeout", (unsigned long long)o->count, pi, to);
		return (buf);
	}
	return (NULL);
}

static void	detail(struct probe_run *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
detail(struct probe_run *run, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(run->obs.detail, sizeof(run->obs.detail), fmt, ap);
	va_end(ap);
}

/* snprintf for texts that may be cut: they are shown, not parsed. */
static void	bprintf(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
bprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	struct np_addr	a;

	memset(&a, 0, sizeof(a));
	memcpy(&a.ss, ss, sizeof(a.ss));
	a.len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	format_addr(&a, 0, buf, len);
}

/* ---- sockets --------------------------------------------------------- */

static int
pmtu_sock_setup(struct pmtu_sock *s)
{
	int	on = 1, rcvbuf = 1 << 20, mode;

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
		} else if (setsockopt(s->fd, IPPROTO_IP, IP_RECVERR, &on,
		    sizeof(on)) == -1)
			return (-1);
		/* DF on every packet, whatever the kernel learnt before */
		mode = IP_PMTUDISC_PROBE;
		if (setsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode,
		    sizeof(mode)) == -1)
			return (-1);
	} else {
		struct icmp6_filter	f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		if (!s->dgram)
			setsockopt(s->fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f,
			    sizeof(f));
		else if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVERR, &on,
		    sizeof(on)) == -1)
			return (-1);
		/* never fragment at the source either (RFC 3542 11.2) */
		mode = IPV6_PMTUDISC_PROBE;
		if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &mode,
		    sizeof(mode)) == -1 || setsockopt(s->fd, IPPROTO_IPV6,
		    IPV6_DONTFRAG, &on, sizeof(on)) == -1)
			return (-1);
	}
	return (probe_net_apply(s->fd, &s->net, s->family));
}

static struct pmtu_sock *
pmtu_sock_get(struct probe_run *run)
{
	struct pmtu_sock	*s;
	int			 family = run->addr->ss.ss_family;
	const struct probe_net	*net = &run->cfg->net;

	for (s = socks; s != NULL; s = s->next)
		if (s->family == family &&
		    memcmp(&s->net, net, sizeof(s->net)) == 0)
			return (s);
	s = xcalloc(1, sizeof(*s));
	s->family = family;
	s->net = *net;
	s->fd = probe_icmp_socket(&s->net, family, &s->dgram);
	if (s->fd == -1 || pmtu_sock_setup(s) == -1) {
		detail(run, "cannot open ICMP%s socket: %s",
		    family == AF_INET6 ? "v6" : "", strerror(errno));
		if (s->fd != -1)
			close(s->fd);
		free(s);
		return (NULL);
	}
	s->ev = event_new(run->base, s->fd, EV_READ | EV_PERSIST, pmtu_read,
	    s);
	if (s->ev == NULL || event_add(s->ev, NULL) == -1)
		fatalx("pmtu: cannot add socket event");
	s->next = socks;
	socks = s;
	log_debug("pmtu: opened %s %s socket", family == AF_INET ? "IPv4" :
	    "IPv6", s->dgram ? "datagram" : "raw");
	return (s);
}

static void
pmtu_shutdown(void)
{
	struct pmtu_sock	*s, *n;

	for (s = socks; s != NULL; s = n) {
		n = s->next;
		event_free(s->ev);
		close(s->fd);
		free(s);
	}
	socks = NULL;
}

/* ---- the verdict ----------------------------------------------------- */

/* Index of the largest size that passed, or -1. */
static int
best_index(const struct pmtu_run *r)
{
	unsigned	i;

	for (i = 0; i < r->nsizes; i++)
		if (r->s[i].st == SZ_PASSED)
			return ((int)i);
	return (-1);
}

/* Why one size did not pass, in a few words. */
static void
size_why(const struct pmtu_size *z, char *buf, size_t len)
{
	switch (z->st) {
	case SZ_TOO_BIG:
		if (z->mtu != 0)
			bprintf(buf, len, "%u too big, %s reports MTU %u",
			    z->size, z->from, z->mtu);
		else
			bprintf(buf, len, "%u too big (from %s)", z->size,
			    z->from);
		break;
	case SZ_LOCAL:
		bprintf(buf, len, "%u exceeds the local MTU", z->size);
		break;
	case SZ_UNREACH:
		bprintf(buf, len, "%u unreachable (from %s)", z->size,
		    z->from);
		break;
	case SZ_ERROR:
		bprintf(buf, len, "%u: %s", z->size, strerror(z->err));
		break;
	default:
		bprintf(buf, len, "%u no reply", z->size);
		break;
	}
}

/*
 * The result from what each size saw; `final` once nothing more can
 * come (a size still pending then got no answer at all).
 */
static enum probe_result
pmtu_verdict(struct pmtu_run *r, int final)
{
	const struct pmtu_opts	*o = r->run->cfg->opts;
	unsigned		 want, i;
	int			 b = best_index(r);
	char			 why[96];
	int			 any_big = 0, any_silent = 0, any_unreach = -1,
				 any_err = -1;

	want = o->expect_min_mtu ? (unsigned)o->expect_min_mtu :
	    r->s[0].size;
	r->best = b >= 0 ? r->s[b].size : 0;
	r->reported = 0;
	r->black_hole = 0;
	for (i = 0; i < r->nsizes; i++) {
		if (r->s[i].st == SZ_TOO_BIG && r->s[i].mtu != 0 &&
		    (r->reported == 0 || r->s[i].mtu < r->reported))
			r->reported = r->s[i].mtu;
		if (r->s[i].st == SZ_TOO_BIG || r->s[i].st == SZ_LOCAL)
			any_big = 1;
		if (r->s[i].st == SZ_PENDING)
			any_silent = 1;
		if (r->s[i].st == SZ_UNREACH && any_unreach < 0)
			any_unreach = (int)i;
		if (r->s[i].st == SZ_ERROR && any_err < 0)
			any_err = (int)i;
		if (final && b >= 0 && (int)i < b && r->s[i].st == SZ_PENDING)
			r->black_hole = 1;
	}
	if (b >= 0) {
		/* the size just above the best says why it is the best */
		why[0] = '\0';
		if (b > 0)
			size_why(&r->s[b - 1], why, sizeof(why));
		if (r->best >= want) {
			detail(r->run, "%u passes%s%s", r->best,
			    why[0] ? "; " : "", why);
			return (PR_SUCCESS);
		}
		detail(r->run, "largest passing size %u < %u; %s", r->best,
		    want, why);
		return (PR_BAD_RESPONSE);
	}
	/* every size too big: the path is too narrow for all of them */
	if (any_big && !any_silent) {
		size_why(&r->s[r->nsizes - 1], why, sizeof(why));
		detail(r->run, "no size passes; %s", why);
		return (PR_BAD_RESPONSE);
	}
	/* the sizes that fit got no answer: the target is silent */
	if (any_big && any_unreach < 0 && any_err < 0) {
		size_why(&r->s[0], why, sizeof(why));
		detail(r->run, "no reply to any size that fits; %s", why);
		return (PR_TIMEOUT);
	}
	if (any_unreach >= 0) {
		size_why(&r->s[any_unreach], why, sizeof(why));
		detail(r->run, "%s", why);
		return (PR_UNREACHABLE);
	}
	if (any_err >= 0) {
		detail(r->run, "send: %s", strerror(r->s[any_err].err));
		return (r->s[any_err].err == ENETUNREACH ||
		    r->s[any_err].err == EHOSTUNREACH ? PR_UNREACHABLE :
		    PR_ERROR);
	}
	detail(r->run, "no reply to any size");
	return (PR_TIMEOUT);
}

/* Done once the best size is known and nothing larger can still pass. */
static void
pmtu_maybe_done(struct pmtu_run *r)
{
	int		b = best_index(r);
	unsigned	i, upto = b >= 0 ? (unsigned)b : r->nsizes;

	for (i = 0; i < upto; i++)
		if (r->s[i].st == SZ_PENDING)
			return;
	probe_done(r->run, pmtu_verdict(r, 1));
}

/* ---- sending --------------------------------------------------------- */

static void
pmtu_send_one(struct pmtu_run *r, struct pmtu_size *z)
{
	static uint8_t		 pkt[65536];
	const struct np_addr	*a = r->run->addr;
	size_t			 hdr, len;
	unsigned		 k = z->nsent;
	int			 err;
	socklen_t		 errlen = sizeof(err);

	hdr = a->ss.ss_family == AF_INET ? IP4_HDR : IP6_HDR;
	len = icmp_echo_build(pkt, sizeof(pkt), a->ss.ss_family == AF_INET6,
	    r->id, next_seq, r->cookie, z->size - hdr - ICMP_HDR_LEN);
	if (len == 0 || k >= PMTU_MAX_COUNT)
		return;
	/* a datagram socket holds the last ICMP error (the "too big" of
	 * the previous size, often) and fails the next send with it: take
	 * it now, its details wait on the error queue */
	if (r->sock->dgram)
		getsockopt(r->sock->fd, SOL_SOCKET, SO_ERROR, &err, &errlen);
	z->seq[k] = next_seq++;
	z->tx[k] = now_mono_ns();
	z->nsent++;
	r->run->obs.sent++;
	if (sendto(r->sock->fd, pkt, len, 0, (const struct sockaddr *)&a->ss,
	    a->len) != -1) {
		probe_log(r->run, "size %u: echo id %u seq %u", z->size, r->id,
		    z->seq[k]);
		return;
	}
	probe_log(r->run, "size %u: send: %s", z->size, strerror(errno));
	switch (errno) {
	case EAGAIN:
	case ENOBUFS:
		return;		/* a full queue: the next try may go */
	case EMSGSIZE:
		z->st = SZ_LOCAL;
		return;
	default:
		z->st = SZ_ERROR;
		z->err = errno;
		return;
	}
}

static void
pmtu_round(struct pmtu_run *r)
{
	unsigned	i;

	for (i = 0; i < r->nsizes; i++)
		if (r->s[i].st == SZ_PENDING && r->s[i].nsent < r->count)
			pmtu_send_one(r, &r->s[i]);
	r->rounds++;
}

static void
pmtu_tx(evutil_socket_t fd, short ev, void *arg)
{
	struct pmtu_run	*r = arg;

	pmtu_round(r);
	if (r->rounds >= r->count)
		event_del(r->tx);
	pmtu_maybe_done(r);
}

static int
cmp_desc(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? 1 : x > y ? -1 : 0);
}

static void
pmtu_start(struct probe_run *run)
{
	struct pmtu_run		*r = run->state;
	const struct pmtu_opts	*o = run->cfg->opts;
	uint64_t		 sizes[PMTU_MAX_SIZES];
	struct timeval		 tv;
	unsigned		 i;

	r->run = run;
	r->count = (unsigned)o->count;
	r->nsizes = (unsigned)(o->sizes.n < PMTU_MAX_SIZES ? o->sizes.n :
	    PMTU_MAX_SIZES);
	memcpy(sizes, o->sizes.v, r->nsizes * sizeof(*sizes));
	qsort(sizes, r->nsizes, sizeof(*sizes), cmp_desc);
	for (i = 0; i < r->nsizes; i++)
		r->s[i].size = (unsigned)sizes[i];
	r->cookie = arc4random();
	r->id = (uint16_t)arc4random();
	if ((r->sock = pmtu_sock_get(run)) == NULL) {
		probe_done(run, PR_ERROR);
		return;
	}
	r->next = active;
	if (active != NULL)
		active->prevp = &r->next;
	r->prevp = &active;
	active = r;
	if (r->count > 1) {
		r->tx = event_new(run->base, -1, EV_PERSIST, pmtu_tx, r);
		tv.tv_sec = (time_t)(o->packet_interval / 1000);
		tv.tv_usec = (suseconds_t)(o->packet_interval % 1000) * 1000;
		if (r->tx == NULL || event_add(r->tx, &tv) == -1)
			fatalx("pmtu: cannot add timer");
	}
	pmtu_round(r);
	pmtu_maybe_done(r);
}

static void
pmtu_finish(struct probe_run *run, int timed_out)
{
	struct pmtu_run	*r = run->state;

	if (r->tx != NULL) {
		event_free(r->tx);
		r->tx = NULL;
	}
	if (r->prevp != NULL) {
		if (r->next != NULL)
			r->next->prevp = r->prevp;
		*r->prevp = r->next;
		r->prevp = NULL;
	}
	if (timed_out && r->sock != NULL)
		run->obs.result = pmtu_verdict(r, 1);
}

/* ---- receiving ------------------------------------------------------- */

/* The run and size this sequence number (and identifier) belongs to. */
static struct pmtu_size *
pmtu_match(struct pmtu_sock *s, uint16_t id, uint16_t seq,
    struct pmtu_run **rp, unsigned *kp)
{
	struct pmtu_run	*r;
	unsigned	 i, k;

	for (r = active; r != NULL; r = r->next) {
		if (r->sock != s || (!s->dgram && r->id != id))
			continue;
		for (i = 0; i < r->nsizes; i++)
			for (k = 0; k < r->s[i].nsent; k++)
				if (r->s[i].seq[k] == seq) {
					*rp = r;
					*kp = k;
					return (&r->s[i]);
				}
	}
	return (NULL);
}

/* A router or the destination refused a size. */
static void
pmtu_refused(struct pmtu_run *r, struct pmtu_size *z, enum icmp_kind kind,
    uint32_t mtu, const struct sockaddr_storage *from)
{
	if (z->st != SZ_PENDING)
		return;
	addr_text(from, z->from, sizeof(z->from));
	if (kind == ICMPK_TOO_BIG) {
		z->st = SZ_TOO_BIG;
		/* an MTU that is no smaller than what it refused is bogus */
		z->mtu = mtu < z->size ? mtu : 0;
		probe_log(r->run, "size %u: too big, %s reports MTU %u",
		    z->size, z->from, mtu);
	} else {
		z->st = SZ_UNREACH;
		probe_log(r->run, "size %u: unreachable from %s", z->size,
		    z->from);
	}
	pmtu_maybe_done(r);
}

/* The MTU in an ICMP "too big" that icmp_parse() accepted. */
static uint32_t
too_big_mtu(const uint8_t *icmp, int v6)
{
	/* RFC 1191 section 4: next-hop MTU in the low 16 bits of the
	 * second word; RFC 4443 section 3.2: a 32-bit MTU there */
	if (v6)
		return ((uint32_t)icmp[4] << 24 | (uint32_t)icmp[5] << 16 |
		    (uint32_t)icmp[6] << 8 | icmp[7]);
	return ((uint32_t)icmp[6] << 8 | icmp[7]);
}

static void
pmtu_got(struct pmtu_sock *s, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *from)
{
	struct icmp_info	 info;
	struct pmtu_run		*r;
	struct pmtu_size	*z;
	size_t			 hl = 0, want;
	unsigned		 k;
	int			 v6 = s->family == AF_INET6;
	double			 rtt;

	if (icmp_parse(buf, len, v6, !v6 && !s->dgram, &info) == -1 ||
	    info.kind == ICMPK_OTHER)
		return;
	if ((z = pmtu_match(s, info.id, info.seq, &r, &k)) == NULL)
		return;
	if (!v6 && !s->dgram)
		hl = (size_t)(buf[0] & 0x0f) * 4;	/* parse checked it */
	if (info.kind != ICMPK_ECHO_REPLY) {
		pmtu_refused(r, z, info.kind, info.kind == ICMPK_TOO_BIG ?
		    too_big_mtu(buf + hl, v6) : 0, from);
		return;
	}
	want = z->size - (v6 ? IP6_HDR : IP4_HDR);
	if (!addr_match(r->run->addr, from, 0) || !info.has_cookie ||
	    info.cookie != r->cookie)
		return;
	/* a reply cut short does not prove the size got through */
	if (len - hl != want) {
		probe_log(r->run, "size %u: reply of %zu bytes, not %zu: "
		    "ignored", z->size, len - hl, want);
		return;
	}
	r->run->obs.received++;
	if (z->st != SZ_PENDING)
		return;
	z->st = SZ_PASSED;
	rtt = (double)(now_mono_ns() - z->tx[k]) / 1e9;
	if (r->run->obs.nrtt < PROBE_MAX_SAMPLES)
		r->run->obs.rtt[r->run->obs.nrtt++] = rtt;
	probe_log(r->run, "size %u: echo reply seq %u, rtt %.3fms", z->size,
	    info.seq, rtt * 1e3);
	pmtu_maybe_done(r);
}

/*
 * Datagram sockets: ICMP errors and local EMSGSIZE arrive on the error
 * queue, with our echo header as data (ip(7) IP_RECVERR).
 */
static void
pmtu_errqueue(struct pmtu_sock *s)
{
	uint8_t				 data[64];
	union {
		char		b[512];
		struct cmsghdr	align;
	} cm;
	struct sock_extended_err	 ee;
	struct sockaddr_storage		 off;
	struct msghdr			 msg;
	struct iovec			 iov;
	struct cmsghdr			*c;
	struct pmtu_run			*r;
	struct pmtu_size		*z;
	unsigned			 k;
	int				 budget, have;
	uint16_t			 seq;

	for (budget = 0; budget < 64; budget++) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = data;
		iov.iov_len = sizeof(data);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.b;
		msg.msg_controllen = sizeof(cm.b);
		if (recvmsg(s->fd, &msg, MSG_ERRQUEUE) < (ssize_t)ICMP_HDR_LEN)
			return;
		have = 0;
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		    c = CMSG_NXTHDR(&msg, c))
			if (((c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_RECVERR)) &&
			    c->cmsg_len >= CMSG_LEN(sizeof(ee))) {
				memcpy(&ee, CMSG_DATA(c), sizeof(ee));
				memset(&off, 0, sizeof(off));
				/* the offender follows the error */
				if (c->cmsg_len >= CMSG_LEN(sizeof(ee) +
				    sizeof(struct sockaddr_in)))
					memcpy(&off, CMSG_DATA(c) + sizeof(ee),
					    c->cmsg_len - CMSG_LEN(sizeof(ee)) <
					    sizeof(off) ? c->cmsg_len -
					    CMSG_LEN(sizeof(ee)) : sizeof(off));
				have = 1;
			}
		if (!have)
			continue;
		seq = (uint16_t)(data[6] << 8 | data[7]);
		if ((z = pmtu_match(s, 0, seq, &r, &k)) == NULL)
			continue;
		if (ee.ee_origin == SO_EE_ORIGIN_LOCAL) {
			if (ee.ee_errno == EMSGSIZE && z->st == SZ_PENDING) {
				z->st = SZ_LOCAL;
				pmtu_maybe_done(r);
			}
		} else if (ee.ee_errno == EMSGSIZE)
			pmtu_refused(r, z, ICMPK_TOO_BIG, ee.ee_info, &off);
		else
			pmtu_refused(r, z, ICMPK_UNREACH, 0, &off);
	}
}

static void
pmtu_read(evutil_socket_t fd, short ev, void *arg)
{
	static uint8_t		 buf[65536];
	struct pmtu_sock	*s = arg;
	struct sockaddr_storage	 from;
	uint64_t		 rx_wall;
	ssize_t			 n;
	int			 budget, cut;

	if (s->dgram)
		pmtu_errqueue(s);
	for (budget = 0; budget < 256; budget++) {
		if ((n = probe_recv(fd, buf, sizeof(buf), &from, &rx_wall,
		    &cut)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* a datagram socket reports an ICMP error once
			 * here too; the error queue has the details */
			if (s->dgram)
				continue;
			log_warn("pmtu: recvmsg");
			return;
		}
		if (cut)
			continue;
		pmtu_got(s, buf, (size_t)n, &from);
	}
}

/* ---- series ---------------------------------------------------------- */

enum { X_PMTU, X_REPORTED, X_BLACK_HOLE, X_NUM };

static void
pmtu_attach(struct target_state *ts)
{
	struct store	*st = ts->store;

	ts->extra[X_PMTU] = target_series(ts, store_family(st,
	    "netprobe_pmtu_bytes", "Largest configured IP packet size that "
	    "crossed the path with DF set in the last run, in bytes.",
	    METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_REPORTED] = target_series(ts, store_family(st,
	    "netprobe_pmtu_reported_bytes", "Smallest next-hop MTU a "
	    "router reported (fragmentation needed, packet too big) in the "
	    "last run, in bytes.", METRIC_GAUGE, NULL, 0), NULL);
	ts->extra[X_BLACK_HOLE] = target_series(ts, store_family(st,
	    "netprobe_pmtu_black_hole", "1 if a size larger than the largest "
	    "passing one got no answer at all (no reply, no ICMP error): a "
	    "path MTU black hole.", METRIC_GAUGE, NULL, 0), NULL);
}

static void
pmtu_record(struct target_state *ts, const struct probe_run *run)
{
	const struct pmtu_run	*r = run->state;

	if (r->sock == NULL || r->best == 0) {
		series_unset(ts->extra[X_PMTU]);
		series_unset(ts->extra[X_BLACK_HOLE]);
	} else {
		series_set(ts->extra[X_PMTU], r->best);
		series_set(ts->extra[X_BLACK_HOLE], r->black_hole);
	}
	if (r->sock == NULL || r->reported == 0)
		series_unset(ts->extra[X_REPORTED]);
	else
		series_set(ts->extra[X_REPORTED], r->reported);
}

const struct probe_type probe_type_pmtu = {
	.name = "pmtu",
	.target_port = NP_PORT_NONE,
	.opts = pmtu_opt_defs,
	.nopts = NP_NELEM(pmtu_opt_defs),
	.opts_size = sizeof(struct pmtu_opts),
	.opts_default = pmtu_opts_default,
	.check = pmtu_check,
	.state_size = sizeof(struct pmtu_run),
	.nextra = X_NUM,
	.start = pmtu_start,
	.finish = pmtu_finish,
	.attach = pmtu_attach,
	.record = pmtu_record,
	.success_word = "ok",
	.shutdown = pmtu_shutdown,
};
