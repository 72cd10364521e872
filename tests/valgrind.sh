#!/usr/bin/env bash
# Valgrind over the unit tests and one daemon session (start, scrape,
# reload, stop): any memory error or leak fails.  BUILD is the build dir.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/..}
# unit tests that read fixtures find them as under make check
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
export top_srcdir
# the daemon session runs as root without user: (no privilege drop here)
export NETPROBED_ALLOW_ROOT=1
vg=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=9)
status=0

for t in "$BUILD"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.log|*.trs) continue ;; esac
	if "${vg[@]}" "$t" >/dev/null 2>"$BUILD/valgrind-unit.err"; then
		echo "ok: $(basename "$t")"
	else
		echo "FAILED: $(basename "$t")"; cat "$BUILD/valgrind-unit.err"; status=1
	fi
done

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
port=19599
cat > "$tmp/r.yml" <<'YAML'
groups:
  - name: g
    rules:
      - record: probe:success:min
        expr: min by (probe) (probe_success)
      - alert: Down
        expr: probe:success:min == 0
        annotations: {summary: '{{ $labels.probe }} down: {{ $value }}'}
      - record: lo_rtt_p95
        expr: histogram_quantile(0.95, sum by (le) (rate(netprobe_icmp_rtt_seconds_bucket[5s])))
YAML
cat > "$tmp/a.yaml" <<YAML
listen: 127.0.0.1:$port
defaults: {interval: 500ms, timeout: 400ms, evaluation_interval: 1s}
rule_files: [r.yml]
# nobody listens on 16299: traps go nowhere, informs time out and queue;
# no AgentX master at that socket: the sub-agent retries
snmp:
  agentx: "unix:$tmp/no-master.sock"
  managers:
    - {name: t, address: "127.0.0.1:16299", community: c, mode: trap}
    - {name: i, address: "127.0.0.1:16299", community: c, mode: inform,
       timeout: 200ms, queue_size: 2}
    - {name: v3, address: "127.0.0.1:16299", version: "3", user: u,
       auth_protocol: SHA-256, auth_passphrase: 12345678, priv_protocol: AES,
       priv_passphrase: 12345678, mode: inform, engine_id: 0x8000000001020304}
probes:
  - {name: lo, type: icmp, targets: [127.0.0.1, "::1"], count: 2, packet_interval: 50ms}
  - {name: closed, type: tcp, targets: ["127.0.0.1:1"]}
  # negative probes: the observer's raw sockets, a control, a sweep
  - {name: neg, type: tcp, targets: ["127.0.0.1:1"], expect: blocked,
     control: lo, filter_hops: 1}
  - {name: negsweep, type: tcp, expect: blocked,
     sweep: {prefixes: [127.0.9.0/31], ports: [1], per_interval: 1}}
audit_log: audit.jsonl
state_file: state.json
YAML
"${vg[@]}" "$BUILD/netprobed" -c "$tmp/a.yaml" --once >/dev/null 2>"$tmp/once.err" || {
	rc=$?; [ $rc -eq 1 ] || { echo "FAILED: --once under valgrind (rc $rc)"; cat "$tmp/once.err"; status=1; }
}
"${vg[@]}" "$BUILD/netprobed" -c "$tmp/a.yaml" 2>"$tmp/d.err" &
pid=$!
end=$((SECONDS + 30))
until curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | grep -q '^probe_success{probe="closed"'; do
	[ $SECONDS -ge $end ] && { echo "FAILED: daemon under valgrind never served metrics"; status=1; break; }
	sleep 0.1
done
until curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | grep -q '^netprobe_isolation_sweep_passes_total{probe="negsweep".*} [1-9]'; do
	[ $SECONDS -ge $end ] && { echo "FAILED: the sweep never completed a pass under valgrind"; status=1; break; }
	sleep 0.1
done
# rules: an alert fires, /status shows it
until curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | grep -q '^ALERTS{alertname="Down",alertstate="firing",probe="closed"} 1'; do
	[ $SECONDS -ge $end ] && { echo "FAILED: rules under valgrind never fired"; status=1; break; }
	sleep 0.1
done
curl -s --max-time 5 "http://127.0.0.1:$port/status" | grep -q '"summary":"closed down: 0"' ||
	{ echo "FAILED: /status under valgrind"; status=1; }
# /: the status page (the alert, the negative probes, the sweep)
curl -s --max-time 5 "http://127.0.0.1:$port/" | grep -q '^<tr class="alert bad"><td>Down<' ||
	{ echo "FAILED: / under valgrind"; status=1; }
