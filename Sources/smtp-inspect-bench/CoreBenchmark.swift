import SMTPInspection

/// The inspection core alone, fed pre-built chunks of MSS size (1448 bytes, as TCP segments
/// on a 1500-byte path carry), with the server's replies in between.
struct CoreBenchmark {
    static let mss = 1448

    struct Result {
        var name: String
        var bytes: Int
        var seconds: Double
        var chunks: Int
        var allocations: UInt64?
        var commands: Int

        var megabytesPerSecond: Double { Double(bytes) / seconds / 1e6 }
    }

    /// A script flattened into chunks: (isClient, bytes).
    typealias Chunks = [(client: Bool, bytes: [UInt8])]

    static func chunked(_ text: [UInt8], client: Bool) -> Chunks {
        stride(from: 0, to: text.count, by: mss).map { (client, Array(text[$0..<min(text.count, $0 + mss)])) }
    }

    static func opening() -> Chunks {
        chunked(Array("220 mx.example ESMTP\r\n".utf8), client: false)
            + chunked(Array("EHLO c.example\r\n".utf8), client: true)
            + chunked(Array("250-mx\r\n250-PIPELINING\r\n250-SIZE 2000000000\r\n250-DSN\r\n250 8BITMIME\r\n".utf8), client: false)
    }

    /// `messages` messages of `size` bytes of 76-column text each.
    static func dataHeavy(messages: Int, size: Int) -> Chunks {
        var line = Array(repeating: UInt8(ascii: "m"), count: 76) + [0x0D, 0x0A]
        line[0] = UInt8(ascii: "T")
        var body: [UInt8] = []
        while body.count < size { body += line }
        body += Array(".\r\n".utf8)
        var chunks: Chunks = []
        for _ in 0..<messages {
            chunks += chunked(Array("MAIL FROM:<a@b.example> SIZE=\(size)\r\nRCPT TO:<c@d.example>\r\nDATA\r\n".utf8), client: true)
            chunks += chunked(Array("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n".utf8), client: false)
            chunks += chunked(body, client: true)
            chunks += chunked(Array("250 2.0.0 Ok: queued\r\n".utf8), client: false)
        }
        return chunks
    }

    /// Pipelined envelopes with parameters, 50 commands per group, answered per group.
    static func commandHeavy(groups: Int) -> Chunks {
        envelopes(groups: groups, mail: "MAIL FROM:<sender@example.org> SIZE=10240 BODY=8BITMIME RET=HDRS") {
            "RCPT TO:<recipient\($0)@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;r\($0)+40x"
        }
    }

    /// Pipelined envelopes as MTAs send them: MAIL with SIZE, 48 plain RCPTs, per group.
    static func typicalEnvelopes(groups: Int) -> Chunks {
        envelopes(groups: groups, mail: "MAIL FROM:<sender@example.org> SIZE=10240") {
            "RCPT TO:<recipient\($0)@example.net>"
        }
    }

    /// `groups` times: MAIL, 48 RCPTs and RSET in one pipelined group, then their 50 replies.
    private static func envelopes(groups: Int, mail: String, rcpt: (Int) -> String) -> Chunks {
        var group: [UInt8] = Array((mail + "\r\n").utf8)
        var replies: [UInt8] = Array("250 2.1.0 Ok\r\n".utf8)
        for i in 0..<48 {
            group += Array((rcpt(i) + "\r\n").utf8)
            replies += Array("250 2.1.5 Ok\r\n".utf8)
        }
        group += Array("RSET\r\n".utf8)
        replies += Array("250 2.0.0 Ok\r\n".utf8)
        var chunks: Chunks = []
        for _ in 0..<groups {
            chunks += chunked(group, client: true)
            chunks += chunked(replies, client: false)
        }
        return chunks
    }

    /// Runs the chunks through one session (after the opening), `rounds` times over.
    static func run(_ name: String, opening: Chunks, chunks: Chunks, rounds: Int, mallocCount: (() -> UInt64)?) -> Result {
        var session = SMTPSession(policy: SMTPPolicy(kind: .esmtp, maxData: Int.max))
        var output = SMTPOutput()
        var commands = 0
        func feed(_ chunk: (client: Bool, bytes: [UInt8])) {
            if chunk.client {
                let verdict = session.receiveClient(chunk.bytes.span, into: &output)
                precondition(verdict.consumed == chunk.bytes.count, "\(name): bytes held (\(session.mode))")
            } else {
                let verdict = session.receiveServer(chunk.bytes.span, into: &output)
                precondition(verdict.consumed == chunk.bytes.count, "\(name): a reply resumed the client")
            }
            commands &+= output.counters.commands
            precondition(output.events.isEmpty, "\(name): unexpected event \(output.events)")
            output.removeAll()
        }
        for chunk in opening { feed(chunk) }
        for chunk in chunks { feed(chunk) }  // warm-up: arrays reach their steady capacity
        commands = 0
        let clock = ContinuousClock()
        let before = mallocCount?()
        var bytes = 0
        let elapsed = clock.measure {
            for _ in 0..<rounds {
                for chunk in chunks {
                    feed(chunk)
                    if chunk.client { bytes &+= chunk.bytes.count }
                }
            }
        }
        let after = mallocCount?()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let allocations = before.flatMap { b in after.map { $0 - b } }
        return Result(name: name, bytes: bytes, seconds: seconds, chunks: chunks.count * rounds,
                      allocations: allocations, commands: commands)
    }
}
