/*
 * Series store and Prometheus text exposition, against golden text.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "daemon/netprobed.h"
#include "probes/probe.h"

static char *
render(struct store *st)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 len;
	char		*s;

	store_render(st, b);
	len = evbuffer_get_length(b);
	s = xmalloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	return (s);
}

static void
test_golden(void **state)
{
	static const double	 bounds[] = { 0.1, 1 };
	struct store		*st = store_new();
	struct family		*c, *g, *h;
	char			 k1[] = "probe", v1[] = "gw", k2[] = "target",
				 v2[] = "10.0.0.1";
	struct np_label		 lv[] = { { k1, v1 }, { k2, v2 } };
	struct np_labels	 l = { lv, 2 };
	struct series		*s1, *s2, *hs;
	char			*out;

	c = store_family(st, "x_runs_total", "Runs.", METRIC_COUNTER, NULL,
	    0);
	g = store_family(st, "x_up", "Up or \\ down.\nSecond line.",
	    METRIC_GAUGE, NULL, 0);
	h = store_family(st, "x_seconds", "Latency.", METRIC_HISTOGRAM,
	    bounds, 2);
	s1 = store_series(st, c, &l, "result", "success", NULL);
	s2 = store_series(st, c, &l, "result", "timeout", NULL);
	series_add(s1, 3);
	assert_ptr_equal(store_series(st, c, &l, "result", "success", NULL),
	    s1);
	/* a gauge never set is not exported; an escaped value is */
	store_series(st, g, &l, NULL);
	series_set(store_series(st, g, NULL, "name", "a\"b\\c\nd", NULL), 0.5);
	hs = store_series(st, h, NULL, NULL);
	series_observe(hs, 0.05);
	series_observe(hs, 0.5);
	series_observe(hs, 7);
	series_observe(hs, NAN);	/* ignored */
	(void)s2;

	out = render(st);
	assert_string_equal(out,
	    "# HELP x_runs_total Runs.\n"
	    "# TYPE x_runs_total counter\n"
	    "x_runs_total{probe=\"gw\",target=\"10.0.0.1\",result=\"success\"} 3\n"
	    "x_runs_total{probe=\"gw\",target=\"10.0.0.1\",result=\"timeout\"} 0\n"
	    "# HELP x_up Up or \\\\ down.\\nSecond line.\n"
	    "# TYPE x_up gauge\n"
	    "x_up{name=\"a\\\"b\\\\c\\nd\"} 0.5\n"
	    "# HELP x_seconds Latency.\n"
	    "# TYPE x_seconds histogram\n"
	    "x_seconds_bucket{le=\"0.1\"} 1\n"
	    "x_seconds_bucket{le=\"1\"} 2\n"
	    "x_seconds_bucket{le=\"+Inf\"} 3\n"
	    "x_seconds_sum 7.55\n"
	    "x_seconds_count 3\n");
	free(out);
	assert_int_equal(store_nseries(st), 5);
	store_free(st);
}

static void
test_release_and_unset(void **state)
{
	struct store	*st = store_new();
	struct family	*g = store_family(st, "y", "Y.", METRIC_GAUGE, NULL, 0);
	struct series	*a, *b, *c;
	char		*out;

	a = store_series(st, g, NULL, "k", "a", NULL);
	b = store_series(st, g, NULL, "k", "b", NULL);
	c = store_series(st, g, NULL, "k", "c", NULL);
	series_set(a, 1);
	series_set(b, 2);
	series_set(c, 3);
	store_release(st, b);
	series_unset(c);
	out = render(st);
	assert_string_equal(out, "# HELP y Y.\n# TYPE y gauge\ny{k=\"a\"} 1\n");
	free(out);
	/* a released series can be made again, fresh */
	b = store_series(st, g, NULL, "k", "b", NULL);
	assert_false(series_value(b) != 0);
	store_release(st, a);
	store_release(st, b);
	store_release(st, c);
	assert_int_equal(store_nseries(st), 0);
	out = render(st);
	assert_string_equal(out, "");	/* no samples, no HELP either */
	free(out);
	/* registering again returns the same family */
	assert_ptr_equal(store_family(st, "y", "", METRIC_GAUGE, NULL, 0), g);
	store_free(st);
}

