import ArgumentParser
import FlowEngine
import Foundation
import Glibc
import IOSConfig
import NFQueue
import SMTPInspection
import Synchronization

/// Set by the SIGHUP handler; the main loop reloads the configuration.
let hangupReceived = Atomic<Bool>(false)

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

    @Option(help: "Seconds between counter lines on stdout; 0 turns them off.")
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

    @Option(help: "Control socket for show/debug/clear/reload (owner-only permissions).")
    var control: String = "/run/smtp-inspect.sock"

    @Flag(help: "Run without a control socket.")
    var noControl = false

    func validate() throws {
        if let debug, debug != "smtp" { throw ValidationError("--debug \(debug): the only trace is 'smtp'") }
        if statsInterval < 0 { throw ValidationError("--stats-interval must not be negative") }
    }

    func run() throws {
        let setup = try policyOptions.makeSetup(interfaces: datapath.interfaceOptions)
        let log = AlertLog(timestamps: setup.timestamps)
        let numbers: [UInt16] = switch datapath.queueTarget {
        case let .number(n): [n]
        case let .balance(first, last): Array(first...last)
        }
        let origin = ContinuousClock.now
        let setupBox = SetupBox(setup)
        let requests = WorkerRequests()
        var workers: [QueueWorker] = []
        for number in numbers {
            var configuration = NFQueueConfiguration(queue: number, maxLength: queueMaxLength)
            configuration.failOpen = failOpen
            configuration.gso = gso
            do {
                let queue = try NFQueue(configuration)
                workers.append(QueueWorker(queue: queue, setup: setupBox, requests: requests, log: log,
                                           debug: debug == "smtp", origin: origin))
            } catch {
                log.note("cannot bind NFQUEUE queue \(number): \(error)")
                throw ExitCode(1)
            }
        }
        let daemon = Daemon(workers: workers, setupBox: setupBox, requests: requests, log: log, origin: origin,
                            configPath: policyOptions.config, interfaces: setup.interfaces,
                            allowSTARTTLS: policyOptions.allowStarttls, maskBanner: policyOptions.maskBanner)
        var listener: Int32 = -1
        if !noControl {
            do { listener = try ControlSocket.listen(at: control) } catch {
                log.note("\(error)")
                throw ExitCode(1)
            }
        }
        try TerminationSignals.install(stopping: workers.map(\.stopHandle))
        // A control client that hangs up before its answer, or a closed stdout, must not kill
        // the daemon: writes then fail with EPIPE, which every writer here ignores.
        signal(SIGPIPE, SIG_IGN)
        _ = hangupReceived.load(ordering: .relaxed)  // initialise the global before the handler may run
        signal(SIGHUP) { _ in hangupReceived.store(true, ordering: .relaxed) }
        log.note("inspecting queue\(numbers.count > 1 ? "s" : "") \(numbers.map(String.init).joined(separator: ",")) "
            + "with \(setup.rulesSummary)")
        for worker in workers {
            let thread = Thread { worker.run() }
            thread.name = "queue \(worker.number)"
            thread.start()
        }
        let control = listener >= 0 ? Thread { [listener] in
            daemon.serveControl(listener: listener, stop: { TerminationSignals.received != nil })
        } : nil
        control?.name = "control"
        control?.start()
        let printer = CounterLine(interval: statsInterval)
        while !workers.allSatisfy({ $0.snapshot.withLock { $0.finished } }) {
            printer.tick(workers.map { $0.snapshot.withLock { $0 } })
            if hangupReceived.exchange(false, ordering: .relaxed) { _ = daemon.reload() }
            usleep(50_000)
        }
        if listener >= 0 {
            usleep(300_000)  // the control thread notices the signal within its 200 ms poll
            close(listener)
            unlink(self.control)
        }
        printer.finish(workers.map { $0.snapshot.withLock { $0 } })
        let failures = workers.compactMap { $0.snapshot.withLock { $0.failure } }
        for failure in failures { log.note(failure) }
        if !failures.isEmpty { throw ExitCode(1) }
        log.note("stopped")
    }
}

/// The live counters on stdout: one line per interval, redrawn in place on a terminal.
final class CounterLine {
    let interval: Double
    let terminal = isatty(STDOUT_FILENO) == 1
    private var next = ContinuousClock.now

    init(interval: Double) {
        self.interval = interval
        next = ContinuousClock.now + .milliseconds(Int(interval * 1000))
    }

    func tick(_ snapshots: [WorkerSnapshot]) {
        guard interval > 0, ContinuousClock.now >= next else { return }
        next = ContinuousClock.now + .milliseconds(Int(interval * 1000))
        emit(Self.line(snapshots), final: false)
    }

    func finish(_ snapshots: [WorkerSnapshot]) {
        emit(Self.line(snapshots), final: true)
    }

    private func emit(_ line: String, final: Bool) {
        let text = terminal ? "\r\u{1B}[2K" + line + (final ? "\n" : "") : line + "\n"
        StandardStreams.out(text)
    }

    static func line(_ snapshots: [WorkerSnapshot]) -> String {
        var s = FlowStatistics()
        var resets: UInt64 = 0
        for snapshot in snapshots {
            s += snapshot.statistics
            resets += snapshot.resetsSent
        }
        return "packets \(s.packets) accepted \(s.accepted) modified \(s.modified) dropped \(s.dropped) "
            + "reset \(s.resets) held \(s.heldNow) | sessions \(s.established) open \(s.halfOpen) half-open "
            + "\(s.closing) closing | commands \(s.smtp.commands) masked \(s.smtp.commandsMasked) "
            + "replies \(s.smtp.replies) messages \(s.smtp.messages) | bytes \(s.bytes) | alerts \(s.smtpEvents) "
            + "resets sent \(resets)"
    }
}
