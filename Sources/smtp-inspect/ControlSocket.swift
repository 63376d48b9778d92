import Foundation
import NFQueue

/// The control socket's protocol (its system calls are NFQueue's `UnixListener` and
/// `UnixConnection`). A Unix stream socket, owner-only; a client sends one request line (IOS
/// words, at most `maxRequest` bytes, all of it within `requestTimeout`), the daemon answers
/// with text followed by one NUL byte (`terminator`) and closes. The NUL tells a whole answer
/// (an empty one too, as `clear` gives) from a connection that broke before its end. An answer
/// starting with `%` is an error.
enum ControlSocket {
    /// Where `run` listens and the client commands ask, unless --control says otherwise: the
    /// directory systemd makes for the unit (deploy/smtp-inspect.service, RuntimeDirectory=).
    static let defaultPath = "/run/smtp-inspect/control.sock"
    /// Longest request accepted; anything longer is refused.
    static let maxRequest = 512
    /// The whole request line must arrive within this time (one deadline, not one per read).
    static let requestTimeout: Duration = .seconds(1)
    /// Requests served at once; one more is answered `% busy` at once.
    static let maxClients = 32
    /// An answer the client does not read within this time is abandoned.
    static let answerTimeout: Duration = .seconds(10)
    /// The client gives up when the daemon sends nothing for this long (`show … sessions`
    /// waits up to 2 s for the queue threads).
    static let clientIdleMilliseconds = 15_000
    static let terminator: UInt8 = 0

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Listens at `path` (mode 0600), made by `run`. A stale socket file is replaced; a live one
    /// (a daemon answers on it), a symbolic link or any other file is refused and left alone.
    /// The default path's directory is made (0700) when missing, and removed again by `close`.
    static func listen(at path: String) throws(Failure) -> Listener {
        var madeDirectory: String?
        if path == defaultPath {
            let directory = String(path[..<path.lastIndex(of: "/")!])
            if (try? FileStatus.at(directory, followingSymlinks: false)) == .some(nil) {
                do { try LocalFile.makeDirectory(directory, permissions: 0o700) } catch {
                    throw Failure(description: "cannot make the control socket's directory \(directory): \(error); "
                        + "give --control PATH (or --no-control)")
                }
                madeDirectory = directory
            }
        }
        do {
            return Listener(socket: try UnixListener(path: path, permissions: 0o600), madeDirectory: madeDirectory)
        } catch {
            if let madeDirectory { LocalFile.removeEmptyDirectory(madeDirectory) }
            switch error {
            case .inUse:
                throw Failure(description: "another smtp-inspect answers on \(path); give this one another --control")
            case .occupied(let kind):
                throw Failure(description: "--control \(path) is \(kind.phrase), not a socket: refusing to replace it; "
                    + "remove it or give another --control")
            case .pathTooLong(let capacity):
                throw Failure(description: "--control \(path): a socket path must be shorter than \(capacity) bytes")
            case let .system(call, errno):
                throw Failure(description: "cannot listen on \(path): \(call): \(errno)")
            }
        }
    }

    /// The daemon's listening socket, and the directory `listen` made for it.
    final class Listener: Sendable {
        let socket: UnixListener
        let madeDirectory: String?

        init(socket: UnixListener, madeDirectory: String?) {
            self.socket = socket
            self.madeDirectory = madeDirectory
        }

        /// Closes the socket, removes its file, and the directory if `listen` made it.
        func close() {
            socket.close()
            if let madeDirectory { LocalFile.removeEmptyDirectory(madeDirectory) }
        }
    }

    /// What the daemon answers when a request line could not be read, or nil to answer it.
    static func refusal(_ read: UnixConnection.LineRead) -> (line: String?, refusal: String?) {
        let bytes: [UInt8]
        switch read {
        case let .line(b): bytes = b
        case let .endOfFile(b): bytes = b  // half-closed after the line, without its LF
        case .tooLong: return (nil, "% request refused: longer than \(maxRequest) bytes\n")
        case .timedOut: return (nil, "% request refused: no whole request line within \(requestTimeout.components.seconds) s\n")
        case let .failed(errno): return (nil, "% request refused: \(errno)\n")
        }
        let trimmed = bytes.last == 0x0D ? Array(bytes.dropLast()) : bytes
        guard let text = String(validating: trimmed, as: UTF8.self) else {
            return (nil, "% request refused: not UTF-8 text\n")
        }
        return (text, nil)
    }

    /// Sends `answer` and its terminator; a client that does not read it in time is left.
    static func answer(_ connection: UnixConnection, _ answer: String, within timeout: Duration = answerTimeout) {
        try? connection.write(Array(answer.utf8) + [terminator], deadline: .now + timeout)
    }

    /// Sends one request to the daemon at `path` and returns its whole answer (without the
    /// terminator). Every way the request can fail is an error with a message.
    static func request(_ line: String, at path: String) throws(Failure) -> String {
        let connection: UnixConnection
        do { connection = try UnixConnection.connect(to: path) } catch {
            switch error {
            case .pathTooLong(let capacity):
                throw Failure(description: "--control \(path): a socket path must be shorter than \(capacity) bytes")
            case let .system(_, errno) where errno == .wouldBlock:
                throw Failure(description: "the smtp-inspect daemon on \(path) accepts no connection (it is overloaded); try again")
            case let .system(_, errno):
                throw Failure(description: "no smtp-inspect daemon answers on \(path) (\(errno)); "
                    + "is `smtp-inspect run --control \(path)` running, and are you allowed to open the socket?")
            case .inUse, .occupied:
                throw Failure(description: "cannot connect to \(path): \(error)")
            }
        }
        do {
            try connection.write(Array((line + "\n").utf8), deadline: .now + .seconds(5))
        } catch {
            throw Failure(description: "the smtp-inspect daemon on \(path) did not take the request: \(error)")
        }
        let answer: [UInt8]
        do { answer = try connection.readToEnd(idleMilliseconds: clientIdleMilliseconds) } catch {
            if let errno = error.errno {
                throw Failure(description: "reading the answer of the smtp-inspect daemon on \(path) failed after "
                    + "\(error.received.count) bytes: \(errno)")
            }
            throw Failure(description: "the smtp-inspect daemon on \(path) sent nothing for \(clientIdleMilliseconds / 1000) s "
                + "(\(error.received.count) bytes of its answer came); gave up")
        }
        guard answer.last == terminator else {
            throw Failure(description: "the smtp-inspect daemon on \(path) closed the connection before the end of its "
                + "answer (\(answer.count) bytes came); the request may or may not have been carried out")
        }
        return String(decoding: answer.dropLast(), as: UTF8.self)
    }
}
