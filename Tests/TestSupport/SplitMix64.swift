/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so that every random test
/// (random splits, packets, damaged configurations, TCP schedules) repeats exactly and a
/// failure can be replayed from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` (the plain remainder: a bias too small to matter for tests, and the
    /// sequence existing seeds were chosen with).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// `count` random bytes.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}
