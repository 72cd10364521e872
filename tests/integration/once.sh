#!/usr/bin/env bash
#
# netprobed --once: the result table and the exit status, against
# loopback targets, then (as root) inside two network namespaces joined
# by a veth pair, where the peer drops our packets.
#
# Traffic goes only to 127.0.0.0/8, ::1 and 10.213.0.0/24 inside the
# namespaces this script creates (and deletes).
#
# Ports: 19510 (a listener), 19511 (closed), 19512 (in the namespaces).

# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon

T=$TAP_TMPDIR
OPEN_PORT=19510
CLOSED_PORT=19511
NS_PORT=19512

# once CONFIG [NETNS]: run --once (bounded), RC, OUT, ERR, ELAPSED_MS
once()
{
	local start ns=${2:-}

	start=$(_now_ms)
	if [ -n "$ns" ]; then
		timeout -k 5 30 ip netns exec "$ns" "$NETPROBED" -c "$1" --once \
		    >"$T/out" 2>"$T/err" </dev/null
	else
		timeout -k 5 30 "$NETPROBED" -c "$1" --once \
		    >"$T/out" 2>"$T/err" </dev/null
	fi
	RC=$?
	ELAPSED_MS=$(($(_now_ms) - start))
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# field PROBE TARGET N: field N of that row (4 result, 2 type)
field()
{
	awk -v p="$1" -v t="$2" -v n="$3" \
	    '$1 == p && $3 == t { print $n; found = 1; exit }
	    END { exit !found }' <<<"$OUT"
}

# row PROBE TARGET: the whole row
row()
{
	awk -v p="$1" -v t="$2" '$1 == p && $3 == t { print; exit }' <<<"$OUT"
}

# result_is PROBE TARGET WORD DESC
result_is()
{
	local got

	got=$(field "$1" "$2" 4)
	if ! is "$got" "$3" "$4"; then
		diag "table:" "$OUT"
		[ -n "$ERR" ] && diag "stderr:" "$ERR"
	fi
}

# ---- loopback ---------------------------------------------------------

HAVE_V6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	HAVE_V6=1
fi

if port_listening "$CLOSED_PORT"; then
	bail_out "port $CLOSED_PORT must be closed for this test, but something listens there"
fi
start_tcp_listener 127.0.0.1 "$OPEN_PORT" ||
	bail_out "cannot start a TCP listener on 127.0.0.1:$OPEN_PORT"

v6_probe=
if [ "$HAVE_V6" = 1 ]; then
	v6_probe="
  - name: lo6-icmp
    type: icmp
    target: \"::1\"
    count: 2
    packet_interval: 50ms"
fi

cat >"$T/good.yaml" <<EOF
defaults:
  interval: 10s
  timeout: 1s
probes:
  - name: lo-icmp
    type: icmp
    targets: [127.0.0.1, 127.0.0.2, 127.3.4.5]
    count: 2
    packet_interval: 50ms$v6_probe
  - name: lo-tcp
    type: tcp
    target: 127.0.0.1:$OPEN_PORT
EOF
ntargets=$((4 + HAVE_V6))

once "$T/good.yaml"
is "$RC" 0 "--once exits 0 when every probe succeeds" ||
	diag "table:" "$OUT" "stderr:" "$ERR"
like "$OUT" '^PROBE +TYPE +TARGET +RESULT +LATENCY +DETAIL$' \
    "the table starts with its header"
for t in 127.0.0.1 127.0.0.2 127.3.4.5; do
	result_is lo-icmp "$t" reply "icmp to $t: reply"
done
if [ "$HAVE_V6" = 1 ]; then
	result_is lo6-icmp ::1 reply "icmp to ::1: reply"
else
	skip "::1 is not configured on lo" "icmp to ::1: reply"
fi
result_is lo-tcp "127.0.0.1:$OPEN_PORT" open \
    "tcp to the listener on 127.0.0.1:$OPEN_PORT: open"
like "$(row lo-icmp 127.3.4.5)" ' [0-9]+\.[0-9]{3} ms +2/2 replies$' \
    "an icmp row shows the mean RTT in ms and 2/2 replies"
like "$(row lo-tcp "127.0.0.1:$OPEN_PORT")" ' [0-9]+\.[0-9]{3} ms +connected$' \
    "the tcp row shows the connect time in ms and 'connected'"
like "$OUT" "^$ntargets of $ntargets succeeded\$" \
    "the summary says $ntargets of $ntargets succeeded"
is "$ERR" "" "--once writes nothing to stderr when all is well"

cat >"$T/closed.yaml" <<EOF
defaults:
  timeout: 1s
probes:
  - name: lo-icmp
    type: icmp
    targets: [127.0.0.1, 127.0.0.2]
    count: 2
    packet_interval: 50ms
  - name: lo-tcp
    type: tcp
    targets: [127.0.0.1:$OPEN_PORT, 127.0.0.1:$CLOSED_PORT]
EOF

once "$T/closed.yaml"
is "$RC" 1 "--once exits 1 when a tcp target is refused" ||
	diag "table:" "$OUT"
result_is lo-tcp "127.0.0.1:$CLOSED_PORT" refused \
    "tcp to closed port 127.0.0.1:$CLOSED_PORT: refused"
like "$(row lo-tcp "127.0.0.1:$CLOSED_PORT")" ' - +Connection refused$' \
    "the refused row has no latency and says 'Connection refused'"
result_is lo-tcp "127.0.0.1:$OPEN_PORT" open \
    "the open port is still open next to the refused one"
result_is lo-icmp 127.0.0.2 reply "icmp still replies next to a failure"
like "$OUT" '^3 of 4 succeeded$' "the summary says 3 of 4 succeeded"

# ---- network namespaces -------------------------------------------------

NS_DESCS=(
	"netns: icmp to the peer across the veth: reply"
	"netns: tcp to a closed port on the peer: refused"
	"netns: --once exits 1 with a refused target"
	"netns: tcp to the dropping peer: timeout"
	"netns: the timeout row says 'no answer within 1000ms'"
	"netns: icmp to the dropping peer: timeout"
	"netns: the icmp timeout row says 0/2 replies"
	"netns: --once exits 1 when targets time out"
	"netns: the timeout came no earlier than the 1s timeout"
	"netns: --once ended soon after the 1s timeout"
	"netns: --once exits 1 for icmp to an address with no route"
	"netns: icmp with no route: unreachable or timeout"
)
ns_skip()
{
	local d

	for d in "${NS_DESCS[@]}"; do
		skip "$1" "$d"
	done
	done_testing
}

[ "$(id -u)" = 0 ] || ns_skip "not root"
command -v ip >/dev/null 2>&1 || ns_skip "no ip(8)"

TAG="$$-$RANDOM"
NS_A="npt-$TAG-a"	# netprobed runs here, 10.213.0.1
NS_B="npt-$TAG-b"	# the peer, 10.213.0.2
# delete only the namespaces this script did create
for ns in "$NS_A" "$NS_B"; do
	if ! ip netns add "$ns" 2>>"$T/ns.err"; then
		diag "$(cat "$T/ns.err")"
		ns_skip "ip netns add failed"
	fi
	on_exit "ip netns del '$ns'"
done
if ! {
	ip -n "$NS_A" link add vA type veth peer name vB netns "$NS_B" &&
	ip -n "$NS_A" addr add 10.213.0.1/24 dev vA &&
	ip -n "$NS_B" addr add 10.213.0.2/24 dev vB &&
	ip -n "$NS_A" link set lo up &&
	ip -n "$NS_B" link set lo up &&
	ip -n "$NS_A" link set vA up &&
	ip -n "$NS_B" link set vB up
    } 2>"$T/ns.err"; then
	diag "$(cat "$T/ns.err")"
	ns_skip "cannot set up a veth pair between namespaces"
fi

cat >"$T/peer.yaml" <<EOF
defaults:
  timeout: 1s
probes:
  - name: peer-icmp
    type: icmp
    target: 10.213.0.2
    count: 2
    packet_interval: 50ms
  - name: peer-tcp
    type: tcp
    target: 10.213.0.2:$NS_PORT
EOF

# the link works: the peer answers echo and resets the closed port
once "$T/peer.yaml" "$NS_A"
result_is peer-icmp 10.213.0.2 reply "netns: icmp to the peer across the veth: reply"
result_is peer-tcp "10.213.0.2:$NS_PORT" refused \
    "netns: tcp to a closed port on the peer: refused"
is "$RC" 1 "netns: --once exits 1 with a refused target"

# Now make the peer drop everything from us: with nft, else iptables,
# else by taking the peer's end of the veth down.  NPT_DROP_METHOD
# (nft, iptables or linkdown) forces one, to exercise every branch.
drop_nft()
{
	command -v nft >/dev/null 2>&1 &&
	    ip netns exec "$NS_B" nft -f - 2>>"$T/ns.err" <<'EOF'
table inet netprobed_test {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr 10.213.0.1 drop
	}
}
EOF
}

