/// Where iptables sends smtp/esmtp-inspected packets.
public enum NFQueueTarget: Hashable, Sendable, CustomStringConvertible {
    /// `--queue-num N`
    case number(UInt16)
    /// `--queue-balance FIRST:LAST`: the kernel hashes source and destination address
    /// symmetrically, so both directions of a session reach the same queue.
    case balance(UInt16, UInt16)

    /// Reads `N` or `A-B` (the `--queue`/`--queues` arguments).
    public init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) else { return nil }
        let numbers = parts.compactMap { UInt16($0) }
        guard numbers.count == parts.count else { return nil }
        switch numbers.count {
        case 1: self = .number(numbers[0])
        case 2 where numbers[0] < numbers[1]: self = .balance(numbers[0], numbers[1])
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .number(let queue): "queue \(queue)"
        case .balance(let first, let last): "queues \(first)-\(last)"
        }
    }
}

/// `IOSNAME=LINUXNAME`: which Linux interface plays an IOS interface.
public struct InterfaceMapping: Hashable, Sendable {
    public var iosName: String
    public var linuxName: String

    public init?(iosName: String, linuxName: String) {
        guard !iosName.isEmpty, InterfaceMapping.isValidLinuxName(linuxName) else { return nil }
        self.iosName = iosName
        self.linuxName = linuxName
    }

    /// Reads `Ethernet2/0=ext0` (the `--interface` argument).
    public init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        self.init(iosName: String(parts[0]), linuxName: String(parts[1]))
    }

    /// Linux interface names as the rules can carry them: 1-15 of `A-Z a-z 0-9 - _ .`, not `.` or
    /// `..` (the kernel allows more, but such names would need quoting in rules and chain names).
    public static func isValidLinuxName(_ name: String) -> Bool {
        guard (1...15).contains(name.utf8.count), name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "-" || scalar == "_" || scalar == "."
        }
    }
}

/// The choices `smtp-inspect rules` takes besides the configuration.
public struct RuleOptions: Hashable, Sendable {
    public var interfaces: [InterfaceMapping]
    public var queue: NFQueueTarget
    /// `--queue-bypass`: when no program listens on the queue, packets pass uninspected
    /// (fail open). Without it they are dropped (fail closed).
    public var queueBypass: Bool
    /// Named in the file's header.
    public var sourceName: String
    /// How the map was made, for the header (`--interface auto: by address`).
    public var mapNote: String?

    public init(
        interfaces: [InterfaceMapping], queue: NFQueueTarget = .number(0), queueBypass: Bool = false,
        sourceName: String = "running-config", mapNote: String? = nil
    ) {
        self.interfaces = interfaces
        self.queue = queue
        self.queueBypass = queueBypass
        self.sourceName = sourceName
        self.mapNote = mapNote
    }
}

/// Something the setup script must do besides loading the rules; each also appears in the file
/// as a `# SETUP …` line.
public enum SetupAction: Hashable, Sendable, CustomStringConvertible {
    /// Set a sysctl (remove: put back the value it had).
    case sysctl(name: String, value: String)
    /// Load a kernel module (remove: leave it loaded).
    case module(String)
    /// `ip addr add ADDRESS/32 dev DEVICE` (remove: `ip addr del`): IOS answers ARP for a static
    /// NAT's global address on the outside interface ("ip alias"); a local address makes Linux do it.
    case address(device: String, address: IPv4Address)
    /// `nfct add timeout NAME inet PROTOCOL STATE SECONDS …` (remove: `nfct delete timeout NAME`):
    /// the conntrack timeout policy an inspected protocol's `timeout` becomes.
    case timeout(name: String, policy: String)
    /// The same for IPv6 sessions (`nfct add timeout NAME inet6 …`): conntrack keeps a policy
    /// to one family.
    case timeout6(name: String, policy: String)

    /// The text after `# SETUP `.
    public var description: String {
        switch self {
        case .sysctl(let name, let value): "sysctl \(name)=\(value)"
        case .module(let name): "module \(name)"
        case .address(let device, let address): "address \(device) \(address)/32"
        case .timeout(let name, let policy): "timeout \(name) \(policy)"
        case .timeout6(let name, let policy): "timeout6 \(name) \(policy)"
        }
    }
}

/// The rule set: `iptables-restore --noflush` input, and the setup actions it needs.
public struct GeneratedRules: Hashable, Sendable {
    public var text: String
    public var setup: [SetupAction]
}

/// Why rules could not be generated (the configuration itself was valid).
public struct RuleGenerationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String
    /// The configuration line concerned, when there is one.
    public var location: SourceLocation?

    public init(_ message: String, hint: String, location: SourceLocation? = nil) {
        self.message = message
        self.hint = hint
        self.location = location
    }

    public var description: String {
        (location.map { "\($0): " } ?? "") + "error: \(message)\n    hint: \(hint)"
    }
}

/// Every reason the rules could not be generated; never empty.
public struct RuleGenerationErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public var errors: [RuleGenerationError]

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
