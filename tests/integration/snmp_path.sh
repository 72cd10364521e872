#!/usr/bin/env bash
#
# SNMP informs across a broken path (issue 5), against a daemon running
# in a namespace, with the MIB moved to a bureau's own enterprise number:
#  1. the router between netprobed and its manager loses its link toward
#     the manager (netprobed's own link stays up): the alert transitions
#     made meanwhile wait in the inform queue (netprobe_snmp_queue_length
#     counts them, the unanswered attempts are counted as timeout, the
#     manager is down); once the link is back every transition arrives
#     exactly once and in order (npSequence 1, 2, 3... no gap, no repeat),
#     the queue drains, the acknowledged informs counted are the ones
#     snmptrapd logged, and nothing is dropped;
#  2. snmp.base_oid is not the default: NETPROBE-MIB is edited as its
#     DESCRIPTION and README's "Your own enterprise number" say
#     ({ enterprises 99999 }), snmptrapd loads that copy and prints the
#     daemon's notifications and varbinds by name (Chinese intact), and
#     nothing under the default base 1.3.6.1.4.1.8072.9999.9999.7457
#     appears;
#  3. netprobed exits 0 on SIGTERM (its netprobeDaemonStopping arrives
#     last) and logs no warning or error.
# The manager is SNMPv3 authPriv (SHA-256/AES), inform, passphrases in
# files (mode 600).
#
#   npsp-PID-a                  npsp-PID-r (router)          npsp-PID-m
#   netprobed                   ip_forward=1                 snmptrapd
#   vAR 10.81.0.1/24 ---veth--- vRA 10.81.0.2/24
#                               vRM 10.82.0.1/24 ---veth---  vMR 10.82.0.2/24
#   10.82.0.0/24 via 10.81.0.2                               10.81.0.0/24 via 10.82.0.1
#   lo: tcp listener 19762
#   (the probe's target)        the cut: vRM down
#
# Ports: 19760 (netprobed's HTTP, on A's loopback), 19761 (snmptrapd,
# udp, on 10.82.0.2 in M), 19762 (the tcp listener on A's loopback).
# Traffic stays inside these namespaces, all deleted at exit.

# shellcheck disable=SC2317,SC2015 # functions polled through wait_for; A && B || bail_out
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
[ "$(id -u)" = 0 ] || skip_all "network namespaces need root"
command -v ip >/dev/null || skip_all "no ip (package iproute2)"
[ -x "$SNMPTRAPD" ] || skip_all "no snmptrapd (package snmptrapd)"
[ -n "$PYTHON3" ] || skip_all "no python3"

T=$TAP_TMPDIR
SRC=$(cd "$top_srcdir" && pwd)
NP_PORT=19760
TRAP_PORT=19761
SVC_PORT=19762
A="npsp-$$-a"
R="npsp-$$-r"
M="npsp-$$-m"
MGR=10.82.0.2
BASE=1.3.6.1.4.1.99999		# the test bureau's enterprise number
DEFAULT_BASE=1.3.6.1.4.1.8072.9999.9999.7457
M_EID=0x80001f8880aabbccddeeff0042	# snmptrapd's engine ID
LOG=$T/netprobed.log
TLOG=$T/trapd.log

# ---- the topology ------------------------------------------------------------

ip netns add "$A" 2>"$T/ns.err" || skip_all "ip netns add failed: $(cat "$T/ns.err")"
on_exit "ip netns del '$A'"
ip netns add "$R" || bail_out "ip netns add $R failed"
on_exit "ip netns del '$R'"
ip netns add "$M" || bail_out "ip netns add $M failed"
on_exit "ip netns del '$M'"
{
	for ns in "$A" "$R" "$M"; do
		ip -n "$ns" link set lo up || exit 1
	done
	ip -n "$A" link add vAR type veth peer name vRA netns "$R" &&
	ip -n "$R" link add vRM type veth peer name vMR netns "$M" &&
	ip -n "$A" addr add 10.81.0.1/24 dev vAR &&
	ip -n "$R" addr add 10.81.0.2/24 dev vRA &&
	ip -n "$R" addr add 10.82.0.1/24 dev vRM &&
	ip -n "$M" addr add "$MGR/24" dev vMR &&
	ip -n "$A" link set vAR up && ip -n "$R" link set vRA up &&
	ip -n "$R" link set vRM up && ip -n "$M" link set vMR up &&
	ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 &&
	ip -n "$A" route add 10.82.0.0/24 via 10.81.0.2 &&
	ip -n "$M" route add 10.81.0.0/24 via 10.82.0.1
} 2>"$T/ns.err" || { diag_file "$T/ns.err"; bail_out "cannot build the topology"; }