drop_iptables()
{
	command -v iptables >/dev/null 2>&1 &&
	    ip netns exec "$NS_B" iptables -w -I INPUT -s 10.213.0.1 -j DROP \
	    2>>"$T/ns.err"
}

# A static neighbour entry keeps ARP failure out of it: the SYN is sent
# into the veth and dropped there.
drop_linkdown()
{
	local mac

	mac=$(ip -n "$NS_B" -br link show vB | awk '{ print $3 }')
	ip -n "$NS_B" link set vB down 2>>"$T/ns.err" &&
	    ip -n "$NS_A" neigh replace 10.213.0.2 lladdr "$mac" \
	    nud permanent dev vA 2>>"$T/ns.err"
}

how=
case ${NPT_DROP_METHOD:-auto} in
nft)		drop_nft && how="nft drops input from 10.213.0.1 in the peer" ;;
iptables)	drop_iptables && how="iptables drops input from 10.213.0.1 in the peer" ;;
linkdown)	drop_linkdown && how="the peer's veth is down" ;;
*)
	if drop_nft; then
		how="nft drops input from 10.213.0.1 in the peer"
	elif drop_iptables; then
		how="iptables drops input from 10.213.0.1 in the peer"
	elif drop_linkdown; then
		how="the peer's veth is down (no nft or iptables)"
	fi
	;;
