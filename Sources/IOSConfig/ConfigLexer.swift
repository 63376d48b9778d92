/// One word of a configuration line and the column where it starts.
struct Token: Hashable, Sendable {
    /// The word as written, with U+2212 already read as `-`.
    var text: String
    /// The word in lower case, for keyword comparison (IOS keywords are case-insensitive).
    var keyword: String
    var column: Int
}

/// One physical line of the pasted configuration, split into words.
struct SourceLine: Sendable {
    var number: Int
    /// The line exactly as pasted (without its line end).
    var original: String
    /// The line with U+2212 read as `-`: what the parser reads.
    var text: String
    /// The columns of each U+2212 minus sign on the line.
    var minusColumns: [Int]
    /// Other characters a document puts where a terminal has `-` or a space (U+2013 en dash,
    /// U+00A0 no-break space, …): the column of the first and its name.
    var documentCharacter: (column: Int, name: String, readAs: String)?
    var tokens: [Token]
    /// The column just past the last character: where "missing word" errors point.
    var endColumn: Int
    /// Set when terminal control sequences (a pager's `--More--` erased with backspaces, escape
    /// codes) were removed: the column where the first was.
    var junkColumn: Int?
    /// The first control character left in the line (NUL, ESC, DEL, C1 …), if any.
    var controlColumn: Int?
    /// For a command typed after a prompt (`R1(config-if)#ip nat outside`): the prompt's width,
    /// which does not count as indentation.
    var promptWidth = 0

    /// The control character at `controlColumn`, in caret notation (`^@` for NUL).
    var controlDescription: String {
        guard let column = controlColumn else { return "" }
        let scalar = Array(text.unicodeScalars)[column - 1]
        return ConfigLexer.visible(scalar)
    }

    /// The line for listings: control characters shown in caret notation, so that a report
    /// never carries them.
    var displayText: String {
        guard controlColumn != nil else { return text }
        return text.unicodeScalars.map { ConfigLexer.isControl($0) ? ConfigLexer.visible($0) : String($0) }.joined()
    }

    /// Whether the line starts with white space (IOS prints sub-mode commands indented).
    var isIndented: Bool { (tokens.first?.column ?? 1) - promptWidth > 1 }
    var isBlank: Bool { tokens.isEmpty }
    /// `!` starts a comment line in a running-config.
    var isComment: Bool { tokens.first?.text.hasPrefix("!") ?? false }

    /// The text from `token`'s column to the end of the line, trailing white space removed
    /// (what `description` keeps).
    func rest(from token: Token) -> String {
        var scalars = Array(text.unicodeScalars.dropFirst(token.column - 1))
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }
}

/// Splits a configuration into lines and words. U+2212 MINUS SIGN (what a PDF turns `-` into) is
/// read as `-`; the parser warns about each line that had one.
enum ConfigLexer {
    static let unicodeMinus: Unicode.Scalar = "\u{2212}"

    /// What word processors and web pages put for `-` and for a space.
    static let documentDashes: [Unicode.Scalar: String] = [
        "\u{2010}": "U+2010 hyphen", "\u{2011}": "U+2011 non-breaking hyphen", "\u{2013}": "U+2013 en dash",
    ]
    static let documentSpaces: [Unicode.Scalar: String] = {
        var names: [Unicode.Scalar: String] = ["\u{A0}": "U+00A0 no-break space", "\u{202F}": "U+202F narrow no-break space",
                                               "\u{3000}": "U+3000 ideographic space"]
        for value in 0x2000...0x200A { names[Unicode.Scalar(value)!] = "U+" + String(value, radix: 16, uppercase: true) + " space" }
        return names
    }()

