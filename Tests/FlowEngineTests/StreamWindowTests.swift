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

    @Test("Masked bytes are remembered exactly, however many masks, wraps and growths")
    func masksAgainstModel() {
        var rng: UInt64 = 0xBADC0DE
        func next(_ n: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(n))
        }
        let isn = SequenceNumber(4_294_967_000)
        var window = StreamWindow(start: isn)
        var model: [Bool] = []  // masked, per byte in the window
        var modelStart = isn
        for _ in 0..<4000 {
            switch next(4) {
            case 0, 1:
                let n = next(700)
                let before = window.count
                let bytes = [UInt8](repeating: 0x41, count: n)
                let appended = window.append(bytes.span, limit: 1 << 20)
                #expect(appended)
                model += [Bool](repeating: false, count: n)
                if n > 0 && next(2) == 0 {  // mask a piece of what was just released
                    let lower = before + next(n), upper = min(before + n, lower + 1 + next(40))
                    window.noteMask(lower..<upper)
                    for k in lower..<upper { model[k] = true }
                }
            default:
                let n = next(model.count + 1)
                window.acknowledge(modelStart + n)
                model.removeFirst(n)
                modelStart = modelStart + n
            }
            for _ in 0..<8 where !model.isEmpty {
                let k = next(model.count)
                #expect(window.wasMasked(modelStart + k) == model[k])
            }
        }
        #expect(!window.wasMasked(modelStart + model.count))  // past the end
    }
}
