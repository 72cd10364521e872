#!/usr/bin/python3
"""Write the watcher tests' capture files (scapy), with fixed timestamps
so that `netprobed --replay` prints the same lines on every run.

usage: mkpcap.py OUTDIR

The test network (tests/integration/watcher.sh has the config):
  segment   10.30.0.0/16, fd00:30::/64   hosts .1.5, .1.6, .1.7, .1.8
  allowed   10.20.0.10 (the MCU, anything), 10.20.0.53 udp/53,
            10.20.0.80 tcp/80-443, 10.20.0.1 icmp, 10.20.0.0/16 udp/5060,
            fd00:20::53 udp/53
  forbidden 10.40.0.9, fd00:40::9 (the internet)
  foreign   10.50.0.10, fd00:50::10 (another city's MCU)

Files (each starts at its own second after 2024-05-01T08:00:00Z):
  allowed.pcap      only allowed, internal, transit and non-IP traffic
  egress.pcap       leaving the segment outside the allow-list (+ .pcapng)
  ingress.pcap      entering it
  conference.pcap   SIP (udp, tcp), H.323, RAS to a foreign MCU
  listen_only.pcap  three calls with the MCU: no audio out, two-way,
                    video only out (3 s of real time; listen_only_after 2s)
  vlan.pcap         802.1Q and QinQ (802.1ad + 802.1Q) frames
  fragments.pcap    IPv4 and IPv6 fragments
  malformed.pcap    one frame per malformed reason the kernel lets
                    through to a capture, then a violation
  short.pcap        frames cut inside the Ethernet header or a VLAN tag
  sll.pcap          Linux cooked capture (LINKTYPE_LINUX_SLL)
  raw.pcap          raw IP (LINKTYPE_RAW)
"""
import os
import struct
import sys

import logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

# pylint: disable=wrong-import-position
from scapy.all import (Dot1AD, Dot1Q, Ether, ICMP, IP, IPv6, Raw, TCP, UDP,
                       ARP, CookedLinux, ICMPv6EchoRequest, IPv6ExtHdrFragment,
                       fragment, fragment6, wrpcap, wrpcapng)

T0 = 1714550400          # 2024-05-01T08:00:00Z
# ARP asks for an address nobody has, so a replay onto a veth is never
# answered and teaches no neighbour table a wrong address
SRC_MAC = "02:00:00:00:00:01"
DST_MAC = "02:00:00:00:00:02"   # not the capturing veth's: never answered


def eth():
    return Ether(src=SRC_MAC, dst=DST_MAC)


def stamp(pkts, start, step=0.01):
    """Give packets (or (offset, packet) pairs) their times."""
    out = []
    for i, p in enumerate(pkts):
        if isinstance(p, tuple):
            t, p = p
            p.time = start + t
        else:
            p.time = start + i * step
        out.append(p)
    return out


def allowed():
    return [
        eth() / IP(src="10.30.1.5", dst="10.20.0.53") /
        UDP(sport=33333, dport=53) / Raw(b"\x12\x34" + b"\x00" * 10),
        eth() / IP(src="10.20.0.53", dst="10.30.1.5") /
        UDP(sport=53, dport=33333) / Raw(b"\x12\x34" + b"\x80" * 10),
        eth() / IP(src="10.30.1.5", dst="10.20.0.80") /
        TCP(sport=40000, dport=80, flags="S"),
        eth() / IP(src="10.20.0.80", dst="10.30.1.5") /
        TCP(sport=80, dport=40000, flags="SA"),
        eth() / IP(src="10.30.1.5", dst="10.20.0.80") /
        TCP(sport=40001, dport=443, flags="S"),
        eth() / IP(src="10.30.1.5", dst="10.20.0.1") / ICMP(id=1, seq=1),
        eth() / IP(src="10.20.0.1", dst="10.30.1.5") /
        ICMP(type=0, id=1, seq=1),
        eth() / IP(src="10.30.1.5", dst="10.20.0.10") /
        TCP(sport=40002, dport=8443, flags="S"),
        # internal and transit: not the segment's business
        eth() / IP(src="10.30.1.5", dst="10.30.1.6") /
        TCP(sport=40003, dport=22, flags="S"),
        eth() / IP(src="10.40.0.9", dst="10.20.0.53") /
        UDP(sport=1234, dport=53),
        Ether(src=SRC_MAC, dst="ff:ff:ff:ff:ff:ff") /
        ARP(psrc="10.30.1.99", pdst="10.30.0.254"),
        eth() / IPv6(src="fd00:30::5", dst="fd00:20::53") /
        UDP(sport=33334, dport=53) / Raw(b"\x00" * 12),
        eth() / IPv6(src="fd00:20::53", dst="fd00:30::5") /
        UDP(sport=53, dport=33334) / Raw(b"\x00" * 12),
    ]


