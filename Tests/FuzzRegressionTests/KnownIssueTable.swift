import Testing

/// Regression inputs under Tests/fuzz/regressions whose fix is not merged yet: which check fails,
/// what goes wrong and who is fixing it. Those checks run under `withKnownIssue`, so the suite
/// stays green while they fail, and fails once they pass: then delete the entry here (and the
/// matching guard in Sources/FuzzHarness/KnownIssues.swift, if it has one).
struct KnownIssue {
    enum Check {
        /// The target's harness (FuzzRegressionTests).
        case harness
        /// `smtp-inspect replay` of the capture (ReplayTests).
        case replay
    }

    let check: Check
    let what: String
}

/// None is open: every reproducer under Tests/fuzz/regressions passes.
let knownIssues: [String: KnownIssue] = [:]

/// The known issue of `input` for `check`, if there is one.
func knownIssue(_ input: String, _ check: KnownIssue.Check) -> Comment? {
    guard let issue = knownIssues[input], issue.check == check else { return nil }
    return Comment(rawValue: issue.what)
}
