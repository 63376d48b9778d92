import FlowEngine
import PacketWire

// The flow target's engine side and its model ends (FlowEngineFuzz.swift has the format).

extension FlowRun {
    // MARK: - The engine and the ends

    /// One packet through the engine, its verdict applied, and any held packets released.
    /// `wrongSide`: it arrives on the interface of the other side (forged, issue 10 class 6);
    /// `verified`: the kernel checked its checksums (only for good ones).
    mutating func send(_ original: [UInt8], _ c: Int?, fromClient: Bool, good: Bool, checksumNotReady: Bool,
                       wrongSide: Bool = false, verified: Bool = false) {
        let token = nextToken
        nextToken += 1
        serverPacketInProgress = !fromClient
        for c in connections.indices {
            for k in connections[c].incarnations.indices { connections[c].incarnations[k].releasePoint = nil }
        }
        defer { serverPacketInProgress = false }
        let sent = SentPacket(bytes: original, good: good, checksumNotReady: checksumNotReady,
                              forged: wrongSide && interfacesKnown)
        if passesUnqueued(sent) { return }
        var bytes = original
        let verdict: PacketVerdict
        let checksum: ChecksumStatus = checksumNotReady ? .notReady : verified && good ? .verified : .unverified
        // Client side is interface 1, server side 2.
        let arrival = fromClient != wrongSide
        let interfaces = interfacesKnown ? PacketInterfaces(input: arrival ? 1 : 2, output: fromClient ? 2 : 1) : nil
        do {
            var span = bytes.mutableSpan
            let meta = PacketMetadata(token: token, rule: rule, checksum: checksum, interfaces: interfaces)
            verdict = engine.process(&span, meta, at: now, into: &output)
        }
        note("  -> \(verdict)")
        // Without interfaces (a capture replay) nothing tells a forged packet from a genuine one.
        apply(verdict, bytes: bytes, sent: sent, token: token, origin: "packet \(token)")
        collect(origin: "packet \(token)")
    }

    mutating func apply(_ verdict: PacketVerdict, bytes: [UInt8], sent: SentPacket, token: UInt64, origin: String) {
        let original = sent.bytes
        switch verdict {
        case .accept:
            findings.check(bytes == original, "\(origin): accept, but the engine changed the bytes")
            forward(original, sent: sent, modified: false, origin: origin)
        case .acceptBypassing:
            findings.check(bytes == original, "\(origin): acceptBypassing, but the engine changed the bytes")
            if let packet = try? TCPPacket(checking: original.span), let c = connection(of: packet) {
                // The rules save the packet's mark to the connection: its later packets pass.
                connections[c].bypassing = !bypassStaysQueued
                note("  connection \(c) leaves the queue")
            } else {
                findings.add("\(origin): acceptBypassing of a packet of no connection")
            }
            forward(original, sent: sent, modified: false, origin: origin)
        case .acceptModified(let length):
            guard length >= 20 && length <= bytes.count else {
                findings.add("\(origin): acceptModified(length: \(length)) of a \(bytes.count)-byte packet")
                return
            }
            forward(Array(bytes[..<length]), sent: sent, modified: true, origin: origin)
        case .hold:
            findings.check(held[token] == nil, "\(origin): token \(token) held twice")
            var kept = sent
            kept.carried = overlaidByHeld(sent)
            held[token] = kept
        case .drop, .reset:
            break
        }
        if verdict == .reset, let packet = try? TCPPacket(checking: original.span), let c = connection(of: packet) {
            // The daemon resets both ends of a torn-down session.
            if var last = connections[c].incarnations.last {
                last.atServer.closed = true
                last.atClient.closed = true
                connections[c].incarnations[connections[c].incarnations.count - 1] = last
            }
        }
    }

    /// A packet of a connection that left the queue, which the kernel passes without asking the
    /// engine (true; the receiver reads it as it was sent). A client's SYN is queued again, and
    /// so is everything after it: the generated rules clear the connection's mark for every SYN
    /// (conntrack may give a new connection the old entry), whether or not the server's
    /// connection is still open.
    mutating func passesUnqueued(_ sent: SentPacket) -> Bool {
        guard let packet = try? TCPPacket(checking: sent.bytes.span), let c = connection(of: packet),
              connections[c].bypassing else { return false }
        let flags = packet.flags
        if flags.contains(.syn) && !flags.contains(.ack) && packet.flowKey.source == connections[c].client {
            connections[c].bypassing = false
            return false
        }
        note("  -> not queued (the connection left the queue)")
        var wire = sent.bytes
        if sent.checksumNotReady {
            var span = wire.mutableSpan
            packet.recomputeTCPChecksum(in: &span)
        } else if !packet.verifyChecksums(in: sent.bytes.span) {
            return true  // the receiving stack drops it
        }
        if !sent.forged { deliver(packet, wire, original: sent.bytes) }
        return true
    }

