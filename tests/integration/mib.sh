#!/usr/bin/env bash
#
# daemon/NETPROBE-MIB.txt, the MIB a bureau loads into its SNMP managers,
# against the shared spec (notes/snmp-spec.md, issue 5):
#  1. smilint (smitools) reports nothing, with the small stub base modules
#     of tests/mibstub and net-snmp's own NET-SNMP-MIB (TOOLCHAIN.md
#     section 4), and libsmi sees exactly the spec's nodes;
#  2. net-snmp reads it: every node has the spec's OID, syntax (TC, size,
#     enumeration, range), units, access, index and notification objects;
#  3. a real snmptrapd with the MIB loaded prints each of the seven
#     notifications, sent by number with the spec's varbinds as netprobed
#     sends them, by name, with Chinese UTF-8 text intact and the
#     DateAndTime values as dates;
#  4. tshark decodes those PDUs, captured on lo, with no malformed packet
#     and no error expert info.
#
# Traffic goes only to 127.0.0.1.  Port: UDP 16209 (snmptrapd).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

T=$TAP_TMPDIR
SRC=$(cd "$top_srcdir" && pwd)
MIB=$SRC/daemon/NETPROBE-MIB.txt
STUBS=$SRC/tests/mibstub
# net-snmp's own MIBs (Debian: libsnmp-base): NETPROBE-MIB imports
# netSnmpPlaypen from NET-SNMP-MIB
NSMIBS=${NSMIBS:-/usr/share/snmp/mibs}
PORT=16209
B=1.3.6.1.4.1.8072.9999.9999.7457	# the default base, netSnmpPlaypen.7457

SMILINT=$(command -v smilint || true)
SMIDUMP=$(command -v smidump || true)
SNMPTRANSLATE=$(command -v snmptranslate || true)
SNMPTRAP=$(command -v snmptrap || true)
SNMPTRAPD=$(command -v snmptrapd || { [ -x /usr/sbin/snmptrapd ] &&
    echo /usr/sbin/snmptrapd; } || true)
TSHARK=${TSHARK-$(command -v tshark || true)}	# TSHARK= skips the capture

[ -r "$MIB" ] || bail_out "no MIB at $MIB"
[ -r "$NSMIBS/NET-SNMP-MIB.txt" ] ||
	skip_all "no $NSMIBS/NET-SNMP-MIB.txt (apt-get install libsnmp-base)"

# skip_each REASON DESC...: one skip per planned assertion
skip_each()
{
	local why=$1 d

	shift
	for d in "$@"; do
		skip "$why" "$d"
	done
}

# net-snmp: no /var/lib/snmp, no /etc/snmp/snmp.conf (Debian's says
# "mibs :", which would turn MIB loading off) nor ~/.snmp; the MIB is
# copied alone into a folder because net-snmp indexes every file of a
# MIB directory (daemon/ holds the C sources)
# (cert_indexes: else the first command says "Created directory")
mkdir -p "$T/persist/cert_indexes" "$T/snmpconf" "$T/mibs"
cp "$MIB" "$T/mibs/" || bail_out "cannot copy $MIB"
export SNMP_PERSISTENT_DIR="$T/persist" SNMPCONFPATH="$T/snmpconf"
# net-snmp's MIBs without an installed NETPROBE-MIB (a gateway with the
# package has one in $NSMIBS): the one under test must be the only one
mkdir -p "$T/nsmibs"
for f in "$NSMIBS"/*; do
	[ "${f##*/}" = NETPROBE-MIB.txt ] || ln -s "$f" "$T/nsmibs/"
done
NSMIBS=$T/nsmibs
export MIBDIRS="$T/mibs:$STUBS:$NSMIBS" MIBS=NETPROBE-MIB
SMI_PATH="$STUBS:$NSMIBS"

