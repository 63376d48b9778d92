import NFQueue

/// The options of `nfqueue-selftest queue`.
struct Options {
    var queue: UInt16 = 0
    var mode = "accept"
    var mark: PacketMark = 0x5e1f
    var shortenTo = 64
    var holdMilliseconds = 500
    var write: String?
    var gso = false
    var maxLength: UInt32 = 4096
    var receiveBuffer: Int?
    var bogusVerdicts = 0

    init(_ args: ArraySlice<String>) {
        var it = args.makeIterator()
        func value(_ name: String) -> String {
            guard let v = it.next() else { fail("\(name) needs a value", status: 2) }
            return v
        }
        func number<T: FixedWidthInteger>(_ name: String) -> T {
            let v = value(name)
            let parsed = v.hasPrefix("0x") ? T(v.dropFirst(2), radix: 16) : T(v)
            guard let parsed else { fail("\(name): not a number: \(v)", status: 2) }
            return parsed
        }
        while let a = it.next() {
            switch a {
            case "--queue": queue = number(a)
            case "--mode": mode = value(a)
            case "--mark": mark = PacketMark(rawValue: number(a))
            case "--shorten-to": shortenTo = number(a)
            case "--hold-ms": holdMilliseconds = number(a)
            case "--write": write = value(a)
            case "--gso": gso = true
            case "--max-length": maxLength = number(a)
            case "--rcvbuf": receiveBuffer = number(a)
            case "--bogus-verdicts": bogusVerdicts = number(a)
            default: fail("unknown option \(a)", status: 2)
            }
        }
        guard mode == "accept" || mode == "marked" else { fail("--mode accept|marked", status: 2) }
    }
}
