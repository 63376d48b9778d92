// The argument phases of CommandLineStateMachine, one byte at a time: MAIL/RCPT paths, parameter
// keywords and values, ETRN and AUTH. Each phase takes the bytes of its class in SMTPGrammar.swift
// and counts them against its limit there; +Runs takes runs of the same classes at once.

extension CommandLineStateMachine {
    /// RFC 5321 §4.1.2 Reverse-path / Forward-path, with Postfix's tolerance of spaces after the
    /// colon and of a path without angle brackets.
    @inline(__always)
    mutating func beforePath(_ byte: UInt8) {
        switch byte {
        case 0x20: break
        case UInt8(ascii: "<"): (phase, count) = (.path(.angle), 0)
        case UInt8(ascii: ">"), 0x80...: fail(.parameter(.malformed))
        default: (phase, count) = (.path(.bare), 0)  // the bare path's first byte is not counted
        }
    }

    @inline(__always)
    mutating func path(_ part: Path, _ byte: UInt8, _ policy: SMTPPolicy) {
        count += 1
        if count > Limits.path { return fail(.parameter(.tooLong)) }
        switch part {
        case .angle:
            if byte == UInt8(ascii: ">") { phase = .path(.closed) }
            else if byte == UInt8(ascii: "\"") { phase = .path(.quoted) }
            else if !policy.classes.contains(.pathAngle, byte) { fail(.parameter(.malformed)) }
        case .quoted:
            if byte == UInt8(ascii: "\"") { phase = .path(.angle) }
            else if byte == UInt8(ascii: "\\") { phase = .path(.quotedEscape) }
            else if !policy.classes.contains(.pathQuoted, byte) { fail(.parameter(.malformed)) }
        case .quotedEscape:
            if policy.classes.contains(.quotedPair, byte) { phase = .path(.quoted) } else { fail(.parameter(.malformed)) }
        case .bare:
            if byte == 0x20 { phase = .beforeKeyword }
            else if !policy.classes.contains(.pathBare, byte) { fail(.parameter(.malformed)) }
        case .closed:
            if byte == 0x20 { phase = .beforeKeyword } else { fail(.parameter(.malformed)) }
        }
    }

    /// RFC 5321 §4.1.2 esmtp-keyword, from the parameters `allowed` on this line; "=" starts the
    /// value.
    @inline(__always)
    mutating func keywordByte(_ byte: UInt8, state: TokenTrie.State, allowed: UInt32, policy: SMTPPolicy,
                              advertised: UInt32) {
        keyword.append(byte)
        let trie = policy.parameterTrie
        if byte == UInt8(ascii: "=") {
            guard let id = trie.accepted(state), let p = SMTPParameter(rawValue: UInt8(id)), allowed & p.bit != 0
            else { return fail(.parameter(classify(state, trie: trie, advertised: advertised))) }
            seenParameters |= p.bit
            parameter = p
            count = 0
            switch p {
            case .size: phase = .value(.size(0))
            case .body, .ret: phase = .value(.word(TokenTrie.start))
            case .notify: phase = .value(.notify(TokenTrie.start, given: 0))
            case .orcpt: phase = .value(.addrType)
            case .envid, .auth: phase = .value(.xtext(.char))
            }
            return
        }
        if byte == 0x20 { return fail(.parameter(.missingValue)) }
        let next = trie.step(state, byte)
        guard next != TokenTrie.dead, trie.reachable(next) & allowed != 0 else {
            return fail(.parameter(classify(next, trie: trie, advertised: advertised)))
        }
        phase = .keyword(next, allowed: allowed)
    }

    /// Which rule a keyword broke, judged on the parameters still reachable from its state.
    private func classify(_ state: TokenTrie.State, trie: TokenTrie, advertised: UInt32) -> ParameterProblem {
        let reachable = state == TokenTrie.dead ? 0 : trie.reachable(state)
        let forVerb = Self.parameterMask(onMail: verb == .mail, advertised: ~0)
        if reachable == 0 { return .unknownParameter }
        if reachable & forVerb == 0 { return .wrongCommand }
        if reachable & Self.parameterMask(onMail: verb == .mail, advertised: advertised) == 0 { return .notAdvertised }
        return .duplicate
    }

    /// The trie of BODY's or RET's words.
    func wordTrie(_ policy: SMTPPolicy) -> TokenTrie {
        parameter == .body ? policy.bodyValueTrie : policy.retValueTrie
    }

