/// An IOS IP access list: numbered (`access-list 101 …`, or `ip access-list extended 101`) or
/// named (`ip access-list extended OUTSIDE`), standard (source only) or extended.
public struct AccessList: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case standard
        case extended
    }

    /// The number as text for a numbered list (`101`), else the name (`OUTSIDE`; case-sensitive,
    /// as in IOS).
    public var name: String
    public var kind: Kind
    /// Where the list first appears.
    public var location: SourceLocation
    /// In sequence-number order (IOS's order): the first match wins; nothing matched is denied.
    public var entries: [AccessListEntry] = []

    public init(name: String, kind: Kind, location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.location = location
    }

    /// The list's number, when it is a numbered list.
    public var number: Int? { AccessList.isNumber(name) ? Int(name) : nil }
    /// Named lists print as `ip access-list KIND NAME` blocks; numbered ones as `access-list N` lines.
    public var isNamed: Bool { number == nil }

    /// How IOS names the list in messages: `101` or `OUTSIDE`.
    public var label: String { name }

    /// The kind an access-list number denotes: standard 1-99 and 1300-1999, extended 100-199 and
    /// 2000-2699; nil for any other number (not an IP access list).
    public static func kind(ofNumber number: Int) -> Kind? {
        switch number {
        case 1...99, 1300...1999: .standard
        case 100...199, 2000...2699: .extended
        default: nil
        }
    }

    static func isNumber(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy(\.isASCIIDigit)
    }

}

/// What an IPv4 and an IPv6 access list have alike: a name and entries in sequence-number order.
protocol SequencedAccessList {
    associatedtype Entry: AccessListEntryProtocol
    var name: String { get }
    var entries: [Entry] { get set }
}

extension SequencedAccessList {
    /// Inserts `entry` at its sequence number's place (IOS keeps entries sorted by it).
    mutating func insert(_ entry: Entry) {
        let index = entries.firstIndex { $0.sequence > entry.sequence } ?? entries.count
        entries.insert(entry, at: index)
    }

    /// The sequence number IOS gives an entry written without one: 10 past the last.
    var nextSequence: Int { (entries.last?.sequence ?? 0) + 10 }
}

extension AccessList: SequencedAccessList {}

/// What an IPv4 and an IPv6 access-list entry have alike besides their match: the action, `log`,
/// the sequence number and `reflect`/`evaluate`.
protocol AccessListEntryProtocol {
    var action: AccessListEntry.Action { get }
    var log: Bool { get }
    var sequence: Int { get }
    var reflexive: ReflexiveList? { get }
}

extension AccessListEntry: AccessListEntryProtocol {}

/// One entry of an access list: `permit|deny …`, or `evaluate NAME` (a reflexive list's place).
public struct AccessListEntry: Hashable, Sendable {
    public enum Action: String, Hashable, Sendable {
        case permit
        case deny
        /// `evaluate NAME`: packets of sessions a `reflect NAME` entry created pass here.
        case evaluate
    }

    public var action: Action
    public var match: PacketMatch
    /// `log` or `log-input`: IOS logs each match.
    public var log: Bool
    /// IOS's sequence number (10, 20, … when not written).
    public var sequence: Int
    /// `reflect NAME [timeout S]` on a permit, or the list `evaluate` names.
    public var reflexive: ReflexiveList?
    public var location: SourceLocation

    public init(
        action: Action, match: PacketMatch, log: Bool, sequence: Int = 10, reflexive: ReflexiveList? = nil,
        location: SourceLocation
    ) {
        self.action = action
        self.match = match
        self.log = log
        self.sequence = sequence
        self.reflexive = reflexive
        self.location = location
    }
}

/// A reflexive access list (`permit … reflect NAME [timeout S]`, `evaluate NAME`).
public struct ReflexiveList: Hashable, Sendable {
    public var name: String
    /// `timeout S` on the reflect entry; nil: `ip reflexive-list timeout` or 300 s.
    public var timeout: UInt32?

