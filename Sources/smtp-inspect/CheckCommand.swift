import ArgumentParser
import IOSConfig

/// `smtp-inspect check --config FILE`: validates a pasted running-config and lists what became of
/// every line, so that an operator sees what smtp-inspect enforces and what it leaves to IOS.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration; list every line as applied or ignored (with why).",
        discussion: """
            Reads the router's `show running-config` as pasted (prompt line, `Building \
            configuration...`, comments and PDF minus signs included). Prints one line per line \
            of the file: `applied`, or `ignored` with the reason, and the warnings under the \
            line they concern.

            Exit status: 0 valid (warnings allowed); 2 invalid or unreadable: every error is \
            printed on stderr as file:line:column with what was found, what was expected and a \
            hint, and nothing is listed.
            """
    )

    @Option(help: ArgumentHelp("The IOS running-config to validate.", valueName: "file"))
    var config: String

    func run() throws {
        var parsed = try ConfigLoading.load(config, printWarnings: false)
        parsed.fileName = ConfigLoading.displayName(config)
        print(CheckReport.render(parsed), terminator: "")
    }
}
