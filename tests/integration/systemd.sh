#!/usr/bin/env bash
#
# netprobed as a systemd service: the unit this build generates
# (daemon/netprobed.service.in) verifies and rates 2.0 or lower in
# systemd-analyze security, and the daemon speaks the sd_notify protocol
# as Type=notify and WatchdogSec= expect: READY=1 once it serves,
# RELOADING=1 then READY=1 around every reload (a rejected one too),
# WATCHDOG=1 at half WATCHDOG_USEC from the loop, STOPPING=1 on SIGTERM.
# The notify socket is a python3 listener in the test's temp dir; no
# systemd instance is needed.
#
# Ports: 19587 (netprobed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ -n "$PYTHON3" ] || skip_all "no python3 for the notify socket"

T=$TAP_TMPDIR
NP_PORT=19587
port_listening "$NP_PORT" && bail_out "port $NP_PORT is in use"
UNIT=$top_builddir/netprobed.service

# ---- the unit ----------------------------------------------------------

[ -r "$UNIT" ] || bail_out "no $UNIT: the build generates it"
like "$(grep '^ExecStart=' "$UNIT")" '^ExecStart=/.*/sbin/netprobed -c /.*/netprobed/netprobed\.yaml$' \
    "the unit's ExecStart has this build's paths filled in"
unlike "$(cat "$UNIT")" '@[a-z]+@' "no placeholder is left in the unit"
like "$(grep '^Type=' "$UNIT")" '^Type=notify$' "Type=notify"
# shellcheck disable=SC2016 # $MAINPID is systemd's, literal here
like "$(grep '^ExecReload=' "$UNIT")" '^ExecReload=/bin/kill -HUP \$MAINPID$' \
    "ExecReload sends SIGHUP to the main process (used for the first reload below)"
like "$(grep '^WatchdogSec=' "$UNIT")" '^WatchdogSec=[0-9]+s$' "WatchdogSec is set"
like "$(grep '^CapabilityBoundingSet=' "$UNIT")" '^CapabilityBoundingSet=CAP_NET_RAW$' \
    "the only capability is CAP_NET_RAW"

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the executables to exist: point them at this build
	cat >"$T/np.yaml" <<END
listen: 127.0.0.1:$NP_PORT
probes: [{name: lo, type: icmp, targets: [127.0.0.1]}]
END
	sed -e "s|^ExecStartPre=.*|ExecStartPre=$NETPROBED -c $T/np.yaml --check-config|" \
	    -e "s|^ExecStart=.*|ExecStart=$NETPROBED -c $T/np.yaml|" \
	    "$UNIT" >"$T/netprobed.service"
	out=$(systemd-analyze verify --man=no "$T/netprobed.service" 2>&1)
	is "$?:$out" "0:" "systemd-analyze verify: clean"
	out=$(systemd-analyze security --offline=true "$T/netprobed.service" 2>&1)
	level=$(sed -n 's/^→ Overall exposure level for netprobed.service: \([0-9.]*\) .*/\1/p' <<<"$out")
	cmp_ok "${level:-99}" '<=' 2.0 \
	    "systemd-analyze security: exposure ${level:-?} (2.0 or lower is OK)" ||
		diag "$out"
else
	skip "no systemd-analyze" "systemd-analyze verify: clean"
	skip "no systemd-analyze" "systemd-analyze security"
fi

# ---- sd_notify ---------------------------------------------------------

SOCK=$T/notify.sock
"$PYTHON3" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a")
t0 = time.monotonic()
while True:
    m = s.recv(4096).decode(errors="replace")
    out.write("%.3f %s\n" % (time.monotonic() - t0, m.replace("\n", " ")))
    out.flush()
' "$SOCK" "$T/notify.log" </dev/null >/dev/null 2>&1 &
register_pid $!
sock_up() { [ -S "$SOCK" ]; }
wait_for 10 sock_up || bail_out "the notify listener did not start"

