/// Comparing a command's words (RESP arguments) with the names the code knows.
public enum CommandWord {
    /// Whether `argument` is `name` (ASCII, compared case-insensitively) without copying or
    /// allocating: the cluster path asks this of commands on every request.
    @inlinable
    public static func matches(_ argument: [UInt8], _ name: StaticString) -> Bool {
        guard argument.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { expected in
            for index in 0..<expected.count {
                var byte = argument[index]
                if byte >= 97 && byte <= 122 { byte -= 32 }
                if byte != expected[index] { return false }
            }
            return true
        }
    }
}
