/*
 * dns: one query to one DNS server, over UDP (falling back to TCP when
 * the answer is truncated) or TCP, judged on its rcode, AA flag, answer
 * count and answer records matched against regexes.
 *
 * Spoofing and stale answers: every run uses a fresh socket (so a fresh
 * kernel-randomised source port) connect()ed to the server, and a
 * random 16-bit id.  A UDP reply counts only if it comes from the
 * server's address and port, carries our id, is a response to a QUERY,
 * and echoes our question (name compared without regard to case, RFC
 * 4343).  Anything else is ignored and the run keeps waiting; if no
 * valid reply comes before the deadline, the run is a bad_response
 * that says what was ignored.  On TCP (our own connection) a reply
 * that does not match is a bad_response at once.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/msg_dns.h"
#include "probes/probe.h"

struct dns_opts {
	char		*query_name;
	int		 query_type;		/* index in qtype_names */
	int		 transport;		/* 0 udp, 1 tcp */
	int		 recursion_desired;
	char		**valid_rcodes;		/* NULL: NOERROR */
	uint64_t	 answer_count_min;
	uint64_t	 answer_count_max;
	struct np_regexlist answer_regex;	/* each must match an RR */
	struct np_regexlist answer_regex_not;	/* none may match any RR */
	int		 authoritative;		/* require AA */
	uint64_t	 edns_udp_size;		/* 0: no EDNS */
	uint64_t	 port;
};

static const char *const qtype_names[] = {
	"A", "AAAA", "CNAME", "MX", "TXT", "SOA", "PTR", "NS", "SRV", NULL
};
static const uint16_t qtype_values[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_CNAME, DNS_T_MX, DNS_T_TXT, DNS_T_SOA,
	DNS_T_PTR, DNS_T_NS, DNS_T_SRV,
};
static const char *const transport_names[] = { "udp", "tcp", NULL };

#define DNS_LOG_RRS	40	/* records shown in a debug log */
#define DNS_MAX_REGEX	16	/* per list, as the option table says */

struct dns_run {
	struct probe_run	*run;
	int			 fd;
	struct event		*ev;
	int			 tcp;		/* the transport now in use */
	int			 truncated;	/* UDP said TC: went to TCP */
	int			 connected;	/* TCP connection up */
	int			 tcp_sending;	/* the TCP query is going out */
	uint16_t		 id;
	struct dns_question	 q;
	uint8_t			 query[DNS_QUERY_MAX + 2];
	size_t			 qlen, sent;
	struct dns_tcp_in	 in;
	uint64_t		 t_send, t_connect;
	double			 connect_s, request_s;
	/* replies that did not count */
	unsigned		 ignored;
	char			 ignored_why[72];
	/* what the answer is judged on */
	uint32_t		 rcode_ok;	/* bit per valid rcode */
	uint8_t			 re_hit[DNS_MAX_REGEX];
	char			 not_hit[64];	/* an RR answer_regex_not hit */
	size_t			 not_idx;
	char			 first[48];	/* "A 192.0.2.10" */
	unsigned		 nrr;
	/* the outcome, for record() */
	int			 answered;
	struct dns_msg		 msg;
};

static void	dns_udp_read(evutil_socket_t, short, void *);
static void	dns_tcp_connected(evutil_socket_t, short, void *);
static void	dns_tcp_write(evutil_socket_t, short, void *);
static void	dns_tcp_read(evutil_socket_t, short, void *);

