import FlowEngine
import PacketWire
import SMTPInspection

/// Fuzz target `flow`: IPv4 or IPv6 TCP packets with fuzzed fields (flags, sequence and
/// acknowledgment numbers, options, urgent pointer, payloads, checksums, lengths, raw bytes)
/// through `FlowEngine.process` and `tick` on a fake clock, between two model ends that read as
/// Linux does (packets forged on the wrong side's interface are not read by either). Checks:
/// nothing traps; `accept` leaves the bytes alone; every forwarded packet
/// parses, has its length and (when it was sent with good ones) valid checksums; every held
/// packet is released exactly once; `show` renders; and what each end read, replayed through a
/// fresh session, is what the core judged (nothing unmasked, nothing past a tear-down or a hold).
/// After `acceptBypassing` the kernel passes the connection's packets without queueing them, as
/// the generated rules do (connmark), until the client's side sends a SYN on its ports (the
/// rules queue every SYN; the engine takes the connection out again if the server answers it
/// with a challenge ACK).
///
/// Input format (every byte string decodes):
///
///     header byte   bit 0 IPv6, 1 smtp policy (else esmtp), 2 small bounds, 3 mid-stream drop,
///                   4 trace on, 5 no interfaces (as in a capture replay), 6 STARTTLS allowed
///                   and TLS sessions leave the queue (`bypassTLS`, as the daemon sets them),
///                   7 a session that left the queue stays queued (the engine sees its packets:
///                   rules without the bypass mark, or a capture replay)
///     then operations, each an op byte; kind = op & 7, connection = op >> 3 & 1:
///       0 client segment    segment fields (below), from the connection's client to the server;
///                           op & 0x10: it arrives on the server's interface (forged), op & 0x20:
///                           the kernel verified its checksums (when they are good)
///       1 server segment    the same, from the server to the client
///       2 tick              the clock moves on (next byte × 100 ms) and the engine ticks
///       3 raw packet        length (2 bytes), the bytes as they are; op & 0x80: CSUMNOTREADY
///       4 retransmission    the client (op & 0x40: the server) sends again what the other end
///                           has not read, in one segment, up to (next byte × 8) bytes
///       5 reload            the rules' policy becomes (op >> 4) (bit 0 smtp/esmtp, 1
///                           allow STARTTLS, 2 mask banner)
///       6 mutated segment   a client (op & 0x40: server) segment, then byte (offset) ^= (value);
///                           op & 0x10, 0x20 as for 0 and 1
///       7 handshake         SYN, then SYN-ACK and ACK with the model's sequence numbers (or the
///                           server's challenge ACK when it has the connection open; the client
///                           then goes on at its sequence number before the SYN)
///     segment fields: flags byte (FIN SYN RST PSH ACK URG ECE CWR), control byte c:
///       c & 3   sequence number: 0 the sender's next, 1 next + signed byte, 2 any (4 bytes),
///               3 ISN + 2 bytes
///       c & 4   acknowledgment number: 4 bytes (else what the sender has read)
///       c & 8   options: length byte (0-40), bytes
///       c & 16  urgent pointer: 2 bytes
///       c & 32  CSUMNOTREADY (the kernel left the TCP checksum unfinished)
///       c & 64  a wrong TCP checksum
///       c & 128 payload length in 2 bytes (else 1); then the payload
///     A segment sent at the sender's next moves it on (payload, SYN and FIN).
public enum FlowEngineFuzz {
    public static func run(_ data: [UInt8], guards: KnownIssueGuards) -> FuzzFindings {
        var run = FlowRun(data, guards: guards)
        run.play()
        return run.findings
    }

    /// The operations of an input, readably.
    public static func describe(_ data: [UInt8]) -> String {
        var run = FlowRun(data, guards: .known)
        run.describing = true
        run.play()
        return run.log.joined(separator: "\n")
    }

    static func policyBits(fromReload bits: UInt8) -> UInt8 {
        // Reload bits (smtp/esmtp, STARTTLS, mask banner) in SMTPSessionFuzz's numbering.
        (bits & 1 == 0 ? 1 : 0) | (bits & 2 != 0 ? 4 : 0) | (bits & 4 != 0 ? 2 : 0)
    }
}

