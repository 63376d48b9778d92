import ArgumentParser
import IOSConfig

/// `smtp-inspect rules --config FILE --interface IOSNAME=LINUXNAME … [--queue N | --queues A-B]
/// [--queue-bypass]`: prints the `iptables-restore --noflush` rule set that gives this Linux box
/// the configuration's NAT, access lists and inspection; scripts/setup-iptables.sh loads it.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Print the iptables-restore rule set (and its # SETUP lines) for a configuration.",
        discussion: """
            The output is for `iptables-restore --noflush`: every chain it creates is named SI-*, \
            and its `# SETUP` lines name what must be done besides (sysctl, modprobe, the static \
            NAT global addresses on the outside interface). scripts/setup-iptables.sh does all \
            of it, idempotently, and undoes it.

            Every interface that has an access list, an inspection or NAT needs --interface; \
            `--interface auto` maps each interface whose `ip address` this box has to the Linux \
            interface that has it (the header shows the map).

            Both families by default: the IPv4 rule set (for iptables-restore), then, after a \
            `# ==== IPv6` line, the IPv6 one (for ip6tables-restore). `--family ipv4|ipv6` prints \
            one alone, ready to load.

            Exit status: 0 printed; 2 the configuration is invalid or the rules cannot be made \
            (e.g. an interface without a Linux name: the message names the flag to add); 64 the \
            command line is wrong.
            """
    )

    @Option(help: ArgumentHelp("The IOS running-config to translate.", valueName: "file"))
    var config: String

    @OptionGroup var datapath: DatapathOptions

    @Flag(help: """
        While no smtp-inspect is bound to the queue, let smtp/esmtp sessions pass uninspected \
        (fail open). Without it they stop (fail closed), as an IOS router forwards nothing its \
        inspection has not seen.
        """)
    var queueBypass = false

    @Option(help: ArgumentHelp("Which rule set: ipv4 (iptables), ipv6 (ip6tables) or both (default).",
                               valueName: "ipv4|ipv6|both"))
    var family: FamilyChoice = .both

    enum FamilyChoice: String, ExpressibleByArgument, CaseIterable {
        case ipv4, ipv6, both
    }

    func run() throws {
        let parsed = try ConfigLoading.load(config)
        let options = RuleOptions(
            interfaces: try datapath.interfaces(for: parsed.configuration), queue: datapath.queueTarget,
            queueBypass: queueBypass, sourceName: ConfigLoading.displayName(config), mapNote: datapath.mapNote)
        let families: [AddressFamily] = switch family {
        case .ipv4: [.ipv4]
        case .ipv6: [.ipv6]
        case .both: [.ipv4, .ipv6]
        }
        var texts: [String] = []
        for family in families {
            switch IptablesRules.generate(parsed.configuration, options: options, family: family) {
            case .success(let rules):
                texts.append(rules.text)
            case .failure(let failure):
                for error in failure.errors { standardError(error.description) }
                standardError("smtp-inspect rules: no rules printed")
                throw ConfigLoading.configurationError
            }
        }
        print(texts.joined(separator: IptablesRules.familySeparator), terminator: "")
    }
}

/// `--interface IOSNAME=LINUXNAME … | auto` and `--queue N | --queues A-B`: which Linux interfaces
/// play the configuration's interfaces and where inspected packets are queued. Shared by the
/// subcommands that need the datapath (`rules`, and `run` through `@OptionGroup`).
struct DatapathOptions: ParsableArguments {
    @OptionGroup var interfaceOptions: InterfaceOptions

    func interfaces(for configuration: IOSConfiguration) throws -> [InterfaceMapping] {
        try interfaceOptions.interfaces(for: configuration)
    }

    var mapNote: String? { interfaceOptions.mapNote }

    @Option(
        help: ArgumentHelp("The NFQUEUE number for inspected sessions (default 0).", valueName: "n"),
        transform: DatapathOptions.queueNumber)
    var queue: UInt16?

