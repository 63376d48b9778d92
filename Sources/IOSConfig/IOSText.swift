/// The canonical IOS text of model nodes: how `show running-config` would print them. Used by the
/// running-config renderer, the model dump and the comments of generated rules.
public enum IOSText {
    /// `any`, `host A`, `A W`, `object-group NAME` (or `range A B` from a group).
    public static func address(_ match: AddressMatch) -> String {
        switch match {
        case .any: "any"
        case .host(let address): "host \(address)"
        case .wildcard(let base, let wildcard): "\(base) \(wildcard)"
        case .objectGroup(let name): "object-group \(name)"
        case .range(let first, let last): "range \(first) \(last)"
        }
    }

    static func port(_ value: UInt16, protocolNumber: UInt8?) -> String {
        protocolNumber.flatMap { IOSNames.portName(value, protocolNumber: $0) } ?? "\(value)"
    }

    /// `eq smtp`, `range 1000 2000`: IOS's name where it has one for the protocol.
    public static func port(_ match: PortMatch, protocolNumber: UInt8?) -> String {
        let name = { (value: UInt16) in port(value, protocolNumber: protocolNumber) }
        return switch match {
        case .eq(let value): "eq \(name(value))"
        case .neq(let value): "neq \(name(value))"
        case .gt(let value): "gt \(name(value))"
        case .lt(let value): "lt \(name(value))"
        case .range(let low, let high): "range \(name(low)) \(name(high))"
        case .eqAny(let ports): "eq " + ports.map(name).joined(separator: " ")
        case .neqAll(let ports): "neq " + ports.map(name).joined(separator: " ")
        }
    }

    /// `ip` for any protocol, IOS's name, or the number.
    public static func protocolName(_ number: UInt8?) -> String {
        guard let number else { return "ip" }
        return IOSNames.protocolName(number) ?? "\(number)"
    }

    /// IOS's ICMP message name, or `type [code]`.
    public static func icmp(_ match: ICMPMatch) -> String {
        if let name = IOSNames.icmpName(type: match.type, code: match.code) { return name }
        return match.code.map { "\(match.type) \($0)" } ?? "\(match.type)"
    }

    /// `access-list N permit|deny …` as IOS prints a numbered list's entry; a named list's
    /// entry as it appears under `ip access-list KIND NAME` (`permit …`).
    public static func accessListEntry(_ entry: AccessListEntry, list: AccessList) -> String {
        let body = entryBody(entry, kind: list.kind)
        return list.isNamed ? body : "access-list \(list.name) " + body
    }

    /// `permit tcp any host 192.0.2.25 eq smtp`: an entry without its list.
    public static func entryBody(_ entry: AccessListEntry, kind: AccessList.Kind) -> String {
        entryText(entry, match: matchWords(entry.match, kind: kind))
    }

    /// `permit|deny MATCH [log] [reflect NAME [timeout S]]`, or `evaluate NAME`: an entry of
    /// either family, with the words of its match.
    static func entryText(_ entry: some AccessListEntryProtocol, match: [String]) -> String {
        if entry.action == .evaluate { return "evaluate \(entry.reflexive?.name ?? "")" }
        var words = [entry.action.rawValue] + match
        if entry.log { words.append("log") }
        if let reflexive = entry.reflexive {
            words += ["reflect", reflexive.name] + (reflexive.timeout.map { ["timeout", "\($0)"] } ?? [])
        }
        return words.joined(separator: " ")
    }

    /// The words of a match as IOS prints them.
    public static func matchWords(_ match: PacketMatch, kind: AccessList.Kind) -> [String] {
        var words: [String] = []
        if kind == .extended {
            words.append(match.service.map { "object-group \($0)" } ?? protocolName(match.protocolNumber))
        }
        words.append(address(match.source))
        if let port = match.sourcePort { words.append(self.port(port, protocolNumber: match.protocolNumber)) }
        guard kind == .extended else { return words }
        words.append(address(match.destination))
        if let port = match.destinationPort { words.append(self.port(port, protocolNumber: match.protocolNumber)) }
        if let icmp = match.icmp { words.append(self.icmp(icmp)) }
        for flag in TCPFlags.names where match.tcpFlags.contains(flag.flag) { words.append(flag.name) }
        if match.established { words.append("established") }
        if let dscp = match.dscp { words.append("dscp \(dscp)") }
        if let precedence = match.precedence { words.append("precedence \(precedence)") }
        if let tos = match.tos { words.append("tos \(tos)") }
        if let ttl = match.ttl {
            let text = switch ttl {
            case .eq(let v): "ttl eq \(v)"
            case .neq(let v): "ttl neq \(v)"
            case .gt(let v): "ttl gt \(v)"
            case .lt(let v): "ttl lt \(v)"
            case .range(let a, let b): "ttl range \(a) \(b)"
            }
            words.append(text)
        }
        if match.fragments { words.append("fragments") }
        return words
    }

