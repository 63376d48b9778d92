import IOSConfig
import Testing

/// Configurations copied from a terminal or a document: prompts, noise, lost indentation, short
/// names, several `end`s; and the guard that no `ip inspect` line is dropped silently.
@Suite struct PasteArtifactTests {
    static func parsed(_ text: String) throws -> ParsedConfiguration {
        try IOSConfigParser.parse(text, fileName: "p.cfg").get()
    }

    @Test func thePromptGivesTheMode() throws {
        let model = try PasteArtifactTests.parsed("""
            R1(config)#interface FastEthernet0/0
            R1(config-if)#ip access-group IN in
            R1(config-if)#exit
            R1(config)#ip access-list extended IN
            R1(config-ext-nacl)#permit tcp any any eq smtp
            R1(config-ext-nacl)#interface FastEthernet0/1
            R1(config-if)#ip nat inside
            R1(config-if)#end
            R1#show ip nat translations
            Pro Inside global      Inside local       Outside local      Outside global
            tcp 192.0.2.1:25       10.0.0.2:25        ---                ---
            """).configuration
        #expect(model.interface(named: "FastEthernet0/0")?.accessGroupIn?.value == "IN")
        #expect(model.accessList(named: "IN")?.entries.count == 1)
        #expect(model.interface(named: "FastEthernet0/1")?.nat?.value == .inside)
    }

