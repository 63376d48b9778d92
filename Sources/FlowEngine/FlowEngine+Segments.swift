import PacketWire
import SMTPInspection

// Payload-carrying segments. In sequence-number terms, for the stream's next byte N:
//   [seq, end) entirely before N   a retransmission: rewritten to the bytes first released
//   seq before N < end              the old part rewritten, the new part inspected
//   seq after N                     beyond a gap: held (bounded) until the gap fills, or dropped
// New initiator bytes behind a held packet wait behind it. New bytes go to the SMTP core; what it
// masks is written into the packet; bytes it leaves waiting for a reply are held (whole packet)
// or cut off (the packet's tail: the sender retransmits it).

extension FlowEngine {
    mutating func segment(_ i: Int, _ d: Direction, _ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                          token: UInt64, checksumNotReady: Bool, at now: Moment,
                          into out: inout FlowOutput) -> PacketVerdict {
        guard let next = flows[i][d].next else {
            statistics.droppedBeforeHandshake += 1
            return .drop
        }
        let length = packet.payloadLength
        let ahead = next.distance(to: packet.sequenceNumber)
        if ahead > 0 {
            statistics.outOfOrder += 1
            return hold(i, d, packet, bytes.span, token: token, checksumNotReady: checksumNotReady, at: now)
        }
        let old = min(length, -ahead)
        let mode: ChecksumUpdate = checksumNotReady ? .deferred : .incremental
        let rewritten = old > 0 && rewriteReleased(i, d, packet, &bytes, count: old, mode: mode, at: now, into: &out)
        var verdict: PacketVerdict
        if old == length {
            verdict = rewritten ? .acceptModified(length: packet.totalLength) : .accept
        } else if d == .fromInitiator && isWaiting(i, at: next) {
            // Earlier bytes wait for a reply; these wait behind them.
            if old == 0 {
                return hold(i, d, packet, bytes.span, token: token, checksumNotReady: checksumNotReady, at: now)
            }
            verdict = .acceptModified(length: packet.truncatePayload(at: old, in: &bytes))
        } else {
            verdict = inspect(i, d, &packet, &bytes, from: old, rewritten: rewritten, mode: mode,
                              token: token, checksumNotReady: checksumNotReady, at: now, into: &out)
        }
        if checksumNotReady, case .acceptModified = verdict { packet.recomputeChecksums(in: &bytes) }
        return verdict
    }

    /// Whether initiator bytes at `next` must wait: a held packet already starts there.
    private func isWaiting(_ i: Int, at next: SequenceNumber) -> Bool {
        flows[i].held.contains { $0.direction == .fromInitiator && next.distance(to: $0.sequence) <= 0 }
    }

    /// Gives the new bytes (from payload offset `old`) to the SMTP core and applies its verdict.
    private mutating func inspect(_ i: Int, _ d: Direction, _ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                                  from old: Int, rewritten: Bool, mode: ChecksumUpdate, token: UInt64,
                                  checksumNotReady: Bool, at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        let count = packet.payloadLength - old
        guard flows[i][d].window.count + count <= configuration.retainLimitPerStream,
              retainedBytes + count <= configuration.retainLimitTotal
        else {
            // No room to keep what would be released: refuse the bytes until the peer ACKs.
            statistics.retainRefused += 1
            return old > 0 ? .acceptModified(length: packet.truncatePayload(at: old, in: &bytes)) : .drop
        }
        var judged = 0  // new bytes judged so far
        var masked = false
        while true {
            let piece = judge(i, d, &packet, &bytes, at: old + judged, count: count - judged, mode: mode, at: now, into: &out)
            masked = masked || piece.masked
            if piece.teardown {
                tearDown(i, at: now, into: &out)
                return .reset
            }
            judged += piece.consumed
            guard piece.resumeClient && judged < count else { break }
            // A reply decided what held client bytes are: they are judged before the rest of
            // this reply chunk, as they would be had TCP cut the chunk after that reply.
            drain(i, .fromInitiator, at: now, into: &out)
            if flows[i].state == .reset { return .reset }
        }
        if judged < count {
            if judged == 0 && old == 0 {
                return hold(i, d, packet, bytes.span, token: token, checksumNotReady: checksumNotReady, at: now)
            }
            statistics.truncated += 1
            return .acceptModified(length: packet.truncatePayload(at: old + judged, in: &bytes))
        }
        return rewritten || masked ? .acceptModified(length: packet.totalLength) : .accept
    }

