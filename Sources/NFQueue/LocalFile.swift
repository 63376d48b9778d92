import CNetfilterQueue  // as Syscalls.swift: the C headers this module sees, whichever module owns them
import Glibc

/// A file's identity: the same device and inode is the same file, whatever the names that lead
/// to it (hard links, symbolic links, `./x` and `x`).
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
}

/// What is at a path (lstat(2) or stat(2)).
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symbolicLink, socket, fifo, characterDevice, blockDevice, unknown

        /// "a regular file", "a symbolic link", … for messages.
        public var phrase: String {
            switch self {
            case .regular: "a regular file"
            case .directory: "a directory"
            case .symbolicLink: "a symbolic link"
            case .socket: "a socket"
            case .fifo: "a FIFO"
            case .characterDevice: "a character device"
            case .blockDevice: "a block device"
            case .unknown: "a special file"
            }
        }
    }

    public var kind: Kind
    /// Bytes (regular files; 0 or meaningless for the rest).
    public var size: Int64
    /// The permission bits (mode & 07777).
    public var permissions: UInt32
    public var identity: FileIdentity

    init(_ s: stat) {
        kind = switch s.st_mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symbolicLink
        case S_IFSOCK: .socket
        case S_IFIFO: .fifo
        case S_IFCHR: .characterDevice
        case S_IFBLK: .blockDevice
        default: .unknown
        }
        size = Int64(s.st_size)
        permissions = UInt32(s.st_mode & 0o7777)
        identity = FileIdentity(device: UInt64(s.st_dev), inode: UInt64(s.st_ino))
    }

    /// What is at `path`, or nil when nothing is (ENOENT). With `followingSymlinks` false a
    /// symbolic link is described itself (lstat), not its target.
    public static func at(_ path: String, followingSymlinks: Bool = true) throws(Errno) -> FileStatus? {
        switch system_stat(path, followingSymlinks: followingSymlinks) {
        case .success(let s): return FileStatus(s)
        case .failure(let e) where e == .noSuchEntry: return nil
        case .failure(let e): throw e
        }
    }
}

/// Why `LocalFile.read` gave up.
public enum FileReadError: Error, Equatable, Sendable {
    /// open(2) failed.
    case cannotOpen(Errno)
    case isDirectory
    /// Larger than the limit: `size` is the file's size when stat(2) knew it before reading
    /// (a regular file), nil when more than the limit came from a pipe or a device.
    case tooLarge(size: Int64?)
    case readFailed(Errno)
}

/// Small files read whole, bounded, and files replaced whole.
public enum LocalFile {
    /// The whole content of `path`, at most `limit` bytes. A regular file larger than that is
    /// refused from its size, before a byte is read; from a pipe or device (`<(…)`,
    /// /dev/stdin) at most `limit + 1` bytes are read to find out.
    public static func read(_ path: String, limit: Int) throws(FileReadError) -> [UInt8] {
        let fd: Int32
        switch system_open(path, O_RDONLY) {
        case .success(let f): fd = f
        case .failure(let e): throw .cannotOpen(e)
        }
        defer { system_close(fd) }
        var expected = 0
        if case .success(let s) = system_fstat(fd) {
            let status = FileStatus(s)
            if status.kind == .directory { throw .isDirectory }
            if status.kind == .regular {
                if status.size > Int64(limit) { throw .tooLarge(size: status.size) }
                expected = Int(status.size)
            }
        }
        var content: [UInt8] = []
        content.reserveCapacity(min(expected, limit))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let r = chunk.withUnsafeMutableBytes { raw in system_read(fd, raw.baseAddress!, raw.count) }
            switch r {
            case .success(0):
                return content
            case .success(let n):
                // A file that grew since fstat, or a pipe: stop as soon as the limit is passed.
                guard content.count + n <= limit else { throw .tooLarge(size: nil) }
                content.append(contentsOf: chunk[0..<n])
            case .failure(let e) where e.rawValue == EISDIR:
                throw .isDirectory
            case .failure(let e):
                throw .readFailed(e)
            }
        }
    }

    /// The process's umask, for giving a new file the mode open(2) would have given it.
    public static var umask: UInt32 { UInt32(system_currentUmask()) }

    /// realpath(3): `path` with every symbolic link resolved (it must exist).
    public static func resolved(_ path: String) throws(Errno) -> String {
        switch system_realpath(path) {
        case .success(let p): return p
        case .failure(let e): throw e
        }
    }

    /// mkdir(2): one directory (its parent must exist), with `permissions` (less the umask).
    public static func makeDirectory(_ path: String, permissions: UInt32) throws(Errno) {
        if case .failure(let e) = system_mkdir(path, mode_t(permissions)) { throw e }
    }

    /// rmdir(2) if the directory is empty; otherwise, or on any error, it stays.
    public static func removeEmptyDirectory(_ path: String) {
        _ = system_rmdir(path)
    }

    /// Removes a file (unlink(2)); an absent one is not an error.
    public static func remove(_ path: String) throws(Errno) {
        switch system_unlink(path) {
        case .success, .failure(.noSuchEntry): return
        case .failure(let e): throw e
        }
    }
}

/// Standard output and standard error, written with write(2): no stdio buffer, usable from any
/// thread, and every failure reported (EPIPE when the reader is gone: the daemon ignores
/// SIGPIPE).
public enum StandardStream: Sendable {
    case output, error

    var fd: Int32 { self == .output ? STDOUT_FILENO : STDERR_FILENO }

    public var isTerminal: Bool { system_isTerminal(fd) }

    /// Writes all of `bytes` (blocking while the reader is slow), or fails on the first error.
    public func write(_ bytes: [UInt8]) throws(Errno) {
        var offset = 0
        while offset < bytes.count {
            let r = bytes.withUnsafeBytes { raw in system_write(fd, raw.baseAddress! + offset, raw.count - offset) }
            switch r {
            case .success(let n) where n > 0: offset += n
            case .success: throw Errno(rawValue: EIO)
            case .failure(let e): throw e
            }
        }
    }

    public func write(_ text: String) throws(Errno) {
        try write(Array(text.utf8))
    }
}
