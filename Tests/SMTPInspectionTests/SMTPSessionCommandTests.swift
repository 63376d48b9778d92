import Testing
@testable import SMTPInspection

@Suite("Command allow-lists and masking")
struct SMTPSessionCommandTests {
    @Test("A whole legal session passes unchanged, in every split")
    func legalSessionPasses() {
        let steps = Script.mail()
        let outcome = verify(steps)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.events == [])
        #expect(!outcome.tornDown)
        #expect(outcome.counters.messages == 1)
        #expect(outcome.counters.commands == 5)  // EHLO MAIL RCPT DATA QUIT
        #expect(outcome.counters.commandsMasked == 0)
        #expect(outcome.counters.replies == 7)  // greeting, five commands, the message
    }

    @Test("The seed's session, one character per packet, passes unmodified")
    func seedSessionTypedByHand() {
        // verify() plays it byte by byte among its splits; the outcome must equal the input.
        let steps: [Step] = [
            Script.banner,
            .c("HELO cisco.com\r\n"), .s("250 mail.example.test\r\n"),
            .c("MAIL FROM:<a@b>\r\n"), .s("250 2.1.0 Ok\r\n"),
            .c("RCPT TO:<c@d>\r\n"), .s("250 2.1.5 Ok\r\n"),
            .c("DATA\r\n"), Script.goAhead,
            .c("one\r\ntwo\r\n.\r\n"), Script.queued,
            .c("QUIT\r\n"), Script.bye,
        ]
        for policy in [SMTPPolicy.smtpDefault, .esmtpDefault] {
            let outcome = verify(steps, policy: policy)
            #expect(outcome.toServer == Script.clientBytes(steps))
            #expect(outcome.events == [])
        }
    }

    @Test("An illegal verb typed by hand reaches the server as a line no server executes",
          arguments: ["EXPN root", "VERB", "STARTTLS", "TURN", "EXPN"])
    func illegalVerbTypedByHand(command: String) throws {
        let steps: [Step] = [Script.banner, .c("HELO x\r\n"), Script.ok, .c(command + "\r\n"), Script.unknown]
        for policy in [SMTPPolicy.smtpDefault, .esmtpDefault] {
            let outcome = verify(steps, policy: policy)
            let sent = lines(outcome.toServer)
            #expect(sent.count == 3)  // two lines and the empty rest after the last CRLF
            let masked = sent[1]
            #expect(masked.utf8.count == command.utf8.count, "masking changed the length")
            #expect(!isExecutable(masked), "\(masked) would execute")
            // What passed unmasked is a prefix of an allowed verb.
            let released = String(masked.prefix { $0 != "x" })
            #expect(policy.allowedVerbs.contains { $0.text.hasPrefix(released.uppercased()) })
            let verb = String(command.split(separator: " ")[0])
            #expect(outcome.events == [
                .invalidCommand(verb: ShortText(verb), length: command.utf8.count + 2, problem: .verbNotAllowed),
            ])
        }
    }

    static let allowedLines = [
        "HELO client.example.org", "EHLO client.example.org", "HELP", "HELP mail", "NOOP", "RSET",
        "VRFY bob", "MAIL FROM:<alice@example.org>", "RCPT TO:<bob@example.test>",
        "SAML FROM:<a@b>", "SEND FROM:<a@b>", "SOML FROM:<a@b>", "ETRN example.org",
        "AUTH PLAIN AGJvYgBzZWNyZXQ=", "QUIT",
    ]

    @Test("Every allowed verb passes in upper, lower and mixed case", arguments: allowedLines)
    func allowedVerbsPass(command: String) {
        let verb = command.prefix { $0 != " " }
        let rest = command.dropFirst(verb.count)
        let spellings = [verb.uppercased(), verb.lowercased(),
                         String(verb.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.lowercased()) : $0.element })]
        for spelling in spellings {
            let steps = Script.opening + [.c(spelling + rest + "\r\n")]
            let outcome = verify(steps)
            #expect(outcome.toServer == Script.clientBytes(steps), "\(spelling + rest) was changed")
            #expect(outcome.events == [])
        }
    }

    @Test("DATA passes and waits for its reply, in any case")
    func dataPasses() {
        for spelling in ["DATA", "data", "DaTa"] {
            let steps = Script.opening + [.c("MAIL FROM:<a@b>\r\n"), Script.ok, .c("RCPT TO:<c@d>\r\n"), Script.ok,
                                          .c(spelling + "\r\n")]
            let outcome = verify(steps)
            #expect(outcome.toServer == Script.clientBytes(steps))
            #expect(outcome.mode == .awaitingDataReply)
        }
    }

    static let refusedLines: [(String, SMTPInspectionKind)] = [
        ("EXPN root", .esmtp), ("ETRN example.org", .smtp), ("EHLO x", .smtp), ("AUTH PLAIN", .smtp),
        ("STARTTLS", .esmtp), ("BDAT 100 LAST", .esmtp), ("XEXCH50 2 2", .esmtp),
        ("X-LINK2STATE CHUNK=A", .esmtp), ("TURN", .esmtp), ("GET / HTTP/1.0", .esmtp),
        ("HELOX", .esmtp), ("MAILFROM:<a@b>", .esmtp), ("QUI", .esmtp),
    ]

    @Test("Refused commands are masked and never executable", arguments: refusedLines)
    func refusedCommandsAreMasked(command: String, kind: SMTPInspectionKind) {
        let steps: [Step] = [Script.banner, .c("HELO x\r\n"), Script.ok, .c(command + "\r\n")]
        let outcome = verify(steps, policy: SMTPPolicy(kind: kind))
        let sent = lines(outcome.toServer)[1]
        #expect(sent.utf8.count == command.utf8.count)
        #expect(!isExecutable(sent), "\(sent) would execute")
        #expect(outcome.eventNames == ["invalid-command"])
        #expect(outcome.mode == .commands)
    }

    @Test("In a pipelined packet only the bad command's line is masked")
    func pipelinedPacketMasksOnlyTheBadLine() {
        let envelope = "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nEXPN staff\r\nRCPT TO:<e@f>\r\nDATA\r\n"
        let steps = Script.opening + [.c(envelope)]
        let outcome = verify(steps)
        let expected = "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nExxxxxxxxx\r\nRCPT TO:<e@f>\r\nDATA\r\n"
        #expect(outcome.toServerText.hasSuffix(expected))
        #expect(outcome.counters.commandsMasked == 1)
        #expect(outcome.mode == .awaitingDataReply)
    }

    @Test("A 513-octet command line gets its tail masked and an event")
    func overlongLine() {
        let address = String(repeating: "a", count: 200) + "@example.org"
        let line = "VRFY " + address + " " + String(repeating: "b", count: 513 - 2 - 6 - address.count)
        #expect(line.utf8.count + 2 == 513)
        let outcome = verify(Script.opening + [.c(line + "\r\n")])
        let sent = lines(outcome.toServer)[1]
        #expect(sent.utf8.count == 511)
        #expect(sent.hasPrefix(String(line.prefix(510))))
        #expect(sent.hasSuffix("x"))
        #expect(outcome.events == [.commandLineTooLong(length: 513, limit: 512)])
    }

    @Test("A 512-octet command line passes")
    func longestLinePasses() {
        let line = "VRFY " + String(repeating: "v", count: 512 - 2 - 5)
        let steps = Script.opening + [.c(line + "\r\n")]
        let outcome = verify(steps)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.events == [])
    }

    @Test("Control characters and bare CR make the rest of a line illegal",
          arguments: [("NOOP a\u{0}b", 6), ("VRFY x\u{7}y", 6), ("NOOP a\rRSET", 7)])
    func controlCharacters(line: String, firstMasked: Int) {
        let outcome = verify(Script.opening + [.c(line + "\r\n")])
        let sent = Array(lines(outcome.toServer)[1].utf8)
        let original = Array(line.utf8)
        #expect(sent.count == original.count)
        #expect(Array(sent[..<firstMasked]) == Array(original[..<firstMasked]))
        #expect(sent[firstMasked...].allSatisfy { $0 == UInt8(ascii: "x") || $0 == 0x0D })
        #expect(outcome.eventNames == ["invalid-command"])
    }

    @Test("A bare LF ends a command line, as servers accept it")
    func bareLineFeed() {
        let steps = Script.opening + [.c("NOOP\nEXPN a\nNOOP\n")]
        let outcome = verify(steps)
        #expect(outcome.toServerText.hasSuffix("NOOP\nExxxxx\nNOOP\n"))
        #expect(outcome.counters.commands == 4)
    }

    @Test("An illegal line leaves the session's mode and hold state unchanged")
    func illegalLineLeavesStateUnchanged() {
        // A masked DATA-like or STARTTLS line must not start a hold or the STARTTLS guard.
        for line in ["STARTTLS", "DATAX", "AUTHX PLAIN", "MAIL FROM:<a> FOO=1"] {
            var harness = SessionHarness(policy: .esmtpDefault)
            for step in Script.opening { if case let .client(b) = step { harness.client(b) } else if case let .server(b) = step { harness.server(b) } }
            let before = harness.session
            harness.client(Array((line + "\r\n").utf8))
            #expect(harness.session.mode == before.mode)
            #expect(harness.session.advertised == before.advertised)
            #expect(harness.session.modeDescription == before.modeDescription)
            #expect(harness.session.pendingReplyCount == before.pendingReplyCount + 1)
            #expect(harness.outcome.held.isEmpty)
            // The next command is judged normally.
            harness.client(Array("NOOP\r\n".utf8))
            #expect(harness.outcome.toServerText.hasSuffix("NOOP\r\n"))
        }
    }
}
