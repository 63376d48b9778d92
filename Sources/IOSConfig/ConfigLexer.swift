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
    var tokens: [Token]
    /// The column just past the last character: where "missing word" errors point.
    var endColumn: Int

    /// Whether the line starts with white space (IOS prints sub-mode commands indented).
    var isIndented: Bool { (tokens.first?.column ?? 1) > 1 }
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

    static func lines(of text: String) -> [SourceLine] {
        var lines: [SourceLine] = []
        var current = String.UnicodeScalarView()
        func finish() {
            if current.last == "\r" { current.removeLast() }
            lines.append(line(number: lines.count + 1, scalars: current))
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
        for var scalar in scalars {
            column += 1
            if scalar == unicodeMinus {
                minusColumns.append(column)
                scalar = "-"
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
        return SourceLine(
            number: number, original: original, text: text, minusColumns: minusColumns,
            tokens: tokens, endColumn: column + 1)
    }
}
