/// One table of an `iptables-restore` file, built chain by chain. Only SI- chains are declared;
/// the built-in chains get one `-I … -j SI-…` jump each, marked with the comment `smtp-inspect`,
/// so that removing the rule set removes exactly those jumps and the SI- chains.
struct IptablesTable {
    static let jumpComment = "smtp-inspect"

    let name: String
    private(set) var chains: [String] = []
    /// Each chain's notes and rules, printed together in the order the chains were declared.
    private var bodies: [String: [String]] = [:]
    private var jumps: [String] = []

    init(_ name: String) { self.name = name }

    /// Declares a chain (once) and returns its name.
    @discardableResult
    mutating func chain(_ chain: String) -> String {
        if !chains.contains(chain) { chains.append(chain) }
        return chain
    }

    /// Our top chain for a built-in one, jumped to first.
    mutating func top(_ builtin: String) -> String {
        let name = "SI-\(builtin)"
        guard !chains.contains(name) else { return name }
        chain(name)
        jumps.append("-I \(builtin) 1 -m comment --comment \"\(IptablesTable.jumpComment)\" -j \(name)")
        return name
    }

    /// `# text` lines in `chain`: the reason for the rules below them.
    mutating func note(_ chain: String, _ lines: String...) {
        note(chain, lines: lines)
    }

    mutating func note(_ chain: String, lines: [String]) {
        bodies[chain, default: []] += lines.map { "# " + IptablesTable.clean($0) }
    }

    /// `-A chain match… -m comment --comment "…" -j target`
    mutating func rule(_ chain: String, _ match: [String], comment: String?, _ target: String) {
        var words = ["-A", chain] + match.filter { !$0.isEmpty }
        if let comment { words += ["-m comment --comment", IptablesTable.quoted(comment)] }
        words.append(target)
        bodies[chain, default: []].append(words.joined(separator: " "))
    }

    var text: String {
        var lines = ["*\(name)"] + chains.map { ":\($0) - [0:0]" }
        for chain in chains { lines += bodies[chain] ?? [] }
        if !jumps.isEmpty {
            lines.append("# The jumps from the built-in chains: the only rules outside SI- chains.")
            lines += jumps
        }
        lines.append("COMMIT")
        return lines.map { $0 + "\n" }.joined()
    }

    /// iptables-restore reads a double-quoted word; the comment module keeps up to 255 bytes.
    /// Quotes and backslashes become `'`, control characters caret notation (`^@`): nothing from
    /// the configuration can end the word, the line or the file early.
    static func quoted(_ text: String) -> String {
        var clean = String(IptablesTable.clean(text).map { $0 == "\"" || $0 == "\\" ? "'" : $0 })
        while clean.utf8.count > 255 { clean.removeLast() }
        return "\"\(clean)\""
    }

    /// Text for a rules file: control characters (C0 but tab, DEL, C1) and the Unicode line and
    /// paragraph separators in caret or `<U+…>` notation, tabs as spaces.
    static func clean(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" })
        else { return text }
        return text.unicodeScalars.map { scalar -> String in
            if scalar == "\t" { return " " }
            if scalar == "\u{2028}" || scalar == "\u{2029}" { return "<U+" + String(scalar.value, radix: 16, uppercase: true) + ">" }
            return ConfigLexer.isControl(scalar) ? ConfigLexer.visible(scalar) : String(scalar)
        }.joined()
    }
}
