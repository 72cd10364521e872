#!/usr/bin/env bash
#
# The whole district gateway, end to end: every probe type of
# examples/district.yaml against real peers in a test topology, healthy
# and then with the path cut, through --once (table and exit status) and
# through the running daemon's /metrics (exact values, promtool), /status
# and the shipped rules (rules/netprobed.rules.yml, their `for: 2m` cut
# to 4s): a cut raises the one alert naming the failing layer.
#
#   gw (netprobed)      ext (extranet router)          city (its services)
#   eth1 10.87.1.2/24 -- egov0 10.87.1.1/24
#                        tun0 10.87.2.1/24 --1400-- tun0 10.87.2.2/24
#
#   gw:   10.88.0.0/16 via 10.87.1.1 dev eth1, no default route
#   ext:  forwards, answers every too-big packet (no ICMP rate limit)
#   city: on lo, with 10.87.0.0/16 via 10.87.2.1
#         10.88.0.53   dnsmasq, the extranet DNS (platform.city.example)
#         10.88.0.80   nginx, the platform: https /api/health (JSON)
#         10.88.0.10   the MCU: kamailio (SIP, UDP/TCP 5060) and the
#                      H.323 peer (gatekeeper 1719, call signalling 1720)
#         10.88.0.12   netprobed --responder :5004 (media)
#         10.88.0.123  netprobed --responder :123 (stands in for NTP)
#
# The city link is the 1400-byte tunnel: the extranet router answers a
# 1500-byte DF packet with "fragmentation needed, MTU 1400".  The cuts:
#   a) the city drops everything from the gateway (nftables, input hook
#      of the city namespace): the extranet router still answers;
#   b) the gateway's uplink goes down: the route goes with it;
#   c) a default route appears on the gateway: the isolation check fails.
#
# Every peer runs inside the city namespace (ip netns exec) and is
# stopped by its PID; the namespaces npdist-PID-{gw,ext,city} are
# deleted at exit.  Traffic goes only to addresses inside them.  Ports
# are the services' real ones (53, 123, 443, 1719, 1720, 5004, 5060) and
# netprobed's 9560, all inside the namespaces, so nothing clashes with
# other tests.

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip_all "no ip(8)"
command -v nft >/dev/null 2>&1 || skip_all "no nft(8) to cut the path"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl(1)"
command -v curl >/dev/null 2>&1 || skip_all "no curl"
DNSMASQ=${DNSMASQ:-$(command -v dnsmasq || echo /usr/sbin/dnsmasq)}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
KAMAILIO=${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}
[ -x "$DNSMASQ" ] || skip_all "no dnsmasq (package dnsmasq-base)"
[ -x "$NGINX" ] || skip_all "no nginx"
[ -x "$KAMAILIO" ] || skip_all "no kamailio"
[ -n "$PYTHON3" ] || skip_all "no python3 for the H.323 peer"
H323_PEER=$top_srcdir/tests/peers/h323_responder.py
[ -r "$H323_PEER" ] || skip_all "no $H323_PEER"
EXAMPLE=$top_srcdir/examples/district.yaml
[ -r "$EXAMPLE" ] || skip_all "no $EXAMPLE"
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}

T=$TAP_TMPDIR
NP_PORT=9560
GW="npdist-$$-gw"
EXT="npdist-$$-ext"
CITY="npdist-$$-city"

# the test's addresses (the example's in comments)
UPLINK=eth1		# eth1
GW_ADDR=10.87.1.2	# 10.1.0.2
EXT_GW=10.87.1.1	# 10.1.0.1, the extranet router
DNS=10.88.0.53		# 10.20.0.53
PLATFORM=10.88.0.80	# 10.20.0.80
MCU=10.88.0.10		# 10.20.0.10
MEDIA=10.88.0.12	# 10.20.0.12
NTP=10.88.0.123		# 10.20.0.123
PLATFORM_NAME=platform.city.example

# ---- the example itself ---------------------------------------------

out=$("$NETPROBED" -c "$EXAMPLE" --check-config 2>&1)
is "$?:$out" "0:$EXAMPLE: OK (14 probes, 14 targets)" \
    "examples/district.yaml passes --check-config"

# name TYPE pairs of a config, in order
name_types()
{
	awk '/^  - name: / { n = $3 } /^    type: / { print n, $2 }' "$1"
}
all_types="icmp link route tcp dns http sip h323 media pmtu udp"
for ty in $all_types; do
	name_types "$EXAMPLE" | grep -q " $ty\$" ||
		fail "the example uses probe type $ty"
