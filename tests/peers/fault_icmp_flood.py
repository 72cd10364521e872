#!/usr/bin/python3
"""Hostile ICMP for tests/integration/fault_icmp.sh (scapy builds the
packets, a raw socket sends them).  Run inside the peer's namespace.

usage: fault_icmp_flood.py IFACE VICTIM LIVE DARK DECOY SECONDS MAX READY OUT

- Every echo request from VICTIM to DARK seen on IFACE (an address that
  never answers) gets four forged replies: from DARK with a payload that
  is not ours (wrong cookie), from DECOY with our exact payload (wrong
  source), from DARK with the id + 1, and from DARK with the seq + 1.
- Meanwhile a flood to VICTIM from LIVE (a target that does answer):
  echo replies with random ids and seqs, ICMP errors (unreachable, time
  exceeded) quoting UDP datagrams and echo requests that VICTIM never
  sent, errors quoting a cut header, and truncated ICMP.
Bounded: SECONDS seconds and MAX flood packets.  OUT gets one JSON line
of counts at the end; READY is created once the sniffer listens.
"""
import json
import os
import random
import socket
import sys
import threading
import time

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

iface, victim, live, dark, decoy = sys.argv[1:6]
seconds, maxpk = float(sys.argv[6]), int(sys.argv[7])
ready, out = sys.argv[8], sys.argv[9]

counts = {"requests_seen": 0, "forged_replies": 0, "flood": 0}
lock = threading.Lock()
stop = time.monotonic() + seconds
rnd = random.Random(7457)

tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
tx.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)


def send(pkt):
    try:
        tx.sendto(bytes(pkt), (pkt[IP].dst, 0))
        return 1
    except OSError:
        return 0


def sniffer():
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    rx.bind((iface, 0))
    rx.settimeout(0.2)
    open(ready, "w").close()
    while time.monotonic() < stop:
        try:
            frame = rx.recv(65535)
        except socket.timeout:
            continue
        p = Ether(frame)
        if IP not in p or ICMP not in p:
            continue
        ip, ic = p[IP], p[ICMP]
        if ip.src != victim or ip.dst != dark or ic.type != 8:
            continue
        data = bytes(ic.payload)
        forged = [
            IP(src=dark, dst=victim) / ICMP(type=0, id=ic.id, seq=ic.seq) /
            Raw(b"\x00" * len(data)),
            IP(src=decoy, dst=victim) / ICMP(type=0, id=ic.id, seq=ic.seq) /
            Raw(data),
            IP(src=dark, dst=victim) / ICMP(type=0, id=(ic.id + 1) & 0xffff,
                                             seq=ic.seq) / Raw(data),
            IP(src=dark, dst=victim) / ICMP(type=0, id=ic.id,
                                             seq=(ic.seq + 1) & 0xffff) /
            Raw(data),
        ]
        n = sum(send(f) for f in forged)
        with lock:
            counts["requests_seen"] += 1
            counts["forged_replies"] += n


def flood_packet():
    k = rnd.randrange(6)
    if k == 0:      # an echo reply for somebody else's ping
        return IP(src=live, dst=victim) / ICMP(
            type=0, id=rnd.getrandbits(16), seq=rnd.getrandbits(16)) / \
            Raw(os.urandom(rnd.randint(0, 64)))
    inner_dst = "10.78.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255))
    if k == 1:      # port unreachable for a UDP datagram we never sent
        inner = IP(src=victim, dst=inner_dst) / UDP(
            sport=rnd.getrandbits(16), dport=rnd.getrandbits(16))
        return IP(src=live, dst=victim) / ICMP(type=3, code=3) / \
            Raw(bytes(inner)[:28])
    if k == 2:      # host unreachable quoting an echo request not ours
        inner = IP(src=victim, dst=inner_dst) / ICMP(
            type=8, id=rnd.getrandbits(16), seq=rnd.getrandbits(16))
        return IP(src=live, dst=victim) / ICMP(type=3, code=1) / \
            Raw(bytes(inner)[:28])
    if k == 3:      # time exceeded quoting an echo request not ours
        inner = IP(src=victim, dst=inner_dst, ttl=1) / ICMP(
            type=8, id=rnd.getrandbits(16), seq=rnd.getrandbits(16))
        return IP(src=live, dst=victim) / ICMP(type=11, code=0) / \
            Raw(bytes(inner)[:28])
    if k == 4:      # an error quoting a cut or nonsense IP header
        q = bytes(IP(src=victim, dst=inner_dst) / ICMP(type=8))
        q = q[:rnd.randint(0, 27)] if rnd.random() < 0.5 else \
            bytes([0x4f]) + os.urandom(27)
        return IP(src=live, dst=victim) / ICMP(type=3, code=rnd.randrange(16)) / \
            Raw(q)
    # truncated ICMP: a header cut short, or random type and bytes
    return IP(src=live, dst=victim, proto=1) / Raw(
        os.urandom(rnd.randint(1, 7)) if rnd.random() < 0.5 else
        bytes([rnd.randrange(256)]) + os.urandom(rnd.randint(1, 40)))


def main():
    # scapy builds slowly: a pool of 600 made first, then sent in turn
    pool = [(bytes(p), p[IP].dst) for p in
            (flood_packet() for _ in range(600))]
    t = threading.Thread(target=sniffer, daemon=True)
    t.start()
    while not os.path.exists(ready) and time.monotonic() < stop:
        time.sleep(0.01)
    sent = 0
    # about 2000 a second, in bursts of 20, until SECONDS or MAX
    while time.monotonic() < stop and sent < maxpk:
        for _ in range(20):
            b, dst = pool[sent % len(pool)]
            try:
                tx.sendto(b, (dst, 0))
                sent += 1
            except OSError:
                pass
        time.sleep(0.01)
    counts["flood"] = sent
    t.join(1)
    with lock:
        with open(out, "w") as f:
            f.write(json.dumps(counts) + "\n")


main()