static const struct opt_def dns_opt_defs[] = {
	OPT("query_name", OPT_STRING, struct dns_opts, query_name, 0, 255),
	OPT_CHOICE("query_type", struct dns_opts, query_type, qtype_names),
	OPT_CHOICE("transport", struct dns_opts, transport, transport_names),
	OPT("recursion_desired", OPT_BOOL, struct dns_opts,
	    recursion_desired, 0, 1),
	OPT("valid_rcodes", OPT_STRLIST, struct dns_opts, valid_rcodes, 1,
	    16),
	OPT("answer_count_min", OPT_UINT, struct dns_opts, answer_count_min,
	    0, 65535),
	OPT("answer_count_max", OPT_UINT, struct dns_opts, answer_count_max,
	    0, 65535),
	OPT("answer_regex", OPT_REGEXLIST, struct dns_opts, answer_regex, 1,
	    DNS_MAX_REGEX),
	OPT("answer_regex_not", OPT_REGEXLIST, struct dns_opts,
	    answer_regex_not, 1, DNS_MAX_REGEX),
	OPT("authoritative", OPT_BOOL, struct dns_opts, authoritative, 0, 1),
	OPT("edns_udp_size", OPT_UINT, struct dns_opts, edns_udp_size, 0,
	    65535),
	OPT("port", OPT_UINT, struct dns_opts, port, 1, 65535),
};

static void
dns_opts_default(void *p)
{
	struct dns_opts	*o = p;

	o->query_type = 0;		/* A */
	o->transport = 0;		/* udp */
	o->recursion_desired = 1;
	o->answer_count_max = 65535;
	/* the DNS flag day 2020 size: fits any path without IP
	 * fragmentation */
	o->edns_udp_size = 1232;
	o->port = 53;
}

static int
dns_default_port(const void *p)
{
	const struct dns_opts	*o = p;

	return (o->port ? (int)o->port : 53);
}

static int
count(char *const *l)
{
	int	n = 0;

	while (l != NULL && l[n] != NULL)
		n++;
	return (n);
}

/*
 * The question to ask: query_name in wire form; for PTR an IP literal
 * becomes its in-addr.arpa / ip6.arpa name.  NULL or why not.
 */
static const char *
dns_question_make(const struct dns_opts *o, struct dns_question *q)
{
	char		 rev[96];
	const char	*name = o->query_name, *why;

	q->type = qtype_values[o->query_type];
	q->qclass = DNS_C_IN;
	if (q->type == DNS_T_PTR &&
	    dns_reverse_name(name, rev, sizeof(rev)) == 0)
		name = rev;
	if (dns_name_from_text(name, q->name, &q->namelen, &why) == -1)
		return (why);
	return (NULL);
}

static const char *
dns_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct dns_opts	*o = cfg->opts;
	struct dns_question	 q;
	const char		*why;
	int			 i;

	if (o->query_name == NULL) {
		*key = "query_name";
		return ("'query_name' is required: the name to look up");
	}
	if ((why = dns_question_make(o, &q)) != NULL) {
		*key = "query_name";
		snprintf(buf, len, "'query_name' \"%s\" is not a valid domain "
		    "name: %s", o->query_name, why);
		return (buf);
	}
	for (i = 0; i < count(o->valid_rcodes); i++)
		if (dns_rcode_from_name(o->valid_rcodes[i]) == -1) {
			*key = "valid_rcodes";
			snprintf(buf, len, "'valid_rcodes': unknown rcode "
			    "\"%s\" (known: NOERROR, FORMERR, SERVFAIL, "
			    "NXDOMAIN, NOTIMP, REFUSED, YXDOMAIN, YXRRSET, "
			    "NXRRSET, NOTAUTH, NOTZONE, BADVERS)",
			    o->valid_rcodes[i]);
			return (buf);
		}
	if (o->answer_count_min > o->answer_count_max) {
		*key = "answer_count_min";
		snprintf(buf, len, "'answer_count_min' (%llu) is larger than "
		    "'answer_count_max' (%llu)",
		    (unsigned long long)o->answer_count_min,
		    (unsigned long long)o->answer_count_max);
		return (buf);
	}
	if (o->edns_udp_size > 0 && o->edns_udp_size < 512) {
		*key = "edns_udp_size";
		snprintf(buf, len, "'edns_udp_size' must be 0 (no EDNS) or "
		    "512 to 65535, got %llu",
		    (unsigned long long)o->edns_udp_size);
		return (buf);
	}
	return (NULL);
}

/* ---- the run ------------------------------------------------------- */

static double
since(uint64_t t)
{
	return ((double)(now_mono_ns() - t) / 1e9);
}

