import IOSConfig
import Testing

/// One case per error kind: the configuration, the error expected and where it must point.
struct ErrorCase: CustomTestStringConvertible, Sendable {
    var name: String
    var text: String
    var kind: Diagnostic.Kind
    var line: Int
    var column: Int
    /// Text the found/expected part must contain.
    var mentions: String

    var testDescription: String { name }
}

@Suite struct ParserErrorTests {
    static let cases: [ErrorCase] = [
        ErrorCase(name: "smtp and esmtp in one rule",
                  text: "ip inspect name OUT-IN smtp\nip inspect name OUT-IN esmtp\n",
                  kind: .smtpWithESMTP, line: 2, column: 24, mentions: "line 1 has `smtp`"),
        ErrorCase(name: "unknown protocol", text: "ip inspect name OUT-IN smtpx\n",
                  kind: .unknownProtocol, line: 1, column: 24, mentions: "esmtp"),
        ErrorCase(name: "option of another protocol", text: "ip inspect name X h323 java-list 10\n",
                  kind: .unsupported, line: 1, column: 24, mentions: "java-list"),
        ErrorCase(name: "rpc without its program", text: "ip inspect name X rpc timeout 10\n",
                  kind: .malformed, line: 1, column: 33, mentions: "program-number"),
        ErrorCase(name: "fragment option", text: "ip inspect name X fragment maximum 256 alert on\n",
                  kind: .unknownOption, line: 1, column: 40, mentions: "`maximum N`"),
        ErrorCase(name: "unknown rule option", text: "ip inspect name X smtp alerts on\n",
                  kind: .unknownOption, line: 1, column: 24, mentions: "`max-data`"),
        ErrorCase(name: "max-data outside smtp", text: "ip inspect name X tcp max-data 100\n",
                  kind: .unsupported, line: 1, column: 23, mentions: "max-data"),
        ErrorCase(name: "option given twice", text: "ip inspect name X esmtp alert on alert off\n",
                  kind: .duplicateOption, line: 1, column: 34, mentions: "alert"),
        ErrorCase(name: "alert neither on nor off", text: "ip inspect name X smtp alert maybe\n",
                  kind: .malformed, line: 1, column: 30, mentions: "`on`, `off`"),
        ErrorCase(name: "unknown global option", text: "ip inspect hashtablesize 1024\n",
                  kind: .unknownOption, line: 1, column: 12, mentions: "`max-incomplete`"),
        ErrorCase(name: "timeout out of range", text: "ip inspect tcp synwait-time 0\n",
                  kind: .numberOutOfRange, line: 1, column: 29, mentions: "1-2147483"),
        ErrorCase(name: "per-host limit out of range", text: "ip inspect tcp max-incomplete host 251\n",
                  kind: .numberOutOfRange, line: 1, column: 36, mentions: "1-250"),
        ErrorCase(name: "not a number", text: "ip inspect dns-timeout five\n",
                  kind: .malformed, line: 1, column: 24, mentions: "five"),
        ErrorCase(name: "missing protocol", text: "ip inspect name OUT-IN\n",
                  kind: .malformed, line: 1, column: 23, mentions: "end of line"),
        ErrorCase(name: "thresholds inverted", text: "ip inspect max-incomplete low 600\n",
                  kind: .thresholdsInverted, line: 1, column: 1, mentions: "low 600, high 500"),
        ErrorCase(name: "bad interface address", text: "interface Ethernet0\n ip address 10.0.0.256 255.255.255.0\n",
                  kind: .badAddress, line: 2, column: 13, mentions: "10.0.0.256"),
        ErrorCase(name: "bad netmask", text: "interface Ethernet0\n ip address 10.0.0.1 255.0.255.0\n",
                  kind: .badNetmask, line: 2, column: 22, mentions: "255.0.255.0"),
        ErrorCase(name: "network address as interface address", text: "interface Ethernet0\n ip address 10.0.0.0 255.255.255.0\n",
                  kind: .badAddress, line: 2, column: 13, mentions: "host address"),
        ErrorCase(name: "bad wildcard", text: "access-list 101 permit ip 10.0.0.0 0.0.0.256 any\n",
                  kind: .badWildcard, line: 1, column: 36, mentions: "0.0.0.256"),
        ErrorCase(name: "bad host address", text: "access-list 101 permit tcp any host 172.22.1 eq smtp\n",
                  kind: .badAddress, line: 1, column: 37, mentions: "172.22.1"),
        ErrorCase(name: "leading zero address", text: "access-list 1 permit 010.0.0.1\n",
                  kind: .badAddress, line: 1, column: 22, mentions: "010.0.0.1"),
        ErrorCase(name: "access-list number of no kind", text: "access-list 3000 permit ip any any\n",
                  kind: .accessListNumberOutOfRange, line: 1, column: 13, mentions: "1300-1999"),
        ErrorCase(name: "standard number, extended entry", text: "access-list 10 permit tcp any any eq smtp\n",
                  kind: .accessListNumberOutOfRange, line: 1, column: 13, mentions: "100-199 or 2000-2699"),
        ErrorCase(name: "extended number, standard entry", text: "access-list 101 permit any\n",
                  kind: .badProtocol, line: 1, column: 24, mentions: "`tcp`"),
        ErrorCase(name: "access-group number of no IP kind", text: "interface Ethernet0\n ip access-group 3000 in\n",
                  kind: .accessListNumberOutOfRange, line: 2, column: 18, mentions: "2000-2699"),
        ErrorCase(name: "unknown port name", text: "access-list 101 permit tcp any any eq smtpx\n",
                  kind: .badPort, line: 1, column: 39, mentions: "smtpx"),
        ErrorCase(name: "port number too big", text: "access-list 101 permit udp any range 1000 65536 any\n",
                  kind: .badPort, line: 1, column: 43, mentions: "65536"),
        ErrorCase(name: "tcp name on udp", text: "access-list 101 permit udp any any eq smtp\n",
                  kind: .badPort, line: 1, column: 39, mentions: "udp port name"),
        ErrorCase(name: "port on icmp", text: "access-list 101 permit icmp any any eq 25\n",
                  kind: .badPort, line: 1, column: 37, mentions: "tcp"),
        ErrorCase(name: "nothing above 65535", text: "access-list 101 permit tcp any any gt 65535\n",
                  kind: .badPort, line: 1, column: 39, mentions: "0-65534"),
        ErrorCase(name: "range backwards", text: "access-list 101 permit tcp any any range 80 21\n",
                  kind: .badPort, line: 1, column: 45, mentions: "80-65535"),
        ErrorCase(name: "established on udp", text: "access-list 101 permit udp any any established\n",
                  kind: .unknownOption, line: 1, column: 36, mentions: "`log`"),
        ErrorCase(name: "unsupported entry option", text: "access-list 101 permit ip any any time-range WORK\n",
                  kind: .unsupported, line: 1, column: 35, mentions: "time-range"),
        ErrorCase(name: "entry option given twice", text: "access-list 101 permit ip any any log log\n",
                  kind: .duplicateOption, line: 1, column: 39, mentions: "log"),
        ErrorCase(name: "undefined access list",
                  text: "interface Ethernet2/0\n ip access-group 102 in\n!\naccess-list 101 permit ip any any\n",
                  kind: .undefinedAccessList, line: 2, column: 18, mentions: "(101)"),
        ErrorCase(name: "undefined inspection rule",
                  text: "ip inspect name OUT-IN smtp\ninterface Ethernet2/0\n ip inspect out-in in\n",
                  kind: .undefinedInspectionRule, line: 3, column: 13, mentions: "(OUT-IN)"),
        ErrorCase(name: "duplicate static NAT, same inside local",
                  text: "ip nat inside source static 10.10.10.2 172.22.1.110\nip nat inside source static 10.10.10.2 172.22.1.112\n",
                  kind: .duplicateStaticNAT, line: 2, column: 29, mentions: "10.10.10.2"),
        ErrorCase(name: "duplicate static NAT, same inside global",
                  text: "ip nat inside source static 10.10.10.2 172.22.1.110\nip nat inside source static 10.10.10.3 172.22.1.110\n",
                  kind: .duplicateStaticNAT, line: 2, column: 40, mentions: "172.22.1.110"),
        ErrorCase(name: "outside source NAT", text: "ip nat outside source static 192.0.2.9 10.10.10.9\n",
                  kind: .unsupported, line: 1, column: 8, mentions: "outside"),
        ErrorCase(name: "NAT to a pool that does not exist",
                  text: "access-list 1 permit 10.0.0.0 0.0.0.255\nip nat inside source list 1 pool NOPE overload\n",
                  kind: .undefinedNATPool, line: 2, column: 1, mentions: "NOPE"),
        ErrorCase(name: "NAT by a route-map that does not exist",
                  text: "interface Dialer0\n ip nat outside\nip nat inside source route-map NOPE interface Dialer0 overload\n",
                  kind: .undefinedRouteMap, line: 3, column: 1, mentions: "NOPE"),
        ErrorCase(name: "NAT route-map with a clause NAT cannot follow",
                  text: "route-map M permit 10\n match ip next-hop 5\nip nat inside source route-map M pool P\nip nat pool P 192.0.2.1 192.0.2.2 prefix-length 24\n",
                  kind: .unsupported, line: 2, column: 2, mentions: "match ip next-hop 5"),
        ErrorCase(name: "port forward to an interface that does not exist",
                  text: "ip nat inside source static tcp 10.10.10.2 25 interface Dialer9 25\n",
                  kind: .undefinedInterface, line: 1, column: 1, mentions: "Dialer9"),
        ErrorCase(name: "port forward twice",
                  text: "ip nat inside source static tcp 10.0.0.2 25 192.0.2.1 25\nip nat inside source static tcp 10.0.0.3 25 192.0.2.1 25\n",
                  kind: .duplicateStaticNAT, line: 2, column: 45, mentions: "192.0.2.1 25"),
        ErrorCase(name: "pool wider than its network",
                  text: "ip nat pool P 192.0.2.1 192.0.3.9 netmask 255.255.255.0\n",
                  kind: .badAddress, line: 1, column: 25, mentions: "/24"),
        ErrorCase(name: "named access group that does not exist", text: "interface Ethernet0\n ip access-group OUTSIDE in\n",
                  kind: .undefinedAccessList, line: 2, column: 18, mentions: "OUTSIDE"),
        ErrorCase(name: "object group that does not exist",
                  text: "ip access-list extended IN\n permit tcp object-group NETS any eq smtp\n",
                  kind: .undefinedObjectGroup, line: 2, column: 2, mentions: "NETS"),
        ErrorCase(name: "object group of the wrong kind",
                  text: "object-group service WEB\n tcp eq www\nip access-list extended IN\n permit tcp object-group WEB any\n",
                  kind: .undefinedObjectGroup, line: 4, column: 2, mentions: "`object-group network`"),
        ErrorCase(name: "object group in itself",
                  text: "object-group network A\n group-object B\nobject-group network B\n group-object A\n",
                  kind: .objectGroupLoop, line: 1, column: 22, mentions: "A"),
        ErrorCase(name: "named list of the other kind",
                  text: "ip access-list standard X\n permit any\nip access-list extended X\n",
                  kind: .wrongAccessListKind, line: 3, column: 16, mentions: "`standard`"),
        ErrorCase(name: "sequence number used twice",
                  text: "ip access-list extended X\n 10 permit ip any any\n 10 deny ip any any\n",
                  kind: .duplicateOption, line: 3, column: 2, mentions: "10"),
        ErrorCase(name: "NAT route-map with a deny entry",
                  text: "access-list 1 permit any\nroute-map M deny 10\n match ip address 1\ninterface Dialer0\n ip nat outside\nip nat inside source route-map M interface Dialer0 overload\n",
                  kind: .unsupported, line: 2, column: 1, mentions: "deny 10"),
        ErrorCase(name: "control character in an applied line", text: "hostname r\u{0}1\n",
                  kind: .controlCharacter, line: 1, column: 11, mentions: "^@"),
        ErrorCase(name: "missing direction", text: "interface Ethernet0\n ip access-group 101\naccess-list 101 permit ip any any\n",
                  kind: .malformed, line: 2, column: 21, mentions: "`in`, `out`"),
        ErrorCase(name: "bad direction", text: "ip inspect name X tcp\ninterface Ethernet0\n ip inspect X sideways\n",
                  kind: .malformed, line: 3, column: 15, mentions: "sideways"),
        ErrorCase(name: "interface command at top level", text: "ip access-group 101 in\n",
                  kind: .malformed, line: 1, column: 4, mentions: "access-group"),
        ErrorCase(name: "interface inspection at top level", text: "ip inspect name X tcp\nip inspect X in\n",
                  kind: .malformed, line: 2, column: 12, mentions: "`ip inspect name"),
        ErrorCase(name: "extra word", text: "hostname router one\n",
                  kind: .malformed, line: 1, column: 17, mentions: "one"),
        ErrorCase(name: "no form of a NAT command", text: "no ip nat inside source static 10.0.0.1 192.0.2.1\n",
                  kind: .unsupported, line: 1, column: 1, mentions: "no"),
        ErrorCase(name: "SMTP on another port", text: "ip port-map smtp port 2525\n",
                  kind: .unsupported, line: 1, column: 13, mentions: "port 25"),
        ErrorCase(name: "port-map of an unknown application", text: "ip port-map smtq port 2525\n",
                  kind: .unknownProtocol, line: 1, column: 13, mentions: "user-NAME"),
        ErrorCase(name: "abbreviated interface too short", text: "in Ethernet0\n ip access-group 101 in\n",
                  kind: .malformed, line: 1, column: 1, mentions: "`interface`"),
        ErrorCase(name: "abbreviated sub-command too short", text: "interface Ethernet0\n ip acc 101 in\n",
                  kind: .malformed, line: 2, column: 5, mentions: "`access-group`"),
        ErrorCase(name: "abbreviated shutdown too short", text: "interface Ethernet0\n sh\n",
                  kind: .malformed, line: 2, column: 2, mentions: "`shutdown`"),
        ErrorCase(name: "inspection dropped after end", text: "hostname r\nend\nip inspect name X smtp\ninterface E0\n ip inspect X in\n",
                  kind: .inspectionDropped, line: 3, column: 1, mentions: "after `end`"),
        ErrorCase(name: "unknown timestamp format", text: "service timestamps log sundial\n",
                  kind: .unknownOption, line: 1, column: 24, mentions: "`datetime`"),
    ]

