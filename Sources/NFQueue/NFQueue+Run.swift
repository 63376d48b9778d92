import CNetfilterQueue
import Glibc

extension NFQueue {
    /// Receives packets until `stop()`. For each packet calls `onPacket` with its metadata and
    /// its bytes (the network header on) lent as `inout MutableSpan<UInt8>`; the handler may edit
    /// them in place and returns what to do with the packet. Calls `onIdle` whenever the socket
    /// would block and at least every `configuration.idleInterval` under load, so the caller can
    /// expire timers and release deferred packets (with `verdict`); verdicts owed are sent right
    /// after it. Returns after sending every verdict owed; `close()` unbinds.
    ///
    /// Throws when the socket fails (not for ENOBUFS or error answers, which are counted).
    public func run(
        onPacket: (PacketInfo, inout MutableSpan<UInt8>) -> PacketAction,
        onIdle: () -> Void
    ) throws(NFQueueError) {
        precondition(!closed, "run after close")
        let clock = ContinuousClock()
        let idle = configuration.idleInterval
        let pollMilliseconds = Int32(clamping: max(1, idle.components.seconds * 1000
            + idle.components.attoseconds / 1_000_000_000_000_000))
        var lastIdle = clock.now
        // Reading the clock cost ~100 ns per message, ~1 % of the daemon's time in the bulk
        // load (and the idle test with it another 0.3 %). A message read straight after another,
        // with no wait in between, keeps the previous reading for up to `messagesPerClockRead`
        // messages: it is then at most that many messages' handling old (well under a
        // millisecond), and the first message after a wait always gets a fresh one.
        var now = lastIdle
        var messagesSinceClock = Self.messagesPerClockRead

        for message in earlyMessages {
            message.withUnsafeBytes { receiveBuffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            handleMessages(count: message.count, receivedAt: clock.now, onPacket: onPacket)
        }
        earlyMessages = []

        while !stopHandle.isStopRequested {
            if let e = pendingError {
                pendingError = nil
                throw e
            }
            switch system_recv(fd, receiveBuffer, receiveCapacity, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC)) {
            case .success(let n):
                let clockRead = messagesSinceClock >= Self.messagesPerClockRead
                if clockRead {
                    now = clock.now
                    messagesSinceClock = 0
                }
                messagesSinceClock += 1
                if n > receiveCapacity {
                    // Cannot happen with a 0xffff copy range; if it did, that packet waits
                    // for a verdict until unbind.
                    counters.malformedMessages += 1
                    logOnce(Errno(rawValue: EMSGSIZE), "message of \(n) bytes cut to \(receiveCapacity)")
                } else {
                    handleMessages(count: n, receivedAt: now, onPacket: onPacket)
                }
                if clockRead && now - lastIdle >= idle {
                    onIdle()
                    lastIdle = clock.now
                }
            case .failure(.wouldBlock):
                onIdle()
                lastIdle = clock.now
                messagesSinceClock = Self.messagesPerClockRead     // a wait follows: read it anew
                if case .failure(let e) = flush() { throw e }
                if stopHandle.isStopRequested { continue }      // the loop condition ends it
                switch system_pollIn(fd, stopHandle.eventFD, timeoutMilliseconds: pollMilliseconds) {
                case .success(let ready):
                    if ready.b { system_eventfdDrain(stopHandle.eventFD) }
                case .failure(.interrupted):
                    continue            // a signal: back to the top, which checks for stop
                case .failure(let e):
                    throw .system("poll", e)
                }
            case .failure(.noBufferSpace):
                counters.receiveBufferOverruns += 1
                if counters.receiveBufferOverruns & (counters.receiveBufferOverruns - 1) == 0 {
                    configuration.log("queue \(configuration.queue): receive buffer overrun "
                        + "#\(counters.receiveBufferOverruns) (ENOBUFS: the kernel dropped packets)")
                }
            case .failure(let e):
                throw .system("recv", e)
            }
        }
        if case .failure(let e) = flush() { throw e }
    }

    /// Messages read back to back that share one clock reading (see `run`).
    static let messagesPerClockRead = 16

