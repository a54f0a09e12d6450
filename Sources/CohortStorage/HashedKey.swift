import Glibc

/// A key as a dictionary key. `[UInt8]`'s own `Hashable` feeds the hasher one byte at a time;
/// this hashes the bytes in one call and compares them with `memcmp`, which matters on paths
/// that look a key up on every request.
struct HashedKey: Hashable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    @inline(__always)
    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    @inline(__always)
    static func == (lhs: HashedKey, rhs: HashedKey) -> Bool {
        lhs.bytes.count == rhs.bytes.count && OrderedIndex.compare(lhs.bytes, rhs.bytes) == 0
    }
}
