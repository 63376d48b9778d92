import IOSConfig
import Testing

/// IOS's IPv6 configuration (issue 11): addresses, `ipv6 access-list`, `ipv6 traffic-filter`,
/// `ipv6 inspect`, and what `check` says of them.
@Suite struct IPv6ConfigTests {
    static func parse(_ text: String) throws -> ParsedConfiguration {
        try IOSConfigParser.parse(text, fileName: "v6.cfg").get()
    }

    @Test(arguments: [
        ("2001:DB8:10:10::2", "2001:db8:10:10::2", "2001:DB8:10:10::2"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", "2001:DB8::1"),
        ("fe80::21a:2fff:fe11:2200", "fe80::21a:2fff:fe11:2200", "FE80::21A:2FFF:FE11:2200"),
        ("::", "::", "::"),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1", "2001:DB8:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:DB8::1:0:0:1"),
        ("::ffff:192.0.2.1", "::ffff:c000:201", "::FFFF:C000:201"),
    ])
    func addressesReadAndPrint(_ text: String, _ rfc5952: String, _ ios: String) throws {
        let address = try #require(IPv6Address(parsing: text))
        #expect(address.description == rfc5952)
        #expect(address.iosText == ios)
        #expect(IPv6Address(parsing: address.description) == address)
    }

    @Test(arguments: ["", ":", "1::2::3", "2001:db8:::1", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
                      "2001:db8::1%eth0", "2001:db8::/64", "192.0.2.1", "1:2:3:4:5:6:7::8"])
    func notAddresses(_ text: String) {
        #expect(IPv6Address(parsing: text) == nil, "\(text)")
    }

    @Test func prefixesMaskAndCover() throws {
        let prefix = IPv6Prefix(try #require(IPv6Address(parsing: "2001:db8:10:10::1")), length: 64)
        #expect(prefix.description == "2001:db8:10:10::/64")
        #expect(prefix.contains(try #require(IPv6Address(parsing: "2001:db8:10:10:ffff::5"))))
        #expect(!prefix.contains(try #require(IPv6Address(parsing: "2001:db8:10:11::5"))))
        #expect(IPv6Prefix(prefix.address, length: 48).covers(prefix))
        #expect(!prefix.covers(IPv6Prefix(prefix.address, length: 48)))
        #expect(try #require(IPv6Address(parsing: "fe80::1")).isLinkLocal)
        #expect(try !#require(IPv6Address(parsing: "fec0::1")).isLinkLocal)
    }

    @Test func interfaceLines() throws {
        let model = try IPv6ConfigTests.parse("""
            ipv6 unicast-routing
            interface GigabitEthernet0/0
             ipv6 address 2001:DB8:22:1::16/64
             ipv6 address 2001:DB8:22:2::/64 eui-64
             ipv6 address FE80::16 link-local
             ipv6 enable
             ipv6 traffic-filter IN6 in
             ipv6 traffic-filter OUT6 out
             ipv6 inspect V6 in
             ipv6 nd ra suppress
             ipv6 virtual-reassembly
            interface GigabitEthernet0/1
             ipv6 address autoconfig default
            interface GigabitEthernet0/2
             ipv6 address ISP-PD ::1/64
            ipv6 inspect name V6 esmtp
            ipv6 access-list IN6
             permit tcp any any eq smtp
            ipv6 access-list OUT6
             permit ipv6 any any
            """).configuration
        #expect(model.ipv6UnicastRouting?.line == 1)
        let outside = try #require(model.interface(named: "Gi0/0"))
        #expect(outside.ipv6Addresses.map(IOSText.ipv6Address) == [
            "ipv6 address 2001:DB8:22:1::16/64", "ipv6 address 2001:DB8:22:2::/64 eui-64", "ipv6 address FE80::16 link-local",
        ])
        #expect(outside.ipv6Addresses.compactMap(\.prefix).map(\.description) == ["2001:db8:22:1::/64", "2001:db8:22:2::/64"])
        #expect(outside.ipv6Enable != nil && outside.hasIPv6)
        #expect(outside.accessGroup(.in, family: .ipv6)?.value == "IN6")
        #expect(outside.accessGroup(.out, family: .ipv6)?.value == "OUT6")
        #expect(outside.inspection(.in, family: .ipv6)?.value == "V6")
        #expect(outside.accessGroup(.in, family: .ipv4) == nil && outside.needsRules)
        #expect(model.interface(named: "Gi0/1")?.ipv6DynamicAddress?.value == "autoconfig")
        #expect(model.interface(named: "Gi0/2")?.ipv6DynamicAddress?.value == "general-prefix ISP-PD")
    }

