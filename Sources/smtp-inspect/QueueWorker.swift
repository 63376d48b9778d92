import FlowEngine
import Foundation
import NFQueue
import PacketWire
import SMTPInspection
import Synchronization

/// What a worker publishes for the counters line and the control socket.
struct WorkerSnapshot: Sendable {
    var statistics = FlowStatistics()
    /// The sessions, published when asked (`sessionsServed` catches up with the request).
    var sessions: [SessionSnapshot] = []
    var sessionsServed = 0
    var clearsServed = 0
    /// The worker's clock, so `show` ages are measured against the same time as the sessions.
    var now = Moment(nanoseconds: 0)
    var queue = NFQueueCounters()
    var resetsSent: UInt64 = 0
    var truncatedDropped: UInt64 = 0
    var finished = false
    var failure: String?
}

/// The setup in force, swapped whole by a reload; workers pick it up at their next idle.
final class SetupBox: Sendable {
    private let current: Mutex<InspectionSetup>
    let generation = Atomic<Int>(0)

    init(_ setup: InspectionSetup) { current = Mutex(setup) }

    var setup: InspectionSetup { current.withLock { $0 } }

    func replace(with setup: InspectionSetup) {
        current.withLock { $0 = setup }
        generation.add(1, ordering: .releasing)
    }
}

/// Requests from the control socket, as counters the workers catch up with.
final class WorkerRequests: Sendable {
    let sessions = Atomic<Int>(0)
    let clear = Atomic<Int>(0)
}

/// What a packet touches on the worker's thread: the engine, its output, the rule cache. A local
/// of `QueueWorker.run` lent to the handlers, not stored properties of the class: every access
/// to a class's `var` is checked for exclusivity at run time (swift_beginAccess), which cost
/// about ten checks per packet, and reading `setup` to look a rule up copied the whole setup.
private struct PacketPath {
    var engine: FlowEngine
    var output = FlowOutput()
    /// The rule for a new session by its (in, out) interface indexes: a packet's interfaces
    /// are looked up by name only the first time they are seen (until a reload clears it).
    var rules: [UInt64: InspectionRuleBinding] = [:]
    var interfaceNames: [UInt32: String] = [:]
    var truncatedDropped: UInt64 = 0
    /// The last receive time converted to the engine's clock: packets read back to back share
    /// one (NFQueue.run), and the conversion is Int128 arithmetic.
    var lastReceived: ContinuousClock.Instant?
    var lastMoment = Moment(nanoseconds: 0)
}

/// One NFQUEUE queue and its FlowEngine, on their own thread: flows never cross queues
/// (`--queue-balance` hashes both directions of a connection to the same queue).
final class QueueWorker: @unchecked Sendable {
    // Touched only on the worker's thread (after `start`): the queue, the setup, the timers
    // (and, during `run`, the PacketPath).
    private let queue: NFQueue
    private let resets = RawPacketSender()
    private var lastTick: ContinuousClock.Instant
    private var lastPublish: ContinuousClock.Instant
    private let origin: ContinuousClock.Instant
    private var setup: InspectionSetup
    private var setupGeneration = 0
    private var sessionsServed = 0
    private var clearsServed = 0

    // Shared with other threads.
    let number: UInt16
    let setupBox: SetupBox
    let requests: WorkerRequests
    let log: AlertLog
    let debug: Atomic<Bool>
    let snapshot = Mutex(WorkerSnapshot())
    var stopHandle: NFQueueStopHandle { queue.stopHandle }

    init(queue: NFQueue, setup: SetupBox, requests: WorkerRequests, log: AlertLog, debug: Bool,
         origin: ContinuousClock.Instant) {
        self.queue = queue
        self.number = queue.configuration.queue
        self.setupBox = setup
        self.setup = setup.setup
        self.requests = requests
        self.log = log
        self.debug = Atomic(debug)
        self.origin = origin
        self.lastTick = origin
        self.lastPublish = origin
    }

    /// The receive loop; returns when stopped. Runs on the worker's thread.
    func run() {
        var path = PacketPath(engine: FlowEngine(configuration: setup.engine))
        path.engine.traceEnabled = debug.load(ordering: .relaxed)
        do {
            // Non-escaping closures: `path` is lent to them by address, with no run-time checks.
            try queue.run(onPacket: { info, bytes in self.packet(info, &bytes, &path) },
                          onIdle: { self.idle(&path) })
        } catch {
            snapshot.withLock { $0.failure = "queue \(number): \(error)" }
        }
        queue.close()  // unbinding drops what is still held: TCP sends it again to the next inspector
        publish(path)
        snapshot.withLock { $0.finished = true }
    }

