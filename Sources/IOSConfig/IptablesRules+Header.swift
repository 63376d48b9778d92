extension RuleGenerator {
    func header() -> String {
        let map = options.interfaces.map { "\($0.iosName)=\($0.linuxName)" }.joined(separator: " ")
            + (options.mapNote.map { " (\($0))" } ?? "")
        let inspected = RuleGenerator.hex(IptablesRules.inspectedMark)
        let smtp = RuleGenerator.hex(IptablesRules.smtpMark)
        var lines = [
            "smtp-inspect rules for \(options.sourceName)" + (configuration.hostname.map { " (hostname \($0.value))" } ?? ""),
            "interfaces: \(map.isEmpty ? "none mapped" : map); smtp/esmtp sessions to NFQUEUE \(options.queue)"
                + (options.queueBypass ? " with --queue-bypass" : " without bypass"),
            "",
            "Load with `iptables-restore --noflush`: the IPv4 half of the rule set (`smtp-inspect rules --family",
            "ipv6` prints the IPv6 half, for ip6tables). Every chain this file creates is named SI-*; the only",
            "rules outside them are the `-I <built-in> 1 … -j SI-…` jumps at the end of each table, commented",
            "\"smtp-inspect\". scripts/setup-iptables.sh does both halves as one:",
            "  apply:  remove an earlier set, act on the SETUP lines, then iptables-restore --noflush (and",
            "          ip6tables-restore; if the IPv6 half fails, the IPv4 tables are put back as they were);",
            "  remove: delete the jumps, flush and delete every SI-* chain of raw, mangle, nat and filter,",
            "          undo the SETUP lines (sysctl back to its old value, `ip addr del` the addresses,",
            "          `nfct delete timeout` the timeout policies).",
            "SETUP lines, one action each: `sysctl NAME=VALUE`, `module NAME` (modprobe),",
            "`address DEVICE ADDRESS/32` (ip addr add: IOS answers ARP for a static NAT's global",
            "address on its outside interface, its \"ip alias\"; a local address makes Linux answer),",
            "`timeout NAME POLICY` (nfct add timeout NAME inet POLICY: an inspected protocol's `timeout`).",
            "",
            "Anti-spoofing (raw PREROUTING, SI-SPOOF-<interface>): explicit per-interface source checks made",
            "from the configuration, not the kernel's rp_filter: a packet arriving on a mapped interface is",
            "dropped when its source is in a network connected to another mapped interface (their `ip address`",
            "lines), a static NAT or pool global address (the router's own), or, on an `ip nat outside`",
            "interface, the inside address of a static NAT. rp_filter would decide from the routing table",
            "instead: strict mode breaks asymmetric routes and two outside interfaces, loose mode lets an",
            "inside address arrive from outside, and it is one sysctl for the whole router. These checks",
            "follow the configuration, run before conntrack (no state for a spoofed packet) and count drops.",
            "",
            "Fragments: conntrack reassembles IP fragments before the first table (nf_defrag_ipv4, priority",
            "-400), so no rule and no NFQUEUE sees one; a guard in raw PREROUTING drops a TCP fragment that",
            "was not reassembled, so none reaches the queue.",
            "",
            "Connection marks (bits set under a mask, other bits are left alone):",
            "  \(inspected)  the connection was created through an `ip inspect` rule: a CBAC session, whose",
            "             packets pass the access lists both ways (IOS 12.3(4)T session table)",
            "  \(smtp)  its rule inspects smtp/esmtp: both directions go to smtp-inspect via NFQUEUE",
            "  \(RuleGenerator.hex(IptablesRules.reflexiveMark))  created by a `permit … reflect NAME` entry: `evaluate NAME` lets its replies in",
        ] + IptablesRules.bypassMarkLines + [
            "",
            "Where each IOS step happens (IOS order of operations):",
            "  raw PREROUTING      anti-spoofing; conntrack helpers (ftp, tftp, sip, h323, …) and timeout",
            "                      policies of inspected protocols",
            "  mangle PREROUTING   inbound access lists, before NAT: on the outside they see the global address",
            "  nat PREROUTING      static NAT and port forwards, outside to inside: global destination to local",
            "  mangle FORWARD      ip inspect in/out: mark the new sessions of the inspected protocols",
            "  filter FORWARD      outbound access lists, after NAT (a local source that leaves as its",
            "                      global address is matched as the global address)",
            "  mangle POSTROUTING  NFQUEUE for smtp/esmtp sessions, after every filter rule accepted them",
            "  nat POSTROUTING     NAT of the source, inside to outside: static first, then dynamic and PAT",
        ]
        for interface in configuration.interfaces where linuxNames[interface.name] == nil {
            lines.append("\(interface.name): no Linux interface given, no rules"
                         + (interface.shutdown.value ? " (it is shut down)" : ""))
        }
        return lines.map { $0.isEmpty ? "#\n" : "# " + IptablesTable.clean($0) + "\n" }.joined()
    }
}
