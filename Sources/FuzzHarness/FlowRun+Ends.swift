import FlowEngine
import PacketWire

// The flow target's engine side and its model ends (FlowEngineFuzz.swift has the format).

extension FlowRun {
    // MARK: - The engine and the ends

    /// One packet through the engine, its verdict applied, and any held packets released.
    mutating func send(_ original: [UInt8], _ c: Int?, fromClient: Bool, good: Bool, checksumNotReady: Bool) {
        let token = nextToken
        nextToken += 1
        var bytes = original
        let verdict: PacketVerdict
        do {
            var span = bytes.mutableSpan
            verdict = engine.process(&span, token: token, rule: rule, checksumNotReady: checksumNotReady, at: now, into: &output)
        }
        note("  -> \(verdict)")
        apply(verdict, bytes: bytes, original: original, token: token, good: good, checksumNotReady: checksumNotReady,
              origin: "packet \(token)")
        collect(origin: "packet \(token)")
    }

    mutating func apply(_ verdict: PacketVerdict, bytes: [UInt8], original: [UInt8], token: UInt64, good: Bool,
                        checksumNotReady: Bool, origin: String) {
        switch verdict {
        case .accept:
            findings.check(bytes == original, "\(origin): accept, but the engine changed the bytes")
            forward(original, original: original, good: good, checksumNotReady: checksumNotReady, modified: false,
                    origin: origin)
        case .acceptModified(let length):
            guard length >= 20 && length <= bytes.count else {
                findings.add("\(origin): acceptModified(length: \(length)) of a \(bytes.count)-byte packet")
                return
            }
            forward(Array(bytes[..<length]), original: original, good: good, checksumNotReady: checksumNotReady,
                    modified: true, origin: origin)
        case .hold:
            findings.check(held[token] == nil, "\(origin): token \(token) held twice")
            held[token] = (original, good, checksumNotReady)
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

    /// A packet leaves the engine: it must parse, be as long as it says, and carry good
    /// checksums; then the end it is for reads it. `original` is the packet as its sender sent it.
    mutating func forward(_ sent: [UInt8], original: [UInt8], good: Bool, checksumNotReady: Bool, modified: Bool,
                          origin: String) {
        guard let packet = try? TCPPacket(checking: sent.span) else {
            // Only what the engine could not read may leave it unread (and then unchanged).
            findings.check(!modified, "\(origin): a modified packet that does not parse")
            return
        }
        if modified {
            findings.check(packet.totalLength == sent.count,
                           "\(origin): modified packet of \(sent.count) bytes says it has \(packet.totalLength)")
        }
        var wire = sent
        if checksumNotReady {
            // The kernel finishes the checksum of a CHECKSUM_PARTIAL packet on its way out.
            var span = wire.mutableSpan
            packet.recomputeTCPChecksum(in: &span)
        } else {
            let valid = packet.verifyChecksums(in: sent.span)
            if !valid && (good || !guards.badChecksumsPass) {
                findings.add("\(origin): forwarded with a bad checksum (\(modified ? "modified" : "as sent")\(good ? "" : ", sent bad"))")
            }
            // The receiving stack drops it (guarded: reads it, as the engine took it).
            guard valid || guards.badChecksumsPass else { return }
        }
        deliver(packet, wire, original: original)
    }

    /// The receiving end reads the packet as Linux would (and the bytes its sender sent there,
    /// for the check in `Incarnation.verify`).
    mutating func deliver(_ packet: TCPPacket, _ bytes: [UInt8], original: [UInt8]) {
        guard let c = connection(of: packet) else { return }
        if case .v4(let ip) = packet.network, ip.isFragment { return }  // reassembly is not modelled
        let toServer = packet.flowKey.destination == connections[c].server
        let flags = packet.flags
        // Linux looks at RST before SYN (tcp_validate_incoming).
        if flags.contains(.rst) {
            guard var last = connections[c].incarnations.last else { return }
            // Its sender has aborted the connection. Its receiver: RFC 5961 §3, only an RST at
            // exactly the next sequence number resets (guarded: any RST does).
            let next = toServer ? last.atServer.next : last.atClient.next
            let resets = next == packet.sequenceNumber || guards.resetsNotValidated
            if toServer || resets { last.atClient.closed = true }
            if !toServer || resets { last.atServer.closed = true }
            connections[c].incarnations[connections[c].incarnations.count - 1] = last
            return
        }
        if flags.contains(.syn) {
            if toServer && !flags.contains(.ack) {
                // A SYN opens a connection unless one is still open: not reset, not closed both
                // ways (RFC 5961 §4: a SYN on a synchronized connection gets a challenge ACK).
                let open = connections[c].incarnations.last.map {
                    !$0.atServer.closed && ($0.atServer.fin == nil || $0.atClient.fin == nil)
                } ?? false
                if !open {
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
        let range = packet.payloadRange
        let sent = range.upperBound <= original.count ? Array(original[range]) : payload
        let read = receiver.receive(sequence: packet.sequenceNumber, payload: payload, original: sent,
                                    fin: flags.contains(.fin), urgentPointer: urgent,
                                    removesUrgentByte: !guards.urgentByteJudged,
                                    stopsAtFIN: !guards.dataAfterFINJudged)
        last.read(read.bytes, sent: read.original, byServer: toServer)
        if !read.bytes.isEmpty {
            note("    the \(toServer ? "server" : "client") reads \"\(escaped(read.bytes.prefix(80)))\"")
        }
        if toServer { last.atServer = receiver } else { last.atClient = receiver }
        connections[c].incarnations[connections[c].incarnations.count - 1] = last
    }

    /// KnownIssueGuards.expiredSessionsLeftOpen: a connection whose session the engine has
    /// forgotten is taken as reset at both ends (as the engine assumes it is).
    mutating func closeForgottenConnections() {
        let sessions = engine.sessions()
        for c in connections.indices {
            guard var last = connections[c].incarnations.last, !last.atServer.closed else { continue }
            let known = sessions.contains { $0.initiator == connections[c].client && $0.responder == connections[c].server }
            if !known {
                note("  (the engine forgot connection \(c): its ends are taken as reset)")
                last.atServer.closed = true
                last.atClient.closed = true
                connections[c].incarnations[connections[c].incarnations.count - 1] = last
            }
        }
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
            apply(release.verdict, bytes: release.bytes, original: entry.bytes, token: release.token,
                  good: entry.goodChecksums, checksumNotReady: entry.checksumNotReady, origin: "release of \(release.token)")
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

    func renderShow() {
        _ = ShowInspect.sessions(engine.sessions(), now: now, detail: true)
        _ = ShowInspect.statistics(engine.statistics, now: now, since: start, interfaces: 1)
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
