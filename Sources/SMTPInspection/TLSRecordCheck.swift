// The switch to TLS after a 220 to STARTTLS, checked rather than trusted: the first bytes each
// side sends must be the start of a TLS record (RFC 8446 §5.1, RFC 5246 §6.2.1) and of the
// handshake it opens. Read a byte at a time, so TCP may split the header anywhere.
//
//   byte  what it is                 client                      server
//   0     content type               22 (handshake)              22, or 21 (alert: it refuses)
//   1     legacy version, major      3                           3
//   2     legacy version, minor      0 … 4                       0 … 4
//   3-4   record length              1 … 16384 (2^14), and at least 4 for a handshake, 2 for an alert
//   5     handshake type             1 (ClientHello)             2 (ServerHello); an alert: level 1 or 2
// Anything else: that side never switched (plaintext after the 220 is a command injection; a
// server that answers 220 and then speaks plaintext did not start TLS).

struct TLSRecordCheck: Equatable, Sendable {
    /// Header bytes checked so far; 6 when the record's start was all right.
    private var seen: UInt8 = 0
    private var contentType: UInt8 = 0
    private var lengthHigh: UInt8 = 0

    static let handshake: UInt8 = 22, alert: UInt8 = 21
    static let clientHello: UInt8 = 1, serverHello: UInt8 = 2
    static let maximumRecord = 1 << 14

    enum Outcome { case more, shown, notTLS }

    /// The record's start was all right: this side speaks TLS.
    var shown: Bool { seen == 6 }
    /// It was a handshake record: the side goes on with TLS (a server's alert refuses it, and
    /// the session is not taken for an established TLS one).
    var handshakeShown: Bool { shown && contentType == Self.handshake }

    /// Checks the next byte of the side's stream (the table above).
    mutating func check(_ byte: UInt8, fromClient: Bool) -> Outcome {
        let ok: Bool
        switch seen {
        case 0:
            contentType = byte
            ok = byte == Self.handshake || (!fromClient && byte == Self.alert)
        case 1:
            ok = byte == 3
        case 2:
            ok = byte <= 4
        case 3:
            lengthHigh = byte
            ok = Int(byte) << 8 <= Self.maximumRecord
        case 4:
            let length = Int(lengthHigh) << 8 | Int(byte)
            ok = length <= Self.maximumRecord && length >= (contentType == Self.alert ? 2 : 4)
        default:
            if contentType == Self.alert { ok = byte == 1 || byte == 2 } else {
                ok = byte == (fromClient ? Self.clientHello : Self.serverHello)
            }
        }
        guard ok else { return .notTLS }
        seen += 1
        return seen == 6 ? .shown : .more
    }
}
