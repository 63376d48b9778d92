/// A TCP sequence or acknowledgment number: a point on a circle of 2^32 values.
///
/// Comparison follows RFC 1982 serial-number arithmetic (as RFC 793/9293 use it): `a < b` means
/// "a comes before b", i.e. b is reached from a by moving forward less than 2^31. Two numbers
/// exactly 2^31 apart are unordered: neither is before the other (RFC 1982 §3.2 leaves it
/// undefined; we answer `false` both ways rather than Linux's `before()`, which says `true` both
/// ways). Because that order is not transitive over the whole circle, the type deliberately does
/// not conform to `Comparable` (sorting with it would be wrong); it offers the four operators.
///
/// All arithmetic on sequence numbers goes through this type; raw `UInt32` arithmetic elsewhere
/// is a bug waiting to happen.
public struct SequenceNumber: Hashable, Sendable, CustomStringConvertible {
    /// The 32-bit value as carried on the wire (host byte order).
    public var rawValue: UInt32

    /// Wraps a wire value.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Wraps a wire value.
    public init(_ rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public var description: String { String(rawValue) }

    /// The number `offset` positions further on (or back, when negative), modulo 2^32.
    /// An offset of 2^31 or more in magnitude means "somewhere else entirely" and is a caller bug.
    public static func + (lhs: SequenceNumber, rhs: Int) -> SequenceNumber {
        precondition(rhs > -0x8000_0000 && rhs < 0x8000_0000, "sequence offset out of range")
        return SequenceNumber(rawValue: lhs.rawValue &+ UInt32(truncatingIfNeeded: rhs))
    }

    /// The number `offset` positions back, modulo 2^32.
    public static func - (lhs: SequenceNumber, rhs: Int) -> SequenceNumber {
        lhs + (-rhs)
    }

    /// Moves forward by `rhs` positions.
    public static func += (lhs: inout SequenceNumber, rhs: Int) {
        lhs = lhs + rhs
    }

    /// Signed distance from `rhs` to `lhs`: positive when `lhs` is after `rhs`.
    /// Always in `-2^31 ..< 2^31`; numbers exactly 2^31 apart give `-2^31`.
    public static func - (lhs: SequenceNumber, rhs: SequenceNumber) -> Int {
        Int(Int32(bitPattern: lhs.rawValue &- rhs.rawValue))
    }

    /// Signed number of positions from `self` forward to `other` (`other - self`).
    public func distance(to other: SequenceNumber) -> Int {
        other - self
    }

    /// `true` when `lhs` comes strictly before `rhs` (RFC 1982 §3.2).
    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        let d = rhs.rawValue &- lhs.rawValue
        return d != 0 && d < 0x8000_0000
    }

    /// `true` when `lhs` comes strictly after `rhs`.
    public static func > (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        rhs < lhs
    }

    /// `true` when `lhs` equals or comes before `rhs`.
    public static func <= (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        lhs == rhs || lhs < rhs
    }

    /// `true` when `lhs` equals or comes after `rhs`.
    public static func >= (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        lhs == rhs || rhs < lhs
    }

    /// The later of two numbers; `a` when they are unordered (2^31 apart).
    public static func max(_ a: SequenceNumber, _ b: SequenceNumber) -> SequenceNumber {
        a < b ? b : a
    }

    /// The earlier of two numbers; `a` when they are unordered (2^31 apart).
    public static func min(_ a: SequenceNumber, _ b: SequenceNumber) -> SequenceNumber {
        b < a ? b : a
    }
}
