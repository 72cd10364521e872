/*
 * Negative probes: the evidence parsers (ICMP errors and what they
 * quote, TCP segments, hop distance from a TTL), every verdict of
 * isolation_judge(), and the config keys (expect, control, filter_hops,
 * vrf, netns) with their exact errors.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/netprobed.h"
#include "probes/probe.h"
#include "probes/isolation.h"
#include "daemon/sweep.h"

/* ---- parsers ------------------------------------------------------- */

/* An IPv4 header for proto from src to dst, total length 20 + len. */
static void
ip4(uint8_t *p, uint8_t proto, const char *src, const char *dst, size_t len,
    uint8_t ttl)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)((20 + len) >> 8);
	p[3] = (uint8_t)(20 + len);
	p[8] = ttl;
	p[9] = proto;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
}

/* outer IP + ICMP 3/code quoting a TCP SYN 10.30.0.2:40000 -> dst:80 */
static size_t
icmp4_error(uint8_t *p, uint8_t type, uint8_t code, const char *dst)
{
	ip4(p, 1, "10.30.0.1", "10.30.0.2", 8 + 20 + 8, 64);
	memset(p + 20, 0, 8);
	p[20] = type;
	p[21] = code;
	ip4(p + 28, 6, "10.30.0.2", dst, 20, 63);
	p[48] = 40000 >> 8;
	p[49] = 40000 & 0xff;
	p[50] = 0;
	p[51] = 80;
	memset(p + 52, 0, 4);
	return (56);
}

static void
test_icmp_error_v4(void **state)
{
	uint8_t			p[128];
	struct iso_icmp_error	e;
	size_t			n, i;
	char			a[INET_ADDRSTRLEN];

	(void)state;
	n = icmp4_error(p, 3, 13, "10.99.0.10");
	assert_int_equal(iso_icmp_error_parse(p, n, 0, 1, &e), 0);
	assert_int_equal(e.type, 3);
	assert_int_equal(e.code, 13);
	assert_int_equal(e.inner_family, AF_INET);
	inet_ntop(AF_INET, e.inner_dst, a, sizeof(a));
	assert_string_equal(a, "10.99.0.10");
	assert_int_equal(e.inner_proto, 6);
	assert_true(e.has_ports);
	assert_int_equal(e.inner_sport, 40000);
	assert_int_equal(e.inner_dport, 80);
	/* without the outer header (as a caller that stripped it) */
	assert_int_equal(iso_icmp_error_parse(p + 20, n - 20, 0, 0, &e), 0);
	assert_int_equal(e.inner_dport, 80);
	/* time exceeded is evidence too; an echo reply is not an error */
	n = icmp4_error(p, 11, 0, "10.99.0.10");
	assert_int_equal(iso_icmp_error_parse(p, n, 0, 1, &e), 0);
	n = icmp4_error(p, 0, 0, "10.99.0.10");
	assert_int_equal(iso_icmp_error_parse(p, n, 0, 1, &e), -1);
	/* the quote cut after the inner IP header: no ports, still parsed */
	n = icmp4_error(p, 3, 10, "10.99.0.10");
	assert_int_equal(iso_icmp_error_parse(p, 48, 0, 1, &e), 0);
	assert_false(e.has_ports);
	/* a later fragment quoted: no ports */
	n = icmp4_error(p, 3, 10, "10.99.0.10");
	p[28 + 6] = 0x00;
	p[28 + 7] = 0x10;
	assert_int_equal(iso_icmp_error_parse(p, n, 0, 1, &e), 0);
	assert_false(e.has_ports);
	/* every truncation of a good packet: parsed or refused, no overread */
	n = icmp4_error(p, 3, 13, "10.99.0.10");
	for (i = 0; i < n; i++) {
		uint8_t	*cut = malloc(i ? i : 1);

		int	 rc;

		memcpy(cut, p, i);
		rc = iso_icmp_error_parse(cut, i, 0, 1, &e);
		assert_true(rc == 0 || rc == -1);
		free(cut);
	}
	/* hostile headers */
	n = icmp4_error(p, 3, 13, "10.99.0.10");
	p[0] = 0x4f;		/* outer IHL 60 > packet */
	assert_int_equal(iso_icmp_error_parse(p, 40, 0, 1, &e), -1);
	p[0] = 0x41;		/* IHL 4: below the minimum */
	assert_int_equal(iso_icmp_error_parse(p, n, 0, 1, &e), -1);
	n = icmp4_error(p, 3, 13, "10.99.0.10");
	p[28] = 0x65;		/* inner version 6 in a v4 error */
	assert_int_equal(iso_icmp_error_parse(p, n, 0, 1, &e), -1);
}

