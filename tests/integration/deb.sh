#!/usr/bin/env bash
#
# The Debian package (debian/): `dpkg-buildpackage -us -uc -b` on a copy
# of the source builds netprobed_VERSION_ARCH.deb, lintian finds no error
# in it, and installed on this machine it is what a bureau gets: the
# binary, a valid /etc/netprobed/netprobed.yaml conffile, the netprobed
# system user, the unit (verified, NOT enabled, nothing started), the man
# pages, the MIB, the rules (their tests pass), the dashboards and the
# examples.  Removal keeps the conffile, purge removes everything but
# the user (Debian policy) and /var/lib/netprobed (the audit trail).  The package is always purged at exit.
#
# Slow (a full package build, about 30 s): runs only with NP_TEST_DEB=1
# (scripts/test sets it for the gcc stage), as root, on Debian.  Missing
# build tools and build dependencies are installed with apt-get.
# Never starts the daemon: the installed config's targets are
# placeholders off loopback.  Sends no traffic.

# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

[ "${NP_TEST_DEB:-0}" = 1 ] ||
	skip_all "slow (builds the .deb): set NP_TEST_DEB=1 to run it"
[ "$(id -u)" = 0 ] || skip_all "installs a package: needs root"
if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	skip_all "not a Debian system (no dpkg or apt-get)"
fi

T=$TAP_TMPDIR
SRC=$(cd "$top_srcdir" && pwd)
[ -r "$SRC/debian/control" ] || skip_all "no debian/ in $SRC"
START=$SECONDS
export DEBIAN_FRONTEND=noninteractive
APT_LOCK=(-o DPkg::Lock::Timeout=300)

st=$(dpkg-query -W -f='${Status}' netprobed 2>/dev/null)
case $st in
"" | *" not-installed") ;;
*) skip_all "a netprobed package is on this machine ($st): this test" \
    "would replace and purge it" ;;
esac
# from here on, whatever happens, nothing of the package stays behind
on_exit 'dpkg --purge netprobed >/dev/null 2>&1'

# ---- tools --------------------------------------------------------------

# dpkg ARGS...: dpkg, waiting (up to 300 s) while another apt-get or dpkg
# holds its lock (a test installing a missing peer in parallel)
dpkg()
{
	local end=$((SECONDS + 300)) rc

	while :; do
		command dpkg "$@" 2>"$T/dpkg.err"
		rc=$?
		if [ $rc -ne 0 ] && [ $SECONDS -lt $end ] &&
		    grep -qE 'frontend lock|is locked|locked by' "$T/dpkg.err"; then
			sleep 1
			continue
		fi
		cat "$T/dpkg.err" >&2
		return $rc
	done
}

apt_install()
{
	apt-get install -y -qq --no-install-recommends "${APT_LOCK[@]}" "$@" \
	    >>"$T/apt.log" 2>&1 && return 0
	apt-get update -qq "${APT_LOCK[@]}" >>"$T/apt.log" 2>&1
	apt-get install -y -qq --no-install-recommends "${APT_LOCK[@]}" "$@" \
	    >>"$T/apt.log" 2>&1
}

