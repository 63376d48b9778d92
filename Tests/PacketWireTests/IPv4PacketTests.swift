import PacketWire
import TestSupport
import Testing

/// The four smoltcp tests for the IPv4 + TCP view: parse a real packet, reject every truncation
/// and impossible length, build and parse back, edit and re-verify.
@Suite("IPv4 + TCP view")
struct IPv4PacketTests {
    @Test func parsesCapturedEHLO() throws {
        let bytes = Fixture.ipv4EHLO
        let packet = try TCPPacket(checking: bytes.span)
        guard case .v4(let ip) = packet.network else {
            Issue.record("not parsed as IPv4")
            return
        }
        #expect(ip.headerLength == 20)
        #expect(ip.totalLength == 77)
        #expect(ip.typeOfService == 0)
        #expect(ip.identification == 0x740b)
        #expect(ip.dontFragment && !ip.moreFragments && ip.fragmentOffset == 0 && !ip.isFragment)
        #expect(ip.timeToLive == 64)
        #expect(ip.protocolNumber == 6)
        #expect(ip.storedChecksum(in: bytes.span) == 0x426b)
        #expect(ip.verifies(bytes))
        #expect(packet.version == 4)
        #expect(packet.source == Fixture.client4.address)
        #expect(packet.destination == Fixture.server4.address)
        #expect(packet.sourcePort == 50238 && packet.destinationPort == 25)
        #expect(packet.sequenceNumber == SequenceNumber(1_055_106_183))
        #expect(packet.acknowledgmentNumber == SequenceNumber(415_224_285))
        #expect(packet.flags == [.ack, .psh])
        #expect(packet.window == 63)
        #expect(packet.tcp.urgentPointer == 0)
        #expect(packet.tcp.headerLength == 32)
        #expect(packet.tcp.options.timestamps == TCPTimestamps(value: 2_051_164_773, echoReply: 2_946_526_637))
        #expect(packet.tcp.options.maximumSegmentSize == nil)
        #expect(packet.tcpOffset == 20 && packet.ipHeaderLength == 20)
        #expect(packet.payloadOffset == 52)
        #expect(packet.payloadLength == 25)
        #expect(packet.totalLength == 77)
        #expect(packet.tcpLength == 57)
        #expect(packet.segmentLength == 25)
        #expect(packet.sequenceEnd == SequenceNumber(1_055_106_208))
        #expect(Array(bytes[packet.payloadRange]) == Fixture.ehloText)
        #expect(packet.flowKey == FlowKey(source: Fixture.client4, destination: Fixture.server4))
        #expect(packet.verifies(bytes))
    }

    @Test func parsesCapturedSYNOptions() throws {
        let packet = try parsed(Fixture.ipv4SYN)
        #expect(packet.flags == .syn)
        #expect(packet.payloadLength == 0 && packet.segmentLength == 1)
        #expect(packet.tcp.options.maximumSegmentSize == 1460)
        #expect(packet.tcp.options.windowScale == 10)
        #expect(packet.tcp.options.sackPermitted)
        #expect(packet.tcp.options.timestamps == TCPTimestamps(value: 2_051_164_723, echoReply: 0))
        #expect(packet.window == 64240)
    }

    /// Link-layer padding after the IP total length is not part of the packet.
    @Test func ignoresBytesAfterTotalLength() throws {
        let padded = Fixture.ipv4FIN + [0, 0, 0, 0, 0, 0]
        let packet = try TCPPacket(checking: padded.span)
        #expect(packet.totalLength == Fixture.ipv4FIN.count)
        #expect(packet.payloadLength == 0 && packet.segmentLength == 1)
        #expect(packet.verifies(padded))
    }

    /// Every prefix shorter than the packet is refused, with the reason for where it stops.
    @Test func rejectsEveryTruncation() {
        let bytes = Fixture.ipv4EHLO
        for length in 0..<bytes.count {
            let error = parseError(Array(bytes[0..<length]))
            let expected: PacketError.Reason = length < 20 ? .truncatedIPHeader : .truncatedIPPacket
            #expect(error?.reason == expected, "length \(length)")
            #expect(error?.isMalformed == true)
        }
    }

