import Testing
@testable import SMTPInspection

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
    @Test("A session's state is small (≤ 256 bytes, DESIGN.md invariant 6)")
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
}
