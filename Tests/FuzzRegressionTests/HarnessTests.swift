import FlowEngine
@testable import FuzzHarness
import PacketWire
import Testing

/// The harnesses' own parts: a check that cannot fail finds nothing.
@Suite("Fuzz harness parts")
struct HarnessTests {
    @Test("An smtp input decodes to the script it was encoded from")
    func smtpRoundTrip() {
        let long = [UInt8](repeating: 0x41, count: 300)
        let script = SMTPSessionFuzz.Script(policy: 9, steps: [
            .server(Array("220 mx\r\n".utf8)), .client(long), .adopt(4), .client([]), .server([0, 0x0A]),
        ], cuts: [3, 1, 255])
        #expect(SMTPSessionFuzz.decode(SMTPSessionFuzz.encode(script)) == script)
    }

    @Test("Chunks cover the bytes in order; an empty step is one empty chunk")
    func chunks() {
        var sizes = [2, 3].makeIterator()
        let bytes = Array("ab\ncdefg\n".utf8)
        let cut = SMTPSessionFuzz.chunks(bytes, size: { sizes.next() ?? 100 })
        #expect(cut == [Array("ab".utf8), Array("\ncd".utf8), Array("efg\n".utf8)])
        #expect(SMTPSessionFuzz.chunks([], size: { 1 }) == [[]])
    }

    @Test("The receiver model reads in order, first copy wins, drops the urgent byte, stops at FIN")
    func receiver() {
        var r = ReceiverModel()
        r.start(isn: SequenceNumber(99))
        func receive(_ seq: UInt32, _ text: String, fin: Bool = false, urgent: UInt16? = nil) -> String {
            let bytes = Array(text.utf8)
            let read = r.receive(sequence: SequenceNumber(seq), payload: bytes, original: bytes, fin: fin,
                                 urgentPointer: urgent, removesUrgentByte: true)
            return String(decoding: read.bytes, as: UTF8.self)
        }
        #expect(receive(104, "EFG") == "")            // beyond a gap: waits
        #expect(receive(100, "ABCD") == "ABCDEFG")
        #expect(receive(103, "xxxxHI") == "HI")        // the first copy of D..G wins
        #expect(receive(109, "JKL", urgent: 2) == "JL")  // K is the urgent byte
        #expect(receive(112, "M", fin: true) == "M")
        #expect(receive(113, "after FIN") == "")
    }

    @Test("The committed corpora and regressions hold every generated seed and reproducer, as generated")
    func seedsCommitted() {
        for (kind, prefix, seeds) in [("corpus", "seed-", SeedCorpus.all()), ("regressions", "", SeedCorpus.reproducers())] {
            for seed in seeds {
                let name = "\(seed.target)/\(prefix)\(seed.name)"
                let committed = try? Repository.bytes(kind, name)
                #expect(committed == seed.bytes, "Tests/fuzz/\(kind)/\(name) differs: run `smtp-inspect-fuzz seeds Tests/fuzz`")
            }
        }
    }

    @Test("A held packet carries the bytes of genuine packets held before it where they overlap, as the engine keeps it")
    func heldCarries() throws {
        let f = SeedCorpus.FlowScript.overlappingHolds(second: "Subj: arrived a\r\n\u{1}\u{18}\r\n")
        var run = FlowRun(f.w.bytes, guards: .strict)
        run.playOperations()
        let tokens = run.held.keys.sorted()
        try #require(tokens.count == 2)
        func payload(_ bytes: [UInt8]) throws -> String {
            let packet = try #require(try? TCPPacket(checking: bytes.span))
            return String(decoding: bytes[packet.payloadRange], as: UTF8.self)
        }
        let first = try #require(run.held[tokens[0]]), second = try #require(run.held[tokens[1]])
        #expect(try payload(first.carried) == "arrived first\r\n")
        #expect(try payload(second.bytes) == "Subj: arrived a\r\n\u{1}\u{18}\r\n")
        #expect(try payload(second.carried) == "Subj: arrived first\r\n")
        // As when the second arrived, but with the first forged: a forged packet is not its
        // sender's, and its bytes are no copy to take.
        run.held[tokens[1]] = nil
        #expect(try payload(run.overlaidByHeld(second)) == "Subj: arrived first\r\n")
        run.held[tokens[0]]?.forged = true
        #expect(try payload(run.overlaidByHeld(second)) == "Subj: arrived a\r\n\u{1}\u{18}\r\n")
    }

