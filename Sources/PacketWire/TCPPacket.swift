/// An IPv4 or IPv6 packet carrying one whole TCP segment, checked once.
///
/// A small value describing the packet; it holds no packet memory (spans cannot be stored), so
/// reading payload bytes and editing take the bytes again together with this value. Those bytes
/// must be the ones it was parsed from (the edit functions check the length they rely on).
///
/// After `init(checking:)` succeeds:
/// `tcpOffset + tcp.headerLength == payloadOffset <= payloadOffset + payloadLength == totalLength
/// <= bytes.count`, and no property can fail.
public struct TCPPacket: Hashable, Sendable {
    /// The network-layer header.
    public enum Network: Hashable, Sendable {
        case v4(IPv4Header)
        case v6(IPv6Header)
    }

    /// IANA protocol number of TCP.
    public static let tcpProtocol: UInt8 = 6

    public internal(set) var network: Network
    public internal(set) var tcp: TCPHeader
    /// Offset of the TCP header from the start of the packet (after IPv6 extension headers).
    public let tcpOffset: Int

    /// Checks an IP packet (from its first byte) and the TCP segment in it.
    ///
    /// Throws a not-inspectable error (`notIP`, `notTCP`, `fragment`) for well-formed packets
    /// this module does not look into, and a malformed one for anything truncated or impossible.
    public init(checking bytes: Span<UInt8>) throws(PacketError) {
        guard !bytes.isEmpty else { throw PacketError(.truncatedIPHeader) }
        let segment: Range<Int>
        let source: IPAddress, destination: IPAddress
        switch bytes[0] >> 4 {
        case 4:
            let ip = try IPv4Header(checking: bytes)
            source = .v4(ip.source)
            destination = .v4(ip.destination)
            // Protocol before fragmentation: every IPv4 fragment names its protocol, and callers
            // count non-TCP traffic separately from TCP fragments.
            guard ip.protocolNumber == Self.tcpProtocol else {
                throw PacketError(.notTCP(protocol: ip.protocolNumber), source: source, destination: destination)
            }
            guard !ip.isFragment else { throw PacketError(.fragment, source: source, destination: destination) }
            network = .v4(ip)
            segment = ip.headerLength..<ip.totalLength
        case 6:
            let ip = try IPv6Header(checking: bytes)
            source = .v6(ip.source)
            destination = .v6(ip.destination)
            guard !ip.isFragment else { throw PacketError(.fragment, source: source, destination: destination) }
            guard ip.upperLayerProtocol == Self.tcpProtocol else {
                throw PacketError(.notTCP(protocol: ip.upperLayerProtocol), source: source, destination: destination)
            }
            network = .v6(ip)
            segment = ip.upperLayerOffset..<ip.totalLength
        case let version:
            throw PacketError(.notIP(version: version))
        }
        tcpOffset = segment.lowerBound
        do {
            tcp = try TCPHeader(checking: bytes.extracting(segment))
        } catch {
            var withAddresses = error
            withAddresses.source = source
            withAddresses.destination = destination
            throw withAddresses
        }
    }

    /// 4 or 6.
    public var version: Int {
        switch network {
        case .v4: 4
        case .v6: 6
        }
    }

    /// Length of the IP header including IPv6 extension headers (same as `tcpOffset`).
    public var ipHeaderLength: Int { tcpOffset }

    /// The packet's length in bytes (IPv4 total length, or 40 + IPv6 payload length); bytes after
    /// it in the buffer are not part of the packet.
    public var totalLength: Int {
        switch network {
        case .v4(let ip): ip.totalLength
        case .v6(let ip): ip.totalLength
        }
    }

    /// Offset of the first TCP payload byte from the start of the packet.
    public var payloadOffset: Int { tcpOffset + tcp.headerLength }
    /// Number of TCP payload bytes.
    public var payloadLength: Int { totalLength - payloadOffset }
    /// Where the payload lies in the packet's bytes: `bytes.extracting(payloadRange)`.
    public var payloadRange: Range<Int> { payloadOffset..<totalLength }
    /// Length of the TCP segment (header + payload), as the pseudo-header counts it.
    public var tcpLength: Int { totalLength - tcpOffset }

    public var source: IPAddress {
        switch network {
        case .v4(let ip): .v4(ip.source)
        case .v6(let ip): .v6(ip.source)
        }
    }

    /// The destination field (for IPv6 under source routing, the current hop).
    public var destination: IPAddress {
        switch network {
        case .v4(let ip): .v4(ip.destination)
        case .v6(let ip): .v6(ip.destination)
        }
    }

    public var sourcePort: UInt16 { tcp.sourcePort }
    public var destinationPort: UInt16 { tcp.destinationPort }
    public var sequenceNumber: SequenceNumber { tcp.sequenceNumber }
    public var acknowledgmentNumber: SequenceNumber { tcp.acknowledgmentNumber }
    public var flags: TCPFlags { tcp.flags }
    public var window: UInt16 { tcp.window }

    /// Sequence space the segment occupies: payload plus one each for SYN and FIN.
    public var segmentLength: Int {
        payloadLength + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
    }

    /// The sequence number after this segment (`sequenceNumber + segmentLength`).
    public var sequenceEnd: SequenceNumber { sequenceNumber + segmentLength }

    /// The direction-dependent flow key (source to destination).
    public var flowKey: FlowKey {
        FlowKey(source: Endpoint(source, sourcePort), destination: Endpoint(destination, destinationPort))
    }
}