static void
test_many_series(void **state)
{
	struct store	*st = store_new();
	struct family	*c = store_family(st, "z_total", "Z.", METRIC_COUNTER,
			    NULL, 0);
	struct series	*s[5000];
	char		 v[16];
	int		 i;

	for (i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		s[i] = store_series(st, c, NULL, "i", v, NULL);
		series_add(s[i], i);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		assert_ptr_equal(store_series(st, c, NULL, "i", v, NULL),
		    s[i]);
	}
	for (i = 0; i < 5000; i += 2)
		store_release(st, s[i]);
	assert_int_equal(store_nseries(st), 2500);
	assert_true(series_value(s[4999]) == 4999);
	store_free(st);
}

/* The text format_double() gave before its decimal-grid path. */
static void
format_ref(double v, char *buf, size_t len)
{
	if (format_nonfinite(v, buf, len))
		return;
	if (fabs(v) < 1e15 && v == (double)(int64_t)v)
		snprintf(buf, len, "%lld", (long long)v);
	else
		format_double_exact(v, buf, len);
}

/*
 * format_double() writes what the printf and strtod round trip wrote,
 * for values on the nanosecond grid (its own path) and off it, and every
 * text reads back as the value.
 */
static void
test_format_double(void **state)
{
	static const double	 fixed[] = { 1e-9, -1e-9, 1e-5, 1e-4, 0.0001234,
	    0.001, 0.002, 5.5754e-05, 0.000140181, 0.5, -0.25, 12.345678901,
	    999999.999999999, 1e6 - 1e-9, 1e6 + 0.5, 123456.000000001,
	    1795946369.5769625, 0.1, 0.3, 1.0 / 3, 2.5e-10, 1e-300, 7.55,
	    -1e-5, 8.9e15, 1e16 + 2, 4503599627370495.5, 1795946369.576962,
	    1795946369.5, 2147483647.000001, 2147483648.000001, 1e6 + 1e-6,
	    -1795946369.25 };
	char			 a[64], b[64];
	uint64_t		 x = 88172645463325252ULL, bits;
	double			 v;
	size_t			 i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		format_double(fixed[i], a, sizeof(a));
		format_ref(fixed[i], b, sizeof(b));
		assert_string_equal(a, b);
		assert_true(strtod(a, NULL) == fixed[i]);
	}
	for (i = 0; i < 300000; i++) {
		x ^= x << 13;		/* xorshift64: the same values each run */
		x ^= x >> 7;
		x ^= x << 17;
		switch (i % 4) {
		case 0:		/* nanoseconds, 1 ns to 11 days */
			v = (double)(x % 1000000000000000ULL >> (x % 50)) /
			    1e9;
			break;
		case 1:		/* a mean or a sum: off the grid */
			v = (double)(x % 100000000000ULL) / 7e9;
			break;
		case 2:		/* a timestamp to the microsecond */
			v = (double)(1700000000000000ULL + x %
			    500000000000000ULL) / 1e6;
			break;
		default:	/* any finite double */
			bits = x;
			memcpy(&v, &bits, sizeof(v));
			if (!isfinite(v))
				continue;
		}
		if (x & 1024)
			v = -v;
		format_double(v, a, sizeof(a));
		format_ref(v, b, sizeof(b));
		if (strcmp(a, b) != 0)
			fail_msg("%.17g: \"%s\", want \"%s\"", v, a, b);
		if (strtod(a, NULL) != v)
			fail_msg("%.17g: \"%s\" reads back as %.17g", v, a,
			    strtod(a, NULL));
	}
}

/*
 * Lines longer than the render's buffer, and series with more lines than
 * it holds, come out as short ones do.
 */
