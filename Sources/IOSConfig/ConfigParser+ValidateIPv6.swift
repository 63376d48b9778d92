extension ConfigParser {
    /// `ipv6 traffic-filter` and `ipv6 inspect` name lists and rules of their own family.
    mutating func validateIPv6Interfaces() {
        for interface in model.interfaces {
            for direction in Direction.allCases {
                if let filter = interface.accessGroup(direction, family: .ipv6), model.ipv6AccessList(named: filter.value) == nil {
                    let isIPv4 = model.accessList(named: filter.value) != nil
                    errors.append(Diagnostic(
                        .error, .undefinedAccessList, at: filter.location,
                        "interface \(interface.name) uses " + missing("acl6 \(filter.value)", "IPv6 access list \(filter.value)"),
                        found: filter.value,
                        expected: "the name of an `ipv6 access-list` in this configuration"
                            + ConfigParser.existing(model.ipv6AccessLists.map(\.name)),
                        hint: isIPv4 ? "\(filter.value) is an IPv4 list: `ipv6 traffic-filter` takes an `ipv6 access-list`"
                            : refusedNames["acl6 \(filter.value)"] != nil ? "fix the errors above"
                            : "IOS would permit everything through a missing list; add the list or fix its name"))
                }
                if let rule = interface.inspection(direction, family: .ipv6),
                   model.inspectionRule(named: rule.value, family: .ipv6) == nil {
                    let isIPv4 = model.inspectionRule(named: rule.value) != nil
                    errors.append(Diagnostic(
                        .error, .undefinedInspectionRule, at: rule.location,
                        "interface \(interface.name) uses " + missing("inspect6 \(rule.value)", "IPv6 inspection rule \(rule.value)"),
                        found: rule.value,
                        expected: "the name of an `ipv6 inspect name` rule"
                            + ConfigParser.existing(model.ipv6InspectionRules.map(\.name)),
                        hint: isIPv4 ? "\(rule.value) is an `ip inspect name` rule; IPv6 rules are defined with `ipv6 inspect name`"
                            : refusedNames["inspect6 \(rule.value)"] != nil ? "fix the errors above"
                            : "names are case-sensitive; add `ipv6 inspect name \(rule.value) …` or fix the name"))
                }
            }
        }
        let inbound = Set(model.interfaces.compactMap { $0.trafficFilterIn?.value })
        for list in model.ipv6AccessLists where inbound.contains(list.name) { warnAboutNeighborDiscovery(list) }
        let attached = Set(model.interfaces.flatMap { [$0.ipv6InspectIn?.value, $0.ipv6InspectOut?.value].compactMap { $0 } })
        for rule in model.ipv6InspectionRules where !attached.contains(rule.name) {
            warnings.append(Diagnostic(
                .warning, .ruleNotApplied, at: rule.location, "IPv6 inspection rule \(rule.name) is applied to no interface",
                hint: "IOS inspects nothing with it either; add `ipv6 inspect \(rule.name) in|out` under an interface"))
        }
    }

    /// IOS adds its neighbour-discovery permits after the last entry: an entry that denies
    /// neighbour solicitations or advertisements before any entry permits them denies neighbour
    /// discovery on the interface, as it does in IOS. Worth a warning: the interface goes dark.
    private mutating func warnAboutNeighborDiscovery(_ list: IPv6AccessList) {
        var permitted: Set<UInt8> = []
        func covers(_ match: IPv6PacketMatch, _ type: UInt8) -> Bool {
            guard match.protocolNumber == nil || match.protocolNumber == IPv6PacketMatch.icmpv6,
                  match.source == .any, match.sourcePort == nil, match.destinationPort == nil, match.dscp == nil,
                  !match.fragments, !match.routing, !match.hopByHop else { return false }
            return match.icmp.map { $0.type == type && $0.code == nil } ?? true
        }
        for entry in list.entries where entry.action != .evaluate {
            var denied: [String] = []
            for type: UInt8 in [136, 135] where !permitted.contains(type) && covers(entry.match, type) {
                guard entry.match.destination == .any else { continue }
                permitted.insert(type)
                if entry.action == .deny { denied.append(type == 135 ? "nd-ns" : "nd-na") }
            }
            guard !denied.isEmpty, let at = entry.location else { continue }
            warnings.append(Diagnostic(
                .warning, .ipv6NeighborDiscovery, at: at,
                "\(list.name): this entry denies neighbour discovery (\(denied.joined(separator: ", "))) before IOS's implicit permits",
                hint: "as in IOS, hosts on the interface can no longer resolve the router; put "
                    + denied.map { "`permit icmp any any \($0)`" }.joined(separator: " and ") + " before it"))
        }
    }

    /// `… which does not exist`, or, when its lines were refused, where.
    private func missing(_ key: String, _ what: String) -> String {
        refusedNames[key].map { "\(what), whose lines were refused (the first on line \($0.line))" }
            ?? "\(what), which does not exist"
    }

    /// Where an interface inspects SMTP in one family and says nothing of the other: a warning
    /// saying that the other family's SMTP is inspected with the same rule (never forwarded
    /// uninspected). And IPv6 lines in a configuration that does not route IPv6.
    mutating func warnAboutFamilies() {
        for interface in model.interfaces where !interface.shutdown.value {
            for direction in Direction.allCases {
                for family in AddressFamily.allCases {
                    guard interface.inspection(direction, family: family.other) == nil,
                          let line = interface.inspection(direction, family: family),
                          let rule = model.inspectionRule(named: line.value, family: family), let smtp = rule.smtp else { continue }
                    let other = family.other
                    warnings.append(Diagnostic(
                        .warning, .familyGap, at: line.location,
                        "\(rule.name) inspects \(smtp.kind.rawValue) over \(family) only on \(interface.name): \(other) SMTP "
                            + "\(direction == .in ? "entering" : "leaving") through it is inspected with \(rule.name)'s \(smtp.kind.rawValue) too",
                        hint: "smtp-inspect never forwards one family's SMTP uninspected where the other's is inspected; write "
                            + "`\(other.keyword) inspect NAME \(direction.rawValue)` on \(interface.name) to choose its \(other) inspection yourself"))
                }
            }
        }
        guard model.configuresIPv6, model.ipv6UnicastRouting == nil else { return }
        let first = model.interfaces.flatMap { interface in
            [interface.ipv6Addresses.first?.location, interface.ipv6DynamicAddress?.location, interface.ipv6Enable,
             interface.trafficFilterIn?.location, interface.trafficFilterOut?.location,
             interface.ipv6InspectIn?.location, interface.ipv6InspectOut?.location].compactMap { $0 }
        } + model.ipv6AccessLists.map(\.location) + model.ipv6InspectionRules.map(\.location)
        guard let at = first.min() else { return }
        warnings.append(Diagnostic(
            .warning, .ipv6NotRouted, at: at, "IPv6 is configured but not routed: there is no `ipv6 unicast-routing`",
            hint: "IOS would forward no IPv6; smtp-inspect applies the IPv6 lines and leaves net.ipv6.conf.all.forwarding "
                + "as this box has it (add `ipv6 unicast-routing` to have the rules turn it on)"))
    }
}
