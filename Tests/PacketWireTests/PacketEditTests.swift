import PacketWire
import TestSupport
import Testing

/// Edits on real and random packets, each checked by re-parsing and re-verifying checksums.
@Suite("Packet edits")
struct PacketEditTests {
    static let captured = [Fixture.ipv4EHLO, Fixture.ipv6EHLO]

    @Test(arguments: captured)
    func maskKeepsLengthAndChecksums(original: [UInt8]) throws {
        let packet = try TCPPacket(checking: original.span)
        var bytes = original
        var span = bytes.mutableSpan
        packet.maskPayload(0..<4, in: &span)                 // "EHLO" -> "xxxx"
        #expect(bytes.count == original.count)
        #expect(Array(bytes[packet.payloadRange]) == Array("xxxx client.example.org\r\n".utf8))
        #expect(checksumsValid(bytes))
        // Only the payload range and the TCP checksum changed.
        let changed = (0..<bytes.count).filter { bytes[$0] != original[$0] }
        let checksumField = packet.tcpOffset + 16
        #expect(changed.allSatisfy { packet.payloadRange.contains($0) || $0 == checksumField || $0 == checksumField + 1 })
    }

    @Test(arguments: captured)
    func replaceRewritesToGivenBytes(original: [UInt8]) throws {
        let packet = try TCPPacket(checking: original.span)
        var bytes = original
        var span = bytes.mutableSpan
        let replacement = Array("HELO".utf8)
        packet.replacePayload(at: 0, with: replacement.span, in: &span)
        #expect(Array(bytes[packet.payloadRange].prefix(4)) == replacement)
        #expect(checksumsValid(bytes))
        // Writing the original bytes back restores the original packet exactly.
        var again = bytes.mutableSpan
        packet.replacePayload(at: 0, with: Array("EHLO".utf8).span, in: &again)
        #expect(bytes == original)
    }

    /// A packet the kernel queued with CSUMNOTREADY carries only the pseudo-header sum in its TCP
    /// checksum field (docs/nfqueue.md §3). An incremental update keeps it wrong; `.full` fixes it.
    @Test(arguments: captured)
    func partialChecksumNeedsFullRecompute(original: [UInt8]) throws {
        let packet = try TCPPacket(checking: original.span)
        var partial = original
        let field = packet.tcpOffset + 16
        // What the kernel leaves: the folded pseudo-header sum, not complemented.
        let pseudo = InternetChecksum.pseudoHeaderSum(source: packet.source, destination: packet.destination,
                                                      protocol: 6, length: packet.tcpLength)
        partial[field] = UInt8(pseudo >> 8)
        partial[field + 1] = UInt8(pseudo & 0xff)
        #expect(!checksumsValid(partial))

        var incremental = partial
        var span = incremental.mutableSpan
        packet.maskPayload(0..<4, in: &span, checksum: .incremental)
        #expect(!checksumsValid(incremental))

        var full = partial
        var fullSpan = full.mutableSpan
        packet.maskPayload(0..<4, in: &fullSpan, checksum: .full)
        #expect(checksumsValid(full))
    }

    @Test func deferredEditsThenOneRecompute() throws {
        let packet = try parsed(Fixture.ipv4EHLO)
        var bytes = Fixture.ipv4EHLO
        bytes[10] ^= 0x55                                       // a broken IPv4 header checksum too
        var span = bytes.mutableSpan
        packet.maskPayload(0..<4, in: &span, checksum: .deferred)
        packet.maskPayload(5..<11, with: UInt8(ascii: "X"), in: &span, checksum: .deferred)
        #expect(!checksumsValid(bytes))
        var again = bytes.mutableSpan
        packet.recomputeChecksums(in: &again)
        #expect(checksumsValid(bytes))
        #expect(Array(bytes[packet.payloadRange]) == Array("xxxx XXXXXX.example.org\r\n".utf8))
    }

    /// (cut at payload offset, expected payload).
    static let truncations: [(Int, String)] = [(0, ""), (6, "EHLO c"), (7, "EHLO cl"), (24, "EHLO client.example.org\r")]

