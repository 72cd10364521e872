/*
 * The passive isolation watchers (see watcher.h): the judge that every
 * packet goes through, the libpcap handles that feed it on the libevent
 * loop, their metrics and /status, and --replay over a capture file.
 *
 * The judge.  A packet whose source is in the segment and destination
 * is not leaves it (egress; the remote end is the destination), the
 * reverse enters it (ingress; the remote is the source); both or
 * neither inside is not the segment's traffic (counted, not judged).  A
 * packet is allowed when an allow entry of its direction matches the
 * remote address, the protocol and the remote port; a fragment without
 * ports when its remote has any entry for the protocol.  The conference
 * checks look at every packet: signalling (SIP, H.323, RAS) whose far
 * end is not an allowed MCU is `foreign_mcu`, whatever the allow-list
 * says; a call (a local address and an MCU) that receives RTP from the
 * MCU but has sent no audio for listen_only_after is `listen_only`.
 * Each packet is counted under one kind at most, the most specific.
 *
 * Violations are kept per flow (kind, source, destination, protocol,
 * port) in a bounded LRU table; the first sighting of a flow is logged,
 * sent as an SNMP notification and written to the audit trail.
 * Only the top_n flows by packets get per-address metric labels.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <pcap/pcap.h>

#include "daemon/audit.h"
#include "daemon/daemon.h"
#include "daemon/pkt.h"
#include "daemon/snmp.h"
#include "daemon/watcher.h"
#include "rules/labels.h"

_Static_assert(PKT_REASON_MAX <= 32, "watcher_counts.malformed too small");

#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17

#define MAX_CALLS		1024	/* conference calls tracked */
#define BATCH			256	/* packets per read callback */
#define TICK_MS			1000	/* stats, top-N, idle calls */
#define RETRY_MS		2000	/* reopening a lost capture */
#define STATUS_FLOWS		100	/* flows shown on /status */
#define TOP_REFRESH_MS		250	/* top-N labels after new flows */
/* new-flow log lines: a burst, then a few a second (the rest counted) */
#define LOG_BURST		50.0
#define LOG_RATE		5.0

static const char *const kind_names[WATCHER_KIND_MAX] = {
	"egress", "ingress", "foreign_mcu", "listen_only"
};
static const char *const pdir_names[WATCHER_PD_MAX] = {
	"egress", "ingress", "internal", "transit", "non_ip"
};

const char *
watcher_kind_name(int k)
{
	return (k >= 0 && k < WATCHER_KIND_MAX ? kind_names[k] : "?");
}

const char *
watcher_pdir_name(int d)
{
	return (d >= 0 && d < WATCHER_PD_MAX ? pdir_names[d] : "?");
}

void
watcher_proto_name(int proto, char *buf, size_t len)
{
	static const struct {
		int		 proto;
		const char	*name;
	} names[] = {
		{ 1, "icmp" }, { 2, "igmp" }, { 6, "tcp" }, { 17, "udp" },
		{ 47, "gre" }, { 50, "esp" }, { 51, "ah" }, { 58, "icmpv6" },
		{ 89, "ospf" }, { 103, "pim" }, { 112, "vrrp" },
		{ 132, "sctp" },
	};
	size_t	i;

	for (i = 0; i < NP_NELEM(names); i++)
		if (names[i].proto == proto) {
			snprintf(buf, len, "%s", names[i].name);
			return;
		}
	snprintf(buf, len, "%d", proto);
}

void
watcher_time_text(int64_t ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	char		s[32];

	if (ms < 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ms % 1000));
}

void
watcher_flow_addrs(const struct watcher_flow *f, char *src, char *dst,
    size_t len)
{
	if (inet_ntop(f->family, f->src, src, (socklen_t)len) == NULL)
		snprintf(src, len, "?");
	if (inet_ntop(f->family, f->dst, dst, (socklen_t)len) == NULL)
		snprintf(dst, len, "?");
}

/* "10.20.0.10:5060", "[fd00::1]:5060", or the bare address for port 0 */
static void
endpoint(char *buf, size_t len, int family, const char *a, unsigned port)
{
	if (port == 0)
		snprintf(buf, len, "%s", a);
	else if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

void
watcher_flow_text(const struct watcher_flow *f, char *buf, size_t len)
{
	char	src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], proto[16];
	char	se[INET6_ADDRSTRLEN + 8], de[INET6_ADDRSTRLEN + 8];

	watcher_flow_addrs(f, src, dst, sizeof(src));
	watcher_proto_name(f->proto, proto, sizeof(proto));
	endpoint(se, sizeof(se), f->family, src, f->port_at_src ? f->port : 0);
	endpoint(de, sizeof(de), f->family, dst, f->port_at_src ? 0 : f->port);
	snprintf(buf, len, "%s %s -> %s", proto, se, de);
}

/* ---- the flow table: hashed, bounded, least recently seen goes ---- */

struct flow {
	struct watcher_flow	 f;
	uint64_t		 hash;
	struct flow		*hnext;
	struct flow		*prev, *next;	/* head: most recent */
};

struct ftable {
	struct flow		**buckets;
	size_t			  nbuckets;	/* a power of two */
	size_t			  n, max;
	struct flow		 *head, *tail;
	uint64_t		  seed;		/* against crafted collisions */
};

