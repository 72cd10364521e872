#!/usr/bin/python3
#
# tests/peers/fault_peer.py: small misbehaving peers and clients for the
# fault scenarios (tests/integration/fault_*.sh).  Every mode is bounded
# in time (--limit seconds, default 120) and touches only the addresses
# it is given (loopback or a test namespace).
#
#   hang HOST PORT READY        TCP: accept, read the request, never
#                               answer; prints "conn N" per connection
#   sipgarbage HOST PORT READY  UDP: answer every datagram with garbage
#                               (random bytes, a cut status line, a 200
#                               for another transaction); "req N"
#   backlog FIRST N PORT READY  TCP listeners on 127.0.1.FIRST.. (N of
#                               them), backlog 0, never accepting, their
#                               queues filled by our own connections:
#                               a prober's connect hangs until timeout
#   scrapeloop URL OUT STOP     GET URL until the file STOP exists; one
#                               line per scrape to OUT: "CODE SECONDS
#                               name=value ..." for the --watch series
#   storm URL N SLOW OUT        N concurrent scrapers (5 GETs each) and
#                               SLOW clients trickling a request; OUT
#                               gets "scrape CODE BYTES SECONDS" lines
#                               and "slow CLOSED_AFTER" lines
#
# A file READY is created once the socket listens.

import os
import random
import re
import select
import socket
import sys
import threading
import time
import urllib.request

LIMIT = 120.0


def ready(path):
    open(path, "w").close()


def hang(host, port, rdy):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(64)
    ready(rdy)
    held, n, t0 = [], 0, time.monotonic()
    while time.monotonic() - t0 < LIMIT:
        r, _, _ = select.select([s] + held, [], [], 0.5)
        for c in r:
            if c is s:
                conn, _ = s.accept()
                n += 1
                print("conn %d" % n, flush=True)
                held.append(conn)
                if len(held) > 100:     # bounded: drop the oldest
                    held.pop(0).close()
                continue
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            if not data:                # the prober gave up: forget it
                held.remove(c)
                c.close()
                print("closed by peer", flush=True)


def sipgarbage(host, port, rdy):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, port))
    ready(rdy)
    n, t0 = 0, time.monotonic()
    rnd = random.Random(7457)
    while time.monotonic() - t0 < LIMIT:
        r, _, _ = select.select([s], [], [], 0.5)
        if not r:
            continue
        req, src = s.recvfrom(65535)
        n += 1
        print("req %d" % n, flush=True)
        text = req.decode("latin-1")
        via = re.search(r"(?im)^via:.*$", text)
        callid = re.search(r"(?im)^call-id:.*$", text)
        garbage = [
            bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300))),
            b"SIP/2.0 200",
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK"
            b"other\r\nCall-ID: someone-else\r\nCSeq: 1 OPTIONS\r\n"
            b"Content-Length: 0\r\n\r\n",
            b"\x00" * 64,
            b"SIP/2.0 200 OK\r\n" + (b"X: " + b"a" * 2000 + b"\r\n") * 4,
        ]
        # our Via and Call-ID, but a status line that is no status line
        if via and callid:
            garbage.append(("SIP/2.0 2OO OK\r\n%s\r\n%s\r\nCSeq: 1 OPTIONS"
                            "\r\nContent-Length: 0\r\n\r\n" %
                            (via.group(0).strip(), callid.group(0).strip())
                            ).encode("latin-1"))
        for g in garbage:
            try:
                s.sendto(g, src)
            except OSError:
                pass


def backlog(first, count, port, rdy):
    socks = []
    for i in range(first, first + count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.1.%d" % i, port))
        s.listen(0)
        socks.append(s)
    # fill every accept queue ourselves: the prober's SYNs are then
    # dropped and its connects hang
    fill = []
    for i in range(first, first + count):
        for _ in range(2):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(("127.0.1.%d" % i, port))
            except BlockingIOError:
                pass
            fill.append(c)
    time.sleep(0.5)
    ready(rdy)
    time.sleep(LIMIT)


def get(url, timeout=5.0):
    t = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read()
            return r.status, body, time.monotonic() - t
    except urllib.error.HTTPError as e:
        return e.code, b"", time.monotonic() - t
    except Exception:
        return 0, b"", time.monotonic() - t


def scrapeloop(url, out, stop, watch):
    t0 = time.monotonic()
    pats = [(w, re.compile(r"(?m)^" + re.escape(w) + r" (\S+)$"))
            for w in watch]
    with open(out, "w") as f:
        while not os.path.exists(stop) and time.monotonic() - t0 < LIMIT:
            code, body, dt = get(url, 3.0)
            text = body.decode("utf-8", "replace")
            vals = []
            for i, (w, p) in enumerate(pats):
                m = p.search(text)
                vals.append("w%d=%s" % (i, m.group(1) if m else "absent"))
            f.write("%d %.3f %s\n" % (code, dt, " ".join(vals)))
            f.flush()


def storm(url, n, nslow, out):
    lines, lock = [], threading.Lock()
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()

    def scraper():
        for _ in range(5):
            code, body, dt = get(url, 10.0)
            with lock:
                lines.append("scrape %d %d %.3f" % (code, len(body), dt))

    def slow():
        t = time.monotonic()
        try:
            c = socket.create_connection((host, int(port)), timeout=2)
            c.setblocking(False)
            for ch in b"GET /metrics HTTP/1.1\r\nHost: x\r\n":
                if time.monotonic() - t > 8:
                    break
                c.send(bytes([ch]))
                time.sleep(0.2)
                try:
                    if c.recv(1) == b"":
                        break
                except BlockingIOError:
                    pass
            c.close()
        except OSError:
            pass
        with lock:
            lines.append("slow %.1f" % (time.monotonic() - t))

    th = [threading.Thread(target=slow) for _ in range(nslow)]
    for t in th:
        t.start()
    time.sleep(0.3)
    sc = [threading.Thread(target=scraper) for _ in range(n)]
    for t in sc:
        t.start()
    for t in sc + th:
        t.join(30)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    global LIMIT
    a = sys.argv[1:]
    watch = []
    while a and a[0].startswith("--"):
        if a[0] == "--limit":
            LIMIT = float(a[1])
        elif a[0] == "--watch":
            watch.append(a[1])
        a = a[2:]
    mode = a[0]
    if mode == "hang":
        hang(a[1], int(a[2]), a[3])
    elif mode == "sipgarbage":
        sipgarbage(a[1], int(a[2]), a[3])
    elif mode == "backlog":
        backlog(int(a[1]), int(a[2]), int(a[3]), a[4])
    elif mode == "scrapeloop":
        scrapeloop(a[1], a[2], a[3], watch)
    elif mode == "storm":
        storm(a[1], int(a[2]), int(a[3]), a[4])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
