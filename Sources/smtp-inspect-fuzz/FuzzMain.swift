// The fuzz targets' driver (scripts/fuzz.sh, README "Fuzzing"). Built by scripts/fuzz.sh with
// -DFUZZING and the fuzzer and address sanitizers it is libFuzzer: `smtp-inspect-fuzz TARGET
// [libFuzzer flags] [CORPUS...]`. Built normally (`swift build`) it replays inputs, so a
// reproducer can be run and read without the sanitizer build.
import Foundation
import FuzzHarness

enum Target: String, CaseIterable {
    case smtp, flow, config, pcap
}

let usage = """
    usage: smtp-inspect-fuzz TARGET FILE|DIR...       run inputs; print what fails (exit 1 if any)
           smtp-inspect-fuzz TARGET --describe FILE   print an input decoded (smtp, flow)
           smtp-inspect-fuzz config --rules FILE      print the rules of a configuration check accepts
                                                      (exit 3 when it refuses it)
           smtp-inspect-fuzz seeds DIR                write the generated seeds and known-issue reproducers
                                                      to DIR/corpus/TARGET/ and DIR/regressions/TARGET/
    built by scripts/fuzz.sh (libFuzzer):
           smtp-inspect-fuzz TARGET [-flag=value...] [CORPUS_DIR...]
    TARGET: \(Target.allCases.map(\.rawValue).joined(separator: ", "))
    SMTP_INSPECT_FUZZ_STRICT=1 turns off the known-issue guards (Sources/FuzzHarness/KnownIssues.swift).
    """

/// The guards in force: the known-issue guards unless SMTP_INSPECT_FUZZ_STRICT=1.
let guards: KnownIssueGuards =
    ProcessInfo.processInfo.environment["SMTP_INSPECT_FUZZ_STRICT"] == "1" ? .strict : .known

/// A scratch file for the pcap target (libpcap reads files), one per process.
let scratch = NSTemporaryDirectory() + "smtp-inspect-fuzz-\(getpid())"

func check(_ target: Target, _ data: [UInt8]) -> FuzzFindings {
    switch target {
    case .smtp: return SMTPSessionFuzz.run(data, guards: guards)
    case .flow: return FlowEngineFuzz.run(data, guards: guards)
    case .config: return ConfigFuzz.run(data, guards: guards)
    case .pcap:
        let input = scratch + ".in"
        guard FileManager.default.createFile(atPath: input, contents: Data(data)) else {
            fail("smtp-inspect-fuzz: cannot write the scratch file \(input)")
        }
        defer { try? FileManager.default.removeItem(atPath: input + ".out") }
        return PcapFuzz.run(path: input, writingTo: input + ".out", guards: guards)
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

func read(_ path: String) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { fail("smtp-inspect-fuzz: cannot read \(path)") }
    return [UInt8](data)
}

/// Files named on the command line, directories expanded (sorted, hidden files skipped).
func inputs(_ paths: [String]) -> [String] {
    paths.flatMap { path -> [String] in
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            fail("smtp-inspect-fuzz: no such file or directory: \(path)")
        }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { path + "/" + $0 }
    }
}

func replay(_ target: Target, _ paths: [String]) -> Int32 {
    let files = inputs(paths)
    var failed = 0
    for file in files {
        let findings = check(target, read(file))
        if !findings.isEmpty {
            failed += 1
            print("FAIL \(file)\n" + findings.messages.map { "  " + $0 }.joined(separator: "\n"))
        }
    }
    print("smtp-inspect-fuzz \(target.rawValue): \(files.count) inputs, \(failed) failed (\(guards))")
    return failed == 0 ? 0 : 1
}

/// DIR/corpus/TARGET/seed-NAME and DIR/regressions/TARGET/NAME.
func writeSeeds(to directory: String) {
    for (kind, prefix, seeds) in [("corpus", "seed-", SeedCorpus.all()), ("regressions", "", SeedCorpus.reproducers())] {
        for seed in seeds {
            let dir = directory + "/" + kind + "/" + seed.target
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = dir + "/" + prefix + seed.name
            guard FileManager.default.createFile(atPath: path, contents: Data(seed.bytes)) else {
                fail("smtp-inspect-fuzz: cannot write \(path)")
            }
        }
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

nonisolated(unsafe) var fuzzTarget = Target.smtp
let targetVariable = "SMTP_INSPECT_FUZZ_TARGET"

/// libFuzzer's callback: a finding aborts, so libFuzzer saves the input as a crash.
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : [UInt8](UnsafeBufferPointer(start: data, count: size))
    let findings = check(fuzzTarget, bytes)
    if !findings.isEmpty {
        FileHandle.standardError.write(Data("smtp-inspect-fuzz \(fuzzTarget.rawValue): FINDING\n\(findings)\n".utf8))
        abort()
    }
    return 0
}
#endif

@main
struct FuzzMain {
    static func main() {
        let args = CommandLine.arguments
        if args.count == 3 && args[1] == "seeds" {
            writeSeeds(to: args[2])
            return
        }
        #if FUZZING
        // A run libFuzzer started itself (-merge, -fork, -jobs): flags only, target in the environment.
        if let name = ProcessInfo.processInfo.environment[targetVariable], let target = Target(rawValue: name),
           args.count < 2 || Target(rawValue: args[1]) == nil {
            fuzzTarget = target
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(LLVMFuzzerRunDriver(&argc, &argv, { data, size in fuzzOne(data, size) }))
        }
        #endif
        guard args.count >= 2, let target = Target(rawValue: args[1]) else { fail(usage) }
        if args.count == 4 && args[2] == "--describe" {
            let data = read(args[3])
            switch target {
            case .smtp: print(SMTPSessionFuzz.describe(SMTPSessionFuzz.decode(data)))
            case .flow: print(FlowEngineFuzz.describe(data))
            case .config, .pcap: fail("smtp-inspect-fuzz: --describe reads smtp and flow inputs; \(target) inputs are files as they are")
            }
            return
        }
        if target == .config && args.count == 4 && args[2] == "--rules" {
            guard let rules = ConfigFuzz.accepted(read(args[3])) else { exit(3) }
            print(ConfigFuzz.text(rules), terminator: "")
            return
        }
        #if FUZZING
        fuzzTarget = target
        FileHandle.standardError.write(Data("smtp-inspect-fuzz \(target.rawValue): \(guards)\n".utf8))
        // libFuzzer reads its own flags and corpus directories: hand it argv without TARGET.
        // It runs itself again for -merge, -fork and -jobs with those flags only; the target
        // reaches those runs through the environment.
        setenv(targetVariable, target.rawValue, 1)
        var argc = CommandLine.argc - 1
        let argv = CommandLine.unsafeArgv
        argv[1] = argv[0]
        var shifted = argv + 1
        exit(LLVMFuzzerRunDriver(&argc, &shifted, { data, size in fuzzOne(data, size) }))
        #else
        guard args.count >= 3 else { fail(usage) }
        exit(replay(target, Array(args.dropFirst(2))))
        #endif
    }
}
