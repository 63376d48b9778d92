import IOSConfig
import NFQueue
import Testing

@testable import smtp_inspect

@Suite("Packet and connection marks: one bit each, the daemon's and the rules' the same")
struct PacketMarkTests {
    @Test("The daemon sets the bits the generated rules match")
    func sameBits() {
        #expect(PacketMark.bypass.rawValue == IptablesRules.bypassMark)
        #expect(PacketMark.ownPacket.rawValue == IptablesRules.ownPacketMark)
    }

    @Test("Every mark is a single bit, and no two share one")
    func disjoint() {
        let marks = [IptablesRules.inspectedMark, IptablesRules.smtpMark, IptablesRules.reflexiveMark,
                     IptablesRules.bypassMark, IptablesRules.ownPacketMark]
        for mark in marks { #expect(mark.nonzeroBitCount == 1, "\(mark)") }
        #expect(marks.reduce(0, |).nonzeroBitCount == marks.count)
    }
}
