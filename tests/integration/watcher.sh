#!/usr/bin/env bash
#
# The passive isolation watcher, from outside:
#  1. `netprobed --replay` over captures written by tests/peers/mkpcap.py
#     (scapy): the exact violation lines, summaries and exit statuses for
#     allowed traffic, each violation kind, IPv6, VLAN and QinQ frames,
#     fragments, malformed frames, cooked and raw link types, pcapng, a
#     cut file and a file that is no capture.
#  2. The same captures sent with tcpreplay onto a veth that a running
#     netprobed watches inside a namespace: the same violations as
#     --replay, counted the same (/metrics, promtool clean).
#  3. Real traffic from a segment namespace (ping, TCP, UDP): allowed
#     traffic passes, forbidden traffic is logged within about a second,
#     counted, named on /status and in the bounded top-N series, sent to
#     snmptrapd as netprobeIsolationViolation.
#  4. A reload with a wider allow-list keeps the handle, counters and
#     table; deleting the veth takes netprobe_watcher_up to 0, making it
#     again brings it back to 1 and new violations are seen.
#
#   npw-PID-s (the segment)              npw-PID-g (netprobed's gateway)
#   npw-s 10.30.1.5/16  ----veth----  npw-g 10.30.0.1/16 (watched)
#                                      lo: 10.20.0.1 .10 .53 .80 (the
#                                      extranet's allowed services),
#                                      10.40.0.9 (the internet)
#
# Everything runs inside the two namespaces (deleted at exit); netprobed
# listens on 127.0.0.1:19590 and snmptrapd on udp 127.0.0.1:19591 in the
# gateway namespace.  IPv6 is off in both, so no neighbour discovery
# adds packets to the exact counts.

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
if [ -z "$PYTHON3" ] || ! "$PYTHON3" -c 'import scapy' 2>/dev/null; then
	skip_all "no python3-scapy to write the test captures"
fi
MKPCAP=$top_srcdir/tests/peers/mkpcap.py
LOGREAD=$top_srcdir/tests/peers/trapd_log.py
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
SNMPTRAPD=${SNMPTRAPD:-$(command -v snmptrapd || echo /usr/sbin/snmptrapd)}

T=$TAP_TMPDIR
C=$T/caps
NP_PORT=19590
TRAP_PORT=19591
B=1.3.6.1.4.1.8072.9999.9999.7457
GW="npw-$$-g"
SEG="npw-$$-s"

"$PYTHON3" "$MKPCAP" "$C" 2>"$T/mkpcap.err" ||
	{ diag_file "$T/mkpcap.err"; bail_out "mkpcap.py failed"; }

# $1: the live extras (snmp, audit) or nothing; $2: more allow entries;
# $3: a filter line
write_config()
{
	cat >"$T/np.yaml" <<END
site: {name: jinshui}
listen: 127.0.0.1:$NP_PORT
watchers:
  - name: segment
    interface: npw-g$3
    segment: ["10.30.0.0/16", "fd00:30::/64"]
    allow:
      - "10.20.0.10/32"
      - "10.20.0.53/32 udp/53"
      - "10.20.0.80/32 tcp/80-443"
      - "10.20.0.1/32 icmp"
      - "10.20.0.0/16 udp/5060"
      - "fd00:20::53/128 udp/53"$2
    conference:
      mcus: ["10.20.0.10"]
      listen_only_after: 2s
$1
END
}
write_config ""

out=$("$NETPROBED" -c "$T/np.yaml" --check-config 2>&1)
is "$?:$out" "0:$T/np.yaml: OK (0 probes, 0 targets)" \
    "the watcher config passes --check-config"

# ---- 1. --replay ----------------------------------------------------------

# replay FILE STATUS: --replay prints exactly the expected text (stdin)
replay()
{
	local want got st

	want=$(cat)
	got=$("$NETPROBED" -c "$T/np.yaml" --replay "$C/$1" 2>"$T/replay.err")
	st=$?
	is "$st" "$2" "--replay $1: exit status $2" || diag_file "$T/replay.err"
	is "$got" "$want" "--replay $1: the violations and the summary"
}

replay allowed.pcap 0 <<'END'
segment: 13 packets, 0 violations in 0 flows, 0 malformed
END

