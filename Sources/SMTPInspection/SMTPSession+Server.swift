// The server side of SMTPSession: reply lines, the replies they make up, and the mode changes
// replies cause (BEHAVIOR.md §3).

extension SMTPSession {
    mutating func replies(_ bytes: Span<UInt8>, into out: inout SMTPOutput) -> ServerVerdict {
        let end = bytes.count
        var verdict = ServerVerdict(consumed: end)
        var i = 0
        var maskStart = -1
        var maskByte: UInt8 = 0
        var traceFrom = 0
        while i < end {
            if replyLines == 0 && reply.isFresh && !out.traceEnabled {
                i = plainReplies(bytes, from: i, to: end, into: &out)
                if i == end { break }
            }
            if reply.inPlainText {
                let next = LineBreakSearch.next(in: bytes, from: i, to: end)
                reply.skipText(next - i)
                i = next
                if i == end { break }
            }
            let byte = bytes[i]
            if byte == 0x0A {
                if maskStart >= 0 { out.mask(maskStart..<i, with: maskByte); maskStart = -1 }
                if out.traceEnabled {
                    traceReply(upTo: i + 1, from: traceFrom, length: reply.length + (reply.sawCR ? 2 : 1), into: &out)
                }
                endReplyLine(verdict: &verdict, into: &out)
                i += 1
                traceFrom = i
                if mode == .tls || mode == .tornDown { return verdict }  // the rest is not SMTP
                if verdict.resumeClient { return stopped(verdict, at: i) }
                continue
            }
            if reply.isFresh {
                beginReplyLine(into: &out)
                // A whole plain line in one pass (the trace wants its records byte by byte).
                if !out.traceEnabled, let lf = reply.takeWholeLine(bytes, from: i, to: end) {
                    endReplyLine(verdict: &verdict, into: &out)
                    i = lf + 1
                    if mode == .tls || mode == .tornDown { return verdict }  // the rest is not SMTP
                    if verdict.resumeClient { return stopped(verdict, at: i) }
                    continue
                }
            }
            let mask = reply.judge(byte, extensions: policy.extensionTrie)
            if mask != 0 && maskStart >= 0 && mask == maskByte {
                // continuing the current run
            } else {
                if maskStart >= 0 { out.mask(maskStart..<i, with: maskByte); maskStart = -1 }
                if mask != 0 { (maskStart, maskByte) = (i, mask) }
            }
            i += 1
        }
        if maskStart >= 0 { out.mask(maskStart..<end, with: maskByte) }
        if out.traceEnabled && traceFrom < end {
            traceReply(upTo: end, from: traceFrom, length: reply.length + (reply.sawCR ? 1 : 0), into: &out)
        }
        return verdict
    }

    /// A reply decided what held client bytes are: the rest of the chunk is read after them
    /// (the server can only be answering them), as it would be had TCP split it there.
    private func stopped(_ verdict: ServerVerdict, at i: Int) -> ServerVerdict {
        var stopped = verdict
        stopped.consumed = i
        return stopped
    }

    /// Single-line replies to commands whose reply changes nothing but the FIFO (`.other`: MAIL,
    /// RCPT, RSET, NOOP…; `.message`: the end of data), a whole line at a time: what
    /// `beginReplyLine`, `judge`, `endReplyLine` and `completeReply` would do with each, without
    /// the per-line machinery. Stops where that path goes on: at a reply to any other command,
    /// a multi-line, 421, 354 or 334 reply, a malformed or too long line, one not whole here.
    @inline(__always)
    private mutating func plainReplies(_ bytes: Span<UInt8>, from start: Int, to end: Int,
                                       into out: inout SMTPOutput) -> Int {
        var i = start
        while let kind = pending.front, kind == .other || kind == .message,
              let line = ReplyLineStateMachine.wholeLine(bytes, from: i, to: end), line.isLast,
              line.code != 421 && line.code != 354 && line.code != 334,
              line.lf &+ 1 &- i <= policy.replyLineLimit {
            replyLineCount &+= 1
            out.counters.replies &+= 1
            pending.popFront()
            if pending.isEmpty { flags.remove(.groupClosed) }
            i = line.lf &+ 1
        }
        return i
    }

    /// What the text of the line starting now is: an EHLO keyword line (after the first line of a
    /// positive EHLO reply), the greeting to mask, or plain text.
    private mutating func beginReplyLine(into out: inout SMTPOutput) {
        let kind = pending.front
        if kind == .ehlo && replyLines > 0 && replyCode / 100 == 2 {
            reply.textKind = .ehloKeyword
        } else if kind == .greeting && policy.maskBanner {
            reply.textKind = .maskedBanner
        }
        if out.traceEnabled { out.trace.append(.replyType(Self.traceName(kind, plural: true))) }
    }

