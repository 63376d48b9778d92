// Reads one server reply line (RFC 5321 §4.2): Reply-code [ ("-" / SP) textstring ] CRLF.
//
// Transitions (phase, byte) → phase:
//   code0      replyCode.0 ("2".."5") → code1          other → text (bad code)
//   code1      replyCode.1 ("0".."5") → code2          other → text (bad code)
//   code2      replyCode.2 ("0".."9") → separator      other → text (bad code)
//   separator  SP → text (last line)   "-" → text (more lines follow)   other → text (bad separator)
//   text       lineText → text; in an EHLO reply after its first line the text starts with a keyword
// LF ends the line (a bare LF is accepted, as clients accept it); CR is never part of the text.
// Replies are never rewritten except for two maskings decided by the session: EHLO keywords the
// policy refuses (`x`) and, when configured, the greeting's text (`*`).

struct ReplyLineStateMachine: Equatable {
    enum Phase: UInt8 { case code0 = 1, code1, code2, separator, text }

    /// What the text of this line is, as the session sees it.
    enum TextKind: UInt8 {
        case plain
        /// An EHLO keyword line: the keyword is checked against the policy's kept extensions.
        case ehloKeyword
        /// The greeting, masked with `*` (docs/behaviour.md §3 banner option).
        case maskedBanner
    }

    private(set) var phase: Phase = .code0
    private(set) var code: UInt16 = 0
    /// Bytes of the line before its terminator.
    private(set) var length = 0
    /// True unless the separator was "-".
    private(set) var isLast = true
    private(set) var problem: ReplyProblem?
    private(set) var sawCR = false
    var textKind: TextKind = .plain
    /// EHLO keyword: reading it, masking it, or past it.
    private(set) var keywordState: TokenTrie.State = TokenTrie.start
    private(set) var keywordDone = false
    private(set) var keywordMasked = false

    /// Judges one byte that is not LF; returns the mask byte, or 0 to pass it.
    @inline(__always)
    mutating func judge(_ byte: UInt8, policy: SMTPPolicy) -> UInt8 {
        if byte == 0x0D { sawCR = true; return 0 }
        if sawCR { sawCR = false; length += 1 }  // a bare CR was text
        length += 1
        switch phase {
        case .code0: digit(byte, .replyCode0, policy)
        case .code1: digit(byte, .replyCode1, policy)
        case .code2: digit(byte, .replyCode2, policy)
        case .separator:
            phase = .text
            if byte == UInt8(ascii: "-") { isLast = false }
            else if byte != 0x20 { problem = problem ?? .badSeparator }
        case .text:
            switch textKind {
            case .plain: return 0
            case .maskedBanner: return UInt8(ascii: "*")
            case .ehloKeyword: return keyword(byte, extensions: policy.extensionTrie)
            }
        }
        return 0
    }

    /// Nothing of a line read yet.
    var isFresh: Bool { phase == .code0 && length == 0 && !sawCR }

    /// The accepted EHLO keyword (a trie token id), once the keyword is complete and unmasked.
    func keptKeyword(extensions: TokenTrie) -> Int? {
        guard textKind == .ehloKeyword, !keywordMasked, phase == .text else { return nil }
        return extensions.accepted(keywordState)
    }

    /// Takes the bytes from `start` as `judge` would one at a time: the code and separator, and
    /// text that is neither a keyword nor masked, found by a line-break search (`lineText`), and
    /// the CR of a CR LF. Stops at the end, at LF, at another CR, or at a byte `judge` may mask.
    @inline(__always)
    mutating func pass(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy) -> Int {
        var i = start
        if phase == .code0 && length == 0 && !sawCR && start &+ 4 <= end {
            // Code and separator at once, when `judge` would take them as they are.
            let (c0, c1, c2, separator) = (bytes[start], bytes[start &+ 1], bytes[start &+ 2], bytes[start &+ 3])
            if policy.classes.contains(.replyCode0, c0) && policy.classes.contains(.replyCode1, c1)
                && policy.classes.contains(.replyCode2, c2)
                && (separator == 0x20 || separator == UInt8(ascii: "-")) {
                code = UInt16(c0 &- 0x30) &* 100 &+ UInt16(c1 &- 0x30) &* 10 &+ UInt16(c2 &- 0x30)
                (phase, isLast, length) = (.text, separator == 0x20, 4)
                i = start &+ 4
            }
        }
        while i < end && !sawCR {
            if phase == .text {
                guard textKind == .plain || keywordDone else { break }
                let next = LineBreakSearch.next(in: bytes, from: i, to: end)
                length &+= next &- i
                if next &+ 1 < end && bytes[next] == 0x0D && bytes[next &+ 1] == 0x0A {
                    sawCR = true  // as `judge` takes the CR of CR LF
                    return next &+ 1
                }
                return next
            }
            let byte = bytes[i]
            if byte == 0x0D || byte == 0x0A { break }
            _ = judge(byte, policy: policy)  // a code or separator byte: never masked
            i &+= 1
        }
        return i
    }

    private mutating func digit(_ byte: UInt8, _ allowed: ByteClass, _ policy: SMTPPolicy) {
        if policy.classes.contains(allowed, byte) {
            code = code * 10 + UInt16(byte - 0x30)
            phase = Phase(rawValue: phase.rawValue + 1)!
        } else {
            problem = problem ?? .badCode
            phase = .text
        }
    }

    /// RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), ended by SP
    /// (or "=" in the legacy `AUTH=` form). From the first byte that leaves every kept keyword,
    /// the rest of the keyword is masked.
    private mutating func keyword(_ byte: UInt8, extensions: TokenTrie) -> UInt8 {
        if keywordDone { return 0 }
        if byte == 0x20 || byte == UInt8(ascii: "=") {
            keywordDone = true
            if !keywordMasked && extensions.accepted(keywordState) == nil {
                keywordMasked = true  // a proper prefix of a kept keyword: not offered
            }
            return 0
        }
        if keywordMasked { return UInt8(ascii: "x") }
        let next = extensions.step(keywordState, byte)
        if next == TokenTrie.dead {
            keywordMasked = true
            return UInt8(ascii: "x")
        }
        keywordState = next
        return 0
    }
}
