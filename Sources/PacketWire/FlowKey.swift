/// One end of a TCP connection: an address and a port.
public struct Endpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(_ address: IPAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `10.10.10.2:25`, or `[2001:db8::2]:25` for IPv6 (RFC 5952 §6, so the port cannot be read
    /// as a last address group).
    public var description: String {
        switch address {
        case .v4: "\(address):\(port)"
        case .v6: "[\(address)]:\(port)"
        }
    }

    public static func < (lhs: Endpoint, rhs: Endpoint) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}

/// The direction-dependent identity of a packet's flow: from `source` to `destination`.
/// Use as a Dictionary key; `connection` gives the key both directions share.
public struct FlowKey: Hashable, Sendable, CustomStringConvertible {
    public var source: Endpoint
    public var destination: Endpoint

    public init(source: Endpoint, destination: Endpoint) {
        self.source = source
        self.destination = destination
    }

    /// The same connection seen from the other side.
    public var reversed: FlowKey {
        FlowKey(source: destination, destination: source)
    }

    /// The direction-independent key: a packet and its reply map to the same value.
    public var connection: ConnectionKey {
        ConnectionKey(self)
    }

    /// `true` when `source` is the lower endpoint of `connection` (tells the two directions of
    /// one ConnectionKey apart without storing the flow key).
    public var sourceIsLower: Bool {
        !(destination < source)
    }

    /// `A:p => B:q`, the form IOS uses in `%FW-6-DROP_PKT`.
    public var description: String {
        "\(source) => \(destination)"
    }
}

/// A connection's identity regardless of direction: its two endpoints in a fixed order.
public struct ConnectionKey: Hashable, Sendable, CustomStringConvertible {
    /// The endpoint that orders first (addresses, then ports).
    public let lower: Endpoint
    /// The endpoint that orders second.
    public let upper: Endpoint

    /// The key of the connection `flow` belongs to.
    public init(_ flow: FlowKey) {
        if flow.destination < flow.source {
            lower = flow.destination
            upper = flow.source
        } else {
            lower = flow.source
            upper = flow.destination
        }
    }

    public var description: String {
        "\(lower) <=> \(upper)"
    }
}
