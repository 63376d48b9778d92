/// The ip6tables rule set: the same order of IOS steps as the IPv4 one (see `IptablesRules`), for
/// the configuration's IPv6 lines and for the SMTP inspection an interface's IPv4 lines ask for
/// where it says nothing of IPv6. No nat table: IOS's `ip nat` is IPv4 only.
extension RuleGenerator {
    func buildIPv6() -> GeneratedRules {
        var setup: [SetupAction] = []
        if configuration.ipv6UnicastRouting != nil {
            setup.append(.sysctl(name: "net.ipv6.conf.all.forwarding", value: "1"))
        }
        var raw = IptablesTable("raw")
        let pre = raw.top("PREROUTING")
        fragmentGuard6(&raw, pre: pre)
        antiSpoofing6(&raw, pre: pre)
        helpersAndTimeouts(&raw, pre: pre, setup: &setup)
        let mangle = mangleTable6()
        let filter = filterTable6()
        var text = header6()
        text += setup.map { "# SETUP \($0)\n" }.joined()
        text += [raw, mangle, filter].map(\.text).joined()
        return GeneratedRules(text: text, setup: setup)
    }

    /// The queue must never see a part of a datagram: conntrack reassembles IPv6 fragments before
    /// this table (nf_defrag_ipv6, priority -400), so a TCP packet here whose Fragment header says
    /// more follow, or that it is not the first, was not reassembled. A Fragment header with
    /// offset 0 and no more to follow (an atomic fragment, RFC 6946) is a whole packet: it passes.
    private func fragmentGuard6(_ raw: inout IptablesTable, pre: String) {
        guard queuesSMTP else { return }
        let chain = raw.chain("SI-FRAG")
        raw.note(pre, "IPv6 fragments: conntrack reassembles them before any table here (nf_defrag_ipv6, priority -400,",
                 "on while conntrack is in use: the conntrack rules of this set keep it on), so the queue only ever",
                 "sees whole packets. A TCP packet with a Fragment header still at this point was not reassembled.")
        raw.rule(pre, ["-p tcp", "-m frag"], comment: "TCP with a Fragment header: a part, or an atomic fragment", "-j \(chain)")
        raw.rule(chain, ["-m frag --fragmore"], comment: "a fragment not reassembled by conntrack (more follow): never to the queue", "-j DROP")
        raw.rule(chain, ["-m frag --fragfirst"], comment: "offset 0 and no more: an atomic fragment (RFC 6946), a whole packet", "-j RETURN")
        raw.rule(chain, [], comment: "a later fragment not reassembled by conntrack: never to the queue", "-j DROP")
    }

    /// A source that cannot arrive on an interface: a global prefix connected to another mapped
    /// interface (its `ipv6 address` lines). Link-local sources (fe80::/10) are valid on every link.
    private func antiSpoofing6(_ raw: inout IptablesTable, pre: String) {
        for entry in active {
            let own = entry.interface.ipv6Addresses.compactMap(\.prefix)
            var prefixes: [(prefix: IPv6Prefix, why: String)] = []
            for other in active where other.interface.name != entry.interface.name {
                for address in other.interface.ipv6Addresses {
                    guard let prefix = address.prefix, !address.address.isLinkLocal,
                          !own.contains(where: { $0.covers(prefix) || prefix.covers($0) }),
                          !prefixes.contains(where: { $0.prefix.covers(prefix) }) else { continue }
                    prefixes.append((prefix, "source in \(prefix), connected to \(other.interface.name)\(RuleGenerator.line(address.location))"))
                }
            }
            guard !prefixes.isEmpty else { continue }
            let chain = raw.chain("SI-SPOOF-\(entry.linux)")
            raw.note(pre, "\(entry.interface.name): anti-spoofing, sources that cannot arrive on it (explicit checks, not rp_filter:",
                     "see the header).")
            raw.rule(pre, ["-i \(entry.linux)"], comment: "\(entry.interface.name): anti-spoofing", "-j \(chain)")
            for drop in prefixes { raw.rule(chain, ["-s \(drop.prefix)"], comment: "\(entry.interface.name): \(drop.why)", "-j DROP") }
        }
    }

