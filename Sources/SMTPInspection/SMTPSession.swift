// One SMTP session as the inspector sees it: both directions' bytes go in, in order and in any
// split; masks, hold points, tear-downs and events come out. No I/O, no clock, no buffers: the
// caller keeps the bytes (BEHAVIOR.md §1–§6, DESIGN.md invariants 1–5).
//
// Client modes and what moves between them. Mode changes come from replies, never from the
// client alone (BEHAVIOR.md §3):
//   commands           a passed DATA line          → awaitingDataReply (later bytes are held)
//                      a passed AUTH line          → awaitingAuthReply (later bytes are held)
//                      a passed STARTTLS line      → commands, every later byte masked until its
//                                                    reply (RFC 3207 §4: nothing may follow it)
//   awaitingDataReply  354                         → data              (held bytes are content)
//                      anything else               → commands          (held bytes are commands)
//   awaitingAuthReply  334                         → saslResponse      (one SASL line, not a command)
//                      anything else               → commands          (RFC 4954 §4)
//   saslResponse       its LF                      → awaitingAuthReply
//   data               CRLF.CRLF                   → commands (the end of data gets a reply too)
//                      a bare LF/CR end-of-data    → tornDown (smuggling)
//                      max-data passed             → tornDown
//   commands           220 to STARTTLS             → tls (both directions opaque from then on)
//   any                too many unanswered lines, a 354/334 to a command that takes none, a
//                      reply with nothing pending  → tornDown (our view and the server's could
//                                                    differ: DESIGN.md invariant 5)
// Every client line, masked or not, gets one reply; `PendingReplies` matches them in order and a
// multi-line reply counts once, on its last line.

/// The state of one SMTP session between a client and the server it talks to.
public struct SMTPSession: Sendable {
    /// What the client's next bytes are.
    public enum Mode: UInt8, Sendable {
        case commands, awaitingDataReply, awaitingAuthReply, data, saslResponse, tls, tornDown
    }

    struct Flags: OptionSet, Sendable {
        let rawValue: UInt16
        static let bannerSeen = Flags(rawValue: 1 << 0)
        static let starttlsGuard = Flags(rawValue: 1 << 1)
        static let injectionReported = Flags(rawValue: 1 << 2)
        static let pregreetReported = Flags(rawValue: 1 << 3)
        static let pipeliningReported = Flags(rawValue: 1 << 4)
        static let groupClosed = Flags(rawValue: 1 << 5)
        static let authenticated = Flags(rawValue: 1 << 6)
        static let closing = Flags(rawValue: 1 << 7)
        static let lineBegun = Flags(rawValue: 1 << 8)
        static let linePipelinedBadly = Flags(rawValue: 1 << 9)
    }

    /// The policy in force; a new one given to `adopt` takes over at the next command line.
    public internal(set) var policy: SMTPPolicy
    var nextPolicy: SMTPPolicy?
    public internal(set) var mode: Mode = .commands
    var flags: Flags = []
    var line = CommandLineStateMachine()
    var data = MessageDataStateMachine()
    var reply = ReplyLineStateMachine()
    var pending = PendingReplies()
    /// Extensions the client was offered (SMTPExtension bits), after our masking.
    var advertised: UInt32 = 0
    /// Keywords of the EHLO reply being read.
    var collected: UInt32 = 0
    /// Code of the current reply's first line; lines so far of the current reply.
    var replyCode: UInt16 = 0
    var replyLines: UInt16 = 0
    var replyProblem: ReplyProblem?
    /// Message bytes sent in this session (for max-data).
    public internal(set) var messageBytes = 0
    /// Command lines and reply lines seen (the trace's indexes).
    public internal(set) var commandLines: UInt32 = 0
    public internal(set) var replyLineCount: UInt32 = 0
    /// Bytes consumed so far in each direction.
    public internal(set) var clientOffset: UInt64 = 0
    public internal(set) var serverOffset: UInt64 = 0

    public init(policy: SMTPPolicy) {
        self.policy = policy
        _ = pending.push(.greeting)
    }

    /// Switches to another policy (a reload) at the start of the next command line that begins
    /// while no reply is being read, so that neither a command line nor a reply (whose EHLO
    /// keywords are read with the policy's table) is judged half by one policy and half by
    /// another.
    public mutating func adopt(_ policy: SMTPPolicy) {
        nextPolicy = policy
    }

    /// Judges client bytes that follow, in the stream, everything passed before.
    ///
    /// Masks go to `output` relative to `bytes`. The verdict says how many bytes were judged; the
    /// rest wait for the server's reply and must be passed again after a server verdict with
    /// `resumeClient` (they are not remembered here).
    public mutating func receiveClient(_ bytes: Span<UInt8>, into output: inout SMTPOutput) -> ClientVerdict {
        let end = bytes.count
        var i = 0
        loop: while i < end {
            switch mode {
            case .commands: i = commands(bytes, from: i, into: &output)
            case .data: i = messageData(bytes, from: i, into: &output)
            case .saslResponse: i = saslResponse(bytes, from: i, into: &output)
            case .tls: i = end
            case .awaitingDataReply, .awaitingAuthReply:
                // RFC 2920 §3.1, RFC 4954 §4: nothing may follow DATA, AUTH or a SASL line
                // before its reply. These bytes wait; their meaning depends on the reply.
                if !flags.contains(.pipeliningReported) {
                    flags.insert(.pipeliningReported)
                    let verb: SMTPVerb = mode == .awaitingDataReply ? .data : .auth
                    output.events.append(.pipeliningViolation(verb: ShortText(verb.text)))
                }
                break loop
            case .tornDown: break loop
            }
        }
        clientOffset += UInt64(i)
        return ClientVerdict(consumed: i, teardown: mode == .tornDown)
    }

    /// Reads server bytes, up to the end of a reply that decides what held client bytes are
    /// (then `resumeClient`: present the held client bytes, then the rest of `bytes` again).
    /// Masks go to `output` relative to `bytes`.
    public mutating func receiveServer(_ bytes: Span<UInt8>, into output: inout SMTPOutput) -> ServerVerdict {
        let verdict: ServerVerdict
        switch mode {
        case .tls: verdict = ServerVerdict(consumed: bytes.count)
        case .tornDown: verdict = ServerVerdict(consumed: bytes.count, teardown: true)
        default: verdict = replies(bytes, into: &output)
        }
        serverOffset += UInt64(verdict.consumed)
        return verdict
    }

    /// Commands still waiting for a reply.
    public var pendingReplyCount: Int { pending.total }

    /// Whether the server said it closes (221 to QUIT, or 421).
    public var isClosing: Bool { flags.contains(.closing) }

    /// A short description for `show ip inspect sessions detail`.
    public var modeDescription: String {
        switch mode {
        case .commands:
            if !flags.contains(.bannerSeen) { return "awaiting greeting" }
            if flags.contains(.starttlsGuard) { return "awaiting STARTTLS reply" }
            if flags.contains(.closing) { return "closing" }
            return flags.contains(.authenticated) ? "commands, authenticated" : "commands"
        case .awaitingDataReply: return "awaiting DATA reply"
        case .awaitingAuthReply: return "awaiting AUTH reply"
        case .data: return "message data"
        case .saslResponse: return "SASL response"
        case .tls: return "TLS"
        case .tornDown: return "torn down"
        }
    }
}
