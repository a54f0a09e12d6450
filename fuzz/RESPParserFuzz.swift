// libFuzzer target for the RESP parsers. Built by fuzz/run.sh together with
// Sources/CohortCore/*.swift as one module, so CohortCore's types are in scope without an import.
//
// For every input it checks that:
// - neither parser traps (libFuzzer and AddressSanitizer report any crash);
// - feeding the input whole and split in two (at a point chosen from the input) gives the same
//   commands, values and errors;
// - every reported `consumed` is positive and within the input;
// - every parsed value re-encodes to bytes that parse back to a value with the same encoding.

/// Runs the request parser the way a network decoder does, over `chunks` of the input.
private func requestOutcomes(_ input: UnsafeRawBufferPointer, splitAt split: Int) -> [String] {
    var parser = RESPRequestParser()
    var buffer: [UInt8] = []
    var outcomes: [String] = []
    for chunk in [input[..<split], input[split...]] {
        buffer += chunk
        parsing: while true {
            switch buffer.withUnsafeBytes({ parser.parse($0) }) {
            case .command(let arguments, let consumed):
                precondition(
                    consumed > 0 && consumed <= buffer.count,
                    "consumed \(consumed) of \(buffer.count)")
                precondition(!arguments.isEmpty, "a command without arguments")
                outcomes.append("command \(arguments)")
                buffer.removeFirst(consumed)
            case .ignored(let consumed):
                precondition(
                    consumed > 0 && consumed <= buffer.count,
                    "ignored \(consumed) of \(buffer.count)")
                buffer.removeFirst(consumed)
            case .needMoreData:
                break parsing
            case .protocolError(let message):
                outcomes.append("error \(message)")
                return outcomes
            }
        }
    }
    return outcomes
}

/// Runs the value parser over the input split in two; returns the outcomes and the values.
private func valueOutcomes(_ input: UnsafeRawBufferPointer, splitAt split: Int) -> (
    [String], [RESPValue]
) {
    var parser = RESPValueParser()
    var buffer: [UInt8] = []
    var outcomes: [String] = []
    var values: [RESPValue] = []
    for chunk in [input[..<split], input[split...]] {
        buffer += chunk
        parsing: while true {
            switch buffer.withUnsafeBytes({ parser.parse($0) }) {
            case .value(let value, let consumed):
                precondition(
                    consumed > 0 && consumed <= buffer.count,
                    "consumed \(consumed) of \(buffer.count)")
                outcomes.append("value \(value.encoded(version: .resp3))")
                values.append(value)
                buffer.removeFirst(consumed)
            case .needMoreData:
                break parsing
            case .protocolError(let message):
                outcomes.append("error \(message)")
                return (outcomes, values)
            }
        }
    }
    return (outcomes, values)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // A split point that depends on the input, so the fuzzer explores it too.
    var split = 0
    for byte in input.prefix(8) { split = split &* 31 &+ Int(byte) }
    split = size == 0 ? 0 : Int(split.magnitude % UInt(size + 1))

    let wholeRequests = requestOutcomes(input, splitAt: size)
    let splitRequests = requestOutcomes(input, splitAt: split)
    precondition(wholeRequests == splitRequests, "request outcomes differ when split at \(split)")

    let (wholeValues, values) = valueOutcomes(input, splitAt: size)
    let (splitValues, _) = valueOutcomes(input, splitAt: split)
    precondition(wholeValues == splitValues, "value outcomes differ when split at \(split)")

    for value in values {
        for version in [RESPVersion.resp2, .resp3] {
            let encoded = value.encoded(version: version)
            var parser = RESPValueParser()
            guard
                case .value(let reparsed, let consumed) = encoded.withUnsafeBytes({
                    parser.parse($0)
                })
            else {
                preconditionFailure("re-encoded value does not parse: \(encoded)")
            }
            precondition(
                consumed == encoded.count,
                "re-encoded value consumed \(consumed) of \(encoded.count)")
            precondition(
                reparsed.encoded(version: version) == encoded,
                "re-encoding is not stable for \(value)")
        }
    }
    return 0
}
