#!/usr/bin/env bash
#
# TLS and basic authentication on the HTTP endpoints (web_config_file:,
# the exporters' web configuration format; daemon/webconfig.c and
# daemon/httpauth.c): a real Prometheus scrapes over TLS with a password;
# wrong or missing credentials get 401 and are counted; password checks
# run off the loop (a scrape with a known credential answers while slow
# bcrypt checks are queued, and a flood of them gets 503, not a stall);
# a client certificate can be required; a renewed certificate takes
# effect on SIGHUP and a bad one keeps the old; secret files others can
# read are refused; no secret reaches the log or /status.
#
# Traffic goes only to 127.0.0.1.  Ports: 19640 (netprobed), 19641
# (prometheus).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
command -v openssl >/dev/null || skip_all "no openssl (scripts/deps test)"
command -v htpasswd >/dev/null ||
    skip_all "no htpasswd (apache2-utils: scripts/deps test)"

T=$TAP_TMPDIR
NP_PORT=19640
PROM_PORT=19641
BASE=https://127.0.0.1:$NP_PORT
LOG=$T/netprobed.log
PASS='S3cret-pass-19640'
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}

for p in $NP_PORT $PROM_PORT; do
	port_listening "$p" &&
		bail_out "port $p must be free for this test, but something listens there"
done

# ---- certificates: a CA, the server (for 127.0.0.1), a client, and a
# second CA and server for the renewal
ca() {	# ca NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.crt" -days 2 -subj "/CN=$1" \
	    2>/dev/null
}
cert() {	# cert NAME CA [SAN]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -out "$T/$1.csr" -subj "/CN=$1" 2>/dev/null &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" \
	    -CAcreateserial -out "$T/$1.crt" -days 2 \
	    ${3:+-extfile <(printf 'subjectAltName=%s\n' "$3")} 2>/dev/null
}
ca ca && cert server ca IP:127.0.0.1 && cert client ca &&
    ca ca2 && cert server2 ca2 IP:127.0.0.1 ||
    bail_out "openssl could not make the test certificates"
