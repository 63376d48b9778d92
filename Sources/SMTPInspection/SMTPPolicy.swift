/// Which Cisco IOS inspection a rule names.
public enum SMTPInspectionKind: String, Sendable, CaseIterable {
    /// `ip inspect name N smtp`: the 12 RFC 821 verbs, verbs only.
    case smtp
    /// `ip inspect name N esmtp`: 15 verbs and the parameter checks of docs/behaviour.md §4.
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
    /// Mask the greeting banner's text with `*`, as PIX MailGuard did (docs/behaviour.md §3).
    public let maskBanner: Bool
    /// Let STARTTLS through; after the server's 220 the session is opaque TLS (docs/behaviour.md §6).
    public let allowSTARTTLS: Bool

    /// The allowed verbs in trie-id order.
    public let allowedVerbs: [SMTPVerb]
    let verbTrie: TokenTrie
    /// EHLO keywords passed to the client, in trie-id order.
    let keptExtensions: [SMTPExtension]
    let extensionTrie: TokenTrie
    // The shared vocabulary and byte classes, copied here (the tries' arrays are shared, not
    // duplicated) so the byte loops reach them with a field load instead of a global's once-check.
    let parameterTrie = Vocabulary.parameterTrie
    let bodyValueTrie = Vocabulary.bodyValueTrie
    let retValueTrie = Vocabulary.retValueTrie
    let notifyValueTrie = Vocabulary.notifyValueTrie
    let fromTrie = Vocabulary.fromTrie
    let toTrie = Vocabulary.toTrie
    let classes = ByteClassTable()
    /// `CommandLineStateMachine.parameterMask` for RCPT (first 128) and MAIL (last 128), by the
    /// advertised extensions that parameters need (their bits are all below 7).
    private let parameterMasks: [UInt32] = [false, true].flatMap { onMail in
        (0..<UInt32(128)).map { CommandLineStateMachine.parameterMask(onMail: onMail, advertised: $0) }
    }
    // Whole tokens compared eight bytes at a time by the one-pass reader
    // (CommandLineStateMachine+OnePass.swift), derived from the tries above.
    /// The allowed verbs that fit one compare, the commonest first.
    let verbWords: [TokenTrie.Word]
    let fromWords = Vocabulary.fromTrie.words(followedBy: "<")
    let toWords = Vocabulary.toTrie.words(followedBy: "<")
    /// "KEYWORD=" of every parameter.
    let parameterWords = Vocabulary.parameterTrie.words(followedBy: "=")
    /// NOTIFY's words.
    let notifyWords = Vocabulary.notifyValueTrie.words()
    /// Parameters of MAIL/RCPT are checked (esmtp) or not (smtp: verbs only, as IOS does).
    var inspectsParameters: Bool { kind == .esmtp }

    public init(
        kind: SMTPInspectionKind,
        maxData: Int = 20_000_000,
        maskBanner: Bool = false,
        allowSTARTTLS: Bool = false,
        commandLineLimit: Int = Limits.commandLine,
        replyLineLimit: Int = Limits.replyLine
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
        verbTrie = TokenTrie(tokens: verbs.map(\.text))
        let common: [SMTPVerb] = [.rcpt, .mail, .data, .rset, .quit, .ehlo, .helo, .noop]
        verbWords = verbTrie.words().sorted { a, b in
            (common.firstIndex(of: verbs[a.id]) ?? common.count) < (common.firstIndex(of: verbs[b.id]) ?? common.count)
        }

        // Only an extension whose commands and parameters pass may be offered (docs/behaviour.md §3).
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

    /// Parameters legal on MAIL (or RCPT) given the advertised extensions, as SMTPParameter bits.
    @inline(__always)
    func parameters(onMail: Bool, advertised: UInt32) -> UInt32 {
        parameterMasks[(onMail ? 128 : 0) | Int(advertised & 0x7F)]
    }
}
