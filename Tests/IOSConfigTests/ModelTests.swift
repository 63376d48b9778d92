import IOSConfig
import Testing

/// What the model holds for the seed and for the commands around it.
@Suite struct ModelTests {
    static func model(_ text: String) throws -> IOSConfiguration {
        try IOSConfigParser.parse(text, fileName: "m.cfg").get().configuration
    }

    @Test func seedModel() throws {
        let model = try Repository.seed().configuration
        #expect(model.hostname?.value == "3640-123")
        #expect(model.timestamps.log.value == .datetime(msec: true, localtime: false, showTimezone: false, year: false))
        #expect(model.inspectionRules.map(\.name) == ["IN-OUT", "OUT-IN"])
        #expect(model.inspectionRules[0].protocols.map(\.kind) == [.tcp, .udp, .ftp, .http, .icmp])
        #expect(model.inspectionRule(named: "OUT-IN")?.smtp?.kind == .smtp)
        #expect(model.interfaces.map(\.name) == ["Ethernet2/0", "Serial2/0", "Ethernet2/1"])
        let outside = try #require(model.interface(named: "ethernet2/0"))
        #expect(outside.accessGroupIn?.value == "101")
        #expect(outside.inspectIn?.value == "OUT-IN")
        #expect(outside.nat?.value == .outside)
        #expect(outside.address?.address == IPv4Address(172, 22, 1, 16))
        #expect(model.interface(named: "Serial2/0")?.shutdown.value == true)
        #expect(model.staticNAT.map(\.global) == [IPv4Address(172, 22, 1, 110), IPv4Address(172, 22, 1, 111)])
        let entry = try #require(model.accessList(101)?.entries.first)
        #expect(entry.match == PacketMatch(protocolNumber: 6, source: .any, destination: .host(IPv4Address(172, 22, 1, 110)),
                                           destinationPort: .eq(25)))
        #expect(model.routes.first?.target == ["172.22.1.1"])
    }

    @Test func inspectionAttachments() throws {
        let seed = try Repository.seed().configuration.inspectionAttachments
        #expect(seed.map { "\($0.interface.name) \($0.direction) \($0.rule.name)" } == ["Ethernet2/0 in OUT-IN", "Ethernet2/1 in IN-OUT"])
        let rich = try Fixtures.richModel().inspectionAttachments
        #expect(rich.map { "\($0.direction) \($0.rule.name)" } == ["in MAIL", "out OUT"])
        let shut = try ModelTests.model("ip inspect name R smtp\ninterface E0\n ip inspect R in\n shutdown\n")
        #expect(shut.inspectionAttachments.isEmpty)
    }

    @Test func nodesCarryLineAndColumn() throws {
        let model = try Repository.seed().configuration
        let file = Repository.seedFileName
        #expect(model.inspectionRules[1].location == SourceLocation(file: file, line: 51, column: 17))
        #expect(model.interface(named: "Ethernet2/0")?.accessGroupIn?.location == SourceLocation(file: file, line: 78, column: 18))
        #expect(model.accessList(101)?.entries[0].location == SourceLocation(file: file, line: 123, column: 1))
        #expect(model.inspect.tcpSynwaitTime.location == nil)
    }

    @Test func defaultsAreThoseTheSeedPrints() {
        let globals = InspectGlobals()
        #expect(!globals.auditTrail.value && globals.alert.value)
        #expect([globals.oneMinuteLow, globals.oneMinuteHigh, globals.maxIncompleteLow, globals.maxIncompleteHigh].map(\.value)
                == [400, 500, 400, 500])
        #expect([globals.tcpMaxIncompletePerHost, globals.tcpBlockTime, globals.tcpSynwaitTime, globals.tcpFinwaitTime,
                 globals.tcpIdleTime, globals.udpIdleTime, globals.dnsTimeout].map(\.value) == [50, 0, 30, 5, 3600, 30, 5])
    }

    @Test func perRuleSettingsOverrideTheGlobals() throws {
        let model = try ModelTests.model("""
            ip inspect alert-off
            ip inspect audit-trail
            ip inspect tcp idle-time 1800
            ip inspect udp idle-time 60
            ip inspect name R esmtp alert on max-data 5000 timeout 300
            ip inspect name R tcp audit-trail off
            ip inspect name R udp
            ip inspect name R icmp
            """)
        let rule = try #require(model.inspectionRule(named: "R"))
        let effective = rule.protocols.map(model.effective)
        #expect(effective.map(\.alert) == [true, false, false, false])
        #expect(effective.map(\.auditTrail) == [true, false, true, true])
        #expect(effective.map(\.timeout) == [300, 1800, 60, 10])
        #expect(effective.map(\.maxData) == [5000, nil, nil, nil])
    }

    @Test func globalsAreRead() throws {
        let model = try ModelTests.model("""
            ip inspect max-incomplete low 300
            ip inspect max-incomplete high 600
            ip inspect one-minute low 200
            ip inspect one-minute high 250
            ip inspect tcp synwait-time 10
            ip inspect tcp finwait-time 2
            ip inspect dns-timeout 7
            ip inspect tcp max-incomplete host 20 block-time 2
            """)
        let g = model.inspect
        #expect([g.maxIncompleteLow, g.maxIncompleteHigh, g.oneMinuteLow, g.oneMinuteHigh, g.tcpSynwaitTime,
                 g.tcpFinwaitTime, g.dnsTimeout, g.tcpMaxIncompletePerHost, g.tcpBlockTime].map(\.value)
                == [300, 600, 200, 250, 10, 2, 7, 20, 2])
        #expect(g.tcpBlockTime.location?.line == 8)
    }

    @Test func accessListForms() throws {
        let model = try ModelTests.model("""
            access-list 1 permit 10.1.1.1
            access-list 1 deny 10.1.0.0 0.0.255.255 log
            access-list 1300 permit any
            access-list 2000 deny tcp 10.0.0.0 0.255.255.255 gt 1023 host 1.2.3.4 range ftp-data ftp established log-input
            access-list 2000 permit udp any neq domain any lt 1024
            access-list 2000 permit icmp any any packet-too-big
            access-list 2000 permit icmp any any 3 1
            access-list 2000 permit gre any any
            access-list 2000 permit 50 any any
            """)
        #expect(model.accessList(1)?.kind == .standard)
        #expect(model.accessList(1)?.entries.map(\.match.source)
                == [.host(IPv4Address(10, 1, 1, 1)), .wildcard(IPv4Address(10, 1, 0, 0), IPv4Address(0, 0, 255, 255))])
        #expect(model.accessList(1)?.entries.map(\.log) == [false, true])
        #expect(model.accessList(1300)?.entries[0].match.source == .any)
        let extended = try #require(model.accessList(2000)).entries.map(\.match)
        #expect(extended[0].sourcePort == .gt(1023) && extended[0].destinationPort == .range(20, 21))
        #expect(extended[0].established)
        #expect(extended[1].sourcePort == .neq(53) && extended[1].destinationPort == .lt(1024))
        #expect(extended[2].icmp == ICMPMatch(type: 3, code: 4))
        #expect(extended[3].icmp == ICMPMatch(type: 3, code: 1))
        #expect(extended.suffix(2).map(\.protocolNumber) == [47, 50])
    }

    /// IOS reads a pasted line in the current mode when it can: indentation is only a hint.
    @Test func modesFollowIOSNotIndentation() throws {
        let model = try ModelTests.model("""
            interface Ethernet0
            ip address 10.0.0.1 255.255.255.0
            !
            ip access-group 101 in
              ip inspect name X smtp
             ip route 0.0.0.0 0.0.0.0 10.0.0.254
            access-list 101 permit ip any any
            """)
        let interface = try #require(model.interface(named: "Ethernet0"))
        #expect(interface.address?.address == IPv4Address(10, 0, 0, 1))
        #expect(interface.accessGroupIn?.value == "101")
        #expect(model.inspectionRule(named: "X") != nil)
        #expect(model.routes.count == 1)
    }

    @Test func reenteringAnInterfaceAddsToIt() throws {
        let model = try ModelTests.model("""
            interface Ethernet 0
             ip nat inside
            interface ethernet0
             shutdown
            """)
        #expect(model.interfaces.count == 1)
        #expect(model.interfaces[0].name == "Ethernet0")
        #expect(model.interfaces[0].nat?.value == .inside && model.interfaces[0].shutdown.value)
    }

    @Test func timestampForms() throws {
        let model = try ModelTests.model("service timestamps\nservice timestamps log datetime localtime show-timezone year\n")
        #expect(model.timestamps.debug.value == .uptime)
        #expect(model.timestamps.log.value == .datetime(msec: false, localtime: true, showTimezone: true, year: true))
        #expect(try ModelTests.model("no service timestamps log\n").timestamps.log.value == TimestampFormat.none)
    }

    @Test func addresses() {
        #expect(IPv4Address(parsing: "172.22.1.110")?.description == "172.22.1.110")
        for bad in ["1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "-1.2.3.4", "01.2.3.4", "a.b.c.d", ""] {
            #expect(IPv4Address(parsing: bad) == nil, "\(bad)")
        }
        #expect(IPv4Address(255, 255, 255, 0).netmaskPrefixLength == 24)
        #expect(IPv4Address(0, 0, 0, 0).netmaskPrefixLength == 0)
        #expect(IPv4Address.broadcast.netmaskPrefixLength == 32)
        #expect(IPv4Address(255, 0, 255, 0).netmaskPrefixLength == nil)
        #expect(IPv4Address.netmask(prefixLength: 20) == IPv4Address(255, 255, 240, 0))
        #expect(AddressMatch.wildcard(IPv4Address(10, 0, 0, 0), IPv4Address(0, 0, 0, 255)).matches(IPv4Address(10, 0, 0, 9)))
        #expect(!AddressMatch.wildcard(IPv4Address(10, 0, 0, 0), IPv4Address(0, 0, 0, 255)).matches(IPv4Address(10, 0, 1, 9)))
    }
}
