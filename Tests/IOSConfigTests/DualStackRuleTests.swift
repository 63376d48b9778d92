import IOSConfig
import Testing

/// Issue 11's "no way around the inspector": what inspects each family on each interface, what
/// `check` says of it, and the ip6tables rule set made from it.
@Suite struct DualStackRuleTests {
    static func model(_ text: String) throws -> IOSConfiguration {
        try IOSConfigParser.parse(text, fileName: "ds.cfg").get().configuration
    }

    static func rules(_ model: IOSConfiguration, _ map: [String], family: AddressFamily = .ipv6,
                      queue: NFQueueTarget = .number(0), bypass: Bool = false) throws -> GeneratedRules {
        let options = RuleOptions(interfaces: map.compactMap(InterfaceMapping.init(argument:)), queue: queue, queueBypass: bypass)
        return try IptablesRules.generate(model, options: options, family: family).get()
    }

    static func ruleLines(_ rules: GeneratedRules) -> [String] {
        rules.text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-") }
    }

    static let seedMap = ["Ethernet2/0=ext0", "Ethernet2/1=int0"]

    /// The seed speaks only of IPv4: its IPv6 SMTP entering Ethernet2/0 is inspected with
    /// OUT-IN's smtp, and nothing else of IPv6 is touched (IN-OUT inspects no smtp).
    @Test func theSeedsIPv6SMTPIsInspectedWithOUTIN() throws {
        let seed = try Repository.seed().configuration
        let v6 = seed.inspectionAttachments(family: .ipv6)
        #expect(v6.map { "\($0.interface.name) \($0.direction) \($0.rule.name) \($0.rule.protocols.map(\.kind))" }
                == ["Ethernet2/0 in OUT-IN [smtp]"])
        #expect(v6.first?.borrowedFrom == .ipv4 && v6.first?.ruleFamily == .ipv4)
        #expect(seed.inspectionAttachments(family: .ipv4).allSatisfy { $0.borrowedFrom == nil })
        #expect(seed.smtpAttachments.map { "\($0.family) \($0.interface.name)" } == ["IPv4 Ethernet2/0", "IPv6 Ethernet2/0"])
        let warning = try #require(try Repository.seed().warnings.first { $0.kind == .familyGap })
        #expect(warning.location.line == 84)
        #expect(warning.summary == "OUT-IN inspects smtp over IPv4 only on Ethernet2/0: IPv6 SMTP entering through it is inspected with OUT-IN's smtp too")

