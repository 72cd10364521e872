#!/usr/bin/env bash
#
# The rules shipped in rules/ (*.rules.yml) and their rule unit tests
# (*.test.yml): they load in Prometheus (promtool check rules, lint
# included), their tests pass under promtool test rules, every alerting
# rule is asserted both firing and quiet and every recording rule is
# queried, netprobed's own loader accepts them (--check-config with
# rule_files:, so they stay inside its PromQL subset), and netprobed
# --test-rules gives the same verdict as promtool on the same files, for
# the shipped rules and for a broken copy.
#
# Runs no daemon and opens no sockets.

# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

T=$TAP_TMPDIR
R=$(cd "$top_srcdir/rules" && pwd)
RULES=("$R"/*.rules.yml)
TESTS=("$R"/*.test.yml)
[ -e "${RULES[0]}" ] || bail_out "no rules/*.rules.yml in $R"
[ -e "${TESTS[0]}" ] || bail_out "no rules/*.test.yml in $R"

HAVE_PROMTOOL=1
command -v promtool >/dev/null 2>&1 || HAVE_PROMTOOL=0
NO_PROMTOOL="promtool is not installed (scripts/deps test)"
HAVE_NP=1
[ -x "$NETPROBED" ] || HAVE_NP=0
HAVE_PYYAML=1
"$PYTHON3" -c 'import yaml' 2>/dev/null || HAVE_PYYAML=0

# run NAME CMD...: RC, OUT (stdout and stderr) of CMD, bounded in time
run()
{
	local name=$1

	shift
	timeout -k 5 120 "$@" >"$T/$name.out" 2>&1 </dev/null
	RC=$?
	OUT=$(cat "$T/$name.out")
}

# ---- Prometheus: the rules load, lint-clean; their tests pass --------

for f in "${RULES[@]}"; do
	b=${f##*/}
	if [ "$HAVE_PROMTOOL" = 0 ]; then
		skip "$NO_PROMTOOL" "promtool check rules $b"
		continue
	fi
	run check promtool check rules "$f"
	is "$RC" 0 "promtool check rules $b: exit 0" || diag "$OUT"
	like "$OUT" 'SUCCESS: [0-9]+ rules found' "promtool check rules $b: SUCCESS"
	# duplicate rules are a lint finding that still exits 0
	unlike "$OUT" 'lint error|FAILED|WARNING' \
	    "promtool check rules $b: no lint finding"
done

