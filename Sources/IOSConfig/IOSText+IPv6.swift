extension IOSText {
    /// `any`, `host 2001:DB8::25`, `2001:DB8:10:10::/64` (addresses as IOS prints them).
    public static func address(_ match: IPv6AddressMatch) -> String {
        switch match {
        case .any: "any"
        case .host(let address): "host \(address.iosText)"
        case .prefix(let prefix): "\(prefix.address.iosText)/\(prefix.length)"
        }
    }

    /// `ipv6` for any protocol, IOS's name, or the number.
    public static func ipv6ProtocolName(_ number: UInt8?) -> String {
        guard let number else { return "ipv6" }
        return IOSNames.ipv6Protocols.first { $0.number == number }?.name ?? "\(number)"
    }

    /// IOS's ICMPv6 message name, or `type [code]`.
    public static func icmpv6(_ match: ICMPMatch) -> String {
        if let name = IOSNames.icmpv6Name(type: match.type, code: match.code) { return name }
        return match.code.map { "\(match.type) \($0)" } ?? "\(match.type)"
    }

    /// `permit tcp any host 2001:DB8::25 eq smtp log`: an entry of an `ipv6 access-list`.
    public static func ipv6Entry(_ entry: IPv6AccessListEntry) -> String {
        entryText(entry, match: matchWords(entry.match))
    }

    /// The words of an IPv6 entry's match as IOS prints them.
    public static func matchWords(_ match: IPv6PacketMatch) -> [String] {
        var words = [ipv6ProtocolName(match.protocolNumber), address(match.source)]
        if let port = match.sourcePort { words.append(self.port(port, protocolNumber: match.protocolNumber)) }
        words.append(address(match.destination))
        if let port = match.destinationPort { words.append(self.port(port, protocolNumber: match.protocolNumber)) }
        if let icmp = match.icmp { words.append(icmpv6(icmp)) }
        for flag in TCPFlags.names where match.tcpFlags.contains(flag.flag) { words.append(flag.name) }
        if match.established { words.append("established") }
        if let dscp = match.dscp { words.append("dscp \(dscp)") }
        if match.fragments { words.append("fragments") }
        if match.hopByHop { words.append("hbh") }
        if let type = match.routingType { words.append("routing-type \(type)") } else if match.routing { words.append("routing") }
        return words
    }

    /// `ipv6 address 2001:DB8:10:10::1/64 [eui-64|anycast]`, `ipv6 address FE80::1 link-local`.
    public static func ipv6Address(_ address: IPv6InterfaceAddress) -> String {
        switch address.kind {
        case .linkLocal: "ipv6 address \(address.address.iosText) link-local"
        case .global: "ipv6 address \(address.address.iosText)/\(address.prefixLength)"
        case .eui64, .anycast: "ipv6 address \(address.address.iosText)/\(address.prefixLength) \(address.kind.rawValue)"
        }
    }
}
