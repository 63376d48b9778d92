import ArgumentParser
import IOSConfig

/// `smtp-inspect show ip inspect {all|config|interfaces|sessions [detail]|statistics}
/// [--config FILE | --control PATH]`: IOS's show command. From a configuration file it renders
/// what the file configures; sessions and statistics exist only in a running daemon.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "IOS's show ip inspect: from a configuration file or the running daemon.",
        discussion: """
            show ip inspect all | config | interfaces | sessions [detail] | statistics

            The words are read as IOS reads them: in any case, and abbreviated as long as the \
            abbreviation is unique (`show ip insp int`, `show ip inspect sess det`).
            With --config FILE, all, config and interfaces are rendered from the file, as IOS \
            prints them; sessions and statistics need the running daemon. Without --config the \
            daemon is asked, on --control PATH (default \(ControlSocket.defaultPath)).

            Exit status: 0 shown; 1 the daemon could not be asked; 2 the configuration is invalid; \
            64 the words or options are wrong.
            """
    )

    @Argument(help: ArgumentHelp("IOS words: ip inspect all|config|interfaces|sessions [detail]|statistics",
                                 valueName: "word"))
    var words: [String] = []

    @Option(help: ArgumentHelp("Render from this IOS running-config.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Ask the smtp-inspect daemon listening on this control socket (the default "
                               + "without --config: \(ControlSocket.defaultPath)).", valueName: "path"))
    var control: String?

    func validate() throws {
        let request = try ShowRequest(words: words)
        switch (config, control) {
        case (.some, .some):
            throw ValidationError("give --config FILE or --control PATH, not both")
        case (.some, nil) where request.topic.needsDaemon:
            throw ValidationError("""
                show \(request.text) shows the running daemon's \(request.topic.rawValue): a \
                configuration file has none. Ask the daemon: leave --config out (its socket is \
                \(ControlSocket.defaultPath)), or give --control PATH
                """)
        default:
            break
        }
    }

    func run() throws {
        let request = try ShowRequest(words: words)
        guard let config else {
            try ControlClient.send("show " + request.text, to: control ?? ControlSocket.defaultPath)
            return
        }
        let configuration = try ConfigLoading.load(config).configuration
        switch request.topic {
        case .all: print(ShowIPInspect.all(configuration), terminator: "")
        case .config: print(ShowIPInspect.config(configuration), terminator: "")
        case .interfaces: print(ShowIPInspect.interfaces(configuration), terminator: "")
        case .sessions, .statistics: preconditionFailure("validate() lets these through only with --control")
        }
    }
}

/// What `show` was asked, from IOS words.
struct ShowRequest: Equatable {
    enum Topic: String, CaseIterable {
        case all, config, interfaces, sessions, statistics

        /// Only the running daemon has these.
        var needsDaemon: Bool { self == .sessions || self == .statistics }
    }

    var topic: Topic
    /// `sessions detail`
    var detail: Bool

    /// The words in full, as IOS echoes them: `ip inspect sessions detail`.
    var text: String { "ip inspect \(topic.rawValue)" + (detail ? " detail" : "") }

    init(words: [String]) throws {
        var reader = IOSWords(words, command: "smtp-inspect show")
        try reader.next(["ip"])
        try reader.next(["inspect"])
        let topicWords = Topic.allCases.map(\.rawValue)
        let listed = topicWords.map { $0 == "sessions" ? "sessions [detail]" : $0 }
        topic = Topic(rawValue: try reader.next(topicWords, listed: listed))!
        detail = topic == .sessions ? try reader.optional(["detail"]) != nil : false
        try reader.end()
    }
}

/// Reads keywords as IOS's exec parser does: case-insensitive, and any unique prefix of a
/// keyword stands for it (`insp` is `inspect`; `s` is ambiguous between `sessions` and
/// `statistics`). Errors show the command with IOS's `^` under the word at fault.
struct IOSWords {
    private let words: [String]
    private let command: String
    /// The words echoed before those read, in "nothing may follow `…`" ("show" for show).
    private let lead: String
    private var index = 0
    /// The keywords read so far, in full.
    private var read: [String] = []

    init(_ words: [String], command: String, lead: String = "show") {
        self.words = words
        self.command = command
        self.lead = lead
    }

    /// The next word, which must be one of `keywords`; returns the keyword in full.
    @discardableResult
    mutating func next(_ keywords: [String], listed: [String]? = nil) throws -> String {
        guard index < words.count else {
            throw failure(at: nil, "% Incomplete command.", expected: listed ?? keywords)
        }
        let keyword = try match(words[index], keywords, listed: listed ?? keywords)
        index += 1
        read.append(keyword)
        return keyword
    }

    /// The next word if there is one, which must then be one of `keywords`.
    mutating func optional(_ keywords: [String]) throws -> String? {
        guard index < words.count else { return nil }
        return try next(keywords, listed: keywords + ["<end of the command>"])
    }

    /// No word may follow.
    func end() throws {
        guard index < words.count else { return }
        let readSoFar = ([lead] + read).filter { !$0.isEmpty }.joined(separator: " ")
        throw failure(at: index, "% Invalid input: `\(words[index])`: nothing may follow `\(readSoFar)`", expected: [])
    }

    private func match(_ word: String, _ keywords: [String], listed: [String]) throws -> String {
        let lowered = word.lowercased()
        if keywords.contains(lowered) { return lowered }
        let candidates = lowered.isEmpty ? [] : keywords.filter { $0.hasPrefix(lowered) }
        switch candidates.count {
        case 1:
            return candidates[0]
        case 0:
            throw failure(at: index, "% Invalid input detected at '^' marker: `\(word)` is not a word here", expected: listed)
        default:
            throw failure(at: index, "% Ambiguous command: `\(word)` could be \(candidates.joined(separator: " or "))",
                          expected: listed)
        }
    }

    /// The message, then the command with a `^` under word `at` (nil: after the last word).
    private func failure(at position: Int?, _ message: String, expected: [String]) -> ValidationError {
        let shown = ([command] + words).joined(separator: " ")
        let before = ([command] + words.prefix(position ?? words.count)).joined(separator: " ")
        let column = position == nil ? shown.count + 1 : before.count + 1
        var text = message + "\n  " + shown + "\n  " + String(repeating: " ", count: column) + "^"
        if !expected.isEmpty { text += "\n  expected one of: " + expected.joined(separator: ", ") }
        return ValidationError(text)
    }
}
