#!/usr/bin/env python3
"""A bounded SYN flood for the e2e tests (daemon-config.sh's flood, starttls.sh's forged SYN), run
in the lab's client namespace only.

  synflood.py --src 172.22.1.66 --dst 172.22.1.110 --port 25 --count 240 --rate 80
  synflood.py --src 2001:db8:22:1::50 --dst 2001:db8:10:10::5 --count 1 --rate 1 --first-port 41000

Sends COUNT TCP SYNs from raw sockets that write the IP header themselves (IPv4: IP_HDRINCL;
IPv6, when the addresses are IPv6 ones: IPPROTO_RAW), source ports 20000, 20001, ..., at RATE
per second, and stops: the flood is bounded in count and time. The caller makes sure the
source address's kernel does not answer the SYN-ACKs (an iptables rule in the client namespace
dropping its RSTs), so that every connection stays half-open at the router.
Prints "sent N SYNs in S s".
"""
import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../lib"))
from inet import checksum  # noqa: E402


TCP_LEN = 20


def tcp_syn(pseudo, sport, dport, seq):
    """A SYN's TCP header (no options), its checksum over `pseudo` (the IP pseudo-header) and it."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    return tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]


def syn4(src, dst, sport, dport, seq):
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = tcp_syn(s + d + struct.pack("!BBH", 0, socket.IPPROTO_TCP, TCP_LEN), sport, dport, seq)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), sport & 0xFFFF, 0, 64, socket.IPPROTO_TCP, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def syn6(src, dst, sport, dport, seq):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    tcp = tcp_syn(s + d + struct.pack("!I3xB", TCP_LEN, socket.IPPROTO_TCP), sport, dport, seq)   # RFC 8200 §8.1
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), socket.IPPROTO_TCP, 64, s, d)
    return ip + tcp


def raw_socket(v6):
    """A raw socket whose packets carry their own IP header (IPPROTO_RAW implies it for IPv6)."""
    if v6:
        return socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--first-port", type=int, default=20000)
    a = p.parse_args()
    if not (0 < a.count <= 5000 and 0 < a.rate <= 5000):
        print("count and rate must be in 1..5000", file=sys.stderr)
        return 2
    v6 = ":" in a.src
    if v6 != (":" in a.dst):
        print("--src and --dst must be of one family", file=sys.stderr)
        return 2
    syn = syn6 if v6 else syn4
    s = raw_socket(v6)
    t0 = time.monotonic()
    for i in range(a.count):
        due = t0 + i / a.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        s.sendto(syn(a.src, a.dst, a.first_port + i, a.port, 1000000 + i * 7919), (a.dst, 0))
    print("sent %d SYNs in %.2f s" % (a.count, time.monotonic() - t0), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
