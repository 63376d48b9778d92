import FlowEngine
import NFQueue
import Testing

@testable import smtp_inspect

@Suite("Replay: capture time to engine time, total")
struct ReplayTimestampTests {
    @Test("Ordinary timestamps convert exactly", arguments: [
        (Int64(0), Int64(0), UInt64(0)),
        (1_700_000_000, 123_456_789, 1_700_000_000_123_456_789),
    ])
    func exact(seconds: Int64, nanoseconds: Int64, expected: UInt64) {
        var clamped = 0
        #expect(Replay.moment(PacketTimestamp(seconds: seconds, nanoseconds: nanoseconds), clamped: &clamped).nanoseconds == expected)
        #expect(clamped == 0)
    }

    @Test("A pcapng timestamp with a large high word (seconds past UInt64 nanoseconds) is clamped, not a trap",
          arguments: [Int64(18_446_744_074), 0x7FFF_FFFF_FFFF, Int64.max])
    func large(seconds: Int64) {
        var clamped = 0
        let m = Replay.moment(PacketTimestamp(seconds: seconds, nanoseconds: 999_999_999), clamped: &clamped)
        #expect(m.nanoseconds == Replay.latestTimestamp * 1_000_000_000)
        #expect(clamped == 1)
        // What the replay does with it afterwards must not trap either.
        #expect((m + 3600 * 24).nanoseconds > m.nanoseconds)
        _ = Replay.date(m)
        _ = Replay.timestamp(m)
    }

    @Test("Before 1970 is 1970")
    func negative() {
        var clamped = 0
        #expect(Replay.moment(PacketTimestamp(seconds: -5, nanoseconds: 0), clamped: &clamped).nanoseconds == 0)
        #expect(clamped == 0)
    }
}
