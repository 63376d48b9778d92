import Testing
@testable import SMTPInspection
import TestSupport

/// Random, self-consistent sessions: a small simulated server answers every line, DATA and AUTH
/// end their group, message bodies mix dot lines, bare newlines and binary. Every script must
/// give the same outcome in every split (the verifier), and what reached the server must never
/// contain an executable refused verb at a line start outside message data.
@Suite("Random sessions")
struct SMTPSessionPropertyTests {
    static let commandPool = [
        "NOOP", "RSET", "HELP", "VRFY bob", "MAIL FROM:<a@b> SIZE=100", "MAIL FROM:<a@b> SIZE=99999999",
        "RCPT TO:<c@d> NOTIFY=SUCCESS", "RCPT TO:<c@d> NOTIFY=NEVER,DELAY", "EXPN staff", "TURN", "BDAT 5",
        "XEXCH50 1 2", "GET / HTTP/1.1", "mail from:<x@y> body=8bitmime", "ETRN @q", "HELO again",
        "RCPT TO:<\"a b\"@c> ORCPT=rfc822;x+2By", "QUIT", "\u{1}NOOP", "NOOP\rEXPN", "",
    ]
    static let bodyPieces = [
        "Subject: x\r\n", "\r\n", "..\r\n", ".x\r\n", "EXPN a\r\n", "QUIT\r\n", "\n", "\r", ".",
        "text", "\u{0}\u{FF}", "\n.\n", "\r.\r",
    ]

    static func script(seed: UInt64) -> [Step] {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        var steps = Script.opening
        for _ in 0..<(2 + Int(rng.next() % 6)) {
            var group: [String] = (0..<Int(rng.next() % 4)).map { _ in pick(commandPool) }
            let last = pick(["DATA", "AUTH LOGIN", "AUTH PLAIN AGEAYg==", "NOOP"])
            group.append(last)
            steps.append(.c(group.map { $0 + "\r\n" }.joined()))
            for line in group.dropLast() {
                steps.append(.s(line.hasPrefix("QUIT") ? "221 Bye\r\n" : pick(["250 Ok\r\n", "500 no\r\n", "250-a\r\n250 b\r\n"])))
            }
            switch last {
            case "DATA":
                if rng.next() % 4 == 0 { steps.append(.s("554 no valid recipients\r\n")); continue }
                steps.append(.s("354 go ahead\r\n"))
                var body = (0..<Int(rng.next() % 8)).map { _ in pick(bodyPieces) }.joined()
                body += rng.next() % 5 == 0 ? "" : "\r\n.\r\n"
                steps.append(.c(body))
                steps.append(.s("250 queued\r\n"))
            case "AUTH LOGIN":
                steps.append(.s("334 VXNlcm5hbWU6\r\n"))
                steps.append(.c(pick(["YWxpY2U=", "EXPNroot", "*"]) + "\r\n"))
                steps.append(.s(pick(["235 ok\r\n", "535 no\r\n", "501 cancelled\r\n"])))
            case "AUTH PLAIN AGEAYg==":
                steps.append(.s(pick(["235 ok\r\n", "535 no\r\n"])))
            default:
                steps.append(.s("250 Ok\r\n"))
            }
        }
        return steps
    }

    @Test("500 random sessions: identical in every split, no refused verb reaches the server",
          arguments: 0..<10)
    func randomSessions(batch: Int) {
        var sawMask = 0, sawData = 0, sawTeardown = 0
        for seed in UInt64(batch * 50)..<UInt64(batch * 50 + 50) {
            let steps = Self.script(seed: seed)
            let outcome = verify(steps)
            sawMask += outcome.counters.commandsMasked
            sawData += outcome.counters.messages
            if outcome.tornDown { sawTeardown += 1 }
            // Outside message data (approximated: lines before the first DATA) nothing refused
            // reaches the server executable.
            let sent = lines(outcome.toServer)
            for line in sent.prefix(while: { $0.uppercased() != "DATA" }) {
                let verb = line.uppercased().split(separator: " ").first.map(String.init) ?? ""
                #expect(!["EXPN", "TURN", "BDAT", "XEXCH50", "GET"].contains(verb), "\(line) passed (seed \(seed))")
            }
        }
        #expect(sawMask > 0 && sawData > 0, "the generator must exercise masking and data")
        _ = sawTeardown
    }
}
