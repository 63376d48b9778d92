/// What became of one line of the configuration.
public struct LineReport: Hashable, Sendable {
    public enum Disposition: Hashable, Sendable {
        /// The line configures something in the model.
        case applied
        /// Applied, and this is what it became on Linux (`tcp session tracking on port 554`).
        case appliedAs(String)
        /// Applied as closely as Linux allows; the text says what differs (a warning says so too).
        case approximated(String)
        /// The line configures nothing smtp-inspect does; the reason says why.
        case ignored(String)

        /// Applied in any form.
        public var isApplied: Bool {
            if case .ignored = self { return false }
            return true
        }
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
/// minus signs included), or a terminal session with configuration-mode prompts, into a
/// validated `IOSConfiguration`.
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
        parser.finish()
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
        /// Inside `ip access-list standard|extended NAME` (index into the model's lists).
        case accessList(Int)
        /// Inside `ipv6 access-list NAME` (index into the model's IPv6 lists).
        case ipv6AccessList(Int)
        case networkGroup(Int)
        case serviceGroup(Int)
        /// Inside `route-map NAME permit|deny N`.
        case routeMap(Int, entry: Int)
        /// Inside a block we do not configure (`controller T1 3/0`, `line vty 0 4`, ...).
        case block(String)
        /// Inside `banner TYPE ^C ... ^C`.
        case banner(delimiter: String)
        /// Not configuration mode: after `end`, or the output of an exec command in a terminal
        /// session. The text says which.
        case exec(String)
    }

    let file: String
    var model = IOSConfiguration()
    var errors: [Diagnostic] = []
    var warnings: [Diagnostic] = []
    var reports: [LineReport] = []
    var mode = Mode.global
    /// Set once a configuration-mode prompt (`R1(config-if)#…`) was seen: lines without a prompt
    /// are then the router's output, not commands.
    var transcript = false
    /// The first line with an IOS prompt, and whether any line before it was applied.
    var firstPromptLine: Int?
    var appliedBeforePrompt = false
    /// Where each static NAT's local and global address were written, for duplicate errors.
    var natAddressLocations: [(local: SourceLocation, global: SourceLocation)] = []
    /// Lines that ask for inspection but were read where they apply nothing (after `end`, in a
    /// banner, as terminal output): the silent-drop guard.
    var droppedInspection: [(line: Int, column: Int, reason: String)] = []
    /// Names whose defining lines were refused with an error: a later reference to one says so
    /// instead of "does not exist".
    var refusedNames: [String: SourceLocation] = [:]
    /// Set while a line is read as a command (so it was not dropped by where it stands).
    var configured = false
    /// `zone-pair security` and `policy-map type inspect` lines: inspection of the zone-based
    /// firewall, which smtp-inspect does not mirror.
    var zoneFirewall: [SourceLocation] = []
    /// Which family's settings and rules an `ip inspect` / `ipv6 inspect` line writes.
    var inspectFamily = AddressFamily.ipv4

    init(file: String) { self.file = file }

    static let notConfigured = "not an inspection, NAT, ACL or interface command"

    mutating func read(_ raw: SourceLine) {
        var line = raw
        if let first = line.minusColumns.first {
            let count = line.minusColumns.count
            warnings.append(Diagnostic(
                .warning, .unicodeMinus, at: SourceLocation(file: file, line: line.number, column: first),
                "U+2212 minus sign read as `-`" + (count > 1 ? " (\(count) on this line)" : ""),
                hint: "the text was copied from a PDF; IOS itself writes `-`"))
        }
        if let character = line.documentCharacter {
            warnings.append(Diagnostic(
                .warning, .unicodeMinus, at: location(line.number, character.column),
                "\(character.name) read as \(character.readAs)",
                hint: "the text was copied from a document; IOS itself writes plain ASCII"))
        }
        if let column = line.junkColumn {
            warnings.append(Diagnostic(
                .warning, .malformedIgnored, at: location(line.number, column),
                "terminal control sequence (pager prompt, escape code) removed",
                hint: "the text was copied from a terminal; `terminal length 0` before `show running-config` avoids it"))
        }
        var disposition: LineReport.Disposition
        do throws(Diagnostic) {
            disposition = try dispatch(&line)
            if disposition.isApplied, let column = line.controlColumn {
                throw Diagnostic(
                    .error, .controlCharacter, at: location(line.number, column),
                    "control character in a line smtp-inspect applies",
                    found: line.controlDescription, expected: "printable text",
                    hint: "the file holds a byte that is not text (NUL, ESC, …); retype the line")
            }
        } catch {
            var error = error
            if let column = line.controlColumn, error.kind != .controlCharacter, !line.isComment {
                // A control character makes a line fail in ways that say less than this.
                error = Diagnostic(
                    .error, .controlCharacter, at: location(line.number, column),
                    "control character in a line smtp-inspect applies",
                    found: line.controlDescription, expected: "printable text",
                    hint: "the file holds a byte that is not text (NUL, ESC, …); retype the line")
            }
            errors.append(error)
            recordRefused(line)
            disposition = .ignored("error: \(error.summary)")
        }
        if disposition.isApplied, firstPromptLine == nil { appliedBeforePrompt = true }
        if !configured, case .ignored(let reason) = disposition {
            noteDroppedInspection(line, reason: reason)
        }
        configured = false
        reports.append(LineReport(line: line.number, text: line.displayText, disposition: disposition))
    }