def egress():
    syn = TCP(sport=41000, dport=443, flags="S")
    return [
        eth() / IP(src="10.30.1.5", dst="10.40.0.9") / syn,
        eth() / IP(src="10.30.1.5", dst="10.40.0.9") / syn,
        eth() / IP(src="10.30.1.5", dst="10.40.0.9") / syn,
        # an allowed host, but not this protocol or port
        eth() / IP(src="10.30.1.5", dst="10.20.0.53") /
        TCP(sport=41001, dport=53, flags="S"),
        eth() / IP(src="10.30.1.5", dst="10.20.0.80") /
        TCP(sport=41002, dport=22, flags="S"),
        eth() / IP(src="10.30.1.5", dst="10.40.0.9") / ICMP(id=7, seq=1),
        eth() / IPv6(src="fd00:30::5", dst="fd00:40::9") /
        UDP(sport=41003, dport=123) / Raw(b"\x23" + b"\x00" * 47),
    ]


def ingress():
    return [
        eth() / IP(src="10.40.0.9", dst="10.30.1.5") /
        TCP(sport=40000, dport=22, flags="S"),
        eth() / IP(src="10.40.0.9", dst="10.30.1.5") /
        TCP(sport=40000, dport=22, flags="S"),
        eth() / IP(src="10.20.0.53", dst="10.30.1.5") /
        UDP(sport=53, dport=33335) / Raw(b"\x00" * 12),
        eth() / IP(src="10.20.0.80", dst="10.30.1.5") /
        TCP(sport=22, dport=41004, flags="SA"),
        eth() / IPv6(src="fd00:40::9", dst="fd00:30::5") /
        ICMPv6EchoRequest(id=3, seq=1),
        eth() / IP(src="10.40.0.9", dst="10.30.1.5") / ICMP(id=9, seq=1),
    ]


SIP_OPTIONS = (b"OPTIONS sip:mcu@%s SIP/2.0\r\nVia: SIP/2.0/UDP 10.30.1.6:5060"
               b"\r\nCall-ID: 1@10.30.1.6\r\nCSeq: 1 OPTIONS\r\n"
               b"Content-Length: 0\r\n\r\n")


