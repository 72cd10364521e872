#!/usr/bin/python3
"""A /metrics scraper that all but stops reading, for metrics_stream.sh.

    stuck_scrape.py PORT DIR [--http10] [--abandon]

Connects to 127.0.0.1:PORT with a small receive buffer, sends GET
/metrics, reads the first 1,000 bytes of the answer and creates DIR/ready.
Then it waits (up to 120 s) for DIR/go to exist, reading 1 KiB every
half second meanwhile (slow, so a large answer stays part-way for the
whole wait, but not stalled: netprobed drops a connection that makes no
progress for 10 s), and then reads the rest at full speed:
the body (chunked transfer coding decoded) goes to DIR/body, the status
line and headers to DIR/head.  With --abandon it closes the connection
instead of reading on (a scraper that gave up).  Exit 0 when a whole
answer was read (or abandoned as asked), 1 otherwise, with the reason on
stderr.
"""
import os
import socket
import sys
import time


def read_until_close(s, buf):
    while True:
        d = s.recv(65536)
        if not d:
            return buf
        buf += d


def dechunk(data):
    body = b""
    while True:
        line, sep, data = data.partition(b"\r\n")
        if not sep:
            raise ValueError("chunk size line cut short")
        size = int(line.split(b";")[0], 16)
        if size == 0:
            return body
        if len(data) < size + 2 or data[size:size + 2] != b"\r\n":
            raise ValueError("chunk of %d bytes cut short" % size)
        body += data[:size]
        data = data[size + 2:]


def main():
    port, d = int(sys.argv[1]), sys.argv[2]
    http10 = "--http10" in sys.argv
    abandon = "--abandon" in sys.argv
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    version = "HTTP/1.0" if http10 else "HTTP/1.1"
    s.sendall(("GET /metrics %s\r\nHost: 127.0.0.1\r\n"
               "Connection: close\r\n\r\n" % version).encode())
    got = b""
    while len(got) < 1000:
        d0 = s.recv(1000 - len(got))
        if not d0:
            break
        got += d0
    open(os.path.join(d, "ready"), "w").close()
    deadline = time.monotonic() + 120
    trickle = time.monotonic() + 0.5
    while not os.path.exists(os.path.join(d, "go")):
        if time.monotonic() > deadline:
            sys.stderr.write("no go file within 120 s\n")
            return 1
        if time.monotonic() >= trickle:
            trickle += 0.5
            s.settimeout(0.05)
            try:
                got += s.recv(1024)
            except socket.timeout:
                pass
            s.settimeout(60)
        time.sleep(0.05)
    if abandon:
        s.close()
        return 0
    data = read_until_close(s, got)
    s.close()
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        sys.stderr.write("no end of headers in %d bytes\n" % len(data))
        return 1
    with open(os.path.join(d, "head"), "wb") as f:
        f.write(head + b"\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        try:
            body = dechunk(body)
        except ValueError as e:
            sys.stderr.write("%s\n" % e)
            return 1
    with open(os.path.join(d, "body"), "wb") as f:
        f.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
