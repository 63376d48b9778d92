import Foundation
import NFQueue
import Testing

@testable import smtp_inspect

@Suite("Files: bounded configuration reads, identities, captures replaced whole")
struct LocalFileTests {
    @Test("A file up to the limit is read whole; one byte more is refused from its size, before reading")
    func boundedRead() throws {
        let dir = Scratch()
        defer { dir.remove() }
        dir.write("ok", Array(repeating: 0x61, count: 1000))
        dir.write("big", Array(repeating: 0x61, count: 1001))
        #expect(try LocalFile.read(dir.file("ok"), limit: 1000).count == 1000)
        #expect(throws: FileReadError.tooLarge(size: 1001)) { try LocalFile.read(dir.file("big"), limit: 1000) }
        #expect(throws: FileReadError.isDirectory) { try LocalFile.read(dir.path, limit: 1000) }
        #expect(throws: FileReadError.cannotOpen(.noSuchEntry)) { try LocalFile.read(dir.file("absent"), limit: 1000) }
    }

    @Test("The configuration limit: a file over 4 MiB is refused with its size and the limit")
    func configurationLimit() throws {
        let dir = Scratch()
        defer { dir.remove() }
        dir.write("router.cfg", Array(repeating: 0x21, count: ConfigLoading.maxConfigurationBytes + 1))
        guard case .failure(let failure) = ConfigLoading.readText(dir.file("router.cfg")) else {
            Issue.record("a 4 MiB + 1 configuration was read")
            return
        }
        #expect(failure.message == "cannot read the configuration: it is 4194305 bytes; a configuration may be at most 4194304 bytes (4 MiB)")
        #expect(failure.lines.first == "smtp-inspect: cannot read the configuration \(dir.file("router.cfg")): it is 4194305 bytes; "
            + "a configuration may be at most 4194304 bytes (4 MiB)")
        dir.write("ok.cfg", Array("hostname r1\n".utf8))
        #expect(try ConfigLoading.readText(dir.file("ok.cfg")).get() == "hostname r1\n")
    }

    @Test("Identity: a hard link and a symbolic link are the same file; a copy is not")
    func identity() throws {
        let dir = Scratch()
        defer { dir.remove() }
        dir.write("a", [1, 2, 3])
        dir.write("copy", [1, 2, 3])
        try FileManager.default.linkItem(atPath: dir.file("a"), toPath: dir.file("hard"))
        try FileManager.default.createSymbolicLink(atPath: dir.file("soft"), withDestinationPath: "a")
        let a = try #require(try FileStatus.at(dir.file("a")))
        #expect(try FileStatus.at(dir.file("hard"))?.identity == a.identity)
        #expect(try FileStatus.at(dir.file("soft"))?.identity == a.identity)
        #expect(try FileStatus.at(dir.file("soft"), followingSymlinks: false)?.kind == .symbolicLink)
        #expect(try FileStatus.at(dir.file("copy"))?.identity != a.identity)
        #expect(try FileStatus.at(dir.file("absent")) == nil)
    }

    static let packet: [UInt8] = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]

    @Test("PcapWriter(replacing:): the old file stays whole until close renames the new one over it")
    func replacing() throws {
        let dir = Scratch()
        defer { dir.remove() }
        dir.write("out.pcap", Array("old".utf8))
        let writer = try PcapWriter(replacing: dir.file("out.pcap"), precision: .nanoseconds)
        writer.write(Self.packet.span, timestamp: PacketTimestamp(seconds: 1, nanoseconds: 2))
        #expect(dir.contents("out.pcap") == Array("old".utf8))
        #expect(dir.names.count == 2)  // out.pcap and the temporary file beside it
        try writer.close()
        #expect(dir.names == ["out.pcap"])
        #expect(dir.contents("out.pcap")?.count == 24 + 16 + Self.packet.count)
    }

    @Test("PcapWriter(replacing:) given up (an error path): the old file stays, the temporary one goes")
    func abandoned() throws {
        let dir = Scratch()
        defer { dir.remove() }
        dir.write("out.pcap", Array("old".utf8))
        do {
            let writer = try PcapWriter(replacing: dir.file("out.pcap"))
            writer.write(Self.packet.span, timestamp: PacketTimestamp(seconds: 1, nanoseconds: 2))
        }
        #expect(dir.names == ["out.pcap"])
        #expect(dir.contents("out.pcap") == Array("old".utf8))
    }

    @Test("PcapWriter onto a device that is full: close reports ENOSPC (not exit 0)")
    func deviceFull() throws {
        let writer = try PcapWriter(replacing: "/dev/full")
        writer.write(Self.packet.span, timestamp: PacketTimestamp(seconds: 1, nanoseconds: 2))
        #expect(throws: PcapError("/dev/full: No space left on device (28)")) { try writer.close() }
    }
}