static void
test_long_lines(void **state)
{
	double		 bounds[300];
	struct store	*st = store_new();
	struct family	*g, *h;
	struct series	*hs;
	char		 v[10001], *out, *want, le[32];
	size_t		 i, cap = 64 * 1024, n = 0;

	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	for (i = 0; i < 300; i++)
		bounds[i] = (double)(i + 1) / 4;
	g = store_family(st, "long_g", "G.", METRIC_GAUGE, NULL, 0);
	h = store_family(st, "long_h", "H.", METRIC_HISTOGRAM, bounds, 300);
	series_set(store_series(st, g, NULL, "v", v, NULL), 0.25);
	hs = store_series(st, h, NULL, "k", "x", NULL);
	for (i = 0; i < 300; i++)
		series_observe(hs, bounds[i]);
	series_observe(hs, 1000);

	want = malloc(cap);
	assert_non_null(want);
	n += (size_t)snprintf(want + n, cap - n,
	    "# HELP long_g G.\n# TYPE long_g gauge\nlong_g{v=\"%s\"} 0.25\n"
	    "# HELP long_h H.\n# TYPE long_h histogram\n", v);
	for (i = 0; i < 300; i++) {
		format_double(bounds[i], le, sizeof(le));
		n += (size_t)snprintf(want + n, cap - n,
		    "long_h_bucket{k=\"x\",le=\"%s\"} %zu\n", le, i + 1);
	}
	n += (size_t)snprintf(want + n, cap - n,
	    "long_h_bucket{k=\"x\",le=\"+Inf\"} 301\n"
	    "long_h_sum{k=\"x\"} 12287.5\nlong_h_count{k=\"x\"} 301\n");
	assert_true(n < cap);
	out = render(st);
	/* (the sum: 0.25 * (1 + ... + 300) + 1000) */
	assert_string_equal(out, want);
	free(out);
	free(want);
	store_free(st);
}

/*
 * Series of one label text in several families (a target's): each family
 * finds its own, through releases in any order.
 */
static void
test_shared_labels(void **state)
{
	struct store	*st = store_new();
	struct family	*f[5];
	struct series	*x[5], *y[5];
	char		 name[8];
	int		 i;

	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		f[i] = store_family(st, name, "F.", METRIC_GAUGE, NULL, 0);
		x[i] = store_series(st, f[i], NULL, "k", "x", NULL);
		y[i] = store_series(st, f[i], NULL, "k", "y", NULL);
		series_set(x[i], i);
		series_set(y[i], 10 + i);
	}
	assert_int_equal(store_nseries(st), 10);
	for (i = 0; i < 5; i++) {
		assert_ptr_equal(store_series(st, f[i], NULL, "k", "x", NULL),
		    x[i]);
		assert_ptr_equal(store_series(st, f[i], NULL, "k", "y", NULL),
		    y[i]);
	}
	assert_int_equal(store_nseries(st), 10);	/* found, not made */
	store_release(st, x[2]);	/* the middle of the text's list */
	store_release(st, x[4]);	/* its head (the last made) */
	store_release(st, x[0]);	/* its tail */
	assert_int_equal(store_nseries(st), 7);
	assert_ptr_equal(store_series(st, f[1], NULL, "k", "x", NULL), x[1]);
	assert_ptr_equal(store_series(st, f[3], NULL, "k", "x", NULL), x[3]);
	x[2] = store_series(st, f[2], NULL, "k", "x", NULL);
	assert_false(series_value(x[2]) != 0);		/* made afresh */
	assert_true(series_value(x[3]) == 3);
	for (i = 0; i < 5; i++)
		assert_true(series_value(y[i]) == 10 + i);
	assert_int_equal(store_nseries(st), 8);
	store_free(st);
}

/* The per-target series a probe result lands in. */
static void
test_target_state_record(void **state)
{
	static const char	 yaml[] =
	    "probes:\n"
	    "  - name: gw\n"
	    "    type: tcp\n"
	    "    targets: [\"127.0.0.1:22\"]\n"
	    "    labels: {zone: extranet}\n";
	struct cfg_errors	 errs;
	struct np_config	*conf;
	struct store		*st = store_new();
	struct target_state	*ts;
	struct probe_run	 run;
	struct probe_obs	*obs = &run.obs;
	char			*out;

	conf = config_load_string("t.yaml", yaml, sizeof(yaml) - 1, &errs);
	assert_non_null(conf);
	ts = target_state_new(st, &conf->probes[0], 0);
	out = render(st);
	/* before any run: counters and histogram at zero, no gauges */
	assert_null(strstr(out, "probe_success"));
	assert_non_null(strstr(out, "netprobe_probe_duration_seconds_count{"
	    "probe=\"gw\",type=\"tcp\",target=\"127.0.0.1:22\","
	    "zone=\"extranet\"} 0\n"));
	free(out);

	memset(&run, 0, sizeof(run));
	obs->result = PR_REFUSED;
	obs->duration = 0.25;
	run.lag = 0.003;
	target_state_record(ts, &run);
	target_state_record(ts, &run);
	obs->result = PR_SUCCESS;
	target_state_record(ts, &run);
	out = render(st);
	assert_non_null(strstr(out, "probe_success{probe=\"gw\",type=\"tcp\","
	    "target=\"127.0.0.1:22\",zone=\"extranet\"} 1\n"));
	assert_non_null(strstr(out, "probe_duration_seconds{probe=\"gw\","
	    "type=\"tcp\",target=\"127.0.0.1:22\",zone=\"extranet\"} 0.25\n"));
	assert_non_null(strstr(out, "netprobe_probe_runs_total{probe=\"gw\","
	    "type=\"tcp\",target=\"127.0.0.1:22\",zone=\"extranet\","
	    "result=\"refused\"} 2\n"));
	assert_non_null(strstr(out, "result=\"success\"} 1\n"));
	assert_non_null(strstr(out, "netprobe_probe_schedule_lag_seconds{"
	    "probe=\"gw\",type=\"tcp\",target=\"127.0.0.1:22\","
	    "zone=\"extranet\"} 0.003\n"));
	assert_non_null(strstr(out,
	    "netprobe_probe_last_run_timestamp_seconds{probe=\"gw\""));
	free(out);
	target_state_free(ts);
	assert_int_equal(store_nseries(st), 0);
	store_free(st);
	config_free(conf);
}