replay egress.pcap 1 <<'END'
2024-05-01T08:01:40.000Z segment egress tcp 10.30.1.5 -> 10.40.0.9:443
2024-05-01T08:01:40.030Z segment egress tcp 10.30.1.5 -> 10.20.0.53:53
2024-05-01T08:01:40.040Z segment egress tcp 10.30.1.5 -> 10.20.0.80:22
2024-05-01T08:01:40.050Z segment egress icmp 10.30.1.5 -> 10.40.0.9
2024-05-01T08:01:40.060Z segment egress udp fd00:30::5 -> [fd00:40::9]:123
segment: 7 packets, 7 violations in 5 flows, 0 malformed
END

egress_text=$("$NETPROBED" -c "$T/np.yaml" --replay "$C/egress.pcap" 2>&1)
replay egress.pcapng 1 <<<"$egress_text"

replay ingress.pcap 1 <<'END'
2024-05-01T08:03:20.000Z segment ingress tcp 10.40.0.9:40000 -> 10.30.1.5
2024-05-01T08:03:20.030Z segment ingress tcp 10.20.0.80:22 -> 10.30.1.5
2024-05-01T08:03:20.040Z segment ingress icmpv6 fd00:40::9 -> fd00:30::5
2024-05-01T08:03:20.050Z segment ingress icmp 10.40.0.9 -> 10.30.1.5
segment: 6 packets, 5 violations in 4 flows, 0 malformed
END

replay conference.pcap 1 <<'END'
2024-05-01T08:05:00.000Z segment foreign_mcu udp 10.30.1.6 -> 10.50.0.10:5060
2024-05-01T08:05:00.010Z segment foreign_mcu udp 10.50.0.10:5060 -> 10.30.1.6
2024-05-01T08:05:00.020Z segment foreign_mcu tcp 10.30.1.6 -> 10.50.0.10:5061
2024-05-01T08:05:00.030Z segment foreign_mcu tcp 10.30.1.6 -> 10.50.0.10:1720
2024-05-01T08:05:00.040Z segment foreign_mcu udp 10.30.1.6 -> 10.50.0.10:1719
2024-05-01T08:05:00.050Z segment foreign_mcu udp 10.30.1.6 -> 10.20.0.99:5060
2024-05-01T08:05:00.080Z segment foreign_mcu udp 10.60.0.1 -> 10.60.0.2:5060
2024-05-01T08:05:00.090Z segment foreign_mcu udp fd00:30::5 -> [fd00:50::10]:5060
segment: 10 packets, 8 violations in 8 flows, 0 malformed
END

# A: no audio out (flagged at 2 s); B talks (never); C sends only video
replay listen_only.pcap 1 <<'END'
2024-05-01T08:06:42.000Z segment listen_only udp 10.30.1.6 -> 10.20.0.10:40000
2024-05-01T08:06:42.030Z segment listen_only udp 10.30.1.8 -> 10.20.0.10:40004
segment: 153 packets, 20 violations in 2 flows, 0 malformed
END

replay vlan.pcap 1 <<'END'
2024-05-01T08:08:20.000Z segment egress tcp 10.30.1.5 -> 10.40.0.9:8080
2024-05-01T08:08:20.010Z segment egress tcp 10.30.1.5 -> 10.40.0.9:8081
2024-05-01T08:08:20.030Z segment egress tcp fd00:30::5 -> [fd00:40::9]:8082
segment: 4 packets, 3 violations in 3 flows, 0 malformed
END

# first fragments by their port; the later ones have none: allowed when
# the remote has an entry for the protocol (the DNS server), else a flow
# without a port
replay fragments.pcap 1 <<'END'
2024-05-01T08:10:00.040Z segment egress udp 10.30.1.5 -> 10.40.0.9:9999
2024-05-01T08:10:00.050Z segment egress udp 10.30.1.5 -> 10.40.0.9
2024-05-01T08:10:00.110Z segment egress udp fd00:30::5 -> [fd00:40::9]:9999
2024-05-01T08:10:00.120Z segment egress udp fd00:30::5 -> fd00:40::9
segment: 14 packets, 7 violations in 4 flows, 0 malformed
END

