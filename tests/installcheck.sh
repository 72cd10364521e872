#!/bin/sh
#
# make installcheck (make distcheck runs it after its make install): what
# `make install` put under the prefix is what a bureau needs, and works
# from there: the binary, both man pages, the systemd unit pointing at the
# installed binary and configuration, the MIB where net-snmp looks, the
# example configurations (they pass --check-config), the mission's rules
# (their own rule tests pass), and the dashboards.
#
# Environment (from Makefile.am): sbindir, sysconfdir, mandir, mibdir,
# rulesdir, dashboardsdir, examplesdir, systemdsystemunitdir.  Like any
# installcheck it looks at the installed files in their place (no
# DESTDIR): the examples name the rules by their installed path.

fails=0
n=0
check() {	# check DESC COMMAND...
	desc=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		printf '%s\n' "$out" | sed 's/^/# /' | head -n 20
		fails=$((fails + 1))
	fi
}
has() { [ -s "$1" ]; }
# the installed pieces, by where make install put them
bin=$sbindir/netprobed
unit=$systemdsystemunitdir/netprobed.service

check "the binary runs: $bin --version" "$bin" --version
for f in "$mandir/man8/netprobed.8" \
    "$mandir/man5/netprobed.yaml.5" "$unit" \
    "$mibdir/NETPROBE-MIB.txt" \
    "$dashboardsdir/dashboards/README.md" \
    "$dashboardsdir/dashboards/grafana/city-overview.json" \
    "$dashboardsdir/dashboards/prometheus/prometheus.yml" \
    "$rulesdir/netprobed.rules.yml" \
    "$examplesdir/district.yaml"; do
	check "installed: $f" has "$f"
done
check "the man pages render (man8 and man5)" sh -c \
    'command -v groff >/dev/null || exit 0
     for m; do groff -mandoc -Tutf8 -ww -z "$m" || exit 1; done' sh \
    "$mandir/man8/netprobed.8" "$mandir/man5/netprobed.yaml.5"
check "the unit starts $sbindir/netprobed with $sysconfdir/netprobed/netprobed.yaml" \
    grep -qx "ExecStart=$sbindir/netprobed -c $sysconfdir/netprobed/netprobed.yaml" \
    "$unit"
check "the installed rules pass their own rule tests" sh -c \
    'cd "$1" && "$2" --test-rules ./*.test.yml' sh "$rulesdir" "$bin"
for f in "$examplesdir"/*.yaml; do
	# make install points their rule_files at $rulesdir
	check "--check-config passes: ${f##*/}" "$bin" -c "$f" --check-config
done
echo "1..$n"
[ "$fails" -eq 0 ]
