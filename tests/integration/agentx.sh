#!/usr/bin/env bash
#
# The AgentX sub-agent through a real snmpd master on loopback, as an SNMP
# manager sees it: snmpwalk of npAlertTable matches /status (name, state,
# severity, value, active since, summary, labels; pending, firing and
# resolved rows, Chinese text intact) and of npProbeTable matches /metrics
# (name, type, target, last result, duration, success ratio, runs); with
# NETPROBE-MIB loaded the walk prints names, enum labels and the text.
# netprobed started before snmpd keeps running and registers once snmpd
# appears (the outage logged once); snmpd restarted: it re-registers; a
# reload keeps the session, adds rows, moves it to a unix socket, or ends
# it; Get, GetNext, GetBulk and a refused Set; and a master that accepts
# the connection but never answers (SIGSTOP) leaves /healthz answering in
# milliseconds, then registers once it runs again.  Last, a scripted
# master says no and sends garbage: a refused Open or Register, GetBulk
# in little-endian with compressed OIDs, a malformed Get (parseError), a
# wrong session (notOpen), Set (notWritable), a Close, an unusable
# header, a Ping left unanswered: each is answered or logged, and
# netprobed carries on.
#
# Ports (loopback): 16210 snmpd (SNMP, UDP), 16220 snmpd (AgentX, TCP),
# 16221 the scripted master, 16211 netprobed, 16212 and 16213 TCP
# listeners (paths), 16214 closed.

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
SNMPD=${SNMPD:-$(command -v snmpd || echo /usr/sbin/snmpd)}
[ -x "$SNMPD" ] || skip_all "no snmpd (package snmpd)"
command -v snmpwalk >/dev/null || skip_all "no snmpwalk (package snmp)"
[ -n "$PYTHON3" ] || skip_all "no python3 to read the walks"

T=$TAP_TMPDIR
NP_PORT=16211
SNMP_PORT=16210
AX_PORT=16220
FAKE_PORT=16221
UP_PORT=16212
LATE_PORT=16213
CLOSED_PORT=16214
B=1.3.6.1.4.1.8072.9999.9999.7457
CONF=$T/netprobed.yaml
LOG=$T/netprobed.log
export MIBS=			# no MIB files: numeric OIDs only
# the snmp tools write cert_indexes/ there (default /var/lib/snmp)
export SNMP_PERSISTENT_DIR=$T/persist-cli
mkdir -p "$T/persist" "$T/persist-cli"

for p in "$NP_PORT" "$AX_PORT" "$FAKE_PORT" "$UP_PORT" "$LATE_PORT" "$CLOSED_PORT"; do
	port_listening "$p" && bail_out "port $p is in use"
done
[ -n "$(ss -Hlun "sport = :$SNMP_PORT" 2>/dev/null)" ] &&
	bail_out "UDP port $SNMP_PORT is in use"

# ---- snmpd, the master --------------------------------------------------

cat >"$T/snmpd.conf" <<END
agentaddress udp:127.0.0.1:$SNMP_PORT
master agentx
agentXSocket tcp:127.0.0.1:$AX_PORT,unix:$T/agentx.sock
rocommunity public 127.0.0.1
rwcommunity private 127.0.0.1 .$B
sysName agentx-test
dontLogTCPWrappersConnects yes
END

SNMPD_PID=
SNMPD_N=0
snmpd_up() { snmpget -v2c -c public -t 0.3 -r 0 "127.0.0.1:$SNMP_PORT" 1.3.6.1.2.1.1.5.0; }
start_snmpd()
{
	SNMPD_N=$((SNMPD_N + 1))
	SNMP_PERSISTENT_DIR=$T/persist "$SNMPD" -f -Lf "$T/snmpd.$SNMPD_N.log" \
	    -C -c "$T/snmpd.conf" -I -smux,mteTrigger,mteTriggerConf \
	    -p "$T/snmpd.pid" </dev/null \
	    >>"$T/snmpd.out" 2>&1 &
	SNMPD_PID=$!
	register_pid "$SNMPD_PID"
	wait_for 10 snmpd_up || { diag_file "$T/snmpd.$SNMPD_N.log"; return 1; }
}
# (if the test dies while snmpd is SIGSTOPped, the cleanup's stop_pid
# ends it with SIGKILL after its 5 s)

SNMP=(-v2c -c public -On -Ox -t 1 -r 1 "127.0.0.1:$SNMP_PORT")
walk() { snmpwalk "${SNMP[@]}" "$1" 2>&1; }

