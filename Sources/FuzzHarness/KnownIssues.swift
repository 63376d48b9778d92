/// Known bugs the fuzz loop steps around, so that a run goes on finding new ones (and CI's bounded
/// runs stay green) until their fixes are merged. Each guard names the regression input under
/// Tests/fuzz/regressions that reproduces its bug; `swift test` runs those without guards, under
/// `withKnownIssue`. When a fix lands: delete its guard here and its marker in
/// Tests/FuzzRegressionTests/KnownIssueTable.swift (the test then fails until both are gone).
public struct KnownIssueGuards: Sendable, CustomStringConvertible {
    /// smtp/masked-ehlo-still-a-command: a command masked from its argument on keeps its verb
    /// (`EHLO c.exa\x05ple` reaches the server as `EHLO c.exaxxxx`, which it executes), while the
    /// session takes the line as refused: the EHLO reply's keywords go to the client unmasked.
    /// Guarded: the smtp target's masked-stream check leaves out inputs with such a line (the
    /// flow target judges what was sent, not what was masked, and does not see it).
    public var maskedLineStillACommand: Bool

    public init(all on: Bool) {
        maskedLineStillACommand = on
    }

    /// What the fuzz loop and the corpus replay use.
    public static let known = KnownIssueGuards(all: true)
    /// No guard: what a reproducer of a known bug must be run with.
    public static let strict = KnownIssueGuards(all: false)

    public var description: String {
        let on = [
            maskedLineStillACommand ? "masked line still a command" : nil,
        ].compactMap { $0 }
        return on.isEmpty ? "strict (no known-issue guards)" : "guards: " + on.joined(separator: ", ")
    }
}

/// What a harness found wrong with one input. Empty: the input passed.
public struct FuzzFindings: Sendable, CustomStringConvertible {
    public private(set) var messages: [String] = []

    public init() {}

    public var isEmpty: Bool { messages.isEmpty }

    mutating func add(_ message: String) {
        if messages.count < 20 { messages.append(message) }
    }

    mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { add(message()) }
    }

    public var description: String { messages.joined(separator: "\n") }
}
