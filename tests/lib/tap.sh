# shellcheck shell=bash
#
# tests/lib/tap.sh: a small TAP library for the integration tests.
# Source it from a bash script:  . "$top_srcdir/tests/lib/tap.sh"
#
# Output is TAP: one "ok N - description" line per assertion, "# ..."
# diagnostics, and the plan "1..N" printed at the end by done_testing.
#
#   ok STATUS DESC          pass when STATUS (an exit status) is 0
#   pass DESC / fail DESC   unconditional
#   is GOT EXPECTED DESC    string equality
#   isnt GOT UNEXPECTED DESC
#   like TEXT REGEX DESC    some line of TEXT matches the ERE (grep -E)
#   unlike TEXT REGEX DESC  no line of TEXT matches
#   cmp_ok A OP B DESC      numeric (floats too): == != < <= > >=
#   skip REASON DESC        an "ok N - DESC # SKIP REASON" line
#   TODO=reason             while set, failures are "# TODO" (expected)
#   diag TEXT... / diag_file FILE [LINES]
#   skip_all REASON         "1..0 # SKIP REASON", exit 0 (before any test)
#   bail_out REASON         "Bail out! REASON", exit 1
#   done_testing            print the plan and exit (1 if any failed)
#
#   wait_for SECONDS CMD... poll CMD every 50 ms until it succeeds or the
#                           deadline passes (status 1)
#   register_pid PID        stop PID at exit
#   on_exit 'COMMAND'       run COMMAND at exit (after the PIDs stop)
#   stop_pid PID            SIGTERM, up to 5 s, then SIGKILL; returns the
#                           exit status when PID is our child
#   start_netprobed CONFIG LOGFILE [ARGS...]
#                           "$NETPROBED" -c CONFIG in the background;
#                           NETPROBED_PID; ready once /healthz answers on
#                           $NP_HOST:$NP_PORT
#   start_tcp_listener HOST PORT   python3 accept loop; LISTENER_PID
#   http_get URL [CURL ARGS...]    HTTP_CODE, HTTP_BODY
#   scrape                  GET /metrics into METRICS
#   metric_value NAME [label=value...]   value of the first match
#   metric_lines NAME [label=value...]   the matching sample lines
#   port_listening PORT     something listens on TCP PORT
#   promtool_clean DESC     a case: promtool check metrics accepts $METRICS
#                           (a skip without promtool)
#   start_snmptrapd PORT [NS]  a v2c manager (community public) on
#                           127.0.0.1:PORT, in namespace NS if given; each
#                           start logs to $TAP_TMPDIR/trapd.N.log; TRAPD_PID
#   trap_notes EXPR         Python EXPR over r, every notification those
#                           logs hold, oldest first: trap(x) is its number
#                           under NETPROBE-MIB's base (1 firing, 2 resolved,
#                           5 started, 6 stopping, 7 dropped), var(x, N)
#                           its object N (3 alert name, 12 npSequence)
#   icmp_possible           netprobed may send ICMP echo here
#
# Every test file uses its own fixed loopback ports in 19500-19599 so the
# files can run in parallel; nothing here picks ports by probing.

# ---- environment ------------------------------------------------------

if [ -z "${NETPROBED:-}" ]; then
	NETPROBED="$(cd "$(dirname "$0")/../.." && pwd)/netprobed"
fi
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir="$(cd "$(dirname "$0")/../.." && pwd)"
fi
export NETPROBED top_srcdir
# The tests run as root and start netprobed without user: (most of them
# need no privilege drop); privdrop.sh checks the refusal itself.
export NETPROBED_ALLOW_ROOT=1

NP_HOST=${NP_HOST:-127.0.0.1}
NP_PORT=${NP_PORT:-}
CURL=${CURL:-curl}
if [ -z "${PYTHON3:-}" ]; then
	if [ -x /usr/bin/python3 ]; then
		PYTHON3=/usr/bin/python3
	else
		PYTHON3=$(command -v python3 || true)
	fi
fi

# ---- TAP state --------------------------------------------------------