# ---- the bureau's MIB: NETPROBE-MIB moved under enterprises.99999 --------------

# As the MODULE-IDENTITY DESCRIPTION says: the value after ::= becomes
# { enterprises 99999 }, and enterprises (from SNMPv2-SMI) replaces
# netSnmpPlaypen (from NET-SNMP-MIB) in IMPORTS.  Alone in its folder:
# net-snmp indexes every file of a MIB directory.
mkdir -p "$T/mibs" "$T/snmpconf" "$T/trapd.persist/cert_indexes"
sed -e 's/^    Counter32, Counter64, Unsigned32$/&, enterprises/' \
    -e '/^    netSnmpPlaypen$/d' -e '/^        FROM NET-SNMP-MIB;$/d' \
    -e 's/^        FROM SNMPv2-CONF$/&;/' \
    -e 's/^    ::= { netSnmpPlaypen 7457 }$/    ::= { enterprises 99999 }/' \
    "$SRC/daemon/NETPROBE-MIB.txt" >"$T/mibs/NETPROBE-MIB.txt" ||
	bail_out "cannot copy NETPROBE-MIB.txt"
grep -q '^    ::= { enterprises 99999 }$' "$T/mibs/NETPROBE-MIB.txt" &&
    ! grep -q -e '^    netSnmpPlaypen$' -e '^        FROM NET-SNMP-MIB' "$T/mibs/NETPROBE-MIB.txt" ||
	bail_out "the edit of NETPROBE-MIB.txt did not apply (its MODULE-IDENTITY changed?)"

# ---- snmptrapd in M: v3 authPriv informs, OIDs by name ---------------------------

cat >"$T/trapd.conf" <<END
exactEngineID $M_EID
doNotRetainNotificationLogs yes
createUser nppath SHA-256 authpass-path1 AES privpass-path1
authUser log nppath priv
format2 TRAP %.4y-%.2m-%.2l %.2h:%.2j:%.2k from=%b sec=[%P] %V| %v\\n
END
# -C: no snmp.conf of the machine (Debian's turns MIB loading off);
# without -On: OIDs by name, from the bureau's MIB and the base stubs
SNMP_PERSISTENT_DIR=$T/trapd.persist SNMPCONFPATH=$T/snmpconf \
    ip netns exec "$M" "$SNMPTRAPD" -f -C -c "$T/trapd.conf" \
    -M "$T/mibs:$SRC/tests/mibstub" -m NETPROBE-MIB -Lf "$TLOG" \
    "udp:$MGR:$TRAP_PORT" </dev/null >"$T/trapd.err" 2>&1 &
TRAPD_PID=$!
register_pid "$TRAPD_PID"
trapd_up() { pid_gone "$TRAPD_PID" || ip netns exec "$M" ss -Hlun "src $MGR:$TRAP_PORT" | grep -q .; }
wait_for 10 trapd_up
pid_alive "$TRAPD_PID" || { diag_file "$T/trapd.err"; diag_file "$TLOG"; bail_out "snmptrapd did not start in $M"; }

