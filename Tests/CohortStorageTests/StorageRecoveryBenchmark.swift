import Foundation
import Testing

@testable import CohortStorage

/// Restart-time measurement, off by default (benchmarks are not timed tests). Run with
/// `COHORT_STORAGE_BENCH=1 [COHORT_STORAGE_BENCH_KEYS=1000000] swift test -c release
/// -Xswiftc -enable-testing --filter StorageRecoveryBenchmark`. Prints timings, asserts only
/// correctness.
@Suite struct StorageRecoveryBenchmark {
    static let isEnabled = ProcessInfo.processInfo.environment["COHORT_STORAGE_BENCH"] != nil

    @Test(.enabled(if: isEnabled)) func restartTimeWithHintsAndWithScans() throws {
        let keys =
            Int(ProcessInfo.processInfo.environment["COHORT_STORAGE_BENCH_KEYS"] ?? "")
            ?? 100_000
        let directory = TemporaryDirectory()
        var options = StorageOptions()
        options.fsync = .none
        options.segmentBytesMax = 16 << 20
        let writeStart = Date()
        do {
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 1)
            let batch = 1_000
            for first in stride(from: 0, to: keys, by: batch) {
                _ = try engine.transaction(nowMillis: 1) { transaction in
                    for number in first..<min(first + batch, keys) {
                        try transaction.set(
                            bytes("key:\(number)"), value: bytes("value:\(number)"))
                    }
                }
            }
            try engine.close()
        }
        let writeSeconds = Date().timeIntervalSince(writeStart)
        func reopen() throws -> (seconds: Double, report: RecoveryReport) {
            let start = Date()
            let engine = try StorageEngine.open(
                directory: directory.path, options: options, nowMillis: 1)
            let seconds = Date().timeIntervalSince(start)
            #expect(engine.keyCount == keys)
            #expect(
                try engine.get(bytes("key:\(keys / 2)"), nowMillis: 1)?.bytes
                    == bytes("value:\(keys / 2)"))
            let report = engine.recovery
            try engine.close()
            return (seconds, report)
        }
        let withHints = try reopen()
        for name in directory.files where name.hasSuffix(".hint") {
            unlink(directory.file(name))
        }
        let withScans = try reopen()
        print(
            "storage recovery bench: keys=\(keys) write=\(String(format: "%.2f", writeSeconds))s "
                + "restart(hints=\(withHints.report.hintFilesUsed), scanned="
                + "\(withHints.report.segmentsScanned))=\(String(format: "%.3f", withHints.seconds))s "
                + "restart(scan only, scanned=\(withScans.report.segmentsScanned))="
                + "\(String(format: "%.3f", withScans.seconds))s")
    }
}