    private func mangleTable6() -> IptablesTable {
        var mangle = IptablesTable("mangle")
        let pre = mangle.top("PREROUTING")
        let forward = mangle.top("FORWARD")
        let post = mangle.top("POSTROUTING")
        for interface in configuration.interfaces where interface.shutdown.value {
            guard let linux = linuxNames[interface.name] else { continue }
            mangle.note(pre, "\(interface.name) is shut down: IOS passes nothing through it.")
            let comment = "\(interface.name): shutdown\(RuleGenerator.line(interface.shutdown.location))"
            mangle.rule(pre, ["-i \(linux)"], comment: comment, "-j DROP")
            mangle.rule(post, ["-o \(linux)"], comment: comment, "-j DROP")
        }
        for entry in active {
            guard let filter = entry.interface.trafficFilterIn, let list = configuration.ipv6AccessList(named: filter.value) else { continue }
            let chain = mangle.chain("SI-IN-\(entry.linux)")
            mangle.note(pre, "\(entry.interface.name) inbound: IPv6 access list \(list.name) on packets as they arrive, including",
                        "packets to the router itself (IOS filters those too: its neighbour discovery passes the implicit permits).")
            mangle.rule(pre, ["-i \(entry.linux)"],
                        comment: "\(entry.interface.name): ipv6 traffic-filter \(list.name) in\(RuleGenerator.line(filter.location))",
                        "-j \(chain)")
            bypassRule(&mangle, chain: chain, list: list.name)
            mangle.rule(chain, [], comment: nil, "-g \(ipv6AccessListChain(list, table: &mangle))")
        }
        inspectionRules(&mangle, forward: forward)
        routerTraffic(&mangle)
        queueRules(&mangle, post: post)
        return mangle
    }

    private func filterTable6() -> IptablesTable {
        var filter = IptablesTable("filter")
        let forward = filter.top("FORWARD")
        for entry in active {
            guard let group = entry.interface.trafficFilterOut, let list = configuration.ipv6AccessList(named: group.value) else { continue }
            let chain = filter.chain("SI-OUT-\(entry.linux)")
            filter.note(forward, "\(entry.interface.name) outbound: IPv6 access list \(list.name) on forwarded packets (the router's own",
                        "packets are not filtered on the way out, as in IOS).")
            filter.rule(forward, ["-o \(entry.linux)"],
                        comment: "\(entry.interface.name): ipv6 traffic-filter \(list.name) out\(RuleGenerator.line(group.location))",
                        "-j \(chain)")
            bypassRule(&filter, chain: chain, list: list.name)
            filter.rule(chain, [], comment: nil, "-g \(ipv6AccessListChain(list, table: &filter))")
        }
        return filter
    }

