#!/usr/bin/env bash
#
# The state file (state_file:, daemon/state.c): a restart neither
# re-notifies an alert that still fires nor forgets to resolve one that
# ended while netprobed was down, and informs the manager never
# acknowledged -- because it was down too -- are sent after the restart,
# each once, in order, with their sequence numbers.  The file is written
# atomically (mode 0600, no temporary left); a corrupt one is logged and
# ignored.  A real snmptrapd is the manager.
#
# Traffic goes only to 127.0.0.1.  Ports: 19645 (netprobed), 19646 (the
# "platform" the probe checks), 16240 (snmptrapd).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ -x "$SNMPTRAPD" ] || skip_all "no snmptrapd (package snmptrapd)"
[ -n "$PYTHON3" ] || skip_all "no python3 to read the trap logs"

T=$TAP_TMPDIR
NP_PORT=19645
PLATFORM=19646
TRAPD_PORT=16240
LOG=$T/netprobed.log

for p in $NP_PORT $PLATFORM; do
	port_listening "$p" && bail_out "port $p is in use"
done

fired_n() { trap_notes 'sum(1 for x in r if trap(x) == "1" and var(x, 3) == "PlatformDown")'; }
resolved_n() { trap_notes 'sum(1 for x in r if trap(x) == "2" and var(x, 3) == "PlatformDown")'; }

# Two rules share the alert name (as the shipped ExtranetDetached, one
# per layer): the first never fires; a restored alert must go back to
# the rule that made it (found by the soak test)
cat >"$T/rules.yml" <<'END'
groups:
  - name: platform
    rules:
      - alert: PlatformDown
        expr: probe_success{probe="platform-backup"} == 0
        for: 2s
        labels: {severity: critical}
      - alert: PlatformDown
        expr: probe_success{probe="platform"} == 0
        for: 2s
        labels: {severity: critical}
        annotations: {summary: 市监管平台不可达}
END
cat >"$T/np.yaml" <<END
site: {name: state-test}
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 1s, timeout: 500ms, evaluation_interval: 1s}
rule_files: [rules.yml]
state_file: state/netprobed.state
probes:
  - {name: platform, type: tcp, targets: ["127.0.0.1:$PLATFORM"]}
snmp:
  state_dir: $T/state
  managers:
    # (timeout: an acknowledgement later than it makes the inform go
    # again and snmptrapd log it twice, which the "once" checks below
    # would take for a fault: 2s, not less, on a loaded machine)
    - {name: bureau, address: "127.0.0.1:$TRAPD_PORT", version: 2c,
       community: public, mode: inform, timeout: 2s, retry_max: 1s,
       queue_size: 50}
END
mkdir -p "$T/state"
chmod 700 "$T/state"

NP_PID=
np_start()
{
	"$NETPROBED" -c "$T/np.yaml" </dev/null >>"$LOG" 2>&1 &
	NP_PID=$!
	register_pid "$NP_PID"
	wait_for 10 http_get "$(np_url /healthz)"
}
np_stop() { stop_pid "$NP_PID"; }
alert_state() {	# the ALERTS series of PlatformDown, "" if none
	scrape && metric_lines ALERTS alertname=PlatformDown |
	    sed -n 's/.*alertstate="\([a-z]*\)".*/\1/p'
}
firing() { [ "$(alert_state)" = firing ]; }
qlen() { scrape && metric_value netprobe_snmp_queue_length manager=bureau; }

start_snmptrapd "$TRAPD_PORT" || bail_out "snmptrapd did not start"
np_start || { diag_file "$LOG"; bail_out "netprobed did not start"; }

# ---- 1. the alert fires and the manager hears it once -------------------

wait_for 20 firing
ok $? "the platform is down: PlatformDown fires"
wait_for 10 eval '[ "$(fired_n)" -ge 1 ]'
is "$(fired_n)" 1 "the manager heard it fire"
wait_for 5 eval '[ -s "$T/state/netprobed.state" ]'
ok $? "the state file is written"
is "$(stat -c %a "$T/state/netprobed.state")" 600 "  mode 0600"
is "$(find "$T/state" -name '*.tmp' | wc -l)" 0 "  no temporary file left (written by rename)"
# written at each transition (pending, then firing), a moment apart
wait_for 5 grep -q '"rule":"PlatformDown","index":1,"state":"firing"' \
    "$T/state/netprobed.state"
like "$(cat "$T/state/netprobed.state")" '"rule":"PlatformDown","index":1,"state":"firing"' \
    "  it holds the firing alert"
