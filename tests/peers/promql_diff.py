#!/usr/bin/python3
"""Differential test of netprobed's PromQL subset against a real Prometheus.

Used by tests/integration/promql_diff.sh (standard library only, run with
Debian's /usr/bin/python3).  Subcommands:

  push URL SERIES
      Expand the input series (promtool's notation, see diff_series.txt)
      and remote-write them to the Prometheus at URL, with timestamps from
      0 like promtool's rule tests, so time() and every range agree.
      "stale" becomes a real staleness marker (value.StaleNaN), which an
      OpenMetrics backfill could not express.

  query URL SERIES CASES OUTDIR
      Ask Prometheus every expression of CASES at every eval time of
      SERIES (GET /api/v1/query) and write, in OUTDIR:
        np/ok/ID.yml   one promtool-format rule test file per expression
        np/err/ID.yml  (name = the case id), Prometheus' answers as
                       exp_samples, for `netprobed --test-rules`; err/
                       holds those Prometheus rejected at some time (the
                       test expects no samples there; `judge` wants an
                       error).  One file each, as netprobed refuses a
                       whole file when one expression does not parse.
        promtool.yml   every answer but errors and those promtool 2.42
                       cannot pass even against itself (an expected NaN:
                       it compares with reflect.DeepEqual), for the
                       sanity check `promtool test rules`
        errors.tsv     ID TIME EXPR MESSAGE, where Prometheus answered an
                       error (promtool's format cannot expect one)
        cases.json     every case, time and answer, for `judge`

  promtool-check PROMTOOL_OUTPUT
      promtool 2.42 compares values exactly, and its engine sums in another
      order than the server's: pass if every failure it reports differs
      only in the last bits of values (relative 1e-9).

  judge OUTDIR STDOUT STDERR
      Read what `netprobed --test-rules OUTDIR/np/*/*.yml` printed and
      print one record per expression for the TAP script (see cmd_judge).
"""

import http.client
import json
import math
import os
import re
import struct
import sys
import urllib.parse

STALE_NAN_BITS = 0x7FF0000000000002     # Prometheus value.StaleNaN
STALE = object()                        # a staleness marker in a series
OMITTED = None                          # "_": no sample at that step

# ---- durations -----------------------------------------------------------

_DUR_UNITS = [("y", 365 * 86400000), ("w", 7 * 86400000), ("d", 86400000),
              ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)]
_DUR_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?"
                     r"(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


def parse_duration(text):
    """Prometheus duration ("4m30s") -> milliseconds."""
    m = _DUR_RE.match(text)
    if not m or text == "":
        raise ValueError("bad duration %r" % text)
    return sum(int(g) * u[1] for g, u in zip(m.groups(), _DUR_UNITS) if g)


def format_duration(ms):
    """Milliseconds -> the shortest Prometheus duration ("4m30s")."""
    if ms == 0:
        return "0s"
    out = ""
    for unit, size in _DUR_UNITS:
        if unit in ("y", "w", "d"):
            continue                    # keep eval times readable
        if ms >= size:
            out += "%d%s" % (ms // size, unit)
            ms %= size
    return out

# ---- series notation -----------------------------------------------------

_STR_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
            "v": "\v", "\\": "\\", '"': '"', "'": "'"}