    @Test(arguments: [
        ("interface E0\n ipv6 address 2001:DB8::1\n", Diagnostic.Kind.malformed, 2, 15),
        ("interface E0\n ipv6 address 2001:DB8::1/129\n", .numberOutOfRange, 2, 15),
        ("interface E0\n ipv6 address 10.0.0.1/24\n", .badAddress, 2, 15),
        ("interface E0\n ipv6 address 2001:DB8::1 link-local\n", .badAddress, 2, 15),
        ("interface E0\n ipv6 address 2001:DB8::1/64 secondary\n", .unknownOption, 2, 30),
        ("ipv6 traffic-filter X in\n", .malformed, 1, 6),
        ("ipv6 inspect X in\n", .malformed, 1, 14),
        ("ipv6 access-list A\n permit ip any any\n", .badProtocol, 2, 9),
        ("ipv6 access-list A\n permit tcp any 10.0.0.0 0.0.0.255\n", .badAddress, 2, 17),
        ("ipv6 access-list A\n permit tcp any any time-range WORK\n", .unsupported, 2, 21),
        ("ipv6 access-list A\n permit ipv6 any any flow-label 7\n", .unsupported, 2, 22),
        ("ipv6 access-list A\n permit udp any any established\n", .unknownOption, 2, 21),
        ("ipv6 access-list A\n permit tcp any 2001:DB8::/200\n", .numberOutOfRange, 2, 17),
        ("ipv6 access-list A\n sequence 10 permit ipv6 any any\n sequence 10 deny ipv6 any any\n", .duplicateOption, 3, 2),
        ("ipv6 access-list A\n sequence 5\n", .malformed, 2, 12),
        ("ipv6 inspect name V6 smtp\nipv6 inspect name V6 esmtp\n", .smtpWithESMTP, 2, 22),
        ("ipv6 inspect name V6 nonsense\n", .unknownProtocol, 1, 22),
        ("interface E0\n ipv6 traffic-filter NOPE in\n", .undefinedAccessList, 2, 22),
        ("interface E0\n ipv6 inspect NOPE in\n", .undefinedInspectionRule, 2, 15),
    ])
    func errorsAreLocated(_ text: String, _ kind: Diagnostic.Kind, _ line: Int, _ column: Int) {
        let errors = parseErrors(text)
        #expect(errors.first?.kind == kind, "\(errors)")
        #expect(errors.first?.location.line == line && errors.first?.location.column == column, "\(errors)")
        #expect(errors.first?.hint.isEmpty == false)
    }

    /// A name of the other family's kind is the likely mistake: the error says so.
    @Test func theOtherFamilysNamesAreNamedInTheHint() {
        let filter = parseErrors("ip access-list extended MAIL\n permit tcp any any eq smtp\ninterface E0\n ipv6 traffic-filter MAIL in\n")
        #expect(filter.first?.hint.contains("MAIL is an IPv4 list") == true, "\(filter)")
        let group = parseErrors("ipv6 access-list V6\n permit ipv6 any any\ninterface E0\n ip access-group V6 in\n")
        #expect(group.first?.hint.contains("an IPv6 list goes in `ipv6 traffic-filter V6 in`") == true, "\(group)")
        let rule = parseErrors("ip inspect name MAIL esmtp\ninterface E0\n ip inspect MAIL in\n ipv6 inspect MAIL in\n")
        #expect(rule.first?.hint.contains("`ip inspect name` rule; IPv6 rules are defined with `ipv6 inspect name`") == true, "\(rule)")
    }