    private mutating func endReplyLine(verdict: inout ServerVerdict, into out: inout SMTPOutput) {
        let total = reply.length + (reply.sawCR ? 2 : 1)
        if total > policy.replyLineLimit {
            out.events.append(.replyLineTooLong(length: total, limit: policy.replyLineLimit))
        }
        var problem = reply.problem
        if replyLines == 0 {
            replyCode = reply.code
        } else if problem == nil && reply.code != replyCode {
            problem = .codeMismatch
        }
        if let problem, replyProblem == nil { replyProblem = problem }
        if reply.textKind == .ehloKeyword {
            if let id = reply.keptKeyword(extensions: policy.extensionTrie) {
                collected |= policy.extensionFor(token: id).bit
            } else if reply.keywordMasked {
                out.counters.ehloKeywordsMasked += 1
            }
        }
        if out.traceEnabled {
            out.trace.append(.replyMatch(type: Self.traceName(pending.front, plural: false), id: Int(reply.code)))
            out.trace.append(.endOfReplyLine(index: Int(replyLineCount), length: total))
        }
        replyLineCount += 1
        replyLines += 1
        let last = reply.isLast
        reply = ReplyLineStateMachine()
        if last { completeReply(verdict: &verdict, into: &out) }
    }

    /// A whole reply has arrived: match it to the oldest pending command and act on its code.
    private mutating func completeReply(verdict: inout ServerVerdict, into out: inout SMTPOutput) {
        let code = replyCode
        out.counters.replies += 1
        if let replyProblem { out.events.append(.invalidReply(code: code, problem: replyProblem)) }
        (replyCode, replyLines, replyProblem) = (0, 0, nil)
        if code == 421 { flags.insert(.closing) }  // RFC 5321 §3.8: the server closes
        guard let kind = pending.front else {
            if code != 421 { tearDown(.invalidReply(code: code, problem: .unsolicited), &verdict, &out) }
            return
        }
        pending.popFront()
        if pending.isEmpty { flags.remove(.groupClosed) }
        let positive = code / 100 == 2
        switch kind {
        case .greeting:
            flags.insert(.bannerSeen)  // a 554 greeting is still the greeting (RFC 5321 §3.1)
        case .ehlo:
            advertised = positive ? collected : 0
            collected = 0
        case .helo:
            if positive { advertised = 0 }  // RFC 5321 §4.1.4: HELO means no extensions
        case .data:
            guard mode == .awaitingDataReply else { preconditionFailure("DATA reply outside awaitingDataReply") }
            mode = code == 354 ? .data : .commands
            verdict.resumeClient = true
        case .auth:
            guard mode == .awaitingAuthReply else { preconditionFailure("AUTH reply outside awaitingAuthReply") }
            mode = code == 334 ? .saslResponse : .commands
            if code == 235 { flags.insert(.authenticated) }
            verdict.resumeClient = true
        case .starttls:
            flags.remove([.starttlsGuard, .injectionReported])
            if code == 220 { mode = .tls }  // RFC 3207 §4: TLS starts right after the 220
        case .quit:
            if code == 221 { flags.insert(.closing) }
        case .message, .other:
            if code == 354 || code == 334 {
                tearDown(.invalidReply(code: code, problem: .unexpectedIntermediate), &verdict, &out)
            }
        }
        if out.traceEnabled && (verdict.resumeClient || mode == .tls) {
            out.trace.append(.modeChange(modeDescription))
        }
    }

    private mutating func tearDown(_ event: SMTPEvent, _ verdict: inout ServerVerdict, _ out: inout SMTPOutput) {
        out.events.append(event)
        mode = .tornDown
        verdict.teardown = true
    }

    private func traceReply(upTo end: Int, from start: Int, length: Int, into out: inout SMTPOutput) {
        guard end > start else { return }
        out.trace.append(.reply(type: Self.traceName(pending.front, plural: false), length: length,
                                matchLength: end - start, state: Int(reply.phase.rawValue)))
    }

    static func traceName(_ kind: PendingReplies.Kind?, plural: Bool) -> String {
        switch kind {
        case .greeting?: "GREETING"
        case .ehlo?: "EHLO"
        case .helo?: "HELO"
        case .data?: "DATA"
        case .message?: "MESSAGE"
        case .auth?: "AUTH"
        case .starttls?: "STARTTLS"
        case .quit?: "QUIT"
        case .other?, nil: plural ? "OTHERS" : "OTHER"
        }
    }
}