    /// (mutation, expected reason). Each breaks one length of the captured packet.
    static let impossibleLengths: [(String, @Sendable (inout [UInt8]) -> Void, PacketError.Reason)] = [
        ("IHL 4", { $0[0] = 0x44 }, .badIPHeaderLength),
        ("IHL 0", { $0[0] = 0x40 }, .badIPHeaderLength),
        ("total length 19", { $0[2] = 0; $0[3] = 19 }, .badIPTotalLength),
        ("total length past buffer", { $0[3] = 78 }, .truncatedIPPacket),
        ("total length 65535", { $0[2] = 0xff; $0[3] = 0xff }, .truncatedIPPacket),
        ("IHL 15 past TCP", { $0[0] = 0x4f; $0[2] = 0; $0[3] = 62 }, .truncatedTCPHeader),
        ("total length cuts the TCP header", { $0[3] = 39 }, .truncatedTCPHeader),
        ("total length cuts the options", { $0[3] = 50 }, .truncatedTCPOptions),
        ("data offset 4", { $0[32] = 0x40 }, .badTCPDataOffset),
        ("data offset 0", { $0[32] = 0x00 }, .badTCPDataOffset),
        ("data offset 15 past the segment", { $0[32] = 0xf0; $0[3] = 70 }, .truncatedTCPOptions),
        ("timestamp option length 9", { $0[43] = 9 }, .badTCPOptionLength),
        ("option length 1", { $0[43] = 1 }, .badTCPOptionLength),
        ("option past the header", { $0[43] = 13 }, .badTCPOptionLength),
    ]

    @Test(arguments: impossibleLengths)
    func rejectsImpossibleLengths(name: String, mutate: @Sendable (inout [UInt8]) -> Void, reason: PacketError.Reason) {
        var bytes = Fixture.ipv4EHLO
        mutate(&bytes)
        let error = parseError(bytes)
        #expect(error?.reason == reason, "\(name)")
        #expect(error?.isMalformed == true)
        #expect(error?.source == Fixture.client4.address && error?.destination == Fixture.server4.address)
        // Ports are reported whenever four bytes of TCP header are there.
        if reason != .badIPHeaderLength && reason != .badIPTotalLength && reason != .truncatedIPPacket
            && name != "IHL 15 past TCP" {
            #expect(error?.flowKey == FlowKey(source: Fixture.client4, destination: Fixture.server4), "\(name)")
        }
    }

    /// Well-formed packets we do not inspect: accepted and counted by the caller, not dropped.
    @Test func classifiesNotInspectable() {
        var udp = Fixture.ipv4EHLO
        udp[9] = 17
        #expect(parseError(udp)?.reason == .notTCP(protocol: 17))
        var fragment = Fixture.ipv4EHLO
        fragment[6] = 0x20                         // MF
        #expect(parseError(fragment)?.reason == .fragment)
        fragment[6] = 0x00
        fragment[7] = 0x10                         // offset 128
        #expect(parseError(fragment)?.reason == .fragment)
        var notIP = Fixture.ipv4EHLO
        notIP[0] = 0x55
        #expect(parseError(notIP)?.reason == .notIP(version: 5))
        for error in [parseError(udp), parseError(fragment), parseError(notIP)] {
            #expect(error?.isMalformed == false)
        }
        #expect(parseError(fragment)?.source == Fixture.client4.address)
    }

    /// IPv4 options (IHL 6): the TCP header moves, checksums and edits follow it.
    @Test func parsesHeaderWithOptions() throws {
        var bytes = Fixture.ipv4EHLO
        bytes.insert(contentsOf: [0x01, 0x01, 0x01, 0x00], at: 20)    // NOP NOP NOP EOL
        bytes[0] = 0x46
        bytes[3] += 4
        let packet = try parsed(bytes)
        #expect(packet.tcpOffset == 24 && packet.payloadOffset == 56 && packet.payloadLength == 25)
        #expect(packet.tcpVerifies(bytes))                       // the TCP checksum does not cover IP options
        #expect(!packet.verifies(bytes))                         // the header checksum does
        var span = bytes.mutableSpan
        packet.recomputeChecksums(in: &span)
        packet.maskPayload(20..<25, in: &span)
        #expect(packet.verifies(bytes))
        #expect(Array(bytes[packet.payloadRange]) == Array("EHLO client.example.xxxxx".utf8))
    }

