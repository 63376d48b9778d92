import FlowEngine
import PacketWire
import SMTPInspection
import Testing

let banner = "220 mail.example.test ESMTP\r\n"
let ehloReply = "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"

extension Network {
    /// Handshake, greeting, EHLO and its reply.
    mutating func open() {
        handshake()
        server(banner)
        client("EHLO c.example\r\n")
        server(ehloReply)
    }
}

@Suite("FlowEngine: sessions through the engine")
struct FlowEngineSessionTests {
    @Test("A whole mail session passes byte-identical; an illegal command is masked", arguments: [false, true])
    func wholeSession(ipv6: Bool) {
        var net = Network(ipv6: ipv6)
        net.open()
        net.client("MAIL FROM:<a@b.example>\r\n")
        net.server("250 2.1.0 Ok\r\n")
        net.client("EXPN staff\r\n")
        net.server("502 5.5.2 Error: command not recognized\r\n")
        net.client("RCPT TO:<c@d.example>\r\n")
        net.server("250 2.1.5 Ok\r\n")
        net.client("DATA\r\n")
        net.server("354 go ahead\r\n")
        net.client("Subject: hi\r\n\r\nEXPN in the body stays.\r\n.\r\n")
        net.server("250 2.0.0 Ok: queued\r\n")
        net.client("QUIT\r\n")
        net.server("221 2.0.0 Bye\r\n")
        #expect(net.serverText == "EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nExxxxxxxxx\r\nRCPT TO:<c@d.example>\r\n"
            + "DATA\r\nSubject: hi\r\n\r\nEXPN in the body stays.\r\n.\r\nQUIT\r\n")
        #expect(net.clientText.contains("250-Sxxxxxxx\r\n"))  // STARTTLS not offered
        #expect(net.eventNames() == ["session-start", "invalid-command"])
        #expect(net.engine.statistics.smtp.commandsMasked == 1)
        #expect(net.engine.statistics.established == 1)
        #expect(net.verdicts.filter { $0 == .hold }.isEmpty)
    }

    @Test("A session typed one character per segment passes; an illegal verb typed so is masked")
    func typedByHand() {
        var net = Network()
        net.open()
        let legal = "MAIL FROM:<a@b>\r\n"
        net.client(legal, segments: Array(repeating: 1, count: legal.utf8.count))
        net.server("250 Ok\r\n")
        let illegal = "VERB on\r\n"
        net.client(illegal, segments: Array(repeating: 1, count: illegal.utf8.count))
        #expect(net.serverText.hasSuffix("MAIL FROM:<a@b>\r\nVxxxxxx\r\n"))
        // Every packet passed through on its own: nothing held, nothing dropped.
        #expect(!net.verdicts.contains(.hold) && !net.verdicts.contains(.drop))
    }

    @Test("DATA and its body in one segment: the segment is cut after DATA, the retransmitted rest waits for 354")
    func dataAndBodyInOneSegment() {
        var net = Network()
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n")
        #expect(net.serverText.hasSuffix("RCPT TO:<c@d>\r\nDATA\r\n"))
        guard case .acceptModified = net.verdicts.last else {
            Issue.record("expected a cut segment, got \(String(describing: net.verdicts.last))")
            return
        }
        // The client's TCP retransmits the cut tail before the reply: it is held.
        net.retransmit(fromClient: true)
        #expect(net.verdicts.last == .hold)
        net.server("250 Ok\r\n250 Ok\r\n354 go ahead\r\n")
        #expect(net.serverText.hasSuffix("DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n"))
        #expect(net.engine.statistics.truncated == 1)
        #expect(net.heldPackets.isEmpty)
    }

    @Test("Bytes after DATA in a later segment are held until 554 makes them commands")
    func heldThenJudged() {
        var net = Network()
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.client("EXPN x\r\n")
        #expect(net.verdicts.last == .hold)
        net.server("250 Ok\r\n550 no\r\n554 no valid recipients\r\n")
        #expect(net.serverText.hasSuffix("DATA\r\nExxxxx\r\n"))
        #expect(net.heldPackets.isEmpty)
    }

    @Test("Held bytes are judged right after the reply that decides them, before the rest of its segment")
    func heldJudgedMidSegment() {
        var net = Network()
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.client("RSET\r\nEXPN x\r\n")
        #expect(net.verdicts.last == .hold)
        // One segment: the 554 decides the held bytes are commands; the two replies after it
        // answer them (a server can only answer commands it has read).
        net.server("250 Ok\r\n250 Ok\r\n554 no valid recipients\r\n250 Ok\r\n502 Error\r\n")
        #expect(net.serverText.hasSuffix("DATA\r\nRSET\r\nExxxxx\r\n"))
        #expect(net.clientText.hasSuffix("554 no valid recipients\r\n250 Ok\r\n502 Error\r\n"))
        #expect(net.resetsSeen == 0)
        #expect(net.engine.statistics.teardowns == 0)
        net.client("NOOP\r\n")
        #expect(net.serverText.hasSuffix("Exxxxx\r\nNOOP\r\n"))
    }

    @Test("Segments out of order are held and go on in order")
    func outOfOrder() {
        var net = Network()
        net.open()
        let first = Array("MAIL FROM:<a@b>\r\n".utf8), second = Array("RCPT TO:<c@d>\r\n".utf8)
        let base = net.clientISN + 1 + net.clientSent.count
        net.clientSent += first + second
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base + first.count, payload: second)
        #expect(net.verdicts.last == .hold)
        #expect(!net.serverText.contains("RCPT"))
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base, payload: first)
        #expect(net.serverText.hasSuffix("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"))
        #expect(net.engine.statistics.outOfOrder == 1)
    }

    @Test("A retransmission carries what was first released: masks repeated, changed bytes rewritten")
    func retransmissions() {
        var net = Network()
        net.open()
        let seq = net.clientISN + 1 + net.clientSent.count
        net.client("EXPN a\r\n")
        // The same bytes again (the first copy was lost after us): masked the same, no alert.
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: Array("EXPN a\r\n".utf8))
        #expect(!net.eventNames().contains("overlap-rewritten"))
        // Different bytes at the same place: rewritten to what was released, and reported.
        var changed = net.forwarded.count
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: Array("NOOP a\r\n".utf8))
        let last = net.forwarded[changed]
        let packet = try? TCPPacket(checking: last.span)
        #expect(packet.map { Array(last[$0.payloadRange]) } == Array("Exxxxx\r\n".utf8))
        #expect(net.eventNames().last == "overlap-rewritten")
        #expect(net.engine.statistics.overlapConflicts == 1)
        // Once the server has acknowledged them, old bytes are not kept any more: nothing can
        // vouch for them, so they do not pass (the empty segment still carries the ACK).
        net.server("502 no\r\n")
        changed = net.forwarded.count
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: Array("NOOP a\r\n".utf8))
        let acked = net.forwarded[changed]
        let ackedPacket = try? TCPPacket(checking: acked.span)
        #expect(ackedPacket?.payloadLength == 0)
        #expect(net.engine.statistics.unvouchedRemoved == 1)
    }

    @Test("A retransmission of a mask released long before raises no overlap alert (every mask is remembered)")
    func oldMasksRemembered() {
        var net = Network()
        net.open()
        let seq = net.clientNext
        let lines = (0..<40).map { "EXPN user\($0)\r\n" }
        for line in lines { net.client(line) }  // 40 masked lines, none acknowledged yet
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: Array(lines[0].utf8))
        #expect(!net.eventNames().contains("overlap-rewritten"))
        #expect(net.engine.statistics.overlapConflicts == 0)
        #expect(net.engine.statistics.retransmissionsRewritten == 1)
    }

    @Test("Sessions that keep much cannot starve those that keep little of the retention pool")
    func retentionIsFair() {
        var config = FlowEngineConfiguration()
        config.retainLimitTotal = 8000
        config.retainLimitPerStream = 7000
        config.retainGuaranteedPerStream = 1000
        var greedy = Network(configuration: config)
        greedy.open()
        greedy.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        greedy.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        // A server that acknowledges nothing: every body byte is kept.
        let chunk = String(repeating: "x", count: 998) + "\r\n"
        for _ in 0..<7 { greedy.client(chunk) }
        // Past the guarantee it may use three quarters of the pool (6000 bytes), not more.
        #expect(greedy.engine.statistics.retainRefused >= 1)
        #expect(greedy.verdicts.suffix(7).contains(.drop))
        // Another session still gets its share of the last quarter.
        var other = Network(configuration: config)
        other.engine = greedy.engine
        other.client = Endpoint(other.client.address, 40000)
        other.now = greedy.now
        other.open()
        other.client("EXPN a\r\n")
        #expect(other.serverText == "EHLO c.example\r\nExxxxx\r\n")
        #expect(!other.verdicts.contains(.drop))
    }

    @Test("Smuggling tears the session down: this packet and every later one is reset")
    func teardown() {
        var net = Network()
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        net.client("text\n.\nMAIL FROM:<x@y>\r\n")
        #expect(net.verdicts.last == .reset)
        net.server("250 queued\r\n")
        #expect(net.verdicts.last == .reset)
        net.client("QUIT\r\n")
        #expect(net.verdicts.last == .reset)
        #expect(!net.serverText.contains("text"))
        #expect(net.eventNames().contains("smuggling-attempt"))
        #expect(net.engine.statistics.teardowns == 1)
    }

    @Test("A connection first seen mid-stream is reset and reported")
    func midstream() {
        var net = Network()
        net.send(fromClient: true, flags: [.ack, .psh], sequence: net.clientISN + 1, payload: Array("EXPN a\r\n".utf8))
        #expect(net.verdicts.last == .reset)
        #expect(net.atServer.data.isEmpty)
        #expect(net.eventNames() == ["drop-packet"])
        #expect(net.engine.statistics.midstream == 1)
    }

    @Test("Malformed packets are dropped and reported; non-TCP is accepted")
    func malformedAndOther() {
        var engine = FlowEngine()
        var out = FlowOutput()
        let rule = InspectionRuleBinding(name: "r", policy: SMTPPolicy(kind: .esmtp))
        var truncated = TCPPacketBuilder(from: Endpoint(.v4(IPv4Address(1, 2, 3, 4)), 1000),
                                         to: Endpoint(.v4(IPv4Address(5, 6, 7, 8)), 25),
                                         sequenceNumber: SequenceNumber(1), flags: .syn).build()
        truncated.removeLast(4)
        var udp: [UInt8] = [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 53, 0, 53, 0, 8, 0, 0]
        var v1: PacketVerdict = .hold, v2: PacketVerdict = .hold
        do {
            var a = truncated.mutableSpan
            v1 = engine.process(&a, token: 1, rule: rule, at: .seconds(1), into: &out)
            var b = udp.mutableSpan
            v2 = engine.process(&b, token: 2, rule: rule, at: .seconds(1), into: &out)
        }
        #expect(v1 == .drop)
        #expect(v2 == .accept)
        guard case let .dropPacket(reason)? = out.events.first?.kind else {
            Issue.record("no drop event")
            return
        }
        #expect(reason.contains("truncated"))
        #expect(engine.statistics.malformed == 1 && engine.statistics.notInspected == 1)
    }
}

