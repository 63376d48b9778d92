extension ConfigParser {
    static let precedenceNames: [String: UInt8] = [
        "routine": 0, "priority": 1, "immediate": 2, "flash": 3, "flash-override": 4, "critical": 5,
        "internet": 6, "network": 7,
    ]
    static let tosNames: [String: UInt8] = [
        "normal": 0, "min-monetary-cost": 1, "max-reliability": 2, "max-throughput": 4, "min-delay": 8,
    ]
    static let dscpNames: [String: UInt8] = {
        var names: [String: UInt8] = ["default": 0, "ef": 46]
        for cls in 1...7 { names["cs\(cls)"] = UInt8(cls * 8) }
        for cls in 1...4 { for drop in 1...3 { names["af\(cls)\(drop)"] = UInt8(cls * 8 + drop * 2) } }
        return names
    }()

    /// What may follow an IPv4 entry's addresses: the options of both families (`entryOptions`),
    /// and `precedence`, `tos`, `ttl`. Others IOS has (`time-range`, `option`) are refused rather
    /// than ignored: ignoring them would change what the entry matches.
    func trailingOptions(
        _ cursor: inout TokenCursor, match: inout PacketMatch, reflexive: inout ReflexiveList?, permit: Bool
    ) throws(Diagnostic) -> Bool {
        let log = try entryOptions(
            &cursor, match: &match, reflexive: &reflexive, permit: permit, family: .ipv4,
            words: ["log", "log-input", "fragments", "dscp", "precedence", "tos", "ttl"],
            unsupported: ["time-range", "option", "match-all", "match-any", "evaluate"]
        ) { (word, cursor, match) throws(Diagnostic) -> Bool in
            switch word {
            case "precedence":
                match.precedence = try ConfigParser.namedNumber(&cursor, ConfigParser.precedenceNames, 0...7, what: "precedence")
            case "tos": match.tos = try ConfigParser.namedNumber(&cursor, ConfigParser.tosNames, 0...15, what: "type of service")
            case "ttl": match.ttl = try ttlMatch(&cursor)
            default: return false
            }
            return true
        }
        if match.dscp != nil && (match.precedence != nil || match.tos != nil) {
            throw cursor.error(.malformed, at: nil, "`dscp` with `precedence` or `tos`",
                               expected: "either `dscp`, or `precedence`/`tos`", hint: "IOS refuses both in one entry")
        }
        return log
    }

    /// The options of an entry of either family, after its addresses: `log`/`log-input`,
    /// `fragments`, `dscp`, `established` and the TCP flags on tcp entries, `reflect NAME
    /// [timeout S]` on permits; `familyOption` reads the family's own (given each word once, it
    /// says whether the word was one). `words` lists the family's options in the order an error
    /// names them; `unsupported` those IOS has that smtp-inspect refuses. Returns whether it logs.
    func entryOptions<Match: EntryMatch>(
        _ cursor: inout TokenCursor, match: inout Match, reflexive: inout ReflexiveList?, permit: Bool, family: AddressFamily,
        words: [String], unsupported: [String],
        familyOption: (_ word: String, _ cursor: inout TokenCursor, _ match: inout Match) throws(Diagnostic) -> Bool
    ) throws(Diagnostic) -> Bool {
        var log = false
        let isTCP = match.protocolNumber == PacketMatch.tcp
        var allowed = words
        if isTCP { allowed = ["established", "ack", "fin", "psh", "rst", "syn", "urg"] + allowed }
        if permit { allowed.append("reflect") }
        var seen: Set<String> = []
        while let option = cursor.next() {
            let word = option.keyword
            let repeated = !seen.insert(word == "log-input" ? "log" : word).inserted
            switch word {
            case "log" where !repeated, "log-input" where !repeated: log = true
            case "established" where isTCP && !repeated: match.established = true
            case "fragments" where !repeated: match.fragments = true
            case "dscp" where !repeated:
                match.dscp = try ConfigParser.namedNumber(&cursor, ConfigParser.dscpNames, 0...63, what: "DSCP value")
            case "reflect" where permit && !repeated:
                let name = try cursor.take("reflexive list name", expected: "a name for the reflexive list")
                var timeout: UInt32?
                if cursor.peek()?.keyword == "timeout" {
                    _ = cursor.next()
                    timeout = try cursor.number(1...2_147_483, what: "reflexive timeout seconds")
                }
                reflexive = ReflexiveList(name: name.text, timeout: timeout)
            default:
                if !repeated, try familyOption(word, &cursor, &match) { continue }
                if isTCP, let flag = TCPFlags.names.first(where: { $0.name == word }), !match.tcpFlags.contains(flag.flag) {
                    match.tcpFlags.insert(flag.flag)
                    continue
                }
                throw cursor.error(
                    unsupported.contains(word) && !repeated ? .unsupported : repeated ? .duplicateOption : .unknownOption,
                    at: option, repeated ? "access-list option given twice" : "unexpected \(family == .ipv6 ? "IPv6 " : "")access-list option",
                    expected: TokenCursor.oneOf(allowed) + " or end of line",
                    hint: word == "established" ? "`established` applies to tcp entries only"
                        : word == "time-range" ? "smtp-inspect cannot follow IOS's clock; remove the time-range or the entry"
                        : family == .ipv6 && unsupported.contains(word) ? "ip6tables cannot match `\(option.text)`; remove it (or the entry)"
                        : "")
            }
        }
        return log
    }

    static func namedNumber(
        _ cursor: inout TokenCursor, _ names: [String: UInt8], _ range: ClosedRange<UInt32>, what: String
    ) throws(Diagnostic) -> UInt8 {
        let token = try cursor.take(what, expected: "\(what): a number \(range.lowerBound)-\(range.upperBound) or IOS's name")
        if let value = names[token.keyword] { return value }
        return UInt8(try TokenCursor.number(token, range, cursor: cursor, what: what))
    }

    private func ttlMatch(_ cursor: inout TokenCursor) throws(Diagnostic) -> TTLMatch {
        let op = try cursor.keyword(["eq", "neq", "gt", "lt", "range"], what: "ttl operator")
        let first = UInt8(try cursor.number(0...255, what: "TTL"))
        switch op.keyword {
        case "eq": return .eq(first)
        case "neq": return .neq(first)
        case "gt": return .gt(first)
        case "lt": return .lt(first)
        default:
            let last = UInt8(try cursor.number(UInt32(first)...255, what: "TTL"))
            return .range(first, last)
        }
    }
}
