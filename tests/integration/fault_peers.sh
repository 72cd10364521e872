#!/usr/bin/env bash
#
# Peer faults (issue 10), against one running daemon:
#  - the DNS server (dnsmasq) stops mid-run: probe_success 0 with
#    result="refused", the rule DnsDown goes pending then firing, and
#    back to 1 (resolved) when dnsmasq comes back;
#  - meanwhile the SNMP manager (snmptrapd) is down: the firing and the
#    resolved informs wait in the queue (nothing dropped) and arrive once
#    each, in order, with consecutive npSequence, when it is back
#    (snmp.sh covers a queue that overflows; this is the one that fits);
#  - an HTTP peer that accepts and never answers: each run ends at its
#    timeout, counted as result="timeout", the connection is closed, and
#    /metrics answers quickly all the while;
#  - a SIP peer that answers every OPTIONS with garbage: a classified
#    bad_response, every garbage answer counted as ignored, no crash.
#
# Traffic goes only to 127.0.0.1.  Ports: 19720 (netprobed), 19721
# (snmptrapd), 19722 (dnsmasq), 19723 (the silent HTTP peer), 19724 (the
# garbage SIP peer, udp).

# shellcheck disable=SC2317,SC2015 # functions polled through wait_for; A && B || bail_out
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ -n "$PYTHON3" ] || skip_all "no python3"
[ -x "$SNMPTRAPD" ] || skip_all "no snmptrapd (package snmptrapd)"
DNSMASQ=${DNSMASQ:-$(command -v dnsmasq || echo /usr/sbin/dnsmasq)}
[ -x "$DNSMASQ" ] || skip_all "no dnsmasq (package dnsmasq-base)"

T=$TAP_TMPDIR
NP_PORT=19720
TRAP_PORT=19721
DNS_PORT=19722
HANG_PORT=19723
SIP_PORT=19724
LOG=$T/netprobed.log
PEER=$top_srcdir/tests/peers/fault_peer.py

for p in "$NP_PORT" "$DNS_PORT" "$HANG_PORT"; do
	port_listening "$p" && bail_out "tcp port $p is in use"
done
for p in "$TRAP_PORT" "$DNS_PORT" "$SIP_PORT"; do
	[ -n "$(ss -Hlun "sport = :$p" 2>/dev/null)" ] && bail_out "udp port $p is in use"
done

# ---- peers -------------------------------------------------------------------

cat >"$T/dnsmasq.conf" <<EOF
port=$DNS_PORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
user=root
group=root
local=/test/
host-record=www.test,192.0.2.10
EOF
start_dnsmasq()
{
	"$DNSMASQ" -k -C "$T/dnsmasq.conf" --pid-file= \
	    </dev/null >>"$T/dnsmasq.out" 2>&1 &
	DNSM=$!
	register_pid "$DNSM"
	dns_up() { [ -n "$(ss -Hlun "sport = :$DNS_PORT" 2>/dev/null)" ]; }
	wait_for 10 dns_up
}

start_snmptrapd "$TRAP_PORT" || bail_out "snmptrapd did not start"
start_dnsmasq || { diag_file "$T/dnsmasq.out"; bail_out "dnsmasq did not start"; }
"$PYTHON3" "$PEER" --limit 90 hang 127.0.0.1 "$HANG_PORT" "$T/hang.ready" \
    >"$T/hang.log" 2>&1 &
register_pid $!
"$PYTHON3" "$PEER" --limit 90 sipgarbage 127.0.0.1 "$SIP_PORT" "$T/sip.ready" \
    >"$T/sip.log" 2>&1 &
register_pid $!
wait_for 10 test -e "$T/hang.ready" && wait_for 10 test -e "$T/sip.ready" ||
	bail_out "the python peers did not start"

cat >"$T/rules.yml" <<'END'
groups:
  - name: peers
    rules:
      - alert: DnsDown
        expr: probe_success{probe="dns"} == 0
        for: 2s
        labels: {severity: critical}
        annotations: {summary: "DNS 服务器无应答"}
END
cat >"$T/np.yaml" <<END
site: {name: faults}
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 1s, timeout: 500ms, evaluation_interval: 1s}
rule_files: [rules.yml]
probes:
  - {name: dns, type: dns, target: "127.0.0.1:$DNS_PORT", query_name: www.test}
  - {name: hang, type: http, target: "http://127.0.0.1:$HANG_PORT/health",
     interval: 2s, timeout: 1s}
  - {name: sip, type: sip, target: "127.0.0.1:$SIP_PORT", interval: 2s,
     timeout: 1200ms}