static void
dns_set_event(struct dns_run *r, short what, event_callback_fn cb)
{
	if (r->ev != NULL)
		event_free(r->ev);
	r->ev = event_new(r->run->base, r->fd, what, cb, r);
	if (r->ev == NULL || event_add(r->ev, NULL) == -1)
		fatalx("dns: cannot add event");
}

static void
dns_close(struct dns_run *r)
{
	if (r->ev != NULL) {
		event_free(r->ev);
		r->ev = NULL;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static void
dns_end(struct dns_run *r, enum probe_result res, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dns_end(struct dns_run *r, enum probe_result res, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(r->run->obs.detail, sizeof(r->run->obs.detail), fmt, ap);
	va_end(ap);
	probe_done(r->run, res);
}

/* A socket call failed with err: classify it and end the run. */
static void
dns_end_errno(struct dns_run *r, const char *what, int err)
{
	enum probe_result	res = probe_errno_result(err);

	if (err == ECONNREFUSED && !r->tcp)
		dns_end(r, res, "udp: port unreachable (ICMP)");
	else
		dns_end(r, res, "%s%s: %s", r->tcp ? "tcp " : "udp ", what,
		    strerror(err));
}

static unsigned
local_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return (0);
	if (ss.ss_family == AF_INET)
		return (ntohs(((struct sockaddr_in *)&ss)->sin_port));
	if (ss.ss_family == AF_INET6)
		return (ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	return (0);
}

/* Copy as much of src as fits, NUL-terminated. */
static void
cut_copy(char *dst, size_t len, const char *src)
{
	size_t	n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
dns_ignore(struct dns_run *r, const char *why)
{
	r->ignored++;
	cut_copy(r->ignored_why, sizeof(r->ignored_why), why);
	probe_log(r->run, "ignored a reply: %s", why);
}

/* Each RR of a decoded answer: log it, match the regexes. */
static void
dns_on_rr(void *arg, const struct dns_rr *rr)
{
	static const char *const sec[] = { "answer", "authority",
				    "additional" };
	struct dns_run		*r = arg;
	const struct dns_opts	*o = r->run->cfg->opts;
	char			 tb[16];
	size_t			 i;

	if (r->nrr < DNS_LOG_RRS)
		probe_log(r->run, "  %s: %s%s", sec[rr->section], rr->text,
		    rr->cut ? " (cut)" : "");
	else if (r->nrr == DNS_LOG_RRS)
		probe_log(r->run, "  (more records not shown)");
	r->nrr++;
	if (rr->section != DNS_S_ANSWER)
		return;
	if (r->first[0] == '\0')
		snprintf(r->first, sizeof(r->first), "%s %s",
		    dns_type_name(rr->type, tb, sizeof(tb)),
		    rr->text + rr->rdata_at);
	for (i = 0; i < o->answer_regex.n; i++)
		if (!r->re_hit[i] && np_regex_match(&o->answer_regex.v[i],
		    rr->text))
			r->re_hit[i] = 1;
	for (i = 0; i < o->answer_regex_not.n && r->not_hit[0] == '\0'; i++)
		if (np_regex_match(&o->answer_regex_not.v[i], rr->text)) {
			cut_copy(r->not_hit, sizeof(r->not_hit), rr->text);
			r->not_idx = i;
		}
}

static const char *
plural(unsigned n)
{
	return (n == 1 ? "" : "s");
}

/* A reply that matched our query: decode it all and judge it. */
static void
dns_answer(struct dns_run *r, const uint8_t *buf, size_t len)
{
	const struct dns_opts	*o = r->run->cfg->opts;
	struct dns_msg		*m = &r->msg;
	char			 why[128], rb[16];
	const char		*rc;
	size_t			 i, hits;

	if (dns_parse(buf, len, m, dns_on_rr, r, why, sizeof(why)) == -1) {
		probe_log(r->run, "malformed reply: %s", why);
		dns_end(r, PR_BAD_RESPONSE, "malformed reply: %s", why);
		return;
	}
	r->answered = 1;
	r->run->obs.received++;
	r->run->obs.rtt[0] = r->request_s;
	r->run->obs.nrtt = 1;
	if (m->trailing > 0)
		probe_log(r->run, "%zu bytes after the last record ignored",
		    m->trailing);
	rc = dns_rcode_name(m->rcode, rb, sizeof(rb));
	for (i = 0, hits = 0; i < o->answer_regex.n; i++)
		hits += r->re_hit[i];
	probe_log(r->run, "checks: rcode %s %s valid_rcodes; AA %s%s; %u "
	    "answers, %llu to %llu wanted; answer_regex %zu of %zu matched; "
	    "answer_regex_not %s", rc, m->rcode < 32 && (r->rcode_ok &
	    (1U << m->rcode)) ? "in" : "NOT in", m->aa ? "set" : "clear",
	    o->authoritative ? " (required)" : "", m->ancount,
	    (unsigned long long)o->answer_count_min,
	    (unsigned long long)o->answer_count_max, hits, o->answer_regex.n,
	    o->answer_regex_not.n == 0 ? "not set" : r->not_hit[0] ? "MATCHED" :
	    "not matched");

	/* the checks, in the order an operator wants to hear about them */
	if (m->rcode >= 32 || !(r->rcode_ok & (1U << m->rcode))) {
		dns_end(r, PR_BAD_RESPONSE, "rcode %s is not in valid_rcodes"
		    " (%u answer%s)", rc, m->ancount, plural(m->ancount));
		return;
	}
	if (o->authoritative && !m->aa) {
		dns_end(r, PR_BAD_RESPONSE, "%s but not authoritative (AA "
		    "clear)", rc);
		return;
	}
	if (m->ancount < o->answer_count_min) {
		dns_end(r, PR_BAD_RESPONSE, "%s with %u answer%s, fewer than "
		    "answer_count_min %llu", rc, m->ancount,
		    plural(m->ancount),
		    (unsigned long long)o->answer_count_min);
		return;
	}
	if (m->ancount > o->answer_count_max) {
		dns_end(r, PR_BAD_RESPONSE, "%s with %u answer%s, more than "
		    "answer_count_max %llu", rc, m->ancount,
		    plural(m->ancount),
		    (unsigned long long)o->answer_count_max);
		return;
	}
	for (i = 0; i < o->answer_regex.n; i++)
		if (!r->re_hit[i]) {
			dns_end(r, PR_BAD_RESPONSE, "no answer matches "
			    "answer_regex \"%s\"", o->answer_regex.v[i].src);
			return;
		}
	if (r->not_hit[0] != '\0') {
		dns_end(r, PR_BAD_RESPONSE, "answer_regex_not \"%s\" matches "
		    "%s", o->answer_regex_not.v[r->not_idx].src, r->not_hit);
		return;
	}
	dns_end(r, PR_SUCCESS, "%s%s, %u answer%s%s%s%s", rc,
	    m->aa ? " aa" : "", m->ancount, plural(m->ancount),
	    r->truncated ? " via tcp (udp truncated)" : "",
	    r->first[0] ? ": " : "", r->first);
}

static void
dns_log_reply(struct dns_run *r, const struct dns_msg *m, size_t len)
{
	char	rb[16];

	probe_log(r->run, "reply over %s, %zu bytes after %.3fms: id 0x%04x, "
	    "question echoed, %s%s%s%s%s%s, %u answer%s, %u authority, %u "
	    "additional", r->tcp ? "tcp" : "udp", len, since(r->t_send) * 1e3,
	    m->id, dns_rcode_name(m->rcode, rb, sizeof(rb)),
	    m->aa ? " aa" : "", m->tc ? " tc" : "", m->rd ? " rd" : "",
	    m->ra ? " ra" : "", m->ad ? " ad" : "", m->ancount,
	    plural(m->ancount), m->nscount, m->arcount);
}

static void	dns_tcp_begin(struct dns_run *);

/*
 * One datagram from the connected UDP socket.  Returns 0 if it was
 * ignored; else 1: the run ended or moved to TCP, and r may be gone.
 */
static int
dns_udp_got(struct dns_run *r, const uint8_t *buf, size_t len)
{
	struct dns_msg	m;
	char		why[128];

	if (dns_parse_head(buf, len, &m, why, sizeof(why)) == -1 ||
	    dns_reply_matches(&m, r->id, &r->q, why, sizeof(why)) == -1) {
		dns_ignore(r, why);
		return (0);
	}
	r->request_s += since(r->t_send);
	dns_log_reply(r, &m, len);
	if (m.tc) {
		/* RFC 7766 section 5: retry the query over TCP */
		probe_log(r->run, "truncated (TC): retrying over tcp");
		r->truncated = 1;
		dns_close(r);
		dns_tcp_begin(r);
		return (1);
	}
	dns_answer(r, buf, len);
	return (1);
}

static void
dns_udp_read(evutil_socket_t fd, short ev, void *arg)
{
	static uint8_t		 buf[65536];
	struct dns_run		*r = arg;
	struct sockaddr_storage	 from;
	socklen_t		 flen;
	ssize_t			 n;
	int			 budget;

	/* bounded, so a flood of junk cannot starve the loop */
	for (budget = 0; budget < 32; budget++) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			/* an ICMP error for our datagram, RFC 1122
			 * section 4.1.3.3: connected sockets see it */
			probe_log(r->run, "udp receive: %s", strerror(errno));
			dns_end_errno(r, "receive", errno);
			return;
		}
		/* connect() already filters; this keeps it explicit */
		if (!addr_match(r->run->addr, &from, 1)) {
			dns_ignore(r, "from another address or port");
			continue;
		}
		if (dns_udp_got(r, buf, (size_t)n))
			return;
	}
}

static void
dns_log_query(struct dns_run *r)
{
	const struct dns_opts	*o = r->run->cfg->opts;
	char			 name[DNS_NAME_TEXT], edns[40];

	dns_name_to_text(r->q.name, r->q.namelen, name, sizeof(name));
	if (o->edns_udp_size >= 512)
		snprintf(edns, sizeof(edns), ", EDNS0 udp %llu",
		    (unsigned long long)o->edns_udp_size);
	else
		edns[0] = '\0';
	probe_log(r->run, "query id 0x%04x: %s IN %s%s%s, %zu bytes over %s "
	    "to %s from port %u", r->id, name, qtype_names[o->query_type],
	    o->recursion_desired ? ", RD" : "", edns, r->qlen - (r->tcp ? 2 :
	    0), r->tcp ? "tcp" : "udp", r->run->cfg->targets[r->run->target],
	    local_port(r->fd));
}

static void
dns_udp_begin(struct dns_run *r)
{
	const struct np_addr	*a = r->run->addr;
	char			 why[sizeof(r->run->obs.detail)];

	if ((r->fd = probe_socket(r->run, a->ss.ss_family, SOCK_DGRAM, 0)) ==
	    -1) {
		memcpy(why, r->run->obs.detail, sizeof(why));
		dns_end(r, PR_ERROR, "udp %s", why);
		return;
	}
	/* connect: the kernel picks a random source port and passes us
	 * only datagrams from the server, and ICMP errors as errno */
	if (connect(r->fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		dns_end_errno(r, "connect", errno);
		return;
	}
	dns_log_query(r);
	r->t_send = now_mono_ns();
	r->run->obs.sent++;
	if (send(r->fd, r->query, r->qlen, 0) == -1) {
		dns_end_errno(r, "send", errno);
		return;
	}
	dns_set_event(r, EV_READ | EV_PERSIST, dns_udp_read);
}

static void
dns_tcp_send(struct dns_run *r)
{
	ssize_t	n;

	if (!r->tcp_sending) {
		r->tcp_sending = 1;
		dns_log_query(r);
		r->t_send = now_mono_ns();
		r->run->obs.sent++;
	}
	n = send(r->fd, r->query + r->sent, r->qlen - r->sent, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			dns_set_event(r, EV_WRITE, dns_tcp_write);
			return;
		}
		dns_end_errno(r, "send", errno);
		return;
	}
	r->sent += (size_t)n;
	if (r->sent < r->qlen)
		dns_set_event(r, EV_WRITE, dns_tcp_write);
	else
		dns_set_event(r, EV_READ | EV_PERSIST, dns_tcp_read);
}

static void
dns_tcp_write(evutil_socket_t fd, short ev, void *arg)
{
	dns_tcp_send(arg);
}

static void
dns_tcp_connected(evutil_socket_t fd, short ev, void *arg)
{
	struct dns_run	*r = arg;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		probe_log(r->run, "tcp connect: %s", strerror(err));
		dns_end_errno(r, "connect", err);
		return;
	}
	r->connected = 1;
	r->run->obs.connected = 1;
	r->connect_s = since(r->t_connect);
	probe_log(r->run, "tcp connected in %.3fms", r->connect_s * 1e3);
	dns_tcp_send(r);
}

static void
dns_tcp_got(struct dns_run *r)
{
	struct dns_msg	m;
	char		why[128];

	r->request_s += since(r->t_send);
	if (dns_parse_head(r->in.msg, r->in.want, &m, why, sizeof(why)) ==
	    -1 || dns_reply_matches(&m, r->id, &r->q, why, sizeof(why)) ==
	    -1) {
		/* our own connection: nobody else can have sent this */
		probe_log(r->run, "tcp reply does not answer our query: %s",
		    why);
		dns_end(r, PR_BAD_RESPONSE, "tcp reply does not answer our "
		    "query: %s", why);
		return;
	}
	dns_log_reply(r, &m, r->in.want);
	dns_answer(r, r->in.msg, r->in.want);
}

static void
dns_tcp_read(evutil_socket_t fd, short ev, void *arg)
{
	struct dns_run	*r = arg;
	uint8_t		 chunk[4096];
	const char	*why;
	ssize_t		 n;
	size_t		 off;
	long		 k;
	int		 budget;

	for (budget = 0; budget < 32; budget++) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			dns_end_errno(r, "receive", errno);
			return;
		}
		if (n == 0) {
			if (r->in.nprefix + r->in.have == 0)
				dns_end(r, PR_BAD_RESPONSE, "tcp: the server "
				    "closed the connection without an answer");
			else
				dns_end(r, PR_BAD_RESPONSE, "tcp: connection "
				    "closed after %zu of %zu bytes",
				    r->in.have, r->in.want);
			return;
		}
		for (off = 0; off < (size_t)n && !r->in.done; off += (size_t)k)
			if ((k = dns_tcp_in_take(&r->in, chunk + off,
			    (size_t)n - off, &why)) == -1) {
				dns_end(r, PR_BAD_RESPONSE, "tcp: %s", why);
				return;
			}
		if (r->in.done) {
			dns_tcp_got(r);
			return;
		}
	}
}

