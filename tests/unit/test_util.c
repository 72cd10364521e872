/*
 * Unit tests for daemon/util.c (durations, addresses, label names) and
 * format_double() from daemon/store.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <netinet/in.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/netprobed.h"

/* ---- durations ----------------------------------------------------- */

static void
test_duration_valid(void **state)
{
	static const struct {
		const char	*s;
		uint64_t	 ms;
	} ok[] = {
		{ "500ms", 500 },
		{ "1ms", 1 },
		{ "10s", 10000 },
		{ "2m", 120000 },
		{ "1h", 3600000 },
		{ "1m30s", 90000 },
		{ "1h2m3s4ms", 3723004 },
		{ "1h500ms", 3600500 },
		{ "90s", 90000 },
		{ "0010s", 10000 },
		{ "720h", 720ULL * 3600000 },
		{ "2592000000ms", 2592000000ULL },
	};
	const char	*why;
	uint64_t	 ms;
	size_t		 i;

	(void)state;
	for (i = 0; i < NP_NELEM(ok); i++) {
		why = NULL;
		ms = 12345;
		if (parse_duration_ms(ok[i].s, &ms, &why) != 0)
			fail_msg("\"%s\" rejected: %s", ok[i].s, why);
		assert_int_equal(ms, ok[i].ms);
	}
}

static void
test_duration_invalid(void **state)
{
	static const struct {
		const char	*s;
		const char	*why;
	} bad[] = {
		{ "", "empty duration" },
		{ "15", "no unit; use ms, s, m, h, d or w" },
		{ "1m30", "no unit; use ms, s, m, h, d or w" },
		{ "10x", "unknown unit; use ms, s, m, h, d or w" },
		{ "10S", "unknown unit; use ms, s, m, h, d or w" },
		{ "1 s", "unknown unit; use ms, s, m, h, d or w" },
		{ "1.5s", "unknown unit; use ms, s, m, h, d or w" },
		{ "10sec", "expected a number" },
		{ "s", "expected a number" },
		{ "-1s", "expected a number" },
		{ "+1s", "expected a number" },
		{ " 1s", "expected a number" },
		{ "1s ", "expected a number" },
		{ "1s5m", "units out of order" },
		{ "1s1s", "units out of order" },
		{ "500ms1s", "units out of order" },
		{ "721h", "duration too long (at most 720h)" },
		{ "2592000001ms", "duration too long (at most 720h)" },
		{ "720h1ms", "duration too long (at most 720h)" },
		{ "99999999999999999999999s",
		    "duration too long (at most 720h)" },
	};
	const char	*why;
	uint64_t	 ms;
	size_t		 i;

	(void)state;
	for (i = 0; i < NP_NELEM(bad); i++) {
		why = NULL;
		ms = 12345;
		if (parse_duration_ms(bad[i].s, &ms, &why) != -1)
			fail_msg("\"%s\" accepted as %llu", bad[i].s,
			    (unsigned long long)ms);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(ms, 12345);	/* untouched on error */
	}
}

