import CNetfilterQueue

/// A pcap link-layer type (libpcap's DLT_ value; files store the LINKTYPE_ value, which libpcap
/// maps, e.g. LINKTYPE_RAW 101 reads as DLT_RAW 12).
public struct PcapLinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let null = PcapLinkType(rawValue: DLT_NULL)            // 4-byte AF, host order
    public static let ethernet = PcapLinkType(rawValue: DLT_EN10MB)
    public static let raw = PcapLinkType(rawValue: DLT_RAW)              // LINKTYPE_RAW (101)
    public static let loop = PcapLinkType(rawValue: DLT_LOOP)            // 4-byte AF, network order
    public static let linuxCooked = PcapLinkType(rawValue: DLT_LINUX_SLL)
    public static let linuxCooked2 = PcapLinkType(rawValue: DLT_LINUX_SLL2)
    public static let ipv4 = PcapLinkType(rawValue: DLT_IPV4)
    public static let ipv6 = PcapLinkType(rawValue: DLT_IPV6)

    /// The types whose link header `PcapReader` can strip.
    public var isSupported: Bool {
        [.null, .ethernet, .raw, .loop, .linuxCooked, .linuxCooked2, .ipv4, .ipv6].contains(self)
    }

    /// libpcap's name for it ("EN10MB", "LINUX_SLL2", "RAW", ...).
    public var description: String {
        pcap_datalink_val_to_name(rawValue).map { String(cString: $0) } ?? "DLT \(rawValue)"
    }

    /// Where the IP packet of a frame starts and how long it is: nil for a frame that carries no
    /// IPv4/IPv6 packet, or is too short to say. The length excludes link-layer padding (an
    /// Ethernet frame pads a 40-byte ACK to 46 bytes) when the IP header gives the real length
    /// and it fits in what was captured.
    func ipPacket(in frame: Span<UInt8>) -> (offset: Int, length: Int)? {
        var offset: Int
        var etherType: UInt16? = nil       // nil: decide by the IP version nibble
        switch self {
        case .raw, .ipv4, .ipv6:
            offset = 0
        case .null, .loop:
            offset = 4
        case .ethernet:
            guard frame.count >= 14 else { return nil }
            offset = 12
            var type = frame.be16(at: offset)
            while type == 0x8100 || type == 0x88A8 || type == 0x9100 {    // 802.1Q / QinQ tags
                offset += 4
                guard frame.count >= offset + 2 else { return nil }
                type = frame.be16(at: offset)
            }
            offset += 2
            etherType = type
        case .linuxCooked:
            guard frame.count >= 16 else { return nil }
            etherType = frame.be16(at: 14)
            offset = 16
        case .linuxCooked2:
            guard frame.count >= 20 else { return nil }
            etherType = frame.be16(at: 0)
            offset = 20
        default:
            return nil
        }
        guard frame.count > offset else { return nil }
        let version = frame[offset] >> 4
        switch (etherType, version) {
        case (0x0800?, 4), (nil, 4):
            guard frame.count >= offset + 20 else { return nil }
            let total = Int(frame.be16(at: offset + 2))
            return (offset, total >= 20 && total <= frame.count - offset ? total : frame.count - offset)
        case (0x86DD?, 6), (nil, 6):
            guard frame.count >= offset + 40 else { return nil }
            let total = 40 + Int(frame.be16(at: offset + 4))
            // A jumbogram (payload length 0) or a truncated capture keeps what was captured.
            return (offset, total > 40 && total <= frame.count - offset ? total : frame.count - offset)
        default:
            return nil
        }
    }
}

extension Span where Element == UInt8 {
    @inline(__always)
    fileprivate func be16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }
}
