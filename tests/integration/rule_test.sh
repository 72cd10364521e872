#!/usr/bin/env bash
#
# netprobed --test-rules against the reference, promtool test rules
# (Prometheus 2.42), on the same fixture files (tests/rules/rt_*.test.yml):
# the same verdict per file, netprobed's exit status (0 passed, 1 failed,
# 2 not loadable), and, where both ran the tests, the same failures with
# the same expected and actual alerts and samples (read from promtool's
# report and from ours, numbers compared as numbers).  Then the command
# line: several files, paths from another directory, load errors on
# stderr as FILE:LINE:COL.
#
# Runs no daemon and opens no sockets.

# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"

T=$TAP_TMPDIR
FIX=$(cd "$top_srcdir/tests/rules" && pwd)

# A regex matching the text literally.
re_quote()
{
	sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"
}
QFIX=$(re_quote "$FIX")
QT=$(re_quote "$T")

# ours FILE...: RC, OUT, ERR of netprobed --test-rules (bounded)
ours()
{
	timeout -k 5 60 "$NETPROBED" --test-rules "$@" >"$T/out" 2>"$T/err" \
	    </dev/null
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

ours "$FIX/rt_order.test.yml"
if grep -qi 'unrecognized option\|unknown option\|invalid option' "$T/err"
then
	skip_all "this netprobed has no --test-rules"
fi

HAVE_PROMTOOL=1
command -v promtool >/dev/null 2>&1 || HAVE_PROMTOOL=0

# theirs FILE: PRC, POUT (stdout and stderr) of promtool test rules
theirs()
{
	timeout -k 5 60 promtool test rules "$1" >"$T/pout" 2>&1 </dev/null
	PRC=$?
	POUT=$(cat "$T/pout")
}

# Both reports as the same normalised records, one a line: the failures
# (alert/expr/rule, name, time in ms, expected and actual), sorted.
cat >"$T/norm.py" <<'EOF'
import math, re, sys

def ms(d):
    total, units = 0.0, {"y": 31536e6, "w": 6048e5, "d": 864e5, "h": 36e5,
                         "m": 6e4, "s": 1e3, "ms": 1, "us": 1e-3, "µs": 1e-3,
                         "ns": 1e-6}
    for n, u in re.findall(r"([0-9.]+)(ms|us|µs|ns|[ywdhms])", d):
        total += float(n) * units[u]
    return "%d" % round(total)

def num(s):
    v = float(s)
    return "NaN" if math.isnan(v) else repr(v)

SAMPLE = re.compile(r"(\{[^{}]*\}) (\S+?)(?:, |$)")
ALERT = re.compile(r"(\{[^{}]*\}) (\{[^{}]*\})(?:, |$)")

def samples(s):
    s = s.strip()
    if s in ("nil", ""):
        return "[]"
    return "[" + ", ".join(l + " " + num(v) for l, v in SAMPLE.findall(s)) + "]"

def alerts(pairs):
    return "[" + ", ".join(l + " " + a for l, a in sorted(pairs)) + "]"

def ours(lines):
    out = []
    for line in lines:
        m = re.match(r"    alert (\S+) at (\S+): expected \[(.*)\], "
                     r"got \[(.*)\]$", line)
        if m:
            out.append("alert %s %s exp %s got %s" % (m[1], ms(m[2]),
                       alerts(ALERT.findall(m[3])),
                       alerts(ALERT.findall(m[4]))))
            continue
        m = re.match(r'    expr (".*") at (\S+): expected \[(.*)\], '
                     r'got \[(.*)\]$', line)
        if m:
            out.append("expr %s %s exp %s got %s" % (m[1], ms(m[2]),
                       samples(m[3]), samples(m[4])))
            continue
        m = re.match(r'    (expr|rule) (".*"|\S+) at (\S+): error: ', line)
        if m:
            out.append("%s %s %s error" % (m[1], m[2], ms(m[3])))
    return out

def theirs(lines):
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"    alertname: (\S+), time: (\S+), $", line)
        if m:
            # exp:[ ... ],  then  got:[ ... ]: Labels/Annotations pairs
            blocks, cur = [], None
            i += 1
            while i < len(lines) and len(blocks) < 2:
                l = lines[i].strip()
                if l.startswith(("exp:", "got:")):
                    cur = []
                    if l.startswith(("exp:[]", "got:[]")):
                        blocks.append(cur)
                        cur = None
                elif l.startswith("Labels:"):
                    lab = l[len("Labels:"):]
                elif l.startswith("Annotations:") and cur is not None:
                    # "," separates the alerts of a list
                    cur.append((lab, l[len("Annotations:"):].rstrip(",")))
                elif l.startswith("]") and cur is not None:
                    blocks.append(cur)
                    cur = None
                i += 1
            out.append("alert %s %s exp %s got %s" % (m[1], ms(m[2]),
                       alerts(blocks[0]), alerts(blocks[1])))
            continue
        m = re.match(r'    expr: (".*"), time: (\S+),$', line)
        if m:
            exp = lines[i + 1].strip()[len("exp:"):]
            got = lines[i + 2].strip()[len("got:"):]
            out.append("expr %s %s exp %s got %s" % (m[1], ms(m[2]),
                       samples(exp), samples(got)))
            i += 3
            continue
        m = re.match(r'    (expr|rule): (".*"|\S+), time: (\S+), err: ',
                     line)
        if m:
            out.append("%s %s %s error" % (m[1], m[2], ms(m[3])))
        i += 1
    return out

