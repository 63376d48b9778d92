import Foundation
import IOSConfig
import Testing

/// Repository files, found from this file's path (tests use no bundle resources).
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    static func read(_ path: String) throws -> String {
        try String(contentsOf: url(path), encoding: .utf8)
    }

    static let seedConfigPath = "iptables/seed-running-config.txt"
    static let seedFileName = "seed-running-config.txt"

    static func seedText() throws -> String { try read(seedConfigPath) }

    /// The seed configuration, parsed; fails the test when it does not parse.
    static func seed() throws -> ParsedConfiguration {
        try IOSConfigParser.parse(seedText(), fileName: seedFileName).get()
    }
}

/// Compares `actual` with a golden file; `UPDATE_GOLDEN=1` rewrites the file instead (review the
/// diff before committing it).
func expectGolden(_ actual: String, path: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try actual.write(to: Repository.url(path), atomically: true, encoding: .utf8)
        return
    }
    let expected = try Repository.read(path)
    if expected == actual { return }
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let common = min(expectedLines.count, actualLines.count)
    let firstDifference = (0..<common).first { expectedLines[$0] != actualLines[$0] } ?? common
    let expectedLine = firstDifference < expectedLines.count ? String(expectedLines[firstDifference]) : "<end>"
    let actualLine = firstDifference < actualLines.count ? String(actualLines[firstDifference]) : "<end>"
    let message = "\(path) differs at line \(firstDifference + 1):\n  golden: \(expectedLine)\n"
        + "  actual: \(actualLine)\n(run with UPDATE_GOLDEN=1 to rewrite it, then review the diff)"
    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
}

/// Parses text that must fail and returns the errors.
func parseErrors(_ text: String, file: String = "test.cfg") -> [Diagnostic] {
    switch IOSConfigParser.parse(text, fileName: file) {
    case .success: return []
    case .failure(let failure): return failure.errors
    }
}

/// Configurations that exercise what the seed does not.
enum Fixtures {
    /// Every command IOSConfig configures, with non-default values.
    static let rich = """
        hostname edge-1
        service timestamps debug uptime
        service timestamps log datetime msec localtime
        ip inspect audit-trail
        ip inspect alert-off
        ip inspect max-incomplete low 300
        ip inspect max-incomplete high 600
        ip inspect one-minute low 100
        ip inspect one-minute high 200
        ip inspect tcp synwait-time 15
        ip inspect tcp finwait-time 3
        ip inspect tcp idle-time 1800
        ip inspect udp idle-time 45
        ip inspect dns-timeout 4
        ip inspect tcp max-incomplete host 40 block-time 2
        ip inspect name MAIL esmtp alert on audit-trail off max-data 1000000 timeout 600
        ip inspect name MAIL tcp timeout 100
        ip inspect name OUT tcp
        ip inspect name OUT ftp alert off
        interface FastEthernet0/0
         description outside, to the ISP
         ip address 192.0.2.1 255.255.255.0
         ip address 198.51.100.1 255.255.255.0 secondary
         ip access-group 110 in
         ip access-group 2 out
         ip nat outside
         ip inspect MAIL in
         ip inspect OUT out
         no shutdown
        interface FastEthernet0/1
         ip address 10.0.0.1 255.255.255.0
         ip nat inside
        interface Serial0
         shutdown
        ip route 0.0.0.0 0.0.0.0 192.0.2.254
        ip nat inside source static 10.0.0.25 192.0.2.25
        ip nat inside source static 10.0.0.26 203.0.113.26 no-alias
        ip nat inside source static 10.0.0.27 203.0.113.27
        access-list 2 permit 192.0.2.0 0.0.0.255
        access-list 2 deny any log
        access-list 110 permit tcp any host 192.0.2.25 eq smtp
        access-list 110 permit tcp any eq www host 203.0.113.26 gt 1023 established
        access-list 110 permit udp any range 1000 2000 any neq 53
        access-list 110 permit icmp any any echo-reply
        access-list 110 permit icmp any any 3 13
        access-list 110 deny ip 198.51.100.0 0.0.0.255 any log
        access-list 110 permit 47 any any
        end

        """

    static func richModel() throws -> IOSConfiguration {
        try IOSConfigParser.parse(rich, fileName: "rich.cfg").get().configuration
    }
}
