// Reads one client command line, one byte at a time, and says for each byte whether it may reach
// the server unchanged (docs/behaviour.md §2, §4). The byte classes and limits named here are in
// SMTPGrammar.swift; the argument phases are in +Arguments, the run skipping in +Runs.
//
// Transitions (phase, byte) → phase; in each phase a byte of its class stays (counted against
// its limit), the bytes listed move on, and any other byte makes the line illegal (`masking`):
//   verb(trie)       a letter continuing an allowed verb → verb; verb complete → afterVerb
//   afterVerb        SP → the verb's arguments (esmtp) or free (smtp, and verbs without grammar)
//   free             freeText
//   prefix(trie)     "FROM:" (MAIL) / "TO:" (RCPT), case-insensitive → beforePath  RFC 5321 §4.1.1.2-3
//   beforePath       SP → beforePath; "<" → path(angle); ">", 8-bit refused; other → path(bare)
//   path(angle)      pathAngle; ">" → path(closed); DQUOTE → path(quoted)      ≤ Limits.path
//   path(quoted)     pathQuoted; DQUOTE → path(angle); "\" → path(quotedEscape)
//   path(quotedEscape) quotedPair → path(quoted)
//   path(bare)       pathBare; SP → beforeKeyword
//   path(closed)     SP → beforeKeyword
//   beforeKeyword    SP → beforeKeyword; else → keyword                          RFC 5321 §4.1.2
//   keyword(trie)    a byte continuing an allowed parameter of this command whose extension was
//                    advertised and that was not given before → keyword; "=" → value
//   value(…)         per parameter (+Arguments): SIZE digits ≤ max-data (RFC 1870), BODY/RET
//                    words (RFC 6152, 3461), NOTIFY list (RFC 3461 §4.1), ENVID/AUTH xtext
//                    (RFC 3461 §4, RFC 4954 §5), ORCPT addrType ";" xtext; SP → beforeKeyword
//   etrn             nodeNameStart, then nodeName; SP → trailing  ≤ Limits.nodeName  RFC 1985 §5
//   authMechanism    mechanism; SP → authResponse        ≤ Limits.mechanism          RFC 4954 §4
//   authResponse     base64; SP → trailing
//   trailing         SP
//   masking          every byte is masked to the end of the line; entered after the verb's SP,
//                    the line is still that verb's command to the server (`maskedInArguments`)
// CR and LF are never masked. LF ends the line (servers such as Postfix accept a bare LF); a CR not
// followed by LF makes the rest of the line illegal, and so do `control` bytes in any phase.
// Content longer than the line limit minus CRLF makes the rest of the line illegal. Problems
// found only at the end of the line (an incomplete verb or argument) cannot be masked: the line
// passes, the server refuses it, and an event reports it.

/// A problem with a command line: where it was found decides whether bytes could be masked.
enum LineProblem: Equatable {
    case command(CommandProblem)
    case parameter(ParameterProblem)
    case tooLong
    /// Plaintext after STARTTLS before its reply (reported once per STARTTLS, not per line).
    case injection
}

struct CommandLineStateMachine {
    enum Phase: Equatable {
        /// The verb's trie state.
        case verb(TokenTrie.State)
        case afterVerb
        case free
        /// The state in "FROM:" / "TO:".
        case prefix(TokenTrie.State)
        case beforePath
        case path(Path)
        case beforeKeyword
        /// The parameter trie's state, and the parameters still allowed on this line.
        case keyword(TokenTrie.State, allowed: UInt32)
        case value(Value)
        case etrn
        case authMechanism
        case authResponse
        case trailing
        case masking
    }

    /// Where in a MAIL/RCPT path the line is.
    enum Path: Equatable {
        case angle, quoted, quotedEscape, bare, closed
    }

    /// Where in a parameter's value the line is (`parameter` says which).
    enum Value: Equatable {
        /// SIZE: the number so far.
        case size(UInt64)
        /// BODY, RET: the state in the value's trie.
        case word(TokenTrie.State)
        /// NOTIFY: the state in the current word, and the words already given (bits by token id).
        case notify(TokenTrie.State, given: UInt8)
        /// ORCPT before its ";".
        case addrType
        /// ENVID, AUTH=, ORCPT after ";".
        case xtext(XText)
        /// AUTH=<>: whether the ">" came.
        case nullMailbox(closed: Bool)
    }

    /// RFC 3461 §4 xtext: a plain xchar next, or the first or second hex digit after "+".
    enum XText: Equatable {
        case char, firstHex, secondHex
    }

