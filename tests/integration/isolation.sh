#!/usr/bin/env bash
#
# Isolation of the safety private network, end to end: negative probes
# (expect: blocked) run from inside the segment's namespace (netns:),
# against an nftables gateway that first holds the isolation in each way
# a filter can (drop, ICMP administratively prohibited, forged TCP RST),
# then opens a hole.  Each way gives its verdict and reason on /metrics,
# /status, the log and the audit trail; the hole is a leak within one
# probe interval, raises the shipped IsolationLeak alert and reaches
# snmptrapd; a dead uplink (the positive control fails) is inconclusive,
# never blocked; a missing route is inconclusive (local).  A passive
# watcher on the gateway's internet uplink agrees: nothing of the
# segment's crosses it while the filter holds; with the hole, it names
# each new flow within about a second, notifies snmptrapd and audits it.
#
#   seg  s0   10.30.0.2/24   fd00:30::2/64   default via the gateway
#   gw   sg0  10.30.0.1/24   fd00:30::1/64   netprobed, nftables, snmptrapd
#        ex0  10.20.0.1/24                   -> ext (allowed: the extranet)
#        in0  10.99.0.1/24   fd00:99::1/64   -> inet (forbidden)
#   ext  ex0  10.20.0.10/24                  TCP 443 (the control's target)
#   inet in0  10.99.0.10/24  fd00:99::10/64  TCP 80; 81 closed
#
# netprobed runs in gw (ip netns exec) and its negative probes make their
# sockets in seg (netns: SEG), as a host of the segment would.  The
# namespaces npiso-PID-* are deleted at exit; traffic stays inside them.
# Ports: 9560 (netprobed), 16230 (snmptrapd), all inside gw.

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "no ip(8)"
command -v nft >/dev/null 2>&1 || skip_all "no nft(8)"
command -v curl >/dev/null 2>&1 || skip_all "no curl"
[ -n "$PYTHON3" ] || skip_all "no python3"
SNMPTRAPD=${SNMPTRAPD:-$(command -v snmptrapd || echo /usr/sbin/snmptrapd)}
[ -x "$SNMPTRAPD" ] || skip_all "no snmptrapd (package snmptrapd)"

T=$TAP_TMPDIR
NP_PORT=9560
TRAP_PORT=16230
SEG="npiso-$$-seg"
GW="npiso-$$-gw"
EXT="npiso-$$-ext"
INET="npiso-$$-inet"
B=1.3.6.1.4.1.8072.9999.9999.7457

# ---- the example ------------------------------------------------------

out=$("$NETPROBED" -c "$top_srcdir/examples/isolation.yaml" --check-config 2>&1)
is "$?:$out" "0:$top_srcdir/examples/isolation.yaml: OK (5 probes, 6 targets)" \
    "examples/isolation.yaml passes --check-config"

# ---- topology -------------------------------------------------------

for ns in "$SEG" "$GW" "$EXT" "$INET"; do
	ip netns add "$ns" 2>>"$T/ns.err" ||
		skip_all "ip netns add failed: $(cat "$T/ns.err")"
	on_exit "ip netns del '$ns'"
