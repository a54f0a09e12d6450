import ArgumentParser
import Dispatch
import Foundation
import Glibc

/// `cohort up`: a local cluster on loopback for development. Starts `--nodes` server processes
/// of this same binary (node i serves clients on base-port + i - 1 and peers on
/// peer-base-port + i - 1), prints each node's ports and pid, waits until a leader is elected,
/// and stops every node on Ctrl-C or SIGTERM.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local Cohort cluster on loopback; Ctrl-C stops it.")

    @Option(name: .long, help: "Nodes to start (default 3).") var nodes = 3
    @Option(name: .customLong("base-port"), help: "Client port of node 1 (default 7379).")
    var basePort = 7379
    @Option(
        name: .customLong("peer-base-port"),
        help: "Peer port of node 1 (default base-port + 10000).")
    var peerBasePort: Int?
    @Option(
        name: .customLong("admin-base-port"),
        help: "HTTP admin port of node 1 (default base-port + 20000).")
    var adminBasePort: Int?
    @Option(
        name: .customLong("data-dir"),
        help: "Parent of the nodes' data directories (default ./cohort-cluster).")
    var dataDir = "cohort-cluster"
    @Option(name: .long, help: "Default write acknowledgement: all, majority, leader.")
    var ack: String?
    @Option(name: .customLong("log-level"), help: "Nodes' log level (default info).")
    var logLevel = "info"

    func validate() throws {
        guard (1...9).contains(nodes) else { throw ValidationError("--nodes must be 1...9") }
        let peerBase = peerBasePort ?? basePort + 10_000
        let adminBase = adminBasePort ?? 1
        guard basePort > 0, basePort + nodes - 1 <= 65_535, peerBase > 0,
            peerBase + nodes - 1 <= 65_535, adminBase > 0, adminBase + nodes - 1 <= 65_535
        else { throw ValidationError("ports out of range") }
    }

    func run() throws {
        let peerBase = peerBasePort ?? basePort + 10_000
        // The admin API by default on base-port + 20000 and up, when those ports exist.
        let adminBase =
            adminBasePort ?? (basePort + 20_000 + nodes - 1 <= 65_535 ? basePort + 20_000 : nil)
        let names = (1...nodes).map { "n\($0)" }
        let peers = names.enumerated().map { "\($1)=127.0.0.1:\(peerBase + $0)" }
            .joined(separator: ",")
        let executable = Self.executablePath()
        try FileManager.default.createDirectory(
            atPath: dataDir, withIntermediateDirectories: true)
        // Ctrl-C reaches the whole foreground process group; the children ignore nothing, so
        // handle the signal here and stop them in order instead.
        let stop = StopSignal()
        var processes: [Process] = []
        for (position, name) in names.enumerated() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            var arguments = [
                "server", "--id", name, "--port", "\(basePort + position)",
                "--peer-port", "\(peerBase + position)", "--peers", peers,
                "--data-dir", "\(dataDir)/\(name)", "--log-level", logLevel,
            ]
            if let adminBase { arguments += ["--admin-port", "\(adminBase + position)"] }
            if let ack { arguments += ["--ack", ack] }
            process.arguments = arguments
            let logPath = "\(dataDir)/\(name).log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = FileHandle(forWritingAtPath: logPath)
            log?.seekToEndOfFile()
            process.standardError = log
            process.standardOutput = log
            // A separate process group: Ctrl-C in the terminal reaches only this launcher,
            // which then stops the nodes in order.
            try process.run()
            setpgid(process.processIdentifier, process.processIdentifier)
            processes.append(process)
            print(
                "node \(name) client 127.0.0.1:\(basePort + position) peer 127.0.0.1:\(peerBase + position) pid \(process.processIdentifier) log \(logPath)"
                    + (adminBase.map { " admin http://127.0.0.1:\($0 + position)/status" } ?? "")
            )
        }
        fflush(nil)
        let deadline = Date().addingTimeInterval(30)
        var leader: String?
        while leader == nil && Date() < deadline {
            if stop.wait(milliseconds: 200) {
                stopAll(processes)
                return
            }
            for position in 0..<nodes {
                if let info = RESPProbe.replicationInfo(
                    host: "127.0.0.1", port: basePort + position),
                    info["role"] == "leader"
                {
                    leader = info["cohort_node"]
                }
            }
            if processes.contains(where: { !$0.isRunning }) { break }
        }
        if let leader {
            print(
                "leader \(leader); connect with redis-cli -p \(basePort); Ctrl-C stops the cluster")
            // "ready" alone on a line is what scripts wait for.
            print("ready")
        } else {
            print("no leader elected (see the node logs in \(dataDir)); stopping")
            stopAll(processes)
            throw ExitCode(1)
        }
        fflush(nil)
        stop.wait()
        print("stopping the cluster")
        stopAll(processes)
    }

    /// SIGTERM to every node by pid, then SIGKILL to any still running after 10 s.
    func stopAll(_ processes: [Process]) {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
        }
        let deadline = Date().addingTimeInterval(10)
        while processes.contains(where: \.isRunning) && Date() < deadline {
            usleep(50_000)
        }
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }

    /// This binary, so that the nodes run the same build as the launcher.
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    }
}
