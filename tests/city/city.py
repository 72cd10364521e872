#!/usr/bin/python3
"""Helpers of tests/city/sim.sh and tests/integration/city.sh (the city).

Standard library plus PyYAML (Debian's python3-yaml); run with
/usr/bin/python3.  Subcommands:

  sites N
      The roster of the simulation, one line per gateway, tab-separated:
      INDEX SITE DISPLAY_NAME KIND.  The first 15 are the notice's five
      counties and ten districts; beyond 15, made-up districts dNN.

  scenario FILE N
      Read a scenario file (tests/city/scenarios/*.yml), check it against
      the roster of N gateways and print it as tab-separated lines:
        name NAME
        fault SITE FAULT          one per site and fault
        figure KEY county=C district=D    expect.KEY (counts per kind)
        list KEY SITE...          expect.KEY (sites, space-separated)
        empty_ok TITLE            a panel (or panel query) that may be empty
      Errors go to stderr as FILE:LINE: message, exit status 2.

  derive FILE N
      What the city must show for the scenario's faults, from the model of
      each fault: the same figure and list lines as `scenario` prints from
      the file's expect:, plus one line per firing alert:
        alert NAME/SITE/COMPONENT/KIND   ("-" for a missing label)

  sip-terminal SRC DST SECONDS
      A conference terminal signalling DST: SIP OPTIONS over UDP from SRC
      to DST:5060 once a second, for at most SECONDS.

  rtp-stream SRC DST SECONDS
      An MCU's media stream that is never answered: RTP (PCMU) from SRC
      to DST:40000, 20 packets a second, for at most SECONDS.

  promconf SRC OUT INTERVAL [--roster FILE] [--target ADDR]
           [--ruledir DIR]...
      Adapt a shipped Prometheus configuration (dashboards/prometheus/
      prometheus.yml, the city's; province.yml, the province's) to the
      simulation: scrape interval INTERVAL, evaluation every second,
      every file_sd list pointing at the roster FILE, the static targets
      of a job replaced by ADDR (the first target group, with its
      labels, stands for all), the rule files copied into OUT's folder with
      their `for:` cut from minutes to seconds (2m 4s, 5m 10s, 10m 20s,
      15m 30s), no alerting, remote_write or remote_read (they would
      send outside the namespaces), and a job with a static target
      outside them (or any other service discovery) left out.  Rule
      files that do not exist where SRC names them are looked up by base
      name in SRC's folder and each DIR.

  panels URL DIR
      Run every panel query (targets[].expr) of every Grafana dashboard
      DIR/*.json against the Prometheus at URL, as Grafana would (an
      instant query for `instant` targets, a range query over the last
      minute otherwise), and print one line per query, tab-separated:
        DASHBOARD PANEL REFID STATUS COUNT VALUE SITES DETAIL
      STATUS is ok or error, COUNT the number of series, VALUE the (last)
      value when there is one series ("-" otherwise), SITES the `site`
      labels of the series, DETAIL the query as run (or the error).
      Template variables become `.*` (`$site`, `${kind}`, `[[site]]`...),
      `$__rate_interval`, `$__interval` and `$__range` become 1m.

  query URL EXPR [LABEL]
      One instant query.  Prints "VALUE" per series, or "LABEL VALUE"
      sorted by LABEL when LABEL is given; exit 1 on an error.

  status URL
      The notice's figures as the city's recorded rules have them now, on
      one line (nothing while the rules have not run yet).
"""

import glob
import ipaddress
import json
import os
import re
import socket
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import yaml

# The notice's counties (县/市) and districts (区), in its order: the
# five counties first, then the ten districts.
NOTICE_SITES = [
    ("xinzheng", "新郑市", "county"),
    ("xingyang", "荥阳市", "county"),
    ("xinmi", "新密市", "county"),
    ("dengfeng", "登封市", "county"),
    ("zhongmou", "中牟县", "county"),
    ("jinshui", "金水区", "district"),
    ("erqi", "二七区", "district"),
    ("zhongyuan", "中原区", "district"),
    ("guancheng", "管城区", "district"),
    ("huiji", "惠济区", "district"),
    ("shangjie", "上街区", "district"),
    ("zhengdong", "郑东新区", "district"),
    ("gaoxin", "高新区", "district"),
    ("jingkai", "经开区", "district"),
    ("hangkonggang", "航空港区", "district"),
]

