import PacketWire
import Testing

@Suite("TCPPacketBuilder")
struct TCPPacketBuilderTests {
    static let captured = [Fixture.ipv4EHLO, Fixture.ipv6EHLO]

    /// To the sender of an ACKing segment: `<SEQ=SEG.ACK><CTL=RST>`, reversed endpoints.
    @Test(arguments: captured)
    func resetToSender(original: [UInt8]) throws {
        let segment = try TCPPacket(checking: original.span)
        let rst = TCPPacketBuilder.reset(for: segment, direction: .toSender).build()
        let packet = try TCPPacket(checking: rst.span)
        #expect(packet.flowKey == segment.flowKey.reversed)
        #expect(packet.flags == .rst)
        #expect(packet.sequenceNumber == segment.acknowledgmentNumber)
        #expect(packet.payloadLength == 0)
        #expect(packet.version == segment.version)
        #expect(packet.verifies(rst))
    }

    /// To the sender of a SYN (no ACK): `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
    @Test(arguments: [Fixture.ipv4SYN, Fixture.ipv6SYN])
    func resetToSenderOfSYN(original: [UInt8]) throws {
        let segment = try TCPPacket(checking: original.span)
        let rst = TCPPacketBuilder.reset(for: segment, direction: .toSender).build()
        let packet = try TCPPacket(checking: rst.span)
        #expect(packet.flags == [.rst, .ack])
        #expect(packet.sequenceNumber == SequenceNumber(0))
        #expect(packet.acknowledgmentNumber == segment.sequenceNumber + 1)
        #expect(packet.verifies(rst))
    }

    /// On to the receiver, as the sender: before or after the segment's bytes.
    @Test(arguments: captured, [false, true])
    func resetToReceiver(original: [UInt8], delivered: Bool) throws {
        let segment = try TCPPacket(checking: original.span)
        let rst = TCPPacketBuilder.reset(for: segment, direction: .toReceiver(segmentDelivered: delivered)).build()
        let packet = try TCPPacket(checking: rst.span)
        #expect(packet.flowKey == segment.flowKey)
        #expect(packet.flags == [.rst, .ack])
        #expect(packet.sequenceNumber == (delivered ? segment.sequenceNumber + 25 : segment.sequenceNumber))
        #expect(packet.acknowledgmentNumber == segment.acknowledgmentNumber)
        #expect(packet.verifies(rst))
    }

    @Test func resetToReceiverCountsFIN() throws {
        let segment = try parsed(Fixture.ipv4FIN)
        let rst = TCPPacketBuilder.reset(for: segment, direction: .toReceiver(segmentDelivered: true)).build()
        #expect(try TCPPacket(checking: rst.span).sequenceNumber == segment.sequenceNumber + 1)
    }

    @Test func optionsArePaddedAndParsed() throws {
        var builder = TCPPacketBuilder(from: Fixture.client4, to: Fixture.server4,
                                       sequenceNumber: SequenceNumber(1), flags: .syn)
        builder.options = [.maximumSegmentSize(536), .windowScale(14), .other(kind: 30, data: [1, 2, 3])]
        let bytes = builder.build()
        let packet = try TCPPacket(checking: bytes.span)
        // 4 + 3 + 5 = 12 option bytes: already a multiple of 4.
        #expect(packet.tcp.headerLength == 32)
        #expect(packet.tcp.options.maximumSegmentSize == 536 && packet.tcp.options.windowScale == 14)
        builder.options = [.windowScale(2)]
        let padded = try TCPPacket(checking: builder.build().span)
        #expect(padded.tcp.headerLength == 24 && padded.tcp.options.windowScale == 2)
    }

    @Test func flagsText() {
        #expect(TCPFlags([.syn, .ack]).description == "SYN,ACK")
        #expect(TCPFlags().description == "none")
        #expect(TCPFlags([.fin, .psh, .ack, .ae]).description == "FIN,PSH,ACK,AE")
    }
}
