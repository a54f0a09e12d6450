import CohortCore
import Testing

/// The arguments of one inline line, or its error message.
private func split(_ line: String) -> Result<[String], RESPInlineError> {
    var parser = RESPRequestParser()
    let input = Array((line + "\r\n").utf8)
    switch input.withUnsafeBytes({ parser.parse($0) }) {
    case .command(let arguments, _):
        return .success(arguments.map { String(decoding: $0, as: UTF8.self) })
    case .protocolError(let message):
        return .failure(RESPInlineError(message: message))
    case .ignored:
        return .success([])
    case .needMoreData:
        return .failure(RESPInlineError(message: "need more data"))
    }
}

private struct RESPInlineError: Error, Equatable {
    var message: String
}

private let unbalanced = Result<[String], RESPInlineError>.failure(
    RESPInlineError(message: "Protocol error: unbalanced quotes in request"))

/// Redis's `sdssplitargs` rules, case by case.
@Suite struct RESPRequestParserInlineTests {
    @Test func plainWords() {
        #expect(split("SET key value") == .success(["SET", "key", "value"]))
        #expect(split("   ") == .success([]))
        #expect(split("a\u{0B}b") == .success(["a\u{0B}b"]))
    }

    @Test func doubleQuotes() {
        #expect(split(#"SET a "b c""#) == .success(["SET", "a", "b c"]))
        #expect(split(#"SET "" x"#) == .success(["SET", "", "x"]))
        #expect(split(#""\x41\x62\n\r\t\\\"\q""#) == .success(["Ab\n\r\t\\\"q"]))
        #expect(split(#""\x4""#) == .success(["x4"]))
        #expect(split(#""\xZZ""#) == .success(["xZZ"]))
        #expect(split(#""\a\b""#) == .success(["\u{07}\u{08}"]))
    }

    @Test func singleQuotes() {
        #expect(split(#"SET 'a b' 'it\'s'"#) == .success(["SET", "a b", "it's"]))
        #expect(split(#"'\n'"#) == .success([#"\n"#]))
        #expect(split("''") == .success([""]))
    }

    @Test func quotesMayStartInsideAWord() {
        #expect(split(#"a"b c""#) == .success(["ab c"]))
        #expect(split(#"x'y z'"#) == .success(["xy z"]))
    }

    @Test func unbalancedQuotesAreErrors() {
        #expect(split(#"SET a "b"#) == unbalanced)
        #expect(split(#"SET a 'b"#) == unbalanced)
        #expect(split(#""a"b"#) == unbalanced)
        #expect(split(#"'a'b"#) == unbalanced)
        #expect(split(#""a\""#) == unbalanced)
    }

    @Test func binaryBytesSurviveHexEscapes() {
        var parser = RESPRequestParser()
        let input = Array(#"SET k "\x00\xff\x0D\x0a""#.utf8) + [13, 10]
        let outcome = input.withUnsafeBytes { parser.parse($0) }
        #expect(
            outcome
                == .command(
                    arguments: [Array("SET".utf8), [107], [0, 255, 13, 10]], consumed: input.count))
    }

    @Test func nulByteEndsTheLineAsInRedis() {
        var parser = RESPRequestParser()
        let input: [UInt8] = Array("GET a".utf8) + [0] + Array(" b\r\n".utf8)
        let outcome = input.withUnsafeBytes { parser.parse($0) }
        #expect(outcome == .command(arguments: [Array("GET".utf8), [97]], consumed: input.count))
    }
}
