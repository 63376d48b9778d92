/// Generates the iptables rule set that gives a Linux router the IOS configuration's behaviour:
/// anti-spoofing, NAT (static, port forwards, networks, dynamic and PAT), access lists with
/// IOS's order of operations, CBAC return traffic only for inspected sessions (with conntrack's
/// helpers and timeout policies), and NFQUEUE for smtp/esmtp sessions. Pure: text in, text out.
///
/// Netfilter stands in for IOS's order of operations like this:
/// - conntrack defragments (priority -400) before every table here, so no rule and no queue sees
///   a fragment; a guard in raw drops any TCP fragment that was not reassembled.
/// - raw PREROUTING: anti-spoofing (a source that cannot arrive on that interface), then the
///   conntrack helpers and timeout policies of inspected protocols.
/// - mangle PREROUTING: inbound access lists, on packets as they arrive (IOS checks an inbound list
///   before NAT, so on the outside it sees the global address).
/// - nat PREROUTING: static NAT and port forwards, outside to inside.
/// - mangle FORWARD (and INPUT/OUTPUT for `router-traffic`): `ip inspect … in|out` marks the
///   connections it creates (connmark).
/// - filter FORWARD: outbound access lists (IOS checks them after NAT; see `accessListChain`).
/// - mangle POSTROUTING: NFQUEUE for smtp/esmtp sessions, after every filter rule accepted them.
/// - nat POSTROUTING: NAT of the source, inside to outside (static first, then dynamic).
public enum IptablesRules {
    /// Connection mark bit: created through an `ip inspect` rule (a CBAC session).
    public static let inspectedMark: UInt32 = 0x0100_0000
    /// Connection mark bit: its rule inspects smtp or esmtp, so both directions are queued.
    public static let smtpMark: UInt32 = 0x0200_0000
    /// Connection mark bit: created by a `permit … reflect NAME` entry (a reflexive session).
    public static let reflexiveMark: UInt32 = 0x0400_0000
    /// Packet and connection mark bit: a session smtp-inspect no longer needs to see (TLS after a
    /// checked STARTTLS). Its verdict sets the bit on the packet; the rules before the NFQUEUE rule
    /// copy it to the connection and accept the connection's packets from then on.
    public static let bypassMark: UInt32 = 0x0800_0000
    /// Packet mark bit of the resets smtp-inspect sends itself; no rule matches it.
    public static let ownPacketMark: UInt32 = 0x1000_0000

    /// The header lines that explain the bypass bit and smtp-inspect's own packet bit (both families).
    static let bypassMarkLines = [
        "  \(RuleGenerator.hex(bypassMark))  smtp-inspect no longer needs to see the session (TLS after a checked STARTTLS,",
        "             with --allow-starttls): its verdict marks a packet with this bit, mangle POSTROUTING",
        "             saves it to the connection and accepts the connection's packets before NFQUEUE",
        "Packet mark: \(RuleGenerator.hex(ownPacketMark)) is set on the resets smtp-inspect sends (no rule uses it).",
    ]

    /// Between the IPv4 and the IPv6 rule set when `rules` prints both.
    public static let familySeparator = "#\n# ==== IPv6: what follows is for ip6tables-restore --noflush (alone: smtp-inspect rules --family ipv6)\n#\n"

    /// `"…"`: text from the configuration as a rule comment: quotes and backslashes replaced,
    /// control characters in caret notation, at most 255 bytes (what the comment module keeps).
    public static func quotedComment(_ text: String) -> String { IptablesTable.quoted(text) }

    /// The rule set for `configuration`, or why there is none (an interface that needs rules has
    /// no Linux name, or the map names an interface the configuration lacks).
    ///
    /// `family` chooses the rule set: `.ipv4` for `iptables-restore`, `.ipv6` for
    /// `ip6tables-restore`. Both come from the whole configuration (an interface that inspects
    /// SMTP in one family gets the other family's SMTP inspected too), and both need the same map.
    public static func generate(
        _ configuration: IOSConfiguration, options: RuleOptions, family: AddressFamily = .ipv4
    ) -> Result<GeneratedRules, RuleGenerationErrors> {
        var generator = RuleGenerator(configuration: configuration, options: options, family: family)
        var errors = generator.resolveInterfaces()
        errors += generator.checkNATInterfaces()
        errors += generator.checkExpansion()
        guard errors.isEmpty else { return .failure(RuleGenerationErrors(errors: errors)) }
        return .success(family == .ipv4 ? generator.build() : generator.buildIPv6())
    }
}

struct RuleGenerator {
    let configuration: IOSConfiguration
    let options: RuleOptions
    let family: AddressFamily
    /// Linux name by IOS name (the configuration's spelling).
    var linuxNames: [String: String] = [:]
    /// Mapped interfaces that are not shut down, in configuration order.
    var active: [(interface: Interface, linux: String)] = []

    init(configuration: IOSConfiguration, options: RuleOptions, family: AddressFamily = .ipv4) {
        self.configuration = configuration
        self.options = options
        self.family = family
    }

