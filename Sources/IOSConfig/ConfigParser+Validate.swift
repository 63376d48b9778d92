extension ConfigParser {
    /// After the last line: the release's defaults, the checks single lines cannot make
    /// (references between lines, settings that must agree), and the silent-drop guard.
    mutating func finish() {
        let choice = model.defaultsChoice
        model.inspect.applyDefaults(choice.defaults)
        model.ipv6Inspect.applyDefaults(choice.defaults)
        let g = model.inspect
        let someDefault = [g.maxIncompleteLow, g.maxIncompleteHigh, g.oneMinuteLow, g.oneMinuteHigh, g.tcpMaxIncompletePerHost]
            .contains { $0.isDefault }
        if choice.uncertain, someDefault, let version = model.version {
            warnings.append(Diagnostic(
                .warning, .defaultsAssumed, at: version.location, "half-open defaults assumed: \(choice.reason)",
                hint: "IOS before 12.4(11)T used max-incomplete and one-minute 400/500; write the `ip inspect` thresholds to be sure"))
        }
        for family in AddressFamily.allCases { validateInterfaces(family) }
        validateAccessLists()
        validateNAT()
        for family in AddressFamily.allCases {
            checkOrder(\.maxIncompleteLow, \.maxIncompleteHigh, "max-incomplete", family: family)
            checkOrder(\.oneMinuteLow, \.oneMinuteHigh, "one-minute", family: family)
        }
        warnAboutFamilies()
        warnAboutNAT()
        guardDroppedInspection()
        relabelNoiseBeforePrompt()
    }

    static func existing(_ names: [String]) -> String {
        names.isEmpty ? " (there is none)" : " (" + names.joined(separator: ", ") + ")"
    }

    /// `… which does not exist`, or, when its lines were refused, where.
    func missing(_ key: String, _ what: String) -> String {
        refusedNames[key].map { "\(what), whose lines were refused (the first on line \($0.line))" }
            ?? "\(what), which does not exist"
    }

    /// The lists and inspection rules the interfaces name in `family` (`ip access-group`,
    /// `ip inspect`; `ipv6 traffic-filter`, `ipv6 inspect`) exist in that family, and every
    /// inspection rule of the family is applied somewhere.
    private mutating func validateInterfaces(_ family: AddressFamily) {
        for interface in model.interfaces {
            for direction in Direction.allCases {
                if let group = interface.accessGroup(direction, family: family), !hasAccessList(group.value, family) {
                    undefinedAccessList(group, on: interface, direction, family)
                }
                if let rule = interface.inspection(direction, family: family), model.inspectionRule(named: rule.value, family: family) == nil {
                    undefinedInspectionRule(rule, on: interface, family)
                }
            }
        }
        if family == .ipv6 {
            let inbound = Set(model.interfaces.compactMap { $0.trafficFilterIn?.value })
            for list in model.ipv6AccessLists where inbound.contains(list.name) { warnAboutNeighborDiscovery(list) }
        }
        let attached = Set(model.interfaces.flatMap { interface in Direction.allCases.compactMap { interface.inspection($0, family: family)?.value } })
        for rule in model.inspectionRules(family) where !attached.contains(rule.name) {
            warnings.append(Diagnostic(
                .warning, .ruleNotApplied, at: rule.location,
                "\(family == .ipv6 ? "IPv6 " : "")inspection rule \(rule.name) is applied to no interface",
                hint: "IOS inspects nothing with it either; add `\(family.keyword) inspect \(rule.name) in|out` under an interface"))
        }
    }

    private func hasAccessList(_ name: String, _ family: AddressFamily) -> Bool {
        family == .ipv4 ? model.accessList(named: name) != nil : model.ipv6AccessList(named: name) != nil
    }

    private mutating func undefinedAccessList(_ group: Located<String>, on interface: Interface, _ direction: Direction, _ family: AddressFamily) {
        let name = group.value
        let key = (family == .ipv4 ? "acl " : "acl6 ") + name
        let names = family == .ipv4 ? model.accessLists.map(\.name) : model.ipv6AccessLists.map(\.name)
        let otherFamily: String? = !hasAccessList(name, family.other) ? nil : family == .ipv4
            ? "\(name) is an IPv6 list: `ip access-group` takes an IPv4 list; an IPv6 list goes in `ipv6 traffic-filter \(name) \(direction.rawValue)`"
            : "\(name) is an IPv4 list: `ipv6 traffic-filter` takes an `ipv6 access-list`"
        let refused = refusedNames[key] != nil
        errors.append(Diagnostic(
            .error, .undefinedAccessList, at: group.location,
            "interface \(interface.name) uses " + missing(key, (family == .ipv4 ? "access list " : "IPv6 access list ") + name),
            found: name,
            expected: (family == .ipv4 ? "the number or name of an access list" : "the name of an `ipv6 access-list`")
                + " in this configuration" + ConfigParser.existing(names),
            // A refused IPv4 list is named before an IPv6 list of that name; an IPv4 list before a refused IPv6 one.
            hint: family == .ipv4 && refused ? "fix the errors above"
                : otherFamily ?? (refused ? "fix the errors above" : "IOS would permit everything through a missing list; add the list or fix its name")))
    }

    private mutating func undefinedInspectionRule(_ rule: Located<String>, on interface: Interface, _ family: AddressFamily) {
        let name = rule.value
        let key = (family == .ipv4 ? "inspect " : "inspect6 ") + name
        let otherFamily: String? = family == .ipv6 && model.inspectionRule(named: name) != nil
            ? "\(name) is an `ip inspect name` rule; IPv6 rules are defined with `ipv6 inspect name`" : nil
        errors.append(Diagnostic(
            .error, .undefinedInspectionRule, at: rule.location,
            "interface \(interface.name) uses " + missing(key, (family == .ipv4 ? "inspection rule " : "IPv6 inspection rule ") + name),
            found: name,
            expected: "the name of an `\(family.keyword) inspect name` rule" + ConfigParser.existing(model.inspectionRules(family).map(\.name)),
            hint: otherFamily ?? (refusedNames[key] != nil ? "fix the errors above"
                : "names are case-sensitive; add `\(family.keyword) inspect name \(name) …` or fix the name")))
    }

    private mutating func validateAccessLists() {
        for list in model.accessLists {
            for entry in list.entries {
                for (role, match) in [("source", entry.match.source), ("destination", entry.match.destination)] {
                    guard case .objectGroup(let name) = match else { continue }
                    checkGroup(name, network: true, at: entry.location, role: role)
                }
                if let service = entry.match.service { checkGroup(service, network: false, at: entry.location, role: "service") }
            }
        }
        for group in model.networkGroups {
            for member in group.members {
                if case .group(let nested) = member.value { checkGroup(nested, network: true, at: member.location, role: "nested") }
            }
            if loops(group.name, network: true, seen: []) {
                errors.append(Diagnostic(.error, .objectGroupLoop, at: group.location,
                                         "object group \(group.name) contains itself", found: group.name,
                                         expected: "groups that nest without a loop", hint: "IOS refuses this; remove a `group-object`"))
            }
        }
        for group in model.serviceGroups {
            for member in group.members {
                if case .group(let nested) = member.value { checkGroup(nested, network: false, at: member.location, role: "nested") }
            }
            if loops(group.name, network: false, seen: []) {
                errors.append(Diagnostic(.error, .objectGroupLoop, at: group.location,
                                         "object group \(group.name) contains itself", found: group.name,
                                         expected: "groups that nest without a loop", hint: "IOS refuses this; remove a `group-object`"))
            }
        }
    }

    private mutating func checkGroup(_ name: String, network: Bool, at location: SourceLocation, role: String) {
        let kind = network ? "network" : "service"
        let exists = network ? model.networkGroup(named: name) != nil : model.serviceGroup(named: name) != nil
        guard !exists else { return }
        let other = network ? model.serviceGroup(named: name) != nil : model.networkGroup(named: name) != nil
        let names = network ? model.networkGroups.map(\.name) : model.serviceGroups.map(\.name)
        errors.append(Diagnostic(
            .error, .undefinedObjectGroup, at: location,
            other ? "object group \(name) is not a \(kind) group (used as \(role))" : "object group \(name) does not exist (used as \(role))",
            found: name, expected: "the name of an `object-group \(kind)`" + ConfigParser.existing(names),
            hint: "define it with `object-group \(kind) \(name)` and its members"))
    }

    private func loops(_ name: String, network: Bool, seen: Set<String>) -> Bool {
        if seen.contains(name) { return true }
        let nested: [String] = network
            ? (model.networkGroup(named: name)?.members ?? []).compactMap { if case .group(let n) = $0.value { n } else { nil } }
            : (model.serviceGroup(named: name)?.members ?? []).compactMap { if case .group(let n) = $0.value { n } else { nil } }
        return nested.contains { loops($0, network: network, seen: seen.union([name])) }
    }

    private mutating func validateNAT() {
        for entry in model.dynamicNAT {
            switch entry.selector {
            case .list(let name):
                if model.accessList(named: name) == nil {
                    errors.append(Diagnostic(.error, .undefinedAccessList, at: entry.location,
                                             "dynamic NAT uses " + missing("acl \(name)", "access list \(name)"), found: name,
                                             expected: "an access list" + ConfigParser.existing(model.accessLists.map(\.name)),
                                             hint: "IOS translates nothing through a missing list; add it or fix the name"))
                }
            case .routeMap(let name):
                validateRouteMap(name, at: entry.location)
            }
            switch entry.target {
            case .pool(let name) where model.natPool(named: name) == nil:
                errors.append(Diagnostic(.error, .undefinedNATPool, at: entry.location, "dynamic NAT uses pool \(name), which does not exist",
                                         found: name, expected: "an `ip nat pool` name" + ConfigParser.existing(model.natPools.map(\.name)),
                                         hint: "add `ip nat pool \(name) FIRST LAST netmask M` or fix the name"))
            case .interface(let name) where model.interface(named: name) == nil:
                undefinedInterface(name, at: entry.location, what: "dynamic NAT")
            default: break
            }
        }
        for entry in model.staticPortNAT {
            if case .interface(let name) = entry.global, model.interface(named: name) == nil {
                undefinedInterface(name, at: entry.location, what: "the port forward")
            }
        }
    }

    private mutating func undefinedInterface(_ name: String, at location: SourceLocation, what: String) {
        errors.append(Diagnostic(.error, .undefinedInterface, at: location, "\(what) uses interface \(name), which the configuration lacks",
                                 found: name, expected: "an interface of this configuration" + ConfigParser.existing(model.interfaces.map(\.name)),
                                 hint: "add its `interface \(name)` block, or fix the name"))
    }

    private mutating func validateRouteMap(_ name: String, at location: SourceLocation) {
        guard let map = model.routeMap(named: name) else {
            errors.append(Diagnostic(.error, .undefinedRouteMap, at: location, "dynamic NAT uses route-map \(name), which does not exist",
                                     found: name, expected: "a route-map" + ConfigParser.existing(model.routeMaps.map(\.name)),
                                     hint: "add `route-map \(name) permit 10` with `match ip address ACL`"))
            return
        }
        for entry in map.entries {
            if !entry.permit {
                errors.append(Diagnostic(.error, .unsupported, at: entry.location,
                                         "route-map \(name) is used by NAT and has a deny entry", found: "deny \(entry.sequence)",
                                         expected: "permit entries only", hint: "put the exception into the access list as a deny entry"))
            }
            for clause in entry.otherClauses {
                errors.append(Diagnostic(.error, .unsupported, at: clause.location,
                                         "route-map \(name) is used by NAT, and NAT cannot follow this clause",
                                         found: clause.value, expected: "`match ip address ACL …` or `match interface IF …`",
                                         hint: "smtp-inspect reproduces NAT route-maps that match access lists and interfaces"))
            }
            for list in entry.accessLists where model.accessList(named: list.value) == nil {
                errors.append(Diagnostic(.error, .undefinedAccessList, at: list.location,
                                         "route-map \(name) uses " + missing("acl \(list.value)", "access list \(list.value)"),
                                         found: list.value, expected: "an access list" + ConfigParser.existing(model.accessLists.map(\.name)),
                                         hint: "add the list or fix its name"))
            }
        }
    }

    /// Aggressive mode starts above `high` and ends below `low`: low above high would flap. A
    /// `high` set below an unlimited default `low` (12.4(11)T and later) ends aggressive mode at
    /// `high`: the low threshold follows it.
    private mutating func checkOrder(
        _ lowPath: WritableKeyPath<InspectGlobals, Configured<UInt32>>, _ highPath: WritableKeyPath<InspectGlobals, Configured<UInt32>>,
        _ what: String, family: AddressFamily
    ) {
        let globals: WritableKeyPath<IOSConfiguration, InspectGlobals> = family == .ipv4 ? \.inspect : \.ipv6Inspect
        let low = model[keyPath: globals][keyPath: lowPath], high = model[keyPath: globals][keyPath: highPath]
        guard low.value > high.value else { return }
        let label = family == .ipv4 ? what : "ipv6 \(what)"
        if low.isDefault, low.value == InspectDefaults.unlimitedValue, let at = high.location {
            model[keyPath: globals][keyPath: lowPath] = Configured(value: high.value, location: nil)
            warnings.append(Diagnostic(.warning, .defaultsAssumed, at: at,
                                       "\(label) low (unlimited by default) read as \(high.value), the high threshold",
                                       hint: "write `\(family.keyword) inspect \(what) low N` too"))
            return
        }
        let later = [low.location, high.location].compactMap { $0 }.max()
            ?? SourceLocation(file: file, line: 1, column: 1)
        errors.append(Diagnostic(
            .error, .thresholdsInverted, at: later,
            "\(label) low \(low.value) is above high \(high.value)",
            found: "low \(low.value), high \(high.value)", expected: "low at most high",
            hint: "aggressive mode starts above high and ends below low; IOS defaults are low 400, high 500"))
    }

    /// IOS checks an outbound list on the outside after NAT. Static one-to-one NAT is matched as
    /// the global address it leaves with; what dynamic NAT, PAT and port forwards translate is
    /// matched with its inside address: say so where it matters.
    private mutating func warnAboutOutboundListsAfterNAT() {
        guard !model.dynamicNAT.isEmpty || !model.staticPortNAT.isEmpty else { return }
        for interface in model.interfaces where interface.nat?.value == .outside {
            guard let group = interface.accessGroupOut else { continue }
            warnings.append(Diagnostic(
                .warning, .approximated, at: group.location,
                "outbound list \(group.value) on \(interface.name): sources of dynamic NAT, PAT and port forwards are matched with their inside address",
                hint: "IOS matches them translated; an entry that names the translated address does not match here"))
        }
    }

    private mutating func warnAboutNAT() {
        warnAboutOutboundListsAfterNAT()
        let first = model.staticNAT.first?.location ?? model.staticPortNAT.first?.location
            ?? model.staticNetworkNAT.first?.location ?? model.dynamicNAT.first?.location
        guard let first else { return }
        let roles = Set(model.interfaces.compactMap { $0.nat?.value })
        guard !roles.contains(.outside) || !roles.contains(.inside) else { return }
        warnings.append(Diagnostic(
            .warning, .staticNATWithoutOutside, at: first,
            "NAT without both an `ip nat inside` and an `ip nat outside` interface translates nothing",
            hint: "mark the interfaces with `ip nat inside` / `ip nat outside`, as IOS requires"))
    }

    /// A configuration whose `ip inspect` lines were dropped is never accepted silently: each is
    /// a warning, and when nothing is inspected at all, an error.
    private mutating func guardDroppedInspection() {
        if let zone = zoneFirewall.first {
            let nothing = !model.inspectsAnything
            let diagnostic = Diagnostic(
                nothing ? .error : .warning, nothing ? .inspectionDropped : .noLinuxEquivalent, at: zone,
                "the zone-based policy firewall's inspection is not mirrored" + (nothing ? ": nothing would be inspected" : ""),
                found: nothing ? "zone-pair security / policy-map type inspect" : "",
                expected: nothing ? "CBAC: `ip inspect name NAME esmtp` and `ip inspect NAME in` on the outside interface" : "",
                hint: "smtp-inspect mirrors CBAC; write the mail inspection as `ip inspect name … smtp|esmtp` on an interface")
            if nothing { errors.append(diagnostic) } else { warnings.append(diagnostic) }
        }
        guard let first = droppedInspection.first else { return }
        let nothingInspected = !model.inspectsAnything
        for dropped in droppedInspection {
            warnings.append(Diagnostic(
                .warning, .notApplied, at: location(dropped.line, dropped.column),
                "an `ip inspect` line read where it configures nothing (\(dropped.reason))",
                hint: "IOS would not apply it there either; move it before `end`, out of the banner, or paste it again"))
        }
        guard nothingInspected else { return }
        let count = droppedInspection.count
        errors.append(Diagnostic(
            .error, .inspectionDropped, at: location(first.line, first.column),
            "the configuration asks for inspection, but \(count == 1 ? "its `ip inspect` line was" : "all \(count) of its `ip inspect` lines were") dropped: nothing would be inspected",
            found: first.reason, expected: "`ip inspect name …` and `ip inspect NAME in|out` read as configuration",
            hint: "the paste is incomplete or damaged (after `end`, in a banner, terminal output); paste the configuration again"))
    }

    /// In a terminal session, what comes before the first prompt is the session's noise.
    private mutating func relabelNoiseBeforePrompt() {
        guard let prompt = firstPromptLine, !appliedBeforePrompt else { return }
        for index in reports.indices where reports[index].line < prompt {
            guard case .ignored(let reason) = reports[index].disposition, reason != "blank line", !reason.hasPrefix("error") else { continue }
            reports[index].disposition = .ignored("before the first prompt: terminal session, not configuration")
        }
    }
}
