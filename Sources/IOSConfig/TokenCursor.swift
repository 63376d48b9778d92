/// Reads the words of one line left to right; every failure is a `Diagnostic` that points at the
/// offending word (or at the end of the line when a word is missing).
struct TokenCursor {
    let line: SourceLine
    let file: String
    private(set) var index: Int

    init(_ line: SourceLine, file: String, skipping count: Int = 0) {
        self.line = line
        self.file = file
        index = count
    }

    var atEnd: Bool { index >= line.tokens.count }
    var remaining: ArraySlice<Token> { line.tokens[min(index, line.tokens.count)...] }

    func peek(_ offset: Int = 0) -> Token? {
        let at = index + offset
        return at < line.tokens.count ? line.tokens[at] : nil
    }

    func location(of token: Token?) -> SourceLocation {
        SourceLocation(file: file, line: line.number, column: token?.column ?? line.endColumn)
    }

    var lineLocation: SourceLocation {
        SourceLocation(file: file, line: line.number, column: line.tokens.first?.column ?? 1)
    }

    mutating func next() -> Token? {
        defer { index += 1 }
        return peek()
    }

    func error(
        _ kind: Diagnostic.Kind, at token: Token?, _ summary: String, expected: String = "",
        hint: String = ""
    ) -> Diagnostic {
        Diagnostic(
            .error, kind, at: location(of: token), summary, found: token?.text ?? "",
            expected: expected, hint: hint.isEmpty ? TokenCursor.defaultHint(kind) : hint)
    }

    /// Every error says how to fix it; these serve where the command has nothing better to say.
    static func defaultHint(_ kind: Diagnostic.Kind) -> String {
        switch kind {
        case .unknownOption, .duplicateOption:
            "write the command as `show running-config` prints it; smtp-inspect reads IOS 12.3's options"
        case .numberOutOfRange: "use a number in the range IOS accepts"
        case .badAddress: "write the address as four decimal octets, without leading zeros"
        case .badNetmask: "a netmask has contiguous one bits, like 255.255.255.0"
        case .badWildcard: "a wildcard is an inverted netmask, like 0.0.0.255"
        case .badPort: "use a port number or one of IOS's names (`access-list 101 permit tcp any any eq ?` lists them)"
        case .badProtocol: "use ip, tcp, udp, icmp, another IOS protocol name, or a number"
        case .accessListNumberOutOfRange: "standard lists are 1-99 and 1300-1999, extended 100-199 and 2000-2699"
        case .unsupported: "remove the line; smtp-inspect cannot reproduce it"
        default: "write the command as `show running-config` prints it"
        }
    }

    /// Any next word; missing is a `malformed` error.
    mutating func take(_ what: String, expected: String, hint: String = "") throws(Diagnostic) -> Token {
        guard let token = next() else {
            throw error(.malformed, at: nil, "missing \(what)", expected: expected, hint: hint)
        }
        return token
    }

    /// The next word must be one of `choices` (compared without case).
    mutating func keyword(
        _ choices: [String], what: String, kind: Diagnostic.Kind = .malformed, hint: String = ""
    ) throws(Diagnostic) -> Token {
        let expected = TokenCursor.oneOf(choices)
        let token = try take(what, expected: expected, hint: hint)
        guard choices.contains(token.keyword) else {
            throw error(kind, at: token, "unexpected \(what)", expected: expected, hint: hint)
        }
        return token
    }

    /// A decimal number within `range`.
    mutating func number(
        _ range: ClosedRange<UInt32>, what: String, hint: String = ""
    ) throws(Diagnostic) -> UInt32 {
        let expected = "\(what): a number \(range.lowerBound)-\(range.upperBound)"
        let token = try take(what, expected: expected, hint: hint)
        return try TokenCursor.number(token, range, cursor: self, what: what, hint: hint)
    }

    static func number(
        _ token: Token, _ range: ClosedRange<UInt32>, cursor: TokenCursor, what: String,
        hint: String = ""
    ) throws(Diagnostic) -> UInt32 {
        let expected = "\(what): a number \(range.lowerBound)-\(range.upperBound)"
        guard token.text.allSatisfy(\.isASCIIDigit) else {
            throw cursor.error(.malformed, at: token, "\(what) is not a number", expected: expected, hint: hint)
        }
        guard let value = UInt32(token.text), range.contains(value) else {
            throw cursor.error(.numberOutOfRange, at: token, "\(what) out of range", expected: expected, hint: hint)
        }
        return value
    }

    /// A dotted-quad IPv4 address.
    mutating func address(what: String, kind: Diagnostic.Kind = .badAddress, hint: String = "") throws(Diagnostic) -> Located<IPv4Address> {
        let expected = "\(what): four decimal octets 0-255, like 10.10.10.2"
        let token = try take(what, expected: expected, hint: hint)
        guard let address = IPv4Address(parsing: token.text) else {
            throw error(kind, at: token, "bad \(what)", expected: expected, hint: hint)
        }
        return Located(address, at: location(of: token))
    }

    /// Nothing may follow.
    func end(after what: String, hint: String = "") throws(Diagnostic) {
        if let extra = peek() {
            throw error(
                .malformed, at: extra, "unexpected word after \(what)", expected: "end of line",
                hint: hint)
        }
    }

    static func oneOf(_ choices: [String]) -> String {
        let quoted = choices.map { "`\($0)`" }
        guard quoted.count > 1 else { return quoted.first ?? "" }
        return "one of " + quoted.joined(separator: ", ")
    }
}
