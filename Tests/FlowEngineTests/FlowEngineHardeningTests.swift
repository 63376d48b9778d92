import FlowEngine
import PacketWire
import SMTPInspection
import Testing

// The engine's checks and normalisations under hostile TCP/IP (the invariant in
// docs/design.md): a packet that fails a check changes no state, and every byte the server's
// stack delivers to its application is a byte the core judged at that position.

extension Network {
    /// The client's next sequence number (after what it sent).
    var clientNext: SequenceNumber { clientISN + 1 + clientSent.count }
    var serverNext: SequenceNumber { serverISN + 1 + serverSent.count }

    /// The last packet the engine let through, parsed.
    var lastForwarded: (packet: TCPPacket, bytes: [UInt8])? {
        guard let bytes = forwarded.last, let packet = try? TCPPacket(checking: bytes.span) else { return nil }
        return (packet, bytes)
    }

    /// A copy of the session's state that a failed check must leave as it was.
    var fingerprint: String {
        let s = engine.sessions().first
        return "\(String(describing: s?.state)) \(s?.initiatorBytes ?? 0):\(s?.responderBytes ?? 0) "
            + "\(s?.smtpMode ?? "") \(s?.pendingReplies ?? 0) \(s?.heldPackets ?? 0) \(serverText.count):\(clientText.count)"
    }
}

@Suite("FlowEngine: checksums")
struct FlowEngineChecksumTests {
    @Test("A segment with a bad checksum is dropped and changes nothing", arguments: [false, true])
    func badChecksumChangesNothing(ipv6: Bool) {
        var net = Network(ipv6: ipv6)
        net.open()
        let before = net.fingerprint
        let seq = net.clientNext
        // Data, an RST at the right place, a FIN, a forged 354: none may act.
        net.send(fromClient: true, flags: [.ack, .psh], sequence: seq, payload: Array("EXPN root\r\n".utf8), badChecksum: true)
        net.send(fromClient: true, flags: .rst, sequence: seq, payload: [], badChecksum: true)
        net.send(fromClient: true, flags: [.fin, .ack], sequence: seq, payload: [], badChecksum: true)
        net.send(fromClient: false, flags: [.ack, .psh], sequence: net.serverNext, payload: Array("354 go\r\n".utf8),
                 badChecksum: true)
        #expect(net.verdicts.suffix(4).allSatisfy { $0 == .drop })
        #expect(net.engine.statistics.badChecksum == 4)
        #expect(net.fingerprint == before)
        // The real bytes at the same place are judged as if nothing had come before them.
        net.client("EXPN root\r\n")
        #expect(net.serverText.hasSuffix("EHLO c.example\r\nExxxxxxxx\r\n"))
    }

    @Test("A decoy SYN with a bad checksum and another ISN does not decide the session's sequence space")
    func decoySYN() {
        var net = Network()
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN + 50_000, payload: [], badChecksum: true)
        #expect(net.verdicts.last == .drop)
        #expect(net.engine.sessionCount == 0)
        net.open()
        net.client("EXPN root\r\n")
        #expect(net.serverText.hasSuffix("Exxxxxxxx\r\n"))
    }

    @Test("A packet queued with CSUMNOTREADY is not verified (its checksum is unfinished by design)")
    func partialNotVerified() {
        var net = Network()
        net.open()
        let text = Array("EXPN a\r\n".utf8)
        net.clientSent += text
        net.send(fromClient: true, flags: [.ack, .psh], sequence: net.clientNext - text.count, payload: text,
                 checksumNotReady: true)
        #expect(net.verdicts.last == .acceptModified(length: 40 + text.count))  // masked, checksum made whole
        #expect(net.engine.statistics.badChecksum == 0)
    }
}

