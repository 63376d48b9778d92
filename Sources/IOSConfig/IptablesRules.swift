/// Generates the iptables rule set that gives a Linux router the IOS configuration's behaviour:
/// static NAT both ways, access lists with IOS's order of operations, CBAC return traffic only for
/// inspected sessions, the ftp helper, and NFQUEUE for smtp/esmtp sessions. Pure: text in, text out.
///
/// Netfilter stands in for IOS's order of operations like this:
/// - raw PREROUTING: `ftp` inspection gets conntrack's ftp helper, so data connections are RELATED.
/// - mangle PREROUTING: inbound access lists, on packets as they arrive (IOS checks an inbound list
///   before NAT, so on the outside it sees the global address).
/// - nat PREROUTING: static NAT of the destination, outside to inside.
/// - mangle FORWARD: `ip inspect … in|out` marks the connections it creates (connmark).
/// - filter FORWARD: outbound access lists (IOS checks them after NAT; see `accessListChain`).
/// - mangle POSTROUTING: NFQUEUE for smtp/esmtp sessions, after every filter rule accepted them.
/// - nat POSTROUTING: static NAT of the source, inside to outside.
public enum IptablesRules {
    /// Connection mark bit: created through an `ip inspect` rule (a CBAC session).
    public static let inspectedMark: UInt32 = 0x0100_0000
    /// Connection mark bit: its rule inspects smtp or esmtp, so both directions are queued.
    public static let smtpMark: UInt32 = 0x0200_0000

    /// The rule set for `configuration`, or why there is none (an interface that needs rules has
    /// no Linux name, or the map names an interface the configuration lacks).
    public static func generate(
        _ configuration: IOSConfiguration, options: RuleOptions
    ) -> Result<GeneratedRules, RuleGenerationErrors> {
        var generator = RuleGenerator(configuration: configuration, options: options)
        let errors = generator.resolveInterfaces()
        guard errors.isEmpty else { return .failure(RuleGenerationErrors(errors: errors)) }
        return .success(generator.build())
    }
}

struct RuleGenerator {
    let configuration: IOSConfiguration
    let options: RuleOptions
    /// Linux name by IOS name (the configuration's spelling).
    var linuxNames: [String: String] = [:]
    /// Mapped interfaces that are not shut down, in configuration order.
    var active: [(interface: Interface, linux: String)] = []

    init(configuration: IOSConfiguration, options: RuleOptions) {
        self.configuration = configuration
        self.options = options
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
                    hint: "add --interface \(interface.name)=LINUXNAME", location: interface.location))
            }
        }
        return errors
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

    /// Inspections applied on active interfaces, with the Linux name.
    var inspections: [(interface: Interface, linux: String, direction: Direction, rule: InspectionRule)] {
        configuration.inspectionAttachments.compactMap { attachment in
            linuxNames[attachment.interface.name].map { (attachment.interface, $0, attachment.direction, attachment.rule) }
        }
    }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    static func markMatch(_ bits: UInt32) -> String { "-m connmark --mark \(hex(bits))/\(hex(bits))" }

    static func interfaceMatch(_ linux: String, _ direction: Direction, negated: Bool = false) -> String {
        (negated ? "! " : "") + (direction == .in ? "-i " : "-o ") + linux
    }

    static func line(_ location: SourceLocation?) -> String {
        location.map { " (line \($0.line))" } ?? ""
    }
}
