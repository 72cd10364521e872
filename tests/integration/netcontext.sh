#!/usr/bin/env bash
#
# Where probes leave from: the common keys source, interface
# (SO_BINDTODEVICE), vrf, fwmark (SO_MARK) and netns (setns), shown on
# tcp and icmp probes in
# two namespaces joined by a veth, with a second interface (a veth whose
# other end stays in A) beside it and a policy-routing rule on a mark.
#
# Traffic goes only to 10.214.0.0/16 inside the namespaces this script
# creates (and deletes).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"

T=$TAP_TMPDIR
A="npctx-$$-a"		# netprobed runs here: vA 10.214.0.1, d0 10.214.9.1
B="npctx-$$-b"		# the peer: 10.214.0.2, a TCP listener on 5555
ip netns add "$A" 2>"$T/ns.err" || skip_all "ip netns add failed: $(cat "$T/ns.err")"
on_exit "ip netns del '$A' 2>/dev/null"
ip netns add "$B" || bail_out "ip netns add $B failed"
on_exit "ip netns del '$B' 2>/dev/null"
ip -n "$A" link add vA type veth peer name vB netns "$B" &&
ip -n "$A" link add d0 type veth peer name d0p &&
ip -n "$A" addr add 10.214.0.1/24 dev vA &&
ip -n "$A" addr add 10.214.9.1/24 dev d0 &&
ip -n "$B" addr add 10.214.0.2/24 dev vB &&
ip -n "$A" link set lo up && ip -n "$A" link set vA up &&
ip -n "$A" link set d0 up && ip -n "$A" link set d0p up &&
ip -n "$B" link set lo up && ip -n "$B" link set vB up &&
ip -n "$B" route add 10.214.9.0/24 via 10.214.0.1 ||
	bail_out "cannot build the topology"
# marked packets are looked up in table 100, where the peer is unreachable
ip -n "$A" rule add fwmark 0x10 table 100 &&
ip -n "$A" route add unreachable 10.214.0.0/24 table 100 ||
	bail_out "cannot add the policy rule"

# the listener logs each client's address
ip netns exec "$B" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.214.0.2", 5555)); s.listen(64)
print("ready", flush=True)
while True:
    c, a = s.accept(); print(a[0], flush=True); c.close()
' >"$T/peers.log" 2>&1 &
register_pid $!
wait_for 10 grep -q ready "$T/peers.log" || bail_out "listener did not start"

# once CONFIG: --once inside A; RC, OUT
once()
{
	OUT=$(timeout -k 5 30 ip netns exec "$A" "$NETPROBED" -c "$1" --once \
	    2>"$T/once.err" </dev/null)
	RC=$?
}
result() { awk -v p="$1" '$1 == p { print $4 }' <<<"$OUT"; }

cat >"$T/ctx.yaml" <<YAML
defaults: {interval: 10s, timeout: 1s}
probes:
  - {name: plain, type: tcp, target: "10.214.0.2:5555"}
  - {name: via-veth, type: tcp, target: "10.214.0.2:5555", interface: vA}
  - {name: via-dummy, type: tcp, target: "10.214.0.2:5555", interface: d0}
  - {name: from-dummy, type: tcp, target: "10.214.0.2:5555", source: 10.214.9.1}
  - {name: marked, type: tcp, target: "10.214.0.2:5555", fwmark: 16}
  - {name: ping-via-veth, type: icmp, target: 10.214.0.2, interface: vA, count: 1}
  - {name: ping-via-dummy, type: icmp, target: 10.214.0.2, interface: d0, count: 1}
  - {name: ping-marked, type: icmp, target: 10.214.0.2, fwmark: 16, count: 1}
  # vrf: binds to the VRF's master device; this kernel may lack the vrf
  # module, so a plain device stands in: the same SO_BINDTODEVICE path
  - {name: vrf-veth, type: tcp, target: "10.214.0.2:5555", vrf: vA}
  - {name: vrf-dummy, type: tcp, target: "10.214.0.2:5555", vrf: d0}
  # netns: the socket is made in B, where 10.214.0.2 is local and
  # 10.214.9.1 is reached through A; a ping from B to A's d0 address
  - {name: from-b, type: tcp, target: "10.214.0.2:5555", netns: $B}
  - {name: ping-from-b, type: icmp, target: 10.214.9.1, netns: $B, count: 1}
YAML
once "$T/ctx.yaml"
is "$(result plain)" open "no context: the connect succeeds"
is "$(result via-veth)" open "interface: vA (the way to the peer): open"
# bound to a device with no route, the kernel takes the peer as on-link
# there: the SYN leaves through d0 and nobody answers
is "$(result via-dummy)" timeout \
    "interface: d0 (the peer is not on it): the connect times out" ||
	diag "$OUT"
is "$(result from-dummy)" open "source: 10.214.9.1: open"
# "open" is the kernel's handshake: the listener may log its accept()
# after --once has ended
wait_for 5 grep -qx '10\.214\.9\.1' "$T/peers.log"
like "$(cat "$T/peers.log")" '^10\.214\.9\.1$' \
    "and the peer saw the connection come from 10.214.9.1" ||
	diag_file "$T/peers.log"
is "$(result marked)" unreachable \
    "fwmark 16, routed by the rule to an unreachable route: unreachable" ||
	diag "$OUT"
is "$(result ping-via-veth)" reply "icmp with interface: vA: reply"
isnt "$(result ping-via-dummy)" reply "icmp with interface: d0: no reply" ||
	diag "$OUT"
is "$(result ping-marked)" unreachable "icmp with fwmark 16: unreachable" ||
	diag "$OUT"
is "$(result vrf-veth)" open "vrf: vA (bound like a VRF master): open"
is "$(result vrf-dummy)" timeout "vrf: d0: the connect times out" ||
	diag "$OUT"
is "$(result from-b)" open "netns: B: the socket is made in B, open"
wait_for 5 grep -qx '10\.214\.0\.2' "$T/peers.log"
like "$(cat "$T/peers.log")" '10\.214\.0\.2$' \
    "and the peer saw the connection come from its own address (in B)" ||
	diag_file "$T/peers.log"
is "$(result ping-from-b)" reply "icmp with netns: B reaches A's 10.214.9.1"
is "$RC" 1 "--once exits 1: some probes fail"

cat >"$T/bad.yaml" <<YAML
probes:
  - {name: x, type: tcp, target: "10.214.0.2:5555", interface: nosuch0}
YAML
once "$T/bad.yaml"
is "$(result x)" error "interface: nosuch0 (absent): a local error"
like "$OUT" 'No such device' "saying the device does not exist"

cat >"$T/badns.yaml" <<YAML
probes:
  - {name: y, type: tcp, target: "10.214.0.2:5555", netns: npctx-$$-none}
YAML
once "$T/badns.yaml"
is "$(result y)" error "netns: a namespace that does not exist: a local error"
like "$OUT" "netns npctx-$$-none: socket: No such file or directory" \
    "saying which namespace is missing"

done_testing
