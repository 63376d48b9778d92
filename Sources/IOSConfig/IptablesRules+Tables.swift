extension RuleGenerator {
    func rawTable(_ setup: inout [SetupAction]) -> IptablesTable {
        var raw = IptablesTable("raw")
        let pre = raw.top("PREROUTING")
        let ftp = inspections.filter { $0.rule.protocols.contains { $0.kind == .ftp } }
        if !ftp.isEmpty {
            setup += [.module("nf_conntrack_ftp"), .module("nf_nat_ftp")]
            raw.note(pre, "ftp inspection: the helper reads PORT/PASV so the data connection is RELATED to an",
                     "inspected session (and NAT rewrites the addresses in them, as IOS NAT does). For",
                     "`ip inspect … out` the ingress is unknown here: every other interface gets it.")
        }
        for entry in ftp {
            let negated = entry.direction == .out
            raw.rule(pre, [RuleGenerator.interfaceMatch(entry.linux, .in, negated: negated), "-p tcp", "-m tcp --dport 21"],
                     comment: "\(entry.interface.name): ip inspect \(entry.rule.name) \(entry.direction.rawValue), ftp",
                     "-j CT --helper ftp")
        }
        return raw
    }

    func mangleTable() -> IptablesTable {
        var mangle = IptablesTable("mangle")
        let pre = mangle.top("PREROUTING")
        let forward = mangle.top("FORWARD")
        let post = mangle.top("POSTROUTING")
        shutdownRules(&mangle, pre: pre, post: post)
        for entry in active {
            guard let group = entry.interface.accessGroupIn, let list = configuration.accessList(group.value) else { continue }
            let chain = mangle.chain("SI-IN-\(entry.linux)")
            mangle.note(pre, "\(entry.interface.name) inbound: access list \(list.number) on packets as they arrive, before NAT,",
                        "including packets to the router itself (IOS filters those too).")
            mangle.rule(pre, ["-i \(entry.linux)"],
                        comment: "\(entry.interface.name): ip access-group \(list.number) in\(RuleGenerator.line(group.location))",
                        "-j \(chain)")
            bypassRule(&mangle, chain: chain, list: list.number)
            mangle.rule(chain, [], comment: nil, "-g \(accessListChain(list, table: &mangle))")
        }
        inspectionRules(&mangle, forward: forward)
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
    func bypassRule(_ table: inout IptablesTable, chain: String, list: Int) {
        table.note(chain, "CBAC: packets of a session an `ip inspect` rule created (marked) skip access list \(list);",
                   "every other packet meets it.")
        table.rule(chain, [RuleGenerator.markMatch(IptablesRules.inspectedMark), "-m conntrack --ctstate ESTABLISHED,RELATED"],
                   comment: "CBAC session: its packets pass access list \(list)", "-j RETURN")
    }

    private func inspectionRules(_ mangle: inout IptablesTable, forward: String) {
        for entry in inspections {
            let chain = inspectionChain(entry.rule, &mangle)
            let location = entry.interface.inspection(entry.direction)?.location
            mangle.note(forward, "\(entry.interface.name): sessions that \(entry.direction == .in ? "enter" : "leave") through it are inspected by \(entry.rule.name).")
            if entry.rule.smtp != nil { smtpGuards(&mangle, forward: forward, entry.interface, entry.linux, entry.direction) }
            mangle.rule(forward, [RuleGenerator.interfaceMatch(entry.linux, entry.direction), "-m conntrack --ctstate NEW"],
                        comment: "\(entry.interface.name): ip inspect \(entry.rule.name) \(entry.direction.rawValue)\(RuleGenerator.line(location))",
                        "-j \(chain)")
        }
    }

    /// TCP/25 packets that would reach NFQUEUE's far side without a mark: drop them, so that no
    /// client byte reaches the server uninspected.
    private func smtpGuards(
        _ mangle: inout IptablesTable, forward: String, _ interface: Interface, _ linux: String, _ client: Direction
    ) {
        mangle.note(forward, "smtp inspection on \(interface.name): a TCP/25 packet without an inspected session",
                    "would pass uninspected. INVALID (outside the window: IOS drops it too, %FW-6-DROP_PKT) and",
                    "a first packet that is not a SYN (IOS starts sessions from the SYN) are dropped.")
        let server: Direction = client == .in ? .out : .in
        for (direction, port) in [(client, "--dport"), (server, "--sport")] {
            let side = RuleGenerator.interfaceMatch(linux, direction)
            mangle.rule(forward, [side, "-p tcp", "-m tcp \(port) 25", "-m conntrack --ctstate INVALID"],
                        comment: "\(interface.name): smtp inspection, segment outside its session", "-j DROP")
            mangle.rule(forward, [side, "-p tcp", "-m tcp \(port) 25 ! --syn", "-m conntrack --ctstate NEW"],
                        comment: "\(interface.name): smtp inspection, no session without a SYN", "-j DROP")
        }
    }

    /// Marks the new sessions of each protocol of `rule`; built once per rule.
    private func inspectionChain(_ rule: InspectionRule, _ mangle: inout IptablesTable) -> String {
        let safe = rule.name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_"
        }
        let index = (configuration.inspectionRules.firstIndex(of: rule) ?? 0) + 1
        let name = safe && rule.name.utf8.count <= 20 ? "SI-INSP-\(rule.name)" : "SI-INSP-\(index)"
        guard !mangle.chains.contains(name) else { return name }
        mangle.chain(name)
        mangle.note(name, "ip inspect name \(rule.name): mark the sessions it creates (TCP from the SYN).")
        for inspection in rule.protocols {
            var bits = IptablesRules.inspectedMark
            let match: [String]
            switch inspection.kind {
            case .tcp: match = ["-p tcp", "-m tcp --syn"]
            case .udp: match = ["-p udp"]
            case .icmp: match = ["-p icmp"]
            case .ftp: match = ["-p tcp", "-m tcp --dport 21 --syn"]
            case .http: match = ["-p tcp", "-m tcp --dport 80 --syn"]
            case .smtp, .esmtp:
                match = ["-p tcp", "-m tcp --dport 25 --syn"]
                bits |= IptablesRules.smtpMark
            }
            let mark = "\(RuleGenerator.hex(bits))/\(RuleGenerator.hex(bits))"
            mangle.rule(name, match, comment: IOSText.inspection(inspection, rule: rule.name) + RuleGenerator.line(inspection.location),
                        "-j CONNMARK --set-xmark \(mark)")
        }
        return name
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
