import PacketWire

// Seeds and reproducers of the targets whose inputs are files: configurations and captures.

extension SeedCorpus {
    // MARK: - config

    static func configSeeds() -> [(String, String)] {
        [
            ("minimal", """
                ip inspect name OUT-IN smtp
                interface Ethernet0
                 ip address 192.0.2.1 255.255.255.0
                 ip inspect OUT-IN in
                end

                """),
            ("esmtp-acl-nat", """
                hostname edge-1
                service timestamps log datetime msec localtime
                ip inspect audit-trail
                ip inspect max-incomplete high 600
                ip inspect tcp max-incomplete host 40 block-time 2
                ip inspect name MAIL esmtp alert on audit-trail off max-data 1000000 timeout 600
                ip inspect name OUT tcp
                ip inspect name OUT ftp alert off
                interface FastEthernet0/0
                 description outside, to the ISP
                 ip address 192.0.2.1 255.255.255.0
                 ip address 198.51.100.1 255.255.255.0 secondary
                 ip access-group 110 in
                 ip access-group 2 out
                 ip nat outside
                 ip inspect MAIL in
                 ip inspect OUT out
                interface FastEthernet0/1
                 ip address 10.0.0.1 255.255.255.0
                 ip nat inside
                interface Serial0
                 shutdown
                ip nat inside source static 10.0.0.25 192.0.2.25
                ip nat inside source static 10.0.0.26 203.0.113.26 no-alias
                access-list 2 permit 192.0.2.0 0.0.0.255
                access-list 2 deny any log
                access-list 110 permit tcp any host 192.0.2.25 eq smtp
                access-list 110 permit tcp any eq www host 203.0.113.26 gt 1023 established
                access-list 110 permit udp any range 1000 2000 any neq 53
                access-list 110 permit icmp any any 3 13
                access-list 110 deny ip 198.51.100.0 0.0.0.255 any log
                access-list 110 permit 47 any any
                end

                """),
            ("pasted-with-noise", """
                router#show running-config
                Building configuration...

                Current configuration : 1432 bytes
                !
                version 12.3
                banner motd ^C
                Authorised access only ^C
                ip inspect name IN\u{2212}OUT tcp
                ip inspect name OUT\u{2212}IN esmtp max-data 20000000
                controller T1 3/0
                 framing sf
                interface Ethernet2/0
                 ip address 172.22.1.16 255.255.255.0
                 ip access\u{2212}group 101 in
                 ip nat outside
                 ip inspect OUT\u{2212}IN in
                interface Ethernet2/1
                 ip address 10.10.10.1 255.255.255.0
                 ip nat inside
                 ip inspect IN\u{2212}OUT in
                ip nat inside source static 10.10.10.2 172.22.1.110
                access\u{2212}list 101 permit tcp any host 172.22.1.110 eq smtp
                line vty 0 4
                 login
                end

                """),
        ]
    }

    /// Known-issue reproducers for the config target (Tests/fuzz/regressions/config).
    public static func configReproducers() -> [(name: String, text: String)] {
        [
            ("escape-in-inspection-name", """
                ip inspect name OUT\u{1B}[2JIN smtp
                interface Ethernet0
                 ip access-group 101 in
                 ip inspect OUT\u{1B}[2JIN in
                access-list 101 permit tcp any any eq smtp
                end

                """),
            ("nul-in-inspection-name", """
                ip inspect name OUT\u{0}IN smtp
                interface Ethernet0
                 ip inspect OUT\u{0}IN in
                end

                """),
        ]
    }

    // MARK: - pcap

    /// A short SMTP exchange as IP packets (both directions, with a masked command).
    /// With `starttls`, the client asks for TLS and both sides then start it (the bypass
    /// engine of PcapFuzz lets the session leave the queue).
    static func packets(ipv6: Bool, starttls: Bool = false) -> [[UInt8]] {
        let client = ipv6 ? Endpoint(.v6(IPv6Address([0x2001, 0xdb8, 0x22, 1, 0, 0, 0, 0x50])), 40001)
                          : Endpoint(.v4(IPv4Address(172, 22, 1, 50)), 40001)
        let server = ipv6 ? Endpoint(.v6(IPv6Address([0x2001, 0xdb8, 0x10, 0x10, 0, 0, 0, 2])), 25)
                          : Endpoint(.v4(IPv4Address(10, 10, 10, 2)), 25)
        var cseq = SequenceNumber(1000), sseq = SequenceNumber(5000)
        var out: [[UInt8]] = []
        func send(_ fromClient: Bool, _ flags: TCPFlags, _ text: String) { send(fromClient, flags, bytes: Array(text.utf8)) }
        func send(_ fromClient: Bool, _ flags: TCPFlags, bytes payload: [UInt8]) {
            let b = TCPPacketBuilder(from: fromClient ? client : server, to: fromClient ? server : client,
                                     sequenceNumber: fromClient ? cseq : sseq, acknowledgmentNumber: fromClient ? sseq : cseq,
                                     flags: flags, payload: payload)
            out.append(b.build())
            let n = payload.count + (flags.contains(.syn) || flags.contains(.fin) ? 1 : 0)
            if fromClient { cseq = cseq + n } else { sseq = sseq + n }
        }
        send(true, .syn, "")
        send(false, [.syn, .ack], "")
        send(true, .ack, "")
        send(false, [.ack, .psh], "220 mx ESMTP\r\n")
        send(true, [.ack, .psh], "EHLO c\r\n")
        send(false, [.ack, .psh], starttls ? "250-mx\r\n250-STARTTLS\r\n250 PIPELINING\r\n" : "250-mx\r\n250 PIPELINING\r\n")
        if starttls {
            send(true, [.ack, .psh], "STARTTLS\r\n")
            send(false, [.ack, .psh], "220 go ahead\r\n")
            send(true, [.ack, .psh], bytes: tlsRecord(handshake: 1))
            send(false, [.ack, .psh], bytes: tlsRecord(handshake: 2))
        }
        send(true, [.ack, .psh], "EXPN root\r\nQUIT\r\n")
        send(false, [.ack, .psh], "502 no\r\n221 bye\r\n")
        send(true, [.ack, .fin], "")
        return out
    }

