#!/usr/bin/env bash
#
# /metrics goes out in pieces (daemon/http.c, METRICS_CHUNK): HTTP/1.1
# gets chunked transfer coding, HTTP/1.0 the plain body and a close, HEAD
# no body; gzip when Accept-Encoding takes it.  A scraper that reads a
# 10 MB answer at 2 KiB/s holds one piece, not the loop: probes run on
# and other scrapes answer meanwhile; a reload that removes 300 targets
# while it reads changes nothing in what it gets (whole, valid, no
# series twice); scrapers that give up mid-answer leave the daemon
# healthy.
#
# 2,300 ICMP targets in 127.0.10.0-127.0.18.255 (loopback only).
# Port: 19660 (netprobed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ -n "$PYTHON3" ] || skip_all "no python3"

T=$TAP_TMPDIR
NP_PORT=19660
LOG=$T/netprobed.log
STUCK=$(dirname "$0")/../peers/stuck_scrape.py

port_listening "$NP_PORT" &&
	bail_out "port $NP_PORT must be free for this test, but something listens there"

# write_conf WITH_GONE: 2,000 "bulk" targets, and 300 "gone" ones if 1
write_conf()
{
	{
		cat <<END
site: {name: metrics-stream-test}
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 500ms
probes:
  - name: bulk
    type: icmp
    targets:
END
		for a in $(seq 10 17); do
			for b in $(seq 1 250); do echo "      - 127.0.$a.$b"; done
		done
		if [ "$1" = 1 ]; then
			printf '  - name: gone\n    type: icmp\n    targets:\n'
			for b in $(seq 1 250); do echo "      - 127.0.18.$b"; done
			for b in $(seq 1 50); do echo "      - 127.0.19.$b"; done
		fi
	} >"$T/netprobed.yaml.new"
	mv -f "$T/netprobed.yaml.new" "$T/netprobed.yaml"
}

# check_body FILE DESC: whole (ends with the process metrics), each
# family together with one TYPE line, no series twice
check_body()
{
	"$PYTHON3" - "$1" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    sys.exit("does not end with a newline")
if "\nprocess_start_time_seconds " not in text:
    sys.exit("no process_start_time_seconds: cut short")
seen, done, types, cur = set(), set(), {}, None
for line in text.splitlines():
    if line.startswith("# TYPE "):
        fam = line.split()[2]
        if fam in types:
            sys.exit("two TYPE lines for " + fam)
        types[fam] = 1
        if cur is not None:
            done.add(cur)
        cur = fam
        continue
    if line.startswith("#") or not line:
        continue
    series = line.rsplit(" ", 1)[0]
    if series in seen:
        sys.exit("series twice: " + series)
    seen.add(series)
    name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", series).group(0)
    if cur is None or not (name == cur or name.startswith(cur + "_")):
        sys.exit("sample %s outside its family (in %s)" % (name, cur))
print(len(seen))
EOF
}

write_conf 1
start_netprobed "$T/netprobed.yaml" "$LOG" || bail_out "netprobed did not start"
PID=$NETPROBED_PID

succ() { metric_value probe_success probe=bulk target="$1"; }
all_up() { scrape && [ "$(succ 127.0.17.250)" = 1 ] && [ "$(succ 127.0.10.1)" = 1 ]; }
wait_for 30 all_up
ok $? "2,300 targets probed" || diag_file "$LOG"

# ---- how each kind of request is answered --------------------------------

curl -sS -o "$T/m1" -D "$T/h1" "$(np_url /metrics)"
like "$(cat "$T/h1")" '[Tt]ransfer-[Ee]ncoding: chunked' "HTTP/1.1: chunked transfer coding"
n=$(check_body "$T/m1")
ok $? "  the body is whole, each family together, no series twice ($n series)"
cmp_ok "$(stat -c %s "$T/m1")" '>' 8000000 "  and large: $(stat -c %s "$T/m1") bytes"
METRICS=$(cat "$T/m1")
promtool_clean "the streamed /metrics"

# gzip when asked (as Prometheus does), identity when not
enc()	# ACCEPT_ENCODING: the Content-Encoding answered, "identity" if none
{
	curl -sS -o "$T/gz" -D "$T/gzh" -H "Accept-Encoding: $1" "$(np_url /metrics)" &&
	    { tr -d '\r' <"$T/gzh" | sed -n 's/^[Cc]ontent-[Ee]ncoding: //p' | grep . ||
	    echo identity; }
}
is "$(enc gzip)" gzip "Accept-Encoding: gzip gets gzip"
like "$(cat "$T/gzh")" 'Vary: Accept-Encoding' "  with Vary: Accept-Encoding"
gzip -dc <"$T/gz" >"$T/gunz"
ok $? "  a valid gzip stream"
check_body "$T/gunz" >/dev/null
ok $? "  of a whole body"
cmp_ok "$(($(stat -c %s "$T/gunz") / $(stat -c %s "$T/gz")))" '>=' 10 \
    "  at least 10x smaller ($(stat -c %s "$T/gz") of $(stat -c %s "$T/gunz") bytes)"
