/// An IPv6 address as IOS reads it in a configuration (`2001:DB8:10:10::2`, any case, one `::`,
/// an optional dotted-quad tail). `description` is RFC 5952 text (lower case, the longest run of
/// zero groups as `::`), what the rules print; `iosText` is the upper-case form IOS prints.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Wire bytes 0...7 and 8...15, first byte most significant.
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses RFC 4291 §2.2 text. A zone (`%eth0`) or a prefix length is not part of an address.
    public init?(parsing text: some StringProtocol) {
        let string = String(text)
        guard !string.isEmpty, string.unicodeScalars.allSatisfy({ $0.isASCII }) else { return nil }
        let halves = string.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        guard let head = IPv6Address.groups(halves[0], tailAllowed: halves.count == 1) else { return nil }
        var groups = head
        if halves.count == 2 {
            guard !halves[1].contains("::"), let tail = IPv6Address.groups(halves[1], tailAllowed: true),
                  head.count + tail.count <= 7 else { return nil }
            groups += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard groups.count == 8 else { return nil }
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    private static func groups(_ text: Substring, tailAllowed: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, tailAllowed, part.contains(".") {
                guard let v4 = IPv4Address(parsing: part) else { return nil }
                result += [UInt16(v4.value >> 16), UInt16(v4.value & 0xFFFF)]
                continue
            }
            guard (1...4).contains(part.count), let group = UInt16(part, radix: 16) else { return nil }
            result.append(group)
        }
        return result
    }

    /// The eight 16-bit groups.
    public var groups: [UInt16] {
        (0..<8).map { i in UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (48 - 16 * UInt64(i % 4))) }
    }

    /// RFC 5952: lower case, no leading zeros, the first longest run of two or more zero groups as `::`.
    public var description: String { text(uppercase: false) }

    /// As IOS prints addresses in a running-config: upper-case hex, otherwise RFC 5952.
    public var iosText: String { text(uppercase: true) }

    private func text(uppercase: Bool) -> String {
        let groups = self.groups
        var best = (start: -1, length: 0)
        var run = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if run < 0 { run = i }
            } else if run >= 0 {
                if i - run > best.length { best = (run, i - run) }
                run = -1
            }
        }
        if best.length < 2 { best = (-1, 0) }
        var text = ""
        var i = 0
        while i < 8 {
            if i == best.start {
                text += "::"
                i += best.length
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[i], radix: 16, uppercase: uppercase)
            i += 1
        }
        return text
    }

    public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }

    public static let unspecified = IPv6Address(high: 0, low: 0)

    /// The address with every bit past `length` cleared.
    public func masked(_ length: Int) -> IPv6Address {
        precondition((0...128).contains(length))
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)) }
        return IPv6Address(high: high & mask(length), low: low & mask(length - 64))
    }

    /// fe80::/10: link-local, valid on every link (never a spoofing check's business).
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }
    /// ff00::/8
    public var isMulticast: Bool { high >> 56 == 0xFF }
}

/// An IPv6 prefix: `2001:DB8:10:10::/64`. `address` has no bits past `length`.
public struct IPv6Prefix: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv6Address
    public var length: Int

    public init(_ address: IPv6Address, length: Int) {
        self.address = address.masked(length)
        self.length = length
    }

    /// `2001:db8:10:10::/64` (RFC 5952), as the rules write it.
    public var description: String { "\(address)/\(length)" }

    public func contains(_ other: IPv6Address) -> Bool { other.masked(length) == address }

    /// Whether this prefix holds all of `other`.
    public func covers(_ other: IPv6Prefix) -> Bool { length <= other.length && contains(other.address) }
}
