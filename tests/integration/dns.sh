#!/usr/bin/env bash
#
# The dns probe against a real dnsmasq serving a test zone (the recipe
# of shared/PEERS.md section 2: www/mail/alias/MX/TXT/SOA/SRV/PTR under
# .test, NXDOMAIN, SERVFAIL through a DNSSEC-validating forward to a
# helper instance, REFUSED, a silent forward), plus a large TXT set that
# does not fit in UDP, and small python3 responders for what dnsmasq
# will not do: a silent port, replies with the wrong id, the wrong
# question, from the wrong port, malformed, and TC with the answer over
# TCP.  Through --once (table, exit status), the running daemon's
# /metrics (exact values, promtool) and /probe?debug=true.
#
# Traffic goes only to 127.0.0.1, 127.0.0.53, 127.0.0.54 and ::1.
# Ports: 15353 (dnsmasq on .53 and .54), 15300 (netprobed),
# 15310-15321 (python responders), 15399 (kept closed).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
DNSMASQ=${DNSMASQ:-$(command -v dnsmasq || echo /usr/sbin/dnsmasq)}
[ -x "$DNSMASQ" ] ||
	skip_all "no dnsmasq (package dnsmasq-base; scripts/deps test)"
[ -n "$PYTHON3" ] || skip_all "no python3"
PROMTOOL=${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}

T=$TAP_TMPDIR
NP_PORT=15300
DNS=127.0.0.53:15353
CLOSED=127.0.0.1:15399

udp_bound() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
for p in 15353 15399 $(seq 15310 15321); do
	if udp_bound "$p" || port_listening "$p"; then
		bail_out "port $p must be free for this test, but something uses it"
	fi
done
port_listening "$NP_PORT" &&
	bail_out "port $NP_PORT must be free for this test"

HAVE_V6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	HAVE_V6=1
fi

# ---- peers ----------------------------------------------------------

cat >"$T/dnsmasq.conf" <<'EOF'
port=15353
listen-address=127.0.0.53
bind-interfaces
no-resolv
no-hosts
no-poll
user=root
group=root
log-queries
# *.test comes only from the lines below; other names in it are NXDOMAIN
local=/test/
domain-needed
bogus-priv
# answers up to 4096 bytes over UDP to clients that advertise as much
edns-packet-max=4096
host-record=www.test,192.0.2.10,2001:db8::10
host-record=mail.test,192.0.2.25
cname=alias.test,www.test
mx-host=test,mail.test,10
txt-record=test,"v=spf1 -all"
txt-record=zh.test,"你好，世界"
srv-host=_sip._udp.test,www.test,5060,0,5
ptr-record=99.2.0.192.in-addr.arpa,printer.test
auth-server=ns.test,127.0.0.53
auth-zone=test
auth-soa=2024010101,hostmaster.test,1200,120,604800
address=/nx.err/
server=/timeout.err/127.0.0.1#15399
server=127.0.0.54#15353
dnssec
trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D
dnssec-check-unsigned
EOF
# 30 TXT records of ~80 bytes: about 2.6 KB, more than EDNS's 1232
for i in $(seq 1 30); do
	printf 'txt-record=big.test,"record %02d of a set too large for one UDP answer at 1232 bytes"\n' "$i"
done >>"$T/dnsmasq.conf"
cat >"$T/helper.conf" <<'EOF'
port=15353
listen-address=127.0.0.54
bind-interfaces
no-resolv
no-hosts
no-poll
user=root
group=root
address=/servfail.err/192.0.2.66
EOF

"$DNSMASQ" -k -C "$T/helper.conf" -x "$T/helper.pid" \
    --log-facility="$T/helper.log" </dev/null >"$T/helper.out" 2>&1 &
register_pid $!
"$DNSMASQ" -k -C "$T/dnsmasq.conf" -x "$T/dnsmasq.pid" \
    --log-facility="$T/dnsmasq.log" </dev/null >"$T/dnsmasq.out" 2>&1 &
DNSM=$!
register_pid "$DNSM"

