// One SMTP session as the inspector sees it: both directions' bytes go in, in order and in any
// split; masks, hold points, tear-downs and events come out. No I/O, no clock, no buffers: the
// caller keeps the bytes (docs/behaviour.md §1–§6, docs/design.md invariants 3–6). +Client reads command
// lines, message data and SASL lines, +Server reads replies; both only report what they read
// to `transition`, the one place the session's state changes.
//
// Transitions (state, input) → state. Mode changes come from replies, never from the client
// alone (docs/behaviour.md §3):
//   commands           a passed DATA line          → awaitingDataReply (later bytes are held)
//                      a passed AUTH line          → awaitingAuthReply (later bytes are held)
//                      a passed STARTTLS line      → starttlsSent      (RFC 3207 §4: nothing may
//                                                                       follow it; every later
//                                                                       line is masked)
//   starttlsSent       a line begins               → starttlsSent      (masked; reported once)
//                      220 to STARTTLS             → tls               (each side must show TLS)
//                      any other reply to it       → commands
//   tls                each side's first bytes: the start of a TLS handshake (TLSRecordCheck);
//                      once both have shown it the session is opaque (`isTLSEstablished`)
//                      anything else               → tornDown (the switch did not happen)
//   awaitingDataReply  354                         → data              (held bytes are content)
//                      any other reply to DATA     → commands          (held bytes are commands)
//   awaitingAuthReply  334                         → saslResponse      (one SASL line, not a command)
//                      any other reply to AUTH     → commands          (RFC 4954 §4)
//   saslResponse       its LF                      → awaitingAuthReply
//   data               CRLF.CRLF                   → commands (the end of data gets a reply too)
//   any                a violation                 → tornDown          (our view and the server's
//                                                                       could differ: docs/design.md
//                                                                       invariant 6)
// Violations: too many unanswered lines, a 354/334 to a command that takes none, a reply with
// nothing pending, a bare LF/CR end-of-data (smuggling), max-data passed.
// Every client line, masked or not, gets one reply; `PendingReplies` matches them in order and a
// multi-line reply counts once, on its last line. Replies also set what the session knows of
// the server: the greeting came, the extensions it offers, authentication, closing.

/// The state of one SMTP session between a client and the server it talks to.
public struct SMTPSession: Sendable {
    /// What the client's next bytes are.
    public enum Mode: UInt8, Sendable {
        case commands, awaitingDataReply, awaitingAuthReply, data, saslResponse, tls, tornDown
    }

    /// The session's state; `Mode` is what callers see of it.
    enum State: Equatable {
        case commands
        /// A STARTTLS line passed; its reply is due. Whether plaintext after it was reported.
        case starttlsSent(injectionReported: Bool)
        case awaitingDataReply
        case awaitingAuthReply
        /// Message content (`data` looks for its end).
        case data
        case saslResponse
        /// After the 220 to STARTTLS: how far each side has shown the start of TLS.
        case tls(client: TLSRecordCheck, server: TLSRecordCheck)
        case tornDown
    }

    /// What the readers report to `transition`.
    enum Input {
        /// A command line began after a passed STARTTLS (it is masked).
        case lineAfterSTARTTLS
        /// A command line ended: its verb when it passed, or was masked only in its arguments;
        /// nil when it was masked from its verb on (docs/behaviour.md §3).
        case commandLine(SMTPVerb?)
        /// The message ended with CRLF.CRLF.
        case endOfMessage
        /// The SASL response line ended.
        case saslLine
        /// A whole reply (its last line), to the oldest pending command.
        case reply(code: UInt16)
        /// Our view and the server's could differ from here: the event says why.
        case violation(SMTPEvent)
    }

    /// Events the client side reports at most once per session.
    struct Reported: OptionSet, Sendable {
        let rawValue: UInt8
        static let pregreet = Reported(rawValue: 1 << 0)
        static let pipelining = Reported(rawValue: 1 << 1)
    }

    /// The policy in force; a new one given to `adopt` takes over at the next command line.
    public internal(set) var policy: SMTPPolicy
    var nextPolicy: SMTPPolicy?
    private(set) var state: State = .commands
    var reported: Reported = []
    // The readers' machines: the current command line, message data, reply line.
    var line = CommandLineStateMachine()
    var data = MessageDataStateMachine()
    var reply = ReplyLineStateMachine()
    private(set) var pending = PendingReplies()
    /// Extensions the client was offered (SMTPExtension bits), after our masking.
    private(set) var advertised: UInt32 = 0
    /// Keywords of the EHLO reply being read.
    var collected: UInt32 = 0
    /// Code of the current reply's first line; lines so far of the current reply.
    var replyCode: UInt16 = 0
    var replyLines: UInt16 = 0
    var replyProblem: ReplyProblem?
    /// What replies said: 235 to AUTH; 221 to QUIT or 421.
    private(set) var authenticated = false
    private(set) var closing = false
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