    var phase: Phase = .verb(TokenTrie.start)
    /// Content bytes so far (a CR is counted once known to be bare).
    var length = 0
    /// The verb, once the bytes spell an allowed one.
    var verb: SMTPVerb?
    /// The first problem, and whether it was found in time to mask bytes.
    private(set) var problem: LineProblem?
    var sawCR = false
    /// The first word as sent (for events) and the parameter keyword being read.
    var verbText = ShortText()
    var keyword = ShortText()
    var verbTextDone = false
    /// Parameters given on this line (bits of SMTPParameter).
    var seenParameters: UInt32 = 0
    /// The parameter whose value is being read.
    var parameter: SMTPParameter?
    /// Bytes of the element being read (path, value, argument), against its `Limits`.
    var count = 0
    /// The line began while earlier commands were unanswered where RFC 2920 forbids it (set by
    /// the session when the line begins).
    var outOfTurn = false

    /// Masking began in the arguments: the verb and the SP (or a bare CR) after it reached the
    /// server, which reads the line as that verb's command (`EHLO c.exaxxxx` is an EHLO;
    /// docs/behaviour.md §3).
    private(set) var maskedInArguments = false

    var isEmpty: Bool { length == 0 && !sawCR }
    var masking: Bool { if case .masking = phase { true } else { false } }

    /// Judges one byte that is not LF; true means the byte must be masked.
    @inline(__always)
    mutating func judge(_ byte: UInt8, policy: SMTPPolicy, advertised: UInt32) -> Bool {
        if byte == 0x0D {
            if sawCR { bareCR() }  // the previous CR was bare; this one may still end the line
            sawCR = true
            return false
        }
        if sawCR {
            sawCR = false
            bareCR()
        }
        if masking || length >= policy.commandLineLimit - 2 {
            length += 1
            if !verbTextDone { collectVerbText(byte) }
            if !masking { fail(.tooLong) }
            return true
        }
        return take(byte, policy: policy, advertised: advertised)
    }

    /// Judges one content byte (not CR or LF) of a line that is neither masked nor at its length
    /// limit, with no CR pending; true means the byte must be masked.
    @inline(__always)
    private mutating func take(_ byte: UInt8, policy: SMTPPolicy, advertised: UInt32) -> Bool {
        length += 1
        if !verbTextDone { collectVerbText(byte) }
        if policy.classes.contains(.control, byte) {
            fail(.command(.controlCharacter))
            return true
        }
        step(byte, policy: policy, advertised: advertised)
        return masking
    }

    /// The first word as sent, for events: every byte up to the first SP.
    @inline(__always)
    private mutating func collectVerbText(_ byte: UInt8) {
        if byte == 0x20 { verbTextDone = true } else { verbText.append(byte) }
    }

    /// Takes the bytes from `start` that pass: runs of a phase's class (`run`, +Runs) and single
    /// bytes that move the phase on, exactly as `judge` would take them one by one. Stops at the
    /// end, at CR or LF, at the line's length limit (all left to `judge`), or at a byte that makes
    /// the line illegal: that byte is taken, and `masking` says so.
    @inline(__always)
    mutating func pass(_ bytes: Span<UInt8>, from start: Int, to end: Int, policy: SMTPPolicy,
                       advertised: UInt32) -> Int {
        guard !sawCR && !masking else { return start }
        // Every byte taken here adds one to `length`: the limit is an index.
        let limit = min(end, start &+ max(0, policy.commandLineLimit &- 2 &- length))
        var i = start
        while i < limit {
            i = run(bytes, from: i, to: limit, policy: policy)
            if i == limit { break }
            let byte = bytes[i]
            if byte == 0x0D || byte == 0x0A { break }
            if take(byte, policy: policy, advertised: advertised) { break }
            i &+= 1
        }
        return i
    }

    /// At LF: the line is complete. Returns a problem found only now (nothing could be masked).
    mutating func finish(policy: SMTPPolicy) -> LineProblem? {
        if problem != nil { return nil }
        let late: LineProblem?
        switch phase {
        case .verb: late = length == 0 ? nil : .command(.incompleteVerb)
        case .afterVerb:
            // MAIL, RCPT, ETRN and AUTH need an argument (RFC 5321 §4.1.1, RFC 1985, RFC 4954).
            let needsArgument = verb == .mail || verb == .rcpt || verb == .etrn || verb == .auth
            late = policy.inspectsParameters && needsArgument ? .parameter(.missingValue) : nil
        case .free, .path(.closed), .path(.bare), .beforeKeyword, .trailing, .masking: late = nil
        case .prefix, .beforePath, .path: late = .parameter(.malformed)
        case .keyword: late = .parameter(.missingValue)
        case let .value(value): late = complete(value, policy: policy).map { .parameter($0) }
        case .etrn, .authMechanism, .authResponse: late = count == 0 ? .parameter(.missingValue) : nil
        }
        problem = late
        return late
    }