# What sim.sh knows how to break.  Keep in step with its apply_faults().
FAULTS = {
    "extranet_cut": "the city drops the district's extranet traffic "
                    "(its conference traffic and the city's scrapes pass)",
    "platform_unreachable": "the city drops the district's traffic to the "
                            "platform",
    "uplink_down": "the gateway's uplink is down: nothing passes",
    "mcu_unreachable": "the city drops the district's SIP to the MCU",
    "isolation_hole": "the city lets the district reach the forbidden host",
    "daemon_down": "the district's netprobed is not running",
    "foreign_mcu": "its conference terminal also signals another city's MCU",
    "listen_only": "the MCU sends it media it never answers with audio",
}

KINDS = ("county", "district")
EXPECT_COUNTS = ("expected", "attached", "conferencing")
EXPECT_LISTS = ("not_attached", "not_conferencing", "unscraped", "leaking",
                "violating", "inconclusive", "foreign_mcu", "listen_only")


def die(msg, status=2):
    print(msg, file=sys.stderr)
    sys.exit(status)


def roster(n):
    """[(index, site, display_name, kind)] for n gateways, index from 1."""
    if n < 1 or n > 250:
        die("the simulation has 1 to 250 gateways, not %d" % n)
    out = []
    for i in range(n):
        if i < len(NOTICE_SITES):
            site, disp, kind = NOTICE_SITES[i]
        else:
            site, disp, kind = "d%02d" % (i + 1), "模拟区%d" % (i + 1), \
                "district"
        out.append((i + 1, site, disp, kind))
    return out


def cmd_sites(args):
    for idx, site, disp, kind in roster(int(args[0])):
        print("%d\t%s\t%s\t%s" % (idx, site, disp, kind))


# ---- scenarios -------------------------------------------------------------

