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

/// What an inspection rule inspects: an IOS application name (`smtp`, `ftp`, `rtsp`, a
/// `user-…` name of `ip port-map`), `tcp`, `udp`, `icmp`, or `fragment`. Lower case, as IOS
/// prints it.
public struct InspectedProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue.lowercased() }

    public static let tcp = InspectedProtocol(rawValue: "tcp")
    public static let udp = InspectedProtocol(rawValue: "udp")
    public static let icmp = InspectedProtocol(rawValue: "icmp")
    public static let ftp = InspectedProtocol(rawValue: "ftp")
    public static let http = InspectedProtocol(rawValue: "http")
    public static let smtp = InspectedProtocol(rawValue: "smtp")
    public static let esmtp = InspectedProtocol(rawValue: "esmtp")
    public static let fragment = InspectedProtocol(rawValue: "fragment")

    /// smtp and esmtp: the protocols smtp-inspect queues to itself.
    public var isSMTP: Bool { self == .smtp || self == .esmtp }

    public var description: String { rawValue }

    /// ICMP sessions time out after 10 s in IOS 12.3; there is no global to change it.
    public static let icmpTimeout: UInt32 = 10
    /// `max-data` default for smtp and esmtp: 20 000 000 bytes.
    public static let defaultMaxData: UInt32 = 20_000_000
}

/// `ip inspect name NAME PROTOCOL [alert on|off] [audit-trail on|off] [max-data n] [timeout s]
/// [router-traffic] …`: one protocol of a rule. Nil options inherit the global setting.
public struct ProtocolInspection: Hashable, Sendable {
    public var kind: InspectedProtocol
    public var alert: Bool?
    public var auditTrail: Bool?
    /// smtp and esmtp only.
    public var maxData: UInt32?
    public var timeout: UInt32?
    /// `router-traffic`: sessions to and from the router itself are inspected too.
    public var routerTraffic: Bool = false
    /// The other options as written, in IOS's order (`java-list 10`, `urlfilter`,
    /// `program-number 100003 wait-time 0`, `maximum 256 timeout 1`, `secure-login`, `reset`,
    /// or the policy of `appfw`): kept for `check`, the comments and the round trip.
    public var extras: [String] = []
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

    /// The number after `word` among the extras (`maximum 256` → 256).
    public func extra(_ word: String) -> UInt32? {
        guard let index = extras.firstIndex(of: word), index + 1 < extras.count else { return nil }
        return UInt32(extras[index + 1])
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
        effective(inspection, family: .ipv4)
    }

    /// The same for a rule of `family` (`ipv6 inspect name` rules take the `ipv6 inspect` globals).
    public func effective(_ inspection: ProtocolInspection, family: AddressFamily) -> EffectiveInspection {
        let inspect = inspectGlobals(family)
        let defaultTimeout = defaultTimeout(of: inspection.kind, family: family)
        return EffectiveInspection(
            kind: inspection.kind,
            alert: inspection.alert ?? inspect.alert.value,
            auditTrail: inspection.auditTrail ?? inspect.auditTrail.value,
            maxData: inspection.kind.isSMTP ? inspection.maxData ?? InspectedProtocol.defaultMaxData : nil,
            timeout: inspection.timeout ?? defaultTimeout)
    }
}

extension IOSConfiguration {
    /// IOS's timeout for a protocol without its own `timeout`: icmp 10 s, dns the dns-timeout,
    /// UDP-only applications the udp idle-time, everything else the tcp idle-time.
    public func defaultTimeout(of kind: InspectedProtocol, family: AddressFamily = .ipv4) -> UInt32 {
        let inspect = inspectGlobals(family)
        switch kind.rawValue {
        case "icmp": return InspectedProtocol.icmpTimeout
        case "udp": return inspect.udpIdleTime.value
        case "dns": return inspect.dnsTimeout.value
        default:
            let ports = self.ports(of: kind.rawValue)
            return ports.tcp.isEmpty && !ports.udp.isEmpty ? inspect.udpIdleTime.value : inspect.tcpIdleTime.value
        }
    }
}

