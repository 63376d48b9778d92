// Normalisations of a TCP header in place, same length, so that the receiver's stack reads the
// stream the inspector judged (ASA's TCP normaliser clears urgent data the same way by default).

extension TCPPacket {
    /// TCP option kinds of Fast Open: RFC 7413's, and the experimental one (kind 254 with the
    /// RFC 6994 experiment id 0xF989) that older stacks send.
    static let fastOpenKind: UInt8 = 34
    static let experimentalKind: UInt8 = 254
    static let fastOpenExperimentID: UInt16 = 0xF989

    /// Whether URG is set or the urgent pointer is not zero.
    public var hasUrgentData: Bool { flags.contains(.urg) || tcp.urgentPointer != 0 }

    /// Clears URG and the urgent pointer. A receiving Linux stack takes the urgent byte out of the
    /// stream its application reads (SO_OOBINLINE is off by default), so the inspector and the
    /// server would read different bytes; without URG both read every byte in order.
    /// Returns whether anything changed.
    @discardableResult
    public mutating func clearUrgent(in bytes: inout MutableSpan<UInt8>, checksum: ChecksumUpdate = .incremental) -> Bool {
        guard hasUrgentData else { return false }
        precondition(bytes.count >= totalLength, "not the bytes this packet was parsed from")
        let flagsWord = tcpOffset + TCPHeader.Field.dataOffsetAndFlags
        let pointer = tcpOffset + TCPHeader.Field.urgentPointer
        editHeader(flagsWord..<(flagsWord + 2), in: &bytes, checksum: checksum) { bytes in
            bytes[flagsWord + 1] &= ~UInt8(truncatingIfNeeded: TCPFlags.urg.rawValue)
        }
        editHeader(pointer..<(pointer + 2), in: &bytes, checksum: checksum) { bytes in
            bytes.setBE16(0, at: pointer)
        }
        tcp.flags.remove(.urg)
        tcp.urgentPointer = 0
        return true
    }

    /// Turns Fast Open options (a cookie request or a cookie) into no-operation bytes, so the
    /// server neither hands out a cookie nor accepts data on a SYN. Returns whether it found one.
    @discardableResult
    public func removeFastOpen(in bytes: inout MutableSpan<UInt8>, checksum: ChecksumUpdate = .incremental) -> Bool {
        precondition(bytes.count >= totalLength, "not the bytes this packet was parsed from")
        let area = (tcpOffset + TCPHeader.Field.options)..<(tcpOffset + tcp.headerLength)
        var removed = false
        var i = area.lowerBound
        // The option lengths were checked when the packet was parsed.
        while i < area.upperBound {
            let kind = bytes[i]
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            let length = Int(bytes[i + 1])
            let isFastOpen = kind == Self.fastOpenKind
                || (kind == Self.experimentalKind && length >= 4 && bytes.span.be16(at: i + 2) == Self.fastOpenExperimentID)
            if isFastOpen {
                let option = i..<(i + length)
                editHeader(option, in: &bytes, checksum: checksum) { bytes in
                    for k in option { bytes[k] = 1 }
                }
                removed = true
            }
            i += length
        }
        return removed
    }

    /// Changes header bytes `range` (absolute offsets) with `change`, then brings the TCP
    /// checksum up to date. The range is widened to 16-bit words of the header, so the
    /// incremental update sees whole words.
    private func editHeader(_ range: Range<Int>, in bytes: inout MutableSpan<UInt8>, checksum: ChecksumUpdate,
                            _ change: (inout MutableSpan<UInt8>) -> Void) {
        let lower = tcpOffset + ((range.lowerBound - tcpOffset) & ~1)
        let upper = min(tcpOffset + ((range.upperBound - tcpOffset + 1) & ~1), payloadOffset)
        let words = lower..<upper
        let oldSum = InternetChecksum.sum(bytes.span.extracting(words))
        change(&bytes)
        finishEdit(words, oldSum: oldSum, in: &bytes, checksum: checksum)
    }
}
