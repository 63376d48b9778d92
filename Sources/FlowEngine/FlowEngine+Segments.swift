import PacketWire
import SMTPInspection

// Payload-carrying segments. In sequence-number terms, for the stream's next byte N and the
// oldest byte the engine still keeps K (K ≤ N; bytes before K were acknowledged):
//   seq before K                    payload removed: nothing can vouch for bytes before K (the
//                                   receiver has them, or they were never part of the stream)
//   [seq, end) entirely before N    a retransmission: rewritten to the bytes first released
//   seq before N < end              the old part rewritten, the new part inspected
//   seq after N                     beyond a gap: held (bounded) until the gap fills, or dropped;
//                                   a window's worth or more beyond: dropped
// Held segments overlapping each other are made to carry the bytes first seen (at hold time),
// and are judged in sequence order once their turn comes. Initiator bytes wait (held) while the
// core waits for a reply. New bytes go to the SMTP core; what it masks is written into the
// packet; bytes it leaves waiting for a reply are held (whole packet) or cut off (the packet's
// tail: the sender retransmits it).

/// What the engine knows about the packet a segment came in (the caller's, and its own edits).
struct SegmentContext {
    /// The caller's handle, for a verdict given later.
    var token: UInt64
    /// The kernel left the checksum unfinished (`CSUMNOTREADY`): edits defer it, a full one follows.
    var partial: Bool
    /// The bytes already differ from what the kernel queued (a normalisation).
    var edited: Bool
}

extension FlowEngine {
    mutating func segment(_ i: Int, _ d: Direction, _ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                          _ context: SegmentContext, at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        guard let next = flows[i][d].next else {
            statistics.droppedBeforeHandshake += 1
            return .drop
        }
        let length = packet.payloadLength
        let ahead = next.distance(to: packet.sequenceNumber)
        if ahead >= Self.maximumWindow {
            statistics.outOfWindow += 1
            return .drop
        }
        if ahead > 0 {
            if flows[i][d].finSeen { return afterFIN(&packet, &bytes, keeping: 0) }
            statistics.outOfOrder += 1
            return hold(i, d, &packet, &bytes, context, at: now, into: &out)
        }
        let unvouched = packet.sequenceNumber.distance(to: flows[i][d].window.start)
        if unvouched > 0 {
            // Bytes before what is kept: acknowledged already (so the receiver drops them, but only
            // if its ACK was real) or never part of the stream. They are removed either way; what
            // follows them goes on as usual. An empty segment still carries its ACK, which the
            // receiver answers, so the sender learns what it has.
            statistics.unvouchedRemoved += 1
            if unvouched >= length { return .acceptModified(length: packet.truncatePayload(at: 0, in: &bytes)) }
            packet.trimPayloadFront(unvouched, in: &bytes)
            var trimmed = context
            trimmed.edited = true  // a copy held from here on is not what the kernel queued
            let verdict = segment(i, d, &packet, &bytes, trimmed, at: now, into: &out)
            return verdict == .accept ? .acceptModified(length: packet.totalLength) : verdict
        }
        let old = min(packet.payloadLength, -ahead)
        let mode: ChecksumUpdate = context.partial ? .deferred : .incremental
        let rewritten = old > 0 && rewriteReleased(i, d, packet, &bytes, count: old, mode: mode, at: now, into: &out)
        if old == length {
            return rewritten ? .acceptModified(length: packet.totalLength) : .accept
        }
        if flows[i][d].finSeen { return afterFIN(&packet, &bytes, keeping: old) }
        if d == .fromInitiator && isAwaitingReply(i) {
            // Earlier bytes wait for a reply; these wait behind them.
            if old == 0 { return hold(i, d, &packet, &bytes, context, at: now, into: &out) }
            return .acceptModified(length: packet.truncatePayload(at: old, in: &bytes))
        }
        return inspect(i, d, &packet, &bytes, from: old, rewritten: rewritten, mode: mode, context, at: now, into: &out)
    }