static void
test_icmp_error_v6(void **state)
{
	uint8_t			p[8 + 40 + 8];
	struct iso_icmp_error	e;
	char			a[INET6_ADDRSTRLEN];

	(void)state;
	memset(p, 0, sizeof(p));
	p[0] = 1;		/* destination unreachable */
	p[1] = 1;		/* administratively prohibited */
	p[8] = 0x60;
	p[8 + 6] = 17;		/* UDP */
	inet_pton(AF_INET6, "fd00:30::2", p + 8 + 8);
	inet_pton(AF_INET6, "fd00:99::10", p + 8 + 24);
	p[48] = 0x9c;
	p[49] = 0x40;
	p[50] = 0;
	p[51] = 53;
	assert_int_equal(iso_icmp_error_parse(p, sizeof(p), 1, 0, &e), 0);
	assert_int_equal(e.type, 1);
	assert_int_equal(e.code, 1);
	assert_int_equal(e.inner_family, AF_INET6);
	inet_ntop(AF_INET6, e.inner_dst, a, sizeof(a));
	assert_string_equal(a, "fd00:99::10");
	assert_int_equal(e.inner_dport, 53);
	/* an echo reply (129) is not an error; a short quote is refused */
	p[0] = 129;
	assert_int_equal(iso_icmp_error_parse(p, sizeof(p), 1, 0, &e), -1);
	p[0] = 3;
	assert_int_equal(iso_icmp_error_parse(p, 8 + 39, 1, 0, &e), -1);
}

static void
test_tcp_and_hops(void **state)
{
	uint8_t			p[40];
	struct iso_tcp_segment	t;

	(void)state;
	ip4(p, 6, "10.99.0.10", "10.30.0.2", 20, 63);
	memset(p + 20, 0, 20);
	p[20] = 0;
	p[21] = 80;
	p[22] = 0x9c;
	p[23] = 0x40;
	p[33] = 0x14;		/* RST|ACK */
	assert_int_equal(iso_tcp_parse(p, sizeof(p), 0, &t), 0);
	assert_int_equal(t.ttl, 63);
	assert_int_equal(t.sport, 80);
	assert_int_equal(t.dport, 40000);
	assert_int_equal(t.flags & 0x04, 0x04);
	/* v6 raw sockets give the TCP header only */
	assert_int_equal(iso_tcp_parse(p + 20, 20, 1, &t), 0);
	assert_int_equal(t.sport, 80);
	assert_int_equal(iso_tcp_parse(p, 39, 0, &t), -1);
	assert_int_equal(iso_tcp_parse(p + 20, 19, 1, &t), -1);
	p[9] = 17;		/* not TCP */
	assert_int_equal(iso_tcp_parse(p, sizeof(p), 0, &t), -1);

	assert_int_equal(iso_hops(64), 1);	/* directly connected */
	assert_int_equal(iso_hops(63), 2);
	assert_int_equal(iso_hops(128), 1);	/* Windows-like, adjacent */
	assert_int_equal(iso_hops(120), 9);
	assert_int_equal(iso_hops(255), 1);
	assert_int_equal(iso_hops(250), 6);
	assert_int_equal(iso_hops(0), 0);
	assert_int_equal(iso_hops(-1), 0);
	assert_int_equal(iso_hops(256), 0);
}

/* ---- verdicts ------------------------------------------------------ */

struct fixture {
	struct probe_cfg	cfg;
	struct np_addr		addr;
	struct probe_run	run;
	char			*target;
};

static void
fx_init(struct fixture *f, const char *type, const char *target,
    unsigned filter_hops)
{
	const char	*why;

	memset(f, 0, sizeof(*f));
	f->cfg.type = probe_type_find(type);
	assert_non_null(f->cfg.type);
	assert_int_equal(parse_addr(target, strchr(target, ':') ? 0 :
	    NP_PORT_NONE, &f->addr, &why), 0);
	f->cfg.name = (char *)"neg";
	f->cfg.iso.blocked = 1;
	f->cfg.iso.filter_hops = filter_hops;
	f->run.cfg = &f->cfg;
	f->run.type = f->cfg.type;
	f->run.addr = &f->addr;
	f->run.obs.ev.observed = 1;
}