replay malformed.pcap 1 <<'END'
2024-05-01T08:11:40.160Z segment egress udp 10.30.1.5 -> 10.40.0.9:7
segment: 17 packets, 1 violations in 1 flows, 15 malformed
END

replay short.pcap 0 <<'END'
segment: 2 packets, 0 violations in 0 flows, 2 malformed
END

replay sll.pcap 1 <<'END'
2024-05-01T08:15:00.000Z segment egress tcp 10.30.1.5 -> 10.40.0.9:3389
segment: 1 packets, 1 violations in 1 flows, 0 malformed
END

replay raw.pcap 1 <<'END'
2024-05-01T08:16:40.000Z segment egress udp 10.30.1.5 -> 10.40.0.9:5353
2024-05-01T08:16:40.010Z segment egress tcp fd00:30::5 -> [fd00:40::9]:25
segment: 2 packets, 2 violations in 2 flows, 0 malformed
END

# a file cut inside its last record: what was read, then status 2
size=$(stat -c %s "$C/egress.pcap")
head -c $((size - 20)) "$C/egress.pcap" >"$C/cut.pcap"
replay cut.pcap 2 <<'END'
2024-05-01T08:01:40.000Z segment egress tcp 10.30.1.5 -> 10.40.0.9:443
2024-05-01T08:01:40.030Z segment egress tcp 10.30.1.5 -> 10.20.0.53:53
2024-05-01T08:01:40.040Z segment egress tcp 10.30.1.5 -> 10.20.0.80:22
2024-05-01T08:01:40.050Z segment egress icmp 10.30.1.5 -> 10.40.0.9
segment: 6 packets, 6 violations in 4 flows, 0 malformed
END
like "$(cat "$T/replay.err")" "^--replay: $C/cut.pcap: truncated dump file" \
    "--replay cut.pcap: says the file is cut"

cp "$T/np.yaml" "$C/np.yaml"
replay np.yaml 2 </dev/null
like "$(cat "$T/replay.err")" "^--replay: $C/np.yaml: unknown file format" \
    "--replay of a config file: unknown file format, status 2"
replay none.pcap 2 </dev/null
is "$(cat "$T/replay.err")" "--replay: $C/none.pcap: No such file or directory" \
    "--replay of a missing file: status 2 and why"

# ---- the namespaces ---------------------------------------------------------

