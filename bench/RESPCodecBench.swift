// Throughput of the RESP codec's hot paths, outside any test. Built by bench/run-codec.sh
// together with Sources/CohortCore/*.swift as one module (no import needed).

@main
struct RESPCodecBench {
    static func measure(
        _ name: String, bytes: Int, operationCount: Int, repeats: Int = 5, _ body: () -> Int
    ) {
        var best = Duration.seconds(1000)
        var check = 0
        for _ in 0..<repeats {
            let clock = ContinuousClock()
            let start = clock.now
            check &+= body()
            best = min(best, clock.now - start)
        }
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        let megabytes = Double(bytes) / 1_048_576
        func padded(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        let operations = Double(operationCount) / seconds / 1e6
        print(
            padded(name, 44), padded("\(Int(megabytes / seconds)) MiB/s", 12),
            padded("\((operations * 100).rounded() / 100) M ops/s", 14), "(check \(check % 1000))")
    }

    static func main() {
        let commandCount = 200_000
        var setCommands: [UInt8] = []
        var getCommands: [UInt8] = []
        var inlineCommands: [UInt8] = []
        for index in 0..<commandCount {
            let key = "key:\(index)"
            let value = String(repeating: "v", count: 32)
            setCommands += Array(
                "*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$32\r\n\(value)\r\n".utf8)
            getCommands += Array("*2\r\n$3\r\nGET\r\n$\(key.utf8.count)\r\n\(key)\r\n".utf8)
            inlineCommands += Array("SET \(key) \"\(value)\"\r\n".utf8)
        }
        for (name, input) in [
            ("parse pipelined SET (32-byte values)", setCommands),
            ("parse pipelined GET", getCommands),
            ("parse pipelined inline SET", inlineCommands),
        ] {
            measure(name, bytes: input.count, operationCount: commandCount) {
                var parser = RESPRequestParser()
                var arguments = 0
                input.withUnsafeBytes { buffer in
                    let outcome = parser.parseCommands(buffer, commandsMax: Int.max) {
                        arguments += $0.count
                    }
                    precondition(
                        outcome.commandCount == commandCount, "parsed \(outcome.commandCount)")
                }
                return arguments
            }
        }

        let value = [UInt8](repeating: 120, count: 32)
        var sink: [UInt8] = []
        sink.reserveCapacity(commandCount * 48)
        measure(
            "encode bulk replies (32 bytes)", bytes: commandCount * 40, operationCount: commandCount
        ) {
            sink.removeAll(keepingCapacity: true)
            for _ in 0..<commandCount { RESPEncoder.writeBulkString(value, into: &sink) }
            return sink.count
        }
        measure(
            "encode OK + integer replies", bytes: commandCount * 15,
            operationCount: commandCount * 2
        ) {
            sink.removeAll(keepingCapacity: true)
            for index in 0..<commandCount {
                RESPEncoder.writeOK(into: &sink)
                RESPEncoder.writeInteger(Int64(index), into: &sink)
            }
            return sink.count
        }
        let reply = RESPValue.array((0..<10).map { .bulkString(Array("member:\($0)".utf8)) })
        let replyBytes = reply.encoded(version: .resp2).count
        measure(
            "encode 10-element array RESPValues", bytes: replyBytes * 20_000, operationCount: 20_000
        ) {
            sink.removeAll(keepingCapacity: true)
            for _ in 0..<20_000 { reply.encode(into: &sink, version: .resp2) }
            return sink.count
        }
        var encoded: [UInt8] = []
        for _ in 0..<20_000 { reply.encode(into: &encoded, version: .resp3) }
        measure("parse 10-element array RESPValues", bytes: encoded.count, operationCount: 20_000) {
            var parser = RESPValueParser()
            var offset = 0
            var count = 0
            encoded.withUnsafeBytes { buffer in
                while case .value(_, let consumed) = parser.parse(
                    UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                {
                    offset += consumed
                    count += 1
                }
            }
            precondition(count == 20_000, "parsed \(count)")
            return count
        }
    }
}
