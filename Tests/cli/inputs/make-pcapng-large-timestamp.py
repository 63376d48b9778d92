#!/usr/bin/env python3
"""Writes pcapng-large-timestamp.pcapng (issue 10's reproducer): three SYNs 172.22.1.50:40000 ->
10.10.10.2:25 on a LINKTYPE_RAW interface with the default resolution (microseconds), whose
64-bit timestamps have the high words 0, 0xFFFFFFFF and 0x7FFFFFFF. The last two are ~1.8e13
and ~9e12 seconds after 1970: `replay` trapped on them (arithmetic overflow converting to
nanoseconds); it now takes them as its latest time and says so.

    Tests/cli/inputs/make-pcapng-large-timestamp.py   # rewrites the file beside this script
"""
import os
import struct


def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)


def checksum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


src, dst = bytes([172, 22, 1, 50]), bytes([10, 10, 10, 2])
tcp = struct.pack("!HHIIBBHHH", 40000, 25, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
tcp = tcp[:16] + struct.pack("!H", checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
packet = ip + tcp

shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
idb = block(1, struct.pack("<HHI", 101, 0, 65535))
epbs = b"".join(block(6, struct.pack("<IIIII", 0, high, low, len(packet), len(packet)) + packet)
                for high, low in [(0, 0x5F5E1000), (0xFFFFFFFF, 0xFFFFFFFF), (0x7FFFFFFF, 0)])
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pcapng-large-timestamp.pcapng"), "wb") as f:
    f.write(shb + idb + epbs)
