import PacketWire
import TestSupport
import Testing

@Suite("InternetChecksum")
struct InternetChecksumTests {
    /// RFC 1071 §3's worked example: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
    @Test func rfc1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        #expect(InternetChecksum.sum(bytes.span) == 0xddf2)
        #expect(InternetChecksum.checksum(bytes.span) == 0x220d)
    }

    /// (bytes, folded sum): odd lengths pad with a zero byte; carries wrap around.
    static let sumCases: [([UInt8], UInt16)] = [
        ([], 0),
        ([0xab], 0xab00),
        ([0x00, 0x01, 0xf2], 0xf201),
        ([0xff, 0xff, 0x00, 0x01], 0x0001),          // 0xffff + 1 = 0x10000 -> 0x0001
        ([0x80, 0x00, 0x80, 0x00], 0x0001),
        (Array(repeating: 0xff, count: 17), 0xff00),  // eight -0 words, then 0xff00
    ]

    @Test(arguments: sumCases)
    func knownSums(bytes: [UInt8], expected: UInt16) {
        #expect(InternetChecksum.sum(bytes.span) == expected)
        #expect(referenceSum(bytes) == expected)
    }

    /// The 16-bytes-at-a-time loop against RFC 1071's word-at-a-time loop, every length 0...300
    /// (all tail shapes) and some long buffers.
    @Test func fastSumMatchesReference() {
        var rng = SplitMix64(seed: 1071)
        for length in Array(0...300) + [1499, 1500, 9000, 65535] {
            let bytes = rng.bytes(length)
            #expect(InternetChecksum.sum(bytes.span) == referenceSum(bytes), "length \(length)")
        }
    }

    /// The IPv4 header of a captured packet: its stored checksum 0x426b is what we compute.
    @Test func realIPv4HeaderChecksum() {
        var header = Array(Fixture.ipv4EHLO[0..<20])
        #expect(InternetChecksum.sum(header.span) == 0xffff)
        header[10] = 0
        header[11] = 0
        #expect(InternetChecksum.checksum(header.span) == 0x426b)
    }

    /// TCP checksums of captured packets (0x08d2 over IPv4, 0xbabd over IPv6), computed from
    /// scratch with the pseudo-header.
    static let capturedChecksums: [([UInt8], UInt16)] = [
        (Fixture.ipv4EHLO, 0x08d2), (Fixture.ipv6EHLO, 0xbabd), (Fixture.ipv4SYN, 0x5ca0), (Fixture.ipv6SYN, 0xc0dc),
    ]

    @Test(arguments: capturedChecksums)
    func realTCPChecksum(bytes: [UInt8], stored: UInt16) throws {
        let packet = try TCPPacket(checking: bytes.span)
        #expect(packet.storedTCPChecksum(in: bytes.span) == stored)
        #expect(packet.computeTCPChecksum(in: bytes.span) == stored)
        #expect(packet.verifies(bytes))
    }

    @Test func pseudoHeaderSums() {
        // 192.0.2.50 -> 192.0.2.2, TCP, 57 bytes: c000 + 0232 + c000 + 0202 + 0006 + 0039.
        let v4 = InternetChecksum.pseudoHeaderSum(source: IPv4Address(192, 0, 2, 50),
                                                  destination: IPv4Address(192, 0, 2, 2),
                                                  protocol: 6, length: 57)
        #expect(v4 == referenceSum([0xc0, 0x00, 0x02, 0x32, 0xc0, 0x00, 0x02, 0x02, 0x00, 0x06, 0x00, 0x39]))
        let src = IPv6Address("2001:db8::50")!, dst = IPv6Address("2001:db8::2")!
        let v6 = InternetChecksum.pseudoHeaderSum(source: src, destination: dst, protocol: 6, length: 0x1_0020)
        #expect(v6 == referenceSum(src.bytes + dst.bytes + [0x00, 0x01, 0x00, 0x20, 0, 0, 0, 6]))
    }

    /// RFC 1624 eqn. 3 against a full recompute, for random changes of random ranges at odd and
    /// even offsets of random buffers (the checksum is over the whole buffer).
    @Test func incrementalUpdateMatchesFullRecompute() {
        var rng = SplitMix64(seed: 1624)
        for round in 0..<2_000 {
            var bytes = rng.bytes(Int.random(in: 2...600, using: &rng))
            let before = InternetChecksum.checksum(bytes.span)
            let start = Int.random(in: 0..<bytes.count, using: &rng)
            let end = Int.random(in: start...bytes.count, using: &rng)
            let oldSum = InternetChecksum.sum(bytes[start..<end].span)
            // Every fourth round writes zeros or 0xff runs: the ±0 corner cases of eqn. 2.
            for i in start..<end {
                bytes[i] = switch round % 4 {
                case 0: 0
                case 1: 0xff
                default: UInt8.random(in: 0...255, using: &rng)
                }
            }
            // All-zero data has the one checksum a full computation writes as 0xffff and eqn. 3
            // as 0x0000 (the same one's-complement value); TCP never has it (the pseudo-header
            // is not zero), so it is left out here.
            if bytes.allSatisfy({ $0 == 0 }) { continue }
            let newSum = InternetChecksum.sum(bytes[start..<end].span)
            let updated = InternetChecksum.update(checksum: before, oldSum: oldSum, newSum: newSum,
                                                  atOddOffset: start % 2 == 1)
            #expect(updated == InternetChecksum.checksum(bytes.span), "round \(round) range \(start)..<\(end)")
        }
    }

    @Test func foldAndAdd() {
        #expect(InternetChecksum.fold(0) == 0)
        #expect(InternetChecksum.fold(0xffff) == 0xffff)
        #expect(InternetChecksum.fold(0x1_0000) == 1)
        #expect(InternetChecksum.fold(UInt64.max) == 0xffff)
        #expect(InternetChecksum.add(0xffff, 1) == 1)
        #expect(InternetChecksum.add(0x8000, 0x8000) == 1)
    }
}
