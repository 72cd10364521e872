#!/usr/bin/env bash
#
# The audit trail (`audit_log:`) of the running daemon: a "start" record,
# a "reload" record with the new file's SHA-256 after SIGHUP (none after a
# failed reload), a "close" record at stop, the chain going on across a
# restart, one daemon per trail (lock), a torn tail recovered at start,
# files that are not trails refused; and `netprobed --verify-audit` on
# the result: intact (0), a changed byte or a removed line (1, naming the
# line), a missing file (2).
#
# Ports: 19595 (netprobed), 19596 (a second netprobed on the same trail).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

need_daemon
[ -x "$PYTHON3" ] || skip_all "no python3 to read the JSON records"
command -v sha256sum >/dev/null || skip_all "no sha256sum"

umask 022
T=$TAP_TMPDIR
NP_PORT=19595
SECOND_PORT=19596
CONF=$T/netprobed.yaml
CONF2=$T/second.yaml
TRAIL=$T/trail.log
LOG=$T/netprobed.log
ZEROS=0000000000000000000000000000000000000000000000000000000000000000

for p in "$NP_PORT" "$SECOND_PORT"; do
	port_listening "$p" &&
		bail_out "port $p must be free for this test, but something listens there"
done

# write_config FILE PORT INTERVAL TRAIL
write_config()
{
	cat >"$1.new" <<EOF
site:
  name: audit-test
listen: 127.0.0.1:$2
defaults:
  interval: $3
  timeout: 500ms
probes:
  - name: lo
    type: icmp
    target: 127.0.0.1
    count: 1
audit_log: $4
EOF
	mv -f "$1.new" "$1"
}

sha_of_file() { sha256sum "$1" | cut -d' ' -f1; }
# the SHA-256 of line N of FILE, without its newline
sha_of_line() { sed -n "$2p" "$1" | tr -d '\n' | sha256sum | cut -d' ' -f1; }
line() { sed -n "$2p" "$1"; }
nlines() { wc -l <"$1" | tr -d ' '; }
# jf LINE KEY: a field of a record, as Python's json module reads it
jf()
{
	"$PYTHON3" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}
keys() { "$PYTHON3" -c 'import json, sys; print(",".join(json.loads(sys.argv[1])))' "$1"; }
has_kind() { grep -q "\"kind\":\"$2\"" "$1" 2>/dev/null; }
has_lines() { [ -f "$1" ] && [ "$(nlines "$1")" -ge "$2" ]; }

write_config "$CONF" "$NP_PORT" 1s "$TRAIL"
SHA_A=$(sha_of_file "$CONF")

# ---- start ------------------------------------------------------------------

start_netprobed "$CONF" "$LOG" || bail_out "netprobed did not start"
wait_for 10 has_kind "$TRAIL" start
ok $? "the trail gets a \"start\" record" || diag_file "$LOG"
L1=$(line "$TRAIL" 1)
is "$(keys "$L1")" "seq,time,kind,config_sha256,config,site,prev_sha256" \
    "keys in order: seq, time, kind, config_sha256, the fields, prev_sha256" ||
	diag "$L1"
is "$(jf "$L1" seq):$(jf "$L1" kind)" "1:start" "the first record is seq 1, kind start"
like "$(jf "$L1" time)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' \
    "time is RFC 3339 UTC with milliseconds"
is "$(jf "$L1" config_sha256)" "$SHA_A" "config_sha256 is sha256sum of the config file"
is "$(jf "$L1" config):$(jf "$L1" site)" "$CONF:audit-test" \
    "the fields name the config file and the site"
is "$(jf "$L1" prev_sha256)" "$ZEROS" "the first prev_sha256 is 64 zeros"
is "$(stat -c %a "$TRAIL")" 640 "the trail is created with mode 0640"
like "$(cat "$LOG")" "info: audit trail $TRAIL: record 1 \\(start\\), sha256 $(sha_of_line "$TRAIL" 1)\$" \
    "the log anchors record 1 with its digest" || diag_file "$LOG"

# ---- reload -----------------------------------------------------------------

