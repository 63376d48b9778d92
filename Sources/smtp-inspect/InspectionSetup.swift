import FlowEngine
import IOSConfig
import PacketWire
import SMTPInspection

/// What the daemon (and replay) enforce, made from a configuration or the built-in default:
/// the smtp/esmtp inspection rules, which rule a new session on which interface gets, the
/// engine's timeouts, and how to print time.
struct InspectionSetup {
    /// Every smtp/esmtp rule, bound for the engine.
    var rules: [InspectionRuleBinding]
    /// Linux interface name → the rule a session gets when its first packet comes in on it
    /// (`ip inspect NAME in`) or leaves through it (`ip inspect NAME out`).
    var inbound: [String: InspectionRuleBinding] = [:]
    var outbound: [String: InspectionRuleBinding] = [:]
    /// The same for IPv6 sessions (`ipv6 inspect`, or an interface's `ip inspect` smtp where it
    /// says nothing of IPv6).
    var inbound6: [String: InspectionRuleBinding] = [:]
    var outbound6: [String: InspectionRuleBinding] = [:]
    var engine = FlowEngineConfiguration()
    var timestamps: TimestampFormat = .datetime(msec: true, localtime: false, showTimezone: false, year: false)
    /// Inside local → inside global (static NAT), to show the outside's view of a session.
    var natAliases: [IPAddress: IPAddress] = [:]
    /// Inside local endpoint → global endpoint (port forwards: `static tcp L 25 G|interface IF 25`).
    var portAliases: [Endpoint: Endpoint] = [:]
    /// The interface map the setup was made with (IOS name → Linux name).
    var interfaces: [InterfaceMapping] = []
    var configuration: IOSConfiguration?
    /// Interfaces with an smtp/esmtp inspection rule applied.
    var inspectedInterfaces = 0

    /// The rule used when no interface says otherwise: the first one.
    var defaultRule: InspectionRuleBinding { rules[0] }

    /// `run` without `--config`: one esmtp inspection on everything queued (README.md "Commands").
    static func builtIn(kind: SMTPInspectionKind, maxData: Int, allowSTARTTLS: Bool, maskBanner: Bool) -> InspectionSetup {
        let policy = SMTPPolicy(kind: kind, maxData: maxData, maskBanner: maskBanner, allowSTARTTLS: allowSTARTTLS)
        var setup = InspectionSetup(rules: [InspectionRuleBinding(name: "default", policy: policy)], inspectedInterfaces: 1)
        setup.engine.bypassTLS = allowSTARTTLS  // a TLS session leaves the queue (FlowEngine+Bypass.swift)
        return setup
    }

