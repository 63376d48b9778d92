extension ConfigParser {
    /// The words that may follow global `ip inspect`; anything else on an interface is a rule name.
    static let inspectGlobalWords = [
        "name", "audit-trail", "alert-off", "max-incomplete", "one-minute", "tcp", "udp", "dns-timeout",
    ]

    /// Protocols IOS can inspect that smtp-inspect cannot: named so the error can say so.
    static let iosOnlyProtocols: Set<String> = [
        "cuseeme", "dns", "fragment", "h323", "imap", "netshow", "pop3", "rcmd", "realaudio", "rpc",
        "rtsp", "sip", "skinny", "sqlnet", "streamworks", "tftp", "vdolive", "sccp", "ssh", "https",
        "telnet", "ntp", "snmp", "ldap", "pptp",
    ]

    static let seconds: ClosedRange<UInt32> = 1...2_147_483

    /// Global `ip inspect …` commands.
    mutating func inspectCommand(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        if words.count == 4, ["in", "out"].contains(words[3]), !ConfigParser.inspectGlobalWords.contains(words[2]) {
            throw cursor.error(
                .malformed, at: cursor.peek(2), "interface command outside an interface block",
                expected: "`ip inspect name …` or a global `ip inspect` setting",
                hint: "put `ip inspect \(cursor.peek(2)?.text ?? "") \(words[3])` under its `interface` line")
        }
        _ = cursor.next()
        _ = cursor.next()
        let option = try cursor.keyword(
            ConfigParser.inspectGlobalWords, what: "ip inspect option", kind: .unknownOption,
            hint: "smtp-inspect reads the CBAC settings of IOS 12.3; remove what it does not know")
        let at = cursor.lineLocation
        switch option.keyword {
        case "name": return try inspectName(&cursor)
        case "audit-trail": set(\.auditTrail, true, at, "ip inspect audit-trail")
        case "alert-off": set(\.alert, false, at, "ip inspect alert-off")
        case "max-incomplete", "one-minute":
            let which = try cursor.keyword(["high", "low"], what: "threshold")
            let value = try cursor.number(1...UInt32.max, what: "threshold")
            switch (option.keyword, which.keyword) {
            case ("max-incomplete", "high"): set(\.maxIncompleteHigh, value, at, "ip inspect max-incomplete high")
            case ("max-incomplete", _): set(\.maxIncompleteLow, value, at, "ip inspect max-incomplete low")
            case (_, "high"): set(\.oneMinuteHigh, value, at, "ip inspect one-minute high")
            default: set(\.oneMinuteLow, value, at, "ip inspect one-minute low")
            }
        case "tcp": try inspectTCP(&cursor, at: at)
        case "udp":
            _ = try cursor.keyword(["idle-time"], what: "udp setting", kind: .unknownOption)
            set(\.udpIdleTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "ip inspect udp idle-time")
        default:
            set(\.dnsTimeout, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "ip inspect dns-timeout")
        }
        try cursor.end(after: "the setting")
        return .applied
    }

    private mutating func inspectTCP(_ cursor: inout TokenCursor, at: SourceLocation) throws(Diagnostic) {
        let which = try cursor.keyword(
            ["synwait-time", "finwait-time", "idle-time", "max-incomplete"], what: "tcp setting",
            kind: .unknownOption)
        switch which.keyword {
        case "synwait-time":
            set(\.tcpSynwaitTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "ip inspect tcp synwait-time")
        case "finwait-time":
            set(\.tcpFinwaitTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "ip inspect tcp finwait-time")
        case "idle-time":
            set(\.tcpIdleTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "ip inspect tcp idle-time")
        default:
            _ = try cursor.keyword(["host"], what: "max-incomplete scope")
            let limit = try cursor.number(1...250, what: "half-open sessions per host")
            var blockTime: UInt32 = 0
            if cursor.peek() != nil {
                _ = try cursor.keyword(["block-time"], what: "option", kind: .unknownOption)
                blockTime = try cursor.number(0...35_791, what: "block-time minutes")
            }
            set(\.tcpMaxIncompletePerHost, limit, at, "ip inspect tcp max-incomplete host")
            set(\.tcpBlockTime, blockTime, at, "ip inspect tcp max-incomplete host … block-time")
        }
    }

    private mutating func set<Value>(
        _ keyPath: WritableKeyPath<InspectGlobals, Configured<Value>>, _ value: Value,
        _ location: SourceLocation, _ what: String
    ) {
        if let previous = model.inspect[keyPath: keyPath].location {
            replaced(what, previous: previous, at: location)
        }
        model.inspect[keyPath: keyPath] = Configured(value: value, location: location)
    }

    /// `ip inspect name NAME PROTOCOL [alert on|off] [audit-trail on|off] [max-data n] [timeout s]`
    private mutating func inspectName(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        let name = try cursor.take("inspection rule name", expected: "a rule name, like OUT-IN")
        let protocols = TokenCursor.oneOf(InspectedProtocol.allCases.map(\.rawValue))
        let token = try cursor.take("protocol", expected: protocols)
        guard let kind = InspectedProtocol(rawValue: token.keyword) else {
            if ConfigParser.iosOnlyProtocols.contains(token.keyword) {
                throw cursor.error(
                    .unsupported, at: token, "IOS protocol `\(token.text)` is not supported by smtp-inspect",
                    expected: protocols, hint: "remove the line, or inspect it as plain `tcp` or `udp`")
            }
            throw cursor.error(.unknownProtocol, at: token, "unknown protocol in `ip inspect name`",
                               expected: protocols)
        }
        var inspection = ProtocolInspection(kind: kind, location: cursor.lineLocation)
        try inspectOptions(&cursor, into: &inspection)
        try addInspection(inspection, rule: name, protocolToken: token, cursor: cursor)
        return .applied
    }

    private func inspectOptions(_ cursor: inout TokenCursor, into inspection: inout ProtocolInspection) throws(Diagnostic) {
        var options = ["alert", "audit-trail", "timeout"]
        if inspection.kind.isSMTP { options.insert("max-data", at: 2) }
        var seen: Set<String> = []
        while let option = cursor.next() {
            guard options.contains(option.keyword) else {
                let foreign = ["java-list", "router-traffic", "urlfilter", "max-data"].contains(option.keyword)
                throw cursor.error(
                    foreign ? .unsupported : .unknownOption, at: option,
                    "unknown option for `\(inspection.kind.rawValue)`", expected: TokenCursor.oneOf(options),
                    hint: option.keyword == "max-data" ? "max-data applies to smtp and esmtp only" : "")
            }
            guard seen.insert(option.keyword).inserted else {
                throw cursor.error(.duplicateOption, at: option, "`\(option.text)` given twice",
                                   expected: TokenCursor.oneOf(options.filter { !seen.contains($0) }))
            }
            switch option.keyword {
            case "alert": inspection.alert = try ConfigParser.onOff(&cursor, what: "alert")
            case "audit-trail": inspection.auditTrail = try ConfigParser.onOff(&cursor, what: "audit-trail")
            case "max-data": inspection.maxData = try cursor.number(1...UInt32.max, what: "max-data bytes")
            default: inspection.timeout = try cursor.number(ConfigParser.seconds, what: "timeout seconds")
            }
        }
    }

    private static func onOff(_ cursor: inout TokenCursor, what: String) throws(Diagnostic) -> Bool {
        try cursor.keyword(["on", "off"], what: "\(what) setting").keyword == "on"
    }

    private mutating func addInspection(
        _ inspection: ProtocolInspection, rule name: Token, protocolToken: Token, cursor: TokenCursor
    ) throws(Diagnostic) {
        guard let index = model.inspectionRules.firstIndex(where: { $0.name == name.text }) else {
            model.inspectionRules.append(InspectionRule(
                name: name.text, location: cursor.location(of: name), protocols: [inspection]))
            return
        }
        var rule = model.inspectionRules[index]
        if inspection.kind.isSMTP, let other = rule.smtp, other.kind != inspection.kind {
            throw cursor.error(
                .smtpWithESMTP, at: protocolToken,
                "`smtp` and `esmtp` in one inspection rule (IOS refuses it)",
                expected: "only one of `smtp` and `esmtp` in rule \(name.text); line \(other.location.line) has `\(other.kind.rawValue)`",
                hint: "keep one: esmtp allows all smtp commands plus AUTH, EHLO and ETRN")
        }
        if let same = rule.protocols.firstIndex(where: { $0.kind == inspection.kind }) {
            replaced("ip inspect name \(name.text) \(inspection.kind.rawValue)",
                     previous: rule.protocols[same].location, at: inspection.location)
            rule.protocols[same] = inspection
        } else {
            rule.protocols.append(inspection)
        }
        model.inspectionRules[index] = rule
    }
}
