#!/usr/bin/env bash
#
# SIGHUP reloads: a broken file is rejected and the running config kept;
# a good one adds probes while unchanged ones keep counting; removed
# probes lose their series; `listen` moves to a new port (and a port in
# use is refused).
#
# Ports: 19530 (netprobed), 19531 (netprobed after the move), 19532 (a
# listener, also the "port in use").

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon

T=$TAP_TMPDIR
NP_PORT=19530
NEW_PORT=19531
TCP_PORT=19532
CONF=$T/netprobed.yaml
LOG=$T/netprobed.log

for p in "$NP_PORT" "$NEW_PORT" "$TCP_PORT"; do
	port_listening "$p" &&
		bail_out "port $p must be free for this test, but something listens there"
done
start_tcp_listener 127.0.0.1 "$TCP_PORT" ||
	bail_out "cannot start a TCP listener on 127.0.0.1:$TCP_PORT"

KEEP=(probe=keep type=icmp target=127.0.0.1)
ADDED=(probe=added type=tcp "target=127.0.0.1:$TCP_PORT")

val() { metric_value "$@"; }
show() { diag "$(metric_lines "$@" || echo "(no $1 series)")"; }

# write_config LISTEN_PORT WITH_KEEP WITH_ADDED [EXTRA_PROBE_TEXT]
write_config()
{
	{
		cat <<EOF
site:
  name: reload-test
listen: 127.0.0.1:$1
defaults:
  interval: 1s
  timeout: 500ms
probes:
EOF
		if [ "$2" = 1 ]; then
			cat <<EOF
  - name: keep
    type: icmp
    target: 127.0.0.1
    count: 1
EOF
		fi
		if [ "$3" = 1 ]; then
			cat <<EOF
  - name: added
    type: tcp
    target: 127.0.0.1:$TCP_PORT
EOF
		fi
		if [ -n "${4:-}" ]; then
			printf '%s\n' "$4"
		fi
	} >"$CONF.new" && mv -f "$CONF.new" "$CONF"
}

hup() { kill -HUP "$NETPROBED_PID"; }

reloads_are() # reloads_are SUCCESS FAILURE: the counters say so
{
	scrape &&
	    [ "$(val netprobe_config_reloads_total result=success)" = "$1" ] &&
	    [ "$(val netprobe_config_reloads_total result=failure)" = "$2" ]
}

# ---- A: one icmp probe --------------------------------------------------

write_config "$NP_PORT" 1 0
start_netprobed "$CONF" "$LOG"
ok $? "netprobed starts with config A (one icmp probe)" ||
	bail_out "netprobed did not start"

runs_at_least() { scrape && _num_cmp "$(val netprobe_probe_runs_total "${KEEP[@]}" result=success)" '>=' "$1"; }
wait_for 15 runs_at_least 3
ok $? "the icmp probe has completed at least 3 runs" ||
	{ show netprobe_probe_runs_total; diag_file "$LOG"; }
runs_a=$(val netprobe_probe_runs_total "${KEEP[@]}" result=success)
diag "runs_total of probe keep before the reloads: $runs_a"

# ---- a broken file is rejected ------------------------------------------

write_config "$NP_PORT" 1 0 "  - name: broken
    type: tcp
    target: 127.0.0.1:http"
hup
wait_for 10 reloads_are 1 1
ok $? "a broken config counts as a failed reload" ||
	{ show netprobe_config_reloads_total; diag_file "$LOG"; }