/* The key bytes of a flow: everything but times and counts. */
static uint64_t
flow_hash(const struct ftable *t, const struct watcher_flow *f)
{
	uint8_t		 k[40];
	uint64_t	 h = 0xcbf29ce484222325ULL ^ t->seed;
	size_t		 i;

	k[0] = (uint8_t)f->kind;
	k[1] = (uint8_t)f->family;
	k[2] = f->proto;
	k[3] = (uint8_t)f->port_at_src;
	k[4] = (uint8_t)(f->port >> 8);
	k[5] = (uint8_t)f->port;
	memcpy(k + 6, f->src, 16);
	memcpy(k + 22, f->dst, 16);
	k[38] = k[39] = 0;
	/* FNV-1a, seeded; then a final mix so the low bits depend on all */
	for (i = 0; i < sizeof(k); i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (h);
}

static int
flow_same(const struct watcher_flow *a, const struct watcher_flow *b)
{
	return (a->kind == b->kind && a->family == b->family &&
	    a->proto == b->proto && a->port == b->port &&
	    a->port_at_src == b->port_at_src &&
	    memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0);
}

static void
ftable_buckets(struct ftable *t, size_t max)
{
	struct flow	*fl;
	size_t		 nb = 16, slot;

	while (nb < 2 * max)
		nb *= 2;
	free(t->buckets);
	t->buckets = xcalloc(nb, sizeof(*t->buckets));
	t->nbuckets = nb;
	t->max = max;
	for (fl = t->head; fl != NULL; fl = fl->next) {
		slot = fl->hash & (nb - 1);
		fl->hnext = t->buckets[slot];
		t->buckets[slot] = fl;
	}
}

static void
lru_unlink(struct ftable *t, struct flow *fl)
{
	if (fl->prev != NULL)
		fl->prev->next = fl->next;
	else
		t->head = fl->next;
	if (fl->next != NULL)
		fl->next->prev = fl->prev;
	else
		t->tail = fl->prev;
	fl->prev = fl->next = NULL;
}

static void
lru_front(struct ftable *t, struct flow *fl)
{
	fl->prev = NULL;
	fl->next = t->head;
	if (t->head != NULL)
		t->head->prev = fl;
	else
		t->tail = fl;
	t->head = fl;
}

static void
ftable_remove(struct ftable *t, struct flow *fl)
{
	struct flow	**pp;

	for (pp = &t->buckets[fl->hash & (t->nbuckets - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == fl) {
			*pp = fl->hnext;
			break;
		}
	lru_unlink(t, fl);
	t->n--;
	free(fl);
}

static void
ftable_clear(struct ftable *t)
{
	while (t->head != NULL)
		ftable_remove(t, t->head);
	free(t->buckets);
	t->buckets = NULL;
}

/* ---- the judge ------------------------------------------------------ */

struct call {
	int		 family;
	uint8_t		 local[16], mcu[16];
	uint16_t	 mcu_port;	/* of its first media packet */
	int64_t		 start_ms;
	int64_t		 last_media_ms;	/* either way */
	int64_t		 last_audio_ms;	/* outbound audio; 0: none yet */
	int		 flagged;
};

struct watcher_judge {
	const struct watcher_cfg *cfg;
	watcher_flow_fn		 on_new;
	void			*arg;
	struct watcher_counts	 c;
	struct ftable		 t;
	struct call		*calls;
	size_t			 ncalls;
	int64_t			 sweep_ms;	/* next idle-call sweep */
};

struct watcher_judge *
watcher_judge_new(const struct watcher_cfg *cfg, watcher_flow_fn on_new,
    void *arg)
{
	struct watcher_judge	*j = xcalloc(1, sizeof(*j));

	j->cfg = cfg;
	j->on_new = on_new;
	j->arg = arg;
	j->t.seed = ((uint64_t)arc4random() << 32) | arc4random();
	ftable_buckets(&j->t, cfg->table_size);
	return (j);
}

void
watcher_judge_free(struct watcher_judge *j)
{
	if (j == NULL)
		return;
	ftable_clear(&j->t);
	free(j->calls);
	free(j);
}

static void
calls_drop_all(struct watcher_judge *j)
{
	free(j->calls);
	j->calls = NULL;
	j->ncalls = 0;
	j->c.calls = j->c.listen_only = 0;
}

void
watcher_judge_set_cfg(struct watcher_judge *j, const struct watcher_cfg *cfg)
{
	j->cfg = cfg;
	/* a smaller table: the least recently seen flows go */
	while (j->t.n > cfg->table_size) {
		ftable_remove(&j->t, j->t.tail);
		j->c.evictions++;
	}
	if (cfg->table_size != j->t.max)
		ftable_buckets(&j->t, cfg->table_size);
	j->c.flows = j->t.n;
	if (cfg->conference == NULL)
		calls_drop_all(j);
}

const struct watcher_counts *
watcher_judge_counts(const struct watcher_judge *j)
{
	return (&j->c);
}

void
watcher_judge_flows(const struct watcher_judge *j, size_t max,
    watcher_flow_fn fn, void *arg)
{
	const struct flow	*fl;
	size_t			 n = 0;

	for (fl = j->t.head; fl != NULL && n < max; fl = fl->next, n++)
		fn(arg, &fl->f);
}

/* Count one packet of a violation flow; a new flow is announced. */
static void
violation(struct watcher_judge *j, const struct watcher_flow *key,
    int64_t ts)
{
	struct ftable	*t = &j->t;
	struct flow	*fl;
	uint64_t	 h = flow_hash(t, key);
	size_t		 slot = h & (t->nbuckets - 1);

	j->c.violations[key->kind]++;
	for (fl = t->buckets[slot]; fl != NULL; fl = fl->hnext)
		if (fl->hash == h && flow_same(&fl->f, key))
			break;
	if (fl != NULL) {
		fl->f.packets++;
		if (ts > fl->f.last_ms)
			fl->f.last_ms = ts;
		if (t->head != fl) {
			lru_unlink(t, fl);
			lru_front(t, fl);
		}
		return;
	}
	if (t->n >= t->max && t->tail != NULL) {
		ftable_remove(t, t->tail);
		j->c.evictions++;
	}
	fl = xcalloc(1, sizeof(*fl));
	fl->f = *key;
	fl->f.first_ms = fl->f.last_ms = ts;
	fl->f.packets = 1;
	fl->hash = h;
	fl->hnext = t->buckets[slot];
	t->buckets[slot] = fl;
	lru_front(t, fl);
	t->n++;
	j->c.flows = t->n;
	j->c.new_flows[key->kind]++;
	if (j->on_new != NULL)
		j->on_new(j->arg, &fl->f);
}

static void
flow_key(struct watcher_flow *k, int kind, int family, const uint8_t *src,
    const uint8_t *dst, uint8_t proto, uint16_t port, int port_at_src)
{
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->family = family;
	memcpy(k->src, src, 16);
	memcpy(k->dst, dst, 16);
	k->proto = proto;
	k->port = port;
	k->port_at_src = port_at_src;
}

static int
in_prefixes(const struct nl_prefix *v, size_t n, int family,
    const uint8_t *a)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (netlink_prefix_contains(&v[i], family, a))
			return (1);
	return (0);
}

/*
 * Does an allow entry let the remote end through with this protocol and
 * remote port?  Without ports (a later fragment, a tiny first one), any
 * entry for the remote and the protocol does.
 */
static int
allowed(const struct watcher_allow *v, size_t n, const struct pkt_info *pi,
    const uint8_t *remote, uint16_t port)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!netlink_prefix_contains(&v[i].pfx, pi->family, remote))
			continue;
		if (v[i].proto < 0)
			return (1);
		if (v[i].proto != pi->proto)
			continue;
		if (!v[i].has_ports || !pi->has_ports)
			return (1);
		if (port >= v[i].port_lo && port <= v[i].port_hi)
			return (1);
	}
	return (0);
}

static int
port_in(const uint16_t *v, size_t n, uint16_t port)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (v[i] == port)
			return (1);
	return (0);
}

/* A conference signalling port: SIP (udp, tcp), H.323 (tcp), RAS (udp). */
static int
sig_port(const struct watcher_conference *c, uint8_t proto, uint16_t port)
{
	if (proto == IPPROTO_TCP_)
		return (port_in(c->sip_ports, c->nsip, port) ||
		    port_in(c->h323_ports, c->nh323, port));
	if (proto == IPPROTO_UDP_)
		return (port_in(c->sip_ports, c->nsip, port) ||
		    port_in(c->ras_ports, c->nras, port));
	return (0);
}

/*
 * Signalling whose far end is not an allowed MCU: the remote end when
 * the packet enters or leaves the segment; otherwise neither end is an
 * MCU.  Fills the flow key.
 */