snmp:
  managers:
    # (timeout: an acknowledgement later than it makes the inform go
    # again and snmptrapd log it twice, which "arrive once each" below
    # would take for a fault: 2s, not less, on a loaded machine)
    - {name: nms, address: "127.0.0.1:$TRAP_PORT", version: 2c,
       community: public, mode: inform, timeout: 2s, retry_max: 1s,
       queue_size: 50}
END
start_netprobed "$T/np.yaml" "$LOG" || bail_out "netprobed did not start"
PID=$NETPROBED_PID

started() { [ "$(trap_notes 'sum(1 for x in r if trap(x) == "5")')" = 1 ]; }
wait_for 10 started
ok $? "snmptrapd gets netprobeDaemonStarted"
dns_ok() { scrape && [ "$(metric_value probe_success probe=dns)" = 1 ]; }
wait_for 10 dns_ok
ok $? "the dns probe answers: probe_success 1" || diag "$(metric_lines probe_success)"

# ---- the manager goes away, then the DNS server -------------------------------

stop_pid "$TRAPD_PID"
stop_pid "$DNSM"
dns_down() { scrape && [ "$(metric_value probe_success probe=dns)" = 0 ]; }
wait_for 5 dns_down
ok $? "dnsmasq stopped: probe_success{probe=\"dns\"} 0" || diag "$(metric_lines probe_success)"
refused() { scrape && _num_cmp "$(metric_value netprobe_probe_runs_total probe=dns result=refused)" '>=' 2; }
wait_for 5 refused
ok $? "the failures are result=\"refused\" (ICMP port unreachable from the host)" ||
	diag "$(metric_lines netprobe_probe_runs_total probe=dns)"
firing() { scrape && [ "$(metric_value ALERTS alertname=DnsDown alertstate=firing)" = 1 ]; }
wait_for 8 firing
ok $? "after its for: 2s, ALERTS{alertname=\"DnsDown\",alertstate=\"firing\"} 1" ||
	diag "$(metric_lines ALERTS)"
like "$(cat "$LOG")" 'alert \{alertname="DnsDown".*\} pending' "the log shows it pending first"
like "$(cat "$LOG")" 'alert \{alertname="DnsDown".*\} firing \(value 0\)' "... then firing (value 0)"
mgr_down() { scrape && [ "$(metric_value netprobe_snmp_manager_up manager=nms)" = 0 ]; }
wait_for 10 mgr_down
ok $? "the inform goes unanswered: netprobe_snmp_manager_up 0"
cmp_ok "$(metric_value netprobe_snmp_notifications_total manager=nms result=timeout)" '>=' 1 \
    "the unanswered attempts count as result=\"timeout\""
is "$(metric_value netprobe_snmp_queue_length manager=nms)" 1 \
    "the firing inform waits in the queue (length 1)"

# ---- DNS back while the manager is still away --------------------------------

start_dnsmasq || bail_out "dnsmasq did not restart"
wait_for 8 dns_ok
ok $? "dnsmasq back: probe_success 1 again"
resolved() { scrape && ! metric_value ALERTS alertname=DnsDown >/dev/null; }
wait_for 5 resolved
ok $? "the alert resolves: no ALERTS series for DnsDown" || diag "$(metric_lines ALERTS)"
like "$(cat "$LOG")" 'alert \{alertname="DnsDown".*\} resolved' "the log shows it resolved"
qlen2() { scrape && [ "$(metric_value netprobe_snmp_queue_length manager=nms)" = 2 ]; }
wait_for 3 qlen2
ok $? "firing and resolved both wait in the queue (length 2)" ||
	diag "$(metric_lines netprobe_snmp_queue_length)"

# ---- the manager comes back -----------------------------------------------------

start_snmptrapd "$TRAP_PORT" || bail_out "snmptrapd did not restart"
drained() { scrape && [ "$(metric_value netprobe_snmp_queue_length manager=nms)" = 0 ] &&
    [ "$(metric_value netprobe_snmp_manager_up manager=nms)" = 1 ]; }
wait_for 20 drained
ok $? "manager back: the queue drains, netprobe_snmp_manager_up 1"
both() { [ "$(trap_notes 'sum(1 for x in r if trap(x) in ("1", "2"))')" -ge 2 ]; }
wait_for 5 both
is "$(trap_notes '[(trap(x), var(x, 3)) for x in r if trap(x) in ("1", "2")]')" \
    "[('1', 'DnsDown'), ('2', 'DnsDown')]" \
    "exactly one netprobeAlertFiring then one netprobeAlertResolved for DnsDown"
is "$(trap_notes '[var(x, 7) for x in r if trap(x) == "1"]')" "['DNS 服务器无应答']" \
    "the firing inform carries the summary, Chinese intact"