# parse_walk: snmpwalk -On -Ox output on stdin -> JSON rows of both tables
cat >"$T/walk.py" <<'END_PY'
import json, sys
base = "." + sys.argv[1]
items = []
for line in sys.stdin.read().splitlines():
    if line.startswith("."):
        items.append(line)
    elif items:
        items[-1] += " " + line        # -Ox wraps long strings
tables = {"2": {}, "3": {}}
for it in items:
    oid, _, val = it.partition(" = ")
    if not oid.startswith(base + ".1."):
        continue
    arcs = oid[len(base) + 3:].split(".")   # T, 1, col, row
    if len(arcs) != 4 or arcs[1] != "1" or arcs[0] not in tables:
        print("bad OID " + oid, file=sys.stderr); sys.exit(1)
    t, col, row = arcs[0], int(arcs[2]), int(arcs[3])
    kind, _, v = val.partition(": ")
    if kind == '""':
        value = ""
    elif kind == "Hex-STRING":
        raw = bytes.fromhex(v.replace(" ", ""))
        value = raw.hex() if (t, col) == ("2", 6) else raw.decode("utf-8")
        if (t, col) == ("2", 5):
            value = float(value)        # npAlertEntryValue: a number
    elif kind in ("INTEGER", "Gauge32", "Counter64"):
        value = int(v)
    else:
        print("unexpected value " + val, file=sys.stderr); sys.exit(1)
    tables[t].setdefault(row, {})[col] = value
out = {}
for t, name in (("2", "alerts"), ("3", "probes")):
    rows = tables[t]
    if sorted(rows) != list(range(1, len(rows) + 1)):
        print("rows not numbered 1..N: %s" % sorted(rows), file=sys.stderr)
        sys.exit(1)
    out[name] = [[rows[r].get(c) for c in range(2, 9)] for r in sorted(rows)]
print(json.dumps(out, ensure_ascii=False))
END_PY

# alerts_expected: /status (stdin) -> the rows npAlertTable must hold
cat >"$T/status.py" <<'END_PY'
import json, sys, datetime
s = json.load(sys.stdin)
state = {"pending": 2, "firing": 3, "resolved": 4}
def dt(t):
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
    return bytes([d.year >> 8, d.year & 255, d.month, d.day, d.hour,
                  d.minute, d.second, d.microsecond // 100000,
                  ord("+"), 0, 0]).hex()
def labels(l):
    return "{" + ", ".join("%s=%s" % (k, json.dumps(l[k], ensure_ascii=False))
                           for k in sorted(l)) + "}"
rows = [[a["name"], state[a["state"]], a["labels"].get("severity", ""),
         float(a["value"]), dt(a["active_since"]),
         a["annotations"].get("summary", ""), labels(a["labels"])]
        for a in s["alerts"]]
print(json.dumps(rows, ensure_ascii=False))
END_PY

# probes_expected ORDER_JSON: /metrics (stdin) -> npProbeTable's rows
cat >"$T/metrics.py" <<'END_PY'
import json, re, sys
order = json.loads(sys.argv[1])      # [[probe, type, target, result], ...]
code = {"success": 1, "timeout": 2, "refused": 3, "unreachable": 4,
        "error": 5, "bad_response": 6}
series = {}
for line in sys.stdin.read().splitlines():
    m = re.match(r'^([a-zA-Z_:]+)\{(.*)\} (\S+)$', line)
    if not m:
        continue
    l = dict(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(2)))
    key = (l.get("probe"), l.get("target"))
    series.setdefault(key, []).append((m.group(1), l, float(m.group(3))))
