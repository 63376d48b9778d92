import PacketWire
import SMTPInspection

// The flow table between packets and the SMTP inspection core
// (docs/design.md "The path of one packet"). Both directions of a connection are one session;
// each direction's bytes reach the core strictly in order, and retransmissions carry exactly
// what was released first (docs/design.md invariant 3); what the core masks is written into the
// packet, same length, checksums fixed (invariant 4); where the views could diverge the engine
// holds, or tears the session down (invariant 6). Time is a parameter; nothing here makes a
// syscall.
//
// Sessions: a SYN to the SMTP port opens one (half-open); any other packet of a connection not
// in the table resets it (mid-stream: its SMTP state is unknown), but for an RST, which passes.
// A session's life from there, and what changes it, is FlowEngine+Life.swift's table. A new SYN
// from the initiator of a session that is over (closing, closed, reset) starts a new session on
// the same ports.
//
// The invariant (docs/design.md): every payload byte the server's application reads was judged
// by the state machines at the position at which the server's TCP stack delivers it, or the
// packet carrying it is dropped (or the session reset). So, before a packet may touch any state:
//   - it parses (malformed: dropped), it is not an IP fragment (dropped: the rules reassemble
//     first, so one reaching us would pass unseen) and its checksums are right where nobody
//     verified them (dropped: the receiver would discard it);
//   - it arrived on the interface its direction is bound to (a forged "server" packet from the
//     outside is dropped);
//   - an RST acts only at exactly the receiver's next sequence number, others pass unacted on
//     (the receiver answers them with a challenge ACK); a SYN never replaces a live session;
//   - a segment has ACK, and acknowledges nothing that did not go through us.
// Every queued segment is normalised so that the server's stack reads what the core judged: URG
// and the urgent pointer cleared (the stack would take the urgent byte out of the stream), a
// SYN's payload and Fast Open option removed (the client sends the data again after the
// handshake, where it is judged), bytes before what the engine keeps removed (it cannot vouch
// for them).

/// The flow table and everything done to one queue's packets. One engine per queue thread.
public struct FlowEngine {
    public var configuration: FlowEngineConfiguration
    /// `debug ip inspect smtp`: trace records go to `FlowOutput.trace`.
    public var traceEnabled: Bool {
        get { smtpOutput.traceEnabled }
        set { smtpOutput.traceEnabled = newValue }
    }
    public internal(set) var statistics = FlowStatistics()

    var flows: [Flow] = []
    var index: [ConnectionKey: Int] = [:]
    var smtpOutput = SMTPOutput()
    /// Packets held and bytes retained, over all sessions (for the global bounds).
    var heldPackets = 0
    var retainedBytes = 0
    var sessionCounter: UInt32 = 0
    var halfOpen = HalfOpenGuard()
    /// Sessions that left the queue (FlowEngine+Bypass.swift), and when they were last swept.
    var bypassed: [ConnectionKey: BypassedSession] = [:]
    /// Sessions that left the queue, taken back by a SYN on their ports: kept while the
    /// half-open session of that SYN waits for the server's answer (FlowEngine+Bypass.swift).
    var reopenedBypass: [ConnectionKey: BypassedSession] = [:]
    var bypassedSwept = Moment(nanoseconds: 0)
    /// The order in which sessions left the queue (key and serial), oldest from `bypassOrderHead`:
    /// at maxSessions the oldest is forgotten.
    var bypassOrder: [(ConnectionKey, UInt64)] = []
    var bypassOrderHead = 0
    var bypassSerial: UInt64 = 0

    /// A segment starting this far or farther beyond the stream's next byte is in no receive
    /// window (TCP's largest is 2^30 bytes, RFC 7323 §2.3): dropped, not held.
    static let maximumWindow = 1 << 30

    public init(configuration: FlowEngineConfiguration = FlowEngineConfiguration()) {
        self.configuration = configuration
        flows.reserveCapacity(1024)
    }

    /// Sessions in the table.
    public var sessionCount: Int { flows.count }

