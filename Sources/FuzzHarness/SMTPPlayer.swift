import SMTPInspection

/// Masks as stream positions: sorted, adjacent runs of one byte merged.
struct MaskRuns: Equatable, CustomStringConvertible {
    private var byPosition: [Int: UInt8] = [:]

    /// Records a mask; false when the position was already masked with another byte.
    mutating func add(_ range: Range<Int>, byte: UInt8) -> Bool {
        var consistent = true
        for p in range {
            if let old = byPosition[p], old != byte { consistent = false }
            byPosition[p] = byte
        }
        return consistent
    }

    var runs: [(range: Range<Int>, byte: UInt8)] {
        var result: [(range: Range<Int>, byte: UInt8)] = []
        for p in byPosition.keys.sorted() {
            let b = byPosition[p]!
            if let last = result.last, last.range.upperBound == p, last.byte == b {
                result[result.count - 1].range = last.range.lowerBound..<(p + 1)
            } else {
                result.append((p..<(p + 1), b))
            }
        }
        return result
    }

    static func == (a: MaskRuns, b: MaskRuns) -> Bool { a.byPosition == b.byPosition }

    var description: String {
        "[" + runs.map { "\($0.range.lowerBound)..<\($0.range.upperBound) '\(escaped([$0.byte]))'" }
            .joined(separator: ", ") + "]"
    }
}

/// What a session decided about a whole conversation.
struct Judgement: Equatable {
    var clientMasks = MaskRuns()
    var serverMasks = MaskRuns()
    var clientJudged = 0
    var clientHeld = 0
    var serverRead = 0
    var tornDown = false
    /// Events in the order they came (compared as a multiset).
    var events: [SMTPEvent] = []
    var counters = SMTPCounters()
    var mode = SMTPSession.Mode.commands
    var pendingReplies = 0
    var closing = false

    func difference(from other: Judgement) -> String? {
        var parts: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T) {
            if a != b { parts.append("\(name) \(a) vs \(b)") }
        }
        compare("client masks", clientMasks, other.clientMasks)
        compare("server masks", serverMasks, other.serverMasks)
        compare("client bytes judged", clientJudged, other.clientJudged)
        compare("client bytes held", clientHeld, other.clientHeld)
        // After a tear-down nothing more is read; how much of the last chunk counted is moot.
        if !(tornDown && other.tornDown) { compare("server bytes read", serverRead, other.serverRead) }
        compare("torn down", tornDown, other.tornDown)
        if let (onlyHere, onlyThere) = Self.multisetDifference(events, other.events) {
            parts.append("events only in one: \(onlyHere) / \(onlyThere)")
        }
        compare("counters", "\(counters)", "\(other.counters)")
        compare("mode", mode, other.mode)
        compare("pending replies", pendingReplies, other.pendingReplies)
        compare("closing", closing, other.closing)
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// nil when `a` and `b` hold the same events, however ordered; else what only each holds.
    static func multisetDifference(_ a: [SMTPEvent], _ b: [SMTPEvent]) -> ([SMTPEvent], [SMTPEvent])? {
        var rest = b
        var onlyA: [SMTPEvent] = []
        for event in a {
            if let k = rest.firstIndex(of: event) { rest.remove(at: k) } else { onlyA.append(event) }
        }
        return onlyA.isEmpty && rest.isEmpty ? nil : (onlyA, rest)
    }
}

/// Plays chunks through a session as the flow engine does: judged client bytes go on, the rest
/// is held, and while bytes are held later client bytes wait behind them without being offered;
/// a server verdict with `resumeClient` offers the held bytes again.
struct Player {
    var session: SMTPSession
    var output: SMTPOutput
    var policyBits: UInt8
    var held: [UInt8] = []
    var result = Judgement()
    var findings = FuzzFindings()

    init(policyBits: UInt8, trace: Bool) {
        self.policyBits = policyBits
        session = SMTPSession(policy: SMTPSessionFuzz.policies[Int(policyBits & 0x0F)])
        output = SMTPOutput(traceEnabled: trace)
    }

    mutating func adopt(_ bits: UInt8) {
        policyBits = bits & 0x0F
        session.adopt(SMTPSessionFuzz.policies[Int(policyBits)])
    }

