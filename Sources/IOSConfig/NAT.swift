/// The global address of a NAT entry: an address, or whatever address an interface has (a
/// dialer's negotiated address).
public enum NATGlobal: Hashable, Sendable, CustomStringConvertible {
    case address(IPv4Address)
    case interface(String)

    public var description: String {
        switch self {
        case .address(let address): "\(address)"
        case .interface(let name): "interface \(name)"
        }
    }
}

/// `ip nat inside source static tcp|udp LOCAL LPORT GLOBAL|interface IF GPORT [extendable]
/// [no-alias]`: a port forward (the usual way a mail server sits behind a dialer).
public struct StaticPortNAT: Hashable, Sendable {
    /// 6 (tcp) or 17 (udp).
    public var protocolNumber: UInt8
    public var local: IPv4Address
    public var localPort: UInt16
    public var global: NATGlobal
    public var globalPort: UInt16
    public var extendable: Bool
    public var noAlias: Bool
    public var location: SourceLocation

    public init(
        protocolNumber: UInt8, local: IPv4Address, localPort: UInt16, global: NATGlobal, globalPort: UInt16,
        extendable: Bool = false, noAlias: Bool = false, location: SourceLocation
    ) {
        self.protocolNumber = protocolNumber
        self.local = local
        self.localPort = localPort
        self.global = global
        self.globalPort = globalPort
        self.extendable = extendable
        self.noAlias = noAlias
        self.location = location
    }

    public var protocolName: String { protocolNumber == PacketMatch.tcp ? "tcp" : "udp" }
}

/// `ip nat inside source static network LOCAL GLOBAL MASK|/LEN [no-alias]`: a subnet mapped
/// one-to-one onto another.
public struct StaticNetworkNAT: Hashable, Sendable {
    public var local: IPv4Address
    public var global: IPv4Address
    public var prefixLength: Int
    public var noAlias: Bool
    public var location: SourceLocation

    public init(local: IPv4Address, global: IPv4Address, prefixLength: Int, noAlias: Bool = false,
                location: SourceLocation) {
        self.local = local
        self.global = global
        self.prefixLength = prefixLength
        self.noAlias = noAlias
        self.location = location
    }
}

/// `ip nat pool NAME FIRST LAST netmask M|prefix-length N [type rotary|match-host]`
public struct NATPool: Hashable, Sendable {
    public var name: String
    public var first: IPv4Address
    public var last: IPv4Address
    public var prefixLength: Int
    /// `type match-host` / `type rotary`, as written (nil: the generic pool).
    public var type: String?
    public var location: SourceLocation

    public init(name: String, first: IPv4Address, last: IPv4Address, prefixLength: Int, type: String? = nil,
                location: SourceLocation) {
        self.name = name
        self.first = first
        self.last = last
        self.prefixLength = prefixLength
        self.type = type
        self.location = location
    }

    /// The pool's addresses (IOS skips none; the operator keeps the network and broadcast out).
    public var count: Int { Int(last.value) - Int(first.value) + 1 }
}

/// `ip nat inside source list ACL|route-map NAME interface IF|pool NAME [overload]`: dynamic NAT
/// of the inside sources the list (or route-map) permits.
public struct DynamicNAT: Hashable, Sendable {
    public enum Selector: Hashable, Sendable {
        case list(String)
        case routeMap(String)
    }

    public enum Target: Hashable, Sendable {
        case interface(String)
        case pool(String)
    }

    public var selector: Selector
    public var target: Target
    public var overload: Bool
    public var location: SourceLocation

    public init(selector: Selector, target: Target, overload: Bool, location: SourceLocation) {
        self.selector = selector
        self.target = target
        self.overload = overload
        self.location = location
    }
}

/// `route-map NAME permit|deny SEQ` and its `match` lines: NAT uses a route-map that matches an
/// access list (`match ip address ACL …`) and, optionally, the outgoing interface.
public struct RouteMap: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var permit: Bool
        public var sequence: Int
        /// `match ip address ACL …`: any of the lists.
        public var accessLists: [Located<String>] = []
        /// `match interface IF …`: the packet leaves through one of them.
        public var interfaces: [Located<String>] = []
        /// `match`/`set` lines NAT cannot use, as written (an error when NAT uses this map).
        public var otherClauses: [Located<String>] = []
        public var location: SourceLocation

        public init(permit: Bool, sequence: Int, location: SourceLocation) {
            self.permit = permit
            self.sequence = sequence
            self.location = location
        }
    }

    public var name: String
    public var location: SourceLocation
    /// In sequence order.
    public var entries: [Entry] = []

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

extension IOSConfiguration {
    public func natPool(named name: String) -> NATPool? { natPools.first { $0.name == name } }
    public func routeMap(named name: String) -> RouteMap? { routeMaps.first { $0.name == name } }
}