static void
dns_tcp_begin(struct dns_run *r)
{
	const struct np_addr	*a = r->run->addr;
	const struct dns_opts	*o = r->run->cfg->opts;
	uint8_t			 q[DNS_QUERY_MAX];
	char			 why[sizeof(r->run->obs.detail)];
	size_t			 n;

	r->tcp = 1;
	r->sent = 0;
	n = dns_query_build(q, sizeof(q), r->id, &r->q, o->recursion_desired,
	    (uint16_t)o->edns_udp_size);
	r->qlen = dns_tcp_frame(r->query, sizeof(r->query), q, n);
	if ((r->fd = probe_socket(r->run, a->ss.ss_family, SOCK_STREAM, 0)) ==
	    -1) {
		memcpy(why, r->run->obs.detail, sizeof(why));
		dns_end(r, PR_ERROR, "tcp %s", why);
		return;
	}
	probe_log(r->run, "tcp connect to %s",
	    r->run->cfg->targets[r->run->target]);
	r->t_connect = now_mono_ns();
	if (connect(r->fd, (const struct sockaddr *)&a->ss, a->len) == 0) {
		r->connected = 1;
		dns_tcp_send(r);
		return;
	}
	if (errno != EINPROGRESS) {
		dns_end_errno(r, "connect", errno);
		return;
	}
	dns_set_event(r, EV_WRITE, dns_tcp_connected);
}

