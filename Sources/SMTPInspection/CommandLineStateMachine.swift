// Reads one client command line, one byte at a time, and says for each byte whether it may reach
// the server unchanged (BEHAVIOR.md §2, §4).
//
// Transitions (phase, byte) → phase; any byte not listed makes the line illegal (`masking`):
//   verb        letter continuing an allowed verb → verb; verb complete → afterVerb
//   afterVerb   SP → the verb's argument phase (esmtp) or free (smtp, and verbs without grammar)
//   free        any byte but controls → free
//   prefix      "FROM:" (MAIL) / "TO:" (RCPT), case-insensitive → beforePath   RFC 5321 §4.1.1.2-3
//   beforePath  SP → beforePath; "<" → pathAngle; other printable → pathBare
//   pathAngle   ">" → afterPath; DQUOTE → pathQuoted (with "\" escapes); SP, "<", 8-bit illegal
//   pathBare    SP → beforeKeyword
//   afterPath   SP → beforeKeyword
//   beforeKeyword SP → beforeKeyword; else → keyword                              RFC 5321 §4.1.2
//   keyword     a byte continuing an allowed parameter of this command whose extension was
//               advertised and that was not given before → keyword; "=" → value
//   value       per parameter: SIZE digits ≤ max-data (RFC 1870), BODY/RET enumerations
//               (RFC 6152, 3461), NOTIFY list (RFC 3461 §4.1), ENVID/AUTH xtext (RFC 3461 §4,
//               RFC 4954 §5), ORCPT addr-type ";" xtext; SP → beforeKeyword
//   etrn        one [@#]node name, then only spaces                             RFC 1985 §5
//   authMechanism 1-20 of [A-Z0-9-_], SP → authResponse (base64 or "=")         RFC 4954 §4
//   masking     every byte is masked to the end of the line
// CR and LF are never masked. LF ends the line (servers such as Postfix accept a bare LF); a CR not
// followed by LF makes the rest of the line illegal. Content longer than the line limit minus
// CRLF makes the rest of the line illegal. Problems found only at the end of the line (an
// incomplete verb or argument) cannot be masked: the line passes, the server refuses it, and an
// event reports it.

/// A problem with a command line: where it was found decides whether bytes could be masked.
enum LineProblem: Equatable {
    case command(CommandProblem)
    case parameter(ParameterProblem)
    case tooLong
    /// Plaintext after STARTTLS before its reply (reported once per STARTTLS, not per line).
    case injection
}

struct CommandLineStateMachine {
    enum Phase: UInt8 {
        case verb = 1, afterVerb, free
        case prefix, beforePath, pathAngle, pathQuoted, pathQuotedEscape, pathBare, afterPath
        case beforeKeyword, keyword, value
        case etrn, authMechanism, authResponse, trailing
        case masking
    }

    var phase: Phase = .verb
    /// Content bytes so far (a CR is counted once known to be bare).
    var length = 0
    /// The verb, once the bytes spell an allowed one.
    private(set) var verb: SMTPVerb?
    /// The first problem, and whether it was found in time to mask bytes.
    private(set) var problem: LineProblem?
    var sawCR = false
    /// The first word as sent (for events) and the parameter keyword being read.
    var verbText = ShortText()
    var keyword = ShortText()
    /// State in whichever trie the phase reads (verb, FROM:/TO:, keyword, enumerated value).
    var token: TokenTrie.State = TokenTrie.start
    private(set) var verbTextDone = false
    var seenParameters: UInt32 = 0
    var allowedParameters: UInt32 = 0
    // Value and argument state, used by CommandLineStateMachine+Values.swift.
    var parameter: SMTPParameter?
    var number: UInt64 = 0
    var count = 0
    /// Small sub-state of a value (xtext escapes, NOTIFY words seen, ORCPT type, AUTH=<>).
    var sub: UInt8 = 0

