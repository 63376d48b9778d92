import CNetfilterQueue
import Glibc

/// Writes IPv4/IPv6 packets to a capture file of link type LINKTYPE_RAW (101), which tcpdump,
/// tshark and `PcapReader` read back.
///
/// `init(replacing:)` never leaves a partial file behind: it writes a temporary file in the
/// same directory and renames it over the path only when `close()` has written, flushed and
/// synced all of it. Every write error is reported by `close()` (libpcap's pcap_dump returns
/// none: the stdio error flag is checked instead).
public final class PcapWriter {
    public enum Precision: Sendable {
        /// Classic pcap (magic a1b2c3d4): what every tool reads.
        case microseconds
        /// Nanosecond pcap (magic a1b23c4d).
        case nanoseconds
    }

    /// The path given (the file replaced, or written).
    public let path: String
    public let precision: Precision
    public private(set) var packetsWritten = 0

    private let dead: OpaquePointer
    private var dumper: OpaquePointer?
    /// With `init(replacing:)` onto a regular file: the temporary file, and the file it replaces
    /// (`path` with symbolic links resolved).
    private var temporary: (path: String, target: String)?
    /// Whether the output is a regular file (fsync'd at close; a device or a FIFO is not).
    private let regular: Bool

    private init(path: String, precision: Precision, dead: OpaquePointer, dumper: OpaquePointer,
                 temporary: (path: String, target: String)?, regular: Bool) {
        self.path = path
        self.precision = precision
        self.dead = dead
        self.dumper = dumper
        self.temporary = temporary
        self.regular = regular
    }

    /// Writes to `path` directly (created or truncated at once).
    public convenience init(path: String, precision: Precision = .microseconds, snapshotLength: Int32 = 65535) throws(PcapError) {
        let dead = try Self.openDead(precision, snapshotLength)
        guard let dumper = pcap_dump_open(dead, path) else {
            let message = String(cString: pcap_geterr(dead))
            pcap_close(dead)
            throw PcapError("\(path): \(message)")
        }
        self.init(path: path, precision: precision, dead: dead, dumper: dumper, temporary: nil,
                  regular: (try? FileStatus.at(path))??.kind == .regular)
    }

    /// Writes to a new temporary file beside `path` (mode: the replaced file's, or what
    /// open(2) would give a new one), renamed over `path` by `close()`; removed if `close()`
    /// fails or is never called. A `path` that exists and is not a regular file (a device such
    /// as /dev/null, a FIFO) cannot be replaced by renaming: it is written directly. A symbolic
    /// link is followed: its target is replaced, the link stays.
    public convenience init(replacing path: String, precision: Precision = .microseconds, snapshotLength: Int32 = 65535) throws(PcapError) {
        let existing: FileStatus?
        do { existing = try FileStatus.at(path) } catch { throw PcapError("\(path): \(error)") }
        if let existing, existing.kind == .directory { throw PcapError("\(path): is a directory") }
        if let existing, existing.kind != .regular {
            try self.init(path: path, precision: precision, snapshotLength: snapshotLength)
            return
        }
        var target = path
        if existing != nil {
            do { target = try LocalFile.resolved(path) } catch { throw PcapError("\(path): \(error)") }
        }
        let slash = target.lastIndex(of: "/")
        let directory = slash.map { String(target[..<$0]) } ?? "."
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let made: (fd: Int32, path: String)
        switch system_makeTemporaryFile(prefix: "\(directory.isEmpty ? "" : directory)/.\(name).tmp-") {
        case .success(let m): made = m
        case .failure(let e): throw PcapError("\(path): cannot create a temporary file in \(directory.isEmpty ? "/" : directory): \(e)")
        }
        let mode = existing?.permissions ?? (0o666 & ~LocalFile.umask)
        let dead: OpaquePointer
        do throws(PcapError) {
            if case .failure(let e) = system_fchmod(made.fd, mode_t(mode)) { throw PcapError("\(path): fchmod: \(e)") }
            dead = try Self.openDead(precision, snapshotLength)
        } catch {
            system_close(made.fd)
            _ = system_unlink(made.path)
            throw error
        }
        guard let file = fdopen(made.fd, "wb"), let dumper = pcap_dump_fopen(dead, file) else {
            let message = String(cString: pcap_geterr(dead))
            system_close(made.fd)
            _ = system_unlink(made.path)
            pcap_close(dead)
            throw PcapError("\(path): \(message)")
        }
        self.init(path: path, precision: precision, dead: dead, dumper: dumper, temporary: (made.path, target), regular: true)
    }

    private static func openDead(_ precision: Precision, _ snapshotLength: Int32) throws(PcapError) -> OpaquePointer {
        let p = precision == .nanoseconds ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO
        guard let dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, snapshotLength, UInt32(p)) else {
            throw PcapError("pcap_open_dead failed")
        }
        return dead
    }

    deinit {
        // Not closed: an error path. The temporary file goes; the file it would replace stays.
        if let dumper { fclose(pcap_dump_file(dumper)) }
        if let temporary { _ = system_unlink(temporary.path) }
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

    /// Whether a write has failed already (close() reports it).
    public var hasFailed: Bool {
        guard let dumper else { return false }
        return ferror(pcap_dump_file(dumper)) != 0
    }

    /// Pushes what is buffered to the file (so another program can read it now).
    public func flush() throws(PcapError) {
        guard let dumper else { return }
        if pcap_dump_flush(dumper) != 0 {
            throw PcapError("\(path): \(Errno.current)")
        }
    }

    /// Flushes, syncs and closes the file, then (`init(replacing:)`) renames it over the path.
    /// Throws the first error of any of these; the replaced file is then left as it was and the
    /// temporary one removed. Idempotent.
    public func close() throws(PcapError) {
        guard let d = dumper else { return }
        dumper = nil
        // pcap_dump_close(d) is fclose((FILE *)d) and returns nothing: call fclose on the
        // dumper's FILE ourselves to learn whether the last write-back failed.
        let file = pcap_dump_file(d)!
        var failure: Errno?
        if fflush(file) != 0 {
            failure = Errno.current
        } else if ferror(file) != 0 {
            failure = Errno(rawValue: EIO)  // an earlier fwrite failed; its errno is gone
        } else if regular, case .failure(let e) = system_fsync(fileno(file)) {
            failure = e
        }
        if fclose(file) != 0, failure == nil { failure = Errno.current }
        if let failure {
            if let temporary { _ = system_unlink(temporary.path) }
            temporary = nil
            throw PcapError("\(path): \(failure)")
        }
        guard let (made, target) = temporary else { return }
        temporary = nil
        if case .failure(let e) = system_rename(made, target) {
            _ = system_unlink(made)
            throw PcapError("\(path): rename: \(e)")
        }
    }
}
