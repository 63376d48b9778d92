import PacketWire
import TestSupport
import Testing

/// An extension header to splice in front of TCP: its protocol number and its bytes (the
/// next-header byte is filled in by `insertingExtensions`).
struct Extension: Sendable {
    var kind: UInt8
    var bytes: [UInt8]

    static func options(_ kind: UInt8, units: Int = 0) -> Extension {
        // Next header, length in 8-byte units after the first, PadN filling the rest.
        var bytes: [UInt8] = [0, UInt8(units), 1, UInt8(4 + units * 8)]
        bytes += [UInt8](repeating: 0, count: 4 + units * 8)
        return Extension(kind: kind, bytes: bytes)
    }

    static let hopByHop = options(0)
    static let destinationOptions = options(60, units: 1)
    static func fragment(offsetAndFlags: UInt16) -> Extension {
        Extension(kind: 44, bytes: [0, 0, UInt8(offsetAndFlags >> 8), UInt8(offsetAndFlags & 0xff), 0, 0, 0, 1])
    }
    static func routing(type: UInt8, segmentsLeft: UInt8, addresses: [IPv6Address]) -> Extension {
        var bytes: [UInt8] = [0, UInt8(addresses.count * 2), type, segmentsLeft, 0, 0, 0, 0]
        for address in addresses { bytes += address.bytes }
        return Extension(kind: 43, bytes: bytes)
    }
}

/// `packet` (IPv6, next header TCP) with `extensions` inserted after the fixed header.
func insertingExtensions(_ extensions: [Extension], into packet: [UInt8], lastNext: UInt8 = 6) -> [UInt8] {
    guard let first = extensions.first else { return packet }
    var chain: [UInt8] = []
    for (index, ext) in extensions.enumerated() {
        var bytes = ext.bytes
        bytes[0] = index + 1 < extensions.count ? extensions[index + 1].kind : lastNext
        chain += bytes
    }
    var out = Array(packet[0..<40]) + chain + Array(packet[40...])
    let payloadLength = (Int(packet[4]) << 8 | Int(packet[5])) + chain.count
    out[4] = UInt8(payloadLength >> 8)
    out[5] = UInt8(payloadLength & 0xff)
    out[6] = first.kind
    return out
}

/// The four smoltcp tests for the IPv6 + TCP view, plus the extension-header walk.
@Suite("IPv6 + TCP view")
struct IPv6PacketTests {
    @Test func parsesCapturedEHLO() throws {
        let bytes = Fixture.ipv6EHLO
        let packet = try TCPPacket(checking: bytes.span)
        guard case .v6(let ip) = packet.network else {
            Issue.record("not parsed as IPv6")
            return
        }
        #expect(ip.trafficClass == 0)
        #expect(ip.flowLabel == 0x95f0f)
        #expect(ip.payloadLength == 57)
        #expect(ip.nextHeader == 6 && ip.upperLayerProtocol == 6)
        #expect(ip.hopLimit == 64)
        #expect(ip.source == IPv6Address("2001:db8::50"))
        #expect(ip.destination == IPv6Address("2001:db8::2"))
        #expect(ip.finalDestination == ip.destination)
        #expect(ip.upperLayerOffset == 40 && !ip.isFragment)
        #expect(ip.totalLength == 97)
        #expect(packet.version == 6)
        #expect(packet.flowKey == FlowKey(source: Fixture.client6, destination: Fixture.server6))
        #expect(packet.sequenceNumber == SequenceNumber(3_575_275_994))
        #expect(packet.acknowledgmentNumber == SequenceNumber(3_124_284_804))
        #expect(packet.flags == [.ack, .psh])
        #expect(packet.window == 64)
        #expect(packet.tcp.headerLength == 32)
        #expect(packet.tcp.options.timestamps == TCPTimestamps(value: 777_470_862, echoReply: 3_227_022_399))
        #expect(packet.tcpOffset == 40 && packet.payloadOffset == 72)
        #expect(packet.payloadLength == 25 && packet.totalLength == 97)
        #expect(Array(bytes[packet.payloadRange]) == Fixture.ehloText)
        #expect(packet.storedTCPChecksum(in: bytes.span) == 0xbabd)
        #expect(packet.verifies(bytes))
    }

