import IOSConfig
import Testing

/// Every line is applied or ignored with a reason; warnings name their line.
@Suite struct LineDispositionTests {
    static func parse(_ text: String) throws -> ParsedConfiguration {
        try IOSConfigParser.parse(text, fileName: "t.cfg").get()
    }

    static func disposition(of line: Int, in text: String) throws -> LineReport.Disposition {
        try #require(try parse(text).lines.first { $0.line == line }).disposition
    }

    static let ignored: [(text: String, line: Int, reason: String)] = [
        ("voice-card 3\n", 1, "not an inspection, NAT, ACL or interface command"),
        ("3640-123#show running-config\n", 1, "exec prompt: the command that printed this configuration"),
        ("Router# show run\n", 1, "exec prompt: the command that printed this configuration"),
        ("Building configuration...\n", 1, "printed by show running-config"),
        ("Current configuration : 1432 bytes\n", 1, "printed by show running-config"),
        ("\n", 1, "blank line"),
        ("   \n", 1, "blank line"),
        ("!\n", 1, "comment"),
        ("!--- a note\n", 1, "comment"),
        ("version 12.3\n", 1, "IOS version: the half-open defaults follow it"),
        ("access-list 700 permit 0000.0c00.0000 0000.00ff.ffff\n", 1,
         "not an IP access list (protocol type, MAC, IPX, …): smtp-inspect mirrors IPv4 only"),
        ("ip route 10.0.0.1 255.0.0.0 172.22.1.1\n", 1, "malformed route: routes configure nothing here"),
        ("ip route 0.0.0.0 0.0.0.0 172.22.1.1\n", 1, "static route: kept for reference; the Linux routing table is the operator's"),
        ("ip route 10.0.0.0 255.0.255.0 172.22.1.1\n", 1, "malformed route: routes configure nothing here"),
        ("ip inspect hashtable-size 1024\n", 1,
         "accepted, not applied: a table size of IOS's; conntrack sizes its own (nf_conntrack_buckets)"),
        ("ip inspect log drop-pkt\n", 1,
         "accepted, not applied: IOS logging of dropped packets: the rules count their drops (iptables-save -c)"),
        ("ip inspect tcp reassembly queue length 32\n", 1,
         "accepted, not applied: smtp-inspect reassembles TCP itself, with its own limits (README: Limits)"),
        ("R1#show ip interface brief\nEthernet0 10.0.0.1 YES NVRAM up up\n", 2, "output of `show ip interface brief`"),
        ("R1(config)#interface e0\n*Mar  1 00:01:02.003: %LINK-3-UPDOWN: up\n", 2,
         "terminal output (a line without a configuration prompt)"),
        ("R1(config)#do show run\n", 1, "`do`: an exec command typed in configuration mode"),
        ("login as: admin\nR1>enable\n", 1, "before the first prompt: terminal session, not configuration"),
        ("controller T1 3/0\n framing sf\n", 2, "inside `controller T1 3/0`: not an inspection, NAT, ACL or interface command"),
        ("line vty 0 4\n password 7 121A0C0411045D5679\n", 2, "inside `line vty 0 4`: not an inspection, NAT, ACL or interface command"),
        ("interface Ethernet2/0\n half-duplex\n", 2, "interface sub-command smtp-inspect does not use"),
        ("interface Ethernet2/0\n no ip redirects\n", 2, "interface sub-command smtp-inspect does not use"),
        ("no aaa new-model\n", 1, "`no` form of a command smtp-inspect does not configure"),
        ("access-list 101 remark mail server\n", 1, "access-list remark: a comment"),
        ("ip access-list extended OUTSIDE\n remark the outside\n", 2, "access-list remark: a comment"),
        ("ip inspect name X smtp\ninterface E0\n ip inspect X in\nend\nip inspect name Y smtp\n", 5, "after `end`: not configuration"),
        ("ip inspect name X smtp\ninterface E0\n ip inspect X in\nbanner motd ^C\nip inspect name X smtpx\n^C\n", 5, "banner text"),
        ("banner motd #hello#\nvoice-card 1\n", 2, "not an inspection, NAT, ACL or interface command"),
        ("ip nat translation timeout 300\n", 1, "NAT timers, logging and helpers: Linux conntrack has its own"),
        ("interface Dialer1\n ip address negotiated\n", 2, "address assigned by other means: the Linux interface's own address is used"),
    ]

    @Test(arguments: 0..<ignored.count)
    func ignoredLinesSayWhy(_ index: Int) throws {
        let entry = LineDispositionTests.ignored[index]
        #expect(try LineDispositionTests.disposition(of: entry.line, in: entry.text) == .ignored(entry.reason))
    }