    /// The transition function (the table at the top of the file).
    private mutating func step(_ byte: UInt8, policy: SMTPPolicy, advertised: UInt32) {
        switch phase {
        case let .verb(state):
            let next = policy.verbTrie.step(state, byte)
            guard next != TokenTrie.dead else { return fail(.command(.verbNotAllowed)) }
            if let id = policy.verbTrie.accepted(next) {
                verb = policy.verb(forToken: id)
                phase = .afterVerb
            } else {
                phase = .verb(next)
            }
        case .afterVerb:
            guard byte == 0x20 else { return fail(.command(.verbNotAllowed)) }
            startArguments(policy: policy)
        case .free:
            break  // `judge` refused the controls; every other byte is free text
        case let .prefix(state):
            let trie = verb == .mail ? policy.fromTrie : policy.toTrie
            let next = trie.step(state, byte)
            guard next != TokenTrie.dead else { return fail(.parameter(.malformed)) }
            phase = trie.accepted(next) != nil ? .beforePath : .prefix(next)
        case .beforePath:
            beforePath(byte)
        case let .path(part):
            path(part, byte, policy)
        case .beforeKeyword:
            if byte == 0x20 { return }
            keyword = ShortText()
            let allowed = policy.parameters(onMail: verb == .mail, advertised: advertised) & ~seenParameters
            keywordByte(byte, state: TokenTrie.start, allowed: allowed, policy: policy, advertised: advertised)
        case let .keyword(state, allowed):
            keywordByte(byte, state: state, allowed: allowed, policy: policy, advertised: advertised)
        case let .value(value):
            valueByte(byte, value, policy: policy)
        case .etrn:
            etrnByte(byte, policy)
        case .authMechanism, .authResponse:
            authByte(byte, policy)
        case .trailing:
            if byte != 0x20 { fail(.parameter(.extraArgument)) }
        case .masking:
            break
        }
    }

    mutating func startArguments(policy: SMTPPolicy) {
        guard policy.inspectsParameters, let verb else { phase = .free; return }
        count = 0
        switch verb {
        case .mail, .rcpt: phase = .prefix(TokenTrie.start)
        case .etrn: phase = .etrn
        case .auth: phase = .authMechanism
        default: phase = .free
        }
    }

    /// Parameters legal on MAIL (or RCPT) given the advertised extensions (as bits of
    /// SMTPParameter); the policy keeps a table of them.
    static func parameterMask(onMail: Bool, advertised: UInt32) -> UInt32 {
        precondition(SMTPParameter.allCases.allSatisfy { $0.requires.rawValue < 7 })
        var mask: UInt32 = 0
        for p in SMTPParameter.allCases where p.onMail == onMail && advertised & p.requires.bit != 0 {
            mask |= p.bit
        }
        return mask
    }

    /// The number `debug ip inspect smtp` prints as `cmd_re_state` once the verb is read (the
    /// seed's numbering of argument phases, kept for the trace's readers).
    var traceState: Int {
        switch phase {
        case let .verb(state): Int(state)
        case .afterVerb: 2
        case .free: 3
        case .prefix: 4
        case .beforePath: 5
        case .path(.angle): 6
        case .path(.quoted): 7
        case .path(.quotedEscape): 8
        case .path(.bare): 9
        case .path(.closed): 10
        case .beforeKeyword: 11
        case .keyword: 12
        case .value: 13
        case .etrn: 14
        case .authMechanism: 15
        case .authResponse: 16
        case .trailing: 17
        case .masking: 18
        }
    }

    mutating func fail(_ why: LineProblem) {
        if problem == nil { problem = why }
        switch phase {
        case .verb, .masking: break  // no verb yet: no command
        case .afterVerb:
            // `EHLOx…` is no command; a bare CR passes, though, and servers that split words at
            // any white space read `EHLO\rx…` as an EHLO.
            maskedInArguments = why == .command(.bareCarriageReturn)
        default: maskedInArguments = true
        }
        phase = .masking
    }

    private mutating func bareCR() {
        length += 1
        if !masking { fail(.command(.bareCarriageReturn)) }
    }
}
