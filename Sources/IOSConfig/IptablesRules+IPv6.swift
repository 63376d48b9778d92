/// What only the ip6tables rule set has: the same order of IOS steps as the IPv4 one (see
/// `IptablesRules`), for the configuration's IPv6 lines and for the SMTP inspection an interface's
/// IPv4 lines ask for where it says nothing of IPv6. No nat table: IOS's `ip nat` is IPv4 only.
extension RuleGenerator {
    /// The queue must never see a part of a datagram: conntrack reassembles IPv6 fragments before
    /// this table (nf_defrag_ipv6, priority -400), so a TCP packet here whose Fragment header says
    /// more follow, or that it is not the first, was not reassembled. A Fragment header with
    /// offset 0 and no more to follow (an atomic fragment, RFC 6946) is a whole packet: it passes.
    func fragmentGuard6(_ raw: inout IptablesTable, pre: String) {
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

    /// The sources that cannot arrive on `interface`, each with why: a global prefix connected to
    /// another mapped interface (its `ipv6 address` lines). Link-local sources (fe80::/10) are
    /// valid on every link.
    func spoofedSources6(arrivingOn interface: Interface) -> [(match: [String], why: String)] {
        let own = interface.ipv6Addresses.compactMap(\.prefix)
        var prefixes: [(prefix: IPv6Prefix, why: String)] = []
        for other in active where other.interface.name != interface.name {
            for address in other.interface.ipv6Addresses {
                guard let prefix = address.prefix, !address.address.isLinkLocal,
                      !own.contains(where: { $0.covers(prefix) || prefix.covers($0) }),
                      !prefixes.contains(where: { $0.prefix.covers(prefix) }) else { continue }
                prefixes.append((prefix, "source in \(prefix), connected to \(other.interface.name)\(RuleGenerator.line(address.location))"))
            }
        }
        return prefixes.map { (["-s \($0.prefix)"], $0.why) }
    }

    /// The chain of an IPv6 access list in `table`, built once: its entries in order, then what
    /// IOS adds to every IPv6 list: `permit icmp any any nd-na`, `permit icmp any any nd-ns`,
    /// `deny ipv6 any any`.
    func ipv6AccessListChain(_ list: IPv6AccessList, table: inout IptablesTable) -> String {
        let name = RuleGenerator.listChainName(list, among: configuration.ipv6AccessLists)
        guard !table.chains.contains(name) else { return name }
        table.chain(name)
        table.note(name, "ipv6 access-list \(list.name): first match wins; then IOS's implicit `permit icmp any any nd-na`,",
                   "`permit icmp any any nd-ns` (neighbour discovery) and `deny ipv6 any any`.")
        for entry in list.entries + IPv6AccessList.implicitPermits {
            let text = "\(list.name): " + (entry.location == nil ? "implicit " : "") + IOSText.ipv6Entry(entry)
                + RuleGenerator.line(entry.location)
            if entry.action == .evaluate {
                RuleGenerator.evaluateRule(&table, chain: name, comment: text)
            } else {
                RuleGenerator.filterRules(&table, chain: name, RuleGenerator.matchWords6(entry.match), comment: text, entry: entry,
                                          list: list.name)
            }
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
        words += transportWords(match, protoName: protoName)
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
}
