/// A checked IPv6 header (RFC 8200) with its extension-header chain walked to the upper layer.
///
/// `init(checking:)` walks hop-by-hop, routing and destination-options headers (and atomic
/// fragment headers, RFC 6946) and stops at the first other header: TCP, a real fragment, or a
/// protocol it does not look into (AH, ESP, no-next-header, ...). After it succeeds,
/// `upperLayerOffset <= totalLength <= bytes.count` holds and no property can fail.
public struct IPv6Header: Hashable, Sendable {
    /// Field offsets from the start of the fixed header, declared once.
    enum Field {
        static let versionClassLabel = 0
        static let payloadLength = 4
        static let nextHeader = 6
        static let hopLimit = 7
        static let source = 8
        static let destination = 24
    }

    /// Extension-header numbers the walk knows (IANA protocol numbers).
    enum NextHeader {
        static let hopByHop: UInt8 = 0
        static let tcp: UInt8 = 6
        static let routing: UInt8 = 43
        static let fragment: UInt8 = 44
        static let destinationOptions: UInt8 = 60
    }

    /// Length of the fixed header.
    public static let fixedLength = 40
    /// The walk gives up past this many extension headers: RFC 8200 §4.1 allows each at most
    /// once (destination options twice), so more is an attack on our per-packet work.
    public static let maximumExtensionHeaders = 8

    public let trafficClass: UInt8
    /// The 20-bit flow label.
    public let flowLabel: UInt32
    /// Payload length (everything after the fixed header), 1...65535.
    public internal(set) var payloadLength: Int
    /// The fixed header's next-header field.
    public let nextHeader: UInt8
    public let hopLimit: UInt8
    public let source: IPv6Address
    /// The destination field of the fixed header (the current hop under source routing).
    public let destination: IPv6Address
    /// The destination the upper-layer checksum covers (RFC 8200 §8.1): the last address of a
    /// routing header with segments left, else `destination`.
    public let finalDestination: IPv6Address
    /// The protocol after the walked extension headers (6 for TCP, 44 for a real fragment).
    public let upperLayerProtocol: UInt8
    /// Offset of the upper-layer header from the start of the packet (40 + extension headers).
    public let upperLayerOffset: Int
    /// `true` when the walk met a fragment header with a non-zero offset or M set.
    public let isFragment: Bool

    /// Fixed header plus payload.
    public var totalLength: Int { Self.fixedLength + payloadLength }

    /// Checks version and payload length against `bytes` and walks the extension headers.
    public init(checking bytes: Span<UInt8>) throws(PacketError) {
        guard !bytes.isEmpty else { throw PacketError(.truncatedIPv6Header) }
        let version = bytes[Field.versionClassLabel] >> 4
        guard version == 6 else { throw PacketError(.notIP(version: version)) }
        guard bytes.count >= Self.fixedLength else { throw PacketError(.truncatedIPv6Header) }
        let first = bytes.be32(at: Field.versionClassLabel)
        trafficClass = UInt8(truncatingIfNeeded: first >> 20)
        flowLabel = first & 0x000f_ffff
        hopLimit = bytes[Field.hopLimit]
        nextHeader = bytes[Field.nextHeader]
        let source = IPv6Address(high: bytes.be64(at: Field.source), low: bytes.be64(at: Field.source + 8))
        let destination = IPv6Address(high: bytes.be64(at: Field.destination),
                                      low: bytes.be64(at: Field.destination + 8))
        self.source = source
        self.destination = destination
        func failure(_ reason: PacketError.Reason) -> PacketError {
            PacketError(reason, source: .v6(source), destination: .v6(destination))
        }
        payloadLength = Int(bytes.be16(at: Field.payloadLength))
        guard payloadLength > 0 else { throw failure(.badIPv6PayloadLength) }
        guard Self.fixedLength + payloadLength <= bytes.count else { throw failure(.truncatedIPv6Packet) }
        let walk = try Self.walkExtensions(bytes, end: Self.fixedLength + payloadLength,
                                           first: bytes[Field.nextHeader], destination: destination, failure: failure)
        upperLayerProtocol = walk.protocolNumber
        upperLayerOffset = walk.offset
        isFragment = walk.isFragment
        finalDestination = walk.finalDestination
    }

