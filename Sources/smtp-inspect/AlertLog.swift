import FlowEngine
import Foundation
import IOSConfig
import NFQueue
import SMTPInspection
import Synchronization

/// Prints what the engine reports as IOS prints it: `%FW-…` alerts and audit-trail lines, and
/// `debug ip inspect smtp` records, each after a timestamp in the configured format
/// (`service timestamps log datetime msec` → `*Oct 18 21:51:35.886: `).
///
/// Packet threads never wait for the output: a line is rate-limited (`AlertRateLimiter`, one
/// limit over all queues), then handed to a `LogWriter` whose thread formats and writes it;
/// when its queue is full the line is dropped and counted. Lines keep the order they were
/// handed over in. The debug trace is not rate-limited (the operator asked for all of it) but
/// goes through the same bounded queue. In replay (`deterministic`) time is the capture's,
/// nothing is dropped (a full queue makes the replay wait) and everything goes to stdout.
final class AlertLog: Sendable {
    /// A line as handed over; formatted on the writer's thread.
    enum Entry: Sendable {
        case event(FlowEvent, Date)
        case trace(SMTPTraceRecord, Date)
        /// A whole line, after the timestamp of `Date` when there is one.
        case line(String, Date?)
    }

    /// Lost lines, for `show ip inspect statistics` and the counters line.
    struct Counters: Sendable, Equatable {
        /// Suppressed by the rate limit (and summarised in `%FW-4-ALERT_SUPPRESSED` lines).
        var suppressed: UInt64 = 0
        /// Dropped because the queue to the writer was full (stderr slow or stopped).
        var dropped: UInt64 = 0
        /// Handed to write(2), which failed (EPIPE: nobody reads stderr any more).
        var failed: UInt64 = 0

        static func - (lhs: Counters, rhs: Counters) -> Counters {
            Counters(suppressed: lhs.suppressed &- rhs.suppressed, dropped: lhs.dropped &- rhs.dropped,
                     failed: lhs.failed &- rhs.failed)
        }
    }

    /// Lines the writer's queue holds: a few seconds of the debug trace of a busy session,
    /// well under 1 MiB.
    static let queueCapacity = 4096

    let timestamps: TimestampFormat
    let started: Date
    let deterministic: Bool
    private let limiter: LimiterBox
    private let writer: LogWriter<Entry>

    /// `deterministic` is replay's: capture time, stdout, nothing dropped.
    init(timestamps: TimestampFormat, deterministic: Bool = false, limits: AlertRateLimiter.Limits = .init(),
         sink: (@Sendable ([UInt8]) -> Bool)? = nil) {
        let started = Date()
        self.timestamps = timestamps
        self.started = started
        self.deterministic = deterministic
        let limiter = LimiterBox(limits)
        self.limiter = limiter
        let render: @Sendable ([Entry]) -> [UInt8] = { batch in
            var text = ""
            for entry in batch { text += Self.render(entry, timestamps: timestamps, started: started) + "\n" }
            return Array(text.utf8)
        }
        let sink = sink ?? LogWriter<Entry>.sink(deterministic ? .output : .error)
        if deterministic {
            writer = LogWriter(capacity: Self.queueCapacity, whenFull: .wait, render: render, sink: sink)
        } else {
            // Live, a window that ended is summarised even when no further alert closes it.
            writer = LogWriter(capacity: Self.queueCapacity, whenFull: .drop, render: render, sink: sink,
                               idle: { writer in
                                   for s in limiter.expire(at: limiter.now()) { writer.submit(.line(Self.suppressionLine(s), Date())) }
                               })
        }
    }

    /// Prints an event (when its rule has alerts or audit trail on) at wall-clock time `date`.
    /// `moment` is the rate limit's clock: the capture's time in replay; live, the monotonic clock.
    func report(_ event: FlowEvent, at date: Date = Date(), moment: UInt64? = nil) {
        guard let kind = Self.kind(event) else { return }
        let (admitted, ended) = limiter.admit(kind, at: moment ?? limiter.now())
        for suppression in ended {
            let stamp = deterministic ? Date(timeIntervalSince1970: Double(suppression.windowEnd) / 1e9) : date
            writer.submit(.line(Self.suppressionLine(suppression), stamp))
        }
        if admitted { writer.submit(.event(event, date)) }
    }

