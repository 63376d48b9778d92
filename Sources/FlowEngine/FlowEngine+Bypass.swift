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
//   a new SYN from its initiator    a new session on the same ports
//   its rule's idle time passes     forgotten (with its audit trail's stop line)

/// What is kept of a session that left the queue.
struct BypassedSession {
    var initiator: Endpoint
    var responder: Endpoint
    var rule: InspectionRuleBinding
    var lastHeard: Moment
    var initiatorBytes: UInt64
    var responderBytes: UInt64
    var audited: Bool
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
        bypassed[flow.key] = BypassedSession(initiator: flow.initiator, responder: flow.responder, rule: flow.rule,
                                             lastHeard: now, initiatorBytes: flow.initiatorStream.bytes,
                                             responderBytes: flow.responderStream.bytes, audited: flow.life.audited)
        statistics.bypassed += 1
        statistics.bypassedNow = bypassed.count
        remove(i, at: now, auditStop: false, into: &out)
    }

    /// A packet of a bypassed session: it passes, unless it is a new SYN from the initiator
    /// (then nil: the caller starts a new session on the same ports).
    mutating func bypassedPacket(_ key: ConnectionKey, _ packet: TCPPacket, at now: Moment) -> PacketVerdict? {
        guard let session = bypassed[key] else { return nil }
        let flags = packet.flags
        if flags.contains(.syn) && !flags.contains(.ack) && packet.flowKey.source == session.initiator {
            bypassed[key] = nil
            statistics.bypassedNow = bypassed.count
            return nil
        }
        bypassed[key]?.lastHeard = now
        return .accept
    }

    /// Forgets bypassed sessions idle for longer than their rule's timeout (once in a while:
    /// the walk is over all of them).
    mutating func expireBypassed(at now: Moment, into out: inout FlowOutput) {
        guard !bypassed.isEmpty, now.seconds(since: bypassedSwept) >= Self.bypassSweepSeconds else { return }
        bypassedSwept = now
        for (key, session) in bypassed where now.seconds(since: session.lastHeard) > session.rule.idleTimeout {
            bypassed[key] = nil
            if session.audited {
                out.events.append(FlowEvent(time: now, initiator: session.initiator, responder: session.responder,
                                            kind: .sessionStop(initiatorBytes: session.initiatorBytes,
                                                               responderBytes: session.responderBytes),
                                            alertOn: session.rule.alert, auditOn: session.rule.auditTrail))
            }
        }
        statistics.bypassedNow = bypassed.count
    }

    static let bypassSweepSeconds = 10.0
}