    @Test func aConfigurationPromptNamesASubModeTheSessionDidNotShow() throws {
        // A sub-mode prompt without its head: the commands are not read into some other block.
        let parsed = try PasteArtifactTests.parsed("R1(config-if)#ip nat inside\nR1(config)#hostname r1\n")
        #expect(parsed.lines[0].disposition
                == .ignored("inside `(config-if) of an interface this session did not show`: not an inspection, NAT, ACL or interface command"))
        #expect(parsed.configuration.hostname?.value == "r1")
    }

    @Test func terminalOutputInATranscriptIsNotConfiguration() throws {
        let parsed = try PasteArtifactTests.parsed("""
            R1(config)#ip inspect name X smtp
            % Invalid input detected at '^' marker.
            ip inspect name Y smtp
            R1(config)#interface Ethernet0
            R1(config-if)#ip inspect X in
            R1(config-if)#end
            """)
        #expect(parsed.configuration.inspectionRules.map(\.name) == ["X"])
        #expect(parsed.lines[2].disposition == .ignored("terminal output (a line without a configuration prompt)"))
    }

    @Test func pagerPromptsErasedWithBackspacesAreRemoved() throws {
        let parsed = try PasteArtifactTests.parsed(" --More-- \u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}          \u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}\u{8}hostname paged\n")
        #expect(parsed.configuration.hostname?.value == "paged")
        #expect(parsed.lines[0].text == "hostname paged")
        #expect(parsed.warnings.map(\.kind) == [.malformedIgnored])
    }

    /// A document's characters: a byte-order mark, no-break spaces, en dashes.
    @Test func documentCharactersReadAsIOSText() throws {
        let parsed = try PasteArtifactTests.parsed("\u{FEFF}hostname doc\nip inspect\u{A0}name IN\u{2013}OUT esmtp\n")
        #expect(parsed.configuration.hostname?.value == "doc")
        #expect(parsed.configuration.inspectionRules.map(\.name) == ["IN-OUT"])
        #expect(parsed.warnings.map(\.summary) == ["U+00A0 no-break space read as a space", "inspection rule IN-OUT is applied to no interface"])
    }

    @Test func lostIndentationReadsAsIOSReadsIt() throws {
        let model = try PasteArtifactTests.parsed("""
            interface Ethernet0
            description uplink
            ip address 192.0.2.1 255.255.255.0
            duplex auto
            ip access-group 101 in
            no cdp enable
            ip nat outside
            ip classless
            access-list 101 permit ip any any
            """).configuration
        let interface = try #require(model.interface(named: "Ethernet0"))
        #expect(interface.accessGroupIn?.value == "101" && interface.nat?.value == .outside)
    }

    @Test(arguments: [("f0/1", "FastEthernet0/1"), ("Fa0/1", "FastEthernet0/1"), ("gi0/0.10", "GigabitEthernet0/0.10"),
                      ("dialer1", "Dialer1"), ("Di0", "Dialer0"), ("e2/0", "Ethernet2/0"), ("se0/0/0", "Serial0/0/0"),
                      ("te1/0/1", "TenGigabitEthernet1/0/1"), ("tu0", "Tunnel0"), ("vl1", "Vlan1"), ("po1", "Port-channel1"),
                      ("lo0", "Loopback0"), ("BVI1", "BVI1"), ("Vi1", "Virtual-Access1"), ("Null0", "Null0"), ("x0", "x0")])
    func shortInterfaceNames(_ written: String, _ canonical: String) {
        #expect(InterfaceName.canonical(written).name == canonical)
    }

    @Test func abbreviationsTypedInASessionAreExpandedWithAWarning() throws {
        let parsed = try PasteArtifactTests.parsed("R1(config)#int fa0/0\nR1(config-if)#ip add 10.0.0.1 255.255.255.0\nR1(config-if)#shut\nR1(config-if)#ip insp X in\nR1(config)#ip inspect name X smtp\n")
        let interface = try #require(parsed.configuration.interface(named: "FastEthernet0/0"))
        #expect(interface.address?.address == IPv4Address(10, 0, 0, 1) && interface.shutdown.value && interface.inspectIn?.value == "X")
        #expect(parsed.warnings.filter { $0.kind == .abbreviation }.count == 4)
    }

    /// A login line that starts like a command is noise, not an abbreviation of it.
    @Test func loginLinesAreNotAbbreviatedCommands() throws {
        let parsed = try PasteArtifactTests.parsed("Access denied\nhost unreachable\nR1>enable\n")
        #expect(parsed.lines.prefix(2).allSatisfy { $0.disposition == .ignored("before the first prompt: terminal session, not configuration") })
    }

    /// `host` in an object group is a member, not a short `hostname`.
    @Test func objectGroupHostIsAMember() throws {
        let model = try PasteArtifactTests.parsed("object-group network N\nhost 10.0.0.1\nhost 10.0.0.2\n").configuration
        #expect(model.networkGroup(named: "N")?.members.count == 2)
        #expect(model.hostname == nil)
    }

    @Test func severalEndsAndAnotherSessionAfterThem() throws {
        let model = try PasteArtifactTests.parsed("hostname a\nend\nend\nR1#conf t\nR1(config)#ip inspect name X smtp\nR1(config)#end\n").configuration
        #expect(model.inspectionRules.map(\.name) == ["X"])
    }

    /// A file whose `ip inspect` lines are dropped is never accepted silently.
    @Test func droppedInspectionIsAnErrorWhenNothingIsInspected() {
        let errors = parseErrors("hostname r\nbanner motd #\nip inspect name X esmtp\ninterface E0\n ip inspect X in\n#\n")
        #expect(errors.map(\.kind) == [.inspectionDropped])
        #expect(errors.first?.location.line == 3)
        #expect(errors.first?.summary.contains("all 2 of its `ip inspect` lines were dropped") == true, "\(errors)")
    }

    @Test func droppedInspectionIsAWarningWhenSomethingElseIsInspected() throws {
        let parsed = try PasteArtifactTests.parsed("ip inspect name X esmtp\ninterface E0\n ip inspect X in\nend\nip inspect name Y smtp\n")
        #expect(parsed.warnings.filter { $0.kind == .notApplied }.map(\.location.line) == [5])
    }

    /// The zone-based firewall inspects too: not mirrored, so a configuration that inspects only
    /// with it is an error, and a warning beside CBAC.
    @Test func zoneBasedFirewallIsNeverDroppedSilently() throws {
        let zbf = "class-map type inspect match-any MAIL\n match protocol smtp\npolicy-map type inspect OUT-IN\n class type inspect MAIL\n  inspect\nzone-pair security OUT-IN source out destination self\n service-policy type inspect OUT-IN\n"
        #expect(parseErrors(zbf).map(\.kind) == [.inspectionDropped])
        let both = try PasteArtifactTests.parsed(zbf + "ip inspect name X esmtp\ninterface E0\n ip inspect X in\n")
        #expect(both.warnings.contains { $0.kind == .noLinuxEquivalent && $0.location.line == 3 })
    }

    @Test func aRuleAppliedNowhereIsAWarning() throws {
        let parsed = try PasteArtifactTests.parsed("ip inspect name X esmtp\n")
        #expect(parsed.warnings.map(\.kind) == [.ruleNotApplied])
    }

    @Test func deletionsInASessionApplyInOrder() throws {
        let model = try PasteArtifactTests.parsed("""
            access-list 110 permit ip any any
            ip inspect name X smtp
            ip inspect name X tcp
            interface E0
             ip access-group 110 in
             ip inspect X in
            no access-list 110
            access-list 110 deny ip any any
            no ip inspect name X tcp
            interface E0
             no ip access-group 110 in
            """).configuration
        #expect(model.accessList(110)?.entries.map(\.action) == [.deny])
        #expect(model.inspectionRule(named: "X")?.protocols.map(\.kind) == [.smtp])
        #expect(model.interface(named: "E0")?.accessGroupIn == nil)
    }
}

