import SMTPInspection

/// Fuzz target `smtp`: one `SMTPSession` driven by a scripted conversation, played three ways
/// (each step whole; each step cut into the input's chunk sizes; whole with the trace on, which
/// turns the one-pass fast paths off). All three must judge alike: the same masks at the same
/// stream positions, the same events (as a multiset: a cut may move an event before or after
/// a reply's), the same bytes judged and held, the same counters, mode and tear-down. Each call
/// must keep the core's contract: masks inside the bytes judged, never over CR or LF; bytes left
/// unjudged only while a reply is awaited.
///
/// Input format (every byte string decodes; reads past the end give zeros):
///
///     policy byte        bit 0 esmtp (else smtp), 1 mask-banner, 2 allow STARTTLS,
///                        3 small limits (lines of 24 octets, max-data 64)
///     records, each a tag byte, kind = tag & 3:
///       0 client step    length (1 byte, or 2 little-endian when tag & 0x80), then the bytes
///       1 server step    the same
///       2 adopt          a reload: the policy (bits as above) is tag >> 2
///       3 chunk sizes    length, then sizes (0 counts as 1), cycled over every step;
///                        without any, the cut run goes byte by byte
public enum SMTPSessionFuzz {
    public enum Step: Equatable, Sendable {
        case client([UInt8])
        case server([UInt8])
        /// `SMTPSession.adopt` of the policy with these bits.
        case adopt(UInt8)
    }

    public struct Script: Equatable, Sendable {
        public var policy: UInt8
        public var steps: [Step]
        /// Chunk sizes for the cut run, cycled; empty: byte by byte.
        public var cuts: [Int]

        public init(policy: UInt8, steps: [Step], cuts: [Int] = []) {
            self.policy = policy
            self.steps = steps
            self.cuts = cuts
        }
    }

    // MARK: - Format

    public static func decode(_ data: [UInt8]) -> Script {
        var reader = FuzzReader(data)
        var script = Script(policy: reader.byte() & 0x0F, steps: [])
        while !reader.isAtEnd {
            let tag = reader.byte()
            switch tag & 3 {
            case 0, 1:
                let bytes = reader.bytes(reader.length(long: tag & 0x80 != 0))
                script.steps.append(tag & 3 == 0 ? .client(bytes) : .server(bytes))
            case 2:
                script.steps.append(.adopt((tag >> 2) & 0x0F))
            default:
                let sizes = reader.bytes(reader.length(long: tag & 0x80 != 0))
                script.cuts += sizes.map { max(1, Int($0)) }
            }
        }
        return script
    }

    public static func encode(_ script: Script) -> [UInt8] {
        var w = FuzzWriter()
        w.byte(script.policy)
        func record(_ kind: UInt8, _ bytes: [UInt8]) {
            var offset = 0
            repeat {  // an empty step is one empty record
                let n = min(bytes.count - offset, 0xFFFF)
                if n > 0xFF { w.byte(kind | 0x80); w.u16(UInt16(n)) } else { w.byte(kind); w.byte(UInt8(n)) }
                w.append(Array(bytes[offset..<(offset + n)]))
                offset += n
            } while offset < bytes.count
        }
        for step in script.steps {
            switch step {
            case .client(let bytes): record(0, bytes)
            case .server(let bytes): record(1, bytes)
            case .adopt(let bits): w.byte(2 | (bits & 0x0F) << 2)
            }
        }
        if !script.cuts.isEmpty { record(3, script.cuts.map { UInt8(clamping: $0) }) }
        return w.bytes
    }

    /// The script, readably (for reproducers and reports).
    public static func describe(_ script: Script) -> String {
        var lines = ["policy \(policyDescription(script.policy))"]
        for step in script.steps {
            switch step {
            case .client(let b): lines.append("C: \"\(escaped(b))\"")
            case .server(let b): lines.append("S: \"\(escaped(b))\"")
            case .adopt(let bits): lines.append("adopt \(policyDescription(bits))")
            }
        }
        lines.append(script.cuts.isEmpty ? "cuts: byte by byte" : "cuts: \(script.cuts)")
        return lines.joined(separator: "\n")
    }

    static func policyDescription(_ bits: UInt8) -> String {
        var words = [bits & 1 != 0 ? "esmtp" : "smtp"]
        if bits & 2 != 0 { words.append("mask-banner") }
        if bits & 4 != 0 { words.append("allow-starttls") }
        if bits & 8 != 0 { words.append("small-limits") }
        return words.joined(separator: " ")
    }

