#!/usr/bin/env bash
#
# SNMP notifications against real snmptrapd on loopback: v2c trap and
# inform, v3 authPriv trap (SHA/AES, our engine) and inform (SHA-256/AES,
# the manager's engine); alert firing and resolved from the rules, daemon
# started/stopping, reload failed, Chinese text intact; a manager outage
# with a small queue: every inform that fit arrives once, in order, the
# dropped ones are counted, and a netprobeNotificationsDropped saying how
# many arrives when the manager is back; filters by severity; tshark
# decodes what was sent without complaint.
#
# Ports: 16200 (snmptrapd A: four managers), 16202 (snmptrapd B: the
# outage), 19585 (netprobed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
SNMPTRAPD=${SNMPTRAPD:-$(command -v snmptrapd || echo /usr/sbin/snmptrapd)}
[ -x "$SNMPTRAPD" ] || skip_all "no snmptrapd (package snmptrapd)"
[ -n "$PYTHON3" ] || skip_all "no python3 to read the trap logs"
LOGREAD=$top_srcdir/tests/peers/trapd_log.py

T=$TAP_TMPDIR
NP_PORT=19585
A_PORT=16200
B_PORT=16202
LOG=$T/netprobed.log
B=1.3.6.1.4.1.8072.9999.9999.7457
OUR_EID=0x80001f88800102030405060708
A_EID=0x80001f8880aabbccddeeff0011

for p in "$NP_PORT"; do
	port_listening "$p" && bail_out "port $p is in use"
done

# start_trapd NAME PORT: snmptrapd with a fresh log $T/NAME.N.log
declare -A TRAPD_PID TRAPD_N
start_trapd()
{
	local name=$1 port=$2 n=$(( ${TRAPD_N[$1]:-0} + 1 ))

	TRAPD_N[$name]=$n
	mkdir -p "$T/$name.persist"
	cat >"$T/$name.conf" <<END
exactEngineID $A_EID
doNotRetainNotificationLogs yes
authCommunity log public
createUser -e $OUR_EID trapuser SHA authpass123 AES privpass123
createUser trapuser256 SHA-256 authpass256 AES privpass256
authUser log trapuser priv
authUser log trapuser256 priv
format2 TRAP %.4y-%.2m-%.2l %.2h:%.2j:%.2k from=%b sec=[%P] %V| %v\\n
END
	SNMP_PERSISTENT_DIR=$T/$name.persist MIBS= "$SNMPTRAPD" -f -On \
	    -Lf "$T/$name.$n.log" -C -c "$T/$name.conf" \
	    "udp:127.0.0.1:$port,udp6:[::1]:$port" </dev/null >/dev/null 2>&1 &
	TRAPD_PID[$name]=$!
	register_pid "${TRAPD_PID[$name]}"
	trapd_up() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
	wait_for 10 trapd_up "$port"
}

# notes NAME PYTHON_EXPR: over r = every notification in NAME's logs
notes()
{
	"$PYTHON3" "$LOGREAD" "$T/$1".*.log | "$PYTHON3" -c '
import json, sys
B = ".'"$B"'"
r = json.load(sys.stdin)
def trap(x): return x["trap"][len(B) + 3:] if x["trap"].startswith(B + ".0.") else "?"
def var(x, n): return x["vars"].get(B + ".1.1.%d.0" % n)
print(eval(sys.argv[1]))' "$2"
}

start_trapd A "$A_PORT" || bail_out "snmptrapd A did not start"
start_trapd B "$B_PORT" || bail_out "snmptrapd B did not start"

cat >"$T/rules.yml" <<'END'
groups:
  - name: g
    rules:
      # 2 s firing, 2 s resolved, and so on: a steady source of transitions
      - alert: Flap
        expr: vector(time()) % 4 < 2
        labels: {severity: warning}
        annotations:
          summary: "翻转 {{ $value }}"
          description: 检查链路
      - alert: Quiet
        expr: vector(1)
        labels: {severity: info}
        annotations: {summary: never sent to the filtered managers}
END
mkdir -p "$T/state"
printf 'authpass256\n' >"$T/auth.secret"
chmod 600 "$T/auth.secret"
cat >"$T/np.yaml" <<END
site: {name: jinshui, display_name: 金水区}
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 1s, timeout: 500ms, evaluation_interval: 1s}
rule_files: [rules.yml]
probes:
  - {name: lo, type: icmp, targets: [127.0.0.1]}
