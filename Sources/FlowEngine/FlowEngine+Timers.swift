import PacketWire
import SMTPInspection

extension FlowEngine {
    /// Expires what time ends: held packets past `holdTimeout` (dropped: TCP sends them again),
    /// half-open sessions past synwait-time, closing and reset sessions past their deadline,
    /// idle sessions past their rule's timeout. Call it about once a second.
    public mutating func tick(at now: Moment, into out: inout FlowOutput) {
        var i = 0
        while i < flows.count {
            if !flows[i].held.isEmpty { expireHeld(i, at: now, into: &out) }
            summariseSuppressedAlerts(i, at: now, into: &out)
            if isExpired(flows[i], at: now) {
                remove(i, at: now, into: &out)  // swaps the last session into `i`
                continue
            }
            if now.seconds(since: flows[i].lastHeard) > 2 {
                flows[i].releaseIdleStorage()
            }
            i += 1
        }
        statistics.heldNow = heldPackets
        halfOpenTick(at: now, into: &out)
        expireBypassed(at: now, into: &out)
    }

    private func isExpired(_ flow: Flow, at now: Moment) -> Bool {
        switch flow.life {
        case .opening: return now.seconds(since: flow.created) > configuration.synWaitTimeout
        case .open: return now.seconds(since: flow.lastHeard) > flow.rule.idleTimeout
        case let .closing(until, _), let .closed(until, _), let .reset(until, _): return now > until
        }
    }

    private mutating func expireHeld(_ i: Int, at now: Moment, into out: inout FlowOutput) {
        for held in flows[i].held.takeExpired(at: now, timeout: configuration.holdTimeout) {
            heldPackets -= 1
            statistics.holdExpired += 1
            statistics.count(PacketVerdict.drop)
            out.releases.append(HeldRelease(token: held.token, verdict: .drop, bytes: held.bytes))
        }
    }

    /// Hands every session a reloaded rule of the same name; the SMTP policy takes over at each
    /// session's next command line, the idle timeout and alert settings at once.
    public mutating func adopt(_ rules: [InspectionRuleBinding]) {
        for i in flows.indices {
            guard let rule = rules.first(where: { $0.name == flows[i].rule.name }) else { continue }
            flows[i].rule = rule
            flows[i].smtp.adopt(rule.policy)
        }
    }
}

extension FlowEngine {
    /// `clear ip inspect statistics`: counters start from zero; what describes the present
    /// (sessions by state, packets held) is kept.
    public mutating func clearStatistics() {
        var fresh = FlowStatistics()
        fresh.established = statistics.established
        fresh.halfOpen = statistics.halfOpen
        fresh.closing = statistics.closing
        fresh.heldNow = statistics.heldNow
        fresh.bypassedNow = statistics.bypassedNow
        fresh.noteMaxima()
        statistics = fresh
    }

    /// Takes a reloaded configuration's timeouts and bounds; sessions keep their state.
    public mutating func reconfigure(_ configuration: FlowEngineConfiguration) {
        self.configuration = configuration
    }
}
