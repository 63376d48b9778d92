import PacketWire

/// The bytes of one direction that were released but not yet acknowledged, as they were
/// released (masks applied), so that a retransmission can be made to carry exactly the same
/// bytes (docs/design.md invariant 3). A ring buffer: appending and trimming never move bytes.
struct StreamWindow {
    /// Sequence number of the oldest byte kept.
    private(set) var start: SequenceNumber
    private var storage: [UInt8] = []
    private var head = 0
    private(set) var count = 0
    /// One bit per byte of `storage`, same positions: the byte was masked by us (to tell our own
    /// masking from a peer's changed bytes in a retransmission). Empty until the first mask, so
    /// the many sessions that never mask pay nothing for it.
    private var maskBits: [UInt64] = []

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
        if !maskBits.isEmpty { clearMaskBits(from: index, count: n) }
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

    /// Records that `range` (offsets from `start`, inside the window) was masked.
    mutating func noteMask(_ range: Range<Int>) {
        guard !range.isEmpty, !storage.isEmpty else { return }
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "mask outside the window")
        if maskBits.isEmpty { maskBits = [UInt64](repeating: 0, count: (storage.count + 63) / 64) }
        for offset in range { setMaskBit((head + offset) % storage.count, true) }
    }

    /// Clears the bits of `n` ring positions from `position` (wrapping), a word at a time.
    private mutating func clearMaskBits(from position: Int, count n: Int) {
        var p = position, left = n
        while left > 0 {
            let bit = p % 64
            let take = min(left, 64 - bit, storage.count - p)
            let ones: UInt64 = take == 64 ? ~0 : (UInt64(1) << UInt64(take)) - 1
            maskBits[p / 64] &= ~(ones << UInt64(bit))
            left -= take
            p = (p + take) % storage.count
        }
    }

    private mutating func setMaskBit(_ position: Int, _ value: Bool) {
        let bit = UInt64(1) << UInt64(position % 64)
        if value { maskBits[position / 64] |= bit } else { maskBits[position / 64] &= ~bit }
    }

    private func maskBit(_ position: Int) -> Bool {
        maskBits[position / 64] & (UInt64(1) << UInt64(position % 64)) != 0
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
        // An emptied buffer is kept: freeing it here made bulk transfers regrow it after
        // every full acknowledgement. Idle sessions give it back (releaseStorageIfEmpty).
        if count == 0 { head = 0 }
    }

    /// Frees the buffer when nothing is kept: an idle session holds no memory for it (the
    /// engine calls this for sessions quiet for a while, so busy ones never reallocate).
    mutating func releaseStorageIfEmpty() {
        guard count == 0, !storage.isEmpty else { return }
        storage = []
        maskBits = []
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

    /// Whether the byte at `seq` (inside the window) was masked by us.
    func wasMasked(_ seq: SequenceNumber) -> Bool {
        let offset = start.distance(to: seq)
        guard offset >= 0 && offset < count, !maskBits.isEmpty else { return false }
        return maskBit((head + offset) % storage.count)
    }

    /// Starts the window afresh at `seq` (nothing kept), e.g. when the peer's ISN is learned.
    mutating func reset(to seq: SequenceNumber) {
        start = seq
        head = 0
        count = 0
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
        if !maskBits.isEmpty {
            // The bits follow their bytes to the new positions (0 ..< count from the front).
            var bits = [UInt64](repeating: 0, count: (size + 63) / 64)
            for offset in 0..<count where maskBit((head + offset) % storage.count) {
                bits[offset / 64] |= UInt64(1) << UInt64(offset % 64)
            }
            maskBits = bits
        }
        storage = grown
        head = 0
    }
}
