/// The SMTP words the inspector knows: verbs, EHLO extension keywords, MAIL/RCPT parameters and
/// their enumerated values. Facts here come from the RFCs cited on each case; which of them a
/// policy allows is decided in `SMTPPolicy`.

/// A client command verb. Raw values are the `match id` printed by `debug ip inspect smtp`.
public enum SMTPVerb: UInt8, CaseIterable, Sendable {
    case data = 1, helo, help, mail, noop, quit, rcpt, rset, saml, send, soml, vrfy  // RFC 821/5321
    case auth, ehlo, etrn                                                        // RFC 4954, 5321, 1985
    case starttls                                                                // RFC 3207 (opt-in)

    /// The verb as written on the wire.
    public var text: String {
        switch self {
        case .data: "DATA"
        case .helo: "HELO"
        case .help: "HELP"
        case .mail: "MAIL"
        case .noop: "NOOP"
        case .quit: "QUIT"
        case .rcpt: "RCPT"
        case .rset: "RSET"
        case .saml: "SAML"
        case .send: "SEND"
        case .soml: "SOML"
        case .vrfy: "VRFY"
        case .auth: "AUTH"
        case .ehlo: "EHLO"
        case .etrn: "ETRN"
        case .starttls: "STARTTLS"
        }
    }

    /// The verbs Cisco IOS `smtp` inspection allows (the seed's first list).
    public static let smtpAllowList: [SMTPVerb] = [
        .data, .helo, .help, .mail, .noop, .quit, .rcpt, .rset, .saml, .send, .soml, .vrfy,
    ]
    /// The verbs Cisco IOS `esmtp` inspection allows (the seed's second list).
    public static let esmtpAllowList: [SMTPVerb] = smtpAllowList + [.auth, .ehlo, .etrn]

    /// RFC 2920 §3.1, RFC 4954 §4, RFC 3207 §4: these may only be the last command of a
    /// pipelined group, because their reply changes what the client may send next.
    var endsPipelinedGroup: Bool {
        switch self {
        case .ehlo, .helo, .data, .vrfy, .quit, .noop, .auth, .starttls: true
        case .help, .mail, .rcpt, .rset, .saml, .send, .soml, .etrn: false
        }
    }

    /// What the reply to this verb means to the session (see `PendingReplies`).
    var replyKind: PendingReplies.Kind {
        switch self {
        case .data: .data
        case .auth: .auth
        case .starttls: .starttls
        case .quit: .quit
        case .ehlo: .ehlo
        case .helo: .helo
        case .help, .mail, .noop, .rcpt, .rset, .saml, .send, .soml, .vrfy, .etrn: .other
        }
    }
}

/// An EHLO keyword the inspector may pass to the client (RFC 5321 §4.1.1.1 ehlo-line). Keywords
/// not listed here are always masked: their commands or parameters would be masked anyway.
public enum SMTPExtension: UInt8, CaseIterable, Sendable {
    case pipelining, size, etrn, dsn, enhancedStatusCodes, eightBitMIME, auth  // the seed's list
    case vrfy, help, send, soml, saml                                         // allowed verbs
    case starttls                                                              // opt-in

    public var keyword: String {
        switch self {
        case .pipelining: "PIPELINING"
        case .size: "SIZE"
        case .etrn: "ETRN"
        case .dsn: "DSN"
        case .enhancedStatusCodes: "ENHANCEDSTATUSCODES"
        case .eightBitMIME: "8BITMIME"
        case .auth: "AUTH"
        case .vrfy: "VRFY"
        case .help: "HELP"
        case .send: "SEND"
        case .soml: "SOML"
        case .saml: "SAML"
        case .starttls: "STARTTLS"
        }
    }

    @inline(__always)
    var bit: UInt32 { 1 &<< UInt32(rawValue) }
}

/// A MAIL or RCPT parameter (RFC 5321 §4.1.2 esmtp-param) of an extension the esmtp policy
/// inspects. Raw values index `parameterTrie`.
enum SMTPParameter: UInt8, CaseIterable {
    case size, body, ret, envid, notify, orcpt, auth

    var keyword: String {
        switch self {
        case .size: "SIZE"      // RFC 1870
        case .body: "BODY"      // RFC 6152, RFC 3030
        case .ret: "RET"        // RFC 3461 §4.3
        case .envid: "ENVID"    // RFC 3461 §4.4
        case .notify: "NOTIFY"  // RFC 3461 §4.1
        case .orcpt: "ORCPT"    // RFC 3461 §4.2
        case .auth: "AUTH"      // RFC 4954 §5
        }
    }

    /// The extension that must have been advertised for the parameter to be legal (one of the
    /// first seven: SMTPPolicy tabulates the parameters by those bits).
    var requires: SMTPExtension {
        switch self {
        case .size: .size
        case .body: .eightBitMIME
        case .ret, .envid, .notify, .orcpt: .dsn
        case .auth: .auth
        }
    }

    /// Whether the parameter belongs on MAIL (true) or RCPT (false).
    var onMail: Bool {
        switch self {
        case .size, .body, .ret, .envid, .auth: true
        case .notify, .orcpt: false
        }
    }

    @inline(__always)
    var bit: UInt32 { 1 &<< UInt32(rawValue) }

    static func mask(_ parameters: [SMTPParameter]) -> UInt32 {
        parameters.reduce(0) { $0 | $1.bit }
    }
}

/// Compiled tries shared by every policy and session.
enum Vocabulary {
    static let parameterTrie = TokenTrie(tokens: SMTPParameter.allCases.map(\.keyword))
    /// BODY values (RFC 6152): only 7BIT and 8BITMIME; BINARYMIME needs CHUNKING (RFC 3030),
    /// whose BDAT command no policy allows, so it is refused by not being listed.
    static let bodyValueTrie = TokenTrie(tokens: ["7BIT", "8BITMIME"])
    /// RET values (RFC 3461 §4.3).
    static let retValueTrie = TokenTrie(tokens: ["FULL", "HDRS"])
    /// NOTIFY values (RFC 3461 §4.1): NEVER alone, or a list of the other three.
    static let notifyValueTrie = TokenTrie(tokens: ["NEVER", "SUCCESS", "FAILURE", "DELAY"])
    static let notifyNever = 0
    /// MAIL's and RCPT's fixed argument prefixes (RFC 5321 §4.1.1.2, §4.1.1.3).
    static let fromTrie = TokenTrie(tokens: ["FROM:"])
    static let toTrie = TokenTrie(tokens: ["TO:"])
}