    /// Queues a verdict for a packet answered earlier with `.deferred`, optionally replacing its
    /// bytes with `bytes` (the same length or shorter: the kernel does not adjust sequence
    /// numbers; never for a truncated packet) and setting its mark. Call it on the thread that
    /// runs `run` (from `onPacket`, `onIdle`, or after `run` returned and before `close`). The
    /// verdict goes out with the next batch; `run` sends it before it blocks again.
    public func verdict(_ id: PacketID, _ verdict: Verdict, replacing bytes: Span<UInt8>?, mark: PacketMark?) {
        precondition(!closed, "verdict after close")
        if let bytes {
            precondition(!bytes.isEmpty && bytes.count <= 0xffff, "replacement of \(bytes.count) bytes")
            bytes.withUnsafeBytes { raw in
                appendVerdict(id, verdict, payload: raw.baseAddress, length: raw.count, mark: mark)
            }
        } else {
            appendVerdict(id, verdict, payload: nil, length: 0, mark: mark)
        }
        if !closed && stopHandle.isStopRequested, case .failure(let e) = flush() {
            pendingError = e    // after run returned nothing else would send it
        }
    }

    /// Sends the verdicts queued so far (run does it by itself; useful after run returned).
    public func flushVerdicts() throws(NFQueueError) {
        if case .failure(let e) = flush() { throw e }
    }
}

// MARK: - Receiving

extension NFQueue {
    private func handleMessages(
        count: Int, receivedAt: ContinuousClock.Instant,
        onPacket: (PacketInfo, inout MutableSpan<UInt8>) -> PacketAction
    ) {
        var remaining = Int32(count)
        var nlh: UnsafeMutablePointer<nlmsghdr>? = receiveBuffer.assumingMemoryBound(to: nlmsghdr.self)
        var message = cnfq_message()
        while let h = nlh, mnl_nlmsg_ok(h, remaining) {
            cnfq_parse_message(h, &message)
            switch message.kind {
            case CNFQ_MSG_PACKET:
                handlePacket(message, receivedAt: receivedAt, onPacket: onPacket)
            case CNFQ_MSG_ERROR where message.error == 0:
                break               // a late ack (close's unbind has none in flight)
            case CNFQ_MSG_ERROR:
                let e = Errno(rawValue: Int32(message.error))
                counters.errorAcks += 1
                counters.errorAcksByErrno[e, default: 0] += 1
                logOnce(e, "error answer from the kernel (seq \(message.seq))")
            case CNFQ_MSG_OTHER:
                counters.otherMessages += 1
            default:
                counters.malformedMessages += 1
            }
            nlh = mnl_nlmsg_next(h, &remaining)
        }
    }

    private func handlePacket(
        _ m: cnfq_message, receivedAt: ContinuousClock.Instant,
        onPacket: (PacketInfo, inout MutableSpan<UInt8>) -> PacketAction
    ) {
        let captured = m.payload == nil ? 0 : Int(m.payload_len)
        let info = PacketInfo(
            id: PacketID(rawValue: m.packet_id),
            queue: m.queue_num,
            hook: NetfilterHook(rawValue: m.hook),
            hwProtocol: m.hw_protocol,
            inInterface: m.indev == 0 ? nil : InterfaceIndex(rawValue: m.indev),
            outInterface: m.outdev == 0 ? nil : InterfaceIndex(rawValue: m.outdev),
            mark: m.has_mark ? PacketMark(rawValue: m.mark) : nil,
            gso: m.skb_info & UInt32(NFQA_SKB_GSO) != 0,
            checksumNotReady: m.skb_info & UInt32(NFQA_SKB_CSUMNOTREADY) != 0,
            // The kernel says whether it verified the checksums only with F_GSO (it sends no
            // NFQA_SKB_INFO without it): without that word, nobody vouches for them.
            checksumNotVerified: !configuration.gso || m.skb_info & UInt32(NFQA_SKB_CSUM_NOTVERIFIED) != 0,
            capturedLength: captured,
            packetLength: max(Int(m.packet_len), captured),
            timestamp: m.has_timestamp
                ? PacketTimestamp(seconds: m.ts_sec, nanoseconds: m.ts_usec * 1000) : nil,
            receivedAt: receivedAt)
        counters.packets += 1
        counters.bytes += UInt64(captured)
        if info.isTruncated { counters.truncatedPackets += 1 }

        let bytes = UnsafeMutableBufferPointer<UInt8>(start: m.payload, count: captured)
        var span = bytes.mutableSpan
        let action = onPacket(info, &span)

        switch action {
        case .accept:
            appendVerdict(info.id, .accept, payload: nil, length: 0, mark: nil)
        case .acceptModified(let length):
            precondition(length > 0 && length <= captured, "acceptModified(length: \(length)) of \(captured) bytes")
            if info.isTruncated {
                // The kernel would trim the packet to the copy: drop it (TCP retransmits).
                counters.refusedTruncatedModifications += 1
                appendVerdict(info.id, .drop, payload: nil, length: 0, mark: nil)
            } else {
                appendVerdict(info.id, .accept, payload: UnsafeRawPointer(m.payload), length: length, mark: nil)
            }
        case .drop:
            appendVerdict(info.id, .drop, payload: nil, length: 0, mark: nil)
        case .repeatWithMark(let mark):
            appendVerdict(info.id, .repeat, payload: nil, length: 0, mark: mark)
        case .deferred:
            counters.deferredPackets += 1
        }
    }

