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
        RuleGenerator.listChainName(list, among: configuration.accessLists)
    }

    /// `SI-ACL-NAME`, or `SI-ACL-L<n>` (`n`: the list's place among its family's lists).
    static func listChainName<List: SequencedAccessList & Equatable>(_ list: List, among lists: [List]) -> String {
        let index = (lists.firstIndex(of: list) ?? 0) + 1
        return "SI-ACL-" + (RuleGenerator.chainSafe(list.name, limit: 13) ?? "L\(index)")
    }

    /// Whether this family has an access list `name` (`access-list`/`ip access-list`, or
    /// `ipv6 access-list`).
    func hasAccessList(named name: String) -> Bool {
        family == .ipv4 ? configuration.accessList(named: name) != nil : configuration.ipv6AccessList(named: name) != nil
    }

    /// The chain of this family's access list `name`, built once (`hasAccessList` said it exists).
    func accessListChain(named name: String, table: inout IptablesTable) -> String {
        if family == .ipv4, let list = configuration.accessList(named: name) { return accessListChain(list, table: &table) }
        if family == .ipv6, let list = configuration.ipv6AccessList(named: name) { return ipv6AccessListChain(list, table: &table) }
        preconditionFailure("no \(family) access list \(name): hasAccessList(named:) comes first")
    }

    /// The jump from `top` to an interface's list chain (`SI-IN-…`, `SI-OUT-…`), explained by
    /// `note`, and the CBAC bypass that heads that chain. The caller adds the list itself.
    func listJump(
        _ table: inout IptablesTable, from top: String, _ entry: (interface: Interface, linux: String), _ direction: Direction,
        _ group: Located<String>, note: [String]
    ) -> String {
        let chain = table.chain("SI-\(direction == .in ? "IN" : "OUT")-\(entry.linux)")
        table.note(top, lines: note)
        let command = family == .ipv4 ? "ip access-group" : "ipv6 traffic-filter"
        table.rule(top, [RuleGenerator.interfaceMatch(entry.linux, direction)],
                   comment: "\(entry.interface.name): \(command) \(group.value) \(direction.rawValue)\(RuleGenerator.line(group.location))",
                   "-j \(chain)")
        bypassRule(&table, chain: chain, list: group.value)
        return chain
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
                RuleGenerator.evaluateRule(&table, chain: name, comment: text)
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
                    RuleGenerator.filterRules(&table, chain: name, words, comment: text, entry: entry, list: list.name)
                }
            }
        }
        if case .filter = use {
            table.rule(name, [], comment: "\(list.isNamed ? list.name : "access-list \(list.name)"): implicit deny", "-j DROP")
        }
        return name
    }

    /// `evaluate NAME`: the replies of the sessions a `reflect` entry marked return (pass).
    static func evaluateRule(_ table: inout IptablesTable, chain: String, comment: String) {
        table.rule(chain, [markMatch(IptablesRules.reflexiveMark), "-m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY"],
                   comment: comment, "-j RETURN")
    }

    /// A filtering entry's rules for one set of matches: a rate-limited LOG when it says `log`,
    /// the reflexive mark on the new sessions of a `reflect` permit, then RETURN or DROP.
    static func filterRules(
        _ table: inout IptablesTable, chain: String, _ words: [String], comment: String, entry: some AccessListEntryProtocol,
        list: String
    ) {
        if entry.log {
            let verb = entry.action == .permit ? "permitted" : "denied"
            table.rule(chain, words + ["-m limit --limit 1/sec --limit-burst 5"], comment: comment,
                       "-j LOG --log-prefix \"\(logPrefix(list: list, verb: verb))\"")
        }
        if entry.action == .permit, entry.reflexive != nil {
            table.rule(chain, words + ["-m conntrack --ctstate NEW"], comment: comment,
                       "-j CONNMARK --set-xmark \(hex(IptablesRules.reflexiveMark))/\(hex(IptablesRules.reflexiveMark))")
        }
        table.rule(chain, words, comment: comment, entry.action == .permit ? "-j RETURN" : "-j DROP")
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
        words += transportWords(match, protoName: protoName)
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

    /// Ports, `established` and TCP flags (`-m tcp …`, `-m multiport …`), as both families write them.
    static func transportWords(_ match: some EntryMatch, protoName: String?) -> [String] {
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
        var words: [String] = []
        if !module.isEmpty, let protoName { words.append((["-m \(protoName)"] + module).joined(separator: " ")) }
        return words + multiport.map { "-m multiport \($0)" }
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
