import ArgumentParser
import Foundation
import IOSConfig
import NFQueue

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
        let text = try readTextOrExit(path)
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

    /// The largest configuration read: far above any real running-config (the seed's is 3 KiB,
    /// a large router's a few hundred KiB), small enough that a wrong file (a disk image, a
    /// log) is refused at once instead of being parsed for minutes in gigabytes of memory.
    static let maxConfigurationBytes = 4 << 20

    /// Why a configuration file could not be read: `message` says it in one line (reload puts
    /// it in its answer), `lines` are what the commands print (with where and a hint).
    struct ReadFailure: Error {
        var message: String
        var lines: [String]
    }

    /// The file as UTF-8 text; an unreadable file, a file over `maxConfigurationBytes` or one
    /// that is not UTF-8 exits with status 2.
    private static func readTextOrExit(_ path: String) throws -> String {
        switch readText(path) {
        case .success(let text):
            return text
        case .failure(let failure):
            for line in failure.lines { standardError(line) }
            throw configurationError
        }
    }

    /// The file as UTF-8 text, read with the size limit checked first (from its size when it is
    /// a regular file, before a byte is read; a pipe is read up to the limit).
    static func readText(_ path: String) -> Result<String, ReadFailure> {
        let limit = maxConfigurationBytes
        let bytes: [UInt8]
        do {
            bytes = try LocalFile.read(path, limit: limit)
        } catch {
            let why: String
            var hint = "give the path of a file holding the router's `show running-config`"
            switch error {
            case .cannotOpen(let e) where e == .noSuchEntry: why = "there is no such file"
            case .cannotOpen(let e) where e.rawValue == EACCES: why = "permission denied"
            case .cannotOpen(let e): why = "\(e)"
            case .isDirectory: why = "it is a directory"
            case .readFailed(let e): why = "\(e)"
            case .tooLarge(let size):
                why = (size.map { "it is \($0) bytes" } ?? "more than \(limit) bytes came from it")
                    + "; a configuration may be at most \(limit) bytes (4 MiB)"
                hint = "a router's running-config is a few hundred KiB at most: is this the right file?"
            }
            return .failure(ReadFailure(message: "cannot read the configuration: \(why)",
                                        lines: ["smtp-inspect: cannot read the configuration \(path): \(why)", "    hint: \(hint)"]))
        }
        if let text = String(validating: bytes, as: UTF8.self) { return .success(text) }
        let (line, column) = firstInvalidUTF8(bytes)
        return .failure(ReadFailure(message: "the file is not UTF-8 text (line \(line), column \(column))",
                                    lines: ["\(path):\(line):\(column): error: the file is not UTF-8 text",
                                            "    hint: convert it, e.g. `iconv -f latin1 -t utf-8 \(path)`"]))
    }

    /// 1-based line and column (in Unicode scalars) of the first byte that is not UTF-8.
    private static func firstInvalidUTF8(_ data: [UInt8]) -> (line: Int, column: Int) {
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
