extension RuleGenerator {
    func header() -> String {
        let map = options.interfaces.map { "\($0.iosName)=\($0.linuxName)" }.joined(separator: " ")
        let inspected = RuleGenerator.hex(IptablesRules.inspectedMark)
        let smtp = RuleGenerator.hex(IptablesRules.smtpMark)
        var lines = [
            "smtp-inspect rules for \(options.sourceName)" + (configuration.hostname.map { " (hostname \($0.value))" } ?? ""),
            "interfaces: \(map.isEmpty ? "none mapped" : map); smtp/esmtp sessions to NFQUEUE \(options.queue)"
                + (options.queueBypass ? " with --queue-bypass" : " without bypass"),
            "",
            "Load with `iptables-restore --noflush` (IPv4 only; ip6tables is left alone). Every chain this",
            "file creates is named SI-*; the only rules outside them are the `-I <built-in> 1 … -j SI-…`",
            "jumps at the end of each table, commented \"smtp-inspect\". scripts/setup-iptables.sh:",
            "  apply:  remove an earlier set, act on the SETUP lines, then iptables-restore --noflush;",
            "  remove: delete the jumps, flush and delete every SI-* chain of raw, mangle, nat and filter,",
            "          undo the SETUP lines (sysctl back to its old value, `ip addr del` the addresses).",
            "SETUP lines, one action each: `sysctl NAME=VALUE`, `module NAME` (modprobe),",
            "`address DEVICE ADDRESS/32` (ip addr add: IOS answers ARP for a static NAT's global",
            "address on its outside interface, its \"ip alias\"; a local address makes Linux answer).",
            "",
            "Connection marks (bits set under a mask, other bits are left alone):",
            "  \(inspected)  the connection was created through an `ip inspect` rule: a CBAC session, whose",
            "             packets pass the access lists both ways (IOS 12.3(4)T session table)",
            "  \(smtp)  its rule inspects smtp/esmtp: both directions go to smtp-inspect via NFQUEUE",
            "",
            "Where each IOS step happens (IOS order of operations):",
            "  raw PREROUTING      ftp inspection: conntrack's ftp helper makes data connections RELATED",
            "  mangle PREROUTING   inbound access lists, before NAT: on the outside they see the global address",
            "  nat PREROUTING      static NAT, outside to inside: global destination to local",
            "  mangle FORWARD      ip inspect in/out: mark the new sessions of the inspected protocols",
            "  filter FORWARD      outbound access lists, after NAT (a local source that leaves as its",
            "                      global address is matched as the global address)",
            "  mangle POSTROUTING  NFQUEUE for smtp/esmtp sessions, after every filter rule accepted them",
            "  nat POSTROUTING     static NAT, inside to outside: local source to global",
        ]
        for interface in configuration.interfaces where linuxNames[interface.name] == nil {
            lines.append("\(interface.name): no Linux interface given, no rules"
                         + (interface.shutdown.value ? " (it is shut down)" : ""))
        }
        return lines.map { $0.isEmpty ? "#\n" : "# \($0)\n" }.joined()
    }
}