    /// A classic pcap file: `magic` a1b2c3d4 (µs) or a1b23c4d (ns), little-endian.
    static func pcap(_ frames: [[UInt8]], linkType: UInt32, nanoseconds: Bool) -> [UInt8] {
        var w = FuzzWriter()
        w.u32(nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        w.u16(2); w.u16(4); w.u32(0); w.u32(0); w.u32(65535); w.u32(linkType)
        for (k, frame) in frames.enumerated() {
            w.u32(1_700_000_000 + UInt32(k)); w.u32(UInt32(k * 1000))
            w.u32(UInt32(frame.count)); w.u32(UInt32(frame.count))
            w.append(frame)
        }
        return w.bytes
    }

    /// A pcapng file: section header, one interface (µs unless `resolution` says otherwise),
    /// enhanced packet blocks with the given 64-bit timestamps.
    public static func pcapng(_ frames: [[UInt8]], linkType: UInt16, timestamps: [UInt64], resolution: UInt8? = nil) -> [UInt8] {
        var w = FuzzWriter()
        func block(_ type: UInt32, _ body: [UInt8]) {
            var padded = body
            while padded.count % 4 != 0 { padded.append(0) }
            w.u32(type); w.u32(UInt32(12 + padded.count)); w.append(padded); w.u32(UInt32(12 + padded.count))
        }
        var shb = FuzzWriter()
        shb.u32(0x1A2B_3C4D); shb.u16(1); shb.u16(0); shb.u32(0xFFFF_FFFF); shb.u32(0xFFFF_FFFF)
        block(0x0A0D_0D0A, shb.bytes)
        var idb = FuzzWriter()
        idb.u16(linkType); idb.u16(0); idb.u32(65535)
        if let resolution {
            idb.u16(9); idb.u16(1); idb.byte(resolution); idb.append([0, 0, 0])  // if_tsresol
            idb.u16(0); idb.u16(0)  // opt_endofopt
        }
        block(1, idb.bytes)
        for (frame, time) in zip(frames, timestamps) {
            var epb = FuzzWriter()
            epb.u32(0); epb.u32(UInt32(truncatingIfNeeded: time >> 32)); epb.u32(UInt32(truncatingIfNeeded: time))
            epb.u32(UInt32(frame.count)); epb.u32(UInt32(frame.count)); epb.append(frame)
            block(6, epb.bytes)
        }
        return w.bytes
    }

    static func pcapSeeds() -> [(String, [UInt8])] {
        let v4 = packets(ipv6: false), v6 = packets(ipv6: true)
        let ethernet = v4.map { [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00] + $0 }
        let cooked = v6.map { [0, 0, 0x00, 0x01, 0x00, 0x06, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xDD] + $0 }
        let times = (0..<v4.count).map { UInt64(1_700_000_000_000_000 + $0 * 1000) }
        return [
            ("raw-v4-usec.pcap", pcap(v4, linkType: 101, nanoseconds: false)),
            ("raw-v6-nsec.pcap", pcap(v6, linkType: 101, nanoseconds: true)),
            ("ethernet-vlan.pcap", pcap(ethernet, linkType: 1, nanoseconds: false)),
            ("linux-cooked-v6.pcap", pcap(cooked, linkType: 113, nanoseconds: false)),
            ("raw-v4.pcapng", pcapng(v4, linkType: 101, timestamps: times)),
            ("raw-v6-nsec.pcapng", pcapng(v6, linkType: 101, timestamps: times.map { $0 * 1000 }, resolution: 9)),
            ("starttls-v4.pcap", pcap(packets(ipv6: false, starttls: true), linkType: 101, nanoseconds: false)),
        ]
    }

    /// Known-issue reproducers for the pcap target (Tests/fuzz/regressions/pcap).
    public static func pcapReproducers() -> [(name: String, bytes: [UInt8])] {
        let v4 = packets(ipv6: false)
        return [
            ("timestamp-high-word.pcapng", pcapng(Array(v4.prefix(2)), linkType: 101,
                                                  timestamps: [0xFFFF_FFFF_0000_0000, 0xFFFF_FFFF_0000_0001])),
        ]
    }
}
