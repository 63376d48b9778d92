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
    // Bounds that said no (DESIGN.md invariant 6).
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
        case .accept: accepted += 1
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
        lhs.sessionsCreated += rhs.sessionsCreated; lhs.teardowns += rhs.teardowns
        lhs.established += rhs.established; lhs.halfOpen += rhs.halfOpen; lhs.closing += rhs.closing
        lhs.maxEstablished += rhs.maxEstablished; lhs.maxHalfOpen += rhs.maxHalfOpen; lhs.maxClosing += rhs.maxClosing
        if let r = rhs.lastSessionCreated, lhs.lastSessionCreated.map({ $0 < r }) ?? true { lhs.lastSessionCreated = r }
        lhs.smtp += rhs.smtp; lhs.smtpEvents += rhs.smtpEvents
    }
}