static int
foreign_mcu(const struct watcher_judge *j, const struct pkt_info *pi,
    int pd, struct watcher_flow *k)
{
	const struct watcher_conference	*c = j->cfg->conference;
	int				 smcu, dmcu;

	if (!pi->has_ports || (!sig_port(c, pi->proto, pi->sport) &&
	    !sig_port(c, pi->proto, pi->dport)))
		return (0);
	smcu = in_prefixes(c->mcus, c->nmcus, pi->family, pi->src);
	dmcu = in_prefixes(c->mcus, c->nmcus, pi->family, pi->dst);
	if (pd == WATCHER_PD_INGRESS) {
		if (smcu)
			return (0);
		flow_key(k, WATCHER_FOREIGN_MCU, pi->family, pi->src, pi->dst,
		    pi->proto, pi->sport, 1);
		return (1);
	}
	if (pd == WATCHER_PD_EGRESS ? dmcu : (smcu || dmcu))
		return (0);
	flow_key(k, WATCHER_FOREIGN_MCU, pi->family, pi->src, pi->dst,
	    pi->proto, pi->dport, 0);
	return (1);
}

static struct call *
call_find(struct watcher_judge *j, int family, const uint8_t *local,
    const uint8_t *mcu)
{
	size_t	i;

	for (i = 0; i < j->ncalls; i++)
		if (j->calls[i].family == family &&
		    memcmp(j->calls[i].local, local, 16) == 0 &&
		    memcmp(j->calls[i].mcu, mcu, 16) == 0)
			return (&j->calls[i]);
	return (NULL);
}

static void
call_end(struct watcher_judge *j, struct call *cl)
{
	if (cl->flagged)
		j->c.listen_only--;
	*cl = j->calls[--j->ncalls];
	j->c.calls = j->ncalls;
}

/* End every call without media for WATCHER_CALL_IDLE_MS at now. */
void
watcher_judge_expire(struct watcher_judge *j, int64_t now)
{
	size_t	i = 0;

	while (i < j->ncalls)
		if (now - j->calls[i].last_media_ms > WATCHER_CALL_IDLE_MS)
			call_end(j, &j->calls[i]);
		else
			i++;
}

static struct call *
call_new(struct watcher_judge *j, const struct pkt_info *pi, int64_t ts)
{
	struct call	*cl;
	size_t		 i, old = 0;

	if (j->ncalls == MAX_CALLS) {
		/* full: the longest idle one goes */
		for (i = 1; i < j->ncalls; i++)
			if (j->calls[i].last_media_ms <
			    j->calls[old].last_media_ms)
				old = i;
		call_end(j, &j->calls[old]);
	}
	if (j->calls == NULL)
		j->calls = xcalloc(MAX_CALLS, sizeof(*j->calls));
	cl = &j->calls[j->ncalls++];
	memset(cl, 0, sizeof(*cl));
	cl->family = pi->family;
	memcpy(cl->local, pi->dst, 16);
	memcpy(cl->mcu, pi->src, 16);
	cl->mcu_port = pi->sport;
	cl->start_ms = cl->last_media_ms = ts;
	j->c.calls = j->ncalls;
	return (cl);
}

/*
 * RTP between an MCU and a non-MCU end (not on a signalling port): keep
 * the call's clock.  Returns 1 when the packet is counted as listen_only
 * (inbound media of a flagged call).
 */
static int
media(struct watcher_judge *j, const struct pkt_info *pi, int64_t ts)
{
	const struct watcher_conference	*c = j->cfg->conference;
	struct pkt_rtp			 rtp;
	struct watcher_flow		 k;
	struct call			*cl;
	int64_t				 ref;
	int				 smcu, dmcu;

	if (pi->proto != IPPROTO_UDP_ || !pi->has_ports || pi->payload == NULL)
		return (0);
	smcu = in_prefixes(c->mcus, c->nmcus, pi->family, pi->src);
	dmcu = in_prefixes(c->mcus, c->nmcus, pi->family, pi->dst);
	if (smcu == dmcu || sig_port(c, pi->proto, pi->sport) ||
	    sig_port(c, pi->proto, pi->dport) ||
	    pkt_rtp_parse(pi->payload, pi->payload_len, pi->payload_wire_len,
	    &rtp) == -1)
		return (0);
	if (dmcu) {
		/* outbound: audio restarts the clock and clears a flag */
		if ((cl = call_find(j, pi->family, pi->src, pi->dst)) == NULL)
			return (0);
		if (ts - cl->last_media_ms > WATCHER_CALL_IDLE_MS) {
			call_end(j, cl);
			return (0);
		}
		if (ts > cl->last_media_ms)
			cl->last_media_ms = ts;
		if (c->audio_pt[rtp.pt]) {
			cl->last_audio_ms = ts;
			if (cl->flagged) {
				cl->flagged = 0;
				j->c.listen_only--;
			}
		}
		return (0);
	}
	/* inbound: the first media from the MCU starts a call */
	cl = call_find(j, pi->family, pi->dst, pi->src);
	if (cl != NULL && ts - cl->last_media_ms > WATCHER_CALL_IDLE_MS) {
		call_end(j, cl);
		cl = NULL;
	}
	if (cl == NULL)
		cl = call_new(j, pi, ts);
	if (ts > cl->last_media_ms)
		cl->last_media_ms = ts;
	ref = cl->last_audio_ms > cl->start_ms ? cl->last_audio_ms :
	    cl->start_ms;
	if (!cl->flagged && ts - ref >= (int64_t)c->listen_only_after_ms) {
		cl->flagged = 1;
		j->c.listen_only++;
	}
	if (!cl->flagged)
		return (0);
	/* the site that does not talk, toward the MCU it does not talk to */
	flow_key(&k, WATCHER_LISTEN_ONLY, cl->family, cl->local, cl->mcu,
	    IPPROTO_UDP_, cl->mcu_port, 0);
	violation(j, &k, ts);
	return (1);
}

void
watcher_judge_packet(struct watcher_judge *j, int dlt, int64_t ts,
    const uint8_t *p, size_t caplen, size_t wirelen)
{
	const struct watcher_cfg	*cfg = j->cfg;
	struct pkt_info			 pi;
	struct watcher_flow		 k;
	int				 r, pd, sin, din;

	j->c.packets++;
	if ((r = pkt_parse(dlt, p, caplen, wirelen, &pi)) != PKT_OK) {
		j->c.malformed[r]++;
		return;
	}
	if (pi.family == 0) {
		j->c.direction[WATCHER_PD_NON_IP]++;
		return;
	}
	sin = in_prefixes(cfg->segment, cfg->nsegment, pi.family, pi.src);
	din = in_prefixes(cfg->segment, cfg->nsegment, pi.family, pi.dst);
	if (sin && !din)
		pd = WATCHER_PD_EGRESS;
	else if (din && !sin)
		pd = WATCHER_PD_INGRESS;
	else
		pd = sin ? WATCHER_PD_INTERNAL : WATCHER_PD_TRANSIT;
	j->c.direction[pd]++;

	if (cfg->conference != NULL) {
		if (ts >= j->sweep_ms) {
			watcher_judge_expire(j, ts);
			j->sweep_ms = ts + TICK_MS;
		}
		if (foreign_mcu(j, &pi, pd, &k)) {
			violation(j, &k, ts);
			return;
		}
		if (media(j, &pi, ts))
			return;
	}
	if (pd == WATCHER_PD_EGRESS && (cfg->direction & WATCHER_DIR_EGRESS) &&
	    !allowed(cfg->allow[0], cfg->nallow[0], &pi, pi.dst, pi.dport)) {
		flow_key(&k, WATCHER_EGRESS, pi.family, pi.src, pi.dst,
		    pi.proto, pi.has_ports ? pi.dport : 0, 0);
		violation(j, &k, ts);
	} else if (pd == WATCHER_PD_INGRESS &&
	    (cfg->direction & WATCHER_DIR_INGRESS) &&
	    !allowed(cfg->allow[1], cfg->nallow[1], &pi, pi.src, pi.sport)) {
		flow_key(&k, WATCHER_INGRESS, pi.family, pi.src, pi.dst,
		    pi.proto, pi.has_ports ? pi.sport : 0, 1);
		violation(j, &k, ts);
	}
}

