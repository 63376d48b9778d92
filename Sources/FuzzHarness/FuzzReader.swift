/// Reads a fuzz input front to back. Past the end every read returns zeros (or fewer bytes), so
/// any input, however short, decodes to something: libFuzzer's mutations never hit a parse error.
struct FuzzReader {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }
    var remaining: Int { max(0, bytes.count - offset) }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }

    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }

    /// Up to `count` bytes (fewer at the end of the input).
    mutating func bytes(_ count: Int) -> [UInt8] {
        let n = min(count, remaining)
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    /// A length: one byte, or two (little-endian) when `long`.
    mutating func length(long: Bool) -> Int { long ? Int(u16()) : Int(byte()) }
}

/// Builds inputs in the formats the readers decode (seeds, reproducers written by hand).
struct FuzzWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func u16(_ v: UInt16) { bytes += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
    mutating func u32(_ v: UInt32) { u16(UInt16(truncatingIfNeeded: v)); u16(UInt16(truncatingIfNeeded: v >> 16)) }
    mutating func append(_ b: [UInt8]) { bytes += b }
}

/// Printable ASCII as is, CR and LF as \r and \n, anything else as \xHH (reproducer printouts).
func escaped(_ bytes: some Sequence<UInt8>) -> String {
    var out = ""
    for b in bytes {
        switch b {
        case 0x0D: out += "\\r"
        case 0x0A: out += "\\n"
        case 0x5C: out += "\\\\"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            let hex = String(b, radix: 16, uppercase: true)
            out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out
}
