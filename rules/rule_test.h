/*
 * `netprobed --test-rules FILE...`: rule unit tests in the file format of
 * `promtool test rules` (Prometheus 2.42, docs/configuration/
 * unit_testing_rules.md), run by the same code that evaluates rules on
 * the gateway (rules/group.h over rules/tsdb.h).
 *
 * Per test group (an entry of `tests:`): the input series go into a fresh
 * history at t = i * interval (interval defaults to evaluation_interval,
 * which defaults to 1m), up to the largest eval_time of the group as
 * promtool loads them; every rule group of the rule files is evaluated at
 * 0, evaluation_interval, ... up to that eval_time (the groups named in
 * group_eval_order first, in that order, the others after them in file
 * order; a group's own interval is ignored, as in promtool); after the
 * evaluation at ts, each alert_rule_test with ts <= eval_time < ts +
 * evaluation_interval compares the FIRING alerts of its alertname over
 * every rule of that name (labels including alertname, and annotations)
 * as a set; then each promql_expr_test is evaluated at its eval_time over
 * everything the history holds (inputs, recordings, ALERTS) and compared
 * as a set of samples (a scalar is one sample without labels): labels
 * exactly, values equal or within a relative 1e-12, NaN equal to NaN.  A
 * rule that fails to evaluate ends its test group, as in promtool.
 *
 * Known differences from promtool 2.42: it loads a test without
 * `interval` with all samples at 0s (against its docs); it compares values
 * exactly and never matches an expected NaN; it only warns about a
 * rule_files entry that matches nothing, where a plain path that does not
 * exist is a load error here; what it reports as a failed test (an
 * unparsable expression or series, a missing alertname, a broken rule
 * file) is a load error here, with its position.
 */
#ifndef RULES_RULE_TEST_H
#define RULES_RULE_TEST_H

#include <stddef.h>
#include <stdio.h>

/*
 * Run the tests of each file.  On out, one line per test group:
 *	FILE: NAME: PASS
 *	FILE: NAME: FAIL
 * (FILE as given, NAME the group's `name`, else "#N" counted from 1) and,
 * under a FAIL, one indented line per difference, both sides in full:
 *	    alert NAME at 5m: expected [A, ...], got [A, ...]
 *	    expr "EXPR" at 1m: expected [S, ...], got [S, ...]
 *	    expr "EXPR" at 1m: error: MESSAGE
 *	    rule NAME at 3m: error: MESSAGE
 * where an alert A is `{labels} {annotations}` and a sample S is
 * `{labels} value` (label sets as Prometheus prints them, sorted; values
 * as in the exposition format), [] is none and EXPR is quoted as Go's %q
 * does; then a last line
 *	N tests, N passed, N failed
 * followed by "; N file(s) with errors" when some file could not be
 * loaded.
 *
 * Load errors (of the test file or of a rule file it names: YAML, unknown
 * or repeated keys, durations, the series notation, selectors,
 * expressions, a rule file that does not exist) go to err, one
 * "FILE:LINE:COL: message" a line, and that file's tests are not run;
 * so do warnings ("FILE:LINE:COL: warning: no file matches 'GLOB'").
 *
 * Returns 0 when every test passed, 1 when some test failed, 2 when some
 * file could not be loaded (whatever the other files gave).
 */
int		 rule_test_run(char *const *files, size_t nfiles, FILE *out,
		    FILE *err);

#endif /* RULES_RULE_TEST_H */
