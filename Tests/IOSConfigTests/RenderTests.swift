import IOSConfig
import Testing

/// Renderers: show output beyond the seed, and round trips through the running-config text.
@Suite struct RenderTests {
    static func reparsed(_ model: IOSConfiguration) throws -> IOSConfiguration {
        try IOSConfigParser.parse(RunningConfig.render(model), fileName: "rendered.cfg").get().configuration
    }

    @Test(arguments: ["seed", "rich"])
    func runningConfigRoundTrips(_ name: String) throws {
        let model = name == "seed" ? try Repository.seed().configuration : try Fixtures.richModel()
        let again = try RenderTests.reparsed(model)
        #expect(ModelDump.render(again, includeLocations: false) == ModelDump.render(model, includeLocations: false))
        #expect(RunningConfig.render(again) == RunningConfig.render(model))
        #expect(ShowIPInspect.all(again) == ShowIPInspect.all(model))
    }

    @Test func dumpWithoutLocationsHasNoLocations() throws {
        let dump = ModelDump.render(try Repository.seed().configuration, includeLocations: false)
        #expect(!dump.contains("@"))
        #expect(dump.contains("inspection rule OUT-IN\n  smtp: alert on (global) audit-trail off (global) max-data 20000000 (default) timeout 3600 (global)\n"))
    }

    @Test func richShowAll() throws {
        #expect(ShowIPInspect.all(try Fixtures.richModel()) == """
            Session audit trail is enabled
            Session alert is disabled
            one-minute (sampling period) thresholds are [100:200] connections
            max-incomplete sessions thresholds are [300:600]
            max-incomplete tcp connections per host is 40. Block-time 2 minute.
            tcp synwait-time is 15 sec -- tcp finwait-time is 3 sec
            tcp idle-time is 1800 sec -- udp idle-time is 45 sec
            dns-timeout is 4 sec
            Inspection Rule Configuration
             Inspection name MAIL
                esmtp max-data 1000000 alert is on audit-trail is off timeout 600
                tcp alert is off audit-trail is on timeout 100
             Inspection name OUT
                tcp alert is off audit-trail is on timeout 1800
                ftp alert is off audit-trail is on timeout 1800

            Interface Configuration
             Interface FastEthernet0/0
              Inbound inspection rule is MAIL
                esmtp max-data 1000000 alert is on audit-trail is off timeout 600
                tcp alert is off audit-trail is on timeout 100
              Outgoing inspection rule is OUT
                tcp alert is off audit-trail is on timeout 1800
                ftp alert is off audit-trail is on timeout 1800
              Inbound access list is 110
              Outgoing access list is 2

            """)
    }

    /// The interface whose inspection was applied last is listed first (what the seed shows).
    @Test(arguments: [
        ("interface A\n ip inspect R in\ninterface B\n ip inspect R out\n", ["B", "A"]),
        ("interface A\n ip access-group 1 in\ninterface B\n ip inspect R in\ninterface A\n ip inspect R out\n", ["A", "B"]),
        ("interface A\n ip access-group 1 in\ninterface B\n ip inspect R in\n", ["B"]),
    ])
    func interfaceOrder(_ interfaces: String, _ order: [String]) throws {
        let text = "ip inspect name R tcp\naccess-list 1 permit any\n" + interfaces
        let model = try IOSConfigParser.parse(text, fileName: "o.cfg").get().configuration
        #expect(ShowIPInspect.inspectedInterfaces(model).map(\.name) == order)
        let shown = ShowIPInspect.interfaces(model).split(separator: "\n").filter { $0.hasPrefix(" Interface ") }
        #expect(shown.map { String($0.dropFirst(" Interface ".count)) } == order)
    }

    @Test func canonicalText() throws {
        let model = try Fixtures.richModel()
        let list = try #require(model.accessList(110))
        #expect(list.entries.map { IOSText.accessListEntry($0, list: list) } == [
            "access-list 110 permit tcp any host 192.0.2.25 eq smtp",
            "access-list 110 permit tcp any eq www host 203.0.113.26 gt 1023 established",
            "access-list 110 permit udp any range 1000 2000 any neq domain",
            "access-list 110 permit icmp any any echo-reply",
            "access-list 110 permit icmp any any administratively-prohibited",
            "access-list 110 deny ip 198.51.100.0 0.0.0.255 any log",
            "access-list 110 permit gre any any",
        ])
        #expect(IOSText.inspection(model.inspectionRules[0].protocols[0], rule: "MAIL")
                == "ip inspect name MAIL esmtp alert on audit-trail off max-data 1000000 timeout 600")
    }
}
