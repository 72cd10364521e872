#!/usr/bin/env bash
#
# pmtu probes across a routed path whose second link is smaller:
#
#   a (netprobed) --1500-- r (router) --1400-- b
#                               \------1500--- c
#
# From a, sizes [1500, 1400, 1300]: to b the largest passing size is 1400
# and r's "fragmentation needed" / "packet too big" reports MTU 1400; to
# c all pass.  Then r's ICMP errors are dropped with nft (a PMTU black
# hole): the 1500 probes just vanish while 1400 still passes, which is
# what the probe must call out.  Also: the local interface MTU, no
# answer at all, no route, the unprivileged datagram-socket path, and
# the daemon's /metrics (exact values, promtool-clean).
#
# Namespaces npnl-PID-{a,r,b,c}; addresses 10.232.x, fd00:232:x::
# inside them only.  Ports: 19561 (netprobed, on 127.0.0.1 inside a).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "no ip(8)"
command -v nft >/dev/null 2>&1 || skip_all "no nft(8) to make the black hole"

T=$TAP_TMPDIR
NP_PORT=19561
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
NA="npnl-$$-a"
NR="npnl-$$-r"
NB="npnl-$$-b"
NC="npnl-$$-c"

for ns in "$NA" "$NR" "$NB" "$NC"; do
	ip netns add "$ns" 2>>"$T/ns.err" ||
		skip_all "ip netns add failed: $(cat "$T/ns.err")"
	on_exit "ip netns del '$ns'"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 2>>"$T/ns.err"
done
N() { local ns=$1; shift; ip -n "$ns" "$@"; }
if ! {
	N "$NA" link add a0 type veth peer name r0 netns "$NR" &&
	N "$NR" link add r1 type veth peer name b0 netns "$NB" &&
	N "$NR" link add r2 type veth peer name c0 netns "$NC" &&
	N "$NA" addr add 10.232.1.1/24 dev a0 &&
	N "$NA" addr add fd00:232:1::1/64 dev a0 nodad &&
	N "$NR" addr add 10.232.1.2/24 dev r0 &&
	N "$NR" addr add fd00:232:1::2/64 dev r0 nodad &&
	N "$NR" addr add 10.232.2.1/24 dev r1 &&
	N "$NR" addr add fd00:232:2::1/64 dev r1 nodad &&
	N "$NR" addr add 10.232.3.1/24 dev r2 &&
	N "$NR" addr add fd00:232:3::1/64 dev r2 nodad &&
	N "$NB" addr add 10.232.2.2/24 dev b0 &&
	N "$NB" addr add fd00:232:2::2/64 dev b0 nodad &&
	N "$NC" addr add 10.232.3.2/24 dev c0 &&
	N "$NC" addr add fd00:232:3::2/64 dev c0 nodad &&
	N "$NR" link set r1 mtu 1400 && N "$NB" link set b0 mtu 1400 &&
	N "$NA" link set a0 up && N "$NR" link set r0 up &&
	N "$NR" link set r1 up && N "$NR" link set r2 up &&
	N "$NB" link set b0 up && N "$NC" link set c0 up &&
	N "$NA" link set lo up && N "$NR" link set lo up &&
	N "$NB" link set lo up && N "$NC" link set lo up &&
	N "$NA" route add 10.232.0.0/16 via 10.232.1.2 &&
	N "$NA" -6 route add fd00:232::/32 via fd00:232:1::2 &&
	N "$NB" route add 10.232.0.0/16 via 10.232.2.1 &&
	N "$NB" -6 route add fd00:232::/32 via fd00:232:2::1 &&
	N "$NC" route add 10.232.0.0/16 via 10.232.3.1 &&
	N "$NC" -6 route add fd00:232::/32 via fd00:232:3::1 &&
	# a router, with no ICMP rate limit: every refusal is answered
	ip netns exec "$NR" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 net.ipv4.icmp_ratelimit=0 \
	    net.ipv6.icmp.ratelimit=0
    } 2>>"$T/ns.err"; then
	diag "$(cat "$T/ns.err")"
	skip_all "cannot build the routed topology"
fi

