#!/usr/bin/env bash
#
# /probe?module=NAME&target=ADDR: one run of a configured probe against
# any target, answered with its gauges like blackbox_exporter, so a
# Prometheus multi-target scrape config works unchanged (checked against
# a real Prometheus).  Also: bad requests, debug=true, the scrape-timeout
# header, the concurrency limit and a reload during a request.
#
# Ports: 19540 (netprobed), 19541 (a listener), 19542 (closed),
# 19543 (prometheus).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon

T=$TAP_TMPDIR
NP_PORT=19540
PROM_PORT=19543
LOG=$T/netprobed.log

cat >"$T/np.yaml" <<YAML
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 30s, timeout: 5s}
probes:
  - name: ping
    type: icmp
    targets: [127.0.0.1]
    count: 2
    packet_interval: 10ms
    labels: {group: extranet}
  - name: slowping
    type: icmp
    targets: [127.0.0.1]
    count: 15
    packet_interval: 200ms
  - name: port
    type: tcp
    targets: ["127.0.0.1:19541"]
YAML

start_tcp_listener 127.0.0.1 19541 || bail_out "cannot start a listener"
start_netprobed "$T/np.yaml" "$LOG" || bail_out "netprobed did not start"

probe() { http_get "$(np_url "/probe?$1")" "${@:2}"; }

# ---- answers ------------------------------------------------------------

probe 'module=ping&target=127.0.0.9'
is "$HTTP_CODE" 200 "/probe answers 200"
METRICS=$HTTP_BODY
is "$(metric_value probe_success probe=ping type=icmp target=127.0.0.9 group=extranet)" 1 \
    "icmp module against a target not in the config: probe_success 1 with the module's labels"
like "$METRICS" '^netprobe_icmp_packet_loss_ratio\{.*target="127.0.0.9".*\} 0$' \
    "the type's own gauges come along"
unlike "$METRICS" '_total\{|_bucket\{' \
    "only gauges, like blackbox_exporter (no counters or histograms)"
out=$(promtool check metrics <<<"$METRICS" 2>&1)
ok $? "promtool check metrics accepts the /probe body" || diag "$out"
is "$out" "" "promtool has nothing to say"

probe 'module=port&target=127.0.0.1:19542'
METRICS=$HTTP_BODY
is "$(metric_value probe_success probe=port target=127.0.0.1:19542)" 0 \
    "tcp module to a closed port: probe_success 0 (HTTP $HTTP_CODE)"
probe 'module=port&target=127.0.0.1:19541'
METRICS=$HTTP_BODY
is "$(metric_value probe_success probe=port target=127.0.0.1:19541)" 1 \
    "tcp module to the listener: probe_success 1"

scrape
unlike "$METRICS" 'target="127.0.0.9"' \
    "/probe runs leave nothing behind in /metrics"

# ---- bad requests -------------------------------------------------------

probe 'module=nope&target=127.0.0.1'
is "$HTTP_CODE" 400 "unknown module: 400"
like "$HTTP_BODY" 'unknown module "nope"' "the body names the unknown module"
probe 'module=ping&target=gw.example'
is "$HTTP_CODE" 400 "a hostname target: 400 (names are never resolved)"
like "$HTTP_BODY" 'invalid icmp target "gw.example"' "the body says why"
probe 'module=port&target=127.0.0.1'
is "$HTTP_CODE" 400 "tcp target without a port: 400"
probe 'target=127.0.0.1'
is "$HTTP_CODE" 400 "no module: 400"
like "$HTTP_BODY" '^usage: /probe\?module=' "the body shows the usage"

# ---- debug and the scrape timeout ----------------------------------------

probe 'module=port&target=127.0.0.1:19542&debug=true'
like "$HTTP_BODY" '^Logs for the probe:' "debug=true: the step-by-step log"
like "$HTTP_BODY" 'connect to 127.0.0.1:19542' "the log shows the connect"
like "$HTTP_BODY" '^Result: refused: Connection refused' "and the result"
like "$HTTP_BODY" '^probe_success\{.*\} 0$' \
    "and the metrics that would have been returned"

probe 'module=ping&target=127.0.0.1&debug=true' \
    -H 'X-Prometheus-Scrape-Timeout-Seconds: 2'
