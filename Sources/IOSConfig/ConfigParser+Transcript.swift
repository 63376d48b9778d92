/// An IOS prompt at the start of a pasted line: `R1#show running-config`, `R1>enable`,
/// `R1(config-if)#ip nat outside`. `submode` is what the parentheses say (`config`, `config-if`,
/// `config-ext-nacl`, …); nil for an exec prompt.
struct Prompt {
    var host: String
    var submode: String?
    /// The command typed after the prompt, as a line of its own (columns as in the file).
    var command: SourceLine

    init?(_ line: SourceLine) {
        guard let first = line.tokens.first, !line.isIndented else { return nil }
        let scalars = Array(first.text.unicodeScalars)
        guard let mark = scalars.firstIndex(where: { $0 == "#" || $0 == ">" }), mark > 0 else { return nil }
        var head = String.UnicodeScalarView()
        head.append(contentsOf: scalars[..<mark])
        var host = String(head)
        var submode: String?
        if let open = host.firstIndex(of: "(") {
            guard host.hasSuffix(")") else { return nil }
            submode = String(host[host.index(after: open)..<host.index(before: host.endIndex)]).lowercased()
            host = String(host[..<open])
            guard submode?.hasPrefix("config") == true else { return nil }
        }
        let hostOK = host.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_" || scalar == "."
        }
        guard !host.isEmpty, hostOK else { return nil }
        self.host = host
        self.submode = submode
        var command = line
        var tokens = Array(line.tokens.dropFirst())
        if mark + 1 < scalars.count {
            var rest = String.UnicodeScalarView()
            rest.append(contentsOf: scalars[(mark + 1)...])
            let text = String(rest)
            tokens.insert(Token(text: text, keyword: text.lowercased(), column: first.column + mark + 1), at: 0)
        }
        command.tokens = tokens
        command.promptWidth = (tokens.first?.column ?? line.endColumn) - 1
        self.command = command
    }

    var isConfiguration: Bool { submode != nil }
}

extension ConfigParser {
    /// A line that starts with a prompt: an exec command (only `configure terminal` and
    /// `show running-config` change how the following lines are read), or a configuration command
    /// typed in the mode the prompt names.
    mutating func promptLine(_ line: inout SourceLine, _ prompt: Prompt) throws(Diagnostic) -> LineReport.Disposition {
        var command = prompt.command
        let words = command.tokens.map(\.keyword)
        guard let submode = prompt.submode else {
            if words.isEmpty { return .ignored("exec prompt") }
            if ConfigParser.isConfigureTerminal(words) {
                mode = .global
                return .ignored("exec prompt: enters configuration mode")
            }
            if ConfigParser.showsConfiguration(words) {
                mode = .global
                transcript = false
                return .ignored("exec prompt: the command that printed this configuration")
            }
            mode = .exec("output of `\(command.tokens.map(\.text).joined(separator: " "))`")
            return .ignored("exec prompt: a command that configures nothing")
        }
        transcript = true
        if words.isEmpty { return .ignored("configuration prompt") }
        if words.first == "do" { return .ignored("`do`: an exec command typed in configuration mode") }
        switch submode {
        case "config":
            mode = .global
        case "config-if", "config-subif":
            if case .interface = mode {} else { mode = .block("(\(submode)) of an interface this session did not show") }
        case "config-ext-nacl", "config-std-nacl":
            if case .accessList = mode {} else { mode = .block("(\(submode)) of an access list this session did not show") }
        case "config-ipv6-acl":
            if case .ipv6AccessList = mode {} else { mode = .block("(\(submode)) of an IPv6 access list this session did not show") }
        case "config-network-group":
            if case .networkGroup = mode {} else { mode = .block("(\(submode)) of an object group this session did not show") }
        case "config-service-group":
            if case .serviceGroup = mode {} else { mode = .block("(\(submode)) of an object group this session did not show") }
        case "config-route-map":
            if case .routeMap = mode {} else { mode = .block("(\(submode)) of a route-map this session did not show") }
        default:
            if case .block = mode {} else { mode = .block("(\(submode))") }
        }
        let disposition = try configure(&command)
        line = command
        return disposition
    }

    /// `configure terminal` and its short forms (`conf t`, `config`).
    static func isConfigureTerminal(_ words: [String]) -> Bool {
        guard let first = words.first, first.count >= 4, "configure".hasPrefix(first) else { return false }
        return words.count == 1 || words.count == 2 && ("terminal".hasPrefix(words[1]) || "memory".hasPrefix(words[1]))
    }

