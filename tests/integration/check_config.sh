#!/usr/bin/env bash
#
# netprobed --check-config and the rest of the command line: exit codes,
# "OK" on a good file, FILE:LINE:COL for every error in a bad one.
# Runs no probes and opens no sockets.

# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"

T=$TAP_TMPDIR

# run ARGS...: RC, OUT (stdout), ERR (stderr)
run()
{
	"$NETPROBED" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# A regex matching the text literally.
re_quote()
{
	sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"
}

# ---- a good configuration ---------------------------------------------

cat >"$T/good.yaml" <<'EOF'
site:
  name: lab-1
  display_name: "Lab <one>"
  labels:
    region: eu
listen: 127.0.0.1:19500
defaults:
  interval: 30s
  timeout: 2s
probes:
  - name: gw
    type: icmp
    targets: [127.0.0.1, "::1"]
    count: 5
    packet_interval: 200ms
    size: 64
    dont_fragment: true
    ttl: 64
    labels:
      role: gateway
  - name: web
    type: tcp
    target: 127.0.0.1:443
    interval: 1m30s
    timeout: 500ms
EOF
GOOD=$T/good.yaml

run -c "$GOOD" --check-config
is "$RC" 0 "--check-config on a good file exits 0"
is "$OUT" "$GOOD: OK (2 probes, 3 targets)" \
    "--check-config prints FILE: OK with the probe and target counts"
is "$ERR" "" "--check-config on a good file writes nothing to stderr"

run -n -c "$GOOD"
is "$RC:$OUT" "0:$GOOD: OK (2 probes, 3 targets)" \
    "-n is --check-config (options in any order)"

run --config="$GOOD" --check-config -q
is "$RC" 0 "--config=FILE and -q are accepted with --check-config"

# ---- a file with many errors -----------------------------------------

cat >"$T/bad.yaml" <<'EOF'
site:
  name: "bad site"
  labels:
    probe: reserved
listen: 127.0.0.1:99999
defaults:
  interval: 10x
colour: blue
probes:
  - name: p1
    type: icmp
    targets: [127.0.0.1, 999.1.1.1]
    bogus: 1
  - name: p2
    type: tcp
    targets: 127.0.0.1
    timeout: 20s
  - name: p1
    type: carrier-pigeon
    target: 127.0.0.1
EOF
BAD=$T/bad.yaml
QBAD=$(re_quote "$BAD")

run -c "$BAD" --check-config
is "$RC" 2 "--check-config on a file with errors exits 2"
is "$OUT" "" "--check-config prints no OK for a bad file"
like "$ERR" "^$QBAD:2:9: site name \"bad site\" must be" \
    "bad site name reported at 2:9 (the value)"
like "$ERR" "^$QBAD:4:5: label name 'probe' is reserved" \
    "reserved label name reported at 4:5 (the key)"
like "$ERR" "^$QBAD:5:9: 'listen': invalid address \"127\.0\.0\.1:99999\"" \
    "out-of-range listen port reported at 5:9"
like "$ERR" "^$QBAD:7:13: 'interval' expects a duration" \
    "bad duration reported at 7:13"
like "$ERR" "^$QBAD:8:1: unknown key 'colour' in the configuration" \
    "unknown top-level key reported at 8:1"
like "$ERR" "^$QBAD:12:26: invalid icmp target \"999\.1\.1\.1\"" \
    "bad address inside a flow sequence reported at 12:26"
like "$ERR" "^$QBAD:13:5: unknown key 'bogus'" \
    "unknown probe key reported at 13:5"
like "$ERR" "^$QBAD:16:14: invalid tcp target \"127\.0\.0\.1\": .*port" \
    "tcp target without a port reported at 16:14"
like "$ERR" "^$QBAD:17:14: probe 'p2': timeout .*must be shorter than( the)? interval" \
    "timeout not below the interval reported at 17:14"
like "$ERR" "^$QBAD:19:11: unknown probe type \"carrier-pigeon\".*icmp, tcp" \
    "unknown probe type reported at 19:11 with the known types"
like "$ERR" "^$QBAD:18:5: duplicate probe name 'p1'.*line 10" \
    "duplicate probe name reported at 18:5 with the first line"
nerr=$(grep -c -E "^$QBAD:[0-9]+:[0-9]+: " <<<"$ERR")
is "$nerr" 11 "all 11 planted errors are reported as FILE:LINE:COL lines"
like "$ERR" "^$QBAD: 11 errors\$" "the summary line counts 11 errors"
unlike "$ERR" "^$QBAD:[0-9]+:[0-9]+: .*(null)" "no message says (null)"

# ---- YAML-level errors ------------------------------------------------

printf 'site:\n  name: [a\nprobes: x\n' >"$T/syntax.yaml"
run -c "$T/syntax.yaml" --check-config
is "$RC" 2 "a YAML syntax error exits 2"
like "$ERR" "^$(re_quote "$T/syntax.yaml"):3:7: YAML syntax error: " \
    "a YAML syntax error is reported at its line and column (3:7)"

: >"$T/empty.yaml"
run -c "$T/empty.yaml" --check-config
is "$RC" 2 "an empty file exits 2"
like "$ERR" "^$(re_quote "$T/empty.yaml"):1:1: the configuration is empty" \
    "an empty file is reported at 1:1"

printf 'probes:\n---\nsite: {}\n' >"$T/two.yaml"
run -c "$T/two.yaml" --check-config
is "$RC" 2 "two YAML documents exit 2"
like "$ERR" "^$(re_quote "$T/two.yaml"):2:1: only one YAML document is allowed" \
    "the second document is reported where it starts (2:1)"

# ---- missing file -----------------------------------------------------

run -c "$T/does-not-exist.yaml" --check-config
is "$RC" 2 "a missing file exits 2"
like "$ERR" "^$(re_quote "$T/does-not-exist.yaml"):1:1: cannot open: No such file or directory" \
    "a missing file is reported as FILE:1:1: cannot open"
is "$OUT" "" "nothing on stdout for a missing file"

# ---- other options ----------------------------------------------------

run --version
VERSION_OUT=$OUT
is "$RC" 0 "--version exits 0"
like "$OUT" '^netprobed [0-9]+\.[0-9]+\.[0-9]+ \(libevent [^,]+, libyaml [^)]+\)$' \
    "--version prints the version and library versions"

run -V
is "$RC:$OUT" "0:$VERSION_OUT" "-V works like --version"

run --help
is "$RC" 0 "--help exits 0"
like "$OUT" '^usage: netprobed ' "--help prints the usage on stdout"
like "$OUT" '--check-config' "--help mentions --check-config"
is "$ERR" "" "--help writes nothing to stderr"

run --no-such-option
is "$RC" 2 "an unknown option exits 2"
like "$ERR" '^usage: netprobed ' "an unknown option prints the usage on stderr"
is "$OUT" "" "an unknown option prints nothing on stdout"

run -c "$GOOD" --check-config --once
is "$RC" 2 "--check-config with --once exits 2"

run -c "$GOOD" --check-config stray-argument
is "$RC" 2 "a stray argument exits 2"

run -c
is "$RC" 2 "-c without a file exits 2"

# ---- the shipped examples are valid -------------------------------------

for ex in "$top_srcdir"/examples/*.yaml; do
	run -c "$ex" --check-config
	is "$RC" 0 "examples/$(basename "$ex") passes --check-config" ||
		diag "$ERR"
done

# ---- regressions and known bugs ----------------------------------------

run --help
unlike "$OUT" 'default \$\{prefix\}' \
    "--help shows a real default config path, not a literal \${prefix}"
TODO=

# (crashed with SIGSEGV at commit 9a01aed: strcmp on the NULL name of the
# non-mapping entry in the duplicate-name check)
printf 'probes:\n  - just-a-string\n  - name: a\n    type: icmp\n    target: 127.0.0.1\n' \
    >"$T/scalar-entry.yaml"
run -c "$T/scalar-entry.yaml" --check-config
is "$RC" 2 "a scalar probe entry before a valid one exits 2 (no crash)"
like "$ERR" "^$(re_quote "$T/scalar-entry.yaml"):2:5: .*mapping" \
    "a scalar probe entry is reported at 2:5 as not a mapping"
printf 'probes:\n  - name: a\n    type: icmp\n    target: 127.0.0.1\n  - 42\n' \
    >"$T/scalar-entry2.yaml"
run -c "$T/scalar-entry2.yaml" --check-config
is "$RC" 2 "a scalar probe entry after a valid one exits 2 (no crash)"

done_testing
