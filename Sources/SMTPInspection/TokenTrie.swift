/// A compiled, case-insensitive recogniser for a small set of ASCII tokens (verbs, keywords,
/// parameter values), shared read-only by every session.
///
/// This is the seed's `cmd_re_state`: a session keeps only the current state (a small integer)
/// and advances it one byte at a time. Each state also knows which tokens are still reachable
/// from it, as a bit set over token ids, so a caller can ask "is this still a prefix of a token I
/// allow?" with one AND, even when what it allows changes per session (for example the ESMTP
/// parameters of the extensions a server advertised).
///
/// State 0 is dead (no token reachable); state 1 is the start.
public struct TokenTrie: Sendable {
    /// A trie state. 0 is dead, 1 is the start.
    public typealias State = UInt16

    public static let dead: State = 0
    public static let start: State = 1

    /// `next[state * 256 + byte]`; rows for upper and lower case letters are identical.
    private let next: [State]
    /// Token id accepted in each state, or -1.
    private let acceptId: [Int8]
    /// Bit set of token ids reachable from each state (including the one it accepts).
    private let reachable: [UInt32]
    /// The tokens, by id.
    private let tokens: [String]

    /// Number of states including the dead one.
    public var stateCount: Int { acceptId.count }

    /// Compiles the tokens; token `i` gets id `i` (at most 32 tokens). Tokens are ASCII and matched
    /// case-insensitively; no token may be empty or repeated.
    public init(tokens: [String]) {
        precondition(tokens.count <= 32, "TokenTrie holds at most 32 tokens")
        var next = [State](repeating: 0, count: 2 * 256)
        var acceptId: [Int8] = [-1, -1]
        var reachable: [UInt32] = [0, 0]
        for (id, token) in tokens.enumerated() {
            precondition(!token.isEmpty && token.utf8.allSatisfy { $0 < 0x80 }, "token must be ASCII")
            var state = Int(Self.start)
            reachable[state] |= 1 << UInt32(id)
            for byte in token.utf8 {
                let upper = Self.upper(byte)
                var target = Int(next[state * 256 + Int(upper)])
                if target == 0 {
                    target = acceptId.count
                    acceptId.append(-1)
                    reachable.append(0)
                    next.append(contentsOf: repeatElement(0, count: 256))
                    next[state * 256 + Int(upper)] = State(target)
                    next[state * 256 + Int(Self.lower(upper))] = State(target)
                }
                state = target
                reachable[state] |= 1 << UInt32(id)
            }
            precondition(acceptId[state] == -1, "duplicate token \(token)")
            acceptId[state] = Int8(id)
        }
        self.tokens = tokens
        self.next = next
        self.acceptId = acceptId
        self.reachable = reachable
    }

    /// The state after `byte`; `dead` when no token continues with it.
    @inline(__always)
    public func step(_ state: State, _ byte: UInt8) -> State {
        next[Int(state) &* 256 &+ Int(byte)]
    }

    /// The token accepted in `state`, if the bytes so far spell one exactly.
    @inline(__always)
    public func accepted(_ state: State) -> Int? {
        let id = acceptId[Int(state)]
        return id < 0 ? nil : Int(id)
    }

    /// Token ids still reachable from `state`, as a bit set.
    @inline(__always)
    public func reachable(_ state: State) -> UInt32 {
        reachable[Int(state)]
    }

    /// The state after a whole token (`dead` if it leaves the trie).
    func state(after token: some Sequence<UInt8>) -> State {
        var state = Self.start
        for byte in token where state != Self.dead { state = step(state, byte) }
        return state
    }

    /// A whole token (and what must follow it) to compare in one go: its id, the state after the
    /// token, and how many bytes the pattern covers.
    struct Word: Sendable {
        let pattern: WordPattern
        let id: Int
        let state: State
        var count: Int { pattern.count }
    }

    /// The tokens as `Word`s with `suffix` after each, for readers that compare eight bytes at
    /// once; tokens too long for one compare are left out (the trie reads them).
    func words(followedBy suffix: String = "") -> [Word] {
        tokens.enumerated().compactMap { id, token in
            let text = token + suffix
            guard text.utf8.count <= 8 else { return nil }
            return Word(pattern: WordPattern(text), id: id, state: state(after: token.utf8))
        }
    }

    /// Runs a whole token through the trie (tests and one-off lookups).
    public func match(_ token: some Sequence<UInt8>) -> Int? {
        var state = Self.start
        for byte in token {
            state = step(state, byte)
            if state == Self.dead { return nil }
        }
        return accepted(state)
    }

    @inline(__always)
    static func upper(_ byte: UInt8) -> UInt8 {
        (byte >= 0x61 && byte <= 0x7A) ? byte - 0x20 : byte
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
    }
}
