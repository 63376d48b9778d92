import PacketWire
import TestSupport
import Testing

/// Random bytes and mutated real packets never trap `init(checking:)`, its accessors or the
/// edits, and whatever parses satisfies the invariants the edits rely on. (A trap fails the test
/// run; the invariants fail it by expectation.)
@Suite("Fuzz")
struct FuzzTests {
    /// Touches everything a caller can reach from a parsed packet and checks the length
    /// invariants; then runs every edit on a copy.
    static func exercise(_ packet: TCPPacket, _ bytes: [UInt8]) -> Bool {
        var ok = packet.tcpOffset + packet.tcp.headerLength == packet.payloadOffset
        ok = ok && packet.payloadOffset <= packet.totalLength && packet.totalLength <= bytes.count
        ok = ok && packet.payloadLength >= 0 && packet.tcp.headerLength >= 20
        ok = ok && packet.segmentLength >= packet.payloadLength
        ok = ok && packet.sequenceEnd - packet.sequenceNumber == packet.segmentLength
        _ = packet.flowKey.connection
        _ = packet.flowKey.description
        _ = packet.verifyChecksums(in: bytes.span)
        var copy = bytes
        var span = copy.mutableSpan
        if packet.payloadLength > 0 {
            packet.maskPayload(0..<packet.payloadLength, in: &span)
            packet.replacePayload(at: packet.payloadLength - 1, with: [0x41].span, in: &span)
        }
        packet.recomputeChecksums(in: &span)
        ok = ok && packet.verifyChecksums(in: span.span)
        var shorter = packet
        let length = shorter.truncatePayload(at: packet.payloadLength / 2, in: &span)
        ok = ok && length <= packet.totalLength
        if let reparsed = try? TCPPacket(checking: copy[0..<length].span) {
            ok = ok && reparsed == shorter && reparsed.verifyChecksums(in: copy[0..<length].span)
        } else {
            ok = false
        }
        return ok
    }

    /// 100k random buffers, with the version nibble biased to 4 and 6 so most get past the first
    /// byte, and lengths around the interesting sizes.
    @Test func randomBytes() {
        var rng = SplitMix64(seed: 0xf422)
        var parsed = 0, notInspectable = 0, malformed = 0
        for _ in 0..<100_000 {
            var bytes = rng.bytes(Int.random(in: 0...120, using: &rng))
            if !bytes.isEmpty, Bool.random(using: &rng) {
                bytes[0] = (Bool.random(using: &rng) ? 0x40 : 0x60) | (bytes[0] & 0x0f)
            }
            do {
                let packet = try TCPPacket(checking: bytes.span)
                parsed += 1
                #expect(Self.exercise(packet, bytes))
            } catch {
                if error.isMalformed { malformed += 1 } else { notInspectable += 1 }
                #expect(!error.reason.text.isEmpty)
            }
        }
        #expect(malformed > 0 && notInspectable > 0)
    }

    /// 100k mutations of valid packets (captured and random): flipped bytes, wrong lengths,
    /// truncation, extension headers. Many still parse; all must keep the invariants.
    @Test func mutatedPackets() {
        var rng = SplitMix64(seed: 0xbad5eed)
        let seeds = [Fixture.ipv4EHLO, Fixture.ipv6EHLO, Fixture.ipv4SYN, Fixture.ipv6SYN,
                     insertingExtensions([.hopByHop, .destinationOptions], into: Fixture.ipv6EHLO)]
        var parsed = 0, refused = 0
        for round in 0..<100_000 {
            var bytes = round % 4 == 0 ? randomPacket(&rng, maxPayload: 64) : seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                guard !bytes.isEmpty else { break }
                switch Int.random(in: 0..<4, using: &rng) {
                case 0:
                    // Header bytes matter most: mutate mostly in the first 80.
                    let index = Int.random(in: 0..<min(bytes.count, 80), using: &rng)
                    bytes[index] = UInt8.random(in: 0...255, using: &rng)
                case 1:
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                case 2:
                    bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
                default:
                    bytes += rng.bytes(Int.random(in: 0...8, using: &rng))
                }
            }
            if let packet = try? TCPPacket(checking: bytes.span) {
                parsed += 1
                #expect(Self.exercise(packet, bytes))
            } else {
                refused += 1
            }
        }
        #expect(parsed > 10_000 && refused > 10_000)
    }
}
