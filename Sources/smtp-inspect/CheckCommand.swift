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

            With --interface (pairs, or `auto`: by the addresses this box has), the interface \
            map is checked too and printed in the header.

            Exit status: 0 valid (warnings allowed); 2 invalid or unreadable, or an interface \
            that maps nowhere: every error is printed on stderr as file:line:column with what \
            was found, what was expected and a hint, and nothing is listed.
            """
    )

    @Option(help: ArgumentHelp("The IOS running-config to validate.", valueName: "file"))
    var config: String

    @OptionGroup var interfaceOptions: InterfaceOptions

    func run() throws {
        var parsed = try ConfigLoading.load(config, printWarnings: false)
        parsed.fileName = ConfigLoading.displayName(config)
        var map: String?
        if !interfaceOptions.interfaceArguments.isEmpty {
            let mappings = try interfaceOptions.interfaces(for: parsed.configuration)
            let options = RuleOptions(interfaces: mappings)
            if case .failure(let failure) = IptablesRules.generate(parsed.configuration, options: options) {
                for error in failure.errors { standardError(error.description) }
                standardError("smtp-inspect check: the interface map does not fit the configuration")
                throw ConfigLoading.configurationError
            }
            map = mappings.map { "\($0.iosName)=\($0.linuxName)" }.joined(separator: " ")
                + (interfaceOptions.mapNote.map { " (\($0))" } ?? "")
            if mappings.isEmpty { map = "none mapped" }
        }
        print(CheckReport.render(parsed, interfaceMap: map), terminator: "")
    }
}
