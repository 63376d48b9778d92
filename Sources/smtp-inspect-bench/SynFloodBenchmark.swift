import FlowEngine
import PacketWire
import SMTPInspection

/// The cost of a SYN while half-open protection deletes a session for each new one, by the size
/// of the session table: the table is filled with half-open sessions up to max-incomplete high,
/// then each further SYN makes the engine find and delete the oldest (IOS's aggressive mode).
enum SynFloodBenchmark {
    struct Result {
        var sessions: Int
        var syns: Int
        var seconds: Double
        var microsecondsPerSYN: Double { seconds * 1e6 / Double(syns) }
    }

    static func run(sessions: Int, syns: Int) -> Result {
        var config = FlowEngineConfiguration()
        config.maxSessions = sessions + syns + 10
        config.halfOpen.maxIncompleteHigh = sessions
        config.halfOpen.maxIncompleteLow = sessions / 2
        config.halfOpen.oneMinuteHigh = Int.max / 2
        config.halfOpen.oneMinuteLow = Int.max / 2
        config.halfOpen.perHost = Int.max / 2
        var engine = FlowEngine(configuration: config)
        let rule = InspectionRuleBinding(name: "bench", policy: SMTPPolicy(kind: .esmtp))
        let server = Endpoint(.v4(IPv4Address(10, 10, 10, 2)), 25)
        func syn(_ k: Int) -> [UInt8] {
            let client = Endpoint(.v4(IPv4Address(172, 22, UInt8(truncatingIfNeeded: k >> 16), UInt8(truncatingIfNeeded: k >> 8))),
                                  UInt16(truncatingIfNeeded: 1024 + k & 0xff))
            return TCPPacketBuilder(from: client, to: server, sequenceNumber: SequenceNumber(UInt32(truncatingIfNeeded: k)),
                                    acknowledgmentNumber: SequenceNumber(0), flags: .syn, window: 64240, payload: []).build()
        }
        var out = FlowOutput()
        var now = Moment.seconds(1)
        for k in 0..<sessions {
            var bytes = syn(k)
            var span = bytes.mutableSpan
            _ = engine.process(&span, PacketMetadata(token: UInt64(k), rule: rule, checksum: .verified), at: now, into: &out)
            out.removeAll()
        }
        precondition(engine.statistics.halfOpen == sessions, "the table did not fill")
        var flood = (0..<syns).map { syn(sessions + $0) }
        now = now + 1
        let clock = ContinuousClock()
        let start = clock.now
        for k in 0..<syns {
            var span = flood[k].mutableSpan
            _ = engine.process(&span, PacketMetadata(token: UInt64(k), rule: rule, checksum: .verified), at: now, into: &out)
            out.removeAll()
        }
        let elapsed = clock.now - start
        precondition(engine.statistics.halfOpenDeleted == UInt64(syns), "each SYN should have deleted one session")
        let (s, atto) = elapsed.components
        return Result(sessions: sessions, syns: syns, seconds: Double(s) + Double(atto) / 1e18)
    }
}
