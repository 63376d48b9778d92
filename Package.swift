// swift-tools-version: 6.2
//
// Layering (docs/design.md "Modules"): everything below NFQueue is pure Swift with strict memory safety and no
// system imports, so it runs unchanged in unit tests, in pcap replay and live.
import PackageDescription

let pure: [SwiftSetting] = [.strictMemorySafety()]

let package = Package(
    name: "smtp-inspect",
    products: [
        .executable(name: "smtp-inspect", targets: ["smtp-inspect"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Pure layers.
        .target(name: "PacketWire", swiftSettings: pure),
        .target(name: "SMTPInspection", swiftSettings: pure),
        .target(name: "FlowEngine", dependencies: ["PacketWire", "SMTPInspection"], swiftSettings: pure),
        .target(name: "IOSConfig", swiftSettings: pure),

        // The only C and the only syscalls.
        .target(
            name: "CNetfilterQueue",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [
                .linkedLibrary("netfilter_queue"),
                .linkedLibrary("mnl"),
                .linkedLibrary("nfnetlink"),
                .linkedLibrary("pcap"),
            ]
        ),
        .target(name: "NFQueue", dependencies: ["CNetfilterQueue"]),

        .executableTarget(name: "nfqueue-selftest", dependencies: ["NFQueue"]),
        .executableTarget(
            name: "smtp-inspect",
            dependencies: [
                "PacketWire", "SMTPInspection", "FlowEngine", "IOSConfig", "NFQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Release-mode benchmarks (scripts/bench.sh); numbers go to BENCHMARKS.md, never to tests.
        .executableTarget(name: "smtp-inspect-bench", dependencies: ["SMTPInspection", "FlowEngine", "PacketWire"]),

        // Fuzzing (README "Fuzzing", scripts/fuzz.sh). The harnesses are a library so that
        // `swift test` replays every committed input; the driver is libFuzzer when fuzz.sh builds
        // it with -DFUZZING and the sanitizers, and replays inputs when built as here.
        .target(name: "FuzzHarness", dependencies: ["PacketWire", "SMTPInspection", "FlowEngine", "IOSConfig", "NFQueue"]),
        .executableTarget(name: "smtp-inspect-fuzz", dependencies: ["FuzzHarness"]),

        // What several test targets share (the seeded generator); for tests only, not a product.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: pure),

        .testTarget(name: "PacketWireTests", dependencies: ["PacketWire", "TestSupport"]),
        .testTarget(name: "SMTPInspectionTests", dependencies: ["SMTPInspection", "TestSupport"]),
        .testTarget(name: "FlowEngineTests", dependencies: ["FlowEngine", "PacketWire", "SMTPInspection", "TestSupport"]),
        .testTarget(name: "IOSConfigTests", dependencies: ["IOSConfig", "TestSupport"]),
        // The executable's own parts (log rate limit and writer, control protocol, replay's
        // conversions) and NFQueue's file and socket wrappers; no root, no network.
        .testTarget(name: "SMTPInspectCommandTests", dependencies: ["smtp-inspect", "NFQueue", "FlowEngine", "PacketWire", "IOSConfig"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarness"]),
    ]
)