    /// Every reason's text, as logs and `%FW-6-DROP_PKT` lines will carry it.
    static let reasonTexts: [(PacketError.Reason, String, Bool)] = [
        (.notIP(version: 5), "not an IP packet", false),
        (.notTCP(protocol: 17), "not TCP", false),
        (.fragment, "IP fragment", false),
        (.truncatedIPHeader, "truncated IP header", true),
        (.badIPHeaderLength, "bad IP header length", true),
        (.badIPTotalLength, "bad IP total length", true),
        (.truncatedIPPacket, "truncated IP packet", true),
        (.truncatedIPv6Header, "truncated IPv6 header", true),
        (.badIPv6PayloadLength, "bad IPv6 payload length", true),
        (.truncatedIPv6Packet, "truncated IPv6 packet", true),
        (.truncatedIPv6ExtensionHeader, "truncated IPv6 extension header", true),
        (.misplacedHopByHopHeader, "misplaced IPv6 hop-by-hop header", true),
        (.tooManyIPv6ExtensionHeaders, "too many IPv6 extension headers", true),
        (.unsupportedIPv6RoutingHeader, "unsupported IPv6 routing header", true),
        (.truncatedTCPHeader, "truncated TCP header", true),
        (.badTCPDataOffset, "bad TCP data offset", true),
        (.truncatedTCPOptions, "truncated TCP options", true),
        (.badTCPOptionLength, "bad TCP option length", true),
    ]

    @Test(arguments: reasonTexts)
    func reasonTextsAreStable(reason: PacketError.Reason, text: String, malformed: Bool) {
        #expect(reason.text == text)
        #expect(PacketError(reason).description == text)
        #expect(reason.isMalformed == malformed)
    }

    @Test func dropMessageNamesTheFlow() throws {
        var bytes = Fixture.ipv4EHLO
        bytes[32] = 0x40                                         // data offset 4
        let error = try #require(parseError(bytes))
        let flow = try #require(error.flowKey)
        #expect("Dropping tcp pkt \(flow) due to \(error)"
                == "Dropping tcp pkt 192.0.2.50:50238 => 192.0.2.2:25 due to bad TCP data offset")
    }

    @Test func builderReproducesTheCapture() throws {
        var builder = TCPPacketBuilder(from: Fixture.client4, to: Fixture.server4,
                                       sequenceNumber: SequenceNumber(1_055_106_183),
                                       acknowledgmentNumber: SequenceNumber(415_224_285),
                                       flags: [.ack, .psh], window: 63, payload: Fixture.ehloText)
        builder.options = [.noOperation, .noOperation,
                           .timestamps(TCPTimestamps(value: 2_051_164_773, echoReply: 2_946_526_637))]
        builder.identification = 0x740b
        #expect(builder.build() == Fixture.ipv4EHLO)
    }

    @Test func builtPacketsParseBackEqual() throws {
        var rng = SplitMix64(seed: 4)
        for _ in 0..<200 {
            var builder = TCPPacketBuilder(
                from: Endpoint(.v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: rng.next()))), 40000),
                to: Fixture.server4,
                sequenceNumber: SequenceNumber(UInt32(truncatingIfNeeded: rng.next())),
                acknowledgmentNumber: SequenceNumber(UInt32(truncatingIfNeeded: rng.next())),
                flags: TCPFlags(rawValue: UInt16.random(in: 0...0x1ff, using: &rng)),
                window: UInt16.random(in: 0...65535, using: &rng),
                payload: rng.bytes(Int.random(in: 0...1460, using: &rng)))
            builder.options = [.maximumSegmentSize(1460), .sackPermitted, .windowScale(7)]
            builder.timeToLive = 17
            let bytes = builder.build()
            let packet = try TCPPacket(checking: bytes.span)
            #expect(packet.flowKey == FlowKey(source: builder.source, destination: builder.destination))
            #expect(packet.sequenceNumber == builder.sequenceNumber)
            #expect(packet.acknowledgmentNumber == builder.acknowledgmentNumber)
            #expect(packet.flags == builder.flags)
            #expect(packet.window == builder.window)
            #expect(packet.tcp.options.maximumSegmentSize == 1460 && packet.tcp.options.windowScale == 7)
            #expect(packet.tcp.options.sackPermitted)
            #expect(Array(bytes[packet.payloadRange]) == builder.payload)
            #expect(packet.verifies(bytes))
            if case .v4(let ip) = packet.network { #expect(ip.timeToLive == 17) }
        }
    }
}