done
N() { local ns=$1; shift; ip -n "$ns" "$@"; }
X() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
build()
{
	N "$SEG" link add s0 type veth peer name sg0 netns "$GW" &&
	N "$GW" link add ex0 type veth peer name ex0 netns "$EXT" &&
	N "$GW" link add in0 type veth peer name in0 netns "$INET" &&
	N "$SEG" addr add 10.30.0.2/24 dev s0 &&
	N "$SEG" addr add fd00:30::2/64 dev s0 nodad &&
	N "$GW" addr add 10.30.0.1/24 dev sg0 &&
	N "$GW" addr add fd00:30::1/64 dev sg0 nodad &&
	N "$GW" addr add 10.20.0.1/24 dev ex0 &&
	N "$GW" addr add 10.99.0.1/24 dev in0 &&
	N "$GW" addr add fd00:99::1/64 dev in0 nodad &&
	N "$EXT" addr add 10.20.0.10/24 dev ex0 &&
	N "$INET" addr add 10.99.0.10/24 dev in0 &&
	N "$INET" addr add fd00:99::10/64 dev in0 nodad &&
	for ns in "$SEG" "$GW" "$EXT" "$INET"; do
		N "$ns" link set lo up || return 1
	done &&
	N "$SEG" link set s0 up && N "$GW" link set sg0 up &&
	N "$GW" link set ex0 up && N "$GW" link set in0 up &&
	N "$EXT" link set ex0 up && N "$INET" link set in0 up &&
	N "$SEG" route add default via 10.30.0.1 &&
	N "$SEG" -6 route add default via fd00:30::1 &&
	N "$EXT" route add default via 10.20.0.1 &&
	N "$INET" route add default via 10.99.0.1 &&
	N "$INET" -6 route add default via fd00:99::1 &&
	X "$GW" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 \
	    net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
}
build 2>"$T/build.err" || bail_out "topology: $(cat "$T/build.err")"
# neighbours resolved before the first timed probe (IPv6 ones included):
# the gateway pings both ends
cat >"$T/warm.yaml" <<END
probes:
  - {name: seg, type: icmp, targets: [10.30.0.2, "fd00:30::2"], count: 1}
  - {name: inet, type: icmp, targets: [10.99.0.10, "fd00:99::10"], count: 1}
  - {name: ext, type: icmp, targets: [10.20.0.10], count: 1}
END
nd_ok() { X "$GW" "$NETPROBED" -c "$T/warm.yaml" --once >"$T/warm.out" 2>&1; }
wait_for 10 nd_ok || bail_out "the gateway's neighbours do not answer: $(cat "$T/warm.out")"

