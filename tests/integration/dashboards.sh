#!/usr/bin/env bash
#
# dashboards/: the city's Prometheus configuration, rules and Grafana
# dashboards.
#   - promtool: prometheus.yml and province.yml are valid (and so is the
#     commented /probe alternative), the rules load lint-clean, their unit
#     tests pass (the notice's scenario: 13 of 15 attached, conferencing
#     5 of 5 and 7 of 10), and they fail on a copy whose denominator
#     shrinks when a district cannot be scraped;
#   - the dashboards: JSON, schema 39, the variables datasource, kind and
#     site, the data source only through ${datasource}, every metric
#     named in a query exists (a recording rule or a family netprobed
#     exports), and every query of the city overview is asserted in
#     city.test.yml;
#   - a real Prometheus: loaded with city.rules.yml and fed, by remote
#     write, what 15 gateways in the notice's scenario would export; every
#     panel query of every dashboard must parse, run (no many-to-many
#     match, for instance) and return data, and the headline panels must
#     read 13 / 15, 5 / 5 and 7 / 10.  On the same Prometheus: what
#     /federate gives a province (province.yml's match[]), and the /probe
#     alternative's relabeling (its targets rewritten to loopback).
#
# Needs no netprobed.  Traffic: 127.0.0.0/8 only (the shipped scrape
# config, whose targets are placeholders, is never loaded into a running
# Prometheus).  Port: 19611 (prometheus).

# shellcheck disable=SC2317 # functions polled through wait_for
# shellcheck source=tests/lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"

T=$TAP_TMPDIR
TOP=$(cd "$top_srcdir" && pwd)
D=$TOP/dashboards
P=$D/prometheus
G=$D/grafana
PROM_PORT=19611
PROM_URL=http://127.0.0.1:$PROM_PORT

command -v promtool >/dev/null 2>&1 ||
    skip_all "promtool is not installed (scripts/deps test)"
command -v prometheus >/dev/null 2>&1 ||
    skip_all "prometheus is not installed (scripts/deps test)"
[ -n "$PYTHON3" ] || skip_all "no python3"

# run NAME CMD...: RC, OUT (stdout and stderr) of CMD, bounded in time,
# run from $T so that relative paths cannot resolve against the caller
run()
{
	local name=$1

	shift
	(cd "$T" && timeout -k 5 120 "$@") >"$T/$name.out" 2>&1 </dev/null
	RC=$?
	OUT=$(cat "$T/$name.out")
}

# tap_lines: turn the helpers' "ok DESC", "not ok DESC", "skip WHY<TAB>
# DESC" and "# TEXT" lines into TAP through tap.sh
tap_lines()
{
	local line

	while IFS= read -r line; do
		case $line in
		"not ok "*) fail "${line#not ok }" ;;
		"ok "*) pass "${line#ok }" ;;
		"skip "*) skip "${line#skip }" ;;
		"# "*) diag "${line#\# }" ;;
		*) [ -n "$line" ] && diag "$line" ;;
		esac
	done
}

# ---- the scrape configs ------------------------------------------------

run ccity promtool check config "$P/prometheus.yml"
is "$RC" 0 "promtool check config prometheus.yml: exit 0" || diag "$OUT"
like "$OUT" 'SUCCESS: .*prometheus\.yml is valid' \
    "prometheus.yml is valid, its paths relative to itself"
like "$OUT" 'SUCCESS: 1 rule files found' \
    "prometheus.yml loads one rule file"
like "$OUT" '^Checking .*/city\.rules\.yml$' \
    "... and it is city.rules.yml (the district rules run on the gateways)"
unlike "$OUT" 'WARNING|FAILED|netprobed\.rules\.yml' \
    "promtool check config prometheus.yml: no warning"

# The roster: the notice's 15 bureaus, 5 counties and 10 districts, each
# with site, display_name and kind.
roster=$(grep -E '^ *labels: *\{site: [a-z]+, display_name: [^,]+, kind: (county|district)\}$' \
    "$P/districts.yml")
