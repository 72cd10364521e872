#!/usr/bin/env bash
#
# The HTTP listener's limits (daemon/http.c): an oversized header, a long
# URI and a POST get clean 4xx; slowloris clients are dropped within the
# request timeout while /metrics keeps answering; 300 idle connections
# are capped (open fds and RSS stay bounded); every refusal is counted in
# netprobe_http_rejected_total{reason}.
#
# Traffic goes only to 127.0.0.1.  Ports: 19630 (netprobed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ -n "$PYTHON3" ] || skip_all "no python3"

T=$TAP_TMPDIR
NP_PORT=19630
LOG=$T/netprobed.log
REQ_TIMEOUT=10	# HTTP_REQ_TIMEOUT in daemon/http.c
MAX_CONNS=256	# HTTP_MAX_CONNS

port_listening "$NP_PORT" &&
	bail_out "port $NP_PORT must be free for this test, but something listens there"

cat >"$T/netprobed.yaml" <<EOF2
site:
  name: http-limits-test
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 5s
  timeout: 1s
probes:
  - name: lo-icmp
    type: icmp
    targets: [127.0.0.1]
EOF2

start_netprobed "$T/netprobed.yaml" "$LOG"
ok $? "netprobed starts on 127.0.0.1:$NP_PORT" ||
	bail_out "netprobed did not start"
PID=$NETPROBED_PID

rej() { scrape >/dev/null; metric_value netprobe_http_rejected_total "reason=$1"; }

scrape
for r in header_too_large uri_too_long method too_many_connections timeout; do
	is "$(metric_value netprobe_http_rejected_total "reason=$r")" 0 \
	    "netprobe_http_rejected_total{reason=\"$r\"} starts at 0"
done

# ---- (1) a 64 KiB header ---------------------------------------------

big=$(head -c 65536 /dev/zero | tr '\0' a)
http_get "$(np_url /metrics)" -H "X-Big: $big"
like "$HTTP_CODE" '^(400|413|431)$' "a 64 KiB header gets 400, 413 or 431 (got $HTTP_CODE)"
scrape
ok $? "/metrics still answers after the oversized header"

# ---- (2) a 4 KiB URI, (3) POST ----------------------------------------

long=$(head -c 4096 /dev/zero | tr '\0' b)
http_get "$(np_url "/metrics?x=$long")"
is "$HTTP_CODE" 414 "a 4 KiB URI gets 414"
http_get "$(np_url "/probe?module=lo-icmp&target=127.0.0.1&x=$long")"
is "$HTTP_CODE" 414 "a 4 KiB /probe URI gets 414"
http_get "$(np_url /metrics)" -X POST -d x=1
is "$HTTP_CODE" 405 "POST /metrics gets 405"
allow=$("$CURL" -s --max-time 5 -o /dev/null -D - -X DELETE "$(np_url /healthz)" |
    tr -d '\r' | grep -i '^allow:')
is "$allow" "Allow: GET, HEAD" "a 405 says Allow: GET, HEAD"
http_get "$(np_url /nowhere)"
is "$HTTP_CODE" 404 "an unknown path is still 404"
http_get "$(np_url /healthz)"
is "$HTTP_CODE:$HTTP_BODY" "200:ok" "/healthz still answers 200 ok"

# ---- (4) slowloris -----------------------------------------------------

# 50 connections send a partial request line, then one byte a second;
# each records how long until the server closed it (or "open" at the
# deadline).
"$PYTHON3" - "$NP_PORT" "$T/slow.out" "$((REQ_TIMEOUT + 8))" >"$T/slow.log" 2>&1 <<'PY' &
import socket, sys, time, select
port, out, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
socks, t0 = [], time.monotonic()
for i in range(50):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(b"GET /metrics?slow=")
    s.setblocking(False)
    socks.append(s)
open(out + ".ready", "w").close()
closed = {}
while len(closed) < len(socks) and time.monotonic() - t0 < limit:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            s.send(b"a")
        except OSError:
            closed[i] = time.monotonic() - t0
            continue
        try:
            if s.recv(4096) == b"":
                closed[i] = time.monotonic() - t0
        except BlockingIOError:
            pass
        except OSError:
            closed[i] = time.monotonic() - t0
    time.sleep(1)
with open(out, "w") as f:
    for i in range(len(socks)):
        f.write("%s\n" % ("%.1f" % closed[i] if i in closed else "open"))
for s in socks:
    s.close()
PY
SLOW_PID=$!
register_pid "$SLOW_PID"
wait_for 10 test -e "$T/slow.out.ready"
ok $? "50 slowloris connections are open" || diag_file "$T/slow.log"

