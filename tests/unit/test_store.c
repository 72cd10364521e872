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
		cmocka_unit_test(test_render_pieces),
		cmocka_unit_test(test_target_state_record),
	};

	return (cmocka_run_group_tests_name("store", tests, NULL, NULL));
}
