/// Parses client requests, as Redis does: multibulk arrays of bulk strings
/// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline commands (`SET a "b c"\r\n`).
///
/// The parser is incremental. The caller passes its whole unconsumed input each time (the
/// bytes after its reader index) and advances its reader index by the `consumed` count of a
/// `.command` or `.ignored` outcome. After `.needMoreData`, the next call must pass the same
/// bytes followed by more: the parser keeps the arguments it has already copied and the offset
/// where it stopped, so a large bulk string arriving in many chunks is neither rescanned nor
/// recopied, and each call while its body is incomplete costs O(1).
///
/// Behaviour follows Redis's `processMultibulkBuffer` and `processInlineBuffer`, including
/// their error messages. Where Redis's result depends on how the input was split into reads
/// (a line longer than the inline limit that happens to arrive whole), this parser always
/// rejects it, so the outcome depends only on the bytes. After `.protocolError` the caller
/// should send the error and close the connection, as Redis does; the parser resets itself.
public struct RESPRequestParser: Sendable {
    /// The result of one `parse` call.
    public enum Outcome: Sendable, Equatable {
        /// A complete command. Advance the input by `consumed` bytes, which includes any empty
        /// lines that preceded it.
        case command(arguments: [[UInt8]], consumed: Int)
        /// Only bytes that carry no command (empty lines, `*0`, `*-1`) were complete, followed
        /// by an incomplete command or nothing. Advance the input by `consumed` bytes and call
        /// again when more bytes arrive.
        case ignored(consumed: Int)
        /// The input holds no complete command yet.
        case needMoreData
        /// The input is not a valid request; the message is Redis's, e.g.
        /// `Protocol error: invalid multibulk length`.
        case protocolError(String)
    }

    /// What `parseCommands` did with a buffer of pipelined commands.
    public struct BatchOutcome: Sendable, Equatable {
        /// Bytes to advance the input by.
        public var consumed: Int
        /// Commands handed to the closure.
        public var commandCount: Int
        /// The protocol error that stopped parsing, if any.
        public var protocolError: String?

        /// An outcome with the given counts.
        public init(consumed: Int, commandCount: Int, protocolError: String?) {
            self.consumed = consumed
            self.commandCount = commandCount
            self.protocolError = protocolError
        }
    }

    /// Where the parser is inside the current command.
    enum State: Sendable {
        /// Between commands.
        case commandStart
        /// Inside an inline command line.
        case inline
        /// Inside the `*<count>` line.
        case multibulkCount
        /// Expecting a `$<length>` line; `remaining` bulk strings are still to come.
        case bulkLength(remaining: Int)
        /// Expecting `length` bytes of a bulk string and its CRLF.
        case bulkBody(length: Int, remaining: Int)
    }

    /// The bounds this parser enforces.
    public let limits: RESPLimits
    private var state: State = .commandStart
    /// Arguments of the current command parsed so far.
    private var arguments: [[UInt8]] = []
    /// Offset in the caller's input where the current command starts; bytes before it were
    /// empty lines that `.ignored` has not yet reported.
    private var commandStart = 0
    /// Offset where the element being parsed (a line or a bulk body) starts.
    private var position = 0
    /// Offset from which the search for the current line's terminator resumes.
    private var scanPosition = 0

    /// How many arguments to reserve room for up front, whatever count a client announces:
    /// a hostile `*1048576` must not allocate before its arguments arrive.
    static let argumentsReservedMax = 64

