/// The cursor and the MATCH and COUNT options of SCAN and of the collection scans (HSCAN,
/// SSCAN, ZSCAN), parsed one way for all of them.
struct ScanArguments {
    /// The cursor the client sent; 0 starts a scan.
    let cursor: UInt64
    var pattern: GlobPattern?
    /// Entries examined per page (COUNT), at most 100,000.
    var count = 10

    /// Parses the cursor at `position` and the options after it. `other` handles an option
    /// that is not MATCH or COUNT (its upper-cased name, at `index`) and returns how many
    /// arguments it took; by default there is none.
    init(
        _ c: CommandContext, cursorAt position: Int,
        other: (_ option: String, _ index: Int) throws -> Int = { _, _ in
            throw CommandError.syntax
        }
    ) throws {
        guard let cursor = UInt64(String(decoding: c.arguments[position], as: UTF8.self)) else {
            throw CommandError("ERR invalid cursor")
        }
        self.cursor = cursor
        var index = position + 1
        while index < c.arguments.count {
            let option = c.option(index)
            switch option {
            case "MATCH", "COUNT":
                guard index + 1 < c.arguments.count else { throw CommandError.syntax }
                if option == "MATCH" {
                    pattern = GlobPattern(c.arguments[index + 1])
                } else {
                    let value = try c.integer(index + 1)
                    guard value >= 1 else { throw CommandError.syntax }
                    count = Int(min(value, 100_000))
                }
                index += 2
            default:
                index += try other(option, index)
            }
        }
    }

    /// The pattern as a filter; nil when every key matches.
    var matcher: (([UInt8]) -> Bool)? {
        guard let pattern, !pattern.matchesEverything else { return nil }
        return { pattern.matches($0) }
    }
}
