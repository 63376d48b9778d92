extension ConfigParser {
    static let accessListRanges = "1-99 or 1300-1999 (standard), 100-199 or 2000-2699 (extended)"
    static let portOperators = ["eq", "neq", "gt", "lt", "range"]

    /// `access-list N permit|deny …`, standard or extended by its number.
    mutating func accessListCommand(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let numberToken = try cursor.take("access-list number", expected: ConfigParser.accessListRanges)
        guard numberToken.text.allSatisfy(\.isASCIIDigit), let number = Int(numberToken.text),
              let kind = AccessList.kind(ofNumber: number) else {
            throw cursor.error(.accessListNumberOutOfRange, at: numberToken, "not an IP access-list number",
                               expected: ConfigParser.accessListRanges)
        }
        let actionToken = try cursor.keyword(["permit", "deny", "remark"], what: "access-list action")
        if actionToken.keyword == "remark" { return .ignored("access-list remark: a comment") }
        let action: AccessListEntry.Action = actionToken.keyword == "permit" ? .permit : .deny
        let match: PacketMatch
        if kind == .standard {
            if let next = cursor.peek(), ConfigParser.protocolNumber(next.keyword) != nil || next.keyword == "ip" {
                throw cursor.error(
                    .accessListNumberOutOfRange, at: numberToken,
                    "access list \(number) is standard (source only) but the entry names a protocol",
                    expected: "100-199 or 2000-2699 for an extended entry",
                    hint: "renumber the list, or drop the protocol and destination")
            }
            match = PacketMatch(source: try addressMatch(&cursor, role: "source", standard: true))
        } else {
            match = try extendedMatch(&cursor)
        }
        var entryMatch = match
        let log = try trailingOptions(&cursor, match: &entryMatch)
        let entry = AccessListEntry(action: action, match: entryMatch, log: log, location: cursor.lineLocation)
        if let index = model.accessLists.firstIndex(where: { $0.number == number }) {
            model.accessLists[index].entries.append(entry)
        } else {
            var list = AccessList(number: number, kind: kind, location: cursor.lineLocation)
            list.entries = [entry]
            model.accessLists.append(list)
        }
        return .applied
    }

    static func protocolNumber(_ keyword: String) -> UInt8? {
        if let named = IOSNames.ipProtocols.first(where: { $0.name == keyword }) { return named.number }
        return keyword.allSatisfy(\.isASCIIDigit) ? UInt8(keyword) : nil
    }

    private mutating func extendedMatch(_ cursor: inout TokenCursor) throws(Diagnostic) -> PacketMatch {
        let expected = "`ip`, `tcp`, `udp`, `icmp`, another IOS protocol name or a number 0-255"
        let token = try cursor.take("protocol", expected: expected)
        var protocolNumber: UInt8?
        if token.keyword != "ip" {
            guard let number = ConfigParser.protocolNumber(token.keyword) else {
                let isAddress = token.keyword == "any" || token.keyword == "host" || IPv4Address(parsing: token.text) != nil
                throw cursor.error(
                    .badProtocol, at: token, "unknown protocol in an extended access list", expected: expected,
                    hint: isAddress ? "a standard (source-only) entry needs a number 1-99 or 1300-1999" : "")
            }
            protocolNumber = number
        }
        var match = PacketMatch(protocolNumber: protocolNumber, source: .any)
        match.source = try addressMatch(&cursor, role: "source", standard: false)
        match.sourcePort = try portMatch(&cursor, protocolNumber: protocolNumber)
        match.destination = try addressMatch(&cursor, role: "destination", standard: false)
        match.destinationPort = try portMatch(&cursor, protocolNumber: protocolNumber)
        if protocolNumber == PacketMatch.icmpProtocol { match.icmp = try icmpMatch(&cursor) }
        return match
    }

    /// `any`, `host A`, `A W`; a standard list also takes a bare `A` (a host).
    private mutating func addressMatch(
        _ cursor: inout TokenCursor, role: String, standard: Bool
    ) throws(Diagnostic) -> AddressMatch {
        let expected = "`any`, `host ADDRESS` or `ADDRESS WILDCARD`"
        let token = try cursor.take("\(role) address", expected: expected)
        switch token.keyword {
        case "any": return .any
        case "host":
            return .host(try cursor.address(what: "\(role) host address").value)
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

    private mutating func portMatch(_ cursor: inout TokenCursor, protocolNumber: UInt8?) throws(Diagnostic) -> PortMatch? {
        guard let op = cursor.peek(), ConfigParser.portOperators.contains(op.keyword) else { return nil }
        guard let proto = protocolNumber, proto == PacketMatch.tcp || proto == PacketMatch.udp else {
            throw cursor.error(.badPort, at: op, "ports apply to tcp and udp only",
                               expected: "a destination address, or `tcp`/`udp` as the protocol")
        }
        _ = cursor.next()
        let first = try port(&cursor, protocolNumber: proto)
        switch op.keyword {
        case "eq": return .eq(first.value)
        case "neq": return .neq(first.value)
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

    private mutating func port(
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

    private func icmpMatch(_ cursor: inout TokenCursor) throws(Diagnostic) -> ICMPMatch? {
        guard let token = cursor.peek() else { return nil }
        if let named = IOSNames.icmpMessages.first(where: { $0.name == token.keyword }) {
            _ = cursor.next()
            return ICMPMatch(type: named.type, code: named.code)
        }
        guard token.text.allSatisfy(\.isASCIIDigit) else { return nil }
        _ = cursor.next()
        let type = UInt8(try TokenCursor.number(token, 0...255, cursor: cursor, what: "ICMP type"))
        var code: UInt8?
        if let next = cursor.peek(), next.text.allSatisfy(\.isASCIIDigit) {
            _ = cursor.next()
            code = UInt8(try TokenCursor.number(next, 0...255, cursor: cursor, what: "ICMP code"))
        }
        return ICMPMatch(type: type, code: code)
    }

    /// `established`, `log`, `log-input`; other IOS options are refused rather than ignored.
    private func trailingOptions(_ cursor: inout TokenCursor, match: inout PacketMatch) throws(Diagnostic) -> Bool {
        var log = false
        let isTCP = match.protocolNumber == PacketMatch.tcp
        var allowed = ["log", "log-input"]
        if isTCP { allowed.insert("established", at: 0) }
        while let option = cursor.next() {
            switch option.keyword {
            case "log" where !log, "log-input" where !log: log = true
            case "established" where isTCP && !match.established: match.established = true
            default:
                let known = ["precedence", "tos", "dscp", "fragments", "time-range", "option", "ttl",
                             "reflect", "evaluate"]
                throw cursor.error(
                    known.contains(option.keyword) ? .unsupported : .unknownOption, at: option,
                    "unexpected access-list option", expected: TokenCursor.oneOf(allowed) + " or end of line",
                    hint: option.keyword == "established" ? "`established` applies to tcp entries only" : "")
            }
        }
        return log
    }
}
