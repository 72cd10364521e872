#!/usr/bin/env bash
#
# The http probe against a real nginx on loopback: plain HTTP and HTTPS
# with certificates this script makes (valid for 30 days, expiring in 2
# days, expired in 2024), status codes, body and header expectations,
# redirects (followed, too many, to a host name), a JSON body read into
# gauges, POST and HEAD, chunked bodies, a connection closed without an
# answer, a peer that never answers (timeout), a closed port (refused),
# and no route at all (unreachable, inside a namespace this script makes).
# Through --once (table and exit status), the running daemon's /metrics
# (exact values, promtool) and /probe?debug=true (the run's steps).
#
# Traffic goes only to 127.0.0.1 and ::1; the unreachable case sends
# nothing (there is no route in the namespace).
#
# Ports: nginx 18080 (and [::1]:18080), 18443 (good certificate), 18444
# (expires in 2 days), 18445 (expired); 18099 accepts and never answers;
# 18091 stays closed; netprobed listens on 18090.

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "no nginx (scripts/deps test installs it)"
ECHO_MOD=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -r "$ECHO_MOD" ] ||
	skip_all "no nginx echo module (libnginx-mod-http-echo; scripts/deps test)"
command -v openssl >/dev/null 2>&1 || skip_all "no openssl(1)"
[ -n "$PYTHON3" ] || skip_all "no python3"

T=$TAP_TMPDIR
NP_PORT=18090
HTTP=127.0.0.1:18080
GOOD=127.0.0.1:18443
SOON=127.0.0.1:18444
EXPIRED=127.0.0.1:18445
HOLE=127.0.0.1:18099
CLOSED=127.0.0.1:18091
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}

for p in 18080 18443 18444 18445 18099 18091 "$NP_PORT"; do
	port_listening "$p" &&
		bail_out "port $p must be free for this test, but something listens there"
done

HAVE_V6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	HAVE_V6=1
fi

# ---- certificates -----------------------------------------------------

mkdir -p "$T/tmp" "$T/ca" || bail_out "mkdir in $T failed"
cert()	# cert NAME DAYS SAN
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days "$2" -subj /CN=127.0.0.1 -addext "subjectAltName=$3" \
	    -keyout "$T/$1.key" -out "$T/$1.crt" 2>>"$T/openssl.err"
}
# openssl 3.0's req -x509 cannot backdate; openssl ca -selfsign can
expired_cert()
{
	(cd "$T/ca" && : >index.txt && echo 01 >serial &&
	    printf '%s\n' '[ca]' 'default_ca=d' '[d]' 'dir=.' \
	    'database=./index.txt' 'new_certs_dir=.' 'serial=./serial' \
	    'default_md=sha256' 'policy=p' 'copy_extensions=copy' \
	    'unique_subject=no' '[p]' 'commonName=supplied' >ca.cnf &&
	    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	    -keyout ../expired.key -out expired.csr &&
	    openssl ca -batch -config ca.cnf -selfsign -keyfile ../expired.key \
	    -in expired.csr -out ../expired.crt -startdate 20240101000000Z \
	    -enddate 20240102000000Z -notext) >>"$T/openssl.err" 2>&1
}
if ! { cert good 30 "IP:127.0.0.1,IP:::1,DNS:platform.test" &&
    cert soon 2 "IP:127.0.0.1" && expired_cert; }; then
	diag_file "$T/openssl.err"
	bail_out "cannot make the certificates"
fi
EXPIRED_AT=1704153600		# 2024-01-02T00:00:00Z, the notAfter above

# ---- nginx, and a socket that never answers ---------------------------

