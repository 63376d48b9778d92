import PacketWire
import Testing

/// The header normalisations: urgent data and Fast Open options, checked on IPv4 and IPv6 by
/// re-parsing and re-verifying checksums.
@Suite("Packet normalisations")
struct PacketNormalizeTests {
    static func segment(ipv6: Bool, flags: TCPFlags, urgentPointer: UInt16 = 0, options: [TCPOption] = [],
                        payload: String = "EXPN root\r\n") -> [UInt8] {
        let (a, b): (IPAddress, IPAddress) = ipv6
            ? (.v6(IPv6Address([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])), .v6(IPv6Address([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2])))
            : (.v4(IPv4Address(192, 0, 2, 1)), .v4(IPv4Address(192, 0, 2, 2)))
        var builder = TCPPacketBuilder(from: Endpoint(a, 40000), to: Endpoint(b, 25), sequenceNumber: SequenceNumber(7),
                                       acknowledgmentNumber: SequenceNumber(9), flags: flags, window: 1000,
                                       payload: Array(payload.utf8))
        builder.urgentPointer = urgentPointer
        builder.options = options
        return builder.build()
    }

    @Test("URG and the urgent pointer are cleared; checksums stay valid; nothing else changes", arguments: [false, true])
    func clearsUrgent(ipv6: Bool) throws {
        for (flags, pointer) in [(TCPFlags([.ack, .urg, .psh]), UInt16(3)), ([.ack, .urg], 0), ([.ack], 5), ([.ack, .urg], 0xffff)] {
            let original = Self.segment(ipv6: ipv6, flags: flags, urgentPointer: pointer)
            var packet = try TCPPacket(checking: original.span)
            var bytes = original
            var span = bytes.mutableSpan
            #expect(packet.hasUrgentData)
            let cleared = packet.clearUrgent(in: &span)
            #expect(cleared)
            #expect(!packet.hasUrgentData)
            let again = try TCPPacket(checking: bytes.span)
            #expect(!again.flags.contains(.urg) && again.tcp.urgentPointer == 0)
            #expect(again.flags == flags.subtracting(.urg))
            #expect(checksumsValid(bytes))
            #expect(Array(bytes[again.payloadRange]) == Array(original[again.payloadRange]))
        }
        let plain = Self.segment(ipv6: ipv6, flags: [.ack])
        var packet = try TCPPacket(checking: plain.span)
        var bytes = plain
        var span = bytes.mutableSpan
        let cleared = packet.clearUrgent(in: &span)
        #expect(!cleared)
        #expect(bytes == plain)
    }

    @Test("Fast Open options become no-ops; other options are kept", arguments: [false, true])
    func removesFastOpen(ipv6: Bool) throws {
        let cases: [[TCPOption]] = [
            [.maximumSegmentSize(1460), .other(kind: 34, data: [1, 2, 3, 4, 5, 6, 7, 8])],   // cookie
            [.other(kind: 34, data: []), .sackPermitted],                                      // cookie request
            [.windowScale(7), .other(kind: 254, data: [0xF9, 0x89, 9, 9, 9, 9])],              // experimental TFO
        ]
        for options in cases {
            let original = Self.segment(ipv6: ipv6, flags: .syn, options: options, payload: "EHLO x\r\n")
            let packet = try TCPPacket(checking: original.span)
            var bytes = original
            var span = bytes.mutableSpan
            let removed = packet.removeFastOpen(in: &span)
            #expect(removed)
            let again = try TCPPacket(checking: bytes.span)
            #expect(checksumsValid(bytes))
            let area = Array(bytes[(again.tcpOffset + 20)..<again.payloadOffset])
            #expect(!area.contains(34))
            #expect(!area.contains(0xF9))
            #expect(again.tcp.options.maximumSegmentSize == packet.tcp.options.maximumSegmentSize)
            #expect(again.tcp.options.sackPermitted == packet.tcp.options.sackPermitted)
            #expect(again.tcp.options.windowScale == packet.tcp.options.windowScale)
        }
        // Another experiment under kind 254 is not Fast Open.
        let other = Self.segment(ipv6: ipv6, flags: .syn, options: [.other(kind: 254, data: [0x12, 0x34])])
        let packet = try TCPPacket(checking: other.span)
        var bytes = other
        var span = bytes.mutableSpan
        let removed = packet.removeFastOpen(in: &span)
        #expect(!removed)
        #expect(bytes == other)
    }

    @Test("Trimming the payload's front moves the sequence number and keeps the rest intact", arguments: [false, true])
    func trimFront(ipv6: Bool) throws {
        let original = Self.segment(ipv6: ipv6, flags: [.ack, .psh, .fin], payload: "NOOP\r\nEXPN root\r\n")
        var packet = try TCPPacket(checking: original.span)
        var bytes = original
        var span = bytes.mutableSpan
        let length = packet.trimPayloadFront(6, in: &span)
        let again = try TCPPacket(checking: Array(bytes[0..<length]).span)
        #expect(again == packet)
        #expect(again.sequenceNumber == SequenceNumber(7) + 6)
        #expect(again.flags.contains(.fin))
        #expect(Array(bytes[again.payloadRange]) == Array("EXPN root\r\n".utf8))
        #expect(checksumsValid(Array(bytes[0..<length])))
    }
}
