#!/usr/bin/env bash
#
# The running daemon's HTTP side: /metrics (values, labels, promtool),
# /healthz, /, errors for other paths and methods, counters that grow,
# and a clean stop on SIGTERM.
#
# Ports: 19520 (netprobed), 19521 (a listener), 19522 (closed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon

T=$TAP_TMPDIR
NP_PORT=19520
OPEN=127.0.0.1:19521
CLOSED=127.0.0.1:19522
LOG=$T/netprobed.log
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}

for p in "$NP_PORT" "${OPEN##*:}" "${CLOSED##*:}"; do
	port_listening "$p" &&
		bail_out "port $p must be free for this test, but something listens there"
done
start_tcp_listener 127.0.0.1 "${OPEN##*:}" ||
	bail_out "cannot start a TCP listener on $OPEN"

cat >"$T/netprobed.yaml" <<EOF
site:
  name: metrics-test
  labels:
    region: lab
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 500ms
probes:
  - name: lo-icmp
    type: icmp
    targets: [127.0.0.1, 127.0.0.2]
    count: 2
    packet_interval: 50ms
    labels:
      team: netops
  - name: lo-tcp
    type: tcp
    targets: [$OPEN, $CLOSED]
    labels:
      team: netops
EOF

ICMP1=(probe=lo-icmp type=icmp target=127.0.0.1)
ICMP2=(probe=lo-icmp type=icmp target=127.0.0.2)
TOPEN=(probe=lo-tcp type=tcp "target=$OPEN")
TCLOSED=(probe=lo-tcp type=tcp "target=$CLOSED")

# val NAME LABELS...: the value in $METRICS (word-split LABELS on purpose)
val() { metric_value "$@"; }

# show NAME [LABELS...]: the matching lines as diagnostics
show() { diag "$(metric_lines "$@" || echo "(no $1 series)")"; }

t0=$(date +%s)
start_netprobed "$T/netprobed.yaml" "$LOG"
ok $? "netprobed starts and /healthz answers on 127.0.0.1:$NP_PORT" ||
	bail_out "netprobed did not start"
t1=$(date +%s)

# ---- first results ----------------------------------------------------

all_results()
{
	scrape &&
	    val probe_success "${ICMP1[@]}" >/dev/null &&
	    val probe_success "${ICMP2[@]}" >/dev/null &&
	    val probe_success "${TOPEN[@]}" >/dev/null &&
	    val probe_success "${TCLOSED[@]}" >/dev/null
}
wait_for 15 all_results
ok $? "probe_success appears for all four targets" ||
	{ show probe_success; diag_file "$LOG"; }

is "$(val probe_success "${ICMP1[@]}")" 1 "probe_success is 1 for icmp 127.0.0.1" ||
	show probe_success
is "$(val probe_success "${ICMP2[@]}")" 1 "probe_success is 1 for icmp 127.0.0.2" ||
	show probe_success
is "$(val probe_success "${TOPEN[@]}")" 1 "probe_success is 1 for the open tcp port" ||
	show probe_success
is "$(val probe_success "${TCLOSED[@]}")" 0 "probe_success is 0 for the refused tcp port" ||
	show probe_success

refused=$(val netprobe_probe_runs_total "${TCLOSED[@]}" result=refused)
cmp_ok "$refused" '>=' 1 \
    "netprobe_probe_runs_total{result=\"refused\"} >= 1 for the closed port" ||
	show netprobe_probe_runs_total
val netprobe_probe_runs_total "${TCLOSED[@]}" result=success >/dev/null
ok $((!$?)) "the closed port has no result=\"success\" runs" ||
	show netprobe_probe_runs_total "${TCLOSED[@]}"
opened=$(val netprobe_probe_runs_total "${TOPEN[@]}" result=success)
cmp_ok "$opened" '>=' 1 "the open port has result=\"success\" runs" ||
	show netprobe_probe_runs_total

sent=$(val netprobe_icmp_packets_sent_total "${ICMP1[@]}")
recv=$(val netprobe_icmp_packets_received_total "${ICMP1[@]}")
cmp_ok "$sent" '>=' 2 "netprobe_icmp_packets_sent_total >= 2 (one run of 2)" ||
	show netprobe_icmp_packets_sent_total
is "$recv" "$sent" "every echo to 127.0.0.1 was answered (received == sent)" ||
	show netprobe_icmp_packets_received_total
