/// TCP control bits (RFC 9293 §3.1; AE is RFC 3540's NS bit, now "accurate ECN").
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    public static let ae = TCPFlags(rawValue: 0x100)

    private static let names: [(TCPFlags, String)] = [
        (.syn, "SYN"), (.fin, "FIN"), (.rst, "RST"), (.psh, "PSH"), (.ack, "ACK"),
        (.urg, "URG"), (.ece, "ECE"), (.cwr, "CWR"), (.ae, "AE"),
    ]

    /// `SYN,ACK`-style text; `none` when no bit is set.
    public var description: String {
        let set = Self.names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: ",")
    }
}

/// The TCP timestamps option (RFC 7323 §3).
public struct TCPTimestamps: Hashable, Sendable {
    public var value: UInt32
    public var echoReply: UInt32
    public init(value: UInt32, echoReply: UInt32) {
        self.value = value
        self.echoReply = echoReply
    }
}

/// The options a flow tracker needs, read once while the options are checked.
public struct TCPOptionSummary: Hashable, Sendable {
    public var maximumSegmentSize: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted = false
    public var timestamps: TCPTimestamps?
    /// Number of SACK blocks (RFC 2018), 0 when there is no SACK option.
    public var sackBlockCount = 0
    public init() {}
}

/// A checked TCP header (RFC 9293 §3.1), parsed once from a lent segment (header + payload).
///
/// After `init(checking:)` succeeds, `20 <= headerLength <= segment.count` and every option's
/// length was within the options area, so no property can fail.
public struct TCPHeader: Hashable, Sendable {
    /// Field offsets from the start of the header, declared once.
    enum Field {
        static let sourcePort = 0
        static let destinationPort = 2
        static let sequenceNumber = 4
        static let acknowledgmentNumber = 8
        static let dataOffsetAndFlags = 12
        static let window = 14
        static let checksum = 16
        static let urgentPointer = 18
        static let options = 20
    }

    /// Option kinds this module reads (IANA TCP option kinds).
    private enum Option {
        static let endOfList: UInt8 = 0
        static let noOperation: UInt8 = 1
        static let maximumSegmentSize: UInt8 = 2
        static let windowScale: UInt8 = 3
        static let sackPermitted: UInt8 = 4
        static let sack: UInt8 = 5
        static let timestamps: UInt8 = 8
    }

    /// Length of a header without options.
    public static let minimumLength = 20

    public let sourcePort: UInt16
    public let destinationPort: UInt16
    public internal(set) var sequenceNumber: SequenceNumber
    public let acknowledgmentNumber: SequenceNumber
    /// Header length in bytes (data offset × 4), 20...60.
    public let headerLength: Int
    public internal(set) var flags: TCPFlags
    public let window: UInt16
    public internal(set) var urgentPointer: UInt16
    public let options: TCPOptionSummary

    /// Checks data offset and options against `segment` (TCP header and payload, nothing after).
    public init(checking segment: Span<UInt8>) throws(PacketError) {
        guard segment.count >= 4 else { throw PacketError(.truncatedTCPHeader) }
        sourcePort = segment.be16(at: Field.sourcePort)
        destinationPort = segment.be16(at: Field.destinationPort)
        func failure(_ reason: PacketError.Reason) -> PacketError {
            PacketError(reason, sourcePort: segment.be16(at: Field.sourcePort),
                        destinationPort: segment.be16(at: Field.destinationPort))
        }
        guard segment.count >= Self.minimumLength else { throw failure(.truncatedTCPHeader) }
        let offsetAndFlags = segment.be16(at: Field.dataOffsetAndFlags)
        headerLength = Int(offsetAndFlags >> 12) * 4
        guard headerLength >= Self.minimumLength else { throw failure(.badTCPDataOffset) }
        guard headerLength <= segment.count else { throw failure(.truncatedTCPOptions) }
        sequenceNumber = SequenceNumber(segment.be32(at: Field.sequenceNumber))
        acknowledgmentNumber = SequenceNumber(segment.be32(at: Field.acknowledgmentNumber))
        flags = TCPFlags(rawValue: offsetAndFlags & 0x01ff)
        window = segment.be16(at: Field.window)
        urgentPointer = segment.be16(at: Field.urgentPointer)
        guard let summary = Self.readOptions(segment.extracting(Field.options..<headerLength)) else {
            throw failure(.badTCPOptionLength)
        }
        options = summary
    }

    /// Walks the options area; nil when an option's length is impossible. Lengths of the kinds
    /// we read must be exact (RFC 9293 §3.2, RFC 7323, RFC 2018), else their values would be
    /// read from the wrong bytes; unknown kinds only need a length that fits.
    private static func readOptions(_ area: Span<UInt8>) -> TCPOptionSummary? {
        var summary = TCPOptionSummary()
        var i = 0
        while i < area.count {
            let kind = area[i]
            if kind == Option.endOfList { break }
            if kind == Option.noOperation { i += 1; continue }
            guard i + 1 < area.count else { return nil }
            let length = Int(area[i + 1])
            guard length >= 2, i + length <= area.count else { return nil }
            switch kind {
            case Option.maximumSegmentSize:
                guard length == 4 else { return nil }
                summary.maximumSegmentSize = area.be16(at: i + 2)
            case Option.windowScale:
                guard length == 3 else { return nil }
                summary.windowScale = area[i + 2]
            case Option.sackPermitted:
                guard length == 2 else { return nil }
                summary.sackPermitted = true
            case Option.sack:
                guard (length - 2) % 8 == 0, length > 2 else { return nil }
                summary.sackBlockCount = (length - 2) / 8
            case Option.timestamps:
                guard length == 10 else { return nil }
                summary.timestamps = TCPTimestamps(value: area.be32(at: i + 2), echoReply: area.be32(at: i + 6))
            default:
                break
            }
            i += length
        }
        return summary
    }
}