done
pass "the example uses every probe type ($all_types)"

# ---- topology -------------------------------------------------------

for ns in "$GW" "$EXT" "$CITY"; do
	ip netns add "$ns" 2>>"$T/ns.err" ||
		skip_all "ip netns add failed: $(cat "$T/ns.err")"
	on_exit "ip netns del '$ns'"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1 2>>"$T/ns.err"
done
N() { local ns=$1; shift; ip -n "$ns" "$@"; }
build()
{
	local a ns

	N "$GW" link add "$UPLINK" type veth peer name egov0 netns "$EXT" &&
	N "$EXT" link add tun0 type veth peer name tun0 netns "$CITY" &&
	N "$GW" addr add "$GW_ADDR/24" dev "$UPLINK" &&
	N "$EXT" addr add "$EXT_GW/24" dev egov0 &&
	N "$EXT" addr add 10.87.2.1/24 dev tun0 &&
	N "$CITY" addr add 10.87.2.2/24 dev tun0 &&
	N "$EXT" link set tun0 mtu 1400 && N "$CITY" link set tun0 mtu 1400 &&
	for a in "$DNS" "$PLATFORM" "$MCU" "$MEDIA" "$NTP"; do
		N "$CITY" addr add "$a/32" dev lo || return 1
	done &&
	for ns in "$GW" "$EXT" "$CITY"; do
		N "$ns" link set lo up || return 1
	done &&
	N "$GW" link set "$UPLINK" up && N "$EXT" link set egov0 up &&
	N "$EXT" link set tun0 up && N "$CITY" link set tun0 up &&
	N "$GW" route add 10.88.0.0/16 via "$EXT_GW" dev "$UPLINK" &&
	N "$EXT" route add 10.88.0.0/16 via 10.87.2.2 &&
	N "$CITY" route add 10.87.0.0/16 via 10.87.2.1 &&
	# a router that answers every too-big packet, with no rate limit
	ip netns exec "$EXT" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv4.icmp_ratelimit=0
}
if ! build 2>>"$T/ns.err"; then
	diag "$(cat "$T/ns.err")"
	skip_all "cannot build the topology"
fi

# ---- peers, all inside the city namespace -----------------------------

# (started in the background with `ip netns exec` itself, not through
# this function, so that $! is the peer's own PID: ip execs it)
incity() { ip netns exec "$CITY" "$@"; }
_ready_or_dead() { [ -e "$1" ] || pid_gone "$2"; }
# started NAME PID LOG CHECK...: register PID, wait until CHECK passes
started()
{
	local name=$1 pid=$2 log=$3

	shift 3
	register_pid "$pid"
	if wait_for 10 "$@" && pid_alive "$pid"; then
		return 0
	fi
	diag "$name did not start"
	diag_file "$log"
	return 1
}

# DNS: the extranet resolver, with the platform's name
cat >"$T/dnsmasq.conf" <<EOF
port=53
listen-address=$DNS
bind-interfaces
no-resolv
no-hosts
no-poll
user=root
group=root
log-queries
local=/city.example/
host-record=$PLATFORM_NAME,$PLATFORM
EOF
ip netns exec "$CITY" "$DNSMASQ" -k -C "$T/dnsmasq.conf" -x "$T/dnsmasq.pid" \
    --log-facility="$T/dnsmasq.log" </dev/null >"$T/dnsmasq.out" 2>&1 &
DNSMASQ_PID=$!
udp_bound_city() { [ -n "$(incity ss -Hlun "sport = :$1")" ]; }
started dnsmasq "$DNSMASQ_PID" "$T/dnsmasq.out" udp_bound_city 53 ||
	bail_out "dnsmasq did not start"

# the platform: nginx with a certificate for its name and address
mkdir -p "$T/nginx/tmp" || bail_out "mkdir failed"
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 30 -subj "/CN=$PLATFORM_NAME" \
    -addext "subjectAltName=DNS:$PLATFORM_NAME,IP:$PLATFORM" \
    -keyout "$T/nginx/platform.key" -out "$T/nginx/platform.crt" \
    2>"$T/openssl.err"; then
	diag_file "$T/openssl.err"
	bail_out "cannot make the platform's certificate"
