/// The canonical IOS text of model nodes: how `show running-config` would print them. Used by the
/// running-config renderer, the model dump and the comments of generated rules.
public enum IOSText {
    /// `any`, `host A` or `A W`.
    public static func address(_ match: AddressMatch) -> String {
        switch match {
        case .any: "any"
        case .host(let address): "host \(address)"
        case .wildcard(let base, let wildcard): "\(base) \(wildcard)"
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

    /// `access-list N permit|deny …` as IOS prints it.
    public static func accessListEntry(_ entry: AccessListEntry, list: AccessList) -> String {
        var words = ["access-list", "\(list.number)", entry.action.rawValue]
        let match = entry.match
        if list.kind == .extended {
            words.append(protocolName(match.protocolNumber))
        }
        words.append(address(match.source))
        if let port = match.sourcePort { words.append(self.port(port, protocolNumber: match.protocolNumber)) }
        if list.kind == .extended {
            words.append(address(match.destination))
            if let port = match.destinationPort { words.append(self.port(port, protocolNumber: match.protocolNumber)) }
            if let icmp = match.icmp { words.append(self.icmp(icmp)) }
            if match.established { words.append("established") }
        }
        if entry.log { words.append("log") }
        return words.joined(separator: " ")
    }

    /// `ip inspect name NAME PROTOCOL [options]` with the options the line gave.
    public static func inspection(_ inspection: ProtocolInspection, rule: String) -> String {
        var words = ["ip inspect name", rule, inspection.kind.rawValue]
        if let alert = inspection.alert { words.append("alert " + (alert ? "on" : "off")) }
        if let audit = inspection.auditTrail { words.append("audit-trail " + (audit ? "on" : "off")) }
        if let maxData = inspection.maxData { words.append("max-data \(maxData)") }
        if let timeout = inspection.timeout { words.append("timeout \(timeout)") }
        return words.joined(separator: " ")
    }

    /// `ip nat inside source static L G [no-alias]`
    public static func staticNAT(_ nat: StaticNAT) -> String {
        "ip nat inside source static \(nat.local) \(nat.global)" + (nat.noAlias ? " no-alias" : "")
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
}
