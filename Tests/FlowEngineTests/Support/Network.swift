import FlowEngine
import PacketWire
import SMTPInspection
import Testing

/// One TCP endpoint's receive side: keeps in-order bytes, first copy wins (as Linux does),
/// buffers segments beyond a gap.
struct Receiver {
    var next: SequenceNumber
    var data: [UInt8] = []
    var pending: [(SequenceNumber, [UInt8])] = []
    var sawFIN = false

    mutating func receive(sequence: SequenceNumber, payload: [UInt8], fin: Bool) {
        pending.append((sequence, payload))
        var progress = true
        while progress {
            progress = false
            for (k, (seq, bytes)) in pending.enumerated() {
                let skip = seq.distance(to: next)
                guard skip >= 0 else { continue }  // still beyond a gap
                if skip < bytes.count {
                    data += bytes[skip...]
                    next = seq + bytes.count
                }
                pending.remove(at: k)
                progress = true
                break
            }
        }
        if fin { sawFIN = true }
    }
}

/// A client, the engine between, and a server: packets go through `FlowEngine.process`, and
/// verdicts are applied as the kernel would (accept, the edited or shorter copy, drop, hold).
struct Network {
    var engine: FlowEngine
    var out = FlowOutput()
    var rule: InspectionRuleBinding
    var client: Endpoint
    var server: Endpoint
    var clientISN = SequenceNumber(1_000_000)
    var serverISN = SequenceNumber(4_294_967_000)  // wraps during the session
    /// Bytes each side has sent so far (sequence space after its ISN).
    var clientSent: [UInt8] = []
    var serverSent: [UInt8] = []
    var atServer: Receiver
    var atClient: Receiver
    var now = Moment.seconds(1000)
    var nextToken: UInt64 = 1
    /// Packets the engine holds, by token.
    var heldPackets: [UInt64: Bool] = [:]  // token → from client
    var verdicts: [PacketVerdict] = []
    var events: [FlowEvent] = []
    var trace: [FlowTrace] = []
    var resetsSeen = 0
    /// RSTs the engine asked for (deleted half-open sessions).
    var resetRequests: [ResetRequest] = []
    /// Every packet the engine let through, as sent on, for checksum checks.
    var forwarded: [[UInt8]] = []
    /// The interfaces each side's packets come in on (and leave through), when the test gives
    /// the engine interface metadata (the live path does; a capture replay does not).
    var interfaces: (client: PacketInterfaces, server: PacketInterfaces)?

    init(rule: InspectionRuleBinding = InspectionRuleBinding(name: "OUT-IN", policy: SMTPPolicy(kind: .esmtp)),
         configuration: FlowEngineConfiguration = FlowEngineConfiguration(), ipv6: Bool = false) {
        engine = FlowEngine(configuration: configuration)
        self.rule = rule
        if ipv6 {
            client = Endpoint(.v6(IPv6Address([0x2001, 0xdb8, 0x22, 1, 0, 0, 0, 0x50])), 39349)
            server = Endpoint(.v6(IPv6Address([0x2001, 0xdb8, 0x10, 0x10, 0, 0, 0, 2])), 25)
        } else {
            client = Endpoint(.v4(IPv4Address(172, 22, 1, 50)), 39349)
            server = Endpoint(.v4(IPv4Address(10, 10, 10, 2)), 25)
        }
        atServer = Receiver(next: clientISN + 1)
        atClient = Receiver(next: serverISN + 1)
    }

    // MARK: - Sending

    /// Builds and sends one segment; returns the engine's verdict.
    @discardableResult
    mutating func send(fromClient: Bool, flags: TCPFlags, sequence: SequenceNumber, payload: [UInt8],
                       checksumNotReady: Bool = false, acknowledging: SequenceNumber? = nil, urgentPointer: UInt16 = 0,
                       options: [TCPOption] = [], badChecksum: Bool = false,
                       arrivingOn: PacketInterfaces? = nil) -> PacketVerdict {
        let (src, dst) = fromClient ? (client, server) : (server, client)
        let ack = acknowledging ?? (fromClient ? atClient.next : atServer.next)
        var builder = TCPPacketBuilder(from: src, to: dst, sequenceNumber: sequence, acknowledgmentNumber: ack,
                                       flags: flags, window: 65535, payload: payload)
        builder.identification = UInt16(truncatingIfNeeded: nextToken)
        builder.urgentPointer = urgentPointer
        builder.options = options
        var bytes = builder.build()
        if checksumNotReady || badChecksum {
            // What the kernel hands over for CHECKSUM_PARTIAL: the TCP checksum not finished.
            let isV6: Bool = { if case .v6 = client.address { true } else { false } }()
            let field = (isV6 ? 40 : 20) + 16
            bytes[field] ^= 0x5A
            bytes[field + 1] ^= 0xA5
        }
        return send(bytes, fromClient: fromClient,
                    checksum: checksumNotReady ? .notReady : .unverified,
                    arrivingOn: arrivingOn ?? interfaces.map { fromClient ? $0.client : $0.server })
    }