def _unquote(s, i):
    """Go/PromQL double-quoted string starting at s[i] == '"'.
    Returns (value, index after the closing quote)."""
    assert s[i] == '"'
    i += 1
    out = []
    while i < len(s):
        c = s[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            e = s[i + 1]
            if e in _STR_ESC:
                out.append(_STR_ESC[e])
                i += 2
            elif e == "x":
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
            elif e == "u":
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
            elif e == "U":
                out.append(chr(int(s[i + 2:i + 10], 16)))
                i += 10
            elif e in "01234567":
                out.append(chr(int(s[i + 1:i + 4], 8)))
                i += 4
            else:
                raise ValueError("bad escape in %r" % s)
            continue
        out.append(c)
        i += 1
    raise ValueError("unterminated string in %r" % s)


def parse_selector(text):
    """name{a="b",...} -> dict of labels (with __name__)."""
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)?", text)
    labels = {}
    if m.group(1):
        labels["__name__"] = m.group(1)
    i = m.end()
    if i == len(text):
        return labels
    if text[i] != "{":
        raise ValueError("bad series %r" % text)
    i += 1
    while True:
        while text[i] in " ,":
            i += 1
        if text[i] == "}":
            i += 1
            break
        m = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*").match(text, i)
        if not m:
            raise ValueError("bad label in %r" % text)
        value, i = _unquote(text, m.end())
        labels[m.group(1)] = value
    if i != len(text):
        raise ValueError("trailing text in series %r" % text)
    return labels


_NUM = r"(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN)"
_VAL_RE = re.compile(r"^([-+]?%s)(?:([-+]%s)?x([0-9]+))?$" % (_NUM, _NUM),
                     re.IGNORECASE)


def expand_values(text):
    """promtool's expanding notation -> list of float, OMITTED or STALE.
    Mirrors the promql series grammar: "axn" is n+1 copies, "a+bxn" is
    a, a+b, ... by repeated addition, "_xn" is n omitted steps."""
    out = []
    for tok in text.split():
        if tok == "_":
            out.append(OMITTED)
            continue
        if tok.startswith("_x"):
            out.extend([OMITTED] * int(tok[2:]))
            continue
        if tok == "stale":
            out.append(STALE)
            continue
        m = _VAL_RE.match(tok)
        if not m:
            raise ValueError("bad value %r" % tok)
        v = float(m.group(1))
        if m.group(3) is None:
            out.append(v)
        elif m.group(2) is None:
            out.extend([v] * (int(m.group(3)) + 1))
        else:
            step = float(m.group(2))
            out.append(v)
            for _ in range(int(m.group(3))):
                v += step
                out.append(v)
    return out


class SeriesFile:
    def __init__(self, path):
        self.interval_ms = None
        self.eval_times = []
        self.series = []                # (text, values text, labels, values)
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                try:
                    self._line(line)
                except (ValueError, IndexError) as e:
                    sys.exit("%s:%d: %s" % (path, lineno, e))
        if self.interval_ms is None or not self.eval_times:
            sys.exit("%s: needs interval and eval_times" % path)

    def _line(self, line):
        word, _, rest = line.partition(" ")
        if word == "interval":
            self.interval_ms = parse_duration(rest.strip())
            return
        if word == "eval_times":
            self.eval_times = [parse_duration(w) for w in rest.split()]
            return
        # the selector ends at the first blank outside quotes
        inq = False
        i = 0
        while i < len(line):
            c = line[i]
            if inq and c == "\\":
                i += 2
                continue
            if c == '"':
                inq = not inq
            elif c in " \t" and not inq:
                break
            i += 1
        sel, vals = line[:i], line[i:].strip()
        self.series.append((sel, vals, parse_selector(sel),
                            expand_values(vals)))


def read_cases(path, default_times):
    """One expression a line; '#' starts a comment line.  Directives
    apply to the expressions after them:
      @eval_times D...    evaluate at these times ("@eval_times" alone:
                          back to the series file's)
      @todo REASON        a known, documented deviation: a difference is
                          reported as TAP "not ok # TODO REASON" (and a
                          pass as an unexpected one); "@todo" alone ends
      @want_samples on|off
                          Prometheus must answer a sample at one eval time
                          at least (so a case cannot agree by matching
                          nothing on both sides)
    """
    cases = []
    times, todo, want = default_times, "", False
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@"):
                word, _, rest = line.partition(" ")
                rest = rest.strip()
                if word == "@eval_times":
                    try:
                        times = ([parse_duration(w) for w in rest.split()]
                                 or default_times)
                    except ValueError as e:
                        sys.exit("%s:%d: %s" % (path, lineno, e))
                elif word == "@todo":
                    todo = rest
                elif word == "@want_samples" and rest in ("on", "off"):
                    want = rest == "on"
                else:
                    sys.exit("%s:%d: unknown directive %s" %
                             (path, lineno, word))
                continue
            cases.append({"expr": line, "eval_times": times, "todo": todo,
                          "want_samples": want})
    return cases