/* ---- live capture --------------------------------------------------- */

/* One top-N flow series, by its label values. */
struct topslot {
	struct series	*s;
	char		*key;
};

struct watcher {
	struct watchers		*ws;
	const struct watcher_cfg *cfg;
	struct watcher_judge	*j;
	pcap_t			*pcap;
	int			 dlt;
	unsigned		 ifindex;	/* 0: not checked ("any") */
	struct event		*ev;
	int			 up;
	char			 err[PCAP_ERRBUF_SIZE + 64];	/* logged */
	uint64_t		 retry_ms;	/* monotonic */
	/* kernel counters: of handles closed, and the open one's last */
	uint64_t		 drop_base, ifdrop_base;
	unsigned		 drop_last, ifdrop_last;
	/* new-flow log lines */
	double			 tokens;
	uint64_t		 tokens_ms;
	uint64_t		 unlogged;
	/* top-N */
	struct topslot		*top;
	size_t			 ntop;
	uint64_t		 top_ms;
	uint64_t		 top_seen;	/* violations at last refresh */
	/* series */
	struct series		*m_up, *m_packets, *m_kdrop, *m_ifdrop,
				*m_flows, *m_evict, *m_calls, *m_lonly;
	struct series		*m_malformed[PKT_REASON_MAX];
	struct series		*m_viol[WATCHER_KIND_MAX];
	struct series		*m_vflows[WATCHER_KIND_MAX];
	struct series		*m_dir[WATCHER_PD_MAX];
};

struct watchers {
	struct np_daemon	*d;
	struct watcher		**v;
	size_t			  n;
	struct event		 *tick;
	struct family		 *f_up, *f_packets, *f_dir, *f_kdrop, *f_ifdrop,
				 *f_malformed, *f_viol, *f_vflows, *f_flowpk,
				 *f_flows, *f_evict, *f_calls, *f_lonly;
};

static uint64_t
mono_ms(void)
{
	return (now_mono_ns() / 1000000);
}

static void
families(struct watchers *ws)
{
	struct store	*st = ws->d->store;

	ws->f_up = store_family(st, "netprobe_watcher_up",
	    "1 while the watcher captures on its interface; 0 while it "
	    "cannot (no such interface, no privilege), retried every 2s.",
	    METRIC_GAUGE, NULL, 0);
	ws->f_packets = store_family(st, "netprobe_watcher_packets_total",
	    "Packets the watcher captured (after its BPF filter).",
	    METRIC_COUNTER, NULL, 0);
	ws->f_dir = store_family(st,
	    "netprobe_watcher_direction_packets_total",
	    "Captured packets by how they stand to the segment: egress and "
	    "ingress are judged; internal, transit and non_ip are not.",
	    METRIC_COUNTER, NULL, 0);
	ws->f_kdrop = store_family(st,
	    "netprobe_watcher_kernel_dropped_packets_total",
	    "Packets the kernel dropped for want of capture buffer space "
	    "(pcap_stats ps_drop).", METRIC_COUNTER, NULL, 0);
	ws->f_ifdrop = store_family(st,
	    "netprobe_watcher_interface_dropped_packets_total",
	    "Packets the interface dropped while the watcher captured "
	    "(pcap_stats ps_ifdrop).", METRIC_COUNTER, NULL, 0);
	ws->f_malformed = store_family(st,
	    "netprobe_watcher_malformed_packets_total",
	    "Captured packets the watcher could not judge, by reason "
	    "(snaplen: the capture cut the headers).", METRIC_COUNTER,
	    NULL, 0);
	ws->f_viol = store_family(st, "netprobe_watcher_violations_total",
	    "Packets outside the segment's allow-list or conference rules, "
	    "by kind.", METRIC_COUNTER, NULL, 0);
	ws->f_vflows = store_family(st,
	    "netprobe_watcher_violation_flows_total",
	    "New violation flows (kind, source, destination, protocol, "
	    "port) seen, by kind.", METRIC_COUNTER, NULL, 0);
	ws->f_flowpk = store_family(st,
	    "netprobe_watcher_violation_flow_packets",
	    "Packets of the top violation flows (top_n by packets) in the "
	    "watcher's table.", METRIC_GAUGE, NULL, 0);
	ws->f_flows = store_family(st, "netprobe_watcher_flows",
	    "Violation flows in the watcher's table.", METRIC_GAUGE, NULL, 0);
	ws->f_evict = store_family(st,
	    "netprobe_watcher_flow_evictions_total",
	    "Violation flows dropped from the full table (least recently "
	    "seen first).", METRIC_COUNTER, NULL, 0);
	ws->f_calls = store_family(st, "netprobe_watcher_calls",
	    "Conference calls (a local address and an MCU with RTP) in "
	    "progress.", METRIC_GAUGE, NULL, 0);
	ws->f_lonly = store_family(st, "netprobe_watcher_listen_only_calls",
	    "Calls in progress receiving media from the MCU but sending no "
	    "audio for listen_only_after.", METRIC_GAUGE, NULL, 0);
}

static void
conf_series(struct watcher *w)
{
	struct store	*st = w->ws->d->store;
	const char	*n = w->cfg->name;

	if (w->cfg->conference != NULL && w->m_calls == NULL) {
		w->m_calls = store_series(st, w->ws->f_calls, NULL,
		    "watcher", n, NULL);
		w->m_lonly = store_series(st, w->ws->f_lonly, NULL,
		    "watcher", n, NULL);
	} else if (w->cfg->conference == NULL && w->m_calls != NULL) {
		store_release(st, w->m_calls);
		store_release(st, w->m_lonly);
		w->m_calls = w->m_lonly = NULL;
	}
}

static void
make_series(struct watcher *w)
{
	struct watchers	*ws = w->ws;
	struct store	*st = ws->d->store;
	const char	*n = w->cfg->name;
	int		 i;

	w->m_up = store_series(st, ws->f_up, NULL, "watcher", n, NULL);
	w->m_packets = store_series(st, ws->f_packets, NULL, "watcher", n,
	    NULL);
	w->m_kdrop = store_series(st, ws->f_kdrop, NULL, "watcher", n, NULL);
	w->m_ifdrop = store_series(st, ws->f_ifdrop, NULL, "watcher", n, NULL);
	w->m_flows = store_series(st, ws->f_flows, NULL, "watcher", n, NULL);
	w->m_evict = store_series(st, ws->f_evict, NULL, "watcher", n, NULL);
	/* every label value from the start, so increase() sees the first */
	for (i = 1; i < PKT_REASON_MAX; i++)
		w->m_malformed[i] = store_series(st, ws->f_malformed, NULL,
		    "watcher", n, "reason", pkt_reason_name(i), NULL);
	for (i = 0; i < WATCHER_KIND_MAX; i++) {
		w->m_viol[i] = store_series(st, ws->f_viol, NULL, "watcher", n,
		    "kind", kind_names[i], NULL);
		w->m_vflows[i] = store_series(st, ws->f_vflows, NULL,
		    "watcher", n, "kind", kind_names[i], NULL);
	}
	for (i = 0; i < WATCHER_PD_MAX; i++)
		w->m_dir[i] = store_series(st, ws->f_dir, NULL, "watcher", n,
		    "direction", pdir_names[i], NULL);
	conf_series(w);
}