fi
cat >"$T/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
pid nginx.pid;
error_log error.log info;
events { worker_connections 64; }
http {
    access_log access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path       tmp/proxy;
    fastcgi_temp_path     tmp/fastcgi;
    uwsgi_temp_path       tmp/uwsgi;
    scgi_temp_path        tmp/scgi;
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen $PLATFORM:443 ssl;
        ssl_certificate     platform.crt;
        ssl_certificate_key platform.key;
        location = /api/health {
            default_type application/json;
            return 200 '{"status": "up", "registered_enterprises": 1840,
                         "hazard_reports": 215}\n';
        }
    }
}
EOF
if ! incity "$NGINX" -t -q -p "$T/nginx/" -c nginx.conf -e stderr \
    2>"$T/nginx-t.err"
then
	diag_file "$T/nginx-t.err"
	bail_out "nginx rejects its configuration"
fi
ip netns exec "$CITY" "$NGINX" -p "$T/nginx/" -c nginx.conf -e stderr \
    -g 'daemon off;'     </dev/null >"$T/nginx.out" 2>&1 &
NGINX_PID=$!
nginx_up()
{
	incity curl -sf -o /dev/null --max-time 2 --cacert \
	    "$T/nginx/platform.crt" "https://$PLATFORM/api/health"
}
started nginx "$NGINX_PID" "$T/nginx.out" nginx_up ||
	bail_out "nginx did not start"

# the MCU's SIP side: kamailio answers OPTIONS with 200 (PEERS.md 1)
mkdir -p "$T/kam"
cat >"$T/kam/kamailio.cfg" <<EOF
#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
disable_sctp=yes
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
dns_try_ipv6=no
dns_try_naptr=no
listen=udp:$MCU:5060
listen=tcp:$MCU:5060
alias="$MCU"

loadmodule "sl.so"
loadmodule "pv.so"

request_route {
    if (method == "ACK") { exit; }
    if (method == "OPTIONS") { sl_send_reply("200", "OK"); exit; }
    sl_send_reply("405", "Method Not Allowed");
}
EOF
# kamailio leads its own process group, so workers it may leave behind
# are found by that group and only ours are ended
setsid ip netns exec "$CITY" "$KAMAILIO" -f "$T/kam/kamailio.cfg" -DD -E \
    -Y "$T/kam" -w "$T/kam" -P "$T/kam/kamailio.pid" -m 32 -M 4 \
    </dev/null >"$T/kam/kamailio.log" 2>&1 &
