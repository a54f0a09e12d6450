import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `cohort server` process on a free loopback port, for tests that must kill, pause or
/// restart it. It is stopped by its process id, never by name.
final class ServerProcess {
    let port: Int
    let dataDirectory: String
    private let process: Process
    let logPath: String

    /// The `cohort` binary built beside the test bundle (or `COHORT_BIN`).
    static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["COHORT_BIN"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // The test executable may sit inside a .xctest bundle directory.
        while directory.pathComponents.count > 1 {
            let candidate = directory.appendingPathComponent("cohort").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return "cohort"
    }

    /// A port that was free a moment ago on 127.0.0.1 (see ``TestPorts``).
    static func freePort() -> Int { TestPorts.fresh(1)[0] }

    /// `count` distinct ports that were free a moment ago on 127.0.0.1 (see ``TestPorts``).
    static func freePorts(_ count: Int) -> [Int] { TestPorts.fresh(count) }

    /// Starts a server on `port`, or on a fresh port (tried again with another when the one
    /// chosen turns out to be taken meanwhile).
    init(dataDirectory: String, port: Int? = nil, extraArguments: [String] = []) throws {
        self.dataDirectory = dataDirectory
        self.logPath = dataDirectory + ".log"
        var attempt = 1
        while true {
            let chosen = port ?? Self.freePort()
            let process = try Self.launch(
                port: chosen, dataDirectory: dataDirectory, logPath: logPath,
                extraArguments: extraArguments)
            do {
                try Self.waitUntilReady(process, port: chosen, logPath: logPath)
                self.port = chosen
                self.process = process
                return
            } catch  where port == nil && attempt < 3 && TestPorts.isPortTaken(error) {
                _ = process.isRunning ? kill(process.processIdentifier, SIGKILL) : 0
                process.waitUntilExit()
                attempt += 1
            }
        }
    }

    private static func launch(
        port: Int, dataDirectory: String, logPath: String, extraArguments: [String]
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments =
            [
                "server", "--port", "\(port)", "--data-dir", dataDirectory, "--log-level",
                "info",
            ] + extraArguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        log?.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    var processID: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Polls until the server answers a request, up to 30 seconds.
    func waitUntilReady() throws {
        try Self.waitUntilReady(process, port: port, logPath: logPath)
    }

    private static func waitUntilReady(_ process: Process, port: Int, logPath: String) throws {
        for _ in 0..<300 {
            // Any reply will do: with a password configured, PING answers NOAUTH.
            if let client = try? TestRESPClient(port: port, timeoutSeconds: 2),
                (try? client.call("PING")) != nil
            {
                return
            }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw ServerError.notReady(log)
    }

    enum ServerError: Error { case notReady(String), didNotExit }

    /// Sends a signal to this process by its id.
    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// Waits for exit up to `seconds`; returns the exit status, or nil on timeout.
    func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Stops the process: SIGTERM, then SIGKILL if it does not exit in time.
    func stop() {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if waitForExit(seconds: 10) == nil {
            signal(SIGKILL)
            _ = waitForExit(seconds: 5)
        }
    }

    deinit { stop() }
}

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "cohort-test-" + UUID().uuidString
        create()
    }

    func create() {
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
