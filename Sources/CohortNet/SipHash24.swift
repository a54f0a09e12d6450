/// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit pseudo-random function over
/// short inputs. The peer handshake uses it to prove knowledge of the cluster secret without
/// sending the secret. Written from the paper's description; checked against its test vector.
struct SipHash24 {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64

    private init(key0: UInt64, key1: UInt64) {
        v0 = key0 ^ 0x736F_6D65_7073_6575
        v1 = key1 ^ 0x646F_7261_6E64_6F6D
        v2 = key0 ^ 0x6C79_6765_6E65_7261
        v3 = key1 ^ 0x7465_6462_7974_6573
    }

    private mutating func round() {
        v0 &+= v1
        v1 = v1.rotatedLeft(13) ^ v0
        v0 = v0.rotatedLeft(32)
        v2 &+= v3
        v3 = v3.rotatedLeft(16) ^ v2
        v0 &+= v3
        v3 = v3.rotatedLeft(21) ^ v0
        v2 &+= v1
        v1 = v1.rotatedLeft(17) ^ v2
        v2 = v2.rotatedLeft(32)
    }

    private mutating func compress(_ word: UInt64) {
        v3 ^= word
        round()
        round()
        v0 ^= word
    }

    /// The 64-bit SipHash-2-4 of `message` under the 128-bit key `(key0, key1)` (each half
    /// read little-endian from the key's bytes, as in the paper).
    static func hash(key0: UInt64, key1: UInt64, _ message: [UInt8]) -> UInt64 {
        var state = SipHash24(key0: key0, key1: key1)
        let wholeWords = message.count / 8
        for wordIndex in 0..<wholeWords {
            var word: UInt64 = 0
            for byteIndex in 0..<8 {
                word |= UInt64(message[wordIndex * 8 + byteIndex]) << UInt64(8 * byteIndex)
            }
            state.compress(word)
        }
        var last = UInt64(truncatingIfNeeded: message.count) << 56
        for byteIndex in 0..<(message.count % 8) {
            last |= UInt64(message[wholeWords * 8 + byteIndex]) << UInt64(8 * byteIndex)
        }
        state.compress(last)
        state.v2 ^= 0xFF
        for _ in 0..<4 {
            state.round()
        }
        return state.v0 ^ state.v1 ^ state.v2 ^ state.v3
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}