    /// Sends prepared packet bytes through the engine and applies its verdict.
    @discardableResult
    mutating func send(_ packetBytes: [UInt8], fromClient: Bool, checksum: ChecksumStatus = .unverified,
                       arrivingOn: PacketInterfaces? = nil) -> PacketVerdict {
        var bytes = packetBytes
        let token = nextToken
        nextToken += 1
        let verdict: PacketVerdict
        do {
            var span = bytes.mutableSpan
            let meta = PacketMetadata(token: token, rule: rule, checksum: checksum, interfaces: arrivingOn)
            verdict = engine.process(&span, meta, at: now, into: &out)
        }
        verdicts.append(verdict)
        apply(verdict, bytes, token: token, fromClient: fromClient)
        for release in out.releases {
            guard let fromClient = heldPackets.removeValue(forKey: release.token) else {
                Issue.record("release of a token never held: \(release.token)")
                continue
            }
            apply(release.verdict.packetVerdict, release.bytes, token: release.token, fromClient: fromClient)
        }
        events += out.events
        trace += out.trace
        resetRequests += out.resets
        out.removeAll()
        return verdict
    }

    private mutating func apply(_ verdict: PacketVerdict, _ bytes: [UInt8], token: UInt64, fromClient: Bool) {
        switch verdict {
        case .accept, .acceptBypassing: deliver(bytes, fromClient: fromClient)
        case let .acceptModified(length): deliver(Array(bytes[..<length]), fromClient: fromClient)
        case .drop: break
        case .reset: resetsSeen += 1
        case .hold: heldPackets[token] = fromClient
        }
    }

    private mutating func deliver(_ bytes: [UInt8], fromClient: Bool) {
        forwarded.append(bytes)
        guard let packet = try? TCPPacket(checking: bytes.span) else {
            Issue.record("the engine forwarded a packet that does not parse")
            return
        }
        let valid = packet.verifyChecksums(in: bytes.span)
        #expect(valid, "forwarded packet with a bad checksum")
        let payload = Array(bytes[packet.payloadRange])
        var seq = packet.sequenceNumber
        if packet.flags.contains(.syn) { seq = seq + 1 }
        if fromClient {
            if packet.flags.contains(.syn) { return }
            atServer.receive(sequence: seq, payload: payload, fin: packet.flags.contains(.fin))
        } else {
            if packet.flags.contains(.syn) { return }
            atClient.receive(sequence: seq, payload: payload, fin: packet.flags.contains(.fin))
        }
    }

    /// The three-way handshake.
    mutating func handshake() {
        send(fromClient: true, flags: .syn, sequence: clientISN, payload: [])
        send(fromClient: false, flags: [.syn, .ack], sequence: serverISN, payload: [])
        send(fromClient: true, flags: .ack, sequence: clientISN + 1, payload: [])
    }

    /// The client writes `text`, cut into segments of the given sizes (the rest in one).
    mutating func client(_ text: String, segments: [Int] = []) {
        write(Array(text.utf8), fromClient: true, segments: segments)
    }

    mutating func server(_ text: String, segments: [Int] = []) {
        write(Array(text.utf8), fromClient: false, segments: segments)
    }

    mutating func write(_ bytes: [UInt8], fromClient: Bool, segments: [Int] = []) {
        var offset = 0
        var sizes = segments
        while offset < bytes.count {
            let n = sizes.isEmpty ? bytes.count - offset : min(sizes.removeFirst(), bytes.count - offset)
            let chunk = Array(bytes[offset..<(offset + n)])
            let seq = (fromClient ? clientISN : serverISN) + 1 + (fromClient ? clientSent.count : serverSent.count)
            if fromClient { clientSent += chunk } else { serverSent += chunk }
            send(fromClient: fromClient, flags: [.ack, .psh], sequence: seq, payload: chunk)
            offset += n
        }
    }

    /// The sender's TCP retransmits whatever the receiver does not have yet, in one segment.
    mutating func retransmit(fromClient: Bool) {
        let receiver = fromClient ? atServer : atClient
        let sent = fromClient ? clientSent : serverSent
        let isn = fromClient ? clientISN : serverISN
        let have = (isn + 1).distance(to: receiver.next)
        guard have < sent.count else { return }
        send(fromClient: fromClient, flags: [.ack, .psh], sequence: receiver.next, payload: Array(sent[have...]))
    }

    /// A pure ACK from one side (so the engine learns what the peer has).
    mutating func ack(fromClient: Bool) {
        let seq = (fromClient ? clientISN : serverISN) + 1 + (fromClient ? clientSent.count : serverSent.count)
        send(fromClient: fromClient, flags: .ack, sequence: seq, payload: [])
    }

    mutating func tick(after seconds: Double) {
        now = now + seconds
        engine.tick(at: now, into: &out)
        for release in out.releases {
            if let fromClient = heldPackets.removeValue(forKey: release.token) {
                apply(release.verdict.packetVerdict, release.bytes, token: release.token, fromClient: fromClient)
            }
        }
        events += out.events
        resetRequests += out.resets
        out.removeAll()
    }

    var serverText: String { String(decoding: atServer.data, as: UTF8.self) }
    var clientText: String { String(decoding: atClient.data, as: UTF8.self) }

    func eventNames() -> [String] {
        events.map { event in
            switch event.kind {
            case let .smtp(e): e.name
            case .dropPacket: "drop-packet"
            case .sessionStart: "session-start"
            case .sessionStop: "session-stop"
            case .overlapRewritten: "overlap-rewritten"
            case .alertsSuppressed: "alerts-suppressed"
            case .aggressiveOn: "alert-on"
            case .aggressiveOff: "alert-off"
            case .hostHalfOpenExceeded: "host-tcp-alert-on"
            case .blockHost: "block-host"
            case .unblockHost: "unblock-host"
            }
        }
    }
}
