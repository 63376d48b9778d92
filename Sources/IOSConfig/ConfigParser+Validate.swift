extension ConfigParser {
    /// Checks what single lines cannot: references between lines and settings that must agree.
    mutating func validate() {
        for interface in model.interfaces {
            for direction in Direction.allCases {
                if let group = interface.accessGroup(direction), model.accessList(group.value) == nil {
                    errors.append(Diagnostic(
                        .error, .undefinedAccessList, at: group.location,
                        "interface \(interface.name) uses access list \(group.value), which does not exist",
                        found: "\(group.value)",
                        expected: "the number of an `access-list` in this configuration"
                            + ConfigParser.existing(model.accessLists.map { "\($0.number)" }),
                        hint: "IOS would permit everything through a missing list; add the `access-list \(group.value) …` lines or fix the number"))
                }
                if let rule = interface.inspection(direction), model.inspectionRule(named: rule.value) == nil {
                    errors.append(Diagnostic(
                        .error, .undefinedInspectionRule, at: rule.location,
                        "interface \(interface.name) uses inspection rule \(rule.value), which does not exist",
                        found: rule.value,
                        expected: "the name of an `ip inspect name` rule"
                            + ConfigParser.existing(model.inspectionRules.map(\.name)),
                        hint: "names are case-sensitive; add `ip inspect name \(rule.value) …` or fix the name"))
                }
            }
        }
        checkOrder(model.inspect.maxIncompleteLow, model.inspect.maxIncompleteHigh, "max-incomplete")
        checkOrder(model.inspect.oneMinuteLow, model.inspect.oneMinuteHigh, "one-minute")
        warnAboutNAT()
    }

    static func existing(_ names: [String]) -> String {
        names.isEmpty ? " (there is none)" : " (" + names.joined(separator: ", ") + ")"
    }

    /// Aggressive mode starts above `high` and ends below `low`: low above high would flap.
    private mutating func checkOrder(_ low: Configured<UInt32>, _ high: Configured<UInt32>, _ what: String) {
        guard low.value > high.value else { return }
        let later = [low.location, high.location].compactMap { $0 }.max()
            ?? SourceLocation(file: file, line: 1, column: 1)
        errors.append(Diagnostic(
            .error, .thresholdsInverted, at: later,
            "\(what) low \(low.value) is above high \(high.value)",
            found: "low \(low.value), high \(high.value)", expected: "low at most high",
            hint: "aggressive mode starts above high and ends below low; IOS defaults are low 400, high 500"))
    }

    private mutating func warnAboutNAT() {
        guard let first = model.staticNAT.first else { return }
        let roles = Set(model.interfaces.compactMap { $0.nat?.value })
        guard !roles.contains(.outside) || !roles.contains(.inside) else { return }
        warnings.append(Diagnostic(
            .warning, .staticNATWithoutOutside, at: first.location,
            "static NAT without both an `ip nat inside` and an `ip nat outside` interface translates nothing",
            hint: "mark the interfaces with `ip nat inside` / `ip nat outside`, as IOS requires"))
    }
}
