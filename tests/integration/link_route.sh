#!/usr/bin/env bash
#
# link and route probes against the kernel of a network namespace:
# interfaces up, down and without carrier, addresses in or out of the
# expected prefix, MTU, missing interfaces, routes present, absent, via
# the wrong interface, blackholed; IPv4 and IPv6.  Through --once, and
# through a daemon running inside the namespace, whose /metrics must
# follow netlink events (a flap between two runs still counts) and stay
# promtool-clean.
#
# Two namespaces npnl-PID-a (netprobed) and npnl-PID-b (the peer), two
# veth pairs:  vA 10.30.0.1/24 2001:db8:30::1/64 -- vB 10.30.0.2 (b)
#              vC 10.31.0.1/24                   -- vD 10.31.0.2 (b)
# Routes are only looked up, never used: no packet leaves namespace a.
#
# Ports: 19560 (netprobed, on 127.0.0.1 inside namespace a).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "no ip(8)"

T=$TAP_TMPDIR
NP_PORT=19560
NS_A="npnl-$$-a"
NS_B="npnl-$$-b"
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}

for ns in "$NS_A" "$NS_B"; do
	ip netns add "$ns" 2>>"$T/ns.err" ||
		skip_all "ip netns add failed: $(cat "$T/ns.err")"
	on_exit "ip netns del '$ns'"
	# no duplicate address detection: addresses usable at once
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
	    net.ipv6.conf.default.accept_dad=0 2>>"$T/ns.err"
done
A() { ip -n "$NS_A" "$@"; }
B() { ip -n "$NS_B" "$@"; }
if ! {
	A link set lo up && B link set lo up &&
	A link add vA type veth peer name vB netns "$NS_B" &&
	A link add vC type veth peer name vD netns "$NS_B" &&
	A addr add 10.30.0.1/24 dev vA &&
	A addr add 2001:db8:30::1/64 dev vA nodad &&
	A addr add 10.31.0.1/24 dev vC &&
	B addr add 10.30.0.2/24 dev vB &&
	B addr add 2001:db8:30::2/64 dev vB nodad &&
	B addr add 10.31.0.2/24 dev vD &&
	A link set vA up && A link set vC up &&
	B link set vB up && B link set vD up &&
	A route add 10.20.0.0/16 via 10.30.0.2 &&
	A -6 route add 2001:db8:20::/48 via 2001:db8:30::2
    } 2>>"$T/ns.err"; then
	diag "$(cat "$T/ns.err")"
	skip_all "cannot build the veth topology"
fi

