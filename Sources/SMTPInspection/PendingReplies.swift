/// The commands still waiting for a reply, oldest first (Suricata's pipelined-command FIFO).
///
/// Every client line gets exactly one reply, masked lines included (the server answers `500`),
/// so the FIFO counts lines, not only the commands that passed. Only a few kinds of reply change
/// what the session does next; consecutive commands of the same kind are stored as one run with a
/// count, so a pipelined envelope with a hundred recipients takes three entries. Storage is inline:
/// a session's FIFO never allocates.
struct PendingReplies {
    /// What a reply answers, as far as the session cares.
    enum Kind: UInt8 {
        case greeting = 1  // the server's banner (no command)
        case ehlo, helo, data, message, auth, starttls, quit, other
    }

    static let capacity = 12
    private static let countBits: UInt16 = 12
    private static let maxRun: UInt16 = (1 << countBits) - 1

    /// Each run: kind in the top 4 bits, count in the low 12.
    private var runs: InlineArray<12, UInt16> = .init(repeating: 0)
    private var head: UInt8 = 0
    private(set) var runCount: UInt8 = 0
    /// The last command queued ends a pipelined group (RFC 2920 §3.1): nothing may follow it until
    /// every reply is in.
    private(set) var groupClosed = false

    var isEmpty: Bool { runCount == 0 }

    var front: Kind? {
        isEmpty ? nil : Kind(rawValue: UInt8(runs[Int(head)] >> Self.countBits))
    }

    /// The kind of the most recent command still waiting.
    var back: Kind? {
        isEmpty ? nil : Kind(rawValue: UInt8(runs[slot(Int(runCount) - 1)] >> Self.countBits))
    }

    /// Number of commands waiting (for `show`).
    var total: Int {
        var sum = 0
        for i in 0..<Int(runCount) { sum += Int(runs[slot(i)] & Self.maxRun) }
        return sum
    }

    /// Appends one command (that ends its pipelined group, or not); false when there is no room
    /// (the caller tears the session down).
    mutating func push(_ kind: Kind, endingGroup: Bool = false) -> Bool {
        if endingGroup { groupClosed = true }
        if runCount > 0 {
            let last = slot(Int(runCount) - 1)
            let run = runs[last]
            if UInt8(run >> Self.countBits) == kind.rawValue && run & Self.maxRun < Self.maxRun {
                runs[last] = run + 1
                return true
            }
        }
        guard Int(runCount) < Self.capacity else { return false }
        runs[slot(Int(runCount))] = UInt16(kind.rawValue) << Self.countBits | 1
        runCount += 1
        return true
    }

    /// Removes the oldest command; nothing when empty.
    mutating func popFront() {
        guard runCount > 0 else { return }
        let index = Int(head)
        let count = runs[index] & Self.maxRun
        if count > 1 {
            runs[index] = runs[index] - 1
        } else {
            head = UInt8((index + 1) % Self.capacity)
            runCount -= 1
            if runCount == 0 { groupClosed = false }
        }
    }

    private func slot(_ i: Int) -> Int { (Int(head) + i) % Self.capacity }
}
