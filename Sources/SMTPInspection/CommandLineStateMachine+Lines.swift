// The usual beginning of a command line in one pass: the verb and, for MAIL and RCPT, the
// "FROM:<path>" or "TO:<path>" after it and then their parameters
// (CommandLineStateMachine+Parameters.swift); for most lines that is the whole line.
//
// It applies only to a line not yet begun whose bytes are in the chunk, and it takes only bytes
// that `judge` would pass without remark. It leaves exactly the state `judge` would leave byte by
// byte, and `judge` goes on from there (parameters, other verbs' arguments). Anything else (a
// byte `judge` would refuse, a quoted or bare path, spaces before the path, a path or line near
// its limit) and it takes nothing: `judge` reads the line from its first byte. The verifier tests
// run every case whole, where this is taken, and byte by byte, where it never is, and require the
// same outcome.

extension CommandLineStateMachine {
    /// Takes the verb (and MAIL/RCPT's path and parameters) of a line that starts at `start`;
    /// returns where byte-by-byte judging goes on: `start` when nothing was taken, the LF's index
    /// when the whole line was taken. The line must be fresh (nothing read, no problem).
    @inline(__always)
    mutating func takeLeadingWords(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy,
                                   advertised: UInt32) -> Int {
        // Content bytes (all but the CR LF) stay below the line limit, so `tooLong` cannot apply.
        let stop = min(end, start + policy.commandLineLimit - 2)
        var state = TokenTrie.start
        var i = start
        var id = -1
        // A four-letter verb in one compare; else (STARTTLS, the end of the chunk near) the trie.
        if start &+ 4 <= stop && start &+ 8 <= end {
            let word = ByteWords.load(bytes, at: start)
            for entry in policy.verbWords where entry.pattern.matches(word) {
                (id, state, i) = (entry.id, entry.state, start &+ 4)
                break
            }
        }
        if id < 0 {
            let verbs = policy.verbTrie
            while i < stop {
                state = verbs.step(state, bytes[i])
                if state == TokenTrie.dead { return start }
                i &+= 1
                if let accepted = verbs.accepted(state) { id = accepted; break }
            }
            guard id >= 0 else { return start }
        }
        let verb = policy.verb(forToken: id)
        let text = ShortText(bytes, at: start, count: i &- start)

        // The verb alone: the line ends here.
        if let lf = Self.lineEnd(bytes, at: i, end: end) {
            set(phase: .afterVerb, verb: verb, text: text, token: state, length: i &- start,
                sawCR: lf > i, verbTextDone: false, count: 0)
            return lf
        }
        guard i < stop, bytes[i] == 0x20 else { return start }
        i &+= 1
        guard verb == .mail || verb == .rcpt, policy.inspectsParameters else {
            // Another verb's argument, or verbs only: `judge` reads it from here.
            set(phase: .afterVerb, verb: verb, text: text, token: state, length: i &- start,
                sawCR: false, verbTextDone: true, count: 0)
            startArguments(policy: policy)
            return i
        }

        // "FROM:" or "TO:", then "<" at once: one compare, or the trie near the chunk's end.
        let word = verb == .mail ? policy.fromWord : policy.toWord
        var prefixState = TokenTrie.start
        if i &+ 8 <= end && i &+ word.pattern.count <= stop {
            guard word.pattern.matches(ByteWords.load(bytes, at: i)) else { return start }
            prefixState = word.state
            i &+= word.pattern.count
        } else {
            let prefix = verb == .mail ? policy.fromTrie : policy.toTrie
            while i < stop {
                prefixState = prefix.step(prefixState, bytes[i])
                if prefixState == TokenTrie.dead { return start }
                i &+= 1
                if prefix.accepted(prefixState) != nil { break }
            }
            guard i < stop, prefix.accepted(prefixState) != nil, bytes[i] == UInt8(ascii: "<") else { return start }
            i &+= 1
        }

        // The path inside the angle brackets, up to and including ">" (`path()` counts them).
        let pathStart = i
        i = Self.pathTextEnd(bytes, from: i, to: stop)
        guard i < stop, bytes[i] == UInt8(ascii: ">") else { return start }
        i &+= 1
        let count = i &- pathStart
        // `path()` refuses a count above 256; the SP after ">" counts too.
        guard count < 256 else { return start }

        if let lf = Self.lineEnd(bytes, at: i, end: end) {
            set(phase: .afterPath, verb: verb, text: text, token: prefixState, length: i &- start,
                sawCR: lf > i, verbTextDone: true, count: count)
            return lf
        }
        guard i < stop, bytes[i] == 0x20 else { return start }
        i &+= 1
        set(phase: .beforeKeyword, verb: verb, text: text, token: prefixState, length: i &- start,
            sawCR: false, verbTextDone: true, count: count &+ 1)
        return takeParameters(bytes, from: i, to: end, policy: policy, advertised: advertised)
    }

    /// The first byte in `bytes[start..<end]` that is not path text inside angle brackets
    /// (`isPathText`, and not DQUOTE), or `end`; eight bytes at a time.
    @inline(__always)
    static func pathTextEnd(_ bytes: Span<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 8 <= end {
            let word = ByteWords.load(bytes, at: i)
            // SP and controls, DEL and 8-bit, DQUOTE, and "<" or ">" (0x3C, 0x3E: equal once
            // bit 1 is set).
            let found = ByteWords.bytes(word, below: 0x21) | ByteWords.bytesFrom7F(word)
                | ByteWords.bytes(word, equalTo: UInt8(ascii: "\"")) | ByteWords.bytes(word | ByteWords.splat(0x02), equalTo: 0x3E)
            if found != 0 { return i &+ ByteWords.firstFlagged(found) }
            i &+= 8
        }
        while i < end, isPathText(bytes[i]), bytes[i] != UInt8(ascii: "\"") { i &+= 1 }
        return i
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
