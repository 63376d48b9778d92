import ArgumentParser
import Foundation

/// The commands that talk to a running daemon over its control socket. Each sends one IOS
/// command line and prints the answer. An answer starting with `%` is an error, and so is a
/// request that failed (no daemon, no whole answer): a message on stderr, exit 1.
enum ControlClient {
    static let defaultPath = ControlSocket.defaultPath

    static func send(_ line: String, to path: String) throws {
        let answer: String
        do {
            answer = try ControlSocket.request(line, at: path)
        } catch {
            standardError("smtp-inspect: \(error)")
            throw ExitCode(1)
        }
        if answer.hasPrefix("%") {
            FileHandle.standardError.write(Data(answer.utf8))
            throw ExitCode(1)
        }
        print(answer, terminator: "")
    }
}

/// `smtp-inspect debug ip inspect smtp`: the daemon starts printing the trace.
struct DebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Turn on 'debug ip inspect smtp' in the running daemon.")

    @Argument(help: "ip inspect smtp")
    var words: [String] = []

    @Option(help: "The daemon's control socket.")
    var control: String = ControlClient.defaultPath

    func run() throws { try ControlClient.send((["debug"] + words).joined(separator: " "), to: control) }
}

/// `smtp-inspect undebug all` (or `undebug ip inspect smtp`).
struct UndebugCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undebug", abstract: "Turn the running daemon's debug trace off.")

    @Argument(help: "all | ip inspect smtp")
    var words: [String] = []

    @Option(help: "The daemon's control socket.")
    var control: String = ControlClient.defaultPath

    func run() throws { try ControlClient.send((["undebug"] + words).joined(separator: " "), to: control) }
}

/// `smtp-inspect clear ip inspect statistics`.
struct ClearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear", abstract: "Reset the running daemon's statistics ('clear ip inspect statistics').")

    @Argument(help: "ip inspect statistics")
    var words: [String] = []

    @Option(help: "The daemon's control socket.")
    var control: String = ControlClient.defaultPath

    func run() throws { try ControlClient.send((["clear"] + words).joined(separator: " "), to: control) }
}

/// `smtp-inspect reload`: as SIGHUP, re-read the configuration; a broken file is reported with
/// its line and the running configuration stays.
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Make the running daemon re-read its configuration (as SIGHUP does).")

    @Option(help: "The daemon's control socket.")
    var control: String = ControlClient.defaultPath

    func run() throws { try ControlClient.send("reload", to: control) }
}