# The gateway's filter: the segment may reach the extranet; what it
# sends towards the internet goes through chain `forbidden`, which each
# phase rewrites (empty: the policy drops it).
X "$GW" nft -f - <<'END' 2>"$T/nft.err" || bail_out "nft: $(cat "$T/nft.err")"
table inet iso {
	chain forbidden {
	}
	chain gwfwd {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "sg0" ip daddr 10.20.0.0/24 accept
		iifname "sg0" ip daddr 10.99.0.0/24 jump forbidden
		iifname "sg0" ip6 daddr fd00:99::/64 jump forbidden
	}
}
END
forbidden() { X "$GW" nft flush chain inet iso forbidden &&
    { [ $# -eq 0 ] || X "$GW" nft add rule inet iso forbidden "$@"; }; }

# the peers: the control's target in ext, the forbidden web server in
# inet (port 81 stays closed: its RST is the destination's own)
listener()
{
	local ns=$1 host=$2 port=$3

	# ip netns exec execs the program: $! is the peer's own PID (through
	# the X function it would be a subshell's, and the peer would outlive
	# the test)
	ip netns exec "$ns" "$PYTHON3" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
' "$host" "$port" </dev/null >>"$T/listener.log" 2>&1 &
	register_pid $!
}
listener "$EXT" 10.20.0.10 443
listener "$INET" 10.99.0.10 80
listener "$INET" fd00:99::10 80
listening() { [ -n "$(X "$1" ss -Hltn "sport = :$2")" ]; }
wait_for 10 listening "$EXT" 443 && wait_for 10 listening "$INET" 80 ||
	bail_out "the TCP peers did not start"

# snmptrapd in gw, where netprobed sends its notifications
mkdir -p "$T/persist"
cat >"$T/trapd.conf" <<'END'
doNotRetainNotificationLogs yes
authCommunity log public
format2 TRAP %.4y-%.2m-%.2l %.2h:%.2j:%.2k from=%b sec=[%P] %V| %v\n
END
ip netns exec "$GW" env SNMP_PERSISTENT_DIR="$T/persist" MIBS= "$SNMPTRAPD" -f -On \
    -Lf "$T/trapd.log" -C -c "$T/trapd.conf" "udp:127.0.0.1:$TRAP_PORT" \
    </dev/null >/dev/null 2>&1 &
register_pid $!
trapd_up() { [ -n "$(X "$GW" ss -Hlun "sport = :$TRAP_PORT")" ]; }
wait_for 10 trapd_up || bail_out "snmptrapd did not start"

# ---- the config -----------------------------------------------------

# the shipped rules, as a bureau installs them
cp "$top_srcdir/rules/netprobed.rules.yml" "$T/"
cat >"$T/np.yaml" <<END
site: {name: seg-test}
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 2s, timeout: 1s, evaluation_interval: 1s}
rule_files: [netprobed.rules.yml]
audit_log: audit.jsonl
probes:
  - {name: control, type: tcp, targets: ["10.20.0.10:443"], netns: $SEG}
  - {name: inet-web, type: tcp, targets: ["10.99.0.10:80"], netns: $SEG,
     expect: blocked, control: control, filter_hops: 1,
     labels: {component: isolation}}
  - {name: inet-closed, type: tcp, targets: ["10.99.0.10:81"], netns: $SEG,
     expect: blocked, control: control, filter_hops: 1,
     labels: {component: isolation}}
  - {name: inet-ping, type: icmp, targets: [10.99.0.10], netns: $SEG,
     expect: blocked, control: control, count: 1,
     labels: {component: isolation}}
  - {name: inet-web6, type: tcp, targets: ["[fd00:99::10]:80"], netns: $SEG,
     expect: blocked, labels: {component: isolation}}
  - {name: inet-sweep, type: tcp, netns: $SEG, expect: blocked,
     control: control, filter_hops: 1, labels: {component: isolation},
     sweep: {prefixes: [10.99.0.8/29], ports: [80], per_interval: 4}}
snmp:
  # the hole opens a dozen flows and alerts at once: this test is about
  # delivery, not the storm limit (snmp_limits.sh tests that)
  rate_limit: {rate: 100, burst: 100}
  managers:
    - {name: nms, address: "127.0.0.1:$TRAP_PORT", community: public,
       mode: trap}
# the passive side: what really leaves by the gateway's internet uplink
watchers:
  - name: uplink
    interface: in0
    segment: ["10.30.0.0/24", "fd00:30::/64"]
    allow: ["10.20.0.0/24"]
END

in_netns "$GW"

# ---- --once: the table and the exit status ------------------------------

once()
{
	OUT=$(timeout -k 5 30 "$NPW" -c "$T/np.yaml" --once 2>"$T/once.err")
	RC=$?
}
# row PROBE: its line of the --once table
row() { awk -v p="$1" '$1 == p' <<<"$OUT"; }

once
is "$RC" 0 "--once, isolation holds (drop): exit 0" || diag "$OUT"
is "$(row inet-sweep | grep -c ' blocked ')" 8 \
    "--once: all 8 destinations of the sweep blocked"
like "$(row inet-web)" '^inet-web +tcp +10\.99\.0\.10:80 +blocked +- +timeout ' \
    "--once: inet-web blocked (timeout)"
like "$(row inet-ping)" ' blocked +- +timeout ' "--once: inet-ping blocked (timeout)"
like "$(row control)" ' open ' "--once: the control connects"

forbidden accept
once
is "$RC" 1 "--once, a hole: exit 1"
like "$(row inet-web)" ' leak +- +handshake ' "--once: inet-web leak (handshake)"
like "$(row inet-closed)" ' leak +- +rst from 10\.99\.0\.10 ' \
    "--once: inet-closed leak (the destination's own RST, 2 hops)"
like "$(row inet-ping)" ' leak +- +reply ' "--once: inet-ping leak (reply)"
like "$(row inet-web6)" ' leak +- +handshake ' "--once: inet-web6 leak over IPv6"
is "$(row inet-sweep | wc -l)" 8 "--once: the sweep probes each of its 8 destinations"
like "$(row inet-sweep | grep ' leak ')" \
    '^inet-sweep +tcp +10\.99\.0\.10:80 +leak +- +handshake ' \
    "--once: the sweep finds the one destination that answers"
forbidden

# ---- the daemon -----------------------------------------------------

LOG=$T/netprobed.log
NETPROBED=$NPW start_netprobed "$T/np.yaml" "$LOG" ||
	bail_out "netprobed did not start in $GW"

# verdict_is PROBE VERDICT REASON [FROM]: the one-hot verdict and its
# reason series, as scraped
verdict_is()
{
	scrape || return 1
	[ "$(metric_value netprobe_isolation_verdict "probe=$1" \
	    "verdict=$2")" = 1 ] || return 1
	[ "$(metric_value netprobe_isolation_reason_info "probe=$1" \
	    "reason=$3" "from=${4-}")" = 1 ]
}
show() { diag "$(metric_lines netprobe_isolation_reason_info)"; }

# check PROBE VERDICT REASON FROM WHAT: wait up to one interval and the
# timeout (3 s) past the next run, plus slack for a loaded machine
check()
{
	wait_for 8 verdict_is "$1" "$2" "$3" "$4"
	ok $? "$5" || show
}

check inet-web blocked timeout "" "drop: inet-web blocked, reason timeout"
check inet-ping blocked timeout "" "drop: inet-ping blocked, reason timeout"
check inet-web6 blocked timeout "" "drop: inet-web6 blocked over IPv6"
# (the sweep's empty addresses may also draw the gateway's "host
# unreachable" once its ARP gives up: blocked either way)
verdict_only()
{
	scrape && [ "$(metric_value netprobe_isolation_verdict "probe=$1" \
	    "verdict=$2")" = 1 ]
}
wait_for 8 verdict_only inet-sweep blocked
ok $? "drop: the sweep blocked" || show
is "$(metric_value probe_success probe=inet-web)" 1 \
    "probe_success 1 while blocked"
for v in leak inconclusive; do
	is "$(metric_value netprobe_isolation_verdict probe=inet-web \
	    verdict=$v)" 0 "netprobe_isolation_verdict{verdict=\"$v\"} 0"
done

forbidden reject with icmpx type admin-prohibited
check inet-web blocked admin_prohibited 10.30.0.1 \
    "reject admin-prohibited: blocked, naming the filter 10.30.0.1"
check inet-ping blocked admin_prohibited 10.30.0.1 \
    "reject admin-prohibited: inet-ping blocked too"
check inet-web6 blocked admin_prohibited fd00:30::1 \
    "ICMPv6 administratively prohibited: blocked, from fd00:30::1"

forbidden meta l4proto tcp reject with tcp reset
check inet-web blocked rst_from_filter 10.99.0.10 \
    "forged RST (1 hop, filter_hops 1): blocked, reason rst_from_filter"

# While the filter held (drop, reject, forged RST), nothing of the
# segment's crossed the uplink: the watcher agrees with the probes.
scrape
is "$(metric_value netprobe_watcher_violations_total watcher=uplink kind=egress)" 0 \
    "the watcher on the uplink saw no egress while the filter held"
is "$(metric_value netprobe_watcher_up watcher=uplink)" 1 "netprobe_watcher_up 1"

# the hole: a leak within one probe interval
forbidden accept
t0=$(date +%s%N)
check inet-web leak handshake "" "a hole: inet-web leak (handshake)"
t1=$(date +%s%N)
diag "the leak was on /metrics $(( (t1 - t0) / 1000000 )) ms after the hole opened (interval 2 s)"
check inet-closed leak rst 10.99.0.10 \
    "a hole: inet-closed leak (RST from 2 hops: the destination's)"
check inet-ping leak reply "" "a hole: inet-ping leak (reply)"
check inet-sweep leak handshake "" "a hole: the sweep's verdict is leak"
sweep_names()
{
	scrape && [ "$(metric_value netprobe_isolation_sweep_leak_info \
	    probe=inet-sweep destination=10.99.0.10:80 reason=handshake)" = 1 ]
}
wait_for 8 sweep_names
ok $? "netprobe_isolation_sweep_leak_info names 10.99.0.10:80" ||
	diag "$(metric_lines netprobe_isolation_sweep_leak_info)"
is "$(metric_value netprobe_isolation_sweep_destinations probe=inet-sweep \
    verdict=leak)" 1 "netprobe_isolation_sweep_destinations{verdict=\"leak\"} 1"
cmp_ok "$(metric_value netprobe_isolation_sweep_passes_total \
    probe=inet-sweep)" '>=' 1 "netprobe_isolation_sweep_passes_total counts passes"
is "$(metric_value probe_success probe=inet-web)" 0 "probe_success 0 on a leak"
like "$(grep 'probe inet-web target 10.99.0.10:80: isolation leak' "$LOG")" \
    'warning: probe inet-web target 10\.99\.0\.10:80: isolation leak \(handshake; was blocked\)' \
    "logged as a warning, with the verdict it replaces"

# the watcher: the probes' own packets now cross the uplink
egress_seen()
{
	scrape && _num_cmp "$(metric_value netprobe_watcher_violations_total \
	    watcher=uplink kind=egress)" '>' 0
}
wait_for 5 egress_seen
ok $? "the watcher counts egress violations once the hole is open" ||
	diag "$(metric_lines netprobe_watcher_violations_total)"
like "$(grep 'watcher uplink: egress violation' "$LOG")" \
    'warning: watcher uplink: egress violation: tcp 10\.30\.0\.2 -> 10\.99\.0\.10:80' \
    "the watcher's warning names the flow"
# a fresh flow from a segment host: how soon the watcher names it
t0=$(date +%s%N)
X "$SEG" "$PYTHON3" -c '
import socket
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("10.99.0.10", 8443))
except OSError:
    pass
' 2>/dev/null
fresh_flow() { grep -q 'egress violation: tcp 10\.30\.0\.2 -> 10\.99\.0\.10:8443' "$LOG"; }
wait_for 5 fresh_flow
ok $? "a new flow (to port 8443) is logged by the watcher" || diag_file "$LOG"
t1=$(date +%s%N)
diag "the watcher logged the new flow $(( (t1 - t0) / 1000000 )) ms after the connection attempt began"

# /status names it
status_has_leak()
{
	http_get "$(np_url /status)" || return 1
	"$PYTHON3" -c '
import json, sys
s = json.loads(sys.argv[1])
e = [x for x in s["isolation"] if x["probe"] == "inet-web"][0]
assert (e["verdict"], e["reason"], e["from"], e["control"], e["target"]) == \
    ("leak", "handshake", None, "control", "10.99.0.10:80"), e
assert e["since"].endswith("Z"), e
' "$HTTP_BODY"
}
status_has_leak
ok $? "/status isolation: inet-web leak, handshake, its control, since" ||
	diag "$HTTP_BODY"

# the shipped rules: IsolationLeak fires, and the manager hears it
leak_alert()
{
	http_get "$(np_url /status)" || return 1
	"$PYTHON3" -c '
import json, sys
s = json.loads(sys.argv[1])
assert any(a["labels"].get("alertname") == "IsolationLeak" and
           a["labels"].get("probe") == "inet-web" and a["state"] == "firing"
           for a in s["alerts"])' "$HTTP_BODY"
}
wait_for 8 leak_alert
ok $? "the shipped rule IsolationLeak fires for inet-web" ||
	diag "$HTTP_BODY"
trap_seen()
{
	"$PYTHON3" "$top_srcdir/tests/peers/trapd_log.py" "$T/trapd.log" |
	    "$PYTHON3" -c '
import json, sys
B = sys.argv[1]
r = json.load(sys.stdin)
sys.exit(0 if any(x["trap"] == B + ".0.1" and
    "IsolationLeak" in x["vars"].get(B + ".1.1.3.0", "") for x in r) else 1)
' ".$B"
}
wait_for 8 trap_seen
ok $? "snmptrapd received the IsolationLeak firing notification" ||
	diag_file "$T/trapd.log"
# and the watcher's own: netprobeIsolationViolation, kind egress(1)
violation_trap()
{
	"$PYTHON3" "$top_srcdir/tests/peers/trapd_log.py" "$T/trapd.log" |
	    "$PYTHON3" -c '
import json, sys
B = sys.argv[1]
v = lambda x, n: str(x["vars"].get(B + ".1.1.%d.0" % n))
sys.exit(0 if any(x["trap"] == B + ".0.3" and
    (v(x, 13), v(x, 14), v(x, 15), v(x, 16), v(x, 17), v(x, 21)) ==
    ("uplink", "10.30.0.2", "10.99.0.10", "tcp", "80", "1")
    for x in json.load(sys.stdin)) else 1)
' ".$B"
}
wait_for 8 violation_trap
ok $? "snmptrapd received netprobeIsolationViolation for 10.30.0.2 -> 10.99.0.10 tcp/80, egress" ||
	diag "$("$PYTHON3" "$top_srcdir/tests/peers/trapd_log.py" "$T/trapd.log")"
violation_alert()
{
	http_get "$(np_url /status)" || return 1
	"$PYTHON3" -c '
import json, sys
s = json.loads(sys.argv[1])
assert any(a["labels"].get("alertname") == "IsolationViolation" and
           a["labels"].get("watcher") == "uplink" and
           a["labels"].get("kind") == "egress" and a["state"] == "firing"
           for a in s["alerts"])' "$HTTP_BODY"
}
wait_for 8 violation_alert
ok $? "the shipped rule IsolationViolation fires for the uplink watcher"

# ---- the positive control ---------------------------------------------

# The uplink dies: everything from the segment is dropped.  The negative
# probes time out as if blocked -- but their control fails too.
forbidden
X "$GW" nft insert rule inet iso gwfwd iifname "sg0" drop
check inet-web inconclusive control_failed "" \
    "the control fails: inet-web inconclusive (control_failed), not blocked"
check inet-ping inconclusive control_failed "" \
    "the control fails: inet-ping inconclusive"
check inet-web6 blocked timeout "" \
    "inet-web6 has no control: its silence is still blocked"
X "$GW" nft flush chain inet iso gwfwd
X "$GW" nft add rule inet iso gwfwd ct state established,related accept
X "$GW" nft add rule inet iso gwfwd iifname "sg0" ip daddr 10.20.0.0/24 accept
X "$GW" nft add rule inet iso gwfwd iifname "sg0" ip daddr 10.99.0.0/24 jump forbidden
X "$GW" nft add rule inet iso gwfwd iifname "sg0" ip6 daddr fd00:99::/64 jump forbidden
check inet-web blocked timeout "" "the uplink back: blocked again"

# A local error: the segment host has no route at all
N "$SEG" route del default
check inet-web inconclusive no_route "" \
    "no route in the segment: inconclusive (no_route), a local error"
N "$SEG" route add default via 10.30.0.1
check inet-web blocked timeout "" "the route back: blocked again"

# ---- the audit trail ----------------------------------------------------

audit_has()
{
	"$PYTHON3" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
want = dict(kind="verdict", probe="inet-web", verdict=sys.argv[2],
            reason=sys.argv[3], previous=sys.argv[4])
sys.exit(0 if any(all(r.get(k) == v for k, v in want.items())
                  for r in rs) else 1)
' "$T/audit.jsonl" "$@"
}
audit_has leak handshake blocked
ok $? "audit trail: inet-web blocked -> leak (handshake)" ||
	diag_file "$T/audit.jsonl"
audit_has inconclusive control_failed leak
ok $? "audit trail: inet-web leak -> inconclusive (control_failed)"
"$PYTHON3" -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any(r["kind"] == "violation" and r.get("watcher") == "uplink"
    and r.get("violation") == "egress" and r.get("dst") == "10.99.0.10"
    for r in rs) else 1)' "$T/audit.jsonl"
ok $? "audit trail: the watcher's egress violation"
out=$("$NETPROBED" --verify-audit "$T/audit.jsonl" 2>&1)
is "$?" 0 "the audit trail's hash chain verifies" || diag "$out"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0"

done_testing