    /// One byte of a MAIL/RCPT parameter value.
    @inline(__always)
    mutating func valueByte(_ byte: UInt8, _ value: Value, policy: SMTPPolicy) {
        if byte == 0x20 {
            if let problem = complete(value, policy: policy) { return fail(.parameter(problem)) }
            phase = .beforeKeyword
            return
        }
        count += 1
        switch value {
        case let .size(number):
            // RFC 1870: size-value ::= 1*20DIGIT; above max-data is refused (docs/behaviour.md §4).
            guard policy.classes.contains(.digit, byte), count <= Limits.sizeDigits else {
                return fail(.parameter(.malformed))
            }
            let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.addingReportingOverflow(UInt64(byte &- 0x30))
            guard !overflow1, !overflow2, next <= UInt64(policy.maxData) else {
                return fail(.parameter(.sizeAboveMaxData))
            }
            phase = .value(.size(next))
        case let .word(state):
            // RFC 6152 BODY=7BIT/8BITMIME, RFC 3461 §4.3 RET=FULL/HDRS.
            let next = wordTrie(policy).step(state, byte)
            guard next != TokenTrie.dead else { return fail(.parameter(.malformed)) }
            phase = .value(.word(next))
        case let .notify(state, given):
            notify(byte, state, given, policy.notifyValueTrie)
        case .addrType:
            // RFC 3461 §4.2: ORCPT=addr-type ";" xtext
            if byte == UInt8(ascii: ";") {
                if count == 1 { return fail(.parameter(.malformed)) }
                (phase, count) = (.value(.xtext(.char)), 0)
            } else if !policy.classes.contains(.addrType, byte) {
                fail(.parameter(.malformed))
            }
        case let .xtext(position):
            // RFC 4954 §5: AUTH=xtext or AUTH=<>
            if parameter == .auth && count == 1 && byte == UInt8(ascii: "<") {
                phase = .value(.nullMailbox(closed: false))
                return
            }
            xtext(byte, position, policy)
        case let .nullMailbox(closed):
            if closed || byte != UInt8(ascii: ">") { return fail(.parameter(.malformed)) }
            phase = .value(.nullMailbox(closed: true))
        }
    }

    /// The problem if the value read so far is not complete.
    func complete(_ value: Value, policy: SMTPPolicy) -> ParameterProblem? {
        switch value {
        case .size:
            return count == 0 ? .missingValue : nil
        case let .word(state):
            return wordTrie(policy).accepted(state) == nil ? (count == 0 ? .missingValue : .malformed) : nil
        case let .notify(state, _):
            return policy.notifyValueTrie.accepted(state) == nil ? (count == 0 ? .missingValue : .malformed) : nil
        case .addrType:
            return .malformed
        case let .xtext(position):
            if parameter == .orcpt { return position != .char || count == 0 ? .malformed : nil }
            if count == 0 { return .missingValue }
            return position == .char ? nil : .malformed
        case let .nullMailbox(closed):
            return closed ? nil : .malformed
        }
    }

    /// RFC 3461 §4.1: NEVER alone, or a comma list of SUCCESS, FAILURE, DELAY, each at most once.
    @inline(__always)
    private mutating func notify(_ byte: UInt8, _ state: TokenTrie.State, _ given: UInt8, _ trie: TokenTrie) {
        if byte == UInt8(ascii: ",") {
            guard let id = trie.accepted(state), id != Vocabulary.notifyNever else {
                return fail(.parameter(.malformed))
            }
            phase = .value(.notify(TokenTrie.start, given: given | 1 << UInt8(id)))
            return
        }
        let next = trie.step(state, byte)
        guard next != TokenTrie.dead else { return fail(.parameter(.malformed)) }
        if let id = trie.accepted(next), (id == Vocabulary.notifyNever && given != 0) || given & (1 << UInt8(id)) != 0 {
            return fail(.parameter(.malformed))
        }
        phase = .value(.notify(next, given: given))
    }

    /// RFC 3461 §4: xtext = *( xchar / "+" 2HEXDIG ), hex digits upper-case.
    @inline(__always)
    private mutating func xtext(_ byte: UInt8, _ position: XText, _ policy: SMTPPolicy) {
        if count > (parameter == .envid ? Limits.envid : Limits.xtext) { return fail(.parameter(.tooLong)) }
        switch position {
        case .char:
            if byte == UInt8(ascii: "+") { phase = .value(.xtext(.firstHex)) }
            else if !policy.classes.contains(.xchar, byte) { fail(.parameter(.malformed)) }
        case .firstHex, .secondHex:
            guard policy.classes.contains(.upperHex, byte) else { return fail(.parameter(.malformed)) }
            phase = .value(.xtext(position == .firstHex ? .secondHex : .char))
        }
    }

    /// RFC 1985 §5: ETRN SP [ "@" / "#" ] node-name, one argument.
    mutating func etrnByte(_ byte: UInt8, _ policy: SMTPPolicy) {
        if byte == 0x20 {
            if count == 0 { fail(.parameter(.malformed)) } else { phase = .trailing }
            return
        }
        count += 1
        if count > Limits.nodeName { return fail(.parameter(.tooLong)) }
        if !policy.classes.contains(count == 1 ? .nodeNameStart : .nodeName, byte) { fail(.parameter(.malformed)) }
    }

    /// RFC 4954 §4: AUTH SP mechanism [SP initial-response].
    mutating func authByte(_ byte: UInt8, _ policy: SMTPPolicy) {
        let inMechanism = if case .authMechanism = phase { true } else { false }
        if byte == 0x20 {
            if count == 0 { fail(.parameter(.malformed)) }
            else if inMechanism { (phase, count) = (.authResponse, 0) }
            else { phase = .trailing }
            return
        }
        count += 1
        if inMechanism && count > Limits.mechanism { return fail(.parameter(.tooLong)) }
        if !policy.classes.contains(inMechanism ? .mechanism : .base64, byte) { fail(.parameter(.malformed)) }
    }
}
