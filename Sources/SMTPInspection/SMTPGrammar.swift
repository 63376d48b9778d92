// The SMTP grammar's alphabets and limits, in one place. The words (verbs, keywords, values) are
// in SMTPVocabulary.swift; the phases that use these sets are CommandLineStateMachine (one byte at
// a time, +Arguments) and its run skipping (+Runs), and ReplyLineStateMachine. Each phase reads
// one set both ways: the byte path asks `contains` for one byte, the run skipping asks it in a
// loop, so the two cannot disagree. To teach the inspector a new argument (BDAT's chunk size,
// SMTPUTF8's 8-bit paths), change the set or limit here and the phase that reads it.

/// What the RFCs let an element of a command or reply line grow to.
@usableFromInline enum Limits {
    /// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4); the policy's default.
    @usableFromInline static let commandLine = 512
    /// Longest reply line, CRLF included (RFC 5321 §4.5.3.1.5); the policy's default.
    @usableFromInline static let replyLine = 512
    /// Path bytes after "<" (or after the first byte of a bare path), the ">" and the SP after
    /// it included (RFC 5321 §4.5.3.1.3).
    static let path = 256
    /// ENVID's xtext (RFC 3461 §4.4).
    static let envid = 100
    /// ORCPT's xtext after the ";" (RFC 3461 §4.2) and AUTH='s (RFC 4954 §5).
    static let xtext = 500
    /// SIZE's digits (RFC 1870: size-value ::= 1*20DIGIT).
    static let sizeDigits = 20
    /// ETRN's argument, "@" or "#" included (RFC 1985 §5, a domain name's 255 octets).
    static let nodeName = 255
    /// A SASL mechanism name (RFC 4422 §3.1).
    static let mechanism = 20
}

/// A set of byte values: 256 bits, one per value.
struct ByteSet: Equatable, Sendable {
    /// Bit `b & 63` of word `b >> 6` is byte `b`.
    private var words: InlineArray<4, UInt64> = .init(repeating: 0)

    init() {}

    /// The bytes of `ascii` (each character one byte).
    init(_ ascii: String) {
        for byte in ascii.utf8 { insert(byte) }
    }

    init(_ range: ClosedRange<UInt8>) {
        for byte in range { insert(byte) }
    }

    /// Every byte `test` accepts.
    init(where test: (UInt8) -> Bool) {
        for byte in UInt8.min...UInt8.max where test(byte) { insert(byte) }
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        (words[Int(byte &>> 6)] &>> UInt64(byte & 63)) & 1 != 0
    }

    mutating func insert(_ byte: UInt8) {
        words[Int(byte >> 6)] |= 1 << UInt64(byte & 63)
    }

    static func + (lhs: ByteSet, rhs: ByteSet) -> ByteSet {
        var set = lhs
        for k in 0..<4 { set.words[k] |= rhs.words[k] }
        return set
    }

    static func - (lhs: ByteSet, rhs: ByteSet) -> ByteSet {
        var set = lhs
        for k in 0..<4 { set.words[k] &= ~rhs.words[k] }
        return set
    }

    static func == (lhs: ByteSet, rhs: ByteSet) -> Bool {
        (0..<4).allSatisfy { lhs.words[$0] == rhs.words[$0] }
    }

    var inverted: ByteSet { ByteSet(0...0xFF) - self }
}

/// The byte classes of the command and reply grammars, each named after the phase that reads it.
/// A phase takes a byte of its class without changing (but for its counters); the bytes that
/// move it elsewhere are named in the phase's transition, and any other byte is refused.
enum ByteClass: UInt8, CaseIterable, Sendable {
    case control, freeText, pathAngle, pathQuoted, quotedPair, pathBare, digit, xchar, upperHex, addrType
    case nodeName, nodeNameStart, mechanism, base64, replyCode0, replyCode1, replyCode2, lineText

    // Building blocks (RFC 5234 core rules).
    private static let digits = ByteSet("0"..."9")
    private static let alphanumeric = ByteSet("A"..."Z") + ByteSet("a"..."z") + digits
    /// VCHAR: "!".."~".
    private static let visible = ByteSet(0x21...0x7E)
    /// ASCII that a command line may hold: not a control (CR, LF, DEL and the rest) but HTAB.
    private static let asciiText = ByteSet(0x00...0x7F) - ByteClass.control.members

