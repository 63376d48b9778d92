import ArgumentParser
import Foundation
import IOSConfig

/// `--config FILE` for every subcommand: read the file, parse and validate it, and on failure
/// print every error located (`file:line:column: error: …`, then found/expected/hint lines) on
/// stderr and exit with status 2, so that nothing is applied from a configuration with an error.
///
/// Exit statuses of the commands that read a configuration (README documents them):
/// 0 done; 1 a runtime failure (e.g. the daemon could not be asked); 2 the configuration (or what
/// the rules need from it) is wrong; 64 the command line itself is wrong (ArgumentParser's usage
/// error, with the usage printed).
enum ConfigLoading {
    /// The configuration cannot be used: unreadable, invalid, or no rules can be made from it.
    static let configurationError = ExitCode(2)
    /// Something outside the configuration failed.
    static let runtimeFailure = ExitCode(1)

    /// How many warnings of one kind are printed before the rest are counted: the seed alone has
    /// 44 U+2212 minus signs, and `check` lists every one of them anyway.
    static let warningsShownPerKind = 3

    /// Reads and validates `path`. Warnings go to stderr (a few of each kind, then a count) unless
    /// `printWarnings` is false (`check` lists them in its report instead). Throws `ExitCode(2)`
    /// after printing the errors.
    static func load(_ path: String, printWarnings: Bool = true) throws -> ParsedConfiguration {
        let text = try readText(path)
        switch IOSConfigParser.parse(text, fileName: path) {
        case .success(let parsed):
            if printWarnings { printCollapsed(parsed.warnings, path: path) }
            return parsed
        case .failure(let failure):
            for error in failure.errors { standardError(error.description) }
            printCollapsed(failure.warnings, path: path)
            let count = failure.errors.count == 1 ? "1 error" : "\(failure.errors.count) errors"
            standardError("smtp-inspect: \(path): \(count); nothing was applied")
            throw configurationError
        }
    }

    /// The name headers carry: the file's last path component, so that the output does not
    /// depend on where the command was run from (and equals the goldens under iptables/).
    static func displayName(_ path: String) -> String {
        URL(fileURLWithPath: path).lastPathComponent
    }

    /// The file as UTF-8 text; an unreadable file or one that is not UTF-8 exits with status 2.
    private static func readText(_ path: String) throws -> String {
        var isDirectory: ObjCBool = false
        let problem: String? =
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                "there is no such file"
            } else if isDirectory.boolValue {
                "it is a directory"
            } else if !FileManager.default.isReadableFile(atPath: path) {
                "permission denied"
            } else {
                nil
            }
        var data = Data()
        var failure = problem
        if failure == nil {
            // FileHandle, not Data(contentsOf:): it also reads pipes and devices
            // (`--config <(ssh router show running-config)`, /dev/stdin).
            do {
                guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoPermission) }
                defer { try? handle.close() }
                data = try handle.readToEnd() ?? Data()
            } catch {
                failure = error.localizedDescription
            }
        }
        if let failure {
            standardError("smtp-inspect: cannot read the configuration \(path): \(failure)")
            standardError("    hint: give the path of a file holding the router's `show running-config`")
            throw configurationError
        }
        if let text = String(validating: data, as: UTF8.self) { return text }
        let (line, column) = firstInvalidUTF8(data)
        standardError("\(path):\(line):\(column): error: the file is not UTF-8 text")
        standardError("    hint: convert it, e.g. `iconv -f latin1 -t utf-8 \(path)`")
        throw configurationError
    }

    /// 1-based line and column (in Unicode scalars) of the first byte that is not UTF-8.
    private static func firstInvalidUTF8(_ data: Data) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var iterator = data.makeIterator()
        var decoder = Unicode.UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput, .error:
                return (line, column)
            }
        }
    }

    /// Every warning kind: the first few in full (the first with its hint), then a count.
    static func printCollapsed(_ warnings: [Diagnostic], path: String) {
        var seen: [Diagnostic.Kind: Int] = [:]
        var kindsInOrder: [Diagnostic.Kind] = []
        for warning in warnings {
            let count = seen[warning.kind, default: 0]
            if count == 0 { kindsInOrder.append(warning.kind) }
            seen[warning.kind] = count + 1
            if count == 0 {
                standardError(warning.description)
            } else if count < warningsShownPerKind {
                standardError("\(warning.location): \(warning.severity.rawValue): \(warning.summary)")
            }
        }
        for kind in kindsInOrder {
            let hidden = seen[kind, default: 0] - warningsShownPerKind
            guard hidden > 0 else { continue }
            standardError("\(path): \(hidden) more warning\(hidden == 1 ? "" : "s") like these "
                          + "(`smtp-inspect check --config \(path)` lists every line)")
        }
    }
}

/// One line (a newline is added) on stderr.
func standardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
