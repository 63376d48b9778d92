import ArgumentParser
import Foundation
import IOSConfig
import SMTPInspection

/// Where the inspection policy comes from, for `run` and `replay`: a configuration file, or the
/// built-in esmtp inspection with `--policy`/`--max-data`; and the two options IOS has no word
/// for (docs/behaviour.md §3, §6).
struct PolicyOptions: ParsableArguments {
    @Option(help: "IOS running-config to take the inspection rules from.")
    var config: String?

    @Option(help: "Without --config: smtp (12 verbs, verbs only) or esmtp (15 verbs and parameter checks).")
    var policy: SMTPInspectionKind?

    @Option(help: "Without --config: message bytes a session may send (max-data).")
    var maxData: Int?

    @Flag(help: "Let STARTTLS through; after the server's 220 the session is opaque TLS.")
    var allowStarttls = false

    @Flag(help: "Mask the text of the server's greeting with '*', as PIX MailGuard did.")
    var maskBanner = false

    func validate() throws {
        if config != nil && (policy != nil || maxData != nil) {
            throw ValidationError("--policy and --max-data are for running without --config; the configuration's "
                + "'ip inspect name NAME smtp|esmtp [max-data N]' sets them")
        }
        if let maxData, maxData < 0 { throw ValidationError("--max-data must not be negative") }
    }

    /// The setup: from the configuration (errors printed, exit 2) or the built-in default. The
    /// interface map is resolved against the configuration (`--interface auto`).
    func makeSetup(interfaces options: InterfaceOptions?) throws -> InspectionSetup {
        guard let config else {
            return InspectionSetup.builtIn(kind: policy ?? .esmtp, maxData: maxData ?? 20_000_000,
                                           allowSTARTTLS: allowStarttls, maskBanner: maskBanner)
        }
        let parsed = try ConfigLoading.load(config)
        let interfaces = try options?.interfaces(for: parsed.configuration) ?? []
        do {
            return try InspectionSetup.from(parsed.configuration, interfaces: interfaces,
                                            allowSTARTTLS: allowStarttls, maskBanner: maskBanner)
        } catch {
            FileHandle.standardError.write(Data("smtp-inspect: \(config): \(error)\n".utf8))
            throw ConfigLoading.configurationError
        }
    }
}

extension SMTPInspectionKind: ExpressibleByArgument {}
