import FlowEngine
import IOSConfig
import PacketWire

/// `show ip inspect sessions` and `statistics`: what the engines report, rendered as IOS prints
/// it. Beside IOSConfig's renderings of the configuration, under the same name: one
/// `ShowIPInspect` for everything `show ip inspect` prints.
extension ShowIPInspect {
    /// `show ip inspect sessions [detail]`. `alias` gives an address as the other side of a
    /// static NAT sees it (the global address of an inside server), shown when it differs.
    static func sessions(_ sessions: [SessionSnapshot], now: Moment, detail: Bool,
                         alias: (Endpoint) -> Endpoint? = { _ in nil }) -> String {
        var out = ""
        let groups: [(String, [SessionState])] = [
            ("Established Sessions", [.open]), ("Half-open Sessions", [.opening]),
            ("Terminating Sessions", [.closing, .reset, .closed]),
        ]
        for (heading, states) in groups {
            let group = sessions.filter { states.contains($0.state) }
            guard !group.isEmpty else { continue }
            out += heading + "\n"
            for s in group {
                out += " Session \(hex(s.id)) (\(s.initiator))=>(\(s.responder)) \(s.protocolName) \(s.state.rawValue)\n"
                guard detail else { continue }
                out += "  Created \(clock(now.seconds(since: s.created))), Last heard \(clock(now.seconds(since: s.lastHeard)))\n"
                out += "  Bytes sent (initiator:responder) [\(s.initiatorBytes):\(s.responderBytes)]\n"
                if let global = alias(s.responder), global != s.responder {
                    out += "  Responder (\(s.responder)) is (\(global)) before NAT\n"
                }
                out += "  Inspection rule \(s.ruleName), SMTP \(s.smtpMode), \(s.pendingReplies) replies pending"
                out += s.heldPackets > 0 ? ", \(s.heldPackets) packets held\n" : "\n"
            }
        }
        return out
    }

    /// `show ip inspect statistics`: IOS's session lines, then the SMTP and packet counters.
    static func statistics(_ s: FlowStatistics, now: Moment, since start: Moment, interfaces: Int) -> String {
        let created = s.lastSessionCreated.map { clock(now.seconds(since: $0)) } ?? "never"
        return """
            Interfaces configured for inspection \(interfaces)
            Session creations since subsystem startup or last reset \(s.sessionsCreated)
            Current session counts (estab/half-open/terminating) [\(s.established):\(s.halfOpen):\(s.closing)]
            Maxever session counts (estab/half-open/terminating) [\(s.maxEstablished):\(s.maxHalfOpen):\(s.maxClosing)]
            Last session created \(created)
            Last statistic reset \(clock(now.seconds(since: start)))
            SMTP commands inspected \(s.smtp.commands), masked \(s.smtp.commandsMasked); replies \(s.smtp.replies); \
            EHLO keywords masked \(s.smtp.ehloKeywordsMasked)
            SMTP messages \(s.smtp.messages) (\(s.smtp.messageBytes) bytes); alerts \(s.smtpEvents); sessions reset \(s.teardowns)
            TLS sessions bypassed \(s.bypassed) (left the queue after STARTTLS; \(s.bypassedNow) remembered now; \
            \(s.bypassResumed) resumed after a SYN their server answered as established)
            Packets in \(s.packets) (\(s.bytes) bytes): accepted \(s.accepted), modified \(s.modified), dropped \(s.dropped), \
            reset \(s.resets), held now \(s.heldNow)
            Stream: out of order \(s.outOfOrder), retransmissions rewritten \(s.retransmissionsRewritten), \
            overlap conflicts \(s.overlapConflicts), cut at a hold \(s.truncated), mid-stream \(s.midstream), \
            malformed \(s.malformed), not TCP \(s.notInspected)
            Limits refused: session table \(s.tableFull), hold \(s.holdRefused), hold expired \(s.holdExpired), \
            retain \(s.retainRefused); late data after an RST dropped \(s.lateAfterReset)
            Checks dropped: bad checksum \(s.badChecksum), IP fragment \(s.fragments), wrong interface \
            \(s.wrongInterface), SYN refused \(s.synRefused), ACK refused \(s.ackRefused), out of window \(s.outOfWindow), \
            data after FIN \(s.dataAfterFIN)
            Normalised: URG cleared \(s.urgentCleared), SYN data stripped \(s.synDataStripped), Fast Open \
            removed \(s.fastOpenRemoved), unvouched bytes removed \(s.unvouchedRemoved); RSTs ignored \
            \(s.resetsIgnored), SYNs on established sessions \(s.synOnEstablished); alerts suppressed \(s.alertsSuppressed)
            Half-open protection: sessions deleted \(s.halfOpenDeleted), connections to blocked hosts dropped \
            \(s.blockedConnections)

            """
    }

    /// IOS prints a session's control-block address; ours is an id in the same shape.
    static func hex(_ value: UInt32) -> String {
        String(value, radix: 16, uppercase: true).padded(8)
    }

    /// hh:mm:ss as IOS prints ages.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds)
        let h = total / 3600, m = (total / 60) % 60, s = total % 60
        return "\(String(h).padded(2)):\(String(m).padded(2)):\(String(s).padded(2))"
    }
}
