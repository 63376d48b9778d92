import Glibc
import Synchronization

/// Stops an `NFQueue.run` loop from any thread, or from a signal handler: `stop()` is an atomic
/// store and a write(2) to an eventfd the loop polls, both async-signal-safe.
public final class NFQueueStopHandle: Sendable {
    private let requested = Atomic<Bool>(false)
    let eventFD: Int32

    init() throws(NFQueueError) {
        switch system_eventfd() {
        case .success(let fd): eventFD = fd
        case .failure(let e): throw .system("eventfd", e)
        }
    }

    deinit { system_close(eventFD) }

    /// Makes `run` return after the packet it is handling (within one poll wakeup).
    public func stop() {
        requested.store(true, ordering: .releasing)
        system_eventfdSignal(eventFD)
    }

    public var isStopRequested: Bool { requested.load(ordering: .acquiring) }
}

/// SIGINT and SIGTERM as a request to stop queues (process-wide; install once).
public enum TerminationSignals {
    /// Installs handlers for SIGINT and SIGTERM (without SA_RESTART, so blocking calls return)
    /// that record the signal and stop every handle given. Call it once, after creating the
    /// queues and before running them; a second call is refused.
    public static func install(stopping handles: [NFQueueStopHandle]) throws(NFQueueError) {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else {
            preconditionFailure("TerminationSignals.install called twice")
        }
        _ = terminationTargets.storeIfNil(TerminationTargets(handles))
        _ = receivedSignal.load(ordering: .relaxed)     // initialise the global before a handler runs
        for signal in [SIGINT, SIGTERM] {
            if case .failure(let e) = system_sigaction(signal, terminationHandler) {
                throw .system("sigaction(\(signal))", e)
            }
        }
    }

    /// The signal number received, if any.
    public static var received: Int32? {
        let s = receivedSignal.load(ordering: .acquiring)
        return s == 0 ? nil : s
    }
}

private final class TerminationTargets: Sendable {
    let handles: [NFQueueStopHandle]
    init(_ handles: [NFQueueStopHandle]) { self.handles = handles }
}

private let terminationTargets = AtomicLazyReference<TerminationTargets>()
private let receivedSignal = Atomic<Int32>(0)
private let installed = Atomic<Bool>(false)

// Runs in signal context: an atomic load of an immutable list and, per handle, an atomic store
// and write(2). No allocation and no lock (the array is only read; reference counting is atomic).
private let terminationHandler: @convention(c) (Int32) -> Void = { signal in
    receivedSignal.store(signal, ordering: .releasing)
    if let targets = terminationTargets.load() {
        for handle in targets.handles { handle.stop() }
    }
}

/// SIGHUP as a request to reload, picked up by polling `take()` (process-wide; install once).
/// SIGPIPE is ignored at the same time: a control client that hangs up before its answer, or a
/// closed stdout or stderr, must show as EPIPE on that write, not kill the daemon.
public enum HangupSignal {
    /// Installs the SIGHUP handler and ignores SIGPIPE.
    public static func install() throws(NFQueueError) {
        _ = hangupReceived.load(ordering: .relaxed)  // initialise the global before a handler runs
        // SA_RESTART, as signal(3) gave it: a reload request interrupts no system call.
        if case .failure(let e) = system_sigaction(SIGHUP, hangupHandler, restart: true) { throw .system("sigaction(SIGHUP)", e) }
        if case .failure(let e) = system_ignoreSignal(SIGPIPE) { throw .system("sigaction(SIGPIPE)", e) }
    }

    /// Whether SIGHUP came since the last call.
    public static func take() -> Bool {
        hangupReceived.exchange(false, ordering: .acquiringAndReleasing)
    }
}

private let hangupReceived = Atomic<Bool>(false)

// Signal context: one atomic store.
private let hangupHandler: @convention(c) (Int32) -> Void = { _ in
    hangupReceived.store(true, ordering: .releasing)
}
