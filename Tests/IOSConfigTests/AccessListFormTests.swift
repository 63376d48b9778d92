import IOSConfig
import Testing

/// Named lists, object groups and the entry options of later IOS, as the model holds them and as
/// the rules match them.
@Suite struct AccessListFormTests {
    static func model(_ text: String) throws -> IOSConfiguration {
        try IOSConfigParser.parse(text, fileName: "a.cfg").get().configuration
    }

    /// The rule lines of `chain` (without comments) for a configuration that applies `list` in on E0.
    static func chainRules(_ text: String, chain: String) throws -> [String] {
        let model = try model(text)
        let rules = try IptablesRules.generate(model, options: RuleOptions(interfaces: [InterfaceMapping(argument: "E0=e0")!])).get()
        return RuleGeneratorTests.ruleLines(rules).filter { $0.hasPrefix("-A \(chain) ") }.map(RuleGeneratorTests.uncommented)
    }

    @Test func namedEntriesKeepSequenceOrder() throws {
        let model = try AccessListFormTests.model("""
            ip access-list extended OUTSIDE
             20 deny ip any any
             permit tcp any host 192.0.2.25 eq smtp
             10 remark first
             10 permit icmp any any echo-reply
             15 permit udp any eq domain any
             no 30
            """)
        let list = try #require(model.accessList(named: "OUTSIDE"))
        #expect(list.isNamed && list.kind == .extended)
        #expect(list.entries.map(\.sequence) == [10, 15, 20])
        #expect(list.entries.map(\.action) == [.permit, .permit, .deny])
    }

    @Test func numberedListWrittenAsANamedOneIsTheNumberedList() throws {
        let model = try AccessListFormTests.model("access-list 101 permit ip any any\nip access-list extended 101\n 5 deny ip host 10.0.0.1 any\n")
        let list = try #require(model.accessList(101))
        #expect(!list.isNamed)
        #expect(list.entries.map(\.sequence) == [5, 10])
        #expect(RunningConfig.render(model).contains("access-list 101 deny ip host 10.0.0.1 any\naccess-list 101 permit ip any any\n"))
    }

    @Test func objectGroupsExpandIntoEveryCombination() throws {
        let text = """
            object-group network SERVERS
             host 10.0.0.25
             10.0.1.0 255.255.255.0
            object-group network OUTER
             group-object SERVERS
             range 10.0.2.5 10.0.2.9
            object-group service MAIL
             tcp eq smtp
             tcp-udp 53
            ip access-list extended IN
             permit object-group MAIL any object-group OUTER
            interface E0
             ip access-group IN in
            """
        let model = try AccessListFormTests.model(text)
        let entry = try #require(model.accessList(named: "IN")?.entries.first)
        #expect(model.expand(entry.match).count == 3 * 3)  // tcp/25, tcp/53, udp/53 × host, /24, range
        let rules = try AccessListFormTests.chainRules(text, chain: "SI-ACL-IN")
        #expect(rules.contains("-A SI-ACL-IN -p tcp -d 10.0.0.25/32 -m tcp --dport 25 -j RETURN"))
        #expect(rules.contains("-A SI-ACL-IN -p udp -d 10.0.1.0/24 -m udp --dport 53 -j RETURN"))
        #expect(rules.contains("-A SI-ACL-IN -p tcp -m iprange --dst-range 10.0.2.5-10.0.2.9 -m tcp --dport 53 -j RETURN"))
        #expect(rules.last == "-A SI-ACL-IN -j DROP")
    }

