// nfqueue-selftest: proves the NFQueue module in the lab (Tests/e2e/nfqueue-selftest.sh drives it).
//
//   nfqueue-selftest queue [--queue N] [--mode accept|marked] [--mark M] [--shorten-to N]
//                          [--hold-ms N] [--write FILE] [--gso] [--max-length N] [--rcvbuf BYTES]
//                          [--bogus-verdicts N]
//       binds queue N and handles packets until SIGTERM/SIGINT (accept: every packet accepted
//       unchanged; marked: see MarkedPolicy), then releases what it holds, unbinds, checks the
//       kernel lists no peer for the queue, and prints its counters. --bogus-verdicts sends N
//       verdicts for an id the kernel never issued at the first idle call (each is answered
//       with ENOENT in the receive stream: counted, logged once, not fatal).
//   nfqueue-selftest pcap-copy IN OUT    PcapReader → PcapWriter (LINKTYPE_RAW), with a summary
//   nfqueue-selftest pcap-read IN        PcapReader: a summary and one line per IP packet
//
// Exit status: 0 done, 1 failure (message on stderr), 2 usage.
import NFQueue

import func Glibc.exit      // the only libc call here: NFQueue owns every other one

func fail(_ message: String, status: Int32 = 1) -> Never {
    print("nfqueue-selftest: ERROR: \(message)")
    exit(status)
}

func pcapRead(_ path: String, list: Bool) -> PcapReader {
    let reader: PcapReader
    do { reader = try PcapReader(path: path) } catch { fail("\(error)") }
    do {
        try reader.forEach { record, bytes in
            if list {
                let version = bytes.count > 0 ? bytes[0] >> 4 : 0
                print("\(record.frameNumber) \(record.timestamp) ipv\(version) \(record.capturedLength) \(record.originalLength)")
            }
            return true
        }
    } catch {
        fail("\(error)")
    }
    return reader
}

let args = CommandLine.arguments.dropFirst()
switch args.first {
case "queue":
    runQueue(Options(args.dropFirst()))
case "pcap-read" where args.count == 2:
    let r = pcapRead(args[args.startIndex + 1], list: true)
    report("pcap-read link-type \(r.linkType) frames \(r.framesRead) packets \(r.packetsRead) skipped \(r.framesSkipped)")
case "pcap-copy" where args.count == 3:
    let input = args[args.startIndex + 1], output = args[args.startIndex + 2]
    let reader: PcapReader
    let writer: PcapWriter
    do {
        reader = try PcapReader(path: input)
        writer = try PcapWriter(path: output, precision: .nanoseconds)
        try reader.forEach { record, bytes in
            writer.write(bytes.span, timestamp: record.timestamp, originalLength: record.originalLength)
            return true
        }
        try writer.close()
    } catch {
        fail("\(error)")
    }
    report("pcap-copy link-type \(reader.linkType) frames \(reader.framesRead) packets \(reader.packetsRead) "
        + "skipped \(reader.framesSkipped) written \(writer.packetsWritten)")
default:
    fail("usage: nfqueue-selftest queue [options] | pcap-read IN | pcap-copy IN OUT", status: 2)
}
