import SMTPInspection

/// One `ip inspect name N smtp|esmtp …` rule as the engine uses it; shared by its sessions.
public final class InspectionRuleBinding: Sendable {
    /// The rule's name (`OUT-IN`).
    public let name: String
    public let policy: SMTPPolicy
    /// Idle timeout of the rule's sessions (`timeout`, 3600 s by default).
    public let idleTimeout: Double
    /// `alert on|off` and `audit-trail on|off` after the global defaults were applied.
    public let alert: Bool
    public let auditTrail: Bool

    public init(name: String, policy: SMTPPolicy, idleTimeout: Double = 3600, alert: Bool = true, auditTrail: Bool = false) {
        self.name = name
        self.policy = policy
        self.idleTimeout = idleTimeout
        self.alert = alert
        self.auditTrail = auditTrail
    }

    /// The protocol word IOS prints for the session (`smtp` for both kinds, as the seed does).
    public var protocolName: String { "smtp" }
}

/// What to do with a TCP/25 packet of a connection the engine has never seen open (it started
/// before smtp-inspect did, or its state timed out).
public enum MidstreamTreatment: String, Sendable, CaseIterable {
    /// Reset it: its SMTP state cannot be known, so it cannot be inspected. The client retries
    /// and its new session is inspected from the start. The default.
    case reset
    /// Drop it silently (the connection times out).
    case drop
}

/// Timeouts and bounds. Every buffer and table has one, and a counter for what it refused
/// (docs/design.md invariant 7).
public struct FlowEngineConfiguration: Sendable {
    /// The server port: a SYN to it starts a session; the side with it is the responder.
    public var smtpPort: UInt16 = 25
    /// `ip inspect tcp synwait-time`: a session must be established within this time.
    public var synWaitTimeout: Double = 30
    /// `ip inspect tcp finwait-time`: a session is kept this long after both FINs.
    public var finWaitTimeout: Double = 5
    /// How long a torn-down session is kept, so its stragglers are reset too.
    public var tornDownLinger: Double = 5
    public var maxSessions = 100_000
    /// Packets held (beyond a gap, or waiting for a reply) per session and in all.
    public var maxHeldPacketsPerSession = 32
    public var maxHeldBytesPerSession = 256 * 1024
    public var maxHeldPackets = 1024
    /// A held packet not released within this time is dropped (TCP sends it again).
    public var holdTimeout: Double = 10
    /// Released but unacknowledged bytes kept per direction to make retransmissions identical.
    public var retainLimitPerStream = 4 << 20
    public var retainLimitTotal = 256 << 20
    /// What a direction may always keep: past this, a direction may only use the first three
    /// quarters of `retainLimitTotal`; the last quarter is left to directions below it, so that
    /// sessions that keep much (bulk DATA to a slow server) cannot starve those that keep little.
    public var retainGuaranteedPerStream = 64 << 10
    public var midstream: MidstreamTreatment = .reset
    /// A session whose both sides switched to TLS after STARTTLS (allowed by its policy, and
    /// checked: SMTPSession.isTLSEstablished) leaves the queue: the verdict is
    /// `acceptBypassing`, the engine keeps only the session's key (FlowEngine+Bypass.swift).
    public var bypassTLS = false
    /// max-incomplete, one-minute and per-host thresholds (FlowEngine+HalfOpen.swift).
    public var halfOpen = HalfOpenLimits()

    public init() {}
}