    @Test func parsesCapturedSYN() throws {
        let packet = try parsed(Fixture.ipv6SYN)
        #expect(packet.flags == .syn && packet.segmentLength == 1)
        #expect(packet.tcp.options.maximumSegmentSize == 1440 && packet.tcp.options.windowScale == 10)
    }

    @Test func rejectsEveryTruncation() {
        let bytes = Fixture.ipv6EHLO
        for length in 0..<bytes.count {
            let error = parseError(Array(bytes[0..<length]))
            // An empty buffer has no version nibble, so it cannot be called IPv6.
            let expected: PacketError.Reason = length == 0 ? .truncatedIPHeader
                : length < 40 ? .truncatedIPv6Header : .truncatedIPv6Packet
            #expect(error?.reason == expected, "length \(length)")
            #expect(error?.isMalformed == true)
        }
    }

    static let impossibleLengths: [(String, @Sendable (inout [UInt8]) -> Void, PacketError.Reason)] = [
        ("payload length 0 (jumbogram)", { $0[4] = 0; $0[5] = 0 }, .badIPv6PayloadLength),
        ("payload length past buffer", { $0[5] = 58 }, .truncatedIPv6Packet),
        ("payload length cuts the TCP header", { $0[5] = 19 }, .truncatedTCPHeader),
        ("payload length cuts the options", { $0[5] = 30 }, .truncatedTCPOptions),
        ("payload length 3", { $0[5] = 3 }, .truncatedTCPHeader),
        ("data offset 3", { $0[52] = 0x30 }, .badTCPDataOffset),
        ("bad option length", { $0[63] = 0 }, .badTCPOptionLength),
    ]

    @Test(arguments: impossibleLengths)
    func rejectsImpossibleLengths(name: String, mutate: @Sendable (inout [UInt8]) -> Void, reason: PacketError.Reason) {
        var bytes = Fixture.ipv6EHLO
        mutate(&bytes)
        let error = parseError(bytes)
        #expect(error?.reason == reason, "\(name)")
        #expect(error?.isMalformed == true)
        #expect(error?.source == Fixture.client6.address)
    }

    @Test func walksExtensionHeadersToTCP() throws {
        let bytes = insertingExtensions([.hopByHop, .destinationOptions,
                                         .routing(type: 4, segmentsLeft: 0, addresses: []),
                                         .fragment(offsetAndFlags: 0)],   // atomic (RFC 6946)
                                        into: Fixture.ipv6EHLO)
        let packet = try TCPPacket(checking: bytes.span)
        #expect(packet.tcpOffset == 40 + 8 + 16 + 8 + 8)
        #expect(packet.payloadLength == 25)
        #expect(Array(bytes[packet.payloadRange]) == Fixture.ehloText)
        #expect(packet.verifies(bytes))
        if case .v6(let ip) = packet.network {
            #expect(ip.nextHeader == 0 && ip.upperLayerProtocol == 6)
        }
    }

    /// Under source routing the checksum covers the final destination (RFC 8200 §8.1), not the
    /// hop in the header: a packet built for `final` still verifies after the header is pointed
    /// at a waypoint and a routing header naming `final` is added.
    @Test(arguments: [UInt8(0), 2, 4])
    func checksumUsesRoutingHeaderFinalDestination(routingType: UInt8) throws {
        let waypoint = IPv6Address("2001:db8::99")!
        let final = IPv6Address("2001:db8::2")!
        var bytes = insertingExtensions([.routing(type: routingType, segmentsLeft: 1, addresses: [final])],
                                        into: Fixture.ipv6EHLO)
        bytes.replaceSubrange(24..<40, with: waypoint.bytes)
        let packet = try TCPPacket(checking: bytes.span)
        guard case .v6(let ip) = packet.network else { return }
        #expect(ip.destination == waypoint && ip.finalDestination == final)
        #expect(packet.verifies(bytes))
        var copy = bytes
        var span = copy.mutableSpan
        packet.maskPayload(0..<4, in: &span)
        #expect(checksumsValid(copy))
    }

