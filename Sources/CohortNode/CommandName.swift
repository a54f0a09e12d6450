/// A command name folded to ASCII upper case and packed into two words. Looking a command up
/// by it (`CommandTable`) allocates nothing and mixes three integers, where a `[UInt8]` key
/// would need an upper-cased copy and a hash fed byte by byte; the lookup is on every
/// request's path.
struct CommandName: Hashable, Sendable {
    /// The longest name that packs; every command's name is shorter (checked at start-up).
    static let bytesMax = 16

    private var high: UInt64 = 0
    private var low: UInt64 = 0
    private var count: Int

    /// The packed name, or nil when `bytes` is longer than `bytesMax` (so names no command).
    init?(_ bytes: [UInt8]) {
        guard bytes.count <= Self.bytesMax else { return nil }
        count = bytes.count
        bytes.withUnsafeBufferPointer { name in
            for position in 0..<name.count {
                var byte = name[position]
                if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { byte -= 32 }
                let shift = UInt64(8 * (position % 8))
                if position < 8 {
                    high |= UInt64(byte) << shift
                } else {
                    low |= UInt64(byte) << shift
                }
            }
        }
    }

    /// The name's words folded into one, for `CommandTable`'s hash.
    @inline(__always)
    var mixed: UInt64 {
        high ^ (low &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(truncatingIfNeeded: count)
    }
}
