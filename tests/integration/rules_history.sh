#!/usr/bin/env bash
#
# What the rules' history keeps, as netprobe_rule_history_series shows
# it: only the series some selector of a rule matches (not every series
# of a metric name a rule mentions), and one point per series per tick
# even when several groups tick together.
#
# Three ICMP targets in two probes; one group reads probe_success of the
# "mcu" probe (two series), another the RTT buckets of one of its targets
# (nbuckets + 1 series, and not the _sum, _count or other targets).
#
# Port: 19655 (netprobed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon

T=$TAP_TMPDIR
NP_PORT=19655
CONF=$T/netprobed.yaml
LOG=$T/netprobed.log

port_listening "$NP_PORT" &&
	bail_out "port $NP_PORT must be free for this test, but something listens there"

cat >"$CONF" <<END_CONF
site: {name: history-test}
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 500ms
  evaluation_interval: 1s
rule_files: [rules.yml]
probes:
  - {name: mcu, type: icmp, targets: [127.0.0.1, 127.0.0.2]}
  - {name: other, type: icmp, targets: [127.0.0.3]}
END_CONF
cat >"$T/rules.yml" <<'END_RULES'
groups:
  - name: success
    rules:
      - record: mcu:probe_success:max1m
        expr: max_over_time(probe_success{probe="mcu"}[1m])
      - record: mcu:probe_success:points10s
        expr: count_over_time(probe_success{probe="mcu", target="127.0.0.1"}[10s])
  - name: rtt
    rules:
      - record: mcu:rtt:p90
        expr: histogram_quantile(0.9, rate(netprobe_icmp_rtt_seconds_bucket{probe="mcu", target="127.0.0.1"}[1m]))
END_RULES

start_netprobed "$CONF" "$LOG" || bail_out "netprobed did not start"

val() { metric_value "$@"; }
has_points() { scrape && [ -n "$(val mcu:probe_success:points10s)" ]; }
wait_for 20 has_points
ok $? "the recording rules run" || diag_file "$LOG"

# 12 ticks after the first point, count_over_time over [10s] sees at
# most 11 points (closed window, one per tick); with a point per group
# per tick it would see about twice that
evals() { val netprobe_rule_group_evaluations_total "rule_group=$T/rules.yml;success"; }
e0=$(evals)
twelve_more() { scrape && [ "$(evals)" -ge $((e0 + 12)) ]; }
wait_for 30 twelve_more
ok $? "the group ticks on (evaluations $e0 -> $(evals))" ||
	diag "$(metric_lines netprobe_rule_group_evaluations_total)"
nb=$(metric_lines netprobe_icmp_rtt_seconds_bucket probe=mcu target=127.0.0.1 | wc -l)
cmp_ok "$nb" '>' 2 "the RTT histogram has buckets ($nb with +Inf)"
# read: 2 probe_success + the buckets of one target; written: the
# recording rules' own results (2 + 1 + 1), kept as their newest point
want=$((2 + nb + 4))
is "$(val netprobe_rule_history_series)" "$want" \
    "the history keeps the selected series only: 2 + $nb read, 4 recorded" ||
	diag "$(metric_lines netprobe_rule_history_series)"
all=$(($(metric_lines probe_success | wc -l) + \
    $(metric_lines netprobe_icmp_rtt_seconds_bucket | wc -l) + \
    $(metric_lines netprobe_icmp_rtt_seconds_sum | wc -l) + \
    $(metric_lines netprobe_icmp_rtt_seconds_count | wc -l)))
cmp_ok "$all" '>' "$((want + 4))" \
    "  (of the $all series of those names /metrics has)"

n=$(val mcu:probe_success:points10s)
cmp_ok "$n" '<=' 11 "one point per tick for two groups ticking together ($n in 10 s)"
cmp_ok "$n" '>=' 5 "  and a point at (nearly) every tick"
is "$(val netprobe_rule_evaluation_failures_total "rule_group=$T/rules.yml;rtt")" 0 \
    "no evaluation failed" || diag "$(metric_lines netprobe_rule_evaluation_failures_total)"
is "$(val mcu:probe_success:max1m target=127.0.0.2)" 1 \
    "the selected series are read: max_over_time of 127.0.0.2's success is 1"

stop_pid "$NETPROBED_PID"
done_testing
