import PacketWire
import SMTPInspection

// Half-open session protection, as IOS Firewall does it (docs/behaviour.md §7):
// - max-incomplete high/low: above `high` half-open sessions, or above `one-minute high` new
//   sessions in the last minute, the engine turns aggressive (%FW-4-ALERT_ON): each new session
//   deletes the oldest half-open one. Below both lows it calms down (%FW-4-ALERT_OFF).
// - max-incomplete host N block-time M: a host with N half-open sessions gets, for each new one,
//   its oldest half-open session deleted (M = 0, %FW-4-HOST_TCP_ALERT_ON), or all of them
//   deleted and new connections to it blocked for M minutes (%FW-2-BLOCK_HOST, later
//   %FW-4-UNBLOCK_HOST).
// A deleted half-open session's server gets an RST (`FlowOutput.resets`), so its SYN_RECV goes.
// Only the sessions smtp-inspect tracks (the queued TCP/25 ones) are counted.
//
// Better than IOS on two points:
// - A legitimate burst (20 parallel clients make ~2,000 connections a second, past one-minute
//   high 500 within a quarter of a second) turned IOS's aggressive mode on and deleted handshakes
//   about to complete: mail was lost. While aggressive, a new session deletes the oldest
//   half-open one only once that one had a fair chance to complete (`fairChance`: a few times
//   the handshake time measured on this gateway), unless max-incomplete high itself is passed
//   (then the oldest goes at once, as in IOS). A SYN flood is still contained: its sessions never
//   complete, so they all reach that age.
// - The oldest half-open session (in all, and per host) is found in O(1): sessions are queued in
//   creation order when they open; entries of sessions that completed or left stay in place and
//   are skipped when they reach the front. A SYN costs the same with 90,000 sessions as with 10.

/// The thresholds (IOS `ip inspect` globals; the seed's defaults).
public struct HalfOpenLimits: Sendable, Equatable {
    public var maxIncompleteHigh = 500
    public var maxIncompleteLow = 400
    public var oneMinuteHigh = 500
    public var oneMinuteLow = 400
    public var perHost = 50
    /// Minutes; 0 deletes the oldest half-open session to the host instead of blocking it.
    public var blockTime = 0

    public init() {}
}

/// An RST the engine needs sent (to clear a deleted half-open session at its server).
public struct ResetRequest: Sendable, Equatable {
    public var from: Endpoint
    public var to: Endpoint
    public var sequence: SequenceNumber
}

/// A half-open session in the creation-order queues.
struct HalfOpenEntry {
    var key: ConnectionKey
    var id: UInt32
    var created: Moment
}

struct HalfOpenGuard {
    var aggressive = false
    var perHost: [IPAddress: Int] = [:]
    var hostAlerted: Set<IPAddress> = []
    var blockedUntil: [IPAddress: Moment] = [:]
    /// New sessions per second for the last minute (a ring), and the second of `buckets[head]`.
    var buckets = [Int](repeating: 0, count: 60)
    var head = 0
    var headSecond: UInt64 = 0
    /// Half-open sessions in creation order, in all and per host (stale entries skipped).
    var oldest = FIFO<HalfOpenEntry>()
    var oldestByHost: [IPAddress: FIFO<HalfOpenEntry>] = [:]
    /// Time from SYN to the ACK that completes the handshake, smoothed over the sessions that
    /// completed (RFC 6298's gain of 1/8), starting from a guess.
    var handshakeSeconds = 0.25

    /// A handshake this many times the measured one has had a fair chance to complete, within
    /// these bounds (a fast LAN must not make it a few microseconds; slow handshakes that a
    /// flooder completes must not make it minutes).
    static let fairChanceHandshakes = 4.0
    static let fairChanceBounds = 0.25...5.0

    var oneMinuteRate: Int { buckets.reduce(0, +) }

    var fairChance: Double {
        min(max(handshakeSeconds * Self.fairChanceHandshakes, Self.fairChanceBounds.lowerBound),
            Self.fairChanceBounds.upperBound)
    }

