import CohortCore
import Testing

private func wire(_ value: RESPValue, _ version: RESPVersion) -> String {
    String(decoding: value.encoded(version: version), as: UTF8.self)
}

@Suite struct RESPEncoderTests {
    @Test func valuesCommonToBothVersions() {
        for version in [RESPVersion.resp2, .resp3] {
            #expect(wire(.ok, version) == "+OK\r\n")
            #expect(wire(.simpleString("PONG"), version) == "+PONG\r\n")
            #expect(wire(.error("ERR bad"), version) == "-ERR bad\r\n")
            #expect(wire(.integer(0), version) == ":0\r\n")
            #expect(wire(.integer(-42), version) == ":-42\r\n")
            #expect(wire(.integer(.max), version) == ":9223372036854775807\r\n")
            #expect(wire(.integer(.min), version) == ":-9223372036854775808\r\n")
            #expect(wire(.bulkString(Array("hello".utf8)), version) == "$5\r\nhello\r\n")
            #expect(wire(.bulkString([]), version) == "$0\r\n\r\n")
            #expect(
                wire(.array([.integer(1), .bulkString([97])]), version) == "*2\r\n:1\r\n$1\r\na\r\n"
            )
            #expect(wire(.array([]), version) == "*0\r\n")
        }
    }

    @Test func resp3Values() {
        #expect(wire(.null, .resp3) == "_\r\n")
        #expect(wire(.nullArray, .resp3) == "_\r\n")
        #expect(wire(.map([(.simpleString("a"), .integer(1))]), .resp3) == "%1\r\n+a\r\n:1\r\n")
        #expect(wire(.set([.integer(1), .integer(2)]), .resp3) == "~2\r\n:1\r\n:2\r\n")
        #expect(wire(.double(1.5), .resp3) == ",1.5\r\n")
        #expect(wire(.double(.infinity), .resp3) == ",inf\r\n")
        #expect(wire(.double(-.infinity), .resp3) == ",-inf\r\n")
        #expect(wire(.double(.nan), .resp3) == ",nan\r\n")
        #expect(wire(.boolean(true), .resp3) == "#t\r\n")
        #expect(wire(.boolean(false), .resp3) == "#f\r\n")
        #expect(
            wire(.verbatim(format: "txt", text: "Some string"), .resp3)
                == "=15\r\ntxt:Some string\r\n")
        #expect(
            wire(.bigNumber("-123456789012345678901234567890"), .resp3)
                == "(-123456789012345678901234567890\r\n")
        #expect(
            wire(.push([.bulkString(Array("message".utf8))]), .resp3) == ">1\r\n$7\r\nmessage\r\n")
    }

    @Test func resp2DownConversion() {
        #expect(wire(.null, .resp2) == "$-1\r\n")
        #expect(wire(.nullArray, .resp2) == "*-1\r\n")
        #expect(wire(.map([(.simpleString("a"), .integer(1))]), .resp2) == "*2\r\n+a\r\n:1\r\n")
        #expect(wire(.set([.integer(1)]), .resp2) == "*1\r\n:1\r\n")
        #expect(wire(.double(1.5), .resp2) == "$3\r\n1.5\r\n")
        #expect(wire(.double(-.infinity), .resp2) == "$4\r\n-inf\r\n")
        #expect(wire(.boolean(true), .resp2) == ":1\r\n")
        #expect(wire(.boolean(false), .resp2) == ":0\r\n")
        #expect(
            wire(.verbatim(format: "txt", text: "Some string"), .resp2) == "$11\r\nSome string\r\n")
        #expect(
            wire(.bigNumber("12345678901234567890"), .resp2) == "$20\r\n12345678901234567890\r\n")
        #expect(wire(.push([.integer(7)]), .resp2) == "*1\r\n:7\r\n")
        #expect(
            wire(.map([(.bulkString([107]), .map([(.integer(1), .null)]))]), .resp2)
                == "*2\r\n$1\r\nk\r\n*2\r\n:1\r\n$-1\r\n")
    }

    @Test func lineBreaksInStatusAndErrorLinesBecomeSpaces() {
        #expect(wire(.error("ERR a\r\nb"), .resp2) == "-ERR a  b\r\n")
        #expect(wire(.simpleString("x\ny"), .resp3) == "+x y\r\n")
    }

    @Test func pieceByPieceEncodingMatchesValues() {
        var sink: [UInt8] = []
        RESPEncoder.writeArrayHeader(count: 3, into: &sink)
        RESPEncoder.writeInteger(12345, into: &sink)
        Array("value".utf8).withUnsafeBytes { RESPEncoder.writeBulkString($0, into: &sink) }
        RESPEncoder.writeNull(version: .resp2, into: &sink)
        RESPEncoder.writeOK(into: &sink)
        RESPEncoder.writePong(into: &sink)
        RESPEncoder.writeMapHeader(count: 2, version: .resp2, into: &sink)
        RESPEncoder.writeNullArray(version: .resp3, into: &sink)
        let expected =
            RESPValue.array([.integer(12345), .bulkString(Array("value".utf8)), .null]).encoded(
                version: .resp2)
            + Array("+OK\r\n+PONG\r\n*4\r\n_\r\n".utf8)
        #expect(sink == expected)
    }

    @Test func integersMatchTheirDecimalText() {
        var values: [Int64] = [0, 1, 9, 10, 99, 100, -1, -9, -10, .max, .min, .max - 1, .min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -power]
        }
        for value in values {
            #expect(wire(.integer(value), .resp2) == ":\(value)\r\n")
        }
    }
}
