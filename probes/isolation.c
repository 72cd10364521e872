/*
 * Negative probes: any probe with `expect: blocked` tries a path that
 * must be closed, and its run becomes a verdict -- blocked, leak or
 * inconclusive -- with the evidence that decided it:
 *
 *   blocked       silence until the deadline; an ICMP administratively
 *                 prohibited (v4 3/9, 3/10, 3/13; v6 1/1, 1/5, 1/6), or
 *                 another unreachable or time exceeded from a device on
 *                 the way (named in `from`); a port unreachable from a
 *                 device that is not the target (a filter's reject); a
 *                 RST whose TTL shows it came from within filter_hops
 *                 (rst_from_filter: nftables' `reject with tcp reset`
 *                 forges the target's address, not its distance)
 *   leak          a completed handshake, any application reply, a RST
 *                 or a port unreachable from the target itself: the
 *                 packet got there
 *   inconclusive  a local error (no route, interface down, netns
 *                 missing), or the positive control failed in the same
 *                 cycle: a dead uplink must not look like isolation
 *
 * The types report only their usual result.  The evidence comes from
 * the observer: while a negative run is in flight, raw ICMP/ICMPv6 and
 * TCP sockets in its network context (source, interface, VRF, fwmark,
 * netns) see the ICMP errors quoting a packet to the target and the RSTs
 * from it -- the kernel hands raw sockets their copy before the probe's
 * own socket learns of the error, so reading them at the end of the run
 * is enough.  Without CAP_NET_RAW there is no observer: ICMP-driven
 * errors then look local (inconclusive) and a RST cannot be checked
 * against filter_hops (inconclusive, rst_unverified).
 *
 * Two negative runs to the same target at once share the evidence; the
 * scheduler spreads runs, so this needs two probes naming one target.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <linux/filter.h>
#include <linux/icmp.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/isolation.h"

static const char *const verdict_names[IV_MAX] = {
	[IV_BLOCKED] = "blocked",
	[IV_LEAK] = "leak",
	[IV_INCONCLUSIVE] = "inconclusive",
};

const char *
iso_verdict_name(enum iso_verdict v)
{
	return ((unsigned)v < IV_MAX ? verdict_names[v] : "inconclusive");
}

/* ---- pure parsers -------------------------------------------------- */

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

/* The quoted packet: an IP header and at least the first 8 bytes after. */
static int
inner_parse(const uint8_t *p, size_t len, int v6, struct iso_icmp_error *e)
{
	size_t	hl;

	if (!v6) {
		if (len < 20 || (p[0] >> 4) != 4 || (hl = (size_t)(p[0] & 0xf) *
		    4) < 20 || hl > len)
			return (-1);
		e->inner_family = AF_INET;
		memcpy(e->inner_dst, p + 16, 4);
		e->inner_proto = p[9];
		/* a later fragment carries no ports */
		if ((get16(p + 6) & 0x1fff) != 0)
			return (0);
	} else {
		if (len < 40 || (p[0] >> 4) != 6)
			return (-1);
		hl = 40;
		e->inner_family = AF_INET6;
		memcpy(e->inner_dst, p + 24, 16);
		e->inner_proto = p[6];	/* extension headers: no ports */
	}
	if ((e->inner_proto == IPPROTO_TCP || e->inner_proto == IPPROTO_UDP) &&
	    len - hl >= 4) {
		e->has_ports = 1;
		e->inner_sport = get16(p + hl);
		e->inner_dport = get16(p + hl + 2);
	}
	return (0);
}

int
iso_icmp_error_parse(const uint8_t *p, size_t len, int v6, int with_iphdr,
    struct iso_icmp_error *e)
{
	size_t	hl = 0;

	memset(e, 0, sizeof(*e));
	if (with_iphdr && !v6) {
		if (len < 20 || (p[0] >> 4) != 4 ||
		    (hl = (size_t)(p[0] & 0xf) * 4) < 20 || hl > len)
			return (-1);
	}
	p += hl;
	len -= hl;
	if (len < 8)
		return (-1);
	e->type = p[0];
	e->code = p[1];
	if (!v6 && e->type != ICMP_DEST_UNREACH && e->type != ICMP_TIME_EXCEEDED)
		return (-1);
	if (v6 && e->type != ICMP6_DST_UNREACH && e->type != ICMP6_TIME_EXCEEDED)
		return (-1);
	return (inner_parse(p + 8, len - 8, v6, e));
}