    /// Moves the ring to `now`'s second, zeroing the seconds that passed.
    mutating func advance(to now: Moment) {
        let second = now.nanoseconds / 1_000_000_000
        guard second > headSecond else { return }
        let steps = Int(min(second - headSecond, 60))
        for _ in 0..<steps {
            head = (head + 1) % 60
            buckets[head] = 0
        }
        headSecond = second
    }

    /// A handshake completed after `seconds`.
    mutating func measured(handshake seconds: Double) {
        handshakeSeconds += (seconds - handshakeSeconds) / 8
    }
}

extension FlowEngine {
    /// Before a SYN creates a session to `host`: false when the host is blocked (drop the SYN).
    mutating func admitHalfOpen(to host: IPAddress, rule: InspectionRuleBinding, at now: Moment,
                                into out: inout FlowOutput) -> Bool {
        let limits = configuration.halfOpen
        if let until = halfOpen.blockedUntil[host], now < until {
            statistics.blockedConnections += 1
            return false
        }
        guard halfOpen.perHost[host, default: 0] >= limits.perHost else { return true }
        if limits.blockTime > 0 {
            halfOpen.blockedUntil[host] = now + Double(limits.blockTime) * 60
            while deleteOldestHalfOpen(toHost: host, at: now, into: &out) {}
            report(.blockHost(host: host, minutes: limits.blockTime, max: limits.perHost), rule: rule, at: now, into: &out)
            statistics.blockedConnections += 1
            return false
        }
        if !halfOpen.hostAlerted.contains(host) {
            halfOpen.hostAlerted.insert(host)
            report(.hostHalfOpenExceeded(host: host, max: limits.perHost), rule: rule, at: now, into: &out)
        }
        deleteOldestHalfOpen(toHost: host, at: now, into: &out)
        return true
    }

    /// After session `i` was created: count it, and turn aggressive when a high threshold is
    /// passed; while aggressive, each new session deletes the oldest half-open one that had its
    /// fair chance (any oldest one past max-incomplete high).
    mutating func halfOpenCreated(_ i: Int, rule: InspectionRuleBinding, at now: Moment, into out: inout FlowOutput) {
        let host = flows[i].responder.address
        let entry = HalfOpenEntry(key: flows[i].key, id: flows[i].id, created: now)
        halfOpen.perHost[host, default: 0] += 1
        halfOpen.oldest.append(entry)
        halfOpen.oldestByHost[host, default: FIFO()].append(entry)
        halfOpen.advance(to: now)
        halfOpen.buckets[halfOpen.head] += 1
        let limits = configuration.halfOpen
        if !halfOpen.aggressive
            && (statistics.halfOpen > limits.maxIncompleteHigh || halfOpen.oneMinuteRate > limits.oneMinuteHigh) {
            halfOpen.aggressive = true
            report(.aggressiveOn(count: statistics.halfOpen, high: limits.maxIncompleteHigh, rate: halfOpen.oneMinuteRate),
                   rule: rule, at: now, into: &out)
        }
        if halfOpen.aggressive && statistics.halfOpen > 1 {
            let overLimit = statistics.halfOpen > limits.maxIncompleteHigh
            deleteOldestHalfOpen(sparing: entry.id, youngerThan: overLimit ? nil : halfOpen.fairChance, at: now, into: &out)
        }
    }

    /// Session `i` leaves the half-open state: it no longer counts for its host; if it completed
    /// its handshake, `seconds` is how long that took.
    mutating func halfOpenEnded(_ i: Int, handshake seconds: Double?) {
        if let seconds { halfOpen.measured(handshake: seconds) }
        let host = flows[i].responder.address
        guard let n = halfOpen.perHost[host] else { return }
        if n <= 1 {
            halfOpen.perHost[host] = nil
            halfOpen.hostAlerted.remove(host)
            halfOpen.oldestByHost[host] = nil  // every entry left in it is stale
        } else {
            halfOpen.perHost[host] = n - 1  // re-armed at the next tick, not by our own deletions
        }
    }

