import IOSConfig
import Testing

/// Every `ip inspect name` protocol IOS accepts, what each becomes, and the NAT forms.
@Suite struct InspectAndNATTests {
    static func parsed(_ text: String) throws -> ParsedConfiguration {
        try IOSConfigParser.parse(text, fileName: "i.cfg").get()
    }

    static func rules(_ text: String, _ map: [String]) throws -> GeneratedRules {
        let model = try parsed(text).configuration
        return try IptablesRules.generate(model, options: RuleOptions(interfaces: map.compactMap(InterfaceMapping.init(argument:)))).get()
    }

    /// A valid IOS line is never an error: each of IOS 12.4's application names is accepted.
    @Test(arguments: ["cuseeme", "dns", "h323", "imap", "netshow", "pop3", "rcmd", "realaudio", "rtsp", "sip", "skinny",
                      "sqlnet", "streamworks", "tftp", "vdolive", "ssh", "https", "telnet", "ntp", "snmp", "pptp", "irc",
                      "ldap", "gtpv1", "msrpc", "mysql", "x11"])
    func everyApplicationNameIsAccepted(_ name: String) throws {
        let parsed = try InspectAndNATTests.parsed("ip inspect name R \(name)\n")
        #expect(parsed.configuration.inspectionRule(named: "R")?.protocols.first?.kind.rawValue == name)
        #expect(parsed.lines[0].disposition.isApplied)
    }

    @Test(arguments: [
        ("ip inspect name R rtsp\n", LineReport.Disposition.approximated(
            "tcp session tracking on ports 554,8554; no Linux conntrack helper for rtsp opens media streams on ports negotiated in the control connection")),
        ("ip inspect name R h323\n", .appliedAs("tcp session tracking on port 1720 and udp session tracking on port 1719 with conntrack's Q.931/RAS helper")),
        ("ip inspect name R dns\n", .appliedAs("tcp session tracking on port 53 and udp session tracking on port 53")),
        ("ip inspect name R udp timeout 45\n", .appliedAs("conntrack tracking of every UDP session, idle timeout 45 s (conntrack timeout policy)")),
        ("ip inspect name R appfw POLICY\n", .ignored("ignored: the application firewall (appfw policy) has no Linux equivalent")),
        ("ip inspect name R fragment maximum 256 timeout 1\n", .approximated(
            "conntrack reassembles IP fragments before any rule; reassembly timeout 1 s (net.ipv4.ipfrag_time); `maximum`: Linux bounds reassembly by memory (net.ipv4.ipfrag_high_thresh), not by count; one reassembly timeout for the whole router, not per rule")),
        ("ip inspect name R esmtp\n", .appliedAs("inspected by smtp-inspect (NFQUEUE) on tcp 25")),
    ])
    func checkSaysWhatEachBecame(_ text: String, _ disposition: LineReport.Disposition) throws {
        let parsed = try InspectAndNATTests.parsed(text)
        #expect(parsed.lines[0].disposition == disposition)
        if case .approximated = disposition { #expect(parsed.warnings.contains { $0.kind == .approximated }) }
        if case .ignored = disposition { #expect(parsed.warnings.contains { $0.kind == .noLinuxEquivalent }) }
    }

    /// `fragment` is not a protocol: its options are said to be its own.
    @Test func fragmentIsNotCalledAProtocol() {
        let error = parseErrors("ip inspect name R fragment maximum 256 alert on\n").first
        #expect(error?.hint.contains("`fragment` is not a protocol") == true, "\(String(describing: error))")
    }

    @Test func laterGlobalOptionsAreAcceptedWithANote() throws {
        for line in ["ip inspect WAAS enable", "ip inspect log drop-pkt", "ip inspect tcp reassembly queue length 16",
                     "ip inspect tcp reassembly alarm off", "ip inspect hashtable-size 1024", "ip inspect tcp window-scale-enforcement loose"] {
            let parsed = try InspectAndNATTests.parsed(line + "\n")
            guard case .ignored(let reason) = parsed.lines[0].disposition else { Issue.record("\(line) applied"); continue }
            #expect(reason.hasPrefix("accepted, not applied: "), "\(line)")
            #expect(parsed.warnings.map(\.kind) == [.noLinuxEquivalent], "\(line)")
        }
    }

    /// Per-protocol timeouts become conntrack timeout policies, set on the session's first packet.
    @Test func timeoutsAreConntrackPolicies() throws {
        let text = "ip inspect name R udp timeout 45\nip inspect name R tftp\ninterface E0\n ip inspect R in\n"
        let rules = try InspectAndNATTests.rules(text, ["E0=e0"])
        #expect(rules.setup.contains(.timeout(name: "si-udp-45", policy: "udp unreplied 45 replied 45")))
        let raw = RuleGeneratorTests.ruleLines(rules).filter { $0.contains("-j CT") }.map(RuleGeneratorTests.uncommented)
        #expect(raw == [
            "-A SI-PREROUTING -i e0 -p udp -m udp --dport 69 -j CT --helper tftp",
            "-A SI-PREROUTING -i e0 -p udp -j CT --timeout si-udp-45",
        ])
        #expect(rules.text.contains("\n# SETUP timeout si-udp-45 udp unreplied 45 replied 45\n"))
    }

