extension RuleGenerator {
    /// The `#` lines that open a rule set: what it is for, how to load it, and how each IOS step
    /// maps to netfilter. The marks and the unmapped interfaces are said alike in both families.
    func header() -> String {
        let map = options.interfaces.map { "\($0.iosName)=\($0.linuxName)" }.joined(separator: " ")
            + (options.mapNote.map { " (\($0))" } ?? "")
        var lines = [
            "smtp-inspect rules for \(options.sourceName)" + (configuration.hostname.map { " (hostname \($0.value))" } ?? "")
                + (family == .ipv6 ? ": IPv6" : ""),
            "interfaces: \(map.isEmpty ? "none mapped" : map); smtp/esmtp sessions to NFQUEUE \(options.queue)"
                + (options.queueBypass ? " with --queue-bypass" : " without bypass"),
            "",
        ]
        lines += family == .ipv4 ? RuleGenerator.loadingAndDefences : RuleGenerator.loadingAndDefences6
        lines.append("Connection marks (bits set under a mask, other bits are left alone):")
        let inspected = RuleGenerator.hex(IptablesRules.inspectedMark)
        lines += family == .ipv4
            ? ["  \(inspected)  the connection was created through an `ip inspect` rule: a CBAC session, whose",
               "             packets pass the access lists both ways (IOS 12.3(4)T session table)"]
            : ["  \(inspected)  the connection was created through an `ip inspect`/`ipv6 inspect` rule: a CBAC",
               "             session, whose packets pass the access lists both ways"]
        lines += [
            "  \(RuleGenerator.hex(IptablesRules.smtpMark))  its rule inspects smtp/esmtp: both directions go to smtp-inspect via NFQUEUE",
            "  \(RuleGenerator.hex(IptablesRules.reflexiveMark))  created by a `permit … reflect NAME` entry: `evaluate NAME` lets its replies in",
        ] + IptablesRules.bypassMarkLines + [""]
        lines += family == .ipv4 ? RuleGenerator.steps : RuleGenerator.steps6
        if family == .ipv6, configuration.ipv6UnicastRouting == nil {
            lines.append("No `ipv6 unicast-routing`: IPv6 forwarding is left as this box has it.")
        }
        for interface in configuration.interfaces where linuxNames[interface.name] == nil {
            lines.append("\(interface.name): no Linux interface given, no rules"
                         + (interface.shutdown.value ? " (it is shut down)" : ""))
        }
        return lines.map { $0.isEmpty ? "#\n" : "# " + IptablesTable.clean($0) + "\n" }.joined()
    }

    /// How to load the IPv4 rule set, its SETUP lines, anti-spoofing and fragments.
    static let loadingAndDefences = [
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
    ]

    /// How to load the IPv6 rule set, its SETUP lines, the other family's SMTP, anti-spoofing,
    /// fragments and neighbour discovery.
    static let loadingAndDefences6 = [
        "Load with `ip6tables-restore --noflush`: the IPv6 half of the rule set (`smtp-inspect rules --family",
        "ipv4` prints the IPv4 half; scripts/setup-iptables.sh loads both as one). Every chain this file",
        "creates is named SI-*; the only rules outside them are the `-I <built-in> 1 … -j SI-…` jumps at",
        "the end of each table, commented \"smtp-inspect\". No nat table: IOS's `ip nat` is IPv4 only.",
        "SETUP lines, one action each: `sysctl NAME=VALUE` (`ipv6 unicast-routing` turns on",
        "net.ipv6.conf.all.forwarding), `module NAME` (modprobe), `timeout6 NAME POLICY` (nfct add timeout",
        "NAME inet6 POLICY: an inspected protocol's `timeout`; conntrack keeps a policy to one family).",
        "",
        "No way around the inspector: where an interface inspects SMTP in one family and says nothing of",
        "the other in that direction (no `ipv6 inspect`, or no `ip inspect`), the other family's SMTP",
        "through it is inspected with the same rule's smtp/esmtp, never forwarded uninspected. Other IPv6",
        "traffic the configuration says nothing about is left to this box's own ip6tables rules.",
        "",
        "Anti-spoofing (raw PREROUTING, SI-SPOOF-<interface>): explicit per-interface source checks made",
        "from the configuration, not rp_filter: a packet arriving on a mapped interface is dropped when",
        "its source is in a prefix connected to another mapped interface (their `ipv6 address` lines).",
        "Link-local sources (fe80::/10) are valid on every link.",
        "",
        "Fragments: conntrack reassembles IPv6 fragments before the first table (nf_defrag_ipv6, priority",
        "-400), so no rule and no NFQUEUE sees one; a guard in raw PREROUTING drops a TCP packet whose",
        "Fragment header says it is a part, so none reaches the queue (an atomic fragment is whole).",
        "",
        "Neighbour discovery: IOS ends every IPv6 access list with `permit icmp any any nd-na`, `permit icmp",
        "any any nd-ns` and `deny ipv6 any any`; so does each list's chain here.",
        "",
    ]

    /// Where each IOS step happens in the IPv4 rule set.
    static let steps = [
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

    /// Where each IOS step happens in the IPv6 rule set.
    static let steps6 = [
        "Where each IOS step happens:",
        "  raw PREROUTING      fragment guard; anti-spoofing; conntrack helpers and timeout policies",
        "  mangle PREROUTING   inbound lists (`ipv6 traffic-filter … in`), on packets as they arrive",
        "  mangle FORWARD      ip/ipv6 inspect in/out: mark the new sessions of the inspected protocols",
        "  filter FORWARD      outbound lists (`ipv6 traffic-filter … out`)",
        "  mangle POSTROUTING  NFQUEUE for smtp/esmtp sessions, after every filter rule accepted them",
    ]
}
