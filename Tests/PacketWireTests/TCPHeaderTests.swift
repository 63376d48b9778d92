import PacketWire
import Testing

/// The TCP view on its own, over a segment (header + payload) cut from a captured packet.
@Suite("TCP view")
struct TCPHeaderTests {
    static let segment = Array(Fixture.ipv4EHLO[20...])

    @Test func parsesSegment() throws {
        let segment = Self.segment
        let tcp = try TCPHeader(checking: segment.span)
        #expect(tcp.sourcePort == 50238 && tcp.destinationPort == 25)
        #expect(tcp.sequenceNumber == SequenceNumber(0x3ee3_a487))
        #expect(tcp.acknowledgmentNumber == SequenceNumber(0x18bf_d1dd))
        #expect(tcp.headerLength == 32 && tcp.flags == [.ack, .psh] && tcp.window == 63)
        #expect(tcp.options.timestamps?.value == 0x7a42_4a65)
    }

    /// Below 4 bytes not even the ports are known; from 4 on they are reported.
    @Test func rejectsEveryTruncation() {
        let segment = Self.segment
        for length in 0..<32 {
            let prefix = Array(segment[0..<length])
            do {
                _ = try TCPHeader(checking: prefix.span)
                Issue.record("length \(length) parsed")
            } catch {
                #expect(error.reason == (length < 20 ? .truncatedTCPHeader : .truncatedTCPOptions), "length \(length)")
                #expect((error.sourcePort == 50238) == (length >= 4), "length \(length)")
            }
        }
    }

    /// Options area contents: (bytes after the fixed header, expected summary or nil for refused).
    static let optionAreas: [([UInt8], TCPOptionSummary?)] = [
        ([0, 0xff, 0xff, 0xff], TCPOptionSummary()),                            // EOL: the rest is ignored
        ([1, 1, 1, 1], TCPOptionSummary()),
        ([2, 4, 0x05, 0xb4], { var s = TCPOptionSummary(); s.maximumSegmentSize = 1460; return s }()),
        ([3, 3, 14, 1], { var s = TCPOptionSummary(); s.windowScale = 14; return s }()),
        ([4, 2, 1, 1], { var s = TCPOptionSummary(); s.sackPermitted = true; return s }()),
        ([0xfe, 4, 0xf9, 0x89], TCPOptionSummary()),                            // experimental, skipped
        ([2, 3, 0, 0], nil),                                                   // MSS of length 3
        ([3, 4, 1, 1], nil),                                                   // window scale of length 4
        ([5, 6, 0, 0], nil),                                                   // SACK not 2 + 8n
        ([1, 1, 1, 30], nil),                                                  // kind with no length byte
        ([30, 0, 0, 0], nil),                                                  // length 0 would loop
    ]

    @Test(arguments: optionAreas)
    func readsOptions(area: [UInt8], expected: TCPOptionSummary?) {
        var segment = Array(Self.segment[0..<20]) + area
        segment[12] = 0x60                                                     // data offset 6
        let tcp = try? TCPHeader(checking: segment.span)
        #expect(tcp?.options == expected)
        if expected == nil {
            #expect(throws: PacketError(.badTCPOptionLength, sourcePort: 50238, destinationPort: 25)) {
                try TCPHeader(checking: segment.span)
            }
        }
    }
}
