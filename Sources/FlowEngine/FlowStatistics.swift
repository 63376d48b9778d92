import SMTPInspection

/// Counters of one engine; the executable adds up the engines of several queues.
public struct FlowStatistics: Equatable, Sendable {
    // Packets and their verdicts.
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var accepted: UInt64 = 0
    public var modified: UInt64 = 0
    public var dropped: UInt64 = 0
    public var resets: UInt64 = 0
    public var held: UInt64 = 0
    public var released: UInt64 = 0
    public var heldNow = 0
    /// Not TCP/IP (accepted uninspected) and malformed (dropped).
    public var notInspected: UInt64 = 0
    public var malformed: UInt64 = 0
    // Stream handling.
    public var outOfOrder: UInt64 = 0
    public var retransmissionsRewritten: UInt64 = 0
    public var overlapConflicts: UInt64 = 0
    public var truncated: UInt64 = 0
    public var duplicatesDropped: UInt64 = 0
    public var droppedBeforeHandshake: UInt64 = 0
    public var midstream: UInt64 = 0
    /// Data of a session an RST ended, arriving late: dropped.
    public var lateAfterReset: UInt64 = 0
    // Checks and normalisations (a packet that fails a check changes no state).
    /// TCP or IPv4 header checksum wrong (where nobody had verified it): dropped.
    public var badChecksum: UInt64 = 0
    /// IP fragments of TCP that reached the queue: dropped (the rules defragment first).
    public var fragments: UInt64 = 0
    /// A packet of a session that came in on the other direction's interface: dropped.
    public var wrongInterface: UInt64 = 0
    /// URG and the urgent pointer cleared.
    public var urgentCleared: UInt64 = 0
    /// Payloads of SYNs and SYN-ACKs removed; Fast Open options turned into no-ops.
    public var synDataStripped: UInt64 = 0
    public var fastOpenRemoved: UInt64 = 0
    /// RSTs whose sequence number was not exactly the receiver's next (RFC 5961 §3): passed on
    /// (the receiver answers with a challenge ACK), the session kept.
    public var resetsIgnored: UInt64 = 0
    /// SYNs on an established session (passed on for the server's challenge ACK; RFC 5961 §4).
    public var synOnEstablished: UInt64 = 0
    /// SYNs or SYN-ACKs with another initial sequence number than the session's, or from the
    /// wrong side: dropped.
    public var synRefused: UInt64 = 0
    /// Segments without ACK, or acknowledging bytes that never went through us: dropped.
    public var ackRefused: UInt64 = 0
    /// Segments carrying bytes before what the engine keeps (already acknowledged, or before the
    /// stream began): their payload removed, since nothing can vouch for those bytes.
    public var unvouchedRemoved: UInt64 = 0
    /// Segments too far beyond the stream to be in any receive window: dropped.
    public var outOfWindow: UInt64 = 0
    /// Segments with bytes after their sender's FIN (no TCP reads them): those bytes dropped.
    public var dataAfterFIN: UInt64 = 0
    /// Alerts a session could not print because it had used its share (summarised).
    public var alertsSuppressed: UInt64 = 0
    /// TLS sessions that left the queue once both sides had switched, and those still
    /// remembered (their stray packets pass; they leave after their rule's idle time).
    public var bypassed: UInt64 = 0
    public var bypassedNow = 0
    /// Sessions that left the queue and were taken back by a SYN on their ports, then left it
    /// again because their server answered that SYN as an established connection (it was no
    /// new connection: forged, or a stale retry).
    public var bypassResumed: UInt64 = 0
    // Bounds that said no (docs/design.md invariant 7).
    public var tableFull: UInt64 = 0
    public var holdRefused: UInt64 = 0
    public var holdExpired: UInt64 = 0
    public var retainRefused: UInt64 = 0
    /// Half-open protection: sessions deleted, SYNs to a blocked host dropped.
    public var halfOpenDeleted: UInt64 = 0
    public var blockedConnections: UInt64 = 0
    // Sessions.
    public var sessionsCreated: UInt64 = 0
    public var teardowns: UInt64 = 0
    public var established = 0
    public var halfOpen = 0
    public var closing = 0
    public var maxEstablished = 0
    public var maxHalfOpen = 0
    public var maxClosing = 0
    public var lastSessionCreated: Moment?
    // SMTP.
    public var smtp = SMTPCounters()
    public var smtpEvents: UInt64 = 0

