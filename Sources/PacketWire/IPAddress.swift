/// An IPv4 address. `rawValue` holds the four wire bytes as a number, first byte most significant
/// (so 10.0.0.1 is `0x0A00_0001`).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a number, first wire byte most significant.
    public var rawValue: UInt32

    /// Wraps the numeric form (first wire byte most significant).
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The address `a.b.c.d`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses a strict dotted quad: four decimal parts 0...255, no leading zeros (so "010" is
    /// refused instead of being read as octal by some tools and decimal by others).
    public init?(_ text: some StringProtocol) {
        var value: UInt32 = 0
        var parts = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard parts < 4, !part.isEmpty, part.count <= 3,
                  part.count == 1 || part.first != "0",
                  let byte = UInt8(part, radix: 10) else { return nil }
            value = value << 8 | UInt32(byte)
            parts += 1
        }
        guard parts == 4 else { return nil }
        rawValue = value
    }

    /// The four wire bytes, in order.
    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }

    /// Dotted-quad text, e.g. `10.10.10.2`.
    public var description: String {
        bytes.map { String($0) }.joined(separator: ".")
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// An IPv6 address as two 64-bit halves, first wire byte most significant in `high`.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Wire bytes 0...7, first byte most significant.
    public var high: UInt64
    /// Wire bytes 8...15, first byte most significant.
    public var low: UInt64

    /// Wraps the two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The address made of eight 16-bit groups, as written in text.
    public init(_ groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// Parses RFC 4291 §2.2 text: eight groups, at most one `::`, optionally a dotted quad in
    /// the last 32 bits. Zone indices (`%eth0`) are refused: they never occur in a packet.
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        let halves = string.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        guard let head = Self.parseGroups(halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
        var groups = head
        if halves.count == 2 {
            if halves[1].contains("::") { return nil }
            guard let tail = Self.parseGroups(halves[1], allowIPv4Tail: true),
                  head.count + tail.count <= 7 else { return nil }
            groups += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard groups.count == 8 else { return nil }
        self.init(groups)
    }

    /// The colon-separated groups of one side of `::` (empty text gives no groups).
    private static func parseGroups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4Tail, part.contains(".") {
                guard let v4 = IPv4Address(part) else { return nil }
                groups.append(UInt16(truncatingIfNeeded: v4.rawValue >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4.rawValue))
                continue
            }
            guard (1...4).contains(part.count), let group = UInt16(part, radix: 16) else { return nil }
            groups.append(group)
        }
        return groups
    }

    /// The eight 16-bit groups.
    public var groups: [UInt16] {
        (0..<8).map { i in
            let half = i < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(i % 4)))
        }
    }

    /// The sixteen wire bytes, in order.
    public var bytes: [UInt8] {
        groups.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
    }

    /// The embedded IPv4 address when this is an IPv4-mapped address (`::ffff:a.b.c.d`).
    public var ipv4Mapped: IPv4Address? {
        guard high == 0, low >> 32 == 0xffff else { return nil }
        return IPv4Address(rawValue: UInt32(truncatingIfNeeded: low))
    }

    /// RFC 5952 text: lower-case hex without leading zeros, the longest run (first on a tie) of
    /// two or more zero groups as `::`, IPv4-mapped addresses with a dotted-quad tail (§5).
    public var description: String {
        if let v4 = ipv4Mapped { return "::ffff:\(v4)" }
        let groups = self.groups
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                text += "::"
                i += bestLength
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[i], radix: 16)
            i += 1
        }
        return text
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// An IPv4 or IPv6 address. IPv4 addresses order before IPv6 ones; an IPv4-mapped IPv6 address
/// is a different value from the IPv4 address it maps (they come from different packets).
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses dotted-quad or RFC 4291 text.
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// 4 or 6.
    public var version: Int {
        switch self {
        case .v4: 4
        case .v6: 6
        }
    }

    /// The wire bytes (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): a.bytes
        case .v6(let a): a.bytes
        }
    }

    /// Dotted quad or RFC 5952 text.
    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}