# The MODULE-IDENTITY DESCRIPTION tells a bureau with its own enterprise
# number (99999 here) how to move the module: this is that edit, done on
# a copy, to check that it works as written.
BUREAU_OID=1.3.6.1.4.1.99999
mkdir -p "$T/bureau"
sed -e 's/^    Counter32, Counter64, Unsigned32$/&, enterprises/' \
    -e '/^    netSnmpPlaypen$/d' -e '/^        FROM NET-SNMP-MIB;$/d' \
    -e 's/^        FROM SNMPv2-CONF$/&;/' \
    -e 's/^    ::= { netSnmpPlaypen 7457 }$/    ::= { enterprises 99999 }/' \
    "$MIB" >"$T/bureau/NETPROBE-MIB.txt"

# ---- the spec ----------------------------------------------------------

# OBJECTS of each notification, in order (spec "Tree")
NOTIFS=(netprobeAlertFiring netprobeAlertResolved netprobeIsolationViolation
    netprobeConfigReloadFailed netprobeDaemonStarted netprobeDaemonStopping
    netprobeNotificationsDropped)
declare -A NOBJ
ALERT_OBJS="npSiteName npSiteDisplayName npAlertName npAlertSeverity
    npAlertState npAlertValue npAlertSummary npAlertDescription npAlertLabels
    npAlertActiveSince npEventTime npSequence"
NOBJ[netprobeAlertFiring]=$ALERT_OBJS
NOBJ[netprobeAlertResolved]=$ALERT_OBJS
NOBJ[netprobeIsolationViolation]="npSiteName npSiteDisplayName npWatcherName
    npViolationSource npViolationDestination npViolationProtocol
    npViolationPort npViolationFirstSeen npViolationKind npEventTime
    npSequence"
NOBJ[netprobeConfigReloadFailed]="npSiteName npSiteDisplayName npReason
    npEventTime npSequence"
NOBJ[netprobeDaemonStarted]="npSiteName npSiteDisplayName npEventTime
    npSequence"
NOBJ[netprobeDaemonStopping]="npSiteName npSiteDisplayName npEventTime
    npSequence"
NOBJ[netprobeNotificationsDropped]="npSiteName npSiteDisplayName
    npDroppedCount npEventTime npSequence"

# "{ a, b, c }": a notification's objects as snmptranslate -Td lists them
objects_of()
{
	# shellcheck disable=SC2086 # split on purpose
	set -- ${NOBJ[$1]}
	local IFS=,

	echo "{ $* }" | sed 's/,/, /g'
}

U="NetprobeUTF8String ; OCTET STRING (0..1024) ; \"1024t\""
D="DateAndTime ; OCTET STRING (8 | 11) ; \"2d-1d-1d,1d:1d:1d.1d,1a1d:1d\""
STATE="INTEGER {inactive(1), pending(2), firing(3), resolved(4)}"
RESULT="INTEGER {none(0), success(1), timeout(2), refused(3), unreachable(4), error(5), badResponse(6)}"
AFN=accessible-for-notify

