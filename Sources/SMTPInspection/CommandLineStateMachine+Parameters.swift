// MAIL and RCPT parameters in one pass, after `takeLeadingWords` has read the path: each
// "KEYWORD=value" is taken whole when `judge` would pass every byte of it without remark and the
// value is complete (RFC 1870, 3461, 4954, 6152 as CommandLineStateMachine+Values.swift reads
// them). The state left after each parameter is what `judge` leaves byte by byte. A parameter
// that is anything else (refused, not advertised, repeated, malformed, near a limit, AUTH=<>) is
// not taken: `judge` reads it from its first byte, in `.beforeKeyword`, as it would have.

extension CommandLineStateMachine {
    /// A value read in one pass: where it ends and the value state `judge` would have there.
    struct ValueScan {
        var end: Int
        var token: TokenTrie.State = TokenTrie.start
        var number: UInt64 = 0
        var count: Int
        var sub: UInt8 = 0
    }

    /// In `.beforeKeyword`, with `verbTextDone` and no CR seen: takes spaces and whole parameters
    /// from `start`. Returns where `judge` goes on: the first byte of a parameter not taken, or the
    /// LF's index when the line ended.
    @inline(__always)
    mutating func takeParameters(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy,
                                 advertised: UInt32) -> Int {
        // Content bytes stay within the line limit, so `tooLong` cannot apply to what is taken.
        let stop = min(end, start + max(0, policy.commandLineLimit - 2 - length))
        let trie = policy.parameterTrie
        let forVerb = Self.parameterMask(verb: verb, advertised: advertised)
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

            // KEYWORD "=": each byte must continue a parameter still allowed here.
            let keywordStart = i
            let allowed = forVerb & ~seenParameters
            var taken: SMTPParameter?
            if i &+ 8 <= end {
                // "KEYWORD=" of an allowed parameter in one compare.
                let word = ByteWords.load(bytes, at: i)
                for entry in policy.parameterWords
                where allowed & entry.parameter.bit != 0 && entry.pattern.matches(word) {
                    guard i &+ entry.pattern.count <= stop else { return keywordStart }
                    taken = entry.parameter
                    i &+= entry.pattern.count
                    break
                }
            }
            if taken == nil {
                var state = TokenTrie.start
                while i < stop, bytes[i] != UInt8(ascii: "=") {
                    let next = trie.step(state, bytes[i])
                    if next == TokenTrie.dead || trie.reachable(next) & allowed == 0 { return keywordStart }
                    state = next
                    i &+= 1
                }
                guard i < stop, let id = trie.accepted(state), let p = SMTPParameter(rawValue: UInt8(id)),
                      allowed & p.bit != 0
                else { return keywordStart }
                taken = p
                i &+= 1
            }
            guard let p = taken else { return keywordStart }

            // The value, then SP or the end of the line.
            guard let value = Self.scanValue(p, bytes, from: i, to: stop, policy: policy) else {
                return keywordStart
            }
            let lf = Self.lineEnd(bytes, at: value.end, end: end)
            guard lf != nil || (value.end < stop && bytes[value.end] == 0x20) else { return keywordStart }

            keyword = ShortText(bytes, at: keywordStart, count: i &- keywordStart)
            allowedParameters = allowed
            seenParameters |= p.bit
            parameter = p
            (token, number, count, sub) = (value.token, value.number, value.count, value.sub)
            length &+= value.end &- keywordStart
            if let lf {
                // `judge` stays in `.value`; `finish` finds the value complete.
                phase = .value
                sawCR = lf > value.end
                return lf
            }
            phase = .beforeKeyword  // the SP: the value was complete
            length &+= 1
            i = value.end &+ 1
        }
    }

    /// A complete, well-formed value of `p` from `start`, ending before `stop` at the first byte
    /// that is not part of it; nil when `judge` would refuse a byte of it or find it incomplete.
    @inline(__always)
    static func scanValue(_ p: SMTPParameter, _ bytes: Span<UInt8>, from start: Int, to stop: Int,
                          policy: SMTPPolicy) -> ValueScan? {
        var j = start
        switch p {
        case .size:
            // RFC 1870: 1*20DIGIT, not above max-data.
            var number: UInt64 = 0
            while j < stop, let digit = digit(bytes[j]) {
                guard j &- start < 20 else { return nil }
                let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (value, overflow2) = times10.addingReportingOverflow(UInt64(digit))
                guard !overflow1, !overflow2, value <= UInt64(policy.maxData) else { return nil }
                number = value
                j &+= 1
            }
            guard j > start else { return nil }
            return ValueScan(end: j, number: number, count: j &- start)
        case .body, .ret:
            let trie = p == .body ? policy.bodyValueTrie : policy.retValueTrie
            var state = TokenTrie.start
            while j < stop {
                let next = trie.step(state, bytes[j])
                if next == TokenTrie.dead { break }
                state = next
                j &+= 1
            }
            guard trie.accepted(state) != nil else { return nil }
            return ValueScan(end: j, token: state, count: j &- start)
        case .notify:
            // RFC 3461 §4.1: NEVER alone, or SUCCESS, FAILURE, DELAY each at most once. Each word
            // in one compare; a word that is none of them (or the chunk's end near) is left to
            // `judge`.
            var state = TokenTrie.start
            var seen: UInt8 = 0
            while j &+ 8 <= bytes.count {
                let word = ByteWords.load(bytes, at: j)
                guard let entry = policy.notifyWords.first(where: { $0.pattern.matches(word) }),
                      j &+ entry.pattern.count <= stop
                else { return nil }
                if (entry.id == Vocabulary.notifyNever && seen != 0) || seen & (1 &<< UInt8(entry.id)) != 0 {
                    return nil
                }
                state = entry.state
                j &+= entry.pattern.count
                guard j < stop, bytes[j] == UInt8(ascii: ","), entry.id != Vocabulary.notifyNever else { break }
                seen |= 1 &<< UInt8(entry.id)
                state = TokenTrie.start
                j &+= 1
            }
            guard policy.notifyValueTrie.accepted(state) != nil else { return nil }
            return ValueScan(end: j, token: state, count: j &- start, sub: seen)
        case .envid:
            return xtext(bytes, from: start, to: stop, limit: 100)  // RFC 3461 §4.4
        case .auth:
            // RFC 4954 §5: "<>" is left to `judge`.
            guard start < stop, bytes[start] != UInt8(ascii: "<") else { return nil }
            return xtext(bytes, from: start, to: stop, limit: 500)
        case .orcpt:
            // RFC 3461 §4.2: addr-type ";" xtext; `judge` counts the xtext from the ";". The usual
            // addr-type in one compare.
            if j &+ 8 <= bytes.count && j &+ policy.rfc822Word.count <= stop
                && policy.rfc822Word.matches(ByteWords.load(bytes, at: j)) {
                return xtext(bytes, from: j &+ policy.rfc822Word.count, to: stop, limit: 500)
            }
            while j < stop, isAlphanumeric(bytes[j]) || bytes[j] == UInt8(ascii: "-") { j &+= 1 }
            guard j > start, j < stop, bytes[j] == UInt8(ascii: ";") else { return nil }
            return xtext(bytes, from: j &+ 1, to: stop, limit: 500)
        }
    }

    /// RFC 3461 §4: 1 to `limit` bytes of xtext (xchar, or "+" and two upper-case hex digits).
    @inline(__always)
    private static func xtext(_ bytes: Span<UInt8>, from start: Int, to stop: Int, limit: Int) -> ValueScan? {
        var j = start
        while j < stop {
            if j &+ 8 <= stop {
                // Eight xchars at once; else go to the first byte that is not one.
                let word = ByteWords.load(bytes, at: j)
                let found = ByteWords.bytes(word, below: 0x21) | ByteWords.bytesFrom7F(word)
                    | ByteWords.bytes(word, equalTo: UInt8(ascii: "+")) | ByteWords.bytes(word, equalTo: UInt8(ascii: "="))
                if found == 0 { j &+= 8; continue }
                j &+= ByteWords.firstFlagged(found)
            }
            let byte = bytes[j]
            if byte == UInt8(ascii: "+") {
                guard j &+ 2 < stop, isUpperHex(bytes[j &+ 1]), isUpperHex(bytes[j &+ 2]) else { return nil }
                j &+= 3
            } else if isXChar(byte) {
                j &+= 1
            } else {
                break
            }
        }
        guard j > start, j &- start <= limit else { return nil }
        return ValueScan(end: j, count: j &- start)
    }
}