# once CONFIG [AS-NOBODY]: --once inside namespace a; RC, OUT, ERR, MS
once()
{
	local start pre=()

	[ -n "${2:-}" ] && pre=(setpriv --reuid=65534 --regid=65534
	    --clear-groups --inh-caps=-all --bounding-set=-all)
	start=$(_now_ms)
	timeout -k 5 30 ip netns exec "$NA" "${pre[@]}" "$NETPROBED" -c "$1" \
	    --once >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	MS=$(($(_now_ms) - start))
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

row()
{
	local line

	line=$(awk -v p="$1" -v t="$2" '$1 == p && $3 == t { print; exit }' \
	    <<<"$OUT")
	RESULT=$(awk '{ print $4 }' <<<"$line")
	DETAIL=$(sed -E 's/^([^ ]+ +){4}[^ ]+( ms)? +//' <<<"$line")
}

# check PROBE TARGET RESULT DETAIL DESC
check()
{
	row "$1" "$2"
	if ! is "$RESULT: $DETAIL" "$3: $4" "$5"; then
		diag "table:" "$OUT"
		[ -n "$ERR" ] && diag "stderr:" "$ERR"
	fi
}

# the path must work before anything is asserted about its MTU
cat >"$T/ready.yaml" <<'EOF'
defaults: {timeout: 1s}
probes:
  - name: ready
    type: pmtu
    targets: [10.232.2.2, "fd00:232:2::2", 10.232.3.2, "fd00:232:3::2"]
    sizes: 1300
    count: 1
EOF
ready() { once "$T/ready.yaml"; [ "$RC" = 0 ]; }
wait_for 10 ready || { diag "$OUT" "$ERR"; bail_out "the routed path does not work"; }

black_hole()
{
	ip netns exec "$NR" nft -f - <<'EOF'
table inet npnl_blackhole {
	chain out {
		type filter hook output priority 0; policy accept;
		icmp type destination-unreachable icmp code frag-needed drop
		icmpv6 type packet-too-big drop
	}
}
EOF
}
no_black_hole() { ip netns exec "$NR" nft delete table inet npnl_blackhole; }

cat >"$T/once.yaml" <<'EOF'
defaults:
  timeout: 1s
probes:
  - name: tunnel
    type: pmtu
    targets: [10.232.2.2, "fd00:232:2::2", 10.232.3.2, "fd00:232:3::2"]
    sizes: [1500, 1400, 1300]
    count: 2
    packet_interval: 100ms
  - name: tunnel-1400
    type: pmtu
    target: 10.232.2.2
    sizes: [1500, 1400, 1300]
    expect_min_mtu: 1400
EOF

# ---- the router says "too big" ------------------------------------------

# With a 3 s timeout: "ends early, not at the timeout" then has room for
# a loaded machine to start netprobed (with 1 s the bound left 100 ms)
sed 's/^  timeout: 1s$/  timeout: 3s/' "$T/once.yaml" >"$T/once-3s.yaml"
grep -q '^  timeout: 3s$' "$T/once-3s.yaml" ||
	bail_out "once-3s.yaml did not get its 3s timeout"
once "$T/once-3s.yaml"
check tunnel 10.232.2.2 bad_response \
    "largest passing size 1400 < 1500; 1500 too big, 10.232.1.2 reports MTU 1400" \
    "IPv4 via the 1400 link: largest passing 1400, the router reports MTU 1400"
check tunnel fd00:232:2::2 bad_response \
    "largest passing size 1400 < 1500; 1500 too big, fd00:232:1::2 reports MTU 1400" \
    "IPv6 via the 1400 link: largest passing 1400, packet too big says 1400"
check tunnel 10.232.3.2 ok "1500 passes" "IPv4 via 1500 links: 1500 passes"
check tunnel fd00:232:3::2 ok "1500 passes" "IPv6 via 1500 links: 1500 passes"
check tunnel-1400 10.232.2.2 ok \
    "1400 passes; 1500 too big, 10.232.1.2 reports MTU 1400" \
    "expect_min_mtu 1400: the same path is ok"
is "$RC" 1 "--once exits 1 when a path is smaller than expected"
cmp_ok "$MS" '<' 2000 \
    "answered paths end early, not at the 3s timeout (${MS}ms)"

# ---- the black hole -----------------------------------------------------

if black_hole 2>"$T/nft.err"; then
	once "$T/once.yaml"
	check tunnel 10.232.2.2 bad_response \
	    "largest passing size 1400 < 1500; 1500 no reply" \
	    "black hole, IPv4: 1500 vanishes, largest passing 1400 still found"
	check tunnel fd00:232:2::2 bad_response \
	    "largest passing size 1400 < 1500; 1500 no reply" \
	    "black hole, IPv6: the same"
	check tunnel 10.232.3.2 ok "1500 passes" \
	    "black hole: the 1500 path is not affected"
	cmp_ok "$MS" '>=' 1000 \
	    "a silent size is only known to fail at the timeout (${MS}ms)"
	# the unprivileged path: datagram ICMP sockets, errors on the
	# error queue, in a namespace whose ping_group_range allows nobody
	# nobody must be able to run the binary and read the config
	chmod a+rx "$T" && chmod a+r "$T/once.yaml"
	if setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$NETPROBED" --version >/dev/null 2>&1 &&
	    ip netns exec "$NA" sysctl -qw \
	    net.ipv4.ping_group_range="0 2147483647" 2>>"$T/ns.err"; then
		once "$T/once.yaml" nobody
		check tunnel 10.232.2.2 bad_response \
		    "largest passing size 1400 < 1500; 1500 no reply" \
		    "as nobody (datagram sockets), black hole: largest passing 1400"
		no_black_hole
		once "$T/once.yaml" nobody
		check tunnel 10.232.2.2 bad_response \
		    "largest passing size 1400 < 1500; 1500 too big, 10.232.1.2 reports MTU 1400" \
		    "as nobody: the router's MTU arrives through the error queue"
		check tunnel fd00:232:2::2 bad_response \
		    "largest passing size 1400 < 1500; 1500 too big, fd00:232:1::2 reports MTU 1400" \
		    "as nobody, IPv6: the same"
		check tunnel 10.232.3.2 ok "1500 passes" "as nobody: 1500 passes to c"
		ip netns exec "$NA" sysctl -qw net.ipv4.ping_group_range="1 0"
	else
		no_black_hole
		for d in 1 2 3 4; do
			skip "nobody cannot run netprobed here" "as nobody ($d)"
		done
	fi
else
	diag "$(cat "$T/nft.err")"
	for d in 1 2 3 4 5 6 7 8; do
		skip "nft failed" "black hole ($d)"
	done
fi

# ---- the local MTU, silence, no route ----------------------------------

cat >"$T/other.yaml" <<'EOF'
defaults:
  timeout: 1s
probes:
  - name: jumbo
    type: pmtu
    target: 10.232.3.2
    sizes: [9000, 1500]
    expect_min_mtu: 1500
  - name: jumbo-only
    type: pmtu
    target: 10.232.3.2
    sizes: [9000, 4000]
  - name: silent
    type: pmtu
    target: 10.232.2.2
    sizes: [1400, 1300]
  - name: noroute
    type: pmtu
    target: 10.233.0.1
EOF
ip netns exec "$NB" nft -f - <<'EOF'
table inet npnl_silent {
	chain in {
		type filter hook input priority 0; policy accept;
		ip saddr 10.232.1.1 drop
	}
}
EOF
once "$T/other.yaml"
check jumbo 10.232.3.2 ok "1500 passes; 9000 exceeds the local MTU" \
    "a size above the local interface MTU fails locally (EMSGSIZE)"
check jumbo-only 10.232.3.2 bad_response \
    "no size passes; 4000 exceeds the local MTU" \
    "every size above the local MTU: bad_response"
check silent 10.232.2.2 timeout "no reply to any size" \
    "a peer that drops everything: timeout"
check noroute 10.233.0.1 unreachable "send: Network is unreachable" \
    "no route to the target: unreachable"
ip netns exec "$NB" nft delete table inet npnl_silent

# ---- the daemon ---------------------------------------------------------

cat >"$T/np-wrap" <<EOF
#!/bin/sh
exec ip netns exec $NA "$NETPROBED" "\$@"
EOF
cat >"$T/curl-wrap" <<EOF
#!/bin/sh
exec ip netns exec $NA curl "\$@"
EOF
chmod +x "$T/np-wrap" "$T/curl-wrap"
CURL=$T/curl-wrap
cat >"$T/np.yaml" <<EOF
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 2s
  timeout: 1s
probes:
  - name: tunnel
    type: pmtu
    targets: [10.232.2.2, "fd00:232:2::2", 10.232.3.2]
    sizes: [1500, 1400, 1300]
EOF
LOG=$T/netprobed.log
NETPROBED=$T/np-wrap start_netprobed "$T/np.yaml" "$LOG" ||
	bail_out "netprobed did not start in $NA"
B4=(probe=tunnel type=pmtu target=10.232.2.2)
B6=(probe=tunnel type=pmtu target=fd00:232:2::2)
C4=(probe=tunnel type=pmtu target=10.232.3.2)

show() { diag "$(metric_lines "$1" || echo "(no $1 series)")"; }
val_is()
{
	local name=$1 want=$2

	shift 2
	scrape && [ "$(metric_value "$name" "$@")" = "$want" ]
}
all_ran()
{
	scrape && metric_value probe_success "${B4[@]}" >/dev/null &&
	    metric_value probe_success "${B6[@]}" >/dev/null &&
	    metric_value probe_success "${C4[@]}" >/dev/null
}
wait_for 10 all_ran
ok $? "daemon: every target has a result" || { show probe_success; diag_file "$LOG"; }
is "$(metric_value netprobe_pmtu_bytes "${B4[@]}"):$(metric_value \
    netprobe_pmtu_reported_bytes "${B4[@]}"):$(metric_value \
    netprobe_pmtu_black_hole "${B4[@]}"):$(metric_value probe_success "${B4[@]}")" \
    1400:1400:0:0 "daemon: to b: pmtu_bytes 1400, reported 1400, no black hole, probe_success 0"
is "$(metric_value netprobe_pmtu_bytes "${B6[@]}"):$(metric_value \
    netprobe_pmtu_reported_bytes "${B6[@]}")" 1400:1400 \
    "daemon: to b over IPv6: pmtu_bytes 1400, reported 1400"
is "$(metric_value netprobe_pmtu_bytes "${C4[@]}"):$(metric_value \
    netprobe_pmtu_black_hole "${C4[@]}"):$(metric_value probe_success "${C4[@]}")" \
    1500:0:1 "daemon: to c: pmtu_bytes 1500, no black hole, probe_success 1"
metric_value netprobe_pmtu_reported_bytes "${C4[@]}" >/dev/null
ok $((!$?)) "daemon: nothing reported on the 1500 path: no reported_bytes series"

black_hole 2>>"$T/nft.err"
wait_for 10 val_is netprobe_pmtu_black_hole 1 "${B4[@]}"
ok $? "daemon: frag-needed dropped: netprobe_pmtu_black_hole 1" ||
	show netprobe_pmtu_black_hole
is "$(metric_value netprobe_pmtu_bytes "${B4[@]}")" 1400 \
    "daemon: ... and the largest passing size is still 1400"
metric_value netprobe_pmtu_reported_bytes "${B4[@]}" >/dev/null
ok $((!$?)) "daemon: ... with no reported MTU this time"
wait_for 10 val_is netprobe_pmtu_black_hole 1 "${B6[@]}"
ok $? "daemon: packet too big dropped: the IPv6 black hole too" ||
	show netprobe_pmtu_black_hole
if [ -x "$PROMTOOL" ]; then
	pout=$("$PROMTOOL" check metrics 2>&1 <<<"$METRICS")
	is "$?:$pout" "0:" "daemon: promtool check metrics is clean"
else
	skip "no promtool" "daemon: promtool check metrics is clean"
fi
like "$(metric_lines netprobe_probe_runs_total "${B4[@]}")" 'result="bad_response"' \
    "daemon: runs to b count as bad_response"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "daemon: exits 0 on SIGTERM" || diag_file "$LOG"
unlike "$(cat "$LOG")" '(error|warning):' "daemon: the log has no warnings or errors" ||
	diag_file "$LOG"

done_testing