lines = open(sys.argv[2], encoding="utf-8").read().split("\n")
recs = ours(lines) if sys.argv[1] == "ours" else theirs(lines)
print("\n".join(sorted(recs)))
EOF

# ---- every fixture: our exit status, promtool's verdict ---------------
#
# FILE:STATUS, where STATUS is ours; promtool has only 0 and 1, and its
# 1 is our 1 or 2.  Where promtool cannot load a file it fails it.

FIXTURES="rt_pass.test.yml:0 rt_fail.test.yml:1 rt_alerts.test.yml:1
rt_eval_error.test.yml:1 rt_order.test.yml:0 rt_missing_rules.test.yml:2
rt_bad_expr.test.yml:2 rt_bad_values.test.yml:2 rt_bad_rules.test.yml:2"

for fx in $FIXTURES; do
	f=${fx%%:*}
	want=${fx##*:}
	ours "$FIX/$f"
	is "$RC" "$want" "$f: netprobed exits $want"
	case $want in
	0)	unlike "$OUT" ': FAIL$' "$f: no test group fails"
		is "$(grep -v '^[^:]*:[0-9]*:[0-9]*: warning: ' "$T/err")" "" \
		    "$f: nothing but warnings on stderr" ;;
	1)	like "$OUT" ': FAIL$' "$f: a test group fails" ;;
	2)	like "$ERR" "^$QFIX/rt_[a-z_.]*:[0-9]+:[0-9]+: " \
		    "$f: errors as FILE:LINE:COL"
		is "$OUT" '0 tests, 0 passed, 0 failed; 1 file with errors' \
		    "$f: counted as a file with errors" ;;
	esac
	cp "$T/out" "$T/ours.txt"

	if [ "$HAVE_PROMTOOL" = 0 ]; then
		skip "no promtool" "$f: same verdict as promtool"
		continue
	fi
	theirs "$FIX/$f"
	is "$([ "$PRC" = 0 ] && echo pass || echo fail)" \
	    "$([ "$want" = 0 ] && echo pass || echo fail)" \
	    "$f: same verdict as promtool test rules"
	[ "$PRC" = 0 ] && [ "$want" = 0 ] && continue
	[ "$want" = 1 ] || continue
	# both ran the tests: the same failures, in detail
	"$PYTHON3" "$T/norm.py" ours "$T/ours.txt" >"$T/n_ours"
	"$PYTHON3" "$T/norm.py" theirs "$T/pout" >"$T/n_theirs"
	ok "$([ -s "$T/n_ours" ]; echo $?)" "$f: failures read from our report"
	is "$(cat "$T/n_ours")" "$(cat "$T/n_theirs")" \
	    "$f: the same failures, expected and got, as promtool"
done

# ---- what netprobed says in detail ----------------------------------

# has_line TEXT LINE DESC: LINE is one of TEXT's lines, exactly
has_line()
{
	if grep -qxF -- "$2" <<<"$1"; then
		pass "$3"
	else
		fail "$3"
		diag "no line is: $2" "in:" "$1"
	fi
}

ours "$FIX/rt_fail.test.yml"
has_line "$OUT" "$FIX/rt_fail.test.yml: pending is not firing: FAIL" \
    "FILE: NAME: FAIL"