    /// What the client's next bytes are.
    public var mode: Mode {
        switch state {
        case .commands, .starttlsSent: .commands
        case .awaitingDataReply: .awaitingDataReply
        case .awaitingAuthReply: .awaitingAuthReply
        case .data: .data
        case .saslResponse: .saslResponse
        case .tls: .tls
        case .tornDown: .tornDown
        }
    }

    /// Whether the greeting's reply came (a 554 greeting is still the greeting, RFC 5321 §3.1).
    var greeted: Bool { pending.front != .greeting }

    /// The one place the session's state changes: queues or matches the reply `input` calls
    /// for and moves as the table at the top of the file says. Returns whether held client bytes
    /// are decided (a reply to DATA or AUTH).
    @discardableResult @inline(__always)
    mutating func transition(_ input: Input, into out: inout SMTPOutput) -> Bool {
        var resumeClient = false
        switch (state, input) {
        case let (_, .violation(event)):
            return violated(event, into: &out)
        case (.tornDown, _), (.tls, _):
            return false  // nothing more is SMTP (the TLS records are TLSRecordCheck's)
        case let (.starttlsSent(reported), .lineAfterSTARTTLS):
            // RFC 3207 §4: nothing may follow STARTTLS before its reply; reported once per STARTTLS.
            if !reported { out.events.append(.starttlsInjection) }
            state = .starttlsSent(injectionReported: true)
        case let (.commands, .commandLine(verb)), let (.starttlsSent, .commandLine(verb)):
            guard pending.push(verb?.replyKind ?? .other, endingGroup: verb?.endsPipelinedGroup ?? false) else {
                return violated(.tooManyPendingCommands, into: &out)
            }
            switch verb {
            case .data?: state = .awaitingDataReply  // RFC 5321 §4.1.1.4: its reply decides
            case .auth?: state = .awaitingAuthReply  // RFC 4954 §4: its reply decides
            case .starttls?: state = .starttlsSent(injectionReported: false)  // RFC 3207 §4
            default: return false
            }
            if out.traceEnabled && mode != .commands { out.trace.append(.modeChange(modeDescription)) }
        case (.data, .endOfMessage):
            state = .commands  // RFC 5321 §4.1.1.4; the end of data is answered too
            if out.traceEnabled { out.trace.append(.modeChange(modeDescription)) }
            guard pending.push(.message) else { return violated(.tooManyPendingCommands, into: &out) }
        case (.saslResponse, .saslLine):
            guard pending.push(.auth) else { return violated(.tooManyPendingCommands, into: &out) }
            state = .awaitingAuthReply  // RFC 4954 §4: the server answers each SASL line
        case let (_, .reply(code)):
            if code == 421 { closing = true }  // RFC 5321 §3.8: the server closes
            guard let kind = pending.front else {
                if code != 421 { return violated(.invalidReply(code: code, problem: .unsolicited), into: &out) }
                return false
            }
            pending.popFront()
            switch replied(to: kind, code: code) {
            case .nothing: break
            case .resumeClient: resumeClient = true
            case let .violation(event): return violated(event, into: &out)
            }
            if out.traceEnabled && (resumeClient || mode == .tls) { out.trace.append(.modeChange(modeDescription)) }
        case (.awaitingDataReply, .commandLine), (.awaitingAuthReply, .commandLine), (.data, .commandLine),
             (.saslResponse, .commandLine), (_, .endOfMessage), (_, .saslLine), (_, .lineAfterSTARTTLS):
            preconditionFailure("\(input) in \(state)")  // the client side reads nothing else there
        }
        return resumeClient
    }

    /// Any state, a violation → tornDown.
    private mutating func violated(_ event: SMTPEvent, into out: inout SMTPOutput) -> Bool {
        out.events.append(event)
        state = .tornDown
        return false
    }

    /// What a reply decides beyond the FIFO.
    private enum Decision {
        case nothing
        /// Held client bytes are decided: present them again.
        case resumeClient
        case violation(SMTPEvent)
    }