    var isEmpty: Bool { length == 0 && !sawCR }
    var masking: Bool { phase == .masking }

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
        length += 1
        if !verbTextDone {
            if byte == 0x20 { verbTextDone = true } else { verbText.append(byte) }
        }
        if length > policy.commandLineLimit - 2 && phase != .masking { fail(.tooLong) }
        if phase == .masking { return true }
        if (byte < 0x20 && byte != 0x09) || byte == 0x7F {
            fail(.command(.controlCharacter))
            return true
        }
        step(byte, policy: policy, advertised: advertised)
        return phase == .masking
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
        case .free, .afterPath, .beforeKeyword, .trailing, .masking: late = nil
        case .prefix, .beforePath, .pathAngle, .pathQuoted, .pathQuotedEscape:
            late = .parameter(.malformed)
        case .pathBare: late = nil
        case .keyword: late = .parameter(.missingValue)
        case .value: late = valueComplete(policy: policy).map { .parameter($0) }
        case .etrn, .authMechanism: late = count == 0 ? .parameter(.missingValue) : nil
        case .authResponse: late = count == 0 ? .parameter(.missingValue) : nil
        }
        problem = late
        return late
    }

    // MARK: - Phases

    private mutating func step(_ byte: UInt8, policy: SMTPPolicy, advertised: UInt32) {
        switch phase {
        case .verb:
            let next = policy.verbTrie.step(token, byte)
            guard next != TokenTrie.dead else { return fail(.command(.verbNotAllowed)) }
            token = next
            if let id = policy.verbTrie.accepted(next) {
                verb = policy.verb(forToken: id)
                phase = .afterVerb
            }
        case .afterVerb:
            guard byte == 0x20 else { return fail(.command(.verbNotAllowed)) }
            startArguments(policy: policy)
        case .free:
            break
        case .prefix:
            let trie = verb == .mail ? policy.fromTrie : policy.toTrie
            let next = trie.step(token, byte)
            guard next != TokenTrie.dead else { return fail(.parameter(.malformed)) }
            token = next
            if trie.accepted(next) != nil { phase = .beforePath }
        case .beforePath, .pathAngle, .pathQuoted, .pathQuotedEscape, .pathBare, .afterPath:
            path(byte)
        case .beforeKeyword, .keyword:
            keywordByte(byte, policy: policy, advertised: advertised)
        case .value:
            valueByte(byte, policy: policy)
        case .etrn:
            etrnByte(byte)
        case .authMechanism, .authResponse:
            authByte(byte)
        case .trailing:
            if byte != 0x20 { fail(.parameter(.extraArgument)) }
        case .masking:
            break
        }
    }

    mutating func startArguments(policy: SMTPPolicy) {
        guard policy.inspectsParameters, let verb else { phase = .free; return }
        token = TokenTrie.start
        count = 0
        switch verb {
        case .mail, .rcpt: phase = .prefix
        case .etrn: phase = .etrn
        case .auth: phase = .authMechanism
        default: phase = .free
        }
    }

    /// RFC 5321 §4.1.2 Reverse-path / Forward-path, with Postfix's tolerance of spaces after the
    /// colon and of a path without angle brackets. 8-bit needs SMTPUTF8, which is never offered.
    private mutating func path(_ byte: UInt8) {
        count += 1
        if count > 256 { return fail(.parameter(.tooLong)) }
        switch phase {
        case .beforePath:
            count = 0
            if byte == 0x20 { return }
            if byte == UInt8(ascii: "<") { phase = .pathAngle; return }
            if byte == UInt8(ascii: ">") || byte >= 0x80 { return fail(.parameter(.malformed)) }
            phase = .pathBare
        case .pathAngle:
            switch byte {
            case UInt8(ascii: ">"): phase = .afterPath
            case UInt8(ascii: "\""): phase = .pathQuoted
            case 0x20, 0x09, UInt8(ascii: "<"), 0x80...: fail(.parameter(.malformed))
            default: break
            }
        case .pathQuoted:
            if byte == UInt8(ascii: "\"") { phase = .pathAngle }
            else if byte == UInt8(ascii: "\\") { phase = .pathQuotedEscape }
            else if byte >= 0x80 { fail(.parameter(.malformed)) }
        case .pathQuotedEscape:
            if byte >= 0x80 { fail(.parameter(.malformed)) } else { phase = .pathQuoted }
        case .pathBare:
            if byte == 0x20 { phase = .beforeKeyword }
            else if byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte >= 0x80 {
                fail(.parameter(.malformed))
            }
        case .afterPath:
            if byte == 0x20 { phase = .beforeKeyword } else { fail(.parameter(.malformed)) }
        default:
            preconditionFailure("path() called in phase \(phase)")
        }
    }

    private mutating func keywordByte(_ byte: UInt8, policy: SMTPPolicy, advertised: UInt32) {
        if phase == .beforeKeyword {
            if byte == 0x20 { return }
            phase = .keyword
            keyword = ShortText()
            token = TokenTrie.start
            allowedParameters = Self.parameterMask(verb: verb, advertised: advertised) & ~seenParameters
        }
        keyword.append(byte)
        let trie = policy.parameterTrie
        if byte == UInt8(ascii: "=") {
            guard let id = trie.accepted(token), let p = SMTPParameter(rawValue: UInt8(id)),
                  allowedParameters & p.bit != 0
            else { return fail(.parameter(classify(token, trie: trie, advertised: advertised))) }
            seenParameters |= p.bit
            parameter = p
            phase = .value
            token = TokenTrie.start
            (number, count, sub) = (0, 0, p == .orcpt ? 8 : 0)
            return
        }
        if byte == 0x20 { return fail(.parameter(.missingValue)) }
        let next = trie.step(token, byte)
        guard next != TokenTrie.dead, trie.reachable(next) & allowedParameters != 0 else {
            return fail(.parameter(classify(next, trie: trie, advertised: advertised)))
        }
        token = next
    }

    /// Which rule a keyword broke, judged on the parameters still reachable from its state.
    private func classify(_ state: TokenTrie.State, trie: TokenTrie, advertised: UInt32) -> ParameterProblem {
        let reachable = state == TokenTrie.dead ? 0 : trie.reachable(state)
        let forVerb = Self.parameterMask(verb: verb, advertised: ~0)
        if reachable == 0 { return .unknownParameter }
        if reachable & forVerb == 0 { return .wrongCommand }
        if reachable & Self.parameterMask(verb: verb, advertised: advertised) == 0 { return .notAdvertised }
        return .duplicate
    }

    /// Parameters legal on this verb given the advertised extensions (as bits of SMTPParameter).
    static func parameterMask(verb: SMTPVerb?, advertised: UInt32) -> UInt32 {
        var mask: UInt32 = 0
        for p in SMTPParameter.allCases where p.onMail == (verb == .mail) && advertised & p.requires.bit != 0 {
            mask |= p.bit
        }
        return mask
    }

    /// Sets what `judge` leaves after the leading words of a fresh line; for
    /// `takeLeadingWords` (CommandLineStateMachine+Lines.swift), which checked those bytes.
    mutating func set(phase: Phase, verb: SMTPVerb, text: ShortText, token: TokenTrie.State, length: Int,
                      sawCR: Bool, verbTextDone: Bool, count: Int) {
        self.phase = phase
        self.verb = verb
        self.verbText = text
        self.token = token
        self.length = length
        self.sawCR = sawCR
        self.verbTextDone = verbTextDone
        self.count = count
    }

    mutating func fail(_ why: LineProblem) {
        if problem == nil { problem = why }
        phase = .masking
    }

    private mutating func bareCR() {
        length += 1
        if phase != .masking { fail(.command(.bareCarriageReturn)) }
    }
}
