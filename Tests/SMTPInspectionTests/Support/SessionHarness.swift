import Testing
@testable import SMTPInspection
import TestSupport

/// One step of a scripted session: bytes the client sends, or bytes the server sends.
enum Step {
    case client([UInt8])
    case server([UInt8])

    static func c(_ text: String) -> Step { .client(Array(text.utf8)) }
    static func s(_ text: String) -> Step { .server(Array(text.utf8)) }
}

/// What a session looked like from both ends once the inspector had done its work.
struct Outcome: Equatable, CustomStringConvertible {
    /// Client bytes as the server received them (masks applied), up to a tear-down.
    var toServer: [UInt8] = []
    /// Server bytes as the client received them.
    var toClient: [UInt8] = []
    var events: [SMTPEvent] = []
    var tornDown = false
    /// Client bytes still waiting for a reply at the end.
    var held: [UInt8] = []
    var counters = SMTPCounters()
    var mode: SMTPSession.Mode = .commands

    var toServerText: String { String(decoding: toServer, as: UTF8.self) }
    var toClientText: String { String(decoding: toClient, as: UTF8.self) }
    var eventNames: [String] { events.map(\.name) }

    var description: String {
        "toServer: \(toServerText.debugDescription)\ntoClient: \(toClientText.debugDescription)\n"
            + "events: \(events)\ntornDown: \(tornDown) held: \(held.count) mode: \(mode)"
    }
}

/// Plays chunks through a session the way the datapath does: judged bytes go on with masks
/// applied, the rest is kept and offered again after a server reply that says `resumeClient`.
struct SessionHarness {
    var session: SMTPSession
    var output: SMTPOutput
    var outcome = Outcome()

    init(policy: SMTPPolicy, trace: Bool = false) {
        session = SMTPSession(policy: policy)
        output = SMTPOutput(traceEnabled: trace)
    }

    mutating func client(_ chunk: [UInt8]) {
        guard !outcome.tornDown else { return }
        if !outcome.held.isEmpty {
            // Still waiting for a reply: the session must judge nothing new.
            let verdict = session.receiveClient(chunk.span, into: &output)
            #expect(verdict.consumed == 0, "bytes judged while earlier bytes were held")
            collect()
            outcome.held += chunk
            return
        }
        feedClient(chunk)
    }

    mutating func server(_ chunk: [UInt8]) {
        var rest = chunk[...]
        while !outcome.tornDown && !rest.isEmpty {
            let piece = Array(rest)
            let verdict = session.receiveServer(piece.span, into: &output)
            // A teardown may stop at any byte (the first that is not TLS after STARTTLS's 220).
            #expect((verdict.consumed > 0 || verdict.teardown) && verdict.consumed <= piece.count)
            #expect(verdict.consumed == piece.count || verdict.resumeClient || verdict.teardown, "stopped without a reason")
            outcome.toClient += Self.applying(output.masks, to: piece[..<verdict.consumed])
            collect()
            rest = rest.dropFirst(verdict.consumed)
            if verdict.teardown {
                outcome.tornDown = true
                return
            }
            if verdict.resumeClient && !outcome.held.isEmpty {
                let held = outcome.held
                outcome.held = []
                feedClient(held)
            }
        }
    }

    private mutating func feedClient(_ chunk: [UInt8]) {
        let verdict = session.receiveClient(chunk.span, into: &output)
        #expect(verdict.consumed <= chunk.count)
        for mask in output.masks {
            #expect(mask.range.upperBound <= verdict.consumed, "mask beyond the judged bytes")
        }
        outcome.toServer += Self.applying(output.masks, to: chunk[..<verdict.consumed])
        collect()
        if verdict.teardown {
            outcome.tornDown = true
        } else {
            outcome.held = Array(chunk[verdict.consumed...])
        }
    }

    private mutating func collect() {
        outcome.events += output.events
        outcome.counters += output.counters
        output.removeAll()
        outcome.mode = session.mode
    }

    static func applying(_ masks: [ByteMask], to bytes: ArraySlice<UInt8>) -> [UInt8] {
        var result = Array(bytes)
        for mask in masks {
            for i in mask.range where i < result.count {
                #expect(result[i] != 0x0D && result[i] != 0x0A, "a mask covers CR or LF")
                result[i] = mask.byte
            }
        }
        return result
    }
}

/// How a script's steps are cut into chunks.
enum Split: CustomStringConvertible {
    case whole
    case bytewise
    case random(seed: UInt64)

    var description: String {
        switch self {
        case .whole: "whole"
        case .bytewise: "byte by byte"
        case let .random(seed): "random(\(seed))"
        }
    }

    static let all: [Split] = [.whole, .bytewise] + (1...6).map { .random(seed: $0) }

    func chunks(_ bytes: [UInt8], rng: inout SplitMix64) -> [[UInt8]] {
        switch self {
        case .whole:
            return [bytes]
        case .bytewise:
            return bytes.map { [$0] }
        case .random:
            var result: [[UInt8]] = []
            var i = 0
            while i < bytes.count {
                let n = 1 + Int(rng.next() % UInt64(min(bytes.count - i, 1 + bytes.count / 3)))
                result.append(Array(bytes[i..<(i + n)]))
                i += n
            }
            return result
        }
    }
}

/// Plays a script once with one way of splitting it.
func play(_ steps: [Step], policy: SMTPPolicy, split: Split) -> Outcome {
    var harness = SessionHarness(policy: policy)
    var rng = SplitMix64(seed: { if case let .random(seed) = split { seed } else { 0 } }())
    for step in steps {
        switch step {
        case let .client(bytes):
            for chunk in split.chunks(bytes, rng: &rng) { harness.client(chunk) }
        case let .server(bytes):
            for chunk in split.chunks(bytes, rng: &rng) { harness.server(chunk) }
        }
    }
    return harness.outcome
}

/// Plays a script whole, byte by byte and in seeded random splits; every way must give the same
/// outcome (SwiftNIO's ByteToMessageDecoderVerifier). Returns the outcome.
@discardableResult
func verify(
    _ steps: [Step], policy: SMTPPolicy = .esmtpDefault,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Outcome {
    let reference = play(steps, policy: policy, split: .whole)
    for split in Split.all.dropFirst() {
        let outcome = play(steps, policy: policy, split: split)
        #expect(outcome == reference, "split \(split) differs from whole", sourceLocation: sourceLocation)
    }
    return reference
}

extension SMTPPolicy {
    static let esmtpDefault = SMTPPolicy(kind: .esmtp)
    static let smtpDefault = SMTPPolicy(kind: .smtp)
}
