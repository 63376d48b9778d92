extension ConfigParser {
    /// The words that may follow global `ip inspect` and are applied; anything else on an
    /// interface is a rule name.
    static let inspectGlobalWords = [
        "name", "audit-trail", "alert-off", "max-incomplete", "one-minute", "tcp", "udp", "dns-timeout",
    ]

    /// Global `ip inspect` settings of IOS that configure nothing Linux has: accepted with a note.
    static let ignoredInspectGlobals: [String: String] = [
        "hashtable-size": "a table size of IOS's; conntrack sizes its own (nf_conntrack_buckets)",
        "hashtable": "a table size of IOS's; conntrack sizes its own (nf_conntrack_buckets)",
        "log": "IOS logging of dropped packets: the rules count their drops (iptables-save -c)",
        "waas": "WAAS interoperation: no Linux equivalent",
        "l2-transparent": "transparent (bridged) firewalling: the generated rules route",
        "redundancy": "stateful failover: conntrackd does that on Linux, not smtp-inspect",
        "session": "IOS session table tuning: conntrack has its own",
        "bypass": "IOS inspection bypass tuning: no Linux equivalent",
    ]

    /// The `ip inspect tcp …` settings of later IOS that configure nothing Linux has.
    static let ignoredInspectTCP: [String: String] = [
        "reassembly": "smtp-inspect reassembles TCP itself, with its own limits (README: Limits)",
        "window-scale-enforcement": "conntrack tracks window scaling itself",
        "block-non-session": "conntrack's INVALID state does it (the generated rules drop INVALID TCP/25)",
        "max-incomplete-per-host": "see `ip inspect tcp max-incomplete host`",
    ]

    static let seconds: ClosedRange<UInt32> = 1...2_147_483

    /// Global `ip inspect …` commands, and `ipv6 inspect …` (the same commands for IPv6, with
    /// settings and rule names of their own).
    mutating func inspectCommand(_ cursor: inout TokenCursor, words: [String], family: AddressFamily = .ipv4) throws(Diagnostic) -> Disposition {
        inspectFamily = family
        defer { inspectFamily = .ipv4 }
        let ip = family.keyword
        if words.count == 4, ["in", "out"].contains(words[3]), !ConfigParser.inspectGlobalWords.contains(words[2]) {
            throw cursor.error(
                .malformed, at: cursor.peek(2), "interface command outside an interface block",
                expected: "`\(ip) inspect name …` or a global `\(ip) inspect` setting",
                hint: "put `\(ip) inspect \(cursor.peek(2)?.text ?? "") \(words[3])` under its `interface` line")
        }
        if words.count > 2, let note = ConfigParser.ignoredInspectGlobals[words[2]] {
            warnings.append(Diagnostic(.warning, .noLinuxEquivalent, at: cursor.lineLocation,
                                       "`\(ip) inspect \(cursor.line.tokens[2].text)` is not mirrored", hint: note))
            return .ignored("accepted, not applied: \(note)")
        }
        if words.count > 3, words[2] == "tcp", let note = ConfigParser.ignoredInspectTCP[words[3]] {
            warnings.append(Diagnostic(.warning, .noLinuxEquivalent, at: cursor.lineLocation,
                                       "`\(ip) inspect tcp \(cursor.line.tokens[3].text)` is not mirrored", hint: note))
            return .ignored("accepted, not applied: \(note)")
        }
        _ = cursor.next()
        _ = cursor.next()
        let option = try cursor.keyword(
            ConfigParser.inspectGlobalWords, what: "\(ip) inspect option", kind: .unknownOption,
            hint: "smtp-inspect reads the CBAC settings of IOS 12.3 to 15.x; remove what it does not know")
        let at = cursor.lineLocation
        switch option.keyword {
        case "name": return try inspectName(&cursor)
        case "audit-trail": set(\.auditTrail, true, at, "\(ip) inspect audit-trail")
        case "alert-off": set(\.alert, false, at, "\(ip) inspect alert-off")
        case "max-incomplete", "one-minute":
            let which = try cursor.keyword(["high", "low"], what: "threshold")
            let value = try threshold(&cursor)
            switch (option.keyword, which.keyword) {
            case ("max-incomplete", "high"): set(\.maxIncompleteHigh, value, at, "\(ip) inspect max-incomplete high")
            case ("max-incomplete", _): set(\.maxIncompleteLow, value, at, "\(ip) inspect max-incomplete low")
            case (_, "high"): set(\.oneMinuteHigh, value, at, "\(ip) inspect one-minute high")
            default: set(\.oneMinuteLow, value, at, "\(ip) inspect one-minute low")
            }
        case "tcp": try inspectTCP(&cursor, at: at)
        case "udp":
            _ = try cursor.keyword(["idle-time"], what: "udp setting", kind: .unknownOption)
            set(\.udpIdleTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "\(ip) inspect udp idle-time")
        default:
            set(\.dnsTimeout, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "\(ip) inspect dns-timeout")
        }
        try vrfSuffix(&cursor)
        try cursor.end(after: "the setting")
        return .applied
    }

    /// A threshold: a number, or `unlimited` (IOS 12.4(11)T and later print 4294967295 so).
    private func threshold(_ cursor: inout TokenCursor) throws(Diagnostic) -> UInt32 {
        if cursor.peek()?.keyword == "unlimited" {
            _ = cursor.next()
            return InspectDefaults.unlimitedValue
        }
        return try cursor.number(1...UInt32.max, what: "threshold")
    }

    /// `… vrf NAME`: a per-VRF setting; smtp-inspect applies it to the global table, with a warning.
    private mutating func vrfSuffix(_ cursor: inout TokenCursor) throws(Diagnostic) {
        guard cursor.peek()?.keyword == "vrf" else { return }
        let word = cursor.next()
        _ = try cursor.take("VRF name", expected: "a VRF name")
        warnings.append(Diagnostic(.warning, .approximated, at: cursor.location(of: word),
                                   "a per-VRF setting applied to the global routing table",
                                   hint: "smtp-inspect mirrors one routing table"))
    }

    private mutating func inspectTCP(_ cursor: inout TokenCursor, at: SourceLocation) throws(Diagnostic) {
        let which = try cursor.keyword(
            ["synwait-time", "finwait-time", "idle-time", "max-incomplete"], what: "tcp setting",
            kind: .unknownOption)
        switch which.keyword {
        case "synwait-time":
            set(\.tcpSynwaitTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "\(inspectFamily.keyword) inspect tcp synwait-time")
        case "finwait-time":
            set(\.tcpFinwaitTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "\(inspectFamily.keyword) inspect tcp finwait-time")
        case "idle-time":
            set(\.tcpIdleTime, try cursor.number(ConfigParser.seconds, what: "seconds"), at, "\(inspectFamily.keyword) inspect tcp idle-time")
        default:
            _ = try cursor.keyword(["host"], what: "max-incomplete scope")
            // IOS 12.3 takes 1-250; 12.4(11)T and later up to 4294967295 (unlimited).
            let laterRelease = model.defaultsChoice.defaults == .unlimited
            let limit: UInt32
            if cursor.peek()?.keyword == "unlimited" && laterRelease {
                _ = cursor.next()
                limit = InspectDefaults.unlimitedValue
            } else {
                limit = try cursor.number(laterRelease ? 1...UInt32.max : 1...250, what: "half-open sessions per host")
            }
            var blockTime: UInt32 = 0
            if cursor.peek() != nil, cursor.peek()?.keyword != "vrf" {
                _ = try cursor.keyword(["block-time"], what: "option", kind: .unknownOption)
                blockTime = try cursor.number(0...35_791, what: "block-time minutes")
            }
            set(\.tcpMaxIncompletePerHost, limit, at, "\(inspectFamily.keyword) inspect tcp max-incomplete host")
            set(\.tcpBlockTime, blockTime, at, "\(inspectFamily.keyword) inspect tcp max-incomplete host … block-time")
        }
    }

    private mutating func set<Value>(
        _ keyPath: WritableKeyPath<InspectGlobals, Configured<Value>>, _ value: Value,
        _ location: SourceLocation, _ what: String
    ) {
        let globals: WritableKeyPath<IOSConfiguration, InspectGlobals> = inspectFamily == .ipv4 ? \.inspect : \.ipv6Inspect
        if let previous = model[keyPath: globals][keyPath: keyPath].location {
            replaced(what, previous: previous, at: location)
        }
        model[keyPath: globals][keyPath: keyPath] = Configured(value: value, location: location)
    }

    /// `ip inspect name NAME PROTOCOL [options]`: any protocol IOS accepts. What each becomes on
    /// Linux is the line's disposition.
    private mutating func inspectName(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        let name = try cursor.take("inspection rule name", expected: "a rule name, like OUT-IN")
        let token = try cursor.take("protocol", expected: "an IOS application name: smtp, esmtp, tcp, udp, icmp, ftp, http, dns, …")
        guard InspectCatalog.isKnown(token.keyword, portMaps: model.portMaps) else {
            throw cursor.error(
                .unknownProtocol, at: token, "unknown protocol in `\(inspectFamily.keyword) inspect name`",
                expected: "an IOS application name: smtp, esmtp, tcp, udp, icmp, ftp, http, dns, h323, sip, …",
                hint: "IOS knows the names `show ip port-map` lists; a name of your own needs `ip port-map user-NAME port …` first")
        }
        let kind = InspectedProtocol(rawValue: token.keyword)
        var inspection = ProtocolInspection(kind: kind, location: cursor.lineLocation)
        if kind == .fragment {
            try fragmentOptions(&cursor, into: &inspection)
        } else if token.keyword == "appfw" {
            let policy = try cursor.take("application firewall policy", expected: "the name of an `appfw policy-name`")
            inspection.extras = [policy.text]
            try cursor.end(after: "the policy name")
        } else {
            try inspectOptions(&cursor, into: &inspection)
        }
        try addInspection(inspection, rule: name, protocolToken: token, cursor: cursor)
        return describe(inspection)
    }

    private func inspectOptions(_ cursor: inout TokenCursor, into inspection: inout ProtocolInspection) throws(Diagnostic) {
        var options = ["alert", "audit-trail", "timeout", "router-traffic"]
        let name = inspection.kind.rawValue
        if inspection.kind.isSMTP { options.insert("max-data", at: 2) }
        if name == "http" { options += ["java-list", "urlfilter"] }
        if name == "rpc" { options += ["program-number", "wait-time"] }
        if name == "imap" || name == "pop3" { options += ["secure-login", "reset"] }
        var seen: Set<String> = []
        while let option = cursor.next() {
            guard options.contains(option.keyword) else {
                let foreign = ["java-list", "urlfilter", "max-data", "program-number", "secure-login"].contains(option.keyword)
                throw cursor.error(
                    foreign ? .unsupported : .unknownOption, at: option,
                    "unknown option for `\(name)`", expected: TokenCursor.oneOf(options),
                    hint: option.keyword == "max-data" ? "max-data applies to smtp and esmtp only"
                        : foreign ? "IOS takes this option for another protocol" : "")
            }
            guard seen.insert(option.keyword).inserted else {
                throw cursor.error(.duplicateOption, at: option, "`\(option.text)` given twice",
                                   expected: TokenCursor.oneOf(options.filter { !seen.contains($0) }))
            }
            switch option.keyword {
            case "alert": inspection.alert = try ConfigParser.onOff(&cursor, what: "alert")
            case "audit-trail": inspection.auditTrail = try ConfigParser.onOff(&cursor, what: "audit-trail")
            case "max-data": inspection.maxData = try cursor.number(1...UInt32.max, what: "max-data bytes")
            case "timeout": inspection.timeout = try cursor.number(ConfigParser.seconds, what: "timeout seconds")
            case "router-traffic": inspection.routerTraffic = true
            case "java-list":
                inspection.extras += ["java-list", try cursor.take("access list", expected: "a standard access list").text]
            case "program-number", "wait-time":
                inspection.extras += [option.keyword, "\(try cursor.number(0...UInt32.max, what: option.keyword))"]
            case "urlfilter":
                inspection.extras.append("urlfilter")
                if let policy = cursor.peek(), !options.contains(policy.keyword) {
                    _ = cursor.next()
                    inspection.extras.append(policy.text)
                }
            default: inspection.extras.append(option.keyword)
            }
        }
        if name == "rpc", !inspection.extras.contains("program-number") {
            throw cursor.error(.malformed, at: nil, "`rpc` without its program number",
                               expected: "`program-number N`", hint: "IOS inspects one RPC program per line")
        }
    }

    /// `fragment [maximum N] [timeout S]`
    private func fragmentOptions(_ cursor: inout TokenCursor, into inspection: inout ProtocolInspection) throws(Diagnostic) {
        var seen: Set<String> = []
        while let option = cursor.next() {
            guard ["maximum", "timeout"].contains(option.keyword), seen.insert(option.keyword).inserted else {
                throw cursor.error(seen.contains(option.keyword) ? .duplicateOption : .unknownOption, at: option,
                                   "unknown option for `fragment`", expected: "`maximum N` or `timeout S`",
                                   hint: "`fragment` is not a protocol: it limits how IOS holds fragments")
            }
            let range: ClosedRange<UInt32> = option.keyword == "maximum" ? 50...10_000 : 1...1_000
            inspection.extras += [option.keyword, "\(try cursor.number(range, what: option.keyword))"]
        }
    }

    private static func onOff(_ cursor: inout TokenCursor, what: String) throws(Diagnostic) -> Bool {
        try cursor.keyword(["on", "off"], what: "\(what) setting").keyword == "on"
    }

    private mutating func addInspection(
        _ inspection: ProtocolInspection, rule name: Token, protocolToken: Token, cursor: TokenCursor
    ) throws(Diagnostic) {
        let rules: WritableKeyPath<IOSConfiguration, [InspectionRule]> = inspectFamily == .ipv4 ? \.inspectionRules : \.ipv6InspectionRules
        guard let index = model[keyPath: rules].firstIndex(where: { $0.name == name.text }) else {
            model[keyPath: rules].append(InspectionRule(
                name: name.text, location: cursor.location(of: name), protocols: [inspection]))
            return
        }
        var rule = model[keyPath: rules][index]
        if inspection.kind.isSMTP, let other = rule.smtp, other.kind != inspection.kind {
            throw cursor.error(
                .smtpWithESMTP, at: protocolToken,
                "`smtp` and `esmtp` in one inspection rule (IOS refuses it)",
                expected: "only one of `smtp` and `esmtp` in rule \(name.text); line \(other.location.line) has `\(other.kind.rawValue)`",
                hint: "keep one: esmtp allows all smtp commands plus AUTH, EHLO and ETRN")
        }
        if let same = rule.protocols.firstIndex(where: { $0.kind == inspection.kind }) {
            replaced("\(inspectFamily.keyword) inspect name \(name.text) \(inspection.kind.rawValue)",
                     previous: rule.protocols[same].location, at: inspection.location)
            rule.protocols[same] = inspection
        } else {
            rule.protocols.append(inspection)
        }
        model[keyPath: rules][index] = rule
    }

    /// `ip port-map APPLICATION port [tcp|udp] P … [list ACL] [description TEXT]`
    mutating func portMap(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        let application = try cursor.take("application", expected: "an IOS application name, or user-NAME")
        let name = application.keyword
        guard InspectCatalog.applications[name] != nil || ["smtp", "esmtp"].contains(name) || name.hasPrefix("user-") else {
            throw cursor.error(.unknownProtocol, at: application, "unknown application in `ip port-map`",
                               expected: "a name `show ip port-map` lists, or user-NAME for one of your own")
        }
        _ = try cursor.keyword(["port"], what: "port-map keyword")
        var proto: UInt8 = PacketMatch.tcp
        if let which = cursor.peek(), ["tcp", "udp"].contains(which.keyword) {
            proto = which.keyword == "tcp" ? PacketMatch.tcp : PacketMatch.udp
            _ = cursor.next()
        }
        var ports: [UInt16] = []
        while let token = cursor.peek(), token.text.allSatisfy(\.isASCIIDigit) {
            ports.append(UInt16(try cursor.number(1...65535, what: "port")))
        }
        if ports.isEmpty { _ = try cursor.take("port", expected: "a port number 1-65535") }
        var hostList: String?
        if cursor.peek()?.keyword == "list" {
            _ = cursor.next()
            hostList = try cursor.take("access list", expected: "a standard access list of the hosts").text
        }
        if cursor.peek()?.keyword == "description" { while cursor.next() != nil {} }
        try cursor.end(after: "the ports")
        if name == "smtp" || name == "esmtp", let other = ports.first(where: { $0 != 25 }) {
            throw cursor.error(.unsupported, at: application, "SMTP on port \(other) cannot be inspected",
                               expected: "smtp on port 25",
                               hint: "smtp-inspect's daemon reads SMTP sessions to port 25; forward port \(other) to 25 with `ip nat inside source static tcp …`, or remove the line")
        }
        model.portMaps.append(PortMap(application: name, tcpPorts: proto == PacketMatch.tcp ? ports : [],
                                      udpPorts: proto == PacketMatch.udp ? ports : [], hostList: hostList,
                                      location: cursor.lineLocation))
        let list = ports.map(String.init).joined(separator: ",")
        if hostList != nil {
            warnings.append(Diagnostic(.warning, .approximated, at: cursor.lineLocation,
                                       "host-specific port mapping applied to every host",
                                       hint: "the generated rules inspect \(name) on \(list) whatever the server"))
            return .approximated("\(name) inspected on \(proto == PacketMatch.tcp ? "tcp" : "udp") \(list) for every host, not only the list's")
        }
        return .appliedAs("\(name) also inspected on \(proto == PacketMatch.tcp ? "tcp" : "udp") \(list)")
    }
}
