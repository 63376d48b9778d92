/// The validated model of an IOS running-config: what smtp-inspect applies. Every node carries the
/// place it was written; settings left at IOS's default carry no place.
///
/// Build it with `IOSConfigParser.parse(_:fileName:)`: a value that exists has passed validation
/// (every reference resolves, no duplicate static NAT, thresholds in order).
public struct IOSConfiguration: Hashable, Sendable {
    public var hostname: Located<String>?
    /// `service timestamps log|debug …`: the prefix of alerts and debug lines.
    public var timestamps = Timestamps()
    /// The global `ip inspect …` settings.
    public var inspect = InspectGlobals()
    /// `ip inspect name …`, in the order each name first appears.
    public var inspectionRules: [InspectionRule] = []
    /// `interface …` blocks, in the order each interface first appears.
    public var interfaces: [Interface] = []
    /// Numbered and named access lists, in the order each first appears.
    public var accessLists: [AccessList] = []
    /// `object-group network|service NAME`, in the order each first appears.
    public var networkGroups: [NetworkObjectGroup] = []
    public var serviceGroups: [ServiceObjectGroup] = []
    /// `ip nat inside source static L G`, in configuration order.
    public var staticNAT: [StaticNAT] = []
    /// `ip nat inside source static tcp|udp L LPORT G|interface IF GPORT`: port forwards.
    public var staticPortNAT: [StaticPortNAT] = []
    /// `ip nat inside source static network L G MASK|/LEN`
    public var staticNetworkNAT: [StaticNetworkNAT] = []
    /// `ip nat pool NAME …`
    public var natPools: [NATPool] = []
    /// `ip nat inside source list|route-map … interface|pool … [overload]`
    public var dynamicNAT: [DynamicNAT] = []
    /// `route-map NAME permit|deny N` with its `match` lines (used by NAT).
    public var routeMaps: [RouteMap] = []
    /// `ip port-map APPLICATION port …`: extra ports of an inspected application.
    public var portMaps: [PortMap] = []
    /// `ip route …`: informational only, the Linux routing table is the operator's.
    public var routes: [StaticRoute] = []
    /// `ip reflexive-list timeout S` (default 300 s).
    public var reflexiveTimeout: Configured<UInt32> = .byDefault(300)
    /// The `version` line, and the IOS release a `show version` banner in the paste names.
    public var version: IOSVersion?
    /// `ipv6 unicast-routing`: IOS routes IPv6 only with it.
    public var ipv6UnicastRouting: SourceLocation?
    /// The global `ipv6 inspect …` settings (IOS keeps them apart from `ip inspect`'s).
    public var ipv6Inspect = InspectGlobals()
    /// `ipv6 inspect name …`, in the order each name first appears (names apart from `ip inspect`'s).
    public var ipv6InspectionRules: [InspectionRule] = []
    /// `ipv6 access-list NAME`, in the order each first appears.
    public var ipv6AccessLists: [IPv6AccessList] = []
    /// `ipv6 inspect routing-header`
    public var ipv6InspectRoutingHeader: SourceLocation?

    public init() {}

    /// The rule with this name (case-sensitive, as in IOS).
    public func inspectionRule(named name: String) -> InspectionRule? {
        inspectionRules.first { $0.name == name }
    }

    /// The `ip inspect name` or `ipv6 inspect name` rule with this name.
    public func inspectionRule(named name: String, family: AddressFamily) -> InspectionRule? {
        (family == .ipv4 ? inspectionRules : ipv6InspectionRules).first { $0.name == name }
    }

    /// The rules of one family: `ip inspect name …` or `ipv6 inspect name …`.
    public func inspectionRules(_ family: AddressFamily) -> [InspectionRule] {
        family == .ipv4 ? inspectionRules : ipv6InspectionRules
    }

    /// The `ip inspect` or `ipv6 inspect` globals.
    public func inspectGlobals(_ family: AddressFamily) -> InspectGlobals {
        family == .ipv4 ? inspect : ipv6Inspect
    }

    /// The IPv6 access list with this name (case-sensitive).
    public func ipv6AccessList(named name: String) -> IPv6AccessList? {
        ipv6AccessLists.first { $0.name == name }
    }

    /// Whether the configuration says anything about IPv6 that smtp-inspect applies.
    public var configuresIPv6: Bool {
        ipv6UnicastRouting != nil || !ipv6InspectionRules.isEmpty || !ipv6AccessLists.isEmpty || interfaces.contains(where: \.hasIPv6)
    }

    /// The numbered access list, if the configuration has an entry for it.
    public func accessList(_ number: Int) -> AccessList? {
        accessList(named: "\(number)")
    }

    /// The access list with this name or number (names are case-sensitive, as in IOS).
    public func accessList(named name: String) -> AccessList? {
        accessLists.first { $0.name == name }
    }

    /// Interfaces are looked up as IOS does: without regard to case, and by IOS's short forms
    /// (`ethernet2/0`, `e2/0`, `Fa0/1`, `dialer1`).
    public func interface(named name: String) -> Interface? {
        let key = InterfaceName.canonical(name).name.lowercased()
        return interfaces.first { $0.name.lowercased() == key }
    }
}

/// How IOS stamps log (alert, audit trail) and debug lines.
public enum TimestampFormat: Hashable, Sendable {
    /// `no service timestamps …`
    case none
    /// `service timestamps … uptime`: time since boot.
    case uptime
    /// `service timestamps … datetime [msec] [localtime] [show-timezone] [year]`
    case datetime(msec: Bool, localtime: Bool, showTimezone: Bool, year: Bool)
}

/// `service timestamps log …` and `service timestamps debug …`.
public struct Timestamps: Hashable, Sendable {
    /// IOS 12.x default when the line is absent: uptime stamps.
    public var log: Configured<TimestampFormat> = .byDefault(.uptime)
    public var debug: Configured<TimestampFormat> = .byDefault(.uptime)

    public init() {}
}

/// `ip nat inside source static LOCAL GLOBAL [no-alias]`: a one-to-one translation of an inside
/// host's address, both ways.
public struct StaticNAT: Hashable, Sendable {
    /// The inside local address (the host's real address).
    public var local: IPv4Address
    /// The inside global address (what the outside sees).
    public var global: IPv4Address
    /// `no-alias`: IOS then does not answer ARP for the global address.
    public var noAlias: Bool
    public var location: SourceLocation

    public init(local: IPv4Address, global: IPv4Address, noAlias: Bool = false, location: SourceLocation) {
        self.local = local
        self.global = global
        self.noAlias = noAlias
        self.location = location
    }
}

/// `ip route PREFIX MASK target…`, kept for `check` and the model dump; it configures nothing.
public struct StaticRoute: Hashable, Sendable {
    public var prefix: IPv4Address
    public var mask: IPv4Address
    /// The rest of the line as written: next hop, interface, distance, options.
    public var target: [String]
    public var location: SourceLocation

    public init(prefix: IPv4Address, mask: IPv4Address, target: [String], location: SourceLocation) {
        self.prefix = prefix
        self.mask = mask
        self.target = target
        self.location = location
    }
}
