import Testing

@testable import smtp_inspect

@Suite("AlertRateLimiter: the global log rate limit, with time as a parameter")
struct AlertRateLimiterTests {
    static let second: UInt64 = 1_000_000_000
    static let limits = AlertRateLimiter.Limits(window: second, perKind: 3, total: 5)

    @Test("A burst of one kind: the first perKind pass, the rest are counted and summarised when the window ends")
    func burstOfOneKind() {
        var limiter = AlertRateLimiter(Self.limits)
        var admitted = 0
        for k in 0..<1000 {
            let r = limiter.admit("%FW-4-SMTP_INVALID_COMMAND", at: 1000 + UInt64(k))
            #expect(r.ended.isEmpty)
            if r.admitted { admitted += 1 }
        }
        #expect(admitted == 3)
        #expect(limiter.suppressedTotal == 997)
        // Still inside the window: nothing ends.
        #expect(limiter.expire(at: 1000 + Self.second - 1).isEmpty)
        let ended = limiter.expire(at: 1000 + Self.second)
        #expect(ended == [.init(kind: "%FW-4-SMTP_INVALID_COMMAND", count: 997, windowEnd: 1000 + Self.second, window: Self.second)])
        // A new window admits again; the ended one is not summarised twice.
        #expect(limiter.admit("%FW-4-SMTP_INVALID_COMMAND", at: 5 * Self.second).admitted)
        #expect(limiter.expire(at: 7 * Self.second).isEmpty)
    }

    @Test("The summary of a window comes with the first line after it, before that line")
    func summaryWithNextLine() {
        var limiter = AlertRateLimiter(Self.limits)
        for _ in 0..<5 { _ = limiter.admit("%FW-6-DROP_PKT", at: 0) }
        let next = limiter.admit("%FW-6-DROP_PKT", at: 2 * Self.second)
        #expect(next.admitted)
        #expect(next.ended.map(\.count) == [2])
        #expect(next.ended.map(\.windowEnd) == [Self.second])
    }

    @Test("Kinds have their own allowance within the total; summaries come in the order the kinds first appeared")
    func kindsAndTotal() {
        var limiter = AlertRateLimiter(Self.limits)
        let sequence = ["A", "A", "A", "A", "B", "B", "C", "C", "B", "A"]
        let results = sequence.map { limiter.admit($0, at: 10).admitted }
        // A: 3 admitted then refused; B: 2 admitted (total 5 reached); C and the rest refused.
        #expect(results == [true, true, true, false, true, true, false, false, false, false])
        #expect(limiter.finish().map { "\($0.kind):\($0.count)" } == ["A:2", "B:1", "C:2"])
        #expect(limiter.finish().isEmpty)
    }

    @Test("Bounded output: a flood over many windows prints at most perKind lines and one summary per window")
    func floodOverWindows() {
        var limiter = AlertRateLimiter(Self.limits)
        var printed = 0, summaries: [AlertRateLimiter.Suppression] = []
        // 21,000 lines over 10 s, as one 63 KB packet of `X\r\n` gave.
        for k in 0..<21_000 {
            let r = limiter.admit("%FW-4-SMTP_INVALID_COMMAND", at: UInt64(k) * (10 * Self.second / 21_000))
            if r.admitted { printed += 1 }
            summaries += r.ended
        }
        summaries += limiter.finish()
        #expect(printed == 10 * 3)
        #expect(summaries.count == 10)
        #expect(printed + summaries.reduce(0) { $0 + $1.count } == 21_000)
        #expect(limiter.suppressedTotal == UInt64(21_000 - printed))
    }

    @Test("A clock that jumps back by more than a window closes the window (replay of a merged capture)")
    func clockBack() {
        var limiter = AlertRateLimiter(Self.limits)
        for _ in 0..<4 { _ = limiter.admit("A", at: 100 * Self.second) }
        #expect(limiter.expire(at: 100 * Self.second - 1).isEmpty)
        #expect(limiter.expire(at: 10 * Self.second).map(\.count) == [1])
    }

    @Test("The summary line: IOS shape, mnemonic without its facility and severity")
    func summaryLine() {
        let s = AlertRateLimiter.Suppression(kind: "%FW-4-SMTP_INVALID_COMMAND", count: 20873, windowEnd: 0, window: Self.second)
        #expect(AlertLog.suppressionLine(s) == "%FW-4-ALERT_SUPPRESSED: 20873 SMTP_INVALID_COMMAND messages suppressed in the last 1 s")
        let one = AlertRateLimiter.Suppression(kind: "%FW-6-DROP_PKT", count: 1, windowEnd: 0, window: Self.second / 2)
        #expect(AlertLog.suppressionLine(one) == "%FW-4-ALERT_SUPPRESSED: 1 DROP_PKT message suppressed in the last 0.5 s")
    }
}