slow_ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	t=$(_now_ms)
	code=$("$CURL" -s --max-time 2 -o /dev/null -w '%{http_code}' "$(np_url /metrics)")
	if [ "$code" = 200 ]; then
		slow_ok=$((slow_ok + 1))
	else
		diag "scrape $i during slowloris: HTTP ${code:-000} after $(($(_now_ms) - t))ms"
	fi
	sleep 0.5
done
is "$slow_ok" 10 "10 of 10 scrapes answer within 2 s during the slowloris"

wait_for $((REQ_TIMEOUT + 15)) test -s "$T/slow.out"
ok $? "the slowloris client finished" || diag_file "$T/slow.log"
stop_pid "$SLOW_PID"
nopen=$(grep -c open "$T/slow.out")
is "$nopen" 0 "the server closed all 50 slow connections" || diag_file "$T/slow.out" 50
late=$(awk -v l="$((REQ_TIMEOUT + 3))" '$1 != "open" && $1 + 0 > l' "$T/slow.out" | wc -l)
is "$late" 0 "each within ${REQ_TIMEOUT}s + 3s slack" || diag_file "$T/slow.out" 50
early=$(awk -v l="$((REQ_TIMEOUT - 2))" '$1 != "open" && $1 + 0 < l' "$T/slow.out" | wc -l)
is "$early" 0 "none before the timeout (the limit is the timeout, not a bug)" ||
	diag_file "$T/slow.out" 50
cmp_ok "$(rej timeout)" '>=' 50 "netprobe_http_rejected_total{reason=\"timeout\"} >= 50"

# ---- (5) many idle connections ----------------------------------------

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
nfd() { find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss0=$(rss)
fd0=$(nfd)
"$PYTHON3" - "$NP_PORT" "$T/idle.ready" "$T/idle.stop" >"$T/idle.log" 2>&1 <<'PY' &
import socket, sys, time, os
port, ready, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
socks = []
for i in range(300):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError as e:
        print("connect %d: %s" % (i, e))
open(ready, "w").close()
t0 = time.monotonic()
while not os.path.exists(stop) and time.monotonic() - t0 < 30:
    time.sleep(0.1)
for s in socks:
    s.close()
PY
IDLE_PID=$!
register_pid "$IDLE_PID"
wait_for 10 test -e "$T/idle.ready"
ok $? "300 idle connections are made" || diag_file "$T/idle.log"
cap_hit() { [ "$(rej too_many_connections)" -ge 40 ]; }
wait_for 5 cap_hit
ok $? "connections over $MAX_CONNS push out the oldest idle ones, counted" ||
	diag "too_many_connections: $(rej too_many_connections)"
scrape
ok $? "/metrics answers with 300 idle connections" || diag "HTTP $HTTP_CODE"
fd1=$(nfd)
rss1=$(rss)
cmp_ok "$fd1" '<=' "$((fd0 + MAX_CONNS + 8))" "open fds stay bounded by the cap ($fd0 -> $fd1)"
cmp_ok "$((rss1 - rss0))" '<' 4096 "RSS grows by less than 4 MiB ($rss0 -> $rss1 KiB)"
touch "$T/idle.stop"
wait_for 10 pid_gone "$IDLE_PID"
stop_pid "$IDLE_PID"
fds_back() { [ "$(nfd)" -le "$((fd0 + 2))" ]; }
wait_for 10 fds_back
ok $? "the fds are released once the clients leave ($(nfd) open, $fd0 before)"
scrape
ok $? "/metrics answers after they left (no connection slot leaked)"
# after 650 connections in all, a new one is still admitted
http_get "$(np_url /healthz)"
is "$HTTP_CODE" 200 "a new client is admitted after the flood"

# ---- (6) the counters ---------------------------------------------------

scrape
cmp_ok "$(metric_value netprobe_http_rejected_total reason=header_too_large)" '>=' 1 \
    "header_too_large is counted"
is "$(metric_value netprobe_http_rejected_total reason=uri_too_long)" 2 \
    "uri_too_long counts the 2 long URIs"
is "$(metric_value netprobe_http_rejected_total reason=method)" 2 \
    "method counts the POST and the DELETE"
like "$(metric_lines netprobe_http_rejected_total)" 'reason="too_many_connections"' \
    "too_many_connections is exported"
promtool_clean "promtool check metrics is clean"
ok "$(pid_alive "$PID"; echo $?)" "netprobed is still running"
stop_pid "$PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM"

done_testing
