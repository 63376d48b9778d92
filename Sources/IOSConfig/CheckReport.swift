/// The `check` listing: every line of the file with what became of it, warnings under their line.
///
///     # check of seed-running-config.txt: 153 lines, 24 applied, 129 ignored, 44 warnings
///        1 ignored  3640-123#show running-config  [exec prompt: …]
///        1 warning  column 5: U+2212 minus sign read as `-` (2 on this line)
///       41 applied  ip inspect name IN-OUT tcp
public enum CheckReport {
    /// The listing for a configuration that parsed (one that did not has only its errors to show).
    public static func render(_ parsed: ParsedConfiguration, interfaceMap: String? = nil) -> String {
        let applied = parsed.lines.filter { $0.disposition.isApplied }.count
        let approximated = parsed.lines.filter { if case .approximated = $0.disposition { true } else { false } }.count
        var text = "# check of \(parsed.fileName): \(parsed.lines.count) lines, \(applied) applied"
            + (approximated > 0 ? " (\(approximated) approximated)" : "") + ", "
            + "\(parsed.lines.count - applied) ignored, \(parsed.warnings.count) warnings\n"
        text += "# defaults: \(parsed.configuration.defaultsChoice.reason)\n"
        if let interfaceMap { text += "# interfaces: \(interfaceMap)\n" }
        var warningsByLine: [Int: [Diagnostic]] = [:]
        for warning in parsed.warnings { warningsByLine[warning.location.line, default: []].append(warning) }
        let width = max(4, "\(parsed.lines.count)".count)
        for report in parsed.lines {
            let number = pad("\(report.line)", width)
            let content = report.text.trimmingSpacesAtEnd
            switch report.disposition {
            case .applied:
                text += "\(number) applied  \(content)\n"
            case .appliedAs(let what):
                text += "\(number) applied  \(content)  [as \(what)]\n"
            case .approximated(let what):
                text += "\(number) approx.  \(content)  [\(what)]\n"
            case .ignored(let reason):
                text += "\(number) ignored  " + (content.isEmpty ? "" : content + "  ") + "[\(reason)]\n"
            }
            for warning in warningsByLine[report.line] ?? [] {
                text += "\(number) warning  column \(warning.location.column): \(warning.summary)\n"
            }
        }
        return text
    }

    static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

extension String {
    var trimmingSpacesAtEnd: String {
        var scalars = Substring(self).unicodeScalars
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(Substring(scalars))
    }
}
