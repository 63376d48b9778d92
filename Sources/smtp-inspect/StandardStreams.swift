import Glibc

/// Writes to stdout and stderr with write(2), ignoring failures. The daemon ignores SIGPIPE (a
/// control client that hangs up must not kill it), so a closed stdout or stderr shows as EPIPE;
/// Foundation's FileHandle.write traps on that, and a log line is not worth the daemon.
enum StandardStreams {
    static func out(_ text: String) { write(STDOUT_FILENO, text) }
    static func error(_ text: String) { write(STDERR_FILENO, text) }

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
