// Message content after a 354 reply (RFC 5321 §4.1.1.4, §4.5.2): only CRLF "." CRLF ends it.
//
// SMTP smuggling (2023) uses the other line ends a server may accept around the dot. The
// inspector must not see the message go on while the server sees it end, so any dot alone on a
// line delimited by a bare LF or a bare CR stops the scan as an attack (docs/behaviour.md §6).
//
// Transitions (phase, byte) → phase; "." is the dot, other is any byte not CR, LF or ".":
//   inLine         CR → inLineCR        LF → afterLF        other/"." → inLine
//   inLineCR       LF → lineStart       CR → inLineCR       "." → dotAfterCR   other → inLine
//   lineStart      "." → dot            CR → inLineCR       LF → afterLF       other → inLine
//   afterLF        "." → dotAfterLF     CR → inLineCR       LF → afterLF       other → inLine
//   dot            CR → dotCR           LF → smuggling(LF)  other → inLine (dot-stuffing)
//   dotAfterLF     CR → dotAfterLFCR    LF → smuggling(LF)  other → inLine
//   dotAfterCR     CR → dotAfterCRCR    LF → smuggling(CR)  other → inLine
//   dotCR          LF → end of data     any other → smuggling(CR)
//   dotAfterLFCR   any → smuggling(LF)
//   dotAfterCRCR   any → smuggling(CR)
// Data starts in lineStart: a message may be empty (".\r\n" right after the 354).

struct MessageDataStateMachine: Equatable {
    enum Phase: UInt8 {
        case inLine = 1, inLineCR, lineStart, afterLF
        case dot, dotAfterLF, dotAfterCR, dotCR, dotAfterLFCR, dotAfterCRCR
    }

    enum Stop: Equatable {
        /// No end in these bytes.
        case none
        /// The message ended; `at` is the index just after the final LF.
        case end(at: Int)
        /// A smuggling form; `at` is the index of the byte that revealed it.
        case smuggling(SmugglingForm, at: Int)
    }

    private(set) var phase: Phase = .lineStart

    /// Scans `bytes[start..<end]` and stops at the end of the message or at a smuggling form.
    mutating func scan(_ bytes: Span<UInt8>, from start: Int, to end: Int) -> Stop {
        var i = start
        while i < end {
            if phase == .inLine {
                i = LineBreakSearch.next(in: bytes, from: i, to: end)
                if i == end { return .none }
            }
            if let stop = step(bytes[i], at: i) { return stop }
            i &+= 1
        }
        return .none
    }

    @inline(__always)
    private mutating func step(_ byte: UInt8, at i: Int) -> Stop? {
        let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A, dot = UInt8(ascii: ".")
        switch phase {
        case .inLine:
            phase = byte == cr ? .inLineCR : byte == lf ? .afterLF : .inLine
        case .inLineCR:
            phase = byte == lf ? .lineStart : byte == cr ? .inLineCR : byte == dot ? .dotAfterCR : .inLine
        case .lineStart, .afterLF:
            if byte == dot { phase = phase == .lineStart ? .dot : .dotAfterLF }
            else { phase = byte == cr ? .inLineCR : byte == lf ? .afterLF : .inLine }
        case .dot:
            if byte == lf { return .smuggling(.bareLineFeed, at: i) }
            phase = byte == cr ? .dotCR : .inLine
        case .dotAfterLF:
            if byte == lf { return .smuggling(.bareLineFeed, at: i) }
            phase = byte == cr ? .dotAfterLFCR : .inLine
        case .dotAfterCR:
            if byte == lf { return .smuggling(.bareCarriageReturn, at: i) }
            phase = byte == cr ? .dotAfterCRCR : .inLine
        case .dotCR:
            guard byte == lf else { return .smuggling(.bareCarriageReturn, at: i) }
            phase = .lineStart
            return .end(at: i + 1)
        case .dotAfterLFCR:
            return .smuggling(.bareLineFeed, at: i)
        case .dotAfterCRCR:
            return .smuggling(.bareCarriageReturn, at: i)
        }
        return nil
    }
}