icmp_runs=$(val netprobe_probe_runs_total "${ICMP1[@]}" result=success)
is "$sent" "$((icmp_runs * 2))" "2 echoes are sent per icmp run (count: 2)" ||
	show netprobe_probe_runs_total "${ICMP1[@]}"
is "$(val netprobe_icmp_packet_loss_ratio "${ICMP2[@]}")" 0 \
    "netprobe_icmp_packet_loss_ratio is 0 on loopback"

# histograms: _count matches the runs (and the replies), +Inf bucket = count
is "$(val netprobe_probe_duration_seconds_count "${TCLOSED[@]}")" "$refused" \
    "duration histogram _count equals the runs of the closed port" ||
	show netprobe_probe_duration_seconds_count
is "$(val netprobe_probe_duration_seconds_count "${TOPEN[@]}")" "$opened" \
    "duration histogram _count equals the runs of the open port" ||
	show netprobe_probe_duration_seconds_count
is "$(val netprobe_probe_duration_seconds_bucket "${TOPEN[@]}" le=+Inf)" "$opened" \
    "duration histogram le=\"+Inf\" bucket equals _count" ||
	show netprobe_probe_duration_seconds_bucket "${TOPEN[@]}"
is "$(val netprobe_icmp_rtt_seconds_count "${ICMP1[@]}")" "$recv" \
    "RTT histogram _count equals the echo replies received" ||
	show netprobe_icmp_rtt_seconds_count

# the daemon's own series
version=$("$NETPROBED" --version | awk '{ print $2 }')
is "$(val netprobe_build_info "version=$version")" 1 \
    "netprobe_build_info{version=\"$version\"} is 1" || show netprobe_build_info
like "$(metric_lines netprobe_build_info)" '\{.*libevent="[^"]+".*libyaml="[^"]+"' \
    "netprobe_build_info names the libevent and libyaml versions"
is "$(val netprobe_config_last_reload_successful)" 1 \
    "netprobe_config_last_reload_successful is 1"
is "$(val netprobe_config_reloads_total result=success):$(val netprobe_config_reloads_total result=failure)" \
    1:0 "netprobe_config_reloads_total: success 1, failure 0" ||
	show netprobe_config_reloads_total
is "$(val netprobe_probe_targets)" 4 "netprobe_probe_targets is 4"
is "$(val netprobe_site_info site=metrics-test region=lab)" 1 \
    "netprobe_site_info carries the site name and the site label" ||
	show netprobe_site_info
st=$(val process_start_time_seconds)
cmp_ok "$st" '>=' "$((t0 - 1))" "process_start_time_seconds is not before the start ($st)"
cmp_ok "$st" '<=' "$((t1 + 1))" "process_start_time_seconds is not after the start ($st)"
rss=$(val process_resident_memory_bytes)
cmp_ok "$rss" '>' 100000 "process_resident_memory_bytes is plausible ($rss)"
cmp_ok "$(val process_open_fds)" '>' 2 "process_open_fds counts the daemon's sockets"

# every per-target series has probe, type, target and the user label
bad=$(awk '/^#/ { next }
	/^(probe_|netprobe_probe_(runs|duration)|netprobe_icmp_)/ {
		if ($0 !~ /[{,]probe="[^"]+"/ || $0 !~ /[{,]type="(icmp|tcp)"/ ||
		    $0 !~ /[{,]target="[^"]+"/ || $0 !~ /[{,]team="netops"/)
			print
	}' <<<"$METRICS")
n=$(grep -c -E '^(probe_|netprobe_probe_(runs|duration)|netprobe_icmp_)' <<<"$METRICS")
is "$bad" "" "all $n per-target samples have probe, type, target and team labels" ||
	diag "$(head -n 20 <<<"$bad")"
dups=$(grep '^# TYPE ' <<<"$METRICS" | sort | uniq -d)
is "$dups" "" "each metric family has exactly one TYPE line"

# promtool's own reading of the exposition format
if [ -x "$PROMTOOL" ]; then
	pout=$("$PROMTOOL" check metrics 2>&1 <<<"$METRICS")
	prc=$?
	is "$prc" 0 "promtool check metrics exits 0"
	is "$pout" "" "promtool check metrics has nothing to say" ||
		diag "$pout"
else
	skip "no promtool" "promtool check metrics exits 0"
	skip "no promtool" "promtool check metrics has nothing to say"
fi

# ---- HTTP -------------------------------------------------------------

ctype=$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "$(np_url /metrics)")
is "$ctype" "text/plain; version=0.0.4; charset=utf-8" \
    "/metrics has the Prometheus text Content-Type"

http_get "$(np_url /healthz)"
is "$HTTP_CODE:$HTTP_BODY" "200:ok" "/healthz answers 200 ok"

http_get "$(np_url /)"
is "$HTTP_CODE" 200 "/ answers 200"
like "$HTTP_BODY" "<tr class=\"probe bad\"><td>lo-tcp</td><td>tcp</td><td class=\"tgt\">$CLOSED</td><td class=\"st bad\">refused</td>" \
    "/ lists the refused target as refused, in red"
like "$HTTP_BODY" "<tr class=\"probe ok\"><td>lo-icmp</td><td>icmp</td><td class=\"tgt\">127.0.0.1</td><td class=\"st ok\">reply</td>" \
    "/ lists a replying target as reply, in green"

http_get "$(np_url /no/such/page)"
is "$HTTP_CODE" 404 "an unknown path answers 404"

http_get "$(np_url /metrics)" -X POST -d x=1
like "$HTTP_CODE" '^(405|501)$' "POST /metrics is refused (405 or 501, got $HTTP_CODE)"

code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -I "$(np_url /metrics)")
is "$code" 200 "HEAD /metrics answers 200"