/* Per-run copies of what the answer is judged on. */
static void
dns_setup_checks(struct dns_run *r, const struct dns_opts *o)
{
	int	i, rc;

	if (o->valid_rcodes == NULL)
		r->rcode_ok = 1U << DNS_R_NOERROR;
	for (i = 0; i < count(o->valid_rcodes); i++)
		if ((rc = dns_rcode_from_name(o->valid_rcodes[i])) >= 0 &&
		    rc < 32)
			r->rcode_ok |= 1U << rc;
}

static void
dns_start(struct probe_run *run)
{
	struct dns_run		*r = run->state;
	const struct dns_opts	*o = run->cfg->opts;
	const char		*why;

	r->run = run;
	r->fd = -1;
	/* RFC 5452 section 4.3: an unpredictable id per query */
	r->id = (uint16_t)arc4random_uniform(65536);
	dns_setup_checks(r, o);
	if ((why = dns_question_make(o, &r->q)) != NULL) {
		dns_end(r, PR_ERROR, "query_name: %s", why);
		return;
	}
	if (o->transport == 1) {
		dns_tcp_begin(r);
		return;
	}
	r->qlen = dns_query_build(r->query, sizeof(r->query), r->id, &r->q,
	    o->recursion_desired, (uint16_t)o->edns_udp_size);
	dns_udp_begin(r);
}

