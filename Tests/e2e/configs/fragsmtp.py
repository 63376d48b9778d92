#!/usr/bin/env python3
"""An SMTP client over raw sockets (Python's standard library only) that sends a command in IP
fragments, for Tests/e2e/real-configs.sh (lab client namespace, as root):

  fragsmtp.py --src 172.22.1.50 --dst 172.22.1.110 --sport 40025 [--command "HELO fragmented.test"]

It opens the TCP connection itself (SYN, SYN-ACK, ACK; the shell adds an iptables rule so that
the client's kernel does not answer the SYN-ACK with an RST), reads the 220 greeting, sends the
command in one TCP segment cut into two IPv4 fragments (the first carries the TCP header and 4
bytes), reads the reply, then QUIT (unfragmented) and 221, and closes with RST (which the namespace's rule against the kernel's RSTs may drop: the
session then times out on the router).
Prints what it sent and got and ends with "RESULT ok REPLY" (exit 0) or "RESULT fail: why" (1).
"""
import argparse
import os
import random
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../lib"))
from inet import checksum  # noqa: E402


def ip_header(src, dst, ident, length, frag, proto=6):
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, ident, frag, 64, proto, 0,
                       socket.inet_aton(src), socket.inet_aton(dst))
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:]


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b""):
    head = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(head) + len(payload))
    sum_ = checksum(pseudo + head + payload)
    return head[:16] + struct.pack("!H", sum_) + head[18:] + payload


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Connection:
    def __init__(self, a):
        self.a = a
        self.out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.inp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.seq = random.randrange(1 << 32)
        self.ack = 0
        self.ident = random.randrange(1 << 16)
        self.received = b""

    def send(self, flags, payload=b"", fragment=False):
        seg = tcp_segment(self.a.src, self.a.dst, self.a.sport, self.a.dport, self.seq, self.ack, flags, payload)
        self.ident = (self.ident + 1) & 0xFFFF
        if fragment:
            first, rest = seg[:24], seg[24:]
            self.out.sendto(ip_header(self.a.src, self.a.dst, self.ident, len(first), 0x2000) + first, (self.a.dst, 0))
            time.sleep(0.05)
            self.out.sendto(ip_header(self.a.src, self.a.dst, self.ident, len(rest), 24 // 8) + rest, (self.a.dst, 0))
            print("C: %r in 2 fragments (%d + %d bytes of IP payload)" % (payload, len(first), len(rest)), flush=True)
        else:
            self.out.sendto(ip_header(self.a.src, self.a.dst, self.ident, len(seg), 0x4000) + seg, (self.a.dst, 0))
        self.seq = (self.seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF

    def segment(self, timeout):
        """The next segment of this connection: (flags, seq, payload), or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.inp], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            packet = self.inp.recv(65535)
            ihl = (packet[0] & 0x0F) * 4
            if socket.inet_ntoa(packet[12:16]) != self.a.dst:
                continue
            tcp = packet[ihl:]
            sport, dport, seq, _ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
            if sport != self.a.dport or dport != self.a.sport:
                continue
            return flags, seq, tcp[(off >> 4) * 4:]
        return None

    def reply(self, timeout=10):
        """A whole reply line (the last line of a multi-line reply), ACKing what arrives."""
        while b"\r\n" not in self.received or not self._complete():
            got = self.segment(timeout)
            if got is None:
                raise TimeoutError("no reply (have %r)" % self.received)
            flags, seq, payload = got
            if flags & RST:
                raise ConnectionResetError("RST from the server side")
            if payload and seq == self.ack:
                self.received += payload
                self.ack = (self.ack + len(payload)) & 0xFFFFFFFF
                self.send(ACK)
        text, _, self.received = self.received.rpartition(b"\r\n")
        line = text.split(b"\r\n")[-1].decode("latin-1")
        print("S: %s" % line, flush=True)
        return line

    def _complete(self):
        lines = self.received.split(b"\r\n")[:-1]
        return any(len(l) >= 4 and l[3:4] == b" " for l in lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dport", type=int, default=25)
    p.add_argument("--command", default="HELO fragmented.client.test")
    a = p.parse_args()
    c = Connection(a)
    try:
        c.send(SYN)
        got = c.segment(10)
        if got is None or got[0] & (SYN | ACK) != (SYN | ACK):
            raise ConnectionError("no SYN-ACK (%r)" % (got,))
        c.ack = (got[1] + 1) & 0xFFFFFFFF
        c.send(ACK)
        greeting = c.reply()
        if not greeting.startswith("220"):
            raise ConnectionError("greeting %r" % greeting)
        c.send(PSH | ACK, (a.command + "\r\n").encode(), fragment=True)
        answer = c.reply()
        c.send(PSH | ACK, b"QUIT\r\n")
        c.reply()
        try:
            c.send(RST | ACK)  # the client namespace's rule against its kernel's RSTs may refuse it
        except PermissionError:
            pass
    except (OSError, ConnectionError, TimeoutError) as e:
        print("RESULT fail: %s: %s" % (type(e).__name__, e))
        return 1
    print("RESULT ok %s" % answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