# dnsq HOST PORT NAME: exit 0 when a NOERROR answer with records comes
cat >"$T/dnsq.py" <<'EOF'
import socket, struct, sys
host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
q = struct.pack("!HHHHHH", 0x2a2a, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
q += struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.connect((host, port))
s.send(q)
d = s.recv(4096)
sys.exit(0 if d[:2] == b"\x2a\x2a" and d[3] & 15 == 0 and d[7] > 0 else 1)
EOF
wait_for 10 "$PYTHON3" "$T/dnsq.py" 127.0.0.53 15353 www.test &&
    wait_for 10 "$PYTHON3" "$T/dnsq.py" 127.0.0.54 15353 servfail.err
ok $? "dnsmasq answers www.test on $DNS, its helper on 127.0.0.54" || {
	diag_file "$T/dnsmasq.out"
	diag_file "$T/helper.out"
	bail_out "dnsmasq did not start"
}

# Responders for what a correct server never does.  Each HOST/PORT/MODE
# is a UDP socket (the tc* modes also listen on TCP: tc answers right in
# pieces, tcsilent never answers, tcwrongid answers with another id);
# every query is logged.
cat >"$T/responder.py" <<'EOF'
import selectors, socket, struct, sys, time

ready, logpath = sys.argv[1], sys.argv[2]
log = open(logpath, "a", buffering=1)
sel = selectors.DefaultSelector()

def qname(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"

def parse(d):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", d[:12])
    off, labels = 12, []
    while d[off]:
        labels.append(d[off + 1:off + 1 + d[off]].decode())
        off += 1 + d[off]
    off += 1
    qtype, = struct.unpack("!H", d[off:off + 2])
    question = d[12:off + 4]
    edns = 0
    if ar and d[off + 4:off + 7] == b"\0\0\x29":
        edns, = struct.unpack("!H", d[off + 7:off + 9])
    return qid, flags, ".".join(labels), qtype, question, edns

def a_rr(ip):
    return b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)

def msg(qid, question, flags=0x8180, answers=(), rdata_bad=False):
    an = b"".join(answers)
    if rdata_bad:   # an A record with 5 bytes of RDATA
        an = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 5) + b"\xc0\0\2\1\1"
        answers = [an]
    return struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0) + question + an

def udp(sock, mode, port):
    d, peer = sock.recvfrom(4096)
    qid, flags, name, qtype, question, edns = parse(d)
    log.write("%s port=%d id=0x%04x sport=%d rd=%d edns=%d qname=%s qtype=%d\n"
              % (mode, port, qid, peer[1], flags >> 8 & 1, edns, name, qtype))
    good = msg(qid, question, answers=[a_rr("192.0.2.77")])
    if mode == "silent":
        return
    if mode == "ok":
        sock.sendto(good, peer)
    elif mode == "wrongid":
        sock.sendto(msg(qid ^ 0x8001, question, answers=[a_rr("192.0.2.77")]), peer)
    elif mode == "wrongq":
        sock.sendto(msg(qid, qname("evil.test") + struct.pack("!HH", 1, 1),
                        answers=[a_rr("192.0.2.66")]), peer)
    elif mode == "otherport":
        other = socket.socket(sock.family, socket.SOCK_DGRAM)
        other.bind((sock.getsockname()[0], port + 1))
        other.sendto(good, peer)
        other.close()
    elif mode == "late":
        sock.sendto(msg(qid ^ 0x8001, question, answers=[a_rr("192.0.2.66")]), peer)
        sock.sendto(good, peer)
    elif mode == "malformed":
        sock.sendto(msg(qid, question, rdata_bad=True), peer)
    elif mode.startswith("tc"):
        sock.sendto(msg(qid, question, flags=0x8380), peer)

held = []

def tcp_accept(lsock, mode, port):
    c, peer = lsock.accept()
    if mode == "tcsilent":
        held.append(c)      # open, never answered
        return
    c.settimeout(2)
    try:
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            more = c.recv(4096)
            if not more:
                return
            buf += more
        qid, flags, name, qtype, question, edns = parse(buf[2:])
        log.write("%s-tcp port=%d id=0x%04x sport=%d qname=%s\n"
                  % (mode, port, qid, peer[1], name))
        if mode == "tcwrongid":
            qid ^= 0x8001
        r = msg(qid, question, answers=[a_rr("192.0.2.2")])
        r = struct.pack("!H", len(r)) + r
        # in three pieces: the prefix split, then the rest later
        c.sendall(r[:1]); time.sleep(0.05)
        c.sendall(r[1:9]); time.sleep(0.05)
        c.sendall(r[9:])
    finally:
        c.close()

