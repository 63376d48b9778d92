import Foundation
import IOSConfig
import Testing

@Suite struct RuleGeneratorTests {
    static let richMap = ["FastEthernet0/0=wan", "FastEthernet0/1=lan", "Serial0=ser0"].compactMap(InterfaceMapping.init(argument:))

    static func rules(_ model: IOSConfiguration, _ map: [InterfaceMapping], queue: NFQueueTarget = .number(0),
                      bypass: Bool = false) throws -> GeneratedRules {
        try IptablesRules.generate(model, options: RuleOptions(interfaces: map, queue: queue, queueBypass: bypass)).get()
    }

    static func ruleLines(_ rules: GeneratedRules) -> [String] {
        rules.text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-") }
    }

    /// A rule line without its `-m comment --comment "…"` part.
    static func uncommented(_ line: String) -> String {
        guard let start = line.range(of: " -m comment --comment \""),
              let end = line[start.upperBound...].firstIndex(of: "\"") else { return line }
        return String(line[..<start.lowerBound] + line[line.index(after: end)...])
    }

    static func errors(_ model: IOSConfiguration, _ map: [String]) -> [RuleGenerationError] {
        let options = RuleOptions(interfaces: map.compactMap(InterfaceMapping.init(argument:)))
        guard case .failure(let failure) = IptablesRules.generate(model, options: options) else { return [] }
        return failure.errors
    }

    @Test(arguments: [(false, NFQueueTarget.number(0), "-j NFQUEUE --queue-num 0\n"),
                      (true, NFQueueTarget.number(3), "-j NFQUEUE --queue-num 3 --queue-bypass\n"),
                      (true, NFQueueTarget.balance(0, 3), "-j NFQUEUE --queue-balance 0:3 --queue-bypass\n")])
    func queueAndBypassAreExplicit(_ bypass: Bool, _ queue: NFQueueTarget, _ target: String) throws {
        let text = try RuleGeneratorTests.rules(Repository.seed().configuration, SeedGoldenTests.seedMap,
                                                queue: queue, bypass: bypass).text
        let queued = text.split(separator: "\n").filter { $0.contains("NFQUEUE") && $0.hasPrefix("-A") }
        #expect(queued.count == 1)
        #expect(queued.first.map { $0 + "\n" }?.hasSuffix(target) == true)
        #expect(queued.first?.contains("-p tcp -m connmark --mark 0x2000000/0x2000000") == true)
        #expect(text.contains(bypass ? "pass uninspected (fail open)" : "stop (fail closed)"))
    }

