/*
 * Scheduler: phase spreading, next-start arithmetic, reload keeping
 * target states; and the probe run contract (deadline owned by the core,
 * finish() exactly once, done exactly once).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "daemon/daemon.h"

static void
test_phase_spread(void **state)
{
	static uint8_t	seen[10000];
	size_t		i;
	uint64_t	p;

	/* 10,000 targets on 10s: one per millisecond, none together */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 10000; i++) {
		p = sched_phase(i, 10000, 10000);
		assert_true(p < 10000);
		assert_int_equal(seen[p], 0);
		seen[p] = 1;
	}
	/* 3 on 10s: 0, 3333, 6666 */
	assert_int_equal(sched_phase(0, 3, 10000), 0);
	assert_int_equal(sched_phase(1, 3, 10000), 3333);
	assert_int_equal(sched_phase(2, 3, 10000), 6666);
	/* more targets than milliseconds: still within the interval */
	assert_true(sched_phase(99999, 100000, 1000) < 1000);
	assert_int_equal(sched_phase(0, 0, 1000), 0);
	/* deterministic */
	assert_int_equal(sched_phase(7, 13, 5000), sched_phase(7, 13, 5000));
}

static void
test_next(void **state)
{
	/* first run: the first slot with next % interval == phase, after now */
	assert_int_equal(sched_next(100000, 0, 300, 1000), 100300);
	assert_int_equal(sched_next(100300, 0, 300, 1000), 101300);
	assert_int_equal(sched_next(100301, 0, 300, 1000), 101300);
	assert_int_equal(sched_next(100299, 0, 300, 1000), 100300);
	/* then the nominal rhythm, whatever the timer's small lateness */
	assert_int_equal(sched_next(100305, 100300, 300, 1000), 101300);
	/* a stalled loop skips missed slots instead of bursting */
	assert_int_equal(sched_next(105550, 100300, 300, 1000), 106300);
}

static struct np_config *
load(const char *yaml)
{
	struct cfg_errors	 errs;
	struct np_config	*c;

	c = config_load_string("t.yaml", yaml, strlen(yaml), &errs);
	if (c == NULL)
		fail_msg("config: %s", errs.msg[0]);
	return (c);
}

static void
test_reload_keeps_state(void **state)
{
	struct np_daemon	 d;
	struct target_state	*kept;
	struct series		*sent;
	struct probe_run	 run;
	struct np_config	*a, *b;

	memset(&d, 0, sizeof(d));
	d.base = event_base_new();
	d.store = store_new();
	a = load("probes:\n"
	    "  - {name: gw, type: icmp, targets: [127.0.0.1, 127.0.0.2]}\n"
	    "  - {name: web, type: tcp, targets: [\"127.0.0.1:80\"], "
	    "interval: 5s}\n");
	sched_apply(&d, a);
	assert_int_equal(d.nts, 3);
	/* same interval: spread over it; web alone on its own interval */
	assert_int_equal(d.ts[0]->phase_ms, 0);
	assert_int_equal(d.ts[1]->phase_ms, 5000);
	assert_int_equal(d.ts[2]->phase_ms, 0);
	kept = d.ts[1];
	sent = kept->extra[0];	/* icmp packets sent */
	series_add(sent, 6);
	memset(&run, 0, sizeof(run));
	target_state_record(kept, &run);
	target_state_record(kept, &run);

	/* gw/127.0.0.2 unchanged (interval may change), web dropped */
	b = load("probes:\n"
	    "  - {name: gw, type: icmp, targets: [127.0.0.2], interval: 20s}\n"
	    "  - {name: new, type: tcp, targets: [\"127.0.0.1:81\"]}\n");
	sched_apply(&d, b);
	config_free(a);
	assert_int_equal(d.nts, 2);
	assert_ptr_equal(d.ts[0], kept);
	assert_ptr_equal(d.ts[0]->cfg, &b->probes[0]);
	/* attached again for the new options: same series, kept counts */
	assert_ptr_equal(kept->extra[0], sent);
	assert_true(series_value(sent) == 6);
	assert_true(series_value(kept->runs[PR_SUCCESS]) == 2);
	assert_int_equal(series_count(kept->hist), 2);
	assert_ptr_not_equal(d.ts[1], kept);

	sched_stop(&d);
	config_free(b);
	assert_int_equal(store_nseries(d.store), 0);
	store_free(d.store);
	event_base_free(d.base);
}

/* ---- the run contract, with fake probe types ------------------------ */

static int	finishes, dones, timed_out_seen;

static void
fake_start_never(struct probe_run *run)
{
}

static void
fake_start_now(struct probe_run *run)
{
	probe_done(run, PR_REFUSED);
}

static void
fake_finish(struct probe_run *run, int timed_out)
{
	finishes++;
	timed_out_seen = timed_out;
}

static void
fake_done(struct probe_run *run, void *arg)
{
	dones++;
	event_base_loopbreak(arg);
}

static void
run_fake(void (*start)(struct probe_run *), enum probe_result want,
    int want_timed_out)
{
	struct probe_type	 t = { .name = "fake", .state_size = 8,
				    .start = start, .finish = fake_finish };
	struct np_addr		 addr;
	char			 tgt[] = "127.0.0.1";
	char			*targets[] = { tgt };
	struct probe_cfg	 cfg = { .name = tgt, .type = &t,
				    .targets = targets, .addrs = &addr,
				    .ntargets = 1, .interval_ms = 1000,
				    .timeout_ms = 30 };
	struct event_base	*base = event_base_new();
	struct probe_run	*run = xcalloc(1, sizeof(*run));

	finishes = dones = timed_out_seen = 0;
	probe_run_start(run, base, &cfg, 0, fake_done, base);
	if (dones == 0)
		event_base_dispatch(base);
	assert_int_equal(dones, 1);
	assert_int_equal(finishes, 1);
	assert_int_equal(timed_out_seen, want_timed_out);
	assert_int_equal(run->obs.result, want);
	assert_false(run->active);
	if (want_timed_out)
		assert_true(run->obs.duration >= 0.029);
	probe_run_free(run);
	assert_int_equal(finishes, 1);	/* not again at free */
	event_base_free(base);
}

static void
test_run_deadline(void **state)
{
	run_fake(fake_start_never, PR_TIMEOUT, 1);
}

static void
test_run_immediate(void **state)
{
	run_fake(fake_start_now, PR_REFUSED, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_spread),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_reload_keeps_state),
		cmocka_unit_test(test_run_deadline),
		cmocka_unit_test(test_run_immediate),
	};

	return (cmocka_run_group_tests_name("sched", tests, NULL, NULL));
}
