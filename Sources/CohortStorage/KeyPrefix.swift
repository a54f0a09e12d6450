/// The first 16 bytes of a key, zero-padded, as two big-endian words. Comparing prefixes
/// orders keys exactly as byte-wise comparison does whenever the prefixes differ (a key that
/// ends inside the prefix pads with zeros, which sort first, as a shorter key does), so the
/// B-tree's binary searches compare two integers per step and touch a key's bytes (with the
/// retain and release that costs) only when two keys share their first 16 bytes.
struct KeyPrefix: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    init(_ key: [UInt8]) {
        self = key.withUnsafeBufferPointer { KeyPrefix($0) }
    }

    /// The prefix of the key in `bytes`.
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        let count = min(bytes.count, 16)
        for position in 0..<count {
            let byte = UInt64(bytes[position])
            if position < 8 {
                high |= byte << (56 - 8 * UInt64(position))
            } else {
                low |= byte << (56 - 8 * UInt64(position - 8))
            }
        }
        self.high = high
        self.low = low
    }

    /// -1, 0 or 1 as `self` sorts before, with, or after `other`.
    @inline(__always)
    func compare(_ other: KeyPrefix) -> Int {
        if high != other.high { return high < other.high ? -1 : 1 }
        if low != other.low { return low < other.low ? -1 : 1 }
        return 0
    }
}