@Suite("FlowEngine: normalisations")
struct FlowEngineNormalisationTests {
    @Test("URG and the urgent pointer are cleared on data and on pure ACKs; the server reads every byte",
          arguments: [false, true])
    func urgentCleared(partial: Bool) {
        var net = Network()
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        // A stack with SO_OOBINLINE off would take the `X` out: the inspector would see no end
        // of data where the server does.
        let text = Array("\r\nX.\r\n".utf8)
        net.clientSent += text
        net.send(fromClient: true, flags: [.ack, .psh, .urg], sequence: net.clientNext - text.count, payload: text,
                 checksumNotReady: partial, urgentPointer: 3)
        let data = net.lastForwarded
        #expect(data.map { !$0.packet.flags.contains(.urg) && $0.packet.tcp.urgentPointer == 0 } == true)
        #expect(data.map { $0.packet.verifyChecksums(in: $0.bytes.span) } == true)
        net.send(fromClient: true, flags: [.ack, .urg], sequence: net.clientNext, payload: [], checksumNotReady: partial,
                 urgentPointer: 1)
        let ack = net.lastForwarded
        #expect(ack.map { !$0.packet.flags.contains(.urg) && $0.packet.tcp.urgentPointer == 0 } == true)
        #expect(net.engine.statistics.urgentCleared == 2)
        #expect(net.engine.sessions().first?.smtpMode == "message data")
    }

    @Test("A SYN's payload and Fast Open option are removed; the bytes are judged after the handshake",
          arguments: [false, true])
    func synData(ipv6: Bool) {
        var net = Network(ipv6: ipv6)
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN, payload: Array("EXPN root\r\n".utf8),
                 options: [.maximumSegmentSize(1460), .other(kind: 34, data: [1, 2, 3, 4, 5, 6, 7, 8])])
        let syn = net.lastForwarded
        #expect(syn?.packet.payloadLength == 0)
        #expect(syn.map { !$0.bytes[($0.packet.tcpOffset + 20)..<$0.packet.payloadOffset].contains(34) } == true)
        #expect(syn?.packet.tcp.options.maximumSegmentSize == 1460)
        #expect(net.engine.statistics.synDataStripped == 1 && net.engine.statistics.fastOpenRemoved == 1)
        // A SYN-ACK with data: the same.
        net.send(fromClient: false, flags: [.syn, .ack], sequence: net.serverISN, payload: Array("354 go\r\n".utf8),
                 acknowledging: net.clientISN + 1)
        #expect(net.lastForwarded?.packet.payloadLength == 0)
        net.send(fromClient: true, flags: .ack, sequence: net.clientISN + 1, payload: [])
        net.server(banner)
        net.client("EXPN root\r\n")
        #expect(net.serverText == "Exxxxxxxx\r\n")
        #expect(net.engine.statistics.synDataStripped == 2)
    }
}