seqs=$(trap_notes '[var(x, 12) for x in r]')
is "$seqs" "[1, 2, 3]" "npSequence 1, 2, 3: started, firing, resolved, no gap, no repeat"
is "$(trap_notes 'sum(1 for x in r if trap(x) == "7")')" 0 "no netprobeNotificationsDropped: nothing was dropped"
is "$(metric_value netprobe_snmp_notifications_total manager=nms result=dropped)" 0 \
    "netprobe_snmp_notifications_total{result=\"dropped\"} 0"
is "$(metric_value netprobe_snmp_notifications_total manager=nms result=acked)" 3 \
    "netprobe_snmp_notifications_total{result=\"acked\"} 3"

# ---- the HTTP peer that never answers ---------------------------------------------

hang_tmo() { scrape && _num_cmp "$(metric_value netprobe_probe_runs_total probe=hang result=timeout)" '>=' 3; }
wait_for 10 hang_tmo
ok $? "the silent HTTP peer: runs end as result=\"timeout\"" ||
	diag "$(metric_lines netprobe_probe_runs_total probe=hang)"
d=$(metric_value probe_duration_seconds probe=hang)
cmp_ok "$d" '>=' 0.95 "probe_duration_seconds is the timeout, 1 s ($d)"
# (the deadline fires late by as long as a loaded machine keeps the
# daemon off the CPU: the bound only catches a run that lasts two timeouts)
cmp_ok "$d" '<' 1.9 "... and not longer"
is "$(metric_value probe_success probe=hang)" 0 "probe_success 0"
is "$(metric_lines netprobe_probe_runs_total probe=hang | grep -vc 'result="timeout"')" 0 \
    "no other result for it"
# Timed by curl itself (starting curl on a loaded machine is not the
# daemon's answer time); a loop blocked by a hanging run would hold some
# of these scrapes for most of its 1 s timeout
slow=0
for i in $(seq 1 20); do
	r=$("$CURL" -s --max-time 5 -o /dev/null -w '%{http_code} %{time_total}' \
	    "$(np_url /metrics)")
	[ "${r%% *}" = 200 ] || slow=$((slow + 100))
	_num_cmp "${r#* }" '<' 0.5 || { slow=$((slow + 1)); diag "scrape $i: $r"; }
	sleep 0.1
done
is "$slow" 0 "20 scrapes over 3 s (across hanging runs) each answer 200 in under 0.5 s"
nconn=$(grep -c '^conn ' "$T/hang.log")
nclosed=$(grep -c '^closed by peer' "$T/hang.log")
cmp_ok "$nclosed" '>=' $((nconn - 1)) \
    "the prober closes each hung connection at its timeout ($nclosed of $nconn closed)"

# ---- the SIP peer that answers garbage ----------------------------------------------

sip_bad() { scrape && _num_cmp "$(metric_value netprobe_probe_runs_total probe=sip result=bad_response)" '>=' 2; }
wait_for 10 sip_bad
ok $? "the garbage SIP peer: result=\"bad_response\"" ||
	diag "$(metric_lines netprobe_probe_runs_total probe=sip)"
is "$(metric_lines netprobe_probe_runs_total probe=sip | grep -vc 'result="bad_response"')" 0 \
    "never another result (no success from garbage)"
# each run sends the OPTIONS twice in its 1.2 s (timer E: 0.5 s, then 1 s
# more) and gets 6 garbage answers to each: 12 ignored per run, exactly
nruns=$(metric_value netprobe_probe_runs_total probe=sip result=bad_response)
is "$(metric_value netprobe_sip_ignored_responses_total probe=sip)" "$((nruns * 12))" \
    "netprobe_sip_ignored_responses_total counts all 12 garbage answers of each of the $nruns runs"
is "$(metric_value netprobe_sip_retransmissions_total probe=sip)" "$nruns" \
    "netprobe_sip_retransmissions_total: one per run (timer E)"
metric_value netprobe_sip_status_code probe=sip >/dev/null
ok $((!$?)) "no netprobe_sip_status_code: no status was read"
http_get "$(np_url '/probe?module=sip&target=127.0.0.1:'"$SIP_PORT"'&debug=true')"
like "$HTTP_BODY" 'ignored an answer: bad status line' \
    "/probe?debug=true shows each ignored answer and why (bad status line...)"
like "$HTTP_BODY" 'Result: bad_response: no matching answer: .* \(12 ignored\)' \
    "... and the result: bad_response, no matching answer (12 ignored)"

scrape
promtool_clean "promtool check metrics is clean"
ok "$(pid_alive "$PID"; echo $?)" "netprobed is still running"
unlike "$(cat "$LOG")" '(\[warn\]|\[err\]|fatal)' "no libevent warning or fatal error in the log"
stop_pid "$PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM" || diag_file "$LOG"

done_testing
