#!/usr/bin/env bash
#
# The manual pages doc/netprobed.8 and doc/netprobed.yaml.5: mandoc finds
# nothing to warn about, both render (mandoc and man-db), every long
# option `netprobed --help` prints is in netprobed(8), and every key the
# config loader knows (as its "unknown key ... (known: ...)" errors list
# them) has an entry in the right section of netprobed.yaml(5), so a key
# added to the loader without documentation fails here.
# Runs no probes and opens no sockets.

# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$NETPROBED" ] || skip_all "no netprobed binary at $NETPROBED"
command -v mandoc >/dev/null 2>&1 ||
	skip_all "mandoc is not installed (Debian package mandoc)"

T=$TAP_TMPDIR
MAN8=$top_srcdir/doc/netprobed.8
MAN5=$top_srcdir/doc/netprobed.yaml.5

if [ ! -r "$MAN8" ] || [ ! -r "$MAN5" ]; then
	bail_out "no man pages under $top_srcdir/doc"
fi

# render PAGE: the page as plain text, wide enough that no option or key
# is split across lines, without the overstrike of bold and underline
render()
{
	mandoc -T ascii -O width=200 "$1" | sed 's/.\x08//g'
}

# section PAGE NAME: the mdoc source of section .Sh NAME, up to the next
section()
{
	awk -v want=".Sh $2" '
	    /^\.Sh / { on = ($0 == want); next }
	    on' "$1"
}

# known_keys YAMLTEXT: KNOWN_RC, the exit status of --check-config on a
# config holding YAMLTEXT, and KNOWN, the "(known: a, b, c...)" list of
# its first unknown-key error, one key a line (a probe type's own
# options, after ';', are left out)
known_keys()
{
	printf '%s\n' "$1" >"$T/unknown.yaml"
	"$NETPROBED" -c "$T/unknown.yaml" --check-config >"$T/out" 2>"$T/err" </dev/null
	KNOWN_RC=$?
	KNOWN=$(sed -n "s/^.*unknown key 'bogus' in .* (known: \([^;)]*\).*$/\1/p" \
	    "$T/err" | head -n 1 | tr ',' '\n' | sed 's/^ *//; s/ *$//' |
	    grep -v '^$')
}

# documented SECTIONTEXT KEY: KEY has an ".It Ic KEY" entry
documented()
{
	grep -qE "^\.It Ic $2( |\$)" <<<"$1"
}

# check_keys WHAT PAGE SECTION YAMLTEXT: every key the loader lists for
# YAMLTEXT's unknown key is an entry of SECTION of PAGE
check_keys()
{
	local what=$1 page=$2 sec=$3 yaml=$4 keys text k

	known_keys "$yaml"
	keys=$KNOWN
	is "$KNOWN_RC" 2 "$what: an unknown key is a config error (exit 2)"
	if [ -z "$keys" ]; then
		fail "$what: the error lists the known keys"
		diag_file "$T/err"
		return
	fi
	pass "$what: the error lists $(wc -l <<<"$keys") known keys"
	text=$(section "$page" "$sec")
	[ -n "$text" ] || diag "no section '$sec' in $page"
	for k in $keys; do
		documented "$text" "$k"
		ok $? "$what: '$k' has an entry in $(basename "$page") $sec"
	done
}

# ---- mandoc -T lint ---------------------------------------------------

for page in "$MAN8" "$MAN5"; do
	name=$(basename "$page")
	# "outdated mandoc.db" is about the machine's man database, not us
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	rc=$?
	is "$rc" 0 "mandoc -T lint -W warning $name: exit 0"
	is "$(grep -v 'mandoc\.db' <<<"$out")" "" \
	    "mandoc -T lint -W warning $name: no messages"
	[ -z "$out" ] || diag "$out"
done

# ---- rendering --------------------------------------------------------

for page in "$MAN8" "$MAN5"; do
	name=$(basename "$page")
	mandoc -T utf8 "$page" >"$T/page.txt" 2>"$T/mandoc.err"
	ok $? "mandoc -T utf8 $name renders"
	out=$(sed 's/.\x08//g' "$T/page.txt")
	like "$out" '^NAME' "$name rendered has NAME"
	like "$out" '^SEE ALSO' "$name rendered has SEE ALSO"
	if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
		MANWIDTH=100 MANPAGER=cat PAGER=cat man -l "$page" \
		    >"$T/page.txt" 2>"$T/man.err"
		ok $? "man -l $name renders"
		out=$(sed 's/.\x08//g' "$T/page.txt")
		like "$out" '^NAME' "man -l $name has NAME"
	else
		skip "man-db or groff not installed" "man -l $name renders"
		skip "man-db or groff not installed" "man -l $name has NAME"
	fi
done

TEXT8=$(render "$MAN8")
TEXT5=$(render "$MAN5")
like "$TEXT8" '^NETPROBED\(8\)' "netprobed.8 is netprobed(8)"
like "$TEXT5" '^NETPROBED\.YAML\(5\)' "netprobed.yaml.5 is netprobed.yaml(5)"
for s in SYNOPSIS DESCRIPTION OPTIONS SIGNALS ENVIRONMENT FILES \
    'EXIT STATUS' EXAMPLES 'SEE ALSO'; do
	like "$TEXT8" "^$s\$" "netprobed.8 has section $s"
