import CohortCore
import Testing

/// Parses `text` in one call.
private func parseOnce(_ text: String, limits: RESPLimits = RESPLimits())
    -> RESPRequestParser.Outcome
{
    var parser = RESPRequestParser(limits: limits)
    return Array(text.utf8).withUnsafeBytes { parser.parse($0) }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func command(_ arguments: String..., consumed: Int) -> RESPRequestParser.Outcome {
    .command(arguments: arguments.map { Array($0.utf8) }, consumed: consumed)
}

@Suite struct RESPRequestParserTests {
    @Test func multibulkCommand() {
        let input = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n"
        #expect(parseOnce(input) == command("SET", "a", "hello", consumed: input.utf8.count))
    }

    @Test func multibulkWithEmptyAndBinaryArguments() {
        var input = bytes("*3\r\n$0\r\n\r\n$4\r\n")
        input += [0, 13, 10, 255]
        input += bytes("\r\n$1\r\n*\r\n")
        var parser = RESPRequestParser()
        let outcome = input.withUnsafeBytes { parser.parse($0) }
        #expect(
            outcome == .command(arguments: [[], [0, 13, 10, 255], [42]], consumed: input.count))
    }

    @Test func pipelinedCommandsParseOneAtATime() {
        let input = bytes("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        var parser = RESPRequestParser()
        var offset = 0
        var seen: [[[UInt8]]] = []
        while case .command(let arguments, let consumed) = input.withUnsafeBytes({
            parser.parse(UnsafeRawBufferPointer(rebasing: $0[offset...]))
        }) {
            seen.append(arguments)
            offset += consumed
        }
        #expect(seen == [[bytes("PING")], [bytes("PING")], [bytes("GET"), bytes("k")]])
        #expect(offset == input.count)
    }

    @Test func parseCommandsHandlesAPipelineAndStopsAtAPartialCommand() {
        var input: [UInt8] = []
        for index in 0..<100 {
            input += bytes("*2\r\n$3\r\nGET\r\n$\(String(index).utf8.count)\r\n\(index)\r\n")
        }
        let complete = input.count
        input += bytes("*2\r\n$3\r\nGE")
        var parser = RESPRequestParser()
        var keys: [String] = []
        let outcome = input.withUnsafeBytes { buffer in
            parser.parseCommands(buffer, commandsMax: 1000) {
                keys.append(String(decoding: $0[1], as: UTF8.self))
            }
        }
        #expect(outcome == .init(consumed: complete, commandCount: 100, protocolError: nil))
        #expect(keys == (0..<100).map(String.init))

        var limited = RESPRequestParser()
        let partial = input.withUnsafeBytes { limited.parseCommands($0, commandsMax: 10) { _ in } }
        #expect(partial.commandCount == 10)
        #expect(partial.consumed == bytes("*2\r\n$3\r\nGET\r\n$1\r\n0\r\n").count * 10)
    }

    @Test func parseCommandsReportsAProtocolError() {
        let input = bytes("PING\r\n*1\r\n$x\r\n")
        var parser = RESPRequestParser()
        var count = 0
        let outcome = input.withUnsafeBytes {
            parser.parseCommands($0, commandsMax: 10) { _ in count += 1 }
        }
        #expect(count == 1)
        #expect(outcome.consumed == 6)
        #expect(outcome.protocolError == "Protocol error: invalid bulk length")
    }

    @Test func inlineCommands() {
        #expect(parseOnce("PING\r\n") == command("PING", consumed: 6))
        #expect(parseOnce("PING\n") == command("PING", consumed: 5))
        #expect(parseOnce("  SET  a\tb  \r\n") == command("SET", "a", "b", consumed: 14))
        #expect(parseOnce("PING") == .needMoreData)
        #expect(parseOnce("PING\r") == .needMoreData)
    }

    @Test func emptyLinesAndEmptyMultibulksAreSkipped() {
        #expect(parseOnce("\r\n\n  \r\nPING\r\n") == command("PING", consumed: 13))
        #expect(parseOnce("*0\r\n*-1\r\nPING\r\n") == command("PING", consumed: 15))
        #expect(parseOnce("\r\n\r\n") == .ignored(consumed: 4))
        #expect(parseOnce("*0\r\n") == .ignored(consumed: 4))
        // Skipped bytes before an incomplete command are handed back, and the command resumes.
        var parser = RESPRequestParser()
        var input = bytes("\r\n\r\n*1\r\n$4\r\nPI")
        #expect(input.withUnsafeBytes { parser.parse($0) } == .ignored(consumed: 4))
        input.removeFirst(4)
        #expect(input.withUnsafeBytes { parser.parse($0) } == .needMoreData)
        input += bytes("NG\r\n")
        #expect(input.withUnsafeBytes { parser.parse($0) } == command("PING", consumed: 14))
    }

    @Test func largeBulkStringArrivesInChunks() {
        let value = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var input =
            bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$\(value.count)\r\n") + value + bytes("\r\n")
        let total = input.count
        var parser = RESPRequestParser()
        var buffer: [UInt8] = []
        var outcome = RESPRequestParser.Outcome.needMoreData
        var needMoreCount = 0
        while !input.isEmpty {
            let chunk = min(4096, input.count)
            buffer += input.prefix(chunk)
            input.removeFirst(chunk)
            outcome = buffer.withUnsafeBytes { parser.parse($0) }
            if outcome == .needMoreData { needMoreCount += 1 }
        }
        #expect(needMoreCount == (total + 4095) / 4096 - 1)
        #expect(
            outcome == .command(arguments: [bytes("SET"), bytes("key"), value], consumed: total))
    }

    @Test func multibulkLengthErrors() {
        let invalid = RESPRequestParser.Outcome.protocolError(
            "Protocol error: invalid multibulk length")
        for input in [
            "*abc\r\n", "*+1\r\n", "*01\r\n", "* 1\r\n", "*\r\n", "*1048577\r\n",
            "*99999999999999999999999\r\n", "*-\r\n", "*1x\r\n",
        ] {
            #expect(parseOnce(input) == invalid, "input \(input.debugDescription)")
        }
        #expect(parseOnce("*1048576\r\n") == .needMoreData)
        #expect(parseOnce("*-5\r\n") == .ignored(consumed: 5))
    }

    @Test func bulkLengthErrors() {
        let invalid = RESPRequestParser.Outcome.protocolError("Protocol error: invalid bulk length")
        for input in [
            "*1\r\n$-1\r\n", "*1\r\n$x\r\n", "*1\r\n$\r\n", "*1\r\n$536870913\r\n",
            "*1\r\n$9223372036854775808\r\n", "*1\r\n$-9223372036854775809\r\n",
        ] {
            #expect(parseOnce(input) == invalid, "input \(input.debugDescription)")
        }
        #expect(parseOnce("*1\r\n$536870912\r\n") == .needMoreData)
        let small = RESPLimits(bulkBytesMax: 4)
        #expect(parseOnce("*1\r\n$5\r\n", limits: small) == invalid)
        #expect(parseOnce("*1\r\n$4\r\nabcd\r\n", limits: small) == command("abcd", consumed: 14))
    }

    @Test func expectedDollarError() {
        #expect(
            parseOnce("*1\r\nX3\r\n") == .protocolError("Protocol error: expected '$', got 'X'"))
        #expect(
            parseOnce("*2\r\n$1\r\na\r\n:1\r\n")
                == .protocolError("Protocol error: expected '$', got ':'"))
        #expect(parseOnce("*1\r\n\r\n") == .protocolError("Protocol error: expected '$', got ' '"))
    }

    @Test func tooBigLines() {
        let limits = RESPLimits(inlineBytesMax: 16)
        let exactly = String(repeating: "a", count: 16)
        #expect(parseOnce(exactly + "\n", limits: limits) == command(exactly, consumed: 17))
        #expect(parseOnce(exactly, limits: limits) == .needMoreData)
        let tooBig = RESPRequestParser.Outcome.protocolError(
            "Protocol error: too big inline request")
        #expect(parseOnce(exactly + "a", limits: limits) == tooBig)
        #expect(parseOnce(exactly + "a\r\n", limits: limits) == tooBig)
        #expect(
            parseOnce("*" + String(repeating: "1", count: 20), limits: limits)
                == .protocolError("Protocol error: too big mult bulk count string"))
        #expect(
            parseOnce("*1\r\n$" + String(repeating: "1", count: 20), limits: limits)
                == .protocolError("Protocol error: too big bulk count string"))
        // The default limit is Redis's 64 KiB.
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024 + 1)
        var parser = RESPRequestParser()
        #expect(big.withUnsafeBytes { parser.parse($0) } == tooBig)
    }

    @Test func parserResetsAfterAnError() {
        var parser = RESPRequestParser()
        #expect(
            bytes("*x\r\n").withUnsafeBytes { parser.parse($0) }
                == .protocolError("Protocol error: invalid multibulk length"))
        #expect(
            bytes("PING\r\n").withUnsafeBytes { parser.parse($0) } == command("PING", consumed: 6))
    }

    @Test func shrunkInputRestartsInsteadOfTrapping() {
        var parser = RESPRequestParser()
        #expect(bytes("*1\r\n$4\r\nPI").withUnsafeBytes { parser.parse($0) } == .needMoreData)
        #expect(
            bytes("PING\r\n").withUnsafeBytes { parser.parse($0) } == command("PING", consumed: 6))
    }

    @Test func limitsDefaultsMatchRedis() {
        let limits = RESPLimits()
        #expect(limits.bulkBytesMax == 512 * 1024 * 1024)
        #expect(limits.arrayCountMax == 1_048_576)
        #expect(limits.inlineBytesMax == 65_536)
        #expect(limits.nestingDepthMax >= 8)
        // A request's length lines must fit in an inline line.
        #expect(String(limits.bulkBytesMax).utf8.count + 1 < limits.inlineBytesMax)
    }
}
