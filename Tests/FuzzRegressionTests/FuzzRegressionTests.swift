import Foundation
import FuzzHarness
import Testing

/// Repository files, found from this file's path (tests use no bundle resources).
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fuzz = root.appendingPathComponent("Tests/fuzz")

    /// Names of the files in Tests/fuzz/KIND/TARGET, sorted ("TARGET/NAME").
    static func inputs(_ kind: String, _ target: String) -> [String] {
        let dir = fuzz.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { "\(target)/\($0)" }
    }

    static func bytes(_ kind: String, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fuzz.appendingPathComponent(kind).appendingPathComponent(name)))
    }

    static func path(_ kind: String, _ name: String) -> String {
        fuzz.appendingPathComponent(kind).appendingPathComponent(name).path
    }
}

/// Runs one input through its target's harness; the findings (empty: it passed).
func findings(target: String, kind: String, name: String, guards: KnownIssueGuards) throws -> FuzzFindings {
    switch target {
    case "smtp": return SMTPSessionFuzz.run(try Repository.bytes(kind, name), guards: guards)
    case "flow": return FlowEngineFuzz.run(try Repository.bytes(kind, name), guards: guards)
    case "config": return ConfigFuzz.run(try Repository.bytes(kind, name), guards: guards)
    default:
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("fuzz-regression-\(getpid())-\(UUID().uuidString).pcap").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        return PcapFuzz.run(path: Repository.path(kind, name), writingTo: scratch, guards: guards)
    }
}

let targets = ["smtp", "flow", "config", "pcap"]

@Suite("Fuzz corpora: every committed input passes, as the fuzz loop ran it")
struct FuzzCorpusTests {
    @Test(arguments: targets)
    func corpus(_ target: String) throws {
        let names = Repository.inputs("corpus", target)
        #expect(names.count >= 3, "Tests/fuzz/corpus/\(target) holds the seeds")
        for name in names {
            let found = try findings(target: target, kind: "corpus", name: name, guards: .known)
            #expect(found.isEmpty, "Tests/fuzz/corpus/\(name):\n\(found)")
        }
    }
}

/// Every regression input, without known-issue guards, in a child process of its own: a
/// reproducer that traps again fails its test, not the whole run.
@Suite("Fuzz regressions: reproducers of what fuzzing found")
struct FuzzRegressionTests {
    static let regressions = targets.flatMap { Repository.inputs("regressions", $0) }

    @Test("Regression input", arguments: regressions)
    func regression(_ name: String) async throws {
        let target = String(name.prefix { $0 != "/" })
        if let issue = knownIssue(name, .harness) {
            await withKnownIssue(issue) { await Self.passesInChild(target: target, name: name) }
        } else {
            await Self.passesInChild(target: target, name: name)
        }
    }

    /// Runs the input in a child process, which exits 0 only when it passed.
    static func passesInChild(target: String, name: String) async {
        await #expect(processExitsWith: .success, "Tests/fuzz/regressions/\(name)") { [target, name] in
            let found = try findings(target: target, kind: "regressions", name: name, guards: .strict)
            if !found.isEmpty {
                print("Tests/fuzz/regressions/\(name):\n\(found)")
                exit(1)
            }
        }
    }

    @Test("Every known issue names a regression input")
    func knownIssuesExist() {
        for name in knownIssues.keys.sorted() {
            #expect(Self.regressions.contains(name), "KnownIssueTable names \(name), which is not under Tests/fuzz/regressions")
        }
        #expect(Self.regressions.count >= knownIssues.count)
    }
}
