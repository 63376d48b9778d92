extension RuleGenerator {
    /// The chain of access list `list` in `table`, built once: its entries in order, a permit
    /// returns, a deny drops, and what no entry matches is dropped (IOS's implicit deny).
    ///
    /// `leavingAs` builds the variant for packets whose source static NAT will change to a
    /// global address after the chain runs: each entry is decided on that global address (kept
    /// without a source match when it matches, left out when it cannot).
    func accessListChain(
        _ list: AccessList, table: inout IptablesTable, leavingAs nat: (index: Int, entry: StaticNAT)? = nil
    ) -> String {
        let name = "SI-ACL-\(list.number)" + (nat.map { "-NAT\($0.index)" } ?? "")
        guard !table.chains.contains(name) else { return name }
        table.chain(name)
        if let nat {
            table.note(name, "access-list \(list.number) for \(nat.entry.local), which leaves as \(nat.entry.global):"
                       + " first match wins; nothing matched: denied.")
        } else {
            table.note(name, "access-list \(list.number) (\(list.kind.rawValue)): first match wins; nothing matched: denied.")
        }
        for entry in list.entries {
            let text = IOSText.accessListEntry(entry, list: list) + RuleGenerator.line(entry.location)
            var match = entry.match
            if let nat {
                guard match.source.matches(nat.entry.global) else {
                    table.note(name, "(\(text): cannot match source \(nat.entry.global))")
                    continue
                }
                match.source = .any
            }
            let words = RuleGenerator.matchWords(match)
            if entry.log {
                let verb = entry.action == .permit ? "permitted" : "denied"
                table.rule(name, words + ["-m limit --limit 1/sec --limit-burst 5"], comment: text,
                           "-j LOG --log-prefix \"list \(list.number) \(verb) \"")
            }
            table.rule(name, words, comment: text, entry.action == .permit ? "-j RETURN" : "-j DROP")
        }
        table.rule(name, [], comment: "access-list \(list.number): implicit deny", "-j DROP")
        return name
    }

    /// iptables matches for an IOS entry.
    static func matchWords(_ match: PacketMatch) -> [String] {
        var words: [String] = []
        let proto = match.protocolNumber
        let protoName = proto.map { [1: "icmp", 6: "tcp", 17: "udp"][$0] ?? "\($0)" }
        if let protoName { words.append("-p \(protoName)") }
        if let source = address(match.source) { words.append("-s \(source)") }
        if let destination = address(match.destination) { words.append("-d \(destination)") }
        var module: [String] = []
        if let port = match.sourcePort { module.append(ports(port, option: "--sport")) }
        if let port = match.destinationPort { module.append(ports(port, option: "--dport")) }
        if match.established { module.append("! --tcp-flags ACK,RST NONE") }
        if !module.isEmpty, let protoName { words.append((["-m \(protoName)"] + module).joined(separator: " ")) }
        if let icmp = match.icmp {
            words.append("-m icmp --icmp-type \(icmp.type)" + (icmp.code.map { "/\($0)" } ?? ""))
        }
        return words
    }

    /// `a.b.c.d/len`, or `a.b.c.d/mask` for a wildcard that is not contiguous.
    static func address(_ match: AddressMatch) -> String? {
        switch match {
        case .any: return nil
        case .host(let address): return "\(address)/32"
        case .wildcard(let base, let wildcard):
            let mask = wildcard.inverted
            return "\(base)/" + (mask.netmaskPrefixLength.map { "\($0)" } ?? "\(mask)")
        }
    }

    static func ports(_ match: PortMatch, option: String) -> String {
        switch match {
        case .eq(let port): "\(option) \(port)"
        case .neq(let port): "! \(option) \(port)"
        case .gt(let port): "\(option) \(port + 1):65535"
        case .lt(let port): "\(option) 0:\(port - 1)"
        case .range(let low, let high): low == high ? "\(option) \(low)" : "\(option) \(low):\(high)"
        }
    }
}