@Suite("FlowEngine: after an RST")
struct FlowEngineResetTests {
    @Test("Packets still on their way after a client's RST pass quietly: no mid-stream alert, no resets")
    func lateFINAfterRST() {
        var net = Network()
        net.open()
        net.client("QUIT\r\n")
        net.send(fromClient: true, flags: [.rst, .ack], sequence: net.clientISN + 1 + net.clientSent.count, payload: [])
        #expect(net.verdicts.last == .accept)
        // The server's 221 and FIN were already on their way.
        net.server("221 Bye\r\n")
        #expect(net.verdicts.last == .drop)  // late data of a closed session does not pass
        net.send(fromClient: false, flags: [.fin, .ack], sequence: net.serverISN + 1 + net.serverSent.count, payload: [])
        #expect(net.verdicts.last == .accept)
        #expect(!net.eventNames().contains("drop-packet"))
        #expect(net.engine.statistics.midstream == 0 && net.engine.statistics.resets == 0)
        #expect(net.engine.sessions().first?.state == .closed)
        net.tick(after: 6)
        #expect(net.engine.sessionCount == 0)
        #expect(net.eventNames().last == "session-stop")
    }

    @Test("An RST not at the receiver's next sequence number changes nothing: later data is judged",
          arguments: [1, 100, 100_000, -1])
    func inexactResetIgnored(offset: Int) {
        var net = Network()
        net.open()
        let seq = net.clientISN + 1 + net.clientSent.count
        net.send(fromClient: true, flags: .rst, sequence: seq + offset, payload: [])
        #expect(net.verdicts.last == .accept)  // on to the server, which answers with a challenge ACK
        #expect(net.engine.statistics.resetsIgnored == 1)
        #expect(net.engine.sessions().first?.state == .open)
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: Array("EXPN root\r\n".utf8))
        #expect(net.serverText.hasSuffix("Exxxxxxxx\r\n"))
        // A server's RST counts from the server's side of the stream.
        net.send(fromClient: false, flags: [.rst, .ack], sequence: net.serverISN + 1 + net.serverSent.count + 5, payload: [])
        #expect(net.engine.statistics.resetsIgnored == 2)
        net.tick(after: 30)
        #expect(net.engine.sessions().first?.state == .open)  // the session the server keeps is kept
    }

    @Test("An RST exactly at the receiver's next sequence number ends the session; later data is dropped",
          arguments: [true, false])
    func exactReset(fromClient: Bool) {
        var net = Network()
        net.open()
        let clientNext = net.clientISN + 1 + net.clientSent.count
        let serverNext = net.serverISN + 1 + net.serverSent.count
        net.send(fromClient: fromClient, flags: .rst, sequence: fromClient ? clientNext : serverNext, payload: [])
        #expect(net.engine.sessions().first?.state == .closed)
        net.send(fromClient: true, flags: [.ack, .psh], sequence: clientNext, payload: Array("EXPN root\r\n".utf8))
        #expect(net.verdicts.last == .drop)
        #expect(!net.serverText.contains("EXPN"))
        #expect(net.engine.statistics.lateAfterReset == 1)
    }

    @Test("A FIN counts only where the stream has reached it")
    func finOutOfSequence() {
        var net = Network()
        net.open()
        let clientNext = net.clientNext
        net.send(fromClient: true, flags: [.fin, .ack], sequence: clientNext + 500, payload: [])  // beyond
        net.send(fromClient: false, flags: [.fin, .ack], sequence: net.serverNext, payload: [])
        #expect(net.engine.sessions().first?.state == .open)  // not both FINs: not closing
        net.send(fromClient: true, flags: .rst, sequence: clientNext, payload: [])  // still the next byte
        #expect(net.engine.sessions().first?.state == .closed)
    }

    @Test("After the FIN, an RST must be at the sequence number after it")
    func resetAfterFIN() {
        var net = Network()
        net.open()
        let clientNext = net.clientISN + 1 + net.clientSent.count
        net.send(fromClient: true, flags: [.fin, .ack], sequence: clientNext, payload: [])
        net.send(fromClient: true, flags: .rst, sequence: clientNext, payload: [])
        #expect(net.engine.statistics.resetsIgnored == 1)
        net.send(fromClient: true, flags: .rst, sequence: clientNext + 1, payload: [])
        #expect(net.engine.sessions().first?.state == .closed)
    }
}