esac
if [ -n "$how" ]; then
	diag "packets are dropped because $how"
	once "$T/peer.yaml" "$NS_A"
	result_is peer-tcp "10.213.0.2:$NS_PORT" timeout \
	    "netns: tcp to the dropping peer: timeout"
	like "$(row peer-tcp "10.213.0.2:$NS_PORT")" \
	    ' - +no answer within 1000ms$' \
	    "netns: the timeout row says 'no answer within 1000ms'"
	result_is peer-icmp 10.213.0.2 timeout \
	    "netns: icmp to the dropping peer: timeout"
	like "$(row peer-icmp 10.213.0.2)" ' - +0/2 replies$' \
	    "netns: the icmp timeout row says 0/2 replies"
	is "$RC" 1 "netns: --once exits 1 when targets time out"
	cmp_ok "$ELAPSED_MS" '>=' 1000 \
	    "netns: the timeout came no earlier than the 1s timeout (${ELAPSED_MS}ms)"
	cmp_ok "$ELAPSED_MS" '<' 8000 \
	    "netns: --once ended soon after the 1s timeout (${ELAPSED_MS}ms)"
else
	[ -s "$T/ns.err" ] && diag "$(cat "$T/ns.err")"
	for d in "${NS_DESCS[@]:3:7}"; do
		skip "cannot make the peer drop packets" "$d"
	done
fi

# an address with no route at all: nothing leaves the namespace
cat >"$T/noroute.yaml" <<'EOF'
defaults:
  timeout: 1s
probes:
  - name: noroute
    type: icmp
    target: 10.213.1.1
    count: 2
    packet_interval: 50ms
EOF
once "$T/noroute.yaml" "$NS_A"
is "$RC" 1 "netns: --once exits 1 for icmp to an address with no route" ||
	diag "table:" "$OUT"
got=$(field noroute 10.213.1.1 4)
like "$got" '^(unreachable|timeout)$' \
    "netns: icmp with no route: unreachable or timeout (got '$got')"

done_testing
