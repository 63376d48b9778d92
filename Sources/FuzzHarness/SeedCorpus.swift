import PacketWire

/// The generated seed inputs of each target (`smtp-inspect-fuzz seeds DIR` writes them; the
/// committed corpora under Tests/fuzz/corpus start from them). Seeds are realistic: a fuzzer
/// mutates a Postfix session far more usefully than random bytes.
public enum SeedCorpus {
    public struct Seed: Sendable {
        public var target: String
        public var name: String
        public var bytes: [UInt8]
    }

    public static func all() -> [Seed] {
        smtpSeeds().map { Seed(target: "smtp", name: $0.0, bytes: SMTPSessionFuzz.encode($0.1)) }
            + flowSeeds().map { Seed(target: "flow", name: $0.0, bytes: $0.1) }
            + configSeeds().map { Seed(target: "config", name: $0.0, bytes: Array($0.1.utf8)) }
            + pcapSeeds().map { Seed(target: "pcap", name: $0.0, bytes: $0.1) }
    }

    /// The known issues' reproducers, written by hand (fuzzing finds more; those are kept as found).
    public static func reproducers() -> [Seed] {
        smtpReproducers().map { Seed(target: "smtp", name: $0.name, bytes: SMTPSessionFuzz.encode($0.script)) }
            + flowReproducers().map { Seed(target: "flow", name: $0.name, bytes: $0.bytes) }
            + configReproducers().map { Seed(target: "config", name: $0.name, bytes: Array($0.text.utf8)) }
            + pcapReproducers().map { Seed(target: "pcap", name: $0.name, bytes: $0.bytes) }
    }

    // MARK: - smtp

    typealias Step = SMTPSessionFuzz.Step
    static func c(_ text: String) -> Step { .client(Array(text.utf8)) }
    static func s(_ text: String) -> Step { .server(Array(text.utf8)) }

    static let banner = s("220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n")
    static let ehloReply = s("""
        250-mail.example.test\r
        250-PIPELINING\r
        250-SIZE 10240000\r
        250-VRFY\r
        250-ETRN\r
        250-STARTTLS\r
        250-AUTH PLAIN LOGIN\r
        250-ENHANCEDSTATUSCODES\r
        250-8BITMIME\r
        250-DSN\r
        250-SMTPUTF8\r
        250 CHUNKING\r

        """)
    static let opening: [Step] = [banner, c("EHLO client.example.org\r\n"), ehloReply]
    static let ok = s("250 2.0.0 Ok\r\n")

