// Big-endian field access over lent packet memory. Every read and write here is bounds-checked by
// Span itself; the views call these only at offsets their constructors have already proved valid,
// so the checks never fire on a parsed packet (they are the backstop, not the validation).

extension Span where Element == UInt8 {
    @inline(__always)
    func be16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inline(__always)
    func be32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16
            | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    @inline(__always)
    func be64(at offset: Int) -> UInt64 {
        UInt64(be32(at: offset)) << 32 | UInt64(be32(at: offset + 4))
    }
}

extension MutableSpan where Element == UInt8 {
    @inline(__always)
    mutating func setBE16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inline(__always)
    func be16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }
}

extension Array where Element == UInt8 {
    mutating func appendBE16(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendBE32(_ value: UInt32) {
        appendBE16(UInt16(truncatingIfNeeded: value >> 16))
        appendBE16(UInt16(truncatingIfNeeded: value))
    }
}