_tap_n=0
_tap_fail=0
_tap_done=0
_tap_pids=()
_tap_hooks=()
# set here, read by the tests
# shellcheck disable=SC2034
{
	TODO=''
	NETPROBED_PID=''
	LISTENER_PID=''
	STOP_STATUS=''
	STOP_KILLED=''
	HTTP_CODE=''
	HTTP_BODY=''
	METRICS=''
}

TAP_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/netprobed-$(basename "$0" .sh).XXXXXX") ||
	{ echo "Bail out! mktemp -d failed"; exit 1; }

_tap_desc()
{
	local d="$*"

	# a bare '#' would start a TAP directive
	printf '%s' "${d//[#]/\\#}"
}

diag()
{
	local line

	[ $# -gt 0 ] || return 0
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$(printf '%s\n' "$@")"
}

# diag_file FILE [LINES]: the last LINES (default 20) lines of FILE
diag_file()
{
	if [ -r "$1" ]; then
		diag "--- last ${2:-20} lines of $1:"
		diag "$(tail -n "${2:-20}" "$1")"
	else
		diag "--- $1: not readable"
	fi
}

ok()
{
	local st=$1 desc

	shift
	desc=$(_tap_desc "$@")
	_tap_n=$((_tap_n + 1))
	if [ "$st" = 0 ]; then
		if [ -n "$TODO" ]; then
			echo "ok $_tap_n - $desc # TODO $TODO"
		else
			echo "ok $_tap_n - $desc"
		fi
		return 0
	fi
	if [ -n "$TODO" ]; then
		echo "not ok $_tap_n - $desc # TODO $TODO"
	else
		echo "not ok $_tap_n - $desc"
		_tap_fail=$((_tap_fail + 1))
	fi
	return 1
}

pass() { ok 0 "$@"; }
fail() { ok 1 "$@"; }

is()
{
	local got=$1 exp=$2

	shift 2
	if [ "$got" = "$exp" ]; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "     got: '$got'" "expected: '$exp'"
	return 1
}

isnt()
{
	local got=$1 exp=$2

	shift 2
	if [ "$got" != "$exp" ]; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "     got: '$got'" "expected anything else"
	return 1
}

like()
{
	local text=$1 re=$2

	shift 2
	if grep -Eq -- "$re" <<<"$text"; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "no line matches /$re/ in:" "$(tail -n 25 <<<"$text")"
	return 1
}

unlike()
{
	local text=$1 re=$2

	shift 2
	if ! grep -Eq -- "$re" <<<"$text"; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "unexpected lines matching /$re/:" \
	    "$(grep -E -- "$re" <<<"$text" | head -n 25)"
	return 1
}

# _num_cmp A OP B: 0 if true, 1 if false, 2 if A or B is not a number
_num_cmp()
{
	awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
		num = "^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$"
		if (a !~ num || b !~ num) exit 2
		a += 0; b += 0
		if (op == "==") r = a == b
		else if (op == "!=") r = a != b
		else if (op == "<") r = a < b
		else if (op == "<=") r = a <= b
		else if (op == ">") r = a > b
		else if (op == ">=") r = a >= b
		else exit 2
		exit !r
	}'
}

cmp_ok()
{
	local a=$1 op=$2 b=$3

	shift 3
	if _num_cmp "$a" "$op" "$b"; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "expected: '$a' $op '$b'"
	return 1
}

skip()
{
	local why=$1

	shift
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $(_tap_desc "$@") # SKIP $(_tap_desc "$why")"
}

skip_all()
{
	if [ "$_tap_n" -eq 0 ]; then
		echo "1..0 # SKIP $(_tap_desc "$*")"
		_tap_done=1
		exit 0
	fi
	diag "skipping the rest: $*"
	done_testing
}

bail_out()
{
	echo "Bail out! $*"
	_tap_done=1
	exit 1
}

done_testing()
{
	echo "1..$_tap_n"
	_tap_done=1
	if [ "$_tap_fail" -gt 0 ]; then
		diag "failed $_tap_fail of $_tap_n"
		exit 1
	fi
	exit 0
}

# ---- time and polling -------------------------------------------------