is "$(grep -c 'kind: county' <<<"$roster")" 5 "districts.yml: 5 counties"
is "$(grep -c 'kind: district' <<<"$roster")" 10 "districts.yml: 10 districts"
is "$(grep -cE '^- targets: \["10\.41\.[0-9]+\.2:9560"\]$' "$P/districts.yml")" 15 \
    "districts.yml: 15 targets, one per bureau"
missing=''
for n in 新郑市 荥阳市 新密市 登封市 中牟县 金水区 二七区 中原区 管城区 \
    惠济区 上街区 郑东新区 高新区 经开区 航空港区; do
	grep -q "display_name: $n," <<<"$roster" || missing="$missing $n"
done
is "$missing" '' "districts.yml names every bureau of the notice"
is "$(sed -n 's/.*site: \([a-z]*\),.*/\1/p' <<<"$roster" | sort | uniq -d)" '' \
    "districts.yml: every site name once"

# The commented alternative job, uncommented into a copy of the config.
alt_block()
{
	sed -n '/BEGIN alternative: netprobed-probe/,/END alternative: netprobed-probe/p' \
	    "$P/prometheus.yml" | sed -n 's/^  # \{0,1\}//p' |
	    sed -n '/^- job_name: netprobed-probe/,/^-\{3,\}/p' | grep -v '^-\{3,\}'
}
alt=$(alt_block)
like "$alt" '^- job_name: netprobed-probe$' \
    "prometheus.yml documents the /probe alternative (job netprobed-probe)"
cp "$P/districts.yml" "$P/city.rules.yml" "$T/"
{
	sed '/BEGIN alternative: netprobed-probe/,$d' "$P/prometheus.yml"
	printf '  %s\n' "${alt//$'\n'/$'\n'  }"
} >"$T/with-alt.yml"
like "$(cat "$T/with-alt.yml")" '^  - job_name: netprobed-probe$' \
    "the copy has the alternative job uncommented"
run calt promtool check config "$T/with-alt.yml"
is "$RC" 0 "the /probe alternative, uncommented: promtool check config exit 0" ||
    diag "$OUT"

run cprov promtool check config "$P/province.yml"
is "$RC" 0 "promtool check config province.yml: exit 0" || diag "$OUT"
like "$OUT" '^Checking .*/province\.rules\.yml$' \
    "province.yml loads province.rules.yml"

# ---- the rules ---------------------------------------------------------

for f in city.rules.yml province.rules.yml; do
	run crules promtool check rules "$P/$f"
	is "$RC" 0 "promtool check rules $f: exit 0" || diag "$OUT"
	like "$OUT" 'SUCCESS: [0-9]+ rules found' "promtool check rules $f: SUCCESS"
	unlike "$OUT" 'lint error|FAILED|WARNING' \
	    "promtool check rules $f: no lint finding"
done

for f in city.test.yml province.test.yml; do
	run trules promtool test rules "$P/$f"
	is "$RC" 0 "promtool test rules $f: exit 0" || diag "$OUT"
	like "$OUT" '^ *SUCCESS$' "promtool test rules $f: SUCCESS"
done

# The tests can fail: a copy that counts only the gateways it can scrape
# (the denominator shrinks with every cut district) must not pass.
mkdir -p "$T/mut"
cp "$P/city.rules.yml" "$P/city.test.yml" "$T/mut/"
sed -i 's/expr: count by (kind) (city:site_up)$/expr: count by (kind) (city:site_up == 1)/' \
    "$T/mut/city.rules.yml"
isnt "$(cmp -s "$P/city.rules.yml" "$T/mut/city.rules.yml"; echo $?)" 0 \
    "the broken copy differs from city.rules.yml"
run tmut promtool test rules "$T/mut/city.test.yml"
is "$RC" 1 "promtool test rules: a shrinking denominator fails"
like "$OUT" 'city:districts_expected:count.*kind="district"\} 9' \
    "... because the districts' roster reads 9 instead of 10"