snmp:
  engine_id: $OUR_EID
  state_dir: $T/state
  managers:
    - {name: v2-inform, address: "127.0.0.1:$A_PORT", version: 2c,
       community: public, mode: inform, severities: [warning, critical]}
    - {name: v2-trap, address: "[::1]:$A_PORT", version: 2c,
       community: public, mode: trap, severities: [warning]}
    - {name: v3-trap, address: "127.0.0.1:$A_PORT", version: "3",
       user: trapuser, auth_protocol: SHA, auth_passphrase: authpass123,
       priv_protocol: AES, priv_passphrase: privpass123, mode: trap,
       severities: [warning]}
    - {name: v3-inform, address: "127.0.0.1:$A_PORT", version: "3",
       user: trapuser256, auth_protocol: SHA-256,
       auth_passphrase_file: $T/auth.secret, priv_protocol: AES,
       priv_passphrase: privpass256, mode: inform, engine_id: $A_EID,
       severities: [warning]}
    # (timeout: an acknowledgement later than it makes the inform go
    # again and snmptrapd log it twice, which the "arrives once" checks
    # below would take for a fault: 2s, not less, on a loaded machine)
    - {name: outage, address: "127.0.0.1:$B_PORT", version: 2c,
       community: public, mode: inform, queue_size: 3, timeout: 2s,
       retry_max: 1s, match_labels: {alertname: Flap}}
END

out=$("$NETPROBED" -c "$T/np.yaml" --check-config 2>&1)
is "$?" 0 "the config with five managers passes --check-config" || diag "$out"

# a secret file others can read is refused, naming the file
chmod 644 "$T/auth.secret"
out=$("$NETPROBED" -c "$T/np.yaml" --check-config 2>&1)
like "$out" "auth_passphrase_file': .*auth.secret is readable by others \\(mode 644\\); chmod 600 it" \
    "a passphrase file readable by others is refused"
unlike "$out" 'authpass256' "the secret itself is never printed"
chmod 600 "$T/auth.secret"

# tshark watches what goes to trapd A (16208: a closed canary port)
TSHARK=$(command -v tshark || true)
TSR=(-d "udp.port==$A_PORT,snmp")
TSP=
if [ -n "$TSHARK" ] && [ "$(id -u)" = 0 ]; then
	"$TSHARK" -i lo -f "udp port $A_PORT or udp port 16208" \
	    -w "$T/cap.pcapng" >"$T/tshark.out" 2>"$T/tshark.err" </dev/null &
	TSP=$!
	register_pid "$TSP"
	cap_ready() { grep -q 'Capturing on' "$T/tshark.err" || pid_gone "$TSP"; }
	wait_for 20 cap_ready
	canary_seen()
	{
		echo canary >/dev/udp/127.0.0.1/16208
		[ -n "$("$TSHARK" -r "$T/cap.pcapng" "${TSR[@]}" -Y 'udp.dstport == 16208' 2>/dev/null)" ]
	}
	pid_alive "$TSP" && wait_for 20 canary_seen || TSP=
fi

start_netprobed "$T/np.yaml" "$LOG" || bail_out "netprobed did not start"

# ---- every kind of manager hears the start and the alerts ------------------

started() { [ "$(notes A 'sum(1 for x in r if trap(x) == "5")')" -ge 4 ]; }
wait_for 10 started
ok $? "netprobeDaemonStarted reaches all four managers of trapd A"
like "$(notes A '[x["from"] for x in r if x["pdu"] == "TRAP2" and x["version"] == "SNMP v2c"][0]')" \
    '^UDP/IPv6: \[::1\]' "the v2c trap manager on [::1] gets its traps over IPv6"
is "$(notes A 'sorted(set((x["pdu"], x["version"], x["who"]) for x in r))')" \
    "[('INFORM', 'SNMP v2c', 'community public'), ('INFORM', 'SNMP v3', 'user trapuser256'), ('TRAP2', 'SNMP v2c', 'community public'), ('TRAP2', 'SNMP v3', 'user trapuser')]" \
    "v2c inform, v2c trap, v3 authPriv inform (SHA-256/AES) and trap (SHA/AES) arrive"

fired() { [ "$(notes A 'sum(1 for x in r if trap(x) == "1")')" -ge 4 ] &&
    [ "$(notes A 'sum(1 for x in r if trap(x) == "2")')" -ge 4 ]; }
wait_for 20 fired
ok $? "netprobeAlertFiring and netprobeAlertResolved reach all four" ||
	diag "$(notes A '[(x["pdu"], trap(x)) for x in r]')"
is "$(notes A '[ (var(x,1), var(x,2), var(x,3), var(x,4), var(x,5), var(x,8)) for x in r if trap(x) == "1"][0]')" \
    "('jinshui', '金水区', 'Flap', 'warning', 3, '检查链路')" \
    "a firing alert carries site, display name (UTF-8), name, severity, state firing(3), description"