int
iso_tcp_parse(const uint8_t *p, size_t len, int v6, struct iso_tcp_segment *t)
{
	size_t	hl = 0;

	memset(t, 0, sizeof(*t));
	if (!v6) {
		if (len < 20 || (p[0] >> 4) != 4 ||
		    (hl = (size_t)(p[0] & 0xf) * 4) < 20 || hl > len ||
		    p[9] != IPPROTO_TCP || (get16(p + 6) & 0x1fff) != 0)
			return (-1);
		t->ttl = p[8];
		memcpy(t->src, p + 12, 4);
	}
	if (len - hl < 20)
		return (-1);
	t->sport = get16(p + hl);
	t->dport = get16(p + hl + 2);
	t->flags = p[hl + 13];
	return (0);
}

int
iso_hops(int ttl)
{
	static const int	initial[] = { 64, 128, 255 };
	size_t			i;

	if (ttl <= 0 || ttl > 255)
		return (0);
	for (i = 0; i < NP_NELEM(initial); i++)
		if (ttl <= initial[i])
			return (initial[i] - ttl + 1);
	return (0);
}

/* ---- the verdict --------------------------------------------------- */

/* Is this text address the run's target address? */
static int
from_target(const struct probe_run *run, const char *from)
{
	char	a[NP_ADDRSTRLEN];

	if (run->addr == NULL || run->addr->len == 0)
		return (0);
	format_addr(run->addr, 0, a, sizeof(a));
	return (strcmp(a, from) == 0);
}

static void
judge_icmp(const struct probe_run *run, const struct probe_evidence *ev,
    struct iso_judgement *j)
{
	int	unreach = ev->icmp_v6 ? ev->icmp_type == ICMP6_DST_UNREACH :
		    ev->icmp_type == ICMP_DEST_UNREACH;
	int	port = ev->icmp_v6 ? ICMP6_DST_UNREACH_NOPORT : ICMP_PORT_UNREACH;
	int	admin;

	snprintf(j->from, sizeof(j->from), "%s", ev->icmp_from);
	j->verdict = IV_BLOCKED;
	if (!unreach) {
		j->reason = "ttl_exceeded";
		return;
	}
	if (ev->icmp_v6)
		admin = ev->icmp_code == ICMP6_DST_UNREACH_ADMIN ||
		    ev->icmp_code == 5 || ev->icmp_code == 6;	/* RFC 4443 */
	else
		admin = ev->icmp_code == ICMP_NET_ANO ||
		    ev->icmp_code == ICMP_HOST_ANO ||
		    ev->icmp_code == ICMP_PKT_FILTERED;
	if (admin)
		j->reason = "admin_prohibited";
	else if (ev->icmp_code == port || (!ev->icmp_v6 &&
	    ev->icmp_code == ICMP_PROT_UNREACH)) {
		if (from_target(run, ev->icmp_from)) {
			j->verdict = IV_LEAK;	/* the target's own stack */
			j->reason = "port_unreachable";
		} else
			j->reason = "rejected";	/* a filter's reject */
	} else
		j->reason = "unreachable";
}

void
isolation_judge(const struct probe_run *run, enum iso_control ctl,
    struct iso_judgement *j)
{
	const struct probe_obs		*o = &run->obs;
	const struct probe_evidence	*ev = &o->ev;
	unsigned			 fh = run->cfg->iso.filter_hops;

	memset(j, 0, sizeof(*j));
	if (o->result == PR_SUCCESS || o->result == PR_BAD_RESPONSE) {
		j->verdict = IV_LEAK;
		j->reason = o->connected && o->result == PR_SUCCESS &&
		    strcmp(run->type->name, "tcp") == 0 ? "handshake" : "reply";
	} else if (o->connected) {
		j->verdict = IV_LEAK;
		j->reason = "handshake";
	} else if (ev->rst) {
		format_addr(run->addr, 0, j->from, sizeof(j->from));
		if (fh > 0 && ev->rst_hops > 0 &&
		    (unsigned)ev->rst_hops <= fh) {
			j->verdict = IV_BLOCKED;
			j->reason = "rst_from_filter";
		} else {
			j->verdict = IV_LEAK;
			j->reason = "rst";
		}
	} else if (ev->icmp) {
		judge_icmp(run, ev, j);
	} else if (o->result == PR_REFUSED) {
		/* a RST or port unreachable the observer did not see */
		if (fh > 0) {
			j->verdict = IV_INCONCLUSIVE;
			j->reason = "rst_unverified";
		} else {
			j->verdict = IV_LEAK;
			j->reason = "refused";
		}
	} else if (o->result == PR_TIMEOUT) {
		j->verdict = IV_BLOCKED;
		j->reason = "timeout";
	} else if (o->result == PR_UNREACHABLE) {
		j->verdict = IV_INCONCLUSIVE;	/* no ICMP: our own routing */
		j->reason = "no_route";
	} else {
		j->verdict = IV_INCONCLUSIVE;
		j->reason = "local_error";
	}
	if (j->verdict == IV_BLOCKED && ctl == IC_FAILED) {
		j->verdict = IV_INCONCLUSIVE;
		j->reason = "control_failed";
	} else if (j->verdict == IV_BLOCKED && ctl == IC_UNKNOWN) {
		j->verdict = IV_INCONCLUSIVE;
		j->reason = "control_unknown";
	}
}