for f in "${TESTS[@]}"; do
	b=${f##*/}
	if [ "$HAVE_PROMTOOL" = 0 ]; then
		skip "$NO_PROMTOOL" "promtool test rules $b"
		continue
	fi
	# run from elsewhere: rule_files resolve against the test file
	run ptest promtool test rules "$f"
	is "$RC" 0 "promtool test rules $b: exit 0" || diag "$OUT"
	like "$OUT" 'SUCCESS' "promtool test rules $b: SUCCESS"
done

# ---- coverage: every alert asserted firing and quiet -----------------

# One line per alerting rule (its name and static labels), per alert
# name, and per recording rule, each with what the tests assert:
#	rule NAME{labels} firing=N
#	alert NAME firing=N quiet=N
#	record NAME queried=N
# An alerting rule counts as asserted firing when an expected alert of
# its name carries its static labels.
cat >"$T/coverage.py" <<'EOF'
import glob, os, re, sys, yaml

rdir = sys.argv[1]
rules = []
for f in sorted(glob.glob(os.path.join(rdir, "*.rules.yml"))):
    for g in yaml.safe_load(open(f, encoding="utf-8"))["groups"]:
        rules += g["rules"]
fired, quiet, exprs = [], {}, []
for f in sorted(glob.glob(os.path.join(rdir, "*.test.yml"))):
    for t in yaml.safe_load(open(f, encoding="utf-8"))["tests"]:
        for a in t.get("alert_rule_test") or []:
            exp = a.get("exp_alerts") or []
            if not exp:
                quiet[a["alertname"]] = quiet.get(a["alertname"], 0) + 1
            for e in exp:
                fired.append((a["alertname"],
                    {k: str(v) for k, v in (e.get("exp_labels") or {}).items()}))
        exprs += [p["expr"] for p in t.get("promql_expr_test") or []]
names = []
for r in rules:
    if "alert" in r:
        name, labels = r["alert"], {k: str(v) for k, v in
            (r.get("labels") or {}).items()}
        n = sum(1 for a, l in fired if a == name and
            all(l.get(k) == v for k, v in labels.items()))
        lt = ",".join("%s=%s" % kv for kv in sorted(labels.items()))
        print("rule %s{%s} firing=%d" % (name, lt, n))
        if name not in names:
            names.append(name)
    else:
        pat = re.compile(re.escape(r["record"]) + r"(?![A-Za-z0-9_:])")
        print("record %s queried=%d" % (r["record"],
            sum(1 for e in exprs if pat.search(e))))
for name in names:
    print("alert %s firing=%d quiet=%d" % (name,
        sum(1 for a, _ in fired if a == name), quiet.get(name, 0)))
EOF

if [ "$HAVE_PYYAML" = 1 ]; then
	run cov "$PYTHON3" "$T/coverage.py" "$R"
	is "$RC" 0 "the rule and test files parse as YAML" || diag "$OUT"
	while read -r kind what counts; do
		case $kind in
		rule)
			unlike "$counts" '^firing=0$' \
			    "alerting rule $what: asserted firing"
			;;
		alert)
			unlike "$counts" '(^| )(firing|quiet)=0( |$)' \
			    "alert $what: asserted firing and quiet ($counts)"
			;;
		record)
			unlike "$counts" '^queried=0$' \
			    "recording rule $what: queried by a test ($counts)"
			;;
		esac
	done <<<"$OUT"
else
	skip "python3-yaml is not installed" "every rule is covered by a test"
fi

# ---- netprobed's loader accepts them (its PromQL subset) -------------

np_check()
{
	cat >"$T/np.yaml" <<EOF
site: {name: jinshui, display_name: 金水区}
listen: 127.0.0.1:19599
probes:
  - name: extranet-link
    type: link
    target: lo
    labels: {component: link}
rule_files: [$1]
EOF
	run npcheck "$NETPROBED" -c "$T/np.yaml" --check-config
}

if [ "$HAVE_NP" = 0 ]; then
	skip "no netprobed binary at $NETPROBED" \
	    "netprobed --check-config loads the shipped rules"
elif np_check "$R/*.rules.yml" &&
    grep -qiE "unknown key.*rule_files|rule_files.*unknown" <<<"$OUT"; then
	skip "this netprobed has no rule_files: yet" \
	    "netprobed --check-config loads the shipped rules"
else
	is "$RC" 0 "netprobed --check-config with the shipped rules: exit 0" ||
	    diag "$OUT"
	like "$OUT" ': OK' "netprobed --check-config with the shipped rules: OK"
	# the same check must be able to fail: a function outside the subset
	mkdir -p "$T/bad"
	cp "${RULES[0]}" "$T/bad/"
	cat >>"$T/bad/${RULES[0]##*/}" <<'EOF'
      - record: netprobe:outside_the_subset
        expr: label_replace(probe_success, "x", "$1", "probe", "(.*)")
EOF
	np_check "$T/bad/*.rules.yml"
	is "$RC" 2 "netprobed --check-config, a rule outside the subset: exit 2"
	like "$OUT" "^$(sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$T/bad/${RULES[0]##*/}"):[0-9]+:[0-9]+: .*label_replace" \
	    "netprobed --check-config names FILE:LINE:COL and label_replace"
fi

# ---- netprobed --test-rules: the same verdict as promtool ------------

# The number of test groups in a test file.
ngroups()
{
	grep -c '^  - name:' "$1"
}

