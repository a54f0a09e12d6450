import CohortCore
import Testing

/// CohortCore's SplitMix64 with the helpers these tests use, so that inputs depend on
/// nothing but their seeds.
private struct SeededGenerator: RandomNumberGenerator {
    private var generator: SplitMix64

    init(state: UInt64) { generator = SplitMix64(seed: state) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    mutating func bytes(countMax: Int, alphabet: [UInt8]? = nil) -> [UInt8] {
        let count = below(countMax + 1)
        return (0..<count).map { _ in
            if let alphabet { return alphabet[below(alphabet.count)] }
            return UInt8(truncatingIfNeeded: next())
        }
    }
}

/// A command and one way of writing it on the wire.
private struct GeneratedCommand {
    var arguments: [[UInt8]]
    var wire: [UInt8]
}

private let wordAlphabet = Array("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_:.".utf8)

private func randomCommand(_ random: inout SeededGenerator) -> GeneratedCommand {
    let argumentCount = 1 + random.below(5)
    let useInline = random.below(3) == 0
    var arguments: [[UInt8]] = []
    var wire: [UInt8] = []
    // Empty lines before a command are legal and skipped.
    for _ in 0..<random.below(2) { wire += Array("\r\n".utf8) }
    if useInline {
        for index in 0..<argumentCount {
            var argument: [UInt8]
            if random.below(2) == 0 {
                argument = random.bytes(countMax: 12, alphabet: wordAlphabet)
                if argument.isEmpty { argument = [UInt8(ascii: "x")] }
                wire += argument
            } else {
                // Any bytes, written in double quotes with hex escapes.
                argument = random.bytes(countMax: 12)
                wire.append(UInt8(ascii: "\""))
                for byte in argument {
                    if wordAlphabet.contains(byte) {
                        wire.append(byte)
                    } else {
                        let hex = Array("0123456789abcdef".utf8)
                        wire += [
                            UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)],
                            hex[Int(byte & 15)],
                        ]
                    }
                }
                wire.append(UInt8(ascii: "\""))
            }
            arguments.append(argument)
            wire +=
                index == argumentCount - 1
                ? [] : Array(String(repeating: " ", count: 1 + random.below(2)).utf8)
        }
        wire += random.below(2) == 0 ? Array("\r\n".utf8) : Array("\n".utf8)
    } else {
        wire += Array("*\(argumentCount)\r\n".utf8)
        for _ in 0..<argumentCount {
            let argument = random.bytes(countMax: random.below(10) == 0 ? 3000 : 20)
            arguments.append(argument)
            wire += Array("$\(argument.count)\r\n".utf8) + argument + Array("\r\n".utf8)
        }
    }
    return GeneratedCommand(arguments: arguments, wire: wire)
}

/// Feeds `input` the way a network decoder would: appends chunks to a buffer, parses after each,
/// and drops what the parser consumed. Returns the commands and the error that ended parsing.
private func feedRequests(_ input: [UInt8], chunkSizeMax: Int, random: inout SeededGenerator)
    -> (commands: [[[UInt8]]], error: String?)
{
    var parser = RESPRequestParser()
    var buffer: [UInt8] = []
    var fed = 0
    var commands: [[[UInt8]]] = []
    while true {
        parsing: while true {
            switch buffer.withUnsafeBytes({ parser.parse($0) }) {
            case .command(let arguments, let consumed):
                commands.append(arguments)
                buffer.removeFirst(consumed)
            case .ignored(let consumed):
                buffer.removeFirst(consumed)
            case .needMoreData:
                break parsing
            case .protocolError(let message):
                return (commands, message)
            }
        }
        if fed == input.count { return (commands, nil) }
        let chunk = min(input.count - fed, 1 + random.below(chunkSizeMax))
        buffer += input[fed..<(fed + chunk)]
        fed += chunk
    }
}

