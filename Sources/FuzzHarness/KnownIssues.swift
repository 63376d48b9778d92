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
    /// smtp/masked-ehlo-still-a-command: a command masked from its argument on keeps its verb
    /// (`EHLO c.exa\x05ple` reaches the server as `EHLO c.exaxxxx`, which it executes), while the
    /// session takes the line as refused: the EHLO reply's keywords go to the client unmasked.
    /// Guarded: the smtp target's masked-stream check leaves out inputs with such a line (the
    /// flow target judges what was sent, not what was masked, and does not see it).
    public var maskedLineStillACommand: Bool
    /// flow (issue 10, class 3): packets whose IPv4 or TCP checksum is wrong are acted on and
    /// forwarded. Guarded: a forwarded packet's checksums are checked only when it was sent with
    /// good ones, and the model ends read bad ones as the engine does.
    public var badChecksumsPass: Bool
    /// flow/rst-then-syn-new-session (issue 10, class 2): the engine acts on an RST whatever its
    /// sequence number, and a SYN after it starts a new session while the server's connection
    /// goes on. Guarded: the model ends obey every RST the engine lets through.
    public var resetsNotValidated: Bool
    /// flow/idle-expiry-then-syn-new-session (issue 10, class 2 by another way): a session the
    /// engine expires (idle, synwait, finwait) is forgotten without resetting its ends; a SYN
    /// then starts a new session mid-stream of the connection the server still has open.
    /// Guarded: the model ends of a connection the engine forgot are taken as reset.
    public var expiredSessionsLeftOpen: Bool
    /// flow/reply-after-server-fin: bytes a side sends after its FIN (which its peer's TCP
    /// never reads, so which a real server cannot have written: forged) are judged; a forged
    /// 354 there switches the session to message data while the server still reads commands.
    /// Guarded: the model ends read past a FIN as the engine does.
    public var dataAfterFINJudged: Bool
    /// flow (issue 10, class 1): the engine judges the urgent byte that Linux takes out of the
    /// stream. Guarded: the model ends read urgent bytes inline (SO_OOBINLINE).
    public var urgentByteJudged: Bool
    /// config/nul-in-inspection-name, config/escape-in-inspection-name: NUL and control
    /// characters of the configuration reach the rules' comments, so iptables-restore refuses a
    /// rule set that `check` accepted. Guarded: the rules' text is not checked for control
    /// characters, and Tests/fuzz/iptables-check.sh counts such rule sets as known.
    public var controlCharactersReachRules: Bool
    /// pcap/timestamp-high-word.pcapng: `smtp-inspect replay` traps converting a time past
    /// 2^64 ns (about the year 2554). Guarded: fuzz.sh's replay step leaves such captures out.
    public var replayTimeOverflows: Bool

    public init(all on: Bool) {
        adoptKeepsKeywordTable = on
        serverChunksCutAtLineEnds = on
        maskedLineStillACommand = on
        badChecksumsPass = on
        resetsNotValidated = on
        expiredSessionsLeftOpen = on
        dataAfterFINJudged = on
        urgentByteJudged = on
        controlCharactersReachRules = on
        replayTimeOverflows = on
    }

    /// What the fuzz loop and the corpus replay use.
    public static let known = KnownIssueGuards(all: true)
    /// No guard: what a reproducer of a known bug must be run with.
    public static let strict = KnownIssueGuards(all: false)

    public var description: String {
        let on = [
            adoptKeepsKeywordTable ? "adopt keeps the keyword table" : nil,
            serverChunksCutAtLineEnds ? "server chunks cut at line ends" : nil,
            maskedLineStillACommand ? "masked line still a command" : nil,
            badChecksumsPass ? "bad checksums pass" : nil,
            resetsNotValidated ? "resets not validated" : nil,
            expiredSessionsLeftOpen ? "expired sessions left open" : nil,
            dataAfterFINJudged ? "data after FIN judged" : nil,
            urgentByteJudged ? "urgent byte judged" : nil,
            controlCharactersReachRules ? "control characters reach rules" : nil,
            replayTimeOverflows ? "replay time overflows" : nil,
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
