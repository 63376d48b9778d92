import FlowEngine
import IOSConfig
import NFQueue
import PacketWire

/// Where the engine's verdicts take effect: the kernel's queue (live) or a capture file
/// (`replay`). What a verdict means for a packet is decided once, in `apply`; a sink only says
/// how a packet passes on, is dropped or held, and how an RST leaves.
protocol PacketSink {
    /// The packet goes on as `bytes` (edited by the engine when `edited`).
    mutating func pass(_ bytes: Span<UInt8>, edited: Bool, token: UInt64)
    /// The packet goes on unchanged, and its connection's later packets bypass the queue.
    mutating func passBypassing(_ bytes: Span<UInt8>, token: UInt64)
    mutating func drop(token: UInt64)
    /// The engine kept a copy; the packet's verdict comes later, as a release.
    mutating func hold(token: UInt64)
    /// An RST built here (a torn-down session's, or one the engine asked for) leaves.
    mutating func sendReset(_ packet: Span<UInt8>)
}

extension PacketSink {
    /// The one switch from a verdict to what happens to the packet: `bytes` are the packet as the
    /// engine left them.
    mutating func apply(_ verdict: PacketVerdict, to bytes: Span<UInt8>, token: UInt64) {
        switch verdict {
        case .accept:
            pass(bytes, edited: false, token: token)
        case let .acceptModified(length):
            pass(bytes.extracting(0..<length), edited: true, token: token)
        case .drop:
            drop(token: token)
        case .reset:
            // Both ends of the torn-down session learn at once that it is over.
            for rst in ResetPackets.forTornDownSession(bytes) { sendReset(rst.span) }
            drop(token: token)
        case .hold:
            hold(token: token)
        case .acceptBypassing:
            passBypassing(bytes, token: token)
        }
    }

    /// The verdicts of held packets and the RSTs the engine asked for, from one call's output.
    mutating func applyReleasesAndResets(of output: FlowOutput) {
        for release in output.releases {
            apply(release.verdict.packetVerdict, to: release.bytes.span, token: release.token)
        }
        for reset in output.resets { sendReset(ResetPackets.forRequest(reset).span) }
    }
}

/// The live sink: the packet being handled gets its verdict as the handler's answer (`action`),
/// packets released later get theirs through `NFQueue.verdict`; RSTs leave by raw socket.
struct QueueSink: PacketSink {
    let queue: NFQueue
    let resets: RawPacketSender
    /// The token of the packet the handler is answering for, if any.
    let current: UInt64?
    /// The mark `current` came with (the bypass bit is added to it, the rest kept).
    let currentMark: PacketMark?
    /// The answer for `current`.
    private(set) var action = PacketAction.drop

    init(queue: NFQueue, resets: RawPacketSender, current: UInt64?, currentMark: PacketMark? = nil) {
        self.queue = queue
        self.resets = resets
        self.current = current
        self.currentMark = currentMark
    }

    mutating func pass(_ bytes: Span<UInt8>, edited: Bool, token: UInt64) {
        if token == current {
            action = edited ? .acceptModified(length: bytes.count) : .accept
        } else {
            queue.verdict(Self.id(token), .accept, replacing: edited ? bytes : nil, mark: nil)
        }
    }

    mutating func drop(token: UInt64) {
        if token == current { action = .drop } else { queue.verdict(Self.id(token), .drop, replacing: nil, mark: nil) }
    }

    /// NF_REPEAT with the bypass mark: the hook runs again from its first rule, and the generated
    /// rules save the mark to the connection and accept it, before their NFQUEUE rule, as they
    /// accept every later packet of it (rules without them queue it again: it passes then).
    mutating func passBypassing(_ bytes: Span<UInt8>, token: UInt64) {
        precondition(token == current, "a release cannot bypass")
        // The verdict sets the whole mark: keep the bits the packet had (the operator's own rules').
        action = .repeatWithMark(PacketMark(rawValue: (currentMark?.rawValue ?? 0) | PacketMark.bypass.rawValue))
    }

    mutating func hold(token: UInt64) {
        precondition(token == current, "a release cannot hold")
        action = .deferred
    }

    mutating func sendReset(_ packet: Span<UInt8>) {
        resets.send(packet)
    }

    private static func id(_ token: UInt64) -> PacketID {
        PacketID(rawValue: UInt32(truncatingIfNeeded: token))
    }
}

extension PacketMark {
    /// The bit a verdict sets on a packet whose connection leaves the queue (a TLS session
    /// smtp-inspect no longer needs to see): the generated rules save it to the connection's mark
    /// and accept the connection's packets before their NFQUEUE rule.
    static let bypass = PacketMark(rawValue: IptablesRules.bypassMark)
}
