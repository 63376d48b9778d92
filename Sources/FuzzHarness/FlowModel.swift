import PacketWire

/// One end's receive side, as Linux's TCP delivers bytes to the application: in order, the first
/// copy of a byte wins, segments beyond a gap wait, nothing before the SYN or after the FIN, and
/// a reset closes it. `removesUrgentByte`: SO_OOBINLINE off (the default), the urgent byte is
/// taken out of the stream.
struct ReceiverModel {
    var next: SequenceNumber?
    var fin: SequenceNumber?
    var closed = false
    var pending: [(sequence: SequenceNumber, bytes: [UInt8], urgent: SequenceNumber?)] = []

    /// Starts at a SYN: the stream begins after it.
    mutating func start(isn: SequenceNumber) {
        next = isn + 1
        pending = []
    }

    /// Takes a segment's payload; returns the bytes that became readable, in order.
    mutating func receive(sequence: SequenceNumber, payload: [UInt8], fin finFlag: Bool,
                          urgentPointer: UInt16?, removesUrgentByte: Bool) -> [UInt8] {
        guard !closed, next != nil else { return [] }
        if finFlag && fin == nil { fin = sequence + payload.count }
        let urgent: SequenceNumber? = removesUrgentByte ? urgentPointer.flatMap { $0 > 0 ? sequence + Int($0) - 1 : nil } : nil
        if !payload.isEmpty { pending.append((sequence, payload, urgent)) }
        var out: [UInt8] = []
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
                    }
                    next = segment.sequence + end
                }
                pending.remove(at: k)
                progress = true
                break
            }
        }
        return out
    }
}

/// What one connection's two ends read, in the order they read it: the stream the SMTP core
/// must have judged (DESIGN.md invariant 1; issue 10's "the server reads exactly the bytes the
/// state machines judged").
struct Incarnation {
    var policyBits: UInt8
    var steps: [SMTPSessionFuzz.Step] = []
    var atServer = ReceiverModel()
    var atClient = ReceiverModel()

    mutating func read(_ bytes: [UInt8], byServer: Bool) {
        guard !bytes.isEmpty else { return }
        steps.append(byServer ? .client(bytes) : .server(bytes))
    }

    /// Plays what the ends read through a fresh session: whatever it would mask must already be
    /// masked; what it would tear down or hold must not have been read.
    func verify(into findings: inout FuzzFindings, name: String) {
        var player = Player(policyBits: policyBits, trace: false)
        var clientStream: [UInt8] = []
        var serverStream: [UInt8] = []
        for step in steps {
            switch step {
            case .client(let bytes): clientStream += bytes; player.client(bytes)
            case .server(let bytes): serverStream += bytes; player.server(bytes)
            case .adopt(let bits): player.adopt(bits)
            }
        }
        let judgement = player.judgement()
        for message in player.findings.messages { findings.add("\(name): re-judging: \(message)") }
        for run in judgement.clientMasks.runs {
            if let p = run.range.first(where: { $0 < clientStream.count && clientStream[$0] != run.byte }) {
                findings.add("\(name): the server read \"\(escaped(context(clientStream, p)))\" unmasked at \(p); the core masks \(run.range)")
                break
            }
        }
        for run in judgement.serverMasks.runs {
            if let p = run.range.first(where: { $0 < serverStream.count && serverStream[$0] != run.byte }) {
                findings.add("\(name): the client read \"\(escaped(context(serverStream, p)))\" unmasked at \(p); the core masks \(run.range)")
                break
            }
        }
        let judged = judgement.clientJudged
        if clientStream.count > judged {
            let why = judgement.tornDown ? "after the core tore the session down" : "the core holds them for a reply"
            findings.add("\(name): the server read \(clientStream.count - judged) bytes past the \(judged) judged (\(why)): \"\(escaped(clientStream[judged...].prefix(40)))\"")
        }
    }

    private func context(_ stream: [UInt8], _ p: Int) -> ArraySlice<UInt8> {
        stream[max(0, p - 16)..<min(stream.count, p + 16)]
    }
}