# NAME|LIBSMI KIND|what net-snmp shows: OID ; TC ; SYNTAX ; DISPLAY-HINT ;
# UNITS ; MAX-ACCESS ; INDEX ; OBJECTS (those that apply)
NODES=(
	"netprobeMIB|node|B"
	"netprobeNotifications|node|B.0"
	"netprobeAlertFiring|notification|B.0.1 ; $(objects_of netprobeAlertFiring)"
	"netprobeAlertResolved|notification|B.0.2 ; $(objects_of netprobeAlertResolved)"
	"netprobeIsolationViolation|notification|B.0.3 ; $(objects_of netprobeIsolationViolation)"
	"netprobeConfigReloadFailed|notification|B.0.4 ; $(objects_of netprobeConfigReloadFailed)"
	"netprobeDaemonStarted|notification|B.0.5 ; $(objects_of netprobeDaemonStarted)"
	"netprobeDaemonStopping|notification|B.0.6 ; $(objects_of netprobeDaemonStopping)"
	"netprobeNotificationsDropped|notification|B.0.7 ; $(objects_of netprobeNotificationsDropped)"
	"netprobeObjects|node|B.1"
	"netprobeNotifyObjects|node|B.1.1"
	"npSiteName|scalar|B.1.1.1 ; $U ; $AFN"
	"npSiteDisplayName|scalar|B.1.1.2 ; $U ; $AFN"
	"npAlertName|scalar|B.1.1.3 ; $U ; $AFN"
	"npAlertSeverity|scalar|B.1.1.4 ; $U ; $AFN"
	"npAlertState|scalar|B.1.1.5 ; $STATE ; $AFN"
	"npAlertValue|scalar|B.1.1.6 ; $U ; $AFN"
	"npAlertSummary|scalar|B.1.1.7 ; $U ; $AFN"
	"npAlertDescription|scalar|B.1.1.8 ; $U ; $AFN"
	"npAlertLabels|scalar|B.1.1.9 ; $U ; $AFN"
	"npAlertActiveSince|scalar|B.1.1.10 ; $D ; $AFN"
	"npEventTime|scalar|B.1.1.11 ; $D ; $AFN"
	"npSequence|scalar|B.1.1.12 ; Counter32 ; $AFN"
	"npWatcherName|scalar|B.1.1.13 ; $U ; $AFN"
	"npViolationSource|scalar|B.1.1.14 ; $U ; $AFN"
	"npViolationDestination|scalar|B.1.1.15 ; $U ; $AFN"
	"npViolationProtocol|scalar|B.1.1.16 ; $U ; $AFN"
	"npViolationPort|scalar|B.1.1.17 ; Unsigned32 (0..65535) ; $AFN"
	"npViolationFirstSeen|scalar|B.1.1.18 ; $D ; $AFN"
	"npReason|scalar|B.1.1.19 ; $U ; $AFN"
	"npDroppedCount|scalar|B.1.1.20 ; Counter32 ; $AFN"
	"npViolationKind|scalar|B.1.1.21 ; INTEGER {egress(1), ingress(2), foreignMcu(3), listenOnly(4)} ; $AFN"
	"npAlertTable|table|B.1.2 ; not-accessible"
	"npAlertEntry|row|B.1.2.1 ; not-accessible ; { npAlertIndex }"
	"npAlertIndex|column|B.1.2.1.1 ; Unsigned32 (1..4294967295) ; not-accessible"
	"npAlertEntryName|column|B.1.2.1.2 ; $U ; read-only"
	"npAlertEntryState|column|B.1.2.1.3 ; $STATE ; read-only"
	"npAlertEntrySeverity|column|B.1.2.1.4 ; $U ; read-only"
	"npAlertEntryValue|column|B.1.2.1.5 ; $U ; read-only"
	"npAlertEntryActiveSince|column|B.1.2.1.6 ; $D ; read-only"
	"npAlertEntrySummary|column|B.1.2.1.7 ; $U ; read-only"
	"npAlertEntryLabels|column|B.1.2.1.8 ; $U ; read-only"
	"npProbeTable|table|B.1.3 ; not-accessible"
	"npProbeEntry|row|B.1.3.1 ; not-accessible ; { npProbeIndex }"
	"npProbeIndex|column|B.1.3.1.1 ; Unsigned32 (1..4294967295) ; not-accessible"
	"npProbeName|column|B.1.3.1.2 ; $U ; read-only"
	"npProbeType|column|B.1.3.1.3 ; $U ; read-only"
	"npProbeTarget|column|B.1.3.1.4 ; $U ; read-only"
	"npProbeLastResult|column|B.1.3.1.5 ; $RESULT ; read-only"
	"npProbeLastDuration|column|B.1.3.1.6 ; Unsigned32 ; \"microseconds\" ; read-only"
	"npProbeSuccessRatio|column|B.1.3.1.7 ; Unsigned32 (0..1000) ; \"per mille\" ; read-only"
	"npProbeRuns|column|B.1.3.1.8 ; Counter64 ; read-only"
	"netprobeConformance|node|B.2"
	"netprobeGroups|node|B.2.1"
	"netprobeNotifyObjectsGroup|group|B.2.1.1"
	"netprobeNotificationsGroup|group|B.2.1.2"
	"netprobeAlertTableGroup|group|B.2.1.3"
	"netprobeProbeTableGroup|group|B.2.1.4"
	"netprobeCompliances|node|B.2.2"
	"netprobeCompliance|compliance|B.2.2.1"
)