/// A packet as its sender sent it.
struct SentPacket {
    var bytes: [UInt8]
    /// Its checksums were good.
    var good: Bool
    var checksumNotReady: Bool
    /// It came in on the other side's interface.
    var forged: Bool
    /// What the engine keeps of it while it is held: its bytes, with those of the genuine packets
    /// held before it written over the ones they share (held segments that overlap take the bytes
    /// held first, docs/behaviour.md). Its receiver reads these, masks aside.
    var carried: [UInt8]

    init(bytes: [UInt8], good: Bool, checksumNotReady: Bool, forged: Bool) {
        self.bytes = bytes
        self.good = good
        self.checksumNotReady = checksumNotReady
        self.forged = forged
        carried = bytes
    }

    /// Its sender sent it: the receiving stack accepts it (a CHECKSUM_PARTIAL packet is the
    /// local host's, finished on its way out).
    var genuine: Bool { !forged && (good || checksumNotReady) }
}

/// One connection between a client and the server, as both ends see it.
struct ModelConnection {
    var client: Endpoint
    var server: Endpoint
    var clientISN: SequenceNumber
    var serverISN: SequenceNumber
    /// Each side's next sequence number to send, and what it has sent after its SYN.
    var clientNext: SequenceNumber
    var serverNext: SequenceNumber
    var clientSent: [UInt8] = []
    var serverSent: [UInt8] = []
    var incarnations: [Incarnation] = []
    /// The connection left the queue (`acceptBypassing`): the kernel passes its packets unseen.
    var bypassing = false

    /// The server has the connection open: not reset, not closed both ways (each FIN taken by
    /// its receiver, in order: one beyond a gap leaves the connection synchronized). A SYN then
    /// gets a challenge ACK (RFC 5961 §4), not a new connection.
    var isOpenAtServer: Bool {
        incarnations.last.map { !$0.atServer.closed && !($0.atServer.finReached && $0.atClient.finReached) } ?? false
    }

    init(client: Endpoint, server: Endpoint, clientISN: SequenceNumber, serverISN: SequenceNumber) {
        self.client = client
        self.server = server
        self.clientISN = clientISN
        self.serverISN = serverISN
        clientNext = clientISN
        serverNext = serverISN
    }
}

struct FlowRun {
    var reader: FuzzReader
    let guards: KnownIssueGuards
    var findings = FuzzFindings()
    var describing = false
    var log: [String] = []

    let ipv6: Bool
    var engine: FlowEngine
    var output = FlowOutput()
    var rule: InspectionRuleBinding
    var ruleBits: UInt8
    var now = Moment.seconds(1000)
    let start = Moment.seconds(1000)
    var connections: [ModelConnection]
    var nextToken: UInt64 = 1
    /// Held packets by token, as sent.
    var held: [UInt64: SentPacket] = [:]
    /// Packets say which interfaces they use (else, as in a capture replay, they do not).
    let interfacesKnown: Bool
    var operations = 0
    /// A server packet is being processed (see `Incarnation.releasePoint`).
    var serverPacketInProgress = false
    /// Packets of a connection that left the queue still go to the engine (header bit 7).
    let bypassStaysQueued: Bool

    init(_ data: [UInt8], guards: KnownIssueGuards) {
        reader = FuzzReader(data)
        self.guards = guards
        let header = reader.byte()
        ipv6 = header & 1 != 0
        interfacesKnown = header & 32 == 0
        ruleBits = (header & 2 != 0 ? 0 : 1) | (header & 64 != 0 ? 4 : 0)
        bypassStaysQueued = header & 128 != 0
        var configuration = FlowEngineConfiguration()
        configuration.bypassTLS = header & 64 != 0
        if header & 4 != 0 {
            configuration.maxSessions = 3
            configuration.maxHeldPacketsPerSession = 3
            configuration.maxHeldBytesPerSession = 600
            configuration.maxHeldPackets = 4
            configuration.retainLimitPerStream = 200
            configuration.retainLimitTotal = 300
            configuration.holdTimeout = 1
            configuration.synWaitTimeout = 2
            configuration.finWaitTimeout = 1
            configuration.tornDownLinger = 1
            configuration.halfOpen.maxIncompleteHigh = 2
            configuration.halfOpen.maxIncompleteLow = 1
            configuration.halfOpen.perHost = 2
        }
        configuration.midstream = header & 8 != 0 ? .drop : .reset
        engine = FlowEngine(configuration: configuration)
        engine.traceEnabled = header & 16 != 0
        rule = InspectionRuleBinding(name: "FUZZ", policy: SMTPSessionFuzz.policies[Int(ruleBits)], idleTimeout: 30)
        let server: Endpoint
        let clients: [Endpoint]
        if ipv6 {
            server = Endpoint(.v6(IPv6Address([0x2001, 0xdb8, 0x10, 0x10, 0, 0, 0, 2])), 25)
            let address = IPAddress.v6(IPv6Address([0x2001, 0xdb8, 0x22, 1, 0, 0, 0, 0x50]))
            clients = [Endpoint(address, 40001), Endpoint(address, 40002)]
        } else {
            server = Endpoint(.v4(IPv4Address(10, 10, 10, 2)), 25)
            clients = [Endpoint(.v4(IPv4Address(172, 22, 1, 50)), 40001), Endpoint(.v4(IPv4Address(172, 22, 1, 51)), 40002)]
        }
        connections = clients.enumerated().map { k, client in
            ModelConnection(client: client, server: server, clientISN: SequenceNumber(UInt32(1_000_000 + k * 7777)),
                            serverISN: SequenceNumber(4_294_967_000 &- UInt32(k * 1000)))
        }
    }