[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "no ip(8)"
command -v tcpreplay >/dev/null 2>&1 || skip_all "no tcpreplay"
command -v curl >/dev/null 2>&1 || skip_all "no curl"

for ns in "$GW" "$SEG"; do
	ip netns add "$ns" 2>>"$T/ns.err" ||
		skip_all "ip netns add failed: $(cat "$T/ns.err")"
	on_exit "ip netns del '$ns'"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1 2>>"$T/ns.err"
	ip -n "$ns" link set lo up
done

# the veth pair: made at the start and again after it is deleted
make_veth()
{
	local a

	ip -n "$GW" link add npw-g type veth peer name npw-s netns "$SEG" &&
	ip -n "$GW" link set npw-g address 02:00:00:00:00:aa &&
	ip -n "$SEG" link set npw-s address 02:00:00:00:00:bb &&
	ip -n "$GW" addr add 10.30.0.1/16 dev npw-g &&
	ip -n "$SEG" addr add 10.30.1.5/16 dev npw-s &&
	ip -n "$GW" link set npw-g up && ip -n "$SEG" link set npw-s up &&
	ip -n "$SEG" route add 10.20.0.0/16 via 10.30.0.1 &&
	ip -n "$SEG" route add 10.40.0.0/16 via 10.30.0.1
}
make_veth 2>>"$T/ns.err" || { diag_file "$T/ns.err"; skip_all "cannot build the topology"; }
for a in 10.20.0.1 10.20.0.10 10.20.0.53 10.20.0.80 10.40.0.9; do
	ip -n "$GW" addr add "$a/32" dev lo
done

GWX=(ip netns exec "$GW")
SEGX=(ip netns exec "$SEG")

# netprobed and curl inside the gateway namespace, through tap.sh
cat >"$T/netprobed-gw" <<END
#!/bin/sh
exec ip netns exec $GW "$NETPROBED" "\$@"
END
cat >"$T/curl-gw" <<END
#!/bin/sh
exec ip netns exec $GW curl "\$@"
END
chmod +x "$T/netprobed-gw" "$T/curl-gw"
REAL_NETPROBED=$NETPROBED
NETPROBED=$T/netprobed-gw
CURL=$T/curl-gw

LOG=$T/netprobed.log

# sum NAME [label=value...]: of every matching sample in $METRICS
sum()
{
	metric_lines "$@" 2>/dev/null | awk '{ s += $NF } END { printf "%d\n", s }'
}

# the "KIND TEXT" of replay lines (stdin), sorted
replay_flows() { awk 'NF > 4 && $1 ~ /Z$/ { $1 = ""; $2 = ""; sub(/^  /, ""); print }' | sort; }
# ... and of the daemon's log lines from line $1 on
log_flows()
{
	tail -n +"$1" "$LOG" | sed -n 's/.*watcher segment: \([a-z_]*\) violation: /\1 /p' | sort
}

promtool_clean()
{
	local out

	[ -x "$PROMTOOL" ] || { skip "no promtool" "$1"; return; }
	scrape
	out=$(printf '%s\n' "$METRICS" | "$PROMTOOL" check metrics 2>&1)
	is "$?|$out" "0|" "$1"
}

# ---- 2. tcpreplay: the live daemon sees what --replay sees --------------------

start_netprobed "$T/np.yaml" "$LOG" || bail_out "netprobed did not start in $GW"
up_is() { scrape && [ "$(metric_value netprobe_watcher_up watcher=segment)" = "$1" ]; }
wait_for 5 up_is 1
ok $? "netprobe_watcher_up is 1 once the capture runs" || diag_file "$LOG"
like "$(cat "$LOG")" "watcher segment: capturing on npw-g \\(EN10MB\\)" \
    "the log says where it captures"
scrape
zero=1
for k in egress ingress foreign_mcu listen_only; do
	[ "$(metric_value netprobe_watcher_violations_total watcher=segment kind=$k)" = 0 ] &&
	[ "$(metric_value netprobe_watcher_violation_flows_total watcher=segment kind=$k)" = 0 ] ||
		zero=0
done
for r in link_truncated vlan_too_deep ipv4_total_length ipv6_ext_chain tcp_truncated snaplen; do
	[ "$(metric_value netprobe_watcher_malformed_packets_total watcher=segment reason=$r)" = 0 ] ||
		zero=0
done
is "$zero" 1 "every kind and reason is exported at 0 from the start"
is "$(metric_value netprobe_watcher_listen_only_calls watcher=segment)" 0 \
    "netprobe_watcher_listen_only_calls starts at 0"
promtool_clean "promtool check metrics is clean at the start"

# send FILE [tcpreplay options]: the live counts grow by what --replay
# reports, and the new log lines name the same flows
send()
{
	local f=$1 want n v m line got

	shift
	want=$("$REAL_NETPROBED" -c "$T/np.yaml" --replay "$C/$f" 2>/dev/null)
	read -r n v m <<<"$(sed -n 's/^segment: \([0-9]*\) packets, \([0-9]*\) violations in [0-9]* flows, \([0-9]*\) malformed$/\1 \2 \3/p' <<<"$want")"
	scrape
	base_p=$(sum netprobe_watcher_packets_total watcher=segment)
	base_v=$(sum netprobe_watcher_violations_total watcher=segment)
	base_m=$(sum netprobe_watcher_malformed_packets_total watcher=segment)
	line=$(($(wc -l <"$LOG") + 1))
	"${SEGX[@]}" tcpreplay -q "$@" -i npw-s "$C/$f" >"$T/tcpreplay.out" 2>&1 ||
		{ fail "tcpreplay $f"; diag_file "$T/tcpreplay.out"; return; }
	seen() { scrape && [ "$(sum netprobe_watcher_packets_total watcher=segment)" -ge $((base_p + n)) ]; }
	wait_for 10 seen
	ok $? "tcpreplay $f: the watcher captured its $n packets"
	got=$(log_flows "$line")
	is "$got" "$(replay_flows <<<"$want")" \
	    "tcpreplay $f: the log names the flows --replay names"
	if [ "$f" != listen_only.pcap ]; then
		is "$(($(sum netprobe_watcher_violations_total watcher=segment) - base_v)):$(($(sum netprobe_watcher_malformed_packets_total watcher=segment) - base_m))" \
		    "$v:$m" "tcpreplay $f: $v violations and $m malformed, as --replay"
	fi
}

for f in allowed.pcap egress.pcap ingress.pcap conference.pcap vlan.pcap \
    fragments.pcap malformed.pcap; do
	send "$f" -t
done
scrape
is "$(metric_value netprobe_watcher_malformed_packets_total watcher=segment reason=vlan_too_deep)" 1 \
    "malformed packets are counted by reason (vlan_too_deep)"
is "$(metric_value netprobe_watcher_malformed_packets_total watcher=segment reason=ipv6_ext_chain)" 1 \
    "... and ipv6_ext_chain"
is "$(metric_value netprobe_watcher_violations_total watcher=segment kind=foreign_mcu)" 8 \
    "netprobe_watcher_violations_total{kind=\"foreign_mcu\"} is 8"
is "$(metric_value netprobe_watcher_violation_flows_total watcher=segment kind=egress)" 13 \
    "netprobe_watcher_violation_flows_total{kind=\"egress\"}: 5 + 3 + 4 + 1" ||
	diag "$(metric_lines netprobe_watcher_violation_flows_total)"
# the top 10 of 28 flows get address labels
is "$(metric_lines netprobe_watcher_violation_flow_packets watcher=segment | wc -l)" 10 \
    "only top_n (10) flows have per-address series"
is "$(metric_value netprobe_watcher_violation_flow_packets watcher=segment kind=egress src=10.30.1.5 dst=10.40.0.9 proto=tcp port=443)" 3 \
    "the biggest flow is among them with its 3 packets"

# listen-only needs real time: 3 s of calls at the captured pace
send listen_only.pcap
scrape
is "$(metric_value netprobe_watcher_listen_only_calls watcher=segment):$(metric_value netprobe_watcher_calls watcher=segment)" \
    "2:3" "two of the three calls are listen-only"
cmp_ok "$(metric_value netprobe_watcher_violations_total watcher=segment kind=listen_only)" '>=' 15 \
    "the listen-only calls' media is counted as it keeps coming"
idle() { scrape && [ "$(metric_value netprobe_watcher_calls watcher=segment)" = 0 ]; }
wait_for 15 idle
ok $? "the calls end 10 s after their media stops"
is "$(metric_value netprobe_watcher_listen_only_calls watcher=segment)" 0 \
    "... and so do the listen-only ones"
is "$(metric_value netprobe_watcher_kernel_dropped_packets_total watcher=segment)" 0 \
    "the kernel dropped nothing"
promtool_clean "promtool check metrics is clean with flows and calls"
stop_pid "$NETPROBED_PID"
is "$?" 0 "netprobed stops cleanly on SIGTERM"

# ---- 3. real traffic, snmptrapd ---------------------------------------------

TRAPD_PID=
if [ -x "$SNMPTRAPD" ]; then
	cat >"$T/trapd.conf" <<END
doNotRetainNotificationLogs yes
authCommunity log public
format2 TRAP %.4y-%.2m-%.2l %.2h:%.2j:%.2k from=%b sec=[%P] %V| %v\\n
END
	mkdir -p "$T/trapd.persist"
	SNMP_PERSISTENT_DIR=$T/trapd.persist MIBS='' "${GWX[@]}" "$SNMPTRAPD" -f -On \
	    -Lf "$T/trapd.log" -C -c "$T/trapd.conf" "udp:127.0.0.1:$TRAP_PORT" \
	    </dev/null >/dev/null 2>&1 &
	TRAPD_PID=$!
	register_pid "$TRAPD_PID"
	trapd_up() { [ -n "$("${GWX[@]}" ss -Hlun "sport = :$TRAP_PORT" 2>/dev/null)" ]; }
	wait_for 10 trapd_up || TRAPD_PID=
fi

# listeners in the gateway: TCP on the platform's 80 and the internet's
# 443, the extranet DNS on udp 53 (an echo)
"${GWX[@]}" "$PYTHON3" -c '
import socket, select, sys
socks = []
for a, p in (("10.20.0.80", 80), ("10.40.0.9", 443)):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, p)); s.listen(16); socks.append(s)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.20.0.53", 53))
socks.append(u)
open(sys.argv[1], "w").close()
while True:
    for s in select.select(socks, [], [])[0]:
        if s is u:
            d, a = u.recvfrom(2048); u.sendto(d, a)
        else:
            c, _ = s.accept(); c.close()