    /// A reply to `kind` with `code`: what the session learns and where it goes.
    private mutating func replied(to kind: PendingReplies.Kind, code: UInt16) -> Decision {
        let positive = code / 100 == 2
        switch kind {
        case .greeting:
            break  // `greeted` from now on
        case .ehlo:
            advertised = positive ? collected : 0  // RFC 5321 §4.1.1.1: what the client may use
            collected = 0
        case .helo:
            if positive { advertised = 0 }  // RFC 5321 §4.1.4: HELO means no extensions
        case .data:
            guard state == .awaitingDataReply else { preconditionFailure("DATA reply in \(state)") }
            state = code == 354 ? .data : .commands
            return .resumeClient
        case .auth:
            guard state == .awaitingAuthReply else { preconditionFailure("AUTH reply in \(state)") }
            state = code == 334 ? .saslResponse : .commands
            if code == 235 { authenticated = true }
            return .resumeClient
        case .starttls:
            // RFC 3207 §4: TLS starts right after the 220, and both sides must show it.
            state = code == 220 ? .tls(client: TLSRecordCheck(), server: TLSRecordCheck()) : .commands
        case .quit:
            if code == 221 { closing = true }
        case .message, .other:
            // Only DATA and AUTH take an intermediate reply (RFC 5321 §4.2.1, RFC 4954 §4).
            if code == 354 || code == 334 { return .violation(.invalidReply(code: code, problem: .unexpectedIntermediate)) }
        }
        return .nothing
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
            switch state {
            case .commands, .starttlsSent: i = commands(bytes, from: i, into: &output)
            case .data: i = messageData(bytes, from: i, into: &output)
            case .saslResponse: i = saslResponse(bytes, from: i, into: &output)
            case .tls: i = tlsBytes(bytes, from: i, fromClient: true, into: &output)
            case .awaitingDataReply, .awaitingAuthReply:
                // RFC 2920 §3.1, RFC 4954 §4: nothing may follow DATA, AUTH or a SASL line
                // before its reply. These bytes wait; their meaning depends on the reply.
                if !reported.contains(.pipelining) {
                    reported.insert(.pipelining)
                    let verb: SMTPVerb = state == .awaitingDataReply ? .data : .auth
                    output.events.append(.pipeliningViolation(verb: ShortText(verb.text)))
                }
                break loop
            case .tornDown: break loop
            }
        }
        clientOffset += UInt64(i)
        return ClientVerdict(consumed: i, teardown: state == .tornDown)
    }

    /// Reads server bytes, up to the end of a reply that decides what held client bytes are
    /// (then `resumeClient`: present the held client bytes, then the rest of `bytes` again).
    /// Masks go to `output` relative to `bytes`.
    public mutating func receiveServer(_ bytes: Span<UInt8>, into output: inout SMTPOutput) -> ServerVerdict {
        let verdict: ServerVerdict
        switch state {
        case .tls:
            // Torn down: `consumed` is where the bytes stopped being TLS (the packet is reset).
            let read = tlsBytes(bytes, from: 0, fromClient: false, into: &output)
            verdict = ServerVerdict(consumed: read, teardown: mode == .tornDown)
        case .tornDown: verdict = ServerVerdict(consumed: bytes.count, teardown: true)
        default: verdict = replies(bytes, into: &output)
        }
        serverOffset += UInt64(verdict.consumed)
        return verdict
    }

    /// In TLS: checks one side's first bytes until it has shown the start of a TLS handshake
    /// (then every byte is opaque); returns where reading stopped: the end, or the first byte
    /// that is not TLS (the session is then torn down).
    mutating func tlsBytes(_ bytes: Span<UInt8>, from start: Int, fromClient: Bool,
                                   into out: inout SMTPOutput) -> Int {
        guard case .tls(var client, var server) = state else { preconditionFailure("TLS bytes in \(state)") }
        var i = start
        while i < bytes.count, !(fromClient ? client.shown : server.shown) {
            let outcome = fromClient ? client.check(bytes[i], fromClient: true) : server.check(bytes[i], fromClient: false)
            if outcome == .notTLS {
                _ = transition(.violation(.starttlsNotTLS(fromServer: !fromClient)), into: &out)
                return i
            }
            i += 1
        }
        state = .tls(client: client, server: server)
        return bytes.count
    }

    /// Client bytes must wait: the reply to DATA or AUTH decides what they are (message data or
    /// commands, a SASL line or commands), and it has not come (RFC 2920 §3.1, RFC 4954 §4).
    /// `receiveClient` would judge none of them now; the engine holds them.
    public var clientBytesWaitForReply: Bool {
        mode == .awaitingDataReply || mode == .awaitingAuthReply
    }

    /// Both sides have shown the start of a TLS handshake after a 220 to STARTTLS: nothing
    /// they send from now on can be read, and nothing needs to be (docs/behaviour.md §6).
    public var isTLSEstablished: Bool {
        if case let .tls(client, server) = state { return client.handshakeShown && server.handshakeShown }
        return false
    }

    /// Commands still waiting for a reply.
    public var pendingReplyCount: Int { pending.total }

    /// Whether the server said it closes (221 to QUIT, or 421).
    public var isClosing: Bool { closing }

    /// A short description for `show ip inspect sessions detail`.
    public var modeDescription: String {
        switch state {
        case .commands, .starttlsSent:
            if !greeted { return "awaiting greeting" }
            if case .starttlsSent = state { return "awaiting STARTTLS reply" }
            if closing { return "closing" }
            return authenticated ? "commands, authenticated" : "commands"
        case .awaitingDataReply: return "awaiting DATA reply"
        case .awaitingAuthReply: return "awaiting AUTH reply"
        case .data: return "message data"
        case .saslResponse: return "SASL response"
        case .tls: return "TLS"
        case .tornDown: return "torn down"
        }
    }
}
