/// A stable text form of the validated model, one node per line, for golden files and review.
/// Settings at IOS's default say `(default)`; per-rule values inherited from the globals say
/// `(global)`. With locations, each node ends with `@line:column`.
public enum ModelDump {
    public static func render(_ configuration: IOSConfiguration, includeLocations: Bool = true) -> String {
        var dump = Dumper(includeLocations: includeLocations)
        dump.header(configuration)
        dump.globals(configuration.inspect)
        for rule in configuration.inspectionRules { dump.rule(rule, configuration) }
        if configuration.configuresIPv6 {
            dump.line("ipv6 unicast-routing " + (configuration.ipv6UnicastRouting == nil ? "off" : "on"), configuration.ipv6UnicastRouting)
            dump.globals(configuration.ipv6Inspect, title: "ipv6 inspect globals")
            if let at = configuration.ipv6InspectRoutingHeader { dump.line("ipv6 inspect routing-header", at) }
            for rule in configuration.ipv6InspectionRules { dump.rule(rule, configuration, family: .ipv6) }
        }
        for interface in configuration.interfaces { dump.interface(interface) }
        for list in configuration.accessLists {
            dump.line(list.isNamed ? IOSText.accessListHead(list) : "access-list \(list.name) \(list.kind.rawValue)", list.location)
            for entry in list.entries {
                let sequence = list.isNamed ? "\(entry.sequence) " : ""
                dump.line("  " + sequence + IOSText.entryBody(entry, kind: list.kind), entry.location)
            }
        }
        for list in configuration.ipv6AccessLists {
            dump.line("ipv6 access-list \(list.name)", list.location)
            for entry in list.entries { dump.line("  \(entry.sequence) " + IOSText.ipv6Entry(entry), entry.location) }
        }
        for group in configuration.networkGroups {
            dump.line("object-group network \(group.name)", group.location)
            for member in group.members { dump.line("  " + IOSText.networkObject(member.value), member.location) }
        }
        for group in configuration.serviceGroups {
            dump.line("object-group service \(group.name)", group.location)
            for member in group.members { dump.line("  " + IOSText.serviceObject(member.value), member.location) }
        }
        for nat in configuration.staticNAT {
            dump.line(IOSText.staticNAT(nat), nat.location)
        }
        for nat in configuration.staticPortNAT { dump.line(IOSText.staticPortNAT(nat), nat.location) }
        for nat in configuration.staticNetworkNAT { dump.line(IOSText.staticNetworkNAT(nat), nat.location) }
        for pool in configuration.natPools { dump.line(IOSText.natPool(pool), pool.location) }
        for nat in configuration.dynamicNAT { dump.line(IOSText.dynamicNAT(nat), nat.location) }
        for map in configuration.routeMaps {
            for entry in map.entries {
                dump.line("route-map \(map.name) \(entry.permit ? "permit" : "deny") \(entry.sequence)", entry.location)
                if !entry.accessLists.isEmpty { dump.line("  match ip address " + entry.accessLists.map(\.value).joined(separator: " "), nil) }
                if !entry.interfaces.isEmpty { dump.line("  match interface " + entry.interfaces.map(\.value).joined(separator: " "), nil) }
            }
        }
        for map in configuration.portMaps {
            let ports = (map.tcpPorts.isEmpty ? "udp " + map.udpPorts.map(String.init).joined(separator: " ")
                         : "tcp " + map.tcpPorts.map(String.init).joined(separator: " "))
            dump.line("ip port-map \(map.application) port \(ports)" + (map.hostList.map { " list \($0)" } ?? ""), map.location)
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

    mutating func globals(_ globals: InspectGlobals, title: String = "ip inspect globals") {
        line(title, nil)
        let onOff = { (value: Bool) in value ? "on" : "off" }
        let number = { (value: UInt32) in value == InspectDefaults.unlimitedValue ? "unlimited" : "\(value)" }
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

    mutating func rule(_ rule: InspectionRule, _ configuration: IOSConfiguration, family: AddressFamily = .ipv4) {
        line((family == .ipv4 ? "" : "ipv6 ") + "inspection rule \(rule.name)", rule.location)
        for inspection in rule.protocols {
            let effective = configuration.effective(inspection, family: family)
            let onOff = { (value: Bool, own: Bool?) in (value ? "on" : "off") + (own == nil ? " (global)" : "") }
            var words = ["  \(inspection.kind.rawValue):"]
            words.append("alert " + onOff(effective.alert, inspection.alert))
            words.append("audit-trail " + onOff(effective.auditTrail, inspection.auditTrail))
            if let maxData = effective.maxData {
                words.append("max-data \(maxData)" + (inspection.maxData == nil ? " (default)" : ""))
            }
            words.append("timeout \(effective.timeout)" + (inspection.timeout == nil ? " (global)" : ""))
            if inspection.routerTraffic { words.append("router-traffic") }
            words += inspection.extras
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
        for address in interface.ipv6Addresses { line("  " + IOSText.ipv6Address(address), address.location) }
        if let dynamic = interface.ipv6DynamicAddress { line("  ipv6 address \(dynamic.value)", dynamic.location) }
        if let at = interface.ipv6Enable { line("  ipv6 enable", at) }
        for direction in Direction.allCases {
            if let filter = interface.accessGroup(direction, family: .ipv6) {
                line("  ipv6 traffic-filter \(filter.value) \(direction.rawValue)", filter.location)
            }
            if let rule = interface.inspection(direction, family: .ipv6) {
                line("  ipv6 inspect \(rule.value) \(direction.rawValue)", rule.location)
            }
        }
        if let dynamic = interface.dynamicAddress { line("  ip address \(dynamic.value)", dynamic.location) }
        line("  " + (interface.shutdown.value ? "shutdown" : "no shutdown")
             + (interface.shutdown.isDefault ? "  (default)" : ""), interface.shutdown.location)
    }
}
