import Dispatch
import Foundation
import NFQueue
import Synchronization
import Testing

@testable import smtp_inspect

@Suite("Control socket: listening safely, one deadline per request, whole answers")
struct ControlSocketTests {
    @Test("listen refuses a symbolic link, a regular file and a directory, and leaves them as they were")
    func refusesNonSockets() throws {
        let dir = Scratch()
        defer { dir.remove() }
        dir.write("target", Array("secret".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.file("target"))
        try FileManager.default.createSymbolicLink(atPath: dir.file("link.sock"), withDestinationPath: "target")
        try FileManager.default.createSymbolicLink(atPath: dir.file("dangling.sock"), withDestinationPath: "nowhere")
        dir.write("file.sock", Array("data".utf8))
        for (name, kind) in [("link.sock", FileStatus.Kind.symbolicLink), ("dangling.sock", .symbolicLink), ("file.sock", .regular)] {
            #expect(throws: UnixSocketError.occupied(kind)) { try UnixListener(path: dir.file(name)) }
        }
        #expect(throws: UnixSocketError.occupied(.directory)) { try UnixListener(path: dir.path) }
        #expect(dir.contents("target") == Array("secret".utf8))
        #expect(try FileStatus.at(dir.file("target"))?.permissions == 0o644)
        #expect(dir.contents("file.sock") == Array("data".utf8))
        #expect(dir.names == ["dangling.sock", "file.sock", "link.sock", "target"])
    }

    @Test("listen: the socket is 0600 whatever the umask; a live one is refused, a stale one replaced; close removes it")
    func socketLifecycle() throws {
        let dir = Scratch()
        defer { dir.remove() }
        let path = dir.file("ctl.sock")
        let first = try UnixListener(path: path)
        #expect(try FileStatus.at(path)?.permissions == 0o600)
        #expect(throws: UnixSocketError.inUse) { try UnixListener(path: path) }
        // A stale socket: the file of a listener whose socket is closed, as a killed daemon leaves.
        let stale = try UnixListener(path: dir.file("stale.sock"))
        _ = stale  // closed below without removing the file: rename it away first
        try FileManager.default.moveItem(atPath: dir.file("stale.sock"), toPath: dir.file("moved.sock"))
        stale.close()
        try FileManager.default.moveItem(atPath: dir.file("moved.sock"), toPath: dir.file("stale.sock"))
        #expect(try FileStatus.at(dir.file("stale.sock"))?.kind == .socket)
        let replaced = try UnixListener(path: dir.file("stale.sock"))
        replaced.close()
        first.close()
        #expect(dir.names.isEmpty)
    }

    @Test("close leaves a path that is no longer its socket alone")
    func closeLeavesOthers() throws {
        let dir = Scratch()
        defer { dir.remove() }
        let listener = try UnixListener(path: dir.file("ctl.sock"))
        try FileManager.default.removeItem(atPath: dir.file("ctl.sock"))
        dir.write("ctl.sock", Array("someone else's".utf8))
        listener.close()
        #expect(dir.contents("ctl.sock") == Array("someone else's".utf8))
    }

    /// A server on `path` that runs `handle` for one connection, on a thread.
    static func serveOnce(_ listener: UnixListener, _ handle: @escaping @Sendable (UnixConnection) -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            if let c = listener.accept(waitingMilliseconds: 5000) { handle(c) }
            done.signal()
        }.start()
        return done
    }

    @Test("A request line that drips in byte by byte past the deadline is refused, though each byte came in time")
    func dripping() throws {
        let dir = Scratch()
        defer { dir.remove() }
        let listener = try UnixListener(path: dir.file("ctl.sock"))
        defer { listener.close() }
        let result = Mutex<UnixConnection.LineRead?>(nil)
        let done = Self.serveOnce(listener) { c in
            result.withLock { $0 = c.readLine(maxBytes: 512, deadline: .now + .milliseconds(100)) }
        }
        let client = try UnixConnection.connect(to: dir.file("ctl.sock"))
        for byte in Array("show ip inspect statistics\n".utf8) {  // ≥ 26 × 20 ms: never within 100 ms
            try? client.write([byte], deadline: .now + .seconds(1))
            usleep(20_000)
            if result.withLock({ $0 }) != nil { break }
        }
        done.wait()
        guard case .timedOut(let partial)? = result.withLock({ $0 }) else {
            Issue.record("expected a timeout, got \(String(describing: result.withLock { $0 }))")
            return
        }
        #expect(partial.count < 26)
        #expect(ControlSocket.refusal(.timedOut(partial)).refusal == "% request refused: no whole request line within 1 s\n")
    }

    @Test("Reading a request: a line, an over-long one, one without its LF at the end of the connection")
    func readingRequests() throws {
        let dir = Scratch()
        defer { dir.remove() }
        let listener = try UnixListener(path: dir.file("ctl.sock"))
        defer { listener.close() }
        for (sent, expected) in [("show ip inspect all\r\nignored", UnixConnection.LineRead.line(Array("show ip inspect all\r".utf8))),
                                 (String(repeating: "A", count: 600), .tooLong),
                                 ("reload", .endOfFile(Array("reload".utf8)))] {
            let result = Mutex<UnixConnection.LineRead?>(nil)
            let done = Self.serveOnce(listener) { c in
                result.withLock { $0 = c.readLine(maxBytes: 512, deadline: .now + .seconds(5)) }
            }
            let client = try UnixConnection.connect(to: dir.file("ctl.sock"))
            try client.write(Array(sent.utf8), deadline: .now + .seconds(1))
            client.shutdownWrite()
            done.wait()
            #expect(result.withLock { $0 } == expected)
        }
        #expect(ControlSocket.refusal(.line(Array("show ip\r".utf8))).line == "show ip")
        #expect(ControlSocket.refusal(.line([0xFF, 0xFE])).refusal == "% request refused: not UTF-8 text\n")
        #expect(ControlSocket.refusal(.tooLong).refusal == "% request refused: longer than 512 bytes\n")
    }

    @Test("The client: a whole answer ends with NUL (an empty one too); a connection that breaks before it is an error",
          arguments: [("answer\n", true, "answer\n"), ("", true, ""), ("partial", false, nil), ("", false, nil)])
    func clientAnswers(body: String, terminated: Bool, expected: String?) throws {
        let dir = Scratch()
        defer { dir.remove() }
        let listener = try UnixListener(path: dir.file("ctl.sock"))
        defer { listener.close() }
        let done = Self.serveOnce(listener) { c in
            _ = c.readLine(maxBytes: 512, deadline: .now + .seconds(5))
            try? c.write(Array(body.utf8) + (terminated ? [0] : []), deadline: .now + .seconds(1))
        }
        let result = Result { () throws(ControlSocket.Failure) in try ControlSocket.request("show ip inspect all", at: dir.file("ctl.sock")) }
        done.wait()
        switch (result, expected) {
        case let (.success(text), expected?):
            #expect(text == expected)
        case let (.failure(failure), nil):
            #expect(failure.description.contains("closed the connection before the end of its answer (\(body.utf8.count) bytes came)"))
        default:
            Issue.record("\(result) for \(body.debugDescription), terminated \(terminated)")
        }
    }

    @Test("The client: no daemon at the path is an error that names the path")
    func noDaemon() {
        let dir = Scratch()
        defer { dir.remove() }
        #expect(throws: ControlSocket.Failure.self) { try ControlSocket.request("show ip inspect all", at: dir.file("none.sock")) }
    }
}
