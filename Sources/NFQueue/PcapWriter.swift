import CNetfilterQueue
import Glibc

/// Writes IPv4/IPv6 packets to a capture file of link type LINKTYPE_RAW (101), which tcpdump,
/// tshark and `PcapReader` read back.
public final class PcapWriter {
    public enum Precision: Sendable {
        /// Classic pcap (magic a1b2c3d4): what every tool reads.
        case microseconds
        /// Nanosecond pcap (magic a1b23c4d).
        case nanoseconds
    }

    public let path: String
    public let precision: Precision
    public private(set) var packetsWritten = 0

    private let dead: OpaquePointer
    private var dumper: OpaquePointer?

    public init(path: String, precision: Precision = .microseconds, snapshotLength: Int32 = 65535) throws(PcapError) {
        let p = precision == .nanoseconds ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO
        guard let dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, snapshotLength, UInt32(p)) else {
            throw PcapError("pcap_open_dead failed")
        }
        guard let dumper = pcap_dump_open(dead, path) else {
            let message = String(cString: pcap_geterr(dead))
            pcap_close(dead)
            throw PcapError("\(path): \(message)")
        }
        self.path = path
        self.precision = precision
        self.dead = dead
        self.dumper = dumper
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
        pcap_close(dead)
    }

    /// Appends one packet (its bytes from the IP header on). `originalLength` is the packet's
    /// length on the wire when `bytes` is a truncated copy of it.
    public func write(_ bytes: Span<UInt8>, timestamp: PacketTimestamp, originalLength: Int? = nil) {
        guard let dumper else { preconditionFailure("PcapWriter.write after close") }
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(timestamp.seconds)
        // With a nanosecond handle libpcap stores tv_usec as nanoseconds.
        header.ts.tv_usec = Int(precision == .nanoseconds ? timestamp.nanoseconds : timestamp.nanoseconds / 1000)
        header.caplen = UInt32(bytes.count)
        header.len = UInt32(max(originalLength ?? bytes.count, bytes.count))
        bytes.withUnsafeBufferPointer { b in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &header, b.baseAddress)
        }
        packetsWritten += 1
    }

    /// Pushes what is buffered to the file (so another program can read it now).
    public func flush() throws(PcapError) {
        guard let dumper else { return }
        if pcap_dump_flush(dumper) != 0 {
            throw PcapError("\(path): flush: \(Errno.current)")
        }
    }

    /// Flushes and closes the file. Idempotent; deinit closes without reporting errors.
    public func close() throws(PcapError) {
        guard let d = dumper else { return }
        let flushed = pcap_dump_flush(d)
        let error = Errno.current
        pcap_dump_close(d)
        dumper = nil
        if flushed != 0 { throw PcapError("\(path): \(error)") }
    }
}