    /// `show running-config`, `sh run`, `show startup-config`, `more system:running-config`,
    /// `write terminal`: the lines that follow are configuration.
    static func showsConfiguration(_ words: [String]) -> Bool {
        guard words.count >= 2 else { return false }
        let first = words[0], second = words[1]
        if first.count >= 2, "show".hasPrefix(first) {
            return (second.count >= 2 && "running-config".hasPrefix(second))
                || (second.count >= 3 && "startup-config".hasPrefix(second))
                || (second.count >= 4 && "configuration".hasPrefix(second))
        }
        if first == "more" { return second.hasSuffix("running-config") || second.hasSuffix("startup-config") }
        if first.count >= 2, "write".hasPrefix(first) { return second.count >= 1 && "terminal".hasPrefix(second) }
        return false
    }

    /// What the router prints around a configuration (not commands): `Building configuration...`,
    /// `Current configuration : …`, `[OK]`, log messages, login prompts.
    static func preamble(_ line: SourceLine) -> String? {
        let text = line.text.trimmingSpaces
        if text.hasPrefix("Building configuration") { return "printed by show running-config" }
        if text.hasPrefix("Current configuration") { return "printed by show running-config" }
        if text.hasPrefix("Using ") && text.contains(" out of ") { return "printed by show startup-config" }
        if text == "[OK]" { return "printed by the router" }
        if text.hasPrefix("Enter configuration commands") { return "printed by configure terminal" }
        if text.hasPrefix("%") { return "a message of the router" }
        if text.hasPrefix("*") || text.hasPrefix("."), text.contains(": %") { return "a log message" }
        if let first = line.tokens.first?.keyword, ["username:", "password:", "login:"].contains(first)
            || text.hasPrefix("User Access Verification") || text.hasPrefix("Last login") || text.hasPrefix("login as:") {
            return "terminal session: login"
        }
        return nil
    }

    /// Records a line that would configure inspection but was read where it applies nothing.
    mutating func noteDroppedInspection(_ line: SourceLine, reason: String) {
        var words = line.tokens.map(\.keyword)
        if let prompt = Prompt(line) { words = prompt.command.tokens.map(\.keyword) }
        if words.first?.hasPrefix("!") == true || words.first == "no" { return }
        guard words.count >= 3, words[0] == "ip" || words[0] == "ipv6", words[1] == "inspect" else { return }
        let isRule = words[2] == "name" && words.count >= 5
        let isAttachment = words.count >= 4 && ["in", "out"].contains(words[3])
        guard isRule || isAttachment else { return }
        droppedInspection.append((line.number, line.tokens.first?.column ?? 1, reason))
    }

    /// The name an erroneous line was defining, so that references to it can say so.
    mutating func recordRefused(_ line: SourceLine) {
        let words = line.tokens.map(\.keyword)
        let texts = line.tokens.map(\.text)
        let at = location(line.number, line.tokens.first?.column ?? 1)
        if words.count >= 4, words[0] == "ip", words[1] == "inspect", words[2] == "name" {
            refusedNames["inspect \(texts[3])"] = refusedNames["inspect \(texts[3])"] ?? at
        } else if words.count >= 2, words[0] == "access-list" {
            refusedNames["acl \(texts[1])"] = refusedNames["acl \(texts[1])"] ?? at
        } else if words.count >= 4, words[0] == "ip", words[1] == "access-list" {
            refusedNames["acl \(texts[3])"] = refusedNames["acl \(texts[3])"] ?? at
        } else if words.count >= 4, words[0] == "ipv6", words[1] == "inspect", words[2] == "name" {
            refusedNames["inspect6 \(texts[3])"] = refusedNames["inspect6 \(texts[3])"] ?? at
        } else if words.count >= 3, words[0] == "ipv6", words[1] == "access-list" {
            refusedNames["acl6 \(texts[2])"] = refusedNames["acl6 \(texts[2])"] ?? at
        } else if case .accessList(let index) = mode {
            let name = model.accessLists[index].name
            refusedNames["acl \(name)"] = refusedNames["acl \(name)"] ?? at
        } else if case .ipv6AccessList(let index) = mode {
            let name = model.ipv6AccessLists[index].name
            refusedNames["acl6 \(name)"] = refusedNames["acl6 \(name)"] ?? at
        }
    }
}

