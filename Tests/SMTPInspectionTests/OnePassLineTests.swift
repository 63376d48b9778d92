import Testing
@testable import SMTPInspection

/// A line or reply that is whole in a chunk is read in one pass (`takeLeadingWords`,
/// `takeWholeLine`); fed byte by byte it never is. `verify` requires the same outcome both ways,
/// so these lines sit on the edges where the one pass must hand over to `judge` or not start.
@Suite("One-pass reading of whole lines")
struct OnePassLineTests {
    static func path(_ n: Int) -> String { String(repeating: "p", count: n - 2) + "@x" }

    /// Lines at the edges: path counts around `path()`'s 256, quoted, bare and spaced paths,
    /// bytes `judge` refuses right after the words the one pass reads, verbs alone, bare CR/LF.
    static let edgeLines: [String] = [
        "RCPT TO:<\(path(254))>\r\n",
        "RCPT TO:<\(path(254))> NOTIFY=NEVER\r\n",
        "RCPT TO:<\(path(255))>\r\n",
        "RCPT TO:<\(path(255))> NOTIFY=NEVER\r\n",
        "RCPT TO:<\(path(256))>\r\n",
        "RCPT TO:<\(path(256))> NOTIFY=NEVER\r\n",
        "RCPT TO:<\"a b\"@x>\r\n",
        "RCPT TO:<\"ab\"@x> NOTIFY=NEVER\r\n",
        "RCPT TO: <a@x>\r\n",
        "RCPT TO:a@x\r\n",
        "RCPT TO:<a@x>x\r\n",
        "RCPT TO:<a@x>\t\r\n",
        "RCPT TO:<a@x>\rx\r\n",
        "RCPT TO:<a@x>\r\r\n",
        "RCPT TO:<a@x>\n",
        "RCPT TO:<a@x> \r\n",
        "RCPT TO:<a x>\r\n",
        "RCPT TO:<a<x>\r\n",
        "RCPT TO:<a@\u{80}x>\r\n",
        "RCPT FROM:<a@x>\r\n",
        "MAIL TO:<a@x>\r\n",
        "mail from:<a@x> size=10\r\n",
        "MAIL FROM:<>\r\n",
        "MAIL FROM:<> SIZE=999999999999\r\n",
        "MAIL\r\n",
        "MAIL \r\n",
        "RCPT\n",
        "DATAX\r\n",
        "DATA\tx\r\n",
        "NOOP\r\r\n",
        "NOOP\rx\r\n",
        "HELO c.example\r\n",
        "ETRN #q\r\n",
        "AUTH\r\n",
        "QUIT \r\n",
        "RSET\n",
    ]

    @Test("Lines at the edges: the same outcome whole and byte by byte", arguments: edgeLines)
    func edges(line: String) {
        let steps: [Step] = [Script.banner, .c("EHLO c.example\r\n"), .s(Script.postfixEHLOReply), .c(line)]
        for policy in [SMTPPolicy.esmtpDefault, .smtpDefault, SMTPPolicy(kind: .esmtp, commandLineLimit: 24)] {
            verify(steps, policy: policy)
        }
    }

