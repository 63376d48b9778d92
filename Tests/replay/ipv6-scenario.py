#!/usr/bin/env python3
"""IPv6 client scenarios with extension headers for the capture fixtures (make-captures.sh).

A raw TCP client (Tests/e2e/attacks/tcpraw.py: scapy frames on an AF_PACKET socket, the client
kernel's RSTs for its ports dropped by make-captures.sh) talks SMTP over IPv6 to Postfix and puts
extension headers on its packets, as a host or a middlebox may:

  ipv6-extension-headers  the SYN with a hop-by-hop header (PadN), EHLO with destination options,
                          MAIL with a type-0 routing header with no segments left, `EXPN root`
                          behind hop-by-hop and destination options, RCPT as an atomic fragment
                          (RFC 6946), the rest plain: the inspector walks every header, masks EXPN
                          at its place and fixes the checksum
  ipv6-fragment           EHLO, then QUIT cut into two IPv6 fragments: the server reassembles
                          them; the inspector drops fragments (in the lab conntrack reassembles
                          them before the queue: Tests/e2e/attacks.sh legit-fragmented, gen6)

  ipv6-scenario.py NAME IFACE ROUTER-MAC CLIENT-ADDR SERVER-ADDR
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "attacks"))

from scapy.all import (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,  # noqa: E402
                       IPv6ExtHdrRouting, PadN, Raw, TCP)
import tcpraw  # noqa: E402


class ExtConn(tcpraw.Conn):
    """A Conn whose next packets carry the extension headers set in `ext` (a function of the
    scapy IPv6 header; None: plain)."""
    ext = None

    def ip(self, src=None, dst=None, **kw):
        base = IPv6(src=src or self.src, dst=dst or self.dst, **kw)
        return self.ext(base) if self.ext else base


def hbh(base):
    return base / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00" * 4)])


def dest(base):
    return base / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)])


def routing0(base):
    return base / IPv6ExtHdrRouting(type=0, segleft=0, addresses=[base.dst])


def hbh_dest(base):
    return base / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\x00" * 4)]) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 4)])


def atomic(base):
    return base / IPv6ExtHdrFragment(offset=0, m=0, id=0x5151)


def expect(c, code, what):
    r = c.reply(5.0)
    if r is None or not r.startswith(code):
        raise SystemExit("%s: expected %s, got %r" % (what, code, r))
    print("S: %s" % r.replace("\n", " | "), flush=True)


def command(c, ext, line, code):
    c.ext = ext
    print("C: %s (%s)" % (line.strip(), ext.__name__ if ext else "plain"), flush=True)
    if not c.send(line.encode()):
        raise SystemExit("%s not acknowledged" % line.strip())
    c.ext = None
    expect(c, code, line.split()[0])


def extension_headers(c):
    c.ext = hbh
    if not c.connect():
        raise SystemExit("no handshake")
    c.ext = None
    expect(c, "220", "greeting")
    command(c, dest, "EHLO client.example.org\r\n", "250")
    command(c, routing0, "MAIL FROM:<alice@example.org>\r\n", "250")
    command(c, hbh_dest, "EXPN root\r\n", "500")
    command(c, atomic, "RCPT TO:<bob@example.test>\r\n", "250")
    command(c, None, "DATA\r\n", "354")
    command(c, dest, "Subject: extension headers\r\n\r\nbody behind destination options\r\n.\r\n", "250")
    command(c, None, "QUIT\r\n", "221")


def fragment(c):
    if not c.connect():
        raise SystemExit("no handshake")
    expect(c, "220", "greeting")
    command(c, None, "EHLO client.example.org\r\n", "250")
    line = b"QUIT\r\n"
    seq = c.snd_nxt
    c.snd_nxt = tcpraw.sadd(seq, len(line))
    print("C: QUIT (in two IPv6 fragments)", flush=True)
    c.send_raw(c.segment("PA", seq=seq, payload=line), fragment_at=24)  # the whole TCP header in the first (RFC 7112)
    expect(c, "221", "QUIT")


def main():
    name, iface, router_mac, client, server = sys.argv[1:6]
    link = tcpraw.Link(iface, router_mac)
    c = ExtConn(link, client, server, 20000 + os.getpid() % 9000)
    try:
        {"ipv6-extension-headers": extension_headers, "ipv6-fragment": fragment}[name](c)
        time.sleep(0.3)
        print("done", flush=True)
    finally:
        link.stop = True


if __name__ == "__main__":
    main()
