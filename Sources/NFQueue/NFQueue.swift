/// NFQueue: one netfilter queue bound through libnetfilter_queue's libmnl API, with the receive
/// loop, verdict batching and the only syscalls and C pointers of smtp-inspect
/// (docs/nfqueue.md has the measured facts behind every choice here).
///
/// Public API:
/// ```
/// let queue = try NFQueue(NFQueueConfiguration(queue: 0))   // open, bind, configure, check acks
/// let stopper = queue.stopHandle                            // Sendable: stop() from any thread
/// TerminationSignals.install(stopping: [stopper])           // SIGINT/SIGTERM stop it
/// try queue.run(onPacket: { info, bytes in                  // bytes: inout MutableSpan<UInt8>
///     ... edit bytes in place ...; return .acceptModified(length: n)   // or .accept, .drop,
/// }, onIdle: {                                              //    .repeatWithMark(m), .deferred
///     queue.verdict(id, .accept, replacing: nil, mark: nil)    // release deferred packets
/// })
/// queue.close()                                             // flush, unbind, close (deinit too)
/// NFQueue.kernelStatus()                                    // /proc/net/netfilter/nfnetlink_queue
///
/// let reader = try PcapReader(path: "in.pcap")              // any IP-carrying link type
/// try reader.forEach { record, bytes in ...; return true }  // bytes from the IP header on
/// let writer = try PcapWriter(path: "out.pcap")             // LINKTYPE_RAW
/// writer.write(bytes.span, timestamp: record.timestamp); try writer.close()
/// ```
/// One `NFQueue` per queue, used by one thread (run, verdict, close, counters); only the stop
/// handle crosses threads. Packet memory belongs to the receive buffer and is lent to `onPacket`
/// for the duration of the call; a deferred packet's bytes must be copied by the caller.
///
/// Wire behaviour:
/// - the whole packet is copied (NFQNL_COPY_PACKET, range 0xffff); a packet longer than the
///   copy is flagged `isTruncated` and is never answered with a payload;
/// - verdicts are single NFQNL_MSG_VERDICT messages (never VERDICT_BATCH: it would also release
///   deferred packets with lower ids), concatenated and sent several per sendto when the socket
///   would block, after `maxVerdictsPerSend`, or when the 68 KiB send buffer would overflow;
///   only `.acceptModified` and `verdict(_:_:replacing:mark:)` with bytes carry a payload;
/// - NLMSG_ERROR answers to earlier verdicts (ENOENT, ...) are counted and logged once per errno;
///   ENOBUFS on recv (the socket was full, the kernel dropped) is counted; neither is fatal.
import CNetfilterQueue
import Glibc

public final class NFQueue {
    public let configuration: NFQueueConfiguration
    /// Thread-safe: `stopHandle.stop()` makes `run` return promptly.
    public let stopHandle: NFQueueStopHandle
    /// The netlink port id the kernel gave this socket (the `peer` column of /proc).
    public let portID: UInt32
    /// SO_RCVBUF as the kernel reports it after SO_RCVBUFFORCE (it doubles the request).
    public private(set) var effectiveReceiveBufferBytes: Int = 0
    public internal(set) var counters = NFQueueCounters()

    let fd: Int32
    // Largest message: a 0xffff copy plus its attributes (upstream uses 0xffff + 2 KiB); a
    // message cut by a smaller buffer would be a packet that never gets a verdict.
    let receiveCapacity = 0xffff + 8192
    let receiveBuffer: UnsafeMutableRawPointer
    // Several verdicts, or one carrying a whole 64 KiB replacement (docs/nfqueue.md §6).
    let sendCapacity = 0x10000 + 4096
    let sendBuffer: UnsafeMutableRawPointer
    var sendLength = 0
    var pendingVerdicts = 0
    var sequence: UInt32 = 0
    var closed = false
    /// A send that failed inside `verdict` (which cannot throw) surfaces from `run`.
    var pendingError: NFQueueError?
    /// Packet messages that arrived while `init` waited for the kernel's acknowledgement.
    var earlyMessages: [[UInt8]] = []
    var loggedErrnos: Set<Errno> = []

    /// Opens a netlink socket, binds the queue and configures it (copy mode, queue length,
    /// flags) in one request with NLM_F_ACK, and checks the answer. Needs CAP_NET_ADMIN.
    public init(_ configuration: NFQueueConfiguration) throws(NFQueueError) {
        precondition(configuration.maxVerdictsPerSend > 0, "maxVerdictsPerSend must be positive")
        let fd: Int32
        switch system_netlinkSocket() {
        case .success(let f): fd = f
        case .failure(let e): throw .system("socket(AF_NETLINK, NETLINK_NETFILTER)", e)
        }
        let handle: NFQueueStopHandle
        let portID: UInt32
        do throws(NFQueueError) {
            handle = try NFQueueStopHandle()
            switch system_netlinkBindAutoPortID(fd) {
            case .success(let p): portID = p
            case .failure(let e): throw .system("bind(AF_NETLINK)", e)
            }
        } catch {
            system_close(fd)
            throw error
        }
        self.fd = fd
        self.portID = portID
        self.stopHandle = handle
        self.configuration = configuration
        self.receiveBuffer = .allocate(byteCount: receiveCapacity, alignment: 16)
        self.sendBuffer = .allocate(byteCount: sendCapacity, alignment: 16)
        // From here on deinit closes the socket and frees the buffers if we throw.
        configureSocket()
        try bindAndConfigure()
    }

    deinit {
        close()
        receiveBuffer.deallocate()
        sendBuffer.deallocate()
    }

    /// Asks `run` to return (same as `stopHandle.stop()`). Permanent: a later `run` returns at
    /// once.
    public func stop() { stopHandle.stop() }

