/// A configuration file: a flat TOML subset of `key = value` lines. Values are bare words,
/// integers or double-quoted strings; `#` starts a comment; underscores in keys read as dashes
/// so that both `data-dir` and `data_dir` work.
public struct ConfigurationFile: Sendable, Equatable {
    /// Entries in file order. A key given twice keeps both; the later one wins when applied.
    public var entries: [(String, String)]

    public static func == (lhs: ConfigurationFile, rhs: ConfigurationFile) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0 == $1 }
    }

    /// Parses the text of a configuration file.
    public init(parsing text: String) throws(ConfigurationError) {
        var entries: [(String, String)] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Self.stripComment(Substring(rawLine)).trimmingSpaces()
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw .syntax(line: lineNumber, message: "expected 'key = value'")
            }
            let key = line[..<equals].trimmingSpaces().map { $0 == "_" ? "-" : $0 }
            var value = line[line.index(after: equals)...].trimmingSpaces()
            guard !key.isEmpty else { throw .syntax(line: lineNumber, message: "missing key") }
            if value.first == "\"" {
                guard value.count >= 2, value.last == "\"" else {
                    throw .syntax(line: lineNumber, message: "unterminated string")
                }
                value = String(value.dropFirst().dropLast())
            }
            entries.append((String(key), value))
        }
        self.entries = entries
    }

    /// Removes a `#` comment that is not inside a quoted string.
    private static func stripComment(_ line: Substring) -> Substring {
        var inString = false
        for index in line.indices {
            let character = line[index]
            if character == "\"" { inString.toggle() }
            if character == "#" && !inString { return line[..<index] }
        }
        return line
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }),
            let last = lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