' "$T/peers.ready" </dev/null >"$T/peers.log" 2>&1 &
register_pid $!
wait_for 10 test -e "$T/peers.ready" || { diag_file "$T/peers.log"; bail_out "the peers did not start"; }

write_config "snmp:
  managers:
    - {name: nms, address: \"127.0.0.1:$TRAP_PORT\", version: 2c,
       community: public, mode: trap}
audit_log: $T/audit.log"
: >"$LOG"
start_netprobed "$T/np.yaml" "$LOG" || bail_out "netprobed did not start again"
wait_for 5 up_is 1
ok $? "a fresh daemon captures again"

# tcp_connect HOST PORT: from the segment; 0 when it connected
tcp_connect()
{
	"${SEGX[@]}" "$PYTHON3" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
s.close()' "$1" "$2" 2>/dev/null
}
# ping HOST: one ICMP echo from the segment (no ping(8) needed); 0 on
# the reply; prints when it was sent (ms since the epoch)
ping()
{
	"${SEGX[@]}" "$PYTHON3" -c '
import socket, struct, sys, time
host = sys.argv[1]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.5)
p = struct.pack("!BBHHH", 8, 0, 0, 0x4e50, 1) + b"netprobe"
s.sendto(p[:2] + struct.pack("!H", csum(p)) + p[4:], (host, 0))
print(int(time.time() * 1000), flush=True)
end = time.time() + 2
while time.time() < end:
    try:
        d, a = s.recvfrom(2048)
    except socket.timeout:
        continue
    if a[0] == host and d[(d[0] & 15) * 4] == 0:
        sys.exit(0)
