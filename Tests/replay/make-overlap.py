#!/usr/bin/env python3
"""Turns fixtures/overlap-retransmission.pcap (a real session) into one with a retransmission
that carries different bytes: a copy of the client's "NOOP\\r\\n" segment, same sequence number,
with "EXPN\\r\\n" instead, inserted right after the original. Linux TCP never sends such a thing;
an attacker's TCP stack does (overlap tricks, docs/behaviour.md §7)."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../e2e/lib"))
from inet import checksum  # noqa: E402


def main(path):
    raw = open(path, "rb").read()
    header, records, offset = raw[:24], [], 24
    while offset < len(raw):
        ts_sec, ts_usec, incl, orig = struct.unpack("<IIII", raw[offset:offset + 16])
        records.append([raw[offset:offset + 16], raw[offset + 16:offset + 16 + incl]])
        offset += 16 + incl
    out = []
    done = False
    for rec_header, frame in records:
        out.append((rec_header, frame))
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        tcp = ip[ihl:]
        doff = (tcp[12] >> 4) * 4
        payload = tcp[doff:]
        if done or payload != b"NOOP\r\n":
            continue
        new_tcp = bytearray(tcp[:doff] + b"EXPN\r\n")
        new_tcp[16:18] = b"\0\0"
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(new_tcp))
        new_tcp[16:18] = struct.pack("!H", checksum(pseudo + bytes(new_tcp)))
        new_frame = frame[:14] + ip[:ihl] + bytes(new_tcp)
        ts_sec, ts_usec, incl, orig = struct.unpack("<IIII", rec_header)
        ts_usec += 1000
        out.append((struct.pack("<IIII", ts_sec + ts_usec // 1000000, ts_usec % 1000000, len(new_frame), len(new_frame)), new_frame))
        done = True
    if not done:
        sys.exit("no NOOP segment found")
    with open(path, "wb") as f:
        f.write(header)
        for rec_header, frame in out:
            f.write(rec_header + frame)


if __name__ == "__main__":
    main(sys.argv[1])
