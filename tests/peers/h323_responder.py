#!/usr/bin/python3
"""A small H.225.0 RAS and call-signalling responder for the h323 tests.

Each port has a behaviour, so one process serves every scenario
(--host is 127.0.0.1 or ::1; run one process per address):

  --ras PORT:MODE   UDP.  gcf (GCF, or LCF to an LRQ), grj (GRJ
                    terminalExcluded, or LRJ notRegistered), silent,
                    xrs (unknownMessageResponse), rip (RequestInProgress,
                    then GCF 300 ms later), late (answers only a
                    retransmission), spoof (a GCF with the right
                    requestSeqNum from another port, a GCF with a wrong
                    one, then a GRJ resourceUnavailable that is right),
                    flip (GCF, GRJ, silence in turn, one step per new
                    requestSeqNum; a retransmission gets the same)
  --cs PORT:MODE    TCP.  connect (Call Proceeding, Alerting, Connect),
                    proceed (Call Proceeding only), release (Release
                    Complete, cause 21, reason destinationRejection),
                    close (closes after the Setup), garbage (an HTTP
                    line), silent (reads, never answers), spoof
                    (Connect with another call reference, Connect
                    without the "to originator" flag, then a Release
                    Complete cause 17 that is right)

Byte layouts are those of shared/PROTOCOLS.md sections 1 and 2, with the
sequence number, call reference and GUIDs of the request put in.  Every
message received is logged, one line each, to --log; --ready is created
once every socket listens.  Loopback only: it binds to --host.
"""

import argparse
import os
import selectors
import signal
import socket
import struct
import sys
import time

OID = bytes.fromhex("060008914a0004")


def log(f, text):
    f.write(text + "\n")
    f.flush()


# ---- RAS ------------------------------------------------------------

def ras_request(data):
    """(kind, seq) of a GRQ or LRQ, else (None, None)."""
    if len(data) < 4 or data[0] & 0x80:
        return None, None
    idx = (data[0] >> 2) & 0x1F
    if idx == 0:
        return "GRQ", struct.unpack(">H", data[2:4])[0] + 1
    if idx == 18:
        return "LRQ", struct.unpack(">H", data[2:4])[0] + 1
    return None, None


def wire(seq):
    return struct.pack(">H", (seq - 1) & 0xFFFF)


def taddr(ip, port):
    """TransportAddress: ipAddress, or ip6Address (PROTOCOLS 1.2)."""
    if ":" in ip:
        return (b"\x30" + socket.inet_pton(socket.AF_INET6, ip) +
                struct.pack(">H", port))
    return b"\x00" + socket.inet_aton(ip) + struct.pack(">H", port)


def gcf(seq, ip, port):
    # GCF with gatekeeperIdentifier "GK" and rasAddress (PROTOCOLS 1.3)
    return (b"\x04\x80" + wire(seq) + OID + b"\x02\x00\x47\x00\x4b" +
            taddr(ip, port))


def grj(seq, reason):
    # GRJ, root reason index in o11 b6-5 (PROTOCOLS 1.4)
    return b"\x08\x00" + wire(seq) + OID + bytes([reason << 5])


def lcf(seq, ip, port):
    return b"\x4c" + wire(seq) + taddr(ip, 1720) + taddr(ip, port)


def lrj(seq):
    return b"\x50" + wire(seq) + b"\x00"


def xrs(seq):
    return b"\x60" + wire(seq)


def rip(seq, delay_ms):
    return b"\x80\x05\x00" + wire(seq) + struct.pack(">H", delay_ms - 1)


# ---- call signalling ----------------------------------------------------

def tpkt(q931):
    return b"\x03\x00" + struct.pack(">H", len(q931) + 4) + q931


def q931(crv, flag, mtype, ies, uuie):
    return tpkt(b"\x08\x02" + struct.pack(">H", (crv & 0x7FFF) |
                                          (0x8000 if flag else 0)) +
                bytes([mtype]) + ies + b"\x7e" +
                struct.pack(">H", len(uuie) + 1) + b"\x05" + uuie)


def proceeding(crv, callid, flag=1):
    return q931(crv, flag, 0x02, b"",
                b"\x01\x80" + OID + b"\x04\x40\x20\x11\x00" + callid)


