#!/usr/bin/env bash
#
# The sip probe against a real kamailio on loopback (PEERS.md §1: 200,
# 404, 503 and no answer, on UDP and TCP), compared with sipsak on the
# same server; a closed port; a silent UDP listener that counts the
# retransmissions (timer E, T1 doubling); python responders that answer
# with a wrong branch / Call-ID, from a wrong source port, with garbage,
# or correctly after a 100 Trying; tshark decoding what we send.  Through
# --once (table and exit status) and the running daemon (/metrics exact
# values, promtool, /probe?debug=true).
#
# Traffic goes only to 127.0.0.1.
#
# Ports (UDP and TCP): 15060-15063 kamailio (200, 404, 503, silent),
# 15064 silent listener, 15065 closed, 15066 wrong answers, 15067 answers
# from port 15069 (UDP) / garbage (TCP), 15068 a correct responder,
# 15069 netprobed's HTTP (TCP) and the spoofing source (UDP).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
KAMAILIO=${KAMAILIO:-$(command -v kamailio || echo /usr/sbin/kamailio)}
[ -x "$KAMAILIO" ] ||
	skip_all "kamailio is not installed (apt-get install kamailio)"
[ -n "$PYTHON3" ] || skip_all "no python3"

T=$TAP_TMPDIR
NP_PORT=15069
LOG=$T/netprobed.log
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}
SIPSAK=$(command -v sipsak || true)
TSHARK=$(command -v tshark || true)

port_used()
{
	[ -n "$(ss -Hlnut "sport = :$1" 2>/dev/null)" ]
}

# One sip.sh at a time on this machine (several build trees may run
# `make check` at once): the ports are fixed, so wait for the other one.
exec 9>"${TMPDIR:-/tmp}/netprobed-sip-test.lock"
if command -v flock >/dev/null 2>&1 && ! flock -w 240 9; then
	bail_out "another sip.sh held its lock for 240s"
fi

for p in $(seq 15060 15069); do
	port_used "$p" &&
		bail_out "port $p must be free for this test, but something uses it"
done

# ---- peers ------------------------------------------------------------

mkdir -p "$T/kam"
cat >"$T/kam/kamailio.cfg" <<'EOF'
#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
disable_sctp=yes
# no DNS of any kind: no reverse lookups, no alias guessing, no resolver cache
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
dns_try_ipv6=no
dns_try_naptr=no
listen=udp:127.0.0.1:15060
listen=tcp:127.0.0.1:15060
listen=udp:127.0.0.1:15061
listen=tcp:127.0.0.1:15061
listen=udp:127.0.0.1:15062
listen=tcp:127.0.0.1:15062
listen=udp:127.0.0.1:15063
listen=tcp:127.0.0.1:15063
alias="127.0.0.1"

loadmodule "sl.so"
loadmodule "pv.so"

request_route {
    if ($Rp == 15061) { sl_send_reply("404", "Not Found"); exit; }
    if ($Rp == 15062) { sl_send_reply("503", "Service Unavailable"); exit; }
    if ($Rp == 15063) { exit; }
    if (method == "ACK") { exit; }
    if (method == "OPTIONS") { sl_send_reply("200", "OK"); exit; }
    sl_send_reply("405", "Method Not Allowed");
}
EOF

# The python side: "client" sends one OPTIONS (readiness), "serve" runs
# the fake peers and records every request it gets.
cat >"$T/peer.py" <<'EOF'
import os, re, selectors, socket, struct, sys, time, uuid

# The kernel's arrival time of each UDP request (SO_TIMESTAMPNS, 35 on
# Linux): the retransmission gaps the test measures must not depend on
# when this process got to run.  Wall-clock seconds, like TCP's time.time().
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)

def recv_stamped(s):
    data, anc, _, peer = s.recvmsg(65535, 256)
    at = time.time()
    for level, typ, cdata in anc:
        if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS and len(cdata) >= 16:
            sec, nsec = struct.unpack("qq", cdata[:16])
            at = sec + nsec / 1e9
    return data, peer, at

