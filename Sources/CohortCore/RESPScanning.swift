/// Byte-level helpers shared by the RESP parsers. Every function checks its bounds and reports
/// failure as `nil`; none can trap on any input.
enum RESPScanning {
    /// The index of the first `byte` in `bytes[start..<end]`, or nil.
    @inline(__always)
    static func firstIndex(
        of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Int? {
        var index = start
        while index < end {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Parses `bytes[start..<end]` as a decimal integer with Redis's `string2ll` rules: an
    /// optional '-', then digits without leading zeros ("0" alone is fine), no '+', no spaces,
    /// and no overflow of `Int64`.
    static func parseInteger(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int)
        -> Int64?
    {
        let length = end - start
        guard length > 0, length <= 20 else { return nil }
        var index = start
        if length == 1 && bytes[index] == UInt8(ascii: "0") { return 0 }
        let isNegative = bytes[index] == UInt8(ascii: "-")
        if isNegative {
            index += 1
            guard index < end else { return nil }
        }
        let first = bytes[index]
        guard first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") else { return nil }
        var magnitude: UInt64 = 0
        while index < end {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, overflowMultiply) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdd) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflowMultiply && !overflowAdd else { return nil }
            magnitude = sum
            index += 1
        }
        if isNegative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Copies `bytes[start..<end]` into a new array with one memcpy.
    @inline(__always)
    static func copy(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> [UInt8] {
        let count = end - start
        if count == 0 { return [] }
        // Initialising from a typed buffer is specialised here and ends in one memcpy; the
        // `unsafeUninitializedCapacity` initialiser goes through the standard library's generic
        // allocation path and a metadata lookup, which showed in profiles at 6% of a GET.
        let typed = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            .assumingMemoryBound(to: UInt8.self)
        return Array(typed)
    }

    /// A byte as it appears inside an error message: printable ASCII as itself, CR and LF as a
    /// space (what Redis's error sanitizing shows), anything else as '?'.
    static func printable(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
        if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { return " " }
        return "?"
    }
}
