extension ConfigParser {
    /// IOS adds its neighbour-discovery permits after the last entry: an entry that denies
    /// neighbour solicitations or advertisements before any entry permits them denies neighbour
    /// discovery on the interface, as it does in IOS. Worth a warning: the interface goes dark.
    mutating func warnAboutNeighborDiscovery(_ list: IPv6AccessList) {
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
