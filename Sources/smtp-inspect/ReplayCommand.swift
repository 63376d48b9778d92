import ArgumentParser
import FlowEngine
import Foundation
import IOSConfig
import NFQueue
import PacketWire
import SMTPInspection

/// `smtp-inspect replay IN.pcap`: the daemon's engine over a capture, offline. Alerts, the
/// trace and a summary go to stdout, stamped with the capture's times (UTC), so the output of a
/// capture is always the same; `--write` saves the packets as the inspector would have sent
/// them on (edited, cut, held and released, dropped ones left out, resets added).
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a packet capture through the inspection engine.",
        discussion: """
            Every packet is taken as queued to smtp-inspect (TCP/25 both ways). Without --config \
            the built-in esmtp inspection applies; with it, the first smtp/esmtp rule (or --rule).
            """)

    @Argument(help: "A pcap or pcapng capture (Ethernet, Linux cooked or raw IP).")
    var input: String

    @Option(help: "Write the packets as they would leave the inspector to this pcap file.")
    var write: String?

    @OptionGroup var policyOptions: PolicyOptions

    @Option(help: "With --config: the inspection rule to apply (default: the first smtp/esmtp one).")
    var rule: String?

    @Option(help: "Print the 'debug ip inspect smtp' trace (the only value: smtp).")
    var debug: String?

    func validate() throws {
        if let debug, debug != "smtp" { throw ValidationError("--debug \(debug): the only trace is 'smtp'") }
        if rule != nil && policyOptions.config == nil { throw ValidationError("--rule needs --config") }
    }

    func run() throws {
        let setup = try policyOptions.makeSetup(interfaces: nil)
        let chosen = try chooseRule(setup)
        var timestamps = setup.timestamps
        if case .uptime = timestamps { timestamps = .datetime(msec: true, localtime: false, showTimezone: false, year: false) }
        let log = AlertLog(timestamps: timestamps, toStandardOutput: true)
        let reader: PcapReader
        do { reader = try PcapReader(path: input) } catch {
            log.note("\(input): \(error)")
            throw ExitCode(1)
        }
        var writer: PcapWriter?
        if let write {
            do { writer = try PcapWriter(path: write, precision: .nanoseconds) } catch {
                log.note("\(write): \(error)")
                throw ExitCode(1)
            }
        }
        var replay = Replay(engine: FlowEngine(configuration: setup.engine), rule: chosen, log: log, writer: writer)
        replay.engine.traceEnabled = debug == "smtp"
        do {
            try reader.forEach { record, bytes in
                replay.packet(record, &bytes)
                return true
            }
        } catch {
            log.note("\(input): \(error)")
            throw ExitCode(1)
        }
        replay.finish()
        try? writer?.close()
        print(replay.summary(framesSkipped: reader.framesSkipped))
    }

    private func chooseRule(_ setup: InspectionSetup) throws -> InspectionRuleBinding {
        guard let rule else { return setup.defaultRule }
        guard let found = setup.rules.first(where: { $0.name == rule }) else {
            let names = setup.rules.map(\.name).joined(separator: ", ")
            throw ValidationError("--rule \(rule): no smtp/esmtp rule of that name; the configuration has \(names)")
        }
        return found
    }
}

/// The replay loop's state: the engine and what has been written.
struct Replay {
    var engine: FlowEngine
    let rule: InspectionRuleBinding
    let log: AlertLog
    let writer: PcapWriter?
    var output = FlowOutput()
    var token: UInt64 = 0
    var last = Moment(nanoseconds: 0)
    var verdicts: [String: Int] = [:]
    var resetsWritten = 0
    /// Cut tails sent again, as the sender's TCP would (see `retransmitCutTail`).
    var retransmissions = 0

    mutating func packet(_ record: PcapRecord, _ bytes: inout MutableSpan<UInt8>) {
        token += 1
        let now = Moment(nanoseconds: UInt64(max(0, record.timestamp.seconds)) * 1_000_000_000
            + UInt64(max(0, record.timestamp.nanoseconds)))
        if now.nanoseconds >= last.nanoseconds + 500_000_000 {
            engine.tick(at: now, into: &output)
            flush(at: now)
        }
        last = now
        var original = [UInt8](repeating: 0, count: bytes.count)
        for k in 0..<bytes.count { original[k] = bytes[k] }
        let verdict = engine.process(&bytes, token: token, rule: rule, at: now, into: &output)
        count(verdict)
        switch verdict {
        case .accept: writer?.write(bytes.span, timestamp: record.timestamp)
        case let .acceptModified(length): writer?.write(bytes.span.extracting(0..<length), timestamp: record.timestamp)
        case .reset: writeResets(bytes.span, at: now)
        case .drop, .hold: break
        }
        flush(at: now)
        if case let .acceptModified(length) = verdict { retransmitCutTail(of: original, sent: length, at: now) }
    }