    /// Every policy the format can name, compiled once.
    static let policies: [SMTPPolicy] = (0..<16).map { bits in
        let small = bits & 8 != 0
        return SMTPPolicy(kind: bits & 1 != 0 ? .esmtp : .smtp, maxData: small ? 64 : 20_000_000,
                          maskBanner: bits & 2 != 0, allowSTARTTLS: bits & 4 != 0,
                          commandLineLimit: small ? 24 : 512, replyLineLimit: small ? 24 : 512)
    }

    // MARK: - Running

    /// Runs one input; the findings say what went wrong (empty: it passed).
    public static func run(_ data: [UInt8], guards: KnownIssueGuards) -> FuzzFindings {
        check(decode(data), guards: guards)
    }

    public static func check(_ script: Script, guards: KnownIssueGuards) -> FuzzFindings {
        var findings = FuzzFindings()
        let whole = play(script, cut: false, trace: false, guards: guards, findings: &findings)
        let cut = play(script, cut: true, trace: false, guards: guards, findings: &findings)
        let traced = play(script, cut: false, trace: true, guards: guards, findings: &findings)
        if let difference = whole.difference(from: cut) {
            findings.add("cut into chunks \(script.cuts.isEmpty ? "of 1" : "\(script.cuts)") differs from whole: \(difference)")
        }
        if let difference = whole.difference(from: traced) {
            findings.add("with the trace on (no fast paths) differs from without: \(difference)")
        }
        checkMaskedStream(script, whole, guards: guards, into: &findings)
        return findings
    }

    /// docs/design.md invariant 4, "a masked line is never a command a server accepts": the stream as
    /// the server got it, judged again with the same replies, must be judged the same way (its
    /// masks change nothing, the replies are read as before: a line masked from its verb on is
    /// still no command, one masked in its arguments still its verb's, docs/behaviour.md §3).
    static func checkMaskedStream(_ script: Script, _ whole: Judgement, guards: KnownIssueGuards,
                                  into findings: inout FuzzFindings) {
        var clientStream: [UInt8] = []
        for case .client(let bytes) in script.steps { clientStream += bytes }
        var masked = Array(clientStream.prefix(whole.clientJudged))
        for run in whole.clientMasks.runs {
            for p in run.range where p < masked.count { masked[p] = run.byte }
        }
        // The same steps, each client step's bytes as the server got them (none past the judged).
        var steps: [Step] = []
        var offset = 0
        for step in script.steps {
            guard case .client(let bytes) = step else { steps.append(step); continue }
            let end = min(offset + bytes.count, masked.count)
            steps.append(.client(offset < end ? Array(masked[offset..<end]) : []))
            offset += bytes.count
        }
        var quiet = FuzzFindings()
        let again = play(Script(policy: script.policy, steps: steps, cuts: script.cuts), cut: false, trace: false,
                         guards: guards, findings: &quiet)
        for run in again.clientMasks.runs {
            if let p = run.range.first(where: { $0 < masked.count && masked[$0] != run.byte }) {
                let line = masked[max(0, p - 20)..<min(masked.count, p + 20)]
                findings.add("masked stream judged again masks more at \(p): \"\(escaped(line))\"")
                return
            }
        }
        if again.serverMasks != whole.serverMasks {
            findings.add("masked stream judged again reads the replies otherwise: server masks \(again.serverMasks) vs \(whole.serverMasks)")
        }
    }

    static func play(_ script: Script, cut: Bool, trace: Bool, guards: KnownIssueGuards,
                     findings: inout FuzzFindings) -> Judgement {
        var player = Player(policyBits: script.policy, trace: trace)
        var cycle = 0
        func nextSize() -> Int {
            guard cut else { return Int.max }
            guard !script.cuts.isEmpty else { return 1 }
            defer { cycle = (cycle + 1) % script.cuts.count }
            return script.cuts[cycle]
        }
        for step in script.steps {
            switch step {
            case .client(let bytes):
                for chunk in chunks(bytes, size: nextSize) { player.client(chunk) }
            case .server(let bytes):
                for chunk in chunks(bytes, size: nextSize) { player.server(chunk) }
            case .adopt(let bits):
                player.adopt(bits)
            }
        }
        for message in player.findings.messages { findings.add("\(cut ? "cut" : "whole")\(trace ? "+trace" : ""): \(message)") }
        return player.judgement()
    }

    /// `bytes` in chunks of `size()` bytes (an empty step is one empty chunk: the core must take
    /// those too).
    static func chunks(_ bytes: [UInt8], size: () -> Int) -> [[UInt8]] {
        guard !bytes.isEmpty else { return [[]] }
        var result: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + min(size(), bytes.count))
            result.append(Array(bytes[i..<end]))
            i = end
        }
        return result
    }
}
