import PacketWire
import SMTPInspection

/// One session as `show ip inspect sessions` reports it.
public struct SessionSnapshot: Sendable {
    public var id: UInt32
    public var initiator: Endpoint
    public var responder: Endpoint
    public var protocolName: String
    public var ruleName: String
    public var state: SessionState
    public var created: Moment
    public var lastHeard: Moment
    public var initiatorBytes: UInt64
    public var responderBytes: UInt64
    public var smtpMode: String
    public var pendingReplies: Int
    public var heldPackets: Int
}

extension FlowEngine {
    /// The sessions in the table, oldest first.
    public func sessions() -> [SessionSnapshot] {
        flows.map { f in
            SessionSnapshot(id: f.id, initiator: f.initiator, responder: f.responder, protocolName: f.rule.protocolName,
                            ruleName: f.rule.name, state: f.state, created: f.created, lastHeard: f.lastHeard,
                            initiatorBytes: f.initiatorStream.bytes, responderBytes: f.responderStream.bytes,
                            smtpMode: f.smtp.modeDescription, pendingReplies: f.smtp.pendingReplyCount,
                            heldPackets: f.held.count)
        }
        .sorted { $0.created < $1.created }
    }
}

extension FlowEngine {
    /// Bytes of retention buffers held by all sessions (for tests and the benchmark).
    public var retentionBufferBytes: Int {
        flows.reduce(0) { $0 + $1.initiatorStream.window.bufferBytes + $1.responderStream.window.bufferBytes }
    }
}