    @Test(arguments: [
        ("permit tcp any any eq smtp 587 465", "-p tcp -m multiport --dports 25,587,465"),
        ("permit tcp any neq 22 23 any", "-p tcp -m multiport ! --sports 22,23"),
        ("deny tcp any any syn fin", "-p tcp -m tcp --tcp-flags FIN,SYN FIN,SYN"),
        ("deny ip any any fragments", "-f"),
        ("deny ip any any dscp ef", "-m dscp --dscp 46"),
        ("deny ip any any precedence critical", "-m tos --tos 0xa0/0xe0"),
        ("deny ip any any tos max-throughput", "-m tos --tos 0x8/0x1e"),
        ("permit tcp any any eq 22 ttl gt 2", "-p tcp -m tcp --dport 22 -m ttl --ttl-gt 2"),
        ("permit udp any any ttl range 0 200", "-p udp -m ttl --ttl-lt 201"),
    ])
    func entryOptionsBecomeMatches(_ entry: String, _ words: String) throws {
        let rules = try AccessListFormTests.chainRules("ip access-list extended X\n \(entry)\ninterface E0\n ip access-group X in\n",
                                                       chain: "SI-ACL-X")
        #expect(rules.first == "-A SI-ACL-X \(words) -j " + (entry.hasPrefix("permit") ? "RETURN" : "DROP"), "\(rules)")
    }

    /// `reflect` marks the sessions it permits; `evaluate` lets in their replies, and only theirs.
    @Test func reflexiveListsShareOneMark() throws {
        let text = """
            ip access-list extended OUT
             permit tcp any any reflect S timeout 300
            ip access-list extended IN
             evaluate S
            interface E0
             ip access-group IN in
             ip access-group OUT out
            """
        let inbound = try AccessListFormTests.chainRules(text, chain: "SI-ACL-IN")
        #expect(inbound.first == "-A SI-ACL-IN -m connmark --mark 0x4000000/0x4000000 -m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY -j RETURN")
        let outbound = try AccessListFormTests.chainRules(text, chain: "SI-ACL-OUT")
        #expect(outbound.prefix(2) == [
            "-A SI-ACL-OUT -p tcp -m conntrack --ctstate NEW -j CONNMARK --set-xmark 0x4000000/0x4000000",
            "-A SI-ACL-OUT -p tcp -j RETURN",
        ])
        let parsed = try IOSConfigParser.parse(text, fileName: "r.cfg").get()
        #expect(parsed.lines[1].disposition == .approximated("reflexive list: conntrack tracks the session; all reflexive lists share one mark"))
        #expect(parsed.warnings.contains { $0.kind == .approximated && $0.location.line == 2 })
    }

    @Test func longOrOddNamesGetNumberedChainsAndSafeLogPrefixes() throws {
        let text = "ip access-list extended VERY-LONG-LIST-NAME-FOR-CHAINS\n deny ip any any log\ninterface E0\n ip access-group VERY-LONG-LIST-NAME-FOR-CHAINS in\n"
        let rules = try AccessListFormTests.chainRules(text, chain: "SI-ACL-L1")
        #expect(rules.first?.contains("--log-prefix \"list VERY-LONG-LIST-~ denied \"") == true, "\(rules)")
        #expect("list VERY-LONG-LIST-~ denied ".utf8.count <= 29)
    }

    @Test func anEntryThatExpandsBeyondTheLimitIsAnError() throws {
        let hosts = (1...70).map { " host 10.0.\($0 / 256).\($0 % 256)" }.joined(separator: "\n")
        let text = "object-group network MANY\n\(hosts)\nip access-list extended X\n permit ip object-group MANY object-group MANY\n"
            + "interface E0\n ip access-group X in\n"
        let model = try AccessListFormTests.model(text)
        guard case .failure(let failure) = IptablesRules.generate(model, options: RuleOptions(interfaces: [InterfaceMapping(argument: "E0=e0")!])) else {
            Issue.record("4900 rules generated")
            return
        }
        #expect(failure.errors.first?.message == "access list X: an entry's object groups make 4900 rules (at most 4096)")
        #expect(failure.errors.first?.location?.line == 73)
    }

    @Test func nonIPListNumbersAreIgnoredNotErrors() throws {
        let parsed = try IOSConfigParser.parse("access-list 700 permit 0000.0c00.0000 0000.00ff.ffff\naccess-list 1199 deny any\n",
                                               fileName: "m.cfg").get()
        #expect(parsed.configuration.accessLists.isEmpty)
        #expect(parsed.lines.allSatisfy { !$0.disposition.isApplied })
    }
}