like "$(notes A '[var(x,7) for x in r if trap(x) == "1"][0]')" '^翻转 [0-9.]+$' \
    "its summary is the expanded template, Chinese intact"
is "$(notes A 'sorted(set(var(x,5) for x in r if trap(x) == "2"))')" "[4]" \
    "resolved notifications say resolved(4)"
is "$(notes A 'sorted(set(len(var(x,11)) for x in r))')" "[22]" \
    "npEventTime is an 11-octet DateAndTime"
is "$(notes A 'sum(1 for x in r if var(x,3) == "Quiet")')" 0 \
    "the severity filters keep the info alert from every manager"
# snmptrapd logs an inform before it acknowledges it: the last one's
# acknowledgement may not have reached netprobed yet
acked3() { scrape && _num_cmp "$(metric_value netprobe_snmp_notifications_total manager=v2-inform result=acked)" '>=' 3; }
wait_for 10 acked3
cmp_ok "$(metric_value netprobe_snmp_notifications_total manager=v2-inform result=acked)" '>=' 3 \
    "netprobe_snmp_notifications_total{result=\"acked\"} counts the v2c informs"
cmp_ok "$(metric_value netprobe_snmp_notifications_total manager=v3-trap result=sent)" '>=' 3 \
    "netprobe_snmp_notifications_total{result=\"sent\"} counts the v3 traps"
is "$(metric_value netprobe_snmp_notifications_total manager=v3-inform result=timeout)" 0 \
    "no v3 inform timed out (the manager's engine ID is configured)"

if [ -n "$TSP" ]; then
	cap_has() { [ "$("$TSHARK" -r "$T/cap.pcapng" "${TSR[@]}" -Y snmp 2>/dev/null | wc -l)" -ge 16 ]; }
	wait_for 10 cap_has
	stop_pid "$TSP"
	npk=$("$TSHARK" -r "$T/cap.pcapng" "${TSR[@]}" -Y snmp 2>/dev/null | wc -l)
	cmp_ok "$npk" '>=' 16 "tshark captured the notifications and acknowledgements ($npk)"
	kinds=$("$TSHARK" -r "$T/cap.pcapng" "${TSR[@]}" -Y 'snmp.version == 1' \
	    -T fields -e snmp.data 2>/dev/null | sort -u | tr '\n' ' ')
	is "$kinds" "2 6 7 " \
	    "tshark: v2c get-response(2), informRequest(6), snmpV2-trap(7)"
	like "$("$TSHARK" -r "$T/cap.pcapng" "${TSR[@]}" -Y 'snmp.msgVersion == 3' -T fields \
	    -e snmp.msgUserName 2>/dev/null | sort -u | tr '\n' ' ')" 'trapuser ' \
	    "tshark: v3 messages from our USM users"
	mal=$("$TSHARK" -r "$T/cap.pcapng" "${TSR[@]}" -Y '_ws.malformed || (snmp && _ws.expert.severity >= "warning")' \
	    2>"$T/tshark-read.err")
	is "$?|$mal" "0|" "tshark: no malformed packet or warning in any SNMP message" ||
		diag_file "$T/tshark-read.err"
else
	skip "no tshark or not root" "tshark captured the notifications"
	skip "no tshark or not root" "tshark: v2c PDUs"
	skip "no tshark or not root" "tshark: v3 messages"
	skip "no tshark or not root" "tshark: no malformed packet"
fi

# every inform manager's sequence: 1, 2, 3... no gap, no repeat
for m in 'INFORM SNMP v2c' 'INFORM SNMP v3'; do
	set -- $m
	seqs=$(notes A "[var(x,12) for x in r if x['pdu'] == '$1' and x['version'] == '$2 $3']")
	is "$("$PYTHON3" -c 'import sys; s = eval(sys.argv[1]); print(s == list(range(1, len(s) + 1)))' "$seqs")" \
	    True "$1 $2 $3: npSequence runs 1, 2, 3... with no gap or repeat"
done

# ---- the outage: trapd B stops, the queue of 3 overflows, B comes back -------

pre=$(notes B 'max(var(x,12) for x in r)')
stop_pid "${TRAPD_PID[B]}"
dropped() { scrape && _num_cmp "$(metric_value netprobe_snmp_notifications_total manager=outage result=dropped)" '>=' 2; }
wait_for 30 dropped
ok $? "with B down, transitions overflow the queue of 3: dropped counted" ||
	diag "$(metric_lines netprobe_snmp_notifications_total manager=outage)"
