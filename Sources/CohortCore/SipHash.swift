/// SipHash (Aumasson and Bernstein, 2012): a keyed 64-bit pseudo-random function over short
/// inputs, with `c` compression rounds per 8-byte word and `d` finalization rounds. Cohort uses
/// two members of the family:
/// - SipHash-2-4, the paper's, where an attacker must not forge the output: the peer handshake
///   proves knowledge of the cluster secret with it, without sending the secret;
/// - SipHash-1-3, the lighter member hash tables use (Python's and Rust's do): the storage
///   engine's point table hashes keys with it under a per-process random key, so that clients,
///   who choose the keys, cannot make them collide on purpose.
///
/// Written from the paper's description; checked against its test vector (2-4) and against
/// CPython's hash of bytes, which is SipHash-1-3 (1-3).
public struct SipHash {
    private var v0: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64

    @inline(__always)
    private init(key0: UInt64, key1: UInt64) {
        v0 = key0 ^ 0x736F_6D65_7073_6575
        v1 = key1 ^ 0x646F_7261_6E64_6F6D
        v2 = key0 ^ 0x6C79_6765_6E65_7261
        v3 = key1 ^ 0x7465_6462_7974_6573
    }

    @inline(__always)
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

    @inline(__always)
    private static func hash(
        key0: UInt64, key1: UInt64, _ message: UnsafeRawBufferPointer,
        compressionRounds: Int, finalizationRounds: Int
    ) -> UInt64 {
        var state = SipHash(key0: key0, key1: key1)
        let wholeWords = message.count / 8
        for wordIndex in 0..<wholeWords {
            let word = message.loadUnaligned(fromByteOffset: wordIndex * 8, as: UInt64.self)
            state.compress(UInt64(littleEndian: word), rounds: compressionRounds)
        }
        var last = UInt64(truncatingIfNeeded: message.count) << 56
        for byteIndex in 0..<(message.count % 8) {
            last |= UInt64(message[wholeWords * 8 + byteIndex]) << UInt64(8 * byteIndex)
        }
        state.compress(last, rounds: compressionRounds)
        state.v2 ^= 0xFF
        for _ in 0..<finalizationRounds {
            state.round()
        }
        return state.v0 ^ state.v1 ^ state.v2 ^ state.v3
    }

    @inline(__always)
    private mutating func compress(_ word: UInt64, rounds: Int) {
        v3 ^= word
        for _ in 0..<rounds {
            round()
        }
        v0 ^= word
    }

    /// The 64-bit SipHash-2-4 of `message` under the 128-bit key `(key0, key1)` (each half
    /// read little-endian from the key's bytes, as in the paper).
    public static func hash24(key0: UInt64, key1: UInt64, _ message: [UInt8]) -> UInt64 {
        message.withUnsafeBytes {
            hash(key0: key0, key1: key1, $0, compressionRounds: 2, finalizationRounds: 4)
        }
    }

    /// The 64-bit SipHash-1-3 of `message` under the key `(key0, key1)`.
    public static func hash13(key0: UInt64, key1: UInt64, _ message: [UInt8]) -> UInt64 {
        message.withUnsafeBytes { hash13(key0: key0, key1: key1, $0) }
    }

    /// `hash13` of bytes in place.
    @inline(__always)
    public static func hash13(key0: UInt64, key1: UInt64, _ message: UnsafeRawBufferPointer)
        -> UInt64
    {
        hash(key0: key0, key1: key1, message, compressionRounds: 1, finalizationRounds: 3)
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}
