import PacketWire
import SMTPInspection

// Sessions that need no more inspection leave the queue (docs/behaviour.md §6): a session whose
// both sides switched to TLS after a 220 to STARTTLS (checked, not trusted: SMTPSession's
// TLSRecordCheck). Nothing in it can be read any more, and nothing unjudged can reach the server
// as SMTP: the server reads TLS records from then on.
//
//   open session, TLS established   the next packet that passes unchanged → `acceptBypassing`;
//                                   the session's state is freed, its key kept here
//   a packet of a bypassed session  passes (a packet already queued when the connection was
//                                   marked, or rules without the bypass: all of them)
//   a new SYN from its initiator    a new session on the same ports; the old one is kept
//                                   aside (`reopenedBypass`) until the server answers:
//     a SYN-ACK                     a new connection indeed: the old one is forgotten
//     an ACK (or data) without SYN  the old connection is alive (RFC 5961 §4: a server
//                                   answers a SYN on an established connection with a
//                                   challenge ACK): the new session goes and the old one
//                                   leaves the queue again with this packet (`acceptBypassing`)
//     no answer                     forgotten with the half-open session
//   its rule's idle time passes     forgotten (with its audit trail's stop line)
//   maxSessions are remembered      the oldest is forgotten (only its stray packets needed it:
//                                   with the generated rules, a few already in the queue)

/// What is kept of a session that left the queue.
struct BypassedSession {
    var initiator: Endpoint
    var responder: Endpoint
    var rule: InspectionRuleBinding
    var lastHeard: Moment
    var initiatorBytes: UInt64
    var responderBytes: UInt64
    var audited: Bool
    /// Which bypass this is (FlowEngine.bypassOrder may still name an earlier one of the key).
    var serial: UInt64
}

extension FlowEngine {
    /// Whether session `i` may leave the queue with this packet (which passes unchanged).
    func mayBypass(_ i: Int) -> Bool {
        configuration.bypassTLS && flows[i].life == .open && flows[i].held.isEmpty && flows[i].smtp.isTLSEstablished
    }

    /// Session `i` leaves the queue: its state is freed; its key stays so that its stray packets
    /// still pass.
    mutating func bypass(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        let flow = flows[i]
        statistics.bypassed += 1
        remember(BypassedSession(initiator: flow.initiator, responder: flow.responder, rule: flow.rule,
                                 lastHeard: now, initiatorBytes: flow.initiatorStream.bytes,
                                 responderBytes: flow.responderStream.bytes, audited: flow.life.audited, serial: 0),
                 key: flow.key, at: now, into: &out)
        remove(i, at: now, auditStop: false, into: &out)
    }

    /// Keeps what is left of a session that (again) left the queue.
    private mutating func remember(_ session: BypassedSession, key: ConnectionKey, at now: Moment,
                                   into out: inout FlowOutput) {
        if bypassed.count >= configuration.maxSessions { forgetOldestBypassed(at: now, into: &out) }
        bypassSerial += 1
        var session = session
        session.serial = bypassSerial
        bypassed[key] = session
        bypassOrder.append((key, bypassSerial))
        if bypassOrder.count > 2 * max(bypassed.count, 64) { compactBypassOrder() }
        statistics.bypassedNow = bypassed.count
    }

    /// A packet of a bypassed session: it passes, unless it is a new SYN from the initiator
    /// (then nil: the caller starts a new session on the same ports, and the old one waits
    /// aside for the server's answer).
    mutating func bypassedPacket(_ key: ConnectionKey, _ packet: TCPPacket, at now: Moment) -> PacketVerdict? {
        guard let session = bypassed[key] else { return nil }
        let flags = packet.flags
        if flags.contains(.syn) && !flags.contains(.ack) && packet.flowKey.source == session.initiator {
            reopenedBypass[key] = bypassed.removeValue(forKey: key)
            statistics.bypassedNow = bypassed.count
            return nil
        }
        bypassed[key]?.lastHeard = now
        return .accept
    }

    /// The server answered a SYN on the ports of a session that had left the queue as an
    /// established connection answers (a challenge ACK, or more of its data), not with a
    /// SYN-ACK: that session is alive, and the SYN opened nothing (forged with the client's
    /// address, or a stale retry). The half-open session of the SYN goes, and the old session
    /// leaves the queue again with this packet. Only the server's side can say so: the client's
    /// side of a new connection would be unjudged bytes.
    mutating func resumeBypass(_ i: Int, at now: Moment, into out: inout FlowOutput) -> PacketVerdict {
        let key = flows[i].key
        guard var session = reopenedBypass.removeValue(forKey: key) else { return .drop }
        remove(i, at: now, into: &out)
        statistics.bypassResumed += 1
        session.lastHeard = now
        remember(session, key: key, at: now, into: &out)
        return .acceptBypassing
    }

    /// Forgets a session taken back by a SYN (the server answered with a SYN-ACK, or the SYN's
    /// session ended without an answer), with its audit trail's stop line.
    mutating func endReopenedBypass(_ key: ConnectionKey, at now: Moment, into out: inout FlowOutput) {
        guard let session = reopenedBypass.removeValue(forKey: key) else { return }
        auditStop(session, at: now, into: &out)
    }

    /// Forgets bypassed sessions idle for longer than their rule's timeout (once in a while:
    /// the walk is over all of them).
    mutating func expireBypassed(at now: Moment, into out: inout FlowOutput) {
        guard !bypassed.isEmpty, now.seconds(since: bypassedSwept) >= Self.bypassSweepSeconds else { return }
        bypassedSwept = now
        for (key, session) in bypassed where now.seconds(since: session.lastHeard) > session.rule.idleTimeout {
            bypassed[key] = nil
            auditStop(session, at: now, into: &out)
        }
        statistics.bypassedNow = bypassed.count
    }

    /// Forgets the session that left the queue first and is still remembered.
    private mutating func forgetOldestBypassed(at now: Moment, into out: inout FlowOutput) {
        while bypassOrderHead < bypassOrder.count {
            let (key, serial) = bypassOrder[bypassOrderHead]
            bypassOrderHead += 1
            if let session = bypassed[key], session.serial == serial {
                bypassed[key] = nil
                auditStop(session, at: now, into: &out)
                return
            }
        }
    }

    /// Drops the order's entries for sessions no longer remembered.
    private mutating func compactBypassOrder() {
        bypassOrder = bypassOrder[bypassOrderHead...].filter { bypassed[$0.0]?.serial == $0.1 }
        bypassOrderHead = 0
    }

    /// The audit trail's stop line of a session that left the queue, with the bytes counted
    /// until it left (what passed after it, the engine never saw).
    private func auditStop(_ session: BypassedSession, at now: Moment, into out: inout FlowOutput) {
        guard session.audited else { return }
        out.events.append(FlowEvent(time: now, initiator: session.initiator, responder: session.responder,
                                    kind: .sessionStop(initiatorBytes: session.initiatorBytes,
                                                       responderBytes: session.responderBytes),
                                    alertOn: session.rule.alert, auditOn: session.rule.auditTrail))
    }

    static let bypassSweepSeconds = 10.0
}