    /// Parameters on the edges of what `takeParameters` takes: limits, repeats, incomplete
    /// values, escapes, the wrong command, bytes `judge` refuses.
    static let parameterLines: [String] = [
        "MAIL FROM:<a@x> SIZE=20000000", "MAIL FROM:<a@x> SIZE=20000001", "MAIL FROM:<a@x> SIZE=0",
        "MAIL FROM:<a@x> SIZE=" + String(repeating: "0", count: 19) + "1",
        "MAIL FROM:<a@x> SIZE=" + String(repeating: "0", count: 20) + "1",
        "MAIL FROM:<a@x> SIZE=99999999999999999999", "MAIL FROM:<a@x> SIZE=", "MAIL FROM:<a@x> SIZE=1x",
        "MAIL FROM:<a@x> SIZE=1 SIZE=2", "MAIL FROM:<a@x> SIZE=1  BODY=7BIT  ", "MAIL FROM:<a@x> SIZE=1\t",
        "MAIL FROM:<a@x> SIZE", "MAIL FROM:<a@x> SIZE =1", "MAIL FROM:<a@x> =1", "MAIL FROM:<a@x> SIZ=1",
        "MAIL FROM:<a@x> BODY=8BITMIME", "MAIL FROM:<a@x> body=8bitmime", "MAIL FROM:<a@x> BODY=8BITMIM",
        "MAIL FROM:<a@x> BODY=8BITMIMEX", "MAIL FROM:<a@x> RET=FULL RET=HDRS", "MAIL FROM:<a@x> RET=HDRSX",
        "MAIL FROM:<a@x> ENVID=" + String(repeating: "e", count: 100),
        "MAIL FROM:<a@x> ENVID=" + String(repeating: "e", count: 101),
        "MAIL FROM:<a@x> ENVID=a+2", "MAIL FROM:<a@x> ENVID=a+2B", "MAIL FROM:<a@x> ENVID=a+2b",
        "MAIL FROM:<a@x> ENVID=a=b", "MAIL FROM:<a@x> ENVID=+41", "MAIL FROM:<a@x> ENVID=a\u{01}b",
        "MAIL FROM:<a@x> ENVID=a\u{80}b", "MAIL FROM:<a@x> ENVID=", "MAIL FROM:<a@x> ENVID=a+",
        "MAIL FROM:<a@x> ENVID=abcdefghijk+41lmnopqrstu+5Av", "MAIL FROM:<a@x> ENVID=abcdefghijklmno=p",
        "MAIL FROM:<a@x> ENVID=abcdefghijklmn\u{7F}", "MAIL FROM:<a@x> ENVID=abcdefghijklmnopqrstuvw+4",
        "MAIL FROM:<a@x> AUTH=<>", "MAIL FROM:<a@x> AUTH=<", "MAIL FROM:<a@x> AUTH=a<b",
        "MAIL FROM:<a@x> AUTH=alice+40x SIZE=5", "MAIL FROM:<a@x> NOTIFY=NEVER",
        "RCPT TO:<a@x> NOTIFY=NEVER", "RCPT TO:<a@x> NOTIFY=SUCCESS,NEVER", "RCPT TO:<a@x> NOTIFY=NEVER,SUCCESS",
        "RCPT TO:<a@x> NOTIFY=SUCCESS,SUCCESS", "RCPT TO:<a@x> NOTIFY=SUCCESS,", "RCPT TO:<a@x> NOTIFY=,SUCCESS",
        "RCPT TO:<a@x> NOTIFY=DELAY,FAILURE,SUCCESS ORCPT=rfc822;a+40x",
        "RCPT TO:<a@x> ORCPT=rfc822;a", "RCPT TO:<a@x> ORCPT=;a", "RCPT TO:<a@x> ORCPT=rfc822;",
        "RCPT TO:<a@x> ORCPT=rfc822", "RCPT TO:<a@x> ORCPT=rfc 822;a", "RCPT TO:<a@x> ORCPT=x_y;a",
        "RCPT TO:<a@x> ORCPT=rfc822;" + String(repeating: "o", count: 500),
        "RCPT TO:<a@x> ORCPT=rfc822;" + String(repeating: "o", count: 501),
        "RCPT TO:<a@x> SIZE=1", "RCPT TO:<a@x> ORCPT=r;a ORCPT=r;b", "RCPT TO:<a@x> NOTIFY=NEVER\rx",
        "rcpt to:<a@x> notify=success,Failure,dElAy", "RCPT TO:<a@x> NOTIFY=SUCCESS,FAILURE,DELAY,SUCCESS",
        "RCPT TO:<a@x> NOTIFY=SUCCESSFAILURE", "RCPT TO:<a@x> NOTIFY=SUCCESS,\u{1D}", "RCPT TO:<a@x> NOTIFY\u{1D}NEVER",
        "RCPT TO\u{1A}<a@x>", "MAIL FROM\u{1A}<a@x>", "RCPT TO:\u{1C}a@x>", "RCP\u{14} TO:<a@x>",
        "MAIL FROM:<a@x> \u{13}IZE=1", "MAIL FROM:<a@x> SIZE\u{1D}1",
        "RCPT TO:<a@x> ORCPT=RFC822;a", "RCPT TO:<a@x> ORCPT=rfc822\u{1B}a", "RCPT TO:<a@x> ORCPT=rfc822x;a",
        "RCPT TO:<a@x> ORCPT=rfc822;", "RCPT TO:<a@x> ORCPT=rfc822; ", "RCPT TO:<a@x> ORCPT=rfc822;+4",
    ]