    mutating func play() {
        playOperations()
        finish()
    }

    /// The input's operations, without the final timeouts and checks of `finish`.
    mutating func playOperations() {
        while !reader.isAtEnd && operations < 400 {
            operations += 1
            let op = reader.byte()
            let at = reader.offset - 1
            note("[\(at)] op \(op & 7)")
            let c = Int(op >> 3 & 1)
            switch op & 7 {
            case 0: segment(c, fromClient: true, mutate: false, op: op)
            case 1: segment(c, fromClient: false, mutate: false, op: op)
            case 2:
                let tenths = Int(reader.byte())
                now = now + Double(tenths) / 10
                note("tick +\(Double(tenths) / 10) s")
                engine.tick(at: now, into: &output)
                collect(origin: "tick")
                renderShow()
            case 3: raw(checksumNotReady: op & 0x80 != 0)
            case 4: retransmit(c, fromClient: op & 0x40 == 0, limit: max(1, Int(reader.byte()) * 8))
            case 5: reload(op >> 4)
            case 6: segment(c, fromClient: op & 0x40 == 0, mutate: true, op: op)
            default: handshake(c)
            }
        }
    }

    // MARK: - Operations

    /// The client's SYN, then what a Linux server answers: a SYN-ACK (and the client's ACK) when
    /// the SYN opened a connection, a challenge ACK when one is still open (RFC 5961 §4). Then
    /// the SYN was not the client's TCP's (it has the connection open: forged with its address,
    /// or an old duplicate), and the client goes on where it was.
    mutating func handshake(_ c: Int) {
        note("handshake \(c)")
        let conn = connections[c]
        let opened = connections[c].incarnations.count
        connections[c].clientNext = conn.clientISN
        send(build(c, fromClient: true, flags: .syn, sequence: conn.clientISN, ack: SequenceNumber(0), payload: []),
             c, fromClient: true, good: true, checksumNotReady: false)
        connections[c].clientNext = conn.clientISN + 1
        guard connections[c].incarnations.count > opened else {
            note("  (the server has this connection open: a challenge ACK)")
            connections[c].clientNext = conn.clientNext
            send(build(c, fromClient: false, flags: .ack, sequence: connections[c].serverNext,
                       ack: readPoint(c, byClient: false), payload: []),
                 c, fromClient: false, good: true, checksumNotReady: false)
            return
        }
        connections[c].serverNext = conn.serverISN
        send(build(c, fromClient: false, flags: [.syn, .ack], sequence: conn.serverISN, ack: conn.clientISN + 1, payload: []),
             c, fromClient: false, good: true, checksumNotReady: false)
        connections[c].serverNext = conn.serverISN + 1
        send(build(c, fromClient: true, flags: .ack, sequence: conn.clientISN + 1, ack: conn.serverISN + 1, payload: []),
             c, fromClient: true, good: true, checksumNotReady: false)
    }