static void
dns_finish(struct probe_run *run, int timed_out)
{
	struct dns_run	*r = run->state;

	dns_close(r);
	dns_tcp_in_free(&r->in);
	if (!timed_out)
		return;
	if (r->tcp && !r->connected)
		snprintf(run->obs.detail, sizeof(run->obs.detail), "tcp "
		    "connect: no answer within %llums",
		    (unsigned long long)run->cfg->timeout_ms);
	else if (r->tcp)
		snprintf(run->obs.detail, sizeof(run->obs.detail), "tcp: "
		    "no answer within %llums%s",
		    (unsigned long long)run->cfg->timeout_ms,
		    r->truncated ? " (after udp truncation)" : "");
	else if (r->ignored > 0) {
		/* something answered, but never with a valid reply */
		run->obs.result = PR_BAD_RESPONSE;
		snprintf(run->obs.detail, sizeof(run->obs.detail), "no valid "
		    "reply; %u ignored (%.56s)", r->ignored, r->ignored_why);
	}
	probe_log(run, "deadline: %s", run->obs.detail[0] ? run->obs.detail :
	    "no answer");
}

/* ---- series -------------------------------------------------------- */

enum {
	X_CONNECT, X_REQUEST, X_ANSWER, X_AUTHORITY, X_ADDITIONAL,
	X_SUCCEEDED, X_SERIAL, X_RCODE, X_TRUNCATED,
	X_RESP,		/* X_RESP + slot: responses by rcode */
};
/* rcodes with their own responses_total series; the rest: "other" */
#define RESP_SLOTS	7
#define X_NUM		(X_RESP + RESP_SLOTS)

