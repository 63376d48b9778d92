/// Which Cisco IOS inspection a rule names.
public enum SMTPInspectionKind: String, Sendable, CaseIterable {
    /// `ip inspect name N smtp`: the 12 RFC 821 verbs, verbs only.
    case smtp
    /// `ip inspect name N esmtp`: 15 verbs and the parameter checks of BEHAVIOR.md §4.
    case esmtp
}

/// One inspection policy, compiled once and shared read-only by every session that uses it.
///
/// A session holds a reference to its policy; a reload hands sessions a new policy object, which
/// they adopt at the next command line (a verb state means nothing in another policy's trie).
public final class SMTPPolicy: Sendable {
    public let kind: SMTPInspectionKind
    /// Message bytes (DATA content) a session may send in total; more tears the session down.
    public let maxData: Int
    /// Longest command line in octets including CRLF (RFC 5321 §4.5.3.1.4).
    public let commandLineLimit: Int
    /// Longest reply line in octets including CRLF (RFC 5321 §4.5.3.1.5).
    public let replyLineLimit: Int
    /// Mask the greeting banner's text with `*`, as PIX MailGuard did (BEHAVIOR.md §3).
    public let maskBanner: Bool
    /// Let STARTTLS through; after the server's 220 the session is opaque TLS (BEHAVIOR.md §6).
    public let allowSTARTTLS: Bool

    /// The allowed verbs in trie-id order.
    public let allowedVerbs: [SMTPVerb]
    let verbTrie: TokenTrie
    /// EHLO keywords passed to the client, in trie-id order.
    let keptExtensions: [SMTPExtension]
    let extensionTrie: TokenTrie
    // The shared vocabulary, copied here (the arrays are shared, not duplicated) so the byte
    // loops reach it with a field load instead of a global's once-check.
    let parameterTrie = Vocabulary.parameterTrie
    let bodyValueTrie = Vocabulary.bodyValueTrie
    let retValueTrie = Vocabulary.retValueTrie
    let notifyValueTrie = Vocabulary.notifyValueTrie
    let fromTrie = Vocabulary.fromTrie
    let toTrie = Vocabulary.toTrie
    // Whole tokens compared eight bytes at a time by the one-pass readers
    // (CommandLineStateMachine+Lines.swift, +Parameters.swift), each with the trie state `judge`
    // would reach after it; anything else goes through the tries.
    /// The allowed four-letter verbs (all but STARTTLS), the commonest first.
    let verbWords: [(pattern: WordPattern, id: Int, state: TokenTrie.State)]
    let fromWord = (pattern: WordPattern("FROM:<"), state: Vocabulary.fromTrie.state(after: "FROM:".utf8))
    let toWord = (pattern: WordPattern("TO:<"), state: Vocabulary.toTrie.state(after: "TO:".utf8))
    /// "KEYWORD=" of every parameter.
    let parameterWords: [(pattern: WordPattern, parameter: SMTPParameter)] = SMTPParameter.allCases.map {
        (WordPattern($0.keyword + "="), $0)
    }
    /// NOTIFY's words, with their token ids and accepting states.
    let notifyWords: [(pattern: WordPattern, id: Int, state: TokenTrie.State)] =
        ["SUCCESS", "FAILURE", "DELAY", "NEVER"].map { word in
            (WordPattern(word), Vocabulary.notifyValueTrie.match(word.utf8)!,
             Vocabulary.notifyValueTrie.state(after: word.utf8))
        }
    /// ORCPT's usual addr-type and its ";".
    let rfc822Word = WordPattern("rfc822;")
    /// Parameters of MAIL/RCPT are checked (esmtp) or not (smtp: verbs only, as IOS does).
    var inspectsParameters: Bool { kind == .esmtp }

    public init(
        kind: SMTPInspectionKind,
        maxData: Int = 20_000_000,
        maskBanner: Bool = false,
        allowSTARTTLS: Bool = false,
        commandLineLimit: Int = 512,
        replyLineLimit: Int = 512
    ) {
        precondition(maxData >= 0 && commandLineLimit >= 3 && replyLineLimit >= 6)
        self.kind = kind
        self.maxData = maxData
        self.maskBanner = maskBanner
        self.allowSTARTTLS = allowSTARTTLS
        self.commandLineLimit = commandLineLimit
        self.replyLineLimit = replyLineLimit

        var verbs = kind == .smtp ? SMTPVerb.smtpAllowList : SMTPVerb.esmtpAllowList
        if allowSTARTTLS && kind == .esmtp { verbs.append(.starttls) }
        allowedVerbs = verbs
        let trie = TokenTrie(tokens: verbs.map(\.text))
        verbTrie = trie
        let common: [SMTPVerb] = [.rcpt, .mail, .data, .rset, .quit, .ehlo, .helo, .noop]
        verbWords = (common.filter(verbs.contains) + verbs.filter { !common.contains($0) })
            .filter { $0.text.utf8.count == 4 }
            .map { verb in (WordPattern(verb.text), trie.match(verb.text.utf8)!, trie.state(after: verb.text.utf8)) }

        // Only an extension whose commands and parameters pass may be offered (BEHAVIOR.md §3).
        var kept: [SMTPExtension] = []
        if kind == .esmtp {
            kept = [.pipelining, .size, .etrn, .dsn, .enhancedStatusCodes, .eightBitMIME, .auth]
            if allowSTARTTLS { kept.append(.starttls) }
        }
        kept += [.vrfy, .help, .send, .soml, .saml]
        keptExtensions = kept
        extensionTrie = TokenTrie(tokens: kept.map(\.keyword))
    }

    /// Verbs as the policy's trie numbers them.
    @inline(__always)
    func verb(forToken id: Int) -> SMTPVerb { allowedVerbs[id] }

    @inline(__always)
    func extensionFor(token id: Int) -> SMTPExtension { keptExtensions[id] }
}
