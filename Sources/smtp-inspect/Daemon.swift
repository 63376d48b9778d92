import ArgumentParser
import FlowEngine
import Foundation
import IOSConfig
import NFQueue
import Synchronization

/// The running daemon as the control socket and SIGHUP see it: its workers, the setup they
/// enforce, and the commands an operator may give it (`show`, `debug`, `clear`, `reload`).
final class Daemon: Sendable {
    let workers: [QueueWorker]
    let setupBox: SetupBox
    let requests: WorkerRequests
    let log: AlertLog
    let origin: ContinuousClock.Instant
    /// How to rebuild the setup on reload: the file, the interface map, the flags.
    let configPath: String?
    let interfaces: [InterfaceMapping]
    let allowSTARTTLS: Bool
    let maskBanner: Bool
    private let statisticsClearedAt = Mutex<ContinuousClock.Instant?>(nil)
    /// The log's counters when statistics were last cleared (`show` prints the difference).
    private let logCountersCleared = Mutex(AlertLog.Counters())
    private let controlClients = Atomic<Int>(0)

    init(workers: [QueueWorker], setupBox: SetupBox, requests: WorkerRequests, log: AlertLog,
         origin: ContinuousClock.Instant, configPath: String?, interfaces: [InterfaceMapping],
         allowSTARTTLS: Bool, maskBanner: Bool) {
        self.workers = workers
        self.setupBox = setupBox
        self.requests = requests
        self.log = log
        self.origin = origin
        self.configPath = configPath
        self.interfaces = interfaces
        self.allowSTARTTLS = allowSTARTTLS
        self.maskBanner = maskBanner
    }

    /// Runs one control command and returns the answer. An answer starting with `%` is an error.
    func execute(_ line: String) -> String {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { return "% Incomplete command.\n" }
        do {
            var reader = IOSWords(words, command: "", lead: "")
            let verb = try reader.next(["show", "debug", "undebug", "no", "clear", "reload"])
            switch verb {
            case "show":
                return try show(ShowRequest(words: Array(words.dropFirst())))
            case "debug":
                try reader.next(["ip"]); try reader.next(["inspect"]); try reader.next(["smtp"]); try reader.end()
                setDebug(true)
                return "INSPECT SMTP Inspection debugging is on\n"
            case "undebug", "no":
                if verb == "no" { try reader.next(["debug"]) }
                let what = try reader.next(["all", "ip"], listed: ["all", "ip inspect smtp"])
                if what == "ip" { try reader.next(["inspect"]); try reader.next(["smtp"]) }
                try reader.end()
                setDebug(false)
                return what == "all" ? "All possible debugging has been turned off\n"
                    : "INSPECT SMTP Inspection debugging is off\n"
            case "clear":
                try reader.next(["ip"]); try reader.next(["inspect"]); try reader.next(["statistics"]); try reader.end()
                clearStatistics()
                return ""
            default:
                try reader.end()
                return reload()
            }
        } catch let error as ValidationError {
            return error.message + "\n"
        } catch {
            return "% \(first): \(error)\n"
        }
    }

    private func show(_ request: ShowRequest) throws -> String {
        let setup = setupBox.setup
        switch request.topic {
        case .all:
            let sessions = self.sessionsText(detail: false)
            guard let config = setup.configuration else { return Self.builtInConfig(setup) + Self.starttlsLine(setup) + sessions }
            return ShowIPInspect.all(config, configNotes: Self.starttlsLine(setup), sessions: sessions)
        case .config:
            guard let config = setup.configuration else { return Self.builtInConfig(setup) + Self.starttlsLine(setup) }
            return ShowIPInspect.config(config) + Self.starttlsLine(setup)
        case .interfaces:
            guard let config = setup.configuration else { return "Interface Configuration\n (all queued traffic)\n" }
            return ShowIPInspect.interfaces(config)
        case .sessions:
            return sessionsText(detail: request.detail)
        case .statistics:
            let snapshots = workers.map { $0.snapshot.withLock { $0 } }
            var total = FlowStatistics()
            for s in snapshots { total += s.statistics }
            let now = snapshots.map(\.now).max() ?? Moment(nanoseconds: 0)
            let since = statisticsClearedAt.withLock { $0 }.map(moment) ?? Moment(nanoseconds: 0)
            return ShowIPInspect.statistics(total, now: now, since: since, interfaces: setup.inspectedInterfaces)
                + Self.logStatistics(logCounters)
        }
    }

    /// The sessions of every queue, asked of the workers and rendered IOS-style.
    private func sessionsText(detail: Bool) -> String {
        let wanted = requests.sessions.add(1, ordering: .releasing).newValue
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline,
              !workers.allSatisfy({ $0.snapshot.withLock { $0.sessionsServed >= wanted || $0.finished } }) {
            Thread.sleep(forTimeInterval: 0.005)
        }
        let snapshots = workers.map { $0.snapshot.withLock { $0 } }
        let now = snapshots.map(\.now).max() ?? Moment(nanoseconds: 0)
        let setup = setupBox.setup
        return ShowIPInspect.sessions(snapshots.flatMap(\.sessions).sorted { $0.created < $1.created },
                                    now: now, detail: detail, alias: setup.alias)
    }

