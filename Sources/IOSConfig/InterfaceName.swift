/// IOS interface names as IOS stores them (`FastEthernet0/1`, `GigabitEthernet0/0.10`, `Dialer1`),
/// from the short and case-varied forms people type and `show` commands print (`f0/1`, `Fa0/1`,
/// `gi0/0.10`, `dialer1`).
public enum InterfaceName {
    /// Interface types in the order IOS prefers them when a short form could mean several
    /// (`e0` is Ethernet0, `t0` Tunnel0), each with the shortest form read as it.
    static let types: [(name: String, shortest: String)] = [
        ("Ethernet", "e"), ("FastEthernet", "f"), ("GigabitEthernet", "g"), ("TenGigabitEthernet", "te"),
        ("Serial", "s"), ("Dialer", "d"), ("Loopback", "l"), ("Vlan", "v"), ("Tunnel", "t"),
        ("Port-channel", "po"), ("BVI", "b"), ("Virtual-Template", "virtual-t"), ("Virtual-Access", "vi"),
        ("Virtual-PPP", "virtual-p"), ("ATM", "a"), ("Async", "as"), ("BRI", "br"), ("Multilink", "m"),
        ("Cellular", "c"), ("Null", "n"), ("Dot11Radio", "do"), ("Wlan-GigabitEthernet", "w"),
        ("Embedded-Service-Engine", "em"), ("TokenRing", "to"), ("Fddi", "fd"), ("POS", "p"),
        ("Group-Async", "gr"), ("NVI", "nv"), ("Integrated-Service-Engine", "i"), ("Hssi", "h"),
    ]

    /// The abbreviations `show` output uses that are not prefixes of the name.
    static let aliases: [String: String] = ["vt": "Virtual-Template", "mfr": "MFR"]

    /// The name as IOS stores it, and whether the type was written short (not only in another
    /// case). A name whose type IOS would not know is kept as written.
    public static func canonical(_ written: String) -> (name: String, expanded: Bool) {
        let scalars = Array(written.unicodeScalars)
        guard let split = scalars.firstIndex(where: { ("0"..."9").contains($0) }), split > 0 else { return (written, false) }
        var type = ""
        type.unicodeScalars.append(contentsOf: scalars[..<split])
        var rest = ""
        rest.unicodeScalars.append(contentsOf: scalars[split...])
        let key = type.lowercased()
        if let exact = types.first(where: { $0.name.lowercased() == key }) { return (exact.name + rest, false) }
        if let alias = aliases[key] { return (alias + rest, true) }
        for candidate in types where key.hasPrefix(candidate.shortest) && candidate.name.lowercased().hasPrefix(key) {
            return (candidate.name + rest, true)
        }
        return (written, false)
    }
}
