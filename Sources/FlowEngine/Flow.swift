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
        next = isn + 1
        window.reset(to: isn + 1)
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
    var since: Moment
}

/// One inspected TCP connection: both directions, and the SMTP session inside.
struct Flow {
    let key: ConnectionKey
    let initiator: Endpoint
    let responder: Endpoint
    let id: UInt32
    var rule: InspectionRuleBinding
    var state: SessionState = .opening
    var initiatorStream = StreamState()
    var responderStream = StreamState()
    var smtp: SMTPSession
    /// Held packets, in arrival order.
    var held: [HeldPacket] = []
    var heldBytes = 0
    let created: Moment
    var lastHeard: Moment
    /// When the session leaves the table (closing and reset states).
    var deadline: Moment?
    /// The audit trail's start was reported (the session got established).
    var auditStarted = false

    init(key: ConnectionKey, initiator: Endpoint, responder: Endpoint, id: UInt32, rule: InspectionRuleBinding, at now: Moment) {
        self.key = key
        self.initiator = initiator
        self.responder = responder
        self.id = id
        self.rule = rule
        smtp = SMTPSession(policy: rule.policy)
        created = now
        lastHeard = now
    }

    /// One direction's stream, mutated in place (a getter/setter pair would copy the window's
    /// buffer on every write).
    subscript(direction: Direction) -> StreamState {
        get { direction == .fromInitiator ? initiatorStream : responderStream }
        _modify {
            if direction == .fromInitiator { yield &initiatorStream } else { yield &responderStream }
        }
    }

    func direction(of packet: TCPPacket) -> Direction {
        packet.flowKey.source == initiator ? .fromInitiator : .fromResponder
    }
}
