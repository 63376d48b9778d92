/// A TCP option to emit (IANA kinds; RFC 9293, RFC 7323, RFC 2018).
public enum TCPOption: Hashable, Sendable {
    case endOfList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case sack([SACKBlock])
    case timestamps(TCPTimestamps)
    /// Any other option: kind, then the data after the length byte.
    case other(kind: UInt8, data: [UInt8])

    /// One SACK block: the sequence numbers of its first byte and of the byte after its last.
    public struct SACKBlock: Hashable, Sendable {
        public var left: SequenceNumber
        public var right: SequenceNumber
        public init(left: SequenceNumber, right: SequenceNumber) {
            self.left = left
            self.right = right
        }
    }

    /// The option's wire bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .endOfList: out = [0]
        case .noOperation: out = [1]
        case .maximumSegmentSize(let mss): out = [2, 4]; out.appendBE16(mss)
        case .windowScale(let shift): out = [3, 3, shift]
        case .sackPermitted: out = [4, 2]
        case .sack(let blocks):
            out = [5, UInt8(truncatingIfNeeded: 2 + 8 * blocks.count)]
            for block in blocks {
                out.appendBE32(block.left.rawValue)
                out.appendBE32(block.right.rawValue)
            }
        case .timestamps(let ts):
            out = [8, 10]
            out.appendBE32(ts.value)
            out.appendBE32(ts.echoReply)
        case .other(let kind, let data): out = [kind, UInt8(truncatingIfNeeded: 2 + data.count)] + data
        }
        return out
    }
}

/// Which way a reset for a segment travels (see `TCPPacketBuilder.reset(for:direction:)`).
public enum ResetDirection: Hashable, Sendable {
    /// Back to the segment's sender (RFC 9293 §3.10.7.1).
    case toSender
    /// On to the segment's receiver, as if from its sender. `segmentDelivered` says whether the
    /// receiver got the segment itself (then it expects the sequence number after it).
    case toReceiver(segmentDelivered: Bool)
}

/// Emits a complete, valid IPv4 or IPv6 packet with one TCP segment, checksums correct.
/// For tests, capture fixtures and the resets the inspector sends; not for the per-packet path
/// (it allocates).
public struct TCPPacketBuilder: Hashable, Sendable {
    public var source: Endpoint
    public var destination: Endpoint
    public var sequenceNumber: SequenceNumber
    public var acknowledgmentNumber: SequenceNumber
    public var flags: TCPFlags
    public var window: UInt16
    public var urgentPointer: UInt16 = 0
    /// Options in order; padded with end-of-list bytes to a multiple of 4, at most 40 bytes.
    public var options: [TCPOption] = []
    public var payload: [UInt8]
    /// IPv4 TTL or IPv6 hop limit.
    public var timeToLive: UInt8 = 64
    /// IPv4 only.
    public var identification: UInt16 = 0
    /// IPv4 only.
    public var dontFragment = true
    /// IPv4 DSCP/ECN byte or IPv6 traffic class.
    public var trafficClass: UInt8 = 0
    /// IPv6 only, 20 bits.
    public var flowLabel: UInt32 = 0

    /// A segment from `source` to `destination`; both addresses must be of one family.
    public init(from source: Endpoint, to destination: Endpoint,
                sequenceNumber: SequenceNumber, acknowledgmentNumber: SequenceNumber = SequenceNumber(0),
                flags: TCPFlags, window: UInt16 = 65535, payload: [UInt8] = []) {
        self.source = source
        self.destination = destination
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
        self.payload = payload
    }