@Suite("FlowEngine: RSTs and SYNs that must not change a session")
struct FlowEngineRSTAndSYNTests {
    @Test("A SYN with another ISN during the handshake is dropped; the first SYN's sequence space holds")
    func otherISN() {
        var net = Network()
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN, payload: [])
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN + 77_777, payload: [])
        #expect(net.verdicts.last == .drop)
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN, payload: [])  // a retransmission
        #expect(net.verdicts.last == .accept)
        #expect(net.engine.statistics.synRefused == 1)
        // A SYN-ACK that does not acknowledge the SYN, then one with another ISN than the first.
        net.send(fromClient: false, flags: [.syn, .ack], sequence: net.serverISN, payload: [], acknowledging: net.clientISN + 9)
        #expect(net.verdicts.last == .drop)
        net.send(fromClient: false, flags: [.syn, .ack], sequence: net.serverISN, payload: [])
        net.send(fromClient: false, flags: [.syn, .ack], sequence: net.serverISN + 5, payload: [])
        #expect(net.verdicts.last == .drop)
        #expect(net.engine.statistics.synRefused == 3)
        net.send(fromClient: true, flags: .ack, sequence: net.clientISN + 1, payload: [])
        #expect(net.engine.sessions().first?.state == .open)
    }

    @Test("A SYN on an established session passes for the server's challenge ACK and changes nothing")
    func synOnEstablished() {
        var net = Network()
        net.open()
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN + 123_456, payload: [])
        #expect(net.verdicts.last == .accept)
        #expect(net.engine.statistics.synOnEstablished == 1)
        net.client("EXPN root\r\n")
        #expect(net.serverText.hasSuffix("Exxxxxxxx\r\n"))
    }

    @Test("RST, then a SYN with another ISN, then data in the old sequence space: nothing unjudged passes")
    func resetThenOldSpace() {
        var net = Network()
        net.open()
        let oldNext = net.clientNext
        net.send(fromClient: true, flags: .rst, sequence: oldNext, payload: [])
        net.send(fromClient: true, flags: .syn, sequence: net.clientISN + 900_000, payload: [])
        #expect(net.engine.sessions().first?.state == .opening)
        // The server never saw the new SYN answered: old-space data is not in the new stream.
        net.send(fromClient: true, flags: [.ack, .psh], sequence: oldNext, payload: Array("EXPN root\r\n".utf8),
                 acknowledging: net.serverNext)
        #expect(!net.serverText.contains("EXPN"))
    }

    @Test("Data without ACK, or acknowledging bytes never sent, is dropped and changes nothing")
    func badAcks() {
        var net = Network()
        net.open()
        let before = net.fingerprint
        net.send(fromClient: true, flags: .psh, sequence: net.clientNext, payload: Array("NOOP\r\n".utf8))
        #expect(net.verdicts.last == .drop)
        net.send(fromClient: true, flags: [.ack, .psh], sequence: net.clientNext, payload: Array("NOOP\r\n".utf8),
                 acknowledging: net.serverNext + 1000)
        #expect(net.verdicts.last == .drop)
        // A forged server ACK of client bytes not yet released cannot make the engine forget them.
        net.client("NOOP\r\n")
        net.send(fromClient: false, flags: .ack, sequence: net.serverNext, payload: [], acknowledging: net.clientNext + 50)
        #expect(net.verdicts.last == .drop)
        #expect(net.engine.statistics.ackRefused == 3)
        _ = before
    }

    @Test("A segment that starts before what is kept loses its unvouched part; the rest is judged")
    func straddlesTheAcknowledgedPoint() {
        var net = Network()
        net.open()
        net.client("NOOP\r\n")
        net.server("250 Ok\r\n")  // acknowledges the NOOP: the engine keeps it no longer
        let attack = Array("EXPN root\r\n".utf8)
        net.clientSent += Array(attack.dropFirst(6))
        net.send(fromClient: true, flags: [.ack, .psh], sequence: net.clientNext - 5 - 6, payload: attack)
        let forwarded = net.lastForwarded
        #expect(forwarded?.packet.sequenceNumber == net.clientNext - 5)
        #expect(forwarded.map { Array($0.bytes[$0.packet.payloadRange]) } == Array("xxx\r\n".utf8))  // judged: no verb
        #expect(net.engine.statistics.unvouchedRemoved == 1)
        #expect(net.serverText.hasSuffix("NOOP\r\nxxx\r\n"))  // never "EXPN"
        net.client("NOOP\r\n")
        #expect(net.serverText.hasSuffix("xxx\r\nNOOP\r\n"))  // the session goes on
    }

    @Test("Bytes after a side's FIN are never judged: a 'reply' there changes no mode")
    func nothingAfterFIN() {
        var net = Network()
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.server("250 Ok\r\n250 Ok\r\n")
        net.send(fromClient: false, flags: [.fin, .ack], sequence: net.serverNext, payload: [])
        // After its FIN, "354" from the server's side: the client's TCP would never read it.
        net.send(fromClient: false, flags: [.ack, .psh], sequence: net.serverNext + 1, payload: Array("354 go\r\n".utf8))
        #expect(net.verdicts.last == .drop)
        #expect(net.engine.statistics.dataAfterFIN == 1)
        #expect(net.engine.sessions().first?.smtpMode == "awaiting DATA reply")
        // A retransmission of released bytes with new ones after the FIN keeps only the old ones.
        let old = Array("250 Ok\r\n".utf8)
        net.send(fromClient: false, flags: [.ack, .psh], sequence: net.serverNext - old.count,
                 payload: old + Array("354 go\r\n".utf8))
        #expect(net.lastForwarded?.packet.payloadLength == old.count)
        #expect(net.engine.statistics.dataAfterFIN == 2)
    }

    @Test("A segment a window's worth beyond the stream is dropped, not held")
    func farBeyond() {
        var net = Network()
        net.open()
        net.send(fromClient: true, flags: [.ack, .psh], sequence: net.clientNext + (1 << 30), payload: Array("NOOP\r\n".utf8))
        #expect(net.verdicts.last == .drop)
        #expect(net.engine.statistics.outOfWindow == 1)
        #expect(net.engine.statistics.held == 0)
    }
}

