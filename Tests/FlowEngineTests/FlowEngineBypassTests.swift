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
        var again = Self.network()
        again.engine = net.engine
        again.clientISN = SequenceNumber(7_000_000)
        again.atServer = Receiver(next: again.clientISN + 1)
        again.now = net.now + 1
        again.open()
        again.client("EXPN a\r\n")
        #expect(again.serverText.hasSuffix("Exxxxx\r\n"))
        #expect(again.engine.statistics.bypassedNow == 0)
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
