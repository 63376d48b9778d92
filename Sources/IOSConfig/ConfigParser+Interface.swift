extension ConfigParser {
    /// An interface sub-command, or nil when the line is not one (then it is a global command, or
    /// an interface sub-command smtp-inspect does not use).
    mutating func interfaceCommand(_ line: SourceLine, interface index: Int) throws(Diagnostic) -> Disposition? {
        var cursor = TokenCursor(line, file: file)
        let words = line.tokens.map(\.keyword)
        switch words[0] {
        case "shutdown" where words.count == 1:
            setShutdown(true, index: index, at: cursor.lineLocation)
            return .applied
        case "description":
            _ = cursor.next()
            let text = try cursor.take("description text", expected: "any text")
            model.interfaces[index].description = Located(line.rest(from: text), at: cursor.lineLocation)
            return .applied
        case "no":
            return try negatedInterfaceCommand(&cursor, words: words, index: index)
        case "ip" where words.count > 1:
            break
        case "ipv6" where words.count > 1:
            return try ipv6InterfaceCommand(&cursor, words: words, index: index)
        default:
            return nil
        }
        switch words[1] {
        case "address": return try address(&cursor, words: words, index: index)
        case "access-group": return try accessGroup(&cursor, index: index)
        case "inspect" where words.count == 4 && ["in", "out"].contains(words[3])
            || words.count < 3 || !ConfigParser.inspectGlobalWords.contains(words[2])
            && !(ConfigParser.ignoredInspectGlobals[words[2]] != nil):
            return try inspect(&cursor, index: index)
        case "nat" where !(words.count > 3 && words[3] == "source") && !(words.count > 2 && words[2] == "pool"):
            return try nat(&cursor, index: index)
        case "virtual-reassembly":
            return .ignored("conntrack reassembles fragments before any rule (see the rules' header)")
        default:
            return nil
        }
    }

    private mutating func negatedInterfaceCommand(
        _ cursor: inout TokenCursor, words: [String], index: Int
    ) throws(Diagnostic) -> Disposition? {
        if words == ["no", "shutdown"] {
            setShutdown(false, index: index, at: cursor.lineLocation)
            return .applied
        }
        if words.count > 2, words[1] == "ipv6" {
            return try negatedIPv6InterfaceCommand(&cursor, words: words, index: index)
        }
        if words == ["no", "ip", "address"] {
            model.interfaces[index].address = nil
            model.interfaces[index].secondaryAddresses = []
            return .applied
        }
        if words.count > 2, words[1] == "ip", ["access-group", "inspect", "nat"].contains(words[2]) {
            // A terminal session removes what it set: `no ip access-group X in`, `no ip nat inside`.
            let direction: Direction? = words.last == "in" ? .in : words.last == "out" ? .out : nil
            var interface = model.interfaces[index]
            switch (words[2], direction) {
            case ("access-group", .in?): interface.accessGroupIn = nil
            case ("access-group", .out?): interface.accessGroupOut = nil
            case ("inspect", .in?): interface.inspectIn = nil
            case ("inspect", .out?): interface.inspectOut = nil
            case ("nat", _) where words.count == 4 && ["inside", "outside"].contains(words[3]): interface.nat = nil
            default:
                throw cursor.error(
                    .unsupported, at: cursor.peek(), "`no` form of an interface ACL, inspection or NAT command",
                    expected: "`no ip access-group NAME in|out`, `no ip inspect NAME in|out` or `no ip nat inside|outside`",
                    hint: "delete both the command and its `no` form")
            }
            model.interfaces[index] = interface
            return .appliedAs("removes it from \(interface.name)")
        }
        return cursor.line.isIndented || !ConfigParser.isGlobalCommand(words)
            ? .ignored("interface sub-command smtp-inspect does not use") : nil
    }

    private mutating func setShutdown(_ value: Bool, index: Int, at location: SourceLocation) {
        if let previous = model.interfaces[index].shutdown.location {
            replaced(value ? "shutdown" : "no shutdown", previous: previous, at: location)
        }
        model.interfaces[index].shutdown = Configured(value: value, location: location)
    }

    /// `ip address A M [secondary]`; `ip address dhcp|negotiated` says the address is the peer's
    /// to give (the rules then use whatever address the Linux interface has).
    private mutating func address(_ cursor: inout TokenCursor, words: [String], index: Int) throws(Diagnostic) -> Disposition {
        if words.count > 2, ["dhcp", "negotiated", "unnumbered", "pool"].contains(words[2]) {
            model.interfaces[index].dynamicAddress = Located(words[2], at: cursor.lineLocation)
            return .ignored("address assigned by other means: the Linux interface's own address is used")
        }
        _ = cursor.next()
        _ = cursor.next()
        let address = try cursor.address(what: "interface address")
        let maskToken = cursor.peek()
        let mask = try cursor.address(what: "netmask", kind: .badNetmask)
        guard let length = mask.value.netmaskPrefixLength, length > 0 else {
            throw cursor.error(.badNetmask, at: maskToken, "bad netmask",
                               expected: "a contiguous netmask like 255.255.255.0")
        }
        let host = address.value.value & ~mask.value.value
        if address.value.value == 0 || length <= 30 && (host == 0 || host == ~mask.value.value) {
            throw Diagnostic(
                .error, .badAddress, at: address.location, "address is not a host address in its subnet",
                found: address.value.description, expected: "a host address for netmask \(mask.value)",
                hint: "IOS refuses the subnet's network and broadcast addresses")
        }
        var secondary = false
        if cursor.peek() != nil {
            _ = try cursor.keyword(["secondary"], what: "address option", kind: .unknownOption)
            secondary = true
        }
        try cursor.end(after: "the address")
        let value = InterfaceAddress(address: address.value, netmask: mask.value, location: cursor.lineLocation)
        if secondary {
            model.interfaces[index].secondaryAddresses.append(value)
        } else {
            if let previous = model.interfaces[index].address {
                replaced("ip address", previous: previous.location, at: cursor.lineLocation)
            }
            model.interfaces[index].address = value
        }
        return .applied
    }

    /// `ip access-group N|NAME in|out`
    private mutating func accessGroup(_ cursor: inout TokenCursor, index: Int) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        let expected = "an access-list number (1-99, 1300-1999 standard; 100-199, 2000-2699 extended) or a name"
        let token = try cursor.take("access list", expected: expected)
        if AccessList.isNumber(token.text) {
            guard let number = Int(token.text), AccessList.kind(ofNumber: number) != nil else {
                throw cursor.error(.accessListNumberOutOfRange, at: token, "not an IP access-list number",
                                   expected: expected)
            }
        }
        let direction = try ConfigParser.direction(&cursor)
        try cursor.end(after: "the direction")
        attach(.accessList, token, direction, family: .ipv4, interface: index, cursor: cursor)
        return .applied
    }

    /// `ip inspect NAME in|out [redundancy] [stateful GROUP]`
    private mutating func inspect(_ cursor: inout TokenCursor, index: Int) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        let name = try cursor.take("inspection rule name", expected: "the name of an `ip inspect name` rule")
        let direction = try ConfigParser.direction(&cursor)
        if let option = cursor.peek(), ["redundancy", "stateful"].contains(option.keyword) {
            warnings.append(Diagnostic(
                .warning, .noLinuxEquivalent, at: cursor.location(of: option),
                "`\(option.text)` (stateful firewall failover) is not mirrored",
                hint: "conntrackd does that on Linux; smtp-inspect sets up one router"))
            while cursor.next() != nil {}
        }
        try cursor.end(after: "the direction")
        attach(.inspection, name, direction, family: .ipv4, interface: index, cursor: cursor)
        return .applied
    }

    /// Sets the access list or inspection rule `token` names on the interface in `direction`,
    /// saying what it replaces.
    mutating func attach(
        _ reference: Interface.Reference, _ token: Token, _ direction: Direction, family: AddressFamily, interface index: Int,
        cursor: TokenCursor
    ) {
        let value = Located(token.text, at: cursor.location(of: token))
        if let previous = model.interfaces[index][reference, direction, family] {
            let command = reference == .inspection ? "\(family.keyword) inspect" : family == .ipv4 ? "ip access-group" : "ipv6 traffic-filter"
            replaced("\(command) … \(direction.rawValue)", previous: previous.location, at: value.location)
        }
        model.interfaces[index][reference, direction, family] = value
    }

    /// `ip nat inside|outside`
    private mutating func nat(_ cursor: inout TokenCursor, index: Int) throws(Diagnostic) -> Disposition {
        _ = cursor.next()
        _ = cursor.next()
        let role = try cursor.keyword(
            ["inside", "outside"], what: "NAT role", kind: .unsupported,
            hint: "smtp-inspect reproduces classic inside/outside NAT (`ip nat enable`, the NAT virtual interface, is not)")
        try cursor.end(after: "the NAT role")
        let value = Located(role.keyword == "inside" ? NATRole.inside : .outside, at: cursor.lineLocation)
        if let previous = model.interfaces[index].nat { replaced("ip nat", previous: previous.location, at: value.location) }
        model.interfaces[index].nat = value
        return .applied
    }

    static func direction(_ cursor: inout TokenCursor) throws(Diagnostic) -> Direction {
        let token = try cursor.keyword(["in", "out"], what: "direction")
        return token.keyword == "in" ? .in : .out
    }
}