    /// C0 controls but tab, DEL and C1 controls.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
    }

    /// `^@`, `^A`, … `^?`, or `<U+0085>` for the C1 range.
    static func visible(_ scalar: Unicode.Scalar) -> String {
        if scalar.value < 0x20 { return "^" + String(UnicodeScalar(UInt8(scalar.value + 0x40))) }
        if scalar.value == 0x7F { return "^?" }
        return "<U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4) + ">"
    }

    /// What a terminal shows for a line with backspaces, carriage returns and escape sequences
    /// (a pager's `--More--` erased in place): the visible text, and whether anything was removed.
    static func rendered(_ scalars: String.UnicodeScalarView) -> (String.UnicodeScalarView, Bool) {
        guard scalars.contains(where: { $0 == "\u{8}" || $0 == "\r" || $0 == "\u{1B}" }) else { return (scalars, false) }
        var screen: [Unicode.Scalar] = []
        var cursor = 0
        var escape = 0  // 1 after ESC, 2 inside a CSI sequence
        for scalar in scalars {
            if escape == 1 { escape = scalar == "[" ? 2 : 0; continue }
            if escape == 2 {
                if (0x40...0x7E).contains(scalar.value) { escape = 0 }
                continue
            }
            switch scalar {
            case "\u{1B}": escape = 1
            case "\u{8}": cursor = max(0, cursor - 1)
            case "\r": cursor = 0
            default:
                if cursor < screen.count { screen[cursor] = scalar } else { screen.append(scalar) }
                cursor += 1
            }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: screen)
        while let last = text.last, last == " " { text.removeLast() }
        return (text, true)
    }

    static func lines(of text: String) -> [SourceLine] {
        // A byte-order mark (a file saved by a Windows editor) is not part of the first line.
        let text = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        var lines: [SourceLine] = []
        var current = String.UnicodeScalarView()
        func finish() {
            if current.last == "\r" { current.removeLast() }
            let (visible, changed) = rendered(current)
            var line = line(number: lines.count + 1, scalars: visible)
            if changed {
                let original = Array(current)
                let first = original.firstIndex { $0 == "\u{8}" || $0 == "\r" || $0 == "\u{1B}" } ?? 0
                line.junkColumn = min(first + 1, max(1, line.endColumn))
            }
            lines.append(line)
            current = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            if scalar == "\n" { finish() } else { current.append(scalar) }
        }
        if !current.isEmpty { finish() }
        return lines
    }

    private static func line(number: Int, scalars: String.UnicodeScalarView) -> SourceLine {
        var original = ""
        original.unicodeScalars = scalars
        var normalized = String.UnicodeScalarView()
        var minusColumns: [Int] = []
        var tokens: [Token] = []
        var word = String.UnicodeScalarView()
        var wordColumn = 0
        func endWord() {
            guard !word.isEmpty else { return }
            var text = ""
            text.unicodeScalars = word
            tokens.append(Token(text: text, keyword: text.lowercased(), column: wordColumn))
            word = String.UnicodeScalarView()
        }
        var column = 0
        var controlColumn: Int?
        var documentCharacter: (column: Int, name: String, readAs: String)?
        for var scalar in scalars {
            column += 1
            if controlColumn == nil && isControl(scalar) { controlColumn = column }
            if scalar == unicodeMinus {
                minusColumns.append(column)
                scalar = "-"
            } else if let name = documentDashes[scalar] {
                if documentCharacter == nil { documentCharacter = (column, name, "`-`") }
                scalar = "-"
            } else if let name = documentSpaces[scalar] {
                if documentCharacter == nil { documentCharacter = (column, name, "a space") }
                scalar = " "
            }
            normalized.append(scalar)
            if scalar == " " || scalar == "\t" {
                endWord()
            } else {
                if word.isEmpty { wordColumn = column }
                word.append(scalar)
            }
        }
        endWord()
        var text = ""
        text.unicodeScalars = normalized
        var line = SourceLine(
            number: number, original: original, text: text, minusColumns: minusColumns,
            tokens: tokens, endColumn: column + 1, controlColumn: controlColumn)
        line.documentCharacter = documentCharacter
        return line
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        String(repeating: pad, count: max(0, width - count)) + self
    }
}
