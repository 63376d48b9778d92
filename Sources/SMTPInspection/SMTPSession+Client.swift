// The client side of SMTPSession: command lines, message data and SASL responses.

extension SMTPSession {
    /// Command mode: judges bytes until the chunk ends or a line changes the mode.
    mutating func commands(_ bytes: Span<UInt8>, from start: Int, into out: inout SMTPOutput) -> Int {
        let end = bytes.count
        var i = start
        var maskStart = -1
        var traceFrom = start
        let tracing = out.traceEnabled
        while i < end {
            if line.isEmpty {
                beginLine(into: &out)
                // The verb, path and parameters in one pass, where `judge` would pass them all;
                // the trace wants its per-verb records, so it reads byte by byte.
                if !tracing, case .verb = line.phase {
                    i = line.takeLeadingWords(bytes, from: i, to: end, policy: policy, advertised: advertised)
                    if i == end { break }  // it ended on the SP before an argument
                }
            }
            if !tracing && !line.masking {
                // What passes, in runs and single steps; the trace wants its records byte by byte.
                i = line.pass(bytes, from: i, to: end, policy: policy, advertised: advertised)
                if line.masking {
                    if maskStart < 0 { maskStart = i }  // the byte `pass` refused, and the rest
                    i += 1
                    continue
                }
                if i == end { break }
            }
            let byte = bytes[i]
            if byte == 0x0A {
                if maskStart >= 0 { out.mask(maskStart..<i, with: UInt8(ascii: "x")); maskStart = -1 }
                if tracing {
                    let total = line.length + (line.sawCR ? 2 : 1)
                    traceProgress(upTo: i + 1, from: traceFrom, length: total, into: &out)
                }
                finishLine(into: &out)
                if state == .tornDown { return i }  // the LF does not pass: the line never executes
                i += 1
                traceFrom = i
                if mode != .commands { return i }
                continue
            }
            let wasVerb = tracing && line.verb == nil
            if line.judge(byte, policy: policy, advertised: advertised) {
                if maskStart < 0 { maskStart = i }
            } else if maskStart >= 0 {
                out.mask(maskStart..<i, with: UInt8(ascii: "x"))
                maskStart = -1
            }
            if wasVerb && line.phase == .afterVerb, let verb = line.verb {
                out.trace.append(.verb(commandLength: line.length, matchLength: i + 1 - traceFrom,
                                       state: Int(policy.verbTrie.state(after: verb.text.utf8))))
                out.trace.append(.verbMatch(id: Int(verb.rawValue)))
                traceFrom = i + 1
            }
            i += 1
            // A run that changes nothing but counters is passed (or masked) in one step; the
            // mask run, if any, simply continues over it.
            if i < end && line.hasRuns { i = line.skipRun(bytes, from: i, to: end, policy: policy) }
        }
        if maskStart >= 0 { out.mask(maskStart..<end, with: UInt8(ascii: "x")) }
        if tracing && traceFrom < end {
            traceProgress(upTo: end, from: traceFrom, length: line.length + (line.sawCR ? 1 : 0), into: &out)
        }
        return end
    }

    /// The first byte of a line: adopt a reloaded policy, and check what RFC 2920 and the
    /// greeting allow to be sent now.
    private mutating func beginLine(into out: inout SMTPOutput) {
        if let next = nextPolicy, reply.isFresh && replyLines == 0 {
            policy = next
            nextPolicy = nil
        }
        if case .starttlsSent = state {
            line.fail(.injection)
            transition(.lineAfterSTARTTLS, into: &out)
            return
        }
        guard !pending.isEmpty else { return }
        if !greeted {
            if !reported.contains(.pregreet) {
                reported.insert(.pregreet)
                out.events.append(.clientSpokeBeforeBanner)
            }
        } else if pending.groupClosed || advertised & SMTPExtension.pipelining.bit == 0 {
            line.outOfTurn = true  // RFC 2920 §3.1
        }
    }

