/// Tests on eight bytes at once (one UInt64 word, little-endian), for the scans that look for the
/// first remarkable byte in a run of ordinary ones. Each test returns a mask with the high bit of
/// the bytes it flags. A borrow can flag a byte above a flagged one falsely, never below, so the
/// lowest flagged byte is exact: `firstFlagged` is the first byte that passes the test.
enum ByteWords {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// A word with `byte` in every position.
    @inline(__always)
    static func splat(_ byte: UInt8) -> UInt64 { ones &* UInt64(byte) }

    /// Flags the zero bytes of `word`.
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highs
    }

    /// Flags the bytes of `word` equal to `byte`.
    @inline(__always)
    static func bytes(_ word: UInt64, equalTo byte: UInt8) -> UInt64 {
        zeroBytes(word ^ splat(byte))
    }

    /// Flags the bytes of `word` equal to the byte `splat` holds in every position.
    @inline(__always)
    static func bytes(_ word: UInt64, equalToSplat splat: UInt64) -> UInt64 {
        zeroBytes(word ^ splat)
    }

    /// Flags the bytes of `word` below `bound` (at most 0x80).
    @inline(__always)
    static func bytes(_ word: UInt64, below bound: UInt8) -> UInt64 {
        (word &- splat(bound)) & ~word & highs
    }

    /// Flags the bytes of `word` that are `bound` or above (`bound` at most 0x80); exact.
    @inline(__always)
    static func bytes(_ word: UInt64, from bound: UInt8) -> UInt64 {
        (((word & ~highs) &+ splat(0x80 &- bound)) | word) & highs
    }

    /// The index (0-7) of the lowest flagged byte of a non-zero mask.
    @inline(__always)
    static func firstFlagged(_ mask: UInt64) -> Int {
        mask.trailingZeroBitCount &>> 3
    }

    /// Loads the eight bytes at `offset`; the caller keeps `offset + 8 <= bytes.count`.
    @inline(__always)
    static func load(_ bytes: Span<UInt8>, at offset: Int) -> UInt64 {
        // Sound: a byte view of a Span<UInt8> is the same memory with the same lifetime; the load
        // is bounds-checked by RawSpan, and every bit pattern is a valid UInt64.
        let raw = unsafe bytes.bytes
        return unsafe raw.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt64.self)
    }
}
/// A token of up to eight ASCII bytes to compare with the bytes at a position in one go,
/// letters case-insensitively. `x | 0x20` equals a lower-case letter only when `x` is that letter
/// in either case, so setting bit 5 at the letters' positions and comparing is exact.
struct WordPattern: Sendable {
    let value: UInt64
    let fold: UInt64
    let mask: UInt64
    let count: Int

    init(_ text: String) {
        let bytes = Array(text.utf8)
        precondition(!bytes.isEmpty && bytes.count <= 8 && bytes.allSatisfy { $0 < 0x80 }, "1 to 8 ASCII bytes")
        var (value, fold, mask): (UInt64, UInt64, UInt64) = (0, 0, 0)
        for (k, byte) in bytes.enumerated() {
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            value |= UInt64(isLetter ? byte | 0x20 : byte) << (8 * UInt64(k))
            if isLetter { fold |= 0x20 << (8 * UInt64(k)) }
            mask |= 0xFF << (8 * UInt64(k))
        }
        (self.value, self.fold, self.mask, self.count) = (value, fold, mask, bytes.count)
    }

    /// Whether the first `count` bytes of `word` (loaded little-endian) spell the token.
    @inline(__always)
    func matches(_ word: UInt64) -> Bool { (word | fold) & mask == value }
}