static void
drop_series(struct watcher *w)
{
	struct store	*st = w->ws->d->store;
	int		 i;

	store_release(st, w->m_up);
	store_release(st, w->m_packets);
	store_release(st, w->m_kdrop);
	store_release(st, w->m_ifdrop);
	store_release(st, w->m_flows);
	store_release(st, w->m_evict);
	store_release(st, w->m_calls);
	store_release(st, w->m_lonly);
	for (i = 1; i < PKT_REASON_MAX; i++)
		store_release(st, w->m_malformed[i]);
	for (i = 0; i < WATCHER_KIND_MAX; i++) {
		store_release(st, w->m_viol[i]);
		store_release(st, w->m_vflows[i]);
	}
	for (i = 0; i < WATCHER_PD_MAX; i++)
		store_release(st, w->m_dir[i]);
	for (i = 0; i < (int)w->ntop; i++) {
		store_release(st, w->top[i].s);
		free(w->top[i].key);
	}
	free(w->top);
	w->top = NULL;
	w->ntop = 0;
}

static void
sync_metrics(struct watcher *w)
{
	const struct watcher_counts	*c = watcher_judge_counts(w->j);
	int				 i;

	series_set(w->m_up, w->up);
	series_set(w->m_packets, (double)c->packets);
	series_set(w->m_kdrop, (double)w->drop_base);
	series_set(w->m_ifdrop, (double)w->ifdrop_base);
	series_set(w->m_flows, (double)c->flows);
	series_set(w->m_evict, (double)c->evictions);
	for (i = 1; i < PKT_REASON_MAX; i++)
		series_set(w->m_malformed[i], (double)c->malformed[i]);
	for (i = 0; i < WATCHER_KIND_MAX; i++) {
		series_set(w->m_viol[i], (double)c->violations[i]);
		series_set(w->m_vflows[i], (double)c->new_flows[i]);
	}
	for (i = 0; i < WATCHER_PD_MAX; i++)
		series_set(w->m_dir[i], (double)c->direction[i]);
	if (w->m_calls != NULL) {
		series_set(w->m_calls, (double)c->calls);
		series_set(w->m_lonly, (double)c->listen_only);
	}
}

struct topctx {
	const struct watcher_flow	**v;
	size_t				  n, max;
};

/* Keep the max flows with the most packets (ties: the most recent). */
static void
top_collect(void *arg, const struct watcher_flow *f)
{
	struct topctx	*tc = arg;
	size_t		 i;

	if (tc->n == tc->max && tc->v[tc->n - 1]->packets >= f->packets)
		return;
	i = tc->n < tc->max ? tc->n++ : tc->n - 1;
	for (; i > 0 && tc->v[i - 1]->packets < f->packets; i--)
		tc->v[i] = tc->v[i - 1];
	tc->v[i] = f;
}

/*
 * netprobe_watcher_violation_flow_packets for the top_n flows: a flow
 * that leaves the top loses its series, so the per-address labels stay
 * bounded.
 */
static void
top_refresh(struct watcher *w)
{
	const struct watcher_flow	*v[100];
	struct topslot			*nt;
	struct topctx			 tc;
	char				 src[INET6_ADDRSTRLEN],
					 dst[INET6_ADDRSTRLEN], proto[16],
					 port[8], *key;
	size_t				 i, k, nn = 0;

	w->top_ms = mono_ms();
	w->top_seen = 0;
	for (i = 0; i < WATCHER_KIND_MAX; i++)
		w->top_seen += watcher_judge_counts(w->j)->violations[i];
	tc.v = v;
	tc.n = 0;
	tc.max = w->cfg->top_n < NP_NELEM(v) ? w->cfg->top_n : NP_NELEM(v);
	if (tc.max > 0)
		watcher_judge_flows(w->j, SIZE_MAX, top_collect, &tc);
	nt = xcalloc(tc.n + 1, sizeof(*nt));
	for (i = 0; i < tc.n; i++) {
		watcher_flow_addrs(v[i], src, dst, sizeof(src));
		watcher_proto_name(v[i]->proto, proto, sizeof(proto));
		snprintf(port, sizeof(port), "%u", v[i]->port);
		xasprintf(&key, "%s %s %s %s %s", kind_names[v[i]->kind], src,
		    dst, proto, port);
		for (k = 0; k < nn; k++)
			if (strcmp(nt[k].key, key) == 0)
				break;
		if (k < nn) {
			/* the same labels twice (a reload moved the segment) */
			free(key);
			continue;
		}
		for (k = 0; k < w->ntop; k++)
			if (w->top[k].key != NULL &&
			    strcmp(w->top[k].key, key) == 0)
				break;
		if (k < w->ntop) {
			nt[nn] = w->top[k];
			w->top[k].key = NULL;
			w->top[k].s = NULL;
			free(key);
		} else {
			nt[nn].key = key;
			nt[nn].s = store_series(w->ws->d->store,
			    w->ws->f_flowpk, NULL, "watcher", w->cfg->name,
			    "kind", kind_names[v[i]->kind], "src", src, "dst",
			    dst, "proto", proto, "port", port, NULL);
		}
		series_set(nt[nn].s, (double)v[i]->packets);
		nn++;
	}
	/* what is left of the old slots left the top */
	for (k = 0; k < w->ntop; k++)
		if (w->top[k].s != NULL) {
			store_release(w->ws->d->store, w->top[k].s);
			free(w->top[k].key);
		}
	free(w->top);
	w->top = nt;
	w->ntop = nn;
}

static int
take_log_token(struct watcher *w)
{
	uint64_t	now = mono_ms();

	if (w->tokens_ms == 0)
		w->tokens = LOG_BURST;
	else
		w->tokens += (double)(now - w->tokens_ms) * LOG_RATE / 1000.0;
	if (w->tokens > LOG_BURST)
		w->tokens = LOG_BURST;
	w->tokens_ms = now;
	if (w->tokens < 1.0)
		return (0);
	w->tokens -= 1.0;
	return (1);
}