# ---- the dashboards, statically ----------------------------------------

for f in "$G"/*.json; do
	run json "$PYTHON3" -m json.tool "$f"
	is "$RC" 0 "${f##*/} is JSON" || diag "$OUT"
done

cat >"$T/static.py" <<'EOF'
import glob, json, os, re, sys

gdir, pdir, top = sys.argv[1:4]
DS = {"type": "prometheus", "uid": "${datasource}"}
out = []


def check(cond, desc, why=""):
    out.append(("ok " if cond else "not ok ") + desc)
    if not cond and why:
        out.append("# " + why)


def subst(e):
    return (e.replace("$__rate_interval", "1m").replace("$__interval", "15s")
            .replace("$site", ".*").replace("$kind", ".*"))


def panels_of(d):
    for p in d["panels"]:
        yield p
        for q in p.get("panels", []):      # collapsed rows
            yield q


def walk(x, path=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from walk(v, path + "/" + k)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from walk(v, "%s[%d]" % (path, i))
    else:
        yield path, x


# The metric names a query reads: strings, label matchers, ranges and
# label lists removed, function names (followed by "(") and keywords
# skipped.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "inf", "nan"}


def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*"
               r"\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        if rest.startswith("("):
            continue
        if m.group(0).lower() in KEYWORDS:
            continue
        names.add(m.group(0))
    return names


known = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds",
         "scrape_samples_scraped"}
for f in (os.path.join(pdir, "city.rules.yml"),
          os.path.join(top, "rules", "netprobed.rules.yml")):
    known |= set(re.findall(r"^\s*- record:\s*(\S+)", open(f, encoding="utf-8").read(),
                            re.M))
for f in glob.glob(os.path.join(top, "daemon", "*.c")) + \
        glob.glob(os.path.join(top, "probes", "*.c")):
    known |= set(re.findall(r'"((?:netprobe|probe)_[a-z0-9_]+)"',
                            open(f, encoding="utf-8", errors="replace").read()))

uids = {}
dash = {}
for f in sorted(glob.glob(os.path.join(gdir, "*.json"))):
    d = json.load(open(f, encoding="utf-8"))
    dash[os.path.basename(f)] = d
    uids[d.get("uid")] = os.path.basename(f)

for name, d in dash.items():
    check(d.get("schemaVersion") == 39, "%s: schemaVersion 39" % name,
          "got %r" % d.get("schemaVersion"))
    check(d.get("id") is None and bool(d.get("uid")) and bool(d.get("title")),
          "%s: a fixed uid and a title, no database id" % name)
    v = {x["name"]: x for x in d.get("templating", {}).get("list", [])}
    ds = v.get("datasource", {})
    check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
          "%s: variable datasource (type datasource, prometheus)" % name)
    for var in ("kind", "site"):
        x = v.get(var, {})
        q = x.get("definition", "")
        check(x.get("type") == "query" and x.get("multi") is True and
              x.get("includeAll") is True and x.get("datasource") == DS and
              q.startswith('label_values(up{job="netprobed"') and
              q.endswith(", %s)" % var),
              "%s: variable %s: label_values(up{job=\"netprobed\"...}, %s), "
              "multi, include All" % (name, var, var), "got %r" % x)
    # no data source other than the variable, anywhere
    bad = [(p, val) for p, val in walk(d)
           if p.endswith("/uid") and p != "/uid" and val != "${datasource}"]
    check(not bad, "%s: no hard-coded data source uid" % name, repr(bad))
    ids = [p.get("id") for p in panels_of(d)]
    check(len(ids) == len(set(ids)) and None not in ids,
          "%s: every panel has its own id" % name)
    ntargets = 0
    for p in panels_of(d):
        g = p.get("gridPos", {})
        check(g.get("x", 99) + g.get("w", 99) <= 24,
              "%s: panel %s fits in 24 columns" % (name, p.get("id")))
        if p.get("type") == "row":
            continue
        check(p.get("datasource") == DS,
              "%s: panel %s \"%s\" uses ${datasource}"
              % (name, p.get("id"), p.get("title")))
        refs = [t.get("refId") for t in p.get("targets", [])]
        check(len(refs) > 0 and len(refs) == len(set(refs)),
              "%s: panel %s has queries with distinct refIds" % (name, p["id"]))
        for t in p.get("targets", []):
            ntargets += 1
            e = t.get("expr", "")
            check(t.get("datasource") == DS and e.strip() != "",
                  "%s: panel %s %s: an expr, through ${datasource}"
                  % (name, p["id"], t.get("refId")))
            unknown = sorted(n for n in metric_names(subst(e))
                             if n not in known and
                             re.sub(r"_(bucket|sum|count)$", "", n) not in known)
            check(not unknown, "%s: panel %s %s reads only known metrics"
                  % (name, p["id"], t.get("refId")),
                  "unknown: %s in %s" % (", ".join(unknown), e))
    check(ntargets > 0, "%s: has queries (%d)" % (name, ntargets))
    # links between the dashboards point at a dashboard that exists
    for p, val in walk(d):
        if isinstance(val, str) and "/d/" in val:
            u = re.search(r"/d/([^/?]+)", val).group(1)
            check(u in uids, "%s: link to /d/%s resolves" % (name, u))

