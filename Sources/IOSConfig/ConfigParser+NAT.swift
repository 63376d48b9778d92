extension ConfigParser {
    static let natForms = "`ip nat inside source static …`, `ip nat inside source list|route-map …` or `ip nat pool …`"

    /// `ip nat …` at the global level: static NAT (one-to-one, ports, networks), dynamic NAT and
    /// PAT (`list|route-map … interface|pool … [overload]`), pools. Other NAT forms change
    /// forwarding in ways smtp-inspect does not reproduce, so they are errors, never ignored.
    mutating func natCommand(_ cursor: inout TokenCursor, words: [String]) throws(Diagnostic) -> Disposition {
        if words.count > 2, ["translation", "log", "service", "settings", "create", "stateful", "sip-sbc"].contains(words[2]) {
            return .ignored("NAT timers, logging and helpers: Linux conntrack has its own")
        }
        if words.count == 3, ["inside", "outside", "enable"].contains(words[2]) {
            throw cursor.error(
                .malformed, at: cursor.peek(2), "interface command outside an interface block",
                expected: ConfigParser.natForms, hint: "put `ip nat \(words[2])` under its `interface` line")
        }
        _ = cursor.next()
        _ = cursor.next()
        if words.count > 2, words[2] == "pool" { return try natPool(&cursor) }
        let unsupportedHint = "smtp-inspect reproduces inside source NAT (static, dynamic, PAT) only"
        _ = try cursor.keyword(["inside"], what: "NAT direction", kind: .unsupported, hint: unsupportedHint)
        let form = try cursor.keyword(["source"], what: "NAT translation", kind: .unsupported, hint: unsupportedHint)
        _ = form
        let kind = try cursor.keyword(["static", "list", "route-map"], what: "NAT kind", kind: .unsupported, hint: unsupportedHint)
        switch kind.keyword {
        case "static":
            if let next = cursor.peek(), ["tcp", "udp"].contains(next.keyword) { return try staticPortNAT(&cursor) }
            if cursor.peek()?.keyword == "network" { return try staticNetworkNAT(&cursor) }
            return try staticNAT(&cursor)
        default:
            return try dynamicNAT(&cursor, routeMap: kind.keyword == "route-map")
        }
    }

    /// `ip nat inside source static L G [extendable] [no-alias] [no-payload]`
    private mutating func staticNAT(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        let local = try cursor.address(what: "inside local address")
        let global = try cursor.address(what: "inside global address")
        let options = try staticOptions(&cursor)
        if let same = model.staticNAT.firstIndex(where: { $0.local == local.value && $0.global == global.value }) {
            // The same translation entered again (a second paste): IOS keeps one.
            replaced("ip nat inside source static \(local.value) \(global.value)", previous: model.staticNAT[same].location,
                     at: cursor.lineLocation)
            model.staticNAT[same].noAlias = options.noAlias
            return .applied
        }
        try checkDuplicateNAT(local: local, global: global, extendable: options.extendable, cursor: cursor)
        model.staticNAT.append(StaticNAT(
            local: local.value, global: global.value, noAlias: options.noAlias, location: cursor.lineLocation))
        natAddressLocations.append((local.location, global.location))
        return .applied
    }

    /// `ip nat inside source static tcp|udp L LPORT G|interface IF GPORT [extendable] [no-alias]`
    private mutating func staticPortNAT(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        let proto: UInt8 = cursor.next()?.keyword == "tcp" ? PacketMatch.tcp : PacketMatch.udp
        let local = try cursor.address(what: "inside local address")
        let localPort = try natPort(&cursor, proto)
        let global: NATGlobal
        let globalLocation: SourceLocation
        if cursor.peek()?.keyword == "interface" {
            _ = cursor.next()
            let name = try cursor.take("interface name", expected: "the outside interface, like Dialer1")
            globalLocation = cursor.location(of: name)
            global = .interface(canonicalInterface(name.text, at: globalLocation))
        } else {
            let address = try cursor.address(what: "inside global address")
            globalLocation = address.location
            global = .address(address.value)
        }
        let globalPort = try natPort(&cursor, proto)
        let options = try staticOptions(&cursor)
        let entry = StaticPortNAT(protocolNumber: proto, local: local.value, localPort: localPort, global: global,
                                  globalPort: globalPort, extendable: options.extendable, noAlias: options.noAlias,
                                  location: cursor.lineLocation)
        if let same = model.staticPortNAT.firstIndex(where: {
            $0.protocolNumber == proto && $0.local == local.value && $0.localPort == localPort && $0.global == global && $0.globalPort == globalPort
        }) {
            replaced("the port forward", previous: model.staticPortNAT[same].location, at: cursor.lineLocation)
            model.staticPortNAT[same] = entry
            return .applied
        }
        for earlier in model.staticPortNAT where earlier.protocolNumber == proto {
            if earlier.global == global && earlier.globalPort == globalPort {
                throw Diagnostic(
                    .error, .duplicateStaticNAT, at: globalLocation,
                    "\(global) \(entry.protocolName) port \(globalPort) is already forwarded to \(earlier.local) on line \(earlier.location.line)",
                    found: "\(global) \(globalPort)", expected: "a global address and port not forwarded yet",
                    hint: "IOS refuses a second forward of one port; delete one of the lines")
            }
        }
        model.staticPortNAT.append(entry)
        let globalText = switch global {
        case .address(let address): "\(address)"
        case .interface(let name): "\(name)'s address"
        }
        let target = "\(globalText):\(globalPort) to \(local.value):\(localPort)"
        return .appliedAs("\(entry.protocolName) port forward \(target) (DNAT in, SNAT out)")
    }

    /// `ip nat inside source static network L G MASK|/LEN [no-alias]`
    private mutating func staticNetworkNAT(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let local = try cursor.address(what: "inside local network")
        let global = try cursor.address(what: "inside global network")
        let maskToken = try cursor.take("netmask", expected: "a netmask like 255.255.255.0, or /24")
        var length: Int?
        if maskToken.text.hasPrefix("/") {
            length = Int(maskToken.text.dropFirst()).flatMap { (0...32).contains($0) ? $0 : nil }
        } else {
            length = IPv4Address(parsing: maskToken.text)?.netmaskPrefixLength
        }
        guard let length else {
            throw cursor.error(.badNetmask, at: maskToken, "bad netmask", expected: "a contiguous netmask like 255.255.255.0, or /24")
        }
        let options = try staticOptions(&cursor)
        model.staticNetworkNAT.append(StaticNetworkNAT(local: local.value, global: global.value, prefixLength: length,
                                                       noAlias: options.noAlias, location: cursor.lineLocation))
        return .appliedAs("network mapping \(local.value)/\(length) to \(global.value)/\(length) (NETMAP)")
    }

    private func natPort(_ cursor: inout TokenCursor, _ proto: UInt8) throws(Diagnostic) -> UInt16 {
        let token = try cursor.take("port", expected: "a port number 1-65535")
        return UInt16(try TokenCursor.number(token, 1...65535, cursor: cursor, what: "port"))
    }

    private func staticOptions(_ cursor: inout TokenCursor) throws(Diagnostic) -> (extendable: Bool, noAlias: Bool) {
        var extendable = false
        var noAlias = false
        while let option = cursor.next() {
            switch option.keyword {
            case "extendable": extendable = true
            case "no-alias": noAlias = true
            case "no-payload": break
            default:
                let known = ["route-map", "redundancy", "vrf", "reversible", "mapping-id", "match-in-vrf"]
                throw cursor.error(known.contains(option.keyword) ? .unsupported : .unknownOption,
                                   at: option, "unknown static NAT option",
                                   expected: "`extendable`, `no-alias`, `no-payload` or end of line",
                                   hint: "smtp-inspect reproduces NAT in the global routing table, without failover")
            }
        }
        return (extendable, noAlias)
    }

    /// `ip nat inside source list ACL|route-map NAME interface IF|pool NAME [overload]`
    private mutating func dynamicNAT(_ cursor: inout TokenCursor, routeMap: Bool) throws(Diagnostic) -> Disposition {
        let selectorToken = try cursor.take(routeMap ? "route-map name" : "access list",
                                            expected: routeMap ? "the name of a route-map" : "an access-list number or name")
        let selector: DynamicNAT.Selector = routeMap ? .routeMap(selectorToken.text) : .list(selectorToken.text)
        let targetKind = try cursor.keyword(["interface", "pool"], what: "NAT target")
        let targetToken = try cursor.take(targetKind.keyword == "pool" ? "pool name" : "interface name",
                                          expected: targetKind.keyword == "pool" ? "the name of an `ip nat pool`" : "the outside interface")
        let target: DynamicNAT.Target = targetKind.keyword == "pool" ? .pool(targetToken.text)
            : .interface(canonicalInterface(targetToken.text, at: cursor.location(of: targetToken)))
        var overload = false
        while let option = cursor.next() {
            switch option.keyword {
            case "overload": overload = true
            case "reversible", "oer": break
            default:
                throw cursor.error(option.keyword == "vrf" ? .unsupported : .unknownOption, at: option,
                                   "unknown dynamic NAT option", expected: "`overload` or end of line",
                                   hint: "smtp-inspect reproduces NAT in the global routing table")
            }
        }
        let entry = DynamicNAT(selector: selector, target: target, overload: overload, location: cursor.lineLocation)
        model.dynamicNAT.append(entry)
        switch target {
        case .interface(let name):
            return .appliedAs("\(overload ? "PAT" : "NAT") to \(name)'s address (MASQUERADE)"
                              + (overload ? "" : "; like IOS, one address for all, but Linux also translates ports"))
        case .pool(let name):
            return overload ? .appliedAs("PAT to pool \(name) (SNAT to its range)")
                : .approximated("dynamic NAT to pool \(name): Linux shares an address between inside hosts (ports translated) where IOS gives each its own")
        }
    }

    /// `ip nat pool NAME FIRST LAST netmask M|prefix-length N [type match-host|rotary]`
    private mutating func natPool(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let name = try cursor.take("pool name", expected: "a name")
        guard let next = cursor.peek(), IPv4Address(parsing: next.text) != nil else {
            throw cursor.error(.unsupported, at: cursor.peek(), "a pool without its addresses on the line",
                               expected: "`ip nat pool NAME FIRST LAST netmask M`",
                               hint: "write the pool on one line, as show running-config prints a one-range pool")
        }
        let first = try cursor.address(what: "first address")
        let last = try cursor.address(what: "last address")
        let kind = try cursor.keyword(["netmask", "prefix-length"], what: "pool mask")
        let length: Int
        if kind.keyword == "netmask" {
            let maskToken = cursor.peek()
            let mask = try cursor.address(what: "netmask", kind: .badNetmask)
            guard let prefix = mask.value.netmaskPrefixLength else {
                throw cursor.error(.badNetmask, at: maskToken, "bad netmask", expected: "a contiguous netmask like 255.255.255.0")
            }
            length = prefix
        } else {
            length = Int(try cursor.number(1...32, what: "prefix length"))
        }
        var type: String?
        if cursor.peek()?.keyword == "type" {
            _ = cursor.next()
            type = try cursor.keyword(["match-host", "rotary"], what: "pool type").keyword
        }
        try cursor.end(after: "the pool")
        guard first.value <= last.value else {
            throw Diagnostic(.error, .badAddress, at: last.location, "pool ends below its start",
                             found: "\(last.value)", expected: "an address from \(first.value) up", hint: "write the lower address first")
        }
        let mask = IPv4Address.netmask(prefixLength: length).value
        guard first.value.value & mask == last.value.value & mask else {
            throw Diagnostic(.error, .badAddress, at: last.location, "pool spans more than its network",
                             found: "\(first.value)-\(last.value) /\(length)", expected: "both ends in one /\(length) network",
                             hint: "IOS refuses a pool whose addresses are not in one network of its mask")
        }
        if model.natPool(named: name.text) != nil {
            throw cursor.error(.duplicateStaticNAT, at: name, "pool \(name.text) is defined already", expected: "a new pool name")
        }
        model.natPools.append(NATPool(name: name.text, first: first.value, last: last.value, prefixLength: length,
                                      type: type, location: cursor.lineLocation))
        if type == "rotary" {
            return .ignored("rotary pools (TCP load distribution) are not mirrored")
        }
        return .applied
    }

    private func checkDuplicateNAT(
        local: Located<IPv4Address>, global: Located<IPv4Address>, extendable: Bool, cursor: TokenCursor
    ) throws(Diagnostic) {
        for (index, earlier) in model.staticNAT.enumerated() {
            let first = natAddressLocations[index]
            if earlier.local == local.value && !extendable {
                throw Diagnostic(
                    .error, .duplicateStaticNAT, at: local.location,
                    "inside local \(local.value) is already translated to \(earlier.global) on line \(first.local.line)",
                    found: local.value.description, expected: "an inside local address not translated yet",
                    hint: "IOS refuses a second static entry for one inside address unless it is `extendable`; delete one of the lines")
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

    /// `ip route PREFIX MASK target…`: kept for `check` and the model dump; it configures nothing
    /// (the Linux routing table is the operator's), so a malformed one is ignored with a warning.
    mutating func route(_ cursor: inout TokenCursor) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        if cursor.peek()?.keyword == "vrf" {
            return .ignored("static route of a VRF: kept by IOS only; the Linux routing table is the operator's")
        }
        do throws(Diagnostic) {
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
            return .ignored("static route: kept for reference; the Linux routing table is the operator's")
        } catch {
            var warning = error
            warning.severity = .warning
            warning.kind = .malformedIgnored
            warning.summary = "malformed route ignored: " + error.summary
            warning.hint = "routes configure nothing here (the Linux routing table is yours); " + error.hint
            warnings.append(warning)
            return .ignored("malformed route: routes configure nothing here")
        }
    }
}