extension ConfigParser {
    /// Keywords typed short (in terminal sessions) that smtp-inspect reads as IOS does: each
    /// becomes the full keyword, with a warning. `minimum` is the shortest form accepted.
    static let abbreviations: [(context: [String], full: String, minimum: Int)] = [
        ([], "interface", 3), ([], "access-list", 3), ([], "hostname", 5), ([], "shutdown", 4),
        ([], "description", 4), ([], "object-group", 6), ([], "route-map", 7), ([], "permit", 4),
        ([], "remark", 3), ([], "evaluate", 4), ([], "version", 4), ([], "banner", 4),
        (["ip"], "inspect", 3), (["ip"], "address", 3), (["ip"], "access-group", 8), (["ip"], "access-list", 8),
        (["ip"], "port-map", 6), (["ip"], "reflexive-list", 4),
        (["ip", "nat"], "inside", 3), (["ip", "nat"], "outside", 3), (["ip", "nat"], "pool", 2),
        (["ip", "nat", "inside"], "source", 3), (["ip", "inspect"], "name", 2),
        (["no"], "shutdown", 4), (["no", "ip"], "address", 3), (["object-group"], "network", 3),
        (["object-group"], "service", 3), (["ip", "access-list"], "extended", 3), (["ip", "access-list"], "standard", 3),
        (["ipv6"], "inspect", 3), (["ipv6"], "access-list", 8), (["ipv6"], "traffic-filter", 7), (["ipv6"], "address", 3),
        (["ipv6"], "unicast-routing", 7), (["ipv6", "inspect"], "name", 2),
    ]

    /// Rewrites short keywords to their full form (the text stays as written, for messages).
    mutating func expandAbbreviations(_ line: inout SourceLine) {
        guard !line.tokens.isEmpty else { return }
        let limit = min(line.tokens.count, 4)
        for index in 0..<limit {
            let word = line.tokens[index].keyword
            let context = line.tokens[..<index].map(\.keyword)
            guard let entry = ConfigParser.abbreviations.first(where: {
                $0.context == context && word.count >= $0.minimum && word.count < $0.full.count && $0.full.hasPrefix(word)
            }) else { continue }
            if entry.full == "access-list", index == 0, line.tokens.count > 1,
               !AccessList.isNumber(line.tokens[1].text) { continue }
            if entry.full == "hostname", line.tokens.count != 2 { continue }
            line.tokens[index].keyword = entry.full
            warnings.append(Diagnostic(
                .warning, .abbreviation, at: location(line.number, line.tokens[index].column),
                "`\(line.tokens[index].text)` read as `\(entry.full)`",
                hint: "a running-config spells keywords in full; this line was typed short"))
        }
    }

    /// A keyword shorter than IOS would take for a command smtp-inspect applies: reading it as
    /// "not ours, ignored" would silently drop a security command, so refuse it.
    func refuseAbbreviation(_ line: SourceLine) throws(Diagnostic) {
        let words = line.tokens.map(\.keyword)
        func abbreviates(_ word: String, _ full: String) -> Bool {
            word.count >= 2 && word.count < full.count && full.hasPrefix(word)
        }
        var index = 0
        var full: String?
        if abbreviates(words[0], "interface"), words.count >= 2, line.tokens[1].text.first?.isLetter == true {
            full = "interface"
        } else if abbreviates(words[0], "access-list"), words.count >= 3, AccessList.isNumber(line.tokens[1].text) {
            full = "access-list"
        } else if abbreviates(words[0], "shutdown"), words.count == 1, case .interface = mode {
            full = "shutdown"
        } else if words[0] == "ip", words.count > 2 {
            index = 1
            full = ["inspect", "nat", "access-group", "address"].first { abbreviates(words[1], $0) }
        } else if words[0] == "ipv6", words.count > 2 {
            index = 1
            full = ["inspect", "traffic-filter", "address"].first { abbreviates(words[1], $0) }
        }
        guard let full else { return }
        let cursor = TokenCursor(line, file: file)
        throw cursor.error(.malformed, at: line.tokens[index], "abbreviated keyword", expected: "`\(full)`",
                           hint: "write commands in full, as show running-config prints them")
    }

