"""The Internet checksum (RFC 1071) for the raw-packet helpers of the tests (synflood.py,
fragsmtp.py, Tests/replay/make-overlap.py). Import it with the folder of this file on sys.path."""
import struct


def checksum(data):
    """The one's complement of the one's complement sum of `data`'s 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