/* A new violation flow, live: the log, the managers, the audit trail. */
static void
live_new_flow(void *arg, const struct watcher_flow *f)
{
	struct watcher		*w = arg;
	struct np_daemon	*d = w->ws->d;
	struct np_labels	 fields = { NULL, 0 };
	char			 text[256], src[INET6_ADDRSTRLEN],
				 dst[INET6_ADDRSTRLEN], proto[16],
				 port[8], when[40];

	watcher_flow_text(f, text, sizeof(text));
	if (take_log_token(w))
		log_warnx("watcher %s: %s violation: %s", w->cfg->name,
		    kind_names[f->kind], text);
	else
		w->unlogged++;
	watcher_flow_addrs(f, src, dst, sizeof(src));
	watcher_proto_name(f->proto, proto, sizeof(proto));
	snmp_notify_isolation(d, w->cfg->name, kind_names[f->kind], src, dst,
	    proto, f->port, f->first_ms);
	snprintf(port, sizeof(port), "%u", f->port);
	watcher_time_text(f->first_ms, when, sizeof(when));
	rl_labels_set(&fields, "watcher", w->cfg->name);
	/* "kind" is the record's own key */
	rl_labels_set(&fields, "violation", kind_names[f->kind]);
	rl_labels_set(&fields, "src", src);
	rl_labels_set(&fields, "dst", dst);
	rl_labels_set(&fields, "proto", proto);
	rl_labels_set(&fields, "port", port);
	rl_labels_set(&fields, "first_seen", when);
	audit_record(d->audit, "violation", &fields);
	rl_labels_free(&fields);
}

static void
on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *p)
{
	struct watcher	*w = (struct watcher *)arg;
	int64_t		 ts = (int64_t)h->ts.tv_sec * 1000 +
			    h->ts.tv_usec / 1000;

	watcher_judge_packet(w->j, w->dlt, ts, p, h->caplen, h->len);
}

/* Fold the open handle's kernel counters into the totals. */
static void
read_stats(struct watcher *w)
{
	struct pcap_stat	ps;

	if (w->pcap == NULL || pcap_stats(w->pcap, &ps) == -1)
		return;
	/* 32-bit counters since the handle opened: add what is new */
	w->drop_base += (unsigned)(ps.ps_drop - w->drop_last);
	w->ifdrop_base += (unsigned)(ps.ps_ifdrop - w->ifdrop_last);
	w->drop_last = ps.ps_drop;
	w->ifdrop_last = ps.ps_ifdrop;
}

/*
 * Log a capture problem once (until it changes or capture works):
 * stopped says the handle was lost, rather than not opened.
 */
static void
capture_problem(struct watcher *w, int stopped, const char *why)
{
	char	msg[sizeof(w->err)];

	snprintf(msg, sizeof(msg), "%s", why);
	if (strcmp(msg, w->err) == 0)
		return;
	log_warnx("watcher %s: %s %s: %s; retrying every 2s", w->cfg->name,
	    stopped ? "capture stopped on" : "cannot capture on",
	    w->cfg->ifname, msg);
	snprintf(w->err, sizeof(w->err), "%s", msg);
}

static void
capture_close(struct watcher *w, const char *why)
{
	if (w->pcap != NULL) {
		read_stats(w);
		event_free(w->ev);
		w->ev = NULL;
		pcap_close(w->pcap);
		w->pcap = NULL;
	}
	w->drop_last = w->ifdrop_last = 0;
	w->up = 0;
	w->retry_ms = mono_ms() + RETRY_MS;
	if (why != NULL)
		capture_problem(w, 1, why);
	sync_metrics(w);
}

static void on_read(evutil_socket_t, short, void *);

static int
dlt_supported(int dlt)
{
	struct pkt_info	pi;
	uint8_t		b[1] = { 0 };

	return (pkt_parse(dlt, b, 0, 0, &pi) != PKT_LINK_UNSUPPORTED);
}

/* pcap_create ... pcap_activate, non-blocking, on the loop. */
static int
capture_open(struct watcher *w)
{
	const struct watcher_cfg	*c = w->cfg;
	char				 eb[PCAP_ERRBUF_SIZE];
	char				 why[sizeof(w->err)];
	struct bpf_program		 prog;
	pcap_t				*p;
	int				 r, fd;

	eb[0] = '\0';
	if ((p = pcap_create(c->ifname, eb)) == NULL) {
		capture_problem(w, 0, eb);
		return (-1);
	}
	(void)pcap_set_snaplen(p, (int)c->snaplen);
	(void)pcap_set_promisc(p, c->promiscuous);
	/* every packet as it comes: the loop, not a timeout, batches */
	(void)pcap_set_immediate_mode(p, 1);
	(void)pcap_set_buffer_size(p, (int)c->buffer_size);
	if ((r = pcap_activate(p)) < 0) {
		if (r == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(why, sizeof(why), "no such interface");
		else if (r == PCAP_ERROR_PERM_DENIED)
			snprintf(why, sizeof(why), "permission denied "
			    "(capturing needs CAP_NET_RAW)");
		else if (r == PCAP_ERROR && pcap_geterr(p)[0] != '\0')
			snprintf(why, sizeof(why), "%s", pcap_geterr(p));
		else
			snprintf(why, sizeof(why), "%s", pcap_statustostr(r));
		goto fail;
	}
	if (r > 0)
		log_warnx("watcher %s: %s: %s", c->name, c->ifname,
		    pcap_statustostr(r));
	w->dlt = pcap_datalink(p);
	if (!dlt_supported(w->dlt)) {
		snprintf(why, sizeof(why), "link type %s is not supported",
		    pcap_datalink_val_to_name(w->dlt) ?
		    pcap_datalink_val_to_name(w->dlt) : "?");
		goto fail;
	}
	if (c->filter != NULL) {
		if (pcap_compile(p, &prog, c->filter, 1,
		    PCAP_NETMASK_UNKNOWN) == -1) {
			snprintf(why, sizeof(why), "filter: %s",
			    pcap_geterr(p));
			goto fail;
		}
		r = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (r == -1) {
			snprintf(why, sizeof(why), "filter: %s",
			    pcap_geterr(p));
			goto fail;
		}
	}
	if (pcap_setnonblock(p, 1, eb) == -1) {
		snprintf(why, sizeof(why), "%s", eb);
		goto fail;
	}
	if ((fd = pcap_get_selectable_fd(p)) == -1) {
		snprintf(why, sizeof(why), "no selectable descriptor");
		goto fail;
	}
	w->ev = event_new(w->ws->d->base, fd, EV_READ | EV_PERSIST, on_read,
	    w);
	if (w->ev == NULL || event_add(w->ev, NULL) == -1) {
		if (w->ev != NULL)
			event_free(w->ev);
		w->ev = NULL;
		snprintf(why, sizeof(why), "cannot watch the descriptor");
		goto fail;
	}
	w->pcap = p;
	w->ifindex = strcmp(c->ifname, "any") == 0 ? 0 :
	    if_nametoindex(c->ifname);
	w->drop_last = w->ifdrop_last = 0;
	w->up = 1;
	log_info("watcher %s: capturing on %s (%s)%s", c->name, c->ifname,
	    pcap_datalink_val_to_name(w->dlt) ?
	    pcap_datalink_val_to_name(w->dlt) : "?",
	    w->err[0] != '\0' ? " again" : "");
	w->err[0] = '\0';
	sync_metrics(w);
	return (0);
fail:
	pcap_close(p);
	capture_problem(w, 0, why);
	w->up = 0;
	w->retry_ms = mono_ms() + RETRY_MS;
	return (-1);
}

static void
on_read(evutil_socket_t fd, short ev, void *arg)
{
	struct watcher	*w = arg;
	uint64_t	 before, after;
	size_t		 i;
	int		 n;

	(void)fd;
	(void)ev;
	before = 0;
	for (i = 0; i < WATCHER_KIND_MAX; i++)
		before += watcher_judge_counts(w->j)->new_flows[i];
	/* bounded, so one busy segment cannot starve the loop */
	n = pcap_dispatch(w->pcap, BATCH, on_packet, (u_char *)w);
	if (n < 0) {
		char	why[sizeof(w->err)];

		snprintf(why, sizeof(why), "%s", n == PCAP_ERROR ?
		    pcap_geterr(w->pcap) : pcap_statustostr(n));
		capture_close(w, why);
		return;
	}
	after = 0;
	for (i = 0; i < WATCHER_KIND_MAX; i++)
		after += watcher_judge_counts(w->j)->new_flows[i];
	if (after != before && mono_ms() - w->top_ms >= TOP_REFRESH_MS)
		top_refresh(w);
	sync_metrics(w);
}

static void
watcher_tick(struct watcher *w)
{
	const struct watcher_counts	*c = watcher_judge_counts(w->j);
	uint64_t			 seen = 0;
	unsigned			 idx;
	size_t				 i;

	if (w->pcap != NULL) {
		read_stats(w);
		/* deleted and made again: the old handle hears nothing */
		if (w->ifindex != 0 &&
		    (idx = if_nametoindex(w->cfg->ifname)) != w->ifindex)
			capture_close(w, idx == 0 ? "the interface is gone" :
			    "the interface was replaced");
	}
	if (w->pcap == NULL && mono_ms() >= w->retry_ms)
		(void)capture_open(w);
	if (w->cfg->conference != NULL)
		watcher_judge_expire(w->j, (int64_t)(now_wall_ns() / 1000000));
	for (i = 0; i < WATCHER_KIND_MAX; i++)
		seen += c->violations[i];
	if (seen != w->top_seen || w->ntop > c->flows)
		top_refresh(w);
	if (w->unlogged > 0) {
		log_warnx("watcher %s: %llu more new violation flows not "
		    "logged (see /status)", w->cfg->name,
		    (unsigned long long)w->unlogged);
		w->unlogged = 0;
	}
	sync_metrics(w);
}

static void
on_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct watchers	*ws = arg;
	size_t		 i;

	(void)fd;
	(void)ev;
	for (i = 0; i < ws->n; i++)
		watcher_tick(ws->v[i]);
}