# notes EXPR: Python EXPR over r, every notification snmptrapd logged,
# oldest first: trap(x) is its name in NETPROBE-MIB ("?" if it has none),
# var(x, NAME) the value of NETPROBE-MIB::NAME.0 (a number for counters),
# x["sec"] "PDU, VERSION, USER", x["keys"] every varbind as printed
notes()
{
	"$PYTHON3" -c '
import re, sys
r = []
with open(sys.argv[2], encoding="utf-8", errors="replace") as f:
    text = f.read()
for chunk in re.split(r"(?m)^TRAP ", text)[1:]:
    m = re.match(r"\S+ \S+ from=(.*?) sec=\[(.*?)\] (.*)", chunk, re.S)
    if not m:
        continue
    x = {"sec": m.group(2), "keys": [], "v": {}}
    for vb in m.group(3).rstrip("\n").split("| "):
        k, sep, v = vb.strip().partition(" = ")
        if sep:
            x["keys"].append(k)
            x["v"][k] = v.split(": ", 1)[-1]
    r.append(x)
def trap(x):
    t = x["v"].get(x["keys"][1], "") if len(x["keys"]) > 1 else ""
    return t[len("NETPROBE-MIB::"):] if t.startswith("NETPROBE-MIB::") else "?"
def var(x, n):
    v = x["v"].get("NETPROBE-MIB::%s.0" % n)
    return int(v) if v is not None and v.isdigit() else v
print(eval(sys.argv[1]))' "$1" "$TLOG"
}
logged() { [ "$(notes 'len(r)')" -ge "$1" ]; }

# ---- the tcp listener in A (the probe's target) and netprobed ---------------------

printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$A" "$PYTHON3" >"$T/py-a"
chmod +x "$T/py-a"
listener_up() { PYTHON3=$T/py-a start_tcp_listener 127.0.0.1 "$SVC_PORT"; }
listener_up || bail_out "the tcp listener did not start in $A"

mkdir -p "$T/state"
printf 'authpass-path1\n' >"$T/auth.secret"
printf 'privpass-path1\n' >"$T/priv.secret"
chmod 600 "$T/auth.secret" "$T/priv.secret"
cat >"$T/rules.yml" <<'END'
groups:
  - name: path
    rules:
      - alert: PlatformDown
        expr: probe_success{probe="svc"} == 0
        for: 0s
        labels: {severity: critical}
        annotations:
          summary: 平台不可达
          description: 市监管平台连接失败
END
cat >"$T/np.yaml" <<END
site: {name: snmppath, display_name: 金水区}
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 1s, timeout: 500ms, evaluation_interval: 1s}
rule_files: [rules.yml]
probes:
  - {name: svc, type: tcp, target: "127.0.0.1:$SVC_PORT"}
snmp:
  base_oid: $BASE
  state_dir: $T/state
  managers:
    - name: nms
      address: "$MGR:$TRAP_PORT"
      version: "3"
      user: nppath
      auth_protocol: SHA-256
      auth_passphrase_file: $T/auth.secret
      priv_protocol: AES
      priv_passphrase_file: $T/priv.secret
      mode: inform
      engine_id: $M_EID
      queue_size: 100
      timeout: 1s
      retry_max: 1s
END
in_netns "$A"
NETPROBED=$NPW start_netprobed "$T/np.yaml" "$LOG" || bail_out "netprobed did not start in $A"
PID=$NETPROBED_PID

# mval NAME [label=value...]: the value in the last scrape, "none" if absent
mval() { metric_value "$@" || echo none; }
snmp_m() { mval "netprobe_snmp_$1" manager=nms "${@:2}"; }
firing() { scrape && [ "$(mval ALERTS alertname=PlatformDown alertstate=firing)" = 1 ]; }
resolved() { scrape && [ "$(mval probe_success probe=svc)" = 1 ] && ! metric_value ALERTS alertname=PlatformDown; }
drained() { scrape && [ "$(snmp_m queue_length)" = 0 ] && [ "$(snmp_m manager_up)" = 1 ]; }
qlen_is() { scrape && [ "$(snmp_m queue_length)" = "$1" ]; }
show_snmp() { diag "$(metric_lines '*' manager=nms)"; }

# one transition each way: the listener stops (the alert fires), starts
# again (it resolves); both seen in ALERTS
down()
{
	stop_pid "$LISTENER_PID"
	wait_for 10 firing
}
up()
{
	listener_up && wait_for 10 resolved
}

wait_for 10 resolved
ok $? "at the start: the tcp probe succeeds, no alert" ||
	{ diag "$(metric_lines probe_success)" "$(metric_lines ALERTS)"; diag_file "$LOG"; }

