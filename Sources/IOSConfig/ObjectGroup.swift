/// `object-group network NAME` (IOS 12.4(20)T and later): addresses an access-list entry names
/// with `object-group NAME` in place of a source or destination.
public struct NetworkObjectGroup: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var members: [Located<NetworkObject>] = []

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// One line of a network object group.
public enum NetworkObject: Hashable, Sendable {
    /// `host A`
    case host(IPv4Address)
    /// `A MASK` or `A /LEN`: a network with a (contiguous) netmask.
    case network(IPv4Address, prefixLength: Int)
    /// `range A B`
    case range(IPv4Address, IPv4Address)
    /// `group-object NAME`
    case group(String)
}

/// `object-group service NAME`: protocols and ports an access-list entry names with
/// `object-group NAME` in place of its protocol.
public struct ServiceObjectGroup: Hashable, Sendable {
    public var name: String
    public var location: SourceLocation
    public var members: [Located<ServiceObject>] = []

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// One line of a service object group.
public enum ServiceObject: Hashable, Sendable {
    /// `PROTOCOL`, `tcp|udp|tcp-udp [source OP P] [OP P]`, `icmp [TYPE]`. `protocols` has two
    /// numbers (6 and 17) for `tcp-udp`; empty for `ip` (any protocol).
    case service(protocols: [UInt8], sourcePort: PortMatch?, destinationPort: PortMatch?, icmp: ICMPMatch?)
    /// `group-object NAME`
    case group(String)
}

extension IOSConfiguration {
    public func networkGroup(named name: String) -> NetworkObjectGroup? {
        networkGroups.first { $0.name == name }
    }

    public func serviceGroup(named name: String) -> ServiceObjectGroup? {
        serviceGroups.first { $0.name == name }
    }

    /// An entry's match with every object group replaced by its members: one match per
    /// combination of source, destination and service (what iptables can take, one rule each).
    /// A match without object groups comes back alone. Groups are validated when parsed (they
    /// exist, have the right kind and do not nest into themselves).
    public func expand(_ match: PacketMatch) -> [PacketMatch] {
        let sources = addresses(match.source, seen: [])
        let destinations = addresses(match.destination, seen: [])
        var services: [PacketMatch] = [match]
        if let group = match.service {
            services = serviceMembers(group, seen: []).flatMap { member -> [PacketMatch] in
                guard case .service(let protocols, let sourcePort, let destinationPort, let icmp) = member else { return [] }
                let numbers: [UInt8?] = protocols.isEmpty ? [nil] : protocols.map { $0 }
                return numbers.map { number in
                    var copy = match
                    copy.service = nil
                    copy.protocolNumber = number
                    copy.sourcePort = sourcePort
                    copy.destinationPort = destinationPort
                    copy.icmp = number == PacketMatch.icmpProtocol ? icmp : nil
                    return copy
                }
            }
        }
        var result: [PacketMatch] = []
        for service in services {
            for source in sources {
                for destination in destinations {
                    var copy = service
                    copy.source = source
                    copy.destination = destination
                    result.append(copy)
                }
            }
        }
        return result
    }

    private func addresses(_ match: AddressMatch, seen: Set<String>) -> [AddressMatch] {
        guard case .objectGroup(let name) = match else { return [match] }
        guard !seen.contains(name), let group = networkGroup(named: name) else { return [] }
        return group.members.flatMap { member -> [AddressMatch] in
            switch member.value {
            case .host(let address): return [.host(address)]
            case .network(let address, let length):
                if length == 32 { return [.host(address)] }
                if length == 0 { return [.any] }
                return [.wildcard(address, IPv4Address.netmask(prefixLength: length).inverted)]
            case .range(let first, let last): return [first == last ? .host(first) : .range(first, last)]
            case .group(let nested): return addresses(.objectGroup(nested), seen: seen.union([name]))
            }
        }
    }

    private func serviceMembers(_ name: String, seen: Set<String>) -> [ServiceObject] {
        guard !seen.contains(name), let group = serviceGroup(named: name) else { return [] }
        return group.members.flatMap { member -> [ServiceObject] in
            if case .group(let nested) = member.value { return serviceMembers(nested, seen: seen.union([name])) }
            return [member.value]
        }
    }
}
