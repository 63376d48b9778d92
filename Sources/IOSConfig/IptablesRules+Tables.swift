extension RuleGenerator {
    func mangleTable() -> IptablesTable {
        var mangle = IptablesTable("mangle")
        let pre = mangle.top("PREROUTING")
        let forward = mangle.top("FORWARD")
        let post = mangle.top("POSTROUTING")
        shutdownRules(&mangle, pre: pre, post: post)
        for entry in active {
            guard let group = entry.interface.accessGroupIn, let list = configuration.accessList(named: group.value) else { continue }
            let chain = mangle.chain("SI-IN-\(entry.linux)")
            mangle.note(pre, "\(entry.interface.name) inbound: access list \(list.name) on packets as they arrive, before NAT,",
                        "including packets to the router itself (IOS filters those too).")
            mangle.rule(pre, ["-i \(entry.linux)"],
                        comment: "\(entry.interface.name): ip access-group \(list.name) in\(RuleGenerator.line(group.location))",
                        "-j \(chain)")
            bypassRule(&mangle, chain: chain, list: list.name)
            mangle.rule(chain, [], comment: nil, "-g \(accessListChain(list, table: &mangle))")
        }
        inspectionRules(&mangle, forward: forward)
        routerTraffic(&mangle)
        queueRules(&mangle, post: post)
        return mangle
    }

    private func shutdownRules(_ mangle: inout IptablesTable, pre: String, post: String) {
        for interface in configuration.interfaces where interface.shutdown.value {
            guard let linux = linuxNames[interface.name] else { continue }
            mangle.note(pre, "\(interface.name) is shut down: IOS passes nothing through it.")
            let comment = "\(interface.name): shutdown\(RuleGenerator.line(interface.shutdown.location))"
            mangle.rule(pre, ["-i \(linux)"], comment: comment, "-j DROP")
            mangle.rule(post, ["-o \(linux)"], comment: comment, "-j DROP")
        }
    }

    /// CBAC: packets of a session an inspection rule created skip the access lists.
    func bypassRule(_ table: inout IptablesTable, chain: String, list: String) {
        table.note(chain, "CBAC: packets of a session an `ip inspect` rule created (marked) skip access list \(list);",
                   "every other packet meets it.")
        table.rule(chain, [RuleGenerator.markMatch(IptablesRules.inspectedMark), "-m conntrack --ctstate ESTABLISHED,RELATED"],
                   comment: "CBAC session: its packets pass access list \(list)", "-j RETURN")
    }

    private func inspectionRules(_ mangle: inout IptablesTable, forward: String) {
        for entry in inspections {
            guard let chain = inspectionChain(entry.rule, &mangle) else { continue }
            let location = entry.interface.inspection(entry.direction)?.location
            mangle.note(forward, "\(entry.interface.name): sessions that \(entry.direction == .in ? "enter" : "leave") through it are inspected by \(entry.rule.name).")
            if entry.rule.smtp != nil { smtpGuards(&mangle, forward: forward, entry.rule, entry.interface, entry.linux, entry.direction) }
            mangle.rule(forward, [RuleGenerator.interfaceMatch(entry.linux, entry.direction), "-m conntrack --ctstate NEW"],
                        comment: "\(entry.interface.name): ip inspect \(entry.rule.name) \(entry.direction.rawValue)\(RuleGenerator.line(location))",
                        "-j \(chain)")
        }
    }

    /// TCP/25 packets that would reach NFQUEUE's far side without a mark: drop them, so that no
    /// client byte reaches the server uninspected.
    private func smtpGuards(
        _ mangle: inout IptablesTable, forward: String, _ rule: InspectionRule, _ interface: Interface, _ linux: String,
        _ client: Direction
    ) {
        let ports = rule.smtp.map { configuration.ports(of: $0.kind.rawValue).tcp } ?? [25]
        let list = ports.map(String.init).joined(separator: ",")
        mangle.note(forward, "smtp inspection on \(interface.name): a TCP/\(list) packet without an inspected session",
                    "would pass uninspected. INVALID (outside the window: IOS drops it too, %FW-6-DROP_PKT) and",
                    "a first packet that is not a SYN (IOS starts sessions from the SYN) are dropped.")
        let server: Direction = client == .in ? .out : .in
        for (direction, port) in [(client, "--dport"), (server, "--sport")] {
            let side = RuleGenerator.interfaceMatch(linux, direction)
            mangle.rule(forward, [side] + RuleGenerator.portWords(6, ports, option: port) + ["-m conntrack --ctstate INVALID"],
                        comment: "\(interface.name): smtp inspection, segment outside its session", "-j DROP")
            mangle.rule(forward, [side] + RuleGenerator.portWords(6, ports, option: port, extra: "! --syn") + ["-m conntrack --ctstate NEW"],
                        comment: "\(interface.name): smtp inspection, no session without a SYN", "-j DROP")
        }
    }

    /// Marks the new sessions of each protocol of `rule`; built once per rule. Nil when no
    /// protocol of the rule marks anything (only `fragment` or `appfw`).
    private func inspectionChain(_ rule: InspectionRule, _ mangle: inout IptablesTable, routerOnly: Bool = false) -> String? {
        let index = (configuration.inspectionRules.firstIndex(of: rule) ?? 0) + 1
        let name = routerOnly ? "SI-RTR-\(index)"
            : RuleGenerator.chainSafe(rule.name, limit: 20).map { "SI-INSP-\($0)" } ?? "SI-INSP-\(index)"
        guard !mangle.chains.contains(name) else { return name }
        var rules: [(match: [String], comment: String, target: String)] = []
        for inspection in rule.protocols where !routerOnly || inspection.routerTraffic {
            let plan = configuration.plan(inspection)
            var bits = IptablesRules.inspectedMark
            if plan.queued { bits |= IptablesRules.smtpMark }
            let mark = "\(RuleGenerator.hex(bits))/\(RuleGenerator.hex(bits))"
            for session in plan.sessions {
                let match = session.protocolNumber == PacketMatch.tcp
                    ? RuleGenerator.portWords(6, session.ports, extra: "--syn")
                    : RuleGenerator.portWords(session.protocolNumber, session.ports)
                rules.append((match, IOSText.inspection(inspection, rule: rule.name) + RuleGenerator.line(inspection.location),
                              "-j CONNMARK --set-xmark \(mark)"))
            }
        }
        guard !rules.isEmpty else { return nil }
        mangle.chain(name)
        mangle.note(name, routerOnly ? "ip inspect name \(rule.name), router-traffic: mark the router's own sessions it inspects."
                    : "ip inspect name \(rule.name): mark the sessions it creates (TCP from the SYN).")
        for rule in rules { mangle.rule(name, rule.match, comment: rule.comment, rule.target) }
        return name
    }

    /// `router-traffic`: sessions the router itself opens through an `out` inspection, or that are
    /// opened to it through an `in` one, are marked too (mangle OUTPUT / INPUT).
    private func routerTraffic(_ mangle: inout IptablesTable) {
        for entry in inspections where entry.rule.protocols.contains(where: \.routerTraffic) {
            guard let chain = inspectionChain(entry.rule, &mangle, routerOnly: true) else { continue }
            let builtin = entry.direction == .in ? "INPUT" : "OUTPUT"
            let top = mangle.top(builtin)
            mangle.note(top, "\(entry.interface.name): the router's own sessions inspected by \(entry.rule.name) (router-traffic).")
            mangle.rule(top, [RuleGenerator.interfaceMatch(entry.linux, entry.direction), "-m conntrack --ctstate NEW"],
                        comment: "\(entry.interface.name): ip inspect \(entry.rule.name) \(entry.direction.rawValue), router-traffic",
                        "-j \(chain)")
        }
    }

    private func queueRules(_ mangle: inout IptablesTable, post: String) {
        guard inspections.contains(where: { $0.rule.smtp != nil }) else { return }
        let target: String = switch options.queue {
        case .number(let queue): "--queue-num \(queue)"
        case .balance(let first, let last): "--queue-balance \(first):\(last)"
        }
        mangle.note(post, "smtp/esmtp inspection: both directions of each marked session go to smtp-inspect.")
        if options.queueBypass {
            mangle.note(post, "--queue-bypass: while smtp-inspect is not running, these sessions pass uninspected (fail open).")
        } else {
            mangle.note(post, "No --queue-bypass: while smtp-inspect is not running, these sessions stop (fail closed),",
                        "as an IOS router forwards nothing its inspection has not seen.")
        }
        mangle.rule(post, ["-p tcp", RuleGenerator.markMatch(IptablesRules.smtpMark)],
                    comment: "smtp/esmtp inspection by smtp-inspect",
                    "-j NFQUEUE \(target)" + (options.queueBypass ? " --queue-bypass" : ""))
    }
}
