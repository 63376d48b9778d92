import Testing
@testable import SMTPInspection

@Suite("debug ip inspect smtp trace")
struct SMTPTraceTests {
    /// A greeting, then `HELO x` typed one character per packet with CRLF in one packet, as in
    /// the seed's trace, then the reply.
    @Test("A hand-typed HELO traces like the seed: one VERB record per packet, then CMD PARAM")
    func handTypedHelo() {
        var session = SMTPSession(policy: .esmtpDefault)
        var output = SMTPOutput(traceEnabled: true)
        var trace: [String] = []
        func client(_ s: String) {
            let bytes = Array(s.utf8)
            let verdict = session.receiveClient(bytes.span, into: &output)
            #expect(verdict.consumed == bytes.count)
            trace += output.trace.map(\.description)
            output.removeAll()
        }
        func server(_ s: String) {
            let bytes = Array(s.utf8)
            _ = session.receiveServer(bytes.span, into: &output)
            trace += output.trace.map(\.description)
            output.removeAll()
        }
        server("220 mx ESMTP\r\n")
        for c in ["H", "E", "L", "O", " ", "x"] { client(c) }
        client("\r\n")
        server("250 mx\r\n")
        #expect(trace == [
            "CBAC SMTP: reply_type GREETING",
            "CBAC SMTP: GREETING REPLY - Reply len: 14, match_len:14, reply_re_state:5",
            "CBAC SMTP: GREETING REPLY match id:220",
            "CBAC SMTP: End Of Reply Line - index:0 ,len:14",
            "CBAC SMTP: VERB - Cmd len:1, match_len:1, cmd_re_state:\(state("H"))",
            "CBAC SMTP: VERB - Cmd len:2, match_len:1, cmd_re_state:\(state("HE"))",
            "CBAC SMTP: VERB - Cmd len:3, match_len:1, cmd_re_state:\(state("HEL"))",
            "CBAC SMTP: VERB - Cmd len:4, match_len:1, cmd_re_state:\(state("HELO"))",
            "CBAC SMTP: VERB - match id:2",
            "CBAC SMTP: CMD PARAM - Cmd len:5, match_len:1, cmd_re_state:3",
            "CBAC SMTP: CMD PARAM - Cmd len:6, match_len:1, cmd_re_state:3",
            "CBAC SMTP: CMD PARAM - Cmd len:8, match_len:2, cmd_re_state:3",
            "CBAC SMTP: CMD PARAM - match id:0",
            "CBAC SMTP: End Of Command Line - index:1, len:8",
            "CBAC SMTP: reply_type HELO",
            "CBAC SMTP: HELO REPLY - Reply len: 8, match_len:8, reply_re_state:5",
            "CBAC SMTP: HELO REPLY match id:250",
            "CBAC SMTP: End Of Reply Line - index:1 ,len:8",
        ])
    }

    func state(_ prefix: String) -> Int {
        let trie = SMTPPolicy.esmtpDefault.verbTrie
        var s = TokenTrie.start
        for b in prefix.utf8 { s = trie.step(s, b) }
        return Int(s)
    }

    @Test("A masked line's trace ends with match id 1; tracing off records nothing")
    func maskedAndOff() {
        var on = SessionHarness(policy: .esmtpDefault, trace: true)
        on.server(Array("220 mx\r\n".utf8))
        _ = on.session.receiveClient(Array("EXPN x\r\n".utf8).span, into: &on.output)
        let text = on.output.trace.map(\.description)
        #expect(text.contains("CBAC SMTP: CMD PARAM - match id:1"))
        #expect(text.last == "CBAC SMTP: End Of Command Line - index:1, len:8")

        var off = SessionHarness(policy: .esmtpDefault, trace: false)
        off.server(Array("220 mx\r\n".utf8))
        _ = off.session.receiveClient(Array("EXPN x\r\n".utf8).span, into: &off.output)
        #expect(off.output.trace.isEmpty)
    }
}
