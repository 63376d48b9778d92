/// Known bugs the fuzz loop steps around, so that a run goes on finding new ones (and CI's bounded
/// runs stay green) until their fixes are merged. Each guard names the regression input under
/// Tests/fuzz/regressions that reproduces its bug; `swift test` runs those without guards, under
/// `withKnownIssue`. When a fix lands: delete its guard here and its marker in
/// Tests/FuzzRegressionTests/KnownIssueTable.swift (the test then fails until both are gone).
public struct KnownIssueGuards: Sendable, CustomStringConvertible {
    /// smtp/adopt-during-ehlo-reply: `SMTPSession.adopt` of a policy with a smaller EHLO keyword
    /// table while an EHLO reply is being read traps in `TokenTrie.step`. Guarded: an adopt step
    /// keeps the session's policy kind and STARTTLS setting (the tables keep their size).
    public var adoptKeepsKeywordTable: Bool
    /// smtp/reply-releases-held-bytes: a server chunk is judged whole before the client bytes
    /// its first reply released are resumed, so later replies in the same chunk find nothing
    /// pending. Guarded: server bytes are cut after every LF in every run.
    public var serverChunksCutAtLineEnds: Bool
    /// flow: packets whose IPv4 or TCP checksum is wrong are acted on and forwarded (issue 10,
    /// class 3). Guarded: forwarded packets are checked only when the packet as sent had good
    /// checksums.
    public var badChecksumsPass: Bool
    /// config/control-character-in-*: NUL and control characters of the configuration reach the
    /// rules' comments, so iptables-restore refuses a rule set that `check` accepted. Guarded:
    /// the rules' text is not checked for control characters.
    public var controlCharactersReachRules: Bool

    public init(all on: Bool) {
        adoptKeepsKeywordTable = on
        serverChunksCutAtLineEnds = on
        badChecksumsPass = on
        controlCharactersReachRules = on
    }

    /// What the fuzz loop and the corpus replay use.
    public static let known = KnownIssueGuards(all: true)
    /// No guard: what a reproducer of a known bug must be run with.
    public static let strict = KnownIssueGuards(all: false)

    public var description: String {
        let on = [
            adoptKeepsKeywordTable ? "adopt keeps the keyword table" : nil,
            serverChunksCutAtLineEnds ? "server chunks cut at line ends" : nil,
            badChecksumsPass ? "bad checksums pass" : nil,
            controlCharactersReachRules ? "control characters reach rules" : nil,
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
