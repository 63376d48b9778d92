// Argument grammars of CommandLineStateMachine: parameter values, ETRN and AUTH.

extension CommandLineStateMachine {
    /// One byte of a MAIL/RCPT parameter value.
    mutating func valueByte(_ byte: UInt8, policy: SMTPPolicy) {
        guard let parameter else { preconditionFailure("value phase without a parameter") }
        if byte == 0x20 {
            if let problem = valueComplete(policy: policy) { return fail(.parameter(problem)) }
            phase = .beforeKeyword
            return
        }
        count += 1
        switch parameter {
        case .size:
            // RFC 1870: size-value ::= 1*20DIGIT; above max-data is refused (BEHAVIOR.md §4).
            guard let digit = Self.digit(byte), count <= 20 else { return fail(.parameter(.malformed)) }
            let (times10, overflow1) = number.multipliedReportingOverflow(by: 10)
            let (value, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2, value <= UInt64(policy.maxData) else {
                return fail(.parameter(.sizeAboveMaxData))
            }
            number = value
        case .body:
            enumerated(byte, policy.bodyValueTrie)
        case .ret:
            enumerated(byte, policy.retValueTrie)
        case .notify:
            notify(byte, policy.notifyValueTrie)
        case .envid:
            xtext(byte, limit: 100)  // RFC 3461 §4.4: at most 100 characters
        case .auth:
            // RFC 4954 §5: AUTH=xtext or AUTH=<>
            if count == 1 && byte == UInt8(ascii: "<") { sub = 3; return }
            if sub == 3 { if byte == UInt8(ascii: ">") { sub = 4 } else { fail(.parameter(.malformed)) }; return }
            if sub == 4 { return fail(.parameter(.malformed)) }
            xtext(byte, limit: 500)
        case .orcpt:
            // RFC 3461 §4.2: ORCPT=addr-type ";" xtext
            if sub == 8 {
                if byte == UInt8(ascii: ";") {
                    if count == 1 { return fail(.parameter(.malformed)) }
                    (sub, count) = (0, 0)
                } else if !(Self.isAlphanumeric(byte) || byte == UInt8(ascii: "-")) {
                    fail(.parameter(.malformed))
                }
                return
            }
            xtext(byte, limit: 500)
        }
    }

    /// Whether the value read so far is complete; the problem if not.
    func valueComplete(policy: SMTPPolicy) -> ParameterProblem? {
        guard let parameter else { return nil }
        switch parameter {
        case .size:
            return count == 0 ? .missingValue : nil
        case .body:
            return policy.bodyValueTrie.accepted(token) == nil ? (count == 0 ? .missingValue : .malformed) : nil
        case .ret:
            return policy.retValueTrie.accepted(token) == nil ? (count == 0 ? .missingValue : .malformed) : nil
        case .notify:
            return policy.notifyValueTrie.accepted(token) == nil ? (count == 0 ? .missingValue : .malformed) : nil
        case .envid, .auth:
            if count == 0 { return .missingValue }
            return sub == 0 || sub == 4 ? nil : .malformed
        case .orcpt:
            return sub != 0 || count == 0 ? .malformed : nil
        }
    }

    private mutating func enumerated(_ byte: UInt8, _ trie: TokenTrie) {
        let next = trie.step(token, byte)
        guard next != TokenTrie.dead else { return fail(.parameter(.malformed)) }
        token = next
    }

    /// RFC 3461 §4.1: NEVER alone, or a comma list of SUCCESS, FAILURE, DELAY, each at most once.
    /// `sub` holds the words already seen as bits.
    private mutating func notify(_ byte: UInt8, _ trie: TokenTrie) {
        if byte == UInt8(ascii: ",") {
            guard let id = trie.accepted(token), id != Vocabulary.notifyNever else {
                return fail(.parameter(.malformed))
            }
            sub |= 1 << UInt8(id)
            token = TokenTrie.start
            return
        }
        let next = trie.step(token, byte)
        guard next != TokenTrie.dead else { return fail(.parameter(.malformed)) }
        token = next
        if let id = trie.accepted(next) {
            if (id == Vocabulary.notifyNever && sub != 0) || sub & (1 << UInt8(id)) != 0 {
                fail(.parameter(.malformed))
            }
        }
    }

    /// RFC 3461 §4: xtext = *( xchar / "+" 2HEXDIG ), xchar = "!".."~" except "+" and "=".
    /// `sub` is 0 outside an escape, 1 or 2 after "+" and one hex digit.
    private mutating func xtext(_ byte: UInt8, limit: Int) {
        if count > limit { return fail(.parameter(.tooLong)) }
        switch sub {
        case 0:
            if byte == UInt8(ascii: "+") { sub = 1 }
            else if byte < 0x21 || byte > 0x7E || byte == UInt8(ascii: "=") { fail(.parameter(.malformed)) }
        default:
            guard Self.isUpperHex(byte) else { return fail(.parameter(.malformed)) }
            sub = sub == 1 ? 2 : 0
        }
    }

    /// RFC 1985 §5: ETRN SP [ "@" / "#" ] node-name, one argument.
    mutating func etrnByte(_ byte: UInt8) {
        if byte == 0x20 {
            if count == 0 { fail(.parameter(.malformed)) } else { phase = .trailing }
            return
        }
        count += 1
        if count > 255 { return fail(.parameter(.tooLong)) }
        if count == 1 && (byte == UInt8(ascii: "@") || byte == UInt8(ascii: "#")) { return }
        if !(Self.isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_")) {
            fail(.parameter(.malformed))
        }
    }

    /// RFC 4954 §4: AUTH SP mechanism [SP initial-response]; mechanism 1*20 of [A-Z0-9-_]
    /// (RFC 4422 §3.1), initial response base64 or "=".
    mutating func authByte(_ byte: UInt8) {
        if phase == .authMechanism {
            if byte == 0x20 {
                if count == 0 { return fail(.parameter(.malformed)) }
                (phase, count) = (.authResponse, 0)
                return
            }
            count += 1
            if count > 20 { return fail(.parameter(.tooLong)) }
            if !(Self.isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")) {
                fail(.parameter(.malformed))
            }
            return
        }
        if byte == 0x20 {
            if count == 0 { fail(.parameter(.malformed)) } else { phase = .trailing }
            return
        }
        count += 1
        if !(Self.isAlphanumeric(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
            || byte == UInt8(ascii: "=")) {
            fail(.parameter(.malformed))
        }
    }

    @inline(__always)
    static func digit(_ byte: UInt8) -> UInt8? {
        byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : nil
    }

    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
    }

    @inline(__always)
    static func isUpperHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46)
    }
}