    /// What the core made of one piece of a segment's new bytes.
    private struct JudgedPiece {
        var consumed: Int
        var masked = false
        var resumeClient = false
        var teardown = false
    }

    /// Runs payload bytes `[offset, offset + count)` through the SMTP core, writes its masks into
    /// the packet, and releases what it judged into the stream (kept for retransmissions).
    private mutating func judge(_ i: Int, _ d: Direction, _ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                                at offset: Int, count: Int, mode: ChecksumUpdate, at now: Moment,
                                into out: inout FlowOutput) -> JudgedPiece {
        let start = packet.payloadOffset + offset
        smtpOutput.removeAll()
        var piece = JudgedPiece(consumed: count)
        do {  // the chunk borrows `bytes`: end the borrow before the masks write to them
            let chunk = bytes.span.extracting(start..<(start + count))
            if d == .fromInitiator {
                let v = flows[i].smtp.receiveClient(chunk, into: &smtpOutput)
                (piece.consumed, piece.teardown) = (v.consumed, v.teardown)
            } else {
                let v = flows[i].smtp.receiveServer(chunk, into: &smtpOutput)
                (piece.consumed, piece.resumeClient, piece.teardown) = (v.consumed, v.resumeClient, v.teardown)
            }
        }
        collect(i, at: now, into: &out)
        piece.masked = !smtpOutput.masks.isEmpty
        for mask in smtpOutput.masks {
            packet.maskPayload((offset + mask.range.lowerBound)..<(offset + mask.range.upperBound), with: mask.byte,
                               in: &bytes, checksum: mode)
        }
        if piece.teardown { return piece }
        let base = flows[i][d].window.count
        do {
            let released = bytes.span.extracting(start..<(start + piece.consumed))
            let kept = flows[i][d].window.append(released, limit: configuration.retainLimitPerStream)
            precondition(kept, "room was checked before inspecting")
        }
        for mask in smtpOutput.masks { flows[i][d].window.noteMask((base + mask.range.lowerBound)..<(base + mask.range.upperBound)) }
        retainedBytes += piece.consumed
        flows[i][d].next = flows[i][d].next.map { $0 + piece.consumed }
        flows[i][d].bytes += UInt64(piece.consumed)
        return piece
    }

