/// Bytes of a chunk to overwrite, same length, with `byte` (`x` for commands and EHLO keywords,
/// `*` for the optional banner masking). Ranges are relative to the chunk that was passed in.
public struct ByteMask: Equatable, Sendable {
    public var range: Range<Int>
    public var byte: UInt8

    public init(range: Range<Int>, byte: UInt8) {
        self.range = range
        self.byte = byte
    }
}

/// What one session did, to be added to the engine's statistics.
public struct SMTPCounters: Equatable, Sendable {
    public var commands = 0
    public var commandsMasked = 0
    public var replies = 0
    public var messages = 0
    public var messageBytes = 0
    public var ehloKeywordsMasked = 0

    public init() {}

    public static func += (lhs: inout SMTPCounters, rhs: SMTPCounters) {
        lhs.commands += rhs.commands
        lhs.commandsMasked += rhs.commandsMasked
        lhs.replies += rhs.replies
        lhs.messages += rhs.messages
        lhs.messageBytes += rhs.messageBytes
        lhs.ehloKeywordsMasked += rhs.ehloKeywordsMasked
    }
}

/// Where a session's findings go. The caller owns one, reuses it for every chunk and empties it
/// with `removeAll()` after reading it: its arrays keep their capacity, so steady-state inspection
/// allocates nothing.
public struct SMTPOutput: Sendable {
    public var masks: [ByteMask] = []
    public var events: [SMTPEvent] = []
    /// `debug ip inspect smtp` records; filled only while `traceEnabled`.
    public var trace: [SMTPTraceRecord] = []
    public var traceEnabled: Bool
    public var counters = SMTPCounters()

    public init(traceEnabled: Bool = false) {
        self.traceEnabled = traceEnabled
        masks.reserveCapacity(8)
        events.reserveCapacity(8)
        if traceEnabled { trace.reserveCapacity(64) }
    }

    public mutating func removeAll() {
        masks.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
        trace.removeAll(keepingCapacity: true)
        counters = SMTPCounters()
    }

    /// Adds a mask, merging it with the previous one when they touch and use the same byte.
    @inline(__always)
    mutating func mask(_ range: Range<Int>, with byte: UInt8) {
        guard !range.isEmpty else { return }
        if let last = masks.last, last.byte == byte, last.range.upperBound == range.lowerBound {
            masks[masks.count - 1].range = last.range.lowerBound..<range.upperBound
        } else {
            masks.append(ByteMask(range: range, byte: byte))
        }
    }
}

/// What the caller must do with a client chunk.
public struct ClientVerdict: Equatable, Sendable {
    /// Bytes judged, from the chunk's start. They may go to the server once `masks` are applied.
    /// The bytes after them wait for a server reply: present them again after a server chunk whose
    /// verdict says `resumeClient`.
    public var consumed: Int
    /// The session must be torn down: nothing from `consumed` on may reach the server.
    public var teardown: Bool

    public init(consumed: Int, teardown: Bool = false) {
        self.consumed = consumed
        self.teardown = teardown
    }
}

/// What the caller must do after a server chunk.
public struct ServerVerdict: Equatable, Sendable {
    /// Bytes read, from the chunk's start. Less than the chunk only when a reply decided what
    /// held client bytes are (`resumeClient`): present those first, then pass the rest of the
    /// chunk again, so the result never depends on where TCP split the server's bytes; or on a
    /// teardown, where the bytes stopped being what the session expects (the packet is reset).
    public var consumed: Int
    /// A reply decided what held client bytes are: present them again.
    public var resumeClient: Bool
    /// The session must be torn down (the server's view and ours could no longer agree).
    public var teardown: Bool

    public init(consumed: Int, resumeClient: Bool = false, teardown: Bool = false) {
        self.consumed = consumed
        self.resumeClient = resumeClient
        self.teardown = teardown
    }
}
