import FlowEngine
import PacketWire
import SMTPInspection
import Testing

@Suite("FlowEngine: timers and checksums")
struct FlowEngineTimerTests {
    @Test("A half-open session is removed after synwait-time")
    func synwait() {
        var net = Network()
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN, payload: [])
        #expect(net.engine.statistics.halfOpen == 1)
        net.tick(after: 29)
        #expect(net.engine.sessionCount == 1)
        net.tick(after: 2)
        #expect(net.engine.sessionCount == 0)
        #expect(net.engine.statistics.halfOpen == 0)
    }

    @Test("FIN from both sides: closing, removed after finwait-time with the audit trail's byte counts")
    func finwait() {
        var net = Network()
        net.open()
        net.client("QUIT\r\n")
        net.server("221 Bye\r\n")
        net.send(fromClient: false, flags: [.fin, .ack], sequence: net.serverISN + 1 + net.serverSent.count, payload: [])
        net.send(fromClient: true, flags: [.fin, .ack], sequence: net.clientISN + 1 + net.clientSent.count, payload: [])
        #expect(net.engine.sessions().first?.state == .closing)
        net.tick(after: 4)
        #expect(net.engine.sessionCount == 1)
        net.tick(after: 2)
        #expect(net.engine.sessionCount == 0)
        guard case let .sessionStop(initiatorBytes, responderBytes)? = net.events.last?.kind else {
            Issue.record("no session-stop event: \(net.eventNames())")
            return
        }
        #expect(initiatorBytes == UInt64(net.clientSent.count))
        #expect(responderBytes == UInt64(net.serverSent.count))
    }

    @Test("An idle session is removed after its rule's timeout")
    func idle() {
        var net = Network(rule: InspectionRuleBinding(name: "r", policy: SMTPPolicy(kind: .esmtp), idleTimeout: 60))
        net.open()
        net.tick(after: 59)
        #expect(net.engine.sessionCount == 1)
        net.tick(after: 2)
        #expect(net.engine.sessionCount == 0)
    }

    @Test("A held packet not released in time is dropped; TCP's retransmission is judged later")
    func heldExpires() {
        var config = FlowEngineConfiguration()
        config.holdTimeout = 3
        var net = Network(configuration: config)
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.client("body\r\n.\r\n")
        #expect(net.verdicts.last == .hold)
        net.tick(after: 4)
        #expect(net.heldPackets.isEmpty)
        #expect(net.engine.statistics.holdExpired == 1)
        net.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        net.retransmit(fromClient: true)
        #expect(net.serverText.hasSuffix("DATA\r\nbody\r\n.\r\n"))
    }

    @Test("A masked packet whose checksum the kernel left unfinished gets a full checksum")
    func checksumNotReady() {
        var net = Network()
        net.open()
        let seq = net.clientISN + 1 + net.clientSent.count
        let payload = Array("EXPN a\r\n".utf8)
        net.clientSent += payload
        // Network.send leaves the checksum unfinished; an incremental update would keep it wrong,
        // and deliver() checks every forwarded packet's checksum.
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: payload, checksumNotReady: true)
        #expect(net.serverText.hasSuffix("Exxxxx\r\n"))  // deliver() checked the full checksum
    }

    @Test("A 60 KB GSO super-packet with an unfinished checksum: its one bad line masked, the rest cut at DATA")
    func superPacket() {
        var net = Network()
        net.open()
        var envelope = "MAIL FROM:<a@b>\r\n"
        for i in 0..<1500 { envelope += i == 700 ? "EXPN root\r\n" : "RCPT TO:<r\(i)@example.org>\r\n" }
        let text = envelope + "DATA\r\n" + String(repeating: "body line\r\n", count: 300) + ".\r\n"
        let payload = Array(text.utf8)
        #expect(payload.count > 40_000 && payload.count < 65_000)
        let seq = net.clientISN + 1 + net.clientSent.count
        net.clientSent += payload
        // What F_GSO hands over: one packet for all of it, checksum left to the kernel. deliver()
        // checks the full checksum of every forwarded packet.
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: payload, checksumNotReady: true)
        #expect(net.serverText.contains("RCPT TO:<r699@example.org>\r\nExxxxxxxx\r\nRCPT TO:<r701@example.org>\r\n"))
        #expect(net.serverText.hasSuffix("DATA\r\n"))  // cut after DATA: the body waits for the 354
        net.server("250 Ok\r\n" + String(repeating: "250 Ok\r\n", count: 1500) + "354 go\r\n")
        net.retransmit(fromClient: true)
        #expect(net.serverText.hasSuffix("DATA\r\n" + String(repeating: "body line\r\n", count: 300) + ".\r\n"))
        #expect(net.engine.statistics.smtp.commandsMasked == 1)
    }

    @Test("The session table is bounded and says how often it refused")
    func tableBound() {
        var config = FlowEngineConfiguration()
        config.maxSessions = 2
        var net = Network(configuration: config)
        for port: UInt16 in 1000...1002 {
            net.client = Endpoint(net.client.address, port)
            net.send(fromClient: true, flags: .syn, sequence: net.clientISN, payload: [])
        }
        #expect(net.engine.sessionCount == 2)
        #expect(net.engine.statistics.tableFull == 1)
        #expect(net.verdicts.last == .drop)
    }
}

@Suite("FlowEngine: memory of idle sessions")
struct FlowEngineIdleMemoryTests {
    @Test("A session quiet for a while keeps no retention buffer once everything was acknowledged")
    func idleSessionsAreSmall() {
        var net = Network()
        net.open()
        net.client("NOOP\r\n")
        net.server("250 Ok\r\n")
        net.ack(fromClient: true)
        #expect(net.engine.retentionBufferBytes > 0)
        net.tick(after: 1)
        #expect(net.engine.retentionBufferBytes > 0)  // busy sessions keep theirs
        net.tick(after: 2)
        #expect(net.engine.retentionBufferBytes == 0)
        // And it works as before when the session speaks again.
        net.client("EXPN x\r\n")
        #expect(net.serverText.hasSuffix("Exxxxx\r\n"))
    }
}

extension FlowEngineIdleMemoryTests {
    @Test("A session an RST ended frees its retention buffers at once")
    func closedSessionsFreeBuffers() {
        var net = Network()
        net.open()
        net.client("NOOP\r\n")
        #expect(net.engine.retentionBufferBytes > 0)
        net.send(fromClient: true, flags: [.rst, .ack], sequence: net.clientISN + 1 + net.clientSent.count, payload: [])
        #expect(net.engine.retentionBufferBytes == 0)
        #expect(net.engine.sessionCount == 1)  // still there, closed, for its late packets
    }
}