for spec in sys.argv[3:]:
    host, port, mode = spec.split("/")
    port = int(port)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, port))
    sel.register(s, selectors.EVENT_READ, (udp, mode, port))
    if mode.startswith("tc"):
        l = socket.socket(fam, socket.SOCK_STREAM)
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind((host, port))
        l.listen(8)
        sel.register(l, selectors.EVENT_READ, (tcp_accept, mode, port))
open(ready, "w").close()
while True:
    for key, _ in sel.select():
        fn, mode, port = key.data
        try:
            fn(key.fileobj, mode, port)
        except Exception as e:
            log.write("error %s: %r\n" % (mode, e))
EOF
specs=(127.0.0.1/15310/silent 127.0.0.1/15311/wrongid
	127.0.0.1/15312/wrongq 127.0.0.1/15314/malformed
	127.0.0.1/15315/otherport 127.0.0.1/15317/late 127.0.0.1/15318/tc
	127.0.0.1/15320/tcsilent 127.0.0.1/15321/tcwrongid)
[ "$HAVE_V6" = 1 ] && specs+=(::1/15319/ok)
"$PYTHON3" "$T/responder.py" "$T/responder.ready" "$T/responder.log" \
    "${specs[@]}" </dev/null >"$T/responder.out" 2>&1 &
RESP=$!
register_pid "$RESP"
wait_for 10 test -e "$T/responder.ready"
ok $? "the python responders listen on 127.0.0.1:15310-15321" || {
	diag_file "$T/responder.out"
	bail_out "responders did not start"
}

# ---- --once -----------------------------------------------------------

# once CONFIG: run --once (bounded): RC, OUT, ERR
once()
{
	timeout -k 5 30 "$NETPROBED" -c "$1" --once >"$T/out" 2>"$T/err" \
	    </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# field PROBE N: field N of that probe's row (4: result)
field()
{
	awk -v p="$1" -v n="$2" '$1 == p { print $n; f = 1; exit }
	    END { exit !f }' <<<"$OUT"
}

# detail PROBE: the DETAIL column (after "-" or "N.NNN ms")
detail()
{
	awk -v p="$1" '$1 == p {
		i = ($5 == "-") ? 6 : 7; s = ""
		for (; i <= NF; i++) s = s (s == "" ? "" : " ") $i
		print s; exit
	}' <<<"$OUT"
}

# row_is PROBE RESULT DETAIL-REGEX DESC
row_is()
{
	local got

	got="$(field "$1" 4) $(detail "$1")"
	like "$got" "^$2 $3" "$4" || diag "table:" "$OUT"
}

# probe NAME TARGET [KEY: VALUE]...: one entry of the --once config
probe()
{
	local name=$1 target=$2 kv

	shift 2
	printf '  - name: %s\n    type: dns\n    target: "%s"\n' "$name" \
	    "$target"
	for kv in "$@"; do
		printf '    %s\n' "$kv"
	done
}