    /// Once a tick: calm down below both lows; unblock hosts whose time is up; drop the stale
    /// entries at the front of the creation-order queue.
    mutating func halfOpenTick(at now: Moment, into out: inout FlowOutput) {
        halfOpen.advance(to: now)
        while let entry = halfOpen.oldest.first, !isHalfOpen(entry) { halfOpen.oldest.popFirst() }
        let limits = configuration.halfOpen
        // Built only when there is something to report: the default policy allocates, and the
        // tick runs twice a second with no session in the table.
        var rule: InspectionRuleBinding {
            flows.first?.rule ?? InspectionRuleBinding(name: "", policy: SMTPPolicy(kind: .esmtp))
        }
        if halfOpen.aggressive && statistics.halfOpen < limits.maxIncompleteLow && halfOpen.oneMinuteRate < limits.oneMinuteLow {
            halfOpen.aggressive = false
            report(.aggressiveOff(count: statistics.halfOpen, low: limits.maxIncompleteLow, rate: halfOpen.oneMinuteRate),
                   rule: rule, at: now, into: &out)
        }
        for host in halfOpen.hostAlerted where halfOpen.perHost[host, default: 0] < limits.perHost {
            halfOpen.hostAlerted.remove(host)
        }
        for (host, until) in halfOpen.blockedUntil where now >= until {
            halfOpen.blockedUntil[host] = nil
            report(.unblockHost(host: host), rule: rule, at: now, into: &out)
        }
    }

    /// Whether the queue entry is a session still in the table and still half-open.
    private func isHalfOpen(_ entry: HalfOpenEntry) -> Bool {
        guard let i = index[entry.key] else { return false }
        return flows[i].id == entry.id && flows[i].state == .opening
    }

    /// Deletes the oldest half-open session (not `sparing`), if it is at least `youngerThan`
    /// seconds old (any age when nil). Returns whether one was deleted.
    @discardableResult
    private mutating func deleteOldestHalfOpen(sparing id: UInt32, youngerThan minimumAge: Double?, at now: Moment,
                                               into out: inout FlowOutput) -> Bool {
        while let entry = halfOpen.oldest.first {
            guard isHalfOpen(entry) else {
                halfOpen.oldest.popFirst()
                continue
            }
            guard entry.id != id, minimumAge.map({ now.seconds(since: entry.created) >= $0 }) ?? true else { return false }
            halfOpen.oldest.popFirst()
            deleteHalfOpen(entry, at: now, into: &out)
            return true
        }
        return false
    }

    /// Deletes the oldest half-open session to `host`. Returns whether there was one.
    @discardableResult
    private mutating func deleteOldestHalfOpen(toHost host: IPAddress, at now: Moment, into out: inout FlowOutput) -> Bool {
        while let entry = halfOpen.oldestByHost[host]?.first {
            halfOpen.oldestByHost[host]?.popFirst()
            guard isHalfOpen(entry) else { continue }
            deleteHalfOpen(entry, at: now, into: &out)  // may drop the host's queue: read it again
            return true
        }
        return false
    }

    /// Removes a half-open session, resetting it at its server.
    private mutating func deleteHalfOpen(_ entry: HalfOpenEntry, at now: Moment, into out: inout FlowOutput) {
        guard let i = index[entry.key] else { return }
        if let next = flows[i].initiatorStream.next {
            out.resets.append(ResetRequest(from: flows[i].initiator, to: flows[i].responder, sequence: next))
        }
        statistics.halfOpenDeleted += 1
        remove(i, at: now, into: &out)
    }

    private func report(_ kind: FlowEvent.Kind, rule: InspectionRuleBinding, at now: Moment, into out: inout FlowOutput) {
        out.events.append(FlowEvent(time: now, initiator: Self.unknownEndpoint, responder: Self.unknownEndpoint,
                                    kind: kind, alertOn: rule.alert, auditOn: rule.auditTrail))
    }
}
