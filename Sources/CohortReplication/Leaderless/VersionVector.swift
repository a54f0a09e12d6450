import CohortCore

/// A version vector: for each replica, how many of its writes (dots 1...n) are in the causal
/// past. In a leaderless keyspace it is both an object's clock and the causal context a client
/// carries from a read to its next write.
///
/// Entries are kept sorted by replica and never hold a zero counter, so equal vectors are
/// equal values and encode to equal bytes.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// (replica, counter) pairs, sorted by replica, counters above zero.
    public private(set) var entries: [(replica: NodeID, counter: UInt64)]

    /// The empty vector: nothing seen.
    public static let empty = VersionVector()

    public init() { entries = [] }

    /// A vector of `counters` (zero counters are dropped).
    public init(_ counters: [NodeID: UInt64]) {
        entries = counters.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            .map { (replica: $0.key, counter: $0.value) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// How many of `replica`'s writes are covered.
    public func counter(of replica: NodeID) -> UInt64 {
        entries.first { $0.replica == replica }?.counter ?? 0
    }

    /// Whether the write `dot` is in the causal past this vector describes.
    public func covers(_ dot: Dot) -> Bool {
        dot.counter <= counter(of: dot.replica)
    }

    /// Whether everything `other` covers, this covers too.
    public func descends(from other: VersionVector) -> Bool {
        other.entries.allSatisfy { counter(of: $0.replica) >= $0.counter }
    }

    /// The pointwise maximum: everything either covers.
    public func merged(with other: VersionVector) -> VersionVector {
        var result: [(replica: NodeID, counter: UInt64)] = []
        result.reserveCapacity(max(entries.count, other.entries.count))
        var left = 0
        var right = 0
        while left < entries.count || right < other.entries.count {
            if right == other.entries.count
                || (left < entries.count && entries[left].replica < other.entries[right].replica)
            {
                result.append(entries[left])
                left += 1
            } else if left == entries.count || other.entries[right].replica < entries[left].replica
            {
                result.append(other.entries[right])
                right += 1
            } else {
                result.append(
                    (
                        entries[left].replica,
                        max(entries[left].counter, other.entries[right].counter)
                    ))
                left += 1
                right += 1
            }
        }
        var vector = VersionVector()
        vector.entries = result
        return vector
    }

    /// This vector with `dot` covered too.
    public func adding(_ dot: Dot) -> VersionVector {
        guard !covers(dot) else { return self }
        return merged(with: VersionVector([dot.replica: dot.counter]))
    }

    public static func == (lhs: VersionVector, rhs: VersionVector) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) {
            $0.replica == $1.replica && $0.counter == $1.counter
        }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.replica)
            hasher.combine(entry.counter)
        }
    }

    public var description: String {
        "[" + entries.map { "\($0.replica):\($0.counter)" }.joined(separator: ",") + "]"
    }

    // MARK: Bytes

    /// Entries most a vector holds on the wire (a keyspace has at most a few hundred
    /// replicas); a longer one is refused as corrupt rather than allocated.
    public static let entriesMax = 4_096

    /// u32 count, then per entry the replica and the counter as u64s.
    public func encode(into out: inout [UInt8]) {
        ByteCoding.append(UInt32(entries.count), to: &out)
        for entry in entries {
            ByteCoding.append(entry.replica.rawValue, to: &out)
            ByteCoding.append(entry.counter, to: &out)
        }
    }

    /// The vector `reader` holds next, or nil when the bytes are short, unsorted, hold a zero
    /// counter or too many entries.
    static func decode(from reader: inout ByteCoding.Reader) -> VersionVector? {
        guard let count = reader.uint32(), Int(count) <= entriesMax,
            Int(count) * 16 <= reader.remaining
        else { return nil }
        var vector = VersionVector()
        vector.entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let replica = reader.uint64(), let counter = reader.uint64(), counter > 0,
                vector.entries.last.map({ $0.replica.rawValue < replica }) ?? true
            else { return nil }
            vector.entries.append((NodeID(replica), counter))
        }
        return vector
    }

    /// The context as clients carry it: the encoded vector in lowercase hex (COHORT SIBLINGS
    /// answers it, COHORT PUT ... CONTEXT takes it back).
    public var contextString: String {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The vector a context string names, or nil when it is not one.
    public init?(contextString: String) {
        let text = Array(contextString.utf8)
        guard text.count % 2 == 0 else { return nil }
        func nibble(_ character: UInt8) -> UInt8? {
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = 0
        while index < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        var reader = ByteCoding.Reader(bytes)
        guard let vector = VersionVector.decode(from: &reader), reader.remaining == 0 else {
            return nil
        }
        self = vector
    }
}
