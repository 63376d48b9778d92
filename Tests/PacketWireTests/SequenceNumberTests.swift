import PacketWire
import TestSupport
import Testing

@Suite("SequenceNumber")
struct SequenceNumberTests {
    /// (a, b, a < b): ordinary, across the wrap, and the 2^31 boundary where order ends.
    static let orderCases: [(UInt32, UInt32, Bool)] = [
        (1, 2, true),
        (2, 1, false),
        (5, 5, false),
        (0xffff_fff0, 0x10, true),        // 0x20 ahead across the wrap
        (0x10, 0xffff_fff0, false),
        (0xffff_ffff, 0, true),
        (0, 0x7fff_ffff, true),           // the farthest point still "after"
        (0x7fff_ffff, 0, false),
        (0, 0x8000_0000, false),          // exactly 2^31 apart: unordered (RFC 1982 §3.2)
        (0x8000_0000, 0, false),
        (0x8000_0001, 0, true),           // 2^31 - 1 ahead across the wrap
    ]

    @Test(arguments: orderCases)
    func order(a: UInt32, b: UInt32, aBeforeB: Bool) {
        let x = SequenceNumber(a), y = SequenceNumber(b)
        #expect((x < y) == aBeforeB)
        #expect((y > x) == aBeforeB)
        #expect((x <= y) == (aBeforeB || a == b))
        #expect((y >= x) == (aBeforeB || a == b))
    }

    /// (start, offset, expected raw value).
    static let additionCases: [(UInt32, Int, UInt32)] = [
        (0, 1, 1),
        (0xffff_ffff, 1, 0),
        (0xffff_fff0, 0x20, 0x10),
        (0x10, -0x20, 0xffff_fff0),
        (0, 0x7fff_ffff, 0x7fff_ffff),
        (5, 0, 5),
    ]

    @Test(arguments: additionCases)
    func addition(start: UInt32, offset: Int, expected: UInt32) {
        let s = SequenceNumber(start)
        #expect((s + offset).rawValue == expected)
        #expect((s + offset - offset) == s)
        var t = s
        t += offset
        #expect(t.rawValue == expected)
        #expect((s + offset) - s == offset)
        #expect(s.distance(to: s + offset) == offset)
    }

    @Test func distanceIsSignedAndWraps() {
        #expect(SequenceNumber(0x10) - SequenceNumber(0xffff_fff0) == 0x20)
        #expect(SequenceNumber(0xffff_fff0) - SequenceNumber(0x10) == -0x20)
        #expect(SequenceNumber(0x8000_0000) - SequenceNumber(0) == -0x8000_0000)
    }

    @Test func maxAndMinAcrossTheWrap() {
        let before = SequenceNumber(0xffff_fffe), after = SequenceNumber(3)
        #expect(SequenceNumber.max(before, after) == after)
        #expect(SequenceNumber.max(after, before) == after)
        #expect(SequenceNumber.min(before, after) == before)
        #expect(SequenceNumber.min(after, before) == before)
    }

    /// Random pairs: `<` agrees with the sign of the distance, and is antisymmetric.
    @Test func orderMatchesDistance() {
        var rng = SplitMix64(seed: 1982)
        for _ in 0..<10_000 {
            let a = SequenceNumber(UInt32(truncatingIfNeeded: rng.next()))
            let b = SequenceNumber(UInt32(truncatingIfNeeded: rng.next()))
            let d = b - a
            #expect((a < b) == (d > 0 && d != -0x8000_0000))
            #expect(!(a < b && b < a))
        }
    }
}