# ---- 1. smilint ----------------------------------------------------------

LINT_DESCS=(
	"smilint -l 6 -s: no error or warning"
	"smilint -l 9, no local smi.conf: no error or warning"
	"smidump: libsmi sees the spec's nodes, kinds and OIDs"
	"smilint finds a broken copy's undefined notification object (the check can fail)"
	"the documented move to a bureau's enterprise number lints clean and moves the tree"
)
if [ -z "$SMILINT" ] || [ -z "$SMIDUMP" ]; then
	skip_each "smitools is not installed" "${LINT_DESCS[@]}"
else
	# smilint exits 0 even on errors: its output must be empty
	out=$(SMIPATH=$SMI_PATH "$SMILINT" -l 6 -s "$MIB" 2>&1)
	is "$out" "" "${LINT_DESCS[0]}"
	# the same at every level, without /etc/smi.conf or ~/.smirc (they
	# may hide warnings)
	out=$(SMIPATH=$SMI_PATH "$SMILINT" -c /dev/null -l 9 -s "$MIB" 2>&1)
	is "$out" "" "${LINT_DESCS[1]}"
	got=$(SMIPATH=$SMI_PATH "$SMIDUMP" -c /dev/null -f identifiers "$MIB" \
	    2>&1 | awk '$1 == "NETPROBE-MIB" && NF == 4 { print $2, $3, $4 }')
	exp=$(for row in "${NODES[@]}"; do
		IFS='|' read -r name kind sig <<<"$row"
		oid=${sig%% ;*}
		echo "$name $kind ${oid/#B/$B}"
	done)
	is "$got" "$exp" "${LINT_DESCS[2]}" ||
		diag "$(diff <(echo "$exp") <(echo "$got"))"
	mkdir -p "$T/broken"
	sed 's/^\( *\)npReason,$/\1npReasonTypo,/' "$MIB" \
	    >"$T/broken/NETPROBE-MIB.txt"
	out=$(SMIPATH=$SMI_PATH "$SMILINT" -l 6 -s "$T/broken/NETPROBE-MIB.txt" 2>&1)
	like "$out" "unknown object identifier label .npReasonTypo" "${LINT_DESCS[3]}"
	out=$(SMIPATH=$SMI_PATH "$SMILINT" -c /dev/null -l 9 -s \
	    "$T/bureau/NETPROBE-MIB.txt" 2>&1)
	got=$(SMIPATH=$SMI_PATH "$SMIDUMP" -c /dev/null -f identifiers \
	    "$T/bureau/NETPROBE-MIB.txt" 2>&1 |
	    awk '$2 == "netprobeMIB" || $2 == "npProbeRuns" { print $4 }' |
	    tr '\n' ' ')
	is "$out|$got" "|$BUREAU_OID $BUREAU_OID.1.3.1.8 " "${LINT_DESCS[4]}"
fi

# ---- 2. net-snmp reads it --------------------------------------------------