    @Test(arguments: cases)
    func errorNamesLineAndColumnAndNothingIsApplied(_ testCase: ErrorCase) throws {
        let result = IOSConfigParser.parse(testCase.text, fileName: "case.cfg")
        guard case .failure(let failure) = result else {
            Issue.record("parsed without error: \(testCase.name)")
            return
        }
        #expect(!failure.errors.isEmpty)
        let error = try #require(failure.errors.first { $0.kind == testCase.kind }, "\(failure)")
        #expect(error.severity == .error)
        #expect(error.location == SourceLocation(file: "case.cfg", line: testCase.line, column: testCase.column),
                "\(error)")
        #expect(error.description.hasPrefix("case.cfg:\(testCase.line):\(testCase.column): error: "))
        #expect(error.description.contains(testCase.mentions), "\(error)")
        #expect(!error.summary.isEmpty && !error.expected.isEmpty && !error.hint.isEmpty, "\(error)")
    }

    @Test func everyErrorInTheFileIsReported() {
        let text = "ip inspect name X smtpx\nhostname ok\naccess-list 3000 permit ip any any\n"
        let errors = parseErrors(text)
        #expect(errors.map(\.kind) == [.unknownProtocol, .accessListNumberOutOfRange])
        #expect(errors.map(\.location.line) == [1, 3])
    }

    @Test func anErrorAnywhereMeansNoModel() throws {
        let seed = try Repository.seedText()
        #expect(seed.hasSuffix("\nend\n"))
        let text = seed.dropLast(4) + "ip inspect name OUT-IN esmtp\nend\n"
        guard case .failure(let failure) = IOSConfigParser.parse(String(text), fileName: "seed") else {
            Issue.record("the seed with esmtp added to OUT-IN parsed")
            return
        }
        #expect(failure.errors.map(\.kind) == [.smtpWithESMTP])
        #expect(failure.errors[0].location.line == 153)
        // The warnings seen on the way are kept for the report.
        #expect(failure.warnings.contains { $0.kind == .unicodeMinus })
    }

    @Test func errorTextHasFoundExpectedAndHint() {
        let error = parseErrors("ip inspect name OUT-IN smtp\nip inspect name OUT-IN esmtp\n", file: "r.cfg")[0]
        #expect(error.description == """
            r.cfg:2:24: error: `smtp` and `esmtp` in one inspection rule (IOS refuses it)
                found: `esmtp`
                expected: only one of `smtp` and `esmtp` in rule OUT-IN; line 1 has `smtp`
                hint: keep one: esmtp allows all smtp commands plus AUTH, EHLO and ETRN
            """)
    }
}