    /// The class's bytes.
    var members: ByteSet {
        switch self {
        case .control:
            // Bytes no command line may hold: controls but HTAB, and DEL (CR and LF end lines
            // and never reach a phase).
            ByteSet(0x00...0x1F) - ByteSet("\t") + ByteSet(0x7F...0x7F)
        case .freeText:
            // HELO's domain, VRFY's string, smtp's arguments: anything but a control, 8-bit too.
            ByteClass.control.members.inverted
        case .pathAngle:
            // RFC 5321 §4.1.2 Mailbox inside angle brackets: VCHAR but "<", ">" (they end or
            // break it) and DQUOTE (it opens a quoted local part). 8-bit needs SMTPUTF8, which
            // is never offered.
            Self.visible - ByteSet("<>\"")
        case .pathQuoted:
            // A quoted local part: ASCII text, SP and HTAB too, but DQUOTE (closes it) and "\"
            // (escapes the next byte).
            Self.asciiText - ByteSet("\"\\")
        case .quotedPair:
            // What "\" may escape: any ASCII text byte.
            Self.asciiText
        case .pathBare:
            // A path without angle brackets (Postfix's tolerance): ASCII text but SP (ends it),
            // "<" and ">".
            Self.asciiText - ByteSet(" <>")
        case .digit:
            // SIZE's digits (RFC 1870).
            Self.digits
        case .xchar:
            // RFC 3461 §4 xchar: VCHAR but "+" (it starts an escape) and "=".
            Self.visible - ByteSet("+=")
        case .upperHex:
            // The two digits after xtext's "+": upper-case hexadecimal.
            Self.digits + ByteSet("A"..."F")
        case .addrType:
            // ORCPT's addr-type (RFC 3461 §4.2, an atom as used): letters, digits, "-".
            Self.alphanumeric + ByteSet("-")
        case .nodeName:
            // ETRN's node name (RFC 1985 §5): letters, digits, ".", "-", "_".
            Self.alphanumeric + ByteSet(".-_")
        case .nodeNameStart:
            // ETRN's first byte may also be "@" (a domain and its subdomains) or "#" (a queue).
            ByteClass.nodeName.members + ByteSet("@#")
        case .mechanism:
            // A SASL mechanism (RFC 4422 §3.1; case-insensitive here, as servers accept):
            // letters, digits, "-", "_".
            Self.alphanumeric + ByteSet("-_")
        case .base64:
            // A SASL initial response (RFC 4954 §4): base64, "=" included (alone it means empty).
            Self.alphanumeric + ByteSet("+/=")
        case .replyCode0:
            // A reply code's first digit (RFC 5321 §4.2): "2".."5".
            ByteSet("2"..."5")
        case .replyCode1:
            // Its second: "0".."5".
            ByteSet("0"..."5")
        case .replyCode2:
            // Its third: any digit.
            Self.digits
        case .lineText:
            // A line's text up to its end: anything but CR and LF (reply text, message content,
            // a masked command line's tail; LineBreakSearch reads it eight bytes at a time).
            ByteSet("\r\n").inverted
        }
    }

    @inline(__always)
    var bit: UInt32 { 1 &<< UInt32(rawValue) }
}

/// Every class compiled into one table, a row per byte value with a bit per class, so that a
/// membership test is one load. Built once per policy (a field of the policy in the byte loops,
/// not a global's once-check).
struct ByteClassTable: Sendable {
    /// An array, not inline storage: the loops index it in place and never copy it.
    private let rows: [UInt32]
    /// Per class, by raw value: its eight-bytes-at-a-time test, when it has one.
    private let scans: [WordScan?]

    init() {
        precondition(ByteClass.allCases.count <= 32)
        var rows = [UInt32](repeating: 0, count: 256)
        for byteClass in ByteClass.allCases {
            for byte in UInt8.min...UInt8.max where byteClass.members.contains(byte) {
                rows[Int(byte)] |= byteClass.bit
            }
        }
        self.rows = rows
        scans = ByteClass.allCases.map { WordScan($0.members) }
    }

    @inline(__always)
    func contains(_ byteClass: ByteClass, _ byte: UInt8) -> Bool {
        rows[Int(byte)] & byteClass.bit != 0
    }

    /// The first index from `start` below `limit` whose byte is not in `byteClass`.
    @inline(__always)
    func run(of byteClass: ByteClass, in bytes: Span<UInt8>, from start: Int, to limit: Int) -> Int {
        var i = start
        if let scan = scans[Int(byteClass.rawValue)] {
            while i &+ 8 <= limit {
                let outside = scan.outside(ByteWords.load(bytes, at: i))
                if outside != 0 { return i &+ ByteWords.firstFlagged(outside) }
                i &+= 8
            }
        }
        let bit = byteClass.bit
        while i < limit, rows[Int(bytes[i])] & bit != 0 { i &+= 1 }
        return i
    }

    /// Whether `byteClass` is tested eight bytes at a time (for the tests).
    func hasWordScan(_ byteClass: ByteClass) -> Bool { scans[Int(byteClass.rawValue)] != nil }

    /// The eight-bytes-at-a-time test of `byteClass` on `word` (for the tests).
    func outside(_ byteClass: ByteClass, _ word: UInt64) -> UInt64? { scans[Int(byteClass.rawValue)]?.outside(word) }
}

/// A class that is one range of ASCII bytes but for at most three, tested eight bytes at a time
/// (ByteWords): a byte is outside when it is below the range, above it, or one of the three.
/// Built from the class's members, so it follows the class; the tests compare it with the class
/// for every byte value in every position.
struct WordScan: Sendable {
    private let low: UInt8
    private let aboveHigh: UInt8
    private let except: (UInt64, UInt64, UInt64)

    init?(_ members: ByteSet) {
        let all = (UInt8.min...UInt8.max).filter(members.contains)
        guard let low = all.first, let high = all.last, low >= 1, high < 0x80 else { return nil }
        let holes = (low...high).filter { !members.contains($0) }
        guard holes.count <= 3 else { return nil }
        // A missing hole repeats NUL, which is below the range anyway.
        let splats = (holes + [0, 0, 0]).prefix(3).map(ByteWords.splat)
        (self.low, aboveHigh, except) = (low, high &+ 1, (splats[0], splats[1], splats[2]))
    }

    /// Flags (high bit) the bytes of `word` outside the class; the lowest flag is exact.
    @inline(__always)
    func outside(_ word: UInt64) -> UInt64 {
        ByteWords.bytes(word, below: low) | ByteWords.bytes(word, from: aboveHigh)
            | ByteWords.bytes(word, equalToSplat: except.0) | ByteWords.bytes(word, equalToSplat: except.1)
            | ByteWords.bytes(word, equalToSplat: except.2)
    }
}

extension ByteSet {
    init(_ range: ClosedRange<Unicode.Scalar>) {
        self.init(UInt8(ascii: range.lowerBound)...UInt8(ascii: range.upperBound))
    }
}
