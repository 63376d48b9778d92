import CNetfilterQueue  // as Syscalls.swift: the C headers this module sees, whichever module owns them
import Glibc

/// Why a Unix socket could not be set up or reached.
public enum UnixSocketError: Error, Equatable, Sendable {
    /// The path does not fit in sun_path (`capacity` bytes with its NUL).
    case pathTooLong(capacity: Int)
    /// Something other than a socket is at the path (a symbolic link, a file, …): it is left
    /// alone, never replaced.
    case occupied(FileStatus.Kind)
    /// A listener answers at the path.
    case inUse
    /// A system call failed: its name and the error.
    case system(String, Errno)
}

/// A listening Unix stream socket. Binding never removes or follows anything but a stale
/// socket: a symbolic link, a regular file or a directory at the path is refused. The socket
/// file gets its permissions from fchmod(2) on the socket before bind(2) (Linux gives the file
/// the socket inode's mode), so no chmod by name is ever made and the umask is not touched.
public final class UnixListener: @unchecked Sendable {
    public let path: String
    private let fd: Int32
    /// The socket file made by bind, to remove it only while it is still ours.
    private let identity: FileIdentity?

    /// `backlog`: connections the kernel queues before `accept` (more get EAGAIN at connect):
    /// room for a burst of clients while the serving thread is descheduled on a loaded box.
    public init(path: String, permissions: UInt32 = 0o600, backlog: Int32 = 256) throws(UnixSocketError) {
        guard path.utf8.count < system_unixPathCapacity else { throw .pathTooLong(capacity: system_unixPathCapacity) }
        let existing: FileStatus?
        do { existing = try FileStatus.at(path, followingSymlinks: false) } catch { throw .system("lstat", error) }
        if let existing {
            guard existing.kind == .socket else { throw .occupied(existing.kind) }
            // A socket: a live listener keeps it; a stale one (its daemon gone) is removed.
            switch Result(catching: { () throws(UnixSocketError) in try UnixConnection.connect(to: path, waitingMilliseconds: 0) }) {
            case .success: throw .inUse
            case .failure(.system(_, let e)) where e.rawValue == ECONNREFUSED: break  // stale: its daemon is gone
            case .failure(.system(_, let e)) where e == .wouldBlock: throw .inUse     // live, its backlog full
            case .failure(let error): throw error
            }
            if case .failure(let e) = system_unlink(path), e != .noSuchEntry { throw .system("unlink of the stale socket", e) }
        }
        let fd: Int32
        switch system_unixSocket() {
        case .success(let f): fd = f
        case .failure(let e): throw .system("socket(AF_UNIX)", e)
        }
        do throws(UnixSocketError) {
            if case .failure(let e) = system_fchmod(fd, mode_t(permissions)) { throw .system("fchmod", e) }
            switch system_unixAddress(fd, path, connecting: false) {
            case .success: break
            case .failure(let e) where e.rawValue == EADDRINUSE:
                // Something appeared at the path since lstat.
                throw .occupied((try? FileStatus.at(path, followingSymlinks: false))?.kind ?? .unknown)
            case .failure(let e): throw .system("bind", e)
            }
            if case .failure(let e) = system_listen(fd, backlog) {
                _ = system_unlink(path)
                throw .system("listen", e)
            }
        } catch {
            system_close(fd)
            throw error
        }
        system_setNonBlocking(fd)
        self.path = path
        self.fd = fd
        self.identity = (try? FileStatus.at(path, followingSymlinks: false))?.identity
    }

    /// The next connection, waiting up to `milliseconds` for one; nil when none came.
    public func accept(waitingMilliseconds milliseconds: Int32) -> UnixConnection? {
        guard case .success(let ready) = system_pollOne(fd, events: Int16(POLLIN), timeoutMilliseconds: milliseconds),
              ready != 0, case .success(let connection) = system_accept(fd)
        else { return nil }
        return UnixConnection(fd: connection)
    }

    /// Closes the socket and removes its file if the path still names the socket bound here.
    /// Call it once no thread waits in `accept` any more.
    public func close() {
        system_close(fd)
        if let identity, (try? FileStatus.at(path, followingSymlinks: false))?.identity == identity {
            _ = system_unlink(path)
        }
    }
}

/// One connection of a Unix stream socket, non-blocking underneath: every read and write is
/// bounded by a deadline.
public final class UnixConnection: @unchecked Sendable {
    private let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { system_close(fd) }

