#!/usr/bin/env bash
#
# The h323 probe against a small H.225.0 peer on loopback
# (tests/peers/h323_responder.py), through --once (table, exit status)
# and through the running daemon's /metrics (exact values, promtool):
#   RAS  GRQ -> GCF, GRJ terminalExcluded, XRS, RIP then GCF, an answer
#        only to the retransmission, a spoofed answer (right number from
#        another port, wrong number, then the right GRJ), silence, ICMP
#        port unreachable; LRQ -> LCF, LRJ
#   call Setup -> Call Proceeding + Alerting + Connect, Call Proceeding,
#        Release Complete (cause 21), a close, garbage, a spoofed call
#        reference, silence, a refused connect
# What the peer received is checked too (our Release Complete, cause 16,
# same call reference; retransmissions keep their number; numbers and
# GUIDs change per run), and tshark decodes both directions from a
# capture on lo without a malformed packet or an expert warning.
#
# Traffic goes only to 127.0.0.1.  Ports: 11719-11726 and 11728 (peer,
# UDP RAS and TCP call signalling), 11727 (netprobed), 11729 (kept
# closed, UDP and TCP).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ -n "$PYTHON3" ] || skip_all "no python3 for the H.225.0 peer"

T=$TAP_TMPDIR
RESPONDER=$top_srcdir/tests/peers/h323_responder.py
[ -r "$RESPONDER" ] || skip_all "no $RESPONDER"
NP_PORT=11727
CLOSED=11729
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
RAS_PORTS=(11719 11721 11722 11723 11724 11725 11726 11728)
LOG=$T/peer.log

udp_bound() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
for p in 11719 11720 11721 11722 11723 11724 11725 11726 11727 11728 \
    "$CLOSED"; do
	if port_listening "$p" || udp_bound "$p"; then
		bail_out "port $p must be free for this test, but something uses it"
	fi
done

# ---- the peer -----------------------------------------------------------

"$PYTHON3" "$RESPONDER" --host 127.0.0.1 --log "$LOG" --ready "$T/ready" \
    --ras 11719:gcf --ras 11721:grj --ras 11722:silent --ras 11723:spoof \
    --ras 11724:late --ras 11725:rip --ras 11726:xrs --ras 11728:flip \
    --cs 11720:connect --cs 11721:release --cs 11722:close \
    --cs 11723:garbage --cs 11724:spoof --cs 11725:silent \
    --cs 11726:proceed </dev/null >"$T/peer.out" 2>&1 &
PEER_PID=$!
register_pid "$PEER_PID"
peer_up() { [ -e "$T/ready" ] || pid_gone "$PEER_PID"; }
wait_for 10 peer_up
if ! pid_alive "$PEER_PID" || [ ! -e "$T/ready" ]; then
	diag_file "$T/peer.out"
	bail_out "the H.225.0 peer did not start"
fi

# and on ::1, where the host has it: ip6Address in the GRQ, v6 TCP
HAVE_V6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	"$PYTHON3" "$RESPONDER" --host ::1 --log "$T/peer6.log" --ready "$T/ready6" \
	    --ras 11719:gcf --cs 11720:connect </dev/null >"$T/peer6.out" 2>&1 &
	PEER6_PID=$!
	register_pid "$PEER6_PID"
	peer6_up() { [ -e "$T/ready6" ] || pid_gone "$PEER6_PID"; }
	wait_for 10 peer6_up
	if pid_alive "$PEER6_PID" && [ -e "$T/ready6" ]; then
		HAVE_V6=1
	else
		diag_file "$T/peer6.out"
		bail_out "the H.225.0 peer did not start on ::1"
	fi
fi

# ---- a capture on lo, for tshark ----------------------------------------

