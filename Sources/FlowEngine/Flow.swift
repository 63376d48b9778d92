import PacketWire
import SMTPInspection

/// Which way a segment travels.
enum Direction: Equatable {
    case fromInitiator, fromResponder

    var reversed: Direction { self == .fromInitiator ? .fromResponder : .fromInitiator }
}

/// TCP session states as IOS names them in `show ip inspect sessions`.
public enum SessionState: String, Sendable {
    /// SYN seen, handshake not complete (`SIS_OPENING`).
    case opening = "SIS_OPENING"
    case open = "SIS_OPEN"
    /// Both FINs seen (`SIS_CLOSING`).
    case closing = "SIS_CLOSING"
    /// Torn down by the inspector; its packets are reset.
    case reset = "SIS_RESET"
    /// An RST ended it; kept for finwait-time so that packets still on their way (the peer's
    /// FIN, a retransmitted reply) are not taken for a session that began before inspection.
    case closed = "SIS_CLOSED"
}

/// One direction's byte stream.
struct StreamState {
    /// The sender's initial sequence number (its SYN's); nil until that SYN is seen.
    var isn: SequenceNumber?
    /// Sequence number of the next byte to inspect; nil until the sender's SYN is seen.
    var next: SequenceNumber?
    /// Released bytes not yet acknowledged.
    var window: StreamWindow
    var finSeen = false
    /// Payload bytes released in this direction.
    var bytes: UInt64 = 0

    init() {
        window = StreamWindow(start: SequenceNumber(0))
    }

    mutating func start(isn: SequenceNumber) {
        self.isn = isn
        next = isn + 1
        window.reset(to: isn + 1)
    }

    /// The sequence number the receiver expects next: after the bytes released, and after the
    /// FIN once it passed (RFC 9293 §3.4: a FIN occupies one sequence number).
    var expected: SequenceNumber? { next.map { finSeen ? $0 + 1 : $0 } }

    /// The next bytes of the stream were judged and go to the receiver: kept (with the core's
    /// masks, relative to `bytes`) until it acknowledges them. The caller checked the room.
    mutating func release(_ bytes: Span<UInt8>, masks: [ByteMask], limit: Int) {
        let base = window.count
        let kept = window.append(bytes, limit: limit)
        precondition(kept, "room was checked before inspecting")
        for mask in masks { window.noteMask((base + mask.range.lowerBound)..<(base + mask.range.upperBound)) }
        next = next.map { $0 + bytes.count }
        self.bytes += UInt64(bytes.count)
    }
}

/// Which interface each direction of a session must arrive on (issue: forged packets from the
/// wrong side). The initiator's direction is bound to the interface its SYN came in on; the
/// responder's to the interface that SYN left through (where the responder is), or, when the
/// caller does not know it (a PREROUTING queue), to the interface its SYN-ACK came in on.
/// `nil` as a bound value is a locally generated packet (no input interface).
struct InterfaceBinding {
    enum Side: Equatable {
        case unknown
        case bound(UInt32?)
    }

    var initiator: Side = .unknown
    var responder: Side = .unknown

    /// From the SYN that created the session.
    init(syn interfaces: PacketInterfaces?) {
        guard let interfaces else { return }
        initiator = .bound(interfaces.input)
        if let output = interfaces.output { responder = .bound(output) }
    }

    /// Whether a packet of `direction` that came in on `interfaces` may touch the session.
    func allows(_ direction: Direction, _ interfaces: PacketInterfaces?) -> Bool {
        guard let interfaces else { return true }  // the caller does not know (a capture replay)
        switch direction == .fromInitiator ? initiator : responder {
        case .unknown: return true
        case let .bound(input): return input == interfaces.input
        }
    }

    /// The responder's SYN-ACK binds its side when the SYN could not.
    mutating func bindResponder(_ interfaces: PacketInterfaces?) {
        guard let interfaces, responder == .unknown else { return }
        responder = .bound(interfaces.input)
    }
}

/// A packet the engine keeps until it can be judged (beyond a gap, or waiting for a reply).
struct HeldPacket {
    var token: UInt64
    var bytes: [UInt8]
    var direction: Direction
    var sequence: SequenceNumber
    var length: Int
    var checksumNotReady: Bool
    /// The copy differs from the packet the kernel queued (a normalisation, or held bytes it
    /// overlapped): it must be released as a replacement even when nothing else changes it.
    var edited: Bool
    var since: Moment
}

/// One inspected TCP connection: both directions, and the SMTP session inside.
struct Flow {
    let key: ConnectionKey
    let initiator: Endpoint
    let responder: Endpoint
    let id: UInt32
    var rule: InspectionRuleBinding
    /// Changed only by `FlowEngine.advance` (FlowEngine+Life.swift).
    var life = SessionLife.opening
    var initiatorStream = StreamState()
    var responderStream = StreamState()
    var smtp: SMTPSession
    /// Held packets, in arrival order.
    var held: [HeldPacket] = []
    var heldBytes = 0
    let created: Moment
    var lastHeard: Moment
    var binding: InterfaceBinding
    /// Alerts this session may still print now, refilled over time, and those it could not
    /// (summarised later): one session cannot flood the log (FlowEngine.collect).
    var alertTokens = FlowEngine.alertBurst
    var alertsRefilled: Moment
    var alertsSuppressed = 0

    init(key: ConnectionKey, initiator: Endpoint, responder: Endpoint, id: UInt32, rule: InspectionRuleBinding,
         binding: InterfaceBinding, at now: Moment) {
        self.key = key
        self.initiator = initiator
        self.responder = responder
        self.id = id
        self.rule = rule
        self.binding = binding
        smtp = SMTPSession(policy: rule.policy)
        created = now
        lastHeard = now
        alertsRefilled = now
    }

    /// One direction's stream, mutated in place (a getter/setter pair would copy the window's
    /// buffer on every write).
    subscript(direction: Direction) -> StreamState {
        get { direction == .fromInitiator ? initiatorStream : responderStream }
        _modify {
            if direction == .fromInitiator { yield &initiatorStream } else { yield &responderStream }
        }
    }

    /// The state `show` names.
    var state: SessionState { life.state }

    func direction(of packet: TCPPacket) -> Direction {
        packet.flowKey.source == initiator ? .fromInitiator : .fromResponder
    }
}