static void
expect(struct fixture *f, enum iso_control ctl, enum iso_verdict v,
    const char *reason, const char *from)
{
	struct iso_judgement	j;

	isolation_judge(&f->run, ctl, &j);
	assert_string_equal(iso_verdict_name(j.verdict), iso_verdict_name(v));
	assert_string_equal(j.reason, reason);
	assert_string_equal(j.from, from);
}

static void
test_verdicts(void **state)
{
	struct fixture	f;

	(void)state;
	/* silence */
	fx_init(&f, "tcp", "10.99.0.10:80", 0);
	f.run.obs.result = PR_TIMEOUT;
	expect(&f, IC_NONE, IV_BLOCKED, "timeout", "");
	expect(&f, IC_OK, IV_BLOCKED, "timeout", "");
	/* a dead uplink must not look like isolation */
	expect(&f, IC_FAILED, IV_INCONCLUSIVE, "control_failed", "");
	expect(&f, IC_UNKNOWN, IV_INCONCLUSIVE, "control_unknown", "");

	/* a handshake, a reply: leaks, whatever the control says */
	f.run.obs.result = PR_SUCCESS;
	f.run.obs.connected = 1;
	expect(&f, IC_FAILED, IV_LEAK, "handshake", "");
	fx_init(&f, "http", "10.99.0.10:80", 0);
	f.run.obs.result = PR_TIMEOUT;	/* connected, then no HTTP answer */
	f.run.obs.connected = 1;
	expect(&f, IC_NONE, IV_LEAK, "handshake", "");
	f.run.obs.result = PR_BAD_RESPONSE;
	expect(&f, IC_NONE, IV_LEAK, "reply", "");
	fx_init(&f, "icmp", "10.99.0.10", 0);
	f.run.obs.result = PR_SUCCESS;
	expect(&f, IC_NONE, IV_LEAK, "reply", "");

	/* RSTs: the target's own, or a filter's forgery by distance */
	fx_init(&f, "tcp", "10.99.0.10:80", 1);
	f.run.obs.result = PR_REFUSED;
	f.run.obs.ev.rst = 1;
	f.run.obs.ev.rst_hops = 1;
	expect(&f, IC_NONE, IV_BLOCKED, "rst_from_filter", "10.99.0.10");
	expect(&f, IC_FAILED, IV_INCONCLUSIVE, "control_failed", "10.99.0.10");
	f.run.obs.ev.rst_hops = 2;
	expect(&f, IC_NONE, IV_LEAK, "rst", "10.99.0.10");
	f.cfg.iso.filter_hops = 0;	/* unknown filter: every RST counts */
	f.run.obs.ev.rst_hops = 1;
	expect(&f, IC_NONE, IV_LEAK, "rst", "10.99.0.10");
	/* refused with no observer evidence */
	f.run.obs.ev.rst = 0;
	f.run.obs.ev.observed = 0;
	expect(&f, IC_NONE, IV_LEAK, "refused", "");
	f.cfg.iso.filter_hops = 2;
	expect(&f, IC_NONE, IV_INCONCLUSIVE, "rst_unverified", "");

	/* ICMP errors, by code and by sender */
	fx_init(&f, "tcp", "10.99.0.10:80", 0);
	f.run.obs.result = PR_UNREACHABLE;
	f.run.obs.ev.icmp = 1;
	f.run.obs.ev.icmp_type = 3;
	snprintf(f.run.obs.ev.icmp_from, sizeof(f.run.obs.ev.icmp_from),
	    "10.30.0.1");
	f.run.obs.ev.icmp_code = 13;
	expect(&f, IC_NONE, IV_BLOCKED, "admin_prohibited", "10.30.0.1");
	f.run.obs.ev.icmp_code = 9;
	expect(&f, IC_NONE, IV_BLOCKED, "admin_prohibited", "10.30.0.1");
	f.run.obs.ev.icmp_code = 10;
	expect(&f, IC_NONE, IV_BLOCKED, "admin_prohibited", "10.30.0.1");
	f.run.obs.ev.icmp_code = 1;
	expect(&f, IC_NONE, IV_BLOCKED, "unreachable", "10.30.0.1");
	expect(&f, IC_FAILED, IV_INCONCLUSIVE, "control_failed", "10.30.0.1");
	f.run.obs.ev.icmp_code = 3;	/* a filter's reject */
	expect(&f, IC_NONE, IV_BLOCKED, "rejected", "10.30.0.1");
	snprintf(f.run.obs.ev.icmp_from, sizeof(f.run.obs.ev.icmp_from),
	    "10.99.0.10");		/* the target's own stack */
	expect(&f, IC_NONE, IV_LEAK, "port_unreachable", "10.99.0.10");
	f.run.obs.ev.icmp_type = 11;
	expect(&f, IC_NONE, IV_BLOCKED, "ttl_exceeded", "10.99.0.10");
	fx_init(&f, "udp", "[fd00:99::10]:53", 0);
	f.run.obs.result = PR_TIMEOUT;
	f.run.obs.ev.icmp = 1;
	f.run.obs.ev.icmp_v6 = 1;
	f.run.obs.ev.icmp_type = 1;
	snprintf(f.run.obs.ev.icmp_from, sizeof(f.run.obs.ev.icmp_from),
	    "fd00:30::1");
	f.run.obs.ev.icmp_code = 1;
	expect(&f, IC_NONE, IV_BLOCKED, "admin_prohibited", "fd00:30::1");
	f.run.obs.ev.icmp_code = 6;	/* reject route (RFC 4443) */
	expect(&f, IC_NONE, IV_BLOCKED, "admin_prohibited", "fd00:30::1");
	f.run.obs.ev.icmp_code = 4;
	expect(&f, IC_NONE, IV_BLOCKED, "rejected", "fd00:30::1");
	f.run.obs.ev.icmp_code = 0;
	expect(&f, IC_NONE, IV_BLOCKED, "unreachable", "fd00:30::1");

	/* local errors */
	fx_init(&f, "tcp", "10.99.0.10:80", 0);
	f.run.obs.result = PR_UNREACHABLE;	/* ENETUNREACH, no ICMP */
	expect(&f, IC_NONE, IV_INCONCLUSIVE, "no_route", "");
	f.run.obs.result = PR_ERROR;
	expect(&f, IC_OK, IV_INCONCLUSIVE, "local_error", "");
}