CAP=$T/h323.pcapng
CAP_PID=
if command -v dumpcap >/dev/null 2>&1 && command -v tshark >/dev/null 2>&1
then
	dumpcap -i lo -w "$CAP" \
	    -f "udp portrange 11719-11729 or tcp portrange 11719-11729" \
	    </dev/null >"$T/dumpcap.out" 2>&1 &
	CAP_PID=$!
	register_pid "$CAP_PID"
	cap_up()
	{
		grep -q '^Capturing on' "$T/dumpcap.out" || pid_gone "$CAP_PID"
	}
	wait_for 10 cap_up
	if ! pid_alive "$CAP_PID"; then
		diag_file "$T/dumpcap.out"
		CAP_PID=
	else
		# UDP to netprobed's HTTP port: in the filter, not H.225.0
		capture_canary "$NP_PORT" "$CAP" ||
		    diag "no canary in the capture"
	fi
fi

# ---- --once -------------------------------------------------------------

# once CONFIG: RC, OUT, ERR
once()
{
	timeout -k 5 30 "$NETPROBED" -c "$1" --once >"$T/out" 2>"$T/err" \
	    </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# row PROBE TARGET: the table row
row() { awk -v p="$1" -v t="$2" '$1 == p && $3 == t { print; exit }' <<<"$OUT"; }

# check PROBE TARGET RESULT DETAIL-ERE DESC
check()
{
	local r t

	r=$(row "$1" "$2")
	t=${2//./\\.}
	t=${t//[/\\[}
	t=${t//]/\\]}
	if ! like "$r" "^$1 +h323 +$t +$3 +[^ ]+( ms)?  $4\$" "$5"; then
		diag "table:" "$OUT"
		[ -n "$ERR" ] && diag "stderr:" "$ERR"
	fi
}

L=127.0.0.1
V6_PROBES=
if [ "$HAVE_V6" = 1 ]; then
	V6_PROBES='
  - {name: ras-gcf6, type: h323, target: "[::1]:11719"}
  - {name: call-connect6, type: h323, mode: call, target: "[::1]:11720"}'
fi
cat >"$T/once.yaml" <<EOF
defaults:
  interval: 10s
  timeout: 1500ms
probes:
  - {name: ras-gcf, type: h323, target: "$L:11719"}
  - {name: ras-grj, type: h323, target: "$L:11721"}
  - {name: ras-silent, type: h323, target: "$L:11722", retransmit: 500ms}
  - {name: ras-spoof, type: h323, target: "$L:11723"}
  - {name: ras-late, type: h323, target: "$L:11724", retransmit: 300ms}
  - {name: ras-rip, type: h323, target: "$L:11725"}
  - {name: ras-xrs, type: h323, target: "$L:11726"}
  - {name: ras-closed, type: h323, target: "$L:$CLOSED"}
  - name: ras-lrq
    type: h323
    ras_message: lrq
    endpoint_alias: "1001"
    targets: ["$L:11719", "$L:11721"]
  - name: call-connect
    type: h323
    mode: call
    target: "$L:11720"
    alias: netprobed
    called_number: "1001"
  - {name: call-proceed, type: h323, mode: call, target: "$L:11726"}
  - {name: call-release, type: h323, mode: call, target: "$L:11721"}
  - name: call-release-strict
    type: h323
    mode: call
    target: "$L:11721"
    accept_release_complete: false
  - {name: call-close, type: h323, mode: call, target: "$L:11722"}
  - {name: call-garbage, type: h323, mode: call, target: "$L:11723"}
  - name: call-spoof
    type: h323
    mode: call
    target: "$L:11724"
    accept_release_complete: false
  - {name: call-silent, type: h323, mode: call, target: "$L:11725"}
  - {name: call-closed, type: h323, mode: call, target: "$L:$CLOSED"}$V6_PROBES
EOF

once "$T/once.yaml"
# dumpcap does not drain the kernel's buffer when stopped: wait until the
# run's last H.225.0 message, the Release Complete to the silent peer at
# the deadline, is in the file
cap_done()
{
	[ -n "$(tshark -r "$CAP" -Y 'tcp.dstport == 11725 &&
	    q931.message_type == 0x5a' 2>/dev/null)" ]
}
if [ -n "$CAP_PID" ]; then
	wait_for 10 cap_done
	stop_pid "$CAP_PID"
fi
is "$RC" 1 "--once exits 1: some H.323 targets fail" || diag "$ERR"
check ras-gcf "$L:11719" answered 'GCF from gatekeeper "GK"' \
    "ras: GCF is answered, with the gatekeeper's identifier"
check ras-grj "$L:11721" bad_response 'GRJ: terminalExcluded' \
    "ras: GRJ is bad_response with its reason"
check ras-silent "$L:11722" timeout 'no answer to 3 GRQs within 1500ms' \
    "ras: silence is a timeout after 3 GRQs"
check ras-spoof "$L:11723" bad_response 'GRJ: resourceUnavailable' \
    "ras: spoofed GCFs (other port, wrong number) do not count"
check ras-late "$L:11724" answered 'GCF from gatekeeper "GK"' \
    "ras: the retransmission is answered"
check ras-rip "$L:11725" answered 'GCF from gatekeeper "GK"' \
    "ras: RequestInProgress, then GCF"
check ras-xrs "$L:11726" bad_response \
    'XRS: the gatekeeper did not understand the GRQ' \
    "ras: unknownMessageResponse is bad_response"
check ras-closed "$L:$CLOSED" refused 'ICMP port unreachable' \
    "ras: a closed port is refused (ICMP port unreachable)"
check ras-lrq "$L:11719" answered 'LCF for 1001' "ras: LRQ answered by LCF"
check ras-lrq "$L:11721" bad_response 'LRJ: notRegistered' \
    "ras: LRQ answered by LRJ is bad_response with its reason"
check call-connect "$L:11720" answered 'CallProceeding' \
    "call: Call Proceeding (then Alerting, Connect) is answered"
check call-proceed "$L:11726" answered 'CallProceeding' \
    "call: Call Proceeding alone is answered"
check call-release "$L:11721" answered \
    'ReleaseComplete, cause 21 \(call rejected\), destinationRejection' \
    "call: Release Complete with its cause proves a live stack"
check call-release-strict "$L:11721" bad_response \
    'ReleaseComplete, cause 21 \(call rejected\), destinationRejection' \
    "call: accept_release_complete false makes it bad_response"
check call-close "$L:11722" bad_response \
    'connection closed by the peer before any answer' \
    "call: a close after the Setup is bad_response"
check call-garbage "$L:11723" bad_response \
    'malformed answer: not TPKT \(version is not 3\)' \
    "call: a non-TPKT answer is bad_response"
check call-spoof "$L:11724" bad_response \
    'ReleaseComplete, cause 17 \(user busy\), destinationRejection' \
    "call: answers with another call reference or flag do not count"
check call-silent "$L:11725" timeout 'no answer to Setup within 1500ms' \
    "call: silence after the Setup is a timeout"
check call-closed "$L:$CLOSED" refused 'connect: Connection refused' \
    "call: a closed port is refused"
if [ "$HAVE_V6" = 1 ]; then
	check ras-gcf6 "[::1]:11719" answered 'GCF from gatekeeper "GK"' \
	    "ras over IPv6: GCF"
	check call-connect6 "[::1]:11720" answered 'CallProceeding' \
	    "call over IPv6: Call Proceeding"
	like "$OUT" '^9 of 21 succeeded$' "the summary says 9 of 21 succeeded"
else
	skip "no ::1 on lo" "ras over IPv6: GCF"
	skip "no ::1 on lo" "call over IPv6: Call Proceeding"
	like "$OUT" '^7 of 19 succeeded$' "the summary says 7 of 19 succeeded"
fi
is "$ERR" "" "--once wrote nothing to stderr"
like "$(row ras-gcf "$L:11719")" ' answered +[0-9.]+ ms ' \
    "the table shows the GCF's answer time"

# ---- tshark: both directions decode cleanly -------------------------------

# the capture holds the --once run above, nothing else
if [ -n "$CAP_PID" ]; then
	DECODE=()
	for p in "${RAS_PORTS[@]}" "$CLOSED"; do
		DECODE+=(-d "udp.port==$p,h225")
	done
	TS=$(tshark -r "$CAP" "${DECODE[@]}" -Y h225 2>/dev/null)
	for m in 'RAS: gatekeeperRequest' 'RAS: gatekeeperConfirm' \
	    'RAS: gatekeeperReject' 'RAS: locationRequest' \
	    'RAS: locationConfirm' 'RAS: locationReject' \
	    'RAS: requestInProgress' 'RAS: unknownMessageResponse' \
	    'CS: setup' 'CS: callProceeding' 'CS: alerting' 'CS: connect' \
	    'CS: releaseComplete'; do
		like "$TS" "$m" "tshark decodes $m" || diag "$TS"
	done
	bad=$(tshark -r "$CAP" "${DECODE[@]}" -V -Y 'h225 || q931' 2>/dev/null |
	    grep -E 'Malformed|Expert Info \((Error|Warn)')
	is "$bad" "" "no malformed packet or expert warning in any H.225.0 message"
	# ours: every Setup and Release Complete from the originating side
	F=(-T fields -E separator=' ' -e tcp.stream -e q931.message_type
	    -e q931.call_ref_flag -e q931.call_ref -e q931.cause_value)
	ours=$(tshark -r "$CAP" -Y 'q931 && tcp.dstport >= 11719 &&
	    tcp.dstport <= 11729' "${F[@]}" 2>/dev/null)
	is "$(awk '$2 == "0x05"' <<<"$ours" | wc -l)" $((8 + HAVE_V6)) \
	    "tshark sees our $((8 + HAVE_V6)) Setups" || diag "$ours"
	is "$(awk '$3 != 0' <<<"$ours")" "" \
	    "every message we sent has the 'from originating side' flag"
	is "$(awk '$2 == "0x5a" && $5 != 16' <<<"$ours")" "" \
	    "every Release Complete we sent says cause 16"
	# (tshark gives the garbage peer's stream to HTTP, so our Release
	# Complete there is checked on the peer's side below)
	is "$(awk '$2 == "0x5a"' <<<"$ours" | wc -l)" $((3 + HAVE_V6)) \
	    "tshark sees our Release Completes (connect, proceed, silent)"
	mism=$(awk '$2 == "0x05" { crv[$1] = $4 }
	    $2 == "0x5a" && crv[$1] != $4 { print }' <<<"$ours")
	is "$mism" "" "each Release Complete carries its Setup's call reference"
	# the GCF tshark pairs with our GRQ carries the GRQ's number
	R=(-T fields -E separator=' ' -e h225.RasMessage -e h225.requestSeqNum)
	gk=$(tshark -r "$CAP" "${DECODE[@]}" -Y 'udp.port == 11719' "${R[@]}" \
	    2>/dev/null)
	is "$(awk '$1 == 0 { g[$2] = 1 } $1 == 1 && !g[$2] { print }' <<<"$gk")" \
	    "" "every GCF on 11719 answers a GRQ with its requestSeqNum" ||
		diag "$gk"
else
	for d in "tshark decodes our and the peer's messages" \
	    "no malformed packet or expert warning" "our Setups" \
	    "our Release Completes"; do
		skip "no dumpcap/tshark (package tshark)" "$d"
	done
fi

# ---- what the peer saw --------------------------------------------------

# peer_lines PORT WORDS-ERE: the log lines of that port
peer_lines() { grep -E "^(ras|cs) $1 $2" "$LOG"; }

# --once exits once its last message is sent, which may be before the
# peer has read it: the Release Completes (the last one at the deadline)
# and the third GRQ to the silent gatekeeper (half a second before it).
# Wait until the peer has logged every Release Complete it should get,
# the close that follows the one after Connect, and the 3 GRQs.
peer_got_all()
{
	local p
	for p in 11720 11723 11725 11726; do
		peer_lines "$p" 'recv ReleaseComplete' >/dev/null || return 1
	done
	peer_lines 11720 close >/dev/null &&
	    [ "$(peer_lines 11722 'recv GRQ' | wc -l)" -ge 3 ]
}
wait_for 10 peer_got_all ||
	diag "the peer did not log every Release Complete and GRQ it should get"

seqs=$(peer_lines 11724 'recv GRQ' | awk '{ print $6 }')
is "$(wc -l <<<"$seqs")/$(sort -u <<<"$seqs" | wc -l)" 2/1 \
    "the GRQ was sent twice to the late peer, with one requestSeqNum" ||
	diag "$seqs"
seqs=$(peer_lines 11722 'recv GRQ' | awk '{ print $6 }')
is "$(wc -l <<<"$seqs")/$(sort -u <<<"$seqs" | wc -l)" 3/1 \
    "3 GRQs to the silent peer, one requestSeqNum" || diag "$seqs"
is "$(peer_lines 11725 'recv GRQ' | wc -l)" 1 \
    "no retransmission while RequestInProgress asks to wait"
# the GRQ's rasAddress is the socket it came from (o12-15 ip, o16-17 port)
l=$(peer_lines 11719 'recv GRQ' | head -n 1)
src=$(awk '{ print $8 }' <<<"$l")
hex=$(awk '{ print $NF }' <<<"$l")
ras=$(printf '%d.%d.%d.%d:%d' "0x${hex:24:2}" "0x${hex:26:2}" \
    "0x${hex:28:2}" "0x${hex:30:2}" "0x${hex:32:4}")
is "$ras" "$src" "the GRQ's rasAddress is the probe's own socket" ||
	diag "$l"
if [ "$HAVE_V6" = 1 ]; then
	# ip6Address: o11 0x30, o12-27 the address, o28-29 the port
	l=$(grep -E '^ras 11719 recv GRQ' "$T/peer6.log" | head -n 1)
	hex=$(awk '{ print $NF }' <<<"$l")
	is "${hex:22:2} ${hex:24:32} $((16#${hex:56:4}))" \
	    "30 00000000000000000000000000000001 $(awk '{ print $8 }' <<<"$l" |
	    sed 's/.*]://')" \
	    "over IPv6 the GRQ's rasAddress is an ip6Address, our socket" ||
		diag "$l"
else
	skip "no ::1 on lo" "over IPv6 the GRQ's rasAddress is an ip6Address"
fi

# call_msgs PORT: "TYPE crv FLAG cause" per received message
call_msgs()
{
	peer_lines "$1" recv | awk '{ print $4, $6, $8, $10 }'
}
setup=$(call_msgs 11720 | awk '$1 == "Setup" { print $2; exit }')
is "$(call_msgs 11720 | awk '$1 == "ReleaseComplete"')" \
    "ReleaseComplete $setup 0 16" \
    "after Connect the peer got Release Complete, cause 16, same call reference" ||
	diag "$(peer_lines 11720 '')"
setup=$(call_msgs 11726 | awk '$1 == "Setup" { print $2; exit }')
is "$(call_msgs 11726 | awk '$1 == "ReleaseComplete"')" \
    "ReleaseComplete $setup 0 16" \
    "after Call Proceeding alone the call is released too"
setup=$(call_msgs 11725 | awk '$1 == "Setup" { print $2; exit }')
is "$(call_msgs 11725 | awk '$1 == "ReleaseComplete"')" \
    "ReleaseComplete $setup 0 16" \
    "a silent peer gets Release Complete at the deadline"
setup=$(call_msgs 11723 | awk '$1 == "Setup" { print $2; exit }')
is "$(call_msgs 11723 | awk '$1 == "ReleaseComplete"')" \
    "ReleaseComplete $setup 0 16" \
    "after a malformed answer the call is released too"
is "$(call_msgs 11721 | grep -c ReleaseComplete)" 0 \
    "no Release Complete to a peer that released the call itself"
is "$(call_msgs 11722 | grep -c ReleaseComplete)" 0 \
    "no Release Complete into a connection the peer closed"
like "$(peer_lines 11720 close)" 'close \(released\)$' \
    "the peer closed the connection after our Release Complete"

# ---- fresh identifiers per run --------------------------------------------

cat >"$T/again.yaml" <<EOF
defaults: {interval: 10s, timeout: 1s}
probes:
  - {name: ras-gcf, type: h323, target: "$L:11719"}
  - {name: call-connect, type: h323, mode: call, target: "$L:11720"}
EOF
once "$T/again.yaml"
is "$RC" 0 "--once exits 0 when every H.323 target answers" ||
	diag "$OUT" "$ERR"
once "$T/again.yaml"
grq=$(peer_lines 11719 'recv GRQ' | awk '{ print $6 }' | sort -u | wc -l)
setups=$(peer_lines 11720 'recv Setup')
cmp_ok "$grq" '>=' 2 "requestSeqNum differs between runs (3 runs, $grq numbers)"
cmp_ok "$(awk '{ print $6 }' <<<"$setups" | sort -u | wc -l)" '>=' 2 \
    "the call reference differs between runs"
# conferenceID and callIdentifier: the last 36 and 16 octets of the UUIE
is "$(awk '{ u = $NF; print substr(u, length(u) - 71, 32) }' \
    <<<"$setups" | sort -u | wc -l)" 3 \
    "a fresh conferenceID in each of the 3 Setups"
is "$(awk '{ u = $NF; print substr(u, length(u) - 31) }' <<<"$setups" |
    sort -u | wc -l)" 3 "a fresh callIdentifier in each of the 3 Setups"

# ---- the daemon's /metrics ------------------------------------------------

cat >"$T/daemon.yaml" <<EOF
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 800ms
probes:
  - name: gk
    type: h323
    targets: ["$L:11719", "$L:11721", "$L:11722", "$L:$CLOSED"]
    retransmit: 300ms
  - {name: gk-flip, type: h323, target: "$L:11728", retransmit: 300ms}
  - {name: mcu, type: h323, mode: call, targets: ["$L:11720", "$L:11721"]}
EOF
DLOG=$T/netprobed.log
start_netprobed "$T/daemon.yaml" "$DLOG"
ok $? "netprobed starts with h323 probes" || bail_out "netprobed did not start"

GCF=(probe=gk type=h323 "target=$L:11719")
GRJ=(probe=gk type=h323 "target=$L:11721")
SIL=(probe=gk type=h323 "target=$L:11722")
CLO=(probe=gk type=h323 "target=$L:$CLOSED")
CON=(probe=mcu type=h323 "target=$L:11720")
REL=(probe=mcu type=h323 "target=$L:11721")
val() { metric_value "$@"; }
show() { diag "$(metric_lines "$@" || echo "(no $1 series)")"; }

all_results()
{
	local t

	scrape || return 1
	for t in 11719 11721 11722 "$CLOSED"; do
		val probe_success probe=gk "target=$L:$t" >/dev/null || return 1
	done
	val probe_success "${CON[@]}" >/dev/null &&
	    val probe_success "${REL[@]}" >/dev/null
}
wait_for 15 all_results
ok $? "probe_success appears for every h323 target" ||
	{ show probe_success; diag_file "$DLOG"; }

is "$(val probe_success "${GCF[@]}")" 1 "probe_success 1 for the GCF gatekeeper"
is "$(val probe_success "${GRJ[@]}")" 0 "probe_success 0 for the GRJ gatekeeper"
is "$(val probe_success "${SIL[@]}")" 0 "probe_success 0 for the silent gatekeeper"
is "$(val probe_success "${CLO[@]}")" 0 "probe_success 0 for the closed RAS port"
is "$(val probe_success "${CON[@]}")" 1 "probe_success 1 for the MCU that connects"
is "$(val probe_success "${REL[@]}")" 1 \
    "probe_success 1 for the MCU that releases with a cause"

want='netprobe_h323_answer_info{probe="gk",type="h323",'
want+="target=\"$L:11719\",message=\"GCF\"} 1"
is "$(metric_lines netprobe_h323_answer_info "${GCF[@]}")" "$want" \
    "netprobe_h323_answer_info: GCF, no reason" ||
	show netprobe_h323_answer_info
is "$(val netprobe_h323_answer_info "${GRJ[@]}" message=GRJ \
    reason=terminalExcluded)" 1 \
    "netprobe_h323_answer_info: GRJ with reason terminalExcluded" ||
	show netprobe_h323_answer_info
val netprobe_h323_answer_info "${SIL[@]}" >/dev/null
ok $((!$?)) "no netprobe_h323_answer_info for the silent gatekeeper"
is "$(val netprobe_h323_answer_info "${CON[@]}" message=CallProceeding)" 1 \
    "netprobe_h323_answer_info: CallProceeding for the MCU that connects"
is "$(val netprobe_h323_answer_info "${REL[@]}" message=ReleaseComplete \
    reason=destinationRejection)" 1 \
    "netprobe_h323_answer_info: ReleaseComplete, destinationRejection" ||
	show netprobe_h323_answer_info
is "$(val netprobe_h323_release_cause "${REL[@]}")" 21 \
    "netprobe_h323_release_cause is 21 (call rejected)" ||
	show netprobe_h323_release_cause
val netprobe_h323_release_cause "${CON[@]}" >/dev/null
ok $((!$?)) "no netprobe_h323_release_cause when the peer did not release"
t=$(val netprobe_h323_answer_time_seconds "${GCF[@]}")
cmp_ok "$t" '>' 0 "netprobe_h323_answer_time_seconds for GCF is > 0 ($t)"
cmp_ok "$t" '<' 0.8 "netprobe_h323_answer_time_seconds is within the timeout"
val netprobe_h323_answer_time_seconds "${SIL[@]}" >/dev/null
ok $((!$?)) "no answer time for the silent gatekeeper"
cmp_ok "$(val netprobe_probe_runs_total "${GRJ[@]}" result=bad_response)" '>=' 1 \
    "runs_total{result=\"bad_response\"} counts the GRJ"
cmp_ok "$(val netprobe_probe_runs_total "${SIL[@]}" result=timeout)" '>=' 1 \
    "runs_total{result=\"timeout\"} counts the silent gatekeeper"
cmp_ok "$(val netprobe_probe_runs_total "${CLO[@]}" result=refused)" '>=' 1 \
    "runs_total{result=\"refused\"} counts the closed port"

# The flip peer answers GCF, GRJ, then nothing, in turn: the info series
# is replaced (never two at once) and absent after the silent run.
FLIP=(probe=gk-flip type=h323 "target=$L:11728")
seen=
flip_states()
{
	local n s

	scrape || return 1
	n=$(metric_lines netprobe_h323_answer_info "${FLIP[@]}" | wc -l)
	if [ "$n" -gt 1 ]; then
		echo "two" >"$T/flip.bad"
		metric_lines netprobe_h323_answer_info "${FLIP[@]}" >>"$T/flip.bad"
	fi
	if [ "$n" -eq 0 ]; then
		val probe_success "${FLIP[@]}" >/dev/null && s=none
	elif val netprobe_h323_answer_info "${FLIP[@]}" message=GCF >/dev/null; then
		s=GCF
	elif val netprobe_h323_answer_info "${FLIP[@]}" message=GRJ \
	    reason=terminalExcluded >/dev/null; then
		s=GRJ
	fi
	case " $seen " in *" $s "*) ;; *) seen="$seen $s" ;; esac
	[[ $seen == *GCF* && $seen == *GRJ* && $seen == *none* ]]
}
wait_for 20 flip_states
ok $? "the flip peer's answer goes GCF, GRJ and none (seen:$seen)"
ok "$([ ! -e "$T/flip.bad" ]; echo $?)" \
    "never two netprobe_h323_answer_info series for one target" ||
	diag_file "$T/flip.bad"

scrape
if [ -x "$PROMTOOL" ]; then
	pout=$("$PROMTOOL" check metrics 2>&1 <<<"$METRICS")
	is "$?:$pout" "0:" "promtool check metrics is clean" || diag "$pout"
else
	skip "no promtool" "promtool check metrics is clean"
fi
like "$METRICS" '^# TYPE netprobe_h323_answer_info gauge$' \
    "netprobe_h323_answer_info is a gauge"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM" || diag_file "$DLOG"
unlike "$(cat "$DLOG")" '(error|warning):|Sanitizer|runtime error' \
    "the daemon log has no warnings or errors"

done_testing