{
	printf 'defaults:\n  interval: 10s\n  timeout: 1s\nprobes:\n'
	probe a $DNS 'query_name: www.test'
	probe aaaa $DNS 'query_name: www.test' 'query_type: AAAA'
	probe mx $DNS 'query_name: test' 'query_type: MX' \
	    "answer_regex: ['^test\\. [0-9]+ IN MX 10 mail\\.test\\.\$']"
	probe txt $DNS 'query_name: test' 'query_type: TXT' \
	    "answer_regex: '\"v=spf1 -all\"\$'"
	probe txt-zh $DNS 'query_name: zh.test' 'query_type: TXT' \
	    "answer_regex: 'IN TXT \"你好，世界\"'"
	probe soa $DNS 'query_name: test.' 'query_type: SOA' \
	    'authoritative: true' \
	    "answer_regex: ['IN SOA ns\\.test\\. hostmaster\\.test\\. 2024010101 ']"
	probe cname $DNS 'query_name: alias.test' 'query_type: CNAME'
	probe chain $DNS 'query_name: alias.test' 'answer_count_min: 2' \
	    "answer_regex: ['IN CNAME www\\.test\\.\$', 'IN A 192\\.0\\.2\\.10\$']"
	probe ptr $DNS 'query_name: 192.0.2.99' 'query_type: PTR' \
	    'authoritative: true'
	probe srv $DNS 'query_name: _sip._udp.test' 'query_type: SRV'
	probe not-aa $DNS 'query_name: www.test' 'authoritative: true'
	probe nx $DNS 'query_name: missing.test'
	probe nx-valid $DNS 'query_name: missing.test' \
	    'valid_rcodes: [NOERROR, NXDOMAIN]' 'answer_count_max: 0'
	probe nx-err $DNS 'query_name: nx.err' 'valid_rcodes: NXDOMAIN'
	probe servfail $DNS 'query_name: servfail.err'
	probe servfail-tcp $DNS 'query_name: servfail.err' 'transport: tcp'
	probe servfail-ok $DNS 'query_name: servfail.err' \
	    'valid_rcodes: [SERVFAIL]'
	probe refused $DNS 'query_name: example.com'
	probe timeout $DNS 'query_name: timeout.err'
	probe timeout-tcp $DNS 'query_name: timeout.err' 'transport: tcp'
	probe big $DNS 'query_name: big.test' 'query_type: TXT' \
	    'answer_count_min: 30' "answer_regex: ['\"record 30 of a set']"
	probe big-edns4k $DNS 'query_name: big.test' 'query_type: TXT' \
	    'edns_udp_size: 4096'
	probe big-noedns $DNS 'query_name: big.test' 'query_type: TXT' \
	    'edns_udp_size: 0'
	probe a-tcp $DNS 'query_name: www.test' 'transport: tcp' \
	    'recursion_desired: false'
	probe regex-miss $DNS 'query_name: www.test' \
	    "answer_regex: 'IN A 192\\.0\\.2\\.11\$'"
	probe regex-not $DNS 'query_name: www.test' \
	    "answer_regex_not: ['IN AAAA', 'IN A 192\\.0\\.2\\.10\$']"
	probe too-few $DNS 'query_name: www.test' 'answer_count_min: 2'
	probe closed $CLOSED 'query_name: www.test'
	probe closed-tcp $CLOSED 'query_name: www.test' 'transport: tcp'
	probe silent 127.0.0.1:15310 'query_name: www.test'
	probe wrong-id 127.0.0.1:15311 'query_name: www.test'
	probe wrong-q 127.0.0.1:15312 'query_name: www.test'
	probe malformed 127.0.0.1:15314 'query_name: www.test'
	probe other-port 127.0.0.1:15315 'query_name: www.test'
	probe late 127.0.0.1:15317 'query_name: www.test'
	probe py-tc 127.0.0.1:15318 'query_name: www.test' \
	    "answer_regex: 'IN A 192\\.0\\.2\\.2\$'"
	probe tc-silent 127.0.0.1:15320 'query_name: www.test'
	probe tc-wrong-id 127.0.0.1:15321 'query_name: www.test'
	if [ "$HAVE_V6" = 1 ]; then
		probe v6 '[::1]:15319' 'query_name: www.test'
	fi
} >"$T/once.yaml"

"$NETPROBED" -c "$T/once.yaml" --check-config >"$T/check.out" 2>&1
ok $? "the --once config with every dns option passes --check-config" ||
	diag_file "$T/check.out"

once "$T/once.yaml"
is "$RC" 1 "--once exits 1: some dns probes fail" || diag "$ERR"
like "$OUT" '^PROBE +TYPE +TARGET +RESULT +LATENCY +DETAIL$' \
    "the table has its header"
is "$(field a 3)" "$DNS" "the target column is the server as IP:PORT"

row_is a answer 'NOERROR, 1 answer: A 192\.0\.2\.10$' \
    "A www.test: answer 192.0.2.10"
like "$(awk '$1 == "a"' <<<"$OUT")" ' [0-9]+\.[0-9]{3} ms ' \
    "a successful row shows the query time in ms"
row_is aaaa answer 'NOERROR, 1 answer: AAAA 2001:db8::10$' \
    "AAAA www.test: answer 2001:db8::10"
row_is mx answer 'NOERROR, 1 answer: MX 10 mail\.test\.$' \
    "MX test: 10 mail.test., answer_regex matches"
row_is txt answer 'NOERROR, 1 answer: TXT "v=spf1 -all"$' \
    "TXT test: \"v=spf1 -all\""
row_is txt-zh answer 'NOERROR, 1 answer: TXT "你好，世界"$' \
    "TXT zh.test: UTF-8 text passes through to the regex and the table"