NO_TR=''
if [ "$HAVE_NP" = 0 ]; then
	NO_TR="no netprobed binary at $NETPROBED"
elif ! "$NETPROBED" --help 2>&1 | grep -q -- --test-rules; then
	NO_TR="this netprobed has no --test-rules yet"
fi

for f in "${TESTS[@]}"; do
	b=${f##*/}
	if [ -n "$NO_TR" ]; then
		skip "$NO_TR" "netprobed --test-rules $b: passes, as in promtool"
		continue
	fi
	run ours "$NETPROBED" --test-rules "$f"
	is "$RC" 0 "netprobed --test-rules $b: exit 0" || diag "$OUT"
	n=$(ngroups "$f")
	like "$OUT" "^$n tests, $n passed, 0 failed" \
	    "netprobed --test-rules $b: $n tests, $n passed"
	if [ "$HAVE_PROMTOOL" = 1 ]; then
		run theirs promtool test rules "$f"
		is "$RC" 0 "netprobed --test-rules $b: same verdict as promtool"
	else
		skip "$NO_PROMTOOL" "netprobed --test-rules $b: same verdict as promtool"
	fi
done

# A broken copy (every `for: 2m` shortened to 1m, which the timing tests
# pin): each test group, run alone, must get the same verdict from both,
# and some must fail.  (promtool names a failed group only for alert
# differences, so verdicts are compared group by group.)
mkdir -p "$T/mut" "$T/split"
cp "$R"/*.yml "$T/mut/"
sed -i 's/for: 2m$/for: 1m/' "$T/mut"/*.rules.yml

# split DIR OUT: each test group of DIR/*.test.yml alone in
# OUT/FILE.N.test.yml (rule_files made absolute); prints "FILE.N NAME"
cat >"$T/split.py" <<'EOF'
import glob, os, sys, yaml

src, out = sys.argv[1], sys.argv[2]
for f in sorted(glob.glob(os.path.join(src, "*.test.yml"))):
    doc = yaml.safe_load(open(f, encoding="utf-8"))
    base = os.path.basename(f)[:-len(".test.yml")]
    rf = [p if os.path.isabs(p) else os.path.join(src, p)
          for p in doc["rule_files"]]
    for i, t in enumerate(doc["tests"], 1):
        one = dict(doc, rule_files=rf, tests=[t])
        name = "%s.%d" % (base, i)
        with open(os.path.join(out, name + ".test.yml"), "w",
                  encoding="utf-8") as o:
            yaml.safe_dump(one, o, allow_unicode=True, sort_keys=False)
        print(name, t.get("name", "#%d" % i))
EOF

if [ -n "$NO_TR" ]; then
	skip "$NO_TR" "netprobed --test-rules fails a broken copy like promtool"
elif [ "$HAVE_PROMTOOL" = 0 ]; then
	skip "$NO_PROMTOOL" "netprobed --test-rules fails a broken copy like promtool"
elif [ "$HAVE_PYYAML" = 0 ]; then
	skip "python3-yaml is not installed" \
	    "netprobed --test-rules fails a broken copy like promtool"
else
	run split "$PYTHON3" "$T/split.py" "$T/mut" "$T/split"
	is "$RC" 0 "the broken copy's tests split into one file per group" ||
	    diag "$OUT"
	nfail=0
	while read -r g name; do
		[ -n "$g" ] || continue
		run ours "$NETPROBED" --test-rules "$T/split/$g.test.yml"
		orc=$RC
		run theirs promtool test rules "$T/split/$g.test.yml"
		[ "$RC" = 1 ] && nfail=$((nfail + 1))
		is "$orc" "$RC" "broken copy, ${g%.*} \"$name\": the same verdict as promtool (exit $RC)"
	done <"$T/split.out"
	cmp_ok "$nfail" ">" 0 "broken copy: some test groups fail ($nfail)"
fi

done_testing
