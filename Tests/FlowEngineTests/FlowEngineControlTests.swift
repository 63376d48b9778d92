import FlowEngine
import PacketWire
import SMTPInspection
import Testing

@Suite("FlowEngine: control (clear, reload)")
struct FlowEngineControlTests {
    @Test("clear ip inspect statistics zeroes counters but keeps the present session counts")
    func clear() {
        var net = Network()
        net.open()
        net.client("EXPN a\r\n")
        #expect(net.engine.statistics.packets > 0 && net.engine.statistics.smtp.commandsMasked == 1)
        net.engine.clearStatistics()
        #expect(net.engine.statistics.packets == 0)
        #expect(net.engine.statistics.smtp.commandsMasked == 0)
        #expect(net.engine.statistics.established == 1)
        net.client("NOOP\r\n")
        #expect(net.engine.statistics.smtp.commands == 1)
    }

    @Test("A reloaded rule's max-data applies to the next message of an open session")
    func reloadMaxData() {
        var net = Network(rule: InspectionRuleBinding(name: "OUT-IN", policy: SMTPPolicy(kind: .esmtp, maxData: 1000)))
        net.open()
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        net.client(String(repeating: "x", count: 300) + "\r\n.\r\n")
        net.server("250 queued\r\n")
        // Reload: max-data 100 for the same rule name.
        net.engine.adopt([InspectionRuleBinding(name: "OUT-IN", policy: SMTPPolicy(kind: .esmtp, maxData: 100))])
        net.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
        net.server("250 Ok\r\n250 Ok\r\n354 go\r\n")
        net.client(String(repeating: "y", count: 50) + "\r\n.\r\n")
        #expect(net.eventNames().contains("max-data-exceeded"))
        #expect(net.verdicts.last == .reset)
    }
}