# ---- counters grow ------------------------------------------------------

grown()
{
	local v

	scrape || return 1
	v=$(val netprobe_probe_runs_total "${TOPEN[@]}" result=success) &&
	    _num_cmp "$v" '>' "$opened" || return 1
	v=$(val netprobe_icmp_packets_sent_total "${ICMP1[@]}") &&
	    _num_cmp "$v" '>' "$sent" || return 1
	v=$(val netprobe_probe_runs_total "${TCLOSED[@]}" result=refused) &&
	    _num_cmp "$v" '>' "$refused"
}
wait_for 10 grown
ok $? "runs_total and packets_sent_total grow at the 1s interval" || {
	diag "before: open $opened, refused $refused, sent $sent"
	show netprobe_probe_runs_total
	show netprobe_icmp_packets_sent_total
}
is "$(val netprobe_icmp_packets_received_total "${ICMP1[@]}")" \
    "$(val netprobe_icmp_packets_sent_total "${ICMP1[@]}")" \
    "received still equals sent after more runs"

# ---- histograms: false (thousands of targets: the buckets are most of
# /metrics), turned off by a reload and on again -------------------------

buckets() {	# buckets PROBE: its _bucket lines now
	scrape && metric_lines '*' "probe=$1" | grep -c '_bucket{' || true
}
cmp_ok "$(buckets lo-icmp)" '>' 0 "lo-icmp has histogram buckets"
sed 's/^    count: 2$/    count: 2\n    histograms: false/' "$T/netprobed.yaml" >"$T/nohist.yaml"
cp "$T/netprobed.yaml" "$T/hist.yaml"
cp "$T/nohist.yaml" "$T/netprobed.yaml"
kill -HUP "$NETPROBED_PID"
gone() { [ "$(buckets lo-icmp)" = 0 ]; }
wait_for 10 gone
ok $? "histograms: false, reloaded: lo-icmp exports no bucket any more"
cmp_ok "$(buckets lo-tcp)" '>' 0 "  lo-tcp keeps its duration histogram"
runs=$(val netprobe_probe_runs_total "${ICMP1[@]}" result=success)
cmp_ok "$runs" '>' 0 "  its counters go on (runs_total $runs)"
is "$(val netprobe_icmp_packet_loss_ratio "${ICMP1[@]}")" 0 "  and its gauges"
cp "$T/hist.yaml" "$T/netprobed.yaml"
kill -HUP "$NETPROBED_PID"
back() { [ "$(buckets lo-icmp)" -gt 0 ]; }
wait_for 10 back
ok $? "histograms back on by a reload: the buckets are back"

# ---- SIGTERM ------------------------------------------------------------

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM" || diag_file "$LOG"
is "$STOP_KILLED" 0 "netprobed stopped within 5 s of SIGTERM"
like "$(cat "$LOG")" '^netprobed: info: SIGTERM received, stopping$' \
    "the log says SIGTERM received"
is "$(tail -n 1 "$LOG")" "netprobed: info: stopped" \
    "the log ends with 'stopped'" || diag_file "$LOG"
unlike "$(cat "$LOG")" '(error|warning):' "the log has no warnings or errors"
http_get "$(np_url /healthz)"
is "$HTTP_CODE" 000 "nothing answers on port $NP_PORT after the stop"

done_testing