scrape
since=$(metric_value ALERTS_FOR_STATE alertname=PlatformDown)

# ---- 2. a restart while it still fires: no new notification ------------

np_stop
is "$?" 0 "netprobed stops cleanly"
np_start || bail_out "netprobed did not start again"
like "$(cat "$LOG")" 'restored 1 pending or firing alerts' "the log says the alert was restored"
wait_for 10 firing
ok $? "after the restart PlatformDown fires at once (no 'for' wait)"
is "$(metric_value ALERTS_FOR_STATE alertname=PlatformDown)" "$since" \
    "  ALERTS_FOR_STATE keeps the time it became active"
# the started notification comes after the first evaluations: wait for it,
# and two more evaluations, then look
wait_for 10 eval '[ "$(trap_notes "sum(1 for x in r if trap(x) == \"5\")")" -ge 2 ]'
evals() { scrape && metric_value netprobe_rule_group_evaluations_total; }
e0=$(evals)
wait_for 10 eval '[ "$(evals)" -ge $((e0 + 2)) ]'
is "$(fired_n)" 1 "the manager did not hear it fire again"
is "$(resolved_n)" 0 "  nor resolve (the alert went back to its own rule)"
unlike "$(sed -n '/restored 1 pending/,$p' "$LOG")" 'alert .*PlatformDown.* (resolved|pending)' \
    "  no transition at all after the restart"

# ---- 3. the fault ends while netprobed and the manager are down --------

stop_pid "$TRAPD_PID"
np_stop
start_tcp_listener 127.0.0.1 "$PLATFORM" || bail_out "no listener"
np_start || bail_out "netprobed did not start (3)"
resolved_log() { grep -q 'alert {alertname="PlatformDown".*} resolved' "$LOG"; }
wait_for 10 resolved_log
ok $? "the platform is back: the restored alert resolves at the first evaluations"
is "$(alert_state)" "" "  ALERTS has it no more"
wait_for 10 eval '[ "$(qlen)" -ge 2 ]'
cmp_ok "$(qlen)" '>=' 2 "  resolved and started wait for the manager (it is down)"
np_stop
like "$(cat "$T/state/netprobed.state")" '"alertname":"PlatformDown"' \
    "at the stop the state file holds the unacknowledged informs"
np_start || bail_out "netprobed did not start (4)"
like "$(cat "$LOG")" 'manager bureau: [0-9]+ unacknowledged notifications restored' \
    "the next start restores them"

# ---- 4. the manager comes back: each arrives once, in order ------------

start_snmptrapd "$TRAPD_PORT" || bail_out "snmptrapd did not start again"
empty() { [ "$(qlen)" = 0 ]; }
wait_for 30 empty
ok $? "the queue drains once the manager is back"
is "$(resolved_n)" 1 "the manager heard PlatformDown resolve, once"
is "$(fired_n)" 1 "  and never a second firing"
seqs=$(trap_notes '[int(var(x, 12)) for x in r]')
is "$(trap_notes '[int(var(x, 12)) for x in r] == list(range(1, len(r) + 1))')" True \
    "npSequence runs 1, 2, 3... across the restarts: no repeat, no gap ($seqs)"
# started, fired, stopping | started, stopping (trapd down from here) |
# started, resolved, stopping | started
is "$(trap_notes '"".join(trap(x) for x in r)')" 516565265 \
    "in order: each start, the firing, each stop, the resolution" ||
    diag "$(trap_notes '[(trap(x), var(x, 12)) for x in r]')"

# ---- 5. a corrupt state file is ignored ---------------------------------

np_stop
printf '{"version": 1, "alerts": [ {"group": ' >"$T/state/netprobed.state"
np_start
ok $? "a corrupt state file does not keep netprobed from starting"
like "$(cat "$LOG")" 'state/netprobed.state:[0-9]+:[0-9]+: YAML syntax error.*\(the state file is ignored\)' \
    "  the log says where and that it is ignored"
written() { scrape && [ "$(metric_value netprobe_state_writes_total result=success)" -ge 1 ]; }
wait_for 10 written
ok $? "  and the next write replaces it"
like "$(cat "$T/state/netprobed.state")" '^\{"version":1,' "  with a whole state"
is "$(metric_value netprobe_state_writes_total result=failure)" 0 \
    "netprobe_state_writes_total{result=\"failure\"} 0"
cmp_ok "$(metric_value netprobe_state_writes_total result=success)" '>=' 1 \
    "netprobe_state_writes_total{result=\"success\"} counts the writes"
np_stop
is "$?" 0 "netprobed exits 0"

done_testing