# /metrics compressed for a scraper that takes gzip (zlib's state freed)
curl -s --max-time 20 -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/metrics" |
	gzip -dc | grep -q '^process_start_time_seconds ' ||
	{ echo "FAILED: gzip /metrics under valgrind"; status=1; }
# /probe: a run of its own, in a store of its own; and debug=true
curl -s --max-time 20 "http://127.0.0.1:$port/probe?module=lo&target=127.0.0.3" | grep -q '^probe_success{.*} 1$' ||
	{ echo "FAILED: /probe under valgrind"; status=1; }
curl -s --max-time 20 "http://127.0.0.1:$port/probe?module=closed&target=127.0.0.1:2&debug=true" | grep -q '^Logs for the probe' ||
	{ echo "FAILED: /probe debug under valgrind"; status=1; }
# a reload that keeps probe "lo": its next runs use the kept state
runs() { curl -s --max-time 2 "http://127.0.0.1:$port/metrics" |
	awk '/^netprobe_probe_runs_total\{probe="lo",type="icmp",target="127.0.0.1"/{print $2}'; }
printf 'listen: 127.0.0.1:%s\ndefaults: {interval: 500ms, timeout: 400ms, evaluation_interval: 1s}\nrule_files: [r.yml]\nprobes: [{name: lo, type: icmp, targets: [127.0.0.1], count: 2, packet_interval: 50ms}]\n' $port > "$tmp/a.yaml"
kill -HUP $pid
end=$((SECONDS + 30))
until ! curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | grep -q 'probe="closed"'; do
	[ $SECONDS -ge $end ] && { echo "FAILED: reload under valgrind"; status=1; break; }
	sleep 0.1
done
before=$(runs)
end=$((SECONDS + 30))
until [ "$(runs)" -ge $((${before:-0} + 2)) ] 2>/dev/null; do
	[ $SECONDS -ge $end ] && { echo "FAILED: kept probe did not run after reload"; status=1; break; }
	sleep 0.1
done
echo 'probes: [' > "$tmp/a.yaml"	# a broken reload must not leak either
kill -HUP $pid
end=$((SECONDS + 30))
until curl -s --max-time 2 "http://127.0.0.1:$port/metrics" | grep -q '^netprobe_config_last_reload_successful 0'; do
	[ $SECONDS -ge $end ] && { echo "FAILED: bad reload under valgrind"; status=1; break; }
	sleep 0.1
done
kill -TERM $pid
if wait $pid; then echo "ok: daemon session"; else
	echo "FAILED: daemon session under valgrind"; status=1; fi
pid=
grep -v '^netprobed: ' "$tmp/d.err" || true

# TLS and basic authentication: the handshake, the password worker
# thread (a check, a remembered one, a wrong one), a reload, a stop
if command -v openssl >/dev/null && command -v htpasswd >/dev/null; then
	wport=19598
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" -days 2 -subj /CN=vg \
	    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	printf 'tls_server_config: {cert_file: tls.crt, key_file: tls.key}\nbasic_auth_users: {p: %s}\n' \
	    "'$(htpasswd -nbBC 4 p pw | cut -d: -f2-)'" >"$tmp/web.yml"
	chmod 600 "$tmp/tls.key" "$tmp/web.yml"
	printf 'listen: 127.0.0.1:%s\nweb_config_file: web.yml\nprobes: []\n' $wport >"$tmp/w.yaml"
	"${vg[@]}" "$BUILD/netprobed" -c "$tmp/w.yaml" 2>"$tmp/w.err" &
	pid=$!
	wc=(curl -s --max-time 20 --cacert "$tmp/tls.crt" -o /dev/null -w '%{http_code}')
	end=$((SECONDS + 30))
	until [ "$("${wc[@]}" -u p:pw "https://127.0.0.1:$wport/healthz")" = 200 ]; do
		[ $SECONDS -ge $end ] && { echo "FAILED: TLS + auth under valgrind"; status=1; break; }
		sleep 0.2
	done
	[ "$("${wc[@]}" -u p:pw "https://127.0.0.1:$wport/metrics")" = 200 ] &&
	[ "$("${wc[@]}" -u p:no "https://127.0.0.1:$wport/metrics")" = 401 ] ||
		{ echo "FAILED: TLS + auth answers under valgrind"; status=1; }
	kill -HUP $pid
	"${wc[@]}" -u p:pw "https://127.0.0.1:$wport/status" >/dev/null
	kill -TERM $pid
	if wait $pid; then echo "ok: TLS + auth session"; else
		echo "FAILED: TLS + auth session under valgrind"; status=1; fi
	pid=
	grep -v '^netprobed: ' "$tmp/w.err" || true
fi
exit $status