# The MCU dashboard's heatmap reads the histogram as buckets.
hm = [t for p in panels_of(dash.get("mcu-quality.json", {"panels": []}))
      if p.get("type") == "heatmap" for t in p.get("targets", [])]
check(hm and all(t.get("format") == "heatmap" and
                 "netprobe_icmp_rtt_seconds_bucket" in t["expr"] and
                 "by (le)" in t["expr"] for t in hm),
      "mcu-quality.json: heatmaps of netprobe_icmp_rtt_seconds_bucket by le, "
      "format heatmap")

# Every query of the city overview is asserted in city.test.yml.
try:
    import yaml
except ImportError:
    yaml = None
if yaml is None:
    out.append("skip python3-yaml is not installed\tevery city overview "
               "query is asserted in city.test.yml")
else:
    tests = yaml.safe_load(open(os.path.join(pdir, "city.test.yml"),
                                encoding="utf-8"))["tests"]
    norm = lambda s: " ".join(s.split())
    asserted = {norm(x["expr"]) for t in tests
                for x in t.get("promql_expr_test") or []}
    d = dash.get("city-overview.json", {"panels": []})
    for p in panels_of(d):
        for t in p.get("targets", []):
            e = norm(subst(t["expr"]))
            check(e in asserted, "city-overview.json: panel %s \"%s\" %s is "
                  "asserted in city.test.yml" % (p["id"], p["title"],
                                                 t["refId"]), e)

print("\n".join(out))
EOF

run static "$PYTHON3" "$T/static.py" "$G" "$P" "$TOP"
is "$RC" 0 "the static checks of the dashboards ran" || diag "$OUT"
tap_lines <<<"$OUT"

# ---- a real Prometheus: every panel query runs and shows data ----------

