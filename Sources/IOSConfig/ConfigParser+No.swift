extension ConfigParser {
    /// `no …` at the global level. A running-config prints `no` only for settings that are off;
    /// a terminal session also deletes with it. The deletions of what smtp-inspect reads are
    /// applied in order (`no access-list 101`, `no ip inspect name X`, …), so a session that
    /// rewrites a list reads as the router ends up.
    mutating func noCommand(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        if words.count > 2, words[1] == "service", words[2] == "timestamps" {
            _ = cursor.next()
            return try timestamps(&cursor, negated: true)
        }
        let texts = cursor.line.tokens.map(\.text)
        if words.count == 3, words[1] == "access-list", AccessList.isNumber(texts[2]) {
            return deleteAccessList(texts[2], at: cursor)
        }
        if words.count == 5, words[1] == "ip", words[2] == "access-list", ["standard", "extended"].contains(words[3]) {
            return deleteAccessList(texts[4], at: cursor)
        }
        if words.count >= 4, words[1] == "object-group", ["network", "service"].contains(words[2]) {
            let name = texts[3]
            let before = model.networkGroups.count + model.serviceGroups.count
            model.networkGroups.removeAll { $0.name == name }
            model.serviceGroups.removeAll { $0.name == name }
            mode = .global
            return deleted(before != model.networkGroups.count + model.serviceGroups.count, "object group \(name)")
        }
        if words.count >= 2, words[1] == "route-map", words.count >= 3 {
            let name = texts[2]
            let before = model.routeMaps.count
            model.routeMaps.removeAll { $0.name == name }
            mode = .global
            return deleted(before != model.routeMaps.count, "route-map \(name)")
        }
        if words.count >= 5, words[1] == "ip", words[2] == "inspect", words[3] == "name" {
            return deleteInspection(name: texts[4], protocolName: words.count > 5 ? words[5] : nil)
        }
        if words.count >= 3, words[1] == "ip", words[2] == "inspect" {
            return try resetInspectGlobal(&cursor, words: Array(words.dropFirst(3)))
        }
        if words.count >= 3, words[1] == "ipv6", let disposition = try noIPv6Command(&cursor, words: words) {
            return disposition
        }
        if words.count > 1, words[1] == "access-list" || words.count > 2 && words[1] == "ip"
            && ["inspect", "nat", "access-group", "port-map"].contains(words[2]) {
            throw cursor.error(
                .unsupported, at: cursor.peek(), "`no` form of an inspection, NAT or access-list command",
                expected: "the commands that are configured (a running-config lists nothing else)",
                hint: "delete both the command and its `no` form")
        }
        mode = .global
        return .ignored("`no` form of a command smtp-inspect does not configure")
    }

    private mutating func deleteAccessList(_ name: String, at cursor: TokenCursor) -> Disposition {
        let before = model.accessLists.count
        model.accessLists.removeAll { $0.name == name }
        mode = .global
        return deleted(before != model.accessLists.count, "access list \(name)")
    }

    private mutating func deleteInspection(name: String, protocolName: String?, family: AddressFamily = .ipv4) -> Disposition {
        mode = .global
        let rules: WritableKeyPath<IOSConfiguration, [InspectionRule]> = family == .ipv4 ? \.inspectionRules : \.ipv6InspectionRules
        let what = family == .ipv4 ? "inspection rule" : "IPv6 inspection rule"
        guard let index = model[keyPath: rules].firstIndex(where: { $0.name == name }) else {
            return deleted(false, "\(what) \(name)")
        }
        guard let protocolName else {
            model[keyPath: rules].remove(at: index)
            return deleted(true, "\(what) \(name)")
        }
        let before = model[keyPath: rules][index].protocols.count
        model[keyPath: rules][index].protocols.removeAll { $0.kind.rawValue == protocolName }
        let removed = before != model[keyPath: rules][index].protocols.count
        if model[keyPath: rules][index].protocols.isEmpty { model[keyPath: rules].remove(at: index) }
        return deleted(removed, "\(protocolName) from \(what) \(name)")
    }

    /// `no ipv6 unicast-routing`, `no ipv6 access-list NAME`, `no ipv6 inspect name …`, `no ipv6
    /// inspect SETTING`; nil for the `no` forms of IPv6 commands smtp-inspect does not configure.
    private mutating func noIPv6Command(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition? {
        let texts = cursor.line.tokens.map(\.text)
        switch words[2] {
        case "unicast-routing" where words.count == 3:
            mode = .global
            let was = model.ipv6UnicastRouting != nil
            model.ipv6UnicastRouting = nil
            return was ? .appliedAs("IPv6 forwarding is not turned on") : .ignored("IPv6 routing is off by default")
        case "access-list" where words.count == 4:
            mode = .global
            let before = model.ipv6AccessLists.count
            model.ipv6AccessLists.removeAll { $0.name == texts[3] }
            return deleted(before != model.ipv6AccessLists.count, "IPv6 access list \(texts[3])")
        case "inspect" where words.count >= 5 && words[3] == "name":
            return deleteInspection(name: texts[4], protocolName: words.count > 5 ? words[5] : nil, family: .ipv6)
        case "inspect" where words.count == 4 && words[3] == "routing-header":
            mode = .global
            model.ipv6InspectRoutingHeader = nil
            return .applied
        case "inspect" where words.count >= 4:
            return try resetInspectGlobal(&cursor, words: Array(words.dropFirst(3)), family: .ipv6)
        default:
            return nil
        }
    }

    /// `no ip inspect audit-trail`, `no ip inspect alert-off`, `no ip inspect max-incomplete high`,
    /// …: the setting goes back to its default.
    private mutating func resetInspectGlobal(
        _ cursor: inout TokenCursor, words: [String], family: AddressFamily = .ipv4
    ) throws(Diagnostic) -> Disposition {
        mode = .global
        let paths: [(words: [String], reset: (inout InspectGlobals) -> Void)] = [
            (["audit-trail"], { $0.auditTrail = .byDefault(false) }),
            (["alert-off"], { $0.alert = .byDefault(true) }),
            (["max-incomplete", "high"], { $0.maxIncompleteHigh = .byDefault(500) }),
            (["max-incomplete", "low"], { $0.maxIncompleteLow = .byDefault(400) }),
            (["one-minute", "high"], { $0.oneMinuteHigh = .byDefault(500) }),
            (["one-minute", "low"], { $0.oneMinuteLow = .byDefault(400) }),
            (["tcp", "synwait-time"], { $0.tcpSynwaitTime = .byDefault(30) }),
            (["tcp", "finwait-time"], { $0.tcpFinwaitTime = .byDefault(5) }),
            (["tcp", "idle-time"], { $0.tcpIdleTime = .byDefault(3600) }),
            (["udp", "idle-time"], { $0.udpIdleTime = .byDefault(30) }),
            (["dns-timeout"], { $0.dnsTimeout = .byDefault(5) }),
            (["tcp", "max-incomplete"], { $0.tcpMaxIncompletePerHost = .byDefault(50); $0.tcpBlockTime = .byDefault(0) }),
        ]
        if let path = paths.first(where: { words.starts(with: $0.words) }) {
            if family == .ipv4 { path.reset(&model.inspect) } else { path.reset(&model.ipv6Inspect) }
            return .applied
        }
        if let first = words.first, (ConfigParser.ignoredInspectGlobals[first] != nil) {
            return .ignored("`no` form of a setting smtp-inspect notes but does not apply")
        }
        throw cursor.error(
            .unsupported, at: cursor.peek(), "`no` form of an inspection command",
            expected: "the commands that are configured (a running-config lists nothing else)",
            hint: "delete both the command and its `no` form")
    }

    private func deleted(_ found: Bool, _ what: String) -> Disposition {
        found ? .appliedAs("deletes \(what)") : .ignored("deletes \(what), which was not configured")
    }
}
