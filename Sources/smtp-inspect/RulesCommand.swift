import ArgumentParser

/// Placeholder until this subcommand is written (see the open issues).
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rules", abstract: "Not written yet.")
    func run() throws {
        throw ValidationError("smtp-inspect rules is not written yet")
    }
}
