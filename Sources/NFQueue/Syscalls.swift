// One internal call site per system call (swift-system's Internals/Syscalls.swift): the only
// place in the package where these are made, so tracing or mocking them means editing this file.
// Each returns Result<_, Errno>; `retryOnInterrupt` loops on EINTR, as swift-system's
// valueOrErrno does. Callers turn errors into typed throws at the module's edge.
import CNetfilterQueue
import Glibc

@inline(__always)
private func valueOrErrno<I: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> I
) -> Result<I, Errno> {
    while true {
        let value = call()
        if value != -1 { return .success(value) }
        let error = Errno.current
        if error == .interrupted && retryOnInterrupt { continue }
        return .failure(error)
    }
}

@inline(__always)
private func nothingOrErrno<I: FixedWidthInteger>(
    retryOnInterrupt: Bool = true, _ call: () -> I
) -> Result<Void, Errno> {
    valueOrErrno(retryOnInterrupt: retryOnInterrupt, call).map { _ in () }
}

/// socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER).
func system_netlinkSocket() -> Result<Int32, Errno> {
    valueOrErrno { socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_NETFILTER) }
}

/// bind(fd, {AF_NETLINK, pid 0}) (the kernel assigns the port id) and getsockname for it.
func system_netlinkBindAutoPortID(_ fd: Int32) -> Result<UInt32, Errno> {
    var address = sockaddr_nl()
    address.nl_family = sa_family_t(AF_NETLINK)
    let length = socklen_t(MemoryLayout<sockaddr_nl>.size)
    let bound = nothingOrErrno {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
    }
    if case .failure(let e) = bound { return .failure(e) }
    var actual = sockaddr_nl()
    var actualLength = length
    return nothingOrErrno {
        withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
    }.map { actual.nl_pid }
}

func system_setsockopt(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Int32) -> Result<Void, Errno> {
    var v = value
    return nothingOrErrno { setsockopt(fd, level, option, &v, socklen_t(MemoryLayout<Int32>.size)) }
}

func system_getsockopt(_ fd: Int32, _ level: Int32, _ option: Int32) -> Result<Int32, Errno> {
    var v: Int32 = 0
    var length = socklen_t(MemoryLayout<Int32>.size)
    return nothingOrErrno { getsockopt(fd, level, option, &v, &length) }.map { v }
}

/// recv(2). Netlink with MSG_TRUNC returns the datagram's full length even when it was longer
/// than the buffer, so the caller can tell a cut message from a whole one.
func system_recv(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ capacity: Int, _ flags: Int32) -> Result<Int, Errno> {
    valueOrErrno { recv(fd, buffer, capacity, flags) }
}

/// sendto(2) to the kernel (netlink port id 0).
func system_sendToKernel(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Result<Int, Errno> {
    var kernel = sockaddr_nl()
    kernel.nl_family = sa_family_t(AF_NETLINK)
    return valueOrErrno {
        withUnsafePointer(to: &kernel) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buffer, count, 0, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
            }
        }
    }
}

/// poll(2) on up to two descriptors for POLLIN. Not retried on EINTR: a signal must get the
/// receive loop back to its caller (which may have been asked to stop).
func system_pollIn(_ a: Int32, _ b: Int32, timeoutMilliseconds: Int32) -> Result<(a: Bool, b: Bool), Errno> {
    var fds = (pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0))
    let r = withUnsafeMutableBytes(of: &fds) { raw in
        valueOrErrno(retryOnInterrupt: false) {
            poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), 2, timeoutMilliseconds)
        }
    }
    return r.map { _ in (fds.0.revents != 0, fds.1.revents != 0) }
}

func system_eventfd() -> Result<Int32, Errno> {
    valueOrErrno { eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK)) }
}

/// Adds 1 to an eventfd counter. Async-signal-safe (a plain write(2)), so a signal handler may
/// call it.
func system_eventfdSignal(_ fd: Int32) {
    var one: UInt64 = 1
    _ = valueOrErrno { write(fd, &one, MemoryLayout<UInt64>.size) }
}

/// Resets an eventfd counter (non-blocking; EAGAIN when it was already zero).
func system_eventfdDrain(_ fd: Int32) {
    var value: UInt64 = 0
    _ = valueOrErrno { read(fd, &value, MemoryLayout<UInt64>.size) }
}

func system_close(_ fd: Int32) {
    // Never retried: on Linux the descriptor is gone even when close reports EINTR.
    _ = valueOrErrno(retryOnInterrupt: false) { close(fd) }
}

/// clock_gettime(CLOCK_REALTIME), for packet timestamps (vDSO, no kernel entry in practice).
func system_realtimeNow() -> (seconds: Int64, nanoseconds: Int64) {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
}