row_is soa answer 'NOERROR aa, 1 answer: SOA ns\.test\. hostmaster\.test\. 2024010101 ' \
    "SOA test: authoritative, serial 2024010101"
row_is cname answer 'NOERROR, 1 answer: CNAME www\.test\.$' \
    "CNAME alias.test: www.test."
row_is chain answer 'NOERROR, 2 answers: CNAME www\.test\.$' \
    "A alias.test: CNAME and A, both answer_regex entries match"
row_is ptr answer 'NOERROR aa, 1 answer: PTR printer\.test\.$' \
    "PTR 192.0.2.99 (reversed for us): printer.test., authoritative"
row_is srv answer 'NOERROR, 1 answer: SRV 0 5 5060 www\.test\.$' \
    "SRV _sip._udp.test: 0 5 5060 www.test."
row_is not-aa bad_response 'NOERROR but not authoritative \(AA clear\)$' \
    "authoritative: true and no AA flag: bad_response"
row_is nx bad_response 'rcode NXDOMAIN is not in valid_rcodes \(0 answers\)$' \
    "NXDOMAIN with the default valid_rcodes: bad_response"
row_is nx-valid answer 'NXDOMAIN, 0 answers$' \
    "NXDOMAIN listed in valid_rcodes: answer"
row_is nx-err answer 'NXDOMAIN, 0 answers$' \
    "nx.err (address=/nx.err/): NXDOMAIN, valid as a scalar list"
row_is servfail bad_response 'rcode SERVFAIL is not in valid_rcodes' \
    "SERVFAIL (DNSSEC bogus through the helper): bad_response"
row_is servfail-tcp bad_response 'rcode SERVFAIL is not in valid_rcodes' \
    "SERVFAIL over tcp too"
row_is servfail-ok answer 'SERVFAIL( aa)?, 0 answers$' \
    "SERVFAIL listed in valid_rcodes: answer"
row_is refused bad_response 'rcode REFUSED is not in valid_rcodes' \
    "REFUSED from the server: bad_response (the server answered)"
row_is timeout timeout 'no answer within 1000ms$' \
    "timeout.err over udp: dnsmasq keeps quiet: timeout"
row_is timeout-tcp bad_response 'tcp: the server closed the connection without an answer$' \
    "timeout.err over tcp: dnsmasq closes the connection: bad_response"
row_is big answer 'NOERROR, 30 answers via tcp \(udp truncated\): TXT "record' \
    "30 TXT records (2.6 KB): TC over udp, answered over tcp"
row_is big-edns4k answer 'NOERROR, 30 answers: TXT "record' \
    "the same with edns_udp_size 4096: fits in one UDP answer"
row_is big-noedns answer 'NOERROR, 30 answers via tcp \(udp truncated\)' \
    "the same without EDNS (512 bytes): truncated, answered over tcp"
row_is a-tcp answer 'NOERROR, 1 answer: A 192\.0\.2\.10$' \
    "transport: tcp: answer"
row_is regex-miss bad_response 'no answer matches answer_regex "IN A 192\\\.0\\\.2\\\.11\$"$' \
    "answer_regex that no record matches: bad_response naming it"
row_is regex-not bad_response 'answer_regex_not "IN A 192\\\.0\\\.2\\\.10\$" matches www\.test\. [0-9]+ IN A 192\.0\.2\.10$' \
    "answer_regex_not that a record matches: bad_response naming both"
row_is too-few bad_response 'NOERROR with 1 answer, fewer than answer_count_min 2$' \
    "answer_count_min 2 with one answer: bad_response"
row_is closed refused 'udp: port unreachable \(ICMP\)$' \
    "closed udp port: refused (ICMP port unreachable)"
row_is closed-tcp refused 'tcp connect: Connection refused$' \
    "closed tcp port: refused (RST)"
row_is silent timeout 'no answer within 1000ms$' \
    "a port that swallows queries: timeout"
row_is wrong-id bad_response 'no valid reply; 1 ignored \(id 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4}\)$' \
    "a reply with the wrong id never counts: bad_response at the deadline"
row_is wrong-q bad_response 'no valid reply; 1 ignored \(question for evil\.test\., not ours\)$' \
    "a reply to another question never counts: bad_response"
row_is malformed bad_response 'malformed reply: answer record 1 of 1: A RDATA is not 4 bytes$' \
    "a malformed reply: bad_response saying what is wrong"