# node_sig NAME: what net-snmp knows of NETPROBE-MIB::NAME, in the NODES
# notation
node_sig()
{
	local oid

	oid=$("$SNMPTRANSLATE" -On "NETPROBE-MIB::$1" 2>&1)
	case $oid in
	".$B") oid=B ;;
	".$B".*) oid=B${oid#".$B"} ;;
	esac
	"$SNMPTRANSLATE" -Td "NETPROBE-MIB::$1" 2>&1 | awk -v oid="$oid" '
	function add(v) { if (v != "") r = r " ; " v }
	/^  -- TEXTUAL CONVENTION / { tc = $4 }
	/^  SYNTAX[\t]/ { s = $0; sub(/^  SYNTAX[\t]+/, "", s); sub(/ +$/, "", s) }
	/^  DISPLAY-HINT[\t]/ { h = $0; sub(/^  DISPLAY-HINT[\t]+/, "", h) }
	/^  UNITS[\t]/ { u = $0; sub(/^  UNITS[\t]+/, "", u) }
	/^  MAX-ACCESS[\t]/ { a = $2 }
	/^  INDEX[\t]/ { i = $0; sub(/^  INDEX[\t]+/, "", i) }
	/^  OBJECTS[\t]/ { o = $0; sub(/^  OBJECTS[\t]+/, "", o) }
	END { r = oid; add(tc); add(s); add(h); add(u); add(a); add(i); add(o); print r }'
}

NS_DESCS=()
for row in "${NODES[@]}"; do
	NS_DESCS+=("net-snmp: ${row%%|*}")
done
NS_DESCS+=(
	"net-snmp: $B.0.7 is NETPROBE-MIB::netprobeNotificationsDropped"
	"net-snmp: no parse warning about NETPROBE-MIB (-PW)"
	"net-snmp: the bureau's copy puts netprobeAlertFiring at $BUREAU_OID.0.1"
)
if [ -z "$SNMPTRANSLATE" ]; then
	skip_each "net-snmp's snmptranslate is not installed (apt-get install snmp)" \
	    "${NS_DESCS[@]}"
else
	n=0
	for row in "${NODES[@]}"; do
		IFS='|' read -r name kind sig <<<"$row"
		is "$(node_sig "$name")" "$sig" "${NS_DESCS[n]}: $sig"
		n=$((n + 1))
	done
	is "$("$SNMPTRANSLATE" "$B.0.7" 2>&1)" \
	    "NETPROBE-MIB::netprobeNotificationsDropped" "${NS_DESCS[n]}"
	n=$((n + 1))
	# -PW: every parser warning.  The stubs' MACRO notes and "No known
	# translation" for the SEQUENCE types of the rows are normal.
	out=$("$SNMPTRANSLATE" -PW -On NETPROBE-MIB::netprobeMIB 2>&1 |
	    grep -v -e 'MACRO (lines [0-9.]* parsed and ignored)' \
	    -e 'No known translation for type (Np[A-Za-z]*Entry)')
	is "$out" ".$B" "${NS_DESCS[n]}"
	n=$((n + 1))
	is "$(MIBDIRS="$T/bureau:$STUBS:$NSMIBS" "$SNMPTRANSLATE" -On \
	    NETPROBE-MIB::netprobeAlertFiring 2>&1)" ".$BUREAU_OID.0.1" \
	    "${NS_DESCS[n]}"
fi

# ---- 3. snmptrapd prints the notifications by name ------------------------

