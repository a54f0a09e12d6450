import Foundation
import Testing

/// Lints the pure core targets for APIs that would make them nondeterministic or do I/O
/// (STYLE.md, "Determinism"). The simulator can only replay a seed if nothing in these
/// targets reads a clock, starts a thread, touches a socket or file, or draws unseeded random
/// numbers.
@Suite struct DeterminismTidyTests {
    static let pureTargets = [
        "CohortCore", "CohortRaft", "CohortCheck", "CohortSim", "CohortReplication",
        // The command layer, the group runtime and the node shell: the simulator runs them.
        "CohortNode",
    ]

    /// Banned text, and why.
    static let banned: [(pattern: String, reason: String)] = [
        ("import Foundation", "pure targets avoid Foundation (clocks, files, locale)"),
        ("import Dispatch", "no threads or queues in the pure core"),
        ("import NIO", "the pure core does no networking"),
        ("import Glibc", "no system calls in the pure core"),
        ("import Darwin", "no system calls in the pure core"),
        ("Date()", "wall clock"),
        ("ContinuousClock", "clock"),
        ("SuspendingClock", "clock"),
        ("Task.sleep", "sleeping"),
        ("Task {", "unstructured concurrency"),
        ("Task.detached", "unstructured concurrency"),
        ("DispatchQueue", "threads"),
        ("Thread(", "threads"),
        ("UUID()", "unseeded randomness"),
        ("SystemRandomNumberGenerator", "unseeded randomness"),
        ("arc4random", "unseeded randomness"),
        ("clock_gettime", "clock"),
        ("gettimeofday", "clock"),
        ("FileManager", "files"),
        ("FileHandle", "files"),
        ("fopen(", "files"),
        ("POSIXStorageDevice", "real files: the host passes its storage device"),
    ]

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func swiftFiles(in target: String) -> [URL] {
        let directory = repositoryRoot.appendingPathComponent("Sources/\(target)")
        let enumerator = FileManager.default.enumerator(
            at: directory, includingPropertiesForKeys: nil)
        var files: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "swift" { files.append(url) }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Finds the banned uses in one file's text, ignoring comment lines.
    static func violations(in text: String) -> [String] {
        var found: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("//") { continue }
            for (pattern, reason) in banned where line.contains(pattern) {
                found.append("line \(number + 1): '\(pattern)' (\(reason))")
            }
            // `.random(` is allowed only with an explicit generator.
            if line.contains(".random(") && !line.contains("using:") {
                found.append(
                    "line \(number + 1): '.random(' without 'using:' (unseeded randomness)")
            }
        }
        return found
    }

    @Test(arguments: pureTargets)
    func pureTargetUsesNoBannedAPI(target: String) throws {
        let files = Self.swiftFiles(in: target)
        #expect(!files.isEmpty, "no sources found for \(target)")
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let found = Self.violations(in: text)
            #expect(found.isEmpty, "\(file.lastPathComponent): \(found.joined(separator: "; "))")
        }
    }

    @Test func theLintCatchesBannedUses() {
        // The check must be able to fail: each kind of violation is found in a sample.
        #expect(!Self.violations(in: "let now = Date()").isEmpty)
        #expect(!Self.violations(in: "let x = Int.random(in: 0..<3)").isEmpty)
        #expect(Self.violations(in: "let x = Int.random(in: 0..<3, using: &rng)").isEmpty)
        #expect(!Self.violations(in: "Task { await work() }").isEmpty)
        #expect(Self.violations(in: "// Date() in a comment is fine").isEmpty)
    }

    @Test func pureTargetsDoNotDependOnNIOInThePackageManifest() throws {
        let manifest = try String(
            contentsOf: Self.repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8
        )
        for target in Self.pureTargets {
            guard let start = manifest.range(of: "name: \"\(target)\"") else {
                Issue.record("target \(target) missing from Package.swift")
                continue
            }
            let rest = manifest[start.upperBound...]
            let end = rest.range(of: ".target(")?.lowerBound ?? rest.endIndex
            #expect(!rest[..<end].contains("swift-nio"), "\(target) must not depend on NIO")
        }
    }
}
