/// What one `ip inspect name` protocol becomes on Linux: which new sessions are marked as
/// inspected (so their return traffic passes the access lists), the conntrack helpers and
/// timeout policy they get, whether smtp-inspect itself reads them, and what of IOS's behaviour
/// is approximated or has no Linux equivalent. `check` prints it; the rule generator builds it.
public struct InspectionPlan: Hashable, Sendable {
    /// A kind of new session to mark: TCP (from the SYN), UDP or ICMP, on some ports or any.
    public struct Sessions: Hashable, Sendable {
        public var protocolNumber: UInt8
        /// Destination ports; empty: any.
        public var ports: [UInt16]
    }

    public var sessions: [Sessions] = []
    public var helpers: [ConntrackHelper] = []
    /// smtp/esmtp: both directions go to smtp-inspect.
    public var queued = false
    /// The idle timeout conntrack enforces for these sessions, when the configuration sets one.
    public var timeout: UInt32?
    /// `fragment … timeout S`: net.ipv4.ipfrag_time (IPv6: net.netfilter.nf_conntrack_frag6_timeout).
    public var fragmentTimeout: UInt32?
    /// The family the plan is for.
    public var family: AddressFamily = .ipv4
    /// `router-traffic`: the router's own sessions are marked too.
    public var routerTraffic = false
    /// What differs from IOS (each also a warning in `check`).
    public var approximations: [String] = []
    /// Set when nothing of it can be done on Linux.
    public var noEquivalent: String?

    /// One line for `check`: `tcp session tracking on port 554 …`.
    public var summary: String {
        if let noEquivalent { return noEquivalent }
        if fragmentTimeout != nil || sessions.isEmpty && !queued {
            return "conntrack reassembles IP fragments before any rule"
                + (fragmentTimeout.map { "; reassembly timeout \($0) s (\(InspectionPlan.fragmentSysctl(family)))" } ?? "")
        }
        var parts: [String] = []
        if queued {
            let ports = sessions.first?.ports.map(String.init).joined(separator: ",") ?? "25"
            parts.append("inspected by smtp-inspect (NFQUEUE) on tcp \(ports)")
        } else {
            parts += sessions.map { session in
                let name = [1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"][session.protocolNumber] ?? "\(session.protocolNumber)"
                if session.ports.isEmpty { return "conntrack tracking of every \(name == "icmpv6" ? "ICMPv6" : name.uppercased()) session" }
                let ports = session.ports.map(String.init).joined(separator: ",")
                return "\(name) session tracking on port\(session.ports.count > 1 ? "s" : "") \(ports)"
            }
        }
        var text = parts.joined(separator: " and ")
        let helperNames = Array(Set(helpers.map(\.name))).sorted()
        if !helperNames.isEmpty { text += " with conntrack's \(helperNames.joined(separator: "/")) helper" }
        if let timeout { text += ", idle timeout \(timeout) s (conntrack timeout policy)" }
        if routerTraffic { text += ", the router's own sessions too" }
        return text
    }

    /// The sysctl that holds conntrack's reassembly timeout for a family.
    static func fragmentSysctl(_ family: AddressFamily) -> String {
        family == .ipv4 ? "net.ipv4.ipfrag_time" : "net.netfilter.nf_conntrack_frag6_timeout"
    }
}

extension IOSConfiguration {
    /// The plan for one protocol of a rule (of `ip inspect name`, or for IPv6 `ipv6 inspect name`).
    public func plan(_ inspection: ProtocolInspection, family: AddressFamily = .ipv4) -> InspectionPlan {
        var plan = InspectionPlan()
        plan.family = family
        let name = inspection.kind.rawValue
        plan.routerTraffic = inspection.routerTraffic
        switch name {
        case "tcp": plan.sessions = [.init(protocolNumber: 6, ports: [])]
        case "udp": plan.sessions = [.init(protocolNumber: 17, ports: [])]
        case "icmp": plan.sessions = [.init(protocolNumber: family == .ipv4 ? 1 : 58, ports: [])]
        case "smtp", "esmtp":
            plan.queued = true
            plan.sessions = [.init(protocolNumber: 6, ports: ports(of: name).tcp)]
        case "fragment":
            plan.fragmentTimeout = inspection.extra("timeout")
            if inspection.extra("maximum") != nil {
                plan.approximations.append("`maximum`: Linux bounds reassembly by memory (net.ipv4.ipfrag_high_thresh), not by count")
            }
            if plan.fragmentTimeout != nil {
                plan.approximations.append("one reassembly timeout for the whole router, not per rule")
            }
            return plan
        case "appfw":
            plan.noEquivalent = "ignored: the application firewall (appfw policy) has no Linux equivalent"
            return plan
        default:
            let mapped = ports(of: name)
            if !mapped.tcp.isEmpty { plan.sessions.append(.init(protocolNumber: 6, ports: mapped.tcp)) }
            if !mapped.udp.isEmpty { plan.sessions.append(.init(protocolNumber: 17, ports: mapped.udp)) }
            if let profile = InspectCatalog.applications[name] {
                plan.helpers = profile.helpers.filter { family == .ipv4 || $0.ipv6 }
                if let channels = profile.dataChannels {
                    plan.approximations.append("no Linux conntrack helper for \(name) opens \(channels)")
                } else if plan.helpers.count < profile.helpers.count {
                    plan.approximations.append("Linux's \(name) helper is IPv4 only: over IPv6 the control connection is tracked, no data connection is opened")
                }
            }
        }
        if !plan.queued, !plan.sessions.isEmpty {
            plan.timeout = inspection.timeout ?? explicitGlobalTimeout(for: inspection.kind, family: family)
        }
        for (index, word) in inspection.extras.enumerated() {
            switch word {
            case "java-list": plan.approximations.append("java-list: Java applets are not filtered (no Linux equivalent)")
            case "urlfilter": plan.approximations.append("urlfilter: URLs are not filtered (no Linux equivalent)")
            case "secure-login": plan.approximations.append("secure-login: clear-text logins are not refused")
            case "reset": plan.approximations.append("reset: sessions with protocol errors are not reset")
            case "program-number":
                let number = index + 1 < inspection.extras.count ? inspection.extras[index + 1] : "?"
                plan.approximations.append("rpc program \(number): the portmapper (111) is tracked; the program's own ports are not opened")
            default: break
            }
        }
        return plan
    }