need=()
command -v dpkg-buildpackage >/dev/null 2>&1 || need+=(dpkg-dev)
command -v dh >/dev/null 2>&1 || need+=(debhelper)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v man >/dev/null 2>&1 || need+=(man-db)
if [ ${#need[@]} -gt 0 ]; then
	diag "installing ${need[*]}"
	apt_install "${need[@]}" || { diag_file "$T/apt.log"; bail_out \
	    "could not install ${need[*]}"; }
fi

# ---- a copy of the source -----------------------------------------------

# In a git work tree: the tracked files as they are in the work tree,
# plus new files not yet added (a source file Makefile.am already names),
# never what .gitignore ignores (build output) nor _build/ (build dirs).
# In a CI clone that is exactly the tracked files.  Outside git (a
# tarball): everything but build output.
mkdir -p "$T/src"
if git -C "$SRC" rev-parse --show-toplevel 2>/dev/null | grep -qxF "$SRC"; then
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		case "$f" in _build/*) continue ;; esac
		[ -e "$SRC/$f" ] && printf '%s\0' "$f"
	done | tar -C "$SRC" --null -T - -cf - | tar -C "$T/src" -xf -
else
	tar -C "$SRC" --exclude=./_build --exclude=./autom4te.cache \
	    --exclude=./Makefile --exclude=./config.status \
	    --exclude=./config.log --exclude=./config.h --exclude=./stamp-h1 \
	    --exclude=./netprobed --exclude=./netprobed.service \
	    --exclude='*.o' --exclude='*.a' --exclude=.deps \
	    --exclude=.dirstamp --exclude='*.log' --exclude='*.trs' \
	    --exclude='netprobed-*' -cf - . | tar -C "$T/src" -xf -
fi
if [ ! -r "$T/src/debian/rules" ] || [ ! -r "$T/src/configure.ac" ]; then
	bail_out "copying $SRC to $T/src failed"
fi

VERSION=$(sed -n 's/^AC_INIT(\[netprobed\], *\[\([^]]*\)\].*/\1/p' \
    "$T/src/configure.ac")
CHVERSION=$(cd "$T/src" && dpkg-parsechangelog -S Version)
is "$CHVERSION" "$VERSION" \
    "debian/changelog's version is configure.ac's AC_INIT version"

if ! (cd "$T/src" && dpkg-checkbuilddeps) >"$T/bdeps.log" 2>&1; then
	diag "$(cat "$T/bdeps.log")"
	(cd "$T/src" && apt-get build-dep -y -qq "${APT_LOCK[@]}" ./) \
	    >>"$T/apt.log" 2>&1 ||
		{ apt-get update -qq "${APT_LOCK[@]}" >>"$T/apt.log" 2>&1
		  (cd "$T/src" && apt-get build-dep -y -qq "${APT_LOCK[@]}" ./) \
		    >>"$T/apt.log" 2>&1; } ||
		{ diag_file "$T/apt.log"; bail_out "could not install the build dependencies"; }
fi

# ---- build ----------------------------------------------------------------

t0=$SECONDS
(cd "$T/src" && dpkg-buildpackage -us -uc -b -j2) >"$T/build.log" 2>&1
ok $? "dpkg-buildpackage -us -uc -b: exit 0 ($((SECONDS - t0)) s)" ||
	{ diag_file "$T/build.log" 40; bail_out "no package was built"; }
ARCH=$(dpkg --print-architecture)
DEB=$T/netprobed_${VERSION}_$ARCH.deb
CHANGES=$T/netprobed_${VERSION}_$ARCH.changes
is "$(cd "$T" && echo netprobed_*.deb)" "netprobed_${VERSION}_$ARCH.deb" \
    "it built netprobed_${VERSION}_$ARCH.deb" || bail_out "no .deb"
unlike "$(grep -E '^[^ ]+\.[ch]:[0-9]+:[0-9]+: warning:' "$T/build.log")" . \
    "the compiler warned about nothing (Debian's hardening flags, -Werror off)"

# lintian over the .changes: the .deb, its -dbgsym and the .buildinfo
lintian -I -E --pedantic "$CHANGES" >"$T/lintian.out" 2>&1
is "$(grep -c '^E: ' "$T/lintian.out")" 0 "lintian: no errors" ||
	diag "$(grep '^E: ' "$T/lintian.out")"
if grep -q '^[WIPX]: ' "$T/lintian.out"; then
	diag "lintian (not errors):" "$(grep '^[WIPX]: ' "$T/lintian.out")"
fi

CONTENTS=$(dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./|/|')
missing=
for f in /usr/sbin/netprobed /etc/netprobed/netprobed.yaml \
    /lib/systemd/system/netprobed.service /usr/lib/sysusers.d/netprobed.conf \
    /usr/share/man/man8/netprobed.8.gz /usr/share/man/man5/netprobed.yaml.5.gz \
    /usr/share/snmp/mibs/NETPROBE-MIB.txt \
    /usr/share/netprobed/rules/netprobed.rules.yml \
    /usr/share/netprobed/rules/extranet.test.yml \
    /usr/share/netprobed/dashboards/grafana/city-overview.json \
    /usr/share/netprobed/dashboards/prometheus/prometheus.yml \
    /usr/share/doc/netprobed/examples/district.yaml \
    /usr/share/doc/netprobed/copyright /usr/share/doc/netprobed/README.Debian; do
	grep -qxF "$f" <<<"$CONTENTS" || missing="$missing $f"
done
is "${missing:-none}" none "the .deb holds the binary, conffile, unit, sysusers file, man pages, MIB, rules, dashboards and examples"
is "$(dpkg-deb -f "$DEB" Depends | grep -o 'systemd | systemd-standalone-sysusers')" \
    "systemd | systemd-standalone-sysusers" \
    "it depends on a systemd-sysusers provider (its postinst creates the user)"

# What the package would create, in a scratch root (the user may already
# exist on this machine from an earlier run: it is kept on purge)
mkdir -p "$T/sysroot/etc"
dpkg-deb --fsys-tarfile "$DEB" |
	tar -xOf - ./usr/lib/sysusers.d/netprobed.conf >"$T/netprobed.conf"
systemd-sysusers --root="$T/sysroot" "$T/netprobed.conf" >/dev/null 2>&1
like "$(grep '^netprobed:' "$T/sysroot/etc/passwd" 2>/dev/null)" \
    '^netprobed:x:[1-9][0-9]{0,2}:[0-9]+:[^:]*:/nonexistent:/usr/sbin/nologin$' \
    "its sysusers.d file makes a system user netprobed (uid < 1000), home /nonexistent, shell nologin"
like "$(cat "$T/sysroot/etc/group" 2>/dev/null)" '^netprobed:x:[0-9]+:$' \
    "and a group netprobed"

# ---- install ------------------------------------------------------------

user_before=$(getent passwd netprobed)
dpkg -i "$DEB" >"$T/install.log" 2>&1
ok $? "dpkg -i: exit 0 (maintainer scripts cope without systemd as PID 1)" ||
	{ diag_file "$T/install.log"; bail_out "not installed"; }
is "$(dpkg-query -W -f='${Status} ${Version}' netprobed 2>/dev/null)" \
    "install ok installed $VERSION" "dpkg: netprobed $VERSION installed"
like "$(dpkg-query -W -f='${Conffiles}' netprobed)" \
    '^ /etc/netprobed/netprobed\.yaml [0-9a-f]{32}$' \
    "/etc/netprobed/netprobed.yaml is its one conffile"

out=$(/usr/sbin/netprobed --version 2>&1)
like "$out" "^netprobed $VERSION " "/usr/sbin/netprobed --version: netprobed $VERSION"
out=$(/usr/sbin/netprobed -c /etc/netprobed/netprobed.yaml --check-config 2>&1 </dev/null)
is "$?:$out" "0:/etc/netprobed/netprobed.yaml: OK (6 probes, 9 targets)" \
    "the installed config passes --check-config (rule_files and user: included)"
out=$(/usr/sbin/netprobed --test-rules /usr/share/netprobed/rules/*.test.yml 2>&1)
like "$?:$(tail -n 1 <<<"$out")" '^0:[0-9]+ tests, [0-9]+ passed, 0 failed$' \
    "the installed rule tests pass (netprobed --test-rules)" || diag "$out"

pw=$(getent passwd netprobed)
like "$pw" '^netprobed:x:[0-9]+:[0-9]+:[^:]*:[^:]*:(/usr)?/sbin/nologin$' \
    "user netprobed exists, with a nologin shell"
[ -n "$user_before" ] && diag "(user netprobed existed before the install: $user_before)"
uid=$(cut -d: -f3 <<<"$pw")
cmp_ok "${uid:-99999}" '<' 1000 "netprobed is a system user (uid ${uid:-?})"
ok "$(getent group netprobed >/dev/null; echo $?)" "group netprobed exists"

UNIT=/lib/systemd/system/netprobed.service
ok "$([ -r "$UNIT" ]; echo $?)" "the unit is installed as $UNIT"
is "$(grep '^ExecStart=' "$UNIT")" \
    "ExecStart=/usr/sbin/netprobed -c /etc/netprobed/netprobed.yaml" \
    "the unit runs /usr/sbin/netprobed on /etc/netprobed/netprobed.yaml"
out=$(systemd-analyze verify --man=no "$UNIT" 2>&1)
is "$?:$out" "0:" "systemd-analyze verify: clean on the installed unit"
links=$(find /etc/systemd/system -name 'netprobed*' 2>/dev/null)
is "$links" "" "the service is not enabled (no link under /etc/systemd/system)"
is "$(systemctl is-enabled netprobed.service 2>&1)" disabled \
    "systemctl is-enabled: disabled"
running=
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" = /usr/sbin/netprobed ] &&
		running="$running ${p#/proc/}"
done
is "${running:-none}" none "nothing started /usr/sbin/netprobed"

like "$(man -w netprobed 2>&1)" '^/usr/share/man/man8/netprobed\.8\.gz$' \
    "man -w netprobed: /usr/share/man/man8/netprobed.8.gz"
like "$(man -w 5 netprobed.yaml 2>&1)" '^/usr/share/man/man5/netprobed\.yaml\.5\.gz$' \
    "man -w 5 netprobed.yaml: its page too"
ok "$([ -r /usr/share/snmp/mibs/NETPROBE-MIB.txt ]; echo $?)" \
    "the MIB is in /usr/share/snmp/mibs (where net-snmp looks)"

# ---- remove, purge ----------------------------------------------------------

echo '# edited by the bureau' >>/etc/netprobed/netprobed.yaml
dpkg -r netprobed >"$T/remove.log" 2>&1
ok $? "dpkg -r: exit 0" || diag_file "$T/remove.log"
ok "$([ ! -e /usr/sbin/netprobed ] && [ ! -e "$UNIT" ]; echo $?)" \
    "removed: the binary and the unit are gone"
ok "$(grep -q '^# edited by the bureau$' /etc/netprobed/netprobed.yaml 2>/dev/null; echo $?)" \
    "removed, not purged: the edited conffile stays"

# the service's state directory, as a running service leaves it: purge
# must keep the audit trail (the city inspects it)
made_state=
if [ ! -e /var/lib/netprobed ]; then
	made_state=1
	on_exit 'rm -rf /var/lib/netprobed'
	mkdir -p /var/lib/netprobed
	printf '{"seq":1}\n' >/var/lib/netprobed/audit.jsonl
fi
dpkg --purge netprobed >"$T/purge.log" 2>&1
ok $? "dpkg --purge: exit 0" || diag_file "$T/purge.log"
if [ -n "$made_state" ]; then
	ok "$([ -s /var/lib/netprobed/audit.jsonl ]; echo $?)" \
	    "purge keeps /var/lib/netprobed (the audit trail)"
	like "$(cat "$T/purge.log")" 'netprobed: /var/lib/netprobed \(audit trail, state\) is kept' \
	    "  and says so"
	rm -rf /var/lib/netprobed
else
	skip "/var/lib/netprobed existed before the test" "purge keeps the audit trail"
	skip "/var/lib/netprobed existed before the test" "  and says so"
fi
left=
for f in /usr/sbin/netprobed /etc/netprobed "$UNIT" \
    /usr/lib/sysusers.d/netprobed.conf /usr/share/netprobed \
    /usr/share/doc/netprobed /usr/share/man/man8/netprobed.8.gz \
    /usr/share/man/man5/netprobed.yaml.5.gz \
    /usr/share/snmp/mibs/NETPROBE-MIB.txt /var/log/netprobed \
    /var/lib/systemd/deb-systemd-helper-enabled/netprobed.service.dsh-also; do
	[ -e "$f" ] && left="$left $f"
done
is "${left:-none}" none "purged: none of its files, its /etc/netprobed or its logs are left"
like "$(dpkg-query -W -f='${Status}' netprobed 2>/dev/null)" '^(unknown ok not-installed)?$' \
    "dpkg no longer knows netprobed"
diag "user netprobed after purge: $(getent passwd netprobed || echo gone) (kept by design)"

diag "deb.sh took $((SECONDS - START)) s"
done_testing
