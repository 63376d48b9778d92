import ArgumentParser

/// Placeholder until this subcommand is written (see the open issues).
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Not written yet.")
    func run() throws {
        throw ValidationError("smtp-inspect show is not written yet")
    }
}
