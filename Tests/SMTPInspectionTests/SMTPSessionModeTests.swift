import Testing
@testable import SMTPInspection

@Suite("Message data, AUTH, STARTTLS and held bytes")
struct SMTPSessionModeTests {
    static let envelope: [Step] = Script.opening + [
        .c("MAIL FROM:<a@b>\r\n"), Script.ok, .c("RCPT TO:<c@d>\r\n"), Script.ok, .c("DATA\r\n"), Script.goAhead,
    ]

    @Test("Message content is never masked, whatever it looks like")
    func contentIsNeverMasked() {
        var body: [UInt8] = Array("EXPN x\r\nQUIT\r\n..\r\n.x\r\nSTARTTLS\r\n".utf8)
        body += [0xC3, 0xA9, 0xFF, 0x00, 0x01, 0x0D, 0x0A]  // 8-bit and NUL bytes
        body += Array("MAIL FROM:<evil@x>\r\n.\r\n".utf8)
        let steps = Self.envelope + [.client(body), Script.queued, .c("QUIT\r\n"), Script.bye]
        let outcome = verify(steps)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.events == [])
        #expect(outcome.counters.messages == 1)
        #expect(outcome.counters.messageBytes == body.count)
    }

    @Test("Only CRLF.CRLF ends the message: a dot inside a line or stuffed dots do not")
    func onlyCRLFDotCRLFEnds() {
        let body = "a.\r\n..\r\n. \r\n.x.\r\n"
        let steps = Self.envelope + [.c(body), .c("EXPN still-data\r\n")]
        let outcome = verify(steps)
        #expect(outcome.mode == .data)
        #expect(outcome.toServer == Script.clientBytes(steps))
    }

    @Test("An empty message ends at once")
    func emptyMessage() {
        let outcome = verify(Self.envelope + [.c(".\r\n"), Script.queued, .c("EXPN a\r\n")])
        #expect(outcome.counters.messages == 1)
        #expect(outcome.toServerText.hasSuffix(".\r\nExxxxx\r\n"))
    }

    static let smuggling: [(String, SmugglingForm)] = [
        ("\n.\n", .bareLineFeed), ("\n.\r\n", .bareLineFeed), ("\r.\r", .bareCarriageReturn),
        ("\r\n.\n", .bareLineFeed), ("\r.\r\n", .bareCarriageReturn), ("\r\n.\rX", .bareCarriageReturn),
        ("\r.\n", .bareCarriageReturn),
    ]

    @Test("Bare-LF and bare-CR end-of-data forms raise smuggling and tear down", arguments: smuggling)
    func smugglingTearsDown(ending: String, form: SmugglingForm) {
        let body = "Subject: hi\r\n\r\ntext" + ending + "MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\nDATA\r\n"
        let steps = Self.envelope + [.c(body)]
        let outcome = verify(steps)
        #expect(outcome.tornDown)
        #expect(outcome.events == [.smugglingAttempt(form)])
        // Nothing after the ambiguous line end reached the server.
        let sent = outcome.toServerText
        #expect(!sent.contains("MAIL FROM:<x@y>"))
        let prefix = Script.clientBytes(Self.envelope).count
        #expect(outcome.toServer.count <= prefix + "Subject: hi\r\n\r\ntext".utf8.count + ending.utf8.count)
    }

    /// Fuzzing found it: the server chunk was read whole before the held client bytes were
    /// judged, so the reply after the 554 had no command to match when it came in one segment
    /// with the 554 (an unsolicited reply: torn down), but matched RSET when TCP split it there.
    @Test("A reply that decides held bytes, then more replies in the same chunk: same outcome in every split")
    func resumeBeforeTheRestOfTheChunk() {
        let steps = Script.opening + [
            .c("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"), .c("RSET\r\nEXPN x\r\n"),
            .s("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.5.1 no valid recipients\r\n250 2.0.0 Ok\r\n"
               + "502 5.5.2 Error: command not recognized\r\n"),
            .c("NOOP\r\n"), Script.ok,
        ]
        let outcome = verify(steps)
        #expect(!outcome.tornDown)
        #expect(outcome.mode == .commands)
        #expect(outcome.toServerText.hasSuffix("DATA\r\nRSET\r\nExxxxx\r\nNOOP\r\n"))
        #expect(outcome.eventNames == ["pipelining-violation", "invalid-command"])
    }

    @Test("Bytes after DATA wait for the reply; 354 makes them message content")
    func heldAfterDataBecomeContent() {
        let steps = Script.opening + [
            .c("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nEXPN inside\r\n.\r\nQUIT\r\n"),
            Script.ok, Script.ok, Script.goAhead, Script.queued, Script.bye,
        ]
        let outcome = verify(steps)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.eventNames == ["pipelining-violation"])  // RFC 2920: DATA ends a group
        #expect(outcome.counters.messages == 1)
    }

    @Test("Bytes after DATA wait for the reply; 554 makes them commands, judged as such")
    func heldAfterRejectedDataAreCommands() {
        let steps = Script.opening + [
            .c("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nEXPN inside\r\n.\r\n"),
            Script.ok, .s("550 5.1.1 <c@d>: Recipient address rejected\r\n"),
            .s("554 5.5.1 Error: no valid recipients\r\n"),
        ]
        // Before the DATA reply the held bytes went nowhere.
        let early = verify(Array(steps.dropLast()))
        #expect(early.held == Array("EXPN inside\r\n.\r\n".utf8))
        #expect(early.toServerText.hasSuffix("DATA\r\n"))
        let outcome = verify(steps)
        #expect(outcome.held.isEmpty)
        #expect(outcome.toServerText.hasSuffix("DATA\r\nExxxxxxxxxx\r\nx\r\n"))
        #expect(outcome.eventNames == ["pipelining-violation", "invalid-command", "invalid-command"])
        #expect(outcome.mode == .commands)
    }

    @Test("AUTH LOGIN: base64 lines after 334 are not commands")
    func authLogin() {
        let steps = Script.opening + [
            .c("AUTH LOGIN\r\n"), .s("334 VXNlcm5hbWU6\r\n"),
            .c("EXPNroot\r\n"), .s("334 UGFzc3dvcmQ6\r\n"),   // valid base64 that looks like a verb
            .c("c2VjcmV0\r\n"), .s("235 2.7.0 Authentication successful\r\n"),
            .c("EXPN a\r\n"),
        ]
        let outcome = verify(steps)
        #expect(outcome.toServerText.hasSuffix("AUTH LOGIN\r\nEXPNroot\r\nc2VjcmV0\r\nExxxxx\r\n"))
        #expect(outcome.eventNames == ["invalid-command"])
    }

    @Test("AUTH PLAIN with an initial response, then commands")
    func authPlainInitialResponse() {
        let steps = Script.opening + [
            .c("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), .s("235 2.7.0 Authentication successful\r\n"),
            .c("MAIL FROM:<alice@example.org> AUTH=<>\r\n"), Script.ok,
        ]
        let outcome = verify(steps)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.events == [])
    }

    @Test("Bytes sent after AUTH before its reply are held; 334 makes them a SASL line")
    func heldAfterAuth() {
        let steps = Script.opening + [
            .c("AUTH LOGIN\r\nYWxpY2U=\r\n"), .s("334 VXNlcm5hbWU6\r\n"), .s("334 UGFzc3dvcmQ6\r\n"),
            .c("c2VjcmV0\r\n"), .s("235 2.7.0 Authentication successful\r\n"),
        ]
        let outcome = verify(steps)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.held.isEmpty)
        #expect(outcome.eventNames == ["pipelining-violation"])
    }

    @Test("Bytes sent after AUTH before its reply are held; a 504 makes them commands")
    func heldAfterRefusedAuth() {
        let steps = Script.opening + [
            .c("AUTH CRAM-MD5\r\nYWxpY2U=\r\n"), .s("504 5.5.4 Unsupported authentication mechanism\r\n"),
        ]
        let outcome = verify(steps)
        #expect(outcome.toServerText.hasSuffix("AUTH CRAM-MD5\r\nxxxxxxxx\r\n"))
        #expect(outcome.eventNames == ["pipelining-violation", "invalid-command"])
    }

    static let tlsPolicy = SMTPPolicy(kind: .esmtp, allowSTARTTLS: true)

    @Test("STARTTLS allowed: after 220 both directions are opaque TLS")
    func starttlsAllowed() {
        let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x0D, 0x0A, 0x00, 0x00]
        let steps = Script.opening + [
            .c("STARTTLS\r\n"), .s("220 2.0.0 Ready to start TLS\r\n"),
            .client(clientHello), .server([0x16, 0x03, 0x03, 0x0A, 0x0D]), .c("EXPN inside-tls\r\n"),
        ]
        let outcome = verify(steps, policy: Self.tlsPolicy)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.toClientText.contains("250-STARTTLS\r\n"))
        #expect(outcome.toClient.suffix(5) == [0x16, 0x03, 0x03, 0x0A, 0x0D])
        #expect(outcome.mode == .tls)
        #expect(outcome.events == [])
    }

    static let clientHelloStart: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
    static let serverHelloStart: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x7A, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03]

    @Test("After the 220 to STARTTLS both sides must start a TLS handshake; then the session is TLS, opaque")
    func tlsSwitchChecked() {
        let steps = Script.opening + [
            .c("STARTTLS\r\n"), .s("220 2.0.0 Ready to start TLS\r\n"),
            .client(Self.clientHelloStart), .server(Self.serverHelloStart),
            .c("EXPN inside-tls\r\n"), .s("anything\r\n"),
        ]
        let outcome = verify(steps, policy: Self.tlsPolicy)
        #expect(!outcome.tornDown)
        #expect(outcome.toServer == Script.clientBytes(steps))
        #expect(outcome.events == [])
        var harness = SessionHarness(policy: Self.tlsPolicy)
        for step in steps.dropLast(2) {
            switch step {
            case let .client(b): harness.client(b)
            case let .server(b): harness.server(b)
            }
        }
        #expect(harness.session.isTLSEstablished)
    }

    static let notTLS: [(String, [Step], Bool)] = [
        ("plaintext from the client after the 220", [.c("MAIL FROM:<a@b>\r\n")], false),
        ("an SSLv2-style hello from the client", [.client([0x80, 0x2E, 0x01, 0x00, 0x02])], false),
        ("a client record that is not a ClientHello", [.client([0x16, 0x03, 0x01, 0x00, 0x05, 0x02])], false),
        ("an application-data record first", [.client([0x17, 0x03, 0x03, 0x00, 0x20])], false),
        ("a record longer than TLS allows", [.client([0x16, 0x03, 0x01, 0x40, 0x01])], false),
        ("plaintext from the server after its 220", [.client(clientHelloStart), .s("250 ok\r\n")], true),
        ("a server record that is not a ServerHello", [.client(clientHelloStart), .server([0x16, 0x03, 0x03, 0x00, 0x10, 0x01])], true),
    ]

    @Test("Anything but the start of a TLS handshake after the 220 tears the session down", arguments: notTLS)
    func notTLSTearsDown(_ name: String, after: [Step], fromServer: Bool) {
        let steps = Script.opening + [.c("STARTTLS\r\n"), .s("220 2.0.0 Ready to start TLS\r\n")] + after
        let outcome = verify(steps, policy: Self.tlsPolicy)
        #expect(outcome.tornDown, "\(name)")
        #expect(outcome.events == [.starttlsNotTLS(fromServer: fromServer)], "\(name)")
        // Nothing the client sent after the 220 that is not TLS reached the server.
        #expect(!outcome.toServerText.contains("MAIL FROM"))
    }

    @Test("An alert from the server after its 220 is TLS too (it refuses the handshake)")
    func serverAlert() {
        let steps = Script.opening + [
            .c("STARTTLS\r\n"), .s("220 go\r\n"), .client(Self.clientHelloStart), .server([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]),
        ]
        let outcome = verify(steps, policy: Self.tlsPolicy)
        #expect(!outcome.tornDown)
        #expect(outcome.events == [])
    }

    @Test("Plaintext pipelined after STARTTLS is an injection: masked, whatever the reply")
    func starttlsInjection() {
        for reply in ["220 2.0.0 Ready to start TLS\r\n", "454 4.7.0 TLS not available\r\n"] {
            let steps = Script.opening + [
                .c("STARTTLS\r\nMAIL FROM:<attacker@x>\r\nRCPT TO:<v@y>\r\n"), .s(reply),
            ]
            let outcome = verify(steps, policy: Self.tlsPolicy)
            let masked = String(repeating: "x", count: 22) + "\r\n" + String(repeating: "x", count: 13) + "\r\n"
            #expect(outcome.toServerText.hasSuffix("STARTTLS\r\n" + masked))
            #expect(outcome.eventNames == ["starttls-injection"])
        }
    }

    @Test("STARTTLS refused by the server: commands go on, judged")
    func starttlsRefused() {
        let steps = Script.opening + [
            .c("STARTTLS\r\n"), .s("454 4.7.0 TLS not available\r\n"), .c("NOOP\r\nEXPN x\r\n"),
        ]
        let outcome = verify(steps, policy: Self.tlsPolicy)
        #expect(outcome.toServerText.hasSuffix("STARTTLS\r\nNOOP\r\nExxxxx\r\n"))
        #expect(outcome.mode == .commands)
    }

    @Test("max-data exceeded tears the session down at the first byte over the limit")
    func maxDataExceeded() {
        let policy = SMTPPolicy(kind: .esmtp, maxData: 100)
        let body = String(repeating: "0123456789\r\n", count: 20)
        let steps = Self.envelope + [.c(body + ".\r\n")]
        let outcome = verify(steps, policy: policy)
        #expect(outcome.tornDown)
        #expect(outcome.events == [.maxDataExceeded(limit: 100)])
        #expect(outcome.toServer.count == Script.clientBytes(Self.envelope).count + 100)
        #expect(outcome.counters.messageBytes == 100)
    }

    @Test("max-data counts over the session, not per message")
    func maxDataPerSession() {
        let policy = SMTPPolicy(kind: .esmtp, maxData: 50)
        let message = "Subject: a\r\n\r\n1234567890\r\n.\r\n"  // 29 bytes
        let steps = Self.envelope + [.c(message), Script.queued,
                                     .c("MAIL FROM:<a@b>\r\n"), Script.ok, .c("RCPT TO:<c@d>\r\n"), Script.ok,
                                     .c("DATA\r\n"), Script.goAhead, .c(message)]
        let outcome = verify(steps, policy: policy)
        #expect(outcome.counters.messages == 1)
        #expect(outcome.tornDown)
        #expect(outcome.eventNames == ["max-data-exceeded"])
    }
}

@Suite("Session description")
struct SMTPSessionDescriptionTests {
    @Test("show ... sessions detail says when a session has authenticated (235), and not before")
    func authenticated() {
        var harness = SessionHarness(policy: .esmtpDefault)
        for step in Script.opening + [.c("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")] {
            switch step {
            case let .client(b): harness.client(b)
            case let .server(b): harness.server(b)
            }
        }
        #expect(harness.session.modeDescription == "awaiting AUTH reply")
        harness.server(Array("535 5.7.8 Error: authentication failed\r\n".utf8))
        #expect(harness.session.modeDescription == "commands")
        harness.client(Array("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n".utf8))
        harness.server(Array("235 2.7.0 Authentication successful\r\n".utf8))
        #expect(harness.session.modeDescription == "commands, authenticated")
    }
}