done
like "$TEXT8" 'netprobed\.yaml\(5\)' "netprobed.8 refers to netprobed.yaml(5)"
like "$TEXT5" 'netprobed\(8\)' "netprobed.yaml.5 refers to netprobed(8)"

# ---- netprobed(8) against --help --------------------------------------

help=$("$NETPROBED" --help 2>&1)
is "$?" 0 "netprobed --help exits 0"
longopts=$(grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' <<<"$help" | sed 's/^[ ,]*//' |
    sort -u)
cmp_ok "$(grep -c . <<<"$longopts")" '>=' 11 \
    "--help lists the long options (at least the 11 of today)"
options=$(section "$MAN8" OPTIONS)
for o in $longopts; do
	like "$TEXT8" "(^|[^a-z-])$o([^a-z-]|\$)" "netprobed.8 mentions $o"
	like "$options" "^\.It .*Fl -${o#--}( |\$)" \
	    "netprobed.8 OPTIONS has an entry for $o"
done
shortopts=$(grep -oE '^  -[a-zA-Z0-9],' <<<"$help" | tr -d ' ,' | sort -u)
for o in $shortopts; do
	like "$TEXT8" "(^|[^a-z-])$o([^a-z0-9-]|\$)" "netprobed.8 documents $o"
done

# the default configuration: the same file name as the binary's
default=$(sed -n 's/.*configuration (default \(.*\))$/\1/p' <<<"$help")
like "$default" '/netprobed/netprobed\.yaml$' \
    "--help names the default configuration ($default)"
like "$(section "$MAN8" FILES)" 'netprobed/netprobed\.yaml' \
    "netprobed.8 FILES names the default configuration"

# every mode's exit status
exits=$(section "$MAN8" 'EXIT STATUS')
for o in check-config once responder test-rules replay verify-audit; do
	like "$exits" "^\.It .*-$o" "netprobed.8 EXIT STATUS covers --$o"
done

# ---- netprobed.yaml(5) against the config loader ----------------------

check_keys "top level" "$MAN5" "TOP LEVEL" 'bogus: 1'
check_keys "site" "$MAN5" "TOP LEVEL" 'site: {bogus: 1}'
check_keys "defaults" "$MAN5" "TOP LEVEL" 'defaults: {bogus: 1}'
check_keys "a probe" "$MAN5" "PROBES" 'probes:
  - name: p
    type: tcp
    targets: ["127.0.0.1:9"]
    bogus: 1'
check_keys "a sweep" "$MAN5" "PROBES" 'probes:
  - name: p
    type: tcp
    expect: blocked
    sweep: {prefixes: [10.0.0.0/30], ports: [9], bogus: 1}'
check_keys "snmp" "$MAN5" "SNMP" 'snmp: {bogus: 1}'
check_keys "rate_limit" "$MAN5" "SNMP" 'snmp: {rate_limit: {rate: 1, bogus: 1}}'
check_keys "a manager" "$MAN5" "SNMP" 'snmp:
  managers:
    - address: 127.0.0.1:162
      community: x
      bogus: 1'
check_keys "a watcher" "$MAN5" "WATCHERS" 'watchers:
  - name: w
    interface: lo
    segment: [10.0.0.0/8]
    bogus: 1'
check_keys "allow" "$MAN5" "WATCHERS" 'watchers:
  - name: w
    interface: lo
    segment: [10.0.0.0/8]
    allow: {bogus: []}'
check_keys "conference" "$MAN5" "WATCHERS" 'watchers:
  - name: w
    interface: lo
    segment: [10.0.0.0/8]
    conference: {mcus: [10.0.0.1], bogus: 1}'

# every probe type the loader knows is in PROBE TYPES
printf 'probes:\n  - {name: p, type: bogus, targets: [127.0.0.1]}\n' >"$T/type.yaml"
"$NETPROBED" -c "$T/type.yaml" --check-config >/dev/null 2>"$T/err" </dev/null
types=$(sed -n 's/.*(known types: \([^)]*\)).*/\1/p' "$T/err" | head -n 1 |
    tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -v '^$')
cmp_ok "$(grep -c . <<<"$types")" '>=' 2 "the loader lists its probe types"
ptypes=$(section "$MAN5" "PROBE TYPES")
for t in $types; do
	grep -qE "^\.It Li $t\$" <<<"$ptypes"
	ok $? "probe type '$t' has an entry in netprobed.yaml.5 PROBE TYPES"
done

# the example of netprobed.yaml(5) is a valid configuration (once the
# files and the user it names, which this machine need not have, are
# replaced)
awk '/^A small gateway/ { g = 1 }
    g && /^\.Bd -literal/ { on = 1; next }
    on && /^\.Ed/ { exit }
    on' "$MAN5" |
    sed -e '/^rule_files:/,/rules\/\*/d' \
	-e 's/community_file: .*/community: public/' \
	-e "s/^user: .*/user: $(id -un)/" \
	-e "s#audit_log: .*#audit_log: $T/audit.jsonl#" >"$T/example.yaml"
"$NETPROBED" -c "$T/example.yaml" --check-config >"$T/out" 2>"$T/err" </dev/null
rc=$?
is "$rc" 0 "the example in netprobed.yaml.5 passes --check-config"
[ "$rc" = 0 ] || diag_file "$T/err"

done_testing
