import FlowEngine
import PacketWire
import SMTPInspection
import TestSupport
import Testing

/// The engine against a simple model (smoltcp's assembler tests do the same): for random
/// sessions sent as random segments, reordered, duplicated and lost (and retransmitted), the
/// server and the client must receive exactly what the SMTP core alone produces for the same
/// bytes given whole. Whatever TCP does, the inspection outcome may not change.
@Suite("FlowEngine: random segmentation against the core alone")
struct FlowEngineModelTests {
    /// Steps: (from client?, bytes). Replies stay consistent with the commands.
    static func script(_ rng: inout SplitMix64) -> [(Bool, [UInt8])] {
        let commands = ["NOOP", "RSET", "VRFY bob", "EXPN staff", "MAIL FROM:<a@b> SIZE=100", "RCPT TO:<c@d>",
                        "TURN", "MAIL FROM:<a@b> FOO=1", "HELP", "GET / HTTP/1.0"]
        var steps: [(Bool, [UInt8])] = [(false, Array(banner.utf8)), (true, Array("EHLO c\r\n".utf8)), (false, Array(ehloReply.utf8))]
        for _ in 0..<(2 + rng.below(4)) {
            let group = (0..<(1 + rng.below(3))).map { _ in commands[rng.below(commands.count)] }
            let data = rng.below(2) == 0
            var text = group.map { $0 + "\r\n" }.joined()
            if data { text += "DATA\r\n" }
            steps.append((true, Array(text.utf8)))
            var replies = String(repeating: "250 Ok\r\n", count: group.count)
            if data {
                replies += "354 go\r\n"
                steps.append((false, Array(replies.utf8)))
                steps.append((true, Array("Subject: t\r\n\r\nEXPN not a command\r\n..\r\n.\r\n".utf8)))
                steps.append((false, Array("250 queued\r\n".utf8)))
            } else {
                steps.append((false, Array(replies.utf8)))
            }
        }
        return steps
    }

    /// What the core alone makes of the steps given whole: the bytes each side receives.
    static func expected(_ steps: [(Bool, [UInt8])], policy: SMTPPolicy) -> (toServer: [UInt8], toClient: [UInt8]) {
        var session = SMTPSession(policy: policy)
        var output = SMTPOutput()
        var toServer: [UInt8] = [], toClient: [UInt8] = [], held: [UInt8] = []
        func masked(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var copy = Array(bytes)
            for m in output.masks { for k in m.range { copy[k] = m.byte } }
            return copy
        }
        for (fromClient, bytes) in steps {
            output.removeAll()
            if fromClient {
                let all = held + bytes
                let v = session.receiveClient(all.span, into: &output)
                toServer += masked(all[..<v.consumed])
                held = Array(all[v.consumed...])
            } else {
                var rest = bytes[...]
                while !rest.isEmpty {
                    let piece = Array(rest)
                    output.removeAll()
                    let v = session.receiveServer(piece.span, into: &output)
                    toClient += masked(piece[..<v.consumed])
                    rest = rest.dropFirst(v.consumed)
                    if v.resumeClient && !held.isEmpty {
                        let all = held
                        output.removeAll()
                        let c = session.receiveClient(all.span, into: &output)
                        toServer += masked(all[..<c.consumed])
                        held = Array(all[c.consumed...])
                    }
                }
            }
        }
        return (toServer, toClient)
    }

    /// Sends one step as impaired segments, then lets TCP retransmit until nothing moves.
    static func send(_ bytes: [UInt8], fromClient: Bool, on net: inout Network, rng: inout SplitMix64) {
        let isn = fromClient ? net.clientISN : net.serverISN
        let base = isn + 1 + (fromClient ? net.clientSent.count : net.serverSent.count)
        if fromClient { net.clientSent += bytes } else { net.serverSent += bytes }
        var segments: [(SequenceNumber, [UInt8])] = []
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 + rng.below(12))
            segments.append((base + offset, Array(bytes[offset..<(offset + n)])))
            offset += n
        }
        // Reorder neighbours, duplicate some, lose some.
        for k in segments.indices.dropLast() where rng.below(4) == 0 { segments.swapAt(k, k + 1) }
        for (seq, payload) in segments {
            if rng.below(8) == 0 { continue }
            net.send(fromClient: fromClient, flags: [.ack, .psh], sequence: seq, payload: payload)
            if rng.below(6) == 0 { net.send(fromClient: fromClient, flags: [.ack, .psh], sequence: seq, payload: payload) }
        }
        for _ in 0..<4 { net.retransmit(fromClient: fromClient) }
    }

    @Test("300 random sessions through impaired TCP reach both ends as the core alone decides", arguments: 0..<6)
    func randomSessions(batch: Int) {
        var held = 0, reordered = 0
        for seed in (batch * 50)..<(batch * 50 + 50) {
            var rng = SplitMix64(seed: UInt64(seed) &* 7919)
            let steps = Self.script(&rng)
            var net = Network()
            net.handshake()
            for (fromClient, bytes) in steps {
                Self.send(bytes, fromClient: fromClient, on: &net, rng: &rng)
            }
            let want = Self.expected(steps, policy: net.rule.policy)
            #expect(net.atServer.data == want.toServer, "seed \(seed): server got \(net.serverText.debugDescription)")
            #expect(net.atClient.data == want.toClient, "seed \(seed): client got \(net.clientText.debugDescription)")
            #expect(net.resetsSeen == 0, "seed \(seed)")
            held += Int(net.engine.statistics.held)
            reordered += Int(net.engine.statistics.outOfOrder)
        }
        #expect(held > 0 && reordered > 0, "the impairments must exercise holding and reordering")
    }
}
