// nfqueue-selftest: proves the NFQueue module in the lab (Tests/e2e/nfqueue-selftest.sh drives it).
//
//   nfqueue-selftest queue [--queue N] [--mode accept|marked] [--mark M] [--shorten-to N]
//                          [--hold-ms N] [--write FILE] [--gso] [--max-length N] [--rcvbuf BYTES]
//                          [--bogus-verdicts N]
//       binds queue N and handles packets until SIGTERM/SIGINT (accept: every packet accepted
//       unchanged; marked: see MarkedPolicy), then releases what it holds, unbinds, checks the
//       kernel lists no peer for the queue, and prints its counters. --bogus-verdicts sends N
//       verdicts for an id the kernel never issued at the first idle call (each is answered
//       with ENOENT in the receive stream: counted, logged once, not fatal).
//   nfqueue-selftest pcap-copy IN OUT    PcapReader → PcapWriter (LINKTYPE_RAW), with a summary
//   nfqueue-selftest pcap-read IN        PcapReader: a summary and one line per IP packet
//
// Exit status: 0 done, 1 failure (message on stderr), 2 usage.
import NFQueue

import func Glibc.exit      // the only libc call here: NFQueue owns every other one

func fail(_ message: String, status: Int32 = 1) -> Never {
    print("nfqueue-selftest: ERROR: \(message)")
    exit(status)
}

struct Options {
    var queue: UInt16 = 0
    var mode = "accept"
    var mark: PacketMark = 0x5e1f
    var shortenTo = 64
    var holdMilliseconds = 500
    var write: String?
    var gso = false
    var maxLength: UInt32 = 4096
    var receiveBuffer: Int?
    var bogusVerdicts = 0

    init(_ args: ArraySlice<String>) {
        var it = args.makeIterator()
        func value(_ name: String) -> String {
            guard let v = it.next() else { fail("\(name) needs a value", status: 2) }
            return v
        }
        func number<T: FixedWidthInteger>(_ name: String) -> T {
            let v = value(name)
            let parsed = v.hasPrefix("0x") ? T(v.dropFirst(2), radix: 16) : T(v)
            guard let parsed else { fail("\(name): not a number: \(v)", status: 2) }
            return parsed
        }
        while let a = it.next() {
            switch a {
            case "--queue": queue = number(a)
            case "--mode": mode = value(a)
            case "--mark": mark = PacketMark(rawValue: number(a))
            case "--shorten-to": shortenTo = number(a)
            case "--hold-ms": holdMilliseconds = number(a)
            case "--write": write = value(a)
            case "--gso": gso = true
            case "--max-length": maxLength = number(a)
            case "--rcvbuf": receiveBuffer = number(a)
            case "--bogus-verdicts": bogusVerdicts = number(a)
            default: fail("unknown option \(a)", status: 2)
            }
        }
        guard mode == "accept" || mode == "marked" else { fail("--mode accept|marked", status: 2) }
    }
}