    private struct Walk {
        var protocolNumber: UInt8
        var offset: Int
        var isFragment: Bool
        var finalDestination: IPv6Address
    }

    /// Follows the chain from `first` until a header it does not walk. `end` is the packet end.
    private static func walkExtensions(_ bytes: Span<UInt8>, end: Int, first: UInt8,
                                       destination: IPv6Address,
                                       failure: (PacketError.Reason) -> PacketError) throws(PacketError) -> Walk {
        var walk = Walk(protocolNumber: first, offset: fixedLength, isFragment: false,
                        finalDestination: destination)
        var count = 0
        while true {
            let kind = walk.protocolNumber
            guard kind == NextHeader.hopByHop || kind == NextHeader.routing
                    || kind == NextHeader.destinationOptions || kind == NextHeader.fragment else { return walk }
            if kind == NextHeader.hopByHop, count > 0 { throw failure(.misplacedHopByHopHeader) }
            count += 1
            guard count <= maximumExtensionHeaders else { throw failure(.tooManyIPv6ExtensionHeaders) }
            // Every extension header starts with next-header and a length byte; the fragment
            // header's second byte is reserved and its length is fixed at 8.
            guard walk.offset + 8 <= end else { throw failure(.truncatedIPv6ExtensionHeader) }
            let length = kind == NextHeader.fragment ? 8 : (Int(bytes[walk.offset + 1]) + 1) * 8
            guard walk.offset + length <= end else { throw failure(.truncatedIPv6ExtensionHeader) }
            if kind == NextHeader.fragment {
                let offsetAndFlags = bytes.be16(at: walk.offset + 2)
                if offsetAndFlags & 0xfff9 != 0 {
                    // A real fragment (offset or M set): stop here and report it.
                    walk.isFragment = true
                    walk.protocolNumber = NextHeader.fragment
                    return walk
                }
            }
            if kind == NextHeader.routing {
                walk.finalDestination = try finalDestination(bytes, routingHeaderAt: walk.offset, length: length,
                                                             current: walk.finalDestination, failure: failure)
            }
            walk.protocolNumber = bytes[walk.offset]
            walk.offset += length
        }
    }

    /// The final destination named by a routing header: types 0 (RFC 2460) and 2 (RFC 6275) list
    /// the remaining hops with the final one last; type 4 (SRH, RFC 8754) lists segments in
    /// reverse with the final one first. Other types with segments left are refused.
    private static func finalDestination(_ bytes: Span<UInt8>, routingHeaderAt offset: Int, length: Int,
                                         current: IPv6Address,
                                         failure: (PacketError.Reason) -> PacketError) throws(PacketError) -> IPv6Address {
        let routingType = bytes[offset + 2]
        let segmentsLeft = bytes[offset + 3]
        guard segmentsLeft > 0 else { return current }
        let addressAt: Int
        switch routingType {
        case 0, 2:
            let addresses = (length - 8) / 16
            guard addresses > 0 else { throw failure(.unsupportedIPv6RoutingHeader) }
            addressAt = offset + 8 + (addresses - 1) * 16
        case 4:
            guard length >= 24 else { throw failure(.unsupportedIPv6RoutingHeader) }
            addressAt = offset + 8
        default:
            throw failure(.unsupportedIPv6RoutingHeader)
        }
        return IPv6Address(high: bytes.be64(at: addressAt), low: bytes.be64(at: addressAt + 8))
    }

    /// Writes a new payload length into `bytes`.
    mutating func setPayloadLength(_ length: Int, in bytes: inout MutableSpan<UInt8>) {
        precondition(length + Self.fixedLength >= upperLayerOffset && length <= payloadLength,
                     "IPv6 payload length can only shrink")
        payloadLength = length
        bytes.setBE16(UInt16(length), at: Field.payloadLength)
    }
}
