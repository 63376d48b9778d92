/// Up to 16 bytes of peer text (a verb, a parameter keyword) carried inline, so that reporting an
/// event allocates nothing. Longer text is cut; `description` escapes what is not printable.
public struct ShortText: Equatable, Sendable, CustomStringConvertible {
    public static let capacity = 16
    /// The bytes, little-endian: byte `i` is bits 8i..8i+7 of `low` (i < 8) or of `high`. Bytes
    /// past `count` are zero, so the synthesized `==` compares the text.
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    public private(set) var count: UInt8 = 0

    public init() {}

    public init(_ string: String) {
        for byte in string.utf8 { append(byte) }
    }

    /// The `count` bytes at `offset`; one load when there are at most eight and eight are there.
    @inline(__always)
    init(_ bytes: Span<UInt8>, at offset: Int, count: Int) {
        if count <= 8 && offset &+ 8 <= bytes.count {
            let word = ByteWords.load(bytes, at: offset)
            low = count == 8 ? word : word & ((1 &<< UInt64(count &* 8)) &- 1)
            self.count = UInt8(count)
        } else {
            for k in offset..<(offset &+ count) { append(bytes[k]) }
        }
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        guard count < Self.capacity else { return }
        let shift = UInt64(count & 7) &* 8
        if count < 8 { low |= UInt64(byte) << shift } else { high |= UInt64(byte) << shift }
        count &+= 1
    }

    public var isEmpty: Bool { count == 0 }