    @Test("The flow check finds a command the server read unmasked, and bytes read past a hold")
    func incarnationCheck() {
        var incarnation = Incarnation(policyBits: 0)
        let banner = Array("220 mx\r\n".utf8)
        incarnation.read(banner, sent: banner, byServer: false, duringServerPacket: false)
        let expn = Array("EXPN root\r\n".utf8)
        incarnation.read(expn, sent: expn, byServer: true, duringServerPacket: false)
        var findings = FuzzFindings()
        incarnation.verify(into: &findings, name: "unmasked")
        #expect(findings.messages.count == 1 && findings.description.contains("is masked there"))

        var held = Incarnation(policyBits: 0)
        held.read(banner, sent: banner, byServer: false, duringServerPacket: false)
        let data = Array("DATA\r\nEXPN root\r\n".utf8)
        held.read(data, sent: data, byServer: true, duringServerPacket: false)
        findings = FuzzFindings()
        held.verify(into: &findings, name: "held")
        #expect(findings.description.contains("past the 6 judged"))
    }
}

@Suite("Fuzz harness: TLS sessions that leave the queue")
struct BypassModelTests {
    static func seed(_ name: String) -> [UInt8] {
        SeedCorpus.flowSeeds().first { $0.0 == name }!.1
    }

    @Test("After acceptBypassing the kernel passes the connection's packets, until a SYN opens a new one")
    func leavesTheQueue() {
        let log = FlowEngineFuzz.describe(Self.seed("starttls-bypass"))
        let lines = log.split(separator: "\n").map(String.init)
        let left = lines.firstIndex { $0.contains("acceptBypassing") }
        let again = lines.lastIndex { $0 == "handshake 0" }
        #expect(left != nil && again != nil)
        guard let left, let again else { return }
        // Between the bypass and the new handshake nothing reaches the engine.
        let verdicts = lines[(left + 1)..<again].filter { $0.hasPrefix("  -> ") }
        #expect(!verdicts.isEmpty && verdicts.allSatisfy { $0.contains("not queued") })
        // The new connection's packets are queued again.
        #expect(!lines[again...].contains { $0.contains("not queued") })
        #expect(FlowEngineFuzz.run(Self.seed("starttls-bypass"), guards: .strict).isEmpty)
    }

    @Test("With the packets still queued, the engine passes them as a bypassed session's")
    func staysQueued() {
        let log = FlowEngineFuzz.describe(Self.seed("starttls-bypass-queued"))
        #expect(log.contains("acceptBypassing"))
        #expect(!log.contains("not queued"))
        #expect(FlowEngineFuzz.run(Self.seed("starttls-bypass-queued"), guards: .strict).isEmpty)
    }

    @Test("Plaintext the server read after a bypass that TLS had not earned is a finding")
    func prematureBypassIsCaught() {
        // The same conversation judged afresh, as Incarnation.verify does, without the TLS
        // records: EXPN is then a command the server read unmasked.
        var incarnation = Incarnation(policyBits: 1 | 4)
        for (byServer, text) in [(false, "220 mx\r\n"), (true, "STARTTLS\r\n"), (false, "220 go\r\n"),
                                 (true, "EXPN root\r\n")] {
            let bytes = Array(text.utf8)
            incarnation.read(bytes, sent: bytes, byServer: byServer, duringServerPacket: false)
        }
        var findings = FuzzFindings()
        incarnation.verify(into: &findings, name: "premature")
        #expect(!findings.isEmpty)
    }
}

