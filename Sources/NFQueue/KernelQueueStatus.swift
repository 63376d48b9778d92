/// One line of /proc/net/netfilter/nfnetlink_queue (kernel `seq_show`): a bound queue.
public struct KernelQueueStatus: Sendable, Equatable {
    public var queue: UInt16
    /// Netlink port id of the program bound to the queue.
    public var portID: UInt32
    /// Packets waiting for a verdict now (deferred ones included).
    public var waiting: UInt32
    public var copyMode: UInt32
    public var copyRange: UInt32
    /// Dropped (or, fail-open, accepted unseen) because `waiting` reached the queue length.
    public var queueDropped: UInt64
    /// Dropped because the program's socket buffer was full.
    public var userDropped: UInt64
    /// The last packet id handed out: packets queued since the bind.
    public var idSequence: UInt32
}

extension NFQueue {
    /// The bound queues of this network namespace, from /proc/net/netfilter/nfnetlink_queue
    /// (empty when the file cannot be read, e.g. nfnetlink_queue is not loaded).
    public static func kernelStatus() -> [KernelQueueStatus] {
        guard case .success(let bytes) = system_readFile("/proc/net/netfilter/nfnetlink_queue") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 8, let q = UInt16(f[0]), let peer = UInt32(f[1]), let waiting = UInt32(f[2]),
                  let mode = UInt32(f[3]), let range = UInt32(f[4]), let qd = UInt64(f[5]),
                  let ud = UInt64(f[6]), let id = UInt32(f[7]) else { return nil }
            return KernelQueueStatus(queue: q, portID: peer, waiting: waiting, copyMode: mode, copyRange: range,
                                     queueDropped: qd, userDropped: ud, idSequence: id)
        }
    }
}
