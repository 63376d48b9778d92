extension RuleGenerator {
    func mangleTable() -> IptablesTable {
        var mangle = IptablesTable("mangle")
        let pre = mangle.top("PREROUTING")
        let forward = mangle.top("FORWARD")
        let post = mangle.top("POSTROUTING")
        shutdownRules(&mangle, pre: pre, post: post)
        for entry in active {
            guard let group = entry.interface.accessGroup(.in, family: family), hasAccessList(named: group.value) else { continue }
            let name = entry.interface.name
            let note = family == .ipv4
                ? ["\(name) inbound: access list \(group.value) on packets as they arrive, before NAT,",
                   "including packets to the router itself (IOS filters those too)."]
                : ["\(name) inbound: IPv6 access list \(group.value) on packets as they arrive, including",
                   "packets to the router itself (IOS filters those too: its neighbour discovery passes the implicit permits)."]
            let chain = listJump(&mangle, from: pre, entry, .in, group, note: note)
            mangle.rule(chain, [], comment: nil, "-g \(accessListChain(named: group.value, table: &mangle))")
        }
        inspectionRules(&mangle, forward: forward)
        routerTraffic(&mangle)
        queueRules(&mangle, post: post)
        return mangle
    }

    /// filter FORWARD: outbound lists. IPv4 lists meet packets before NAT POSTROUTING changes
    /// their source (see `staticNATVariants`).
    func filterTable() -> IptablesTable {
        var filter = IptablesTable("filter")
        let forward = filter.top("FORWARD")
        for entry in active {
            guard let group = entry.interface.accessGroup(.out, family: family), hasAccessList(named: group.value) else { continue }
            let name = entry.interface.name
            let note = family == .ipv4
                ? ["\(name) outbound: access list \(group.value), after NAT (IOS order of operations)."]
                : ["\(name) outbound: IPv6 access list \(group.value) on forwarded packets (the router's own",
                   "packets are not filtered on the way out, as in IOS)."]
            let chain = listJump(&filter, from: forward, entry, .out, group, note: note)
            if family == .ipv4, entry.interface.nat?.value == .outside && natApplies, let list = configuration.accessList(named: group.value) {
                staticNATVariants(&filter, chain: chain, list: list)
            }
            filter.rule(chain, [], comment: nil, "-g \(accessListChain(named: group.value, table: &filter))")
        }
        return filter
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

    func inspectionRules(_ mangle: inout IptablesTable, forward: String) {
        for entry in inspections {
            guard let chain = inspectionChain(entry.attachment, &mangle) else { continue }
            let location = entry.attachment.line?.location
            let verb = entry.direction == .in ? "enter" : "leave"
            if let from = entry.attachment.borrowedFrom {
                mangle.note(forward, "\(entry.interface.name): \(family) sessions that \(verb) through it: no `\(family.keyword) inspect … \(entry.direction.rawValue)` there,",
                            "so the smtp of \(from) rule \(entry.rule.name) inspects them (never forwarded uninspected; README).")
            } else {
                mangle.note(forward, "\(entry.interface.name): sessions that \(verb) through it are inspected by \(entry.rule.name).")
            }
            if entry.rule.smtp != nil { smtpGuards(&mangle, forward: forward, entry.rule, entry.interface, entry.linux, entry.direction) }
            let line = "\(entry.interface.name): \(entry.attachment.ruleFamily.keyword) inspect \(entry.rule.name) \(entry.direction.rawValue)"
                + RuleGenerator.line(location) + (entry.attachment.borrowedFrom != nil ? ", its smtp for \(family) too" : "")
            mangle.rule(forward, [RuleGenerator.interfaceMatch(entry.linux, entry.direction), "-m conntrack --ctstate NEW"],
                        comment: line, "-j \(chain)")
        }
    }

    /// TCP/25 packets that would reach NFQUEUE's far side without a mark: drop them, so that no
    /// client byte reaches the server uninspected.
    func smtpGuards(
        _ mangle: inout IptablesTable, forward: String, _ rule: InspectionRule, _ interface: Interface, _ linux: String,
        _ client: Direction
    ) {
        let ports = rule.smtp.map { configuration.ports(of: $0.kind.rawValue).tcp } ?? [25]
        let list = ports.map(String.init).joined(separator: ",")
        mangle.note(forward, "smtp inspection on \(interface.name): a TCP/\(list) packet without an inspected session",
                    "would pass uninspected. INVALID (outside the window: IOS drops it too, %FW-6-DROP_PKT) and",
                    "a first packet that is not a SYN (IOS starts sessions from the SYN) are dropped.")
        if family == .ipv6, configuration.ipv6InspectRoutingHeader == nil {
            mangle.note(forward, "IPv6: a routing header with segments left sends the packet on to another address than the",
                        "session's, which is not what was judged: dropped (`ipv6 inspect routing-header` passes it on).")
        }
        let server: Direction = client == .in ? .out : .in
        for (direction, port) in [(client, "--dport"), (server, "--sport")] {
            let side = RuleGenerator.interfaceMatch(linux, direction)
            mangle.rule(forward, [side] + RuleGenerator.portWords(6, ports, option: port) + ["-m conntrack --ctstate INVALID"],
                        comment: "\(interface.name): smtp inspection, segment outside its session", "-j DROP")
            mangle.rule(forward, [side] + RuleGenerator.portWords(6, ports, option: port, extra: "! --syn") + ["-m conntrack --ctstate NEW"],
                        comment: "\(interface.name): smtp inspection, no session without a SYN", "-j DROP")
            if family == .ipv6, configuration.ipv6InspectRoutingHeader == nil {
                mangle.rule(forward, [side] + RuleGenerator.portWords(6, ports, option: port) + ["-m rt --rt-segsleft 1:255"],
                            comment: "\(interface.name): smtp inspection, a routing header with segments left", "-j DROP")
            }
        }
    }

    /// Marks the new sessions of each protocol of the attachment's rule; built once per rule.
    /// Nil when no protocol of the rule marks anything (only `fragment` or `appfw`). A rule
    /// borrowed from the other family's configuration (its smtp only) gets a chain of its own
    /// (`SI-INSP4-…` in the IPv6 set, `SI-INSP6-…` in the IPv4 one): names of `ip inspect` and
    /// `ipv6 inspect` rules are apart in IOS.
    func inspectionChain(_ attachment: InspectionAttachment, _ mangle: inout IptablesTable, routerOnly: Bool = false) -> String? {
        let rule = attachment.rule
        let ruleFamily = attachment.ruleFamily
        let index = (configuration.inspectionRules(ruleFamily).firstIndex { $0.name == rule.name } ?? 0) + 1
        let tag = attachment.borrowedFrom.map { $0 == .ipv4 ? "4" : "6" } ?? ""
        let name = routerOnly ? "SI-RTR\(tag)-\(index)"
            : RuleGenerator.chainSafe(rule.name, limit: 20 - tag.count).map { "SI-INSP\(tag)-\($0)" } ?? "SI-INSP\(tag)-\(index)"
        guard !mangle.chains.contains(name) else { return name }
        var rules: [(match: [String], comment: String, target: String)] = []
        for inspection in rule.protocols where !routerOnly || inspection.routerTraffic {
            let plan = configuration.plan(inspection, family: family)
            var bits = IptablesRules.inspectedMark
            if plan.queued { bits |= IptablesRules.smtpMark }
            let mark = "\(RuleGenerator.hex(bits))/\(RuleGenerator.hex(bits))"
            for session in plan.sessions {
                let match = session.protocolNumber == PacketMatch.tcp
                    ? RuleGenerator.portWords(6, session.ports, extra: "--syn")
                    : RuleGenerator.portWords(session.protocolNumber, session.ports)
                rules.append((match, IOSText.inspection(inspection, rule: rule.name, family: ruleFamily) + RuleGenerator.line(inspection.location),
                              "-j CONNMARK --set-xmark \(mark)"))
            }
        }
        guard !rules.isEmpty else { return nil }
        mangle.chain(name)
        let head = "\(ruleFamily.keyword) inspect name \(rule.name)"
        mangle.note(name, routerOnly ? "\(head), router-traffic: mark the router's own sessions it inspects."
                    : attachment.borrowedFrom != nil ? "\(head): its smtp marks the \(family) sessions it creates (TCP from the SYN)."
                    : "\(head): mark the sessions it creates (TCP from the SYN).")
        for rule in rules { mangle.rule(name, rule.match, comment: rule.comment, rule.target) }
        return name
    }

    /// `router-traffic`: sessions the router itself opens through an `out` inspection, or that are
    /// opened to it through an `in` one, are marked too (mangle OUTPUT / INPUT).
    func routerTraffic(_ mangle: inout IptablesTable) {
        for entry in inspections where entry.rule.protocols.contains(where: \.routerTraffic) {
            guard let chain = inspectionChain(entry.attachment, &mangle, routerOnly: true) else { continue }
            let builtin = entry.direction == .in ? "INPUT" : "OUTPUT"
            let top = mangle.top(builtin)
            mangle.note(top, "\(entry.interface.name): the router's own sessions inspected by \(entry.rule.name) (router-traffic).")
            mangle.rule(top, [RuleGenerator.interfaceMatch(entry.linux, entry.direction), "-m conntrack --ctstate NEW"],
                        comment: "\(entry.interface.name): \(entry.attachment.ruleFamily.keyword) inspect \(entry.rule.name) \(entry.direction.rawValue), router-traffic",
                        "-j \(chain)")
        }
    }

    func queueRules(_ mangle: inout IptablesTable, post: String) {
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
        let bypass = RuleGenerator.hex(IptablesRules.bypassMark)
        mangle.note(post, "Sessions smtp-inspect let go (TLS after STARTTLS, --allow-starttls): its verdict marks the packet",
                    "\(bypass) and repeats the hook; the mark goes to the connection, whose packets are accepted here.")
        mangle.rule(post, ["-m mark --mark \(bypass)/\(bypass)"], comment: "smtp-inspect: the session leaves the queue",
                    "-j CONNMARK --set-xmark \(bypass)/\(bypass)")
        mangle.note(post, "A SYN on the ports of such a connection (conntrack may reuse its entry, mark and all, after an RST)",
                    "is a new connection: the mark is cleared and the SYN queued, so the new session is inspected.")
        mangle.rule(post, ["-p tcp -m tcp --tcp-flags SYN,RST,ACK SYN", RuleGenerator.markMatch(IptablesRules.bypassMark)],
                    comment: "smtp-inspect: a new connection on the ports of one that left the queue",
                    "-j CONNMARK --set-xmark 0x0/\(bypass)")
        mangle.rule(post, [RuleGenerator.markMatch(IptablesRules.bypassMark)], comment: "smtp-inspect: a session that left the queue",
                    "-j ACCEPT")
        mangle.rule(post, ["-p tcp", RuleGenerator.markMatch(IptablesRules.smtpMark)],
                    comment: "smtp/esmtp inspection by smtp-inspect",
                    "-j NFQUEUE \(target)" + (options.queueBypass ? " --queue-bypass" : ""))
    }
}