/* ---- config -------------------------------------------------------- */

struct bad {
	const char	*what;
	const char	*yaml;
	const char	*first;
};

static const struct bad bad[] = {
	{ "expect: a third value",
	  "probes:\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], expect: closed}\n",
	  "t.yaml:2:60: 'expect': \"closed\" is neither reachable nor blocked" },
	{ "control: not a probe",
	  "probes:\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], expect: blocked,\n"
	  "     control: up}\n",
	  "t.yaml:3:15: probe 'n': control \"up\" is not a configured probe" },
	{ "control: itself",
	  "probes:\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], expect: blocked,\n"
	  "     control: n}\n",
	  "t.yaml:3:15: probe 'n': a probe cannot be its own control" },
	{ "control: a negative probe",
	  "probes:\n"
	  "  - {name: m, type: tcp, targets: ['10.0.0.2:80'], expect: blocked}\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], expect: blocked,\n"
	  "     control: m}\n",
	  "t.yaml:4:15: probe 'n': control 'm' is itself a negative probe "
	  "(expect: blocked); the control must be one that should succeed" },
	{ "control: another egress",
	  "probes:\n"
	  "  - {name: up, type: icmp, targets: [10.0.0.2], netns: seg}\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], expect: blocked,\n"
	  "     control: up}\n",
	  "t.yaml:4:15: probe 'n': control 'up' leaves by another way (source, "
	  "interface, vrf, fwmark or netns differ); it must share the negative "
	  "probe's egress" },
	{ "control on a positive probe",
	  "probes:\n"
	  "  - {name: up, type: icmp, targets: [10.0.0.2]}\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], control: up}\n",
	  "t.yaml:3:61: probe 'n': 'control' is for negative probes "
	  "(expect: blocked)" },
	{ "filter_hops out of range",
	  "probes:\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], expect: blocked,\n"
	  "     filter_hops: 0}\n",
	  "t.yaml:3:19: 'filter_hops' must be between 1 and 64, got 0" },
	{ "interface and vrf",
	  "probes:\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], interface: eth0,\n"
	  "     vrf: blue}\n",
	  "t.yaml:3:11: probe 'n': give either 'interface' or 'vrf', not both" },
	{ "a route probe cannot be negative",
	  "probes:\n"
	  "  - {name: r, type: route, targets: [10.99.0.0/16], expect: blocked}\n",
	  "t.yaml:2:61: probe 'r': a route probe sends no packets and cannot "
	  "be a negative probe (expect: blocked); use a route probe's expect: "
	  "absent" },
	{ "sweep on a positive probe",
	  "probes:\n"
	  "  - {name: s, type: tcp, sweep: {prefixes: [10.9.0.0/30], ports: [80]}}\n",
	  "t.yaml:2:33: probe 's': 'sweep' is for negative probes (expect: "
	  "blocked)" },
	{ "sweep and targets",
	  "probes:\n"
	  "  - {name: s, type: tcp, expect: blocked, targets: ['10.0.0.1:1'],\n"
	  "     sweep: {prefixes: [10.9.0.0/30], ports: [80]}}\n",
	  "t.yaml:3:13: probe 's': give either 'targets' or 'sweep', not both" },
	{ "sweep without ports on tcp",
	  "probes:\n"
	  "  - {name: s, type: tcp, expect: blocked, sweep: {prefixes: 10.9.0.0/30}}\n",
	  "t.yaml:2:50: 'sweep' needs 'ports' for this probe type" },
	{ "sweep with ports on icmp",
	  "probes:\n"
	  "  - {name: s, type: icmp, expect: blocked,\n"
	  "     sweep: {prefixes: 10.9.0.0/30, ports: [1]}}\n",
	  "t.yaml:3:44: 'ports': this probe type's targets have no port" },
	{ "sweep of an http probe",
	  "probes:\n"
	  "  - {name: s, type: http, expect: blocked,\n"
	  "     sweep: {prefixes: 10.9.0.0/30}}\n",
	  "t.yaml:3:13: probe 's': a http probe's targets are not addresses; it "
	  "cannot sweep" },
	{ "sweep prefix too wide",
	  "probes:\n"
	  "  - {name: s, type: icmp, expect: blocked, sweep: {prefixes: [10.0.0.0/8]}}\n",
	  "t.yaml:2:63: 'prefixes': 10.0.0.0/8 has 2^24 addresses; a sweep "
	  "covers at most 65536 destinations (split the range or use a longer "
	  "prefix)" },
	{ "sweep too many destinations",
	  "probes:\n"
	  "  - {name: s, type: tcp, expect: blocked,\n"
	  "     sweep: {prefixes: [10.0.0.0/16], ports: [22, 80]}}\n",
	  "t.yaml:3:13: 'sweep' covers 131072 destinations (prefixes x ports); "
	  "at most 65536" },
	{ "sweep per_interval",
	  "probes:\n"
	  "  - {name: s, type: icmp, expect: blocked,\n"
	  "     sweep: {prefixes: 10.9.0.0/30, per_interval: 65}}\n",
	  "t.yaml:3:51: 'per_interval' must be between 1 and 64, got 65" },
	{ "sweep bad prefix",
	  "probes:\n"
	  "  - {name: s, type: icmp, expect: blocked, sweep: {prefixes: [10.9/30]}}\n",
	  "t.yaml:2:63: 'prefixes': invalid prefix \"10.9/30\": not an "
	  "IP address or prefix like 10.20.0.0/16 or 2001:db8::/32" },
	{ "vrf name",
	  "probes:\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], vrf: a/b}\n",
	  "t.yaml:2:57: 'vrf': \"a/b\" is not a device name (1 to 15 "
	  "characters, no '/', ':' or spaces)" },
	{ "netns name",
	  "probes:\n"
	  "  - {name: n, type: tcp, targets: ['10.0.0.1:80'], netns: ../x}\n",
	  "t.yaml:2:59: 'netns': \"../x\" is not a namespace name (1 to 64 "
	  "letters, digits, '-', '_' or '.'; one of ip netns list)" },
};

