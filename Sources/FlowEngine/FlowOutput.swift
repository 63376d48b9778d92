import PacketWire
import SMTPInspection

/// A point in time, in nanoseconds of a monotonic clock. The engine never reads a clock: the
/// caller passes the time of each packet and each tick, so tests and pcap replay control it.
public struct Moment: Comparable, Hashable, Sendable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public static func seconds(_ s: Double) -> Moment { Moment(nanoseconds: UInt64(s * 1e9)) }

    public static func < (lhs: Moment, rhs: Moment) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    public static func + (lhs: Moment, seconds: Double) -> Moment {
        Moment(nanoseconds: lhs.nanoseconds &+ UInt64(seconds * 1e9))
    }

    /// Seconds from `earlier` to `self` (0 when `earlier` is later).
    public func seconds(since earlier: Moment) -> Double {
        nanoseconds > earlier.nanoseconds ? Double(nanoseconds - earlier.nanoseconds) / 1e9 : 0
    }
}

/// Whether a packet's checksums were checked before it reached the engine.
public enum ChecksumStatus: Sendable, Equatable {
    /// The kernel (or the NIC) verified them (no `NFQA_SKB_CSUM_NOTVERIFIED`).
    case verified
    /// Nobody did: the engine verifies them before the packet may touch any state.
    case unverified
    /// The kernel queued the packet before finishing its TCP checksum (`CSUMNOTREADY`: built
    /// on this host, the checksum field holds only the pseudo-header sum). Nothing to verify;
    /// an edited packet gets a full checksum.
    case notReady
}

/// The interfaces a packet came in on and goes out through (kernel interface indexes; nil for
/// none: a locally generated packet has no input interface).
public struct PacketInterfaces: Hashable, Sendable {
    public var input: UInt32?
    public var output: UInt32?

    public init(input: UInt32?, output: UInt32?) {
        self.input = input
        self.output = output
    }
}

/// What the caller knows about a packet besides its bytes.
public struct PacketMetadata: Sendable {
    /// The caller's handle for the packet (the NFQUEUE packet id), returned in
    /// `FlowOutput.releases` if the packet is held.
    public var token: UInt64
    /// The inspection rule for a session this packet would start.
    public var rule: InspectionRuleBinding
    public var checksum: ChecksumStatus
    /// Nil when the caller cannot know them (a capture replay): sessions are then not bound to
    /// interfaces.
    public var interfaces: PacketInterfaces?

    public init(token: UInt64, rule: InspectionRuleBinding, checksum: ChecksumStatus = .unverified,
                interfaces: PacketInterfaces? = nil) {
        self.token = token
        self.rule = rule
        self.checksum = checksum
        self.interfaces = interfaces
    }
}

/// What to do with a packet.
public enum PacketVerdict: Equatable, Sendable {
    /// Let it through unchanged.
    case accept
    /// Let it through as edited in place: the first `length` bytes (same length, or shorter
    /// when the payload was cut at a hold point; the sender retransmits the rest).
    case acceptModified(length: Int)
    /// Drop it (TCP retransmits).
    case drop
    /// Drop it: the session is torn down; the caller sends RSTs to both of its ends (built from
    /// this packet, `ResetPackets` in the executable).
    case reset
    /// The engine kept a copy and will give a verdict later, in `FlowOutput.releases`.
    case hold
    /// Let it through unchanged, and let the session's later packets bypass the queue: both
    /// sides switched to TLS (FlowEngineConfiguration.bypassTLS). The caller marks the
    /// connection (the executable: the packet mark the generated rules save to the connection
    /// and accept before their NFQUEUE rule); the engine has forgotten the session's state.
    case acceptBypassing
}

/// A held packet's verdict, given later. `bytes` is the engine's copy: for `acceptModified`
/// send `bytes[0..<length]` as the packet's replacement.
public struct HeldRelease: Sendable {
    public var token: UInt64
    public var verdict: ReleaseVerdict
    public var bytes: [UInt8]
}

/// What becomes of a held packet: a packet verdict but `hold` (a release is the end of holding).
public enum ReleaseVerdict: Equatable, Sendable {
    case accept
    case acceptModified(length: Int)
    case drop
    case reset

    /// As a packet verdict, for whoever applies both kinds the same way.
    public var packetVerdict: PacketVerdict {
        switch self {
        case .accept: .accept
        case let .acceptModified(length): .acceptModified(length: length)
        case .drop: .drop
        case .reset: .reset
        }
    }
}

/// Something the engine reports; the executable prints it as an IOS `%FW-…` message.
public struct FlowEvent: Sendable {
    public enum Kind: Sendable {
        /// An SMTP finding (`%FW-4-SMTP_…`).
        case smtp(SMTPEvent)
        /// `%FW-6-DROP_PKT: Dropping tcp pkt … due to <reason>`.
        case dropPacket(reason: String)
        /// `%FW-6-SESS_AUDIT_TRAIL_START`.
        case sessionStart
        /// `%FW-6-SESS_AUDIT_TRAIL` with the payload bytes each side sent.
        case sessionStop(initiatorBytes: UInt64, responderBytes: UInt64)
        /// A retransmission (or an overlapping segment) carried bytes different from the first
        /// copy; rewritten to the first. `fromResponder`: the rewritten bytes came from the
        /// responder (else from the initiator).
        case overlapRewritten(bytes: Int, fromResponder: Bool)
        /// A session's alerts beyond its share were not printed (FlowEngine.alertBurst).
        case alertsSuppressed(count: Int)
        /// `%FW-4-ALERT_ON` / `%FW-4-ALERT_OFF`: half-open protection turned aggressive / calm.
        case aggressiveOn(count: Int, high: Int, rate: Int)
        case aggressiveOff(count: Int, low: Int, rate: Int)
        /// `%FW-4-HOST_TCP_ALERT_ON`, `%FW-2-BLOCK_HOST`, `%FW-4-UNBLOCK_HOST`.
        case hostHalfOpenExceeded(host: IPAddress, max: Int)
        case blockHost(host: IPAddress, minutes: Int, max: Int)
        case unblockHost(host: IPAddress)
    }

    public var time: Moment
    /// The packet's (or session's) addresses: initiator and responder when known.
    public var initiator: Endpoint
    public var responder: Endpoint
    public var kind: Kind
    /// Whether the inspection rule asked for alerts / audit trail (the printer filters on them).
    public var alertOn: Bool
    public var auditOn: Bool
}

/// One `debug ip inspect smtp` line, with the session it belongs to.
public struct FlowTrace: Sendable {
    public var time: Moment
    public var record: SMTPTraceRecord
}

/// Where the engine's findings go. The caller owns one, reads it after each call, then empties
/// it with `removeAll()` (capacity is kept, so steady state allocates nothing).
public struct FlowOutput: Sendable {
    public var releases: [HeldRelease] = []
    public var events: [FlowEvent] = []
    public var trace: [FlowTrace] = []
    /// RSTs to send (deleted half-open sessions).
    public var resets: [ResetRequest] = []

    public init() {
        releases.reserveCapacity(16)
        events.reserveCapacity(16)
    }

    /// Nothing to read (the usual case after a packet: the caller can skip its output pass).
    public var isEmpty: Bool { releases.isEmpty && events.isEmpty && trace.isEmpty && resets.isEmpty }

    public mutating func removeAll() {
        releases.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
        trace.removeAll(keepingCapacity: true)
        resets.removeAll(keepingCapacity: true)
    }
}