chmod 600 "$T"/*.key

HASH=$(htpasswd -nbBC 10 prometheus "$PASS" | cut -d: -f2-)
SLOW=$(htpasswd -nbBC 12 slow "$PASS" | cut -d: -f2-)
web() {	# web FILE [EXTRA TLS LINES]
	cat >"$1" <<EOF
tls_server_config:
  cert_file: server.crt
  key_file: server.key
$2
basic_auth_users:
  prometheus: '$HASH'
  slow: '$SLOW'
EOF
	chmod 600 "$1"
}
web "$T/web.yml"
cat >"$T/np.yaml" <<EOF
site: {name: web-tls-test}
listen: 127.0.0.1:$NP_PORT
web_config_file: web.yml
defaults: {interval: 1s, timeout: 500ms}
probes:
  - name: self
    type: tcp
    targets: ["127.0.0.1:$NP_PORT"]
EOF

# ---- the configuration is checked --------------------------------------

out=$("$NETPROBED" -c "$T/np.yaml" --check-config 2>&1)
is "$?" 0 "--check-config accepts the web configuration" || diag "$out"

check_err() {	# check_err DESC REGEX: np.yaml (with the current web.yml) fails
	local out rc
	out=$("$NETPROBED" -c "$T/np.yaml" --check-config 2>&1)
	rc=$?
	is "$rc" 2 "$1: --check-config exits 2" || diag "$out"
	like "$out" "$2" "$1: the message says where and why"
	unlike "$out" '\$2[aby]\$' "$1: no hash in the message"
}
cp "$T/web.yml" "$T/web.good"
chmod 644 "$T/server.key"
check_err "a key readable by others" \
    "^$T/web.yml:3:13: 'key_file': $T/server.key is readable by others \\(mode 644\\); chmod 600 it$"
chmod 640 "$T/server.key"
out=$("$NETPROBED" -c "$T/np.yaml" --check-config 2>&1)
is "$?" 0 "a key readable by its group (root:netprobed 0640) is accepted" ||
    diag "$out"
chmod 600 "$T/server.key"
chmod 644 "$T/web.yml"
check_err "a web config readable by others (it holds the hashes)" \
    "^$T/np.yaml:3:18: 'web_config_file': $T/web.yml is readable by others"
web "$T/web.yml" "  client_auth_type: RequireAnyClientCert"
check_err "a client auth type that verifies nothing" \
    "^$T/web.yml:4:21: 'client_auth_type' expects NoClientCert, RequireAndVerifyClientCert or VerifyClientCertIfGiven"
web "$T/web.yml" "  cipher_suites: [TLS_AES_128_GCM_SHA256]"
check_err "an unknown key" "^$T/web.yml:4:3: .*cipher_suites"
sed "s/key_file: server.key/key_file: client.key/" "$T/web.good" >"$T/web.yml"
check_err "a key of another certificate" \
    "^$T/web.yml:3:13: 'key_file': $T/client.key does not match the certificate$"
sed "s/cert_file: server.crt/cert_file: nosuch.crt/" "$T/web.good" >"$T/web.yml"
check_err "a missing certificate" "^$T/web.yml:2:14: 'cert_file': cannot load $T/nosuch.crt"
sed "s/prometheus: '.*'/prometheus: 'plaintext-password'/" "$T/web.good" >"$T/web.yml"
check_err "a password that is not a bcrypt hash" \
    "^$T/web.yml:6:15: 'basic_auth_users': the hash of \"prometheus\" is not a bcrypt hash"
unlike "$out" 'plaintext-password' "  and the bad value is not echoed"
cp "$T/web.good" "$T/web.yml"
chmod 600 "$T/web.yml"

# ---- the daemon over TLS with basic authentication ---------------------

C=(--cacert "$T/ca.crt")
AUTH=(-u "prometheus:$PASS")
"$NETPROBED" -c "$T/np.yaml" </dev/null >>"$LOG" 2>&1 &
NP_PID=$!
register_pid "$NP_PID"
ready() { pid_alive "$NP_PID" && http_get "$BASE/healthz" "${C[@]}" "${AUTH[@]}"; }
wait_for 10 ready || { diag_file "$LOG"; bail_out "netprobed did not answer over TLS"; }
pass "netprobed answers https://127.0.0.1:$NP_PORT/healthz with the password"
like "$(cat "$LOG")" "listening on https://127.0.0.1:$NP_PORT/metrics \\(basic authentication\\)" \
    "the log says https and authentication"

http_get "$BASE/metrics" "${C[@]}" "${AUTH[@]}"
is "$HTTP_CODE" 200 "/metrics with the password: 200"
printf '%s\n' "$HTTP_BODY" >"$T/metrics.txt"
out=$("$PROMTOOL" check metrics <"$T/metrics.txt" 2>&1)
is "$?:$out" "0:" "promtool check metrics: clean over TLS"

hdr=$(curl -s --max-time 5 "${C[@]}" -D - -o /dev/null "$BASE/metrics")
like "$hdr" '^HTTP/1.1 401' "no credentials: 401"
like "$hdr" '^WWW-Authenticate: Basic realm="netprobed", charset="UTF-8"' \
    "  with a WWW-Authenticate challenge (RFC 7617)"
http_get "$BASE/metrics" "${C[@]}" -u "prometheus:wrong"
is "$HTTP_CODE" 401 "a wrong password: 401"
http_get "$BASE/status" "${C[@]}" -u "nobody:$PASS"
is "$HTTP_CODE" 401 "an unknown user: 401"
http_get "$BASE/" "${C[@]}" -H 'Authorization: Basic !!!!'
is "$HTTP_CODE" 401 "a malformed Authorization header: 401"
http_get "$BASE/probe?module=self&target=127.0.0.1:$NP_PORT" "${C[@]}" \
    -H "Authorization: Basic $(printf 'prometheus' | base64)"
is "$HTTP_CODE" 401 "a credential without a colon: 401 (/probe is protected too)"
http_get "http://127.0.0.1:$NP_PORT/metrics" "${AUTH[@]}"
isnt "$HTTP_CODE" 200 "plain HTTP on the TLS port gets no answer"
http_get "$BASE/metrics" --cacert "$T/ca2.crt" "${AUTH[@]}"
is "$HTTP_CODE" 000 "a client trusting another CA refuses the certificate"

rejected() {	# rejected REASON: the counter, after a scrape
	http_get "$BASE/metrics" "${C[@]}" "${AUTH[@]}" || return 1
	METRICS=$HTTP_BODY
	metric_value netprobe_http_rejected_total "reason=$1"
}
is "$(rejected unauthorized)" 5 "netprobe_http_rejected_total{reason=\"unauthorized\"} counts the five 401s"
cmp_ok "$(rejected tls)" '>=' 2 "  {reason=\"tls\"} counts the failed handshakes"
up_ok() { http_get "$BASE/metrics" "${C[@]}" "${AUTH[@]}" && METRICS=$HTTP_BODY &&
    [ "$(metric_value probe_success probe=self)" = 1 ]; }
wait_for 10 up_ok
is "$(metric_value probe_success probe=self)" 1 "the tcp probe of the listener itself succeeds"

# ---- password checks run off the loop ----------------------------------

# Four checks of the cost-12 hash queue on the worker (about 0.25 s each
# here); a scrape with the remembered credential answers meanwhile.
slow=()
for i in 1 2 3 4; do
	curl -s --max-time 20 "${C[@]}" -u "slow:$PASS-$i" -o /dev/null \
	    -w '%{http_code}' "$BASE/healthz" >"$T/slow.$i" &
	slow+=($!)
done
inflight() { http_get "$BASE/metrics" "${C[@]}" "${AUTH[@]}" && METRICS=$HTTP_BODY &&
    n=$(metric_value netprobe_http_auth_checks_in_flight) && [ "$n" -ge 1 ]; }
wait_for 10 inflight
ok $? "a scrape answers while password checks run (netprobe_http_auth_checks_in_flight ${n:-?})"
wait "${slow[@]}"
is "$(cat "$T"/slow.*)" "401401401401" "the slow checks end in 401 (wrong passwords)"

# A flood of 40 wrong passwords at once: at most 16 checks wait, the rest
# get 503 with Retry-After at once; the scraper still gets its answer.
seq 40 | xargs -P 40 -I{} curl -s --max-time 30 "${C[@]}" -u "slow:bad{}" \
    -o /dev/null -w '%{http_code}\n' "$BASE/healthz" >"$T/flood" &
FLOOD=$!
wait_for 10 eval '[ "$(grep -c 503 "$T/flood")" -ge 1 ]'
http_get "$BASE/metrics" "${C[@]}" "${AUTH[@]}"
is "$HTTP_CODE" 200 "during the flood a scrape still answers"
wait "$FLOOD"
cmp_ok "$(grep -c 503 "$T/flood")" '>=' 1 "the flood: some get 503 (auth_busy) at once"
is "$(grep -c -v -E '^(401|503)$' "$T/flood")" 0 "  and the rest 401: nothing else"
is "$(rejected auth_busy)" "$(grep -c 503 "$T/flood")" \
    "netprobe_http_rejected_total{reason=\"auth_busy\"} counts them"

# ---- a real Prometheus scrapes it --------------------------------------

if command -v prometheus >/dev/null 2>&1; then
	printf '%s\n' "$PASS" >"$T/prom.pass"
	cat >"$T/prometheus.yml" <<EOF
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: netprobed
    scheme: https
    tls_config: {ca_file: $T/ca.crt}
    basic_auth: {username: prometheus, password_file: $T/prom.pass}
    static_configs: [{targets: ["127.0.0.1:$NP_PORT"]}]
EOF
	prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	    --web.listen-address=127.0.0.1:$PROM_PORT >"$T/prometheus.log" 2>&1 </dev/null &
	PROM_PID=$!
	register_pid "$PROM_PID"
	prom_up() {
		curl -s --max-time 2 "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		    --data-urlencode 'query=up{job="netprobed"} == 1 and on() probe_success{probe="self"} == 1' |
		    grep -q '"result":\[{'
	}
	wait_for 30 prom_up
	ok $? "Prometheus scrapes netprobed over TLS with basic auth (up == 1, probe_success seen)" ||
	    diag_file "$T/prometheus.log" 20
	stop_pid "$PROM_PID"
else
	skip "prometheus is not installed" "a real Prometheus scrapes over TLS"
fi

# ---- reloads: a client certificate required, a renewed certificate -----

reloads() { http_get "$BASE/metrics" "${C[@]}" "${AUTH[@]}" "$@" && METRICS=$HTTP_BODY &&
    metric_value netprobe_config_reloads_total "result=$R"; }
chmod 644 "$T/server.key"
R=failure; before=$(reloads)
kill -HUP "$NP_PID"
wait_for 10 eval '[ "$(reloads)" -gt "$before" ]'
is "$(reloads)" "$((before + 1))" "a reload with a key readable by others fails"
like "$(cat "$LOG")" "server.key is readable by others" "  and the log says why"
http_get "$BASE/healthz" "${C[@]}" "${AUTH[@]}"
is "$HTTP_CODE" 200 "  the running TLS setup stays"
chmod 600 "$T/server.key"

web "$T/web.yml" "  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt"
CC=(--cert "$T/client.crt" --key "$T/client.key")
R=success; before=$(reloads)
kill -HUP "$NP_PID"
wait_for 10 eval '[ "$(reloads "${CC[@]}" || echo 0)" -gt "$before" ]'
is "$(reloads "${CC[@]}")" "$((before + 1))" "a reload to RequireAndVerifyClientCert succeeds"
http_get "$BASE/healthz" "${C[@]}" "${AUTH[@]}"
is "$HTTP_CODE" 000 "  without a client certificate: the handshake fails"
http_get "$BASE/healthz" "${C[@]}" "${AUTH[@]}" --cert "$T/server2.crt" --key "$T/server2.key"
is "$HTTP_CODE" 000 "  with a certificate of another CA: it fails too"
http_get "$BASE/healthz" "${C[@]}" "${AUTH[@]}" "${CC[@]}"
is "$HTTP_CODE" 200 "  with the client certificate: 200"
http_get "$BASE/healthz" "${C[@]}" "${CC[@]}"
is "$HTTP_CODE" 401 "  and the password is still asked for"

sed -e 's/server.crt/server2.crt/' -e 's/server.key/server2.key/' "$T/web.good" >"$T/web.yml"
chmod 600 "$T/web.yml"
before=$(reloads "${CC[@]}")
kill -HUP "$NP_PID"
C=(--cacert "$T/ca2.crt")
wait_for 10 eval '[ "$(reloads || echo 0)" -gt "$before" ]'
http_get "$BASE/healthz" "${C[@]}" "${AUTH[@]}"
is "$HTTP_CODE" 200 "a renewed certificate (another CA) is served after SIGHUP"
http_get "$BASE/healthz" --cacert "$T/ca.crt" "${AUTH[@]}"
is "$HTTP_CODE" 000 "  and the old one no more"

# ---- no secret anywhere an operator or a scraper looks -----------------

http_get "$BASE/status" "${C[@]}" "${AUTH[@]}"
is "$HTTP_CODE" 200 "/status with the password: 200"
st=$HTTP_BODY
for s in "$PASS" "${HASH:7:20}" "${SLOW:7:20}" "BEGIN PRIVATE" "$(sed -n 2p "$T/server2.key")"; do
	unlike "$st$(cat "$T/metrics.txt")" "$(printf '%s' "$s" | sed 's/[][\.*^$/+?(){}|]/\\&/g')" \
	    "no secret in /status or /metrics (${s:0:6}...)"
	unlike "$(cat "$LOG")" "$(printf '%s' "$s" | sed 's/[][\.*^$/+?(){}|]/\\&/g')" \
	    "no secret in the log (${s:0:6}...)"
done

stop_pid "$NP_PID"
is "$?" 0 "netprobed exits 0 (the worker thread stopped cleanly)"
unlike "$(grep -v -e 'server.key is readable by others' -e 'keeping the running configuration' "$LOG")" \
    'error|AddressSanitizer|runtime error' "no error in the log but the bad reload's"

done_testing
