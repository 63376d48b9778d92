/// Known bugs the fuzz loop steps around, so that a run goes on finding new ones (and CI's bounded
/// runs stay green) until their fixes are merged. Each guard names the regression input under
/// Tests/fuzz/regressions that reproduces its bug; `swift test` runs those without guards, under
/// `withKnownIssue`. When a fix lands: delete its guard here and its marker in
/// Tests/FuzzRegressionTests/KnownIssueTable.swift (the test then fails until both are gone).
public struct KnownIssueGuards: Sendable, CustomStringConvertible {
    // None is open: every bug fuzzing found so far is fixed. A new one is a `Bool` here, named
    // after its reproducer, set from `on` in `init(all:)`, listed in `description` and checked
    // where the harness would report the bug.

    public init(all on: Bool) {}

    /// What the fuzz loop and the corpus replay use.
    public static let known = KnownIssueGuards(all: true)
    /// No guard: what a reproducer of a known bug must be run with.
    public static let strict = KnownIssueGuards(all: false)

    public var description: String { "no known-issue guards (none is open)" }
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
