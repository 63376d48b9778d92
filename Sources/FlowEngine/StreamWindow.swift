import PacketWire

/// The bytes of one direction that were released but not yet acknowledged, as they were
/// released (masks applied), so that a retransmission can be made to carry exactly the same
/// bytes (DESIGN.md invariant 2). A ring buffer: appending and trimming never move bytes.
struct StreamWindow {
    /// Sequence number of the oldest byte kept.
    private(set) var start: SequenceNumber
    private var storage: [UInt8] = []
    private var head = 0
    private(set) var count = 0
    /// Masked ranges still in the window (to tell our own masking from a peer's changed bytes).
    private(set) var masks: [Range<Int>] = []  // offsets from `start`

    init(start: SequenceNumber) {
        self.start = start
    }

    var end: SequenceNumber { start + count }
    var capacity: Int { storage.count }

    /// Appends released bytes; false when `limit` would be exceeded (nothing appended).
    mutating func append(_ bytes: Span<UInt8>, limit: Int) -> Bool {
        let n = bytes.count
        guard count + n <= limit else { return false }
        guard n > 0 else { return true }
        if count + n > storage.count { grow(to: count + n, limit: limit) }
        // At most two contiguous pieces: up to the end of the ring, then from its start.
        let index = (head + count) % storage.count
        let first = min(n, storage.count - index)
        var target = storage.mutableSpan
        Self.copy(bytes, from: 0, count: first, to: &target, at: index)
        if first < n { Self.copy(bytes, from: first, count: n - first, to: &target, at: 0) }
        count += n
        return true
    }

    /// One memmove: every packet's payload passes here. A byte loop cost more than a
    /// microsecond per full-sized segment (BENCHMARKS.md); a loop of bounds-checked 8-byte
    /// words took 110 ns for 1448 bytes, the memmove 46 ns (both with the bytes in cache).
    private static func copy(_ source: Span<UInt8>, from start: Int, count: Int, to target: inout MutableSpan<UInt8>, at offset: Int) {
        precondition(start >= 0 && count >= 0 && count <= source.count &- start
                     && offset >= 0 && count <= target.count &- offset, "copy out of bounds")
        guard count > 0 else { return }
        // Sound: both ranges were checked against the spans just above.
        unsafe source.withUnsafeBufferPointer { from in
            unsafe target.withUnsafeMutableBufferPointer { to in
                unsafe to.baseAddress!.advanced(by: offset).update(from: from.baseAddress!.advanced(by: start), count: count)
            }
        }
    }

    /// Records that `range` (sequence numbers, inside the window) was masked.
    mutating func noteMask(_ range: Range<Int>) {
        if masks.count >= 32 { masks.removeFirst() }
        masks.append(range)
    }

    /// Forgets everything before `ack` (the peer has it).
    mutating func acknowledge(_ ack: SequenceNumber) {
        // Never past what was released: an ACK beyond it (bytes that did not come through us)
        // empties the window but keeps it starting at the stream's next byte.
        let n = min(start.distance(to: ack), count)
        guard n > 0 else { return }
        let dropped = min(n, count)
        head = storage.isEmpty ? 0 : (head + dropped) % storage.count
        count -= dropped
        start = start + n
        if !masks.isEmpty {
            masks = masks.compactMap { r in
                let lower = max(0, r.lowerBound - n), upper = r.upperBound - n
                return upper > 0 ? lower..<upper : nil
            }
        }
        // An emptied buffer is kept: freeing it here made bulk transfers regrow it after
        // every full acknowledgement. Idle sessions give it back (releaseStorageIfEmpty).
        if count == 0 { head = 0 }
    }

    /// Frees the buffer when nothing is kept: an idle session holds no memory for it (the
    /// engine calls this for sessions quiet for a while, so busy ones never reallocate).
    mutating func releaseStorageIfEmpty() {
        guard count == 0, !storage.isEmpty else { return }
        storage = []
        head = 0
    }

    /// Bytes of buffer held (for `show` and tests).
    var bufferBytes: Int { storage.count }

    /// The byte kept for sequence number `seq`, if the window holds it.
    func byte(at seq: SequenceNumber) -> UInt8? {
        let offset = start.distance(to: seq)
        guard offset >= 0 && offset < count else { return nil }
        return storage[(head + offset) % storage.count]
    }

    /// Whether the byte at `seq` was masked by us.
    func wasMasked(_ seq: SequenceNumber) -> Bool {
        let offset = start.distance(to: seq)
        return masks.contains { $0.contains(offset) }
    }

    /// Starts the window afresh at `seq` (nothing kept), e.g. when the peer's ISN is learned.
    mutating func reset(to seq: SequenceNumber) {
        start = seq
        head = 0
        count = 0
        masks = []
    }

    private mutating func grow(to needed: Int, limit: Int) {
        var size = max(4096, storage.count)
        while size < needed { size *= 2 }
        size = min(size, max(limit, needed))
        // Not zero-filled: a bulk session grows its ring to megabytes, and filling it cost more
        // than the copies into it (and touched every page of it at once). Only the `count` bytes
        // from `head` are ever read, and each was written first (append, or the copy below).
        // Sound: UInt8 has no invalid bit patterns and no cleanup.
        var grown = unsafe [UInt8](unsafeUninitializedCapacity: size) { _, initialized in initialized = size }
        if count > 0 {
            // The kept bytes, oldest first, in at most two pieces of the old ring.
            let first = min(count, storage.count - head)
            let old = storage.span
            var target = grown.mutableSpan
            Self.copy(old, from: head, count: first, to: &target, at: 0)
            if first < count { Self.copy(old, from: 0, count: count - first, to: &target, at: first) }
        }
        storage = grown
        head = 0
    }
}
