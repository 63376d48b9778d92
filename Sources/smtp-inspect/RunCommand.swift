import ArgumentParser
import FlowEngine
import Foundation
import IOSConfig
import NFQueue
import SMTPInspection
import Synchronization

/// `smtp-inspect run`: the daemon. Binds the NFQUEUE queues, inspects every queued packet,
/// prints live counters on stdout and alerts on stderr, and stops cleanly on SIGINT/SIGTERM.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Inspect the SMTP sessions iptables sends to NFQUEUE.",
        discussion: """
            Without --config, one esmtp inspection (15 verbs, parameter checks, max-data 20000000) \
            applies to everything queued. With --config, the smtp/esmtp rules of the IOS \
            configuration apply, chosen by the interface a session comes in on (--interface maps \
            IOS names to Linux ones). Needs CAP_NET_ADMIN (NFQUEUE) and CAP_NET_RAW (resets).
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var datapath: DatapathOptions

    @Option(help: "Seconds between counter lines on stdout (at most 86400); 0 turns them off.")
    var statsInterval: Double = 1

    @Option(help: "Print the 'debug ip inspect smtp' trace on stderr (the only value: smtp).")
    var debug: String?

    @Flag(help: "When the queue is full, let packets through uninspected instead of dropping them.")
    var failOpen = false

    @Flag(inversion: .prefixedNo,
          help: "Take GSO super-packets whole (NFQA_CFG_F_GSO) instead of having the kernel cut them into segments first.")
    var gso = true

    @Option(help: "Packets the kernel may hold for us per queue.")
    var queueMaxLength: UInt32 = 4096

    @Option(help: "Control socket for show/debug/clear/reload (owner-only permissions; the systemd unit's path by default).")
    var control: String = ControlSocket.defaultPath

    @Flag(help: "Run without a control socket.")
    var noControl = false

    /// The longest --stats-interval: a day (a counters line a day is as good as none).
    static let maxStatsInterval = 86_400.0

    func validate() throws {
        if let debug, debug != "smtp" { throw ValidationError("--debug \(debug): the only trace is 'smtp'") }
        guard statsInterval.isFinite, statsInterval >= 0, statsInterval <= Self.maxStatsInterval else {
            throw ValidationError("--stats-interval \(statsInterval): give seconds from 0 (no counters line) "
                + "to \(Int(Self.maxStatsInterval))")
        }
        if queueMaxLength == 0 { throw ValidationError("--queue-max-length must be at least 1") }
        if !noControl && control.utf8.count >= 108 {
            throw ValidationError("--control \(control): a socket path must be shorter than 108 bytes")
        }
    }

    func run() throws {
        let setup = try policyOptions.makeSetup(interfaces: datapath.interfaceOptions)
        let log = AlertLog(timestamps: setup.timestamps)
        // Whatever happens from here on, what was handed to the log is written before exit (for
        // at most 2 s: a stderr nobody reads must not keep the daemon from stopping).
        defer { log.finish(timeout: 2) }
        let numbers: [UInt16] = switch datapath.queueTarget {
        case let .number(n): [n]
        case let .balance(first, last): Array(first...last)
        }
        // The control socket first: a bad --control is refused before any queue is bound.
        var listener: ControlSocket.Listener?
        if !noControl {
            do { listener = try ControlSocket.listen(at: control) } catch {
                log.note("\(error)")
                throw ExitCode(1)
            }
        }
        let origin = ContinuousClock.now
        let setupBox = SetupBox(setup)
        let requests = WorkerRequests()
        var workers: [QueueWorker] = []
        for number in numbers {
            var configuration = NFQueueConfiguration(queue: number, maxLength: queueMaxLength, log: { log.note("nfqueue: " + $0) })
            configuration.failOpen = failOpen
            configuration.gso = gso
            do {
                let queue = try NFQueue(configuration)
                workers.append(QueueWorker(queue: queue, setup: setupBox, requests: requests, log: log,
                                           debug: debug == "smtp", origin: origin))
            } catch {
                log.note("cannot bind NFQUEUE queue \(number): \(error)")
                listener?.close()
                throw ExitCode(1)
            }
        }
        let daemon = Daemon(workers: workers, setupBox: setupBox, requests: requests, log: log, origin: origin,
                            configPath: policyOptions.config, interfaces: setup.interfaces,
                            allowSTARTTLS: policyOptions.allowStarttls, maskBanner: policyOptions.maskBanner)
        try TerminationSignals.install(stopping: workers.map(\.stopHandle))
        // SIGHUP reloads; SIGPIPE is ignored: a control client that hangs up before its answer,
        // or a closed stdout or stderr, is an EPIPE that every writer here counts.
        try HangupSignal.install()
        log.note("inspecting queue\(numbers.count > 1 ? "s" : "") \(numbers.map(String.init).joined(separator: ",")) "
            + "with \(setup.rulesSummary)")
        for worker in workers {
            let thread = Thread { worker.run() }
            thread.name = "queue \(worker.number)"
            thread.start()
        }
        let controlStopped = Atomic<Bool>(false)
        if let listener {
            let control = Thread {
                daemon.serveControl(listener.socket, stop: { TerminationSignals.received != nil })
                controlStopped.store(true, ordering: .releasing)
            }
            control.name = "control"
            control.start()
        }
        let printer = CounterLine(interval: statsInterval)
        while !workers.allSatisfy({ $0.snapshot.withLock { $0.finished } }) {
            printer.tick(workers.map { $0.snapshot.withLock { $0 } }, log: daemon.logCounters)
            if HangupSignal.take() { _ = daemon.reload() }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if let listener {
            // The control thread sees the signal within its 200 ms accept; then nothing waits
            // on the socket and it can be closed.
            let deadline = ContinuousClock.now + .seconds(1)
            while !controlStopped.load(ordering: .acquiring) && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            listener.close()
        }
        printer.finish(workers.map { $0.snapshot.withLock { $0 } }, log: daemon.logCounters)
        let failures = workers.compactMap { $0.snapshot.withLock { $0.failure } }
        for failure in failures { log.note(failure) }
        if !failures.isEmpty { throw ExitCode(1) }
        log.note("stopped")
    }
}

/// The live counters on stdout: one line per interval, redrawn in place on a terminal. Written
/// by a thread of its own, as the alerts are: a stdout nobody reads never stops the daemon.
final class CounterLine {
    let interval: Double
    let terminal = StandardStream.output.isTerminal
    private var next = ContinuousClock.now
    private let writer = LogWriter<String>(capacity: 16, whenFull: .drop, render: { Array($0.joined().utf8) },
                                           sink: LogWriter<String>.sink(.output))

    init(interval: Double) {
        self.interval = interval
        next = ContinuousClock.now + .milliseconds(Int(interval * 1000))
    }

    func tick(_ snapshots: [WorkerSnapshot], log: AlertLog.Counters) {
        guard interval > 0, ContinuousClock.now >= next else { return }
        next = ContinuousClock.now + .milliseconds(Int(interval * 1000))
        emit(Self.line(snapshots, log: log), final: false)
    }

    func finish(_ snapshots: [WorkerSnapshot], log: AlertLog.Counters) {
        emit(Self.line(snapshots, log: log), final: true)
        writer.drain(timeout: 1)
    }

    private func emit(_ line: String, final: Bool) {
        writer.submit(terminal ? "\r\u{1B}[2K" + line + (final ? "\n" : "") : line + "\n")
    }

    /// Each word before a number appears once in the line (tests read a figure by its word):
    /// the log's lost lines are `lost`, not a second `dropped`.
    static func line(_ snapshots: [WorkerSnapshot], log: AlertLog.Counters) -> String {
        var s = FlowStatistics()
        var resets: UInt64 = 0
        for snapshot in snapshots {
            s += snapshot.statistics
            resets += snapshot.resetsSent
        }
        return "packets \(s.packets) accepted \(s.accepted) modified \(s.modified) dropped \(s.dropped) "
            + "reset \(s.resets) held \(s.heldNow) | sessions \(s.established) open \(s.halfOpen) half-open "
            + "\(s.closing) closing \(s.bypassed) bypassed | commands \(s.smtp.commands) masked \(s.smtp.commandsMasked) "
            + "replies \(s.smtp.replies) messages \(s.smtp.messages) | bytes \(s.bytes) | alerts \(s.smtpEvents) "
            + "resets sent \(resets) | log suppressed \(log.suppressed) lost \(log.dropped + log.failed)"
    }
}
