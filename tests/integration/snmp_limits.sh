#!/usr/bin/env bash
#
# SNMP against alert storms: per-alert spacing coalesces a flapping
# alert (fewer notifications than transitions, and the manager ends with
# the state the alert ends in), and the global token bucket drops what
# exceeds it; both are counted in netprobe_snmp_rate_limited_total.
#
# Ports: 16203 (snmptrapd), 19586 (netprobed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ -x "$SNMPTRAPD" ] || skip_all "no snmptrapd (package snmptrapd)"
[ -n "$PYTHON3" ] || skip_all "no python3 to read the trap logs"

T=$TAP_TMPDIR
NP_PORT=19586
TRAP_PORT=16203
port_listening "$NP_PORT" && bail_out "port $NP_PORT is in use"

start_snmptrapd "$TRAP_PORT" || bail_out "snmptrapd did not start"

# ---- spacing: an alert flapping every 2 s for 10 s, spacing 3 s -------------

end=$(( $(date +%s) + 12 ))
cat >"$T/rules.yml" <<END
groups:
  - name: g
    rules:
      - alert: Flap
        expr: (vector(time()) % 4 < 2) and (vector(time()) < $end)
        labels: {severity: warning}
END
cat >"$T/np.yaml" <<END
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 1s, timeout: 500ms, evaluation_interval: 1s}
rule_files: [rules.yml]
probes:
  - {name: lo, type: icmp, targets: [127.0.0.1]}
snmp:
  alert_spacing: 3s
  managers:
    - {name: nms, address: "127.0.0.1:$TRAP_PORT", community: public, mode: trap}
END
start_netprobed "$T/np.yaml" "$T/np1.log" -v -v || bail_out "netprobed did not start"

# The alert's last transition (resolved) comes at the first evaluation
# after $end; it may be held for up to the spacing plus one sweep (1 s),
# so poll for the manager to hear it rather than guess a margin.
settled() { [ "$(date +%s)" -gt $(( end + 1 )) ]; }
wait_for 30 settled
last_state() { trap_notes '([var(x,5) for x in r if trap(x) in ("1", "2")] or [0])[-1]'; }
heard_resolved() { [ "$(last_state)" = 4 ]; }
wait_for 15 heard_resolved
transitions=$(grep -cE 'alert \{alertname="Flap".*\} (firing|resolved)' "$T/np1.log")
sent=$(trap_notes 'sum(1 for x in r if trap(x) in ("1", "2"))')
cmp_ok "$transitions" '>=' 4 "the alert flapped ($transitions firing/resolved transitions)"
cmp_ok "$sent" '<' "$transitions" \
    "spacing 3s: fewer notifications ($sent) than transitions ($transitions)"
cmp_ok "$sent" '>=' 2 "but the manager did hear of it"
is "$(last_state)" 4 \
    "the last notification says resolved(4), the state the alert ended in" || {
	diag "$(grep -E 'alert \{alertname="Flap"|snmp: alert' "$T/np1.log")"
	diag "$(trap_notes '[(var(x,5), x["vars"][".1.3.6.1.2.1.1.3.0"]) for x in r if trap(x) in ("1", "2")]')"
}
# a held state must never reach the manager after a newer one
is "$(trap_notes 'all(a != b for a, b in zip(*[[var(x,5) for x in r if trap(x) in ("1", "2")][i:] for i in (0, 1)]))')" True \
    "the notifications alternate firing/resolved: no stale held state after a newer one" ||
	diag "$(trap_notes '[var(x,5) for x in r if trap(x) in ("1", "2")]')"
times=$(trap_notes '[x["vars"][".1.3.6.1.2.1.1.3.0"] for x in r if trap(x) in ("1", "2")]')
is "$("$PYTHON3" -c '
import sys
t = [int(v.split(")")[0].strip("(")) for v in eval(sys.argv[1])]
print(all(b - a >= 290 for a, b in zip(t, t[1:])))' "$times")" True \
    "consecutive alert notifications are at least 3s apart (sysUpTime)" ||
	diag "sysUpTime: $times"
scrape
cmp_ok "$(metric_value netprobe_snmp_rate_limited_total reason=spacing)" '>=' 1 \
    "netprobe_snmp_rate_limited_total{reason=\"spacing\"} counts the held ones"
stop_pid "$NETPROBED_PID"

# ---- the token bucket: 6 alerts at once, burst 2 -------------------------------

cat >"$T/rules.yml" <<'END'
groups:
  - name: g
    rules:
      - alert: Up
        expr: probe_success == 1
        labels: {severity: warning}
END
cat >"$T/np.yaml" <<END
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 1s, timeout: 500ms, evaluation_interval: 1s}
rule_files: [rules.yml]
probes:
  - {name: lo, type: icmp, targets: [127.0.0.1, 127.0.0.2, 127.0.0.3,
     127.0.0.4, 127.0.0.5, 127.0.0.6]}
snmp:
  rate_limit: {rate: 1, burst: 2}
  managers:
    - {name: nms, address: "127.0.0.1:$TRAP_PORT", community: public, mode: trap}
END
before=$(trap_notes 'sum(1 for x in r if trap(x) == "1")')
start_netprobed "$T/np.yaml" "$T/np2.log" || bail_out "netprobed did not start"
fired6() { [ "$(grep -c 'alert {alertname="Up".*} firing' "$T/np2.log")" = 6 ]; }
wait_for 15 fired6
ok $? "six alerts fire in the same evaluation"
limited() { scrape && _num_cmp "$(metric_value netprobe_snmp_rate_limited_total reason=global)" '>=' 3; }
wait_for 5 limited
ok $? "netprobe_snmp_rate_limited_total{reason=\"global\"} counts the ones over the bucket" ||
	diag "$(metric_lines netprobe_snmp_rate_limited_total)"
sent=$(( $(metric_value netprobe_snmp_notifications_total manager=nms result=sent) ))
dropped=$(metric_value netprobe_snmp_rate_limited_total reason=global)
# 6 firing + the start notification (not an alert: never limited)
is "$(( sent - 1 + dropped ))" 6 "every firing alert was either sent or counted as dropped"
got() { [ "$(trap_notes 'sum(1 for x in r if trap(x) == "1")')" = "$(( before + sent - 1 ))" ]; }
wait_for 5 got
ok $? "the manager received exactly the $(( sent - 1 )) alerts that were sent"
stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0"

done_testing