static struct watcher *
watcher_new(struct watchers *ws, const struct watcher_cfg *cfg)
{
	struct watcher	*w = xcalloc(1, sizeof(*w));

	w->ws = ws;
	w->cfg = cfg;
	w->j = watcher_judge_new(cfg, live_new_flow, w);
	make_series(w);
	sync_metrics(w);
	(void)capture_open(w);
	return (w);
}

static void
watcher_free(struct watcher *w)
{
	if (w->pcap != NULL) {
		event_free(w->ev);
		pcap_close(w->pcap);
	}
	drop_series(w);
	watcher_judge_free(w->j);
	free(w);
}

/* The settings that need a new capture handle when they change. */
static int
same_capture(const struct watcher_cfg *a, const struct watcher_cfg *b)
{
	return (strcmp(a->ifname, b->ifname) == 0 &&
	    ((a->filter == NULL && b->filter == NULL) ||
	    (a->filter != NULL && b->filter != NULL &&
	    strcmp(a->filter, b->filter) == 0)) &&
	    a->buffer_size == b->buffer_size && a->snaplen == b->snaplen &&
	    a->promiscuous == b->promiscuous);
}

void
watchers_apply(struct np_daemon *d, const struct np_config *conf)
{
	struct watchers	*ws = d->watchers;
	struct watcher	**nv, *w;
	struct timeval	 tv = { TICK_MS / 1000, (TICK_MS % 1000) * 1000 };
	size_t		 i, k;

	if (ws == NULL) {
		if (conf->nwatchers == 0)
			return;
		ws = d->watchers = xcalloc(1, sizeof(*ws));
		ws->d = d;
		families(ws);
		ws->tick = event_new(d->base, -1, EV_PERSIST, on_tick, ws);
		if (ws->tick == NULL || event_add(ws->tick, &tv) == -1)
			fatalx("watchers: cannot start the timer");
	}
	nv = xcalloc(conf->nwatchers + 1, sizeof(*nv));
	/* unchanged name and capture: keep handle, counters and table */
	for (i = 0; i < conf->nwatchers; i++)
		for (k = 0; k < ws->n; k++) {
			w = ws->v[k];
			if (w == NULL || strcmp(w->cfg->name,
			    conf->watchers[i]->name) != 0)
				continue;
			if (same_capture(w->cfg, conf->watchers[i])) {
				w->cfg = conf->watchers[i];
				watcher_judge_set_cfg(w->j, w->cfg);
				conf_series(w);
				top_refresh(w);
				nv[i] = w;
				ws->v[k] = NULL;
			}
			break;
		}
	/* the old go first: a renewed watcher takes over their labels */
	for (k = 0; k < ws->n; k++)
		if (ws->v[k] != NULL) {
			log_info("watcher %s: stopped", ws->v[k]->cfg->name);
			watcher_free(ws->v[k]);
		}
	for (i = 0; i < conf->nwatchers; i++)
		if (nv[i] == NULL)
			nv[i] = watcher_new(ws, conf->watchers[i]);
	free(ws->v);
	ws->v = nv;
	ws->n = conf->nwatchers;
}

void
watchers_free(struct np_daemon *d)
{
	struct watchers	*ws = d->watchers;
	size_t		 i;

	if (ws == NULL)
		return;
	for (i = 0; i < ws->n; i++)
		watcher_free(ws->v[i]);
	free(ws->v);
	if (ws->tick != NULL)
		event_free(ws->tick);
	free(ws);
	d->watchers = NULL;
}

struct status_ctx {
	struct evbuffer	*b;
	int		 first;
};

static void
status_flow(void *arg, const struct watcher_flow *f)
{
	struct status_ctx	*sc = arg;
	char			 src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN],
				 proto[16];

	watcher_flow_addrs(f, src, dst, sizeof(src));
	watcher_proto_name(f->proto, proto, sizeof(proto));
	evbuffer_add_printf(sc->b, "%s{\"kind\":", sc->first ? "" : ",");
	sc->first = 0;
	json_str(sc->b, kind_names[f->kind]);
	evbuffer_add_printf(sc->b, ",\"src\":");
	json_str(sc->b, src);
	evbuffer_add_printf(sc->b, ",\"dst\":");
	json_str(sc->b, dst);
	evbuffer_add_printf(sc->b, ",\"proto\":");
	json_str(sc->b, proto);
	evbuffer_add_printf(sc->b, ",\"port\":%u,\"first_seen\":", f->port);
	json_time(sc->b, f->first_ms);
	evbuffer_add_printf(sc->b, ",\"last_seen\":");
	json_time(sc->b, f->last_ms);
	evbuffer_add_printf(sc->b, ",\"packets\":%llu}",
	    (unsigned long long)f->packets);
}

