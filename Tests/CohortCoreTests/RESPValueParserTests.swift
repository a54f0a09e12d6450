import CohortCore
import Testing

private func parseOnce(_ input: [UInt8], limits: RESPLimits = RESPLimits())
    -> RESPValueParser.Outcome
{
    var parser = RESPValueParser(limits: limits)
    return input.withUnsafeBytes { parser.parse($0) }
}

private func parseOnce(_ text: String, limits: RESPLimits = RESPLimits()) -> RESPValueParser.Outcome
{
    parseOnce(Array(text.utf8), limits: limits)
}

private func value(_ text: String) -> RESPValue? {
    if case .value(let value, let consumed) = parseOnce(text), consumed == text.utf8.count {
        return value
    }
    return nil
}

private func errorMessage(_ text: String) -> String? {
    if case .protocolError(let message) = parseOnce(text) { return message }
    return nil
}

@Suite struct RESPValueParserTests {
    @Test func resp2Values() {
        #expect(value("+OK\r\n") == .ok)
        #expect(value("-ERR wrong\r\n") == .error("ERR wrong"))
        #expect(value(":-12\r\n") == .integer(-12))
        #expect(value("$3\r\nabc\r\n") == .bulkString(Array("abc".utf8)))
        #expect(value("$0\r\n\r\n") == .bulkString([]))
        #expect(value("$-1\r\n") == .null)
        #expect(value("*-1\r\n") == .nullArray)
        #expect(value("*2\r\n*1\r\n:1\r\n$-1\r\n") == .array([.array([.integer(1)]), .null]))
    }

