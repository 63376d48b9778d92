import PacketWire
import SMTPInspection

// Half-open session protection, as IOS Firewall does it (BEHAVIOR.md §7):
// - max-incomplete high/low: above `high` half-open sessions, or above `one-minute high` new
//   sessions in the last minute, the engine turns aggressive (%FW-4-ALERT_ON): each new session
//   deletes the oldest half-open one. Below both lows it calms down (%FW-4-ALERT_OFF).
// - max-incomplete host N block-time M: a host with N half-open sessions gets, for each new one,
//   its oldest half-open session deleted (M = 0, %FW-4-HOST_TCP_ALERT_ON), or all of them
//   deleted and new connections to it blocked for M minutes (%FW-2-BLOCK_HOST, later
//   %FW-4-UNBLOCK_HOST).
// A deleted half-open session's server gets an RST (`FlowOutput.resets`), so its SYN_RECV goes.
// Only the sessions smtp-inspect tracks (the queued TCP/25 ones) are counted.

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

struct HalfOpenGuard {
    var aggressive = false
    var perHost: [IPAddress: Int] = [:]
    var hostAlerted: Set<IPAddress> = []
    var blockedUntil: [IPAddress: Moment] = [:]
    /// New sessions per second for the last minute (a ring), and the second of `buckets[head]`.
    var buckets = [Int](repeating: 0, count: 60)
    var head = 0
    var headSecond: UInt64 = 0

    var oneMinuteRate: Int { buckets.reduce(0, +) }

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
            deleteHalfOpen(where: { $0.responder.address == host }, limit: .max, at: now, into: &out)
            report(.blockHost(host: host, minutes: limits.blockTime, max: limits.perHost), rule: rule, at: now, into: &out)
            statistics.blockedConnections += 1
            return false
        }
        if !halfOpen.hostAlerted.contains(host) {
            halfOpen.hostAlerted.insert(host)
            report(.hostHalfOpenExceeded(host: host, max: limits.perHost), rule: rule, at: now, into: &out)
        }
        deleteHalfOpen(where: { $0.responder.address == host }, limit: 1, at: now, into: &out)
        return true
    }

    /// After a session was created: count it, and turn aggressive when a high threshold is
    /// passed; while aggressive, each new session deletes the oldest half-open one.
    mutating func halfOpenCreated(to host: IPAddress, rule: InspectionRuleBinding, at now: Moment,
                                  into out: inout FlowOutput) {
        halfOpen.perHost[host, default: 0] += 1
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
            // Keep the newest (this one): delete the oldest other half-open session.
            let newest = flows[flows.count - 1].id
            deleteHalfOpen(where: { $0.id != newest }, limit: 1, at: now, into: &out)
        }
    }

    /// A half-open session became established or left: it no longer counts for its host.
    mutating func halfOpenEnded(to host: IPAddress) {
        guard let n = halfOpen.perHost[host] else { return }
        if n <= 1 {
            halfOpen.perHost[host] = nil
            halfOpen.hostAlerted.remove(host)
        } else {
            halfOpen.perHost[host] = n - 1  // re-armed at the next tick, not by our own deletions
        }
    }

    /// Once a tick: calm down below both lows; unblock hosts whose time is up.
    mutating func halfOpenTick(at now: Moment, into out: inout FlowOutput) {
        halfOpen.advance(to: now)
        let limits = configuration.halfOpen
        let rule = flows.first?.rule ?? InspectionRuleBinding(name: "", policy: SMTPPolicy(kind: .esmtp))
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

    /// Deletes up to `limit` half-open sessions matching `filter`, oldest first, resetting each
    /// at its server.
    private mutating func deleteHalfOpen(where filter: (Flow) -> Bool, limit: Int, at now: Moment,
                                         into out: inout FlowOutput) {
        var deleted = 0
        while deleted < limit {
            var oldest: Int?
            for i in flows.indices where flows[i].state == .opening && filter(flows[i]) {
                if let o = oldest, flows[o].created <= flows[i].created { continue }
                oldest = i
            }
            guard let i = oldest else { return }
            if let next = flows[i].initiatorStream.next {
                out.resets.append(ResetRequest(from: flows[i].initiator, to: flows[i].responder, sequence: next))
            }
            statistics.halfOpenDeleted += 1
            remove(i, at: now, into: &out)
            deleted += 1
        }
    }

    private func report(_ kind: FlowEvent.Kind, rule: InspectionRuleBinding, at now: Moment, into out: inout FlowOutput) {
        out.events.append(FlowEvent(time: now, initiator: Self.unknownEndpoint, responder: Self.unknownEndpoint,
                                    kind: kind, alertOn: rule.alert, auditOn: rule.auditTrail))
    }
}