    /// The log's lost lines since statistics were last cleared.
    var logCounters: AlertLog.Counters {
        let now = log.counters
        return now - logCountersCleared.withLock { $0 }
    }

    /// The line `show ip inspect statistics` adds for the log.
    static func logStatistics(_ c: AlertLog.Counters) -> String {
        "Log lines: suppressed \(c.suppressed) (rate limit), dropped \(c.dropped) (log queue full), "
            + "failed \(c.failed) (write errors)\n"
    }

    func setDebug(_ on: Bool) {
        for worker in workers { worker.debug.store(on, ordering: .relaxed) }
    }

    func clearStatistics() {
        statisticsClearedAt.withLock { $0 = ContinuousClock.now }
        let now = log.counters
        logCountersCleared.withLock { $0 = now }
        requests.clear.add(1, ordering: .releasing)
    }

    /// Re-reads the configuration: on success new sessions get the new rules and open ones take
    /// them at their next command line; on any error the running configuration stays.
    func reload() -> String {
        guard let configPath else {
            return "% reload: smtp-inspect runs with its built-in policy (no --config): nothing to reload\n"
        }
        let text: String
        switch ConfigLoading.readText(configPath) {
        case .success(let t):
            text = t
        case .failure(let failure):
            let message = "% reload of \(configPath) failed: \(failure.message); the running configuration stays\n"
            log.note(String(message.dropFirst(2).dropLast()))
            return message
        }
        switch IOSConfigParser.parse(text, fileName: configPath) {
        case let .failure(failure):
            let lines = failure.errors.map(\.description).joined(separator: "\n")
            let message = "% reload of \(configPath) failed, the running configuration stays:\n\(lines)\n"
            log.note(String(message.dropFirst(2).dropLast()))
            return message
        case let .success(parsed):
            do {
                let setup = try InspectionSetup.from(parsed.configuration, interfaces: interfaces,
                                                     allowSTARTTLS: allowSTARTTLS, maskBanner: maskBanner)
                setupBox.replace(with: setup)
                log.note("reloaded \(configPath): \(setup.rulesSummary)")
                return "reloaded \(configPath): \(setup.rulesSummary)\n"
            } catch {
                let message = "% reload of \(configPath) failed: \(error); the running configuration stays\n"
                log.note(String(message.dropFirst(2).dropLast()))
                return message
            }
        }
    }

    private func moment(_ instant: ContinuousClock.Instant) -> Moment {
        Moment(instant, since: origin)
    }

    /// What the daemon does with STARTTLS (`--allow-starttls`), after the configuration's lines:
    /// IOS has no such line, as it has no such choice.
    static func starttlsLine(_ setup: InspectionSetup) -> String {
        setup.engine.bypassTLS
            ? "SMTP STARTTLS is allowed; TLS sessions are checked and bypassed (they leave the queue)\n"
            : "SMTP STARTTLS is masked (as IOS); --allow-starttls lets it through\n"
    }

    /// `show ip inspect config` for the built-in policy, in IOS's words.
    static func builtInConfig(_ setup: InspectionSetup) -> String {
        let rule = setup.defaultRule
        return """
            Session audit trail is \(rule.auditTrail ? "enabled" : "disabled")
            Session alert is \(rule.alert ? "enabled" : "disabled")
            Inspection Rule Configuration
             Inspection name \(rule.name)
                \(rule.policy.kind.rawValue) max-data \(rule.policy.maxData) alert is \(rule.alert ? "on" : "off") \
            audit-trail is \(rule.auditTrail ? "on" : "off") timeout \(Int(rule.idleTimeout))

            """
    }

    /// Serves the control socket until `stop` says so: each connection on a thread of its own
    /// (at most `ControlSocket.maxClients` at once), its request read within one deadline,
    /// answered, closed. A slow or silent client holds only its own thread, for a second.
    func serveControl(_ listener: UnixListener, stop: @Sendable () -> Bool) {
        while !stop() {
            guard let connection = listener.accept(waitingMilliseconds: 200) else { continue }
            guard controlClients.add(1, ordering: .relaxed).newValue <= ControlSocket.maxClients else {
                controlClients.subtract(1, ordering: .relaxed)
                ControlSocket.answer(connection, "% busy: \(ControlSocket.maxClients) control requests are being "
                    + "served; try again\n", within: .milliseconds(100))
                continue
            }
            let thread = Thread { [self] in
                serve(connection)
                controlClients.subtract(1, ordering: .relaxed)
            }
            thread.name = "control client"
            thread.start()
        }
    }

    private func serve(_ connection: UnixConnection) {
        let read = connection.readLine(maxBytes: ControlSocket.maxRequest, deadline: .now + ControlSocket.requestTimeout)
        let (line, refusal) = ControlSocket.refusal(read)
        let answer = line.map { execute($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? refusal ?? ""
        ControlSocket.answer(connection, answer)
    }
}