    @Test func resp3Values() {
        #expect(value("_\r\n") == .null)
        #expect(value(",3.25\r\n") == .double(3.25))
        #expect(value(",-inf\r\n") == .double(-.infinity))
        #expect(value(",1e+20\r\n") == .double(1e20))
        #expect(value(",nan\r\n") == .double(.nan))
        #expect(value("#t\r\n") == .boolean(true))
        #expect(value("#f\r\n") == .boolean(false))
        #expect(value("!5\r\nERR x\r\n") == .error("ERR x"))
        #expect(value("=8\r\nmkd:# hi\r\n") == .verbatim(format: "mkd", text: "# hi"))
        #expect(
            value("(-3492890328409238509324850943850943825024385\r\n")
                == .bigNumber("-3492890328409238509324850943850943825024385"))
        #expect(
            value("%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n")
                == .map([(.simpleString("k"), .set([.integer(1), .integer(2)]))]))
        #expect(
            value(">2\r\n+message\r\n$1\r\nx\r\n")
                == .push([.simpleString("message"), .bulkString([120])]))
    }

    @Test func attributesAreSkipped() {
        #expect(value("|1\r\n+ttl\r\n:3\r\n:42\r\n") == .integer(42))
        #expect(value("*1\r\n|1\r\n+a\r\n+b\r\n|0\r\n#t\r\n") == .array([.boolean(true)]))
    }

    @Test func malformedValuesAreErrors() {
        #expect(errorMessage("?\r\n") == "Protocol error: unknown type byte '?'")
        #expect(errorMessage(":12a\r\n") == "Protocol error: invalid integer")
        #expect(errorMessage(":\r\n") == "Protocol error: invalid integer")
        #expect(errorMessage(":99999999999999999999\r\n") == "Protocol error: invalid integer")
        #expect(errorMessage("$-2\r\n") == "Protocol error: invalid bulk length")
        #expect(errorMessage("$?\r\n") == "Protocol error: invalid bulk length")
        #expect(errorMessage("$3\r\nabcd\r\n") == "Protocol error: expected CRLF after bulk string")
        #expect(errorMessage("*-2\r\n") == "Protocol error: invalid multibulk length")
        #expect(errorMessage("%-1\r\n") == "Protocol error: invalid multibulk length")
        #expect(errorMessage("*1048577\r\n") == "Protocol error: invalid multibulk length")
        #expect(errorMessage("+a\rb\r\n") == "Protocol error: expected '\\n' after '\\r'")
        #expect(errorMessage("_x\r\n") == "Protocol error: invalid null")
        #expect(errorMessage("#x\r\n") == "Protocol error: invalid boolean")
        #expect(errorMessage(",abc\r\n") == "Protocol error: invalid double")
        #expect(errorMessage(",infinity\r\n") == "Protocol error: invalid double")
        #expect(errorMessage("(12a\r\n") == "Protocol error: invalid big number")
        #expect(errorMessage("(-\r\n") == "Protocol error: invalid big number")
        #expect(errorMessage("=3\r\ntxt\r\n") == "Protocol error: invalid verbatim string")
        #expect(
            parseOnce([61, 53, 13, 10, 0xFF, 97, 98, 58, 99, 13, 10])
                == .protocolError("Protocol error: invalid verbatim string"))
        #expect(errorMessage("!-1\r\n") == "Protocol error: invalid bulk length")
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "*1\r\n", count: 65) + ":1\r\n"
        #expect(errorMessage(deep) == "Protocol error: nesting deeper than 64")
        let allowed = String(repeating: "*1\r\n", count: 63) + ":1\r\n"
        #expect(value(allowed) != nil)
        // A long chain of attributes is a loop, not recursion.
        let attributes = String(repeating: "|0\r\n", count: 10_000) + ":1\r\n"
        #expect(value(attributes) == .integer(1))
    }

    @Test func oversizedLinesAndBodiesAreErrors() {
        let limits = RESPLimits(bulkBytesMax: 8, arrayCountMax: 4, inlineBytesMax: 16)
        #expect(
            parseOnce("$9\r\n", limits: limits)
                == .protocolError("Protocol error: invalid bulk length"))
        #expect(
            parseOnce("*5\r\n", limits: limits)
                == .protocolError("Protocol error: invalid multibulk length"))
        #expect(
            parseOnce("%5\r\n", limits: limits)
                == .protocolError("Protocol error: invalid multibulk length"))
        #expect(
            parseOnce("+" + String(repeating: "a", count: 17), limits: limits)
                == .protocolError("Protocol error: too big line"))
        #expect(parseOnce("+" + String(repeating: "a", count: 16), limits: limits) == .needMoreData)
    }

    @Test func everyPrefixOfAValueNeedsMoreData() {
        let input = Array("*3\r\n%1\r\n+k\r\n$3\r\nabc\r\n,1.5\r\n=7\r\ntxt:abc\r\n".utf8)
        for length in 0..<input.count {
            #expect(parseOnce(Array(input[0..<length])) == .needMoreData, "prefix \(length)")
        }
        guard case .value(_, let consumed) = parseOnce(input) else {
            Issue.record("the whole input should parse")
            return
        }
        #expect(consumed == input.count)
    }

    @Test func pipelinedValuesParseInTurn() {
        let input = Array("+a\r\n:1\r\n$1\r\nx\r\n".utf8)
        var parser = RESPValueParser()
        var offset = 0
        var values: [RESPValue] = []
        while case .value(let value, let consumed) = input.withUnsafeBytes({
            parser.parse(UnsafeRawBufferPointer(rebasing: $0[offset...]))
        }) {
            values.append(value)
            offset += consumed
        }
        #expect(values == [.simpleString("a"), .integer(1), .bulkString([120])])
        #expect(offset == input.count)
    }

    @Test func largeBulkInChunksIsNotRescanned() {
        let body = [UInt8](repeating: 7, count: 100_000)
        let input = Array("$100000\r\n".utf8) + body + [13, 10]
        var parser = RESPValueParser()
        var buffer: [UInt8] = []
        var outcomes: [RESPValueParser.Outcome] = []
        for chunkStart in stride(from: 0, to: input.count, by: 1000) {
            buffer += input[chunkStart..<min(input.count, chunkStart + 1000)]
            outcomes.append(buffer.withUnsafeBytes { parser.parse($0) })
        }
        #expect(outcomes.dropLast().allSatisfy { $0 == .needMoreData })
        #expect(outcomes.last == .value(.bulkString(body), consumed: input.count))
    }
}