/// Feeds `input` to a value parser in chunks and collects the values.
private func feedValues(_ input: [UInt8], chunkSizeMax: Int, random: inout SeededGenerator)
    -> (values: [RESPValue], error: String?)
{
    var parser = RESPValueParser()
    var buffer: [UInt8] = []
    var fed = 0
    var values: [RESPValue] = []
    while true {
        parsing: while true {
            switch buffer.withUnsafeBytes({ parser.parse($0) }) {
            case .value(let value, let consumed):
                values.append(value)
                buffer.removeFirst(consumed)
            case .needMoreData:
                break parsing
            case .protocolError(let message):
                return (values, message)
            }
        }
        if fed == input.count { return (values, nil) }
        let chunk = min(input.count - fed, 1 + random.below(chunkSizeMax))
        buffer += input[fed..<(fed + chunk)]
        fed += chunk
    }
}

private func randomValue(_ random: inout SeededGenerator, depth: Int = 0) -> RESPValue {
    let kinds = depth >= 3 ? 10 : 14
    switch random.below(kinds) {
    case 0:
        return .simpleString(
            String(decoding: random.bytes(countMax: 10, alphabet: wordAlphabet), as: UTF8.self))
    case 1:
        return .error(
            "ERR "
                + String(
                    decoding: random.bytes(countMax: 10, alphabet: wordAlphabet), as: UTF8.self))
    case 2: return .integer(Int64(bitPattern: random.next()) >> random.below(64))
    case 3: return .bulkString(random.bytes(countMax: random.below(8) == 0 ? 2000 : 16))
    case 4: return random.below(2) == 0 ? .null : .nullArray
    case 5:
        let special: [Double] = [
            0, -0.5, 1e300, -1e-300, .infinity, -.infinity, .nan, 3.141592653589793,
        ]
        return .double(
            random.below(2) == 0
                ? special[random.below(special.count)] : Double(bitPattern: random.next() >> 2))
    case 6: return .boolean(random.below(2) == 0)
    case 7:
        let formats = ["txt", "mkd"]
        return .verbatim(
            format: formats[random.below(2)],
            text: String(decoding: random.bytes(countMax: 30), as: UTF8.self))
    case 8:
        let digits = random.bytes(countMax: 40, alphabet: Array("0123456789".utf8))
        return .bigNumber(
            (random.below(2) == 0 ? "-" : "") + "1" + String(decoding: digits, as: UTF8.self))
    case 9: return .bulkString([])
    case 10:
        return .array((0..<random.below(5)).map { _ in randomValue(&random, depth: depth + 1) })
    case 11: return .set((0..<random.below(5)).map { _ in randomValue(&random, depth: depth + 1) })
    case 12: return .push((0..<random.below(5)).map { _ in randomValue(&random, depth: depth + 1) })
    default:
        return .map(
            (0..<random.below(4)).map { _ in
                (randomValue(&random, depth: depth + 1), randomValue(&random, depth: depth + 1))
            })
    }
}

/// What a RESP3 client reads back: RESP3 has a single null.
private func resp3Normalized(_ value: RESPValue) -> RESPValue {
    switch value {
    case .nullArray: return .null
    case .array(let elements): return .array(elements.map(resp3Normalized))
    case .set(let elements): return .set(elements.map(resp3Normalized))
    case .push(let elements): return .push(elements.map(resp3Normalized))
    case .map(let pairs): return .map(pairs.map { (resp3Normalized($0.0), resp3Normalized($0.1)) })
    default: return value
    }
}

/// What a RESP2 client reads back after the encoder down-converts `value`.
private func downConverted(_ value: RESPValue) -> RESPValue {
    func text(_ string: String) -> RESPValue { .bulkString(Array(string.utf8)) }
    switch value {
    case .array(let elements), .set(let elements), .push(let elements):
        return .array(elements.map(downConverted))
    case .map(let pairs):
        return .array(pairs.flatMap { [downConverted($0.0), downConverted($0.1)] })
    case .double(let number):
        if number.isNaN { return text("nan") }
        if number.isInfinite { return text(number < 0 ? "-inf" : "inf") }
        // Whole numbers without a fraction, as Redis writes them.
        let written = number.description
        return text(written.hasSuffix(".0") ? String(written.dropLast(2)) : written)
    case .boolean(let flag): return .integer(flag ? 1 : 0)
    case .verbatim(_, let body): return text(body)
    case .bigNumber(let digits): return text(digits)
    default: return value
    }
}

