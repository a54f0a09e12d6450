/// Redis-style glob matching on bytes, as used by SCAN MATCH, KEYS and CONFIG GET:
/// `*` any run, `?` one byte, `[abc]`, `[^a]`, `[a-z]` classes, and `\` escapes.
public struct GlobPattern: Sendable {
    public let pattern: [UInt8]

    public init(_ pattern: [UInt8]) { self.pattern = pattern }

    /// True when the pattern is `*`, so callers can skip matching entirely.
    public var matchesEverything: Bool { pattern == [UInt8(ascii: "*")] }

    /// Whether `subject` matches the pattern. Iterative, remembering only the most recent
    /// `*`: a later star subsumes every earlier one, so backtracking to it alone is enough, and
    /// the work is bounded by pattern length × subject length even for hostile patterns.
    public func matches(_ subject: [UInt8]) -> Bool {
        var p = 0
        var s = 0
        var starPattern = -1
        var starSubject = 0
        while s < subject.count {
            if p < pattern.count && pattern[p] == UInt8(ascii: "*") {
                while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
                if p == pattern.count { return true }
                starPattern = p
                starSubject = s
                continue
            }
            if p < pattern.count, let next = matchOne(at: p, byte: subject[s]) {
                p = next
                s += 1
                continue
            }
            guard starPattern >= 0 else { return false }
            // Let the last star swallow one more byte and retry from just after it.
            starSubject += 1
            s = starSubject
            p = starPattern
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// If the single-byte token at `p` (a literal, `?`, an escape or a class) matches `byte`,
    /// the index just past the token; otherwise nil.
    private func matchOne(at start: Int, byte: UInt8) -> Int? {
        var p = start
        switch pattern[p] {
        case UInt8(ascii: "?"):
            return p + 1
        case UInt8(ascii: "\\") where p + 1 < pattern.count:
            return pattern[p + 1] == byte ? p + 2 : nil
        case UInt8(ascii: "["):
            p += 1
            let negate = p < pattern.count && pattern[p] == UInt8(ascii: "^")
            if negate { p += 1 }
            var matched = false
            while p < pattern.count && pattern[p] != UInt8(ascii: "]") {
                if pattern[p] == UInt8(ascii: "\\") && p + 1 < pattern.count {
                    p += 1
                    if pattern[p] == byte { matched = true }
                } else if p + 2 < pattern.count && pattern[p + 1] == UInt8(ascii: "-")
                    && pattern[p + 2] != UInt8(ascii: "]")
                {
                    let low = min(pattern[p], pattern[p + 2])
                    let high = max(pattern[p], pattern[p + 2])
                    if byte >= low && byte <= high { matched = true }
                    p += 2
                } else if pattern[p] == byte {
                    matched = true
                }
                p += 1
            }
            if negate { matched.toggle() }
            // An unterminated class ends the pattern, as in Redis.
            return matched ? min(p + 1, pattern.count) : nil
        default:
            return pattern[p] == byte ? p + 1 : nil
        }
    }
}