    /// From a validated configuration; `interfaces` maps IOS names to Linux names. Throws a
    /// message when the configuration inspects no smtp/esmtp anywhere.
    static func from(_ config: IOSConfiguration, interfaces: [InterfaceMapping], allowSTARTTLS: Bool,
                     maskBanner: Bool) throws(SetupError) -> InspectionSetup {
        // `ip inspect name` and `ipv6 inspect name` rules have names of their own: keyed by family.
        var bindings: [String: InspectionRuleBinding] = [:]
        var rules: [InspectionRuleBinding] = []
        for family in AddressFamily.allCases {
            for rule in config.inspectionRules(family) {
                guard let smtp = rule.smtp else { continue }
                let effective = config.effective(smtp, family: family)
                let kind: SMTPInspectionKind = smtp.kind == .smtp ? .smtp : .esmtp
                let policy = SMTPPolicy(kind: kind, maxData: Int(effective.maxData ?? InspectedProtocol.defaultMaxData),
                                        maskBanner: maskBanner, allowSTARTTLS: allowSTARTTLS)
                let clash = family == .ipv6 && rules.contains { $0.name == rule.name }
                let binding = InspectionRuleBinding(name: clash ? "\(rule.name) (ipv6)" : rule.name, policy: policy,
                                                    idleTimeout: Double(effective.timeout),
                                                    alert: effective.alert, auditTrail: effective.auditTrail)
                bindings["\(family) \(rule.name)"] = binding
                rules.append(binding)
            }
        }
        guard !rules.isEmpty else {
            throw SetupError("the configuration has no `ip inspect name NAME smtp|esmtp` (or `ipv6 inspect name …`) rule: nothing to inspect")
        }
        var setup = InspectionSetup(rules: rules, configuration: config)
        setup.interfaces = interfaces
        setup.engine.bypassTLS = allowSTARTTLS  // a TLS session leaves the queue (FlowEngine+Bypass.swift)
        var counted: Set<String> = []
        // Both families, own rules and the other family's smtp where an interface says nothing of
        // one (IOSConfiguration.inspectionAttachments(family:)): as the generated rules queue them.
        for attachment in config.smtpAttachments {
            guard let binding = bindings["\(attachment.ruleFamily) \(attachment.rule.name)"] else { continue }
            let ios = attachment.interface.name
            if counted.insert("\(ios) \(attachment.direction)").inserted { setup.inspectedInterfaces += 1 }
            let mapping = interfaces.first { config.interface(named: $0.iosName)?.name == ios }
            guard let linux = mapping?.linuxName else { continue }
            let v6 = attachment.family == .ipv6
            switch attachment.direction {
            case .in: if v6 { setup.inbound6[linux] = binding } else { setup.inbound[linux] = binding }
            case .out: if v6 { setup.outbound6[linux] = binding } else { setup.outbound[linux] = binding }
            }
        }
        let globals = config.sessionGlobals
        setup.engine.synWaitTimeout = Double(globals.tcpSynwaitTime.value)
        setup.engine.finWaitTimeout = Double(globals.tcpFinwaitTime.value)
        setup.engine.halfOpen.maxIncompleteHigh = Int(globals.maxIncompleteHigh.value)
        setup.engine.halfOpen.maxIncompleteLow = Int(globals.maxIncompleteLow.value)
        setup.engine.halfOpen.oneMinuteHigh = Int(globals.oneMinuteHigh.value)
        setup.engine.halfOpen.oneMinuteLow = Int(globals.oneMinuteLow.value)
        setup.engine.halfOpen.perHost = Int(globals.tcpMaxIncompletePerHost.value)
        setup.engine.halfOpen.blockTime = Int(globals.tcpBlockTime.value)
        setup.timestamps = config.timestamps.log.value
        for nat in config.staticNAT {
            if let local = PacketWire.IPv4Address(nat.local.description), let global = PacketWire.IPv4Address(nat.global.description) {
                setup.natAliases[.v4(local)] = .v4(global)
            }
        }
        setup.portAliases = portAliases(config, interfaces: interfaces)
        return setup
    }

    /// Port forwards: the local endpoint and the global one the outside connects to. For
    /// `… interface IF GPORT` the global address is the Linux interface's own (a dialer's
    /// negotiated address), read when the setup is made.
    static func portAliases(_ config: IOSConfiguration, interfaces: [InterfaceMapping]) -> [Endpoint: Endpoint] {
        var aliases: [Endpoint: Endpoint] = [:]
        let host = config.staticPortNAT.contains { if case .interface = $0.global { true } else { false } }
            ? HostInterfaces.addresses() : []
        for nat in config.staticPortNAT {
            guard let local = PacketWire.IPv4Address(nat.local.description) else { continue }
            var global: IOSConfig.IPv4Address?
            switch nat.global {
            case .address(let address): global = address
            case .interface(let name):
                let ios = config.interface(named: name)
                let linux = interfaces.first { config.interface(named: $0.iosName)?.name == ios?.name }?.linuxName
                global = ios?.address?.address ?? host.first { $0.interface == linux }?.address
            }
            guard let global, let wire = PacketWire.IPv4Address(global.description) else { continue }
            aliases[Endpoint(.v4(local), nat.localPort)] = Endpoint(.v4(wire), nat.globalPort)
        }
        return aliases
    }

    /// The rule for a session whose first packet came in on `inInterface` and leaves through
    /// `outInterface` (Linux names, when known).
    func rule(in inInterface: String?, out outInterface: String?, ipv6: Bool = false) -> InspectionRuleBinding {
        if let name = inInterface, let rule = (ipv6 ? inbound6 : inbound)[name] { return rule }
        if let name = outInterface, let rule = (ipv6 ? outbound6 : outbound)[name] { return rule }
        return defaultRule
    }

    /// The outside's view of an endpoint behind static NAT, for `show … sessions detail`.
    func alias(_ endpoint: Endpoint) -> Endpoint? {
        portAliases[endpoint] ?? natAliases[endpoint.address].map { Endpoint($0, endpoint.port) }
    }
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
