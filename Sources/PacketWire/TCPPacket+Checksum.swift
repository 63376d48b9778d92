// TCP and IPv4 header checksums of a parsed packet: verify, compute, recompute in place.
// The TCP checksum covers the pseudo-header (RFC 793 §3.1, RFC 8200 §8.1), the TCP header with
// its checksum field taken as zero, and the payload up to the IP length (never link padding).

extension TCPPacket {
    /// Sum of the pseudo-header for this packet's TCP checksum. IPv6 uses the final destination
    /// of a routing header, as RFC 8200 §8.1 requires.
    var pseudoHeaderSum: UInt16 {
        switch network {
        case .v4(let ip):
            InternetChecksum.pseudoHeaderSum(source: ip.source, destination: ip.destination,
                                             protocol: Self.tcpProtocol, length: tcpLength)
        case .v6(let ip):
            InternetChecksum.pseudoHeaderSum(source: ip.source, destination: ip.finalDestination,
                                             protocol: Self.tcpProtocol, length: tcpLength)
        }
    }

    /// Offset of the TCP checksum field from the start of the packet.
    var tcpChecksumOffset: Int { tcpOffset + TCPHeader.Field.checksum }

    /// The TCP checksum field as found in `bytes`.
    public func storedTCPChecksum(in bytes: Span<UInt8>) -> UInt16 {
        bytes.be16(at: tcpChecksumOffset)
    }

    /// The TCP checksum `bytes` should carry, computed in full (the stored field is skipped).
    public func computeTCPChecksum(in bytes: Span<UInt8>) -> UInt16 {
        precondition(bytes.count >= totalLength, "not the bytes this packet was parsed from")
        // The two pieces around the checksum field both start at even offsets from the TCP
        // header (0 and 18), so their sums add without byte swapping.
        let before = InternetChecksum.sum(bytes.extracting(tcpOffset..<tcpChecksumOffset))
        let after = InternetChecksum.sum(bytes.extracting((tcpChecksumOffset + 2)..<totalLength))
        return ~InternetChecksum.add(pseudoHeaderSum, InternetChecksum.add(before, after))
    }

    /// `true` when the TCP checksum in `bytes` is correct.
    public func verifyTCPChecksum(in bytes: Span<UInt8>) -> Bool {
        precondition(bytes.count >= totalLength, "not the bytes this packet was parsed from")
        let segment = InternetChecksum.sum(bytes.extracting(tcpOffset..<totalLength))
        return InternetChecksum.add(pseudoHeaderSum, segment) == 0xffff
    }

    /// `true` when the TCP checksum and, for IPv4, the header checksum in `bytes` are correct.
    /// A packet the kernel queued with `CSUMNOTREADY` fails this by design (its TCP field holds
    /// only the pseudo-header sum).
    public func verifyChecksums(in bytes: Span<UInt8>) -> Bool {
        switch network {
        case .v4(let ip):
            ip.verifyChecksum(in: bytes) && verifyTCPChecksum(in: bytes)
        case .v6:
            verifyTCPChecksum(in: bytes)
        }
    }

    /// Recomputes the IPv4 header checksum and the TCP checksum of `bytes` in full. Use after
    /// edits to a packet the kernel flagged `CSUMNOTREADY` (an incremental update of a partial
    /// checksum is wrong; docs/nfqueue.md §3), or to repair one.
    public func recomputeChecksums(in bytes: inout MutableSpan<UInt8>) {
        if case .v4(let ip) = network {
            ip.recomputeChecksum(in: &bytes)
        }
        recomputeTCPChecksum(in: &bytes)
    }

    /// Recomputes only the TCP checksum of `bytes` in full.
    public func recomputeTCPChecksum(in bytes: inout MutableSpan<UInt8>) {
        let checksum = computeTCPChecksum(in: bytes.span)
        bytes.setBE16(checksum, at: tcpChecksumOffset)
    }
}