# Values of every notification object: OBJECT|snmptrap type|value|what
# snmptrapd prints.  Chinese UTF-8 text; DateAndTime sent as the 11 octets
# netprobed sends (UTC, direction '+', offset 0:0).
declare -A VTYPE VVAL VSHOW
setv()
{
	VTYPE[$1]=$2
	VVAL[$1]=$3
	VSHOW[$1]=$4
}
LABELS='{alertname="MCUUnreachable", probe="mcu-sip", severity="critical", site="jinshui"}'
DESCR='金水区无法连接视频会议 MCU：请检查外网链路、路由和 MCU 的 SIP 5060 端口'
REASON='/etc/netprobed/netprobed.yaml:12:5: 未知的键 "probez"'
setv npSiteName s jinshui "STRING: jinshui"
setv npSiteDisplayName s 金水区 "STRING: 金水区"
setv npAlertName s MCUUnreachable "STRING: MCUUnreachable"
setv npAlertSeverity s critical "STRING: critical"
setv npAlertState i 3 "INTEGER: firing(3)"
setv npAlertValue s 0.0625 "STRING: 0.0625"
setv npAlertSummary s "MCU 不可达" "STRING: MCU 不可达"
setv npAlertDescription s "$DESCR" "STRING: $DESCR"
setv npAlertLabels s "$LABELS" "STRING: $LABELS"
setv npAlertActiveSince x 07EA0B1C110C00002B0000 "STRING: 2026-11-28,17:12:0.0,+0:0"
setv npEventTime x 07EA0B1C110D0B002B0000 "STRING: 2026-11-28,17:13:11.0,+0:0"
setv npWatcherName s segment-egress "STRING: segment-egress"
setv npViolationSource s 10.30.1.23 "STRING: 10.30.1.23"
setv npViolationDestination s 192.0.2.80 "STRING: 192.0.2.80"
setv npViolationProtocol s tcp "STRING: tcp"
setv npViolationPort u 443 "Gauge32: 443"
setv npViolationFirstSeen x 07EA0B1C110A1E052B0000 "STRING: 2026-11-28,17:10:30.5,+0:0"
setv npReason s "$REASON" "STRING: $REASON"
setv npDroppedCount c 42 "Counter32: 42"
setv npViolationKind i 3 "INTEGER: foreignMcu(3)"
declare -A SUB
for row in "${NODES[@]}"; do
	IFS='|' read -r name kind sig <<<"$row"
	oid=${sig%% ;*}
	SUB[$name]=${oid#B}
done

TRAPD_DESCS=("snmptrapd starts on 127.0.0.1:$PORT with NETPROBE-MIB loaded")
for nt in "${NOTIFS[@]}"; do
	TRAPD_DESCS+=("snmptrapd prints $nt by name"
	    "$nt: every varbind by name, with its value as sent")
done
TRAPD_DESCS+=(
	"Chinese text intact: npSiteDisplayName 金水区"
	"Chinese text intact: npAlertSummary MCU 不可达"
	"npEventTime printed as a date (DateAndTime DISPLAY-HINT)"
	"snmptrap refuses a 1025-octet npAlertDescription (SIZE (0..1024))"
	"snmptrap refuses a 4-octet npEventTime (DateAndTime: 8 or 11 octets)"
	"snmptrapd logged the 7 notifications and nothing else"
)
CAP_DESCS=(
	"tshark captured the 7 notifications as SNMPv2-Trap PDUs"
	"tshark: no malformed packet and no error expert info"
	"tshark: the notification OIDs on the wire are $B.0.1 to .0.7"
	"tshark: npSiteDisplayName is UTF-8 on the wire (e9 87 91 e6 b0 b4 e5 8c ba)"
)

port_used() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
trapd_ready()
{
	pid_gone "$TRAPD_PID" ||
	    [ -n "$(ss -Hlun "src 127.0.0.1:$PORT" 2>/dev/null)" ]
}
# trap_count: how many notifications snmptrapd logged
trap_count() { grep -c '^TRAP ' "$T/trapd.log" 2>/dev/null; }
all_logged() { [ "$(trap_count)" -ge "${#NOTIFS[@]}" ]; }

if [ -z "$SNMPTRAP" ] || [ -z "$SNMPTRAPD" ]; then
	skip_each "net-snmp is not installed (apt-get install snmp snmptrapd)" \
	    "${TRAPD_DESCS[@]}" "${CAP_DESCS[@]}"
	done_testing
fi

# One mib.sh at a time on this machine (several build trees may run
# `make check` at once): the port is fixed, so wait for the other one.
exec 9>"${TMPDIR:-/tmp}/netprobed-mib-test.lock"
if command -v flock >/dev/null 2>&1 && ! flock -w 120 9; then
	bail_out "another mib.sh held its lock for 120s"
fi
port_used "$PORT" &&
	bail_out "UDP port $PORT must be free for this test, but something uses it"

# The capture starts before snmptrapd: the canaries (tap.sh
# capture_canary) go to the port while it is still closed, so snmptrapd
# never sees them; they are left out when decoding.
CANARY='63:61:6e:61:72:79:0a'	# "canary\n"
TSP=
cap_skip=
if [ -z "$TSHARK" ]; then
	cap_skip="tshark is not installed"
else
	"$TSHARK" -i lo -f "udp port $PORT" -a duration:120 -w "$T/snmp.pcapng" \
	    </dev/null >"$T/tshark.out" 2>"$T/tshark.err" &
	TSP=$!
	register_pid "$TSP"
	cap_said() { grep -q 'Capturing on' "$T/tshark.err" || pid_gone "$TSP"; }
	wait_for 20 cap_said
	if pid_gone "$TSP" || ! capture_canary "$PORT" "$T/snmp.pcapng"; then
		diag_file "$T/tshark.err"
		stop_pid "$TSP"
		TSP=
		cap_skip="tshark could not capture on lo here (root or dumpcap capabilities needed)"
	fi
fi

cat >"$T/snmptrapd.conf" <<'EOF'
doNotRetainNotificationLogs yes
authCommunity log public
format2 TRAP from=%b sec=[%P] %V| %v\n
EOF
# -f: foreground, so $! is snmptrapd; without -On: OIDs by name
"$SNMPTRAPD" -f -C -c "$T/snmptrapd.conf" -Lf "$T/trapd.log" \
    -p "$T/trapd.pid" "udp:127.0.0.1:$PORT" </dev/null >"$T/trapd.err" 2>&1 &
TRAPD_PID=$!
register_pid "$TRAPD_PID"
wait_for 10 trapd_ready
if pid_alive "$TRAPD_PID" && trapd_ready; then
	pass "${TRAPD_DESCS[0]}"
else
	fail "${TRAPD_DESCS[0]}"
	diag_file "$T/trapd.err"
	diag_file "$T/trapd.log"
fi

# Send the seven notifications as netprobed does: numeric OIDs under the
# base, scalar instances .0, the spec's OBJECTS in order, npSequence 1..7.
declare -A EXPECT RC
seq=0
for nt in "${NOTIFS[@]}"; do
	seq=$((seq + 1))
	setv npSequence c "$seq" "Counter32: $seq"
	if [ "$nt" = netprobeAlertResolved ]; then
		setv npAlertState i 4 "INTEGER: resolved(4)"
		setv npAlertValue s 0 "STRING: 0"
	else
		setv npAlertState i 3 "INTEGER: firing(3)"
		setv npAlertValue s 0.0625 "STRING: 0.0625"
	fi
	args=()
	exp=
	for o in ${NOBJ[$nt]}; do
		args+=("$B${SUB[$o]}.0" "${VTYPE[$o]}" "${VVAL[$o]}")
		exp="$exp| NETPROBE-MIB::$o.0 = ${VSHOW[$o]}"
	done
	EXPECT[$nt]=$exp
	"$SNMPTRAP" -v 2c -c public "udp:127.0.0.1:$PORT" '' "$B${SUB[$nt]}" \
	    "${args[@]}" >"$T/snmptrap-$nt.out" 2>&1
	RC[$nt]=$?
done
wait_for 10 all_logged

n=1
for nt in "${NOTIFS[@]}"; do
	lines=$(grep -F "= OID: NETPROBE-MIB::$nt| " "$T/trapd.log")
	nl=$(grep -c . <<<"$lines")
	is "${RC[$nt]}|$nl" "0|1" "${TRAPD_DESCS[n]}" ||
		diag_file "$T/snmptrap-$nt.out"
	is "${lines#*"= OID: NETPROBE-MIB::$nt"}" "${EXPECT[$nt]}" \
	    "${TRAPD_DESCS[n + 1]}"
	n=$((n + 2))
done
log=$(cat "$T/trapd.log" 2>/dev/null)
like "$log" "OID: NETPROBE-MIB::netprobeAlertFiring[|].* NETPROBE-MIB::npSiteDisplayName\.0 = STRING: 金水区[|]" \
    "${TRAPD_DESCS[15]}"
like "$log" "OID: NETPROBE-MIB::netprobeAlertFiring[|].* NETPROBE-MIB::npAlertSummary\.0 = STRING: MCU 不可达[|]" \
    "${TRAPD_DESCS[16]}"
like "$log" "NETPROBE-MIB::npEventTime\.0 = STRING: 2026-11-28,17:13:11\.0,\+0:0" \
    "${TRAPD_DESCS[17]}"

# net-snmp checks values against the MIB before sending
"$SNMPTRAP" -v 2c -c public "udp:127.0.0.1:$PORT" '' "$B.0.1" \
    "$B.1.1.8.0" s "$(printf '%01025d' 0)" >"$T/size.out" 2>&1
rc=$?
is "$rc|$(grep -c 'Bad string length' "$T/size.out")" "1|1" "${TRAPD_DESCS[18]}" ||
	diag_file "$T/size.out"
"$SNMPTRAP" -v 2c -c public "udp:127.0.0.1:$PORT" '' "$B.0.1" \
    "$B.1.1.11.0" x 07EA0B1C >"$T/date.out" 2>&1
rc=$?
is "$rc|$(grep -c 'Bad string length' "$T/date.out")" "1|1" "${TRAPD_DESCS[19]}" ||
	diag_file "$T/date.out"

# Every line: the start banner or one notification (a MIB that net-snmp
# could not load would show here as "Cannot find module" or similar).
# A refused trap that was sent anyway would be an eighth TRAP line.
other=$(grep -v -e '^NET-SNMP version ' -e '^TRAP from=UDP: \[127\.0\.0\.1\]:[0-9]*->\[127\.0\.0\.1\]:16209 sec=\[TRAP2, SNMP v2c, community public\] ' \
    "$T/trapd.log" 2>/dev/null)
is "$(trap_count)|$other" "7|" "${TRAPD_DESCS[20]}" ||
	diag_file "$T/trapd.log"

# ---- 4. tshark decodes them ------------------------------------------------

TSD=(-r "$T/snmp.pcapng" -d "udp.port==$PORT,snmp")
NOCANARY="!(udp.payload == $CANARY)"
cap_traps() { "$TSHARK" "${TSD[@]}" -Y "snmp.data == 7" 2>/dev/null | grep -c .; }
cap_has_all() { [ "$(cap_traps)" -ge "${#NOTIFS[@]}" ]; }

if [ -n "$cap_skip" ]; then
	skip_each "$cap_skip" "${CAP_DESCS[@]}"
else
	# dumpcap writes on its own timer: wait until the PDUs are there
	wait_for 10 cap_has_all
	stop_pid "$TSP"
	is "$(cap_traps)" 7 "${CAP_DESCS[0]}" ||
		diag_file "$T/tshark.err"
	"$TSHARK" "${TSD[@]}" -Y "$NOCANARY" -V >"$T/decode.txt" 2>"$T/decode.err"
	rc=$?
	bad=$(grep -E '\[Malformed Packet|Expert Info \(Error' "$T/decode.txt")
	is "$rc|$(grep -c '^Simple Network Management Protocol' "$T/decode.txt")|$bad" \
	    "0|7|" "${CAP_DESCS[1]}" ||
		diag_file "$T/decode.err"
	got=$(grep -oE "Value \(OID\): $B\.0\.[0-9]+" "$T/decode.txt" |
	    sed 's/.*\.0\./.0./' | sort | tr '\n' ' ')
	is "$got" ".0.1 .0.2 .0.3 .0.4 .0.5 .0.6 .0.7 " "${CAP_DESCS[2]}"
	got=$(grep -cE "^ +$B\.1\.1\.2\.0: e98791e6b0b4e58cba$" "$T/decode.txt")
	is "$got" 7 "${CAP_DESCS[3]}"
fi

done_testing