void
watchers_status(struct np_daemon *d, struct evbuffer *b)
{
	struct watchers			*ws = d->watchers;
	const struct watcher_counts	*c;
	struct watcher			*w;
	struct status_ctx		 sc;
	uint64_t			 mal;
	size_t				 i, k;

	evbuffer_add_printf(b, "\"watchers\":[");
	for (i = 0; ws != NULL && i < ws->n; i++) {
		w = ws->v[i];
		c = watcher_judge_counts(w->j);
		read_stats(w);
		for (k = 1, mal = 0; k < PKT_REASON_MAX; k++)
			mal += c->malformed[k];
		evbuffer_add_printf(b, "%s{\"name\":", i ? "," : "");
		json_str(b, w->cfg->name);
		evbuffer_add_printf(b, ",\"interface\":");
		json_str(b, w->cfg->ifname);
		evbuffer_add_printf(b, ",\"up\":%s,\"error\":",
		    w->up ? "true" : "false");
		if (w->err[0] != '\0')
			json_str(b, w->err);
		else
			evbuffer_add(b, "null", 4);
		evbuffer_add_printf(b, ",\"packets\":%llu,"
		    "\"kernel_dropped\":%llu,\"interface_dropped\":%llu,"
		    "\"malformed\":%llu,\"violations\":{",
		    (unsigned long long)c->packets,
		    (unsigned long long)w->drop_base,
		    (unsigned long long)w->ifdrop_base,
		    (unsigned long long)mal);
		for (k = 0; k < WATCHER_KIND_MAX; k++)
			evbuffer_add_printf(b, "%s\"%s\":%llu", k ? "," : "",
			    kind_names[k],
			    (unsigned long long)c->violations[k]);
		evbuffer_add_printf(b, "},\"flows_in_table\":%zu,"
		    "\"evictions\":%llu", c->flows,
		    (unsigned long long)c->evictions);
		if (w->cfg->conference != NULL)
			evbuffer_add_printf(b, ",\"calls\":%zu,"
			    "\"listen_only_calls\":%zu", c->calls,
			    c->listen_only);
		evbuffer_add_printf(b, ",\"flows\":[");
		sc.b = b;
		sc.first = 1;
		watcher_judge_flows(w->j, STATUS_FLOWS, status_flow, &sc);
		evbuffer_add_printf(b, "]}");
	}
	evbuffer_add_printf(b, "]");
}

void
watchers_foreach(struct np_daemon *d, watcher_view_fn fn, void *arg)
{
	struct watchers		*ws = d->watchers;
	struct watcher_view	 v;
	size_t			 i;

	for (i = 0; ws != NULL && i < ws->n; i++) {
		v.cfg = ws->v[i]->cfg;
		v.up = ws->v[i]->up;
		v.err = ws->v[i]->err;
		v.counts = watcher_judge_counts(ws->v[i]->j);
		v.judge = ws->v[i]->j;
		fn(arg, &v);
	}
}

/* ---- --replay ------------------------------------------------------- */

struct replayer {
	const struct watcher_cfg	*cfg;
	struct watcher_judge		*j;
	struct bpf_program		 prog;
	int				 has_prog;
	FILE				*out;
};

static void
replay_new_flow(void *arg, const struct watcher_flow *f)
{
	struct replayer	*r = arg;
	char		 when[40], text[256];

	watcher_time_text(f->first_ms, when, sizeof(when));
	watcher_flow_text(f, text, sizeof(text));
	fprintf(r->out, "%s %s %s %s\n", when, r->cfg->name,
	    kind_names[f->kind], text);
}

int
watchers_replay(const struct np_config *conf, const char *path, FILE *out,
    FILE *err)
{
	struct replayer		*rv;
	struct pcap_pkthdr	*h;
	const u_char		*data;
	char			 eb[PCAP_ERRBUF_SIZE];
	pcap_t			*p;
	uint64_t		 viol, flows, mal, any = 0;
	size_t			 i, k, n;
	int			 r = 0, dlt, rc = 0;

	if (conf->nwatchers == 0) {
		fprintf(err, "--replay: %s has no watchers\n", conf->path);
		return (2);
	}
	if ((p = pcap_open_offline(path, eb)) == NULL) {
		/* libpcap may name the file itself */
		n = strlen(path);
		if (strncmp(eb, path, n) == 0 && eb[n] == ':' &&
		    eb[n + 1] == ' ')
			n += 2;
		else
			n = 0;
		fprintf(err, "--replay: %s: %s\n", path, eb + n);
		return (2);
	}
	dlt = pcap_datalink(p);
	rv = xcalloc(conf->nwatchers, sizeof(*rv));
	for (i = 0; i < conf->nwatchers; i++) {
		rv[i].cfg = conf->watchers[i];
		rv[i].out = out;
		rv[i].j = watcher_judge_new(rv[i].cfg, replay_new_flow,
		    &rv[i]);
		if (rv[i].cfg->filter == NULL)
			continue;
		/* the watcher's own filter, compiled for the file's link */
		if (pcap_compile(p, &rv[i].prog, rv[i].cfg->filter, 1,
		    PCAP_NETMASK_UNKNOWN) == -1) {
			fprintf(err, "--replay: watcher %s: filter \"%s\": "
			    "%s\n", rv[i].cfg->name, rv[i].cfg->filter,
			    pcap_geterr(p));
			rc = 2;
			break;
		}
		rv[i].has_prog = 1;
	}
	while (rc == 0 && (r = pcap_next_ex(p, &h, &data)) == 1) {
		int64_t	ts = (int64_t)h->ts.tv_sec * 1000 +
			    h->ts.tv_usec / 1000;

		for (i = 0; i < conf->nwatchers; i++) {
			if (rv[i].has_prog &&
			    pcap_offline_filter(&rv[i].prog, h, data) == 0)
				continue;
			watcher_judge_packet(rv[i].j, dlt, ts, data,
			    h->caplen, h->len);
		}
	}
	if (rc == 0 && r == PCAP_ERROR) {
		/* a cut file: what was read is reported, then the error */
		rc = 2;
		snprintf(eb, sizeof(eb), "%s", pcap_geterr(p));
	} else
		eb[0] = '\0';
	for (i = 0; i < conf->nwatchers; i++) {
		const struct watcher_counts	*c;

		if (rv[i].j == NULL)
			continue;
		c = watcher_judge_counts(rv[i].j);
		viol = flows = mal = 0;
		for (k = 0; k < WATCHER_KIND_MAX; k++) {
			viol += c->violations[k];
			flows += c->new_flows[k];
		}
		for (k = 1; k < PKT_REASON_MAX; k++)
			mal += c->malformed[k];
		any += viol;
		if (rc != 2 || eb[0] != '\0')
			fprintf(out, "%s: %llu packets, %llu violations in "
			    "%llu flows, %llu malformed\n", rv[i].cfg->name,
			    (unsigned long long)c->packets,
			    (unsigned long long)viol,
			    (unsigned long long)flows,
			    (unsigned long long)mal);
		if (rv[i].has_prog)
			pcap_freecode(&rv[i].prog);
		watcher_judge_free(rv[i].j);
	}
	if (eb[0] != '\0')
		fprintf(err, "--replay: %s: %s\n", path, eb);
	free(rv);
	pcap_close(p);
	if (rc == 0 && any > 0)
		rc = 1;
	return (rc);
}