    /// The chain of an IPv6 access list in `table`, built once: its entries in order, then what
    /// IOS adds to every IPv6 list: `permit icmp any any nd-na`, `permit icmp any any nd-ns`,
    /// `deny ipv6 any any`.
    func ipv6AccessListChain(_ list: IPv6AccessList, table: inout IptablesTable) -> String {
        let index = (configuration.ipv6AccessLists.firstIndex(of: list) ?? 0) + 1
        let name = "SI-ACL-" + (RuleGenerator.chainSafe(list.name, limit: 13) ?? "L\(index)")
        guard !table.chains.contains(name) else { return name }
        table.chain(name)
        table.note(name, "ipv6 access-list \(list.name): first match wins; then IOS's implicit `permit icmp any any nd-na`,",
                   "`permit icmp any any nd-ns` (neighbour discovery) and `deny ipv6 any any`.")
        for entry in list.entries + IPv6AccessList.implicitPermits {
            let text = "\(list.name): " + (entry.location == nil ? "implicit " : "") + IOSText.ipv6Entry(entry)
                + RuleGenerator.line(entry.location)
            if entry.action == .evaluate {
                table.rule(name, [RuleGenerator.markMatch(IptablesRules.reflexiveMark), "-m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY"],
                           comment: text, "-j RETURN")
                continue
            }
            let words = RuleGenerator.matchWords6(entry.match)
            if entry.log {
                let verb = entry.action == .permit ? "permitted" : "denied"
                table.rule(name, words + ["-m limit --limit 1/sec --limit-burst 5"], comment: text,
                           "-j LOG --log-prefix \"\(RuleGenerator.logPrefix(list: list.name, verb: verb))\"")
            }
            if entry.action == .permit, entry.reflexive != nil {
                table.rule(name, words + ["-m conntrack --ctstate NEW"], comment: text,
                           "-j CONNMARK --set-xmark \(RuleGenerator.hex(IptablesRules.reflexiveMark))/\(RuleGenerator.hex(IptablesRules.reflexiveMark))")
            }
            table.rule(name, words, comment: text, entry.action == .permit ? "-j RETURN" : "-j DROP")
        }
        table.rule(name, [], comment: "\(list.name): implicit deny ipv6 any any", "-j DROP")
        return name
    }

    /// ip6tables matches for an IPv6 entry.
    static func matchWords6(_ match: IPv6PacketMatch) -> [String] {
        var words: [String] = []
        let protoName = match.protocolNumber.map(RuleGenerator.protocolName)
        if let protoName { words.append("-p \(protoName)") }
        if let source = address6(match.source) { words.append("-s \(source)") }
        if let destination = address6(match.destination) { words.append("-d \(destination)") }
        var module: [String] = []
        var multiport: [String] = []
        for (port, option) in [(match.sourcePort, "--sport"), (match.destinationPort, "--dport")] {
            guard let port else { continue }
            switch port {
            case .eqAny(let ports): multiport.append("\(option)s " + ports.map(String.init).joined(separator: ","))
            case .neqAll(let ports): multiport.append("! \(option)s " + ports.map(String.init).joined(separator: ","))
            default: module.append(ports(port, option: option))
            }
        }
        if match.established { module.append("! --tcp-flags ACK,RST NONE") }
        if !match.tcpFlags.isEmpty {
            let names = TCPFlags.names.filter { match.tcpFlags.contains($0.flag) }.map { $0.name.uppercased() }.joined(separator: ",")
            module.append("--tcp-flags \(names) \(names)")
        }
        if !module.isEmpty, let protoName { words.append((["-m \(protoName)"] + module).joined(separator: " ")) }
        for part in multiport { words.append("-m multiport \(part)") }
        if let icmp = match.icmp {
            words.append("-m icmp6 --icmpv6-type \(icmp.type)" + (icmp.code.map { "/\($0)" } ?? ""))
        }
        if let dscp = match.dscp { words.append("-m dscp --dscp \(dscp)") }
        if match.fragments { words.append("-m ipv6header --header frag --soft") }
        if match.hopByHop { words.append("-m ipv6header --header hop --soft") }
        if match.routing { words.append("-m rt" + (match.routingType.map { " --rt-type \($0)" } ?? "")) }
        return words
    }

    /// `addr/128`, `prefix/len`; nil for any.
    static func address6(_ match: IPv6AddressMatch) -> String? {
        switch match {
        case .any: nil
        case .host(let address): "\(address)/128"
        case .prefix(let prefix): "\(prefix)"
        }
    }