    /// The global idle time that applies to `kind` when the configuration set it explicitly.
    func explicitGlobalTimeout(for kind: InspectedProtocol, family: AddressFamily = .ipv4) -> UInt32? {
        let inspect = inspectGlobals(family)
        let udpOnly = ports(of: kind.rawValue).tcp.isEmpty && !ports(of: kind.rawValue).udp.isEmpty
        let setting: Configured<UInt32>? = switch kind.rawValue {
        case "icmp": nil
        case "udp": inspect.udpIdleTime
        case "dns": inspect.dnsTimeout
        default: udpOnly ? inspect.udpIdleTime : inspect.tcpIdleTime
        }
        guard let setting, !setting.isDefault else { return nil }
        return setting.value
    }
}

extension ConfigParser {
    /// The disposition of an `ip inspect name` line: what it became, with a warning for what is
    /// approximated or impossible.
    mutating func describe(_ inspection: ProtocolInspection) -> Disposition {
        let plan = model.plan(inspection, family: inspectFamily)
        if let noEquivalent = plan.noEquivalent {
            warnings.append(Diagnostic(.warning, .noLinuxEquivalent, at: inspection.location,
                                       "`\(inspection.kind.rawValue)` inspection is not mirrored",
                                       hint: "nothing is inspected for it; remove the line if that is a surprise"))
            return .ignored(noEquivalent)
        }
        guard plan.approximations.isEmpty else {
            for approximation in plan.approximations {
                warnings.append(Diagnostic(.warning, .approximated, at: inspection.location,
                                           "`\(inspection.kind.rawValue)` approximated: \(approximation)",
                                           hint: "check what Linux does is enough for this traffic"))
            }
            return .approximated(plan.summary + "; " + plan.approximations.joined(separator: "; "))
        }
        return .appliedAs(plan.summary)
    }
}