# ---- remote write (protobuf by hand, snappy as one literal) ---------------


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(num, data):
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _sample(value, t_ms):
    if value is STALE:
        v = struct.pack("<Q", STALE_NAN_BITS)
    else:
        v = struct.pack("<d", value)
    return (_varint(1 << 3 | 1) + v +
            _varint(2 << 3 | 0) + _varint(t_ms & 0xFFFFFFFFFFFFFFFF))


def write_request(sf):
    """prompb.WriteRequest with every series of sf."""
    req = bytearray()
    for _, _, labels, values in sf.series:
        ts = bytearray()
        for name in sorted(labels):
            ts += _field_bytes(1, _field_bytes(1, name.encode()) +
                               _field_bytes(2, labels[name].encode()))
        for i, v in enumerate(values):
            if v is not OMITTED:
                ts += _field_bytes(2, _sample(v, i * sf.interval_ms))
        req += _field_bytes(1, bytes(ts))
    return bytes(req)


def snappy_literal(data):
    """Snappy block format with the whole input as one literal."""
    n = len(data)
    if n == 0:
        return _varint(0)
    return _varint(n) + bytes([63 << 2]) + struct.pack("<I", n - 1) + data


def _conn(url):
    u = urllib.parse.urlsplit(url)
    if u.hostname not in ("127.0.0.1", "::1"):
        sys.exit("refusing a non-loopback Prometheus URL: %s" % url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def cmd_push(url, series_path):
    sf = SeriesFile(series_path)
    body = snappy_literal(write_request(sf))
    c = _conn(url)
    c.request("POST", "/api/v1/write", body, {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Write-Version": "0.1.0"})
    r = c.getresponse()
    text = r.read().decode(errors="replace")
    if r.status // 100 != 2:
        sys.exit("remote write: HTTP %d: %s" % (r.status, text))
    n = sum(sum(v is not OMITTED for v in s[3]) for s in sf.series)
    print("pushed %d series, %d samples" % (len(sf.series), n))

# ---- formatting ----------------------------------------------------------


def go_quote(s):
    """A label value as PromQL/Go writes it between double quotes."""
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif ord(c) < 0x20 or c == "\x7f":
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def format_labels(labels):
    """name{a="b", ...} in Prometheus' order (sorted, name first)."""
    name = labels.get("__name__", "")
    rest = ", ".join("%s=%s" % (k, go_quote(labels[k]))
                     for k in sorted(labels) if k != "__name__")
    return "%s{%s}" % (name, rest)


def yaml_str(s):
    return "'" + s.replace("'", "''") + "'"


def yaml_float(v):
    if math.isnan(v):
        return ".nan"
    if math.isinf(v):
        return ".inf" if v > 0 else "-.inf"
    return repr(v)


def parse_value(s):
    return float(s)             # Prometheus writes NaN, +Inf, -Inf

# ---- query ---------------------------------------------------------------


def prom_query(conn, expr, t_ms):
    q = urllib.parse.urlencode({"query": expr, "time": "%.3f" % (t_ms / 1000)})
    conn.request("GET", "/api/v1/query?" + q)
    r = conn.getresponse()
    doc = json.loads(r.read().decode())
    if doc.get("status") != "success":
        return {"status": "error", "error": doc.get("error", "?"),
                "errorType": doc.get("errorType", "?")}
    data = doc["data"]
    if data["resultType"] == "scalar":
        return {"status": "ok", "type": "scalar",
                "samples": [[{}, data["result"][1]]]}
    if data["resultType"] == "vector":
        return {"status": "ok", "type": "vector",
                "samples": [[s["metric"], s["value"][1]]
                            for s in data["result"]]}
    return {"status": "unsupported", "type": data["resultType"]}


def cmd_query(url, series_path, cases_path, outdir):
    sf = SeriesFile(series_path)
    conn = _conn(url)
    cases = []
    for n, rc in enumerate(read_cases(cases_path, sf.eval_times), 1):
        expr = rc["expr"]
        case = {"id": "c%03d" % n, "expr": expr, "todo": rc["todo"],
                "times": []}
        for t in rc["eval_times"]:
            res = prom_query(conn, expr, t)
            if res["status"] == "unsupported":
                sys.exit("%s: %s gives a %s, not a vector or scalar" %
                         (case["id"], expr, res["type"]))
            res["t"] = t
            case["times"].append(res)
        if rc["want_samples"] and not any(r.get("samples")
                                          for r in case["times"]):
            sys.exit("%s: %s: Prometheus answered no sample at any eval "
                     "time (@want_samples on)" % (case["id"], expr))
        cases.append(case)
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    # one file per expression: netprobed refuses a whole file when one
    # expression does not parse, and that must cost one case, not all
    # np/ok: Prometheus answered every time (--test-rules must pass them
    # all), np/err: it answered an error at some time
    for sub in ("ok", "err"):
        os.makedirs(os.path.join(outdir, "np", sub), exist_ok=True)
    for c in cases:
        sub = "ok" if all(r["status"] == "ok" for r in c["times"]) else "err"
        write_tests(os.path.join(outdir, "np", sub, c["id"] + ".yml"), sf,
                    [c], lambda res: True)
    nan_free = write_tests(os.path.join(outdir, "promtool.yml"), sf, cases,
                           lambda res: res["status"] == "ok" and
                           not any(math.isnan(parse_value(v))
                                   for _, v in res["samples"]),
                           keeper=max(r["t"] for c in cases
                                      for r in c["times"]))
    with open(os.path.join(outdir, "errors.tsv"), "w") as f:
        for c in cases:
            for res in c["times"]:
                if res["status"] == "error":
                    f.write("%s\t%s\t%s\t%s\n" % (
                        c["id"], format_duration(res["t"]), c["expr"],
                        res["error"].replace("\n", " ")))
    nt = sum(len(c["times"]) for c in cases)
    ne = sum(r["status"] == "error" for c in cases for r in c["times"])
    print("%d expressions, %d evaluations: %d errors, %d with NaN "
          "(not for promtool)" % (len(cases), nt, ne, nt - ne - nan_free))


def write_tests(path, sf, cases, keep, keeper=None):
    """A rule test file, one test group per case (named by its id); where
    Prometheus answered an error the test expects no samples (promtool's
    format has no way to expect an error: `judge` looks for one).
    keeper: a time; every group gets a trivial test at that time when its
    own tests end earlier.  promtool loads the input series only up to a
    group's largest eval time (at evaluation_interval steps), so a group
    that lost its last test (a NaN) would see less than Prometheus did.
    Returns how many promql_expr_tests it holds (the keepers aside)."""
    inputs = ["    input_series:\n"]
    for sel, vals, _, _ in sf.series:
        inputs.append("      - series: %s\n        values: %s\n" %
                      (yaml_str(sel), yaml_str(vals)))
    inputs = "".join(inputs)
    ntests = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Generated by tests/peers/promql_diff.py: the expected "
                "samples are a real\n# Prometheus' answers.  Do not edit.\n"
                "tests:\n")
        for c in cases:
            tests = [r for r in c["times"] if keep(r)]
            if not tests:
                continue
            f.write("  - name: %s\n    interval: %s\n" %
                    (yaml_str(c["id"]), format_duration(sf.interval_ms)))
            f.write(inputs)
            f.write("    promql_expr_test:\n")
            if keeper is not None and max(r["t"] for r in tests) < keeper:
                f.write("      - expr: vector(1)\n        eval_time: %s\n"
                        "        exp_samples:\n"
                        "          - labels: '{}'\n            value: 1\n"
                        % format_duration(keeper))
            for r in tests:
                ntests += 1
                f.write("      - expr: %s\n        eval_time: %s\n" %
                        (yaml_str(c["expr"]), format_duration(r["t"])))
                if r["status"] != "ok" or not r["samples"]:
                    f.write("        exp_samples: []\n")
                    continue
                f.write("        exp_samples:\n")
                for labels, v in sorted(r["samples"],
                                        key=lambda s: format_labels(s[0])):
                    f.write("          - labels: %s\n            value: %s\n"
                            % (yaml_str(format_labels(labels)),
                               yaml_float(parse_value(v))))
    return ntests


# ---- comparing answers ---------------------------------------------------

REL_TOL = 1e-9      # summation order differs between engines (even between
                    # promtool and the server): a few ulps, never more


def same_value(a, b):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    if math.isinf(a) or math.isinf(b):
        return False
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def same_samples(exp, got):
    """exp, got: lists of (label text, float); order does not matter."""
    if len(exp) != len(got):
        return False
    exp = sorted(exp, key=lambda s: s[0])
    got = sorted(got, key=lambda s: s[0])
    return all(e[0] == g[0] and same_value(e[1], g[1])
               for e, g in zip(exp, got))


_PT_SAMPLE = re.compile(r"(\S*\{.*?\}) ([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?"
                        r"|Inf|NaN))(?:, |$)")


def _pt_samples(text):
    text = text.strip()
    if text == "nil":
        return []
    out, pos = [], 0
    while pos < len(text):
        m = _PT_SAMPLE.match(text, pos)
        if not m:
            return None
        out.append((m.group(1), float(m.group(2))))
        pos = m.end()
    return out


def cmd_promtool_check(output_path):
    """promtool test rules output: every failure must be a rounding-only
    difference (promtool 2.42 compares floats exactly).  Exit 0 if so."""
    with open(output_path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    rounding, bad = 0, []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\s+expr: (.*), time: ([^,]+),\s*$", line)
        if (m and i + 2 < len(lines) and
                lines[i + 1].strip().startswith("exp:") and
                lines[i + 2].strip().startswith("got:")):
            exp = _pt_samples(lines[i + 1].strip()[4:])
            got = _pt_samples(lines[i + 2].strip()[4:])
            if exp is not None and got is not None and \
                    same_samples(exp, got):
                rounding += 1
            else:
                bad.extend(lines[i:i + 3])
            i += 3
            continue
        if re.match(r"^\s+expr: .*err:", line) or "rror" in line:
            bad.append(line)
        i += 1
    print("%d rounding-only differences" % rounding)
    for line in bad:
        print(line)
    sys.exit(1 if bad else 0)


_RUN_RESULT = re.compile(r"^(\S+\.yml): (.+): (PASS|FAIL)$")
_RUN_DETAIL = re.compile(r'^\s+expr ".*?" at ([0-9a-z]+): (.*)$')
_RUN_SAMPLE = re.compile(r"(\S*\{.*?\}) (\S+?)(?:, |$)")


def _run_samples(text):
    """"[{a="b"} 1, {} NaN]" -> [(label text, float)], None if unparsable."""
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    text = text[1:-1]
    out, pos = [], 0
    while pos < len(text):
        m = _RUN_SAMPLE.match(text, pos)
        if not m:
            return None
        try:
            out.append((m.group(1), float(m.group(2))))
        except ValueError:
            return None
        pos = m.end()
    return out


def _show(res):
    if res["status"] == "error":
        return "error: " + res["error"]
    return "[%s]" % ", ".join(
        "%s %s" % (format_labels(l), v)
        for l, v in sorted(res["samples"], key=lambda s: format_labels(s[0])))


def cmd_judge(outdir, stdout_path, stderr_path):
    """One TAP record per expression from --test-rules' output:
         R<TAB>0|1<TAB>description<TAB>todo   (1: a difference; todo: the
                                                reason of a known deviation)
         D<TAB>diagnostic line
    Where Prometheus answered, netprobed must give the same samples (the
    runner compares; a difference it reports within REL_TOL is only
    rounding); where Prometheus answered an error, netprobed must too: an
    "error:" line for that time, or the file rejected when it is loaded."""
    with open(os.path.join(outdir, "cases.json")) as f:
        cases = json.load(f)
    results, details, load_errors = {}, {}, {}
    current = None
    with open(stdout_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = _RUN_RESULT.match(line)
            if m:
                current = os.path.basename(m.group(1))[:-4]
                results[current] = m.group(3)
                details[current] = {}
                continue
            m = _RUN_DETAIL.match(line)
            if m and current is not None:
                try:
                    t = parse_duration(m.group(1))
                except ValueError:
                    t = m.group(1)
                details[current][t] = m.group(2)
    with open(stderr_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(\S+\.yml):\d+:\d+: (.*)$", line.rstrip("\n"))
            if m:
                cid = os.path.basename(m.group(1))[:-4]
                load_errors.setdefault(cid, m.group(2))
    nfail = nround = 0
    for c in cases:
        cid, expr = c["id"], c["expr"]
        want_err = [r for r in c["times"] if r["status"] == "error"]
        desc = "%s %s" % (cid, expr)
        diags, notes = [], []
        if cid in load_errors:
            if len(want_err) == len(c["times"]):
                desc += "  (both reject it)"
                notes.append("%s: Prometheus: %s" %
                             (cid, want_err[0]["error"]))
                notes.append("%s: netprobed:  %s" % (cid, load_errors[cid]))
            else:
                diags.append("netprobed rejects it: " + load_errors[cid])
                diags.extend("at %s: Prometheus: %s" % (
                    format_duration(r["t"]), _show(r)) for r in c["times"])
        elif cid not in results:
            diags.append("no result from netprobed --test-rules")
        else:
            for r in c["times"]:
                at = format_duration(r["t"])
                d = details[cid].get(r["t"])
                if r["status"] == "error":
                    if d is None or not d.startswith("error:"):
                        diags.append("at %s: Prometheus: error: %s" %
                                     (at, r["error"]))
                        diags.append("at %s: netprobed:  %s" %
                                     (at, d or "no error, no samples"))
                    elif not notes:
                        notes.append("%s: Prometheus: %s" % (cid, r["error"]))
                        notes.append("%s: netprobed:  %s" % (cid, d[7:]))
                    continue
                if d is None:
                    continue
                if d.startswith("expected ") and "], got [" in d:
                    e, _, g = d[len("expected "):].partition("], got [")
                    es, gs = _run_samples(e + "]"), _run_samples("[" + g)
                    if es is not None and gs is not None and \
                            same_samples(es, gs):
                        nround += 1
                        continue
                    d = "[" + g
                diags.append("at %s: Prometheus: %s" % (at, _show(r)))
                diags.append("at %s: netprobed:  %s" % (at, d))
            if want_err and not diags:
                desc += "  (both error)"
        print("R\t%d\t%s\t%s" % (1 if diags else 0, desc, c["todo"]))
        for d in diags + notes:
            print("D\t" + d)
        nfail += bool(diags)
    print("S\t%d expressions, %d differ, %d rounding-only differences "
          "accepted (relative %g)" % (len(cases), nfail, nround, REL_TOL))


def main(argv):
    if len(argv) == 4 and argv[1] == "push":
        cmd_push(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] == "query":
        cmd_query(*argv[2:])
    elif len(argv) == 5 and argv[1] == "judge":
        cmd_judge(*argv[2:])
    elif len(argv) == 3 and argv[1] == "promtool-check":
        cmd_promtool_check(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
