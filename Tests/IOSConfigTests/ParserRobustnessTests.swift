import IOSConfig
import TestSupport
import Testing

/// Seeded random damage to the seed: the parser never traps, is deterministic, and every
/// diagnostic points inside the text it was given.
@Suite struct ParserRobustnessTests {
    static let words = ["ip", "inspect", "name", "smtp", "esmtp", "in", "out", "access-list", "101", "permit",
                        "tcp", "any", "host", "eq", "interface", "nat", "inside", "source", "static", "!", "\u{2212}",
                        "10.0.0.1", "0.0.0.255", "999", "range", "log", "\t", " ", "\n", "#", "^C", "banner", "end"]

    static func damaged(_ text: String, seed: UInt64) -> String {
        var generator = SplitMix64(seed: seed)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<Int.random(in: 1...8, using: &generator) {
            let index = Int.random(in: 0..<lines.count, using: &generator)
            var words = lines[index].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: words.insert(words.isEmpty ? "x" : ParserRobustnessTests.words.randomElement(using: &generator)!,
                                 at: Int.random(in: 0...words.count, using: &generator))
            case 1: if !words.isEmpty { words.remove(at: Int.random(in: 0..<words.count, using: &generator)) }
            case 2: lines.swapAt(index, Int.random(in: 0..<lines.count, using: &generator))
            default: words = [String(lines[index].shuffled(using: &generator))]
            }
            lines[index] = words.joined(separator: " ")
        }
        return lines.joined(separator: "\n")
    }

    @Test(arguments: 0..<200)
    func damagedSeedsParseOrFailCleanly(_ seed: Int) throws {
        let text = ParserRobustnessTests.damaged(try Repository.seedText(), seed: UInt64(seed))
        let first = IOSConfigParser.parse(text, fileName: "d.cfg")
        #expect(first == IOSConfigParser.parse(text, fileName: "d.cfg"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let diagnostics: [Diagnostic]
        switch first {
        case .success(let parsed):
            diagnostics = parsed.warnings
            #expect(parsed.lines.count == lines.count - (lines.last?.isEmpty == true ? 1 : 0))
            _ = ShowIPInspect.all(parsed.configuration)
            _ = CheckReport.render(parsed)
        case .failure(let failure):
            diagnostics = failure.errors + failure.warnings
            #expect(!failure.errors.isEmpty)
        }
        for diagnostic in diagnostics {
            let line = diagnostic.location.line
            #expect(line >= 1 && line <= lines.count, "\(diagnostic)")
            if line >= 1 && line <= lines.count {
                #expect(diagnostic.location.column >= 1
                        && diagnostic.location.column <= lines[line - 1].unicodeScalars.count + 1, "\(diagnostic)")
            }
        }
    }
}
