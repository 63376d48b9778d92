/// A stable text form of the validated model, one node per line, for golden files and review.
/// Settings at IOS's default say `(default)`; per-rule values inherited from the globals say
/// `(global)`. With locations, each node ends with `@line:column`.
public enum ModelDump {
    public static func render(_ configuration: IOSConfiguration, includeLocations: Bool = true) -> String {
        var dump = Dumper(includeLocations: includeLocations)
        dump.header(configuration)
        dump.globals(configuration.inspect)
        for rule in configuration.inspectionRules { dump.rule(rule, configuration) }
        for interface in configuration.interfaces { dump.interface(interface) }
        for list in configuration.accessLists {
            dump.line("access-list \(list.number) \(list.kind.rawValue)", list.location)
            for entry in list.entries {
                let text = IOSText.accessListEntry(entry, list: list)
                dump.line("  " + text.split(separator: " ").dropFirst(2).joined(separator: " "), entry.location)
            }
        }
        for nat in configuration.staticNAT {
            dump.line(IOSText.staticNAT(nat), nat.location)
        }
        for route in configuration.routes { dump.line(IOSText.route(route), route.location) }
        return dump.text
    }
}

private struct Dumper {
    let includeLocations: Bool
    var text = ""

    mutating func line(_ content: String, _ location: SourceLocation?) {
        text += content
        if includeLocations, let location { text += "  @\(location.line):\(location.column)" }
        text += "\n"
    }

    mutating func setting<Value>(_ name: String, _ setting: Configured<Value>, _ show: (Value) -> String) {
        line("  \(name) \(show(setting.value))" + (setting.isDefault ? "  (default)" : ""), setting.location)
    }

    mutating func header(_ configuration: IOSConfiguration) {
        text += "# IOSConfig model dump, format 1\n"
        if let hostname = configuration.hostname { line("hostname \(hostname.value)", hostname.location) }
        for (kind, setting) in [("debug", configuration.timestamps.debug), ("log", configuration.timestamps.log)] {
            line(IOSText.timestamps(setting.value, kind: kind) + (setting.isDefault ? "  (default)" : ""), setting.location)
        }
    }

    mutating func globals(_ globals: InspectGlobals) {
        line("ip inspect globals", nil)
        let onOff = { (value: Bool) in value ? "on" : "off" }
        let number = { (value: UInt32) in "\(value)" }
        setting("audit-trail", globals.auditTrail, onOff)
        setting("alert", globals.alert, onOff)
        setting("max-incomplete low", globals.maxIncompleteLow, number)
        setting("max-incomplete high", globals.maxIncompleteHigh, number)
        setting("one-minute low", globals.oneMinuteLow, number)
        setting("one-minute high", globals.oneMinuteHigh, number)
        setting("tcp synwait-time", globals.tcpSynwaitTime, number)
        setting("tcp finwait-time", globals.tcpFinwaitTime, number)
        setting("tcp idle-time", globals.tcpIdleTime, number)
        setting("udp idle-time", globals.udpIdleTime, number)
        setting("dns-timeout", globals.dnsTimeout, number)
        setting("tcp max-incomplete host", globals.tcpMaxIncompletePerHost, number)
        setting("tcp block-time", globals.tcpBlockTime, number)
    }

    mutating func rule(_ rule: InspectionRule, _ configuration: IOSConfiguration) {
        line("inspection rule \(rule.name)", rule.location)
        for inspection in rule.protocols {
            let effective = configuration.effective(inspection)
            let onOff = { (value: Bool, own: Bool?) in (value ? "on" : "off") + (own == nil ? " (global)" : "") }
            var words = ["  \(inspection.kind.rawValue):"]
            words.append("alert " + onOff(effective.alert, inspection.alert))
            words.append("audit-trail " + onOff(effective.auditTrail, inspection.auditTrail))
            if let maxData = effective.maxData {
                words.append("max-data \(maxData)" + (inspection.maxData == nil ? " (default)" : ""))
            }
            words.append("timeout \(effective.timeout)" + (inspection.timeout == nil ? " (global)" : ""))
            line(words.joined(separator: " "), inspection.location)
        }
    }

    mutating func interface(_ interface: Interface) {
        line("interface \(interface.name)", interface.location)
        if let description = interface.description { line("  description \(description.value)", description.location) }
        for address in [interface.address].compactMap({ $0 }) + interface.secondaryAddresses {
            let secondary = address == interface.address ? "" : " secondary"
            line("  ip address \(address.address) \(address.netmask)\(secondary)", address.location)
        }
        for direction in Direction.allCases {
            if let group = interface.accessGroup(direction) {
                line("  ip access-group \(group.value) \(direction.rawValue)", group.location)
            }
            if let rule = interface.inspection(direction) {
                line("  ip inspect \(rule.value) \(direction.rawValue)", rule.location)
            }
        }
        if let nat = interface.nat { line("  ip nat \(nat.value.rawValue)", nat.location) }
        line("  " + (interface.shutdown.value ? "shutdown" : "no shutdown")
             + (interface.shutdown.isDefault ? "  (default)" : ""), interface.shutdown.location)
    }
}