static const char *const resp_labels[RESP_SLOTS] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"other",
};

static struct family *
dns_fam(struct store *st, const char *name, const char *help,
    enum metric_type type)
{
	return (store_family(st, name, help, type, NULL, 0));
}

static void
dns_attach(struct target_state *ts)
{
	struct store	*st = ts->store;
	struct family	*dur;

	dur = dns_fam(st, "probe_dns_duration_seconds", "Duration of the "
	    "last DNS exchange by phase: connect (TCP setup, 0 on UDP) and "
	    "request (query to complete answer), in seconds.", METRIC_GAUGE);
	ts->extra[X_CONNECT] = target_series(ts, dur, "phase", "connect",
	    NULL);
	ts->extra[X_REQUEST] = target_series(ts, dur, "phase", "request",
	    NULL);
	ts->extra[X_ANSWER] = target_series(ts, dns_fam(st,
	    "probe_dns_answer_rrs", "Records in the answer section of the "
	    "last reply.", METRIC_GAUGE), NULL);
	ts->extra[X_AUTHORITY] = target_series(ts, dns_fam(st,
	    "probe_dns_authority_rrs", "Records in the authority section of "
	    "the last reply.", METRIC_GAUGE), NULL);
	ts->extra[X_ADDITIONAL] = target_series(ts, dns_fam(st,
	    "probe_dns_additional_rrs", "Records in the additional section "
	    "of the last reply (the OPT record included).", METRIC_GAUGE),
	    NULL);
	ts->extra[X_SUCCEEDED] = target_series(ts, dns_fam(st,
	    "probe_dns_query_succeeded", "Whether the last query got a "
	    "valid reply (1), whatever its content, or none (0).",
	    METRIC_GAUGE), NULL);
	ts->extra[X_SERIAL] = target_series(ts, dns_fam(st,
	    "probe_dns_serial", "SOA serial in the answer of the last "
	    "reply.", METRIC_GAUGE), NULL);
	ts->extra[X_RCODE] = target_series(ts, dns_fam(st,
	    "netprobe_dns_rcode", "Response code of the last reply (0 "
	    "NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ...).",
	    METRIC_GAUGE), NULL);
	ts->extra[X_TRUNCATED] = target_series(ts, dns_fam(st,
	    "netprobe_dns_truncated_total", "UDP replies with the TC flag, "
	    "each followed by a retry over TCP.", METRIC_COUNTER), NULL);
	dns_fam(st, "netprobe_dns_responses_total", "Valid replies "
	    "received, by response code.", METRIC_COUNTER);
}

