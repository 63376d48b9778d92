import Testing
@testable import SMTPInspection

@Suite("Replies (docs/behaviour.md §3)")
struct SMTPSessionReplyTests {
    @Test("EHLO reply: STARTTLS, SMTPUTF8 and CHUNKING are masked, the rest is kept")
    func ehloKeywordsMasked() {
        let outcome = verify(Script.opening)
        let expected = Script.postfixEHLOReply
            .replacingOccurrences("250-STARTTLS", "250-Sxxxxxxx")
            .replacingOccurrences("250-SMTPUTF8", "250-Sxxxxxxx")
            .replacingOccurrences("250 CHUNKING", "250 xxxxxxxx")
        #expect(outcome.toClientText.hasSuffix(expected))
        #expect(outcome.counters.ehloKeywordsMasked == 3)
        #expect(outcome.events == [])
    }

    @Test("The session remembers what the client was offered, after masking")
    func advertisedAfterMasking() {
        var harness = SessionHarness(policy: .esmtpDefault)
        for step in Script.opening {
            switch step {
            case let .client(b): harness.client(b)
            case let .server(b): harness.server(b)
            }
        }
        let offered = SMTPExtension.allCases.filter { harness.session.advertised & $0.bit != 0 }
        #expect(offered == [.pipelining, .size, .etrn, .dsn, .enhancedStatusCodes, .eightBitMIME, .auth, .vrfy])
    }

    @Test("With STARTTLS allowed, the STARTTLS keyword is kept")
    func starttlsKeptWhenAllowed() {
        let outcome = verify(Script.opening, policy: SMTPPolicy(kind: .esmtp, allowSTARTTLS: true))
        #expect(outcome.toClientText.contains("250-STARTTLS\r\n"))
        #expect(outcome.toClientText.contains("250 xxxxxxxx\r\n"))
    }

    @Test("Unknown and vendor EHLO keywords are masked from the first byte no kept keyword has")
    func vendorKeywords() {
        let reply = "250-mx\r\n250-XCLIENT NAME ADDR\r\n250-AUTH=LOGIN PLAIN\r\n250-SIZEX 5\r\n250-SIZ\r\n250 X-LINK2STATE\r\n"
        let outcome = verify([Script.banner, .c("EHLO a\r\n"), .s(reply)])
        let expected = "250-mx\r\n250-xxxxxxx NAME ADDR\r\n250-AUTH=LOGIN PLAIN\r\n250-SIZEx 5\r\n250-SIZ\r\n250 xxxxxxxxxxxx\r\n"
        #expect(outcome.toClientText.hasSuffix(expected))
    }

    @Test("A line masked only in its arguments is still its verb's command: an EHLO's reply keywords are masked",
          arguments: ["EHLO c.exa\u{05}ple\r\n", "EHLO\rc.example\r\n"])
    func ehloMaskedInArgument(line: String) {
        let outcome = verify([Script.banner, .c(line), .s(Script.postfixEHLOReply)])
        // The server executes `EHLO c.exaxxxx` (or, splitting at any white space, `EHLO\rxxx…`).
        #expect(outcome.counters.commandsMasked == 1)
        #expect(outcome.toServerText.hasPrefix("EHLO"))
        #expect(outcome.toClientText.contains("250-Sxxxxxxx\r\n"))
        #expect(outcome.counters.ehloKeywordsMasked == 3)
        #expect(!outcome.tornDown)
    }

    @Test("A line masked from its verb on is no command: its reply is read as a refusal's")
    func maskedFromVerb() {
        // `EHLOx…` and `Exxx …` are no EHLO: a 250 to them is an answer to an unknown command.
        for line in ["EHLO\u{05}c\r\n", "EXPN root\r\n"] {
            let outcome = verify([Script.banner, .c(line), .s(Script.postfixEHLOReply)])
            #expect(outcome.counters.ehloKeywordsMasked == 0, "\(line)")
        }
    }

    @Test("DATA masked in its argument awaits its reply: a 354 starts message data, not a tear-down")
    func dataMaskedInArgument() {
        let steps = Script.opening + [.c("DATA \u{01}\r\n"), .c("Subject: x\r\n")]
        let waiting = verify(steps)
        #expect(waiting.mode == .awaitingDataReply)
        #expect(waiting.held == Array("Subject: x\r\n".utf8))
        let outcome = verify(steps + [Script.goAhead])
        #expect(outcome.mode == .data)
        #expect(!outcome.tornDown)
        #expect(outcome.toServerText.hasSuffix("DATA x\r\nSubject: x\r\n"))
    }

    @Test("The banner is masked with * only when configured")
    func bannerMasking() {
        let plain = verify([Script.banner])
        #expect(plain.toClientText == "220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n")
        let masked = verify([Script.banner], policy: SMTPPolicy(kind: .esmtp, maskBanner: true))
        #expect(masked.toClientText == "220 " + String(repeating: "*", count: 44) + "\r\n")
    }

