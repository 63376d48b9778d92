#!/usr/bin/env python3
"""Prints the TCP segments of a pcap, one per line, for golden comparison: direction (C>S when
the destination port is 25), flags, relative sequence number and the payload (Python repr).
IPv6 extension headers before TCP are walked and named (`<hbh,dst>`, `<rt0>`, `<atomic-frag>`);
a packet that is a fragment prints as `frag offset=N more=0|1 LEN bytes` (its TCP header, if it
has one, is not parsed: it is a part)."""
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
            chain = ""
        else:
            end = 40 + struct.unpack("!H", ip[4:6])[0]
            nxt, at, names = ip[6], 40, []
            while nxt in (0, 43, 60, 44):
                if nxt == 44:
                    offset, more = struct.unpack("!H", ip[at + 2:at + 4])[0] >> 3, ip[at + 3] & 1
                    if offset or more:
                        print(f"frag offset={offset * 8} more={more} {end - at - 8} bytes")
                        break
                    names.append("atomic-frag")
                    nxt, at = ip[at], at + 8
                    continue
                names.append({0: "hbh", 60: "dst"}.get(nxt) or f"rt{ip[at + 2]}")
                nxt, at = ip[at], at + (ip[at + 1] + 1) * 8
            if nxt != 6:
                continue
            tcp = ip[at:end]
            chain = f" <{','.join(names)}>" if names else ""
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        flags = tcp[13]
        payload = tcp[(tcp[12] >> 4) * 4:]
        way = "C>S" if dport == 25 else "S>C"
        if flags & 2 and way not in isn:
            isn[way] = seq
        names = "".join(n for bit, n in [(2, "S"), (1, "F"), (4, "R"), (8, "P"), (16, ".")] if flags & bit)
        rel = (seq - isn.get(way, seq)) % 2**32
        print(f"{way} [{names}] {rel}{chain} {payload!r}" if payload else f"{way} [{names}] {rel}{chain}")


if __name__ == "__main__":
    main(sys.argv[1])