sys.exit(1)' "$1" 2>/dev/null
}
udp_ask()
{
	"${SEGX[@]}" "$PYTHON3" -c '
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
u.sendto(b"q", (sys.argv[1], int(sys.argv[2])))
try:
    print(u.recv(100).decode())
except OSError:
    pass' "$1" "$2" 2>/dev/null
}

ping 10.20.0.1 >/dev/null 2>&1
ok $? "allowed: the segment pings 10.20.0.1"
tcp_connect 10.20.0.80 80
ok $? "allowed: the segment connects to the platform, 10.20.0.80:80"
is "$(udp_ask 10.20.0.53 53)" q "allowed: the segment asks the DNS server, 10.20.0.53:53"
# at least: echo request, SYN, ACK, datagram out; reply, SYN-ACK, answer in
seen_some() { scrape &&
    [ "$(metric_value netprobe_watcher_direction_packets_total watcher=segment direction=egress)" -ge 4 ] &&
    [ "$(metric_value netprobe_watcher_direction_packets_total watcher=segment direction=ingress)" -ge 3 ]; }
wait_for 5 seen_some
ok $? "the watcher saw the allowed traffic leave the segment and come back" ||
	diag "$(metric_lines netprobe_watcher_direction_packets_total)"
cmp_ok "$(metric_value netprobe_watcher_direction_packets_total watcher=segment direction=non_ip)" '>=' 1 \
    "ARP is counted as non_ip"
is "$(sum netprobe_watcher_violations_total watcher=segment)" 0 \
    "allowed traffic is no violation"

# forbidden: a ping to the internet, logged within about a second (of
# the packet: starting python in the namespace is not the watcher's time)
line=$(($(wc -l <"$LOG") + 1))
t0=$(_now_ms)
sent=$(ping 10.40.0.9 2>/dev/null)
logged() { grep -q "watcher segment: egress violation: icmp 10.30.1.5 -> 10.40.0.9\$" "$LOG"; }
wait_for 3 logged
ok $? "a ping to 10.40.0.9 is logged: \"watcher segment: egress violation: icmp 10.30.1.5 -> 10.40.0.9\"" ||
	diag_file "$LOG"