static void
test_config_bad(void **state)
{
	struct cfg_errors	errs;
	size_t			i, failed = 0;

	(void)state;
	for (i = 0; i < NP_NELEM(bad); i++) {
		struct np_config *c = config_load_string("t.yaml", bad[i].yaml,
		    strlen(bad[i].yaml), &errs);

		assert_null(c);
		if (errs.n == 0 || strcmp(errs.msg[0], bad[i].first) != 0) {
			print_error("%s: got \"%s\"\n", bad[i].what,
			    errs.n ? errs.msg[0] : "(no error)");
			failed++;
		}
		cfg_errors_free(&errs);
	}
	assert_int_equal(failed, 0);
}

static void
test_config_good(void **state)
{
	static const char	y[] =
	    "probes:\n"
	    "  - {name: up, type: tcp, targets: ['10.20.0.10:443'], netns: seg,\n"
	    "     vrf: blue, fwmark: 7}\n"
	    "  - {name: n, type: tcp, targets: ['10.99.0.10:80'], netns: seg,\n"
	    "     vrf: blue, fwmark: 7, expect: blocked, control: up,\n"
	    "     filter_hops: 1}\n"
	    "  - {name: p, type: icmp, targets: [10.0.0.1], expect: reachable}\n";
	struct cfg_errors	 errs;
	struct np_config	*c;

	(void)state;
	c = config_load_string("t.yaml", y, strlen(y), &errs);
	if (c == NULL)
		fail_msg("%s", errs.msg[0]);
	assert_false(c->probes[0].iso.blocked);
	assert_true(c->probes[1].iso.blocked);
	assert_string_equal(c->probes[1].iso.control, "up");
	assert_int_equal(c->probes[1].iso.filter_hops, 1);
	assert_string_equal(c->probes[1].net.netns, "seg");
	assert_string_equal(c->probes[1].net.vrf, "blue");
	assert_false(c->probes[2].iso.blocked);
	config_free(c);
}