    /// `Cisco IOS Software, … Version 12.4(24)T8, RELEASE SOFTWARE` (or `IOS (tm) … Version …`): a
    /// `show version` banner in the paste names the full release, which the `version` line does not.
    mutating func bannerVersion(_ line: SourceLine) -> IOSVersion? {
        let text = line.text
        guard text.hasPrefix("Cisco IOS Software") || text.hasPrefix("IOS (tm)") || text.hasPrefix("Cisco Internetwork Operating System"),
              let index = line.tokens.firstIndex(where: { $0.keyword == "version" }), index + 1 < line.tokens.count else { return nil }
        let word = line.tokens[index + 1].text.prefix { $0 != "," }
        guard let version = IOSVersion(parsing: String(word), location: location(line.number, 1)), version.release != nil else { return nil }
        model.version = version
        return version
    }

    /// The index of the element called `name` in `list`, where `make()` is appended when there
    /// is none: IOS opens a list, group or route map again by its name.
    static func index<Element>(
        named name: String, in list: inout [Element], _ key: KeyPath<Element, String>, orAppend make: () -> Element
    ) -> Int {
        if let index = list.firstIndex(where: { $0[keyPath: key] == name }) { return index }
        list.append(make())
        return list.count - 1
    }

    func location(_ line: Int, _ column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    private mutating func dispatch(_ line: inout SourceLine) throws(Diagnostic) -> LineReport.Disposition {
        if case .banner(let delimiter) = mode {
            if line.text.contains(delimiter) { mode = .global }
            return .ignored("banner text")
        }
        if line.isBlank { return .ignored("blank line") }
        if let prompt = Prompt(line) {
            if firstPromptLine == nil { firstPromptLine = line.number }
            return try promptLine(&line, prompt)
        }
        if line.isComment { return .ignored("comment") }
        if let version = bannerVersion(line) { return .ignored("`show version` output: IOS \(version)") }
        if case .exec(let reason) = mode {
            if ConfigParser.isConfigureTerminal(line.tokens.map(\.keyword)) {
                mode = .global
                return .ignored("enters configuration mode")
            }
            return .ignored(reason)
        }
        if transcript { return .ignored("terminal output (a line without a configuration prompt)") }
        if let reason = ConfigParser.preamble(line) { return .ignored(reason) }
        return try configure(&line)
    }

    /// A configuration command, read in the current mode as IOS reads a pasted line: in the
    /// sub-mode when it is one of its commands, else in the global mode (indentation is a hint).
    mutating func configure(_ line: inout SourceLine) throws(Diagnostic) -> LineReport.Disposition {
        configured = true
        expandAbbreviations(&line)
        try refuseAbbreviation(line)
        let words = line.tokens.map(\.keyword)
        if words == ["exit"] {
            mode = .global
            return .ignored("leaves a configuration mode")
        }
        let global = ConfigParser.configuresGlobally(words)
        let staysInMode = !global && (line.isIndented || !ConfigParser.isGlobalCommand(words))
        switch mode {
        case .interface(let index):
            if !global, let disposition = try interfaceCommand(line, interface: index) { return disposition }
            if staysInMode { return .ignored("interface sub-command smtp-inspect does not use") }
        case .accessList(let index):
            if !global, let disposition = try namedEntry(line, list: index) { return disposition }
        case .ipv6AccessList(let index):
            if !global, let disposition = try ipv6Entry(line, list: index) { return disposition }
        case .networkGroup(let index):
            if !global, let disposition = try networkMember(line, group: index) { return disposition }
        case .serviceGroup(let index):
            if !global, let disposition = try serviceMember(line, group: index) { return disposition }
        case .routeMap(let index, let entry):
            if !global, let disposition = try routeMapClause(line, map: index, entry: entry) { return disposition }
        case .block(let head):
            if staysInMode { return .ignored("inside `\(head)`: \(ConfigParser.notConfigured)") }
        case .global, .banner, .exec:
            break
        }
        mode = .global
        return try globalCommand(line)
    }
}