    public init() {}

    mutating func count(_ verdict: PacketVerdict) {
        switch verdict {
        case .accept, .acceptBypassing: accepted += 1
        case .acceptModified: modified += 1
        case .drop: dropped += 1
        case .reset: resets += 1
        case .hold: break
        }
        noteMaxima()
    }

    mutating func sessionCreated(at now: Moment) {
        sessionsCreated += 1
        lastSessionCreated = now
    }

    mutating func noteMaxima() {
        maxEstablished = max(maxEstablished, established)
        maxHalfOpen = max(maxHalfOpen, halfOpen)
        maxClosing = max(maxClosing, closing)
    }

    /// Adds another engine's counters (several queues); maxima add up as an upper bound.
    public static func += (lhs: inout FlowStatistics, rhs: FlowStatistics) {
        lhs.packets += rhs.packets; lhs.bytes += rhs.bytes
        lhs.accepted += rhs.accepted; lhs.modified += rhs.modified; lhs.dropped += rhs.dropped
        lhs.resets += rhs.resets; lhs.held += rhs.held; lhs.released += rhs.released; lhs.heldNow += rhs.heldNow
        lhs.notInspected += rhs.notInspected; lhs.malformed += rhs.malformed
        lhs.outOfOrder += rhs.outOfOrder; lhs.retransmissionsRewritten += rhs.retransmissionsRewritten
        lhs.overlapConflicts += rhs.overlapConflicts; lhs.truncated += rhs.truncated
        lhs.duplicatesDropped += rhs.duplicatesDropped; lhs.droppedBeforeHandshake += rhs.droppedBeforeHandshake
        lhs.midstream += rhs.midstream; lhs.lateAfterReset += rhs.lateAfterReset; lhs.tableFull += rhs.tableFull; lhs.holdRefused += rhs.holdRefused
        lhs.holdExpired += rhs.holdExpired; lhs.retainRefused += rhs.retainRefused
        lhs.halfOpenDeleted += rhs.halfOpenDeleted; lhs.blockedConnections += rhs.blockedConnections
        lhs.badChecksum += rhs.badChecksum; lhs.fragments += rhs.fragments; lhs.wrongInterface += rhs.wrongInterface
        lhs.urgentCleared += rhs.urgentCleared; lhs.synDataStripped += rhs.synDataStripped
        lhs.fastOpenRemoved += rhs.fastOpenRemoved; lhs.resetsIgnored += rhs.resetsIgnored
        lhs.synOnEstablished += rhs.synOnEstablished; lhs.synRefused += rhs.synRefused; lhs.ackRefused += rhs.ackRefused
        lhs.unvouchedRemoved += rhs.unvouchedRemoved; lhs.outOfWindow += rhs.outOfWindow
        lhs.dataAfterFIN += rhs.dataAfterFIN
        lhs.alertsSuppressed += rhs.alertsSuppressed
        lhs.bypassed += rhs.bypassed; lhs.bypassedNow += rhs.bypassedNow; lhs.bypassResumed += rhs.bypassResumed
        lhs.sessionsCreated += rhs.sessionsCreated; lhs.teardowns += rhs.teardowns
        lhs.established += rhs.established; lhs.halfOpen += rhs.halfOpen; lhs.closing += rhs.closing
        lhs.maxEstablished += rhs.maxEstablished; lhs.maxHalfOpen += rhs.maxHalfOpen; lhs.maxClosing += rhs.maxClosing
        if let r = rhs.lastSessionCreated, lhs.lastSessionCreated.map({ $0 < r }) ?? true { lhs.lastSessionCreated = r }
        lhs.smtp += rhs.smtp; lhs.smtpEvents += rhs.smtpEvents
    }
}
