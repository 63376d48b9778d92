/// IPv4 or IPv6: which `ip …` or `ipv6 …` lines a part of the configuration comes from, and
/// which rule set (iptables or ip6tables) it goes to.
public enum AddressFamily: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case ipv4
    case ipv6

    public var other: AddressFamily { self == .ipv4 ? .ipv6 : .ipv4 }
    /// `IPv4`, `IPv6`
    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
    /// The IOS command word: `ip` or `ipv6`.
    public var keyword: String { self == .ipv4 ? "ip" : "ipv6" }
}

/// `any`, `host A` or `A/LEN` in an IPv6 access-list entry.
public enum IPv6AddressMatch: Hashable, Sendable {
    case any
    case host(IPv6Address)
    case prefix(IPv6Prefix)

    public func matches(_ address: IPv6Address) -> Bool {
        switch self {
        case .any: true
        case .host(let host): host == address
        case .prefix(let prefix): prefix.contains(address)
        }
    }
}

/// What an `ipv6 access-list` entry matches.
public struct IPv6PacketMatch: Hashable, Sendable {
    /// nil: `ipv6`, any protocol. Else the next-header value (`icmp` is ICMPv6, 58).
    public var protocolNumber: UInt8?
    public var source: IPv6AddressMatch
    public var sourcePort: PortMatch?
    public var destination: IPv6AddressMatch
    public var destinationPort: PortMatch?
    /// `established`: TCP segments with ACK or RST set.
    public var established = false
    public var tcpFlags: TCPFlags = []
    /// An ICMPv6 type and code (`nd-na`, `packet-too-big`, `1 4`).
    public var icmp: ICMPMatch?
    public var dscp: UInt8?
    /// `fragments`: IOS matches non-initial fragments.
    public var fragments = false
    /// `routing` (any routing header) or `routing-type N`.
    public var routing = false
    public var routingType: UInt8?
    /// `hbh`: a hop-by-hop options header.
    public var hopByHop = false

    public init(protocolNumber: UInt8? = nil, source: IPv6AddressMatch = .any, sourcePort: PortMatch? = nil,
                destination: IPv6AddressMatch = .any, destinationPort: PortMatch? = nil, icmp: ICMPMatch? = nil) {
        self.protocolNumber = protocolNumber
        self.source = source
        self.sourcePort = sourcePort
        self.destination = destination
        self.destinationPort = destinationPort
        self.icmp = icmp
    }

    public static let icmpv6: UInt8 = 58
}

/// One entry of an `ipv6 access-list`: `[sequence N] permit|deny …`, or `evaluate NAME`.
public struct IPv6AccessListEntry: Hashable, Sendable {
    public var action: AccessListEntry.Action
    public var match: IPv6PacketMatch
    public var log: Bool
    public var sequence: Int
    public var reflexive: ReflexiveList?
    /// nil for the entries IOS adds at the end of every list.
    public var location: SourceLocation?

    public init(action: AccessListEntry.Action, match: IPv6PacketMatch, log: Bool = false, sequence: Int,
                reflexive: ReflexiveList? = nil, location: SourceLocation?) {
        self.action = action
        self.match = match
        self.log = log
        self.sequence = sequence
        self.reflexive = reflexive
        self.location = location
    }
}

extension IPv6PacketMatch: EntryMatch {}

extension IPv6AccessListEntry: AccessListEntryProtocol {}

/// `ipv6 access-list NAME` with its entries. IOS ends every IPv6 list with
/// `permit icmp any any nd-na`, `permit icmp any any nd-ns` and `deny ipv6 any any`, so that
/// neighbour discovery works under any list that does not deny it explicitly.
public struct IPv6AccessList: Hashable, Sendable, SequencedAccessList {
    /// Case-sensitive, as in IOS.
    public var name: String
    public var location: SourceLocation
    /// In sequence-number order: the first match wins.
    public var entries: [IPv6AccessListEntry] = []

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    /// ICMPv6 neighbour advertisement (136) and solicitation (135).
    public static let neighborAdvertisement = ICMPMatch(type: 136, code: nil)
    public static let neighborSolicitation = ICMPMatch(type: 135, code: nil)

    /// The two neighbour-discovery permits IOS adds before its implicit deny.
    public static let implicitPermits: [IPv6AccessListEntry] = [neighborAdvertisement, neighborSolicitation].map { icmp in
        IPv6AccessListEntry(action: .permit, match: IPv6PacketMatch(protocolNumber: IPv6PacketMatch.icmpv6, icmp: icmp),
                            sequence: 0, location: nil)
    }
}

/// An IPv6 address of an interface: `ipv6 address A/LEN [eui-64|anycast]`, `ipv6 address A link-local`.
public struct IPv6InterfaceAddress: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case global
        /// `eui-64`: the prefix is given, the interface identifier comes from the MAC address.
        case eui64 = "eui-64"
        case anycast
        case linkLocal = "link-local"
    }

    public var address: IPv6Address
    /// 128 for a link-local address written without one.
    public var prefixLength: Int
    public var kind: Kind
    public var location: SourceLocation

    public init(address: IPv6Address, prefixLength: Int, kind: Kind, location: SourceLocation) {
        self.address = address
        self.prefixLength = prefixLength
        self.kind = kind
        self.location = location
    }

    /// The connected prefix (none for a link-local address: fe80::/10 is on every link).
    public var prefix: IPv6Prefix? { kind == .linkLocal ? nil : IPv6Prefix(address, length: prefixLength) }
}