_now_ms()
{
	local t

	if [ -n "${EPOCHREALTIME:-}" ]; then
		t=${EPOCHREALTIME//[!0-9]/}
		echo $((10#$t / 1000))
	else
		date +%s%3N
	fi
}

# wait_for SECONDS CMD...: 0 as soon as CMD succeeds, 1 at the deadline.
# CMD's output is discarded; a shell function may set globals.
wait_for()
{
	local ms deadline

	ms=$(awk -v s="$1" 'BEGIN { printf "%d", s * 1000 }')
	shift
	deadline=$(($(_now_ms) + ms))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(_now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# ---- processes --------------------------------------------------------

# Alive and not a zombie.
pid_alive()
{
	local st

	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	read -r st <"/proc/$1/stat" 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

pid_gone() { ! pid_alive "$1"; }

register_pid()
{
	_tap_pids+=("$1")
}

_forget_pid()
{
	local i

	for i in "${!_tap_pids[@]}"; do
		[ "${_tap_pids[$i]}" = "$1" ] && unset '_tap_pids[i]'
	done
}

on_exit()
{
	_tap_hooks+=("$1")
}

# stop_pid PID: SIGTERM, wait up to 5 s, then SIGKILL.  Returns the exit
# status (128+N for a signal) when PID is a child of this shell, and
# sets STOP_STATUS and STOP_KILLED (1 when SIGKILL was needed).
stop_pid()
{
	local pid=$1

	STOP_KILLED=0
	[ -n "$pid" ] || return 0
	if pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		if ! wait_for 5 pid_gone "$pid"; then
			# shellcheck disable=SC2034
			STOP_KILLED=1
			kill -KILL "$pid" 2>/dev/null
			wait_for 5 pid_gone "$pid"
		fi
	fi
	wait "$pid" 2>/dev/null
	STOP_STATUS=$?
	_forget_pid "$pid"
	return "$STOP_STATUS"
}

_tap_cleanup()
{
	local pid i

	for pid in "${_tap_pids[@]}"; do
		stop_pid "$pid" >/dev/null 2>&1
	done
	for ((i = ${#_tap_hooks[@]} - 1; i >= 0; i--)); do
		eval "${_tap_hooks[i]}" >/dev/null 2>&1
	done
	[ -n "$TAP_TMPDIR" ] && rm -rf -- "$TAP_TMPDIR"
}

_tap_exit()
{
	local st=$?

	trap - EXIT HUP INT TERM
	_tap_cleanup
	if [ "$_tap_done" -eq 0 ]; then
		_tap_n=$((_tap_n + 1))
		echo "not ok $_tap_n - test script ended early (exit status $st)"
		echo "1..$_tap_n"
		st=1
	fi
	exit "$st"
}

trap _tap_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- HTTP and metrics -------------------------------------------------

np_url() { echo "http://$NP_HOST:$NP_PORT$1"; }

# http_get URL [CURL ARGS...]: HTTP_CODE ("000": no answer), HTTP_BODY
http_get()
{
	local url=$1

	shift
	HTTP_CODE=$("$CURL" -s --max-time 5 -o "$TAP_TMPDIR/.http_body" \
	    -w '%{http_code}' "$@" "$url" 2>/dev/null)
	HTTP_CODE=${HTTP_CODE:-000}
	HTTP_BODY=$(cat "$TAP_TMPDIR/.http_body" 2>/dev/null)
	rm -f "$TAP_TMPDIR/.http_body"
	[ "$HTTP_CODE" = 200 ]
}

PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}

# promtool_clean DESC
promtool_clean()
{
	local out

	if [ ! -x "$PROMTOOL" ]; then
		skip "no promtool" "$1"
		return 0
	fi
	out=$("$PROMTOOL" check metrics <<<"$METRICS" 2>&1)
	ok $? "$1" || diag "$out"
}

# scrape: GET /metrics into METRICS (0 on HTTP 200)
scrape()
{
	METRICS=
	http_get "$(np_url /metrics)" || return 1
	METRICS=$HTTP_BODY
}

# _metric_awk MODE NAME [label=value...] over $METRICS.  NAME "*" is any
# metric.  MODE value: the first match's value; lines: every match.
_metric_awk()
{
	local mode=$1 name=$2

	shift 2
	awk -v mode="$mode" -v name="$name" -v want="$(printf '%s\n' "$@")" '
	BEGIN {
		n = split(want, w, "\n")
		for (i = 1; i <= n; i++) {
			eq = index(w[i], "=")
			req[i] = "," substr(w[i], 1, eq - 1) "=\"" \
			    substr(w[i], eq + 1) "\","
		}
		found = 0
	}
	/^#/ || NF < 2 { next }
	{
		series = substr($0, 1, length($0) - length($NF) - 1)
		b = index(series, "{")
		if (b > 0) {
			mname = substr(series, 1, b - 1)
			labels = "," substr(series, b + 1,
			    length(series) - b - 1) ","
		} else {
			mname = series
			labels = ","
		}
		if (name != "*" && mname != name)
			next
		for (i = 1; i <= n; i++)
			if (index(labels, req[i]) == 0)
				next
		found = 1
		if (mode == "value") {
			print $NF
			exit
		}
		print
	}
	END { exit !found }' <<<"$METRICS"
}

metric_value() { _metric_awk value "$@"; }
metric_lines() { _metric_awk lines "$@"; }

# scrape_has NAME [label=value...]: scrape, then the series is there
scrape_has()
{
	scrape && metric_value "$@" >/dev/null
}

# ---- netprobed --------------------------------------------------------

_np_ready_or_dead()
{
	pid_alive "$1" || return 0
	grep -q "listening on http://$NP_HOST:$NP_PORT/" "$2" 2>/dev/null ||
		return 1
	http_get "$(np_url /healthz)"
}

# start_netprobed CONFIG LOGFILE [ARGS...]
start_netprobed()
{
	local conf=$1 log=$2

	shift 2
	if [ -z "$NP_PORT" ]; then
		diag "start_netprobed: NP_PORT is not set"
		return 1
	fi
	"$NETPROBED" -c "$conf" "$@" </dev/null >>"$log" 2>&1 &
	NETPROBED_PID=$!
	register_pid "$NETPROBED_PID"
	HTTP_CODE=000
	wait_for 10 _np_ready_or_dead "$NETPROBED_PID" "$log"
	if pid_alive "$NETPROBED_PID" && http_get "$(np_url /healthz)"; then
		return 0
	fi
	diag "netprobed (pid $NETPROBED_PID) did not answer" \
	    "$(np_url /healthz) (HTTP $HTTP_CODE)"
	diag_file "$log"
	return 1
}

# ---- helpers ----------------------------------------------------------

# in_netns NS: NPW runs netprobed inside network namespace NS, and CURL
# (what http_get and scrape use) curls inside it: netprobed's listener is
# then on that namespace's loopback.  Both exec, so $! is the program's.
in_netns()
{
	printf '#!/bin/sh\nexec ip netns exec %s "%s" "$@"\n' "$1" "$NETPROBED" \
	    >"$TAP_TMPDIR/np-wrap"
	printf '#!/bin/sh\nexec ip netns exec %s curl "$@"\n' "$1" \
	    >"$TAP_TMPDIR/curl-wrap"
	chmod +x "$TAP_TMPDIR/np-wrap" "$TAP_TMPDIR/curl-wrap"
	NPW=$TAP_TMPDIR/np-wrap
	CURL=$TAP_TMPDIR/curl-wrap
}

# capture_canary PORT FILE: dumpcap and tshark say "Capturing on" before
# the capture really runs; send UDP canaries to 127.0.0.1:PORT (a closed
# port inside the capture filter, decoded as nothing) until one is in FILE
capture_canary()
{
	_canary_port=$1 _canary_file=$2
	wait_for 20 _canary_seen
}
_canary_seen()
{
	echo canary 2>/dev/null >/dev/udp/127.0.0.1/"$_canary_port"
	[ -n "$(tshark -r "$_canary_file" -Y "udp.dstport == $_canary_port" \
	    2>/dev/null)" ]
}

# need_daemon: skip the whole file unless the binary is there and ICMP works
need_daemon()
{
	[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
	icmp_possible || skip_all \
	    "ICMP needs root or net.ipv4.ping_group_range to include our group"
}

# icmp_possible: raw ICMP (root) or datagram ICMP (our gid within
# net.ipv4.ping_group_range) is available to netprobed
icmp_possible()
{
	local lo hi g

	[ "$(id -u)" = 0 ] && return 0
	read -r lo hi </proc/sys/net/ipv4/ping_group_range 2>/dev/null ||
		return 1
	for g in $(id -G); do
		[ "$g" -ge "$lo" ] && [ "$g" -le "$hi" ] && return 0
	done
	return 1
}

# port_listening PORT: some TCP socket listens on PORT
port_listening()
{
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

_listener_ready_or_dead()
{
	[ -e "$1" ] || pid_gone "$2"
}

# start_tcp_listener HOST PORT: accept and close connections until
# stopped; LISTENER_PID.  Returns once the socket listens.
start_tcp_listener()
{
	local host=$1 port=$2 ready="$TAP_TMPDIR/listener-$2.ready"

	if [ -z "$PYTHON3" ]; then
		diag "start_tcp_listener: no python3"
		return 1
	fi
	rm -f "$ready"
	"$PYTHON3" -c '
import socket, sys
host, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(128)
open(ready, "w").close()
while True:
    try:
        c, _ = s.accept()
        c.close()
    except OSError:
        pass
' "$host" "$port" "$ready" </dev/null >>"$TAP_TMPDIR/listener-$port.log" 2>&1 &
	LISTENER_PID=$!
	register_pid "$LISTENER_PID"
	wait_for 10 _listener_ready_or_dead "$ready" "$LISTENER_PID"
	if [ -e "$ready" ] && pid_alive "$LISTENER_PID"; then
		return 0
	fi
	diag "TCP listener on $host:$port did not start"
	diag_file "$TAP_TMPDIR/listener-$port.log"
	return 1
}

# ---- snmptrapd: the SNMP manager the notification tests talk to --------

SNMPTRAPD=${SNMPTRAPD:-$(command -v snmptrapd || echo /usr/sbin/snmptrapd)}
TRAP_BASE=${TRAP_BASE:-1.3.6.1.4.1.8072.9999.9999.7457}
_TRAPD_N=0

_trapd_up()
{
	${2:+ip netns exec "$2"} ss -Hlun "sport = :$1" 2>/dev/null | grep -q .
}

# start_snmptrapd PORT [NS]
start_snmptrapd()
{
	local port=$1 ns=${2:-}

	_TRAPD_N=$((_TRAPD_N + 1))
	mkdir -p "$TAP_TMPDIR/trapd.persist"
	cat >"$TAP_TMPDIR/trapd.conf" <<END
doNotRetainNotificationLogs yes
authCommunity log public
format2 TRAP %.4y-%.2m-%.2l %.2h:%.2j:%.2k from=%b sec=[%P] %V| %v\\n
END
	SNMP_PERSISTENT_DIR=$TAP_TMPDIR/trapd.persist MIBS='' \
	    ${ns:+ip netns exec "$ns"} "$SNMPTRAPD" -f -On \
	    -Lf "$TAP_TMPDIR/trapd.$_TRAPD_N.log" -C -c "$TAP_TMPDIR/trapd.conf" \
	    "udp:127.0.0.1:$port" </dev/null >/dev/null 2>&1 &
	TRAPD_PID=$!
	register_pid "$TRAPD_PID"
	wait_for 10 _trapd_up "$port" "$ns"
}

# trap_notes EXPR
trap_notes()
{
	"$PYTHON3" "$top_srcdir/tests/peers/trapd_log.py" "$TAP_TMPDIR"/trapd.*.log |
	    "$PYTHON3" -c '
import json, sys
B = "." + sys.argv[2]
r = json.load(sys.stdin)
def trap(x): return x["trap"][len(B) + 3:] if x["trap"].startswith(B + ".0.") else "?"
def var(x, n): return x["vars"].get(B + ".1.1.%d.0" % n)
print(eval(sys.argv[1]))' "$1" "$TRAP_BASE"
}
