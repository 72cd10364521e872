#!/usr/bin/env bash
#
# tests/city/sim.sh: the city of the notice (context/notice-zh.txt) in
# network namespaces.  N district gateways (default 15: the notice's five
# counties and ten districts) each run their own netprobed around one
# city namespace that holds the city's services and its Prometheus, which
# scrapes every gateway with the shipped scrape config and rules
# (dashboards/prometheus/: prometheus.yml, city.rules.yml).  A
# scenario file breaks chosen districts in chosen ways; the city's rates
# then come out as the notice counts them by hand.
#
#   npcity-PID-<site>  eth1 10.41.I.2/24  netprobed on 10.41.I.2:9560
#        |             route 10.40.0.0/16 via 10.41.I.1 (the extranet)
#   npcity-PID-city    gw-<site> 10.41.I.1/24 (one veth per gateway)
#                      on lo:  10.40.0.53  dnsmasq, the extranet DNS
#                              10.40.0.80  nginx, the platform (https)
#                              10.40.0.10  kamailio, the MCU (SIP, ICMP)
#                              10.40.0.12  netprobed --responder :5004,
#                                          the media responder
#                              10.40.0.20  kamailio, another city's MCU
#                              10.40.0.99  nginx :80, a host the safety
#                                          network must not reach
#                      127.0.0.1:9090 the city Prometheus
#                      127.0.0.1:9091 the province Prometheus (--province),
#                                     federating the city
#                      nftables table inet npcity: the faults
#
# Faults (scenarios/*.yml, checked by city.py scenario):
#   extranet_cut          the city drops the district's extranet traffic;
#                         its conference traffic (MCU, media responder)
#                         and the city's scrapes still pass
#                         (ExtranetDetached, component gateway)
#   platform_unreachable  the city drops its traffic to the platform
#   uplink_down           the gateway's eth1 is down: nothing passes, the
#                         city cannot scrape it (up 0)
#   mcu_unreachable       the city drops its SIP (UDP/TCP 5060) to the MCU
#   isolation_hole        the city lets it reach 10.40.0.99:80
#   daemon_down           its netprobed does not run (up 0)
#   foreign_mcu           a terminal of the district also signals the other
#                         city's MCU (city.py sip-terminal, in the gateway's
#                         namespace): its watcher sees foreign_mcu
#   listen_only           the MCU streams RTP to the district, which never
#                         answers with audio (city.py rtp-stream, in the
#                         city): its watcher sees a listen-only call
#
# Each gateway's netprobed runs examples/district.yaml's probes that the
# rules read (link, route, extranet router, DNS, platform TCP and HTTPS,
# MCU ICMP, SIP and media), a negative probe towards 10.40.0.99:80 and a
# pcap watcher on its uplink, every INTERVAL (default 2s), with the
# shipped rules (their `for:` cut to seconds) evaluated every second.
#
# Usage: sim.sh [-n N] [-s SCENARIO] [-d DIR] [-i INTERVAL] [--province]
#               [--quiet]
#   -n N         gateways: 15, the notice's (default); beyond 15, made-up
#                districts d16, d17... (at most 250)
#   -s SCENARIO  the faults (default tests/city/scenarios/notice.yml)
#   -d DIR       the working folder, kept at exit (default: a temporary
#                one, removed)
#   -i INTERVAL  probe and scrape interval, 2s (default) or more
#   --province   a province Prometheus as well (the shipped province.yml
#                and province.rules.yml), federating the city's city:*
#                series
#   --quiet      no progress messages
#   NETPROBED    (environment) the netprobed binary (default: ./netprobed,
#                as in a build folder, then the source tree's)
# Runs in the foreground until SIGINT or SIGTERM, then stops everything
# it started (by PID) and deletes its namespaces.  SIGHUP applies a new
# scenario: the path in DIR/scenario.next if that file exists, else the
# current scenario file again.  Files in DIR (a fresh temporary one
# unless -d is given; -d DIR is kept at exit):
#   state         shell variables: SIM_PID CITY_NS PROM_URL PROVINCE_URL
#                 NAMESPACES (space-separated)
#   namespaces    NAMESPACES=..., kept current from the first one made
#   pids          "NAME PID" of everything running, kept current
#   ready         written once everything has started
#   applied       "GENERATION SCENARIO-NAME" after each scenario applied
#   roster.tsv    INDEX SITE DISPLAY_NAME KIND
#   prom/         the city Prometheus: dashboards/prometheus/'s
#                 configuration and rules adapted by city.py promconf,
#                 the roster districts.yml, its log and TSDB;
#                 province/: the province's
#   gw/SITE/      each gateway's netprobed.yaml and netprobed.log
#
# Traffic goes only to addresses inside these namespaces: nothing has a
# default route, and the services listen on the city namespace's lo.

