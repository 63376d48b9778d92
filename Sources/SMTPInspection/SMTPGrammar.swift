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
    private var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

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
        let word = byte < 0x80 ? (byte < 0x40 ? w0 : w1) : (byte < 0xC0 ? w2 : w3)
        return (word &>> UInt64(byte & 63)) & 1 != 0
    }

    mutating func insert(_ byte: UInt8) {
        let bit: UInt64 = 1 << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: w0 |= bit
        case 1: w1 |= bit
        case 2: w2 |= bit
        default: w3 |= bit
        }
    }

    static func + (lhs: ByteSet, rhs: ByteSet) -> ByteSet {
        var set = lhs
        (set.w0, set.w1, set.w2, set.w3) = (lhs.w0 | rhs.w0, lhs.w1 | rhs.w1, lhs.w2 | rhs.w2, lhs.w3 | rhs.w3)
        return set
    }

    static func - (lhs: ByteSet, rhs: ByteSet) -> ByteSet {
        var set = lhs
        (set.w0, set.w1, set.w2, set.w3) = (lhs.w0 & ~rhs.w0, lhs.w1 & ~rhs.w1, lhs.w2 & ~rhs.w2, lhs.w3 & ~rhs.w3)
        return set
    }

    var inverted: ByteSet { ByteSet(0...0xFF) - self }
}

/// The byte classes of the command and reply grammars, each named after the phase that reads it.
/// A phase takes a byte of its class without changing (but for its counters); the bytes that
/// move it elsewhere are named in the phase's transition, and any other byte is refused.
/// Compiled once per policy (a field load in the byte loops, not a global's once-check).
struct ByteClasses: Sendable {
    // Building blocks (RFC 5234 core rules).
    static let digit = ByteSet("0"..."9")
    static let alpha = ByteSet("A"..."Z") + ByteSet("a"..."z")
    static let alphanumeric = alpha + digit
    /// VCHAR: "!".."~".
    static let visible = ByteSet(0x21...0x7E)

    /// Bytes no command line may hold: controls but HTAB, and DEL (CR and LF end lines and never
    /// reach a phase).
    let control = ByteSet(0x00...0x1F) - ByteSet("\t") + ByteSet(0x7F...0x7F)
    /// Free text (HELO's domain, VRFY's string, smtp's arguments): every byte not a control,
    /// 8-bit included.
    let freeText: ByteSet
    /// What a path takes inside angle brackets (RFC 5321 §4.1.2 Mailbox): VCHAR but "<", ">"
    /// (they end or break it) and DQUOTE (it opens a quoted local part). 8-bit needs SMTPUTF8,
    /// which is never offered.
    let pathAngle = visible - ByteSet("<>\"")
    /// Inside a quoted local part: ASCII text (SP and HTAB too) but DQUOTE (closes it) and "\"
    /// (escapes the next byte).
    let pathQuoted: ByteSet
    /// What "\" may escape: any ASCII text byte.
    let quotedPair: ByteSet
    /// A path without angle brackets (Postfix's tolerance): ASCII text but SP (ends it) and "<", ">".
    let pathBare: ByteSet
    /// SIZE's digits (RFC 1870).
    let digit = ByteClasses.digit
    /// RFC 3461 §4 xchar: "!".."~" but "+" (it starts an escape) and "=".
    let xchar = visible - ByteSet("+=")
    /// The two digits after xtext's "+": upper-case hexadecimal.
    let upperHex = digit + ByteSet("A"..."F")
    /// ORCPT's addr-type (RFC 3461 §4.2, an atom as used): letters, digits, "-".
    let addrType = alphanumeric + ByteSet("-")
    /// ETRN's node name (RFC 1985 §5): letters, digits, ".", "-", "_".
    let nodeName = alphanumeric + ByteSet(".-_")
    /// ETRN's first byte may also be "@" (a domain and its subdomains) or "#" (a queue).
    let nodeNameStart: ByteSet
    /// A SASL mechanism (RFC 4422 §3.1, case-insensitive here as servers accept): letters,
    /// digits, "-", "_".
    let mechanism = alphanumeric + ByteSet("-_")
    /// A SASL initial response (RFC 4954 §4): base64, "=" included (alone it means empty).
    let base64 = alphanumeric + ByteSet("+/=")

    /// A reply code's digits (RFC 5321 §4.2): "2".."5", "0".."5", "0".."9".
    let replyCode: (ByteSet, ByteSet, ByteSet) = (ByteSet("2"..."5"), ByteSet("0"..."5"), digit)
    /// A line's text up to its end: everything but CR and LF (reply text, message content, a
    /// masked command line's tail; LineBreakSearch reads it eight bytes at a time).
    let lineText = ByteSet("\r\n").inverted

    init() {
        freeText = control.inverted
        let asciiText = ByteSet(0x00...0x7F) - control
        pathQuoted = asciiText - ByteSet("\"\\")
        quotedPair = asciiText
        pathBare = asciiText - ByteSet(" <>")
        nodeNameStart = nodeName + ByteSet("@#")
    }
}

extension ByteSet {
    init(_ range: ClosedRange<Unicode.Scalar>) {
        self.init(UInt8(ascii: range.lowerBound)...UInt8(ascii: range.upperBound))
    }
}
