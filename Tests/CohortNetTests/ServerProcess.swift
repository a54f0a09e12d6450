import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `cohort server` process on a free loopback port, for tests that must kill, pause or
/// restart it. It is stopped by its process id, never by name.
final class ServerProcess {
    let port: Int
    let dataDirectory: String
    private let process = Process()
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

    /// A port that was free a moment ago on 127.0.0.1.
    static func freePort() -> Int { freePorts(1)[0] }

    /// `count` distinct ports that were free a moment ago on 127.0.0.1: all are bound at once,
    /// so the kernel cannot hand out one of them twice (separate calls can repeat a port).
    static func freePorts(_ count: Int) -> [Int] {
        let descriptors = (0..<count).map { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
        defer { for descriptor in descriptors { close(descriptor) } }
        return descriptors.map(boundPort)
    }

    /// Binds `descriptor` to an ephemeral loopback port and returns the port.
    private static func boundPort(_ descriptor: Int32) -> Int {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                bind(descriptor, pointer, length)
                return getsockname(descriptor, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init(dataDirectory: String, port: Int? = nil, extraArguments: [String] = []) throws {
        self.port = port ?? Self.freePort()
        self.dataDirectory = dataDirectory
        self.logPath = dataDirectory + ".log"
        process.executableURL = URL(fileURLWithPath: Self.binaryPath)
        process.arguments =
            [
                "server", "--port", "\(self.port)", "--data-dir", dataDirectory, "--log-level",
                "info",
            ] + extraArguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        log?.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitUntilReady()
    }

    var processID: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Polls until the server answers a request, up to 30 seconds.
    func waitUntilReady() throws {
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
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