write_config "$CONF" "$NP_PORT" 2s "$TRAIL"
SHA_B=$(sha_of_file "$CONF")
isnt "$SHA_B" "$SHA_A" "the changed config has another digest"
kill -HUP "$NETPROBED_PID"
wait_for 10 has_kind "$TRAIL" reload
ok $? "SIGHUP adds a \"reload\" record" || diag_file "$LOG"
L2=$(line "$TRAIL" 2)
is "$(jf "$L2" seq):$(jf "$L2" kind)" "2:reload" "record 2 is the reload"
is "$(jf "$L2" config_sha256)" "$SHA_B" "its config_sha256 is sha256sum of the new file"
is "$(jf "$L2" prev_sha256)" "$(sha_of_line "$TRAIL" 1)" \
    "its prev_sha256 is the SHA-256 of line 1"

# a reload that fails (a broken file) writes nothing
cp "$CONF" "$T/good.yaml"
printf 'probes: [\n' >"$CONF"
kill -HUP "$NETPROBED_PID"
failed_reload() { scrape && [ "$(metric_value netprobe_config_reloads_total result=failure)" = 1 ]; }
wait_for 10 failed_reload
ok $? "a broken config is a failed reload" || diag_file "$LOG"
is "$(nlines "$TRAIL")" 2 "a failed reload adds no record"
mv -f "$T/good.yaml" "$CONF"

# ---- one daemon per trail -----------------------------------------------------

write_config "$CONF2" "$SECOND_PORT" 1s "$TRAIL"
OLD_PORT=$NP_PORT FIRST_PID=$NETPROBED_PID
NP_PORT=$SECOND_PORT
start_netprobed "$CONF2" "$T/second.log"
ok $? "a second netprobed on the same trail starts anyway" ||
	diag_file "$T/second.log"
like "$(cat "$T/second.log")" "warning: audit trail: $TRAIL: in use by another process \\(it holds the lock\\)\$" \
    "... and says the trail is in use" || diag_file "$T/second.log"
stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "the second netprobed stops cleanly"
is "$(nlines "$TRAIL")" 2 "it wrote nothing to the trail"
NP_PORT=$OLD_PORT NETPROBED_PID=$FIRST_PID

# ---- stop, start again --------------------------------------------------------

stop_pid "$NETPROBED_PID"
is "$STOP_STATUS" 0 "netprobed exits 0 on SIGTERM" || diag_file "$LOG"
L3=$(line "$TRAIL" 3)
is "$(jf "$L3" seq):$(jf "$L3" kind)" "3:close" "stopping adds record 3, kind close"
like "$(cat "$LOG")" "info: audit trail $TRAIL: record 3 \\(close\\), sha256 $(sha_of_line "$TRAIL" 3)\$" \
    "the log anchors the close record"

start_netprobed "$CONF" "$LOG" || bail_out "netprobed did not start again"
wait_for 10 has_lines "$TRAIL" 4
L4=$(line "$TRAIL" 4)
is "$(jf "$L4" seq):$(jf "$L4" kind)" "4:start" "after a restart the seq goes on: record 4, start"
is "$(jf "$L4" prev_sha256)" "$(sha_of_line "$TRAIL" 3)" \
    "... chained to the last record before the restart"
like "$(cat "$LOG")" "info: audit trail $TRAIL: continuing after record 3, sha256 $(sha_of_line "$TRAIL" 3)\$" \
    "the log says where the trail goes on"
stop_pid "$NETPROBED_PID"
is "$(nlines "$TRAIL")" 5 "five records: start, reload, close, start, close"

# ---- --verify-audit -----------------------------------------------------------

T1=$(jf "$(line "$TRAIL" 1)" time)
T5=$(jf "$(line "$TRAIL" 5)" time)
out=$("$NETPROBED" --verify-audit "$TRAIL")
is "$?" 0 "--verify-audit exits 0 on the trail"
is "$out" "$TRAIL: intact: 5 records, seq 1..5, first $T1, last $T5, 2 configurations" \
    "... and prints the summary"

