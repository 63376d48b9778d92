import Foundation
import IOSConfig
import Testing

/// The configuration corpus under Tests/configs/corpus (how each file was made: its README):
/// every file passes `check`, and its `check` listing and `rules` output (IPv4 in `NAME.rules.txt`,
/// IPv6 in `NAME.rules6.txt`) equal the goldens beside it (regenerate with UPDATE_GOLDEN=1 and
/// review the diff). `Tests/e2e/real-configs.sh` loads
/// every rule set into a throwaway network namespace.
@Suite struct CorpusTests {
    static let directory = "Tests/configs/corpus"

    /// The corpus files, by name.
    static let names: [String] = {
        let url = Repository.url(directory)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return files.filter { $0.hasSuffix(".cfg") }.map { String($0.dropLast(4)) }.sorted()
    }()

    /// `NAME.map`: `IOSNAME=LINUXNAME` or `auto` per line, and for `auto` the addresses the
    /// box is assumed to have (`host ext0 172.22.1.16/24`, `host6 wan0 2001:db8::2/64`).
    static func map(_ name: String) throws -> (explicit: [InterfaceMapping], automatic: Bool, host: [HostAddress], host6: [HostAddress6]) {
        let text = try Repository.read("\(directory)/\(name).map")
        var explicit: [InterfaceMapping] = []
        var automatic = false
        var host: [HostAddress] = []
        var host6: [HostAddress6] = []
        for line in text.split(separator: "\n").map(String.init) where !line.isEmpty {
            let words = line.split(separator: " ").map(String.init)
            if words == ["auto"] {
                automatic = true
            } else if words.count == 3, words[0] == "host" {
                let parts = words[2].split(separator: "/")
                let address = try #require(IPv4Address(parsing: parts[0]))
                host.append(HostAddress(interface: words[1], address: address, prefixLength: Int(parts[1]) ?? 32))
            } else if words.count == 3, words[0] == "host6" {
                let parts = words[2].split(separator: "/")
                let address = try #require(IPv6Address(parsing: parts[0]))
                host6.append(HostAddress6(interface: words[1], address: address, prefixLength: Int(parts[1]) ?? 128))
            } else {
                explicit.append(try #require(InterfaceMapping(argument: line), "\(name).map: \(line)"))
            }
        }
        return (explicit, automatic, host, host6)
    }

    static func parsed(_ name: String) throws -> ParsedConfiguration {
        let text = try Repository.read("\(directory)/\(name).cfg")
        switch IOSConfigParser.parse(text, fileName: "\(name).cfg") {
        case .success(let parsed): return parsed
        case .failure(let failure):
            Issue.record("\(name).cfg does not pass check:\n\(failure)")
            throw failure
        }
    }

    static func rules(_ name: String, family: AddressFamily = .ipv4) throws -> GeneratedRules {
        let configuration = try parsed(name).configuration
        let map = try map(name)
        let mappings = try InterfaceMap.resolve(configuration, explicit: map.explicit, automatic: map.automatic,
                                                host: map.host, host6: map.host6).get()
        let options = RuleOptions(interfaces: mappings, sourceName: "\(name).cfg",
                                  mapNote: map.automatic ? "--interface auto: by address" : nil)
        return try IptablesRules.generate(configuration, options: options, family: family).get()
    }

    @Test func theCorpusHasTheStylesTheIssueAsksFor() {
        #expect(CorpusTests.names.count >= 15, "\(CorpusTests.names)")
    }

    @Test(arguments: names)
    func checkListingGolden(_ name: String) throws {
        try expectGolden(CheckReport.render(try CorpusTests.parsed(name)), path: "\(CorpusTests.directory)/\(name).check.txt")
    }

    @Test(arguments: names)
    func rulesGolden(_ name: String) throws {
        try expectGolden(try CorpusTests.rules(name).text, path: "\(CorpusTests.directory)/\(name).rules.txt")
    }

    @Test(arguments: names)
    func ipv6RulesGolden(_ name: String) throws {
        try expectGolden(try CorpusTests.rules(name, family: .ipv6).text, path: "\(CorpusTests.directory)/\(name).rules6.txt")
    }

    /// Dual-stack configurations are part of the corpus: some say IPv6 for themselves, some only
    /// IPv4 (their IPv6 SMTP is inspected all the same).
    @Test func theCorpusHasDualStackConfigurations() throws {
        let models = try CorpusTests.names.map { try CorpusTests.parsed($0).configuration }
        #expect(models.filter { !$0.ipv6InspectionRules.isEmpty && !$0.ipv6AccessLists.isEmpty }.count >= 2)
        #expect(models.contains { $0.ipv6InspectionRules.isEmpty && $0.smtpAttachments.contains { $0.family == .ipv6 } })
    }

    /// What smtp-inspect reads of each configuration prints back as IOS text that reads the same.
    @Test(arguments: names)
    func runningConfigRoundTrips(_ name: String) throws {
        let model = try CorpusTests.parsed(name).configuration
        let again = try IOSConfigParser.parse(RunningConfig.render(model), fileName: "again.cfg").get().configuration
        #expect(ModelDump.render(again, includeLocations: false) == ModelDump.render(model, includeLocations: false))
    }
}