    /// (chain, last next header, expected reason).
    static let chains: [(String, [Extension], UInt8, PacketError.Reason)] = [
        ("fragment with offset", [.fragment(offsetAndFlags: 0x0008)], 6, .fragment),
        ("first fragment (M set)", [.hopByHop, .fragment(offsetAndFlags: 0x0001)], 6, .fragment),
        ("ESP", [.destinationOptions], 50, .notTCP(protocol: 50)),
        ("no next header", [], 59, .notTCP(protocol: 59)),
        ("UDP after options", [.hopByHop], 17, .notTCP(protocol: 17)),
        ("hop-by-hop second", [.destinationOptions, .hopByHop], 6, .misplacedHopByHopHeader),
        ("nine headers", Array(repeating: .destinationOptions, count: 9), 6, .tooManyIPv6ExtensionHeaders),
        ("RPL routing with segments left", [.routing(type: 3, segmentsLeft: 1, addresses: [])], 6,
         .unsupportedIPv6RoutingHeader),
    ]

    @Test(arguments: chains)
    func classifiesExtensionChains(name: String, chain: [Extension], last: UInt8, reason: PacketError.Reason) {
        var bytes = insertingExtensions(chain, into: Fixture.ipv6EHLO, lastNext: last)
        if chain.isEmpty { bytes[6] = last }
        let error = parseError(bytes)
        #expect(error?.reason == reason, "\(name)")
        #expect(error?.isMalformed == reason.isMalformed)
        #expect(error?.destination == Fixture.server6.address)
    }

    /// An extension header whose length runs past the payload is malformed, not walked.
    @Test func rejectsTruncatedExtensionHeader() {
        var bytes = insertingExtensions([.hopByHop], into: Fixture.ipv6EHLO)
        bytes[41] = 20                                  // 168 bytes: past the 65-byte payload
        #expect(parseError(bytes)?.reason == .truncatedIPv6ExtensionHeader)
        let short = Array(insertingExtensions([.hopByHop], into: Fixture.ipv6FIN)[0..<44])
        var shortened = short
        shortened[5] = 4                                // payload: only half an extension header
        #expect(parseError(shortened)?.reason == .truncatedIPv6ExtensionHeader)
    }

    @Test func builderReproducesTheCapture() {
        var builder = TCPPacketBuilder(from: Fixture.client6, to: Fixture.server6,
                                       sequenceNumber: SequenceNumber(3_575_275_994),
                                       acknowledgmentNumber: SequenceNumber(3_124_284_804),
                                       flags: [.ack, .psh], window: 64, payload: Fixture.ehloText)
        builder.options = [.noOperation, .noOperation,
                           .timestamps(TCPTimestamps(value: 777_470_862, echoReply: 3_227_022_399))]
        builder.flowLabel = 0x95f0f
        #expect(builder.build() == Fixture.ipv6EHLO)
    }

    @Test func builtPacketsParseBackEqual() throws {
        var rng = SplitMix64(seed: 6)
        for _ in 0..<200 {
            var builder = TCPPacketBuilder(
                from: Endpoint(.v6(IPv6Address(high: rng.next(), low: rng.next())), 1025),
                to: Fixture.server6,
                sequenceNumber: SequenceNumber(UInt32(truncatingIfNeeded: rng.next())),
                flags: TCPFlags(rawValue: UInt16.random(in: 0...0x1ff, using: &rng)),
                payload: rng.bytes(Int.random(in: 0...1440, using: &rng)))
            builder.trafficClass = UInt8.random(in: 0...255, using: &rng)
            builder.flowLabel = UInt32.random(in: 0...0xfffff, using: &rng)
            builder.options = [.sack([.init(left: SequenceNumber(1), right: SequenceNumber(9))])]
            let bytes = builder.build()
            let packet = try TCPPacket(checking: bytes.span)
            #expect(packet.flowKey == FlowKey(source: builder.source, destination: builder.destination))
            #expect(packet.sequenceNumber == builder.sequenceNumber && packet.flags == builder.flags)
            #expect(packet.tcp.options.sackBlockCount == 1)
            #expect(Array(bytes[packet.payloadRange]) == builder.payload)
            #expect(packet.verifies(bytes))
            if case .v6(let ip) = packet.network {
                #expect(ip.trafficClass == builder.trafficClass && ip.flowLabel == builder.flowLabel)
            }
        }
    }
}
