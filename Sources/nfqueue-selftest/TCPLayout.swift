// Just enough IPv4/IPv6 + TCP for the selftest's edits. The real views and checksums live in
// PacketWire, which this executable must not import: it proves NFQueue on its own.

/// Where the parts of an IPv4/IPv6 TCP packet are (no IPv6 extension headers).
struct TCPLayout {
    var version: UInt8
    var tcpOffset: Int
    var payloadOffset: Int
    /// End of the IP packet (its total length), ≤ the bytes lent.
    var end: Int
    var sourcePort: UInt16
    var destinationPort: UInt16
    var sequence: UInt32

    var payloadLength: Int { end - payloadOffset }

    init?(_ b: inout MutableSpan<UInt8>) {
        guard b.count >= 20 else { return nil }
        version = b[0] >> 4
        switch version {
        case 4:
            let ihl = Int(b[0] & 0x0f) * 4
            guard ihl >= 20, b[9] == 6 else { return nil }
            tcpOffset = ihl
            end = Int(b.be16(at: 2))
        case 6:
            guard b.count >= 40, b[6] == 6 else { return nil }
            tcpOffset = 40
            end = 40 + Int(b.be16(at: 4))
        default:
            return nil
        }
        guard end <= b.count, end >= tcpOffset + 20 else { return nil }
        payloadOffset = tcpOffset + Int(b[tcpOffset + 12] >> 4) * 4
        guard payloadOffset >= tcpOffset + 20, payloadOffset <= end else { return nil }
        sourcePort = b.be16(at: tcpOffset)
        destinationPort = b.be16(at: tcpOffset + 2)
        sequence = UInt32(b.be16(at: tcpOffset + 4)) << 16 | UInt32(b.be16(at: tcpOffset + 6))
    }

    func payloadStarts(with prefix: String, in b: inout MutableSpan<UInt8>) -> Bool {
        let p = Array(prefix.utf8)
        guard payloadLength >= p.count else { return false }
        for i in 0..<p.count where b[payloadOffset + i] != p[i] { return false }
        return true
    }

    /// Replaces every occurrence of `old` in the payload with `new` (same length); returns how
    /// many.
    func replaceAll(_ old: String, with new: String, in b: inout MutableSpan<UInt8>) -> Int {
        let o = Array(old.utf8), n = Array(new.utf8)
        precondition(o.count == n.count)
        var count = 0
        var i = payloadOffset
        while i + o.count <= end {
            var match = true
            for k in 0..<o.count where b[i + k] != o[k] { match = false; break }
            if match {
                for k in 0..<n.count { b[i + k] = n[k] }
                count += 1
                i += o.count
            } else {
                i += 1
            }
        }
        return count
    }

    /// Cuts the packet to `payloadBytes` of payload: IP length field, IPv4 header checksum.
    mutating func truncatePayload(to payloadBytes: Int, in b: inout MutableSpan<UInt8>) {
        end = payloadOffset + payloadBytes
        if version == 4 {
            b.setBE16(UInt16(end), at: 2)
            b.setBE16(0, at: 10)
            var sum: UInt32 = 0
            add(&sum, b, 0..<tcpOffset)
            b.setBE16(~fold(sum), at: 10)
        } else {
            b.setBE16(UInt16(end - 40), at: 4)
        }
    }

    /// Full TCP checksum over the pseudo-header and the segment (right whatever the kernel left
    /// in the field, CHECKSUM_PARTIAL included).
    func fixTCPChecksum(in b: inout MutableSpan<UInt8>) {
        let length = end - tcpOffset
        var sum: UInt32 = 0
        if version == 4 {
            add(&sum, b, 12..<20)
        } else {
            add(&sum, b, 8..<40)
        }
        sum += 6 + UInt32(length >> 16) + UInt32(length & 0xffff)
        b.setBE16(0, at: tcpOffset + 16)
        add(&sum, b, tcpOffset..<end)
        b.setBE16(~fold(sum), at: tcpOffset + 16)
    }

    /// Checks the TCP checksum (nil when the kernel left it unfinished is the caller's concern).
    func tcpChecksumIsValid(in b: inout MutableSpan<UInt8>) -> Bool {
        let length = end - tcpOffset
        var sum: UInt32 = 0
        add(&sum, b, version == 4 ? 12..<20 : 8..<40)
        sum += 6 + UInt32(length >> 16) + UInt32(length & 0xffff)
        add(&sum, b, tcpOffset..<end)
        return fold(sum) == 0xffff
    }
}

/// RFC 1071 one's-complement sum of big-endian 16-bit words (an odd last byte padded).
private func add(_ sum: inout UInt32, _ b: borrowing MutableSpan<UInt8>, _ range: Range<Int>) {
    var i = range.lowerBound
    while i + 1 < range.upperBound {
        sum += UInt32(b[i]) << 8 | UInt32(b[i + 1])
        if sum > 0xffff_0000 { sum = (sum & 0xffff) + (sum >> 16) }
        i += 2
    }
    if i < range.upperBound { sum += UInt32(b[i]) << 8 }
}

private func fold(_ sum: UInt32) -> UInt16 {
    var s = sum
    while s >> 16 != 0 { s = (s & 0xffff) + (s >> 16) }
    return UInt16(s)
}

extension MutableSpan where Element == UInt8 {
    func be16(at i: Int) -> UInt16 { UInt16(self[i]) << 8 | UInt16(self[i + 1]) }

    mutating func setBE16(_ v: UInt16, at i: Int) {
        self[i] = UInt8(v >> 8)
        self[i + 1] = UInt8(v & 0xff)
    }
}