set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
PYTHON3=/usr/bin/python3
CITYPY=$here/city.py

N=15
SCENARIO=$here/scenarios/notice.yml
DIR=
INTERVAL=2s
PROVINCE=0
QUIET=0
usage()
{
	sed -n '/^# Usage: /,/^# Runs in/{/^# Runs in/d; s/^# //; p}' "$0" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=${2:?}; shift 2 ;;
	-s) SCENARIO=${2:?}; shift 2 ;;
	-d) DIR=${2:?}; shift 2 ;;
	-i) INTERVAL=${2:?}; shift 2 ;;
	--province) PROVINCE=1; shift ;;
	--quiet) QUIET=1; shift ;;
	*) usage ;;
	esac
done

say() { [ "$QUIET" = 1 ] || echo "sim: $*" >&2; }
die() { echo "sim: $*" >&2; exit 1; }

if [ -z "${NETPROBED:-}" ]; then
	NETPROBED=$(pwd)/netprobed
	[ -x "$NETPROBED" ] || NETPROBED=$top_srcdir/netprobed
fi
[ -x "${NETPROBED:-}" ] || die "no netprobed binary (set NETPROBED)"
[ "$(id -u)" = 0 ] || die "network namespaces need root"
for tool in ip nft curl openssl; do
	command -v "$tool" >/dev/null 2>&1 || die "no $tool"
