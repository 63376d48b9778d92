import CNetfilterQueue

/// The kernel's id of a queued packet (host order). A verdict names the packet by it; ids are
/// per queue binding and increase by one per packet (the kernel's `id_sequence`).
public struct PacketID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: PacketID, b: PacketID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { String(rawValue) }
}

/// A netfilter verdict (`NF_ACCEPT`, `NF_DROP`, ... in the low byte; a queue number above).
public struct Verdict: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Continue with the next rule set of the hook.
    public static let accept = Verdict(rawValue: UInt32(NF_ACCEPT))
    /// Discard the packet.
    public static let drop = Verdict(rawValue: UInt32(NF_DROP))
    /// Run the same hook's table again from its first rule (use it with a mark that a rule placed
    /// before the NFQUEUE rule matches, or the packet comes straight back to the queue).
    public static let `repeat` = Verdict(rawValue: UInt32(NF_REPEAT))
    /// Hand the packet to queue `queue`; with `bypass`, accept it if nothing is bound there.
    public static func queue(_ queue: UInt16, bypass: Bool) -> Verdict {
        Verdict(rawValue: cnfq_verdict_queue(queue, bypass))
    }
}

/// The packet mark (`skb->mark`, iptables `-m mark` / `MARK`).
public struct PacketMark: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public var description: String { "0x" + String(rawValue, radix: 16) }

    /// The bit on packets smtp-inspect sends itself (RawPacketSender: the resets of a torn-down
    /// session). No bit the generated rules use on packets or connections (IOSConfig's
    /// IptablesRules.ownPacketMark, the same value), and nothing else sets it, so a queued packet
    /// with it was made on this host by us.
    public static let ownPacket = PacketMark(rawValue: 0x10000000)

    /// Whether every bit of `bits` is set.
    public func contains(_ bits: PacketMark) -> Bool { rawValue & bits.rawValue == bits.rawValue }
}

/// A network interface index (`ip link` numbers); nil in `PacketInfo` where the hook has none.
public struct InterfaceIndex: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }

    /// The interface's name (`ext0`), or nil when no interface has this index any more.
    public var name: String? { system_interfaceName(rawValue) }
}

/// The netfilter hook a packet was queued from.
public struct NetfilterHook: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let preRouting = NetfilterHook(rawValue: 0)
    public static let localIn = NetfilterHook(rawValue: 1)
    public static let forward = NetfilterHook(rawValue: 2)
    public static let localOut = NetfilterHook(rawValue: 3)
    public static let postRouting = NetfilterHook(rawValue: 4)
    public var description: String {
        switch rawValue {
        case 0: "PREROUTING"
        case 1: "INPUT"
        case 2: "FORWARD"
        case 3: "OUTPUT"
        case 4: "POSTROUTING"
        default: "hook\(rawValue)"
        }
    }
}

/// Wall-clock time of a packet (the kernel's NFQA_TIMESTAMP, or a pcap record's timestamp).
public struct PacketTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds + nanoseconds / 1_000_000_000
        self.nanoseconds = nanoseconds % 1_000_000_000
        if self.nanoseconds < 0 {
            self.seconds -= 1
            self.nanoseconds += 1_000_000_000
        }
    }

    /// The current wall-clock time (CLOCK_REALTIME).
    public static func now() -> PacketTimestamp {
        let t = system_realtimeNow()
        return PacketTimestamp(seconds: t.seconds, nanoseconds: t.nanoseconds)
    }

    public static func < (a: PacketTimestamp, b: PacketTimestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    /// "seconds.nanoseconds" with nine decimals.
    public var description: String {
        let n = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - n.count))\(n)"
    }
}

/// What the kernel said about one queued packet. The bytes themselves are lent separately.
public struct PacketInfo: Sendable {
    public var id: PacketID
    public var queue: UInt16
    public var hook: NetfilterHook
    /// EtherType of the packet: 0x0800 IPv4, 0x86DD IPv6 (0 where the hook has no link layer).
    public var hwProtocol: UInt16
    public var inInterface: InterfaceIndex?
    public var outInterface: InterfaceIndex?
    public var mark: PacketMark?
    /// NFQA_SKB_GSO: a GSO super-packet (only with `NFQueueConfiguration.gso`).
    public var gso: Bool
    /// NFQA_SKB_CSUMNOTREADY: the transport checksum is only the pseudo-header partial sum; an
    /// edit must recompute it in full (an incremental update would be wrong).
    public var checksumNotReady: Bool
    /// NFQA_SKB_CSUM_NOTVERIFIED, or a queue without F_GSO (whose messages say nothing about
    /// checksums): nobody verified the packet's checksums, so a packet with a wrong one may be
    /// here (one its receiver will discard). Meaningless when `checksumNotReady`.
    public var checksumNotVerified: Bool
    /// Bytes lent to the handler.
    public var capturedLength: Int
    /// The packet's real length (NFQA_CAP_LEN) when the kernel sent only `capturedLength` bytes.
    public var packetLength: Int
    /// NFQA_TIMESTAMP, when the kernel had one for the packet.
    public var timestamp: PacketTimestamp?
    /// When the receive loop read the message (the clock the caller's timers should use).
    /// Messages read back to back, with no wait between them, may share one reading (NFQueue.run).
    public var receivedAt: ContinuousClock.Instant

    /// A truncated copy must never be handed back as a replacement payload (the kernel would trim
    /// the packet to it); NFQueue refuses `.acceptModified` for it and drops the packet instead.
    public var isTruncated: Bool { capturedLength < packetLength }
}

/// The handler's answer for one packet.
public enum PacketAction: Sendable, Equatable {
    /// NF_ACCEPT, unchanged (no payload in the verdict).
    case accept
    /// The handler edited the lent bytes in place and they are valid for the first `length`
    /// bytes (`length` ≤ the lent count; IP length and checksums already fixed): NF_ACCEPT with
    /// them as the replacement payload.
    case acceptModified(length: Int)
    /// NF_DROP.
    case drop
    /// NF_REPEAT with the mark set: an iptables rule matching the mark, placed before the NFQUEUE
    /// rule, decides the packet (e.g. `-m mark --mark M -j REJECT --reject-with tcp-reset`).
    case repeatWithMark(PacketMark)
    /// No verdict now: the caller copied what it needs and will call `NFQueue.verdict(...)`.
    case deferred
}

/// An address of one of this box's interfaces: 4 bytes (IPv4) or 16 (IPv6), network order.
public struct InterfaceAddress: Hashable, Sendable {
    public let interface: String
    public let bytes: [UInt8]
    public let prefixLength: Int

    /// Every address of this box's interfaces (getifaddrs).
    public static func all() -> [InterfaceAddress] { system_interfaceAddresses() }
}
