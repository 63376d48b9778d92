extension ConfigParser {
    typealias Disposition = LineReport.Disposition

    /// Global commands that start a sub-mode of their own which smtp-inspect does not read.
    static let blockCommands: Set<String> = [
        "controller", "line", "router", "crypto", "class-map", "policy-map", "voice-port", "dial-peer", "key",
        "control-plane", "redundancy", "zone-pair", "zone", "parameter-map", "telephony-service", "ephone",
        "ephone-dn", "archive", "track", "vpdn-group", "template", "sip-ua", "gatekeeper", "gateway", "voice",
        "dot11", "wlccp", "event", "mgcp", "vlan", "flow", "map-class", "stcapp", "sccp", "application",
    ]

    /// A command outside any sub-mode.
    mutating func globalCommand(_ line: SourceLine) throws(Diagnostic) -> Disposition {
        var cursor = TokenCursor(line, file: file)
        let words = line.tokens.map(\.keyword)
        switch words[0] {
        case "interface": return try interfaceHead(&cursor)
        case "hostname": return try hostname(&cursor)
        case "service" where words.count > 1 && words[1] == "timestamps":
            return try timestamps(&cursor, negated: false)
        case "ip" where words.count > 1:
            if let disposition = try ipCommand(&cursor, words: words) { return disposition }
        case "access-list": return try accessListCommand(&cursor)
        case "object-group": return try objectGroupHead(&cursor)
        case "route-map": return try routeMapHead(&cursor)
        case "no": return try noCommand(&cursor, words: words)
        case "end":
            mode = .exec("after `end`: not configuration")
            return .ignored("end of the configuration")
        case "version": return versionLine(&cursor)
        case "banner": return banner(line)
        case "exit": return .ignored("leaves a configuration mode")
        case "ipv6" where words.count > 1:
            return try ipv6Command(&cursor, words: words)
        case "ipv6":
            mode = .global
            return .ignored(ConfigParser.notConfigured)
        case "zone-pair" where words.count > 1 && words[1] == "security",
             "policy-map" where words.count > 2 && words[1] == "type" && words[2] == "inspect":
            // The zone-based policy firewall inspects too, and smtp-inspect does not read it.
            zoneFirewall.append(cursor.lineLocation)
            mode = .block(line.text.trimmingSpaces)
            return .ignored("zone-based policy firewall: not mirrored (smtp-inspect reads CBAC's `ip inspect`)")
        default: break
        }
        let block = ConfigParser.blockCommands.contains(words[0])
            || words[0] == "ip" && words.count > 2 && ["dhcp", "sla", "vrf"].contains(words[1])
        mode = block ? .block(line.text.trimmingSpaces) : .global
        return .ignored(ConfigParser.notConfigured)
    }

    private mutating func ipCommand(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition? {
        switch words[1] {
        case "inspect": return try inspectCommand(&cursor, words: words)
        case "nat": return try natCommand(&cursor, words: words)
        case "route": return route(&cursor)
        case "access-list": return try namedAccessListHead(&cursor, words: words)
        case "port-map": return try portMap(&cursor)
        case "reflexive-list":
            _ = cursor.next()
            _ = cursor.next()
            _ = try cursor.keyword(["timeout"], what: "reflexive-list setting", kind: .unknownOption)
            let seconds = try cursor.number(ConfigParser.seconds, what: "seconds")
            try cursor.end(after: "the timeout")
            if let previous = model.reflexiveTimeout.location { replaced("ip reflexive-list timeout", previous: previous, at: cursor.lineLocation) }
            model.reflexiveTimeout = Configured(value: seconds, location: cursor.lineLocation)
            warnings.append(Diagnostic(.warning, .approximated, at: cursor.lineLocation,
                                       "`ip reflexive-list timeout` is not enforced", hint: "reflexive sessions follow conntrack's timeouts"))
            return .approximated("reflexive sessions follow conntrack's timeouts, not this one")
        case "access-group", "address":
            throw cursor.error(
                .malformed, at: cursor.peek(1), "interface command outside an interface block",
                expected: "a global command", hint: "put it under the `interface` line it belongs to")
        default: return nil
        }
    }

    private mutating func interfaceHead(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let first = try cursor.take("interface name", expected: "an interface name, like Ethernet2/0")
        var written = first.text
        // `interface Ethernet 2/0` is how one may type it; IOS stores `Ethernet2/0`.
        if let number = cursor.peek(), written.allSatisfy(\.isLetter), number.text.first?.isASCIIDigit == true {
            written += number.text
            _ = cursor.next()
        }
        // `interface Serial0/0.1 point-to-point|multipoint`: the sub-interface kind.
        if let kind = cursor.peek(), ["point-to-point", "multipoint"].contains(kind.keyword) { _ = cursor.next() }
        let location = cursor.location(of: first)
        let name = canonicalInterface(written, at: location)
        let index: Int
        if let existing = model.interfaces.firstIndex(where: { $0.name.lowercased() == name.lowercased() }) {
            index = existing
        } else {
            model.interfaces.append(Interface(name: name, location: location))
            index = model.interfaces.count - 1
        }
        mode = .interface(index)
        return .applied
    }

    /// An interface name as IOS stores it, with a warning when it was written short.
    mutating func canonicalInterface(_ written: String, at location: SourceLocation) -> String {
        let (name, expanded) = InterfaceName.canonical(written)
        if expanded {
            warnings.append(Diagnostic(
                .warning, .interfaceNameExpanded, at: location, "interface `\(written)` read as \(name)",
                hint: "IOS stores interface names in full; --interface takes either form"))
        }
        return name
    }

    private mutating func hostname(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let name = try cursor.take("host name", expected: "a host name, like 3640-123")
        try cursor.end(after: "the host name", hint: "IOS host names are one word")
        if let previous = model.hostname {
            replaced("hostname", previous: previous.location, at: cursor.lineLocation)
        }
        model.hostname = Located(name.text, at: cursor.location(of: name))
        return .applied
    }

    /// `version 12.4`: which defaults apply (a `show version` banner may have said more already).
    private mutating func versionLine(_ cursor: inout TokenCursor) -> Disposition {
        _ = cursor.next()
        guard let token = cursor.peek(), let version = IOSVersion(parsing: token.text, location: cursor.location(of: token)) else {
            return .ignored("IOS version: not a version number, defaults of IOS 12.3 kept")
        }
        if let known = model.version, known.major == version.major, known.minor == version.minor, known.release != nil {
            return .ignored("IOS version: the half-open defaults follow it (\(known), from the banner)")
        }
        model.version = version
        return .ignored("IOS version: the half-open defaults follow it")
    }

    /// `service timestamps [debug|log] [uptime | datetime [msec] [localtime] [show-timezone] [year]]`
    /// and `no service timestamps [debug|log]`.
    mutating func timestamps(_ cursor: inout TokenCursor, negated: Bool) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        var isLog = false
        if let which = cursor.peek(), ["debug", "log"].contains(which.keyword) {
            isLog = which.keyword == "log"
            _ = cursor.next()
        }
        var format = TimestampFormat.uptime
        if negated {
            format = .none
        } else if let kind = cursor.next() {
            switch kind.keyword {
            case "uptime": format = .uptime
            case "datetime": format = try datetimeOptions(&cursor)
            default:
                throw cursor.error(.unknownOption, at: kind, "unknown timestamp format",
                                   expected: "`uptime` or `datetime`")
            }
        }
        try cursor.end(after: "the timestamp format")
        let setting = Configured(value: format, location: cursor.lineLocation)
        let previous = isLog ? model.timestamps.log : model.timestamps.debug
        if let earlier = previous.location { replaced("service timestamps", previous: earlier, at: cursor.lineLocation) }
        if isLog { model.timestamps.log = setting } else { model.timestamps.debug = setting }
        return .applied
    }

    private func datetimeOptions(_ cursor: inout TokenCursor) throws(Diagnostic) -> TimestampFormat {
        var options: Set<String> = []
        let known = ["msec", "localtime", "show-timezone", "year"]
        while let option = cursor.next() {
            guard known.contains(option.keyword) else {
                throw cursor.error(.unknownOption, at: option, "unknown datetime option",
                                   expected: TokenCursor.oneOf(known))
            }
            guard options.insert(option.keyword).inserted else {
                throw cursor.error(.duplicateOption, at: option, "datetime option given twice",
                                   expected: TokenCursor.oneOf(known))
            }
        }
        return .datetime(msec: options.contains("msec"), localtime: options.contains("localtime"),
                         showTimezone: options.contains("show-timezone"), year: options.contains("year"))
    }

    private mutating func banner(_ line: SourceLine) -> Disposition {
        let types = ["motd", "login", "exec", "incoming", "slip-ppp", "prompt-timeout"]
        var tokenIndex = 1
        if tokenIndex < line.tokens.count, types.contains(line.tokens[tokenIndex].keyword) { tokenIndex += 1 }
        guard tokenIndex < line.tokens.count else { return .ignored("banner") }
        let opening = line.tokens[tokenIndex]
        let delimiter = opening.text.hasPrefix("^C") ? "^C" : String(opening.text.prefix(1))
        let after = line.rest(from: opening).dropFirst(delimiter.count)
        if !after.contains(delimiter) { mode = .banner(delimiter: delimiter) }
        return .ignored("banner")
    }

    /// Records that a later line replaced an earlier setting, as IOS does when a command is
    /// entered again.
    mutating func replaced(_ what: String, previous: SourceLocation, at location: SourceLocation) {
        warnings.append(Diagnostic(
            .warning, .replacedSetting, at: location,
            "\(what) replaces the one on line \(previous.line)",
            hint: "IOS keeps the last one entered; delete the line that no longer applies"))
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(Substring(scalars))
    }
}