    /// An EHLO reply that advertises PIPELINING and SIZE only (no DSN, 8BITMIME or AUTH).
    static let shortEHLOReply = "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10240000\r\n"

    @Test("Parameters at the edges: the same outcome whole and byte by byte", arguments: parameterLines)
    func parameterEdges(line: String) {
        for ehlo in [Script.postfixEHLOReply, Self.shortEHLOReply] {
            let steps: [Step] = [Script.banner, .c("EHLO c.example\r\n"), .s(ehlo), .c(line + "\r\n"),
                                 .c(line + "\n")]
            for policy in [SMTPPolicy.esmtpDefault, .smtpDefault, SMTPPolicy(kind: .esmtp, commandLineLimit: 40),
                           SMTPPolicy(kind: .esmtp, maxData: 1000)] {
                verify(steps, policy: policy)
            }
        }
    }

    @Test("Path counts: 254 bytes and a parameter pass, 255 and a parameter are masked from the SP")
    func pathLimit() {
        let steps = { (line: String) -> [Step] in
            [Script.banner, .c("EHLO c.example\r\n"), .s(Script.postfixEHLOReply), .c(line)]
        }
        let passing = verify(steps("RCPT TO:<\(Self.path(254))> NOTIFY=NEVER\r\n"))
        #expect(passing.events == [])
        let refused = verify(steps("RCPT TO:<\(Self.path(255))> NOTIFY=NEVER\r\n"))
        #expect(refused.events.contains { if case .invalidParameter(_, _, .tooLong) = $0 { true } else { false } })
        #expect(lines(refused.toServer).last { !$0.isEmpty } == "RCPT TO:<\(Self.path(255))>" + String(repeating: "x", count: 13))
    }

    @Test("A line at the command-line limit: the one pass leaves the length judge counts on")
    func lineLimit() {
        let policy = SMTPPolicy(kind: .esmtp, commandLineLimit: 24)
        let steps = { (line: String) -> [Step] in
            [Script.banner, .c("EHLO c\r\n"), .s(Script.postfixEHLOReply), .c(line)]
        }
        // 22 content bytes pass; a 23rd (here the ">") is masked and reported with the line's length.
        #expect(verify(steps("RCPT TO:<abcdefghij@x>\r\n"), policy: policy).events == [])
        let long = verify(steps("RCPT TO:<abcdefghijk@x>\r\n"), policy: policy)
        #expect(long.events == [.commandLineTooLong(length: 25, limit: 24)])
        #expect(lines(long.toServer).last { !$0.isEmpty } == "RCPT TO:<abcdefghijk@xx")
    }

    static let replies: [String] = [
        "250 ok\r\n", "250-a\r\n250 b\r\n", "250 \n", "250\r\n", "250-\r\n250 x\r\n", "250 a\rb\r\n",
        "250 a\r\r\n", "199 no\r\n", "260 no\r\n", "25x no\r\n", "250x\r\n", "250-a\r\n251 b\r\n",
        "250 " + String(repeating: "t", count: 600) + "\r\n", "421 closing\r\n", "354 go\r\n", "334 x\r\n",
        "550 no\r\n250 extra\r\n", "250 " + String(repeating: "t", count: 505) + "\r\n",
        "250 " + String(repeating: "t", count: 506) + "\r\n",
    ]

    @Test("Replies at the edges: the same outcome whole and byte by byte", arguments: replies)
    func replyEdges(reply: String) {
        verify([Script.banner, .c("EHLO c.example\r\n"), .s(Script.postfixEHLOReply), .c("NOOP\r\n"), .s(reply),
                .c("NOOP\r\n"), .s("250 ok\r\n")])
    }
}
