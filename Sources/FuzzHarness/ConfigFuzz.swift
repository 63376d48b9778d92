import IOSConfig

/// Fuzz target `config`: the input is a running-config file. Whatever it holds, parsing,
/// `check`'s report, the `show` renderers and the rule generator must not trap; a configuration
/// `check` accepts gets rules for both families (every interface mapped to a Linux name) whose
/// text iptables-restore and ip6tables-restore can read: printable lines, chain names iptables
/// takes, comments it keeps. Whether they really load, as written, is checked outside the loop
/// (Tests/fuzz/iptables-check.py loads accepted inputs in a throwaway network namespace).
public enum ConfigFuzz {
    public static func run(_ data: [UInt8], guards: KnownIssueGuards) -> FuzzFindings {
        var findings = FuzzFindings()
        guard let rules = accepted(data) else { return findings }
        for (family, set) in [("IPv4", rules.ipv4), ("IPv6", rules.ipv6)] {
            check(set, family: family, guards: guards, into: &findings)
        }
        return findings
    }

    /// The rules for an input `check` accepts (as `smtp-inspect rules` would print them with
    /// every interface mapped), or nil when it refuses the file or no rules can be made.
    public static func accepted(_ data: [UInt8]) -> (ipv4: GeneratedRules, ipv6: GeneratedRules)? {
        // `--config` reads UTF-8 text and refuses anything else (ConfigLoading.readText).
        guard let text = String(validating: data, as: UTF8.self) else { return nil }
        let parsed: ParsedConfiguration
        switch IOSConfigParser.parse(text, fileName: "fuzz-config.txt") {
        case .success(let value):
            parsed = value
        case .failure(let failure):
            for error in failure.errors + failure.warnings { _ = error.description }  // what the CLI prints
            return nil
        }
        let model = parsed.configuration
        _ = CheckReport.render(parsed)
        _ = ShowIPInspect.all(model)
        _ = ShowIPInspect.config(model)
        _ = ShowIPInspect.interfaces(model)
        _ = ModelDump.render(model)
        for diagnostic in parsed.warnings { _ = diagnostic.description }
        // Every interface gets a Linux name, so that what the configuration asks for is made.
        var mappings: [InterfaceMapping] = []
        for (k, interface) in model.interfaces.enumerated() {
            guard let mapping = InterfaceMapping(iosName: interface.name, linuxName: "fz\(k)") else { continue }
            mappings.append(mapping)
        }
        let variant = data.count % 3
        let queue: NFQueueTarget = variant == 0 ? .number(0) : variant == 1 ? .number(65535) : .balance(1, 4)
        let options = RuleOptions(interfaces: mappings, queue: queue, queueBypass: data.count % 2 == 0,
                                  sourceName: "fuzz-config.txt")
        guard case .success(let ipv4) = IptablesRules.generate(model, options: options, family: .ipv4),
              case .success(let ipv6) = IptablesRules.generate(model, options: options, family: .ipv6)
        else { return nil }
        return (ipv4, ipv6)
    }

    /// Both rule sets as `smtp-inspect rules` prints them (IPv4, the separator line, IPv6).
    public static func text(_ rules: (ipv4: GeneratedRules, ipv6: GeneratedRules)) -> String {
        rules.ipv4.text + IptablesRules.familySeparator + rules.ipv6.text
    }

    /// What iptables-restore needs of the text, short of loading it.
    static func check(_ rules: GeneratedRules, family: String, guards: KnownIssueGuards,
                      into findings: inout FuzzFindings) {
        var lineNumber = 0
        for line in rules.text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if let bad = line.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                findings.add("\(family) rules line \(lineNumber) carries control character U+\(String(bad.value, radix: 16, uppercase: true)): \(line.debugDescription)")
            }
            if line.hasPrefix(":") {
                // iptables chain names: at most 28 bytes (XT_EXTENSION_MAXNAMELEN - 1), no spaces.
                let name = line.dropFirst().split(separator: " ").first ?? ""
                if name.utf8.count > 28 || name.isEmpty {
                    findings.add("\(family) rules line \(lineNumber): chain name \(name.debugDescription) iptables refuses")
                }
            }
            if let range = line.firstRange(of: "--comment \"") {
                let rest = line[range.upperBound...]
                guard let close = rest.firstIndex(of: "\"") else {
                    findings.add("\(family) rules line \(lineNumber): unterminated comment: \(line.debugDescription)")
                    continue
                }
                if rest[..<close].utf8.count > 255 {
                    findings.add("\(family) rules line \(lineNumber): comment longer than 255 bytes")
                }
            }
        }
        if !rules.text.hasSuffix("COMMIT\n") { findings.add("\(family) rules do not end with COMMIT") }
    }
}
