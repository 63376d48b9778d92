import NFQueue

/// What the selftest does to client payloads (TCP to port 25), keyed by their first bytes:
///
/// | client payload        | action                                                          |
/// |-----------------------|-----------------------------------------------------------------|
/// | contains `EXPN`       | every `EXPN` becomes `xxxx` in place, TCP checksum recomputed   |
/// | starts `SHORT:`       | cut to `shortenTo` payload bytes (IP length, both checksums)    |
/// | starts `HOLD`         | deferred `holdFor`, then accepted with `HOLD` → `HELD` (a copy) |
/// | starts `RESET-ME`     | NF_REPEAT with `resetMark`: the REJECT rule resets the client   |
/// | anything else         | accepted unchanged                                              |
///
/// Retransmissions of a held segment (same sequence number) are held until the first copy's
/// deadline and rewritten the same way, so the server sees one consistent stream.
final class MarkedPolicy {
    struct Held {
        var id: PacketID
        var sequence: UInt32
        var releaseAt: ContinuousClock.Instant
        var receivedAt: ContinuousClock.Instant
        var bytes: [UInt8]
    }

    let shortenTo: Int
    let holdFor: Duration
    let resetMark: PacketMark
    private(set) var held: [Held] = []
    private var firstDeadline: [UInt32: ContinuousClock.Instant] = [:]

    var rewrittenPackets = 0, rewrittenWords = 0, shortened = 0, heldPackets = 0, released = 0, resets = 0
    var checksumErrorsSeen = 0
    var longestHold: Duration = .zero

    init(shortenTo: Int, holdFor: Duration, resetMark: PacketMark) {
        self.shortenTo = shortenTo
        self.holdFor = holdFor
        self.resetMark = resetMark
    }

    func decide(_ info: PacketInfo, _ bytes: inout MutableSpan<UInt8>) -> PacketAction {
        guard !info.isTruncated, var tcp = TCPLayout(&bytes), tcp.destinationPort == 25, tcp.payloadLength > 0 else {
            return .accept
        }
        if !info.checksumNotReady && !tcp.tcpChecksumIsValid(in: &bytes) { checksumErrorsSeen += 1 }
        if tcp.payloadStarts(with: "RESET-ME", in: &bytes) {
            resets += 1
            report("reset id=\(info.id) seq=\(tcp.sequence) mark=\(resetMark)")
            return .repeatWithMark(resetMark)
        }
        if tcp.payloadStarts(with: "HOLD", in: &bytes) {
            let deadline = firstDeadline[tcp.sequence] ?? (info.receivedAt + holdFor)
            firstDeadline[tcp.sequence] = deadline
            var copy = [UInt8](repeating: 0, count: tcp.end)
            for i in 0..<tcp.end { copy[i] = bytes[i] }
            held.append(Held(id: info.id, sequence: tcp.sequence, releaseAt: deadline, receivedAt: info.receivedAt, bytes: copy))
            heldPackets += 1
            report("hold id=\(info.id) seq=\(tcp.sequence) len=\(tcp.payloadLength)")
            return .deferred
        }
        if tcp.payloadStarts(with: "SHORT:", in: &bytes), tcp.payloadLength > shortenTo {
            let before = tcp.payloadLength
            tcp.truncatePayload(to: shortenTo, in: &bytes)
            tcp.fixTCPChecksum(in: &bytes)
            shortened += 1
            report("shorten id=\(info.id) seq=\(tcp.sequence) payload \(before) -> \(shortenTo)")
            return .acceptModified(length: tcp.end)
        }
        let n = tcp.replaceAll("EXPN", with: "xxxx", in: &bytes)
        if n > 0 {
            tcp.fixTCPChecksum(in: &bytes)
            rewrittenPackets += 1
            rewrittenWords += n
            report("rewrite id=\(info.id) seq=\(tcp.sequence) EXPN x\(n)")
            return .acceptModified(length: tcp.end)
        }
        return .accept
    }

    /// Releases every held packet whose time has come (all of them with `all`), HOLD → HELD.
    func releaseDue(_ queue: NFQueue, all: Bool = false) {
        guard !held.isEmpty else { return }
        let now = ContinuousClock.now
        var keep: [Held] = []
        for var h in held {
            guard all || h.releaseAt <= now else {
                keep.append(h)
                continue
            }
            var span = h.bytes.mutableSpan
            if let tcp = TCPLayout(&span) {
                _ = tcp.replaceAll("HOLD", with: "HELD", in: &span)
                tcp.fixTCPChecksum(in: &span)
            }
            queue.verdict(h.id, .accept, replacing: h.bytes.span, mark: nil)
            released += 1
            longestHold = max(longestHold, now - h.receivedAt)
            report("release id=\(h.id) seq=\(h.sequence) after \(milliseconds(now - h.receivedAt)) ms")
        }
        held = keep
    }
}

func milliseconds(_ d: Duration) -> Int {
    Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
}

func report(_ line: String) { print("nfqueue-selftest: " + line) }
