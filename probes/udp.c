/*
 * udp: send one datagram (the user's payload, text or hex) and expect a
 * reply, optionally matching a regex, or expect silence.
 *
 * The payload is the user's, so there is no room for a cookie: a reply
 * counts only if it comes from the target's address and port, on a
 * socket connect()ed to the target and opened for this run alone (a
 * fresh, kernel-chosen source port per run, so an answer to an earlier
 * run never reaches it).  The connected socket also turns an ICMP port
 * unreachable into ECONNREFUSED: the result is `refused`.
 *
 * reply_regex is matched against the whole reply, NUL bytes included
 * (regexec with REG_STARTEND on the exact bytes, in the C locale where
 * every byte is one character); `^` and `$` anchor at the datagram's
 * first and last byte and `.` matches a newline.
 *
 * With `expect: silence` the run always lasts until its timeout: it
 * succeeds if nothing came back, a reply is `bad_response`, and an ICMP
 * port unreachable is `refused`: silence means the datagram was taken
 * in (a syslog or trap receiver) or dropped on the way (a firewall), and
 * a refusal is neither - the host is there but nothing listens.
 */
#include "config.h"

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "probes/probe.h"

#define UDP_MAX_PAYLOAD	1400	/* one datagram, no fragments on 1500 */

enum { UDP_EXPECT_REPLY, UDP_EXPECT_SILENCE };

static const char *const udp_expect_choices[] = { "reply", "silence", NULL };

struct udp_opts {
	char		*payload;	/* text */
	char		*payload_hex;	/* or hex digits */
	int		 expect;
	struct np_regex	*reply_regex;
	uint64_t	 retries;
};

struct udp_run {
	struct probe_run	*run;
	int			 fd;
	struct event		*rx;
	struct event		*tx;
	uint8_t			 payload[UDP_MAX_PAYLOAD];
	size_t			 len;
	unsigned		 tries;		/* 1 + retries */
	unsigned		 attempts;
	uint64_t		 last_tx;	/* monotonic ns */
	int			 replied;
	size_t			 reply_len;
};