KAM_PID=$!
kam_orphans_kill()
{
	local p

	for p in $(ps -o pid= -g "$KAM_PID" 2>/dev/null); do
		grep -qF "$T/kam/kamailio.cfg" "/proc/$p/cmdline" 2>/dev/null &&
		    kill -KILL "$p"
	done
}
on_exit kam_orphans_kill
cat >"$T/sip_options.py" <<'EOF'
import socket, sys, uuid
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.connect((host, port))
lh, lp = s.getsockname()
tag = uuid.uuid4().hex[:8]
s.send((f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {lh}:{lp};branch=z9hG4bK{tag};rport\r\n"
        f"Max-Forwards: 70\r\nFrom: <sip:ready@{lh}>;tag={tag}\r\n"
        f"To: <sip:{host}:{port}>\r\nCall-ID: {uuid.uuid4().hex}@{lh}\r\n"
        f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
sys.exit(0 if s.recv(65535).startswith(b"SIP/2.0 200") else 1)
EOF
kam_up() { incity "$PYTHON3" "$T/sip_options.py" "$MCU" 5060; }
started kamailio "$KAM_PID" "$T/kam/kamailio.log" kam_up ||
	bail_out "kamailio did not answer OPTIONS on $MCU:5060"

# the MCU's H.323 side: its gatekeeper (GCF) and call signalling (Connect)
ip netns exec "$CITY" "$PYTHON3" "$H323_PEER" --host "$MCU" \
    --log "$T/h323.log" --ready "$T/h323.ready" \
    --ras 1719:gcf --cs 1720:connect \
    </dev/null >"$T/h323.out" 2>&1 &
H323_PID=$!
started "the H.323 peer" "$H323_PID" "$T/h323.out" \
    _ready_or_dead "$T/h323.ready" "$H323_PID" ||
	bail_out "the H.323 peer did not start"

# the responder beside the MCU (media), and one standing in for the NTP
# server (it echoes any other datagram)
rsp_up() { grep -q 'responder listening on' "$1"; }
ip netns exec "$CITY" "$NETPROBED" --responder "$MEDIA:5004" </dev/null \
    >"$T/rsp-media.log" 2>&1 &
RSP_MEDIA_PID=$!
started "the media responder" "$RSP_MEDIA_PID" "$T/rsp-media.log" \
    rsp_up "$T/rsp-media.log" || bail_out "the media responder did not start"
ip netns exec "$CITY" "$NETPROBED" --responder "$NTP:123" </dev/null \
    >"$T/rsp-ntp.log" 2>&1 &
RSP_NTP_PID=$!
started "the NTP stand-in" "$RSP_NTP_PID" "$T/rsp-ntp.log" \
    rsp_up "$T/rsp-ntp.log" || bail_out "the NTP stand-in did not start"
pass "every peer runs in $CITY: dnsmasq, nginx, kamailio, H.323, 2 responders"

# ---- the test's configuration: the example's probes, our addresses --------

# the example's NTP request, 48 bytes
NTP_REQUEST=$(sed -n 's/^ *payload_hex: "\([0-9a-f]*\)"$/\1/p' "$EXAMPLE")
is "${#NTP_REQUEST}" 96 "the example's NTP request is 48 bytes of hex"

# Timings are shortened (one --once under a cut must end in 2s) and the
# CA is the test's; names, types and options are the example's.
cat >"$T/district.yaml" <<EOF
site:
  name: jinshui
  display_name: 金水区
  labels: {kind: district, city: zhengzhou}
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 3s
  timeout: 2s
  evaluation_interval: 1s
rule_files: [rules/*.rules.yml]
probes:
  - name: extranet-link
    type: link
    target: $UPLINK
    expect_address_in: 10.87.1.0/24
    expect_mtu_min: 1400
    labels: {group: extranet}
  - name: extranet-route
    type: route
    target: 10.88.0.0/16
    via_interface: $UPLINK
    via_gateway: $EXT_GW
    labels: {group: extranet}
  - name: internet-route
    type: route
    target: 203.0.113.0/24
    expect: absent
    labels: {group: isolation}
  - name: extranet-gw
    type: icmp
    target: $EXT_GW
    count: 3
    packet_interval: 100ms
    labels: {group: extranet}
  - name: extranet-dns
    type: dns
    target: $DNS
    query_name: $PLATFORM_NAME
    query_type: A
    valid_rcodes: [NOERROR]
    answer_count_min: 1
    answer_regex: 'IN A ${PLATFORM//./\\.}\$'
    labels: {group: extranet}
  - name: platform-tcp
    type: tcp
    target: $PLATFORM:443
    labels: {group: platform}
  - name: platform-health
    type: http
    target: https://$PLATFORM/api/health
    tls_server_name: $PLATFORM_NAME
    tls_ca_file: $T/nginx/platform.crt
    fail_if_cert_expires_within: 336h
    valid_status_codes: [200]
    fail_if_body_not_matches_regexp: '"status": *"up"'
    json_gauges: {enterprises: registered_enterprises}
    labels: {group: platform}
  - name: mcu-ping
    type: icmp
    target: $MCU
    count: 10
    packet_interval: 50ms
    labels: {group: conference}
  - name: mcu-sip
    type: sip
    target: $MCU
    transport: udp
    labels: {group: conference}
  - name: mcu-gatekeeper
    type: h323
    target: $MCU
    mode: ras
    ras_message: grq
    alias: jinshui-gw
    labels: {group: conference}
  - name: mcu-h323-call
    type: h323
    target: $MCU
    mode: call
    alias: jinshui-gw
    called_number: "8000"
    labels: {group: conference}
  - name: mcu-media
    type: media
    target: $MEDIA:5004
    duration: 1s
    packets_per_second: 50
    payload_size: 160
    dscp: 46
    labels: {group: conference}
  - name: mcu-pmtu
    type: pmtu
    target: $MCU
    sizes: [1500, 1400, 1300]
    expect_min_mtu: 1400
    count: 2
    packet_interval: 200ms
    labels: {group: conference}
  - name: extranet-ntp
    type: udp
    target: $NTP:123
    payload_hex: "$NTP_REQUEST"
    retries: 2
    labels: {group: extranet}
EOF
is "$(name_types "$T/district.yaml")" "$(name_types "$EXAMPLE")" \
    "the test config has the example's probes (names, types, order)"

# The example's labels, `component` included (the rules read it): each
# probe's labels line is taken from the example as it is.
labels_of() # FILE: "name labels-line" per probe
{
	awk '/^  - name: /{n=$3} /^    labels: /{sub(/^    /,""); print n, $0}' "$1"
}
while read -r n line; do
	sed -i "/^  - name: $n\$/,/^    labels: /s/^    labels: .*/    $line/" \
	    "$T/district.yaml"
done < <(labels_of "$EXAMPLE")
is "$(labels_of "$T/district.yaml")" "$(labels_of "$EXAMPLE")" \
    "the test config has the example's labels"

# The shipped rules, their `for: 2m` (the reachability verdicts) cut to
# 4s so a cut fires in seconds.  The quality alerts keep `for: 5m`: they
# read 5-minute windows, which after a cut still hold its loss, and are
# not what this test is about.
mkdir -p "$T/rules"
sed -E 's/^( *for: )2m$/\14s/' \
    "$top_srcdir/rules/netprobed.rules.yml" >"$T/rules/netprobed.rules.yml"
is "$(grep -c '^ *for: 4s$' "$T/rules/netprobed.rules.yml")" \
    "$(grep -c '^ *for: 2m$' "$top_srcdir/rules/netprobed.rules.yml")" \
    "the shipped rules' for: 2m are shortened in the test copy"

# every probe and target of the test config, and its success word
PROBES=(extranet-link extranet-route internet-route extranet-gw extranet-dns
	platform-tcp platform-health mcu-ping mcu-sip mcu-gatekeeper
	mcu-h323-call mcu-media mcu-pmtu extranet-ntp)
declare -A TARGET=(
	[extranet-link]=$UPLINK [extranet-route]=10.88.0.0/16
	[internet-route]=203.0.113.0/24 [extranet-gw]=$EXT_GW
	[extranet-dns]=$DNS:53 [platform-tcp]=$PLATFORM:443
	[platform-health]=https://$PLATFORM/api/health [mcu-ping]=$MCU
	[mcu-sip]=$MCU:5060 [mcu-gatekeeper]=$MCU:1719
	[mcu-h323-call]=$MCU:1720 [mcu-media]=$MEDIA:5004
	[mcu-pmtu]=$MCU [extranet-ntp]=$NTP:123
)
declare -A SUCCESS=(
	[extranet-link]=up [extranet-route]=ok [internet-route]=ok
	[extranet-gw]=reply [extranet-dns]=answer [platform-tcp]=open
	[platform-health]=success [mcu-ping]=reply [mcu-sip]=answered
	[mcu-gatekeeper]=answered [mcu-h323-call]=answered
	[mcu-media]=success [mcu-pmtu]=ok [extranet-ntp]=success
)
declare -A TYPE=()
while read -r n ty; do
	TYPE[$n]=$ty
done < <(name_types "$T/district.yaml")

# ---- --once ---------------------------------------------------------

# once CONFIG: --once in the gateway namespace; RC, OUT, ERR, MS
once()
{
	local start

	start=$(_now_ms)
	timeout -k 5 30 ip netns exec "$GW" "$NETPROBED" -c "$1" --once \
	    >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	MS=$(($(_now_ms) - start))
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# row PROBE: RESULT and DETAIL of its row (its own target only)
row()
{
	local line

	line=$(awk -v p="$1" -v t="${TARGET[$1]}" \
	    '$1 == p && $3 == t { print; exit }' <<<"$OUT")
	ROW_TYPE=$(awk '{ print $2 }' <<<"$line")
	RESULT=$(awk '{ print $4 }' <<<"$line")
	DETAIL=$(sed -E 's/^([^ ]+ +){4}[^ ]+( ms)? +//' <<<"$line")
}

_shown=0
# check PROBE RESULT [DETAIL-ERE] DESC
check()
{
	local p=$1 want=$2 re desc

	if [ $# -ge 4 ]; then
		re=$3
		desc=$4
	else
		re=''
		desc=$3
	fi
	row "$p"
	if [ -n "$re" ]; then
		like "$ROW_TYPE $RESULT: $DETAIL" "^${TYPE[$p]} $want: $re" \
		    "$desc"
	else
		is "$ROW_TYPE $RESULT" "${TYPE[$p]} $want" "$desc ($DETAIL)"
	fi || if [ "$_shown" = 0 ]; then
		_shown=1
		diag "table:" "$OUT"
		[ -n "$ERR" ] && diag "stderr:" "$ERR"
	fi
	return 0
}

# the path works before anything is asserted about it (ARP, first runs)
cat >"$T/ready.yaml" <<EOF
defaults: {timeout: 1s}
probes:
  - {name: ready, type: icmp, targets: [$EXT_GW, $MCU, $DNS], count: 1}
EOF
ready() { once "$T/ready.yaml"; [ "$RC" = 0 ]; }
wait_for 10 ready ||
	{ diag "$OUT" "$ERR"; bail_out "the path to the city does not work"; }

# --- healthy
once "$T/district.yaml"
is "$RC" 0 "healthy: --once exits 0" || diag "table:" "$OUT" "stderr:" "$ERR"
like "$OUT" '^14 of 14 succeeded$' "healthy: 14 of 14 succeeded"
is "$ERR" "" "healthy: nothing on stderr"
_shown=0
for p in "${PROBES[@]}"; do
	check "$p" "${SUCCESS[$p]}" "healthy: $p (${TYPE[$p]}) ${SUCCESS[$p]}"
done
check extranet-link up 'up, mtu 1500, address in 10\.87\.1\.0/24$' \
    "healthy: the uplink is up with its extranet address"
check extranet-route ok "10\\.88\\.0\\.0/16 via $EXT_GW dev $UPLINK\$" \
    "healthy: the route to the city goes via the extranet router on $UPLINK"
check internet-route ok 'no route \(Network is unreachable\)$' \
    "healthy: no route to the internet"
check extranet-dns answer "" \
    "healthy: the extranet DNS answers for $PLATFORM_NAME"
check mcu-pmtu ok \
    "1400 passes; 1500 too big, $EXT_GW reports MTU 1400\$" \
    "healthy: pmtu finds the 1400 tunnel, reported by the extranet router"
check mcu-media success '50/50 echoed, loss up 0\.0% down 0\.0%' \
    "healthy: media 50/50 echoed, no loss either way"
check extranet-ntp success 'reply of 48 bytes$' \
    "healthy: the time server answers the 48-byte NTP request"
diag "healthy table:" "$OUT"

# --- cut a: the city drops everything from the gateway
cut_city()
{
	incity nft -f - <<EOF
table inet npdist_cut {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr $GW_ADDR drop
	}
}
EOF
}
uncut_city() { incity nft delete table inet npdist_cut; }

if cut_city 2>"$T/nft.err"; then
	once "$T/district.yaml"
	_shown=0
	is "$RC" 1 "cut a (city drops us): --once exits 1"
	check extranet-link up "cut a: extranet-link still up"
	check extranet-route ok "cut a: extranet-route still there"
	check internet-route ok "cut a: internet-route still absent"
	check extranet-gw reply "cut a: the extranet router still answers echo"
	for p in extranet-dns platform-tcp platform-health mcu-ping mcu-sip \
	    mcu-gatekeeper mcu-h323-call mcu-media extranet-ntp; do
		check "$p" timeout "cut a: $p (${TYPE[$p]}) timeout"
	done
	# The router still answers the 1500-byte size with "too big", but
	# the target answers nothing that fits: a timeout, saying both
	check mcu-pmtu timeout "cut a: mcu-pmtu (pmtu) timeout"
	like "$DETAIL" 'no reply to any size that fits; 1500 too big' \
	    "cut a: and the detail names the router's too-big as well"
	like "$OUT" '^4 of 14 succeeded$' "cut a: 4 of 14 succeeded"
	is "$ERR" "" "cut a: nothing on stderr"
	cmp_ok "$MS" '<' 6000 \
	    "cut a: --once ends soon after the 2s timeout (${MS}ms)"
	diag "cut a table:" "$OUT"
	uncut_city
else
	diag_file "$T/nft.err"
	fail "cut a: nft cannot add the drop rule in $CITY"
fi

# --- cut b: the uplink goes down (and takes its routes)
# Run with a 10 s timeout: "fails at once, not at the timeout" then has
# room for a loaded machine to start netprobed and run 14 probes (with
# the 2 s timeout the bound left 100 ms between the two)
sed -e 's/^  interval: 3s$/  interval: 30s/' -e 's/^  timeout: 2s$/  timeout: 10s/' \
    "$T/district.yaml" >"$T/district-10s.yaml"
grep -q '^  timeout: 10s$' "$T/district-10s.yaml" ||
	bail_out "the cut b config did not get its 10s timeout"
N "$GW" link set dev "$UPLINK" down
once "$T/district-10s.yaml"
_shown=0
is "$RC" 1 "cut b (uplink down): --once exits 1"
check extranet-link bad_response 'administratively down$' \
    "cut b: extranet-link bad_response, administratively down"
check extranet-route bad_response 'no route \(Network is unreachable\)$' \
    "cut b: extranet-route bad_response, the route is gone"
check internet-route ok "cut b: internet-route still absent"
for p in extranet-gw extranet-dns platform-tcp platform-health mcu-ping \
    mcu-sip mcu-gatekeeper mcu-h323-call mcu-media mcu-pmtu extranet-ntp; do
	check "$p" unreachable "cut b: $p (${TYPE[$p]}) unreachable"
done
like "$OUT" '^1 of 14 succeeded$' "cut b: 1 of 14 succeeded"
is "$ERR" "" "cut b: nothing on stderr"
cmp_ok "$MS" '<' 5000 \
    "cut b: no route fails at once, not at the 10s timeout (${MS}ms)"
diag "cut b table:" "$OUT"
N "$GW" link set dev "$UPLINK" up
N "$GW" route replace 10.88.0.0/16 via "$EXT_GW" dev "$UPLINK"

# --- c: someone adds a default route: the segment could reach the internet
N "$GW" route add default via "$EXT_GW" dev "$UPLINK"
cat >"$T/routes.yaml" <<EOF
probes:
  - {name: internet-route, type: route, target: 203.0.113.0/24, expect: absent}
EOF
once "$T/routes.yaml"
_shown=0
check internet-route bad_response \
    "route exists: 0\\.0\\.0\\.0/0 via $EXT_GW dev $UPLINK\$" \
    "c: a default route appears: internet-route bad_response naming it"
is "$RC" 1 "c: --once exits 1"
N "$GW" route del default

# ---- the daemon -------------------------------------------------------

in_netns "$GW"
LOG=$T/netprobed.log
NETPROBED=$NPW start_netprobed "$T/district.yaml" "$LOG" ||
	bail_out "netprobed did not start in $GW"

# success_is PROBE VALUE: probe_success of the probe's target (scraped)
success_of()
{
	metric_value probe_success "probe=$1" "type=${TYPE[$1]}" \
	    "target=${TARGET[$1]}"
}
# all_success VALUE PROBE...: each has probe_success VALUE
all_success()
{
	local want=$1 p

	shift
	scrape || return 1
	for p in "$@"; do
		[ "$(success_of "$p")" = "$want" ] || return 1
	done
}
show_success() { diag "$(metric_lines probe_success || echo '(none)')"; }

wait_for 15 all_success 1 "${PROBES[@]}"
ok $? "daemon: probe_success 1 for all 14 probes" ||
	{ show_success; diag_file "$LOG"; }

# The firing alerts on /status as "alertname/component" lines, sorted
# (pending ones come and go as probes notice a cut one by one)
alerts()
{
	http_get "$(np_url /status)" || return 1
	"$PYTHON3" -c '
import json, sys
s = json.loads(sys.stdin.read())
print("\n".join(sorted("%s/%s" % (a["name"], a["labels"].get("component", "-"))
    for a in s["alerts"] if a["state"] == "firing")))' <<<"$HTTP_BODY"
}
alerts_are() { [ "$(alerts)" = "$1" ]; }
attached_is() { scrape && [ "$(metric_value netprobe:extranet_attached site=jinshui)" = "$1" ]; }
wait_for 15 attached_is 1
ok $? "daemon: rules: netprobe:extranet_attached{site=\"jinshui\"} 1" ||
	diag "$(metric_lines 'netprobe:extranet_attached' || echo '(none)')"
is "$(alerts)" "" "daemon: rules: no alert pending or firing while all is well"
is "$(metric_value netprobe_http_json_value probe=platform-health \
    key=enterprises)" 1840 "daemon: the platform's KPI gauge: enterprises 1840"
is "$(metric_value netprobe_pmtu_bytes probe=mcu-pmtu)" 1400 \
    "daemon: netprobe_pmtu_bytes 1400 for the MCU"
# promtool, less its remark on recording rules' colons (README: Rules)
promtool_says()
{
	"$PROMTOOL" check metrics 2>&1 <<<"$METRICS" |
		grep -v "^netprobe:[a-z0-9_:]* metric names should not contain ':'\$"
}
if [ -x "$PROMTOOL" ]; then
	is "$(promtool_says)" "" "daemon: promtool check metrics is clean"
else
	skip "no promtool" "daemon: promtool check metrics is clean"
fi

CUT=(extranet-dns platform-tcp platform-health mcu-ping mcu-sip
	mcu-gatekeeper mcu-h323-call mcu-media mcu-pmtu extranet-ntp)
KEPT=(extranet-link extranet-route internet-route extranet-gw)
cut_city 2>>"$T/nft.err"
wait_for 15 all_success 0 "${CUT[@]}"
ok $? "daemon: cut a: probe_success 0 for the 10 probes behind the cut" ||
	show_success
all_success 1 "${KEPT[@]}"
ok $? "daemon: cut a: link, routes and the extranet router stay at 1" ||
	show_success
# the runs that failed are counted by the class --once showed
bad=
for p in "${CUT[@]}"; do
	[ "$p" = mcu-pmtu ] && continue		# bad_response, see cut a
	n=$(metric_value netprobe_probe_runs_total "probe=$p" result=timeout)
	_num_cmp "${n:-0}" '>=' 1 || bad="$bad $p"
done
is "$bad" "" \
    "daemon: the 9 others count their failed runs as result=\"timeout\"" ||
	diag "$(metric_lines netprobe_probe_runs_total)"
if [ -x "$PROMTOOL" ]; then
	is "$(promtool_says)" "" "daemon: promtool check metrics is clean after the cut"
else
	skip "no promtool" "daemon: promtool check metrics is clean after the cut"
fi
# DNS is the lowest failing layer (the platform is behind it); the MCU
# is unreachable while the uplink is up: its own alert
CUT_A=$'ExtranetDetached/dns\nMCUUnreachable/-'
wait_for 30 alerts_are "$CUT_A"
ok $? "daemon: rules: cut a fires ExtranetDetached{component=\"dns\"} and MCUUnreachable, nothing else" ||
	{ diag "alerts: $(alerts)"; diag_file "$LOG"; }
scrape
is "$(metric_value ALERTS alertname=ExtranetDetached alertstate=firing component=dns site=jinshui)" 1 \
    "daemon: rules: ALERTS{alertname=\"ExtranetDetached\",component=\"dns\"} 1 in /metrics" ||
	diag "$(metric_lines ALERTS || echo '(none)')"
like "$(cat "$LOG")" 'alert \{alertname="ExtranetDetached", component="dns", .*\} pending' \
    "daemon: rules: the log shows it went pending first"
uncut_city
wait_for 15 all_success 1 "${PROBES[@]}"
ok $? "daemon: the cut healed: probe_success 1 for all 14 again" ||
	show_success
wait_for 15 alerts_are ""
ok $? "daemon: rules: the alerts resolve once the cut heals" || diag "alerts: $(alerts)"

# cut b, in the daemon: the uplink goes down.  Everything behind it fails,
# yet one alert fires: the link.  The rest is suppressed with `unless`.
N "$GW" link set dev "$UPLINK" down
wait_for 30 alerts_are "ExtranetDetached/link"
ok $? "daemon: rules: uplink down fires ExtranetDetached{component=\"link\"} alone" ||
	{ diag "alerts: $(alerts)"; show_success; }
scrape
is "$(metric_value netprobe:extranet_attached site=jinshui)" 0 \
    "daemon: rules: netprobe:extranet_attached 0"
N "$GW" link set dev "$UPLINK" up
N "$GW" route replace 10.88.0.0/16 via "$EXT_GW" dev "$UPLINK"
wait_for 20 alerts_are ""
ok $? "daemon: rules: the link alert resolves when the uplink is back" ||
	diag "alerts: $(alerts)"
wait_for 15 all_success 1 "${PROBES[@]}"
ok $? "daemon: after cut b: probe_success 1 for all 14 again" || show_success

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "daemon: exits 0 on SIGTERM" || diag_file "$LOG"
unlike "$(cat "$LOG")" '(error|warning):' \
    "daemon: the log has no warnings or errors" || diag_file "$LOG"

# the peers stop by their PIDs (ip netns exec ran each in place)
peers_left=
for pid in "$H323_PID" "$RSP_MEDIA_PID" "$RSP_NTP_PID" "$KAM_PID" \
    "$NGINX_PID" "$DNSMASQ_PID"; do
	stop_pid "$pid"
	[ "$STOP_KILLED" = 0 ] || peers_left="$peers_left $pid"
done
is "$peers_left" "" "every peer stopped on SIGTERM"
unlike "$(cat "$T/rsp-media.log" "$T/rsp-ntp.log")" \
    '(error|warning|Sanitizer|runtime error)' \
    "the responders logged no warnings or errors"
kam_gone() { [ -z "$(ps -o pid= -g "$KAM_PID" 2>/dev/null)" ]; }
wait_for 5 kam_gone
ok $? "no kamailio worker is left behind"

done_testing
