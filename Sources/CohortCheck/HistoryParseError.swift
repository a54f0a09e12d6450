/// Why a history text could not be parsed: the 1-based line number and a reason.
public struct HistoryParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line of the text where parsing failed (0 when not yet known).
    public var line: Int
    /// What was wrong.
    public var message: String

    /// Creates a parse error.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    /// `line N: message`.
    public var description: String { "line \(line): \(message)" }
}