like "$HTTP_BODY" 'timeout 1500ms' \
    "X-Prometheus-Scrape-Timeout-Seconds 2 shortens the 5s module timeout to 1.5s"

# ---- the concurrency limit ----------------------------------------------

# slowping runs ~3 s; 40 at once exceed the limit of 32.  One curl makes
# the 40 requests at once (40 curls started one after the other could
# take longer than a run on a loaded machine, and find slots freed again)
par=()
for i in $(seq 40); do
	par+=(-o /dev/null "$(np_url "/probe?module=slowping&target=127.0.0.$((i + 10))")")
done
curl -s --max-time 10 --parallel --parallel-immediate --parallel-max 40 \
    -w '%{http_code}\n' "${par[@]}" >"$T/par.codes"
codes=$(sort "$T/par.codes" | uniq -c)
is "$(grep -c '^503$' "$T/par.codes")" 8 \
    "40 concurrent requests: 32 run, 8 get 503" || diag "$codes"
is "$(grep -c '^200$' "$T/par.codes")" 32 "and 32 get their answer"
scrape
cmp_ok "$(metric_value netprobe_probe_requests_total outcome=busy)" '>=' 8 \
    "netprobe_probe_requests_total{outcome=\"busy\"} counts them"

# ---- a reload while a request runs ----------------------------------------

curl -s --max-time 10 -o "$T/reload.body" -w '%{http_code}' \
    "$(np_url '/probe?module=slowping&target=127.0.0.1')" >"$T/reload.code" &
cpid=$!
# the request is in: netprobed runs it (a connection alone is not enough:
# the request may not have been read yet)
held() { scrape && [ "$(metric_value netprobe_probe_requests_in_flight)" = 1 ]; }
wait_for 5 held
kill -HUP "$NETPROBED_PID"
wait "$cpid"
is "$(cat "$T/reload.code")" 503 "a reload ends requests in flight with 503"
like "$(cat "$T/reload.body")" 'configuration reloaded' "saying why"

# ---- a client that gives up -------------------------------------------------

# evhttp does not read while a request is pending, so the hang-up is seen
# when the run ends (bounded by its timeout); then the slot is free again
scrape
before=$(metric_value netprobe_probe_requests_total outcome=ok)
curl -s --max-time 0.5 -o /dev/null "$(np_url '/probe?module=slowping&target=127.0.0.1')"
finished() { scrape && [ "$(metric_value netprobe_probe_requests_total outcome=ok)" -gt "$before" ]; }
wait_for 10 finished
ok $? "a run whose client hung up still ends and frees its slot" ||
    diag "$(metric_lines netprobe_probe_requests_total)"
ok "$(pid_alive "$NETPROBED_PID"; echo $?)" "and netprobed carries on"
probe 'module=ping&target=127.0.0.1'
is "$HTTP_CODE" 200 "the next /probe is served"

# ---- a real Prometheus with a blackbox-style scrape config ---------------

if ! command -v prometheus >/dev/null 2>&1; then
	skip "prometheus is not installed" "Prometheus scrapes /probe"
	skip "prometheus is not installed" "the target label"
else
	cat >"$T/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: blackbox-style
    metrics_path: /probe
    params: {module: [ping]}
    static_configs: [{targets: [127.0.0.21, 127.0.0.22]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: "127.0.0.1:$NP_PORT"}
YAML
	prometheus --config.file="$T/prometheus.yml" \
	    --storage.tsdb.path="$T/tsdb" \
	    --web.listen-address=127.0.0.1:$PROM_PORT \
	    >"$T/prometheus.log" 2>&1 &
	register_pid $!
	q() { curl -s --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
	    --data-urlencode "query=$1"; }
	two_up() { [ "$(q 'sum(probe_success{job="blackbox-style"})' |
	    sed -n 's/.*"value":\[[0-9.]*,"\([0-9.]*\)"\].*/\1/p')" = 2 ]; }
	wait_for 30 two_up
	ok $? "Prometheus scraping /probe the blackbox way sees probe_success 1 for both targets" ||
	    { diag "$(q 'probe_success')"; diag_file "$T/prometheus.log" 20; }
	like "$(q 'probe_success{instance="127.0.0.22"}')" '"target":"127.0.0.22"' \
	    "the target label is the probed address"
fi

done_testing
