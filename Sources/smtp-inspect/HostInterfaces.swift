import IOSConfig
import NFQueue

/// The IPv4 and IPv6 addresses of this box's interfaces (NFQueue's InterfaceAddress: the
/// system call lives there), for `--interface auto` and port forwards to an interface.
enum HostInterfaces {
    static func addresses() -> [HostAddress] {
        InterfaceAddress.all().filter { $0.bytes.count == 4 }.map { entry in
            let value = entry.bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return HostAddress(interface: entry.interface, address: IOSConfig.IPv4Address(value), prefixLength: entry.prefixLength)
        }
    }

    static func addresses6() -> [HostAddress6] {
        InterfaceAddress.all().filter { $0.bytes.count == 16 }.map { entry in
            let high = entry.bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = entry.bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return HostAddress6(interface: entry.interface, address: IOSConfig.IPv6Address(high: high, low: low),
                                prefixLength: entry.prefixLength)
        }
    }
}