    /// A reset that tears down the connection `segment` belongs to, following Linux's
    /// `tcp_v4_send_reset` and RFC 9293 §3.10.7.1:
    /// - `.toSender`: if the segment carries ACK, `<SEQ=SEG.ACK><CTL=RST>`; otherwise
    ///   `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. SEG.ACK is exactly the sender's RCV.NXT,
    ///   so the RST passes RFC 5961's exact-match check.
    /// - `.toReceiver`: `<SEQ=SEG.SEQ(+SEG.LEN if delivered)>` with RST (and ACK = SEG.ACK when
    ///   the segment had ACK), as the sender would have sent it.
    public static func reset(for segment: TCPPacket, direction: ResetDirection) -> TCPPacketBuilder {
        let flow = segment.flowKey
        switch direction {
        case .toSender:
            if segment.flags.contains(.ack) {
                return TCPPacketBuilder(from: flow.destination, to: flow.source,
                                        sequenceNumber: segment.acknowledgmentNumber, flags: .rst, window: 0)
            }
            return TCPPacketBuilder(from: flow.destination, to: flow.source, sequenceNumber: SequenceNumber(0),
                                    acknowledgmentNumber: segment.sequenceEnd, flags: [.rst, .ack], window: 0)
        case .toReceiver(let delivered):
            let seq = delivered ? segment.sequenceEnd : segment.sequenceNumber
            let hasAck = segment.flags.contains(.ack)
            return TCPPacketBuilder(from: flow.source, to: flow.destination, sequenceNumber: seq,
                                    acknowledgmentNumber: hasAck ? segment.acknowledgmentNumber : SequenceNumber(0),
                                    flags: hasAck ? [.rst, .ack] : .rst, window: 0)
        }
    }

    /// The TCP header and payload, checksum field zero.
    private func segmentBytes() -> [UInt8] {
        var optionBytes = options.flatMap(\.bytes)
        while optionBytes.count % 4 != 0 { optionBytes.append(0) }
        precondition(optionBytes.count <= 40, "TCP options longer than 40 bytes")
        let headerLength = TCPHeader.minimumLength + optionBytes.count
        var out: [UInt8] = []
        out.reserveCapacity(headerLength + payload.count)
        out.appendBE16(source.port)
        out.appendBE16(destination.port)
        out.appendBE32(sequenceNumber.rawValue)
        out.appendBE32(acknowledgmentNumber.rawValue)
        out.appendBE16(UInt16(headerLength / 4) << 12 | flags.rawValue & 0x01ff)
        out.appendBE16(window)
        out.appendBE16(0)
        out.appendBE16(urgentPointer)
        out += optionBytes
        out += payload
        return out
    }

    /// The whole packet, IPv4 or IPv6 by the addresses' family.
    public func build() -> [UInt8] {
        var segment = segmentBytes()
        var packet: [UInt8] = []
        switch (source.address, destination.address) {
        case (.v4(let src), .v4(let dst)):
            let total = IPv4Header.minimumLength + segment.count
            precondition(total <= 0xffff, "IPv4 packet longer than 65535 bytes")
            packet = [0x45, trafficClass]
            packet.appendBE16(UInt16(total))
            packet.appendBE16(identification)
            packet.appendBE16(dontFragment ? 0x4000 : 0)
            packet += [timeToLive, TCPPacket.tcpProtocol, 0, 0]
            packet += src.bytes + dst.bytes
            let headerChecksum = InternetChecksum.checksum(packet.span)
            packet[IPv4Header.Field.checksum] = UInt8(truncatingIfNeeded: headerChecksum >> 8)
            packet[IPv4Header.Field.checksum + 1] = UInt8(truncatingIfNeeded: headerChecksum)
        case (.v6(let src), .v6(let dst)):
            precondition(segment.count <= 0xffff, "IPv6 payload longer than 65535 bytes")
            packet.appendBE32(6 << 28 | UInt32(trafficClass) << 20 | flowLabel & 0x000f_ffff)
            packet.appendBE16(UInt16(segment.count))
            packet += [TCPPacket.tcpProtocol, timeToLive]
            packet += src.bytes + dst.bytes
        default:
            preconditionFailure("source and destination of two address families")
        }
        let pseudo = InternetChecksum.pseudoHeaderSum(source: source.address, destination: destination.address,
                                                      protocol: TCPPacket.tcpProtocol, length: segment.count)
        let checksum = ~InternetChecksum.add(pseudo, InternetChecksum.sum(segment.span))
        segment[TCPHeader.Field.checksum] = UInt8(truncatingIfNeeded: checksum >> 8)
        segment[TCPHeader.Field.checksum + 1] = UInt8(truncatingIfNeeded: checksum)
        return packet + segment
    }
}
