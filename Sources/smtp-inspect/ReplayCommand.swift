import ArgumentParser

/// Placeholder until this subcommand is written (see the open issues).
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "replay", abstract: "Not written yet.")
    func run() throws {
        throw ValidationError("smtp-inspect replay is not written yet")
    }
}