    mutating func resolveInterfaces() -> [RuleGenerationError] {
        var errors: [RuleGenerationError] = []
        var linuxSeen: Set<String> = []
        let known = configuration.interfaces.map(\.name).joined(separator: ", ")
        for mapping in options.interfaces {
            guard let interface = configuration.interface(named: mapping.iosName) else {
                errors.append(RuleGenerationError(
                    "--interface \(mapping.iosName)=\(mapping.linuxName): the configuration has no interface \(mapping.iosName)",
                    hint: "its interfaces are: \(known.isEmpty ? "none" : known)"))
                continue
            }
            guard linuxNames[interface.name] == nil, linuxSeen.insert(mapping.linuxName).inserted else {
                errors.append(RuleGenerationError(
                    "--interface \(mapping.iosName)=\(mapping.linuxName): an interface is mapped twice",
                    hint: "map each IOS interface to its own Linux interface, once"))
                continue
            }
            linuxNames[interface.name] = mapping.linuxName
        }
        for interface in configuration.interfaces {
            let linux = linuxNames[interface.name]
            if let linux, !interface.shutdown.value { active.append((interface, linux)) }
            if linux == nil, interface.needsRules, !interface.shutdown.value {
                errors.append(RuleGenerationError(
                    "interface \(interface.name) has access lists, inspection or NAT but no Linux interface",
                    hint: "add --interface \(interface.name)=LINUXNAME (or --interface auto)", location: interface.location))
            }
        }
        return errors
    }

    /// Object groups multiply: an entry is one rule per combination of their members. A limit
    /// keeps a configuration from producing a rule set no one can load or read.
    static let maxRulesPerEntry = 4096

    func checkExpansion() -> [RuleGenerationError] {
        configuration.accessLists.flatMap { list in
            list.entries.compactMap { entry -> RuleGenerationError? in
                let count = configuration.expand(entry.match).count
                guard count > RuleGenerator.maxRulesPerEntry else { return nil }
                return RuleGenerationError(
                    "access list \(list.name): an entry's object groups make \(count) rules (at most \(RuleGenerator.maxRulesPerEntry))",
                    hint: "split the entry, or group the addresses into fewer networks", location: entry.location)
            }
        }
    }

    /// Port forwards and PAT to an interface's address need that interface mapped.
    func checkNATInterfaces() -> [RuleGenerationError] {
        guard natApplies else { return [] }
        var names: [(String, SourceLocation)] = []
        for entry in configuration.staticPortNAT { if case .interface(let name) = entry.global { names.append((name, entry.location)) } }
        for entry in configuration.dynamicNAT { if case .interface(let name) = entry.target { names.append((name, entry.location)) } }
        return names.compactMap { name, location in
            guard let interface = configuration.interface(named: name), linuxNames[interface.name] == nil else { return nil }
            return RuleGenerationError("NAT to interface \(interface.name)'s address, but it has no Linux interface",
                                       hint: "add --interface \(interface.name)=LINUXNAME", location: location)
        }
    }

    func build() -> GeneratedRules {
        var setup: [SetupAction] = [.sysctl(name: "net.ipv4.ip_forward", value: "1")]
        let raw = rawTable(&setup)
        let mangle = mangleTable()
        let nat = natTable(&setup)
        let filter = filterTable()
        var text = header()
        text += setup.map { "# SETUP \($0)\n" }.joined()
        text += [raw, mangle, nat, filter].map(\.text).joined()
        return GeneratedRules(text: text, setup: setup)
    }

    /// Inspections of this family applied on active interfaces (own and borrowed), with the Linux name.
    var inspections: [(interface: Interface, linux: String, direction: Direction, rule: InspectionRule, attachment: InspectionAttachment)] {
        configuration.inspectionAttachments(family: family).compactMap { attachment in
            linuxNames[attachment.interface.name].map { (attachment.interface, $0, attachment.direction, attachment.rule, attachment) }
        }
    }

    /// Whether any inspection queues smtp/esmtp sessions (and so uses conntrack).
    var queuesSMTP: Bool { inspections.contains { $0.rule.smtp != nil } }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    static func markMatch(_ bits: UInt32) -> String { "-m connmark --mark \(hex(bits))/\(hex(bits))" }

    static func interfaceMatch(_ linux: String, _ direction: Direction, negated: Bool = false) -> String {
        (negated ? "! " : "") + (direction == .in ? "-i " : "-o ") + linux
    }

    static func line(_ location: SourceLocation?) -> String {
        location.map { " (line \($0.line))" } ?? ""
    }

    /// `-m tcp --dport 25` or `-m multiport --dports 554,8554`, with `extra` (`--syn`) added.
    static func portWords(_ protocolNumber: UInt8, _ ports: [UInt16], option: String = "--dport", extra: String = "") -> [String] {
        let name = RuleGenerator.protocolName(protocolNumber)
        let tail = extra.isEmpty ? "" : " " + extra
        switch ports.count {
        case 0: return ["-p \(name)"] + (extra.isEmpty ? [] : ["-m \(name)\(tail)"])
        case 1: return ["-p \(name)", "-m \(name) \(option) \(ports[0])\(tail)"]
        default:
            let list = ports.map(String.init).joined(separator: ",")
            return ["-p \(name)", "-m multiport \(option)s \(list)"] + (extra.isEmpty ? [] : ["-m \(name)\(tail)"])
        }
    }

    /// The `-p` word: `tcp`, `udp`, `icmp`, `ipv6-icmp` (as ip6tables-save prints ICMPv6), or the number.
    static func protocolName(_ number: UInt8) -> String {
        [1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"][number] ?? "\(number)"
    }

    /// A name fit for a chain: letters, digits, `-`, `_`, at most `limit` bytes; else nil.
    static func chainSafe(_ name: String, limit: Int) -> String? {
        let safe = name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_"
        }
        return safe && !name.isEmpty && name.utf8.count <= limit ? name : nil
    }
}
