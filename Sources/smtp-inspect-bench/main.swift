// smtp-inspect-bench: release-mode benchmarks of the pure layers. scripts/bench.sh runs it (with
// bench/malloc-count.so preloaded, so allocations are counted exactly) and writes BENCHMARKS.md.
//
//   smtp-inspect-bench core       the inspection core alone (issue 2)
//   smtp-inspect-bench synflood   a SYN's cost in aggressive mode, by the size of the table
#if canImport(Glibc)
import Glibc
#endif
import SMTPInspection

/// `smtp_bench_malloc_count` from bench/malloc-count.so when it is preloaded.
func mallocCounter() -> (() -> UInt64)? {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "smtp_bench_malloc_count") else { return nil }
    typealias Count = @convention(c) () -> UInt64
    let count = unsafeBitCast(symbol, to: Count.self)
    return { count() }
}

func format(_ value: Double, _ decimals: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}

func core(only: String?) {
    let counter = mallocCounter()
    let opening = CoreBenchmark.opening()
    if only == "plain" {
        let r = CoreBenchmark.run("plain envelopes", opening: opening, chunks: CoreBenchmark.typicalEnvelopes(groups: 300),
                                  rounds: 20, mallocCount: counter)
        print(r.name, format(r.megabytesPerSecond, 0), "MB/s")
        return
    }
    if only == "commands" {
        let r = CoreBenchmark.run("command-heavy", opening: opening, chunks: CoreBenchmark.commandHeavy(groups: 200),
                                  rounds: 50, mallocCount: counter)
        print(r.name, format(r.megabytesPerSecond, 0), "MB/s")
        return
    }
    let data = CoreBenchmark.run("DATA-heavy (1 MB messages)", opening: opening,
                                 chunks: CoreBenchmark.dataHeavy(messages: 20, size: 1_000_000),
                                 rounds: 20, mallocCount: counter)
    let commands = CoreBenchmark.run("command-heavy, every RCPT with NOTIFY and ORCPT (pipelined, 50 per group)",
                                     opening: opening, chunks: CoreBenchmark.commandHeavy(groups: 200),
                                     rounds: 20, mallocCount: counter)
    let typical = CoreBenchmark.run("command-heavy, plain envelopes (MAIL SIZE=, 48 RCPT, pipelined)",
                                    opening: opening, chunks: CoreBenchmark.typicalEnvelopes(groups: 300),
                                    rounds: 20, mallocCount: counter)
    print("| load | client bytes | seconds | MB/s | chunks | commands/s | allocations per chunk |")
    print("|---|---|---|---|---|---|---|")
    for r in [data, commands, typical] {
        let perChunk = r.allocations.map { format(Double($0) / Double(r.chunks), 3) } ?? "not measured"
        let commandRate = r.commands > 0 ? format(Double(r.commands) / r.seconds / 1e6, 2) + " M" : "-"
        print("| \(r.name) | \(r.bytes) | \(format(r.seconds, 3)) | \(format(r.megabytesPerSecond, 0)) | \(r.chunks) | \(commandRate) | \(perChunk) |")
    }
    print("")
    print("State per idle session: `MemoryLayout<SMTPSession>.size` = \(MemoryLayout<SMTPSession>.size) bytes "
        + "(stride \(MemoryLayout<SMTPSession>.stride)); the compiled policy is shared.")
}

func synflood() {
    print("| sessions in the table | SYNs | µs per SYN (each deletes the oldest half-open session) |")
    print("|---|---|---|")
    for sessions in [1_000, 10_000, 90_000] {
        let r = SynFloodBenchmark.run(sessions: sessions, syns: 20_000)
        print("| \(r.sessions) | \(r.syns) | \(format(r.microsecondsPerSYN, 2)) |")
    }
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "core": core(only: arguments.dropFirst().first)
case "synflood": synflood()
default:
    print("usage: smtp-inspect-bench core [plain|commands] | synflood")
    exit(2)
}