row_is other-port timeout 'no answer within 1000ms$' \
    "a right reply from another port is never seen: timeout"
row_is late answer 'NOERROR, 1 answer: A 192\.0\.2\.77$' \
    "a wrong-id reply, then the right one: the right one counts"
row_is py-tc answer 'NOERROR, 1 answer via tcp \(udp truncated\): A 192\.0\.2\.2$' \
    "TC over udp: the answer read over tcp in 3 pieces counts"
row_is tc-silent timeout 'tcp: no answer within 1000ms \(after udp truncation\)$' \
    "TC, then a tcp server that never answers: timeout saying so"
row_is tc-wrong-id bad_response 'tcp reply does not answer our query: id 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4}$' \
    "a tcp reply with the wrong id: bad_response at once"
if [ "$HAVE_V6" = 1 ]; then
	is "$(field v6 3)" "[::1]:15319" "an IPv6 server's label is [::1]:15319"
	row_is v6 answer 'NOERROR, 1 answer: A 192\.0\.2\.77$' \
	    "a server on ::1: answer"
else
	skip "::1 is not configured on lo" "an IPv6 server's label"
	skip "::1 is not configured on lo" "a server on ::1: answer"
fi
nsucc=$(awk '$4 == "answer"' <<<"$OUT" | wc -l)
like "$OUT" "^$nsucc of $((38 + HAVE_V6)) succeeded\$" \
    "the summary counts $nsucc successes of $((38 + HAVE_V6))"
is "$ERR" "" "--once writes nothing to stderr"

# What went over the wire: dnsmasq saw our queries, the responders saw
# RD and EDNS as configured, and ids and source ports vary.
like "$(cat "$T/dnsmasq.log")" 'query\[TXT\] big\.test from 127\.0\.0\.1' \
    "dnsmasq logged the big.test TXT query"
like "$(cat "$T/dnsmasq.log")" 'query\[PTR\] 99\.2\.0\.192\.in-addr\.arpa from 127\.0\.0\.1' \
    "dnsmasq logged the PTR query for the reversed 192.0.2.99"
like "$(cat "$T/responder.log")" '^silent port=15310 id=0x[0-9a-f]{4} sport=[0-9]+ rd=1 edns=1232 qname=www\.test qtype=1$' \
    "the query has RD, EDNS0 with 1232 bytes, and our question"
like "$(cat "$T/responder.log")" '^tc-tcp port=15318 id=0x[0-9a-f]{4} sport=[0-9]+ qname=www\.test$' \
    "after TC the query came again over tcp"

for i in 1 2; do
	once "$T/once.yaml"
done
ids=$(sed -n 's/^late port=15317 id=\(0x[0-9a-f]*\) sport=\([0-9]*\).*/\1/p' \
    "$T/responder.log" | sort -u | wc -l)
ports=$(sed -n 's/^late port=15317 id=0x[0-9a-f]* sport=\([0-9]*\).*/\1/p' \
    "$T/responder.log" | sort -u | wc -l)
cmp_ok "$ids" '>=' 2 "three runs used more than one query id ($ids distinct)"
cmp_ok "$ports" '>=' 2 "three runs used more than one source port ($ports distinct)"

# ---- the running daemon ------------------------------------------------

cat >"$T/netprobed.yaml" <<EOF
listen: 127.0.0.1:$NP_PORT
defaults:
  interval: 1s
  timeout: 500ms
probes:
  - name: d-a
    type: dns
    target: $DNS
    query_name: www.test
    labels: {zone: test}
  - name: d-soa
    type: dns
    target: 127.0.0.53
    port: 15353
    query_name: test
    query_type: SOA
  - name: d-nx
    type: dns
    target: $DNS
    query_name: missing.test
  - name: d-big
    type: dns
    target: $DNS
    query_name: big.test
    query_type: TXT
  - name: d-silent
    type: dns
    target: 127.0.0.1:15310
    query_name: www.test
  - name: d-closed
    type: dns
    target: $CLOSED
    query_name: www.test
  - name: d-late
    type: dns
    target: 127.0.0.1:15317
    query_name: www.test
EOF
start_netprobed "$T/netprobed.yaml" "$T/netprobed.log"
ok $? "netprobed runs with the dns probes and answers on :$NP_PORT" ||
	bail_out "netprobed did not start"