def alerting(crv, callid):
    return q931(crv, 1, 0x01, b"",
                b"\x03\x80" + OID + b"\x04\x40\x20\x11\x00" + callid)


def connect(crv, confid, callid, flag=1):
    return q931(crv, flag, 0x07, b"",
                b"\x02\x80" + OID + b"\x04\x40" + confid + b"\x01\x11\x00" +
                callid)


def release(crv, callid, cause):
    # cause location 1, reason destinationRejection (PROTOCOLS 2.5)
    return q931(crv, 1, 0x5A, b"\x08\x02\x81" + bytes([0x80 | cause]),
                b"\x05\xc0" + OID + b"\x18\x08\x11\x00" + callid)


def parse_q931(msg):
    """dict of the fields the tests look at, or None."""
    if len(msg) < 5 or msg[0] != 8 or msg[1] != 2:
        return None
    out = {"flag": msg[2] >> 7, "crv": (msg[2] & 0x7F) << 8 | msg[3],
           "type": msg[4], "cause": None, "uuie": b""}
    i = 5
    while i < len(msg):
        ie = msg[i]
        if ie & 0x80:
            i += 1
            continue
        if ie == 0x7E:
            n = struct.unpack(">H", msg[i + 1:i + 3])[0]
            out["uuie"] = msg[i + 4:i + 3 + n]
            i += 3 + n
            continue
        n = msg[i + 1]
        body = msg[i + 2:i + 2 + n]
        if ie == 0x08 and len(body) >= 2:
            out["cause"] = body[1] & 0x7F
        i += 2 + n
    return out


def fmt(peer):
    """host:port, [v6]:port"""
    if ":" in peer[0]:
        return "[%s]:%d" % (peer[0], peer[1])
    return "%s:%d" % (peer[0], peer[1])


NAMES = {0x05: "Setup", 0x5A: "ReleaseComplete", 0x02: "CallProceeding",
         0x01: "Alerting", 0x07: "Connect"}


class Conn:
    def __init__(self, sock, port, mode):
        self.sock = sock
        self.port = port
        self.mode = mode
        self.buf = b""