func runQueue(_ o: Options) {
    let queue: NFQueue
    do {
        queue = try NFQueue(NFQueueConfiguration(
            queue: o.queue, maxLength: o.maxLength, receiveBufferBytes: o.receiveBuffer, gso: o.gso))
    } catch {
        fail("\(error)")
    }
    do {
        try TerminationSignals.install(stopping: [queue.stopHandle])
    } catch {
        fail("\(error)")
    }
    var writer: PcapWriter?
    if let path = o.write {
        do { writer = try PcapWriter(path: path) } catch { fail("\(error)") }
    }
    report("queue \(o.queue) bound (port id \(queue.portID), mode \(o.mode), rcvbuf \(queue.effectiveReceiveBufferBytes), gso \(o.gso))")

    let policy = MarkedPolicy(shortenTo: o.shortenTo, holdFor: .milliseconds(o.holdMilliseconds), resetMark: o.mark)
    let marked = o.mode == "marked"
    let clock = ContinuousClock()
    let started = clock.now
    var idleCalls = 0
    var longestIdleGap: Duration = .zero
    var lastIdle = clock.now
    var gsoPackets = 0, checksumNotReady = 0, largest = 0
    var bogusLeft = o.bogusVerdicts

    do {
        try queue.run(onPacket: { info, bytes in
            if info.gso { gsoPackets += 1 }
            if info.checksumNotReady { checksumNotReady += 1 }
            largest = max(largest, info.packetLength)
            let action = marked ? policy.decide(info, &bytes) : .accept
            if let writer {
                let length: Int
                if case .acceptModified(let n) = action { length = n } else { length = bytes.count }
                let stamp = info.timestamp ?? PacketTimestamp.now()
                writer.write(bytes.span.extracting(0..<length), timestamp: stamp, originalLength: info.packetLength)
            }
            return action
        }, onIdle: {
            idleCalls += 1
            let now = clock.now
            longestIdleGap = max(longestIdleGap, now - lastIdle)
            lastIdle = now
            policy.releaseDue(queue)
            while bogusLeft > 0 {
                bogusLeft -= 1
                queue.verdict(PacketID(rawValue: 0xffff_fff0), .accept, replacing: nil, mark: nil)
            }
        })
    } catch {
        fail("run: \(error)")
    }
    let stoppedAt = clock.now
    let signal = TerminationSignals.received.map { $0 == 15 ? "SIGTERM" : $0 == 2 ? "SIGINT" : "signal \($0)" } ?? "stop()"
    policy.releaseDue(queue, all: true)
    let before = NFQueue.kernelStatus().first { $0.queue == o.queue }
    queue.close()
    let after = NFQueue.kernelStatus().first { $0.queue == o.queue }
    do { try writer?.close() } catch { fail("\(error)") }

    let c = queue.counters
    report("stopped by \(signal) after \(milliseconds(stoppedAt - started)) ms")
    report("counters packets \(c.packets) bytes \(c.bytes) verdicts \(c.verdictsSent) sends \(c.sendCalls) "
        + "payload-verdicts \(c.payloadVerdicts) deferred \(c.deferredPackets) truncated \(c.truncatedPackets) "
        + "enobufs \(c.receiveBufferOverruns) error-acks \(c.errorAcks) malformed \(c.malformedMessages) "
        + "idle-calls \(idleCalls) longest-idle-gap-ms \(milliseconds(longestIdleGap)) gso \(gsoPackets) "
        + "csum-not-ready \(checksumNotReady) largest \(largest)")
    for (e, n) in c.errorAcksByErrno.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
        report("error answers errno \(e.rawValue) \(n): \(e)")
    }
    if marked {
        report("marked rewritten \(policy.rewrittenPackets) words \(policy.rewrittenWords) shortened \(policy.shortened) "
            + "held \(policy.heldPackets) released \(policy.released) longest-hold-ms \(milliseconds(policy.longestHold)) "
            + "resets \(policy.resets) bad-checksums-seen \(policy.checksumErrorsSeen)")
    }
    if let writer { report("pcap \(writer.path) packets \(writer.packetsWritten)") }
    if let before {
        report("kernel before unbind: id_sequence \(before.idSequence) waiting \(before.waiting) "
            + "queue_dropped \(before.queueDropped) user_dropped \(before.userDropped)")
    }
    if let after { fail("queue \(o.queue) still bound after close (peer \(after.portID))") }
    report("unbound: /proc/net/netfilter/nfnetlink_queue lists no peer for queue \(o.queue)")
    if c.verdictsSent != c.packets + UInt64(o.bogusVerdicts) {
        fail("\(c.packets) packets (+\(o.bogusVerdicts) bogus) but \(c.verdictsSent) verdicts sent")
    }
}

func pcapRead(_ path: String, list: Bool) -> PcapReader {
    let reader: PcapReader
    do { reader = try PcapReader(path: path) } catch { fail("\(error)") }
    do {
        try reader.forEach { record, bytes in
            if list {
                let version = bytes.count > 0 ? bytes[0] >> 4 : 0
                print("\(record.frameNumber) \(record.timestamp) ipv\(version) \(record.capturedLength) \(record.originalLength)")
            }
            return true
        }
    } catch {
        fail("\(error)")
    }
    return reader
}

let args = CommandLine.arguments.dropFirst()
switch args.first {
case "queue":
    runQueue(Options(args.dropFirst()))
case "pcap-read" where args.count == 2:
    let r = pcapRead(args[args.startIndex + 1], list: true)
    report("pcap-read link-type \(r.linkType) frames \(r.framesRead) packets \(r.packetsRead) skipped \(r.framesSkipped)")
case "pcap-copy" where args.count == 3:
    let input = args[args.startIndex + 1], output = args[args.startIndex + 2]
    let reader: PcapReader
    let writer: PcapWriter
    do {
        reader = try PcapReader(path: input)
        writer = try PcapWriter(path: output, precision: .nanoseconds)
        try reader.forEach { record, bytes in
            writer.write(bytes.span, timestamp: record.timestamp, originalLength: record.originalLength)
            return true
        }
        try writer.close()
    } catch {
        fail("\(error)")
    }
    report("pcap-copy link-type \(reader.linkType) frames \(reader.framesRead) packets \(reader.packetsRead) "
        + "skipped \(reader.framesSkipped) written \(writer.packetsWritten)")
default:
    fail("usage: nfqueue-selftest queue [options] | pcap-read IN | pcap-copy IN OUT", status: 2)
}