    func trace(_ record: SMTPTraceRecord, at date: Date = Date()) {
        writer.submit(.trace(record, date))
    }

    /// A line of our own: `smtp-inspect: text`.
    func note(_ text: String) {
        writer.submit(.line("smtp-inspect: " + text, nil))
    }

    /// Any line, as it is (replay's summary).
    func plain(_ text: String) {
        writer.submit(.line(text, nil))
    }

    /// Summarises what the open window suppressed (at exit), then waits until every line handed
    /// over is written: at most `timeout` seconds (nil: no limit). False when time ran out.
    @discardableResult
    func finish(timeout: TimeInterval?) -> Bool {
        for s in limiter.finish() {
            let stamp = deterministic ? Date(timeIntervalSince1970: Double(s.windowEnd) / 1e9) : Date()
            writer.submit(.line(Self.suppressionLine(s), stamp))
        }
        return writer.drain(timeout: timeout)
    }

    var counters: Counters {
        let lost = writer.lost
        return Counters(suppressed: limiter.suppressed, dropped: lost.dropped, failed: lost.failed)
    }

    // MARK: - Formatting

    /// `%FW-4-ALERT_SUPPRESSED: 20873 SMTP_INVALID_COMMAND messages suppressed in the last 1 s`.
    static func suppressionLine(_ s: AlertRateLimiter.Suppression) -> String {
        let mnemonic = s.kind.split(separator: "-", maxSplits: 2).last.map(String.init) ?? s.kind
        let seconds = Double(s.window) / 1e9
        let window = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        return "%FW-4-ALERT_SUPPRESSED: \(s.count) \(mnemonic) message\(s.count == 1 ? "" : "s") suppressed in the last \(window) s"
    }

    /// The kind of line an event prints (`%FW-4-SMTP_INVALID_COMMAND`), the rate limit's key;
    /// nil when its rule turned it off (alert / audit-trail).
    static func kind(_ event: FlowEvent) -> String? {
        switch event.kind {
        case let .smtp(smtp): event.alertOn ? "%FW-4-" + smtp.mnemonic : nil
        case .dropPacket: event.alertOn ? "%FW-6-DROP_PKT" : nil
        case .sessionStart: event.auditOn ? "%FW-6-SESS_AUDIT_TRAIL_START" : nil
        case .sessionStop: event.auditOn ? "%FW-6-SESS_AUDIT_TRAIL" : nil
        case .overlapRewritten: event.alertOn ? "%FW-4-TCP_OVERLAP_MISMATCH" : nil
        case .alertsSuppressed: event.alertOn ? "%FW-4-SESSION_ALERTS_SUPPRESSED" : nil
        case .aggressiveOn: event.alertOn ? "%FW-4-ALERT_ON" : nil
        case .aggressiveOff: event.alertOn ? "%FW-4-ALERT_OFF" : nil
        case .hostHalfOpenExceeded: event.alertOn ? "%FW-4-HOST_TCP_ALERT_ON" : nil
        case .blockHost: event.alertOn ? "%FW-2-BLOCK_HOST" : nil
        case .unblockHost: event.alertOn ? "%FW-4-UNBLOCK_HOST" : nil
        }
    }

