import Testing
@testable import SMTPInspection
import TestSupport

@Suite("TokenTrie")
struct TokenTrieTests {
    let trie = TokenTrie(tokens: ["HELO", "HELP", "EHLO", "X-LINK"])

    @Test("Tokens match case-insensitively and nothing else does",
          arguments: [("HELO", 0), ("help", 1), ("eHlO", 2), ("x-link", 3), ("HEL", nil), ("HELOS", nil), ("", nil), ("H\u{0}LO", nil)])
    func matching(text: String, id: Int?) {
        #expect(trie.match(Array(text.utf8)) == id)
    }

    @Test("Reachable sets shrink along a path and the dead state is absorbing")
    func reachable() {
        var state = TokenTrie.start
        #expect(trie.reachable(state) == 0b1111)
        state = trie.step(state, UInt8(ascii: "h"))
        #expect(trie.reachable(state) == 0b0011)
        state = trie.step(state, UInt8(ascii: "E"))
        state = trie.step(state, UInt8(ascii: "L"))
        #expect(trie.reachable(state) == 0b0011)
        state = trie.step(state, UInt8(ascii: "p"))
        #expect(trie.reachable(state) == 0b0010)
        #expect(trie.accepted(state) == 1)
        let dead = trie.step(state, UInt8(ascii: "X"))
        #expect(dead == TokenTrie.dead)
        for byte in UInt8.min...UInt8.max { #expect(trie.step(dead, byte) == TokenTrie.dead) }
    }

    @Test("Each policy compiles its own allow-list; no allowed verb is a prefix of another")
    func policyVerbs() {
        for policy in [SMTPPolicy(kind: .smtp), SMTPPolicy(kind: .esmtp), SMTPPolicy(kind: .esmtp, allowSTARTTLS: true)] {
            let expected = policy.kind == .smtp ? 12 : (policy.allowSTARTTLS ? 16 : 15)
            #expect(policy.allowedVerbs.count == expected)
            for (id, verb) in policy.allowedVerbs.enumerated() {
                #expect(policy.verbTrie.match(Array(verb.text.utf8)) == id)
                for other in policy.allowedVerbs where other != verb {
                    #expect(!other.text.hasPrefix(verb.text))
                }
            }
        }
        #expect(SMTPPolicy(kind: .smtp).verbTrie.match(Array("EHLO".utf8)) == nil)
    }
}

/// `#expect` cannot wrap a mutating call.
private func push(_ fifo: inout PendingReplies, _ kind: PendingReplies.Kind) -> Bool {
    fifo.push(kind)
}

@Suite("PendingReplies")
struct PendingRepliesTests {
    @Test("Runs of the same kind share an entry and leave in order")
    func runs() {
        var fifo = PendingReplies()
        #expect(push(&fifo, .other))
        for _ in 0..<99 { #expect(push(&fifo, .other)) }
        #expect(push(&fifo, .data))
        #expect(fifo.runCount == 2)
        #expect(fifo.total == 101)
        for _ in 0..<100 {
            #expect(fifo.front == .other)
            fifo.popFront()
        }
        #expect(fifo.front == .data)
        #expect(fifo.back == .data)
        fifo.popFront()
        #expect(fifo.isEmpty)
        fifo.popFront()  // popping an empty FIFO is harmless
        #expect(fifo.isEmpty && fifo.total == 0)
    }

    @Test("Capacity is bounded; a full FIFO refuses, unchanged")
    func capacity() {
        var fifo = PendingReplies()
        let kinds: [PendingReplies.Kind] = [.ehlo, .other]
        for i in 0..<PendingReplies.capacity { #expect(push(&fifo, kinds[i % 2])) }
        let before = fifo.total
        #expect(!push(&fifo, kinds[PendingReplies.capacity % 2]))
        #expect(fifo.total == before)
        // Wrap-around: pop two, push two.
        fifo.popFront(); fifo.popFront()
        #expect(push(&fifo, .ehlo))
        #expect(push(&fifo, .other))
        #expect(fifo.total == PendingReplies.capacity)
    }

    @Test("A run saturates at 4095 and continues in a new entry")
    func saturation() {
        var fifo = PendingReplies()
        for _ in 0..<5000 { #expect(push(&fifo, .other)) }
        #expect(fifo.runCount == 2)
        #expect(fifo.total == 5000)
    }
}

@Suite("Session size and reload")
struct SessionPropertiesTests {
    @Test("A session's state is small (≤ 256 bytes, docs/design.md invariant 7)")
    func stateSize() {
        #expect(MemoryLayout<SMTPSession>.size <= 256)
    }

    @Test("A reloaded policy applies from the next command line")
    func adoptAtNextLine() {
        var harness = SessionHarness(policy: .esmtpDefault)
        for case let step in Script.opening {
            switch step {
            case let .client(b): harness.client(b)
            case let .server(b): harness.server(b)
            }
        }
        harness.client(Array("ETRN exam".utf8))
        harness.session.adopt(.smtpDefault)  // smtp does not allow ETRN
        harness.client(Array("ple.org\r\n".utf8))
        harness.server(Array("250 ok\r\n".utf8))
        harness.client(Array("ETRN example.org\r\n".utf8))
        #expect(lines(harness.outcome.toServer).suffix(3) == ["ETRN example.org", "xxxxxxxxxxxxxxxx", ""])
        #expect(harness.session.policy.kind == .smtp)
    }

    /// Fuzzing found it: the EHLO reply's keyword was read half with esmtp's keyword table and
    /// half with smtp's smaller one ("Index out of range" in TokenTrie.step).
    @Test("A reload while an EHLO reply is being read waits for the reply's end")
    func adoptWaitsForTheReply() {
        var harness = SessionHarness(policy: .esmtpDefault)
        harness.server(Array("220 mx\r\n".utf8))
        harness.client(Array("EHLO a\r\n".utf8))
        harness.server(Array("250-mx\r\n250-ENHANCEDSTATUS".utf8))
        harness.session.adopt(.smtpDefault)
        harness.client(Array("NOOP\r\n".utf8))
        #expect(harness.session.policy.kind == .esmtp, "switched in the middle of a reply")
        harness.server(Array("CODES\r\n250 8BITMIME\r\n".utf8))
        harness.server(Array("250 ok\r\n".utf8))
        harness.client(Array("ETRN example.org\r\n".utf8))  // smtp allows no ETRN: the next line switches
        #expect(harness.session.policy.kind == .smtp)
        #expect(lines(harness.outcome.toServer).suffix(2) == ["xxxxxxxxxxxxxxxx", ""])
        #expect(!harness.outcome.tornDown)
    }
}

@Suite("ByteWords")
struct ByteWordsTests {
    /// Words built from bytes near each test's edges, so every predicate is both true and false;
    /// every other word is path text but for at most one byte.
    static func words(count: Int) -> [[UInt8]] {
        let edges: [UInt8] = [0x00, 0x01, 0x0A, 0x0D, 0x20, 0x21, 0x22, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x41,
                              0x7E, 0x7F, 0x80, 0x81, 0xFE, 0xFF]
        var rng = SplitMix64(seed: 7)
        return (0..<count).map { k in
            var bytes = (0..<8).map { _ in
                let r = rng.next()
                return r & 1 == 0 ? edges[Int(r >> 8) % edges.count] : UInt8(truncatingIfNeeded: r >> 16)
            }
            if k % 2 == 0 {
                for i in 0..<8 { bytes[i] = UInt8(ascii: "a") &+ UInt8(rng.next() % 26) }
                if k % 4 == 0 { bytes[Int(rng.next() % 8)] = edges[Int(rng.next() % UInt64(edges.count))] }
            }
            return bytes
        }
    }

    @Test("Each word test agrees with the same test byte by byte")
    func agreesWithBytes() {
        for bytes in Self.words(count: 20_000) {
            let word = bytes.span.withUnsafeBytes { unsafe $0.loadUnaligned(as: UInt64.self) }
            let tests: [(UInt64, (UInt8) -> Bool)] = [
                (ByteWords.bytes(word, equalTo: 0x22), { $0 == 0x22 }),
                (ByteWords.bytes(word, equalTo: 0x0A), { $0 == 0x0A }),
                (ByteWords.bytes(word, equalTo: 0x0D), { $0 == 0x0D }),
            ]
            for (mask, test) in tests {
                // Some byte is flagged exactly when one passes, and the first flagged is the first.
                #expect((mask != 0) == bytes.contains(where: test), "\(bytes)")
                if mask != 0 { #expect(ByteWords.firstFlagged(mask) == bytes.firstIndex(where: test), "\(bytes)") }
            }
        }
    }
}

@Suite("ShortText")
struct ShortTextTests {
    @Test("Built from a span in one load or byte by byte, it is the same text")
    func fromSpan() {
        let bytes = Array("STARTTLS mail FROM:<a@b> and more than sixteen bytes".utf8)
        for offset in [0, 9, bytes.count - 10, bytes.count - 3] {
            for count in 0...min(17, bytes.count - offset) {
                var appended = ShortText()
                for byte in bytes[offset..<(offset + count)] { appended.append(byte) }
                let loaded = ShortText(bytes.span, at: offset, count: count)
                #expect(loaded == appended, "offset \(offset), count \(count)")
                #expect(loaded.description == String(decoding: bytes[offset..<(offset + min(count, 16))], as: UTF8.self))
            }
        }
    }
}

@Suite("WordPattern")
struct WordPatternTests {
    /// Letters match in either case; every other byte exactly.
    static func reference(_ pattern: String, _ bytes: [UInt8]) -> Bool {
        zip(pattern.utf8, bytes).allSatisfy { p, b in
            let isLetter = (p | 0x20) >= UInt8(ascii: "a") && (p | 0x20) <= UInt8(ascii: "z")
            return isLetter ? (b | 0x20) == (p | 0x20) : b == p
        }
    }

    @Test("A pattern matches exactly the bytes a case-insensitive compare of its letters accepts",
          arguments: ["RCPT", "TO:<", "FROM:<", "NOTIFY=", "SUCCESS", "RET="])
    func exact(pattern: String) {
        let word = WordPattern(pattern)
        let base = Array(pattern.utf8)
        var rng = SplitMix64(seed: 11)
        var matched = 0
        for _ in 0..<20_000 {
            var bytes = base + [UInt8](repeating: 0x20, count: 8 - base.count)
            for k in 0..<8 {
                switch rng.next() % 12 {
                case 0: bytes[k] ^= 0x20                                  // case flip, or a control byte
                case 1: bytes[k] = UInt8(truncatingIfNeeded: rng.next())  // anything
                case 2: bytes[k] ^= 0x80
                default: break
                }
            }
            let loaded = bytes.span.withUnsafeBytes { unsafe $0.loadUnaligned(as: UInt64.self) }
            let expected = Self.reference(pattern, bytes)
            if expected { matched += 1 }
            #expect(word.matches(loaded) == expected, "\(pattern) \(bytes)")
        }
        #expect(matched > 100 && matched < 19_900)  // both outcomes were tried
    }
}