    /// Whether a line is a global command smtp-inspect reads, wherever it appears (a pasted line
    /// with lost or extra indentation).
    static func configuresGlobally(_ words: [String]) -> Bool {
        guard let first = words.first else { return false }
        if first == "ipv6" { return configuresIPv6Globally(words) }
        if ["interface", "access-list", "hostname", "end", "object-group", "route-map", "version"].contains(first) { return true }
        if first == "service" { return words.count > 1 && words[1] == "timestamps" }
        guard first == "ip", words.count > 2 else { return false }
        switch words[1] {
        case "route", "access-list", "port-map", "reflexive-list": return true
        case "inspect":
            if words.count == 4 && ["in", "out"].contains(words[3]) { return false }  // `ip inspect NAME in|out`
            return inspectGlobalWords.contains(words[2]) || (ignoredInspectGlobals[words[2]] != nil)
        case "nat": return words[2] == "pool" || words.count > 3 && words[3] == "source"
        default: return false
        }
    }

    /// First words of IOS global configuration commands: an unindented line starting with one
    /// leaves an interface (or other) sub-mode, as IOS reads it.
    static let globalCommandWords: Set<String> = [
        "aaa", "access-list", "alias", "archive", "banner", "boot", "boot-start-marker", "boot-end-marker", "bridge",
        "call", "card", "cdp", "chat-script", "class-map", "clock", "config-register", "control-plane", "controller",
        "crypto", "default", "dial-peer", "dialer-list", "dot11", "enable", "end", "errdisable", "event", "ephone",
        "ephone-dn", "file", "flow", "gatekeeper", "gateway", "hostname", "hw-module", "interface", "ipv6", "isdn",
        "key", "license", "line", "lldp", "logging", "login", "mac-address-table", "map-class", "memory", "mgcp",
        "mls", "monitor", "mpls", "multilink", "ntp", "object-group", "parameter-map", "platform", "policy-map",
        "privilege", "process-max-time", "radius-server", "redundancy", "resource", "rmon", "route-map", "router",
        "sccp", "scheduler", "secure", "security", "service", "sip-ua", "snmp-server", "spanning-tree", "subscriber",
        "tacacs-server", "telephony-service", "template", "track", "username", "version", "voice", "voice-card",
        "voice-port", "vpdn", "vpdn-group", "vlan", "vtp", "wlccp", "zone", "zone-pair", "ip", "no",
    ]

    /// `ip …` commands that exist only in global configuration.
    static let globalIPWords: Set<String> = [
        "access-list", "admission", "auth-proxy", "bootp", "cef", "classless", "dhcp", "dns", "domain", "domain-list",
        "domain-lookup", "domain-name", "finger", "flow-cache", "flow-export", "forward-protocol", "ftp", "host",
        "http", "inspect", "ips", "local", "multicast-routing", "name-server", "nat", "port-map", "reflexive-list",
        "route", "routing", "scp", "sla", "source-route", "ssh", "subnet-zero", "tcp", "urlfilter", "vrf",
    ]

    /// Interface commands whose first word is also a global command's (`cdp enable` and
    /// `cdp run`): IOS reads them in the interface first.
    static let interfaceCommandPairs: Set<[String]> = [
        ["cdp", "enable"], ["crypto", "map"], ["crypto", "ipsec"], ["logging", "event"], ["snmp", "trap"],
        ["ntp", "disable"], ["ntp", "broadcast"], ["mpls", "ip"], ["spanning-tree", "portfast"],
        ["spanning-tree", "bpduguard"], ["ipv6", "address"], ["ipv6", "enable"], ["ipv6", "nd"], ["ipv6", "mtu"],
        ["ipv6", "traffic-filter"], ["ipv6", "inspect"], ["ipv6", "ospf"], ["ipv6", "virtual-reassembly"],
        ["zone-member", "security"], ["service-policy", "input"], ["service-policy", "output"],
    ]

    /// Whether an unindented line is a global command (so it ends the current sub-mode).
    static func isGlobalCommand(_ words: [String]) -> Bool {
        guard let first = words.first else { return false }
        if first == "ipv6" { return !isIPv6InterfaceCommand(words) }
        if words.count > 1, interfaceCommandPairs.contains([first, words[1]]) { return false }
        if first == "ip" {
            guard words.count > 1 else { return false }
            if words[1] == "inspect" { return words.count > 2 && !(words.count == 4 && ["in", "out"].contains(words[3])) }
            if words[1] == "nat" { return !(words.count == 3 && ["inside", "outside", "enable"].contains(words[2])) }
            if words[1] == "tcp" { return words.count > 2 && words[2] != "adjust-mss" }
            return globalIPWords.contains(words[1])
        }
        if first == "no" { return isGlobalCommand(Array(words.dropFirst())) }
        return globalCommandWords.contains(first)
    }
}