v6_listen=
[ "$HAVE_V6" = 1 ] && v6_listen="listen [::1]:18080;"
cat >"$T/nginx.conf" <<EOF
# relative paths resolve against the -p prefix ($T)
load_module $ECHO_MOD;
user root;
worker_processes 1;
pid nginx.pid;
error_log error.log info;
events { worker_connections 256; }
http {
    access_log access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path       tmp/proxy;
    fastcgi_temp_path     tmp/fastcgi;
    uwsgi_temp_path       tmp/uwsgi;
    scgi_temp_path        tmp/scgi;
    default_type text/plain;
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    upstream blackhole { server $HOLE; }

    server {
        listen $HTTP;
        $v6_listen
        listen $GOOD ssl;
        ssl_certificate     good.crt;
        ssl_certificate_key good.key;
        location = /healthz    { return 200 "ok\n"; }
        location = /api/status {
            default_type application/json;
            return 200 '{"status":"ok","probes":3,"city":"北京","data":{"online_count":42,"items":[{"value":1.5},{"value":-2e3}]}}\n';
        }
        location = /api/broken { default_type application/json;
                                 return 200 '{"status":"ok","data":{}}\n'; }
        location = /redirect   { return 302 /healthz; }
        location = /moved      { return 301 https://$GOOD/healthz; }
        location = /loop       { return 302 /loop; }
        location = /toname     { return 302 http://localhost:18080/healthz; }
        location = /error500   { return 500 "boom\n"; }
        location = /missing    { return 404; }
        location = /closed     { return 444; }
        location = /chunked    { echo "part one"; echo_flush; echo "part two"; }
        location = /post       { echo_read_request_body; echo "got: \$request_body"; }
        location = /hang       { proxy_pass http://blackhole; proxy_connect_timeout 2s;
                                 proxy_read_timeout 10s; }
        location = /headers    { echo "ua=\$http_user_agent token=\$http_x_token host=\$host"; }
        location = /method     { echo_read_request_body;
                                 echo "\$request_method [\$request_body]"; }
        location = /see-302    { return 302 /method; }
        location = /see-307    { return 307 /method; }
    }
    server {
        listen $SOON ssl;
        ssl_certificate soon.crt; ssl_certificate_key soon.key;
        location / { return 200 "soon\n"; }
    }
    server {
        listen $EXPIRED ssl;
        ssl_certificate expired.crt; ssl_certificate_key expired.key;
        location / { return 200 "expired\n"; }
    }
}
EOF
if ! "$NGINX" -t -q -p "$T/" -c nginx.conf -e stderr 2>"$T/nginx-t.err"; then
	diag_file "$T/nginx-t.err"
	bail_out "nginx rejects its configuration"
fi
"$NGINX" -p "$T/" -c nginx.conf -e stderr -g 'daemon off;' \
    >"$T/nginx.out" 2>&1 </dev/null &
register_pid $!
NGINX_PID=$!
"$PYTHON3" -c '
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18099))
s.listen(16)
time.sleep(600)         # accepts (the kernel does) and never answers
' >"$T/hole.out" 2>&1 </dev/null &
register_pid $!

nginx_up() { curl -sf -o /dev/null --max-time 2 "http://$HTTP/healthz"; }
if ! { wait_for 10 nginx_up && wait_for 10 port_listening 18099; }; then
	diag_file "$T/nginx.out"
	diag_file "$T/error.log"
	bail_out "nginx or the blackhole did not start"
fi
ok 0 "nginx answers on $HTTP and the blackhole listens on $HOLE"

# ---- the probes -----------------------------------------------------------

