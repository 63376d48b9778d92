/// A numbered IOS access list: standard (source only) or extended.
public struct AccessList: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case standard
        case extended
    }

    public var number: Int
    public var kind: Kind
    /// Where the first entry is.
    public var location: SourceLocation
    /// In configuration order: the first match wins; nothing matched is denied.
    public var entries: [AccessListEntry] = []

    public init(number: Int, kind: Kind, location: SourceLocation) {
        self.number = number
        self.kind = kind
        self.location = location
    }

    /// The kind an access-list number denotes: standard 1-99 and 1300-1999, extended 100-199 and
    /// 2000-2699; nil for any other number (not an IP access list).
    public static func kind(ofNumber number: Int) -> Kind? {
        switch number {
        case 1...99, 1300...1999: .standard
        case 100...199, 2000...2699: .extended
        default: nil
        }
    }
}

/// One `access-list N permit|deny …` line.
public struct AccessListEntry: Hashable, Sendable {
    public enum Action: String, Hashable, Sendable {
        case permit
        case deny
    }

    public var action: Action
    public var match: PacketMatch
    /// `log` or `log-input`: IOS logs each match.
    public var log: Bool
    public var location: SourceLocation

    public init(action: Action, match: PacketMatch, log: Bool, location: SourceLocation) {
        self.action = action
        self.match = match
        self.log = log
        self.location = location
    }
}

/// `any`, `host A`, or `A WILDCARD` (one bits of the wildcard: don't care).
public enum AddressMatch: Hashable, Sendable {
    case any
    case host(IPv4Address)
    case wildcard(IPv4Address, IPv4Address)

    /// Whether an address falls under this match.
    public func matches(_ address: IPv4Address) -> Bool {
        switch self {
        case .any: true
        case .host(let host): host == address
        case .wildcard(let base, let wildcard): base.matches(address, wildcard: wildcard)
        }
    }
}

/// `eq`, `neq`, `gt`, `lt` or `range` with TCP or UDP port numbers.
public enum PortMatch: Hashable, Sendable {
    case eq(UInt16)
    case neq(UInt16)
    case gt(UInt16)
    case lt(UInt16)
    case range(UInt16, UInt16)
}

/// An ICMP type, and code where given (`echo-reply`, `3 4`, `packet-too-big`).
public struct ICMPMatch: Hashable, Sendable {
    public var type: UInt8
    public var code: UInt8?

    public init(type: UInt8, code: UInt8?) {
        self.type = type
        self.code = code
    }
}

/// What an access-list entry matches.
public struct PacketMatch: Hashable, Sendable {
    /// nil: `ip`, any protocol. Else the IP protocol number (tcp 6, udp 17, icmp 1, …).
    public var protocolNumber: UInt8?
    public var source: AddressMatch
    public var sourcePort: PortMatch?
    /// Always `.any` in a standard list.
    public var destination: AddressMatch
    public var destinationPort: PortMatch?
    /// `established`: TCP segments with ACK or RST set.
    public var established: Bool
    public var icmp: ICMPMatch?

    public init(
        protocolNumber: UInt8? = nil, source: AddressMatch, sourcePort: PortMatch? = nil,
        destination: AddressMatch = .any, destinationPort: PortMatch? = nil,
        established: Bool = false, icmp: ICMPMatch? = nil
    ) {
        self.protocolNumber = protocolNumber
        self.source = source
        self.sourcePort = sourcePort
        self.destination = destination
        self.destinationPort = destinationPort
        self.established = established
        self.icmp = icmp
    }

    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpProtocol: UInt8 = 1
}