/// sigaction(2); without SA_RESTART (`restart` false), so that a blocking poll returns EINTR
/// when the signal lands.
func system_sigaction(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void, restart: Bool = false) -> Result<Void, Errno> {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = handler
    sigemptyset(&action.sa_mask)
    action.sa_flags = restart ? Int32(SA_RESTART) : 0
    return nothingOrErrno { sigaction(signal, &action, nil) }
}

/// write(2) of a whole string to standard error (no stdio: usable from any thread).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var done = 0
        while done < bytes.count {
            let r = valueOrErrno { write(2, bytes.baseAddress! + done, bytes.count - done) }
            guard case .success(let n) = r, n > 0 else { return }
            done += n
        }
    }
}

/// The whole content of a small file (procfs), read with open/read/close.
func system_readFile(_ path: String, limit: Int = 1 << 20) -> Result<[UInt8], Errno> {
    let fd: Int32
    switch valueOrErrno({ open(path, O_RDONLY | O_CLOEXEC) }) {
    case .success(let f): fd = f
    case .failure(let e): return .failure(e)
    }
    defer { system_close(fd) }
    var content: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while content.count < limit {
        let r = chunk.withUnsafeMutableBytes { raw in valueOrErrno { read(fd, raw.baseAddress, raw.count) } }
        switch r {
        case .success(0): return .success(content)
        case .success(let n): content += chunk[0..<n]
        case .failure(let e): return .failure(e)
        }
    }
    return .success(content)
}

/// poll(2) on nothing: a sleep that a signal cuts short.
func system_sleepMilliseconds(_ ms: Int32) {
    _ = valueOrErrno(retryOnInterrupt: false) { poll(nil, 0, ms) }
}

/// socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW): sends whole IP packets we build.
func system_rawIPSocket(family: Int32) -> Result<Int32, Errno> {
    valueOrErrno { socket(family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW)) }
}