    /// Connects to the listener at `path`, waiting up to `milliseconds` while its backlog is full.
    public static func connect(to path: String, waitingMilliseconds milliseconds: Int = 5000) throws(UnixSocketError) -> UnixConnection {
        guard path.utf8.count < system_unixPathCapacity else { throw .pathTooLong(capacity: system_unixPathCapacity) }
        let fd: Int32
        switch system_unixSocket() {
        case .success(let f): fd = f
        case .failure(let e): throw .system("socket(AF_UNIX)", e)
        }
        let connection = UnixConnection(fd: fd)
        system_setNonBlocking(fd)
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        while true {
            switch system_unixAddress(fd, path, connecting: true) {
            case .success:
                return connection
            case .failure(let e) where (e == .wouldBlock || e == .interrupted) && ContinuousClock.now < deadline:
                system_sleepMilliseconds(10)  // the backlog is full: the listener is busy
            case .failure(let e):
                throw .system("connect", e)
            }
        }
    }

    /// What `readLine` found.
    public enum LineRead: Equatable, Sendable {
        /// A line, without its LF.
        case line([UInt8])
        /// The peer closed (or half-closed) its side without an LF: what came before.
        case endOfFile([UInt8])
        /// More than the limit came without an LF.
        case tooLong
        /// The deadline passed before an LF: what came before.
        case timedOut([UInt8])
        case failed(Errno)
    }

    /// Reads up to the first LF, which must come within `maxBytes` bytes and before `deadline`
    /// (one deadline for the whole line, however slowly the bytes come). Bytes after the LF are
    /// read and ignored.
    public func readLine(maxBytes: Int, deadline: ContinuousClock.Instant) -> LineRead {
        var buffer = [UInt8](repeating: 0, count: maxBytes + 1)
        var count = 0
        while true {
            let r = buffer.withUnsafeMutableBytes { raw in
                system_recv(fd, raw.baseAddress! + count, raw.count - count, Int32(MSG_DONTWAIT))
            }
            switch r {
            case .success(0):
                return .endOfFile(Array(buffer[..<count]))
            case .success(let n):
                if let lf = buffer[count..<(count + n)].firstIndex(of: 0x0A) { return .line(Array(buffer[..<lf])) }
                count += n
                if count > maxBytes { return .tooLong }
            case .failure(let e) where e == .wouldBlock:
                guard wait(for: Int16(POLLIN), until: deadline) else { return .timedOut(Array(buffer[..<count])) }
            case .failure(let e):
                return .failed(e)
            }
        }
    }

    /// Why `readToEnd` stopped early; `received` is what came until then.
    public struct ReadError: Error, Sendable {
        /// nil: nothing came for the idle time.
        public var errno: Errno?
        public var received: [UInt8]
    }

    /// Reads until the peer closes, giving up when nothing comes for `idleMilliseconds`.
    public func readToEnd(idleMilliseconds: Int) throws(ReadError) -> [UInt8] {
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let r = chunk.withUnsafeMutableBytes { raw in system_recv(fd, raw.baseAddress!, raw.count, Int32(MSG_DONTWAIT)) }
            switch r {
            case .success(0):
                return answer
            case .success(let n):
                answer += chunk[..<n]
            case .failure(let e) where e == .wouldBlock:
                guard wait(for: Int16(POLLIN), until: ContinuousClock.now + .milliseconds(idleMilliseconds)) else {
                    throw ReadError(errno: nil, received: answer)
                }
            case .failure(let e):
                throw ReadError(errno: e, received: answer)
            }
        }
    }

    /// Writes all of `bytes` before `deadline`; ETIMEDOUT when the peer reads too slowly,
    /// EPIPE when it has gone.
    public func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            let r = bytes.withUnsafeBytes { raw in system_sendNoSignal(fd, raw.baseAddress! + offset, raw.count - offset) }
            switch r {
            case .success(let n): offset += n
            case .failure(let e) where e == .wouldBlock:
                guard wait(for: Int16(POLLOUT), until: deadline) else { throw Errno(rawValue: ETIMEDOUT) }
            case .failure(let e): throw e
            }
        }
    }

    /// Tells the peer nothing more will be sent (it reads an end of file).
    public func shutdownWrite() { system_shutdownWrite(fd) }

    /// Whether `events` became ready before `deadline`.
    private func wait(for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            switch system_pollOne(fd, events: events, timeoutMilliseconds: milliseconds) {
            case .success(let ready) where ready != 0: return true
            case .success: continue  // timed out: the loop's check ends it
            case .failure(let e) where e == .interrupted: continue
            case .failure: return true  // the next read or write reports the error
            }
        }
    }
}
