// The usual command line in one pass: the verb and, for MAIL and RCPT, "FROM:<path>" or
// "TO:<path>" and then whole "KEYWORD=value" parameters. This reader keeps no state while it
// reads; it checks bytes against the same classes, limits and tries as the byte path
// (SMTPGrammar.swift, SMTPVocabulary.swift), compares whole tokens eight bytes at a time
// (`TokenTrie.words`, built from the tries), and leaves exactly the state `judge` would leave
// byte by byte. It takes only lines and parameters that `judge` would pass without remark;
// anything else (a refused byte, a quoted or bare path, a value near a limit, AUTH=<>) it leaves,
// from its first byte, to `judge`. The verifier and differential tests feed every case whole
// (where this reads) and byte by byte (where it never does) and require the same outcome.

extension CommandLineStateMachine {
    /// Takes the verb (and MAIL/RCPT's path and parameters) of a fresh line starting at `start`;
    /// returns where byte-by-byte judging goes on: `start` when nothing was taken, the LF's index
    /// when the whole line was.
    @inline(__always)
    mutating func takeLeadingWords(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy,
                                   advertised: UInt32) -> Int {
        // Content bytes (all but CR LF) stay below the line limit, so `tooLong` cannot apply.
        let stop = min(end, start &+ policy.commandLineLimit &- 2)
        guard let (id, _, verbEnd) = Self.token(bytes, from: start, to: stop, end: end, policy.verbTrie,
                                             words: policy.verbWords)
        else { return start }
        let verb = policy.verb(forToken: id)
        let text = ShortText(bytes, at: start, count: verbEnd &- start)
        if let lf = Self.lineEnd(bytes, at: verbEnd, end: end) {
            // The verb alone.
            (self.verb, verbText, phase, length, sawCR) = (verb, text, .afterVerb, verbEnd &- start, lf > verbEnd)
            return lf
        }
        guard verbEnd < stop, bytes[verbEnd] == 0x20 else { return start }
        var i = verbEnd &+ 1
        guard verb == .mail || verb == .rcpt, policy.inspectsParameters else {
            // Another verb's argument, or verbs only: `judge` reads it from here.
            (self.verb, verbText, verbTextDone, length) = (verb, text, true, i &- start)
            startArguments(policy: policy)
            return i
        }

        // "FROM:<" or "TO:<", the path (pathAngle), ">".
        let onMail = verb == .mail
        guard let (_, _, pathStart) = Self.token(bytes, from: i, to: stop, end: end, onMail ? policy.fromTrie : policy.toTrie,
                                              words: onMail ? policy.fromWords : policy.toWords, then: UInt8(ascii: "<"))
        else { return start }
        i = policy.classes.run(of: .pathAngle, in: bytes, from: pathStart, to: stop)
        guard i < stop, bytes[i] == UInt8(ascii: ">") else { return start }
        i &+= 1
        // `path` counts from after "<", ">" and the SP after it included.
        let pathCount = i &- pathStart
        guard pathCount < Limits.path else { return start }
        let lf = Self.lineEnd(bytes, at: i, end: end)
        guard lf != nil || (i < stop && bytes[i] == 0x20) else { return start }

        (self.verb, verbText, verbTextDone) = (verb, text, true)
        if let lf {
            (phase, count, length, sawCR) = (.path(.closed), pathCount, i &- start, lf > i)
            return lf
        }
        i &+= 1
        (phase, count, length) = (.beforeKeyword, pathCount &+ 1, i &- start)
        return takeParameters(bytes, from: i, to: end, policy: policy, advertised: advertised)
    }

    /// In `.beforeKeyword`: takes spaces and whole parameters from `start`. Returns where `judge`
    /// goes on: the first byte of a parameter not taken, or the LF's index when the line ended.
    @inline(__always)
    private mutating func takeParameters(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy,
                                         advertised: UInt32) -> Int {
        let stop = min(end, start &+ max(0, policy.commandLineLimit &- 2 &- length))
        let forVerb = policy.parameters(onMail: verb == .mail, advertised: advertised)
        var i = start
        while true {
            let spaces = i
            while i < stop, bytes[i] == 0x20 { i &+= 1 }
            length &+= i &- spaces
            if let lf = Self.lineEnd(bytes, at: i, end: end) {
                sawCR = lf > i
                return lf
            }
            guard i < stop else { return i }

            // KEYWORD "=", of a parameter still allowed here.
            let keywordStart = i
            let allowed = forVerb & ~seenParameters
            guard let (id, _, valueStart) = Self.token(bytes, from: i, to: stop, end: end, policy.parameterTrie,
                                                    words: policy.parameterWords, then: UInt8(ascii: "=")),
                  let p = SMTPParameter(rawValue: UInt8(id)), allowed & p.bit != 0
            else { return keywordStart }
            i = valueStart

            // The value, then SP or the end of the line.
            guard let (value, valueEnd, valueCount) = Self.scanValue(p, bytes, from: i, to: stop, policy: policy)
            else { return keywordStart }
            let lf = Self.lineEnd(bytes, at: valueEnd, end: end)
            guard lf != nil || (valueEnd < stop && bytes[valueEnd] == 0x20) else { return keywordStart }

            keyword = ShortText(bytes, at: keywordStart, count: i &- keywordStart)
            seenParameters |= p.bit
            parameter = p
            (phase, count) = (.value(value), valueCount)
            length &+= valueEnd &- keywordStart
            if let lf {
                // `judge` stays in the value; `finish` finds it complete.
                sawCR = lf > valueEnd
                return lf
            }
            phase = .beforeKeyword  // the SP: the value was complete
            length &+= 1
            i = valueEnd &+ 1
        }
    }

