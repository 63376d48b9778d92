extension ConfigParser {
    /// `ipv6 …` sub-commands that start a sub-mode smtp-inspect does not read.
    static let ipv6BlockCommands: Set<String> = ["router", "dhcp", "local", "prefix-list", "nat", "multicast-routing", "ospf"]

    /// Interface sub-commands whose first words are `ipv6 X`: IOS reads them in the interface.
    static let ipv6InterfaceWords: Set<String> = [
        "address", "enable", "traffic-filter", "nd", "mtu", "ospf", "eigrp", "rip", "virtual-reassembly", "verify",
        "unreachables", "redirects", "dhcp", "mld", "pim", "policy", "flow", "tcp", "cef", "source-guard", "snooping",
    ]

    /// Whether `ipv6 …` words are an interface sub-command (not a global command).
    static func isIPv6InterfaceCommand(_ words: [String]) -> Bool {
        guard words.count > 1, words[0] == "ipv6" else { return false }
        if words[1] == "inspect" { return words.count == 4 && ["in", "out"].contains(words[3]) }
        if words[1] == "dhcp" { return words.count > 2 && ["client", "server", "relay"].contains(words[2]) }
        return ipv6InterfaceWords.contains(words[1])
    }

    /// Whether `ipv6 …` words are a global command smtp-inspect reads (wherever it appears).
    static func configuresIPv6Globally(_ words: [String]) -> Bool {
        guard words.count > 1, words[0] == "ipv6" else { return false }
        switch words[1] {
        case "unicast-routing", "access-list", "route": return true
        case "inspect": return !isIPv6InterfaceCommand(words) && words.count > 2
        default: return false
        }
    }

    /// A global `ipv6 …` command.
    mutating func ipv6Command(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        mode = .global
        switch words[1] {
        case "unicast-routing":
            _ = cursor.next()
            _ = cursor.next()
            try cursor.end(after: "`ipv6 unicast-routing`")
            if let previous = model.ipv6UnicastRouting { replaced("ipv6 unicast-routing", previous: previous, at: cursor.lineLocation) }
            model.ipv6UnicastRouting = cursor.lineLocation
            return .appliedAs("IPv6 forwarding on (net.ipv6.conf.all.forwarding=1)")
        case "inspect" where words.count > 2 && words[2] == "routing-header":
            _ = cursor.next()
            _ = cursor.next()
            _ = cursor.next()
            try cursor.end(after: "`ipv6 inspect routing-header`")
            model.ipv6InspectRoutingHeader = cursor.lineLocation
            return .appliedAs("inspected TCP/25 with a routing header is passed to smtp-inspect even when segments are left")
        case "inspect":
            if words.count == 4, ["in", "out"].contains(words[3]) {
                throw cursor.error(
                    .malformed, at: cursor.peek(2), "interface command outside an interface block",
                    expected: "`ipv6 inspect name …` or a global `ipv6 inspect` setting",
                    hint: "put `ipv6 inspect \(cursor.peek(2)?.text ?? "") \(words[3])` under its `interface` line")
            }
            return try inspectCommand(&cursor, words: words, family: .ipv6)
        case "access-list":
            return try ipv6AccessListHead(&cursor, words: words)
        case "traffic-filter", "address", "enable":
            throw cursor.error(
                .malformed, at: cursor.peek(1), "interface command outside an interface block",
                expected: "a global command", hint: "put it under the `interface` line it belongs to")
        case "route":
            return .ignored("IPv6 route: the Linux routing table is the operator's")
        case "cef":
            return .ignored("IPv6 switching: nothing to mirror")
        default:
            if ConfigParser.ipv6BlockCommands.contains(words[1]), words.count > 2 {
                mode = .block(cursor.line.text.trimmingSpaces)
            }
            return .ignored("IPv6 setting smtp-inspect does not mirror (\(ConfigParser.notConfigured))")
        }
    }

    // MARK: - Interfaces

    /// `ipv6 address|enable|traffic-filter|inspect …` under an interface; nil for other `ipv6`
    /// words (then the caller decides between a global command and an ignored sub-command).
    mutating func ipv6InterfaceCommand(_ cursor: inout TokenCursor, words: [String], index: Int) throws(Diagnostic) -> Disposition? {
        switch words[1] {
        case "address": return try ipv6Address(&cursor, words: words, index: index)
        case "enable":
            _ = cursor.next()
            _ = cursor.next()
            try cursor.end(after: "`ipv6 enable`")
            model.interfaces[index].ipv6Enable = cursor.lineLocation
            return .appliedAs("IPv6 on the interface (link-local address only)")
        case "traffic-filter":
            return try ipv6Reference(.accessList, &cursor, index: index)
        case "inspect" where words.count >= 4 && ["in", "out"].contains(words[3]):
            return try ipv6Reference(.inspection, &cursor, index: index)
        case "virtual-reassembly":
            return .ignored("conntrack reassembles IPv6 fragments before any rule (see the rules' header)")
        default:
            return ConfigParser.isIPv6InterfaceCommand(words) || cursor.line.isIndented
                ? .ignored("interface sub-command smtp-inspect does not use") : nil
        }
    }

    /// `ipv6 traffic-filter NAME in|out`, `ipv6 inspect NAME in|out`
    private mutating func ipv6Reference(
        _ reference: Interface.Reference, _ cursor: inout TokenCursor, index: Int
    ) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        let name = reference == .accessList
            ? try cursor.take("IPv6 access list", expected: "the name of an `ipv6 access-list`")
            : try cursor.take("IPv6 inspection rule name", expected: "the name of an `ipv6 inspect name` rule")
        let direction = try ConfigParser.direction(&cursor)
        try cursor.end(after: "the direction")
        attach(reference, name, direction, family: .ipv6, interface: index, cursor: cursor)
        return .applied
    }

    /// `ipv6 address A/LEN [eui-64|anycast]`, `ipv6 address A link-local`, `ipv6 address
    /// autoconfig|dhcp`, `ipv6 address GENERAL-PREFIX SUB/LEN`.
    private mutating func ipv6Address(_ cursor: inout TokenCursor, words: [String], index: Int) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        let token = try cursor.take("IPv6 address", expected: "`A/LEN`, `A link-local`, `autoconfig` or `dhcp`")
        if ["autoconfig", "dhcp"].contains(token.keyword) {
            while cursor.next() != nil {}
            model.interfaces[index].ipv6DynamicAddress = Located(token.keyword, at: cursor.lineLocation)
            return .ignored("address assigned by other means: the Linux interface's own IPv6 addresses are used")
        }
        let parts = token.text.split(separator: "/", omittingEmptySubsequences: false)
        guard let address = IPv6Address(parsing: parts[0]) else {
            if parts.count == 1, !token.text.contains(":"), token.text.first?.isLetter == true, cursor.peek() != nil {
                // A general prefix name (`ipv6 address ISP-PD ::1/64`): the address comes from it.
                while cursor.next() != nil {}
                model.interfaces[index].ipv6DynamicAddress = Located("general-prefix \(token.text)", at: cursor.lineLocation)
                return .ignored("address from a general prefix: the Linux interface's own IPv6 addresses are used")
            }
            throw cursor.error(.badAddress, at: token, "bad IPv6 address", expected: "an IPv6 address with its prefix length, like 2001:DB8:10:10::1/64",
                               hint: IPv4Address(parsing: parts[0]) != nil ? "an IPv4 address goes in `ip address A MASK`" : "write it as IOS does: hex groups separated by `:`, one `::` at most")
        }
        var kind = IPv6InterfaceAddress.Kind.global
        var length = 128
        if parts.count == 2 {
            length = try ConfigParser.prefixLength(parts[1], of: token, cursor: cursor)
        }
        if let option = cursor.next() {
            switch option.keyword {
            case "eui-64" where parts.count == 2: kind = .eui64
            case "anycast" where parts.count == 2: kind = .anycast
            case "link-local": kind = .linkLocal
            default:
                throw cursor.error(.unknownOption, at: option, "unknown IPv6 address option",
                                   expected: parts.count == 2 ? "`eui-64`, `anycast` or end of line" : "`link-local`")
            }
        }
        try cursor.end(after: "the address")
        guard parts.count == 2 || kind == .linkLocal else {
            throw cursor.error(.malformed, at: token, "IPv6 address without a prefix length",
                               expected: "A/LEN (or `A link-local`)", hint: "IOS writes `ipv6 address 2001:DB8:10:10::1/64`")
        }
        if kind == .linkLocal, !address.isLinkLocal {
            throw cursor.error(.badAddress, at: token, "a link-local address must be in FE80::/10",
                               expected: "an address like FE80::1", hint: "drop `link-local` for a global address")
        }
        let value = IPv6InterfaceAddress(address: address, prefixLength: length, kind: kind, location: cursor.lineLocation)
        if kind == .linkLocal, let previous = model.interfaces[index].ipv6Addresses.first(where: { $0.kind == .linkLocal }) {
            replaced("ipv6 address … link-local", previous: previous.location, at: value.location)
            model.interfaces[index].ipv6Addresses.removeAll { $0.kind == .linkLocal }
        }
        model.interfaces[index].ipv6Addresses.append(value)
        return .applied
    }

    /// `no ipv6 address|enable|traffic-filter|inspect …` under an interface.
    mutating func negatedIPv6InterfaceCommand(_ cursor: inout TokenCursor, words: [String], index: Int) throws(Diagnostic) -> Disposition? {
        // `no ipv6 access-list A`, `no ipv6 inspect name …` typed in an interface are global.
        guard ConfigParser.isIPv6InterfaceCommand(Array(words.dropFirst())) || words.count == 3 && words[2] == "inspect" else { return nil }
        var interface = model.interfaces[index]
        let direction: Direction? = words.last == "in" ? .in : words.last == "out" ? .out : nil
        switch (words[2], direction) {
        case ("address", _) where words.count == 3:
            interface.ipv6Addresses = []
            interface.ipv6DynamicAddress = nil
        case ("enable", _) where words.count == 3: interface.ipv6Enable = nil
        case ("traffic-filter", .in?): interface.trafficFilterIn = nil
        case ("traffic-filter", .out?): interface.trafficFilterOut = nil
        case ("inspect", .in?): interface.ipv6InspectIn = nil
        case ("inspect", .out?): interface.ipv6InspectOut = nil
        case ("traffic-filter", nil), ("inspect", nil), ("address", _):
            throw cursor.error(
                .unsupported, at: cursor.peek(), "`no` form of an interface IPv6 filter, inspection or address",
                expected: "`no ipv6 traffic-filter NAME in|out`, `no ipv6 inspect NAME in|out` or `no ipv6 address`",
                hint: "delete both the command and its `no` form")
        default:
            return .ignored("interface sub-command smtp-inspect does not use")
        }
        model.interfaces[index] = interface
        return .appliedAs("removes it from \(interface.name)")
    }

    // MARK: - Access lists

    /// `ipv6 access-list NAME`: the entries follow in its sub-mode.
    private mutating func ipv6AccessListHead(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        guard words.count == 3 else {
            return .ignored("IPv6 access-list setting (logging, cache): nothing smtp-inspect mirrors")
        }
        let name = try cursor.take("IPv6 access-list name", expected: "a name")
        try cursor.end(after: "the access-list name")
        mode = .ipv6AccessList(ConfigParser.index(named: name.text, in: &model.ipv6AccessLists, \.name) {
            IPv6AccessList(name: name.text, location: cursor.location(of: name))
        })
        return .applied
    }

    /// An entry under `ipv6 access-list NAME`: `[sequence N] permit|deny …`, `remark …`,
    /// `evaluate NAME`, `no sequence N`. Nil when the line is none of them.
    mutating func ipv6Entry(_ line: SourceLine, list index: Int) throws(Diagnostic) -> Disposition? {
        var cursor = TokenCursor(line, file: file)
        let words = line.tokens.map(\.keyword)
        if words.first == "no", words.count == 3, words[1] == "sequence", let sequence = Int(line.tokens[2].text) {
            let before = model.ipv6AccessLists[index].entries.count
            model.ipv6AccessLists[index].entries.removeAll { $0.sequence == sequence }
            return before == model.ipv6AccessLists[index].entries.count
                ? .ignored("deletes entry \(sequence), which does not exist") : .appliedAs("deletes entry \(sequence)")
        }
        var sequence = model.ipv6AccessLists[index].nextSequence
        var explicitSequence = false
        if words.first == "sequence" {
            _ = cursor.next()
            sequence = Int(try cursor.number(1...4_294_967, what: "sequence number"))
            explicitSequence = true
        }
        guard let action = cursor.peek(), ["permit", "deny", "remark", "evaluate"].contains(action.keyword) else {
            if explicitSequence {
                throw cursor.error(.malformed, at: cursor.peek(), "sequence number without an entry", expected: "`permit` or `deny`")
            }
            return nil
        }
        _ = cursor.next()
        if action.keyword == "remark" { return .ignored("access-list remark: a comment") }
        if action.keyword == "evaluate" {
            let name = try cursor.take("reflexive list name", expected: "the name a `reflect` entry gives")
            try cursor.end(after: "the reflexive list name")
            let entry = IPv6AccessListEntry(action: .evaluate, match: IPv6PacketMatch(), sequence: sequence,
                                            reflexive: ReflexiveList(name: name.text), location: cursor.lineLocation)
            try insert(entry, into: index, at: line)
            return .appliedAs("replies of the sessions `reflect \(name.text)` created pass")
        }
        var match = try ipv6Match(&cursor)
        let permit = action.keyword == "permit"
        var reflexive: ReflexiveList?
        var trailingSequence: Int?
        let log = try ipv6Options(&cursor, match: &match, reflexive: &reflexive, permit: permit, sequence: &trailingSequence)
        if let trailingSequence {
            if explicitSequence {
                throw cursor.error(.duplicateOption, at: nil, "two sequence numbers for one entry", expected: "one `sequence N`")
            }
            sequence = trailingSequence
        }
        let entry = IPv6AccessListEntry(action: permit ? .permit : .deny, match: match, log: log, sequence: sequence,
                                        reflexive: reflexive, location: cursor.lineLocation)
        try insert(entry, into: index, at: line)
        if match.fragments {
            warnings.append(Diagnostic(.warning, .approximated, at: cursor.lineLocation,
                                       "`fragments` matches every IPv6 packet with a Fragment header, and none reaches the rules",
                                       hint: "conntrack reassembles IPv6 fragments before any table (nf_defrag_ipv6)"))
            return .approximated("matches no packet: conntrack reassembles IPv6 fragments before the rules")
        }
        return .applied
    }

    private mutating func insert(_ entry: IPv6AccessListEntry, into index: Int, at line: SourceLine) throws(Diagnostic) {
        let list = model.ipv6AccessLists[index]
        if list.entries.contains(where: { $0.sequence == entry.sequence }) {
            let cursor = TokenCursor(line, file: file)
            throw cursor.error(.duplicateOption, at: line.tokens.first, "entry \(entry.sequence) exists already in \(list.name)",
                               expected: "a sequence number not in use", hint: "IOS refuses a duplicate sequence number")
        }
        model.ipv6AccessLists[index].insert(entry)
    }

    /// The `LEN` of `A/LEN`: 0-128.
    static func prefixLength(_ digits: Substring, of token: Token, cursor: TokenCursor) throws(Diagnostic) -> Int {
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCIIDigit), let value = Int(digits), value <= 128 else {
            throw cursor.error(.numberOutOfRange, at: token, "bad IPv6 prefix length", expected: "A/LEN with LEN 0-128")
        }
        return value
    }

    private mutating func ipv6Match(_ cursor: inout TokenCursor) throws(Diagnostic) -> IPv6PacketMatch {
        let expected = "`ipv6`, `tcp`, `udp`, `icmp`, `esp`, `ahp`, `sctp`, `pcp` or a number 0-255"
        let token = try cursor.take("protocol", expected: expected)
        var match = IPv6PacketMatch()
        if token.keyword != "ipv6" {
            guard let number = ConfigParser.protocolNumber(token.keyword, family: .ipv6) else {
                throw cursor.error(.badProtocol, at: token, "unknown protocol in an IPv6 access list", expected: expected,
                                   hint: token.keyword == "ip" ? "IPv6 lists say `ipv6` for any protocol" : "")
            }
            match.protocolNumber = number
        }
        match.source = try ipv6AddressMatch(&cursor, role: "source")
        match.sourcePort = try portMatch(&cursor, protocolNumber: match.protocolNumber)
        match.destination = try ipv6AddressMatch(&cursor, role: "destination")
        match.destinationPort = try portMatch(&cursor, protocolNumber: match.protocolNumber)
        if match.protocolNumber == IPv6PacketMatch.icmpv6 { match.icmp = try icmpMatch(&cursor, family: .ipv6) }
        return match
    }

    /// `any`, `host A`, `A/LEN`.
    private mutating func ipv6AddressMatch(_ cursor: inout TokenCursor, role: String) throws(Diagnostic) -> IPv6AddressMatch {
        let expected = "`any`, `host ADDRESS` or `PREFIX/LEN`"
        let token = try cursor.take("\(role) address", expected: expected)
        switch token.keyword {
        case "any": return .any
        case "host":
            let host = try cursor.take("\(role) host address", expected: "an IPv6 address, like 2001:DB8::25")
            guard let address = IPv6Address(parsing: host.text) else {
                throw cursor.error(.badAddress, at: host, "bad \(role) host address", expected: "an IPv6 address, like 2001:DB8::25")
            }
            return .host(address)
        case "object-group", "auth":
            throw cursor.error(.unsupported, at: token, "`\(token.text)` in an IPv6 access-list entry is not supported",
                               expected: expected, hint: "write the addresses as prefixes, one entry each")
        default: break
        }
        let parts = token.text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(parsing: parts[0]) else {
            throw cursor.error(.badAddress, at: token, "bad \(role) address", expected: expected,
                               hint: IPv4Address(parsing: parts[0]) != nil ? "this is an IPv6 list: IPv4 addresses go in `ip access-list`"
                                   : "an IPv6 prefix is written 2001:DB8:10:10::/64")
        }
        let length = try ConfigParser.prefixLength(parts[1], of: token, cursor: cursor)
        let prefix = IPv6Prefix(address, length: length)
        if length == 0 { return .any }
        if prefix.address != address {
            warnings.append(Diagnostic(
                .warning, .wildcardHostBits, at: cursor.location(of: token),
                "\(role) \(address.iosText)/\(length) has bits past the prefix length; read as \(prefix.address.iosText)/\(length)",
                hint: "IOS stores \(prefix.address.iosText)/\(length); write that"))
        }
        return length == 128 ? .host(address) : .prefix(prefix)
    }

    /// What may follow an IPv6 entry's addresses: the options of both families (`entryOptions`),
    /// and `routing`, `routing-type N`, `hbh`, `sequence N`. Options that would change what the
    /// entry matches and that the rules cannot follow (`time-range`, `flow-label`,
    /// `dest-option-type`, `mobility`, `undetermined-transport`) are refused rather than ignored.
    private func ipv6Options(
        _ cursor: inout TokenCursor, match: inout IPv6PacketMatch, reflexive: inout ReflexiveList?, permit: Bool,
        sequence: inout Int?
    ) throws(Diagnostic) -> Bool {
        try entryOptions(
            &cursor, match: &match, reflexive: &reflexive, permit: permit, family: .ipv6,
            words: ["log", "log-input", "dscp", "fragments", "routing", "routing-type", "hbh", "sequence"],
            unsupported: ["time-range", "flow-label", "dest-option-type", "mobility", "mobility-type", "undetermined-transport", "option"]
        ) { (word, cursor, match) throws(Diagnostic) -> Bool in
            switch word {
            case "routing": match.routing = true
            case "routing-type":
                match.routing = true
                match.routingType = UInt8(try cursor.number(0...255, what: "routing header type"))
            case "hbh": match.hopByHop = true
            case "sequence": sequence = Int(try cursor.number(1...4_294_967, what: "sequence number"))
            default: return false
            }
            return true
        }
    }
}