    /// Sends the verdicts still owed, unbinds the queue and closes the socket. Packets still
    /// deferred are dropped by the kernel (NFQNL_CFG_CMD_UNBIND flushes with NF_DROP), so
    /// release them with `verdict` first. Idempotent; deinit calls it.
    public func close() {
        guard !closed else { return }
        if case .failure(let e) = flush() {
            configuration.log("queue \(configuration.queue): verdicts lost at close: \(e)")
        }
        let nlh = nfq_nlmsg_put(sendBuffer.assumingMemoryBound(to: CChar.self), Int32(NFQNL_MSG_CONFIG.rawValue),
                                UInt32(configuration.queue))!
        nfq_nlmsg_cfg_put_cmd(nlh, UInt16(AF_INET), UInt8(NFQNL_CFG_CMD_UNBIND.rawValue))
        _ = system_sendToKernel(fd, nlh, Int(nlh.pointee.nlmsg_len))
        system_close(fd)
        closed = true
    }
}

// MARK: - Setup

extension NFQueue {
    private func configureSocket() {
        let requested = Int32(clamping: configuration.receiveBufferBytes)
        if case .failure(let e) = system_setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, requested) {
            // Without CAP_NET_ADMIN only SO_RCVBUF (capped by net.core.rmem_max) is possible.
            configuration.log("SO_RCVBUFFORCE \(requested): \(e); trying SO_RCVBUF")
            _ = system_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, requested)
        }
        if case .success(let actual) = system_getsockopt(fd, SOL_SOCKET, SO_RCVBUF) {
            effectiveReceiveBufferBytes = Int(actual)
        }
        // Error answers carry only the header of the failed request, not a copy of it: an
        // ENOENT for a verdict with a 64 KiB payload would otherwise echo the 64 KiB back.
        _ = system_setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1)
        // NETLINK_NO_ENOBUFS stays off on purpose: ENOBUFS on recv is how drops are counted.
    }

    /// BIND, PARAMS (COPY_PACKET 0xffff), QUEUE_MAXLEN and FLAGS/MASK in one message: the kernel
    /// validates the flags before it creates the instance and configures it in the same call,
    /// so no packet is queued under the default copy mode (NFQNL_COPY_NONE) by a second request
    /// that has not arrived yet.
    private func bindAndConfigure() throws(NFQueueError) {
        let q = configuration.queue
        precondition(cnfq_config_message_size() <= sendCapacity)
        let nlh = nfq_nlmsg_put(sendBuffer.assumingMemoryBound(to: CChar.self), Int32(NFQNL_MSG_CONFIG.rawValue), UInt32(q))!
        nfq_nlmsg_cfg_put_cmd(nlh, UInt16(AF_INET), UInt8(NFQNL_CFG_CMD_BIND.rawValue))
        nfq_nlmsg_cfg_put_params(nlh, UInt8(NFQNL_COPY_PACKET.rawValue), 0xffff)
        nfq_nlmsg_cfg_put_qmaxlen(nlh, configuration.maxLength)
        let flags = (configuration.failOpen ? UInt32(NFQA_CFG_F_FAIL_OPEN) : 0) | (configuration.gso ? UInt32(NFQA_CFG_F_GSO) : 0)
        cnfq_cfg_put_flags(nlh, flags, UInt32(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO))
        // nfq_nlmsg_put2(..., NLM_F_ACK) exists only after 1.0.5: set the flag ourselves.
        nlh.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
        sequence &+= 1
        let seq = sequence
        nlh.pointee.nlmsg_seq = seq
        if case .failure(let e) = system_sendToKernel(fd, nlh, Int(nlh.pointee.nlmsg_len)) {
            throw .system("sendto(bind queue \(q))", e)
        }
        switch try awaitAcknowledgement(seq: seq, what: "bind queue \(q)") {
        case nil:
            return
        case .notPermitted?:
            throw .queueOwnedByAnotherProcess(queue: q, owner: NFQueue.kernelStatus().first { $0.queue == q }?.portID)
        case let e?:
            throw .configurationRejected(queue: q, e)
        }
    }

    /// Waits up to 2 s for the answer to request `seq`: nil for an ack, else its errno. Packets
    /// arriving first (the queue is live once bound) are kept for `run`.
    private func awaitAcknowledgement(seq: UInt32, what: String) throws(NFQueueError) -> Errno? {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(2)
        while clock.now < deadline {
            switch system_recv(fd, receiveBuffer, receiveCapacity, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC)) {
            case .success(let n) where n <= receiveCapacity:
                var remaining = Int32(n)
                var nlh: UnsafeMutablePointer<nlmsghdr>? = receiveBuffer.assumingMemoryBound(to: nlmsghdr.self)
                var message = cnfq_message()
                while let h = nlh, mnl_nlmsg_ok(h, remaining) {
                    cnfq_parse_message(h, &message)
                    if message.kind == CNFQ_MSG_ERROR && message.seq == seq {
                        return message.error == 0 ? nil : Errno(rawValue: Int32(message.error))
                    }
                    let start = UnsafeRawPointer(h)
                    earlyMessages.append(Array(UnsafeRawBufferPointer(start: start, count: Int(h.pointee.nlmsg_len))))
                    nlh = mnl_nlmsg_next(h, &remaining)
                }
            case .success:
                counters.malformedMessages += 1
            case .failure(.wouldBlock):
                _ = system_pollIn(fd, -1, timeoutMilliseconds: 100)
            case .failure(.noBufferSpace):
                counters.receiveBufferOverruns += 1
            case .failure(let e):
                throw .system("recv(\(what))", e)
            }
        }
        throw .noAcknowledgement(what)
    }
}