    mutating func client(_ chunk: [UInt8]) {
        guard !result.tornDown else { return }
        if !held.isEmpty {
            held += chunk
            return
        }
        feed(chunk)
    }

    private mutating func feed(_ chunk: [UInt8]) {
        output.removeAll()
        let verdict = session.receiveClient(chunk.span, into: &output)
        let consumed = verdict.consumed
        findings.check((0...chunk.count).contains(consumed), "receiveClient consumed \(consumed) of \(chunk.count)")
        let judged = max(0, min(consumed, chunk.count))
        record(output.masks, in: chunk, limit: judged, base: result.clientJudged, client: true)
        collect()
        result.clientJudged += judged
        if verdict.teardown {
            findings.check(session.mode == .tornDown, "client teardown with the session in mode \(session.mode)")
            result.tornDown = true
            held = []
            return
        }
        findings.check(session.mode != .tornDown, "session torn down but the verdict does not say so")
        if judged < chunk.count {
            held = Array(chunk[judged...])
            // Bytes held with no reply awaited would wait forever: the session stalls.
            findings.check(session.mode == .awaitingDataReply || session.mode == .awaitingAuthReply,
                           "\(chunk.count - judged) client bytes left unjudged in mode \(session.mode)")
        }
    }

    /// A server chunk: the session reads it up to a reply that decides what held client bytes
    /// are; those go first, then the rest of the chunk again.
    mutating func server(_ chunk: [UInt8]) {
        var rest = chunk
        repeat {
            guard !result.tornDown else { return }
            output.removeAll()
            let verdict = session.receiveServer(rest.span, into: &output)
            let consumed = max(0, min(verdict.consumed, rest.count))
            findings.check(verdict.consumed == consumed, "receiveServer consumed \(verdict.consumed) of \(rest.count)")
            findings.check(consumed == rest.count || verdict.resumeClient || verdict.teardown,
                           "receiveServer left \(rest.count - consumed) bytes without a reason (no resumeClient)")
            record(output.masks, in: rest, limit: consumed, base: result.serverRead, client: false)
            collect()
            result.serverRead += consumed
            if verdict.teardown {
                findings.check(session.mode == .tornDown, "server teardown with the session in mode \(session.mode)")
                result.tornDown = true
                held = []
                return
            }
            if verdict.resumeClient && !held.isEmpty {
                let waiting = held
                held = []
                feed(waiting)
            }
            guard consumed > 0 || rest.isEmpty else {
                findings.add("receiveServer read nothing of \(rest.count) bytes: the caller would loop")
                return
            }
            rest.removeFirst(consumed)
        } while !rest.isEmpty
    }

    /// Checks a call's masks and adds them at their stream positions.
    private mutating func record(_ masks: [ByteMask], in chunk: [UInt8], limit: Int, base: Int, client: Bool) {
        let side = client ? "client" : "server"
        for mask in masks {
            let r = mask.range
            guard r.lowerBound >= 0, r.upperBound <= limit, !r.isEmpty else {
                findings.add("\(side) mask \(r) outside the \(limit) bytes judged of a \(chunk.count)-byte chunk")
                continue
            }
            if let k = r.first(where: { chunk[$0] == 0x0D || chunk[$0] == 0x0A }) {
                findings.add("\(side) mask \(r) covers \(chunk[k] == 0x0D ? "CR" : "LF") at \(k) of \"\(escaped(chunk))\"")
            }
            if mask.byte == 0x0D || mask.byte == 0x0A {
                findings.add("\(side) mask byte is \(mask.byte == 0x0D ? "CR" : "LF")")
            }
            let shifted = (base + r.lowerBound)..<(base + r.upperBound)
            let consistent = client ? result.clientMasks.add(shifted, byte: mask.byte)
                                    : result.serverMasks.add(shifted, byte: mask.byte)
            findings.check(consistent, "\(side) stream position masked twice with different bytes at \(shifted)")
        }
    }

    private mutating func collect() {
        for event in output.events {
            result.events.append(event)
            _ = event.alertText(peer: "(192.0.2.1:25)")
        }
        for record in output.trace { _ = record.description }
        result.counters += output.counters
        _ = session.modeDescription
    }

    func judgement() -> Judgement {
        var j = result
        j.clientHeld = held.count
        j.mode = session.mode
        j.pendingReplies = session.pendingReplyCount
        j.closing = session.isClosing
        return j
    }
}
