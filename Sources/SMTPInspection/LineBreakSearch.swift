/// Finds the next CR or LF: message content is mostly long runs of text between line breaks, and
/// this search is what keeps DATA inspection above 1 GB/s on one core (BENCHMARKS.md).
enum LineBreakSearch {
    /// Index of the first CR or LF in `bytes[start..<end]`, or `end`.
    @inline(__always)
    static func next(in bytes: Span<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        while i &+ 8 <= end {
            let word = ByteWords.load(bytes, at: i)
            let found = ByteWords.bytes(word, equalTo: 0x0D) | ByteWords.bytes(word, equalTo: 0x0A)
            if found != 0 { return i &+ ByteWords.firstFlagged(found) }
            i &+= 8
        }
        while i < end {
            let byte = bytes[i]
            if byte == 0x0D || byte == 0x0A { return i }
            i &+= 1
        }
        return end
    }
}
