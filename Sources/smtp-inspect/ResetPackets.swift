import FlowEngine
import PacketWire

/// The RSTs the daemon sends (and replay writes), built in one place.
enum ResetPackets {
    /// Both ends of a torn-down session, from one of its packets: an RST to the packet's sender
    /// and one to its receiver. Live, they pass our queue on their way out (the engine lets
    /// resets through) and conntrack gives them the session's NAT. Empty if it does not parse.
    static func forTornDownSession(_ bytes: Span<UInt8>) -> [[UInt8]] {
        guard let packet = try? TCPPacket(checking: bytes) else { return [] }
        return [ResetDirection.toSender, .toReceiver(segmentDelivered: false)].map {
            TCPPacketBuilder.reset(for: packet, direction: $0).build()
        }
    }

    /// The RST the engine asked for (a deleted half-open session, at its server).
    static func forRequest(_ reset: ResetRequest) -> [UInt8] {
        var builder = TCPPacketBuilder(from: reset.from, to: reset.to, sequenceNumber: reset.sequence, flags: .rst)
        builder.window = 0
        return builder.build()
    }
}

extension Moment {
    /// The time of `instant` on the engine's clock, which starts at `origin`.
    init(_ instant: ContinuousClock.Instant, since origin: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (instant - origin).components
        self.init(nanoseconds: UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000)
    }
}

extension InspectionSetup {
    /// `OUT-IN (smtp, max-data 20000000), …`, as the daemon's start and reload lines say it.
    var rulesSummary: String {
        rules.map { "\($0.name) (\($0.policy.kind.rawValue), max-data \($0.policy.maxData))" }.joined(separator: ", ")
    }
}
