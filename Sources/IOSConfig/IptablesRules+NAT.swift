extension RuleGenerator {
    var natInside: [(interface: Interface, linux: String)] { active.filter { $0.interface.nat?.value == .inside } }
    var natOutside: [(interface: Interface, linux: String)] { active.filter { $0.interface.nat?.value == .outside } }
    /// IOS translates only traffic between an `ip nat inside` and an `ip nat outside` interface.
    var natApplies: Bool { !natInside.isEmpty && !natOutside.isEmpty }

    func natTable(_ setup: inout [SetupAction]) -> IptablesTable {
        var nat = IptablesTable("nat")
        let pre = nat.top("PREROUTING")
        let post = nat.top("POSTROUTING")
        guard !configuration.staticNAT.isEmpty else { return nat }
        guard natApplies else {
            nat.note(pre, "Static NAT translates nothing: IOS needs an `ip nat inside` and an `ip nat outside` interface.")
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
                if aliasNeeded(entry, on: outside.interface) {
                    setup.append(.address(device: outside.linux, address: entry.global))
                }
            }
        }
        return nat
    }

    /// IOS adds an alias (answers ARP) for a global address in the subnet of an outside interface,
    /// unless `no-alias`; with no address known for the interface, assume it is in the subnet.
    private func aliasNeeded(_ entry: StaticNAT, on interface: Interface) -> Bool {
        guard !entry.noAlias else { return false }
        let addresses = [interface.address].compactMap { $0 } + interface.secondaryAddresses
        return addresses.isEmpty || addresses.contains { $0.contains(entry.global) }
    }

    func filterTable() -> IptablesTable {
        var filter = IptablesTable("filter")
        let forward = filter.top("FORWARD")
        for entry in active {
            guard let group = entry.interface.accessGroupOut, let list = configuration.accessList(group.value) else { continue }
            let chain = filter.chain("SI-OUT-\(entry.linux)")
            filter.note(forward, "\(entry.interface.name) outbound: access list \(list.number), after NAT (IOS order of operations).")
            filter.rule(forward, ["-o \(entry.linux)"],
                        comment: "\(entry.interface.name): ip access-group \(list.number) out\(RuleGenerator.line(group.location))",
                        "-j \(chain)")
            bypassRule(&filter, chain: chain, list: list.number)
            if entry.interface.nat?.value == .outside && natApplies {
                filter.note(chain, "Static NAT changes the source only after this hook: a packet from an inside local",
                            "address is matched as the global address it will leave with.")
                for (index, nat) in configuration.staticNAT.enumerated() {
                    let specialised = accessListChain(list, table: &filter, leavingAs: (index + 1, nat))
                    filter.rule(chain, ["-s \(nat.local)/32"],
                                comment: "leaves as \(nat.global)\(RuleGenerator.line(nat.location))", "-g \(specialised)")
                }
            }
            filter.rule(chain, [], comment: nil, "-g \(accessListChain(list, table: &filter))")
        }
        return filter
    }
}