    /// Live, a segment cut at a hold point makes the sender's TCP send the rest again; a capture
    /// taken without the inspector has no such retransmission, so replay makes it: the cut tail
    /// as the next segment, which the engine then judges (usually holds until the reply).
    private mutating func retransmitCutTail(of original: [UInt8], sent length: Int, at now: Moment) {
        guard let packet = try? TCPPacket(checking: original.span), length < packet.totalLength else { return }
        let cut = length - packet.payloadOffset
        var builder = TCPPacketBuilder(from: packet.flowKey.source, to: packet.flowKey.destination,
                                       sequenceNumber: packet.sequenceNumber + cut,
                                       acknowledgmentNumber: packet.acknowledgmentNumber, flags: packet.flags,
                                       window: packet.window, payload: Array(original[(packet.payloadOffset + cut)..<packet.totalLength]))
        builder.identification = 0
        var retransmission = builder.build()
        retransmissions += 1
        token += 1
        var verdict = PacketVerdict.drop
        do {
            var span = retransmission.mutableSpan
            verdict = engine.process(&span, token: token, rule: rule, at: now, into: &output)
            count(verdict)
            switch verdict {
            case .accept: writer?.write(span.span, timestamp: Self.timestamp(now))
            case let .acceptModified(n): writer?.write(span.span.extracting(0..<n), timestamp: Self.timestamp(now))
            case .reset: writeResets(span.span, at: now)
            case .drop, .hold: break
            }
        }
        flush(at: now)
        if case let .acceptModified(n) = verdict { retransmitCutTail(of: retransmission, sent: n, at: now) }
    }

    /// Releases what the end of the capture leaves held (dropped: nothing came to decide it).
    mutating func finish() {
        let end = last + 3600 * 24
        engine.tick(at: end, into: &output)
        flush(at: last)
    }

    private mutating func flush(at now: Moment) {
        for release in output.releases {
            count(release.verdict, released: true)
            let stamp = Self.timestamp(now)
            switch release.verdict {
            case .accept: writer?.write(release.bytes.span, timestamp: stamp)
            case let .acceptModified(length): writer?.write(release.bytes.span.extracting(0..<length), timestamp: stamp)
            case .reset: writeResets(release.bytes.span, at: now)
            case .drop, .hold: break
            }
        }
        for reset in output.resets {
            writer?.write(ResetPackets.forRequest(reset).span, timestamp: Self.timestamp(now))
            resetsWritten += 1
        }
        for event in output.events { log.report(event, at: Self.date(event.time)) }
        for line in output.trace { log.trace(line.record, at: Self.date(line.time)) }
        output.removeAll()
    }

    private mutating func writeResets(_ bytes: Span<UInt8>, at now: Moment) {
        for rst in ResetPackets.forTornDownSession(bytes) {
            writer?.write(rst.span, timestamp: Self.timestamp(now))
            resetsWritten += 1
        }
    }

    private mutating func count(_ verdict: PacketVerdict, released: Bool = false) {
        let name: String = switch verdict {
        case .accept: "accepted"
        case .acceptModified: "modified"
        case .drop: "dropped"
        case .reset: "reset"
        case .hold: "held"
        }
        verdicts[released ? "released " + name : name, default: 0] += 1
    }

    func summary(framesSkipped: Int) -> String {
        let s = engine.statistics
        let order = ["accepted", "modified", "dropped", "reset", "held", "released accepted", "released modified",
                     "released dropped", "released reset"]
        let verdictText = order.compactMap { key in verdicts[key].map { "\(key) \($0)" } }.joined(separator: ", ")
        return """
            replay: \(token) packets (\(framesSkipped) frames without IP skipped): \(verdictText)
            replay: sessions \(s.sessionsCreated), reset \(s.teardowns); commands \(s.smtp.commands), \
            masked \(s.smtp.commandsMasked); replies \(s.smtp.replies); messages \(s.smtp.messages) \
            (\(s.smtp.messageBytes) bytes); alerts \(s.smtpEvents); resets written \(resetsWritten); \
            cut tails retransmitted \(retransmissions)
            """
    }

    static func date(_ moment: Moment) -> Date {
        Date(timeIntervalSince1970: Double(moment.nanoseconds) / 1e9)
    }

    static func timestamp(_ moment: Moment) -> PacketTimestamp {
        PacketTimestamp(seconds: Int64(moment.nanoseconds / 1_000_000_000), nanoseconds: Int64(moment.nanoseconds % 1_000_000_000))
    }
}