    static let applied: [(text: String, line: Int)] = [
        ("hostname r1\n", 1), ("service timestamps log datetime msec\n", 1), ("no service timestamps debug\n", 1),
        ("interface Ethernet2/0\n", 1), ("interface Ethernet2/0\n shutdown\n", 2), ("interface E0\n no shutdown\n", 2),
        ("interface E0\n description uplink to ISP\n", 2), ("interface E0\n no ip address\n", 2),
        ("ip inspect audit-trail\n", 1),
        ("access-list 1 permit 10.0.0.0 0.0.0.255\n", 1),
        ("ip access-list extended OUTSIDE\n", 1), ("ip access-list extended OUTSIDE\n permit ip any any\n", 2),
        ("ip access-list standard 10\n 20 permit 10.0.0.0 0.0.0.255\n", 2),
        ("object-group network N\n host 10.0.0.1\n", 2), ("object-group network N\n 10.0.0.0 255.255.255.0\n", 2),
        ("object-group service S\n tcp eq smtp\n", 2), ("ip nat pool P 192.0.2.1 192.0.2.9 prefix-length 24\n", 1),
        ("R1(config)#hostname r1\n", 1), ("R1(config-if)#shutdown\nR1(config)#interface e0\n", 2),
    ]

    @Test(arguments: 0..<applied.count)
    func configuringLinesAreApplied(_ index: Int) throws {
        let entry = LineDispositionTests.applied[index]
        #expect(try LineDispositionTests.disposition(of: entry.line, in: entry.text) == .applied)
    }

    @Test func everySeedLineHasOneReport() throws {
        let parsed = try Repository.seed()
        let lineCount = try Repository.seedText().split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(parsed.lines.map(\.line) == Array(1...lineCount))
        #expect(parsed.lines.filter { $0.disposition.isApplied }.count == 24)
        #expect(parsed.lines[22] == LineReport(line: 23, text: "voice-card 3",
                                               disposition: .ignored("not an inspection, NAT, ACL or interface command")))
    }

    @Test func unicodeMinusIsReadAsMinusWithOneWarningPerLine() throws {
        let text = "ip inspect name IN\u{2212}OUT tcp\nhostname a\u{2212}b\u{2212}c\nhostname plain\n"
        let parsed = try LineDispositionTests.parse(text)
        #expect(parsed.configuration.inspectionRules.map(\.name) == ["IN-OUT"])
        let minus = parsed.warnings.filter { $0.kind == .unicodeMinus }
        #expect(minus.map(\.location) == [SourceLocation(file: "t.cfg", line: 1, column: 19),
                                          SourceLocation(file: "t.cfg", line: 2, column: 11)])
        #expect(minus.map(\.summary) == ["U+2212 minus sign read as `-`", "U+2212 minus sign read as `-` (2 on this line)"])
        #expect(minus.allSatisfy { $0.severity == .warning })
    }

    @Test func seedWarnsForEveryLineWithAUnicodeMinus() throws {
        let text = try Repository.seedText()
        let linesWithMinus = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.contains("\u{2212}") }.map { $0.offset + 1 }
        let warned = try Repository.seed().warnings.filter { $0.kind == .unicodeMinus }.map(\.location.line)
        #expect(!linesWithMinus.isEmpty)
        #expect(warned == linesWithMinus)
    }

    static let warnings: [(text: String, kind: Diagnostic.Kind, line: Int, column: Int)] = [
        ("hostname a\nhostname b\n", .replacedSetting, 2, 1),
        ("ip inspect tcp idle-time 100\nip inspect tcp idle-time 200\n", .replacedSetting, 2, 1),
        ("ip inspect name X tcp\nip inspect name X tcp timeout 100\n", .replacedSetting, 2, 1),
        ("access-list 101 permit ip 10.0.0.1 0.0.0.255 any\n", .wildcardHostBits, 1, 36),
        ("access-list 101 permit ip 0.0.0.5 255.255.255.0 any\n", .discontiguousWildcard, 1, 35),
        ("access-list 101 permit tcp any any eq http\n", .nonIOSPortName, 1, 39),
        ("ip nat inside source static 10.0.0.2 172.22.1.110\n", .staticNATWithoutOutside, 1, 1),
    ]

    @Test(arguments: 0..<warnings.count)
    func warningsNameTheirLine(_ index: Int) throws {
        let entry = LineDispositionTests.warnings[index]
        let warning = try #require(try LineDispositionTests.parse(entry.text).warnings.first)
        #expect(warning.kind == entry.kind)
        #expect(warning.severity == .warning)
        #expect(warning.location == SourceLocation(file: "t.cfg", line: entry.line, column: entry.column))
    }
}
