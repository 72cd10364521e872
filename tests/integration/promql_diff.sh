#!/usr/bin/env bash
#
# Differential test of the rule expression language (rules/expr.h, a
# subset of PromQL) against a real Prometheus 2.42: the input series of
# tests/rules/diff_series.txt are remote-written into a fresh Prometheus
# (timestamps from 0, staleness markers included), every expression of
# tests/rules/diff_cases.txt is asked at every eval time through
# /api/v1/query, and the answers become promtool-format rule tests that
# `netprobed --test-rules` must pass: one TAP line per expression.  Where
# Prometheus answers an error, netprobed must give an error too (at load
# for a parse error, at evaluation otherwise).  promtool checks the
# generated tests first, so a generator or timestamp bug cannot pass as a
# netprobed bug.  The helper is tests/peers/promql_diff.py.
#
# Traffic: 127.0.0.1 only.  Port: 19570 (prometheus).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

T=$TAP_TMPDIR
PROM_PORT=19570
PROM_URL=http://127.0.0.1:$PROM_PORT
HELPER=$top_srcdir/tests/peers/promql_diff.py
SERIES=$top_srcdir/tests/rules/diff_series.txt
CASES=$top_srcdir/tests/rules/diff_cases.txt

command -v prometheus >/dev/null 2>&1 || skip_all "prometheus is not installed"
command -v promtool >/dev/null 2>&1 || skip_all "promtool is not installed"
[ -n "$PYTHON3" ] || skip_all "no python3"
[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"

helper() { "$PYTHON3" "$HELPER" "$@"; }

# ---- Prometheus' answers --------------------------------------------------

printf 'global: {}\n' >"$T/prometheus.yml"   # no scrapes, no rules: the data is ours
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address=127.0.0.1:$PROM_PORT --web.enable-remote-write-receiver \
    >"$T/prometheus.log" 2>&1 &
PROM_PID=$!
register_pid "$PROM_PID"
prom_ready() { curl -sf --max-time 1 "$PROM_URL/-/ready"; }
wait_for 20 prom_ready ||
    { diag_file "$T/prometheus.log"; bail_out "prometheus did not get ready on $PROM_URL"; }
pass "prometheus is ready on $PROM_URL"

out=$(helper push "$PROM_URL" "$SERIES" 2>&1)
ok $? "the input series are remote-written" || { diag "$out"; bail_out "remote write failed"; }
diag "$out"

mkdir -p "$T/gen"
out=$(timeout 60 "$PYTHON3" "$HELPER" query "$PROM_URL" "$SERIES" "$CASES" "$T/gen" 2>&1)
ok $? "Prometheus answers every expression" || { diag "$out"; bail_out "no answers"; }
diag "$out"

stop_pid "$PROM_PID"
is "$STOP_KILLED" 0 "prometheus stops on SIGTERM"

# ---- the generated tests hold for promtool itself -----------------------------

timeout 60 promtool test rules "$T/gen/promtool.yml" >"$T/promtool.out" 2>&1
pt_rc=$?
out=$(helper promtool-check "$T/promtool.out" 2>&1)
ok $? "promtool test rules passes the generated tests (but for rounding)" ||
    diag "$out"
diag "promtool exit $pt_rc: $(head -n 1 <<<"$out") (its engine sums in another order)"

# ---- netprobed --test-rules -------------------------------------------------------

if ! "$NETPROBED" --help 2>&1 | grep -q -- '--test-rules'; then
	skip "this netprobed has no --test-rules" "netprobed agrees with Prometheus"
	done_testing
fi

# run NAME FILE...: --test-rules, bounded; RC, and NAME.out / NAME.err
run()
{
	local name=$1

	shift
	timeout -k 5 60 "$NETPROBED" --test-rules "$@" \
	    >"$T/$name.out" 2>"$T/$name.err" </dev/null
	RC=$?
}

# the exit status its output calls for: 2 a file not loaded, 1 a failure
want_rc()
{
	if grep -Eq '^[^ ]+\.yml:[0-9]+:[0-9]+: ' "$T/$1.err"; then
		echo 2
	elif grep -q ': FAIL$' "$T/$1.out"; then
		echo 1
	else
		echo 0
	fi
}

# the expressions Prometheus answered every time: all must pass
run ok "$T"/gen/np/ok/*.yml
is "$RC" "$(want_rc ok)" "--test-rules' exit status matches its output"
like "$(tail -n 1 "$T/ok.out")" '^[0-9]+ tests, [0-9]+ passed, [0-9]+ failed' \
    "--test-rules ends with its summary line" || diag_file "$T/ok.err"
# the others: errors expected (a load error or a failing test is normal)
run err "$T"/gen/np/err/*.yml
is "$RC" "$(want_rc err)" "--test-rules' exit status matches its output (errors)"
cat "$T/ok.out" "$T/err.out" >"$T/all.out"
cat "$T/ok.err" "$T/err.err" >"$T/all.err"

# one TAP line per expression (every case gets one, found or not)
helper judge "$T/gen" "$T/all.out" "$T/all.err" >"$T/judge" 2>"$T/judge.err"
ok $? "the judge reads what --test-rules printed" || diag_file "$T/judge.err"
while IFS=$'\t' read -r kind a b c; do
	case $kind in
	R) TODO=$c; ok "$a" "$b"; TODO= ;;
	D) diag "$a" ;;
	S) diag "$a" ;;
	esac
done <"$T/judge"

# ---- the comparison can fail ---------------------------------------------------

# a wrong expected value must be caught by the runner and by the judge
mkdir -p "$T/canary"
sed '0,/^\( *value: \).*$/s//\112345.5/' "$T/gen/np/ok/c001.yml" >"$T/canary/c001.yml"
run canary "$T/canary/c001.yml"
is "$RC" 1 "a wrong expectation makes --test-rules exit 1"
like "$(cat "$T/canary.out")" '^.*c001\.yml: c001: FAIL$' "and report FAIL for it"
like "$(cat "$T/canary.out")" 'expected \[.*12345\.5.*\], got \[' \
    "with both sides in the detail"
helper judge "$T/gen" "$T/canary.out" "$T/canary.err" >"$T/canary.judge"
like "$(cat "$T/canary.judge")" $'^R\t1\tc001 ' "the judge reports the difference"

done_testing