is "$(metric_value netprobe_snmp_queue_length manager=outage)" 3 \
    "netprobe_snmp_queue_length is at its bound, 3"
is "$(metric_value netprobe_snmp_manager_up manager=outage)" 0 \
    "netprobe_snmp_manager_up{manager=\"outage\"} is 0"
cmp_ok "$(metric_value netprobe_snmp_notifications_total manager=outage result=timeout)" '>=' 1 \
    "the unanswered attempts are counted as timeout"

n0=$(notes B 'len(r)')	# what B got before it stopped
start_trapd B "$B_PORT" || bail_out "snmptrapd B did not restart"
drained() { scrape && [ "$(metric_value netprobe_snmp_queue_length manager=outage)" = 0 ] &&
    [ "$(metric_value netprobe_snmp_manager_up manager=outage)" = 1 ]; }
wait_for 30 drained
ok $? "B back: the queue drains and the manager is up again"
ndrop=$(metric_value netprobe_snmp_notifications_total manager=outage result=dropped)
is "$(notes B 'max(var(x,20) for x in r if trap(x) == "7")')" "$ndrop" \
    "netprobeNotificationsDropped arrives: npDroppedCount, a running total, is $ndrop"
# npSequence numbers what was sent: in order, never repeated; a gap is
# an inform that was sent, never acknowledged, then dropped
seqs=$(notes B '[var(x,12) for x in r]')
is "$("$PYTHON3" -c '
import sys
s, d = eval(sys.argv[1]), int(sys.argv[2])
print(s == sorted(s) and len(s) == len(set(s)), max(s) - len(s) <= d)' "$seqs" "$ndrop")" \
    "True True" "every inform arrives once and in order; gaps only where one was dropped" ||
	diag "sequence at B: $seqs"
# the inform that was being retried arrives first at the restarted B,
# then the summary
is "$(notes B "[trap(x) for x in r[$n0:]][1]")" 7 \
    "once B answers, netprobeNotificationsDropped comes next, before the rest" ||
	diag "after $pre, restarted after $n0: $(notes B '[(var(x,12), trap(x)) for x in r]')"

# ---- a failed reload and the stop are told too --------------------------------

# what the daemon serves shows the managers, never their secrets (one is
# in the config, one in a file)
pages=
for p in /status /metrics /; do
	http_get "$(np_url "$p")"
	pages+="$p $HTTP_CODE"$'\n'"$HTTP_BODY"$'\n'
done
is "$(grep -Ec '^/[a-z]* 200$' <<<"$pages")" 3 "/status, /metrics and / answer 200"
like "$pages" 'manager="v3-inform"' "the v3 manager is on them (its metrics)" ||
	diag "$(head -c 2000 <<<"$pages")"
unlike "$pages" '(authpass|privpass)' \
    "no SNMP passphrase on /status, /metrics or /, from the config or a file"

cp "$T/np.yaml" "$T/np.good"
echo 'probes: [' >>"$T/np.yaml"
kill -HUP "$NETPROBED_PID"
reload_told() { [ "$(notes A 'sum(1 for x in r if trap(x) == "4")')" -ge 4 ]; }
wait_for 10 reload_told
ok $? "netprobeConfigReloadFailed reaches the managers"
like "$(notes A '[var(x,19) for x in r if trap(x) == "4"][0]')" 'np\.yaml:[0-9]+:[0-9]+: ' \
    "npReason is the first error, FILE:LINE:COL"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM"
stopping() { [ "$(notes A 'sum(1 for x in r if trap(x) == "6")')" -ge 2 ]; }
wait_for 5 stopping
ok $? "netprobeDaemonStopping is sent on the way out (traps at least)"
unlike "$(cat "$LOG")" '(authpass|privpass)' "no secret in the log"

# a restart: snmpEngineBoots grows, so the v3 manager accepts our traps
is "$(cat "$T/state/snmp-engine-boots")" 1 "state_dir keeps snmpEngineBoots: 1"
v3_started() { [ "$(notes A 'sum(1 for x in r if trap(x) == "5" and x["who"] == "user trapuser")')" = "$1" ]; }
cp "$T/np.good" "$T/np.yaml"
start_netprobed "$T/np.yaml" "$T/np2.log" || bail_out "netprobed did not restart"
wait_for 10 v3_started 2
ok $? "after a restart the v3 manager still accepts our traps (engineBoots 2)"
is "$(cat "$T/state/snmp-engine-boots")" 2 "snmpEngineBoots is now 2"
stop_pid "$NETPROBED_PID"

done_testing