    /// A parser with the given limits.
    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// Parses the next command from `bytes`, the caller's unconsumed input.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        if bytes.count < scanPosition || bytes.count < position {
            // The caller broke the contract (the input shrank); start over rather than trap.
            reset()
        }
        while true {
            switch state {
            case .commandStart:
                if position == bytes.count { return incomplete() }
                commandStart = position
                if bytes[position] == UInt8(ascii: "*") {
                    state = .multibulkCount
                    scanPosition = position + 1
                } else {
                    state = .inline
                    scanPosition = position
                }

            case .inline:
                // The line may not exceed the limit whether or not its end has arrived.
                let windowEnd = min(bytes.count, position + limits.inlineBytesMax + 1)
                guard
                    let newline = RESPScanning.firstIndex(
                        of: UInt8(ascii: "\n"), in: bytes, from: scanPosition, to: windowEnd)
                else {
                    if bytes.count - position > limits.inlineBytesMax {
                        return fail("Protocol error: too big inline request")
                    }
                    scanPosition = bytes.count
                    return incomplete()
                }
                var lineEnd = newline
                if lineEnd > position && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                guard
                    let inlineArguments = RESPInlineSplitter.split(
                        bytes, from: position, to: lineEnd)
                else {
                    return fail("Protocol error: unbalanced quotes in request")
                }
                position = newline + 1
                if inlineArguments.isEmpty {
                    state = .commandStart
                } else {
                    return complete(inlineArguments)
                }

            case .multibulkCount:
                let lineEnd: Int
                switch findLineEnd(bytes) {
                case .found(let end): lineEnd = end
                case .incomplete: return incomplete()
                case .tooLong: return fail("Protocol error: too big mult bulk count string")
                }
                guard
                    let count = RESPScanning.parseInteger(bytes, from: position + 1, to: lineEnd),
                    count <= Int64(limits.arrayCountMax)
                else {
                    return fail("Protocol error: invalid multibulk length")
                }
                // Redis skips the byte after '\r' without checking that it is '\n'.
                position = lineEnd + 2
                if count <= 0 {
                    state = .commandStart
                } else {
                    arguments.reserveCapacity(min(Int(count), Self.argumentsReservedMax))
                    state = .bulkLength(remaining: Int(count))
                    scanPosition = position
                }

            case .bulkLength(let remaining):
                let lineEnd: Int
                switch findLineEnd(bytes) {
                case .found(let end): lineEnd = end
                case .incomplete: return incomplete()
                case .tooLong: return fail("Protocol error: too big bulk count string")
                }
                let marker = bytes[position]
                guard marker == UInt8(ascii: "$") else {
                    return fail(
                        "Protocol error: expected '$', got '\(RESPScanning.printable(marker))'")
                }
                guard
                    let length = RESPScanning.parseInteger(bytes, from: position + 1, to: lineEnd),
                    length >= 0, length <= Int64(limits.bulkBytesMax)
                else {
                    return fail("Protocol error: invalid bulk length")
                }
                position = lineEnd + 2
                state = .bulkBody(length: Int(length), remaining: remaining)

            case .bulkBody(let length, let remaining):
                // Redis skips the two bytes after the body without checking that they are CRLF.
                guard bytes.count - position >= length + 2 else { return incomplete() }
                arguments.append(RESPScanning.copy(bytes, from: position, to: position + length))
                position += length + 2
                if remaining == 1 {
                    let finished = arguments
                    arguments = []
                    return complete(finished)
                }
                state = .bulkLength(remaining: remaining - 1)
                scanPosition = position
            }
        }
    }

    /// Parses up to `commandsMax` pipelined commands from `bytes` and hands each to `handle`,
    /// stopping at the first incomplete command or protocol error. Advance the input by the
    /// outcome's `consumed`.
    public mutating func parseCommands(
        _ bytes: UnsafeRawBufferPointer,
        commandsMax: Int,
        _ handle: ([[UInt8]]) throws -> Void
    ) rethrows -> BatchOutcome {
        var outcome = BatchOutcome(consumed: 0, commandCount: 0, protocolError: nil)
        while outcome.commandCount < commandsMax {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[outcome.consumed...])
            switch parse(rest) {
            case .command(let arguments, let consumed):
                outcome.consumed += consumed
                outcome.commandCount += 1
                try handle(arguments)
            case .ignored(let consumed):
                outcome.consumed += consumed
                return outcome
            case .needMoreData:
                return outcome
            case .protocolError(let message):
                outcome.protocolError = message
                return outcome
            }
        }
        return outcome
    }

    /// Forgets any partly parsed command, e.g. when the caller discards its input.
    public mutating func reset() {
        state = .commandStart
        arguments = []
        commandStart = 0
        position = 0
        scanPosition = 0
    }

    // MARK: - Private

    private enum LineEnd {
        case found(Int)
        case incomplete
        case tooLong
    }

    /// Finds the '\r' ending the line that starts at `position`, with one more byte after it
    /// (Redis's condition), resuming the search where the last call stopped.
    private mutating func findLineEnd(_ bytes: UnsafeRawBufferPointer) -> LineEnd {
        let windowEnd = min(bytes.count, position + limits.inlineBytesMax + 1)
        guard
            let carriageReturn = RESPScanning.firstIndex(
                of: UInt8(ascii: "\r"), in: bytes, from: scanPosition, to: windowEnd)
        else {
            if bytes.count - position > limits.inlineBytesMax { return .tooLong }
            scanPosition = bytes.count
            return .incomplete
        }
        if carriageReturn + 1 >= bytes.count {
            scanPosition = carriageReturn
            return .incomplete
        }
        return .found(carriageReturn)
    }

    private mutating func complete(_ finished: [[UInt8]]) -> Outcome {
        let consumed = position
        state = .commandStart
        arguments = []
        commandStart = 0
        position = 0
        scanPosition = 0
        return .command(arguments: finished, consumed: consumed)
    }

    /// Reports an incomplete command, first handing back any skipped empty lines before it so
    /// that the caller's buffer cannot fill up with them.
    private mutating func incomplete() -> Outcome {
        let skipped: Int
        if case .commandStart = state { skipped = position } else { skipped = commandStart }
        guard skipped > 0 else { return .needMoreData }
        commandStart = 0
        position -= skipped
        scanPosition = max(0, scanPosition - skipped)
        return .ignored(consumed: skipped)
    }

    private mutating func fail(_ message: String) -> Outcome {
        reset()
        return .protocolError(message)
    }
}