/// The seeds that take the engine's "resumed bypass" paths (FlowEngine+Bypass.swift): a SYN from
/// the client's address and port after its TLS session left the queue is queued again, and the
/// server's answer decides what becomes of the old session. Each seed must pass, and must really
/// take its path: a seed that stopped reaching it would only make the fuzz loop start elsewhere.
@Suite("Fuzz harness: a SYN on the ports of a TLS session that left the queue")
struct ResumedBypassSeedTests {
    /// The seed played to its end (final ticks included).
    static func played(_ name: String) -> FlowRun {
        var run = FlowRun(BypassModelTests.seed(name), guards: .strict)
        run.play()
        return run
    }

    /// What connection 0's incarnation `k` had its server read, as text.
    static func serverRead(_ run: FlowRun, _ k: Int) -> String {
        String(decoding: run.connections[0].incarnations[k].serverRead, as: UTF8.self)
    }

    @Test("Challenge ACK: the session leaves the queue again, the client's records pass unqueued and are read")
    func challengeAckResumes() {
        let name = "starttls-bypass-syn-challenge-ack"
        let run = Self.played(name)
        #expect(run.findings.isEmpty, "\(run.findings)")
        #expect(run.engine.statistics.bypassResumed == 1)
        #expect(run.engine.statistics.bypassed == 1)
        #expect(run.connections[0].incarnations.count == 1)  // no new connection at the server
        let records = SeedCorpus.tlsApplicationData(24) + Array("EXPN root\r\n".utf8)
        #expect(run.connections[0].incarnations[0].serverRead.suffix(records.count).elementsEqual(records))
        // The SYN and the challenge ACK went through the engine; what follows did not.
        let lines = FlowEngineFuzz.describe(BypassModelTests.seed(name)).split(separator: "\n").map(String.init)
        let challenge = lines.firstIndex { $0.contains("a challenge ACK") }
        #expect(challenge != nil)
        guard let challenge else { return }
        #expect(lines[challenge + 1] == "  -> acceptBypassing")
        let after = lines[(challenge + 2)...].filter { $0.hasPrefix("  -> ") }
        #expect(after.count == 5 && after.allSatisfy { $0.contains("not queued") })
    }

    @Test("SYN-ACK: a new connection, inspected from its start (its EXPN masked); nothing resumed")
    func synAckIsANewConnection() {
        let run = Self.played("starttls-bypass-syn-new-connection")
        #expect(run.findings.isEmpty, "\(run.findings)")
        #expect(run.engine.statistics.bypassResumed == 0)
        #expect(!run.connections[0].bypassing)
        #expect(run.connections[0].incarnations.count == 2)
        guard run.connections[0].incarnations.count == 2 else { return }
        let read = Self.serverRead(run, 1)
        #expect(read.hasPrefix("EHLO c.example\r\n"))
        #expect(!read.contains("EXPN") && read.count == "EHLO c.example\r\nEXPN root\r\n".count)
        #expect(run.engine.statistics.smtp.commandsMasked == 1)
    }

    @Test("No answer: past synwait the old session is gone, and a late ACK of the server resumes nothing")
    func unansweredSynForgets() {
        let name = "starttls-bypass-syn-unanswered"
        let run = Self.played(name)
        #expect(run.findings.isEmpty, "\(run.findings)")
        #expect(run.engine.statistics.bypassResumed == 0)
        #expect(!run.connections[0].bypassing)
        #expect(run.connections[0].incarnations.count == 1)
        // The late ACK and the client's record after it reached the engine, which dropped them
        // (mid-stream packets of no session): the server never read the record.
        let lines = FlowEngineFuzz.describe(BypassModelTests.seed(name)).split(separator: "\n").map(String.init)
        #expect(Array(lines.suffix(4).filter { $0.hasPrefix("  -> ") }) == ["  -> drop", "  -> drop"])
        #expect(run.connections[0].incarnations[0].serverRead
                == Array("EHLO c.example\r\nSTARTTLS\r\n".utf8) + SeedCorpus.tlsRecord(handshake: 1))
    }
}
