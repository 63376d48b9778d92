/// How to bind and configure one queue.
public struct NFQueueConfiguration: Sendable {
    /// The NFQUEUE number (`--queue-num`).
    public var queue: UInt16
    /// NFQA_CFG_QUEUE_MAXLEN: packets the kernel keeps waiting for a verdict (deferred ones
    /// included); beyond it new packets are dropped, or accepted unseen with `failOpen`.
    public var maxLength: UInt32
    /// SO_RCVBUFFORCE size of the netlink socket. A full receive buffer makes the kernel drop
    /// the packet (ENOBUFS on recv); nothing useful fits beyond maxLength whole copies.
    public var receiveBufferBytes: Int
    /// NFQA_CFG_F_FAIL_OPEN: accept instead of drop when the queue or the socket is full. For an
    /// inline rewriter that lets unmodified packets through under load: off by default.
    public var failOpen: Bool
    /// NFQA_CFG_F_GSO: the kernel hands over GSO super-packets (up to 64 KiB) with unfinished
    /// checksums (`PacketInfo.checksumNotReady`) instead of segmenting them first.
    public var gso: Bool
    /// The receive loop calls `onIdle` at least this often, and whenever the socket would block.
    public var idleInterval: Duration
    /// At most this many verdicts go out in one sendto (several per call, docs/nfqueue.md §2);
    /// the send buffer is also flushed whenever the socket would block.
    public var maxVerdictsPerSend: Int
    /// Where the queue reports events worth a line (first error ack of each errno, ENOBUFS).
    public var log: @Sendable (String) -> Void

    /// The default receive buffer: maxLength whole copies (65535 bytes + ~300 of netlink
    /// overhead each), capped at 128 MiB (the kernel only charges what is queued).
    public static func defaultReceiveBufferBytes(maxLength: UInt32) -> Int {
        min(Int(maxLength) * (65535 + 300), 128 << 20)
    }

    public init(
        queue: UInt16,
        maxLength: UInt32 = 4096,
        receiveBufferBytes: Int? = nil,
        failOpen: Bool = false,
        gso: Bool = false,
        idleInterval: Duration = .milliseconds(100),
        maxVerdictsPerSend: Int = 256,
        log: @escaping @Sendable (String) -> Void = NFQueueConfiguration.standardErrorLog
    ) {
        self.queue = queue
        self.maxLength = maxLength
        self.receiveBufferBytes = receiveBufferBytes ?? Self.defaultReceiveBufferBytes(maxLength: maxLength)
        self.failOpen = failOpen
        self.gso = gso
        self.idleInterval = idleInterval
        self.maxVerdictsPerSend = maxVerdictsPerSend
        self.log = log
    }

    /// Writes "nfqueue: <line>" to standard error.
    public static let standardErrorLog: @Sendable (String) -> Void = { line in
        writeStandardError("nfqueue: " + line + "\n")
    }
}

/// What one queue has done since it was bound.
public struct NFQueueCounters: Sendable, Equatable {
    /// Packet messages received (each one owes the kernel a verdict).
    public var packets: UInt64 = 0
    /// Captured bytes of those packets.
    public var bytes: UInt64 = 0
    /// Packets whose copy was shorter than the packet (NFQA_CAP_LEN).
    public var truncatedPackets: UInt64 = 0
    /// Verdict messages handed to the kernel (all kinds, deferred ones included).
    public var verdictsSent: UInt64 = 0
    /// Verdicts that carried a replacement payload.
    public var payloadVerdicts: UInt64 = 0
    /// Packets the handler answered with `.deferred`.
    public var deferredPackets: UInt64 = 0
    /// `.acceptModified` answers for truncated packets, dropped instead.
    public var refusedTruncatedModifications: UInt64 = 0
    /// sendto calls (each carries one or more verdicts).
    public var sendCalls: UInt64 = 0
    /// ENOBUFS from recv: the socket was full and the kernel dropped (or, fail-open, accepted)
    /// packets; /proc/net/netfilter/nfnetlink_queue counts them.
    public var receiveBufferOverruns: UInt64 = 0
    /// NLMSG_ERROR messages in the receive stream (e.g. ENOENT for a verdict on an unknown id).
    public var errorAcks: UInt64 = 0
    /// The same, by errno.
    public var errorAcksByErrno: [Errno: UInt64] = [:]
    /// Messages that did not parse, or netlink messages of another kind.
    public var malformedMessages: UInt64 = 0
    public var otherMessages: UInt64 = 0

    public init() {}
}

/// Why a queue could not be opened or run.
public enum NFQueueError: Error, CustomStringConvertible, Equatable {
    /// A system call failed.
    case system(String, Errno)
    /// The queue is bound by another netlink socket (EPERM on bind). `owner` is its netlink port
    /// id from /proc/net/netfilter/nfnetlink_queue (usually the owner's PID), when it is known.
    case queueOwnedByAnotherProcess(queue: UInt16, owner: UInt32?)
    /// The kernel answered the bind-and-configure request with an error.
    case configurationRejected(queue: UInt16, Errno)
    /// The kernel did not acknowledge a request in time.
    case noAcknowledgement(String)

    public var description: String {
        switch self {
        case .system(let call, let e):
            "\(call): \(e)"
        case .queueOwnedByAnotherProcess(let q, let owner):
            "queue \(q) owned by another process"
                + (owner.map { " (netlink port id \($0))" } ?? " (or this process lacks CAP_NET_ADMIN)")
        case .configurationRejected(let q, let e):
            "queue \(q): the kernel rejected the configuration: \(e)"
        case .noAcknowledgement(let what):
            "\(what): no answer from the kernel"
        }
    }
}
