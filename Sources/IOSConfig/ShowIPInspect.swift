/// `show ip inspect config|interfaces|all` for a configuration, as IOS 12.3 prints them. Pure
/// functions: the daemon appends its sessions to `all`.
///
/// Interface order: IOS lists the seed's Ethernet2/1 before Ethernet2/0 although the
/// running-config has them the other way round. IOS keeps inspected interfaces in a list it adds
/// to at the front, so the interface whose `ip inspect` was applied last comes first; a router
/// that boots applies its configuration top to bottom. We list interfaces by their first
/// `ip inspect` line, last first. (Cisco does not document it; this rule matches the seed.)
public enum ShowIPInspect {
    /// The global settings and `Inspection Rule Configuration`.
    public static func config(_ configuration: IOSConfiguration) -> String {
        var lines = globalLines(configuration.inspect)
        lines.append("Inspection Rule Configuration")
        for rule in configuration.inspectionRules {
            lines.append(" Inspection name \(rule.name)")
            lines += protocolLines(rule, configuration)
        }
        return text(lines)
    }

    /// `Interface Configuration`: every interface with an inspection rule, in or out.
    public static func interfaces(_ configuration: IOSConfiguration) -> String {
        var lines = ["Interface Configuration"]
        for interface in inspectedInterfaces(configuration) {
            lines.append(" Interface \(interface.name)")
            for (direction, label) in [(Direction.in, "Inbound"), (.out, "Outgoing")] {
                if let name = interface.inspection(direction)?.value, let rule = configuration.inspectionRule(named: name) {
                    lines.append("  \(label) inspection rule is \(name)")
                    lines += protocolLines(rule, configuration)
                } else {
                    lines.append("  \(label) inspection rule is not set")
                }
            }
            for (direction, label) in [(Direction.in, "Inbound"), (.out, "Outgoing")] {
                let list = interface.accessGroup(direction).map { "\($0.value)" } ?? "not set"
                lines.append("  \(label) access list is \(list)")
            }
        }
        return text(lines)
    }

    /// `config` (then `configNotes`: the daemon's lines on its own choices), a blank line,
    /// `interfaces` (as in the seed's output), then `sessions` verbatim when given (the daemon's
    /// `Established Sessions` … part).
    public static func all(_ configuration: IOSConfiguration, configNotes: String = "", sessions: String? = nil) -> String {
        config(configuration) + configNotes + "\n" + interfaces(configuration) + (sessions ?? "")
    }

    /// Inspected interfaces, the one whose inspection was applied last first (see the type's note).
    public static func inspectedInterfaces(_ configuration: IOSConfiguration) -> [Interface] {
        let attached = configuration.interfaces.compactMap { interface -> (Interface, SourceLocation)? in
            let first = [interface.inspectIn?.location, interface.inspectOut?.location].compactMap { $0 }.min()
            return first.map { (interface, $0) }
        }
        return attached.sorted { $0.1 > $1.1 }.map(\.0)
    }

    /// `[400:500]`, or as IOS 12.4(11)T and later print unlimited thresholds, `[unlimited : unlimited]`.
    static func pair(_ low: UInt32, _ high: UInt32) -> String {
        let unlimited = InspectDefaults.unlimitedValue
        guard low == unlimited || high == unlimited else { return "[\(low):\(high)]" }
        let text = { (value: UInt32) in value == unlimited ? "unlimited" : "\(value)" }
        return "[\(text(low)) : \(text(high))]"
    }

    static func globalLines(_ globals: InspectGlobals) -> [String] {
        let perHost = globals.tcpMaxIncompletePerHost.value
        return [
            "Session audit trail is " + (globals.auditTrail.value ? "enabled" : "disabled"),
            "Session alert is " + (globals.alert.value ? "enabled" : "disabled"),
            "one-minute (sampling period) thresholds are \(pair(globals.oneMinuteLow.value, globals.oneMinuteHigh.value)) connections",
            "max-incomplete sessions thresholds are \(pair(globals.maxIncompleteLow.value, globals.maxIncompleteHigh.value))",
            "max-incomplete tcp connections per host is \(perHost == InspectDefaults.unlimitedValue ? "unlimited" : "\(perHost)"). Block-time \(globals.tcpBlockTime.value) minute.",
            "tcp synwait-time is \(globals.tcpSynwaitTime.value) sec -- tcp finwait-time is \(globals.tcpFinwaitTime.value) sec",
            "tcp idle-time is \(globals.tcpIdleTime.value) sec -- udp idle-time is \(globals.udpIdleTime.value) sec",
            "dns-timeout is \(globals.dnsTimeout.value) sec",
        ]
    }

    /// `    smtp max-data 20000000 alert is on audit-trail is off timeout 3600`: effective values.
    static func protocolLines(_ rule: InspectionRule, _ configuration: IOSConfiguration) -> [String] {
        rule.protocols.map { inspection in
            let effective = configuration.effective(inspection)
            var line = "    \(effective.kind.rawValue)"
            if let maxData = effective.maxData { line += " max-data \(maxData)" }
            line += " alert is " + (effective.alert ? "on" : "off")
            line += " audit-trail is " + (effective.auditTrail ? "on" : "off")
            line += " timeout \(effective.timeout)"
            return line
        }
    }

    static func text(_ lines: [String]) -> String {
        lines.map { $0 + "\n" }.joined()
    }
}