/* ---- the observer -------------------------------------------------- */

/* Raw sockets of one network context and family. */
struct observer {
	struct probe_net	 net;
	int			 family;
	int			 icmp_fd, tcp_fd;
	struct event		*icmp_ev, *tcp_ev;
	unsigned		 refs;
	struct observer		*next;
};

static struct observer	*observers;
/* runs in flight being watched */
static struct probe_run	**watched;
static size_t		  nwatched;
static int		  warned_noraw;

static int
run_port(const struct probe_run *run)
{
	return (run->addr->len != 0 ? addr_port(run->addr) : 0);
}

static int
same_addr_bytes(const struct probe_run *run, int family, const uint8_t *a)
{
	const union np_sockaddr	*ss = &run->addr->ss;

	if (run->addr->len == 0 || ss->ss_family != family)
		return (0);
	if (family == AF_INET)
		return (memcmp(&ss->sin.sin_addr, a, 4) == 0);
	return (memcmp(&ss->sin6.sin6_addr, a, 16) == 0);
}

static int
same_ctx(const struct probe_run *run, const struct observer *o)
{
	return (run->addr->ss.ss_family == o->family &&
	    memcmp(&run->cfg->net, &o->net, sizeof(o->net)) == 0);
}

static void
saw_icmp(const struct observer *o, const struct iso_icmp_error *e,
    const struct sockaddr_storage *from)
{
	struct np_addr	 a;
	size_t		 i;
	int		 port;

	for (i = 0; i < nwatched; i++) {
		struct probe_run	*run = watched[i];

		if (!same_ctx(run, o) || run->obs.ev.icmp ||
		    !same_addr_bytes(run, e->inner_family, e->inner_dst))
			continue;
		port = run_port(run);
		if (port > 0 && e->has_ports && e->inner_dport != port)
			continue;
		run->obs.ev.icmp = 1;
		run->obs.ev.icmp_v6 = o->family == AF_INET6;
		run->obs.ev.icmp_type = e->type;
		run->obs.ev.icmp_code = e->code;
		memset(&a, 0, sizeof(a));
		memcpy(&a.ss, from, sizeof(a.ss));
		a.len = o->family == AF_INET ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6);
		format_addr(&a, 0, run->obs.ev.icmp_from,
		    sizeof(run->obs.ev.icmp_from));
		probe_log(run, "observer: ICMP%s type %u code %u from %s",
		    run->obs.ev.icmp_v6 ? "v6" : "", e->type, e->code,
		    run->obs.ev.icmp_from);
	}
}

static void
saw_rst(const struct observer *o, const uint8_t *src,
    const struct iso_tcp_segment *t, int ttl)
{
	size_t	i;
	int	port;

	if (!(t->flags & 0x04))		/* RST */
		return;
	for (i = 0; i < nwatched; i++) {
		struct probe_run	*run = watched[i];

		if (!same_ctx(run, o) || run->obs.ev.rst ||
		    !same_addr_bytes(run, o->family, src))
			continue;
		port = run_port(run);
		if (port > 0 && t->sport != port)
			continue;
		run->obs.ev.rst = 1;
		run->obs.ev.rst_hops = iso_hops(ttl);
		probe_log(run, "observer: RST from port %u, TTL %d (%d hops)",
		    t->sport, ttl, run->obs.ev.rst_hops);
	}
}