    /// A packet leaves the engine: it must parse, be as long as it says, and carry good
    /// checksums; then the end it is for reads it. `original` is the packet as its sender sent it.
    mutating func forward(_ forwarded: [UInt8], sent: SentPacket, modified: Bool, origin: String) {
        let (good, checksumNotReady) = (sent.good, sent.checksumNotReady)
        guard let packet = try? TCPPacket(checking: forwarded.span) else {
            // Only what the engine could not read may leave it unread (and then unchanged).
            findings.check(!modified, "\(origin): a modified packet that does not parse")
            return
        }
        if modified {
            findings.check(packet.totalLength == forwarded.count,
                           "\(origin): modified packet of \(forwarded.count) bytes says it has \(packet.totalLength)")
        }
        var wire = forwarded
        if checksumNotReady {
            // The kernel finishes the checksum of a CHECKSUM_PARTIAL packet on its way out.
            var span = wire.mutableSpan
            packet.recomputeTCPChecksum(in: &span)
        } else {
            let valid = packet.verifyChecksums(in: forwarded.span)
            if !valid {
                findings.add("\(origin): forwarded with a bad checksum (\(modified ? "modified" : "as sent")\(good ? "" : ", sent bad"))")
            }
            guard valid else { return }  // the receiving stack drops it
        }
        // A forged packet is not what its claimed sender sent: the model ends do not read it, so
        // whatever it changed in the engine shows in what they did read.
        guard !sent.forged else { return }
        deliver(packet, wire, original: sent.carried)
    }

    /// The receiving end reads the packet as Linux would (and the bytes its sender sent there,
    /// for the check in `Incarnation.verify`). Fragments never come here: `TCPPacket(checking:)`
    /// refuses them, so reassembly is not modelled.
    mutating func deliver(_ packet: TCPPacket, _ bytes: [UInt8], original: [UInt8]) {
        guard let c = connection(of: packet) else { return }
        let toServer = packet.flowKey.destination == connections[c].server
        let flags = packet.flags
        // Linux looks at RST before SYN (tcp_validate_incoming).
        if flags.contains(.rst) {
            guard var last = connections[c].incarnations.last else { return }
            // RFC 5961 §3: an RST resets only at exactly the receiver's next sequence number.
            // Its sender's TCP would have sent it there, so one elsewhere is forged and its
            // "sender" has not aborted either.
            let next = toServer ? last.atServer.next : last.atClient.next
            if next == packet.sequenceNumber {
                last.atClient.closed = true
                last.atServer.closed = true
            }
            connections[c].incarnations[connections[c].incarnations.count - 1] = last
            return
        }
        if flags.contains(.syn) {
            if toServer && !flags.contains(.ack) {
                // A SYN opens a connection unless one is still open.
                if !connections[c].isOpenAtServer {
                    var incarnation = Incarnation(policyBits: ruleBits)
                    incarnation.atServer.start(isn: packet.sequenceNumber)
                    connections[c].incarnations.append(incarnation)
                }
            } else if !toServer && flags.contains(.ack), var last = connections[c].incarnations.last,
                      last.atClient.next == nil {
                last.atClient.start(isn: packet.sequenceNumber)
                connections[c].incarnations[connections[c].incarnations.count - 1] = last
            }
            return  // a SYN's data is not read (no TCP Fast Open on the server)
        }
        guard var last = connections[c].incarnations.last else { return }
        var receiver = toServer ? last.atServer : last.atClient
        let urgent: UInt16? = flags.contains(.urg) ? packet.tcp.urgentPointer : nil
        let payload = Array(bytes[packet.payloadRange])
        // What the sender put at these sequence numbers (the engine may have trimmed the front).
        var sent = payload
        if let first = try? TCPPacket(checking: original.span), first.totalLength <= original.count {
            let shift = first.sequenceNumber.distance(to: packet.sequenceNumber)
            let theirs = Array(original[first.payloadRange])
            for k in sent.indices where shift + k >= 0 && shift + k < theirs.count { sent[k] = theirs[shift + k] }
        }
        let read = receiver.receive(sequence: packet.sequenceNumber, payload: payload, original: sent,
                                    fin: flags.contains(.fin), urgentPointer: urgent,
                                    removesUrgentByte: true)
        last.read(read.bytes, sent: read.original, byServer: toServer, duringServerPacket: serverPacketInProgress)
        if !read.bytes.isEmpty {
            note("    the \(toServer ? "server" : "client") reads \"\(escaped(read.bytes.prefix(80)))\"")
        }
        if toServer { last.atServer = receiver } else { last.atClient = receiver }
        connections[c].incarnations[connections[c].incarnations.count - 1] = last
    }

    /// A packet's bytes with those of the genuine packets held before it, in the same direction,
    /// written over the ones they share, in the order they were held (`SentPacket.carried`).
    func overlaidByHeld(_ sent: SentPacket) -> [UInt8] {
        guard sent.genuine, let packet = try? TCPPacket(checking: sent.bytes.span),
              packet.totalLength <= sent.bytes.count else { return sent.bytes }
        var bytes = sent.bytes
        let payload = packet.payloadRange
        for token in held.keys.sorted() {
            guard let earlier = held[token], earlier.genuine,
                  let other = try? TCPPacket(checking: earlier.carried.span), other.totalLength <= earlier.carried.count,
                  other.flowKey == packet.flowKey else { continue }
            for k in payload.indices {
                let j = other.sequenceNumber.distance(to: packet.sequenceNumber + (k - payload.lowerBound))
                if j >= 0 && j < other.payloadRange.count { bytes[k] = earlier.carried[other.payloadRange.lowerBound + j] }
            }
        }
        return bytes
    }

