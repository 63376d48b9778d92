import IOSConfig
import TestSupport
import Testing

/// Nothing from the configuration can break the rule file (issue 10): comments and notes carry no
/// control character, and a control character in a line smtp-inspect applies is an error.
@Suite struct RuleSafetyTests {
    @Test(arguments: [
        ("plain", "\"plain\""),
        ("say \"hi\" \\ there", "\"say 'hi' ' there\""),
        ("nul\u{0}esc\u{1B}del\u{7F}", "\"nul^@esc^[del^?\""),
        ("tab\tcr\r", "\"tab cr^M\""),
        ("c1\u{85}ls\u{2028}", "\"c1<U+0085>ls<U+2028>\""),
        ("é ünïcode stays", "\"é ünïcode stays\""),
    ])
    func commentsAreQuotedAndEscaped(_ text: String, _ quoted: String) {
        #expect(IptablesRules.quotedComment(text) == quoted)
    }

    @Test func longCommentsAreCutToWhatTheCommentModuleKeeps() {
        let quoted = IptablesRules.quotedComment(String(repeating: "é", count: 200))
        #expect(quoted.utf8.count <= 257 && quoted.hasSuffix("\""))
    }

    @Test(arguments: ["hostname r\u{0}1\n", "interface E0\n description up\u{7}link\n",
                      "ip inspect name M\u{7}X smtp\n", "access-list 101 permit tcp any any eq smtp\u{0}\n"])
    func aControlCharacterInAnAppliedLineIsAnError(_ text: String) {
        let errors = parseErrors(text)
        #expect(errors.map(\.kind).contains(.controlCharacter), "\(errors)")
        #expect(errors.first { $0.kind == .controlCharacter }?.found.hasPrefix("^") == true)
    }

    /// Elsewhere (comments, banners, ignored lines) it is shown in caret notation, never printed raw.
    @Test func aControlCharacterElsewhereIsShownNotPrinted() throws {
        let parsed = try IOSConfigParser.parse("! note\u{0}\nbanner motd #\u{1B}[2J#\nhostname ok\n", fileName: "c.cfg").get()
        let report = CheckReport.render(parsed)
        #expect(!report.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(report.contains("! note^@"))
    }

    /// Whatever names a configuration uses, the rules file is lines iptables-restore reads:
    /// comments, table headers, chain declarations, rules, COMMIT; no control character.
    @Test(arguments: 0..<40)
    func everyAcceptedConfigurationGivesALoadableShape(_ seed: Int) throws {
        let names = ["OUT-IN", "a\"b", "x\\y", "é-rule", "verylongnameverylongnameverylongname", "NAME WITH", "#hash"]
        var generator = SplitMix64(seed: UInt64(seed))
        let rule = names.randomElement(using: &generator)!.split(separator: " ").first.map(String.init) ?? "R"
        let list = names.randomElement(using: &generator)!.split(separator: " ").first.map(String.init) ?? "L"
        let text = """
            hostname h\(seed)
            ip inspect name \(rule) esmtp
            ip inspect name \(rule) udp timeout \(seed + 1)
            ip access-list extended \(list)
             permit tcp any any eq smtp log
            interface Ethernet\(seed)/0
             description \(names.randomElement(using: &generator)!)
             ip address 192.0.2.1 255.255.255.0
             ip access-group \(list) in
             ip inspect \(rule) in
             ip nat outside
            interface Ethernet\(seed)/1
             ip address 10.0.0.1 255.255.255.0
             ip nat inside
            ip nat inside source static tcp 10.0.0.2 25 interface Ethernet\(seed)/0 25

            """
        let model = try IOSConfigParser.parse(text, fileName: "s\u{0}\n.cfg").get().configuration
        let map = ["Ethernet\(seed)/0=out0", "Ethernet\(seed)/1=in0"].compactMap(InterfaceMapping.init(argument:))
        let rules = try IptablesRules.generate(model, options: RuleOptions(interfaces: map, sourceName: "s\u{0}\n.cfg")).get()
        for line in rules.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            #expect(line.isEmpty == false && "#*:-C".contains(line.first!), "\(line)")
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(line)")
            if line.hasPrefix(":") { #expect(line.split(separator: " ")[0].dropFirst().utf8.count <= 28, "\(line)") }
            if line.hasPrefix("-") { #expect(line.filter { $0 == "\"" }.count % 2 == 0, "\(line)") }
        }
    }
}

/// Anti-spoofing and the fragment guard in the generated rules (issue 10, classes 4 and 6).
@Suite struct SpoofingAndFragmentRuleTests {
    static func rawRules(_ text: String, _ map: [String]) throws -> [String] {
        let model = try IOSConfigParser.parse(text, fileName: "s\u{0}\n.cfg").get().configuration
        let options = RuleOptions(interfaces: map.compactMap(InterfaceMapping.init(argument:)))
        let rules = try IptablesRules.generate(model, options: options).get()
        let raw = rules.text.components(separatedBy: "*mangle")[0]
        return raw.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A") }.map(RuleGeneratorTests.uncommented)
    }

