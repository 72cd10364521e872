#!/usr/bin/env bash
#
# The city of the notice, end to end: tests/city/sim.sh builds the 15
# bureaus of context/notice-zh.txt (5 counties, 10 districts) as network
# namespaces, each gateway running its own netprobed, around a city
# namespace (extranet DNS, platform, MCU, media responder, the city
# Prometheus with the shipped dashboards/prometheus/ config and rules,
# and a province Prometheus federating the city's city:* series).  A
# scenario file breaks bureaus; this test asks the city what the notice
# counts by hand:
#   notice.yml  attached 13 of 15 (86.7%), conferencing 5 of 5 counties
#               (100%) and 7 of 10 districts (70%)
#   mixed.yml   every fault kind, counties too, applied live (SIGHUP):
#               attached 12 of 15 (80%), conferencing 3 of 5 counties
#               (60%) and 8 of 10 districts (80%), a leak, two bureaus
#               not scraped
# For each: the figures straight from the scraped series, the city's
# recorded rates, the firing alerts (the gateways' and the city's),
# exactly; then every panel query of every dashboard in
# dashboards/grafana/ (an error fails, so does an empty answer the
# scenario does not allow), the city overview's figures and lists of
# failing bureaus, and the province's copy of every city:* series.
#
# What a scenario must give is derived from its faults (city.py derive)
# and also written in the file by hand (expect:); the two must agree.
#
# Namespaces npcity-SIMPID-*, deleted at exit (sim.sh does, and this
# test again should sim.sh have died); every process is stopped by its
# PID.  Traffic goes only to addresses inside them: 10.40.0.0/16 (the
# city's services, on the city namespace's lo), 10.41.0.0/16 (one veth
# per gateway) and the city namespace's 127.0.0.1 (Prometheus 9090 and
# 9091).  About a minute and a half.

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
for tool in ip nft curl openssl; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "no $tool"
done
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}
[ -x "$PROMETHEUS" ] || skip_all "no prometheus"
for tool in dnsmasq nginx kamailio; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
		skip_all "no $tool"
done
PY=/usr/bin/python3
{ [ -x "$PY" ] && "$PY" -c 'import yaml' 2>/dev/null; } ||
	skip_all "no /usr/bin/python3 with PyYAML (python3-yaml)"

T=$TAP_TMPDIR
CITYDIR=$top_srcdir/tests/city
SIM=$CITYDIR/sim.sh
CITYPY=$CITYDIR/city.py
DASHBOARDS=$top_srcdir/dashboards/grafana
N=15

# ---- scenario files ----------------------------------------------------

cat >"$T/bad.yml" <<'EOF'
name: bad
faults:
  gaoxin: extranet_cut
  beijing: uplink_down
  erqi: [mcu_unreachable, power_cut]
expect:
  attached: 13
EOF
out=$("$PY" "$CITYPY" scenario "$T/bad.yml" "$N" 2>&1)
is "$?:$out" "2:$T/bad.yml:4: unknown site 'beijing' (not among the 15 gateways)
$T/bad.yml:5: erqi: unknown fault 'power_cut' (daemon_down, extranet_cut, foreign_mcu, isolation_hole, listen_only, mcu_unreachable, platform_unreachable, uplink_down)
$T/bad.yml:6: expect: missing expected, conferencing, not_attached, not_conferencing, unscraped, leaking, violating, inconclusive, foreign_mcu, listen_only
$T/bad.yml:7: expect.attached: {county: N, district: N}" \
    "a bad scenario: every error as FILE:LINE: message, exit 2"
before=$(ip netns list | grep -c '^npcity-')
out=$(NETPROBED=$NETPROBED timeout 20 "$SIM" -s "$T/bad.yml" -d "$T/bad" 2>&1)
is "$?:$(ip netns list | grep -c '^npcity-')" "1:$before" \
    "sim.sh refuses a bad scenario before building anything" || diag "$out"

