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

let knownIssues: [String: KnownIssue] = [
    "smtp/adopt-during-ehlo-reply": KnownIssue(check: .harness, what:
        "SMTPSession.adopt during an EHLO reply: Index out of range in TokenTrie.step (SMTPInspection; integrator)"),
    "smtp/masked-ehlo-still-a-command": KnownIssue(check: .harness, what:
        "a line masked from its argument on keeps its verb (EHLO c.exaxxxx), the server executes it, its reply's keywords go unmasked (SMTPInspection; integrator)"),
    "smtp/reply-releases-held-bytes": KnownIssue(check: .harness, what:
        "a server chunk is judged whole before the held client bytes its 354 released (SMTPInspection; integrator)"),
    "flow/rst-then-syn-new-session": KnownIssue(check: .harness, what:
        "an in-window RST closes the session, a SYN starts a new one mid-stream; the server reads EXPN unjudged (FlowEngine, issue 10 class 2; integrator)"),
    "flow/idle-expiry-then-syn-new-session": KnownIssue(check: .harness, what:
        "an expired session is forgotten with both ends open; a SYN starts a new session mid-stream; the server reads EXPN unjudged (FlowEngine, issue 10 class 2; integrator)"),
    "flow/reply-after-server-fin": KnownIssue(check: .harness, what:
        "server bytes after the server's FIN (never read by the client: forged) are judged; a forged 354 makes EXPN pass as message data (FlowEngine; integrator)"),
    "config/escape-in-inspection-name": KnownIssue(check: .harness, what:
        "control characters reach the rules' comments; iptables-restore refuses them (IOSConfig; configs)"),
    "config/nul-in-inspection-name": KnownIssue(check: .harness, what:
        "NUL reaches the rules' comments; iptables-restore refuses them (IOSConfig; configs)"),
    "pcap/timestamp-high-word.pcapng": KnownIssue(check: .replay, what:
        "replay traps converting a pcapng timestamp with a large high word (smtp-inspect replay; control plane)"),
]

/// The known issue of `input` for `check`, if there is one.
func knownIssue(_ input: String, _ check: KnownIssue.Check) -> Comment? {
    guard let issue = knownIssues[input], issue.check == check else { return nil }
    return Comment(rawValue: issue.what)
}