    /// Judges one packet (IP header first), edits it in place, and says what to do with it.
    ///
    /// - Parameters:
    ///   - token: the caller's handle for the packet (the NFQUEUE packet id), returned in
    ///     `FlowOutput.releases` if the packet is held.
    ///   - rule: the inspection rule for a session this packet would start.
    ///   - checksumNotReady: the kernel left the TCP checksum unfinished (`CSUMNOTREADY`):
    ///     an edited packet then gets a full checksum instead of an incremental update.
    ///     Otherwise the checksums are verified here.
    public mutating func process(
        _ bytes: inout MutableSpan<UInt8>, token: UInt64, rule: InspectionRuleBinding,
        checksumNotReady: Bool = false, at now: Moment, into out: inout FlowOutput
    ) -> PacketVerdict {
        process(&bytes, PacketMetadata(token: token, rule: rule, checksum: checksumNotReady ? .notReady : .unverified),
                at: now, into: &out)
    }

    /// Judges one packet (IP header first), edits it in place, and says what to do with it.
    public mutating func process(_ bytes: inout MutableSpan<UInt8>, _ meta: PacketMetadata, at now: Moment,
                                 into out: inout FlowOutput) -> PacketVerdict {
        statistics.packets += 1
        statistics.bytes += UInt64(bytes.count)
        var packet: TCPPacket
        do {
            packet = try TCPPacket(checking: bytes.span)
        } catch {
            return notInspectable(error, at: now, rule: meta.rule, into: &out)
        }
        if meta.checksum == .unverified && !packet.verifyChecksums(in: bytes.span) {
            statistics.badChecksum += 1
            return dropped(packet, reason: "bad checksum", rule: meta.rule, at: now, into: &out)
        }
        let partial = meta.checksum == .notReady
        let edited = normalise(&packet, &bytes, partial: partial)
        let key = ConnectionKey(packet.flowKey)
        let verdict: PacketVerdict
        // One table lookup per packet. The test reads two fields of the flow in place: handing
        // the whole Flow (or calling a method of self) made the compiler copy the Flow, and
        // even the whole engine, with a retain of every reference in it, on every packet.
        if let i = index[key] {
            if Self.isNewConnection(packet, replacing: flows[i].state, initiator: flows[i].initiator)
                && flows[i].binding.allows(.fromInitiator, meta.interfaces) {
                // The same addresses and ports again, after the old connection ended.
                remove(i, at: now, into: &out)
                verdict = newFlow(packet, key: key, meta, at: now, into: &out)
            } else {
                verdict = existing(i, &packet, &bytes, meta, edited: edited, at: now, into: &out)
            }
        } else if let passed = bypassed.isEmpty ? nil : bypassedPacket(key, packet, at: now) {
            verdict = passed
        } else {
            verdict = newFlow(packet, key: key, meta, at: now, into: &out)
            // A SYN that took a session back but made no session (table full, half-open
            // protection): nothing will answer for the old one.
            if !reopenedBypass.isEmpty && index[key] == nil { endReopenedBypass(key, at: now, into: &out) }
        }
        let final = Self.finish(verdict, packet: packet, edited: edited, partial: partial, &bytes)
        statistics.count(final)
        statistics.heldNow = heldPackets
        return final
    }

    /// Header normalisations every queued segment gets before it is judged (the file's top
    /// comment). Returns whether the bytes changed.
    private mutating func normalise(_ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>, partial: Bool) -> Bool {
        let mode: ChecksumUpdate = partial ? .deferred : .incremental
        var edited = false
        if packet.clearUrgent(in: &bytes, checksum: mode) {
            statistics.urgentCleared += 1
            edited = true
        }
        if packet.flags.contains(.syn) {
            if packet.removeFastOpen(in: &bytes, checksum: mode) {
                statistics.fastOpenRemoved += 1
                edited = true
            }
            if packet.payloadLength > 0 {
                // Data on a SYN (TCP Fast Open) would reach the server before any reply could
                // be judged against it; without it the client sends the bytes again after the
                // handshake. Cutting the payload cuts a FIN with it.
                packet.truncatePayload(at: 0, in: &bytes)
                statistics.synDataStripped += 1
                edited = true
            }
        }
        return edited
    }

