/// A conntrack helper: the kernel module that reads a protocol's control connection and opens its
/// data connections as RELATED (and rewrites addresses in it under NAT).
public struct ConntrackHelper: Hashable, Sendable {
    /// The name `-j CT --helper` takes (`ftp`, `Q.931`, `RAS`, …).
    public var name: String
    /// 6 or 17.
    public var protocolNumber: UInt8
    public var port: UInt16
    /// The modules to load: the helper and, where one exists, its NAT module.
    public var modules: [String]
    /// Whether the kernel has the helper for IPv6 too (pptp, irc, netbios-ns and snmp are IPv4 only).
    public var ipv6 = true
}

/// What IOS's application name means and what Linux can make of it: the ports IOS's port map
/// (`show ip port-map`, IOS 12.4) gives the application, and the conntrack helpers that open its
/// data connections. Without a helper, an application with data channels is tracked on its
/// control connection only (`dataChannels` says what is missing).
public struct ApplicationProfile: Hashable, Sendable {
    public var name: String
    public var tcpPorts: [UInt16]
    public var udpPorts: [UInt16]
    public var helpers: [ConntrackHelper]
    /// Set when the protocol opens further connections that no Linux helper follows.
    public var dataChannels: String?

    init(_ name: String, tcp: [UInt16] = [], udp: [UInt16] = [], helpers: [ConntrackHelper] = [],
         dataChannels: String? = nil) {
        self.name = name
        tcpPorts = tcp
        udpPorts = udp
        self.helpers = helpers
        self.dataChannels = dataChannels
    }
}

/// IOS 12.4's application names for `ip inspect name` and `ip port-map` (the system-defined port
/// map), with their ports. `tcp`, `udp`, `icmp`, `smtp`, `esmtp` and `fragment` have their own
/// meaning and are not listed here as ports only.
public enum InspectCatalog {
    static func helper(_ name: String, _ proto: UInt8, _ port: UInt16, _ module: String, nat: Bool = true,
                       ipv6: Bool = true) -> ConntrackHelper {
        ConntrackHelper(name: name, protocolNumber: proto, port: port,
                        modules: ["nf_conntrack_\(module)"] + (nat ? ["nf_nat_\(module)"] : []), ipv6: ipv6)
    }

    static let media = "media streams on ports negotiated in the control connection"