static void
test_duration_format(void **state)
{
	static const struct {
		uint64_t	 ms;
		const char	*s;
	} fmt[] = {
		{ 0, "0s" },
		{ 1, "1ms" },
		{ 500, "500ms" },
		{ 1000, "1s" },
		{ 1500, "1s500ms" },
		{ 60000, "1m" },
		{ 90000, "1m30s" },
		{ 3600000, "1h" },
		{ 3723004, "1h2m3s4ms" },
		{ 86400000, "24h" },
		{ 3600001, "1h1ms" },
		{ 720ULL * 3600000, "720h" },
	};
	static const uint64_t trip[] = {
		1, 9, 10, 999, 1000, 1001, 59999, 60000, 61000, 3599999,
		3600000, 3661001, 86399999, 720ULL * 3600000,
	};
	char		 buf[64];
	const char	*why;
	uint64_t	 ms;
	size_t		 i;

	(void)state;
	for (i = 0; i < NP_NELEM(fmt); i++) {
		format_duration_ms(fmt[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, fmt[i].s);
	}
	/* every positive value reads back as itself */
	for (i = 0; i < NP_NELEM(trip); i++) {
		format_duration_ms(trip[i], buf, sizeof(buf));
		if (parse_duration_ms(buf, &ms, &why) != 0)
			fail_msg("%llu formatted as \"%s\": %s",
			    (unsigned long long)trip[i], buf, why);
		assert_int_equal(ms, trip[i]);
	}
	/* and a small buffer is truncated, never overrun */
	memset(buf, 'X', sizeof(buf));
	format_duration_ms(3723004, buf, 5);
	assert_string_equal(buf, "1h2m");
	assert_int_equal(buf[5], 'X');
}

/* ---- addresses ----------------------------------------------------- */

static void
assert_addr_text(const struct np_addr *a, const char *host,
    const char *with_port)
{
	char	buf[NP_ADDRSTRLEN];

	format_addr(a, 0, buf, sizeof(buf));
	assert_string_equal(buf, host);
	format_addr(a, 1, buf, sizeof(buf));
	assert_string_equal(buf, with_port);
}

static void
test_addr_valid(void **state)
{
	static const struct {
		const char	*s;
		int		 want;
		int		 family;
		int		 port;
		const char	*host;
		const char	*with_port;
	} ok[] = {
		{ "127.0.0.1", NP_PORT_NONE, AF_INET, 0, "127.0.0.1",
		    "127.0.0.1:0" },
		{ "10.1.2.3", NP_PORT_NONE, AF_INET, 0, "10.1.2.3",
		    "10.1.2.3:0" },
		{ "::1", NP_PORT_NONE, AF_INET6, 0, "::1", "[::1]:0" },
		{ "2001:DB8:0:0::1", NP_PORT_NONE, AF_INET6, 0,
		    "2001:db8::1", "[2001:db8::1]:0" },
		{ "::ffff:192.0.2.1", NP_PORT_NONE, AF_INET6, 0,
		    "::ffff:192.0.2.1", "[::ffff:192.0.2.1]:0" },
		{ "[::1]", NP_PORT_NONE, AF_INET6, 0, "::1", "[::1]:0" },
		{ "127.0.0.1:80", NP_PORT_REQUIRED, AF_INET, 80, "127.0.0.1",
		    "127.0.0.1:80" },
		{ "127.0.0.1:65535", NP_PORT_REQUIRED, AF_INET, 65535,
		    "127.0.0.1", "127.0.0.1:65535" },
		{ "[::1]:9560", NP_PORT_REQUIRED, AF_INET6, 9560, "::1",
		    "[::1]:9560" },
		{ "[fe80::1]:1", NP_PORT_REQUIRED, AF_INET6, 1, "fe80::1",
		    "[fe80::1]:1" },
		/* a default port applies only when none is given */
		{ "127.0.0.1", 22, AF_INET, 22, "127.0.0.1", "127.0.0.1:22" },
		{ "127.0.0.1:443", 22, AF_INET, 443, "127.0.0.1",
		    "127.0.0.1:443" },
		{ "::1", 22, AF_INET6, 22, "::1", "[::1]:22" },
		{ "[::1]", 22, AF_INET6, 22, "::1", "[::1]:22" },
		{ "[::1]:8080", 22, AF_INET6, 8080, "::1", "[::1]:8080" },
		/* a bare v6 address's colons are never taken for a port */
		{ "1::80", 22, AF_INET6, 22, "1::80", "[1::80]:22" },
		/* glibc writes zero-prefixed addresses IPv4-compatibly */
		{ "::1:80", NP_PORT_NONE, AF_INET6, 0, "::0.1.0.128",
		    "[::0.1.0.128]:0" },
		{ "127.0.0.1:0080", NP_PORT_REQUIRED, AF_INET, 80,
		    "127.0.0.1", "127.0.0.1:80" },
	};
	struct np_addr	 a;
	const char	*why;
	size_t		 i;

	(void)state;
	for (i = 0; i < NP_NELEM(ok); i++) {
		why = NULL;
		if (parse_addr(ok[i].s, ok[i].want, &a, &why) != 0)
			fail_msg("\"%s\" (want %d) rejected: %s", ok[i].s,
			    ok[i].want, why);
		assert_int_equal(a.ss.ss_family, ok[i].family);
		assert_int_equal(a.len, ok[i].family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		assert_int_equal(addr_port(&a), ok[i].port);
		assert_addr_text(&a, ok[i].host, ok[i].with_port);
	}
}

static void
test_addr_invalid(void **state)
{
	static const char names[] = "expected an IPv4 or IPv6 address "
	    "literal (names are not resolved)";
	static const char port_range[] = "port must be a number from 1 "
	    "to 65535";
	static const char port_needed[] = "expected HOST:PORT (a port is "
	    "required)";
	static const char no_port[] = "a port is not allowed here";
	static const struct {
		const char	*s;
		int		 want;
		const char	*why;
	} bad[] = {
		/* names are never resolved */
		{ "localhost", NP_PORT_NONE, names },
		{ "gw.example", NP_PORT_NONE, names },
		{ "gw.example:80", NP_PORT_REQUIRED, names },
		{ "300.1.1.1", NP_PORT_NONE, names },
		{ "1.2.3", NP_PORT_NONE, names },
		{ "1.2.3.4.5", NP_PORT_NONE, names },
		{ " 1.2.3.4", NP_PORT_NONE, names },
		{ "1.2.3.4 ", NP_PORT_NONE, names },
		{ ":::1", NP_PORT_NONE, names },
		{ "fe80::1%eth0", NP_PORT_NONE, names },
		{ "[gw.example]:80", NP_PORT_REQUIRED, names },
		{ "", NP_PORT_NONE, "empty address" },
		{ ":80", NP_PORT_REQUIRED, "empty address" },
		{ "[]:80", NP_PORT_REQUIRED, "empty address" },
		{ "[127.0.0.1]:80", NP_PORT_REQUIRED,
		    "brackets are only for IPv6 addresses" },
		/* port rules */
		{ "1.2.3.4:80", NP_PORT_NONE, no_port },
		{ "[::1]:80", NP_PORT_NONE, no_port },
		{ "1.2.3.4", NP_PORT_REQUIRED, port_needed },
		{ "::1", NP_PORT_REQUIRED, port_needed },
		{ "[::1]", NP_PORT_REQUIRED, port_needed },
		{ "1.2.3.4:0", NP_PORT_REQUIRED, port_range },
		{ "1.2.3.4:65536", NP_PORT_REQUIRED, port_range },
		{ "1.2.3.4:70000", 22, port_range },
		{ "1.2.3.4:", NP_PORT_REQUIRED, port_range },
		{ "1.2.3.4:-1", NP_PORT_REQUIRED, port_range },
		{ "1.2.3.4:+80", NP_PORT_REQUIRED, port_range },
		{ "1.2.3.4: 80", NP_PORT_REQUIRED, port_range },
		{ "1.2.3.4:99999999999999999999", NP_PORT_REQUIRED,
		    port_range },
		/* trailing garbage */
		{ "1.2.3.4:80x", NP_PORT_REQUIRED, port_range },
		{ "1.2.3.4:80 ", NP_PORT_REQUIRED, port_range },
		{ "[::1]:80x", NP_PORT_REQUIRED, port_range },
		{ "[::1]x", NP_PORT_NONE, "expected ':PORT' after ']'" },
		{ "[::1]x", NP_PORT_REQUIRED, "expected ':PORT' after ']'" },
		{ "[::1]]", NP_PORT_NONE, "expected ':PORT' after ']'" },
		{ "[::1", NP_PORT_NONE, "missing ']' after IPv6 address" },
		{ "[::1:80", NP_PORT_REQUIRED,
		    "missing ']' after IPv6 address" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa",
		    NP_PORT_NONE, "expected an IPv4 or IPv6 address literal" },
		{ "1:2:3:4:5:6:7:8:9", NP_PORT_NONE, names },
	};
	struct np_addr	 a;
	const char	*why;
	size_t		 i;

	(void)state;
	for (i = 0; i < NP_NELEM(bad); i++) {
		why = NULL;
		if (parse_addr(bad[i].s, bad[i].want, &a, &why) != -1)
			fail_msg("\"%s\" (want %d) accepted", bad[i].s,
			    bad[i].want);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
	}
}

/* format_addr truncates safely into a short buffer. */
static void
test_addr_format_short(void **state)
{
	struct np_addr	 a;
	const char	*why;
	char		 buf[8];

	(void)state;
	assert_int_equal(parse_addr("[2001:db8::1]:443", NP_PORT_REQUIRED,
	    &a, &why), 0);
	memset(buf, 'X', sizeof(buf));
	format_addr(&a, 1, buf, 6);
	assert_string_equal(buf, "[2001");
	assert_int_equal(buf[6], 'X');
}

/* ---- label names --------------------------------------------------- */

static void
test_label_names(void **state)
{
	static const char *const good[] = {
		"a", "A", "_", "_a", "a_", "a__b", "zone", "Zone2", "a1b2",
		"snake_case_name", "_1",
	};
	static const char *const bad[] = {
		"", "1abc", "9", "__", "__x", "__name__", "a-b", "a.b", "a b",
		"a:b", "-a", "é", "aé",
	};
	size_t	i;

	(void)state;
	for (i = 0; i < NP_NELEM(good); i++)
		if (!valid_label_name(good[i]))
			fail_msg("\"%s\" rejected", good[i]);
	for (i = 0; i < NP_NELEM(bad); i++)
		if (valid_label_name(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
}

/* ---- format_double ------------------------------------------------- */

static void
test_format_double(void **state)
{
	static const struct {
		double		 v;
		const char	*s;
	} fmt[] = {
		{ 0.0, "0" },
		{ -0.0, "0" },
		{ 1.0, "1" },
		{ -2.0, "-2" },
		{ 0.5, "0.5" },
		{ -0.25, "-0.25" },
		{ 0.1, "0.1" },
		{ 1e-05, "1e-05" },
		{ 0.000123, "0.000123" },
		{ 2.5e-10, "2.5e-10" },
		{ 123456789.0, "123456789" },
		{ 1e14, "100000000000000" },
		{ 1e15, "1e+15" },
		{ 1e300, "1e+300" },
		{ 4294967296.0, "4294967296" },
		{ 0.30000000000000004, "0.30000000000000004" },
	};
	static const double trip[] = {
		0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, M_PI, -M_E, 1e-300,
		5e-324, 1.7976931348623157e308, 123456789.123456789,
		0.0012345678901234567, 9007199254740993.0,
	};
	char	buf[64];
	double	back;
	size_t	i;

	(void)state;
	for (i = 0; i < NP_NELEM(fmt); i++) {
		format_double(fmt[i].v, buf, sizeof(buf));
		assert_string_equal(buf, fmt[i].s);
	}
	format_double(INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "+Inf");
	format_double(-INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "-Inf");
	format_double(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "NaN");

	/* 0.1 + 0.2 needs all 17 significant digits */
	format_double(0.1 + 0.2, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 19);
	assert_true(strtod(buf, NULL) == 0.1 + 0.2);

	/* everything reads back exactly, in at most 17 digits */
	for (i = 0; i < NP_NELEM(trip); i++) {
		format_double(trip[i], buf, sizeof(buf));
		back = strtod(buf, NULL);
		if (back != trip[i])
			fail_msg("%.17g formatted as \"%s\" reads back as "
			    "%.17g", trip[i], buf, back);
		assert_true(strlen(buf) <= 24);
	}
}

/* strindex: the first index of each string, across many growths. */
static void
test_strindex(void **state)
{
	struct strindex	 si;
	char		 (*names)[16];
	size_t		 i, n = 5000;

	(void)state;
	memset(&si, 0, sizeof(si));
	names = calloc(2 * n, sizeof(*names));
	assert_non_null(names);
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		assert_int_equal(strindex_add(&si, names[i], i), -1);
	}
	assert_int_equal(si.n, n);
	/* equal strings at other addresses: found, with the first index */
	for (i = 0; i < n; i++) {
		snprintf(names[n + i], sizeof(names[n + i]), "p%zu", i);
		assert_int_equal(strindex_add(&si, names[n + i], n + i),
		    (long)i);
	}
	assert_int_equal(si.n, n);
	assert_int_equal(strindex_add(&si, "", 7), -1);
	assert_int_equal(strindex_add(&si, "", 8), 7);
	strindex_free(&si);
	assert_int_equal(strindex_add(&si, "p1", 3), -1);	/* reusable */
	strindex_free(&si);
	free(names);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_valid),
		cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_addr_valid),
		cmocka_unit_test(test_addr_invalid),
		cmocka_unit_test(test_addr_format_short),
		cmocka_unit_test(test_label_names),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_strindex),
	};

	return (cmocka_run_group_tests_name("util", tests, NULL, NULL));
}
