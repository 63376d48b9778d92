import Foundation
import Glibc

// The control socket's system calls (DESIGN.md puts the control socket in the executable; this
// file is its one place for them). A Unix stream socket, owner-only permissions; one request
// line per connection, answered with text, then closed.

enum ControlSocket {
    /// Longest request accepted; anything longer is refused.
    static let maxRequest = 512

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Binds and listens at `path` (mode 0600). A stale socket file is replaced; a live one (a
    /// daemon answers on it) is an error, so two daemons never share a control path.
    static func listen(at path: String) throws(Failure) -> Int32 {
        if FileManager.default.fileExists(atPath: path) {
            if let fd = try? connect(to: path) {
                close(fd)
                throw Failure(description: "another smtp-inspect answers on \(path); give this one another --control")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = try makeAddress(path)
        let previous = umask(0o177)  // the socket file is created 0600
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(previous)
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(message)")
        }
        chmod(path, 0o600)
        return fd
    }

    /// Waits up to `milliseconds` for a connection; nil when none came.
    static func accept(_ listener: Int32, waiting milliseconds: Int32) -> Int32? {
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return nil }
        let fd = Glibc.accept(listener, nil, nil)  // accept4 is not in Swift's Glibc module
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)  // a client that says nothing is dropped
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Reads one request line (without its newline); nil when it is too long, not UTF-8, or the
    /// client went quiet.
    static func readRequest(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: maxRequest + 1)
        var count = 0
        while count < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n <= 0 { break }
            count += n
            if buffer[..<count].contains(0x0A) { break }
        }
        guard let newline = buffer[..<count].firstIndex(of: 0x0A) ?? (count > 0 && count <= maxRequest ? count : nil)
        else { return nil }
        return String(validating: buffer[..<newline], as: UTF8.self)
    }

    static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a peer that hung up is an EPIPE here, never a SIGPIPE.
            let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Connects to a daemon's control socket.
    static func connect(to path: String) throws(Failure) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = try makeAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "no smtp-inspect daemon answers on \(path) (\(message)); "
                + "is `smtp-inspect run --control \(path)` running, and are you allowed to open the socket?")
        }
        return fd
    }

    /// Sends one request and returns the whole answer.
    static func request(_ line: String, at path: String) throws(Failure) -> String {
        let fd = try connect(to: path)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        write(fd, line + "\n")
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            answer += buffer[..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    private static func makeAddress(_ path: String) throws(Failure) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw Failure(description: "control socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (k, b) in bytes.enumerated() { raw[k] = b }
            raw[bytes.count] = 0
        }
        return address
    }
}