A=(probe=d-a type=dns "target=$DNS" zone=test)
SOA=(probe=d-soa type=dns "target=$DNS")
NX=(probe=d-nx type=dns "target=$DNS")
BIG=(probe=d-big type=dns "target=$DNS")
SILENT=(probe=d-silent type=dns target=127.0.0.1:15310)
CL=(probe=d-closed type=dns "target=$CLOSED")
val() { metric_value "$@"; }
show() { diag "$(metric_lines "$@" || echo "(no $1 series)")"; }

# every probe has finished a run, and d-big has done 2 (so counters grew)
all_ran()
{
	local p

	scrape || return 1
	for p in d-a d-soa d-nx d-silent d-closed d-late; do
		val probe_success "probe=$p" >/dev/null || return 1
	done
	[ "$(val netprobe_probe_runs_total "${BIG[@]}" result=success)" \
	    -ge 2 ] 2>/dev/null
}
wait_for 20 all_ran
ok $? "every dns probe has results in /metrics" ||
	{ show probe_success; diag_file "$T/netprobed.log"; }

is "$(val probe_success "${A[@]}")" 1 "probe_success 1 for www.test"
is "$(val probe_success "${SOA[@]}")" 1 "probe_success 1 for the SOA"
is "$(val probe_success "${NX[@]}")" 0 "probe_success 0 for NXDOMAIN"
is "$(val probe_success "${BIG[@]}")" 1 "probe_success 1 for the truncated TXT set"
is "$(val probe_success "${SILENT[@]}")" 0 "probe_success 0 for the silent port"
is "$(val probe_success "${CL[@]}")" 0 "probe_success 0 for the closed port"
is "$(val probe_success probe=d-late)" 1 "probe_success 1 despite a wrong-id reply first"

is "$(val probe_dns_answer_rrs "${A[@]}")" 1 "probe_dns_answer_rrs 1 for www.test"
is "$(val probe_dns_authority_rrs "${A[@]}")" 0 "probe_dns_authority_rrs 0"
is "$(val probe_dns_additional_rrs "${A[@]}")" 1 \
    "probe_dns_additional_rrs 1 (dnsmasq's OPT record)"
is "$(val probe_dns_answer_rrs "${BIG[@]}")" 30 "probe_dns_answer_rrs 30 for big.test"
is "$(val probe_dns_answer_rrs "${NX[@]}")" 0 "probe_dns_answer_rrs 0 for NXDOMAIN"
is "$(val probe_dns_serial "${SOA[@]}")" 2024010101 \
    "probe_dns_serial is the zone's serial 2024010101"
val probe_dns_serial "${A[@]}" >/dev/null
ok $((!$?)) "no probe_dns_serial for an A query"
is "$(val netprobe_dns_rcode "${A[@]}")" 0 "netprobe_dns_rcode 0 (NOERROR)"
is "$(val netprobe_dns_rcode "${NX[@]}")" 3 "netprobe_dns_rcode 3 (NXDOMAIN)"
is "$(val probe_dns_query_succeeded "${NX[@]}")" 1 \
    "probe_dns_query_succeeded 1 for NXDOMAIN: the server did answer"
is "$(val probe_dns_query_succeeded "${SILENT[@]}")" 0 \
    "probe_dns_query_succeeded 0 for the silent port"
is "$(val probe_dns_query_succeeded "${CL[@]}")" 0 \
    "probe_dns_query_succeeded 0 for the closed port"
for m in probe_dns_answer_rrs netprobe_dns_rcode; do
	val "$m" "${SILENT[@]}" >/dev/null
	ok $((!$?)) "no $m for a probe that got no answer"
done
is "$(val probe_dns_duration_seconds "${A[@]}" phase=connect)" 0 \
    "probe_dns_duration_seconds{phase=connect} is 0 over udp"
cmp_ok "$(val probe_dns_duration_seconds "${A[@]}" phase=request)" '>' 0 \
    "probe_dns_duration_seconds{phase=request} > 0"
cmp_ok "$(val probe_dns_duration_seconds "${A[@]}" phase=request)" '<' 0.5 \
    "the request phase is below the 500ms timeout"
cmp_ok "$(val probe_dns_duration_seconds "${BIG[@]}" phase=connect)" '>' 0 \
    "probe_dns_duration_seconds{phase=connect} > 0 after the tcp fallback"
