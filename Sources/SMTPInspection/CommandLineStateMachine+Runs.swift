// Runs of bytes a phase takes without a transition (an address, xtext, free text, a token's
// letters, a masked tail) change nothing but counters, so they are taken in one tight loop
// instead of one `judge` call per byte. Each run reads the phase's class and limit in
// SMTPGrammar.swift, the same that `judge` reads, and stops at the first byte `judge` must see: a
// delimiter, a byte that completes a token, a refused byte, or the byte that would cross a limit.
// The verifier tests feed every case whole (runs taken) and byte by byte (never taken).

extension CommandLineStateMachine {
    /// From `start`, takes the bytes `judge` would take without a transition; returns the index of
    /// the first byte that needs `judge`.
    @inline(__always)
    mutating func skipRun(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy) -> Int {
        guard !sawCR else { return start }
        if masking {
            // A masked run may hide a control byte; it changes nothing in a masked line, and CR
            // or LF stop the search. The first word is collected byte by byte.
            guard verbTextDone else { return start }
            let i = LineBreakSearch.next(in: bytes, from: start, to: end)
            length &+= i &- start
            return i
        }
        // Never past the byte that would make the line too long.
        return run(bytes, from: start, to: min(end, start &+ max(0, policy.commandLineLimit &- 2 &- length)),
                   policy: policy)
    }

    /// The run of the phase's class from `start`, below `limit` (where the line is not too long
    /// yet), in a line that is not masked. Past the verb, the first word is complete (the SP
    /// after it moved the line on), so only the verb's run collects it.
    @inline(__always)
    mutating func run(_ bytes: Span<UInt8>, from start: Int, to limit: Int, policy: SMTPPolicy) -> Int {
        var i = start
        switch phase {
        case let .verb(state):
            // The verb's letters up to, not including, the one that completes an allowed verb
            // (which `judge` takes, for the phase change and the trace).
            var state = state
            (i, state) = tokenRun(bytes, from: start, to: limit, policy.verbTrie, from: state, stopBeforeAccepting: true)
            for k in start..<i { verbText.append(bytes[k]) }
            phase = .verb(state)
        case .free:
            i = run(.freeText, bytes, from: start, to: limit, policy)
        case .path(.angle):
            i = countedRun(.pathAngle, bytes, from: start, to: limit, max: Limits.path, policy)
        case .path(.quoted):
            i = countedRun(.pathQuoted, bytes, from: start, to: limit, max: Limits.path, policy)
        case .path(.bare):
            i = countedRun(.pathBare, bytes, from: start, to: limit, max: Limits.path, policy)
        case let .prefix(state):
            let trie = verb == .mail ? policy.fromTrie : policy.toTrie
            let (next, reached) = tokenRun(bytes, from: start, to: limit, trie, from: state, stopBeforeAccepting: true)
            (i, phase) = (next, .prefix(reached))
        case let .keyword(state, allowed):
            let trie = policy.parameterTrie
            var state = state
            while i < limit {
                let next = trie.step(state, bytes[i])
                if next == TokenTrie.dead || trie.reachable(next) & allowed == 0 { break }
                keyword.append(bytes[i])
                state = next
                i &+= 1
            }
            phase = .keyword(state, allowed: allowed)
        case let .value(value):
            i = valueRun(value, bytes, from: start, to: limit, policy: policy)
        case .etrn where count > 0:
            i = countedRun(.nodeName, bytes, from: start, to: limit, max: Limits.nodeName, policy)
        case .authMechanism:
            i = countedRun(.mechanism, bytes, from: start, to: limit, max: Limits.mechanism, policy)
        case .authResponse:
            i = run(.base64, bytes, from: start, to: limit, policy)
            count &+= i &- start
        case .afterVerb, .beforePath, .path(.quotedEscape), .path(.closed), .beforeKeyword, .etrn, .trailing, .masking:
            return start
        }
        length &+= i &- start
        return i
    }

    @inline(__always)
    private mutating func valueRun(_ value: Value, _ bytes: Span<UInt8>, from start: Int, to limit: Int,
                                   policy: SMTPPolicy) -> Int {
        var i = start
        switch value {
        case let .word(state):
            let (next, reached) = tokenRun(bytes, from: start, to: limit, wordTrie(policy), from: state,
                                           stopBeforeAccepting: false)
            (i, phase) = (next, .value(.word(reached)))
        case let .notify(state, given):
            // Completing a word checks NEVER and repeats: leave that byte to `judge`.
            let (next, reached) = tokenRun(bytes, from: start, to: limit, policy.notifyValueTrie, from: state,
                                           stopBeforeAccepting: true)
            (i, phase) = (next, .value(.notify(reached, given: given)))
        case .addrType:
            i = run(.addrType, bytes, from: start, to: limit, policy)
        case .xtext(.char) where parameter != .auth || count > 0:
            // AUTH's first byte may start "<>": `judge` takes it.
            let max = parameter == .envid ? Limits.envid : Limits.xtext
            return countedRun(.xchar, bytes, from: start, to: limit, max: max, policy)
        case .size, .xtext, .nullMailbox:
            return start
        }
        count &+= i &- start
        return i
    }

    /// The bytes of `byteClass` from `start`.
    @inline(__always)
    private func run(_ byteClass: ByteClass, _ bytes: Span<UInt8>, from start: Int, to limit: Int,
                     _ policy: SMTPPolicy) -> Int {
        policy.classes.run(of: byteClass, in: bytes, from: start, to: limit)
    }

    /// The bytes of `byteClass` from `start` while `count` stays within `max`; counts them.
    @inline(__always)
    private mutating func countedRun(_ byteClass: ByteClass, _ bytes: Span<UInt8>, from start: Int, to limit: Int,
                                     max: Int, _ policy: SMTPPolicy) -> Int {
        let i = run(byteClass, bytes, from: start, to: min(limit, start &+ Swift.max(0, max &- count)), policy)
        count &+= i &- start
        return i
    }

    /// Steps `trie` from `state` while bytes continue a token (and, if asked, do not complete one).
    @inline(__always)
    private func tokenRun(_ bytes: Span<UInt8>, from start: Int, to limit: Int, _ trie: TokenTrie,
                          from state: TokenTrie.State, stopBeforeAccepting: Bool) -> (Int, TokenTrie.State) {
        var i = start
        var state = state
        while i < limit {
            let next = trie.step(state, bytes[i])
            if next == TokenTrie.dead || (stopBeforeAccepting && trie.accepted(next) != nil) { break }
            state = next
            i &+= 1
        }
        return (i, state)
    }

    /// Whether the phase has runs `skipRun` may take (a tag test, so the per-byte path stays
    /// cheap in the phases that have none).
    @inline(__always)
    var hasRuns: Bool {
        switch phase {
        case .verb, .masking, .free, .path(.angle), .path(.quoted), .path(.bare), .prefix, .keyword, .value, .etrn,
             .authMechanism, .authResponse:
            true
        case .afterVerb, .beforePath, .path(.quotedEscape), .path(.closed), .beforeKeyword, .trailing:
            false
        }
    }
}