static const struct opt_def udp_opt_defs[] = {
	OPT("payload", OPT_STRING, struct udp_opts, payload, 0,
	    UDP_MAX_PAYLOAD),
	OPT("payload_hex", OPT_STRING, struct udp_opts, payload_hex, 0,
	    2 * UDP_MAX_PAYLOAD),
	OPT_CHOICE("expect", struct udp_opts, expect, udp_expect_choices),
	OPT("reply_regex", OPT_REGEX, struct udp_opts, reply_regex, 0, 0),
	OPT("retries", OPT_UINT, struct udp_opts, retries, 0, 10),
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* Decode hex digits into out (at least strlen/2 bytes); -1 if invalid. */
static ssize_t
hex_decode(const char *s, uint8_t *out, size_t outlen, char *why,
    size_t whylen)
{
	size_t	n = strlen(s), i;
	int	hi, lo;

	for (i = 0; i < n; i++)
		if (hexval((unsigned char)s[i]) == -1) {
			if (isprint((unsigned char)s[i]))
				snprintf(why, whylen, "'payload_hex' has '%c' "
				    "at offset %zu: only hex digits 0-9 a-f "
				    "are allowed", s[i], i);
			else
				snprintf(why, whylen, "'payload_hex' has byte "
				    "0x%02x at offset %zu: only hex digits "
				    "0-9 a-f are allowed",
				    (unsigned char)s[i], i);
			return (-1);
		}
	if (n % 2 != 0) {
		snprintf(why, whylen, "'payload_hex' must have an even number "
		    "of hex digits (two per byte), got %zu", n);
		return (-1);
	}
	if (n / 2 > outlen) {
		snprintf(why, whylen, "'payload_hex' is longer than %zu bytes",
		    outlen);
		return (-1);
	}
	for (i = 0; i < n / 2; i++) {
		hi = hexval((unsigned char)s[2 * i]);
		lo = hexval((unsigned char)s[2 * i + 1]);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return ((ssize_t)(n / 2));
}

static const char *
udp_check(const struct probe_cfg *cfg, char *buf, size_t len,
    const char **key)
{
	const struct udp_opts	*o = cfg->opts;
	uint8_t			 tmp[UDP_MAX_PAYLOAD];

	if (o->payload != NULL && o->payload_hex != NULL) {
		*key = "payload_hex";
		return ("give either 'payload' (text) or 'payload_hex', "
		    "not both");
	}
	if (o->payload == NULL && o->payload_hex == NULL)
		return ("a udp probe needs 'payload' (text) or 'payload_hex'");
	if (o->payload_hex != NULL && hex_decode(o->payload_hex, tmp,
	    sizeof(tmp), buf, len) == -1) {
		*key = "payload_hex";
		return (buf);
	}
	if (o->reply_regex != NULL && o->expect == UDP_EXPECT_SILENCE) {
		*key = "reply_regex";
		return ("'reply_regex' needs 'expect: reply' (with 'expect: "
		    "silence' any reply is a failure)");
	}
	return (NULL);
}

/* Does the regex match these bytes, NUL bytes included? */
static int
udp_match(const struct np_regex *re, const uint8_t *buf, size_t len)
{
#ifdef REG_STARTEND
	regmatch_t	m[1];

	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)len;
	return (regexec(&re->re, (const char *)buf, 1, m, REG_STARTEND) ==
	    0);
#else
	char	*copy = xmalloc(len + 1);
	int	 ok;

	/* without REG_STARTEND the text ends at the first NUL */
	memcpy(copy, buf, len);
	copy[len] = '\0';
	ok = np_regex_match(re, copy);
	free(copy);
	return (ok);
#endif
}

/* At most n bytes as printable text, the rest as \xNN, for the debug log. */
static void
udp_excerpt(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	size_t	i, o = 0;

	for (i = 0; i < len && o + 5 < outlen; i++) {
		if (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '\\')
			out[o++] = (char)buf[i];
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
			    buf[i]);
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

/* A socket error: an ICMP error the kernel matched to our socket. */
static void
udp_fail(struct udp_run *u, int err, const char *step)
{
	probe_log(u->run, "%s: %s", step, strerror(err));
	snprintf(u->run->obs.detail, sizeof(u->run->obs.detail), "%s%s",
	    strerror(err), err == ECONNREFUSED ? " (ICMP port unreachable)" :
	    "");
	probe_done(u->run, probe_errno_result(err));
}

/* Send the datagram once; -1 if that ended the run (touch nothing then). */
static int
udp_send(struct udp_run *u)
{
	unsigned	n = ++u->attempts;

	u->last_tx = now_mono_ns();
	if (send(u->fd, u->payload, u->len, 0) == -1) {
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
			probe_log(u->run, "send %u/%u: %s", n, u->tries,
			    strerror(errno));
			return (0);
		}
		udp_fail(u, errno, "send");
		return (-1);
	}
	u->run->obs.sent++;
	probe_log(u->run, "sent %zu bytes to %s (%u/%u)", u->len,
	    u->run->cfg->targets[u->run->target], n, u->tries);
	return (0);
}

static void
udp_tx(evutil_socket_t fd, short ev, void *arg)
{
	struct udp_run	*u = arg;

	if (udp_send(u) == -1)
		return;
	if (u->attempts >= u->tries)
		event_del(u->tx);
}

static void
udp_got(struct udp_run *u, const uint8_t *buf, size_t len)
{
	const struct udp_opts	*o = u->run->cfg->opts;
	struct probe_obs	*obs = &u->run->obs;
	char			 ex[100];
	double			 rtt = (double)(now_mono_ns() - u->last_tx) /
				    1e9;

	u->replied = 1;
	u->reply_len = len;
	obs->received++;
	obs->rtt[0] = rtt;
	obs->nrtt = 1;
	udp_excerpt(buf, len, ex, sizeof(ex));
	probe_log(u->run, "reply of %zu bytes after %.3fms: %s", len,
	    rtt * 1e3, ex);
	if (o->expect == UDP_EXPECT_SILENCE) {
		snprintf(obs->detail, sizeof(obs->detail), "unexpected reply "
		    "of %zu bytes", len);
		probe_done(u->run, PR_BAD_RESPONSE);
		return;
	}
	if (o->reply_regex != NULL && !udp_match(o->reply_regex, buf, len)) {
		probe_log(u->run, "reply does not match /%s/",
		    o->reply_regex->src);
		snprintf(obs->detail, sizeof(obs->detail), "reply of %u bytes "
		    "does not match /%.50s/", (unsigned)len,
		    o->reply_regex->src);
		probe_done(u->run, PR_BAD_RESPONSE);
		return;
	}
	snprintf(obs->detail, sizeof(obs->detail), "reply of %zu bytes%s",
	    len, o->reply_regex != NULL ? " matched" : "");
	probe_done(u->run, PR_SUCCESS);
}

static void
udp_read(evutil_socket_t fd, short ev, void *arg)
{
	static uint8_t		 buf[65536];
	struct udp_run		*u = arg;
	struct sockaddr_storage	 from;
	socklen_t		 flen;
	ssize_t			 n;
	int			 budget;

	/* bounded: a flood from the peer cannot hold the loop */
	for (budget = 0; budget < 64; budget++) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &flen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			udp_fail(u, errno, "receive");
			return;
		}
		/* the kernel filters by the connected peer; check anyway */
		if (!addr_match(u->run->addr, &from, 1)) {
			probe_log(u->run, "ignored %zd bytes from another "
			    "address", n);
			continue;
		}
		udp_got(u, buf, (size_t)n);	/* ends the run */
		return;
	}
}

