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