        let lines = DualStackRuleTests.ruleLines(try DualStackRuleTests.rules(seed, DualStackRuleTests.seedMap))
        #expect(lines.contains { $0.hasPrefix("-A SI-POSTROUTING -p tcp -m connmark --mark 0x2000000/0x2000000 ") && $0.hasSuffix("-j NFQUEUE --queue-num 0") })
        #expect(lines.filter { $0.contains("CONNMARK --set-xmark 0x3000000") } == [
            "-A SI-INSP4-OUT-IN -p tcp -m tcp --dport 25 --syn -m comment --comment \"ip inspect name OUT-IN smtp (line 51)\" -j CONNMARK --set-xmark 0x3000000/0x3000000",
        ])
        #expect(!lines.contains { $0.contains("ACL") }, "the IPv4 access list 101 has no IPv6 meaning")
    }

    /// An `ipv6 inspect` on the interface, with or without smtp, is the configuration's own word
    /// on IPv6 there: nothing is borrowed. An IPv6-only interface lends its smtp to IPv4.
    @Test(arguments: [
        ("ipv6 inspect V6 in", "tcp", [String](), [String]()),
        ("ipv6 inspect V6 in", "esmtp", ["IPv6 V6 own"], [String]()),
        ("ipv6 inspect V6 out", "esmtp", ["IPv6 MAIL borrowed", "IPv6 V6 own"], [String]()),
    ])
    func whatIsBorrowed(_ line: String, _ protocolName: String, _ smtp6: [String], _ unused: [String]) throws {
        let model = try DualStackRuleTests.model("""
            ip inspect name MAIL esmtp
            ipv6 inspect name V6 \(protocolName)
            interface E0
             ip inspect MAIL in
             \(line)
            """)
        let found = model.smtpAttachments.filter { $0.family == .ipv6 }
            .map { "\($0.family) \($0.rule.name) \($0.borrowedFrom == nil ? "own" : "borrowed")" }
        #expect(found == smtp6)
    }

    @Test func anIPv6OnlyInterfaceLendsItsSMTPToIPv4() throws {
        let model = try DualStackRuleTests.model("""
            ipv6 inspect name V6MAIL esmtp max-data 1000
            interface Tunnel0
             no ip address
             ipv6 address 2001:DB8:FFFF::2/64
             ipv6 inspect V6MAIL in
            """)
        let v4 = model.inspectionAttachments(family: .ipv4)
        #expect(v4.map { "\($0.rule.name) \($0.borrowedFrom?.description ?? "-")" } == ["V6MAIL IPv6"])
        let lines = DualStackRuleTests.ruleLines(try DualStackRuleTests.rules(model, ["Tunnel0=sit1"], family: .ipv4))
        #expect(lines.contains("-A SI-FORWARD -i sit1 -m conntrack --ctstate NEW -m comment --comment \"Tunnel0: ipv6 inspect V6MAIL in (line 5), its smtp for IPv4 too\" -j SI-INSP6-V6MAIL"))
        #expect(lines.contains { $0.hasPrefix("-A SI-INSP6-V6MAIL -p tcp -m tcp --dport 25 --syn -m comment --comment \"ipv6 inspect name V6MAIL esmtp max-data 1000") })
    }

    /// IOS's names of `ip inspect` and `ipv6 inspect` rules are apart: one name in each family
    /// makes two chains, never one shared.
    @Test func theSameNameInBothFamiliesMakesTwoChains() throws {
        let model = try DualStackRuleTests.model("""
            ip inspect name MAIL smtp
            ipv6 inspect name MAIL tcp
            interface E0
             ip inspect MAIL in
            interface E1
             ipv6 inspect MAIL in
            """)
        let lines = DualStackRuleTests.ruleLines(try DualStackRuleTests.rules(model, ["E0=e0", "E1=e1"]))
        #expect(lines.filter { $0.contains("CONNMARK") && !$0.hasPrefix("-A SI-POSTROUTING") }.map { $0.split(separator: " ")[1] } == ["SI-INSP4-MAIL", "SI-INSP-MAIL"])
    }

    @Test func accessListChainsEndAsIOSEndsThem() throws {
        let model = try DualStackRuleTests.model("""
            ipv6 access-list V6-IN
             permit tcp any host 2001:DB8:10:10::2 eq smtp
             permit tcp 2001:DB8::/32 any eq 22 log
             permit icmp any any echo-request
             deny udp any any range 1000 2000
             evaluate V6-REFLECT
            ipv6 access-list V6-OUT
             permit tcp any any reflect V6-REFLECT
            interface E0
             ipv6 traffic-filter V6-IN in
             ipv6 traffic-filter V6-OUT out
            """)
        let rules = try DualStackRuleTests.rules(model, ["E0=ext0"])
        let acl = DualStackRuleTests.ruleLines(rules).filter { $0.hasPrefix("-A SI-ACL-V6-IN ") }.map(RuleGeneratorTests.uncommented)
        #expect(acl == [
            "-A SI-ACL-V6-IN -p tcp -d 2001:db8:10:10::2/128 -m tcp --dport 25 -j RETURN",
            "-A SI-ACL-V6-IN -p tcp -s 2001:db8::/32 -m tcp --dport 22 -m limit --limit 1/sec --limit-burst 5 -j LOG --log-prefix \"list V6-IN permitted \"",
            "-A SI-ACL-V6-IN -p tcp -s 2001:db8::/32 -m tcp --dport 22 -j RETURN",
            "-A SI-ACL-V6-IN -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j RETURN",
            "-A SI-ACL-V6-IN -p udp -m udp --dport 1000:2000 -j DROP",
            "-A SI-ACL-V6-IN -m connmark --mark 0x4000000/0x4000000 -m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY -j RETURN",
            "-A SI-ACL-V6-IN -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN",
            "-A SI-ACL-V6-IN -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN",
            "-A SI-ACL-V6-IN -j DROP",
        ])
        let text = rules.text
        #expect(text.contains("\"V6-IN: implicit permit icmp any any nd-na\""))
        #expect(text.contains("-A SI-PREROUTING -i ext0 -m comment --comment \"Ethernet0: ipv6 traffic-filter V6-IN in (line 10)\" -j SI-IN-ext0"))
        #expect(text.contains("-A SI-FORWARD -o ext0 -m comment --comment \"Ethernet0: ipv6 traffic-filter V6-OUT out (line 11)\" -j SI-OUT-ext0"))
        #expect(text.contains("-A SI-ACL-V6-OUT -p tcp -m conntrack --ctstate NEW"))
    }

    /// The same shape as the IPv4 file (SI- chains, commented jumps), without a nat table; the
    /// fragment guard only where SMTP is queued; a routing header with segments left dropped
    /// unless `ipv6 inspect routing-header`.
    @Test func theIPv6FileHasTheIPv4FilesShape() throws {
        let seed = try DualStackRuleTests.rules(try Repository.seed().configuration, DualStackRuleTests.seedMap)
        let lines = seed.text.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("*") } == ["*raw", "*mangle", "*filter"])
        for declaration in lines where declaration.hasPrefix(":") { #expect(declaration.hasPrefix(":SI-") && declaration.hasSuffix(" - [0:0]")) }
        for rule in lines where rule.hasPrefix("-A ") { #expect(rule.hasPrefix("-A SI-"), "\(rule)") }
        for jump in lines where jump.hasPrefix("-I ") { #expect(jump.contains(" 1 -m comment --comment \"smtp-inspect\" -j SI-")) }
        #expect(lines.filter { $0.hasPrefix("-A SI-FRAG ") }.map(RuleGeneratorTests.uncommented) == [
            "-A SI-FRAG -m frag --fragmore -j DROP", "-A SI-FRAG -m frag --fragfirst -j RETURN", "-A SI-FRAG -j DROP",
        ])
        #expect(lines.filter { $0.contains("--rt-segsleft 1:255") }.count == 2)
        let noSMTP = try DualStackRuleTests.rules(try DualStackRuleTests.model("ipv6 inspect name V6 tcp\ninterface E0\n ipv6 inspect V6 in\n"), ["E0=e0"])
        #expect(!noSMTP.text.contains("SI-FRAG") && !noSMTP.text.contains("-j NFQUEUE"))
        let passed = try DualStackRuleTests.rules(try DualStackRuleTests.model("ipv6 inspect routing-header\nipv6 inspect name V6 smtp\ninterface E0\n ipv6 inspect V6 in\n"), ["E0=e0"])
        #expect(!passed.text.contains("--rt-segsleft") && passed.text.contains("-j NFQUEUE --queue-num 0"))
    }

    @Test func antiSpoofingUsesTheOtherInterfacesPrefixesNotLinkLocal() throws {
        let model = try DualStackRuleTests.model("""
            interface E0
             ipv6 address 2001:DB8:22:1::16/64
             ipv6 address FE80::1 link-local
            interface E1
             ipv6 address 2001:DB8:10:10::1/64
             ipv6 address 2001:DB8:10:11::1/64 eui-64
             ipv6 address FE80::1 link-local
            interface E2
             ipv6 address 2001:DB8:10::1/48
            """)
        let lines = DualStackRuleTests.ruleLines(try DualStackRuleTests.rules(model, ["E0=e0", "E1=e1", "E2=e2"]))
            .filter { $0.hasPrefix("-A SI-SPOOF-") }.map(RuleGeneratorTests.uncommented)
        #expect(lines == [
            "-A SI-SPOOF-e0 -s 2001:db8:10:10::/64 -j DROP", "-A SI-SPOOF-e0 -s 2001:db8:10:11::/64 -j DROP",
            "-A SI-SPOOF-e0 -s 2001:db8:10::/48 -j DROP",
            "-A SI-SPOOF-e1 -s 2001:db8:22:1::/64 -j DROP",
            "-A SI-SPOOF-e2 -s 2001:db8:22:1::/64 -j DROP",
        ])
    }

    @Test func helpersTimeoutsAndTheForwardingSysctl() throws {
        let model = try DualStackRuleTests.model("""
            ipv6 unicast-routing
            ipv6 inspect udp idle-time 45
            ipv6 inspect name V6 ftp
            ipv6 inspect name V6 pptp
            ipv6 inspect name V6 udp
            ipv6 inspect name V6 icmp timeout 7
            interface E0
             ipv6 inspect V6 in
            """)
        let rules = try DualStackRuleTests.rules(model, ["E0=e0"])
        #expect(rules.setup == [
            .sysctl(name: "net.ipv6.conf.all.forwarding", value: "1"), .module("nf_conntrack_ftp"), .module("nf_nat_ftp"),
            .timeout6(name: "si6-udp-45", policy: "udp unreplied 45 replied 45"),
            .timeout6(name: "si6-icmpv6-7", policy: "icmpv6 timeout 7"),
        ])
        #expect(rules.text.contains("-A SI-PREROUTING -i e0 -p tcp -m tcp --dport 21 -m comment --comment \"Ethernet0: ipv6 inspect V6 in, ftp\" -j CT --helper ftp"))
        #expect(!rules.text.contains("--helper pptp"), "Linux's pptp helper is IPv4 only")
        #expect(rules.text.contains("-A SI-PREROUTING -i e0 -p ipv6-icmp -m comment --comment \"Ethernet0: ipv6 inspect V6 in, icmp\" -j CT --timeout si6-icmpv6-7"))
        let parsed = try IOSConfigParser.parse("ipv6 inspect name V6 pptp\n", fileName: "p.cfg").get()
        #expect(parsed.warnings.contains { $0.summary.contains("IPv4 only") })
        #expect(try DualStackRuleTests.rules(model, ["E0=e0"], family: .ipv4).setup == [.sysctl(name: "net.ipv4.ip_forward", value: "1")])
        // `fragment … timeout` for IPv6 is conntrack's IPv6 reassembly timeout, which comes with nf_defrag_ipv6.
        let fragments = try DualStackRuleTests.model("ipv6 inspect name V6 fragment maximum 256 timeout 3\nipv6 inspect name V6 tcp\ninterface E0\n ipv6 inspect V6 in\n")
        #expect(try DualStackRuleTests.rules(fragments, ["E0=e0"]).setup == [
            .module("nf_defrag_ipv6"), .sysctl(name: "net.netfilter.nf_conntrack_frag6_timeout", value: "3"),
        ])
    }

    /// Both families need the same map: an interface with only IPv6 rules needs its Linux name,
    /// and `rules --family ipv6` fails as `--family ipv4` does.
    @Test func anIPv6OnlyInterfaceNeedsItsLinuxName() throws {
        let model = try DualStackRuleTests.model("ipv6 inspect name V6 esmtp\ninterface Tunnel0\n ipv6 inspect V6 in\n")
        for family in AddressFamily.allCases {
            let options = RuleOptions(interfaces: [])
            guard case .failure(let failure) = IptablesRules.generate(model, options: options, family: family) else {
                Issue.record("\(family): rules without a map")
                continue
            }
            #expect(failure.errors.first?.hint == "add --interface Tunnel0=LINUXNAME (or --interface auto)")
        }
    }
}
