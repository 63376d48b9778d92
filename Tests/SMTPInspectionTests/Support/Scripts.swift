@testable import SMTPInspection

/// Building blocks of scripted sessions, with replies as Postfix 3.7 sends them.
enum Script {
    static let banner = Step.s("220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n")
    /// Postfix's EHLO reply (Tests/e2e/README.md "Postfix"), which includes keywords the esmtp policy refuses.
    static let postfixEHLOReply = """
        250-mail.example.test\r
        250-PIPELINING\r
        250-SIZE 10240000\r
        250-VRFY\r
        250-ETRN\r
        250-STARTTLS\r
        250-AUTH PLAIN LOGIN\r
        250-ENHANCEDSTATUSCODES\r
        250-8BITMIME\r
        250-DSN\r
        250-SMTPUTF8\r
        250 CHUNKING\r

        """
    static let ehlo: [Step] = [.c("EHLO client.example.org\r\n"), .s(postfixEHLOReply)]
    static let opening: [Step] = [banner] + ehlo

    static let ok = Step.s("250 2.0.0 Ok\r\n")
    static let goAhead = Step.s("354 End data with <CR><LF>.<CR><LF>\r\n")
    static let queued = Step.s("250 2.0.0 Ok: queued as 4XyZ1\r\n")
    static let unknown = Step.s("500 5.5.2 Error: command not recognized\r\n")
    static let bye = Step.s("221 2.0.0 Bye\r\n")

    static let body = "Subject: test\r\n\r\nHello.\r\n"

    /// A full session delivering one message, replies after every command.
    static func mail(body: String = body) -> [Step] {
        opening + [
            .c("MAIL FROM:<alice@example.org>\r\n"), ok,
            .c("RCPT TO:<bob@example.test>\r\n"), ok,
            .c("DATA\r\n"), goAhead,
            .c(body + ".\r\n"), queued,
            .c("QUIT\r\n"), bye,
        ]
    }

    /// All client bytes of a script, concatenated (what the server must see when nothing is masked).
    static func clientBytes(_ steps: [Step]) -> [UInt8] {
        var all: [UInt8] = []
        for case let .client(bytes) in steps { all += bytes }
        return all
    }

    static func serverBytes(_ steps: [Step]) -> [UInt8] {
        var all: [UInt8] = []
        for case let .server(bytes) in steps { all += bytes }
        return all
    }
}

/// Verbs some server executes (RFC 821, 5321, extensions and vendor commands): a masked line must
/// never start with one of them.
let executableVerbs = [
    "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP",
    "SEND", "SOML", "SAML", "TURN", "ATRN", "ETRN", "AUTH", "STARTTLS", "BDAT", "VERB", "ONEX",
    "XEXCH50", "X-LINK2STATE", "XCLIENT", "XFORWARD", "GET", "POST", "CONNECT",
]

/// Whether a line (without its CRLF) would be executed by some server: it starts with a known
/// verb followed by a space or the end of the line.
func isExecutable(_ line: String) -> Bool {
    let upper = line.uppercased()
    return executableVerbs.contains { verb in
        upper == verb || upper.hasPrefix(verb + " ")
    }
}

/// Splits a byte stream into lines without their LF/CRLF (on bytes: Swift's String treats CRLF
/// as one Character).
func lines(_ bytes: [UInt8]) -> [String] {
    bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
        String(decoding: line.last == 0x0D ? line.dropLast() : line[...], as: UTF8.self)
    }
}