static void
dns_record(struct target_state *ts, const struct probe_run *run)
{
	const struct dns_run	*r = run->state;
	const struct dns_msg	*m = &r->msg;
	unsigned		 slot;

	if (r->truncated)
		series_add(ts->extra[X_TRUNCATED], 1);
	series_set(ts->extra[X_SUCCEEDED], r->answered);
	if (r->connected)
		series_set(ts->extra[X_CONNECT], r->connect_s);
	else if (r->answered)
		series_set(ts->extra[X_CONNECT], 0);
	else
		series_unset(ts->extra[X_CONNECT]);
	if (!r->answered) {
		series_unset(ts->extra[X_REQUEST]);
		series_unset(ts->extra[X_ANSWER]);
		series_unset(ts->extra[X_AUTHORITY]);
		series_unset(ts->extra[X_ADDITIONAL]);
		series_unset(ts->extra[X_SERIAL]);
		series_unset(ts->extra[X_RCODE]);
		return;
	}
	series_set(ts->extra[X_REQUEST], r->request_s);
	series_set(ts->extra[X_ANSWER], m->ancount);
	series_set(ts->extra[X_AUTHORITY], m->nscount);
	series_set(ts->extra[X_ADDITIONAL], m->arcount);
	if (m->has_serial)
		series_set(ts->extra[X_SERIAL], m->serial);
	else
		series_unset(ts->extra[X_SERIAL]);
	series_set(ts->extra[X_RCODE], m->rcode);
	slot = m->rcode < RESP_SLOTS - 1 ? m->rcode : RESP_SLOTS - 1;
	if (ts->extra[X_RESP + slot] == NULL)
		ts->extra[X_RESP + slot] = target_series(ts, dns_fam(ts->store,
		    "netprobe_dns_responses_total", "", METRIC_COUNTER),
		    "rcode", resp_labels[slot], NULL);
	series_add(ts->extra[X_RESP + slot], 1);
}

const struct probe_type probe_type_dns = {
	.name = "dns",
	.target_port = NP_PORT_REQUIRED,
	.default_port = dns_default_port,
	.opts = dns_opt_defs,
	.nopts = NP_NELEM(dns_opt_defs),
	.opts_size = sizeof(struct dns_opts),
	.opts_default = dns_opts_default,
	.check = dns_check,
	.state_size = sizeof(struct dns_run),
	.nextra = X_NUM,
	.start = dns_start,
	.finish = dns_finish,
	.attach = dns_attach,
	.record = dns_record,
	.success_word = "answer",
};