    mutating func segment(_ c: Int, fromClient: Bool, mutate: Bool, op: UInt8) {
        let flags = TCPFlags(rawValue: UInt16(reader.byte()))
        let control = reader.byte()
        let conn = connections[c]
        let next = fromClient ? conn.clientNext : conn.serverNext
        let isn = fromClient ? conn.clientISN : conn.serverISN
        let sequence: SequenceNumber
        switch control & 3 {
        case 0: sequence = next
        case 1: sequence = next + Int(Int8(bitPattern: reader.byte()))
        case 2: sequence = SequenceNumber(reader.u32())
        default: sequence = isn + Int(reader.u16())
        }
        let ack = control & 4 != 0 ? SequenceNumber(reader.u32()) : readPoint(c, byClient: fromClient)
        var options: [UInt8] = []
        if control & 8 != 0 { options = reader.bytes(Int(reader.byte()) % 41) }
        let urgent: UInt16 = control & 16 != 0 ? reader.u16() : 0
        let payload = reader.bytes(reader.length(long: control & 128 != 0))
        var builder = TCPPacketBuilder(from: fromClient ? conn.client : conn.server, to: fromClient ? conn.server : conn.client,
                                       sequenceNumber: sequence, acknowledgmentNumber: ack, flags: flags, payload: payload)
        builder.urgentPointer = urgent
        builder.identification = UInt16(truncatingIfNeeded: nextToken)
        var bytes = builder.build()
        if !options.isEmpty { bytes = insertingOptions(options, into: bytes) }
        if control & 0x3 == 0 {
            let advance = payload.count + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
            if fromClient {
                connections[c].clientNext = next + advance
                connections[c].clientSent += payload
            } else {
                connections[c].serverNext = next + advance
                connections[c].serverSent += payload
            }
        }
        let checksumNotReady = control & 32 != 0
        var good = control & 64 == 0
        if !good { corruptTCPChecksum(&bytes) }
        if checksumNotReady { corruptTCPChecksum(&bytes) }
        if mutate, !bytes.isEmpty {
            let offset = Int(reader.byte()) % bytes.count
            let value = reader.byte()
            bytes[offset] ^= value
            if value != 0 { good = good && Self.checksumsGood(bytes) }
        }
        note("\(fromClient ? "C" : "S")\(c) \(flags) seq \(sequence) ack \(ack) urg \(urgent) opts \(options.count) "
             + "len \(payload.count)\(good ? "" : " bad-checksum")\(checksumNotReady ? " csum-not-ready" : "")"
             + "\(mutate ? " mutated" : "")\(op & 0x10 != 0 ? " wrong-side" : "")\(op & 0x20 != 0 ? " verified" : "")"
             + " \"\(escaped(payload.prefix(80)))\"\(payload.count > 80 ? "..." : "")")
        send(bytes, c, fromClient: fromClient, good: good, checksumNotReady: checksumNotReady,
             wrongSide: op & 0x10 != 0, verified: op & 0x20 != 0)
    }

    mutating func retransmit(_ c: Int, fromClient: Bool, limit: Int) {
        let conn = connections[c]
        guard let incarnation = conn.incarnations.last else { return }
        let receiver = fromClient ? incarnation.atServer : incarnation.atClient
        let sent = fromClient ? conn.clientSent : conn.serverSent
        let isn = fromClient ? conn.clientISN : conn.serverISN
        guard let next = receiver.next else { return }
        let have = (isn + 1).distance(to: next)
        guard have >= 0, have < sent.count else { return }
        let payload = Array(sent[have..<min(sent.count, have + limit)])
        note("\(fromClient ? "C" : "S")\(c) retransmits \(payload.count) at \(next)")
        let bytes = build(c, fromClient: fromClient, flags: [.ack, .psh], sequence: next,
                          ack: readPoint(c, byClient: fromClient), payload: payload)
        send(bytes, c, fromClient: fromClient, good: true, checksumNotReady: false)
    }

    mutating func raw(checksumNotReady: Bool) {
        let bytes = reader.bytes(Int(reader.u16()) % 2048)
        note("raw \(bytes.count) bytes\(checksumNotReady ? " csum-not-ready" : "")")
        send(bytes, nil, fromClient: true, good: Self.checksumsGood(bytes), checksumNotReady: checksumNotReady)
    }

    mutating func reload(_ bits: UInt8) {
        let policy = FlowEngineFuzz.policyBits(fromReload: bits)
        note("reload: \(SMTPSessionFuzz.policyDescription(policy))")
        ruleBits = policy
        rule = InspectionRuleBinding(name: "FUZZ", policy: SMTPSessionFuzz.policies[Int(policy)], idleTimeout: 30)
        engine.adopt([rule])
        for c in connections.indices {
            for k in connections[c].incarnations.indices { connections[c].incarnations[k].steps.append(.adopt(policy)) }
        }
    }
}