/* Read everything queued on one raw socket (bounded per call). */
static void
drain(struct observer *o, int fd, int tcp)
{
	struct sockaddr_storage	 from;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct cmsghdr		*c;
	union {
		char		 b[128];
		struct cmsghdr	 align;
	} cm;
	uint8_t			 buf[1500];
	struct iso_icmp_error	 e;
	struct iso_tcp_segment	 t;
	const uint8_t		*src;
	ssize_t			 n;
	int			 k, hl = -1;

	for (k = 0; k < 256; k++) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.b;
		msg.msg_controllen = sizeof(cm.b);
		if ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) == -1)
			return;
		if (!tcp) {
			if (iso_icmp_error_parse(buf, (size_t)n,
			    o->family == AF_INET6, o->family == AF_INET,
			    &e) == 0)
				saw_icmp(o, &e, &from);
			continue;
		}
		if (iso_tcp_parse(buf, (size_t)n, o->family == AF_INET6,
		    &t) == -1)
			continue;
		if (o->family == AF_INET) {
			saw_rst(o, t.src, &t, t.ttl);
			continue;
		}
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		    c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_HOPLIMIT &&
			    c->cmsg_len >= CMSG_LEN(sizeof(int)))
				memcpy(&hl, CMSG_DATA(c), sizeof(int));
		src = (const uint8_t *)
		    &((struct sockaddr_in6 *)&from)->sin6_addr;
		saw_rst(o, src, &t, hl);
	}
}

static void
on_icmp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	drain(arg, fd, 0);
}

static void
on_tcp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	drain(arg, fd, 1);
}

/* Only RSTs reach the raw TCP socket: it sees every segment otherwise. */
static int
rst_filter(int fd, int family)
{
	static struct sock_filter	v4[] = {
		BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),	/* x = IP hdr len */
		BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),	/* TCP flags */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x04, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	static struct sock_filter	v6[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),	/* no IP header */
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x04, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog		 prog;

	if (family == AF_INET) {
		prog.len = NP_NELEM(v4);
		prog.filter = v4;
	} else {
		prog.len = NP_NELEM(v6);
		prog.filter = v6;
	}
	return (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)));
}

static int
raw_open(const struct probe_net *net, int family, int proto)
{
	int	fd, on = 1;

	fd = probe_net_socket(net, family, SOCK_RAW | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, proto);
	if (fd == -1)
		return (-1);
	if (proto == IPPROTO_ICMP) {
		struct icmp_filter	f;

		f.data = ~((1U << ICMP_DEST_UNREACH) |
		    (1U << ICMP_TIME_EXCEEDED));
		(void)setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	} else if (proto == IPPROTO_ICMPV6) {
		struct icmp6_filter	f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		(void)setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f,
		    sizeof(f));
	} else if (rst_filter(fd, family) == -1 || (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on,
	    sizeof(on)) == -1)) {
		close(fd);
		return (-1);
	}
	/* the interface or VRF only: the source address is not ours to
	 * bind a raw socket to, and errors come back to any of them */
	if ((net->ifname[0] != '\0' || net->vrf[0] != '\0')) {
		struct probe_net	dev = *net;

		memset(&dev.source, 0, sizeof(dev.source));
		dev.fwmark = 0;
		if (probe_net_apply(fd, &dev, family) == -1) {
			close(fd);
			return (-1);
		}
	}
	return (fd);
}

static void
observer_close(struct observer *o)
{
	if (o->icmp_ev != NULL)
		event_free(o->icmp_ev);
	if (o->tcp_ev != NULL)
		event_free(o->tcp_ev);
	if (o->icmp_fd != -1)
		close(o->icmp_fd);
	if (o->tcp_fd != -1)
		close(o->tcp_fd);
	free(o);
}

static struct observer *
observer_get(struct probe_run *run)
{
	struct observer	*o;
	int		 family = run->addr->ss.ss_family;

	for (o = observers; o != NULL; o = o->next)
		if (same_ctx(run, o))
			return (o);
	o = xcalloc(1, sizeof(*o));
	o->net = run->cfg->net;
	o->family = family;
	o->icmp_fd = raw_open(&o->net, family, family == AF_INET ?
	    IPPROTO_ICMP : IPPROTO_ICMPV6);
	o->tcp_fd = o->icmp_fd == -1 ? -1 : raw_open(&o->net, family,
	    IPPROTO_TCP);
	if (o->icmp_fd == -1 || o->tcp_fd == -1) {
		if ((errno == EPERM || errno == EACCES) && !warned_noraw++)
			log_warnx("isolation: no raw sockets without "
			    "CAP_NET_RAW: negative probes are judged without "
			    "ICMP and RST evidence");
		else
			log_debug("isolation: raw sockets%s%s: %s",
			    o->net.netns[0] ? " in netns " : "", o->net.netns,
			    strerror(errno));
		observer_close(o);
		return (NULL);
	}
	o->icmp_ev = event_new(run->base, o->icmp_fd, EV_READ | EV_PERSIST,
	    on_icmp, o);
	o->tcp_ev = event_new(run->base, o->tcp_fd, EV_READ | EV_PERSIST,
	    on_tcp, o);
	if (o->icmp_ev == NULL || o->tcp_ev == NULL ||
	    event_add(o->icmp_ev, NULL) == -1 ||
	    event_add(o->tcp_ev, NULL) == -1)
		fatalx("isolation: cannot add observer events");
	o->next = observers;
	observers = o;
	return (o);
}

