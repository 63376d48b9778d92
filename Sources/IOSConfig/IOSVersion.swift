/// The IOS release a configuration comes from: the `version 12.4` line, made precise by a
/// `show version` banner in the paste when there is one (`Version 12.4(24)T`).
public struct IOSVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    /// The maintenance release and train of a full version (`24` and `T` of `12.4(24)T`).
    public var release: Int?
    public var train: String?
    public var location: SourceLocation

    public init(major: Int, minor: Int, release: Int? = nil, train: String? = nil, location: SourceLocation) {
        self.major = major
        self.minor = minor
        self.release = release
        self.train = train
        self.location = location
    }

    /// `12.4`, `12.4(24)T`.
    public var description: String {
        "\(major).\(minor)" + (release.map { "(\($0))" } ?? "") + (train ?? "")
    }

    /// Reads `12.4`, `15.1`, `12.4(24)T`, `12.4(15)T7`, `15.0(1)M4`.
    public init?(parsing text: String, location: SourceLocation) {
        var scalars = Substring(text)
        func number() -> Int? {
            let digits = scalars.prefix { $0.isASCIIDigit }
            guard !digits.isEmpty, digits.count <= 4 else { return nil }
            scalars = scalars.dropFirst(digits.count)
            return Int(digits)
        }
        guard let major = number(), scalars.first == "." else { return nil }
        scalars = scalars.dropFirst()
        guard let minor = number() else { return nil }
        self.init(major: major, minor: minor, location: location)
        if scalars.first == "(" {
            scalars = scalars.dropFirst()
            release = number()
            let rest = scalars.drop { $0 != ")" }
            scalars = rest.dropFirst()
            let train = scalars.prefix { $0.isLetter }
            self.train = train.isEmpty ? nil : String(train)
        }
    }
}

/// Which of IOS's two sets of half-open defaults applies.
public enum InspectDefaults: Hashable, Sendable {
    /// IOS before 12.4(11)T: max-incomplete 400/500, one-minute 400/500, 50 per host.
    case finite
    /// IOS 12.4(11)T and later: unlimited (IOS's 4294967295) for all five.
    case unlimited

    /// IOS's "unlimited": the largest threshold, printed as `unlimited`.
    public static let unlimitedValue = UInt32.max
}

/// The release's defaults and why they were chosen (what `check` prints).
public struct DefaultsChoice: Hashable, Sendable {
    public var defaults: InspectDefaults
    public var reason: String
    /// Set when the version line leaves it open (a bare `version 12.4`): `check` warns.
    public var uncertain: Bool
}

extension IOSConfiguration {
    /// The half-open defaults for this configuration's release (the seed's 12.3: finite; no
    /// version line: finite, as smtp-inspect always assumed).
    public var defaultsChoice: DefaultsChoice {
        let finite = "max-incomplete and one-minute 400/500, 50 per host"
        let unlimited = "half-open thresholds unlimited"
        guard let version else {
            return DefaultsChoice(defaults: .finite, reason: "no `version` line: IOS 12.3's assumed, \(finite)",
                                  uncertain: false)
        }
        let earlier = "IOS \(version) (before 12.4(11)T): \(finite)"
        let later = "IOS \(version) (12.4(11)T or later): \(unlimited)"
        let pair = (version.major, version.minor)
        if pair < (12, 4) { return DefaultsChoice(defaults: .finite, reason: earlier, uncertain: false) }
        if pair > (12, 4) { return DefaultsChoice(defaults: .unlimited, reason: later, uncertain: false) }
        guard let release = version.release else {
            return DefaultsChoice(
                defaults: .unlimited,
                reason: "IOS 12.4 without its release (a `show version` banner would say): 12.4(11)T or later assumed, \(unlimited)",
                uncertain: true)
        }
        if version.train?.hasPrefix("T") == true && release >= 11 || version.train?.hasPrefix("X") == true && release >= 11 {
            return DefaultsChoice(defaults: .unlimited, reason: later, uncertain: false)
        }
        return DefaultsChoice(defaults: .finite, reason: earlier, uncertain: false)
    }
}

extension InspectGlobals {
    /// Sets every threshold still at its default to the release's default.
    mutating func applyDefaults(_ defaults: InspectDefaults) {
        let unlimited = defaults == .unlimited
        func value(_ finite: UInt32) -> UInt32 { unlimited ? InspectDefaults.unlimitedValue : finite }
        if maxIncompleteLow.isDefault { maxIncompleteLow = .byDefault(value(400)) }
        if maxIncompleteHigh.isDefault { maxIncompleteHigh = .byDefault(value(500)) }
        if oneMinuteLow.isDefault { oneMinuteLow = .byDefault(value(400)) }
        if oneMinuteHigh.isDefault { oneMinuteHigh = .byDefault(value(500)) }
        if tcpMaxIncompletePerHost.isDefault { tcpMaxIncompletePerHost = .byDefault(value(50)) }
    }
}