    /// Bytes after the sender's FIN: the peer's TCP never reads them (RFC 9293 §3.10.7.4: a FIN
    /// ends what it delivers), so they must not be judged either: a "reply" there would change
    /// the session's mode while the server said nothing. Passes the first `keeping` bytes (the
    /// released ones, rewritten), drops the packet when there are none.
    private mutating func afterFIN(_ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>, keeping: Int) -> PacketVerdict {
        statistics.dataAfterFIN += 1
        return keeping == 0 ? .drop : .acceptModified(length: packet.truncatePayload(at: keeping, in: &bytes))
    }

    /// Whether the core wants client bytes to wait for a reply (SMTPSession.clientBytesWaitForReply).
    func isAwaitingReply(_ i: Int) -> Bool { flows[i].smtp.clientBytesWaitForReply }

    /// Gives the new bytes (from payload offset `old`) to the SMTP core and applies its verdict.
    private mutating func inspect(_ i: Int, _ d: Direction, _ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                                  from old: Int, rewritten: Bool, mode: ChecksumUpdate, _ context: SegmentContext,
                                  at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        let count = packet.payloadLength - old
        guard mayRetain(count, in: flows[i][d].window.count) else {
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
            if judged == 0 && old == 0 { return hold(i, d, &packet, &bytes, context, at: now, into: &out) }
            statistics.truncated += 1
            return .acceptModified(length: packet.truncatePayload(at: old + judged, in: &bytes))
        }
        return rewritten || masked ? .acceptModified(length: packet.totalLength) : .accept
    }

    /// Whether a direction keeping `kept` bytes may keep `count` more (FlowEngineConfiguration).
    private func mayRetain(_ count: Int, in kept: Int) -> Bool {
        let stream = kept + count, pool = retainedBytes + count
        guard stream <= configuration.retainLimitPerStream, pool <= configuration.retainLimitTotal else { return false }
        return stream <= configuration.retainGuaranteedPerStream || pool <= configuration.retainLimitTotal / 4 * 3
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
        flows[i][d].release(bytes.span.extracting(start..<(start + piece.consumed)), masks: smtpOutput.masks,
                            limit: configuration.retainLimitPerStream)
        retainedBytes += piece.consumed
        return piece
    }

    /// Moves the core's findings to the engine's output and statistics.
    private mutating func collect(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        statistics.smtp += smtpOutput.counters
        // Runs for every inspected segment and there is rarely an event.
        for event in smtpOutput.events {
            statistics.smtpEvents += 1
            emit(i, .smtp(event), at: now, into: &out)
        }
        for record in smtpOutput.trace { out.trace.append(FlowTrace(time: now, record: record)) }
    }