# once CONFIG: --once inside namespace a; RC, OUT, ERR
once()
{
	timeout -k 5 30 ip netns exec "$NS_A" "$NETPROBED" -c "$1" --once \
	    >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# row PROBE TARGET: RESULT and DETAIL of that row of the table
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

cat >"$T/once.yaml" <<'EOF'
defaults:
  timeout: 1s
probes:
  - name: ext-link
    type: link
    target: vA
    expect_address_in: [10.30.0.0/16, "2001:db8:30::/48"]
    expect_mtu_min: 1500
  - name: wrong-net
    type: link
    target: vA
    expect_address_in: 10.99.0.0/16
  - name: gone
    type: link
    target: wan7
  - name: ext-route
    type: route
    targets: [10.20.0.0/16, 10.20.0.10, "2001:db8:20::/48"]
    via_interface: vA
  - name: ext-gw
    type: route
    target: 10.20.0.0/16
    via_gateway: 10.30.0.2
  - name: internet
    type: route
    targets: [198.51.100.0/24, "2001:db8:99::/48"]
    expect: absent
EOF

# ---- --once: the healthy state -----------------------------------------

once "$T/once.yaml"
check ext-link vA up "up, mtu 1500, address in 10.30.0.0/16" \
    "link up, running, with addresses in both prefixes: up"
check wrong-net vA bad_response \
    "no address in 10.99.0.0/16 (has 10.30.0.1/24)" \
    "link without an address in the expected prefix: bad_response naming what it has"
check gone wan7 bad_response "no such interface" \
    "missing interface: bad_response 'no such interface'"
check ext-route 10.20.0.0/16 ok "10.20.0.0/16 via 10.30.0.2 dev vA" \
    "route to the extranet prefix via vA: ok, shown like ip route"
check ext-route 10.20.0.10 ok "10.20.0.0/16 via 10.30.0.2 dev vA" \
    "an address inside the prefix finds the same route"
check ext-route 2001:db8:20::/48 ok "2001:db8:20::/48 via 2001:db8:30::2 dev vA" \
    "IPv6 route via vA: ok"
check ext-gw 10.20.0.0/16 ok "10.20.0.0/16 via 10.30.0.2 dev vA" \
    "route via the expected gateway: ok"
check internet 198.51.100.0/24 ok "no route (Network is unreachable)" \
    "expect: absent with no route: ok"
check internet 2001:db8:99::/48 ok "no route (Network is unreachable)" \
    "expect: absent, IPv6: ok"
is "$RC" 1 "--once exits 1 (two link probes fail)"
like "$OUT" '^7 of 9 succeeded$' "the summary says 7 of 9 succeeded"

# ---- --once: faults ----------------------------------------------------

B link set vB down
once "$T/once.yaml"
check ext-link vA bad_response "up, but no carrier" \
    "peer down: vA has no carrier: bad_response"
B link set vB up
A link set vA down
once "$T/once.yaml"
check ext-link vA bad_response "administratively down" \
    "vA set down: bad_response 'administratively down'"
check ext-route 10.20.0.0/16 bad_response "no route (Network is unreachable)" \
    "the route left with the link: bad_response"
A link set vA up
A link set vA mtu 1400
once "$T/once.yaml"
check ext-link vA bad_response "mtu 1400 < 1500" \
    "MTU below expect_mtu_min: bad_response"
A link set vA mtu 1500
A route replace 10.20.0.0/16 via 10.30.0.2
A route add 198.51.100.0/24 via 10.31.0.2
A -6 route add blackhole 2001:db8:99::/48
A route replace 10.20.0.0/16 via 10.31.0.2
once "$T/once.yaml"
check ext-route 10.20.0.0/16 bad_response \
    "10.20.0.0/16 via 10.31.0.2 dev vC, expected dev vA" \
    "route via the other interface: bad_response"
check ext-gw 10.20.0.0/16 bad_response \
    "10.20.0.0/16 via 10.31.0.2 dev vC, expected via 10.30.0.2" \
    "route via the other gateway: bad_response"
check internet 198.51.100.0/24 bad_response \
    "route exists: 198.51.100.0/24 via 10.31.0.2 dev vC" \
    "expect: absent, and a route appeared: bad_response"
check internet 2001:db8:99::/48 ok "blackhole route (Invalid argument)" \
    "expect: absent, a blackhole route counts as absent: ok"
A route del 198.51.100.0/24
A route add default via 10.31.0.2
once "$T/once.yaml"
check internet 198.51.100.0/24 bad_response \
    "route exists: 0.0.0.0/0 via 10.31.0.2 dev vC" \
    "expect: absent, a default route reaches it too: bad_response"
A route del default
A route replace 10.20.0.0/16 via 10.30.0.2

# ---- the daemon: /metrics follows netlink events -----------------------

cat >"$T/np-wrap" <<EOF
#!/bin/sh
exec ip netns exec $NS_A "$NETPROBED" "\$@"
EOF
cat >"$T/curl-wrap" <<EOF
#!/bin/sh
exec ip netns exec $NS_A curl "\$@"
EOF
chmod +x "$T/np-wrap" "$T/curl-wrap"
CURL=$T/curl-wrap

cat >"$T/np.yaml" <<EOF
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 500ms
probes:
  - name: ext-link
    type: link
    targets: [vA, wan7]
    expect_address_in: 10.30.0.0/16
  - name: ext-route
    type: route
    target: 10.20.0.0/16
    via_interface: vA
  - name: internet
    type: route
    target: 198.51.100.0/24
    expect: absent
EOF

LOG=$T/netprobed.log
NETPROBED=$T/np-wrap start_netprobed "$T/np.yaml" "$LOG" ||
	bail_out "netprobed did not start in $NS_A"
LINK=(probe=ext-link type=link target=vA)
WAN=(probe=ext-link type=link target=wan7)
ROUTE=(probe=ext-route type=route target=10.20.0.0/16)
INET=(probe=internet type=route target=198.51.100.0/24)

show() { diag "$(metric_lines "$1" || echo "(no $1 series)")"; }

# val_is NAME VALUE LABELS...: scrape; the series has that value
val_is()
{
	local name=$1 want=$2

	shift 2
	scrape && [ "$(metric_value "$name" "$@")" = "$want" ]
}

all_ran()
{
	scrape && metric_value probe_success "${LINK[@]}" >/dev/null &&
	    metric_value probe_success "${WAN[@]}" >/dev/null &&
	    metric_value probe_success "${ROUTE[@]}" >/dev/null &&
	    metric_value probe_success "${INET[@]}" >/dev/null
}
wait_for 10 all_ran
ok $? "daemon: every target has a result" || { show probe_success; diag_file "$LOG"; }
is "$(metric_value probe_success "${LINK[@]}")" 1 \
    "daemon: probe_success 1 for the link vA" || show probe_success
is "$(metric_value netprobe_link_up "${LINK[@]}")" 1 "daemon: netprobe_link_up 1"
is "$(metric_value netprobe_link_oper_state "${LINK[@]}")" 1 \
    "daemon: netprobe_link_oper_state 1 (IF-MIB up)"
is "$(metric_value netprobe_link_mtu_bytes "${LINK[@]}")" 1500 \
    "daemon: netprobe_link_mtu_bytes 1500"
is "$(metric_value netprobe_link_up "${WAN[@]}"):$(metric_value \
    netprobe_link_oper_state "${WAN[@]}"):$(metric_value probe_success "${WAN[@]}")" \
    0:6:0 "daemon: a missing interface: link_up 0, oper_state 6 (notPresent), probe_success 0"
metric_value netprobe_link_mtu_bytes "${WAN[@]}" >/dev/null
ok $((!$?)) "daemon: no MTU series for the missing interface"
is "$(metric_value probe_success "${ROUTE[@]}")" 1 \
    "daemon: probe_success 1 for the route via vA" || show probe_success
is "$(metric_value netprobe_route_present "${ROUTE[@]}")" 1 "daemon: netprobe_route_present 1"
is "$(metric_value netprobe_route_info "${ROUTE[@]}" prefix=10.20.0.0/16 \
    interface=vA gateway=10.30.0.2)" 1 \
    "daemon: netprobe_route_info names the prefix, interface and gateway" ||
	show netprobe_route_info
is "$(metric_value probe_success "${INET[@]}"):$(metric_value \
    netprobe_route_present "${INET[@]}")" 1:0 \
    "daemon: the forbidden prefix: probe_success 1, route_present 0"
metric_value netprobe_route_info "${INET[@]}" >/dev/null
ok $((!$?)) "daemon: no route_info series while there is no route"

# a flap shorter than the interval: the runs may never see it down, the
# event counter does
c0=$(metric_value netprobe_link_changes_total "${LINK[@]}")
is "$c0" 0 "daemon: netprobe_link_changes_total starts at 0" ||
	show netprobe_link_changes_total
B link set vB down
B link set vB up
grown()
{
	scrape || return 1
	_num_cmp "$(metric_value netprobe_link_changes_total "${LINK[@]}")" '>=' 2
}
wait_for 5 grown
ok $? "daemon: a down/up flap of the peer counts 2 changes in netprobe_link_changes_total" ||
	show netprobe_link_changes_total
ts=$(metric_value netprobe_link_last_change_timestamp_seconds "${LINK[@]}")
cmp_ok "$ts" '>=' "$(($(date +%s) - 30))" \
    "daemon: netprobe_link_last_change_timestamp_seconds is recent ($ts)"
# the event count may reach 2 on the down alone (the kernel can report
# the operstate change in a message of its own) with a run in between
# the down and the up: wait for the run that saw the up
carrier2() { scrape && _num_cmp "$(metric_value netprobe_link_carrier_changes_total "${LINK[@]}")" '>=' 2; }
wait_for 5 carrier2
cmp_ok "$(metric_value netprobe_link_carrier_changes_total "${LINK[@]}")" '>=' 2 \
    "daemon: netprobe_link_carrier_changes_total (the kernel's count) saw the flap"

A link set vA down
wait_for 5 val_is netprobe_link_up 0 "${LINK[@]}"
ok $? "daemon: vA set down: netprobe_link_up 0 within a few runs" || show netprobe_link_up
is "$(metric_value probe_success "${LINK[@]}"):$(metric_value netprobe_link_oper_state "${LINK[@]}")" \
    0:2 "daemon: probe_success 0, oper_state 2 (IF-MIB down)"
cmp_ok "$(metric_value netprobe_probe_runs_total "${LINK[@]}" result=bad_response)" '>=' 1 \
    "daemon: the down link counts as result=\"bad_response\""
wait_for 5 val_is netprobe_route_present 0 "${ROUTE[@]}"
ok $? "daemon: the route went with the link: netprobe_route_present 0" ||
	show netprobe_route_present
metric_value netprobe_route_info "${ROUTE[@]}" >/dev/null
ok $((!$?)) "daemon: its route_info series is gone"
A link set vA up
A route replace 10.20.0.0/16 via 10.31.0.2
routed_vc()
{
	scrape && [ "$(metric_value netprobe_route_info "${ROUTE[@]}" \
	    interface=vC gateway=10.31.0.2)" = 1 ]
}
wait_for 5 routed_vc
ok $? "daemon: route now via vC: route_info{interface=\"vC\",gateway=\"10.31.0.2\"} 1" ||
	show netprobe_route_info
is "$(metric_lines netprobe_route_info "${ROUTE[@]}" | wc -l)" 1 \
    "daemon: exactly one route_info series for the target (the old one released)"
is "$(metric_value probe_success "${ROUTE[@]}")" 0 \
    "daemon: route via the wrong interface: probe_success 0"
cmp_ok "$(metric_value netprobe_route_changes_total "${ROUTE[@]}")" '>=' 1 \
    "daemon: netprobe_route_changes_total counted the route changes"
is "$(metric_value netprobe_route_changes_total "${INET[@]}")" 0 \
    "daemon: no route changes counted for the unrelated forbidden prefix"
A route add 198.51.100.0/24 via 10.31.0.2
wait_for 5 val_is probe_success 0 "${INET[@]}"
ok $? "daemon: a route to the forbidden prefix appears: probe_success 0" ||
	show probe_success
is "$(metric_value netprobe_route_present "${INET[@]}")" 1 \
    "daemon: ... and netprobe_route_present 1"

# an interface that appears later is found (events keep the cache current)
A link add wan7 type veth peer name wan8
A link set wan8 up
A link set wan7 up
A addr add 10.30.9.1/24 dev wan7
wait_for 5 val_is probe_success 1 "${WAN[@]}"
ok $? "daemon: the interface created after start is found: probe_success 1" ||
	show probe_success

# /probe: a configured probe as a template, any target
http_get "$(np_url '/probe?module=ext-link&target=vC')"
is "$HTTP_CODE" 200 "daemon: /probe?module=ext-link&target=vC answers 200"
SAVED=$METRICS
METRICS=$HTTP_BODY
is "$(metric_value probe_success probe=ext-link type=link target=vC):$(metric_value \
    netprobe_link_up probe=ext-link type=link target=vC)" 0:1 \
    "daemon: /probe: vC is up but has no address in 10.30.0.0/16: probe_success 0, link_up 1"
METRICS=$SAVED
http_get "$(np_url '/probe?module=ext-route&target=10.21.0.0/15')"
is "$HTTP_CODE" 400 "daemon: /probe with a prefix that has host bits: 400"
like "$HTTP_BODY" 'invalid route target "10.21.0.0/15": host bits set \(did you mean 10.20.0.0/15\?\)' \
    "daemon: ... saying which prefix was meant"

if [ -x "$PROMTOOL" ]; then
	scrape
	pout=$("$PROMTOOL" check metrics 2>&1 <<<"$METRICS")
	is "$?:$pout" "0:" "daemon: promtool check metrics is clean"
else
	skip "no promtool" "daemon: promtool check metrics is clean"
fi

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "daemon: exits 0 on SIGTERM" || diag_file "$LOG"
unlike "$(cat "$LOG")" '(error|warning):' "daemon: the log has no warnings or errors" ||
	diag_file "$LOG"

done_testing
