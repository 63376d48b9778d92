import Foundation
import IOSConfig
import Testing

/// The seed configuration against the seed's own `show ip inspect all` and the golden files
/// under iptables/ (regenerate those with UPDATE_GOLDEN=1 and review the diff).
@Suite struct SeedGoldenTests {
    static let showGolden = "iptables/seed-show-ip-inspect-all.txt"
    static let seedMap = [
        InterfaceMapping(argument: "Ethernet2/0=ext0")!, InterfaceMapping(argument: "Ethernet2/1=int0")!,
    ]

    /// The seed's output as IOS prints it: the technote's U+2212 minus signs read as `-`.
    static func seedShowOutput() throws -> String {
        try Repository.read(showGolden).replacingOccurrences(of: "\u{2212}", with: "-")
    }

    @Test func showIPInspectAllReadsLineForLineAsTheSeed() throws {
        let rendered = ShowIPInspect.all(try Repository.seed().configuration)
        let expected = try SeedGoldenTests.seedShowOutput()
        #expect(rendered.split(separator: "\n", omittingEmptySubsequences: false)
                == expected.split(separator: "\n", omittingEmptySubsequences: false))
    }

    /// The golden is the technote's lines 281-315 and the configuration under iptables/ its lines
    /// 111-263, byte for byte (the technote as converted to text, U+2212 minus signs and all; it
    /// is Cisco's and not in the repository). Their FNV-1a 64 hashes were taken from the
    /// technote's lines, so an edit of either file fails here. To check them against the
    /// technote: `sed -n 281,315p technote.txt`, and 111,263, equal the files; or recompute
    /// with python3: `h = 0xcbf29ce484222325; for b in data: h = ((h ^ b) * 0x100000001b3) % 2**64`.
    @Test func seedFilesAreTheTechnotesOwnText() throws {
        let show = Array(try Repository.read(SeedGoldenTests.showGolden).utf8)
        #expect(show.count == 1517)
        #expect(SeedGoldenTests.fnv1a64(show) == 0x6c42_8327_fccb_b40a)
        let configuration = Array(try Repository.seedText().utf8)
        #expect(configuration.count == 2666)
        #expect(SeedGoldenTests.fnv1a64(configuration) == 0x23f5_b6fb_bce9_be8c)
    }

    static func fnv1a64(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    @Test func allIsConfigThenInterfacesThenSessions() throws {
        let configuration = try Repository.seed().configuration
        let config = ShowIPInspect.config(configuration)
        let interfaces = ShowIPInspect.interfaces(configuration)
        #expect(config.hasPrefix("Session audit trail is disabled\n"))
        #expect(config.hasSuffix("    smtp max-data 20000000 alert is on audit-trail is off timeout 3600\n"))
        #expect(interfaces.hasPrefix("Interface Configuration\n Interface Ethernet2/1\n"))
        #expect(ShowIPInspect.all(configuration) == config + "\n" + interfaces)
        let sessions = "Established Sessions\n Session 66F96EB0 (172.22.1.50:39349)=>(10.10.10.2:25) smtp SIS_OPEN\n"
        #expect(ShowIPInspect.all(configuration, sessions: sessions) == config + "\n" + interfaces + sessions)
    }

    @Test func modelDumpGolden() throws {
        try expectGolden(ModelDump.render(try Repository.seed().configuration), path: "iptables/seed-model.txt")
    }

    @Test func checkReportGolden() throws {
        try expectGolden(CheckReport.render(try Repository.seed()), path: "iptables/seed-check.txt")
    }

    /// `iptables/seed-rules6.txt` is what `smtp-inspect rules … --family ipv6` prints: the seed
    /// speaks of IPv4 only, so its IPv6 half inspects IPv6 SMTP entering Ethernet2/0 with OUT-IN's
    /// smtp and touches nothing else; it changes no sysctl (no `ipv6 unicast-routing`).
    @Test func ipv6RulesGolden() throws {
        let options = RuleOptions(interfaces: SeedGoldenTests.seedMap, sourceName: Repository.seedFileName)
        let rules = try IptablesRules.generate(try Repository.seed().configuration, options: options, family: .ipv6).get()
        try expectGolden(rules.text, path: "iptables/seed-rules6.txt")
        #expect(rules.setup.isEmpty)
    }

    /// `iptables/seed-rules.txt` is what `smtp-inspect rules --config iptables/seed-running-config.txt
    /// --interface Ethernet2/0=ext0 --interface Ethernet2/1=int0` prints (queue 0, no bypass).
    @Test func rulesGolden() throws {
        let options = RuleOptions(interfaces: SeedGoldenTests.seedMap, sourceName: Repository.seedFileName)
        let rules = try IptablesRules.generate(try Repository.seed().configuration, options: options).get()
        try expectGolden(rules.text, path: "iptables/seed-rules.txt")
        #expect(rules.setup == [
            .sysctl(name: "net.ipv4.ip_forward", value: "1"), .module("nf_conntrack_ftp"), .module("nf_nat_ftp"),
            .address(device: "ext0", address: IPv4Address(172, 22, 1, 110)),
            .address(device: "ext0", address: IPv4Address(172, 22, 1, 111)),
        ])
    }
}
