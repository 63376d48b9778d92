extension ConfigParser {
    typealias Disposition = LineReport.Disposition

    /// A command outside any interface block.
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
        case "no": return try noCommand(&cursor, words: words)
        case "end":
            mode = .ended
            return .ignored("end of the configuration")
        case "version": return .ignored("IOS version: informational")
        case "banner": return banner(line)
        case "exit": return .ignored("leaves a configuration mode")
        default: break
        }
        mode = .block(line.text.trimmingSpaces)
        return .ignored(ConfigParser.notConfigured)
    }

    private mutating func ipCommand(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition? {
        switch words[1] {
        case "inspect": return try inspectCommand(&cursor, words: words)
        case "nat": return try natCommand(&cursor, words: words)
        case "route": return try route(&cursor)
        case "access-list":
            mode = .block(cursor.line.text.trimmingSpaces)
            return .ignored("named access list: smtp-inspect reads numbered `access-list` lines only"
                + " (an interface that uses it is an error)")
        case "access-group", "address":
            throw cursor.error(
                .malformed, at: cursor.peek(1), "interface command outside an interface block",
                expected: "a global command", hint: "put it under the `interface` line it belongs to")
        case "port-map":
            throw cursor.error(
                .unsupported, at: cursor.peek(1), "`ip port-map` is not supported",
                expected: "smtp on port 25 only",
                hint: "smtp-inspect inspects SMTP on TCP port 25; remove the line")
        default: return nil
        }
    }

    private mutating func interfaceHead(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let first = try cursor.take("interface name", expected: "an interface name, like Ethernet2/0")
        var name = first.text
        // `interface Ethernet 2/0` is how one may type it; IOS stores `Ethernet2/0`.
        if let number = cursor.peek(), name.allSatisfy(\.isLetter), number.text.first?.isASCIIDigit == true {
            name += number.text
            _ = cursor.next()
        }
        let location = cursor.location(of: first)
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

    private mutating func noCommand(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        if words.count > 2, words[1] == "service", words[2] == "timestamps" {
            _ = cursor.next()
            return try timestamps(&cursor, negated: true)
        }
        if words.count > 1, words[1] == "access-list" || words.count > 2 && words[1] == "ip"
            && ["inspect", "nat", "access-group"].contains(words[2]) {
            throw cursor.error(
                .unsupported, at: cursor.peek(), "`no` form of an inspection, NAT or access-list command",
                expected: "the commands that are configured (a running-config lists nothing else)",
                hint: "delete both the command and its `no` form")
        }
        mode = .block(cursor.line.text.trimmingSpaces)
        return .ignored("`no` form of a command smtp-inspect does not configure")
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