# derive FILE: SCEN_NAME; WANT, the figure and list lines its faults give
# (city.py derive); ALERTS_WANT, the firing alerts they raise; STATED,
# the file's own figure and list lines; EMPTY_OK, the panels it allows
# to be empty
derive()
{
	local out

	out=$("$PY" "$CITYPY" scenario "$1" "$N") || return 1
	SCEN_NAME=$(sed -n 's/^name\t//p' <<<"$out")
	STATED=$(grep -E '^(figure|list)' <<<"$out" | tr '\t' ' ' | sed 's/ $//')
	EMPTY_OK=$(sed -n 's/^empty_ok\t//p' <<<"$out")
	out=$("$PY" "$CITYPY" derive "$1" "$N") || return 1
	WANT=$(grep -E '^(figure|list)' <<<"$out" | tr '\t' ' ' | sed 's/ $//')
	ALERTS_WANT=$(sed -n 's/^alert\t//p' <<<"$out")
}
for f in "$CITYDIR"/scenarios/*.yml; do
	if derive "$f"; then
		is "$STATED" "$WANT" \
		    "scenario $(basename "$f"): valid, its expect: follows from its faults"
	else
		fail "scenario $(basename "$f") is valid"
	fi
done

# want KEY: the value of a figure or list line of WANT ("county=5
# district=10", or the sites); count KEY: how many sites a list has;
# want_kind KEY KIND: one kind's count
want() { sed -n "s/^\\(figure\\|list\\) $1\\( \\|\$\\)//p" <<<"$WANT"; }
count() { want "$1" | wc -w; }
want_kind() { want "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# ---- the simulation ----------------------------------------------------

SIM_PID=
CITY_NS=
PROM_URL=
PROVINCE_URL=
SIMDIR=$T/sim
sim_alive() { [ -n "$SIM_PID" ] && pid_alive "$SIM_PID"; }
# stop the simulation; then whatever it may have left (it removes its
# pids file once everything is stopped, so a file left is current)
sim_stop()
{
	local name pid ns NAMESPACES=

	if sim_alive; then
		kill -TERM "$SIM_PID"
		wait_for 20 pid_gone "$SIM_PID" || kill -KILL "$SIM_PID"
		wait "$SIM_PID" 2>/dev/null
	fi
	if [ -r "$SIMDIR/pids" ]; then
		while read -r name pid; do
			stop_pid "$pid"
		done <"$SIMDIR/pids"
	fi
	# shellcheck disable=SC1091
	[ -r "$SIMDIR/namespaces" ] && . "$SIMDIR/namespaces"
	for ns in $NAMESPACES; do
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
on_exit sim_stop

start=$(_now_ms)
# (with SIGHUP's default disposition: a shell cannot trap a signal that
# was ignored when it started, as under nohup, and sim.sh applies the next
# scenario on SIGHUP)
NETPROBED=$NETPROBED env --default-signal=HUP "$SIM" -n "$N" \
    -s "$CITYDIR/scenarios/notice.yml" -d "$SIMDIR" --province --quiet \
    </dev/null >"$T/sim.log" 2>&1 &
SIM_PID=$!
_ready_or_dead() { [ -e "$SIMDIR/ready" ] || ! sim_alive; }
wait_for 90 _ready_or_dead
if [ ! -e "$SIMDIR/ready" ]; then
	diag_file "$T/sim.log" 40
	bail_out "the simulation did not start"
fi
# shellcheck disable=SC1091
. "$SIMDIR/state"
pass "sim.sh: $N gateways and the city up in $(($(_now_ms) - start)) ms"
is "$(ip netns list | grep -c "^npcity-$SIM_PID-")" $((N + 1)) \
    "sim.sh: $((N + 1)) namespaces npcity-$SIM_PID-*"
if [ -r "$top_srcdir/dashboards/prometheus/prometheus.yml" ]; then
	like "$(cat "$SIMDIR/prom/prometheus.yml")" 'city\.rules\.yml' \
	    "the city Prometheus runs the shipped dashboards/prometheus config"
else
	skip "no dashboards/prometheus/prometheus.yml" \
	    "the city Prometheus runs the shipped dashboards/prometheus config"
fi

# q EXPR [URL [LABEL...]]: the answer as "LABEL... VALUE" lines, sorted
# ("-" for a missing label); status 1 on an error answer
q()
{
	local expr=$1 url=${2:-$PROM_URL}

	shift
	[ $# -gt 0 ] && shift
	ip netns exec "$CITY_NS" curl -s --max-time 5 -G \
	    "$url/api/v1/query" --data-urlencode "query=$expr" \
	    >"$T/q.json" 2>/dev/null || return 1
	"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
if d.get("status") != "success":
    print(d.get("error")); sys.exit(1)
r = d["data"]["result"]
if d["data"]["resultType"] == "scalar":
    print(r[1]); sys.exit(0)
print("\n".join(sorted(" ".join([x["metric"].get(l, "-") for l in sys.argv[2:]]
                                + [x["value"][1]]) for x in r)))
' "$T/q.json" "$@"
}
# value EXPR [URL]: the value of a one-series answer
value() { q "$1" "${2:-$PROM_URL}"; }

# by_kind EXPR: "county=N district=N" (a kind without a series is 0)
by_kind()
{
	local out c=0 d=0 k v

	out=$(q "$1" "$PROM_URL" kind) || return 1
	while read -r k v; do
		case $k in county) c=$v ;; district) d=$v ;; esac
	done <<<"$out"
	echo "county=$c district=$d"
}
# sites EXPR: the `site` labels of its series, sorted, on one line
sites() { q "$1" "$PROM_URL" site | awk '{print $1}' | sort | xargs; }

# The figures, straight from what the city scraped: the roster's targets
# (up, with their site and kind) and each gateway's own series.  A bureau
# that cannot be scraped has no current verdict: it counts as failing.
UP='up{job="netprobed"}'
ATT='netprobe:extranet_attached == 1'
MCU='netprobe:mcu_ok == 1'
VIOL='sum by (instance) (increase(netprobe_watcher_violations_total{kind=~"egress|ingress"}[5m])) > 0'
FOREIGN='sum by (instance) (increase(netprobe_watcher_violations_total{kind="foreign_mcu"}[5m])) > 0'
figures()
{
	echo "figure expected $(by_kind "count by (kind) ($UP)")"
	echo "figure attached $(by_kind "count by (kind) ($UP == 1 and on (instance) ($ATT))")"
	echo "figure conferencing $(by_kind "count by (kind) ($UP == 1 and on (instance) ($MCU))")"
	printf '%s\n' \
	    "list not_attached $(sites "$UP unless on (instance) ($ATT)")" \
	    "list not_conferencing $(sites "$UP unless on (instance) ($MCU)")" \
	    "list unscraped $(sites "$UP == 0")" \
	    "list leaking $(sites "$UP and on (instance) (netprobe_isolation_verdict{verdict=\"leak\"} == 1)")" \
	    "list violating $(sites "$UP and on (instance) ($VIOL)")" \
	    "list inconclusive $(sites "$UP and on (instance) (netprobe_isolation_verdict{verdict=\"inconclusive\"} == 1)")" \
	    "list foreign_mcu $(sites "$UP and on (instance) ($FOREIGN)")" \
	    "list listen_only $(sites "$UP and on (instance) (netprobe_watcher_listen_only_calls > 0)")" |
		sed 's/ $//'
}
figures_are() { [ "$(figures)" = "$1" ]; }

# every firing alert, the gateways' (scraped) and the city's (its rules):
# "ALERTNAME/SITE/COMPONENT/KIND" lines
alerts()
{
	q 'ALERTS{alertstate="firing"}' "$PROM_URL" alertname site component kind |
		awk '{print $1 "/" $2 "/" $3 "/" $4}' | sort -u
}
alerts_are() { [ "$(alerts)" = "$1" ]; }

# near A B: equal within 1e-9 (the rates are float divisions)
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(a != "" && b != "" && d < 1e-9 && d > -1e-9) }'; }
pct() { awk -v r="$1" 'BEGIN { printf "%.1f%%", r * 100 }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.17g\n", a / b }'; }
# rate NAME GOT A B DESC: GOT is A/B
rate_is()
{
	local name=$1 got=$2 a=$3 b=$4

	shift 4
	near "$got" "$(div "$a" "$b")"
	ok $? "$name: $* $(pct "$got") = $a/$b ($got)" ||
		diag "expected $(div "$a" "$b")"
}

# rates_settled: the city's recording rules (evaluated every second, from
# what was scraped by then) have caught up with the figures WANT gives
rates_settled()
{
	local k

	[ "$(value 'city:districts_expected:count_all')" = \
	    "$(($(want_kind expected county) + $(want_kind expected district)))" ] &&
	    [ "$(value 'city:extranet_attached:count_all')" = \
	    "$(($(want_kind attached county) + $(want_kind attached district)))" ] ||
		return 1
	for k in county district; do
		[ "$(value "city:districts_expected:count{kind=\"$k\"}")/$(value "city:conference_ok:count{kind=\"$k\"}")/$(value "city:extranet_attached:count{kind=\"$k\"}")" = \
		    "$(want_kind expected $k)/$(want_kind conferencing $k)/$(want_kind attached $k)" ] ||
			return 1
	done
}

# the city's recorded rates (dashboards/prometheus/city.rules.yml)
check_rates()
{
	local name=$1 e a c k
	local -A plural=([county]=counties [district]=districts)

	e=$(($(want_kind expected county) + $(want_kind expected district)))
	a=$(($(want_kind attached county) + $(want_kind attached district)))
	is "$(value 'city:districts_expected:count_all')" "$e" \
	    "$name: city:districts_expected:count_all $e"
	is "$(value 'city:extranet_attached:count_all')" "$a" \
	    "$name: city:extranet_attached:count_all $a"
	rate_is "$name" "$(value 'city:extranet_attached:ratio_all')" "$a" "$e" \
	    "attachment rate (city:extranet_attached:ratio_all)"
	for k in county district; do
		e=$(want_kind expected $k)
		a=$(want_kind attached $k)
		c=$(want_kind conferencing $k)
		is "$(value "city:districts_expected:count{kind=\"$k\"}")/$(value "city:conference_ok:count{kind=\"$k\"}")/$(value "city:extranet_attached:count{kind=\"$k\"}")" \
		    "$e/$c/$a" "$name: ${plural[$k]}: expected $e, conferencing $c, attached $a (city:*:count)"
		rate_is "$name" "$(value "city:conference_ok:ratio{kind=\"$k\"}")" \
		    "$c" "$e" "conferencing rate of the ${plural[$k]} (city:conference_ok:ratio)"
		rate_is "$name" "$(value "city:extranet_attached:ratio{kind=\"$k\"}")" \
		    "$a" "$e" "attachment rate of the ${plural[$k]} (city:extranet_attached:ratio)"
	done
}

# ---- the dashboards ----------------------------------------------------

CO='netprobed · 全市概览 City overview'
# panel KEY: "COUNT VALUE SITES" of the panel query KEY ("DASHBOARD /
# PANEL (REFID)") in the last panels run
panel()
{
	awk -F '\t' -v k="$1" '$1 " / " $2 " (" $3 ")" == k && $4 == "ok" {
		print $5 "\t" $6 "\t" $7; found = 1; exit }
		END { exit !found }' "$PANELS"
}
# panel_value KEY WANT: the panel shows the count WANT (one series)
panel_value()
{
	local got

	got=$(panel "$1" | cut -f 2) || { fail "$NAME: panel $1 exists"; return; }
	is "$got" "$2" "$NAME: $1 shows $2"
}
# panel_rate KEY A B: the panel shows the rate A/B (within 1e-9)
panel_rate()
{
	local got

	got=$(panel "$1" | cut -f 2) || { fail "$NAME: panel $1 exists"; return; }
	near "$got" "$(div "$2" "$3")"
	ok $? "$NAME: $1 shows $(pct "$got") = $2/$3" ||
		diag "expected $(div "$2" "$3"), got $got"
}
# panel_sites KEY SITES: the panel lists exactly these bureaus
panel_sites()
{
	local got

	got=$(panel "$1" | cut -f 3) || { fail "$NAME: panel $1 exists"; return; }
	[ "$got" = - ] && got=
	is "$got" "$2" "$NAME: $1 lists: ${2:-none}"
}

# every panel query of every dashboard, against this scenario's state;
# then the city overview's figures and lists
check_panels()
{
	local d p ref st n detail bad=0 empty=0 runs=0 e a failing

	if ! ls "$DASHBOARDS"/*.json >/dev/null 2>&1; then
		skip "no dashboards in $DASHBOARDS" \
		    "$NAME: every dashboard panel query answers"
		return
	fi
	PANELS=$T/panels-$NAME.tsv
	ip netns exec "$CITY_NS" "$PY" "$CITYPY" panels "$PROM_URL" \
	    "$DASHBOARDS" >"$PANELS" 2>"$T/panels.err" ||
		{ diag_file "$T/panels.err"; fail "$NAME: the panels ran"; return; }
	while IFS=$'\t' read -r d p ref st n _ _ detail; do
		runs=$((runs + 1))
		if [ "$st" != ok ]; then
			bad=$((bad + 1))
			diag "$d / $p ($ref): $detail"
		elif [ "$n" = 0 ] && ! grep -qxF -e "$d / $p" -e "$d / $p ($ref)" \
		    <<<"$EMPTY_OK"; then
			empty=$((empty + 1))
			diag "$d / $p ($ref): no data: $detail"
		fi
	done <"$PANELS"
	cmp_ok "$runs" '>=' 50 "$NAME: the dashboards' panel queries ran ($runs)"
	is "$bad" 0 "$NAME: no panel query is an error"
	is "$empty" 0 "$NAME: every panel query has data, but those $NAME.yml allows empty"

	# the notice's figures as the city overview shows them
	e=$(($(want_kind expected county) + $(want_kind expected district)))
	a=$(($(want_kind attached county) + $(want_kind attached district)))
	panel_value "$CO / 电子政务外网 已接入 / 应接入 · Extranet attached / expected (A)" "$a"
	panel_value "$CO / 电子政务外网 已接入 / 应接入 · Extranet attached / expected (B)" "$e"
	panel_rate "$CO / 电子政务外网接入率 · Extranet attachment rate (A)" "$a" "$e"
	panel_value "$CO / 视频会议 县（市）已开通 / 应开通 · Conferencing, counties (A)" \
	    "$(want_kind conferencing county)"
	panel_value "$CO / 视频会议 县（市）已开通 / 应开通 · Conferencing, counties (B)" \
	    "$(want_kind expected county)"
	panel_value "$CO / 视频会议 区 已开通 / 应开通 · Conferencing, districts (A)" \
	    "$(want_kind conferencing district)"
	panel_value "$CO / 视频会议 区 已开通 / 应开通 · Conferencing, districts (B)" \
	    "$(want_kind expected district)"
	panel_rate "$CO / 视频会议开通率 · Conferencing rate (A)" \
	    "$(want_kind conferencing county)" "$(want_kind expected county)"
	panel_rate "$CO / 视频会议开通率 · Conferencing rate (B)" \
	    "$(want_kind conferencing district)" "$(want_kind expected district)"
	panel_rate "$CO / 电子政务外网接入率（分类） · Extranet rate by kind (A)" \
	    "$(want_kind attached county)" "$(want_kind expected county)"
	panel_rate "$CO / 电子政务外网接入率（分类） · Extranet rate by kind (B)" \
	    "$(want_kind attached district)" "$(want_kind expected district)"
	panel_value "$CO / 采集正常 / 应采集 · Scraped / expected (A)" \
	    "$((e - $(count unscraped)))"
	# compliant: attached, conferencing, no leak, no violation
	failing=$({ want not_attached; want not_conferencing; want leaking
	    want violating; } | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)
	panel_value "$CO / 全部达标 / 应达标 · Fully compliant / expected (A)" \
	    "$((e - failing))"
	panel_value "$CO / 安全生产专网隔离 · Isolation (bureaus) (A)" "$(count leaking)"
	panel_value "$CO / 安全生产专网隔离 · Isolation (bureaus) (B)" "$(count violating)"
	panel_value "$CO / 安全生产专网隔离 · Isolation (bureaus) (C)" "$(count inconclusive)"
	panel_value "$CO / 会议异常 · Conference faults (bureaus) (A)" "$(count foreign_mcu)"
	panel_value "$CO / 会议异常 · Conference faults (bureaus) (B)" "$(count listen_only)"
	# the lists of bureaus failing each check
	panel_sites "$CO / 未接入电子政务外网 · Not attached to the extranet (A)" "$(want not_attached)"
	panel_sites "$CO / 视频会议未开通 · Conferencing not working (A)" "$(want not_conferencing)"
	panel_sites "$CO / 隔离问题 · Isolation problems (A)" "$(want leaking)"
	panel_sites "$CO / 隔离问题 · Isolation problems (B)" "$(want violating)"
	panel_sites "$CO / 隔离问题 · Isolation problems (C)" "$(want inconclusive)"
	panel_sites "$CO / 会议异常 · Conference faults (A)" "$(want foreign_mcu)"
	panel_sites "$CO / 会议异常 · Conference faults (B)" "$(want listen_only)"
	is "$(panel "$CO / 当前状态 · Status now (A)" | cut -f 1)" "$e" \
	    "$NAME: the status grid has all $e bureaus, the unscraped included"
}

# the province federates the city's city:* series: the same values
fed_pairs()
{
	q '{__name__=~"city:.*"}' "$1" __name__ kind site |
		awk '{ printf "%s %s %s %.9g\n", $1, $2, $3, $4 }'
}
fed_equal()
{
	local a b

	a=$(fed_pairs "$PROM_URL") && b=$(fed_pairs "$PROVINCE_URL") &&
	    [ -n "$a" ] && [ "$a" = "$b" ]
}

# run_scenario FILE: wait until the city settles on the scenario's
# figures, then assert everything the city shows
run_scenario()
{
	local line key got t0 e a k

	derive "$1"
	NAME=$SCEN_NAME
	t0=$(_now_ms)
	wait_for 90 figures_are "$WANT"
	ok $? "$NAME: the city's figures settle ($(($(_now_ms) - t0)) ms)"
	got=$(figures)
	while IFS= read -r line; do
		key=$(cut -d ' ' -f 1-2 <<<"$line")
		is "$(grep "^$key\\( \\|\$\\)" <<<"$got")" "$line" "$NAME: $line"
	done <<<"$WANT"
	# the recorded rates trail the scraped series by an evaluation or
	# more: wait for them to catch up, then assert every one
	wait_for 30 rates_settled
	check_rates "$NAME"
	# the city's own alerts have their `for:` cut to 10s and 20s
	t0=$(_now_ms)
	wait_for 60 alerts_are "$ALERTS_WANT"
	if ok $? "$NAME: the firing alerts, exactly ($(($(_now_ms) - t0)) ms)"; then
		diag "$NAME: firing:" "$ALERTS_WANT"
	else
		diag "got:" "$(alerts)" "expected:" "$ALERTS_WANT"
	fi
	check_panels
	wait_for 30 fed_equal
	ok $? "$NAME: the province has every city:* series, with the city's values" ||
		diag "city:" "$(fed_pairs "$PROM_URL")" \
		    "province:" "$(fed_pairs "$PROVINCE_URL")"
	# and the province's own figures (province.rules.yml): one city, so
	# the city's
	e=$(($(want_kind expected county) + $(want_kind expected district)))
	a=$(($(want_kind attached county) + $(want_kind attached district)))
	wait_for 30 province_has "$e" "$a"
	is "$(value 'province:districts_expected:count_all' "$PROVINCE_URL")/$(value 'province:extranet_attached:count_all' "$PROVINCE_URL")" \
	    "$e/$a" "$NAME: the province: $a of $e attached"
	rate_is "$NAME" "$(value 'province:extranet_attached:ratio_all' "$PROVINCE_URL")" \
	    "$a" "$e" "the province's attachment rate (province:extranet_attached:ratio_all)"
	for k in county district; do
		rate_is "$NAME" "$(value "province:conference_ok:ratio{kind=\"$k\"}" "$PROVINCE_URL")" \
		    "$(want_kind conferencing $k)" "$(want_kind expected $k)" \
		    "the province's conferencing rate, ${k} (province:conference_ok:ratio)"
	done
	is "$(q 'city:extranet_attached:ratio_all' "$PROVINCE_URL" city city_display_name |
	    cut -d ' ' -f 1-2)" "zhengzhou 郑州市" \
	    "$NAME: the province's series name their city"
	is "$(q 'ALERTS{alertstate="firing"}' "$PROVINCE_URL" alertname)" "" \
	    "$NAME: no alert fires in the province"
}
province_has()
{
	[ "$(value 'province:districts_expected:count_all' "$PROVINCE_URL")/$(value 'province:extranet_attached:count_all' "$PROVINCE_URL")" = "$1/$2" ]
}

# ---- the notice ----------------------------------------------------------

run_scenario "$CITYDIR/scenarios/notice.yml"
is "$(value 'city:extranet_attached:count_all')/$(value 'city:districts_expected:count_all') $(pct "$(value 'city:extranet_attached:ratio_all')")" \
    "13/15 86.7%" "notice: 13 of 15 attached, 86.7% (the notice rounds to 87%)"
is "$(q 'netprobe:extranet_component_up == 0' "$PROM_URL" site component |
    awk '{print $1 "/" $2}' | xargs)" \
    "gaoxin/dns gaoxin/gateway gaoxin/platform zhengdong/platform" \
    "notice: the failing extranet layers: 高新区 from its router up, 郑东新区 the platform"

# ---- another scenario, applied live ----------------------------------------

echo "$CITYDIR/scenarios/mixed.yml" >"$SIMDIR/scenario.next"
kill -HUP "$SIM_PID"
applied_is() { [ "$(cat "$SIMDIR/applied" 2>/dev/null)" = "$1" ]; }
wait_for 30 applied_is "2 mixed"
ok $? "sim.sh applies mixed.yml on SIGHUP" || diag_file "$T/sim.log"
run_scenario "$CITYDIR/scenarios/mixed.yml"
is "$(q "$UP" "$PROM_URL" site | awk '$2 == 0 {print $1}' | xargs)" \
    "dengfeng zhengdong" \
    "mixed: the roster keeps the two unscraped bureaus, at up 0"

# ---- the end ---------------------------------------------------------------

cp "$SIMDIR/pids" "$T/pids.last"
kill -TERM "$SIM_PID"
wait_for 20 pid_gone "$SIM_PID"
ok $? "sim.sh stops on SIGTERM"
wait "$SIM_PID" 2>/dev/null
is "$?" 0 "sim.sh exits 0"
left=
while read -r name pid; do
	pid_alive "$pid" && left="$left $name:$pid"
done <"$T/pids.last"
is "$left" "" "every process of the simulation is gone ($(wc -l <"$T/pids.last"))"
is "$(ip netns list | grep -c "^npcity-$SIM_PID-")" 0 \
    "every namespace of the simulation is deleted"
unlike "$(cat "$SIMDIR"/gw/*/netprobed.log)" '(error|Sanitizer|runtime error):' \
    "the gateways logged no errors"
SIM_PID=
diag "the simulation took $(($(_now_ms) - start)) ms"

done_testing