# ---- the path up --------------------------------------------------------------

wait_for 15 logged 1
is "$(notes '[trap(x) for x in r]')" "['netprobeDaemonStarted']" \
    "path up: netprobeDaemonStarted arrives at snmptrapd in $M" || diag_file "$TLOG"
down
ok $? "the listener stops: PlatformDown fires (ALERTS)" || diag "$(metric_lines ALERTS)"
wait_for 15 logged 2
is "$(notes '[(trap(x), var(x, "npAlertName")) for x in r][1:]')" \
    "[('netprobeAlertFiring', 'PlatformDown')]" \
    "path up: its firing inform arrives" || diag_file "$TLOG"
up
ok $? "the listener is back: PlatformDown resolves" || diag "$(metric_lines ALERTS)"
wait_for 15 logged 3
wait_for 15 drained
ok $? "path up: the resolved inform is acknowledged, the queue is empty" || show_snmp
acked0=$(snmp_m notifications_total result=acked)
timeout0=$(snmp_m notifications_total result=timeout)
is "$acked0:$timeout0" "3:0" "3 informs acknowledged (started, firing, resolved), no timeout yet" ||
	show_snmp

# ---- the path cut in the middle: the router's link toward M goes down ------------

ip -n "$R" link set vRM down
like "$(ip -n "$A" -o link show vAR)" 'state UP' "the cut is beyond A: its own link vAR stays up"
for i in 1 2 3; do
	down && up
	ok $? "path cut, cycle $i: PlatformDown fires and resolves (ALERTS)" ||
		{ diag "$(metric_lines ALERTS)"; diag_file "$LOG"; }
done
wait_for 10 qlen_is 6
is "$(snmp_m queue_length)" 6 \
    "netprobe_snmp_queue_length{manager=\"nms\"} holds the 6 transitions made during the cut" ||
	show_snmp
timed_out() { scrape && _num_cmp "$(snmp_m notifications_total result=timeout)" '>' "$timeout0"; }
wait_for 10 timed_out
cmp_ok "$(snmp_m notifications_total result=timeout)" '>=' 1 \
    "netprobe_snmp_notifications_total{result=\"timeout\"} counts the unanswered attempts" ||
	show_snmp
is "$(snmp_m manager_up)" 0 "netprobe_snmp_manager_up{manager=\"nms\"} is 0 during the cut"
is "$(snmp_m notifications_total result=acked)" "$acked0" "nothing acknowledged during the cut"
is "$(notes 'len(r)')" 3 "snmptrapd got nothing during the cut" || diag_file "$TLOG"

# ---- the path restored ------------------------------------------------------------

ip -n "$R" link set vRM up
wait_for 30 drained
ok $? "path restored: the queue drains to 0 and the manager is up again" || show_snmp
wait_for 10 logged 9
exp="[(1, 'netprobeDaemonStarted'), (2, 'netprobeAlertFiring'), (3, 'netprobeAlertResolved')"
for s in 4 6 8; do
	exp="$exp, ($s, 'netprobeAlertFiring'), ($((s + 1)), 'netprobeAlertResolved')"
done
exp="$exp]"
is "$(notes '[(var(x, "npSequence"), trap(x)) for x in r]')" "$exp" \
    "every transition arrives exactly once and in order: npSequence 1 to 9, no gap, no repeat" ||
	diag_file "$TLOG" 40
is "$(grep -c 'alert {alertname="PlatformDown".*} firing' "$LOG"):$(grep -c 'alert {alertname="PlatformDown".*} resolved' "$LOG")" \
    "4:4" "the daemon logged the same 4 firing and 4 resolved transitions" || diag_file "$LOG"
scrape
is "$(snmp_m notifications_total result=acked)" "$(notes 'len(r)')" \
    "netprobe_snmp_notifications_total{result=\"acked\"} equals the informs snmptrapd logged" ||
	show_snmp
is "$(snmp_m notifications_total result=dropped):$(snmp_m notifications_total result=error)" "0:0" \
    "no inform dropped, no send error" || show_snmp
