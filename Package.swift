// swift-tools-version: 6.1
// The Cohort package. Targets follow DESIGN.md §8: a pure core (CohortCore, CohortRaft,
// CohortCheck, CohortSim) that never imports NIO, the storage engine, the node that composes
// them, the SwiftNIO shell, and the `cohort` executable.
import PackageDescription

let strict: [SwiftSetting] = [
    .unsafeFlags(["-warnings-as-errors"], .when(configuration: .debug)),
    // Release builds skip the runtime exclusivity checks on class properties: on the GET path
    // they were about 7% of the server's CPU (swift_beginAccess, its access set and the
    // thread-local lookup behind it; perf, redis-benchmark -P 16). Debug builds, and so every
    // test run, keep them, and the compile-time checks stay on in both.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Cohort",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cohort", targets: ["cohort"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure core: value types, codecs (RESP, records), checksums, hybrid logical clocks.
        .target(name: "CohortCore", dependencies: ["CohortCRC"], swiftSettings: strict),
        // CRC-32C with the CPU's instruction (C: Swift cannot reach SSE 4.2's crc32 directly).
        .target(name: "CohortCRC"),
        // Prefetch hints for the index's batched lookups, and the allocator's trim (C: Swift
        // cannot reach either).
        .target(name: "CohortPrefetch"),
        // Log-structured storage engine: segments, index, group commit, compaction, snapshots.
        .target(
            name: "CohortStorage", dependencies: ["CohortCore", "CohortRaft", "CohortPrefetch"],
            swiftSettings: strict
        ),
        // Raft as a state machine without I/O.
        .target(name: "CohortRaft", dependencies: ["CohortCore"], swiftSettings: strict),
        // Histories, the linearizability checker and Raft safety checks.
        .target(name: "CohortCheck", dependencies: ["CohortCore"], swiftSettings: strict),
        // Deterministic simulator: a cluster of production nodes (CohortNode's runtime and
        // command layer, the real storage over simulated disks) in one thread from one seed.
        .target(
            name: "CohortSim",
            dependencies: [
                "CohortCore", "CohortRaft", "CohortCheck", "CohortNode", "CohortReplication",
                "CohortStorage",
            ],
            swiftSettings: strict
        ),
        // Replication groups as state machines without I/O (the single-leader group over the
        // Raft core), and their formats: the logical log, snapshots, forwarding, the catalog.
        .target(
            name: "CohortReplication", dependencies: ["CohortCore", "CohortRaft"],
            swiftSettings: strict),
        // Node composition: configuration, the command layer over the storage engine.
        .target(
            name: "CohortNode",
            dependencies: ["CohortCore", "CohortStorage", "CohortReplication"],
            swiftSettings: strict
        ),
        // SwiftNIO shell: the RESP server.
        .target(
            name: "CohortNet",
            dependencies: [
                "CohortCore", "CohortNode",
                "CohortRaft", "CohortStorage", "CohortReplication",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "cohort",
            dependencies: [
                "CohortCore", "CohortNode", "CohortNet", "CohortSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "CohortCoreTests", dependencies: ["CohortCore"]),
        .testTarget(name: "CohortStorageTests", dependencies: ["CohortStorage", "CohortRaft"]),
        .testTarget(name: "CohortRaftTests", dependencies: ["CohortRaft", "CohortCore"]),
        .testTarget(name: "CohortCheckTests", dependencies: ["CohortCheck", "CohortCore"]),
        .testTarget(name: "CohortSimTests", dependencies: ["CohortSim"]),
        .testTarget(
            name: "CohortNodeTests",
            dependencies: [
                "CohortNode", "CohortReplication", "CohortCore", "CohortRaft", "CohortStorage",
            ]),
        .testTarget(
            name: "CohortReplicationTests",
            dependencies: ["CohortReplication", "CohortCore", "CohortRaft"]),
        .testTarget(
            name: "CohortNetTests",
            dependencies: [
                "CohortNet", "CohortNode", "CohortRaft", "CohortCheck", "CohortStorage",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "TidyTests"),
    ]
)