    /// The message of an event, or nil when its rule turned it off (alert / audit-trail).
    static func message(_ event: FlowEvent) -> String? {
        guard let kind = kind(event) else { return nil }
        let initiator = "(\(event.initiator))", responder = "(\(event.responder))"
        let text: String
        switch event.kind {
        case let .smtp(smtp):
            text = smtp.alertText(peer: smtp.fromServer ? responder : initiator)
        case let .dropPacket(reason):
            text = "Dropping tcp pkt \(event.initiator) => \(event.responder) due to \(reason)"
        case .sessionStart:
            text = "Start smtp session: initiator \(initiator) -- responder \(responder)"
        case let .sessionStop(sent, received):
            text = "Stop smtp session: initiator \(initiator) sent \(sent) bytes -- responder \(responder) sent \(received) bytes"
        case let .overlapRewritten(bytes, fromResponder):
            let (sender, receiver) = fromResponder ? (responder, initiator) : (initiator, responder)
            text = "Retransmission from \(sender)=>\(receiver) differed in \(bytes) bytes; rewritten to the bytes first seen"
        case let .alertsSuppressed(count):
            text = "\(count) alert\(count == 1 ? "" : "s") of session \(initiator)=>\(responder) suppressed "
                + "(more than \(FlowEngine.alertBurst) at once)"
        case let .aggressiveOn(count, high, rate):
            text = "getting aggressive, count (\(count)/\(high)) current 1-min rate: \(rate)"
        case let .aggressiveOff(count, low, rate):
            text = "calming down, count (\(count)/\(low)) current 1-min rate: \(rate)"
        case let .hostHalfOpenExceeded(host, max):
            text = "Max tcp half-open connections (\(max)) exceeded for host \(host)."
        case let .blockHost(host, minutes, max):
            text = "Blocking new TCP connections to host \(host) for \(minutes) minute\(minutes == 1 ? "" : "s") "
                + "(half-open count \(max) exceeded)."
        case let .unblockHost(host):
            text = "New TCP connections to host \(host) no longer blocked"
        }
        return kind + ": " + text
    }

    private static func render(_ entry: Entry, timestamps: TimestampFormat, started: Date) -> String {
        switch entry {
        case let .event(event, date): stamp(date, timestamps, started) + (message(event) ?? "")
        case let .trace(record, date): stamp(date, timestamps, started) + record.description
        case let .line(text, date?): stamp(date, timestamps, started) + text
        case let .line(text, nil): text
        }
    }

    /// The IOS timestamp prefix (with its `: `), or nothing for `no service timestamps`.
    func stamp(_ date: Date) -> String {
        Self.stamp(date, timestamps, started)
    }

    static func stamp(_ date: Date, _ timestamps: TimestampFormat, _ started: Date) -> String {
        switch timestamps {
        case .none:
            return ""
        case .uptime:
            let up = Int(date.timeIntervalSince(started))
            return "\(String(up / 3600).padded(2)):\(String(up / 60 % 60).padded(2)):\(String(up % 60).padded(2)): "
        case let .datetime(msec, localtime, _, year):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = localtime ? .current : TimeZone(identifier: "UTC")!
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            var text = "*\(months[(c.month ?? 1) - 1]) \(String(c.day ?? 1).padded(2, " "))"
            if year { text += " \(c.year ?? 1970)" }
            text += " \(String(c.hour ?? 0).padded(2)):\(String(c.minute ?? 0).padded(2)):\(String(c.second ?? 0).padded(2))"
            if msec { text += "." + String((c.nanosecond ?? 0) / 1_000_000).padded(3) }
            return text + ": "
        }
    }
}

/// The rate limiter behind a lock shared by every queue thread (and the writer's idle check):
/// an admission is a few compares and increments.
private final class LimiterBox: Sendable {
    private let state: Mutex<AlertRateLimiter>
    private let origin = ContinuousClock.now
    private let suppressedTotal = Atomic<UInt64>(0)

    init(_ limits: AlertRateLimiter.Limits) { state = Mutex(AlertRateLimiter(limits)) }

    /// Nanoseconds on the monotonic clock since the log was made (a wall-clock step must not
    /// hold a window open or close it early).
    func now() -> UInt64 {
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return UInt64(max(0, seconds)) &* 1_000_000_000 &+ UInt64(max(0, attoseconds / 1_000_000_000))
    }

    func admit(_ kind: String, at now: UInt64) -> (admitted: Bool, ended: [AlertRateLimiter.Suppression]) {
        let result = state.withLock { $0.admit(kind, at: now) }
        if !result.admitted { suppressedTotal.add(1, ordering: .relaxed) }
        return result
    }

    func expire(at now: UInt64) -> [AlertRateLimiter.Suppression] { state.withLock { $0.expire(at: now) } }
    func finish() -> [AlertRateLimiter.Suppression] { state.withLock { $0.finish() } }
    var suppressed: UInt64 { suppressedTotal.load(ordering: .relaxed) }
}

extension String {
    func padded(_ width: Int, _ pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
