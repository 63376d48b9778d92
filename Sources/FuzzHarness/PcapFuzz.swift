import FlowEngine
import NFQueue
import PacketWire
import SMTPInspection

/// Fuzz target `pcap`: the input is a capture file (pcap or pcapng; libpcap reads it, so the
/// caller writes the input to a file first). `PcapReader` must open it or refuse it with an
/// error, never trap; every packet it lends must keep the reader's promises (its length, an IP
/// version nibble, nanoseconds below one second, frames counted); and the packets go through a
/// flow engine and back out through `PcapWriter`, as `smtp-inspect replay --write` does, and
/// through a second engine with STARTTLS allowed and `bypassTLS` on (its verdicts unwritten).
///
/// The times go to the engine saturated, not as `replay` converts them: `replay` itself is run
/// over the corpus by Tests/FuzzRegressionTests (ReplayCommandTests), where a trap in its own
/// conversion shows.
public enum PcapFuzz {
    public static func run(path: String, writingTo output: String?, guards: KnownIssueGuards) -> FuzzFindings {
        var findings = FuzzFindings()
        let reader: PcapReader
        do {
            reader = try PcapReader(path: path)
        } catch {
            findings.check(!error.description.isEmpty, "PcapReader refused the file with an empty message")
            return findings
        }
        _ = reader.linkType.description
        let writer = output.flatMap { try? PcapWriter(path: $0, precision: .nanoseconds) }
        var engine = FlowEngine()
        var out = FlowOutput()
        let rule = InspectionRuleBinding(name: "FUZZ", policy: SMTPSessionFuzz.policies[1])
        // A second engine as the daemon runs with STARTTLS allowed: TLS sessions leave the queue.
        var bypassing = FlowEngine(configuration: {
            var configuration = FlowEngineConfiguration()
            configuration.bypassTLS = true
            return configuration
        }())
        let starttls = InspectionRuleBinding(name: "FUZZ", policy: SMTPSessionFuzz.policies[1 | 4])
        var lastFrame = 0
        var token: UInt64 = 0
        do {
            try reader.forEach { record, bytes in
                token += 1
                findings.check(record.capturedLength == bytes.count,
                               "frame \(record.frameNumber): capturedLength \(record.capturedLength), \(bytes.count) bytes lent")
                findings.check(record.frameNumber > lastFrame, "frame numbers go \(lastFrame) then \(record.frameNumber)")
                lastFrame = record.frameNumber
                findings.check((0..<1_000_000_000).contains(record.timestamp.nanoseconds),
                               "frame \(record.frameNumber): nanoseconds \(record.timestamp.nanoseconds)")
                findings.check(record.originalLength >= record.capturedLength || !record.isTruncated,
                               "frame \(record.frameNumber): isTruncated with original \(record.originalLength) < captured \(record.capturedLength)")
                if bytes.count > 0 {
                    let version = bytes[0] >> 4
                    findings.check(version == 4 || version == 6, "frame \(record.frameNumber): IP version \(version)")
                }
                _ = record.timestamp.description
                let now = moment(record.timestamp)
                var copy = [UInt8](repeating: 0, count: bytes.count)
                for k in 0..<bytes.count { copy[k] = bytes[k] }
                do {
                    var span = copy.mutableSpan
                    _ = bypassing.process(&span, token: token, rule: starttls, at: now, into: &out)
                    out.removeAll()
                }
                let verdict = engine.process(&bytes, token: token, rule: rule, at: now, into: &out)
                switch verdict {
                case .accept, .acceptBypassing:
                    writer?.write(bytes.span, timestamp: record.timestamp, originalLength: record.originalLength)
                case .acceptModified(let length):
                    if length <= bytes.count {
                        writer?.write(bytes.span.extracting(0..<length), timestamp: record.timestamp)
                    } else {
                        findings.add("frame \(record.frameNumber): acceptModified(length: \(length)) of \(bytes.count) bytes")
                    }
                case .drop, .reset, .hold:
                    break
                }
                out.removeAll()
                return true
            }
        } catch {
            findings.check(!error.description.isEmpty, "PcapReader failed with an empty message")
        }
        findings.check(reader.framesRead == reader.packetsRead + reader.framesSkipped,
                       "frames read \(reader.framesRead) != packets \(reader.packetsRead) + skipped \(reader.framesSkipped)")
        engine.tick(at: Moment(nanoseconds: UInt64.max / 2), into: &out)
        bypassing.tick(at: Moment(nanoseconds: UInt64.max / 2), into: &out)
        try? writer?.close()
        return findings
    }

    /// The capture's time as an engine moment, saturating (the engine needs only an order).
    static func moment(_ t: PacketTimestamp) -> Moment {
        guard t.seconds > 0 else { return Moment(nanoseconds: 0) }
        let (seconds, overflow) = UInt64(t.seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return Moment(nanoseconds: UInt64.max / 4) }
        return Moment(nanoseconds: min(seconds &+ UInt64(max(0, t.nanoseconds)), UInt64.max / 4))
    }
}