/// sendto(2) of a whole IPv4 packet to `destination` (network byte order address).
func system_sendIPv4(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, destination: UInt32) -> Result<Int, Errno> {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = destination
    return valueOrErrno {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buffer, count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}

/// sendto(2) of a whole IPv6 packet (the socket has IPV6_HDRINCL) to `destination`.
func system_sendIPv6(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, destination: (UInt64, UInt64)) -> Result<Int, Errno> {
    var address = sockaddr_in6()
    address.sin6_family = sa_family_t(AF_INET6)
    withUnsafeMutableBytes(of: &address.sin6_addr) { raw in
        for k in 0..<8 { raw[k] = UInt8(truncatingIfNeeded: destination.0 >> (56 - 8 * UInt64(k))) }
        for k in 0..<8 { raw[8 + k] = UInt8(truncatingIfNeeded: destination.1 >> (56 - 8 * UInt64(k))) }
    }
    return valueOrErrno {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, buffer, count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Files (configuration, captures, standard streams) and the control socket's Unix socket.

/// lstat(2) or stat(2) of `path`.
func system_stat(_ path: String, followingSymlinks: Bool) -> Result<stat, Errno> {
    var status = stat()
    return nothingOrErrno { followingSymlinks ? stat(path, &status) : lstat(path, &status) }.map { status }
}

func system_fstat(_ fd: Int32) -> Result<stat, Errno> {
    var status = stat()
    return nothingOrErrno { fstat(fd, &status) }.map { status }
}

/// open(2) with O_CLOEXEC added.
func system_open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Result<Int32, Errno> {
    valueOrErrno { open(path, flags | O_CLOEXEC, mode) }
}

func system_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ capacity: Int) -> Result<Int, Errno> {
    valueOrErrno { read(fd, buffer, capacity) }
}

func system_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Result<Int, Errno> {
    valueOrErrno { write(fd, buffer, count) }
}

func system_unlink(_ path: String) -> Result<Void, Errno> {
    nothingOrErrno { unlink(path) }
}

func system_rmdir(_ path: String) -> Result<Void, Errno> {
    nothingOrErrno { rmdir(path) }
}

func system_mkdir(_ path: String, _ mode: mode_t) -> Result<Void, Errno> {
    nothingOrErrno { mkdir(path, mode) }
}

func system_rename(_ from: String, _ to: String) -> Result<Void, Errno> {
    nothingOrErrno { rename(from, to) }
}

func system_fsync(_ fd: Int32) -> Result<Void, Errno> {
    nothingOrErrno { fsync(fd) }
}

func system_fchmod(_ fd: Int32, _ mode: mode_t) -> Result<Void, Errno> {
    nothingOrErrno { fchmod(fd, mode) }
}

/// The process's umask (read by setting it and setting it back: there is no other way).
func system_currentUmask() -> mode_t {
    let mask = umask(0o077)
    umask(mask)
    return mask
}

/// mkstemp(3) on `prefix` + "XXXXXX": the descriptor (O_CLOEXEC, mode 0600) and the name made.
func system_makeTemporaryFile(prefix: String) -> Result<(fd: Int32, path: String), Errno> {
    var template = Array((prefix + "XXXXXX").utf8CString)
    let r = template.withUnsafeMutableBufferPointer { buffer in
        valueOrErrno { mkstemp(buffer.baseAddress!) }
    }
    if case .success(let fd) = r { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return r.map { fd in (fd, String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
}

/// realpath(3): the absolute path with every symbolic link resolved.
func system_realpath(_ path: String) -> Result<String, Errno> {
    guard let resolved = realpath(path, nil) else { return .failure(Errno.current) }
    defer { free(resolved) }
    return .success(String(cString: resolved))
}

/// isatty(3).
func system_isTerminal(_ fd: Int32) -> Bool {
    isatty(fd) == 1
}

/// socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0).
func system_unixSocket() -> Result<Int32, Errno> {
    valueOrErrno { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
}

/// bind(2) (`connecting` false) or connect(2) (true) of a Unix stream socket to `path`, which
/// the caller has checked fits in sun_path.
func system_unixAddress(_ fd: Int32, _ path: String, connecting: Bool) -> Result<Void, Errno> {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (k, b) in bytes.prefix(raw.count - 1).enumerated() { raw[k] = b }
        raw[min(bytes.count, raw.count - 1)] = 0
    }
    let length = socklen_t(MemoryLayout<sockaddr_un>.size)
    // connect(2) is not retried on EINTR (the connection may be under way; the caller reports it).
    return nothingOrErrno(retryOnInterrupt: !connecting) {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connecting ? connect(fd, $0, length) : bind(fd, $0, length)
            }
        }
    }
}

/// sizeof(sun_path): a Unix socket path must be shorter.
let system_unixPathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

func system_listen(_ fd: Int32, _ backlog: Int32) -> Result<Void, Errno> {
    nothingOrErrno { listen(fd, backlog) }
}

/// accept(2), then FD_CLOEXEC and O_NONBLOCK on the new descriptor (accept4 is not in Swift's
/// Glibc module; the daemon never forks, so the window before FD_CLOEXEC does not matter).
func system_accept(_ fd: Int32) -> Result<Int32, Errno> {
    let r = valueOrErrno { accept(fd, nil, nil) }
    if case .success(let connection) = r {
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
    }
    return r
}

/// poll(2) on one descriptor: the events that are ready (empty on timeout). Not retried on
/// EINTR: the caller recomputes its deadline and calls again.
func system_pollOne(_ fd: Int32, events: Int16, timeoutMilliseconds: Int32) -> Result<Int16, Errno> {
    var p = pollfd(fd: fd, events: events, revents: 0)
    return valueOrErrno(retryOnInterrupt: false) { poll(&p, 1, timeoutMilliseconds) }.map { $0 > 0 ? p.revents : 0 }
}

/// send(2) with MSG_NOSIGNAL (a peer that hung up is an EPIPE, never a SIGPIPE) and
/// MSG_DONTWAIT.
func system_sendNoSignal(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Result<Int, Errno> {
    valueOrErrno { send(fd, buffer, count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
}

func system_shutdownWrite(_ fd: Int32) {
    _ = shutdown(fd, Int32(SHUT_WR))
}

func system_setNonBlocking(_ fd: Int32) {
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
}

/// sigaction(2) with SIG_IGN.
func system_ignoreSignal(_ signal: Int32) -> Result<Void, Errno> {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = SIG_IGN
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    return nothingOrErrno { sigaction(signal, &action, nil) }
}

/// if_indextoname(3): the interface's name, or nil when no interface has the index (any more).
func system_interfaceName(_ index: UInt32) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
    guard if_indextoname(index, &buffer) != nil else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// getifaddrs: every IPv4 and IPv6 address of this box's interfaces, with its prefix length.
func system_interfaceAddresses() -> [InterfaceAddress] {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return [] }
    defer { freeifaddrs(list) }
    func bytes(_ pointer: UnsafeMutablePointer<sockaddr>, family: Int32) -> [UInt8] {
        if family == AF_INET {
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                withUnsafeBytes(of: sin.pointee.sin_addr) { Array($0) }
            }
        }
        return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
            withUnsafeBytes(of: sin6.pointee.sin6_addr) { Array($0) }
        }
    }
    var result: [InterfaceAddress] = []
    var cursor: UnsafeMutablePointer<ifaddrs>? = first
    while let entry = cursor {
        defer { cursor = entry.pointee.ifa_next }
        guard let address = entry.pointee.ifa_addr, let name = entry.pointee.ifa_name else { continue }
        let family = Int32(address.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { continue }
        let value = bytes(address, family: family)
        let prefix = entry.pointee.ifa_netmask.map { bytes($0, family: family).reduce(0) { $0 + $1.nonzeroBitCount } }
        result.append(InterfaceAddress(interface: String(cString: name), bytes: value, prefixLength: prefix ?? value.count * 8))
    }
    return result
}