extension IOSConfiguration {
    /// The settings of smtp-inspect's one session table, which holds the sessions of both
    /// families: each `ip inspect` global, or, where only `ipv6 inspect` sets one, that one.
    public var sessionGlobals: InspectGlobals {
        var globals = inspect
        func take<Value>(_ keyPath: WritableKeyPath<InspectGlobals, Configured<Value>>) {
            if globals[keyPath: keyPath].isDefault, !ipv6Inspect[keyPath: keyPath].isDefault {
                globals[keyPath: keyPath] = ipv6Inspect[keyPath: keyPath]
            }
        }
        take(\.auditTrail)
        take(\.alert)
        take(\.maxIncompleteLow)
        take(\.maxIncompleteHigh)
        take(\.oneMinuteLow)
        take(\.oneMinuteHigh)
        take(\.tcpSynwaitTime)
        take(\.tcpFinwaitTime)
        take(\.tcpIdleTime)
        take(\.udpIdleTime)
        take(\.dnsTimeout)
        take(\.tcpMaxIncompletePerHost)
        take(\.tcpBlockTime)
        return globals
    }
}

/// An inspection rule applied to an interface in one direction (`ip inspect NAME in|out`, or
/// `ipv6 inspect NAME in|out`), for the traffic of one address family.
public struct InspectionAttachment: Hashable, Sendable {
    public var interface: Interface
    public var direction: Direction
    public var rule: InspectionRule
    /// The traffic it applies to.
    public var family: AddressFamily = .ipv4
    /// Set when the configuration says nothing about `family` there and the rule comes from the
    /// other family's line: then `rule` holds only the smtp/esmtp entry of that line's rule
    /// (the README's "No way around the inspector").
    public var borrowedFrom: AddressFamily?

    /// Where the rule's name is defined: `ip inspect name` or `ipv6 inspect name`.
    public var ruleFamily: AddressFamily { borrowedFrom ?? family }
    /// The `ip inspect NAME in` (or `ipv6 inspect …`) line that applies the rule.
    public var line: Located<String>? { interface.inspection(direction, family: ruleFamily) }
}

extension IOSConfiguration {
    /// Every `ip inspect NAME in|out` of every interface that is not shut down, in configuration
    /// order: what the daemon enforces on the flows of each interface.
    public var inspectionAttachments: [InspectionAttachment] { ownAttachments(.ipv4) }

    private func ownAttachments(_ family: AddressFamily) -> [InspectionAttachment] {
        interfaces.filter { !$0.shutdown.value }.flatMap { interface in
            Direction.allCases.compactMap { direction in
                interface.inspection(direction, family: family).flatMap { inspectionRule(named: $0.value, family: family) }
                    .map { InspectionAttachment(interface: interface, direction: direction, rule: $0, family: family) }
            }
        }
    }

    /// What inspects the traffic of `family`: its own `ip|ipv6 inspect NAME in|out` lines, and,
    /// where an interface has none of its family in a direction but the other family's rule there
    /// inspects smtp or esmtp, that smtp/esmtp entry: TCP/25 is never forwarded uninspected
    /// through an interface whose configuration inspects SMTP in the other family. In
    /// configuration order (own and borrowed as their interfaces come).
    public func inspectionAttachments(family: AddressFamily) -> [InspectionAttachment] {
        interfaces.filter { !$0.shutdown.value }.flatMap { interface in
            Direction.allCases.compactMap { direction -> InspectionAttachment? in
                if let own = interface.inspection(direction, family: family) {
                    return inspectionRule(named: own.value, family: family)
                        .map { InspectionAttachment(interface: interface, direction: direction, rule: $0, family: family) }
                }
                guard let other = interface.inspection(direction, family: family.other),
                      let rule = inspectionRule(named: other.value, family: family.other), let smtp = rule.smtp else { return nil }
                return InspectionAttachment(
                    interface: interface, direction: direction,
                    rule: InspectionRule(name: rule.name, location: rule.location, protocols: [smtp]),
                    family: family, borrowedFrom: family.other)
            }
        }
    }

    /// The smtp/esmtp inspections of both families (own and borrowed): what the daemon enforces.
    public var smtpAttachments: [InspectionAttachment] {
        AddressFamily.allCases.flatMap { inspectionAttachments(family: $0) }.filter { $0.rule.smtp != nil }
    }

    /// Whether anything is inspected at all, in either family.
    var inspectsAnything: Bool { !ownAttachments(.ipv4).isEmpty || !ownAttachments(.ipv6).isEmpty }
}