def conference():
    return [
        eth() / IP(src="10.30.1.6", dst="10.50.0.10") /
        UDP(sport=5060, dport=5060) / Raw(SIP_OPTIONS % b"10.50.0.10"),
        eth() / IP(src="10.50.0.10", dst="10.30.1.6") /
        UDP(sport=5060, dport=5060) /
        Raw(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
        eth() / IP(src="10.30.1.6", dst="10.50.0.10") /
        TCP(sport=40010, dport=5061, flags="S"),
        eth() / IP(src="10.30.1.6", dst="10.50.0.10") /
        TCP(sport=40011, dport=1720, flags="S"),
        # H.225.0 RAS GatekeeperRequest-ish bytes to the RAS port
        eth() / IP(src="10.30.1.6", dst="10.50.0.10") /
        UDP(sport=1719, dport=1719) / Raw(b"\x00\x80\x06\x00\x08\x91\x4a"),
        # the allow-list lets SIP cross the extranet, but 10.20.0.99 is
        # not the city's MCU
        eth() / IP(src="10.30.1.6", dst="10.20.0.99") /
        UDP(sport=5060, dport=5060) / Raw(SIP_OPTIONS % b"10.20.0.99"),
        # the city's MCU: fine
        eth() / IP(src="10.30.1.6", dst="10.20.0.10") /
        UDP(sport=5060, dport=5060) / Raw(SIP_OPTIONS % b"10.20.0.10"),
        eth() / IP(src="10.30.1.6", dst="10.20.0.10") /
        TCP(sport=40012, dport=1720, flags="S"),
        # two outsiders signalling across the watched link
        eth() / IP(src="10.60.0.1", dst="10.60.0.2") /
        UDP(sport=5060, dport=5060) / Raw(SIP_OPTIONS % b"10.60.0.2"),
        eth() / IPv6(src="fd00:30::5", dst="fd00:50::10") /
        UDP(sport=5060, dport=5060) / Raw(SIP_OPTIONS % b"[fd00:50::10]"),
    ]


def rtp(pt, seq, ssrc, marker=0):
    return (struct.pack("!BBHII", 0x80, (marker << 7) | pt, seq, seq * 160,
                        ssrc) + b"\xd5" * 20)


def rtcp_rr(ssrc):
    # RFC 3550 6.4.2 receiver report, no blocks: 0x80, PT 201
    return struct.pack("!BBHI", 0x80, 201, 1, ssrc)


def listen_only():
    """Three calls with the MCU over 3 s (listen_only_after: 2s):
    A (10.30.1.6) receives audio and sends only RTCP: flagged at 2.0 s;
    B (10.30.1.7) talks back with PCMA every 100 ms: never flagged;
    C (10.30.1.8) sends video (PT 96) only: flagged at 2.03 s."""
    mcu = "10.20.0.10"
    pk = []
    for i in range(30):
        t = i * 0.1
        pk.append((t, eth() / IP(src=mcu, dst="10.30.1.6") /
                   UDP(sport=40000, dport=50000) / Raw(rtp(0, i, 0xa))))
        pk.append((t + 0.01, eth() / IP(src=mcu, dst="10.30.1.7") /
                   UDP(sport=40002, dport=50002) / Raw(rtp(0, i, 0xb))))
        pk.append((t + 0.02, eth() / IP(src="10.30.1.7", dst=mcu) /
                   UDP(sport=50002, dport=40002) / Raw(rtp(8, i, 0xb0))))
        pk.append((t + 0.03, eth() / IP(src=mcu, dst="10.30.1.8") /
                   UDP(sport=40004, dport=50004) / Raw(rtp(0, i, 0xc))))
        pk.append((t + 0.04, eth() / IP(src="10.30.1.8", dst=mcu) /
                   UDP(sport=50006, dport=40006) /
                   Raw(rtp(96, i, 0xc0, marker=1))))
        if i % 10 == 5:
            pk.append((t + 0.05, eth() / IP(src="10.30.1.6", dst=mcu) /
                       UDP(sport=50001, dport=40001) / Raw(rtcp_rr(0xa0))))
    pk.sort(key=lambda x: x[0])
    return pk


def vlan():
    return [
        Ether(src=SRC_MAC, dst=DST_MAC) / Dot1Q(vlan=30) /
        IP(src="10.30.1.5", dst="10.40.0.9") /
        TCP(sport=42000, dport=8080, flags="S"),
        Ether(src=SRC_MAC, dst=DST_MAC, type=0x88a8) / Dot1AD(vlan=100) /
        Dot1Q(vlan=30) / IP(src="10.30.1.5", dst="10.40.0.9") /
        TCP(sport=42001, dport=8081, flags="S"),
        Ether(src=SRC_MAC, dst=DST_MAC) / Dot1Q(vlan=30) /
        IP(src="10.30.1.5", dst="10.20.0.53") /
        UDP(sport=42002, dport=53) / Raw(b"\x00" * 12),
        Ether(src=SRC_MAC, dst=DST_MAC, type=0x88a8) / Dot1AD(vlan=100) /
        Dot1Q(vlan=31) / IPv6(src="fd00:30::5", dst="fd00:40::9") /
        TCP(sport=42003, dport=8082, flags="S"),
    ]


def fragments():
    big = Raw(b"\x00" * 3000)
    out = []
    for p in fragment(IP(src="10.30.1.5", dst="10.20.0.53", id=100) /
                      UDP(sport=43000, dport=53) / big, fragsize=1000):
        out.append(eth() / p)
    for p in fragment(IP(src="10.30.1.5", dst="10.40.0.9", id=101) /
                      UDP(sport=43001, dport=9999) / big, fragsize=1000):
        out.append(eth() / p)
    for dst, dport, ident in (("fd00:20::53", 53, 7), ("fd00:40::9", 9999, 8)):
        pkt = (IPv6(src="fd00:30::5", dst=dst) /
               IPv6ExtHdrFragment(id=ident) /
               UDP(sport=43002, dport=dport) / big)
        for p in fragment6(pkt, 1280):
            out.append(eth() / p)
    return out


def ip4(proto=17, ihl=5, total=None, payload=b"", frag=0, ver=4):
    """An IPv4 header by hand (for lying length fields)."""
    hdr_len = ihl * 4 if ihl >= 5 else 20
    if total is None:
        total = hdr_len + len(payload)
    hdr = struct.pack("!BBHHHBB2s4s4s", (ver << 4) | ihl, 0, total, 1, frag,
                      64, proto, b"\x00\x00", bytes([10, 30, 1, 5]),
                      bytes([10, 40, 0, 9]))
    return hdr + b"\x00" * (hdr_len - 20) + payload


def ip6(nh=17, plen=None, payload=b""):
    if plen is None:
        plen = len(payload)
    src = bytes.fromhex("fd000030000000000000000000000005")
    dst = bytes.fromhex("fd000040000000000000000000000009")
    return struct.pack("!IHBB", 0x60000000, plen, nh, 64) + src + dst + payload


def frame(payload, ethertype=0x0800):
    return Ether(src=SRC_MAC, dst=DST_MAC, type=ethertype) / Raw(payload)


def malformed():
    udp_hdr = struct.pack("!HHHH", 1111, 2222, 8 + 4, 0) + b"abcd"
    dstopt = b"\x3c\x00" + b"\x01\x04\x00\x00\x00\x00"   # next: dstopts
    return [
        frame(ip4(ihl=3, payload=udp_hdr)),                 # header length
        frame(ip4(total=1000, payload=udp_hdr)),            # total length
        frame(ip4(payload=udp_hdr)[:10]),                   # ipv4 truncated
        frame(ip4(proto=6, payload=b"\x00" * 10)),          # tcp truncated
        frame(ip4(proto=6, payload=struct.pack(
            "!HHIIBBHHH", 1, 2, 0, 0, 3 << 4, 2, 0, 0, 0))),  # data offset 3
        frame(ip4(payload=struct.pack("!HHHH", 1, 2, 4, 0))),   # udp length
        frame(ip4(payload=b"\x00" * 4)),                    # udp truncated
        frame(ip4(proto=1, payload=b"\x08\x00\x00\x00")),   # icmp truncated
        frame(ip6(plen=500, payload=udp_hdr), 0x86dd),      # payload length
        frame(ip6(payload=udp_hdr)[:20], 0x86dd),           # ipv6 truncated
        frame(ip6(nh=60, payload=dstopt * 8 + b"\x11\x00" + b"\x00" * 6 +
                  udp_hdr), 0x86dd),                        # 9 ext headers
        frame(ip6(nh=0, payload=b"\x11\x0a" + b"\x00" * 6), 0x86dd),
        # five stacked tags
        Ether(src=SRC_MAC, dst=DST_MAC, type=0x8100) / Raw(
            b"\x00\x1e\x81\x00" * 4 + b"\x00\x1e\x08\x00" + ip4(
                payload=udp_hdr)),
        frame(ip4(ver=6, payload=udp_hdr)),                 # ip version
        frame(ip4(frag=8189, payload=b"\x00" * 100)),       # oversize
        # and life goes on
        Ether(src=SRC_MAC, dst="ff:ff:ff:ff:ff:ff") /
        ARP(psrc="10.30.1.99", pdst="10.30.0.254"),
        eth() / IP(src="10.30.1.5", dst="10.40.0.9") /
        UDP(sport=44000, dport=7) / Raw(b"echo"),
    ]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    def w(name, pkts, start, linktype=None, **kw):
        path = os.path.join(out, name)
        pkts = stamp(pkts, T0 + start, **kw)
        if name.endswith(".pcapng"):
            wrpcapng(path, pkts)
        elif linktype is not None:
            wrpcap(path, pkts, linktype=linktype)
        else:
            wrpcap(path, pkts)

    w("allowed.pcap", allowed(), 0)
    w("egress.pcap", egress(), 100)
    w("egress.pcapng", egress(), 100)
    w("ingress.pcap", ingress(), 200)
    w("conference.pcap", conference(), 300)
    w("listen_only.pcap", listen_only(), 400)
    w("vlan.pcap", vlan(), 500)
    w("fragments.pcap", fragments(), 600)
    w("malformed.pcap", malformed(), 700)
    # shorter than the Ethernet header, and a VLAN tag cut short: the
    # kernel drops both before any capture, so they are --replay only
    w("short.pcap", [Raw(bytes(Ether(src=SRC_MAC, dst=DST_MAC))[:10]),
                     Raw(bytes(Ether(src=SRC_MAC, dst=DST_MAC,
                                     type=0x8100)) + b"\x00\x1e")],
      800, linktype=1)
    w("sll.pcap", [CookedLinux(pkttype=4, lladdrtype=1, lladdrlen=6,
                               src=b"\x02\x00\x00\x00\x00\x01\x00\x00",
                               proto=0x0800) /
                   IP(src="10.30.1.5", dst="10.40.0.9") /
                   TCP(sport=45000, dport=3389, flags="S")], 900,
      linktype=113)
    w("raw.pcap", [IP(src="10.30.1.5", dst="10.40.0.9") /
                   UDP(sport=45001, dport=5353) / Raw(b"\x00" * 12),
                   IPv6(src="fd00:30::5", dst="fd00:40::9") /
                   TCP(sport=45002, dport=25, flags="S")], 1000,
      linktype=101)


if __name__ == "__main__":
    main()
