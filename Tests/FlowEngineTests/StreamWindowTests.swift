@testable import FlowEngine
import PacketWire
import Testing

/// The ring buffer against a plain array (smoltcp-style model test): random appends of random
/// sizes and random acknowledgements, so that the ring wraps and grows many times.
@Suite("StreamWindow")
struct StreamWindowTests {
    @Test("Random appends and acknowledgements read back exactly as a plain array would")
    func againstModel() {
        var rng: UInt64 = 0x5EED
        func next(_ n: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(n))
        }
        let isn = SequenceNumber(4_294_960_000)  // wraps the sequence space too
        var window = StreamWindow(start: isn)
        var model: [UInt8] = []
        var modelStart = isn
        var produced = 0
        var wraps = 0
        for _ in 0..<5000 {
            if next(3) > 0 {
                let n = next(3000)
                let bytes = (0..<n).map { UInt8(truncatingIfNeeded: produced + $0) }
                produced += n
                let before = window.capacity
                let appended = window.append(bytes.span, limit: 1 << 20)
                #expect(appended)
                if window.capacity == before && n > 0 { wraps += 1 }
                model += bytes
            } else if !model.isEmpty {
                let n = next(model.count + 1)
                window.acknowledge(modelStart + n)
                model.removeFirst(n)
                modelStart = modelStart + n
            }
            #expect(window.count == model.count)
            #expect(window.start == modelStart)
            for _ in 0..<4 where !model.isEmpty {
                let k = next(model.count)
                #expect(window.byte(at: modelStart + k) == model[k])
            }
        }
        #expect(window.byte(at: modelStart + model.count) == nil)
        #expect(wraps > 100, "the ring must have been exercised")
    }

    @Test("An acknowledgement beyond the window empties it without moving past its end")
    func ackBeyond() {
        var window = StreamWindow(start: SequenceNumber(100))
        _ = window.append([1, 2, 3].span, limit: 10)
        window.acknowledge(SequenceNumber(1000))
        #expect(window.count == 0)
        #expect(window.start == SequenceNumber(103))
    }
}