    /// The verdict as the caller must apply it: a normalised packet passes as a replacement, and
    /// an edited packet whose checksum the kernel had not finished gets a full one.
    static func finish(_ verdict: PacketVerdict, packet: TCPPacket, edited: Bool, partial: Bool,
                       _ bytes: inout MutableSpan<UInt8>) -> PacketVerdict {
        var final = verdict
        if edited, case .accept = verdict { final = .acceptModified(length: packet.totalLength) }
        if partial, case let .acceptModified(length) = final,
           let shorter = try? TCPPacket(checking: bytes.span.extracting(0..<length)) {
            shorter.recomputeChecksums(in: &bytes)
        }
        return final
    }

    /// A SYN from the initiator to a session that is over (closing, closed by an RST, torn
    /// down) starts a new connection on the same ports.
    private static func isNewConnection(_ packet: TCPPacket, replacing state: SessionState, initiator: Endpoint) -> Bool {
        let flags = packet.flags
        guard flags.contains(.syn), !flags.contains(.ack), !flags.contains(.rst),
              packet.flowKey.source == initiator else { return false }
        switch state {
        case .closing, .closed, .reset: return true
        case .opening, .open: return false
        }
    }

    private mutating func notInspectable(_ error: PacketError, at now: Moment, rule: InspectionRuleBinding,
                                         into out: inout FlowOutput) -> PacketVerdict {
        let reason: String
        switch error.reason {
        case .fragment:
            // The rules reassemble before the queue (conntrack); a fragment that still reaches it
            // would pass unseen, and its other fragments never match the TCP/25 rule.
            statistics.fragments += 1
            reason = "IP fragment"
        case _ where error.isMalformed:
            statistics.malformed += 1
            reason = error.reason.text
        default:
            statistics.notInspected += 1
            statistics.count(PacketVerdict.accept)
            return .accept
        }
        // What was readable of the packet names it: addresses, and ports when the TCP header was
        // there (a fragment's may be in another fragment).
        let source = error.source.map { Endpoint($0, error.sourcePort ?? 0) } ?? Self.unknownEndpoint
        let destination = error.destination.map { Endpoint($0, error.destinationPort ?? 0) } ?? Self.unknownEndpoint
        out.events.append(FlowEvent(time: now, initiator: source, responder: destination,
                                    kind: .dropPacket(reason: reason), alertOn: rule.alert, auditOn: rule.auditTrail))
        statistics.count(PacketVerdict.drop)
        return .drop
    }

    /// Alerts one session may print at once, and the time in which it earns one more: a session
    /// that sends a flood of illegal lines (one 63 KB segment of `X\r\n` is 21,000 of them)
    /// prints its first alerts, then one a second, and a count of the rest (`alertsSuppressed`).
    public static let alertBurst = 20
    static let alertRefillSeconds = 1.0

