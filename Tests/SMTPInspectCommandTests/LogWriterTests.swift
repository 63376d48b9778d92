import Dispatch
import Foundation
import Synchronization
import Testing

@testable import FlowEngine
import PacketWire
@testable import smtp_inspect

/// Lines written by a test sink, and a switch that makes the sink stop (as a stopped reader of
/// stderr makes write(2) block) until released.
final class Output: Sendable {
    let lines = Mutex<[String]>([])
    let calls = Atomic<Int>(0)
    let stuck = Atomic<Bool>(false)
    let entered = DispatchSemaphore(value: 0)
    let gate = DispatchSemaphore(value: 0)
    let fail = Atomic<Bool>(false)

    var sink: @Sendable ([UInt8]) -> Bool {
        { bytes in
            self.calls.add(1, ordering: .relaxed)
            if self.stuck.load(ordering: .acquiring) {
                self.entered.signal()
                self.gate.wait()
            }
            let text = String(decoding: bytes, as: UTF8.self)
            self.lines.withLock { $0 += text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
            return !self.fail.load(ordering: .relaxed)
        }
    }

    var written: [String] { lines.withLock { $0 } }
}

let renderLines: @Sendable ([String]) -> [UInt8] = { Array($0.map { $0 + "\n" }.joined().utf8) }

@Suite("LogWriter and BoundedQueue: lines handed over without waiting, written in order")
struct LogWriterTests {
    @Test("BoundedQueue: first in, first out; a push onto a full queue is refused and changes nothing")
    func boundedQueue() {
        var q = BoundedQueue<Int>(capacity: 3)
        let pushed = [1, 2, 3, 4].map { q.push($0) }
        #expect(pushed == [true, true, true, false])
        #expect(q.isFull && q.count == 3)
        var taken = q.takeAll()
        #expect(taken == [1, 2, 3])
        #expect(q.isEmpty)
        let second = [10, 11].map { q.push($0) }
        taken = q.takeAll()
        #expect(second == [true, true] && taken == [10, 11])
        let third = [20, 21, 22, 23].map { q.push($0) }
        taken = q.takeAll()
        #expect(third == [true, true, true, false] && taken == [20, 21, 22])
    }

    @Test("Output stuck (a stopped reader): submit never waits; the overflow is dropped and counted; the rest comes out in order")
    func stuckOutput() {
        let out = Output()
        out.stuck.store(true, ordering: .releasing)
        let writer = LogWriter<String>(capacity: 4, whenFull: .drop, render: renderLines, sink: out.sink)
        writer.submit("first")
        out.entered.wait()  // the writer holds "first" and is stuck in write
        out.stuck.store(false, ordering: .releasing)
        // Were submit to wait for the writer, this loop would never end.
        var accepted = 0
        for k in 0..<10 where writer.submit("line \(k)") { accepted += 1 }
        #expect(accepted == 4)
        #expect(writer.lost == .init(dropped: 6, failed: 0))
        #expect(!writer.drain(timeout: 0.05))  // still stuck: drain gives up
        out.gate.signal()
        #expect(writer.drain(timeout: nil))
        #expect(out.written == ["first", "line 0", "line 1", "line 2", "line 3"])
    }

    @Test("`.wait` (replay): a full queue makes the caller wait; nothing is lost and the order is kept")
    func waitWhenFull() {
        let out = Output()
        let writer = LogWriter<String>(capacity: 2, whenFull: .wait, render: renderLines, sink: out.sink)
        for k in 0..<500 { writer.submit("\(k)") }
        #expect(writer.drain(timeout: nil))
        #expect(out.written == (0..<500).map(String.init))
        #expect(writer.lost == .init())
    }

    @Test("A failing write (EPIPE) counts its lines as failed")
    func failingSink() {
        let out = Output()
        out.fail.store(true, ordering: .relaxed)
        let writer = LogWriter<String>(capacity: 8, whenFull: .drop, render: renderLines, sink: out.sink)
        writer.submit("a")
        writer.drain(timeout: nil)
        #expect(writer.lost.failed == 1)
    }

    static func drop(_ reason: String, at seconds: UInt64) -> FlowEvent {
        FlowEvent(time: Moment(nanoseconds: seconds * 1_000_000_000 + 123_000_000),
                  initiator: Endpoint(.v4(IPv4Address(172, 22, 1, 50)), 40000),
                  responder: Endpoint(.v4(IPv4Address(10, 10, 10, 2)), 25),
                  kind: .dropPacket(reason: reason), alertOn: true, auditOn: false)
    }

    @Test("AlertLog in replay: 50 alerts in one second print 20 and a summary stamped with the window's end, in order")
    func alertLogReplay() {
        let out = Output()
        let log = AlertLog(timestamps: .datetime(msec: true, localtime: false, showTimezone: false, year: false),
                           deterministic: true, sink: out.sink)
        let base: UInt64 = 1_700_000_000  // 2023-11-14 22:13:20 UTC
        for k in 0..<50 {
            let e = Self.drop("test \(k)", at: base)
            log.report(e, at: Replay.date(e.time), moment: e.time.nanoseconds)
        }
        let later = Self.drop("later", at: base + 5)
        log.report(later, at: Replay.date(later.time), moment: later.time.nanoseconds)
        log.plain("summary")
        log.finish(timeout: nil)
        let lines = out.written
        #expect(lines.count == 20 + 1 + 1 + 1)
        #expect(lines.first == "*Nov 14 22:13:20.123: %FW-6-DROP_PKT: Dropping tcp pkt 172.22.1.50:40000 => 10.10.10.2:25 due to test 0")
        #expect(lines[19].hasSuffix("due to test 19"))
        #expect(lines[20] == "*Nov 14 22:13:21.123: %FW-4-ALERT_SUPPRESSED: 30 DROP_PKT messages suppressed in the last 1 s")
        #expect(lines[21].hasSuffix("due to later"))
        #expect(lines[22] == "summary")
        #expect(log.counters == .init(suppressed: 30, dropped: 0, failed: 0))
    }

    @Test("AlertLog live: events of a rule with alerts off are neither printed nor counted")
    func alertsOff() {
        let out = Output()
        let log = AlertLog(timestamps: .none, sink: out.sink)
        var e = Self.drop("quiet", at: 1)
        e.alertOn = false
        for _ in 0..<100 { log.report(e) }
        log.note("done")
        log.finish(timeout: nil)
        #expect(out.written == ["smtp-inspect: done"])
        #expect(log.counters == .init())
    }
}
