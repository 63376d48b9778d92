import FlowEngine
import Foundation
import Glibc
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

/// One NFQUEUE queue and its FlowEngine, on their own thread: flows never cross queues
/// (`--queue-balance` hashes both directions of a connection to the same queue).
final class QueueWorker: @unchecked Sendable {
    // Touched only on the worker's thread (after `start`): the queue, the engine, the output.
    private let queue: NFQueue
    private var engine: FlowEngine
    private var output = FlowOutput()
    private let resets = RawPacketSender()
    private var interfaceNames: [UInt32: String] = [:]
    private var lastTick: ContinuousClock.Instant
    private var lastPublish: ContinuousClock.Instant
    private let origin: ContinuousClock.Instant
    private var truncatedDropped: UInt64 = 0
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
        engine = FlowEngine(configuration: self.setup.engine)
        engine.traceEnabled = debug
    }

    /// The receive loop; returns when stopped. Runs on the worker's thread.
    func run() {
        do {
            try queue.run(onPacket: { info, bytes in self.packet(info, &bytes) }, onIdle: { self.idle() })
        } catch {
            snapshot.withLock { $0.failure = "queue \(number): \(error)" }
        }
        queue.close()  // unbinding drops what is still held: TCP sends it again to the next inspector
        publish()
        snapshot.withLock { $0.finished = true }
    }

    private func packet(_ info: PacketInfo, _ bytes: inout MutableSpan<UInt8>) -> PacketAction {
        if info.isTruncated {
            // Not all of it was copied to us: it cannot be judged, so it does not pass.
            truncatedDropped += 1
            return .drop
        }
        let rule = setup.rule(in: name(info.inInterface), out: name(info.outInterface))
        let verdict = engine.process(&bytes, token: UInt64(info.id.rawValue), rule: rule,
                                     checksumNotReady: info.checksumNotReady, at: moment(info.receivedAt),
                                     into: &output)
        let action: PacketAction
        switch verdict {
        case .accept: action = .accept
        case let .acceptModified(length): action = .acceptModified(length: length)
        case .drop: action = .drop
        case .reset:
            sendResets(for: bytes.span)
            action = .drop
        case .hold: action = .deferred
        }
        flushOutput()
        return action
    }

    private func idle() {
        let now = ContinuousClock.now
        let tracing = debug.load(ordering: .relaxed)
        if engine.traceEnabled != tracing { engine.traceEnabled = tracing }
        if now - lastTick >= .milliseconds(500) {
            lastTick = now
            engine.tick(at: moment(now), into: &output)
            flushOutput()
        }
        if setupBox.generation.load(ordering: .acquiring) != setupGeneration {
            // A reload: new rules for new sessions; open ones keep their state and take the
            // new policy at their next command line.
            setupGeneration = setupBox.generation.load(ordering: .acquiring)
            setup = setupBox.setup
            engine.reconfigure(setup.engine)
            engine.adopt(setup.rules)
        }
        let clears = requests.clear.load(ordering: .acquiring)
        if clears != clearsServed {
            clearsServed = clears
            engine.clearStatistics()
            publish()
        }
        let wanted = requests.sessions.load(ordering: .acquiring)
        if wanted != sessionsServed {
            sessionsServed = wanted
            let sessions = engine.sessions()
            let at = moment(now)
            snapshot.withLock {
                $0.sessions = sessions
                $0.now = at
                $0.sessionsServed = wanted
            }
        }
        if now - lastPublish >= .milliseconds(200) {
            lastPublish = now
            publish()
        }
    }

    /// Gives held packets their verdicts and prints what the engine reported.
    private func flushOutput() {
        for release in output.releases {
            let id = PacketID(rawValue: UInt32(truncatingIfNeeded: release.token))
            switch release.verdict {
            case .accept: queue.verdict(id, .accept, replacing: nil, mark: nil)
            case let .acceptModified(length): queue.verdict(id, .accept, replacing: release.bytes.span.extracting(0..<length), mark: nil)
            case .drop, .hold: queue.verdict(id, .drop, replacing: nil, mark: nil)
            case .reset:
                sendResets(for: release.bytes.span)
                queue.verdict(id, .drop, replacing: nil, mark: nil)
            }
        }
        for reset in output.resets { resets.send(ResetPackets.forRequest(reset).span) }
        for event in output.events { log.report(event) }
        for line in output.trace { log.trace(line.record) }
        output.removeAll()
    }

    /// Resets both ends of a torn-down session (ResetPackets).
    private func sendResets(for bytes: Span<UInt8>) {
        for rst in ResetPackets.forTornDownSession(bytes) { resets.send(rst.span) }
    }

    private func publish() {
        let statistics = engine.statistics
        let queueCounters = queue.counters
        let sent = resets.sent
        let truncated = truncatedDropped
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

    private func name(_ index: InterfaceIndex?) -> String? {
        guard let index else { return nil }
        if let known = interfaceNames[index.rawValue] { return known }
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index.rawValue, &buffer) != nil else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        interfaceNames[index.rawValue] = name
        return name
    }
}