    @Test func routerTrafficMarksTheRoutersOwnSessions() throws {
        let text = "ip inspect name R tcp router-traffic\ninterface E0\n ip inspect R out\n"
        let lines = RuleGeneratorTests.ruleLines(try InspectAndNATTests.rules(text, ["E0=e0"])).map(RuleGeneratorTests.uncommented)
        #expect(lines.contains("-A SI-OUTPUT -o e0 -m conntrack --ctstate NEW -j SI-RTR-1"))
        #expect(lines.contains("-A SI-RTR-1 -p tcp -m tcp --syn -j CONNMARK --set-xmark 0x1000000/0x1000000"))
        // Their timeout too: the router's own sessions start in OUTPUT.
        let timed = "ip inspect name R udp router-traffic timeout 20\ninterface E0\n ip inspect R out\n"
        let raw = RuleGeneratorTests.ruleLines(try InspectAndNATTests.rules(timed, ["E0=e0"])).map(RuleGeneratorTests.uncommented)
        #expect(raw.contains("-A SI-OUTPUT -o e0 -p udp -j CT --timeout si-udp-20"))
        #expect(raw.contains("-A SI-PREROUTING ! -i e0 -p udp -j CT --timeout si-udp-20"))
    }

    static let dialer = """
        ip inspect name MAIL esmtp
        interface Dialer1
         ip address negotiated
         ip nat outside
         ip inspect MAIL in
        interface Vlan1
         ip address 10.10.10.1 255.255.255.0
         ip nat inside
        ip access-list standard LAN
         permit 10.10.10.0 0.0.0.255
        ip nat inside source list LAN interface Dialer1 overload
        ip nat inside source static tcp 10.10.10.2 25 interface Dialer1 25

        """

    @Test func patAndAPortForwardToADialer() throws {
        let rules = try InspectAndNATTests.rules(InspectAndNATTests.dialer, ["Dialer1=ppp0", "Vlan1=lan0"])
        let nat = RuleGeneratorTests.ruleLines(rules).filter { $0.contains("NAT") || $0.contains("MASQ") || $0.contains("DNAT") }
            .map(RuleGeneratorTests.uncommented)
        #expect(nat == [
            "-A SI-PREROUTING -i ppp0 -p tcp -m tcp --dport 25 -m addrtype --dst-type LOCAL --limit-iface-in -j DNAT --to-destination 10.10.10.2:25",
            "-A SI-POSTROUTING -o ppp0 -s 10.10.10.2/32 -p tcp -m tcp --sport 25 -j MASQUERADE --to-ports 25",
            "-A SI-POSTROUTING -o ppp0 -j SI-NAT-1",
            "-A SI-NAT-1 -s 10.10.10.0/24 -j MASQUERADE",
        ])
        // No alias: the dialer's address is the peer's to give.
        #expect(!rules.setup.contains { if case .address = $0 { true } else { false } })
    }

    @Test func poolsAndNetworkMappings() throws {
        let text = """
            interface E0
             ip address 192.0.2.1 255.255.255.0
             ip nat outside
            interface E1
             ip address 10.0.0.1 255.255.255.0
             ip nat inside
            access-list 5 permit 10.0.0.0 0.0.0.255
            ip nat pool P 192.0.2.10 192.0.2.12 prefix-length 24
            ip nat inside source list 5 pool P
            ip nat inside source static network 10.0.1.0 192.0.2.128 /25

            """
        let parsed = try InspectAndNATTests.parsed(text)
        #expect(parsed.lines[8].disposition == .approximated(
            "dynamic NAT to pool P: Linux shares an address between inside hosts (ports translated) where IOS gives each its own"))
        let rules = try InspectAndNATTests.rules(text, ["E0=e0", "E1=e1"])
        let lines = RuleGeneratorTests.ruleLines(rules).map(RuleGeneratorTests.uncommented)
        #expect(lines.contains("-A SI-NAT-1 -s 10.0.0.0/24 -j SNAT --to-source 192.0.2.10-192.0.2.12 --persistent"))
        #expect(lines.contains("-A SI-PREROUTING -i e0 -d 192.0.2.128/25 -j NETMAP --to 10.0.1.0/25"))
        #expect(lines.contains("-A SI-POSTROUTING -o e0 -s 10.0.1.0/25 -j NETMAP --to 192.0.2.128/25"))
        #expect(rules.setup.filter { if case .address = $0 { true } else { false } }.count == 3)
    }

    @Test func routeMapNATGoesThroughEachEntrysLists() throws {
        let text = """
            interface E0
             ip nat outside
            interface E1
             ip nat inside
            ip access-list extended A
             deny ip 10.0.0.0 0.0.0.255 10.9.0.0 0.0.255.255
             permit ip 10.0.0.0 0.0.0.255 any
            route-map M permit 10
             match ip address A
             match interface E0
            ip nat inside source route-map M interface E0 overload

            """
        let lines = RuleGeneratorTests.ruleLines(try InspectAndNATTests.rules(text, ["E0=e0", "E1=e1"])).map(RuleGeneratorTests.uncommented)
        #expect(lines.filter { $0.hasPrefix("-A SI-NAT-1") } == [
            "-A SI-NAT-1 -o e0 -j SI-NAT-1-1-1",
            "-A SI-NAT-1-1-1 -s 10.0.0.0/24 -d 10.9.0.0/16 -j RETURN",
            "-A SI-NAT-1-1-1 -s 10.0.0.0/24 -j MASQUERADE",
        ])
    }

    @Test func aRefusedRuleIsSaidToBeRefusedNotMissing() {
        let errors = parseErrors("ip inspect name MAIL esmtp alerts on\ninterface E0\n ip inspect MAIL in\n")
        #expect(errors.map(\.kind) == [.unknownOption, .undefinedInspectionRule])
        #expect(errors.last?.summary == "interface Ethernet0 uses inspection rule MAIL, whose lines were refused (the first on line 1)")
    }
}
