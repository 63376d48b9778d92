/// Where something was written: file, 1-based line, 1-based column (counted in Unicode scalars,
/// a tab is one column).
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form compilers and editors understand.
    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// A value read from the configuration together with the place it was written.
public struct Located<Value: Hashable & Sendable>: Hashable, Sendable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// A setting that has an IOS default: `location` is nil while the default applies.
public struct Configured<Value: Hashable & Sendable>: Hashable, Sendable {
    public var value: Value
    /// The line that set the value, or nil when it is IOS's default.
    public var location: SourceLocation?

    public init(value: Value, location: SourceLocation?) {
        self.value = value
        self.location = location
    }

    /// The IOS default, set by no line.
    public static func byDefault(_ value: Value) -> Configured { Configured(value: value, location: nil) }

    public var isDefault: Bool { location == nil }
}

/// One error or warning about the configuration: what was found, what was expected, how to fix it.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    /// Stable names for what went wrong, so that callers and tests need not match message text.
    public enum Kind: String, Hashable, Sendable {
        // errors
        case malformed
        case smtpWithESMTP
        case unknownProtocol
        case unknownOption
        case unsupported
        case duplicateOption
        case numberOutOfRange
        case badAddress
        case badNetmask
        case badWildcard
        case accessListNumberOutOfRange
        case badPort
        case badProtocol
        case undefinedAccessList
        case undefinedInspectionRule
        case undefinedObjectGroup
        case objectGroupLoop
        case undefinedNATPool
        case undefinedRouteMap
        case undefinedInterface
        case duplicateStaticNAT
        case thresholdsInverted
        case wrongAccessListKind
        case controlCharacter
        /// The configuration asks for inspection, but every line that would apply it was dropped.
        case inspectionDropped
        // warnings
        case unicodeMinus
        case replacedSetting
        case wildcardHostBits
        case discontiguousWildcard
        case nonIOSPortName
        case staticNATWithoutOutside
        case abbreviation
        case interfaceNameExpanded
        /// Applied as closely as Linux allows, not exactly as IOS does.
        case approximated
        /// Valid IOS that smtp-inspect cannot reproduce on Linux: ignored.
        case noLinuxEquivalent
        /// A line that looks like configuration smtp-inspect applies, read where it applies nothing.
        case notApplied
        /// A malformed line in a command smtp-inspect does not configure (ignored, not an error).
        case malformedIgnored
        case defaultsAssumed
        case ruleNotApplied
        /// An interface inspects SMTP in one address family and says nothing of the other there:
        /// the other family's SMTP is inspected with the same rule.
        case familyGap
        /// IPv6 lines without `ipv6 unicast-routing`.
        case ipv6NotRouted
        /// An IPv6 list denies neighbour discovery before IOS's implicit permits.
        case ipv6NeighborDiscovery
    }

    public var severity: Severity
    public var kind: Kind
    public var location: SourceLocation
    /// One line saying what is wrong.
    public var summary: String
    /// The text that was found; empty when something was missing at the end of the line.
    public var found: String
    /// What would have been accepted there (empty for most warnings).
    public var expected: String
    /// How to fix it.
    public var hint: String

    public init(
        _ severity: Severity, _ kind: Kind, at location: SourceLocation, _ summary: String,
        found: String = "", expected: String = "", hint: String = ""
    ) {
        self.severity = severity
        self.kind = kind
        self.location = location
        self.summary = summary
        self.found = found
        self.expected = expected
        self.hint = hint
    }

    /// `file:line:column: error: summary`, then indented `found:`, `expected:` and `hint:` lines.
    public var description: String {
        var text = "\(location): \(severity.rawValue): \(summary)"
        if !expected.isEmpty {
            text += "\n    found: " + (found.isEmpty ? "end of line" : "`\(found)`")
            text += "\n    expected: \(expected)"
        } else if !found.isEmpty {
            text += "\n    found: `\(found)`"
        }
        if !hint.isEmpty { text += "\n    hint: \(hint)" }
        return text
    }
}

/// Parsing or validation failed, so nothing was applied. `errors` is never empty.
public struct ConfigurationErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public var errors: [Diagnostic]
    /// Warnings found on the way, reported alongside the errors.
    public var warnings: [Diagnostic]

    public init(errors: [Diagnostic], warnings: [Diagnostic] = []) {
        precondition(!errors.isEmpty, "ConfigurationErrors without an error")
        self.errors = errors
        self.warnings = warnings
    }

    /// Every error, then every warning, in the `Diagnostic` form.
    public var description: String {
        (errors + warnings).map(\.description).joined(separator: "\n")
    }
}
