/// Why a buffer could not be viewed as an IP packet carrying a whole TCP segment.
///
/// Two kinds, and the caller treats them differently (`isMalformed`):
/// - not inspectable (`notIP`, `notTCP`, `fragment`): a well-formed packet this module does not
///   look into; the caller accepts and counts it;
/// - malformed (every other reason: truncated, impossible lengths): the caller drops it and
///   reports `reason.text`, e.g. `%FW-6-DROP_PKT: Dropping tcp pkt A:p => B:q due to
///   truncated TCP header`.
///
/// The error carries whatever addresses and ports were readable before the problem, so the
/// drop message can name the flow.
public struct PacketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problem. Texts are stable: logs, counters and tests key on them.
    public enum Reason: Hashable, Sendable {
        /// The version nibble is neither 4 nor 6 (or not the version the view expects).
        case notIP(version: UInt8)
        /// An IP packet whose upper-layer protocol is not TCP (6).
        case notTCP(protocol: UInt8)
        /// An IPv4 fragment (MF set or offset ≠ 0) or a non-atomic IPv6 fragment.
        case fragment
        /// Fewer bytes than the 20-byte IPv4 header (or no byte at all).
        case truncatedIPHeader
        /// IHL below 5 (a header shorter than 20 bytes), or IHL past the buffer.
        case badIPHeaderLength
        /// IPv4 total length smaller than the header.
        case badIPTotalLength
        /// IPv4 total length larger than the buffer.
        case truncatedIPPacket
        /// Fewer bytes than the 40-byte IPv6 header.
        case truncatedIPv6Header
        /// IPv6 payload length 0 (a jumbogram, RFC 2675: not supported on this path).
        case badIPv6PayloadLength
        /// IPv6 payload length past the buffer.
        case truncatedIPv6Packet
        /// An IPv6 extension header runs past the payload.
        case truncatedIPv6ExtensionHeader
        /// A hop-by-hop options header not directly after the fixed header (RFC 8200 §4.3).
        case misplacedHopByHopHeader
        /// More extension headers than any sane sender uses (bounds the work per packet).
        case tooManyIPv6ExtensionHeaders
        /// A routing header with segments left whose final destination cannot be found, so the
        /// TCP pseudo-header (RFC 8200 §8.1) is unknown.
        case unsupportedIPv6RoutingHeader
        /// Fewer than 20 bytes of TCP segment.
        case truncatedTCPHeader
        /// TCP data offset below 5.
        case badTCPDataOffset
        /// TCP data offset points past the end of the segment.
        case truncatedTCPOptions
        /// A TCP option whose length is below 2, runs past the options, or is wrong for its kind.
        case badTCPOptionLength

        /// `true` for reasons the caller drops the packet for.
        public var isMalformed: Bool {
            switch self {
            case .notIP, .notTCP, .fragment: false
            default: true
            }
        }

        /// Short stable text for logs and `%FW-6-DROP_PKT ... due to <text>`.
        public var text: String {
            switch self {
            case .notIP: "not an IP packet"
            case .notTCP: "not TCP"
            case .fragment: "IP fragment"
            case .truncatedIPHeader: "truncated IP header"
            case .badIPHeaderLength: "bad IP header length"
            case .badIPTotalLength: "bad IP total length"
            case .truncatedIPPacket: "truncated IP packet"
            case .truncatedIPv6Header: "truncated IPv6 header"
            case .badIPv6PayloadLength: "bad IPv6 payload length"
            case .truncatedIPv6Packet: "truncated IPv6 packet"
            case .truncatedIPv6ExtensionHeader: "truncated IPv6 extension header"
            case .misplacedHopByHopHeader: "misplaced IPv6 hop-by-hop header"
            case .tooManyIPv6ExtensionHeaders: "too many IPv6 extension headers"
            case .unsupportedIPv6RoutingHeader: "unsupported IPv6 routing header"
            case .truncatedTCPHeader: "truncated TCP header"
            case .badTCPDataOffset: "bad TCP data offset"
            case .truncatedTCPOptions: "truncated TCP options"
            case .badTCPOptionLength: "bad TCP option length"
            }
        }
    }

    public var reason: Reason
    /// Source address, when the IP header was readable.
    public var source: IPAddress?
    /// Destination address, when the IP header was readable.
    public var destination: IPAddress?
    /// Source port, when the first four bytes of the TCP header were present.
    public var sourcePort: UInt16?
    /// Destination port, when the first four bytes of the TCP header were present.
    public var destinationPort: UInt16?

    public init(_ reason: Reason, source: IPAddress? = nil, destination: IPAddress? = nil,
                sourcePort: UInt16? = nil, destinationPort: UInt16? = nil) {
        self.reason = reason
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    /// `true` when the caller should drop the packet (see the type's documentation).
    public var isMalformed: Bool { reason.isMalformed }

    /// The flow, when both addresses and ports were readable.
    public var flowKey: FlowKey? {
        guard let source, let destination, let sourcePort, let destinationPort else { return nil }
        return FlowKey(source: Endpoint(source, sourcePort), destination: Endpoint(destination, destinationPort))
    }

    /// The stable reason text.
    public var description: String { reason.text }
}
