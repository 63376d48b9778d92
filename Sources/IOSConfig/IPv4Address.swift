/// An IPv4 address or mask as IOS writes it: four decimal octets.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address in host order: `10.0.0.1` is `0x0A00_0001`.
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text strictly: four decimal octets 0-255, no sign, no leading zeros
    /// beyond a single `0` (IOS reads `010` as ten, Linux tools as eight: refuse the ambiguity).
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit),
                  part.count == 1 || part.first != "0",
                  let octet = UInt8(part) else { return nil }
            result = result << 8 | UInt32(octet)
        }
        value = result
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    public static let any = IPv4Address(0)
    public static let broadcast = IPv4Address(UInt32.max)

    /// The number of leading one bits when this is a contiguous netmask, else nil.
    public var netmaskPrefixLength: Int? {
        let ones = (~value).leadingZeroBitCount
        let expected: UInt32 = ones == 0 ? 0 : UInt32.max << UInt32(32 - ones)
        return value == expected ? ones : nil
    }

    /// The netmask with `length` leading one bits.
    public static func netmask(prefixLength length: Int) -> IPv4Address {
        precondition((0...32).contains(length))
        return IPv4Address(length == 0 ? 0 : UInt32.max << UInt32(32 - length))
    }

    /// The inverse of this value: an IOS wildcard turned into the mask Linux tools use, or back.
    public var inverted: IPv4Address { IPv4Address(~value) }

    /// Whether `address` is matched by this address under IOS `wildcard` (one bits: don't care).
    public func matches(_ address: IPv4Address, wildcard: IPv4Address) -> Bool {
        (value ^ address.value) & ~wildcard.value == 0
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