/// Lines that configure nothing smtp-inspect mirrors are never fatal, and defaults follow the
/// version line.
@Suite struct VersionAndIgnoredLineTests {
    @Test(arguments: [
        ("version 12.3\n", InspectDefaults.finite, false),
        ("version 12.4\n", .unlimited, true),
        ("version 15.1\n", .unlimited, false),
        ("", .finite, false),
        ("Cisco IOS Software, C870 Software (C870-ADVIPSERVICESK9-M), Version 12.4(4)T1, RELEASE SOFTWARE (fc4)\nversion 12.4\n", .finite, false),
        ("Cisco IOS Software, 1841 Software (C1841-ADVIPSERVICESK9-M), Version 12.4(24)T8, RELEASE SOFTWARE (fc1)\nversion 12.4\n", .unlimited, false),
    ])
    func defaultsFollowTheRelease(_ text: String, _ defaults: InspectDefaults, _ warned: Bool) throws {
        let parsed = try IOSConfigParser.parse(text, fileName: "v.cfg").get()
        #expect(parsed.configuration.defaultsChoice.defaults == defaults)
        let unlimited = defaults == .unlimited
        #expect(parsed.configuration.inspect.maxIncompleteHigh.value == (unlimited ? UInt32.max : 500))
        #expect(parsed.configuration.inspect.tcpMaxIncompletePerHost.value == (unlimited ? UInt32.max : 50))
        #expect(parsed.warnings.contains { $0.kind == .defaultsAssumed } == warned)
        #expect(CheckReport.render(parsed).split(separator: "\n")[1].hasPrefix("# defaults: "))
    }

    @Test func unlimitedThresholdsPrintAsIOSPrintsThem() throws {
        let model = try IOSConfigParser.parse("version 15.1\nip inspect one-minute high 900\n", fileName: "v.cfg").get().configuration
        let show = ShowIPInspect.config(model)
        #expect(show.contains("one-minute (sampling period) thresholds are [900:900] connections\n"))
        #expect(show.contains("max-incomplete sessions thresholds are [unlimited : unlimited]\n"))
        #expect(show.contains("max-incomplete tcp connections per host is unlimited. Block-time 0 minute.\n"))
    }

    @Test(arguments: ["ip route 10.0.0.0 255.0.255.0 192.0.2.1", "ip route 10.0.0.1 255.0.0.0 192.0.2.1",
                      "ip route vrf MGMT 0.0.0.0 0.0.0.0 192.168.0.1", "ip route 0.0.0.0", "snmp-server community x RO 5",
                      "crypto map VPN 10 ipsec-isakmp", "router bgp 65000", "policy-map QOS", "ipv6 route ::/0 2001:DB8::1",
                      "ipv6 router ospf 1", "line vty 0 4", "access-list 700 permit 0000.0c00.0000 0000.00ff.ffff"])
    func linesWeDoNotMirrorAreNeverFatal(_ line: String) throws {
        let parsed = try IOSConfigParser.parse(line + "\n", fileName: "x.cfg").get()
        #expect(!parsed.lines[0].disposition.isApplied)
    }
}