v6_target=
[ "$HAVE_V6" = 1 ] && v6_target=", \"http://[::1]:18080/healthz\""
probes()
{
	cat <<EOF
  - name: web
    type: http
    targets: [http://$HTTP/healthz, http://$HTTP/chunked, http://$HTTP/redirect$v6_target]
    fail_if_body_not_matches_regexp: "^(ok|part one)"
  - name: mismatch
    type: http
    target: http://$HTTP/healthz
    fail_if_body_matches_regexp: "^ok"
  - name: status
    type: http
    targets: [http://$HTTP/error500, http://$HTTP/missing]
  - name: allowed
    type: http
    target: http://$HTTP/missing
    valid_status_codes: [404, 410]
  - name: redir
    type: http
    targets: [http://$HTTP/loop, http://$HTTP/toname, http://$HTTP/moved]
    max_redirects: 3
    tls_ca_file: $T/good.crt
  - name: noredir
    type: http
    target: http://$HTTP/redirect
    follow_redirects: false
    valid_status_codes: [302]
  - name: peer
    type: http
    targets: [http://$HTTP/closed, http://$HTTP/hang, http://$HOLE/, https://$HOLE/, http://$CLOSED/]
  - name: tls
    type: http
    targets: [https://$GOOD/healthz]
    tls_ca_file: $T/good.crt
  - name: tls-name
    type: http
    targets: [https://$GOOD/healthz]
    tls_ca_file: $T/good.crt
    tls_server_name: platform.test
  - name: tls-wrongname
    type: http
    targets: [https://$GOOD/healthz]
    tls_ca_file: $T/good.crt
    tls_server_name: other.test
  - name: tls-noca
    type: http
    targets: [https://$GOOD/healthz, https://$HTTP/, http://$GOOD/]
  - name: tls-noverify
    type: http
    targets: [https://$GOOD/healthz]
    tls_verify: false
  - name: soon
    type: http
    targets: [https://$SOON/]
    tls_ca_file: $T/soon.crt
    fail_if_cert_expires_within: 72h
  - name: expired
    type: http
    targets: [https://$EXPIRED/]
    tls_ca_file: $T/expired.crt
  - name: json
    type: http
    targets: [http://$HTTP/api/status]
    json_gauges: {online: data.online_count, second: data.items.1.value, probes: probes}
    fail_if_header_not_matches: {Content-Type: "^application/json\$"}
  - name: json-missing
    type: http
    targets: [http://$HTTP/api/broken]
    json_gauges: {online: data.online_count}
  - name: header
    type: http
    targets: [http://$HTTP/healthz]
    fail_if_header_not_matches: {Content-Type: "^application/json"}
  - name: post
    type: http
    targets: [http://$HTTP/post]
    method: POST
    body: "district=jinshui&n=1"
    fail_if_body_not_matches_regexp: "^got: district=jinshui&n=1"
  - name: post-redir
    type: http
    targets: [http://$HTTP/see-302, http://$HTTP/see-307]
    method: POST
    body: "n=1"
    fail_if_body_not_matches_regexp: '^(GET \[\]|POST \[n=1\])'
  - name: head
    type: http
    targets: [http://$HTTP/healthz]
    method: HEAD
  - name: hdrs
    type: http
    targets: [http://$HTTP/headers]
    headers: {User-Agent: city-probe/2, X-Token: s3cret, Host: platform.test}
    fail_if_body_not_matches_regexp: "^ua=city-probe/2 token=s3cret host=platform.test\n$"
  - name: small
    type: http
    targets: [http://$HTTP/api/status]
    max_body_bytes: 64
EOF
}

{
	printf 'defaults:\n  timeout: 1s\n  interval: 2s\nprobes:\n'
	probes
} >"$T/once.yaml"

# once CONFIG: run --once (bounded), RC, OUT, ERR, ELAPSED_MS
once()
{
	local start

	start=$(_now_ms)
	timeout -k 5 30 "$NETPROBED" -c "$1" --once >"$T/out" 2>"$T/err" \
	    </dev/null
	RC=$?
	ELAPSED_MS=$(($(_now_ms) - start))
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# row PROBE TARGET: the whole row; field PROBE TARGET N
row()
{
	awk -v p="$1" -v t="$2" '$1 == p && $3 == t { print; exit }' <<<"$OUT"
}
field()
{
	awk -v p="$1" -v t="$2" -v n="$3" \
	    '$1 == p && $3 == t { print $n; found = 1; exit }
	    END { exit !found }' <<<"$OUT"
}

# result_is PROBE TARGET WORD DETAIL-ERE DESC: the result and the detail
result_is()
{
	local r

	r=$(row "$1" "$2")
	if ! is "$(field "$1" "$2" 4)" "$3" "$5: $3"; then
		diag "row: $r"
		[ -n "$ERR" ] && diag "stderr:" "$ERR"
	fi
	like "$r" "$4" "$5: the detail" || true
}

once "$T/once.yaml"
diag "--once took ${ELAPSED_MS}ms"
is "$RC" 1 "--once exits 1 when some http probe failed"
is "$ERR" "" "--once writes nothing to stderr" || diag "$ERR"

result_is web "http://$HTTP/healthz" success ' [0-9.]+ ms +status 200, 3 bytes$' \
    "GET /healthz with a matching body"
result_is web "http://$HTTP/chunked" success 'status 200, 18 bytes$' \
    "a chunked body is decoded"
result_is web "http://$HTTP/redirect" success 'status 200, 3 bytes, 1 redirect$' \
    "a 302 to a relative path is followed"
if [ "$HAVE_V6" = 1 ]; then
	result_is web "http://[::1]:18080/healthz" success 'status 200' \
	    "GET over IPv6 to [::1]"
else
	skip "::1 is not configured on lo" "GET over IPv6 to [::1]: success"
	skip "::1 is not configured on lo" "GET over IPv6 to [::1]: the detail"
fi
result_is mismatch "http://$HTTP/healthz" bad_response 'body matches /\^ok/$' \
    "fail_if_body_matches_regexp"
result_is status "http://$HTTP/error500" bad_response 'status 500 not in 2xx$' \
    "a 500 is not a 2xx"
result_is status "http://$HTTP/missing" bad_response 'status 404 not in 2xx$' \
    "a 404 is not a 2xx"
result_is allowed "http://$HTTP/missing" success 'status 404' \
    "a 404 listed in valid_status_codes"
result_is redir "http://$HTTP/loop" bad_response 'more than 3 redirects$' \
    "a redirect loop stops at max_redirects"
result_is redir "http://$HTTP/toname" bad_response \
    'redirect to a host name not followed \(names are never resolved\): http://localhost:18080/healthz$' \
    "a redirect to a host name is never looked up"
result_is redir "http://$HTTP/moved" success 'status 200, 3 bytes, 1 redirect$' \
    "a 301 from http to https is followed and verified"
result_is noredir "http://$HTTP/redirect" success 'status 302, ' \
    "follow_redirects: false judges the 302 itself"
result_is peer "http://$HTTP/closed" bad_response 'connection closed without a response$' \
    "a connection closed without an answer"
result_is peer "http://$HTTP/hang" timeout 'timeout waiting for the response$' \
    "an upstream that never answers: timeout"
result_is peer "http://$HOLE/" timeout 'timeout waiting for the response$' \
    "a socket that accepts and never answers: timeout"
result_is peer "https://$HOLE/" timeout 'timeout in the TLS handshake$' \
    "a TLS peer that never answers the ClientHello: timeout"
result_is peer "http://$CLOSED/" refused 'Connection refused$' \
    "a closed port: refused"
result_is tls "https://$GOOD/healthz" success 'status 200, 3 bytes$' \
    "HTTPS verified against tls_ca_file by IP address"
result_is tls-name "https://$GOOD/healthz" success 'status 200' \
    "HTTPS verified by tls_server_name (SNI)"
result_is tls-wrongname "https://$GOOD/healthz" bad_response \
    'certificate verify failed: hostname mismatch$' \
    "a tls_server_name the certificate does not name"
result_is tls-noca "https://$GOOD/healthz" bad_response \
    'certificate verify failed: self-signed certificate$' \
    "a self-signed certificate without its CA"
result_is tls-noca "https://$HTTP/" bad_response \
    'TLS handshake failed: wrong version number$' \
    "https:// to a plain HTTP port"
result_is tls-noca "http://$GOOD/" bad_response 'status 400 not in 2xx$' \
    "http:// to an HTTPS port (nginx answers 400)"
result_is tls-noverify "https://$GOOD/healthz" success 'status 200' \
    "tls_verify: false accepts the self-signed certificate"
result_is soon "https://$SOON/" bad_response 'a certificate expires in (1\.9|2\.0) days$' \
    "fail_if_cert_expires_within 72h, 2 days left"
result_is expired "https://$EXPIRED/" bad_response \
    'certificate verify failed: certificate has expired$' \
    "an expired certificate fails verification"
result_is json "http://$HTTP/api/status" success 'status 200' \
    "json_gauges read from a JSON body"
result_is json-missing "http://$HTTP/api/broken" bad_response \
    'json online \(data.online_count\): not found in the JSON body$' \
    "a json_gauges path that is not in the body"
result_is header "http://$HTTP/healthz" bad_response \
    'header Content-Type does not match /\^application/json/$' \
    "fail_if_header_not_matches"
result_is post "http://$HTTP/post" success 'status 200, 26 bytes$' \
    "POST sends its body (nginx echoes it)"
result_is post-redir "http://$HTTP/see-302" success 'status 200, 7 bytes, 1 redirect$' \
    "POST, then 302: the redirect is fetched with GET, without the body"
result_is post-redir "http://$HTTP/see-307" success 'status 200, 11 bytes, 1 redirect$' \
    "POST, then 307: method and body are kept"
result_is head "http://$HTTP/healthz" success 'status 200, 0 bytes$' \
    "HEAD reads no body"
result_is hdrs "http://$HTTP/headers" success 'status 200' \
    "configured headers replace User-Agent and Host"
result_is small "http://$HTTP/api/status" bad_response \
    'Content-Length 109 is larger than max_body_bytes \(64\)$' \
    "a body over max_body_bytes"
total=$(grep -c ' http ' <<<"$OUT")
succeeded=$(awk '$2 == "http" && $4 == "success"' <<<"$OUT" | wc -l)
like "$OUT" "^$succeeded of $total succeeded\$" \
    "the summary counts $succeeded of $total"
cmp_ok "$ELAPSED_MS" '<' 6000 "--once ends soon after the 1s timeout"

# ---- the running daemon -----------------------------------------------

{
	printf 'listen: 127.0.0.1:%s\n' "$NP_PORT"
	printf 'defaults:\n  timeout: 1s\n  interval: 2s\nprobes:\n'
	probes
} >"$T/daemon.yaml"
LOG=$T/netprobed.log
start_netprobed "$T/daemon.yaml" "$LOG"
ok $? "netprobed starts and /healthz answers on 127.0.0.1:$NP_PORT" ||
	bail_out "netprobed did not start"

L() { echo "probe=$1" type=http "target=$2"; }
# shellcheck disable=SC2046 # the labels are words on purpose
val() { metric_value "$1" $(L "$2" "$3") "${@:4}"; }
show() { diag "$(metric_lines "$@" || echo "(no $1 series)")"; }

all_ran()
{
	local n

	scrape || return 1
	n=$(grep -c '^netprobe_probe_runs_total{.*type="http"' <<<"$METRICS")
	# every target has finished a run (the hang ones take the timeout)
	[ "$n" -ge "$total" ] &&
	    val probe_success peer "http://$HTTP/hang" >/dev/null
}
wait_for 15 all_ran
ok $? "every http target has run ($total)" || diag_file "$LOG"

is "$(val probe_success web "http://$HTTP/healthz")" 1 \
    "probe_success 1 for GET /healthz"
is "$(val probe_success status "http://$HTTP/error500")" 0 \
    "probe_success 0 for the 500"
is "$(val probe_http_status_code web "http://$HTTP/healthz")" 200 \
    "probe_http_status_code 200"
is "$(val probe_http_status_code status "http://$HTTP/error500")" 500 \
    "probe_http_status_code 500"
is "$(val probe_http_status_code status "http://$HTTP/missing")" 404 \
    "probe_http_status_code 404"
is "$(val probe_http_status_code peer "http://$HTTP/closed")" 0 \
    "probe_http_status_code 0 without a response"
is "$(val probe_http_content_length web "http://$HTTP/healthz")" 3 \
    "probe_http_content_length 3"
is "$(val probe_http_content_length web "http://$HTTP/chunked")" -1 \
    "probe_http_content_length -1 for a chunked body"
is "$(val probe_http_uncompressed_body_length web "http://$HTTP/chunked")" 18 \
    "probe_http_uncompressed_body_length 18 for the chunked body"
is "$(val probe_http_content_length head "http://$HTTP/healthz")" 3 \
    "HEAD: probe_http_content_length 3 from the header"
is "$(val probe_http_uncompressed_body_length head "http://$HTTP/healthz")" 0 \
    "HEAD: no body read"
is "$(val probe_http_version web "http://$HTTP/healthz")" 1.1 \
    "probe_http_version 1.1"
is "$(val probe_http_redirects web "http://$HTTP/redirect")" 1 \
    "probe_http_redirects 1"
is "$(val probe_http_redirects redir "http://$HTTP/loop")" 3 \
    "probe_http_redirects 3 for the loop (max_redirects 3)"
is "$(val probe_http_ssl redir "http://$HTTP/moved")" 1 \
    "probe_http_ssl 1 when the final response came over TLS"
is "$(val probe_http_ssl web "http://$HTTP/healthz")" 0 \
    "probe_http_ssl 0 for plain HTTP"
is "$(val probe_failed_due_to_regex mismatch "http://$HTTP/healthz")" 1 \
    "probe_failed_due_to_regex 1 for the body regex"
is "$(val probe_failed_due_to_regex header "http://$HTTP/healthz")" 1 \
    "probe_failed_due_to_regex 1 for the header regex"
is "$(val probe_failed_due_to_regex web "http://$HTTP/healthz")" 0 \
    "probe_failed_due_to_regex 0 when the body matched"

# phases
for ph in resolve connect tls processing transfer; do
	v=$(val probe_http_duration_seconds tls "https://$GOOD/healthz" "phase=$ph")
	ok $? "probe_http_duration_seconds{phase=\"$ph\"} is exported ($v)"
	case $ph in
	resolve)	is "$v" 0 "resolve is 0 for an IP literal" ;;
	transfer)	cmp_ok "$v" '>=' 0 "transfer is not negative" ;;
	*)		cmp_ok "$v" '>' 0 "$ph took some time over TLS" ;;
	esac
done
is "$(val probe_http_duration_seconds web "http://$HTTP/healthz" phase=tls)" 0 \
    "tls phase 0 for plain HTTP"
# shellcheck disable=SC2046 # the labels are words on purpose
sum=$(metric_lines probe_http_duration_seconds $(L tls "https://$GOOD/healthz") |
    awk '{ s += $NF } END { printf "%.9f", s }')
dur=$(val probe_duration_seconds tls "https://$GOOD/healthz")
cmp_ok "$sum" '<=' "$dur" "the phases add up to no more than the run ($sum <= $dur)"
is "$(val probe_http_duration_seconds peer "http://$CLOSED/" phase=processing)" 0 \
    "a refused connect has no processing phase"

# TLS
now=$(date +%s)
exp=$(val probe_ssl_earliest_cert_expiry tls "https://$GOOD/healthz")
cmp_ok "$exp" '>' $((now + 29 * 86400)) "probe_ssl_earliest_cert_expiry ~30 days ahead ($exp)"
cmp_ok "$exp" '<' $((now + 31 * 86400)) "... and not more than 31 days ahead"
is "$(val probe_ssl_last_chain_expiry_timestamp_seconds tls "https://$GOOD/healthz")" \
    "$exp" "probe_ssl_last_chain_expiry_timestamp_seconds: the verified chain"
is "$(val probe_ssl_earliest_cert_expiry expired "https://$EXPIRED/")" \
    "$EXPIRED_AT" "probe_ssl_earliest_cert_expiry of the expired certificate is 2024-01-02"
val probe_ssl_last_chain_expiry_timestamp_seconds expired "https://$EXPIRED/" >/dev/null
ok $((!$?)) "no verified-chain expiry when verification failed"
exp=$(val probe_ssl_earliest_cert_expiry soon "https://$SOON/")
cmp_ok "$exp" '<' $((now + 2 * 86400 + 60)) "the soon certificate expires within 2 days ($exp)"
is "$(val probe_ssl_earliest_cert_expiry tls-noca "https://$GOOD/healthz")" \
    "$(val probe_ssl_earliest_cert_expiry tls "https://$GOOD/healthz")" \
    "the expiry is reported even when verification failed"
val probe_ssl_earliest_cert_expiry web "http://$HTTP/healthz" >/dev/null
ok $((!$?)) "no certificate expiry for plain HTTP"
is "$(val probe_tls_version_info tls "https://$GOOD/healthz" "version=TLS 1.3")" 1 \
    "probe_tls_version_info{version=\"TLS 1.3\"} 1"
is "$(val probe_http_status_code expired "https://$EXPIRED/")" 0 \
    "nothing is sent after a failed verification (status 0)"

# JSON
is "$(val netprobe_http_json_value json "http://$HTTP/api/status" key=online)" 42 \
    "netprobe_http_json_value{key=\"online\"} 42"
is "$(val netprobe_http_json_value json "http://$HTTP/api/status" key=second)" -2000 \
    "netprobe_http_json_value{key=\"second\"} -2000 (items.1.value)"
is "$(val netprobe_http_json_value json "http://$HTTP/api/status" key=probes)" 3 \
    "netprobe_http_json_value{key=\"probes\"} 3"
val netprobe_http_json_value json-missing "http://$HTTP/api/broken" key=online >/dev/null
ok $((!$?)) "a json gauge whose path is missing has no value"

# result classes
for c in "peer http://$HTTP/hang timeout" "peer https://$HOLE/ timeout" \
    "peer http://$CLOSED/ refused" "status http://$HTTP/error500 bad_response" \
    "web http://$HTTP/healthz success"; do
	read -r p tg res <<<"$c"
	v=$(val netprobe_probe_runs_total "$p" "$tg" "result=$res")
	cmp_ok "${v:-0}" '>=' 1 "netprobe_probe_runs_total{result=\"$res\"} counts $p $tg"
done

if [ -x "$PROMTOOL" ]; then
	pout=$("$PROMTOOL" check metrics 2>&1 <<<"$METRICS")
	is "$?" 0 "promtool check metrics exits 0"
	is "$pout" "" "promtool check metrics has nothing to say" || diag "$pout"
else
	skip "no promtool" "promtool check metrics exits 0"
	skip "no promtool" "promtool check metrics has nothing to say"
fi

# /probe: one run on demand, with the run's steps
http_get "$(np_url "/probe?module=tls&target=https://$GOOD/healthz&debug=true")"
if [ "$HTTP_CODE" = 404 ]; then
	skip "no /probe endpoint" "/probe?debug=true shows the run's steps"
else
	is "$HTTP_CODE" 200 "/probe?module=tls&debug=true answers 200"
	like "$HTTP_BODY" 'TLS handshake done: TLS 1\.3 .*verify: ok' \
	    "the debug log shows the TLS handshake and the verification"
	like "$HTTP_BODY" 'send GET /healthz HTTP/1\.1 to 127\.0\.0\.1:18443, [0-9]+ bytes' \
	    "the debug log shows the request sent"
	like "$HTTP_BODY" 'HTTP/1\.1 200, [0-9]+ header fields, Content-Length' \
	    "the debug log shows the response head"
	like "$HTTP_BODY" '^Result: success: status 200, 3 bytes$' \
	    "the debug log ends with the result"
	like "$HTTP_BODY" '^probe_http_status_code\{.*\} 200$' \
	    "/probe returns the http gauges"
fi

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM" || diag_file "$LOG"
unlike "$(cat "$LOG")" '(error|warning):' "the daemon log has no warnings or errors"

# ---- no route: unreachable, inside a namespace of our own ---------------

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	skip "needs root and ip(8)" "no route to the target: unreachable"
else
	NS="nphttp-$$-$RANDOM"
	if ip netns add "$NS" 2>"$T/ns.err"; then
		on_exit "ip netns del '$NS'"
		ip -n "$NS" link set lo up
		printf 'defaults: {timeout: 1s}\nprobes:\n  - name: noroute\n    type: http\n    target: http://10.213.9.1/\n' \
		    >"$T/noroute.yaml"
		OUT=$(timeout -k 5 30 ip netns exec "$NS" "$NETPROBED" \
		    -c "$T/noroute.yaml" --once 2>&1)
		like "$(row noroute http://10.213.9.1/)" \
		    ' unreachable +- +Network is unreachable$' \
		    "no route to the target: unreachable" || diag "$OUT"
	else
		diag "$(cat "$T/ns.err")"
		skip "ip netns add failed" "no route to the target: unreachable"
	fi
fi

stop_pid "$NGINX_PID"
# (the log may hold raw bytes of the TLS records sent to the plain port)
emerg=$(grep -aE '\[(emerg|alert|crit)\]' "$T/error.log" | tr -d '\0')
is "$emerg" "" "nginx logged no emergencies"

done_testing