static void
udp_start(struct probe_run *run)
{
	struct udp_run		*u = run->state;
	const struct udp_opts	*o = run->cfg->opts;
	const struct np_addr	*a = run->addr;
	struct timeval		 tv;
	uint64_t		 every;
	ssize_t			 n;

	u->run = run;
	u->fd = -1;
	u->tries = 1 + (unsigned)o->retries;
	if (o->payload_hex != NULL) {
		n = hex_decode(o->payload_hex, u->payload, sizeof(u->payload),
		    run->obs.detail, sizeof(run->obs.detail));
		if (n == -1) {
			probe_done(run, PR_ERROR);
			return;
		}
		u->len = (size_t)n;
	} else {
		u->len = strlen(o->payload);
		memcpy(u->payload, o->payload, u->len);
	}
	if ((u->fd = probe_socket(run, a->ss.ss_family, SOCK_DGRAM, 0)) ==
	    -1) {
		probe_done(run, PR_ERROR);
		return;
	}
	if (connect(u->fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		udp_fail(u, errno, "connect");
		return;
	}
	u->rx = event_new(run->base, u->fd, EV_READ | EV_PERSIST, udp_read,
	    u);
	if (u->rx == NULL || event_add(u->rx, NULL) == -1)
		fatalx("udp: cannot add event");
	if (u->tries > 1) {
		/* resend the same datagram evenly across the timeout */
		every = run->cfg->timeout_ms * 1000 / u->tries;
		tv.tv_sec = (time_t)(every / 1000000);
		tv.tv_usec = (suseconds_t)(every % 1000000);
		u->tx = event_new(run->base, -1, EV_PERSIST, udp_tx, u);
		if (u->tx == NULL || event_add(u->tx, &tv) == -1)
			fatalx("udp: cannot add timer");
	}
	(void)udp_send(u);
}

static void
udp_finish(struct probe_run *run, int timed_out)
{
	struct udp_run		*u = run->state;
	const struct udp_opts	*o = run->cfg->opts;
	char			 t[32];

	if (u->tx != NULL) {
		event_free(u->tx);
		u->tx = NULL;
	}
	if (u->rx != NULL) {
		event_free(u->rx);
		u->rx = NULL;
	}
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (!timed_out)
		return;
	format_duration_ms(run->cfg->timeout_ms, t, sizeof(t));
	if (o->expect == UDP_EXPECT_SILENCE && run->obs.sent > 0) {
		run->obs.result = PR_SUCCESS;
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "no reply within %s, as expected", t);
		probe_log(run, "silence until the deadline, as expected");
	} else if (run->obs.result == PR_TIMEOUT)
		snprintf(run->obs.detail, sizeof(run->obs.detail),
		    "no reply within %s (%u sent)", t, run->obs.sent);
}

/* ---- series -------------------------------------------------------- */

enum { X_REPLY_BYTES, X_NUM };

static void
udp_attach(struct target_state *ts)
{
	ts->extra[X_REPLY_BYTES] = target_series(ts, store_family(ts->store,
	    "netprobe_udp_reply_bytes", "Size of the reply to the last run's "
	    "datagram, in bytes (absent when none came).", METRIC_GAUGE,
	    NULL, 0), NULL);
}

static void
udp_record(struct target_state *ts, const struct probe_run *run)
{
	const struct udp_run	*u = run->state;

	if (u->replied)
		series_set(ts->extra[X_REPLY_BYTES], (double)u->reply_len);
	else
		series_unset(ts->extra[X_REPLY_BYTES]);
}

const struct probe_type probe_type_udp = {
	.name = "udp",
	.target_port = NP_PORT_REQUIRED,
	.opts = udp_opt_defs,
	.nopts = NP_NELEM(udp_opt_defs),
	.opts_size = sizeof(struct udp_opts),
	.check = udp_check,
	.state_size = sizeof(struct udp_run),
	.nextra = X_NUM,
	.start = udp_start,
	.finish = udp_finish,
	.attach = udp_attach,
	.record = udp_record,
};
