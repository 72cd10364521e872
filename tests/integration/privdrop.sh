#!/usr/bin/env bash
#
# Dropping root: started as root with `user:`, netprobed opens its
# listener and captures, then runs as that user with CAP_NET_RAW only
# (plus CAP_NET_ADMIN when a probe uses fwmark:), read from
# /proc/PID/status; its probes, the isolation observer's raw sockets and
# the watcher still work, and a reload too.  Without `user:` it says so.
#
# Ports: 19589 (netprobed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ "$(id -u)" = 0 ] || skip_all "dropping root needs root"
getent passwd nobody >/dev/null || skip_all "no user nobody"

T=$TAP_TMPDIR
NP_PORT=19589
port_listening "$NP_PORT" && bail_out "port $NP_PORT is in use"
NOBODY=$(id -u nobody)

# status FIELD: the running daemon's /proc/PID/status line, values only
status() { awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' \
    "/proc/$NETPROBED_PID/status"; }

# after the drop, a reload reads the file as nobody
chmod 755 "$T"
cat >"$T/np.yaml" <<END
listen: 127.0.0.1:$NP_PORT
user: nobody
defaults: {interval: 1s, timeout: 500ms}
probes:
  - {name: lo, type: icmp, targets: [127.0.0.1]}
  - {name: neg, type: tcp, targets: ["127.0.0.1:1"], expect: blocked,
     filter_hops: 1}
watchers:
  - {name: w, interface: lo, segment: [127.0.9.0/24]}
END
start_netprobed "$T/np.yaml" "$T/np.log" || bail_out "netprobed did not start"
is "$(status Uid)" "$NOBODY $NOBODY $NOBODY $NOBODY" "it runs as nobody (real, effective, saved, fs uid)"
is "$(status Gid | cut -d" " -f1-3)" "$(id -g nobody) $(id -g nobody) $(id -g nobody)" \
    "and nobody's group"
is "$(status CapEff)" 0000000000002000 "effective capabilities: CAP_NET_RAW only"
is "$(status CapPrm)" 0000000000002000 "permitted: the same"
is "$(status CapBnd)" 0000000000002000 "bounding set: nothing else can come back"
like "$(cat "$T/np.log")" "running as nobody \\(uid $NOBODY\\) with CAP_NET_RAW" \
    "the log says so"
works()
{
	scrape &&
	[ "$(metric_value probe_success probe=lo)" = 1 ] &&
	[ "$(metric_value netprobe_isolation_reason_info probe=neg reason=rst_from_filter)" = 1 ] &&
	[ "$(metric_value netprobe_watcher_up watcher=w)" = 1 ]
}
wait_for 10 works
ok $? "as nobody: ICMP works, the observer reads the RST's TTL, the capture runs" ||
	diag "$(metric_lines probe_success; metric_lines netprobe_isolation_reason_info)"
kill -HUP "$NETPROBED_PID"
reloaded() { scrape && [ "$(metric_value netprobe_config_reloads_total result=success)" = 2 ]; }
wait_for 10 reloaded
ok $? "a reload works after the drop"
stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0"

# fwmark needs CAP_NET_ADMIN: kept, and only then
cat >"$T/mark.yaml" <<END
listen: 127.0.0.1:$NP_PORT
user: nobody
probes:
  - {name: lo, type: icmp, targets: [127.0.0.1], fwmark: 7}
END
start_netprobed "$T/mark.yaml" "$T/mark.log" || bail_out "netprobed did not start"
is "$(status CapEff)" 0000000000003000 "with fwmark: CAP_NET_RAW and CAP_NET_ADMIN"
stop_pid "$NETPROBED_PID"

# a listener below 1024 is opened before the drop, and serves after it
# (nobody could not bind it, and keeps no CAP_NET_BIND_SERVICE)
LOW=951
if port_listening "$LOW"; then
	skip "port $LOW is in use" "a listener on a port below 1024 serves after the drop"
else
	cat >"$T/low.yaml" <<END
listen: 127.0.0.1:$LOW
user: nobody
probes:
  - {name: lo, type: icmp, targets: [127.0.0.1]}
END
	NP_PORT=$LOW start_netprobed "$T/low.yaml" "$T/low.log" ||
		bail_out "netprobed did not start on port $LOW"
	low_works() { NP_PORT=$LOW scrape && [ "$(metric_value probe_success probe=lo)" = 1 ]; }
	wait_for 10 low_works
	ok $? "as nobody, the listener on port $LOW (opened as root) serves /metrics" ||
		diag_file "$T/low.log"
	is "$(status Uid | cut -d" " -f1):$(status CapEff)" "$NOBODY:0000000000002000" \
	    "and the process is nobody with CAP_NET_RAW only"
	stop_pid "$NETPROBED_PID"
fi

# no such user: a config error, before anything runs
cat >"$T/bad.yaml" <<END
user: npnosuchuser
probes: []
END
out=$("$NETPROBED" -c "$T/bad.yaml" --check-config 2>&1)
is "$?:$out" "2:$T/bad.yaml:1:7: 'user': no such user \"npnosuchuser\"
$T/bad.yaml: 1 error" "user: a missing user is a FILE:LINE:COL error"

# as root without user: it refuses, unless told to
cat >"$T/root.yaml" <<END
listen: 127.0.0.1:$NP_PORT
probes: [{name: lo, type: icmp, targets: [127.0.0.1]}]
END
out=$(env -u NETPROBED_ALLOW_ROOT timeout 10 "$NETPROBED" -c "$T/root.yaml" \
    </dev/null 2>&1)
is "$?" 1 "as root without user: it refuses to start (exit 1)"
like "$out" 'error: refusing to run as root: set user: in the configuration' \
    "and says why"
! port_listening "$NP_PORT"
ok $? "it opened no listener"
NETPROBED_ALLOW_ROOT= start_netprobed "$T/root.yaml" "$T/root.log" \
    --allow-root || bail_out "netprobed --allow-root did not start"
is "$(status Uid | cut -d" " -f1)" 0 "with --allow-root it stays root"
like "$(cat "$T/root.log")" 'info: running as root \(allowed\): set user:' \
    "and says so"
stop_pid "$NETPROBED_PID"
NETPROBED_ALLOW_ROOT=1 start_netprobed "$T/root.yaml" "$T/root2.log" ||
    bail_out "netprobed with NETPROBED_ALLOW_ROOT=1 did not start"
is "$(status Uid | cut -d" " -f1)" 0 "NETPROBED_ALLOW_ROOT=1 allows it too"
stop_pid "$NETPROBED_PID"

done_testing
