#!/usr/bin/env bash
#
# netprobed's own / page, as the field engineer without Grafana sees it:
# served as UTF-8 HTML that a strict parser accepts, self-contained (no
# script, nothing fetched from elsewhere), and rendered by a real browser
# (Debian's headless Chromium) from the running daemon's live state:
#  - the district's display name in Chinese (金水区), with a CJK font;
#  - every probe x target with its result word and colour class: an ICMP
#    reply (green), a refused TCP connect (red), a negative probe to a
#    closed port judged blocked by the loopback RST (green, with its
#    reason) and one to a replying address judged a leak (red);
#  - a firing alert (red) and a pending one (grey), then, once the path
#    is back, the first resolved (green);
#  - a watcher on lo whose segment 127.0.9.0/24 may talk to nobody, with
#    the violating UDP flow from 127.0.9.1 listed;
#  - hostile text (a probe label value and an alert annotation with
#    <script>) shown as text, never run;
#  - after a reload to a config with no probes, no rules and no watchers,
#    the page still renders, saying so, with the site name as title.
# A screenshot of the live page is kept as tests/artifacts/statuspage.png
# in the build tree, and checked to show both status colours.
#
# Ports: 19600 (netprobed), 19601 (closed: the forbidden service of the
# negative probe), 19602 (the platform: closed, then a listener), 19603
# (udp, closed: where the segment's host sends).  Traffic: loopback only;
# Chromium resolves no name (--host-resolver-rules) and loads only
# http://127.0.0.1:19600/.

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ "$(id -u)" = 0 ] || skip_all "the watcher on lo needs root (libpcap)"

T=$TAP_TMPDIR
NP_PORT=19600
FORBIDDEN=127.0.0.1:19601
PLATFORM=127.0.0.1:19602
SINK_PORT=19603
CONF=$T/netprobed.yaml
LOG=$T/netprobed.log
CHECK=$top_srcdir/tests/peers/page_check.py
ARTIFACTS=${top_builddir:-$(dirname "$NETPROBED")}/tests/artifacts

