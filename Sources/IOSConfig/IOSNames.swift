/// IOS's keyword tables for access lists: port names, ICMP message names, IP protocol names.
/// Taken from IOS 12.x `access-list 101 permit tcp any any eq ?` and its udp/icmp counterparts.
public enum IOSNames {
    /// TCP port names IOS accepts and prints in access lists.
    public static let tcpPorts: [(name: String, port: UInt16)] = [
        ("bgp", 179), ("chargen", 19), ("cmd", 514), ("daytime", 13), ("discard", 9),
        ("domain", 53), ("drip", 3949), ("echo", 7), ("exec", 512), ("finger", 79),
        ("ftp", 21), ("ftp-data", 20), ("gopher", 70), ("hostname", 101), ("ident", 113),
        ("irc", 194), ("klogin", 543), ("kshell", 544), ("login", 513), ("lpd", 515),
        ("nntp", 119), ("pim-auto-rp", 496), ("pop2", 109), ("pop3", 110), ("smtp", 25),
        ("sunrpc", 111), ("tacacs", 49), ("talk", 517), ("telnet", 23), ("time", 37),
        ("uucp", 540), ("whois", 43), ("www", 80),
    ]

    /// UDP port names IOS accepts and prints in access lists.
    public static let udpPorts: [(name: String, port: UInt16)] = [
        ("biff", 512), ("bootpc", 68), ("bootps", 67), ("discard", 9), ("dnsix", 195),
        ("domain", 53), ("echo", 7), ("isakmp", 500), ("mobile-ip", 434), ("nameserver", 42),
        ("netbios-dgm", 138), ("netbios-ns", 137), ("netbios-ss", 139), ("non500-isakmp", 4500),
        ("ntp", 123), ("pim-auto-rp", 496), ("rip", 520), ("snmp", 161), ("snmptrap", 162),
        ("sunrpc", 111), ("syslog", 514), ("tacacs", 49), ("talk", 517), ("tftp", 69),
        ("time", 37), ("who", 513), ("xdmcp", 177),
    ]

    /// Names people type from other Cisco products (PIX/ASA): accepted for TCP with a warning,
    /// printed back in IOS form (`www`) or as a number.
    public static let foreignTCPPorts: [(name: String, port: UInt16)] = [
        ("http", 80), ("https", 443), ("imap4", 143), ("ssh", 22),
    ]

    /// ICMP message names: type, and code where the name implies one.
    public static let icmpMessages: [(name: String, type: UInt8, code: UInt8?)] = [
        ("administratively-prohibited", 3, 13), ("alternate-address", 6, nil),
        ("conversion-error", 31, nil), ("dod-host-prohibited", 3, 10), ("dod-net-prohibited", 3, 9),
        ("echo", 8, nil), ("echo-reply", 0, nil), ("general-parameter-problem", 12, 0),
        ("host-isolated", 3, 8), ("host-precedence-unreachable", 3, 14), ("host-redirect", 5, 1),
        ("host-tos-redirect", 5, 3), ("host-tos-unreachable", 3, 12), ("host-unknown", 3, 7),
        ("host-unreachable", 3, 1), ("information-reply", 16, nil), ("information-request", 15, nil),
        ("mask-reply", 18, nil), ("mask-request", 17, nil), ("mobile-redirect", 32, nil),
        ("net-redirect", 5, 0), ("net-tos-redirect", 5, 2), ("net-tos-unreachable", 3, 11),
        ("net-unreachable", 3, 0), ("network-unknown", 3, 6), ("no-room-for-option", 12, 2),
        ("option-missing", 12, 1), ("packet-too-big", 3, 4), ("parameter-problem", 12, nil),
        ("port-unreachable", 3, 3), ("precedence-unreachable", 3, 15),
        ("protocol-unreachable", 3, 2), ("reassembly-timeout", 11, 1), ("redirect", 5, nil),
        ("router-advertisement", 9, nil), ("router-solicitation", 10, nil),
        ("source-quench", 4, nil), ("source-route-failed", 3, 5), ("time-exceeded", 11, nil),
        ("timestamp-reply", 14, nil), ("timestamp-request", 13, nil), ("traceroute", 30, nil),
        ("ttl-exceeded", 11, 0), ("unreachable", 3, nil),
    ]

    /// IP protocol names of extended access lists (`ip` is "any protocol" and not listed).
    public static let ipProtocols: [(name: String, number: UInt8)] = [
        ("ahp", 51), ("eigrp", 88), ("esp", 50), ("gre", 47), ("icmp", 1), ("igmp", 2),
        ("ipinip", 4), ("nos", 94), ("ospf", 89), ("pcp", 108), ("pim", 103), ("tcp", 6),
        ("udp", 17),
    ]

    /// ICMPv6 message names of `ipv6 access-list` entries (`icmp` there is ICMPv6): type, and
    /// code where the name implies one.
    public static let icmpv6Messages: [(name: String, type: UInt8, code: UInt8?)] = [
        ("beyond-scope", 1, 2), ("destination-unreachable", 1, nil), ("dhaad-reply", 145, nil),
        ("dhaad-request", 144, nil), ("echo-reply", 129, nil), ("echo-request", 128, nil), ("header", 4, 0),
        ("hop-limit", 3, 0), ("mld-query", 130, nil), ("mld-reduction", 132, nil), ("mld-report", 131, nil),
        ("mldv2", 143, nil), ("nd-na", 136, nil), ("nd-ns", 135, nil), ("next-header", 4, 1), ("no-admin", 1, 1),
        ("no-route", 1, 0), ("packet-too-big", 2, nil), ("parameter-option", 4, 2), ("parameter-problem", 4, nil),
        ("port-unreachable", 1, 4), ("reassembly-timeout", 3, 1), ("redirect", 137, nil),
        ("renum-command", 138, 0), ("renum-result", 138, 1), ("renum-seq-number", 138, 255),
        ("router-advertisement", 134, nil), ("router-renumbering", 138, nil), ("router-solicitation", 133, nil),
        ("time-exceeded", 3, nil), ("unreachable", 1, nil),
    ]

    /// Protocol names of `ipv6 access-list` entries (`ipv6` is "any protocol" and not listed;
    /// `icmp` is ICMPv6).
    public static let ipv6Protocols: [(name: String, number: UInt8)] = [
        ("ahp", 51), ("esp", 50), ("icmp", 58), ("pcp", 108), ("sctp", 132), ("tcp", 6), ("udp", 17),
    ]

    /// The IOS name of an ICMPv6 type and code, when IOS has one (`destination-unreachable`
    /// rather than its synonym `unreachable`).
    public static func icmpv6Name(type: UInt8, code: UInt8?) -> String? {
        icmpv6Messages.first { $0.type == type && $0.code == code }?.name
    }

    /// The IOS name of a TCP or UDP port, when IOS has one.
    public static func portName(_ port: UInt16, protocolNumber: UInt8) -> String? {
        let table = protocolNumber == 6 ? tcpPorts : protocolNumber == 17 ? udpPorts : []
        return table.first { $0.port == port }?.name
    }

    /// The IOS name of an IP protocol number, when IOS has one.
    public static func protocolName(_ number: UInt8) -> String? {
        ipProtocols.first { $0.number == number }?.name
    }

    /// The IOS name of an ICMP type and code, when IOS has one.
    public static func icmpName(type: UInt8, code: UInt8?) -> String? {
        icmpMessages.first { $0.type == type && $0.code == code }?.name
    }
}
