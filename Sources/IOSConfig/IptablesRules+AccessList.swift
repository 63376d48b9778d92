extension RuleGenerator {
    /// What an access list's chain does with a packet.
    enum ListUse {
        /// Filtering: a permit returns, a deny drops, nothing matched is dropped (IOS's implicit deny).
        case filter
        /// Selecting for NAT: a permit jumps to `target`, a deny (or nothing matched) returns.
        case select(chainSuffix: String, target: String)
    }

    /// The chain base name of a list: `SI-ACL-101`, `SI-ACL-OUTSIDE`, or numbered when the name
    /// is long or has characters a chain name cannot carry.
    func accessListChainName(_ list: AccessList) -> String {
        let index = (configuration.accessLists.firstIndex(of: list) ?? 0) + 1
        return "SI-ACL-" + (RuleGenerator.chainSafe(list.name, limit: 13) ?? "L\(index)")
    }

    /// The chain of access list `list` in `table`, built once: its entries in order (object groups
    /// expanded, one rule per combination), and IOS's implicit deny.
    ///
    /// `leavingAs` builds the variant for packets whose source static NAT will change to a
    /// global address after the chain runs: each entry is decided on that global address (kept
    /// without a source match when it matches, left out when it cannot).
    func accessListChain(
        _ list: AccessList, table: inout IptablesTable, leavingAs nat: (index: Int, entry: StaticNAT)? = nil,
        use: ListUse = .filter
    ) -> String {
        var name = accessListChainName(list) + (nat.map { "-NAT\($0.index)" } ?? "")
        if case .select(let suffix, _) = use { name = "SI-NAT\(suffix)" }
        guard !table.chains.contains(name) else { return name }
        table.chain(name)
        let title = list.isNamed ? "ip access-list \(list.kind.rawValue) \(list.name)" : "access-list \(list.name) (\(list.kind.rawValue))"
        switch (use, nat) {
        case (.select, _):
            table.note(name, "\(title) selects what this NAT translates: a permit translates, a deny or no match does not.")
        case (.filter, let nat?):
            table.note(name, "\(title) for \(nat.entry.local), which leaves as \(nat.entry.global): first match wins; nothing matched: denied.")
        case (.filter, nil):
            table.note(name, "\(title): first match wins; nothing matched: denied.")
        }
        for entry in list.entries {
            let text = (list.isNamed ? "\(list.name): " : "") + IOSText.accessListEntry(entry, list: list)
                + RuleGenerator.line(entry.location)
            if entry.action == .evaluate {
                guard case .filter = use else { continue }
                table.rule(name, [RuleGenerator.markMatch(IptablesRules.reflexiveMark), "-m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY"],
                           comment: text, "-j RETURN")
                continue
            }
            for var match in configuration.expand(entry.match) {
                if let nat {
                    guard match.source.matches(nat.entry.global) else {
                        table.note(name, "(\(text): cannot match source \(nat.entry.global))")
                        continue
                    }
                    match.source = .any
                }
                let words = RuleGenerator.matchWords(match)
                switch use {
                case .select(_, let target):
                    table.rule(name, words, comment: text, entry.action == .permit ? target : "-j RETURN")
                case .filter:
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
            }
        }
        if case .filter = use {
            table.rule(name, [], comment: "\(list.isNamed ? list.name : "access-list \(list.name)"): implicit deny", "-j DROP")
        }
        return name
    }

    /// `list NAME permitted `: at most 29 bytes (the kernel's limit), nothing a word cannot hold.
    static func logPrefix(list: String, verb: String) -> String {
        var name = list.unicodeScalars.filter { (0x21...0x7E).contains($0.value) && $0 != "\"" && $0 != "\\" }
            .map(String.init).joined()
        let room = 29 - "list  \(verb) ".utf8.count
        if name.utf8.count > room { name = String(name.prefix(max(0, room - 1))) + "~" }
        return "list \(name) \(verb) "
    }

    /// iptables matches for an IOS entry without object groups.
    static func matchWords(_ match: PacketMatch) -> [String] {
        var words: [String] = []
        let proto = match.protocolNumber
        let protoName = proto.map { [1: "icmp", 6: "tcp", 17: "udp"][$0] ?? "\($0)" }
        if let protoName { words.append("-p \(protoName)") }
        if match.fragments { words.append("-f") }
        if let source = address(match.source) { words.append("-s \(source)") }
        if let destination = address(match.destination) { words.append("-d \(destination)") }
        var ranges: [String] = []
        if case .range(let first, let last) = match.source { ranges.append("--src-range \(first)-\(last)") }
        if case .range(let first, let last) = match.destination { ranges.append("--dst-range \(first)-\(last)") }
        if !ranges.isEmpty { words.append((["-m iprange"] + ranges).joined(separator: " ")) }
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
            words.append("-m icmp --icmp-type \(icmp.type)" + (icmp.code.map { "/\($0)" } ?? ""))
        }
        if let dscp = match.dscp { words.append("-m dscp --dscp \(dscp)") }
        if let precedence = match.precedence { words.append("-m tos --tos \(hex(UInt32(precedence) << 5))/0xe0") }
        if let tos = match.tos { words.append("-m tos --tos \(hex(UInt32(tos) << 1))/0x1e") }
        if let ttl = match.ttl {
            let text: String = switch ttl {
            case .eq(let v): "-m ttl --ttl-eq \(v)"
            case .neq(let v): "-m ttl ! --ttl-eq \(v)"
            case .gt(let v): "-m ttl --ttl-gt \(v)"
            case .lt(let v): "-m ttl --ttl-lt \(v)"
            case .range(let a, let b):
                [a > 0 ? "-m ttl --ttl-gt \(a - 1)" : nil, b < 255 ? "-m ttl --ttl-lt \(b + 1)" : nil]
                    .compactMap { $0 }.joined(separator: " ")
            }
            words.append(text)
        }
        return words
    }

    /// `a.b.c.d/len`, or `a.b.c.d/mask` for a wildcard that is not contiguous; nil for any (and
    /// for a range, which `-m iprange` matches).
    static func address(_ match: AddressMatch) -> String? {
        switch match {
        case .any, .objectGroup, .range: return nil
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
        case .eqAny(let ports): "\(option) \(ports.first ?? 0)"
        case .neqAll(let ports): "! \(option) \(ports.first ?? 0)"
        }
    }
}