    private func packet(_ info: PacketInfo, _ bytes: inout MutableSpan<UInt8>, _ path: inout PacketPath) -> PacketAction {
        if info.isTruncated {
            // Not all of it was copied to us: it cannot be judged, so it does not pass.
            path.truncatedDropped += 1
            return .drop
        }
        let rule = self.rule(in: info.inInterface, out: info.outInterface, ipv6: bytes.count > 0 && bytes[0] >> 4 == 6, &path)
        if path.lastReceived != info.receivedAt {
            path.lastReceived = info.receivedAt
            path.lastMoment = moment(info.receivedAt)
        }
        // A packet carrying PacketMark.bypass (queued again by rules without the bypass) is not
        // passed on its mark: the engine passes it as a packet of a session that left the queue,
        // unless it is a new SYN (a mark restored from the connection must not let one by).
        let checksum: ChecksumStatus = info.checksumNotReady ? .notReady : info.checksumNotVerified ? .unverified : .verified
        // Our own resets carry the address of the peer they speak for, not its interface: they
        // are not bound to one (and they change nothing: the session is over).
        let own = info.mark?.contains(.ownPacket) == true
        let meta = PacketMetadata(token: UInt64(info.id.rawValue), rule: rule, checksum: checksum,
                                  interfaces: own ? nil : PacketInterfaces(input: info.inInterface?.rawValue,
                                                                           output: info.outInterface?.rawValue))
        let verdict = path.engine.process(&bytes, meta, at: path.lastMoment, into: &path.output)
        var sink = QueueSink(queue: queue, resets: resets, current: meta.token, currentMark: info.mark)
        sink.apply(verdict, to: bytes.span, token: meta.token)
        if !path.output.isEmpty { flushOutput(&path.output, into: &sink) }
        return sink.action
    }

    private func idle(_ path: inout PacketPath) {
        let now = ContinuousClock.now
        let tracing = debug.load(ordering: .relaxed)
        if path.engine.traceEnabled != tracing { path.engine.traceEnabled = tracing }
        if now - lastTick >= .milliseconds(500) {
            lastTick = now
            path.engine.tick(at: moment(now), into: &path.output)
            var sink = QueueSink(queue: queue, resets: resets, current: nil)
            flushOutput(&path.output, into: &sink)
        }
        if setupBox.generation.load(ordering: .acquiring) != setupGeneration {
            // A reload: new rules for new sessions; open ones keep their state and take the
            // new policy at their next command line.
            setupGeneration = setupBox.generation.load(ordering: .acquiring)
            setup = setupBox.setup
            path.rules = [:]
            path.engine.reconfigure(setup.engine)
            path.engine.adopt(setup.rules)
        }
        let clears = requests.clear.load(ordering: .acquiring)
        if clears != clearsServed {
            clearsServed = clears
            path.engine.clearStatistics()
            publish(path)
        }
        let wanted = requests.sessions.load(ordering: .acquiring)
        if wanted != sessionsServed {
            sessionsServed = wanted
            let sessions = path.engine.sessions()
            let at = moment(now)
            snapshot.withLock {
                $0.sessions = sessions
                $0.now = at
                $0.sessionsServed = wanted
            }
        }
        if now - lastPublish >= .milliseconds(200) {
            lastPublish = now
            publish(path)
        }
    }

    /// Gives held packets their verdicts, sends the RSTs asked for, and prints what the engine
    /// reported.
    private func flushOutput(_ output: inout FlowOutput, into sink: inout QueueSink) {
        sink.applyReleasesAndResets(of: output)
        for event in output.events { log.report(event) }
        for line in output.trace { log.trace(line.record) }
        output.removeAll()
    }

    private func publish(_ path: borrowing PacketPath) {
        let statistics = path.engine.statistics
        let queueCounters = queue.counters
        let sent = resets.sent
        let truncated = path.truncatedDropped
        let cleared = clearsServed
        let at = moment(ContinuousClock.now)
        snapshot.withLock {
            $0.statistics = statistics
            $0.queue = queueCounters
            $0.resetsSent = sent
            $0.truncatedDropped = truncated
            $0.clearsServed = cleared
            $0.now = at
        }
    }

    private func moment(_ instant: ContinuousClock.Instant) -> Moment {
        Moment(instant, since: origin)
    }

    /// The rule a session starting with this packet gets (InspectionSetup.rule), by interface.
    private func rule(in inIndex: InterfaceIndex?, out outIndex: InterfaceIndex?, ipv6: Bool,
                      _ path: inout PacketPath) -> InspectionRuleBinding {
        // 0: none; interface indexes are below 2^31, so the top bit can tell the families apart.
        let key = UInt64(inIndex?.rawValue ?? 0) << 32 | UInt64(outIndex?.rawValue ?? 0) | (ipv6 ? 1 << 63 : 0)
        if let known = path.rules[key] { return known }
        let inName = name(inIndex, &path), outName = name(outIndex, &path)
        let rule = setup.rule(in: inName, out: outName, ipv6: ipv6)
        // An index without a name (gone already) is looked up again next time, as before.
        if (inIndex == nil || inName != nil) && (outIndex == nil || outName != nil) { path.rules[key] = rule }
        return rule
    }

    private func name(_ index: InterfaceIndex?, _ path: inout PacketPath) -> String? {
        guard let index else { return nil }
        if let known = path.interfaceNames[index.rawValue] { return known }
        guard let name = index.name else { return nil }
        path.interfaceNames[index.rawValue] = name
        return name
    }
}
