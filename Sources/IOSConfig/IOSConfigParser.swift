/// What became of one line of the configuration.
public struct LineReport: Hashable, Sendable {
    public enum Disposition: Hashable, Sendable {
        /// The line configures something in the model.
        case applied
        /// The line configures nothing smtp-inspect does; the reason says why.
        case ignored(String)
    }

    /// 1-based line number.
    public var line: Int
    /// The line as read (U+2212 already read as `-`).
    public var text: String
    public var disposition: Disposition

    public init(line: Int, text: String, disposition: Disposition) {
        self.line = line
        self.text = text
        self.disposition = disposition
    }
}

/// A configuration that parsed and validated: the model, the warnings, and every line's fate.
public struct ParsedConfiguration: Hashable, Sendable {
    public var configuration: IOSConfiguration
    public var warnings: [Diagnostic]
    /// One report per line of the input, in order.
    public var lines: [LineReport]
    public var fileName: String
}

/// Reads a pasted IOS running-config (prompt line, `Building configuration...`, comments and PDF
/// minus signs included) into a validated `IOSConfiguration`.
public enum IOSConfigParser {
    /// Parses and validates `text`. On any error nothing is applied: the result is the list of
    /// every error found (each with file:line:column, what was found, what was expected and a
    /// hint) and the warnings seen so far.
    public static func parse(
        _ text: String, fileName: String
    ) -> Result<ParsedConfiguration, ConfigurationErrors> {
        var parser = ConfigParser(file: fileName)
        for line in ConfigLexer.lines(of: text) {
            parser.read(line)
        }
        parser.validate()
        guard parser.errors.isEmpty else {
            return .failure(ConfigurationErrors(errors: parser.errors, warnings: parser.warnings))
        }
        return .success(ParsedConfiguration(
            configuration: parser.model, warnings: parser.warnings, lines: parser.reports,
            fileName: fileName))
    }
}

/// The parser's working state. One instance reads one file; `read` is called line by line.
struct ConfigParser {
    enum Mode {
        case global
        case interface(Int)
        /// Inside a block we do not configure (`controller T1 3/0`, `line vty 0 4`, ...).
        case block(String)
        /// Inside `banner TYPE ^C ... ^C`.
        case banner(delimiter: String)
        /// After `end`.
        case ended
    }

    let file: String
    var model = IOSConfiguration()
    var errors: [Diagnostic] = []
    var warnings: [Diagnostic] = []
    var reports: [LineReport] = []
    var mode = Mode.global
    /// Where each static NAT's local and global address were written, for duplicate errors.
    var natAddressLocations: [(local: SourceLocation, global: SourceLocation)] = []

    init(file: String) { self.file = file }

    static let notConfigured = "not an inspection, NAT, ACL or interface command"

    mutating func read(_ line: SourceLine) {
        if let first = line.minusColumns.first {
            let count = line.minusColumns.count
            warnings.append(Diagnostic(
                .warning, .unicodeMinus, at: SourceLocation(file: file, line: line.number, column: first),
                "U+2212 minus sign read as `-`" + (count > 1 ? " (\(count) on this line)" : ""),
                hint: "the text was copied from a PDF; IOS itself writes `-`"))
        }
        let disposition: LineReport.Disposition
        do {
            disposition = try dispatch(line)
        } catch {
            errors.append(error)
            disposition = .ignored("error: \(error.summary)")
        }
        reports.append(LineReport(line: line.number, text: line.text, disposition: disposition))
    }

    private mutating func dispatch(_ line: SourceLine) throws(Diagnostic) -> LineReport.Disposition {
        if case .banner(let delimiter) = mode {
            if line.text.contains(delimiter) { mode = .global }
            return .ignored("banner text")
        }
        if line.isBlank { return .ignored("blank line") }
        if line.isComment { return .ignored("comment") }
        if case .ended = mode { return .ignored("after `end`: not configuration") }
        if let reason = ConfigParser.preamble(line) { return .ignored(reason) }
        try ConfigParser.refuseAbbreviation(line, file: file)
        // IOS reads a pasted line in the current mode when it can, else in the global mode; the
        // indentation is only a hint, so an indented global command still counts as global.
        let global = ConfigParser.configuresGlobally(line.tokens.map(\.keyword))
        switch mode {
        case .interface(let index):
            if let disposition = try interfaceCommand(line, interface: index) { return disposition }
            if line.isIndented && !global { return .ignored("interface sub-command smtp-inspect does not use") }
        case .block(let head):
            if line.isIndented && !global { return .ignored("inside `\(head)`: \(ConfigParser.notConfigured)") }
        case .global, .banner, .ended:
            break
        }
        mode = .global
        return try globalCommand(line)
    }

    /// IOS accepts `int e0` or `ip insp …`; a running-config never abbreviates, and reading an
    /// abbreviated security command as "not ours, ignored" would silently drop it. So refuse.
    static func refuseAbbreviation(_ line: SourceLine, file: String) throws(Diagnostic) {
        let words = line.tokens.map(\.keyword)
        func abbreviates(_ word: String, _ full: String) -> Bool {
            word.count >= 2 && word.count < full.count && full.hasPrefix(word)
        }
        var index = 0
        var full = ["interface", "access-list", "hostname", "shutdown"].first { abbreviates(words[0], $0) }
        if full == nil, words[0] == "ip", words.count > 1 {
            index = 1
            full = ["inspect", "nat", "route", "access-group", "address"].first { abbreviates(words[1], $0) }
        }
        guard let full else { return }
        let cursor = TokenCursor(line, file: file)
        throw cursor.error(.malformed, at: line.tokens[index], "abbreviated keyword", expected: "`\(full)`",
                           hint: "write commands in full, as show running-config prints them")
    }

    /// Whether a line is a global command smtp-inspect reads, wherever it appears.
    static func configuresGlobally(_ words: [String]) -> Bool {
        guard let first = words.first else { return false }
        if ["interface", "access-list", "hostname", "end"].contains(first) { return true }
        if first == "service" { return words.count > 1 && words[1] == "timestamps" }
        guard first == "ip", words.count > 2 else { return false }
        switch words[1] {
        case "route", "access-list", "port-map": return true
        case "inspect": return inspectGlobalWords.contains(words[2])
        case "nat": return words[2] == "pool" || words.count > 3 && words[3] == "source"
        default: return false
        }
    }

    /// What `show running-config` prints before the configuration itself.
    static func preamble(_ line: SourceLine) -> String? {
        let text = line.text
        if text.hasPrefix("Building configuration") { return "printed by show running-config" }
        if text.hasPrefix("Current configuration") { return "printed by show running-config" }
        if let first = line.tokens.first, !line.isIndented, let hash = first.text.firstIndex(of: "#"),
           hash != first.text.startIndex {
            return "exec prompt: the command that printed this configuration"
        }
        return nil
    }
}
