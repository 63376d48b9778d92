/// Renders a model back as IOS configuration text (what `show running-config` would print for
/// the parts smtp-inspect reads). Parsing the result gives the same model, locations aside.
public enum RunningConfig {
    public static func render(_ configuration: IOSConfiguration) -> String {
        var lines: [String] = []
        if let version = configuration.version { lines.append("version \(version.major).\(version.minor)") }
        if let hostname = configuration.hostname { lines.append("hostname \(hostname.value)") }
        for (kind, setting) in [("debug", configuration.timestamps.debug), ("log", configuration.timestamps.log)]
        where !setting.isDefault {
            lines.append(IOSText.timestamps(setting.value, kind: kind))
        }
        lines += globalLines(configuration.inspect)
        if configuration.ipv6UnicastRouting != nil { lines.append("ipv6 unicast-routing") }
        lines += globalLines(configuration.ipv6Inspect, keyword: "ipv6")
        if configuration.ipv6InspectRoutingHeader != nil { lines.append("ipv6 inspect routing-header") }
        for map in configuration.portMaps {
            let ports = map.tcpPorts.isEmpty ? "udp " + map.udpPorts.map(String.init).joined(separator: " ")
                : "tcp " + map.tcpPorts.map(String.init).joined(separator: " ")
            lines.append("ip port-map \(map.application) port \(ports)" + (map.hostList.map { " list \($0)" } ?? ""))
        }
        for rule in configuration.inspectionRules {
            lines += rule.protocols.map { IOSText.inspection($0, rule: rule.name) }
        }
        for rule in configuration.ipv6InspectionRules {
            lines += rule.protocols.map { IOSText.inspection($0, rule: rule.name, family: .ipv6) }
        }
        for interface in configuration.interfaces {
            lines.append("!")
            lines += interfaceLines(interface)
        }
        lines.append("!")
        lines += configuration.routes.map(IOSText.route)
        lines += configuration.natPools.map(IOSText.natPool)
        lines += configuration.dynamicNAT.map(IOSText.dynamicNAT)
        lines += configuration.staticNAT.map(IOSText.staticNAT)
        lines += configuration.staticPortNAT.map(IOSText.staticPortNAT)
        lines += configuration.staticNetworkNAT.map(IOSText.staticNetworkNAT)
        if !configuration.reflexiveTimeout.isDefault {
            lines.append("ip reflexive-list timeout \(configuration.reflexiveTimeout.value)")
        }
        for group in configuration.networkGroups {
            lines.append("object-group network \(group.name)")
            lines += group.members.map { " " + IOSText.networkObject($0.value) }
        }
        for group in configuration.serviceGroups {
            lines.append("object-group service \(group.name)")
            lines += group.members.map { " " + IOSText.serviceObject($0.value) }
        }
        for list in configuration.accessLists {
            if list.isNamed {
                lines.append(IOSText.accessListHead(list))
                lines += list.entries.map { " \($0.sequence) " + IOSText.entryBody($0, kind: list.kind) }
            } else {
                lines += list.entries.map { IOSText.accessListEntry($0, list: list) }
            }
        }
        for list in configuration.ipv6AccessLists {
            lines.append("ipv6 access-list \(list.name)")
            var expected = 10
            for entry in list.entries {
                lines.append(" " + (entry.sequence == expected ? "" : "sequence \(entry.sequence) ") + IOSText.ipv6Entry(entry))
                expected = entry.sequence + 10
            }
        }
        for map in configuration.routeMaps {
            for entry in map.entries {
                lines.append("route-map \(map.name) \(entry.permit ? "permit" : "deny") \(entry.sequence)")
                if !entry.accessLists.isEmpty { lines.append(" match ip address " + entry.accessLists.map(\.value).joined(separator: " ")) }
                if !entry.interfaces.isEmpty { lines.append(" match interface " + entry.interfaces.map(\.value).joined(separator: " ")) }
            }
        }
        lines.append("end")
        return lines.map { $0 + "\n" }.joined()
    }

    private static func globalLines(_ globals: InspectGlobals, keyword ip: String = "ip") -> [String] {
        var lines: [String] = []
        if !globals.auditTrail.isDefault { lines.append(globals.auditTrail.value ? "\(ip) inspect audit-trail" : "") }
        if !globals.alert.isDefault { lines.append(globals.alert.value ? "" : "\(ip) inspect alert-off") }
        let numbers: [(String, Configured<UInt32>)] = [
            ("max-incomplete low", globals.maxIncompleteLow), ("max-incomplete high", globals.maxIncompleteHigh),
            ("one-minute low", globals.oneMinuteLow), ("one-minute high", globals.oneMinuteHigh),
            ("tcp synwait-time", globals.tcpSynwaitTime), ("tcp finwait-time", globals.tcpFinwaitTime),
            ("tcp idle-time", globals.tcpIdleTime), ("udp idle-time", globals.udpIdleTime),
            ("dns-timeout", globals.dnsTimeout),
        ]
        for (name, setting) in numbers where !setting.isDefault {
            lines.append("\(ip) inspect \(name) " + (setting.value == InspectDefaults.unlimitedValue ? "unlimited" : "\(setting.value)"))
        }
        if !globals.tcpMaxIncompletePerHost.isDefault || !globals.tcpBlockTime.isDefault {
            lines.append("\(ip) inspect tcp max-incomplete host \(globals.tcpMaxIncompletePerHost.value)"
                         + " block-time \(globals.tcpBlockTime.value)")
        }
        return lines.filter { !$0.isEmpty }
    }

    private static func interfaceLines(_ interface: Interface) -> [String] {
        var lines = ["interface \(interface.name)"]
        if let description = interface.description { lines.append(" description \(description.value)") }
        if let address = interface.address {
            lines.append(" ip address \(address.address) \(address.netmask)")
        } else if let dynamic = interface.dynamicAddress {
            lines.append(" ip address \(dynamic.value)")
        } else {
            lines.append(" no ip address")
        }
        for address in interface.secondaryAddresses {
            lines.append(" ip address \(address.address) \(address.netmask) secondary")
        }
        for direction in Direction.allCases {
            if let group = interface.accessGroup(direction) { lines.append(" ip access-group \(group.value) \(direction.rawValue)") }
        }
        if let nat = interface.nat { lines.append(" ip nat \(nat.value.rawValue)") }
        for direction in Direction.allCases {
            if let rule = interface.inspection(direction) { lines.append(" ip inspect \(rule.value) \(direction.rawValue)") }
        }
        lines += interface.ipv6Addresses.map { " " + IOSText.ipv6Address($0) }
        if let dynamic = interface.ipv6DynamicAddress, ["autoconfig", "dhcp"].contains(dynamic.value) {
            lines.append(" ipv6 address \(dynamic.value)")
        }
        if interface.ipv6Enable != nil { lines.append(" ipv6 enable") }
        for direction in Direction.allCases {
            if let filter = interface.accessGroup(direction, family: .ipv6) { lines.append(" ipv6 traffic-filter \(filter.value) \(direction.rawValue)") }
        }
        for direction in Direction.allCases {
            if let rule = interface.inspection(direction, family: .ipv6) { lines.append(" ipv6 inspect \(rule.value) \(direction.rawValue)") }
        }
        if !interface.shutdown.isDefault { lines.append(interface.shutdown.value ? " shutdown" : " no shutdown") }
        return lines
    }
}