class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping key."""


def _construct_mapping(loader, node):
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if key in mapping:
            raise yaml.MarkedYAMLError(
                problem="duplicate key %r" % (key,),
                problem_mark=key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    mapping["__lines__"] = {loader.construct_object(k): k.start_mark.line + 1
                            for k, _ in node.value}
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=_LineLoader)
    except OSError as e:
        die("%s: %s" % (path, e.strerror))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        die("%s:%d: %s" % (path, mark.line + 1 if mark else 0, e.problem))


def _strip_lines(obj):
    if isinstance(obj, dict):
        return {k: _strip_lines(v) for k, v in obj.items()
                if k != "__lines__"}
    if isinstance(obj, list):
        return [_strip_lines(v) for v in obj]
    return obj


def _figure(key, counts):
    return "figure\t%s\tcounty=%d district=%d" % (key, counts["county"],
                                                  counts["district"])


def _list(key, names):
    return "list\t%s\t%s" % (key, " ".join(sorted(names)))


def read_scenario(path, n):
    """(name, {site: set(faults)}, stated lines, empty_ok) of a scenario."""
    sites = {s: kind for _, s, _, kind in roster(n)}
    doc = _load_yaml(path)
    errors = []

    def err(mapping, key, msg):
        line = mapping.get("__lines__", {}).get(key, 0) \
            if isinstance(mapping, dict) else 0
        errors.append("%s:%d: %s" % (path, line, msg))

    if not isinstance(doc, dict):
        die("%s:1: a scenario is a mapping (name, faults, expect, empty_ok)"
            % path)
    for key in doc:
        if key != "__lines__" and key not in ("name", "faults", "expect",
                                              "empty_ok"):
            err(doc, key, "unknown key %r (name, faults, expect, empty_ok)"
                % key)
    name = doc.get("name")
    if not isinstance(name, str) or not re.match(r"^[a-z0-9_-]+$", name):
        err(doc, "name", "name: a word of a-z, 0-9, _ and - is required")
        name = "?"

    faults = doc.get("faults") or {}
    if not isinstance(faults, dict):
        err(doc, "faults",
            "faults: a mapping SITE: FAULT or SITE: [FAULT, ...]")
        faults = {}
    got = {}
    for site, what in faults.items():
        if site == "__lines__":
            continue
        if site not in sites:
            err(faults, site, "unknown site %r (not among the %d gateways)"
                % (site, n))
            continue
        for fault in what if isinstance(what, list) else [what]:
            if fault not in FAULTS:
                err(faults, site, "%s: unknown fault %r (%s)"
                    % (site, fault, ", ".join(sorted(FAULTS))))
                continue
            got.setdefault(site, set()).add(fault)

    expect = doc.get("expect")
    stated = []
    if not isinstance(expect, dict):
        err(doc, "expect" if "expect" in doc else "name",
            "expect: a mapping of %s" % ", ".join(EXPECT_COUNTS +
                                                   EXPECT_LISTS))
        expect = {}
    for key in expect:
        if key != "__lines__" and key not in EXPECT_COUNTS + EXPECT_LISTS:
            err(expect, key, "unknown expectation %r (%s)" % (
                key, ", ".join(EXPECT_COUNTS + EXPECT_LISTS)))
    missing = [k for k in EXPECT_COUNTS + EXPECT_LISTS if k not in expect]
    if missing and "expect" in doc:
        err(doc, "expect", "expect: missing %s" % ", ".join(missing))
    for key in EXPECT_COUNTS:
        val = expect.get(key)
        if key not in expect:
            continue
        if not isinstance(val, dict) or \
                set(val) - {"__lines__"} != set(KINDS) or \
                any(not isinstance(val[k], int) or val[k] < 0
                    for k in KINDS):
            err(expect, key, "expect.%s: {county: N, district: N}" % key)
            continue
        stated.append(_figure(key, val))
    for key in EXPECT_LISTS:
        val = expect.get(key)
        if key not in expect:
            continue
        if not isinstance(val, list) or any(s not in sites for s in val):
            err(expect, key, "expect.%s: a list of the roster's sites" % key)
            continue
        stated.append(_list(key, val))
    empty_ok = doc.get("empty_ok") or []
    if not isinstance(empty_ok, list) or \
            any(not isinstance(t, str) for t in empty_ok):
        err(doc, "empty_ok", "empty_ok: a list of \"DASHBOARD / PANEL\" or "
            "\"DASHBOARD / PANEL (REFID)\" titles")
        empty_ok = []
    if errors:
        die("\n".join(errors))
    return name, got, stated, empty_ok


def cmd_scenario(args):
    name, faults, stated, empty_ok = read_scenario(args[0], int(args[1]))
    out = ["name\t%s" % name]
    out += ["fault\t%s\t%s" % (s, f) for s in sorted(faults)
            for f in sorted(faults[s])]
    out += stated
    out += ["empty_ok\t%s" % t for t in empty_ok]
    print("\n".join(out))


def derive(faults, n):
    """What the city must show for these faults: figure, list and alert
    lines.  This is the simulation's model of each fault (see FAULTS and
    sim.sh); the scenario files state the same figures by hand."""
    lists = {k: [] for k in EXPECT_LISTS}
    counts = {k: {kind: 0 for kind in KINDS} for k in EXPECT_COUNTS}
    alerts = []
    for _, site, _, kind in roster(n):
        f = faults.get(site, set())
        counts["expected"][kind] += 1
        if f & {"uplink_down", "daemon_down"}:
            # the city cannot scrape it: failing every check, and the
            # gateway's own alerts stay on the gateway
            lists["unscraped"].append(site)
            lists["not_attached"].append(site)
            lists["not_conferencing"].append(site)
            alerts.append("CityDistrictUnscrapable/%s/-/%s" % (site, kind))
            continue
        if f & {"extranet_cut", "platform_unreachable"}:
            lists["not_attached"].append(site)
            alerts.append("ExtranetDetached/%s/%s/%s" % (
                site, "gateway" if "extranet_cut" in f else "platform",
                kind))
            alerts.append("CityDistrictDetached/%s/-/%s" % (site, kind))
        else:
            counts["attached"][kind] += 1
        if "mcu_unreachable" in f:
            lists["not_conferencing"].append(site)
            # suppressed while the uplink (the extranet router) is cut
            if "extranet_cut" not in f:
                alerts.append("MCUUnreachable/%s/-/%s" % (site, kind))
        else:
            counts["conferencing"][kind] += 1
        if "isolation_hole" in f:
            lists["leaking"].append(site)
            lists["violating"].append(site)
            alerts += ["IsolationLeak/%s/isolation/%s" % (site, kind),
                       "IsolationViolation/%s/-/egress" % site,
                       "IsolationViolation/%s/-/ingress" % site,
                       "CityIsolationLeak/%s/-/%s" % (site, kind),
                       "CityIsolationViolation/%s/-/%s" % (site, kind)]
        elif "extranet_cut" in f:
            # the negative probe's control (the extranet router) fails
            lists["inconclusive"].append(site)
        if "foreign_mcu" in f:
            lists["foreign_mcu"].append(site)
            alerts.append("ConferenceForeignMCU/%s/-/foreign_mcu" % site)
        if "listen_only" in f:
            lists["listen_only"].append(site)
            alerts.append("ConferenceListenOnly/%s/-/%s" % (site, kind))
    if lists["not_attached"]:
        alerts.append("CityExtranetIncomplete/-/-/-")
    for kind in KINDS:
        if counts["conferencing"][kind] < counts["expected"][kind]:
            alerts.append("CityConferenceIncomplete/-/-/%s" % kind)
    out = [_figure(k, counts[k]) for k in EXPECT_COUNTS]
    out += [_list(k, lists[k]) for k in EXPECT_LISTS]
    out += ["alert\t%s" % a for a in sorted(alerts)]
    return out


def cmd_derive(args):
    _, faults, _, _ = read_scenario(args[0], int(args[1]))
    print("\n".join(derive(faults, int(args[1]))))


# ---- traffic the faults need ----------------------------------------------

def cmd_sip_terminal(args):
    """A conference terminal that signals DST (SIP OPTIONS over UDP, once
    a second) from SRC, for at most SECONDS."""
    src, dst, seconds = args[0], args[1], float(args[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(1)
    lp = s.getsockname()[1]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tag = uuid.uuid4().hex[:8]
        msg = (f"OPTIONS sip:{dst} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {src}:{lp};branch=z9hG4bK{tag};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:terminal@{src}>;tag={tag}\r\n"
               f"To: <sip:{dst}>\r\nCall-ID: {uuid.uuid4().hex}@{src}\r\n"
               f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        try:
            s.sendto(msg.encode(), (dst, 5060))
            s.recv(65535)
        except OSError:
            pass                # no route (an uplink down), no answer
        time.sleep(1)


def cmd_rtp_stream(args):
    """An MCU's media to a site that never answers: RTP (PCMU, 20 packets
    a second) from SRC to DST:40000, for at most SECONDS."""
    src, dst, seconds = args[0], args[1], float(args[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    ssrc = int.from_bytes(os.urandom(4), "big")
    seq, ts = 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        # RFC 3550 5.1: V=2, PT 0 (PCMU), 160 samples per packet
        try:
            s.sendto(struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF,
                                 ts & 0xFFFFFFFF, ssrc) + b"\xff" * 160,
                     (dst, 40000))
        except OSError:
            pass                # the site's uplink is down
        seq += 1
        ts += 160
        time.sleep(0.05)


# ---- the city Prometheus' configuration ------------------------------------

# Our namespaces' addresses: the city's services, the gateways' uplinks,
# and each namespace's own loopback.
OURS = [ipaddress.ip_network(p) for p in
        ("127.0.0.0/8", "10.40.0.0/24", "10.41.0.0/16")]


def _ours(target):
    host = target.rsplit(":", 1)[0].strip("[]")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False            # a name would go to the resolver
    return any(addr in net for net in OURS)


def _shorten_for(text):
    """`for:` of rule files cut so that alerts fire within the test."""
    cut = {"2m": "4s", "5m": "10s", "10m": "20s", "15m": "30s"}
    return re.sub(r"(?m)^(\s*for:\s*)(\d+[smh])\s*$",
                  lambda m: m.group(1) + cut.get(m.group(2), m.group(2)),
                  text)


def cmd_promconf(args):
    src, out, interval = args[:3]
    roster_file, target, ruledirs = None, None, []
    rest = args[3:]
    while rest:
        if len(rest) < 2 or rest[0] not in ("--roster", "--target",
                                            "--ruledir"):
            die("promconf: expected --roster FILE, --target ADDR or "
                "--ruledir DIR, not %r" % rest[0])
        opt, val, rest = rest[0], rest[1], rest[2:]
        if opt == "--roster":
            roster_file = val
        elif opt == "--target":
            target = val
        else:
            ruledirs.append(val)
    srcdir = os.path.dirname(os.path.abspath(src))
    outdir = os.path.dirname(os.path.abspath(out))
    doc = _strip_lines(_load_yaml(src)) or {}
    for key in ("alerting", "remote_write", "remote_read", "storage",
                "tracing"):
        doc.pop(key, None)
    glob_ = doc.setdefault("global", {}) or {}
    doc["global"] = glob_
    glob_["scrape_interval"] = interval
    glob_["scrape_timeout"] = interval
    glob_["evaluation_interval"] = "1s"

    rules_out = os.path.join(outdir, "rules")
    os.makedirs(rules_out, exist_ok=True)
    copied = []
    for pattern in doc.get("rule_files") or []:
        cands = [pattern if os.path.isabs(pattern)
                 else os.path.join(srcdir, pattern)]
        if not glob.glob(cands[0]):
            base = os.path.basename(pattern)
            cands = [os.path.join(d, base) for d in [srcdir] + ruledirs]
        files = sorted({f for c in cands for f in glob.glob(c)})
        if not files:
            die("%s: rule_files: %s: no such file here (looked in %s)"
                % (src, pattern, ", ".join([srcdir] + ruledirs)))
        for f in files:
            if f.endswith(".test.yml"):
                continue
            dst = os.path.join(rules_out, os.path.basename(f))
            with open(f, encoding="utf-8") as fi:
                text = fi.read()
            with open(dst, "w", encoding="utf-8") as fo:
                fo.write(_shorten_for(text))
            copied.append(dst)
    doc["rule_files"] = sorted(set(copied))

    jobs = []
    for job in doc.get("scrape_configs") or []:
        if "scrape_interval" in job:
            job["scrape_interval"] = interval
        if "scrape_timeout" in job:
            job["scrape_timeout"] = interval
        for fsd in job.get("file_sd_configs") or []:
            if roster_file is None:
                die("promconf: job %s reads a roster: give --roster"
                    % job.get("job_name"))
            fsd["files"] = [roster_file]
            fsd.pop("refresh_interval", None)
        if target and job.get("static_configs"):
            # the first target group (its labels) stands for them all
            first = job["static_configs"][0]
            first["targets"] = [target]
            job["static_configs"] = [first]
        bad = [t for sc in job.get("static_configs") or []
               for t in sc.get("targets") or [] if not _ours(t)]
        for key in list(job):
            if key.endswith("_sd_configs") and key not in (
                    "file_sd_configs", "static_configs"):
                bad.append(key)
        if bad:
            print("promconf: job %s left out: %s is outside the simulation"
                  % (job.get("job_name"), ", ".join(bad)), file=sys.stderr)
            continue
        jobs.append(job)
    doc["scrape_configs"] = jobs
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, allow_unicode=True, sort_keys=False)


# ---- querying the city's Prometheus -----------------------------------------

def _api(url, path, params, timeout=10):
    """GET URL/api/v1/PATH?params: (data, None) or (None, error text)."""
    q = urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen("%s/api/v1/%s?%s" % (url, path, q),
                                    timeout=timeout) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except ValueError:
            return None, "HTTP %d" % e.code
    except (OSError, ValueError) as e:
        return None, str(e)
    if body.get("status") != "success":
        return None, "%s: %s" % (body.get("errorType"), body.get("error"))
    return body["data"], None


def cmd_query(args):
    url, expr = args[0], args[1]
    label = args[2] if len(args) > 2 else None
    data, error = _api(url, "query", {"query": expr})
    if error:
        die("query %s: %s" % (expr, error), 1)
    if data["resultType"] == "scalar":
        print(data["result"][1])
        return
    rows = []
    for r in data["result"]:
        if label:
            rows.append("%s %s" % (r["metric"].get(label, ""), r["value"][1]))
        else:
            rows.append(r["value"][1])
    print("\n".join(sorted(rows)))


def cmd_status(args):
    url = args[0]
    data, error = _api(url, "query", {
        "query": '{__name__=~"city:(districts_expected|extranet_attached|'
                 'conference_ok|districts_up|isolation_leaks):count(_all)?"}'})
    if error:
        die("status: %s" % error, 1)
    val = {}
    for r in data["result"]:
        m = r["metric"]
        val[(m["__name__"], m.get("kind", ""))] = int(float(r["value"][1]))

    def frac(what, kind=""):
        n = val.get(("city:%s:count%s" % (what, "" if kind else "_all"),
                     kind))
        d = val.get(("city:districts_expected:count%s" %
                     ("" if kind else "_all"), kind))
        if n is None or not d:
            raise KeyError(what)
        return "%d/%d (%.1f%%)" % (n, d, 100.0 * n / d)
    try:
        print("extranet attached %s; conferencing: counties %s, districts "
              "%s; scraped %s; leaking %d" % (
                  frac("extranet_attached"),
                  frac("conference_ok", "county"),
                  frac("conference_ok", "district"),
                  frac("districts_up"),
                  val[("city:isolation_leaks:count_all", "")]))
    except KeyError:
        pass


_BUILTINS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1m",
             "__interval_ms": "60000", "__range_ms": "60000",
             "__range_s": "60"}


def _variables(dash):
    """Template variable -> replacement: `.*` for a choice, else its value."""
    subst = dict(_BUILTINS)
    for var in (dash.get("templating") or {}).get("list") or []:
        name, typ = var.get("name"), var.get("type")
        if not name:
            continue
        if typ in ("constant", "textbox"):
            subst[name] = str((var.get("query") or ""))
        elif typ == "interval":
            subst[name] = "1m"
        elif typ == "datasource":
            subst[name] = ""
        else:
            subst[name] = ".*"
    return subst


_VAR_RE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")


def _expand(expr, subst):
    unknown = []

    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in subst:
            return subst[name]
        unknown.append(name)
        return m.group(0)
    return _VAR_RE.sub(repl, expr), unknown


def _panels(panels):
    for p in panels or []:
        yield p
        yield from _panels(p.get("panels"))


def cmd_panels(args):
    url, folder = args[0], args[1]
    files = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not files:
        die("panels: no dashboards in %s" % folder, 1)
    now = time.time()
    for path in files:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        dtitle = dash.get("title") or os.path.basename(path)
        subst = _variables(dash)
        for panel in _panels(dash.get("panels")):
            for tgt in panel.get("targets") or []:
                expr = tgt.get("expr")
                if not expr:
                    continue
                ptitle = panel.get("title") or "(untitled %s)" % \
                    panel.get("id")
                ref = tgt.get("refId", "?")
                expr, unknown = _expand(expr, subst)
                line = [dtitle, ptitle, ref]
                if unknown:
                    print("\t".join(line + ["error", "0", "-", "-",
                          "unknown variable $%s in %s" %
                          (unknown[0], " ".join(expr.split()))]))
                    continue
                kinds = []
                if tgt.get("instant"):
                    kinds.append("query")
                if tgt.get("range") or not tgt.get("instant"):
                    kinds.append("query_range")
                count, error, value, sites = 0, None, "-", set()
                for kind in kinds:
                    params = {"query": expr}
                    if kind == "query":
                        params["time"] = "%.3f" % now
                    else:
                        params.update(start="%.3f" % (now - 60),
                                      end="%.3f" % now, step="5")
                    data, error = _api(url, kind, params)
                    if error:
                        break
                    res = data["result"]
                    if data["resultType"] == "scalar":
                        res = [{"metric": {}, "value": res}]
                    count = max(count, len(res))
                    for r in res:
                        sites.add(r["metric"].get("site", "-"))
                    if len(res) == 1:
                        v = res[0].get("value") or res[0]["values"][-1]
                        value = v[1]
                flat = " ".join(expr.split())
                if error:
                    print("\t".join(line + ["error", "0", "-", "-",
                                            "%s: %s" % (error, flat)]))
                else:
                    print("\t".join(line + [
                        "ok", str(count), value,
                        " ".join(sorted(sites)) or "-", flat]))


def main():
    cmds = {"sites": (cmd_sites, 1), "scenario": (cmd_scenario, 2),
            "derive": (cmd_derive, 2), "sip-terminal": (cmd_sip_terminal, 3),
            "rtp-stream": (cmd_rtp_stream, 3),
            "promconf": (cmd_promconf, 4), "panels": (cmd_panels, 2),
            "query": (cmd_query, 2), "status": (cmd_status, 1)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or \
            len(sys.argv) - 2 < cmds[sys.argv[1]][1]:
        die(__doc__.strip())
    cmds[sys.argv[1]][0](sys.argv[2:])


if __name__ == "__main__":
    main()