    /// At a line's LF: report, queue its reply, and change mode for DATA, AUTH and STARTTLS.
    private mutating func finishLine(into out: inout SMTPOutput) {
        let total = line.length + (line.sawCR ? 2 : 1)
        commandLines += 1
        out.counters.commands += 1
        _ = line.finish(policy: policy)
        let masked = line.masking
        if masked { out.counters.commandsMasked += 1 }
        switch line.problem {
        case let .command(problem)?:
            out.events.append(.invalidCommand(verb: line.verbText, length: total, problem: problem))
        case let .parameter(problem)?:
            let verb = line.verb ?? .mail
            out.events.append(.invalidParameter(verb: verb, parameter: line.keyword, problem: problem))
        case .tooLong?:
            out.events.append(.commandLineTooLong(length: total, limit: policy.commandLineLimit))
        case .injection?, nil:
            break
        }
        if line.outOfTurn && !reported.contains(.pipelining) {
            reported.insert(.pipelining)
            out.events.append(.pipeliningViolation(verb: line.verbText))
        }
        if out.traceEnabled {
            out.trace.append(.parameterMatch(id: masked ? 1 : 0))
            out.trace.append(.endOfCommandLine(index: Int(commandLines), length: total))
        }
        // A line masked from its verb on is no command; one masked in its arguments still is
        // its verb's (the server executes `EHLO c.exaxxxx`), and its reply is read as such.
        let verb = masked && !line.maskedInArguments ? nil : line.verb
        line = CommandLineStateMachine()
        transition(.commandLine(verb), into: &out)
    }

    /// A VERB or CMD PARAM trace record for the bytes of the current line in this chunk;
    /// `length` counts the line so far, terminator bytes included, as the seed's trace does.
    private func traceProgress(upTo end: Int, from start: Int, length: Int, into out: inout SMTPOutput) {
        guard end > start else { return }
        if case .verb = line.phase {
            out.trace.append(.verb(commandLength: length, matchLength: end - start, state: line.traceState))
        } else {
            out.trace.append(.parameter(commandLength: length, matchLength: end - start, state: line.traceState))
        }
    }

    /// Message data: scans for the end, counts bytes against max-data.
    mutating func messageData(_ bytes: Span<UInt8>, from start: Int, into out: inout SMTPOutput) -> Int {
        let end = bytes.count
        let allowance = max(0, policy.maxData - messageBytes)
        let limit = end - start > allowance ? start + allowance : end
        switch data.scan(bytes, from: start, to: limit) {
        case let .end(at):
            count(messageBytes: at - start, into: &out)
            out.counters.messages += 1
            transition(.endOfMessage, into: &out)
            return state == .tornDown ? at - 1 : at
        case let .smuggling(form, at):
            count(messageBytes: at - start, into: &out)
            transition(.violation(.smugglingAttempt(form)), into: &out)
            return at
        case .none:
            count(messageBytes: limit - start, into: &out)
            if limit < end { transition(.violation(.maxDataExceeded(limit: policy.maxData)), into: &out) }
            return limit
        }
    }

    private mutating func count(messageBytes n: Int, into out: inout SMTPOutput) {
        messageBytes += n
        out.counters.messageBytes += n
    }

    /// One SASL response line after a 334 (RFC 4954 §4): passed as is, never judged as a
    /// command (docs/design.md invariant 5); its reply decides what follows.
    mutating func saslResponse(_ bytes: Span<UInt8>, from start: Int, into out: inout SMTPOutput) -> Int {
        let end = bytes.count
        var i = start
        while i < end {
            i = LineBreakSearch.next(in: bytes, from: i, to: end)
            if i == end { return end }
            if bytes[i] == 0x0A {
                transition(.saslLine, into: &out)
                return state == .tornDown ? i : i + 1
            }
            i += 1
        }
        return end
    }
}
