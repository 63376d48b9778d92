extension ConfigParser {
    /// `object-group network|service NAME`: the members follow in its sub-mode.
    mutating func objectGroupHead(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let kind = try cursor.keyword(["network", "service"], what: "object-group kind", kind: .unsupported,
                                      hint: "IOS object groups for access lists are `network` or `service`")
        let name = try cursor.take("object-group name", expected: "a name")
        try cursor.end(after: "the object-group name")
        let location = cursor.location(of: name)
        let clash = kind.keyword == "network" ? model.serviceGroup(named: name.text)?.location
            : model.networkGroup(named: name.text)?.location
        if let clash {
            throw cursor.error(.wrongAccessListKind, at: kind, "object group \(name.text) is of the other kind (line \(clash.line))",
                               expected: "a name not used by another object group", hint: "IOS keeps one group per name")
        }
        if kind.keyword == "network" {
            mode = .networkGroup(ConfigParser.index(named: name.text, in: &model.networkGroups, \.name) {
                NetworkObjectGroup(name: name.text, location: location)
            })
        } else {
            mode = .serviceGroup(ConfigParser.index(named: name.text, in: &model.serviceGroups, \.name) {
                ServiceObjectGroup(name: name.text, location: location)
            })
        }
        return .applied
    }

    /// A line of a network object group, or nil when it is none (IOS reads it globally then).
    mutating func networkMember(_ line: SourceLine, group index: Int) throws(Diagnostic) -> Disposition? {
        var cursor = TokenCursor(line, file: file)
        guard let first = cursor.peek() else { return nil }
        let member: NetworkObject
        switch first.keyword {
        case "description": return .ignored("object-group description: a comment")
        case "host":
            _ = cursor.next()
            guard let next = cursor.peek(), IPv4Address(parsing: next.text) != nil else {
                throw cursor.error(.unsupported, at: cursor.peek(), "host names in object groups are not supported",
                                   expected: "an address, like 10.10.10.2",
                                   hint: "smtp-inspect resolves no names; write the address")
            }
            member = .host(try cursor.address(what: "host address").value)
        case "range":
            _ = cursor.next()
            let low = try cursor.address(what: "first address")
            let high = try cursor.address(what: "last address")
            guard low.value <= high.value else {
                throw Diagnostic(.error, .badAddress, at: high.location, "range ends below its start",
                                 found: "\(high.value)", expected: "an address from \(low.value) up",
                                 hint: "write the lower address first")
            }
            member = .range(low.value, high.value)
        case "group-object":
            _ = cursor.next()
            member = .group(try cursor.take("object group name", expected: "the name of a network object group").text)
        default:
            guard IPv4Address(parsing: first.text) != nil else { return nil }
            let address = try cursor.address(what: "network address")
            let maskToken = try cursor.take("netmask", expected: "a netmask like 255.255.255.0, or /24")
            let length: Int
            if maskToken.text.hasPrefix("/") {
                length = Int(try TokenCursor.number(
                    Token(text: String(maskToken.text.dropFirst()), keyword: "", column: maskToken.column + 1),
                    0...32, cursor: cursor, what: "prefix length"))
            } else {
                guard let mask = IPv4Address(parsing: maskToken.text), let prefix = mask.netmaskPrefixLength else {
                    throw cursor.error(.badNetmask, at: maskToken, "bad netmask", expected: "a contiguous netmask like 255.255.255.0")
                }
                length = prefix
            }
            let network = IPv4Address(address.value.value & IPv4Address.netmask(prefixLength: length).value)
            if network != address.value {
                warnings.append(Diagnostic(
                    .warning, .wildcardHostBits, at: address.location,
                    "network \(address.value) has bits its netmask ignores; read as \(network)",
                    hint: "IOS stores \(network); write that"))
            }
            member = .network(network, prefixLength: length)
        }
        try cursor.end(after: "the object")
        model.networkGroups[index].members.append(Located(member, at: cursor.lineLocation))
        return .applied
    }

    /// A line of a service object group, or nil when it is none.
    mutating func serviceMember(_ line: SourceLine, group index: Int) throws(Diagnostic) -> Disposition? {
        var cursor = TokenCursor(line, file: file)
        guard let first = cursor.peek() else { return nil }
        let member: ServiceObject
        switch first.keyword {
        case "description": return .ignored("object-group description: a comment")
        case "group-object":
            _ = cursor.next()
            member = .group(try cursor.take("object group name", expected: "the name of a service object group").text)
        case "tcp", "udp", "tcp-udp":
            _ = cursor.next()
            let protocols: [UInt8] = first.keyword == "tcp" ? [6] : first.keyword == "udp" ? [17] : [6, 17]
            // Ports are checked against tcp's names, or udp's for a udp-only line.
            let proto: UInt8 = first.keyword == "udp" ? 17 : 6
            var sourcePort: PortMatch?
            if cursor.peek()?.keyword == "source" {
                _ = cursor.next()
                sourcePort = try servicePort(&cursor, proto)
            }
            let destinationPort = cursor.atEnd ? nil : try servicePort(&cursor, proto)
            member = .service(protocols: protocols, sourcePort: sourcePort, destinationPort: destinationPort, icmp: nil)
        case "icmp":
            _ = cursor.next()
            member = .service(protocols: [1], sourcePort: nil, destinationPort: nil, icmp: try icmpMatch(&cursor))
        case "ip":
            _ = cursor.next()
            member = .service(protocols: [], sourcePort: nil, destinationPort: nil, icmp: nil)
        default:
            guard let number = ConfigParser.protocolNumber(first.keyword) else { return nil }
            _ = cursor.next()
            member = .service(protocols: [number], sourcePort: nil, destinationPort: nil, icmp: nil)
        }
        try cursor.end(after: "the service")
        model.serviceGroups[index].members.append(Located(member, at: cursor.lineLocation))
        return .applied
    }

    /// `[eq] P`, `lt P`, `gt P`, `range A B` (a bare port means `eq`).
    private mutating func servicePort(_ cursor: inout TokenCursor, _ proto: UInt8) throws(Diagnostic) -> PortMatch? {
        if let next = cursor.peek(), !ConfigParser.portOperators.contains(next.keyword) {
            return .eq(try port(&cursor, protocolNumber: proto).value)
        }
        return try portMatch(&cursor, protocolNumber: proto)
    }

    /// `route-map NAME [permit|deny] [SEQ]`: its `match` lines follow.
    mutating func routeMapHead(_ cursor: inout TokenCursor) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        let name = try cursor.take("route-map name", expected: "a name")
        var permit = true
        if let action = cursor.peek(), ["permit", "deny"].contains(action.keyword) {
            permit = action.keyword == "permit"
            _ = cursor.next()
        }
        var sequence = 10
        if let token = cursor.peek() {
            sequence = Int(try cursor.number(0...65535, what: "sequence number"))
            _ = token
        }
        try cursor.end(after: "the sequence number")
        let mapIndex = ConfigParser.index(named: name.text, in: &model.routeMaps, \.name) {
            RouteMap(name: name.text, location: cursor.location(of: name))
        }
        var entries = model.routeMaps[mapIndex].entries
        if let existing = entries.firstIndex(where: { $0.sequence == sequence }) {
            entries[existing].permit = permit
            model.routeMaps[mapIndex].entries = entries
            mode = .routeMap(mapIndex, entry: existing)
            return .applied
        }
        let position = entries.firstIndex { $0.sequence > sequence } ?? entries.count
        entries.insert(RouteMap.Entry(permit: permit, sequence: sequence, location: cursor.lineLocation), at: position)
        model.routeMaps[mapIndex].entries = entries
        mode = .routeMap(mapIndex, entry: position)
        return .applied
    }

    /// A line under `route-map …`, or nil when it is not a route-map clause.
    mutating func routeMapClause(_ line: SourceLine, map: Int, entry: Int) throws(Diagnostic) -> Disposition? {
        var cursor = TokenCursor(line, file: file)
        let words = line.tokens.map(\.keyword)
        switch words.first {
        case "description": return .ignored("route-map description: a comment")
        case "continue": return .ignored("route-map continue: NAT uses the first matching entry")
        case "set":
            return .ignored("route-map `set`: NAT does not use it (policy routing does)")
        case "match":
            if words.count > 3, words[1] == "ip", words[2] == "address", words[3] != "prefix-list" {
                _ = cursor.next(); _ = cursor.next(); _ = cursor.next()
                while let list = cursor.next() {
                    model.routeMaps[map].entries[entry].accessLists.append(Located(list.text, at: cursor.location(of: list)))
                }
                return .applied
            }
            if words.count > 2, words[1] == "interface" {
                _ = cursor.next(); _ = cursor.next()
                while let name = cursor.next() {
                    let canonical = canonicalInterface(name.text, at: cursor.location(of: name))
                    model.routeMaps[map].entries[entry].interfaces.append(Located(canonical, at: cursor.location(of: name)))
                }
                return .applied
            }
            model.routeMaps[map].entries[entry].otherClauses.append(Located(line.text.trimmingSpaces, at: cursor.lineLocation))
            return .ignored("route-map match clause smtp-inspect does not read (an error only if NAT uses this map)")
        default:
            return nil
        }
    }
}