    static let badReplies: [(String, ReplyProblem)] = [
        ("2x0 oops\r\n", .badCode), ("650 no\r\n", .badCode), ("250_ok\r\n", .badSeparator),
        ("250-first\r\n251 second\r\n", .codeMismatch),
    ]

    @Test("A malformed reply raises invalid-reply and is forwarded unchanged", arguments: badReplies)
    func malformedReply(reply: String, problem: ReplyProblem) {
        let steps: [Step] = [Script.banner, .c("NOOP\r\n"), .s(reply)]
        let outcome = verify(steps)
        #expect(outcome.toClient == Script.serverBytes(steps))
        guard case let .invalidReply(_, reported)? = outcome.events.last else {
            Issue.record("no invalid-reply: \(outcome.events)")
            return
        }
        #expect(reported == problem)
        #expect(!outcome.tornDown)
    }

    @Test("An over-long reply line raises an event and is forwarded")
    func longReply() {
        let text = "250 " + String(repeating: "r", count: 600) + "\r\n"
        let steps: [Step] = [Script.banner, .c("NOOP\r\n"), .s(text)]
        let outcome = verify(steps)
        #expect(outcome.toClient == Script.serverBytes(steps))
        #expect(outcome.events == [.replyLineTooLong(length: 606, limit: 512)])
    }

    @Test("Replies match pipelined commands in order; a multi-line reply counts once")
    func pipelinedReplies() {
        let steps = Script.opening + [
            .c("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\nbody\r\n.\r\n"),
            Script.ok,
            .s("550-5.1.1 <c@d>: Recipient address rejected:\r\n550 5.1.1 User unknown\r\n"),
            Script.ok,
        ]
        // Three replies so far: DATA's is still to come, so the body is held.
        let early = verify(steps)
        #expect(early.mode == .awaitingDataReply)
        #expect(early.held == Array("body\r\n.\r\n".utf8))
        let outcome = verify(steps + [Script.goAhead, Script.queued])
        #expect(outcome.held.isEmpty)
        #expect(outcome.counters.messages == 1)
        #expect(outcome.mode == .commands)
        #expect(outcome.toServer == Script.clientBytes(steps))
    }

    @Test("A 354 to a command that takes none means the views differ: tear down")
    func unexpectedIntermediate() {
        let outcome = verify([Script.banner, .c("NOOP\r\n"), Script.goAhead, .c("EXPN a\r\n")])
        #expect(outcome.tornDown)
        #expect(outcome.events == [.invalidReply(code: 354, problem: .unexpectedIntermediate)])
    }

    @Test("A reply with nothing pending tears down; a 421 does not")
    func unsolicitedReply() {
        let outcome = verify([Script.banner, .s("250 surprise\r\n")])
        #expect(outcome.tornDown)
        #expect(outcome.events == [.invalidReply(code: 250, problem: .unsolicited)])
        let closing = verify([Script.banner, .s("421 4.4.2 timeout\r\n")])
        #expect(!closing.tornDown)
        #expect(closing.events == [])
    }

    @Test("The client speaking before the greeting is reported; its commands are still judged")
    func pregreet() {
        let steps: [Step] = [.c("EHLO early\r\nEXPN x\r\n"), Script.banner, .s(Script.postfixEHLOReply), Script.unknown]
        let outcome = verify(steps)
        #expect(outcome.eventNames == ["client-spoke-before-banner", "invalid-command"])
        #expect(outcome.toServerText == "EHLO early\r\nExxxxx\r\n")
    }

    @Test("Pipelining without PIPELINING advertised, or after a group-ending command, is reported")
    func pipeliningViolations() {
        let noPipelining = "250-mx\r\n250 8BITMIME\r\n"
        let a = verify([Script.banner, .c("EHLO a\r\n"), .s(noPipelining), .c("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")])
        #expect(a.eventNames == ["pipelining-violation"])
        let b = verify(Script.opening + [.c("NOOP\r\nMAIL FROM:<a@b>\r\n")])
        #expect(b.events == [.pipeliningViolation(verb: ShortText("MAIL"))])
        let fine = verify(Script.opening + [.c("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\n")])
        #expect(fine.events == [])
    }

    @Test("QUIT and 221 mark the session closing")
    func quit() {
        var harness = SessionHarness(policy: .esmtpDefault)
        for step in Script.mail() {
            switch step {
            case let .client(b): harness.client(b)
            case let .server(b): harness.server(b)
            }
        }
        #expect(harness.session.isClosing)
        #expect(harness.session.pendingReplyCount == 0)
    }
}

extension String {
    /// Replaces on bytes, so that CRLF inside the target matches.
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var bytes = Array(utf8)
        let t = Array(target.utf8), r = Array(replacement.utf8)
        var i = 0
        while i + t.count <= bytes.count {
            if Array(bytes[i..<(i + t.count)]) == t {
                bytes.replaceSubrange(i..<(i + t.count), with: r)
                i += r.count
            } else {
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