el=$(($(_now_ms) - ${sent:-$t0}))
cmp_ok "$el" '<' 1500 "... within a second or so of the packet (${el} ms)"
wait_for 3 grep -q "ingress violation: icmp 10.40.0.9 -> 10.30.1.5" "$LOG"
ok $? "its echo reply coming back is an ingress violation"
tcp_connect 10.40.0.9 443
ok $? "the segment reaches 10.40.0.9:443 (the hole the watcher must see)"
is "$(udp_ask 10.40.0.9 9999)" "" "a UDP datagram to 10.40.0.9:9999 gets no answer"
all_flows() { scrape && [ "$(metric_value netprobe_watcher_violation_flows_total watcher=segment kind=egress)" = 3 ] &&
    [ "$(metric_value netprobe_watcher_violation_flows_total watcher=segment kind=ingress)" = 2 ]; }
wait_for 3 all_flows
ok $? "3 new egress flows (icmp, tcp/443, udp/9999), 2 ingress (icmp, tcp from 443)" ||
	diag "$(metric_lines netprobe_watcher_violation_flows_total)" "$(log_flows "$line")"
is "$(log_flows "$line")" "$(printf '%s\n' \
    "egress icmp 10.30.1.5 -> 10.40.0.9" \
    "egress tcp 10.30.1.5 -> 10.40.0.9:443" \
    "egress udp 10.30.1.5 -> 10.40.0.9:9999" \
    "ingress icmp 10.40.0.9 -> 10.30.1.5" \
    "ingress tcp 10.40.0.9:443 -> 10.30.1.5" | sort)" \
    "each new flow is logged once, the port at the remote end"
cmp_ok "$(metric_value netprobe_watcher_violations_total watcher=segment kind=egress)" '>=' 5 \
    "netprobe_watcher_violations_total counts the packets (ping, SYN, ACK..., the datagram)"
is "$(metric_value netprobe_watcher_flows watcher=segment)" 5 \
    "netprobe_watcher_flows: 5 in the table"
is "$(metric_value netprobe_watcher_violation_flow_packets watcher=segment kind=egress src=10.30.1.5 dst=10.40.0.9 proto=udp port=9999)" 1 \
    "the top-N series names the UDP flow with its 1 packet"

