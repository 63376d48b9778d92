extension ConfigParser {
    /// `ip nat inside source static L G [no-alias]`; the other NAT forms change forwarding in ways
    /// smtp-inspect does not reproduce, so they are errors rather than silently ignored.
    mutating func natCommand(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        if words.count > 2, ["translation", "log", "service"].contains(words[2]) {
            return .ignored("NAT timers, logging and helpers: Linux conntrack has its own")
        }
        if words.count == 3, ["inside", "outside"].contains(words[2]) {
            throw cursor.error(
                .malformed, at: cursor.peek(2), "interface command outside an interface block",
                expected: "`ip nat inside source static LOCAL GLOBAL`",
                hint: "put `ip nat \(words[2])` under its `interface` line")
        }
        _ = cursor.next()
        _ = cursor.next()
        let unsupportedHint = "smtp-inspect reproduces static one-to-one NAT only"
        _ = try cursor.keyword(["inside"], what: "NAT direction", kind: .unsupported, hint: unsupportedHint)
        _ = try cursor.keyword(["source"], what: "NAT translation", kind: .unsupported, hint: unsupportedHint)
        _ = try cursor.keyword(["static"], what: "NAT kind", kind: .unsupported, hint: unsupportedHint)
        if let form = cursor.peek(), ["tcp", "udp", "network", "route-map"].contains(form.keyword) {
            throw cursor.error(.unsupported, at: form, "this static NAT form is not supported",
                               expected: "`static LOCAL GLOBAL`", hint: unsupportedHint)
        }
        let local = try cursor.address(what: "inside local address")
        let global = try cursor.address(what: "inside global address")
        var noAlias = false
        if let option = cursor.next() {
            guard option.keyword == "no-alias" else {
                throw cursor.error(option.keyword == "extendable" || option.keyword == "route-map"
                                   || option.keyword == "redundancy" ? .unsupported : .unknownOption,
                                   at: option, "unknown static NAT option", expected: "`no-alias` or end of line",
                                   hint: unsupportedHint)
            }
            noAlias = true
        }
        try cursor.end(after: "the static NAT")
        try checkDuplicateNAT(local: local, global: global, cursor: cursor)
        model.staticNAT.append(StaticNAT(
            local: local.value, global: global.value, noAlias: noAlias, location: cursor.lineLocation))
        natAddressLocations.append((local.location, global.location))
        return .applied
    }

    private func checkDuplicateNAT(
        local: Located<IPv4Address>, global: Located<IPv4Address>, cursor: TokenCursor
    ) throws(Diagnostic) {
        for (index, earlier) in model.staticNAT.enumerated() {
            let first = natAddressLocations[index]
            if earlier.local == local.value {
                throw Diagnostic(
                    .error, .duplicateStaticNAT, at: local.location,
                    "inside local \(local.value) is already translated to \(earlier.global) on line \(first.local.line)",
                    found: local.value.description, expected: "an inside local address not translated yet",
                    hint: "IOS refuses a second static entry for one inside address; delete one of the lines")
            }
            if earlier.global == global.value {
                throw Diagnostic(
                    .error, .duplicateStaticNAT, at: global.location,
                    "inside global \(global.value) is already used for \(earlier.local) on line \(first.global.line)",
                    found: global.value.description, expected: "an inside global address not used yet",
                    hint: "IOS refuses a second static entry for one global address; delete one of the lines")
            }
        }
    }

    /// `ip route PREFIX MASK target…`: checked and kept, configures nothing.
    mutating func route(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        let prefix = try cursor.address(what: "route prefix")
        let maskToken = cursor.peek()
        let mask = try cursor.address(what: "route netmask", kind: .badNetmask)
        guard mask.value.netmaskPrefixLength != nil else {
            throw cursor.error(.badNetmask, at: maskToken, "netmask is not contiguous",
                               expected: "a netmask like 255.255.255.0")
        }
        guard prefix.value.value & ~mask.value.value == 0 else {
            throw Diagnostic(
                .error, .badAddress, at: prefix.location, "route prefix has bits outside its netmask",
                found: prefix.value.description,
                expected: "\(IPv4Address(prefix.value.value & mask.value.value)) for netmask \(mask.value)",
                hint: "IOS refuses this as an inconsistent address and mask")
        }
        if cursor.atEnd { _ = try cursor.take("route target", expected: "a next-hop address or an interface") }
        let target = cursor.remaining.map(\.text)
        model.routes.append(StaticRoute(
            prefix: prefix.value, mask: mask.value, target: target, location: cursor.lineLocation))
        return .applied
    }
}
