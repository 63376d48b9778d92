/// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
///
/// Sums are one's-complement sums of big-endian 16-bit words, kept folded to 16 bits so they can
/// be combined with `add(_:_:)`. The checksum stored in a header is the complement of the sum.
public enum InternetChecksum {
    /// The folded one's-complement sum of `bytes` read as big-endian 16-bit words starting at an
    /// even position; an odd last byte is padded with a zero byte (RFC 1071 §4.1).
    ///
    /// Speed: RFC 1071 §2(B) says the sum is byte-order independent, so the loop sums native
    /// little-endian words and swaps once at the end. Each 8-byte word is assembled from eight
    /// bounds-checked byte reads, which LLVM turns into one check and one unaligned load (see
    /// `littleEndian64`), so this stays safe code and runs well above 2 GB/s in release builds.
    /// The accumulators take at most 2^33 per step and cannot overflow below 2^31 steps (16 GiB).
    public static func sum(_ bytes: Span<UInt8>) -> UInt16 {
        let count = bytes.count
        var a: UInt64 = 0
        var b: UInt64 = 0
        var i = 0
        while i &+ 16 <= count {
            let v = littleEndian64(bytes, i)
            let w = littleEndian64(bytes, i &+ 8)
            a &+= (v & 0xffff_ffff) &+ (v >> 32)
            b &+= (w & 0xffff_ffff) &+ (w >> 32)
            i &+= 16
        }
        while i &+ 2 <= count {
            a &+= UInt64(bytes[i]) | UInt64(bytes[i &+ 1]) << 8
            i &+= 2
        }
        if i < count {
            a &+= UInt64(bytes[i])
        }
        return fold(a &+ b).byteSwapped
    }

    /// Bytes `i...i+7` as a little-endian word. The highest index is read first on purpose: once
    /// its bounds check passes, LLVM drops the other seven and merges the reads into one load.
    /// Reading in ascending order keeps eight checks and runs at a third of the speed (measured).
    @inline(__always)
    private static func littleEndian64(_ s: Span<UInt8>, _ i: Int) -> UInt64 {
        UInt64(s[i &+ 7]) << 56 | UInt64(s[i &+ 6]) << 48 | UInt64(s[i &+ 5]) << 40
            | UInt64(s[i &+ 4]) << 32 | UInt64(s[i &+ 3]) << 24 | UInt64(s[i &+ 2]) << 16
            | UInt64(s[i &+ 1]) << 8 | UInt64(s[i])
    }

    /// Folds a wide accumulator of 16-bit words to a 16-bit one's-complement sum (end-around
    /// carries). A non-zero input never folds to 0.
    public static func fold(_ wide: UInt64) -> UInt16 {
        var s = (wide & 0xffff_ffff) &+ (wide >> 32)
        s = (s & 0xffff) &+ (s >> 16)
        s = (s & 0xffff) &+ (s >> 16)
        s = (s & 0xffff) &+ (s >> 16)
        return UInt16(truncatingIfNeeded: s)
    }

    /// One's-complement addition of two folded sums.
    public static func add(_ a: UInt16, _ b: UInt16) -> UInt16 {
        fold(UInt64(a) &+ UInt64(b))
    }

    /// The checksum to store for `bytes` (`~sum`), e.g. for an IPv4 header whose checksum field
    /// is zero.
    public static func checksum(_ bytes: Span<UInt8>) -> UInt16 {
        ~sum(bytes)
    }

    /// The sum of the IPv4 TCP/UDP pseudo-header (RFC 793 §3.1): addresses, protocol, length.
    public static func pseudoHeaderSum(source: IPv4Address, destination: IPv4Address,
                                       protocol ipProtocol: UInt8, length: Int) -> UInt16 {
        var wide = UInt64(source.rawValue >> 16) &+ UInt64(source.rawValue & 0xffff)
        wide &+= UInt64(destination.rawValue >> 16) &+ UInt64(destination.rawValue & 0xffff)
        wide &+= UInt64(ipProtocol) &+ UInt64(UInt16(truncatingIfNeeded: length))
        return fold(wide)
    }

    /// The sum of the IPv6 upper-layer pseudo-header (RFC 8200 §8.1): addresses, 32-bit
    /// upper-layer length, next header.
    public static func pseudoHeaderSum(source: IPv6Address, destination: IPv6Address,
                                       protocol ipProtocol: UInt8, length: Int) -> UInt16 {
        // No array of the four halves: this runs per packet, and an array literal may allocate.
        @inline(__always) func words(_ half: UInt64) -> UInt64 {
            (half >> 48) &+ ((half >> 32) & 0xffff) &+ ((half >> 16) & 0xffff) &+ (half & 0xffff)
        }
        var wide = words(source.high) &+ words(source.low) &+ words(destination.high) &+ words(destination.low)
        let length32 = UInt32(truncatingIfNeeded: length)
        wide &+= UInt64(length32 >> 16) &+ UInt64(length32 & 0xffff) &+ UInt64(ipProtocol)
        return fold(wide)
    }

    /// The pseudo-header sum for either address family. Both addresses must be of one family.
    public static func pseudoHeaderSum(source: IPAddress, destination: IPAddress,
                                       protocol ipProtocol: UInt8, length: Int) -> UInt16 {
        switch (source, destination) {
        case (.v4(let s), .v4(let d)):
            pseudoHeaderSum(source: s, destination: d, protocol: ipProtocol, length: length)
        case (.v6(let s), .v6(let d)):
            pseudoHeaderSum(source: s, destination: d, protocol: ipProtocol, length: length)
        default:
            preconditionFailure("pseudo-header with addresses of two families")
        }
    }

    /// RFC 1624 eqn. 3, `HC' = ~(~HC + ~m + m')`: the new checksum after the bytes whose sum was
    /// `oldSum` now sum to `newSum`.
    ///
    /// `atOddOffset` says the changed bytes start at an odd distance from the start of the
    /// checksummed data (`sum` reads from an even position): their sums are then byte-swapped
    /// into place (RFC 1071 §2(B)). An odd-length range needs nothing extra: its last byte sits
    /// in the high half of a word whose other half did not change.
    ///
    /// Matches a full recompute whenever `checksum` was produced by one (a full computation never
    /// yields 0xFFFF, and eqn. 3 avoids the -0 problem of eqn. 2).
    public static func update(checksum: UInt16, oldSum: UInt16, newSum: UInt16, atOddOffset: Bool) -> UInt16 {
        let old = atOddOffset ? oldSum.byteSwapped : oldSum
        let new = atOddOffset ? newSum.byteSwapped : newSum
        return ~fold(UInt64(~checksum) &+ UInt64(~old) &+ UInt64(new))
    }
}
