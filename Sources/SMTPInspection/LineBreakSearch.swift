/// Finds the next CR or LF: message content is mostly long runs of text between line breaks, and
/// this search is what keeps DATA inspection above 1 GB/s on one core (BENCHMARKS.md).
enum LineBreakSearch {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080
    private static let crs: UInt64 = 0x0D0D_0D0D_0D0D_0D0D
    private static let lfs: UInt64 = 0x0A0A_0A0A_0A0A_0A0A

    /// Index of the first CR or LF in `bytes[start..<end]`, or `end`.
    @inline(__always)
    static func next(in bytes: Span<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        // Sound: a byte view of a Span<UInt8> is the same memory with the same lifetime; the load
        // below is bounds-checked by RawSpan, and every bit pattern is a valid UInt64.
        let raw = unsafe bytes.bytes
        while i &+ 8 <= end {
            let word = unsafe raw.unsafeLoadUnaligned(fromByteOffset: i, as: UInt64.self)
            if hasZeroByte(word ^ crs) || hasZeroByte(word ^ lfs) { break }
            i &+= 8
        }
        while i < end {
            let byte = bytes[i]
            if byte == 0x0D || byte == 0x0A { return i }
            i &+= 1
        }
        return end
    }

    @inline(__always)
    private static func hasZeroByte(_ x: UInt64) -> Bool {
        (x &- ones) & ~x & highs != 0
    }
}