    @Test func accessListEntriesReadAsIOSPrintsThem() throws {
        let text = """
            ipv6 access-list EDGE
             remark the usual
             permit tcp any host 2001:DB8:10:10::2 eq smtp
             permit tcp 2001:DB8:FFFF::/48 any range 1000 2000 established log
             sequence 15 permit udp any eq domain any
             permit icmp any any nd-na
             permit icmp any any 1 4
             permit icmp any any packet-too-big
             deny ipv6 2001:DB8::/32 any routing-type 0 log-input
             deny ipv6 any any hbh
             permit tcp any any eq www syn sequence 45
             permit esp any any dscp af41
             deny ipv6 any any fragments
            """
        let parsed = try IPv6ConfigTests.parse(text)
        let list = try #require(parsed.configuration.ipv6AccessList(named: "EDGE"))
        #expect(list.entries.map(\.sequence) == [10, 15, 20, 30, 40, 45, 50, 60, 70, 80, 90])
        #expect(list.entries.map(IOSText.ipv6Entry) == [
            "permit tcp any host 2001:DB8:10:10::2 eq smtp",
            "permit udp any eq domain any",
            "permit tcp 2001:DB8:FFFF::/48 any range 1000 2000 established log",
            "permit icmp any any nd-na",
            "permit icmp any any port-unreachable",
            "permit tcp any any eq www syn",
            "permit icmp any any packet-too-big",
            "deny ipv6 2001:DB8::/32 any routing-type 0 log",
            "deny ipv6 any any hbh",
            "permit esp any any dscp 34",
            "deny ipv6 any any fragments",
        ])
        // `fragments` can never match: conntrack reassembles first. Said as an approximation.
        #expect(parsed.lines.first { $0.text.contains("fragments") }.map { if case .approximated = $0.disposition { true } else { false } } == true)
        // What it prints reads back the same.
        let again = try IPv6ConfigTests.parse(RunningConfig.render(parsed.configuration)).configuration
        #expect(again.ipv6AccessLists.map { $0.entries.map(IOSText.ipv6Entry) } == [list.entries.map(IOSText.ipv6Entry)])
        #expect(again.ipv6AccessLists.first?.entries.map(\.sequence) == list.entries.map(\.sequence))
    }

    @Test func hostBitsInAPrefixAreWarnedAndCleared() throws {
        let parsed = try IPv6ConfigTests.parse("ipv6 access-list A\n permit ipv6 2001:DB8::1/32 any\n")
        #expect(parsed.configuration.ipv6AccessLists[0].entries[0].match.source
                == .prefix(IPv6Prefix(try #require(IPv6Address(parsing: "2001:db8::")), length: 32)))
        #expect(parsed.warnings.map(\.kind).filter { $0 != .ipv6NotRouted } == [.wildcardHostBits])
    }

    @Test func noFormsOfASessionApply() throws {
        let model = try IPv6ConfigTests.parse("""
            ipv6 unicast-routing
            ipv6 inspect name V6 esmtp
            ipv6 inspect name V6 tcp
            ipv6 inspect audit-trail
            ipv6 access-list A
             permit ipv6 any any
            ipv6 access-list B
             sequence 10 permit tcp any any eq smtp
             sequence 20 deny ipv6 any any
             no sequence 20
            interface E0
             ipv6 traffic-filter A in
             ipv6 inspect V6 in
             no ipv6 traffic-filter A in
             no ipv6 inspect V6 in
            no ipv6 access-list A
            no ipv6 inspect name V6 tcp
            no ipv6 inspect audit-trail
            no ipv6 unicast-routing
            """).configuration
        #expect(model.ipv6UnicastRouting == nil)
        #expect(model.ipv6AccessLists.map(\.name) == ["B"])
        #expect(model.ipv6AccessLists[0].entries.map(\.sequence) == [10])
        #expect(model.ipv6InspectionRules.map { $0.protocols.map(\.kind) } == [[.esmtp]])
        #expect(model.ipv6Inspect.auditTrail.value == false)
        let interface = try #require(model.interface(named: "E0"))
        #expect(interface.trafficFilterIn == nil && interface.ipv6InspectIn == nil)
    }

    /// `ipv6 inspect` globals are IOS's own, apart from `ip inspect`'s; the one session table of
    /// smtp-inspect takes `ip inspect`'s, or `ipv6 inspect`'s where only it sets one.
    @Test func ipv6GlobalsAreTheirOwn() throws {
        let model = try IPv6ConfigTests.parse("""
            ip inspect tcp synwait-time 20
            ipv6 inspect tcp synwait-time 40
            ipv6 inspect tcp finwait-time 9
            ipv6 inspect tcp idle-time 1200
            ipv6 inspect name V6 esmtp
            """).configuration
        #expect(model.inspect.tcpSynwaitTime.value == 20 && model.ipv6Inspect.tcpSynwaitTime.value == 40)
        #expect(model.sessionGlobals.tcpSynwaitTime.value == 20)
        #expect(model.sessionGlobals.tcpFinwaitTime.value == 9)
        #expect(model.effective(model.ipv6InspectionRules[0].protocols[0], family: .ipv6).timeout == 1200)
        #expect(model.effective(model.ipv6InspectionRules[0].protocols[0]).timeout == 3600)
    }

    @Test func anExplicitDenyBeforeTheImplicitNeighbourDiscoveryPermitsIsWarned() throws {
        let parsed = try IPv6ConfigTests.parse("""
            ipv6 access-list DARK
             permit tcp any any eq smtp
             permit icmp any any nd-na
             deny ipv6 any any log
            ipv6 access-list LIT
             permit icmp any any
             deny ipv6 any any
            ipv6 access-list UNUSED
             deny ipv6 any any
            interface E0
             ipv6 traffic-filter DARK in
             ipv6 traffic-filter UNUSED out
            interface E1
             ipv6 traffic-filter LIT in
            """)
        let warnings = parsed.warnings.filter { $0.kind == .ipv6NeighborDiscovery }
        #expect(warnings.map(\.location.line) == [4])
        #expect(warnings.first?.summary.contains("(nd-ns)") == true)
    }

    @Test func ipv6WithoutUnicastRoutingIsWarnedOnce() throws {
        let unrouted = try IPv6ConfigTests.parse("interface E0\n ipv6 address 2001:DB8::1/64\n ipv6 enable\n")
        #expect(unrouted.warnings.filter { $0.kind == .ipv6NotRouted }.map(\.location.line) == [2])
        let routed = try IPv6ConfigTests.parse("ipv6 unicast-routing\ninterface E0\n ipv6 address 2001:DB8::1/64\n")
        #expect(!routed.warnings.contains { $0.kind == .ipv6NotRouted })
        let none = try Repository.seed()
        #expect(!none.warnings.contains { $0.kind == .ipv6NotRouted })
    }

    /// A terminal session's IPv6 access-list prompt keeps its entries in the list.
    @Test func theIPv6AccessListPromptIsASubMode() throws {
        let model = try IPv6ConfigTests.parse("""
            R1#conf t
            R1(config)#ipv6 access-list V6
            R1(config-ipv6-acl)#permit tcp any any eq 25
            R1(config-ipv6-acl)#exit
            R1(config)#end
            """).configuration
        #expect(model.ipv6AccessList(named: "V6")?.entries.count == 1)
    }

    /// `--interface auto` maps an IPv6-only interface by its IPv6 address (never by a link-local
    /// one, which every interface has), and says its addresses when it maps nowhere.
    @Test func autoMapsByIPv6Addresses() throws {
        let model = try IPv6ConfigTests.parse("""
            ipv6 inspect name V6 esmtp
            interface Tunnel0
             ipv6 address 2001:DB8:FFFF::2/64
             ipv6 address FE80::2 link-local
             ipv6 inspect V6 in
            """).configuration
        let host6 = [HostAddress6(interface: "sit1", address: try #require(IPv6Address(parsing: "2001:db8:ffff::2")), prefixLength: 64),
                     HostAddress6(interface: "eth0", address: try #require(IPv6Address(parsing: "fe80::2")), prefixLength: 64)]
        let mapped = try InterfaceMap.resolve(model, explicit: [], automatic: true, host: [], host6: host6).get()
        #expect(mapped == [try #require(InterfaceMapping(argument: "Tunnel0=sit1"))])
        guard case .failure(let failure) = InterfaceMap.resolve(model, explicit: [], automatic: true, host: [], host6: [host6[1]]) else {
            Issue.record("mapped by a link-local address")
            return
        }
        #expect(failure.errors.first?.message == "--interface auto: interface Tunnel0 (no ip address; ipv6 address 2001:db8:ffff::2/64) maps to no Linux interface")
    }
}