rows = []
for probe, typ, target, result in order:
    s = series.get((probe, target), [])
    runs = {l["result"]: v for n, l, v in s
            if n == "netprobe_probe_runs_total"}
    dur = [v for n, l, v in s if n == "probe_duration_seconds"]
    total = int(sum(runs.values()))
    ok = int(runs.get("success", 0))
    rows.append([probe, typ, target, code[result],
                 round(dur[0] * 1e6) if dur else 0,
                 (ok * 1000 + total // 2) // total if total else 0, total])
print(json.dumps(rows, ensure_ascii=False))
END_PY

# ---- netprobed -------------------------------------------------------------

cat >"$T/rules.yml" <<'END'
groups:
  - name: paths
    rules:
      - alert: PathDown
        expr: probe_success{type="tcp"} == 0
        for: 2s
        labels: {severity: critical}
        annotations:
          summary: '{{ $labels.target }} 路径中断 ({{ $value }})'
      - alert: PathDownLong
        expr: probe_success{type="tcp"} == 0
        for: 1h
        labels: {severity: warning}
        annotations:
          summary: '{{ $labels.target }} down for an hour'
END

# write_conf AGENTX [EXTRA_PROBE_YAML]: AGENTX "" leaves it out
write_conf()
{
	cat >"$CONF.new" <<END
site: {name: agentx-test, display_name: 金水区}
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 2s, timeout: 500ms, evaluation_interval: 1s}
rule_files: [rules.yml]
probes:
  - name: loopback
    type: icmp
    targets: [127.0.0.1]
  - name: platform
    type: tcp
    targets: ["127.0.0.1:$UP_PORT", "127.0.0.1:$LATE_PORT"]
  - name: retired
    type: tcp
    targets: ["127.0.0.1:$CLOSED_PORT"]
$2
END
	if [ -n "$1" ]; then
		printf 'snmp:\n  agentx: "%s"\n' "$1" >>"$CONF.new"
	fi
	mv -f "$CONF.new" "$CONF"
}

status_json() { http_get "$(np_url /status)" && printf '%s' "$HTTP_BODY"; }
alert_states()
{
	status_json | "$PYTHON3" -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join("%s/%s/%s" % (a["name"], a["labels"]["target"].split(":")[1],
      a["state"]) for a in s["alerts"]))'
}
states_are() { [ "$(alert_states)" = "$1" ]; }
registered() { scrape && [ "$(metric_value netprobe_snmp_agentx_registered)" = "$1" ]; }
count_log() { grep -c -- "$1" "$LOG"; }
rows_of() { walk "$B.1.3" | "$PYTHON3" "$T/walk.py" "$B" | "$PYTHON3" -c "
import json, sys; print(len(json.load(sys.stdin)['$1']))"; }
rows_are() { [ "$(rows_of "$2")" = "$1" ]; }

# consistent TABLE: walk, read the daemon, walk again, until both walks
# agree (no probe run or rule evaluation in between); sets GOT and WANT
ORDER='[["loopback","icmp","127.0.0.1","success"],["platform","tcp","127.0.0.1:16212","success"],["platform","tcp","127.0.0.1:16213","refused"],["retired","tcp","127.0.0.1:16214","refused"]]'
consistent()
{
	local w1 w2 body

	w1=$(walk "$B.1" | "$PYTHON3" "$T/walk.py" "$B") || return 1
	if [ "$1" = alerts ]; then
		body=$(status_json) || return 1
		WANT=$("$PYTHON3" "$T/status.py" <<<"$body") || return 1
	else
		scrape || return 1
		WANT=$("$PYTHON3" "$T/metrics.py" "$ORDER" <<<"$METRICS") ||
		    return 1
	fi
	w2=$(walk "$B.1" | "$PYTHON3" "$T/walk.py" "$B") || return 1
	[ "$w1" = "$w2" ] || return 1
	GOT=$("$PYTHON3" -c "import json, sys
print(json.dumps(json.loads(sys.argv[1])['$1'], ensure_ascii=False))" "$w1")
	[ "$GOT" = "$WANT" ]
}
show_diff() { diag "walk:     $GOT" "expected: $WANT"; }

# ---- 1. netprobed first: no master yet --------------------------------------

start_tcp_listener 127.0.0.1 "$UP_PORT" || bail_out "no listener on $UP_PORT"
write_conf "tcp:127.0.0.1:$AX_PORT"
start_netprobed "$CONF" "$LOG" || bail_out "netprobed did not start"
pass "netprobed starts and serves HTTP while no master agent listens"
wait_for 15 states_are "PathDown/16213/firing PathDown/16214/firing PathDownLong/16213/pending PathDownLong/16214/pending"
ok $? "the rules fire meanwhile: two PathDown firing, two PathDownLong pending" ||
	diag "alerts: $(alert_states)"
# several retries (0.5, 1, 2, 4 s) have failed by now, one line said so
is "$(count_log "agentx: master agent at tcp:127.0.0.1:$AX_PORT unavailable: connect: Connection refused; retrying")" 1 \
    "the unavailable master is logged once, not once per retry" || diag_file "$LOG"
scrape
is "$(metric_value netprobe_snmp_agentx_registered)" 0 "netprobe_snmp_agentx_registered 0"

# ---- 2. snmpd appears: registration, the tables ------------------------------

start_snmpd || bail_out "snmpd did not start"
wait_for 15 rows_are 4 probes
ok $? "once snmpd runs the sub-agent registers: 4 rows in npProbeTable" ||
	{ diag "$(walk "$B")"; diag_file "$LOG"; diag_file "$T/snmpd.1.log"; }
like "$(cat "$LOG")" "agentx: registered with the master agent at tcp:127.0.0.1:$AX_PORT \(session [0-9]+\): npAlertTable $B\.1\.2, npProbeTable $B\.1\.3" \
    "the registration is logged with both subtrees"
wait_for 5 registered 1
ok $? "netprobe_snmp_agentx_registered 1"

wait_for 15 consistent probes
ok $? "npProbeTable matches /metrics: name, type, target, last result, duration, success ratio, runs" ||
	show_diff
wait_for 15 consistent alerts
ok $? "npAlertTable matches /status: 2 firing, 2 pending, in /status order" ||
	show_diff

# the path to 16213 comes up: its PathDown resolves, its pending one goes
start_tcp_listener 127.0.0.1 "$LATE_PORT" || bail_out "no listener on $LATE_PORT"
wait_for 15 states_are "PathDown/16213/resolved PathDown/16214/firing PathDownLong/16214/pending"
ok $? "the path comes up: PathDown{16213} resolved" || diag "alerts: $(alert_states)"
wait_for 15 consistent alerts
ok $? "npAlertTable shows resolved(4), firing(3), pending(2) as /status does" ||
	show_diff
like "$GOT" '"127.0.0.1:16214 路径中断 \(0\)"' "the Chinese summary arrives intact (UTF-8)"
like "$GOT" '"\{alertname=\\"PathDown\\", probe=\\"retired\\", severity=\\"critical\\", target=\\"127.0.0.1:16214\\", type=\\"tcp\\"\}"' \
    "npAlertEntryLabels carries every label"
ORDER=${ORDER/16213\",\"refused/16213\",\"success}
wait_for 15 consistent probes
ok $? "npProbeTable follows: the platform's second target is success now" ||
	show_diff

# what a manager with NETPROBE-MIB loaded prints (net-snmp's own MIBs for
# NET-SNMP-MIB, the test stubs for SNMPv2-*)
NSMIBS=${NSMIBS:-/usr/share/snmp/mibs}
if [ -r "$top_srcdir/daemon/NETPROBE-MIB.txt" ] && [ -r "$NSMIBS/NET-SNMP-MIB.txt" ]; then
	named=$(snmpwalk -v2c -c public -t 1 -r 1 -m NETPROBE-MIB \
	    -M "$top_srcdir/tests/mibstub:$NSMIBS:$top_srcdir/daemon" \
	    "127.0.0.1:$SNMP_PORT" "$B.1" 2>&1)
	like "$named" '^NETPROBE-MIB::npAlertEntryState\.1 = INTEGER: resolved\(4\)$' \
	    "with the MIB: npAlertEntryState.1 = resolved(4)" || diag "$named"
	like "$named" '^NETPROBE-MIB::npAlertEntrySummary\.2 = STRING: 127\.0\.0\.1:16214 路径中断 \(0\)$' \
	    "with the MIB: the Chinese summary prints as text (DISPLAY-HINT 1024t)"
	like "$named" '^NETPROBE-MIB::npProbeName\.1 = STRING: loopback$' \
	    "with the MIB: npProbeName.1 = loopback"
	like "$named" '^NETPROBE-MIB::npProbeLastResult\.4 = INTEGER: refused\(3\)$' \
	    "with the MIB: npProbeLastResult.4 = refused(3)"
	like "$named" '^NETPROBE-MIB::npProbeSuccessRatio\.2 = Gauge32: 1000 per mille$' \
	    "with the MIB: npProbeSuccessRatio.2 = 1000 per mille"
else
	skip "no NETPROBE-MIB or NET-SNMP-MIB to load" "the walk with the MIB loaded"
fi

# ---- 3. Get, GetNext, GetBulk, Set --------------------------------------------

out=$(snmpget "${SNMP[@]}" "$B.1.3.1.2.4" "$B.1.3.1.5.4" "$B.1.3.1.2.5" "$B.1.3.1.1.1" "$B.1.3.1.9.1" 2>&1)
like "$out" "^\.$B\.1\.3\.1\.2\.4 = Hex-STRING: 72 65 74 69 72 65 64 \$" "Get: row 4's name is \"retired\""
like "$out" "^\.$B\.1\.3\.1\.5\.4 = INTEGER: 3\$" "Get: its last result is refused(3)"
like "$out" "^\.$B\.1\.3\.1\.2\.5 = No Such Instance" "Get: row 5 is noSuchInstance"
like "$out" "^\.$B\.1\.3\.1\.1\.1 = No Such Object" "Get: the index column is not readable (noSuchObject)"
like "$out" "^\.$B\.1\.3\.1\.9\.1 = No Such Object" "Get: column 9 is noSuchObject"
like "$(snmpgetnext "${SNMP[@]}" "$B.1.2" 2>&1)" "^\.$B\.1\.2\.1\.2\.1 = " \
    "GetNext of the alert table: its first cell"
like "$(snmpgetnext "${SNMP[@]}" "$B.1.2.1.8.3" 2>&1)" "^\.$B\.1\.3\.1\.2\.1 = " \
    "GetNext of the last alert cell: the first probe cell"
last=$(snmpgetnext "${SNMP[@]}" "$B.1.3.1.8.4" 2>&1)
unlike "$last" "^\.$B\." "GetNext of the last probe cell leaves our subtree" || diag "$last"
# values move as probes run: compare the OIDs
oids() { grep "^\.$B\." | sed 's/ = .*//'; }
w=$(walk "$B" | oids)
bw=$(snmpbulkwalk "${SNMP[@]}" -Cr7 "$B" 2>&1 | oids)
is "$bw" "$w" "snmpbulkwalk gives the same cells as snmpwalk"
is "$(grep -c . <<<"$w")" $((7 * 3 + 7 * 4)) "49 cells: 7 columns x (3 alerts + 4 probes)"
out=$(snmpset -v2c -c private -t 1 -r 0 127.0.0.1:$SNMP_PORT "$B.1.3.1.2.1" s x 2>&1)
like "$out" "notWritable" "Set is refused: notWritable" || diag "$out"
scrape
cmp_ok "$(metric_value netprobe_snmp_agentx_requests_total pdu=getnext)" '>' 0 \
    "netprobe_snmp_agentx_requests_total{pdu=\"getnext\"} counts"
cmp_ok "$(metric_value netprobe_snmp_agentx_requests_total pdu=set)" '>=' 1 \
    "netprobe_snmp_agentx_requests_total{pdu=\"set\"} counts the refused Set"

# ---- 4. reloads ----------------------------------------------------------------

write_conf "tcp:127.0.0.1:$AX_PORT" "  - name: extra
    type: tcp
    targets: [\"127.0.0.1:$UP_PORT\"]"
kill -HUP "$NETPROBED_PID"
wait_for 10 rows_are 5 probes
ok $? "a reload that adds a probe adds its row" || diag "$(walk "$B.1.3")"
is "$(count_log "agentx: registered")" 1 "the reload kept the session: registered once so far"
is "$(walk "$B.1.3.1.2.5" | sed 's/.*= //')" "Hex-STRING: 65 78 74 72 61 " "row 5 is the new probe \"extra\""

write_conf "unix:$T/agentx.sock"
kill -HUP "$NETPROBED_PID"
wait_for 10 grep -q "agentx: registered with the master agent at unix:$T/agentx.sock" "$LOG"
ok $? "a reload to another master (a unix socket) registers there" || diag_file "$LOG"
wait_for 10 rows_are 4 probes
ok $? "and serves the tables from there"

# ---- 5. snmpd restarts -----------------------------------------------------------

stop_pid "$SNMPD_PID"
wait_for 10 grep -qE "agentx: lost the master agent at unix:$T/agentx.sock: the master closed the (connection|session)" "$LOG"
ok $? "snmpd stopping is logged: lost the master, reconnecting" || diag_file "$LOG"
wait_for 5 registered 0
ok $? "netprobe_snmp_agentx_registered 0 while the master is gone"
http_get "$(np_url /healthz)"
is "$HTTP_CODE" 200 "netprobed keeps running without its master"
rm -f "$T/agentx.sock"
start_snmpd || bail_out "snmpd did not restart"
wait_for 15 rows_are 4 probes
ok $? "snmpd restarted: the sub-agent re-registers and the tables are back" ||
	diag_file "$LOG"
is "$(count_log "agentx: registered")" 3 "registered: at first, after the move, after the restart"

# ---- 6. a master that accepts but never answers ------------------------------------

write_conf "tcp:127.0.0.1:$AX_PORT"
stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed stops cleanly (a Close to the master first)"
: >"$LOG.2"
kill -STOP "$SNMPD_PID"
LOG=$LOG.2
start_netprobed "$CONF" "$LOG" || bail_out "netprobed did not restart"
# /healthz, timed, every 100 ms until the Open times out
MAX_MS=0
fast_until_timeout()
{
	local t

	t=$(curl -s -o /dev/null --max-time 3 -w '%{time_total}' "$(np_url /healthz)")
	t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000 }')
	[ "$t" -gt "$MAX_MS" ] && MAX_MS=$t
	grep -q "no answer to Open within 5 s" "$LOG"
}
wait_for 15 fast_until_timeout
ok $? "the stopped master never answers Open: given up after 5 s" || diag_file "$LOG"
# (a loop blocked on the Open would hold /healthz for up to its 5 s; the
# bound leaves room for a loaded machine's scheduling, which a max over
# some seventy requests meets sooner or later)
cmp_ok "$MAX_MS" '<' 2000 "/healthz answered within 2 s all along (the loop never blocked; max ${MAX_MS} ms)"
is "$(count_log "agentx: master agent at tcp:127.0.0.1:$AX_PORT unavailable")" 1 "logged once"
kill -CONT "$SNMPD_PID"
wait_for 15 rows_are 4 probes
ok $? "the master runs again: the sub-agent registers" || diag_file "$LOG"

# ---- 7. agentx removed by a reload ----------------------------------------------------

write_conf ""
kill -HUP "$NETPROBED_PID"
wait_for 10 grep -q "agentx: stopped (master agent at tcp:127.0.0.1:$AX_PORT)" "$LOG"
ok $? "a reload without snmp.agentx stops the sub-agent" || diag_file "$LOG"
no_rows() { ! walk "$B" | grep -q "^\.$B\."; }
wait_for 10 no_rows
ok $? "its Close unregistered the tables at the master" || diag "$(walk "$B")"
scrape
is "$(metric_lines netprobe_snmp_agentx_registered)" "" "and its series are gone from /metrics"

stop_pid "$SNMPD_PID"

# ---- 8. a master that says no, and sends garbage ------------------------------------

cat >"$T/fake_master.py" <<'END_PY'
# A scripted AgentX master (RFC 2741): one step per connection; prints
# what the sub-agent did as JSON lines.
import json, socket, struct, sys, time
port, base, ready = int(sys.argv[1]), [int(x) for x in sys.argv[2].split(".")], sys.argv[3]
RESPONSE, OPEN, CLOSE, GET, GETBULK, TESTSET, CLEANUPSET = 18, 1, 2, 5, 7, 8, 11

def oid(sub, include=0, e=">", compress=False):
    prefix = 0
    if compress and sub[:4] == [1, 3, 6, 1] and 0 < sub[4] < 256:
        prefix, sub = sub[4], sub[5:]
    return struct.pack(e + "BBBB", len(sub), prefix, include, 0) + \
        b"".join(struct.pack(e + "I", x) for x in sub)

def pdu(t, sess, pkt, payload, e=">", flags=0, version=1):
    flags |= 0x10 if e == ">" else 0
    return struct.pack(e + "BBBBIIII", version, t, flags, 0, sess, 0, pkt,
                       len(payload)) + payload

def recvn(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x:
            return None
        b += x
    return b

def recv(c):
    h = recvn(c, 20)
    if h is None:
        return None
    e = ">" if h[2] & 0x10 else "<"
    v, t, f, _, sess, trans, pkt, n = struct.unpack(e + "BBBBIIII", h)
    return {"type": t, "sess": sess, "trans": trans, "pkt": pkt,
            "payload": recvn(c, n), "e": e}

def reply(c, req, sess, error=0):
    c.sendall(pdu(RESPONSE, sess, req["pkt"], struct.pack(">IHH", 0, error, 0)))

def read_oid(p, off, e):
    n, prefix, inc, _ = struct.unpack_from(e + "BBBB", p, off)
    sub = ([1, 3, 6, 1, prefix] if prefix else []) + \
        list(struct.unpack_from(e + "%dI" % n, p, off + 4))
    return ".".join(map(str, sub)), off + 4 + 4 * n

def response(m):
    """error, index, [(type, name)] of a Response from the sub-agent"""
    p, e = m["payload"], m["e"]
    up, err, idx = struct.unpack_from(e + "IHH", p, 0)
    off, vbs = 8, []
    while off < len(p):
        t, _ = struct.unpack_from(e + "HH", p, off)
        name, off = read_oid(p, off + 4, e)
        if t in (2, 65, 66, 67):
            off += 4
        elif t == 70:
            off += 8
        elif t in (4, 64, 68):
            n, = struct.unpack_from(e + "I", p, off)
            off += 4 + n + (4 - n % 4) % 4
        vbs.append((t, name))
    return err, idx, vbs

def expect_eof(c):
    c.settimeout(8)
    try:
        return recv(c) is None
    except (ConnectionResetError, socket.timeout):
        return False

def opened(c, sess, reg_error=0):
    o = recv(c)
    assert o["type"] == OPEN, o
    descr_len, = struct.unpack_from(o["e"] + "I", o["payload"],
        4 + 4 + 4 * o["payload"][4])
    reply(c, o, sess)
    regs = [recv(c), recv(c)]
    subtrees = [read_oid(r["payload"], 4, r["e"])[0] for r in regs]
    reply(c, regs[0], sess)
    reply(c, regs[1], sess, reg_error)
    return subtrees, [r["payload"][1] for r in regs]

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(4)
s.settimeout(20)
open(ready, "w").close()
B = ".".join(map(str, base))

# 1: the Open is refused
c, _ = s.accept()
o = recv(c)
print(json.dumps({"step": "open", "type": o["type"], "sess": o["sess"],
    "id": read_oid(o["payload"], 4, o["e"])[0]}), flush=True)
reply(c, o, 0, 256)                          # openFailed
print(json.dumps({"step": "openFailed", "closed": expect_eof(c)}), flush=True)
c.close()

# 2: the second Register is refused
c, _ = s.accept()
subtrees, prio = opened(c, 77, 263)          # duplicateRegistration
print(json.dumps({"step": "register", "subtrees": subtrees,
    "priority": prio}), flush=True)
print(json.dumps({"step": "duplicate", "closed": expect_eof(c)}), flush=True)
c.close()

# 3: registered; requests good and bad
c, _ = s.accept()
opened(c, 78)
out = {}
bulk = struct.pack("<HH", 0, 3) + oid(base + [1, 3], 0, "<", True) + oid([], 0, "<")
c.sendall(pdu(GETBULK, 78, 1001, bulk, "<"))
r = recv(c)
out["getbulk"] = [r["pkt"], r["e"]] + list(response(r))
bad = struct.pack(">BBBB", 200, 0, 0, 0) + b"\0" * 8
c.sendall(pdu(GET, 78, 1002, bad))
r = recv(c)
out["malformed"] = [r["pkt"]] + list(response(r))
c.sendall(pdu(GET, 99, 1003, oid(base + [1, 3, 1, 2, 1]) + oid([])))
r = recv(c)
out["wrong_session"] = [r["pkt"]] + list(response(r))
vb = struct.pack(">HH", 4, 0) + oid(base + [1, 3, 1, 2, 1]) + struct.pack(">I", 0)
c.sendall(pdu(TESTSET, 78, 1004, vb))
r = recv(c)
out["testset"] = [r["pkt"]] + list(response(r))
c.sendall(pdu(CLEANUPSET, 78, 1005, b""))                # no answer
c.sendall(pdu(RESPONSE, 78, 4242, struct.pack(">IHH", 0, 0, 0)))  # stale
c.sendall(pdu(GET, 78, 1006, oid(base + [1, 3, 1, 3, 1]) + oid([])))
r = recv(c)
out["after"] = [r["pkt"]] + list(response(r))
print(json.dumps({"step": "requests", **out}), flush=True)
c.sendall(pdu(GET, 78, 1007, b"", version=2))            # unusable header
print(json.dumps({"step": "badheader", "closed": expect_eof(c)}), flush=True)
c.close()

# 4: the master closes the session
c, _ = s.accept()
opened(c, 79)
c.sendall(pdu(CLOSE, 79, 1008, struct.pack(">BBBB", 6, 0, 0, 0)))
print(json.dumps({"step": "close", "closed": expect_eof(c)}), flush=True)
c.close()

# 5: pings every 10 s; the first answered, the second not
c, _ = s.accept()
opened(c, 80)
c.settimeout(15)
t0 = time.monotonic()
p1 = recv(c)
t1 = time.monotonic()
reply(c, p1, 80)
p2 = recv(c)
t2 = time.monotonic()
closed = expect_eof(c)
t3 = time.monotonic()
print(json.dumps({"step": "ping", "types": [p1["type"], p2["type"]],
    "sess": [p1["sess"], p2["sess"]], "first": round(t1 - t0),
    "second": round(t2 - t1), "closed": closed,
    "after": round(t3 - t2)}), flush=True)
c.close()
END_PY

rm -f "$T/fake.ready"
"$PYTHON3" "$T/fake_master.py" "$FAKE_PORT" "$B" "$T/fake.ready" \
    >"$T/fake.out" 2>"$T/fake.err" </dev/null &
FAKE_PID=$!
register_pid "$FAKE_PID"
wait_for 10 test -e "$T/fake.ready" || bail_out "the scripted master did not start"
write_conf "tcp:127.0.0.1:$FAKE_PORT"
kill -HUP "$NETPROBED_PID"
wait_for 80 pid_gone "$FAKE_PID"
ok $? "the scripted master ran its five connections" ||
	{ diag_file "$T/fake.err"; diag_file "$T/fake.out"; diag_file "$LOG"; }
step() { grep "\"step\": \"$1\"" "$T/fake.out"; }
is "$(step open)" "{\"step\": \"open\", \"type\": 1, \"sess\": 0, \"id\": \"$B\"}" \
    "Open: session 0, o.id is the MIB's base"
is "$(step openFailed)" '{"step": "openFailed", "closed": true}' \
    "an Open refused with openFailed: the sub-agent hangs up"
is "$(step register)" "{\"step\": \"register\", \"subtrees\": [\"$B.1.2\", \"$B.1.3\"], \"priority\": [127, 127]}" \
    "Register: B.1.2 and B.1.3 at the default priority"
is "$(step duplicate)" '{"step": "duplicate", "closed": true}' \
    "a Register refused with duplicateRegistration: it hangs up"
req=$(step requests)
like "$req" "\"getbulk\": \[1001, \">\", 0, 0, \[\[4, \"$B.1.3.1.2.1\"\], \[4, \"$B.1.3.1.2.2\"\], \[4, \"$B.1.3.1.2.3\"\]\]\]" \
    "GetBulk in little-endian with prefix-compressed OIDs: three names (the answer in network order, flagged)"
like "$req" '"malformed": \[1002, 266, 0, \[\]\]' "a malformed Get: parseError, same packet id"
like "$req" '"wrong_session": \[1003, 257, 0, \[\]\]' "a Get for another session: notOpen"
like "$req" '"testset": \[1004, 17, 1, \[\]\]' "TestSet: notWritable at index 1"
like "$req" "\"after\": \[1006, 0, 0, \[\[4, \"$B.1.3.1.3.1\"\]\]\]" \
    "CleanupSet and a stale Response get no answer; the next Get does"
is "$(step badheader)" '{"step": "badheader", "closed": true}' \
    "a PDU header it cannot frame: it hangs up"
is "$(step close)" '{"step": "close", "closed": true}' \
    "a Close from the master: it hangs up"
is "$(step ping)" '{"step": "ping", "types": [13, 13], "sess": [80, 80], "first": 10, "second": 10, "closed": true, "after": 5}' \
    "Ping every 10 s in the session; unanswered, it hangs up 5 s later"
for line in \
    "unavailable: the master refused the session: openFailed (256)" \
    "unavailable: the master refused to register B.1.3: duplicateRegistration" \
    "malformed PDU from the master: OID longer than 128 sub-identifiers" \
    "lost the master agent at tcp:127.0.0.1:$FAKE_PORT: unusable PDU header from the master" \
    "lost the master agent at tcp:127.0.0.1:$FAKE_PORT: the master closed the session (reason 6)" \
    "lost the master agent at tcp:127.0.0.1:$FAKE_PORT: no answer to a ping within 5 s"; do
	like "$(cat "$LOG")" "agentx: .*${line//[()]/.}" "logged: $line"
done
http_get "$(np_url /healthz)"
is "$HTTP_CODE" 200 "netprobed runs on through all of it"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed stops cleanly"
done_testing