@Suite struct RESPPropertyTests {
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func requestsParseTheSameWhateverTheChunking(seed: UInt64) {
        var random = SeededGenerator(state: seed)
        let commands = (0..<60).map { _ in randomCommand(&random) }
        let input = commands.flatMap(\.wire)
        let expected = commands.map(\.arguments)
        let whole = feedRequests(input, chunkSizeMax: input.count, random: &random)
        #expect(whole.error == nil)
        #expect(whole.commands == expected)
        let byteByByte = feedRequests(input, chunkSizeMax: 1, random: &random)
        #expect(byteByByte.error == nil)
        #expect(byteByByte.commands == expected)
        let chunked = feedRequests(input, chunkSizeMax: 50, random: &random)
        #expect(chunked.commands == expected)
    }

    @Test(arguments: [11, 12, 13, 14, 15, 16] as [UInt64])
    func valuesRoundTripThroughTheEncoder(seed: UInt64) {
        var random = SeededGenerator(state: seed)
        let values = (0..<60).map { _ in randomValue(&random) }
        let resp3 = values.flatMap { $0.encoded(version: .resp3) }
        let resp2 = values.flatMap { $0.encoded(version: .resp2) }
        let whole3 = feedValues(resp3, chunkSizeMax: resp3.count, random: &random)
        #expect(whole3.error == nil)
        let expected3 = values.map(resp3Normalized)
        #expect(whole3.values == expected3)
        let byteByByte3 = feedValues(resp3, chunkSizeMax: 1, random: &random)
        #expect(byteByByte3.values == expected3)
        let chunked2 = feedValues(resp2, chunkSizeMax: 40, random: &random)
        #expect(chunked2.error == nil)
        #expect(chunked2.values == values.map(downConverted))
    }

    @Test func randomBytesNeverTrapAndDoNotDependOnChunking() {
        var random = SeededGenerator(state: 99)
        let alphabet = Array("*$+-:_,#!=(%~>|\r\n0123456789-?ab \"'\\x".utf8)
        for _ in 0..<400 {
            let input = random.bytes(countMax: 80, alphabet: random.below(2) == 0 ? alphabet : nil)
            let wholeRequests = feedRequests(input, chunkSizeMax: input.count + 1, random: &random)
            let splitRequests = feedRequests(input, chunkSizeMax: 3, random: &random)
            #expect(wholeRequests.commands == splitRequests.commands)
            #expect(wholeRequests.error == splitRequests.error)
            let wholeValues = feedValues(input, chunkSizeMax: input.count + 1, random: &random)
            let splitValues = feedValues(input, chunkSizeMax: 3, random: &random)
            #expect(wholeValues.values == splitValues.values)
            #expect(wholeValues.error == splitValues.error)
        }
    }

    @Test func mutatedEncodingsNeverTrap() {
        var random = SeededGenerator(state: 7)
        var outcomes = 0
        for _ in 0..<300 {
            var input = randomValue(&random).encoded(version: .resp3)
            for _ in 0..<(1 + random.below(3)) where !input.isEmpty {
                input[random.below(input.count)] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.below(2) == 0 { input = Array(input.prefix(random.below(input.count + 1))) }
            let whole = feedValues(input, chunkSizeMax: input.count + 1, random: &random)
            let split = feedValues(input, chunkSizeMax: 2, random: &random)
            #expect(whole.values == split.values)
            #expect(whole.error == split.error)
            let requests = feedRequests(input, chunkSizeMax: input.count + 1, random: &random)
            let splitRequests = feedRequests(input, chunkSizeMax: 2, random: &random)
            #expect(requests.commands == splitRequests.commands)
            #expect(requests.error == splitRequests.error)
            outcomes += 1
        }
        #expect(outcomes == 300)
    }
}
