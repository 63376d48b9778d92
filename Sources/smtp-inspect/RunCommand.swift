import ArgumentParser

/// Placeholder until this subcommand is written (see the open issues).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Not written yet.")
    func run() throws {
        throw ValidationError("smtp-inspect run is not written yet")
    }
}
