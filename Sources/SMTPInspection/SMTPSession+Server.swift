// The server side of SMTPSession: reply lines and the replies they make up; each whole reply goes
// to `transition` (SMTPSession.swift), which acts on it (docs/behaviour.md §3).

extension SMTPSession {
    mutating func replies(_ bytes: Span<UInt8>, into out: inout SMTPOutput) -> ServerVerdict {
        let end = bytes.count
        var verdict = ServerVerdict(consumed: end)
        var i = 0
        var maskStart = -1
        var maskByte: UInt8 = 0
        var traceFrom = 0
        while i < end {
            if bytes[i] != 0x0A {
                if reply.isFresh { beginReplyLine(into: &out) }
                // The code, separator and plain text in one call; `judge` below takes CR and
                // the bytes it may mask.
                i = reply.pass(bytes, from: i, to: end, policy: policy)
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
                if mode == .tornDown { return verdict }  // the rest is not SMTP
                if mode == .tls {
                    // After the 220 to STARTTLS the rest of the chunk is the server's first TLS bytes.
                    let read = tlsBytes(bytes, from: i, fromClient: false, into: &out)
                    if mode == .tornDown { (verdict.consumed, verdict.teardown) = (read, true) }
                    return verdict
                }
                if verdict.resumeClient { return stopped(verdict, at: i) }
                continue
            }
            let mask = reply.judge(byte, policy: policy)
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

    /// What the text of the line starting now is: an EHLO keyword line (after the first line of a
    /// positive EHLO reply), the greeting to mask, or plain text.
    private mutating func beginReplyLine(into out: inout SMTPOutput) {
        // A reply's first line is plain text unless it is the greeting and the banner is masked.
        guard replyLines > 0 || policy.maskBanner || out.traceEnabled else { return }
        let kind = pending.front
        if kind == .ehlo && replyLines > 0 && replyCode / 100 == 2 {
            reply.textKind = .ehloKeyword
        } else if kind == .greeting && policy.maskBanner {
            reply.textKind = .maskedBanner
        }
        if out.traceEnabled { out.trace.append(.replyType(Self.traceName(kind, plural: true))) }
    }

    @inline(__always)
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

    /// A whole reply has arrived: report it, then `transition` matches it to the oldest pending
    /// command and acts on its code.
    @inline(__always)
    private mutating func completeReply(verdict: inout ServerVerdict, into out: inout SMTPOutput) {
        let code = replyCode
        out.counters.replies += 1
        if let replyProblem { out.events.append(.invalidReply(code: code, problem: replyProblem)) }
        (replyCode, replyLines, replyProblem) = (0, 0, nil)
        if transition(.reply(code: code), into: &out) { verdict.resumeClient = true }
        if state == .tornDown { verdict.teardown = true }
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