F=$T/tampered.log
sed '2s/"site":"audit-test"/"site":"audit-tesT"/' "$TRAIL" >"$F"
is "$(cmp "$TRAIL" "$F" | sed 's/.*line //')" 2 "(one byte of record 2 changed)"
out=$("$NETPROBED" --verify-audit "$F")
is "$?" 1 "a changed byte: exit 1"
is "$out" "$F:3: broken: prev_sha256 does not match line 2" "... naming the line after it"

F=$T/removed.log
sed '3d' "$TRAIL" >"$F"
out=$("$NETPROBED" --verify-audit "$F")
is "$?" 1 "a removed middle line: exit 1"
is "$out" "$F:3: broken: seq 4 after 2: a record is missing" "... naming the gap"

F=$T/nonexistent.log
out=$("$NETPROBED" --verify-audit "$F")
is "$?" 2 "a missing file: exit 2"
is "$out" "$F: unreadable: No such file or directory" "... saying so"

# ---- a torn tail: recovered, never removed -------------------------------------

cp "$TRAIL" "$T/before.log"
truncate -s -20 "$TRAIL"
TORN=$(($(stat -c %s "$TRAIL") - $(head -n 4 "$TRAIL" | wc -c)))
out=$("$NETPROBED" --verify-audit "$TRAIL")
is "$?" 1 "a torn last line (a crash mid-write): exit 1"
like "$out" "^$TRAIL:5: broken: the last line is torn \\($TORN bytes, no newline\\)" "... naming it"
start_netprobed "$CONF" "$LOG" || bail_out "netprobed did not start on the torn trail"
wait_for 10 has_lines "$TRAIL" 7
stop_pid "$NETPROBED_PID"
KEPT=$(($(stat -c %s "$T/before.log") - 20))
cmp -s -n "$KEPT" "$TRAIL" "$T/before.log"
ok $? "nothing of the old trail is removed"
is "$(tail -c +$((KEPT + 1)) "$TRAIL" | head -c 1 | od -An -c | tr -d ' ')" '\n' \
    "... a newline ends the torn line"
L6=$(line "$TRAIL" 6)
is "$(jf "$L6" seq):$(jf "$L6" kind):$(jf "$L6" torn_bytes)" "5:recovered:$TORN" \
    "a \"recovered\" record (seq 5) counts the torn bytes"
is "$(jf "$L6" prev_sha256)" "$(sha_of_line "$TRAIL" 5)" \
    "... and chains to the torn line"
like "$(cat "$LOG")" "warning: audit trail $TRAIL: 1 line \\($TORN bytes\\) after record 4 is not a record" \
    "the log warns about the torn line"
out=$("$NETPROBED" --verify-audit "$TRAIL")
is "$?" 0 "the recovered trail verifies"
like "$out" "^$TRAIL: intact: 7 records, seq 1\\.\\.7, .*, 2 configurations, 1 torn write recovered\$" \
    "... and the summary shows the recovery"

# ---- files that are not trails ------------------------------------------------

printf 'someone else'"'"'s notes\n' >"$T/notes.txt"
cp "$T/notes.txt" "$T/notes.orig"
write_config "$CONF" "$NP_PORT" 1s "$T/notes.txt"
start_netprobed "$CONF" "$T/notes.log" || bail_out "netprobed did not start"
like "$(cat "$T/notes.log")" "warning: audit trail: $T/notes.txt: not an audit trail \\(line 1: not a JSON record \\(expected '\\{' at byte 1\\)\\); refusing to append to it\$" \
    "a file that is not a trail is refused" || diag_file "$T/notes.log"
ln -s "$TRAIL" "$T/link.log"
write_config "$CONF" "$NP_PORT" 2s "$T/link.log"
kill -HUP "$NETPROBED_PID"
wait_for 10 grep -q "link.log: a symbolic link" "$T/notes.log"
ok $? "a symbolic link is refused (after a reload)" || diag_file "$T/notes.log"
ok "$(pid_alive "$NETPROBED_PID"; echo $?)" "netprobed keeps running without a trail"
stop_pid "$NETPROBED_PID"
cmp -s "$T/notes.txt" "$T/notes.orig"
ok $? "the foreign file is unchanged"
is "$(nlines "$TRAIL")" 8 "the link's target is unchanged"

done_testing