    /// Byte `i` (below `count`).
    subscript(i: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (i < 8 ? low : high) >> (UInt64(i & 7) &* 8))
    }

    /// Printable ASCII as is, anything else as `\xHH`.
    public var description: String {
        var out = ""
        for i in 0..<Int(count) {
            let b = self[i]
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "\\x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// Why a command line was refused.
public enum CommandProblem: String, Sendable {
    case verbNotAllowed = "verb not allowed"
    case controlCharacter = "control character"
    case bareCarriageReturn = "bare CR"
    case incompleteVerb = "incomplete verb"
}

/// Why a command's parameter was refused (docs/behaviour.md §4).
public enum ParameterProblem: String, Sendable {
    case malformed = "malformed"
    case unknownParameter = "unknown parameter"
    case notAdvertised = "extension not advertised"
    case wrongCommand = "parameter not valid for this command"
    case duplicate = "duplicate parameter"
    case sizeAboveMaxData = "SIZE above max-data"
    case missingValue = "missing value"
    case tooLong = "too long"
    case extraArgument = "extra argument"
}

/// Why a reply was found malformed (docs/behaviour.md §3).
public enum ReplyProblem: String, Sendable {
    case badCode = "bad reply code"
    case badSeparator = "bad separator after reply code"
    case codeMismatch = "multi-line reply changed its code"
    case unsolicited = "reply with no command pending"
    case unexpectedIntermediate = "intermediate reply to a command that takes none"
}

/// The bare-newline end-of-data variants of SMTP smuggling (docs/behaviour.md §6).
public enum SmugglingForm: String, Sendable {
    case bareLineFeed = "end of data with bare LF"
    case bareCarriageReturn = "end of data with bare CR"
}

/// An anomaly the inspector saw. Peer misbehaviour is an event, never an error; each case has a
/// stable `name` (used in tests, counters and `%FW-4-SMTP_…` alerts).
public enum SMTPEvent: Equatable, Sendable {
    /// A command line was masked, or would be refused: the verb as sent and the line's length.
    case invalidCommand(verb: ShortText, length: Int, problem: CommandProblem)
    /// A parameter of an allowed command was masked, or would be refused.
    case invalidParameter(verb: SMTPVerb, parameter: ShortText, problem: ParameterProblem)
    /// The session's message bytes passed `max-data`; the session is torn down.
    case maxDataExceeded(limit: Int)
    /// A command line longer than the limit; its tail was masked.
    case commandLineTooLong(length: Int, limit: Int)
    /// A reply line longer than the limit (forwarded as is).
    case replyLineTooLong(length: Int, limit: Int)
    case invalidReply(code: UInt16, problem: ReplyProblem)
    /// A command sent before the reply to a command that must end a pipelined group, or while
    /// replies were pending although the server did not advertise PIPELINING (RFC 2920).
    case pipeliningViolation(verb: ShortText)
    /// More unanswered commands than the inspector tracks; the session is torn down.
    case tooManyPendingCommands
    /// Plaintext pipelined after STARTTLS (CVE-2011-0411 class); masked.
    case starttlsInjection
    /// An ambiguous end of message data; the session is torn down.
    case smugglingAttempt(SmugglingForm)
    /// The client sent bytes before the server's greeting (Suricata NO_SERVER_WELCOME_MESSAGE).
    case clientSpokeBeforeBanner
    /// After the 220 to STARTTLS a side sent something other than the start of a TLS handshake
    /// (TLSRecordCheck): the switch did not happen; the session is torn down.
    case starttlsNotTLS(fromServer: Bool)

    /// A stable name for counters and tests.
    public var name: String {
        switch self {
        case .invalidCommand: "invalid-command"
        case .invalidParameter: "invalid-parameter"
        case .maxDataExceeded: "max-data-exceeded"
        case .commandLineTooLong: "command-line-too-long"
        case .replyLineTooLong: "reply-line-too-long"
        case .invalidReply: "invalid-reply"
        case .pipeliningViolation: "pipelining-violation"
        case .tooManyPendingCommands: "too-many-pending-commands"
        case .starttlsInjection: "starttls-injection"
        case .smugglingAttempt: "smuggling-attempt"
        case .clientSpokeBeforeBanner: "client-spoke-before-banner"
        case .starttlsNotTLS: "starttls-not-tls"
        }
    }

    /// The IOS message mnemonic (after `%FW-4-`).
    public var mnemonic: String {
        switch self {
        case .invalidCommand: "SMTP_INVALID_COMMAND"
        case .invalidParameter: "SMTP_INVALID_PARAMETER"
        case .maxDataExceeded: "SMTP_MAX_DATA"
        case .commandLineTooLong: "SMTP_LINE_TOO_LONG"
        case .replyLineTooLong: "SMTP_REPLY_TOO_LONG"
        case .invalidReply: "SMTP_INVALID_REPLY"
        case .pipeliningViolation: "SMTP_PIPELINING_VIOLATION"
        case .tooManyPendingCommands: "SMTP_TOO_MANY_PENDING"
        case .starttlsInjection: "SMTP_STARTTLS_INJECTION"
        case .smugglingAttempt: "SMTP_SMUGGLING"
        case .clientSpokeBeforeBanner: "SMTP_PREGREET"
        case .starttlsNotTLS: "SMTP_STARTTLS_NOT_TLS"
        }
    }

    /// Whether the client caused it (alerts name the initiator) or the server (the responder).
    public var fromServer: Bool {
        switch self {
        case .replyLineTooLong, .invalidReply: true
        case let .starttlsNotTLS(fromServer): fromServer
        default: false
        }
    }

    /// The text of the IOS alert after `%FW-4-MNEMONIC: `, given the peer as `(addr:port)`.
    public func alertText(peer: String) -> String {
        let who = fromServer ? "responder" : "initiator"
        switch self {
        case let .invalidCommand(verb, length, problem):
            let why = problem == .verbNotAllowed ? "" : " (\(problem.rawValue))"
            return "Invalid SMTP command (\(verb))(total \(length) chars)\(why) from \(who) \(peer)"
        case let .invalidParameter(verb, parameter, problem):
            let name = parameter.isEmpty ? "argument" : "parameter \(parameter)"
            return "Invalid SMTP \(verb.text) \(name): \(problem.rawValue) from \(who) \(peer)"
        case let .maxDataExceeded(limit):
            return "SMTP max-data \(limit) exceeded by \(who) \(peer); session reset"
        case let .commandLineTooLong(length, limit):
            return "SMTP command line of \(length) chars exceeds \(limit) from \(who) \(peer); tail masked"
        case let .replyLineTooLong(length, limit):
            return "SMTP reply line of \(length) chars exceeds \(limit) from \(who) \(peer)"
        case let .invalidReply(code, problem):
            return "Invalid SMTP reply (\(code)): \(problem.rawValue) from \(who) \(peer)"
        case let .pipeliningViolation(verb):
            return "SMTP command (\(verb)) pipelined against RFC 2920 from \(who) \(peer)"
        case .tooManyPendingCommands:
            return "Too many unanswered SMTP commands from \(who) \(peer); session reset"
        case .starttlsInjection:
            return "SMTP plaintext after STARTTLS (command injection) from \(who) \(peer); masked"
        case let .smugglingAttempt(form):
            return "SMTP smuggling attempt (\(form.rawValue)) from \(who) \(peer); session reset"
        case .clientSpokeBeforeBanner:
            return "SMTP client spoke before the server greeting: \(who) \(peer)"
        case .starttlsNotTLS:
            return "SMTP STARTTLS answered 220 but \(who) \(peer) sent no TLS handshake; session reset"
        }
    }
}
