import NFQueue

/// `nfqueue-selftest queue`: binds the queue, handles packets until SIGTERM/SIGINT, then
/// releases what it holds, unbinds, checks the kernel lists no peer, and prints its counters.
func runQueue(_ o: Options) {
    let queue: NFQueue
    var writer: PcapWriter?
    do {
        queue = try NFQueue(NFQueueConfiguration(
            queue: o.queue, maxLength: o.maxLength, receiveBufferBytes: o.receiveBuffer, gso: o.gso))
        try TerminationSignals.install(stopping: [queue.stopHandle])
        if let path = o.write { writer = try PcapWriter(path: path) }
    } catch {
        fail("\(error)")
    }
    report("queue \(o.queue) bound (port id \(queue.portID), mode \(o.mode), "
        + "rcvbuf \(queue.effectiveReceiveBufferBytes), gso \(o.gso))")

    let session = QueueSession(o, queue: queue, writer: writer)
    do {
        try queue.run(onPacket: session.onPacket, onIdle: session.onIdle)
    } catch {
        fail("run: \(error)")
    }
    let stoppedAt = ContinuousClock.now
    session.policy.releaseDue(queue, all: true)
    let before = NFQueue.kernelStatus().first { $0.queue == o.queue }
    queue.close()
    let after = NFQueue.kernelStatus().first { $0.queue == o.queue }
    do { try writer?.close() } catch { fail("\(error)") }

    session.printSummary(stoppedAt: stoppedAt)
    if let before {
        report("kernel before unbind: id_sequence \(before.idSequence) waiting \(before.waiting) "
            + "queue_dropped \(before.queueDropped) user_dropped \(before.userDropped)")
    }
    if let after { fail("queue \(o.queue) still bound after close (peer \(after.portID))") }
    report("unbound: /proc/net/netfilter/nfnetlink_queue lists no peer for queue \(o.queue)")
    let c = queue.counters
    if c.verdictsSent != c.packets + UInt64(o.bogusVerdicts) {
        fail("\(c.packets) packets (+\(o.bogusVerdicts) bogus) but \(c.verdictsSent) verdicts sent")
    }
}

/// The handlers given to `NFQueue.run` and what they observed.
final class QueueSession {
    let options: Options
    let queue: NFQueue
    let writer: PcapWriter?
    let policy: MarkedPolicy
    let started = ContinuousClock.now
    var lastIdle = ContinuousClock.now
    var idleCalls = 0
    var longestIdleGap: Duration = .zero
    var gsoPackets = 0, checksumNotReady = 0, largest = 0
    var bogusLeft: Int

    init(_ o: Options, queue: NFQueue, writer: PcapWriter?) {
        options = o
        self.queue = queue
        self.writer = writer
        policy = MarkedPolicy(shortenTo: o.shortenTo, holdFor: .milliseconds(o.holdMilliseconds), resetMark: o.mark)
        bogusLeft = o.bogusVerdicts
    }

    func onPacket(_ info: PacketInfo, _ bytes: inout MutableSpan<UInt8>) -> PacketAction {
        if info.gso { gsoPackets += 1 }
        if info.checksumNotReady { checksumNotReady += 1 }
        largest = max(largest, info.packetLength)
        let action = options.mode == "marked" ? policy.decide(info, &bytes) : .accept
        if let writer {
            var length = bytes.count
            if case .acceptModified(let n) = action { length = n }
            writer.write(bytes.span.extracting(0..<length), timestamp: info.timestamp ?? .now(),
                         originalLength: info.packetLength)
        }
        return action
    }

    func onIdle() {
        idleCalls += 1
        let now = ContinuousClock.now
        longestIdleGap = max(longestIdleGap, now - lastIdle)
        lastIdle = now
        policy.releaseDue(queue)
        while bogusLeft > 0 {
            bogusLeft -= 1
            queue.verdict(PacketID(rawValue: 0xffff_fff0), .accept, replacing: nil, mark: nil)
        }
    }

    func printSummary(stoppedAt: ContinuousClock.Instant) {
        let signal = TerminationSignals.received.map { $0 == 15 ? "SIGTERM" : $0 == 2 ? "SIGINT" : "signal \($0)" }
        report("stopped by \(signal ?? "stop()") after \(milliseconds(stoppedAt - started)) ms")
        let c = queue.counters
        report("counters packets \(c.packets) bytes \(c.bytes) verdicts \(c.verdictsSent) sends \(c.sendCalls) "
            + "payload-verdicts \(c.payloadVerdicts) deferred \(c.deferredPackets) truncated \(c.truncatedPackets) "
            + "enobufs \(c.receiveBufferOverruns) error-acks \(c.errorAcks) malformed \(c.malformedMessages) "
            + "idle-calls \(idleCalls) longest-idle-gap-ms \(milliseconds(longestIdleGap)) gso \(gsoPackets) "
            + "csum-not-ready \(checksumNotReady) largest \(largest)")
        for (e, n) in c.errorAcksByErrno.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            report("error answers errno \(e.rawValue) \(n): \(e)")
        }
        if options.mode == "marked" {
            report("marked rewritten \(policy.rewrittenPackets) words \(policy.rewrittenWords) "
                + "shortened \(policy.shortened) held \(policy.heldPackets) released \(policy.released) "
                + "longest-hold-ms \(milliseconds(policy.longestHold)) resets \(policy.resets) "
                + "bad-checksums-seen \(policy.checksumErrorsSeen)")
        }
        if let writer { report("pcap \(writer.path) packets \(writer.packetsWritten)") }
    }
}
