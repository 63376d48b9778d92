import CNetfilterQueue

/// Why a capture file could not be read or written (libpcap's message).
public struct PcapError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One IP packet of a capture file.
public struct PcapRecord: Sendable {
    /// 1-based position of the frame in the file (tshark's frame.number).
    public var frameNumber: Int
    public var timestamp: PacketTimestamp
    /// Bytes lent (the IP header on; link-layer padding removed).
    public var capturedLength: Int
    /// The IP packet's length on the wire; larger than `capturedLength` when the capture's
    /// snapshot length cut the frame.
    public var originalLength: Int
    public var isTruncated: Bool { capturedLength < originalLength }
}

/// Reads a capture file of any link type libpcap reads that carries IP (Ethernet with VLAN
/// tags, Linux cooked SLL and SLL2, raw IP, BSD null/loop) and lends each IPv4/IPv6 packet,
/// link header stripped, to a closure. Frames without an IP packet are skipped and counted.
/// Timestamps are read with nanosecond precision (libpcap scales microsecond files).
///
/// The bytes are a copy in a buffer of the reader's (reused, no allocation per packet), lent as
/// `inout MutableSpan` so that a replay can edit them in place and write them out.
public final class PcapReader {
    public let linkType: PcapLinkType
    /// Frames read so far, IP or not.
    public private(set) var framesRead = 0
    /// Frames without an IPv4/IPv6 packet (ARP, LLDP, too short), skipped.
    public private(set) var framesSkipped = 0
    /// IP packets lent so far.
    public private(set) var packetsRead = 0

    private let handle: OpaquePointer
    private var buffer: UnsafeMutableRawBufferPointer

    public init(path: String) throws(PcapError) {
        var message = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let h = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &message) else {
            throw PcapError("\(path): " + String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        let type = PcapLinkType(rawValue: pcap_datalink(h))
        guard type.isSupported else {
            pcap_close(h)
            throw PcapError("\(path): link type \(type) (\(type.rawValue)) carries no IP that this reader can strip")
        }
        handle = h
        linkType = type
        buffer = .allocate(byteCount: max(Int(pcap_snapshot(h)), 65535) + 64, alignment: 16)
    }

    deinit {
        pcap_close(handle)
        buffer.deallocate()
    }

    /// Lends the next IP packet to `body` and returns true, or returns false at the end of the
    /// file. Throws on a damaged file.
    public func next(_ body: (PcapRecord, inout MutableSpan<UInt8>) -> Void) throws(PcapError) -> Bool {
        while true {
            var header: UnsafeMutablePointer<pcap_pkthdr>?
            var data: UnsafePointer<UInt8>?
            switch pcap_next_ex(handle, &header, &data) {
            case 1:
                break
            case PCAP_ERROR_BREAK:      // -2: end of file
                return false
            default:
                throw PcapError("frame \(framesRead + 1): " + String(cString: pcap_geterr(handle)))
            }
            guard let header, let data else { return false }
            framesRead += 1
            let h = header.pointee
            let captured = Int(h.caplen)
            let frame = UnsafeBufferPointer(start: data, count: captured)
            guard let ip = linkType.ipPacket(in: frame.span) else {
                framesSkipped += 1
                continue
            }
            if ip.length > buffer.count {
                buffer.deallocate()
                buffer = .allocate(byteCount: ip.length, alignment: 16)
            }
            buffer.baseAddress!.copyMemory(from: data + ip.offset, byteCount: ip.length)
            let wire = Int(h.len) - ip.offset
            let record = PcapRecord(
                frameNumber: framesRead,
                timestamp: PacketTimestamp(seconds: Int64(h.ts.tv_sec), nanoseconds: Int64(h.ts.tv_usec)),
                capturedLength: ip.length,
                originalLength: ip.length < captured - ip.offset ? ip.length : max(wire, ip.length))
            packetsRead += 1
            var span = UnsafeMutableBufferPointer<UInt8>(
                start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: ip.length).mutableSpan
            body(record, &span)
            return true
        }
    }

    /// Calls `body` for every remaining IP packet until it returns false or the file ends.
    public func forEach(_ body: (PcapRecord, inout MutableSpan<UInt8>) -> Bool) throws(PcapError) {
        var more = true
        while more, try next({ record, bytes in more = body(record, &bytes) }) {}
    }
}
