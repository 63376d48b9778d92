// In-place edits of a parsed packet's TCP payload. Offsets are relative to the first payload
// byte, like nfq_tcp_mangle_ipv4's. Same-length edits never move sequence numbers, so they need
// no conntrack seqadj (docs/nfqueue.md §3); only truncation changes the length, and then the
// sender simply retransmits what was cut.
//
// Passing bytes the packet was not parsed from, or a range outside the payload, is a caller bug
// and traps: the edits trust the lengths checked at parse time.

/// How an edit brings the TCP checksum up to date.
public enum ChecksumUpdate: Sendable {
    /// RFC 1624 update from the bytes that changed: right when the checksum was valid before.
    case incremental
    /// Full recompute of the IPv4 header and TCP checksums: for packets the kernel queued with
    /// `CSUMNOTREADY`, whose TCP field holds only a partial sum.
    case full
    /// Leave the checksum stale; the caller makes several edits and then calls
    /// `recomputeChecksums(in:)` once.
    case deferred
}

extension TCPPacket {
    /// Overwrites payload bytes `range` with `mask` (same length; `x` by default, docs/behaviour.md §2).
    public func maskPayload(_ range: Range<Int>, with mask: UInt8 = UInt8(ascii: "x"),
                            in bytes: inout MutableSpan<UInt8>, checksum: ChecksumUpdate = .incremental) {
        let absolute = absoluteRange(range, bytesCount: bytes.count)
        let oldSum = InternetChecksum.sum(bytes.span.extracting(absolute))
        for i in absolute {
            bytes[i] = mask
        }
        finishEdit(absolute, oldSum: oldSum, in: &bytes, checksum: checksum)
    }

    /// Overwrites payload bytes from `offset` with `replacement` (same length), e.g. to rewrite a
    /// retransmission to the bytes first seen (docs/behaviour.md §7).
    public func replacePayload(at offset: Int, with replacement: Span<UInt8>,
                               in bytes: inout MutableSpan<UInt8>, checksum: ChecksumUpdate = .incremental) {
        let absolute = absoluteRange(offset..<(offset + replacement.count), bytesCount: bytes.count)
        let oldSum = InternetChecksum.sum(bytes.span.extracting(absolute))
        for i in 0..<replacement.count {
            bytes[absolute.lowerBound + i] = replacement[i]
        }
        finishEdit(absolute, oldSum: oldSum, in: &bytes, checksum: checksum)
    }

    /// Cuts the payload at `offset` (relative to the payload start): sets the IPv4 total length
    /// (and header checksum) or IPv6 payload length, clears FIN when bytes were cut (the FIN
    /// came after them), recomputes the TCP checksum in full, and updates `self` to describe
    /// the shorter packet. Returns the new packet length: hand the kernel that many bytes; the
    /// sender retransmits the rest. Cutting nothing changes nothing.
    @discardableResult
    public mutating func truncatePayload(at offset: Int, in bytes: inout MutableSpan<UInt8>) -> Int {
        precondition(offset >= 0 && offset <= payloadLength, "truncation outside the payload")
        precondition(bytes.count >= totalLength, "not the bytes this packet was parsed from")
        guard offset < payloadLength else { return totalLength }
        let newLength = payloadOffset + offset
        shorten(to: newLength, in: &bytes)
        if tcp.flags.contains(.fin) {
            tcp.flags.remove(.fin)
            let flagsByte = tcpOffset + TCPHeader.Field.dataOffsetAndFlags + 1
            bytes[flagsByte] &= ~UInt8(truncatingIfNeeded: TCPFlags.fin.rawValue)
        }
        recomputeTCPChecksum(in: &bytes)
        return newLength
    }

    /// Removes the first `count` payload bytes: the rest moves to the front, the sequence number
    /// moves forward by `count`, the IP length shrinks, and the checksums are recomputed in full;
    /// `self` describes the shorter packet. For bytes a receiver must not get as they are (ones
    /// nobody can vouch for) in a segment whose later bytes it must. Returns the new length.
    @discardableResult
    public mutating func trimPayloadFront(_ count: Int, in bytes: inout MutableSpan<UInt8>) -> Int {
        precondition(count >= 0 && count <= payloadLength, "trim outside the payload")
        precondition(bytes.count >= totalLength, "not the bytes this packet was parsed from")
        guard count > 0 else { return totalLength }
        let start = payloadOffset, kept = payloadLength - count
        for k in 0..<kept { bytes[start + k] = bytes[start + count + k] }
        let newLength = totalLength - count
        shorten(to: newLength, in: &bytes)
        tcp.sequenceNumber = tcp.sequenceNumber + count
        let field = tcpOffset + TCPHeader.Field.sequenceNumber
        let raw = tcp.sequenceNumber.rawValue
        bytes.setBE16(UInt16(truncatingIfNeeded: raw >> 16), at: field)
        bytes.setBE16(UInt16(truncatingIfNeeded: raw), at: field + 2)
        recomputeTCPChecksum(in: &bytes)
        return newLength
    }

    /// Sets the IPv4 total length (and header checksum) or the IPv6 payload length for a packet
    /// of `newLength` bytes, and makes `self` describe it. The TCP checksum is the caller's.
    private mutating func shorten(to newLength: Int, in bytes: inout MutableSpan<UInt8>) {
        switch network {
        case .v4(var ip):
            ip.setTotalLength(newLength, in: &bytes)
            ip.recomputeChecksum(in: &bytes)
            network = .v4(ip)
        case .v6(var ip):
            ip.setPayloadLength(newLength - IPv6Header.fixedLength, in: &bytes)
            network = .v6(ip)
        }
    }

    /// Payload-relative `range` as packet offsets, after checking it lies in the payload.
    private func absoluteRange(_ range: Range<Int>, bytesCount: Int) -> Range<Int> {
        precondition(range.lowerBound >= 0 && range.upperBound <= payloadLength, "edit outside the payload")
        precondition(bytesCount >= totalLength, "not the bytes this packet was parsed from")
        return (payloadOffset + range.lowerBound)..<(payloadOffset + range.upperBound)
    }

    /// Brings the checksum up to date after `absolute` changed from bytes that summed to `oldSum`.
    func finishEdit(_ absolute: Range<Int>, oldSum: UInt16, in bytes: inout MutableSpan<UInt8>,
                            checksum: ChecksumUpdate) {
        switch checksum {
        case .incremental:
            let newSum = InternetChecksum.sum(bytes.span.extracting(absolute))
            let stored = bytes.be16(at: tcpChecksumOffset)
            let updated = InternetChecksum.update(checksum: stored, oldSum: oldSum, newSum: newSum,
                                                  atOddOffset: (absolute.lowerBound - tcpOffset) & 1 == 1)
            bytes.setBE16(updated, at: tcpChecksumOffset)
        case .full:
            recomputeChecksums(in: &bytes)
        case .deferred:
            break
        }
    }
}
