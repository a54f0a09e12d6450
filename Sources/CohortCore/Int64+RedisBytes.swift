extension Int64 {
    /// Parses bytes the way Redis does: an optional '-', digits, no '+', no spaces, no leading
    /// zeros (except "0" itself), within 64 bits. Nil otherwise.
    public init?(redisBytes bytes: [UInt8]) {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
            guard bytes.count > 1 else { return nil }
        }
        if bytes[index] == UInt8(ascii: "0") && bytes.count > index + 1 { return nil }
        if negative && bytes[index] == UInt8(ascii: "0") { return nil }
        var magnitude: UInt64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times, overflowTimes) = magnitude.multipliedReportingOverflow(by: 10)
            let (plus, overflowPlus) = times.addingReportingOverflow(UInt64(digit))
            guard !overflowTimes, !overflowPlus else { return nil }
            magnitude = plus
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            self = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        } else {
            guard magnitude <= UInt64(Int64.max) else { return nil }
            self = Int64(magnitude)
        }
    }

    /// The decimal ASCII bytes of the value.
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}