@Suite("FlowEngine: connections on the same ports")
struct FlowEnginePortReuseTests {
    @Test("A new SYN on the ports of a session an RST ended starts a new, inspected session")
    func reuseAfterRST() {
        var net = Network()
        net.open()
        net.send(fromClient: true, flags: [.rst, .ack], sequence: net.clientISN + 1 + net.clientSent.count, payload: [])
        // The client connects again at once from the same port, with a new ISN.
        var again = net.reconnected()
        again.open()
        again.client("EXPN a\r\n")
        #expect(again.serverText.hasSuffix("Exxxxx\r\n"))
        #expect(again.engine.statistics.lateAfterReset == 0)
        #expect(again.engine.sessions().count == 1)
    }

    @Test("An acknowledgement beyond what was released does not move the retained bytes past the stream")
    func ackBeyondReleased() {
        var net = Network()
        net.open()
        let seq = net.clientISN + 1 + net.clientSent.count
        net.client("NOOP\r\n")
        // The server acknowledges far more than it was sent, then the client retransmits
        // with different bytes: nothing is kept any more, so nothing is rewritten; the
        // stream goes on normally.
        net.send(fromClient: false, flags: .ack, sequence: net.serverISN + 1 + net.serverSent.count, payload: [])
        net.atServer.next = net.atServer.next + 1000
        net.send(fromClient: false, flags: .ack, sequence: net.serverISN + 1 + net.serverSent.count, payload: [])
        net.atServer.next = seq + 6
        net.client("EXPN b\r\n")
        #expect(net.serverText.hasSuffix("NOOP\r\nExxxxx\r\n"))
    }
}