# seen N WORD: the notify log has at least N lines with WORD
seen() { [ "$(grep -c -- "$2" "$T/notify.log" 2>/dev/null)" -ge "$1" ]; }

NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000 start_netprobed "$T/np.yaml" "$T/np.log" ||
	bail_out "netprobed did not start"
wait_for 5 seen 1 READY=1
ok $? "READY=1 once it serves (HTTP answered: start_netprobed checked)" ||
	diag_file "$T/notify.log"
wait_for 8 seen 6 WATCHDOG=1
ok $? "WATCHDOG=1 from the loop, every half WATCHDOG_USEC" ||
	diag_file "$T/notify.log"
# A ping the loop sends late (a loaded machine) is followed by one sooner
# (the timer keeps its schedule), and the listener's clock is read when
# it gets to run: so the period is judged over the whole series, and
# each gap only against a double send or a stall
gaps=$(awk '/WATCHDOG=1/ { if (p != "") print $1 - p; p = $1 }' "$T/notify.log")
is "$(awk '$1 < 0.1 || $1 > 1.5 { bad++ } END { print bad + 0 }' <<<"$gaps")" 0 \
    "no two watchdog pings at once, none more than 1.5 s apart" ||
	diag "$gaps"
mean=$(awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n }' <<<"$gaps")
ok "$(_num_cmp "${mean:-0}" '>=' 0.4 && _num_cmp "$mean" '<=' 0.7; echo $?)" \
    "the watchdog pings are 0.5 s apart on average (1 s WATCHDOG_USEC): ${mean:-?} s" ||
	diag "$gaps"

# systemctl reload runs ExecReload with $MAINPID set: run it so
reload_cmd=$(sed -n 's/^ExecReload=//p' "$UNIT")
read -ra reload_cmd <<<"${reload_cmd//\$MAINPID/$NETPROBED_PID}"
"${reload_cmd[@]}"
ok $? "the unit's ExecReload command runs (${reload_cmd[*]})"
wait_for 5 seen 2 READY=1
ok $? "a reload: READY=1 again" || diag_file "$T/notify.log"
is "$(grep -E 'RELOADING=1|READY=1' "$T/notify.log" | awk '{ print $2 }' | tr '\n' ' ')" \
    "READY=1 RELOADING=1 READY=1 " "RELOADING=1 before it, in order"

echo 'probes: [' >"$T/np.yaml"	# a rejected reload
kill -HUP "$NETPROBED_PID"
wait_for 5 seen 3 READY=1
ok $? "a rejected reload: RELOADING=1 and READY=1 too (the running config stays)"
is "$(grep -c RELOADING=1 "$T/notify.log")" 2 "two reloads, two RELOADING=1"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM"
# sent before it exits, but the listener may log it after
wait_for 5 seen 1 STOPPING=1
ok $? "STOPPING=1 on SIGTERM" || diag_file "$T/notify.log"

# the watchdog is for its own process only (WATCHDOG_PID), and a bad
# value is refused with a warning
cat >"$T/np.yaml" <<END
listen: 127.0.0.1:$NP_PORT
probes: [{name: lo, type: icmp, targets: [127.0.0.1]}]
END
: >"$T/notify.log"
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=1000000 WATCHDOG_PID=1 \
    start_netprobed "$T/np.yaml" "$T/np2.log" || bail_out "netprobed did not start"
wait_for 5 seen 1 READY=1
# absence needs a window: 2 s is four watchdog periods, none may come
wait_for 2 seen 1 WATCHDOG=1
is "$(grep -c WATCHDOG=1 "$T/notify.log")" 0 "WATCHDOG_PID of another process: no watchdog"
stop_pid "$NETPROBED_PID"

NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=soon start_netprobed "$T/np.yaml" "$T/np3.log" ||
	bail_out "netprobed did not start"
like "$(cat "$T/np3.log")" 'WATCHDOG_USEC="soon" is not a number of microseconds; no watchdog' \
    "a bad WATCHDOG_USEC is logged and ignored"
stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "and it still runs and stops cleanly"

done_testing
