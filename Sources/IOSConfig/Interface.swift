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

    /// Every address the configuration gives the interface (primary first).
    public var allAddresses: [InterfaceAddress] { [address].compactMap { $0 } + secondaryAddresses }

    /// Whether anything smtp-inspect enforces is set on the interface (so it needs a Linux name).
    public var needsRules: Bool {
        accessGroupIn != nil || accessGroupOut != nil || inspectIn != nil || inspectOut != nil
            || nat != nil
    }
}
