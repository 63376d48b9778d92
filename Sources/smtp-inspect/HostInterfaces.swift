import Glibc
import IOSConfig

/// The IPv4 and IPv6 addresses of this box's interfaces (getifaddrs), for `--interface auto`.
enum HostInterfaces {
    static func addresses() -> [HostAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [HostAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  let name = entry.pointee.ifa_name else { continue }
            let value = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            var prefix = 32
            if let mask = entry.pointee.ifa_netmask {
                let bits = mask.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                prefix = bits.nonzeroBitCount
            }
            result.append(HostAddress(interface: String(cString: name), address: IOSConfig.IPv4Address(value), prefixLength: prefix))
        }
        return result
    }

    static func addresses6() -> [HostAddress6] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [HostAddress6] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET6),
                  let name = entry.pointee.ifa_name else { continue }
            func halves(_ pointer: UnsafeMutablePointer<sockaddr>) -> (UInt64, UInt64) {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    withUnsafeBytes(of: sin6.pointee.sin6_addr) { bytes in
                        (bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
                    }
                }
            }
            let (high, low) = halves(address)
            var prefix = 128
            if let mask = entry.pointee.ifa_netmask {
                let (maskHigh, maskLow) = halves(mask)
                prefix = maskHigh.nonzeroBitCount + maskLow.nonzeroBitCount
            }
            result.append(HostAddress6(interface: String(cString: name), address: IOSConfig.IPv6Address(high: high, low: low),
                                       prefixLength: prefix))
        }
        return result
    }
}
