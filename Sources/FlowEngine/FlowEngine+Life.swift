import PacketWire
import SMTPInspection

// A session's life, and the one function that changes it. The counters of `show ip inspect
// statistics` (half-open, established, closing), the half-open queues, the deadlines and the
// audit trail follow every change here, and nowhere else.
//
//   from                      event                 to        what follows
//   opening                   handshake completed   open      half-open −1, established +1, audit start,
//                                                             the handshake's time measured
//   opening, open             FINs both ways         closing   half-open or established −1, closing +1;
//                                                             leaves finwait-time later
//   opening, open, closing    RST at the next byte  closed    its counter −1; held packets dropped, kept
//                                                             bytes freed; leaves finwait-time later
//   opening, open, closing,   torn down              reset     its counter −1; held packets dropped, kept
//   closed                                                    bytes freed; leaves tornDownLinger later
//   any                       removed               (gone)    its counter −1; audit stop if it started
//                                                             (or when it leaves the bypass table)
// Anything else (an event that does not apply in the state) changes nothing.

/// Where a session is in its TCP life; the states IOS names in `show ip inspect sessions`.
enum SessionLife: Equatable {
    /// SYN seen, handshake not complete (`SIS_OPENING`): counted half-open.
    case opening
    /// Handshake complete (`SIS_OPEN`): counted established; the audit trail's start printed.
    case open
    /// Both FINs seen (`SIS_CLOSING`): counted closing; leaves the table at `until`.
    case closing(until: Moment, audited: Bool)
    /// An RST ended it (`SIS_CLOSED`): kept until `until` so that packets still on their way are
    /// not taken for a connection that began before inspection.
    case closed(until: Moment, audited: Bool)
    /// Torn down by the inspector (`SIS_RESET`): its packets are reset until `until`.
    case reset(until: Moment, audited: Bool)

    /// The name `show` prints.
    var state: SessionState {
        switch self {
        case .opening: .opening
        case .open: .open
        case .closing: .closing
        case .closed: .closed
        case .reset: .reset
        }
    }

    /// Whether the audit trail's start was printed (so its stop is printed too).
    var audited: Bool {
        switch self {
        case .opening: false
        case .open: true
        case let .closing(_, audited), let .closed(_, audited), let .reset(_, audited): audited
        }
    }

    /// When a closing, closed or torn-down session leaves the table.
    var deadline: Moment? {
        switch self {
        case .opening, .open: nil
        case let .closing(until, _), let .closed(until, _), let .reset(until, _): until
        }
    }
}

/// What happens to a session.
enum LifeEvent {
    case handshakeCompleted
    case finishedBothWays
    case resetExactly
    case tornDown
}

extension FlowEngine {
    /// The one place a session's life changes (the table at the top of this file).
    mutating func advance(_ i: Int, _ event: LifeEvent, at now: Moment, into out: inout FlowOutput) {
        let life = flows[i].life
        let audited = life.audited
        let next: SessionLife
        switch (life, event) {
        case (.opening, .handshakeCompleted):
            next = .open
        case (.opening, .finishedBothWays), (.open, .finishedBothWays):
            next = .closing(until: now + configuration.finWaitTimeout, audited: audited)
        case (.opening, .resetExactly), (.open, .resetExactly), (.closing, .resetExactly):
            next = .closed(until: now + configuration.finWaitTimeout, audited: audited)
        case (.opening, .tornDown), (.open, .tornDown), (.closing, .tornDown), (.closed, .tornDown):
            next = .reset(until: now + configuration.tornDownLinger, audited: audited)
        case (.opening, _), (.open, _), (.closing, _), (.closed, _), (.reset, _):
            return  // does not apply here
        }
        leaveCounters(i, established: event == .handshakeCompleted, at: now)
        flows[i].life = next
        switch next {
        case .open:
            statistics.established += 1
            let flow = flows[i]
            out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder,
                                        kind: .sessionStart, alertOn: flow.rule.alert, auditOn: flow.rule.auditTrail))
        case .closing:
            statistics.closing += 1
        case .closed, .reset:
            if event == .tornDown { statistics.teardowns += 1 }
            releaseAllHeld(i, verdict: .drop, into: &out)
            discardRetained(i)  // no data of it passes again: nothing to make identical
        case .opening:
            preconditionFailure("no event leads back to opening")
        }
        statistics.noteMaxima()
    }

    /// Removes a session from the table (swap-remove), releasing what it held. `auditStop`: print
    /// the audit trail's stop line now (not for a session that left the queue: it goes on).
    mutating func remove(_ i: Int, at now: Moment, auditStop: Bool = true, into out: inout FlowOutput) {
        leaveCounters(i, established: false, at: now)
        releaseAllHeld(i, verdict: .drop, into: &out)
        summariseSuppressedAlerts(i, at: now, into: &out)
        let flow = flows[i]
        retainedBytes -= flow.initiatorStream.window.count + flow.responderStream.window.count
        if flow.life.audited && auditStop {  // a Stop line only where a Start line was printed
            out.events.append(FlowEvent(time: now, initiator: flow.initiator, responder: flow.responder,
                                        kind: .sessionStop(initiatorBytes: flow.initiatorStream.bytes,
                                                           responderBytes: flow.responderStream.bytes),
                                        alertOn: flow.rule.alert, auditOn: flow.rule.auditTrail))
        }
        if !reopenedBypass.isEmpty { endReopenedBypass(flow.key, at: now, into: &out) }
        index[flow.key] = nil
        let last = flows.removeLast()
        if i < flows.count {
            flows[i] = last
            index[last.key] = i
        }
    }

    /// Takes a session out of the counter of its state (and out of its host's half-open count).
    private mutating func leaveCounters(_ i: Int, established: Bool, at now: Moment) {
        switch flows[i].life {
        case .opening:
            statistics.halfOpen -= 1
            halfOpenEnded(i, handshake: established ? now.seconds(since: flows[i].created) : nil)
        case .open: statistics.established -= 1
        case .closing: statistics.closing -= 1
        case .closed, .reset: break
        }
    }

    /// Forgets a session's released bytes and frees their buffers (it will pass no data again).
    private mutating func discardRetained(_ i: Int) {
        retainedBytes -= flows[i].initiatorStream.forgetKept() + flows[i].responderStream.forgetKept()
    }
}
