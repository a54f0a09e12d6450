import Foundation
import Testing

/// The simulator is deterministic across processes, not only within one: Swift seeds hashing
/// per process, so a `Dictionary` order that reached the trace would show here. Runs the built
/// `cohort sim` twice in separate processes (as the README says, with
/// `SWIFT_DETERMINISTIC_HASHING=1`) and compares what they print.
@Suite struct SimulatorProcessTests {
    static func runSim(seed: Int) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binaryPath)
        process.arguments = ["sim", "--seed", "\(seed)", "--ticks", "300", "--jobs", "1"]
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_DETERMINISTIC_HASHING"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    static func traceHash(_ output: String) -> Substring? {
        guard let range = output.range(of: "combinedTrace=") else { return nil }
        return output[range.upperBound...].prefix { $0.isHexDigit }
    }

    @Test(.timeLimit(.minutes(2))) func aSeedGivesTheSameTraceInTwoProcesses() throws {
        let first = try Self.runSim(seed: 11)
        let second = try Self.runSim(seed: 11)
        let other = try Self.runSim(seed: 12)
        let hash = Self.traceHash(first)
        #expect(hash != nil && !(hash?.isEmpty ?? true), "\(first)")
        #expect(first.contains("1 seeds, 0 failed"), "\(first)")
        #expect(hash == Self.traceHash(second), "\(first)\n---\n\(second)")
        #expect(hash != Self.traceHash(other))
    }
}