# Debian's binary itself: /usr/bin/chromium is a wrapper that adds
# flags from /etc/chromium.d (remote extension updates among them)
CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
if [ ! -x "$CHROMIUM" ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
	diag "installing chromium fonts-wqy-microhei"
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q \
	    -o DPkg::Lock::Timeout=300 --no-install-recommends \
	    chromium fonts-wqy-microhei >"$T/apt.log" 2>&1 ||
		diag_file "$T/apt.log" 5
fi
[ -x "$CHROMIUM" ] || skip_all "no chromium at $CHROMIUM (apt-get install chromium)"
[ -n "$PYTHON3" ] || skip_all "no python3"

for p in "$NP_PORT" "${FORBIDDEN##*:}" "${PLATFORM##*:}"; do
	port_listening "$p" &&
		bail_out "port $p must be free for this test, but something listens there"
done

# ---- the daemon ---------------------------------------------------------

cat >"$T/rules.yml" <<'END'
groups:
  - name: platform
    rules:
      - alert: PlatformDown
        expr: probe_success{probe="platform"} == 0
        for: 1s
        labels: {severity: critical}
        annotations:
          summary: "<script>alert('rule')</script> {{ $labels.target }} down & out"
          summary_zh: "综合监管平台不可达"
      - alert: PlatformDownLong
        expr: probe_success{probe="platform"} == 0
        for: 1h
        labels: {severity: warning}
        annotations:
          summary: "platform down for an hour"
END

cat >"$CONF" <<END
site:
  name: jinshui
  display_name: 金水区
  labels: {kind: district}
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 500ms
  evaluation_interval: 1s
rule_files: [rules.yml]
probes:
  - name: extranet-gw
    type: icmp
    targets: [127.0.0.1]
    count: 1
  - name: platform
    type: tcp
    targets: ["$PLATFORM"]
    labels: {component: "<script>alert(\"label\")</script>"}
  - name: internet-web
    type: tcp
    targets: ["$FORBIDDEN"]
    expect: blocked
    control: extranet-gw
    filter_hops: 1
  - name: internet-ping
    type: icmp
    targets: [127.0.0.1]
    count: 1
    expect: blocked
watchers:
  - name: segment
    interface: lo
    segment: [127.0.9.0/24]
    allow: []
END

out=$("$NETPROBED" -c "$CONF" --check-config 2>&1)
is "$?:$out" "0:$CONF: OK (4 probes, 4 targets)" "the test config passes --check-config"
start_netprobed "$CONF" "$LOG" || bail_out "netprobed did not start"
wait_for 10 grep -q 'watcher segment: capturing on lo' "$LOG" ||
	{ diag_file "$LOG"; bail_out "the watcher does not capture on lo"; }

# A host of the segment (127.0.9.1) sends to the platform's address: no
# allow entry, so an egress violation.
"$PYTHON3" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.9.1", 0))
for i in range(3):
    s.sendto(b"leak %d" % i, ("127.0.0.1", int(sys.argv[1])))
' "$SINK_PORT" || fail "the segment host's datagrams were sent"

# ---- the page as served -----------------------------------------------------

PAGE=$T/page.html
# q FILE EXPR: what the page shows (page_check.py query)
q() { "$PYTHON3" "$CHECK" query "$@" 2>"$T/q.err"; }
fetch() { curl -s --max-time 5 -o "$PAGE" "$(np_url /)"; }
# the page shows the live state we are waiting for
live()
{
	fetch || return 1
	[ "$(q "$PAGE" 'one(alerts, name="PlatformDown")["state"]')" = firing ] &&
	[ "$(q "$PAGE" 'one(alerts, name="PlatformDownLong")["state"]')" = pending ] &&
	[ "$(q "$PAGE" 'one(probes, probe="internet-web")["isolation"].split()[0]')" = blocked ] &&
	[ "$(q "$PAGE" 'one(probes, probe="internet-ping")["isolation"].split()[0]')" = leak ] &&
	[ "$(q "$PAGE" 'one(probes, probe="extranet-gw")["result"]')" = reply ] &&
	q "$PAGE" 'flows' | grep -q 'egress udp 127.0.9.1 -> 127.0.0.1:19603'
}
wait_for 20 live
ok $? "the page shows the live state: alerts firing and pending, verdicts, the violation" ||
	{ diag "$(cat "$PAGE" "$T/q.err" 2>/dev/null | tail -n 40)"; diag_file "$LOG"; }

hdr=$(curl -s --max-time 5 -D - -o "$PAGE" "$(np_url /)" | tr -d '\r')
like "$hdr" '^HTTP/1\.1 200 ' "GET / answers 200"
like "$hdr" '^Content-Type: text/html; charset=utf-8$' \
    "with Content-Type text/html; charset=utf-8"
problems=$("$PYTHON3" "$CHECK" validate "$PAGE" 2>&1)
ok $? "the page is well-formed, self-contained HTML (strict parse)" || diag "$problems"
body=$(cat "$PAGE")
like "$body" '^<html lang="zh-CN">$' 'the document says lang="zh-CN"'
like "$body" '^<meta charset="utf-8">$' 'and <meta charset="utf-8">'
like "$body" '^<h1 id="site">金水区</h1>$' "the display name is the heading, UTF-8 intact"
like "$body" 'font:.*"Noto Sans CJK SC".*"WenQuanYi Micro Hei".*sans-serif' \
    "the font stack names CJK fonts, ending in sans-serif"
like "$body" '<meta http-equiv="refresh" content="10">' "the page refreshes itself every 10 s"
for t in "extranet-gw 127.0.0.1" "platform $PLATFORM" "internet-web $FORBIDDEN" \
    "internet-ping 127.0.0.1"; do
	like "$body" "<td>${t% *}</td><td>(icmp|tcp)</td><td class=\"tgt\">${t#* }</td>" \
	    "probe ${t% *} has its row with its target ${t#* }"
done
unlike "$body" '<[sS][cC][rR][iI][pP][tT]' "no <script> gets through"
like "$body" 'component=&lt;script&gt;alert\(&quot;label&quot;\)&lt;/script&gt;' \
    "a probe label's <script> is escaped"
like "$body" '&lt;script&gt;alert\(&#39;rule&#39;\)&lt;/script&gt; 127\.0\.0\.1:19602 down &amp; out' \
    "an alert annotation's <script> and & are escaped"
code=$(curl -s --max-time 5 -o "$T/head.out" -w '%{http_code}' -I "$(np_url /)")
is "$code:$(grep -ci '^content-type: text/html; charset=utf-8' "$T/head.out")" "200:1" \
    "HEAD / answers 200 with the same Content-Type"
http_get "$(np_url /no/such/page)"
is "$HTTP_CODE" 404 "another path is still 404"

# ---- the page in a browser ------------------------------------------------

CHROME=("$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-quic
	--no-first-run --disable-background-networking
	--disable-component-update --disable-sync --disable-extensions
	"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
	--user-data-dir="$T/chromium-profile" --hide-scrollbars)
mkdir -p "$T/home"

# chrome OUT ARGS...: run Chromium (its stdout to OUT) by PID; it exits
# by itself once the page is loaded and dumped; stopped at 60 s
chrome()
{
	local out=$1 pid

	shift
	HOME=$T/home XDG_CONFIG_HOME=$T/home XDG_CACHE_HOME=$T/home \
	    "${CHROME[@]}" "$@" >"$out" 2>>"$T/chromium.err" </dev/null &
	pid=$!
	register_pid "$pid"
	wait_for 60 pid_gone "$pid" || diag "chromium (pid $pid) still runs after 60 s"
	stop_pid "$pid"
}

DOM=$T/dom.html
chrome "$DOM" --dump-dom "$(np_url /)"
ok $? "headless chromium loads the page and dumps its DOM" ||
	diag_file "$T/chromium.err"
problems=$("$PYTHON3" "$CHECK" validate "$DOM" 2>&1)
ok $? "the browser's DOM is the same well-formed document, with no script element" ||
	diag "$problems"
is "$(q "$DOM" '[site, title, lang, charset]')" '["金水区", "金水区 · netprobed", "zh-CN", "utf-8"]' \
    "the browser shows the display name in heading and title, zh-CN, UTF-8"
age=$(q "$DOM" 'age(rendered_at)')
cmp_ok "$age" '<' 60 "the page says when it was rendered (${age}s ago): now, not cached"
like "$(q "$DOM" 'rendered')" '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' \
    "the rendering time is written out as local date and time"

# row PROBE: result, its class, the isolation cell, its class, the row class
row() { q "$DOM" "[one(probes, probe='$1')[k] for k in ('result', 'result_class', 'isolation', 'isolation_class', 'row_class')]"; }
is "$(row extranet-gw)" '["reply", "ok", "", "", "ok"]' \
    "extranet-gw: ICMP reply, green"
is "$(row platform)" '["refused", "bad", "", "", "bad"]' \
    "platform: refused, red"
is "$(row internet-web)" '["refused", "ok", "blocked (rst_from_filter from 127.0.0.1)", "ok", "ok"]' \
    "internet-web (negative): the RST within filter_hops is the filter's, blocked, green"
is "$(row internet-ping)" '["reply", "bad", "leak (reply)", "bad", "bad"]' \
    "internet-ping (negative): an echo reply is a leak, red"
like "$(q "$DOM" 'one(probes, probe="extranet-gw")["duration"]')" '^[0-9]+\.[0-9]{3} ms$' \
    "the last duration is shown in ms"
like "$(q "$DOM" 'one(probes, probe="platform")["last_run"]')" '^[0-9]{2}:[0-9]{2}:[0-9]{2}, [0-9]+s ago$' \
    "and when it last ran"
is "$(q "$DOM" 'one(probes, probe="platform")["labels"]')" 'component=<script>alert("label")</script>' \
    "the hostile label value reads as text in the browser"
is "$(q "$DOM" 'one(probes, probe="internet-web")["labels"]')" 'control: extranet-gw' \
    "the negative probe names its control"

# alert NAME: state, its class, severity, summary (zh), summary (en)
alert() { q "$DOM" "[one(alerts, name='$1')[k] for k in ('state', 'state_class', 'severity', 'summary', 'summary_en')]"; }
is "$(alert PlatformDown)" \
    "[\"firing\", \"bad\", \"critical\", \"综合监管平台不可达\", \"<script>alert('rule')</script> $PLATFORM down & out\"]" \
    "PlatformDown: firing, red, critical, its Chinese summary and the hostile one as text"
is "$(alert PlatformDownLong)" '["pending", "unknown", "warning", "platform down for an hour", ""]' \
    "PlatformDownLong: pending, grey"
is "$(q "$DOM" '[a["name"] for a in alerts]')" '["PlatformDown", "PlatformDownLong"]' \
    "firing alerts come before pending ones"
like "$(q "$DOM" 'one(alerts, name="PlatformDown")["labels"]')" "probe=platform, target=$PLATFORM, type=tcp" \
    "the alert's labels say which probe"
like "$(q "$DOM" 'one(alerts, name="PlatformDown")["since"]')" '^[0-9]{2}:[0-9]{2}:[0-9]{2}, [0-9]+s ago$' \
    "and since when it is active"

is "$(q "$DOM" '[(w["name"], w["interface"], w["capture"], w["capture_class"], w["row_class"], w["egress"] > 0, w["egress_class"], w["foreign_mcu"], w["listen_only"]) for w in watchers]')" \
    '[["segment", "lo", "up", "ok", "bad", true, "bad", 0, 0]]' \
    "the watcher: capturing on lo, egress violations in red"
cmp_ok "$(q "$DOM" 'watchers[0]["packets"]')" '>=' 3 "it counts the packets it saw"
like "$(q "$DOM" 'flows')" 'egress udp 127\.0\.9\.1 -> 127\.0\.0\.1:19603, [0-9]+ packets?, last [0-9:]+, [0-9]+s ago' \
    "the violating flow from the segment is listed, with packets and when"
like "$(q "$DOM" 'summary')" '^2 ok 2 failing 0 unknown 1 firing 1 pending alerts [0-9]+ watcher violations$' \
    "the summary line counts them"
is "$(q "$DOM" 'scripts')" 0 "the DOM holds no script element"

# ---- the screenshot ---------------------------------------------------------

SHOT=$T/statuspage.png
chrome "$T/shot.out" --window-size=1280,1600 --screenshot="$SHOT" "$(np_url /)"
ok $? "headless chromium takes a screenshot of the page" || diag_file "$T/chromium.err"
size=$(stat -c %s "$SHOT" 2>/dev/null || echo 0)
cmp_ok "$size" '>' 20000 "the screenshot is a real picture ($size bytes)"
png=$("$PYTHON3" "$CHECK" png "$SHOT" 2>&1)
ok $? "the screenshot is a PNG that decodes" || diag "$png"
is "$("$PYTHON3" -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["width"], d["height"])' "$png")" \
    "1280 1600" "of the window size, 1280x1600"
many=$("$PYTHON3" -c 'import json, sys; print(json.loads(sys.argv[1])["colours"])' "$png")
cmp_ok "$many" '>' 50 "not one colour: $many distinct colours (text, tables, status)"
colours() { "$PYTHON3" -c 'import json, sys; d = json.loads(sys.argv[1]); print(int(all(d[k] > 0 for k in sys.argv[2:])))' "$png" "$@"; }
is "$(colours ok_border ok_fill)" 1 "the screenshot shows the green status colour" || diag "$png"
is "$(colours bad_border bad_fill)" 1 "and the red one" || diag "$png"
if fc-match 'sans-serif:lang=zh-cn' 2>/dev/null | grep -Eq 'WenQuanYi|Noto Sans CJK|Source Han'; then
	pass "a CJK font renders the Chinese text: $(fc-match 'sans-serif:lang=zh-cn')"
else
	skip "no CJK font installed (fonts-wqy-microhei)" "a CJK font renders the Chinese text"
fi
mkdir -p "$ARTIFACTS" && cp "$SHOT" "$ARTIFACTS/statuspage.png"
ok $? "the screenshot is kept as $ARTIFACTS/statuspage.png"

# ---- the path comes back: resolved ----------------------------------------

start_tcp_listener 127.0.0.1 "${PLATFORM##*:}" ||
	bail_out "cannot start a TCP listener on $PLATFORM"
resolved()
{
	fetch &&
	[ "$(q "$PAGE" '[a["name"] + ":" + a["state"] for a in alerts]')" = '["PlatformDown:resolved"]' ]
}
wait_for 15 resolved
ok $? "once the platform answers, PlatformDown is resolved and the pending alert gone" ||
	diag "$(q "$PAGE" 'alerts')"
chrome "$DOM" --dump-dom "$(np_url /)"
is "$(row platform)" '["open", "ok", "", "", "ok"]' "platform: open, green"
like "$(alert PlatformDown)" '^\["resolved", "ok", "critical", ' "PlatformDown: resolved, green"
like "$(q "$DOM" 'one(alerts, name="PlatformDown")["since"]')" '^resolved [0-9]{2}:[0-9]{2}:[0-9]{2}, [0-9]+s ago$' \
    "saying when it was resolved"

# ---- nothing configured -----------------------------------------------------

cat >"$CONF" <<END
site: {name: jinshui}
listen: 127.0.0.1:$NP_PORT
END
reloads() { scrape && metric_value netprobe_config_reloads_total result=success; }
before=$(reloads)
reloaded() { [ "$(reloads)" = $((before + 1)) ]; }
kill -HUP "$NETPROBED_PID"
wait_for 10 reloaded
ok $? "a reload to a config with no probes, rules or watchers succeeds" || diag_file "$LOG"
fetch
problems=$("$PYTHON3" "$CHECK" validate "$PAGE" 2>&1)
ok $? "the empty page is well-formed too" || diag "$problems"
chrome "$DOM" --dump-dom "$(np_url /)"
is "$(q "$DOM" '[site, title, len(probes), len(alerts), len(watchers)]')" \
    '["jinshui", "jinshui · netprobed", 0, 0, 0]' \
    "without a display name the site name is the title; no rows"
is "$(q "$DOM" '[empty[t] for t in ("probe-table", "alert-table", "watcher-table")]')" \
    '["no probes configured", "no rule files configured", "no watchers configured"]' \
    "each section says what is not configured"
like "$(q "$DOM" 'summary')" '^0 ok 0 failing 0 unknown 0 firing 0 pending alerts$' \
    "the summary counts nothing, and no watcher count without watchers"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed stops cleanly on SIGTERM"
unlike "$(cat "$LOG")" '[Ss]anitizer|runtime error' \
    "no sanitizer report in the daemon's log"

done_testing
