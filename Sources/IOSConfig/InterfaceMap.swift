/// An IPv4 address a Linux interface has on this box (what `ip -4 addr` lists).
public struct HostAddress: Hashable, Sendable {
    public var interface: String
    public var address: IPv4Address
    public var prefixLength: Int

    public init(interface: String, address: IPv4Address, prefixLength: Int) {
        self.interface = interface
        self.address = address
        self.prefixLength = prefixLength
    }
}

/// An IPv6 address a Linux interface has on this box (what `ip -6 addr` lists).
public struct HostAddress6: Hashable, Sendable {
    public var interface: String
    public var address: IPv6Address
    public var prefixLength: Int

    public init(interface: String, address: IPv6Address, prefixLength: Int) {
        self.interface = interface
        self.address = address
        self.prefixLength = prefixLength
    }
}

/// `--interface` arguments: explicit `IOSNAME=LINUXNAME` pairs, and `auto`, which maps every
/// other interface of the configuration by its `ip address` (or `ipv6 address`) to the Linux
/// interface that has it.
public enum InterfaceMap {
    /// The map: the explicit pairs, then (with `automatic`) each interface with an address the
    /// box has. An interface that needs rules and maps nowhere is an error listing the
    /// candidates; one that needs none is left out (the rules' header says so).
    public static func resolve(
        _ configuration: IOSConfiguration, explicit: [InterfaceMapping], automatic: Bool, host: [HostAddress],
        host6: [HostAddress6] = []
    ) -> Result<[InterfaceMapping], RuleGenerationErrors> {
        // Explicit names as the configuration spells them (`fa0/0` → FastEthernet0/0).
        let explicit = explicit.map { mapping in
            configuration.interface(named: mapping.iosName).flatMap { InterfaceMapping(iosName: $0.name, linuxName: mapping.linuxName) }
                ?? mapping
        }
        guard automatic else { return .success(explicit) }
        var result = explicit
        var errors: [RuleGenerationError] = []
        let mappedIOS = Set(explicit.compactMap { configuration.interface(named: $0.iosName)?.name })
        var usedLinux = Set(explicit.map(\.linuxName))
        var unmapped: [(Interface, [String])] = []
        // First every interface whose address the box has, then the others with what is left.
        for interface in configuration.interfaces where !mappedIOS.contains(interface.name) {
            // Link-local addresses are no clue: every IPv6 interface has fe80::/10.
            let owners = interface.allAddresses.flatMap { configured in
                host.filter { $0.address == configured.address }.map(\.interface)
            } + interface.ipv6Addresses.filter { $0.kind != .linkLocal }.flatMap { configured in
                host6.filter { $0.address == configured.address }.map(\.interface)
            }
            let unique = Array(Set(owners)).sorted()
            if unique.count == 1, !usedLinux.contains(unique[0]), let mapping = InterfaceMapping(iosName: interface.name, linuxName: unique[0]) {
                result.append(mapping)
                usedLinux.insert(unique[0])
            } else if interface.needsRules, !interface.shutdown.value {
                unmapped.append((interface, unique))
            }
        }
        for (interface, owners) in unmapped {
            errors.append(RuleGenerationError(
                "--interface auto: interface \(interface.name) (\(describe(interface))) maps to no Linux interface"
                    + (owners.count > 1 ? ": its addresses are on \(owners.joined(separator: " and "))" : ""),
                hint: "candidates: \(candidates(for: interface, host: host, host6: host6, used: usedLinux)); "
                    + "give --interface \(interface.name)=LINUXNAME", location: interface.location))
        }
        return errors.isEmpty ? .success(result) : .failure(RuleGenerationErrors(errors: errors))
    }

    static func describe(_ interface: Interface) -> String {
        var parts: [String] = []
        if let dynamic = interface.dynamicAddress {
            parts.append("ip address \(dynamic.value)")
        } else {
            let addresses = interface.allAddresses.map { "\($0.address)/\($0.netmask.netmaskPrefixLength ?? 32)" }
            parts.append(addresses.isEmpty ? "no ip address" : "ip address " + addresses.joined(separator: ", "))
        }
        let v6 = interface.ipv6Addresses.filter { $0.kind != .linkLocal }.map { "\($0.address)/\($0.prefixLength)" }
        if !v6.isEmpty { parts.append("ipv6 address " + v6.joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }

    /// The box's interfaces, those in one of the interface's subnets first.
    static func candidates(for interface: Interface, host: [HostAddress], host6: [HostAddress6] = [], used: Set<String>) -> String {
        let free = host.filter { !used.contains($0.interface) }
        let free6 = host6.filter { !used.contains($0.interface) && !$0.address.isLinkLocal }
        guard !free.isEmpty || !free6.isEmpty else { return "none (every Linux interface with an address is mapped already)" }
        func near(_ entry: HostAddress) -> Bool { interface.allAddresses.contains { $0.contains(entry.address) } }
        func near6(_ entry: HostAddress6) -> Bool { interface.ipv6Addresses.contains { $0.prefix?.contains(entry.address) == true } }
        let sorted = free.filter(near) + free.filter { !near($0) }
        let sorted6 = free6.filter(near6) + free6.filter { !near6($0) }
        return (sorted.map { "\($0.interface) (\($0.address)/\($0.prefixLength)\(near($0) ? ", same subnet" : ""))" }
            + sorted6.map { "\($0.interface) (\($0.address)/\($0.prefixLength)\(near6($0) ? ", same prefix" : ""))" })
            .joined(separator: ", ")
    }
}