static void
test_sweep(void **state)
{
	static const char	y[] =
	    "probes:\n"
	    "  - {name: s, type: tcp, expect: blocked, sweep: {prefixes:\n"
	    "     [10.9.0.0/31, 10.9.1.7/32, \"fd00::fe/127\"], ports: [22, 80]}}\n"
	    "  - {name: i, type: icmp, expect: blocked,\n"
	    "     sweep: {prefixes: 10.8.0.254/31, per_interval: 1}}\n";
	static const char *const want[] = {
		"10.9.0.0:22", "10.9.0.0:80", "10.9.0.1:22", "10.9.0.1:80",
		"10.9.1.7:22", "10.9.1.7:80", "[fd00::fe]:22", "[fd00::fe]:80",
		"[fd00::ff]:22", "[fd00::ff]:80",
	};
	struct cfg_errors	 errs;
	struct np_config	*c;
	struct np_addr		 a;
	char			 text[NP_ADDRSTRLEN];
	size_t			 i;

	(void)state;
	c = config_load_string("t.yaml", y, strlen(y), &errs);
	if (c == NULL)
		fail_msg("%s", errs.msg[0]);
	assert_int_equal(c->probes[0].ntargets, 1);
	assert_string_equal(c->probes[0].targets[0],
	    "10.9.0.0/31 10.9.1.7 fd00::fe/127 ports 22,80");
	assert_int_equal(c->probes[0].iso.sweep->total, NP_NELEM(want));
	assert_int_equal(c->probes[0].iso.sweep->per_interval, 4);
	for (i = 0; i < NP_NELEM(want); i++) {
		sweep_destination(c->probes[0].iso.sweep, i, &a, text,
		    sizeof(text));
		assert_string_equal(text, want[i]);
		assert_int_equal(addr_port(&a), i % 2 ? 80 : 22);
	}
	/* host bits cleared; no port; carries across a byte */
	assert_string_equal(c->probes[1].targets[0], "10.8.0.254/31");
	sweep_destination(c->probes[1].iso.sweep, 1, &a, text, sizeof(text));
	assert_string_equal(text, "10.8.0.255");
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_error_v4),
		cmocka_unit_test(test_icmp_error_v6),
		cmocka_unit_test(test_tcp_and_hops),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_config_bad),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_sweep),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