has_line "$OUT" '    alert ProbeDown at 3m: expected [{alertname="ProbeDown",'\
' instance="ns1", job="dns", severity="page"} {summary="ns1 of dns is'\
' down", value="0"}], got []' \
    "a pending alert is not in 'got'"
has_line "$OUT" '    expr "sum(x)" at 0s: expected [], got [{} 11]' \
    "an expr difference names expected and got in full"
has_line "$OUT" '4 tests, 0 passed, 4 failed' "the summary line"

ours "$FIX/rt_eval_error.test.yml"
has_line "$OUT" '    rule Duplicated at 1m: error: vector contains metrics'\
' with the same labelset after applying alert labels' \
    "a rule that cannot be evaluated ends the group, with its error"

ours "$FIX/rt_order.test.yml"
has_line "$ERR" "$FIX/rt_order.test.yml:5:5: warning: no file matches"\
" '$FIX/rt_no_such_*.rules.yml'" \
    "a glob matching nothing is a warning"

ours "$FIX/rt_bad_values.test.yml"
has_line "$ERR" "$FIX/rt_bad_values.test.yml:10:22: values: unexpected"\
" \"x3\", expected a number, '_' or 'stale'" \
    "bad notation at its line and column"
has_line "$ERR" "$FIX/rt_bad_values.test.yml:11:24: series: expected '='"\
" after label 'job' (a series has only name=\"value\" pairs)" \
    "a bad selector at its line and column"

ours "$FIX/rt_missing_rules.test.yml"
is "$ERR" "$FIX/rt_missing_rules.test.yml:5:5: rule file"\
" '$FIX/rt_does_not_exist.rules.yml' does not exist" \
    "a rule file that does not exist"

# ---- known differences ----------------------------------------------

# {{ $value }} is Go's shortest float form (strconv 'g', -1) in
# Prometheus; format_double() tries 15 then 17 digits, never 16.
cat >"$T/fmt.rules.yml" <<'EOF'
groups:
  - name: g
    rules:
      - alert: V
        expr: v * 100
        annotations: {s: "{{ $value }}"}
EOF
cat >"$T/fmt.test.yml" <<'EOF'
rule_files: [fmt.rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: v
        values: '0.3333333333333333'
    alert_rule_test:
      - eval_time: 0m
        alertname: V
        exp_alerts:
          - exp_annotations: {s: "33.33333333333333"}
EOF
if [ "$HAVE_PROMTOOL" = 1 ]; then
	theirs "$T/fmt.test.yml"
	is "$PRC" 0 "promtool: {{ \$value }} of 100/3 is 33.33333333333333"
fi
ours "$T/fmt.test.yml"
is "$RC" 0 "{{ \$value }} of 100/3 is 33.33333333333333, as in Go"

# ---- the command line ------------------------------------------------

# several files: every report, one summary, the worst status
ours "$FIX/rt_pass.test.yml" "$FIX/rt_fail.test.yml"
is "$RC" 1 "pass + fail: exit 1"
like "$OUT" '^12 tests, 8 passed, 4 failed$' "pass + fail: one summary"
ours "$FIX/rt_fail.test.yml" "$FIX/rt_bad_expr.test.yml" "$FIX/rt_pass.test.yml"
is "$RC" 2 "a file with errors among others: exit 2"
like "$OUT" '^12 tests, 8 passed, 4 failed; 1 file with errors$' \
    "the others still run"

# rule files are found relative to the test file, wherever we run from
mkdir -p "$T/copy/sub"
cp "$FIX"/rt_probe.rules.yml "$FIX"/rt_pass.test.yml "$T/copy/sub/"
(cd "$T/copy" && timeout -k 5 60 "$NETPROBED" --test-rules \
    sub/rt_pass.test.yml >"$T/out" 2>"$T/err" </dev/null)
is "$?" 0 "a relative path with a directory: rules found beside the test"
like "$(cat "$T/out")" '^sub/rt_pass.test.yml: probe down after 2m: PASS$' \
    "names as given on the command line"

ours
is "$RC" 2 "no file: exit 2"
like "$ERR" '^usage: .*FILE' "no file: the usage"

ours "$T/nonexistent.test.yml"
is "$RC" 2 "a test file that does not exist: exit 2"
like "$ERR" "^$QT/nonexistent\\.test\\.yml:1:1: cannot open: " \
    "and says why"

done_testing