val probe_dns_duration_seconds "${SILENT[@]}" phase=request >/dev/null
ok $((!$?)) "no request phase for a probe that got no answer"

big_runs=$(val netprobe_probe_runs_total "${BIG[@]}" result=success)
is "$(val netprobe_dns_truncated_total "${BIG[@]}")" "$big_runs" \
    "netprobe_dns_truncated_total counts every big.test run ($big_runs)"
is "$(val netprobe_dns_truncated_total "${A[@]}")" 0 \
    "netprobe_dns_truncated_total 0 for www.test"
cmp_ok "$(val netprobe_dns_responses_total "${NX[@]}" rcode=NXDOMAIN)" '>=' 1 \
    "netprobe_dns_responses_total{rcode=NXDOMAIN} counts NXDOMAIN answers"
val netprobe_dns_responses_total "${NX[@]}" rcode=NOERROR >/dev/null
ok $((!$?)) "no NOERROR responses counted for missing.test"
is "$(val netprobe_dns_responses_total "${A[@]}" rcode=NOERROR)" \
    "$(val netprobe_probe_runs_total "${A[@]}" result=success)" \
    "every www.test run counted one NOERROR response"
cmp_ok "$(val netprobe_probe_runs_total "${SILENT[@]}" result=timeout)" '>=' 1 \
    "netprobe_probe_runs_total{result=timeout} for the silent port"
cmp_ok "$(val netprobe_probe_runs_total "${CL[@]}" result=refused)" '>=' 1 \
    "netprobe_probe_runs_total{result=refused} for the closed port"
cmp_ok "$(val netprobe_probe_runs_total "${NX[@]}" result=bad_response)" '>=' 1 \
    "netprobe_probe_runs_total{result=bad_response} for NXDOMAIN"

if [ -x "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics <<<"$METRICS" >"$T/promtool.out" 2>&1
	ok $? "promtool check metrics is clean" || diag_file "$T/promtool.out" 40
else
	skip "no promtool" "promtool check metrics is clean"
fi
like "$METRICS" '^# TYPE netprobe_dns_responses_total counter$' \
    "netprobe_dns_responses_total is a counter"
like "$METRICS" '^# TYPE probe_dns_duration_seconds gauge$' \
    "probe_dns_duration_seconds is a gauge"

# /probe?debug=true: the steps of one run, blackbox style
http_get "$(np_url "/probe?module=d-a&target=$DNS&debug=true")"
is "$HTTP_CODE" 200 "/probe?module=d-a&debug=true answers 200"
like "$HTTP_BODY" 'query id 0x[0-9a-f]{4}: www\.test\. IN A, RD, EDNS0 udp 1232, 37 bytes over udp to 127\.0\.0\.53:15353 from port [0-9]+' \
    "the debug log says what was sent, to where, from which port"
like "$HTTP_BODY" 'reply over udp, [0-9]+ bytes after [0-9.]+ms: id 0x[0-9a-f]{4}, question echoed, NOERROR rd ra, 1 answer, 0 authority, 1 additional' \
    "the debug log says what came back"
like "$HTTP_BODY" '  answer: www\.test\. [0-9]+ IN A 192\.0\.2\.10$' \
    "the debug log shows the answer record as answer_regex sees it"
like "$HTTP_BODY" '^Result: success: NOERROR, 1 answer: A 192\.0\.2\.10$' \
    "the debug output ends with the result"
http_get "$(np_url "/probe?module=d-a&target=127.0.0.1:15317&debug=true")"
like "$HTTP_BODY" 'ignored a reply: id 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4}' \
    "/probe on the wrong-id-first responder logs the ignored reply"
like "$HTTP_BODY" '^probe_dns_answer_rrs\{.*\} 1$' \
    "/probe returns the dns gauges"
http_get "$(np_url "/probe?module=d-big&target=$DNS&debug=true")"
like "$HTTP_BODY" 'truncated \(TC\): retrying over tcp' \
    "/probe on big.test logs the fallback to tcp"
like "$HTTP_BODY" 'tcp connected in [0-9.]+ms' \
    "... and the tcp connect"

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM"
unlike "$(cat "$T/netprobed.log")" 'ASan|runtime error|LeakSanitizer' \
    "no sanitizer report in the daemon's log"

done_testing
