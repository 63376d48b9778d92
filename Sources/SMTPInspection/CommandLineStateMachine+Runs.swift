// Runs of unremarkable bytes in a command line (an address, xtext, free text, a masked tail)
// leave the state unchanged but for counters, so they are skipped in one tight loop instead of
// one `judge` call per byte. The result is exactly what `judge` would give byte by byte (the
// verifier tests feed every case both ways).

extension CommandLineStateMachine {
    /// Whether the phase has runs `skipRun` may take (a bit test, so the per-byte path stays
    /// cheap in the phases that have none).
    @inline(__always)
    var hasRuns: Bool {
        switch phase {
        case .verb, .masking, .free, .pathAngle, .pathBare, .prefix, .keyword, .value, .etrn,
             .authMechanism, .authResponse:
            true
        case .afterVerb, .beforePath, .pathQuoted, .pathQuotedEscape, .afterPath, .beforeKeyword, .trailing:
            false
        }
    }

    /// From `start`, takes the bytes `judge` would take without a state change other than
    /// counters and the trie state; returns the index of the first byte that needs `judge`
    /// (a delimiter, a byte that completes a token, or a refused byte). Stays inside the limits.
    @inline(__always)
    mutating func skipRun(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy) -> Int {
        guard !sawCR else { return start }
        // Never skip past the byte that would make the line too long.
        let room = policy.commandLineLimit - 2 - length
        let limit = phase == .masking ? end : min(end, start + max(0, room))
        var i = start
        if phase == .verb { return verbRun(bytes, from: start, to: limit, policy.verbTrie) }
        guard verbTextDone else { return start }
        switch phase {
        case .masking:
            // A masked run may hide a control byte; it changes nothing in a masked line, and CR
            // or LF stop the search.
            i = LineBreakSearch.next(in: bytes, from: start, to: end)
        case .free:
            while i < limit, Self.isFreeText(bytes[i]) { i &+= 1 }
        case .pathAngle:
            let stop = min(limit, start + max(0, 256 - count))
            while i < stop, Self.isPathText(bytes[i]), bytes[i] != UInt8(ascii: "\"") { i &+= 1 }
            count &+= i &- start
        case .pathBare:
            let stop = min(limit, start + max(0, 256 - count))
            while i < stop, Self.isPathText(bytes[i]) { i &+= 1 }
            count &+= i &- start
        case .prefix:
            i = tokenRun(bytes, from: start, to: limit, verb == .mail ? policy.fromTrie : policy.toTrie,
                         stopBeforeAccepting: true)
        case .keyword:
            let trie = policy.parameterTrie
            var state = token
            while i < limit {
                let byte = bytes[i]
                let next = trie.step(state, byte)
                if next == TokenTrie.dead || trie.reachable(next) & allowedParameters == 0 { break }
                keyword.append(byte)
                state = next
                i &+= 1
            }
            token = state
        case .value:
            i = valueRun(bytes, from: start, to: limit, policy: policy)
        case .etrn where count > 0:
            let stop = min(limit, start + max(0, 255 - count))
            while i < stop, Self.isNodeNameText(bytes[i]) { i &+= 1 }
            count &+= i &- start
        case .authMechanism:
            let stop = min(limit, start + max(0, 20 - count))
            while i < stop, Self.isMechanismText(bytes[i]) { i &+= 1 }
            count &+= i &- start
        case .authResponse:
            while i < limit, Self.isBase64Text(bytes[i]) { i &+= 1 }
            count &+= i &- start
        default:
            return start
        }
        length &+= i &- start
        return i
    }

    @inline(__always)
    private mutating func valueRun(_ bytes: Span<UInt8>, from start: Int, to limit: Int, policy: SMTPPolicy) -> Int {
        var i = start
        switch parameter {
        case .body?:
            i = tokenRun(bytes, from: start, to: limit, policy.bodyValueTrie, stopBeforeAccepting: false)
        case .ret?:
            i = tokenRun(bytes, from: start, to: limit, policy.retValueTrie, stopBeforeAccepting: false)
        case .notify?:
            // Accepting a word checks NEVER and repeats: leave that byte to `judge`.
            i = tokenRun(bytes, from: start, to: limit, policy.notifyValueTrie, stopBeforeAccepting: true)
        case .orcpt? where sub == 8:
            // ORCPT's addr-type, before ";"
            while i < limit, Self.isAlphanumeric(bytes[i]) || bytes[i] == UInt8(ascii: "-") { i &+= 1 }
        case .envid?, .orcpt?, .auth?:
            // xtext outside an escape; AUTH's first byte may start "<>", so `judge` takes it.
            guard sub == 0, parameter != .auth || count > 0 else { return start }
            let cap = parameter == .envid ? 100 : 500
            let stop = min(limit, start + max(0, cap - count))
            while i < stop, Self.isXChar(bytes[i]) { i &+= 1 }
        default:
            return start
        }
        count &+= i &- start
        return i
    }

    /// The verb's letters up to, not including, the one that completes an allowed verb (which
    /// `judge` takes, for the phase change and the trace).
    @inline(__always)
    private mutating func verbRun(_ bytes: Span<UInt8>, from start: Int, to limit: Int, _ trie: TokenTrie) -> Int {
        var i = start
        var state = token
        while i < limit {
            let byte = bytes[i]
            let next = trie.step(state, byte)
            if next == TokenTrie.dead || trie.accepted(next) != nil { break }
            verbText.append(byte)
            state = next
            i &+= 1
        }
        token = state
        length &+= i &- start
        return i
    }

    /// Steps `trie` from `token` while bytes continue a token.
    @inline(__always)
    private mutating func tokenRun(_ bytes: Span<UInt8>, from start: Int, to limit: Int, _ trie: TokenTrie,
                                   stopBeforeAccepting: Bool) -> Int {
        var i = start
        var state = token
        while i < limit {
            let next = trie.step(state, bytes[i])
            if next == TokenTrie.dead || (stopBeforeAccepting && trie.accepted(next) != nil) { break }
            state = next
            i &+= 1
        }
        token = state
        return i
    }

    /// Bytes `.free` passes: printable, HTAB and 8-bit; not CR, LF or other controls.
    @inline(__always)
    static func isFreeText(_ b: UInt8) -> Bool {
        (b >= 0x20 && b != 0x7F) || b == 0x09
    }

    /// Bytes of a path that change nothing: printable ASCII but SP, "<", ">" (and DQUOTE inside
    /// angle brackets, checked by the caller).
    @inline(__always)
    static func isPathText(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && b != UInt8(ascii: "<") && b != UInt8(ascii: ">")
    }

    /// RFC 1985 node name bytes after the first.
    @inline(__always)
    static func isNodeNameText(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    /// RFC 4422 mechanism name bytes (case-insensitive here, as servers accept).
    @inline(__always)
    static func isMechanismText(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    /// Base64 bytes of a SASL initial response, "=" included.
    @inline(__always)
    static func isBase64Text(_ b: UInt8) -> Bool {
        isAlphanumeric(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=")
    }

    /// RFC 3461 xchar: "!".."~" except "+" and "=".
    @inline(__always)
    static func isXChar(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && b != UInt8(ascii: "+") && b != UInt8(ascii: "=")
    }
}
