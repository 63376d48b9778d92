import PacketWire

/// One end's receive side, as Linux's TCP delivers bytes to the application: in order, the first
/// copy of a byte wins, segments beyond a gap wait, nothing before the SYN or after the FIN, and
/// a reset closes it. `removesUrgentByte`: SO_OOBINLINE off (the default), the urgent byte is
/// taken out of the stream. Each byte read comes with the byte its sender put there (before the
/// inspector's edits).
struct ReceiverModel {
    struct Segment {
        var sequence: SequenceNumber
        var bytes: [UInt8]
        var original: [UInt8]
        var urgent: SequenceNumber?
    }

    var next: SequenceNumber?
    var fin: SequenceNumber?
    var closed = false
    var pending: [Segment] = []

    /// Every byte before the FIN was read, so TCP has taken the FIN (a FIN beyond a gap waits
    /// in the out-of-order queue and changes nothing yet).
    var finReached: Bool { fin != nil && next == fin }

    /// Starts at a SYN: the stream begins after it.
    mutating func start(isn: SequenceNumber) {
        next = isn + 1
        pending = []
    }

    /// Takes a segment's payload; returns the bytes that became readable, in order.
    mutating func receive(sequence: SequenceNumber, payload: [UInt8], original: [UInt8], fin finFlag: Bool,
                          urgentPointer: UInt16?, removesUrgentByte: Bool) -> (bytes: [UInt8], original: [UInt8]) {
        guard !closed, next != nil else { return ([], []) }
        if finFlag && fin == nil { fin = sequence + payload.count }
        let urgent: SequenceNumber? = removesUrgentByte ? urgentPointer.flatMap { $0 > 0 ? sequence + Int($0) - 1 : nil } : nil
        if !payload.isEmpty { pending.append(Segment(sequence: sequence, bytes: payload, original: original, urgent: urgent)) }
        var out: [UInt8] = []
        var sent: [UInt8] = []
        var progress = true
        while progress, let n = next {
            progress = false
            for (k, segment) in pending.enumerated() {
                let skip = segment.sequence.distance(to: n)
                guard skip >= 0 else { continue }  // still beyond a gap
                if skip < segment.bytes.count {
                    var end = segment.bytes.count
                    if let fin, segment.sequence + end > fin { end = max(skip, segment.sequence.distance(to: fin)) }
                    for j in skip..<end where !(segment.urgent.map { segment.sequence + j == $0 } ?? false) {
                        out.append(segment.bytes[j])
                        sent.append(j < segment.original.count ? segment.original[j] : segment.bytes[j])
                    }
                    next = segment.sequence + end
                }
                pending.remove(at: k)
                progress = true
                break
            }
        }
        return (out, sent)
    }
}

/// What one connection's two ends read, in the order they read it, with what their peers sent
/// there: the check of issue 10's invariant ("every payload byte that reaches the server has been
/// judged by the state machines at the position at which the server's TCP stack delivers it").
struct Incarnation {
    var policyBits: UInt8
    /// Steps of what was sent, as the ends read it (for a fresh session to judge).
    var steps: [SMTPSessionFuzz.Step] = []
    var atServer = ReceiverModel()
    var atClient = ReceiverModel()
    /// What each end read (after the inspector's edits).
    var serverRead: [UInt8] = []
    var clientRead: [UInt8] = []

    /// Where client bytes released while a server packet is processed go in `steps`: before
    /// that packet's bytes. The engine had them held (they arrived first) and judged them in the
    /// middle of the packet, right after the reply that released them; a fresh session given
    /// them first holds them and does the same.
    var releasePoint: Int?

    mutating func read(_ bytes: [UInt8], sent: [UInt8], byServer: Bool, duringServerPacket: Bool) {
        guard !bytes.isEmpty else { return }
        if byServer { serverRead += bytes } else { clientRead += bytes }
        if !byServer {
            if duringServerPacket && releasePoint == nil { releasePoint = steps.count }
            steps.append(.server(sent))
        } else if duringServerPacket, let point = releasePoint {
            steps.insert(.client(sent), at: point)
            releasePoint = point + 1
        } else {
            steps.append(.client(sent))
        }
    }

    /// Judges what was sent, as the ends read it, with a fresh session (one chunk per segment
    /// read, as the engine saw them): each end must have read exactly that, masks applied, and
    /// nothing the session holds for a reply or refuses after a tear-down.
    func verify(into findings: inout FuzzFindings, name: String) {
        var player = Player(policyBits: policyBits, trace: false)
        var clientSent: [UInt8] = []
        var serverSent: [UInt8] = []
        for step in steps {
            switch step {
            case .client(let bytes): clientSent += bytes; player.client(bytes)
            case .server(let bytes): serverSent += bytes; player.server(bytes)
            case .adopt(let bits): player.adopt(bits)
            }
        }
        let judgement = player.judgement()
        for message in player.findings.messages { findings.add("\(name): re-judging: \(message)") }
        compare(read: serverRead, sent: clientSent, masks: judgement.clientMasks, reader: "server", name: name, into: &findings)
        compare(read: clientRead, sent: serverSent, masks: judgement.serverMasks, reader: "client", name: name, into: &findings)
        let judged = judgement.clientJudged
        if serverRead.count > judged {
            let why = judgement.tornDown ? "after the core tore the session down" : "the core holds them for a reply"
            findings.add("\(name): the server read \(serverRead.count - judged) bytes past the \(judged) judged (\(why)): \"\(escaped(serverRead[judged...].prefix(40)))\"")
        }
    }

    /// Each byte read is the byte sent, or the core's mask at a masked position.
    private func compare(read: [UInt8], sent: [UInt8], masks: MaskRuns, reader: String, name: String,
                         into findings: inout FuzzFindings) {
        var expected = sent
        for run in masks.runs {
            for p in run.range where p < expected.count { expected[p] = run.byte }
        }
        guard let p = read.indices.first(where: { read[$0] != expected[$0] }) else { return }
        let masked = masks.runs.contains { $0.range.contains(p) }
        findings.add("\(name): at \(p) the \(reader) read \"\(escaped(context(read, p)))\"; "
                     + "sent \"\(escaped(context(sent, p)))\" \(masked ? "is masked there" : "is not masked there")")
    }

    private func context(_ stream: [UInt8], _ p: Int) -> ArraySlice<UInt8> {
        stream[max(0, p - 16)..<min(stream.count, p + 16)]
    }
}