    /// Released held packets, and the engine's events, trace and resets.
    mutating func collect(origin: String) {
        let releases = output.releases
        for event in output.events { _ = event.kind }
        for line in output.trace { _ = line.record.description }
        output.removeAll()
        for release in releases {
            guard let entry = held.removeValue(forKey: release.token) else {
                findings.add("\(origin): release of token \(release.token), which is not held")
                continue
            }
            note("  release \(release.token) -> \(release.verdict)")
            apply(release.verdict.packetVerdict, bytes: release.bytes, sent: entry, token: release.token,
                  origin: "release of \(release.token)")
            collect(origin: origin)
        }
    }

    mutating func finish() {
        renderShow()
        now = now + 100_000
        engine.tick(at: now, into: &output)
        collect(origin: "final tick")
        engine.tick(at: now + 100_000, into: &output)
        collect(origin: "final tick")
        findings.check(held.isEmpty, "\(held.count) held packets never released: tokens \(held.keys.sorted())")
        findings.check(engine.sessionCount == 0, "\(engine.sessionCount) sessions left after every timeout")
        for (c, conn) in connections.enumerated() {
            for (k, incarnation) in conn.incarnations.enumerated() {
                incarnation.verify(into: &findings, name: "connection \(c).\(k)")
            }
        }
    }

    /// What `show ip inspect sessions detail` reads (its rendering lives in the executable).
    func renderShow() {
        for session in engine.sessions() { _ = (session.smtpMode, session.pendingReplies, session.heldPackets) }
        _ = engine.statistics
    }

    // MARK: - Packets

    /// What the receiving side of this sender has read so far (the ACK it would send).
    func readPoint(_ c: Int, byClient: Bool) -> SequenceNumber {
        let conn = connections[c]
        guard let incarnation = conn.incarnations.last else { return byClient ? conn.serverISN + 1 : conn.clientISN + 1 }
        let receiver = byClient ? incarnation.atClient : incarnation.atServer
        return receiver.next ?? (byClient ? conn.serverISN + 1 : conn.clientISN + 1)
    }

    func build(_ c: Int, fromClient: Bool, flags: TCPFlags, sequence: SequenceNumber, ack: SequenceNumber,
               payload: [UInt8]) -> [UInt8] {
        let conn = connections[c]
        var builder = TCPPacketBuilder(from: fromClient ? conn.client : conn.server, to: fromClient ? conn.server : conn.client,
                                       sequenceNumber: sequence, acknowledgmentNumber: ack, flags: flags, payload: payload)
        builder.identification = UInt16(truncatingIfNeeded: nextToken)
        return builder.build()
    }

    func connection(of packet: TCPPacket) -> Int? {
        let key = packet.flowKey
        return connections.firstIndex { conn in
            (key.source == conn.client && key.destination == conn.server)
                || (key.source == conn.server && key.destination == conn.client)
        }
    }

    /// Puts raw option bytes (padded to a multiple of 4) after the TCP header and fixes the
    /// lengths and checksums.
    func insertingOptions(_ options: [UInt8], into packet: [UInt8]) -> [UInt8] {
        var padded = options
        while padded.count % 4 != 0 { padded.append(0) }
        let tcpOffset = ipv6 ? 40 : 20
        var bytes = packet
        bytes.insert(contentsOf: padded, at: tcpOffset + 20)
        let dataOffset = (20 + padded.count) / 4
        bytes[tcpOffset + 12] = UInt8(dataOffset << 4) | (bytes[tcpOffset + 12] & 0x0F)
        if ipv6 {
            let length = bytes.count - 40
            bytes[4] = UInt8(length >> 8)
            bytes[5] = UInt8(length & 0xFF)
        } else {
            bytes[2] = UInt8(bytes.count >> 8)
            bytes[3] = UInt8(bytes.count & 0xFF)
        }
        if let packet = try? TCPPacket(checking: bytes.span) {
            var span = bytes.mutableSpan
            packet.recomputeChecksums(in: &span)
        }
        return bytes
    }

    func corruptTCPChecksum(_ bytes: inout [UInt8]) {
        let field = (ipv6 ? 40 : 20) + 16
        guard bytes.count > field + 1 else { return }
        bytes[field] ^= 0x5A
        bytes[field + 1] ^= 0xA5
    }

    static func checksumsGood(_ bytes: [UInt8]) -> Bool {
        guard let packet = try? TCPPacket(checking: bytes.span) else { return true }
        return packet.verifyChecksums(in: bytes.span)
    }

    mutating func note(_ line: @autoclosure () -> String) {
        if describing { log.append(line()) }
    }
}
