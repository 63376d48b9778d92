/// The global `ip inspect …` settings, each with IOS's default as `show ip inspect all` prints it.
public struct InspectGlobals: Hashable, Sendable {
    /// `ip inspect audit-trail` (default off).
    public var auditTrail: Configured<Bool> = .byDefault(false)
    /// `ip inspect alert-off` turns this off (default on).
    public var alert: Configured<Bool> = .byDefault(true)
    /// `ip inspect max-incomplete low|high`: half-open sessions that end / start aggressive mode.
    public var maxIncompleteLow: Configured<UInt32> = .byDefault(400)
    public var maxIncompleteHigh: Configured<UInt32> = .byDefault(500)
    /// `ip inspect one-minute low|high`: new sessions per minute that end / start aggressive mode.
    public var oneMinuteLow: Configured<UInt32> = .byDefault(400)
    public var oneMinuteHigh: Configured<UInt32> = .byDefault(500)
    /// `ip inspect tcp synwait-time` seconds.
    public var tcpSynwaitTime: Configured<UInt32> = .byDefault(30)
    /// `ip inspect tcp finwait-time` seconds.
    public var tcpFinwaitTime: Configured<UInt32> = .byDefault(5)
    /// `ip inspect tcp idle-time` seconds: also the default timeout of tcp-based protocols.
    public var tcpIdleTime: Configured<UInt32> = .byDefault(3600)
    /// `ip inspect udp idle-time` seconds: also the default timeout of `udp`.
    public var udpIdleTime: Configured<UInt32> = .byDefault(30)
    /// `ip inspect dns-timeout` seconds.
    public var dnsTimeout: Configured<UInt32> = .byDefault(5)
    /// `ip inspect tcp max-incomplete host N`: half-open sessions per destination host.
    public var tcpMaxIncompletePerHost: Configured<UInt32> = .byDefault(50)
    /// `… block-time M` minutes (0: delete the oldest half-open session instead of blocking).
    public var tcpBlockTime: Configured<UInt32> = .byDefault(0)

    public init() {}
}

/// What an inspection rule can inspect.
public enum InspectedProtocol: String, CaseIterable, Hashable, Sendable {
    case tcp, udp, icmp, ftp, http, smtp, esmtp

    /// smtp and esmtp: the protocols smtp-inspect queues to itself.
    public var isSMTP: Bool { self == .smtp || self == .esmtp }

    /// ICMP sessions time out after 10 s in IOS 12.3; there is no global to change it.
    public static let icmpTimeout: UInt32 = 10
    /// `max-data` default for smtp and esmtp: 20 000 000 bytes.
    public static let defaultMaxData: UInt32 = 20_000_000
}

/// `ip inspect name NAME PROTOCOL [alert on|off] [audit-trail on|off] [max-data n] [timeout s]`:
/// one protocol of a rule. Nil options inherit the global setting.
public struct ProtocolInspection: Hashable, Sendable {
    public var kind: InspectedProtocol
    public var alert: Bool?
    public var auditTrail: Bool?
    /// smtp and esmtp only.
    public var maxData: UInt32?
    public var timeout: UInt32?
    public var location: SourceLocation

    public init(
        kind: InspectedProtocol, alert: Bool? = nil, auditTrail: Bool? = nil,
        maxData: UInt32? = nil, timeout: UInt32? = nil, location: SourceLocation
    ) {
        self.kind = kind
        self.alert = alert
        self.auditTrail = auditTrail
        self.maxData = maxData
        self.timeout = timeout
        self.location = location
    }
}

/// A named inspection rule: the protocols of every `ip inspect name NAME …` line with that name.
public struct InspectionRule: Hashable, Sendable {
    public var name: String
    /// Where the name first appears.
    public var location: SourceLocation
    /// In the order of their lines (the order `show ip inspect` lists them).
    public var protocols: [ProtocolInspection]

    public init(name: String, location: SourceLocation, protocols: [ProtocolInspection] = []) {
        self.name = name
        self.location = location
        self.protocols = protocols
    }

    /// The smtp or esmtp entry, if the rule has one (it cannot have both).
    public var smtp: ProtocolInspection? { protocols.first { $0.kind.isSMTP } }
}

/// The values one protocol of a rule runs with, after per-rule options override the globals.
public struct EffectiveInspection: Hashable, Sendable {
    public var kind: InspectedProtocol
    public var alert: Bool
    public var auditTrail: Bool
    /// Only for smtp and esmtp.
    public var maxData: UInt32?
    public var timeout: UInt32
}

extension IOSConfiguration {
    /// Resolves a protocol's settings: a per-rule `alert`/`audit-trail`/`timeout` wins, else the
    /// global (`alert-off`, `audit-trail`, tcp or udp idle-time; icmp 10 s).
    public func effective(_ inspection: ProtocolInspection) -> EffectiveInspection {
        let defaultTimeout: UInt32 = switch inspection.kind {
        case .udp: inspect.udpIdleTime.value
        case .icmp: InspectedProtocol.icmpTimeout
        case .tcp, .ftp, .http, .smtp, .esmtp: inspect.tcpIdleTime.value
        }
        return EffectiveInspection(
            kind: inspection.kind,
            alert: inspection.alert ?? inspect.alert.value,
            auditTrail: inspection.auditTrail ?? inspect.auditTrail.value,
            maxData: inspection.kind.isSMTP ? inspection.maxData ?? InspectedProtocol.defaultMaxData : nil,
            timeout: inspection.timeout ?? defaultTimeout)
    }
}

/// An inspection rule applied to an interface in one direction (`ip inspect NAME in|out`).
public struct InspectionAttachment: Hashable, Sendable {
    public var interface: Interface
    public var direction: Direction
    public var rule: InspectionRule
}

extension IOSConfiguration {
    /// Every `ip inspect NAME in|out` of every interface that is not shut down, in configuration
    /// order: what the daemon enforces on the flows of each interface.
    public var inspectionAttachments: [InspectionAttachment] {
        interfaces.filter { !$0.shutdown.value }.flatMap { interface in
            Direction.allCases.compactMap { direction in
                interface.inspection(direction).flatMap { inspectionRule(named: $0.value) }
                    .map { InspectionAttachment(interface: interface, direction: direction, rule: $0) }
            }
        }
    }
}