    /// Moves the core's findings to the engine's output and statistics.
    private mutating func collect(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        statistics.smtp += smtpOutput.counters
        // Runs for every inspected segment and there is rarely an event: copy the flow (a retain
        // of everything in it) only when there is one.
        if !smtpOutput.events.isEmpty {
            let flow = flows[i]
            for event in smtpOutput.events {
                statistics.smtpEvents += 1
                out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder,
                                            kind: .smtp(event), alertOn: flow.rule.alert, auditOn: flow.rule.auditTrail))
            }
        }
        for record in smtpOutput.trace { out.trace.append(FlowTrace(time: now, record: record)) }
    }

    /// Rewrites the first `count` payload bytes, already released once, to what was released.
    /// Returns whether anything changed; bytes that differ other than by our own masks are a
    /// peer's overlap trick, counted and reported (BEHAVIOR.md §7).
    private mutating func rewriteReleased(_ i: Int, _ d: Direction, _ packet: TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                                          count: Int, mode: ChecksumUpdate, at now: Moment,
                                          into out: inout FlowOutput) -> Bool {
        let seq = packet.sequenceNumber
        var conflicts = 0
        var changed = false
        var k = 0
        while k < count {
            guard let first = flows[i][d].window.byte(at: seq + k), bytes[packet.payloadOffset + k] != first else {
                k += 1
                continue
            }
            // A run of differing bytes: replace it in one edit.
            var run: [UInt8] = []
            let runStart = k
            while k < count, let b = flows[i][d].window.byte(at: seq + k), bytes[packet.payloadOffset + k] != b {
                if !flows[i][d].window.wasMasked(seq + k) { conflicts += 1 }
                run.append(b)
                k += 1
            }
            packet.replacePayload(at: runStart, with: run.span, in: &bytes, checksum: mode)
            changed = true
        }
        if changed { statistics.retransmissionsRewritten += 1 }
        if conflicts > 0 {
            statistics.overlapConflicts += 1
            let flow = flows[i]
            out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder,
                                        kind: .overlapRewritten(bytes: conflicts), alertOn: flow.rule.alert,
                                        auditOn: flow.rule.auditTrail))
        }
        return changed
    }

    /// Keeps a copy of the packet until it can be judged; drops it when a bound says no.
    mutating func hold(_ i: Int, _ d: Direction, _ packet: TCPPacket, _ bytes: Span<UInt8>, token: UInt64,
                       checksumNotReady: Bool, at now: Moment) -> PacketVerdict {
        let seq = packet.sequenceNumber, length = packet.payloadLength
        if flows[i].held.contains(where: { $0.direction == d && $0.sequence == seq && $0.length == length }) {
            statistics.duplicatesDropped += 1  // a retransmission of a packet already held
            return .drop
        }
        let size = packet.totalLength
        guard flows[i].held.count < configuration.maxHeldPacketsPerSession,
              flows[i].heldBytes + size <= configuration.maxHeldBytesPerSession,
              heldPackets < configuration.maxHeldPackets
        else {
            statistics.holdRefused += 1
            return .drop
        }
        var copy = [UInt8](repeating: 0, count: size)
        for k in 0..<size { copy[k] = bytes[k] }
        flows[i].held.append(HeldPacket(token: token, bytes: copy, direction: d, sequence: seq, length: length,
                                        checksumNotReady: checksumNotReady, since: now))
        flows[i].heldBytes += size
        heldPackets += 1
        statistics.held += 1
        return .hold
    }

    /// Judges held packets of direction `d` that can go now (their turn in the stream came, and
    /// no reply is awaited), in sequence order; their verdicts go to `out.releases`.
    mutating func drain(_ i: Int, _ d: Direction, at now: Moment, into out: inout FlowOutput) {
        while flows[i].state != .reset, let next = flows[i][d].next {
            if d == .fromInitiator && (flows[i].smtp.mode == .awaitingDataReply || flows[i].smtp.mode == .awaitingAuthReply) {
                return
            }
            var best: Int?
            for (k, h) in flows[i].held.enumerated() where h.direction == d && next.distance(to: h.sequence) <= 0 {
                if let b = best, flows[i].held[b].sequence.distance(to: h.sequence) >= 0 { continue }
                best = k
            }
            guard let k = best else { return }
            let held = flows[i].held.remove(at: k)
            flows[i].heldBytes -= held.bytes.count
            heldPackets -= 1
            var copy = held.bytes
            var verdict = PacketVerdict.drop
            var fin = false
            do {
                var span = copy.mutableSpan
                if var packet = try? TCPPacket(checking: span.span) {
                    verdict = segment(i, d, &packet, &span, token: held.token, checksumNotReady: held.checksumNotReady,
                                      at: now, into: &out)
                    fin = packet.flags.contains(.fin)
                }
            }
            if verdict == .hold { return }  // held again (a reply is awaited): it keeps its token
            out.releases.append(HeldRelease(token: held.token, verdict: verdict, bytes: copy))
            statistics.count(verdict)
            statistics.released += 1
            if fin, verdict != .drop, verdict != .reset, flows[i].state != .reset { finSeen(i, from: d, at: now) }
        }
    }

    /// Releases every held packet of the session with one verdict (tear-down, removal, timeout).
    mutating func releaseAllHeld(_ i: Int, verdict: PacketVerdict, into out: inout FlowOutput) {
        for held in flows[i].held {
            out.releases.append(HeldRelease(token: held.token, verdict: verdict, bytes: held.bytes))
            statistics.count(verdict)
        }
        heldPackets -= flows[i].held.count
        flows[i].held.removeAll()
        flows[i].heldBytes = 0
    }
}