# (snmptrapd's authUser ... priv: it takes nothing less than authPriv)
is "$(notes 'sorted(set(x["sec"] for x in r))')" "['INFORM, SNMP v3, user nppath, context ']" \
    "all of them SNMPv3 authPriv informs of user nppath"
is "$(notes 'sorted(set((trap(x), var(x, "npAlertState")) for x in r if var(x, "npAlertName")))')" \
    "[('netprobeAlertFiring', 'firing(3)'), ('netprobeAlertResolved', 'resolved(4)')]" \
    "npAlertState: firing(3) in the firing ones, resolved(4) in the resolved ones"

# ---- by name, under the bureau's base --------------------------------------------

tlog=$(cat "$TLOG")
like "$tlog" "= OID: NETPROBE-MIB::netprobeDaemonStarted([|]|\$)" \
    "snmptrapd prints netprobeDaemonStarted by name"
like "$tlog" "= OID: NETPROBE-MIB::netprobeAlertFiring([|]|\$)" \
    "snmptrapd prints netprobeAlertFiring by name"
like "$tlog" "= OID: NETPROBE-MIB::netprobeAlertResolved([|]|\$)" \
    "snmptrapd prints netprobeAlertResolved by name"
like "$tlog" "[|] NETPROBE-MIB::npAlertName\\.0 = STRING: PlatformDown[|]" \
    "varbinds by name: NETPROBE-MIB::npAlertName.0 = STRING: PlatformDown"
like "$tlog" "[|] NETPROBE-MIB::npAlertSummary\\.0 = STRING: 平台不可达[|]" \
    "Chinese intact: npAlertSummary.0 = STRING: 平台不可达"
like "$tlog" "[|] NETPROBE-MIB::npAlertDescription\\.0 = STRING: 市监管平台连接失败[|]" \
    "Chinese intact: npAlertDescription.0 = STRING: 市监管平台连接失败"
like "$tlog" "[|] NETPROBE-MIB::npSiteDisplayName\\.0 = STRING: 金水区[|]" \
    "Chinese intact: npSiteDisplayName.0 = STRING: 金水区"
is "$(notes 'sorted(set(k.split("::")[0] for x in r for k in x["keys"][2:]))')" \
    "['NETPROBE-MIB']" "every varbind after sysUpTime and snmpTrapOID is a NETPROBE-MIB name"
unlike "$tlog" "${DEFAULT_BASE//./\\.}|8072\\.9999\\.9999\\.7457|netSnmpPlaypen" \
    "nothing under the default base $DEFAULT_BASE"
unlike "$tlog" 'enterprises\.99999|1\.3\.6\.1\.4\.1\.99999' \
    "no OID under $BASE left unnamed (the daemon's OIDs are the MIB's)"
other=$(grep -v -e '^NET-SNMP version ' -e '^TRAP ' "$TLOG")
is "$other" "" "snmptrapd's log has only its banner and the notifications (the MIB loaded cleanly)" ||
	diag_file "$T/trapd.err"

# ---- SIGTERM ---------------------------------------------------------------------

is "$(pid_alive "$PID" && echo alive)" alive "netprobed is still running, same pid"
stop_pid "$PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM" || diag_file "$LOG"
wait_for 10 logged 10
is "$(notes '[(var(x, "npSequence"), trap(x)) for x in r][9:]')" "[(10, 'netprobeDaemonStopping')]" \
    "netprobeDaemonStopping arrives last, by name, npSequence 10" || diag_file "$TLOG"
# the outage is told once, and its end once (info: the metrics alarm)
is "$(grep -c 'snmp manager nms: an inform was not acknowledged; holding informs' "$LOG"):$(grep -c 'snmp manager nms: answering again, [0-9]* informs to deliver' "$LOG")" \
    "1:1" "the log tells the outage once and its end once" || diag_file "$LOG" 40
unlike "$(cat "$LOG")" '(error|warning):' "the daemon log has no warnings or errors" ||
	diag_file "$LOG" 40
unlike "$(cat "$LOG")" '(authpass|privpass)' "no secret in the daemon log"

done_testing
