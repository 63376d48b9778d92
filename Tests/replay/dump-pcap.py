#!/usr/bin/env python3
"""Prints the TCP segments of a pcap, one per line, for golden comparison: direction (C>S when
the destination port is 25), flags, relative sequence number and the payload (Python repr)."""
import struct
import sys


def frames(path):
    raw = open(path, "rb").read()
    magic = struct.unpack("<I", raw[:4])[0]
    linktype = struct.unpack("<I", raw[20:24])[0]
    offset = 24
    while offset < len(raw):
        _, _, incl, _ = struct.unpack("<IIII", raw[offset:offset + 16])
        frame = raw[offset + 16:offset + 16 + incl]
        offset += 16 + incl
        yield frame[14:] if linktype == 1 else frame


def main(path):
    isn = {}
    for ip in frames(path):
        if ip[0] >> 4 == 4:
            ihl, proto, tcp = (ip[0] & 15) * 4, ip[9], None
            if proto != 6:
                continue
            tcp = ip[ihl:struct.unpack("!H", ip[2:4])[0]]
        else:
            if ip[6] != 6:
                continue
            tcp = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        flags = tcp[13]
        payload = tcp[(tcp[12] >> 4) * 4:]
        way = "C>S" if dport == 25 else "S>C"
        if flags & 2 and way not in isn:
            isn[way] = seq
        names = "".join(n for bit, n in [(2, "S"), (1, "F"), (4, "R"), (8, "P"), (16, ".")] if flags & bit)
        rel = (seq - isn.get(way, seq)) % 2**32
        print(f"{way} [{names}] {rel} {payload!r}" if payload else f"{way} [{names}] {rel}")


if __name__ == "__main__":
    main(sys.argv[1])
