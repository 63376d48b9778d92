@testable import SMTPInspection
import TestSupport

/// Random command lines and replies drawn from the grammar's own alphabets, with lengths around
/// every limit, so that a seeded run reaches each phase's edges: a run that stops one byte short
/// of a limit, the byte that crosses it, a refused byte in the middle of a run.
struct GrammarLines {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// A length near `limit`: far below, or within two bytes of it on either side.
    mutating func length(near limit: Int) -> Int {
        chance(30) ? 1 + below(max(1, min(limit, 12))) : max(0, limit - 2 + below(5))
    }

    /// `count` bytes of `alphabet`; in one of four, one of them from `noise` instead.
    mutating func text(_ alphabet: [UInt8], _ count: Int, noise: [UInt8] = GrammarLines.noise) -> [UInt8] {
        var bytes = (0..<count).map { _ in pick(alphabet) }
        if count > 0 && chance(25) { bytes[below(count)] = pick(noise) }
        return bytes
    }

    /// Bytes at the edges of the classes: controls, SP, DEL, 8-bit, the delimiters.
    static let noise: [UInt8] = [0x00, 0x09, 0x0D, 0x1F, 0x20, 0x22, 0x2B, 0x2C, 0x3B, 0x3C, 0x3D, 0x3E, 0x40,
                                 0x5C, 0x7F, 0x80, 0xC3, 0xFF]
    static func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let letters = ascii("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    static let alphanumeric = letters + ascii("0123456789")
    static let pathText = alphanumeric + ascii("@.-_+!#$%&'*/=?^`{|}~")
    static let xchars = alphanumeric + ascii("!#$%&'*-./:;<>?@[]^_`{|}~\"")
    static let base64 = alphanumeric + ascii("+/=")

    /// The words a verb, keyword or value may be, and near misses.
    static let verbs = SMTPVerb.allCases.map(\.text) + ["EXPN", "TURN", "BDAT", "XEXCH50", "VER", "MAI", "DATAX", ""]
    static let keywords = SMTPParameter.allCases.map(\.keyword) + ["XFOO", "SIZ", "SMTPUTF8", "NOTIFYX", ""]

    mutating func word(_ words: [String]) -> [UInt8] {
        var bytes = Self.ascii(pick(words))
        if chance(30) { bytes = bytes.map { $0 | 0x20 } }  // lower case
        if chance(5), !bytes.isEmpty { bytes[below(bytes.count)] = pick(Self.noise) }
        return bytes
    }

    /// xtext about `limit` long; in most, every "+" escape is well formed.
    mutating func xtext(near limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        let n = length(near: limit)
        let clean = chance(70)
        while out.count < n {
            if chance(4) {
                // "+" and two upper-case hex digits, or fewer, or not hex.
                let digits = clean || chance(70) ? 2 : below(3)
                let hex = Self.ascii("0123456789ABCDEF")
                out += [UInt8(ascii: "+")] + (0..<digits).map { _ in pick(clean || chance(80) ? hex : Self.ascii("abg")) }
            } else {
                out.append(pick(Self.xchars))
            }
        }
        return out
    }

    mutating func value(for keyword: String) -> [UInt8] {
        switch keyword.uppercased() {
        case "SIZE":
            return text(Self.ascii("0123456789"), length(near: 20), noise: Self.ascii("x -"))
                + (chance(10) ? Self.ascii("20000001") : [])
        case "BODY": return word(["7BIT", "8BITMIME", "8BITMIM", "BINARYMIME", ""])
        case "RET": return word(["FULL", "HDRS", "HDR", "FULLX"])
        case "NOTIFY":
            let words = (0..<(1 + below(4))).map { _ in word(["NEVER", "SUCCESS", "FAILURE", "DELAY", ""]) }
            return Array(words.joined(separator: Self.ascii(",")))
        case "ENVID": return xtext(near: Limits.envid)
        case "AUTH": return chance(15) ? word(["<>", "<", "<>x"]) : xtext(near: Limits.xtext)
        case "ORCPT":
            return word(["rfc822", "x-type", "", "rfc 822"]) + (chance(90) ? Self.ascii(";") : [])
                + xtext(near: Limits.xtext)
        default: return text(Self.xchars, below(6))
        }
    }

    mutating func path() -> [UInt8] {
        let count = length(near: Limits.path)
        switch below(6) {
        case 0: return text(Self.pathText, count)  // bare
        case 1: return Self.ascii("<\"") + text(Self.pathText + Self.ascii(" \\\""), count) + Self.ascii("\"@x>")
        default: return Self.ascii("<") + text(Self.pathText, count) + Self.ascii(">")
        }
    }

    /// One command line, terminator included.
    mutating func commandLine() -> [UInt8] {
        // MAIL and RCPT have the most grammar: half the lines.
        let verb = chance(50) ? word(chance(50) ? ["MAIL"] : ["RCPT"]) : word(Self.verbs)
        var line = verb
        let upper = String(decoding: verb, as: UTF8.self).uppercased()
        if chance(90) { line += Self.ascii(chance(95) ? " " : "\t") }
        switch upper {
        case "MAIL", "RCPT", "SAML", "SEND", "SOML":
            let prefix = upper == "RCPT" ? "TO:" : "FROM:"
            line += word(chance(90) ? [prefix] : ["FROM:", "TO:", "FROM"])
            if chance(10) { line += Self.ascii(" ") }
            line += path()
            for _ in 0..<below(4) {
                line += Self.ascii(chance(90) ? " " : "  ")
                let onMail = upper != "RCPT"
                let keyword = word(chance(80) ? SMTPParameter.allCases.filter { $0.onMail == onMail }.map(\.keyword)
                                              : Self.keywords)
                line += keyword
                if chance(95) { line += Self.ascii("=") + value(for: String(decoding: keyword, as: UTF8.self)) }
            }
        case "ETRN":
            line += (chance(30) ? [pick(Self.ascii("@#"))] : []) + text(Self.alphanumeric + Self.ascii(".-_"),
                                                                        length(near: Limits.nodeName))
        case "AUTH":
            line += text(Self.alphanumeric + Self.ascii("-_"), length(near: Limits.mechanism))
            if chance(60) { line += Self.ascii(" ") + text(Self.base64, below(40)) }
        default:
            if chance(50) { line += text(Self.pathText + Self.ascii(" "), below(30), noise: Self.noise + [0x80]) }
        }
        if chance(5) { line += Self.ascii(" ") + text(Self.pathText, below(5)) }
        if chance(10) { line = Array(line.prefix(below(line.count + 1))) }  // cut anywhere
        switch below(20) {
        case 0: line += [0x0A]
        case 1: line += [0x0D, 0x0D, 0x0A]
        case 2: line += [0x0D, UInt8(ascii: "x"), 0x0D, 0x0A]
        default: line += [0x0D, 0x0A]
        }
        return line
    }

    /// One reply line, terminator included.
    mutating func replyLine(last: Bool) -> [UInt8] {
        var line = text(Self.ascii("0123456789"), 3, noise: Self.ascii("x -\r"))
        // A last line ends the reply whatever its separator but "-"; a bad one is reported.
        line.append(last ? (chance(95) ? 0x20 : pick(Self.ascii("x\r"))) : UInt8(ascii: "-"))
        line += text(Self.pathText + Self.ascii(" "), chance(5) ? Limits.replyLine - 8 + below(6) : below(30))
        line += chance(10) ? [0x0A] : [0x0D, 0x0A]
        return line
    }
}