    func logOnce(_ e: Errno, _ text: String) {
        guard loggedErrnos.insert(e).inserted else { return }
        configuration.log("queue \(configuration.queue): \(text): \(e) (counted; logged once per errno)")
    }
}

// MARK: - Sending

extension NFQueue {
    /// Appends one NFQNL_MSG_VERDICT to the send buffer, sending what is there first when the
    /// message would not fit or `maxVerdictsPerSend` is reached.
    func appendVerdict(_ id: PacketID, _ verdict: Verdict, payload: UnsafeRawPointer?, length: Int, mark: PacketMark?) {
        let size = cnfq_verdict_message_size(UInt32(payload == nil ? 0 : length), mark != nil)
        if sendLength + size > sendCapacity || pendingVerdicts >= configuration.maxVerdictsPerSend {
            if case .failure(let e) = flush() { pendingError = e }
        }
        precondition(sendLength + size <= sendCapacity, "verdict message of \(size) bytes")
        let nlh = nfq_nlmsg_put((sendBuffer + sendLength).assumingMemoryBound(to: CChar.self),
                                Int32(NFQNL_MSG_VERDICT.rawValue), UInt32(configuration.queue))!
        // nfq_nlmsg_verdict_put converts the host-order id itself (docs/nfqueue.md §6).
        nfq_nlmsg_verdict_put(nlh, Int32(bitPattern: id.rawValue), Int32(bitPattern: verdict.rawValue))
        if let mark { nfq_nlmsg_verdict_put_mark(nlh, mark.rawValue) }
        if let payload {
            nfq_nlmsg_verdict_put_pkt(nlh, payload, UInt32(length))
            counters.payloadVerdicts += 1
        }
        assert(Int(nlh.pointee.nlmsg_len) == size, "verdict size \(nlh.pointee.nlmsg_len) != \(size)")
        sendLength += Int(nlh.pointee.nlmsg_len)
        pendingVerdicts += 1
    }

    /// One sendto with every queued verdict. ENOBUFS/EAGAIN (no memory for the skb) is retried
    /// for up to a second; any other failure loses them (those packets wait until unbind) and
    /// is returned.
    func flush() -> Result<Void, NFQueueError> {
        guard sendLength > 0 else { return .success(()) }
        defer {
            sendLength = 0
            pendingVerdicts = 0
        }
        var retries = 0
        while true {
            switch system_sendToKernel(fd, sendBuffer, sendLength) {
            case .success:
                counters.sendCalls += 1
                counters.verdictsSent += UInt64(pendingVerdicts)
                return .success(())
            case .failure(let e) where (e == .noBufferSpace || e == .wouldBlock) && retries < 1000:
                retries += 1
                system_sleepMilliseconds(1)
            case .failure(let e):
                return .failure(.system("sendto(\(pendingVerdicts) verdicts)", e))
            }
        }
    }
}
