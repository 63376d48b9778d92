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

    @Flag(help: """
        Drop packets whose checksums are wrong, as the daemon does with packets nobody verified.         Off by default: a capture taken on a host with checksum offload holds checksums the NIC         would have filled in later.
        """)
    var verifyChecksums = false

    func validate() throws {
        if let debug, debug != "smtp" { throw ValidationError("--debug \(debug): the only trace is 'smtp'") }
        if rule != nil && policyOptions.config == nil { throw ValidationError("--rule needs --config") }
    }

    func run() throws {
        let setup = try policyOptions.makeSetup(interfaces: nil)
        let chosen = try chooseRule(setup)
        var timestamps = setup.timestamps
        if case .uptime = timestamps { timestamps = .datetime(msec: true, localtime: false, showTimezone: false, year: false) }
        let reader: PcapReader
        do { reader = try PcapReader(path: input) } catch {
            standardError("smtp-inspect: cannot read the capture \(error)")  // PcapError names the file
            throw ExitCode(1)
        }
        let writer = try write.map { try Self.openOutput($0, input: input) }
        let log = AlertLog(timestamps: timestamps, deterministic: true)
        var replay = Replay(engine: FlowEngine(configuration: setup.engine), rule: chosen, log: log, writer: writer,
                            checksum: verifyChecksums ? .unverified : .verified)
        replay.engine.traceEnabled = debug == "smtp"
        do {
            try reader.forEach { record, bytes in
                replay.packet(record, &bytes)
                return true
            }
        } catch {
            log.finish(timeout: nil)
            standardError("smtp-inspect: cannot read the capture \(input): \(error)")
            throw ExitCode(1)  // the writer is not closed: the output file stays as it was
        }
        replay.finish()
        log.plain(replay.summary(framesSkipped: reader.framesSkipped))
        log.finish(timeout: nil)
        if replay.timestampsClamped > 0 {
            standardError("smtp-inspect: \(input): \(replay.timestampsClamped) packet\(replay.timestampsClamped == 1 ? "" : "s") "
                + "had a timestamp past \(Replay.latestTimestampText) (taken as that time)")
        }
        if let writer {
            do { try writer.close() } catch {
                standardError("smtp-inspect: cannot write the capture \(error)")  // PcapError names the file
                throw ExitCode(1)
            }
        }
    }

    /// The output capture: a temporary file beside `path`, renamed over it at the end
    /// (`PcapWriter(replacing:)`). Refused when it is the input itself, by any name.
    static func openOutput(_ path: String, input: String) throws -> PcapWriter {
        let inputIdentity = (try? FileStatus.at(input)).flatMap { $0?.identity }
        if let inputIdentity, (try? FileStatus.at(path))??.identity == inputIdentity {
            standardError("smtp-inspect: --write \(path) is the input capture \(input) itself: "
                + "replay would destroy what it reads; write somewhere else")
            throw ExitCode(1)
        }
        do { return try PcapWriter(replacing: path, precision: .nanoseconds) } catch {
            standardError("smtp-inspect: cannot write the capture \(error)")  // PcapError names the file
            throw ExitCode(1)
        }
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

/// Replay's sink: what passes is written to the capture file (if any), with the time given;
/// RSTs too; dropped and held packets are not.
struct FileSink: PacketSink {
    let writer: PcapWriter?
    let timestamp: PacketTimestamp
    private(set) var resetsWritten = 0

    init(writer: PcapWriter?, timestamp: PacketTimestamp) {
        self.writer = writer
        self.timestamp = timestamp
    }

    mutating func pass(_ bytes: Span<UInt8>, edited: Bool, token: UInt64) { writer?.write(bytes, timestamp: timestamp) }
    mutating func passBypassing(_ bytes: Span<UInt8>, token: UInt64) { writer?.write(bytes, timestamp: timestamp) }
    mutating func drop(token: UInt64) {}
    mutating func hold(token: UInt64) {}
    mutating func sendReset(_ packet: Span<UInt8>) {
        writer?.write(packet, timestamp: timestamp)
        resetsWritten += 1
    }
}

/// The replay loop's state: the engine and what has been written.
struct Replay {
    var engine: FlowEngine
    let rule: InspectionRuleBinding
    let log: AlertLog
    let writer: PcapWriter?
    /// How the engine takes the capture's checksums (see `--verify-checksums`).
    let checksum: ChecksumStatus
    var output = FlowOutput()
    var token: UInt64 = 0
    var last = Moment(nanoseconds: 0)
    var verdicts: [String: Int] = [:]
    var resetsWritten = 0
    /// Cut tails sent again, as the sender's TCP would (see `retransmitCutTail`).
    var retransmissions = 0
    /// Packets whose timestamp was past `latestTimestamp` (taken as that time).
    var timestampsClamped = 0

    /// The latest capture time replay takes as it is: 17,000,000,000 s after 1970 (the year
    /// 2508). The engine's clock counts nanoseconds in a UInt64 (up to the year 2554); what is
    /// left above this bound is room for its timers (hours) and the day `finish` adds. A pcapng
    /// timestamp can be far larger (its 64-bit count of units is unbounded in time).
    static let latestTimestamp: UInt64 = 17_000_000_000
    static let latestTimestampText = "17000000000 s after 1970 (the year 2508)"

    /// The engine's time for a capture timestamp: before 1970 is 1970, after `latestTimestamp`
    /// is that (counted in `clamped`). Total: no timestamp traps.
    static func moment(_ t: PacketTimestamp, clamped: inout Int) -> Moment {
        let seconds = UInt64(max(0, t.seconds))
        guard seconds < latestTimestamp else {
            clamped += 1
            return Moment(nanoseconds: latestTimestamp * 1_000_000_000)
        }
        return Moment(nanoseconds: seconds * 1_000_000_000 + UInt64(min(max(0, t.nanoseconds), 999_999_999)))
    }

    mutating func packet(_ record: PcapRecord, _ bytes: inout MutableSpan<UInt8>) {
        token += 1
        let now = Self.moment(record.timestamp, clamped: &timestampsClamped)
        if now.nanoseconds >= last.nanoseconds + 500_000_000 {
            engine.tick(at: now, into: &output)
            flush(at: now)
        }
        last = now
        var original = [UInt8](repeating: 0, count: bytes.count)
        for k in 0..<bytes.count { original[k] = bytes[k] }
        let verdict = engine.process(&bytes, PacketMetadata(token: token, rule: rule, checksum: checksum), at: now, into: &output)
        count(verdict)
        var sink = FileSink(writer: writer, timestamp: record.timestamp)
        sink.apply(verdict, to: bytes.span, token: token)
        resetsWritten += sink.resetsWritten
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
            verdict = engine.process(&span, PacketMetadata(token: token, rule: rule, checksum: checksum), at: now, into: &output)
            count(verdict)
            var sink = FileSink(writer: writer, timestamp: Self.timestamp(now))
            sink.apply(verdict, to: span.span, token: token)
            resetsWritten += sink.resetsWritten
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
        for release in output.releases { count(release.verdict.packetVerdict, released: true) }
        var sink = FileSink(writer: writer, timestamp: Self.timestamp(now))
        sink.applyReleasesAndResets(of: output)
        resetsWritten += sink.resetsWritten
        for event in output.events { log.report(event, at: Self.date(event.time), moment: event.time.nanoseconds) }
        for line in output.trace { log.trace(line.record, at: Self.date(line.time)) }
        output.removeAll()
    }

    private mutating func count(_ verdict: PacketVerdict, released: Bool = false) {
        let name: String = switch verdict {
        case .accept: "accepted"
        case .acceptModified: "modified"
        case .drop: "dropped"
        case .reset: "reset"
        case .hold: "held"
        case .acceptBypassing: "bypassed"
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