is "$(enc 'br, X-GZIP;q=0.5')" gzip "x-gzip with q=0.5 among others gets gzip"
is "$(enc 'gzip;q=0, br')" identity "gzip;q=0 gets identity"
is "$(enc 'deflate, br')" identity "no gzip offered: identity"
is "$(enc 'gzipx')" identity "a token that only starts with gzip: identity"

# (curl -I writes the headers where a body would go)
curl -sS -I -o "$T/hb" -w '%{http_code}' "$(np_url /metrics)" >"$T/hc"
is "$(cat "$T/hc")" 200 "HEAD: 200"
unlike "$(cat "$T/hb")" '(# HELP|probe_success)' "  and no body"

mkdir -p "$T/s10" && : >"$T/s10/go"
"$PYTHON3" "$STUCK" "$NP_PORT" "$T/s10" --http10 2>"$T/s10/err"
ok $? "HTTP/1.0: the whole answer, then the server closes" || diag_file "$T/s10/err"
unlike "$(cat "$T/s10/head")" '[Tt]ransfer-[Ee]ncoding' "  without chunked coding"
check_body "$T/s10/body" >/dev/null
ok $? "  and the body is whole"

# ---- a scraper stuck part-way ----------------------------------------------
# (it reads 1 KiB every half second: slow, never stalled for the 10 s
# of HTTP_IDLE_TIMEOUT, which would drop it)

mkdir -p "$T/s1"
"$PYTHON3" "$STUCK" "$NP_PORT" "$T/s1" 2>"$T/s1/err" &
SPID=$!
register_pid "$SPID"
wait_for 20 test -e "$T/s1/ready"
ok $? "a scraper reads 1,000 bytes, then 2 KiB/s"

scrape
r0=$(metric_value netprobe_probe_runs_total probe=bulk target=127.0.10.1 result=success)
more_runs() { scrape && [ "$(metric_value netprobe_probe_runs_total probe=bulk \
    target=127.0.10.1 result=success)" -gt "$r0" ]; }
wait_for 5 more_runs
ok $? "meanwhile probes run on and other scrapes answer (runs $r0 -> $(metric_value \
    netprobe_probe_runs_total probe=bulk target=127.0.10.1 result=success))"

write_conf 0
kill -HUP "$PID"
reloaded() { scrape && [ "$(metric_value netprobe_config_reloads_total result=success)" = 2 ]; }
wait_for 20 reloaded
ok $? "a reload drops the 300 'gone' targets while it waits" ||
	{ diag "$(metric_lines netprobe_config_reloads_total)"; diag_file "$LOG"; }
is "$(metric_lines probe_success probe=gone | wc -l)" 0 "  their series are gone from a new scrape"

: >"$T/s1/go"
wait "$SPID"
ok $? "the slow scraper, reading at full speed again, gets a whole answer" || diag_file "$T/s1/err"
n=$(check_body "$T/s1/body")
ok $? "  valid: each family together, no series twice ($n series)" || diag "$n"
is "$(grep -c '^probe_success{probe="bulk"' "$T/s1/body")" 2000 \
    "  with every kept target's probe_success"

# ---- scrapers that give up -------------------------------------------------

pids=()
for i in $(seq 1 20); do
	mkdir -p "$T/a$i"
	"$PYTHON3" "$STUCK" "$NP_PORT" "$T/a$i" --abandon 2>"$T/a$i/err" &
	pids+=("$!")
	register_pid "$!"
done
all_ready() { for i in $(seq 1 20); do [ -e "$T/a$i/ready" ] || return 1; done; }
wait_for 30 all_ready
ok $? "20 scrapers each read 1,000 bytes"
for i in $(seq 1 20); do : >"$T/a$i/go"; done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
is "$fails" 0 "  and hang up mid-answer"
http_get "$(np_url /healthz)"
is "$HTTP_CODE" 200 "netprobed is healthy after them"
curl -sS -o "$T/m2" "$(np_url /metrics)"
check_body "$T/m2" >/dev/null
ok $? "and the next scrape is whole"
kill -0 "$PID"
ok $? "netprobed still runs"
unlike "$(cat "$LOG")" '(fatal|assert|AddressSanitizer|runtime error)' "nothing alarming in the log"

stop_pid "$PID"
done_testing