    /// Name → profile. Names are IOS's keywords (lower case).
    public static let applications: [String: ApplicationProfile] = {
        let tcp: UInt8 = 6, udp: UInt8 = 17
        let list: [ApplicationProfile] = [
            ApplicationProfile("ftp", tcp: [21], helpers: [helper("ftp", tcp, 21, "ftp")]),
            ApplicationProfile("tftp", udp: [69], helpers: [helper("tftp", udp, 69, "tftp")]),
            ApplicationProfile("sip", tcp: [5060], udp: [5060],
                               helpers: [helper("sip", udp, 5060, "sip"), helper("sip", tcp, 5060, "sip")]),
            ApplicationProfile("h323", tcp: [1720], udp: [1719],
                               helpers: [helper("Q.931", tcp, 1720, "h323"), helper("RAS", udp, 1719, "h323")]),
            ApplicationProfile("pptp", tcp: [1723], helpers: [helper("pptp", tcp, 1723, "pptp", ipv6: false)]),
            ApplicationProfile("irc", tcp: [194], helpers: [helper("irc", tcp, 194, "irc", ipv6: false)]),
            ApplicationProfile("netbios-ns", udp: [137], helpers: [helper("netbios-ns", udp, 137, "netbios_ns", nat: false, ipv6: false)]),
            ApplicationProfile("snmp", udp: [161], helpers: [helper("snmp", udp, 161, "snmp", nat: false, ipv6: false)]),
            ApplicationProfile("http", tcp: [80]),
            ApplicationProfile("https", tcp: [443]),
            ApplicationProfile("dns", tcp: [53], udp: [53]),
            ApplicationProfile("ntp", udp: [123]),
            ApplicationProfile("ssh", tcp: [22]),
            ApplicationProfile("telnet", tcp: [23]),
            ApplicationProfile("imap", tcp: [143]),
            ApplicationProfile("imaps", tcp: [993]),
            ApplicationProfile("imap3", tcp: [220]),
            ApplicationProfile("pop3", tcp: [110]),
            ApplicationProfile("pop3s", tcp: [995]),
            ApplicationProfile("ldap", tcp: [389]),
            ApplicationProfile("ldaps", tcp: [636]),
            ApplicationProfile("nntp", tcp: [119]),
            ApplicationProfile("finger", tcp: [79]),
            ApplicationProfile("gopher", tcp: [70]),
            ApplicationProfile("ident", tcp: [113]),
            ApplicationProfile("echo", tcp: [7]),
            ApplicationProfile("discard", tcp: [9]),
            ApplicationProfile("daytime", tcp: [13]),
            ApplicationProfile("time", tcp: [37]),
            ApplicationProfile("bgp", tcp: [179]),
            ApplicationProfile("kerberos", tcp: [88], udp: [88]),
            ApplicationProfile("isakmp", udp: [500]),
            ApplicationProfile("ipsec-msft", udp: [4500]),
            ApplicationProfile("l2tp", udp: [1701]),
            ApplicationProfile("radius", udp: [1645, 1812]),
            ApplicationProfile("tacacs", tcp: [49]),
            ApplicationProfile("syslog", udp: [514]),
            ApplicationProfile("syslog-conn", tcp: [601]),
            ApplicationProfile("snmptrap", udp: [162]),
            ApplicationProfile("bootpc", udp: [68]),
            ApplicationProfile("bootps", udp: [67]),
            ApplicationProfile("netbios-dgm", udp: [138]),
            ApplicationProfile("netbios-ssn", tcp: [139]),
            ApplicationProfile("microsoft-ds", tcp: [445]),
            ApplicationProfile("cifs", tcp: [3020]),
            ApplicationProfile("msrpc", tcp: [135]),
            ApplicationProfile("ms-sql", tcp: [1433]),
            ApplicationProfile("ms-sql-m", tcp: [1434]),
            ApplicationProfile("mysql", tcp: [3306]),
            ApplicationProfile("oracle", tcp: [1525]),
            ApplicationProfile("sqlnet", tcp: [1521], dataChannels: "the connections SQL*Net redirects to"),
            ApplicationProfile("sql-net", tcp: [66]),
            ApplicationProfile("nfs", tcp: [2049], udp: [2049]),
            ApplicationProfile("rtsp", tcp: [554, 8554], dataChannels: media),
            ApplicationProfile("realaudio", tcp: [7070], dataChannels: media),
            ApplicationProfile("realmedia", tcp: [7070], dataChannels: media),
            ApplicationProfile("netshow", tcp: [1755], dataChannels: media),
            ApplicationProfile("streamworks", udp: [1558], dataChannels: media),
            ApplicationProfile("vdolive", tcp: [7000], dataChannels: media),
            ApplicationProfile("cuseeme", tcp: [7648, 7649], udp: [24032], dataChannels: media),
            ApplicationProfile("skinny", tcp: [2000], dataChannels: media),
            ApplicationProfile("mgcp", udp: [2427, 2727], dataChannels: media),
            ApplicationProfile("sip-tls", tcp: [5061], dataChannels: media),
            ApplicationProfile("h323callsigalt", tcp: [11720], dataChannels: media),
            ApplicationProfile("h323gatestat", udp: [1719], dataChannels: media),
            ApplicationProfile("rpc", tcp: [111], udp: [111]),
            ApplicationProfile("sunrpc", tcp: [111], udp: [111]),
            ApplicationProfile("rcmd", tcp: [512, 513, 514], dataChannels: "rsh's stderr connection back to the client"),
            ApplicationProfile("exec", tcp: [512]),
            ApplicationProfile("login", tcp: [513]),
            ApplicationProfile("shell", tcp: [514], dataChannels: "rsh's stderr connection back to the client"),
            ApplicationProfile("gtpv0", udp: [3386]),
            ApplicationProfile("gtpv1", udp: [2123, 2152]),
            ApplicationProfile("ftps", tcp: [990], dataChannels: "its data connections (encrypted: no helper can read them)"),
            ApplicationProfile("telnets", tcp: [992]),
            ApplicationProfile("socks", tcp: [1080]),
            ApplicationProfile("x11", tcp: [6000]),
            ApplicationProfile("xdmcp", udp: [177]),
            ApplicationProfile("citrix", tcp: [1494]),
            ApplicationProfile("ica", tcp: [1494]),
            ApplicationProfile("icabrowser", udp: [1604]),
            ApplicationProfile("lotusnote", tcp: [1352]),
            ApplicationProfile("aol", tcp: [5190]),
            ApplicationProfile("msnmsgr", tcp: [1863]),
            ApplicationProfile("ymsgr", tcp: [5050]),
            ApplicationProfile("kazaa", tcp: [1214]),
            ApplicationProfile("gnutella", tcp: [6346]),
            ApplicationProfile("edonkey", tcp: [4662]),
            ApplicationProfile("pcanywheredata", tcp: [5631]),
            ApplicationProfile("pcanywherestat", udp: [5632]),
            ApplicationProfile("uucp", tcp: [540]),
            ApplicationProfile("who", udp: [513]),
            ApplicationProfile("webster", tcp: [765]),
            ApplicationProfile("wins", tcp: [1512]),
            ApplicationProfile("iscsi", tcp: [3260]),
            ApplicationProfile("hsrp", udp: [1985]),
            ApplicationProfile("router", udp: [520]),
            ApplicationProfile("dnsix", udp: [195]),
            ApplicationProfile("timed", udp: [525]),
            ApplicationProfile("vqp", udp: [1589]),
            ApplicationProfile("gdoi", udp: [848]),
            ApplicationProfile("ncp", tcp: [524]),
            ApplicationProfile("ipass", tcp: [2549]),
            ApplicationProfile("kermit", tcp: [1649]),
            ApplicationProfile("qmtp", tcp: [209]),
            ApplicationProfile("rtelnet", tcp: [107]),
            ApplicationProfile("send", tcp: [169]),
            ApplicationProfile("sshell", tcp: [614]),
            ApplicationProfile("tacacs-ds", tcp: [65]),
            ApplicationProfile("netstat", tcp: [15]),
            ApplicationProfile("tarantella", tcp: [5505]),
            ApplicationProfile("stun", tcp: [1994]),
            ApplicationProfile("tr-rsrb", tcp: [1987]),
            ApplicationProfile("clp", tcp: [2567]),
            ApplicationProfile("cddbp", tcp: [888]),
            ApplicationProfile("dbase", tcp: [217]),
            ApplicationProfile("ipx", tcp: [213]),
            ApplicationProfile("n2h2server", tcp: [9285]),
            ApplicationProfile("pwdgen", tcp: [129]),
            ApplicationProfile("r-winsock", tcp: [1361]),
            ApplicationProfile("sqlserv", tcp: [118]),
            ApplicationProfile("sqlsrv", tcp: [156]),
            ApplicationProfile("ms-sna", tcp: [1477]),
            ApplicationProfile("msexch-routing", tcp: [691]),
            ApplicationProfile("creativepartnr", tcp: [455]),
            ApplicationProfile("creativeserver", tcp: [453]),
            ApplicationProfile("giop", tcp: [2481]),
            ApplicationProfile("ttc", tcp: [2483]),
            ApplicationProfile("oraclenames", tcp: [1575]),
            ApplicationProfile("orasrv", tcp: [1525]),
            ApplicationProfile("net8-cman", tcp: [1830]),
            ApplicationProfile("realsecure", tcp: [2998]),
            ApplicationProfile("entrust-svcs", tcp: [681]),
            ApplicationProfile("entrust-svc-handler", tcp: [710]),
            ApplicationProfile("ddns-v3", tcp: [2164]),
            ApplicationProfile("dhcp-failover", tcp: [647]),
            ApplicationProfile("fcip-port", tcp: [3225]),
            ApplicationProfile("hp-alarm-mgr", tcp: [383]),
            ApplicationProfile("hp-collector", tcp: [381]),
            ApplicationProfile("hp-managed-node", tcp: [382]),
            ApplicationProfile("igmpv3lite", udp: [465]),
            ApplicationProfile("ircs", tcp: [994]),
            ApplicationProfile("irc-serv", tcp: [529]),
            ApplicationProfile("ircu", tcp: [6665]),
            ApplicationProfile("ldap-admin", tcp: [3407]),
            ApplicationProfile("lotusmtap", tcp: [3007]),
            ApplicationProfile("ms-cluster-net", tcp: [3343]),
            ApplicationProfile("ms-dotnetster", tcp: [3126]),
            ApplicationProfile("oem-agent", tcp: [3872]),
            ApplicationProfile("oracle-em-vp", tcp: [1748]),
            ApplicationProfile("rdb-dbs-disp", tcp: [1571]),
            ApplicationProfile("rsvp-encap", udp: [1698]),
            ApplicationProfile("rsvp_tunnel", udp: [363]),
            ApplicationProfile("sms", tcp: [2701]),
            ApplicationProfile("bittorrent", tcp: [6881]),
            ApplicationProfile("bliff", udp: [512]),
        ]
        return Dictionary(list.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }()

    /// Names `ip inspect name` takes that are not applications with ports.
    public static let special: Set<String> = ["tcp", "udp", "icmp", "smtp", "esmtp", "fragment", "appfw"]

    /// Whether IOS (or the configuration's `ip port-map user-…`) knows the name.
    public static func isKnown(_ name: String, portMaps: [PortMap]) -> Bool {
        special.contains(name) || applications[name] != nil || portMaps.contains { $0.application == name }
    }
}

/// `ip port-map APPLICATION port [tcp|udp] P … [list ACL] [description …]`: ports an application
/// is inspected on besides its system ports (or, for `user-…` names, its only ports).
public struct PortMap: Hashable, Sendable {
    public var application: String
    public var tcpPorts: [UInt16]
    public var udpPorts: [UInt16]
    /// `list ACL`: only for the hosts a standard list permits (host-specific port mapping).
    public var hostList: String?
    public var location: SourceLocation

    public init(application: String, tcpPorts: [UInt16], udpPorts: [UInt16], hostList: String?, location: SourceLocation) {
        self.application = application
        self.tcpPorts = tcpPorts
        self.udpPorts = udpPorts
        self.hostList = hostList
        self.location = location
    }
}

extension IOSConfiguration {
    /// The TCP and UDP ports `application` is inspected on: its system ports and every
    /// `ip port-map` for it (in configuration order, without repeats).
    public func ports(of application: String) -> (tcp: [UInt16], udp: [UInt16]) {
        var tcp: [UInt16] = []
        var udp: [UInt16] = []
        if application == "smtp" || application == "esmtp" { tcp = [25] }
        if let profile = InspectCatalog.applications[application] {
            tcp = profile.tcpPorts
            udp = profile.udpPorts
        }
        // smtp and esmtp inspect the same application: one port map serves both.
        let names = application == "smtp" || application == "esmtp" ? ["smtp", "esmtp"] : [application]
        for map in portMaps where names.contains(map.application) {
            for port in map.tcpPorts where !tcp.contains(port) { tcp.append(port) }
            for port in map.udpPorts where !udp.contains(port) { udp.append(port) }
        }
        return (tcp, udp)
    }
}