void
isolation_watch(struct probe_run *run)
{
	struct observer	*o;

	if (run->addr == NULL || run->addr->len == 0 ||
	    (o = observer_get(run)) == NULL)
		return;
	o->refs++;
	watched = xreallocarray(watched, nwatched + 1, sizeof(*watched));
	watched[nwatched++] = run;
	run->watched = 1;
	run->obs.ev.observed = 1;
}

void
isolation_unwatch(struct probe_run *run)
{
	struct observer	**op, *o;
	size_t		  i;

	for (op = &observers; *op != NULL; op = &(*op)->next)
		if (same_ctx(run, *op))
			break;
	if ((o = *op) != NULL) {
		drain(o, o->icmp_fd, 0);
		drain(o, o->tcp_fd, 1);
	}
	for (i = 0; i < nwatched; i++)
		if (watched[i] == run) {
			watched[i] = watched[--nwatched];
			break;
		}
	run->watched = 0;
	/* the raw TCP socket costs a filter run per segment: not kept */
	if (o != NULL && --o->refs == 0) {
		*op = o->next;
		observer_close(o);
	}
	if (nwatched == 0) {
		free(watched);
		watched = NULL;
	}
}

void
isolation_shutdown(void)
{
	struct observer	*o, *n;

	for (o = observers; o != NULL; o = n) {
		n = o->next;
		observer_close(o);
	}
	observers = NULL;
	free(watched);
	watched = NULL;
	nwatched = 0;
}

/* ---- series -------------------------------------------------------- */

void
isolation_attach(struct target_state *ts)
{
	struct family	*f;
	size_t		 i;

	if (ts->iso != NULL)
		return;
	ts->iso = xcalloc(1, sizeof(*ts->iso));
	ts->iso->verdict = -1;
	f = store_family(ts->store, "netprobe_isolation_verdict",
	    "The verdict of a negative probe (expect: blocked): 1 for the "
	    "current one of blocked, leak, inconclusive.", METRIC_GAUGE,
	    NULL, 0);
	for (i = 0; i < IV_MAX; i++)
		ts->iso->v[i] = target_series(ts, f, "verdict",
		    verdict_names[i], NULL);
}

void
isolation_detach(struct target_state *ts)
{
	size_t	i;

	if (ts->iso == NULL)
		return;
	for (i = 0; i < IV_MAX; i++)
		store_release(ts->store, ts->iso->v[i]);
	store_release(ts->store, ts->iso->info);
	free(ts->iso);
	ts->iso = NULL;
}

int
isolation_record(struct target_state *ts, const struct iso_judgement *j)
{
	struct iso_state	*s = ts->iso;
	struct family		*f;
	size_t			 i;
	int			 changed;

	if (s == NULL)
		return (0);
	changed = s->verdict != (int)j->verdict || s->reason != j->reason ||
	    strcmp(s->from, j->from) != 0;
	for (i = 0; i < IV_MAX; i++)
		series_set(s->v[i], i == j->verdict);
	series_set(ts->success, j->verdict == IV_BLOCKED);
	if (changed) {
		store_release(ts->store, s->info);
		f = store_family(ts->store, "netprobe_isolation_reason_info",
		    "Why a negative probe has its verdict, and the device "
		    "that answered (from), if any.", METRIC_GAUGE, NULL, 0);
		s->info = target_series(ts, f, "reason", j->reason, "from",
		    j->from, NULL);
		series_set(s->info, 1);
		if (s->verdict != (int)j->verdict)
			s->since_ms = (int64_t)(now_wall_ns() / 1000000);
		s->verdict = (int)j->verdict;
		s->reason = j->reason;
		snprintf(s->from, sizeof(s->from), "%s", j->from);
	}
	return (changed);
}