    /// Everything lives in SI- chains; outside them only the commented jumps, so `remove` can
    /// delete exactly what `apply` added.
    @Test(arguments: ["seed", "rich"])
    func everythingIsInSIChains(_ name: String) throws {
        let rules = name == "seed"
            ? try RuleGeneratorTests.rules(Repository.seed().configuration, SeedGoldenTests.seedMap)
            : try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap)
        let lines = rules.text.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("*") } == ["*raw", "*mangle", "*nat", "*filter"])
        #expect(lines.filter { $0 == "COMMIT" }.count == 4)
        for declaration in lines where declaration.hasPrefix(":") {
            #expect(declaration.hasPrefix(":SI-") && declaration.hasSuffix(" - [0:0]"), "\(declaration)")
            #expect(declaration.dropFirst().split(separator: " ")[0].utf8.count <= 28, "\(declaration)")
        }
        for rule in lines where rule.hasPrefix("-A ") { #expect(rule.hasPrefix("-A SI-"), "\(rule)") }
        for jump in lines where jump.hasPrefix("-I ") {
            #expect(jump.contains(" 1 -m comment --comment \"smtp-inspect\" -j SI-"), "\(jump)")
        }
        #expect(lines.allSatisfy { $0.isEmpty || "#*:-C".contains($0.first!) })
    }

    @Test func unmappedInterfaceThatNeedsRulesIsAnError() throws {
        let errors = RuleGeneratorTests.errors(try Repository.seed().configuration, ["Ethernet2/0=ext0"])
        #expect(errors.count == 1)
        #expect(errors.first?.location?.line == 95)
        #expect(errors.first?.message.contains("Ethernet2/1") == true)
        #expect(errors.first?.hint == "add --interface Ethernet2/1=LINUXNAME (or --interface auto)")
    }

    @Test(arguments: [["Ethernet2/0=ext0", "Ethernet2/1=int0", "Ethernet9/9=x"],
                      ["Ethernet2/0=ext0", "Ethernet2/1=ext0"],
                      ["Ethernet2/0=ext0", "ethernet2/0=ext1", "Ethernet2/1=int0"]])
    func badInterfaceMaps(_ map: [String]) throws {
        let errors = RuleGeneratorTests.errors(try Repository.seed().configuration, map)
        #expect(!errors.isEmpty)
        #expect(errors.first?.description.hasPrefix("error: --interface") == true, "\(errors)")
    }

    @Test func interfaceMapArguments() {
        #expect(InterfaceMapping(argument: "Ethernet2/0=ext0") == InterfaceMapping(iosName: "Ethernet2/0", linuxName: "ext0"))
        for bad in ["Ethernet2/0", "=ext0", "Ethernet2/0=", "E0=a/b", "E0=sixteen-chars-xx", "E0=a b", "E0=..", "E0=a#b", "E0=a\"b"] {
            #expect(InterfaceMapping(argument: bad) == nil, "\(bad)")
        }
        #expect(NFQueueTarget(argument: "7") == .number(7))
        #expect(NFQueueTarget(argument: "0-3") == .balance(0, 3))
        for bad in ["", "-1", "3-3", "4-2", "65536", "a", "1-2-3"] { #expect(NFQueueTarget(argument: bad) == nil, "\(bad)") }
    }

    @Test func shutdownInterfacesPassNothingAndNeedNoMap() throws {
        let seed = try Repository.seed().configuration
        #expect(!(try RuleGeneratorTests.rules(seed, SeedGoldenTests.seedMap).text.contains("shutdown")))
        let lines = RuleGeneratorTests.ruleLines(try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap))
        #expect(lines.filter { $0.contains("Serial0: shutdown") } == [
            "-A SI-PREROUTING -i ser0 -m comment --comment \"Serial0: shutdown (line 34)\" -j DROP",
            "-A SI-POSTROUTING -o ser0 -m comment --comment \"Serial0: shutdown (line 34)\" -j DROP",
        ])
    }

    @Test func accessListEntriesBecomeMatches() throws {
        let lines = RuleGeneratorTests.ruleLines(try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap))
        let acl = lines.filter { $0.hasPrefix("-A SI-ACL-110 ") }.map { $0.components(separatedBy: " -m comment")[0] }
        #expect(acl == [
            "-A SI-ACL-110 -p tcp -d 192.0.2.25/32 -m tcp --dport 25",
            "-A SI-ACL-110 -p tcp -d 203.0.113.26/32 -m tcp --sport 80 --dport 1024:65535 ! --tcp-flags ACK,RST NONE",
            "-A SI-ACL-110 -p udp -m udp --sport 1000:2000 ! --dport 53",
            "-A SI-ACL-110 -p icmp -m icmp --icmp-type 0",
            "-A SI-ACL-110 -p icmp -m icmp --icmp-type 3/13",
            "-A SI-ACL-110 -s 198.51.100.0/24 -m limit --limit 1/sec --limit-burst 5",
            "-A SI-ACL-110 -s 198.51.100.0/24",
            "-A SI-ACL-110 -p 47",
            "-A SI-ACL-110",
        ])
        let targets = lines.filter { $0.hasPrefix("-A SI-ACL-110 ") }.map { $0.components(separatedBy: "\" ").last! }
        #expect(targets == ["-j RETURN", "-j RETURN", "-j RETURN", "-j RETURN", "-j RETURN",
                            "-j LOG --log-prefix \"list 110 denied \"", "-j DROP", "-j RETURN", "-j DROP"])
    }

    @Test(arguments: [(PortMatch.gt(1023), "--dport 1024:65535"), (.lt(1024), "--dport 0:1023"),
                      (.eq(25), "--dport 25"), (.neq(25), "! --dport 25"), (.range(20, 21), "--dport 20:21"),
                      (.range(25, 25), "--dport 25")])
    func portMatches(_ match: PortMatch, _ words: String) throws {
        let text = "access-list 101 permit tcp any any \(IOSText.port(match, protocolNumber: 6))\n"
            + "interface E0\n ip access-group 101 in\n"
        let model = try IOSConfigParser.parse(text, fileName: "p.cfg").get().configuration
        let lines = RuleGeneratorTests.ruleLines(try RuleGeneratorTests.rules(model, [InterfaceMapping(argument: "E0=e0")!]))
        #expect(lines.contains { $0.hasPrefix("-A SI-ACL-101 -p tcp -m tcp \(words) -m comment") }, "\(lines)")
    }

    /// An outbound list on the outside judges an inside host by the global address it leaves with.
    @Test func outboundListsSeeTheGlobalAddress() throws {
        let lines = RuleGeneratorTests.ruleLines(try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap))
        let out = lines.filter { $0.hasPrefix("-A SI-OUT-wan ") }.map(RuleGeneratorTests.uncommented)
        #expect(out == [
            "-A SI-OUT-wan -m connmark --mark 0x1000000/0x1000000 -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
            "-A SI-OUT-wan -s 10.0.0.25/32 -g SI-ACL-2-NAT1",
            "-A SI-OUT-wan -s 10.0.0.26/32 -g SI-ACL-2-NAT2",
            "-A SI-OUT-wan -s 10.0.0.27/32 -g SI-ACL-2-NAT3",
            "-A SI-OUT-wan -g SI-ACL-2",
        ])
        // 192.0.2.25 is in the permitted 192.0.2.0/24: the permit stays, without a source match.
        #expect(lines.contains { $0.hasPrefix("-A SI-ACL-2-NAT1 -m comment --comment \"access-list 2 permit") && $0.hasSuffix("-j RETURN") })
        // 203.0.113.26 is not: the permit is left out.
        #expect(!lines.contains { $0.hasPrefix("-A SI-ACL-2-NAT2") && $0.hasSuffix("-j RETURN") })
        #expect(lines.contains { $0.hasPrefix("-A SI-ACL-2 -s 192.0.2.0/24 ") })
    }

    /// IOS answers ARP for a global address in an outside subnet, unless no-alias.
    @Test func aliasesForGlobalAddresses() throws {
        let setup = try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap).setup
        #expect(setup.filter { if case .address = $0 { true } else { false } }
                == [.address(device: "wan", address: IPv4Address(192, 0, 2, 25))])
        let text = try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap).text
        #expect(text.contains("\n# SETUP address wan 192.0.2.25/32\n"))
    }

    @Test func ftpInspectedOutboundGetsTheHelperFromEveryOtherInterface() throws {
        let lines = RuleGeneratorTests.ruleLines(try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap))
        #expect(lines.filter { $0.contains("CT --helper ftp") }.map { $0.components(separatedBy: " -m comment")[0] }
                == ["-A SI-PREROUTING ! -i wan -p tcp -m tcp --dport 21"])
    }

    /// No TCP/25 packet reaches the far side without an inspected session: the client side is
    /// where the inspection applies, the server side the other way.
    @Test(arguments: [(Direction.in, "-i e0", "-o e0"), (.out, "-o e0", "-i e0")])
    func smtpGuardsFollowTheDirection(_ direction: Direction, _ client: String, _ server: String) throws {
        let text = "ip inspect name M esmtp\ninterface E0\n ip inspect M \(direction.rawValue)\n"
        let model = try IOSConfigParser.parse(text, fileName: "g.cfg").get().configuration
        let lines = RuleGeneratorTests.ruleLines(try RuleGeneratorTests.rules(model, [InterfaceMapping(argument: "E0=e0")!]))
            .filter { $0.hasSuffix("-j DROP") && $0.hasPrefix("-A SI-FORWARD") }.map(RuleGeneratorTests.uncommented)
        #expect(lines == [
            "-A SI-FORWARD \(client) -p tcp -m tcp --dport 25 -m conntrack --ctstate INVALID -j DROP",
            "-A SI-FORWARD \(client) -p tcp -m tcp --dport 25 ! --syn -m conntrack --ctstate NEW -j DROP",
            "-A SI-FORWARD \(server) -p tcp -m tcp --sport 25 -m conntrack --ctstate INVALID -j DROP",
            "-A SI-FORWARD \(server) -p tcp -m tcp --sport 25 ! --syn -m conntrack --ctstate NEW -j DROP",
        ])
    }

    @Test func staticNATNeedsAnInsideAndAnOutsideInterface() throws {
        let text = "ip nat inside source static 10.0.0.2 192.0.2.2\ninterface E0\n ip nat outside\n"
        let model = try IOSConfigParser.parse(text, fileName: "n.cfg").get().configuration
        let rules = try RuleGeneratorTests.rules(model, [InterfaceMapping(argument: "E0=e0")!])
        #expect(!rules.text.contains("DNAT") && !rules.text.contains("SNAT"))
        #expect(rules.text.contains("NAT translates nothing"))
        #expect(rules.setup == [.sysctl(name: "net.ipv4.ip_forward", value: "1")])
    }

    @Test func longRuleNamesGetNumberedChains() throws {
        let name = "A-VERY-LONG-INSPECTION-NAME"
        let text = "ip inspect name \(name) smtp\ninterface E0\n ip inspect \(name) in\n"
        let model = try IOSConfigParser.parse(text, fileName: "l.cfg").get().configuration
        let rules = try RuleGeneratorTests.rules(model, [InterfaceMapping(argument: "E0=e0")!])
        #expect(rules.text.contains(":SI-INSP-1 - [0:0]\n"))
    }

    /// The files load: iptables-restore --test in a throwaway network namespace (root only; the
    /// test does nothing elsewhere).
    @Test(arguments: ["seed", "rich"])
    func iptablesRestoreAcceptsTheFile(_ name: String) throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
              FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-restore") else { return }
        let rules = name == "seed"
            ? try RuleGeneratorTests.rules(Repository.seed().configuration, SeedGoldenTests.seedMap, bypass: true)
            : try RuleGeneratorTests.rules(Fixtures.richModel(), RuleGeneratorTests.richMap, queue: .balance(1, 4))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--net", "/usr/sbin/iptables-restore", "--test", "--noflush"]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(rules.text.utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(message)")
    }
}
