import ArgumentParser

/// Placeholder until this subcommand is written (see the open issues).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Not written yet.")
    func run() throws {
        throw ValidationError("smtp-inspect check is not written yet")
    }
}
