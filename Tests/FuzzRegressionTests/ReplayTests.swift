import Foundation
import Testing

/// `smtp-inspect replay` over every committed capture: the executable's own handling of a file
/// (its time conversion, its writer) is outside the pcap harness, so the fuzz inputs go through
/// the real command too. It must finish with 0, or 1 and a message for a file it refuses;
/// never by a signal.
@Suite("smtp-inspect replay over the fuzz captures")
struct ReplayTests {
    /// The binary `swift test` built next to the test bundle (or SMTP_INSPECT_BIN).
    static let binary: String = ProcessInfo.processInfo.environment["SMTP_INSPECT_BIN"]
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("smtp-inspect").path

    static let captures = Repository.inputs("corpus", "pcap").map { ("corpus", $0) }
        + Repository.inputs("regressions", "pcap").map { ("regressions", $0) }

    @Test("replay IN --write OUT ends normally", arguments: captures.map { "\($0.0)/\($0.1)" })
    func replay(_ file: String) throws {
        let kind = String(file.prefix { $0 != "/" })
        let name = String(file.dropFirst(kind.count + 1))
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary),
                     "no smtp-inspect at \(Self.binary): run `swift build` (or set SMTP_INSPECT_BIN)")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(getpid())-\(UUID().uuidString).pcap")
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["replay", Repository.path(kind, name), "--write", output.path]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let check = {
            #expect(process.terminationReason == .exit && [0, 1].contains(process.terminationStatus),
                    "replay of Tests/fuzz/\(file): \(process.terminationReason == .exit ? "exit" : "signal") \(process.terminationStatus)\n\(message.suffix(2000))")
        }
        if let issue = knownIssue(name, .replay) {
            withKnownIssue(issue) { check() }
        } else {
            check()
        }
    }
}
