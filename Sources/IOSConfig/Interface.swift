/// A direction on an interface, as IOS names it.
public enum Direction: String, Hashable, Sendable, CaseIterable {
    case `in`
    case out
}

/// `ip nat inside` or `ip nat outside`.
public enum NATRole: String, Hashable, Sendable {
    case inside
    case outside
}

/// An address and netmask from `ip address A M [secondary]`.
public struct InterfaceAddress: Hashable, Sendable {
    public var address: IPv4Address
    public var netmask: IPv4Address
    public var location: SourceLocation

    public init(address: IPv4Address, netmask: IPv4Address, location: SourceLocation) {
        self.address = address
        self.netmask = netmask
        self.location = location
    }

    /// Whether `other` is in this address's subnet.
    public func contains(_ other: IPv4Address) -> Bool {
        address.value & netmask.value == other.value & netmask.value
    }
}

/// An `interface NAME` block. The name keeps IOS's spelling (`Ethernet2/0`); the Linux name comes
/// from the interface map given to the rule generator.
public struct Interface: Hashable, Sendable {
    public var name: String
    /// Where the block first starts.
    public var location: SourceLocation
    public var description: Located<String>?
    /// `ip address A M`; nil for `no ip address` or none.
    public var address: InterfaceAddress?
    /// `ip address A M secondary`
    public var secondaryAddresses: [InterfaceAddress] = []
    /// `ip address negotiated|dhcp`: the address comes from the peer (PPP, PPPoE) or DHCP.
    public var dynamicAddress: Located<String>?
    /// `ip access-group N|NAME in`
    public var accessGroupIn: Located<String>?
    /// `ip access-group N|NAME out`
    public var accessGroupOut: Located<String>?
    /// `ip inspect NAME in`
    public var inspectIn: Located<String>?
    /// `ip inspect NAME out`
    public var inspectOut: Located<String>?
    /// `ip nat inside|outside`
    public var nat: Located<NATRole>?
    /// `shutdown`; default no shutdown.
    public var shutdown: Configured<Bool> = .byDefault(false)
    /// `ipv6 address A/LEN [eui-64|anycast]`, `ipv6 address A link-local`, in order.
    public var ipv6Addresses: [IPv6InterfaceAddress] = []
    /// `ipv6 address autoconfig|dhcp` or a general prefix: the address comes from elsewhere.
    public var ipv6DynamicAddress: Located<String>?
    /// `ipv6 enable`: IPv6 with a link-local address only.
    public var ipv6Enable: SourceLocation?
    /// `ipv6 traffic-filter NAME in|out`
    public var trafficFilterIn: Located<String>?
    public var trafficFilterOut: Located<String>?
    /// `ipv6 inspect NAME in|out`
    public var ipv6InspectIn: Located<String>?
    public var ipv6InspectOut: Located<String>?

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }

    public func accessGroup(_ direction: Direction) -> Located<String>? {
        direction == .in ? accessGroupIn : accessGroupOut
    }

    public func inspection(_ direction: Direction) -> Located<String>? {
        direction == .in ? inspectIn : inspectOut
    }

    /// `ip access-group` or `ipv6 traffic-filter` in `direction`.
    public func accessGroup(_ direction: Direction, family: AddressFamily) -> Located<String>? {
        family == .ipv4 ? accessGroup(direction) : direction == .in ? trafficFilterIn : trafficFilterOut
    }

    /// `ip inspect` or `ipv6 inspect` in `direction`.
    public func inspection(_ direction: Direction, family: AddressFamily) -> Located<String>? {
        family == .ipv4 ? inspection(direction) : direction == .in ? ipv6InspectIn : ipv6InspectOut
    }

    /// What an interface names in a direction: an access list or an inspection rule.
    enum Reference {
        /// `ip access-group`, `ipv6 traffic-filter`
        case accessList
        /// `ip inspect`, `ipv6 inspect`
        case inspection
    }

    /// The access list or inspection rule the interface names in `direction` and `family`.
    subscript(reference: Reference, direction: Direction, family: AddressFamily) -> Located<String>? {
        get { reference == .accessList ? accessGroup(direction, family: family) : inspection(direction, family: family) }
        set {
            switch (reference, family, direction) {
            case (.accessList, .ipv4, .in): accessGroupIn = newValue
            case (.accessList, .ipv4, .out): accessGroupOut = newValue
            case (.accessList, .ipv6, .in): trafficFilterIn = newValue
            case (.accessList, .ipv6, .out): trafficFilterOut = newValue
            case (.inspection, .ipv4, .in): inspectIn = newValue
            case (.inspection, .ipv4, .out): inspectOut = newValue
            case (.inspection, .ipv6, .in): ipv6InspectIn = newValue
            case (.inspection, .ipv6, .out): ipv6InspectOut = newValue
            }
        }
    }

    /// Whether the configuration turns IPv6 on for the interface (an address, autoconfig, `ipv6 enable`).
    public var hasIPv6: Bool { !ipv6Addresses.isEmpty || ipv6DynamicAddress != nil || ipv6Enable != nil }

    /// Every address the configuration gives the interface (primary first).
    public var allAddresses: [InterfaceAddress] { [address].compactMap { $0 } + secondaryAddresses }

    /// Whether anything smtp-inspect enforces is set on the interface (so it needs a Linux name).
    public var needsRules: Bool {
        accessGroupIn != nil || accessGroupOut != nil || inspectIn != nil || inspectOut != nil
            || nat != nil || trafficFilterIn != nil || trafficFilterOut != nil || ipv6InspectIn != nil
            || ipv6InspectOut != nil
    }
}
