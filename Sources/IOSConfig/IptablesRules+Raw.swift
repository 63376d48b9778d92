extension RuleGenerator {
    /// raw PREROUTING: before conntrack sees a packet.
    func rawTable(_ setup: inout [SetupAction]) -> IptablesTable {
        var raw = IptablesTable("raw")
        let pre = raw.top("PREROUTING")
        if family == .ipv4 { fragmentGuard(&raw, pre: pre) } else { fragmentGuard6(&raw, pre: pre) }
        antiSpoofing(&raw, pre: pre)
        helpersAndTimeouts(&raw, pre: pre, setup: &setup)
        return raw
    }

    /// The queue must never see a fragment: conntrack reassembles them before this table (its
    /// defragmentation hook runs at priority -400, and the conntrack matches below turn it on),
    /// so a TCP fragment here was not reassembled. Dropping it keeps the NFQUEUE rule from ever
    /// receiving one, whatever happens to conntrack.
    private func fragmentGuard(_ raw: inout IptablesTable, pre: String) {
        guard queuesSMTP else { return }
        raw.note(pre, "IP fragments: conntrack reassembles them before any table here (nf_defrag_ipv4, priority -400,",
                 "on while conntrack is in use: the conntrack rules of this set keep it on), so the queue only ever",
                 "sees whole packets. A TCP fragment that still reaches this point was not reassembled: dropped.")
        raw.rule(pre, ["-p tcp", "-m u32 --u32 \"4&0x3FFF=0x1:0x3FFF\""],
                 comment: "TCP fragment not reassembled by conntrack: never to the queue", "-j DROP")
    }

    /// A source address that cannot legitimately arrive on an interface, dropped before
    /// conntrack (`spoofedSources`, `spoofedSources6`).
    private func antiSpoofing(_ raw: inout IptablesTable, pre: String) {
        for entry in active {
            let drops = family == .ipv4 ? spoofedSources(arrivingOn: entry.interface) : spoofedSources6(arrivingOn: entry.interface)
            guard !drops.isEmpty else { continue }
            let chain = raw.chain("SI-SPOOF-\(entry.linux)")
            raw.note(pre, "\(entry.interface.name): anti-spoofing, sources that cannot arrive on it (explicit checks, not rp_filter:",
                     "see the header).")
            raw.rule(pre, ["-i \(entry.linux)"], comment: "\(entry.interface.name): anti-spoofing", "-j \(chain)")
            for drop in drops {
                raw.rule(chain, drop.match, comment: "\(entry.interface.name): \(drop.why)", "-j DROP")
            }
        }
    }

    /// The source matches to drop on `interface`, each with why: the networks connected to the
    /// other mapped interfaces (their `ip address` lines), static NAT and pool global addresses
    /// (the router's own), and, on an `ip nat outside` interface, the inside addresses of static NAT.
    func spoofedSources(arrivingOn interface: Interface) -> [(match: [String], why: String)] {
        let own = interface.allAddresses
        func ownOverlaps(_ base: IPv4Address, _ length: Int) -> Bool {
            own.contains { address in
                let shorter = min(length, address.netmask.netmaskPrefixLength ?? 32)
                let mask = IPv4Address.netmask(prefixLength: shorter).value
                return base.value & mask == address.address.value & mask
            }
        }
        var networks: [(base: IPv4Address, length: Int)] = []
        var drops: [(match: [String], why: String)] = []
        func add(_ base: IPv4Address, _ length: Int, _ why: String) {
            let covered = networks.contains { network in
                network.length <= length && base.value & IPv4Address.netmask(prefixLength: network.length).value == network.base.value
            }
            guard !covered else { return }
            networks.append((base, length))
            drops.append((["-s \(base)/\(length)"], why))
        }
        for other in active where other.interface.name != interface.name {
            for address in other.interface.allAddresses {
                let length = address.netmask.netmaskPrefixLength ?? 32
                let base = IPv4Address(address.address.value & address.netmask.value)
                guard !ownOverlaps(base, length) else { continue }
                add(base, length, "source in \(base)/\(length), connected to \(other.interface.name)\(RuleGenerator.line(address.location))")
            }
        }
        if natApplies {
            for nat in configuration.staticNAT {
                add(nat.global, 32, "source \(nat.global), a static NAT global address\(RuleGenerator.line(nat.location))")
            }
            for nat in configuration.staticPortNAT {
                if case .address(let global) = nat.global, !own.contains(where: { $0.address == global }),
                   !active.contains(where: { $0.interface.allAddresses.contains { $0.address == global } }) {
                    add(global, 32, "source \(global), a port-forward global address\(RuleGenerator.line(nat.location))")
                }
            }
            for nat in configuration.staticNetworkNAT {
                add(nat.global, nat.prefixLength, "source in \(nat.global)/\(nat.prefixLength), static NAT global network\(RuleGenerator.line(nat.location))")
            }
            for pool in poolsInUse {
                for (base, length) in RuleGenerator.prefixes(from: pool.first, to: pool.last) {
                    add(base, length, "source in pool \(pool.name) (\(pool.first)-\(pool.last)), ours\(RuleGenerator.line(pool.location))")
                }
            }
            if interface.nat?.value == .outside {
                for nat in configuration.staticNAT where !ownOverlaps(nat.local, 32) {
                    add(nat.local, 32, "source \(nat.local), inside address of static NAT\(RuleGenerator.line(nat.location))")
                }
                for nat in configuration.staticPortNAT where !ownOverlaps(nat.local, 32) {
                    add(nat.local, 32, "source \(nat.local), inside address of a port forward\(RuleGenerator.line(nat.location))")
                }
                for nat in configuration.staticNetworkNAT where !ownOverlaps(nat.local, nat.prefixLength) {
                    add(nat.local, nat.prefixLength, "source in \(nat.local)/\(nat.prefixLength), inside network of static NAT\(RuleGenerator.line(nat.location))")
                }
            }
        }
        return drops
    }

    /// The smallest list of prefixes that covers FIRST-LAST exactly.
    static func prefixes(from first: IPv4Address, to last: IPv4Address) -> [(IPv4Address, Int)] {
        var result: [(IPv4Address, Int)] = []
        var start = UInt64(first.value)
        let end = UInt64(last.value)
        while start <= end {
            var length = 32
            while length > 0 {
                let size = UInt64(1) << UInt64(33 - length)
                guard start % size == 0, start + size - 1 <= end else { break }
                length -= 1
            }
            result.append((IPv4Address(UInt32(start)), length))
            start += UInt64(1) << UInt64(32 - length)
        }
        return result
    }

    /// conntrack helpers (data connections become RELATED) and timeout policies (the IOS
    /// `timeout`) for new sessions of inspected protocols. conntrack takes the first CT target a
    /// packet meets, so helpers come first, then port-specific timeouts, then the generic ones.
    func helpersAndTimeouts(_ raw: inout IptablesTable, pre: String, setup: inout [SetupAction]) {
        var helperRules: [(match: [String], comment: String, target: String)] = []
        var portRules: [(match: [String], comment: String, target: String)] = []
        var anyRules: [(match: [String], comment: String, target: String)] = []
        var outputRules: [(match: [String], comment: String, target: String)] = []
        var modules: [String] = []
        var timeouts: [SetupAction] = []
        for entry in inspections {
            let ingress = RuleGenerator.interfaceMatch(entry.linux, .in, negated: entry.direction == .out)
            for inspection in entry.rule.protocols {
                let plan = configuration.plan(inspection, family: family)
                let fragmentSysctl = InspectionPlan.fragmentSysctl(family)
                if let seconds = plan.fragmentTimeout, !setup.contains(where: { $0.description.hasPrefix("sysctl \(fragmentSysctl)=") }) {
                    // conntrack's IPv6 reassembly (and its sysctl) comes with nf_defrag_ipv6.
                    if family == .ipv6 { setup.append(.module("nf_defrag_ipv6")) }
                    setup.append(.sysctl(name: fragmentSysctl, value: "\(seconds)"))
                }
                let comment = "\(entry.interface.name): \(entry.attachment.ruleFamily.keyword) inspect \(entry.rule.name) \(entry.direction.rawValue), \(inspection.kind.rawValue)"
                func policy(_ proto: UInt8) -> String? {
                    guard let seconds = plan.timeout else { return nil }
                    let action = RuleGenerator.timeoutPolicy(proto, seconds, family: family)
                    if !timeouts.contains(action) { timeouts.append(action) }
                    switch action {
                    case .timeout(let name, _), .timeout6(let name, _): return name
                    default: return nil
                    }
                }
                var helped: Set<String> = []
                for helper in plan.helpers {
                    modules += helper.modules.filter { !modules.contains($0) }
                    let timeout = policy(helper.protocolNumber).map { " --timeout \($0)" } ?? ""
                    helperRules.append(([ingress] + RuleGenerator.portWords(helper.protocolNumber, [helper.port]), comment,
                                        "-j CT --helper \(helper.name)\(timeout)"))
                    helped.insert("\(helper.protocolNumber)/\(helper.port)")
                }
                for session in plan.sessions {
                    guard let name = policy(session.protocolNumber) else { continue }
                    let ports = session.ports.filter { !helped.contains("\(session.protocolNumber)/\($0)") }
                    if !session.ports.isEmpty && ports.isEmpty { continue }
                    let match = [ingress] + RuleGenerator.portWords(session.protocolNumber, ports)
                    if ports.isEmpty { anyRules.append((match, comment, "-j CT --timeout \(name)")) }
                    else { portRules.append((match, comment, "-j CT --timeout \(name)")) }
                    if inspection.routerTraffic && entry.direction == .out {
                        // The router's own sessions start in OUTPUT, which PREROUTING never sees.
                        outputRules.append((["-o \(entry.linux)"] + RuleGenerator.portWords(session.protocolNumber, ports),
                                            comment + ", router-traffic", "-j CT --timeout \(name)"))
                    }
                }
            }
        }
        setup += modules.map(SetupAction.module) + timeouts
        if !helperRules.isEmpty {
            raw.note(pre, "Inspected protocols with a conntrack helper: it reads their control connection so that the data",
                     "connections are RELATED to an inspected session (and NAT rewrites the addresses in them, as IOS",
                     "NAT does). For `ip inspect … out` the ingress is unknown here: every other interface gets it.")
        }
        if !portRules.isEmpty || !anyRules.isEmpty {
            if family == .ipv4 {
                raw.note(pre, "Inspected protocols with a `timeout` (or an `ip inspect tcp|udp idle-time`): a conntrack timeout",
                         "policy (SETUP timeout) makes conntrack forget the idle session as IOS does.")
            } else {
                raw.note(pre, "Inspected protocols with a `timeout` (or an `ipv6 inspect tcp|udp idle-time`): a conntrack timeout",
                         "policy (SETUP timeout6) makes conntrack forget the idle session as IOS does.")
            }
        }
        for rule in helperRules + portRules + anyRules {
            raw.rule(pre, rule.match, comment: rule.comment, rule.target)
        }
        if !outputRules.isEmpty {
            let output = raw.top("OUTPUT")
            raw.note(output, "router-traffic: the timeout policies of the router's own inspected sessions.")
            for rule in outputRules { raw.rule(output, rule.match, comment: rule.comment, rule.target) }
        }
    }

    /// The policy for an idle timeout: `si-tcp-1800` with `tcp established 1800`, … For IPv6
    /// (conntrack keeps a policy to one family) `si6-tcp-1800`, `si6-icmpv6-10`.
    static func timeoutPolicy(_ proto: UInt8, _ seconds: UInt32, family: AddressFamily = .ipv4) -> SetupAction {
        let (name, policy): (String, String) = switch proto {
        case PacketMatch.tcp: ("tcp", "tcp established \(seconds)")
        case PacketMatch.udp: ("udp", "udp unreplied \(seconds) replied \(seconds)")
        default: family == .ipv4 ? ("icmp", "icmp timeout \(seconds)") : ("icmpv6", "icmpv6 timeout \(seconds)")
        }
        return family == .ipv4 ? .timeout(name: "si-\(name)-\(seconds)", policy: policy)
            : .timeout6(name: "si6-\(name)-\(seconds)", policy: policy)
    }
}
