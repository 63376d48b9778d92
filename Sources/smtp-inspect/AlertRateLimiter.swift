/// The global rate limit on log lines, as IOS's `logging rate-limit` with a summary: in each
/// window (1 s), at most `perKind` lines of one kind (one `%FW-n-MNEMONIC`) and `total` lines of
/// all kinds are printed; the rest are suppressed and counted, and when the window ends one
/// summary per suppressed kind says how many (`AlertLog.suppressionLine`).
///
/// A window opens with the first line after the previous one closed, and closes when a line
/// comes at or after its end, or when `expire` is called then (the daemon's log writer does,
/// so a summary is not held back until the next alert). Time is a parameter (nanoseconds on
/// any clock that does not go backwards: monotonic live, the capture's in replay), so replay
/// output stays deterministic.
struct AlertRateLimiter: Sendable {
    struct Limits: Sendable, Equatable {
        var window: UInt64 = 1_000_000_000
        var perKind = 20
        var total = 100
    }

    /// Lines of one kind suppressed in one window.
    struct Suppression: Sendable, Equatable {
        var kind: String
        var count: Int
        /// When the window ended (the limiter's clock).
        var windowEnd: UInt64
        /// Its length, for the message.
        var window: UInt64
    }

    let limits: Limits
    /// Start of the open window; nil when none is open.
    private var windowStart: UInt64?
    private var admittedInWindow = 0
    /// Per kind in the open window: lines admitted and suppressed, in order of first use (a
    /// few dozen kinds at most: a linear search beats hashing, and the order is stable).
    private var kinds: [(kind: String, admitted: Int, suppressed: Int)] = []
    /// Every line suppressed since start (for the counters).
    private(set) var suppressedTotal: UInt64 = 0

    init(_ limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether a line of `kind` at `now` may be printed, and the summaries of a window that
    /// ended before it (to be printed first).
    mutating func admit(_ kind: String, at now: UInt64) -> (admitted: Bool, ended: [Suppression]) {
        let ended = expire(at: now)
        if windowStart == nil { windowStart = now }
        let index: Int
        if let known = kinds.firstIndex(where: { $0.kind == kind }) {
            index = known
        } else {
            kinds.append((kind, 0, 0))
            index = kinds.count - 1
        }
        if kinds[index].admitted < limits.perKind && admittedInWindow < limits.total {
            kinds[index].admitted += 1
            admittedInWindow += 1
            return (true, ended)
        }
        kinds[index].suppressed += 1
        suppressedTotal += 1
        return (false, ended)
    }

    /// Closes the open window if `now` is at or past its end: the summaries of what it suppressed.
    mutating func expire(at now: UInt64) -> [Suppression] {
        guard let start = windowStart, now >= start &+ limits.window || now < start && start - now > limits.window
        else { return [] }
        return close()
    }

    /// Closes the open window whatever the time (at exit): the summaries of what it suppressed.
    mutating func finish() -> [Suppression] {
        windowStart == nil ? [] : close()
    }

    private mutating func close() -> [Suppression] {
        let end = (windowStart ?? 0) &+ limits.window
        let summaries = kinds.filter { $0.suppressed > 0 }.map {
            Suppression(kind: $0.kind, count: $0.suppressed, windowEnd: end, window: limits.window)
        }
        windowStart = nil
        admittedInWindow = 0
        kinds.removeAll(keepingCapacity: true)
        return summaries
    }
}