    @Test(arguments: captured, truncations)
    func truncateShortensAndStaysValid(original: [UInt8], cut: (Int, String)) throws {
        var packet = try TCPPacket(checking: original.span)
        var bytes = original
        var span = bytes.mutableSpan
        let newLength = packet.truncatePayload(at: cut.0, in: &span)
        #expect(newLength == packet.payloadOffset + cut.0)
        #expect(packet.totalLength == newLength && packet.payloadLength == cut.0)
        let shorter = Array(bytes[0..<newLength])
        let reparsed = try TCPPacket(checking: shorter.span)
        #expect(reparsed == packet)
        #expect(Array(shorter[reparsed.payloadRange]) == Array(cut.1.utf8))
        #expect(reparsed.verifies(shorter))
        #expect(reparsed.sequenceNumber == SequenceNumber(packet.sequenceNumber.rawValue))
    }

    /// A FIN after cut bytes would claim the stream ends where it does not: it must go.
    @Test(arguments: [4, 6])
    func truncateClearsFINOnlyWhenBytesAreCut(version: Int) throws {
        let from = version == 4 ? Fixture.client4 : Fixture.client6
        let to = version == 4 ? Fixture.server4 : Fixture.server6
        let original = TCPPacketBuilder(from: from, to: to, sequenceNumber: SequenceNumber(100),
                                        acknowledgmentNumber: SequenceNumber(7), flags: [.fin, .ack, .psh],
                                        payload: Array("QUIT\r\n".utf8)).build()
        var untouched = original
        var packet = try TCPPacket(checking: original.span)
        var span = untouched.mutableSpan
        #expect(packet.truncatePayload(at: 6, in: &span) == original.count)
        #expect(untouched == original && packet.flags.contains(.fin))

        var bytes = original
        var cutSpan = bytes.mutableSpan
        let newLength = packet.truncatePayload(at: 4, in: &cutSpan)
        #expect(packet.flags == [.ack, .psh])
        let reparsed = try TCPPacket(checking: Array(bytes[0..<newLength]).span)
        #expect(reparsed.flags == [.ack, .psh] && reparsed.segmentLength == 4)
        #expect(checksumsValid(Array(bytes[0..<newLength])))
    }

    /// Incremental (RFC 1624) equals a full recompute after random edits at odd and even
    /// offsets of random packets, masks and replacements alike.
    @Test func incrementalEqualsFullOnRandomPackets() throws {
        var rng = SplitMix64(seed: 0x5eed)
        var oddEdits = 0, evenEdits = 0
        for round in 0..<1_000 {
            let original = randomPacket(&rng)
            let packet = try TCPPacket(checking: original.span)
            guard packet.payloadLength > 0 else { continue }
            let start = Int.random(in: 0..<packet.payloadLength, using: &rng)
            let end = Int.random(in: start...min(packet.payloadLength, start + 64), using: &rng)
            if start % 2 == 0 { evenEdits += 1 } else { oddEdits += 1 }
            var bytes = original
            var span = bytes.mutableSpan
            if round % 2 == 0 {
                packet.maskPayload(start..<end, with: UInt8.random(in: 0...255, using: &rng), in: &span)
            } else {
                packet.replacePayload(at: start, with: rng.bytes(end - start).span, in: &span)
            }
            let incremental = packet.storedTCPChecksum(in: bytes.span)
            #expect(incremental == packet.computeTCPChecksum(in: bytes.span), "round \(round)")
            #expect(packet.verifies(bytes))
        }
        #expect(oddEdits > 100 && evenEdits > 100)
    }

    @Test func recomputeRepairsAnyChecksumDamage() throws {
        var rng = SplitMix64(seed: 77)
        for _ in 0..<200 {
            let original = randomPacket(&rng)
            let packet = try TCPPacket(checking: original.span)
            var bytes = original
            bytes[packet.tcpOffset + 16] ^= UInt8.random(in: 1...255, using: &rng)
            if packet.version == 4 { bytes[10] ^= UInt8.random(in: 1...255, using: &rng) }
            #expect(!packet.tcpVerifies(bytes))
            var span = bytes.mutableSpan
            packet.recomputeChecksums(in: &span)
            #expect(bytes == original)
        }
    }
}