    /// The seed: the server's address (or its global address) arriving on the outside is dropped
    /// before conntrack; the inside does not accept the outside network.
    @Test func theSeedGetsSourceChecksPerInterface() throws {
        let lines = try SpoofingAndFragmentRuleTests.rawRules(try Repository.seedText(), ["Ethernet2/0=ext0", "Ethernet2/1=int0"])
        #expect(lines.filter { $0.hasPrefix("-A SI-SPOOF-") } == [
            "-A SI-SPOOF-ext0 -s 10.10.10.0/24 -j DROP",
            "-A SI-SPOOF-ext0 -s 172.22.1.110/32 -j DROP",
            "-A SI-SPOOF-ext0 -s 172.22.1.111/32 -j DROP",
            "-A SI-SPOOF-int0 -s 172.22.1.0/24 -j DROP",
        ])
        #expect(lines.contains("-A SI-PREROUTING -i ext0 -j SI-SPOOF-ext0"))
    }

    @Test func insideAddressesBehindARoutedNetworkAndNoAliasGlobals() throws {
        let text = """
            interface E0
             ip address 192.0.2.1 255.255.255.0
             ip nat outside
            interface E1
             ip address 10.0.0.1 255.255.255.0
             ip nat inside
            ip nat inside source static 172.16.5.5 198.51.100.5 no-alias

            """
        let lines = try SpoofingAndFragmentRuleTests.rawRules(text, ["E0=e0", "E1=e1"])
        #expect(lines.filter { $0.hasPrefix("-A SI-SPOOF-e0") } == [
            "-A SI-SPOOF-e0 -s 10.0.0.0/24 -j DROP",
            "-A SI-SPOOF-e0 -s 198.51.100.5/32 -j DROP",
            "-A SI-SPOOF-e0 -s 172.16.5.5/32 -j DROP",
        ])
        // The inside may send from 172.16.5.5 (the host behind it); only the global is refused there.
        #expect(lines.filter { $0.hasPrefix("-A SI-SPOOF-e1") } == [
            "-A SI-SPOOF-e1 -s 192.0.2.0/24 -j DROP", "-A SI-SPOOF-e1 -s 198.51.100.5/32 -j DROP",
        ])
    }

    @Test func overlappingNetworksAreNotTurnedAgainstEachOther() throws {
        let text = "interface E0\n ip address 10.0.0.1 255.255.0.0\ninterface E1\n ip address 10.0.5.1 255.255.255.0\n"
        #expect(try SpoofingAndFragmentRuleTests.rawRules(text, ["E0=e0", "E1=e1"]).filter { $0.contains("SPOOF") }.isEmpty)
    }

    @Test func theQueueIsGuardedAgainstFragments() throws {
        let queued = try SpoofingAndFragmentRuleTests.rawRules("ip inspect name M smtp\ninterface E0\n ip inspect M in\n", ["E0=e0"])
        #expect(queued.first == "-A SI-PREROUTING -p tcp -m u32 --u32 \"4&0x3FFF=0x1:0x3FFF\" -j DROP")
        // Without a queue there is nothing to guard, and no TCP fragment is dropped.
        let plain = try SpoofingAndFragmentRuleTests.rawRules("ip inspect name M tcp\ninterface E0\n ip inspect M in\n", ["E0=e0"])
        #expect(!plain.contains { $0.contains("u32") })
    }

    /// The header documents both decisions.
    @Test func theHeaderSaysWhy() throws {
        let options = RuleOptions(interfaces: SeedGoldenTests.seedMap)
        let text = try IptablesRules.generate(try Repository.seed().configuration, options: options).get().text
        #expect(text.contains("# Anti-spoofing (raw PREROUTING, SI-SPOOF-<interface>): explicit per-interface source checks made"))
        #expect(text.contains("not the kernel's rp_filter"))
        #expect(text.contains("# Fragments: conntrack reassembles IP fragments before the first table (nf_defrag_ipv4, priority"))
    }
}

/// `--interface auto`: the map made from the addresses the box has.
@Suite struct InterfaceMapTests {
    static let host = [
        HostAddress(interface: "ext0", address: IPv4Address(172, 22, 1, 16), prefixLength: 24),
        HostAddress(interface: "int0", address: IPv4Address(10, 10, 10, 1), prefixLength: 24),
        HostAddress(interface: "lo", address: IPv4Address(127, 0, 0, 1), prefixLength: 8),
    ]

    @Test func theSeedMapsItselfByAddress() throws {
        let model = try Repository.seed().configuration
        let map = try InterfaceMap.resolve(model, explicit: [], automatic: true, host: InterfaceMapTests.host).get()
        #expect(map == SeedGoldenTests.seedMap)
    }

    @Test func explicitPairsWinAndShortNamesAreReadAsTheConfigurationSpellsThem() throws {
        let model = try Repository.seed().configuration
        let explicit = [InterfaceMapping(argument: "e2/1=lan9")!]
        let map = try InterfaceMap.resolve(model, explicit: explicit, automatic: true, host: InterfaceMapTests.host).get()
        #expect(map.map(\.iosName) == ["Ethernet2/1", "Ethernet2/0"])
        #expect(map.map(\.linuxName) == ["lan9", "ext0"])
    }

    @Test func anInterfaceThatMapsNowhereListsTheCandidates() throws {
        let text = "interface Dialer1\n ip address negotiated\n ip nat outside\ninterface Vlan1\n ip address 10.10.10.1 255.255.255.0\n ip nat inside\n"
        let model = try IOSConfigParser.parse(text, fileName: "d.cfg").get().configuration
        guard case .failure(let failure) = InterfaceMap.resolve(model, explicit: [], automatic: true, host: InterfaceMapTests.host) else {
            Issue.record("a dialer mapped by address")
            return
        }
        #expect(failure.errors.count == 1)
        let error = failure.errors[0]
        #expect(error.message == "--interface auto: interface Dialer1 (ip address negotiated) maps to no Linux interface")
        #expect(error.hint == "candidates: ext0 (172.22.1.16/24), lo (127.0.0.1/8); give --interface Dialer1=LINUXNAME")
        #expect(error.location?.line == 1)
    }
}