@Suite("FlowEngine: each direction bound to its interface")
struct FlowEngineInterfaceTests {
    static let outside = PacketInterfaces(input: 1, output: 2)
    static let inside = PacketInterfaces(input: 2, output: 1)

    @Test("Packets with the server's address that come in on the outside are dropped; a forged 354 changes no mode")
    func forgedFromOutside() {
        var net = Network()
        net.interfaces = (client: Self.outside, server: Self.inside)
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        // The attacker forges the server's 354 from the client's side.
        net.send(fromClient: false, flags: [.ack, .psh], sequence: net.serverNext, payload: Array("250 Ok\r\n250 Ok\r\n354 go\r\n".utf8),
                 arrivingOn: Self.outside)
        #expect(net.verdicts.last == .drop)
        #expect(net.engine.statistics.wrongInterface == 1)
        #expect(net.engine.sessions().first?.smtpMode == "awaiting DATA reply")
        // And acknowledgements of the client's bytes from the outside do not count either.
        net.send(fromClient: false, flags: .ack, sequence: net.serverNext, payload: [], arrivingOn: Self.outside)
        #expect(net.engine.statistics.wrongInterface == 2)
        // The real server refuses DATA: what follows is judged as commands.
        net.server("250 Ok\r\n250 Ok\r\n554 no\r\n")
        net.client("EXPN root\r\n")
        #expect(net.serverText.hasSuffix("DATA\r\nExxxxxxxx\r\n"))
    }

    @Test("Without interface metadata (a capture replay) sessions are not bound")
    func unboundWithoutMetadata() {
        var net = Network()
        net.open()
        net.client("NOOP\r\n")
        net.send(fromClient: false, flags: [.ack, .psh], sequence: net.serverNext, payload: Array("250 Ok\r\n".utf8),
                 arrivingOn: Self.outside)
        #expect(net.verdicts.last == .accept)
    }

    @Test("Where the SYN's output is unknown, the SYN-ACK binds the responder's side")
    func boundBySYNACK() {
        var net = Network()
        net.interfaces = (client: PacketInterfaces(input: 1, output: nil), server: PacketInterfaces(input: 2, output: nil))
        net.open()
        net.send(fromClient: false, flags: [.ack, .psh], sequence: net.serverNext, payload: Array("250 Ok\r\n".utf8),
                 arrivingOn: PacketInterfaces(input: 1, output: nil))
        #expect(net.verdicts.last == .drop)
        #expect(net.engine.statistics.wrongInterface == 1)
    }
}

@Suite("FlowEngine: overlapping held segments")
struct FlowEngineHeldOverlapTests {
    @Test("Two held segments with the same start and different lengths go on without a stall")
    func sameStartDifferentLengths() {
        var net = Network()
        net.open()
        let base = net.clientNext
        let first = Array("MAIL FROM:<a@b>\r\n".utf8), second = Array("RCPT TO:<c@d>\r\nNOOP\r\n".utf8)
        net.clientSent += first + second
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base + first.count, payload: Array(second.prefix(15)))
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base + first.count, payload: second)
        #expect(net.verdicts.suffix(2) == [.hold, .hold])
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base, payload: first)
        #expect(net.serverText.hasSuffix("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nNOOP\r\n"))
        #expect(net.heldPackets.isEmpty)
    }

    @Test("Held segments that overlap with other bytes: the first held wins, reported as from the client")
    func firstHeldWins() {
        var net = Network()
        net.open()
        let base = net.clientNext
        let first = Array("NOOP\r\n".utf8)
        net.clientSent += first + Array("RSET\r\n".utf8)
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base + first.count, payload: Array("RSET\r\n".utf8))
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base + first.count, payload: Array("EXPN\r\nVRFY x\r\n".utf8))
        net.send(fromClient: true, flags: [.ack, .psh], sequence: base, payload: first)
        #expect(net.serverText.hasSuffix("NOOP\r\nRSET\r\nVRFY x\r\n"))  // EXPN never arrived
        #expect(!net.serverText.contains("EXPN"))
        #expect(net.events.contains { if case .overlapRewritten(_, false) = $0.kind { true } else { false } })
    }
}

