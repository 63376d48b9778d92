/// A checked IPv4 header (RFC 791), parsed once from lent packet bytes.
///
/// After `init(checking:)` succeeds, `headerLength <= totalLength <= bytes.count` holds for the
/// bytes it was given, and no property can fail. Bytes past `totalLength` (link-layer padding)
/// are not part of the packet.
public struct IPv4Header: Hashable, Sendable {
    /// Field offsets from the start of the header, declared once.
    enum Field {
        static let versionAndIHL = 0
        static let typeOfService = 1
        static let totalLength = 2
        static let identification = 4
        static let flagsAndFragmentOffset = 6
        static let timeToLive = 8
        static let protocolNumber = 9
        static let checksum = 10
        static let source = 12
        static let destination = 16
    }

    /// Length of a header without options.
    public static let minimumLength = 20

    /// Header length in bytes (IHL × 4), 20...60.
    public let headerLength: Int
    /// Total length in bytes (header + payload), `headerLength...bytes.count`.
    public internal(set) var totalLength: Int
    /// The DSCP and ECN byte.
    public let typeOfService: UInt8
    public let identification: UInt16
    /// DF.
    public let dontFragment: Bool
    /// MF.
    public let moreFragments: Bool
    /// Fragment offset in bytes (the wire field × 8).
    public let fragmentOffset: Int
    public let timeToLive: UInt8
    /// The upper-layer protocol (6 for TCP).
    public let protocolNumber: UInt8
    public let source: IPv4Address
    public let destination: IPv4Address

    /// `true` when this is one piece of a fragmented datagram (MF set or a non-zero offset).
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    /// Checks version, IHL and total length against `bytes` (the packet from its first byte).
    public init(checking bytes: Span<UInt8>) throws(PacketError) {
        guard !bytes.isEmpty else { throw PacketError(.truncatedIPHeader) }
        let version = bytes[Field.versionAndIHL] >> 4
        guard version == 4 else { throw PacketError(.notIP(version: version)) }
        guard bytes.count >= Self.minimumLength else { throw PacketError(.truncatedIPHeader) }
        source = IPv4Address(rawValue: bytes.be32(at: Field.source))
        destination = IPv4Address(rawValue: bytes.be32(at: Field.destination))
        let addresses = (IPAddress.v4(source), IPAddress.v4(destination))
        headerLength = Int(bytes[Field.versionAndIHL] & 0x0f) * 4
        guard headerLength >= Self.minimumLength, headerLength <= bytes.count else {
            throw PacketError(.badIPHeaderLength, source: addresses.0, destination: addresses.1)
        }
        totalLength = Int(bytes.be16(at: Field.totalLength))
        guard totalLength >= headerLength else {
            throw PacketError(.badIPTotalLength, source: addresses.0, destination: addresses.1)
        }
        guard totalLength <= bytes.count else {
            throw PacketError(.truncatedIPPacket, source: addresses.0, destination: addresses.1)
        }
        typeOfService = bytes[Field.typeOfService]
        identification = bytes.be16(at: Field.identification)
        let flagsAndOffset = bytes.be16(at: Field.flagsAndFragmentOffset)
        dontFragment = flagsAndOffset & 0x4000 != 0
        moreFragments = flagsAndOffset & 0x2000 != 0
        fragmentOffset = Int(flagsAndOffset & 0x1fff) * 8
        timeToLive = bytes[Field.timeToLive]
        protocolNumber = bytes[Field.protocolNumber]
    }

    /// The header checksum field as found in `bytes`.
    public func storedChecksum(in bytes: Span<UInt8>) -> UInt16 {
        bytes.be16(at: Field.checksum)
    }

    /// `true` when the header checksum of `bytes` is correct.
    public func verifyChecksum(in bytes: Span<UInt8>) -> Bool {
        InternetChecksum.sum(bytes.extracting(0..<headerLength)) == 0xffff
    }

    /// Writes a new total length into `bytes` (header checksum left for the caller to fix).
    mutating func setTotalLength(_ length: Int, in bytes: inout MutableSpan<UInt8>) {
        precondition(length >= headerLength && length <= totalLength, "IPv4 total length can only shrink")
        totalLength = length
        bytes.setBE16(UInt16(length), at: Field.totalLength)
    }

    /// Recomputes the header checksum in `bytes` from scratch.
    func recomputeChecksum(in bytes: inout MutableSpan<UInt8>) {
        bytes.setBE16(0, at: Field.checksum)
        let checksum = InternetChecksum.checksum(bytes.span.extracting(0..<headerLength))
        bytes.setBE16(checksum, at: Field.checksum)
    }
}
