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
            if !flags.contains(.lineBegun) {
                beginLine(into: &out)
                // The verb, path and parameters in one pass, when `judge` would pass them all;
                // the trace wants its per-verb records, so it reads byte by byte.
                if !tracing && line.phase == .verb && line.isEmpty {
                    i = line.takeLeadingWords(bytes, from: i, to: end, policy: policy, advertised: advertised)
                    if i == end { break }  // it ended on the SP before an argument
                }
            }
            let byte = bytes[i]
            if byte == 0x0A {
                if maskStart >= 0 { out.mask(maskStart..<i, with: UInt8(ascii: "x")); maskStart = -1 }
                if tracing {
                    let total = line.length + (line.sawCR ? 2 : 1)
                    traceProgress(upTo: i + 1, from: traceFrom, length: total, into: &out)
                }
                finishLine(into: &out)
                if mode == .tornDown { return i }  // the LF does not pass: the line never executes
                i += 1
                traceFrom = i
                if mode != .commands { return i }
                continue
            }
            let wasVerb = tracing && line.phase == .verb
            if line.judge(byte, policy: policy, advertised: advertised) {
                if maskStart < 0 { maskStart = i }
            } else if maskStart >= 0 {
                out.mask(maskStart..<i, with: UInt8(ascii: "x"))
                maskStart = -1
            }
            if wasVerb && line.phase == .afterVerb, let verb = line.verb {
                out.trace.append(.verb(commandLength: line.length, matchLength: i + 1 - traceFrom,
                                       state: Int(line.token)))
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
        flags.insert(.lineBegun)
        if let next = nextPolicy, reply.isFresh && replyLines == 0 {
            policy = next
            nextPolicy = nil
        }
        if flags.contains(.starttlsGuard) {
            line.fail(.injection)
            if !flags.contains(.injectionReported) {
                flags.insert(.injectionReported)
                out.events.append(.starttlsInjection)
            }
            return
        }
        guard !pending.isEmpty else { return }
        if !flags.contains(.bannerSeen) {
            if !flags.contains(.pregreetReported) {
                flags.insert(.pregreetReported)
                out.events.append(.clientSpokeBeforeBanner)
            }
        } else if flags.contains(.groupClosed) || advertised & SMTPExtension.pipelining.bit == 0 {
            flags.insert(.linePipelinedBadly)
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
        if flags.contains(.linePipelinedBadly) && !flags.contains(.pipeliningReported) {
            flags.insert(.pipeliningReported)
            out.events.append(.pipeliningViolation(verb: line.verbText))
        }
        if out.traceEnabled {
            out.trace.append(.parameterMatch(id: masked ? 1 : 0))
            out.trace.append(.endOfCommandLine(index: Int(commandLines), length: total))
        }
        let verb = masked ? nil : line.verb
        if verb?.endsPipelinedGroup == true { flags.insert(.groupClosed) }
        line = CommandLineStateMachine()
        flags.remove([.lineBegun, .linePipelinedBadly])
        guard pending.push(verb?.replyKind ?? .other) else {
            out.events.append(.tooManyPendingCommands)
            mode = .tornDown
            return
        }
        switch verb {
        case .data?: mode = .awaitingDataReply
        case .auth?: mode = .awaitingAuthReply
        case .starttls?: flags.insert(.starttlsGuard)
        default: break
        }
        if out.traceEnabled && mode != .commands { out.trace.append(.modeChange(modeDescription)) }
    }

    /// A VERB or CMD PARAM trace record for the bytes of the current line in this chunk;
    /// `length` counts the line so far, terminator bytes included, as the seed's trace does.
    private func traceProgress(upTo end: Int, from start: Int, length: Int, into out: inout SMTPOutput) {
        guard end > start else { return }
        if line.phase == .verb {
            out.trace.append(.verb(commandLength: length, matchLength: end - start, state: Int(line.token)))
        } else {
            out.trace.append(.parameter(commandLength: length, matchLength: end - start,
                                        state: Int(line.phase.rawValue)))
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
            data = MessageDataStateMachine()
            mode = .commands
            if out.traceEnabled { out.trace.append(.modeChange(modeDescription)) }
            if !pending.push(.message) {
                out.events.append(.tooManyPendingCommands)
                mode = .tornDown
                return at - 1
            }
            return at
        case let .smuggling(form, at):
            count(messageBytes: at - start, into: &out)
            out.events.append(.smugglingAttempt(form))
            mode = .tornDown
            return at
        case .none:
            count(messageBytes: limit - start, into: &out)
            if limit < end {
                out.events.append(.maxDataExceeded(limit: policy.maxData))
                mode = .tornDown
            }
            return limit
        }
    }

    private mutating func count(messageBytes n: Int, into out: inout SMTPOutput) {
        messageBytes += n
        out.counters.messageBytes += n
    }

    /// One SASL response line after a 334 (RFC 4954 §4): passed as is, never judged as a
    /// command (DESIGN.md invariant 4); its reply decides what follows.
    mutating func saslResponse(_ bytes: Span<UInt8>, from start: Int, into out: inout SMTPOutput) -> Int {
        let end = bytes.count
        var i = start
        while i < end {
            i = LineBreakSearch.next(in: bytes, from: i, to: end)
            if i == end { return end }
            if bytes[i] == 0x0A {
                if !pending.push(.auth) {
                    out.events.append(.tooManyPendingCommands)
                    mode = .tornDown
                    return i
                }
                mode = .awaitingAuthReply
                return i + 1
            }
            i += 1
        }
        return end
    }
}