class Responder:
    def __init__(self, args):
        self.host = args.host
        self.log = open(args.log, "a")
        self.sel = selectors.DefaultSelector()
        self.timers = []  # (when, function)
        self.seen = set()  # (port, seq) for "late"
        self.flip = {}  # port -> (seq, step) for "flip"
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.decoy = socket.socket(fam, socket.SOCK_DGRAM)
        self.decoy.bind((self.host, 0))
        for spec in args.ras:
            port, mode = spec.split(":")
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.bind((self.host, int(port)))
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ,
                              ("ras", int(port), mode))
        for spec in args.cs:
            port, mode = spec.split(":")
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.host, int(port)))
            s.listen(16)
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ,
                              ("listen", int(port), mode))

    def later(self, delay, fn):
        self.timers.append((time.monotonic() + delay, fn))

    # -- RAS --
    def ras(self, s, port, mode):
        try:
            data, peer = s.recvfrom(4096)
        except BlockingIOError:
            return
        kind, seq = ras_request(data)
        log(self.log, "ras %d recv %s seq %s from %s len %d hex %s" %
            (port, kind, seq, fmt(peer), len(data), data.hex()))
        if kind is None:
            return
        me = (self.host, port)

        def send(b):
            s.sendto(b, peer)

        if mode == "flip":
            last, step = self.flip.get(port, (None, -1))
            if seq != last:
                step = (step + 1) % 3
                self.flip[port] = (seq, step)
            mode = ("gcf", "grj", "silent")[step]
            log(self.log, "ras %d flip %s" % (port, mode))
        if mode == "silent":
            return
        if mode == "late":
            if (port, seq) not in self.seen:
                self.seen.add((port, seq))
                return
            mode = "gcf"
        if mode == "gcf":
            send(gcf(seq, *me) if kind == "GRQ" else lcf(seq, *me))
        elif mode == "grj":
            send(grj(seq, 1) if kind == "GRQ" else lrj(seq))
        elif mode == "xrs":
            send(xrs(seq))
        elif mode == "rip":
            send(rip(seq, 3000))
            self.later(0.3, lambda: send(gcf(seq, *me)))
        elif mode == "spoof":
            # right seq, wrong source port; right source, wrong seq
            self.decoy.sendto(gcf(seq, *me), peer)
            send(gcf(seq % 65535 + 1, *me))
            self.later(0.1, lambda: send(grj(seq, 0)))

    # -- call signalling --
    def accept(self, s, port, mode):
        try:
            c, peer = s.accept()
        except BlockingIOError:
            return
        c.setblocking(False)
        log(self.log, "cs %d accept from %s" % (port, fmt(peer)))
        self.sel.register(c, selectors.EVENT_READ,
                          ("conn", port, Conn(c, port, mode)))

    def drop(self, conn, why):
        log(self.log, "cs %d close (%s)" % (conn.port, why))
        try:
            self.sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def send(self, conn, data):
        try:
            conn.sock.sendall(data)
        except OSError as e:
            log(self.log, "cs %d send failed: %s" % (conn.port, e))

    def conn(self, conn):
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError as e:
            self.drop(conn, "error %s" % e)
            return
        if not data:
            self.drop(conn, "peer closed")
            return
        conn.buf += data
        while len(conn.buf) >= 4:
            n = struct.unpack(">H", conn.buf[2:4])[0]
            if conn.buf[0] != 3 or n < 9:
                self.drop(conn, "bad TPKT")
                return
            if len(conn.buf) < n:
                break
            msg, conn.buf = conn.buf[4:n], conn.buf[n:]
            q = parse_q931(msg)
            if q is None:
                log(self.log, "cs %d recv bad Q.931 %s" %
                    (conn.port, msg.hex()))
                continue
            u = q["uuie"]
            log(self.log, "cs %d recv %s crv %d flag %d cause %s uuie %s" %
                (conn.port, NAMES.get(q["type"], hex(q["type"])), q["crv"],
                 q["flag"], q["cause"], u.hex()))
            if q["type"] == 0x05:
                if not self.answer(conn, q["crv"], u[-36:-20], u[-16:]):
                    return
            elif q["type"] == 0x5A:
                # a stack closes the connection once the call is gone
                self.drop(conn, "released")
                return

    def answer(self, conn, crv, confid, callid):
        """Answer a Setup; False if the connection is gone."""
        m = conn.mode
        if m == "connect":
            self.send(conn, proceeding(crv, callid) + alerting(crv, callid) +
                      connect(crv, confid, callid))
        elif m == "proceed":
            self.send(conn, proceeding(crv, callid))
        elif m == "release":
            self.send(conn, release(crv, callid, 21))
            self.drop(conn, "released the call")
            return False
        elif m == "close":
            self.drop(conn, "mode close")
            return False
        elif m == "garbage":
            self.send(conn, b"HTTP/1.0 400 Bad Request\r\n\r\n")
        elif m == "spoof":
            other = crv ^ 0x2A5A or 1
            self.send(conn, connect(other, confid, callid) +
                      connect(crv, confid, callid, flag=0))

            def rc():
                if conn.sock.fileno() != -1:
                    self.send(conn, release(crv, callid, 17))
                    self.drop(conn, "released the call")
            self.later(0.1, rc)
        return True

    def run(self):
        while True:
            now = time.monotonic()
            due = [t for t in self.timers if t[0] <= now]
            self.timers = [t for t in self.timers if t[0] > now]
            for _, fn in due:
                fn()
            wait = min([t[0] for t in self.timers], default=now + 1) - now
            for key, _ in self.sel.select(max(0.0, min(wait, 1.0))):
                kind, port, extra = key.data
                if kind == "ras":
                    self.ras(key.fileobj, port, extra)
                elif kind == "listen":
                    self.accept(key.fileobj, port, extra)
                else:
                    self.conn(extra)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--ras", action="append", default=[])
    ap.add_argument("--cs", action="append", default=[])
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    r = Responder(args)
    with open(args.ready + ".tmp", "w"):
        pass
    os.rename(args.ready + ".tmp", args.ready)
    r.run()


if __name__ == "__main__":
    main()
