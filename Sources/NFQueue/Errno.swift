import Glibc

/// A POSIX error number (swift-system's `Errno`, reduced to what this module needs).
public struct Errno: RawRepresentable, Hashable, Sendable, Error, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `strerror` text followed by the symbolic value, e.g. "No such file or directory (2)".
    public var description: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        return "\(String(cString: text)) (\(rawValue))"
    }

    static var current: Errno { Errno(rawValue: errno) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let noBufferSpace = Errno(rawValue: ENOBUFS)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let noSuchEntry = Errno(rawValue: ENOENT)
    public static let busy = Errno(rawValue: EBUSY)
}
