import PacketWire
import Testing

@Suite("IPAddress and FlowKey")
struct IPAddressTests {
    /// (input, canonical RFC 5952 text).
    static let ipv6Texts: [(String, String)] = [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),   // §4.1 no leading zeros, §4.3 lower case
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),               // §4.2.3 first of equal runs
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),            // §4.2.2 one zero group stays
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),                     // §4.2.3 longest run
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("fe80::1:2", "fe80::1:2"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),                    // §5 IPv4-mapped
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ]

    @Test(arguments: ipv6Texts)
    func ipv6TextRoundTrip(input: String, canonical: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
    }

    @Test(arguments: ["", ":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::", "1:2:3:4:5:6:7",
                      "::1.2.3", "1.2.3.4::", "fe80::1%eth0"])
    func ipv6RejectsBadText(text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test(arguments: [("10.10.10.2", UInt32(0x0a0a_0a02)), ("0.0.0.0", 0), ("255.255.255.255", 0xffff_ffff),
                      ("172.22.1.50", 0xac16_0132)])
    func ipv4Text(text: String, raw: UInt32) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.rawValue == raw)
        #expect(address.description == text)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.4 "])
    func ipv4RejectsBadText(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func addressBytesAndFamilies() throws {
        let v6 = try #require(IPAddress("2001:db8::2"))
        #expect(v6.version == 6)
        #expect(v6.bytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2])
        let v4 = try #require(IPAddress("192.0.2.1"))
        #expect(v4.version == 4)
        #expect(v4.bytes == [192, 0, 2, 1])
        // An IPv4-mapped address is not the IPv4 address: they come from different packets.
        #expect(IPAddress("::ffff:192.0.2.1") != v4)
        #expect(v4 < v6)
    }

    @Test func endpointAndFlowText() {
        let flow = FlowKey(source: Endpoint(.v4(IPv4Address(172, 22, 1, 50)), 51613),
                           destination: Endpoint(.v4(IPv4Address(10, 10, 10, 2)), 25))
        #expect(flow.description == "172.22.1.50:51613 => 10.10.10.2:25")
        #expect(Endpoint(IPAddress("2001:db8::2")!, 25).description == "[2001:db8::2]:25")
    }

    @Test func bothDirectionsShareTheConnectionKey() {
        let a = Fixture.client4, b = Fixture.server4
        let forward = FlowKey(source: a, destination: b)
        let backward = forward.reversed
        #expect(forward != backward)
        #expect(forward.connection == backward.connection)
        #expect(forward.sourceIsLower != backward.sourceIsLower)
        var table: [ConnectionKey: Int] = [:]
        table[forward.connection, default: 0] += 1
        table[backward.connection, default: 0] += 1
        #expect(table.count == 1 && table[forward.connection] == 2)
        // Same addresses, other port: another connection.
        let other = FlowKey(source: Endpoint(a.address, a.port + 1), destination: b)
        #expect(other.connection != forward.connection)
    }

    /// Same host pair, ports in opposite order: the key must order by port, not collide.
    @Test func connectionKeyOrdersPortsWhenAddressesTie() {
        let host = IPAddress("192.0.2.9")!
        let flow = FlowKey(source: Endpoint(host, 2000), destination: Endpoint(host, 1000))
        #expect(flow.connection.lower.port == 1000)
        #expect(flow.reversed.connection == flow.connection)
        #expect(!flow.sourceIsLower)
    }
}