# Loopback only: the rules, no scrape of the roster; the /probe
# alternative with its gateway and its probed target rewritten to
# loopback, so that whatever the relabeling did, nothing leaves the host.
{
	cat <<EOF
global:
  scrape_interval: 5s
  evaluation_interval: 1s
  external_labels: {city: zhengzhou}
rule_files:
  - $P/city.rules.yml
scrape_configs:
EOF
	sed -e 's/"10\.20\.0\.10:5060"/"127.0.0.2:19611"/' \
	    -e 's/__tmp_gateway: "[0-9.:]*"/__tmp_gateway: "127.0.0.1:19611"/' \
	    <<<"$alt" | sed 's/^/  /'
} >"$T/live.yml"
nonloop=$(grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' "$T/live.yml" | grep -v '^127\.' || true)
is "$nonloop" '' "the live Prometheus' config names loopback addresses only" ||
    bail_out "refusing to start a Prometheus that could scrape off the host"

prometheus --config.file="$T/live.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address=127.0.0.1:$PROM_PORT --web.enable-remote-write-receiver \
    >"$T/prometheus.log" 2>&1 </dev/null &
PROM_PID=$!
register_pid "$PROM_PID"
prom_ready() { curl -sf --max-time 1 "$PROM_URL/-/ready"; }
wait_for 30 prom_ready ||
    { diag_file "$T/prometheus.log"; bail_out "prometheus did not get ready on $PROM_URL"; }
pass "prometheus is ready on $PROM_URL, with city.rules.yml"

cat >"$T/live.py" <<'EOF'
"""push: remote-write what 15 gateways in the notice's scenario export,
for the last 10 minutes (every 15 s, up to now); query: run every panel
query of the dashboards through the HTTP API."""
import http.client, json, math, struct, sys, time, urllib.parse

URL = sys.argv[2]
u = urllib.parse.urlsplit(URL)
assert u.hostname == "127.0.0.1"


def conn():
    return http.client.HTTPConnection(u.hostname, u.port, timeout=20)


SITES = [
    ("xinzheng", "新郑市", "county"), ("xingyang", "荥阳市", "county"),
    ("xinmi", "新密市", "county"), ("dengfeng", "登封市", "county"),
    ("zhongmou", "中牟县", "county"),
    ("jinshui", "金水区", "district"), ("erqi", "二七区", "district"),
    ("zhongyuan", "中原区", "district"), ("guancheng", "管城区", "district"),
    ("huiji", "惠济区", "district"), ("shangjie", "上街区", "district"),
    ("zhengdong", "郑东新区", "district"), ("gaoxin", "高新区", "district"),
    ("jingkai", "经开区", "district"),
    ("hangkonggang", "航空港区", "district"),
]
STEPS = 40                      # 10 minutes at 15 s, the last one now


def series():
    """(labels, [value per step]) of the whole city"""
    out = []
    for n, (site, name, kind) in enumerate(SITES, 1):
        t = {"instance": "10.41.%d.2:9560" % n, "job": "netprobed",
             "site": site, "display_name": name, "kind": kind}

        def add(metric, value, **labels):
            lab = dict(t, __name__=metric, **labels)
            vals = [value(i) if callable(value) else value
                    for i in range(STEPS + 1)]
            out.append((lab, vals))

        if site == "hangkonggang":      # cannot be scraped
            add("up", 0)
            continue
        add("up", 1)
        add("scrape_duration_seconds", 0.05)
        add("netprobe_site_info", 1)
        add("netprobe_build_info", 1, version="1.0", libevent="2.1.12",
            libyaml="0.2.5")
        add("netprobe_config_last_reload_successful", 1)
        add("netprobe_rule_evaluation_failures_total", 0,
            rule_group="netprobed.rules.yml;netprobed")
        detached = site == "erqi"
        noconf = site in ("erqi", "shangjie")
        for comp in ("link", "route", "gateway", "dns", "platform"):
            add("netprobe:extranet_component_up",
                0 if detached and comp == "link" else 1, component=comp)
        add("netprobe:extranet_attached", 0 if detached else 1)
        add("netprobe:mcu_signalling_up", 0 if noconf else 1)
        add("netprobe:mcu_ok", 0 if noconf else 1)
        mcu = {"probe": "mcu-ping", "type": "icmp", "target": "10.20.0.10",
               "group": "conference", "component": "mcu"}
        add("netprobe:mcu_loss_ratio:rate5m", 0.01, **mcu)
        add("netprobe:mcu_rtt_seconds:p95_5m", 0.024, **mcu)
        probes = [("extranet-link", "link", "eth1", "link"),
                  ("extranet-gw", "icmp", "10.1.0.1", "gateway"),
                  ("mcu-sip", "sip", "10.20.0.10:5060", "mcu"),
                  ("mcu-ping", "icmp", "10.20.0.10", "mcu")]
        for probe, typ, target, comp in probes:
            ok = 0 if ((detached and comp == "link") or
                       (noconf and probe == "mcu-sip")) else 1
            pl = {"probe": probe, "type": typ, "target": target,
                  "component": comp}
            add("probe_success", ok, **pl)
            add("probe_duration_seconds", 0.02, **pl)
            add("netprobe_probe_runs_total", lambda i: float(i),
                result="success" if ok else "timeout", **pl)
            add("netprobe_probe_schedule_lag_seconds", 0.001, **pl)
        for pl in (mcu, dict(mcu, probe="extranet-gw", target="10.1.0.1",
                             group="extranet", component="gateway")):
            add("netprobe_icmp_rtt_avg_seconds", 0.02, **pl)
            add("netprobe_icmp_rtt_max_seconds", 0.03, **pl)
            add("netprobe_icmp_jitter_seconds", 0.002, **pl)
            add("netprobe_icmp_packets_sent_total", lambda i: 10.0 * i, **pl)
            add("netprobe_icmp_packets_received_total", lambda i: 9.9 * i,
                **pl)
        for le, share in (("0.01", 0.0), ("0.025", 0.6), ("0.05", 0.95),
                          ("0.1", 1.0), ("0.25", 1.0), ("+Inf", 1.0)):
            add("netprobe_icmp_rtt_seconds_bucket",
                lambda i, s=share: 10.0 * i * s, le=le, **mcu)
        media = dict(mcu, probe="mcu-media", type="media",
                     target="10.20.0.12:5004")
        add("netprobe_media_rtt_avg_seconds", 0.025, **media)
        add("netprobe_media_mos", 4.3, **media)
        for d in ("upstream", "downstream"):
            add("netprobe_media_jitter_seconds", 0.003, direction=d, **media)
        verdict = {"jinshui": "leak", "zhongmou": "inconclusive"}.get(
            site, "blocked")
        neg = {"probe": "internet-tcp", "type": "tcp",
               "target": "203.0.113.9:443"}
        for v in ("blocked", "leak", "inconclusive"):
            add("netprobe_isolation_verdict", 1 if v == verdict else 0,
                verdict=v, **neg)
        add("netprobe_isolation_reason_info", 1,
            reason={"leak": "connected", "inconclusive": "control_failed"}
            .get(verdict, "timeout"), **{"from": "", **neg})
        # the watcher's own `kind` wins over the roster's (honor_labels)
        w = dict(t, watcher="segment-egress")
        for k in ("egress", "ingress", "foreign_mcu", "listen_only"):
            step = {("xinmi", "egress"): 10.0,
                    ("erqi", "foreign_mcu"): 2.0}.get((site, k), 0.0)
            out.append((dict(w, __name__="netprobe_watcher_violations_total",
                             kind=k), [step * i for i in range(STEPS + 1)]))
        add("netprobe_watcher_up", 1, watcher="segment-egress")
        add("netprobe_watcher_calls", 1 if site == "erqi" else 0,
            watcher="segment-egress")
        add("netprobe_watcher_listen_only_calls", 1 if site == "erqi" else 0,
            watcher="segment-egress")
        # the gateways' own alerts, as netprobed exports them
        if detached:
            add("ALERTS", 1, alertname="ExtranetDetached",
                alertstate="firing", severity="critical", component="link")
        if site == "shangjie":
            add("ALERTS", 1, alertname="MCUUnreachable",
                alertstate="pending", severity="critical")
        if site == "jinshui":
            add("ALERTS", 1, alertname="IsolationLeak", alertstate="firing",
                severity="critical", **neg)
    return out


def varint(n):
    b = bytearray()
    while True:
        x = n & 0x7F
        n >>= 7
        b.append(x | 0x80 if n else x)
        if not n:
            return bytes(b)


def field(num, data):           # protobuf length-delimited field
    return varint(num << 3 | 2) + varint(len(data)) + data


def push():
    now = int(time.time() * 1000)
    req = bytearray()
    for labels, values in series():
        ts = bytearray()
        for k in sorted(labels):
            ts += field(1, field(1, k.encode()) + field(2, labels[k].encode()))
        for i, v in enumerate(values):
            t = now - (STEPS - i) * 15000
            ts += field(2, varint(1 << 3 | 1) + struct.pack("<d", v) +
                        varint(2 << 3) + varint(t))
        req += field(1, bytes(ts))
    # snappy block format, the whole message as one literal
    body = (varint(len(req)) + bytes([63 << 2]) +
            struct.pack("<I", len(req) - 1) + bytes(req))
    c = conn()
    c.request("POST", "/api/v1/write", body, {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Write-Version": "0.1.0"})
    r = c.getresponse()
    text = r.read().decode(errors="replace")
    if r.status // 100 != 2:
        sys.exit("remote write: HTTP %d: %s" % (r.status, text))


def api(path, params):
    c = conn()
    c.request("GET", path + "?" + urllib.parse.urlencode(params))
    r = c.getresponse()
    try:
        return json.loads(r.read().decode())
    except ValueError:
        return {"status": "error", "error": "HTTP %d, not JSON" % r.status}


def subst(e):
    return (e.replace("$__rate_interval", "1m").replace("$__interval", "15s")
            .replace("$site", ".*").replace("$kind", ".*"))


def scalar(expr):
    r = api("/api/v1/query", {"query": expr})
    res = r.get("data", {}).get("result", [])
    return float(res[0]["value"][1]) if len(res) == 1 else None


def query(files):
    now = time.time()
    seen = set()
    for f in files:
        d = json.load(open(f, encoding="utf-8"))
        name = f.rsplit("/", 1)[-1]
        for p in d["panels"]:
            for t in p.get("targets", []):
                e = subst(t["expr"])
                if (e, t.get("instant")) in seen:
                    continue
                seen.add((e, t.get("instant")))
                if t.get("instant"):
                    r = api("/api/v1/query", {"query": e, "time": now})
                    how = "instant"
                else:
                    r = api("/api/v1/query_range", {
                        "query": e, "start": now - 300, "end": now,
                        "step": 15})
                    how = "range"
                desc = "%s: panel %s \"%s\" %s (%s)" % (
                    name, p["id"], p["title"], t["refId"], how)
                if r.get("status") != "success":
                    print("not ok %s runs" % desc)
                    print("# %s: %s" % (e, r.get("error")))
                    continue
                n = len(r["data"]["result"])
                print(("ok " if n else "not ok ") + "%s runs and shows data"
                      % desc + ("" if n else ""))
                if not n:
                    print("# no series for %s" % e)


def values():
    for e in ("city:extranet_attached:count_all",
              "city:districts_expected:count_all",
              "city:extranet_attached:ratio_all",
              'city:conference_ok:count{kind="county"}',
              'city:districts_expected:count{kind="county"}',
              'city:conference_ok:count{kind="district"}',
              'city:districts_expected:count{kind="district"}',
              'city:conference_ok:ratio{kind="district"}',
              'count(ALERTS{alertname=~"City.+"})',
              'count(ALERTS{alertname=~"City.+", alertstate="firing"})'):
        v = scalar(e)
        print("%s %s" % (e, "none" if v is None else repr(v)))


cmd = sys.argv[1]
if cmd == "push":
    push()
elif cmd == "query":
    query(sys.argv[3:])
elif cmd == "values":
    values()
EOF

run push "$PYTHON3" "$T/live.py" push "$PROM_URL"
is "$RC" 0 "15 gateways' series are remote-written (the notice's scenario)" ||
    diag "$OUT"

# the rules evaluate every second: wait for the roster to be counted
# and for the alerts of the same group to be written
rules_done()
{
	local v

	v=$("$PYTHON3" "$T/live.py" values "$PROM_URL")
	grep -q '^city:districts_expected:count_all 15\.0$' <<<"$v" &&
	    grep -q '^count(ALERTS{alertname=~"City.+"}) 6\.0$' <<<"$v"
}
wait_for 30 rules_done
ok $? "city.rules.yml counts the roster in the live Prometheus" ||
    diag_file "$T/prometheus.log"

run values "$PYTHON3" "$T/live.py" values "$PROM_URL"
like "$OUT" '^city:extranet_attached:count_all 13\.0$' "live: 13 attached"
like "$OUT" '^city:districts_expected:count_all 15\.0$' "live: of 15 expected"
like "$OUT" '^city:extranet_attached:ratio_all 0\.8666666666666667$' \
    "live: attachment rate 13/15 (86.7%)"
like "$OUT" '^city:conference_ok:count\{kind="county"\} 5\.0$' \
    "live: conferencing at 5 counties"
like "$OUT" '^city:districts_expected:count\{kind="county"\} 5\.0$' \
    "live: of 5 counties"
like "$OUT" '^city:conference_ok:count\{kind="district"\} 7\.0$' \
    "live: conferencing at 7 districts"
like "$OUT" '^city:districts_expected:count\{kind="district"\} 10\.0$' \
    "live: of 10 districts"
like "$OUT" '^city:conference_ok:ratio\{kind="district"\} 0\.7$' \
    "live: district conferencing rate 70%"
like "$OUT" '^count\(ALERTS\{alertname=~"City\.\+"\}\) 6\.0$' \
    "live: 6 city alerts pending or firing"
like "$OUT" '^count\(ALERTS\{alertname=~"City\.\+", alertstate="firing"\}\) 2\.0$' \
    "live: 2 of them firing at once (the leak and the violation)"

run query "$PYTHON3" "$T/live.py" query "$PROM_URL" "$G"/*.json
is "$RC" 0 "every panel query was asked" || diag "$OUT"
tap_lines <<<"$OUT"

# What a province federates (province.yml's match[]): the city's figures,
# with the city's external label (and instance="", which /federate adds
# so that the province attaches no instance of its own).
fed=$(curl -sf --max-time 5 -G "$PROM_URL/federate" \
    --data-urlencode 'match[]={__name__=~"city:.*"}' 2>&1)
like "$fed" '^city:extranet_attached:count_all\{city="zhengzhou"(,instance="")?\} 13 ' \
    "/federate gives the province city:extranet_attached:count_all 13, labelled city"
like "$fed" '^city:districts_expected:count\{kind="district",city="zhengzhou"(,instance="")?\} 10 ' \
    "/federate gives the province the roster per kind"
unlike "$fed" '^(up|netprobe|probe_|ALERTS)' \
    "/federate with match city:.* gives only the city's figures"
like "$(grep -F "match[]" "$P/province.yml" -A1)" '\{__name__=~"city:\.\*"\}' \
    "province.yml federates with that same match[]"

# The /probe alternative: the probed address became the target parameter
# and the `target` label, the gateway the address scraped.
probe_target()
{
	curl -sf --max-time 2 "$PROM_URL/api/v1/targets?state=active" \
	    >"$T/targets.json" &&
	    grep -q '"job":"netprobed-probe"' "$T/targets.json"
}
wait_for 10 probe_target
ok $? "the /probe alternative is an active target" ||
    diag "$(head -c 2000 "$T/targets.json" 2>/dev/null)"
tgt=$("$PYTHON3" -c '
import json, sys
for t in json.load(open(sys.argv[1]))["data"]["activeTargets"]:
    if t["labels"].get("job") == "netprobed-probe":
        print(t["scrapeUrl"], t["labels"].get("target"), t["labels"].get("instance"),
              t["labels"].get("site"))
' "$T/targets.json" 2>&1)
is "$tgt" "http://127.0.0.1:$PROM_PORT/probe?module=mcu-sip&target=127.0.0.2%3A$PROM_PORT 127.0.0.2:$PROM_PORT 127.0.0.1:$PROM_PORT jinshui" \
    "/probe alternative: scrapes the gateway, asks for module and target"

stop_pid "$PROM_PID"
is "$STOP_KILLED" 0 "prometheus stops on SIGTERM"

done_testing