    static func smtpSeeds() -> [(String, SMTPSessionFuzz.Script)] {
        let mail: [Step] = opening + [
            c("MAIL FROM:<alice@example.org> SIZE=100 BODY=8BITMIME\r\n"), ok,
            c("RCPT TO:<bob@example.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob@example.test\r\n"), ok,
            c("DATA\r\n"), s("354 End data with <CR><LF>.<CR><LF>\r\n"),
            c("Subject: test\r\n\r\nHello.\r\n..dot\r\nEXPN root\r\n.\r\n"), s("250 2.0.0 Ok: queued as 4XyZ1\r\n"),
            c("QUIT\r\n"), s("221 2.0.0 Bye\r\n"),
        ]
        let pipelined: [Step] = opening + [
            c("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nRCPT TO:<e@f.example>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"),
            s("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"), s("354 go ahead\r\n"),
            s("250 2.0.0 queued\r\n221 2.0.0 Bye\r\n"),
        ]
        let illegal: [Step] = opening + [
            c("EXPN staff\r\nVRFY bob\r\nTURN\r\nBDAT 5 LAST\r\nXEXCH50 1 2\r\nNOOP\rEXPN\r\n\u{1}NOOP\r\nHELP\r\n"),
            s("502 5.5.2 no\r\n252 2.0.0 bob\r\n502 no\r\n502 no\r\n502 no\r\n500 no\r\n500 no\r\n214 2.0.0 help\r\n"),
            c("MAIL FROM:<a@b> SIZE=99999999999 BODY=BINARYMIME AUTH=<> RET=HDRS ENVID=x+2By\r\n"), s("250 Ok\r\n"),
            c("RCPT TO:<\"a b\"@c> NOTIFY=NEVER,DELAY ORCPT=rfc822;x+2By\r\n"), s("250 Ok\r\n"),
            c("ETRN @example.org\r\n"), s("250 Queuing started\r\n"),
            c("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), s("500 no\r\n500 no\r\n500 no\r\n"),
        ]
        let auth: [Step] = opening + [
            c("AUTH LOGIN\r\n"), s("334 VXNlcm5hbWU6\r\n"), c("YWxpY2U=\r\n"), s("334 UGFzc3dvcmQ6\r\n"),
            c("c2VjcmV0\r\n"), s("235 2.7.0 Authentication successful\r\n"),
            c("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), s("503 5.5.1 already authenticated\r\n"),
            c("AUTH LOGIN\r\nEXPN root\r\n"), s("334 VXNlcm5hbWU6\r\n"), c("*\r\n"), s("501 cancelled\r\n"),
        ]
        let starttls: [Step] = opening + [
            c("STARTTLS\r\nEXPN root\r\n"), s("220 2.0.0 Ready to start TLS\r\n"),
            .client([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]),
            .server([0x16, 0x03, 0x03, 0x00, 0x02, 0x02, 0x00]),
        ]
        let smuggling: [Step] = opening + [
            c("MAIL FROM:<a@b>\r\n"), ok, c("RCPT TO:<c@d>\r\n"), ok, c("DATA\r\n"), s("354 go\r\n"),
            c("Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@x>\r\n.\r\n"), s("250 queued\r\n"),
        ]
        let helo: [Step] = [
            c("HELO early\r\n"), banner, s("250 mail.example.test\r\n"),
            c("HELO client.example.org\r\n"), s("250 mail.example.test\r\n"),
            c("MAIL FROM:<a@b> SIZE=10\r\n"), s("555 no params\r\n"),
            c("SEND FROM:<a@b>\r\nSOML FROM:<a@b>\r\nSAML FROM:<a@b>\r\n"), s("502 no\r\n502 no\r\n502 no\r\n"),
            c("QUIT\r\n"), s("221 Bye\r\n"), s("421 closing\r\n"),
        ]
        let replies: [Step] = [
            s("220-mail.example.test first\r\n220-second\r\n230 mismatch\r\n"),
            c("EHLO x\r\n"), s("250-x\r\n250-SIZE\r\n250-XFORWARD NAME ADDR\r\n250-X-LINK2STATE\r\n250 AUTH=LOGIN\r\n"),
            c("NOOP\r\n"), s("2x0 bad code\r\n"), c("NOOP\r\n"), s("250bad separator\r\n"),
            c("RSET\r\n"), s("354 unexpected\r\n"), s("250 unsolicited\r\n"),
        ]
        let long = String(repeating: "A", count: 600)
        let limits: [Step] = opening + [
            c("NOOP \(long)\r\n"), s("500 too long\r\n"), s("250 \(long)\r\n"),
            c("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n"), s("250 ok\r\n250 ok\r\n354 go\r\n"),
            c(String(repeating: "0123456789abcdef", count: 8) + "\r\n.\r\n"), s("250 queued\r\n"),
        ]
        let reload: [Step] = opening + [
            c("MAIL FROM:<a@b>\r\n"), .adopt(0), ok, c("EXPN x\r\nVRFY y\r\n"), s("502 no\r\n252 y\r\n"),
            .adopt(1), c("EHLO again\r\n"), ehloReply, c("ETRN x\r\n"), s("250 ok\r\n"),
        ]
        let heldThenCommands: [Step] = opening + [
            c("MAIL FROM:<a@b>\r\n"), ok, c("DATA\r\n"), c("Subject: x\r\n"), c("EXPN root\r\n"),
            s("554 5.5.1 no valid recipients\r\n"), s("502 no\r\n502 no\r\n"),
        ]
        return [
            ("postfix-mail", .init(policy: 1, steps: mail)),
            ("postfix-mail-cuts", .init(policy: 1, steps: mail, cuts: [3, 1, 7, 64, 2])),
            ("pipelined", .init(policy: 1, steps: pipelined, cuts: [5, 11])),
            ("illegal-commands", .init(policy: 1, steps: illegal, cuts: [2, 9])),
            ("illegal-commands-smtp", .init(policy: 0, steps: illegal)),
            ("auth", .init(policy: 1, steps: auth, cuts: [4])),
            ("starttls-allowed", .init(policy: 5, steps: starttls)),
            ("starttls-refused", .init(policy: 1, steps: starttls, cuts: [3])),
            ("smuggling", .init(policy: 1, steps: smuggling)),
            ("helo-smtp-banner-masked", .init(policy: 2, steps: helo, cuts: [6])),
            ("malformed-replies", .init(policy: 1, steps: replies, cuts: [1, 2, 3])),
            ("limits-small", .init(policy: 9, steps: limits, cuts: [13])),
            ("limits-default", .init(policy: 1, steps: limits)),
            ("reload", .init(policy: 1, steps: reload, cuts: [8])),
            ("held-then-commands", .init(policy: 1, steps: heldThenCommands)),
        ]
    }

    /// Reproducers of the known issues (Tests/fuzz/regressions/smtp; KnownIssues.swift).
    public static func smtpReproducers() -> [(name: String, script: SMTPSessionFuzz.Script)] {
        [
            ("adopt-during-ehlo-reply", .init(policy: 1, steps: [
                s("220 mx\r\n"), c("EHLO a\r\n"), s("250-mx\r\n250-ENHANCEDSTATUS"), .adopt(0),
                c("NOOP\r\n"), s("CODES\r\n"),
            ], cuts: [255])),
            ("masked-ehlo-still-a-command", .init(policy: 1, steps: [
                s("220 mx\r\n"), c("EHLO c.exa\u{5}ple\r\n"),
                s("250-mx\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 CHUNKING\r\n"),
            ])),
            ("reply-releases-held-bytes", .init(policy: 0, steps: [
                s("220 mx\r\n"), c("HELO a\r\n"), s("250 mx\r\n"), c("MAIL FROM:<a@b>\r\n"), s("250 ok\r\n"),
                c("RCPT TO:<c@d>\r\n"), s("250 ok\r\n"), c("DATA\r\n"), c("Subject: x\r\n\r\nhi\r\n.\r\n"),
                s("354 go ahead\r\n250 queued\r\n"),
            ], cuts: [14, 255])),
        ]
    }

    // MARK: - flow

    /// Writes flow inputs (FlowEngineFuzz's format).
    struct FlowScript {
        var w = FuzzWriter()

        init(header: UInt8) { w.byte(header) }

        mutating func handshake(_ c: UInt8 = 0) { w.byte(7 | c << 3) }

        mutating func segment(_ c: UInt8 = 0, fromClient: Bool, _ text: String, flags: TCPFlags = [.ack, .psh],
                              control: UInt8 = 0, fields: [UInt8] = []) {
            let payload = Array(text.utf8)
            w.byte((fromClient ? 0 : 1) | c << 3)
            w.byte(UInt8(truncatingIfNeeded: flags.rawValue))
            w.byte(control | (payload.count > 255 ? 128 : 0))
            w.append(fields)
            if payload.count > 255 { w.u16(UInt16(payload.count)) } else { w.byte(UInt8(payload.count)) }
            w.append(payload)
        }

        mutating func client(_ text: String, _ c: UInt8 = 0) { segment(c, fromClient: true, text) }
        mutating func server(_ text: String, _ c: UInt8 = 0) { segment(c, fromClient: false, text) }
        mutating func tick(_ tenths: UInt8) { w.byte(2); w.byte(tenths) }
        mutating func retransmit(_ c: UInt8 = 0, fromClient: Bool, limit: UInt8 = 255) {
            w.byte(4 | c << 3 | (fromClient ? 0 : 0x40)); w.byte(limit)
        }
        mutating func reload(_ bits: UInt8) { w.byte(5 | bits << 4) }
        mutating func raw(_ bytes: [UInt8], checksumNotReady: Bool = false) {
            w.byte(3 | (checksumNotReady ? 0x80 : 0)); w.u16(UInt16(bytes.count)); w.append(bytes)
        }
    }

    static func flowSeeds() -> [(String, [UInt8])] {
        func session(header: UInt8, _ body: (inout FlowScript) -> Void) -> [UInt8] {
            var f = FlowScript(header: header)
            f.handshake()
            f.server("220 mail.example.test ESMTP\r\n")
            f.client("EHLO c.example\r\n")
            f.server("250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
            body(&f)
            return f.w.bytes
        }
        var seeds: [(String, [UInt8])] = []
        for (name, header) in [("v4", UInt8(0)), ("v6", UInt8(1))] {
            seeds.append(("mail-\(name)", session(header: header) { f in
                f.client("MAIL FROM:<a@b.example>\r\n"); f.server("250 2.1.0 Ok\r\n")
                f.client("EXPN staff\r\n"); f.server("502 5.5.2 Error\r\n")
                f.client("RCPT TO:<c@d.example>\r\n"); f.server("250 2.1.5 Ok\r\n")
                f.client("DATA\r\n"); f.server("354 go ahead\r\n")
                f.client("Subject: hi\r\n\r\nEXPN in the body stays.\r\n.\r\n"); f.server("250 2.0.0 Ok: queued\r\n")
                f.client("QUIT\r\n"); f.server("221 2.0.0 Bye\r\n")
                f.segment(fromClient: true, "", flags: [.fin, .ack])
                f.segment(fromClient: false, "", flags: [.fin, .ack])
            }))
        }
        seeds.append(("data-cut-and-held", session(header: 0) { f in
            f.client("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n")
            f.retransmit(fromClient: true)
            f.server("250 Ok\r\n250 Ok\r\n354 go ahead\r\n")
            f.retransmit(fromClient: true)
            f.server("250 queued\r\n")
        }))
        seeds.append(("out-of-order-and-retransmission", session(header: 0) { f in
            // A segment beyond a gap (sequence next + 6), then the gap, then an overlap.
            f.segment(fromClient: true, "RSET\r\n", control: 1, fields: [6])
            f.client("NOOP\r\n")
            f.segment(fromClient: true, "EXPN\r\n", control: 1, fields: [0xF4])
            f.server("250 ok\r\n250 ok\r\n")
            f.tick(15)
        }))
        seeds.append(("reset-and-urgent", session(header: 2) { f in
            f.segment(fromClient: true, "EXPN root\r\n", flags: [.ack, .psh, .urg], control: 16, fields: [1, 0])
            f.server("502 no\r\n")
            f.segment(fromClient: true, "", flags: [.rst, .ack], control: 1, fields: [100])
            f.client("VRFY x\r\n")
            f.segment(fromClient: true, "", flags: .rst)
            f.client("EXPN late\r\n")
            f.handshake()
        }))
        seeds.append(("checksums-options-reload", session(header: 4) { f in
            f.segment(fromClient: true, "NOOP\r\n", control: 64)
            f.segment(fromClient: true, "NOOP\r\n", control: 32)
            f.segment(fromClient: true, "MAIL FROM:<a@b>\r\n", control: 8, fields: [12, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2])
            f.reload(1)
            f.server("250 ok\r\n250 ok\r\n250 ok\r\n")
            f.tick(30)
            f.tick(255)
        }))
        seeds.append(("two-sessions-small-bounds", { () -> [UInt8] in
            var f = FlowScript(header: 4 | 8 | 16)
            f.handshake(0)
            f.handshake(1)
            f.server("220 a\r\n", 0); f.server("220 b\r\n", 1)
            f.client("HELO a\r\nDATA\r\n", 0); f.client("EHLO b\r\n", 1)
            f.client("more bytes that wait\r\n", 0)
            f.client("and more\r\n", 0)
            f.server("250 a\r\n554 no\r\n", 0)
            f.tick(20)
            f.raw([0x45, 0, 0, 20, 0, 0, 0x20, 0, 64, 6, 0, 0, 172, 22, 1, 50, 10, 10, 10, 2])
            return f.w.bytes
        }()))
        return seeds
    }

    /// Known-issue reproducers for the flow target (Tests/fuzz/regressions/flow).
    public static func flowReproducers() -> [(name: String, bytes: [UInt8])] {
        // Issue 10, class 2, as the fuzzer found it (cleaned up): an RST the server ignores
        // (in the window, not at its next sequence number) closes the engine's session; a SYN
        // whose ISN lies 10 bytes before the stream's next byte starts a new session there; the
        // client's next segment carries 10 bytes the server already has (so it drops them) and
        // then `EXPN root`. The new session judges `NOOP xxxxxEXPN root` (an allowed NOOP);
        // the server reads `EXPN root` unjudged.
        var f = FlowScript(header: 2)  // IPv4, smtp
        f.handshake()
        f.server("220 mx\r\n")
        f.client("HELO a\r\n")
        f.server("250 mx\r\n")
        f.client("NOOP\r\n")
        f.server("250 ok\r\n")
        f.segment(fromClient: true, "", flags: [.rst], control: 1, fields: [100])
        f.segment(fromClient: true, "", flags: .syn, control: 3, fields: [4, 0])
        f.segment(fromClient: true, "NOOP xxxxxEXPN root\r\n", control: 3, fields: [5, 0])
        // The same through idle expiry: the engine forgets the session after its idle timeout
        // (30 s in the flow target) and leaves both ends open; a SYN 10 bytes back starts a new
        // session there.
        var g = FlowScript(header: 2)
        g.handshake()
        g.server("220 mx\r\n")
        g.client("HELO a\r\n")
        g.server("250 mx\r\n")
        g.client("NOOP\r\n")
        g.server("250 ok\r\n")
        g.tick(255)
        g.tick(255)
        g.segment(fromClient: true, "", flags: .syn, control: 3, fields: [4, 0])
        g.segment(fromClient: true, "NOOP xxxxxEXPN root\r\n", control: 3, fields: [5, 0])
        // A server that half-closes after its greeting (FIN), then "replies" at its FIN's
        // sequence number and on: its client's TCP never reads those bytes, so the server cannot
        // have written them. The engine takes the forged 354 and passes EXPN as message data
        // while the server, which never said 354, reads it as a command.
        var h = FlowScript(header: 2)
        h.handshake()
        h.segment(fromClient: false, "220 mx\r\n", flags: [.fin, .psh, .ack])
        h.client("HELO a\r\n")
        h.segment(fromClient: false, "250 mx\r\n", control: 3, fields: [9, 0])
        h.client("DATA\r\n")
        h.segment(fromClient: false, "354 go\r\n", control: 3, fields: [17, 0])
        h.client("EXPN root\r\n")
        return [("rst-then-syn-new-session", f.w.bytes), ("idle-expiry-then-syn-new-session", g.w.bytes),
                ("reply-after-server-fin", h.w.bytes)]
    }

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
    static func packets(ipv6: Bool) -> [[UInt8]] {
        let client = ipv6 ? Endpoint(.v6(IPv6Address([0x2001, 0xdb8, 0x22, 1, 0, 0, 0, 0x50])), 40001)
                          : Endpoint(.v4(IPv4Address(172, 22, 1, 50)), 40001)
        let server = ipv6 ? Endpoint(.v6(IPv6Address([0x2001, 0xdb8, 0x10, 0x10, 0, 0, 0, 2])), 25)
                          : Endpoint(.v4(IPv4Address(10, 10, 10, 2)), 25)
        var cseq = SequenceNumber(1000), sseq = SequenceNumber(5000)
        var out: [[UInt8]] = []
        func send(_ fromClient: Bool, _ flags: TCPFlags, _ text: String) {
            let payload = Array(text.utf8)
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
        send(false, [.ack, .psh], "250-mx\r\n250 PIPELINING\r\n")
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
