import FlowEngine
import PacketWire
import SMTPInspection
import Testing

@Suite("FlowEngine: TLS sessions leave the queue")
struct FlowEngineBypassTests {
    static let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
    static let serverHello: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x7A, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03]

    static func network(bypass: Bool = true) -> Network {
        var configuration = FlowEngineConfiguration()
        configuration.bypassTLS = bypass
        let rule = InspectionRuleBinding(name: "OUT-IN", policy: SMTPPolicy(kind: .esmtp, allowSTARTTLS: true),
                                         idleTimeout: 60, auditTrail: true)
        return Network(rule: rule, configuration: configuration)
    }

    /// The opening, STARTTLS and its 220, and both hellos.
    static func handshake(_ net: inout Network) {
        net.open()
        net.client("STARTTLS\r\n")
        net.server("220 2.0.0 Ready to start TLS\r\n")
        net.write(clientHello, fromClient: true)
        net.write(serverHello, fromClient: false)
    }

    @Test("Once both sides showed TLS, the next clean packet bypasses; the session's state is gone")
    func bypassAfterBothHellos() {
        var net = Self.network()
        Self.handshake(&net)
        // The ServerHello completed the check, so its packet was the one that left the queue.
        #expect(net.verdicts.last == .acceptBypassing)
        #expect(net.engine.statistics.bypassed == 1)
        #expect(net.engine.sessions().isEmpty)  // what `show … sessions` lists is what is inspected
        #expect(net.engine.sessionCount == 0)
        // Packets still on their way (or rules without the bypass) pass: no mid-stream reset.
        net.write(Array("\u{17}\u{03}\u{03}anything at all EXPN".utf8), fromClient: true)
        #expect(net.verdicts.last == .accept)
        #expect(net.engine.statistics.midstream == 0)
        #expect(net.engine.statistics.bypassedNow == 1)
        // Forgotten after the rule's idle time, with the audit trail's stop line then.
        net.tick(after: 61)
        net.tick(after: 11)
        #expect(net.engine.statistics.bypassedNow == 0)
        #expect(net.eventNames().last == "session-stop")
    }

    @Test("Without bypassTLS the session stays, opaque, and is inspected no more")
    func noBypass() {
        var net = Self.network(bypass: false)
        Self.handshake(&net)
        #expect(!net.verdicts.contains(.acceptBypassing))
        #expect(net.engine.sessions().first?.smtpMode == "TLS")
    }

    @Test("Plaintext from the client after the 220 resets the session; it never reaches the server")
    func plaintextAfter220() {
        var net = Self.network()
        net.open()
        net.client("STARTTLS\r\n")
        net.server("220 2.0.0 Ready to start TLS\r\n")
        net.client("EXPN root\r\n")
        #expect(net.verdicts.last == .reset)
        #expect(!net.serverText.contains("EXPN"))
        #expect(net.eventNames().contains("starttls-not-tls"))
        #expect(net.engine.statistics.bypassed == 0)
    }

    @Test("A new SYN on the ports of a bypassed session starts a new, inspected session")
    func newSessionAfterBypass() {
        var net = Self.network()
        Self.handshake(&net)
        var again = net.reconnected()
        again.open()
        again.client("EXPN a\r\n")
        #expect(again.serverText.hasSuffix("Exxxxx\r\n"))
        #expect(again.engine.statistics.bypassedNow == 0)
    }

    /// A SYN from the client's address and port on a session that left the queue (the rules
    /// clear the connection's mark for every SYN, so it and what follows are queued again).
    static func synAgain(_ net: inout Network, isn: SequenceNumber = SequenceNumber(9_000_000)) -> PacketVerdict {
        net.send(fromClient: true, flags: .syn, sequence: isn, payload: [], acknowledging: SequenceNumber(0))
    }

    @Test("A SYN the server answers as an established connection (challenge ACK): the TLS session leaves the queue again")
    func challengeAckResumesBypass() {
        var net = Self.network()
        net.interfaces = (PacketInterfaces(input: 1, output: 2), PacketInterfaces(input: 2, output: 1))
        Self.handshake(&net)
        let stopsBefore = net.eventNames().filter { $0 == "session-stop" }.count
        // Forged (or stale): it makes a half-open session, as any SYN on these ports must.
        #expect(Self.synAgain(&net) == .accept)
        #expect(net.engine.sessionCount == 1)
        #expect(net.engine.statistics.bypassedNow == 0)
        // The same answer forged from the client's side (the server's address, the outside
        // interface) says nothing.
        let forged = net.send(fromClient: false, flags: .ack, sequence: net.serverISN + 1 + net.serverSent.count,
                              payload: [], arrivingOn: PacketInterfaces(input: 1, output: 2))
        #expect(forged == .drop)
        #expect(net.engine.statistics.bypassResumed == 0)
        // RFC 5961 §4: the server, whose connection is alive, answers with an ACK of where it is.
        let verdict = net.send(fromClient: false, flags: .ack, sequence: net.serverISN + 1 + net.serverSent.count,
                               payload: [])
        #expect(verdict == .acceptBypassing)
        #expect(net.engine.sessionCount == 0)
        #expect(net.engine.statistics.halfOpen == 0)
        #expect(net.engine.statistics.bypassResumed == 1)
        #expect(net.engine.statistics.bypassedNow == 1)
        #expect(net.engine.statistics.ackRefused == 0)
        // Still the same session: no stop line for it yet; its stray packets pass.
        #expect(net.eventNames().filter { $0 == "session-stop" }.count == stopsBefore)
        net.write(Array("\u{17}\u{03}\u{03}\u{00}\u{02}ab".utf8), fromClient: true)
        #expect(net.verdicts.last == .accept)
        #expect(net.engine.statistics.midstream == 0)
    }

    @Test("A SYN the server answers with a SYN-ACK is a new connection: inspected, and the old session forgotten with its stop line")
    func synAckEndsTheOldSession() {
        var net = Self.network()
        Self.handshake(&net)
        var again = net.reconnected()
        again.open()
        #expect(again.eventNames().contains("session-stop"))  // the old session's, once the SYN-ACK said so
        // The client's side can never bring the old session back: only the server can say its
        // connection is alive, and here it made a new one.
        again.client("EXPN a\r\n")
        #expect(again.serverText.hasSuffix("Exxxxx\r\n"))
        #expect(again.engine.statistics.bypassResumed == 0)
        #expect(again.engine.statistics.bypassedNow == 0)
        #expect(again.engine.sessionCount == 1)
    }

    @Test("After a SYN on a bypassed session, the client's packets do not bring it back: dropped until the server answers")
    func clientCannotResume() {
        var net = Self.network()
        Self.handshake(&net)
        #expect(Self.synAgain(&net) == .accept)
        // Bytes from the client's side without a handshake: a new connection's client cannot send
        // them, and the old one's wait for the server's word.
        net.write(Array("EXPN root\r\n".utf8), fromClient: true)
        #expect(net.verdicts.last == .drop)
        #expect(!net.serverText.contains("EXPN"))
        #expect(net.engine.statistics.bypassResumed == 0)
        #expect(net.engine.statistics.bypassedNow == 0)
    }

    @Test("A SYN on a bypassed session that gets no answer: the old session is forgotten with the half-open one")
    func unansweredSynForgetsTheOldSession() {
        var net = Self.network()
        Self.handshake(&net)
        #expect(Self.synAgain(&net) == .accept)
        #expect(!net.eventNames().contains("session-stop"))
        net.tick(after: 31)  // past synwait: the half-open session goes
        #expect(net.engine.sessionCount == 0)
        #expect(net.eventNames().contains("session-stop"))
        // Nothing of it is left: a late ACK of the server is no longer a reason to pass anything.
        let verdict = net.send(fromClient: false, flags: .ack, sequence: net.serverISN + 1 + net.serverSent.count,
                               payload: [])
        #expect(verdict != .acceptBypassing)
        #expect(net.engine.statistics.bypassResumed == 0)
    }

    @Test("At most maxSessions bypassed sessions are remembered: the oldest is forgotten, with its audit stop")
    func bypassedSessionsAreBounded() {
        var configuration = FlowEngineConfiguration()
        configuration.bypassTLS = true
        configuration.maxSessions = 3
        let rule = InspectionRuleBinding(name: "OUT-IN", policy: SMTPPolicy(kind: .esmtp, allowSTARTTLS: true),
                                         idleTimeout: 60, auditTrail: true)
        var engine = FlowEngine(configuration: configuration)
        var stops: [UInt16] = []
        for port in UInt16(40_000)..<40_005 {
            var net = Network(rule: rule, configuration: configuration)
            net.engine = engine
            net.client = Endpoint(net.client.address, port)
            Self.handshake(&net)
            #expect(net.verdicts.last == .acceptBypassing, "port \(port)")
            for event in net.events {
                if case .sessionStop = event.kind { stops.append(event.initiator.port) }
            }
            engine = net.engine
        }
        #expect(engine.statistics.bypassed == 5)
        #expect(engine.statistics.bypassedNow == 3)
        #expect(stops == [40_000, 40_001])  // the two oldest, in order
    }
}