def client(host, port, proto):
    s = socket.socket(socket.AF_INET,
                      socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect((host, port))
        lh, lp = s.getsockname()
        tag = uuid.uuid4().hex[:8]
        s.send((f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/{proto.upper()} {lh}:{lp};branch=z9hG4bK{tag};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:ready@{lh}>;tag={tag}\r\n"
                f"To: <sip:{host}:{port}>\r\nCall-ID: {uuid.uuid4().hex}@{lh}\r\n"
                f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
        line = s.recv(65535).decode(errors="replace").split("\r\n", 1)[0]
    except OSError:
        sys.exit(2)
    sys.exit(0 if line.startswith("SIP/2.0 2") else 1)

def hdr(req, name):
    m = re.search(r"\r\n(" + name + r": [^\r]*)\r\n", req)
    return m.group(1) + "\r\n" if m else ""

def answer(req, code, reason, extra="", mutate=None):
    via, frm, to = hdr(req, "Via"), hdr(req, "From"), hdr(req, "To")
    cid, cseq = hdr(req, "Call-ID"), hdr(req, "CSeq")
    if mutate == "branch":
        via = via.replace("branch=z9hG4bK", "branch=z9hG4bKx")
    if mutate == "callid":
        cid = cid.replace("Call-ID: ", "Call-ID: x")
    return (f"SIP/2.0 {code} {reason}\r\n{via}{frm}{to}{cid}{cseq}{extra}"
            f"Content-Length: 0\r\n\r\n").encode()

def serve(d):
    sel = selectors.DefaultSelector()
    spoof = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    spoof.bind(("127.0.0.1", 15069))
    for port in (15064, 15066, 15067, 15068):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        u.bind(("127.0.0.1", port))
        sel.register(u, selectors.EVENT_READ, ("udp", port))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("127.0.0.1", port))
        t.listen(16)
        sel.register(t, selectors.EVENT_READ, ("listen", port))
    if os.environ.get("SIP_V6") == "1":     # the correct responder on ::1 too
        for typ, kind in ((socket.SOCK_DGRAM, "udp"), (socket.SOCK_STREAM, "listen")):
            x = socket.socket(socket.AF_INET6, typ)
            if kind == "udp":
                x.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            x.bind(("::1", 15068))
            if kind == "listen":
                x.listen(16)
            sel.register(x, selectors.EVENT_READ, (kind, 15068))
    open(os.path.join(d, "peer.ready"), "w").close()
    bufs = {}
    n = 0
    while True:
        for key, _ in sel.select():
            kind, port = key.data
            s = key.fileobj
            if kind == "listen":
                c, _ = s.accept()
                bufs[c] = b""
                sel.register(c, selectors.EVENT_READ, ("tcp", port))
                continue
            if kind == "udp":
                data, peer, at = recv_stamped(s)
                send = lambda b: s.sendto(b, peer)
            else:
                data = s.recv(65535)
                if not data:
                    sel.unregister(s); s.close(); bufs.pop(s, None)
                    continue
                bufs[s] += data
                if b"\r\n\r\n" not in bufs[s]:
                    continue
                data, bufs[s] = bufs[s], b""
                send = s.sendall
                at = time.time()
            n += 1
            with open(os.path.join(d, f"req-{kind}-{port}-{n}.bin"), "wb") as f:
                f.write(data)
            with open(os.path.join(d, "rx.log"), "a") as f:
                f.write(f"{kind} {port} {at:.6f} {n}\n")
            req = data.decode(errors="replace")
            if port == 15064:
                continue                    # silent
            if port == 15066:               # two wrong answers, no right one
                send(answer(req, 200, "OK", mutate="branch"))
                send(answer(req, 200, "OK", mutate="callid"))
            elif port == 15067 and kind == "udp":
                spoof.sendto(answer(req, 200, "OK"), peer)   # wrong source port
            elif port == 15067:
                send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            elif port == 15068:
                try:
                    server = open(os.path.join(d, "server.txt"), "rb").read().decode().strip()
                except OSError:
                    server = "fake"
                send(answer(req, 100, "Trying"))
                time.sleep(0.1)
                send(answer(req, 200, "OK",
                            f"Server: {server}\r\nUser-Agent: fake-ua/1\r\n"))

if sys.argv[1] == "client":
    client(sys.argv[2], int(sys.argv[3]), sys.argv[4])
else:
    serve(sys.argv[2])
EOF

# kamailio leads its own process group (setsid), so workers it leaves
# behind if it dies can be found by that group, and only ours are ended
setsid "$KAMAILIO" -f "$T/kam/kamailio.cfg" -DD -E -Y "$T/kam" -w "$T/kam" \
    -P "$T/kam/kamailio.pid" -m 32 -M 4 >"$T/kam/kamailio.log" 2>&1 &
KAM=$!
register_pid "$KAM"
kam_orphans_kill()
{
	local p

	for p in $(ps -o pid= -g "$KAM" 2>/dev/null); do
		grep -qF "$T/kam/kamailio.cfg" "/proc/$p/cmdline" 2>/dev/null &&
		    kill -KILL "$p"
	done
}
on_exit kam_orphans_kill
kam_ready() { "$PYTHON3" "$T/peer.py" client 127.0.0.1 15060 udp; }
if ! wait_for 10 kam_ready; then
	diag_file "$T/kam/kamailio.log"
	bail_out "kamailio did not answer OPTIONS on 127.0.0.1:15060"
fi
pass "kamailio answers OPTIONS on 127.0.0.1:15060"

HAVE_V6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	HAVE_V6=1
fi
echo "MCU-A 1.0" >"$T/server.txt"
SIP_V6=$HAVE_V6 "$PYTHON3" "$T/peer.py" serve "$T" >"$T/peer.log" 2>&1 &
PEER=$!
register_pid "$PEER"
peer_ready() { [ -e "$T/peer.ready" ] || pid_gone "$PEER"; }
wait_for 10 peer_ready
if ! pid_alive "$PEER" || [ ! -e "$T/peer.ready" ]; then
	diag_file "$T/peer.log"
	bail_out "the python responders did not start"
fi

# ---- --once helpers (as once.sh) ---------------------------------------

# last_reqs PORT N: numbers of the last N UDP requests the peer got on PORT
last_reqs()
{
	awk -v p="$1" '$1 == "udp" && $2 == p { print $4 }' "$T/rx.log" |
	    tail -n "$2"
}

once()
{
	local start

	start=$(_now_ms)
	timeout -k 5 60 "$NETPROBED" -c "$1" --once >"$T/out" 2>"$T/err" \
	    </dev/null
	RC=$?
	ELAPSED_MS=$(($(_now_ms) - start))
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	cat "$T/err" >>"$T/once-stderr"
}

# row PROBE TARGET: the whole row
row()
{
	awk -v p="$1" -v t="$2" '$1 == p && $3 == t { print; exit }' <<<"$OUT"
}

# detail PROBE TARGET: the DETAIL column
detail()
{
	row "$1" "$2" | cut -c 80-
}

# expect_row PROBE TARGET RESULT DETAIL DESC
expect_row()
{
	local r

	r=$(row "$1" "$2")
	if ! is "$(awk '{ print $4 }' <<<"$r")|$(detail "$1" "$2")" "$3|$4" "$5"; then
		diag "table:" "$OUT"
		[ -n "$ERR" ] && diag "stderr:" "$ERR"
	fi
}

# ---- kamailio through --once -------------------------------------------

K=127.0.0.1
cat >"$T/kam.yaml" <<EOF
defaults: {interval: 10s, timeout: 2s}
probes:
  - name: kam-udp
    type: sip
    targets: [$K:15060, $K:15061, $K:15062, $K:15063, $K:15065]
  - name: kam-tcp
    type: sip
    transport: tcp
    targets: [$K:15060, $K:15061, $K:15062, $K:15063, $K:15065]
  - name: kam-lenient
    type: sip
    valid_status_codes: [200, 404, 405, 483, 503]
    targets: [$K:15061, $K:15062]
EOF
once "$T/kam.yaml"
expect_row kam-udp $K:15060 answered "200 OK" "udp: kamailio 200 -> answered"
expect_row kam-udp $K:15061 bad_response "404 Not Found (not a valid status code)" \
    "udp: kamailio 404 -> bad_response"
expect_row kam-udp $K:15062 bad_response \
    "503 Service Unavailable (not a valid status code)" \
    "udp: kamailio 503 -> bad_response"
expect_row kam-udp $K:15063 timeout "no response within 2s (3 requests sent)" \
    "udp: kamailio silent -> timeout after 3 requests (0, 0.5, 1.5 s)"
expect_row kam-udp $K:15065 refused \
    "receive: Connection refused (ICMP port unreachable)" \
    "udp: closed port -> refused (ICMP port unreachable)"
expect_row kam-tcp $K:15060 answered "200 OK" "tcp: kamailio 200 -> answered"
expect_row kam-tcp $K:15061 bad_response "404 Not Found (not a valid status code)" \
    "tcp: kamailio 404 -> bad_response"
expect_row kam-tcp $K:15062 bad_response \
    "503 Service Unavailable (not a valid status code)" \
    "tcp: kamailio 503 -> bad_response"
expect_row kam-tcp $K:15063 timeout "no response within 2s" \
    "tcp: kamailio silent -> timeout"
expect_row kam-tcp $K:15065 refused "connect: Connection refused" \
    "tcp: closed port -> refused (RST)"
expect_row kam-lenient $K:15061 answered "404 Not Found" \
    "valid_status_codes lists 404: a 404 counts as answered"
expect_row kam-lenient $K:15062 answered "503 Service Unavailable" \
    "valid_status_codes lists 503: a 503 counts as answered"
like "$(row kam-udp $K:15060)" ' [0-9]+\.[0-9]{3} ms ' \
    "the answered row shows the RTT in ms"
like "$OUT" '^4 of 12 succeeded$' "the summary says 4 of 12 succeeded"
is "$RC" 1 "--once exits 1 when some sip probes failed"
cmp_ok "$ELAPSED_MS" '<' 6000 "--once ended soon after the 2s timeout (${ELAPSED_MS}ms)"

# UDP and TCP agree with each other: same code for the same port
for p in 15060 15061 15062; do
	is "$(detail kam-udp $K:$p | awk '{ print $1 }')" \
	    "$(detail kam-tcp $K:$p | awk '{ print $1 }')" \
	    "port $p: the same status code over UDP and TCP"
done

# ---- sipsak on the same server gets the same status codes ---------------

for p in 15060 15061 15062; do
	for tr in udp tcp; do
		if [ -z "$SIPSAK" ]; then
			skip "sipsak is not installed" \
			    "sipsak $tr to port $p: same status code"
			continue
		fi
		args=(-H 127.0.0.1 -s "sip:test@127.0.0.1:$p" -vv)
		[ "$tr" = tcp ] && args+=(-E tcp)
		got=$(timeout 10 "$SIPSAK" "${args[@]}" 2>&1 |
		    grep -E -m1 '^SIP/2\.0 [0-9]{3} ' | awk '{ print $2 }')
		is "$got" "$(detail "kam-$tr" "$K:$p" | awk '{ print $1 }')" \
		    "sipsak $tr to port $p: same status code as netprobed ($got)"
	done
done

# ---- an all-good config exits 0 -----------------------------------------

cat >"$T/good.yaml" <<EOF
defaults: {interval: 10s, timeout: 2s}
probes:
  - name: mcu
    type: sip
    targets: [$K:15060, $K:15068]
  - name: mcu-tcp
    type: sip
    transport: tcp
    targets: [$K:15060, $K:15068]
EOF
once "$T/good.yaml"
is "$RC" 0 "--once exits 0 when every sip probe answered" || diag "$OUT"
expect_row mcu $K:15068 answered "200 OK" \
    "udp: a 100 Trying first, then the 200 counts"
expect_row mcu-tcp $K:15068 answered "200 OK" \
    "tcp: a 100 Trying first, then the 200 counts"
rtt=$(row mcu $K:15068 | awk '{ print $5 }')
# The 200 comes 100 ms after the 100 Trying; netprobed reads its clock
# once send() has returned, which on a loaded machine can be a few ms
# after the request left (96 ms seen): half way tells the two apart
cmp_ok "$rtt" '>=' 50 "the RTT runs to the final response, past the 100 Trying (${rtt} ms)"

if [ "$HAVE_V6" = 1 ]; then
	cat >"$T/v6.yaml" <<EOF
defaults: {interval: 10s, timeout: 2s}
probes:
  - name: v6
    type: sip
    target: "::1"
    port: 15068
  - name: v6-tcp
    type: sip
    transport: tcp
    target: "[::1]:15068"
EOF
	once "$T/v6.yaml"
	expect_row v6 "[::1]:15068" answered "200 OK" \
	    "IPv6 udp: a bare ::1 with port 15068 answers (Via sent-by [::1])"
	expect_row v6-tcp "[::1]:15068" answered "200 OK" "IPv6 tcp: [::1]:15068 answers"
	v6req=$(cat "$T/req-udp-15068-$(last_reqs 15068 1).bin")
	like "$v6req" '^Via: SIP/2\.0/UDP \[::1\]:[0-9]+;branch=z9hG4bK' \
	    "IPv6: the Via sent-by is the bracketed [::1] and our port"
	like "$v6req" '^OPTIONS sip:\[::1\]:15068 SIP/2\.0' \
	    "IPv6: the Request-URI is sip:[::1]:15068"
else
	for d in "IPv6 udp: a bare ::1 with port 15068 answers (Via sent-by [::1])" \
	    "IPv6 tcp: [::1]:15068 answers" \
	    "IPv6: the Via sent-by is the bracketed [::1] and our port" \
	    "IPv6: the Request-URI is sip:[::1]:15068"; do
		skip "no ::1 on lo" "$d"
	done
fi

# ---- retransmissions: timer E at T1 = 500ms, doubling -------------------

# requests_at PORT: arrival times of the UDP requests on PORT
requests_at() { awk -v p="$1" '$1 == "udp" && $2 == p { print $3 }' "$T/rx.log" 2>/dev/null; }
# count_at PORT
count_at() { requests_at "$1" | wc -l; }

cat >"$T/silent4.yaml" <<EOF
defaults: {interval: 10s, timeout: 4s}
probes:
  - name: silent
    type: sip
    target: $K:15064
EOF
before=$(count_at 15064)
once "$T/silent4.yaml"
expect_row silent $K:15064 timeout "no response within 4s (4 requests sent)" \
    "a silent UDP peer: timeout after 4 requests in 4s"
# (the peer may log the last request after --once has ended)
count_at_least() { [ "$(count_at "$1")" -ge "$2" ]; }
wait_for 2 count_at_least 15064 $((before + 4))
is "$(($(count_at 15064) - before))" 4 "the silent listener received exactly 4 requests"
gaps=$(requests_at 15064 | tail -n 4 | awk 'NR > 1 { printf "%.3f ", $1 - prev } { prev = $1 }')
read -r g1 g2 g3 <<<"$gaps"
cmp_ok "${g1:-0}" '>=' 0.45 "1st retransmission after T1 = 0.5s (${g1}s)"
cmp_ok "${g1:-9}" '<=' 0.85 "1st retransmission not much later than 0.5s (${g1}s)"
cmp_ok "${g2:-0}" '>=' 0.95 "2nd retransmission 1s later: doubled (${g2}s)"
cmp_ok "${g2:-9}" '<=' 1.35 "2nd retransmission not much later than 1s (${g2}s)"
cmp_ok "${g3:-0}" '>=' 1.95 "3rd retransmission 2s later: doubled again (${g3}s)"
cmp_ok "${g3:-9}" '<=' 2.35 "3rd retransmission not much later than 2s (${g3}s)"
# the same request each time: same bytes, so the same branch (§17.1.2.2)
nsame=$(for n in $(last_reqs 15064 4); do md5sum <"$T/req-udp-15064-$n.bin"; done |
    sort -u | wc -l)
is "$nsame" 1 "the 4 requests are byte-identical (one branch, one Call-ID)"

# ---- answers that must not count ----------------------------------------

cat >"$T/wrong.yaml" <<EOF
defaults: {interval: 10s, timeout: 2s}
probes:
  - name: wrong
    type: sip
    targets: [$K:15066, $K:15067]
  - name: wrong-tcp
    type: sip
    transport: tcp
    targets: [$K:15066, $K:15067]
EOF
once "$T/wrong.yaml"
expect_row wrong $K:15066 bad_response "no matching answer: Call-ID differs (6 ignored)" \
    "udp: answers with a wrong branch and a wrong Call-ID never count"
expect_row wrong $K:15067 timeout "no response within 2s (3 requests sent)" \
    "udp: a right answer from the wrong source port never counts"
expect_row wrong-tcp $K:15066 bad_response \
    "no matching answer: Call-ID differs (2 ignored)" \
    "tcp: answers with a wrong branch and a wrong Call-ID never count"
expect_row wrong-tcp $K:15067 bad_response "malformed response: bad status line" \
    "tcp: an HTTP answer is a malformed response"
is "$RC" 1 "--once exits 1 when only wrong answers came"

# ---- what goes on the wire, decoded by tshark ----------------------------

CAP_DESCS=(
	"tshark captured the probe's packets"
	"tshark: no malformed packets or SIP warnings"
	"tshark: two OPTIONS requests (UDP and TCP)"
	"tshark: OPTIONS fields (transport, z9hG4bK branch, rport, Max-Forwards 70, tag, Call-ID, CSeq 1, Accept, User-Agent, Content-Length 0)"
	"tshark: each run has its own branch"
	"tshark: both 200 responses answer our requests (UDP: Request Frame set)"
	"tshark: the UDP retransmissions are resends of the first request"
)
cap_skip()
{
	local d

	for d in "${CAP_DESCS[@]}"; do
		skip "$1" "$d"
	done
}

if [ -z "$TSHARK" ]; then
	cap_skip "tshark is not installed"
elif [ "$(id -u)" != 0 ]; then
	cap_skip "capturing on lo needs root"
else
	cat >"$T/cap.yaml" <<EOF
defaults: {interval: 10s, timeout: 2s}
probes:
  - name: cap
    type: sip
    targets: [$K:15060, $K:15064]
  - name: cap-tcp
    type: sip
    transport: tcp
    target: $K:15060
EOF
	"$TSHARK" -i lo -f "port 15060 or udp port 15064 or udp port 15065" -w "$T/cap.pcapng" \
	    >"$T/tshark.out" 2>"$T/tshark.err" </dev/null &
	TSP=$!
	register_pid "$TSP"
	cap_ready() { grep -q 'Capturing on' "$T/tshark.err" || pid_gone "$TSP"; }
	wait_for 20 cap_ready
fi
if [ -n "${TSP:-}" ] && pid_gone "$TSP"; then
	diag_file "$T/tshark.err"
	cap_skip "tshark could not capture on lo"
elif [ -n "${TSP:-}" ]; then
	TSD=(-r "$T/cap.pcapng" -d "udp.port==15060,sip" -d "tcp.port==15060,sip"
	    -d "udp.port==15064,sip")
	# "Capturing on" comes before the capture really runs: send canaries
	# to the closed port until one is in the file
	canary_seen()
	{
		echo canary >/dev/udp/127.0.0.1/15065
		[ -n "$("$TSHARK" "${TSD[@]}" -Y 'udp.dstport == 15065' 2>/dev/null)" ]
	}
	wait_for 20 canary_seen || diag "no canary in the capture"
	once "$T/cap.yaml"
	# 7 SIP messages: UDP and TCP request + 200, 3 requests to 15064;
	# dumpcap writes them on its own timer, so wait until they are there
	cap_has() { [ "$("$TSHARK" "${TSD[@]}" -Y sip 2>/dev/null | wc -l)" -ge 7 ]; }
	wait_for 10 cap_has
	stop_pid "$TSP"
	npk=$("$TSHARK" "${TSD[@]}" 2>/dev/null | wc -l)
	cmp_ok "$npk" '>=' 6 "${CAP_DESCS[0]} ($npk)" ||
		diag_file "$T/tshark.err"
	mal=$("$TSHARK" "${TSD[@]}" -Y '_ws.malformed || (sip && _ws.expert.severity >= "warning")' \
	    2>"$T/tshark-read.err")
	is "$?|$mal" "0|" "${CAP_DESCS[1]}" ||
		diag_file "$T/tshark-read.err"
	req=$("$TSHARK" "${TSD[@]}" -Y 'sip.Method == "OPTIONS" && sip.r-uri.port == 15060' \
	    -T fields -E separator='|' -e sip.Via.transport -e sip.Via.branch \
	    -e sip.Via.rport -e sip.Max-Forwards -e sip.from.tag -e sip.Call-ID \
	    -e sip.CSeq.seq -e sip.CSeq.method -e sip.Accept -e sip.User-Agent \
	    -e sip.Content-Length 2>/dev/null)
	is "$(wc -l <<<"$req")" 2 "${CAP_DESCS[2]}" ||
		diag "$req"
	# (mawk has no {n} intervals: lengths are checked apart)
	bad=$(awk -F'|' '
		$1 !~ /^(UDP|TCP)$/ || $2 !~ /^z9hG4bK[0-9a-f]+$/ ||
		length($2) != 31 || $3 != "rport" || $4 != 70 ||
		$5 !~ /^[0-9a-f]+$/ || length($5) != 16 ||
		$6 !~ /^[0-9a-f]+@127\.0\.0\.1$/ || length($6) != 42 ||
		$7 != 1 || $8 != "OPTIONS" || $9 != "application/sdp" ||
		$10 !~ /^netprobed\// || $11 != 0 { print }' <<<"$req")
	is "$bad" "" "${CAP_DESCS[3]}" ||
		diag "$req"
	nb=$(awk -F'|' '{ print $2 }' <<<"$req" | sort -u | wc -l)
	is "$nb" 2 "${CAP_DESCS[4]}"
	resp=$("$TSHARK" "${TSD[@]}" -Y 'sip.Status-Code == 200' -T fields \
	    -E separator='|' -e udp.srcport -e sip.response-request \
	    -e sip.Via.branch 2>/dev/null)
	# each 200 carries the branch of one of our requests; tshark pairs
	# the UDP one with its request frame
	nresp=$(awk -F'|' -v b="$(awk -F'|' '{ print $2 }' <<<"$req" | tr '\n' ' ')" '
		index(" " b, " " $3 " ") && ($1 == "" || $2 != "")' <<<"$resp" | wc -l)
	is "$nresp" 2 "${CAP_DESCS[5]}" ||
		diag "$resp"
	rs=$("$TSHARK" "${TSD[@]}" -Y 'sip.Method == "OPTIONS" && udp.dstport == 15064' \
	    -T fields -e sip.resend -e sip.Via.branch 2>/dev/null)
	is "$(awk '{ print $1 }' <<<"$rs" | tr '\n' ' ')" "0 1 1 " \
	    "${CAP_DESCS[6]}" ||
		diag "$rs"
fi

# ---- the running daemon: /metrics ----------------------------------------

cat >"$T/np.yaml" <<EOF
listen: 127.0.0.1:$NP_PORT
defaults: {interval: 2s, timeout: 900ms}
probes:
  - name: kam
    type: sip
    targets: [$K:15060, $K:15061, $K:15062]
    labels: {group: conference}
  - name: kam-tcp
    type: sip
    transport: tcp
    target: $K:15060
  - name: silent
    type: sip
    target: $K:15064
  - name: closed
    type: sip
    target: $K:15065
  - name: wrong
    type: sip
    target: $K:15066
  - name: fake
    type: sip
    target: $K:15068
EOF
before=$(count_at 15064)
start_netprobed "$T/np.yaml" "$LOG"
ok $? "netprobed starts with six sip probes" || bail_out "netprobed did not start"

val() { metric_value "$@"; }
show() { diag "$(metric_lines "$@" || echo "(no $1 series)")"; }

KAM0=(probe=kam type=sip "target=$K:15060" group=conference)
KAM1=(probe=kam type=sip "target=$K:15061" group=conference)
KAM2=(probe=kam type=sip "target=$K:15062" group=conference)
KTCP=(probe=kam-tcp type=sip "target=$K:15060")
SIL=(probe=silent type=sip "target=$K:15064")
CLO=(probe=closed type=sip "target=$K:15065")
WRO=(probe=wrong type=sip "target=$K:15066")
FAK=(probe=fake type=sip "target=$K:15068")

two_runs()
{
	local s v

	scrape || return 1
	for s in KAM0 KAM1 KAM2 KTCP SIL CLO WRO FAK; do
		local -n l=$s
		v=$(metric_value netprobe_probe_last_run_timestamp_seconds "${l[@]}") ||
			return 1
	done
	v=$(val netprobe_probe_runs_total "${SIL[@]}" result=timeout) &&
	    _num_cmp "$v" '>=' 2
}
wait_for 20 two_runs
ok $? "every sip target has results, the silent one twice" || diag_file "$LOG"

is "$(val probe_success "${KAM0[@]}")" 1 "probe_success 1 for kamailio 200"
is "$(val probe_success "${KAM1[@]}")" 0 "probe_success 0 for kamailio 404"
is "$(val netprobe_sip_status_code "${KAM0[@]}")" 200 "netprobe_sip_status_code 200" ||
	show netprobe_sip_status_code
is "$(val netprobe_sip_status_code "${KAM1[@]}")" 404 "netprobe_sip_status_code 404"
is "$(val netprobe_sip_status_code "${KAM2[@]}")" 503 "netprobe_sip_status_code 503"
is "$(val netprobe_sip_status_code "${KTCP[@]}")" 200 "netprobe_sip_status_code 200 over TCP"
cmp_ok "$(val netprobe_probe_runs_total "${KAM1[@]}" result=bad_response)" '>=' 1 \
    "the 404 counts as runs_total{result=\"bad_response\"}"
rtt=$(val netprobe_sip_rtt_seconds "${KAM0[@]}")
cmp_ok "$rtt" '>' 0 "netprobe_sip_rtt_seconds is set ($rtt)"
cmp_ok "$rtt" '<' 0.9 "netprobe_sip_rtt_seconds is below the timeout ($rtt)"
like "$(metric_lines netprobe_sip_server_info "${KAM0[@]}")" \
    '\{.*server="kamailio \([0-9.]+ \([^"]*\)\)",user_agent=""\} 1$' \
    "netprobe_sip_server_info carries kamailio's Server header" ||
	show netprobe_sip_server_info

# no answer: status, RTT and info are absent, the counters count
for m in netprobe_sip_status_code netprobe_sip_rtt_seconds netprobe_sip_server_info; do
	metric_value "$m" "${SIL[@]}" >/dev/null
	ok $((!$?)) "$m is absent for the silent peer"
	metric_value "$m" "${CLO[@]}" >/dev/null
	ok $((!$?)) "$m is absent for the closed port"
done
cmp_ok "$(val netprobe_probe_runs_total "${CLO[@]}" result=refused)" '>=' 1 \
    "the closed port counts as runs_total{result=\"refused\"}"

# timeout 900ms: requests at 0 and 0.5s, so one retransmission per run
runs=$(val netprobe_probe_runs_total "${SIL[@]}" result=timeout)
retr=$(val netprobe_sip_retransmissions_total "${SIL[@]}")
is "$retr" "$runs" "netprobe_sip_retransmissions_total is 1 per timed-out run ($runs runs)"
wait_for 2 count_at_least 15064 $((before + runs + retr))
got=$(($(count_at 15064) - before))
cmp_ok "$got" '>=' $((runs + retr)) \
    "the silent listener got every request the metrics count ($got >= $((runs + retr)))"
cmp_ok "$got" '<=' $((runs + retr + 2)) \
    "the silent listener got no more than one run's worth besides ($got)"
is "$(val netprobe_sip_retransmissions_total "${KAM0[@]}")" 0 \
    "no retransmissions to the answering kamailio"

# wrong answers: 2 per request, 2 requests per run
wruns=$(val netprobe_probe_runs_total "${WRO[@]}" result=bad_response)
is "$(val netprobe_sip_ignored_responses_total "${WRO[@]}")" $((4 * wruns)) \
    "netprobe_sip_ignored_responses_total counts each wrong answer (4 per run; runs: $wruns)"
is "$(val probe_success "${WRO[@]}")" 0 "probe_success stays 0 with only wrong answers"
is "$(val netprobe_sip_ignored_responses_total "${KAM0[@]}")" 0 \
    "kamailio's answers are never ignored"

# the info series is replaced, not accumulated, when the Server changes
like "$(metric_lines netprobe_sip_server_info "${FAK[@]}")" \
    'server="MCU-A 1\.0",user_agent="fake-ua/1"\} 1$' \
    "netprobe_sip_server_info has the Server and User-Agent of the responder" ||
	show netprobe_sip_server_info
printf '%s\n' 'MCU-B 2.0 "x" \ 中文' >"$T/server.txt"
server_b() { scrape && metric_lines netprobe_sip_server_info "${FAK[@]}" | grep -q 'MCU-B'; }
wait_for 10 server_b
ok $? "the new Server value shows up"
is "$(metric_lines netprobe_sip_server_info "${FAK[@]}" | wc -l)" 1 \
    "only one netprobe_sip_server_info series for the target after the change" ||
	show netprobe_sip_server_info
like "$(metric_lines netprobe_sip_server_info "${FAK[@]}")" \
    'server="MCU-B 2\.0 \\"x\\" \\\\ 中文"' \
    "the Server value is escaped in the exposition"

# promtool reads it all
if [ -x "$PROMTOOL" ]; then
	pout=$("$PROMTOOL" check metrics 2>&1 <<<"$METRICS")
	prc=$?
	is "$prc" 0 "promtool check metrics exits 0"
	is "$pout" "" "promtool check metrics has nothing to say" || diag "$pout"
else
	skip "no promtool" "promtool check metrics exits 0"
	skip "no promtool" "promtool check metrics has nothing to say"
fi

# /probe?debug=true shows the steps
http_get "$(np_url "/probe?module=kam&target=127.0.0.1:15060&debug=true")"
is "$HTTP_CODE" 200 "/probe?module=kam&target=...&debug=true answers 200"
like "$HTTP_BODY" '> OPTIONS sip:127\.0\.0\.1:15060 SIP/2\.0$' \
    "the debug log shows the request line"
like "$HTTP_BODY" '> Via: SIP/2\.0/UDP 127\.0\.0\.1:[0-9]+;branch=z9hG4bK[0-9a-f]{24};rport$' \
    "the debug log shows the Via header"
like "$HTTP_BODY" 'sent OPTIONS over UDP \([0-9]+ bytes\), request 1' \
    "the debug log shows the send"
like "$HTTP_BODY" 'got 200 OK after [0-9.]+ms from kamailio' \
    "the debug log shows the answer"
like "$HTTP_BODY" '^Result: success: 200 OK$' "the debug result line"
like "$HTTP_BODY" '^netprobe_sip_status_code\{probe="kam",type="sip",target="127\.0\.0\.1:15060",group="conference"\} 200$' \
    "/probe returns netprobe_sip_status_code" ||
	diag "$HTTP_BODY"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM" || diag_file "$LOG"
unlike "$(cat "$LOG")" '(error|warning):' "the daemon log has no warnings or errors"
unlike "$(cat "$LOG" "$T/once-stderr" 2>/dev/null)" '[Ss]anitizer|runtime error' \
    "no sanitizer reports from the daemon or --once"
unlike "$(grep -v 'Cannot import load_tm' "$T/kam/kamailio.log")" 'ERROR|CRITICAL|BUG' \
    "kamailio logged no errors about our requests" ||
	diag_file "$T/kam/kamailio.log"

done_testing
