import PacketWire
import SMTPInspection

// The flow table between packets and the SMTP inspection core (DESIGN.md "The path of one
// packet"). Both directions of a connection are one session; each direction's bytes reach the
// core strictly in order (invariant 1); what the core masks is written into the packet, same
// length, checksums fixed (invariant 3); retransmissions carry exactly what was released first
// (invariant 2); where the views could diverge the engine holds, or tears the session down
// (invariant 5). Time is a parameter; nothing here makes a syscall.
//
// Session life (BEHAVIOR.md §7):
//   no session  SYN to the SMTP port          → opening (half-open)
//               any other packet              → reset (mid-stream: its SMTP state is unknown)
//   opening     initiator's ACK of the SYN-ACK → open (audit start)
//               synwait-time passes           → removed
//   open        FIN from both sides           → closing; removed finwait-time later (audit stop)
//               RST                           → closed; removed finwait-time later (audit stop):
//                                               its late ACKs and FINs pass, late data is dropped
//                                               (an RST the server ignored must not open a way
//                                               around inspection)
//               idle time passes              → removed (audit stop)
//               the core says tear down       → reset; every later packet is reset, then removed

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
    public mutating func process(
        _ bytes: inout MutableSpan<UInt8>, token: UInt64, rule: InspectionRuleBinding,
        checksumNotReady: Bool = false, at now: Moment, into out: inout FlowOutput
    ) -> PacketVerdict {
        statistics.packets += 1
        statistics.bytes += UInt64(bytes.count)
        let packet: TCPPacket
        do {
            packet = try TCPPacket(checking: bytes.span)
        } catch {
            return notInspectable(error, at: now, rule: rule, into: &out)
        }
        let key = ConnectionKey(packet.flowKey)
        let verdict: PacketVerdict
        // One table lookup per packet. The test reads two fields of the flow in place: handing
        // the whole Flow (or calling a method of self) made the compiler copy the Flow, and
        // even the whole engine, with a retain of every reference in it, on every packet.
        if let i = index[key] {
            if Self.isNewConnection(packet, replacing: flows[i].state, initiator: flows[i].initiator) {
                // The same addresses and ports again, after the old connection ended.
                remove(i, at: now, into: &out)
                verdict = newFlow(packet, key: key, rule: rule, at: now, into: &out)
            } else {
                verdict = existing(i, packet, &bytes, token: token, checksumNotReady: checksumNotReady, at: now, into: &out)
            }
        } else {
            verdict = newFlow(packet, key: key, rule: rule, at: now, into: &out)
        }
        statistics.count(verdict)
        statistics.heldNow = heldPackets
        return verdict
    }

    /// A SYN from the initiator to a session that is over (closing, closed by an RST, torn
    /// down) starts a new connection on the same ports.
    private static func isNewConnection(_ packet: TCPPacket, replacing state: SessionState, initiator: Endpoint) -> Bool {
        let flags = packet.flags
        guard flags.contains(.syn), !flags.contains(.ack), packet.flowKey.source == initiator else { return false }
        switch state {
        case .closing, .closed, .reset: return true
        case .opening, .open: return false
        }
    }

    private mutating func notInspectable(_ error: PacketError, at now: Moment, rule: InspectionRuleBinding,
                                         into out: inout FlowOutput) -> PacketVerdict {
        guard error.isMalformed else {
            statistics.notInspected += 1
            return .accept
        }
        statistics.malformed += 1
        let key = error.flowKey
        out.events.append(FlowEvent(
            time: now, initiator: key?.source ?? Self.unknownEndpoint, responder: key?.destination ?? Self.unknownEndpoint,
            kind: .dropPacket(reason: error.reason.text), alertOn: rule.alert, auditOn: rule.auditTrail))
        statistics.count(PacketVerdict.drop)
        return .drop
    }

    static let unknownEndpoint = Endpoint(.v4(IPv4Address(0, 0, 0, 0)), 0)

    /// A packet of a connection not in the table.
    private mutating func newFlow(_ packet: TCPPacket, key: ConnectionKey, rule: InspectionRuleBinding,
                                  at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        let flags = packet.flags
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
                        id: 0x66F9_6EB0 &+ sessionCounter &* 0x9E37_79B1, rule: rule, at: now)
        flow.initiatorStream.start(isn: packet.sequenceNumber)
        index[key] = flows.count
        flows.append(flow)
        statistics.sessionCreated(at: now)
        statistics.halfOpen += 1
        statistics.noteMaxima()  // before half-open protection deletes one again
        halfOpenCreated(to: host, rule: rule, at: now, into: &out)
        return .accept
    }

    /// A packet of a session in the table.
    private mutating func existing(_ i: Int, _ packet: TCPPacket, _ bytes: inout MutableSpan<UInt8>, token: UInt64,
                                   checksumNotReady: Bool, at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        flows[i].lastHeard = now
        let direction = flows[i].direction(of: packet)
        let flags = packet.flags
        if flows[i].state == .closed {
            guard packet.payloadLength > 0 else { return .accept }
            statistics.lateAfterReset += 1
            return .drop
        }
        if flags.contains(.rst) {
            // Also the resets the daemon sends for a torn-down session, which pass our queue.
            leaveState(i)
            releaseAllHeld(i, verdict: .drop, into: &out)
            discardRetained(i)  // no data of it passes again: nothing to make identical
            flows[i].state = .closed
            flows[i].deadline = now + configuration.finWaitTimeout
            return .accept
        }
        if flows[i].state == .reset { return .reset }
        if flags.contains(.syn) {
            if direction == .fromResponder && flags.contains(.ack) && flows[i].responderStream.next == nil {
                flows[i].responderStream.start(isn: packet.sequenceNumber)
            }
            return .accept  // a SYN retransmission or the SYN-ACK: nothing to inspect
        }
        if flags.contains(.ack) { acknowledge(i, packet.acknowledgmentNumber, from: direction, at: now, into: &out) }
        var verdict = PacketVerdict.accept
        var fin = flags.contains(.fin)
        if packet.payloadLength > 0 {
            var segment = packet
            verdict = self.segment(i, direction, &segment, &bytes, token: token,
                                   checksumNotReady: checksumNotReady, at: now, into: &out)
            fin = segment.flags.contains(.fin)  // cutting the payload's tail cuts its FIN too
        }
        switch verdict {
        case .accept, .acceptModified:
            if fin && flows[i].state != .reset { finSeen(i, from: direction, at: now) }
        case .drop, .reset, .hold:
            break  // a held packet's FIN counts when it is released
        }
        // A reply may have decided what waits, or a gap may have filled: release what can go.
        if !flows[i].held.isEmpty && flows[i].state != .reset {
            drain(i, .fromInitiator, at: now, into: &out)
            drain(i, .fromResponder, at: now, into: &out)
        }
        return verdict
    }

    /// An ACK: the peer has the bytes before `ack`; the handshake completes on the first one.
    private mutating func acknowledge(_ i: Int, _ ack: SequenceNumber, from direction: Direction,
                                      at now: Moment, into out: inout FlowOutput) {
        if direction == .fromInitiator, flows[i].state == .opening,
           let serverNext = flows[i].responderStream.next, ack == serverNext {
            flows[i].state = .open
            flows[i].auditStarted = true
            statistics.halfOpen -= 1
            statistics.established += 1
            halfOpenEnded(to: flows[i].responder.address)
            let flow = flows[i]
            out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder,
                                        kind: .sessionStart, alertOn: flow.rule.alert, auditOn: flow.rule.auditTrail))
        }
        let before = flows[i][direction.reversed].window.count
        flows[i][direction.reversed].window.acknowledge(ack)
        retainedBytes -= before - flows[i][direction.reversed].window.count
    }

    mutating func finSeen(_ i: Int, from direction: Direction, at now: Moment) {
        flows[i][direction].finSeen = true
        if flows[i].initiatorStream.finSeen && flows[i].responderStream.finSeen && flows[i].state != .closing {
            leaveState(i)
            flows[i].state = .closing
            statistics.closing += 1
            flows[i].deadline = now + configuration.finWaitTimeout
        }
    }

    /// Tears the session down: its packets are reset from now on, held ones dropped.
    mutating func tearDown(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        statistics.teardowns += 1
        leaveState(i)
        flows[i].state = .reset
        flows[i].deadline = now + configuration.tornDownLinger
        releaseAllHeld(i, verdict: .drop, into: &out)
        discardRetained(i)
    }

    /// Forgets a session's released bytes and frees their buffers (it will pass no data again).
    private mutating func discardRetained(_ i: Int) {
        for direction in [Direction.fromInitiator, .fromResponder] {
            retainedBytes -= flows[i][direction].window.count
            flows[i][direction].window.reset(to: flows[i][direction].window.start)
            flows[i][direction].window.releaseStorageIfEmpty()
        }
    }

    /// Removes a session from the table (swap-remove), releasing what it held.
    mutating func remove(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        leaveState(i)
        releaseAllHeld(i, verdict: .drop, into: &out)
        let flow = flows[i]
        retainedBytes -= flow.initiatorStream.window.count + flow.responderStream.window.count
        if flow.auditStarted {  // a Stop line only where a Start line was printed
            out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder,
                                        kind: .sessionStop(initiatorBytes: flow.initiatorStream.bytes,
                                                           responderBytes: flow.responderStream.bytes),
                                        alertOn: flow.rule.alert, auditOn: flow.rule.auditTrail))
        }
        index[flow.key] = nil
        let last = flows.removeLast()
        if i < flows.count {
            flows[i] = last
            index[last.key] = i
        }
    }

    /// Takes a session out of the state counters.
    private mutating func leaveState(_ i: Int) {
        switch flows[i].state {
        case .opening:
            statistics.halfOpen -= 1
            halfOpenEnded(to: flows[i].responder.address)
        case .open: statistics.established -= 1
        case .closing: statistics.closing -= 1
        case .reset, .closed: break
        }
    }
}