QCONF=$(sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$CONF")
like "$(cat "$LOG")" "(^|: )$QCONF:14:13: invalid tcp target \"127\.0\.0\.1:http\"" \
    "the log shows the error as FILE:14:13: message"
like "$(cat "$LOG")" "^netprobed: error: reload of $QCONF failed; keeping the running configuration\$" \
    "the log says it keeps the running configuration"
ok "$(pid_alive "$NETPROBED_PID"; echo $?)" "netprobed is still running"
is "$(val probe_success "${KEEP[@]}")" 1 "/metrics still serves the old probe" ||
	show probe_success
is "$(metric_lines '*' probe=broken)" "" "the broken probe has no series"
is "$(val netprobe_config_last_reload_successful)" 0 \
    "netprobe_config_last_reload_successful is 0"
is "$(val netprobe_config_reloads_total result=failure)" 1 \
    "netprobe_config_reloads_total{result=\"failure\"} is 1"
# a file that crashed the loader (SIGSEGV at commit 9a01aed): a scalar
# entry next to a probe; the daemon must survive the SIGHUP
write_config "$NP_PORT" 1 0 "  - just-a-string"
hup
wait_for 10 reloads_are 1 2
ok $? "a scalar probe entry is a second failed reload, not a crash" ||
	{ show netprobe_config_reloads_total; diag_file "$LOG"; }
ok "$(pid_alive "$NETPROBED_PID"; echo $?)" "netprobed is still running after it"
runs_kept=$(val netprobe_probe_runs_total "${KEEP[@]}" result=success)
cmp_ok "$runs_kept" '>=' "$runs_a" "the old probe's runs_total kept counting"

# ---- B: keep the probe, add a tcp probe ----------------------------------

write_config "$NP_PORT" 1 1
hup
added_there() { scrape && [ "$(val probe_success "${ADDED[@]}")" = 1 ]; }
wait_for 10 added_there
ok $? "after config B, the new tcp probe reports probe_success 1" ||
	{ show probe_success; diag_file "$LOG"; }
runs_b=$(val netprobe_probe_runs_total "${KEEP[@]}" result=success)
cmp_ok "$runs_b" '>=' "$runs_kept" \
    "the unchanged probe's runs_total did not reset ($runs_b >= $runs_kept)" ||
	show netprobe_probe_runs_total
is "$(val netprobe_config_last_reload_successful)" 1 \
    "netprobe_config_last_reload_successful is 1 again"
is "$(val netprobe_config_reloads_total result=success):$(val netprobe_config_reloads_total result=failure)" \
    2:2 "netprobe_config_reloads_total: success 2, failure 2"
is "$(val netprobe_probe_targets)" 2 "netprobe_probe_targets is 2"
like "$(cat "$LOG")" 'info: configuration reloaded: 2 probes, 2 targets$' \
    "the log says the configuration was reloaded with 2 probes"

grows() { scrape && _num_cmp "$(val netprobe_probe_runs_total "${KEEP[@]}" result=success)" '>' "$runs_b"; }
wait_for 10 grows
ok $? "the kept probe goes on running after the reload" ||
	show netprobe_probe_runs_total

# ---- C: remove the first probe -------------------------------------------

write_config "$NP_PORT" 0 1
hup
wait_for 10 reloads_are 3 2
ok $? "config C is loaded" || { show netprobe_config_reloads_total; diag_file "$LOG"; }
gone=$(metric_lines '*' probe=keep)
is "$gone" "" "every series of the removed probe is gone" ||
	diag "$gone"
is "$(val probe_success "${ADDED[@]}")" 1 "the remaining probe is still there"
is "$(val netprobe_probe_targets)" 1 "netprobe_probe_targets is 1"
runs_added=$(val netprobe_probe_runs_total "${ADDED[@]}" result=success)

# ---- listen on a port in use: refused -------------------------------------

write_config "$TCP_PORT" 0 1
hup
wait_for 10 reloads_are 3 3
ok $? "moving listen to a port in use is a failed reload" ||
	{ show netprobe_config_reloads_total; diag_file "$LOG"; }
like "$(cat "$LOG")" 'cannot listen on the new address; keeping the running configuration$' \
    "the log says it cannot listen on the new address" || diag_file "$LOG"
http_get "$(np_url /healthz)"
is "$HTTP_CODE" 200 "the old port $NP_PORT still answers"

# ---- D: listen on a new port ------------------------------------------------

write_config "$NEW_PORT" 0 1
hup
OLD_PORT=$NP_PORT
NP_PORT=$NEW_PORT
wait_for 10 http_get "$(np_url /healthz)"
ok $? "after moving listen, the new port $NEW_PORT answers /healthz" ||
	diag_file "$LOG"
NP_PORT=$OLD_PORT
old_closed() { http_get "$(np_url /healthz)"; [ "$HTTP_CODE" = 000 ]; }
wait_for 5 old_closed
ok $? "the old port $OLD_PORT stops answering" || diag "HTTP $HTTP_CODE"
NP_PORT=$NEW_PORT
scrape
is "$(val netprobe_config_reloads_total result=success):$(val netprobe_config_last_reload_successful)" \
    4:1 "the move counts as the 4th successful reload"
cmp_ok "$(val netprobe_probe_runs_total "${ADDED[@]}" result=success)" '>=' "$runs_added" \
    "the probe's counters survive the move of the listener"
like "$(cat "$LOG")" "info: listening on http://127\.0\.0\.1:$NEW_PORT/metrics\$" \
    "the log names the new listen address"

# ---- stop ---------------------------------------------------------------------

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM after the reloads" ||
	diag_file "$LOG"
is "$(tail -n 1 "$LOG")" "netprobed: info: stopped" "the log ends with 'stopped'"

done_testing
