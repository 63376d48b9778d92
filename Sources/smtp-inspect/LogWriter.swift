import Foundation
import NFQueue

/// A ring of at most `capacity` entries: first in, first out; a push onto a full ring is
/// refused (the caller counts it). Storage is made once; pushing allocates nothing.
struct BoundedQueue<Entry> {
    private var slots: [Entry?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for one entry")
        slots = Array(repeating: nil, count: capacity)
    }

    var capacity: Int { slots.count }
    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == slots.count }

    /// Appends `entry`; false (nothing changed) when full.
    mutating func push(_ entry: Entry) -> Bool {
        guard count < slots.count else { return false }
        slots[(head + count) % slots.count] = entry
        count += 1
        return true
    }

    /// Every entry, oldest first; the queue is left empty.
    mutating func takeAll() -> [Entry] {
        var taken: [Entry] = []
        taken.reserveCapacity(count)
        while count > 0 {
            taken.append(slots[head].take()!)
            head = (head + 1) % slots.count
            count -= 1
        }
        head = 0
        return taken
    }
}

/// Log lines handed over by any thread and written, in the order handed over, by a thread of
/// its own, so that a slow or stopped reader of stderr never stalls a packet thread. A packet
/// thread only takes a lock to put an entry in the bounded queue (no I/O, no formatting); when
/// the queue is full the entry is dropped and counted (`.drop`, the daemon), or the caller
/// waits for room (`.wait`, replay: its output must be complete and deterministic).
final class LogWriter<Entry: Sendable>: @unchecked Sendable {
    enum WhenFull { case drop, wait }

    /// What the writer has lost.
    struct Counters: Sendable, Equatable {
        /// Entries refused because the queue was full.
        var dropped: UInt64 = 0
        /// Entries whose write failed (EPIPE: the reader is gone; EIO, ENOSPC …).
        var failed: UInt64 = 0
    }

    // Everything below is guarded by `condition`'s lock.
    private let condition = NSCondition()
    private var queue: BoundedQueue<Entry>
    private var writing = false
    private var counters = Counters()

    private let whenFull: WhenFull
    private let render: @Sendable ([Entry]) -> [UInt8]
    private let sink: @Sendable ([UInt8]) -> Bool
    private let idleInterval: TimeInterval
    private let idle: (@Sendable (LogWriter<Entry>) -> Void)?

    /// `render` turns a batch into bytes and `sink` writes them (false: failed), both on the
    /// writer's thread; `idle`, if any, runs there about every `idleInterval` seconds (it may
    /// `submit`: with `.drop` that never waits).
    init(capacity: Int, whenFull: WhenFull, render: @escaping @Sendable ([Entry]) -> [UInt8],
         sink: @escaping @Sendable ([UInt8]) -> Bool, idleInterval: TimeInterval = 0.1,
         idle: (@Sendable (LogWriter<Entry>) -> Void)? = nil) {
        queue = BoundedQueue(capacity: capacity)
        self.whenFull = whenFull
        self.render = render
        self.sink = sink
        self.idleInterval = idleInterval
        self.idle = idle
        let thread = Thread { self.loop() }  // the writer lives as long as the process
        thread.name = "log writer"
        thread.start()
    }

    /// Writes to standard output or standard error.
    static func sink(_ stream: StandardStream) -> @Sendable ([UInt8]) -> Bool {
        { bytes in (try? stream.write(bytes)) != nil }
    }

    /// Hands `entry` over; false when it was dropped (queue full, `.drop`).
    @discardableResult
    func submit(_ entry: Entry) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if whenFull == .wait {
            while queue.isFull { condition.wait() }
        }
        let wasEmpty = queue.isEmpty
        guard queue.push(entry) else {
            counters.dropped += 1
            return false
        }
        // The writer waits only on an empty queue: one wake-up per batch, not per entry.
        if wasEmpty { condition.broadcast() }
        return true
    }

    /// Waits until everything handed over has been written, at most `timeout` seconds (nil:
    /// no limit); false when the time ran out (a reader that does not read).
    @discardableResult
    func drain(timeout: TimeInterval?) -> Bool {
        let deadline = timeout.map { Date(timeIntervalSinceNow: $0) }
        condition.lock()
        defer { condition.unlock() }
        while !queue.isEmpty || writing {
            if let deadline {
                guard condition.wait(until: deadline) else { return queue.isEmpty && !writing }
            } else {
                condition.wait()
            }
        }
        return true
    }

    var lost: Counters {
        condition.lock()
        defer { condition.unlock() }
        return counters
    }

    private func loop() {
        var nextIdle = Date(timeIntervalSinceNow: idleInterval)
        while true { writeNextBatch(nextIdle: &nextIdle) }
    }

    /// One turn of the writer's loop: wait for entries (or the idle time), write them. Never
    /// inlined into `loop`: with this body inside its endless loop, Swift 6.3.1's release build
    /// spent over 40 minutes in loop-invariant code motion on `loop`'s AlertLog.Entry
    /// specialisation (the whole smtp-inspect module takes 25 s without that pass).
    @inline(never)
    private func writeNextBatch(nextIdle: inout Date) {
        condition.lock()
        while queue.isEmpty && (idle == nil || Date() < nextIdle) {
            if idle == nil { condition.wait() } else { _ = condition.wait(until: nextIdle) }
        }
        let batch = queue.takeAll()
        writing = !batch.isEmpty
        condition.broadcast()  // room for callers waiting in `submit`
        condition.unlock()
        if let idle, Date() >= nextIdle {
            idle(self)
            nextIdle = Date(timeIntervalSinceNow: idleInterval)
        }
        guard !batch.isEmpty else { return }
        let written = sink(render(batch))
        condition.lock()
        writing = false
        if !written { counters.failed += UInt64(batch.count) }
        condition.broadcast()  // for `drain`
        condition.unlock()
    }
}
