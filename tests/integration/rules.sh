#!/usr/bin/env bash
#
# Rules in the running daemon, as an operator sees them: a rule file
# with a mistake is refused with FILE:LINE:COL (at start and on reload,
# where the old rules keep running); cutting a path (stopping the TCP
# listener a probe checks) takes an alert inactive -> pending -> firing
# on /status, in ALERTS and in the log; a reload that keeps the rule
# keeps the alert firing without re-pending; restoring the path resolves
# it; recording rules land in /metrics, which promtool accepts.
#
# Ports: 19580 (netprobed), 19581 (the TCP listener that is the "path").

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon

T=$TAP_TMPDIR
NP_PORT=19580
TCP_PORT=19581
CONF=$T/netprobed.yaml
RULES=$T/rules
LOG=$T/netprobed.log
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
mkdir -p "$RULES"

for p in "$NP_PORT" "$TCP_PORT"; do
	port_listening "$p" &&
		bail_out "port $p must be free for this test, but something listens there"
done

val() { metric_value "$@"; }
show() { diag "$(metric_lines "$@" || echo "(no $1 series)")"; }

cat >"$CONF" <<END_CONF
site:
  name: rules-test
  display_name: 金水区
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 500ms
  evaluation_interval: 1s
rule_files:
  - rules/*.yml
probes:
  - name: platform
    type: tcp
    target: 127.0.0.1:$TCP_PORT
    labels: {component: platform}
END_CONF

# write_rules SUMMARY [EXTRA_RULE_TEXT]
write_rules()
{
	cat >"$RULES/mission.yml.new" <<END_RULES
groups:
  - name: paths
    rules:
      - record: component:probe_success:min
        expr: min by (component) (probe_success)
      - alert: PathDown
        expr: component:probe_success:min == 0
        for: 3s
        labels:
          severity: critical
        annotations:
          summary: "$1"
          summary_zh: "{{ \$labels.component }} 路径中断"
${2:-}
END_RULES
	mv -f "$RULES/mission.yml.new" "$RULES/mission.yml"
}

# status PYTHON_EXPR: evaluate over s = the /status document
status()
{
	http_get "$(np_url /status)" || return 1
	"$PYTHON3" -c '
import json, sys
s = json.loads(sys.stdin.read())
print(eval(sys.argv[1]))' "$1" <<<"$HTTP_BODY"
}
alert_state() { status '",".join(a["state"] for a in s["alerts"] if a["name"] == "PathDown") or "none"'; }
state_is() { [ "$(alert_state)" = "$1" ]; }

# ---- a bad rule file is refused with its position -------------------------

write_rules "down" "      - alert: Broken
        expr: sum(probe_success) by"
out=$("$NETPROBED" -c "$CONF" --check-config 2>&1)
is "$?" 2 "--check-config exits 2 on a rule file with a bad expression"
QR=$(sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$RULES")
like "$out" "$QR/mission\\.yml:15:36: " \
    "the error points into the expression: FILE:LINE:COL" || diag "$out"

# ---- the path is up ----------------------------------------------------------

write_rules 'path to {{ $labels.component }} is down ({{ $value }})'
start_tcp_listener 127.0.0.1 "$TCP_PORT" ||
	bail_out "cannot start a TCP listener on 127.0.0.1:$TCP_PORT"
start_netprobed "$CONF" "$LOG" ||
	bail_out "netprobed did not start"

recorded() { scrape && [ "$(val component:probe_success:min component=platform)" = "$1" ]; }
wait_for 15 recorded 1
ok $? "the recording rule's result is in /metrics: component:probe_success:min{component=\"platform\"} 1" ||
	{ show component:probe_success:min; diag_file "$LOG"; }
is "$(status 's["display_name"]')" "金水区" "/status carries the display name, UTF-8 intact"
is "$(status '[(g["name"], len(g["rules"]), g["interval_seconds"]) for g in s["rule_groups"]]')" \
    "[('paths', 2, 1)]" "/status lists the group, its two rules and its interval"
is "$(status '",".join(r["health"] for r in s["rule_groups"][0]["rules"])')" "ok,ok" \
    "both rules are healthy"
is "$(alert_state)" none "no alert while the path is up"
is "$(metric_lines ALERTS)" "" "no ALERTS series while the path is up"

# ---- cut the path: pending, then firing ---------------------------------------

stop_pid "$LISTENER_PID"
wait_for 10 state_is pending
ok $? "cutting the path makes PathDown pending on /status" ||
	{ diag "state: $(alert_state)"; diag_file "$LOG"; }
scrape
is "$(val ALERTS alertname=PathDown alertstate=pending component=platform severity=critical)" 1 \
    "ALERTS{alertstate=\"pending\"} is 1 in /metrics" || show ALERTS
wait_for 15 state_is firing
ok $? "after for: 3s it is firing" || { diag "state: $(alert_state)"; diag_file "$LOG"; }
scrape
is "$(val ALERTS alertname=PathDown alertstate=firing component=platform severity=critical)" 1 \
    "ALERTS{alertstate=\"firing\"} is 1" || show ALERTS
is "$(metric_lines ALERTS alertstate=pending)" "" "the pending series is gone"
since=$(status '[a["active_since"] for a in s["alerts"]][0]')
like "$(val ALERTS_FOR_STATE alertname=PathDown)" '^[0-9]{10}$' \
    "ALERTS_FOR_STATE holds the unix second it became active"
is "$(TZ=UTC date -d "@$(val ALERTS_FOR_STATE alertname=PathDown)" +%FT%T)" \
    "${since%.*}" "/status's active_since is that second (UTC, ISO 8601)" ||
	diag "active_since $since"
is "$(status '[a["value"] for a in s["alerts"]][0]')" 0 \
    "/status shows the alert's value (the expression's result, 0)"
like "$(status '[a["fired_at"] for a in s["alerts"]][0]')" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$' \
    "/status shows when it fired"
is "$(status '[a["annotations"]["summary"] for a in s["alerts"]][0]')" \
    "path to platform is down (0)" "the summary is expanded with \$labels and \$value"
is "$(status '[a["annotations"]["summary_zh"] for a in s["alerts"]][0]')" \
    "platform 路径中断" "the Chinese annotation is expanded"
like "$(cat "$LOG")" 'alert \{alertname="PathDown", component="platform", severity="critical"\} pending' \
    "the log shows the pending transition"
like "$(cat "$LOG")" 'alert \{alertname="PathDown", component="platform", severity="critical"\} firing' \
    "the log shows the firing transition"

# ---- reloads: a bad rule file keeps the old rules; a kept rule keeps firing ----

evals() { scrape && val netprobe_rule_group_evaluations_total "rule_group=$RULES/mission.yml;paths"; }
reloads_failed() { scrape && [ "$(val netprobe_config_reloads_total result=failure)" = "$1" ]; }
write_rules "x" "      - alert: Broken
        expr: rate(probe_success[5m]"
kill -HUP "$NETPROBED_PID"
wait_for 10 reloads_failed 1
ok $? "a reload with a broken rule file fails" || diag_file "$LOG"
like "$(cat "$LOG")" "$QR/mission\\.yml:15:37: " "the log names the position in the rule file" ||
	diag_file "$LOG"
e1=$(evals)
more_evals() { [ "$(evals)" -gt "$e1" ]; }
wait_for 10 more_evals
ok $? "the old rules keep being evaluated after the failed reload"
is "$(alert_state)" firing "the alert is still firing"

write_rules 'reloaded: {{ $labels.component }} down'
kill -HUP "$NETPROBED_PID"
reloaded() { scrape && [ "$(val netprobe_config_reloads_total result=success)" = 2 ]; }
wait_for 10 reloaded
ok $? "a reload with a changed annotation succeeds" || diag_file "$LOG"
new_summary() { [ "$(status '[a["annotations"]["summary"] for a in s["alerts"]][0]')" = "reloaded: platform down" ]; }
wait_for 10 new_summary
ok $? "the new annotation is used"
is "$(alert_state)" firing "the alert stayed firing across the reload (no new pending)"
is "$(status '[a["active_since"] for a in s["alerts"]][0]')" "$since" \
    "active_since is unchanged by the reload"
cmp_ok "$(evals)" '>' "$e1" "the group's evaluation counter did not reset"

# ---- restore the path: resolved -----------------------------------------------

start_tcp_listener 127.0.0.1 "$TCP_PORT" ||
	bail_out "cannot restart the TCP listener"
wait_for 15 state_is resolved
ok $? "restoring the path resolves the alert" || { diag "state: $(alert_state)"; diag_file "$LOG"; }
scrape
is "$(metric_lines ALERTS)" "" "no ALERTS series once resolved"
like "$(cat "$LOG")" 'alert \{alertname="PathDown", component="platform", severity="critical"\} resolved' \
    "the log shows the resolution"
is "$(val netprobe_rule_evaluation_failures_total "rule_group=$RULES/mission.yml;paths")" 0 \
    "no evaluation failed"
# how long evaluations take: the group's last one, and a histogram of all
# of them (one observation per evaluation of any group: one group here)
g="rule_group=$RULES/mission.yml;paths"
last=$(val netprobe_rule_group_last_duration_seconds "$g")
like "$last" '^[0-9.e+-]+$' \
    "netprobe_rule_group_last_duration_seconds is a number ($last)" ||
	show netprobe_rule_group_last_duration_seconds
cmp_ok "$(val netprobe_rule_evaluation_duration_seconds_count)" '>=' \
    "$(val netprobe_rule_group_evaluations_total "$g")" \
    "netprobe_rule_evaluation_duration_seconds counts every evaluation" ||
	show netprobe_rule_evaluation_duration_seconds_count
is "$(val netprobe_rule_evaluation_duration_seconds_bucket le=+Inf)" \
    "$(val netprobe_rule_evaluation_duration_seconds_count)" \
    "its +Inf bucket is its count"

# Recording rules keep their level:metric:operation names, colons and
# all, as on Prometheus' /federate: promtool's exporter lint flags exactly
# those names and nothing else.
if [ -x "$PROMTOOL" ]; then
	pout=$("$PROMTOOL" check metrics 2>&1 <<<"$METRICS")
	is "$pout" "component:probe_success:min metric names should not contain ':'" \
	    "promtool check metrics: only the recording rule's colons are remarked on" ||
		diag "$pout"
else
	skip "no promtool" "promtool check metrics"
fi

done_testing