    /// Reports an alert of session `i`, within its share.
    mutating func emit(_ i: Int, _ kind: FlowEvent.Kind, at now: Moment, into out: inout FlowOutput) {
        guard flows[i].alerts.take(at: now) else {
            statistics.alertsSuppressed += 1
            return
        }
        let flow = flows[i]
        out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder, kind: kind,
                                    alertOn: flow.rule.alert, auditOn: flow.rule.auditTrail))
    }

    /// Reports how many of session `i`'s alerts were not printed since the last such report.
    mutating func summariseSuppressedAlerts(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        let flow = flows[i]
        guard flow.alerts.suppressed > 0 else { return }
        out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder,
                                    kind: .alertsSuppressed(count: flow.alerts.suppressed),
                                    alertOn: flow.rule.alert, auditOn: flow.rule.auditTrail))
        flows[i].alerts.suppressed = 0
    }

    /// A packet that failed a check before it could touch a session: dropped and reported.
    private mutating func dropped(_ packet: TCPPacket, reason: String, rule: InspectionRuleBinding, at now: Moment,
                                  into out: inout FlowOutput) -> PacketVerdict {
        let key = packet.flowKey
        out.events.append(FlowEvent(time: now, initiator: key.source, responder: key.destination,
                                    kind: .dropPacket(reason: reason), alertOn: rule.alert, auditOn: rule.auditTrail))
        statistics.count(PacketVerdict.drop)
        return .drop
    }

    static let unknownEndpoint = Endpoint(.v4(IPv4Address(0, 0, 0, 0)), 0)

    /// A packet of a connection not in the table.
    private mutating func newFlow(_ packet: TCPPacket, key: ConnectionKey, _ meta: PacketMetadata,
                                  at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        let flags = packet.flags
        let rule = meta.rule
        if flags.contains(.rst) { return .accept }  // nothing to track, nothing to protect
        let toServer = packet.destinationPort == configuration.smtpPort
        guard flags.contains(.syn) && !flags.contains(.ack) && toServer else {
            // Mid-stream: the session began before us or was forgotten. Without its SMTP state
            // its bytes cannot be judged, so it must not go on uninspected.
            statistics.midstream += 1
            let initiator = toServer ? packet.flowKey.source : packet.flowKey.destination
            let responder = toServer ? packet.flowKey.destination : packet.flowKey.source
            out.events.append(FlowEvent(time: now, initiator: initiator, responder: responder,
                                        kind: .dropPacket(reason: "no session (began before inspection, or expired)"),
                                        alertOn: rule.alert, auditOn: rule.auditTrail))
            return configuration.midstream == .reset ? .reset : .drop
        }
        guard flows.count < configuration.maxSessions else {
            statistics.tableFull += 1
            return .drop
        }
        let host = packet.flowKey.destination.address
        guard admitHalfOpen(to: host, rule: rule, at: now, into: &out) else { return .drop }
        sessionCounter &+= 1
        var flow = Flow(key: key, initiator: packet.flowKey.source, responder: packet.flowKey.destination,
                        id: 0x66F9_6EB0 &+ sessionCounter &* 0x9E37_79B1, rule: rule,
                        binding: InterfaceBinding(syn: meta.interfaces), at: now)
        flow.initiatorStream.start(isn: packet.sequenceNumber)
        index[key] = flows.count
        flows.append(flow)
        statistics.sessionCreated(at: now)
        statistics.halfOpen += 1
        statistics.noteMaxima()  // before half-open protection deletes one again
        halfOpenCreated(flows.count - 1, rule: rule, at: now, into: &out)
        return .accept
    }

    /// A packet of a session in the table.
    private mutating func existing(_ i: Int, _ packet: inout TCPPacket, _ bytes: inout MutableSpan<UInt8>,
                                   _ meta: PacketMetadata, edited: Bool, at now: Moment,
                                   into out: inout FlowOutput) -> PacketVerdict {
        let direction = flows[i].direction(of: packet)
        guard flows[i].binding.allows(direction, meta.interfaces) else {
            statistics.wrongInterface += 1
            emit(i, .dropPacket(reason: "arrival on the wrong interface for its session"), at: now, into: &out)
            return .drop
        }
        let flags = packet.flags
        if flags.contains(.rst) { return reset(i, packet, from: direction, at: now, into: &out) }
        switch flows[i].state {
        case .closed:
            guard packet.payloadLength > 0 else { return .accept }
            statistics.lateAfterReset += 1
            return .drop
        case .reset:
            return .reset
        case .opening, .open, .closing:
            break
        }
        if !reopenedBypass.isEmpty && direction == .fromResponder && flows[i].responderStream.isn == nil
            && flags.contains(.ack) && !flags.contains(.syn) && !edited && reopenedBypass[flows[i].key] != nil {
            return resumeBypass(i, at: now, into: &out)
        }
        if flags.contains(.syn) {
            let verdict = syn(i, packet, from: direction, meta.interfaces)
            if !reopenedBypass.isEmpty && direction == .fromResponder && flows[i].responderStream.isn != nil {
                endReopenedBypass(flows[i].key, at: now, into: &out)  // a SYN-ACK: a new connection indeed
            }
            return verdict
        }
        guard flags.contains(.ack), flows[i].acknowledgesOnlyWhatWasSent(packet.acknowledgmentNumber, from: direction) else {
            // RFC 9293 §3.10.7.4: a synchronized connection discards a segment without ACK; an
            // ACK of bytes never sent (through us) is not from the peer's TCP (RFC 5961 §5).
            statistics.ackRefused += 1
            return .drop
        }
        flows[i].lastHeard = now
        acknowledge(i, packet.acknowledgmentNumber, from: direction, at: now, into: &out)
        // Held bytes of this direction whose turn came go first: the first copy of a byte wins.
        if !flows[i].held.isEmpty { drain(i, direction, at: now, into: &out) }
        var verdict = PacketVerdict.accept
        var fin = flags.contains(.fin)
        if packet.payloadLength > 0 && flows[i].state != .reset {
            let context = SegmentContext(token: meta.token, partial: meta.checksum == .notReady, edited: edited)
            verdict = self.segment(i, direction, &packet, &bytes, context, at: now, into: &out)
            fin = packet.flags.contains(.fin)  // cutting the payload's tail cuts its FIN too
        }
        switch verdict {
        case .accept, .acceptModified, .acceptBypassing:
            if fin && flows[i].state != .reset { finSeen(i, packet, from: direction, at: now, into: &out) }
        case .drop, .reset, .hold:
            break  // a held packet's FIN counts when it is released
        }
        // A reply may have decided what waits, or a gap may have filled: release what can go.
        if !flows[i].held.isEmpty && flows[i].state != .reset {
            drain(i, .fromInitiator, at: now, into: &out)
            drain(i, .fromResponder, at: now, into: &out)
        }
        // Torn down while its held packets were judged: this one is reset too (unless it was
        // held itself: then the tear-down released it already).
        if flows[i].state == .reset && verdict != .hold { return .reset }
        if verdict == .accept && !edited && mayBypass(i) {
            bypass(i, at: now, into: &out)
            return .acceptBypassing
        }
        return verdict
    }

    /// An RST of a session in the table. It ends the session only at exactly the receiver's next
    /// sequence number (Flow.isExactReset); one elsewhere (inside the window: the receiver sends a
    /// challenge ACK; outside: it is ignored) passes on and changes nothing here, so a session
    /// the server keeps is kept, and a guessed RST cannot make the engine forget a live one.
    private mutating func reset(_ i: Int, _ packet: TCPPacket, from direction: Direction, at now: Moment,
                                into out: inout FlowOutput) -> PacketVerdict {
        switch flows[i].life {
        case .reset, .closed:
            return .accept  // ours for a torn-down session, or one more for a session over
        case .opening, .open, .closing:
            break
        }
        guard flows[i].isExactReset(packet, from: direction) else {
            statistics.resetsIgnored += 1
            return .accept
        }
        flows[i].lastHeard = now
        advance(i, .resetExactly, at: now, into: &out)
        return .accept
    }

    /// A SYN or SYN-ACK of a session in the table: the handshake's, or one that must not change it.
    private mutating func syn(_ i: Int, _ packet: TCPPacket, from direction: Direction,
                              _ interfaces: PacketInterfaces?) -> PacketVerdict {
        switch flows[i].handshake(packet, from: direction, interfaces: interfaces) {
        case .handshake:
            return .accept
        case .onEstablished:
            statistics.synOnEstablished += 1
            return .accept
        case .refused:
            statistics.synRefused += 1
            return .drop
        }
    }

    /// An ACK: the peer has the bytes before `ack`; the handshake completes on the first one.
    private mutating func acknowledge(_ i: Int, _ ack: SequenceNumber, from direction: Direction,
                                      at now: Moment, into out: inout FlowOutput) {
        if direction == .fromInitiator, flows[i].life == .opening,
           let serverNext = flows[i].responderStream.next, ack == serverNext {
            advance(i, .handshakeCompleted, at: now, into: &out)
        }
        retainedBytes -= flows[i].acknowledge(ack, from: direction)
    }

    /// A passed packet carried a FIN (Flow.finish says when it counts).
    mutating func finSeen(_ i: Int, _ packet: TCPPacket, from direction: Direction, at now: Moment,
                          into out: inout FlowOutput) {
        if flows[i].finish(packet, from: direction) { advance(i, .finishedBothWays, at: now, into: &out) }
    }

    /// Tears the session down: its packets are reset from now on, held ones dropped.
    mutating func tearDown(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        advance(i, .tornDown, at: now, into: &out)
    }
}