/*
 * /metrics in pieces: the same text as whole; a series released while a
 * render is in progress (ahead of it or behind) is not shown after, and
 * is freed only at the end (ASan and valgrind would see a use after
 * free); one created meanwhile ahead of the render is shown.
 */
static void
test_render_pieces(void **state)
{
	struct store		*st = store_new();
	struct store_cursor	*c;
	struct family		*a, *z;
	struct series		*sa[50], *sz[50], *late;
	struct evbuffer		*b;
	char			 v[16], *whole, *text;
	size_t			 i, len, pieces = 0;

	(void)state;
	a = store_family(st, "a_total", "A.", METRIC_COUNTER, NULL, 0);
	z = store_family(st, "z_up", "Z.", METRIC_GAUGE, NULL, 0);
	for (i = 0; i < 50; i++) {
		snprintf(v, sizeof(v), "t%02zu", i);
		sa[i] = store_series(st, a, NULL, "target", v, NULL);
		sz[i] = store_series(st, z, NULL, "target", v, NULL);
		series_add(sa[i], (double)i);
		series_set(sz[i], 1);
	}
	whole = render(st);

	/* in pieces of ~100 bytes: the same text */
	b = evbuffer_new();
	c = store_render_begin(st);
	while (store_render_some(c, b, 100))
		pieces++;
	store_render_end(c);
	assert_true(pieces > 10);
	len = evbuffer_get_length(b);
	text = xmalloc(len + 1);
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	assert_string_equal(text, whole);
	free(text);

	/* release behind and ahead of a render in progress */
	c = store_render_begin(st);
	assert_int_equal(store_render_some(c, b, 100), 1);
	store_release(st, sa[0]);		/* written already */
	store_release(st, sz[10]);		/* ahead */
	assert_int_equal(store_nseries(st), 98);
	late = store_series(st, z, NULL, "target", "late", NULL);
	series_set(late, 2);
	while (store_render_some(c, b, 100))
		;
	store_render_end(c);
	len = evbuffer_get_length(b);
	text = xmalloc(len + 1);
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	assert_non_null(strstr(text, "a_total{target=\"t00\"} 0\n"));
	assert_null(strstr(text, "z_up{target=\"t10\"}"));
	assert_non_null(strstr(text, "z_up{target=\"t11\"} 1\n"));
	assert_non_null(strstr(text, "z_up{target=\"late\"} 2\n"));
	free(text);
	/* and after the render, neither is there any more */
	text = render(st);
	assert_null(strstr(text, "a_total{target=\"t00\"}"));
	assert_null(strstr(text, "z_up{target=\"t10\"}"));
	free(text);
	/* with no render in progress, a release frees at once */
	store_release(st, sa[1]);
	text = render(st);
	assert_null(strstr(text, "a_total{target=\"t01\"}"));
	free(text);
	free(whole);
	evbuffer_free(b);
	store_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_release_and_unset),
		cmocka_unit_test(test_many_series),
		cmocka_unit_test(test_shared_labels),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_render_pieces),
		cmocka_unit_test(test_target_state_record),
	};

	return (cmocka_run_group_tests_name("store", tests, NULL, NULL));
}
