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

    /// Forgets the bytes kept for retransmissions and frees their buffer (the session will pass
    /// no data again); returns how many there were.
    mutating func forgetKept() -> Int {
        let count = window.count
        window.reset(to: window.start)
        window.releaseStorageIfEmpty()
        return count
    }

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

/// A session's held packets, in arrival order, and their bytes (bounded per session by
/// FlowEngineConfiguration; the engine counts them across sessions).
struct HeldPackets {
    private(set) var packets: [HeldPacket] = []
    private(set) var bytes = 0

    var isEmpty: Bool { packets.isEmpty }
    var count: Int { packets.count }

    mutating func append(_ packet: HeldPacket) {
        packets.append(packet)
        bytes += packet.bytes.count
    }

    /// Whether a packet of `direction` with this sequence number and length is held already.
    func contains(_ direction: Direction, sequence: SequenceNumber, length: Int) -> Bool {
        packets.contains { $0.direction == direction && $0.sequence == sequence && $0.length == length }
    }

    /// Removes and returns the held packet of `direction` whose turn came (it starts at or before
    /// `next`): the lowest sequence number, the first held among equals.
    mutating func takeNext(_ direction: Direction, next: SequenceNumber) -> HeldPacket? {
        var best: Int?
        for (k, h) in packets.enumerated() where h.direction == direction && next.distance(to: h.sequence) <= 0 {
            if let b = best, packets[b].sequence.distance(to: h.sequence) >= 0 { continue }
            best = k
        }
        guard let best else { return nil }
        return take(best)
    }

    /// Removes and returns the packets held longer than `timeout` seconds at `now`.
    mutating func takeExpired(at now: Moment, timeout: Double) -> [HeldPacket] {
        var expired: [HeldPacket] = []
        var k = 0
        while k < packets.count {
            if now.seconds(since: packets[k].since) > timeout { expired.append(take(k)) } else { k += 1 }
        }
        return expired
    }

    /// Removes and returns every held packet.
    mutating func takeAll() -> [HeldPacket] {
        defer { (packets, bytes) = ([], 0) }
        return packets
    }

    mutating func releaseStorageIfEmpty() {
        if packets.isEmpty && packets.capacity > 0 { packets = [] }
    }

    private mutating func take(_ k: Int) -> HeldPacket {
        let packet = packets.remove(at: k)
        bytes -= packet.bytes.count
        return packet
    }
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
    var held = HeldPackets()
    let created: Moment
    var lastHeard: Moment
    var binding: InterfaceBinding
    /// Its share of alerts: one session cannot flood the log (FlowEngine.emit).
    var alerts: AlertBudget

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
        alerts = AlertBudget(at: now)
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

    /// `ack`, from `direction`: the other direction's bytes before it need not be kept any more.
    /// Returns how many kept bytes that frees.
    mutating func acknowledge(_ ack: SequenceNumber, from direction: Direction) -> Int {
        let before = self[direction.reversed].window.count
        self[direction.reversed].window.acknowledge(ack)
        return before - self[direction.reversed].window.count
    }

    /// A passed packet carried a FIN: it counts only where the stream has reached it (RFC 9293
    /// §3.10.7.4: a FIN is processed in sequence; one beyond what was released, after a gap or
    /// forged, would make the engine think a side finished that has not). Returns whether both
    /// sides have now finished.
    mutating func finish(_ packet: TCPPacket, from direction: Direction) -> Bool {
        guard self[direction].next == packet.sequenceNumber + packet.payloadLength else { return false }
        self[direction].finSeen = true
        return initiatorStream.finSeen && responderStream.finSeen
    }

    /// A quiet session gives back the memory of its empty buffers.
    mutating func releaseIdleStorage() {
        initiatorStream.window.releaseStorageIfEmpty()
        responderStream.window.releaseStorageIfEmpty()
        held.releaseStorageIfEmpty()
    }
}

/// The alerts a session may still print now, refilled over time, and those it could not
/// (summarised later): a token bucket of `FlowEngine.alertBurst`, one token a
/// `FlowEngine.alertRefillSeconds`.
struct AlertBudget {
    private var tokens = FlowEngine.alertBurst
    private var refilled: Moment
    /// Alerts not printed since the last summary.
    var suppressed = 0

    init(at now: Moment) { refilled = now }

    /// Whether an alert may be printed now (it takes a token); if not, it is counted as suppressed.
    mutating func take(at now: Moment) -> Bool {
        if tokens < FlowEngine.alertBurst {
            let earned = Int(now.seconds(since: refilled) / FlowEngine.alertRefillSeconds)
            if earned > 0 {
                tokens = min(FlowEngine.alertBurst, tokens + earned)
                refilled = tokens == FlowEngine.alertBurst ? now : refilled + Double(earned) * FlowEngine.alertRefillSeconds
            }
        } else {
            refilled = now
        }
        guard tokens > 0 else {
            suppressed += 1
            return false
        }
        tokens -= 1
        return true
    }
}
