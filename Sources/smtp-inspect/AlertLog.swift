import FlowEngine
import Foundation
import IOSConfig
import SMTPInspection
import Synchronization

/// Prints what the engine reports as IOS prints it: `%FW-…` alerts and audit-trail lines, and
/// `debug ip inspect smtp` records, each after a timestamp in the configured format
/// (`service timestamps log datetime msec` → `*Oct 18 21:51:35.886: `). Lines from several
/// queue threads never interleave.
final class AlertLog: Sendable {
    let timestamps: TimestampFormat
    let started: Date
    private let lock = Mutex(())
    /// Where lines go: stderr when running, stdout when replaying (so outputs can be compared).
    private let toStandardOutput: Bool

    init(timestamps: TimestampFormat, toStandardOutput: Bool = false) {
        self.timestamps = timestamps
        self.started = Date()
        self.toStandardOutput = toStandardOutput
    }

    /// The message of an event, or nil when its rule turned it off (alert / audit-trail).
    static func message(_ event: FlowEvent) -> String? {
        let initiator = "(\(event.initiator))", responder = "(\(event.responder))"
        switch event.kind {
        case let .smtp(smtp):
            guard event.alertOn else { return nil }
            let peer = smtp.fromServer ? responder : initiator
            return "%FW-4-\(smtp.mnemonic): \(smtp.alertText(peer: peer))"
        case let .dropPacket(reason):
            guard event.alertOn else { return nil }
            return "%FW-6-DROP_PKT: Dropping tcp pkt \(event.initiator) => \(event.responder) due to \(reason)"
        case .sessionStart:
            guard event.auditOn else { return nil }
            return "%FW-6-SESS_AUDIT_TRAIL_START: Start smtp session: initiator \(initiator) -- responder \(responder)"
        case let .sessionStop(sent, received):
            guard event.auditOn else { return nil }
            return "%FW-6-SESS_AUDIT_TRAIL: Stop smtp session: initiator \(initiator) sent \(sent) bytes -- "
                + "responder \(responder) sent \(received) bytes"
        case let .overlapRewritten(bytes, fromResponder):
            guard event.alertOn else { return nil }
            let (sender, receiver) = fromResponder ? (responder, initiator) : (initiator, responder)
            return "%FW-4-TCP_OVERLAP_MISMATCH: Retransmission from \(sender)=>\(receiver) differed in "
                + "\(bytes) bytes; rewritten to the bytes first seen"
        case let .alertsSuppressed(count):
            guard event.alertOn else { return nil }
            return "%FW-4-SESSION_ALERTS_SUPPRESSED: \(count) alert\(count == 1 ? "" : "s") of session "
                + "\(initiator)=>\(responder) suppressed (more than \(FlowEngine.alertBurst) at once)"
        case let .aggressiveOn(count, high, rate):
            guard event.alertOn else { return nil }
            return "%FW-4-ALERT_ON: getting aggressive, count (\(count)/\(high)) current 1-min rate: \(rate)"
        case let .aggressiveOff(count, low, rate):
            guard event.alertOn else { return nil }
            return "%FW-4-ALERT_OFF: calming down, count (\(count)/\(low)) current 1-min rate: \(rate)"
        case let .hostHalfOpenExceeded(host, max):
            guard event.alertOn else { return nil }
            return "%FW-4-HOST_TCP_ALERT_ON: Max tcp half-open connections (\(max)) exceeded for host \(host)."
        case let .blockHost(host, minutes, max):
            guard event.alertOn else { return nil }
            return "%FW-2-BLOCK_HOST: Blocking new TCP connections to host \(host) for \(minutes) minute"
                + "\(minutes == 1 ? "" : "s") (half-open count \(max) exceeded)."
        case let .unblockHost(host):
            guard event.alertOn else { return nil }
            return "%FW-4-UNBLOCK_HOST: New TCP connections to host \(host) no longer blocked"
        }
    }

    /// Prints an event at wall-clock time `at`.
    func report(_ event: FlowEvent, at date: Date = Date()) {
        guard let message = Self.message(event) else { return }
        write(stamp(date) + message)
    }

    func trace(_ record: SMTPTraceRecord, at date: Date = Date()) {
        write(stamp(date) + record.description)
    }

    func note(_ text: String) {
        write("smtp-inspect: " + text)
    }

    private func write(_ line: String) {
        lock.withLock { _ in
            if toStandardOutput { StandardStreams.out(line + "\n") } else { StandardStreams.error(line + "\n") }
        }
    }

    /// The IOS timestamp prefix (with its `: `), or nothing for `no service timestamps`.
    func stamp(_ date: Date) -> String {
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

extension String {
    func padded(_ width: Int, _ pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
