import Testing
@testable import SMTPInspection
import TestSupport

/// The grammar's byte classes (SMTPGrammar.swift) against the RFC rules written out here once
/// more, byte value by byte value; and every reader that does not test one byte at a time against
/// the classes: the eight-bytes-at-a-time scans, the class runs, the line-break search.
@Suite("Grammar: byte classes")
struct GrammarClassTests {
    static func ascii(_ s: String) -> Set<UInt8> { Set(s.utf8) }
    static func letterOrDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }
    static func control(_ b: UInt8) -> Bool { (b < 0x20 && b != 0x09) || b == 0x7F }

    /// Each class as its RFC rule says, independently of SMTPGrammar.swift.
    static func reference(_ byteClass: ByteClass) -> (UInt8) -> Bool {
        switch byteClass {
        case .control: { control($0) }
        case .freeText: { !control($0) }
        case .pathAngle: { $0 > 0x20 && $0 < 0x7F && !ascii("<>\"").contains($0) }
        case .pathQuoted: { $0 < 0x80 && !control($0) && !ascii("\"\\").contains($0) }
        case .quotedPair: { $0 < 0x80 && !control($0) }
        case .pathBare: { $0 < 0x80 && !control($0) && !ascii(" <>").contains($0) }
        case .digit: { $0 >= 0x30 && $0 <= 0x39 }
        case .xchar: { $0 >= 0x21 && $0 <= 0x7E && $0 != 0x2B && $0 != 0x3D }
        case .upperHex: { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) }
        case .addrType: { letterOrDigit($0) || $0 == 0x2D }
        case .nodeName: { letterOrDigit($0) || ascii(".-_").contains($0) }
        case .nodeNameStart: { letterOrDigit($0) || ascii(".-_@#").contains($0) }
        case .mechanism: { letterOrDigit($0) || ascii("-_").contains($0) }
        case .base64: { letterOrDigit($0) || ascii("+/=").contains($0) }
        case .replyCode0: { $0 >= 0x32 && $0 <= 0x35 }
        case .replyCode1: { $0 >= 0x30 && $0 <= 0x35 }
        case .replyCode2: { $0 >= 0x30 && $0 <= 0x39 }
        case .lineText: { $0 != 0x0D && $0 != 0x0A }
        }
    }

    static let table = SMTPPolicy.esmtpDefault.classes

    @Test("Every class holds exactly the bytes its RFC rule allows, all 256 values", arguments: ByteClass.allCases)
    func exhaustive(byteClass: ByteClass) {
        let rule = Self.reference(byteClass)
        for byte in UInt8.min...UInt8.max {
            #expect(byteClass.members.contains(byte) == rule(byte), "\(byteClass) 0x\(String(byte, radix: 16))")
            #expect(Self.table.contains(byteClass, byte) == rule(byte), "\(byteClass) 0x\(String(byte, radix: 16))")
        }
    }

    @Test("The path and xtext runs are read eight bytes at a time")
    func wordScans() {
        for byteClass in [ByteClass.pathAngle, .xchar, .digit, .replyCode2] {
            #expect(Self.table.hasWordScan(byteClass), "\(byteClass)")
        }
        #expect(!Self.table.hasWordScan(.freeText))  // 8-bit members: the table reads it
    }

    /// A word of class members with `bytes` put in at their positions.
    static func word(_ byteClass: ByteClass, _ put: [(Int, UInt8)]) -> (UInt64, [UInt8]) {
        let member = (UInt8.min...UInt8.max).first(where: reference(byteClass))!
        var bytes = [UInt8](repeating: member, count: 8)
        for (position, byte) in put { bytes[position] = byte }
        return (bytes.span.withUnsafeBytes { unsafe $0.loadUnaligned(as: UInt64.self) }, bytes)
    }

    @Test("Each word scan flags exactly the first byte outside its class: every value, every position",
          arguments: ByteClass.allCases.filter { table.hasWordScan($0) })
    func wordScanExhaustive(byteClass: ByteClass) {
        let rule = Self.reference(byteClass)
        for position in 0..<8 {
            for byte in UInt8.min...UInt8.max {
                let (word, _) = Self.word(byteClass, [(position, byte)])
                let outside = Self.table.outside(byteClass, word)!
                #expect((outside != 0) == !rule(byte), "\(byteClass) 0x\(String(byte, radix: 16)) at \(position)")
                if outside != 0 { #expect(ByteWords.firstFlagged(outside) == position) }
            }
        }
        // Two bytes outside: the first one counts, whatever the second (borrows flag upwards only).
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20_000 {
            let p = Int(rng.next() % 7), q = p + 1 + Int(rng.next() % UInt64(7 - p))
            let (a, b) = (UInt8(truncatingIfNeeded: rng.next()), UInt8(truncatingIfNeeded: rng.next()))
            let (word, bytes) = Self.word(byteClass, [(p, a), (q, b)])
            let outside = Self.table.outside(byteClass, word)!
            let first = bytes.firstIndex { !rule($0) }
            #expect((outside != 0) == (first != nil), "\(byteClass) \(bytes)")
            if let first, outside != 0 { #expect(ByteWords.firstFlagged(outside) == first, "\(byteClass) \(bytes)") }
        }
    }

    @Test("A class run stops where a byte-by-byte test of the class stops", arguments: ByteClass.allCases)
    func runs(byteClass: ByteClass) {
        let rule = Self.reference(byteClass)
        let members = (UInt8.min...UInt8.max).filter(rule)
        var rng = SplitMix64(seed: UInt64(byteClass.rawValue) + 100)
        for _ in 0..<2_000 {
            let count = Int(rng.next() % 40)
            let bytes = (0..<count).map { _ in
                rng.next() % 16 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : members[Int(rng.next() % UInt64(members.count))]
            }
            let start = count == 0 ? 0 : Int(rng.next() % UInt64(count))
            let limit = start + Int(rng.next() % UInt64(count - start + 1))
            let expected = (start..<limit).first { !rule(bytes[$0]) } ?? limit
            #expect(Self.table.run(of: byteClass, in: bytes.span, from: start, to: limit) == expected, "\(bytes)")
        }
    }

    @Test("The line-break search finds the first byte outside lineText: every value, every position")
    func lineBreakSearch() {
        for length in [1, 8, 9, 17] {
            for position in 0..<length {
                for byte in UInt8.min...UInt8.max {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = byte
                    let expected = Self.reference(.lineText)(byte) ? length : position
                    #expect(LineBreakSearch.next(in: bytes.span, from: 0, to: length) == expected)
                }
            }
        }
    }
}

/// Random lines from the grammar's alphabets, around every limit (Support/GrammarLines.swift):
/// whole (the one-pass reader and the runs), byte by byte (neither) and in random splits, every
/// way the same outcome.
@Suite("Grammar: random lines, every split")
struct GrammarDifferentialTests {
    static let policies: [SMTPPolicy] = [
        .esmtpDefault, .smtpDefault, SMTPPolicy(kind: .esmtp, commandLineLimit: 40),
        SMTPPolicy(kind: .esmtp, maxData: 1000, commandLineLimit: 300), SMTPPolicy(kind: .esmtp, allowSTARTTLS: true),
    ]
    static let ehloReplies = [Script.postfixEHLOReply, OnePassLineTests.shortEHLOReply,
                              "250-mx\r\n250-DSN\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"]

    /// A session of random pipelined groups; each reply a step of its own (so that a tear-down
    /// ends a step, and no split reads past it).
    static func script(seed: UInt64) -> [Step] {
        var g = GrammarLines(seed: seed)
        var steps: [Step] = [Script.banner, .c("EHLO c.example\r\n"), .s(g.pick(ehloReplies))]
        for _ in 0..<(1 + g.below(5)) {
            let lines = (0..<(1 + g.below(3))).map { _ in g.commandLine() }
            steps.append(.client(Array(lines.joined())))
            for _ in lines {
                guard g.chance(25) else {
                    steps.append(.s("250 2.1.0 Ok\r\n"))
                    continue
                }
                let more = g.below(3)
                steps.append(.server(Array((0..<more).map { _ in g.replyLine(last: false) }.joined()) + g.replyLine(last: true)))
            }
        }
        return steps
    }

    @Test("Random sessions: whole, byte by byte and split at random give one outcome", arguments: 0..<4)
    func randomLines(batch: Int) {
        var masked = 0, passed = 0
        for seed in UInt64(batch * 60)..<UInt64(batch * 60 + 60) {
            let steps = Self.script(seed: seed)
            for policy in Self.policies {
                let whole = play(steps, policy: policy, split: .whole)
                for split in Split.all.dropFirst() {
                    var outcome = play(steps, policy: policy, split: split)
                    if whole.tornDown {
                        // A reply that tears the session down ends what is read of its chunk; a
                        // chunk read whole reports the rest passed (the caller drops the session),
                        // one split there does not. Random replies do that often.
                        outcome.toClient = whole.toClient
                    }
                    #expect(outcome == whole, "seed \(seed) policy \(policy.kind) split \(split)")
                }
                masked += whole.counters.commandsMasked
                passed += whole.counters.commands - whole.counters.commandsMasked
            }
        }
        // The generator must reach both sides of the grammar.
        #expect(masked > 100 && passed > 100, "masked \(masked), passed \(passed)")
    }
}

/// One command line read three ways, the session's loop aside: byte by byte (`judge`), in runs
/// and steps (`pass`), and with the one-pass reader first (`takeLeadingWords`). Every way must mask
/// the same bytes and leave the same line behind, for random lines near every limit.
@Suite("Grammar: one line, three readers")
struct GrammarReaderTests {
    struct Reading: Equatable {
        var masked: [Bool]
        var problem: LineProblem?
        var late: LineProblem?
        var state: Int
        var length: Int
        var verbText: ShortText
        var keyword: ShortText
    }

    enum Reader: CaseIterable { case bytes, runs, onePass }

    static func read(_ line: [UInt8], _ reader: Reader, policy: SMTPPolicy, advertised: UInt32) -> Reading {
        var machine = CommandLineStateMachine()
        var masked = [Bool](repeating: false, count: line.count)
        let end = line.firstIndex(of: 0x0A) ?? line.count
        var i = 0
        if reader == .onePass {
            i = machine.takeLeadingWords(line.span, from: 0, to: line.count, policy: policy, advertised: advertised)
        }
        while i < end {
            if reader != .bytes && !machine.masking {
                i = machine.pass(line.span, from: i, to: end, policy: policy, advertised: advertised)
                if machine.masking { masked[i] = true; i += 1; continue }
                if i == end { break }
            }
            masked[i] = machine.judge(line[i], policy: policy, advertised: advertised)
            i += 1
        }
        let late = machine.finish(policy: policy)
        return Reading(masked: masked, problem: machine.problem, late: late, state: machine.traceState,
                       length: machine.length, verbText: machine.verbText, keyword: machine.keyword)
    }

    @Test("Random lines: the same bytes masked and the same line left, whichever reader", arguments: 0..<4)
    func threeReaders(batch: Int) {
        let advertisedSets: [UInt32] = [~0, 0, SMTPExtension.size.bit | SMTPExtension.pipelining.bit,
                                        SMTPExtension.dsn.bit | SMTPExtension.auth.bit | SMTPExtension.eightBitMIME.bit]
        var g = GrammarLines(seed: UInt64(1000 + batch))
        var masked = 0
        for n in 0..<2_500 {
            let line = g.commandLine()
            for policy in GrammarDifferentialTests.policies {
                let advertised = advertisedSets[n % advertisedSets.count]
                let reference = Self.read(line, .bytes, policy: policy, advertised: advertised)
                if reference.masked.contains(true) { masked += 1 }
                for reader in [Reader.runs, .onePass] {
                    let reading = Self.read(line, reader, policy: policy, advertised: advertised)
                    #expect(reading == reference, "\(reader) \(String(decoding: line, as: UTF8.self).debugDescription)")
                }
            }
        }
        #expect(masked > 1_000 && masked < 11_000, "masked \(masked) of 12500")
    }
}