    @Option(help: ArgumentHelp(
        "A range of NFQUEUE numbers, balanced per session (both directions of a session reach the same queue).",
        valueName: "first-last"))
    var queues: String?

    /// `--queue`, `--queues` or queue 0; valid once `validate()` passed.
    var queueTarget: NFQueueTarget {
        if let queues, let target = NFQueueTarget(argument: queues) { return target }
        return .number(queue ?? 0)
    }

    func validate() throws {
        if queue != nil && queues != nil {
            throw ValidationError("give --queue N or --queues FIRST-LAST, not both")
        }
        if let queues {
            guard case .balance = NFQueueTarget(argument: queues) else {
                throw ValidationError("""
                    --queues \(queues): expected FIRST-LAST with FIRST < LAST, both 0-65535 \
                    (e.g. --queues 0-3); for a single queue use --queue N
                    """)
            }
        }
    }

    @Sendable static func queueNumber(_ argument: String) throws -> UInt16 {
        if case .number(let queue) = NFQueueTarget(argument: argument) { return queue }
        throw ValidationError("expected a queue number 0-65535; for a range use --queues FIRST-LAST")
    }

}

/// One `--interface` argument.
enum InterfaceArgument: Equatable {
    case auto
    case mapping(InterfaceMapping)
}

/// `--interface IOSNAME=LINUXNAME … | auto`: which Linux interfaces play the configuration's
/// interfaces (`rules`, `run`, `check`).
struct InterfaceOptions: ParsableArguments {
    @Option(
        name: .customLong("interface"),
        help: ArgumentHelp(
            "Which Linux interface plays an IOS interface, e.g. Ethernet2/0=ext0 (repeat for each); "
                + "`auto`: every other interface by the address it has on this box.",
            valueName: "ios-name=linux-name|auto"),
        transform: InterfaceOptions.interfaceArgument)
    var interfaceArguments: [InterfaceArgument] = []

    /// `--interface auto` was given.
    var automatic: Bool { interfaceArguments.contains(.auto) }

    /// The pairs given explicitly.
    var explicitInterfaces: [InterfaceMapping] {
        interfaceArguments.compactMap { if case .mapping(let mapping) = $0 { mapping } else { nil } }
    }

    /// How the map was made, for the rules' header and `check`.
    var mapNote: String? { automatic ? "--interface auto: by address" : nil }

    /// The map for `configuration`: the explicit pairs and, with `auto`, the box's interfaces by
    /// address. A name that maps nowhere is printed with the candidates (exit status 2).
    func interfaces(for configuration: IOSConfiguration) throws -> [InterfaceMapping] {
        let host = automatic ? HostInterfaces.addresses() : []
        let host6 = automatic ? HostInterfaces.addresses6() : []
        switch InterfaceMap.resolve(configuration, explicit: explicitInterfaces, automatic: automatic, host: host, host6: host6) {
        case .success(let mappings): return mappings
        case .failure(let failure):
            for error in failure.errors { standardError(error.description) }
            standardError("smtp-inspect: the interface map is incomplete; nothing was printed")
            throw ConfigLoading.configurationError
        }
    }

    @Sendable static func interfaceArgument(_ argument: String) throws -> InterfaceArgument {
        if argument == "auto" { return .auto }
        return .mapping(try mapping(argument))
    }

    @Sendable static func mapping(_ argument: String) throws -> InterfaceMapping {
        if let mapping = InterfaceMapping(argument: argument) { return mapping }
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
            throw ValidationError("expected IOSNAME=LINUXNAME, e.g. Ethernet2/0=ext0")
        }
        let linux = argument[argument.index(after: equals)...]
        throw ValidationError("""
            `\(linux)` is not a Linux interface name smtp-inspect accepts: 1 to 15 of \
            A-Z a-z 0-9 - _ . (see `ip link`)
            """)
    }
}