    public init(name: String, timeout: UInt32? = nil) {
        self.name = name
        self.timeout = timeout
    }
}

/// `any`, `host A`, `A WILDCARD` (one bits of the wildcard: don't care), `object-group NAME`, or
/// (from a network object group) `range A B`.
public enum AddressMatch: Hashable, Sendable {
    case any
    case host(IPv4Address)
    case wildcard(IPv4Address, IPv4Address)
    case objectGroup(String)
    /// `range FIRST LAST` of a network object group (inclusive).
    case range(IPv4Address, IPv4Address)

    /// Whether an address falls under this match. An object group matches nothing here: expand it
    /// first (`IOSConfiguration.expand`).
    public func matches(_ address: IPv4Address) -> Bool {
        switch self {
        case .any: true
        case .host(let host): host == address
        case .wildcard(let base, let wildcard): base.matches(address, wildcard: wildcard)
        case .objectGroup: false
        case .range(let first, let last): first <= address && address <= last
        }
    }
}

/// `eq`, `neq`, `gt`, `lt` or `range` with TCP or UDP port numbers; `eq`/`neq` may list several
/// ports (IOS 12.4(20)T and later: up to 10, "noncontiguous ports").
public enum PortMatch: Hashable, Sendable {
    case eq(UInt16)
    case neq(UInt16)
    case gt(UInt16)
    case lt(UInt16)
    case range(UInt16, UInt16)
    /// `eq P1 P2 …`: any of the ports.
    case eqAny([UInt16])
    /// `neq P1 P2 …`: none of the ports.
    case neqAll([UInt16])
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

/// `ttl eq|neq|gt|lt N` or `ttl range A B`.
public enum TTLMatch: Hashable, Sendable {
    case eq(UInt8)
    case neq(UInt8)
    case gt(UInt8)
    case lt(UInt8)
    case range(UInt8, UInt8)
}

/// The TCP flags an extended entry names (`ack`, `fin`, `psh`, `rst`, `syn`, `urg`): all must be set.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)

    /// In IOS's order of printing.
    public static let names: [(name: String, flag: TCPFlags)] = [
        ("ack", .ack), ("fin", .fin), ("psh", .psh), ("rst", .rst), ("syn", .syn), ("urg", .urg),
    ]
}

/// What the matches of IPv4 and IPv6 entries have alike: the protocol, ports, TCP flags and
/// `established`, ICMP type, DSCP and `fragments`.
protocol EntryMatch {
    var protocolNumber: UInt8? { get }
    var sourcePort: PortMatch? { get }
    var destinationPort: PortMatch? { get }
    var established: Bool { get set }
    var tcpFlags: TCPFlags { get set }
    var icmp: ICMPMatch? { get }
    var dscp: UInt8? { get set }
    var fragments: Bool { get set }
}

extension PacketMatch: EntryMatch {}

/// What an access-list entry matches.
public struct PacketMatch: Hashable, Sendable {
    /// nil: `ip`, any protocol (or a service object group). Else the IP protocol number.
    public var protocolNumber: UInt8?
    /// `object-group NAME` in place of the protocol: a service object group.
    public var service: String?
    public var source: AddressMatch
    public var sourcePort: PortMatch?
    /// Always `.any` in a standard list.
    public var destination: AddressMatch
    public var destinationPort: PortMatch?
    /// `established`: TCP segments with ACK or RST set.
    public var established: Bool
    public var icmp: ICMPMatch?
    /// `ack fin psh rst syn urg`: the flags that must be set.
    public var tcpFlags: TCPFlags
    /// `fragments`: non-initial fragments only.
    public var fragments: Bool
    /// `dscp N`, `precedence N`, `tos N`, `ttl …`.
    public var dscp: UInt8?
    public var precedence: UInt8?
    public var tos: UInt8?
    public var ttl: TTLMatch?

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
        service = nil
        tcpFlags = []
        fragments = false
    }

    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpProtocol: UInt8 = 1
}