    func header6() -> String {
        let map = options.interfaces.map { "\($0.iosName)=\($0.linuxName)" }.joined(separator: " ")
            + (options.mapNote.map { " (\($0))" } ?? "")
        let inspected = RuleGenerator.hex(IptablesRules.inspectedMark)
        let smtp = RuleGenerator.hex(IptablesRules.smtpMark)
        var lines = [
            "smtp-inspect rules for \(options.sourceName)" + (configuration.hostname.map { " (hostname \($0.value))" } ?? "") + ": IPv6",
            "interfaces: \(map.isEmpty ? "none mapped" : map); smtp/esmtp sessions to NFQUEUE \(options.queue)"
                + (options.queueBypass ? " with --queue-bypass" : " without bypass"),
            "",
            "Load with `ip6tables-restore --noflush`: the IPv6 half of the rule set (`smtp-inspect rules --family",
            "ipv4` prints the IPv4 half; scripts/setup-iptables.sh loads both as one). Every chain this file",
            "creates is named SI-*; the only rules outside them are the `-I <built-in> 1 … -j SI-…` jumps at",
            "the end of each table, commented \"smtp-inspect\". No nat table: IOS's `ip nat` is IPv4 only.",
            "SETUP lines, one action each: `sysctl NAME=VALUE` (`ipv6 unicast-routing` turns on",
            "net.ipv6.conf.all.forwarding), `module NAME` (modprobe), `timeout6 NAME POLICY` (nfct add timeout",
            "NAME inet6 POLICY: an inspected protocol's `timeout`; conntrack keeps a policy to one family).",
            "",
            "No way around the inspector: where an interface inspects SMTP in one family and says nothing of",
            "the other in that direction (no `ipv6 inspect`, or no `ip inspect`), the other family's SMTP",
            "through it is inspected with the same rule's smtp/esmtp, never forwarded uninspected. Other IPv6",
            "traffic the configuration says nothing about is left to this box's own ip6tables rules.",
            "",
            "Anti-spoofing (raw PREROUTING, SI-SPOOF-<interface>): explicit per-interface source checks made",
            "from the configuration, not rp_filter: a packet arriving on a mapped interface is dropped when",
            "its source is in a prefix connected to another mapped interface (their `ipv6 address` lines).",
            "Link-local sources (fe80::/10) are valid on every link.",
            "",
            "Fragments: conntrack reassembles IPv6 fragments before the first table (nf_defrag_ipv6, priority",
            "-400), so no rule and no NFQUEUE sees one; a guard in raw PREROUTING drops a TCP packet whose",
            "Fragment header says it is a part, so none reaches the queue (an atomic fragment is whole).",
            "",
            "Neighbour discovery: IOS ends every IPv6 access list with `permit icmp any any nd-na`, `permit icmp",
            "any any nd-ns` and `deny ipv6 any any`; so does each list's chain here.",
            "",
            "Connection marks (bits set under a mask, other bits are left alone):",
            "  \(inspected)  the connection was created through an `ip inspect`/`ipv6 inspect` rule: a CBAC",
            "             session, whose packets pass the access lists both ways",
            "  \(smtp)  its rule inspects smtp/esmtp: both directions go to smtp-inspect via NFQUEUE",
            "  \(RuleGenerator.hex(IptablesRules.reflexiveMark))  created by a `permit … reflect NAME` entry: `evaluate NAME` lets its replies in",
        ] + IptablesRules.bypassMarkLines + [
            "",
            "Where each IOS step happens:",
            "  raw PREROUTING      fragment guard; anti-spoofing; conntrack helpers and timeout policies",
            "  mangle PREROUTING   inbound lists (`ipv6 traffic-filter … in`), on packets as they arrive",
            "  mangle FORWARD      ip/ipv6 inspect in/out: mark the new sessions of the inspected protocols",
            "  filter FORWARD      outbound lists (`ipv6 traffic-filter … out`)",
            "  mangle POSTROUTING  NFQUEUE for smtp/esmtp sessions, after every filter rule accepted them",
        ]
        if configuration.ipv6UnicastRouting == nil {
            lines.append("No `ipv6 unicast-routing`: IPv6 forwarding is left as this box has it.")
        }
        for interface in configuration.interfaces where linuxNames[interface.name] == nil {
            lines.append("\(interface.name): no Linux interface given, no rules" + (interface.shutdown.value ? " (it is shut down)" : ""))
        }
        return lines.map { $0.isEmpty ? "#\n" : "# " + IptablesTable.clean($0) + "\n" }.joined()
    }
}