    /// `ip access-list extended NAME` (or the numbered form's head, for a list written that way).
    public static func accessListHead(_ list: AccessList) -> String {
        "ip access-list \(list.kind.rawValue) \(list.name)"
    }

    /// `ip inspect name NAME PROTOCOL [options]` with the options the line gave.
    public static func inspection(_ inspection: ProtocolInspection, rule: String, family: AddressFamily = .ipv4) -> String {
        var words = ["\(family.keyword) inspect name", rule, inspection.kind.rawValue]
        if let alert = inspection.alert { words.append("alert " + (alert ? "on" : "off")) }
        if let audit = inspection.auditTrail { words.append("audit-trail " + (audit ? "on" : "off")) }
        if let maxData = inspection.maxData { words.append("max-data \(maxData)") }
        if let timeout = inspection.timeout { words.append("timeout \(timeout)") }
        if inspection.routerTraffic { words.append("router-traffic") }
        words += inspection.extras
        return words.joined(separator: " ")
    }

    /// `ip nat inside source static L G [no-alias]`
    public static func staticNAT(_ nat: StaticNAT) -> String {
        "ip nat inside source static \(nat.local) \(nat.global)" + (nat.noAlias ? " no-alias" : "")
    }

    /// `ip nat inside source static tcp L LP G|interface IF GP [extendable] [no-alias]`
    public static func staticPortNAT(_ nat: StaticPortNAT) -> String {
        "ip nat inside source static \(nat.protocolName) \(nat.local) \(nat.localPort) \(nat.global) \(nat.globalPort)"
            + (nat.extendable ? " extendable" : "") + (nat.noAlias ? " no-alias" : "")
    }

    /// `ip nat inside source static network L G /LEN`
    public static func staticNetworkNAT(_ nat: StaticNetworkNAT) -> String {
        "ip nat inside source static network \(nat.local) \(nat.global) /\(nat.prefixLength)" + (nat.noAlias ? " no-alias" : "")
    }

    /// `ip nat inside source list ACL interface IF overload`, and the other dynamic forms.
    public static func dynamicNAT(_ nat: DynamicNAT) -> String {
        let selector = switch nat.selector {
        case .list(let name): "list \(name)"
        case .routeMap(let name): "route-map \(name)"
        }
        let target = switch nat.target {
        case .interface(let name): "interface \(name)"
        case .pool(let name): "pool \(name)"
        }
        return "ip nat inside source \(selector) \(target)" + (nat.overload ? " overload" : "")
    }

    /// `ip nat pool NAME FIRST LAST prefix-length N`
    public static func natPool(_ pool: NATPool) -> String {
        "ip nat pool \(pool.name) \(pool.first) \(pool.last) prefix-length \(pool.prefixLength)"
            + (pool.type.map { " type \($0)" } ?? "")
    }

    /// `ip route PREFIX MASK target…`
    public static func route(_ route: StaticRoute) -> String {
        (["ip route", "\(route.prefix)", "\(route.mask)"] + route.target).joined(separator: " ")
    }

    /// `service timestamps KIND …` (`kind` is `log` or `debug`).
    public static func timestamps(_ format: TimestampFormat, kind: String) -> String {
        switch format {
        case .none: return "no service timestamps \(kind)"
        case .uptime: return "service timestamps \(kind) uptime"
        case .datetime(let msec, let localtime, let showTimezone, let year):
            var words = ["service timestamps", kind, "datetime"]
            if msec { words.append("msec") }
            if localtime { words.append("localtime") }
            if showTimezone { words.append("show-timezone") }
            if year { words.append("year") }
            return words.joined(separator: " ")
        }
    }

    /// A network object group's line as IOS prints it.
    public static func networkObject(_ object: NetworkObject) -> String {
        switch object {
        case .host(let address): "host \(address)"
        case .network(let address, let length): "\(address) \(IPv4Address.netmask(prefixLength: length))"
        case .range(let first, let last): "range \(first) \(last)"
        case .group(let name): "group-object \(name)"
        }
    }

    /// A service object group's line as IOS prints it.
    public static func serviceObject(_ object: ServiceObject) -> String {
        switch object {
        case .group(let name): return "group-object \(name)"
        case .service(let protocols, let sourcePort, let destinationPort, let icmp):
            var words: [String]
            switch protocols {
            case []: words = ["ip"]
            case [6, 17]: words = ["tcp-udp"]
            default: words = [protocolName(protocols[0])]
            }
            let number = protocols.first
            if let sourcePort { words += ["source", port(sourcePort, protocolNumber: number)] }
            if let destinationPort { words.append(port(destinationPort, protocolNumber: number)) }
            if let icmp { words.append(self.icmp(icmp)) }
            return words.joined(separator: " ")
        }
    }
}