http_get "$(np_url /status)"
is "$HTTP_CODE" 200 "/status answers"
st=$("$PYTHON3" -c '
import json, re, sys
d = json.loads(sys.stdin.read())
w = d["watchers"][0]
rfc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
print(w["name"], w["interface"], w["up"], w["violations"]["egress"] >= 5,
      len(w["flows"]), w["flows"][-1]["kind"], w["flows"][-1]["proto"],
      w["flows"][-1]["dst"], w["flows"][-1]["packets"],
      all(rfc.match(f["first_seen"]) and rfc.match(f["last_seen"]) and
          f["first_seen"] <= f["last_seen"] for f in w["flows"]))
' <<<"$HTTP_BODY" 2>&1)
is "$st" "segment npw-g True True 5 egress icmp 10.40.0.9 1 True" \
    "/status: the watcher, up, its flows (the ping's, oldest, last) with RFC 3339 times"
promtool_clean "promtool check metrics is clean with live flows"

if [ -n "$TRAPD_PID" ]; then
	trap_vars()
	{
		"$PYTHON3" "$LOGREAD" "$T/trapd.log" | "$PYTHON3" -c '
import json, sys
B = ".'"$B"'"
for x in json.load(sys.stdin):
    if x["trap"] == B + ".0.3":
        v = lambda n: x["vars"].get(B + ".1.1.%d.0" % n)
        print(v(13), v(14), v(15), v(16), v(17), v(21))'
	}
	trapped() { trap_vars | grep -q ' icmp 0 '; }
	wait_for 5 trapped
	ok $? "snmptrapd received netprobeIsolationViolation" || diag_file "$T/trapd.log"
	# npViolationKind egress(1)
	like "$(trap_vars)" '^segment 10.30.1.5 10.40.0.9 icmp 0 1$' \
	    "... naming the watcher, source, destination, protocol, port and kind"
	like "$(trap_vars)" '^segment 10.30.1.5 10.40.0.9 tcp 443 1$' \
	    "... and one for the TCP flow, port 443"
	is "$(trap_vars | wc -l)" 5 "one notification per new flow"
else
	skip "no snmptrapd" "snmptrapd received netprobeIsolationViolation"
fi

if [ -s "$T/audit.log" ] && grep -q '"start"' "$T/audit.log"; then
	like "$(grep '"violation"' "$T/audit.log")" '"first_seen":"[0-9-]+T[0-9:.]+Z"' \
	    "the audit trail records the violation with its first_seen time"
	is "$(grep '"violation"' "$T/audit.log" | grep -c '"dst":"10.40.0.9"')" 3 \
	    "... one record per new flow to 10.40.0.9"
else
	skip "the audit trail is not written by this build" \
	    "the audit trail records the violations"
fi

# ---- 4. reload, and the interface going away ------------------------------

scrape
v_before=$(metric_value netprobe_watcher_violations_total watcher=segment kind=egress)
write_config "snmp:
  managers:
    - {name: nms, address: \"127.0.0.1:$TRAP_PORT\", version: 2c,
       community: public, mode: trap}
audit_log: $T/audit.log" "
      - \"10.40.0.9/32 tcp/8443\""
kill -HUP "$NETPROBED_PID"
wait_for 5 grep -q "configuration reloaded" "$LOG"
ok $? "SIGHUP reloads a wider allow-list"
scrape
is "$(metric_value netprobe_watcher_violations_total watcher=segment kind=egress):$(metric_value netprobe_watcher_flows watcher=segment)" \
    "$v_before:5" "the reload keeps the counters and the flow table"
unlike "$(tail -n 5 "$LOG")" "capturing on" "... and the capture handle"
tcp_connect 10.40.0.9 8443
line=$(($(wc -l <"$LOG") + 1))
ping 10.40.0.9 >/dev/null 2>&1
egress_is() { scrape && [ "$(metric_value netprobe_watcher_violations_total watcher=segment kind=egress)" = "$1" ]; }
wait_for 3 egress_is $((v_before + 1))
ok $? "a connection to the newly allowed 10.40.0.9:8443 is no violation (the next ping is)"
is "$(log_flows "$line")" "" "... and the known flows are not logged again"

ip -n "$GW" link del npw-g
wait_for 5 up_is 0
ok $? "the veth deleted: netprobe_watcher_up goes to 0"
like "$(cat "$LOG")" "watcher segment: (capture stopped|cannot capture) on npw-g: " \
    "the log says the capture stopped"
is "$(pid_alive "$NETPROBED_PID" && echo alive)" alive "the daemon keeps running"
make_veth 2>>"$T/ns.err" || { diag_file "$T/ns.err"; bail_out "cannot make the veth again"; }
wait_for 6 up_is 1
ok $? "made again: netprobe_watcher_up is back to 1" || diag_file "$LOG"
like "$(cat "$LOG")" "watcher segment: capturing on npw-g \\(EN10MB\\) again" \
    "the log says it captures again"
line=$(($(wc -l <"$LOG") + 1))
"${SEGX[@]}" "$PYTHON3" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"x", ("10.40.0.9", 7777))' 2>/dev/null
wait_for 3 grep -q "egress violation: udp 10.30.1.5 -> 10.40.0.9:7777" "$LOG"
ok $? "new violations are seen on the new interface" ||
	diag "$(tail -n +"$line" "$LOG")"
http_get "$(np_url /status)"
is "$("$PYTHON3" -c 'import json, sys; w = json.load(sys.stdin)["watchers"][0]; print(w["up"], w["error"])' <<<"$HTTP_BODY")" \
    "True None" "/status: up again, no error"

# a new filter is a new capture: a new handle, counting from 0
write_config "audit_log: $T/audit.log" "" "
    filter: \"not arp\""
kill -HUP "$NETPROBED_PID"
opened() { [ "$(grep -c "watcher segment: capturing on npw-g" "$LOG")" = 3 ]; }
wait_for 5 opened
ok $? "a reload with a new filter opens a new handle" || diag_file "$LOG"
like "$(cat "$LOG")" "watcher segment: stopped" "... after closing the old one"
wait_for 3 up_is 1
ok $? "netprobe_watcher_up is 1 on the new handle"
is "$(sum netprobe_watcher_violations_total watcher=segment):$(metric_value netprobe_watcher_flows watcher=segment)" \
    "0:0" "its counters and table start afresh"

stop_pid "$NETPROBED_PID"
is "$?" 0 "netprobed stops cleanly"
done_testing