done
DNSMASQ=${DNSMASQ:-$(command -v dnsmasq || echo /usr/sbin/dnsmasq)}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
KAMAILIO=${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
for tool in "$DNSMASQ" "$NGINX" "$KAMAILIO" "$PROMETHEUS" "$PYTHON3"; do
	[ -x "$tool" ] || die "no $tool"
done
[ -r "$top_srcdir/dashboards/prometheus/prometheus.yml" ] ||
	die "no $top_srcdir/dashboards/prometheus/prometheus.yml"
"$PYTHON3" -c 'import yaml' 2>/dev/null || die "no PyYAML (python3-yaml)"

# the city's services
DNS=10.40.0.53
PLATFORM=10.40.0.80
MCU=10.40.0.10
MEDIA=10.40.0.12
FOREIGN_MCU=10.40.0.20
FORBIDDEN=10.40.0.99
GEN_SECONDS=86400	# the fault generators' lifetime, at most
PLATFORM_NAME=platform.city.example
PROM_LISTEN=127.0.0.1:9090
PROVINCE_LISTEN=127.0.0.1:9091
NP_PORT=9560

own_dir=0
if [ -z "$DIR" ]; then
	DIR=$(mktemp -d "${TMPDIR:-/tmp}/npcity.XXXXXX") || die "mktemp failed"
	own_dir=1
fi
mkdir -p "$DIR" || die "cannot make $DIR"
DIR=$(cd "$DIR" && pwd)
rm -f "$DIR/ready" "$DIR/applied" "$DIR/scenario.next"

PFX="npcity-$$"
CITY="$PFX-city"

# ---- processes ---------------------------------------------------------

declare -A PID=()		# name -> pid of everything running
NAMESPACES=()
SLEEP_PID=

write_pids()
{
	local n

	for n in "${!PID[@]}"; do
		echo "$n ${PID[$n]}"
	done | sort >"$DIR/pids.new" && mv "$DIR/pids.new" "$DIR/pids"
}

alive()
{
	local st

	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	read -r st <"/proc/$1/stat" 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# wait_for SECONDS CMD...: poll CMD every 50 ms
wait_for()
{
	local end=$((SECONDS + $1))

	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# stop NAME...: SIGTERM to all at once, up to 5 s, then SIGKILL
stop()
{
	local n pids=() p

	for n in "$@"; do
		[ -n "${PID[$n]:-}" ] || continue
		pids+=("${PID[$n]}")
		kill -TERM "${PID[$n]}" 2>/dev/null
		unset "PID[$n]"
	done
	for _ in $(seq 100); do
		for p in "${pids[@]}"; do
			alive "$p" && break
			p=
		done
		[ -z "${p:-}" ] && break
		sleep 0.05
	done
	for p in "${pids[@]}"; do
		alive "$p" && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	write_pids
	return 0
}

# kamailio's workers, should its main process have died without them
kam_orphans_kill()
{
	local p

	[ -n "${KAM_PGID:-}" ] || return 0
	for p in $(ps -o pid= -g "$KAM_PGID" 2>/dev/null); do
		grep -qF "$DIR/kam/kamailio.cfg" "/proc/$p/cmdline" 2>/dev/null &&
		    kill -KILL "$p"
	done
}

cleaned=0
cleanup()
{
	local ns

	[ "$cleaned" = 1 ] && return
	cleaned=1
	trap '' HUP INT TERM
	[ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
	stop "${!PID[@]}"
	kam_orphans_kill
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -f "$DIR/ready" "$DIR/pids" "$DIR/namespaces"
	[ "$own_dir" = 1 ] && rm -rf -- "$DIR"
	say "stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
want_apply=0
trap 'want_apply=1' HUP

# started NAME PID CHECK...: record PID, wait up to 10 s for CHECK
started()
{
	local name=$1 pid=$2

	shift 2
	PID[$name]=$pid
	write_pids
	wait_for 10 "$@" && alive "$pid" && return 0
	echo "sim: $name did not start" >&2
	return 1
}

incity() { ip netns exec "$CITY" "$@"; }

# ---- the roster and the scenario -----------------------------------------

"$PYTHON3" "$CITYPY" sites "$N" >"$DIR/roster.tsv" || exit 1
SITES=()
declare -A IDX=() DISP=() KIND=()
while IFS=$'\t' read -r i s d k; do
	SITES+=("$s")
	IDX[$s]=$i
	DISP[$s]=$d
	KIND[$s]=$k
done <"$DIR/roster.tsv"
gwns() { echo "$PFX-$1"; }
gwaddr() { echo "10.41.${IDX[$1]}.2"; }
rtaddr() { echo "10.41.${IDX[$1]}.1"; }

declare -A FAULT=()		# "site fault" -> 1
SCENARIO_NAME=
# load_scenario FILE: FAULT and SCENARIO_NAME, or 1 (nothing changed)
load_scenario()
{
	local out kind a b

	out=$("$PYTHON3" "$CITYPY" scenario "$1" "$N") || return 1
	FAULT=()
	while IFS=$'\t' read -r kind a b _; do
		case $kind in
		name) SCENARIO_NAME=$a ;;
		fault) FAULT["$a $b"]=1 ;;
		esac
	done <<<"$out"
}
has() { [ -n "${FAULT["$1 $2"]:-}" ]; }
load_scenario "$SCENARIO" || exit 1

# ---- topology ------------------------------------------------------------

say "building $CITY and $N gateways"
newns()
{
	ip netns add "$1" || die "ip netns add $1 failed"
	NAMESPACES+=("$1")
	echo "NAMESPACES='${NAMESPACES[*]}'" >"$DIR/namespaces"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}
newns "$CITY"
for a in "$DNS" "$PLATFORM" "$MCU" "$MEDIA" "$FOREIGN_MCU" "$FORBIDDEN"; do
	ip -n "$CITY" addr add "$a/32" dev lo || die "cannot address $CITY"
done
for s in "${SITES[@]}"; do
	ns=$(gwns "$s")
	newns "$ns"
	{
		ip -n "$ns" link add eth1 type veth peer name "gw-$s" \
		    netns "$CITY" &&
		ip -n "$ns" addr add "$(gwaddr "$s")/24" dev eth1 &&
		ip -n "$CITY" addr add "$(rtaddr "$s")/24" dev "gw-$s" &&
		ip -n "$CITY" link set "gw-$s" up &&
		ip -n "$ns" link set eth1 up &&
		ip -n "$ns" route add 10.40.0.0/16 via "$(rtaddr "$s")" dev eth1
	} || die "cannot wire $ns"
done

# ---- the city's services ---------------------------------------------------

say "starting the city's services"
cat >"$DIR/dnsmasq.conf" <<EOF
port=53
listen-address=$DNS
bind-interfaces
no-resolv
no-hosts
no-poll
user=root
group=root
local=/city.example/
host-record=$PLATFORM_NAME,$PLATFORM
EOF
ip netns exec "$CITY" "$DNSMASQ" -k -C "$DIR/dnsmasq.conf" \
    -x "$DIR/dnsmasq.pid" --log-facility="$DIR/dnsmasq.log" \
    </dev/null >"$DIR/dnsmasq.out" 2>&1 &
udp_bound() { [ -n "$(incity ss -Hlun "sport = :$1")" ]; }
started dnsmasq $! udp_bound 53 || exit 1

mkdir -p "$DIR/nginx/tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 30 -subj "/CN=$PLATFORM_NAME" \
    -addext "subjectAltName=DNS:$PLATFORM_NAME,IP:$PLATFORM" \
    -keyout "$DIR/nginx/platform.key" -out "$DIR/nginx/platform.crt" \
    2>"$DIR/openssl.err" || die "cannot make the platform's certificate"
cat >"$DIR/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 256; }
http {
    access_log off;
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
            return 200 '{"status": "up", "registered_enterprises": 1840}\n';
        }
    }
    server {
        listen $FORBIDDEN:80;
        location / { return 200 "the safety network must not see this\n"; }
    }
}
EOF
incity "$NGINX" -t -q -p "$DIR/nginx/" -c nginx.conf -e stderr \
    2>"$DIR/nginx-t.err" || die "nginx rejects its configuration: $(cat "$DIR/nginx-t.err")"
ip netns exec "$CITY" "$NGINX" -p "$DIR/nginx/" -c nginx.conf -e stderr \
    -g 'daemon off;' </dev/null >"$DIR/nginx.out" 2>&1 &
nginx_up()
{
	incity curl -sf -o /dev/null --max-time 2 \
	    --cacert "$DIR/nginx/platform.crt" "https://$PLATFORM/api/health"
}
started nginx $! nginx_up || exit 1

# the MCU: kamailio answers OPTIONS with 200 (PEERS.md 1)
mkdir -p "$DIR/kam"
cat >"$DIR/kam/kamailio.cfg" <<EOF
#!KAMAILIO
debug=1
log_stderror=yes
children=2
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
listen=udp:$FOREIGN_MCU:5060
alias="$MCU"
alias="$FOREIGN_MCU"

loadmodule "sl.so"
loadmodule "pv.so"

request_route {
    if (method == "ACK") { exit; }
    if (method == "OPTIONS") { sl_send_reply("200", "OK"); exit; }
    sl_send_reply("405", "Method Not Allowed");
}
EOF
# its own process group (setsid execs in place: $! is kamailio), so that
# workers left behind can be found and only ours ended
setsid ip netns exec "$CITY" "$KAMAILIO" -f "$DIR/kam/kamailio.cfg" -DD -E \
    -Y "$DIR/kam" -w "$DIR/kam" -P "$DIR/kam/kamailio.pid" -m 32 -M 4 \
    </dev/null >"$DIR/kam/kamailio.log" 2>&1 &
KAM_PGID=$!
cat >"$DIR/sip_options.py" <<'EOF'
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
kam_up() { incity "$PYTHON3" "$DIR/sip_options.py" "$MCU" 5060; }
started kamailio "$KAM_PGID" kam_up || exit 1

# the media responder beside the MCU
ip netns exec "$CITY" "$NETPROBED" --responder "$MEDIA:5004" </dev/null \
    >"$DIR/responder.log" 2>&1 &
rsp_up() { grep -q 'responder listening on' "$DIR/responder.log"; }
started responder $! rsp_up || exit 1

# ---- the gateways' netprobed -------------------------------------------------

# The shipped rules, their `for:` cut from minutes to seconds (2m: the
# reachability verdicts, 5m: the quality and unknown alerts) so that
# alerts fire within the simulation's first minute.
mkdir -p "$DIR/rules"
sed -E 's/^( *for: )2m$/\14s/; s/^( *for: )5m$/\110s/' \
    "$top_srcdir/rules/netprobed.rules.yml" >"$DIR/rules/netprobed.rules.yml"

for s in "${SITES[@]}"; do
	mkdir -p "$DIR/gw/$s"
	cat >"$DIR/gw/$s/netprobed.yaml" <<EOF
# $s (${DISP[$s]}): examples/district.yaml made light for the simulation
site:
  name: $s
  display_name: ${DISP[$s]}
  labels: {kind: ${KIND[$s]}}
listen: $(gwaddr "$s"):$NP_PORT
defaults:
  interval: $INTERVAL
  timeout: 1s
  evaluation_interval: 1s
rule_files: [$DIR/rules/netprobed.rules.yml]
probes:
  - name: extranet-link
    type: link
    target: eth1
    expect_address_in: 10.41.${IDX[$s]}.0/24
    labels: {group: extranet, component: link}
  - name: extranet-route
    type: route
    target: 10.40.0.0/16
    via_interface: eth1
    via_gateway: $(rtaddr "$s")
    labels: {group: extranet, component: route}
  - name: internet-route
    type: route
    target: 203.0.113.0/24
    expect: absent
    labels: {group: isolation, component: isolation}
  - name: extranet-gw
    type: icmp
    target: $(rtaddr "$s")
    count: 2
    packet_interval: 100ms
    labels: {group: extranet, component: gateway}
  - name: extranet-dns
    type: dns
    target: $DNS
    query_name: $PLATFORM_NAME
    answer_count_min: 1
    answer_regex: 'IN A ${PLATFORM//./\\.}\$'
    labels: {group: extranet, component: dns}
  - name: platform-tcp
    type: tcp
    target: $PLATFORM:443
    labels: {group: platform, component: platform}
  - name: platform-health
    type: http
    target: https://$PLATFORM/api/health
    tls_server_name: $PLATFORM_NAME
    tls_ca_file: $DIR/nginx/platform.crt
    valid_status_codes: [200]
    fail_if_body_not_matches_regexp: '"status": *"up"'
    json_gauges: {enterprises: registered_enterprises}
    labels: {group: platform, component: platform}
  - name: mcu-ping
    type: icmp
    target: $MCU
    count: 5
    packet_interval: 50ms
    labels: {group: conference, component: mcu}
  - name: mcu-sip
    type: sip
    target: $MCU
    transport: udp
    labels: {group: conference, component: mcu}
  - name: mcu-media
    type: media
    target: $MEDIA:5004
    interval: 4s
    timeout: 2s
    duration: 1s
    packets_per_second: 20
    labels: {group: conference, component: mcu}
  - name: forbidden-host
    type: tcp
    target: $FORBIDDEN:80
    expect: blocked
    control: extranet-gw
    labels: {group: isolation, component: isolation}
watchers:
  # The isolation is held at the city's edge, past this uplink, so the
  # negative probe's SYNs to the forbidden host leave here whether they
  # are dropped further on or not: they are filtered out.  Only an open
  # path gives the rest of a flow (the SYN-ACK in, the ACK out), which
  # the watcher flags.
  - name: uplink
    interface: eth1
    filter: "not (dst host $FORBIDDEN and tcp[tcpflags] == tcp-syn)"
    segment: [$(gwaddr "$s")/32]
    allow:
      - $(rtaddr "$s")/32
      - $DNS/32
      - $PLATFORM/32
      - $MCU/32
      - $MEDIA/32
    conference:
      mcus: [$MCU]
      listen_only_after: 5s
EOF
	"$NETPROBED" -c "$DIR/gw/$s/netprobed.yaml" --check-config \
	    >"$DIR/gw/$s/check.out" 2>&1 ||
		die "$s: $(cat "$DIR/gw/$s/check.out")"
done

np_up()
{
	ip netns exec "$(gwns "$1")" curl -sf -o /dev/null --max-time 1 \
	    "http://$(gwaddr "$1"):$NP_PORT/healthz"
}
np_start()
{
	local s=$1

	# a simulated gateway: root in its own namespace, on purpose
	ip netns exec "$(gwns "$s")" "$NETPROBED" --allow-root \
	    -c "$DIR/gw/$s/netprobed.yaml" \
	    </dev/null >>"$DIR/gw/$s/netprobed.log" 2>&1 &
	PID[np-$s]=$!
}

# ---- faults ----------------------------------------------------------------

GENERATION=0
# apply_faults: make the namespaces match FAULT, whatever they were
apply_faults()
{
	local s a ns rules="" starting=()

	for s in "${SITES[@]}"; do
		a=$(gwaddr "$s")
		has "$s" isolation_hole && rules+="
		ip saddr $a ip daddr $FORBIDDEN accept comment \"$s isolation_hole\""
		has "$s" extranet_cut && rules+="
		ip saddr $a tcp sport $NP_PORT accept comment \"$s extranet_cut: scrapes pass\"
		ip saddr $a ip daddr { $MCU, $MEDIA } accept comment \"$s extranet_cut: conferencing passes\"
		ip saddr $a drop comment \"$s extranet_cut\""
		has "$s" platform_unreachable && rules+="
		ip saddr $a ip daddr $PLATFORM drop comment \"$s platform_unreachable\""
		has "$s" mcu_unreachable && rules+="
		ip saddr $a ip daddr $MCU meta l4proto { tcp, udp } th dport 5060 drop comment \"$s mcu_unreachable\""
	done
	# the isolation of the safety private network: no gateway reaches
	# the forbidden host, unless a hole above lets one through
	incity nft -f - <<EOF || return 1
table inet npcity
delete table inet npcity
table inet npcity {
	chain input {
		type filter hook input priority 0; policy accept;$rules
		ip saddr 10.41.0.0/16 ip daddr $FORBIDDEN drop comment "isolation"
	}
}
EOF
	for s in "${SITES[@]}"; do
		ns=$(gwns "$s")
		if has "$s" uplink_down; then
			ip -n "$ns" link set eth1 down
		elif [ "$(ip -n "$ns" -br link show eth1 | awk '{print $2}')" != UP ]; then
			ip -n "$ns" link set eth1 up &&
			ip -n "$ns" route replace 10.40.0.0/16 \
			    via "$(rtaddr "$s")" dev eth1
		fi
	done
	# the traffic of the conference faults
	for s in "${SITES[@]}"; do
		if ! has "$s" foreign_mcu; then
			stop "foreign-$s"
		elif [ -z "${PID[foreign-$s]:-}" ]; then
			ip netns exec "$(gwns "$s")" "$PYTHON3" "$CITYPY" \
			    sip-terminal "$(gwaddr "$s")" "$FOREIGN_MCU" \
			    "$GEN_SECONDS" </dev/null >/dev/null 2>&1 &
			PID[foreign-$s]=$!
		fi
		if ! has "$s" listen_only; then
			stop "listen-$s"
		elif [ -z "${PID[listen-$s]:-}" ]; then
			ip netns exec "$CITY" "$PYTHON3" "$CITYPY" rtp-stream \
			    "$MCU" "$(gwaddr "$s")" "$GEN_SECONDS" \
			    </dev/null >/dev/null 2>&1 &
			PID[listen-$s]=$!
		fi
	done
	for s in "${SITES[@]}"; do
		if has "$s" daemon_down; then
			stop "np-$s"
		elif [ -z "${PID[np-$s]:-}" ] || ! alive "${PID[np-$s]}"; then
			np_start "$s"
			starting+=("$s")
		fi
	done
	write_pids
	for s in "${starting[@]}"; do
		if ! wait_for 10 np_up "$s"; then
			echo "sim: netprobed of $s did not start" >&2
			tail -n 5 "$DIR/gw/$s/netprobed.log" >&2
			return 1
		fi
	done
	GENERATION=$((GENERATION + 1))
	echo "$GENERATION $SCENARIO_NAME" >"$DIR/applied"
	say "scenario $SCENARIO_NAME applied (generation $GENERATION)"
}

say "starting $N netprobed (scenario $SCENARIO_NAME)"
apply_faults || exit 1

# ---- the city's Prometheus (and the province's) ------------------------------

# The roster: one target per gateway, with its site, display_name and kind
mkdir -p "$DIR/prom" "$DIR/province"
for s in "${SITES[@]}"; do
	printf -- "- targets: ['%s:%s']\n  labels: {site: %s, display_name: %s, kind: %s}\n" \
	    "$(gwaddr "$s")" "$NP_PORT" "$s" "${DISP[$s]}" "${KIND[$s]}"
done >"$DIR/prom/districts.yml"

# The shipped city configuration and rules, with the simulation's roster
# in place of the example's, its intervals and `for:` cut to seconds
PROM_SRC=$top_srcdir/dashboards/prometheus/prometheus.yml
"$PYTHON3" "$CITYPY" promconf "$PROM_SRC" "$DIR/prom/prometheus.yml" \
    "$INTERVAL" --roster "$DIR/prom/districts.yml" || exit 1
if [ -x "$PROMTOOL" ] && ! "$PROMTOOL" check config \
    "$DIR/prom/prometheus.yml" >"$DIR/prom/check.out" 2>&1; then
	cat "$DIR/prom/check.out" >&2
	die "promtool rejects the city's configuration (from $PROM_SRC)"
fi
prom_ready() { incity curl -sf -o /dev/null --max-time 1 "http://$1/-/ready"; }
ip netns exec "$CITY" "$PROMETHEUS" --config.file="$DIR/prom/prometheus.yml" \
    --storage.tsdb.path="$DIR/prom/tsdb" --storage.tsdb.retention.time=1h \
    --web.listen-address="$PROM_LISTEN" --web.enable-lifecycle \
    --log.level=warn </dev/null >"$DIR/prom/prometheus.log" 2>&1 &
started prometheus $! prom_ready "$PROM_LISTEN" || exit 1

PROVINCE_URL=
if [ "$PROVINCE" = 1 ]; then
	# The shipped province (dashboards/prometheus/province.yml): it
	# federates the city's city:* series and sums them up (with
	# province.rules.yml); its one city is ours
	"$PYTHON3" "$CITYPY" promconf \
	    "$top_srcdir/dashboards/prometheus/province.yml" \
	    "$DIR/province/prometheus.yml" "$INTERVAL" \
	    --target "$PROM_LISTEN" || exit 1
	if [ -x "$PROMTOOL" ] && ! "$PROMTOOL" check config \
	    "$DIR/province/prometheus.yml" >"$DIR/province/check.out" 2>&1; then
		cat "$DIR/province/check.out" >&2
		die "promtool rejects the province's configuration"
	fi
	ip netns exec "$CITY" "$PROMETHEUS" \
	    --config.file="$DIR/province/prometheus.yml" \
	    --storage.tsdb.path="$DIR/province/tsdb" \
	    --storage.tsdb.retention.time=1h \
	    --web.listen-address="$PROVINCE_LISTEN" --log.level=warn \
	    </dev/null >"$DIR/province/prometheus.log" 2>&1 &
	started province $! prom_ready "$PROVINCE_LISTEN" || exit 1
	PROVINCE_URL=http://$PROVINCE_LISTEN
fi

cat >"$DIR/state" <<EOF
SIM_PID=$$
CITY_NS=$CITY
PROM_URL=http://$PROM_LISTEN
PROVINCE_URL=$PROVINCE_URL
NAMESPACES='${NAMESPACES[*]}'
EOF
touch "$DIR/ready"

say "ready: $N gateways, scenario $SCENARIO_NAME, files in $DIR"
say "city Prometheus: http://$PROM_LISTEN inside namespace $CITY, e.g."
say "  ip netns exec $CITY curl -s 'http://$PROM_LISTEN/api/v1/query?query=city:extranet_attached:ratio_all'"
[ -n "$PROVINCE_URL" ] &&
	say "province Prometheus: $PROVINCE_URL inside $CITY"
say "a gateway: ip netns exec $(gwns "${SITES[0]}") curl -s http://$(gwaddr "${SITES[0]}"):$NP_PORT/metrics"
say "another scenario: echo FILE >$DIR/scenario.next; kill -HUP $$"

# ---- until stopped -----------------------------------------------------------

# the figures, whenever they change (checked every 5 s)
tick=0
shown=
while :; do
	sleep 1 &
	SLEEP_PID=$!
	wait "$SLEEP_PID"
	SLEEP_PID=
	tick=$((tick + 1))
	if [ "$QUIET" = 0 ] && [ $((tick % 5)) = 0 ]; then
		now=$(incity "$PYTHON3" "$CITYPY" status "http://$PROM_LISTEN" 2>/dev/null)
		if [ -n "$now" ] && [ "$now" != "$shown" ]; then
			say "$SCENARIO_NAME: $now"
			shown=$now
		fi
	fi
	if [ "$want_apply" = 1 ]; then
		want_apply=0
		next=$SCENARIO
		if [ -r "$DIR/scenario.next" ]; then
			next=$(cat "$DIR/scenario.next")
			rm -f "$DIR/scenario.next"
		fi
		if load_scenario "$next"; then
			SCENARIO=$next
			apply_faults || echo "sim: applying $next failed" >&2
		fi
	fi
done