    /// A complete value of `p` from `start` that `judge` would pass, ending before `stop` at the
    /// first byte not part of it: its end, the value state `judge` would reach, and its count; nil
    /// otherwise.
    @inline(__always)
    private static func scanValue(_ p: SMTPParameter, _ bytes: Span<UInt8>, from start: Int, to stop: Int,
                                  policy: SMTPPolicy) -> (Value, end: Int, count: Int)? {
        switch p {
        case .size:
            // RFC 1870: 1*20DIGIT, not above max-data.
            var number: UInt64 = 0
            var j = start
            while j < stop, policy.classes.contains(.digit, bytes[j]) {
                guard j &- start < Limits.sizeDigits else { return nil }
                let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = times10.addingReportingOverflow(UInt64(bytes[j] &- 0x30))
                guard !overflow1, !overflow2, next <= UInt64(policy.maxData) else { return nil }
                number = next
                j &+= 1
            }
            return j > start ? (.size(number), j, j &- start) : nil
        case .body, .ret:
            let trie = p == .body ? policy.bodyValueTrie : policy.retValueTrie
            let (state, j) = run(trie, bytes, from: start, to: stop)
            return trie.accepted(state) != nil ? (.word(state), j, j &- start) : nil
        case .notify:
            // RFC 3461 §4.1: NEVER alone, or SUCCESS, FAILURE, DELAY each at most once.
            let trie = policy.notifyValueTrie
            var given: UInt8 = 0
            var j = start
            while true {
                guard let (id, state, wordEnd) = token(bytes, from: j, to: stop, end: bytes.count, trie,
                                                       words: policy.notifyWords),
                      !(id == Vocabulary.notifyNever && given != 0), given & (1 << UInt8(id)) == 0
                else { return nil }
                j = wordEnd
                guard j < stop, bytes[j] == UInt8(ascii: ","), id != Vocabulary.notifyNever else {
                    return (.notify(state, given: given), j, j &- start)
                }
                given |= 1 << UInt8(id)
                j &+= 1
            }
        case .envid:
            return xtext(bytes, from: start, to: stop, limit: Limits.envid, policy)  // RFC 3461 §4.4
        case .auth:
            // RFC 4954 §5: "<>" is left to `judge`.
            guard start < stop, bytes[start] != UInt8(ascii: "<") else { return nil }
            return xtext(bytes, from: start, to: stop, limit: Limits.xtext, policy)
        case .orcpt:
            // RFC 3461 §4.2: addr-type ";" xtext; `judge` counts the xtext from the ";".
            let j = policy.classes.run(of: .addrType, in: bytes, from: start, to: stop)
            guard j > start, j < stop, bytes[j] == UInt8(ascii: ";") else { return nil }
            return xtext(bytes, from: j &+ 1, to: stop, limit: Limits.xtext, policy)
        }
    }

    /// RFC 3461 §4: 1 to `limit` bytes of xtext (xchar, or "+" and two upper-case hex digits).
    @inline(__always)
    private static func xtext(_ bytes: Span<UInt8>, from start: Int, to stop: Int, limit: Int,
                              _ policy: SMTPPolicy) -> (Value, end: Int, count: Int)? {
        var j = start
        while true {
            j = policy.classes.run(of: .xchar, in: bytes, from: j, to: stop)
            guard j < stop, bytes[j] == UInt8(ascii: "+") else { break }
            guard j &+ 2 < stop, policy.classes.contains(.upperHex, bytes[j &+ 1]), policy.classes.contains(.upperHex, bytes[j &+ 2])
            else { return nil }
            j &+= 3
        }
        guard j > start, j &- start <= limit else { return nil }
        return (.xtext(.char), j, j &- start)
    }

    /// A whole token of `trie` at `start`, and the byte `then` after it if given: the token's id,
    /// the trie's state after it, and where what was matched ends. One compare when one of
    /// `words` (built with `then`) matches and eight bytes are there, else the trie byte by byte;
    /// nil when no token is whole there before `stop`.
    @inline(__always)
    private static func token(_ bytes: Span<UInt8>, from start: Int, to stop: Int, end: Int, _ trie: TokenTrie,
                              words: [TokenTrie.Word], then: UInt8? = nil)
        -> (id: Int, state: TokenTrie.State, end: Int)? {
        if start &+ 8 <= end {
            let loaded = ByteWords.load(bytes, at: start)
            for word in words where word.pattern.matches(loaded) {
                return start &+ word.count <= stop ? (word.id, word.state, start &+ word.count) : nil
            }
        }
        var state = TokenTrie.start
        var i = start
        while i < stop {
            state = trie.step(state, bytes[i])
            if state == TokenTrie.dead { return nil }
            i &+= 1
            guard let id = trie.accepted(state) else { continue }
            guard let then else { return (id, state, i) }
            return i < stop && bytes[i] == then ? (id, state, i &+ 1) : nil
        }
        return nil
    }

    /// Steps `trie` from its start while bytes continue a token.
    @inline(__always)
    private static func run(_ trie: TokenTrie, _ bytes: Span<UInt8>, from start: Int, to stop: Int)
        -> (TokenTrie.State, Int) {
        var state = TokenTrie.start
        var j = start
        while j < stop {
            let next = trie.step(state, bytes[j])
            if next == TokenTrie.dead { break }
            state = next
            j &+= 1
        }
        return (state, j)
    }

    /// The index of the LF when the line ends at `i` (LF, or CR LF), else nil.
    @inline(__always)
    static func lineEnd(_ bytes: Span<UInt8>, at i: Int, end: Int) -> Int? {
        guard i < end else { return nil }
        if bytes[i] == 0x0A { return i }
        if bytes[i] == 0x0D && i &+ 1 < end && bytes[i &+ 1] == 0x0A { return i &+ 1 }
        return nil
    }
}
