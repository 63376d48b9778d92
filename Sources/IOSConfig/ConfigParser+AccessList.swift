extension ConfigParser {
    static let accessListRanges = "1-99 or 1300-1999 (standard), 100-199 or 2000-2699 (extended)"
    static let portOperators = ["eq", "neq", "gt", "lt", "range"]

    /// `access-list N permit|deny|remark …`, standard or extended by its number. Numbers of other
    /// kinds of list (MAC, protocol type, …) configure nothing smtp-inspect mirrors.
    mutating func accessListCommand(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let numberToken = try cursor.take("access-list number", expected: ConfigParser.accessListRanges)
        guard AccessList.isNumber(numberToken.text), let number = Int(numberToken.text) else {
            throw cursor.error(.accessListNumberOutOfRange, at: numberToken, "not an IP access-list number",
                               expected: ConfigParser.accessListRanges,
                               hint: "named lists are written `ip access-list extended NAME`, their entries below it")
        }
        guard let kind = AccessList.kind(ofNumber: number) else {
            if (200...1299).contains(number) || (2700...2799).contains(number) {
                return .ignored("not an IP access list (protocol type, MAC, IPX, …): smtp-inspect mirrors IPv4 only")
            }
            throw cursor.error(.accessListNumberOutOfRange, at: numberToken, "not an IP access-list number",
                               expected: ConfigParser.accessListRanges)
        }
        let actionToken = try cursor.keyword(["permit", "deny", "remark", "dynamic"], what: "access-list action")
        if actionToken.keyword == "remark" { return .ignored("access-list remark: a comment") }
        if actionToken.keyword == "dynamic" {
            throw cursor.error(.unsupported, at: actionToken, "dynamic (lock-and-key) access-list entries are not supported",
                               expected: "`permit` or `deny`", hint: "remove the entry; smtp-inspect has no user authentication")
        }
        let index = accessListIndex(name: numberToken.text, kind: kind, at: cursor)
        let entry = try entry(&cursor, action: actionToken, kind: kind, sequence: model.accessLists[index].nextSequence,
                              named: false)
        model.accessLists[index].insert(entry)
        return disposition(of: entry)
    }

    /// `ip access-list standard|extended NAME`: the entries follow in its sub-mode.
    mutating func namedAccessListHead(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        guard let kindToken = cursor.peek(), ["standard", "extended"].contains(kindToken.keyword) else {
            mode = .global
            return .ignored("access-list setting (logging, resequencing): nothing smtp-inspect mirrors")
        }
        _ = cursor.next()
        let kind: AccessList.Kind = kindToken.keyword == "standard" ? .standard : .extended
        let nameToken = try cursor.take("access-list name", expected: "a name (or a number of the kind's range)")
        try cursor.end(after: "the access-list name")
        if let number = Int(nameToken.text), AccessList.isNumber(nameToken.text), AccessList.kind(ofNumber: number) != kind {
            throw cursor.error(.accessListNumberOutOfRange, at: nameToken, "not a \(kind.rawValue) access-list number",
                               expected: kind == .standard ? "1-99 or 1300-1999" : "100-199 or 2000-2699")
        }
        if let existing = model.accessList(named: nameToken.text), existing.kind != kind {
            throw cursor.error(.wrongAccessListKind, at: kindToken,
                               "access list \(nameToken.text) is \(existing.kind.rawValue) (line \(existing.location.line))",
                               expected: "`\(existing.kind.rawValue)`", hint: "IOS keeps a name for one kind of list; rename one")
        }
        mode = .accessList(accessListIndex(name: nameToken.text, kind: kind, at: cursor))
        return .applied
    }

    /// An entry under `ip access-list …`: `[SEQ] permit|deny …`, `remark …`, `evaluate NAME`,
    /// `no SEQ`. Nil when the line is none of them (IOS then reads it as a global command).
    mutating func namedEntry(_ line: SourceLine, list index: Int) throws(Diagnostic) -> Disposition? {
        var cursor = TokenCursor(line, file: file)
        var words = line.tokens.map(\.keyword)
        if words.first == "no", words.count == 2, AccessList.isNumber(line.tokens[1].text), let sequence = Int(line.tokens[1].text) {
            let before = model.accessLists[index].entries.count
            model.accessLists[index].entries.removeAll { $0.sequence == sequence }
            return before == model.accessLists[index].entries.count
                ? .ignored("deletes entry \(sequence), which does not exist") : .appliedAs("deletes entry \(sequence)")
        }
        var sequence = model.accessLists[index].nextSequence
        if let first = line.tokens.first, AccessList.isNumber(first.text) {
            let value = try TokenCursor.number(first, 1...2_147_483_647, cursor: cursor, what: "sequence number")
            sequence = Int(value)
            _ = cursor.next()
            words.removeFirst()
        }
        guard let action = cursor.peek(), ["permit", "deny", "remark", "evaluate"].contains(words.first ?? "") else {
            if sequence != model.accessLists[index].nextSequence || AccessList.isNumber(line.tokens.first?.text ?? "") {
                throw cursor.error(.malformed, at: cursor.peek(), "sequence number without an entry",
                                   expected: "`permit`, `deny` or `remark`")
            }
            return nil
        }
        _ = cursor.next()
        if action.keyword == "remark" { return .ignored("access-list remark: a comment") }
        let list = model.accessLists[index]
        if list.entries.contains(where: { $0.sequence == sequence }) {
            throw cursor.error(.duplicateOption, at: line.tokens.first, "entry \(sequence) exists already in \(list.name)",
                               expected: "a sequence number not in use", hint: "IOS refuses a duplicate sequence number")
        }
        if action.keyword == "evaluate" {
            let name = try cursor.take("reflexive list name", expected: "the name a `reflect` entry gives")
            try cursor.end(after: "the reflexive list name")
            guard list.kind == .extended else {
                throw cursor.error(.malformed, at: action, "`evaluate` in a standard list", expected: "an extended list")
            }
            let entry = AccessListEntry(action: .evaluate, match: PacketMatch(source: .any), log: false, sequence: sequence,
                                        reflexive: ReflexiveList(name: name.text), location: cursor.lineLocation)
            model.accessLists[index].insert(entry)
            return disposition(of: entry)
        }
        let entry = try entry(&cursor, action: action, kind: list.kind, sequence: sequence, named: true)
        model.accessLists[index].insert(entry)
        return disposition(of: entry)
    }

    private mutating func accessListIndex(name: String, kind: AccessList.Kind, at cursor: TokenCursor) -> Int {
        ConfigParser.index(named: name, in: &model.accessLists, \.name) {
            AccessList(name: name, kind: kind, location: cursor.lineLocation)
        }
    }

    private mutating func disposition(of entry: AccessListEntry) -> Disposition {
        guard entry.reflexive != nil else { return .applied }
        warnings.append(Diagnostic(
            .warning, .approximated, at: entry.location,
            "reflexive list approximated: conntrack tracks the session, with conntrack's timeouts",
            hint: "every reflexive list shares one connection mark; `evaluate` lets in the replies of any of them"))
        return .approximated("reflexive list: conntrack tracks the session; all reflexive lists share one mark")
    }

    /// The rest of a `permit|deny` entry.
    private mutating func entry(
        _ cursor: inout TokenCursor, action: Token, kind: AccessList.Kind, sequence: Int, named: Bool
    ) throws(Diagnostic) -> AccessListEntry {
        let permit = action.keyword == "permit"
        let match: PacketMatch
        if kind == .standard {
            if let next = cursor.peek(), ConfigParser.protocolNumber(next.keyword) != nil || next.keyword == "ip" {
                throw cursor.error(
                    .accessListNumberOutOfRange, at: cursor.line.tokens[named ? 0 : 1],
                    "access list is standard (source only) but the entry names a protocol",
                    expected: named ? "an `ip access-list extended` list" : "100-199 or 2000-2699 for an extended entry",
                    hint: "make the list extended, or drop the protocol and destination")
            }
            match = PacketMatch(source: try addressMatch(&cursor, role: "source", standard: true))
        } else {
            match = try extendedMatch(&cursor)
        }
        var entryMatch = match
        var reflexive: ReflexiveList?
        let log = try trailingOptions(&cursor, match: &entryMatch, reflexive: &reflexive, permit: permit)
        return AccessListEntry(action: permit ? .permit : .deny, match: entryMatch, log: log, sequence: sequence,
                               reflexive: reflexive, location: cursor.lineLocation)
    }

    /// The number of an IOS protocol name (`ip access-list`'s or `ipv6 access-list`'s), or of digits.
    static func protocolNumber(_ keyword: String, family: AddressFamily = .ipv4) -> UInt8? {
        let names = family == .ipv4 ? IOSNames.ipProtocols : IOSNames.ipv6Protocols
        if let named = names.first(where: { $0.name == keyword }) { return named.number }
        return keyword.allSatisfy(\.isASCIIDigit) ? UInt8(keyword) : nil
    }

    private mutating func extendedMatch(_ cursor: inout TokenCursor) throws(Diagnostic) -> PacketMatch {
        let expected = "`ip`, `tcp`, `udp`, `icmp`, another IOS protocol name, a number 0-255 or `object-group NAME`"
        let token = try cursor.take("protocol", expected: expected)
        var protocolNumber: UInt8?
        var service: String?
        if token.keyword == "object-group" {
            service = try cursor.take("service object group", expected: "the name of an `object-group service`").text
        } else if token.keyword != "ip" {
            guard let number = ConfigParser.protocolNumber(token.keyword) else {
                let isAddress = token.keyword == "any" || token.keyword == "host" || IPv4Address(parsing: token.text) != nil
                throw cursor.error(
                    .badProtocol, at: token, "unknown protocol in an extended access list", expected: expected,
                    hint: isAddress ? "a standard (source-only) entry needs a number 1-99 or 1300-1999, or `ip access-list standard`" : "")
            }
            protocolNumber = number
        }
        var match = PacketMatch(protocolNumber: protocolNumber, source: .any)
        match.service = service
        match.source = try addressMatch(&cursor, role: "source", standard: false)
        match.sourcePort = try portMatch(&cursor, protocolNumber: protocolNumber)
        match.destination = try addressMatch(&cursor, role: "destination", standard: false)
        match.destinationPort = try portMatch(&cursor, protocolNumber: protocolNumber)
        if protocolNumber == PacketMatch.icmpProtocol { match.icmp = try icmpMatch(&cursor) }
        return match
    }

    /// `any`, `host A`, `A W`, `object-group NAME`; a standard list also takes a bare `A` (a host).
    private mutating func addressMatch(
        _ cursor: inout TokenCursor, role: String, standard: Bool
    ) throws(Diagnostic) -> AddressMatch {
        let expected = "`any`, `host ADDRESS`, `ADDRESS WILDCARD`" + (standard ? "" : " or `object-group NAME`")
        let token = try cursor.take("\(role) address", expected: expected)
        switch token.keyword {
        case "any": return .any
        case "host":
            return .host(try cursor.address(what: "\(role) host address").value)
        case "object-group" where !standard:
            return .objectGroup(try cursor.take("network object group", expected: "the name of an `object-group network`").text)
        default: break
        }
        guard let address = IPv4Address(parsing: token.text) else {
            throw cursor.error(.badAddress, at: token, "bad \(role) address", expected: expected)
        }
        if standard && (cursor.peek().map { !$0.text.contains(".") } ?? true) { return .host(address) }
        let wildcardToken = cursor.peek()
        let wildcard = try cursor.address(what: "\(role) wildcard", kind: .badWildcard,
                                          hint: "IOS wildcards are inverted netmasks: 0.0.0.255 for a /24")
        return normalized(address, wildcard.value, at: cursor.location(of: wildcardToken), role: role)
    }

    /// IOS clears address bits under the wildcard and prints `host`/`any` for the extremes.
    private mutating func normalized(
        _ address: IPv4Address, _ wildcard: IPv4Address, at location: SourceLocation, role: String
    ) -> AddressMatch {
        if wildcard == .broadcast { return .any }
        if wildcard == .any { return .host(address) }
        let base = IPv4Address(address.value & ~wildcard.value)
        if base != address {
            warnings.append(Diagnostic(
                .warning, .wildcardHostBits, at: location,
                "\(role) \(address) has bits the wildcard \(wildcard) ignores; read as \(base)",
                hint: "IOS stores \(base) \(wildcard); write that"))
        }
        if wildcard.inverted.netmaskPrefixLength == nil {
            warnings.append(Diagnostic(
                .warning, .discontiguousWildcard, at: location,
                "\(role) wildcard \(wildcard) is not contiguous (a netmask written as a wildcard?)",
                hint: "IOS matches it bit by bit, and so does smtp-inspect; a /24 is 0.0.0.255"))
        }
        return .wildcard(base, wildcard)
    }

    mutating func portMatch(_ cursor: inout TokenCursor, protocolNumber: UInt8?) throws(Diagnostic) -> PortMatch? {
        guard let op = cursor.peek(), ConfigParser.portOperators.contains(op.keyword) else { return nil }
        guard let proto = protocolNumber, proto == PacketMatch.tcp || proto == PacketMatch.udp else {
            throw cursor.error(.badPort, at: op, "ports apply to tcp and udp only",
                               expected: "a destination address, or `tcp`/`udp` as the protocol")
        }
        _ = cursor.next()
        let first = try port(&cursor, protocolNumber: proto)
        switch op.keyword {
        case "eq", "neq":
            var ports = [first.value]
            while let next = cursor.peek(), let more = portValue(next, protocolNumber: proto) {
                _ = cursor.next()
                ports.append(more)
            }
            if ports.count > 1 { return op.keyword == "eq" ? .eqAny(ports) : .neqAll(ports) }
            return op.keyword == "eq" ? .eq(first.value) : .neq(first.value)
        case "gt", "lt":
            let impossible = op.keyword == "gt" ? first.value == 65535 : first.value == 0
            if impossible {
                throw cursor.error(.badPort, at: first.token, "no port is \(op.keyword == "gt" ? "above" : "below") \(first.value)",
                                   expected: op.keyword == "gt" ? "a port 0-65534" : "a port 1-65535")
            }
            return op.keyword == "gt" ? .gt(first.value) : .lt(first.value)
        default:
            let last = try port(&cursor, protocolNumber: proto)
            guard first.value <= last.value else {
                throw cursor.error(.badPort, at: last.token, "range ends below its start",
                                   expected: "a port \(first.value)-65535")
            }
            return .range(first.value, last.value)
        }
    }

    /// A further port of `eq P1 P2 …`: a number or an IOS port name (never an address keyword).
    private func portValue(_ token: Token, protocolNumber: UInt8) -> UInt16? {
        if token.text.allSatisfy(\.isASCIIDigit) { return UInt16(token.text) }
        let table = protocolNumber == PacketMatch.tcp ? IOSNames.tcpPorts : IOSNames.udpPorts
        return table.first { $0.name == token.keyword }?.port
    }

    mutating func port(
        _ cursor: inout TokenCursor, protocolNumber: UInt8
    ) throws(Diagnostic) -> (value: UInt16, token: Token) {
        let tcp = protocolNumber == PacketMatch.tcp
        let table = tcp ? IOSNames.tcpPorts : IOSNames.udpPorts
        let expected = "a port number 0-65535 or an IOS \(tcp ? "tcp" : "udp") port name such as "
            + (tcp ? "smtp, www, ftp, telnet, domain, pop3" : "domain, ntp, snmp, syslog, tftp")
        let token = try cursor.take("port", expected: expected)
        if token.text.allSatisfy(\.isASCIIDigit) {
            guard let value = UInt16(token.text) else {
                throw cursor.error(.badPort, at: token, "port out of range", expected: expected)
            }
            return (value, token)
        }
        if let named = table.first(where: { $0.name == token.keyword }) { return (named.port, token) }
        if tcp, let foreign = IOSNames.foreignTCPPorts.first(where: { $0.name == token.keyword }) {
            let ios = IOSNames.portName(foreign.port, protocolNumber: protocolNumber) ?? "\(foreign.port)"
            warnings.append(Diagnostic(
                .warning, .nonIOSPortName, at: cursor.location(of: token),
                "`\(token.text)` is not an IOS port name; read as \(foreign.port)",
                hint: "IOS writes `\(ios)`"))
            return (foreign.port, token)
        }
        throw cursor.error(.badPort, at: token, "unknown \(tcp ? "tcp" : "udp") port name", expected: expected)
    }

    /// An ICMP (ICMPv6 for `.ipv6`) message: IOS's name, or `TYPE [CODE]`; nil when none follows.
    func icmpMatch(_ cursor: inout TokenCursor, family: AddressFamily = .ipv4) throws(Diagnostic) -> ICMPMatch? {
        guard let token = cursor.peek() else { return nil }
        let names = family == .ipv4 ? IOSNames.icmpMessages : IOSNames.icmpv6Messages
        let what = family == .ipv4 ? "ICMP" : "ICMPv6"
        if let named = names.first(where: { $0.name == token.keyword }) {
            _ = cursor.next()
            return ICMPMatch(type: named.type, code: named.code)
        }
        guard token.text.allSatisfy(\.isASCIIDigit) else { return nil }
        _ = cursor.next()
        let type = UInt8(try TokenCursor.number(token, 0...255, cursor: cursor, what: "\(what) type"))
        var code: UInt8?
        if let next = cursor.peek(), next.text.allSatisfy(\.isASCIIDigit) {
            _ = cursor.next()
            code = UInt8(try TokenCursor.number(next, 0...255, cursor: cursor, what: "\(what) code"))
        }
        return ICMPMatch(type: type, code: code)
    }
}
