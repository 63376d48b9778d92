extension RuleGenerator {
    var natInside: [(interface: Interface, linux: String)] { active.filter { $0.interface.nat?.value == .inside } }
    var natOutside: [(interface: Interface, linux: String)] { active.filter { $0.interface.nat?.value == .outside } }
    /// IOS translates only traffic between an `ip nat inside` and an `ip nat outside` interface.
    var natApplies: Bool { !natInside.isEmpty && !natOutside.isEmpty }

    /// Pools some dynamic NAT translates to.
    var poolsInUse: [NATPool] {
        configuration.natPools.filter { pool in
            configuration.dynamicNAT.contains { if case .pool(let name) = $0.target { name == pool.name } else { false } }
        }
    }

    var hasNAT: Bool {
        !configuration.staticNAT.isEmpty || !configuration.staticPortNAT.isEmpty || !configuration.staticNetworkNAT.isEmpty
            || !configuration.dynamicNAT.isEmpty
    }

    func natTable(_ setup: inout [SetupAction]) -> IptablesTable {
        var nat = IptablesTable("nat")
        let pre = nat.top("PREROUTING")
        let post = nat.top("POSTROUTING")
        guard hasNAT else { return nat }
        guard natApplies else {
            nat.note(pre, "NAT translates nothing: IOS needs an `ip nat inside` and an `ip nat outside` interface.")
            return nat
        }
        for entry in configuration.staticNAT {
            let text = IOSText.staticNAT(entry) + RuleGenerator.line(entry.location)
            nat.note(pre, "\(IOSText.staticNAT(entry)): outside, \(entry.global) means \(entry.local).")
            nat.note(post, "\(IOSText.staticNAT(entry)): \(entry.local) leaves as \(entry.global).")
            for outside in natOutside {
                nat.rule(pre, ["-i \(outside.linux)", "-d \(entry.global)/32"], comment: text,
                         "-j DNAT --to-destination \(entry.local)")
                nat.rule(post, ["-o \(outside.linux)", "-s \(entry.local)/32"], comment: text,
                         "-j SNAT --to-source \(entry.global)")
                if aliasNeeded(entry.global, noAlias: entry.noAlias, on: outside.interface) {
                    setup.append(.address(device: outside.linux, address: entry.global))
                }
            }
        }
        portForwards(&nat, pre: pre, post: post, setup: &setup)
        networkMappings(&nat, pre: pre, post: post)
        dynamicNAT(&nat, post: post, setup: &setup)
        return nat
    }

    /// `static tcp|udp L LPORT G|interface IF GPORT`: the global port is sent to the local one, and
    /// the local port leaves as the global one.
    private func portForwards(_ nat: inout IptablesTable, pre: String, post: String, setup: inout [SetupAction]) {
        for entry in configuration.staticPortNAT {
            let text = IOSText.staticPortNAT(entry) + RuleGenerator.line(entry.location)
            let proto = entry.protocolName
            let inward = RuleGenerator.portWords(entry.protocolNumber, [entry.globalPort])
            let outward = RuleGenerator.portWords(entry.protocolNumber, [entry.localPort], option: "--sport")
            switch entry.global {
            case .interface(let name):
                guard let interface = configuration.interface(named: name), let linux = linuxNames[interface.name] else { continue }
                nat.note(pre, "\(IOSText.staticPortNAT(entry)): \(proto) \(entry.globalPort) to \(name)'s own address goes to \(entry.local):\(entry.localPort).")
                nat.rule(pre, ["-i \(linux)"] + inward + ["-m addrtype --dst-type LOCAL --limit-iface-in"], comment: text,
                         "-j DNAT --to-destination \(entry.local):\(entry.localPort)")
                nat.rule(post, ["-o \(linux)", "-s \(entry.local)/32"] + outward, comment: text,
                         "-j MASQUERADE --to-ports \(entry.globalPort)")
            case .address(let global):
                nat.note(pre, "\(IOSText.staticPortNAT(entry)): \(proto) \(global):\(entry.globalPort) goes to \(entry.local):\(entry.localPort).")
                for outside in natOutside {
                    nat.rule(pre, ["-i \(outside.linux)", "-d \(global)/32"] + inward, comment: text,
                             "-j DNAT --to-destination \(entry.local):\(entry.localPort)")
                    nat.rule(post, ["-o \(outside.linux)", "-s \(entry.local)/32"] + outward, comment: text,
                             "-j SNAT --to-source \(global):\(entry.globalPort)")
                    let isInterfaceAddress = outside.interface.allAddresses.contains { $0.address == global }
                    if !isInterfaceAddress, aliasNeeded(global, noAlias: entry.noAlias, on: outside.interface),
                       !setup.contains(.address(device: outside.linux, address: global)) {
                        setup.append(.address(device: outside.linux, address: global))
                    }
                }
            }
        }
    }

    /// `static network L G /LEN`: NETMAP both ways.
    private func networkMappings(_ nat: inout IptablesTable, pre: String, post: String) {
        for entry in configuration.staticNetworkNAT {
            let text = IOSText.staticNetworkNAT(entry) + RuleGenerator.line(entry.location)
            let length = entry.prefixLength
            for outside in natOutside {
                nat.rule(pre, ["-i \(outside.linux)", "-d \(entry.global)/\(length)"], comment: text,
                         "-j NETMAP --to \(entry.local)/\(length)")
                nat.rule(post, ["-o \(outside.linux)", "-s \(entry.local)/\(length)"], comment: text,
                         "-j NETMAP --to \(entry.global)/\(length)")
            }
        }
    }

    /// `ip nat inside source list|route-map … interface|pool … [overload]`: the sources the list
    /// (or route-map) permits leave as the interface's address (MASQUERADE) or a pool's (SNAT).
    /// Static NAT comes first (IOS prefers a static entry).
    private func dynamicNAT(_ nat: inout IptablesTable, post: String, setup: inout [SetupAction]) {
        for (index, entry) in configuration.dynamicNAT.enumerated() {
            let text = IOSText.dynamicNAT(entry) + RuleGenerator.line(entry.location)
            let outgoing: [(interface: Interface, linux: String)]
            let target: String
            switch entry.target {
            case .interface(let name):
                guard let interface = configuration.interface(named: name), let linux = linuxNames[interface.name],
                      !interface.shutdown.value else { continue }
                outgoing = [(interface, linux)]
                target = "-j MASQUERADE"
            case .pool(let name):
                guard let pool = configuration.natPool(named: name) else { continue }
                outgoing = natOutside
                target = "-j SNAT --to-source \(pool.first)" + (pool.first == pool.last ? "" : "-\(pool.last)")
                    + (entry.overload ? "" : " --persistent")
                for outside in natOutside {
                    let addresses = (0..<min(pool.count, 64)).map { IPv4Address(pool.first.value + UInt32($0)) }
                    for address in addresses where aliasNeeded(address, noAlias: false, on: outside.interface)
                        && !setup.contains(.address(device: outside.linux, address: address)) {
                        setup.append(.address(device: outside.linux, address: address))
                    }
                }
            }
            let chain = selectorChain(entry, index: index + 1, target: target, table: &nat)
            nat.note(post, "\(IOSText.dynamicNAT(entry)): what \(selectorText(entry.selector)) permits leaves translated.")
            for out in outgoing {
                nat.rule(post, ["-o \(out.linux)"], comment: text, "-j \(chain)")
            }
        }
    }

    private func selectorText(_ selector: DynamicNAT.Selector) -> String {
        switch selector {
        case .list(let name): "access list \(name)"
        case .routeMap(let name): "route-map \(name)"
        }
    }

    /// The chain that picks what a dynamic NAT statement translates.
    private func selectorChain(_ entry: DynamicNAT, index: Int, target: String, table: inout IptablesTable) -> String {
        switch entry.selector {
        case .list(let name):
            guard let list = configuration.accessList(named: name) else { return "RETURN" }
            return accessListChain(list, table: &table, use: .select(chainSuffix: "-\(index)", target: target))
        case .routeMap(let name):
            let chain = table.chain("SI-NAT-\(index)")
            guard let map = configuration.routeMap(named: name) else { return chain }
            table.note(chain, "route-map \(name): each entry's access lists, in order; a permit translates.")
            for (entryIndex, mapEntry) in map.entries.enumerated() where mapEntry.permit {
                var conditions: [[String]] = [[]]
                let interfaces = mapEntry.interfaces.compactMap { configuration.interface(named: $0.value).flatMap { linuxNames[$0.name] } }
                if !mapEntry.interfaces.isEmpty { conditions = interfaces.map { ["-o \($0)"] } }
                let comment = "route-map \(name) permit \(mapEntry.sequence)" + RuleGenerator.line(mapEntry.location)
                if mapEntry.accessLists.isEmpty {
                    for condition in conditions { table.rule(chain, condition, comment: comment, target) }
                    continue
                }
                for (listIndex, listName) in mapEntry.accessLists.enumerated() {
                    guard let list = configuration.accessList(named: listName.value) else { continue }
                    let sub = accessListChain(list, table: &table,
                                              use: .select(chainSuffix: "-\(index)-\(entryIndex + 1)-\(listIndex + 1)", target: target))
                    for condition in conditions { table.rule(chain, condition, comment: comment, "-j \(sub)") }
                }
            }
            return chain
        }
    }

    /// IOS answers ARP for a global address in the subnet of an outside interface (its "ip
    /// alias"), unless no-alias; with no address known for the interface, assume it is in the subnet.
    func aliasNeeded(_ global: IPv4Address, noAlias: Bool, on interface: Interface) -> Bool {
        guard !noAlias else { return false }
        let addresses = interface.allAddresses
        if addresses.contains(where: { $0.address == global }) { return false }
        return addresses.isEmpty && interface.dynamicAddress == nil || addresses.contains { $0.contains(global) }
    }

    /// An outbound list on an `ip nat outside` interface: static NAT changes the source only after
    /// filter FORWARD, so a packet from an inside local address goes to a variant of the list
    /// decided on the global address it will leave with.
    func staticNATVariants(_ filter: inout IptablesTable, chain: String, list: AccessList) {
        filter.note(chain, "Static NAT changes the source only after this hook: a packet from an inside local",
                    "address is matched as the global address it will leave with.")
        if !configuration.dynamicNAT.isEmpty {
            filter.note(chain, "Dynamic NAT and PAT: their sources are matched with their inside address (IOS matches the",
                        "translated one): an entry that names the outside address of PAT does not match here.")
        }
        for (index, nat) in configuration.staticNAT.enumerated() {
            let specialised = accessListChain(list, table: &filter, leavingAs: (index + 1, nat))
            filter.rule(chain, ["-s \(nat.local)/32"],
                        comment: "leaves as \(nat.global)\(RuleGenerator.line(nat.location))", "-g \(specialised)")
        }
    }
}