@Suite("FlowEngine: IP fragments")
struct FlowEngineFragmentTests {
    @Test("An IPv4 fragment of TCP reaching the queue is dropped, never accepted unseen")
    func ipv4Fragment() {
        var net = Network()
        net.open()
        var builder = TCPPacketBuilder(from: net.client, to: net.server, sequenceNumber: net.clientNext,
                                       acknowledgmentNumber: net.serverNext, flags: [.ack, .psh], window: 1000,
                                       payload: Array("EXPN root\r\n".utf8))
        builder.dontFragment = false
        var bytes = builder.build()
        bytes[6] |= 0x20  // MF: the first of several fragments
        Self.fixIPv4Checksum(&bytes)
        #expect(net.send(bytes, fromClient: true) == .drop)
        #expect(net.engine.statistics.fragments == 1)
        #expect(!net.serverText.contains("EXPN"))
    }

    @Test("An IPv6 packet with a Fragment header (a non-atomic fragment) is dropped")
    func ipv6Fragment() {
        var net = Network(ipv6: true)
        net.open()
        let builder = TCPPacketBuilder(from: net.client, to: net.server, sequenceNumber: net.clientNext,
                                       acknowledgmentNumber: net.serverNext, flags: [.ack, .psh], window: 1000,
                                       payload: Array("EXPN root\r\n".utf8))
        let plain = builder.build()
        // Insert a Fragment header (next header TCP, offset 0, M set) after the fixed header.
        var bytes = Array(plain[0..<40]) + [6, 0, 0x00, 0x01, 0, 0, 0, 42] + Array(plain[40...])
        bytes[6] = 44
        let payloadLength = Int(bytes[4]) << 8 | Int(bytes[5]) + 8
        bytes[4] = UInt8(payloadLength >> 8)
        bytes[5] = UInt8(payloadLength & 0xff)
        #expect(net.send(bytes, fromClient: true) == .drop)
        #expect(net.engine.statistics.fragments == 1)
    }

    static func fixIPv4Checksum(_ bytes: inout [UInt8]) {
        bytes[10] = 0
        bytes[11] = 0
        var sum: UInt32 = 0
        for k in stride(from: 0, to: 20, by: 2) { sum += UInt32(bytes[k]) << 8 | UInt32(bytes[k + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        let checksum = ~UInt16(sum)
        bytes[10] = UInt8(checksum >> 8)
        bytes[11] = UInt8(checksum & 0xff)
    }
}

@Suite("FlowEngine: a session's alerts")
struct FlowEngineAlertShareTests {
    @Test("A flood of illegal lines prints the session's share of alerts, then a count of the rest")
    func floodIsBounded() {
        var net = Network()
        net.open()
        net.client(String(repeating: "X\r\n", count: 2000))
        let alerts = net.eventNames().filter { $0 == "invalid-command" }
        #expect(alerts.count == FlowEngine.alertBurst)
        #expect(net.engine.statistics.alertsSuppressed == UInt64(2000 - FlowEngine.alertBurst))
        net.tick(after: 0.5)
        let summary = net.events.compactMap { if case let .alertsSuppressed(n) = $0.kind { n } else { nil } }
        #expect(summary == [2000 - FlowEngine.alertBurst])
        // Time earns the session alerts again.
        net.tick(after: 3)
        net.client("EXPN a\r\nEXPN b\r\n")
        #expect(net.eventNames().filter { $0 == "invalid-command" }.count == FlowEngine.alertBurst + 2)
    }
}