    /// Rewrites the first `count` payload bytes, already released once, to what was released.
    /// Returns whether anything changed; bytes that differ other than by our own masks are a
    /// peer's overlap trick, counted and reported (docs/behaviour.md §7).
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
        if conflicts > 0 { reportOverlap(i, d, bytes: conflicts, at: now, into: &out) }
        return changed
    }

    /// Bytes from `d` that differed from the first copy were rewritten to it.
    private mutating func reportOverlap(_ i: Int, _ d: Direction, bytes: Int, at now: Moment, into out: inout FlowOutput) {
        statistics.overlapConflicts += 1
        emit(i, .overlapRewritten(bytes: bytes, fromResponder: d == .fromResponder), at: now, into: &out)
    }

    /// Keeps a copy of the packet until it can be judged; drops it when a bound says no. Bytes it
    /// shares with packets held before are made theirs: the first copy of a byte wins here too.
    mutating func hold(_ i: Int, _ d: Direction, _ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                       _ context: SegmentContext, at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        let seq = packet.sequenceNumber, length = packet.payloadLength
        if flows[i].held.contains(d, sequence: seq, length: length) {
            statistics.duplicatesDropped += 1  // a retransmission of a packet already held
            return .drop
        }
        let size = packet.totalLength
        guard flows[i].held.count < configuration.maxHeldPacketsPerSession,
              flows[i].held.bytes + size <= configuration.maxHeldBytesPerSession,
              heldPackets < configuration.maxHeldPackets
        else {
            statistics.holdRefused += 1
            return .drop
        }
        let overlaid = overlayHeld(i, d, packet, &bytes, partial: context.partial, at: now, into: &out)
        var copy = [UInt8](repeating: 0, count: size)
        for k in 0..<size { copy[k] = bytes[k] }
        flows[i].held.append(HeldPacket(token: context.token, bytes: copy, direction: d, sequence: seq, length: length,
                                        checksumNotReady: context.partial, edited: context.edited || overlaid,
                                        since: now))
        heldPackets += 1
        statistics.held += 1
        return .hold
    }

    /// Writes the bytes of packets already held over the ones this packet shares with them.
    /// Returns whether anything changed; bytes that differed are an overlap trick, reported.
    private mutating func overlayHeld(_ i: Int, _ d: Direction, _ packet: TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                                     partial: Bool, at now: Moment, into out: inout FlowOutput) -> Bool {
        let seq = packet.sequenceNumber, length = packet.payloadLength
        var conflicts = 0
        for held in flows[i].held.packets where held.direction == d {
            let from = max(0, seq.distance(to: held.sequence))                       // in this payload
            let to = min(length, seq.distance(to: held.sequence + held.length))
            guard from < to else { continue }
            let heldPayload = held.bytes.count - held.length  // a held copy is the packet, payload last
            let first = heldPayload + held.sequence.distance(to: seq + from)
            let earlier = held.bytes.span.extracting(first..<(first + to - from))
            var differing = 0
            for k in 0..<(to - from) where bytes[packet.payloadOffset + from + k] != earlier[k] { differing += 1 }
            guard differing > 0 else { continue }
            conflicts += differing
            packet.replacePayload(at: from, with: earlier, in: &bytes, checksum: partial ? .deferred : .incremental)
        }
        guard conflicts > 0 else { return false }
        reportOverlap(i, d, bytes: conflicts, at: now, into: &out)
        return true
    }

    /// Judges held packets of direction `d` that can go now (their turn in the stream came, and
    /// no reply is awaited), in sequence order, the first held first among equals; their
    /// verdicts go to `out.releases`.
    mutating func drain(_ i: Int, _ d: Direction, at now: Moment, into out: inout FlowOutput) {
        while flows[i].state != .reset, let next = flows[i][d].next {
            if d == .fromInitiator && isAwaitingReply(i) { return }
            guard let held = flows[i].held.takeNext(d, next: next) else { return }
            heldPackets -= 1
            var copy = held.bytes
            var verdict = ReleaseVerdict.drop
            var fin: TCPPacket?
            do {
                var span = copy.mutableSpan
                if var packet = try? TCPPacket(checking: span.span) {
                    let context = SegmentContext(token: held.token, partial: held.checksumNotReady, edited: held.edited)
                    let judged = segment(i, d, &packet, &span, context, at: now, into: &out)
                    if packet.flags.contains(.fin) { fin = packet }
                    switch Self.finish(judged, packet: packet, edited: held.edited, partial: held.checksumNotReady, &span) {
                    case .hold: return  // held again (a reply is awaited): it keeps its token
                    case .accept, .acceptBypassing: verdict = .accept  // a held packet never bypasses
                    case let .acceptModified(length): verdict = .acceptModified(length: length)
                    case .drop: verdict = .drop
                    case .reset: verdict = .reset
                    }
                }
            }
            out.releases.append(HeldRelease(token: held.token, verdict: verdict, bytes: copy))
            statistics.count(verdict.packetVerdict)
            statistics.released += 1
            if let fin, verdict != .drop, verdict != .reset, flows[i].state != .reset { finSeen(i, fin, from: d, at: now, into: &out) }
        }
    }

    /// Releases every held packet of the session with one verdict (tear-down, removal, timeout).
    mutating func releaseAllHeld(_ i: Int, verdict: ReleaseVerdict, into out: inout FlowOutput) {
        for held in flows[i].held.takeAll() {
            out.releases.append(HeldRelease(token: held.token, verdict: verdict, bytes: held.bytes))
            statistics.count(verdict.packetVerdict)
            heldPackets -= 1
        }
    }
}
