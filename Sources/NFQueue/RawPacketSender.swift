import Glibc

/// Sends IP packets the caller built whole (the resets of a torn-down session) through raw
/// sockets: the kernel routes them, and conntrack gives them the session's NAT like any packet
/// of the connection. Requires CAP_NET_RAW (and CAP_NET_ADMIN for the mark).
///
/// Every packet carries `PacketMark.ownPacket`, so that when it passes the queue on its way out
/// the receiver knows it came from here and not from the interface of the address it carries.
public final class RawPacketSender {
    private var socket4: Int32 = -1
    private var socket6: Int32 = -1
    public private(set) var sent: UInt64 = 0
    public private(set) var failures: UInt64 = 0
    /// The last failure, for the log.
    public private(set) var lastError: Errno?

    public init() {}

    deinit {
        if socket4 >= 0 { system_close(socket4) }
        if socket6 >= 0 { system_close(socket6) }
    }

    /// Sends one IPv4 or IPv6 packet (IP header first); the destination is read from it.
    public func send(_ packet: Span<UInt8>) {
        guard packet.count >= 20 else { return fail(Errno(rawValue: EINVAL)) }
        let version = packet[0] >> 4
        var bytes = [UInt8](repeating: 0, count: packet.count)
        for k in 0..<packet.count { bytes[k] = packet[k] }
        let result: Result<Int, Errno>
        if version == 4 {
            guard let fd = open(family: AF_INET) else { return }
            // The destination address, already in network byte order in the header.
            let destination = UInt32(bytes[16]) | UInt32(bytes[17]) << 8 | UInt32(bytes[18]) << 16 | UInt32(bytes[19]) << 24
            result = bytes.withUnsafeBytes { system_sendIPv4(fd, $0.baseAddress!, $0.count, destination: destination) }
        } else if version == 6, bytes.count >= 40 {
            guard let fd = open(family: AF_INET6) else { return }
            var high: UInt64 = 0, low: UInt64 = 0
            for k in 0..<8 { high = high << 8 | UInt64(bytes[24 + k]) }
            for k in 0..<8 { low = low << 8 | UInt64(bytes[32 + k]) }
            result = bytes.withUnsafeBytes { system_sendIPv6(fd, $0.baseAddress!, $0.count, destination: (high, low)) }
        } else {
            return fail(Errno(rawValue: EINVAL))
        }
        switch result {
        case .success: sent += 1
        case let .failure(error): fail(error)
        }
    }

    private func open(family: Int32) -> Int32? {
        if family == AF_INET && socket4 >= 0 { return socket4 }
        if family == AF_INET6 && socket6 >= 0 { return socket6 }
        switch system_rawIPSocket(family: family) {
        case let .success(fd):
            if case let .failure(error) = system_setsockopt(fd, SOL_SOCKET, SO_MARK, Int32(bitPattern: PacketMark.ownPacket.rawValue)) {
                system_close(fd)
                fail(error)
                return nil
            }
            if family == AF_INET6 {
                // IPV6_HDRINCL (Linux ≥ 4.5; not in Glibc's headers here): we supply the header.
                if case let .failure(error) = system_setsockopt(fd, Int32(IPPROTO_IPV6), 36, 1) {
                    system_close(fd)
                    fail(error)
                    return nil
                }
                socket6 = fd
            } else {
                socket4 = fd
            }
            return fd
        case let .failure(error):
            fail(error)
            return nil
        }
    }

    private func fail(_ error: Errno) {
        failures += 1
        lastError = error
    }
}
