import Testing
@testable import SMTPInspection

@Suite("ESMTP parameters (docs/behaviour.md §4)")
struct SMTPSessionParameterTests {
    /// Plays one command after Postfix's EHLO reply; returns the line as the server got it.
    static func judge(_ command: String, policy: SMTPPolicy = .esmtpDefault,
                      ehlo: String = Script.postfixEHLOReply) -> (sent: String, outcome: Outcome) {
        let steps: [Step] = [Script.banner, .c("EHLO c.example\r\n"), .s(ehlo), .c(command + "\r\n")]
        let outcome = verify(steps, policy: policy)
        return (lines(outcome.toServer)[1], outcome)
    }

    static let legal = [
        "MAIL FROM:<>",
        "MAIL FROM:<a@b.example> SIZE=1000",
        "MAIL FROM: <a@b.example>",
        "MAIL FROM:a@b.example",
        "mail from:<\"john smith\"@b.example> body=8bitmime",
        "MAIL FROM:<a@b> BODY=7BIT SIZE=20000000 RET=HDRS ENVID=QQ314159+2Bx",
        "MAIL FROM:<a@b>  SIZE=1 ",
        "MAIL FROM:<a@b> AUTH=alice+40example.org",
        "RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;c+40d",
        "RCPT TO:<c@d> NOTIFY=NEVER",
        "RCPT TO:<Postmaster>",
        "ETRN @example.org",
        "ETRN #queue1",
        "AUTH LOGIN",
        "AUTH PLAIN =",
    ]

    @Test("Well-formed parameters of advertised extensions pass", arguments: legal)
    func legalParametersPass(command: String) {
        let (sent, outcome) = Self.judge(command)
        #expect(sent == command)
        #expect(outcome.events == [])
    }

    /// (command, index of the first masked byte, problem)
    static let illegal: [(String, Int, ParameterProblem)] = [
        ("MAIL FROM:<a@b> SIZE=20000001", 28, .sizeAboveMaxData),
        ("MAIL FROM:<a@b> SIZE=99999999999999999999999", 28, .sizeAboveMaxData),
        ("MAIL FROM:<a@b> SIZE=12a", 23, .malformed),
        ("MAIL FROM:<a@b> XFOO=1", 16, .unknownParameter),
        ("MAIL FROM:<a@b> SMTPUTF8", 17, .unknownParameter),  // "S" could still be SIZE
        ("MAIL FROM:<a@b> BODY=BINARYMIME", 21, .malformed),
        ("MAIL FROM:<a@b> RET=ALL", 20, .malformed),
        ("MAIL FROM:<a@b> ENVID=a=b", 23, .malformed),
        ("MAIL FROM:<a@b> ENVID=a+4g", 25, .malformed),
        ("MAIL FROM:<a@b> NOTIFY=NEVER", 16, .wrongCommand),
        ("MAIL FROM:<a@b> SIZE=1 SIZE=2", 23, .duplicate),
        ("RCPT TO:<c@d> NOTIFY=NEVER,SUCCESS", 26, .malformed),
        ("RCPT TO:<c@d> NOTIFY=SUCCESS,SUCCESS", 35, .malformed),
        ("RCPT TO:<c@d> NOTIFY=SOMETIMES", 22, .malformed),
        ("RCPT TO:<c@d> ORCPT=rfc822 NOTIFY=NEVER", 26, .malformed),
        ("RCPT TO:<c@d> ORCPT=rfc 822", 23, .malformed),
        ("RCPT TO:<c@d> SIZE=10", 14, .wrongCommand),
        ("MAIL FROM:<a b@c>", 12, .malformed),
        ("MAIL FROM:<a@b>x", 15, .malformed),
        ("MAIL TO:<a@b>", 5, .malformed),
        ("ETRN example.org extra", 17, .extraArgument),
        ("ETRN exa$mple", 8, .malformed),
        ("AUTH PLAIN abc!def", 14, .malformed),
        ("AUTH PLAIN abc def", 15, .extraArgument),
        ("AUTH LOGIN\u{E9}", 10, .malformed),
    ]

    @Test("Illegal parameters are masked from the offending byte", arguments: illegal)
    func illegalParametersMasked(command: String, firstMasked: Int, problem: ParameterProblem) {
        let (sent, outcome) = Self.judge(command)
        let original = Array(command.utf8), got = Array(sent.utf8)
        #expect(got.count == original.count)
        #expect(Array(got.prefix(firstMasked)) == Array(original.prefix(firstMasked)))
        #expect(got.dropFirst(firstMasked).allSatisfy { $0 == UInt8(ascii: "x") })
        #expect(got.count > firstMasked, "nothing was masked")
        guard case let .invalidParameter(_, _, reported)? = outcome.events.first else {
            Issue.record("no invalid-parameter event: \(outcome.events)")
            return
        }
        #expect(reported == problem)
        #expect(outcome.events.count == 1)
    }

    @Test("A parameter of an extension the server did not advertise is masked")
    func notAdvertised() {
        let plainEHLO = "250-mail.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        for (command, first) in [("MAIL FROM:<a@b> SIZE=10", 16), ("RCPT TO:<c@d> NOTIFY=NEVER", 14),
                                 ("MAIL FROM:<a@b> AUTH=<>", 16)] {
            let (sent, outcome) = Self.judge(command, ehlo: plainEHLO)
            #expect(sent == String(command.prefix(first)) + String(repeating: "x", count: command.count - first))
            guard case let .invalidParameter(_, _, problem)? = outcome.events.first else {
                Issue.record("no event for \(command)")
                continue
            }
            #expect(problem == .notAdvertised)
        }
        // With HELO instead of EHLO nothing was advertised.
        let steps: [Step] = [Script.banner, .c("HELO c\r\n"), Script.ok, .c("MAIL FROM:<a@b> BODY=8BITMIME\r\n")]
        #expect(lines(verify(steps).toServer)[1] == "MAIL FROM:<a@b> xxxxxxxxxxxxx")
    }

    @Test("Problems seen only at the line's end pass unmasked but are reported",
          arguments: ["MAIL FROM:", "MAIL FROM:<a@b> SIZE=", "RCPT TO:<c@d> NOTIFY=SUCC", "ETRN", "AUTH"])
    func lateProblems(command: String) {
        let (sent, outcome) = Self.judge(command)
        #expect(sent == command)
        #expect(outcome.eventNames == ["invalid-parameter"])
    }

    @Test("smtp inspects verbs only, as IOS does")
    func smtpIgnoresParameters() {
        let steps: [Step] = [Script.banner, .c("HELO c\r\n"), Script.ok, .c("MAIL FROM:<a@b> XFOO=1\r\n")]
        let outcome = verify(steps, policy: .smtpDefault)
        #expect(outcome.toServer == Script.clientBytes(steps))
    }
}
